//! The solver: a greedy first plan, then large-neighbourhood search until the time limit.
//!
//! **Construction.** Teams are taken in order of their worth per person at their nearest site
//! (so, when doses are short, the green channel and the near go first), each to the best place
//! it fits ([`place::best`]).
//!
//! **Improvement.** Each step frees part of the plan — most often the teams of one site-day and
//! of its neighbouring sites that day, sometimes teams drawn from anywhere — and re-seats the
//! freed teams together with teams left out near there, in a shuffled order of worth. The step is
//! kept when the objective does not fall, and otherwise undone exactly (removals and insertions
//! are inverse). A final pass seats any left-out team that still fits.
//!
//! Every plan returned satisfies the format's hard constraints by construction; `check` (written
//! separately) verifies it.

mod exact;
mod place;
pub(crate) mod state;

use std::time::{Duration, Instant};

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::instance::Instance;
use crate::plan::{Assignment, PLAN_FORMAT, Part, Plan, Trip, Unassigned};
use state::{Model, Placement, State};

#[derive(Debug, Clone)]
pub struct Options {
    /// Wall time for the whole solve, construction included.
    pub time_limit: Duration,
    /// Stop after this many improvement steps (for reproducible runs); none = until the limit.
    pub max_steps: Option<u64>,
    pub seed: u64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            time_limit: Duration::from_secs(5),
            max_steps: None,
            seed: 1,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Solved {
    pub plan: Plan,
    pub objective: i64,
    pub scheduled_teams: usize,
    pub scheduled_people: u64,
    /// Seconds to the first complete plan (the greedy one).
    pub first_plan_seconds: f64,
    pub first_objective: i64,
    pub seconds: f64,
    pub steps: u64,
    /// With a start plan: teams it placed that are now elsewhere or left out.
    pub moved: Option<usize>,
}

/// Plans `instance` within `options.time_limit`.
pub fn solve(instance: &Instance, options: &Options) -> Solved {
    solve_from(instance, None, options)
}

/// Where a solve starts: a previous plan, and which of its teams must stay where they are.
pub struct Start<'a> {
    pub plan: &'a Plan,
    /// Teams (by id) that keep their place in `plan`, if it still fits; the search moves none
    /// of them. Every other team of `plan` starts where it was and may be moved.
    pub locked: &'a dyn Fn(&str) -> bool,
}

/// Re-plans after a change (a delivery short, a site closed): every team of `previous` whose
/// place still fits keeps it, and only the teams that lost theirs, or had none, are planned
/// again — the fewest moves that seat what can be seated around the rest.
pub fn replan(instance: &Instance, previous: &Plan, options: &Options) -> Solved {
    solve_from(
        instance,
        Some(Start {
            plan: previous,
            locked: &|_| true,
        }),
        options,
    )
}

