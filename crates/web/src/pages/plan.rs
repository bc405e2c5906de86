//! The desk's planning page: run the team planner for the next three days on live data, see the
//! proposal per site-day (a timeline of its slots) and per unit, move teams by hand and lock
//! them, re-run around the locks, refresh on today's data after a delivery fell short or a site
//! closed (the difference shown), and publish — every team booked, labelled and told at once.
//! Every action is audited and conditional on the version the desk member saw.

use std::collections::HashMap;
use vaxloop_core::hhmm;

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use vaxloop_app::org::UnitPrefs;
use vaxloop_app::planning::{Disruption, bus_trips};
use vaxloop_app::proposals::{self, Assignment, Instance, Place, Proposal, ProposalError};

use crate::AppState;
use crate::error::AppResult;
use crate::furniture::{Page, PageCtx, html};
use crate::i18n::Lang;

/// Units listed at once; a filter finds the others.
const UNITS_SHOWN: usize = 25;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/desk/plan", get(show).post(run))
        .route("/desk/plan/{id}/lock", post(lock))
        .route("/desk/plan/{id}/move", post(move_team))
        .route("/desk/plan/{id}/rerun", post(rerun))
        .route("/desk/plan/{id}/refresh", post(refresh))
        .route("/desk/plan/{id}/publish", post(publish))
        .route("/desk/plan/{id}/disrupt", post(disrupt))
        .route("/desk/plan/{id}/undisrupt", post(undisrupt))
}

#[derive(Deserialize, Default)]
struct View {
    /// The day shown on the timeline (its date).
    day: Option<String>,
    /// The site shown on the timeline (its code).
    site: Option<String>,
    /// Filter of the unit list (code or name).
    unit: Option<String>,
    /// The team whose adjust form is open.
    team: Option<String>,
    /// The page of the unit list, from 1.
    upage: Option<usize>,
    /// What was just done, for the notice.
    done: Option<String>,
}

/// A team in the slot of a timeline.
struct Chip {
    team: String,
    /// The team's unit, by name.
    unit: String,
    people: u32,
    bus: bool,
    locked: bool,
    /// One of six pastel backgrounds (`chip-0` … `chip-5`), so neighbours differ.
    colour: usize,
}

struct SlotRow {
    time: String,
    /// Places free in the slot when the proposal was made.
    capacity: u32,
    used: u32,
    chips: Vec<Chip>,
}

struct Cell {
    teams: usize,
    people: u32,
    doses: u32,
}

struct OverviewRow {
    code: String,
    name: String,
    cells: Vec<Cell>,
}

#[derive(Clone)]
struct TeamLine {
    id: String,
    size: u32,
    green: u32,
    /// Site name, date and start, or empty when left out.
    site: String,
    site_code: String,
    date: String,
    time: String,
    /// "07:40 · 3号车 30" per trip.
    buses: Vec<String>,
    needs_bus: bool,
    locked: bool,
    /// Booked already (published earlier).
    booked: bool,
    reason: String,
}

struct UnitBlock {
    name: String,
    code: String,
    /// When its people can come, when set: "Mon Wed · Morning".
    prefs: String,
    teams: Vec<TeamLine>,
    /// The unit's teams the plan leaves out, folded into one line unless the unit is the one
    /// asked for: `(teams, people, the most common reason)`.
    left_out: Option<(usize, u32, String)>,
}

struct ChangeLine {
    team: String,
    before: String,
    after: String,
}

struct Summary {
    id: i64,
    version: i64,
    status: String,
    open: bool,
    made: String,
    seconds: String,
    teams: usize,
    placed: usize,
    people: u64,
    people_placed: u64,
    green: u64,
    green_placed: u64,
    locked: usize,
    valid: bool,
    violations: Vec<String>,
    changes: Vec<ChangeLine>,
    /// Published teams this plan would move or cancel.
    booked_changes: Vec<ChangeLine>,
    /// `(site code, site name, date, what)` recorded on the plan.
    disruptions: Vec<(String, String, String, String)>,
    dates: Vec<String>,
    overview: Vec<OverviewRow>,
    /// The timeline's site-day.
    site_code: String,
    site_name: String,
    date: String,
    timeline: Vec<SlotRow>,
    units: Vec<UnitBlock>,
    units_total: usize,
    /// The unit list's page and pages.
    upage: usize,
    upages: usize,
    /// Units none of whose days is in the plan: `(name, people waiting)`.
    deferred: Vec<(String, usize)>,
    adjust: Option<TeamLine>,
    times: Vec<String>,
}

