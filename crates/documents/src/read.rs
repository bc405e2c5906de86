//! Reading spreadsheets row by row.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{Cursor, Read};
use std::rc::Rc;

use std::time::{Duration, Instant};

use calamine::{DataRef, Reader, Xlsx};

/// Bounds on what an upload may be, all checked while reading — before anything is allocated
/// for a row or a column beyond them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_bytes: usize,
    /// Data rows, not counting the header; in a workbook, also the furthest row below the header
    /// a cell may sit in.
    pub max_rows: usize,
    /// Columns: a non-empty cell beyond this column is refused.
    pub max_columns: usize,
    /// The most an XLSX archive's entries may inflate to, in total.
    pub max_inflated_bytes: u64,
    /// The longest the reading may take.
    pub max_duration: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 20 * 1024 * 1024,
            max_rows: 200_000,
            max_columns: 64,
            max_inflated_bytes: 400 * 1024 * 1024,
            max_duration: Duration::from_secs(60),
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
    /// A non-empty cell beyond the column limit (`column` as the spreadsheet names it, `AB`).
    #[error("row {row} has a value in column {column}; the file may use {limit} columns at most")]
    TooManyColumns {
        row: usize,
        column: String,
        limit: usize,
    },
    #[error("reading the file took longer than {seconds} seconds")]
    TooSlow { seconds: u64 },
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

/// Reads the first worksheet cell by cell, as the XML holds them: nothing is allocated for the
/// sheet's declared size, only for the row being read, and a cell past the row or column limit
/// stops the reading before anything is made for it.
fn read_xlsx(bytes: &[u8], limits: &Limits, sink: &mut impl RowSink) -> Result<usize, ReadError> {
    check_inflation(bytes, limits)?;
    let xlsx_error = |e: calamine::XlsxError| ReadError::Xlsx(e.to_string());
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(xlsx_error)?;
    let first = workbook
        .sheet_names()
        .into_iter()
        .next()
        .ok_or(ReadError::NoSheet)?;
    let mut cells = workbook
        .worksheet_cells_reader(&first)
        .map_err(xlsx_error)?;
    let clock = Clock::start(limits);
    let mut rows = Rows::new(limits);
    let mut row: Vec<String> = Vec::new();
    let mut at: Option<u32> = None;
    let mut seen = 0u64;
    while let Some(cell) = cells.next_cell().map_err(xlsx_error)? {
        seen += 1;
        if seen.is_multiple_of(4096) {
            clock.check()?;
        }
        let (r, c) = cell.get_position();
        let value = cell.get_value();
        if matches!(value, DataRef::Empty) {
            continue;
        }
        rows.check_row(r as usize + 1)?;
        if c as usize >= limits.max_columns {
            return Err(ReadError::TooManyColumns {
                row: r as usize + 1,
                column: column_name(c),
                limit: limits.max_columns,
            });
        }
        if at != Some(r) {
            if let Some(done) = at {
                rows.emit(done as usize + 1, &row, sink)?;
            }
            row.clear();
            at = Some(r);
        }
        let c = c as usize;
        if row.len() <= c {
            row.resize(c + 1, String::new());
        }
        write_cell(&mut row[c], value);
    }
    if let Some(done) = at {
        rows.emit(done as usize + 1, &row, sink)?;
    }
    rows.finish()
}

/// The rows of a workbook as they come: the first is the header, the rest data rows (blank ones
/// skipped), numbered as the sheet numbers them and counted against the limits.
struct Rows {
    header: Option<usize>,
    count: usize,
    max_rows: usize,
}

impl Rows {
    fn new(limits: &Limits) -> Self {
        Self {
            header: None,
            count: 0,
            max_rows: limits.max_rows,
        }
    }

    /// A cell in sheet row `number` may be read: it is within the row limit below the header.
    fn check_row(&self, number: usize) -> Result<(), ReadError> {
        match self.header {
            Some(h) if number > h.saturating_add(self.max_rows) => Err(ReadError::TooManyRows {
                limit: self.max_rows,
            }),
            _ => Ok(()),
        }
    }

