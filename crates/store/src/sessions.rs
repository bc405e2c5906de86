//! Web sessions, stored in the database so that several `vaxloop serve` nodes share them and a
//! restart logs nobody out. The web layer serialises the session record; here it is opaque text.

use sqlx::Row;

use crate::db::Db;
use crate::error::StoreResult;
use crate::users::User;

/// Inserts a session under a new id, with the login it belongs to (if any); false when the id is
/// already taken (the caller draws another).
pub async fn create(
    db: &Db,
    id: &str,
    data: &str,
    expires_at: i64,
    user_id: Option<i64>,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "INSERT INTO sessions (id, data, expires_at, user_id) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
    )
    .bind(id)
    .bind(data)
    .bind(expires_at)
    .bind(user_id)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Inserts many sessions in the caller's transaction (fixtures for load tests that need
/// thousands of people signed in); `(id, data, expires_at, user id)` each, ids fresh.
pub async fn create_many(
    conn: &mut sqlx::AnyConnection,
    rows: &[(String, String, i64, i64)],
) -> StoreResult<()> {
    for chunk in rows.chunks(250) {
        let sql = format!(
            "INSERT INTO sessions (id, data, expires_at, user_id) VALUES {}",
            crate::rows::values(chunk.len(), 4, 1)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (id, data, expires, user) in chunk {
            q = q.bind(id).bind(data).bind(*expires).bind(*user);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Inserts or replaces a session.
pub async fn save(
    db: &Db,
    id: &str,
    data: &str,
    expires_at: i64,
    user_id: Option<i64>,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO sessions (id, data, expires_at, user_id) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at, \
         user_id = excluded.user_id",
    )
    .bind(id)
    .bind(data)
    .bind(expires_at)
    .bind(user_id)
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

/// A session as read with its login: the data, and the login (none when the session has no
/// login, or the login is gone).
pub type WithUser = (String, Option<User>);

/// The columns and join that read a session with its login.
fn with_user_sql(condition: &str) -> String {
    let user: Vec<String> = crate::users::COLUMNS
        .split(',')
        .map(|c| format!("u.{}", c.trim()))
        .collect();
    format!(
        "SELECT s.id AS session_id, s.data AS session_data, {} FROM sessions s \
         LEFT JOIN users u ON u.id = s.user_id WHERE {condition}",
        user.join(", ")
    )
}

fn with_user_row(row: &sqlx::any::AnyRow) -> StoreResult<(String, WithUser)> {
    let id: String = row.try_get("session_id")?;
    let data: String = row.try_get("session_data")?;
    let user = match row.try_get::<Option<i64>, _>("id")? {
        Some(_) => Some(crate::users::from_row(row)?),
        None => None,
    };
    Ok((id, (data, user)))
}

/// [`load`], with the login the session belongs to read in the same round trip.
pub async fn load_with_user(db: &Db, id: &str, now: i64) -> StoreResult<Option<WithUser>> {
    static SQL: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| with_user_sql("s.id = $1 AND s.expires_at > $2"));
    let row = sqlx::query(sqlx::AssertSqlSafe(SQL.as_str()))
        .bind(id)
        .bind(now)
        .fetch_optional(db.pool())
        .await?;
    row.map(|row| with_user_row(&row).map(|(_, found)| found))
        .transpose()
}

/// How many sessions [`load_many_with_user`] reads in one statement.
pub const LOAD_CHUNK: usize = 64;

/// [`load_with_user`] for many sessions at once (a server under a surge of sign-ins reads the
/// sessions that arrived together in one round trip): `(id, found)` for each id that is
/// present and unexpired at `now`, in no particular order.
pub async fn load_many_with_user(
    db: &Db,
    ids: &[&str],
    now: i64,
) -> StoreResult<Vec<(String, WithUser)>> {
    let mut found = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(LOAD_CHUNK) {
        let list: Vec<String> = (2..chunk.len() + 2).map(|i| format!("${i}")).collect();
        let sql = with_user_sql(&format!(
            "s.expires_at > $1 AND s.id IN ({})",
            list.join(", ")
        ));
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now);
        for id in chunk {
            q = q.bind(*id);
        }
        for row in q.fetch_all(db.pool()).await? {
            found.push(with_user_row(&row)?);
        }
    }
    Ok(found)
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
