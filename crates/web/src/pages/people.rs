//! Personal home pages: a resident's own record, a staff member's shifts.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;
use vaxloop_core::Role;
use vaxloop_store::people::Person;
use vaxloop_store::{journeys, org, people};

use super::{Page, PageCtx, html};
use crate::AppState;
use crate::access::require;
use crate::error::{AppError, AppResult};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/me", get(me))
        .route("/staff", get(staff))
}

#[derive(Template)]
#[template(path = "me.html")]
struct MePage {
    ctx: PageCtx,
    person: Person,
    unit_name: String,
    consent_at: String,
    /// `(dose, state key, since)`.
    journeys: Vec<(i64, String, String)>,
    appointments: Vec<MyAppointment>,
}

/// An active appointment on the resident's page, with the presence code they state at the
/// vaccination desk.
struct MyAppointment {
    id: i64,
    dose: i64,
    site: String,
    day: String,
    from: String,
    to: String,
    presence: String,
}

async fn me(State(state): State<AppState>, page: Page) -> AppResult<Html<String>> {
    let user = require(&state, &page.auth, &[Role::Resident], "/me").await?;
    let person_id = user.person_id.ok_or(AppError::NotFound)?;
    let person = people::by_id(&state.db, person_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let unit_name = org::unit(&state.db, person.unit_id)
        .await?
        .map(|u| u.name)
        .unwrap_or_default();
    let consent_at = person
        .consent_at
        .map(|t| state.config.local_time(t))
        .unwrap_or_default();
    let mut journeys = Vec::new();
    for (dose, s, at) in journeys::of_person(&state.db, person_id).await? {
        // A deferral says from which day the person may come again.
        let until = if s == vaxloop_core::JourneyState::Deferred {
            vaxloop_store::screening::deferred_until(&state.db, person_id, dose).await?
        } else {
            None
        };
        let since = match until {
            Some(day) => page.lang.tf("me.deferred_until", &[("day", &day)]),
            None => state.config.local_time(at),
        };
        journeys.push((dose, format!("journey.{s}"), since));
    }
    let appointments = vaxloop_store::booking::active_of_person(&state.db, person_id)
        .await?
        .into_iter()
        .map(|a| MyAppointment {
            presence: state.cipher.presence_code(a.id),
            id: a.id,
            dose: a.dose_number,
            site: a.site_name,
            day: a.day,
            from: vaxloop_core::hhmm(a.starts_min),
            to: vaxloop_core::hhmm(a.ends_min),
        })
        .collect();
    html(&MePage {
        ctx: page.ctx("/me").await?,
        person,
        unit_name,
        consent_at,
        journeys,
        appointments,
    })
}

#[derive(Template)]
#[template(path = "staff.html")]
struct StaffPage {
    ctx: PageCtx,
    name: String,
}

async fn staff(State(state): State<AppState>, page: Page) -> AppResult<Html<String>> {
    let user = require(&state, &page.auth, &[Role::Staff], "/staff").await?;
    let name = user.display_name.clone();
    html(&StaffPage {
        ctx: page.ctx("/staff").await?,
        name,
    })
}
