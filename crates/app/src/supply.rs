//! Supply: vaccine products, lots and planned deliveries created with every field checked, and
//! the stock movements (receive, waste, transfer) shared by the stock page and the API.

use chrono::NaiveDate;
use vaxloop_store::vaccines::{self, NewVaccine, StockRefusal};
use vaxloop_store::{Db, StoreError};

use crate::org::Problem;

fn problem(field: &'static str, code: &'static str) -> Problem {
    Problem { field, code }
}

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

#[derive(Debug, thiserror::Error)]
pub enum SupplyError {
    #[error("the input has problems")]
    Invalid(Vec<Problem>),
    #[error("refused: {0:?}")]
    Refused(StockRefusal),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Creates a vaccine product.
pub async fn create_vaccine(db: &Db, input: &VaccineInput) -> Result<i64, SupplyError> {
    let v = input.parse().map_err(SupplyError::Invalid)?;
    let mut tx = db.begin_write().await?;
    let id = match vaccines::insert_vaccine(&mut tx, &v).await {
        Ok(id) => id,
        Err(e) if e.is_constraint("code") => {
            return Err(SupplyError::Invalid(vec![problem("code", "code_taken")]));
        }
        Err(e) => return Err(e.into()),
    };
    tx.commit().await.map_err(StoreError::from)?;
    Ok(id)
}

/// Creates a lot of a vaccine; its expiry must be a real date in the future of `today`.
pub async fn create_lot(
    db: &Db,
    vaccine_id: i64,
    number: &str,
    expires_on: &str,
    today: NaiveDate,
) -> Result<i64, SupplyError> {
    let number = number.trim();
    let mut p = Vec::new();
    if number.is_empty() || number.len() > 40 {
        p.push(problem("lot_number", "required"));
    }
    match NaiveDate::parse_from_str(expires_on.trim(), "%Y-%m-%d") {
        Ok(d) if d > today => {}
        _ => p.push(problem("expires_on", "expiry_invalid")),
    }
    if !p.is_empty() {
        return Err(SupplyError::Invalid(p));
    }
    let mut tx = db.begin_write().await?;
    let id = match vaccines::insert_lot(&mut tx, vaccine_id, number, expires_on.trim()).await {
        Ok(id) => id,
        Err(e) if e.is_constraint("lot") => {
            return Err(SupplyError::Invalid(vec![problem(
                "lot_number",
                "lot_taken",
            )]));
        }
        Err(e) => return Err(e.into()),
    };
    tx.commit().await.map_err(StoreError::from)?;
    Ok(id)
}

/// Plans a delivery of a lot to a site on a day, and allocates its doses to that site-day (the
/// ceiling bookings may promise).
pub async fn plan_delivery(
    db: &Db,
    lot_id: i64,
    site_id: i64,
    day: &str,
    doses: i64,
) -> Result<i64, SupplyError> {
    let mut p = Vec::new();
    if NaiveDate::parse_from_str(day.trim(), "%Y-%m-%d").is_err() {
        p.push(problem("day", "date_invalid"));
    }
    if !(1..=1_000_000).contains(&doses) {
        p.push(problem("doses", "doses_invalid"));
    }
    if !p.is_empty() {
        return Err(SupplyError::Invalid(p));
    }
    let mut tx = db.begin_write().await?;
    let id = vaccines::plan_delivery(&mut tx, lot_id, site_id, day.trim(), doses).await?;
    vaccines::allocate(&mut tx, site_id, day.trim(), doses).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(id)
}
