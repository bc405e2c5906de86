//! The town admin's pages (overview, logins, audit log) and the appointment desk's supply view.

use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use vaxloop_app::admin::{self, Overview, TeamRow};
use vaxloop_app::booking::desk::{self, DeskRefusal, Place};
use vaxloop_app::org::GroupProgress;

use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::furniture::{Page, PageCtx, html};
use axum::extract::State;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(overview))
        .route("/admin/users", get(user_list))
        .route("/admin/users/{username}/unlock", post(unlock_login))
        .route("/admin/audit", get(audit_log))
        .route("/desk", get(desk))
        .route("/desk/teams", post(book_team))
        .route("/desk/teams/{code}/cancel", post(cancel_team))
        .route("/desk/teams/{code}/move", post(move_team))
}

#[derive(Template)]
#[template(path = "admin/admin.html")]
struct AdminPage {
    ctx: PageCtx,
    overview: Overview,
    registered: i64,
    groups: Vec<GroupProgress>,
    /// When the figures were counted.
    counted: String,
}

async fn overview(State(state): State<AppState>, page: Page) -> AppResult<Html<String>> {
    let town = admin::overview(&state.app, &page.caller()).await?;
    html(&AdminPage {
        ctx: page.ctx("/admin").await?,
        overview: town.overview,
        registered: town.registered,
        groups: town.groups,
        counted: super::funnel::counted_note(&state, page.lang, town.counted_at),
    })
}

/// A login as the user list shows it.
struct LoginRow {
    username: String,
    display_name: String,
    role: String,
    post: String,
    scope: String,
    locked: bool,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    ctx: PageCtx,
    rows: Vec<LoginRow>,
    /// The login just unlocked.
    unlocked: Option<String>,
}

#[derive(Deserialize)]
struct UnlockedQuery {
    unlocked: Option<String>,
}

/// The admin unlocks a staff login before its lock runs out.
async fn unlock_login(
    State(state): State<AppState>,
    page: Page,
    axum::extract::Path(username): axum::extract::Path<String>,
) -> AppResult<Response> {
    vaxloop_app::auth::unlock(&state.app, &page.caller(), &username).await?;
    let back = format!(
        "/admin/users?unlocked={}",
        form_urlencoded::byte_serialize(username.as_bytes()).collect::<String>()
    );
    Ok(Redirect::to(&back).into_response())
}

async fn user_list(
    State(state): State<AppState>,
    page: Page,
    Query(q): Query<UnlockedQuery>,
) -> AppResult<Html<String>> {
    let lang = page.lang;
    let rows = admin::logins(&state.app, &page.caller())
        .await?
        .into_iter()
        .map(|u| LoginRow {
            username: u.username,
            display_name: u.display_name,
            role: lang.t(&format!("role.{}", u.role)),
            post: u
                .post
                .map(|p| lang.t(&format!("post.{p}")))
                .unwrap_or_default(),
            scope: u.scope.unwrap_or_else(|| lang.t("users.scope_all")),
            locked: u.locked,
        })
        .collect();
    html(&UsersPage {
        ctx: page.ctx("/admin/users").await?,
        rows,
        unlocked: q.unlocked,
    })
}

struct AuditRow {
    at: String,
    actor: String,
    action: String,
    target: String,
    outcome: String,
    reason: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    ctx: PageCtx,
    rows: Vec<AuditRow>,
}

/// An audit entry's target as people read it: what kind of thing, then which (`预约 #3`,
/// `登录 hcl.checkin`); a target of a kind not named here is shown as stored.
fn target_text(lang: crate::i18n::Lang, target: &str) -> String {
    const KINDS: &[&str] = &[
        "api_token",
        "appointment",
        "claim",
        "delivery",
        "group",
        "import",
        "login",
        "lot",
        "person",
        "site",
        "slot",
        "team",
        "unit",
        "user",
        "vaccine",
        "visit",
    ];
    match target.split_once(':') {
        Some((kind, rest)) if KINDS.contains(&kind) => {
            let rest = if rest.chars().all(|c| c.is_ascii_digit()) {
                format!("#{rest}")
            } else {
                rest.replace(':', " ")
            };
            format!("{} {rest}", lang.t(&format!("audit.kind.{kind}")))
        }
        _ => target.to_string(),
    }
}

async fn audit_log(State(state): State<AppState>, page: Page) -> AppResult<Html<String>> {
    let rows = admin::audit_log(&state.app, &page.caller(), 200)
        .await?
        .into_iter()
        .map(|e| AuditRow {
            at: state.config.local_time(e.at),
            actor: e.actor.unwrap_or_else(|| "—".into()),
            action: page.lang.t(&format!("audit.action.{}", e.action)),
            target: target_text(page.lang, &e.target),
            outcome: page.lang.t(&format!("audit.outcome.{}", e.outcome)),
            reason: e.reason.unwrap_or_default(),
            detail: e.detail.unwrap_or_default(),
        })
        .collect();
    html(&AuditPage {
        ctx: page.ctx("/admin/audit").await?,
        rows,
    })
}

