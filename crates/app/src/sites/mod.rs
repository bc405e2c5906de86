//! Vaccination sites: the list, one site's page (its zones, hours, stock, the week's supply,
//! today's slots with why each holds what it holds, the units it serves), and the admin's set-up
//! — a site created or changed with its hours and zones, the units it serves.

mod input;

use chrono::Days;
use vaxloop_core::capacity::{Capacity, Simulated};
use vaxloop_core::{Role, SitePost, ZoneKind};
use vaxloop_store::{org, slots, vaccines};

pub use input::SiteInput;
pub use vaxloop_store::sites::{Site, Zone};
pub use vaxloop_store::slots::Slot;
pub use vaxloop_store::vaccines::{LotStock, SiteDay};

use crate::audit::Act;
use crate::error::{Error, Result};
use crate::save::{Clash, saved};
use crate::slots::{CLOSED, open_window, resize_window};
use crate::{App, Caller, scope};

use vaxloop_store::sites;

/// Every site, for the admin and the desk.
pub async fn list(app: &App, caller: &Caller) -> Result<Vec<Site>> {
    scope::require(app, caller, &[Role::Admin, Role::Desk]).await?;
    Ok(sites::all(app.db()).await?)
}

/// The sites the caller may see: every site for the admin and the desk, their own for site
/// staff.
pub async fn visible(app: &App, caller: &Caller) -> Result<Vec<Site>> {
    scope::require(app, caller, &[Role::Admin, Role::Desk, Role::SiteStaff]).await?;
    let all = sites::all(app.db()).await?;
    Ok(match caller.actor() {
        Some(a) => all
            .into_iter()
            .filter(|s| scope::can_see_site(a, s.id))
            .collect(),
        None => all,
    })
}

/// The site a member of site staff works at.
pub async fn my_site(app: &App, caller: &Caller) -> Result<Site> {
    scope::require(app, caller, &[Role::SiteStaff]).await?;
    let id = caller
        .actor()
        .and_then(|a| a.site_id)
        .ok_or(Error::NotFound)?;
    sites::by_id(app.db(), id).await?.ok_or(Error::NotFound)
}

/// Why a slot holds what it holds.
#[derive(Debug, Clone, PartialEq)]
pub enum SlotWhy {
    /// The simulator's safe bookings per slot.
    Simulated(Simulated),
    /// The bottleneck rule: the zone that binds, its people per slot and the target utilisation.
    Bottleneck {
        zone: Option<ZoneKind>,
        per_slot: f64,
        utilisation: f64,
    },
    /// The site is closed then.
    Closed,
    /// Set by hand, with the reason given.
    Manual(String),
    /// Anything else stored (kept as written).
    Other(String),
}

impl SlotWhy {
    /// Reads a slot's stored capacity reason.
    pub fn of(reason: &str) -> Self {
        match serde_json::from_str::<Capacity>(reason) {
            Ok(c) => match c.simulated {
                Some(s) => SlotWhy::Simulated(s),
                None => SlotWhy::Bottleneck {
                    zone: c.bottleneck,
                    per_slot: c
                        .limits
                        .iter()
                        .map(|l| l.per_slot)
                        .fold(f64::INFINITY, f64::min),
                    utilisation: c.utilisation,
                },
            },
            Err(_) if reason == CLOSED => SlotWhy::Closed,
            Err(_) => match reason.strip_prefix("manual: ") {
                Some(why) => SlotWhy::Manual(why.to_string()),
                None => SlotWhy::Other(reason.to_string()),
            },
        }
    }
}

/// What the reader of a site's page may do there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Powers {
    /// Change the site and the units it serves (the admin).
    pub edit: bool,
    pub check_in: bool,
    pub screen: bool,
    pub vaccinate: bool,
    pub observe: bool,
    /// The board and the day's reconciliation: the manager, the admin and the desk.
    pub watch: bool,
}

/// One site as its page shows it.
#[derive(Debug, Clone)]
pub struct SiteOverview {
    pub site: Site,
    pub zones: Vec<Zone>,
    /// `(weekday 0 = Monday, opens, closes)` in minutes after midnight.
    pub hours: Vec<(i64, i64, i64)>,
    pub stock: Vec<LotStock>,
    /// Doses allocated and booked for the coming week.
    pub supply: Vec<SiteDay>,
    /// Today's slots, each with why it holds what it holds.
    pub slots: Vec<(Slot, SlotWhy)>,
    /// The units the site serves, `(code, name)`; empty when it serves every unit.
    pub served: Vec<(String, String)>,
    pub powers: Powers,
}

/// The site coded `code`, for whoever may see it: the admin, the desk, its own staff.
pub async fn overview(app: &App, caller: &Caller, code: &str) -> Result<SiteOverview> {
    let db = app.db();
    let site = sites::by_code(db, code).await?;
    scope::check_thing(app, caller, &site, |a, s| scope::can_see_site(a, s.id)).await?;
    let site = site.ok_or(Error::NotFound)?;
    let today = app.today();
    let until = today.checked_add_days(Days::new(6)).unwrap_or(today);
    let slots = slots::of_site_day(db, site.id, &today.to_string())
        .await?
        .into_iter()
        .map(|s| {
            let why = SlotWhy::of(&s.capacity_reason);
            (s, why)
        })
        .collect();
    let served = sites::units_served(db, site.id)
        .await?
        .into_iter()
        .map(|(_, code, name)| (code, name))
        .collect();
    let at = |post| {
        caller.role() == Some(Role::Admin)
            || caller
                .actor()
                .is_some_and(|a| scope::works_at(a, site.id, post))
    };
    let powers = Powers {
        edit: caller.role() == Some(Role::Admin),
        check_in: at(SitePost::CheckIn),
        screen: at(SitePost::Screening),
        vaccinate: at(SitePost::Vaccinator),
        observe: at(SitePost::Observation),
        watch: at(SitePost::Manager) || caller.role() == Some(Role::Desk),
    };
    Ok(SiteOverview {
        zones: sites::zones(db, site.id).await?,
        hours: sites::hours(db, site.id).await?,
        stock: vaccines::stock_at(db, site.id).await?,
        supply: vaccines::site_days(db, &today.to_string(), &until.to_string(), Some(site.id))
            .await?,
        slots,
        served,
        powers,
        site,
    })
}

