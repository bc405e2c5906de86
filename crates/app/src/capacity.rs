//! Slot capacity from the simulator (issue 7): a site's zones — desks per shift, space, mean
//! service times — and what its past days measured become a clinic model, and the capacity of a
//! slot is the most people per slot whose simulated day keeps the 95th percentile of a person's
//! total wait at or under the target with observation seats to spare.
//!
//! What was measured closes the loop: service times at screening and vaccination are read from
//! the gaps between one desk's successive completions when the next person was already waiting
//! (so the gap is that person's service, not idle time), observation stays from dose to release;
//! the share deferred at screening from the screenings. Check-in has no start time of its own
//! (a scan is the arrival), so its service time stays as configured.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use vaxloop_core::ZoneKind;
use vaxloop_core::capacity::{Simulated, UTILISATION, ZoneShift, bottleneck};
use vaxloop_sim::capacity::{Demand, Judge, safe_per_slot};
use vaxloop_sim::scenario::{Dist, Observation, Station};
use vaxloop_sim::site::SiteProfile;
use vaxloop_store::journeys::StepAt;
use vaxloop_store::sites::Zone;

/// The wait a safe slot keeps: the 95th percentile of a person's total wait, minutes.
pub const WAIT_P95_TARGET: f64 = 10.0;
/// Replications per candidate capacity.
pub const REPLICATIONS: u64 = 8;
/// The green channel's share and walk-ins (as a share of bookings) assumed for a slot.
pub const PRIORITY_SHARE: f64 = 0.1;
pub const WALK_IN_SHARE: f64 = 0.05;
/// Days of journeys read to calibrate service times.
pub const CALIBRATION_DAYS: i64 = 14;
/// Measurements kept at most (the latest).
pub const MAX_STEPS: i64 = 200_000;
/// The spread assumed for a configured mean service time (coefficient of variation).
pub const CONFIGURED_CV: f64 = 0.5;
/// The day simulated per candidate: 16 slots of 30 minutes.
const DAY_MINUTES: f64 = 480.0;
/// The share deferred at screening, and the no-shows, when the site has not measured them.
pub const DEFERRED_SHARE: f64 = 0.03;
pub const NO_SHOW_SHARE: f64 = 0.05;

/// The zones people pass in order, with their stations' names in the model.
const STATIONS: [(ZoneKind, &str); 3] = [
    (ZoneKind::Waiting, "checkin"),
    (ZoneKind::Screening, "screening"),
    (ZoneKind::Vaccination, "vaccination"),
];

/// The service times measured at a station (none at check-in: a scan is the arrival).
fn samples<'a>(measured: &'a Measured, station: &str) -> &'a [f64] {
    match station {
        "screening" => &measured.screening,
        "vaccination" => &measured.vaccination,
        _ => &[],
    }
}

/// A station of the model: `space` 0 is unlimited; screening defers the measured share.
fn station(name: &str, desks: u32, space: u32, service: Dist, measured: &Measured) -> Station {
    Station {
        name: name.into(),
        servers: Some(desks),
        shifts: None,
        service,
        capacity: (space > 0).then_some(space),
        leave_probability: if name == "screening" {
            measured.deferred_share.unwrap_or(DEFERRED_SHARE)
        } else {
            0.0
        },
        balk_when_full: false,
    }
}

/// A site's model of a day of [`DAY_MINUTES`]: `seats` 0 is unlimited.
fn site_profile(
    slot_minutes: f64,
    stations: Vec<Station>,
    seats: u32,
    minutes: Dist,
    no_show: f64,
) -> SiteProfile {
    SiteProfile {
        no_show,
        ..SiteProfile::new(
            DAY_MINUTES,
            slot_minutes,
            stations,
            Observation {
                seats: (seats > 0).then_some(seats),
                minutes,
            },
        )
    }
}

/// The observation seats of a site's zones (0: unlimited).
fn seats_of(zones: &[Zone]) -> u32 {
    zones
        .iter()
        .find(|z| z.kind == ZoneKind::Observation)
        .and_then(|z| u32::try_from(z.space).ok())
        .unwrap_or(0)
}

/// Who comes to a slot when nothing else is known: every slot of the day booked alike, with
/// [`PRIORITY_SHARE`] in the green channel and [`WALK_IN_SHARE`] walking in.
pub fn demand_for(profile: &SiteProfile) -> Demand {
    Demand {
        slots: (profile.open_minutes / profile.slot_minutes)
            .round()
            .max(1.0) as usize,
        priority_share: PRIORITY_SHARE,
        walk_in_share: WALK_IN_SHARE,
    }
}

