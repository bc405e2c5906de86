//! The JSON API for organisation admin and people: work groups and units created and edited,
//! a unit's people listed (masked), and one person unmasked with a reason (audited). Same
//! scope rules as the pages.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vaxloop_app::org::{self as org_app, GroupInput, UnitInput};

use super::kit::ApiError;
use super::kit::Body;
use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::who::Who;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/work-groups", post(create_group))
        .route("/api/v1/work-groups/{code}", put(update_group))
        .route("/api/v1/units", post(create_unit))
        .route("/api/v1/units/{code}", get(unit_detail).put(update_unit))
        .route("/api/v1/units/{code}/people", get(unit_people))
        .route("/api/v1/people/{id}/unmask", post(unmask))
}

/// What was created.
#[derive(Serialize, ToSchema)]
pub struct Created {
    pub code: String,
}

/// A work group to create or change.
#[derive(Deserialize, ToSchema)]
pub struct GroupIn {
    /// 2–32 letters, digits, `-` or `_`, when creating; fixed once created (an update may
    /// repeat it or leave it out).
    #[serde(default)]
    #[schema(pattern = r"^(\s*[A-Za-z0-9_-]{2,32}\s*)?$")]
    pub code: String,
    /// Up to 100 characters, no control characters.
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// `village_company`, `community`, `street`, `enterprise` or `construction`.
    #[schema(schema_with = super::shapes::group_kind)]
    pub kind: String,
    #[serde(default)]
    pub leader_name: Option<String>,
}

impl From<GroupIn> for GroupInput {
    fn from(g: GroupIn) -> Self {
        GroupInput {
            code: g.code,
            name: g.name,
            kind: g.kind,
            leader_name: g.leader_name.unwrap_or_default(),
        }
    }
}

#[utoipa::path(post, path = "/api/v1/work-groups", tag = "organisation", request_body = GroupIn,
    responses((status = 201, body = Created), (status = 400, body = ApiErrorRef), (status = 403, body = ApiErrorRef)))]
pub async fn create_group(
    State(state): State<AppState>,
    Who(caller): Who,
    Body(input): Body<GroupIn>,
) -> AppResult<(StatusCode, Json<Created>)> {
    let input: GroupInput = input.into();
    org_app::create_group(&state.app, &caller, &input).await?;
    Ok((
        StatusCode::CREATED,
        Json(Created {
            code: input.code.trim().to_string(),
        }),
    ))
}

#[utoipa::path(put, path = "/api/v1/work-groups/{code}", tag = "organisation", request_body = GroupIn,
    params(("code" = String, Path, description = "The work group's code")),
    responses((status = 204), (status = 400, body = ApiErrorRef), (status = 403, body = ApiErrorRef), (status = 404, body = ApiErrorRef)))]
pub async fn update_group(
    State(state): State<AppState>,
    Who(caller): Who,
    Path(code): Path<String>,
    Body(input): Body<GroupIn>,
) -> AppResult<StatusCode> {
    org_app::update_group(&state.app, &caller, &code, &input.into()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A unit to create or change.
#[derive(Deserialize, ToSchema)]
pub struct UnitIn {
    /// 2–32 letters, digits, `-` or `_`, when creating; fixed once created (an update may
    /// repeat it or leave it out).
    #[serde(default)]
    #[schema(pattern = r"^(\s*[A-Za-z0-9_-]{2,32}\s*)?$")]
    pub code: String,
    /// The work group's code.
    pub group: String,
    /// Up to 100 characters, no control characters.
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// `village`, `community`, `enterprise`, `office_building`, `construction_site`, `school` or `shop`.
    #[schema(schema_with = super::shapes::unit_kind)]
    pub kind: String,
    /// Up to 200 characters.
    #[serde(default)]
    #[schema(max_length = 200)]
    pub address: Option<String>,
    #[serde(default)]
    #[schema(minimum = -90, maximum = 90)]
    pub lat: Option<f64>,
    #[serde(default)]
    #[schema(minimum = -180, maximum = 180)]
    pub lon: Option<f64>,
    /// How many people the unit should bring, 0 to 10,000,000.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 10_000_000)]
    pub target: Option<i64>,
    #[serde(default)]
    pub contact_name: Option<String>,
    /// A mainland mobile number.
    #[serde(default)]
    pub contact_phone: Option<String>,
}

impl From<UnitIn> for UnitInput {
    fn from(u: UnitIn) -> Self {
        UnitInput {
            code: u.code,
            group: u.group,
            name: u.name,
            kind: u.kind,
            address: u.address.unwrap_or_default(),
            lat: u.lat.map(|v| v.to_string()).unwrap_or_default(),
            lon: u.lon.map(|v| v.to_string()).unwrap_or_default(),
            target: u.target.map(|v| v.to_string()).unwrap_or_default(),
            contact_name: u.contact_name.unwrap_or_default(),
            contact_phone: u.contact_phone.unwrap_or_default(),
        }
    }
}

/// `ApiError` under another name, so these paths can refer to it from this module.
pub type ApiErrorRef = crate::api::ApiError;

#[utoipa::path(post, path = "/api/v1/units", tag = "organisation", request_body = UnitIn,
    responses((status = 201, body = Created), (status = 400, body = ApiErrorRef), (status = 403, body = ApiErrorRef)))]
