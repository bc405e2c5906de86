//! Organisation admin: work groups and units created, edited and imported, and unit contacts
//! given a login scoped to their unit. Inputs are checked field by field; every change is
//! audited.

use std::collections::HashMap;

use vaxloop_core::{Phone, Role, UnitKind, WorkGroupKind, password};
use vaxloop_documents::{Limits, ReadError, RowSink, read_rows};
use vaxloop_store::audit::{self, Entry, Outcome};
use vaxloop_store::org::{self, NewUnit, NewWorkGroup, Unit, WorkGroup};
use vaxloop_store::users::{self, NewUser};
use vaxloop_store::{Db, StoreError};

pub use crate::error::Problem;

#[derive(Debug, thiserror::Error)]
pub enum OrgError {
    #[error("the input has problems")]
    Invalid(Vec<Problem>),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("hashing the password failed: {0}")]
    Hashing(String),
}

pub(crate) fn problem(field: &'static str, code: &'static str) -> Problem {
    Problem { field, code }
}

/// Codes are 2–32 letters, digits, `-` or `_`, and name things in URLs, QR links and files.
pub(crate) fn check_code(code: &str, problems: &mut Vec<Problem>) {
    let ok = (2..=32).contains(&code.len())
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !ok {
        problems.push(problem("code", "code_invalid"));
    }
}

pub(crate) fn check_name(name: &str, problems: &mut Vec<Problem>) {
    if name.trim().is_empty() {
        problems.push(problem("name", "required"));
    } else if name.chars().count() > 100 || name.chars().any(char::is_control) {
        problems.push(problem("name", "name_invalid"));
    }
}

/// A work group as typed into a form.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct GroupInput {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub leader_name: String,
}

impl GroupInput {
    pub fn parse(&self) -> Result<NewWorkGroup, Vec<Problem>> {
        let mut problems = Vec::new();
        check_code(self.code.trim(), &mut problems);
        check_name(&self.name, &mut problems);
        let kind = self
            .kind
            .parse::<WorkGroupKind>()
            .map_err(|_| problems.push(problem("kind", "kind_invalid")))
            .ok();
        match kind {
            Some(kind) if problems.is_empty() => Ok(NewWorkGroup {
                code: self.code.trim().to_string(),
                name: self.name.trim().to_string(),
                kind,
                leader_name: Some(self.leader_name.trim().to_string()).filter(|l| !l.is_empty()),
            }),
            _ => Err(problems),
        }
    }
}

/// A unit as typed into a form or a spreadsheet row.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct UnitInput {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub lat: String,
    #[serde(default)]
    pub lon: String,
    #[serde(default)]
    pub target: String,
    #[serde(default)]
    pub contact_name: String,
    #[serde(default)]
    pub contact_phone: String,
}

fn coordinate(
    text: &str,
    range: std::ops::RangeInclusive<f64>,
    field: &'static str,
    problems: &mut Vec<Problem>,
) -> Option<f64> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    match t.parse::<f64>() {
        Ok(v) if range.contains(&v) => Some(v),
        _ => {
            problems.push(problem(field, "coordinate_invalid"));
            None
        }
    }
}

impl UnitInput {
    /// Checks every field; `groups` resolves the work group by code or name.
    pub fn parse(&self, groups: &[WorkGroup]) -> Result<NewUnit, Vec<Problem>> {
        let mut problems = Vec::new();
        check_code(self.code.trim(), &mut problems);
        check_name(&self.name, &mut problems);
        let group = groups
            .iter()
            .find(|g| g.code == self.group.trim() || g.name == self.group.trim());
        if group.is_none() {
            problems.push(problem("group", "group_unknown"));
        }
        let kind = self
            .kind
            .trim()
            .parse::<UnitKind>()
            .map_err(|_| problems.push(problem("kind", "kind_invalid")))
            .ok();
        let target = match self.target.trim() {
            "" => Some(0),
            t => t
                .parse::<i64>()
                .ok()
                .filter(|n| (0..=10_000_000).contains(n))
                .or_else(|| {
                    problems.push(problem("target", "target_invalid"));
                    None
                }),
        };
        let lat = coordinate(&self.lat, -90.0..=90.0, "lat", &mut problems);
        let lon = coordinate(&self.lon, -180.0..=180.0, "lon", &mut problems);
        let phone = match self.contact_phone.trim() {
            "" => None,
            p => Phone::parse(p)
                .map(|p| p.as_str().to_string())
                .map_err(|_| problems.push(problem("contact_phone", "phone_not_mobile")))
                .ok(),
        };
        if self.address.chars().count() > 200 {
            problems.push(problem("address", "too_long"));
        }
        match (group, kind, target) {
            (Some(g), Some(kind), Some(target)) if problems.is_empty() => Ok(NewUnit {
                code: self.code.trim().to_string(),
                work_group_id: g.id,
                name: self.name.trim().to_string(),
                kind,
                address: self.address.trim().to_string(),
                lat,
                lon,
                target_headcount: target,
                contact_name: Some(self.contact_name.trim().to_string()).filter(|c| !c.is_empty()),
                contact_phone: phone,
                reg_token: new_token(),
            }),
            _ => Err(problems),
        }
    }
}

