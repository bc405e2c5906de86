//! The record of each import of a unit's people: counts in the open for listings, the full report
//! (errors and the rejected rows as they were in the file) sealed, since it holds ID numbers.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::crypto::PiiCipher;
use crate::db::Db;
use crate::error::{StoreError, StoreResult};
use crate::rows;

/// Counts of one import.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub rows: i64,
    pub imported: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub rejected: i64,
}

/// An import as listed.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportRecord {
    pub id: i64,
    pub unit_id: i64,
    pub actor: Option<String>,
    pub at: i64,
    pub file_name: String,
    pub counts: Counts,
}

/// An import to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewImport<'a> {
    pub unit_id: i64,
    pub actor: Option<i64>,
    pub file_name: &'a str,
    pub counts: Counts,
    /// The full report as JSON; sealed before it is stored.
    pub report: &'a str,
}

/// Records an import on the caller's connection (inside the import's transaction).
pub async fn insert(
    conn: &mut AnyConnection,
    cipher: &PiiCipher,
    new: &NewImport<'_>,
    now: i64,
) -> StoreResult<i64> {
    let NewImport {
        unit_id,
        actor,
        file_name,
        counts,
        report,
    } = *new;
    let name: String = file_name
        .chars()
        .filter(|c| !c.is_control())
        .take(120)
        .collect();
    let id = sqlx::query_scalar(
        "INSERT INTO import_reports (unit_id, actor_user_id, at, file_name, rows_read, imported, updated, \
         unchanged, rejected, report_sealed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(unit_id)
    .bind(actor)
    .bind(now)
    .bind(name)
    .bind(counts.rows)
    .bind(counts.imported)
    .bind(counts.updated)
    .bind(counts.unchanged)
    .bind(counts.rejected)
    .bind(cipher.seal(report))
    .fetch_one(conn)
    .await?;
    Ok(id)
}

const SELECT: &str = "SELECT r.id, r.unit_id, u.username, r.at, r.file_name, r.rows_read, r.imported, r.updated, \
                      r.unchanged, r.rejected FROM import_reports r LEFT JOIN users u ON u.id = r.actor_user_id";

fn from_row(row: &AnyRow) -> StoreResult<ImportRecord> {
    Ok(ImportRecord {
        id: row.try_get(0)?,
        unit_id: row.try_get(1)?,
        actor: row.try_get(2)?,
        at: row.try_get(3)?,
        file_name: row.try_get(4)?,
        counts: Counts {
            rows: row.try_get(5)?,
            imported: row.try_get(6)?,
            updated: row.try_get(7)?,
            unchanged: row.try_get(8)?,
            rejected: row.try_get(9)?,
        },
    })
}

pub async fn by_id(db: &Db, id: i64) -> StoreResult<Option<ImportRecord>> {
    rows::optional(db, format!("{SELECT} WHERE r.id = $1"), id, from_row).await
}

/// The newest imports of a unit.
pub async fn of_unit(db: &Db, unit_id: i64, limit: i64) -> StoreResult<Vec<ImportRecord>> {
    let sql = format!("{SELECT} WHERE r.unit_id = $1 ORDER BY r.id DESC LIMIT $2");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(unit_id)
        .bind(limit)
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(from_row).collect()
}

/// The full report of an import, opened.
pub async fn report(db: &Db, cipher: &PiiCipher, id: i64) -> StoreResult<String> {
    let sealed: Option<Vec<u8>> =
        sqlx::query_scalar("SELECT report_sealed FROM import_reports WHERE id = $1")
            .bind(id)
            .fetch_optional(db.pool())
            .await?;
    cipher.open(&sealed.ok_or(StoreError::NotFound("import"))?)
}
