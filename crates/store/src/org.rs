//! Work groups (工作组) and the units (单位) they mobilise.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use vaxloop_core::{UnitKind, WorkGroupKind};

use crate::crypto::PiiCipher;
use crate::db::Db;
use crate::error::{StoreError, StoreResult};
use crate::rows;

#[derive(Debug, Clone, PartialEq)]
pub struct WorkGroup {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub kind: WorkGroupKind,
    pub leader_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewWorkGroup {
    pub code: String,
    pub name: String,
    pub kind: WorkGroupKind,
    pub leader_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    pub id: i64,
    pub code: String,
    pub work_group_id: i64,
    pub name: String,
    pub kind: UnitKind,
    pub address: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub target_headcount: i64,
    pub contact_name: Option<String>,
    /// The contact's phone, masked (`138****5678`).
    pub contact_phone_masked: Option<String>,
    /// The contact's phone, sealed with the personal-data key (open it with the cipher).
    pub contact_phone_sealed: Option<Vec<u8>>,
    pub reg_token: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewUnit {
    pub code: String,
    pub work_group_id: i64,
    pub name: String,
    pub kind: UnitKind,
    pub address: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub target_headcount: i64,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    /// The secret in the unit's registration link and QR code.
    pub reg_token: String,
}

pub(crate) fn decode_err(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Database(sqlx::Error::Decode(Box::new(e)))
}

fn group_from_row(row: &AnyRow) -> StoreResult<WorkGroup> {
    Ok(WorkGroup {
        id: row.try_get("id")?,
        code: row.try_get("code")?,
        name: row.try_get("name")?,
        kind: row
            .try_get::<String, _>("kind")?
            .parse()
            .map_err(decode_err)?,
        leader_name: row.try_get("leader_name")?,
    })
}

fn unit_from_row(row: &AnyRow) -> StoreResult<Unit> {
    Ok(Unit {
        id: row.try_get("id")?,
        code: row.try_get("code")?,
        work_group_id: row.try_get("work_group_id")?,
        name: row.try_get("name")?,
        kind: row
            .try_get::<String, _>("kind")?
            .parse()
            .map_err(decode_err)?,
        address: row.try_get("address")?,
        lat: row.try_get("lat")?,
        lon: row.try_get("lon")?,
        target_headcount: row.try_get("target_headcount")?,
        contact_name: row.try_get("contact_name")?,
        contact_phone_masked: row.try_get("contact_phone_masked")?,
        contact_phone_sealed: row.try_get("contact_phone_cipher")?,
        reg_token: row.try_get("reg_token")?,
    })
}

pub async fn insert_work_group(
    conn: &mut AnyConnection,
    g: &NewWorkGroup,
    now: i64,
) -> StoreResult<i64> {
    let id = sqlx::query_scalar(
        "INSERT INTO work_groups (code, name, kind, leader_name, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(&g.code)
    .bind(&g.name)
    .bind(g.kind.as_str())
    .bind(g.leader_name.as_deref())
    .bind(now)
    .fetch_one(conn)
    .await?;
    Ok(id)
}

/// The contact phone as stored: sealed with the personal-data key, and masked.
fn sealed_phone(cipher: &PiiCipher, phone: Option<&str>) -> (Option<Vec<u8>>, Option<String>) {
    match phone.filter(|p| !p.is_empty()) {
        Some(p) => (Some(cipher.seal(p)), Some(crate::people::mask_phone(p))),
        None => (None, None),
    }
}

pub async fn insert_unit(
    conn: &mut AnyConnection,
    cipher: &PiiCipher,
    u: &NewUnit,
    now: i64,
) -> StoreResult<i64> {
    let (sealed, masked) = sealed_phone(cipher, u.contact_phone.as_deref());
    let id = sqlx::query_scalar(
        "INSERT INTO units (code, work_group_id, name, kind, address, lat, lon, target_headcount, \
         contact_name, contact_phone_cipher, contact_phone_masked, reg_token, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
    )
    .bind(&u.code)
    .bind(u.work_group_id)
    .bind(&u.name)
    .bind(u.kind.as_str())
    .bind(&u.address)
    .bind(u.lat)
    .bind(u.lon)
    .bind(u.target_headcount)
    .bind(u.contact_name.as_deref())
    .bind(sealed)
    .bind(masked)
    .bind(&u.reg_token)
    .bind(now)
    .fetch_one(conn)
    .await?;
    Ok(id)
}

pub async fn work_groups(db: &Db) -> StoreResult<Vec<WorkGroup>> {
    let sql = format!("{GROUP_SELECT} ORDER BY code");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(group_from_row).collect()
}

/// Selects a work group by the column named in place of `$W`.
const GROUP_SELECT: &str = "SELECT id, code, name, kind, leader_name FROM work_groups";

pub async fn work_group_by_code(db: &Db, code: &str) -> StoreResult<Option<WorkGroup>> {
    rows::optional(
        db,
        format!("{GROUP_SELECT} WHERE code = $1"),
        code.to_string(),
        group_from_row,
    )
    .await
}

pub async fn work_group(db: &Db, id: i64) -> StoreResult<Option<WorkGroup>> {
    rows::optional(
        db,
        format!("{GROUP_SELECT} WHERE id = $1"),
        id,
        group_from_row,
    )
    .await
}

const UNIT_COLUMNS: &str = "id, code, work_group_id, name, kind, address, lat, lon, \
                            target_headcount, contact_name, contact_phone_masked, \
                            contact_phone_cipher, reg_token";

pub async fn unit(db: &Db, id: i64) -> StoreResult<Option<Unit>> {
    rows::optional(
        db,
        format!("SELECT {UNIT_COLUMNS} FROM units WHERE id = $1"),
        id,
        unit_from_row,
    )
    .await
}

pub async fn unit_by_reg_token(db: &Db, token: &str) -> StoreResult<Option<Unit>> {
    let sql = format!("SELECT {UNIT_COLUMNS} FROM units WHERE reg_token = $1");
    rows::optional(db, sql, token.to_string(), unit_from_row).await
}

pub async fn unit_by_code(db: &Db, code: &str) -> StoreResult<Option<Unit>> {
    rows::optional(
        db,
        format!("SELECT {UNIT_COLUMNS} FROM units WHERE code = $1"),
        code.to_string(),
        unit_from_row,
    )
    .await
}

/// Units of one work group, or all units when `group` is `None`, ordered by code.
pub async fn units(db: &Db, group: Option<i64>) -> StoreResult<Vec<Unit>> {
    let sql = format!(
        "SELECT {UNIT_COLUMNS} FROM units WHERE ($1 IS NULL OR work_group_id = $1) ORDER BY code"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(group)
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(unit_from_row).collect()
}

/// Per unit: its target headcount and how many people are on its roster, for one group or all.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitProgress {
    pub unit_id: i64,
    pub code: String,
    pub name: String,
    pub kind: UnitKind,
    pub target: i64,
    /// On the unit's roster (imported or registered).
    pub people: i64,
    /// Registered with consent: a dose-1 journey exists.
    pub registered: i64,
}

pub async fn unit_progress(
    db: &Db,
    group: Option<i64>,
    unit: Option<i64>,
) -> StoreResult<Vec<UnitProgress>> {
    let rows = sqlx::query(
        "SELECT u.id, u.code, u.name, u.kind, u.target_headcount, \
                (SELECT COUNT(*) FROM people p WHERE p.unit_id = u.id) AS people, \
                (SELECT COUNT(*) FROM people p JOIN journeys j ON j.person_id = p.id AND j.dose_number = 1 \
                  WHERE p.unit_id = u.id) AS registered \
         FROM units u \
         WHERE ($1 IS NULL OR u.work_group_id = $1) AND ($2 IS NULL OR u.id = $2) \
         ORDER BY u.code",
    )
    .bind(group)
    .bind(unit)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(UnitProgress {
                unit_id: r.try_get(0)?,
                code: r.try_get(1)?,
                name: r.try_get(2)?,
                kind: r.try_get::<String, _>(3)?.parse().map_err(decode_err)?,
                target: r.try_get(4)?,
                people: r.try_get(5)?,
                registered: r.try_get(6)?,
            })
        })
        .collect()
}

/// Per work group: units, target, roster and registered totals.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupProgress {
    pub group: WorkGroup,
    pub units: i64,
    pub target: i64,
    pub people: i64,
    pub registered: i64,
}