#[derive(Template)]
#[template(path = "plan/plan.html")]
struct PlanPage {
    ctx: PageCtx,
    notice: Option<String>,
    sites: Vec<(String, String)>,
    unit_filter: String,
    p: Option<Summary>,
}

impl PlanPage {
    /// Page `page` of the unit list, under the same filter.
    fn units_link(&self, page: usize) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        if !self.unit_filter.is_empty() {
            q.append_pair("unit", &self.unit_filter);
        }
        q.append_pair("upage", &page.to_string());
        format!("/desk/plan?{}#teams", q.finish())
    }

    /// "N teams (M people) not placed".
    fn folded(&self, teams: &usize, people: &u32) -> String {
        let people = self.ctx.num(i64::from(*people));
        (self.ctx.lang).tf(
            "plan.left_out_folded",
            &[("n", &teams.to_string()), ("people", &people)],
        )
    }

    fn page_of(&self, page: &usize, pages: &usize) -> String {
        (self.ctx.lang).tf(
            "desk.page_of",
            &[("page", &page.to_string()), ("pages", &pages.to_string())],
        )
    }

    /// Every team of unit `code`, the left-out ones too.
    fn unit_link(code: &str) -> String {
        let q = form_urlencoded::Serializer::new(String::new())
            .append_pair("unit", code)
            .finish();
        format!("/desk/plan?{q}#teams")
    }
}

/// How many chip backgrounds the stylesheet has.
const CHIPS: usize = 6;

/// What the page's lines are written with: the reader's language, the proposal's instance, and
/// the names of its sites and units.
struct Names<'a> {
    lang: Lang,
    inst: &'a Instance,
    sites: &'a HashMap<String, String>,
    /// Unit code → (name, what it said about its days).
    units: &'a HashMap<String, (String, String)>,
}

impl Names<'_> {
    fn site_name(&self, code: &str) -> String {
        self.sites
            .get(code)
            .cloned()
            .unwrap_or_else(|| code.to_string())
    }

    fn time_of(&self, k: usize) -> String {
        hhmm(self.inst.slot_clock(k))
    }

    fn date(&self, d: usize) -> String {
        self.inst.horizon.dates.get(d).cloned().unwrap_or_default()
    }

    /// Where a team is: "site date time", or left out.
    fn place(&self, place: &Option<Place>) -> String {
        match place {
            Some((site, d, k)) => format!(
                "{} {} {}",
                self.site_name(site),
                self.date(*d),
                self.time_of(*k)
            ),
            None => self.lang.t("plan.left_out"),
        }
    }

    /// "07:40 · 3号车 30" for each of team `t`'s bus trips.
    fn bus_lines(&self, t: usize, a: &Assignment) -> Vec<String> {
        let Some(s) = self.inst.sites.iter().position(|s| s.id == a.site) else {
            return vec![];
        };
        bus_trips(self.inst, t, s, a)
            .iter()
            .map(|b| {
                self.lang.tf(
                    "plan.bus_trip",
                    &[
                        ("time", &hhmm(b.departs_min)),
                        ("bus", &b.bus.to_string()),
                        ("n", &b.people.to_string()),
                    ],
                )
            })
            .collect()
    }

    fn changes(&self, changes: &[proposals::Change]) -> Vec<ChangeLine> {
        changes
            .iter()
            .map(|c| ChangeLine {
                team: c.team.clone(),
                before: self.place(&c.before),
                after: self.place(&c.after),
            })
            .collect()
    }
}

