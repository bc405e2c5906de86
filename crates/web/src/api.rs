//! The JSON API under `/api/v1`, described by the OpenAPI document at `/api/openapi.json`. It uses
//! the same session login and the same scope rules ([`crate::access`]) as the pages; unsafe
//! methods need the session's CSRF token in `X-CSRF-Token`. Errors are
//! `{"error": code, "field": name|null, "message": text}` in the caller's language.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};
use vaxloop_app::idempotency::{self, Claimed};

use crate::AppState;
use crate::access;
use crate::auth::AuthSession;
use crate::error::{AppError, AppResult};
use crate::who::Who;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/openapi.json", get(openapi))
        .route("/api/v1/me", get(me))
        .route("/api/v1/work-groups", get(work_groups))
        .route("/api/v1/work-groups/{code}/units", get(group_units))
        .route("/api/v1/sites", get(site_list))
        .merge(crate::api_org::routes())
        .merge(crate::api_booking::routes())
        .merge(crate::api_slots::routes())
        .merge(crate::api_supply::routes())
        .merge(crate::api_plan::routes())
        .merge(crate::api_site::routes())
        .merge(crate::api_site_flow::routes())
        .merge(crate::api_site_day::routes())
}

#[derive(OpenApi)]
#[openapi(
    info(title = "vaxloop API", description = "Mass-vaccination campaign management: mobilisation, supply, booking, site operations."),
    paths(
        me, work_groups, group_units, site_list,
        crate::api_org::create_group, crate::api_org::update_group, crate::api_org::unit_detail,
        crate::api_org::create_unit, crate::api_org::update_unit, crate::api_org::unit_people,
        crate::api_org::unmask,
        crate::api_booking::availability, crate::api_booking::create, crate::api_booking::cancel,
        crate::api_slots::set_capacity,
        crate::api_supply::create_vaccine, crate::api_supply::create_lot, crate::api_supply::create_delivery,
        crate::api_supply::receive, crate::api_supply::stock,
        crate::api_plan::current, crate::api_plan::instance, crate::api_plan::create, crate::api_plan::act,
        crate::api_site::create,
        crate::api_site_flow::queue, crate::api_site_flow::lots, crate::api_site_flow::screen,
        crate::api_site_flow::vaccinate, crate::api_site_flow::release, crate::api_site_flow::aefi,
        crate::api_site_day::board, crate::api_site_day::day, crate::api_site_day::close,
        crate::api_site_day::unit_day
    ),
    components(schemas(
        Me, WorkGroupOut, UnitOut, SiteOut, ApiError,
        crate::api_org::GroupIn, crate::api_org::UnitIn, crate::api_org::UnitDetail,
        crate::api_org::PersonOut, crate::api_org::UnmaskIn, crate::api_org::UnmaskOut, crate::api_org::Created,
        crate::api_booking::SlotOut, crate::api_booking::Availability, crate::api_booking::BookIn,
        crate::api_booking::Booked, crate::api_booking::Refused, crate::api_slots::CapacityIn,
        crate::api_supply::Id, crate::api_supply::VaccineIn, crate::api_supply::LotIn,
        crate::api_supply::DeliveryIn, crate::api_supply::StockOut,
        crate::api_plan::PlanOut, crate::api_plan::ChangeOut, crate::api_plan::PlaceOut,
        crate::api_plan::ActionIn, crate::api_plan::PublishedOut,
        crate::api_site::CheckInIn, crate::api_site::CheckInOut,
        crate::api_site_flow::QueuedOut, crate::api_site_flow::LotChoiceOut, crate::api_site_flow::AnswerIn,
        crate::api_site_flow::ScreeningIn, crate::api_site_flow::StageOut, crate::api_site_flow::VaccinationIn,
        crate::api_site_flow::VaccinationOut, crate::api_site_flow::ReleaseIn, crate::api_site_flow::AefiIn,
        crate::api_site_flow::AefiOut,
        crate::api_site_day::TallyOut, crate::api_site_day::TeamOut, crate::api_site_day::LotOut,
        crate::api_site_day::QueueOut, crate::api_site_day::BoardOut, crate::api_site_day::UnitLineOut,
        crate::api_site_day::DayOut, crate::api_site_day::ClosedOut, crate::api_site_day::UnitDayOut
    )),
    tags((name = "session", description = "The logged-in user"), (name = "organisation", description = "Work groups and units"), (name = "sites", description = "Vaccination sites"), (name = "people", description = "People of a unit"), (name = "booking", description = "Availability and appointments"), (name = "supply", description = "Vaccines, lots, deliveries and stock"), (name = "planning", description = "The desk's team plan: propose, adjust, re-plan, publish"), (name = "site", description = "On-site operations: check-in, screening, vaccination, observation, the board and the day's reconciliation"))
)]
pub struct ApiDoc;

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// The error body of every failed API call.
#[derive(Serialize, ToSchema)]
pub struct ApiError {
    /// A stable code: `unauthenticated`, `forbidden`, `not_found`, `bad_request`, `csrf`, `internal`.
    pub error: String,
    /// The input field the error is about, when there is one.
    pub field: Option<String>,
    /// A human-readable message in the caller's language.
    pub message: String,
}

