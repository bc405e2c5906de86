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
use vaxloop_planner::{Change, MoveRefusal, Plan, Report};
use vaxloop_store::{Db, StoreError, plan_drafts};

use crate::planning::{
    Disruption, DisruptionError, Live, NotPublished, Published, Unpublished, live_instance, publish,
};

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

/// A new proposal for the [`crate::planning::DAYS`] days after `today`, by `user`; it
/// supersedes the open one.
pub async fn propose(
    db: &Db,
    today: NaiveDate,
    user: i64,
    options: vaxloop_planner::Options,
) -> ProposalResult<Proposal> {
    let mut live = live_instance(db, today).await?;
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
    let id = plan_drafts::open(
        db,
        user,
        vaxloop_store::now_ms(),
        &json(&live),
        &json(&solved.plan),
        solved.seconds,
    )
    .await?;
    load(db, id).await
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

/// Writes the new state of an open proposal, conditional on `version`.
async fn save(
    db: &Db,
    p: &Proposal,
    plan: &Plan,
    previous: Option<&Plan>,
    locked: &BTreeSet<String>,
    seconds: f64,
    live: Option<&Live>,
) -> ProposalResult<Proposal> {
    let previous = previous.map(json);
    let change = plan_drafts::Change {
        live: &json(live.unwrap_or(&p.live)),
        plan: &json(plan),
        previous: previous.as_deref(),
        locked: &json(locked),
        seconds,
    };
    if !plan_drafts::update(db, p.id, p.version, vaxloop_store::now_ms(), change).await? {
        return Err(ProposalError::Stale);
    }
    load(db, p.id).await
}

/// Locks a team where it is (re-runs keep it there), or unlocks it.
pub async fn set_lock(
    db: &Db,
    id: i64,
    version: i64,
    team: &str,
    lock: bool,
) -> ProposalResult<Proposal> {
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
    save(
        db,
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
pub async fn move_team(
    db: &Db,
    id: i64,
    version: i64,
    team: &str,
    site: &str,
    day: usize,
    slot: usize,
) -> ProposalResult<Proposal> {
    let p = open_at(db, id, version).await?;
    let moved = vaxloop_planner::place_team(&p.live.instance, &p.plan, team, site, day, slot)
        .map_err(ProposalError::Move)?;
    let mut locked = p.locked.clone();
    locked.insert(team.to_string());
    save(db, &p, &moved.plan, Some(&p.plan), &locked, p.seconds, None).await
}

/// As [`move_team`], with the day as its date and the slot as its start ("09:30"), as the desk
/// names them; a day or time the plan does not have is refused as outside it.
pub async fn move_team_at(
    db: &Db,
    id: i64,
    version: i64,
    team: &str,
    site: &str,
    date: &str,
    starts: &str,
) -> ProposalResult<Proposal> {
    let p = load(db, id).await?;
    let inst = &p.live.instance;
    let day = inst.horizon.dates.iter().position(|d| d == date.trim());
    match day.zip(inst.slot_at(starts)) {
        Some((day, slot)) => move_team(db, id, version, team, site.trim(), day, slot).await,
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
    db: &Db,
    id: i64,
    version: i64,
    options: vaxloop_planner::Options,
) -> ProposalResult<Proposal> {
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
    save(
        db,
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
    db: &Db,
    id: i64,
    version: i64,
    today: NaiveDate,
    options: vaxloop_planner::Options,
) -> ProposalResult<Proposal> {
    let p = open_at(db, id, version).await?;
    let disruptions = p.live.disruptions.clone();
    replan_with(db, p, today, disruptions, options).await
}

/// Records a disruption on the proposal — a site closed on a day, or a site-day's delivery
/// short — and re-plans from it on today's data: the teams (booked or not) whose place is gone
/// move, as few as can be, and the rest stay. Publishing applies it.
pub async fn disrupt(
    db: &Db,
    id: i64,
    version: i64,
    today: NaiveDate,
    disruption: Disruption,
    options: vaxloop_planner::Options,
) -> ProposalResult<Proposal> {
    let p = open_at(db, id, version).await?;
    let mut disruptions = p.live.disruptions.clone();
    disruptions.push(disruption);
    replan_with(db, p, today, disruptions, options).await
}

/// Takes back the disruption recorded for a site-day, and re-plans.
pub async fn undisrupt(
    db: &Db,
    id: i64,
    version: i64,
    today: NaiveDate,
    site: &str,
    day: &str,
    options: vaxloop_planner::Options,
) -> ProposalResult<Proposal> {
    let p = open_at(db, id, version).await?;
    let disruptions = (p.live.disruptions.iter())
        .filter(|d| d.site_day() != (site, day))
        .cloned()
        .collect();
    replan_with(db, p, today, disruptions, options).await
}

async fn replan_with(
    db: &Db,
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
        &p,
        &solved.plan,
        Some(&p.plan),
        &locked,
        solved.seconds,
        Some(&live),
    )
    .await
}

/// Publishes the proposal as `user` saw it at `version`: all its teams booked, labelled and
/// told, and the proposal marked published, in one transaction — or nothing.
pub async fn publish_proposal(
    db: &Db,
    tz: chrono_tz::Tz,
    id: i64,
    version: i64,
    user: i64,
) -> ProposalResult<Published> {
    let p = open_at(db, id, version).await?;
    match publish(db, tz, &p.live, &p.plan, Some((id, version, user))).await? {
        Ok(done) => Ok(done),
        Err(Unpublished::Stale) => Err(ProposalError::Stale),
        Err(Unpublished::Changed(what)) => Err(ProposalError::Changed(what)),
        Err(Unpublished::Team(t)) => Err(ProposalError::NotPublished(t)),
    }
}
