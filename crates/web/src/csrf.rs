//! CSRF protection for every state-changing request: a random token kept in the session must come
//! back in the `X-CSRF-Token` header (htmx sends it from the page body's `hx-headers`), for an
//! ordinary form in its `csrf_token` field, and for a file upload in the `csrf_token` query
//! parameter of the form's action. Safe methods pass untouched.

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;
use tower_sessions::Session;

use crate::error::{AppError, ErrorInfo};

pub(crate) const SESSION_KEY: &str = "csrf";
pub const HEADER: &str = "x-csrf-token";
pub const FIELD: &str = "csrf_token";
/// Forms that carry a token are small; files go through the header.
const FORM_LIMIT: usize = 1024 * 1024;

/// The session's token, created on first use.
pub async fn token(session: &Session) -> Result<String, AppError> {
    let existing: Option<String> = session
        .get(SESSION_KEY)
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    if let Some(t) = existing {
        return Ok(t);
    }
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    let t = hex::encode(bytes);
    session
        .insert(SESSION_KEY, &t)
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok(t)
}

fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

fn rejected() -> Response {
    let mut response = StatusCode::FORBIDDEN.into_response();
    response.extensions_mut().insert(ErrorInfo {
        code: "csrf",
        field: None,
        message_key: "error.csrf".into(),
        problems: vec![],
    });
    response
}

pub async fn guard(request: Request, next: Next) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    let Some(session) = request.extensions().get::<Session>().cloned() else {
        return rejected();
    };
    let expected: Option<String> = session.get(SESSION_KEY).await.ok().flatten();
    let Some(expected) = expected else {
        return rejected();
    };
    if let Some(sent) = request.headers().get(HEADER).and_then(|v| v.to_str().ok()) {
        return if same(sent, &expected) {
            next.run(request).await
        } else {
            rejected()
        };
    }
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type.starts_with("multipart/form-data") {
        // File uploads carry the token in the form's action URL, so the upload itself need not be
        // buffered here (the token is no secret beyond this session; pages send no Referer).
        let sent = request.uri().query().and_then(|q| {
            form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == FIELD)
                .map(|(_, v)| v.into_owned())
        });
        return match sent {
            Some(sent) if same(&sent, &expected) => next.run(request).await,
            _ => rejected(),
        };
    }
    if !content_type.starts_with("application/x-www-form-urlencoded") {
        return rejected();
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, FORM_LIMIT).await else {
        return rejected();
    };
    let sent = form_urlencoded::parse(&bytes)
        .find(|(k, _)| k == FIELD)
        .map(|(_, v)| v.into_owned());
    match sent {
        Some(sent) if same(&sent, &expected) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        _ => rejected(),
    }
}
