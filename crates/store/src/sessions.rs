//! Web sessions, stored in the database so that several `vaxloop serve` nodes share them and a
//! restart logs nobody out. The web layer serialises the session record; here it is opaque text.

use crate::db::Db;
use crate::error::StoreResult;

/// Inserts a session under a new id; false when the id is already taken (the caller draws
/// another).
pub async fn create(db: &Db, id: &str, data: &str, expires_at: i64) -> StoreResult<bool> {
    let done = sqlx::query(
        "INSERT INTO sessions (id, data, expires_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING",
    )
    .bind(id)
    .bind(data)
    .bind(expires_at)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Inserts many sessions in the caller's transaction (fixtures for load tests that need
/// thousands of people signed in); `(id, data, expires_at)` each, ids fresh.
pub async fn create_many(
    conn: &mut sqlx::AnyConnection,
    rows: &[(String, String, i64)],
) -> StoreResult<()> {
    for chunk in rows.chunks(300) {
        let mut sql = String::from("INSERT INTO sessions (id, data, expires_at) VALUES ");
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3));
        }
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (id, data, expires) in chunk {
            q = q.bind(id).bind(data).bind(*expires);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Inserts or replaces a session.
pub async fn save(db: &Db, id: &str, data: &str, expires_at: i64) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO sessions (id, data, expires_at) VALUES ($1, $2, $3) \
         ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at",
    )
    .bind(id)
    .bind(data)
    .bind(expires_at)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// The session's data, unless it is missing or expired at `now`.
pub async fn load(db: &Db, id: &str, now: i64) -> StoreResult<Option<String>> {
    let data = sqlx::query_scalar("SELECT data FROM sessions WHERE id = $1 AND expires_at > $2")
        .bind(id)
        .bind(now)
        .fetch_optional(db.pool())
        .await?;
    Ok(data)
}

pub async fn delete(db: &Db, id: &str) -> StoreResult<()> {
    sqlx::query("DELETE FROM sessions WHERE id = $1")
        .bind(id)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Removes sessions that expired before `now`; returns how many.
pub async fn delete_expired(db: &Db, now: i64) -> StoreResult<u64> {
    let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(now)
        .execute(db.pool())
        .await?;
    Ok(done.rows_affected())
}
