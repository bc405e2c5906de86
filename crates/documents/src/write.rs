//! Writing spreadsheets for people to open in Excel or WPS. Every text cell is neutralised first:
//! a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return (or holds other control
//! characters) would be taken for a formula — CSV and formula injection, OWASP ASVS 1.2.10 — so it
//! is prefixed with an apostrophe and control characters are dropped.

use std::borrow::Cow;

use rust_xlsxwriter::{Format, Workbook, XlsxError};

/// One worksheet: a header row and rows of text.
#[derive(Debug, Clone, PartialEq)]
pub struct Sheet {
    pub name: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Sheet {
    pub fn new(name: &str, headers: &[&str]) -> Self {
        Self {
            name: name.to_string(),
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn push(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }
}

/// Makes a cell safe to open in a spreadsheet program: control characters are dropped, then a
/// cell that would start with `=`, `+`, `-` or `@` gets a leading apostrophe.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    let cleaned: Cow<'_, str> = if cell.chars().any(char::is_control) {
        Cow::Owned(cell.chars().filter(|c| !c.is_control()).collect())
    } else {
        Cow::Borrowed(cell)
    };
    if cleaned.starts_with(['=', '+', '-', '@']) {
        Cow::Owned(format!("'{cleaned}"))
    } else {
        cleaned
    }
}

/// An XLSX workbook with one worksheet per sheet; the header row is bold and frozen.
pub fn write_xlsx(sheets: &[Sheet]) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    for sheet in sheets {
        let ws = workbook.add_worksheet();
        ws.set_name(&sheet.name)?;
        for (c, h) in sheet.headers.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, neutralise(h).as_ref(), &bold)?;
            ws.set_column_width(c as u16, 18)?;
        }
        ws.set_freeze_panes(1, 0)?;
        for (r, row) in sheet.rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                ws.write_string((r + 1) as u32, c as u16, neutralise(cell).as_ref())?;
            }
        }
    }
    workbook.save_to_buffer()
}

/// CSV in UTF-8 with a byte-order mark, so Excel in China opens it as UTF-8 rather than GBK.
pub fn write_csv(sheet: &Sheet) -> Vec<u8> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut writer = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(&mut out);
        let header: Vec<Cow<'_, str>> = sheet.headers.iter().map(|h| neutralise(h)).collect();
        // Writing to a Vec cannot fail.
        let _ = writer.write_record(header.iter().map(|c| c.as_ref()));
        for row in &sheet.rows {
            let cells: Vec<Cow<'_, str>> = row.iter().map(|c| neutralise(c)).collect();
            let _ = writer.write_record(cells.iter().map(|c| c.as_ref()));
        }
        let _ = writer.flush();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn formulas_and_control_characters_are_neutralised() {
        assert_eq!(neutralise("张三"), "张三");
        assert_eq!(
            neutralise("=HYPERLINK(\"http://x\")"),
            "'=HYPERLINK(\"http://x\")"
        );
        assert_eq!(neutralise("+86 138"), "'+86 138");
        assert_eq!(neutralise("-1"), "'-1");
        assert_eq!(neutralise("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise("\t=1"), "'=1");
        assert_eq!(neutralise("a\u{7}b"), "ab");
    }

    #[test]
    fn csv_has_a_bom_and_neutral_cells() {
        let mut sheet = Sheet::new("s", &["姓名", "原因"]);
        sheet.push(vec!["=1+1".into(), "身份证号校验位错误".into()]);
        let bytes = write_csv(&sheet);
        let text = String::from_utf8(bytes).expect("utf-8");
        assert_eq!(text, "\u{feff}姓名,原因\r\n'=1+1,身份证号校验位错误\r\n");
    }

    proptest! {
        #[test]
        fn no_neutralised_cell_can_start_a_formula(s in ".*") {
            let out = neutralise(&s);
            prop_assert!(!out.starts_with(['=', '+', '-', '@', '\t', '\r']));
            prop_assert!(!out.chars().any(|c| c.is_control()));
        }
    }
}
