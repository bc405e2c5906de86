//! Booking use cases shared by the resident's page, the desk and the API: which vaccine, whether a
//! later dose is due, then the all-or-nothing booking of the store.

use chrono::{Days, NaiveDate};
use vaxloop_store::booking::{self, Booking, Refusal};
use vaxloop_store::{Db, StoreError, WriteTx, journeys, sites, slots, vaccines};

/// The vaccine a first dose is booked with when the caller names none: the first product in the
/// catalogue. (Eligibility by age arrives with the screening work.)
pub async fn default_vaccine(db: &Db) -> Result<Option<i64>, StoreError> {
    Ok(vaccines::all(db).await?.first().map(|v| v.id))
}

/// Why a booking was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BookRefusal {
    /// Refused by the store's invariants (full, no doses, already booked, not bookable).
    Store(Refusal),
    /// A later dose for someone who has not had the one before.
    NoPriorDose { person_id: i64 },
    /// A later dose before the vaccine's minimum interval has passed.
    TooEarly { person_id: i64, earliest: NaiveDate },
    /// The site serves a list of units and the person's is not on it (walk-ins excepted: the
    /// site's own staff decide those at the door).
    SiteNotServing { person_id: i64 },
}

/// What to book.
#[derive(Debug, Clone, PartialEq)]
pub struct Request<'a> {
    pub slot_id: i64,
    pub people: &'a [i64],
    pub dose_number: i64,
    pub team_id: Option<i64>,
    pub walk_in: bool,
}

/// Checks what can be checked before the write: the slot exists, and a dose after the first is
/// due for everyone (the previous dose given at least the vaccine's minimum interval before the
/// slot's day, in the campaign's time zone). Returns the vaccine to book with.
pub async fn check(
    db: &Db,
    tz: chrono_tz::Tz,
    req: &Request<'_>,
) -> Result<Result<i64, BookRefusal>, StoreError> {
    let Some(vaccine_id) = default_vaccine(db).await? else {
        return Err(StoreError::NotFound("vaccine"));
    };
    let Some(slot) = slots::by_id(db, req.slot_id).await? else {
        return Ok(Err(BookRefusal::Store(Refusal::NoSlot)));
    };
    if !req.walk_in {
        for &person in req.people {
            if !sites::serves_person(db, slot.site_id, person).await? {
                return Ok(Err(BookRefusal::SiteNotServing { person_id: person }));
            }
        }
    }
    if req.dose_number > 1 {
        let interval = vaccines::all(db)
            .await?
            .into_iter()
            .find(|v| v.id == vaccine_id)
            .map(|v| v.min_interval_days)
            .unwrap_or(0);
        let day = NaiveDate::parse_from_str(&slot.day, "%Y-%m-%d")
            .map_err(|_| StoreError::NotFound("slot day"))?;
        for &person in req.people {
            let Some(at) = journeys::vaccinated_at(db, person, req.dose_number - 1).await? else {
                return Ok(Err(BookRefusal::NoPriorDose { person_id: person }));
            };
            let given = chrono::DateTime::from_timestamp_millis(at)
                .map(|t| t.with_timezone(&tz).date_naive())
                .unwrap_or(day);
            let earliest = given
                .checked_add_days(Days::new(interval.max(0) as u64))
                .unwrap_or(given);
            if day < earliest {
                return Ok(Err(BookRefusal::TooEarly {
                    person_id: person,
                    earliest,
                }));
            }
        }
    }
    Ok(Ok(vaccine_id))
}

/// The write, on the caller's transaction (which also holds, say, an idempotency key): a later
/// dose's journey is opened, then everyone is booked or nobody. On a refusal the caller rolls
/// back.
pub async fn book_in(
    conn: &mut WriteTx,
    req: &Request<'_>,
    vaccine_id: i64,
    now: i64,
) -> Result<Result<Vec<i64>, BookRefusal>, StoreError> {
    if req.dose_number > 1 {
        for &person in req.people {
            journeys::open_dose(conn, person, req.dose_number, now).await?;
        }
    }
    let b = Booking {
        slot_id: req.slot_id,
        people: req.people,
        vaccine_id,
        dose_number: req.dose_number,
        team_id: req.team_id,
        walk_in: req.walk_in,
    };
    Ok(booking::book_in(conn, &b, now)
        .await?
        .map_err(BookRefusal::Store))
}

/// Checks, then books in a transaction of its own, committed only if everyone got a place.
pub async fn book(
    db: &Db,
    tz: chrono_tz::Tz,
    req: &Request<'_>,
) -> Result<Result<Vec<i64>, BookRefusal>, StoreError> {
    let vaccine_id = match check(db, tz, req).await? {
        Ok(v) => v,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let mut tx = db.begin_write().await?;
    let booked = book_in(&mut tx, req, vaccine_id, vaxloop_store::now_ms()).await?;
    if booked.is_ok() {
        tx.commit().await?;
    } else {
        tx.rollback().await?;
    }
    Ok(booked)
}
