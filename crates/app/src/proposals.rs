//! The desk's planning proposal, shared by the whole appointment desk: the planner runs for the
//! next three days on live data; the desk looks at it per site-day and per unit, moves teams by
//! hand (a moved team is locked where it was put), locks or unlocks others, re-runs the planner
//! around the locks, refreshes it when the live data changed (a delivery fell short, a site
//! closed a day) — keeping every team whose place still fits and showing the difference — and
//! publishes it: every team booked, labelled and told, all at once or not at all.
//!
//! Every change is conditional on the version the desk member saw ([`ProposalError::Stale`]
//! otherwise), and publishing marks the proposal in the transaction that books its teams, so it
//! is published at most once however many press the button.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::NaiveDate;
use vaxloop_core::Role;
pub use vaxloop_planner::{Change, MoveRefusal, Plan, Report};
use vaxloop_store::{Db, StoreError, plan_drafts};

use crate::audit::{self, Act};
use crate::planning::{
    Disruption, DisruptionError, Live, Mark, NotPublished, Published, Unpublished, live_instance,
    publish,
};
use crate::{App, Caller, scope};

/// Who may plan: the appointment desk and the town admin.
pub const PLANNERS: &[Role] = &[Role::Desk, Role::Admin];

/// How long the desk waits for the planner.
pub const TIME_LIMIT: Duration = Duration::from_secs(2);

/// A proposal, read.
#[derive(Debug, Clone)]
pub struct Proposal {
    pub id: i64,
    pub version: i64,
    /// `open`, `published` or `superseded`.
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub published_at: Option<i64>,
    pub live: Live,
    pub plan: Plan,
    /// The plan before the last re-plan or hand move.
    pub previous: Option<Plan>,
    pub locked: BTreeSet<String>,
    pub seconds: f64,
    /// The independent check of the plan on its instance.
    pub report: Report,
}

impl Proposal {
    pub fn is_open(&self) -> bool {
        self.status == "open"
    }

    /// What changed with the last re-plan or hand move.
    pub fn changes(&self) -> Vec<Change> {
        self.previous
            .as_ref()
            .map(|p| vaxloop_planner::diff(p, &self.plan))
            .unwrap_or_default()
    }

    /// The teams booked already that this plan moves or cancels, were it published.
    pub fn booked_changes(&self) -> Vec<Change> {
        let booked = self.live.booked_plan();
        let ours: BTreeSet<&str> = booked.assignments.iter().map(|a| a.team.as_str()).collect();
        vaxloop_planner::diff(&booked, &self.plan)
            .into_iter()
            .filter(|c| ours.contains(c.team.as_str()))
            .collect()
    }

