//! Organisation admin on the web: the admin creates and edits work groups and imports units;
//! the admin and a group's leader create and edit the group's units and give unit contacts a
//! login scoped to their unit.

use askama::Template;
use axum::Router;
use axum::extract::{Form, Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use vaxloop_app::org::{
    self as org_app, GroupInput, Problem, Unit, UnitInput, UnitsImportError, UnitsReport, WorkGroup,
};
use vaxloop_core::{UnitKind, WorkGroupKind};

use crate::AppState;
use crate::error::AppResult;
use crate::furniture::{Page, PageCtx, html};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/groups/new", get(new_group).post(create_group))
        .route("/groups/{code}/edit", get(edit_group).post(update_group))
        .route("/units/new", get(new_unit).post(create_unit))
        .route("/units/{code}/edit", get(edit_unit).post(update_unit))
        .route("/units/{code}/contact-login", post(contact_login))
        .route(
            "/admin/units/import",
            get(units_import_form)
                .post(units_import)
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
}

/// After a save: on success to `target`; on bad input the form again (400) with each problem
/// translated, built by `form`; anything else is an internal error.
async fn saved<T: Template>(
    page: &Page,
    active: &str,
    result: vaxloop_app::Result<()>,
    target: String,
    form: impl FnOnce(PageCtx, Vec<(&'static str, String)>) -> T,
) -> AppResult<Response> {
    match result {
        Ok(()) => Ok(Redirect::to(&target).into_response()),
        Err(vaxloop_app::Error::Invalid(problems)) => {
            let ctx = page.ctx(active).await?;
            let errors = messages(&ctx, &problems);
            Ok((StatusCode::BAD_REQUEST, html(&form(ctx, errors))?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// A translated message per field with a problem.
fn messages(ctx: &PageCtx, problems: &[Problem]) -> Vec<(&'static str, String)> {
    problems
        .iter()
        .map(|p| (p.field, ctx.t(&format!("org.problem.{}", p.code))))
        .collect()
}

#[derive(Template)]
#[template(path = "org_admin/group_form.html")]
struct GroupForm {
    ctx: PageCtx,
    editing: Option<String>,
    input: GroupInput,
    kinds: &'static [WorkGroupKind],
    errors: Vec<(&'static str, String)>,
}

impl GroupForm {
    fn error(&self, field: &str) -> Option<String> {
        crate::furniture::field_error(&self.errors, field)
    }
}

async fn new_group(State(state): State<AppState>, page: Page) -> AppResult<Html<String>> {
    vaxloop_app::scope::require(&state.app, &page.caller(), &[vaxloop_core::Role::Admin]).await?;
    html(&GroupForm {
        ctx: page.ctx("/admin").await?,
        editing: None,
        input: GroupInput::default(),
        kinds: WorkGroupKind::ALL,
        errors: vec![],
    })
}

async fn create_group(
    State(state): State<AppState>,
    page: Page,
    Form(input): Form<GroupInput>,
) -> AppResult<Response> {
    let result = org_app::create_group(&state.app, &page.caller(), &input)
        .await
        .map(|_| ());
    let target = format!("/groups/{}", input.code.trim());
    saved(&page, "/admin", result, target, |ctx, errors| GroupForm {
        ctx,
        editing: None,
        input,
        kinds: WorkGroupKind::ALL,
        errors,
    })
    .await
}

async fn edit_group(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
) -> AppResult<Html<String>> {
    let g = org_app::group_to_edit(&state.app, &page.caller(), &code).await?;
    let input = GroupInput {
        code: g.code.clone(),
        name: g.name,
        kind: g.kind.to_string(),
        leader_name: g.leader_name.unwrap_or_default(),
    };
    html(&GroupForm {
        ctx: page.ctx("/admin").await?,
        editing: Some(g.code),
        input,
        kinds: WorkGroupKind::ALL,
        errors: vec![],
    })
}

async fn update_group(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
    Form(input): Form<GroupInput>,
) -> AppResult<Response> {
    let result = org_app::update_group(&state.app, &page.caller(), &code, &input).await;
    let target = format!("/groups/{code}");
    saved(&page, "/admin", result, target, |ctx, errors| GroupForm {
        ctx,
        editing: Some(code),
        input,
        kinds: WorkGroupKind::ALL,
        errors,
    })
    .await
}

#[derive(Template)]
#[template(path = "org_admin/unit_form.html")]
struct UnitForm {
    ctx: PageCtx,
    editing: Option<String>,
    input: UnitInput,
    groups: Vec<WorkGroup>,
    kinds: &'static [UnitKind],
    errors: Vec<(&'static str, String)>,
}

impl UnitForm {
    fn error(&self, field: &str) -> Option<String> {
        crate::furniture::field_error(&self.errors, field)
    }
}

#[derive(Deserialize)]
struct NewUnitQuery {
    group: Option<String>,
}

async fn new_unit(
    State(state): State<AppState>,
    page: Page,
    Query(q): Query<NewUnitQuery>,
) -> AppResult<Html<String>> {
    let groups = org_app::groups_for_units(&state.app, &page.caller()).await?;
    let input = UnitInput {
        group: q
            .group
            .or_else(|| groups.first().map(|g| g.code.clone()))
            .unwrap_or_default(),
        ..UnitInput::default()
    };
    html(&UnitForm {
        ctx: page.ctx("").await?,
        editing: None,
        input,
        groups,
        kinds: UnitKind::ALL,
        errors: vec![],
    })
}

async fn create_unit(
    State(state): State<AppState>,
    page: Page,
    Form(input): Form<UnitInput>,
) -> AppResult<Response> {
    let groups = org_app::groups_for_units(&state.app, &page.caller()).await?;
    let result = org_app::create_unit(&state.app, &page.caller(), &input)
        .await
        .map(|_| ());
    let target = format!("/units/{}", input.code.trim());
    saved(&page, "", result, target, |ctx, errors| UnitForm {
        ctx,
        editing: None,
        input,
        groups,
        kinds: UnitKind::ALL,
        errors,
    })
    .await
}

async fn edit_unit(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
) -> AppResult<Html<String>> {
    let (u, groups) = org_app::unit_to_edit(&state.app, &page.caller(), &code).await?;
    let phone = org_app::contact_phone_to_edit(&state.app, &u)?;
    let group = groups
        .iter()
        .find(|g| g.id == u.work_group_id)
        .map(|g| g.code.clone())
        .unwrap_or_default();
    let input = UnitInput {
        code: u.code.clone(),
        group,
        name: u.name,
        kind: u.kind.to_string(),
        address: u.address,
        lat: u.lat.map(|v| v.to_string()).unwrap_or_default(),
        lon: u.lon.map(|v| v.to_string()).unwrap_or_default(),
        target: u.target_headcount.to_string(),
        contact_name: u.contact_name.unwrap_or_default(),
        contact_phone: phone,
    };
    html(&UnitForm {
        ctx: page.ctx("").await?,
        editing: Some(u.code),
        input,
        groups,
        kinds: UnitKind::ALL,
        errors: vec![],
    })
}

async fn update_unit(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
    Form(input): Form<UnitInput>,
) -> AppResult<Response> {
    let caller = page.caller();
    let (u, groups) = org_app::unit_to_edit(&state.app, &caller, &code).await?;
    let result = org_app::update_unit(&state.app, &caller, &code, &input).await;
    let target = format!("/units/{}", u.code);
    saved(&page, "", result, target, |ctx, errors| UnitForm {
        ctx,
        editing: Some(u.code),
        input,
        groups,
        kinds: UnitKind::ALL,
        errors,
    })
    .await
}

#[derive(Deserialize)]
struct LoginInput {
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
}

#[derive(Template)]
#[template(path = "org_admin/login_created.html")]
struct LoginCreated {
    ctx: PageCtx,
    unit: Unit,
    username: String,
    initial: Option<String>,
    errors: Vec<(&'static str, String)>,
}

async fn contact_login(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
    Form(input): Form<LoginInput>,
) -> AppResult<Response> {
    let ctx = page.ctx("").await?;
    let created = org_app::create_contact_login(
        &state.app,
        &page.caller(),
        &code,
        &input.username,
        &input.display_name,
    )
    .await;
    match created {
        Ok(login) => Ok(html(&LoginCreated {
            ctx,
            unit: login.unit,
            username: login.username,
            initial: Some(login.initial_password),
            errors: vec![],
        })?
        .into_response()),
        Err(vaxloop_app::Error::Invalid(problems)) => {
            let (unit, _) = org_app::unit_to_edit(&state.app, &page.caller(), &code).await?;
            let errors = messages(&ctx, &problems);
            let body = html(&LoginCreated {
                ctx,
                unit,
                username: input.username,
                initial: None,
                errors,
            })?;
            Ok((StatusCode::BAD_REQUEST, body).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "org_admin/units_import.html")]
struct UnitsImportPage {
    ctx: PageCtx,
    report: Option<UnitsReport>,
    errors: Vec<(usize, String, String)>,
    error: Option<String>,
}

async fn units_import_form(State(state): State<AppState>, page: Page) -> AppResult<Html<String>> {
    vaxloop_app::scope::require(&state.app, &page.caller(), &[vaxloop_core::Role::Admin]).await?;
    html(&UnitsImportPage {
        ctx: page.ctx("/admin").await?,
        report: None,
        errors: vec![],
        error: None,
    })
}

async fn units_import(
    State(state): State<AppState>,
    page: Page,
    mut multipart: Multipart,
) -> AppResult<Response> {
    // Refused before the upload is read.
    vaxloop_app::scope::require(&state.app, &page.caller(), &[vaxloop_core::Role::Admin]).await?;
    let limits = crate::upload::limits(&state);
    let file = crate::upload::file_field(&mut multipart, limits.max_bytes).await;
    let ctx = page.ctx("/admin").await?;
    let (status, report, error) = match file {
        Ok(file) => {
            let bytes = file.map(|(_, bytes)| bytes).unwrap_or_default();
            let outcome =
                org_app::import_units(&state.app, &page.caller(), &bytes, &limits).await?;
            units_imported(&ctx, outcome)
        }
        Err(problem) => (
            StatusCode::BAD_REQUEST,
            None,
            Some(problem.message(ctx.lang)),
        ),
    };
    let errors = report
        .as_ref()
        .map(|r| {
            r.errors
                .iter()
                .map(|(row, p)| {
                    (
                        *row,
                        p.field.to_string(),
                        ctx.t(&format!("org.problem.{}", p.code)),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    Ok((
        status,
        html(&UnitsImportPage {
            ctx,
            report,
            errors,
            error,
        })?,
    )
        .into_response())
}

/// The units import's outcome as the page shows it: its status, the report, or why nothing was
/// read.
fn units_imported(
    ctx: &PageCtx,
    outcome: Result<UnitsReport, UnitsImportError>,
) -> (StatusCode, Option<UnitsReport>, Option<String>) {
    match outcome {
        Ok(r) => (StatusCode::OK, Some(r), None),
        Err(UnitsImportError::MissingColumns(cols)) => (
            StatusCode::BAD_REQUEST,
            None,
            Some(ctx.tf(
                "import.file_error.missing_columns",
                "columns",
                &cols.join(", "),
            )),
        ),
        Err(UnitsImportError::Read(e)) => (
            StatusCode::BAD_REQUEST,
            None,
            Some(crate::messages::read_error(ctx.lang, &e)),
        ),
    }
}
