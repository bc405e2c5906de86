//! Work groups and units: a leader's view of their group, a contact's view of their unit, and the
//! unit roster (masked).

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use vaxloop_core::Role;
use vaxloop_store::notifications;
use vaxloop_store::org::{self, Unit, UnitProgress, WorkGroup};
use vaxloop_store::people::{self, Person};

use super::{Page, PageCtx, html};
use crate::AppState;
use crate::access::{self, can_see_group, can_see_unit, deny, require};
use crate::error::{AppError, AppResult};
use crate::i18n::Lang;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/group", get(my_group))
        .route("/groups/{code}", get(group))
        .route("/unit", get(my_unit))
        .route("/units/{code}", get(unit))
        .route("/units/{code}/inbox/read", post(inbox_read))
        .route("/units/{code}/prefs", post(set_prefs))
}

async fn my_group(State(state): State<AppState>, page: Page) -> AppResult<Response> {
    let user = require(&state, &page.auth, &[Role::GroupLeader], "/group").await?;
    let id = user.work_group_id.ok_or(AppError::NotFound)?;
    let g = org::work_group(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Redirect::to(&format!("/groups/{}", g.code)).into_response())
}

#[derive(Template)]
#[template(path = "group.html")]
struct GroupPage {
    ctx: PageCtx,
    group: WorkGroup,
    units: Vec<UnitProgress>,
    target: i64,
    people: i64,
    registered: i64,
    can_manage: bool,
    is_admin: bool,
}

async fn group(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
) -> AppResult<Html<String>> {
    let user = access::user(&page.auth)?;
    let group = org::work_group_by_code(&state.db, &code).await?;
    // Not-found and not-yours answer alike, so codes cannot be probed.
    let Some(group) = group.filter(|g| can_see_group(user, g.id)) else {
        return Err(deny(&state, Some(user), &format!("/groups/{code}")).await);
    };
    let units = org::unit_progress(&state.db, Some(group.id), None).await?;
    let target = units.iter().map(|u| u.target).sum();
    let people = units.iter().map(|u| u.people).sum();
    let registered = units.iter().map(|u| u.registered).sum();
    let active = if user.role == Role::GroupLeader {
        "/group"
    } else {
        "/admin"
    };
    let can_manage = access::can_manage_group(user, group.id);
    let is_admin = user.role == Role::Admin;
    html(&GroupPage {
        ctx: page.ctx(active).await?,
        group,
        units,
        target,
        people,
        registered,
        can_manage,
        is_admin,
    })
}

async fn my_unit(State(state): State<AppState>, page: Page) -> AppResult<Response> {
    let user = require(&state, &page.auth, &[Role::UnitContact], "/unit").await?;
    let id = user.unit_id.ok_or(AppError::NotFound)?;
    let u = org::unit(&state.db, id).await?.ok_or(AppError::NotFound)?;
    Ok(Redirect::to(&format!("/units/{}", u.code)).into_response())
}

#[derive(Template)]
#[template(path = "unit.html")]
struct UnitPage {
    ctx: PageCtx,
    unit: Unit,
    group: Option<WorkGroup>,
    progress: Option<UnitProgress>,
    contact_phone: String,
    roster: Vec<Person>,
    page: i64,
    pages: i64,
    can_import: bool,
    pending: Vec<Person>,
    registration_link: String,
    can_unmask: bool,
    can_manage: bool,
    /// The unit's inbox: its teams as they were booked, newest first.
    notices: Vec<NoticeView>,
    unread: i64,
    /// The newest notice shown, up to which "mark read" marks.
    newest: i64,
    /// The caller is the unit's own contact, who reads its inbox.
    can_read: bool,
    /// When the unit's people can come, for the planner.
    prefs: vaxloop_store::planning::UnitPrefs,
    /// The unit's own contact, the desk and the admin set them.
    can_set_prefs: bool,
}