    fn emit(
        &mut self,
        number: usize,
        cells: &[String],
        sink: &mut impl RowSink,
    ) -> Result<(), ReadError> {
        let cells: Vec<&str> = cells.iter().map(String::as_str).collect();
        if cells.iter().all(|c| c.trim().is_empty()) {
            return Ok(());
        }
        if self.header.is_none() {
            self.header = Some(number);
            return sink.header(&cells);
        }
        self.count += 1;
        if self.count > self.max_rows {
            return Err(ReadError::TooManyRows {
                limit: self.max_rows,
            });
        }
        sink.row(number, &cells)
    }

    fn finish(self) -> Result<usize, ReadError> {
        match self.header {
            Some(_) => Ok(self.count),
            None => Err(ReadError::NoHeader),
        }
    }
}

/// The reading's deadline.
struct Clock {
    until: Instant,
    seconds: u64,
}

impl Clock {
    fn start(limits: &Limits) -> Self {
        Self {
            until: Instant::now() + limits.max_duration,
            seconds: limits.max_duration.as_secs(),
        }
    }

    fn check(&self) -> Result<(), ReadError> {
        if Instant::now() > self.until {
            return Err(ReadError::TooSlow {
                seconds: self.seconds,
            });
        }
        Ok(())
    }
}

/// A column's name as a spreadsheet shows it: 0 is `A`, 25 `Z`, 26 `AA`.
fn column_name(index: u32) -> String {
    let mut n = u64::from(index) + 1;
    let mut name = Vec::new();
    while n > 0 {
        let rem = ((n - 1) % 26) as u8;
        name.push(b'A' + rem);
        n = (n - 1) / 26;
    }
    name.reverse();
    String::from_utf8(name).unwrap_or_default()
}

