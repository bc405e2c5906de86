//! Units imported from a spreadsheet, created or updated by code, in one transaction with one
//! audit row; every rejected row named by row, field and reason.

use std::collections::HashMap;

use vaxloop_core::Role;
use vaxloop_documents::{Limits, ReadError, RowSink};
use vaxloop_store::org::{self, NewUnit, WorkGroup};

use super::input::UnitInput;
use crate::audit::{self, Act};
use crate::error::{Problem, Result};
use crate::{App, Caller, scope};

/// The outcome of importing units.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct UnitsReport {
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
    pub rejected: usize,
    pub errors: Vec<(usize, Problem)>,
}

struct UnitRows {
    groups: Vec<WorkGroup>,
    columns: HashMap<&'static str, usize>,
    valid: Vec<(usize, NewUnit)>,
    report: UnitsReport,
    missing: Vec<&'static str>,
}

fn unit_column(header: &str) -> Option<&'static str> {
    let h: String = header
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '*' && *c != '_')
        .flat_map(char::to_lowercase)
        .collect();
    Some(match h.as_str() {
        "单位编码" | "编码" | "code" => "code",
        "单位名称" | "名称" | "单位" | "name" => "name",
        "类型" | "单位类型" | "kind" | "type" => "kind",
        "工作组" | "所属工作组" | "group" | "workgroup" => "group",
        "地址" | "address" => "address",
        "纬度" | "lat" | "latitude" => "lat",
        "经度" | "lon" | "lng" | "longitude" => "lon",
        "目标人数" | "应接种人数" | "target" | "targetheadcount" => "target",
        "联络员" | "联系人" | "contact" | "contactname" => "contact_name",
        "联系电话" | "联络员电话" | "contactphone" | "phone" => "contact_phone",
        _ => return None,
    })
}

impl RowSink for UnitRows {
    fn header(&mut self, cells: &[&str]) -> Result<(), ReadError> {
        for (i, c) in cells.iter().enumerate() {
            if let Some(col) = unit_column(c) {
                self.columns.entry(col).or_insert(i);
            }
        }
        self.missing = ["code", "name", "kind", "group"]
            .into_iter()
            .filter(|c| !self.columns.contains_key(c))
            .collect();
        if self.missing.is_empty() {
            Ok(())
        } else {
            Err(ReadError::Rejected("missing columns".into()))
        }
    }

    fn row(&mut self, number: usize, cells: &[&str]) -> Result<(), ReadError> {
        self.report.rows += 1;
        let get = |col: &str| {
            self.columns
                .get(col)
                .and_then(|&i| cells.get(i))
                .map(|c| c.trim().to_string())
                .unwrap_or_default()
        };
        let input = UnitInput {
            code: get("code"),
            group: get("group"),
            name: get("name"),
            kind: get("kind"),
            address: get("address"),
            lat: get("lat"),
            lon: get("lon"),
            target: get("target"),
            contact_name: get("contact_name"),
            contact_phone: get("contact_phone"),
        };
        match input.parse(&self.groups) {
            Ok(unit) => self.valid.push((number, unit)),
            Err(problems) => {
                self.report.rejected += 1;
                self.report
                    .errors
                    .extend(problems.into_iter().map(|p| (number, p)));
            }
        }
        Ok(())
    }
}

/// Why a spreadsheet of units was not read.
#[derive(Debug, thiserror::Error)]
pub enum UnitsImportError {
    #[error("{0}")]
    Read(ReadError),
    #[error("the file has no column for {}", .0.join(", "))]
    MissingColumns(Vec<&'static str>),
}

/// Creates or updates units from a spreadsheet (columns 单位编码/code, 单位名称/name, 类型/kind,
/// 工作组/group, and optionally 地址/address, 目标人数/target, 联络员/contact, 联系电话/phone,
/// 纬度/lat, 经度/lon), keyed by code, in one transaction with its audit row, read within
/// `limits` (at most 10,000 rows). The admin's.
pub async fn import_units(
    app: &App,
    caller: &Caller,
    bytes: &[u8],
    limits: &Limits,
) -> Result<Result<UnitsReport, UnitsImportError>> {
    scope::require(app, caller, &[Role::Admin]).await?;
    let groups = org::work_groups(app.db()).await?;
    let sink = UnitRows {
        groups,
        columns: HashMap::new(),
        valid: Vec::new(),
        report: UnitsReport::default(),
        missing: vec![],
    };
    // A town's units, not its people: ten thousand rows is plenty.
    let limits = Limits {
        max_rows: limits.max_rows.min(10_000),
        ..*limits
    };
    let (sink, read) = match crate::import::read_apart(bytes, &limits, sink).await {
        Ok(done) => done,
        Err(e) => return Ok(Err(UnitsImportError::Read(e))),
    };
    if let Err(e) = read {
        return Ok(Err(if sink.missing.is_empty() {
            UnitsImportError::Read(e)
        } else {
            UnitsImportError::MissingColumns(sink.missing)
        }));
    }
    let mut report = sink.report;
    let now = vaxloop_store::now_ms();
    let mut tx = app.db().begin_write().await?;
    for (_, unit) in &sink.valid {
        match org::unit_id_by_code(&mut tx, &unit.code).await? {
            Some(id) => {
                org::update_unit(&mut tx, app.cipher(), id, unit).await?;
                report.updated += 1;
            }
            None => {
                org::insert_unit(&mut tx, app.cipher(), unit, now).await?;
                report.created += 1;
            }
        }
    }
    let detail = format!(
        "rows={} created={} updated={} rejected={}",
        report.rows, report.created, report.updated, report.rejected
    );
    audit::write(
        &mut tx,
        caller,
        Act::new("import_units", "units").detail(&detail),
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(report))
}
