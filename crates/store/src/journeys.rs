//! Journeys: each person's progress per dose, as an append-only event history and a materialised
//! current state (DESIGN.md, "The loop, and the one table behind it").

use sqlx::{AnyConnection, Row};
use vaxloop_core::JourneyState;

use crate::db::Db;
use crate::error::StoreResult;
use crate::org::decode_err;

/// Opens a dose-1 journey in state `registered`, with its event, for every confirmed person who
/// has none yet — whether they registered by QR code or arrived on their unit's roster. Set-based,
/// so a whole import or demo town costs two statements; running it again changes nothing. `unit`
/// limits it to one unit's people.
pub async fn open_for_registered(
    conn: &mut AnyConnection,
    unit: Option<i64>,
    now: i64,
) -> StoreResult<u64> {
    sqlx::query(
        "INSERT INTO journey_events (person_id, dose_number, state, at) \
         SELECT p.id, 1, 'registered', COALESCE(p.consent_at, $1) FROM people p \
         WHERE p.status = 'confirmed' AND ($2 IS NULL OR p.unit_id = $2) \
           AND NOT EXISTS (SELECT 1 FROM journeys j WHERE j.person_id = p.id AND j.dose_number = 1)",
    )
    .bind(now)
    .bind(unit)
    .execute(&mut *conn)
    .await?;
    let done = sqlx::query(
        "INSERT INTO journeys (person_id, dose_number, state, updated_at) \
         SELECT p.id, 1, 'registered', $1 FROM people p \
         WHERE p.status = 'confirmed' AND ($2 IS NULL OR p.unit_id = $2) \
           AND NOT EXISTS (SELECT 1 FROM journeys j WHERE j.person_id = p.id AND j.dose_number = 1)",
    )
    .bind(now)
    .bind(unit)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
}

/// How many journeys stand in each state, optionally for one work group or one unit.
pub async fn state_counts(
    db: &Db,
    group: Option<i64>,
    unit: Option<i64>,
) -> StoreResult<Vec<(JourneyState, i64)>> {
    let rows = sqlx::query(
        "SELECT j.state, COUNT(*) FROM journeys j \
         JOIN people p ON p.id = j.person_id JOIN units u ON u.id = p.unit_id \
         WHERE ($1 IS NULL OR u.work_group_id = $1) AND ($2 IS NULL OR u.id = $2) \
         GROUP BY j.state",
    )
    .bind(group)
    .bind(unit)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get::<String, _>(0)?.parse().map_err(decode_err)?,
                r.try_get(1)?,
            ))
        })
        .collect()
}

/// A person's journeys: `(dose number, state, last change)`, by dose.
pub async fn of_person(db: &Db, person_id: i64) -> StoreResult<Vec<(i64, JourneyState, i64)>> {
    let rows = sqlx::query(
        "SELECT dose_number, state, updated_at FROM journeys WHERE person_id = $1 ORDER BY dose_number",
    )
    .bind(person_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get(0)?,
                r.try_get::<String, _>(1)?.parse().map_err(decode_err)?,
                r.try_get(2)?,
            ))
        })
        .collect()
}

/// The units with the most people waiting to be booked — registered and not yet booked, or
/// back after a cancelled or missed appointment: `(code, name, people)`.
pub async fn waiting_by_unit(db: &Db, limit: i64) -> StoreResult<Vec<(String, String, i64)>> {
    let rows = sqlx::query(
        "SELECT u.code, u.name, COUNT(*) AS waiting FROM journeys j \
         JOIN people p ON p.id = j.person_id JOIN units u ON u.id = p.unit_id \
         WHERE j.state IN ('registered', 'no_show', 'cancelled') GROUP BY u.id, u.code, u.name \
         ORDER BY waiting DESC, u.code LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
        .collect()
}

/// Opens one person's dose-1 journey in state `registered` (once: a second call changes nothing).
pub async fn open_for_person(
    conn: &mut AnyConnection,
    person_id: i64,
    now: i64,
) -> StoreResult<()> {
    open_dose(conn, person_id, 1, now).await
}

/// Opens a person's journey for a dose in state `registered`, once.
pub async fn open_dose(
    conn: &mut AnyConnection,
    person_id: i64,
    dose: i64,
    now: i64,
) -> StoreResult<()> {
    let done = sqlx::query(
        "INSERT INTO journeys (person_id, dose_number, state, updated_at) VALUES ($1, $2, 'registered', $3) \
         ON CONFLICT (person_id, dose_number) DO NOTHING",
    )
    .bind(person_id)
    .bind(dose)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 1 {
        sqlx::query("INSERT INTO journey_events (person_id, dose_number, state, at) VALUES ($1, $2, 'registered', $3)")
            .bind(person_id)
            .bind(dose)
            .bind(now)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// When a person was vaccinated with a dose, if they were.
pub async fn vaccinated_at(db: &Db, person_id: i64, dose: i64) -> StoreResult<Option<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT MAX(at) FROM journey_events WHERE person_id = $1 AND dose_number = $2 AND state = 'vaccinated'",
    )
    .bind(person_id)
    .bind(dose)
    .fetch_one(db.pool())
    .await?)
}

