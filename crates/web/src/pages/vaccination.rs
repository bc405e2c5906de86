//! The vaccinator's page (接种) on a site tablet: today's queue of people screened and passed
//! (the green channel first), and for the one called, what screening noted, the presence code
//! they state (or the identity card, checked), the lot — in stock here, not expired, the opened
//! vial first — and their observation minutes.

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use vaxloop_app::stations::{DoseGiven, LotChoice, Proof, Site, Station, Waiting};
use vaxloop_core::SitePost;

use crate::AppState;
use crate::error::AppResult;
use crate::furniture::{Page, PageCtx, html};

pub fn routes() -> Router<AppState> {
    Router::new().route("/sites/{code}/vaccination", get(show).post(give))
}

/// A lot as the form offers it.
struct LotOption {
    lot: LotChoice,
    /// "open vial: 3 left, until 14:20", or empty.
    vial: String,
}

/// The person called.
struct Called {
    who: Waiting,
    /// Screening notes (questions answered yes), in the reader's language.
    notes: Vec<String>,
    lots: Vec<LotOption>,
    minutes: i64,
    /// The vaccine the dose is of, by its name.
    vaccine: String,
}

#[derive(Template)]
#[template(path = "vaccination/vaccination.html")]
struct VaccinationPage {
    ctx: PageCtx,
    site: Site,
    /// The site\'s stations, this one marked.
    tabs: Vec<super::station::Tab>,
    queue: Vec<Waiting>,
    called: Option<Called>,
    notice: Option<String>,
    /// Whether the notice reports a success.
    done: bool,
}

async fn station(state: &AppState, page: &Page, code: &str) -> AppResult<Station> {
    super::station::station_of(state, page, code, SitePost::Vaccinator).await
}

#[derive(Deserialize, Default)]
struct Call {
    visit: Option<i64>,
    /// Observation due time after a dose, `HH:MM`.
    due: Option<String>,
}

async fn render(
    state: &AppState,
    page: &Page,
    station: &Station,
    call: Option<i64>,
    notice: Option<String>,
    done: bool,
) -> AppResult<VaccinationPage> {
    let queue = station.queue(&state.app, &["ready"]).await?;
    let called = match call.and_then(|id| queue.iter().find(|w| w.visit.id == id)) {
        Some(w) => Some(called(state, page, station, w).await?),
        None => None,
    };
    Ok(VaccinationPage {
        ctx: page.ctx("/site").await?,
        tabs: super::station::tabs(page.lang, station, SitePost::Vaccinator),
        site: station.site().clone(),
        queue,
        called,
        notice,
        done,
    })
}

async fn called(
    state: &AppState,
    page: &Page,
    station: &Station,
    w: &Waiting,
) -> AppResult<Called> {
    let choice = station.dose_choice(&state.app, w.visit.id).await?;
    let (lots, minutes, vaccine) = choice.map_or((Vec::new(), 30, String::new()), |c| {
        (c.lots, c.observation_minutes, c.vaccine_name)
    });
    let lots = lots
        .into_iter()
        .map(|lot| {
            let vial = match lot.open_vial {
                Some((_, left, until)) => page.lang.tf(
                    "vaccination.open_vial",
                    &[
                        ("n", &left.to_string()),
                        ("until", &state.config.local_hhmm(until)),
                    ],
                ),
                None => String::new(),
            };
            LotOption { lot, vial }
        })
        .collect();
    let notes = station.notes(&state.app, &[w.visit.id]).await?;
    let notes = super::station::screening_notes(page.lang, notes)
        .remove(&w.visit.id)
        .unwrap_or_default();
    Ok(Called {
        who: w.clone(),
        notes,
        lots,
        minutes,
        vaccine,
    })
}

async fn show(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
    Query(call): Query<Call>,
) -> AppResult<Html<String>> {
    let station = station(&state, &page, &code).await?;
    let notice = call
        .due
        .as_deref()
        .filter(|d| d.len() == 5 && d.as_bytes()[2] == b':')
        .map(|d| page.lang.tf("vaccination.done", &[("due", d)]));
    let done = notice.is_some();
    html(&render(&state, &page, &station, call.visit, notice, done).await?)
}

#[derive(Deserialize)]
struct GiveForm {
    visit: i64,
    #[serde(default)]
    lot: Option<i64>,
    #[serde(default)]
    presence: String,
    /// "1" when the vaccinator checked the identity card instead.
    #[serde(default)]
    id_card: Option<String>,
    #[serde(default)]
    minutes: Option<String>,
}

async fn give(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
    Form(form): Form<GiveForm>,
) -> AppResult<Response> {
    let station = station(&state, &page, &code).await?;
    let lang = page.lang;
    let refuse = |notice: String, status: StatusCode| {
        let (state, page, station) = (&state, &page, &station);
        async move {
            let body =
                html(&render(state, page, station, Some(form.visit), Some(notice), false).await?)?;
            AppResult::Ok((status, body).into_response())
        }
    };
    let Some(lot) = form.lot else {
        return refuse(
            lang.t("vaccination.lot_required"),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let minutes = match form
        .minutes
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty())
    {
        None => None,
        Some(m) => match m.parse::<i64>() {
            Ok(m) => Some(m),
            Err(_) => {
                return refuse(
                    lang.t("vaccination.minutes"),
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await;
            }
        },
    };
    let proof = if form.id_card.as_deref() == Some("1") {
        Proof::IdCard
    } else if form.presence.trim().is_empty() {
        return refuse(
            lang.t("vaccination.code_required"),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    } else {
        Proof::Code(form.presence.trim().to_string())
    };
    let d = DoseGiven {
        visit_id: form.visit,
        lot_id: lot,
        proof,
        minutes,
    };
    match station.vaccinate(&state.app, &d).await? {
        Ok(given) => {
            let due = state.config.local_hhmm(given.due_at);
            Ok(Redirect::to(&format!("/sites/{code}/vaccination?due={due}")).into_response())
        }
        Err(refusal) => {
            refuse(
                crate::messages::vaccination(lang, &refusal),
                StatusCode::CONFLICT,
            )
            .await
        }
    }
}
