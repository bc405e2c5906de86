//! Charts as SVG, drawn on the server (plotters) so they need no script in the page.

use std::sync::Once;

use plotters::prelude::*;

use crate::fonts;

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Text is measured with the CJK font; the browser draws it with its own.
        if plotters::style::register_font("sans-serif", FontStyle::Normal, fonts::CJK).is_err() {
            // Without metrics plotters still draws, with rougher label placement.
        }
    });
}

/// One bar of a funnel: its label, its value, and its colour as `#rrggbb`.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    pub value: i64,
    pub colour: (u8, u8, u8),
}

/// A horizontal bar chart, one bar per stage, widest first, each labelled with its value.
pub fn funnel_svg(bars: &[Bar], width: u32) -> String {
    register_font();
    let height = 40 + 36 * bars.len() as u32;
    let max = bars.iter().map(|b| b.value).max().unwrap_or(0).max(1);
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (width, height)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let label_width = 90;
        let plot_width = width.saturating_sub(label_width + 70) as f64;
        for (i, bar) in bars.iter().enumerate() {
            let y = 20 + 36 * i as i32;
            let len = ((bar.value.max(0) as f64 / max as f64) * plot_width).round() as i32;
            let colour = RGBColor(bar.colour.0, bar.colour.1, bar.colour.2);
            let _ = root.draw(&Text::new(
                bar.label.clone(),
                (8, y + 8),
                ("sans-serif", 18).into_font(),
            ));
            let x0 = label_width as i32;
            let _ = root.draw(&Rectangle::new(
                [(x0, y), (x0 + len.max(1), y + 26)],
                colour.filled(),
            ));
            let _ = root.draw(&Text::new(
                bar.value.to_string(),
                (x0 + len + 6, y + 8),
                ("sans-serif", 17).into_font(),
            ));
        }
        let _ = root.present();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_funnel_has_a_bar_and_a_label_per_stage() {
        let bars = vec![
            Bar {
                label: "目标".into(),
                value: 1200,
                colour: (0x9a, 0xa5, 0xb1),
            },
            Bar {
                label: "已登记".into(),
                value: 800,
                colour: (0x0b, 0x6e, 0x4f),
            },
        ];
        let svg = funnel_svg(&bars, 480);
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("目标") && svg.contains("已登记") && svg.contains("\n1200\n"));
        assert_eq!(svg.matches("<rect").count(), 3, "background and two bars");
        assert!(
            !svg.contains("style="),
            "no inline styles, for the content security policy"
        );
    }
}
