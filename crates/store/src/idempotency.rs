//! Idempotency keys for unsafe API calls: the first request with a key does the work and stores
//! its answer in the same transaction; a retry with the same key gets that answer back and does
//! nothing. A key reused for a different request is refused.

use sqlx::{AnyConnection, Row};

use crate::error::StoreResult;

/// What claiming a key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is new: do the work, then [`answer`] it in the same transaction.
    Fresh,
    /// The key was answered before: return this status and body.
    Answered { status: i64, body: String },
    /// The key was used for another request.
    Mismatch,
    /// The first request with this key has not finished.
    InFlight,
}

/// Claims `key` for `request_hash` on the caller's write transaction.
pub async fn claim(
    conn: &mut AnyConnection,
    user_id: i64,
    key: &str,
    request_hash: &str,
    now: i64,
) -> StoreResult<Claim> {
    let inserted = sqlx::query(
        "INSERT INTO idempotency_keys (user_id, key, request_hash, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (user_id, key) DO NOTHING",
    )
    .bind(user_id)
    .bind(key)
    .bind(request_hash)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    if inserted.rows_affected() == 1 {
        return Ok(Claim::Fresh);
    }
    let row = sqlx::query(
        "SELECT request_hash, status, body FROM idempotency_keys WHERE user_id = $1 AND key = $2",
    )
    .bind(user_id)
    .bind(key)
    .fetch_one(&mut *conn)
    .await?;
    let (hash, status, body): (String, i64, String) =
        (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
    Ok(if hash != request_hash {
        Claim::Mismatch
    } else if status == 0 {
        Claim::InFlight
    } else {
        Claim::Answered { status, body }
    })
}

/// Keeps an answer under a key that no request has claimed yet, in one statement (a refused
/// request changed nothing, so there is no work to share its transaction with): `Fresh` when it
/// was stored, otherwise what the key already holds.
pub async fn settle(
    conn: &mut AnyConnection,
    user_id: i64,
    key: &str,
    request_hash: &str,
    status: i64,
    body: &str,
    now: i64,
) -> StoreResult<Claim> {
    let inserted = sqlx::query(
        "INSERT INTO idempotency_keys (user_id, key, request_hash, status, body, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (user_id, key) DO NOTHING",
    )
    .bind(user_id)
    .bind(key)
    .bind(request_hash)
    .bind(status)
    .bind(body)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    if inserted.rows_affected() == 1 {
        return Ok(Claim::Fresh);
    }
    claim(conn, user_id, key, request_hash, now).await
}

/// Stores the answer to a claimed key (in the transaction that did the work), or records a key
/// whose work was refused (in a transaction of its own after the refusal rolled back).
pub async fn answer(
    conn: &mut AnyConnection,
    user_id: i64,
    key: &str,
    request_hash: &str,
    status: i64,
    body: &str,
    now: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO idempotency_keys (user_id, key, request_hash, status, body, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (user_id, key) DO UPDATE SET status = excluded.status, body = excluded.body",
    )
    .bind(user_id)
    .bind(key)
    .bind(request_hash)
    .bind(status)
    .bind(body)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}