/// A cell's value as text.
fn write_cell(slot: &mut String, cell: &DataRef<'_>) {
    slot.clear();
    match cell {
        DataRef::Empty => {}
        DataRef::String(s) => slot.push_str(s),
        DataRef::SharedString(s) => slot.push_str(s),
        // Whole numbers (phone numbers typed as numbers) without a decimal point or exponent.
        DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e16 => {
            slot.push_str(&format!("{f:.0}"))
        }
        DataRef::Float(f) => slot.push_str(&f.to_string()),
        DataRef::Int(i) => slot.push_str(&i.to_string()),
        DataRef::Bool(b) => slot.push_str(if *b { "TRUE" } else { "FALSE" }),
        DataRef::DateTime(d) => slot.push_str(&d.to_string()),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => slot.push_str(s),
        DataRef::Error(e) => slot.push_str(&e.to_string()),
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
    let header: Vec<&str> = record.iter().take(limits.max_columns).collect();
    if header.iter().all(|c| c.trim().is_empty()) {
        return Err(ReadError::NoHeader);
    }
    let clock = Clock::start(limits);
    let mut number = rows.number(reader.position().byte(), &record);
    beyond_columns(number, &record, limits)?;
    sink.header(&header)?;
    let mut count = 0;
    loop {
        if !reader.read_record(&mut record).map_err(csv_error)? {
            break;
        }
        if reader.position().record().is_multiple_of(4096) {
            clock.check()?;
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
        number = rows.number(reader.position().byte(), &record);
        beyond_columns(number, &record, limits)?;
        let cells: Vec<&str> = record.iter().take(limits.max_columns).collect();
        sink.row(number, &cells)?;
    }
    Ok(count)
}

/// Refuses a CSV record (row `number`) with a value beyond the column limit.
fn beyond_columns(
    number: usize,
    record: &csv::StringRecord,
    limits: &Limits,
) -> Result<(), ReadError> {
    match record
        .iter()
        .enumerate()
        .skip(limits.max_columns)
        .find(|(_, c)| !c.trim().is_empty())
    {
        Some((i, _)) => Err(ReadError::TooManyColumns {
            row: number,
            column: column_name(u32::try_from(i).unwrap_or(u32::MAX)),
            limit: limits.max_columns,
        }),
        None => Ok(()),
    }
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
        let cells: Vec<String> = [
            DataRef::Float(13800138000.0),
            DataRef::Int(7),
            DataRef::Empty,
        ]
        .iter()
        .map(|c| {
            let mut s = String::from("stale");
            write_cell(&mut s, c);
            s
        })
        .collect();
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

    /// A workbook with a header in A1:B1 and `cells` (`(row, column, text)`, zero-based) beside it.
    fn sparse_workbook(cells: &[(u32, u16, &str)]) -> Vec<u8> {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write_string(0, 0, "姓名").expect("a1");
        sheet.write_string(0, 1, "身份证号").expect("b1");
        for &(r, c, text) in cells {
            sheet.write_string(r, c, text).expect("cell");
        }
        book.save_to_buffer().expect("xlsx")
    }

    #[test]
    fn a_far_away_cell_is_refused_before_anything_is_allocated_for_it() {
        // One cell at XFD1048576: a few kilobytes that a dense reader turns into a 512 GiB grid.
        let corner = sparse_workbook(&[(1_048_575, 16_383, "x")]);
        assert!(corner.len() < 10_000, "{} bytes", corner.len());
        let started = std::time::Instant::now();
        assert_eq!(
            read(&corner).err(),
            Some(ReadError::TooManyColumns {
                row: 1_048_576,
                column: "XFD".into(),
                limit: 64
            })
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        // Within the columns but far below the row limit.
        let low = sparse_workbook(&[(1, 1, "11010519491231002X"), (1_048_575, 0, "x")]);
        assert_eq!(
            read(&low).err(),
            Some(ReadError::TooManyRows { limit: 200_000 })
        );
        // Column CV (the hundredth) is past a limit of 64.
        let wide = sparse_workbook(&[(4, 99, "x")]);
        let err = read(&wide).err();
        assert_eq!(
            err,
            Some(ReadError::TooManyColumns {
                row: 5,
                column: "CV".into(),
                limit: 64
            })
        );
        assert_eq!(
            err.map(|e| e.to_string()).as_deref(),
            Some("row 5 has a value in column CV; the file may use 64 columns at most")
        );
    }

    #[test]
    fn sparse_rows_keep_their_sheet_numbers_and_columns() {
        let book = sparse_workbook(&[(3, 1, "11010519491231002X"), (3, 0, "张三"), (9, 0, "李四")]);
        let c = read(&book).expect("read");
        assert_eq!(c.header, vec!["姓名", "身份证号"]);
        assert_eq!(
            c.rows,
            vec![
                (
                    4,
                    vec!["张三".to_string(), "11010519491231002X".to_string()]
                ),
                (10, vec!["李四".to_string()]),
            ]
        );
    }

    #[test]
    fn a_csv_value_beyond_the_columns_is_refused_by_row_and_column() {
        let mut text = String::from("name,id\nA,1\n");
        text.push_str(&",".repeat(70));
        text.push_str("x\n");
        assert_eq!(
            read(text.as_bytes()).err(),
            Some(ReadError::TooManyColumns {
                row: 3,
                column: "BS".into(),
                limit: 64
            })
        );
        // Empty cells past the limit (a spreadsheet's trailing commas) are no harm.
        let trailing = format!("name,id{}\nA,1{}\n", ",".repeat(80), ",".repeat(80));
        assert_eq!(read(trailing.as_bytes()).expect("read").rows.len(), 1);
    }

    #[test]
    fn reading_stops_at_its_deadline() {
        let limits = Limits {
            max_duration: std::time::Duration::ZERO,
            ..Limits::default()
        };
        let mut text = String::from("name,id\n");
        for i in 0..10_000 {
            text.push_str(&format!("p{i},{i}\n"));
        }
        let err = read_rows(text.as_bytes(), &limits, &mut Collect::default()).err();
        assert_eq!(err, Some(ReadError::TooSlow { seconds: 0 }));
        let mut sheet = crate::Sheet::new("s", &["a"]);
        for i in 0..10_000 {
            sheet.push(vec![format!("{i}")]);
        }
        let bytes = crate::write_xlsx(&[sheet]).expect("xlsx");
        let err = read_rows(&bytes, &limits, &mut Collect::default()).err();
        assert_eq!(err, Some(ReadError::TooSlow { seconds: 0 }));
    }

    #[test]
    fn columns_are_named_as_a_spreadsheet_names_them() {
        let names: Vec<String> = [0, 25, 26, 51, 52, 99, 701, 702, 16_383]
            .into_iter()
            .map(column_name)
            .collect();
        assert_eq!(
            names,
            ["A", "Z", "AA", "AZ", "BA", "CV", "ZZ", "AAA", "XFD"]
        );
    }
}
