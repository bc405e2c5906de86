//! Personal home pages: a resident's own record, a staff member's shifts.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Html;
use axum::routing::get;
use serde::Deserialize;
use vaxloop_app::org::Person;
use vaxloop_app::residents::{self, Next};

use crate::AppState;
use crate::error::AppResult;
use crate::furniture::{Page, PageCtx, html};
use crate::i18n::Lang;

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
    /// What just happened (booked, moved, cancelled), said once.
    notice: Option<String>,
    /// What the resident may do next, in words.
    next: NextStep,
    /// `(dose, state key, since)`.
    journeys: Vec<(i64, String, String)>,
    appointments: Vec<MyAppointment>,
}

/// The resident's next step: `kind` styles it, `text` says it, `book` labels the big booking
/// button when they may book.
struct NextStep {
    kind: &'static str,
    text: String,
    book: Option<String>,
}

/// An active appointment on the resident's page, with the presence code they state at the
/// vaccination desk.
struct MyAppointment {
    id: i64,
    dose: i64,
    site: String,
    address: String,
    vaccine: String,
    /// The day as people read it (`12月9日 周三`).
    day: String,
    from: String,
    to: String,
    presence: String,
}

#[derive(Deserialize, Default)]
struct MeQuery {
    done: Option<String>,
}

/// The next step, in the resident's language.
fn next_step(lang: Lang, next: &Next, unit: &str, today: chrono::NaiveDate) -> NextStep {
    let n = |d: &i64| d.to_string();
    let (kind, text) = match next {
        Next::Unconfirmed => ("waiting", lang.tf("me.next.unconfirmed", &[("unit", unit)])),
        Next::Book { dose, from } if *from > today => (
            "waiting",
            lang.tf(
                "me.next.book_from",
                &[("dose", &n(dose)), ("day", &lang.day(&from.to_string()))],
            ),
        ),
        Next::Book { dose, .. } => ("book", lang.tf("me.next.book", &[("dose", &n(dose))])),
        Next::Booked { dose } => ("booked", lang.tf("me.next.booked", &[("dose", &n(dose))])),
        Next::AtSite { dose } => ("booked", lang.tf("me.next.at_site", &[("dose", &n(dose))])),
        Next::Deferred { until: Some(d), .. } => (
            "waiting",
            lang.tf(
                "me.next.deferred_until",
                &[("day", &lang.day(&d.to_string()))],
            ),
        ),
        Next::Deferred { until: None, .. } => ("waiting", lang.t("me.next.deferred")),
        Next::Complete { doses } => ("done", lang.tf("me.next.complete", &[("n", &n(doses))])),
        Next::Declined => ("done", lang.t("me.next.declined")),
    };
    let book = match next {
        Next::Book { dose, .. } => Some(lang.tf("me.book_dose", &[("dose", &n(dose))])),
        _ => None,
    };
    NextStep { kind, text, book }
}

async fn me(
    State(state): State<AppState>,
    page: Page,
    Query(q): Query<MeQuery>,
) -> AppResult<Html<String>> {
    let record = residents::my_record(&state.app, &page.caller()).await?;
    let lang = page.lang;
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
                Some(day) => lang.tf("me.deferred_until", &[("day", day)]),
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
            address: a.address,
            vaccine: a.vaccine,
            day: lang.day(&a.day),
            from: vaxloop_core::hhmm(a.starts_min),
            to: vaxloop_core::hhmm(a.ends_min),
            presence: a.presence,
        })
        .collect();
    let next = next_step(
        lang,
        &record.whereabouts.next,
        &record.unit_name,
        state.config.today(),
    );
    let notice = q
        .done
        .as_deref()
        .filter(|d| ["booked", "moved", "cancelled"].contains(d))
        .map(|d| lang.t(&format!("me.done.{d}")));
    let (person, unit_name) = (record.person, record.unit_name);
    html(&MePage {
        ctx: page.ctx("/me").await?,
        person,
        unit_name,
        consent_at,
        notice,
        next,
        journeys,
        appointments,
    })
}

#[derive(Template)]
#[template(path = "people/staff.html")]
struct StaffPage {
    ctx: PageCtx,
    home: residents::StaffHome,
    /// Today's hours as `HH:MM–HH:MM`, when the site opens today.
    hours: Option<String>,
}

async fn staff(State(state): State<AppState>, page: Page) -> AppResult<Html<String>> {
    let home = residents::staff_home(&state.app, &page.caller()).await?;
    let hours = home
        .hours_today
        .map(|(a, b)| format!("{}–{}", vaxloop_core::hhmm(a), vaxloop_core::hhmm(b)));
    html(&StaffPage {
        ctx: page.ctx("/staff").await?,
        home,
        hours,
    })
}
