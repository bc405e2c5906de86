//! Work groups and units: a leader's view of their group, a contact's view of their unit, and the
//! unit roster (masked).

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use vaxloop_app::org::{self, Person, PrefsInput, Unit, UnitPrefs, UnitProgress, WorkGroup};
use vaxloop_core::Role;

use crate::AppState;
use crate::error::AppResult;
use crate::furniture::{Page, PageCtx, html};

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
    let g = org::my_group(&state.app, &page.caller()).await?;
    Ok(Redirect::to(&format!("/groups/{}", g.code)).into_response())
}

#[derive(Template)]
#[template(path = "org/group.html")]
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
    let caller = page.caller();
    let view = org::group(&state.app, &caller, &code).await?;
    let active = if caller.role() == Some(Role::GroupLeader) {
        "/group"
    } else {
        "/admin"
    };
    html(&GroupPage {
        ctx: page.ctx(active).await?,
        group: view.group,
        units: view.units,
        target: view.target,
        people: view.people,
        registered: view.registered,
        can_manage: view.can_manage,
        is_admin: caller.role() == Some(Role::Admin),
    })
}

async fn my_unit(State(state): State<AppState>, page: Page) -> AppResult<Response> {
    let u = org::my_unit(&state.app, &page.caller()).await?;
    Ok(Redirect::to(&format!("/units/{}", u.code)).into_response())
}

#[derive(Template)]
#[template(path = "org/unit.html")]
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
    claims: Vec<vaxloop_app::claims::Waiting>,
    registration_link: String,
    can_unmask: bool,
    can_manage: bool,
    can_give_login: bool,
    /// The unit's inbox: its teams as they were booked, newest first.
    notices: Vec<NoticeView>,
    unread: i64,
    /// The newest notice shown, up to which "mark read" marks.
    newest: i64,
    /// The caller is the unit's own contact, who reads its inbox.
    can_read: bool,
    /// When the unit's people can come, for the planner.
    prefs: UnitPrefs,
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
    /// The day as people read it, with the first slot's time.
    when: String,
    /// Where and when the shuttle picks the team up, or empty.
    pickup: String,
    size: i64,
    read: bool,
}

#[derive(Deserialize)]
struct PageQuery {
    page: Option<i64>,
}

async fn unit(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    Path(code): Path<String>,
    Query(q): Query<PageQuery>,
) -> AppResult<Html<String>> {
    let caller = page.caller();
    let view = org::unit(&state.app, &caller, &code, q.page.unwrap_or(1)).await?;
    let active = match caller.role() {
        Some(Role::UnitContact) => "/unit",
        Some(Role::GroupLeader) => "/group",
        Some(Role::Desk) => "/desk",
        _ => "/admin",
    };
    let registration_link = format!(
        "{}/r/{}",
        super::register::public_base(&state, &headers),
        view.unit.reg_token
    );
    let ctx = page.ctx(active).await?;
    let notices: Vec<NoticeView> = view
        .notices
        .into_iter()
        .map(|n| NoticeView {
            id: n.id,
            kind: n.kind,
            team_code: n.team_code,
            label: n.label.text(ctx.is_en()),
            site: n.site,
            when: match n.starts_min {
                Some(m) => format!("{} {}", page.lang.day(&n.day), vaxloop_core::hhmm(m)),
                None => page.lang.day(&n.day),
            },
            pickup: n
                .pickups
                .iter()
                .map(|(at, bus)| {
                    page.lang.tf(
                        "unit.pickup",
                        &[
                            ("time", &vaxloop_core::hhmm(*at)),
                            ("bus", &bus.to_string()),
                        ],
                    )
                })
                .collect::<Vec<_>>()
                .join(page.lang.t("common.list_sep").as_str()),
            size: n.size,
            read: n.read,
        })
        .collect();
    let newest = notices.first().map_or(0, |n| n.id);
    let powers = view.powers;
    html(&UnitPage {
        ctx,
        unit: view.unit,
        group: view.group,
        progress: view.progress,
        contact_phone: view.contact_phone,
        roster: view.roster,
        page: view.page,
        pages: view.pages,
        can_import: powers.import,
        pending: view.pending,
        claims: view.claims,
        registration_link,
        can_unmask: powers.unmask,
        can_manage: powers.manage,
        can_give_login: powers.give_login,
        notices,
        unread: view.unread,
        newest,
        can_read: powers.read_inbox,
        prefs: view.prefs,
        can_set_prefs: powers.set_prefs,
    })
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
    let input = PrefsInput {
        weekdays: [
            &form.d1, &form.d2, &form.d3, &form.d4, &form.d5, &form.d6, &form.d7,
        ]
        .map(Option::is_some),
        window: form.window,
        hard: form.hard.is_some(),
    };
    org::set_prefs(&state.app, &page.caller(), &code, &input).await?;
    Ok(Redirect::to(&format!("/units/{code}#prefs")))
}

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
    org::inbox_read(&state.app, &page.caller(), &code, form.upto).await?;
    Ok(Redirect::to(&format!("/units/{code}#inbox")))
}