pub async fn create_unit(
    State(state): State<AppState>,
    Who(caller): Who,
    Body(input): Body<UnitIn>,
) -> AppResult<(StatusCode, Json<Created>)> {
    let input: UnitInput = input.into();
    org_app::create_unit(&state.app, &caller, &input).await?;
    Ok((
        StatusCode::CREATED,
        Json(Created {
            code: input.code.trim().to_string(),
        }),
    ))
}

#[utoipa::path(put, path = "/api/v1/units/{code}", tag = "organisation", request_body = UnitIn,
    params(("code" = String, Path, description = "The unit's code")),
    responses((status = 204), (status = 400, body = ApiErrorRef), (status = 403, body = ApiErrorRef)))]
pub async fn update_unit(
    State(state): State<AppState>,
    Who(caller): Who,
    Path(code): Path<String>,
    Body(input): Body<UnitIn>,
) -> AppResult<StatusCode> {
    org_app::update_unit(&state.app, &caller, &code, &input.into()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A unit with its mobilisation figures.
#[derive(Serialize, ToSchema)]
pub struct UnitDetail {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub group: String,
    pub address: String,
    pub target: i64,
    pub on_roster: i64,
    pub registered: i64,
    pub contact_name: Option<String>,
    /// Masked, e.g. `138****8000`.
    pub contact_phone: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/units/{code}", tag = "organisation",
    params(("code" = String, Path, description = "The unit's code")),
    responses((status = 200, body = UnitDetail), (status = 401, body = ApiErrorRef), (status = 403, body = ApiErrorRef)))]
pub async fn unit_detail(
    State(state): State<AppState>,
    Who(caller): Who,
    Path(code): Path<String>,
) -> AppResult<Json<UnitDetail>> {
    let u = org_app::unit_summary(&state.app, &caller, &code).await?;
    Ok(Json(UnitDetail {
        code: u.unit.code,
        name: u.unit.name,
        kind: u.unit.kind.to_string(),
        group: u.group_code,
        address: u.unit.address,
        target: u.unit.target_headcount,
        on_roster: u.progress.as_ref().map_or(0, |p| p.people),
        registered: u.progress.as_ref().map_or(0, |p| p.registered),
        contact_name: u.unit.contact_name,
        contact_phone: u.contact_phone,
    }))
}

/// A person as the API shows them: masked.
#[derive(Serialize, ToSchema)]
pub struct PersonOut {
    pub id: i64,
    pub name: String,
    /// e.g. `310112********123X`.
    pub id_number: String,
    pub phone: Option<String>,
    pub birth_date: String,
    pub sex: String,
    pub disabled: bool,
    /// `import`, `qr` or `desk`.
    pub source: String,
    pub confirmed: bool,
}

#[derive(Deserialize)]
pub struct PageQuery {
    page: Option<i64>,
    per_page: Option<i64>,
}

const PAGE: i64 = 100;

#[utoipa::path(get, path = "/api/v1/units/{code}/people", tag = "people",
    params(("code" = String, Path, description = "The unit's code"),
           ("page" = Option<i64>, Query, minimum = 1, maximum = 1000000, description = "1-based page, at most 1000000 (default 1)"),
           ("per_page" = Option<i64>, Query, minimum = 1, maximum = 500, description = "People per page, 1 to 500 (default 100)")),
    responses((status = 200, body = [PersonOut]), (status = 400, body = ApiErrorRef), (status = 401, body = ApiErrorRef), (status = 403, body = ApiErrorRef)))]
