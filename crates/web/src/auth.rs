//! Logging in: staff with a username and password, residents with their ID number and the PIN
//! they chose at registration (DESIGN.md, "Residents come back"). Built on axum-login; the check
//! itself (lock, decoy hash, audit) is `vaxloop_app::auth`'s; sessions live in the database (see
//! `session_store`).
//!
//! Five wrong passwords in a row lock a login for fifteen minutes; unknown names lock the same
//! way and cost the same Argon2 work, so the form does not reveal who has an account; hashing is
//! capped at one per core (see `vaxloop_app::auth`), and the login page throttles each client and
//! everyone together (see `crate::limits`). Every attempt is audited — by user id, never by what
//! was typed.

use axum_login::{AuthUser, AuthnBackend, UserId};
use vaxloop_app::sessions::User;

use crate::AppState;

/// The logged-in user, as the session layer keeps it.
#[derive(Clone)]
pub struct CurrentUser(pub User);

impl std::fmt::Debug for CurrentUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CurrentUser(id={}, role={})", self.0.id, self.0.role)
    }
}

impl AuthUser for CurrentUser {
    type Id = i64;

    fn id(&self) -> i64 {
        self.0.id
    }

    /// Changing the password hash ends every session of the login.
    fn session_auth_hash(&self) -> &[u8] {
        self.0.password_hash.as_bytes()
    }
}

/// What the login form sends.
#[derive(Clone, serde::Deserialize)]
pub struct Credentials {
    /// A username, or a resident's ID number.
    pub login: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credentials(..)")
    }
}

#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct AuthError(#[from] vaxloop_app::Error);

#[derive(Clone)]
pub struct Backend {
    state: AppState,
}

impl Backend {
    pub fn new(state: AppState) -> Self {
        Self { state }
    }
}

pub type AuthSession = axum_login::AuthSession<Backend>;

impl AuthnBackend for Backend {
    type User = CurrentUser;
    type Credentials = Credentials;
    type Error = AuthError;

    async fn authenticate(&self, creds: Credentials) -> Result<Option<CurrentUser>, AuthError> {
        let user =
            vaxloop_app::auth::authenticate(&self.state.app, &creds.login, creds.password).await?;
        Ok(user.ok().map(CurrentUser))
    }

    /// The session's login: as read with the session a moment ago (see
    /// [`crate::session_store`]), otherwise from the database.
    async fn get_user(&self, id: &UserId<Self>) -> Result<Option<CurrentUser>, AuthError> {
        let user = match self.state.seen_users.fresh(*id) {
            Some(user) => Some(user),
            None => vaxloop_app::auth::user(&self.state.app, *id).await?,
        };
        Ok(user.filter(|u| u.active).map(CurrentUser))
    }
}
