//! Vaccine products, lots, deliveries and the stock ledger.
//!
//! Stock moves only through [`receive_delivery`] and its siblings to come: each writes one
//! append-only ledger row and changes the lot-and-site balance by a conditional update in the
//! same transaction, so "delivered = administered + wasted + remaining ± transfers" holds at every
//! commit and `remaining` can never go below zero.

use sqlx::{AnyConnection, Row};

use crate::db::Db;
use crate::error::{StoreError, StoreResult};

#[derive(Debug, Clone, PartialEq)]
pub struct NewVaccine {
    pub code: String,
    pub name: String,
    pub manufacturer: String,
    pub doses_in_series: i64,
    pub min_interval_days: i64,
    pub min_age: i64,
    pub max_age: Option<i64>,
    pub doses_per_vial: i64,
    pub open_vial_minutes: i64,
    pub observation_minutes: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Vaccine {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub manufacturer: String,
    pub doses_in_series: i64,
    pub min_interval_days: i64,
    pub doses_per_vial: i64,
    pub open_vial_minutes: i64,
    pub observation_minutes: i64,
}

pub async fn insert_vaccine(conn: &mut AnyConnection, v: &NewVaccine) -> StoreResult<i64> {
    let id = sqlx::query_scalar(
        "INSERT INTO vaccines (code, name, manufacturer, doses_in_series, min_interval_days, min_age, \
         max_age, doses_per_vial, open_vial_minutes, observation_minutes) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(&v.code)
    .bind(&v.name)
    .bind(&v.manufacturer)
    .bind(v.doses_in_series)
    .bind(v.min_interval_days)
    .bind(v.min_age)
    .bind(v.max_age)
    .bind(v.doses_per_vial)
    .bind(v.open_vial_minutes)
    .bind(v.observation_minutes)
    .fetch_one(conn)
    .await?;
    Ok(id)
}

pub async fn insert_lot(
    conn: &mut AnyConnection,
    vaccine_id: i64,
    lot_number: &str,
    expires_on: &str,
) -> StoreResult<i64> {
    let id = sqlx::query_scalar(
        "INSERT INTO lots (vaccine_id, lot_number, expires_on) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(vaccine_id)
    .bind(lot_number)
    .bind(expires_on)
    .fetch_one(conn)
    .await?;
    Ok(id)
}

/// Plans a delivery of `doses` from a lot to a site on a day.
/// Whether a lot with id `id` exists.
pub async fn lot_exists(db: &Db, id: i64) -> StoreResult<bool> {
    let n: i64 = sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM lots WHERE id = $1")
        .bind(id)
        .fetch_one(db.pool())
        .await?;
    Ok(n > 0)
}

pub async fn plan_delivery(
    conn: &mut AnyConnection,
    lot_id: i64,
    site_id: i64,
    day: &str,
    doses: i64,
) -> StoreResult<i64> {
    let id = sqlx::query_scalar(
        "INSERT INTO deliveries (lot_id, site_id, delivery_date, doses, status) \
         VALUES ($1, $2, $3, $4, 'planned') RETURNING id",
    )
    .bind(lot_id)
    .bind(site_id)
    .bind(day)
    .bind(doses)
    .fetch_one(conn)
    .await?;
    Ok(id)
}

/// Marks a planned delivery received: one ledger row and the balance raised, in the caller's
/// transaction. A delivery already received is refused, so a retried request cannot count the
/// doses twice.
pub async fn receive_delivery(
    conn: &mut AnyConnection,
    delivery_id: i64,
    actor: Option<i64>,
    now: i64,
) -> StoreResult<()> {
    let row = sqlx::query(
        "UPDATE deliveries SET status = 'received', received_at = $2 \
         WHERE id = $1 AND status = 'planned' RETURNING lot_id, site_id, doses",
    )
    .bind(delivery_id)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound("planned delivery"))?;
    let (lot_id, site_id, doses): (i64, i64, i64) =
        (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
    sqlx::query(
        "INSERT INTO stock_ledger (lot_id, site_id, at, kind, delta, delivery_id, actor_user_id) \
         VALUES ($1, $2, $3, 'delivered', $4, $5, $6)",
    )
    .bind(lot_id)
    .bind(site_id)
    .bind(now)
    .bind(doses)
    .bind(delivery_id)
    .bind(actor)
    .execute(&mut *conn)
    .await?;
    credit(conn, lot_id, site_id, doses).await
}

/// Raises a lot's balance at a site (creating it on the first delivery there).
async fn credit(
    conn: &mut AnyConnection,
    lot_id: i64,
    site_id: i64,
    doses: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO stock_balances (lot_id, site_id, remaining) VALUES ($1, $2, $3) \
         ON CONFLICT (lot_id, site_id) DO UPDATE SET remaining = stock_balances.remaining + excluded.remaining",
    )
    .bind(lot_id)
    .bind(site_id)
    .bind(doses)
    .execute(conn)
    .await?;
    Ok(())
}

/// Allocates doses to a site-day (the ceiling bookings for that day may promise).
pub async fn allocate(
    conn: &mut AnyConnection,
    site_id: i64,
    day: &str,
    doses: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO site_days (site_id, day, doses_allocated) VALUES ($1, $2, $3) \
         ON CONFLICT (site_id, day) DO UPDATE SET doses_allocated = site_days.doses_allocated + excluded.doses_allocated",
    )
    .bind(site_id)
    .bind(day)
    .bind(doses)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn all(db: &Db) -> StoreResult<Vec<Vaccine>> {
    let rows = sqlx::query(
        "SELECT id, code, name, manufacturer, doses_in_series, min_interval_days, doses_per_vial, \
                open_vial_minutes, observation_minutes \
         FROM vaccines ORDER BY code",
    )
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Vaccine {
                id: r.try_get(0)?,
                code: r.try_get(1)?,
                name: r.try_get(2)?,
                manufacturer: r.try_get(3)?,
                doses_in_series: r.try_get(4)?,
                min_interval_days: r.try_get(5)?,
                doses_per_vial: r.try_get(6)?,
                open_vial_minutes: r.try_get(7)?,
                observation_minutes: r.try_get(8)?,
            })
        })
        .collect()
}

