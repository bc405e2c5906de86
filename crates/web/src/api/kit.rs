//! The API's small kit: the error body every failed call answers with, `Idempotency-Key`
//! (parsed once, and a retry answered with the first answer), JSON replies, and the caller of a
//! site's station.

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use vaxloop_app::idempotency::{self, Claimed};
use vaxloop_app::stations::{self, Station};
use vaxloop_core::SitePost;

use crate::AppState;
use crate::auth::AuthSession;
use crate::error::{AppError, AppResult};
use crate::who;

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
    let hash = idempotency::fingerprint(&state.app, request);
    match idempotency::claim(app, user, &key, &hash).await? {
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
        Claimed::InFlight { retry_after_ms } => return Ok(in_flight(retry_after_ms)),
    }
    let outcome = work().await;
    match &outcome {
        Ok((status, out)) => {
            idempotency::answer(app, user, &key, &hash, status.as_u16(), out).await?;
        }
        // Nothing was done: the key is free for the retry.
        Err(_) => idempotency::release(app, user, &key).await?,
    }
    let (status, out) = outcome?;
    Ok(json_response(status, out))
}

/// 409 with `Retry-After`: the first request with this key is still being done (or its server
/// died doing it; after the claim's lease the next retry does the work).
fn in_flight(retry_after_ms: i64) -> Response {
    let seconds = (retry_after_ms + 999) / 1000;
    let mut response = StatusCode::CONFLICT.into_response();
    response.extensions_mut().insert(crate::error::ErrorInfo {
        code: "in_flight",
        field: Some("Idempotency-Key".into()),
        message_key: "error.in_flight".into(),
        problems: vec![],
    });
    if let Ok(value) = axum::http::HeaderValue::from_str(&seconds.to_string()) {
        response
            .headers_mut()
            .insert(axum::http::header::RETRY_AFTER, value);
    }
    response
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

/// A value as a JSON body.
pub(crate) fn body<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// A 201 with `out` as its body.
pub(crate) fn created<T: Serialize>(out: &T) -> (StatusCode, String) {
    (StatusCode::CREATED, body(out))
}

/// The station `post` at site `code` for the caller coming through `via`, and their login's id
/// (the Idempotency-Key's owner).
pub(crate) async fn station_for(
    state: &AppState,
    auth: &AuthSession,
    via: String,
    code: &str,
    post: SitePost,
) -> AppResult<(Station, i64)> {
    let caller = who::caller(auth, via);
    let station = stations::station(&state.app, &caller, code, post).await?;
    let user_id = caller.user_id().ok_or(AppError::Unauthenticated)?;
    Ok((station, user_id))
}
