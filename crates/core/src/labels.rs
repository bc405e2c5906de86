//! Team colour labels (彩色标签): each team of a site-day wears one of twenty colours and a
//! number, so a marshal can call "Red-07" across a hall. The number is unique per site-day, the
//! colour follows from it, and the pair is printed on the team's form and armbands.

/// The twenty colours: Chinese name, English name, RGB. Neighbours differ strongly, so teams
/// numbered one after the other never wear look-alike colours.
pub const COLOURS: [(&str, &str, [u8; 3]); 20] = [
    ("红", "Red", [0xd6, 0x27, 0x28]),
    ("蓝", "Blue", [0x1f, 0x77, 0xb4]),
    ("黄", "Yellow", [0xf2, 0xc3, 0x00]),
    ("绿", "Green", [0x2c, 0xa0, 0x2c]),
    ("紫", "Purple", [0x94, 0x67, 0xbd]),
    ("橙", "Orange", [0xff, 0x7f, 0x0e]),
    ("青", "Cyan", [0x17, 0xbe, 0xcf]),
    ("粉", "Pink", [0xe3, 0x77, 0xc2]),
    ("棕", "Brown", [0x8c, 0x56, 0x4b]),
    ("灰", "Grey", [0x7f, 0x7f, 0x7f]),
    ("黑", "Black", [0x22, 0x22, 0x22]),
    ("天蓝", "Sky", [0x56, 0xb4, 0xe9]),
    ("深红", "Maroon", [0x80, 0x00, 0x00]),
    ("青柠", "Lime", [0x9a, 0xcd, 0x32]),
    ("藏青", "Navy", [0x00, 0x00, 0x80]),
    ("金", "Gold", [0xb8, 0x86, 0x0b]),
    ("墨绿", "Forest", [0x0b, 0x5d, 0x1e]),
    ("玫红", "Magenta", [0xc2, 0x18, 0x5b]),
    ("橄榄", "Olive", [0x80, 0x80, 0x00]),
    ("米", "Beige", [0xd2, 0xb4, 0x8c]),
];

/// A team's label: a colour (0–19) and its number on the site-day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Label {
    pub colour: u8,
    pub number: u32,
}

impl Label {
    /// The label of the `number`-th team of a site-day (numbers from 1).
    pub fn of_number(number: u32) -> Self {
        Self {
            colour: (number.saturating_sub(1) % 20) as u8,
            number,
        }
    }

    /// A label as stored (colour and number in integer columns); out-of-range values read as
    /// the first colour or number 0 rather than failing a page.
    pub fn from_stored(colour: i64, number: i64) -> Self {
        Self {
            colour: u8::try_from(colour).unwrap_or(0),
            number: u32::try_from(number).unwrap_or(0),
        }
    }

    /// The label in English (`Red-07`) or Chinese (`红-07`).
    pub fn text(self, english: bool) -> String {
        if english { self.en() } else { self.zh() }
    }

    pub fn rgb(self) -> [u8; 3] {
        COLOURS[usize::from(self.colour) % 20].2
    }

    /// Whether dark text reads better than white on the colour.
    pub fn dark_text(self) -> bool {
        let [r, g, b] = self.rgb();
        0.299 * f64::from(r) + 0.587 * f64::from(g) + 0.114 * f64::from(b) > 150.0
    }

    /// "红-07".
    pub fn zh(self) -> String {
        format!(
            "{}-{:02}",
            COLOURS[usize::from(self.colour) % 20].0,
            self.number
        )
    }

    /// "Red-07".
    pub fn en(self) -> String {
        format!(
            "{}-{:02}",
            COLOURS[usize::from(self.colour) % 20].1,
            self.number
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_follow_the_number_and_read_both_ways() {
        assert_eq!(Label::of_number(3).zh(), "黄-03");
        assert_eq!(Label::of_number(7).en(), "Cyan-07");
        assert_eq!(Label::of_number(1).en(), "Red-01");
        assert_eq!(Label::of_number(21).colour, 0);
        assert_eq!(Label::of_number(21).en(), "Red-21");
        assert!(Label::of_number(3).dark_text(), "dark text on yellow");
        assert!(!Label::of_number(2).dark_text(), "white on blue");
        let names: std::collections::HashSet<_> = COLOURS.iter().map(|c| c.0).collect();
        assert_eq!(names.len(), 20);
    }
}
