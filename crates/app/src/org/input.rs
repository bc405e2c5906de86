//! Work groups and units as typed into a form, a spreadsheet row or a JSON body, each field
//! checked and named when it is wrong.

use vaxloop_core::{Phone, UnitKind, WorkGroupKind};
use vaxloop_store::org::{NewUnit, NewWorkGroup, WorkGroup};

use crate::error::{Problem, problem};

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
