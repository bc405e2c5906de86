//! Tokens for machine clients (see migration 0015). Each token acts as a login of its own: a
//! `users` row with a role and scope, whose password hash is [`users::MACHINE_HASH`] (no password
//! matches it). The token is stored only as a keyed hash.

use sqlx::{AnyConnection, Row};

use crate::db::Db;
use crate::error::StoreResult;
use crate::users::{self, User};

/// A new token's row.
#[derive(Debug, Clone)]
pub struct NewToken<'a> {
    pub name: &'a str,
    pub user_id: i64,
    pub hash: &'a [u8],
    pub prefix: &'a str,
    pub created_by: Option<i64>,
    pub expires_at: i64,
}

/// Stores a token on the caller's transaction; returns its id.
pub async fn insert(conn: &mut AnyConnection, token: &NewToken<'_>, now: i64) -> StoreResult<i64> {
    let id = sqlx::query_scalar(
        "INSERT INTO api_tokens (name, user_id, token_hash, prefix, created_by, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(token.name)
    .bind(token.user_id)
    .bind(token.hash)
    .bind(token.prefix)
    .bind(token.created_by)
    .bind(now)
    .bind(token.expires_at)
    .fetch_one(conn)
    .await?;
    Ok(id)
}

/// Whether a token is named `name` already (revoked ones keep their names).
pub async fn name_taken(db: &Db, name: &str) -> StoreResult<bool> {
    let n: i64 =
        sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM api_tokens WHERE name = $1")
            .bind(name)
            .fetch_one(db.pool())
            .await?;
    Ok(n > 0)
}

/// A token as the admin's list shows it, with its login.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub user: User,
}

fn select(filter: &str) -> String {
    let columns = users::COLUMNS
        .split(", ")
        .map(|c| format!("u.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "SELECT t.id AS token_id, t.name AS token_name, t.prefix, t.created_at AS token_created_at, \
         t.expires_at, t.revoked_at, t.last_used_at, {columns} \
         FROM api_tokens t JOIN users u ON u.id = t.user_id {filter}"
    )
}

fn from_row(row: &sqlx::any::AnyRow) -> StoreResult<Token> {
    Ok(Token {
        id: row.try_get("token_id")?,
        name: row.try_get("token_name")?,
        prefix: row.try_get("prefix")?,
        created_at: row.try_get("token_created_at")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
        last_used_at: row.try_get("last_used_at")?,
        user: users::from_row(row)?,
    })
}

/// Every token, newest first.
pub async fn all(db: &Db) -> StoreResult<Vec<Token>> {
    let sql = select("ORDER BY t.id DESC");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(from_row).collect()
}

/// The token whose keyed hash is `hash`, if any (revoked and expired ones too: the caller
/// decides).
pub async fn by_hash(db: &Db, hash: &[u8]) -> StoreResult<Option<Token>> {
    let sql = select("WHERE t.token_hash = $1");
    crate::rows::optional(db, sql, hash.to_vec(), from_row).await
}

/// The token named `name`.
pub async fn by_name(db: &Db, name: &str) -> StoreResult<Option<Token>> {
    let sql = select("WHERE t.name = $1");
    crate::rows::optional(db, sql, name.to_string(), from_row).await
}

/// Revokes the token `id` and deactivates its login, on the caller's transaction. False when it
/// was revoked already.
pub async fn revoke_in(conn: &mut AnyConnection, id: i64, now: i64) -> StoreResult<bool> {
    let done =
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(&mut *conn)
            .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query(
        "UPDATE users SET active = 0 WHERE id = (SELECT user_id FROM api_tokens WHERE id = $1)",
    )
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(true)
}

/// Records that the token `id` was used at `now` — at most once a minute, so a busy client
/// does not write on every request.
pub async fn touch(db: &Db, id: i64, now: i64) -> StoreResult<()> {
    sqlx::query(
        "UPDATE api_tokens SET last_used_at = $1 \
         WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)",
    )
    .bind(now)
    .bind(id)
    .bind(now - 60_000)
    .execute(db.pool())
    .await?;
    Ok(())
}