/// A fresh registration token for a unit's QR link: 20 characters, about 99 bits.
pub fn new_token() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut bytes = [0u8; 20];
    rand::fill(&mut bytes);
    bytes
        .iter()
        .map(|b| char::from(ALPHABET[*b as usize % ALPHABET.len()]))
        .collect()
}

pub(crate) async fn audited(
    db: &Db,
    actor: i64,
    action: &str,
    target: &str,
    detail: Option<&str>,
) -> Result<(), StoreError> {
    let entry = Entry {
        actor_user_id: Some(actor),
        action,
        target,
        reason: None,
        outcome: Outcome::Ok,
        detail,
    };
    audit::record(db, &entry, vaxloop_store::now_ms()).await
}

/// Creates a work group.
pub async fn create_group(db: &Db, input: &GroupInput, actor: i64) -> Result<i64, OrgError> {
    let group = input.parse().map_err(OrgError::Invalid)?;
    let mut tx = db.begin_write().await?;
    let id = match org::insert_work_group(&mut tx, &group, vaxloop_store::now_ms()).await {
        Ok(id) => id,
        Err(e) if e.is_constraint("code") => {
            return Err(OrgError::Invalid(vec![problem("code", "code_taken")]));
        }
        Err(e) => return Err(e.into()),
    };
    tx.commit().await?;
    audited(
        db,
        actor,
        "create_group",
        &format!("group:{}", group.code),
        None,
    )
    .await?;
    Ok(id)
}

/// Changes a work group (its code stays).
pub async fn update_group(
    db: &Db,
    existing: &WorkGroup,
    input: &GroupInput,
    actor: i64,
) -> Result<(), OrgError> {
    let mut input = input.clone();
    input.code = existing.code.clone();
    let group = input.parse().map_err(OrgError::Invalid)?;
    let mut tx = db.begin_write().await?;
    org::update_work_group(&mut tx, existing.id, &group).await?;
    tx.commit().await?;
    audited(
        db,
        actor,
        "update_group",
        &format!("group:{}", existing.code),
        None,
    )
    .await?;
    Ok(())
}

/// Creates a unit, with a fresh registration token.
pub async fn create_unit(
    db: &Db,
    input: &UnitInput,
    groups: &[WorkGroup],
    actor: i64,
) -> Result<i64, OrgError> {
    let unit = input.parse(groups).map_err(OrgError::Invalid)?;
    let mut tx = db.begin_write().await?;
    let id = match org::insert_unit(&mut tx, &unit, vaxloop_store::now_ms()).await {
        Ok(id) => id,
        Err(e) if e.is_constraint("code") => {
            return Err(OrgError::Invalid(vec![problem("code", "code_taken")]));
        }
        Err(e) => return Err(e.into()),
    };
    tx.commit().await?;
    audited(
        db,
        actor,
        "create_unit",
        &format!("unit:{}", unit.code),
        None,
    )
    .await?;
    Ok(id)
}

/// Changes a unit (its code and registration token stay).
pub async fn update_unit(
    db: &Db,
    existing: &Unit,
    input: &UnitInput,
    groups: &[WorkGroup],
    actor: i64,
) -> Result<(), OrgError> {
    let mut input = input.clone();
    input.code = existing.code.clone();
    let unit = input.parse(groups).map_err(OrgError::Invalid)?;
    let mut tx = db.begin_write().await?;
    org::update_unit(&mut tx, existing.id, &unit).await?;
    tx.commit().await?;
    audited(
        db,
        actor,
        "update_unit",
        &format!("unit:{}", existing.code),
        None,
    )
    .await?;
    Ok(())
}