/// Where each team is, in the order of the instance.
fn team_lines(n: &Names, p: &Proposal) -> Vec<TeamLine> {
    let inst = n.inst;
    let mut lines: Vec<TeamLine> = (inst.teams.iter())
        .map(|t| TeamLine {
            id: t.id.clone(),
            size: t.size,
            green: t.priority_people,
            site: String::new(),
            site_code: String::new(),
            date: String::new(),
            time: String::new(),
            buses: vec![],
            needs_bus: t.bus,
            locked: p.locked.contains(&t.id),
            booked: p.is_booked(&t.id),
            reason: String::new(),
        })
        .collect();
    let team_at: HashMap<&str, usize> = (inst.teams.iter().enumerate())
        .map(|(i, t)| (t.id.as_str(), i))
        .collect();
    for a in &p.plan.assignments {
        let Some(&t) = team_at.get(a.team.as_str()) else {
            continue;
        };
        let first = a.parts.first().map_or(0, |x| x.slot);
        let line = &mut lines[t];
        line.site = n.site_name(&a.site);
        line.site_code = a.site.clone();
        line.date = n.date(a.day);
        line.time = n.time_of(first);
        line.buses = n.bus_lines(t, a);
    }
    for u in &p.plan.unassigned {
        if let Some(&t) = team_at.get(u.team.as_str()) {
            // Said in the reader's language when the planner's reason is one it names.
            lines[t].reason = match vaxloop_app::proposals::unplaced_code(&u.reason) {
                Some(code) => n.lang.t(&format!("plan.why.{code}")),
                None => u.reason.clone(),
            };
        }
    }
    lines
}

/// Per site and day: teams, people and the doses left.
fn overview(n: &Names, p: &Proposal) -> Vec<OverviewRow> {
    let days = n.inst.horizon.dates.len();
    (n.inst.sites.iter())
        .map(|s| OverviewRow {
            code: s.id.clone(),
            name: n.site_name(&s.id),
            cells: (0..days)
                .map(|d| {
                    let here: Vec<_> = (p.plan.assignments.iter())
                        .filter(|a| a.site == s.id && a.day == d)
                        .collect();
                    let people: u32 = (here.iter())
                        .flat_map(|a| a.parts.iter().map(|x| x.people))
                        .sum();
                    Cell {
                        teams: here.len(),
                        people,
                        doses: s.doses.get(d).copied().unwrap_or(0).saturating_sub(people),
                    }
                })
                .collect(),
        })
        .collect()
}

/// The site-day the timeline shows, `(site index, day index)`: the one asked for, else the
/// busiest site of the day.
fn timeline_day(n: &Names, p: &Proposal, view: &View) -> (usize, usize) {
    let inst = n.inst;
    let d = (view.day.as_ref())
        .and_then(|day| inst.horizon.dates.iter().position(|x| x == day))
        .unwrap_or(0);
    let s = (view.site.as_ref())
        .and_then(|c| inst.sites.iter().position(|s| &s.id == c))
        .or_else(|| {
            (0..inst.sites.len()).max_by_key(|&s| {
                (p.plan.assignments.iter())
                    .filter(|a| a.day == d && a.site == inst.sites[s].id)
                    .count()
            })
        })
        .unwrap_or(0);
    (s, d)
}