/// The bottleneck rule's arithmetic for a shift of the site's zones (kept beside the simulated
/// capacity, for comparison).
pub fn bottleneck_rule(
    zones: &[Zone],
    afternoon: bool,
    slot_minutes: i64,
    observation_minutes: i64,
) -> vaxloop_core::capacity::Capacity {
    let shift: Vec<ZoneShift> = zones
        .iter()
        .map(|z| ZoneShift {
            zone: z.kind,
            desks: if afternoon { z.desks_pm } else { z.desks_am },
            space: z.space,
            mean_service_seconds: z.mean_service_seconds,
        })
        .collect();
    bottleneck(&shift, slot_minutes, observation_minutes, UTILISATION)
}

/// Service times and shares measured at a site, in minutes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Measured {
    pub screening: Vec<f64>,
    pub vaccination: Vec<f64>,
    pub observation: Vec<f64>,
    /// Deferred among those screened, when at least 50 were.
    pub deferred_share: Option<f64>,
}

/// What a site's journeys measured in the [`CALIBRATION_DAYS`] days before `first` (ending 12
/// hours before its UTC midnight, so no part of that day counts in any time zone; before now
/// without a day).
pub async fn measured_before(
    db: &vaxloop_store::Db,
    site_id: i64,
    first: Option<chrono::NaiveDate>,
) -> Result<Measured, vaxloop_store::StoreError> {
    let until = first
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map_or_else(vaxloop_store::now_ms, |t| {
            t.and_utc().timestamp_millis() - 12 * 3_600_000
        });
    let from = until - CALIBRATION_DAYS * 86_400_000;
    let steps = vaxloop_store::journeys::site_steps(db, site_id, from, until, MAX_STEPS).await?;
    Ok(measure(&steps))
}

/// Reads service times from a site's journey steps (in time order).
pub fn measure(steps: &[StepAt]) -> Measured {
    // Each journey's first time in each state.
    let mut when: HashMap<(i64, i64, &str), i64> = HashMap::new();
    for s in steps {
        when.entry((s.person, s.dose, s.state.as_str()))
            .or_insert(s.at);
    }
    // One desk's successive completions: the gap is the service of the second person when they
    // were already waiting (`ready` no later than the first completion).
    let gaps = |done: &[&str], ready: &str| -> Vec<f64> {
        let mut last: HashMap<i64, i64> = HashMap::new();
        let mut out = Vec::new();
        for s in steps.iter().filter(|s| done.contains(&s.state.as_str())) {
            let Some(actor) = s.actor else { continue };
            if let Some(previous) = last.insert(actor, s.at)
                && when
                    .get(&(s.person, s.dose, ready))
                    .is_some_and(|r| *r <= previous)
            {
                out.push((s.at - previous) as f64 / 60_000.0);
            }
        }
        out
    };
    let screening = gaps(&["screened", "deferred"], "checked_in");
    let vaccination = gaps(&["vaccinated"], "screened");
    let observation = steps
        .iter()
        .filter(|s| s.state == "released")
        .filter_map(|s| {
            when.get(&(s.person, s.dose, "observing"))
                .map(|from| (s.at - from) as f64 / 60_000.0)
        })
        .collect();
    let screened = steps.iter().filter(|s| s.state == "screened").count();
    let deferred = steps.iter().filter(|s| s.state == "deferred").count();
    Measured {
        screening,
        vaccination,
        observation,
        deferred_share: (screened + deferred >= 50)
            .then(|| deferred as f64 / (screened + deferred) as f64),
    }
}

/// The clinic model of a site's zones for one shift; None when a station has no desks then
/// (the slot is closed) or the site has no stations at all. Also says which stations' times
/// were measured, and from how many measurements.
pub fn profile(
    zones: &[Zone],
    afternoon: bool,
    measured: &Measured,
    slot_minutes: i64,
    observation_minutes: i64,
) -> Option<(SiteProfile, Vec<(String, usize)>)> {
    let mut stations = Vec::new();
    let mut used = Vec::new();
    for (kind, name) in STATIONS {
        let Some(z) = zones.iter().find(|z| z.kind == kind) else {
            continue;
        };
        let desks = if afternoon { z.desks_pm } else { z.desks_am };
        if desks <= 0 {
            return None;
        }
        let measured_here = samples(measured, name);
        let service = match vaxloop_sim::capacity::calibrate(measured_here, 30.0) {
            Some(d) => {
                used.push((name.to_string(), measured_here.len()));
                d
            }
            None => Dist::Lognormal {
                mean: z.mean_service_seconds.max(1) as f64 / 60.0,
                cv: CONFIGURED_CV,
            },
        };
        let space = u32::try_from(z.space).unwrap_or(0);
        stations.push(station(name, desks as u32, space, service, measured));
    }
    if stations.is_empty() {
        return None;
    }
    let minutes = match vaxloop_sim::capacity::calibrate(&measured.observation, 120.0) {
        Some(d) => {
            used.push(("observation".into(), measured.observation.len()));
            d
        }
        None => Dist::Deterministic {
            value: observation_minutes.max(0) as f64,
        },
    };
    let slot = slot_minutes.max(1) as f64;
    Some((
        site_profile(slot, stations, seats_of(zones), minutes, NO_SHOW_SHARE),
        used,
    ))
}

