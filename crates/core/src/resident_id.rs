//! Mainland China resident identity numbers (居民身份证号码, GB 11643-1999).
//!
//! Eighteen characters: a six-digit administrative region code, the birth date as `YYYYMMDD`, a
//! three-digit sequence (odd for men, even for women) and a check character computed with
//! ISO 7064 MOD 11-2. The checksum only catches typing mistakes — an ID number is an identifier,
//! never a secret — so lookups elsewhere go through a keyed blind index, never the number itself.

use std::fmt;

use chrono::NaiveDate;

/// Weights of the first seventeen digits in the MOD 11-2 checksum.
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check character for each remainder `sum % 11`.
const CHECK: [u8; 11] = *b"10X98765432";
/// First two digits of the province-level divisions that issue resident ID numbers.
const PROVINCES: [u32; 34] = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 71, 81, 82,
];

/// Why a string is not a valid resident ID number. Each message names the part that is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResidentIdError {
    #[error("must be 18 characters, found {0}")]
    Length(usize),
    #[error("the first 17 characters must be digits and the last a digit or X")]
    Characters,
    #[error("region code {0:02}xxxx is not a known province")]
    Province(u32),
    #[error("the birth date {0} is not a real date")]
    BirthDate(String),
    #[error("the birth date {0} is in the future or before 1900")]
    BirthDateRange(String),
    #[error("the check character should be {expected}, found {found}")]
    Checksum { expected: char, found: char },
}

/// Sex as encoded by the parity of the sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Male => "M",
            Sex::Female => "F",
        }
    }
}

/// A resident ID number that passed every check; upper-case `X` normalised.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ResidentId(String);

impl ResidentId {
    /// Parses and validates, accepting surrounding whitespace and a lower-case `x`.
    /// `today` bounds the birth date (no one is born in the future).
    pub fn parse_on(input: &str, today: NaiveDate) -> Result<Self, ResidentIdError> {
        let s = input.trim().to_ascii_uppercase();
        let chars = s.chars().count();
        if chars != 18 {
            return Err(ResidentIdError::Length(chars));
        }
        let bytes = s.as_bytes();
        if !bytes[..17].iter().all(u8::is_ascii_digit)
            || !(bytes[17].is_ascii_digit() || bytes[17] == b'X')
        {
            return Err(ResidentIdError::Characters);
        }
        let province = u32::from(bytes[0] - b'0') * 10 + u32::from(bytes[1] - b'0');
        if !PROVINCES.contains(&province) {
            return Err(ResidentIdError::Province(province));
        }
        let birth = &s[6..14];
        let date = NaiveDate::parse_from_str(birth, "%Y%m%d")
            .map_err(|_| ResidentIdError::BirthDate(birth.to_string()))?;
        let earliest = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN);
        if date > today || date < earliest {
            return Err(ResidentIdError::BirthDateRange(birth.to_string()));
        }
        let expected = check_char(&bytes[..17]);
        if expected != bytes[17] {
            return Err(ResidentIdError::Checksum {
                expected: char::from(expected),
                found: char::from(bytes[17]),
            });
        }
        Ok(Self(s))
    }

    /// Parses against today's date in the system clock.
    pub fn parse(input: &str) -> Result<Self, ResidentIdError> {
        Self::parse_on(input, chrono::Local::now().date_naive())
    }

    /// Builds a valid number from region, birth date and sequence (used by the demo generator and
    /// tests); the check character is computed.
    pub fn compose(region: u32, birth: NaiveDate, sequence: u16) -> Self {
        let body = format!(
            "{region:06}{}{:03}",
            birth.format("%Y%m%d"),
            sequence % 1000
        );
        let check = check_char(body.as_bytes());
        let mut s = body;
        s.push(char::from(check));
        Self(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn region(&self) -> &str {
        &self.0[..6]
    }

    pub fn birth_date(&self) -> NaiveDate {
        // Validated at construction, so the slice is always a real date.
        NaiveDate::parse_from_str(&self.0[6..14], "%Y%m%d").unwrap_or(NaiveDate::MIN)
    }

    pub fn sex(&self) -> Sex {
        if (self.0.as_bytes()[16] - b'0') % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    /// Age in whole years on `on`.
    pub fn age_on(&self, on: NaiveDate) -> u32 {
        on.years_since(self.birth_date()).unwrap_or(0)
    }

    /// The form shown wherever the number is not deliberately unmasked: the region code and the
    /// last four characters, e.g. `310112********123X` (the birth date is hidden).
    pub fn masked(&self) -> String {
        format!("{}********{}", &self.0[..6], &self.0[14..])
    }
}

/// Never prints the number itself, so a stray `{:?}` cannot leak it into a log.
impl fmt::Debug for ResidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ResidentId({})", self.masked())
    }
}

