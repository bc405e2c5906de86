//! The appointment desk's own bookings, from its page: a unit's next waiting people booked as one
//! team from a slot on (through consecutive slots, everyone or nobody), a team moved whole, or a
//! team cancelled. Each is audited in its own transaction.

use chrono::{NaiveTime, Timelike};
use vaxloop_core::Role;
use vaxloop_store::teams::{self, TeamRow};
use vaxloop_store::{WriteTx, journeys, org, sites, slots};

use super::engine::{self, BookRefusal, TeamBooked};
use super::{BookInput, Booking, Team};
use crate::audit::{self, Act};
use crate::error::{Error, Result};
use crate::{App, Caller, scope};

/// Why the desk's team form was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum DeskRefusal {
    UnknownUnit,
    UnknownSite,
    /// No slot of that site-day starts at that time.
    NoSuchSlot,
    /// A team is 1 to 500 people.
    SizeRange,
    /// The unit has fewer people waiting than asked for.
    TooFewWaiting,
    /// The booking itself was refused (full, no doses, …); nothing changed.
    Booking(BookRefusal),
}

/// The slot of a site-day starting at `start` (`HH:MM`), as the desk's forms name it.
async fn slot_at(
    app: &App,
    site: &str,
    day: &str,
    start: &str,
) -> Result<std::result::Result<(sites::Site, slots::Slot), DeskRefusal>> {
    let Some(site) = sites::by_code(app.db(), site.trim()).await? else {
        return Ok(Err(DeskRefusal::UnknownSite));
    };
    let Ok(start) = NaiveTime::parse_from_str(start.trim(), "%H:%M") else {
        return Ok(Err(DeskRefusal::NoSuchSlot));
    };
    let start = i64::from(start.hour() * 60 + start.minute());
    let slot = slots::of_site_day(app.db(), site.id, day.trim())
        .await?
        .into_iter()
        .find(|s| s.starts_min == start);
    Ok(slot.map(|s| (site, s)).ok_or(DeskRefusal::NoSuchSlot))
}

/// Where a team goes, as the desk's form says it: a site's code, a day and a first slot's start.
#[derive(Debug, Clone, Default)]
pub struct Place {
    pub site: String,
    pub day: String,
    /// `HH:MM`.
    pub start: String,
}

/// Books unit `unit`'s next `size` people waiting for a first dose as one team at `place`,
/// spread over consecutive slots when the first is short — through [`super::book`], like every
/// booking, so it rides the group-commit writer and is audited there.
pub async fn book_team(
    app: &App,
    caller: &Caller,
    unit: &str,
    place: &Place,
    size: &str,
) -> Result<std::result::Result<Team, DeskRefusal>> {
    scope::require(app, caller, &[Role::Admin, Role::Desk]).await?;
    let Some(unit) = org::unit_by_code(app.db(), unit.trim()).await? else {
        return Ok(Err(DeskRefusal::UnknownUnit));
    };
    let slot = match slot_at(app, &place.site, &place.day, &place.start).await? {
        Ok((_, slot)) => slot,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let Some(size) = size
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|n| (1..=500).contains(n))
    else {
        return Ok(Err(DeskRefusal::SizeRange));
    };
    let people = journeys::waiting_of_unit(app.db(), unit.id, 1, size).await?;
    if (people.len() as i64) < size {
        return Ok(Err(DeskRefusal::TooFewWaiting));
    }
    let input = BookInput {
        slot_id: slot.id,
        people,
        dose: Some(1),
        walk_in: false,
        spread: true,
    };
    let quiet = |_: &[i64], _: Option<&Team>| String::new();
    match super::book(app, caller, &input, None, quiet, |_, _| String::new()).await? {
        Booking::Booked {
            team: Some(team), ..
        } => Ok(Ok(team)),
        Booking::Refused { refusal, .. } => Ok(Err(DeskRefusal::Booking(refusal))),
        other => Err(Error::Internal(format!(
            "a team booking answered {other:?}"
        ))),
    }
}

/// Commits a team's booking with its audit row (`what` names the action, target and detail), or
/// rolls it back when it was refused.
async fn written(
    mut tx: WriteTx,
    caller: &Caller,
    booked: std::result::Result<TeamBooked, BookRefusal>,
    what: impl FnOnce(&TeamBooked) -> (&'static str, String, String),
) -> Result<std::result::Result<TeamBooked, DeskRefusal>> {
    match booked {
        Ok(team) => {
            let (action, target, detail) = what(&team);
            audit::write(&mut tx, caller, Act::new(action, &target).detail(&detail)).await?;
            tx.commit().await?;
            Ok(Ok(team))
        }
        Err(refusal) => {
            tx.rollback().await?;
            Ok(Err(DeskRefusal::Booking(refusal)))
        }
    }
}

/// The team coded `code`, while it holds appointments.
async fn active_team(app: &App, code: &str) -> Result<TeamRow> {
    teams::by_code(app.db(), code)
        .await?
        .filter(|t| t.active > 0)
        .ok_or(Error::NotFound)
}

/// Cancels a whole team: every member's place and dose come back, and they wait to be booked
/// again. Returns the team as it was.
pub async fn cancel_team(app: &App, caller: &Caller, code: &str) -> Result<TeamRow> {
    scope::require(app, caller, &[Role::Admin, Role::Desk]).await?;
    let team = active_team(app, code).await?;
    let mut tx = app.db().begin_write().await?;
    let n = engine::cancel_team_in(&mut tx, team.id).await?;
    let target = format!("team:{} unit:{}", team.code, team.unit_code);
    let detail = format!("people={n}");
    audit::write(
        &mut tx,
        caller,
        Act::new("cancel_team", &target).detail(&detail),
    )
    .await?;
    tx.commit().await?;
    Ok(team)
}

/// Moves a whole team to another start (another slot, day or site): all of it, or — when the new
/// places are not all free — none of it, and the team keeps its old places.
pub async fn move_team(
    app: &App,
    caller: &Caller,
    code: &str,
    place: &Place,
) -> Result<std::result::Result<TeamBooked, DeskRefusal>> {
    scope::require(app, caller, &[Role::Admin, Role::Desk]).await?;
    let team = active_team(app, code).await?;
    let (site, slot) = match slot_at(app, &place.site, &place.day, &place.start).await? {
        Ok(found) => found,
        Err(refusal) => return Ok(Err(refusal)),
    };
    // A deadlock with the booking writer on the same slots (PostgreSQL) rolls the move back
    // whole; it is prepared and tried again.
    let mut tries = 0;
    let (tx, moved) = loop {
        tries += 1;
        let prepared = match engine::prepare_move(app.db(), app.tz(), &team, slot.id).await? {
            Ok(p) => p,
            Err(refusal) => return Ok(Err(DeskRefusal::Booking(refusal))),
        };
        let mut tx = app.db().begin_write().await?;
        match engine::move_team_in(app.db(), &mut tx, &prepared).await {
            Ok(moved) => break (tx, moved),
            Err(e) => {
                tx.rollback().await?;
                if tries < 5 && e.is_retryable() {
                    continue;
                }
                return Err(e.into());
            }
        }
    };
    written(tx, caller, moved, |now| {
        let target = format!("team:{} unit:{}", team.code, team.unit_code);
        let detail = format!(
            "to={} site:{} day:{} slots={}",
            now.team.code,
            site.code,
            slot.day,
            now.slots.len()
        );
        ("move_team", target, detail)
    })
    .await
}