/// The slots of site `s` on day `d` with the teams in each.
fn timeline(n: &Names, p: &Proposal, s: usize, d: usize) -> Vec<SlotRow> {
    let inst = n.inst;
    let Some(site) = inst.sites.get(s) else {
        return Vec::new();
    };
    let here: Vec<_> = (p.plan.assignments.iter())
        .filter(|a| a.site == site.id && a.day == d)
        .collect();
    let mut rows = Vec::new();
    for k in 0..inst.slots() {
        let capacity = site.slot_capacity.get(d).and_then(|c| c.get(k)).copied();
        let mut chips = Vec::new();
        for a in &here {
            for part in a.parts.iter().filter(|x| x.slot == k) {
                let t = inst.teams.iter().position(|t| t.id == a.team).unwrap_or(0);
                let unit = inst.teams.get(t).map_or("", |x| x.unit.as_str());
                chips.push(Chip {
                    team: a.team.clone(),
                    unit: n.units.get(unit).map_or(unit, |u| u.0.as_str()).to_string(),
                    people: part.people,
                    bus: !a.trips.is_empty(),
                    locked: p.locked.contains(&a.team),
                    colour: t % CHIPS,
                });
            }
        }
        let capacity = capacity.unwrap_or(0);
        if capacity == 0 && chips.is_empty() {
            continue;
        }
        rows.push(SlotRow {
            time: n.time_of(k),
            capacity,
            used: chips.iter().map(|c| c.people).sum(),
            chips,
        });
    }
    rows
}

/// The teams by unit, filtered by the view's unit filter, [`UNITS_SHOWN`] units to the page;
/// with how many units matched, the page shown, and the team whose adjust form is open. A unit's left-out teams
/// are folded into one line (a unit of a large village has dozens), unless the filter names the
/// unit by its code.
fn unit_blocks(
    n: &Names,
    lines: Vec<TeamLine>,
    view: &View,
) -> (Vec<UnitBlock>, usize, usize, Option<TeamLine>) {
    let filter = view.unit.as_deref().unwrap_or("").trim().to_lowercase();
    let mut blocks: Vec<UnitBlock> = Vec::new();
    let mut adjust = None;
    let mut reasons: Vec<HashMap<String, usize>> = Vec::new();
    for (t, line) in lines.into_iter().enumerate() {
        let code = &n.inst.teams[t].unit;
        let chosen = view.team.as_deref() == Some(line.id.as_str());
        if chosen {
            adjust = Some(line.clone());
        }
        let (name, prefs) =
            (n.units.get(code).cloned()).unwrap_or_else(|| (code.clone(), String::new()));
        if !filter.is_empty()
            && !code.to_lowercase().contains(&filter)
            && !name.to_lowercase().contains(&filter)
        {
            continue;
        }
        if blocks.last().is_none_or(|b| &b.code != code) {
            blocks.push(UnitBlock {
                name,
                code: code.clone(),
                prefs,
                teams: Vec::new(),
                left_out: None,
            });
            reasons.push(HashMap::new());
        }
        let (Some(block), Some(why)) = (blocks.last_mut(), reasons.last_mut()) else {
            continue;
        };
        if line.site.is_empty() && !chosen && code.to_lowercase() != filter {
            let folded = block.left_out.get_or_insert((0, 0, String::new()));
            folded.0 += 1;
            folded.1 += line.size;
            *why.entry(line.reason).or_default() += 1;
        } else {
            block.teams.push(line);
        }
    }
    for (block, why) in blocks.iter_mut().zip(reasons) {
        if let Some(folded) = block.left_out.as_mut() {
            let most = why
                .into_iter()
                .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)));
            folded.2 = most.map(|m| m.0).unwrap_or_default();
        }
    }
    let total = blocks.len();
    let page = view
        .upage
        .unwrap_or(1)
        .clamp(1, total.div_ceil(UNITS_SHOWN).max(1));
    let blocks = blocks
        .into_iter()
        .skip((page - 1) * UNITS_SHOWN)
        .take(UNITS_SHOWN)
        .collect();
    (blocks, total, page, adjust)
}

/// The disruptions recorded on the plan: `(site code, site name, date, what)`.
fn disruptions(n: &Names, p: &Proposal) -> Vec<(String, String, String, String)> {
    (p.live.disruptions.iter())
        .map(|d| {
            let (site, day) = d.site_day();
            let what = match d {
                Disruption::Closed { .. } => n.lang.t("plan.closed"),
                Disruption::Doses { doses, .. } => {
                    n.lang.tf("plan.doses_only", &[("n", &doses.to_string())])
                }
            };
            (site.to_string(), n.site_name(site), day.to_string(), what)
        })
        .collect()
}

