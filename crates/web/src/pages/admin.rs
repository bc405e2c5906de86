//! The town admin's pages (overview, logins, audit log) and the appointment desk's supply view.

use askama::Template;
use axum::Router;
use axum::response::Html;
use axum::routing::get;
use chrono::Days;
use vaxloop_core::Role;
use vaxloop_store::org::GroupProgress;
use vaxloop_store::stats::Overview;
use vaxloop_store::{audit, journeys, org, sites, stats, users, vaccines};

use super::{Page, PageCtx, html};
use crate::AppState;
use crate::access::require;
use crate::error::AppResult;
use axum::extract::State;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(overview))
        .route("/admin/users", get(user_list))
        .route("/admin/audit", get(audit_log))
        .route("/desk", get(desk))
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
}

async fn desk(State(state): State<AppState>, page: Page) -> AppResult<Html<String>> {
    require(&state, &page.auth, &[Role::Admin, Role::Desk], "/desk").await?;
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
    let rows = sites::all(&state.db)
        .await?
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
    html(&DeskPage {
        ctx: page.ctx("/desk").await?,
        days,
        rows,
        totals,
        waiting,
    })
}
