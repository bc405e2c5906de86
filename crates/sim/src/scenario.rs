//! The clinic scenario, `vaxloop-clinic/1` (`docs/formats/clinic-scenario.md`): who arrives when, the
//! stations they pass in order with their desks, service times and space, and the observation
//! area. Read from TOML, checked as a whole before anything runs, every problem named by the key
//! it is about (`stations[2].service.cv`). All times are minutes from the opening of the day.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::engine::Random;

pub const FORMAT: &str = "vaxloop-clinic/1";

/// No day runs longer than a week of minutes, nor expects more people than this.
pub const MAX_MINUTES: f64 = 7.0 * 24.0 * 60.0;
pub const MAX_PEOPLE: f64 = 2_000_000.0;
pub const MAX_STATIONS: usize = 32;
pub const MAX_SERVERS: u32 = 10_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    pub format: String,
    #[serde(default)]
    pub name: String,
    /// No `poisson` or `batch` arrivals after this minute; booked people keep their own times.
    pub arrivals_until: f64,
    #[serde(default)]
    pub arrivals: Vec<Arrivals>,
    pub stations: Vec<Station>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observation: Option<Observation>,
}

/// One stream of arrivals; all streams are merged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Arrivals {
    /// People arriving on their own (walk-ins), at a rate that may change every hour.
    Poisson {
        rate_per_hour: Rate,
        #[serde(default)]
        priority_share: f64,
    },
    /// Booked people: `per_slot[k]` booked into the slot starting at `k × slot_minutes`.
    Appointments {
        slot_minutes: f64,
        per_slot: Vec<u32>,
        #[serde(default)]
        no_show: f64,
        /// Arrival minus slot start; on time when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        punctuality: Option<Dist>,
        #[serde(default)]
        priority_share: f64,
    },
    /// Shuttle buses: `size` people at each instant of `at`.
    Batch {
        at: Vec<f64>,
        size: u32,
        #[serde(default)]
        no_show: f64,
        #[serde(default)]
        priority_share: f64,
    },
}

/// A rate per hour: one for the whole day, or one per hour of the day (0 after the list).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Rate {
    Flat(f64),
    Hourly(Vec<f64>),
}

impl Rate {
    /// The rate per minute during minute `t`.
    pub fn per_minute_at(&self, t: f64) -> f64 {
        match self {
            Rate::Flat(r) => r / 60.0,
            Rate::Hourly(rates) => rates
                .get((t / 60.0).floor().max(0.0) as usize)
                .map_or(0.0, |r| r / 60.0),
        }
    }

