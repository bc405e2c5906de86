//! Vaccination and observation (migration 0009). A dose is given in one transaction that moves
//! the visit from `ready` to `observing` (so two vaccinators never both give it), takes the dose
//! out of the lot's stock with a ledger row, draws it from an opened vial (opening one when none
//! is open), records the dose, starts the observation, completes the appointment and moves the
//! journey on. What an opened vial holds past its life — or at the day's close — is written off
//! as waste, again with a ledger row, so per lot and site delivered = administered + wasted +
//! remaining at every moment.

use sqlx::{AnyConnection, Row};

use crate::db::Db;
use crate::error::StoreResult;
use crate::journeys::{self, SiteEvent};
use crate::vaccines::{StockRefusal, Withdrawal, withdraw};

/// A lot the vaccinator may choose: in stock at the site, of the visit's vaccine, not expired.
#[derive(Debug, Clone, PartialEq)]
pub struct LotChoice {
    pub lot_id: i64,
    pub lot_number: String,
    pub expires_on: String,
    /// Doses of the lot at the site, in opened vials or not.
    pub remaining: i64,
    /// The opened vial in use, if any: `(vial id, doses left, usable until)`.
    pub open_vial: Option<(i64, i64, i64)>,
}

/// The lots of `vaccine_id` with doses at `site_id` that have not expired by `today`
/// (`YYYY-MM-DD`), the one with the vaccinator `by`'s opened vial first, then the soonest to
/// expire.
pub async fn lots_for(
    db: &Db,
    site_id: i64,
    vaccine_id: i64,
    today: &str,
    now: i64,
    by: Option<i64>,
) -> StoreResult<Vec<LotChoice>> {
    let rows = sqlx::query(
        "SELECT l.id, l.lot_number, l.expires_on, b.remaining, \
                (SELECT MIN(x.id) FROM vials x WHERE x.lot_id = l.id AND x.site_id = b.site_id \
                   AND x.closed_at IS NULL AND x.usable_until > $4 AND x.used + x.wasted < x.doses \
                   AND (x.opened_by = $5 OR ($5 IS NULL AND x.opened_by IS NULL))) \
         FROM stock_balances b JOIN lots l ON l.id = b.lot_id \
         WHERE b.site_id = $1 AND l.vaccine_id = $2 AND l.expires_on >= $3 AND b.remaining > 0 \
         ORDER BY l.expires_on, l.lot_number",
    )
    .bind(site_id)
    .bind(vaccine_id)
    .bind(today)
    .bind(now)
    .bind(by)
    .fetch_all(db.pool())
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let vial: Option<i64> = r.try_get(4)?;
        let open_vial = match vial {
            Some(id) => {
                let v = sqlx::query(
                    "SELECT doses - used - wasted, usable_until FROM vials WHERE id = $1",
                )
                .bind(id)
                .fetch_one(db.pool())
                .await?;
                Some((id, v.try_get(0)?, v.try_get(1)?))
            }
            None => None,
        };
        out.push(LotChoice {
            lot_id: r.try_get(0)?,
            lot_number: r.try_get(1)?,
            expires_on: r.try_get(2)?,
            remaining: r.try_get(3)?,
            open_vial,
        });
    }
    out.sort_by_key(|l| l.open_vial.is_none());
    Ok(out)
}

/// A dose to give.
#[derive(Debug, Clone, Copy)]
pub struct Vaccination<'a> {
    pub visit_id: i64,
    pub lot_id: i64,
    /// `code` or `id_card`: how the person proved they were there.
    pub proof: &'a str,
    /// Observation minutes for this person; the vaccine's own when None.
    pub minutes: Option<i64>,
    pub by: Option<i64>,
    pub now: i64,
    /// The site's day (`YYYY-MM-DD`): an expired lot is refused.
    pub today: &'a str,
}

