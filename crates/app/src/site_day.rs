//! A site's day as a whole: the reconciliation of every booked person and every dose (per team,
//! per unit, per lot and for the site), no-shows marked after their slot and a grace period,
//! and the manager's close of the day.

use chrono::{NaiveDate, Timelike};
use vaxloop_core::Label;
use vaxloop_store::reconcile::{self, CloseSummary, DayGroup, Scope};
use vaxloop_store::{Db, StoreError};

pub use vaxloop_store::org::Unit;
pub use vaxloop_store::reconcile::LotLedger;
pub use vaxloop_store::sites::Site;

/// Minutes after a slot ends before a person who has not come is a no-show.
pub const NO_SHOW_GRACE_MINUTES: i64 = 60;

/// Where the people booked for a day stand. Every booked person is in exactly one of
/// `vaccinated`, `deferred`, `left`, `no_show`, `in_progress` and `expected`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Tally {
    pub booked: i64,
    /// Checked in (whatever happened next).
    pub arrived: i64,
    pub vaccinated: i64,
    pub deferred: i64,
    /// Checked in, gone before their dose (counted at the close).
    pub left: i64,
    pub no_show: i64,
    /// Here now, not yet vaccinated.
    pub in_progress: i64,
    /// Not come yet, their slot not yet past the grace period.
    pub expected: i64,
}

impl Tally {
    /// Counts a group of people in.
    pub fn add(&mut self, g: &DayGroup) {
        self.booked += g.booked;
        self.arrived += g.arrived;
        self.vaccinated += g.vaccinated;
        self.deferred += g.deferred;
        self.left += g.left;
        self.no_show += g.no_show;
        self.in_progress += g.in_progress;
        self.expected += g.expected;
    }

    /// The six end states add up to the bookings.
    pub fn whole(&self) -> bool {
        self.vaccinated
            + self.deferred
            + self.left
            + self.no_show
            + self.in_progress
            + self.expected
            == self.booked
    }
}

/// A team's line of the reconciliation.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TeamLine {
    pub code: String,
    pub colour: i64,
    /// "红-07" / "Red-07".
    pub label_zh: String,
    pub label_en: String,
    pub unit_code: String,
    pub unit_name: String,
    pub site_id: i64,
    pub tally: Tally,
}

/// A unit's line: its teams and its people booked one by one, together.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct UnitLine {
    pub code: String,
    pub name: String,
    pub tally: Tally,
}

/// A site's day, reconciled.
#[derive(Debug, Clone, PartialEq)]
pub struct Reconciliation {
    pub teams: Vec<TeamLine>,
    pub units: Vec<UnitLine>,
    /// People booked one by one (and walk-ins), of every unit.
    pub individuals: Tally,
    pub walk_ins: i64,
    pub total: Tally,
    pub lots: Vec<LotLedger>,
    /// When the day was closed, by whom (user id), and what the close did.
    pub closed: Option<(i64, Option<i64>, CloseSummary)>,
    /// The day's opening hours as its slots run: the first slot's start and the last one's end
    /// (minutes past midnight), when it has slots.
    pub hours: Option<(i64, i64)>,
}

/// The team lines of a day's groups, by label.
pub fn team_lines(all: &[DayGroup]) -> Vec<TeamLine> {
    let mut teams: Vec<TeamLine> = Vec::new();
    for a in all {
        let Some((code, colour, number)) = &a.team else {
            continue;
        };
        let line = match teams.iter_mut().position(|t| &t.code == code) {
            Some(i) => &mut teams[i],
            None => {
                let label = Label::from_stored(*colour, *number);
                teams.push(TeamLine {
                    code: code.clone(),
                    colour: *colour,
                    label_zh: label.zh(),
                    label_en: label.en(),
                    unit_code: a.unit_code.clone(),
                    unit_name: a.unit_name.clone(),
                    site_id: a.site_id,
                    tally: Tally::default(),
                });
                teams.last_mut().expect("just pushed")
            }
        };
        line.tally.add(a);
    }
    teams.sort_by_key(|t| (t.colour, t.label_zh.clone()));
    teams
}