/// A new login for a unit's contact, scoped to the unit. Returns the generated initial password,
/// shown once to whoever created it.
pub async fn create_contact_login(
    db: &Db,
    unit: &Unit,
    username: &str,
    display_name: &str,
    actor: i64,
) -> Result<String, OrgError> {
    let username = username.trim();
    let mut problems = Vec::new();
    if !(3..=40).contains(&username.len())
        || !username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    {
        problems.push(problem("username", "username_invalid"));
    }
    check_name(display_name, &mut problems);
    if !problems.is_empty() {
        return Err(OrgError::Invalid(problems));
    }
    let initial = new_token()[..12].to_string();
    let secret = initial.clone();
    let hash = tokio::task::spawn_blocking(move || password::hash(&secret))
        .await
        .map_err(|e| OrgError::Hashing(e.to_string()))?;
    let login = NewUser {
        username: Some(username.to_string()),
        display_name: display_name.trim().to_string(),
        password_hash: hash,
        role: Some(Role::UnitContact),
        unit_id: Some(unit.id),
        ..NewUser::default()
    };
    let mut tx = db.begin_write().await?;
    match users::insert(&mut tx, &login, vaxloop_store::now_ms()).await {
        Ok(_) => {}
        Err(e) if e.is_constraint("username") => {
            return Err(OrgError::Invalid(vec![problem(
                "username",
                "username_taken",
            )]));
        }
        Err(e) => return Err(e.into()),
    }
    tx.commit().await?;
    audited(
        db,
        actor,
        "create_login",
        &format!("unit:{}", unit.code),
        Some(&format!("username={username}")),
    )
    .await?;
    Ok(initial)
}

/// The outcome of importing units.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct UnitsReport {
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
    pub rejected: usize,
    pub errors: Vec<(usize, Problem)>,
}

struct UnitRows<'a> {
    groups: &'a [WorkGroup],
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

impl RowSink for UnitRows<'_> {
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
        match input.parse(self.groups) {
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

/// Creates or updates units from a spreadsheet (columns 单位编码/code, 单位名称/name, 类型/kind,
/// 工作组/group, and optionally 地址/address, 目标人数/target, 联络员/contact, 联系电话/phone,
/// 纬度/lat, 经度/lon), keyed by code, in one transaction.
pub async fn import_units(
    db: &Db,
    bytes: &[u8],
    actor: i64,
) -> Result<UnitsReport, UnitsImportError> {
    let groups = org::work_groups(db).await?;
    let mut sink = UnitRows {
        groups: &groups,
        columns: HashMap::new(),
        valid: Vec::new(),
        report: UnitsReport::default(),
        missing: vec![],
    };
    if let Err(e) = read_rows(
        bytes,
        &Limits {
            max_rows: 10_000,
            ..Limits::default()
        },
        &mut sink,
    ) {
        return Err(if sink.missing.is_empty() {
            UnitsImportError::Read(e)
        } else {
            UnitsImportError::MissingColumns(sink.missing)
        });
    }
    let mut report = sink.report;
    let now = vaxloop_store::now_ms();
    let mut tx = db.begin_write().await?;
    for (_, unit) in &sink.valid {
        match org::unit_id_by_code(&mut tx, &unit.code).await? {
            Some(id) => {
                org::update_unit(&mut tx, id, unit).await?;
                report.updated += 1;
            }
            None => {
                org::insert_unit(&mut tx, unit, now).await?;
                report.created += 1;
            }
        }
    }
    let detail = format!(
        "rows={} created={} updated={} rejected={}",
        report.rows, report.created, report.updated, report.rejected
    );
    let entry = Entry {
        actor_user_id: Some(actor),
        action: "import_units",
        target: "units",
        reason: None,
        outcome: Outcome::Ok,
        detail: Some(&detail),
    };
    audit::record_in(&mut tx, &entry, now).await?;
    tx.commit().await?;
    Ok(report)
}

#[derive(Debug, thiserror::Error)]
pub enum UnitsImportError {
    #[error("{0}")]
    Read(ReadError),
    #[error("the file has no column for {}", .0.join(", "))]
    MissingColumns(Vec<&'static str>),
    #[error(transparent)]
    Store(#[from] StoreError),
}
