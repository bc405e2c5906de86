//! Booking that never overbooks (issue 4's core): people into a slot, all or nothing.
//!
//! Every promise is a conditional update inside the caller's write transaction, never a read
//! then a write in Rust: the slot's `booked` rises only while it stays within `capacity`, the
//! site-day's `doses_booked` only while it stays within the doses allocated from deliveries,
//! and the partial unique index on active appointments refuses a second booking of one person
//! for one dose. On SQLite the transaction holds the write lock from its start; on PostgreSQL a
//! racing update waits for the row and re-checks its condition after the winner commits. The
//! CHECK constraints stand behind all three.

use std::collections::HashMap;

use sqlx::{AnyConnection, Row};

use crate::db::Db;
use crate::error::StoreResult;

/// Why a booking was refused. Nothing of it was written (the caller rolls back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No such slot.
    NoSlot,
    /// The slot has fewer free places than people asked for.
    SlotFull { slot_id: i64, free: i64 },
    /// The site-day has fewer unpromised doses than people asked for.
    NoDoses {
        site_id: i64,
        day: String,
        free: i64,
    },
    /// The person already holds an active appointment for this dose.
    AlreadyBooked { person_id: i64 },
    /// The person is not registered (or not confirmed) for this dose, or is past booking.
    NotBookable { person_id: i64 },
}

/// Who to book where.
#[derive(Debug, Clone, PartialEq)]
pub struct Booking<'a> {
    pub slot_id: i64,
    pub people: &'a [i64],
    pub vaccine_id: i64,
    pub dose_number: i64,
    pub team_id: Option<i64>,
    pub walk_in: bool,
}

/// Journey states from which a person may be booked (the desk's "waiting" lists use the same:
/// see `journeys::waiting_of_unit`).
macro_rules! bookable {
    () => {
        "('registered', 'no_show', 'cancelled')"
    };
}
/// The bookable states as a condition no index can serve: given a long list of people, SQLite's planner
/// (without statistics) would otherwise walk the index on `state` — every registered person in
/// town — rather than look each person up by key.
const BOOKABLE_BY_ID: &str = concat!(
    "(CASE WHEN state IN ",
    bookable!(),
    " THEN 1 ELSE 0 END) = 1"
);

/// Books everyone in `b` into the slot, on the caller's write transaction. On `Err(Refusal)` some
/// rows may already have changed: the caller must roll back, which [`book`] does.
pub async fn book_in(
    conn: &mut AnyConnection,
    b: &Booking<'_>,
    now: i64,
) -> StoreResult<Result<Vec<i64>, Refusal>> {
    let n = b.people.len() as i64;
    if n == 0 {
        return Ok(Ok(vec![]));
    }
    let claimed = sqlx::query(
        "UPDATE slots SET booked = booked + $2 WHERE id = $1 AND booked + $2 <= capacity RETURNING site_id, day",
    )
    .bind(b.slot_id)
    .bind(n)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = claimed else {
        let free: Option<i64> =
            sqlx::query_scalar("SELECT capacity - booked FROM slots WHERE id = $1")
                .bind(b.slot_id)
                .fetch_optional(&mut *conn)
                .await?;
        return Ok(Err(match free {
            Some(free) => Refusal::SlotFull {
                slot_id: b.slot_id,
                free,
            },
            None => Refusal::NoSlot,
        }));
    };
    let (site_id, day): (i64, String) = (row.try_get(0)?, row.try_get(1)?);
    let doses = sqlx::query(
        "UPDATE site_days SET doses_booked = doses_booked + $3 \
         WHERE site_id = $1 AND day = $2 AND doses_booked + $3 <= doses_allocated",
    )
    .bind(site_id)
    .bind(&day)
    .bind(n)
    .execute(&mut *conn)
    .await?;
    if doses.rows_affected() != 1 {
        let free: Option<i64> = sqlx::query_scalar(
            "SELECT doses_allocated - doses_booked FROM site_days WHERE site_id = $1 AND day = $2",
        )
        .bind(site_id)
        .bind(&day)
        .fetch_optional(&mut *conn)
        .await?;
        return Ok(Err(Refusal::NoDoses {
            site_id,
            day,
            free: free.unwrap_or(0),
        }));
    }
    let mut ids = Vec::with_capacity(b.people.len());
    for chunk in b.people.chunks(CHUNK) {
        match book_people(conn, b, chunk, now).await? {
            Ok(booked) => ids.extend(booked),
            Err(refusal) => return Ok(Err(refusal)),
        }
    }
    Ok(Ok(ids))
}