/// The reconciliation of site `site_id` on `day`; `tz` bounds the day's ledger movements.
pub async fn reconcile(
    db: &Db,
    tz: chrono_tz::Tz,
    site_id: i64,
    day: NaiveDate,
) -> Result<Reconciliation, StoreError> {
    let date = day.format("%Y-%m-%d").to_string();
    let all = reconcile::day_groups(db, Scope::Site(site_id), &date).await?;
    let mut units: Vec<UnitLine> = Vec::new();
    let mut individuals = Tally::default();
    let mut total = Tally::default();
    let mut walk_ins = 0;
    for a in &all {
        total.add(a);
        walk_ins += a.walk_ins;
        if a.team.is_none() {
            individuals.add(a);
        }
        match units.iter_mut().find(|u| u.code == a.unit_code) {
            Some(u) => u.tally.add(a),
            None => {
                let mut tally = Tally::default();
                tally.add(a);
                units.push(UnitLine {
                    code: a.unit_code.clone(),
                    name: a.unit_name.clone(),
                    tally,
                });
            }
        }
    }
    units.sort_by(|a, b| a.code.cmp(&b.code));
    let (from, to) = day_bounds(tz, day);
    let lots = reconcile::lot_ledgers(db, site_id, from, to).await?;
    let closed = reconcile::closed(db, site_id, &date)
        .await?
        .map(|(at, by, json)| {
            let summary = serde_json::from_str(&json).unwrap_or_default();
            (at, by, summary)
        });
    let slots = vaxloop_store::slots::of_site_day(db, site_id, &date).await?;
    let hours = slots
        .iter()
        .map(|s| s.starts_min)
        .min()
        .zip(slots.iter().map(|s| s.ends_min).max());
    Ok(Reconciliation {
        teams: team_lines(&all),
        units,
        individuals,
        walk_ins,
        total,
        lots,
        closed,
        hours,
    })
}

/// A day's first and last instants (milliseconds) in `tz`: `[from, to)`.
pub fn day_bounds(tz: chrono_tz::Tz, day: NaiveDate) -> (i64, i64) {
    let start = |d: NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .and_then(|t| t.and_local_timezone(tz).earliest())
            .map(|t| t.timestamp_millis())
            .unwrap_or(0)
    };
    let next = day.succ_opt().unwrap_or(day);
    (start(day), start(next))
}

/// A unit's teams on a day, at every site: what its contact sees.
pub async fn unit_day(
    db: &Db,
    unit_id: i64,
    day: NaiveDate,
) -> Result<(Vec<TeamLine>, Tally), StoreError> {
    let date = day.format("%Y-%m-%d").to_string();
    let all = reconcile::day_groups(db, Scope::Unit(unit_id), &date).await?;
    let mut total = Tally::default();
    for a in &all {
        total.add(a);
    }
    Ok((team_lines(&all), total))
}

/// Closes site `site_id`'s `day` in a transaction of its own (see [`reconcile::close_day_in`]).
/// None when it was closed already.
pub async fn close_day(
    db: &Db,
    site_id: i64,
    day: NaiveDate,
    actor: Option<i64>,
) -> Result<Option<CloseSummary>, StoreError> {
    let mut tx = db.begin_write().await?;
    let done = close_day_in(&mut tx, site_id, day, actor).await?;
    tx.commit().await?;
    Ok(done)
}

async fn close_day_in(
    tx: &mut vaxloop_store::WriteTx,
    site_id: i64,
    day: NaiveDate,
    actor: Option<i64>,
) -> Result<Option<CloseSummary>, StoreError> {
    let date = day.format("%Y-%m-%d").to_string();
    let tomorrow = day.succ_opt().unwrap_or(day).format("%Y-%m-%d").to_string();
    let now = vaxloop_store::now_ms();
    reconcile::close_day_in(tx, site_id, &date, &tomorrow, actor, now).await
}

/// Why a day was not closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseRefusal {
    /// Only today may be closed.
    NotToday,
    /// It was closed already.
    Closed,
}

impl CloseRefusal {
    pub fn code(self) -> &'static str {
        match self {
            CloseRefusal::NotToday => "not_today",
            CloseRefusal::Closed => "closed",
        }
    }
}

/// The manager closes their site's day (today only): the close and its audit row (with what it
/// did, or that it was closed already) commit together.
pub async fn close(
    app: &crate::App,
    caller: &crate::Caller,
    code: &str,
    day: NaiveDate,
) -> crate::Result<Result<CloseSummary, CloseRefusal>> {
    let manager =
        crate::stations::station(app, caller, code, vaxloop_core::SitePost::Manager).await?;
    if day != app.today() {
        return Ok(Err(CloseRefusal::NotToday));
    }
    let site = manager.site();
    let mut tx = app.db().begin_write().await?;
    let done = close_day_in(&mut tx, site.id, day, caller.user_id()).await?;
    let target = format!("site:{}:{day}", site.code);
    let act = crate::audit::Act::new("site.close_day", &target);
    match &done {
        Some(summary) => {
            let detail = serde_json::to_string(summary).unwrap_or_default();
            crate::audit::write(&mut tx, caller, act.detail(&detail)).await?;
        }
        None => crate::audit::write_failed(&mut tx, caller, act).await?,
    }
    tx.commit().await?;
    Ok(done.ok_or(CloseRefusal::Closed))
}

