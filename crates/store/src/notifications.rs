//! The units' inboxes and the outbox of messages for other systems (see migration 0006).

use sqlx::{AnyConnection, Row};

use crate::crypto::PiiCipher;
use crate::db::Db;
use crate::error::StoreResult;

/// Tells a unit that a team of its was booked, on the caller's transaction.
pub async fn team_booked_in(
    conn: &mut AnyConnection,
    unit_id: i64,
    team_id: i64,
    now: i64,
) -> StoreResult<()> {
    notify_in(conn, unit_id, "team_booked", team_id, now).await
}

/// Marks the notice of a team just booked as a move instead (a published team that a re-plan
/// moved to another site-day is booked as a new team), on the caller's transaction.
pub async fn booked_as_moved_in(conn: &mut AnyConnection, team_id: i64) -> StoreResult<()> {
    sqlx::query(
        "UPDATE notifications SET kind = 'team_moved' WHERE team_id = $1 AND kind = 'team_booked'",
    )
    .bind(team_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Tells a unit what happened to a team of its — `team_booked`, `team_moved` or
/// `team_cancelled` — on the caller's transaction.
pub async fn notify_in(
    conn: &mut AnyConnection,
    unit_id: i64,
    kind: &str,
    team_id: i64,
    now: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO notifications (unit_id, kind, team_id, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(unit_id)
    .bind(kind)
    .bind(team_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A notification as the inbox shows it, with its team.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub id: i64,
    pub kind: String,
    pub created_at: i64,
    pub read: bool,
    pub team_code: String,
    pub site_name: String,
    pub day: String,
    pub colour: i64,
    pub number: i64,
    pub size: i64,
    /// When the team's first slot starts (minutes past midnight), as booked.
    pub starts_min: Option<i64>,
    /// Its shuttle trips as published (JSON, see migration 0007).
    pub trips: Option<String>,
}

/// A unit's notifications, newest first.
pub async fn of_unit(db: &Db, unit_id: i64, limit: i64) -> StoreResult<Vec<Notice>> {
    let rows = sqlx::query(
        "SELECT n.id, n.kind, n.created_at, n.read_at, t.code, s.name, t.day, t.colour, t.number, t.size, \
                (SELECT MIN(sl.starts_min) FROM appointments a JOIN slots sl ON sl.id = a.slot_id \
                 WHERE a.team_id = t.id), t.trips \
         FROM notifications n JOIN teams t ON t.id = n.team_id JOIN sites s ON s.id = t.site_id \
         WHERE n.unit_id = $1 ORDER BY n.id DESC LIMIT $2",
    )
    .bind(unit_id)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Notice {
                id: r.try_get(0)?,
                kind: r.try_get(1)?,
                created_at: r.try_get(2)?,
                read: r.try_get::<Option<i64>, _>(3)?.is_some(),
                team_code: r.try_get(4)?,
                site_name: r.try_get(5)?,
                day: r.try_get(6)?,
                colour: r.try_get(7)?,
                number: r.try_get(8)?,
                size: r.try_get(9)?,
                starts_min: r.try_get(10)?,
                trips: r.try_get(11)?,
            })
        })
        .collect()
}

/// How many of a unit's notifications are unread.
pub async fn unread(db: &Db, unit_id: i64) -> StoreResult<i64> {
    let n = sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM notifications WHERE unit_id = $1 AND read_at IS NULL",
    )
    .bind(unit_id)
    .fetch_one(db.pool())
    .await?;
    Ok(n)
}

