//! `Idempotency-Key`: a client that retries a request with the same key gets the first answer,
//! and nothing is done twice. A key belongs to its login; a key sent again with another request
//! is refused. The key is claimed in a transaction of its own before the work, answered after
//! it, and freed when the work failed (so the retry may do it).

use vaxloop_store::idempotency::{self, Claim};

use crate::App;
use crate::error::Result;

/// What a claimed key says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claimed {
    /// New: do the work, then [`answer`] it (or [`release`] it when the work failed).
    Fresh,
    /// Answered before: return this.
    Answered { status: u16, body: String },
    /// Used for another request.
    Reused,
    /// Its first request has not finished: try again in `retry_after_ms` (a request whose
    /// server died is taken over once its claim's lease has run out).
    InFlight { retry_after_ms: i64 },
}

/// A request's fingerprint, so that a key reused for another request is told apart: a hash keyed
/// with the server's key, since a request may carry an ID number (a check-in by ID) and an
/// unkeyed hash of one is found again by trying every number.
pub fn fingerprint(app: &App, request: &str) -> String {
    hex::encode(app.cipher().blind(&format!("idempotency:{request}")))
}

/// Claims `key` of login `user` for the request with fingerprint `hash` (see [`fingerprint`]).
pub async fn claim(app: &App, user: i64, key: &str, hash: &str) -> Result<Claimed> {
    let now = vaxloop_store::now_ms();
    let mut tx = app.db().begin_write().await?;
    let claim = idempotency::claim(&mut tx, user, key, hash, now).await?;
    tx.commit().await?;
    Ok(match claim {
        Claim::Fresh => Claimed::Fresh,
        Claim::Answered { status, body } => Claimed::Answered {
            status: u16::try_from(status).unwrap_or(200),
            body,
        },
        Claim::Mismatch => Claimed::Reused,
        Claim::InFlight { since } => Claimed::InFlight {
            retry_after_ms: (since + idempotency::IN_FLIGHT_LEASE_MS - now).max(1_000),
        },
    })
}

/// Keeps the answer to the claimed `key`, for its retries.
pub async fn answer(
    app: &App,
    user: i64,
    key: &str,
    hash: &str,
    status: u16,
    body: &str,
) -> Result<()> {
    let now = vaxloop_store::now_ms();
    let mut tx = app.db().begin_write().await?;
    idempotency::answer(&mut tx, user, key, hash, i64::from(status), body, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Frees the claimed `key`: nothing was done, so a retry may do it.
pub async fn release(app: &App, user: i64, key: &str) -> Result<()> {
    let mut tx = app.db().begin_write().await?;
    idempotency::release_many(&mut tx, &[(user, key)]).await?;
    tx.commit().await?;
    Ok(())
}

/// How long a key's answer is kept for retries: a day, as payment APIs keep theirs.
pub const KEEP_MS: i64 = 24 * 60 * 60 * 1000;

/// Forgets keys older than [`KEEP_MS`] before `now` (the server's sweep), so keys sent by
/// clients do not pile up for ever. Returns how many.
pub async fn sweep(app: &App, now: i64) -> Result<u64> {
    let mut tx = app.db().begin_write().await?;
    let n = idempotency::delete_older_than(&mut tx, now - KEEP_MS).await?;
    tx.commit().await?;
    Ok(n)
}
