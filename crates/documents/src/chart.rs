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
                vaxloop_core::grouped(bar.value),
                (x0 + len + 6, y + 8),
                ("sans-serif", 17).into_font(),
            ));
        }
        let _ = root.present();
    }
    out
}

/// One line of a line chart: its label, its colour and its values at equal steps.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub label: String,
    pub values: Vec<f64>,
    pub colour: (u8, u8, u8),
}

/// Lines over the hours of a day (a value every `step_minutes` from opening), with a legend:
/// queue lengths and occupancy through a simulated clinic day, say. `x_label` names the
/// horizontal axis (hours from opening).
pub fn lines_svg(
    lines: &[Line],
    step_minutes: f64,
    x_label: &str,
    width: u32,
    height: u32,
) -> String {
    register_font();
    let steps = lines
        .iter()
        .map(|l| l.values.len())
        .max()
        .unwrap_or(0)
        .max(2);
    let hours = (steps - 1) as f64 * step_minutes / 60.0;
    let top = lines
        .iter()
        .flat_map(|l| l.values.iter().copied())
        .fold(0.0f64, f64::max)
        .max(1.0)
        * 1.1;
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (width, height)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(44)
            .build_cartesian_2d(0.0..hours.max(0.5), 0.0..top);
        if let Ok(mut chart) = chart {
            let _ = chart
                .configure_mesh()
                .x_desc(x_label)
                .axis_desc_style(("sans-serif", 15))
                .label_style(("sans-serif", 14))
                .light_line_style(WHITE)
                .bold_line_style(RGBColor(0xe6, 0xe6, 0xe6))
                .y_label_formatter(&|v| format!("{v:.0}"))
                .x_label_formatter(&|v| format!("{v:.1}"))
                .draw();
            for line in lines {
                let colour = RGBColor(line.colour.0, line.colour.1, line.colour.2);
                let points = line
                    .values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (i as f64 * step_minutes / 60.0, *v));
                if let Ok(series) =
                    chart.draw_series(LineSeries::new(points, colour.stroke_width(2)))
                {
                    series.label(line.label.clone()).legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(3))
                    });
                }
            }
            let _ = chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(RGBColor(0xcc, 0xcc, 0xcc))
                .label_font(("sans-serif", 16))
                .position(SeriesLabelPosition::UpperRight)
                .draw();
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
        // Figures are written with thousands separators, as on the pages.
        assert!(svg.contains("目标") && svg.contains("已登记") && svg.contains("\n1,200\n"));
        assert_eq!(svg.matches("<rect").count(), 3, "background and two bars");
        assert!(
            !svg.contains("style="),
            "no inline styles, for the content security policy"
        );
    }

    #[test]
    fn a_line_chart_draws_each_line_with_its_legend() {
        let lines = vec![
            Line {
                label: "预检".into(),
                values: vec![0.0, 4.0, 12.0, 6.0, 0.0],
                colour: (0x0b, 0x6e, 0x4f),
            },
            Line {
                label: "留观".into(),
                values: vec![0.0, 20.0, 60.0, 40.0, 10.0],
                colour: (0xb4, 0x5f, 0x06),
            },
        ];
        let svg = lines_svg(&lines, 15.0, "小时", 600, 300);
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("预检") && svg.contains("留观") && svg.contains("小时"));
        assert!(svg.matches("<polyline").count() >= 2, "{svg}");
        assert!(!svg.contains("style="), "no inline styles");
    }
}
