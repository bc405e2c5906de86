//! The screening doctor's page (预检) on a site tablet: today's queue of people checked in and
//! not yet screened (the green channel first, then by arrival; referred people come back to the
//! doctor), and for the one called, the vaccine's questions and the decision — pass, defer (why,
//! and from which day they may come again) or refer to the doctor.

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use vaxloop_app::stations::{Decision, Question, Site, Station, Waiting};
use vaxloop_core::SitePost;

use crate::AppState;
use crate::error::AppResult;
use crate::furniture::{Page, PageCtx, html};
use crate::i18n::Lang;

pub fn routes() -> Router<AppState> {
    Router::new().route("/sites/{code}/screening", get(show).post(decide))
}

#[derive(Template)]
#[template(path = "screening/screening.html")]
struct ScreeningPage {
    ctx: PageCtx,
    site: Site,
    /// The site\'s stations, this one marked.
    tabs: Vec<super::station::Tab>,
    queue: Vec<Waiting>,
    /// The person called, with the vaccine's questions (in the reader's language).
    called: Option<(Waiting, Vec<(Question, String)>)>,
    notice: Option<String>,
    /// Whether the notice is a refusal (styled as an error) rather than a success.
    refused: bool,
    /// What was entered on a refused form, shown again as entered.
    entered: Entered,
    /// Tomorrow, the earliest day a deferral may name.
    tomorrow: String,
}

/// A screening form as it was sent.
#[derive(Default)]
struct Entered {
    answers: Vec<(i64, bool)>,
    outcome: String,
    reason: String,
    until: String,
}

impl ScreeningPage {
    /// Whether question `id` was answered `yes` (or `no`, with `yes` false).
    fn answered(&self, id: &i64, yes: bool) -> bool {
        self.entered
            .answers
            .iter()
            .any(|a| a.0 == *id && a.1 == yes)
    }
}

async fn station(state: &AppState, page: &Page, code: &str) -> AppResult<Station> {
    super::station::station_of(state, page, code, SitePost::Screening).await
}

#[derive(Deserialize, Default)]
struct Call {
    visit: Option<i64>,
    done: Option<String>,
}

async fn render(
    state: &AppState,
    page: &Page,
    station: &Station,
    call: Option<i64>,
    notice: Option<String>,
) -> AppResult<ScreeningPage> {
    render_with(state, page, station, call, notice, None).await
}

/// As [`render`], for a refused form: its notice is an error and what was entered stays.
async fn render_with(
    state: &AppState,
    page: &Page,
    station: &Station,
    call: Option<i64>,
    notice: Option<String>,
    entered: Option<Entered>,
) -> AppResult<ScreeningPage> {
    let queue = station.queue(&state.app, &["waiting", "referred"]).await?;
    let called = match call.and_then(|id| queue.iter().find(|w| w.visit.id == id)) {
        Some(w) => {
            let shown = station
                .questions(&state.app, w.visit.id)
                .await?
                .into_iter()
                .map(|q| {
                    let text = q.text(page.lang == Lang::En).to_string();
                    (q, text)
                })
                .collect();
            Some((w.clone(), shown))
        }
        None => None,
    };
    let today = state.app.today();
    Ok(ScreeningPage {
        ctx: page.ctx("/site").await?,
        tabs: super::station::tabs(page.lang, station, SitePost::Screening),
        site: station.site().clone(),
        queue,
        called,
        notice,
        refused: entered.is_some(),
        entered: entered.unwrap_or_default(),
        tomorrow: today.succ_opt().map(|d| d.to_string()).unwrap_or_default(),
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
        .done
        .as_deref()
        .filter(|d| ["ready", "deferred", "referred"].contains(d))
        .map(|d| page.lang.t(&format!("screening.done_{d}")));
    html(&render(&state, &page, &station, call.visit, notice).await?)
}

/// The form: `q{id}` = `yes` | `no` per question, the outcome, and for a deferral its reason
/// and day. Read as pairs, since the questions vary by vaccine.
async fn decide(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let station = station(&state, &page, &code).await?;
    let field = |name: &str| crate::furniture::form_field(&form, name);
    let visit: i64 = field("visit").parse().unwrap_or(0);
    let answers: Vec<(i64, bool)> = form
        .iter()
        .filter_map(|(k, v)| {
            let id = k.strip_prefix('q')?.parse().ok()?;
            Some((id, v == "yes"))
        })
        .collect();
    let lang = page.lang;
    let entered = || Entered {
        answers: answers.clone(),
        outcome: field("outcome"),
        reason: field("reason"),
        until: field("until"),
    };
    let refuse = async |status: StatusCode, notice: String| -> AppResult<Response> {
        let shown = render_with(
            &state,
            &page,
            &station,
            Some(visit),
            Some(notice),
            Some(entered()),
        );
        Ok((status, html(&shown.await?)?).into_response())
    };
    let decision = match field("outcome").as_str() {
        "pass" => Decision::Pass,
        "refer" => Decision::Refer,
        "defer" => match chrono::NaiveDate::parse_from_str(&field("until"), "%Y-%m-%d") {
            Ok(until) => Decision::Defer {
                reason: field("reason"),
                until,
            },
            Err(_) => {
                let notice = lang.t("screening.until_invalid");
                return refuse(StatusCode::UNPROCESSABLE_ENTITY, notice).await;
            }
        },
        _ => {
            let notice = lang.t("screening.outcome_invalid");
            return refuse(StatusCode::UNPROCESSABLE_ENTITY, notice).await;
        }
    };
    match station
        .screen(&state.app, visit, &answers, &decision)
        .await?
    {
        Ok(stage) => {
            let to = format!("/sites/{code}/screening?done={stage}");
            Ok(Redirect::to(&to).into_response())
        }
        Err(refusal) => {
            let notice = crate::messages::screening(lang, &refusal);
            refuse(StatusCode::CONFLICT, notice).await
        }
    }
}