/// A model's full description, hashed (measured times can be thousands of numbers), to
/// remember what it gave.
fn hash_of(model: &impl std::fmt::Debug) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    format!("{model:?}").hash(&mut h);
    h.finish()
}

/// The safe capacity of a slot for this model, remembered for the life of the process (the
/// same zones and measurements give the same answer).
pub fn simulate(profile: &SiteProfile, measured_from: Vec<(String, usize)>) -> Simulated {
    static MEMO: OnceLock<Mutex<HashMap<u64, Simulated>>> = OnceLock::new();
    let key = hash_of(profile);
    let memo = MEMO.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(hit) = memo.lock().ok().and_then(|m| m.get(&key).cloned()) {
        return hit;
    }
    let judge = Judge {
        wait_p95_target: WAIT_P95_TARGET,
        replications: REPLICATIONS,
        seed: 1,
        threads: 1,
        max_arrivals: vaxloop_sim::capacity::MAX_ARRIVALS,
    };
    let found = safe_per_slot(profile, &demand_for(profile), &judge);
    let at = found.at_capacity.as_ref();
    let result = Simulated {
        per_slot: i64::from(found.per_slot),
        wait_p95_target: WAIT_P95_TARGET,
        wait_p95: at.map_or(0.0, |r| r.system.wait_p95),
        seats_peak: at
            .and_then(|r| r.observation.as_ref())
            .map_or(0.0, |o| o.peak),
        replications: REPLICATIONS,
        limiting: found.bottleneck,
        measured: measured_from,
    };
    if let Ok(mut m) = memo.lock() {
        if m.len() > 2_000 {
            m.clear();
        }
        m.insert(key, result.clone());
    }
    result
}

/// One station of a what-if: desks, space (0 = unlimited) and mean minutes per person.
#[derive(Debug, Clone, PartialEq)]
pub struct StationInput {
    pub name: String,
    pub desks: u32,
    pub space: u32,
    pub minutes: f64,
}

/// A what-if for a site: its stations, observation and a day's bookings, all editable.
#[derive(Debug, Clone, PartialEq)]
pub struct WhatIf {
    pub stations: Vec<StationInput>,
    /// Observation seats (0 = unlimited) and mean minutes.
    pub seats: u32,
    pub observation_minutes: f64,
    /// People booked in every slot of the day.
    pub per_slot: u32,
    pub walk_in_percent: f64,
    pub green_percent: f64,
    pub no_show_percent: f64,
    /// Minutes: the 95th percentile of a person's total wait to keep.
    pub target: f64,
}

impl WhatIf {
    /// The site as it is for a shift: desks, space, the measured mean times where measured
    /// (configured elsewhere), seats, and `per_slot` booked.
    pub fn of_site(zones: &[Zone], afternoon: bool, measured: &Measured, per_slot: u32) -> Self {
        let stations = STATIONS
            .iter()
            .filter_map(|(kind, name)| Some((zones.iter().find(|z| z.kind == *kind)?, *name)))
            .map(|(z, name)| {
                let configured = z.mean_service_seconds.max(1) as f64 / 60.0;
                let minutes = vaxloop_sim::capacity::calibrate(samples(measured, name), 30.0)
                    .map_or(configured, |d| d.mean());
                StationInput {
                    name: name.into(),
                    desks: u32::try_from(if afternoon { z.desks_pm } else { z.desks_am })
                        .unwrap_or(0),
                    space: u32::try_from(z.space).unwrap_or(0),
                    minutes: (minutes * 100.0).round() / 100.0,
                }
            })
            .collect();
        let observation = vaxloop_sim::capacity::calibrate(&measured.observation, 120.0)
            .map_or(vaxloop_core::capacity::OBSERVATION_MINUTES as f64, |d| {
                d.mean()
            });
        WhatIf {
            stations,
            seats: seats_of(zones),
            observation_minutes: (observation * 10.0).round() / 10.0,
            per_slot,
            walk_in_percent: WALK_IN_SHARE * 100.0,
            green_percent: PRIORITY_SHARE * 100.0,
            no_show_percent: NO_SHOW_SHARE * 100.0,
            target: WAIT_P95_TARGET,
        }
    }