/// Why a unit could not be added to those a site serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServeRefusal {
    /// No unit has that code.
    UnknownUnit,
}

/// The admin adds the unit coded `unit` to those site `code` serves (audited when it was not
/// there yet); from then on only listed units' people may book there.
pub async fn serve_unit(
    app: &App,
    caller: &Caller,
    code: &str,
    unit: &str,
) -> Result<Result<Site, ServeRefusal>> {
    scope::require(app, caller, &[Role::Admin]).await?;
    let site = sites::by_code(app.db(), code)
        .await?
        .ok_or(Error::NotFound)?;
    let Some(unit) = org::unit_by_code(app.db(), unit.trim()).await? else {
        return Ok(Err(ServeRefusal::UnknownUnit));
    };
    served_change(
        app,
        caller,
        &site,
        &unit.code,
        "site_serve_unit",
        async |tx| sites::serve_unit(tx, site.id, unit.id, vaxloop_store::now_ms()).await,
    )
    .await?;
    Ok(Ok(site))
}

/// The admin removes the unit coded `unit` from those site `code` serves; appointments already
/// made stay.
pub async fn stop_serving_unit(app: &App, caller: &Caller, code: &str, unit: &str) -> Result<Site> {
    scope::require(app, caller, &[Role::Admin]).await?;
    let site = sites::by_code(app.db(), code)
        .await?
        .ok_or(Error::NotFound)?;
    let unit = org::unit_by_code(app.db(), unit)
        .await?
        .ok_or(Error::NotFound)?;
    served_change(
        app,
        caller,
        &site,
        &unit.code,
        "site_stop_serving_unit",
        async |tx| sites::stop_serving_unit(tx, site.id, unit.id).await,
    )
    .await?;
    Ok(site)
}

/// Changes the list of units a site serves with `change`, audited only when it changed.
async fn served_change(
    app: &App,
    caller: &Caller,
    site: &Site,
    unit: &str,
    action: &str,
    change: impl AsyncFnOnce(&mut vaxloop_store::WriteTx) -> vaxloop_store::StoreResult<bool>,
) -> Result<()> {
    let mut tx = app.db().begin_write().await?;
    if change(&mut tx).await? {
        let target = format!("site:{}", site.code);
        let detail = format!("unit:{unit}");
        crate::audit::write(&mut tx, caller, Act::new(action, &target).detail(&detail)).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The site coded `code` and its form filled in as it is now, for the admin to change.
pub async fn site_to_edit(app: &App, caller: &Caller, code: &str) -> Result<(Site, SiteInput)> {
    scope::require(app, caller, &[Role::Admin]).await?;
    let site = sites::by_code(app.db(), code)
        .await?
        .ok_or(Error::NotFound)?;
    let hours = sites::hours(app.db(), site.id).await?;
    let zones = sites::zones(app.db(), site.id).await?;
    let input = SiteInput::of_site(&site, &hours, &zones);
    Ok((site, input))
}

/// The form a new site starts from, for the admin.
pub async fn new_site_form(app: &App, caller: &Caller) -> Result<SiteInput> {
    scope::require(app, caller, &[Role::Admin]).await?;
    Ok(SiteInput::starting())
}

/// Creates a site with its hours and zones, audited, and opens its slots for the days of the
/// booking window from today on that fall within its open dates. The admin's.
pub async fn create_site(app: &App, caller: &Caller, input: &SiteInput) -> Result<i64> {
    scope::require(app, caller, &[Role::Admin]).await?;
    let site = input.parse().map_err(Error::Invalid)?;
    let target = format!("site:{}", site.code);
    let now = vaxloop_store::now_ms();
    let id = saved(
        app,
        caller,
        Some(Clash::CODE),
        Act::new("create_site", &target),
        async |tx| sites::insert(tx, &site, now).await,
    )
    .await?;
    if let Some(stored) = sites::by_id(app.db(), id).await? {
        open_window(app.db(), &stored, app.today()).await?;
    }
    Ok(id)
}

/// Changes the site coded `code` (its code stays), audited; the booking window's slots are
/// resized to the new hours and desks, never below what they already hold.
pub async fn update_site(app: &App, caller: &Caller, code: &str, input: &SiteInput) -> Result<()> {
    let (existing, _) = site_to_edit(app, caller, code).await?;
    let mut input = input.clone();
    input.0.insert("code".into(), existing.code.clone());
    let site = input.parse().map_err(Error::Invalid)?;
    let target = format!("site:{}", existing.code);
    saved(
        app,
        caller,
        None,
        Act::new("update_site", &target),
        async |tx| sites::update(tx, existing.id, &site).await,
    )
    .await?;
    if let Some(stored) = sites::by_id(app.db(), existing.id).await? {
        resize_window(app.db(), &stored, app.today()).await?;
    }
    Ok(())
}
