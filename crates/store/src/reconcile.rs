//! End-of-day reconciliation (migration 0010): where every booked person of a site's day stands,
//! no-shows marked after their slot and a grace period, deferred people returned to the desk on
//! the day they may come again, and the day's close — after which the site records nothing more
//! that day and the figures are final.

use sqlx::{AnyConnection, Row};

use crate::db::Db;
use crate::error::StoreResult;
use crate::journeys::{self, SiteEvent};

/// The people booked for a day who share a team (or none) and a unit, counted by where they
/// stand. Each booked person is counted in exactly one of the last six.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DayGroup {
    /// `(code, colour, number)` of the team, or None for people booked one by one.
    pub team: Option<(String, i64, i64)>,
    pub site_id: i64,
    pub unit_code: String,
    pub unit_name: String,
    pub booked: i64,
    /// Checked in (whatever happened next).
    pub arrived: i64,
    pub walk_ins: i64,
    pub vaccinated: i64,
    pub deferred: i64,
    /// Checked in and gone before their dose (the day's close says so).
    pub left: i64,
    pub no_show: i64,
    /// Here now, not yet vaccinated.
    pub in_progress: i64,
    /// Not come yet, their slot not yet past the grace period.
    pub expected: i64,
}

/// Whose appointments to count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Site(i64),
    Unit(i64),
}

/// Every appointment booked for `day` (cancelled and moved ones aside) at a site or of a unit's
/// people, counted in the database per team (or none), site and unit: one row per group, so a
/// day of 5,000 people reads a hundred rows.
pub async fn day_groups(db: &Db, scope: Scope, day: &str) -> StoreResult<Vec<DayGroup>> {
    let (site, unit) = match scope {
        Scope::Site(s) => (Some(s), None),
        Scope::Unit(u) => (None, Some(u)),
    };
    let count =
        |condition: &str| format!("CAST(SUM(CASE WHEN {condition} THEN 1 ELSE 0 END) AS BIGINT)");
    let counts = format!(
        "CAST(COUNT(*) AS BIGINT), {arrived}, CAST(SUM(a.walk_in) AS BIGINT), {vaccinated}, \
         {deferred}, {left}, {no_show}, {in_progress}, {expected}",
        arrived = count("v.id IS NOT NULL"),
        vaccinated = count("d.id IS NOT NULL"),
        deferred = count("d.id IS NULL AND v.stage = 'deferred'"),
        left = count(
            "d.id IS NULL AND v.id IS NOT NULL AND v.stage <> 'deferred' AND a.status <> 'active'"
        ),
        no_show = count("v.id IS NULL AND a.status = 'no_show'"),
        in_progress = count(
            "d.id IS NULL AND v.id IS NOT NULL AND v.stage <> 'deferred' AND a.status = 'active'"
        ),
        expected = count("v.id IS NULL AND a.status <> 'no_show'"),
    );
    let outcome = "LEFT JOIN visits v ON v.appointment_id = a.id \
                   LEFT JOIN dose_records d ON d.visit_id = v.id";
    let filter = "s.day = $1 AND a.status <> 'cancelled' AND ($2 IS NULL OR s.site_id = $2)";
    // Teams carry their unit, so most people are counted without reading the people table;
    // only those booked one by one are looked up.
    let teams = format!(
        "SELECT t.code, t.colour, t.number, s.site_id, u.code, u.name, {counts} \
         FROM appointments a JOIN slots s ON s.id = a.slot_id JOIN teams t ON t.id = a.team_id \
         JOIN units u ON u.id = t.unit_id {outcome} \
         WHERE {filter} AND ($3 IS NULL OR t.unit_id = $3) \
         GROUP BY t.id, t.code, t.colour, t.number, s.site_id, u.id, u.code, u.name \
         ORDER BY t.colour, t.number"
    );
    let individuals = format!(
        "SELECT NULL, NULL, NULL, s.site_id, u.code, u.name, {counts} \
         FROM appointments a JOIN slots s ON s.id = a.slot_id \
         JOIN people p ON p.id = a.person_id JOIN units u ON u.id = p.unit_id {outcome} \
         WHERE {filter} AND a.team_id IS NULL AND ($3 IS NULL OR p.unit_id = $3) \
         GROUP BY s.site_id, u.id, u.code, u.name ORDER BY u.code"
    );
    let read = |sql: String| async move {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(day)
            .bind(site)
            .bind(unit)
            .fetch_all(db.pool())
            .await
    };
    let (mut rows, more) = tokio::try_join!(read(teams), read(individuals))?;
    rows.extend(more);
    rows.iter()
        .map(|r| {
            let code: Option<String> = r.try_get(0)?;
            let team = match code {
                Some(code) => Some((code, r.try_get(1)?, r.try_get(2)?)),
                None => None,
            };
            Ok(DayGroup {
                team,
                site_id: r.try_get(3)?,
                unit_code: r.try_get(4)?,
                unit_name: r.try_get(5)?,
                booked: r.try_get(6)?,
                arrived: r.try_get(7)?,
                walk_ins: r.try_get(8)?,
                vaccinated: r.try_get(9)?,
                deferred: r.try_get(10)?,
                left: r.try_get(11)?,
                no_show: r.try_get(12)?,
                in_progress: r.try_get(13)?,
                expected: r.try_get(14)?,
            })
        })
        .collect()
}