    /// The clinic model: a station's measured times keep their shape, scaled to the mean asked
    /// for; without measurements, log-normal with [`CONFIGURED_CV`]. Observation likewise
    /// (fixed minutes without measurements).
    pub fn profile(&self, measured: &Measured) -> SiteProfile {
        let shaped = |samples: &[f64], longest: f64, mean: f64, otherwise: Dist| {
            match vaxloop_sim::capacity::calibrate(samples, longest) {
                Some(Dist::Empirical { values }) => {
                    let m = values.iter().sum::<f64>() / values.len() as f64;
                    Dist::Empirical {
                        values: values.iter().map(|v| v * mean / m).collect(),
                    }
                }
                Some(Dist::Lognormal { cv, .. }) => Dist::Lognormal { mean, cv },
                _ => otherwise,
            }
        };
        let stations = self
            .stations
            .iter()
            .map(|s| {
                let configured = Dist::Lognormal {
                    mean: s.minutes,
                    cv: CONFIGURED_CV,
                };
                let service = shaped(samples(measured, &s.name), 30.0, s.minutes, configured);
                station(&s.name, s.desks.max(1), s.space, service, measured)
            })
            .collect();
        let minutes = shaped(
            &measured.observation,
            120.0,
            self.observation_minutes,
            Dist::Deterministic {
                value: self.observation_minutes,
            },
        );
        site_profile(
            vaxloop_core::capacity::SLOT_MINUTES as f64,
            stations,
            self.seats,
            minutes,
            self.no_show_percent / 100.0,
        )
    }

    /// The day as asked: 20 replications, queue lengths every 15 minutes.
    /// Remembered for a while, so the page and its chart simulate a what-if once.
    pub fn simulate_day(&self, measured: &Measured) -> vaxloop_sim::clinic::ClinicResult {
        static MEMO: OnceLock<Mutex<HashMap<u64, vaxloop_sim::clinic::ClinicResult>>> =
            OnceLock::new();
        let scenario = self
            .profile(measured)
            .day("what-if", &self.demand().day(self.per_slot));
        let key = hash_of(&scenario);
        let memo = MEMO.get_or_init(|| Mutex::new(HashMap::new()));
        if let Some(hit) = memo.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return hit;
        }
        let day = vaxloop_sim::clinic::simulate(&scenario, 20, 1, 1, Some(15.0));
        if let Ok(mut m) = memo.lock() {
            if m.len() > 64 {
                m.clear();
            }
            m.insert(key, day.clone());
        }
        day
    }

    pub fn demand(&self) -> Demand {
        Demand {
            slots: (DAY_MINUTES / vaxloop_core::capacity::SLOT_MINUTES as f64) as usize,
            priority_share: self.green_percent / 100.0,
            walk_in_share: self.walk_in_percent / 100.0,
        }
    }
}

/// What a what-if found: the day as asked (with queue lengths every 15 minutes), and the safe
/// bookings per slot for those desks and times.
#[derive(Debug, Clone, PartialEq)]
pub struct WhatIfOutcome {
    pub day: vaxloop_sim::clinic::ClinicResult,
    pub safe_per_slot: u32,
    pub safe_wait_p95: f64,
    pub limiting: Option<String>,
    /// Still safe at the most people the search simulates: the site takes at least
    /// `safe_per_slot`.
    pub at_least: bool,
    /// The search was stopped before it was done.
    pub stopped: bool,
}

/// Runs a what-if (CPU-bound: call it off the async runtime), asking `stop` between the
/// search's candidates (see [`crate::what_if`], which bounds it in time and in number).
pub fn run_what_if(w: &WhatIf, measured: &Measured, stop: &dyn Fn() -> bool) -> WhatIfOutcome {
    let profile = w.profile(measured);
    let demand = w.demand();
    let day = w.simulate_day(measured);
    let judge = Judge {
        wait_p95_target: w.target,
        replications: REPLICATIONS,
        seed: 1,
        threads: 1,
        max_arrivals: vaxloop_sim::capacity::MAX_ARRIVALS,
    };
    let found = vaxloop_sim::capacity::safe_per_slot_until(&profile, &demand, &judge, stop);
    WhatIfOutcome {
        at_least: found.capped,
        stopped: found.stopped,
        safe_wait_p95: found
            .at_capacity
            .as_ref()
            .map_or(0.0, |r| r.system.wait_p95),
        safe_per_slot: found.per_slot,
        limiting: found.bottleneck,
        day,
    }
}