/// Why no dose was recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DoseRefusal {
    /// The visit is not waiting for the vaccinator (not screened, or given already).
    NotReady { stage: String },
    /// The lot is not of the visit's vaccine, or has expired.
    WrongLot,
    /// The lot has no dose left at this site.
    NoStock,
    /// The person has this dose on record already.
    AlreadyGiven,
}

/// A dose given.
#[derive(Debug, Clone, PartialEq)]
pub struct Given {
    pub dose_record_id: i64,
    pub vial_id: i64,
    /// True when this dose opened the vial.
    pub opened_vial: bool,
    pub due_at: i64,
}

/// Gives a dose on the caller's transaction (see the module's description); the caller commits
/// only a dose given, and rolls a refusal back.
pub async fn vaccinate_in(
    conn: &mut AnyConnection,
    v: &Vaccination<'_>,
) -> StoreResult<Result<Given, DoseRefusal>> {
    let ready = match Ready::take(conn, v).await? {
        Ok(ready) => ready,
        Err(refusal) => return Ok(Err(refusal)),
    };
    // The observation, the appointment and the journey first; the lot's stock row last, since
    // taking a dose from it locks it until commit and every vaccinator of the lot waits for it.
    let due_at = ready.observe(conn, v).await?;
    // The vaccinator's own opened vial (each desk works from its own), or a new one.
    let (vial_id, opened_vial) =
        draw_from_vial(conn, v, ready.site, ready.per_vial, ready.open_minutes).await?;
    // Last, the dose out of the lot's balance with its ledger row: the conditional update locks
    // the lot's row at this site until commit, and never lets the balance go below zero.
    let w = Withdrawal {
        lot_id: v.lot_id,
        site_id: ready.site,
        doses: 1,
        kind: "administered",
        reason: None,
        actor: v.by,
        now: v.now,
    };
    let ledger_id = match withdraw(conn, &w).await? {
        Ok(id) => id,
        Err(StockRefusal::Short { .. } | StockRefusal::NoReason) => {
            return Ok(Err(DoseRefusal::NoStock));
        }
    };
    let dose_record_id: i64 = sqlx::query_scalar(
        "INSERT INTO dose_records (visit_id, person_id, vaccine_id, lot_id, vial_id, dose_number, \
                                   site_id, given_at, given_by, proof, ledger_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
    )
    .bind(v.visit_id)
    .bind(ready.person)
    .bind(ready.vaccine)
    .bind(v.lot_id)
    .bind(vial_id)
    .bind(ready.dose)
    .bind(ready.site)
    .bind(v.now)
    .bind(v.by)
    .bind(v.proof)
    .bind(ledger_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(Ok(Given {
        dose_record_id,
        vial_id,
        opened_vial,
        due_at,
    }))
}

/// A visit taken from `ready` by this vaccinator, with what its dose needs to know.
struct Ready {
    person: i64,
    dose: i64,
    site: i64,
    vaccine: i64,
    appointment: i64,
    per_vial: i64,
    open_minutes: i64,
    vaccine_minutes: i64,
    lot_number: String,
}

impl Ready {
    /// Moves the visit from ready (only one vaccinator can), and checks the lot (of the
    /// vaccine, not expired) and that the dose was not given already.
    async fn take(
        conn: &mut AnyConnection,
        v: &Vaccination<'_>,
    ) -> StoreResult<Result<Self, DoseRefusal>> {
        let moved =
            sqlx::query("UPDATE visits SET stage = 'observing' WHERE id = $1 AND stage = 'ready'")
                .bind(v.visit_id)
                .execute(&mut *conn)
                .await?;
        let row = sqlx::query(
            "SELECT v.stage, v.person_id, v.dose_number, v.site_id, a.vaccine_id, a.id, \
                    x.doses_per_vial, x.open_vial_minutes, x.observation_minutes \
             FROM visits v JOIN appointments a ON a.id = v.appointment_id \
             JOIN vaccines x ON x.id = a.vaccine_id WHERE v.id = $1",
        )
        .bind(v.visit_id)
        .fetch_optional(&mut *conn)
        .await?;
        let Some(row) = row else {
            return Ok(Err(DoseRefusal::NotReady {
                stage: String::new(),
            }));
        };
        if moved.rows_affected() != 1 {
            return Ok(Err(DoseRefusal::NotReady {
                stage: row.try_get(0)?,
            }));
        }
        let vaccine: i64 = row.try_get(4)?;
        let lot_number: Option<String> = sqlx::query_scalar(
            "SELECT lot_number FROM lots WHERE id = $1 AND vaccine_id = $2 AND expires_on >= $3",
        )
        .bind(v.lot_id)
        .bind(vaccine)
        .bind(v.today)
        .fetch_optional(&mut *conn)
        .await?;
        let Some(lot_number) = lot_number else {
            return Ok(Err(DoseRefusal::WrongLot));
        };
        let ready = Ready {
            person: row.try_get(1)?,
            dose: row.try_get(2)?,
            site: row.try_get(3)?,
            vaccine,
            appointment: row.try_get(5)?,
            per_vial: row.try_get(6)?,
            open_minutes: row.try_get(7)?,
            vaccine_minutes: row.try_get(8)?,
            lot_number,
        };
        let given_before: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM dose_records WHERE person_id = $1 AND dose_number = $2",
        )
        .bind(ready.person)
        .bind(ready.dose)
        .fetch_optional(&mut *conn)
        .await?;
        if given_before.is_some() {
            return Ok(Err(DoseRefusal::AlreadyGiven));
        }
        Ok(Ok(ready))
    }

    /// The observation begins, the appointment is completed, and the journey moves through
    /// vaccinated to observing; answers when the observation is due.
    async fn observe(&self, conn: &mut AnyConnection, v: &Vaccination<'_>) -> StoreResult<i64> {
        let minutes = v.minutes.unwrap_or(self.vaccine_minutes).clamp(0, 240);
        let due_at = v.now + minutes * 60_000;
        sqlx::query(
            "INSERT INTO observations (visit_id, started_at, minutes, due_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(v.visit_id)
        .bind(v.now)
        .bind(minutes)
        .bind(due_at)
        .execute(&mut *conn)
        .await?;
        sqlx::query("UPDATE appointments SET status = 'completed', updated_at = $2 WHERE id = $1")
            .bind(self.appointment)
            .bind(v.now)
            .execute(&mut *conn)
            .await?;
        let given = format!("lot {}, proof {}", self.lot_number, v.proof);
        let observed = format!("{minutes} min");
        for (state, detail) in [("vaccinated", &given), ("observing", &observed)] {
            let e = SiteEvent {
                person: self.person,
                dose: self.dose,
                state,
                at: v.now,
                site: self.site,
                actor: v.by,
                detail: Some(detail),
            };
            journeys::advance_in(conn, &e, &[]).await?;
        }
        Ok(due_at)
    }
}

/// Draws one dose from the vaccinator's opened vial of the lot at the site — writing off first
/// what their vials hold past their life — or opens a new one (a full vial, or what the lot has
/// left). The draw is a conditional update, so two draws never take a vial's last dose twice.
/// Returns the vial and whether this dose opened it.
async fn draw_from_vial(
    conn: &mut AnyConnection,
    v: &Vaccination<'_>,
    site: i64,
    per_vial: i64,
    open_minutes: i64,
) -> StoreResult<(i64, bool)> {
    waste_vials_in(conn, site, Some(v.lot_id), v.now, false, v.by).await?;
    for _ in 0..3 {
        let open: Option<i64> = sqlx::query_scalar(
            "SELECT MIN(id) FROM vials WHERE lot_id = $1 AND site_id = $2 AND closed_at IS NULL \
               AND usable_until > $3 AND used + wasted < doses \
               AND (opened_by = $4 OR ($4 IS NULL AND opened_by IS NULL))",
        )
        .bind(v.lot_id)
        .bind(site)
        .bind(v.now)
        .bind(v.by)
        .fetch_one(&mut *conn)
        .await?;
        let Some(id) = open else {
            break;
        };
        let drawn = sqlx::query(
            "UPDATE vials SET used = used + 1, \
                    closed_at = CASE WHEN used + 1 + wasted = doses THEN $2 ELSE NULL END \
             WHERE id = $1 AND closed_at IS NULL AND used + wasted < doses",
        )
        .bind(id)
        .bind(v.now)
        .execute(&mut *conn)
        .await?;
        if drawn.rows_affected() == 1 {
            return Ok((id, false));
        }
    }
    // A new vial: a full one, or the doses the lot has left here.
    let remaining: i64 = sqlx::query_scalar(
        "SELECT remaining FROM stock_balances WHERE lot_id = $1 AND site_id = $2",
    )
    .bind(v.lot_id)
    .bind(site)
    .fetch_optional(&mut *conn)
    .await?
    .unwrap_or(0);
    let doses = per_vial.min(remaining).max(1);
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO vials (lot_id, site_id, doses, used, opened_at, opened_by, usable_until, closed_at) \
         VALUES ($1, $2, $3, 1, $4, $5, $6, CASE WHEN $3 = 1 THEN $4 ELSE NULL END) RETURNING id",
    )
    .bind(v.lot_id)
    .bind(site)
    .bind(doses)
    .bind(v.now)
    .bind(v.by)
    .bind(v.now + open_minutes.max(1) * 60_000)
    .fetch_one(&mut *conn)
    .await?;
    Ok((id, true))
}