/// One site-day on the desk's board.
#[derive(Clone, Copy, Default)]
struct DeskCell {
    allocated: i64,
    capacity: i64,
    booked: i64,
    free: i64,
}

impl DeskCell {
    fn add(&mut self, other: DeskCell) {
        self.allocated += other.allocated;
        self.capacity += other.capacity;
        self.booked += other.booked;
        self.free += other.free;
    }
}

/// One site across the next three days.
struct DeskRow {
    code: String,
    name: String,
    days: Vec<DeskCell>,
}

#[derive(Template)]
#[template(path = "admin/desk.html")]
struct DeskPage {
    ctx: PageCtx,
    days: Vec<String>,
    rows: Vec<DeskRow>,
    totals: Vec<DeskCell>,
    waiting: Vec<(String, String, i64)>,
    /// Sites by `(code, name)`, for the team form.
    sites: Vec<(String, String)>,
    /// A page of the teams booked into the three days, as the filter asks.
    teams: Vec<TeamLine>,
    filter: admin::TeamFilter,
    teams_total: i64,
    pages: i64,
    /// The team form's start choices, for its first site and day: `(HH:MM, label)`.
    starts: Vec<(String, String)>,
    notice: Option<String>,
}

impl DeskPage {
    /// Whether the filter names this site, day or state.
    fn picked(&self, what: &str, value: &str) -> bool {
        let f = &self.filter;
        match what {
            "site" => f.site.as_deref() == Some(value),
            "day" => f.day.as_deref() == Some(value),
            _ => f.state.as_deref().unwrap_or("booked") == value,
        }
    }

    /// This page of teams under another page number, the filter kept.
    fn page_link(&self, page: i64) -> String {
        let f = &self.filter;
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("page", &page.to_string());
        for (k, v) in [
            ("site", &f.site),
            ("day", &f.day),
            ("q", &f.text),
            ("state", &f.state),
        ] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                q.append_pair(k, v);
            }
        }
        format!("/desk?{}#teams", q.finish())
    }

    /// The largest number the team form's size field takes: the most waiting in any unit.
    fn most_waiting(&self) -> i64 {
        self.waiting
            .iter()
            .map(|w| w.2)
            .max()
            .unwrap_or(1)
            .clamp(1, 500)
    }
}

/// A team as the desk sees it, with its first slot's start as `HH:MM` and its colour label.
struct TeamLine {
    team: TeamRow,
    starts: String,
    label: String,
}

#[derive(Deserialize, Default)]
struct DeskQuery {
    /// The code of a team just booked.
    team: Option<String>,
    /// The code of a team just moved, or just cancelled.
    moved: Option<String>,
    cancelled: Option<String>,
    /// Teams just published from the plan: new, moved and cancelled.
    published: Option<usize>,
    relocated: Option<usize>,
    /// People the published plan counted who were no longer waiting.
    gone: Option<usize>,
    dropped: Option<usize>,
    /// The teams' filter and page.
    site: Option<String>,
    day: Option<String>,
    q: Option<String>,
    state: Option<String>,
    page: Option<i64>,
}

