//! The A4 registration poster a unit contact prints and puts up: the unit's name, its
//! registration QR code, and how to register, in Chinese with an English line beneath. PDF
//! written by krilla, with the embedded CJK font subset into the file.

use std::sync::OnceLock;

use fast_qr::qr::QRBuilder;
use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::Fill;
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};

use crate::fonts;

/// A4 in PDF points.
const WIDTH: f32 = 595.28;
const HEIGHT: f32 = 841.89;

/// What the poster says. Each line is `(Chinese, English)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Poster {
    pub title: (String, String),
    pub unit_name: String,
    pub group_name: String,
    /// The link the QR code holds, also printed beneath it.
    pub link: String,
    pub steps: Vec<(String, String)>,
    pub footer: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PosterError {
    #[error("the registration link does not fit in a QR code")]
    Qr,
    #[error("the embedded font could not be read")]
    Font,
    #[error("the PDF could not be written: {0}")]
    Pdf(String),
}

fn font() -> Result<Font, PosterError> {
    static FONT: OnceLock<Option<Font>> = OnceLock::new();
    FONT.get_or_init(|| Font::new(fonts::CJK.into(), 0))
        .clone()
        .ok_or(PosterError::Font)
}

/// Roughly how wide a line is: CJK and full-width characters are one em, others about half.
fn width(text: &str, size: f32) -> f32 {
    text.chars()
        .map(|c| if (c as u32) >= 0x2E80 { 1.0 } else { 0.55 })
        .sum::<f32>()
        * size
}

fn fill(surface: &mut Surface<'_>, r: u8, g: u8, b: u8) {
    surface.set_fill(Some(Fill {
        paint: rgb::Color::new(r, g, b).into(),
        opacity: NormalizedF32::ONE,
        rule: Default::default(),
    }));
}

fn centred(surface: &mut Surface<'_>, font: &Font, y: f32, size: f32, text: &str) {
    let x = ((WIDTH - width(text, size)) / 2.0).max(36.0);
    surface.draw_text(
        Point::from_xy(x, y),
        font.clone(),
        size,
        text,
        false,
        TextDirection::Auto,
    );
}

/// The poster as a one-page PDF.
pub fn unit_poster(poster: &Poster) -> Result<Vec<u8>, PosterError> {
    let font = font()?;
    let code = QRBuilder::new(poster.link.as_str())
        .ecl(fast_qr::ECL::Q)
        .build()
        .map_err(|_| PosterError::Qr)?;
    let mut document = Document::new();
    let settings =
        PageSettings::from_wh(WIDTH, HEIGHT).ok_or_else(|| PosterError::Pdf("page size".into()))?;
    let mut page = document.start_page_with(settings);
    {
        let mut surface = page.surface();
        // A green band across the top with the title.
        fill(&mut surface, 0x0b, 0x6e, 0x4f);
        let mut band = PathBuilder::new();
        if let Some(r) = Rect::from_xywh(0.0, 0.0, WIDTH, 120.0) {
            band.push_rect(r);
        }
        if let Some(p) = band.finish() {
            surface.draw_path(&p);
        }
        fill(&mut surface, 0xff, 0xff, 0xff);
        centred(&mut surface, &font, 62.0, 36.0, &poster.title.0);
        centred(&mut surface, &font, 98.0, 16.0, &poster.title.1);

        fill(&mut surface, 0x1d, 0x26, 0x30);
        centred(&mut surface, &font, 170.0, 30.0, &poster.unit_name);
        fill(&mut surface, 0x5b, 0x68, 0x75);
        centred(&mut surface, &font, 200.0, 15.0, &poster.group_name);

        // The QR code: one path of dark modules, 8 cm wide, centred.
        let modules = code.size;
        let side = 230.0_f32;
        let cell = side / modules as f32;
        let (x0, y0) = ((WIDTH - side) / 2.0, 225.0);
        let mut pb = PathBuilder::new();
        for row in 0..modules {
            for col in 0..modules {
                let dark = code.data[row * modules + col].value();
                let rect = Rect::from_xywh(
                    x0 + col as f32 * cell,
                    y0 + row as f32 * cell,
                    cell + 0.2,
                    cell + 0.2,
                );
                if let (true, Some(r)) = (dark, rect) {
                    pb.push_rect(r);
                }
            }
        }
        fill(&mut surface, 0, 0, 0);
        if let Some(p) = pb.finish() {
            surface.draw_path(&p);
        }
        fill(&mut surface, 0x5b, 0x68, 0x75);
        centred(&mut surface, &font, y0 + side + 24.0, 10.0, &poster.link);

        let mut y = y0 + side + 70.0;
        for (i, (zh, en)) in poster.steps.iter().enumerate() {
            fill(&mut surface, 0x1d, 0x26, 0x30);
            surface.draw_text(
                Point::from_xy(60.0, y),
                font.clone(),
                17.0,
                &format!("{}. {zh}", i + 1),
                false,
                TextDirection::Auto,
            );
            fill(&mut surface, 0x5b, 0x68, 0x75);
            surface.draw_text(
                Point::from_xy(78.0, y + 19.0),
                font.clone(),
                11.0,
                en,
                false,
                TextDirection::Auto,
            );
            y += 50.0;
        }
        fill(&mut surface, 0x5b, 0x68, 0x75);
        centred(&mut surface, &font, HEIGHT - 40.0, 11.0, &poster.footer);
        surface.finish();
    }
    page.finish();
    document
        .finish()
        .map_err(|e| PosterError::Pdf(format!("{e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_poster_is_one_a4_page_with_the_font_subset_in() {
        let poster = Poster {
            title: (
                "疫苗接种扫码登记".into(),
                "Scan to register for vaccination".into(),
            ),
            unit_name: "虹桥新村居委会".into(),
            group_name: "社区组".into(),
            link: "https://vaxloop.example/r/abcdefghjkmnpqrstuvw".into(),
            steps: vec![(
                "用手机扫描二维码".into(),
                "Scan the code with your phone".into(),
            )],
            footer: "虹桥镇疫苗接种指挥部".into(),
        };
        let pdf = unit_poster(&poster).expect("pdf");
        if let Ok(dir) = std::env::var("VAXLOOP_WRITE_POSTER") {
            let _ = std::fs::write(format!("{dir}/poster.pdf"), &pdf);
        }
        assert!(pdf.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("/MediaBox[0 0 595.28 841.89]"), "A4");
        assert!(
            text.contains("/FontFile2") || text.contains("/FontFile3"),
            "the font is embedded"
        );
        assert!(
            pdf.len() < 400_000,
            "the font is subset: {} bytes",
            pdf.len()
        );
    }
}