/// Plans `instance`, from `start` when given.
pub fn solve_from(instance: &Instance, start: Option<Start>, options: &Options) -> Solved {
    let started = Instant::now();
    let m = Model::new(instance);
    let mut st = State::new(&m);
    let classes: Vec<Vec<(i64, u32, bool)>> =
        (0..m.teams()).map(|t| place::classes(&m, t)).collect();
    let worth = |t: usize| -> f64 {
        classes[t].first().map_or(0.0, |c| c.0 as f64) / f64::from(instance.teams[t].size)
    };
    let mut order: Vec<usize> = (0..m.teams()).collect();
    order.sort_by(|&a, &b| {
        worth(b)
            .total_cmp(&worth(a))
            .then(instance.teams[b].size.cmp(&instance.teams[a].size))
            .then(a.cmp(&b))
    });
    let mut locked = vec![false; m.teams()];
    let before = start.as_ref().map(|s| begin(&m, &mut st, s, &mut locked));
    for &t in &order {
        if st.placed[t].is_none()
            && let Some(p) = place::best(&m, &st, t, &classes[t])
        {
            st.place(&m, t, p);
        }
    }
    let first_plan_seconds = started.elapsed().as_secs_f64();
    let first_objective = st.objective;

    let steps = improve(&m, &mut st, &classes, &worth, &locked, options, started);
    // Anyone left out who still fits.
    for &t in &order {
        if st.placed[t].is_none()
            && let Some(p) = place::best(&m, &st, t, &classes[t])
        {
            st.place(&m, t, p);
        }
    }
    // Teams still exactly where the start plan had them keep its buses.
    let mut prior = vec![None; m.teams()];
    if let (Some(start), Some(before)) = (&start, &before) {
        let team_at: std::collections::HashMap<&str, usize> = instance
            .teams
            .iter()
            .enumerate()
            .map(|(i, t)| (t.id.as_str(), i))
            .collect();
        for a in &start.plan.assignments {
            if let Some(&t) = team_at.get(a.team.as_str())
                && before[t].is_some()
                && before[t] == st.placed[t]
            {
                prior[t] = Some(a.trips.iter().map(|x| (x.part, x.bus, x.people)).collect());
            }
        }
    }
    let plan = to_plan(&m, &st, &classes, &prior);
    let scheduled_teams = st.placed.iter().filter(|p| p.is_some()).count();
    let scheduled_people = st
        .placed
        .iter()
        .zip(&instance.teams)
        .filter(|(p, _)| p.is_some())
        .map(|(_, t)| u64::from(t.size))
        .sum();
    // Teams placed before that are now elsewhere or left out.
    let moved = before.map(|before| {
        before
            .iter()
            .zip(&st.placed)
            .filter(|(b, now)| b.is_some() && b.as_ref() != now.as_ref())
            .count()
    });
    Solved {
        plan,
        objective: st.objective,
        scheduled_teams,
        scheduled_people,
        first_plan_seconds,
        first_objective,
        seconds: started.elapsed().as_secs_f64(),
        steps,
        moved,
    }
}

/// Why a team cannot go where the desk put it by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MoveRefusal {
    #[error("there is no such team in the instance")]
    UnknownTeam,
    #[error("there is no such site in the instance")]
    UnknownSite,
    #[error("the day or the slot is outside the planning horizon")]
    OutsideHorizon,
    #[error("the site does not serve the team's unit")]
    NotServed,
    #[error("the team cannot come on that day")]
    DayNotAllowed,
    #[error("the slot is outside the team's hard time window")]
    OutsideWindow,
    #[error("the site has {free} doses left that day, the team needs {needed}")]
    NoDoses { free: u32, needed: u32 },
    #[error("the slots from there have {free} free places, the team needs {needed}")]
    NoRoom { free: u32, needed: u32 },
    #[error("no shuttle bus is free at that time")]
    NoBus,
}

