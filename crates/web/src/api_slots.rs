//! Changing a slot's capacity by hand: the desk or the admin, with a reason that is kept with the
//! slot and written to the audit log; never below the bookings already made.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::put;
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::ToSchema;
use vaxloop_core::Role;
use vaxloop_store::audit::{self, Entry, Outcome};
use vaxloop_store::slots;

use crate::AppState;
use crate::access;
use crate::api::ApiError;
use crate::auth::AuthSession;
use crate::error::{AppError, AppResult};

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/slots/{id}/capacity", put(set_capacity))
}

/// A new capacity and why.
#[derive(Deserialize, ToSchema)]
pub struct CapacityIn {
    pub capacity: i64,
    pub reason: String,
}

#[utoipa::path(put, path = "/api/v1/slots/{id}/capacity", tag = "booking", request_body = CapacityIn,
    params(("id" = i64, Path, description = "The slot's id")),
    responses((status = 204), (status = 400, body = ApiError), (status = 403, body = ApiError), (status = 409, body = ApiError)))]
pub async fn set_capacity(
    State(state): State<AppState>,
    auth: AuthSession,
    Path(id): Path<i64>,
    Json(input): Json<CapacityIn>,
) -> AppResult<StatusCode> {
    let user = access::require(
        &state,
        &auth,
        &[Role::Admin, Role::Desk],
        &format!("/api/v1/slots/{id}/capacity"),
    )
    .await?;
    let reason = vaxloop_app::privacy::reason(&input.reason).map_err(|_| AppError::BadRequest {
        field: Some("reason".into()),
        message: "privacy.reason_required".into(),
    })?;
    if !(0..=10_000).contains(&input.capacity) {
        return Err(AppError::BadRequest {
            field: Some("capacity".into()),
            message: "slots.capacity_range".into(),
        });
    }
    let now = vaxloop_store::now_ms();
    let mut tx = state.db.begin_write().await?;
    let stored_reason = format!("manual: {reason}");
    let Some(previous) = slots::set_capacity(&mut tx, id, input.capacity, &stored_reason).await?
    else {
        return Err(match slots::by_id(&state.db, id).await? {
            Some(_) => AppError::BadRequest {
                field: Some("capacity".into()),
                message: "slots.below_booked".into(),
            },
            None => AppError::NotFound,
        });
    };
    let target = format!("slot:{id}");
    let detail = format!("capacity {previous} -> {}", input.capacity);
    let entry = Entry {
        actor_user_id: Some(user.id),
        action: "slot_capacity",
        target: &target,
        reason: Some(reason),
        outcome: Outcome::Ok,
        detail: Some(&detail),
    };
    audit::record_in(&mut tx, &entry, now).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