/// A team code as the desk's own links carry it, or nothing.
fn team_code(code: Option<String>) -> Option<String> {
    code.filter(|c| c.len() <= 32 && c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-'))
}

async fn desk(
    State(state): State<AppState>,
    page: Page,
    Query(q): Query<DeskQuery>,
) -> AppResult<Html<String>> {
    let notice = team_code(q.team)
        .map(|c| page.lang.tf("desk.team_booked", &[("team", &c)]))
        .or_else(|| team_code(q.moved).map(|c| page.lang.tf("desk.team_moved", &[("team", &c)])))
        .or_else(|| {
            team_code(q.cancelled).map(|c| page.lang.tf("desk.team_cancelled", &[("team", &c)]))
        })
        .or_else(|| {
            q.published.map(|n| {
                let (moved, dropped) = (q.relocated.unwrap_or(0), q.dropped.unwrap_or(0));
                let mut said = page.lang.tf(
                    "desk.published",
                    &[
                        ("n", &n.to_string()),
                        ("moved", &moved.to_string()),
                        ("dropped", &dropped.to_string()),
                    ],
                );
                if let Some(gone) = q.gone.filter(|&g| g > 0) {
                    said.push(' ');
                    said.push_str(
                        &page
                            .lang
                            .tf("desk.published_gone", &[("gone", &gone.to_string())]),
                    );
                }
                said
            })
        });
    let filter = admin::TeamFilter {
        site: q.site.filter(|s| !s.is_empty()),
        day: q.day.filter(|d| !d.is_empty()),
        text: q.q.map(|t| t.chars().take(64).collect()),
        state: q
            .state
            .filter(|s| ["booked", "cancelled", "all"].contains(&s.as_str())),
        page: q.page.unwrap_or(1).clamp(1, 10_000),
    };
    html(&desk_page(&state, &page, notice, filter).await?)
}

async fn desk_page(
    state: &AppState,
    page: &Page,
    notice: Option<String>,
    filter: admin::TeamFilter,
) -> AppResult<DeskPage> {
    let caller = page.caller();
    let board = admin::desk_board(&state.app, &caller, &filter).await?;
    let starts = match (board.sites.first(), board.days.first()) {
        (Some(site), Some(day)) => {
            let slots = admin::slot_starts(&state.app, &caller, &site.code, day).await?;
            super::desk_teams::start_choices(page.lang, &slots)
        }
        _ => Vec::new(),
    };
    let days = board.days;
    let supply = board.supply;
    let mut totals = vec![DeskCell::default(); days.len()];
    let site_list = (board.sites.iter())
        .map(|s| (s.code.clone(), s.name.clone()))
        .collect();
    let rows = board
        .sites
        .into_iter()
        .map(|s| {
            let per_day = days
                .iter()
                .enumerate()
                .map(|(i, day)| {
                    let cell = supply
                        .iter()
                        .find(|x| x.site_id == s.id && &x.day == day)
                        .map(|d| DeskCell {
                            allocated: d.allocated,
                            capacity: d.slot_capacity,
                            booked: d.booked,
                            free: d.free(),
                        })
                        .unwrap_or_default();
                    totals[i].add(cell);
                    cell
                })
                .collect();
            DeskRow {
                code: s.code,
                name: s.name,
                days: per_day,
            }
        })
        .collect();
    let teams = board
        .teams
        .into_iter()
        .map(|team| TeamLine {
            starts: team.starts_min.map(vaxloop_core::hhmm).unwrap_or_default(),
            label: vaxloop_core::Label::from_stored(team.colour, team.number)
                .text(page.lang == crate::i18n::Lang::En),
            team,
        })
        .collect();
    Ok(DeskPage {
        ctx: page.ctx("/desk").await?,
        days,
        rows,
        totals,
        waiting: board.waiting,
        sites: site_list,
        teams,
        filter,
        teams_total: board.teams_total,
        pages: board.pages,
        starts,
        notice,
    })
}

#[derive(Deserialize)]
struct TeamForm {
    unit: String,
    site: String,
    day: String,
    /// `HH:MM`, the first slot's start.
    start: String,
    size: String,
}

fn bad(field: &str, message: &str) -> AppError {
    AppError::BadRequest {
        field: Some(field.into()),
        message: message.into(),
    }
}

/// After a desk action on a team: to the desk with a notice, the form's problem named, or the
/// desk again (409) saying why the booking was refused.
async fn team_done(
    state: &AppState,
    page: &Page,
    result: Result<String, DeskRefusal>,
) -> AppResult<Response> {
    match result {
        Ok(location) => Ok(Redirect::to(&location).into_response()),
        Err(DeskRefusal::UnknownUnit) => Err(bad("unit", "site.unknown_unit")),
        Err(DeskRefusal::UnknownSite) => Err(bad("site", "desk.unknown_site")),
        Err(DeskRefusal::NoSuchSlot) => Err(bad("start", "desk.no_such_slot")),
        Err(DeskRefusal::SizeRange) => Err(bad("size", "desk.size_range")),
        Err(DeskRefusal::TooFewWaiting) => Err(bad("size", "desk.too_few_waiting")),
        Err(DeskRefusal::Booking(refusal)) => {
            let notice = crate::messages::booking(page.lang, &refusal);
            let filter = admin::TeamFilter::default();
            let body = html(&desk_page(state, page, Some(notice), filter).await?)?;
            Ok((StatusCode::CONFLICT, body).into_response())
        }
    }
}

/// The desk books a unit's next `size` waiting people as one team into a site-day from the
/// slot starting at `start`, through consecutive slots if one is not enough — all or nobody.
async fn book_team(
    State(state): State<AppState>,
    page: Page,
    Form(form): Form<TeamForm>,
) -> AppResult<Response> {
    let place = Place {
        site: form.site,
        day: form.day,
        start: form.start,
    };
    let booked = desk::book_team(&state.app, &page.caller(), &form.unit, &place, &form.size)
        .await?
        .map(|team| format!("/desk?team={}", team.code));
    team_done(&state, &page, booked).await
}

/// The desk cancels a whole team: every member's place and dose come back, and they wait to
/// be booked again.
async fn cancel_team(
    State(state): State<AppState>,
    page: Page,
    axum::extract::Path(code): axum::extract::Path<String>,
) -> AppResult<Response> {
    let team = desk::cancel_team(&state.app, &page.caller(), &code).await?;
    Ok(Redirect::to(&format!("/desk?cancelled={}", team.code)).into_response())
}

#[derive(Deserialize)]
struct MoveForm {
    site: String,
    day: String,
    start: String,
}

/// The desk moves a whole team to another start (another slot, day or site): all of it, or —
/// when the new places are not all free — none of it, and the team keeps its old places.
async fn move_team(
    State(state): State<AppState>,
    page: Page,
    axum::extract::Path(code): axum::extract::Path<String>,
    Form(form): Form<MoveForm>,
) -> AppResult<Response> {
    let place = Place {
        site: form.site,
        day: form.day,
        start: form.start,
    };
    let moved = desk::move_team(&state.app, &page.caller(), &code, &place)
        .await?
        .map(|now| format!("/desk?moved={}", now.team.code));
    team_done(&state, &page, moved).await
}
