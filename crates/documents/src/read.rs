//! Reading spreadsheets row by row.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{Cursor, Read};
use std::rc::Rc;

use calamine::{Data, Reader, Xlsx};

/// Bounds on what an upload may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_bytes: usize,
    /// Data rows, not counting the header.
    pub max_rows: usize,
    /// The most an XLSX archive's entries may inflate to, in total.
    pub max_inflated_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 20 * 1024 * 1024,
            max_rows: 200_000,
            max_inflated_bytes: 400 * 1024 * 1024,
        }
    }
}

/// Why a file could not be read at all (as opposed to rows it holds being invalid).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is {size} bytes; the limit is {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    #[error("the file has more than {limit} data rows")]
    TooManyRows { limit: usize },
    #[error("the file is neither an XLSX workbook nor a CSV text file")]
    WrongType,
    #[error(
        "the XLSX archive would inflate beyond {limit} bytes; it is refused as a possible zip bomb"
    )]
    ZipBomb { limit: u64 },
    #[error("the XLSX workbook could not be read: {0}")]
    Xlsx(String),
    #[error("the workbook has no worksheet")]
    NoSheet,
    #[error("the CSV file could not be read at line {line}: {reason}")]
    Csv { line: u64, reason: String },
    #[error("the file has no header row")]
    NoHeader,
    /// Raised by a sink to stop reading, e.g. for a missing required column.
    #[error("{0}")]
    Rejected(String),
}

/// Receives a spreadsheet's rows in order. Row numbers are as a spreadsheet shows them: the
/// header is row 1, the first data row is row 2.
pub trait RowSink {
    fn header(&mut self, cells: &[&str]) -> Result<(), ReadError>;
    fn row(&mut self, number: usize, cells: &[&str]) -> Result<(), ReadError>;
}

/// What kind of file the bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Xlsx,
    Csv,
}

fn kind(bytes: &[u8]) -> Result<Kind, ReadError> {
    if bytes.starts_with(b"PK\x03\x04") {
        return Ok(Kind::Xlsx);
    }
    // Old binary Excel, PDF, images and other binaries: a NUL byte in the first 8 KiB gives them
    // away (text in UTF-8 or GB18030 never contains one).
    let head = &bytes[..bytes.len().min(8192)];
    if head.contains(&0) || bytes.starts_with(b"\xD0\xCF\x11\xE0") || bytes.starts_with(b"%PDF") {
        return Err(ReadError::WrongType);
    }
    Ok(Kind::Csv)
}

/// Reads every row of the first worksheet (XLSX) or of the CSV text into `sink`.
/// Returns the number of data rows.
pub fn read_rows(
    bytes: &[u8],
    limits: &Limits,
    sink: &mut impl RowSink,
) -> Result<usize, ReadError> {
    if bytes.is_empty() {
        return Err(ReadError::Empty);
    }
    if bytes.len() > limits.max_bytes {
        return Err(ReadError::TooLarge {
            size: bytes.len(),
            limit: limits.max_bytes,
        });
    }
    match kind(bytes)? {
        Kind::Xlsx => read_xlsx(bytes, limits, sink),
        Kind::Csv => read_csv(bytes, limits, sink),
    }
}

fn check_inflation(bytes: &[u8], limits: &Limits) -> Result<(), ReadError> {
    let mut archive =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| ReadError::Xlsx(e.to_string()))?;
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let entry = archive
            .by_index_raw(i)
            .map_err(|e| ReadError::Xlsx(e.to_string()))?;
        total = total.saturating_add(entry.size());
        if total > limits.max_inflated_bytes {
            return Err(ReadError::ZipBomb {
                limit: limits.max_inflated_bytes,
            });
        }
    }
    Ok(())
}

