//! The booking engine behind every booking use case ([`super`]): the checks before a write (the
//! slot, the units a site serves, a later dose's interval, room read but not promised), the
//! write on the caller's transaction ([`place_in`]: everyone or nobody, alone or as a team spread
//! over consecutive slots). Caller-free: the use cases in [`super`] decide who may, and the planner's
//! publishing and the check-in desk's walk-ins use the same steps.

use std::sync::Arc;

use chrono::{Days, NaiveDate};
use vaxloop_store::booking::{self, Booking, Refusal};
use vaxloop_store::slots::DayView;
use vaxloop_store::{Db, StoreError, WriteTx, journeys, sites, slots, vaccines};

use crate::days::DayCache;

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

impl BookRefusal {
    /// The refusal's stable code, as the API names it (`slot_full`, `no_doses`, …).
    pub fn code(&self) -> &'static str {
        match self {
            BookRefusal::Store(Refusal::SlotFull { .. }) => "slot_full",
            BookRefusal::Store(Refusal::NoDoses { .. }) => "no_doses",
            BookRefusal::Store(Refusal::AlreadyBooked { .. }) => "already_booked",
            BookRefusal::Store(Refusal::NotBookable { .. }) => "not_bookable",
            BookRefusal::Store(Refusal::NoSlot) => "no_slot",
            BookRefusal::NoPriorDose { .. } => "no_prior_dose",
            BookRefusal::TooEarly { .. } => "too_early",
            BookRefusal::SiteNotServing { .. } => "site_not_serving",
        }
    }
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

/// Checks what can be checked before the write: the slot exists, the site serves everyone's
/// unit (walk-ins excepted), a dose after the first is due for everyone (the previous dose given
/// at least the vaccine's minimum interval before the slot's day, in the campaign's time zone),
/// and — read, not promised — the slot and the day still have room: a request that cannot fit
/// is turned down here, without queueing for the write. Returns the vaccine to book with.
pub async fn check(
    db: &Db,
    tz: chrono_tz::Tz,
    req: &Request<'_>,
) -> Result<Result<i64, BookRefusal>, StoreError> {
    Ok(vet(db, None, tz, req, true)
        .await?
        .outcome
        .map(|c| c.vaccine_id))
}

/// What [`check_place`] found: the vaccine to book with and the site-day the slot belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub vaccine_id: i64,
    pub site_id: i64,
    pub day: String,
}

/// The outcome of [`check_place`], with the slot's site-day as it was read (to offer its free
/// places when the booking is refused); none when there is no such slot.
#[derive(Debug, Clone, PartialEq)]
pub struct Looked {
    pub outcome: Result<Checked, BookRefusal>,
    pub day: Option<Arc<DayView>>,
}

/// [`check`], also naming the slot's site-day, for the group-commit writer
/// ([`crate::commit::Writer::book`]); the site-day is looked at through `days`, so it may be a
/// moment old (see [`crate::days`]): the writer re-checks everything.
pub async fn check_place(
    db: &Db,
    days: &DayCache,
    tz: chrono_tz::Tz,
    req: &Request<'_>,
) -> Result<Looked, StoreError> {
    vet(db, Some(days), tz, req, true).await
}

/// The checks of a move to `req`'s slot, without the early refusal from the day's counts (a
/// move within one day gives a dose back as it takes one); the site-day is read now.
pub async fn check_move(
    db: &Db,
    tz: chrono_tz::Tz,
    req: &Request<'_>,
) -> Result<Result<Checked, BookRefusal>, StoreError> {
    Ok(vet(db, None, tz, req, false).await?.outcome)
}

/// [`check`], with the early "no room" refusal optional: a move within one day gives a dose back
/// as it takes one, so the day's count read beforehand says nothing about it. Without `days`
/// the site-day is read now.
async fn vet(
    db: &Db,
    days: Option<&DayCache>,
    tz: chrono_tz::Tz,
    req: &Request<'_>,
    early: bool,
) -> Result<Looked, StoreError> {
    let view = match days {
        Some(days) => days.of_slot(db, req.slot_id).await?,
        None => match slots::home(db, req.slot_id).await? {
            Some((site_id, day)) => Some(Arc::new(slots::day_view(db, site_id, &day).await?))
                .filter(|v| v.slot(req.slot_id).is_some()),
            None => None,
        },
    };
    let Some(view) = view else {
        return Ok(Looked {
            outcome: Err(BookRefusal::Store(Refusal::NoSlot)),
            day: None,
        });
    };
    let outcome = judge(db, tz, req, early, &view).await?;
    Ok(Looked {
        outcome,
        day: Some(view),
    })
}

