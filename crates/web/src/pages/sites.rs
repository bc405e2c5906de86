//! Sites: the list for the admin and desk, and one site's zones, hours, stock and coming supply —
//! the home page of the site's staff.

use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Days;
use serde::Deserialize;
use vaxloop_app::org::OrgError;
use vaxloop_app::sites::SiteInput;
use vaxloop_core::hhmm;
use vaxloop_core::{Role, SiteKind, ZoneKind};
use vaxloop_store::audit::{self, Entry, Outcome};
use vaxloop_store::org;
use vaxloop_store::sites::{self, Site, Zone};
use vaxloop_store::vaccines::{self, LotStock, SiteDay};

use super::{Page, PageCtx, html};
use crate::AppState;
use crate::access::{self, can_see_site, deny, require};
use crate::error::{AppError, AppResult};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/sites", get(list))
        .route("/sites/new", get(new_site).post(create_site))
        .route("/sites/{code}", get(site))
        .route("/sites/{code}/edit", get(edit_site).post(update_site))
        .route("/sites/{code}/units", post(serve_unit))
        .route("/sites/{code}/units/{unit}/remove", post(stop_serving_unit))
        .route("/site", get(my_site))
}

#[derive(Template)]
#[template(path = "sites.html")]
struct SitesPage {
    ctx: PageCtx,
    sites: Vec<Site>,
    can_add: bool,
}

async fn list(State(state): State<AppState>, page: Page) -> AppResult<Html<String>> {
    let user = require(&state, &page.auth, &[Role::Admin, Role::Desk], "/sites").await?;
    let can_add = user.role == Role::Admin;
    let sites = sites::all(&state.db).await?;
    html(&SitesPage {
        ctx: page.ctx("/sites").await?,
        sites,
        can_add,
    })
}

async fn my_site(State(state): State<AppState>, page: Page) -> AppResult<Response> {
    let user = require(&state, &page.auth, &[Role::SiteStaff], "/site").await?;
    let id = user.site_id.ok_or(AppError::NotFound)?;
    let s = sites::by_id(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Redirect::to(&format!("/sites/{}", s.code)).into_response())
}

#[derive(Template)]
#[template(path = "site.html")]
struct SitePage {
    ctx: PageCtx,
    site: Site,
    zones: Vec<Zone>,
    /// `(weekday key, opens, closes)` as `HH:MM`.
    hours: Vec<(String, String, String)>,
    stock: Vec<LotStock>,
    supply: Vec<SiteDay>,
    /// Today's slots: `(id, from, to, capacity, booked, why)`.
    slots: Vec<(i64, String, String, i64, i64, String)>,
    /// The units the site serves, `(code, name)`; empty when it serves every unit.
    served: Vec<(String, String)>,
    /// Whether the reader may change which units the site serves (the admin).
    can_edit: bool,
    /// Whether the reader works (or may work) the site's check-in desk.
    can_check_in: bool,
    /// Whether the reader screens (or may screen) at the site.
    can_screen: bool,
    can_vaccinate: bool,
    can_observe: bool,
    /// The board and the day's reconciliation: the manager, the admin and the desk.
    can_watch: bool,
}

