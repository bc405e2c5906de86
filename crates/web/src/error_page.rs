//! Errors as the caller sees them: JSON under `/api/` (the API's error body, with every field
//! problem), otherwise the error page in the request's language — or, for a page that needs a
//! login, a redirect to the login form that comes back afterwards.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};

use crate::AppState;
use crate::error::ErrorInfo;
use crate::furniture::{ErrorPage, safe_next};
use crate::i18n::Lang;

/// Renders errors for the caller: JSON under `/api/`, otherwise a page in the request's language
/// (or, for a page that needs a login, a redirect to the login form that comes back afterwards).
pub async fn render(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let lang = Lang::from_headers(request.headers());
    // The caller's page frame, for an error page that keeps their navigation and logout.
    let (mut parts, body) = request.into_parts();
    let page = if parts.uri.path().starts_with("/api/") {
        None
    } else {
        <crate::furniture::Page as axum::extract::FromRequestParts<AppState>>::from_request_parts(
            &mut parts, &state,
        )
        .await
        .ok()
    };
    let request = Request::from_parts(parts, body);
    let path = request.uri().path().to_string();
    let path_and_query = request
        .uri()
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_else(|| path.clone());
    let is_api = path.starts_with("/api/");
    let response = next.run(request).await;
    let Some(info) = response.extensions().get::<ErrorInfo>().cloned() else {
        return framework_error(lang, is_api, page.as_ref(), response).await;
    };
    let status = response.status();
    let message = lang.t(&info.message_key);
    if is_api {
        let problems: Vec<serde_json::Value> = info
            .problems
            .iter()
            .map(|(field, key)| serde_json::json!({ "field": field, "message": lang.t(key) }))
            .collect();
        let body = serde_json::json!({
            "error": info.code,
            "field": info.field,
            "message": message,
            "problems": problems,
        });
        return kept(response.headers(), (status, Json(body)).into_response());
    }
    if status == StatusCode::UNAUTHORIZED {
        let next = safe_next(&path_and_query).unwrap_or("/");
        let target = format!("/login?next={}", urlencode(next));
        return Redirect::to(&target).into_response();
    }
    let shown = ErrorPage::framed(page.as_ref(), lang, status, message).await;
    match askama::Template::render(&shown) {
        Ok(html) => (status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "error page failed to render");
            status.into_response()
        }
    }
}

/// An error the framework answered by itself — a body or query that did not parse, an unknown
/// route, a method or media type the route does not take, a body over the limit — in the same
/// shape as every other error: the API's JSON error body (with the parser's own words, which
/// name the field), or the error page. Anything else passes untouched.
async fn framework_error(
    lang: Lang,
    is_api: bool,
    page: Option<&crate::furniture::Page>,
    response: Response,
) -> Response {
    let status = response.status();
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|t| t.starts_with("text/plain"));
    if !(status.is_client_error() || status.is_server_error()) || !plain {
        return response;
    }
    let (status, code, key) = match status {
        StatusCode::NOT_FOUND => (status, "not_found", "error.not_found"),
        StatusCode::METHOD_NOT_ALLOWED => {
            (status, "method_not_allowed", "error.method_not_allowed")
        }
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            status,
            "unsupported_media_type",
            "error.unsupported_media_type",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (status, "too_large", "error.too_large"),
        StatusCode::CONFLICT => (status, "conflict", "error.conflict"),
        // A JSON body of the wrong shape: the same answer as any other bad request.
        StatusCode::UNPROCESSABLE_ENTITY | StatusCode::BAD_REQUEST => {
            (StatusCode::BAD_REQUEST, "bad_request", "error.bad_request")
        }
        s if s.is_server_error() => (s, "internal", "error.internal"),
        s => (s, "bad_request", "error.bad_request"),
    };
    let headers = response.headers().clone();
    let detail = axum::body::to_bytes(response.into_body(), 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let message = match detail.is_empty() || status.is_server_error() {
        true => lang.t(key),
        false => format!("{} ({detail})", lang.t(key)),
    };
    if is_api {
        let body = serde_json::json!({
            "error": code,
            "field": null,
            "message": message,
            "problems": [],
        });
        return kept(&headers, (status, Json(body)).into_response());
    }
    let shown = ErrorPage::framed(page, lang, status, lang.t(key)).await;
    let mut answer = match askama::Template::render(&shown) {
        Ok(html) => (status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response(),
        Err(_) => status.into_response(),
    };
    // A 405 still says which methods the address takes.
    if let Some(allow) = headers.get(header::ALLOW) {
        answer.headers_mut().insert(header::ALLOW, allow.clone());
    }
    answer
}

/// `answer` with what the client is to do next carried over from `from`: when to retry, how to
/// authenticate.
fn kept(from: &axum::http::HeaderMap, mut answer: Response) -> Response {
    for name in [header::RETRY_AFTER, header::WWW_AUTHENTICATE] {
        if let Some(value) = from.get(&name) {
            answer.headers_mut().insert(name, value.clone());
        }
    }
    answer
}

/// Percent-encodes a path for a query value (only what a local path can contain).
fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(char::from(b))
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