pub async fn group_progress(db: &Db) -> StoreResult<Vec<GroupProgress>> {
    let rows = sqlx::query(
        "SELECT g.id, g.code, g.name, g.kind, g.leader_name, \
                (SELECT COUNT(*) FROM units u WHERE u.work_group_id = g.id), \
                CAST(COALESCE((SELECT SUM(u.target_headcount) FROM units u WHERE u.work_group_id = g.id), 0) AS BIGINT), \
                (SELECT COUNT(*) FROM people p JOIN units u ON u.id = p.unit_id WHERE u.work_group_id = g.id), \
                (SELECT COUNT(*) FROM journeys j JOIN people p ON p.id = j.person_id JOIN units u ON u.id = p.unit_id \
                  WHERE u.work_group_id = g.id AND j.dose_number = 1) \
         FROM work_groups g ORDER BY g.code",
    )
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(GroupProgress {
                group: group_from_row(r)?,
                units: r.try_get(5)?,
                target: r.try_get(6)?,
                people: r.try_get(7)?,
                registered: r.try_get(8)?,
            })
        })
        .collect()
}

/// Changes a work group's name, kind and leader.
pub async fn update_work_group(
    conn: &mut AnyConnection,
    id: i64,
    g: &NewWorkGroup,
) -> StoreResult<bool> {
    let done =
        sqlx::query("UPDATE work_groups SET name = $2, kind = $3, leader_name = $4 WHERE id = $1")
            .bind(id)
            .bind(&g.name)
            .bind(g.kind.as_str())
            .bind(g.leader_name.as_deref())
            .execute(conn)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Changes a unit's details (its code and registration token stay).
pub async fn update_unit(
    conn: &mut AnyConnection,
    cipher: &PiiCipher,
    id: i64,
    u: &NewUnit,
) -> StoreResult<bool> {
    let (sealed, masked) = sealed_phone(cipher, u.contact_phone.as_deref());
    let done = sqlx::query(
        "UPDATE units SET work_group_id = $2, name = $3, kind = $4, address = $5, lat = $6, lon = $7, \
         target_headcount = $8, contact_name = $9, contact_phone_cipher = $10, \
         contact_phone_masked = $11, contact_phone = NULL WHERE id = $1",
    )
    .bind(id)
    .bind(u.work_group_id)
    .bind(&u.name)
    .bind(u.kind.as_str())
    .bind(&u.address)
    .bind(u.lat)
    .bind(u.lon)
    .bind(u.target_headcount)
    .bind(u.contact_name.as_deref())
    .bind(sealed)
    .bind(masked)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A unit by code inside the caller's transaction.
pub async fn unit_id_by_code(conn: &mut AnyConnection, code: &str) -> StoreResult<Option<i64>> {
    Ok(sqlx::query_scalar("SELECT id FROM units WHERE code = $1")
        .bind(code)
        .fetch_optional(conn)
        .await?)
}

/// The contact phones still stored in plain text (from before migration 0013): `(unit, phone)`.
pub async fn plain_contact_phones(db: &Db) -> StoreResult<Vec<(i64, String)>> {
    Ok(
        sqlx::query_as("SELECT id, contact_phone FROM units WHERE contact_phone IS NOT NULL")
            .fetch_all(db.pool())
            .await?,
    )
}

/// Seals unit `id`'s contact phone and empties the plain column, in the caller's transaction.
pub async fn seal_contact_phone(
    conn: &mut AnyConnection,
    cipher: &PiiCipher,
    id: i64,
    phone: &str,
) -> StoreResult<()> {
    let (sealed, masked) = sealed_phone(cipher, Some(phone));
    sqlx::query(
        "UPDATE units SET contact_phone_cipher = $2, contact_phone_masked = $3, \
         contact_phone = NULL WHERE id = $1",
    )
    .bind(id)
    .bind(sealed)
    .bind(masked)
    .execute(conn)
    .await?;
    Ok(())
}
