//! What the team planner reads from live data: the people still waiting for a first-dose
//! appointment, by unit; every open slot's free places and each site-day's free doses over the
//! planning days; which units each site serves; the shuttle pool.

use std::collections::BTreeMap;

use sqlx::{AnyConnection, Row};

use crate::db::Db;
use crate::error::StoreResult;

/// A unit with people registered and not yet booked for their first dose.
#[derive(Debug, Clone, PartialEq)]
pub struct WaitingUnit {
    pub unit_id: i64,
    pub code: String,
    pub kind: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// How many wait.
    pub people: usize,
    /// Of them, how many go through the green channel.
    pub green: usize,
}

/// Who waits for a first-dose appointment: registered, or booked and then cancelled, or booked
/// and not come — each waits to be booked (again).
const WAITING: &str = "FROM journeys j JOIN people p ON p.id = j.person_id \
     WHERE j.dose_number = 1 AND j.state IN ('registered', 'no_show', 'cancelled')";

/// A person is in the green channel when marked disabled or born on or before the day bound
/// as `$1` (YYYY-MM-DD).
const GREEN: &str = "CASE WHEN p.disabled <> 0 OR p.birth_date <= $1 THEN 1 ELSE 0 END";

/// Units with people waiting for a first-dose appointment, by unit id, counted (the planner
/// needs no more; [`waiting_people`] names them when a plan is published). A person is in the
/// green channel when marked disabled or born on or before `elderly_born_by` (YYYY-MM-DD).
pub async fn waiting(db: &Db, elderly_born_by: &str) -> StoreResult<Vec<WaitingUnit>> {
    let sql = format!(
        "SELECT u.id, u.code, u.kind, u.lat, u.lon, \
                CAST(COUNT(*) AS BIGINT) AS people, CAST(SUM({GREEN}) AS BIGINT) AS green \
         FROM units u JOIN (SELECT p.unit_id, p.disabled, p.birth_date {WAITING}) p ON p.unit_id = u.id \
         GROUP BY u.id, u.code, u.kind, u.lat, u.lon ORDER BY u.id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(elderly_born_by)
        .fetch_all(db.pool())
        .await?;
    let count = |row: &sqlx::any::AnyRow, name: &str| -> StoreResult<usize> {
        Ok(usize::try_from(row.try_get::<i64, _>(name)?).unwrap_or(0))
    };
    rows.iter()
        .map(|row| {
            Ok(WaitingUnit {
                unit_id: row.try_get("id")?,
                code: row.try_get("code")?,
                kind: row.try_get("kind")?,
                lat: row.try_get("lat")?,
                lon: row.try_get("lon")?,
                people: count(row, "people")?,
                green: count(row, "green")?,
            })
        })
        .collect()
}

/// The first `limit` people of unit `unit_id` waiting for a first-dose appointment (as
/// [`waiting`] counts them), in the order the planner's teams take them: the green channel
/// first, then by id.
pub async fn waiting_people(
    db: &Db,
    unit_id: i64,
    elderly_born_by: &str,
    limit: usize,
) -> StoreResult<Vec<i64>> {
    let sql = format!(
        "SELECT p.id FROM people p JOIN journeys j ON j.person_id = p.id AND j.dose_number = 1 \
         WHERE p.unit_id = $2 AND j.state IN ('registered', 'no_show', 'cancelled') \
         ORDER BY {GREEN} DESC, p.id LIMIT $3"
    );
    Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(elderly_born_by)
        .bind(unit_id)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(db.pool())
        .await?)
}

/// A slot as the planner sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct FreeSlot {
    pub slot_id: i64,
    pub starts_min: i64,
    pub ends_min: i64,
    /// Places not yet booked.
    pub free: i64,
    /// Places booked.
    pub booked: i64,
}

/// A site with its open slots and free doses over the planning days.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanningSite {
    pub site_id: i64,
    pub code: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// Per day (YYYY-MM-DD): free doses and the day's slots by start.
    pub days: BTreeMap<String, (i64, Vec<FreeSlot>)>,
    /// Per day: doses allocated.
    pub allocated: BTreeMap<String, i64>,
    /// The units it serves; empty = every unit.
    pub serves: Vec<i64>,
}