async fn judge(
    db: &Db,
    tz: chrono_tz::Tz,
    req: &Request<'_>,
    early: bool,
    view: &DayView,
) -> Result<Result<Checked, BookRefusal>, StoreError> {
    let Some(slot) = view.slot(req.slot_id) else {
        return Ok(Err(BookRefusal::Store(Refusal::NoSlot)));
    };
    let Some(vaccine_id) = view.vaccine_id else {
        return Err(StoreError::NotFound("vaccine"));
    };
    // Walk-ins excepted, everyone's unit must be one the site serves (when it names any).
    if !req.walk_in && view.served_units.is_some() {
        for &person in req.people {
            if !sites::serves_person(db, view.site_id, person).await? {
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
        let day = NaiveDate::parse_from_str(&view.day, "%Y-%m-%d")
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
    let n = i64::try_from(req.people.len()).unwrap_or(i64::MAX);
    let free_places = slot.capacity - slot.booked;
    if early && free_places < n {
        return Ok(Err(BookRefusal::Store(Refusal::SlotFull {
            slot_id: req.slot_id,
            free: free_places,
        })));
    }
    let free_doses = view.doses_allocated - view.doses_booked;
    if early && free_doses < n {
        return Ok(Err(BookRefusal::Store(Refusal::NoDoses {
            site_id: view.site_id,
            day: view.day.clone(),
            free: free_doses,
        })));
    }
    Ok(Ok(Checked {
        vaccine_id,
        site_id: view.site_id,
        day: view.day.clone(),
    }))
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

/// A team booked: its code and number, and how many of its people went into which slot.
#[derive(Debug, Clone, PartialEq)]
pub struct TeamBooked {
    pub team: vaxloop_store::teams::Team,
    /// `(slot id, people)` in slot order.
    pub slots: Vec<(i64, usize)>,
    pub appointments: Vec<i64>,
}

/// The checks of [`check`] for a team starting at `first_slot`, without the early "no room":
/// the team spreads over consecutive slots, and its own plan decides whether it fits.
pub(crate) async fn team_vaccine(
    db: &Db,
    tz: chrono_tz::Tz,
    first_slot: i64,
    people: &[i64],
    dose_number: i64,
) -> Result<Result<i64, BookRefusal>, StoreError> {
    let req = Request {
        slot_id: first_slot,
        people,
        dose_number,
        team_id: None,
        walk_in: false,
    };
    Ok(vet(db, None, tz, &req, false)
        .await?
        .outcome
        .map(|c| c.vaccine_id))
}

/// A team's booking, checked and planned but not yet written.
pub struct PreparedTeam<'p> {
    pub(crate) vaccine_id: i64,
    pub(crate) plan: Vec<(slots::Slot, &'p [i64])>,
    pub(crate) dose_number: i64,
}

/// Checks a team of `people` for `first_slot` and plans where each goes.
pub async fn prepare_team<'p>(
    db: &Db,
    tz: chrono_tz::Tz,
    first_slot: i64,
    people: &'p [i64],
    dose_number: i64,
) -> Result<Result<PreparedTeam<'p>, BookRefusal>, StoreError> {
    let vaccine_id = match team_vaccine(db, tz, first_slot, people, dose_number).await? {
        Ok(v) => v,
        Err(refusal) => return Ok(Err(refusal)),
    };
    Ok(plan_team(db, first_slot, people, &[])
        .await?
        .map(|plan| PreparedTeam {
            vaccine_id,
            plan,
            dose_number,
        }))
}

/// Writes a prepared team as a new team of unit `unit_id`, on the caller's transaction.
pub async fn book_team_in(
    tx: &mut WriteTx,
    unit_id: i64,
    prepared: &PreparedTeam<'_>,
) -> Result<Result<TeamBooked, BookRefusal>, StoreError> {
    team_in(
        tx,
        TeamOf::New(unit_id),
        &prepared.plan,
        prepared.dose_number,
        prepared.vaccine_id,
    )
    .await
}

/// Books a team of a unit's people into a site-day from `first_slot` on: the first slot takes
/// as many as it has places, the next the rest, and so on through consecutive slots — all in one
/// transaction, so either everyone has a place or nobody does (a racing booking that takes a
/// place after the plan was made turns the whole team down, never half of it).
pub async fn book_team(
    db: &Db,
    tz: chrono_tz::Tz,
    unit_id: i64,
    first_slot: i64,
    people: &[i64],
    dose_number: i64,
) -> Result<Result<TeamBooked, BookRefusal>, StoreError> {
    let prepared = match prepare_team(db, tz, first_slot, people, dose_number).await? {
        Ok(p) => p,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let mut tx = db.begin_write().await?;
    let booked = book_team_in(&mut tx, unit_id, &prepared).await?;
    finish(tx, booked).await
}

/// Where a team's people go: `(slot, people)` through consecutive slots from `first_slot`, each
/// filled to its free places — counting as free the places listed in `own` (`(slot, places)`
/// the same people hold now and give up in the same transaction).
async fn plan_team<'p>(
    db: &Db,
    first_slot: i64,
    people: &'p [i64],
    own: &[(i64, i64)],
) -> Result<Result<Vec<(slots::Slot, &'p [i64])>, BookRefusal>, StoreError> {
    let Some(first) = slots::by_id(db, first_slot).await? else {
        return Ok(Err(BookRefusal::Store(Refusal::NoSlot)));
    };
    let mut plan = Vec::new();
    let mut rest = people;
    for slot in slots::of_site_day(db, first.site_id, &first.day).await? {
        if slot.starts_min < first.starts_min || rest.is_empty() {
            continue;
        }
        let held: i64 = own.iter().filter(|o| o.0 == slot.id).map(|o| o.1).sum();
        let free = usize::try_from(slot.capacity - slot.booked + held).unwrap_or(0);
        if free == 0 {
            if plan.is_empty() {
                continue;
            }
            break;
        }
        let (now, later) = rest.split_at(free.min(rest.len()));
        plan.push((slot, now));
        rest = later;
    }
    if !rest.is_empty() {
        let free = i64::try_from(people.len() - rest.len()).unwrap_or(0);
        return Ok(Err(BookRefusal::Store(Refusal::SlotFull {
            slot_id: first_slot,
            free,
        })));
    }
    Ok(Ok(plan))
}

/// Which team the people are booked as.
#[derive(Debug, Clone, PartialEq)]
pub enum TeamOf {
    /// No team: each person on their own (a resident, a walk-in, the desk's single booking).
    Nobody,
    /// A new team of this unit, numbered on the site-day; the unit hears of it in its inbox.
    New(i64),
    /// This team, kept.
    Existing(vaxloop_store::teams::Team),
}

/// A booking, checked and planned, ready for the write: its people in groups, each group into
/// one slot (consecutive slots of one site-day when a team spreads over several).
#[derive(Debug, Clone, PartialEq)]
pub struct Placement<'a> {
    /// The site-day of the first group (a team's new number is counted there).
    pub site_id: i64,
    pub day: &'a str,
    /// `(slot, people)` in slot order.
    pub groups: Vec<(i64, &'a [i64])>,
    pub dose_number: i64,
    pub vaccine_id: i64,
    pub team: TeamOf,
    pub walk_in: bool,
}

/// What a placement booked: the appointments (in the groups' order), the team (when it was
/// booked as one) and how many people went into which slot.
#[derive(Debug, Clone, PartialEq)]
pub struct Placed {
    pub appointments: Vec<i64>,
    pub team: Option<vaxloop_store::teams::Team>,
    pub slots: Vec<(i64, usize)>,
}

/// The one write every booking ends in — a resident's, the desk's, a walk-in, the API's,
/// a published plan's — on the caller's transaction: the team (when there is one) made or
/// kept, then every group booked through [`book_in`]; everyone or nobody (on a refusal the
/// caller rolls back).
pub async fn place_in(
    tx: &mut WriteTx,
    placement: &Placement<'_>,
    now: i64,
) -> Result<Result<Placed, BookRefusal>, StoreError> {
    if placement.groups.is_empty() {
        return Ok(Err(BookRefusal::Store(Refusal::NoSlot)));
    }
    let size: usize = placement.groups.iter().map(|(_, g)| g.len()).sum();
    let team = match &placement.team {
        TeamOf::Nobody => None,
        TeamOf::New(unit_id) => {
            let n = i64::try_from(size).unwrap_or(i64::MAX);
            let (site, day) = (placement.site_id, placement.day);
            let team = vaxloop_store::teams::insert(tx, *unit_id, site, day, n).await?;
            // The unit hears of every new team in its inbox (gone again if this rolls back).
            vaxloop_store::notifications::team_booked_in(tx, *unit_id, team.id, now).await?;
            Some(team)
        }
        TeamOf::Existing(team) => Some(team.clone()),
    };
    let mut appointments = Vec::with_capacity(size);
    for (slot_id, group) in &placement.groups {
        let req = Request {
            slot_id: *slot_id,
            people: group,
            dose_number: placement.dose_number,
            team_id: team.as_ref().map(|t| t.id),
            walk_in: placement.walk_in,
        };
        match book_in(tx, &req, placement.vaccine_id, now).await? {
            Ok(ids) => appointments.extend(ids),
            Err(refusal) => return Ok(Err(refusal)),
        }
    }
    Ok(Ok(Placed {
        appointments,
        team,
        slots: placement
            .groups
            .iter()
            .map(|(s, g)| (*s, g.len()))
            .collect(),
    }))
}

/// Books a planned team on the caller's transaction (see [`place_in`]).
pub(crate) async fn team_in(
    tx: &mut WriteTx,
    team: TeamOf,
    plan: &[(slots::Slot, &[i64])],
    dose_number: i64,
    vaccine_id: i64,
) -> Result<Result<TeamBooked, BookRefusal>, StoreError> {
    let Some((first, _)) = plan.first() else {
        return Ok(Err(BookRefusal::Store(Refusal::NoSlot)));
    };
    let placement = Placement {
        site_id: first.site_id,
        day: &first.day,
        groups: plan.iter().map(|(s, g)| (s.id, *g)).collect(),
        dose_number,
        vaccine_id,
        team,
        walk_in: false,
    };
    let placed = place_in(tx, &placement, vaxloop_store::now_ms()).await?;
    Ok(placed.and_then(|p| match p.team {
        Some(team) => Ok(TeamBooked {
            team,
            slots: p.slots,
            appointments: p.appointments,
        }),
        None => Err(BookRefusal::Store(Refusal::NoSlot)),
    }))
}

/// Commits when everyone was booked, rolls back otherwise.
pub(crate) async fn finish<T>(
    tx: WriteTx,
    outcome: Result<T, BookRefusal>,
) -> Result<Result<T, BookRefusal>, StoreError> {
    if outcome.is_ok() {
        tx.commit().await?;
    } else {
        tx.rollback().await?;
    }
    Ok(outcome)
}

/// Cancels every active appointment of a team on the caller's transaction: their places and
/// doses come back and the people wait to be booked again. Returns how many were cancelled.
pub async fn cancel_team_in(tx: &mut WriteTx, team_id: i64) -> Result<usize, StoreError> {
    let members = vaxloop_store::teams::members_in(tx, team_id).await?;
    let now = vaxloop_store::now_ms();
    let mut cancelled = 0;
    for (appointment, ..) in &members {
        if booking::cancel_in(tx, *appointment, now).await? {
            cancelled += 1;
        }
    }
    Ok(cancelled)
}

/// [`cancel_team_in`] in a transaction of its own.
pub async fn cancel_team(db: &Db, team_id: i64) -> Result<usize, StoreError> {
    let mut tx = db.begin_write().await?;
    let cancelled = cancel_team_in(&mut tx, team_id).await?;
    tx.commit().await?;
    Ok(cancelled)
}

/// A team's move, checked and planned but not yet written.
pub struct PreparedMove {
    team: vaxloop_store::teams::TeamRow,
    appointments: Vec<i64>,
    people: Vec<i64>,
    vaccine_id: i64,
    dose_number: i64,
    own: Vec<(i64, i64)>,
    first_slot: i64,
}

/// Checks a whole team's move to consecutive slots from `first_slot`.
pub async fn prepare_move(
    db: &Db,
    tz: chrono_tz::Tz,
    team: &vaxloop_store::teams::TeamRow,
    first_slot: i64,
) -> Result<Result<PreparedMove, BookRefusal>, StoreError> {
    let members = vaxloop_store::teams::members(db, team.id).await?;
    let Some(&(_, _, _, dose_number)) = members.first() else {
        return Err(StoreError::NotFound("active team"));
    };
    let people: Vec<i64> = members.iter().map(|m| m.1).collect();
    let vaccine_id = match team_vaccine(db, tz, first_slot, &people, dose_number).await? {
        Ok(v) => v,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let mut own: Vec<(i64, i64)> = Vec::new();
    for m in &members {
        match own.iter_mut().find(|o| o.0 == m.2) {
            Some(o) => o.1 += 1,
            None => own.push((m.2, 1)),
        }
    }
    // Checked now, planned again inside the write (the places may change meanwhile).
    if let Err(refusal) = plan_team(db, first_slot, &people, &own).await? {
        return Ok(Err(refusal));
    }
    Ok(Ok(PreparedMove {
        team: team.clone(),
        appointments: members.iter().map(|m| m.0).collect(),
        people,
        vaccine_id,
        dose_number,
        own,
        first_slot,
    }))
}

/// Writes a prepared move on the caller's transaction: everyone moves, or (when the new places
/// are not all there) the caller rolls back and the team keeps its old ones. On its own site-day
/// it stays the same team; elsewhere it is numbered and coloured anew on the new site-day.
pub async fn move_team_in(
    db: &Db,
    tx: &mut WriteTx,
    prepared: &PreparedMove,
) -> Result<Result<TeamBooked, BookRefusal>, StoreError> {
    let plan = match plan_team(db, prepared.first_slot, &prepared.people, &prepared.own).await? {
        Ok(plan) => plan,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let team = &prepared.team;
    let same_day = plan
        .first()
        .is_some_and(|(s, _)| s.site_id == team.site_id && s.day == team.day);
    let which = if same_day {
        TeamOf::Existing(vaxloop_store::teams::Team {
            id: team.id,
            code: team.code.clone(),
            number: team.number,
            colour: team.colour,
        })
    } else {
        TeamOf::New(team.unit_id)
    };
    let now = vaxloop_store::now_ms();
    for appointment in &prepared.appointments {
        if !booking::cancel_in(tx, *appointment, now).await? {
            // Someone changed the team meanwhile; the desk looks again.
            return Err(StoreError::NotFound("active appointment"));
        }
    }
    // Its shuttle was arranged for the old time: moved by hand, the team makes its own way
    // unless the desk plans it a bus again.
    vaxloop_store::teams::set_trips_in(tx, team.id, None).await?;
    team_in(tx, which, &plan, prepared.dose_number, prepared.vaccine_id).await
}

/// Moves a whole team to consecutive slots from `first_slot` — on its own day or another —
/// in one transaction of its own (see [`move_team_in`]).
pub async fn move_team(
    db: &Db,
    tz: chrono_tz::Tz,
    team: &vaxloop_store::teams::TeamRow,
    first_slot: i64,
) -> Result<Result<TeamBooked, BookRefusal>, StoreError> {
    let prepared = match prepare_move(db, tz, team, first_slot).await? {
        Ok(p) => p,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let mut tx = db.begin_write().await?;
    let moved = match move_team_in(db, &mut tx, &prepared).await {
        Ok(moved) => moved,
        Err(e) => {
            tx.rollback().await?;
            return Err(e);
        }
    };
    finish(tx, moved).await
}

/// Moves one person's active appointment to another slot in one transaction: the old place and
/// its dose come back and the new ones are taken, or — when the new slot is refused — the old
/// appointment stands untouched.
pub async fn reschedule(
    db: &Db,
    tz: chrono_tz::Tz,
    appointment_id: i64,
    new_slot: i64,
) -> Result<Result<Vec<i64>, BookRefusal>, StoreError> {
    let Some(old) = booking::appointment(db, appointment_id).await? else {
        return Err(StoreError::NotFound("appointment"));
    };
    let people = [old.person_id];
    let req = Request {
        slot_id: new_slot,
        people: &people,
        dose_number: old.dose_number,
        team_id: None,
        walk_in: false,
    };
    let vaccine_id = match vet(db, None, tz, &req, false).await?.outcome {
        Ok(c) => c.vaccine_id,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let now = vaxloop_store::now_ms();
    let mut tx = db.begin_write().await?;
    if !booking::cancel_in(&mut tx, appointment_id, now).await? {
        tx.rollback().await?;
        return Err(StoreError::NotFound("active appointment"));
    }
    let booked = book_in(&mut tx, &req, vaccine_id, now).await?;
    if booked.is_ok() {
        tx.commit().await?;
    } else {
        tx.rollback().await?;
    }
    Ok(booked)
}
