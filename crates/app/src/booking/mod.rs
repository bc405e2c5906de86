//! Booking, as every caller reaches it: a resident books, moves or cancels their own place on
//! their phone; the desk books people through the API and whole teams from its page; site staff
//! record walk-ins. One entry each — [`book`], [`reschedule`], [`cancel`], and the desk's
//! [`desk`] use cases — deciding who may, then the [`engine`]'s checks. Every booking, from
//! every door (the resident's page, the desk's page and its teams, the API, the check-in desk's
//! walk-ins), rides the group-commit writer ([`crate::commit`]), with an `Idempotency-Key` when
//! the caller sends one, and ends in the one write, [`engine::place_in`] — which publishing a
//! plan also uses, for its teams, inside its own all-or-nothing transaction. Each booking and
//! cancellation writes its audit row (who, what, which appointment or team) in the transaction
//! that makes it, beside the person's journey events.

pub mod desk;
pub mod engine;

use std::sync::Arc;

use chrono::Days;
use vaxloop_core::Role;
use vaxloop_store::slots::DayView;
use vaxloop_store::{booking as stored, org, people, sites, slots};

pub use engine::{
    BookRefusal, Checked, Looked, Request, TeamBooked, book_in, check, check_place, default_vaccine,
};
pub use vaxloop_store::booking::{AppointmentView, Refusal};
pub use vaxloop_store::slots::Slot;
pub use vaxloop_store::teams::Team;

use crate::audit::{self, Act};
use crate::commit::{Keyed, Order, Written};
use crate::error::{Error, Result};
use crate::sites::Site;
use crate::{App, Caller, scope};

/// What to book: a slot, the people (none: the resident themselves), which dose (1 unless
/// said), whether it is a walk-in recorded at the site, and whether the people — one unit's,
/// booked as a team — may spread from this slot over the consecutive ones when it is short.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BookInput {
    pub slot_id: i64,
    pub people: Vec<i64>,
    pub dose: Option<i64>,
    pub walk_in: bool,
    pub spread: bool,
}

/// What became of a booking.
#[derive(Debug, Clone, PartialEq)]
pub enum Booking {
    /// Booked and committed, with the answer rendered for it (kept under the key, if any).
    Booked {
        appointments: Vec<i64>,
        team: Option<Team>,
        body: String,
    },
    /// Refused; nothing was kept. `body` is the refusal's answer as rendered.
    Refused { refusal: BookRefusal, body: String },
    /// A retry of a request already answered under its key: that answer.
    Replayed { status: i64, body: String },
    /// The key was used for another request, or its first request is still running.
    KeyReused,
}

/// The people a caller books: a resident only themselves; the desk and the admin anyone in a
/// unit they see. Several people of one unit become a team: its unit is returned with them. A
/// walk-in is not booked here: it is the check-in desk's act, for today's slot, with proof of
/// the person ([`crate::stations::Station::walk_in`]).
async fn whom(app: &App, caller: &Caller, input: &BookInput) -> Result<(Vec<i64>, Option<i64>)> {
    let roles = [Role::Resident, Role::Desk, Role::Admin];
    scope::require(app, caller, &roles).await?;
    if input.walk_in {
        return Err(Error::invalid("walk_in", "walk_in_at_check_in"));
    }
    let actor = caller.actor();
    let role = caller.role();
    if role == Some(Role::Resident) {
        let me = actor.and_then(|a| a.person_id).ok_or(Error::NotFound)?;
        return Ok((vec![me], None));
    }
    if input.people.is_empty() {
        return Err(Error::invalid("people", "people_required"));
    }
    let mut units = Vec::new();
    for &p in &input.people {
        let person = people::by_id(app.db(), p).await?;
        let unit = match &person {
            Some(p) => org::unit(app.db(), p.unit_id).await?,
            None => None,
        };
        if let Some(u) = &unit
            && !units.contains(&u.id)
        {
            units.push(u.id);
        }
        let visible = match actor {
            None => person.is_some(),
            Some(a) => unit.is_some_and(|u| scope::can_see_unit(a, &u)),
        };
        if !visible {
            let target = format!("{} person:{p}", caller.via);
            return Err(scope::deny_as(app, caller, &target).await);
        }
    }
    let team_of = match units.as_slice() {
        [unit] if (input.people.len() > 1 || input.spread) && !input.walk_in => Some(*unit),
        _ if input.spread => return Err(Error::invalid("people", "one_unit")),
        _ => None,
    };
    Ok((input.people.clone(), team_of))
}

