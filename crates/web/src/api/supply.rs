//! The supply API: vaccine products, lots and planned deliveries created, deliveries received,
//! and stock per lot and site. Same checks and scope as the stock page.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vaxloop_app::supply::{self, Received, SiteRef, VaccineInput};

use super::kit::ApiError;
use crate::AppState;
use crate::error::AppResult;
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
    pub code: String,
    pub name: String,
    pub manufacturer: String,
    pub doses_in_series: i64,
    pub min_interval_days: i64,
    pub min_age: i64,
    pub max_age: Option<i64>,
    pub doses_per_vial: i64,
    #[serde(default)]
    pub open_vial_minutes: i64,
    #[serde(default)]
    pub observation_minutes: Option<i64>,
}

#[utoipa::path(post, path = "/api/v1/vaccines", tag = "supply", request_body = VaccineIn,
    responses((status = 201, body = Id), (status = 400, body = ApiError), (status = 403, body = ApiError)))]
pub async fn create_vaccine(
    State(state): State<AppState>,
    Who(caller): Who,
    Json(v): Json<VaccineIn>,
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
    pub lot_number: String,
    /// `YYYY-MM-DD`, after today.
    pub expires_on: String,
}

#[utoipa::path(post, path = "/api/v1/lots", tag = "supply", request_body = LotIn,
    responses((status = 201, body = Id), (status = 400, body = ApiError), (status = 403, body = ApiError)))]
pub async fn create_lot(
    State(state): State<AppState>,
    Who(caller): Who,
    Json(l): Json<LotIn>,
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
    pub day: String,
    pub doses: i64,
}

#[utoipa::path(post, path = "/api/v1/deliveries", tag = "supply", request_body = DeliveryIn,
    responses((status = 201, body = Id), (status = 400, body = ApiError), (status = 403, body = ApiError)))]
pub async fn create_delivery(
    State(state): State<AppState>,
    Who(caller): Who,
    Json(d): Json<DeliveryIn>,
) -> AppResult<(StatusCode, Json<Id>)> {
    let site = SiteRef::Code(&d.site);
    let id = supply::plan_delivery(&state.app, &caller, d.lot_id, site, &d.day, d.doses).await?;
    Ok((StatusCode::CREATED, Json(Id { id })))
}

#[utoipa::path(post, path = "/api/v1/deliveries/{id}/receive", tag = "supply",
    params(("id" = i64, Path, description = "The delivery's id")),
    responses((status = 204), (status = 403, body = ApiError), (status = 409, body = ApiError)))]
pub async fn receive(
    State(state): State<AppState>,
    Who(caller): Who,
    Path(id): Path<i64>,
) -> AppResult<StatusCode> {
    Ok(
        match supply::receive_delivery(&state.app, &caller, id).await? {
            Received::Now => StatusCode::NO_CONTENT,
            // Received before: the ledger counted it once; say so rather than count it again.
            Received::Before => StatusCode::CONFLICT,
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
