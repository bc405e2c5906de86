//! The instance file (`vaxloop-plan-instance/1`, see `docs/formats/planner-format.md`): what is to be
//! planned. [`Instance::parse`] reads and checks one; everything past it may rely on the shape
//! (one capacity row per date, one number per slot, sizes ≥ 1, days in the horizon …).

use serde::{Deserialize, Serialize};

use crate::PlanError;

pub const INSTANCE_FORMAT: &str = "vaxloop-plan-instance/1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Instance {
    pub format: String,
    pub name: String,
    pub horizon: Horizon,
    pub sites: Vec<Site>,
    pub teams: Vec<Team>,
    pub buses: Buses,
    #[serde(default)]
    pub weights: Weights,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Horizon {
    pub dates: Vec<String>,
    /// "HH:MM".
    pub day_start: String,
    pub slot_minutes: u32,
    pub slots_per_day: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Site {
    pub id: String,
    pub x_km: f64,
    pub y_km: f64,
    /// People per slot, one row per date, one number per slot (0 = closed).
    pub slot_capacity: Vec<Vec<u32>>,
    /// Doses per date.
    pub doses: Vec<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Window {
    Am,
    Pm,
    #[default]
    Any,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Team {
    pub id: String,
    pub unit: String,
    pub size: u32,
    pub x_km: f64,
    pub y_km: f64,
    /// Day indexes the team can come; empty = any day. Hard.
    #[serde(default)]
    pub days: Vec<usize>,
    #[serde(default)]
    pub window: Window,
    /// The window binds the first part's slot, rather than costing a miss.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hard_window: bool,
    #[serde(default)]
    pub priority_people: u32,
    #[serde(default)]
    pub bus: bool,
    #[serde(default = "one")]
    pub max_parts: u32,
    /// The sites (by id) that serve the team's unit; empty = every site. An addition to format
    /// 1 (readers that ignore it may place a team at a site that does not serve it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sites: Vec<String>,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Buses {
    pub count: u32,
    pub seats: u32,
    pub speed_kmh: f64,
    pub stop_minutes: u32,
}

/// The largest weight an instance may give (the defaults are 100, 50, 1 and 10): the objective
/// of any plan then stays far inside an i64.
pub const MAX_WEIGHT: i64 = 10_000;
/// The largest team an instance may hold (a whole enterprise's shift is a few hundred).
pub const MAX_TEAM: u32 = 5_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Weights {
    pub person: i64,
    pub priority_person: i64,
    pub travel_person_minute: i64,
    pub window_miss_person: i64,
}

impl Default for Weights {
    fn default() -> Self {
        Self {
            person: 100,
            priority_person: 50,
            travel_person_minute: 1,
            window_miss_person: 10,
        }
    }
}

/// Minutes from midnight of "HH:MM".
pub fn clock_minutes(text: &str) -> Option<u32> {
    let (h, m) = text.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

impl Instance {
    /// Reads an instance file and checks its shape; the error names the field at fault.
    pub fn parse(json: &str) -> Result<Self, PlanError> {
        let instance: Instance = serde_json::from_str(json).map_err(|e| PlanError::Json {
            what: "instance",
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        instance.validate()?;
        Ok(instance)
    }

    /// The shape every solver and the checker rely on.
    pub fn validate(&self) -> Result<(), PlanError> {
        self.validate_horizon()?;
        self.validate_sites()?;
        self.validate_teams()?;
        self.validate_buses_and_weights()
    }

    fn validate_horizon(&self) -> Result<(), PlanError> {
        if self.format != INSTANCE_FORMAT {
            return bad_field(
                "format".into(),
                format!("expected \"{INSTANCE_FORMAT}\", found \"{}\"", self.format),
            );
        }
        let h = &self.horizon;
        let days = h.dates.len();
        if days == 0 {
            return bad_field("horizon.dates".into(), "at least one date is needed".into());
        }
        for (d, date) in h.dates.iter().enumerate() {
            if chrono_like_date(date).is_none() {
                return bad_field(
                    format!("horizon.dates[{d}]"),
                    format!("\"{date}\" is not a date YYYY-MM-DD"),
                );
            }
        }
        let Some(start) = clock_minutes(&h.day_start) else {
            return bad_field(
                "horizon.day_start".into(),
                format!("\"{}\" is not a time HH:MM", h.day_start),
            );
        };
        if h.slot_minutes == 0 || h.slot_minutes > 24 * 60 {
            return bad_field(
                "horizon.slot_minutes".into(),
                format!("{} is not a slot length in minutes", h.slot_minutes),
            );
        }
        let day_minutes = u32::try_from(h.slots_per_day)
            .ok()
            .and_then(|n| h.slot_minutes.checked_mul(n))
            .and_then(|m| m.checked_add(start));
        if h.slots_per_day == 0 || day_minutes.is_none_or(|m| m > 24 * 60) {
            return bad_field(
                "horizon.slots_per_day".into(),
                format!(
                    "{} slots do not fit in a day from {}",
                    h.slots_per_day, h.day_start
                ),
            );
        }
        Ok(())
    }

    fn validate_sites(&self) -> Result<(), PlanError> {
        let h = &self.horizon;
        let days = h.dates.len();
        let mut ids = std::collections::HashSet::new();
        for (i, s) in self.sites.iter().enumerate() {
            let at = |f: &str| format!("sites[{i}] ({}).{f}", s.id);
            if s.id.is_empty() || !ids.insert(s.id.as_str()) {
                return bad_field(
                    format!("sites[{i}].id"),
                    format!("\"{}\" is empty or repeated", s.id),
                );
            }
            if !s.x_km.is_finite() || !s.y_km.is_finite() {
                return bad_field(at("x_km"), "the location must be finite numbers".into());
            }
            if s.slot_capacity.len() != days {
                return bad_field(
                    at("slot_capacity"),
                    format!(
                        "{days} rows (one per date) expected, found {}",
                        s.slot_capacity.len()
                    ),
                );
            }
            for (d, row) in s.slot_capacity.iter().enumerate() {
                if row.len() != h.slots_per_day {
                    return bad_field(
                        at(&format!("slot_capacity[{d}]")),
                        format!(
                            "{} numbers (one per slot) expected, found {}",
                            h.slots_per_day,
                            row.len()
                        ),
                    );
                }
            }
            if s.doses.len() != days {
                return bad_field(
                    at("doses"),
                    format!(
                        "{days} numbers (one per date) expected, found {}",
                        s.doses.len()
                    ),
                );
            }
        }
        Ok(())
    }

    fn validate_teams(&self) -> Result<(), PlanError> {
        let days = self.horizon.dates.len();
        let mut ids = std::collections::HashSet::new();
        for (i, t) in self.teams.iter().enumerate() {
            let at = |f: &str| format!("teams[{i}] ({}).{f}", t.id);
            if t.id.is_empty() || !ids.insert(t.id.as_str()) {
                return bad_field(
                    format!("teams[{i}].id"),
                    format!("\"{}\" is empty or repeated", t.id),
                );
            }
            if t.size == 0 || t.size > MAX_TEAM {
                return bad_field(
                    at("size"),
                    format!("a team has from 1 to {MAX_TEAM} people, not {}", t.size),
                );
            }
            if t.priority_people > t.size {
                return bad_field(
                    at("priority_people"),
                    format!(
                        "{} is more than the team's size {}",
                        t.priority_people, t.size
                    ),
                );
            }
            if let Some(&d) = t.days.iter().find(|&&d| d >= days) {
                return bad_field(
                    at("days"),
                    format!("day {d} is past the horizon's {days} dates"),
                );
            }
            if t.max_parts == 0 {
                return bad_field(at("max_parts"), "at least 1 (1 = never split)".into());
            }
            if !t.x_km.is_finite() || !t.y_km.is_finite() {
                return bad_field(at("x_km"), "the location must be finite numbers".into());
            }
            if let Some(unknown) = t
                .sites
                .iter()
                .find(|id| !self.sites.iter().any(|s| &s.id == *id))
            {
                return bad_field(
                    at("sites"),
                    format!("site \"{unknown}\" is not in the instance"),
                );
            }
            if t.hard_window && t.window == Window::Any {
                return bad_field(
                    at("hard_window"),
                    "a hard window needs \"am\" or \"pm\"".into(),
                );
            }
        }
        Ok(())
    }

    fn validate_buses_and_weights(&self) -> Result<(), PlanError> {
        let b = &self.buses;
        if !(b.speed_kmh.is_finite() && b.speed_kmh > 0.0) {
            return bad_field(
                "buses.speed_kmh".into(),
                format!("{} is not a speed", b.speed_kmh),
            );
        }
        if b.seats == 0 && self.teams.iter().any(|t| t.bus) {
            return bad_field(
                "buses.seats".into(),
                "teams need the shuttle, but a bus has no seats".into(),
            );
        }
        let w = &self.weights;
        if [
            w.person,
            w.priority_person,
            w.travel_person_minute,
            w.window_miss_person,
        ]
        .iter()
        .any(|&x| !(0..=MAX_WEIGHT).contains(&x))
        {
            return bad_field(
                "weights".into(),
                format!("each weight is from 0 to {MAX_WEIGHT}"),
            );
        }
        Ok(())
    }

    pub fn days(&self) -> usize {
        self.horizon.dates.len()
    }

    pub fn slots(&self) -> usize {
        self.horizon.slots_per_day
    }

    /// Minutes from `day_start` at which slot `k` starts.
    pub fn slot_start(&self, k: usize) -> i32 {
        (k as u32 * self.horizon.slot_minutes) as i32
    }

    /// Minute of the day at which slot `k` starts (`day_start` plus the slots before it).
    pub fn slot_clock(&self, k: usize) -> i64 {
        i64::from(clock_minutes(&self.horizon.day_start).unwrap_or(0))
            + i64::from(self.slot_start(k))
    }

    /// The slot starting at `hh_mm` ("09:30"), if the grid has one.
    pub fn slot_at(&self, hh_mm: &str) -> Option<usize> {
        let minute = i64::from(clock_minutes(hh_mm.trim())?);
        (0..self.slots()).find(|&k| self.slot_clock(k) == minute)
    }

    /// Whether slot `k` lies in `window` (am: starts before 12:00).
    pub fn in_window(&self, k: usize, window: Window) -> bool {
        let start = clock_minutes(&self.horizon.day_start).unwrap_or(0)
            + k as u32 * self.horizon.slot_minutes;
        match window {
            Window::Any => true,
            Window::Am => start < 12 * 60,
            Window::Pm => start >= 12 * 60,
        }
    }

    /// Travel minutes from team `t` to site `s`, as the format defines them.
    pub fn travel(&self, t: usize, s: usize) -> i32 {
        travel_minutes(&self.teams[t], &self.sites[s], self.buses.speed_kmh)
    }

    /// Closes site `s` on day `d` (every slot to 0) and moves its doses that day to the nearest
    /// other site, as when a site must shut and its delivery is redirected. Returns the site
    /// that received them, if there is another site.
    pub fn close_site_day(&mut self, s: usize, d: usize) -> Option<usize> {
        self.sites[s].slot_capacity[d]
            .iter_mut()
            .for_each(|c| *c = 0);
        let doses = std::mem::take(&mut self.sites[s].doses[d]);
        let (x, y) = (self.sites[s].x_km, self.sites[s].y_km);
        let distance = |o: &Site| (o.x_km - x).hypot(o.y_km - y);
        let nearest = (0..self.sites.len())
            .filter(|&o| o != s)
            .min_by(|&a, &b| distance(&self.sites[a]).total_cmp(&distance(&self.sites[b])))?;
        self.sites[nearest].doses[d] += doses;
        Some(nearest)
    }

    /// Whether site `s` serves team `t`.
    pub fn serves(&self, s: usize, t: usize) -> bool {
        let sites = &self.teams[t].sites;
        sites.is_empty() || sites.contains(&self.sites[s].id)
    }

    /// Whether team `t` may come on day `d`.
    pub fn allows_day(&self, t: usize, d: usize) -> bool {
        let days = &self.teams[t].days;
        days.is_empty() || days.contains(&d)
    }
}

/// ⌈60 × km / speed⌉ minutes, computed as the format prescribes so every implementation agrees.
pub fn travel_minutes(team: &Team, site: &Site, speed_kmh: f64) -> i32 {
    let km = (team.x_km - site.x_km).hypot(team.y_km - site.y_km);
    (60.0 * km / speed_kmh - 1e-9).ceil().max(0.0) as i32
}

/// `YYYY-MM-DD` with a plausible month and day (the planner needs no calendar arithmetic).
fn chrono_like_date(text: &str) -> Option<()> {
    let mut parts = text.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (_, m, d): (u32, u32, u32) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    ((1..=12).contains(&m) && (1..=31).contains(&d)).then_some(())
}

/// A field of the instance that is not as the format says.
fn bad_field(field: String, message: String) -> Result<(), PlanError> {
    Err(PlanError::Field { field, message })
}