/// Up to `limit` people of a unit whose journey for `dose` is open and not yet booked, oldest
/// registration first: the team the desk books next.
pub async fn waiting_of_unit(
    db: &Db,
    unit_id: i64,
    dose: i64,
    limit: i64,
) -> StoreResult<Vec<i64>> {
    let rows = sqlx::query(
        "SELECT j.person_id FROM journeys j JOIN people p ON p.id = j.person_id \
         WHERE p.unit_id = $1 AND j.dose_number = $2 AND j.state IN ('registered', 'no_show', 'cancelled') \
         ORDER BY j.person_id LIMIT $3",
    )
    .bind(unit_id)
    .bind(dose)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
}

/// A step of a person's journey at a site: the state reached, when, where, by whom and why.
#[derive(Debug, Clone, Copy)]
pub struct SiteEvent<'a> {
    pub person: i64,
    pub dose: i64,
    pub state: &'a str,
    pub at: i64,
    pub site: i64,
    pub actor: Option<i64>,
    pub detail: Option<&'a str>,
}

/// Appends the event to the journey's history, on the caller's transaction.
pub async fn record_in(conn: &mut AnyConnection, e: &SiteEvent<'_>) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO journey_events (person_id, dose_number, state, at, site_id, actor_user_id, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(e.person)
    .bind(e.dose)
    .bind(e.state)
    .bind(e.at)
    .bind(e.site)
    .bind(e.actor)
    .bind(e.detail)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Moves the journey to the event's state when it stands in one of `from` (any state when
/// `from` is empty), and appends the event either way, on the caller's transaction.
pub async fn advance_in(
    conn: &mut AnyConnection,
    e: &SiteEvent<'_>,
    from: &[&str],
) -> StoreResult<()> {
    let only = if from.is_empty() {
        String::new()
    } else {
        let list: Vec<String> = from.iter().map(|s| format!("'{s}'")).collect();
        format!(" AND state IN ({})", list.join(", "))
    };
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE journeys SET state = $3, updated_at = $4 WHERE person_id = $1 AND dose_number = $2{only}"
    )))
    .bind(e.person)
    .bind(e.dose)
    .bind(e.state)
    .bind(e.at)
    .execute(&mut *conn)
    .await?;
    record_in(conn, e).await
}

/// One step of a journey at a site, as the simulator's calibration reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepAt {
    pub person: i64,
    pub dose: i64,
    pub state: String,
    /// Milliseconds since the epoch.
    pub at: i64,
    pub actor: Option<i64>,
}

/// The steps taken at a site from `from` to before `until` (milliseconds) — check-ins,
/// screenings, doses and releases — in time order, at most `limit` of the latest.
pub async fn site_steps(
    db: &Db,
    site: i64,
    from: i64,
    until: i64,
    limit: i64,
) -> StoreResult<Vec<StepAt>> {
    let rows = sqlx::query(
        "SELECT person_id, dose_number, state, at, actor_user_id FROM journey_events \
         WHERE site_id = $1 AND at >= $2 AND at < $3 \
           AND state IN ('checked_in', 'screened', 'deferred', 'vaccinated', 'observing', 'released') \
         ORDER BY at DESC, id DESC LIMIT $4",
    )
    .bind(site)
    .bind(from)
    .bind(until)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    let mut steps = rows
        .iter()
        .map(|r| {
            Ok(StepAt {
                person: r.try_get(0)?,
                dose: r.try_get(1)?,
                state: r.try_get(2)?,
                at: r.try_get(3)?,
                actor: r.try_get(4)?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    steps.reverse();
    Ok(steps)
}
