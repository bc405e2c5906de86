//! People (人员): the residents and employees a unit mobilises. ID numbers and phones are sealed
//! with the [`PiiCipher`]; the blind index of the ID number is unique, so one person is on one
//! unit's roster only, and a second unit's attempt is refused rather than merged.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use vaxloop_core::{ResidentId, Source};

use crate::bulk;
use crate::crypto::PiiCipher;
use crate::db::Db;
use crate::error::StoreResult;
use crate::rows;

/// A person to add to a unit's roster.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPerson {
    pub unit_id: i64,
    pub name: String,
    pub resident_id: ResidentId,
    /// A mainland mobile number, already validated.
    pub phone: Option<String>,
    pub disabled: bool,
    /// When the person gave consent for their sensitive data (PIPL art. 29), and to which
    /// version of the notice; `None` for a roster entry who has not registered in person.
    pub consent: Option<(i64, String)>,
    pub source: Source,
    /// False for a QR registration the unit contact has yet to confirm.
    pub confirmed: bool,
    pub note: Option<String>,
}

/// A person as every view shows them: masked.
#[derive(Debug, Clone, PartialEq)]
pub struct Person {
    pub id: i64,
    pub unit_id: i64,
    pub name: String,
    pub id_masked: String,
    pub birth_date: String,
    pub sex: String,
    pub phone_masked: Option<String>,
    pub disabled: bool,
    pub consent_at: Option<i64>,
    pub source: Source,
    pub confirmed: bool,
    pub note: Option<String>,
}

/// `138****1234`: the form a phone number takes in every view.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() < 7 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}****{tail}")
}

const COLUMNS: [&str; 16] = [
    "unit_id",
    "name",
    "id_cipher",
    "id_blind",
    "id_masked",
    "birth_date",
    "sex",
    "phone_cipher",
    "phone_masked",
    "disabled",
    "consent_at",
    "consent_version",
    "source",
    "status",
    "note",
    "created_at",
];

/// Inserts people in multi-row statements on the caller's connection (normally inside one write
/// transaction, so a failure leaves nothing half-written). Returns how many were inserted.
pub async fn insert_many(
    conn: &mut AnyConnection,
    cipher: &PiiCipher,
    people: &[NewPerson],
    now: i64,
) -> StoreResult<u64> {
    let mut inserted = 0;
    let dialect = bulk::Dialect::of(conn);
    for chunk in people.chunks(dialect.rows_per_statement(COLUMNS.len())) {
        let sql = dialect.insert_sql("people", &COLUMNS, chunk.len());
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for p in chunk {
            let id = p.resident_id.as_str();
            query = query
                .bind(p.unit_id)
                .bind(p.name.as_str())
                .bind(cipher.seal(id))
                .bind(cipher.blind(id))
                .bind(p.resident_id.masked())
                .bind(p.resident_id.birth_date().format("%Y-%m-%d").to_string())
                .bind(p.resident_id.sex().as_str())
                .bind(p.phone.as_deref().map(|ph| cipher.seal(ph)))
                .bind(p.phone.as_deref().map(mask_phone))
                .bind(i64::from(p.disabled))
                .bind(p.consent.as_ref().map(|c| c.0))
                .bind(p.consent.as_ref().map(|c| c.1.as_str()))
                .bind(p.source.as_str())
                .bind(if p.confirmed { "confirmed" } else { "pending" })
                .bind(p.note.as_deref())
                .bind(now);
        }
        inserted += query.execute(&mut *conn).await?.rows_affected();
    }
    Ok(inserted)
}

fn from_row(row: &AnyRow) -> StoreResult<Person> {
    Ok(Person {
        id: row.try_get("id")?,
        unit_id: row.try_get("unit_id")?,
        name: row.try_get("name")?,
        id_masked: row.try_get("id_masked")?,
        birth_date: row.try_get("birth_date")?,
        sex: row.try_get("sex")?,
        phone_masked: row.try_get("phone_masked")?,
        disabled: row.try_get::<i64, _>("disabled")? == 1,
        consent_at: row.try_get("consent_at")?,
        source: row
            .try_get::<String, _>("source")?
            .parse()
            .map_err(crate::org::decode_err)?,
        confirmed: row.try_get::<String, _>("status")? == "confirmed",
        note: row.try_get("note")?,
    })
}