/// Builds the page's view of proposal `p`.
fn summarise(
    lang: Lang,
    p: &Proposal,
    view: &View,
    sites: &HashMap<String, String>,
    units: &HashMap<String, (String, String)>,
    tz: chrono_tz::Tz,
) -> Summary {
    let inst = &p.live.instance;
    let n = Names {
        lang,
        inst,
        sites,
        units,
    };
    let (s, d) = timeline_day(&n, p, view);
    let (blocks, units_total, upage, adjust) = unit_blocks(&n, team_lines(&n, p), view);
    let totals = p.totals();
    let made = chrono::DateTime::from_timestamp_millis(p.updated_at)
        .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default();
    Summary {
        id: p.id,
        version: p.version,
        status: p.status.clone(),
        open: p.is_open(),
        made,
        seconds: format!("{:.1}", p.seconds),
        teams: totals.teams,
        placed: totals.placed,
        people: totals.people,
        people_placed: totals.people_placed,
        green: totals.green,
        green_placed: totals.green_placed,
        locked: p.locked.len(),
        valid: p.report.valid,
        violations: p.report.violations.iter().take(20).cloned().collect(),
        changes: n.changes(&p.changes()),
        booked_changes: n.changes(&p.booked_changes()),
        disruptions: disruptions(&n, p),
        dates: inst.horizon.dates.clone(),
        overview: overview(&n, p),
        site_code: inst.sites.get(s).map(|x| x.id.clone()).unwrap_or_default(),
        site_name: inst
            .sites
            .get(s)
            .map(|x| n.site_name(&x.id))
            .unwrap_or_default(),
        date: n.date(d),
        timeline: timeline(&n, p, s, d),
        units: blocks,
        units_total,
        upages: units_total.div_ceil(UNITS_SHOWN).max(1),
        upage,
        deferred: (p.live.deferred.iter())
            .map(|(code, count)| {
                let name = units.get(code).map_or(code.as_str(), |u| u.0.as_str());
                (name.to_string(), *count)
            })
            .collect(),
        adjust,
        times: (0..inst.slots()).map(|k| n.time_of(k)).collect(),
    }
}

async fn page(
    state: &AppState,
    page: &Page,
    view: View,
    notice: Option<String>,
    proposal: Option<Proposal>,
) -> AppResult<PlanPage> {
    let board = proposals::board(&state.app, &page.caller(), proposal).await?;
    let (proposal, all_sites, prefs) = (board.proposal, board.sites, board.prefs);
    let site_names: HashMap<String, String> = (all_sites.iter())
        .map(|s| (s.code.clone(), s.name.clone()))
        .collect();
    let lang = page.lang;
    let unit_names: HashMap<String, (String, String)> = (board.units.into_iter())
        .map(|u| {
            let said = prefs
                .get(&u.id)
                .map(|p| prefs_text(lang, p))
                .unwrap_or_default();
            (u.code, (u.name, said))
        })
        .collect();
    let notice = notice.or_else(|| {
        view.done
            .as_deref()
            .filter(|d| DONE.contains(d))
            .map(|d| page.lang.t(&format!("plan.done_{d}")))
    });
    let p = proposal.as_ref().map(|p| {
        summarise(
            page.lang,
            p,
            &view,
            &site_names,
            &unit_names,
            state.config.timezone,
        )
    });
    Ok(PlanPage {
        ctx: page.ctx("/desk").await?,
        notice,
        sites: all_sites.into_iter().map(|s| (s.code, s.name)).collect(),
        unit_filter: view.unit.unwrap_or_default(),
        p,
    })
}

