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
    /// The first request with this key has not finished (it was claimed at `since`).
    InFlight { since: i64 },
}

/// How long a claim may stay unanswered before it counts as abandoned — its server killed
/// between the claim and the answer — and the next request with the key may take it over and
/// do the work (the work's own conditions keep that from doing anything twice). Longer than any
/// request takes.
pub const IN_FLIGHT_LEASE_MS: i64 = 60_000;

/// Claims `key` for `request_hash` on the caller's write transaction. A claim left unanswered
/// for longer than [`IN_FLIGHT_LEASE_MS`] is taken over (conditionally, so one taker wins).
pub async fn claim(
    conn: &mut AnyConnection,
    user_id: i64,
    key: &str,
    request_hash: &str,
    now: i64,
) -> StoreResult<Claim> {
    match insert_claim(conn, user_id, key, request_hash, now).await? {
        Claim::InFlight { since } if since < now - IN_FLIGHT_LEASE_MS => {
            let taken = sqlx::query(
                "UPDATE idempotency_keys SET created_at = $1 \
                 WHERE user_id = $2 AND key = $3 AND status = 0 AND created_at = $4",
            )
            .bind(now)
            .bind(user_id)
            .bind(key)
            .bind(since)
            .execute(&mut *conn)
            .await?;
            Ok(if taken.rows_affected() == 1 {
                Claim::Fresh
            } else {
                Claim::InFlight { since: now }
            })
        }
        other => Ok(other),
    }
}

/// Inserts the claim, or says what the key already holds.
async fn insert_claim(
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
    existing(conn, user_id, key, request_hash).await
}

/// What the key holds already.
async fn existing(
    conn: &mut AnyConnection,
    user_id: i64,
    key: &str,
    request_hash: &str,
) -> StoreResult<Claim> {
    let row = sqlx::query(
        "SELECT request_hash, status, body, created_at FROM idempotency_keys WHERE user_id = $1 AND key = $2",
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
        Claim::InFlight {
            since: row.try_get(3)?,
        }
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
    existing(conn, user_id, key, request_hash).await
}

/// One answer for [`settle_many`] to keep.
#[derive(Debug, Clone, Copy)]
pub struct Settle<'a> {
    pub user_id: i64,
    pub key: &'a str,
    pub request_hash: &'a str,
    pub status: i64,
    pub body: &'a str,
}

/// Most answers in one statement (six parameters each). SQLite looks a parameter's name up by
/// walking the statement's list of them, so very long statements cost more per row than short
/// ones.
const SETTLE_CHUNK: usize = 64;

/// Inserts a chunk of answers (`status` 0 and an empty body: claims), `tail` deciding what a
/// key already there gets and what comes back.
async fn insert_chunk(
    conn: &mut AnyConnection,
    chunk: &[Settle<'_>],
    now: i64,
    tail: &str,
) -> StoreResult<Vec<sqlx::any::AnyRow>> {
    let sql = format!(
        "INSERT INTO idempotency_keys (user_id, key, request_hash, status, body, created_at) VALUES {} {tail}",
        crate::rows::values(chunk.len(), 6, 1)
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for it in chunk {
        q = q
            .bind(it.user_id)
            .bind(it.key)
            .bind(it.request_hash)
            .bind(it.status)
            .bind(it.body)
            .bind(now);
    }
    Ok(q.fetch_all(&mut *conn).await?)
}

/// [`settle`] for many answers at once, in one statement per [`SETTLE_CHUNK`]: the claims come
/// back in the order given. A key named twice is stored once; the second hears the first.
pub async fn settle_many(
    conn: &mut AnyConnection,
    items: &[Settle<'_>],
    now: i64,
) -> StoreResult<Vec<Claim>> {
    let mut fresh = std::collections::HashSet::new();
    for chunk in items.chunks(SETTLE_CHUNK) {
        let tail = "ON CONFLICT (user_id, key) DO NOTHING RETURNING user_id, key";
        for row in insert_chunk(conn, chunk, now, tail).await? {
            fresh.insert((row.try_get::<i64, _>(0)?, row.try_get::<String, _>(1)?));
        }
    }
    let mut claims = Vec::with_capacity(items.len());
    for it in items {
        // Taken out once stored, so a second answer for the same key hears the first.
        if fresh.remove(&(it.user_id, it.key.to_string())) {
            claims.push(Claim::Fresh);
        } else {
            claims.push(existing(conn, it.user_id, it.key, it.request_hash).await?);
        }
    }
    Ok(claims)
}

/// A key to claim with [`claim_many`]: `(user id, key, request hash)`.
pub type ToClaim<'a> = (i64, &'a str, &'a str);

/// [`claim`] for many keys at once: a claim is a key stored with no answer yet, so this is
/// [`settle_many`] with none. A key named twice is claimed once; the second finds it
/// [`Claim::InFlight`].
pub async fn claim_many(
    conn: &mut AnyConnection,
    items: &[ToClaim<'_>],
    now: i64,
) -> StoreResult<Vec<Claim>> {
    let unanswered: Vec<Settle> = items
        .iter()
        .map(|&(user_id, key, request_hash)| Settle {
            user_id,
            key,
            request_hash,
            status: 0,
            body: "",
        })
        .collect();
    settle_many(conn, &unanswered, now).await
}

/// Stores the answers to keys claimed in this transaction, in one statement per chunk.
pub async fn answer_many(
    conn: &mut AnyConnection,
    items: &[Settle<'_>],
    now: i64,
) -> StoreResult<()> {
    for chunk in items.chunks(SETTLE_CHUNK) {
        let tail = "ON CONFLICT (user_id, key) DO UPDATE SET status = excluded.status, body = excluded.body";
        insert_chunk(conn, chunk, now, tail).await?;
    }
    Ok(())
}

/// Gives back keys claimed in this transaction whose work was refused, so the refusal can be
/// kept under them afterwards (see [`settle`]).
pub async fn release_many(conn: &mut AnyConnection, keys: &[(i64, &str)]) -> StoreResult<()> {
    for chunk in keys.chunks(SETTLE_CHUNK) {
        let cond = (0..chunk.len())
            .map(|i| {
                format!(
                    "(user_id = ${} AND key = ${} AND status = 0)",
                    2 * i + 1,
                    2 * i + 2
                )
            })
            .collect::<Vec<_>>()
            .join(" OR ");
        let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM idempotency_keys WHERE {cond}"
        )));
        for &(user, key) in chunk {
            q = q.bind(user).bind(key);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
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

/// Forgets keys claimed before `before` (milliseconds since the epoch), answered or not; returns
/// how many. A retry after that long is a new request.
pub async fn delete_older_than(conn: &mut AnyConnection, before: i64) -> StoreResult<u64> {
    let done = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
        .bind(before)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}