/// Writes off what is left in the opened vials at a site (of one lot, or all): those past their
/// life, or — at the day's close (`closing`) — every one still open. Each leftover becomes a
/// `wasted` ledger row and the vial is closed. Returns the doses written off.
pub async fn waste_vials_in(
    conn: &mut AnyConnection,
    site_id: i64,
    lot_id: Option<i64>,
    now: i64,
    closing: bool,
    actor: Option<i64>,
) -> StoreResult<i64> {
    let rows = sqlx::query(
        "SELECT id, lot_id, doses - used - wasted FROM vials \
         WHERE site_id = $1 AND ($2 IS NULL OR lot_id = $2) AND closed_at IS NULL \
           AND ($3 = 1 OR usable_until <= $4) ORDER BY id",
    )
    .bind(site_id)
    .bind(lot_id)
    .bind(i64::from(closing))
    .bind(now)
    .fetch_all(&mut *conn)
    .await?;
    let mut total = 0;
    for r in &rows {
        let (vial, lot, left): (i64, i64, i64) = (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
        // Claim the vial first: a conditional close, so two writers never write it off twice.
        let claimed = sqlx::query(
            "UPDATE vials SET wasted = doses - used, closed_at = $2 WHERE id = $1 AND closed_at IS NULL",
        )
        .bind(vial)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        if claimed.rows_affected() != 1 || left <= 0 {
            continue;
        }
        let reason = if closing {
            format!("opened vial {vial} at the day's close")
        } else {
            format!("opened vial {vial} past its life")
        };
        let w = Withdrawal {
            lot_id: lot,
            site_id,
            doses: left,
            kind: "wasted",
            reason: Some(&reason),
            actor,
            now,
        };
        // The balance holds the vial's doses unless someone wrote them off by hand already;
        // then only what is left can go.
        total += match withdraw(conn, &w).await? {
            Ok(_) => left,
            Err(StockRefusal::Short { remaining }) if remaining > 0 => {
                let w = Withdrawal {
                    doses: remaining.min(left),
                    ..w
                };
                withdraw(conn, &w)
                    .await?
                    .map(|_| remaining.min(left))
                    .unwrap_or(0)
            }
            Err(_) => 0,
        };
    }
    Ok(total)
}

/// A person in observation.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    pub visit_id: i64,
    pub name: String,
    pub id_masked: String,
    pub green: bool,
    pub started_at: i64,
    pub minutes: i64,
    pub due_at: i64,
    /// AEFI reports made for this visit.
    pub aefi: i64,
}