/// A resident books `slot_id` for themselves (their own booking page): a resident's login only;
/// everyone else books through [`book`] naming whom.
pub async fn book_mine(app: &App, caller: &Caller, slot_id: i64) -> Result<Booking> {
    scope::require(app, caller, &[Role::Resident]).await?;
    // The dose they are due for next: the second after the first, and so on.
    let dose = match my_whereabouts(app, caller).await?.next {
        crate::whereabouts::Next::Book { dose, .. } => dose,
        _ => 1,
    };
    let input = BookInput {
        slot_id,
        dose: Some(dose),
        ..BookInput::default()
    };
    let no_body = |_: &[i64], _: Option<&Team>| String::new();
    book(app, caller, &input, None, no_body, |_, _| String::new()).await
}

/// Books for the caller (see [`whom`]) through the group-commit writer, with its audit row:
/// checked first (a moment-old view of the site-day turns away what cannot fit without
/// queueing; a team that may spread is planned over consecutive slots), then written
/// everyone-or-nobody. Every booking from a page or the API comes here. With an idempotency
/// `key`, the first request's answer is kept with it and a retry hears that answer; `booked` and
/// `refused` render the answers to keep (the refused one also gets the site-day's slots, to
/// offer others).
pub async fn book(
    app: &App,
    caller: &Caller,
    input: &BookInput,
    key: Option<&str>,
    booked: impl Fn(&[i64], Option<&Team>) -> String + Send + 'static,
    refused: impl FnOnce(&BookRefusal, &[Slot]) -> String,
) -> Result<Booking> {
    let (people, team_of) = whom(app, caller, input).await?;
    let dose = input.dose.unwrap_or(1).clamp(1, 5);
    let keyed = match (key, caller.user_id()) {
        (Some(key), Some(user_id)) => Some(Keyed {
            user_id,
            key: key.to_string(),
            request_hash: request_hash(app, input, &people, dose),
        }),
        _ => None,
    };
    let order = match order(app, caller, input, &people, dose, team_of).await? {
        Ok(order) => order,
        Err((refusal, day)) => {
            return refuse(app, input.slot_id, refusal, day, keyed, refused).await;
        }
    };
    let written = app.bookings().book(order, keyed.clone(), booked).await?;
    Ok(match written {
        Written::Booked {
            appointments,
            team,
            body,
        } => Booking::Booked {
            appointments,
            team,
            body,
        },
        Written::Refused(refusal) => {
            return refuse(app, input.slot_id, refusal, None, keyed, refused).await;
        }
        Written::Replayed { status, body } => Booking::Replayed { status, body },
        Written::KeyReused | Written::Gone => Booking::KeyReused,
    })
}

/// What the writer is to book for `input`, checked (and, for a team that may spread, planned
/// over consecutive slots); or the refusal, with the site-day as it was read.
async fn order(
    app: &App,
    caller: &Caller,
    input: &BookInput,
    people: &[i64],
    dose: i64,
    team_of: Option<i64>,
) -> Result<std::result::Result<Order, (BookRefusal, Option<Arc<DayView>>)>> {
    let by = caller.user_id();
    if input.spread {
        let prepared =
            engine::prepare_team(app.db(), app.tz(), input.slot_id, people, dose).await?;
        let prepared = match prepared {
            Ok(p) => p,
            Err(refusal) => return Ok(Err((refusal, None))),
        };
        let Some((first, _)) = prepared.plan.first() else {
            return Ok(Err((BookRefusal::Store(Refusal::NoSlot), None)));
        };
        return Ok(Ok(Order {
            site_id: first.site_id,
            day: first.day.clone(),
            groups: prepared
                .plan
                .iter()
                .map(|(s, g)| (s.id, g.to_vec()))
                .collect(),
            dose_number: dose,
            vaccine_id: prepared.vaccine_id,
            walk_in: false,
            team_of,
            by,
        }));
    }
    let req = Request {
        slot_id: input.slot_id,
        people,
        dose_number: dose,
        team_id: None,
        walk_in: input.walk_in,
    };
    let looked = check_place(app.db(), app.days(), app.tz(), &req).await?;
    Ok(match looked.outcome {
        Ok(checked) => Ok(Order {
            team_of,
            ..Order::of(&req, &checked, by)
        }),
        Err(refusal) => Err((refusal, looked.day)),
    })
}

