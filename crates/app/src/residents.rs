//! A resident's own record, as their phone shows it: who they are (masked), their unit, each
//! dose's state, and their active appointments with the presence code they state at the
//! vaccination desk.

use vaxloop_core::{JourneyState, Role};
use vaxloop_store::people::{self, Person};
use vaxloop_store::{booking, journeys, org, screening};

use crate::error::{Error, Result};
pub use crate::whereabouts::{Next, Whereabouts};
use crate::{App, Caller, scope};

/// One dose's state.
#[derive(Debug, Clone, PartialEq)]
pub struct DoseState {
    pub dose: i64,
    pub state: JourneyState,
    /// When it entered that state (milliseconds since the epoch).
    pub since: i64,
    /// For a deferral: the day from which the person may come again.
    pub deferred_until: Option<String>,
}

/// An active appointment.
#[derive(Debug, Clone, PartialEq)]
pub struct MyAppointment {
    pub id: i64,
    pub dose: i64,
    pub site: String,
    pub day: String,
    pub starts_min: i64,
    pub ends_min: i64,
    /// The 4-digit code that proves the person is at the vaccination desk.
    pub presence: String,
    pub address: String,
    pub vaccine: String,
}

/// A resident's page.
#[derive(Debug, Clone)]
pub struct MyRecord {
    pub person: Person,
    pub unit_name: String,
    pub doses: Vec<DoseState>,
    pub appointments: Vec<MyAppointment>,
    /// The doses given, and what the person may do next.
    pub whereabouts: Whereabouts,
}

/// The logged-in resident's own record.
pub async fn my_record(app: &App, caller: &Caller) -> Result<MyRecord> {
    scope::require(app, caller, &[Role::Resident]).await?;
    let person_id = caller
        .actor()
        .and_then(|a| a.person_id)
        .ok_or(Error::NotFound)?;
    let db = app.db();
    let person = people::by_id(db, person_id).await?.ok_or(Error::NotFound)?;
    let unit_name = org::unit(db, person.unit_id)
        .await?
        .map(|u| u.name)
        .unwrap_or_default();
    let mut doses = Vec::new();
    for (dose, state, since) in journeys::of_person(db, person_id).await? {
        let deferred_until = if state == JourneyState::Deferred {
            screening::deferred_until(db, person_id, dose).await?
        } else {
            None
        };
        doses.push(DoseState {
            dose,
            state,
            since,
            deferred_until,
        });
    }
    let appointments = booking::active_of_person(db, person_id)
        .await?
        .into_iter()
        .map(|a| MyAppointment {
            presence: app.cipher().presence_code(a.id),
            id: a.id,
            dose: a.dose_number,
            site: a.site_name,
            day: a.day,
            starts_min: a.starts_min,
            ends_min: a.ends_min,
            address: a.site_address,
            vaccine: a.vaccine_name,
        })
        .collect();
    let whereabouts = crate::whereabouts::of_person(db, app.tz(), app.today(), &person).await?;
    Ok(MyRecord {
        person,
        unit_name,
        doses,
        appointments,
        whereabouts,
    })
}

/// What a staff member or volunteer sees before rosters exist: who they are, the site they are
/// assigned to (if any), how its people flow through its zones, its hours today, and who runs
/// it — the person to call.
#[derive(Debug, Clone)]
pub struct StaffHome {
    pub name: String,
    pub site: Option<vaxloop_store::sites::Site>,
    pub zones: Vec<vaxloop_store::sites::Zone>,
    /// Today's first slot start and last slot end (minutes past midnight), when it opens today.
    pub hours_today: Option<(i64, i64)>,
    /// The site's managers, by the names their logins carry.
    pub managers: Vec<String>,
}

/// The logged-in staff member's page.
pub async fn staff_home(app: &App, caller: &Caller) -> Result<StaffHome> {
    scope::require(app, caller, &[Role::Staff]).await?;
    let actor = caller.actor().ok_or(Error::Unauthenticated)?;
    let db = app.db();
    let site = match actor.site_id {
        Some(id) => vaxloop_store::sites::by_id(db, id).await?,
        None => None,
    };
    let (zones, hours_today, managers) = match &site {
        Some(s) => {
            let slots =
                vaxloop_store::slots::of_site_day(db, s.id, &app.today().to_string()).await?;
            let hours = slots
                .iter()
                .map(|x| x.starts_min)
                .min()
                .zip(slots.iter().map(|x| x.ends_min).max());
            let managers = vaxloop_store::users::list_staff(db)
                .await?
                .into_iter()
                .filter(|u| {
                    u.site_id == Some(s.id) && u.site_post == Some(vaxloop_core::SitePost::Manager)
                })
                .map(|u| u.display_name)
                .collect();
            (
                vaxloop_store::sites::zones(db, s.id).await?,
                hours,
                managers,
            )
        }
        None => (Vec::new(), None, Vec::new()),
    };
    Ok(StaffHome {
        name: actor.display_name.clone(),
        site,
        zones,
        hours_today,
        managers,
    })
}
