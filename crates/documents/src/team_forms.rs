//! A team's printed papers: the appointment registration form (预约登记表) the unit contact
//! carries to the site — unit, colour label, site, date and time, the bus pickup, and the member
//! list with masked ID numbers and boxes to tick on arrival and after the jab — and the sheet of
//! colour labels cut out for the members to wear. A4, Chinese with English beneath, the CJK font
//! embedded.

use krilla::Document;
use krilla::page::PageSettings;
use krilla::surface::Surface;
use krilla::text::Font;

use crate::pdf::{HEIGHT, PdfError, WIDTH, centred, centred_in, fill, font, frame, rects, text};

/// A team's colour label as printed.
#[derive(Debug, Clone, PartialEq)]
pub struct PrintedLabel {
    /// "红-07".
    pub zh: String,
    /// "Red-07".
    pub en: String,
    pub rgb: [u8; 3],
    /// Dark text reads better than white on the colour.
    pub dark_text: bool,
}

/// What the registration form says.
#[derive(Debug, Clone, PartialEq)]
pub struct TeamForm {
    pub unit: String,
    pub label: PrintedLabel,
    pub site: String,
    pub site_address: String,
    /// "2026-12-02 星期三".
    pub date: String,
    /// "09:00–10:00".
    pub time: String,
    /// Where and when the shuttle picks the team up, if it rides one.
    pub pickup: Option<String>,
    /// `(name, masked ID number, 4-digit presence code)` per member: the code is what the member
    /// states at the vaccination desk when they have no phone with them.
    pub members: Vec<(String, String, String)>,
    /// "打印于 … / printed …" and who printed it.
    pub footer: String,
}

const INK: [u8; 3] = [0x1d, 0x26, 0x30];
const MUTED: [u8; 3] = [0x5b, 0x68, 0x75];
const RULE: [u8; 3] = [0xb8, 0xc0, 0xc8];
/// Member rows per page of the form.
const ROWS_PER_PAGE: usize = 23;

fn pdf(document: Document) -> Result<Vec<u8>, PdfError> {
    document
        .finish()
        .map_err(|e| PdfError::Pdf(format!("{e:?}")))
}

fn a4() -> Result<PageSettings, PdfError> {
    PageSettings::from_wh(WIDTH, HEIGHT).ok_or_else(|| PdfError::Pdf("page size".into()))
}

/// The label's colour swatch with its text, in the box (x, y, w, h).
fn swatch(
    surface: &mut Surface<'_>,
    font: &Font,
    label: &PrintedLabel,
    b: (f32, f32, f32, f32),
    size: f32,
) {
    fill(surface, label.rgb);
    rects(surface, &[b]);
    fill(
        surface,
        if label.dark_text {
            INK
        } else {
            [0xff, 0xff, 0xff]
        },
    );
    centred_in(
        surface,
        font,
        (b.0, b.0 + b.2),
        b.1 + b.3 * 0.52,
        size,
        &label.zh,
    );
    centred_in(
        surface,
        font,
        (b.0, b.0 + b.2),
        b.1 + b.3 * 0.52 + size * 0.95,
        size * 0.5,
        &label.en,
    );
}

/// The registration form: a header with the appointment on every page, then the members,
/// [`ROWS_PER_PAGE`] to a page.
pub fn registration_form(form: &TeamForm) -> Result<Vec<u8>, PdfError> {
    let font = font()?;
    let mut document = Document::new();
    let pages = form.members.len().div_ceil(ROWS_PER_PAGE).max(1);
    for p in 0..pages {
        let mut page = document.start_page_with(a4()?);
        let mut s = page.surface();
        let y = form_header(&mut s, &font, form, (p, pages));
        member_table(&mut s, &font, form, p, y + 20.0);
        form_footer(&mut s, &font, form);
        s.finish();
        page.finish();
    }
    pdf(document)
}

