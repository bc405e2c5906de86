//! What every printed document shares: A4 pages written by krilla, the embedded CJK font
//! (subset into each file), fills, rectangles and text placed by its baseline.

use std::sync::OnceLock;

use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::num::NormalizedF32;
use krilla::paint::Fill;
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};

use crate::fonts;

/// A4 in PDF points.
pub const WIDTH: f32 = 595.28;
pub const HEIGHT: f32 = 841.89;

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("a link does not fit in a QR code")]
    Qr,
    #[error("the embedded font could not be read")]
    Font,
    #[error("the PDF could not be written: {0}")]
    Pdf(String),
}

pub fn font() -> Result<Font, PdfError> {
    static FONT: OnceLock<Option<Font>> = OnceLock::new();
    FONT.get_or_init(|| Font::new(fonts::CJK.into(), 0))
        .clone()
        .ok_or(PdfError::Font)
}

/// Roughly how wide a line is: CJK and full-width characters are one em, others about half.
pub fn width(text: &str, size: f32) -> f32 {
    text.chars()
        .map(|c| if (c as u32) >= 0x2E80 { 1.0 } else { 0.55 })
        .sum::<f32>()
        * size
}

pub fn fill(surface: &mut Surface<'_>, [r, g, b]: [u8; 3]) {
    surface.set_fill(Some(Fill {
        paint: rgb::Color::new(r, g, b).into(),
        opacity: NormalizedF32::ONE,
        rule: Default::default(),
    }));
}

pub fn text(surface: &mut Surface<'_>, font: &Font, x: f32, y: f32, size: f32, line: &str) {
    surface.draw_text(
        Point::from_xy(x, y),
        font.clone(),
        size,
        line,
        false,
        TextDirection::Auto,
    );
}

/// A line centred between `left` and `right`.
pub fn centred_in(
    surface: &mut Surface<'_>,
    font: &Font,
    (left, right): (f32, f32),
    y: f32,
    size: f32,
    line: &str,
) {
    let x = left + ((right - left - width(line, size)) / 2.0).max(0.0);
    text(surface, font, x, y, size, line);
}

/// A line centred on the page.
pub fn centred(surface: &mut Surface<'_>, font: &Font, y: f32, size: f32, line: &str) {
    let x = ((WIDTH - width(line, size)) / 2.0).max(36.0);
    text(surface, font, x, y, size, line);
}

/// Filled rectangles, in the current fill.
pub fn rects(surface: &mut Surface<'_>, list: &[(f32, f32, f32, f32)]) {
    let mut pb = PathBuilder::new();
    for &(x, y, w, h) in list {
        if let Some(r) = Rect::from_xywh(x, y, w, h) {
            pb.push_rect(r);
        }
    }
    if let Some(p) = pb.finish() {
        surface.draw_path(&p);
    }
}

/// The outline of a rectangle, `line` thick, in the current fill.
pub fn frame(surface: &mut Surface<'_>, (x, y, w, h): (f32, f32, f32, f32), line: f32) {
    rects(
        surface,
        &[
            (x, y, w, line),
            (x, y + h - line, w, line),
            (x, y, line, h),
            (x + w - line, y, line, h),
        ],
    );
}
