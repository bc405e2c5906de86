//! The desk's planning proposals (migration 0007): one open proposal at a time, shared by the
//! whole desk. The planner's files are kept as JSON text; this module only stores them. Every
//! change is conditional on the version the caller read, so nobody overwrites a colleague's
//! change unseen, and a proposal is published at most once.

use sqlx::{AnyConnection, Row};

use crate::db::Db;
use crate::error::StoreResult;

/// A proposal as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub id: i64,
    pub created_by: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
    /// `open`, `published` or `superseded`.
    pub status: String,
    /// The live instance with the way back to the database.
    pub live: String,
    pub plan: String,
    /// The plan before the last re-plan, for the difference shown before publishing.
    pub previous: Option<String>,
    /// The ids of the teams locked by hand, as a JSON list.
    pub locked: String,
    /// Seconds the planner ran for the last time.
    pub seconds: f64,
    pub published_at: Option<i64>,
    pub published_by: Option<i64>,
}

const COLUMNS: &str = "id, created_by, created_at, updated_at, version, status, live, plan, previous, \
     locked, seconds, published_at, published_by";

fn draft(r: &sqlx::any::AnyRow) -> StoreResult<Draft> {
    Ok(Draft {
        id: r.try_get(0)?,
        created_by: r.try_get(1)?,
        created_at: r.try_get(2)?,
        updated_at: r.try_get(3)?,
        version: r.try_get(4)?,
        status: r.try_get(5)?,
        live: r.try_get(6)?,
        plan: r.try_get(7)?,
        previous: r.try_get(8)?,
        locked: r.try_get(9)?,
        seconds: r.try_get(10)?,
        published_at: r.try_get(11)?,
        published_by: r.try_get(12)?,
    })
}

/// A new open proposal, on the caller's transaction; the open one before it, if any, is
/// superseded with it.
pub async fn open(
    tx: &mut AnyConnection,
    user_id: i64,
    now: i64,
    live: &str,
    plan: &str,
    seconds: f64,
) -> StoreResult<i64> {
    sqlx::query(
        "UPDATE plan_drafts SET status = 'superseded', updated_at = $1 WHERE status = 'open'",
    )
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO plan_drafts (created_by, created_at, updated_at, status, live, plan, seconds) \
         VALUES ($1, $2, $2, 'open', $3, $4, $5) RETURNING id",
    )
    .bind(user_id)
    .bind(now)
    .bind(live)
    .bind(plan)
    .bind(seconds)
    .fetch_one(&mut *tx)
    .await?;
    Ok(id)
}

/// The newest proposal, whatever its status.
pub async fn latest(db: &Db) -> StoreResult<Option<Draft>> {
    let sql = format!("SELECT {COLUMNS} FROM plan_drafts ORDER BY id DESC LIMIT 1");
    let found = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_optional(db.pool())
        .await?;
    found.as_ref().map(draft).transpose()
}

/// One proposal.
pub async fn by_id(db: &Db, id: i64) -> StoreResult<Option<Draft>> {
    let sql = format!("SELECT {COLUMNS} FROM plan_drafts WHERE id = $1");
    let found = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    found.as_ref().map(draft).transpose()
}

/// What a change to an open proposal writes.
#[derive(Debug, Clone, Copy)]
pub struct Change<'a> {
    pub live: &'a str,
    pub plan: &'a str,
    pub previous: Option<&'a str>,
    pub locked: &'a str,
    pub seconds: f64,
}

/// Writes `change` to proposal `id` when it is still open at `version`; returns whether it did
/// (false: a colleague changed it meanwhile, or it was published or superseded).
pub async fn update(
    conn: &mut AnyConnection,
    id: i64,
    version: i64,
    now: i64,
    change: Change<'_>,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE plan_drafts SET live = $1, plan = $2, previous = $3, locked = $4, seconds = $5, \
         updated_at = $6, version = version + 1 \
         WHERE id = $7 AND version = $8 AND status = 'open'",
    )
    .bind(change.live)
    .bind(change.plan)
    .bind(change.previous)
    .bind(change.locked)
    .bind(change.seconds)
    .bind(now)
    .bind(id)
    .bind(version)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks proposal `id` published on the caller's transaction (the one that books its teams),
/// when it is still open at `version`; returns whether it did.
pub async fn publish_in(
    conn: &mut AnyConnection,
    id: i64,
    version: i64,
    user_id: Option<i64>,
    now: i64,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE plan_drafts SET status = 'published', published_at = $1, published_by = $2, \
         updated_at = $1, version = version + 1 \
         WHERE id = $3 AND version = $4 AND status = 'open'",
    )
    .bind(now)
    .bind(user_id)
    .bind(id)
    .bind(version)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
