//! Importing a unit's people from a spreadsheet (XLSX, or CSV in UTF-8 or GB18030).
//!
//! Columns are found by their header, in Chinese or English. Every row is checked — name, ID
//! number (length, characters, province, birth date, checksum), mainland mobile, duplicates within
//! the file, and the same person on another unit's list — and the valid rows are stored in one
//! transaction with an audit entry. The report names each problem by row (as a spreadsheet
//! numbers it: header = row 1), field and reason, and keeps the rejected rows so they can be
//! handed back as a spreadsheet with a reason column.

mod unit;

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use vaxloop_core::{PhoneError, PhoneValidator, ResidentId, ResidentIdError};
use vaxloop_documents::{RowSink, Sheet, read_rows};
use vaxloop_store::audit::{self, Entry, Outcome};
use vaxloop_store::imports::{self, Counts, NewImport};
use vaxloop_store::org::Unit;
use vaxloop_store::roster::{self, RosterRow};
use vaxloop_store::{Db, PiiCipher, StoreError};

pub use unit::{Report, importable, rejected, report, upload, upload_page};
pub use vaxloop_documents::{Limits, ReadError};
pub use vaxloop_store::imports::ImportRecord;

/// Every problem code a row can be reported with (each has a translation in the web layer).
pub const REASON_CODES: &[&str] = &[
    "required",
    "name_invalid",
    "id_length",
    "id_characters",
    "id_province",
    "id_birth_date",
    "id_birth_range",
    "id_checksum",
    "duplicate_in_file",
    "phone_not_mobile",
    "phone_invalid",
    "note_too_long",
    "other_unit",
];

/// Every warning code.
pub const WARNING_CODES: &[&str] = &["kept_in_note", "duplicate_column"];

/// The longest name and note accepted, in characters.
const MAX_NAME: usize = 50;
const MAX_NOTE: usize = 500;

/// The fields an import knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Name,
    IdNumber,
    Phone,
    Note,
}

impl Field {
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::IdNumber => "id_number",
            Field::Phone => "phone",
            Field::Note => "note",
        }
    }

    /// Recognises a header cell, in Chinese or English, ignoring case, spaces, underscores and
    /// the asterisks templates put on required columns.
    fn from_header(header: &str) -> Option<Field> {
        let h: String = header
            .chars()
            .filter(|c| !matches!(c, ' ' | '_' | '-' | '*' | '＊' | '\u{3000}' | '\u{feff}'))
            .flat_map(char::to_lowercase)
            .collect();
        match h.as_str() {
            "姓名" | "名字" | "员工姓名" | "name" | "fullname" => Some(Field::Name),
            "身份证号" | "身份证号码" | "身份证" | "证件号码" | "证件号" | "公民身份号码"
            | "idnumber" | "id" | "idno" | "residentid" => Some(Field::IdNumber),
            "手机号" | "手机号码" | "手机" | "联系电话" | "电话" | "phone" | "mobile"
            | "phonenumber" | "tel" => Some(Field::Phone),
            "备注" | "note" | "notes" | "remark" | "remarks" => Some(Field::Note),
            _ => None,
        }
    }
}

/// What is wrong with one field of one row. `code` keys the translation; `reason` is English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowError {
    pub row: usize,
    pub field: Field,
    pub reason: String,
    pub code: String,
    /// Values for the translation's placeholders.
    pub args: Vec<(String, String)>,
}

/// A rejected row as it was in the file, for the spreadsheet handed back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RejectedRow {
    pub row: usize,
    pub cells: Vec<String>,
}

/// Something about the file that is not an error, e.g. a column kept in the note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    pub code: String,
    pub column: String,
}

/// The outcome of an import, kept (sealed) with the import's record.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImportReport {
    pub rows: usize,
    pub imported: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected: usize,
    pub errors: Vec<RowError>,
    pub warnings: Vec<Warning>,
    pub headers: Vec<String>,
    pub rejected_rows: Vec<RejectedRow>,
}