/// A lot's stock at a site, from its ledger.
#[derive(Debug, Clone, PartialEq)]
pub struct LotLedger {
    pub lot_id: i64,
    pub vaccine_code: String,
    pub vaccine_name: String,
    pub lot_number: String,
    pub expires_on: String,
    /// Delivered and transferred in.
    pub received: i64,
    pub administered: i64,
    pub wasted: i64,
    /// Of the wasted, what opened vials held past their life or at a close.
    pub vial_waste: i64,
    pub transferred_out: i64,
    pub corrections: i64,
    /// The stored balance.
    pub remaining: i64,
    /// Administered and wasted on the day.
    pub administered_today: i64,
    pub wasted_today: i64,
    /// Doses left in opened vials now.
    pub in_open_vials: i64,
}

impl LotLedger {
    /// Whether received = administered + wasted + transferred out + remaining (corrections
    /// counted): the ledger and the balance agree.
    pub fn balanced(&self) -> bool {
        self.received + self.corrections
            == self.administered + self.wasted + self.transferred_out + self.remaining
    }
}

/// Every lot with stock at a site; `day_from`..`day_to` (milliseconds) bound "today". One
/// grouped pass over the site's ledger, whatever its length.
pub async fn lot_ledgers(
    db: &Db,
    site_id: i64,
    day_from: i64,
    day_to: i64,
) -> StoreResult<Vec<LotLedger>> {
    let rows = sqlx::query(
        "SELECT b.lot_id, v.code, l.lot_number, l.expires_on, b.remaining, \
                CAST(COALESCE((SELECT SUM(x.wasted) FROM vials x WHERE x.lot_id = b.lot_id AND x.site_id = b.site_id), 0) AS BIGINT), \
                CAST(COALESCE((SELECT SUM(x.doses - x.used - x.wasted) FROM vials x WHERE x.lot_id = b.lot_id AND x.site_id = b.site_id AND x.closed_at IS NULL), 0) AS BIGINT), \
                v.name \
         FROM stock_balances b JOIN lots l ON l.id = b.lot_id JOIN vaccines v ON v.id = l.vaccine_id \
         WHERE b.site_id = $1 ORDER BY v.code, l.expires_on, l.lot_number",
    )
    .bind(site_id)
    .fetch_all(db.pool())
    .await?;
    let mut lots = rows
        .iter()
        .map(|r| {
            Ok(LotLedger {
                lot_id: r.try_get(0)?,
                vaccine_code: r.try_get(1)?,
                lot_number: r.try_get(2)?,
                expires_on: r.try_get(3)?,
                remaining: r.try_get(4)?,
                vial_waste: r.try_get(5)?,
                in_open_vials: r.try_get(6)?,
                vaccine_name: r.try_get(7)?,
                received: 0,
                administered: 0,
                wasted: 0,
                transferred_out: 0,
                corrections: 0,
                administered_today: 0,
                wasted_today: 0,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    let sums = sqlx::query(
        "SELECT g.lot_id, g.kind, CAST(SUM(g.delta) AS BIGINT), \
                CAST(SUM(CASE WHEN g.at >= $2 AND g.at < $3 THEN g.delta ELSE 0 END) AS BIGINT) \
         FROM stock_ledger g \
         WHERE g.lot_id IN (SELECT b.lot_id FROM stock_balances b WHERE b.site_id = $1) AND g.site_id = $1 \
         GROUP BY g.lot_id, g.kind",
    )
    .bind(site_id)
    .bind(day_from)
    .bind(day_to)
    .fetch_all(db.pool())
    .await?;
    for r in &sums {
        let (lot, kind, all, today): (i64, String, i64, i64) =
            (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?);
        let Some(l) = lots.iter_mut().find(|l| l.lot_id == lot) else {
            continue;
        };
        match kind.as_str() {
            "delivered" | "transfer_in" => l.received += all,
            "administered" => {
                l.administered -= all;
                l.administered_today -= today;
            }
            "wasted" => {
                l.wasted -= all;
                l.wasted_today -= today;
            }
            "transfer_out" => l.transferred_out -= all,
            _ => l.corrections += all,
        }
    }
    Ok(lots)
}

/// Marks as no-shows the active appointments of `day` (at one site, or all) whose slot ended
/// `grace` minutes or more before `now_min` (minutes after local midnight) and who never
/// arrived: the appointment becomes `no_show` and the journey goes back to the desk to be
/// booked again. Returns how many were marked.
pub async fn mark_no_shows_in(
    conn: &mut AnyConnection,
    site_id: Option<i64>,
    day: &str,
    now_min: i64,
    grace: i64,
    now: i64,
) -> StoreResult<u64> {
    let rows = sqlx::query(
        "SELECT a.id, a.person_id, a.dose_number, s.site_id FROM appointments a \
         JOIN slots s ON s.id = a.slot_id \
         WHERE a.status = 'active' AND s.day = $1 AND ($2 IS NULL OR s.site_id = $2) \
           AND s.ends_min + $3 <= $4 \
           AND NOT EXISTS (SELECT 1 FROM visits v WHERE v.appointment_id = a.id)",
    )
    .bind(day)
    .bind(site_id)
    .bind(grace)
    .bind(now_min)
    .fetch_all(&mut *conn)
    .await?;
    let mut marked = 0;
    for r in &rows {
        let (id, person, dose, site): (i64, i64, i64, i64) =
            (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?);
        let done = sqlx::query(
            "UPDATE appointments SET status = 'no_show', updated_at = $2 \
             WHERE id = $1 AND status = 'active' \
               AND NOT EXISTS (SELECT 1 FROM visits v WHERE v.appointment_id = $1)",
        )
        .bind(id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        if done.rows_affected() != 1 {
            continue;
        }
        marked += 1;
        let e = SiteEvent {
            person,
            dose,
            state: "no_show",
            at: now,
            site,
            actor: None,
            detail: Some("did not come"),
        };
        journeys::advance_in(conn, &e, &["booked"]).await?;
    }
    Ok(marked)
}

/// Returns to the desk the deferred people whose deferral ends by `by_day` (`YYYY-MM-DD`): their
/// journey goes back to `registered`, so the planner and the desk book them for a day they may
/// come. Returns how many.
pub async fn reinvite_deferred_in(
    conn: &mut AnyConnection,
    by_day: &str,
    now: i64,
) -> StoreResult<u64> {
    let rows = sqlx::query(
        "SELECT j.person_id, j.dose_number, MAX(s.defer_until) FROM journeys j \
         JOIN visits v ON v.person_id = j.person_id AND v.dose_number = j.dose_number \
         JOIN screenings s ON s.visit_id = v.id AND s.outcome = 'defer' \
         WHERE j.state = 'deferred' GROUP BY j.person_id, j.dose_number",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut n = 0;
    for r in &rows {
        let (person, dose, until): (i64, i64, Option<String>) =
            (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
        let Some(until) = until.filter(|u| u.as_str() <= by_day) else {
            continue;
        };
        let done = sqlx::query(
            "UPDATE journeys SET state = 'registered', updated_at = $3 \
             WHERE person_id = $1 AND dose_number = $2 AND state = 'deferred'",
        )
        .bind(person)
        .bind(dose)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        if done.rows_affected() == 1 {
            n += 1;
            sqlx::query(
                "INSERT INTO journey_events (person_id, dose_number, state, at, detail) \
                 VALUES ($1, $2, 'registered', $3, $4)",
            )
            .bind(person)
            .bind(dose)
            .bind(now)
            .bind(format!("re-invited: deferred until {until}"))
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(n)
}

/// When and by whom a site's day was closed, with what the close did (JSON).
pub async fn closed(
    db: &Db,
    site_id: i64,
    day: &str,
) -> StoreResult<Option<(i64, Option<i64>, String)>> {
    let row = sqlx::query(
        "SELECT closed_at, closed_by, summary FROM day_closes WHERE site_id = $1 AND day = $2",
    )
    .bind(site_id)
    .bind(day)
    .fetch_optional(db.pool())
    .await?;
    match row {
        Some(r) => Ok(Some((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?))),
        None => Ok(None),
    }
}

/// What closing a day did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CloseSummary {
    pub no_shows: u64,
    /// Checked in but gone before their dose.
    pub left: u64,
    /// Still in observation, released by the close.
    pub released: u64,
    /// Doses written off from opened vials.
    pub vial_waste: i64,
    /// Deferred people returned to the desk.
    pub reinvited: u64,
}

/// Closes a site's day on the caller's transaction: everyone booked who never came is a no-show;
/// whoever was checked in and left before their dose goes back to the desk (their journey `no_show`,
/// the event says why); whoever is still in observation is released; opened vials are written
/// off; deferred people whose day has come are returned to the desk. Returns None, changing
/// nothing, when the day was closed already.
pub async fn close_day_in(
    tx: &mut AnyConnection,
    site_id: i64,
    day: &str,
    tomorrow: &str,
    by: Option<i64>,
    now: i64,
) -> StoreResult<Option<CloseSummary>> {
    let claimed = sqlx::query(
        "INSERT INTO day_closes (site_id, day, closed_at, closed_by) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (site_id, day) DO NOTHING",
    )
    .bind(site_id)
    .bind(day)
    .bind(now)
    .bind(by)
    .execute(&mut *tx)
    .await?;
    if claimed.rows_affected() != 1 {
        return Ok(None);
    }
    let mut summary = CloseSummary {
        no_shows: mark_no_shows_in(tx, Some(site_id), day, i64::MAX / 4, 0, now).await?,
        ..CloseSummary::default()
    };
    let open = sqlx::query(
        "SELECT v.id, v.appointment_id, v.person_id, v.dose_number, v.stage FROM visits v \
         WHERE v.site_id = $1 AND v.day = $2 AND v.stage IN ('waiting', 'referred', 'ready', 'observing')",
    )
    .bind(site_id)
    .bind(day)
    .fetch_all(&mut *tx)
    .await?;
    for r in &open {
        let (visit, appointment, person, dose, stage): (i64, i64, i64, i64, String) = (
            r.try_get(0)?,
            r.try_get(1)?,
            r.try_get(2)?,
            r.try_get(3)?,
            r.try_get(4)?,
        );
        if stage == "observing" {
            sqlx::query("UPDATE visits SET stage = 'released' WHERE id = $1")
                .bind(visit)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "UPDATE observations SET released_at = $2, released_by = $3 WHERE visit_id = $1",
            )
            .bind(visit)
            .bind(now)
            .bind(by)
            .execute(&mut *tx)
            .await?;
            let e = SiteEvent {
                person,
                dose,
                state: "released",
                at: now,
                site: site_id,
                actor: by,
                detail: Some("released at the day's close"),
            };
            journeys::advance_in(tx, &e, &["observing"]).await?;
            summary.released += 1;
        } else {
            sqlx::query(
                "UPDATE appointments SET status = 'completed', updated_at = $2 WHERE id = $1",
            )
            .bind(appointment)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let detail = format!("left before the dose (at {stage})");
            let e = SiteEvent {
                person,
                dose,
                state: "no_show",
                at: now,
                site: site_id,
                actor: by,
                detail: Some(&detail),
            };
            journeys::advance_in(tx, &e, &["checked_in", "screened"]).await?;
            summary.left += 1;
        }
    }
    summary.vial_waste = crate::doses::waste_vials_in(tx, site_id, None, now, true, by).await?;
    summary.reinvited = reinvite_deferred_in(tx, tomorrow, now).await?;
    let json = serde_json::to_string(&summary).unwrap_or_else(|_| "{}".into());
    sqlx::query("UPDATE day_closes SET summary = $3 WHERE site_id = $1 AND day = $2")
        .bind(site_id)
        .bind(day)
        .bind(json)
        .execute(&mut *tx)
        .await?;
    Ok(Some(summary))
}

/// A person at the site now: their stage, when they were checked in, and when screened (for
/// those waiting for the vaccinator).
#[derive(Debug, Clone, PartialEq)]
pub struct Present {
    pub stage: String,
    pub green: bool,
    pub checked_in_at: i64,
    pub screened_at: Option<i64>,
}

/// Everyone at a site on a day who has not left: waiting for screening or the doctor, for the
/// vaccinator, or in observation.
pub async fn present(db: &Db, site_id: i64, day: &str) -> StoreResult<Vec<Present>> {
    let rows = sqlx::query(
        "SELECT v.stage, v.green, v.checked_in_at, \
                (SELECT MAX(s.screened_at) FROM screenings s WHERE s.visit_id = v.id) \
         FROM visits v WHERE v.site_id = $1 AND v.day = $2 \
           AND v.stage IN ('waiting', 'referred', 'ready', 'observing')",
    )
    .bind(site_id)
    .bind(day)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            let green: i64 = r.try_get(1)?;
            Ok(Present {
                stage: r.try_get(0)?,
                green: green != 0,
                checked_in_at: r.try_get(2)?,
                screened_at: r.try_get(3)?,
            })
        })
        .collect()
}

/// The site's flow since `since` (milliseconds): people checked in, doses given, and the mean
/// minutes from check-in to dose of those doses.
pub async fn flow_since(db: &Db, site_id: i64, since: i64) -> StoreResult<(i64, i64, Option<f64>)> {
    let checked_in: i64 = sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM visits WHERE site_id = $1 AND checked_in_at >= $2",
    )
    .bind(site_id)
    .bind(since)
    .fetch_one(db.pool())
    .await?;
    let row = sqlx::query(
        "SELECT CAST(COUNT(*) AS BIGINT), CAST(COALESCE(SUM(d.given_at - v.checked_in_at), 0) AS BIGINT) \
         FROM dose_records d JOIN visits v ON v.id = d.visit_id \
         WHERE d.site_id = $1 AND d.given_at >= $2",
    )
    .bind(site_id)
    .bind(since)
    .fetch_one(db.pool())
    .await?;
    let (doses, total_ms): (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
    let mean = (doses > 0).then(|| total_ms as f64 / doses as f64 / 60_000.0);
    Ok((checked_in, doses, mean))
}
