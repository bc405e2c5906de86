//! Visits (migration 0008): a person's passage through a site for one appointment, from
//! check-in on. One per appointment, enforced by the schema: however many scans arrive, and
//! from however many desks, one check-in is recorded and every scan is answered with it.

use sqlx::{AnyConnection, Row};

use crate::db::Db;
use crate::error::StoreResult;

/// An active appointment of a person, with where and when, and its team if it has one.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonAppointment {
    pub appointment_id: i64,
    pub dose_number: i64,
    pub site_id: i64,
    pub site_name: String,
    pub day: String,
    pub starts_min: i64,
    pub ends_min: i64,
    /// `(code, colour, number)` of the team it was booked with.
    pub team: Option<(String, i64, i64)>,
}

/// A person's active appointments, by day and time.
pub async fn active_of_person(db: &Db, person_id: i64) -> StoreResult<Vec<PersonAppointment>> {
    let rows = sqlx::query(
        "SELECT a.id, a.dose_number, s.site_id, si.name, s.day, s.starts_min, s.ends_min, \
                t.code, t.colour, t.number \
         FROM appointments a JOIN slots s ON s.id = a.slot_id JOIN sites si ON si.id = s.site_id \
         LEFT JOIN teams t ON t.id = a.team_id \
         WHERE a.person_id = $1 AND a.status = 'active' ORDER BY s.day, s.starts_min",
    )
    .bind(person_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            let code: Option<String> = r.try_get(7)?;
            let team = match code {
                Some(code) => Some((code, r.try_get(8)?, r.try_get(9)?)),
                None => None,
            };
            Ok(PersonAppointment {
                appointment_id: r.try_get(0)?,
                dose_number: r.try_get(1)?,
                site_id: r.try_get(2)?,
                site_name: r.try_get(3)?,
                day: r.try_get(4)?,
                starts_min: r.try_get(5)?,
                ends_min: r.try_get(6)?,
                team,
            })
        })
        .collect()
}

/// A visit as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Visit {
    pub id: i64,
    pub appointment_id: i64,
    pub person_id: i64,
    pub dose_number: i64,
    pub site_id: i64,
    pub day: String,
    pub green: bool,
    pub stage: String,
    pub checked_in_at: i64,
    pub checked_in_by: Option<i64>,
}

const VISIT: &str = "SELECT id, appointment_id, person_id, dose_number, site_id, day, green, stage, \
     checked_in_at, checked_in_by FROM visits";

fn visit(r: &sqlx::any::AnyRow) -> StoreResult<Visit> {
    let green: i64 = r.try_get(6)?;
    Ok(Visit {
        id: r.try_get(0)?,
        appointment_id: r.try_get(1)?,
        person_id: r.try_get(2)?,
        dose_number: r.try_get(3)?,
        site_id: r.try_get(4)?,
        day: r.try_get(5)?,
        green: green != 0,
        stage: r.try_get(7)?,
        checked_in_at: r.try_get(8)?,
        checked_in_by: r.try_get(9)?,
    })
}

/// The visit of an appointment, if it was checked in.
pub async fn of_appointment(db: &Db, appointment_id: i64) -> StoreResult<Option<Visit>> {
    let sql = format!("{VISIT} WHERE appointment_id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(appointment_id)
        .fetch_optional(db.pool())
        .await?;
    row.as_ref().map(visit).transpose()
}

/// What a check-in found.
#[derive(Debug, Clone, PartialEq)]
pub enum CheckedIn {
    /// Checked in now.
    Now(Visit),
    /// Checked in before (another scan, another desk): that visit, unchanged.
    Before(Visit),
    /// The appointment is no longer active (cancelled or moved meanwhile).
    NotActive,
}

/// Checks in the person of an active appointment at its site, on the caller's transaction: the visit is
/// recorded (once — a second check-in finds the first), the journey moves to `checked_in` and
/// the event is kept.
pub async fn check_in_in(
    tx: &mut AnyConnection,
    appointment: &PersonAppointment,
    green: bool,
    actor: Option<i64>,
    now: i64,
) -> StoreResult<CheckedIn> {
    let inserted = sqlx::query(
        "INSERT INTO visits (appointment_id, person_id, dose_number, site_id, day, green, \
                             checked_in_at, checked_in_by) \
         SELECT a.id, a.person_id, a.dose_number, $2, $3, $4, $5, $6 FROM appointments a \
         WHERE a.id = $1 AND a.status = 'active' \
         ON CONFLICT (appointment_id) DO NOTHING",
    )
    .bind(appointment.appointment_id)
    .bind(appointment.site_id)
    .bind(&appointment.day)
    .bind(i64::from(green))
    .bind(now)
    .bind(actor)
    .execute(&mut *tx)
    .await?;
    let sql = format!("{VISIT} WHERE appointment_id = $1");
    let found = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(appointment.appointment_id)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(found) = found.as_ref().map(visit).transpose()? else {
        return Ok(CheckedIn::NotActive);
    };
    if inserted.rows_affected() == 0 {
        return Ok(CheckedIn::Before(found));
    }
    let e = crate::journeys::SiteEvent {
        person: found.person_id,
        dose: found.dose_number,
        state: "checked_in",
        at: now,
        site: found.site_id,
        actor,
        detail: None,
    };
    crate::journeys::advance_in(tx, &e, &["booked"]).await?;
    Ok(CheckedIn::Now(found))
}

/// One visit, with the vaccine of its appointment.
pub async fn by_id(db: &Db, id: i64) -> StoreResult<Option<(Visit, i64)>> {
    let row = sqlx::query(
        "SELECT v.id, v.appointment_id, v.person_id, v.dose_number, v.site_id, v.day, v.green, \
                v.stage, v.checked_in_at, v.checked_in_by, a.vaccine_id \
         FROM visits v JOIN appointments a ON a.id = v.appointment_id WHERE v.id = $1",
    )
    .bind(id)
    .fetch_optional(db.pool())
    .await?;
    match row {
        Some(r) => Ok(Some((visit(&r)?, r.try_get(10)?))),
        None => Ok(None),
    }
}

/// A visit waiting at a station, with who it is (masked).
#[derive(Debug, Clone, PartialEq)]
pub struct Waiting {
    pub visit: Visit,
    pub name: String,
    pub id_masked: String,
}

/// The visits of a site-day at these stages: the green channel first, then in order of
/// check-in.
pub async fn queue(db: &Db, site_id: i64, day: &str, stages: &[&str]) -> StoreResult<Vec<Waiting>> {
    if stages.is_empty() {
        return Ok(Vec::new());
    }
    let list: Vec<String> = (3..stages.len() + 3).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT v.id, v.appointment_id, v.person_id, v.dose_number, v.site_id, v.day, v.green, \
                v.stage, v.checked_in_at, v.checked_in_by, p.name, p.id_masked \
         FROM visits v JOIN people p ON p.id = v.person_id \
         WHERE v.site_id = $1 AND v.day = $2 AND v.stage IN ({}) \
         ORDER BY v.green DESC, v.checked_in_at, v.id",
        list.join(", ")
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(site_id)
        .bind(day);
    for s in stages {
        q = q.bind(*s);
    }
    let rows = q.fetch_all(db.pool()).await?;
    rows.iter()
        .map(|r| {
            Ok(Waiting {
                visit: visit(r)?,
                name: r.try_get(10)?,
                id_masked: r.try_get(11)?,
            })
        })
        .collect()
}