fn read_xlsx(bytes: &[u8], limits: &Limits, sink: &mut impl RowSink) -> Result<usize, ReadError> {
    check_inflation(bytes, limits)?;
    let mut workbook: Xlsx<_> =
        Xlsx::new(Cursor::new(bytes)).map_err(|e| ReadError::Xlsx(e.to_string()))?;
    let range = workbook
        .worksheet_range_at(0)
        .ok_or(ReadError::NoSheet)?
        .map_err(|e| ReadError::Xlsx(e.to_string()))?;
    // Row numbers follow the sheet, even when it starts below row 1.
    let first_row = range.start().map(|(r, _)| r as usize + 1).unwrap_or(1);
    let mut rows = range.rows();
    let header = rows.next().ok_or(ReadError::NoHeader)?;
    let mut scratch: Vec<String> = Vec::new();
    fill(&mut scratch, header);
    sink.header(&scratch.iter().map(String::as_str).collect::<Vec<_>>())?;
    let mut count = 0;
    for (i, row) in rows.enumerate() {
        fill(&mut scratch, row);
        if scratch.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        count += 1;
        if count > limits.max_rows {
            return Err(ReadError::TooManyRows {
                limit: limits.max_rows,
            });
        }
        let cells: Vec<&str> = scratch.iter().map(String::as_str).collect();
        sink.row(first_row + 1 + i, &cells)?;
    }
    Ok(count)
}

/// Renders a row of cells as text, reusing the buffers.
fn fill(out: &mut Vec<String>, row: &[Data]) {
    out.resize(row.len(), String::new());
    for (slot, cell) in out.iter_mut().zip(row) {
        slot.clear();
        match cell {
            Data::Empty => {}
            Data::String(s) => slot.push_str(s),
            // Whole numbers (phone numbers typed as numbers) without a decimal point or exponent.
            Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e16 => {
                slot.push_str(&format!("{f:.0}"))
            }
            Data::Float(f) => slot.push_str(&f.to_string()),
            Data::Int(i) => slot.push_str(&i.to_string()),
            Data::Bool(b) => slot.push_str(if *b { "TRUE" } else { "FALSE" }),
            other => slot.push_str(&other.to_string()),
        }
    }
}

fn read_csv(bytes: &[u8], limits: &Limits, sink: &mut impl RowSink) -> Result<usize, ReadError> {
    // UTF-8 (the BOM, if any, is skipped) when the bytes are valid UTF-8; otherwise GB18030, the
    // superset of GBK that Excel in China writes. Decoding streams: no decoded copy of the file.
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let source: Box<dyn Read + '_> = if std::str::from_utf8(body).is_ok() {
        Box::new(body)
    } else {
        Box::new(
            encoding_rs_io::DecodeReaderBytesBuilder::new()
                .encoding(Some(encoding_rs::GB18030))
                .build(bytes),
        )
    };
    let newlines = Rc::new(RefCell::new(VecDeque::new()));
    let counted = LineCounter {
        inner: source,
        offset: 0,
        newlines: Rc::clone(&newlines),
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(counted);
    let mut rows = RowNumbers {
        newlines,
        consumed: 0,
        inside: 0,
    };
    let mut record = csv::StringRecord::new();
    let csv_error = |e: csv::Error| ReadError::Csv {
        line: e.position().map(|p| p.line()).unwrap_or(0),
        reason: match e.kind() {
            csv::ErrorKind::Utf8 { .. } => "text that is neither UTF-8 nor GB18030".to_string(),
            _ => e.to_string(),
        },
    };
    if !reader.read_record(&mut record).map_err(csv_error)? {
        return Err(ReadError::NoHeader);
    }
    let header: Vec<&str> = record.iter().collect();
    if header.iter().all(|c| c.trim().is_empty()) {
        return Err(ReadError::NoHeader);
    }
    rows.number(reader.position().byte(), &record);
    sink.header(&header)?;
    let mut count = 0;
    loop {
        if !reader.read_record(&mut record).map_err(csv_error)? {
            break;
        }
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        count += 1;
        if count > limits.max_rows {
            return Err(ReadError::TooManyRows {
                limit: limits.max_rows,
            });
        }
        let number = rows.number(reader.position().byte(), &record);
        let cells: Vec<&str> = record.iter().collect();
        sink.row(number, &cells)?;
    }
    Ok(count)
}