impl ImportReport {
    /// Masks the ID-number and phone cells of the rejected rows (for readers who may not
    /// unmask): the first three and last two characters stay, so a row can still be found.
    pub fn mask_personal(&mut self) {
        let personal: Vec<usize> = self
            .headers
            .iter()
            .enumerate()
            .filter(|(_, h)| matches!(Field::from_header(h), Some(Field::IdNumber | Field::Phone)))
            .map(|(i, _)| i)
            .collect();
        for row in &mut self.rejected_rows {
            for &i in &personal {
                if let Some(cell) = row.cells.get_mut(i) {
                    *cell = mask_cell(cell);
                }
            }
        }
    }
}

/// A cell's text with all but its first three and last two characters hidden (all of it when
/// it is short).
fn mask_cell(text: &str) -> String {
    let chars: Vec<char> = text.trim().chars().collect();
    if chars.len() < 8 {
        return "*".repeat(chars.len());
    }
    let hidden = chars.len() - 5;
    let mut out: String = chars[..3].iter().collect();
    out.push_str(&"*".repeat(hidden));
    out.extend(&chars[chars.len() - 2..]);
    out
}

/// The command line's JSON summary: `{"rows":…,"imported":…,"updated":…,"unchanged":…,
/// "rejected":…,"errors":[{"row":…,"field":…,"reason":…}]}`.
#[derive(Serialize)]
struct Summary<'a> {
    rows: usize,
    imported: u64,
    updated: u64,
    unchanged: u64,
    rejected: usize,
    errors: Vec<SummaryError<'a>>,
}

#[derive(Serialize)]
struct SummaryError<'a> {
    row: usize,
    field: Field,
    reason: &'a str,
}