async fn site(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
) -> AppResult<Html<String>> {
    let user = access::user(&page.auth)?;
    let site = sites::by_code(&state.db, &code).await?;
    let Some(site) = site.filter(|s| can_see_site(user, s.id)) else {
        return Err(deny(&state, Some(user), &format!("/sites/{code}")).await);
    };
    let site_id = site.id;
    let zones = sites::zones(&state.db, site.id).await?;
    let hours = sites::hours(&state.db, site.id)
        .await?
        .into_iter()
        .map(|(d, o, c)| (format!("weekday.{d}"), hhmm(o), hhmm(c)))
        .collect();
    let stock = vaccines::stock_at(&state.db, site.id).await?;
    let today = state.config.today();
    let until = today.checked_add_days(Days::new(6)).unwrap_or(today);
    let supply = vaccines::site_days(
        &state.db,
        &today.to_string(),
        &until.to_string(),
        Some(site.id),
    )
    .await?;
    let lang = page.lang;
    let slots = vaxloop_store::slots::of_site_day(&state.db, site.id, &today.to_string())
        .await?
        .into_iter()
        .map(|s| {
            let why = match serde_json::from_str::<vaxloop_core::capacity::Capacity>(
                &s.capacity_reason,
            ) {
                Ok(c) if c.simulated.is_some() => {
                    let s = c.simulated.as_ref().expect("checked");
                    let station = |name: &str| {
                        let zone = match name {
                            "checkin" => "waiting",
                            other => other,
                        };
                        lang.t(&format!("zone.{zone}"))
                    };
                    let measured = if s.measured.is_empty() {
                        String::new()
                    } else {
                        let list: Vec<String> = s
                            .measured
                            .iter()
                            .map(|(name, n)| format!("{} ({n})", station(name)))
                            .collect();
                        lang.tf("slots.measured", &[("stations", list.join(", ").as_str())])
                    };
                    let args = [
                        ("per_slot", s.per_slot.to_string()),
                        ("wait", format!("{:.1}", s.wait_p95)),
                        ("target", format!("{:.0}", s.wait_p95_target)),
                        (
                            "zone",
                            s.limiting.as_deref().map(station).unwrap_or_default(),
                        ),
                        ("measured", measured),
                    ];
                    let args: Vec<(&str, &str)> =
                        args.iter().map(|(k, v)| (*k, v.as_str())).collect();
                    lang.tf("slots.simulated", &args)
                }
                Ok(c) => {
                    let zone = c
                        .bottleneck
                        .map(|z| lang.t(&format!("zone.{z}")))
                        .unwrap_or_default();
                    let per_slot = c
                        .limits
                        .iter()
                        .map(|l| l.per_slot)
                        .fold(f64::INFINITY, f64::min);
                    let args = [
                        ("zone", zone.as_str()),
                        ("per_slot", &format!("{per_slot:.0}")),
                        ("utilisation", &format!("{:.0}", c.utilisation * 100.0)),
                    ];
                    lang.tf("slots.bottleneck", &args)
                }
                Err(_) if s.capacity_reason == vaxloop_app::slots::CLOSED => lang.t("slots.closed"),
                Err(_) => match s.capacity_reason.strip_prefix("manual: ") {
                    Some(reason) => lang.tf("slots.manual", &[("reason", reason)]),
                    None => s.capacity_reason.clone(),
                },
            };
            (
                s.id,
                hhmm(s.starts_min),
                hhmm(s.ends_min),
                s.capacity,
                s.booked,
                why,
            )
        })
        .collect();
    let active = if user.role == Role::SiteStaff {
        "/site"
    } else {
        "/sites"
    };
    let served = sites::units_served(&state.db, site.id)
        .await?
        .into_iter()
        .map(|(_, code, name)| (code, name))
        .collect();
    html(&SitePage {
        ctx: page.ctx(active).await?,
        site,
        zones,
        hours,
        stock,
        supply,
        slots,
        served,
        can_edit: user.role == Role::Admin,
        can_check_in: access::works_at(user, site_id, vaxloop_core::SitePost::CheckIn),
        can_screen: access::works_at(user, site_id, vaxloop_core::SitePost::Screening),
        can_vaccinate: access::works_at(user, site_id, vaxloop_core::SitePost::Vaccinator),
        can_observe: access::works_at(user, site_id, vaxloop_core::SitePost::Observation),
        can_watch: access::works_at(user, site_id, vaxloop_core::SitePost::Manager)
            || user.role == vaxloop_core::Role::Desk,
    })
}

#[derive(Deserialize)]
struct ServeForm {
    unit: String,
}

/// The admin adds a unit to those a site serves (audited); from then on only listed units'
/// people may book there.
async fn serve_unit(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
    Form(form): Form<ServeForm>,
) -> AppResult<Response> {
    let path = format!("/sites/{code}/units");
    let user = require(&state, &page.auth, &[Role::Admin], &path).await?;
    let site = sites::by_code(&state.db, &code)
        .await?
        .ok_or(AppError::NotFound)?;
    let unit_code = form.unit.trim();
    let Some(unit) = org::unit_by_code(&state.db, unit_code).await? else {
        return Err(AppError::BadRequest {
            field: Some("unit".into()),
            message: "site.unknown_unit".into(),
        });
    };
    let now = vaxloop_store::now_ms();
    if sites::serve_unit(&state.db, site.id, unit.id, now).await? {
        record(&state, user.id, "site_serve_unit", &site.code, &unit.code).await?;
    }
    Ok(Redirect::to(&format!("/sites/{}#served", site.code)).into_response())
}

/// The admin removes a unit from those a site serves; appointments already made stay.
async fn stop_serving_unit(
    State(state): State<AppState>,
    page: Page,
    Path((code, unit_code)): Path<(String, String)>,
) -> AppResult<Response> {
    let path = format!("/sites/{code}/units/{unit_code}/remove");
    let user = require(&state, &page.auth, &[Role::Admin], &path).await?;
    let site = sites::by_code(&state.db, &code)
        .await?
        .ok_or(AppError::NotFound)?;
    let unit = org::unit_by_code(&state.db, &unit_code)
        .await?
        .ok_or(AppError::NotFound)?;
    if sites::stop_serving_unit(&state.db, site.id, unit.id).await? {
        record(
            &state,
            user.id,
            "site_stop_serving_unit",
            &site.code,
            &unit.code,
        )
        .await?;
    }
    Ok(Redirect::to(&format!("/sites/{}#served", site.code)).into_response())
}