/// Moves one team of `plan` by hand to start in slot `slot` of day `day` at site `site` (a site
/// id), split over the following slots where it may be; every other team keeps its place and its
/// buses. Refused, with the reason, when the team does not fit there around the others.
pub fn place_team(
    instance: &Instance,
    plan: &Plan,
    team: &str,
    site: &str,
    day: usize,
    slot: usize,
) -> Result<Solved, MoveRefusal> {
    let started = Instant::now();
    let m = Model::new(instance);
    let t = (instance.teams.iter())
        .position(|x| x.id == team)
        .ok_or(MoveRefusal::UnknownTeam)?;
    let s = (instance.sites.iter())
        .position(|x| x.id == site)
        .ok_or(MoveRefusal::UnknownSite)?;
    if day >= m.days || slot >= m.slots {
        return Err(MoveRefusal::OutsideHorizon);
    }
    let the_team = &instance.teams[t];
    if !instance.serves(s, t) {
        return Err(MoveRefusal::NotServed);
    }
    if !instance.allows_day(t, day) {
        return Err(MoveRefusal::DayNotAllowed);
    }
    if the_team.hard_window && !m.in_window[t * m.slots + slot] {
        return Err(MoveRefusal::OutsideWindow);
    }
    let others = Plan {
        assignments: (plan.assignments.iter())
            .filter(|a| a.team != team)
            .cloned()
            .collect(),
        ..plan.clone()
    };
    let mut st = State::new(&m);
    let mut locked = vec![false; m.teams()];
    let before = begin(
        &m,
        &mut st,
        &Start {
            plan: &others,
            locked: &|_| true,
        },
        &mut locked,
    );
    let free_doses = st.doses[m.site_day(s, day)];
    if free_doses < the_team.size {
        return Err(MoveRefusal::NoDoses {
            free: free_doses,
            needed: the_team.size,
        });
    }
    let Some(parts) = place::parts(&m, &st, t, s, day, slot) else {
        let free = (slot..m.slots.min(slot + the_team.max_parts as usize))
            .map(|k| st.cap[m.slot_index(s, day, k)])
            .take_while(|&c| c > 0)
            .sum();
        return Err(MoveRefusal::NoRoom {
            free,
            needed: the_team.size,
        });
    };
    if !place::buses_fit(&m, &st, t, s, day, slot, &parts) {
        return Err(MoveRefusal::NoBus);
    }
    let p = Placement {
        site: s as u32,
        day: day as u32,
        first: slot as u32,
        parts,
        miss: !m.in_window[t * m.slots + slot],
    };
    st.place(&m, t, p);
    // Everyone else keeps their buses; the moved team takes what is free.
    let mut prior = vec![None; m.teams()];
    let team_at: std::collections::HashMap<&str, usize> = (instance.teams.iter())
        .enumerate()
        .map(|(i, x)| (x.id.as_str(), i))
        .collect();
    for a in &others.assignments {
        if let Some(&o) = team_at.get(a.team.as_str())
            && before[o].is_some()
            && before[o] == st.placed[o]
        {
            prior[o] = Some(a.trips.iter().map(|x| (x.part, x.bus, x.people)).collect());
        }
    }
    let classes: Vec<Vec<(i64, u32, bool)>> =
        (0..m.teams()).map(|t| place::classes(&m, t)).collect();
    let new_plan = to_plan(&m, &st, &classes, &prior);
    let moved = diff(plan, &new_plan)
        .iter()
        .filter(|c| c.before.is_some())
        .count();
    Ok(Solved {
        scheduled_teams: st.placed.iter().filter(|p| p.is_some()).count(),
        scheduled_people: (st.placed.iter().zip(&instance.teams))
            .filter(|(p, _)| p.is_some())
            .map(|(_, x)| u64::from(x.size))
            .sum(),
        plan: new_plan,
        objective: st.objective,
        first_plan_seconds: 0.0,
        first_objective: st.objective,
        seconds: started.elapsed().as_secs_f64(),
        steps: 0,
        moved: Some(moved),
    })
}

/// Where a team is in a plan: site id, day and first slot.
pub type Place = (String, usize, usize);

/// A team whose place differs between two plans: `None` is "left out".
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Change {
    pub team: String,
    pub before: Option<Place>,
    pub after: Option<Place>,
}

/// The teams whose place (site, day, first slot) differs between `before` and `after`, in
/// team order of `after` then `before`. Buses renumbered alone are not a change.
pub fn diff(before: &Plan, after: &Plan) -> Vec<Change> {
    fn places(plan: &Plan) -> Vec<(&str, Option<Place>)> {
        let mut out: Vec<(&str, Option<Place>)> = (plan.assignments.iter())
            .map(|a| {
                let first = a.parts.first().map_or(0, |p| p.slot);
                (a.team.as_str(), Some((a.site.clone(), a.day, first)))
            })
            .collect();
        out.extend(plan.unassigned.iter().map(|u| (u.team.as_str(), None)));
        out
    }
    let was: std::collections::HashMap<&str, Option<Place>> = places(before).into_iter().collect();
    let now = places(after);
    let mut out: Vec<Change> = Vec::new();
    for (team, after) in &now {
        let before = was.get(team).cloned().flatten();
        if &before != after {
            out.push(Change {
                team: team.to_string(),
                before,
                after: after.clone(),
            });
        }
    }
    let seen: std::collections::HashSet<&str> = now.iter().map(|x| x.0).collect();
    for (team, before) in places(before) {
        if !seen.contains(team) && before.is_some() {
            out.push(Change {
                team: team.to_string(),
                before,
                after: None,
            });
        }
    }
    out
}