/// Why a file could not be imported at all.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    Read(#[from] ReadError),
    #[error("the file has no column for {}", .0.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(", "))]
    MissingColumns(Vec<Field>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Validates rows as they stream out of the file.
struct Validate {
    today: NaiveDate,
    columns: HashMap<Field, usize>,
    extra: Vec<(usize, String)>,
    missing: Vec<Field>,
    phones: PhoneValidator,
    seen: HashMap<String, usize>,
    /// The valid rows, and beside them their row numbers and cells as read (for the rejected
    /// rows' spreadsheet, should the store refuse one).
    valid: Vec<RosterRow>,
    valid_rows: Vec<(usize, Vec<String>)>,
    report: ImportReport,
}

type Args = Vec<(&'static str, String)>;

fn id_problem(e: &ResidentIdError) -> (&'static str, Args) {
    match e {
        ResidentIdError::Length(n) => ("id_length", vec![("found", n.to_string())]),
        ResidentIdError::Characters => ("id_characters", vec![]),
        ResidentIdError::Province(p) => ("id_province", vec![("code", format!("{p:02}"))]),
        ResidentIdError::BirthDate(d) => ("id_birth_date", vec![("date", d.clone())]),
        ResidentIdError::BirthDateRange(d) => ("id_birth_range", vec![("date", d.clone())]),
        ResidentIdError::Checksum { expected, found } => (
            "id_checksum",
            vec![
                ("expected", expected.to_string()),
                ("found", found.to_string()),
            ],
        ),
    }
}

impl Validate {
    /// A trimmed cell. A leading apostrophe — Excel's "keep as text" mark, and what our own
    /// exports put before risky cells — is not part of the value.
    fn cell<'a>(&self, cells: &[&'a str], field: Field) -> &'a str {
        let cell = self
            .columns
            .get(&field)
            .and_then(|&i| cells.get(i))
            .map(|c| c.trim())
            .unwrap_or("");
        cell.strip_prefix('\'').unwrap_or(cell).trim()
    }

    fn error(
        errors: &mut Vec<RowError>,
        row: usize,
        field: Field,
        code: &str,
        reason: String,
        args: Args,
    ) {
        let args = args.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        errors.push(RowError {
            row,
            field,
            reason,
            code: code.to_string(),
            args,
        });
    }
    /// The row's name, its problems added to `errors`.
    fn name<'c>(&self, number: usize, cells: &[&'c str], errors: &mut Vec<RowError>) -> &'c str {
        let name = self.cell(cells, Field::Name);
        if name.is_empty() {
            Self::error(
                errors,
                number,
                Field::Name,
                "required",
                "is required".into(),
                vec![],
            );
        } else if name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
            Self::error(
                errors,
                number,
                Field::Name,
                "name_invalid",
                format!("must be at most {MAX_NAME} characters of text"),
                vec![],
            );
        }
        name
    }

    /// The row's ID number, when it is one and not already in the file.
    fn id_number(
        &self,
        number: usize,
        cells: &[&str],
        errors: &mut Vec<RowError>,
    ) -> Option<ResidentId> {
        let id_text = self.cell(cells, Field::IdNumber);
        if id_text.is_empty() {
            Self::error(
                errors,
                number,
                Field::IdNumber,
                "required",
                "is required".into(),
                vec![],
            );
            None
        } else {
            match ResidentId::parse_on(id_text, self.today) {
                Ok(id) => match self.seen.get(id.as_str()) {
                    Some(first) => {
                        let first = *first;
                        Self::error(
                            errors,
                            number,
                            Field::IdNumber,
                            "duplicate_in_file",
                            format!("repeats row {first}"),
                            vec![("row", first.to_string())],
                        );
                        None
                    }
                    None => Some(id),
                },
                Err(e) => {
                    let (code, args) = id_problem(&e);
                    Self::error(errors, number, Field::IdNumber, code, e.to_string(), args);
                    None
                }
            }
        }
    }

    /// The row's mobile number, if it gives one.
    fn phone(
        &mut self,
        number: usize,
        cells: &[&str],
        errors: &mut Vec<RowError>,
    ) -> Option<vaxloop_core::Phone> {
        let phone_text = self.cell(cells, Field::Phone);
        if phone_text.is_empty() {
            None
        } else {
            match self.phones.parse(phone_text) {
                Ok(p) => Some(p),
                Err(e) => {
                    let code = if e == PhoneError::NotMainlandMobile {
                        "phone_not_mobile"
                    } else {
                        "phone_invalid"
                    };
                    Self::error(errors, number, Field::Phone, code, e.to_string(), vec![]);
                    None
                }
            }
        }
    }

    /// The row's note, with the columns the import does not know appended (`header: value`).
    fn note(&self, number: usize, cells: &[&str], errors: &mut Vec<RowError>) -> Option<String> {
        let mut note: Vec<String> = Vec::new();
        let own = self.cell(cells, Field::Note);
        if !own.is_empty() {
            note.push(own.to_string());
        }
        for (i, header) in &self.extra {
            if let Some(v) = cells.get(*i).map(|v| v.trim()).filter(|v| !v.is_empty()) {
                note.push(format!("{header}: {v}"));
            }
        }
        let note = (!note.is_empty()).then(|| note.join("; "));
        if note.as_ref().is_some_and(|n| n.chars().count() > MAX_NOTE) {
            Self::error(
                errors,
                number,
                Field::Note,
                "note_too_long",
                format!("must be at most {MAX_NOTE} characters"),
                vec![],
            );
        }
        note
    }
}

