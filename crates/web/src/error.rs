//! The one web error type. Handlers return `Result<T, AppError>`; the error travels out of the
//! handler as a bare status with an [`ErrorInfo`] extension, and [`render`] — which knows the
//! request's language and whether it came to the API — turns it into a translated HTML page or a
//! JSON body. Internal causes are logged, never shown.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not logged in")]
    Unauthenticated,
    #[error("forbidden")]
    Forbidden,
    #[error("not found")]
    NotFound,
    /// Not found, said in the page's own words (`message` is a translation key): an expired
    /// registration link, say.
    #[error("not found: {message}")]
    Missing { message: String },
    /// Bad input; `message` is a translation key, `field` names the input it is about.
    #[error("bad request: {message}")]
    BadRequest {
        field: Option<String>,
        message: String,
    },
    /// A request that was read, with fields whose values are refused: `(field, translation
    /// key)` each. 422, where [`AppError::BadRequest`] (400) is a request that could not be read.
    #[error("invalid input")]
    Invalid(Vec<(String, String)>),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// A use case's answer besides its outcome: who may not, what is not there, what to correct.
impl From<vaxloop_app::Error> for AppError {
    fn from(e: vaxloop_app::Error) -> Self {
        use vaxloop_app::Error;
        match e {
            Error::Unauthenticated => AppError::Unauthenticated,
            Error::Denied => AppError::Forbidden,
            Error::NotFound => AppError::NotFound,
            Error::Invalid(problems) => AppError::Invalid(
                problems
                    .into_iter()
                    .map(|p| (p.field.to_string(), format!("org.problem.{}", p.code)))
                    .collect(),
            ),
            Error::Store(e) => AppError::Internal(e.into()),
            Error::Internal(cause) => AppError::Internal(anyhow::anyhow!(cause)),
        }
    }
}

/// A proposal's refusals (stale, a move that does not fit, …) are answered where they happen;
/// what reaches here is not found, or internal.
impl From<vaxloop_app::proposals::ProposalError> for AppError {
    fn from(e: vaxloop_app::proposals::ProposalError) -> Self {
        use vaxloop_app::proposals::ProposalError;
        match e {
            ProposalError::Store(e) => vaxloop_app::Error::from(e).into(),
            ProposalError::Access(e) => e.into(),
            ProposalError::NotFound => AppError::NotFound,
            other => AppError::Internal(anyhow::anyhow!("{other}")),
        }
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        AppError::Internal(e.into())
    }
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    /// One field's value refused: `key` says why.
    pub fn invalid(field: &str, key: &str) -> Self {
        AppError::Invalid(vec![(field.into(), key.into())])
    }
}

/// What [`render`] needs to describe an error to the caller.
#[derive(Debug, Clone)]
pub struct ErrorInfo {
    pub code: &'static str,
    pub field: Option<String>,
    pub message_key: String,
    /// Every field problem, `(field, translation key)`, for `Invalid`.
    pub problems: Vec<(String, String)>,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut problems = Vec::new();
        let (status, code, field, key) = match self {
            AppError::Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                None,
                "error.unauthenticated".to_string(),
            ),
            AppError::Forbidden => (
                StatusCode::FORBIDDEN,
                "forbidden",
                None,
                "error.forbidden".to_string(),
            ),
            AppError::NotFound => (
                StatusCode::NOT_FOUND,
                "not_found",
                None,
                "error.not_found".to_string(),
            ),
            AppError::Missing { message } => (StatusCode::NOT_FOUND, "not_found", None, message),
            AppError::BadRequest { field, message } => {
                (StatusCode::BAD_REQUEST, "bad_request", field, message)
            }
            AppError::Invalid(list) => {
                let first = list.first().cloned().unwrap_or_default();
                problems = list;
                (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid",
                    Some(first.0),
                    first.1,
                )
            }
            AppError::Internal(cause) => {
                tracing::error!(error = %format!("{cause:#}"), "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    None,
                    "error.internal".to_string(),
                )
            }
        };
        let mut response = status.into_response();
        response.extensions_mut().insert(ErrorInfo {
            code,
            field,
            message_key: key,
            problems,
        });
        response
    }
}
