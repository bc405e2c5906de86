//! Logging in: staff with a username and password, residents with their ID number and the PIN
//! they chose at registration (DESIGN.md, "Residents come back"). The web's session layer asks
//! here; it never reads logins itself.
//!
//! Five wrong passwords in a row lock a login for fifteen minutes; during the lock nothing is
//! hashed, nothing is counted and the lock is not extended (the right password included), and the
//! person is told when they may try again; the admin may unlock it sooner. A name with no login
//! behaves the same — its failures are counted in memory and lock it as long — and costs the same
//! Argon2 work, so the form does not reveal who has an account. At most one password is hashed per
//! core at a time: a flood of logins waits briefly and is then told the server is busy, instead of
//! exhausting the CPU and memory (each hash takes 19 MiB). Every attempt that is judged is
//! audited — by user id, never by what was typed — in the transaction that counts it.

use std::time::Duration;

use vaxloop_core::{ResidentId, Role, password};
use vaxloop_store::users::{self, User};
use vaxloop_store::{StoreError, now_ms, people};

use crate::audit::{self, Act};
use crate::error::{Error, Result};
pub use crate::strangers::Strangers;
use crate::{App, Caller, scope};

/// Why a login was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginRefusal {
    /// Wrong login or password (the same answer for both).
    Wrong,
    /// Too many wrong passwords: no tries until `until` (milliseconds since the epoch).
    Locked { until: i64 },
    /// Every core is hashing a password for someone; try again in a moment.
    Busy,
}

/// How long an attempt waits for a core to hash its password before it is told the server is
/// busy.
const HASH_WAIT: Duration = Duration::from_secs(2);
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

/// Whether `secret` matches `hash`, hashed on the blocking pool under a core's permit; `None`
/// when no core came free in time.
async fn verify(app: &App, secret: String, hash: String) -> Option<bool> {
    let permit = tokio::time::timeout(HASH_WAIT, app.hashing().acquire_owned()).await;
    let Ok(Ok(permit)) = permit else {
        return None;
    };
    let matched = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        password::verify(&secret, &hash)
    })
    .await;
    Some(matched.unwrap_or(false))
}

/// The login, when `secret` is its password (or PIN) and it is active and not locked; otherwise
/// why not. A wrong password counts towards the lock.
pub async fn authenticate(
    app: &App,
    login: &str,
    secret: String,
) -> Result<std::result::Result<User, LoginRefusal>> {
    let now = now_ms();
    // A machine client's login (an API token's) is no name to log in with: treated as unknown.
    let user = find(app, login)
        .await?
        .filter(|u| u.active && !u.is_machine());
    let name = app
        .cipher()
        .blind(&format!("login:{}", login.trim().to_uppercase()));
    let target = user
        .as_ref()
        .map(|u| format!("user:{}", u.id))
        .unwrap_or_default();
    let locked = match &user {
        Some(u) => u.locked_until.filter(|until| *until > now),
        None => app.strangers().locked(&name, now),
    };
    if let Some(until) = locked {
        let mut tx = app.db().begin_write().await?;
        let act = Act::new("login", &target).detail("locked");
        audit::write_denied(&mut tx, &Caller::anonymous("/login"), act).await?;
        tx.commit().await?;
        return Ok(Err(LoginRefusal::Locked { until }));
    }
    let hash = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| password::decoy().to_string());
    let Some(matched) = verify(app, secret, hash).await else {
        return Ok(Err(LoginRefusal::Busy));
    };
    let mut tx = app.db().begin_write().await?;
    let outcome = match (user, matched) {
        (Some(user), true) => {
            users::record_login(&mut tx, user.id).await?;
            let by = Caller::login(crate::Actor::from(&user), "/login");
            audit::write(&mut tx, &by, Act::new("login", &target)).await?;
            Ok(user)
        }
        (Some(user), false) => {
            let locked = users::record_failed_login(&mut tx, user.id, now).await?;
            refused(&mut tx, &target, locked).await?
        }
        (None, _) => {
            let locked = app.strangers().failed(&name, now);
            refused(&mut tx, &target, locked).await?
        }
    };
    tx.commit().await?;
    Ok(outcome)
}

/// A wrong password's audit row, and its answer: wrong, or — when it was the last try — locked.
async fn refused(
    tx: &mut vaxloop_store::WriteTx,
    target: &str,
    locked: Option<i64>,
) -> Result<std::result::Result<User, LoginRefusal>> {
    let act = Act::new("login", target);
    let act = if locked.is_some() {
        act.detail("locked")
    } else {
        act
    };
    audit::write_denied(tx, &Caller::anonymous("/login"), act).await?;
    Ok(Err(match locked {
        Some(until) => LoginRefusal::Locked { until },
        None => LoginRefusal::Wrong,
    }))
}

/// The active login with id `id` (a session's user, read again).
pub async fn user(app: &App, id: i64) -> Result<Option<User>> {
    Ok(users::by_id(app.db(), id).await?.filter(|u| u.active))
}

/// The admin unlocks the staff login `username` before its lock runs out (a nurse who mistyped
/// five times at the start of a shift). Audited. False when it was not locked.
pub async fn unlock(app: &App, caller: &Caller, username: &str) -> Result<bool> {
    scope::require(app, caller, &[Role::Admin]).await?;
    let user = users::by_username(app.db(), username.trim())
        .await?
        .ok_or(Error::NotFound)?;
    let now = now_ms();
    if user.locked_until.is_none_or(|until| until <= now) && user.failed_logins == 0 {
        return Ok(false);
    }
    let mut tx = app.db().begin_write().await?;
    users::record_login(&mut tx, user.id).await?;
    let target = format!("user:{}", user.id);
    audit::write(&mut tx, caller, Act::new("unlock_login", &target)).await?;
    tx.commit().await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn with_every_core_hashing_a_login_is_told_the_server_is_busy() {
        let t = vaxloop_store::testing::TestDb::sqlite().await;
        let app = App::new(t.db.clone(), t.cipher.clone(), chrono_tz::Asia::Shanghai);
        let cores = app.hashing().available_permits() as u32;
        let held = app
            .hashing()
            .acquire_many_owned(cores)
            .await
            .expect("permits");
        let busy = authenticate(&app, "anyone", "secret".into())
            .await
            .expect("q");
        assert_eq!(busy, Err(LoginRefusal::Busy));
        drop(held);
        let wrong = authenticate(&app, "anyone", "secret".into())
            .await
            .expect("q");
        assert_eq!(wrong, Err(LoginRefusal::Wrong));
    }

    #[test]
    fn a_name_without_a_login_locks_after_five_failures_and_not_for_ever() {
        let names = Strangers::default();
        let key = b"k".to_vec();
        let now = 1_000_000;
        for _ in 0..4 {
            assert_eq!(names.failed(&key, now), None);
        }
        let until = names.failed(&key, now).expect("locked");
        assert_eq!(names.locked(&key, now + 1), Some(until));
        assert_eq!(
            names.failed(&key, now + 2),
            None,
            "no count during the lock"
        );
        assert_eq!(names.locked(&key, now + 2), Some(until), "and no extension");
        assert_eq!(names.locked(&key, until + 1), None);
        assert_eq!(
            names.failed(&key, until + 1),
            None,
            "five more tries after the lock"
        );
    }
}
