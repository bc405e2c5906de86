//! Slots (时段): a site's opening hours on a day cut into windows, each with a capacity and the
//! reason for it, ready to book into.

use sqlx::{AnyConnection, Row};

use crate::db::Db;
use crate::error::StoreResult;

/// A slot as the desk and the booking pages see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Slot {
    pub id: i64,
    pub site_id: i64,
    pub day: String,
    pub starts_min: i64,
    pub ends_min: i64,
    pub capacity: i64,
    pub booked: i64,
    pub capacity_reason: String,
}

/// Creates the slots of one site-day from the site's hours for `weekday` (0 = Monday), every
/// `slot_minutes`; `capacity` gives each slot's capacity and the reason for it from its start
/// (minutes after midnight). Slots that exist already are left as they are. Returns how many
/// were created.
pub async fn generate(
    conn: &mut AnyConnection,
    site_id: i64,
    day: &str,
    weekday: i64,
    slot_minutes: i64,
    capacity: impl Fn(i64) -> (i64, String),
) -> StoreResult<u64> {
    let hours = sqlx::query(
        "SELECT opens_min, closes_min FROM site_hours WHERE site_id = $1 AND weekday = $2",
    )
    .bind(site_id)
    .bind(weekday)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(hours) = hours else { return Ok(0) };
    let (opens, closes): (i64, i64) = (hours.try_get(0)?, hours.try_get(1)?);
    let step = slot_minutes.max(5);
    let mut created = 0;
    for start in starts(opens, closes, slot_minutes) {
        let (capacity, reason) = capacity(start);
        let done = sqlx::query(
            "INSERT INTO slots (site_id, day, starts_min, ends_min, capacity, capacity_reason) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (site_id, day, starts_min) DO NOTHING",
        )
        .bind(site_id)
        .bind(day)
        .bind(start)
        .bind(start + step)
        .bind(capacity)
        .bind(reason.as_str())
        .execute(&mut *conn)
        .await?;
        created += done.rows_affected();
    }
    Ok(created)
}

/// The starts of a day's slots between `opens` and `closes` (minutes after midnight), as
/// [`generate`] cuts them.
fn starts(opens: i64, closes: i64, slot_minutes: i64) -> impl Iterator<Item = i64> {
    let step = slot_minutes.max(5);
    (0..)
        .map(move |k| opens + k * step)
        .take_while(move |start| start + step <= closes)
}

/// Whether every slot [`generate`] would cut for the site-day exists already (true on a day
/// the site is closed): then there is nothing to generate.
pub async fn all_there(
    db: &Db,
    site_id: i64,
    day: &str,
    weekday: i64,
    slot_minutes: i64,
) -> StoreResult<bool> {
    let hours = sqlx::query(
        "SELECT opens_min, closes_min FROM site_hours WHERE site_id = $1 AND weekday = $2",
    )
    .bind(site_id)
    .bind(weekday)
    .fetch_optional(db.pool())
    .await?;
    let Some(hours) = hours else { return Ok(true) };
    let (opens, closes): (i64, i64) = (hours.try_get(0)?, hours.try_get(1)?);
    let have: std::collections::HashSet<i64> = of_site_day(db, site_id, day)
        .await?
        .iter()
        .map(|s| s.starts_min)
        .collect();
    Ok(starts(opens, closes, slot_minutes).all(|start| have.contains(&start)))
}

/// One slot.
pub async fn by_id(db: &Db, id: i64) -> StoreResult<Option<Slot>> {
    let sql = "SELECT id, site_id, day, starts_min, ends_min, capacity, booked, capacity_reason FROM slots WHERE id = $1";
    crate::rows::optional(db, sql.to_string(), id, slot_from_row).await
}

fn slot_from_row(r: &sqlx::any::AnyRow) -> StoreResult<Slot> {
    Ok(Slot {
        id: r.try_get(0)?,
        site_id: r.try_get(1)?,
        day: r.try_get(2)?,
        starts_min: r.try_get(3)?,
        ends_min: r.try_get(4)?,
        capacity: r.try_get(5)?,
        booked: r.try_get(6)?,
        capacity_reason: r.try_get(7)?,
    })
}

/// The slots of a site on a day, in time order.
pub async fn of_site_day(db: &Db, site_id: i64, day: &str) -> StoreResult<Vec<Slot>> {
    let rows = sqlx::query(
        "SELECT id, site_id, day, starts_min, ends_min, capacity, booked, capacity_reason FROM slots \
         WHERE site_id = $1 AND day = $2 ORDER BY starts_min",
    )
    .bind(site_id)
    .bind(day)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(slot_from_row).collect()
}

