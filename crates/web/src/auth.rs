//! Logging in: staff with a username and password, residents with their ID number and the PIN
//! they chose at registration (DESIGN.md, "Residents come back"). Built on axum-login; sessions
//! live in the database (see `session_store`).
//!
//! Five wrong passwords in a row lock a login for fifteen minutes. Unknown logins cost the same
//! Argon2 work as wrong passwords and get the same answer, so the form does not reveal who has an
//! account. Every attempt is audited — by user id, never by what was typed.

use axum_login::{AuthUser, AuthnBackend, UserId};
use vaxloop_core::{ResidentId, password};
use vaxloop_store::audit::{self, Entry, Outcome};
use vaxloop_store::users::{self, User};
use vaxloop_store::{StoreError, now_ms, people};

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
pub struct AuthError(#[from] StoreError);

#[derive(Clone)]
pub struct Backend {
    state: AppState,
}

impl Backend {
    pub fn new(state: AppState) -> Self {
        Self { state }
    }

    async fn find(&self, login: &str) -> Result<Option<User>, StoreError> {
        let db = &self.state.db;
        match ResidentId::parse(login) {
            Ok(id) => match people::by_resident_id(db, &self.state.cipher, &id).await? {
                Some(person) => users::by_person(db, person.id).await,
                None => Ok(None),
            },
            Err(_) => users::by_username(db, login.trim()).await,
        }
    }
}

pub type AuthSession = axum_login::AuthSession<Backend>;

async fn verify(secret: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || password::verify(&secret, &hash))
        .await
        .unwrap_or(false)
}

impl AuthnBackend for Backend {
    type User = CurrentUser;
    type Credentials = Credentials;
    type Error = AuthError;

    async fn authenticate(&self, creds: Credentials) -> Result<Option<CurrentUser>, AuthError> {
        let now = now_ms();
        let user = self.find(&creds.login).await?;
        let usable = user
            .as_ref()
            .filter(|u| u.active && u.locked_until.is_none_or(|until| until <= now));
        let hash = usable
            .map(|u| u.password_hash.clone())
            .unwrap_or_else(|| password::decoy().to_string());
        let matches = verify(creds.password, hash).await && usable.is_some();
        let db = &self.state.db;
        let target = user
            .as_ref()
            .map(|u| format!("user:{}", u.id))
            .unwrap_or_default();
        let (outcome, result) = match (user, matches) {
            (Some(user), true) => {
                users::record_login(db, user.id).await?;
                (Outcome::Ok, Some(CurrentUser(user)))
            }
            (Some(user), false) => {
                users::record_failed_login(db, user.id, now).await?;
                (Outcome::Denied, None)
            }
            (None, _) => (Outcome::Denied, None),
        };
        let actor = result.as_ref().map(|u| u.0.id);
        audit::record(
            db,
            &Entry {
                actor_user_id: actor,
                action: "login",
                target: &target,
                reason: None,
                outcome,
                detail: None,
            },
            now,
        )
        .await?;
        Ok(result)
    }

    /// The session's login: as read with the session a moment ago (see
    /// [`crate::session_store`]), otherwise from the database.
    async fn get_user(&self, id: &UserId<Self>) -> Result<Option<CurrentUser>, AuthError> {
        let user = match self.state.seen_users.fresh(*id) {
            Some(user) => Some(user),
            None => users::by_id(&self.state.db, *id).await?,
        };
        Ok(user.filter(|u| u.active).map(CurrentUser))
    }
}
