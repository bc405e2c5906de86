//! Supply: vaccine products, lots and planned deliveries created with every field checked, the
//! stock movements (receive, waste, transfer), and what the stock page and the API read — one use
//! case each, shared by the page, the API and the command line.

use chrono::{Days, NaiveDate};
use vaxloop_core::Role;
use vaxloop_store::vaccines::{self, NewVaccine};
use vaxloop_store::{StoreError, sites};

pub use vaxloop_store::sites::Site;
pub use vaxloop_store::vaccines::{DeliveryRow, LedgerBalance, StockRefusal, Vaccine};

use crate::audit::{self, Act};
use crate::error::{Error, Problem, Result, problem};
use crate::{App, Caller, scope};

/// Who creates lots and plans deliveries: the admin and the desk.
const SUPPLY_ROLES: &[Role] = &[Role::Admin, Role::Desk];

/// A vaccine product as typed in.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct VaccineInput {
    pub code: String,
    pub name: String,
    pub manufacturer: String,
    pub doses_in_series: i64,
    pub min_interval_days: i64,
    pub min_age: i64,
    #[serde(default)]
    pub max_age: Option<i64>,
    pub doses_per_vial: i64,
    #[serde(default)]
    pub open_vial_minutes: i64,
    #[serde(default = "thirty")]
    pub observation_minutes: i64,
}

fn thirty() -> i64 {
    30
}

impl VaccineInput {
    pub fn parse(&self) -> Result<NewVaccine, Vec<Problem>> {
        let mut p = Vec::new();
        let code = self.code.trim();
        if !(2..=32).contains(&code.len())
            || !code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            p.push(problem("code", "code_invalid"));
        }
        if self.name.trim().is_empty() {
            p.push(problem("name", "required"));
        }
        if self.manufacturer.trim().is_empty() {
            p.push(problem("manufacturer", "required"));
        }
        if !(1..=5).contains(&self.doses_in_series) {
            p.push(problem("doses_in_series", "series_invalid"));
        }
        if !(0..=365).contains(&self.min_interval_days) {
            p.push(problem("min_interval_days", "interval_invalid"));
        }
        if !(0..=120).contains(&self.min_age) || self.max_age.is_some_and(|m| m < self.min_age) {
            p.push(problem("min_age", "age_invalid"));
        }
        if !(1..=50).contains(&self.doses_per_vial)
            || !(0..=24 * 60).contains(&self.open_vial_minutes)
        {
            p.push(problem("doses_per_vial", "vial_invalid"));
        }
        if !(0..=240).contains(&self.observation_minutes) {
            p.push(problem("observation_minutes", "observation_invalid"));
        }
        if !p.is_empty() {
            return Err(p);
        }
        Ok(NewVaccine {
            code: code.to_string(),
            name: self.name.trim().to_string(),
            manufacturer: self.manufacturer.trim().to_string(),
            doses_in_series: self.doses_in_series,
            min_interval_days: self.min_interval_days,
            min_age: self.min_age,
            max_age: self.max_age,
            doses_per_vial: self.doses_per_vial,
            open_vial_minutes: self.open_vial_minutes,
            observation_minutes: self.observation_minutes,
        })
    }
}

/// Creates a vaccine product (the admin's).
pub async fn create_vaccine(app: &App, caller: &Caller, input: &VaccineInput) -> Result<i64> {
    scope::require(app, caller, &[Role::Admin]).await?;
    let v = input.parse().map_err(Error::Invalid)?;
    let mut tx = app.db().begin_write().await?;
    let id = match vaccines::insert_vaccine(&mut tx, &v).await {
        Ok(id) => id,
        Err(e) if e.is_constraint("code") => return Err(Error::invalid("code", "code_taken")),
        Err(e) => return Err(e.into()),
    };
    audit::write(&mut tx, caller, Act::new("vaccine.create", &v.code)).await?;
    tx.commit().await?;
    Ok(id)
}