/// The logged-in user and their scope.
#[derive(Serialize, ToSchema)]
pub struct Me {
    pub id: i64,
    pub display_name: String,
    /// One of `admin`, `group_leader`, `unit_contact`, `desk`, `site_staff`, `staff`, `resident`.
    pub role: String,
    pub site_post: Option<String>,
    pub work_group_id: Option<i64>,
    pub unit_id: Option<i64>,
    pub site_id: Option<i64>,
    /// Where this role's home page is.
    pub home: String,
}

#[utoipa::path(get, path = "/api/v1/me", tag = "session",
    responses((status = 200, body = Me), (status = 401, body = ApiError)))]
async fn me(auth: AuthSession) -> AppResult<Json<Me>> {
    let u = access::user(&auth)?;
    Ok(Json(Me {
        id: u.id,
        display_name: u.display_name.clone(),
        role: u.role.to_string(),
        site_post: u.site_post.map(|p| p.to_string()),
        work_group_id: u.work_group_id,
        unit_id: u.unit_id,
        site_id: u.site_id,
        home: access::home(u.role).to_string(),
    }))
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

#[utoipa::path(get, path = "/api/v1/work-groups", tag = "organisation",
    responses((status = 200, body = [WorkGroupOut]), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
async fn work_groups(
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
async fn group_units(
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

#[derive(Serialize, ToSchema)]
pub struct SiteOut {
    pub code: String,
    pub name: String,
    /// `fixed`, `temporary`, `mobile` or `workplace`.
    pub kind: String,
    pub address: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub open_from: Option<String>,
    pub open_until: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/sites", tag = "sites",
    responses((status = 200, body = [SiteOut]), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
async fn site_list(
    State(state): State<AppState>,
    Who(caller): Who,
) -> AppResult<Json<Vec<SiteOut>>> {
    let out = vaxloop_app::sites::visible(&state.app, &caller)
        .await?
        .into_iter()
        .map(|s| SiteOut {
            code: s.code,
            name: s.name,
            kind: s.kind.to_string(),
            address: s.address,
            lat: s.lat,
            lon: s.lon,
            open_from: s.open_from,
            open_until: s.open_until,
        })
        .collect();
    Ok(Json(out))
}

/// The request's `Idempotency-Key`, if it sent one: 1 to 200 visible characters.
pub(crate) fn idempotency_key(headers: &HeaderMap) -> AppResult<Option<String>> {
    match headers.get("idempotency-key") {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .ok()
            .filter(|k| (1..=200).contains(&k.len()))
            .map(|k| Some(k.to_string()))
            .ok_or_else(|| AppError::BadRequest {
                field: Some("Idempotency-Key".into()),
                message: "booking.bad_key".into(),
            }),
    }
}

/// Runs `work` under the request's `Idempotency-Key`, if any: a retry gets the first answer.
pub(crate) async fn keyed<F>(
    state: &AppState,
    user: i64,
    headers: &HeaderMap,
    request: &str,
    work: F,
) -> AppResult<Response>
where
    F: AsyncFnOnce() -> AppResult<(StatusCode, String)>,
{
    let Some(key) = idempotency_key(headers)? else {
        let (status, out) = work().await?;
        return Ok(json_response(status, out));
    };
    let app = &state.app;
    match idempotency::claim(app, user, &key, request).await? {
        Claimed::Fresh => {}
        Claimed::Answered { status, body } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            return Ok(json_response(status, body));
        }
        Claimed::Reused => {
            return Err(AppError::BadRequest {
                field: Some("Idempotency-Key".into()),
                message: "booking.key_reused".into(),
            });
        }
    }
    let outcome = work().await;
    match &outcome {
        Ok((status, out)) => {
            idempotency::answer(app, user, &key, request, status.as_u16(), out).await?;
        }
        // Nothing was done: the key is free for the retry.
        Err(_) => idempotency::release(app, user, &key).await?,
    }
    let (status, out) = outcome?;
    Ok(json_response(status, out))
}

/// A JSON body with a status.
pub(crate) fn json_response(status: StatusCode, body: String) -> Response {
    (
        status,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}