/// Passes bytes through to the CSV parser, noting where each newline falls.
struct LineCounter<R> {
    inner: R,
    offset: u64,
    newlines: Rc<RefCell<VecDeque<u64>>>,
}

impl<R: Read> Read for LineCounter<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut seen = self.newlines.borrow_mut();
        for (i, b) in buf[..n].iter().enumerate() {
            if *b == b'\n' {
                seen.push_back(self.offset + i as u64);
            }
        }
        self.offset += n as u64;
        Ok(n)
    }
}

/// Numbers CSV records as a spreadsheet shows them: one row per record — however many lines its
/// quoted cells span — and one empty row per blank line (which the CSV parser skips).
///
/// Every row ends with a newline, and quoted cells add their own, so after a record the rows so
/// far are the newlines consumed less those inside records — plus one while the record's own
/// newline is not yet consumed (the parser stops before the `\n` of a `\r\n`, and the last line
/// may have none).
struct RowNumbers {
    newlines: Rc<RefCell<VecDeque<u64>>>,
    consumed: u64,
    inside: u64,
}

impl RowNumbers {
    fn number(&mut self, end: u64, record: &csv::StringRecord) -> usize {
        let mut terminated = false;
        {
            let mut seen = self.newlines.borrow_mut();
            while let Some(&at) = seen.front() {
                if at >= end {
                    break;
                }
                seen.pop_front();
                self.consumed += 1;
                terminated = at + 1 == end;
            }
        }
        self.inside += record
            .iter()
            .map(|f| f.bytes().filter(|b| *b == b'\n').count() as u64)
            .sum::<u64>();
        (self.consumed - self.inside.min(self.consumed)) as usize + usize::from(!terminated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Collect {
        header: Vec<String>,
        rows: Vec<(usize, Vec<String>)>,
    }

    impl RowSink for Collect {
        fn header(&mut self, cells: &[&str]) -> Result<(), ReadError> {
            self.header = cells.iter().map(|c| c.to_string()).collect();
            Ok(())
        }
        fn row(&mut self, number: usize, cells: &[&str]) -> Result<(), ReadError> {
            self.rows
                .push((number, cells.iter().map(|c| c.to_string()).collect()));
            Ok(())
        }
    }

    fn read(bytes: &[u8]) -> Result<Collect, ReadError> {
        let mut c = Collect::default();
        read_rows(bytes, &Limits::default(), &mut c)?;
        Ok(c)
    }

    #[test]
    fn csv_in_utf8_with_and_without_bom_and_in_gb18030() {
        let text = "姓名,身份证号\n张三,11010519491231002X\n\n李四,110105194912310021\n";
        let plain = read(text.as_bytes()).expect("utf-8");
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(text.as_bytes());
        let with_bom = read(&bom).expect("utf-8 with BOM");
        let (gbk, _, lossy) = encoding_rs::GB18030.encode(text);
        assert!(!lossy);
        let gb = read(&gbk).expect("gb18030");
        for c in [&plain, &with_bom, &gb] {
            assert_eq!(c.header, vec!["姓名", "身份证号"]);
            assert_eq!(c.rows.len(), 2, "blank lines are skipped");
            assert_eq!(
                c.rows[0],
                (
                    2,
                    vec!["张三".to_string(), "11010519491231002X".to_string()]
                )
            );
            assert_eq!(
                c.rows[1].0, 4,
                "row numbers count the blank line, as a spreadsheet does"
            );
        }
    }

    #[test]
    fn csv_rows_are_numbered_as_a_spreadsheet_shows_them() {
        let text = "h1,h2\na,1\n\nb,2\n\"multi\nline\",3\nc,4\n\n\nd,5\n";
        let c = read(text.as_bytes()).expect("csv");
        let numbers: Vec<usize> = c.rows.iter().map(|r| r.0).collect();
        assert_eq!(numbers, vec![2, 4, 5, 6, 9]);
        let crlf = read(b"h\r\nx\r\n\r\ny\r\n").expect("crlf");
        assert_eq!(
            crlf.rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            vec![2, 4]
        );
    }

    proptest::proptest! {
        #[test]
        fn csv_row_numbers_match_the_lines_of_simple_files(
            blanks in proptest::collection::vec(proptest::bool::weighted(0.2), 1..40),
            crlf in proptest::bool::ANY,
            final_newline in proptest::bool::ANY,
        ) {
            let eol = if crlf { "\r\n" } else { "\n" };
            let mut lines = vec!["name,id".to_string()];
            let mut expected = Vec::new();
            for (i, blank) in blanks.iter().enumerate() {
                if *blank {
                    lines.push(String::new());
                } else {
                    lines.push(format!("p{i},{i}"));
                    expected.push(lines.len());
                }
            }
            // A trailing blank line is never a row anyone sees.
            while lines.last().is_some_and(|l| l.is_empty()) {
                lines.pop();
            }
            let mut text = lines.join(eol);
            if final_newline {
                text.push_str(eol);
            }
            let got: Vec<usize> = read(text.as_bytes()).expect("csv").rows.iter().map(|r| r.0).collect();
            proptest::prop_assert_eq!(got, expected);
        }
    }

    #[test]
    fn xlsx_rows_and_numbers_typed_as_numbers() {
        let mut sheet = crate::Sheet::new("名单", &["姓名", "手机号"]);
        sheet.push(vec!["王五".into(), "13800138000".into()]);
        let bytes = crate::write_xlsx(&[sheet]).expect("xlsx");
        let c = read(&bytes).expect("read back");
        assert_eq!(c.header, vec!["姓名", "手机号"]);
        assert_eq!(
            c.rows,
            vec![(2, vec!["王五".to_string(), "13800138000".to_string()])]
        );
        let mut cells = Vec::new();
        fill(
            &mut cells,
            &[Data::Float(13800138000.0), Data::Int(7), Data::Empty],
        );
        assert_eq!(cells, vec!["13800138000", "7", ""]);
    }

    #[test]
    fn refuses_files_it_cannot_read_with_a_reason() {
        assert_eq!(read(b"").err(), Some(ReadError::Empty));
        assert_eq!(read(b"%PDF-1.7 ...").err(), Some(ReadError::WrongType));
        assert_eq!(
            read(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1old xls").err(),
            Some(ReadError::WrongType)
        );
        assert_eq!(
            read(b"\x89PNG\r\n\x1a\n\0\0\0").err(),
            Some(ReadError::WrongType)
        );
        assert!(matches!(
            read(b"PK\x03\x04 not really a zip").err(),
            Some(ReadError::Xlsx(_))
        ));
        assert_eq!(read(b"\n\n").err(), Some(ReadError::NoHeader));
        let limits = Limits {
            max_bytes: 10,
            ..Limits::default()
        };
        assert_eq!(
            read_rows(b"name,id_number\n", &limits, &mut Collect::default()).err(),
            Some(ReadError::TooLarge {
                size: 15,
                limit: 10
            })
        );
        let limits = Limits {
            max_rows: 2,
            ..Limits::default()
        };
        let err = read_rows(b"a\n1\n2\n3\n", &limits, &mut Collect::default()).err();
        assert_eq!(err, Some(ReadError::TooManyRows { limit: 2 }));
    }

    #[test]
    fn an_archive_that_inflates_too_far_is_refused_before_parsing() {
        let mut sheet = crate::Sheet::new("s", &["a"]);
        for i in 0..2000 {
            sheet.push(vec![format!("{i:0>200}")]);
        }
        let bytes = crate::write_xlsx(&[sheet]).expect("xlsx");
        let limits = Limits {
            max_inflated_bytes: 100_000,
            ..Limits::default()
        };
        assert_eq!(
            read_rows(&bytes, &limits, &mut Collect::default()).err(),
            Some(ReadError::ZipBomb { limit: 100_000 })
        );
        assert_eq!(
            read_rows(&bytes, &Limits::default(), &mut Collect::default()),
            Ok(2000)
        );
    }
}
