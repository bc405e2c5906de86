//! Personal home pages: a resident's own record, a staff member's shifts.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;
use vaxloop_app::org::Person;
use vaxloop_app::residents;

use crate::AppState;
use crate::error::AppResult;
use crate::furniture::{Page, PageCtx, html};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/me", get(me))
        .route("/staff", get(staff))
}

#[derive(Template)]
#[template(path = "people/me.html")]
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
    let record = residents::my_record(&state.app, &page.caller()).await?;
    let consent_at = record
        .person
        .consent_at
        .map(|t| state.config.local_time(t))
        .unwrap_or_default();
    let journeys = record
        .doses
        .iter()
        .map(|d| {
            // A deferral says from which day the person may come again.
            let since = match &d.deferred_until {
                Some(day) => page.lang.tf("me.deferred_until", &[("day", day)]),
                None => state.config.local_time(d.since),
            };
            (d.dose, format!("journey.{}", d.state), since)
        })
        .collect();
    let appointments = record
        .appointments
        .into_iter()
        .map(|a| MyAppointment {
            id: a.id,
            dose: a.dose,
            site: a.site,
            day: a.day,
            from: vaxloop_core::hhmm(a.starts_min),
            to: vaxloop_core::hhmm(a.ends_min),
            presence: a.presence,
        })
        .collect();
    let (person, unit_name) = (record.person, record.unit_name);
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
#[template(path = "people/staff.html")]
struct StaffPage {
    ctx: PageCtx,
    name: String,
}

async fn staff(State(state): State<AppState>, page: Page) -> AppResult<Html<String>> {
    let name = residents::staff_home(&state.app, &page.caller()).await?;
    html(&StaffPage {
        ctx: page.ctx("/staff").await?,
        name,
    })
}