/// Creates a lot of a vaccine; its expiry must be a real date after today.
pub async fn create_lot(
    app: &App,
    caller: &Caller,
    vaccine_id: i64,
    number: &str,
    expires_on: &str,
) -> Result<i64> {
    scope::require(app, caller, SUPPLY_ROLES).await?;
    let number = number.trim();
    let mut p = Vec::new();
    if number.is_empty() || number.len() > 40 {
        p.push(problem("lot_number", "required"));
    }
    match NaiveDate::parse_from_str(expires_on.trim(), "%Y-%m-%d") {
        Ok(d) if d > app.today() => {}
        _ => p.push(problem("expires_on", "expiry_invalid")),
    }
    // An unknown product is the caller's mistake, named — not the database's foreign key.
    if !vaccines::all(app.db())
        .await?
        .iter()
        .any(|v| v.id == vaccine_id)
    {
        p.push(problem("vaccine_id", "vaccine_unknown"));
    }
    if !p.is_empty() {
        return Err(Error::Invalid(p));
    }
    let mut tx = app.db().begin_write().await?;
    let id = match vaccines::insert_lot(&mut tx, vaccine_id, number, expires_on.trim()).await {
        Ok(id) => id,
        Err(e) if e.is_constraint("lot") => return Err(Error::invalid("lot_number", "lot_taken")),
        Err(e) => return Err(e.into()),
    };
    let target = format!("lot:{id}");
    audit::write(&mut tx, caller, Act::new("lot.create", &target)).await?;
    tx.commit().await?;
    Ok(id)
}

/// The site a delivery goes to: by id (the stock page's list) or by code (the API).
#[derive(Debug, Clone, Copy)]
pub enum SiteRef<'a> {
    Id(i64),
    Code(&'a str),
}