/// Per lot and site: doses delivered by the ledger, the sum of every ledger movement, and the
/// stored balance. The two must agree; the store's tests and the reconciliation check it.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerBalance {
    pub lot_id: i64,
    pub site_id: i64,
    pub delivered: i64,
    pub ledger_sum: i64,
    pub remaining: i64,
}

pub async fn ledger_balances(db: &Db) -> StoreResult<Vec<LedgerBalance>> {
    let rows = sqlx::query(
        "SELECT b.lot_id, b.site_id, \
                CAST(COALESCE((SELECT SUM(l.delta) FROM stock_ledger l WHERE l.lot_id = b.lot_id AND l.site_id = b.site_id AND l.kind = 'delivered'), 0) AS BIGINT), \
                CAST(COALESCE((SELECT SUM(l.delta) FROM stock_ledger l WHERE l.lot_id = b.lot_id AND l.site_id = b.site_id), 0) AS BIGINT), \
                b.remaining \
         FROM stock_balances b ORDER BY b.lot_id, b.site_id",
    )
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(LedgerBalance {
                lot_id: r.try_get(0)?,
                site_id: r.try_get(1)?,
                delivered: r.try_get(2)?,
                ledger_sum: r.try_get(3)?,
                remaining: r.try_get(4)?,
            })
        })
        .collect()
}

/// Doses on hand at a site, per lot.
#[derive(Debug, Clone, PartialEq)]
pub struct LotStock {
    pub vaccine_code: String,
    pub vaccine_name: String,
    pub lot_number: String,
    pub expires_on: String,
    pub remaining: i64,
}

pub async fn stock_at(db: &Db, site_id: i64) -> StoreResult<Vec<LotStock>> {
    let rows = sqlx::query(
        "SELECT v.code, v.name, l.lot_number, l.expires_on, b.remaining \
         FROM stock_balances b JOIN lots l ON l.id = b.lot_id JOIN vaccines v ON v.id = l.vaccine_id \
         WHERE b.site_id = $1 ORDER BY v.code, l.expires_on",
    )
    .bind(site_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(LotStock {
                vaccine_code: r.try_get(0)?,
                vaccine_name: r.try_get(1)?,
                lot_number: r.try_get(2)?,
                expires_on: r.try_get(3)?,
                remaining: r.try_get(4)?,
            })
        })
        .collect()
}

/// One site-day of supply: doses allocated and promised, and deliveries planned or received.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteDay {
    pub site_id: i64,
    pub day: String,
    pub allocated: i64,
    pub booked: i64,
    pub delivered: i64,
    pub planned: i64,
    /// The day's slots: places in total and places booked.
    pub slot_capacity: i64,
    pub slot_booked: i64,
}