impl RowSink for Validate {
    fn header(&mut self, cells: &[&str]) -> Result<(), ReadError> {
        self.report.headers = cells.iter().map(|c| c.to_string()).collect();
        for (i, cell) in cells.iter().enumerate() {
            match Field::from_header(cell) {
                Some(f) if !self.columns.contains_key(&f) => {
                    self.columns.insert(f, i);
                }
                Some(_) => self.report.warnings.push(Warning {
                    code: "duplicate_column".into(),
                    column: cell.to_string(),
                }),
                None if cell.trim().is_empty() => {}
                None => {
                    self.extra.push((i, cell.trim().to_string()));
                    self.report.warnings.push(Warning {
                        code: "kept_in_note".into(),
                        column: cell.trim().to_string(),
                    });
                }
            }
        }
        self.missing = [Field::Name, Field::IdNumber]
            .into_iter()
            .filter(|f| !self.columns.contains_key(f))
            .collect();
        if self.missing.is_empty() {
            Ok(())
        } else {
            Err(ReadError::Rejected("missing required columns".into()))
        }
    }

    fn row(&mut self, number: usize, cells: &[&str]) -> Result<(), ReadError> {
        self.report.rows += 1;
        let mut errors = Vec::new();
        let name = self.name(number, cells, &mut errors);
        let id = self.id_number(number, cells, &mut errors);
        let phone = self.phone(number, cells, &mut errors);
        let note = self.note(number, cells, &mut errors);
        let raw: Vec<String> = cells.iter().map(|c| c.to_string()).collect();
        match id {
            Some(id) if errors.is_empty() => {
                self.seen.insert(id.as_str().to_string(), number);
                self.valid.push(RosterRow {
                    name: name.to_string(),
                    resident_id: id,
                    phone,
                    note,
                });
                self.valid_rows.push((number, raw));
            }
            _ => {
                self.report.rejected += 1;
                self.report.rejected_rows.push(RejectedRow {
                    row: number,
                    cells: raw,
                });
                self.report.errors.extend(errors);
            }
        }
        Ok(())
    }
}

/// One file to import.
#[derive(Debug, Clone, Copy)]
pub struct Upload<'a> {
    pub file_name: &'a str,
    pub bytes: &'a [u8],
}

/// A stored import: its record's id, and the report.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    pub id: i64,
    pub report: ImportReport,
}

/// Reads `bytes` into `sink` on the blocking pool — a large workbook takes seconds to parse, and
/// no async worker waits on it — within the limits (the deadline among them, checked as it
/// reads). Answers the sink back with the outcome; a reader that panicked on a hostile file
/// counts as a file that could not be read.
pub(crate) async fn read_apart<S: RowSink + Send + 'static>(
    bytes: &[u8],
    limits: &Limits,
    mut sink: S,
) -> Result<(S, Result<usize, ReadError>), ReadError> {
    let (bytes, limits) = (bytes.to_vec(), *limits);
    let work = tokio::task::spawn_blocking(move || {
        let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            read_rows(&bytes, &limits, &mut sink)
        }));
        let read = read.unwrap_or_else(|_| Err(ReadError::Xlsx("the reader failed".into())));
        (sink, read)
    });
    // Only a runtime shutting down cancels blocking work.
    work.await
        .map_err(|_| ReadError::Xlsx("the reader was stopped".into()))
}