/// Marks a unit's notifications read, up to and including `upto` (what the reader saw).
pub async fn mark_read(
    conn: &mut AnyConnection,
    unit_id: i64,
    upto: i64,
    now: i64,
) -> StoreResult<u64> {
    let done = sqlx::query(
        "UPDATE notifications SET read_at = $1 WHERE unit_id = $2 AND id <= $3 AND read_at IS NULL",
    )
    .bind(now)
    .bind(unit_id)
    .bind(upto)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Queues a message for `topic` on the caller's transaction, due at once. The payload (a phone
/// number, a code) is stored sealed with the personal-data key; [`claim_due_in`] opens it.
pub async fn enqueue_in(
    conn: &mut AnyConnection,
    cipher: &PiiCipher,
    topic: &str,
    payload: &str,
    now: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO outbox (topic, payload, payload_cipher, created_at, next_at) \
         VALUES ($1, '', $2, $3, $3)",
    )
    .bind(topic)
    .bind(cipher.seal(payload))
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The payloads still stored in plain text (queued before migration 0014): `(id, payload)`.
pub async fn plain_payloads(db: &Db) -> StoreResult<Vec<(i64, String)>> {
    let rows = sqlx::query(
        "SELECT id, payload FROM outbox WHERE payload_cipher IS NULL AND payload <> '' ORDER BY id",
    )
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}

/// Seals one plain payload found by [`plain_payloads`] and empties its plain column.
pub async fn seal_payload(
    conn: &mut AnyConnection,
    cipher: &PiiCipher,
    id: i64,
    payload: &str,
) -> StoreResult<()> {
    sqlx::query("UPDATE outbox SET payload_cipher = $1, payload = '' WHERE id = $2")
        .bind(cipher.seal(payload))
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// A queued message.
#[derive(Debug, Clone, PartialEq)]
pub struct Queued {
    pub id: i64,
    pub topic: String,
    pub payload: String,
    pub attempts: i64,
}

/// Claims up to `limit` messages due at `now` on the caller's transaction, each for `lease_ms`
/// (another deliverer skips them until then), oldest first, with their payloads opened.
pub async fn claim_due_in(
    tx: &mut AnyConnection,
    cipher: &PiiCipher,
    now: i64,
    lease_ms: i64,
    limit: i64,
) -> StoreResult<Vec<Queued>> {
    let rows = sqlx::query(
        "SELECT id, topic, payload, attempts, payload_cipher FROM outbox \
         WHERE delivered_at IS NULL AND next_at <= $1 ORDER BY id LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(&mut *tx)
    .await?;
    let mut claimed = Vec::with_capacity(rows.len());
    for r in rows {
        let id: i64 = r.try_get(0)?;
        // Only if nobody claimed or delivered it since it was read.
        let won = sqlx::query(
            "UPDATE outbox SET next_at = $1 WHERE id = $2 AND delivered_at IS NULL AND next_at <= $3",
        )
        .bind(now + lease_ms)
        .bind(id)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if won {
            let payload = match r.try_get::<Option<Vec<u8>>, _>(4)? {
                Some(sealed) => cipher.open(&sealed)?,
                None => r.try_get(2)?,
            };
            claimed.push(Queued {
                id,
                topic: r.try_get(1)?,
                payload,
                attempts: r.try_get(3)?,
            });
        }
    }
    Ok(claimed)
}

/// Records a delivery, on the caller's transaction.
pub async fn delivered_in(tx: &mut AnyConnection, id: i64, now: i64) -> StoreResult<()> {
    sqlx::query("UPDATE outbox SET delivered_at = $1, attempts = attempts + 1, last_error = NULL WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Records a failed attempt and when to try again, on the caller's transaction.
pub async fn failed_in(
    tx: &mut AnyConnection,
    id: i64,
    retry_at: i64,
    error: &str,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE outbox SET attempts = attempts + 1, next_at = $1, last_error = $2 WHERE id = $3",
    )
    .bind(retry_at)
    .bind(error)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// `(waiting, delivered)` messages, for health pages and tests.
pub async fn outbox_counts(db: &Db) -> StoreResult<(i64, i64)> {
    let row = sqlx::query(
        "SELECT CAST(COALESCE(SUM(CASE WHEN delivered_at IS NULL THEN 1 ELSE 0 END), 0) AS BIGINT), \
                CAST(COALESCE(SUM(CASE WHEN delivered_at IS NULL THEN 0 ELSE 1 END), 0) AS BIGINT) FROM outbox",
    )
    .fetch_one(db.pool())
    .await?;
    Ok((row.try_get(0)?, row.try_get(1)?))
}

/// Deletes messages delivered before `before`: a delivered SMS's payload (a phone number, a
/// code) has no use once the gateway took it. Returns how many.
pub async fn purge_delivered(conn: &mut AnyConnection, before: i64) -> StoreResult<u64> {
    let done =
        sqlx::query("DELETE FROM outbox WHERE delivered_at IS NOT NULL AND delivered_at < $1")
            .bind(before)
            .execute(conn)
            .await?;
    Ok(done.rows_affected())
}