/// The people of a booking whose place and dose were taken, set-wise: their journeys moved to
/// booked by one conditional update, their appointments and events inserted by one statement
/// each. The appointments' ids in the people's order, or the first person who may not be
/// booked (the caller rolls back).
async fn book_people(
    conn: &mut AnyConnection,
    b: &Booking<'_>,
    people: &[i64],
    now: i64,
) -> StoreResult<Result<Vec<i64>, Refusal>> {
    let listed = crate::rows::ints(people.iter().copied());
    let moved: Vec<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "UPDATE journeys SET state = 'booked', updated_at = $2 \
         WHERE dose_number = $1 AND {BOOKABLE_BY_ID} AND person_id IN ({listed}) RETURNING person_id"
    )))
    .bind(b.dose_number)
    .bind(now)
    .fetch_all(&mut *conn)
    .await?;
    let moved: std::collections::HashSet<i64> = moved.into_iter().collect();
    let mut seen = std::collections::HashSet::with_capacity(people.len());
    for &person in people {
        if !seen.insert(person) {
            return Ok(Err(Refusal::AlreadyBooked { person_id: person }));
        }
        if !moved.contains(&person) {
            let active: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM appointments WHERE person_id = $1 AND dose_number = $2 AND status = 'active'",
            )
            .bind(person)
            .bind(b.dose_number)
            .fetch_optional(&mut *conn)
            .await?;
            return Ok(Err(match active {
                Some(_) => Refusal::AlreadyBooked { person_id: person },
                None => Refusal::NotBookable { person_id: person },
            }));
        }
    }
    let team = b
        .team_id
        .map_or_else(|| "NULL".to_string(), |t| t.to_string());
    let rows = (people.iter())
        .map(|p| format!("({p}, $1, $2, $3, {team}, 'active', $4, $5, $5)"))
        .collect::<Vec<_>>()
        .join(", ");
    // The partial unique index (one active appointment per person and dose) is the last guard:
    // a row it turns away is a racing booking of the same person that won.
    let inserted = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO appointments (person_id, slot_id, vaccine_id, dose_number, team_id, status, walk_in, created_at, updated_at) \
         VALUES {rows} ON CONFLICT DO NOTHING RETURNING id, person_id"
    )))
    .bind(b.slot_id)
    .bind(b.vaccine_id)
    .bind(b.dose_number)
    .bind(i64::from(b.walk_in))
    .bind(now)
    .fetch_all(&mut *conn)
    .await?;
    let mut ids: HashMap<i64, i64> = HashMap::with_capacity(people.len());
    for r in inserted {
        ids.insert(r.try_get(1)?, r.try_get(0)?);
    }
    let mut out = Vec::with_capacity(people.len());
    for person in people {
        match ids.get(person) {
            Some(id) => out.push(*id),
            None => return Ok(Err(Refusal::AlreadyBooked { person_id: *person })),
        }
    }
    let detail = format!("slot={}", b.slot_id);
    let events = (people.iter())
        .map(|p| format!("({p}, $1, 'booked', $2, $3)"))
        .collect::<Vec<_>>()
        .join(", ");
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO journey_events (person_id, dose_number, state, at, detail) VALUES {events}"
    )))
    .bind(b.dose_number)
    .bind(now)
    .bind(detail)
    .execute(&mut *conn)
    .await?;
    Ok(Ok(out))
}

/// One person into one slot, for [`book_singles`].
#[derive(Debug, Clone, PartialEq)]
pub struct Single {
    pub slot_id: i64,
    pub person_id: i64,
    pub vaccine_id: i64,
    pub walk_in: bool,
}

/// Most rows in one statement of [`book_singles`].
const CHUNK: usize = 256;

