//! Where the web's sessions are kept: rows keyed by a hash of the session id, each naming its
//! login, so a session and its user are read in one round trip. The session layer itself
//! (cookies, expiry, the batching of reads) is the web's; this is only its storage, reached
//! through the application like everything else.

use vaxloop_store::sessions;
pub use vaxloop_store::sessions::{LOAD_CHUNK, WithUser};
pub use vaxloop_store::users::User;

use crate::App;
use crate::error::Result;

/// Stores a new session; false when the key is taken already.
pub async fn create(
    app: &App,
    key: &str,
    data: &str,
    expires_ms: i64,
    user_id: Option<i64>,
) -> Result<bool> {
    Ok(sessions::create(app.db(), key, data, expires_ms, user_id).await?)
}

/// Stores many signed-in sessions at once, `(key, data, expires_ms, user_id)`, in one
/// transaction (load tests sign thousands in without as many password checks).
pub async fn create_many(app: &App, rows: &[(String, String, i64, i64)]) -> Result<()> {
    let mut tx = app.db().begin_write().await?;
    sessions::create_many(&mut tx, rows).await?;
    tx.commit().await?;
    Ok(())
}

/// Writes a session, new or changed.
pub async fn save(
    app: &App,
    key: &str,
    data: &str,
    expires_ms: i64,
    user_id: Option<i64>,
) -> Result<()> {
    Ok(sessions::save(app.db(), key, data, expires_ms, user_id).await?)
}

/// The session under `key` with its login, if it has not expired by `now`.
pub async fn load(app: &App, key: &str, now: i64) -> Result<Option<WithUser>> {
    Ok(sessions::load_with_user(app.db(), key, now).await?)
}

/// The unexpired sessions among `keys` with their logins, read in one statement.
pub async fn load_many(app: &App, keys: &[&str], now: i64) -> Result<Vec<(String, WithUser)>> {
    Ok(sessions::load_many_with_user(app.db(), keys, now).await?)
}

pub async fn delete(app: &App, key: &str) -> Result<()> {
    Ok(sessions::delete(app.db(), key).await?)
}

/// Removes the sessions expired by `now`; answers how many.
pub async fn delete_expired(app: &App, now: i64) -> Result<u64> {
    Ok(sessions::delete_expired(app.db(), now).await?)
}