/// Everyone in observation at a site on a day, the soonest due first.
pub async fn observing(db: &Db, site_id: i64, day: &str) -> StoreResult<Vec<Observed>> {
    let rows = sqlx::query(
        "SELECT v.id, p.name, p.id_masked, v.green, o.started_at, o.minutes, o.due_at, \
                CAST((SELECT COUNT(*) FROM aefi_reports r WHERE r.visit_id = v.id) AS BIGINT) \
         FROM visits v JOIN observations o ON o.visit_id = v.id JOIN people p ON p.id = v.person_id \
         WHERE v.site_id = $1 AND v.day = $2 AND v.stage = 'observing' \
         ORDER BY o.due_at, v.id",
    )
    .bind(site_id)
    .bind(day)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            let green: i64 = r.try_get(3)?;
            Ok(Observed {
                visit_id: r.try_get(0)?,
                name: r.try_get(1)?,
                id_masked: r.try_get(2)?,
                green: green != 0,
                started_at: r.try_get(4)?,
                minutes: r.try_get(5)?,
                due_at: r.try_get(6)?,
                aefi: r.try_get(7)?,
            })
        })
        .collect()
}

/// The observation of a visit: `(started_at, minutes, due_at, released_at)`.
pub async fn observation(
    db: &Db,
    visit_id: i64,
) -> StoreResult<Option<(i64, i64, i64, Option<i64>)>> {
    let row = sqlx::query(
        "SELECT started_at, minutes, due_at, released_at FROM observations WHERE visit_id = $1",
    )
    .bind(visit_id)
    .fetch_optional(db.pool())
    .await?;
    match row {
        Some(r) => Ok(Some((
            r.try_get(0)?,
            r.try_get(1)?,
            r.try_get(2)?,
            r.try_get(3)?,
        ))),
        None => Ok(None),
    }
}