/// Every site with at least one slot on one of `days`, by site id.
pub async fn sites(db: &Db, days: &[String]) -> StoreResult<Vec<PlanningSite>> {
    if days.is_empty() {
        return Ok(Vec::new());
    }
    let list: Vec<String> = (1..=days.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT s.id AS site_id, s.code, s.lat, s.lon, sl.id AS slot_id, sl.day, sl.starts_min, \
                sl.ends_min, sl.capacity - sl.booked AS free, sl.booked, \
                COALESCE(sd.doses_allocated - sd.doses_booked, 0) AS doses_free, \
                COALESCE(sd.doses_allocated, 0) AS doses_allocated \
         FROM slots sl JOIN sites s ON s.id = sl.site_id \
         LEFT JOIN site_days sd ON sd.site_id = sl.site_id AND sd.day = sl.day \
         WHERE sl.day IN ({}) ORDER BY s.id, sl.day, sl.starts_min",
        list.join(", ")
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for d in days {
        q = q.bind(d);
    }
    let rows = q.fetch_all(db.pool()).await?;
    let mut out: Vec<PlanningSite> = Vec::new();
    for row in rows {
        let site_id: i64 = row.try_get("site_id")?;
        if out.last().is_none_or(|s| s.site_id != site_id) {
            out.push(PlanningSite {
                site_id,
                code: row.try_get("code")?,
                lat: row.try_get("lat")?,
                lon: row.try_get("lon")?,
                days: BTreeMap::new(),
                allocated: BTreeMap::new(),
                serves: Vec::new(),
            });
        }
        let day: String = row.try_get("day")?;
        let doses: i64 = row.try_get("doses_free")?;
        let slot = FreeSlot {
            slot_id: row.try_get("slot_id")?,
            starts_min: row.try_get("starts_min")?,
            ends_min: row.try_get("ends_min")?,
            free: row.try_get("free")?,
            booked: row.try_get("booked")?,
        };
        let allocated: i64 = row.try_get("doses_allocated")?;
        if let Some(site) = out.last_mut() {
            site.allocated.insert(day.clone(), allocated);
            site.days
                .entry(day)
                .or_insert((doses, Vec::new()))
                .1
                .push(slot);
        }
    }
    let served = sqlx::query("SELECT site_id, unit_id FROM site_units ORDER BY site_id, unit_id")
        .fetch_all(db.pool())
        .await?;
    for row in served {
        let (site, unit): (i64, i64) = (row.try_get("site_id")?, row.try_get("unit_id")?);
        if let Some(s) = out.iter_mut().find(|s| s.site_id == site) {
            s.serves.push(unit);
        }
    }
    Ok(out)
}

/// A team booked on one of the planning days: where it is, its shuttle trips, and its people
/// with the slot each holds.
#[derive(Debug, Clone, PartialEq)]
pub struct BookedTeam {
    pub team_id: i64,
    pub code: String,
    pub unit_id: i64,
    pub unit_code: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub site_id: i64,
    pub day: String,
    /// The trips stored on it (JSON), if it rides the shuttle.
    pub trips: Option<String>,
    /// `(person, in the green channel, slot id, slot start)` per active appointment, by slot.
    pub people: Vec<(i64, bool, i64, i64)>,
}

/// The teams holding active appointments on `days`, by team id. Green channel as in
/// [`waiting`].
pub async fn booked_teams(
    db: &Db,
    days: &[String],
    elderly_born_by: &str,
) -> StoreResult<Vec<BookedTeam>> {
    if days.is_empty() {
        return Ok(Vec::new());
    }
    let list: Vec<String> = (2..=days.len() + 1).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT t.id AS team_id, t.code, t.unit_id, u.code AS unit_code, u.lat, u.lon, t.site_id, \
                t.day, t.trips, p.id AS person_id, p.disabled, p.birth_date, a.slot_id, sl.starts_min \
         FROM teams t JOIN units u ON u.id = t.unit_id \
         JOIN appointments a ON a.team_id = t.id AND a.status = 'active' \
         JOIN slots sl ON sl.id = a.slot_id JOIN people p ON p.id = a.person_id \
         WHERE t.day IN ({}) AND a.dose_number = $1 ORDER BY t.id, sl.starts_min, p.id",
        list.join(", ")
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(1i64);
    for d in days {
        q = q.bind(d);
    }
    let rows = q.fetch_all(db.pool()).await?;
    let mut out: Vec<BookedTeam> = Vec::new();
    for row in rows {
        let team_id: i64 = row.try_get("team_id")?;
        if out.last().is_none_or(|t| t.team_id != team_id) {
            out.push(BookedTeam {
                team_id,
                code: row.try_get("code")?,
                unit_id: row.try_get("unit_id")?,
                unit_code: row.try_get("unit_code")?,
                lat: row.try_get("lat")?,
                lon: row.try_get("lon")?,
                site_id: row.try_get("site_id")?,
                day: row.try_get("day")?,
                trips: row.try_get("trips")?,
                people: Vec::new(),
            });
        }
        let disabled: i64 = row.try_get("disabled")?;
        let born: String = row.try_get("birth_date")?;
        let person = (
            row.try_get("person_id")?,
            disabled != 0 || born.as_str() <= elderly_born_by,
            row.try_get("slot_id")?,
            row.try_get("starts_min")?,
        );
        if let Some(t) = out.last_mut() {
            t.people.push(person);
        }
    }
    Ok(out)
}

/// The shuttle pool: buses available and the seats of the smallest (the planner treats buses
/// as interchangeable). `(0, 0)` when there are none.
pub async fn shuttle(db: &Db) -> StoreResult<(i64, i64)> {
    let row = sqlx::query(
        "SELECT CAST(COUNT(*) AS BIGINT) AS n, CAST(COALESCE(MIN(seats), 0) AS BIGINT) AS seats \
         FROM vehicles WHERE available = 1",
    )
    .fetch_one(db.pool())
    .await?;
    Ok((row.try_get("n")?, row.try_get("seats")?))
}

/// When a unit's people can come (see migration 0007).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UnitPrefs {
    /// Weekday digits, 1 = Monday … 7 = Sunday, ascending; empty = any day.
    pub weekdays: String,
    /// `any`, `am` or `pm`.
    pub window: String,
    pub hard_window: bool,
}