/// A request's fingerprint, so that a key reused for another request is told apart.
fn request_hash(app: &App, input: &BookInput, people: &[i64], dose: i64) -> String {
    let (slot, walk_in) = (input.slot_id, input.walk_in);
    let spread = if input.spread { "|spread" } else { "" };
    crate::idempotency::fingerprint(app, &format!("{slot}|{people:?}|{dose}|{walk_in}{spread}"))
}

/// A refusal's answer, rendered with the site-day's slots (as just read, or read now) and kept
/// under the key, if any, so that a retry hears the same.
async fn refuse(
    app: &App,
    slot_id: i64,
    refusal: BookRefusal,
    day: Option<Arc<DayView>>,
    keyed: Option<Keyed>,
    render: impl FnOnce(&BookRefusal, &[Slot]) -> String,
) -> Result<Booking> {
    let body = match &day {
        Some(day) => render(&refusal, &day.slots),
        None => render(&refusal, &slots::of_same_day(app.db(), slot_id).await?),
    };
    let Some(keyed) = keyed else {
        return Ok(Booking::Refused { refusal, body });
    };
    Ok(match app.bookings().answer(keyed, 409, body).await? {
        Written::Replayed { status, body } => Booking::Replayed { status, body },
        _ => Booking::KeyReused,
    })
}

/// Cancels an appointment: a resident their own, the desk and the admin anyone's. Its place and
/// dose come back and the person waits to be booked again. False when it was not active.
pub async fn cancel(app: &App, caller: &Caller, appointment_id: i64) -> Result<bool> {
    let appointment = stored::appointment(app.db(), appointment_id).await?;
    scope::check(app, caller, |a| match (&appointment, a.role) {
        (Some(x), Role::Resident) => Some(x.person_id) == a.person_id,
        (Some(_), Role::Desk | Role::Admin) => true,
        _ => false,
    })
    .await?;
    cancel_now(app, caller, appointment_id).await
}

/// Cancels the caller's own appointment (the resident's page): whoever else asks — the desk and
/// the admin included — is refused here; they cancel through the desk or the API.
pub async fn cancel_own(app: &App, caller: &Caller, appointment_id: i64) -> Result<bool> {
    let appointment = stored::appointment(app.db(), appointment_id).await?;
    scope::check(app, caller, |a| {
        a.person_id.is_some() && appointment.as_ref().map(|x| x.person_id) == a.person_id
    })
    .await?;
    cancel_now(app, caller, appointment_id).await
}