/// The live board of the site with code `code`, for whoever may watch its day.
pub async fn live_board(
    app: &crate::App,
    caller: &crate::Caller,
    code: &str,
    now: i64,
) -> crate::Result<(Site, Board)> {
    let site = crate::stations::watched(app, caller, code).await?;
    let b = board(app.db(), app.tz(), site.id, app.today(), now).await?;
    Ok((site, b))
}

/// The reconciliation of the site with code `code` on `day`, for whoever may watch its day, and
/// whether the caller may close it (its manager, today).
pub async fn site_day(
    app: &crate::App,
    caller: &crate::Caller,
    code: &str,
    day: NaiveDate,
) -> crate::Result<(Site, Reconciliation, bool)> {
    let site = crate::stations::watched(app, caller, code).await?;
    let r = reconcile(app.db(), app.tz(), site.id, day).await?;
    let may_close = day == app.today()
        && caller
            .actor()
            .is_some_and(|a| crate::scope::works_at(a, site.id, vaxloop_core::SitePost::Manager));
    Ok((site, r, may_close))
}

/// [`site_day`] handed over as a spreadsheet: the export is audited.
pub async fn site_day_export(
    app: &crate::App,
    caller: &crate::Caller,
    code: &str,
    day: NaiveDate,
) -> crate::Result<(Site, Reconciliation)> {
    let (site, r, _) = site_day(app, caller, code, day).await?;
    let rows = r.teams.len() + r.units.len() + r.lots.len() + 1;
    audit_export(app, caller, &format!("site:{}:{day}", site.code), rows).await?;
    Ok((site, r))
}

/// The unit with code `code` (when the caller may see it: its contact, its group's leader, the
/// desk, the admin) and its teams on `day` at every site, with their total.
pub async fn unit_teams(
    app: &crate::App,
    caller: &crate::Caller,
    code: &str,
    day: NaiveDate,
) -> crate::Result<(Unit, Vec<TeamLine>, Tally)> {
    let unit = vaxloop_store::org::unit_by_code(app.db(), code).await?;
    crate::scope::check_thing(app, caller, &unit, crate::scope::can_see_unit).await?;
    let unit = unit.ok_or(crate::Error::NotFound)?;
    let (teams, total) = unit_day(app.db(), unit.id, day).await?;
    Ok((unit, teams, total))
}

/// [`unit_teams`] handed over as a spreadsheet: the export is audited.
pub async fn unit_teams_export(
    app: &crate::App,
    caller: &crate::Caller,
    code: &str,
    day: NaiveDate,
) -> crate::Result<(Unit, Vec<TeamLine>)> {
    let (unit, teams, _) = unit_teams(app, caller, code, day).await?;
    audit_export(
        app,
        caller,
        &format!("unit:{}:{day}", unit.code),
        teams.len(),
    )
    .await?;
    Ok((unit, teams))
}