const SELECT: &str = "SELECT id, unit_id, name, id_masked, birth_date, sex, phone_masked, disabled, \
                      consent_at, source, status, note FROM people";

/// Finds a person by ID number through the blind index.
pub async fn by_resident_id(
    db: &Db,
    cipher: &PiiCipher,
    id: &ResidentId,
) -> StoreResult<Option<Person>> {
    rows::optional(
        db,
        format!("{SELECT} WHERE id_blind = $1"),
        cipher.blind(id.as_str()),
        from_row,
    )
    .await
}

/// The id of a person by ID number, on the caller's connection (inside a transaction).
pub async fn id_by_resident_id(
    conn: &mut AnyConnection,
    cipher: &PiiCipher,
    id: &ResidentId,
) -> StoreResult<Option<i64>> {
    let found = sqlx::query_scalar("SELECT id FROM people WHERE id_blind = $1")
        .bind(cipher.blind(id.as_str()))
        .fetch_optional(conn)
        .await?;
    Ok(found)
}

pub async fn by_id(db: &Db, id: i64) -> StoreResult<Option<Person>> {
    rows::optional(db, format!("{SELECT} WHERE id = $1"), id, from_row).await
}

/// A page of one unit's roster, ordered by id.
pub async fn of_unit(db: &Db, unit_id: i64, limit: i64, offset: i64) -> StoreResult<Vec<Person>> {
    let sql = format!("{SELECT} WHERE unit_id = $1 ORDER BY id LIMIT $2 OFFSET $3");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(unit_id)
        .bind(limit)
        .bind(offset)
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(from_row).collect()
}

/// The plaintext ID number and phone of one person. Callers check the role and record the
/// unmasking, with its reason, in the audit log.
pub async fn reveal(
    db: &Db,
    cipher: &PiiCipher,
    person_id: i64,
) -> StoreResult<(String, Option<String>)> {
    let row = sqlx::query("SELECT id_cipher, phone_cipher FROM people WHERE id = $1")
        .bind(person_id)
        .fetch_optional(db.pool())
        .await?
        .ok_or(crate::error::StoreError::NotFound("person"))?;
    let id: Vec<u8> = row.try_get(0)?;
    let phone: Option<Vec<u8>> = row.try_get(1)?;
    Ok((
        cipher.open(&id)?,
        phone.map(|p| cipher.open(&p)).transpose()?,
    ))
}

/// True when the cipher opens the stored personal data (or there is none yet): a wrong key file
/// is caught at start-up, not on the first page that unmasks.
pub async fn key_matches(db: &Db, cipher: &PiiCipher) -> StoreResult<bool> {
    let sample: Option<Vec<u8>> =
        sqlx::query_scalar("SELECT id_cipher FROM people ORDER BY id LIMIT 1")
            .fetch_optional(db.pool())
            .await?;
    Ok(sample.is_none_or(|s| cipher.open(&s).is_ok()))
}

pub async fn count(db: &Db) -> StoreResult<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM people")
        .fetch_one(db.pool())
        .await?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn phones_are_masked() {
        assert_eq!(super::mask_phone("13800138000"), "138****8000");
        assert_eq!(super::mask_phone("123"), "***");
    }
}

/// What registration needs to know about someone already on a list.
#[derive(Debug, Clone, PartialEq)]
pub struct Known {
    pub id: i64,
    pub unit_id: i64,
    pub name: String,
    /// They registered in person already (gave consent, or hold a login).
    pub registered_in_person: bool,
}

/// Looks a person up by ID number inside the caller's transaction.
pub async fn known(
    conn: &mut AnyConnection,
    cipher: &PiiCipher,
    id: &ResidentId,
) -> StoreResult<Option<Known>> {
    let row = sqlx::query(
        "SELECT p.id, p.unit_id, p.name, \
                CASE WHEN p.consent_at IS NOT NULL OR EXISTS (SELECT 1 FROM users u WHERE u.person_id = p.id) \
                     THEN 1 ELSE 0 END \
         FROM people p WHERE p.id_blind = $1",
    )
    .bind(cipher.blind(id.as_str()))
    .fetch_optional(conn)
    .await?;
    row.map(|r| {
        Ok(Known {
            id: r.try_get(0)?,
            unit_id: r.try_get(1)?,
            name: r.try_get(2)?,
            registered_in_person: r.try_get::<i64, _>(3)? == 1,
        })
    })
    .transpose()
}

