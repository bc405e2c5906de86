//! The A4 registration poster a unit contact prints and puts up: the unit's name, its
//! registration QR code, and how to register, in Chinese with an English line beneath. PDF
//! written by krilla, with the embedded CJK font subset into the file.

use fast_qr::qr::QRBuilder;
use krilla::Document;
use krilla::page::PageSettings;

pub use crate::pdf::PdfError as PosterError;
use crate::pdf::{HEIGHT, WIDTH, centred, fill, font, rects, text};

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
        fill(&mut surface, [0x0b, 0x6e, 0x4f]);
        rects(&mut surface, &[(0.0, 0.0, WIDTH, 120.0)]);
        fill(&mut surface, [0xff, 0xff, 0xff]);
        centred(&mut surface, &font, 62.0, 36.0, &poster.title.0);
        centred(&mut surface, &font, 98.0, 16.0, &poster.title.1);

        fill(&mut surface, [0x1d, 0x26, 0x30]);
        centred(&mut surface, &font, 170.0, 30.0, &poster.unit_name);
        fill(&mut surface, [0x5b, 0x68, 0x75]);
        centred(&mut surface, &font, 200.0, 15.0, &poster.group_name);

        // The QR code: one path of dark modules, 8 cm wide, centred.
        let modules = code.size;
        let side = 230.0_f32;
        let cell = side / modules as f32;
        let (x0, y0) = ((WIDTH - side) / 2.0, 225.0);
        let mut dark = Vec::new();
        for row in 0..modules {
            for col in 0..modules {
                if code.data[row * modules + col].value() {
                    dark.push((
                        x0 + col as f32 * cell,
                        y0 + row as f32 * cell,
                        cell + 0.2,
                        cell + 0.2,
                    ));
                }
            }
        }
        fill(&mut surface, [0, 0, 0]);
        rects(&mut surface, &dark);
        fill(&mut surface, [0x5b, 0x68, 0x75]);
        centred(&mut surface, &font, y0 + side + 24.0, 10.0, &poster.link);

        let mut y = y0 + side + 70.0;
        for (i, (zh, en)) in poster.steps.iter().enumerate() {
            fill(&mut surface, [0x1d, 0x26, 0x30]);
            text(
                &mut surface,
                &font,
                60.0,
                y,
                17.0,
                &format!("{}. {zh}", i + 1),
            );
            fill(&mut surface, [0x5b, 0x68, 0x75]);
            text(&mut surface, &font, 78.0, y + 19.0, 11.0, en);
            y += 50.0;
        }
        fill(&mut surface, [0x5b, 0x68, 0x75]);
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