async fn audit_export(
    app: &crate::App,
    caller: &crate::Caller,
    target: &str,
    rows: usize,
) -> crate::Result<()> {
    let detail = format!("rows={rows} format=xlsx");
    let mut tx = app.db().begin_write().await?;
    crate::audit::write(
        &mut tx,
        caller,
        crate::audit::Act::new("export", target).detail(&detail),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Marks today's no-shows at every site (their slot over by [`NO_SHOW_GRACE_MINUTES`]) and
/// returns the deferred people whose day has come to the desk. `now` is the local time.
pub async fn sweep(db: &Db, now: chrono::NaiveDateTime) -> Result<(u64, u64), StoreError> {
    let date = now.date().format("%Y-%m-%d").to_string();
    let tomorrow = now
        .date()
        .succ_opt()
        .unwrap_or(now.date())
        .format("%Y-%m-%d")
        .to_string();
    let minute = i64::from(now.hour() * 60 + now.minute());
    let stamp = vaxloop_store::now_ms();
    let mut tx = db.begin_write().await?;
    let no_shows =
        reconcile::mark_no_shows_in(&mut tx, None, &date, minute, NO_SHOW_GRACE_MINUTES, stamp)
            .await?;
    let reinvited = reconcile::reinvite_deferred_in(&mut tx, &tomorrow, stamp).await?;
    tx.commit().await?;
    Ok((no_shows, reinvited))
}

/// How often the server sweeps.
pub const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// Sweeps every [`SWEEP_EVERY`] for as long as the server runs.
pub async fn run_sweeper(db: Db, tz: chrono_tz::Tz) {
    let mut tick = tokio::time::interval(SWEEP_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let now = chrono::Utc::now().with_timezone(&tz).naive_local();
        match sweep(&db, now).await {
            Ok((0, 0)) => {}
            Ok((no_shows, reinvited)) => tracing::info!(no_shows, reinvited, "day sweep"),
            Err(e) => tracing::warn!(error = %e, "the day sweep could not reach the database"),
        }
    }
}

/// One zone's queue on the board.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ZoneQueue {
    /// `screening`, `vaccination` or `observation`.
    pub zone: &'static str,
    pub people: i64,
    pub green: i64,
    /// Minutes the longest-waiting person has waited (for observation: has sat).
    pub longest_minutes: i64,
    /// Mean minutes waited so far by those in the queue.
    pub mean_minutes: f64,
}

/// The live site board: queues and waits per zone, the last half hour's flow, observation seats,
/// doses per lot and every team of the day.
#[derive(Debug, Clone, PartialEq)]
pub struct Board {
    pub queues: Vec<ZoneQueue>,
    /// Checked in and vaccinated in the last 30 minutes, and the mean minutes from check-in to
    /// dose of those doses.
    pub checked_in_30: i64,
    pub vaccinated_30: i64,
    pub check_in_to_dose_30: Option<f64>,
    pub seats_used: i64,
    pub seats: i64,
    pub lots: Vec<LotLedger>,
    pub teams: Vec<TeamLine>,
    pub total: Tally,
    pub closed: bool,
}

/// The board of site `site_id` on `day` at `now` (milliseconds).
pub async fn board(
    db: &Db,
    tz: chrono_tz::Tz,
    site_id: i64,
    day: NaiveDate,
    now: i64,
) -> Result<Board, StoreError> {
    let date = day.format("%Y-%m-%d").to_string();
    let (from, to) = day_bounds(tz, day);
    // The board's reads are independent: at once, each on a connection of its own.
    let (present, zones, flow, all, lots, closed) = tokio::try_join!(
        reconcile::present(db, site_id, &date),
        vaxloop_store::sites::zones(db, site_id),
        reconcile::flow_since(db, site_id, now - 30 * 60_000),
        reconcile::day_groups(db, Scope::Site(site_id), &date),
        reconcile::lot_ledgers(db, site_id, from, to),
        reconcile::closed(db, site_id, &date),
    )?;
    let queue = |zone: &'static str, stages: &[&str]| {
        let here: Vec<&reconcile::Present> = present
            .iter()
            .filter(|p| stages.contains(&p.stage.as_str()))
            .collect();
        let waits: Vec<i64> = here
            .iter()
            .map(|p| {
                let since = match p.stage.as_str() {
                    "ready" | "observing" => p.screened_at.unwrap_or(p.checked_in_at),
                    _ => p.checked_in_at,
                };
                ((now - since) / 60_000).max(0)
            })
            .collect();
        ZoneQueue {
            zone,
            people: here.len() as i64,
            green: here.iter().filter(|p| p.green).count() as i64,
            longest_minutes: waits.iter().copied().max().unwrap_or(0),
            mean_minutes: if waits.is_empty() {
                0.0
            } else {
                waits.iter().sum::<i64>() as f64 / waits.len() as f64
            },
        }
    };
    let queues = vec![
        queue("screening", &["waiting", "referred"]),
        queue("vaccination", &["ready"]),
    ];
    let seats_used = present.iter().filter(|p| p.stage == "observing").count() as i64;
    let seats = zones
        .into_iter()
        .find(|z| z.kind == vaxloop_core::ZoneKind::Observation)
        .map(|z| z.space)
        .unwrap_or(0);
    let (checked_in_30, vaccinated_30, check_in_to_dose_30) = flow;
    let mut total = Tally::default();
    for a in &all {
        total.add(a);
    }
    Ok(Board {
        queues,
        checked_in_30,
        vaccinated_30,
        check_in_to_dose_30,
        seats_used,
        seats,
        lots,
        teams: team_lines(&all),
        total,
        closed: closed.is_some(),
    })
}
