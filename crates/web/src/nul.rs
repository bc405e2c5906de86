//! Text holding a NUL character: no field of any form or query means one, PostgreSQL cannot store
//! one (the statement fails, which would be a server error), and a log line should not carry one.
//! Forms and query strings with one are refused here, before any handler, as a request that could
//! not be read (400, naming the character). JSON bodies are checked field by field by the API's
//! body reader (`api::kit::Body`, 422 naming the field); file uploads are binary and read by the
//! spreadsheet readers.

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::csrf::FORM_LIMIT;
use crate::error::AppError;

fn refused() -> Response {
    AppError::BadRequest {
        field: None,
        message: "error.nul_text".into(),
    }
    .into_response()
}

/// Whether percent-encoded `text` (a query or a form body) holds a NUL, raw or escaped.
fn holds_nul(text: &[u8]) -> bool {
    text.contains(&0)
        || text
            .windows(3)
            .any(|w| w[0] == b'%' && w[1] == b'0' && w[2] == b'0')
}

pub async fn refuse_nul(request: Request, next: Next) -> Response {
    if request
        .uri()
        .query()
        .is_some_and(|q| holds_nul(q.as_bytes()))
    {
        return refused();
    }
    let form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    if !form {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, FORM_LIMIT).await else {
        return axum::http::StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    if holds_nul(&bytes) {
        return refused();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

#[cfg(test)]
mod tests {
    use super::holds_nul;

    #[test]
    fn a_nul_is_found_raw_or_escaped_and_nothing_else_is() {
        assert!(holds_nul(b"reason=a%00b"));
        assert!(holds_nul(b"a\0b"));
        assert!(!holds_nul(b"reason=%E6%A0%B8%E5%AF%B9&n=100&x=%0A"));
        assert!(
            !holds_nul(b"n=%100"),
            "the escape %10 followed by 0 is no NUL"
        );
    }
}