impl UnitPage {
    /// Whether weekday `d` (1 = Monday) is one the unit's people can come on.
    fn on(&self, d: &u32) -> bool {
        char::from_digit(*d, 10).is_some_and(|c| self.prefs.weekdays.contains(c))
    }

    /// The weekdays, named, or "any day".
    fn day_names(&self) -> String {
        if self.prefs.weekdays.is_empty() {
            return self.ctx.t("unit.prefs_any_day");
        }
        (self.prefs.weekdays.chars())
            .filter_map(|c| c.to_digit(10))
            .map(|d| self.ctx.tk("weekday", &(d.saturating_sub(1)).to_string()))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A notification as the unit page shows it, the label in the reader's language.
struct NoticeView {
    id: i64,
    /// `team_booked`, `team_moved` or `team_cancelled`.
    kind: String,
    team_code: String,
    label: String,
    site: String,
    day: String,
    size: i64,
    read: bool,
}

#[derive(Deserialize)]
struct PageQuery {
    page: Option<i64>,
}

const ROSTER_PAGE: i64 = 50;

async fn unit(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    Path(code): Path<String>,
    Query(q): Query<PageQuery>,
) -> AppResult<Html<String>> {
    let user = access::user(&page.auth)?;
    let unit = org::unit_by_code(&state.db, &code).await?;
    let Some(unit) = unit.filter(|u| can_see_unit(user, u)) else {
        return Err(deny(&state, Some(user), &format!("/units/{code}")).await);
    };
    let progress = org::unit_progress(&state.db, None, Some(unit.id))
        .await?
        .into_iter()
        .next();
    let total = progress.as_ref().map(|p| p.people).unwrap_or(0);
    let pages = ((total + ROSTER_PAGE - 1) / ROSTER_PAGE).max(1);
    let current = q.page.unwrap_or(1).clamp(1, pages);
    let roster =
        people::of_unit(&state.db, unit.id, ROSTER_PAGE, (current - 1) * ROSTER_PAGE).await?;
    let group = org::work_group(&state.db, unit.work_group_id).await?;
    let contact_phone = unit
        .contact_phone
        .as_deref()
        .map(people::mask_phone)
        .unwrap_or_default();
    let active = match user.role {
        Role::UnitContact => "/unit",
        Role::GroupLeader => "/group",
        Role::Desk => "/desk",
        _ => "/admin",
    };
    let can_import = access::can_import(user, &unit);
    let can_unmask = access::can_unmask(user, &unit);
    let can_manage = access::can_manage_group(user, unit.work_group_id);
    let pending = if can_import {
        people::pending_of_unit(&state.db, unit.id).await?
    } else {
        vec![]
    };
    let registration_link = format!(
        "{}/r/{}",
        super::register::public_base(&state, &headers),
        unit.reg_token
    );
    let ctx = page.ctx(active).await?;
    let notices: Vec<NoticeView> = notifications::of_unit(&state.db, unit.id, INBOX_SHOWN)
        .await?
        .into_iter()
        .map(|n| {
            let label = vaxloop_core::Label {
                colour: u8::try_from(n.colour).unwrap_or(0),
                number: u32::try_from(n.number).unwrap_or(0),
            };
            NoticeView {
                id: n.id,
                kind: n.kind,
                team_code: n.team_code,
                label: if ctx.lang == Lang::En {
                    label.en()
                } else {
                    label.zh()
                },
                site: n.site_name,
                day: n.day,
                size: n.size,
                read: n.read,
            }
        })
        .collect();
    let unread = notifications::unread(&state.db, unit.id).await?;
    let newest = notices.first().map_or(0, |n| n.id);
    let can_read = user.role == Role::UnitContact && user.unit_id == Some(unit.id);
    let prefs = vaxloop_store::planning::prefs_of(&state.db, unit.id).await?;
    let can_set_prefs = can_set_prefs(user, &unit);
    html(&UnitPage {
        ctx,
        unit,
        group,
        progress,
        contact_phone,
        roster,
        page: current,
        pages,
        can_import,
        pending,
        registration_link,
        can_unmask,
        can_manage,
        notices,
        unread,
        newest,
        can_read,
        prefs,
        can_set_prefs,
    })
}

/// Who sets a unit's preferences: its own contact, the desk and the admin.
fn can_set_prefs(user: &vaxloop_store::users::User, unit: &Unit) -> bool {
    matches!(user.role, Role::Admin | Role::Desk)
        || (user.role == Role::UnitContact && user.unit_id == Some(unit.id))
}

#[derive(Deserialize)]
struct PrefsForm {
    d1: Option<String>,
    d2: Option<String>,
    d3: Option<String>,
    d4: Option<String>,
    d5: Option<String>,
    d6: Option<String>,
    d7: Option<String>,
    /// `any`, `am` or `pm`.
    window: String,
    hard: Option<String>,
}

/// Sets when the unit's people can come: the weekdays (all or none ticked = any day) and the
/// part of the day, a preference or a rule.
async fn set_prefs(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
    Form(form): Form<PrefsForm>,
) -> AppResult<Redirect> {
    let user = access::user(&page.auth)?;
    let unit = org::unit_by_code(&state.db, &code).await?;
    let Some(unit) = unit.filter(|u| can_set_prefs(user, u)) else {
        return Err(deny(&state, Some(user), &format!("/units/{code}/prefs")).await);
    };
    let window = form.window.trim();
    if !["any", "am", "pm"].contains(&window) {
        return Err(AppError::BadRequest {
            field: Some("window".into()),
            message: "unit.prefs_window_invalid".into(),
        });
    }
    let ticked = [
        &form.d1, &form.d2, &form.d3, &form.d4, &form.d5, &form.d6, &form.d7,
    ];
    let mut weekdays: String = (1..=7u32)
        .zip(ticked)
        .filter(|(_, on)| on.is_some())
        .filter_map(|(d, _)| char::from_digit(d, 10))
        .collect();
    if weekdays.len() == 7 {
        weekdays.clear();
    }
    let prefs = vaxloop_store::planning::UnitPrefs {
        weekdays,
        window: window.to_string(),
        hard_window: form.hard.is_some() && window != "any",
    };
    let now = vaxloop_store::now_ms();
    vaxloop_store::planning::set_prefs(&state.db, unit.id, &prefs, user.id, now).await?;
    let detail = format!(
        "weekdays={} window={} hard={}",
        prefs.weekdays, prefs.window, prefs.hard_window
    );
    let target = format!("unit:{code}");
    let entry = vaxloop_store::audit::Entry {
        actor_user_id: Some(user.id),
        action: "unit_prefs",
        target: &target,
        reason: None,
        outcome: vaxloop_store::audit::Outcome::Ok,
        detail: Some(&detail),
    };
    vaxloop_store::audit::record(&state.db, &entry, now).await?;
    Ok(Redirect::to(&format!("/units/{code}#prefs")))
}

/// How many notifications the unit page lists.
const INBOX_SHOWN: i64 = 50;

#[derive(Deserialize)]
struct ReadForm {
    upto: i64,
}

/// The unit's contact marks the notifications they saw as read.
async fn inbox_read(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
    Form(form): Form<ReadForm>,
) -> AppResult<Redirect> {
    let user = access::user(&page.auth)?;
    let unit = org::unit_by_code(&state.db, &code).await?;
    // Only the unit's own contact reads its inbox; others look.
    let Some(unit) = unit.filter(|u| user.role == Role::UnitContact && user.unit_id == Some(u.id))
    else {
        return Err(deny(&state, Some(user), &format!("/units/{code}/inbox/read")).await);
    };
    notifications::mark_read(&state.db, unit.id, form.upto, vaxloop_store::now_ms()).await?;
    Ok(Redirect::to(&format!("/units/{code}#inbox")))
}
