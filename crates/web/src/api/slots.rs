//! Changing a slot's capacity by hand: the desk or the admin, with a reason that is kept with the
//! slot and written to the audit log; never below the bookings already made.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::put;
use serde::Deserialize;
use utoipa::ToSchema;
use vaxloop_app::slots::{self, CapacityRefusal};

use super::kit::ApiError;
use super::kit::Body;
use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::who::Who;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/slots/{id}/capacity", put(set_capacity))
}

/// A new capacity and why.
#[derive(Deserialize, ToSchema)]
pub struct CapacityIn {
    /// 0 to 10,000, and not below the places already booked.
    #[schema(minimum = 0, maximum = 10_000)]
    pub capacity: i64,
    /// Why, kept with the slot and audited: at least 4 characters besides spaces around them.
    #[schema(min_length = 4)]
    pub reason: String,
}

#[utoipa::path(put, path = "/api/v1/slots/{id}/capacity", tag = "booking", request_body = CapacityIn,
    params(("id" = i64, Path, description = "The slot's id")),
    responses((status = 204), (status = 400, body = ApiError), (status = 403, body = ApiError), (status = 409, body = ApiError)))]
pub async fn set_capacity(
    State(state): State<AppState>,
    Who(caller): Who,
    Path(super::kit::Id(id)): Path<super::kit::Id>,
    Body(input): Body<CapacityIn>,
) -> AppResult<StatusCode> {
    let bad = AppError::invalid;
    match slots::set_capacity(&state.app, &caller, id, input.capacity, &input.reason).await? {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(CapacityRefusal::ReasonRequired) => Err(bad("reason", "privacy.reason_required")),
        Err(CapacityRefusal::OutOfRange) => Err(bad("capacity", "slots.capacity_range")),
        Err(CapacityRefusal::BelowBooked) => Err(bad("capacity", "slots.below_booked")),
    }
}
