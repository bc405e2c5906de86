//! Sites: the list for the admin and desk, and one site's zones, hours, stock and coming supply —
//! the home page of the site's staff.

use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use vaxloop_app::sites::{self, LotStock, ServeRefusal, Site, SiteDay, SiteInput, SlotWhy, Zone};
use vaxloop_core::hhmm;
use vaxloop_core::{Role, SiteKind, ZoneKind};

use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::furniture::{Page, PageCtx, html};
use crate::i18n::Lang;

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
#[template(path = "sites/sites.html")]
struct SitesPage {
    ctx: PageCtx,
    sites: Vec<Site>,
    can_add: bool,
}

async fn list(State(state): State<AppState>, page: Page) -> AppResult<Html<String>> {
    let caller = page.caller();
    let sites = sites::list(&state.app, &caller).await?;
    html(&SitesPage {
        ctx: page.ctx("/sites").await?,
        sites,
        can_add: caller.role() == Some(Role::Admin),
    })
}

/// Site staff land on their own station, its queue first; the manager on the site's page.
async fn my_site(State(state): State<AppState>, page: Page) -> AppResult<Response> {
    use vaxloop_core::SitePost;
    let s = sites::my_site(&state.app, &page.caller()).await?;
    let station = match crate::furniture::user(&page.auth)?.site_post {
        Some(SitePost::CheckIn) => "/checkin",
        Some(SitePost::Screening) => "/screening",
        Some(SitePost::Vaccinator) => "/vaccination",
        Some(SitePost::Observation) => "/observation",
        Some(SitePost::Manager) | None => "",
    };
    Ok(Redirect::to(&format!("/sites/{}{station}", s.code)).into_response())
}

#[derive(Template)]
#[template(path = "sites/site.html")]
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

/// Why a slot holds what it holds, in the reader's language.
fn slot_why(lang: Lang, why: &SlotWhy) -> String {
    let station = |name: &str| {
        let zone = match name {
            "checkin" => "waiting",
            other => other,
        };
        lang.t(&format!("zone.{zone}"))
    };
    match why {
        SlotWhy::Simulated(s) => {
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
            let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
            lang.tf("slots.simulated", &args)
        }
        SlotWhy::Bottleneck {
            zone,
            per_slot,
            utilisation,
        } => {
            let zone = zone
                .map(|z| lang.t(&format!("zone.{z}")))
                .unwrap_or_default();
            let args = [
                ("zone", zone.as_str()),
                ("per_slot", &format!("{per_slot:.0}")),
                ("utilisation", &format!("{:.0}", utilisation * 100.0)),
            ];
            lang.tf("slots.bottleneck", &args)
        }
        SlotWhy::Closed => lang.t("slots.closed"),
        SlotWhy::Manual(reason) => lang.tf("slots.manual", &[("reason", reason)]),
        SlotWhy::Other(text) => text.clone(),
    }
}

async fn site(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
) -> AppResult<Html<String>> {
    let caller = page.caller();
    let view = sites::overview(&state.app, &caller, &code).await?;
    let lang = page.lang;
    let hours = view
        .hours
        .iter()
        .map(|(d, o, c)| (format!("weekday.{d}"), hhmm(*o), hhmm(*c)))
        .collect();
    let slots = view
        .slots
        .iter()
        .map(|(s, why)| {
            let why = slot_why(lang, why);
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
    let active = if caller.role() == Some(Role::SiteStaff) {
        "/site"
    } else {
        "/sites"
    };
    let powers = view.powers;
    html(&SitePage {
        ctx: page.ctx(active).await?,
        site: view.site,
        zones: view.zones,
        hours,
        stock: view.stock,
        supply: view.supply,
        slots,
        served: view.served,
        can_edit: powers.edit,
        can_check_in: powers.check_in,
        can_screen: powers.screen,
        can_vaccinate: powers.vaccinate,
        can_observe: powers.observe,
        can_watch: powers.watch,
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
    let site = match sites::serve_unit(&state.app, &page.caller(), &code, &form.unit).await? {
        Ok(site) => site,
        Err(ServeRefusal::UnknownUnit) => {
            return Err(AppError::BadRequest {
                field: Some("unit".into()),
                message: "site.unknown_unit".into(),
            });
        }
    };
    Ok(Redirect::to(&format!("/sites/{}#served", site.code)).into_response())
}

/// The admin removes a unit from those a site serves; appointments already made stay.
async fn stop_serving_unit(
    State(state): State<AppState>,
    page: Page,
    Path((code, unit_code)): Path<(String, String)>,
) -> AppResult<Response> {
    let site = sites::stop_serving_unit(&state.app, &page.caller(), &code, &unit_code).await?;
    Ok(Redirect::to(&format!("/sites/{}#served", site.code)).into_response())
}

#[derive(Template)]
#[template(path = "sites/site_form.html")]
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
        crate::furniture::field_error(&self.errors, field)
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
    let input = sites::new_site_form(&state.app, &page.caller()).await?;
    html(&site_form(page.ctx("/sites").await?, None, input, vec![]))
}

/// The admin adds a site; bad input gets the form back with each wrong field named.
async fn create_site(
    State(state): State<AppState>,
    page: Page,
    Form(input): Form<SiteInput>,
) -> AppResult<Response> {
    let result = sites::create_site(&state.app, &page.caller(), &input)
        .await
        .map(|_| ());
    let target = format!("/sites/{}", input.v("code"));
    site_saved(&page, result, target, None, input).await
}

/// After a save: on success to `target`; on bad input the form again (400) with each wrong field
/// named and the input as typed.
async fn site_saved(
    page: &Page,
    result: vaxloop_app::Result<()>,
    target: String,
    editing: Option<String>,
    input: SiteInput,
) -> AppResult<Response> {
    match result {
        Ok(()) => Ok(Redirect::to(&target).into_response()),
        Err(vaxloop_app::Error::Invalid(problems)) => {
            let ctx = page.ctx("/sites").await?;
            let errors = problems
                .iter()
                .map(|p| (p.field, ctx.t(&format!("org.problem.{}", p.code))))
                .collect();
            let form = site_form(ctx, editing, input, errors);
            Ok((StatusCode::BAD_REQUEST, html(&form)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

async fn edit_site(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
) -> AppResult<Html<String>> {
    let (site, input) = sites::site_to_edit(&state.app, &page.caller(), &code).await?;
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
    let result = sites::update_site(&state.app, &page.caller(), &code, &input).await;
    let target = format!("/sites/{code}");
    site_saved(&page, result, target, Some(code), input).await
}