/// Books many people, each alone into a slot, for the same dose, on the caller's write
/// transaction, in a few set-wise statements instead of several per person — with the outcome
/// [`book_in`] would have given each in the order given: a place if the slot has one, a dose
/// if the site-day has one, and the person bookable; otherwise the same refusal. `person_id`s
/// must be distinct.
///
/// The counts are read, shared out in order, then written by the same conditional updates as
/// ever. `Ok(None)` when a conditional update finds the database changed since it was read
/// (another connection wrote in between): nothing is then meant to be kept, and the caller
/// rolls back to a savepoint and books one by one.
pub async fn book_singles(
    conn: &mut AnyConnection,
    items: &[Single],
    dose_number: i64,
    now: i64,
) -> StoreResult<Option<Vec<Result<i64, Refusal>>>> {
    if items.is_empty() {
        return Ok(Some(Vec::new()));
    }
    let mut seen = Seen::read(conn, items, dose_number).await?;
    let shared = seen.share_out(items);
    if !take_places(conn, &shared).await? {
        return Ok(None);
    }
    let winners: Vec<&Single> = (items.iter().zip(&shared.outcomes))
        .filter(|(_, o)| o.is_none())
        .map(|(it, _)| it)
        .collect();
    let Some(ids) = write_winners(conn, &winners, dose_number, now).await? else {
        return Ok(None);
    };
    let mut out = Vec::with_capacity(items.len());
    for (it, refusal) in items.iter().zip(shared.outcomes) {
        out.push(match refusal {
            Some(r) => Err(r),
            None => match ids.get(&it.person_id) {
                Some(id) => Ok(*id),
                None => return Ok(None),
            },
        });
    }
    Ok(Some(out))
}

/// What the slots, their site-days and the people of a batch look like when it is read.
struct Seen {
    /// Slot → (site, day, places free).
    slots: HashMap<i64, (i64, String, i64)>,
    /// (site, day) → doses free.
    days: HashMap<(i64, String), i64>,
    /// The people whose journey for the dose may be booked.
    bookable: std::collections::HashSet<i64>,
    /// Of the others, those who hold an active appointment for the dose.
    active: std::collections::HashSet<i64>,
}

/// A batch shared out: each item's refusal (None: booked), and the places and doses taken.
struct SharedOut {
    outcomes: Vec<Option<Refusal>>,
    taken_slots: HashMap<i64, i64>,
    taken_days: HashMap<(i64, String), i64>,
}

impl Seen {
    async fn read(
        conn: &mut AnyConnection,
        items: &[Single],
        dose_number: i64,
    ) -> StoreResult<Self> {
        let mut slot_ids: Vec<i64> = items.iter().map(|i| i.slot_id).collect();
        slot_ids.sort_unstable();
        slot_ids.dedup();
        let mut slots: HashMap<i64, (i64, String, i64)> = HashMap::new();
        for chunk in slot_ids.chunks(CHUNK) {
            let sql = format!(
                "SELECT id, site_id, day, capacity - booked FROM slots WHERE id IN ({})",
                crate::rows::ints(chunk.iter().copied())
            );
            for r in sqlx::query(sqlx::AssertSqlSafe(sql))
                .fetch_all(&mut *conn)
                .await?
            {
                slots.insert(r.try_get(0)?, (r.try_get(1)?, r.try_get(2)?, r.try_get(3)?));
            }
        }
        let mut days: HashMap<(i64, String), i64> = HashMap::new();
        for (site_id, day, _) in slots.values() {
            let key = (*site_id, day.clone());
            if days.contains_key(&key) {
                continue;
            }
            let free: Option<i64> = sqlx::query_scalar(
                "SELECT doses_allocated - doses_booked FROM site_days WHERE site_id = $1 AND day = $2",
            )
            .bind(site_id)
            .bind(day)
            .fetch_optional(&mut *conn)
            .await?;
            days.insert(key, free.unwrap_or(0));
        }
        let people: Vec<i64> = items.iter().map(|i| i.person_id).collect();
        let bookable = people_in(
            conn,
            &format!("SELECT person_id FROM journeys WHERE dose_number = $1 AND {BOOKABLE_BY_ID} AND person_id IN "),
            dose_number,
            &people,
        )
        .await?;
        let unbookable: Vec<i64> = (people.iter().copied())
            .filter(|p| !bookable.contains(p))
            .collect();
        let active = people_in(
            conn,
            "SELECT person_id FROM appointments WHERE dose_number = $1 AND status = 'active' AND person_id IN ",
            dose_number,
            &unbookable,
        )
        .await?;
        Ok(Self {
            slots,
            days,
            bookable,
            active,
        })
    }

