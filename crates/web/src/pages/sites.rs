//! Sites: the list for the admin and desk, and one site's zones, hours, stock and coming supply —
//! the home page of the site's staff.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use chrono::Days;
use vaxloop_core::Role;
use vaxloop_store::sites::{self, Site, Zone};
use vaxloop_store::vaccines::{self, LotStock, SiteDay};

use super::{Page, PageCtx, html};
use crate::AppState;
use crate::access::{self, can_see_site, deny, require};
use crate::error::{AppError, AppResult};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/sites", get(list))
        .route("/sites/{code}", get(site))
        .route("/site", get(my_site))
}

#[derive(Template)]
#[template(path = "sites.html")]
struct SitesPage {
    ctx: PageCtx,
    sites: Vec<Site>,
}

async fn list(State(state): State<AppState>, page: Page) -> AppResult<Html<String>> {
    require(&state, &page.auth, &[Role::Admin, Role::Desk], "/sites").await?;
    let sites = sites::all(&state.db).await?;
    html(&SitesPage {
        ctx: page.ctx("/sites").await?,
        sites,
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
}

fn hhmm(minutes: i64) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
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
    html(&SitePage {
        ctx: page.ctx(active).await?,
        site,
        zones,
        hours,
        stock,
        supply,
        slots,
    })
}
