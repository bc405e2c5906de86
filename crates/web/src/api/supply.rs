//! The supply API: vaccine products, lots and planned deliveries created, deliveries received,
//! and stock per lot and site. Same checks and scope as the stock page.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vaxloop_app::supply::{self, Received, SiteRef, VaccineInput};

use super::kit::Body;
use super::kit::{ApiError, json_response, refused};
use crate::AppState;
use crate::error::AppResult;
use crate::i18n::Lang;
use crate::who::Who;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/vaccines", post(create_vaccine))
        .route("/api/v1/lots", post(create_lot))
        .route("/api/v1/deliveries", post(create_delivery))
        .route("/api/v1/deliveries/{id}/receive", post(receive))
        .route("/api/v1/stock", get(stock))
}

/// The id of what was created.
#[derive(Serialize, ToSchema)]
pub struct Id {
    pub id: i64,
}

/// A vaccine product.
#[derive(Deserialize, ToSchema)]
pub struct VaccineIn {
    /// 2–32 letters, digits, `-` or `_`.
    #[schema(pattern = r"^\s*[A-Za-z0-9_-]{2,32}\s*$")]
    pub code: String,
    #[schema(min_length = 1)]
    pub name: String,
    #[schema(min_length = 1)]
    pub manufacturer: String,
    #[schema(minimum = 1, maximum = 5)]
    pub doses_in_series: i64,
    #[schema(minimum = 0, maximum = 365)]
    pub min_interval_days: i64,
    #[schema(minimum = 0, maximum = 120)]
    pub min_age: i64,
    /// Not below `min_age`.
    pub max_age: Option<i64>,
    #[schema(minimum = 1, maximum = 50)]
    pub doses_per_vial: i64,
    /// How long an opened vial may be used, up to a day.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1440)]
    pub open_vial_minutes: i64,
    /// 30 when absent.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 240)]
    pub observation_minutes: Option<i64>,
}

#[utoipa::path(post, path = "/api/v1/vaccines", tag = "supply", request_body = VaccineIn,
    responses((status = 201, body = Id), (status = 400, body = ApiError), (status = 403, body = ApiError)))]
pub async fn create_vaccine(
    State(state): State<AppState>,
    Who(caller): Who,
    Body(v): Body<VaccineIn>,
) -> AppResult<(StatusCode, Json<Id>)> {
    let input = VaccineInput {
        code: v.code,
        name: v.name,
        manufacturer: v.manufacturer,
        doses_in_series: v.doses_in_series,
        min_interval_days: v.min_interval_days,
        min_age: v.min_age,
        max_age: v.max_age,
        doses_per_vial: v.doses_per_vial,
        open_vial_minutes: v.open_vial_minutes,
        observation_minutes: v.observation_minutes.unwrap_or(30),
    };
    let id = supply::create_vaccine(&state.app, &caller, &input).await?;
    Ok((StatusCode::CREATED, Json(Id { id })))
}

/// A lot of a vaccine.
#[derive(Deserialize, ToSchema)]
pub struct LotIn {
    pub vaccine_id: i64,
    #[schema(min_length = 1, max_length = 40)]
    pub lot_number: String,
    /// `YYYY-MM-DD`, after today.
    #[schema(format = Date)]
    pub expires_on: String,
}

#[utoipa::path(post, path = "/api/v1/lots", tag = "supply", request_body = LotIn,
    responses((status = 201, body = Id), (status = 400, body = ApiError), (status = 403, body = ApiError)))]
pub async fn create_lot(
    State(state): State<AppState>,
    Who(caller): Who,
    Body(l): Body<LotIn>,
) -> AppResult<(StatusCode, Json<Id>)> {
    let id = supply::create_lot(
        &state.app,
        &caller,
        l.vaccine_id,
        &l.lot_number,
        &l.expires_on,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(Id { id })))
}

/// A delivery to plan: doses of a lot to a site's day, allocated to that site-day.
#[derive(Deserialize, ToSchema)]
pub struct DeliveryIn {
    pub lot_id: i64,
    /// The site's code.
    pub site: String,
    /// `YYYY-MM-DD`.
    #[schema(format = Date)]
    pub day: String,
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub doses: i64,
}

#[utoipa::path(post, path = "/api/v1/deliveries", tag = "supply", request_body = DeliveryIn,
    responses((status = 201, body = Id), (status = 400, body = ApiError), (status = 403, body = ApiError)))]
pub async fn create_delivery(
    State(state): State<AppState>,
    Who(caller): Who,
    Body(d): Body<DeliveryIn>,
) -> AppResult<(StatusCode, Json<Id>)> {
    let site = SiteRef::Code(&d.site);
    let id = supply::plan_delivery(&state.app, &caller, d.lot_id, site, &d.day, d.doses).await?;
    Ok((StatusCode::CREATED, Json(Id { id })))
}

#[utoipa::path(post, path = "/api/v1/deliveries/{id}/receive", tag = "supply",
    params(("id" = i64, Path, description = "The delivery's id")),
    responses((status = 204, description = "Received now: its doses are in the site's stock"),
              (status = 409, body = ApiError, description = "Received before (`already_received`): the ledger counted it once")))]
pub async fn receive(
    State(state): State<AppState>,
    Who(caller): Who,
    lang: Lang,
    Path(super::kit::Id(id)): Path<super::kit::Id>,
) -> AppResult<Response> {
    Ok(
        match supply::receive_delivery(&state.app, &caller, id).await? {
            Received::Now => StatusCode::NO_CONTENT.into_response(),
            // Received before: the ledger counted it once; say so rather than count it again.
            Received::Before => {
                let (status, body) = refused(
                    StatusCode::CONFLICT,
                    "already_received",
                    Some("id"),
                    lang.t("supply.already_received"),
                );
                json_response(status, body)
            }
        },
    )
}

/// Doses of a lot at a site: what the ledger says was delivered, its sum, and the balance.
#[derive(Serialize, ToSchema)]
pub struct StockOut {
    pub lot_id: i64,
    pub site_id: i64,
    pub delivered: i64,
    pub ledger_sum: i64,
    pub remaining: i64,
}

#[utoipa::path(get, path = "/api/v1/stock", tag = "supply",
    responses((status = 200, body = [StockOut]), (status = 403, body = ApiError)))]
pub async fn stock(
    State(state): State<AppState>,
    Who(caller): Who,
) -> AppResult<Json<Vec<StockOut>>> {
    let out = supply::balances(&state.app, &caller)
        .await?
        .into_iter()
        .map(|b| StockOut {
            lot_id: b.lot_id,
            site_id: b.site_id,
            delivered: b.delivered,
            ledger_sum: b.ledger_sum,
            remaining: b.remaining,
        })
        .collect();
    Ok(Json(out))
}