/// A unit's preferences in words: "Mon Wed · Morning (only)".
fn prefs_text(lang: Lang, p: &UnitPrefs) -> String {
    let days = if p.weekdays.is_empty() {
        lang.t("unit.prefs_any_day")
    } else {
        (p.weekdays.chars())
            .filter_map(|c| c.to_digit(10))
            .map(|d| lang.t(&format!("weekday.{}", d.saturating_sub(1))))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut out = format!("{days} · {}", lang.t(&format!("unit.window.{}", p.window)));
    if p.hard_window {
        out.push_str(&format!(" ({})", lang.t("plan.window_only")));
    }
    out
}

/// The notices an action's redirect may ask for.
const DONE: &[&str] = &[
    "run",
    "moved",
    "locked",
    "unlocked",
    "rerun",
    "refreshed",
    "disrupted",
    "undisrupted",
];

async fn show(
    State(state): State<AppState>,
    p: Page,
    Query(view): Query<View>,
) -> AppResult<Html<String>> {
    html(&page(&state, &p, view, None, None).await?)
}

/// Runs the planner on live data: a new proposal for the whole desk.
async fn run(State(state): State<AppState>, p: Page) -> AppResult<Response> {
    let (app, today) = (&state.app, state.app.today());
    proposals::propose(app, &p.caller(), today, proposals::desk_options()).await?;
    Ok(Redirect::to("/desk/plan?done=run").into_response())
}

#[derive(Deserialize)]
struct Versioned {
    version: i64,
}

#[derive(Deserialize)]
struct LockForm {
    version: i64,
    team: String,
    /// "1" locks, anything else unlocks.
    lock: String,
}

#[derive(Deserialize)]
struct MoveForm {
    version: i64,
    team: String,
    site: String,
    /// The date.
    day: String,
    /// `HH:MM`, the start of the grid slot.
    start: String,
}

/// What a refused action shows: the page again, with the reason, as a conflict.
async fn refused(state: &AppState, p: &Page, view: View, e: ProposalError) -> AppResult<Response> {
    let lang = p.lang;
    let notice = match &e {
        ProposalError::Stale => lang.t("plan.stale"),
        ProposalError::Move(m) => crate::messages::plan_move(lang, m),
        ProposalError::Disruption(d) => crate::messages::plan_disruption(lang, d),
        ProposalError::Changed(what) => lang.tf("plan.changed", &[("what", what)]),
        ProposalError::NotPublished(np) => lang.tf(
            "plan.not_published",
            &[
                ("team", &np.team),
                ("reason", &crate::messages::booking(lang, &np.refusal)),
            ],
        ),
        _ => return Err(e.into()),
    };
    let body = html(&page(state, p, view, Some(notice), None).await?)?;
    Ok((StatusCode::CONFLICT, body).into_response())
}

async fn lock(
    State(state): State<AppState>,
    p: Page,
    Path(id): Path<i64>,
    Form(form): Form<LockForm>,
) -> AppResult<Response> {
    let caller = p.caller();
    let on = form.lock == "1";
    match proposals::set_lock(&state.app, &caller, id, form.version, &form.team, on).await {
        Ok(_) => {
            let done = if on { "locked" } else { "unlocked" };
            let to = format!("/desk/plan?done={done}&team={}", urlencoding(&form.team));
            Ok(Redirect::to(&to).into_response())
        }
        Err(e) => refused(&state, &p, View::default(), e).await,
    }
}

/// A team id or code for a query string (they are letters, digits and `-`; anything else is
/// dropped).
fn urlencoding(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

async fn move_team(
    State(state): State<AppState>,
    p: Page,
    Path(id): Path<i64>,
    Form(form): Form<MoveForm>,
) -> AppResult<Response> {
    let caller = p.caller();
    let view = View {
        team: Some(form.team.clone()),
        ..View::default()
    };
    let site = form.site.trim();
    let (day, start) = (form.day.trim(), form.start.trim());
    let (app, v, team) = (&state.app, form.version, &form.team);
    match proposals::move_team_at(app, &caller, id, v, team, site, day, start).await {
        Ok(_) => {
            let to = format!(
                "/desk/plan?done=moved&team={}&site={}&day={}",
                urlencoding(&form.team),
                urlencoding(site),
                urlencoding(day)
            );
            Ok(Redirect::to(&to).into_response())
        }
        Err(e) => refused(&state, &p, view, e).await,
    }
}

async fn rerun(
    State(state): State<AppState>,
    p: Page,
    Path(id): Path<i64>,
    Form(form): Form<Versioned>,
) -> AppResult<Response> {
    let caller = p.caller();
    let options = proposals::desk_options();
    match proposals::rerun(&state.app, &caller, id, form.version, options).await {
        Ok(_) => Ok(Redirect::to("/desk/plan?done=rerun").into_response()),
        Err(e) => refused(&state, &p, View::default(), e).await,
    }
}

async fn refresh(
    State(state): State<AppState>,
    p: Page,
    Path(id): Path<i64>,
    Form(form): Form<Versioned>,
) -> AppResult<Response> {
    let caller = p.caller();
    let (today, options) = (state.app.today(), proposals::desk_options());
    match proposals::refresh(&state.app, &caller, id, form.version, today, options).await {
        Ok(_) => Ok(Redirect::to("/desk/plan?done=refreshed").into_response()),
        Err(e) => refused(&state, &p, View::default(), e).await,
    }
}

async fn publish(
    State(state): State<AppState>,
    p: Page,
    Path(id): Path<i64>,
    Form(form): Form<Versioned>,
) -> AppResult<Response> {
    let caller = p.caller();
    match proposals::publish_proposal(&state.app, &caller, id, form.version).await {
        Ok(done) => {
            let new = done.booked.len() - done.moved.len();
            let to = format!(
                "/desk?published={new}&relocated={}&dropped={}&gone={}",
                done.moved.len(),
                done.cancelled.len(),
                done.gone
            );
            Ok(Redirect::to(&to).into_response())
        }
        Err(e) => refused(&state, &p, View::default(), e).await,
    }
}

#[derive(Deserialize)]
struct DisruptForm {
    version: i64,
    site: String,
    day: String,
    /// `closed` or `doses`.
    kind: String,
    /// With `doses`: the doses that arrive in all.
    #[serde(default)]
    doses: String,
}

/// Records a closure or a short delivery on the plan and re-plans from it.
async fn disrupt(
    State(state): State<AppState>,
    p: Page,
    Path(id): Path<i64>,
    Form(form): Form<DisruptForm>,
) -> AppResult<Response> {
    let caller = p.caller();
    let (site, day) = (form.site.trim().to_string(), form.day.trim().to_string());
    let disruption = match form.kind.as_str() {
        "closed" => Disruption::Closed { site, day },
        "doses" => match form.doses.trim().parse::<i64>() {
            Ok(doses) if doses >= 0 => Disruption::Doses { site, day, doses },
            _ => {
                return Err(crate::error::AppError::BadRequest {
                    field: Some("doses".into()),
                    message: "plan.doses_invalid".into(),
                });
            }
        },
        _ => {
            return Err(crate::error::AppError::BadRequest {
                field: Some("kind".into()),
                message: "plan.kind_invalid".into(),
            });
        }
    };
    let (today, options) = (state.app.today(), proposals::desk_options());
    let (app, v) = (&state.app, form.version);
    match proposals::disrupt(app, &caller, id, v, today, disruption, options).await {
        Ok(_) => Ok(Redirect::to("/desk/plan?done=disrupted").into_response()),
        Err(e) => refused(&state, &p, View::default(), e).await,
    }
}

#[derive(Deserialize)]
struct UndisruptForm {
    version: i64,
    site: String,
    day: String,
}

/// Takes back a disruption recorded on the plan.
async fn undisrupt(
    State(state): State<AppState>,
    p: Page,
    Path(id): Path<i64>,
    Form(form): Form<UndisruptForm>,
) -> AppResult<Response> {
    let caller = p.caller();
    let (today, options) = (state.app.today(), proposals::desk_options());
    let (site, day) = (form.site.trim(), form.day.trim());
    let (app, v) = (&state.app, form.version);
    match proposals::undisrupt(app, &caller, id, v, today, site, day, options).await {
        Ok(_) => Ok(Redirect::to("/desk/plan?done=undisrupted").into_response()),
        Err(e) => refused(&state, &p, View::default(), e).await,
    }
}