    /// Expected arrivals in [0, until).
    pub fn expected(&self, until: f64) -> f64 {
        match self {
            Rate::Flat(r) => r * until / 60.0,
            Rate::Hourly(rates) => rates
                .iter()
                .enumerate()
                .map(|(h, r)| r * ((until - 60.0 * h as f64).clamp(0.0, 60.0)) / 60.0)
                .sum(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Station {
    pub name: String,
    /// Desks all day (a shift from 0 to `arrivals_until`); or give `shifts`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub servers: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shifts: Option<Vec<Shift>>,
    pub service: Dist,
    /// The most people here at once: queued, in service, and finished but blocked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u32>,
    /// The share who leave after this station (deferred at screening, say).
    #[serde(default)]
    pub leave_probability: f64,
    /// First station only: arrivals that find it full leave instead of waiting outside.
    #[serde(default)]
    pub balk_when_full: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Shift {
    pub from: f64,
    pub to: f64,
    pub servers: u32,
}

impl Station {
    /// The shifts, a station with `servers` being one shift from 0 to `arrivals_until`.
    pub fn shift_list(&self, arrivals_until: f64) -> Vec<Shift> {
        match (&self.shifts, self.servers) {
            (Some(shifts), _) => shifts.clone(),
            (None, Some(servers)) => vec![Shift {
                from: 0.0,
                to: arrivals_until,
                servers,
            }],
            (None, None) => Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// Seats; unlimited when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seats: Option<u32>,
    pub minutes: Dist,
}

/// A distribution of minutes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "dist", rename_all = "lowercase")]
pub enum Dist {
    Exponential {
        mean: f64,
    },
    Deterministic {
        value: f64,
    },
    /// Only for punctuality: it can be negative.
    Normal {
        mean: f64,
        sd: f64,
    },
    /// `cv` is that of the distribution itself, not of its logarithm.
    Lognormal {
        mean: f64,
        cv: f64,
    },
    Triangular {
        min: f64,
        mode: f64,
        max: f64,
    },
    Choice {
        values: Vec<f64>,
        weights: Vec<f64>,
    },
    /// Measured times: one drawn uniformly.
    Empirical {
        values: Vec<f64>,
    },
}

impl Dist {
    pub fn mean(&self) -> f64 {
        match self {
            Dist::Exponential { mean }
            | Dist::Normal { mean, .. }
            | Dist::Lognormal { mean, .. } => *mean,
            Dist::Deterministic { value } => *value,
            Dist::Triangular { min, mode, max } => (min + mode + max) / 3.0,
            Dist::Choice { values, weights } => {
                let total: f64 = weights.iter().sum();
                values.iter().zip(weights).map(|(v, w)| v * w).sum::<f64>() / total
            }
            Dist::Empirical { values } => values.iter().sum::<f64>() / values.len() as f64,
        }
    }

    pub fn variance(&self) -> f64 {
        match self {
            Dist::Exponential { mean } => mean * mean,
            Dist::Deterministic { .. } => 0.0,
            Dist::Normal { sd, .. } => sd * sd,
            Dist::Lognormal { mean, cv } => (mean * cv).powi(2),
            Dist::Triangular { min, mode, max } => {
                let (a, c, b) = (min, mode, max);
                (a * a + b * b + c * c - a * b - a * c - b * c) / 18.0
            }
            Dist::Choice { values, weights } => {
                let total: f64 = weights.iter().sum();
                let m = self.mean();
                values
                    .iter()
                    .zip(weights)
                    .map(|(v, w)| w * (v - m).powi(2))
                    .sum::<f64>()
                    / total
            }
            Dist::Empirical { values } => {
                let m = self.mean();
                values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / values.len() as f64
            }
        }
    }

    /// The squared coefficient of variation (for Allen–Cunneen).
    pub fn scv(&self) -> f64 {
        let m = self.mean();
        if m > 0.0 {
            self.variance() / (m * m)
        } else {
            0.0
        }
    }

    /// A sampler with its constants worked out once.
    pub fn sampler(&self) -> Sampler {
        match self {
            Dist::Exponential { mean } => Sampler::Exponential(*mean),
            Dist::Deterministic { value } => Sampler::Fixed(*value),
            Dist::Normal { mean, sd } => Sampler::Normal {
                mean: *mean,
                sd: *sd,
            },
            Dist::Lognormal { mean, cv } => {
                let s2 = (1.0 + cv * cv).ln();
                Sampler::Lognormal {
                    mu: mean.ln() - s2 / 2.0,
                    sigma: s2.sqrt(),
                }
            }
            Dist::Triangular { min, mode, max } => {
                if max <= min {
                    Sampler::Fixed(*min)
                } else {
                    Sampler::Triangular {
                        min: *min,
                        mode: *mode,
                        max: *max,
                        split: (mode - min) / (max - min),
                    }
                }
            }
            Dist::Choice { values, weights } => {
                let total: f64 = weights.iter().sum();
                let mut acc = 0.0;
                let cumulative = weights
                    .iter()
                    .map(|w| {
                        acc += w / total;
                        acc
                    })
                    .collect();
                Sampler::Choice {
                    values: values.clone(),
                    cumulative,
                }
            }
            Dist::Empirical { values } => Sampler::Empirical(values.clone()),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Dist::Exponential { .. } => "exponential",
            Dist::Deterministic { .. } => "deterministic",
            Dist::Normal { .. } => "normal",
            Dist::Lognormal { .. } => "lognormal",
            Dist::Triangular { .. } => "triangular",
            Dist::Choice { .. } => "choice",
            Dist::Empirical { .. } => "empirical",
        }
    }

    /// Checks the parameters; `durations` refuses negative values (service and observation times,
    /// as against punctuality) and the normal law.
    fn check(&self, at: &str, durations: bool) -> Result<(), ScenarioError> {
        let bad =
            |key: &str, message: String| Err(ScenarioError::at(format!("{at}.{key}"), message));
        let finite = |key: &str, v: f64| -> Result<(), ScenarioError> {
            if !v.is_finite() || v.abs() > MAX_MINUTES {
                return bad(key, format!("must be a number of minutes, not {v}"));
            }
            if durations && v < 0.0 {
                return bad(key, format!("a duration cannot be negative ({v})"));
            }
            Ok(())
        };
        match self {
            Dist::Exponential { mean } => {
                finite("mean", *mean)?;
                if *mean <= 0.0 {
                    return bad("mean", format!("must be above 0, not {mean}"));
                }
            }
            Dist::Deterministic { value } => finite("value", *value)?,
            Dist::Normal { mean, sd } => {
                if durations {
                    return bad(
                        "dist",
                        "the normal law can go below 0: use it for punctuality only (lognormal or triangular suit durations)".into(),
                    );
                }
                finite("mean", *mean)?;
                finite("sd", *sd)?;
                if *sd < 0.0 {
                    return bad("sd", format!("cannot be negative ({sd})"));
                }
            }
            Dist::Lognormal { mean, cv } => {
                finite("mean", *mean)?;
                if *mean <= 0.0 {
                    return bad("mean", format!("must be above 0, not {mean}"));
                }
                if !(cv.is_finite() && (0.0..=10.0).contains(cv)) {
                    return bad("cv", format!("must be from 0 to 10, not {cv}"));
                }
            }
            Dist::Triangular { min, mode, max } => {
                finite("min", *min)?;
                finite("mode", *mode)?;
                finite("max", *max)?;
                if !(min <= mode && mode <= max) {
                    return bad(
                        "mode",
                        format!("needs min ≤ mode ≤ max, not {min} ≤ {mode} ≤ {max}"),
                    );
                }
            }
            Dist::Choice { values, weights } => {
                if values.is_empty() {
                    return bad("values", "lists no values".into());
                }
                if values.len() != weights.len() {
                    return bad(
                        "weights",
                        format!("has {} weights for {} values", weights.len(), values.len()),
                    );
                }
                for (i, v) in values.iter().enumerate() {
                    finite(&format!("values[{i}]"), *v)?;
                }
                for (i, w) in weights.iter().enumerate() {
                    if !(w.is_finite() && *w >= 0.0) {
                        return bad(
                            &format!("weights[{i}]"),
                            format!("must be 0 or more, not {w}"),
                        );
                    }
                }
                if weights.iter().sum::<f64>() <= 0.0 {
                    return bad("weights", "add up to 0".into());
                }
            }
            Dist::Empirical { values } => {
                if values.is_empty() {
                    return bad("values", "lists no measured values".into());
                }
                for (i, v) in values.iter().enumerate() {
                    finite(&format!("values[{i}]"), *v)?;
                }
            }
        }
        Ok(())
    }
}

/// A distribution ready to draw from.
#[derive(Debug, Clone, PartialEq)]
pub enum Sampler {
    Fixed(f64),
    Exponential(f64),
    Normal {
        mean: f64,
        sd: f64,
    },
    Lognormal {
        mu: f64,
        sigma: f64,
    },
    Triangular {
        min: f64,
        mode: f64,
        max: f64,
        split: f64,
    },
    Choice {
        values: Vec<f64>,
        cumulative: Vec<f64>,
    },
    Empirical(Vec<f64>),
}

impl Sampler {
    #[inline]
    pub fn draw(&self, rng: &mut Random) -> f64 {
        match self {
            Sampler::Fixed(v) => *v,
            Sampler::Exponential(mean) => rng.exponential(*mean),
            Sampler::Normal { mean, sd } => mean + sd * rng.normal(),
            Sampler::Lognormal { mu, sigma } => (mu + sigma * rng.normal()).exp(),
            Sampler::Triangular {
                min,
                mode,
                max,
                split,
            } => {
                let u = rng.uniform();
                if u < *split {
                    min + (u * (max - min) * (mode - min)).sqrt()
                } else {
                    max - ((1.0 - u) * (max - min) * (max - mode)).sqrt()
                }
            }
            Sampler::Choice { values, cumulative } => {
                let u = rng.uniform();
                let i = cumulative.partition_point(|c| *c <= u);
                values[i.min(values.len() - 1)]
            }
            Sampler::Empirical(values) => {
                values[((rng.uniform() * values.len() as f64) as usize).min(values.len() - 1)]
            }
        }
    }
}

/// What is wrong with a scenario, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    /// The key path (`stations[1].service.cv`), or empty for the file as a whole.
    pub at: String,
    pub message: String,
}

impl ScenarioError {
    fn at(at: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            at: at.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.at.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.at, self.message)
        }
    }
}

impl std::error::Error for ScenarioError {}

impl Scenario {
    /// Reads and checks a scenario file's text.
    pub fn from_toml(text: &str) -> Result<Self, ScenarioError> {
        let scenario: Scenario = toml::from_str(text)
            .map_err(|e| ScenarioError::at("", format!("not a clinic scenario: {e}")))?;
        scenario.check()?;
        Ok(scenario)
    }

    /// The scenario as TOML.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a scenario is plain data")
    }

    /// Expected arrivals over the day (before no-shows are drawn).
    pub fn expected_people(&self) -> f64 {
        self.arrivals
            .iter()
            .map(|a| match a {
                Arrivals::Poisson { rate_per_hour, .. } => {
                    rate_per_hour.expected(self.arrivals_until)
                }
                Arrivals::Appointments {
                    per_slot, no_show, ..
                } => per_slot.iter().map(|n| *n as f64).sum::<f64>() * (1.0 - no_show),
                Arrivals::Batch {
                    at, size, no_show, ..
                } => {
                    at.iter().filter(|t| **t <= self.arrivals_until).count() as f64
                        * *size as f64
                        * (1.0 - no_show)
                }
            })
            .sum()
    }

    /// Checks everything a run relies on, naming the first problem found.
    pub fn check(&self) -> Result<(), ScenarioError> {
        if self.format != FORMAT {
            return Err(ScenarioError::at(
                "format",
                format!("must be \"{FORMAT}\", not \"{}\"", self.format),
            ));
        }
        if !(self.arrivals_until.is_finite()
            && self.arrivals_until > 0.0
            && self.arrivals_until <= MAX_MINUTES)
        {
            return Err(ScenarioError::at(
                "arrivals_until",
                format!(
                    "must be a minute after opening, at most {MAX_MINUTES} (a week), not {}",
                    self.arrivals_until
                ),
            ));
        }
        for (i, stream) in self.arrivals.iter().enumerate() {
            check_stream(stream, &format!("arrivals[{i}]"))?;
        }
        let people = self.expected_people();
        if people > MAX_PEOPLE {
            return Err(ScenarioError::at(
                "arrivals",
                format!("expect {people:.0} people in a day; at most {MAX_PEOPLE} are simulated"),
            ));
        }
        if self.stations.is_empty() {
            return Err(ScenarioError::at(
                "stations",
                "lists no stations: give at least one [[stations]]",
            ));
        }
        if self.stations.len() > MAX_STATIONS {
            return Err(ScenarioError::at(
                "stations",
                format!(
                    "at most {MAX_STATIONS} stations, not {}",
                    self.stations.len()
                ),
            ));
        }
        for (i, station) in self.stations.iter().enumerate() {
            let at = format!("stations[{i}]");
            if self.stations[..i].iter().any(|s| s.name == station.name) {
                return Err(ScenarioError::at(
                    format!("{at}.name"),
                    format!("\"{}\" names two stations", station.name),
                ));
            }
            if station.name.trim().is_empty() {
                return Err(ScenarioError::at(format!("{at}.name"), "is empty"));
            }
            check_station(station, i, &at)?;
        }
        if let Some(observation) = &self.observation {
            if observation.seats == Some(0) {
                return Err(ScenarioError::at(
                    "observation.seats",
                    "must be at least 1 (leave it out for unlimited seats)",
                ));
            }
            observation.minutes.check("observation.minutes", true)?;
        }
        Ok(())
    }
}

fn share(at: &str, key: &str, v: f64) -> Result<(), ScenarioError> {
    if !(v.is_finite() && (0.0..=1.0).contains(&v)) {
        return Err(ScenarioError::at(
            format!("{at}.{key}"),
            format!("must be a share from 0 to 1, not {v}"),
        ));
    }
    Ok(())
}

fn check_stream(stream: &Arrivals, at: &str) -> Result<(), ScenarioError> {
    match stream {
        Arrivals::Poisson {
            rate_per_hour,
            priority_share,
        } => {
            share(at, "priority_share", *priority_share)?;
            let rates = match rate_per_hour {
                Rate::Flat(r) => vec![*r],
                Rate::Hourly(rates) => {
                    if rates.len() > (MAX_MINUTES / 60.0) as usize {
                        return Err(ScenarioError::at(
                            format!("{at}.rate_per_hour"),
                            format!("lists {} hours; a week has 168", rates.len()),
                        ));
                    }
                    rates.clone()
                }
            };
            for (h, r) in rates.iter().enumerate() {
                if !(r.is_finite() && *r >= 0.0) {
                    let key = match rate_per_hour {
                        Rate::Flat(_) => "rate_per_hour".to_string(),
                        Rate::Hourly(_) => format!("rate_per_hour[{h}]"),
                    };
                    return Err(ScenarioError::at(
                        format!("{at}.{key}"),
                        format!("must be 0 or more people per hour, not {r}"),
                    ));
                }
            }
        }
        Arrivals::Appointments {
            slot_minutes,
            per_slot,
            no_show,
            punctuality,
            priority_share,
        } => {
            share(at, "priority_share", *priority_share)?;
            share(at, "no_show", *no_show)?;
            if !(slot_minutes.is_finite() && *slot_minutes > 0.0) {
                return Err(ScenarioError::at(
                    format!("{at}.slot_minutes"),
                    format!("must be above 0, not {slot_minutes}"),
                ));
            }
            if per_slot.len() as f64 * slot_minutes > MAX_MINUTES {
                return Err(ScenarioError::at(
                    format!("{at}.per_slot"),
                    format!(
                        "{} slots of {slot_minutes} minutes run past a week",
                        per_slot.len()
                    ),
                ));
            }
            if let Some(p) = punctuality {
                p.check(&format!("{at}.punctuality"), false)?;
            }
        }
        Arrivals::Batch {
            at: times,
            no_show,
            priority_share,
            ..
        } => {
            share(at, "priority_share", *priority_share)?;
            share(at, "no_show", *no_show)?;
            for (i, t) in times.iter().enumerate() {
                if !(t.is_finite() && (0.0..=MAX_MINUTES).contains(t)) {
                    return Err(ScenarioError::at(
                        format!("{at}.at[{i}]"),
                        format!("must be a minute from 0 to {MAX_MINUTES}, not {t}"),
                    ));
                }
            }
        }
    }
    Ok(())
}

fn check_station(station: &Station, index: usize, at: &str) -> Result<(), ScenarioError> {
    match (&station.shifts, station.servers) {
        (Some(_), Some(_)) => {
            return Err(ScenarioError::at(
                format!("{at}.servers"),
                "give servers or shifts, not both",
            ));
        }
        (None, None) => {
            return Err(ScenarioError::at(
                format!("{at}.servers"),
                "is missing: give servers or shifts",
            ));
        }
        (None, Some(servers)) => servers_in_range(&format!("{at}.servers"), servers)?,
        (Some(shifts), None) => {
            if shifts.is_empty() {
                return Err(ScenarioError::at(format!("{at}.shifts"), "lists no shifts"));
            }
            for (j, shift) in shifts.iter().enumerate() {
                let sat = format!("{at}.shifts[{j}]");
                servers_in_range(&format!("{sat}.servers"), shift.servers)?;
                if !(shift.from.is_finite()
                    && shift.to.is_finite()
                    && 0.0 <= shift.from
                    && shift.from < shift.to
                    && shift.to <= MAX_MINUTES)
                {
                    return Err(ScenarioError::at(
                        format!("{sat}.to"),
                        format!(
                            "a shift runs forward within the week: from {} to {} will not do",
                            shift.from, shift.to
                        ),
                    ));
                }
                if j > 0 && shift.from < shifts[j - 1].to {
                    return Err(ScenarioError::at(
                        format!("{sat}.from"),
                        format!(
                            "starts at {} before the shift before it ends ({}): list shifts in order without overlaps",
                            shift.from,
                            shifts[j - 1].to
                        ),
                    ));
                }
            }
        }
    }
    station.service.check(&format!("{at}.service"), true)?;
    share(at, "leave_probability", station.leave_probability)?;
    if station.capacity == Some(0) {
        return Err(ScenarioError::at(
            format!("{at}.capacity"),
            "must be at least 1 (leave it out for unlimited space)",
        ));
    }
    if station.balk_when_full && index > 0 {
        return Err(ScenarioError::at(
            format!("{at}.balk_when_full"),
            "only the first station can turn arrivals away",
        ));
    }
    Ok(())
}

fn servers_in_range(at: &str, servers: u32) -> Result<(), ScenarioError> {
    if !(1..=MAX_SERVERS).contains(&servers) {
        return Err(ScenarioError::at(
            at,
            format!("must be from 1 to {MAX_SERVERS} desks, not {servers}"),
        ));
    }
    Ok(())
}

/// The example of `docs/formats/clinic-scenario.md`, a weekday at one site.
pub const EXAMPLE: &str = r#"format = "vaxloop-clinic/1"
name = "hechuan-weekday"
arrivals_until = 600

[[arrivals]]
kind = "poisson"
rate_per_hour = 40
priority_share = 0.10

[[arrivals]]
kind = "appointments"
slot_minutes = 30
per_slot = [60, 60, 60, 60]
no_show = 0.05
punctuality = { dist = "normal", mean = -5.0, sd = 7.0 }
priority_share = 0.08

[[arrivals]]
kind = "batch"
at = [45, 105, 165]
size = 45
priority_share = 0.0

[[stations]]
name = "checkin"
servers = 4
service = { dist = "triangular", min = 0.3, mode = 0.5, max = 1.5 }
capacity = 300

[[stations]]
name = "screening"
servers = 6
service = { dist = "lognormal", mean = 2.5, cv = 0.6 }
leave_probability = 0.03

[[stations]]
name = "vaccination"
servers = 10
service = { dist = "lognormal", mean = 2.0, cv = 0.4 }

[observation]
seats = 120
minutes = { dist = "choice", values = [15.0, 30.0], weights = [0.95, 0.05] }
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spec_example_reads_and_writes_back_the_same() {
        let s = Scenario::from_toml(EXAMPLE).expect("the example reads");
        assert_eq!(s.name, "hechuan-weekday");
        assert_eq!(s.arrivals.len(), 3);
        assert_eq!(s.stations[1].leave_probability, 0.03);
        assert_eq!(s.stations[0].shift_list(600.0)[0].servers, 4);
        assert_eq!(
            s.observation.as_ref().expect("observation").seats,
            Some(120)
        );
        assert!((s.expected_people() - (400.0 + 228.0 + 135.0)).abs() < 1e-9);
        assert_eq!(Scenario::from_toml(&s.to_toml()).expect("it reads back"), s);
    }

    #[test]
    fn problems_name_the_key_they_are_about() {
        let bad = |from: &str, to: &str| {
            Scenario::from_toml(&EXAMPLE.replacen(from, to, 1))
                .expect_err("refused")
                .to_string()
        };
        assert!(bad("cv = 0.6", "cv = -1").starts_with("stations[1].service.cv:"));
        assert!(bad("no_show = 0.05", "no_show = 1.5").starts_with("arrivals[1].no_show:"));
        assert!(
            bad(
                "service = { dist = \"triangular\", min = 0.3",
                "service = { dist = \"triangular\", min = 0.9"
            )
            .starts_with("stations[0].service.mode:")
        );
        assert!(bad("servers = 6", "").starts_with("stations[1].servers: is missing"));
        assert!(bad("name = \"screening\"", "name = \"checkin\"").contains("names two stations"));
        assert!(
            bad(
                "dist = \"lognormal\", mean = 2.0",
                "dist = \"normal\", sd = 1, mean = 2.0"
            )
            .starts_with("stations[2].service.dist:")
        );
        assert!(bad("seats = 120", "seats = 0").starts_with("observation.seats:"));
        assert!(bad("vaxloop-clinic/1", "vaxloop-clinic/9").starts_with("format:"));
        assert!(
            bad("weights = [0.95, 0.05]", "weights = [1.0]").contains("1 weights for 2 values")
        );
        // The parser's own messages say where, by line.
        let e = bad("kind = \"batch\"", "kind = \"bus\"");
        assert!(e.contains("line"), "{e}");
        assert!(
            bad("rate_per_hour = 40", "rate_per_hour = [40, -1]")
                .starts_with("arrivals[0].rate_per_hour[1]:")
        );
        assert!(bad("servers = 4", "shifts = [{ from = 0, to = 300, servers = 4 }, { from = 200, to = 600, servers = 3 }]")
            .starts_with("stations[0].shifts[1].from:"));
    }

    #[test]
    fn draws_have_the_moments_their_distribution_claims() {
        let dists = [
            Dist::Triangular {
                min: 0.3,
                mode: 0.5,
                max: 1.5,
            },
            Dist::Lognormal { mean: 2.5, cv: 0.6 },
            Dist::Choice {
                values: vec![15.0, 30.0],
                weights: vec![0.95, 0.05],
            },
            Dist::Empirical {
                values: vec![1.0, 2.0, 4.0],
            },
            Dist::Exponential { mean: 3.0 },
        ];
        for d in dists {
            let s = d.sampler();
            let mut rng = Random::seeded(11);
            let n = 400_000;
            let draws: Vec<f64> = (0..n).map(|_| s.draw(&mut rng)).collect();
            let mean = draws.iter().sum::<f64>() / n as f64;
            let var = draws.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
            assert!((mean / d.mean() - 1.0).abs() < 0.01, "{d:?}: {mean}");
            assert!((var / d.variance() - 1.0).abs() < 0.03, "{d:?}: {var}");
        }
    }
}
