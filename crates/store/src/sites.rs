//! Vaccination sites (接种点): opening hours, the four zones with their space, and the desks each
//! zone runs per shift.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use vaxloop_core::{SiteKind, ZoneKind};

use crate::db::Db;
use crate::error::StoreResult;
use crate::org::decode_err;
use crate::rows;

#[derive(Debug, Clone, PartialEq)]
pub struct Site {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub kind: SiteKind,
    pub address: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub open_from: Option<String>,
    pub open_until: Option<String>,
}

/// One zone of a new site, with desks for the morning and afternoon shifts.
#[derive(Debug, Clone, PartialEq)]
pub struct NewZone {
    pub kind: ZoneKind,
    pub space: i64,
    pub desks_am: i64,
    pub desks_pm: i64,
    pub mean_service_seconds: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewSite {
    pub code: String,
    pub name: String,
    pub kind: SiteKind,
    pub address: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub open_from: Option<String>,
    pub open_until: Option<String>,
    /// `(weekday 0 = Monday, opens, closes)` in minutes after midnight.
    pub hours: Vec<(i64, i64, i64)>,
    pub zones: Vec<NewZone>,
}

/// A zone as configured, for the site pages.
#[derive(Debug, Clone, PartialEq)]
pub struct Zone {
    pub kind: ZoneKind,
    pub space: i64,
    pub desks_am: i64,
    pub desks_pm: i64,
    pub mean_service_seconds: i64,
}

/// Creates a site with its hours and zones on the caller's connection.
pub async fn insert(conn: &mut AnyConnection, s: &NewSite, now: i64) -> StoreResult<i64> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO sites (code, name, kind, address, lat, lon, open_from, open_until, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(&s.code)
    .bind(&s.name)
    .bind(s.kind.as_str())
    .bind(&s.address)
    .bind(s.lat)
    .bind(s.lon)
    .bind(s.open_from.as_deref())
    .bind(s.open_until.as_deref())
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    write_hours_and_zones(conn, id, s).await?;
    Ok(id)
}

fn from_row(row: &AnyRow) -> StoreResult<Site> {
    Ok(Site {
        id: row.try_get("id")?,
        code: row.try_get("code")?,
        name: row.try_get("name")?,
        kind: row
            .try_get::<String, _>("kind")?
            .parse()
            .map_err(decode_err)?,
        address: row.try_get("address")?,
        lat: row.try_get("lat")?,
        lon: row.try_get("lon")?,
        open_from: row.try_get("open_from")?,
        open_until: row.try_get("open_until")?,
    })
}

const SELECT: &str =
    "SELECT id, code, name, kind, address, lat, lon, open_from, open_until FROM sites";

pub async fn all(db: &Db) -> StoreResult<Vec<Site>> {
    let sql = format!("{SELECT} ORDER BY code");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(from_row).collect()
}

pub async fn by_id(db: &Db, id: i64) -> StoreResult<Option<Site>> {
    rows::optional(db, format!("{SELECT} WHERE id = $1"), id, from_row).await
}

pub async fn by_code(db: &Db, code: &str) -> StoreResult<Option<Site>> {
    rows::optional(
        db,
        format!("{SELECT} WHERE code = $1"),
        code.to_string(),
        from_row,
    )
    .await
}

/// Opening hours: `(weekday 0 = Monday, opens, closes)` in minutes after midnight.
pub async fn hours(db: &Db, site_id: i64) -> StoreResult<Vec<(i64, i64, i64)>> {
    let rows = sqlx::query(
        "SELECT weekday, opens_min, closes_min FROM site_hours WHERE site_id = $1 ORDER BY weekday",
    )
    .bind(site_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
        .collect()
}

/// The zones of a site in the order people pass through them.
pub async fn zones(db: &Db, site_id: i64) -> StoreResult<Vec<Zone>> {
    let rows = sqlx::query(
        "SELECT z.kind, z.space, \
                COALESCE((SELECT d.desks FROM zone_desks d WHERE d.zone_id = z.id AND d.shift = 'am'), 0), \
                COALESCE((SELECT d.desks FROM zone_desks d WHERE d.zone_id = z.id AND d.shift = 'pm'), 0), \
                COALESCE((SELECT MAX(d.mean_service_seconds) FROM zone_desks d WHERE d.zone_id = z.id), 60) \
         FROM zones z WHERE z.site_id = $1",
    )
    .bind(site_id)
    .fetch_all(db.pool())
    .await?;
    let mut zones = rows
        .iter()
        .map(|r| {
            Ok(Zone {
                kind: r.try_get::<String, _>(0)?.parse().map_err(decode_err)?,
                space: r.try_get(1)?,
                desks_am: r.try_get(2)?,
                desks_pm: r.try_get(3)?,
                mean_service_seconds: r.try_get(4)?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    zones.sort_by_key(|z| ZoneKind::ALL.iter().position(|k| *k == z.kind));
    Ok(zones)
}

/// Changes a site's name, kind, address, open dates, hours and zones on the caller's
/// connection (its code stays). Slots already opened are resized by the caller.
pub async fn update(conn: &mut AnyConnection, id: i64, s: &NewSite) -> StoreResult<()> {
    sqlx::query(
        "UPDATE sites SET name = $1, kind = $2, address = $3, open_from = $4, open_until = $5, \
         lat = $6, lon = $7 WHERE id = $8",
    )
    .bind(&s.name)
    .bind(s.kind.as_str())
    .bind(&s.address)
    .bind(s.open_from.as_deref())
    .bind(s.open_until.as_deref())
    .bind(s.lat)
    .bind(s.lon)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    write_hours_and_zones(conn, id, s).await
}

/// A site's hours (replaced) and zones with their desks (added or changed), for a new site and
/// an edited one alike.
async fn write_hours_and_zones(conn: &mut AnyConnection, id: i64, s: &NewSite) -> StoreResult<()> {
    sqlx::query("DELETE FROM site_hours WHERE site_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    for &(weekday, opens, closes) in &s.hours {
        sqlx::query("INSERT INTO site_hours (site_id, weekday, opens_min, closes_min) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(weekday)
            .bind(opens)
            .bind(closes)
            .execute(&mut *conn)
            .await?;
    }
    for z in &s.zones {
        let existing: Option<i64> =
            sqlx::query_scalar("SELECT id FROM zones WHERE site_id = $1 AND kind = $2")
                .bind(id)
                .bind(z.kind.as_str())
                .fetch_optional(&mut *conn)
                .await?;
        let zone_id = match existing {
            Some(zone_id) => {
                sqlx::query("UPDATE zones SET space = $1 WHERE id = $2")
                    .bind(z.space)
                    .bind(zone_id)
                    .execute(&mut *conn)
                    .await?;
                zone_id
            }
            None => {
                sqlx::query_scalar(
                    "INSERT INTO zones (site_id, kind, space) VALUES ($1, $2, $3) RETURNING id",
                )
                .bind(id)
                .bind(z.kind.as_str())
                .bind(z.space)
                .fetch_one(&mut *conn)
                .await?
            }
        };
        for (shift, desks) in [("am", z.desks_am), ("pm", z.desks_pm)] {
            sqlx::query(
                "INSERT INTO zone_desks (zone_id, shift, desks, mean_service_seconds) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (zone_id, shift) DO UPDATE SET desks = excluded.desks, \
                 mean_service_seconds = excluded.mean_service_seconds",
            )
            .bind(zone_id)
            .bind(shift)
            .bind(desks)
            .bind(z.mean_service_seconds)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}

/// The units a site serves, `(id, code, name)` by code; empty when it is open to every unit.
pub async fn units_served(db: &Db, site_id: i64) -> StoreResult<Vec<(i64, String, String)>> {
    let rows = sqlx::query(
        "SELECT u.id, u.code, u.name FROM site_units su JOIN units u ON u.id = su.unit_id \
         WHERE su.site_id = $1 ORDER BY u.code",
    )
    .bind(site_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
        .collect()
}

/// The sites a unit's people may book at, by code.
pub async fn serving_unit(db: &Db, unit_id: i64) -> StoreResult<Vec<Site>> {
    let sql = format!(
        "{SELECT} s WHERE NOT EXISTS (SELECT 1 FROM site_units su WHERE su.site_id = s.id) \
            OR EXISTS (SELECT 1 FROM site_units su WHERE su.site_id = s.id AND su.unit_id = $1) \
         ORDER BY code"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(unit_id)
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(from_row).collect()
}

/// Adds a unit to those a site serves (no change if it is already there). Returns whether a row
/// was added.
pub async fn serve_unit(
    conn: &mut AnyConnection,
    site_id: i64,
    unit_id: i64,
    now: i64,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "INSERT INTO site_units (site_id, unit_id, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (site_id, unit_id) DO NOTHING",
    )
    .bind(site_id)
    .bind(unit_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes a unit from those a site serves. Appointments already made stay.
pub async fn stop_serving_unit(
    conn: &mut AnyConnection,
    site_id: i64,
    unit_id: i64,
) -> StoreResult<bool> {
    let done = sqlx::query("DELETE FROM site_units WHERE site_id = $1 AND unit_id = $2")
        .bind(site_id)
        .bind(unit_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether a person's unit is served by a site (see [`serves`]). An unknown person is not
/// refused here; the booking itself finds them missing.
pub async fn serves_person(db: &Db, site_id: i64, person_id: i64) -> StoreResult<bool> {
    let row = sqlx::query(
        "SELECT COUNT(*) FROM people p WHERE p.id = $1 \
           AND EXISTS (SELECT 1 FROM site_units su WHERE su.site_id = $2) \
           AND NOT EXISTS (SELECT 1 FROM site_units su WHERE su.site_id = $3 AND su.unit_id = p.unit_id)",
    )
    .bind(person_id)
    .bind(site_id)
    .bind(site_id)
    .fetch_one(db.pool())
    .await?;
    Ok(row.try_get::<i64, _>(0)? == 0)
}