impl SiteDay {
    /// What can still be promised: the fewer of unpromised doses and free places.
    pub fn free(&self) -> i64 {
        (self.allocated - self.booked)
            .min(self.slot_capacity - self.slot_booked)
            .max(0)
    }
}

/// Site-days from `from` to `to` inclusive (`YYYY-MM-DD`), for all sites or one.
pub async fn site_days(
    db: &Db,
    from: &str,
    to: &str,
    site: Option<i64>,
) -> StoreResult<Vec<SiteDay>> {
    let rows = sqlx::query(
        "SELECT d.site_id, d.day, d.doses_allocated, d.doses_booked, \
                CAST(COALESCE((SELECT SUM(x.doses) FROM deliveries x WHERE x.site_id = d.site_id AND x.delivery_date = d.day AND x.status = 'received'), 0) AS BIGINT), \
                CAST(COALESCE((SELECT SUM(x.doses) FROM deliveries x WHERE x.site_id = d.site_id AND x.delivery_date = d.day AND x.status = 'planned'), 0) AS BIGINT), \
                CAST(COALESCE((SELECT SUM(s.capacity) FROM slots s WHERE s.site_id = d.site_id AND s.day = d.day), 0) AS BIGINT), \
                CAST(COALESCE((SELECT SUM(s.booked) FROM slots s WHERE s.site_id = d.site_id AND s.day = d.day), 0) AS BIGINT) \
         FROM site_days d WHERE d.day >= $1 AND d.day <= $2 AND ($3 IS NULL OR d.site_id = $3) \
         ORDER BY d.site_id, d.day",
    )
    .bind(from)
    .bind(to)
    .bind(site)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(SiteDay {
                site_id: r.try_get(0)?,
                day: r.try_get(1)?,
                allocated: r.try_get(2)?,
                booked: r.try_get(3)?,
                delivered: r.try_get(4)?,
                planned: r.try_get(5)?,
                slot_capacity: r.try_get(6)?,
                slot_booked: r.try_get(7)?,
            })
        })
        .collect()
}

/// Why a stock movement was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StockRefusal {
    /// The lot has fewer doses at the site than asked for.
    Short { remaining: i64 },
    /// The reason is missing (waste and corrections need one).
    NoReason,
}

/// One movement of stock out of a lot's balance at a site.
pub(crate) struct Withdrawal<'a> {
    pub lot_id: i64,
    pub site_id: i64,
    pub doses: i64,
    pub kind: &'a str,
    pub reason: Option<&'a str>,
    pub actor: Option<i64>,
    pub now: i64,
}

/// Takes doses out of a lot's balance at a site with a ledger row, only if that many remain: one
/// conditional update, so racing withdrawals can never drive the balance negative. Returns the
/// ledger row's id.
pub(crate) async fn withdraw(
    conn: &mut AnyConnection,
    w: &Withdrawal<'_>,
) -> StoreResult<Result<i64, StockRefusal>> {
    let Withdrawal {
        lot_id,
        site_id,
        doses,
        kind,
        reason,
        actor,
        now,
    } = *w;
    let taken = sqlx::query(
        "UPDATE stock_balances SET remaining = remaining - $3 WHERE lot_id = $1 AND site_id = $2 AND remaining >= $3",
    )
    .bind(lot_id)
    .bind(site_id)
    .bind(doses)
    .execute(&mut *conn)
    .await?;
    if taken.rows_affected() != 1 {
        let remaining: Option<i64> = sqlx::query_scalar(
            "SELECT remaining FROM stock_balances WHERE lot_id = $1 AND site_id = $2",
        )
        .bind(lot_id)
        .bind(site_id)
        .fetch_optional(&mut *conn)
        .await?;
        return Ok(Err(StockRefusal::Short {
            remaining: remaining.unwrap_or(0),
        }));
    }
    let id = sqlx::query_scalar(
        "INSERT INTO stock_ledger (lot_id, site_id, at, kind, delta, reason, actor_user_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(lot_id)
    .bind(site_id)
    .bind(now)
    .bind(kind)
    .bind(-doses)
    .bind(reason)
    .bind(actor)
    .fetch_one(&mut *conn)
    .await?;
    Ok(Ok(id))
}

/// Records doses wasted (broken vial, expired, opened too long), with the reason.
pub async fn waste(
    conn: &mut AnyConnection,
    lot_id: i64,
    site_id: i64,
    doses: i64,
    reason: &str,
    actor: Option<i64>,
    now: i64,
) -> StoreResult<Result<(), StockRefusal>> {
    if reason.trim().is_empty() {
        return Ok(Err(StockRefusal::NoReason));
    }
    let w = Withdrawal {
        lot_id,
        site_id,
        doses: doses.max(1),
        kind: "wasted",
        reason: Some(reason.trim()),
        actor,
        now,
    };
    Ok(withdraw(conn, &w).await?.map(|_| ()))
}

/// Moves doses of a lot from one site to another: out of one balance and into the other, two
/// ledger rows, one transaction (the caller's).
pub async fn transfer(
    conn: &mut AnyConnection,
    lot_id: i64,
    from_site: i64,
    to_site: i64,
    doses: i64,
    actor: Option<i64>,
    now: i64,
) -> StoreResult<Result<(), StockRefusal>> {
    let doses = doses.max(1);
    let reason = format!("to site {to_site}");
    let w = Withdrawal {
        lot_id,
        site_id: from_site,
        doses,
        kind: "transfer_out",
        reason: Some(&reason),
        actor,
        now,
    };
    if let Err(refusal) = withdraw(conn, &w).await? {
        return Ok(Err(refusal));
    }
    sqlx::query(
        "INSERT INTO stock_ledger (lot_id, site_id, at, kind, delta, reason, actor_user_id) VALUES ($1, $2, $3, 'transfer_in', $4, $5, $6)",
    )
    .bind(lot_id)
    .bind(to_site)
    .bind(now)
    .bind(doses)
    .bind(format!("from site {from_site}"))
    .bind(actor)
    .execute(&mut *conn)
    .await?;
    credit(conn, lot_id, to_site, doses).await?;
    Ok(Ok(()))
}

/// A delivery as the stock page lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryRow {
    pub id: i64,
    pub site_id: i64,
    pub site_name: String,
    pub vaccine_name: String,
    pub lot_id: i64,
    pub lot_number: String,
    pub day: String,
    pub doses: i64,
    pub status: String,
}