/// Imports a file into `unit`'s list, in one transaction that also records the import (with its
/// sealed report) and audits it.
pub async fn import_people(
    db: &Db,
    cipher: &PiiCipher,
    unit: &Unit,
    upload: Upload<'_>,
    limits: &Limits,
    today: NaiveDate,
    actor: Option<i64>,
) -> Result<Imported, ImportError> {
    let bytes = upload.bytes;
    let v = Validate {
        today,
        columns: HashMap::new(),
        extra: Vec::new(),
        missing: Vec::new(),
        phones: PhoneValidator::default(),
        seen: HashMap::new(),
        valid: Vec::new(),
        valid_rows: Vec::new(),
        report: ImportReport::default(),
    };
    let (v, read) = read_apart(bytes, limits, v).await?;
    if let Err(e) = read {
        return Err(if v.missing.is_empty() {
            e.into()
        } else {
            ImportError::MissingColumns(v.missing)
        });
    }
    let now = vaxloop_store::now_ms();
    let mut tx = db.begin_write().await?;
    let applied = roster::apply(&mut tx, cipher, unit.id, v.valid, now).await?;
    let mut report = v.report;
    for &i in &applied.other_unit {
        let (number, raw) = &v.valid_rows[i];
        report.errors.push(RowError {
            row: *number,
            field: Field::IdNumber,
            reason: "is already on another unit's list".into(),
            code: "other_unit".into(),
            args: vec![],
        });
        report.rejected += 1;
        report.rejected_rows.push(RejectedRow {
            row: *number,
            cells: raw.clone(),
        });
    }
    report.errors.sort_by_key(|e| e.row);
    report.rejected_rows.sort_by_key(|r| r.row);
    report.imported = applied.inserted;
    report.updated = applied.updated;
    report.unchanged = applied.unchanged;
    let detail = format!(
        "rows={} imported={} updated={} unchanged={} rejected={}",
        report.rows, report.imported, report.updated, report.unchanged, report.rejected
    );
    let target = format!("unit:{}", unit.code);
    let entry = Entry {
        actor_user_id: actor,
        action: "import",
        target: &target,
        reason: None,
        outcome: Outcome::Ok,
        detail: Some(&detail),
    };
    audit::record_in(&mut tx, &entry, now).await?;
    let counts = Counts {
        rows: report.rows as i64,
        imported: report.imported as i64,
        updated: report.updated as i64,
        unchanged: report.unchanged as i64,
        rejected: report.rejected as i64,
    };
    let json = serde_json::to_string(&report).expect("a report of strings and numbers serialises");
    let record = NewImport {
        unit_id: unit.id,
        actor,
        file_name: upload.file_name,
        counts,
        report: &json,
    };
    let id = imports::insert(&mut tx, cipher, &record, now).await?;
    tx.commit().await?;
    tracing::info!(unit = %unit.code, rows = report.rows, imported = report.imported, updated = report.updated, rejected = report.rejected, "people imported");
    Ok(Imported { id, report })
}

/// The full report of a recorded import.
pub async fn load_report(db: &Db, cipher: &PiiCipher, id: i64) -> Result<ImportReport, StoreError> {
    let json = imports::report(db, cipher, id).await?;
    serde_json::from_str(&json).map_err(|_| StoreError::Crypto)
}

impl ImportReport {
    /// The command line's JSON summary (see [`Summary`]).
    pub fn summary_json(&self) -> String {
        let summary = Summary {
            rows: self.rows,
            imported: self.imported,
            updated: self.updated,
            unchanged: self.unchanged,
            rejected: self.rejected,
            errors: self
                .errors
                .iter()
                .map(|e| SummaryError {
                    row: e.row,
                    field: e.field,
                    reason: &e.reason,
                })
                .collect(),
        };
        // Plain numbers and strings always serialise.
        serde_json::to_string(&summary).unwrap_or_default()
    }

    /// The rejected rows as they were, with their row number first and a reason column last
    /// (headers and reasons from the caller, so the web can hand back translated ones).
    pub fn rejected_sheet(
        &self,
        row_header: &str,
        reason_header: &str,
        reason: impl Fn(&RowError) -> String,
    ) -> Sheet {
        let mut headers: Vec<&str> = vec![row_header];
        headers.extend(self.headers.iter().map(String::as_str));
        headers.push(reason_header);
        let mut sheet = Sheet::new("rejected", &headers);
        for r in &self.rejected_rows {
            let reasons: Vec<String> = self
                .errors
                .iter()
                .filter(|e| e.row == r.row)
                .map(|e| format!("{}: {}", e.field.as_str(), reason(e)))
                .collect();
            let mut row = vec![r.row.to_string()];
            row.extend(r.cells.iter().cloned());
            row.resize(self.headers.len() + 1, String::new());
            row.push(reasons.join("; "));
            sheet.push(row);
        }
        sheet
    }
}
