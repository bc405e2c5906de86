//! The supply API: vaccine products, lots and planned deliveries created, deliveries received,
//! and stock per lot and site. Same checks and scope as the stock page.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vaxloop_app::supply::{self, SupplyError, VaccineInput};
use vaxloop_core::Role;
use vaxloop_store::{sites, vaccines};

use crate::AppState;
use crate::access::{self, can_manage_stock, deny};
use crate::api::ApiError;
use crate::auth::AuthSession;
use crate::error::{AppError, AppResult};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/vaccines", post(create_vaccine))
        .route("/api/v1/lots", post(create_lot))
        .route("/api/v1/deliveries", post(create_delivery))
        .route("/api/v1/deliveries/{id}/receive", post(receive))
        .route("/api/v1/stock", get(stock))
}

fn supply_error(e: SupplyError) -> AppError {
    match e {
        SupplyError::Invalid(p) => AppError::Invalid(
            p.into_iter()
                .map(|p| (p.field.to_string(), format!("org.problem.{}", p.code)))
                .collect(),
        ),
        SupplyError::Refused(_) => AppError::BadRequest {
            field: None,
            message: "stock.doses_positive".into(),
        },
        SupplyError::Store(e) => e.into(),
    }
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
    auth: AuthSession,
    Json(v): Json<VaccineIn>,
) -> AppResult<(StatusCode, Json<Id>)> {
    access::require(&state, &auth, &[Role::Admin], "/api/v1/vaccines").await?;
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
    let id = supply::create_vaccine(&state.db, &input)
        .await
        .map_err(supply_error)?;
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
    auth: AuthSession,
    Json(l): Json<LotIn>,
) -> AppResult<(StatusCode, Json<Id>)> {
    access::require(&state, &auth, &[Role::Admin, Role::Desk], "/api/v1/lots").await?;
    let id = supply::create_lot(
        &state.db,
        l.vaccine_id,
        &l.lot_number,
        &l.expires_on,
        state.config.today(),
    )
    .await
    .map_err(supply_error)?;
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
    auth: AuthSession,
    Json(d): Json<DeliveryIn>,
) -> AppResult<(StatusCode, Json<Id>)> {
    access::require(
        &state,
        &auth,
        &[Role::Admin, Role::Desk],
        "/api/v1/deliveries",
    )
    .await?;
    let site = sites::by_code(&state.db, &d.site)
        .await?
        .ok_or(AppError::BadRequest {
            field: Some("site".into()),
            message: "error.not_found".into(),
        })?;
    let id = supply::plan_delivery(&state.db, d.lot_id, site.id, &d.day, d.doses)
        .await
        .map_err(supply_error)?;
    Ok((StatusCode::CREATED, Json(Id { id })))
}

#[utoipa::path(post, path = "/api/v1/deliveries/{id}/receive", tag = "supply",
    params(("id" = i64, Path, description = "The delivery's id")),
    responses((status = 204), (status = 403, body = ApiError), (status = 409, body = ApiError)))]
pub async fn receive(
    State(state): State<AppState>,
    auth: AuthSession,
    Path(id): Path<i64>,
) -> AppResult<StatusCode> {
    let user = access::user(&auth)?;
    let site = vaccines::delivery_site(&state.db, id).await?;
    if !site.is_some_and(|s| can_manage_stock(user, s)) {
        return Err(deny(
            &state,
            Some(user),
            &format!("/api/v1/deliveries/{id}/receive"),
        )
        .await);
    }
    let mut tx = state.db.begin_write().await?;
    match vaccines::receive_delivery(&mut tx, id, Some(user.id), vaxloop_store::now_ms()).await {
        Ok(()) => {
            tx.commit().await.map_err(vaxloop_store::StoreError::from)?;
            Ok(StatusCode::NO_CONTENT)
        }
        // Received before: the ledger counted it once; say so rather than count it again.
        Err(vaxloop_store::StoreError::NotFound(_)) => Ok(StatusCode::CONFLICT),
        Err(e) => Err(e.into()),
    }
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
    auth: AuthSession,
) -> AppResult<Json<Vec<StockOut>>> {
    let user = access::require(
        &state,
        &auth,
        &[Role::Admin, Role::Desk, Role::SiteStaff],
        "/api/v1/stock",
    )
    .await?;
    let out = vaccines::ledger_balances(&state.db)
        .await?
        .into_iter()
        .filter(|b| access::can_see_site(user, b.site_id))
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
