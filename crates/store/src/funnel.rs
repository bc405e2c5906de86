//! The closed-loop funnel, unit by unit: target → registered (by source) → booked → vaccinated.
//! Later stages come from the journeys' states, so they fill in as the loop's later parts land.

use std::collections::HashMap;

use sqlx::Row;
use vaxloop_core::{JourneyState, Source, UnitKind};

use crate::db::Db;
use crate::error::StoreResult;
use crate::org::decode_err;

/// One unit's funnel.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UnitFunnel {
    pub unit_id: i64,
    pub code: String,
    pub name: String,
    pub kind: Option<UnitKind>,
    pub work_group_id: i64,
    pub target: i64,
    /// Confirmed registrations by how they came.
    pub by_qr: i64,
    pub by_import: i64,
    pub by_desk: i64,
    /// QR registrations waiting for the unit contact.
    pub pending: i64,
    /// Reached booking (or any later state) for dose 1.
    pub booked: i64,
    /// Reached vaccination (or any later state) for dose 1.
    pub vaccinated: i64,
}

impl UnitFunnel {
    pub fn registered(&self) -> i64 {
        self.by_qr + self.by_import + self.by_desk
    }
}

/// States at or past booking, and at or past vaccination.
fn booked_or_later(s: JourneyState) -> bool {
    !matches!(
        s,
        JourneyState::Registered | JourneyState::Cancelled | JourneyState::Declined
    )
}

fn vaccinated_or_later(s: JourneyState) -> bool {
    matches!(
        s,
        JourneyState::Vaccinated
            | JourneyState::Observing
            | JourneyState::Released
            | JourneyState::Aefi
    )
}

/// Every unit's funnel, for one work group or all, ordered by unit code. Three grouped queries,
/// whatever the number of units.
pub async fn by_unit(db: &Db, group: Option<i64>) -> StoreResult<Vec<UnitFunnel>> {
    let units = sqlx::query(
        "SELECT id, code, name, kind, work_group_id, target_headcount FROM units \
         WHERE ($1 IS NULL OR work_group_id = $1) ORDER BY code",
    )
    .bind(group)
    .fetch_all(db.pool())
    .await?;
    let mut out: Vec<UnitFunnel> = Vec::with_capacity(units.len());
    let mut index: HashMap<i64, usize> = HashMap::new();
    for r in &units {
        let unit_id: i64 = r.try_get(0)?;
        index.insert(unit_id, out.len());
        out.push(UnitFunnel {
            unit_id,
            code: r.try_get(1)?,
            name: r.try_get(2)?,
            kind: r.try_get::<String, _>(3)?.parse().ok(),
            work_group_id: r.try_get(4)?,
            target: r.try_get(5)?,
            ..UnitFunnel::default()
        });
    }
    let people = sqlx::query(
        "SELECT p.unit_id, p.source, p.status, COUNT(*) FROM people p JOIN units u ON u.id = p.unit_id \
         WHERE ($1 IS NULL OR u.work_group_id = $1) GROUP BY p.unit_id, p.source, p.status",
    )
    .bind(group)
    .fetch_all(db.pool())
    .await?;
    for r in &people {
        let Some(&i) = index.get(&r.try_get::<i64, _>(0)?) else {
            continue;
        };
        let source: Source = r.try_get::<String, _>(1)?.parse().map_err(decode_err)?;
        let confirmed = r.try_get::<String, _>(2)? == "confirmed";
        let n: i64 = r.try_get(3)?;
        let f = &mut out[i];
        match (confirmed, source) {
            (false, _) => f.pending += n,
            (true, Source::Qr) => f.by_qr += n,
            (true, Source::Import) => f.by_import += n,
            (true, Source::Desk) => f.by_desk += n,
        }
    }
    let states = sqlx::query(
        "SELECT p.unit_id, j.state, COUNT(*) FROM journeys j JOIN people p ON p.id = j.person_id \
         JOIN units u ON u.id = p.unit_id WHERE j.dose_number = 1 AND ($1 IS NULL OR u.work_group_id = $1) \
         GROUP BY p.unit_id, j.state",
    )
    .bind(group)
    .fetch_all(db.pool())
    .await?;
    for r in &states {
        let Some(&i) = index.get(&r.try_get::<i64, _>(0)?) else {
            continue;
        };
        let state: JourneyState = r.try_get::<String, _>(1)?.parse().map_err(decode_err)?;
        let n: i64 = r.try_get(2)?;
        if booked_or_later(state) {
            out[i].booked += n;
        }
        if vaccinated_or_later(state) {
            out[i].vaccinated += n;
        }
    }
    Ok(out)
}