/// Seats the start plan's teams where they were, as far as their places still fit; marks the
/// locked ones. Returns where each team was in the start plan.
fn begin(m: &Model, st: &mut State, start: &Start, locked: &mut [bool]) -> Vec<Option<Placement>> {
    let team_at: std::collections::HashMap<&str, usize> = m
        .inst
        .teams
        .iter()
        .enumerate()
        .map(|(i, t)| (t.id.as_str(), i))
        .collect();
    let site_at: std::collections::HashMap<&str, usize> = m
        .inst
        .sites
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    let mut before = vec![None; m.teams()];
    for a in &start.plan.assignments {
        let (Some(&t), Some(&s)) = (team_at.get(a.team.as_str()), site_at.get(a.site.as_str()))
        else {
            continue;
        };
        let Some(first) = a.parts.first().map(|p| p.slot) else {
            continue;
        };
        if before[t].is_some()
            || a.parts.iter().enumerate().any(|(i, p)| p.slot != first + i)
            || first >= m.slots
        {
            continue;
        }
        let p = Placement {
            site: s as u32,
            day: a.day as u32,
            first: first as u32,
            parts: a.parts.iter().map(|p| p.people).collect(),
            miss: !m.in_window[t * m.slots + first],
        };
        before[t] = Some(p.clone());
        if place::fits(m, st, t, &p) {
            st.place(m, t, p);
            locked[t] = (start.locked)(&a.team);
        }
    }
    before
}

/// Neighbourhoods of at most this many teams may be re-seated exactly.
const EXACT_TEAMS: usize = 8;
/// How far one exact re-seating may search.
const EXACT_NODES: u64 = 2_000;
/// How far the exact search of a whole small instance may go.
const EXACT_NODES_SMALL: u64 = 20_000_000;