    /// Shares the places and doses out in the order given, as one booking after another would.
    fn share_out(&mut self, items: &[Single]) -> SharedOut {
        let mut out = SharedOut {
            outcomes: Vec::with_capacity(items.len()),
            taken_slots: HashMap::new(),
            taken_days: HashMap::new(),
        };
        for it in items {
            let Some((site_id, day, free)) = self.slots.get_mut(&it.slot_id) else {
                out.outcomes.push(Some(Refusal::NoSlot));
                continue;
            };
            let key = (*site_id, day.clone());
            let doses = self.days.get_mut(&key).expect("every slot's day was read");
            let refusal = if *free < 1 {
                Some(Refusal::SlotFull {
                    slot_id: it.slot_id,
                    free: *free,
                })
            } else if *doses < 1 {
                Some(Refusal::NoDoses {
                    site_id: *site_id,
                    day: day.clone(),
                    free: *doses,
                })
            } else if !self.bookable.contains(&it.person_id) {
                Some(if self.active.contains(&it.person_id) {
                    Refusal::AlreadyBooked {
                        person_id: it.person_id,
                    }
                } else {
                    Refusal::NotBookable {
                        person_id: it.person_id,
                    }
                })
            } else {
                *free -= 1;
                *doses -= 1;
                *out.taken_slots.entry(it.slot_id).or_default() += 1;
                *out.taken_days.entry(key).or_default() += 1;
                None
            };
            out.outcomes.push(refusal);
        }
        out
    }
}

/// Takes the places and doses shared out, by the same conditional updates as one booking at a
/// time; false when any finds the database changed since it was read.
async fn take_places(conn: &mut AnyConnection, shared: &SharedOut) -> StoreResult<bool> {
    let taken_slots: Vec<(i64, i64)> = shared.taken_slots.iter().map(|(k, v)| (*k, *v)).collect();
    for chunk in taken_slots.chunks(CHUNK) {
        let add = (0..chunk.len())
            .map(|i| format!("WHEN ${} THEN ${}", 2 * i + 1, 2 * i + 2))
            .collect::<Vec<_>>()
            .join(" ");
        let ids = (0..chunk.len())
            .map(|i| format!("${}", 2 * i + 1))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "UPDATE slots SET booked = booked + CASE id {add} END \
             WHERE id IN ({ids}) AND booked + CASE id {add} END <= capacity"
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (slot_id, n) in chunk {
            q = q.bind(*slot_id).bind(*n);
        }
        if q.execute(&mut *conn).await?.rows_affected() != chunk.len() as u64 {
            return Ok(false);
        }
    }
    for ((site_id, day), n) in &shared.taken_days {
        let done = sqlx::query(
            "UPDATE site_days SET doses_booked = doses_booked + $3 \
             WHERE site_id = $1 AND day = $2 AND doses_booked + $3 <= doses_allocated",
        )
        .bind(site_id)
        .bind(day)
        .bind(n)
        .execute(&mut *conn)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The journeys, appointments and events of the people who got a place; their appointments'
/// ids by person, or None when a journey was no longer bookable.
async fn write_winners(
    conn: &mut AnyConnection,
    winners: &[&Single],
    dose_number: i64,
    now: i64,
) -> StoreResult<Option<HashMap<i64, i64>>> {
    for chunk in winners.chunks(CHUNK) {
        let sql = format!(
            "UPDATE journeys SET state = 'booked', updated_at = $2 \
             WHERE dose_number = $1 AND {BOOKABLE_BY_ID} AND person_id IN ({})",
            crate::rows::ints(chunk.iter().map(|it| it.person_id))
        );
        let q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(dose_number)
            .bind(now);
        if q.execute(&mut *conn).await?.rows_affected() != chunk.len() as u64 {
            return Ok(None);
        }
    }
    let mut ids: HashMap<i64, i64> = HashMap::with_capacity(winners.len());
    for chunk in winners.chunks(CHUNK) {
        let rows = chunk
            .iter()
            .map(|it| {
                format!(
                    "({}, {}, {}, $1, NULL, 'active', {}, $2, $2)",
                    it.person_id,
                    it.slot_id,
                    it.vaccine_id,
                    i64::from(it.walk_in)
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO appointments (person_id, slot_id, vaccine_id, dose_number, team_id, status, walk_in, created_at, updated_at) \
             VALUES {rows} RETURNING id, person_id"
        );
        let q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(dose_number)
            .bind(now);
        for r in q.fetch_all(&mut *conn).await? {
            ids.insert(r.try_get(1)?, r.try_get(0)?);
        }
    }
    for chunk in winners.chunks(CHUNK) {
        let sql = format!(
            "INSERT INTO journey_events (person_id, dose_number, state, at, detail) VALUES {}",
            chunk
                .iter()
                .map(|it| format!(
                    "({}, $1, 'booked', $2, 'slot={}')",
                    it.person_id, it.slot_id
                ))
                .collect::<Vec<_>>()
                .join(", ")
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(dose_number)
            .bind(now)
            .execute(&mut *conn)
            .await?;
    }
    Ok(Some(ids))
}

/// The people among `people` that `select` (ending in `person_id IN `, `$1` the dose) finds.
async fn people_in(
    conn: &mut AnyConnection,
    select: &str,
    dose_number: i64,
    people: &[i64],
) -> StoreResult<std::collections::HashSet<i64>> {
    let mut found = std::collections::HashSet::new();
    for chunk in people.chunks(CHUNK) {
        let sql = format!("{select}({})", crate::rows::ints(chunk.iter().copied()));
        let q = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql)).bind(dose_number);
        found.extend(q.fetch_all(&mut *conn).await?);
    }
    Ok(found)
}

/// Cancels an active appointment: its place and dose go back, the journey returns to
/// `cancelled` (bookable again). False when there was no active appointment to cancel.
pub async fn cancel_in(
    conn: &mut AnyConnection,
    appointment_id: i64,
    now: i64,
) -> StoreResult<bool> {
    let row = sqlx::query(
        "UPDATE appointments SET status = 'cancelled', updated_at = $2 WHERE id = $1 AND status = 'active' \
         RETURNING person_id, dose_number, slot_id",
    )
    .bind(appointment_id)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(false) };
    let (person, dose, slot): (i64, i64, i64) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
    let freed = sqlx::query(
        "UPDATE slots SET booked = booked - 1 WHERE id = $1 AND booked > 0 RETURNING site_id, day",
    )
    .bind(slot)
    .fetch_one(&mut *conn)
    .await?;
    let (site_id, day): (i64, String) = (freed.try_get(0)?, freed.try_get(1)?);
    sqlx::query("UPDATE site_days SET doses_booked = doses_booked - 1 WHERE site_id = $1 AND day = $2 AND doses_booked > 0")
        .bind(site_id)
        .bind(&day)
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE journeys SET state = 'cancelled', updated_at = $3 WHERE person_id = $1 AND dose_number = $2 AND state = 'booked'")
        .bind(person)
        .bind(dose)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    sqlx::query("INSERT INTO journey_events (person_id, dose_number, state, at, detail) VALUES ($1, $2, 'cancelled', $3, $4)")
        .bind(person)
        .bind(dose)
        .bind(now)
        .bind(format!("appointment={appointment_id}"))
        .execute(&mut *conn)
        .await?;
    Ok(true)
}

/// Counts for checking the invariants: per slot, `(capacity, booked, active appointments)`.
pub async fn slot_counts(db: &Db) -> StoreResult<Vec<(i64, i64, i64, i64)>> {
    let rows = sqlx::query(
        "SELECT s.id, s.capacity, s.booked, \
                (SELECT COUNT(*) FROM appointments a WHERE a.slot_id = s.id AND a.status = 'active') \
         FROM slots s ORDER BY s.id",
    )
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)))
        .collect()
}