/// Releases a person from observation on the caller's transaction, with the reason when it is
/// before their time (the caller decides whether early release is allowed). Returns false, changing nothing, when the
/// visit was not in observation.
pub async fn release_in(
    tx: &mut AnyConnection,
    visit_id: i64,
    early_reason: Option<&str>,
    by: Option<i64>,
    now: i64,
) -> StoreResult<bool> {
    let moved =
        sqlx::query("UPDATE visits SET stage = 'released' WHERE id = $1 AND stage = 'observing'")
            .bind(visit_id)
            .execute(&mut *tx)
            .await?;
    if moved.rows_affected() != 1 {
        return Ok(false);
    }
    sqlx::query("UPDATE observations SET released_at = $2, released_by = $3 WHERE visit_id = $1")
        .bind(visit_id)
        .bind(now)
        .bind(by)
        .execute(&mut *tx)
        .await?;
    let row = sqlx::query("SELECT person_id, dose_number, site_id FROM visits WHERE id = $1")
        .bind(visit_id)
        .fetch_one(&mut *tx)
        .await?;
    let (person, dose, site): (i64, i64, i64) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
    // After an adverse event the journey stays `aefi` (it needs following up); the event says
    // the person left.
    let detail = early_reason.map(|r| format!("released early: {r}"));
    let e = SiteEvent {
        person,
        dose,
        state: "released",
        at: now,
        site,
        actor: by,
        detail: detail.as_deref(),
    };
    journeys::advance_in(tx, &e, &["observing"]).await?;
    Ok(true)
}

/// An adverse event to report.
#[derive(Debug, Clone, Copy)]
pub struct Aefi<'a> {
    pub visit_id: i64,
    pub onset_at: i64,
    /// Symptom codes, comma-separated.
    pub symptoms: &'a str,
    pub note: &'a str,
    /// `mild`, `moderate`, `severe` or `serious`.
    pub severity: &'a str,
    /// `observed`, `treated` or `hospital`.
    pub action: &'a str,
    pub action_note: &'a str,
    pub by: Option<i64>,
    pub now: i64,
}

