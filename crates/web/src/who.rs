//! The caller of a request, as every use case takes it: the session's login (if any) and the
//! path the request came through, which a refusal is audited against.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use vaxloop_app::{Actor, Caller};

use crate::AppState;
use crate::auth::AuthSession;
use crate::error::AppError;

/// The request's [`Caller`], extracted.
pub struct Who(pub Caller);

impl FromRequestParts<AppState> for Who {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let auth = AuthSession::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::Internal(anyhow::anyhow!("session layer missing")))?;
        Ok(Who(caller(&auth, parts.uri.path())))
    }
}

/// The caller the session's login makes, through `via`.
pub fn caller(auth: &AuthSession, via: impl Into<String>) -> Caller {
    Caller::new(auth.user.as_ref().map(|u| Actor::from(&u.0)), via)
}