/// The site with code `code` as a what-if starts from, for whoever may watch its day: its desks,
/// space and service times for the shift asked for, what was measured there before today, and
/// the bookings per slot it runs on now. [`crate::Error::NotFound`] for a site without zones.
pub async fn what_if_base(
    app: &crate::App,
    caller: &crate::Caller,
    code: &str,
    afternoon: bool,
) -> crate::Result<(vaxloop_store::sites::Site, WhatIf, Measured)> {
    let site = crate::stations::watched(app, caller, code).await?;
    let zones = vaxloop_store::sites::zones(app.db(), site.id).await?;
    if zones.is_empty() {
        return Err(crate::Error::NotFound);
    }
    let today = app.today();
    let measured = measured_before(app.db(), site.id, Some(today)).await?;
    let slots = vaxloop_store::slots::of_site_day(app.db(), site.id, &today.to_string()).await?;
    let current = slots
        .iter()
        .filter(|s| (s.starts_min >= 12 * 60) == afternoon && s.capacity > 0)
        .map(|s| s.capacity)
        .next()
        .unwrap_or(50);
    let w = WhatIf::of_site(
        &zones,
        afternoon,
        &measured,
        u32::try_from(current).unwrap_or(50),
    );
    Ok((site, w, measured))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(person: i64, state: &str, minute: f64, actor: Option<i64>) -> StepAt {
        StepAt {
            person,
            dose: 1,
            state: state.into(),
            at: (minute * 60_000.0) as i64,
            actor,
        }
    }

    #[test]
    fn a_busy_desks_gaps_are_service_times_and_an_idle_desks_are_not() {
        let steps = vec![
            step(1, "checked_in", 0.0, Some(9)),
            step(2, "checked_in", 0.5, Some(9)),
            step(1, "screened", 3.0, Some(5)),
            // Person 2 was waiting at 3.0: their screening took 2.5 minutes.
            step(2, "screened", 5.5, Some(5)),
            // Person 3 came after the desk was free: the gap includes idle time, not used.
            step(3, "checked_in", 20.0, Some(9)),
            step(3, "deferred", 22.0, Some(5)),
            step(1, "vaccinated", 6.0, Some(7)),
            step(1, "observing", 6.0, None),
            step(2, "vaccinated", 8.0, Some(7)),
            step(2, "observing", 8.0, None),
            step(1, "released", 36.0, Some(8)),
            step(2, "released", 38.5, Some(8)),
        ];
        let m = measure(&steps);
        assert_eq!(m.screening, [2.5]);
        assert_eq!(m.vaccination, [2.0]);
        assert_eq!(m.observation, [30.0, 30.5]);
        assert_eq!(m.deferred_share, None);
    }

    #[test]
    fn zones_become_a_model_and_a_shift_without_desks_is_closed() {
        let zone = |kind, desks_am, desks_pm, space, seconds| Zone {
            kind,
            space,
            desks_am,
            desks_pm,
            mean_service_seconds: seconds,
        };
        let zones = [
            zone(ZoneKind::Waiting, 4, 4, 200, 45),
            zone(ZoneKind::Screening, 8, 0, 40, 150),
            zone(ZoneKind::Vaccination, 8, 6, 30, 120),
            zone(ZoneKind::Observation, 2, 2, 120, 1800),
        ];
        let measured = Measured {
            vaccination: vec![2.0; 40],
            ..Measured::default()
        };
        let (p, used) = profile(&zones, false, &measured, 30, 30).expect("open");
        assert_eq!(p.stations.len(), 3);
        assert_eq!(p.stations[1].servers, Some(8));
        assert_eq!(p.stations[1].capacity, Some(40));
        assert!(matches!(p.stations[2].service, Dist::Empirical { .. }));
        assert!(matches!(p.stations[1].service, Dist::Lognormal { mean, .. } if mean == 2.5));
        assert_eq!(used, [("vaccination".to_string(), 40)]);
        assert_eq!(p.observation.seats, Some(120));
        assert!(profile(&zones, true, &measured, 30, 30).is_none());
        let s = simulate(&p, used.clone());
        assert!(s.per_slot > 0 && s.wait_p95 <= WAIT_P95_TARGET, "{s:?}");
        assert_eq!(simulate(&p, used), s, "remembered");
    }
}
