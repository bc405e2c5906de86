//! Applying a unit's roster — rows already validated — in the caller's write transaction.
//!
//! Each person is found by the blind index of their ID number. Someone new joins the unit;
//! someone already on this unit's list is left alone when nothing changed and updated (and
//! confirmed, if their QR registration was pending) when the roster says otherwise; someone on
//! another unit's list is reported back and never moved. Importing the same file twice therefore
//! changes nothing the second time.

use std::collections::HashMap;

use sqlx::{AnyConnection, Row};
use vaxloop_core::{Phone, ResidentId, Source};

use crate::bulk::Dialect;
use crate::crypto::PiiCipher;
use crate::error::StoreResult;
use crate::people::{self, NewPerson, mask_phone};

/// One valid roster row.
#[derive(Debug, Clone, PartialEq)]
pub struct RosterRow {
    pub name: String,
    pub resident_id: ResidentId,
    /// `None` when the file has no phone for the row: an existing phone is then kept.
    pub phone: Option<Phone>,
    /// `None` when the file has no note for the row: an existing note is then kept.
    pub note: Option<String>,
}

/// What happened to each row, by index into the rows given.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Applied {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Rows whose person is on another unit's list.
    pub other_unit: Vec<usize>,
}

struct Existing {
    id: i64,
    unit_id: i64,
    name: String,
    phone: Option<String>,
    note: Option<String>,
    confirmed: bool,
}

/// Lookups per statement: the blind indexes are 32 bytes each.
const LOOKUP_CHUNK: usize = 500;

async fn existing(
    conn: &mut AnyConnection,
    cipher: &PiiCipher,
    blinds: &[Vec<u8>],
) -> StoreResult<HashMap<Vec<u8>, Existing>> {
    let dialect = Dialect::of(conn);
    let mut found = HashMap::new();
    for chunk in blinds.chunks(LOOKUP_CHUNK) {
        let sql = format!(
            "SELECT id_blind, id, unit_id, name, phone_cipher, note, status FROM people WHERE id_blind IN {}",
            dialect.list(chunk.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for b in chunk {
            query = query.bind(b.clone());
        }
        for row in query.fetch_all(&mut *conn).await? {
            let phone: Option<Vec<u8>> = row.try_get(4)?;
            found.insert(
                row.try_get::<Vec<u8>, _>(0)?,
                Existing {
                    id: row.try_get(1)?,
                    unit_id: row.try_get(2)?,
                    name: row.try_get(3)?,
                    phone: phone.map(|p| cipher.open(&p)).transpose()?,
                    note: row.try_get(5)?,
                    confirmed: row.try_get::<String, _>(6)? == "confirmed",
                },
            );
        }
    }
    Ok(found)
}

/// Applies `rows` to the unit. Rows must be free of duplicate ID numbers (the caller reports
/// those as errors of the file). Taken by value: new people are moved, not copied, into the
/// insert.
pub async fn apply(
    conn: &mut AnyConnection,
    cipher: &PiiCipher,
    unit_id: i64,
    rows: Vec<RosterRow>,
    now: i64,
) -> StoreResult<Applied> {
    let blinds: Vec<Vec<u8>> = rows
        .iter()
        .map(|r| cipher.blind(r.resident_id.as_str()))
        .collect();
    let known = existing(conn, cipher, &blinds).await?;
    let mut applied = Applied::default();
    let mut fresh = Vec::new();
    for (i, (row, blind)) in rows.into_iter().zip(&blinds).enumerate() {
        let Some(current) = known.get(blind) else {
            fresh.push(NewPerson {
                unit_id,
                phone: row.phone.as_ref().map(|p| p.as_str().to_string()),
                name: row.name,
                resident_id: row.resident_id,
                disabled: false,
                consent: None,
                source: Source::Import,
                confirmed: true,
                note: row.note,
            });
            continue;
        };
        if current.unit_id != unit_id {
            applied.other_unit.push(i);
            continue;
        }
        let phone = row
            .phone
            .as_ref()
            .map(|p| p.as_str().to_string())
            .or_else(|| current.phone.clone());
        let note = row.note.or_else(|| current.note.clone());
        if current.name == row.name
            && current.phone == phone
            && current.note == note
            && current.confirmed
        {
            applied.unchanged += 1;
            continue;
        }
        sqlx::query(
            "UPDATE people SET name = $2, phone_cipher = $3, phone_masked = $4, note = $5, \
             status = 'confirmed', updated_at = $6 WHERE id = $1",
        )
        .bind(current.id)
        .bind(row.name.as_str())
        .bind(phone.as_deref().map(|p| cipher.seal(p)))
        .bind(phone.as_deref().map(mask_phone))
        .bind(note)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        applied.updated += 1;
    }
    applied.inserted = people::insert_many(conn, cipher, &fresh, now).await?;
    crate::journeys::open_for_registered(conn, Some(unit_id), now).await?;
    Ok(applied)
}