/// Large-neighbourhood search; returns the number of steps taken.
fn improve(
    m: &Model,
    st: &mut State,
    classes: &[Vec<(i64, u32, bool)>],
    worth: &dyn Fn(usize) -> f64,
    locked: &[bool],
    options: &Options,
    started: Instant,
) -> u64 {
    if m.teams() == 0 || m.sites == 0 {
        return 0;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let near = sites_by_distance(m);
    // Teams whose best class is at each site: the candidates a neighbourhood re-seats.
    let mut fans: Vec<Vec<usize>> = vec![Vec::new(); m.sites];
    for (t, c) in classes.iter().enumerate() {
        if let Some(&(_, s, _)) = c.first() {
            fans[s as usize].push(t);
        }
    }
    // The best plan seen, kept only while the search is away from it (none: the current plan
    // is the best seen).
    let mut best: Option<(i64, Vec<Option<Placement>>)> = None;
    // A worse step of 2% of an average team's worth is kept with probability 1/e at the start.
    let t0 = 0.02
        * classes
            .iter()
            .filter_map(|c| c.first())
            .map(|c| c.0 as f64)
            .sum::<f64>()
        / m.teams() as f64;
    let mut steps = 0u64;
    let mut step = Step::default();
    loop {
        if options.max_steps.is_some_and(|n| steps >= n) || started.elapsed() >= options.time_limit
        {
            if let Some((_, plan)) = best {
                restore(m, st, plan.into_iter().enumerate());
            }
            return steps;
        }
        steps += 1;
        step.freed.clear();
        step.undo.clear();
        step.seated.clear();
        let before = st.objective;

        let s = rng.random_range(0..m.sites);
        let d = rng.random_range(0..m.days);
        let reach = 1 + rng.random_range(0..3.min(m.sites));
        let share = rng.random_range(0.2..0.8);
        if steps == 1 && m.teams() <= EXACT_TEAMS && !locked.contains(&true) {
            // A small instance is solved exactly: everyone is freed and re-seated by an
            // exhaustive search, with room to finish.
            if solve_small(m, st, classes, &mut step) {
                // Nothing better exists: the search is over.
                return steps;
            }
            continue;
        }
        let around = Around {
            near: &near[s],
            fans: &fans,
            day: d,
            reach,
            share,
        };
        step.free(m, st, &mut rng, &around, locked);
        if step.freed.is_empty() {
            continue;
        }
        step.reseat(m, st, &mut rng, classes, worth);
        // Simulated annealing: a worse plan is kept with probability e^(Δ/T), T falling to 0
        // over the run, so the search can cross a valley to a better plan; the best plan seen
        // is kept aside and is what the search returns.
        let progress = match options.max_steps {
            Some(n) => steps as f64 / n as f64,
            None => started.elapsed().as_secs_f64() / options.time_limit.as_secs_f64(),
        }
        .min(1.0);
        // Four cooling cycles, each from a lower start.
        let temperature = t0 * (1.0 - progress) * (1.0 - (progress * 4.0).fract());
        let delta = (st.objective - before) as f64;
        let keep = delta >= 0.0
            || (temperature > 0.0 && rng.random_bool((delta / temperature).exp().min(1.0)));
        if keep && delta < 0.0 && best.is_none() {
            // Leaving the best plan seen: keep a copy of it first.
            best = Some((before, step.plan_before(st)));
        }
        if keep && best.as_ref().is_some_and(|(v, _)| st.objective > *v) {
            best = None;
        }
        if !keep {
            step.take_back(m, st);
            debug_assert_eq!(st.objective, before);
        }
    }
}

/// For each site, every site by distance from it (itself first): neighbourhoods are near sites.
fn sites_by_distance(m: &Model) -> Vec<Vec<usize>> {
    (0..m.sites)
        .map(|s| {
            let here = &m.inst.sites[s];
            let mut by: Vec<usize> = (0..m.sites).collect();
            by.sort_by(|&a, &b| {
                let da = (m.inst.sites[a].x_km - here.x_km).hypot(m.inst.sites[a].y_km - here.y_km);
                let db = (m.inst.sites[b].x_km - here.x_km).hypot(m.inst.sites[b].y_km - here.y_km);
                da.total_cmp(&db)
            });
            by
        })
        .collect()
}

/// Puts `plan` in place of whatever is placed now.
fn restore(m: &Model, st: &mut State, plan: impl Iterator<Item = (usize, Option<Placement>)>) {
    for t in 0..m.teams() {
        st.remove(m, t);
    }
    for (t, p) in plan {
        if let Some(p) = p {
            st.place(m, t, p);
        }
    }
}

/// Frees every team and re-seats them by an exhaustive search; true when that proved nothing
/// better exists. A worse result than before is taken back.
fn solve_small(
    m: &Model,
    st: &mut State,
    classes: &[Vec<(i64, u32, bool)>],
    step: &mut Step,
) -> bool {
    let before = st.objective;
    let all: Vec<usize> = (0..m.teams()).collect();
    for &t in &all {
        if let Some(p) = st.remove(m, t) {
            step.undo.push((t, Some(p)));
        }
    }
    let proven = exact::repair(m, st, &all, classes, EXACT_NODES_SMALL);
    if !proven && st.objective < before {
        restore(m, st, step.undo.drain(..));
    }
    proven
}

/// Where a step's neighbourhood lies: the sites near the one drawn, the teams that would rather
/// be at each site, the day drawn, how many sites and what share of their teams.
struct Around<'a> {
    near: &'a [usize],
    fans: &'a [Vec<usize>],
    day: usize,
    reach: usize,
    share: f64,
}