/// The form's title, the team's label, the appointment and the page; answers where it ends.
fn form_header(
    s: &mut Surface<'_>,
    font: &Font,
    form: &TeamForm,
    (p, pages): (usize, usize),
) -> f32 {
    fill(s, INK);
    centred(s, font, 52.0, 22.0, "疫苗接种预约登记表");
    fill(s, MUTED);
    centred(
        s,
        font,
        70.0,
        10.0,
        "Vaccination appointment registration form",
    );
    swatch(
        s,
        font,
        &form.label,
        (WIDTH - 150.0, 30.0, 114.0, 64.0),
        22.0,
    );

    let facts = [
        ("单位 Unit", form.unit.as_str()),
        ("接种点 Site", form.site.as_str()),
        ("地址 Address", form.site_address.as_str()),
        ("日期 Date", form.date.as_str()),
        ("时间 Time", form.time.as_str()),
        (
            "班车 Shuttle",
            form.pickup.as_deref().unwrap_or("自行前往 On their own"),
        ),
    ];
    let mut y = 112.0;
    for (name, value) in facts {
        fill(s, MUTED);
        text(s, font, 40.0, y, 10.0, name);
        fill(s, INK);
        text(s, font, 130.0, y, 12.0, value);
        y += 19.0;
    }
    fill(s, MUTED);
    text(
        s,
        font,
        40.0,
        y + 4.0,
        9.0,
        &format!(
            "人数 People: {}    第 {} / {} 页 Page",
            form.members.len(),
            p + 1,
            pages
        ),
    );

    y
}

/// Page `p`'s members, with boxes to tick on arrival and after the dose.
fn member_table(s: &mut Surface<'_>, font: &Font, form: &TeamForm, p: usize, top: f32) {
    let row_h = 21.0;
    let cols = [
        (40.0, "序号 No."),
        (95.0, "姓名 Name"),
        (205.0, "身份证号 ID number"),
        (335.0, "到场码 Code"),
        (396.0, "到达 Arrived"),
        (466.0, "已接种 Vaccinated"),
    ];
    fill(s, [0xee, 0xf1, 0xf4]);
    rects(s, &[(36.0, top, WIDTH - 72.0, row_h)]);
    fill(s, INK);
    for (x, head) in cols {
        text(s, font, x, top + 14.0, 9.5, head);
    }
    let rows = form
        .members
        .iter()
        .enumerate()
        .skip(p * ROWS_PER_PAGE)
        .take(ROWS_PER_PAGE);
    let mut ry = top + row_h;
    for (i, (name, id, code)) in rows {
        fill(s, RULE);
        rects(s, &[(36.0, ry + row_h - 0.5, WIDTH - 72.0, 0.5)]);
        fill(s, INK);
        text(s, font, 44.0, ry + 14.5, 10.0, &(i + 1).to_string());
        text(s, font, 95.0, ry + 14.5, 11.0, name);
        text(s, font, 205.0, ry + 14.5, 10.5, id);
        text(s, font, 340.0, ry + 14.5, 11.0, code);
        for x in [408.0, 488.0] {
            frame(s, (x, ry + 4.0, 12.0, 12.0), 0.8);
        }
        ry += row_h;
    }
}

/// What the team is asked to do, and who printed the form when.
fn form_footer(s: &mut Surface<'_>, font: &Font, form: &TeamForm) {
    fill(s, MUTED);
    text(
        s,
        font,
        40.0,
        HEIGHT - 56.0,
        9.0,
        "请按预约时间到达，凭彩色标签排队；带好身份证。",
    );
    text(
        s,
        font,
        40.0,
        HEIGHT - 43.0,
        8.0,
        "Arrive at the booked time, queue by your colour label, bring your ID card.",
    );
    text(
        s,
        font,
        40.0,
        HEIGHT - 70.0,
        9.0,
        "接种时请向接种人员报出本人的到场码 · Tell the vaccinator your code.",
    );
    text(s, font, 40.0, HEIGHT - 28.0, 8.0, &form.footer);
}

/// Labels per row and rows per page on the label sheet (6.5 × 3.4 cm each).
const LABEL_COLS: usize = 3;
const LABEL_ROWS: usize = 8;

