//! The closed-loop funnel, unit by unit: target → registered (by source) → booked → arrived →
//! vaccinated → series complete, counted from what happened (appointments, visits, dose
//! records), so a person deferred or missed and booked again is neither lost nor counted twice;
//! and the people stuck in a journey state longer than expected.

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
    /// Booked for dose 1 (an appointment neither cancelled nor moved away).
    pub booked: i64,
    /// Checked in at a site for dose 1.
    pub arrived: i64,
    /// Given dose 1.
    pub vaccinated: i64,
    /// Given every dose of their vaccine's series.
    pub complete: i64,
}

impl UnitFunnel {
    pub fn registered(&self) -> i64 {
        self.by_qr + self.by_import + self.by_desk
    }
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
    // Each later stage: one grouped count per unit, of distinct people.
    let stages = [
        "SELECT p.unit_id, COUNT(DISTINCT a.person_id) FROM appointments a JOIN people p ON p.id = a.person_id \
         JOIN units u ON u.id = p.unit_id WHERE a.dose_number = 1 AND a.status <> 'cancelled' \
           AND ($1 IS NULL OR u.work_group_id = $1) GROUP BY p.unit_id",
        "SELECT p.unit_id, COUNT(DISTINCT v.person_id) FROM visits v JOIN people p ON p.id = v.person_id \
         JOIN units u ON u.id = p.unit_id WHERE v.dose_number = 1 AND ($1 IS NULL OR u.work_group_id = $1) \
         GROUP BY p.unit_id",
        "SELECT p.unit_id, COUNT(*) FROM dose_records d JOIN people p ON p.id = d.person_id \
         JOIN units u ON u.id = p.unit_id WHERE d.dose_number = 1 AND ($1 IS NULL OR u.work_group_id = $1) \
         GROUP BY p.unit_id",
        "SELECT p.unit_id, COUNT(*) FROM ( \
            SELECT d.person_id FROM dose_records d JOIN vaccines x ON x.id = d.vaccine_id \
            GROUP BY d.person_id, x.doses_in_series HAVING COUNT(DISTINCT d.dose_number) >= x.doses_in_series \
         ) c JOIN people p ON p.id = c.person_id JOIN units u ON u.id = p.unit_id \
         WHERE ($1 IS NULL OR u.work_group_id = $1) GROUP BY p.unit_id",
    ];
    for (stage, sql) in stages.iter().enumerate() {
        let rows = sqlx::query(*sql).bind(group).fetch_all(db.pool()).await?;
        for r in &rows {
            let Some(&i) = index.get(&r.try_get::<i64, _>(0)?) else {
                continue;
            };
            let n: i64 = r.try_get(1)?;
            let f = &mut out[i];
            match stage {
                0 => f.booked = n,
                1 => f.arrived = n,
                2 => f.vaccinated = n,
                _ => f.complete = n,
            }
        }
    }
    Ok(out)
}

/// How long a journey may stand in a state before somebody should look: `(state, minutes)`.
/// Waiting for the desk a week; at the site a few hours; in observation two hours.
pub const EXPECTED_MINUTES: &[(JourneyState, i64)] = &[
    (JourneyState::Registered, 7 * 24 * 60),
    (JourneyState::NoShow, 7 * 24 * 60),
    (JourneyState::Cancelled, 7 * 24 * 60),
    (JourneyState::CheckedIn, 3 * 60),
    (JourneyState::Screened, 3 * 60),
    (JourneyState::Observing, 2 * 60),
    (JourneyState::Deferred, 60 * 24 * 60),
];

/// Someone stuck: in a state longer than expected, or booked for a day gone by.
#[derive(Debug, Clone, PartialEq)]
pub struct Stuck {
    pub person_id: i64,
    pub name: String,
    pub id_masked: String,
    pub unit_code: String,
    pub unit_name: String,
    pub dose: i64,
    pub state: JourneyState,
    /// Since when (milliseconds).
    pub since: i64,
}

/// The people stuck, for one work group or all, the longest stuck first, at most `limit`, and
/// how many there are in all. `today` (`YYYY-MM-DD`) finds the people still booked for a day
/// gone by (the no-show sweep has not reached them).
pub async fn stuck(
    db: &Db,
    group: Option<i64>,
    now: i64,
    today: &str,
    limit: i64,
) -> StoreResult<(Vec<Stuck>, i64)> {
    let mut cases = Vec::new();
    for (state, minutes) in EXPECTED_MINUTES {
        cases.push(format!(
            "(j.state = '{}' AND j.updated_at < {})",
            state,
            now - minutes * 60_000
        ));
    }
    let condition = format!(
        "({} OR (j.state = 'booked' AND NOT EXISTS (SELECT 1 FROM appointments a JOIN slots s ON s.id = a.slot_id \
           WHERE a.person_id = j.person_id AND a.dose_number = j.dose_number AND a.status = 'active' AND s.day >= $2)))",
        cases.join(" OR ")
    );
    let from = format!(
        "FROM journeys j JOIN people p ON p.id = j.person_id JOIN units u ON u.id = p.unit_id \
         WHERE ($1 IS NULL OR u.work_group_id = $1) AND {condition}"
    );
    let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT CAST(COUNT(*) AS BIGINT) {from}"
    )))
    .bind(group)
    .bind(today)
    .fetch_one(db.pool())
    .await?;
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT j.person_id, p.name, p.id_masked, u.code, u.name, j.dose_number, j.state, j.updated_at \
         {from} ORDER BY j.updated_at, j.person_id LIMIT $3"
    )))
    .bind(group)
    .bind(today)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    let list = rows
        .iter()
        .map(|r| {
            Ok(Stuck {
                person_id: r.try_get(0)?,
                name: r.try_get(1)?,
                id_masked: r.try_get(2)?,
                unit_code: r.try_get(3)?,
                unit_name: r.try_get(4)?,
                dose: r.try_get(5)?,
                state: r.try_get::<String, _>(6)?.parse().map_err(decode_err)?,
                since: r.try_get(7)?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    Ok((list, total))
}