async fn record(
    state: &AppState,
    actor: i64,
    action: &str,
    site: &str,
    unit: &str,
) -> AppResult<()> {
    let target = format!("site:{site}");
    let detail = format!("unit:{unit}");
    let entry = Entry {
        actor_user_id: Some(actor),
        action,
        target: &target,
        reason: None,
        outcome: Outcome::Ok,
        detail: Some(&detail),
    };
    audit::record(&state.db, &entry, vaxloop_store::now_ms()).await?;
    Ok(())
}

#[derive(Template)]
#[template(path = "site_form.html")]
struct SiteForm {
    ctx: PageCtx,
    /// The code of the site being changed; `None` for a new one.
    editing: Option<String>,
    input: SiteInput,
    kinds: &'static [SiteKind],
    zones: &'static [ZoneKind],
    errors: Vec<(&'static str, String)>,
}

impl SiteForm {
    fn error(&self, field: &str) -> Option<String> {
        self.errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.clone())
    }

    /// A zone field's name, e.g. `vaccination_am`.
    fn zf(&self, zone: &ZoneKind, suffix: &str) -> String {
        format!("{}_{suffix}", zone.as_str())
    }

    /// A weekday's checkbox name (`day0` = Monday).
    fn day(&self, d: &usize) -> String {
        format!("day{d}")
    }

    /// A weekday's label key.
    fn weekday(&self, d: &usize) -> String {
        format!("weekday.{d}")
    }

    /// Whether some day has hours of its own (the per-day list then starts open).
    fn own_hours(&self) -> bool {
        (0..7).any(|d| {
            !self.input.v(&format!("opens_d{d}")).is_empty()
                || !self.input.v(&format!("closes_d{d}")).is_empty()
        }) || self.errors.iter().any(|(f, _)| f.contains("_d"))
    }
}

fn site_form(
    ctx: PageCtx,
    editing: Option<String>,
    input: SiteInput,
    errors: Vec<(&'static str, String)>,
) -> SiteForm {
    SiteForm {
        ctx,
        editing,
        input,
        kinds: SiteKind::ALL,
        zones: ZoneKind::ALL,
        errors,
    }
}

async fn new_site(State(state): State<AppState>, page: Page) -> AppResult<Html<String>> {
    require(&state, &page.auth, &[Role::Admin], "/sites/new").await?;
    html(&site_form(
        page.ctx("/sites").await?,
        None,
        SiteInput::starting(),
        vec![],
    ))
}

/// The admin adds a site; bad input gets the form back with each wrong field named.
async fn create_site(
    State(state): State<AppState>,
    page: Page,
    Form(input): Form<SiteInput>,
) -> AppResult<Response> {
    let user = require(&state, &page.auth, &[Role::Admin], "/sites/new").await?;
    let result = vaxloop_app::sites::create_site(&state.db, &input, user.id, state.config.today())
        .await
        .map(|_| ());
    let target = format!("/sites/{}", input.v("code"));
    site_saved(&page, result, target, None, input).await
}

/// After a save: on success to `target`; on bad input the form again (400) with each wrong field
/// named and the input as typed.
async fn site_saved(
    page: &Page,
    result: Result<(), OrgError>,
    target: String,
    editing: Option<String>,
    input: SiteInput,
) -> AppResult<Response> {
    match result {
        Ok(()) => Ok(Redirect::to(&target).into_response()),
        Err(OrgError::Invalid(problems)) => {
            let ctx = page.ctx("/sites").await?;
            let errors = problems
                .iter()
                .map(|p| (p.field, ctx.t(&format!("org.problem.{}", p.code))))
                .collect();
            let form = site_form(ctx, editing, input, errors);
            Ok((StatusCode::BAD_REQUEST, html(&form)?).into_response())
        }
        Err(e) => Err(AppError::Internal(e.into())),
    }
}

async fn site_for_admin(state: &AppState, page: &Page, code: &str) -> AppResult<(i64, Site)> {
    let user = require(
        state,
        &page.auth,
        &[Role::Admin],
        &format!("/sites/{code}/edit"),
    )
    .await?;
    let site = sites::by_code(&state.db, code)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((user.id, site))
}

async fn edit_site(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
) -> AppResult<Html<String>> {
    let (_, site) = site_for_admin(&state, &page, &code).await?;
    let hours = sites::hours(&state.db, site.id).await?;
    let zones = sites::zones(&state.db, site.id).await?;
    let input = SiteInput::of_site(&site, &hours, &zones);
    html(&site_form(
        page.ctx("/sites").await?,
        Some(site.code),
        input,
        vec![],
    ))
}

/// The admin changes a site; the booking window's slots follow the new hours and desks.
async fn update_site(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
    Form(input): Form<SiteInput>,
) -> AppResult<Response> {
    let (actor, site) = site_for_admin(&state, &page, &code).await?;
    let today = state.config.today();
    let result = vaxloop_app::sites::update_site(&state.db, &site, &input, actor, today).await;
    let target = format!("/sites/{}", site.code);
    site_saved(&page, result, target, Some(site.code), input).await
}