fn prefs_row(r: &sqlx::any::AnyRow) -> StoreResult<(i64, UnitPrefs)> {
    let hard: i64 = r.try_get(3)?;
    Ok((
        r.try_get(0)?,
        UnitPrefs {
            weekdays: r.try_get(1)?,
            window: r.try_get(2)?,
            hard_window: hard != 0,
        },
    ))
}

/// Every unit's preferences that were set, by unit id.
pub async fn prefs(db: &Db) -> StoreResult<std::collections::HashMap<i64, UnitPrefs>> {
    let rows =
        sqlx::query("SELECT unit_id, weekdays, time_window, hard_window FROM unit_plan_prefs")
            .fetch_all(db.pool())
            .await?;
    rows.iter().map(prefs_row).collect()
}

/// One unit's preferences (the defaults when none were set).
pub async fn prefs_of(db: &Db, unit_id: i64) -> StoreResult<UnitPrefs> {
    let row = sqlx::query(
        "SELECT unit_id, weekdays, time_window, hard_window FROM unit_plan_prefs WHERE unit_id = $1",
    )
    .bind(unit_id)
    .fetch_optional(db.pool())
    .await?;
    Ok(match row {
        Some(r) => prefs_row(&r)?.1,
        None => UnitPrefs {
            window: "any".into(),
            ..UnitPrefs::default()
        },
    })
}

/// Sets a unit's preferences.
pub async fn set_prefs(
    conn: &mut AnyConnection,
    unit_id: i64,
    prefs: &UnitPrefs,
    user_id: Option<i64>,
    now: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO unit_plan_prefs (unit_id, weekdays, time_window, hard_window, updated_at, updated_by) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (unit_id) DO UPDATE SET \
         weekdays = excluded.weekdays, time_window = excluded.time_window, \
         hard_window = excluded.hard_window, updated_at = excluded.updated_at, \
         updated_by = excluded.updated_by",
    )
    .bind(unit_id)
    .bind(&prefs.weekdays)
    .bind(&prefs.window)
    .bind(i64::from(prefs.hard_window))
    .bind(now)
    .bind(user_id)
    .execute(conn)
    .await?;
    Ok(())
}
