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
use vaxloop_app::questions::{self, Change, ON_YES, Question, QuestionInput, Vaccine};

use crate::AppState;
use crate::error::AppResult;
use crate::furniture::{Page, PageCtx, html};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/vaccines/{code}/screening", get(show).post(add))
        .route("/vaccines/{code}/screening/{id}", post(change))
}

#[derive(Template)]
#[template(path = "questions/questions.html")]
struct QuestionsPage {
    ctx: PageCtx,
    vaccine: Vaccine,
    questions: Vec<Question>,
    on_yes: &'static [&'static str],
    notice: Option<String>,
    /// The field a refused form is about.
    problem: Option<String>,
}

async fn render(
    page: &Page,
    vaccine: Vaccine,
    questions: Vec<Question>,
    notice: Option<String>,
    problem: Option<String>,
) -> AppResult<Html<String>> {
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
    let (vaccine, questions) = questions::questionnaire(&state.app, &page.caller(), &code).await?;
    let notice = q.done.is_some().then(|| page.lang.t("questions.saved"));
    render(&page, vaccine, questions, notice, None).await
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

impl QuestionForm {
    fn input(&self) -> QuestionInput {
        QuestionInput {
            text_zh: self.text_zh.clone(),
            text_en: self.text_en.clone(),
            on_yes: self.on_yes.clone(),
        }
    }
}

/// The questionnaire again, with what to correct.
async fn refuse(state: &AppState, page: &Page, code: &str, field: &str) -> AppResult<Response> {
    let (vaccine, questions) = questions::questionnaire(&state.app, &page.caller(), code).await?;
    let notice = page.lang.t(&format!("questions.invalid_{field}"));
    let body = render(page, vaccine, questions, Some(notice), Some(field.into())).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, body).into_response())
}

async fn add(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
    Form(form): Form<QuestionForm>,
) -> AppResult<Response> {
    let added = questions::add(&state.app, &page.caller(), &code, &form.input()).await?;
    if let Err(field) = added {
        return refuse(&state, &page, &code, field).await;
    }
    Ok(Redirect::to(&format!("/vaccines/{code}/screening?done=1")).into_response())
}

async fn change(
    State(state): State<AppState>,
    page: Page,
    Path((code, id)): Path<(String, i64)>,
    Form(form): Form<QuestionForm>,
) -> AppResult<Response> {
    let change = match form.action.as_str() {
        "up" => Change::Up,
        "down" => Change::Down,
        "delete" => Change::Delete,
        _ => Change::Save(form.input()),
    };
    let changed = questions::change(&state.app, &page.caller(), &code, id, &change).await?;
    if let Err(field) = changed {
        return refuse(&state, &page, &code, field).await;
    }
    Ok(Redirect::to(&format!("/vaccines/{code}/screening?done=1")).into_response())
}