/// Deliveries from `from` to `to` (inclusive), for all sites or one, by day and site.
pub async fn deliveries(
    db: &Db,
    from: &str,
    to: &str,
    site: Option<i64>,
) -> StoreResult<Vec<DeliveryRow>> {
    let rows = sqlx::query(
        "SELECT d.id, d.site_id, s.name, v.name, d.lot_id, l.lot_number, d.delivery_date, d.doses, d.status \
         FROM deliveries d JOIN sites s ON s.id = d.site_id JOIN lots l ON l.id = d.lot_id JOIN vaccines v ON v.id = l.vaccine_id \
         WHERE d.delivery_date >= $1 AND d.delivery_date <= $2 AND ($3 IS NULL OR d.site_id = $3) \
         ORDER BY d.delivery_date, s.code, l.lot_number",
    )
    .bind(from)
    .bind(to)
    .bind(site)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(DeliveryRow {
                id: r.try_get(0)?,
                site_id: r.try_get(1)?,
                site_name: r.try_get(2)?,
                vaccine_name: r.try_get(3)?,
                lot_id: r.try_get(4)?,
                lot_number: r.try_get(5)?,
                day: r.try_get(6)?,
                doses: r.try_get(7)?,
                status: r.try_get(8)?,
            })
        })
        .collect()
}

/// A delivery's site, for scope checks.
pub async fn delivery_site(db: &Db, id: i64) -> StoreResult<Option<i64>> {
    Ok(
        sqlx::query_scalar("SELECT site_id FROM deliveries WHERE id = $1")
            .bind(id)
            .fetch_optional(db.pool())
            .await?,
    )
}

/// Every lot, for the forms: `(id, vaccine name, lot number, expiry)`.
pub async fn lots(db: &Db) -> StoreResult<Vec<(i64, String, String, String)>> {
    let rows = sqlx::query(
        "SELECT l.id, v.name, l.lot_number, l.expires_on FROM lots l JOIN vaccines v ON v.id = l.vaccine_id ORDER BY v.code, l.lot_number",
    )
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)))
        .collect()
}

/// Sets the doses allocated to a site-day (a delivery that fell short) on the caller's
/// transaction, when no more than that are promised already; returns whether it did.
pub async fn set_allocation_in(
    conn: &mut AnyConnection,
    site_id: i64,
    day: &str,
    doses: i64,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE site_days SET doses_allocated = $3 \
         WHERE site_id = $1 AND day = $2 AND doses_booked <= $3",
    )
    .bind(site_id)
    .bind(day)
    .bind(doses)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
