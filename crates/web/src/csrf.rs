//! CSRF protection for every state-changing request: a random token kept in the session must come
//! back in the `X-CSRF-Token` header (htmx sends it from the page body's `hx-headers`), for an
//! ordinary form in its `csrf_token` field, and for a file upload in the `csrf_token` query
//! parameter of the form's action. Safe methods pass untouched.
//!
//! A visitor who is not logged in gets no session row for it: their token is a keyed hash of a
//! random nonce kept in a cookie of their own (the double-submit pattern, bound by the server's
//! key), so a bot fetching the login page a million times costs no database rows. The session
//! — and a token kept in it — begins with the login.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;
use tower_sessions::Session;

use crate::AppState;
use crate::error::{AppError, ErrorInfo};

pub(crate) use crate::session_store::CSRF_KEY as SESSION_KEY;
pub const HEADER: &str = "x-csrf-token";
pub const FIELD: &str = "csrf_token";
/// Forms that carry a token are small; files go through the header.
pub(crate) const FORM_LIMIT: usize = 1024 * 1024;
/// The cookie holding a visitor's nonce.
pub const VISITOR_COOKIE: &str = "vaxloop_visitor";

/// 32 random bytes, in hex: a token or a nonce.
fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    hex::encode(bytes)
}

/// A visitor's nonce, as their cookie brought it (`sent`) or as this response gives it.
#[derive(Debug, Clone)]
pub struct Visitor {
    nonce: String,
    sent: bool,
}

/// Gives every request its visitor's nonce, and a visitor without one a cookie with it.
pub async fn visitor(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let sent = request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, v)| {
            *k == VISITOR_COOKIE && v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit())
        })
        .map(|(_, v)| v.to_string());
    let visitor = match sent {
        Some(nonce) => Visitor { nonce, sent: true },
        None => Visitor {
            nonce: random_hex(),
            sent: false,
        },
    };
    request.extensions_mut().insert(visitor.clone());
    let mut response = next.run(request).await;
    if !visitor.sent {
        let secure = if state.config.secure_cookies {
            "; Secure"
        } else {
            ""
        };
        let cookie = format!(
            "{VISITOR_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax{secure}",
            visitor.nonce
        );
        if let Ok(value) = header::HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

/// The token of a visitor who is not logged in: their nonce, hashed with the server's key.
fn visitor_token(state: &AppState, visitor: &Visitor) -> String {
    hex::encode(state.app.cipher().blind(&format!("csrf:{}", visitor.nonce)))
}

/// The token a page carries: the session's when it has one or the caller is logged in (created
/// then, in the session), otherwise the visitor's — no session needed.
pub async fn page_token(
    state: &AppState,
    session: &Session,
    visitor: Option<&Visitor>,
    logged_in: bool,
) -> Result<String, AppError> {
    let existing: Option<String> = session
        .get(SESSION_KEY)
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    match (existing, visitor) {
        (Some(t), _) => Ok(t),
        (None, Some(v)) if !logged_in => Ok(visitor_token(state, v)),
        (None, _) => new_token(session).await,
    }
}

/// The session's token, if it holds one already (never creating one).
pub async fn session_token(session: &Session) -> Option<String> {
    session.get(SESSION_KEY).await.ok().flatten()
}

/// A new token, kept in the session.
async fn new_token(session: &Session) -> Result<String, AppError> {
    let t = random_hex();
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

pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    // Safe methods change nothing; a machine client's bearer token is no ambient credential.
    let by_token = request
        .extensions()
        .get::<crate::bearer::ByToken>()
        .is_some();
    if by_token
        || matches!(
            *request.method(),
            Method::GET | Method::HEAD | Method::OPTIONS
        )
    {
        return next.run(request).await;
    }
    let Some(session) = request.extensions().get::<Session>().cloned() else {
        return rejected();
    };
    let kept: Option<String> = session.get(SESSION_KEY).await.ok().flatten();
    // Without a token in the session, the visitor's — if their cookie came back.
    let visitor = request.extensions().get::<Visitor>().filter(|v| v.sent);
    let expected = kept.or_else(|| visitor.map(|v| visitor_token(&state, v)));
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
