//! Logging in: staff with a username and password, residents with their ID number and the PIN
//! they chose at registration (DESIGN.md, "Residents come back"). The web's session layer asks
//! here; it never reads logins itself.
//!
//! Five wrong passwords in a row lock a login for fifteen minutes. Unknown logins cost the same
//! Argon2 work as wrong passwords and get the same answer, so the form does not reveal who has an
//! account. Every attempt is audited — by user id, never by what was typed.

use vaxloop_core::{ResidentId, password};
use vaxloop_store::audit::{self, Entry, Outcome};
use vaxloop_store::users::{self, User};
use vaxloop_store::{StoreError, now_ms, people};

use crate::App;
use crate::error::Result;

/// The login named `login` (a username, or a resident's ID number), if there is one.
async fn find(app: &App, login: &str) -> std::result::Result<Option<User>, StoreError> {
    let db = app.db();
    match ResidentId::parse(login) {
        Ok(id) => match people::by_resident_id(db, app.cipher(), &id).await? {
            Some(person) => users::by_person(db, person.id).await,
            None => Ok(None),
        },
        Err(_) => users::by_username(db, login.trim()).await,
    }
}

async fn verify(secret: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || password::verify(&secret, &hash))
        .await
        .unwrap_or(false)
}

/// The login, when `secret` is its password (or PIN) and it is active and not locked. A wrong
/// password counts towards the lock; every attempt is audited.
pub async fn authenticate(app: &App, login: &str, secret: String) -> Result<Option<User>> {
    let now = now_ms();
    let user = find(app, login).await?;
    let usable = user
        .as_ref()
        .filter(|u| u.active && u.locked_until.is_none_or(|until| until <= now));
    let hash = usable
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| password::decoy().to_string());
    let matches = verify(secret, hash).await && usable.is_some();
    let db = app.db();
    let target = user
        .as_ref()
        .map(|u| format!("user:{}", u.id))
        .unwrap_or_default();
    let (outcome, result) = match (user, matches) {
        (Some(user), true) => {
            users::record_login(db, user.id).await?;
            (Outcome::Ok, Some(user))
        }
        (Some(user), false) => {
            users::record_failed_login(db, user.id, now).await?;
            (Outcome::Denied, None)
        }
        (None, _) => (Outcome::Denied, None),
    };
    let entry = Entry {
        actor_user_id: result.as_ref().map(|u| u.id),
        action: "login",
        target: &target,
        reason: None,
        outcome,
        detail: None,
    };
    audit::record(db, &entry, now).await?;
    Ok(result)
}

/// The active login with id `id` (a session's user, read again).
pub async fn user(app: &App, id: i64) -> Result<Option<User>> {
    Ok(users::by_id(app.db(), id).await?.filter(|u| u.active))
}