/// One step of the search: the teams it freed, their places before, and the teams it seated.
#[derive(Default)]
struct Step {
    freed: Vec<usize>,
    undo: Vec<(usize, Option<Placement>)>,
    seated: Vec<usize>,
}

impl Step {
    /// Frees a neighbourhood (usually the teams of a few neighbouring sites on one day, or every
    /// day, and the teams that would rather be there; sometimes a few teams anywhere), locked
    /// teams excepted.
    fn free(
        &mut self,
        m: &Model,
        st: &mut State,
        rng: &mut ChaCha8Rng,
        around: &Around,
        locked: &[bool],
    ) {
        if rng.random_bool(0.85) {
            let all_days = rng.random_bool(0.2);
            for &n in around.near.iter().take(around.reach) {
                for (t, p) in st.placed.iter().enumerate() {
                    if let Some(p) = p
                        && p.site as usize == n
                        && (all_days || p.day as usize == around.day)
                        && rng.random_bool(around.share)
                    {
                        self.freed.push(t);
                    }
                }
                let waiting = around.fans[n].iter().copied();
                self.freed
                    .extend(waiting.filter(|&t| st.placed[t].is_none()));
            }
        } else {
            let n = 2 + rng.random_range(0..(m.teams() / 20).clamp(1, 40));
            for _ in 0..n {
                self.freed.push(rng.random_range(0..m.teams()));
            }
            self.freed.sort_unstable();
            self.freed.dedup();
        }
        self.freed.retain(|&t| !locked[t]);
        for &t in &self.freed {
            if let Some(p) = st.remove(m, t) {
                self.undo.push((t, Some(p)));
            }
        }
    }

    /// Seats the freed teams again: by worth with noise (so each step tries another order),
    /// sometimes shuffled, sometimes by an exact search; some take their second or third best
    /// place, some a scattered one.
    fn reseat(
        &mut self,
        m: &Model,
        st: &mut State,
        rng: &mut ChaCha8Rng,
        classes: &[Vec<(i64, u32, bool)>],
        worth: &dyn Fn(usize) -> f64,
    ) {
        let noise = rng.random_range(0.0..0.15);
        let mut keyed: Vec<(f64, usize)> = (self.freed.iter())
            .map(|&t| (worth(t) * (1.0 + rng.random_range(-noise..=noise)), t))
            .collect();
        keyed.sort_by(|a, b| b.0.total_cmp(&a.0));
        if rng.random_bool(0.1) {
            keyed.shuffle(rng);
        }
        if self.freed.len() <= EXACT_TEAMS && rng.random_bool(0.2) {
            exact::repair(m, st, &self.freed, classes, EXACT_NODES);
            let seated = self
                .freed
                .iter()
                .copied()
                .filter(|&t| st.placed[t].is_some());
            self.seated.extend(seated);
            keyed.clear();
        }
        let detour = rng.random_range(0.0..0.3);
        let scatter = rng.random_range(0.0..0.3);
        for &(_, t) in &keyed {
            let skip = if rng.random_bool(detour) {
                rng.random_range(1..=2)
            } else {
                0
            };
            let shake = rng.random_bool(scatter).then_some(&mut *rng);
            if let Some(p) = place::nth_best(m, st, t, &classes[t], skip, shake) {
                st.place(m, t, p);
                self.seated.push(t);
            }
        }
    }

    /// The plan as it was before this step.
    fn plan_before(&self, st: &State) -> Vec<Option<Placement>> {
        let mut then = st.placed.clone();
        for &t in &self.seated {
            then[t] = None;
        }
        for (t, p) in &self.undo {
            then[*t] = p.clone();
        }
        then
    }

