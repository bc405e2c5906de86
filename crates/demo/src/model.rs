//! The demo town as generated: what `generate` makes and `store` loads — its work groups, units,
//! people, sites, deliveries, vehicles and logins.

use chrono::NaiveDate;
use vaxloop_core::{
    ResidentId, Role, SiteKind, SitePost, Source, UnitKind, WorkGroupKind, ZoneKind,
};

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct TownSpec {
    pub people: usize,
    pub seed: u64,
    /// The campaign's "today": deliveries run from here for 7 days.
    pub today: NaiveDate,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DemoGroup {
    pub code: String,
    pub name: String,
    pub kind: WorkGroupKind,
    pub leader: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DemoUnit {
    pub code: String,
    /// Index into [`Town::groups`].
    pub group: usize,
    pub name: String,
    pub kind: UnitKind,
    pub address: String,
    pub lat: f64,
    pub lon: f64,
    pub target: i64,
    pub contact: String,
    pub contact_phone: String,
    pub reg_token: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DemoPerson {
    /// Index into [`Town::units`].
    pub unit: usize,
    pub name: String,
    pub id: ResidentId,
    pub phone: String,
    pub disabled: bool,
    /// Scanned the unit's QR code (and gave consent), or arrived on the unit's uploaded roster.
    pub source: Source,
    /// False for a QR registration the unit contact has not yet confirmed.
    pub confirmed: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DemoSite {
    pub code: String,
    pub name: String,
    pub kind: SiteKind,
    pub address: String,
    pub lat: f64,
    pub lon: f64,
    pub open_from: Option<NaiveDate>,
    pub open_until: Option<NaiveDate>,
    /// `(weekday, opens, closes)` in minutes after midnight.
    pub hours: Vec<(i64, i64, i64)>,
    /// `(zone, space, desks am, desks pm, mean service seconds)`.
    pub zones: Vec<(ZoneKind, i64, i64, i64, i64)>,
    /// Doses a normal day brings.
    pub daily_doses: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DemoDelivery {
    /// Index into [`Town::sites`].
    pub site: usize,
    /// Index into the lots of [`Town`]: `(vaccine code, lot number)`.
    pub lot: usize,
    pub day: NaiveDate,
    pub doses: i64,
    pub received: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DemoVehicle {
    pub code: String,
    pub plate: String,
    pub seats: i64,
    pub driver: String,
    pub phone: String,
    pub depot: String,
}

/// One demo login. Residents log in with their ID number and PIN instead of a username.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoLogin {
    pub username: Option<String>,
    pub display_name: String,
    pub role: Role,
    pub group: Option<usize>,
    pub unit: Option<usize>,
    pub site: Option<usize>,
    pub post: Option<SitePost>,
    /// Index into [`Town::people`], for the resident.
    pub person: Option<usize>,
}

/// A whole demo town, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct Town {
    pub spec: TownSpec,
    pub groups: Vec<DemoGroup>,
    pub units: Vec<DemoUnit>,
    pub people: Vec<DemoPerson>,
    pub sites: Vec<DemoSite>,
    /// `(vaccine code, lot number, expiry)`.
    pub lots: Vec<(String, String, NaiveDate)>,
    pub deliveries: Vec<DemoDelivery>,
    pub vehicles: Vec<DemoVehicle>,
    pub logins: Vec<DemoLogin>,
}