/// The sheet of colour labels: one per member (`count`), 24 to an A4 page, each with the
/// label, the site and the date and time, and a member's number to write a name by.
pub fn label_sheet(
    label: &PrintedLabel,
    count: usize,
    site: &str,
    when: &str,
) -> Result<Vec<u8>, PdfError> {
    let font = font()?;
    let mut document = Document::new();
    let per_page = LABEL_COLS * LABEL_ROWS;
    let pages = count.div_ceil(per_page).max(1);
    let (w, h) = (
        (WIDTH - 60.0) / LABEL_COLS as f32,
        (HEIGHT - 60.0) / LABEL_ROWS as f32,
    );
    for p in 0..pages {
        let mut page = document.start_page_with(a4()?);
        let mut s = page.surface();
        for i in 0..per_page {
            let n = p * per_page + i;
            if n >= count {
                break;
            }
            let (x, y) = (
                30.0 + (i % LABEL_COLS) as f32 * w,
                30.0 + (i / LABEL_COLS) as f32 * h,
            );
            swatch(
                &mut s,
                &font,
                label,
                (x + 4.0, y + 4.0, w - 8.0, h - 8.0),
                24.0,
            );
            fill(
                &mut s,
                if label.dark_text {
                    INK
                } else {
                    [0xff, 0xff, 0xff]
                },
            );
            text(&mut s, &font, x + 10.0, y + 17.0, 7.5, site);
            text(&mut s, &font, x + 10.0, y + h - 12.0, 7.5, when);
            let number = format!("{}", n + 1);
            text(
                &mut s,
                &font,
                x + w - 14.0 - crate::pdf::width(&number, 9.0),
                y + h - 12.0,
                9.0,
                &number,
            );
            // Cutting guides.
            fill(&mut s, RULE);
            frame(&mut s, (x, y, w, h), 0.3);
        }
        s.finish();
        page.finish();
    }
    pdf(document)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label() -> PrintedLabel {
        PrintedLabel {
            zh: "红-07".into(),
            en: "Red-07".into(),
            rgb: [0xd6, 0x27, 0x28],
            dark_text: false,
        }
    }

    #[test]
    fn the_form_lists_every_member_over_as_many_a4_pages_as_needed() {
        let form = TeamForm {
            unit: "合川路第一村".into(),
            label: label(),
            site: "合川路接种点".into(),
            site_address: "合川路 1 号".into(),
            date: "2026-12-02 星期三".into(),
            time: "09:00–10:00".into(),
            pickup: Some("村委会门口 08:35".into()),
            members: (0..60)
                .map(|i| {
                    (
                        format!("村民{i}"),
                        "3101**********123X".into(),
                        format!("{:04}", i * 37),
                    )
                })
                .collect(),
            footer: "打印于 2026-11-30 18:00 · printed by the desk".into(),
        };
        let pdf = registration_form(&form).expect("pdf");
        if let Ok(dir) = std::env::var("VAXLOOP_WRITE_POSTER") {
            let _ = std::fs::write(format!("{dir}/form.pdf"), &pdf);
        }
        assert!(pdf.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("/MediaBox[0 0 595.28 841.89]"), "A4");
        assert!(
            text.contains("/FontFile2") || text.contains("/FontFile3"),
            "the font is embedded"
        );
        assert_eq!(
            text.matches("/MediaBox").count(),
            3,
            "60 members over 3 pages"
        );
        assert!(
            pdf.len() < 400_000,
            "the font is subset: {} bytes",
            pdf.len()
        );
    }

    #[test]
    fn the_label_sheet_has_one_label_per_member() {
        let pdf = label_sheet(&label(), 30, "合川路接种点", "2026-12-02 09:00").expect("pdf");
        if let Ok(dir) = std::env::var("VAXLOOP_WRITE_POSTER") {
            let _ = std::fs::write(format!("{dir}/labels.pdf"), &pdf);
        }
        let text = String::from_utf8_lossy(&pdf);
        assert_eq!(
            text.matches("/MediaBox").count(),
            2,
            "30 labels, 24 to a page"
        );
        assert!(text.contains("/FontFile2") || text.contains("/FontFile3"));
        let one = label_sheet(&label(), 0, "s", "w").expect("pdf");
        assert_eq!(
            String::from_utf8_lossy(&one).matches("/MediaBox").count(),
            1
        );
    }
}
