//! Machine clients on the API: `Authorization: Bearer <token>` with a token the admin made (see
//! `vaxloop_app::tokens`). A live token makes the request its login's, exactly as a session
//! would, so every handler and use case checks and audits it the same way; such a request needs
//! no CSRF token (a browser never sends this header across sites on its own). Only paths under
//! `/api/` read the header. Each token has its own rate limit; tokens that open nothing are
//! counted per client address and throttled like wrong passwords.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use vaxloop_app::tokens::{self, Bearer};

use crate::AppState;
use crate::auth::{AuthSession, CurrentUser};
use crate::error::{AppError, ErrorInfo};
use crate::limits::ClientAddr;

/// Marks a request a bearer token opened (the CSRF guard lets it through).
#[derive(Debug, Clone, Copy)]
pub struct ByToken;

/// The token in an `Authorization: Bearer …` header: `None` without the header, `Some(None)`
/// when it is there but not a bearer token.
fn token_of(request: &Request) -> Option<Option<String>> {
    let value = request.headers().get(header::AUTHORIZATION)?;
    let text = value.to_str().ok();
    Some(text.and_then(|t| {
        let (scheme, token) = t.trim().split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim().to_string())
    }))
}

fn refused(status: StatusCode, code: &'static str, key: &str, retry: Option<u64>) -> Response {
    let mut response = status.into_response();
    response.extensions_mut().insert(ErrorInfo {
        code,
        field: None,
        message_key: key.into(),
        problems: vec![],
    });
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"vaxloop\", error=\"invalid_token\""),
        );
    }
    if let Some(seconds) = retry.and_then(|s| HeaderValue::from_str(&s.to_string()).ok()) {
        response.headers_mut().insert(header::RETRY_AFTER, seconds);
    }
    response
}

pub async fn bearer(
    State(state): State<AppState>,
    client: ClientAddr,
    mut request: Request,
    next: Next,
) -> Response {
    if !request.uri().path().starts_with("/api/") {
        return next.run(request).await;
    }
    let Some(token) = token_of(&request) else {
        return next.run(request).await;
    };
    let path = request.uri().path().to_string();
    let found = match token {
        Some(token) => match tokens::bearer(&state.app, &token, &path).await {
            Ok(found) => found,
            Err(e) => return AppError::from(e).into_response(),
        },
        None => Bearer::Unknown,
    };
    let (user, token_id) = match found {
        Bearer::Login { user, token_id } => (user, token_id),
        Bearer::Unknown | Bearer::Dead => {
            return match state.limiters.bad_token(client.0) {
                Ok(()) => refused(
                    StatusCode::UNAUTHORIZED,
                    "invalid_token",
                    "error.invalid_token",
                    None,
                ),
                Err(wait) => refused(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too_many_requests",
                    "error.too_many_requests",
                    Some(wait),
                ),
            };
        }
    };
    if let Err(wait) = state.limiters.api_token(token_id) {
        return refused(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            "error.too_many_requests",
            Some(wait),
        );
    }
    let Some(auth) = request.extensions_mut().get_mut::<AuthSession>() else {
        return AppError::Internal(anyhow::anyhow!("session layer missing")).into_response();
    };
    auth.user = Some(CurrentUser(user));
    request.extensions_mut().insert(ByToken);
    next.run(request).await
}
