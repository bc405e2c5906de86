//! The audit log: who did what to which record, when, why and with what outcome. Append-only in
//! the schema; targets are codes and ids, never personal data.

use sqlx::{AnyConnection, Row};

use crate::db::Db;
use crate::error::StoreResult;

/// One audit entry to write.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    pub actor_user_id: Option<i64>,
    pub action: &'a str,
    pub target: &'a str,
    pub reason: Option<&'a str>,
    pub outcome: Outcome,
    /// What the action touched beyond its target (counts, field names) — never personal data.
    pub detail: Option<&'a str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Denied,
    Failed,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Denied => "denied",
            Outcome::Failed => "failed",
        }
    }
}

/// A stored entry, for the audit page.
#[derive(Debug, Clone, PartialEq)]
pub struct Logged {
    pub id: i64,
    pub at: i64,
    pub actor_user_id: Option<i64>,
    pub actor: Option<String>,
    pub action: String,
    pub target: String,
    pub reason: Option<String>,
    pub outcome: String,
    pub detail: Option<String>,
}

/// Appends an entry inside the caller's transaction, so the audited change and its entry commit
/// together.
pub async fn record_in(conn: &mut AnyConnection, entry: &Entry<'_>, now: i64) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor_user_id, action, target, reason, outcome, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(now)
    .bind(entry.actor_user_id)
    .bind(entry.action)
    .bind(entry.target)
    .bind(entry.reason)
    .bind(entry.outcome.as_str())
    .bind(entry.detail)
    .execute(conn)
    .await?;
    Ok(())
}

/// Entries in one statement per chunk: [`record_in`] for many at once (a group commit's
/// bookings).
pub async fn record_many(
    conn: &mut AnyConnection,
    entries: &[Entry<'_>],
    now: i64,
) -> StoreResult<()> {
    const CHUNK: usize = 500;
    for chunk in entries.chunks(CHUNK) {
        let rows = (0..chunk.len())
            .map(|i| {
                let p = 6 * i;
                format!(
                    "($1, ${}, ${}, ${}, ${}, ${}, ${})",
                    p + 2,
                    p + 3,
                    p + 4,
                    p + 5,
                    p + 6,
                    p + 7
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO audit_log (at, actor_user_id, action, target, reason, outcome, detail) \
             VALUES {rows}"
        )))
        .bind(now);
        for e in chunk {
            q = q
                .bind(e.actor_user_id)
                .bind(e.action)
                .bind(e.target)
                .bind(e.reason)
                .bind(e.outcome.as_str())
                .bind(e.detail);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Appends an entry on its own.
pub async fn record(db: &Db, entry: &Entry<'_>, now: i64) -> StoreResult<()> {
    let mut conn = db.pool().acquire().await?;
    record_in(&mut conn, entry, now).await
}

/// The newest `limit` entries.
pub async fn recent(db: &Db, limit: i64) -> StoreResult<Vec<Logged>> {
    let rows = sqlx::query(
        "SELECT a.id, a.at, a.actor_user_id, u.username, a.action, a.target, a.reason, a.outcome, a.detail \
         FROM audit_log a LEFT JOIN users u ON u.id = a.actor_user_id ORDER BY a.id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Logged {
                id: r.try_get(0)?,
                at: r.try_get(1)?,
                actor_user_id: r.try_get(2)?,
                actor: r.try_get(3)?,
                action: r.try_get(4)?,
                target: r.try_get(5)?,
                reason: r.try_get(6)?,
                outcome: r.try_get(7)?,
                detail: r.try_get(8)?,
            })
        })
        .collect()
}