async fn cancel_now(app: &App, caller: &Caller, appointment_id: i64) -> Result<bool> {
    // A deadlock with the booking writer on the same slot (PostgreSQL) rolls the cancellation
    // back whole; it goes again.
    let mut tries = 0;
    loop {
        tries += 1;
        let mut tx = app.db().begin_write().await?;
        let done = match stored::cancel_in(&mut tx, appointment_id, vaxloop_store::now_ms()).await {
            Ok(done) => done,
            Err(e) if tries < 5 && e.is_retryable() => {
                tx.rollback().await?;
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        if done {
            let target = format!("appointment:{appointment_id}");
            audit::write(&mut tx, caller, Act::new("cancel", &target)).await?;
        }
        tx.commit().await?;
        return Ok(done);
    }
}

/// Moves the caller's own appointment to another slot (the resident's "change time"): the old
/// place comes back and the new one is taken in one transaction, or — when the new slot is
/// refused — the old appointment stands.
pub async fn reschedule(
    app: &App,
    caller: &Caller,
    appointment_id: i64,
    new_slot: i64,
) -> Result<std::result::Result<Vec<i64>, BookRefusal>> {
    scope::require(app, caller, &[Role::Resident]).await?;
    let me = caller.actor().and_then(|a| a.person_id);
    let own = stored::appointment(app.db(), appointment_id)
        .await?
        .is_some_and(|a| Some(a.person_id) == me);
    if !own {
        let target = format!("{} move", caller.via);
        return Err(scope::deny_as(app, caller, &target).await);
    }
    let Some(old) = stored::appointment(app.db(), appointment_id).await? else {
        return Err(Error::NotFound);
    };
    let Some(old_site) = sites::by_code(app.db(), &old.site_code).await? else {
        return Err(Error::NotFound);
    };
    let (old_site, old_day) = (old_site.id, old.day.clone());
    let people = [old.person_id];
    let req = Request {
        slot_id: new_slot,
        people: &people,
        dose_number: old.dose_number,
        team_id: None,
        walk_in: false,
    };
    // No early refusal from the day's counts: a move within one day gives a dose back as it
    // takes one. The writer's conditional updates decide.
    let checked = match engine::check_move(app.db(), app.tz(), &req).await? {
        Ok(checked) => checked,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let moved = app
        .bookings()
        .move_to(
            Order::of(&req, &checked, caller.user_id()),
            (appointment_id, old_site, old_day),
        )
        .await?;
    Ok(match moved {
        Written::Booked { appointments, .. } => Ok(appointments),
        Written::Refused(refusal) => Err(refusal),
        Written::Gone | Written::Replayed { .. } | Written::KeyReused => {
            return Err(Error::NotFound);
        }
    })
}

/// The days a resident may book on: today and the next three.
const BOOKABLE_DAYS: u64 = 4;

/// What the resident's booking page offers.
#[derive(Debug, Clone)]
pub struct Choices {
    /// The sites that serve the resident's unit.
    pub sites: Vec<Site>,
    pub days: Vec<String>,
    pub site: Option<Site>,
    pub date: String,
    /// The chosen site-day's slots.
    pub slots: Vec<Slot>,
    /// The appointment being moved, when the resident came to change it.
    pub moving: Option<AppointmentView>,
    /// Where the resident stands: what they may book (the dose, from which day), or why not.
    pub next: crate::whereabouts::Next,
}

/// Where the calling resident stands (see [`crate::whereabouts`]).
async fn my_whereabouts(app: &App, caller: &Caller) -> Result<crate::whereabouts::Whereabouts> {
    let person = caller
        .actor()
        .and_then(|a| a.person_id)
        .ok_or(Error::NotFound)?;
    let person = people::by_id(app.db(), person)
        .await?
        .ok_or(Error::NotFound)?;
    Ok(crate::whereabouts::of_person(app.db(), app.tz(), app.today(), &person).await?)
}

/// The resident's booking page: only the sites that serve their unit, the bookable days, and —
/// with a site and day chosen — that day's slots.
pub async fn choices(
    app: &App,
    caller: &Caller,
    site: Option<&str>,
    date: Option<&str>,
    moving: Option<i64>,
) -> Result<Choices> {
    scope::require(app, caller, &[Role::Resident]).await?;
    let person = caller
        .actor()
        .and_then(|a| a.person_id)
        .ok_or(Error::NotFound)?;
    let today = app.today();
    let me = people::by_id(app.db(), person)
        .await?
        .ok_or(Error::NotFound)?;
    let next = crate::whereabouts::of_person(app.db(), app.tz(), today, &me)
        .await?
        .next;
    // The days offered: the bookable window, from the day their next dose is due; a move keeps
    // the whole window (the appointment's dose was due when it was booked).
    let from = match (&next, moving) {
        (crate::whereabouts::Next::Book { from, .. }, None) => *from,
        _ => today,
    };
    let days: Vec<String> = (0..BOOKABLE_DAYS)
        .filter_map(|d| today.checked_add_days(Days::new(d)))
        .filter(|d| *d >= from)
        .map(|d| d.to_string())
        .collect();
    let unit = me.unit_id;
    let all = sites::serving_unit(app.db(), unit).await?;
    let site = site.and_then(|c| all.iter().find(|s| s.code == c).cloned());
    let date = date
        .filter(|d| days.iter().any(|x| x == d))
        .map(str::to_string)
        .or_else(|| days.first().cloned())
        .unwrap_or_default();
    let moving = match moving {
        Some(id) => stored::appointment(app.db(), id)
            .await?
            .filter(|a| a.person_id == person),
        None => None,
    };
    let may_book = moving.is_some() || matches!(next, crate::whereabouts::Next::Book { .. });
    let slots = match &site {
        Some(s) if may_book && !date.is_empty() => {
            slots::of_site_day(app.db(), s.id, &date).await?
        }
        _ => vec![],
    };
    Ok(Choices {
        sites: all,
        days,
        site,
        date,
        slots,
        moving,
        next,
    })
}

/// A site-day's slots and the doses it may still promise, a moment old at most (see
/// [`crate::days`]; booking re-checks everything), for anyone logged in. `None` when there is no
/// such site.
pub async fn availability(
    app: &App,
    caller: &Caller,
    site: &str,
    date: chrono::NaiveDate,
) -> Result<Option<Arc<DayView>>> {
    if caller.role().is_none() {
        return Err(Error::Unauthenticated);
    }
    Ok(app
        .days()
        .of_site(app.db(), site, &date.to_string())
        .await?)
}