    /// Takes the step back: the seated teams out, the freed ones where they were.
    fn take_back(&mut self, m: &Model, st: &mut State) {
        for &t in self.seated.iter().rev() {
            st.remove(m, t);
        }
        for (t, p) in self.undo.drain(..).rev() {
            if let Some(p) = p {
                st.place(m, t, p);
            }
        }
    }
}

/// The plan file for the state, with a reason for each team left out.
fn to_plan(
    m: &Model,
    st: &State,
    classes: &[Vec<(i64, u32, bool)>],
    prior: &[Option<Vec<state::NamedTrip>>],
) -> Plan {
    let buses = st.bus_numbers(m, prior);
    let mut assignments = Vec::new();
    let mut unassigned = Vec::new();
    for (t, team) in m.inst.teams.iter().enumerate() {
        match &st.placed[t] {
            Some(p) => assignments.push(Assignment {
                team: team.id.clone(),
                site: m.inst.sites[p.site as usize].id.clone(),
                day: p.day as usize,
                parts: p
                    .parts
                    .iter()
                    .enumerate()
                    .map(|(i, &people)| Part {
                        slot: p.first as usize + i,
                        people,
                    })
                    .collect(),
                trips: buses[t]
                    .iter()
                    .map(|&(part, bus, people)| Trip { bus, part, people })
                    .collect(),
            }),
            None => unassigned.push(Unassigned {
                team: team.id.clone(),
                reason: why_not(m, st, t, &classes[t]).into(),
            }),
        }
    }
    Plan {
        format: PLAN_FORMAT.into(),
        instance: m.inst.name.clone(),
        assignments,
        unassigned,
    }
}

/// Why team `t` has no place, in the plan's final state.
/// Why a team is left out, as the plan file says it, with a stable code for readers who show
/// it in another language.
pub const UNPLACED_REASONS: [(&str, &str); 5] = [
    ("too_far", "every site is too far to be worth the trip"),
    ("no_doses", "no doses left on its days"),
    (
        "no_room",
        "no slot with room where doses are left on its days",
    ),
    ("no_bus", "no shuttle bus free when there is room"),
    ("no_fit", "no place left that fits"),
];

/// The code of a left-out team's reason (see [`UNPLACED_REASONS`]).
pub fn unplaced_code(reason: &str) -> Option<&'static str> {
    UNPLACED_REASONS
        .iter()
        .find(|(_, text)| *text == reason)
        .map(|(code, _)| *code)
}

fn why_not(m: &Model, st: &State, t: usize, classes: &[(i64, u32, bool)]) -> &'static str {
    let team = &m.inst.teams[t];
    let [too_far, no_doses, no_room, no_bus, no_fit] = UNPLACED_REASONS.map(|r| r.1);
    if classes.is_empty() {
        return too_far;
    }
    let days: Vec<usize> = (0..m.days).filter(|&d| m.inst.allows_day(t, d)).collect();
    let sites: Vec<usize> = classes.iter().map(|c| c.1 as usize).collect();
    let doses = sites.iter().any(|&s| {
        days.iter()
            .any(|&d| st.doses[m.site_day(s, d)] >= team.size)
    });
    if !doses {
        return no_doses;
    }
    let room = sites.iter().any(|&s| {
        days.iter().any(|&d| {
            st.doses[m.site_day(s, d)] >= team.size
                && (0..m.slots).any(|k| {
                    (!team.hard_window || m.in_window[t * m.slots + k]) && {
                        let free: u32 = (k..m.slots.min(k + team.max_parts as usize))
                            .map(|k| st.cap[m.slot_index(s, d, k)])
                            .take_while(|&c| c > 0)
                            .sum();
                        free >= team.size
                    }
                })
        })
    });
    if !room {
        return no_room;
    }
    if team.bus {
        return no_bus;
    }
    no_fit
}