/// Plans a delivery of a lot to a site on a day, and allocates its doses to that site-day (the
/// ceiling bookings may promise).
pub async fn plan_delivery(
    app: &App,
    caller: &Caller,
    lot_id: i64,
    site: SiteRef<'_>,
    day: &str,
    doses: i64,
) -> Result<i64> {
    scope::require(app, caller, SUPPLY_ROLES).await?;
    let site_id = match site {
        SiteRef::Id(id) => id,
        SiteRef::Code(code) => sites::by_code(app.db(), code)
            .await?
            .map(|s| s.id)
            .ok_or_else(|| Error::invalid("site", "site_unknown"))?,
    };
    let mut p = Vec::new();
    if NaiveDate::parse_from_str(day.trim(), "%Y-%m-%d").is_err() {
        p.push(problem("day", "date_invalid"));
    }
    if !(1..=1_000_000).contains(&doses) {
        p.push(problem("doses", "doses_invalid"));
    }
    // An unknown lot is the caller's mistake, named — not the database's foreign key.
    if !vaccines::lot_exists(app.db(), lot_id).await? {
        p.push(problem("lot_id", "lot_unknown"));
    }
    if !p.is_empty() {
        return Err(Error::Invalid(p));
    }
    let mut tx = app.db().begin_write().await?;
    let id = vaccines::plan_delivery(&mut tx, lot_id, site_id, day.trim(), doses).await?;
    vaccines::allocate(&mut tx, site_id, day.trim(), doses).await?;
    let target = format!("delivery:{id}");
    let detail = format!("site:{site_id} day:{} doses:{doses}", day.trim());
    audit::write(
        &mut tx,
        caller,
        Act::new("delivery.plan", &target).detail(&detail),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// What receiving a delivery did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    /// Its doses are in the site's stock now.
    Now,
    /// It had been received before: the ledger counted it once, and nothing changed.
    Before,
}

/// Receives a planned delivery into its site's stock: one ledger row and the balance, once
/// however often it is asked. The admin and the desk anywhere, a site's manager at their site; a
/// delivery that does not exist is refused like one out of scope.
pub async fn receive_delivery(app: &App, caller: &Caller, id: i64) -> Result<Received> {
    let site = vaccines::delivery_site(app.db(), id).await?;
    scope::check(app, caller, |a| {
        site.is_some_and(|s| scope::can_manage_stock(a, s))
    })
    .await?;
    let mut tx = app.db().begin_write().await?;
    match vaccines::receive_delivery(&mut tx, id, caller.user_id(), vaxloop_store::now_ms()).await {
        Ok(()) => {}
        Err(StoreError::NotFound(_)) => return Ok(Received::Before),
        Err(e) => return Err(e.into()),
    }
    let target = format!("delivery:{id}");
    audit::write(&mut tx, caller, Act::new("delivery.receive", &target)).await?;
    tx.commit().await?;
    Ok(Received::Now)
}

/// Records doses of a lot wasted at a site, with the reason; refused when the site holds fewer.
pub async fn waste(
    app: &App,
    caller: &Caller,
    site_id: i64,
    lot_id: i64,
    doses: i64,
    reason: &str,
) -> Result<Result<(), StockRefusal>> {
    scope::check(app, caller, |a| scope::can_manage_stock(a, site_id)).await?;
    if doses < 1 {
        return Err(Error::invalid("doses", "doses_invalid"));
    }
    let mut tx = app.db().begin_write().await?;
    let now = vaxloop_store::now_ms();
    let moved = vaccines::waste(
        &mut tx,
        lot_id,
        site_id,
        doses,
        reason,
        caller.user_id(),
        now,
    )
    .await?;
    settle(
        tx,
        caller,
        moved,
        "stock.waste",
        lot_id,
        site_id,
        doses,
        Some(reason),
    )
    .await
}

/// Moves doses of a lot from one site to another; refused when the first holds fewer. The caller
/// must manage stock at the site the doses leave.
pub async fn transfer(
    app: &App,
    caller: &Caller,
    lot_id: i64,
    from: i64,
    to: i64,
    doses: i64,
) -> Result<Result<(), StockRefusal>> {
    scope::check(app, caller, |a| scope::can_manage_stock(a, from)).await?;
    if doses < 1 || from == to {
        return Err(Error::invalid("doses", "doses_invalid"));
    }
    let mut tx = app.db().begin_write().await?;
    let now = vaxloop_store::now_ms();
    let moved = vaccines::transfer(&mut tx, lot_id, from, to, doses, caller.user_id(), now).await?;
    settle(
        tx,
        caller,
        moved,
        "stock.transfer",
        lot_id,
        from,
        doses,
        None,
    )
    .await
}

/// Commits a stock movement with its audit row, or rolls it back when it was refused.
#[allow(clippy::too_many_arguments)] // reason: one call site per movement, each field named there
async fn settle(
    mut tx: vaxloop_store::WriteTx,
    caller: &Caller,
    moved: std::result::Result<(), StockRefusal>,
    action: &str,
    lot_id: i64,
    site_id: i64,
    doses: i64,
    reason: Option<&str>,
) -> Result<Result<(), StockRefusal>> {
    if let Err(refusal) = moved {
        tx.rollback().await?;
        return Ok(Err(refusal));
    }
    let target = format!("lot:{lot_id}");
    let detail = format!("site:{site_id} doses:{doses}");
    let mut act = Act::new(action, &target).detail(&detail);
    if let Some(reason) = reason {
        act = act.reason(reason);
    }
    audit::write(&mut tx, caller, act).await?;
    tx.commit().await?;
    Ok(Ok(()))
}

/// A lot's balance at a site, named.
#[derive(Debug, Clone, PartialEq)]
pub struct BalanceRow {
    pub site: String,
    pub vaccine: String,
    pub lot: String,
    pub expires: String,
    pub remaining: i64,
}

/// Everything the stock page shows: products, the coming week's deliveries, each lot's balance
/// per site, and the sites and lots its forms choose from.
#[derive(Debug, Clone)]
pub struct StockView {
    pub vaccines: Vec<Vaccine>,
    pub deliveries: Vec<DeliveryRow>,
    pub balances: Vec<BalanceRow>,
    pub sites: Vec<Site>,
    /// `(id, vaccine name, lot number, expiry)`.
    pub lots: Vec<(i64, String, String, String)>,
}

/// The stock page's view, for the admin and the desk.
pub async fn stock_view(app: &App, caller: &Caller) -> Result<StockView> {
    scope::require(app, caller, SUPPLY_ROLES).await?;
    let db = app.db();
    let today = app.today();
    let until = today.checked_add_days(Days::new(7)).unwrap_or(today);
    let sites = sites::all(db).await?;
    let mut balances = Vec::new();
    for s in &sites {
        for l in vaccines::stock_at(db, s.id).await? {
            balances.push(BalanceRow {
                site: s.name.clone(),
                vaccine: l.vaccine_name,
                lot: l.lot_number,
                expires: l.expires_on,
                remaining: l.remaining,
            });
        }
    }
    Ok(StockView {
        vaccines: vaccines::all(db).await?,
        deliveries: vaccines::deliveries(db, &today.to_string(), &until.to_string(), None).await?,
        balances,
        sites,
        lots: vaccines::lots(db).await?,
    })
}

/// Each lot's balance at each site the caller may see: delivered, the ledger's sum, remaining.
pub async fn balances(app: &App, caller: &Caller) -> Result<Vec<LedgerBalance>> {
    scope::require(app, caller, &[Role::Admin, Role::Desk, Role::SiteStaff]).await?;
    let all = vaccines::ledger_balances(app.db()).await?;
    Ok(match caller.actor() {
        Some(a) => all
            .into_iter()
            .filter(|b| scope::can_see_site(a, b.site_id))
            .collect(),
        None => all,
    })
}