pub async fn unit_people(
    State(state): State<AppState>,
    Who(caller): Who,
    Path(code): Path<String>,
    Query(q): Query<PageQuery>,
) -> AppResult<Json<Vec<PersonOut>>> {
    let page = q.page.unwrap_or(1);
    let per_page = q.per_page.unwrap_or(PAGE);
    let list = org_app::roster(&state.app, &caller, &code, page, per_page).await?;
    Ok(Json(
        list.into_iter()
            .map(|p| PersonOut {
                id: p.id,
                name: p.name,
                id_number: p.id_masked,
                phone: p.phone_masked,
                birth_date: p.birth_date,
                sex: p.sex,
                disabled: p.disabled,
                source: p.source.to_string(),
                confirmed: p.confirmed,
            })
            .collect(),
    ))
}

/// Why the full numbers are needed; written to the audit log.
#[derive(Deserialize, ToSchema)]
pub struct UnmaskIn {
    /// Why, for the audit log: at least 4 characters besides spaces around them.
    #[schema(min_length = 4)]
    pub reason: String,
}

#[derive(Serialize, ToSchema)]
pub struct UnmaskOut {
    pub id_number: String,
    pub phone: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/people/{id}/unmask", tag = "people", request_body = UnmaskIn,
    params(("id" = i64, Path, description = "The person's id")),
    responses((status = 200, body = UnmaskOut), (status = 400, body = ApiErrorRef), (status = 403, body = ApiErrorRef)))]
pub async fn unmask(
    State(state): State<AppState>,
    Who(caller): Who,
    Path(super::kit::Id(id)): Path<super::kit::Id>,
    Body(input): Body<UnmaskIn>,
) -> AppResult<Json<UnmaskOut>> {
    let opened =
        vaxloop_app::privacy::unmask(&state.app, &caller, id, &input.reason, "api").await?;
    let Ok((id_number, phone)) = opened else {
        return Err(AppError::invalid("reason", "privacy.reason_required"));
    };
    Ok(Json(UnmaskOut { id_number, phone }))
}

#[derive(Serialize, ToSchema)]
pub struct WorkGroupOut {
    pub code: String,
    pub name: String,
    /// `village_company`, `community`, `street`, `enterprise` or `construction`.
    pub kind: String,
    pub units: i64,
    pub target: i64,
    pub on_roster: i64,
    pub registered: i64,
}

/// The work groups the caller may see, with their figures as last counted (kept up to the
/// server's `count_seconds`, 30 by default, then counted again).
#[utoipa::path(get, path = "/api/v1/work-groups", tag = "organisation",
    responses((status = 200, body = [WorkGroupOut]), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub async fn work_groups(
    State(state): State<AppState>,
    Who(caller): Who,
) -> AppResult<Json<Vec<WorkGroupOut>>> {
    let out = vaxloop_app::org::groups(&state.app, &caller)
        .await?
        .into_iter()
        .map(|g| WorkGroupOut {
            code: g.group.code,
            name: g.group.name,
            kind: g.group.kind.to_string(),
            units: g.units,
            target: g.target,
            on_roster: g.people,
            registered: g.registered,
        })
        .collect();
    Ok(Json(out))
}

#[derive(Serialize, ToSchema)]
pub struct UnitOut {
    pub code: String,
    pub name: String,
    /// `village`, `community`, `enterprise`, `office_building`, `construction_site`, `school` or `shop`.
    pub kind: String,
    pub target: i64,
    pub on_roster: i64,
    pub registered: i64,
}

#[utoipa::path(get, path = "/api/v1/work-groups/{code}/units", tag = "organisation",
    params(("code" = String, Path, description = "The work group's code")),
    responses((status = 200, body = [UnitOut]), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub async fn group_units(
    State(state): State<AppState>,
    Who(caller): Who,
    Path(code): Path<String>,
) -> AppResult<Json<Vec<UnitOut>>> {
    let out = vaxloop_app::org::group(&state.app, &caller, &code)
        .await?
        .units
        .into_iter()
        .map(|u| UnitOut {
            code: u.code,
            name: u.name,
            kind: u.kind.to_string(),
            target: u.target,
            on_roster: u.people,
            registered: u.registered,
        })
        .collect();
    Ok(Json(out))
}
