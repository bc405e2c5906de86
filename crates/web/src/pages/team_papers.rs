//! A team's printed papers: its appointment registration form (预约登记表) and its sheet of
//! colour labels, as PDF. The desk and the town admin print any team's; a work group's leader
//! the teams of the group's units; a unit contact their own unit's teams only. Every print is
//! audited (the form lists people, with masked ID numbers).

use axum::Router;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use vaxloop_store::audit::{self, Entry, Outcome};
use vaxloop_store::{org, teams};

use super::Page;
use crate::AppState;
use crate::access::{self, can_see_unit, deny};
use crate::error::{AppError, AppResult};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/teams/{code}/form.pdf", get(form))
        .route("/teams/{code}/labels.pdf", get(labels))
}

/// The team and its papers, if the caller may print them; the print is audited.
async fn papers(
    state: &AppState,
    page: &Page,
    code: &str,
    what: &str,
) -> AppResult<(teams::TeamRow, vaxloop_app::planning::TeamPapers)> {
    let user = access::user(&page.auth)?;
    let team = teams::by_code(&state.db, code).await?;
    let unit = match &team {
        Some(t) => org::unit(&state.db, t.unit_id).await?,
        None => None,
    };
    let (Some(team), Some(unit)) = (team, unit) else {
        // Unknown and forbidden look the same from outside.
        return Err(deny(state, Some(user), what).await);
    };
    if !can_see_unit(user, &unit) {
        return Err(deny(state, Some(user), what).await);
    }
    let footer = format!(
        "打印 printed {} · {}",
        state.config.local_time(vaxloop_store::now_ms()),
        user.display_name
    );
    let papers =
        vaxloop_app::planning::team_papers(&state.db, &state.cipher, &team, footer).await?;
    let target = format!("team:{}", team.code);
    let detail = format!("rows={}", papers.form.members.len());
    let entry = Entry {
        actor_user_id: Some(user.id),
        action: "print",
        target: &target,
        reason: None,
        outcome: Outcome::Ok,
        detail: Some(&detail),
    };
    audit::record(&state.db, &entry, vaxloop_store::now_ms()).await?;
    Ok((team, papers))
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
    let what = format!("/teams/{code}/form.pdf");
    let (team, papers) = papers(&state, &page, &code, &what).await?;
    let bytes = vaxloop_documents::team_forms::registration_form(&papers.form)
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok(pdf(bytes, format!("form-{}.pdf", team.code)))
}

async fn labels(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
) -> AppResult<Response> {
    let what = format!("/teams/{code}/labels.pdf");
    let (team, papers) = papers(&state, &page, &code, &what).await?;
    let bytes = vaxloop_documents::team_forms::label_sheet(
        &papers.form.label,
        papers.form.members.len(),
        &papers.site,
        &papers.when,
    )
    .map_err(|e| AppError::Internal(e.into()))?;
    Ok(pdf(bytes, format!("labels-{}.pdf", team.code)))
}
