//! Each vaccine's screening questionnaire (预检问卷), for the admin: the questions in order, in
//! Chinese and English, and what a "yes" means — a note for the vaccinator and the nurse, a
//! deferral, or the doctor. Questions are added, edited, moved and removed here; screenings
//! already recorded keep their answers.

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use vaxloop_core::Role;
use vaxloop_store::audit::{self, Entry, Outcome};
use vaxloop_store::screening::{self, Question};
use vaxloop_store::vaccines::{self, Vaccine};

use super::{Page, PageCtx, html};
use crate::AppState;
use crate::access::require;
use crate::error::{AppError, AppResult};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/vaccines/{code}/screening", get(show).post(add))
        .route("/vaccines/{code}/screening/{id}", post(change))
}

/// What a "yes" may mean.
const ON_YES: &[&str] = &["note", "defer", "refer"];

#[derive(Template)]
#[template(path = "questions.html")]
struct QuestionsPage {
    ctx: PageCtx,
    vaccine: Vaccine,
    questions: Vec<Question>,
    on_yes: &'static [&'static str],
    notice: Option<String>,
    /// The field a refused form is about.
    problem: Option<String>,
}

async fn vaccine_of(state: &AppState, page: &Page, code: &str) -> AppResult<(Vaccine, i64)> {
    let path = format!("/vaccines/{code}/screening");
    let user = require(state, &page.auth, &[Role::Admin], &path).await?;
    let vaccine = vaccines::all(&state.db)
        .await?
        .into_iter()
        .find(|v| v.code == code)
        .ok_or(AppError::NotFound)?;
    Ok((vaccine, user.id))
}

async fn render(
    state: &AppState,
    page: &Page,
    vaccine: Vaccine,
    notice: Option<String>,
    problem: Option<String>,
) -> AppResult<Html<String>> {
    let questions = screening::questions(&state.db, vaccine.id).await?;
    html(&QuestionsPage {
        ctx: page.ctx("/stock").await?,
        vaccine,
        questions,
        on_yes: ON_YES,
        notice,
        problem,
    })
}

#[derive(Deserialize, Default)]
struct Done {
    done: Option<String>,
}

async fn show(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
    Query(q): Query<Done>,
) -> AppResult<Html<String>> {
    let (vaccine, _) = vaccine_of(&state, &page, &code).await?;
    let notice = q.done.is_some().then(|| page.lang.t("questions.saved"));
    render(&state, &page, vaccine, notice, None).await
}

#[derive(Deserialize)]
struct QuestionForm {
    #[serde(default)]
    text_zh: String,
    #[serde(default)]
    text_en: String,
    #[serde(default)]
    on_yes: String,
    /// `save`, `up`, `down` or `delete` (editing only).
    #[serde(default)]
    action: String,
}

/// The field that is wrong, if any.
fn invalid(form: &QuestionForm) -> Option<&'static str> {
    let ok = |t: &str| !t.trim().is_empty() && t.trim().chars().count() <= 200;
    if !ok(&form.text_zh) {
        Some("text_zh")
    } else if !ok(&form.text_en) {
        Some("text_en")
    } else if !ON_YES.contains(&form.on_yes.as_str()) {
        Some("on_yes")
    } else {
        None
    }
}

async fn refuse(
    state: &AppState,
    page: &Page,
    vaccine: Vaccine,
    field: &str,
) -> AppResult<Response> {
    let notice = page.lang.t(&format!("questions.invalid_{field}"));
    let body = render(state, page, vaccine, Some(notice), Some(field.into())).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, body).into_response())
}

async fn audited(state: &AppState, actor: i64, vaccine: &Vaccine, what: &str) -> AppResult<()> {
    let target = format!("vaccine:{}", vaccine.code);
    let entry = Entry {
        actor_user_id: Some(actor),
        action: "screening.questions",
        target: &target,
        reason: None,
        outcome: Outcome::Ok,
        detail: Some(what),
    };
    audit::record(&state.db, &entry, vaxloop_store::now_ms()).await?;
    Ok(())
}

async fn add(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
    Form(form): Form<QuestionForm>,
) -> AppResult<Response> {
    let (vaccine, actor) = vaccine_of(&state, &page, &code).await?;
    if let Some(field) = invalid(&form) {
        return refuse(&state, &page, vaccine, field).await;
    }
    let id = screening::append_question(
        &state.db,
        vaccine.id,
        form.text_zh.trim(),
        form.text_en.trim(),
        &form.on_yes,
    )
    .await?;
    audited(&state, actor, &vaccine, &format!("add {id}")).await?;
    Ok(Redirect::to(&format!("/vaccines/{code}/screening?done=1")).into_response())
}

async fn change(
    State(state): State<AppState>,
    page: Page,
    Path((code, id)): Path<(String, i64)>,
    Form(form): Form<QuestionForm>,
) -> AppResult<Response> {
    let (vaccine, actor) = vaccine_of(&state, &page, &code).await?;
    let done = match form.action.as_str() {
        "up" | "down" => {
            screening::move_question(&state.db, vaccine.id, id, form.action == "up").await?
        }
        "delete" => screening::delete_question(&state.db, vaccine.id, id).await?,
        _ => {
            if let Some(field) = invalid(&form) {
                return refuse(&state, &page, vaccine, field).await;
            }
            screening::update_question(
                &state.db,
                vaccine.id,
                id,
                form.text_zh.trim(),
                form.text_en.trim(),
                &form.on_yes,
            )
            .await?
        }
    };
    if !done && form.action != "up" && form.action != "down" {
        return Err(AppError::NotFound);
    }
    let action = if form.action.is_empty() {
        "save"
    } else {
        form.action.as_str()
    };
    audited(&state, actor, &vaccine, &format!("{action} {id}")).await?;
    Ok(Redirect::to(&format!("/vaccines/{code}/screening?done=1")).into_response())
}