fn check_char(first17: &[u8]) -> u8 {
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK[(sum % 11) as usize]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 27).expect("date")
    }

    #[test]
    fn accepts_a_known_valid_number_and_lower_case_x() {
        // 11010519491231002X is the standard's worked example.
        let id = ResidentId::parse_on("11010519491231002x", today()).expect("valid");
        assert_eq!(id.as_str(), "11010519491231002X");
        assert_eq!(id.sex(), Sex::Female);
        assert_eq!(
            id.birth_date(),
            NaiveDate::from_ymd_opt(1949, 12, 31).expect("date")
        );
        assert_eq!(id.masked(), "110105********002X");
        assert_eq!(format!("{id:?}"), "ResidentId(110105********002X)");
    }

    #[test]
    fn names_what_is_wrong() {
        let t = today();
        assert_eq!(
            ResidentId::parse_on("1234", t),
            Err(ResidentIdError::Length(4))
        );
        assert_eq!(
            ResidentId::parse_on("11010519491231002Y", t),
            Err(ResidentIdError::Characters)
        );
        assert_eq!(
            ResidentId::parse_on("99010519491231002X", t),
            Err(ResidentIdError::Province(99))
        );
        assert!(matches!(
            ResidentId::parse_on("110105194902300021", t),
            Err(ResidentIdError::BirthDate(_))
        ));
        assert!(matches!(
            ResidentId::parse_on("110105203001010021", t),
            Err(ResidentIdError::BirthDateRange(_))
        ));
        assert_eq!(
            ResidentId::parse_on("110105194912310021", t),
            Err(ResidentIdError::Checksum {
                expected: 'X',
                found: '1'
            })
        );
    }

    proptest! {
        #[test]
        fn composed_numbers_parse_back(days in 0i64..40_000, seq in 0u16..1000) {
            let birth = NaiveDate::from_ymd_opt(1910, 1, 1).expect("date") + chrono::Days::new(days as u64);
            prop_assume!(birth <= today());
            let id = ResidentId::compose(310112, birth, seq);
            let parsed = ResidentId::parse_on(id.as_str(), today()).expect("composed id parses");
            prop_assert_eq!(parsed.birth_date(), birth);
            prop_assert_eq!(parsed.region(), "310112");
        }

        #[test]
        fn any_single_character_change_is_caught(days in 0i64..30_000, seq in 0u16..1000, pos in 0usize..18, to in 0usize..11) {
            let birth = NaiveDate::from_ymd_opt(1930, 1, 1).expect("date") + chrono::Days::new(days as u64);
            prop_assume!(birth <= today());
            let id = ResidentId::compose(310112, birth, seq);
            let mut bytes = id.as_str().as_bytes().to_vec();
            let replacement = b"0123456789X"[to];
            prop_assume!(bytes[pos] != replacement);
            bytes[pos] = replacement;
            let mutated = String::from_utf8(bytes).expect("ascii");
            // Whatever the position, the checksum, the date, the province or the character set
            // refuses it.
            prop_assert!(ResidentId::parse_on(&mutated, today()).is_err(), "{} accepted", mutated);
        }
    }
}
