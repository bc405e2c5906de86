//! The observation nurse's page (留观) on a site tablet: everyone in observation with a
//! countdown (overdue highlighted), the seats used against the zone's space, release (early
//! only with a reason), and the adverse-event (AEFI) report: onset, symptoms, severity and the
//! action taken. The list refreshes itself; the countdowns tick in the browser.

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use vaxloop_app::site_ops::{AEFI_ACTIONS, AEFI_SEVERITIES, AEFI_SYMPTOMS};
use vaxloop_app::stations::{AefiReport, Observed, ReleaseRefusal, Site, Station};
use vaxloop_core::SitePost;

use crate::AppState;
use crate::error::AppResult;
use crate::furniture::{Page, PageCtx, html};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/sites/{code}/observation", get(show))
        .route("/sites/{code}/observation/release", post(release_one))
        .route("/sites/{code}/observation/aefi", post(aefi))
}

/// A person in observation as listed.
struct Row {
    o: Observed,
    since: String,
    due: String,
    overdue: bool,
    /// Screening notes, in the reader's language.
    notes: Vec<String>,
}

#[derive(Template)]
#[template(path = "observation/observation.html")]
struct ObservationPage {
    ctx: PageCtx,
    site: Site,
    /// The site\'s stations, this one marked.
    tabs: Vec<super::station::Tab>,
    rows: Vec<Row>,
    seats: i64,
    notice: Option<String>,
    done: bool,
    /// The visit whose early release asks for a reason.
    early: Option<i64>,
    /// The AEFI form, for this visit, with what was entered.
    aefi: Option<AefiReport>,
    aefi_name: String,
    symptoms: &'static [&'static str],
    severities: &'static [&'static str],
    actions: &'static [&'static str],
    now_hhmm: String,
    /// Seconds between the list's refreshes.
    refresh: u32,
}

impl ObservationPage {
    /// Whether this person's early release waits for its reason.
    fn asks_reason(&self, visit: &i64) -> bool {
        self.early == Some(*visit)
    }

    /// Whether the AEFI form being filled names this symptom.
    fn has_symptom(&self, code: &str) -> bool {
        self.aefi
            .as_ref()
            .is_some_and(|a| a.symptoms.iter().any(|s| s == code))
    }
}

async fn station(state: &AppState, page: &Page, code: &str) -> AppResult<Station> {
    super::station::station_of(state, page, code, SitePost::Observation).await
}

#[derive(Deserialize, Default)]
struct Show {
    done: Option<String>,
    aefi: Option<i64>,
}

/// What the page shows besides the list.
#[derive(Default)]
struct Extra {
    notice: Option<String>,
    done: bool,
    early: Option<i64>,
    aefi: Option<AefiReport>,
}

async fn render(
    state: &AppState,
    page: &Page,
    station: &Station,
    extra: Extra,
) -> AppResult<ObservationPage> {
    let now = vaxloop_app::now_ms();
    let observing = station.observing(&state.app).await?;
    let ids: Vec<i64> = observing.iter().map(|o| o.visit_id).collect();
    let notes = station.notes(&state.app, &ids).await?;
    let mut notes = super::station::screening_notes(page.lang, notes);
    let mut rows = Vec::new();
    for o in observing {
        let notes = notes.remove(&o.visit_id).unwrap_or_default();
        rows.push(Row {
            since: state.config.local_hhmm(o.started_at),
            due: state.config.local_hhmm(o.due_at),
            overdue: o.due_at <= now,
            notes,
            o,
        });
    }
    let seats = station.observation_seats(&state.app).await?;
    let aefi_name = match &extra.aefi {
        Some(a) => rows
            .iter()
            .find(|r| r.o.visit_id == a.visit_id)
            .map(|r| r.o.name.clone())
            .unwrap_or_default(),
        None => String::new(),
    };
    Ok(ObservationPage {
        ctx: page.ctx("/site").await?,
        tabs: super::station::tabs(page.lang, station, SitePost::Observation),
        site: station.site().clone(),
        rows,
        seats,
        notice: extra.notice,
        done: extra.done,
        early: extra.early,
        aefi: extra.aefi,
        aefi_name,
        symptoms: AEFI_SYMPTOMS,
        severities: AEFI_SEVERITIES,
        actions: AEFI_ACTIONS,
        now_hhmm: state.config.local_hhmm(now),
        refresh: state.config.refresh_seconds.max(1),
    })
}

async fn show(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
    Query(q): Query<Show>,
) -> AppResult<Html<String>> {
    let station = station(&state, &page, &code).await?;
    let notice = q
        .done
        .as_deref()
        .filter(|d| ["released", "aefi"].contains(d))
        .map(|d| page.lang.t(&format!("observation.done_{d}")));
    let extra = Extra {
        done: notice.is_some(),
        notice,
        early: None,
        aefi: q.aefi.map(|visit_id| AefiReport {
            visit_id,
            ..Default::default()
        }),
    };
    html(&render(&state, &page, &station, extra).await?)
}

#[derive(Deserialize)]
struct ReleaseForm {
    visit: i64,
    #[serde(default)]
    reason: String,
}

async fn release_one(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
    Form(form): Form<ReleaseForm>,
) -> AppResult<Response> {
    let station = station(&state, &page, &code).await?;
    let reason = Some(form.reason.as_str());
    match station.release(&state.app, form.visit, reason).await? {
        Ok(()) => {
            Ok(Redirect::to(&format!("/sites/{code}/observation?done=released")).into_response())
        }
        Err(refusal) => {
            let extra = Extra {
                notice: Some(crate::messages::release(page.lang, &state, &refusal)),
                early: matches!(refusal, ReleaseRefusal::TooEarly { .. }).then_some(form.visit),
                ..Extra::default()
            };
            let body = html(&render(&state, &page, &station, extra).await?)?;
            Ok((StatusCode::CONFLICT, body).into_response())
        }
    }
}

async fn aefi(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let station = station(&state, &page, &code).await?;
    let field = |name: &str| crate::furniture::form_field(&form, name);
    let report = AefiReport {
        visit_id: field("visit").parse().unwrap_or(0),
        onset: field("onset"),
        symptoms: form
            .iter()
            .filter(|(k, _)| k == "symptom")
            .map(|(_, v)| v.clone())
            .collect(),
        note: field("note"),
        severity: field("severity"),
        action: field("action"),
        action_note: field("action_note"),
    };
    match station.report_aefi(&state.app, &report).await? {
        Ok(_) => Ok(Redirect::to(&format!("/sites/{code}/observation?done=aefi")).into_response()),
        Err(refusal) => {
            let extra = Extra {
                notice: Some(crate::messages::aefi(page.lang, &refusal)),
                aefi: Some(report),
                ..Extra::default()
            };
            let body = html(&render(&state, &page, &station, extra).await?)?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, body).into_response())
        }
    }
}