/// Records an AEFI report for a vaccinated visit and marks the journey `aefi`, on the caller's
/// transaction. Returns the report's id, or None when the visit has no dose on record.
pub async fn report_aefi_in(tx: &mut AnyConnection, a: &Aefi<'_>) -> StoreResult<Option<i64>> {
    let row = sqlx::query(
        "SELECT v.person_id, v.dose_number, v.site_id FROM visits v \
         JOIN dose_records d ON d.visit_id = v.id WHERE v.id = $1",
    )
    .bind(a.visit_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let (person, dose, site): (i64, i64, i64) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO aefi_reports (visit_id, onset_at, symptoms, note, severity, action, action_note, \
                                   reported_at, reported_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(a.visit_id)
    .bind(a.onset_at)
    .bind(a.symptoms)
    .bind(a.note)
    .bind(a.severity)
    .bind(a.action)
    .bind(a.action_note)
    .bind(a.now)
    .bind(a.by)
    .fetch_one(&mut *tx)
    .await?;
    let detail = format!("{} / {}", a.severity, a.action);
    let e = SiteEvent {
        person,
        dose,
        state: "aefi",
        at: a.now,
        site,
        actor: a.by,
        detail: Some(&detail),
    };
    journeys::advance_in(tx, &e, &[]).await?;
    Ok(Some(id))
}

/// The dose given at a visit: `(dose record id, lot number, given at, proof)`.
pub async fn of_visit(db: &Db, visit_id: i64) -> StoreResult<Option<(i64, String, i64, String)>> {
    let row = sqlx::query(
        "SELECT d.id, l.lot_number, d.given_at, d.proof FROM dose_records d \
         JOIN lots l ON l.id = d.lot_id WHERE d.visit_id = $1",
    )
    .bind(visit_id)
    .fetch_optional(db.pool())
    .await?;
    match row {
        Some(r) => Ok(Some((
            r.try_get(0)?,
            r.try_get(1)?,
            r.try_get(2)?,
            r.try_get(3)?,
        ))),
        None => Ok(None),
    }
}

/// A dose a person was given, as their record and the check-in desk tell it.
#[derive(Debug, Clone, PartialEq)]
pub struct GivenDose {
    pub dose_number: i64,
    pub vaccine_id: i64,
    pub vaccine_name: String,
    pub doses_in_series: i64,
    pub min_interval_days: i64,
    pub site_name: String,
    pub given_at: i64,
    /// When observation after it ends or ended, if it was started.
    pub observation_due: Option<i64>,
    pub released_at: Option<i64>,
}

/// Every dose a person was given, by dose number.
pub async fn given_to(db: &Db, person_id: i64) -> StoreResult<Vec<GivenDose>> {
    let rows = sqlx::query(
        "SELECT d.dose_number, d.vaccine_id, v.name, v.doses_in_series, v.min_interval_days, \
                si.name, d.given_at, o.due_at, o.released_at \
         FROM dose_records d JOIN vaccines v ON v.id = d.vaccine_id \
         JOIN sites si ON si.id = d.site_id LEFT JOIN observations o ON o.visit_id = d.visit_id \
         WHERE d.person_id = $1 ORDER BY d.dose_number",
    )
    .bind(person_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(GivenDose {
                dose_number: r.try_get(0)?,
                vaccine_id: r.try_get(1)?,
                vaccine_name: r.try_get(2)?,
                doses_in_series: r.try_get(3)?,
                min_interval_days: r.try_get(4)?,
                site_name: r.try_get(5)?,
                given_at: r.try_get(6)?,
                observation_due: r.try_get(7)?,
                released_at: r.try_get(8)?,
            })
        })
        .collect()
}
