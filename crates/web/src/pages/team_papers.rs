//! A team's printed papers: its appointment registration form (预约登记表) and its sheet of
//! colour labels, as PDF. The desk and the town admin print any team's; a work group's leader
//! the teams of the group's units; a unit contact their own unit's teams only. Every print is
//! audited (the form lists people, with masked ID numbers).

use axum::Router;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use vaxloop_app::planning::print_team;

use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::furniture::Page;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/teams/{code}/form.pdf", get(form))
        .route("/teams/{code}/labels.pdf", get(labels))
}

fn pdf(bytes: Vec<u8>, name: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        bytes,
    )
        .into_response()
}

async fn form(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
) -> AppResult<Response> {
    let (team, papers) = print_team(&state.app, &page.caller(), &code).await?;
    let bytes = vaxloop_documents::team_forms::registration_form(&papers.form)
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok(pdf(bytes, format!("form-{}.pdf", team.code)))
}

async fn labels(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
) -> AppResult<Response> {
    let (team, papers) = print_team(&state.app, &page.caller(), &code).await?;
    let bytes = vaxloop_documents::team_forms::label_sheet(
        &papers.form.label,
        papers.form.members.len(),
        &papers.site,
        &papers.when,
    )
    .map_err(|e| AppError::Internal(e.into()))?;
    Ok(pdf(bytes, format!("labels-{}.pdf", team.code)))
}
