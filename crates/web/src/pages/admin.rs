//! The town admin's pages (overview, logins, audit log) and the appointment desk's supply view.

use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Days;
use serde::Deserialize;
use vaxloop_core::Role;
use vaxloop_store::org::GroupProgress;
use vaxloop_store::stats::Overview;
use vaxloop_store::{audit, journeys, org, sites, stats, users, vaccines};

use super::{Page, PageCtx, html};
use crate::AppState;
use crate::access::require;
use crate::error::{AppError, AppResult};
use axum::extract::State;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(overview))
        .route("/admin/users", get(user_list))
        .route("/admin/audit", get(audit_log))
        .route("/desk", get(desk))
        .route("/desk/teams", post(book_team))
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    ctx: PageCtx,
    overview: Overview,
    registered: i64,
    groups: Vec<GroupProgress>,
}

async fn overview(State(state): State<AppState>, page: Page) -> AppResult<Html<String>> {
    require(&state, &page.auth, &[Role::Admin], "/admin").await?;
    let overview = stats::overview(&state.db).await?;
    let registered = journeys::state_counts(&state.db, None, None)
        .await?
        .iter()
        .map(|(_, n)| n)
        .sum();
    let groups = org::group_progress(&state.db).await?;
    html(&AdminPage {
        ctx: page.ctx("/admin").await?,
        overview,
        registered,
        groups,
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
#[template(path = "users.html")]
struct UsersPage {
    ctx: PageCtx,
    rows: Vec<LoginRow>,
}

async fn user_list(State(state): State<AppState>, page: Page) -> AppResult<Html<String>> {
    require(&state, &page.auth, &[Role::Admin], "/admin/users").await?;
    let lang = page.lang;
    let groups = org::work_groups(&state.db).await?;
    let units = org::units(&state.db, None).await?;
    let all_sites = sites::all(&state.db).await?;
    let now = vaxloop_store::now_ms();
    let rows = users::list_staff(&state.db)
        .await?
        .into_iter()
        .map(|u| {
            let scope = match u.role {
                Role::GroupLeader => groups
                    .iter()
                    .find(|g| Some(g.id) == u.work_group_id)
                    .map(|g| g.name.clone()),
                Role::UnitContact => units
                    .iter()
                    .find(|x| Some(x.id) == u.unit_id)
                    .map(|x| x.name.clone()),
                Role::SiteStaff => all_sites
                    .iter()
                    .find(|s| Some(s.id) == u.site_id)
                    .map(|s| s.name.clone()),
                _ => None,
            };
            LoginRow {
                username: u.username.clone().unwrap_or_default(),
                display_name: u.display_name.clone(),
                role: lang.t(&format!("role.{}", u.role)),
                post: u
                    .site_post
                    .map(|p| lang.t(&format!("post.{p}")))
                    .unwrap_or_default(),
                scope: scope.unwrap_or_else(|| lang.t("users.scope_all")),
                locked: u.locked_until.is_some_and(|t| t > now),
            }
        })
        .collect();
    html(&UsersPage {
        ctx: page.ctx("/admin/users").await?,
        rows,
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
#[template(path = "audit.html")]
struct AuditPage {
    ctx: PageCtx,
    rows: Vec<AuditRow>,
}

async fn audit_log(State(state): State<AppState>, page: Page) -> AppResult<Html<String>> {
    require(&state, &page.auth, &[Role::Admin], "/admin/audit").await?;
    let rows = audit::recent(&state.db, 200)
        .await?
        .into_iter()
        .map(|e| AuditRow {
            at: state.config.local_time(e.at),
            actor: e.actor.unwrap_or_else(|| "—".into()),
            action: page.lang.t(&format!("audit.action.{}", e.action)),
            target: e.target,
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
#[template(path = "desk.html")]
struct DeskPage {
    ctx: PageCtx,
    days: Vec<String>,
    rows: Vec<DeskRow>,
    totals: Vec<DeskCell>,
    waiting: Vec<(String, String, i64)>,
    /// Sites by `(code, name)`, for the team form.
    sites: Vec<(String, String)>,
    notice: Option<String>,
}

#[derive(Deserialize, Default)]
struct DeskQuery {
    /// The code of a team just booked.
    team: Option<String>,
}

async fn desk(
    State(state): State<AppState>,
    page: Page,
    Query(q): Query<DeskQuery>,
) -> AppResult<Html<String>> {
    require(&state, &page.auth, &[Role::Admin, Role::Desk], "/desk").await?;
    let notice = q
        .team
        .filter(|c| c.len() <= 32 && c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-'))
        .map(|c| page.lang.tf("desk.team_booked", &[("team", &c)]));
    html(&desk_page(&state, &page, notice).await?)
}

async fn desk_page(state: &AppState, page: &Page, notice: Option<String>) -> AppResult<DeskPage> {
    let today = state.config.today();
    let days: Vec<String> = (1..=3)
        .filter_map(|d| today.checked_add_days(Days::new(d)))
        .map(|d| d.to_string())
        .collect();
    let (from, to) = (
        days.first().cloned().unwrap_or_default(),
        days.last().cloned().unwrap_or_default(),
    );
    let supply = vaccines::site_days(&state.db, &from, &to, None).await?;
    let mut totals = vec![DeskCell::default(); days.len()];
    let all_sites = sites::all(&state.db).await?;
    let site_list = all_sites
        .iter()
        .map(|s| (s.code.clone(), s.name.clone()))
        .collect();
    let rows = all_sites
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
    let waiting = journeys::waiting_by_unit(&state.db, 20).await?;
    Ok(DeskPage {
        ctx: page.ctx("/desk").await?,
        days,
        rows,
        totals,
        waiting,
        sites: site_list,
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

/// The desk books a unit's next `size` waiting people as one team into a site-day from the
/// slot starting at `start`, through consecutive slots if one is not enough — all or nobody.
async fn book_team(
    State(state): State<AppState>,
    page: Page,
    Form(form): Form<TeamForm>,
) -> AppResult<Response> {
    let user = require(
        &state,
        &page.auth,
        &[Role::Admin, Role::Desk],
        "/desk/teams",
    )
    .await?;
    let actor = user.id;
    let unit = org::unit_by_code(&state.db, form.unit.trim())
        .await?
        .ok_or_else(|| bad("unit", "site.unknown_unit"))?;
    let site = sites::by_code(&state.db, form.site.trim())
        .await?
        .ok_or_else(|| bad("site", "desk.unknown_site"))?;
    let start = chrono::NaiveTime::parse_from_str(form.start.trim(), "%H:%M")
        .map_err(|_| bad("start", "desk.no_such_slot"))?;
    let start = i64::from(chrono::Timelike::hour(&start) * 60 + chrono::Timelike::minute(&start));
    let slot = vaxloop_store::slots::of_site_day(&state.db, site.id, form.day.trim())
        .await?
        .into_iter()
        .find(|s| s.starts_min == start)
        .ok_or_else(|| bad("start", "desk.no_such_slot"))?;
    let size: i64 = form
        .size
        .trim()
        .parse()
        .ok()
        .filter(|n| (1..=500).contains(n))
        .ok_or_else(|| bad("size", "desk.size_range"))?;
    let people = journeys::waiting_of_unit(&state.db, unit.id, 1, size).await?;
    if (people.len() as i64) < size {
        return Err(bad("size", "desk.too_few_waiting"));
    }
    let booked = vaxloop_app::booking::book_team(
        &state.db,
        state.config.timezone,
        unit.id,
        slot.id,
        &people,
        1,
    )
    .await?;
    match booked {
        Ok(team) => {
            let target = format!(
                "team:{} unit:{} site:{}",
                team.team.code, unit.code, site.code
            );
            let detail = format!("people={} slots={}", people.len(), team.slots.len());
            let entry = audit::Entry {
                actor_user_id: Some(actor),
                action: "book_team",
                target: &target,
                reason: None,
                outcome: audit::Outcome::Ok,
                detail: Some(&detail),
            };
            audit::record(&state.db, &entry, vaxloop_store::now_ms()).await?;
            Ok(Redirect::to(&format!("/desk?team={}", team.team.code)).into_response())
        }
        Err(refusal) => {
            let notice = super::refusal_message(page.lang, &refusal);
            let body = html(&desk_page(&state, &page, Some(notice)).await?)?;
            Ok((StatusCode::CONFLICT, body).into_response())
        }
    }
}