/// An appointment as the resident and the desk see it.
#[derive(Debug, Clone, PartialEq)]
pub struct AppointmentView {
    pub id: i64,
    pub person_id: i64,
    pub dose_number: i64,
    pub site_code: String,
    pub site_name: String,
    pub day: String,
    pub starts_min: i64,
    pub ends_min: i64,
    pub vaccine_name: String,
    pub site_address: String,
}

const VIEW: &str = "SELECT a.id, a.person_id, a.dose_number, s.code, s.name, sl.day, sl.starts_min, sl.ends_min, v.name, s.address \
                    FROM appointments a JOIN slots sl ON sl.id = a.slot_id JOIN sites s ON s.id = sl.site_id \
                    JOIN vaccines v ON v.id = a.vaccine_id";

fn view_from_row(r: &sqlx::any::AnyRow) -> StoreResult<AppointmentView> {
    Ok(AppointmentView {
        id: r.try_get(0)?,
        person_id: r.try_get(1)?,
        dose_number: r.try_get(2)?,
        site_code: r.try_get(3)?,
        site_name: r.try_get(4)?,
        day: r.try_get(5)?,
        starts_min: r.try_get(6)?,
        ends_min: r.try_get(7)?,
        vaccine_name: r.try_get(8)?,
        site_address: r.try_get(9)?,
    })
}

/// A person's active appointments, by dose.
pub async fn active_of_person(db: &Db, person_id: i64) -> StoreResult<Vec<AppointmentView>> {
    let sql =
        format!("{VIEW} WHERE a.person_id = $1 AND a.status = 'active' ORDER BY a.dose_number");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(person_id)
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(view_from_row).collect()
}

/// One appointment, active or not.
pub async fn appointment(db: &Db, id: i64) -> StoreResult<Option<AppointmentView>> {
    crate::rows::optional(db, format!("{VIEW} WHERE a.id = $1"), id, view_from_row).await
}
