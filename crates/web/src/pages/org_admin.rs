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
    self as org_app, GroupInput, OrgError, Problem, UnitInput, UnitsImportError, UnitsReport,
};
use vaxloop_core::{Role, UnitKind, WorkGroupKind};
use vaxloop_store::org::{self, Unit, WorkGroup};

use super::{Page, PageCtx, html};
use crate::AppState;
use crate::access::{self, can_manage_group, deny, require};
use crate::error::{AppError, AppResult};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/groups/new", get(new_group).post(create_group))
        .route("/groups/{code}/edit", get(edit_group).post(update_group))
        .route("/units/new", get(new_unit).post(create_unit))
        .route("/units/{code}/edit", get(edit_unit).post(update_unit))
        .route("/units/{code}/contact-login", post(contact_login))
        .route(
            "/admin/units/import",
            get(units_import_form).post(units_import),
        )
}

/// After a save: on success to `target`; on bad input the form again (400) with each problem
/// translated, built by `form`; anything else is an internal error.
async fn saved<T: Template>(
    page: &Page,
    active: &str,
    result: Result<(), OrgError>,
    target: String,
    form: impl FnOnce(PageCtx, Vec<(&'static str, String)>) -> T,
) -> AppResult<Response> {
    match result {
        Ok(()) => Ok(Redirect::to(&target).into_response()),
        Err(OrgError::Invalid(problems)) => {
            let ctx = page.ctx(active).await?;
            let errors = messages(&ctx, &problems);
            Ok((StatusCode::BAD_REQUEST, html(&form(ctx, errors))?).into_response())
        }
        Err(e) => Err(AppError::Internal(e.into())),
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
#[template(path = "group_form.html")]
struct GroupForm {
    ctx: PageCtx,
    editing: Option<String>,
    input: GroupInput,
    kinds: &'static [WorkGroupKind],
    errors: Vec<(&'static str, String)>,
}

impl GroupForm {
    fn error(&self, field: &str) -> Option<String> {
        self.errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.clone())
    }
}

async fn new_group(State(state): State<AppState>, page: Page) -> AppResult<Html<String>> {
    require(&state, &page.auth, &[Role::Admin], "/groups/new").await?;
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
    let user = require(&state, &page.auth, &[Role::Admin], "/groups/new")
        .await?
        .clone();
    let result = org_app::create_group(&state.db, &input, user.id)
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

async fn group_for_admin(state: &AppState, page: &Page, code: &str) -> AppResult<WorkGroup> {
    require(
        state,
        &page.auth,
        &[Role::Admin],
        &format!("/groups/{code}/edit"),
    )
    .await?;
    org::work_group_by_code(&state.db, code)
        .await?
        .ok_or(AppError::NotFound)
}

async fn edit_group(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
) -> AppResult<Html<String>> {
    let g = group_for_admin(&state, &page, &code).await?;
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
    let g = group_for_admin(&state, &page, &code).await?;
    let actor = access::user(&page.auth)?.id;
    let result = org_app::update_group(&state.db, &g, &input, actor).await;
    let target = format!("/groups/{}", g.code);
    saved(&page, "/admin", result, target, |ctx, errors| GroupForm {
        ctx,
        editing: Some(g.code),
        input,
        kinds: WorkGroupKind::ALL,
        errors,
    })
    .await
}

#[derive(Template)]
#[template(path = "unit_form.html")]
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
        self.errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.clone())
    }
}

/// The groups the caller may put units in: all for the admin, their own for a leader.
async fn groups_for_units(state: &AppState, page: &Page, what: &str) -> AppResult<Vec<WorkGroup>> {
    let user = require(state, &page.auth, &[Role::Admin, Role::GroupLeader], what).await?;
    access::manageable_groups(state, user).await
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
    let groups = groups_for_units(&state, &page, "/units/new").await?;
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
    let groups = groups_for_units(&state, &page, "/units/new").await?;
    let actor = access::user(&page.auth)?.id;
    // A leader naming another group finds it unknown: only their own is offered.
    let result = org_app::create_unit(&state.db, &input, &groups, actor)
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

/// The unit, if the caller may edit it.
async fn editable_unit(
    state: &AppState,
    page: &Page,
    code: &str,
    what: &str,
) -> AppResult<(Unit, Vec<WorkGroup>)> {
    let user = access::user(&page.auth)?;
    let unit = org::unit_by_code(&state.db, code).await?;
    let Some(unit) = unit.filter(|u| can_manage_group(user, u.work_group_id)) else {
        return Err(deny(state, Some(user), what).await);
    };
    let groups = access::manageable_groups(state, user).await?;
    Ok((unit, groups))
}

async fn edit_unit(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
) -> AppResult<Html<String>> {
    let (u, groups) = editable_unit(&state, &page, &code, &format!("/units/{code}/edit")).await?;
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
        contact_phone: u.contact_phone.unwrap_or_default(),
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
    let (u, groups) = editable_unit(&state, &page, &code, &format!("/units/{code}/edit")).await?;
    let actor = access::user(&page.auth)?.id;
    let result = org_app::update_unit(&state.db, &u, &input, &groups, actor).await;
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
#[template(path = "login_created.html")]
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
    let (unit, _) = editable_unit(
        &state,
        &page,
        &code,
        &format!("/units/{code}/contact-login"),
    )
    .await?;
    let actor = access::user(&page.auth)?.id;
    let ctx = page.ctx("").await?;
    match org_app::create_contact_login(
        &state.db,
        &unit,
        &input.username,
        &input.display_name,
        actor,
    )
    .await
    {
        Ok(initial) => Ok(html(&LoginCreated {
            ctx,
            unit,
            username: input.username.trim().to_string(),
            initial: Some(initial),
            errors: vec![],
        })?
        .into_response()),
        Err(OrgError::Invalid(problems)) => {
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
        Err(e) => Err(AppError::Internal(e.into())),
    }
}

#[derive(Template)]
#[template(path = "units_import.html")]
struct UnitsImportPage {
    ctx: PageCtx,
    report: Option<UnitsReport>,
    errors: Vec<(usize, String, String)>,
    error: Option<String>,
}

async fn units_import_form(State(state): State<AppState>, page: Page) -> AppResult<Html<String>> {
    require(&state, &page.auth, &[Role::Admin], "/admin/units/import").await?;
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
    let user = require(&state, &page.auth, &[Role::Admin], "/admin/units/import")
        .await?
        .clone();
    let mut bytes = Vec::new();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|_| AppError::BadRequest {
            field: Some("file".into()),
            message: "import.file_error.unreadable".into(),
        })?
    {
        if field.name() == Some("file") {
            bytes = field
                .bytes()
                .await
                .map_err(|_| AppError::BadRequest {
                    field: Some("file".into()),
                    message: "import.file_error.unreadable".into(),
                })?
                .to_vec();
        }
    }
    let ctx = page.ctx("/admin").await?;
    let outcome = org_app::import_units(&state.db, &bytes, user.id).await;
    let (status, report, error) = match outcome {
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
            Some(format!("{}: {e}", ctx.t("import.file_error.unreadable"))),
        ),
        Err(UnitsImportError::Store(e)) => return Err(e.into()),
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