/// The slots of the same site-day as `slot_id` (itself included), in one round trip.
pub async fn of_same_day(db: &Db, slot_id: i64) -> StoreResult<Vec<Slot>> {
    let rows = sqlx::query(
        "SELECT s.id, s.site_id, s.day, s.starts_min, s.ends_min, s.capacity, s.booked, s.capacity_reason \
         FROM slots s JOIN slots o ON o.site_id = s.site_id AND o.day = s.day \
         WHERE o.id = $1 ORDER BY s.starts_min",
    )
    .bind(slot_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(slot_from_row).collect()
}

/// A site-day as a booking sees it before the write: its slots, its doses, the vaccine a first
/// dose is booked with (the catalogue's first) and the units the site serves (`None`: all).
/// A read, not a promise: the write re-checks everything conditionally.
#[derive(Debug, Clone, PartialEq)]
pub struct DayView {
    pub site_id: i64,
    pub day: String,
    /// In time order.
    pub slots: Vec<Slot>,
    pub doses_allocated: i64,
    pub doses_booked: i64,
    pub vaccine_id: Option<i64>,
    pub served_units: Option<Vec<i64>>,
}

impl DayView {
    pub fn slot(&self, slot_id: i64) -> Option<&Slot> {
        self.slots.iter().find(|s| s.id == slot_id)
    }
}

/// The site-day a slot belongs to: `(site id, day)`; `None` when there is no such slot. A slot
/// never moves to another site-day.
pub async fn home(db: &Db, slot_id: i64) -> StoreResult<Option<(i64, String)>> {
    let row = sqlx::query("SELECT site_id, day FROM slots WHERE id = $1")
        .bind(slot_id)
        .fetch_optional(db.pool())
        .await?;
    row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
}

/// Reads the [`DayView`] of a site-day (empty when it has no slots and no doses).
pub async fn day_view(db: &Db, site_id: i64, day: &str) -> StoreResult<DayView> {
    let rows = sqlx::query(
        "SELECT s.id, s.site_id, s.day, s.starts_min, s.ends_min, s.capacity, s.booked, s.capacity_reason, \
                COALESCE(d.doses_allocated, 0), COALESCE(d.doses_booked, 0), \
                (SELECT v.id FROM vaccines v ORDER BY v.code LIMIT 1) \
         FROM sites st LEFT JOIN slots s ON s.site_id = st.id AND s.day = $2 \
         LEFT JOIN site_days d ON d.site_id = st.id AND d.day = $2 \
         WHERE st.id = $1 ORDER BY s.starts_min",
    )
    .bind(site_id)
    .bind(day)
    .fetch_all(db.pool())
    .await?;
    let units: Vec<i64> = sqlx::query_scalar("SELECT unit_id FROM site_units WHERE site_id = $1")
        .bind(site_id)
        .fetch_all(db.pool())
        .await?;
    let mut view = DayView {
        site_id,
        day: day.to_string(),
        slots: Vec::with_capacity(rows.len()),
        doses_allocated: 0,
        doses_booked: 0,
        vaccine_id: None,
        served_units: (!units.is_empty()).then_some(units),
    };
    for r in &rows {
        view.doses_allocated = r.try_get(8)?;
        view.doses_booked = r.try_get(9)?;
        view.vaccine_id = r.try_get(10)?;
        // With no slots that day the site's row still comes back, its slot columns empty.
        if r.try_get::<Option<i64>, _>(0)?.is_some() {
            view.slots.push(slot_from_row(r)?);
        }
    }
    Ok(view)
}

/// Sets a slot's capacity by hand, with the reason: never below what is already booked (the
/// condition is in the update, so a booking racing the change cannot slip under it). Returns the
/// previous capacity, or `None` when the slot is missing or already holds more bookings.
pub async fn set_capacity(
    conn: &mut AnyConnection,
    id: i64,
    capacity: i64,
    reason: &str,
) -> StoreResult<Option<i64>> {
    let previous: Option<i64> = sqlx::query_scalar("SELECT capacity FROM slots WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    let done = sqlx::query(
        "UPDATE slots SET capacity = $2, capacity_reason = $3 WHERE id = $1 AND booked <= $2",
    )
    .bind(id)
    .bind(capacity)
    .bind(reason)
    .execute(&mut *conn)
    .await?;
    Ok(if done.rows_affected() == 1 {
        previous
    } else {
        None
    })
}

/// Closes a site-day on the caller's transaction: every slot of it to no places, with the
/// reason. Returns false — and changes nothing the caller should keep — when a slot still holds
/// bookings (they must be moved first).
pub async fn close_site_day_in(
    conn: &mut AnyConnection,
    site_id: i64,
    day: &str,
    reason: &str,
) -> StoreResult<bool> {
    sqlx::query(
        "UPDATE slots SET capacity = 0, capacity_reason = $3 \
         WHERE site_id = $1 AND day = $2 AND booked = 0",
    )
    .bind(site_id)
    .bind(day)
    .bind(reason)
    .execute(&mut *conn)
    .await?;
    let held: i64 = sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM slots WHERE site_id = $1 AND day = $2 AND booked > 0",
    )
    .bind(site_id)
    .bind(day)
    .fetch_one(&mut *conn)
    .await?;
    Ok(held == 0)
}