    /// Whether plan team `id` is booked already.
    pub fn is_booked(&self, id: &str) -> bool {
        (self.live.instance.teams.iter().zip(&self.live.teams))
            .any(|(t, lt)| t.id == id && lt.booked.is_some())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProposalError {
    #[error("the proposal was changed or published by someone else meanwhile")]
    Stale,
    #[error("there is no such proposal")]
    NotFound,
    #[error("{0}")]
    Move(MoveRefusal),
    #[error("team {} could not be booked", .0.team)]
    NotPublished(NotPublished),
    #[error("{0} changed since the plan was made")]
    Changed(String),
    #[error("{0}")]
    Disruption(DisruptionError),
    #[error("the stored proposal cannot be read: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The caller may not plan (audited), or is not logged in.
    #[error(transparent)]
    Access(crate::Error),
}

impl From<crate::Error> for ProposalError {
    fn from(e: crate::Error) -> Self {
        match e {
            crate::Error::Store(e) => ProposalError::Store(e),
            other => ProposalError::Access(other),
        }
    }
}

pub use vaxloop_planner::plan::Assignment;
pub use vaxloop_planner::solve::unplaced_code;
pub use vaxloop_planner::{Instance, Place};

/// Lets a planner through (see [`PLANNERS`]); an audited denial otherwise.
pub async fn may_plan(app: &App, caller: &Caller) -> ProposalResult<()> {
    Ok(scope::require(app, caller, PLANNERS).await?)
}

pub type ProposalResult<T> = Result<T, ProposalError>;

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

fn read<T: serde::de::DeserializeOwned>(text: &str) -> ProposalResult<T> {
    serde_json::from_str(text).map_err(|e| ProposalError::Corrupt(e.to_string()))
}

fn from_draft(d: plan_drafts::Draft) -> ProposalResult<Proposal> {
    let live: Live = read(&d.live)?;
    let plan: Plan = read(&d.plan)?;
    let previous = d.previous.as_deref().map(read::<Plan>).transpose()?;
    let report = vaxloop_planner::check(&live.instance, &plan);
    Ok(Proposal {
        id: d.id,
        version: d.version,
        status: d.status,
        created_at: d.created_at,
        updated_at: d.updated_at,
        published_at: d.published_at,
        locked: read(&d.locked)?,
        live,
        plan,
        previous,
        seconds: d.seconds,
        report,
    })
}

/// Runs the planner off the async runtime.
async fn run<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    match tokio::task::spawn_blocking(work).await {
        Ok(out) => out,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

/// A new proposal for the [`crate::planning::DAYS`] days after `today`, by the caller (a desk
/// member's login); it supersedes the open one, and commits with its audit row.
pub async fn propose(
    app: &App,
    caller: &Caller,
    today: NaiveDate,
    options: vaxloop_planner::Options,
) -> ProposalResult<Proposal> {
    may_plan(app, caller).await?;
    let user = scope::login(caller)?.id;
    let db = app.db();
    let started = std::time::Instant::now();
    let mut live = live_instance(db, today).await?;
    let read_ms = started.elapsed().as_millis();
    // The disruptions the desk recorded on the open proposal still hold.
    if let Some(open) = latest(db).await?.filter(Proposal::is_open) {
        for d in open.live.disruptions {
            live.disrupt(d).map_err(ProposalError::Disruption)?;
        }
    }
    let (live, solved) = run(move || {
        // Teams booked already stay where they are, unless their place is gone.
        let booked = live.booked_plan();
        let solved = vaxloop_planner::solve_from(
            &live.instance,
            Some(vaxloop_planner::Start {
                plan: &booked,
                locked: &|_| true,
            }),
            &options,
        );
        (live, solved)
    })
    .await;
    let solved_ms = started.elapsed().as_millis();
    let mut tx = db.begin_write().await?;
    let id = plan_drafts::open(
        &mut tx,
        user,
        vaxloop_store::now_ms(),
        &json(&live),
        &json(&solved.plan),
        solved.seconds,
    )
    .await?;
    let detail = format!(
        "proposal={id} teams={} placed={}",
        live.instance.teams.len(),
        solved.plan.assignments.len()
    );
    audit::write(
        &mut tx,
        caller,
        Act::new("plan_propose", "plan").detail(&detail),
    )
    .await?;
    tx.commit().await?;
    let stored_ms = started.elapsed().as_millis();
    let proposal = load(db, id).await;
    tracing::info!(
        proposal = id,
        read_ms,
        solved_ms,
        stored_ms,
        loaded_ms = started.elapsed().as_millis(),
        "proposal made"
    );
    proposal
}

/// The newest proposal, for a planner.
pub async fn current(app: &App, caller: &Caller) -> ProposalResult<Option<Proposal>> {
    may_plan(app, caller).await?;
    latest(app.db()).await
}

/// Proposal `id`, for a planner.
pub async fn proposal(app: &App, caller: &Caller, id: i64) -> ProposalResult<Proposal> {
    may_plan(app, caller).await?;
    load(app.db(), id).await
}

/// One proposal.
pub async fn load(db: &Db, id: i64) -> ProposalResult<Proposal> {
    from_draft(
        plan_drafts::by_id(db, id)
            .await?
            .ok_or(ProposalError::NotFound)?,
    )
}

/// The newest proposal, if there ever was one.
pub async fn latest(db: &Db) -> ProposalResult<Option<Proposal>> {
    plan_drafts::latest(db).await?.map(from_draft).transpose()
}

/// Reads proposal `id` as the caller last saw it: open and at `version`.
async fn open_at(db: &Db, id: i64, version: i64) -> ProposalResult<Proposal> {
    let p = load(db, id).await?;
    if !p.is_open() || p.version != version {
        return Err(ProposalError::Stale);
    }
    Ok(p)
}

/// An act on the open proposal, as audited: who, which action, what exactly.
struct Acting<'a> {
    by: &'a Caller,
    action: &'static str,
    detail: String,
}

/// Writes the new state of an open proposal, conditional on `version`, with the act's audit
/// row (how many teams it moved added to its detail) in the same transaction.
#[allow(clippy::too_many_arguments)]
async fn save(
    db: &Db,
    acting: Acting<'_>,
    p: &Proposal,
    plan: &Plan,
    previous: Option<&Plan>,
    locked: &BTreeSet<String>,
    seconds: f64,
    live: Option<&Live>,
) -> ProposalResult<Proposal> {
    let moved = previous.map_or(0, |before| vaxloop_planner::diff(before, plan).len());
    let previous = previous.map(json);
    let change = plan_drafts::Change {
        live: &json(live.unwrap_or(&p.live)),
        plan: &json(plan),
        previous: previous.as_deref(),
        locked: &json(locked),
        seconds,
    };
    let mut tx = db.begin_write().await?;
    if !plan_drafts::update(&mut tx, p.id, p.version, vaxloop_store::now_ms(), change).await? {
        tx.rollback().await?;
        return Err(ProposalError::Stale);
    }
    let detail = format!("proposal={} {} moved={moved}", p.id, acting.detail);
    let act = Act::new(acting.action, "plan").detail(&detail);
    audit::write(&mut tx, acting.by, act).await?;
    tx.commit().await?;
    load(db, p.id).await
}

/// Locks a team where it is (re-runs keep it there), or unlocks it.
pub async fn set_lock(
    app: &App,
    caller: &Caller,
    id: i64,
    version: i64,
    team: &str,
    lock: bool,
) -> ProposalResult<Proposal> {
    may_plan(app, caller).await?;
    let db = app.db();
    let p = open_at(db, id, version).await?;
    if !p.live.instance.teams.iter().any(|t| t.id == team) {
        return Err(ProposalError::Move(MoveRefusal::UnknownTeam));
    }
    let mut locked = p.locked.clone();
    if lock {
        locked.insert(team.to_string());
    } else {
        locked.remove(team);
    }
    let acting = Acting {
        by: caller,
        action: "plan_lock",
        detail: format!("team={team} lock={lock}"),
    };
    save(
        db,
        acting,
        &p,
        &p.plan,
        p.previous.as_ref(),
        &locked,
        p.seconds,
        None,
    )
    .await
}

/// Moves a team by hand to start in grid slot `slot` of day `day` at site `site` (the site's
/// code), and locks it there; refused with the reason when it does not fit.
#[allow(clippy::too_many_arguments)]
pub async fn move_team(
    app: &App,
    caller: &Caller,
    id: i64,
    version: i64,
    team: &str,
    site: &str,
    day: usize,
    slot: usize,
) -> ProposalResult<Proposal> {
    may_plan(app, caller).await?;
    let db = app.db();
    let p = open_at(db, id, version).await?;
    let moved = vaxloop_planner::place_team(&p.live.instance, &p.plan, team, site, day, slot)
        .map_err(ProposalError::Move)?;
    let mut locked = p.locked.clone();
    locked.insert(team.to_string());
    let acting = Acting {
        by: caller,
        action: "plan_move",
        detail: format!("team={team} to={site} day={day} slot={slot}"),
    };
    let plan = &moved.plan;
    save(
        db,
        acting,
        &p,
        plan,
        Some(&p.plan),
        &locked,
        p.seconds,
        None,
    )
    .await
}

/// As [`move_team`], with the day as its date and the slot as its start ("09:30"), as the desk
/// names them; a day or time the plan does not have is refused as outside it.
#[allow(clippy::too_many_arguments)]
pub async fn move_team_at(
    app: &App,
    caller: &Caller,
    id: i64,
    version: i64,
    team: &str,
    site: &str,
    date: &str,
    starts: &str,
) -> ProposalResult<Proposal> {
    may_plan(app, caller).await?;
    let p = load(app.db(), id).await?;
    let inst = &p.live.instance;
    let day = inst.horizon.dates.iter().position(|d| d == date.trim());
    match day.zip(inst.slot_at(starts)) {
        Some((day, slot)) => {
            move_team(app, caller, id, version, team, site.trim(), day, slot).await
        }
        None => Err(ProposalError::Move(MoveRefusal::OutsideHorizon)),
    }
}

/// The planner's options at the desk: [`TIME_LIMIT`], the same seed every time.
pub fn desk_options() -> vaxloop_planner::Options {
    vaxloop_planner::Options {
        time_limit: TIME_LIMIT,
        max_steps: None,
        seed: 1,
    }
}

/// Re-runs the planner from the proposal: locked teams stay, the others may move.
pub async fn rerun(
    app: &App,
    caller: &Caller,
    id: i64,
    version: i64,
    options: vaxloop_planner::Options,
) -> ProposalResult<Proposal> {
    may_plan(app, caller).await?;
    let db = app.db();
    let p = open_at(db, id, version).await?;
    let (instance, plan, mut locked) = (p.live.instance.clone(), p.plan.clone(), p.locked.clone());
    // Teams booked already move only when their place is gone.
    locked.extend(
        (instance.teams.iter().zip(&p.live.teams))
            .filter(|(_, lt)| lt.booked.is_some())
            .map(|(t, _)| t.id.clone()),
    );
    let solved = run(move || {
        let lock = |t: &str| locked.contains(t);
        vaxloop_planner::solve_from(
            &instance,
            Some(vaxloop_planner::Start {
                plan: &plan,
                locked: &lock,
            }),
            &options,
        )
    })
    .await;
    let acting = Acting {
        by: caller,
        action: "plan_rerun",
        detail: String::new(),
    };
    save(
        db,
        acting,
        &p,
        &solved.plan,
        Some(&p.plan),
        &p.locked,
        solved.seconds,
        None,
    )
    .await
}

/// Re-plans the proposal on today's live data — after a delivery fell short, a site closed a
/// day, or people were booked elsewhere: every team whose place still fits keeps it, and only
/// the teams that lost theirs (or are new) are planned again. The difference is kept to show.
pub async fn refresh(
    app: &App,
    caller: &Caller,
    id: i64,
    version: i64,
    today: NaiveDate,
    options: vaxloop_planner::Options,
) -> ProposalResult<Proposal> {
    may_plan(app, caller).await?;
    let p = open_at(app.db(), id, version).await?;
    let disruptions = p.live.disruptions.clone();
    let acting = Acting {
        by: caller,
        action: "plan_refresh",
        detail: String::new(),
    };
    replan_with(app.db(), acting, p, today, disruptions, options).await
}

/// Records a disruption on the proposal — a site closed on a day, or a site-day's delivery
/// short — and re-plans from it on today's data: the teams (booked or not) whose place is gone
/// move, as few as can be, and the rest stay. Publishing applies it.
#[allow(clippy::too_many_arguments)]
pub async fn disrupt(
    app: &App,
    caller: &Caller,
    id: i64,
    version: i64,
    today: NaiveDate,
    disruption: Disruption,
    options: vaxloop_planner::Options,
) -> ProposalResult<Proposal> {
    may_plan(app, caller).await?;
    let p = open_at(app.db(), id, version).await?;
    let acting = Acting {
        by: caller,
        action: "plan_disrupt",
        detail: format!("{disruption:?}"),
    };
    let mut disruptions = p.live.disruptions.clone();
    disruptions.push(disruption);
    replan_with(app.db(), acting, p, today, disruptions, options).await
}

/// Takes back the disruption recorded for a site-day, and re-plans.
#[allow(clippy::too_many_arguments)]
pub async fn undisrupt(
    app: &App,
    caller: &Caller,
    id: i64,
    version: i64,
    today: NaiveDate,
    site: &str,
    day: &str,
    options: vaxloop_planner::Options,
) -> ProposalResult<Proposal> {
    may_plan(app, caller).await?;
    let p = open_at(app.db(), id, version).await?;
    let disruptions = (p.live.disruptions.iter())
        .filter(|d| d.site_day() != (site, day))
        .cloned()
        .collect();
    let acting = Acting {
        by: caller,
        action: "plan_undisrupt",
        detail: format!("site={site} day={day}"),
    };
    replan_with(app.db(), acting, p, today, disruptions, options).await
}

async fn replan_with(
    db: &Db,
    acting: Acting<'_>,
    p: Proposal,
    today: NaiveDate,
    disruptions: Vec<Disruption>,
    options: vaxloop_planner::Options,
) -> ProposalResult<Proposal> {
    let mut live = live_instance(db, today).await?;
    for d in disruptions {
        live.disrupt(d).map_err(ProposalError::Disruption)?;
    }
    // From the proposal as it was, with any team booked since where it is booked.
    let mut previous = p.plan.clone();
    let known: BTreeSet<String> = (previous.assignments.iter().map(|a| a.team.clone()))
        .chain(previous.unassigned.iter().map(|u| u.team.clone()))
        .collect();
    previous
        .assignments
        .extend((live.booked_plan().assignments.into_iter()).filter(|a| !known.contains(&a.team)));
    let (live, solved) = run(move || {
        let solved = vaxloop_planner::replan(&live.instance, &previous, &options);
        (live, solved)
    })
    .await;
    let locked: BTreeSet<String> = (p.locked.iter())
        .filter(|t| live.instance.teams.iter().any(|x| &x.id == *t))
        .cloned()
        .collect();
    save(
        db,
        acting,
        &p,
        &solved.plan,
        Some(&p.plan),
        &locked,
        solved.seconds,
        Some(&live),
    )
    .await
}

/// Publishes the proposal as the caller saw it at `version`: all its teams booked, labelled and
/// told, the proposal marked published and the act audited, in one transaction — or nothing.
pub async fn publish_proposal(
    app: &App,
    caller: &Caller,
    id: i64,
    version: i64,
) -> ProposalResult<Published> {
    may_plan(app, caller).await?;
    let db = app.db();
    let p = open_at(db, id, version).await?;
    let mark = Mark {
        proposal: id,
        version,
        by: caller,
    };
    match publish(db, app.cipher(), app.tz(), &p.live, &p.plan, Some(mark)).await? {
        Ok(done) => Ok(done),
        Err(Unpublished::Stale) => Err(ProposalError::Stale),
        Err(Unpublished::Changed(what)) => Err(ProposalError::Changed(what)),
        Err(Unpublished::Team(t)) => Err(ProposalError::NotPublished(t)),
    }
}

/// What the desk's planning page shows around a proposal: the sites and the units by name, and
/// what each unit said about its days (its planning preferences).
#[derive(Debug, Clone)]
pub struct Board {
    pub proposal: Option<Proposal>,
    pub sites: Vec<vaxloop_store::sites::Site>,
    pub units: Vec<vaxloop_store::org::Unit>,
    pub prefs: std::collections::HashMap<i64, vaxloop_store::planning::UnitPrefs>,
}

/// The planning page's [`Board`], for a planner: around `proposal` when one was just answered,
/// the newest otherwise.
pub async fn board(
    app: &App,
    caller: &Caller,
    proposal: Option<Proposal>,
) -> ProposalResult<Board> {
    may_plan(app, caller).await?;
    let db = app.db();
    let proposal = match proposal {
        Some(p) => Some(p),
        None => latest(db).await?,
    };
    Ok(Board {
        proposal,
        sites: vaxloop_store::sites::all(db).await?,
        units: vaxloop_store::org::units(db, None).await?,
        prefs: vaxloop_store::planning::prefs(db).await?,
    })
}

/// A proposal's totals: teams and people, and how many of them the plan places.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Totals {
    pub teams: usize,
    pub placed: usize,
    pub people: u64,
    pub people_placed: u64,
    /// People for the green channel (the elderly and the disabled).
    pub green: u64,
    pub green_placed: u64,
}

impl Proposal {
    /// The teams and people of the instance, and how many the plan places.
    pub fn totals(&self) -> Totals {
        let inst = &self.live.instance;
        let on: BTreeSet<&str> = (self.plan.assignments.iter())
            .map(|a| a.team.as_str())
            .collect();
        let mut t = Totals {
            teams: inst.teams.len(),
            placed: self.plan.assignments.len(),
            ..Totals::default()
        };
        for team in &inst.teams {
            let placed = on.contains(team.id.as_str());
            t.people += u64::from(team.size);
            t.green += u64::from(team.priority_people);
            if placed {
                t.people_placed += u64::from(team.size);
                t.green_placed += u64::from(team.priority_people);
            }
        }
        t
    }
}