/// Does the unit have a roster, i.e. anyone its contact imported?
pub async fn unit_has_roster(conn: &mut AnyConnection, unit_id: i64) -> StoreResult<bool> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM people WHERE unit_id = $1 AND source = 'import' LIMIT 1",
    )
    .bind(unit_id)
    .fetch_optional(conn)
    .await?;
    Ok(found.is_some())
}

/// A roster entry registering in person: their phone, green-channel flag and consent are added.
pub async fn complete_in_person(
    conn: &mut AnyConnection,
    cipher: &PiiCipher,
    person_id: i64,
    phone: &str,
    disabled: bool,
    consent: (i64, &str),
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE people SET phone_cipher = $2, phone_masked = $3, disabled = $4, consent_at = $5, \
         consent_version = $6, updated_at = $5 WHERE id = $1",
    )
    .bind(person_id)
    .bind(cipher.seal(phone))
    .bind(mask_phone(phone))
    .bind(i64::from(disabled))
    .bind(consent.0)
    .bind(consent.1)
    .execute(conn)
    .await?;
    Ok(())
}

/// The QR registrations of a unit that wait for its contact, oldest first.
pub async fn pending_of_unit(db: &Db, unit_id: i64) -> StoreResult<Vec<Person>> {
    let sql = format!("{SELECT} WHERE unit_id = $1 AND status = 'pending' ORDER BY id");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(unit_id)
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(from_row).collect()
}

/// Confirms a pending registration of this unit; false if there is none to confirm.
pub async fn confirm_pending(
    conn: &mut AnyConnection,
    unit_id: i64,
    person_id: i64,
    now: i64,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE people SET status = 'confirmed', updated_at = $3 WHERE id = $1 AND unit_id = $2 AND status = 'pending'",
    )
    .bind(person_id)
    .bind(unit_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes a pending registration of this unit, and its login (a session that still names the
/// login finds no user and ends): a stranger who found the unit's link leaves nothing behind,
/// and can register with their own unit. False if there was none.
pub async fn reject_pending(
    conn: &mut AnyConnection,
    unit_id: i64,
    person_id: i64,
) -> StoreResult<bool> {
    let pending: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM people WHERE id = $1 AND unit_id = $2 AND status = 'pending'",
    )
    .bind(person_id)
    .bind(unit_id)
    .fetch_optional(&mut *conn)
    .await?;
    if pending.is_none() {
        return Ok(false);
    }
    sqlx::query("DELETE FROM users WHERE person_id = $1")
        .bind(person_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM people WHERE id = $1")
        .bind(person_id)
        .execute(&mut *conn)
        .await?;
    Ok(true)
}

/// A unit's whole list for an export, in roster order: masked fields, and — when `reveal` — the
/// opened ID and phone numbers.
pub async fn export_rows(
    db: &Db,
    cipher: &PiiCipher,
    unit_id: i64,
    reveal: bool,
) -> StoreResult<Vec<(Person, Option<(String, Option<String>)>)>> {
    let rows = sqlx::query(
        "SELECT id, unit_id, name, id_masked, birth_date, sex, phone_masked, disabled, consent_at, source, status, note, \
                id_cipher, phone_cipher FROM people WHERE unit_id = $1 ORDER BY id",
    )
    .bind(unit_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            let person = from_row(r)?;
            let opened = if reveal {
                let id: Vec<u8> = r.try_get("id_cipher")?;
                let phone: Option<Vec<u8>> = r.try_get("phone_cipher")?;
                Some((
                    cipher.open(&id)?,
                    phone.map(|p| cipher.open(&p)).transpose()?,
                ))
            } else {
                None
            };
            Ok((person, opened))
        })
        .collect()
}
