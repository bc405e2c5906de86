//! Claims of a roster record, waiting for their proof (see migration 0012): a one-time code sent
//! to the roster's phone, or the unit contact's confirmation.

use sqlx::{AnyConnection, Row};

use crate::crypto::PiiCipher;
use crate::db::Db;
use crate::error::StoreResult;
use crate::people::mask_phone;

/// A claim to store.
#[derive(Debug, Clone)]
pub struct NewClaim<'a> {
    pub person_id: i64,
    pub unit_id: i64,
    /// The claimant's phone, in plain text: sealed on the way in.
    pub phone: &'a str,
    pub disabled: bool,
    pub consent: (i64, &'a str),
    pub pin_hash: &'a str,
    /// A keyed hash of the one-time code; none when the unit contact decides.
    pub code_hash: Option<Vec<u8>>,
    pub expires_at: i64,
}

/// A claim as stored (the phone still sealed).
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    pub id: i64,
    pub person_id: i64,
    pub unit_id: i64,
    pub phone_cipher: Vec<u8>,
    pub phone_masked: String,
    pub disabled: bool,
    pub consent_at: i64,
    pub consent_version: String,
    pub pin_hash: String,
    pub code_hash: Option<Vec<u8>>,
    pub attempts: i64,
    pub expires_at: i64,
}

/// A claim waiting for the unit contact, as their page lists it: the roster entry's name and
/// the phone the claimant gave, masked.
#[derive(Debug, Clone, PartialEq)]
pub struct Waiting {
    pub id: i64,
    pub person_id: i64,
    pub name: String,
    pub phone_masked: String,
    pub created_at: i64,
}

const COLUMNS: &str = "id, person_id, unit_id, phone_cipher, phone_masked, disabled, consent_at, \
                       consent_version, pin_hash, code_hash, attempts, expires_at";

/// Stores a claim, replacing any earlier one of the same person; returns its id.
pub async fn insert(
    conn: &mut AnyConnection,
    cipher: &PiiCipher,
    claim: &NewClaim<'_>,
    now: i64,
) -> StoreResult<i64> {
    sqlx::query("DELETE FROM claims WHERE person_id = $1")
        .bind(claim.person_id)
        .execute(&mut *conn)
        .await?;
    let id = sqlx::query_scalar(
        "INSERT INTO claims (person_id, unit_id, phone_cipher, phone_masked, disabled, consent_at, \
         consent_version, pin_hash, code_hash, expires_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
    )
    .bind(claim.person_id)
    .bind(claim.unit_id)
    .bind(cipher.seal(claim.phone))
    .bind(mask_phone(claim.phone))
    .bind(i64::from(claim.disabled))
    .bind(claim.consent.0)
    .bind(claim.consent.1)
    .bind(claim.pin_hash)
    .bind(claim.code_hash.clone())
    .bind(claim.expires_at)
    .bind(now)
    .fetch_one(conn)
    .await?;
    Ok(id)
}

fn from_row(r: &sqlx::any::AnyRow) -> StoreResult<Claim> {
    Ok(Claim {
        id: r.try_get(0)?,
        person_id: r.try_get(1)?,
        unit_id: r.try_get(2)?,
        phone_cipher: r.try_get(3)?,
        phone_masked: r.try_get(4)?,
        disabled: r.try_get::<i64, _>(5)? != 0,
        consent_at: r.try_get(6)?,
        consent_version: r.try_get(7)?,
        pin_hash: r.try_get(8)?,
        code_hash: r.try_get(9)?,
        attempts: r.try_get(10)?,
        expires_at: r.try_get(11)?,
    })
}

/// The claim `id`, inside the caller's transaction.
pub async fn by_id(conn: &mut AnyConnection, id: i64) -> StoreResult<Option<Claim>> {
    let sql = format!("SELECT {COLUMNS} FROM claims WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Counts a wrong code; true when the claim was still open to tries (fewer than `max` so far).
pub async fn count_attempt(conn: &mut AnyConnection, id: i64, max: i64) -> StoreResult<bool> {
    let done =
        sqlx::query("UPDATE claims SET attempts = attempts + 1 WHERE id = $1 AND attempts < $2")
            .bind(id)
            .bind(max)
            .execute(conn)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes a claim (proven, refused or given up).
pub async fn delete(conn: &mut AnyConnection, id: i64) -> StoreResult<bool> {
    let done = sqlx::query("DELETE FROM claims WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The claims of a unit waiting for its contact, still open at `now`, oldest first.
pub async fn waiting_for_contact(db: &Db, unit_id: i64, now: i64) -> StoreResult<Vec<Waiting>> {
    let rows = sqlx::query(
        "SELECT c.id, c.person_id, p.name, c.phone_masked, c.created_at \
         FROM claims c JOIN people p ON p.id = c.person_id \
         WHERE c.unit_id = $1 AND c.code_hash IS NULL AND c.expires_at > $2 ORDER BY c.id",
    )
    .bind(unit_id)
    .bind(now)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Waiting {
                id: r.try_get(0)?,
                person_id: r.try_get(1)?,
                name: r.try_get(2)?,
                phone_masked: r.try_get(3)?,
                created_at: r.try_get(4)?,
            })
        })
        .collect()
}

/// The phone a roster entry holds, opened; none when it has none.
pub async fn roster_phone(
    conn: &mut AnyConnection,
    cipher: &PiiCipher,
    person_id: i64,
) -> StoreResult<Option<String>> {
    let sealed: Option<Option<Vec<u8>>> =
        sqlx::query_scalar("SELECT phone_cipher FROM people WHERE id = $1")
            .bind(person_id)
            .fetch_optional(conn)
            .await?;
    sealed.flatten().map(|p| cipher.open(&p)).transpose()
}

/// The name on a roster entry.
pub async fn roster_name(conn: &mut AnyConnection, person_id: i64) -> StoreResult<Option<String>> {
    Ok(sqlx::query_scalar("SELECT name FROM people WHERE id = $1")
        .bind(person_id)
        .fetch_optional(conn)
        .await?)
}

/// Forgets claims that ran out before `now`.
pub async fn delete_expired(conn: &mut AnyConnection, now: i64) -> StoreResult<u64> {
    let done = sqlx::query("DELETE FROM claims WHERE expires_at <= $1")
        .bind(now)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}
