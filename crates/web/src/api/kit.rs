//! The API's small kit: the error body every failed call answers with, `Idempotency-Key`
//! (parsed once, and a retry answered with the first answer), JSON replies, and the caller of a
//! site's station.

use axum::Json;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
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
    /// A stable code: `unauthenticated`, `invalid_token`, `forbidden`, `csrf`, `not_found`,
    /// `bad_request`, `invalid`, `too_large`, `unsupported_media_type`, `method_not_allowed`,
    /// `in_flight`, `too_many_requests`, `internal`, or the refusal's own code where the
    /// operation lists one.
    pub error: String,
    /// The input field the error is about, when there is one.
    pub field: Option<String>,
    /// A human-readable message in the caller's language.
    pub message: String,
    /// Every field to correct, when there are several (`invalid`); otherwise empty.
    pub problems: Vec<FieldProblem>,
}

/// One field to correct.
#[derive(Serialize, ToSchema)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

/// A refusal the operation documents: `status` with the error body, its code and the field
/// it is about.
pub(crate) fn refused(
    status: StatusCode,
    error: &str,
    field: Option<&str>,
    message: String,
) -> (StatusCode, String) {
    let out = ApiError {
        error: error.into(),
        field: field.map(String::from),
        message,
        problems: vec![],
    };
    (status, body(&out))
}

/// A JSON body, its numbers read as JSON Schema reads them: `28177.0` is the integer 28177 (a
/// client whose language has no integers may send that), so an integer field takes it. What
/// does not parse, or is not of the body's shape, is a 400 naming the field; text holding a NUL
/// character (which no field means, and PostgreSQL cannot store) a 422 naming it.
pub(crate) struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Response> {
        let Json(mut value) = Json::<Value>::from_request(request, state)
            .await
            .map_err(IntoResponse::into_response)?;
        integral(&mut value);
        if let Some(field) = nul_at(&value) {
            let field = field.trim_start_matches('.').to_string();
            return Err(AppError::Invalid(vec![(field, "error.nul_text".into())]).into_response());
        }
        serde_path_to_error::deserialize(value)
            .map(Body)
            .map_err(|e| {
                let detail = format!("the JSON body is not of the expected shape: {e}");
                (StatusCode::BAD_REQUEST, detail).into_response()
            })
    }
}

/// An id in a path, read as JSON Schema reads an integer: `1.0` is the integer 1 (a generic
/// client renders the document's `integer` so), anything else not an integer is a 400.
#[derive(Debug, Clone, Copy, serde::Deserialize)]
#[serde(try_from = "String")]
pub(crate) struct Id(pub i64);

impl TryFrom<String> for Id {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        let mut value = match text.parse::<i64>() {
            Ok(n) => return Ok(Id(n)),
            Err(_) => text.parse::<f64>().map(Value::from).unwrap_or(Value::Null),
        };
        integral(&mut value);
        value
            .as_i64()
            .map(Id)
            .ok_or_else(|| format!("cannot read `{text}` as an id (a whole number)"))
    }
}

/// Where under `value` the first text holding a NUL character is (`[2]`, `.answers[0].note`),
/// if any; the path is written only once one is found.
fn nul_at(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => s.contains('\0').then(String::new),
        Value::Array(items) => (items.iter().enumerate())
            .find_map(|(i, item)| nul_at(item).map(|rest| format!("[{i}]{rest}"))),
        Value::Object(fields) => fields.iter().find_map(|(key, item)| {
            let rest = match key.contains('\0') {
                true => Some(String::new()),
                false => nul_at(item),
            };
            rest.map(|rest| format!(".{key}{rest}"))
        }),
        _ => None,
    }
}

/// Numbers with no fraction, within an integer's range, as integers (the parser bounds the
/// nesting this walks).
fn integral(value: &mut Value) {
    const LIMIT: f64 = 9_223_372_036_854_775_808.0; // 2^63
    match value {
        Value::Number(n) if !(n.is_i64() || n.is_u64()) => {
            if let Some(f) = n.as_f64()
                && f.fract() == 0.0
                && (-LIMIT..LIMIT).contains(&f)
            {
                *value = Value::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral),
        Value::Object(fields) => fields.values_mut().for_each(integral),
        _ => {}
    }
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
            return Err(AppError::invalid("Idempotency-Key", "booking.key_reused"));
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
