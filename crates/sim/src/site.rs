//! A site's day as a scenario: the bridge from bookings (a plan, or the appointments in the
//! database) to the clinic model. A [`SiteProfile`] holds what stays from day to day — the
//! stations with their desks, service times and space, the observation area, how punctual
//! people are and how many do not come; [`SiteProfile::day`] adds one day's bookings, bus
//! loads and walk-ins.

use crate::scenario::{Arrivals, Dist, FORMAT, Observation, Rate, Scenario, Station};

#[derive(Debug, Clone, PartialEq)]
pub struct SiteProfile {
    /// Minutes from opening to the last arrival.
    pub open_minutes: f64,
    pub slot_minutes: f64,
    pub stations: Vec<Station>,
    pub observation: Observation,
    pub no_show: f64,
    pub punctuality: Dist,
}

/// One day's arrivals at a site.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DayBookings {
    /// People booked per slot who come on their own.
    pub per_slot: Vec<u32>,
    /// Bus loads: (minute of arrival, people).
    pub buses: Vec<(f64, u32)>,
    /// The green channel's share of the booked.
    pub priority_share: f64,
    /// Walk-ins over the open hours, as a share of the bookings.
    pub walk_in_share: f64,
}

impl DayBookings {
    pub fn booked(&self) -> u32 {
        self.per_slot.iter().sum::<u32>() + self.buses.iter().map(|b| b.1).sum::<u32>()
    }
}

/// Desks for a station so that its utilisation at `rate_per_minute` stays at or under `target`
/// (at least one).
pub fn desks_for(rate_per_minute: f64, service_mean: f64, target: f64) -> u32 {
    ((rate_per_minute * service_mean / target).ceil() as u32).max(1)
}

impl SiteProfile {
    /// A profile with the usual people: one in twenty booked does not come, and arrivals are
    /// 5 minutes early on average, give or take 7 (normal).
    pub fn new(
        open_minutes: f64,
        slot_minutes: f64,
        stations: Vec<Station>,
        observation: Observation,
    ) -> Self {
        SiteProfile {
            open_minutes,
            slot_minutes,
            stations,
            observation,
            no_show: 0.05,
            punctuality: Dist::Normal {
                mean: -5.0,
                sd: 7.0,
            },
        }
    }

    /// A site staffed for `peak_per_slot` people a slot, each station at utilisation at most
    /// `target` at that rate, with the service times of the spec's example day (check-in
    /// triangular 0.3/0.5/1.5 min, screening log-normal 2.5 min cv 0.6 with 3% deferred,
    /// vaccination log-normal 2.0 min cv 0.4; observation 15 minutes, 30 for one in twenty) and
    /// seats for the 99.9th percentile of an unlimited area's occupancy.
    pub fn standard(peak_per_slot: u32, slot_minutes: f64, open_minutes: f64, target: f64) -> Self {
        let rate = peak_per_slot as f64 / slot_minutes;
        let station = |name: &str, service: Dist, leave: f64| Station {
            name: name.into(),
            servers: Some(desks_for(rate, service.mean(), target)),
            shifts: None,
            service,
            capacity: None,
            leave_probability: leave,
            balk_when_full: false,
        };
        let minutes = Dist::Choice {
            values: vec![15.0, 30.0],
            weights: vec![0.95, 0.05],
        };
        let seats = crate::formulas::poisson_quantile(rate * minutes.mean(), 0.999) as u32;
        SiteProfile::new(
            open_minutes,
            slot_minutes,
            vec![
                station(
                    "checkin",
                    Dist::Triangular {
                        min: 0.3,
                        mode: 0.5,
                        max: 1.5,
                    },
                    0.0,
                ),
                station("screening", Dist::Lognormal { mean: 2.5, cv: 0.6 }, 0.03),
                station("vaccination", Dist::Lognormal { mean: 2.0, cv: 0.4 }, 0.0),
            ],
            Observation {
                seats: Some(seats.max(1)),
                minutes,
            },
        )
    }

    /// The scenario of one day: booked people per slot (punctual as the profile says, some not
    /// coming), each bus load at once, walk-ins evenly over the open hours.
    pub fn day(&self, name: &str, b: &DayBookings) -> Scenario {
        let mut arrivals = Vec::new();
        let booked = b.booked() as f64;
        if b.walk_in_share > 0.0 && booked > 0.0 {
            arrivals.push(Arrivals::Poisson {
                rate_per_hour: Rate::Flat(b.walk_in_share * booked * 60.0 / self.open_minutes),
                priority_share: b.priority_share,
            });
        }
        if b.per_slot.iter().any(|n| *n > 0) {
            arrivals.push(Arrivals::Appointments {
                slot_minutes: self.slot_minutes,
                per_slot: b.per_slot.clone(),
                no_show: self.no_show,
                punctuality: Some(self.punctuality.clone()),
                priority_share: b.priority_share,
            });
        }
        // One stream per bus size (the format gives a stream one size).
        let mut sizes: Vec<u32> = b.buses.iter().map(|bus| bus.1).collect();
        sizes.sort_unstable();
        sizes.dedup();
        for size in sizes {
            arrivals.push(Arrivals::Batch {
                at: b
                    .buses
                    .iter()
                    .filter(|bus| bus.1 == size)
                    .map(|bus| bus.0)
                    .collect(),
                size,
                no_show: self.no_show,
                priority_share: b.priority_share,
            });
        }
        Scenario {
            format: FORMAT.into(),
            name: name.into(),
            arrivals_until: self.open_minutes,
            arrivals,
            stations: self.stations.clone(),
            observation: Some(self.observation.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_standard_site_is_staffed_for_its_peak_and_its_days_are_valid_scenarios() {
        let p = SiteProfile::standard(120, 30.0, 600.0, 0.85);
        // 4 people a minute: check-in 4 × 0.767 / 0.85 → 4, screening 4 × 2.5 / 0.85 → 12,
        // vaccination 4 × 2 / 0.85 → 10.
        let desks: Vec<u32> = p.stations.iter().map(|s| s.servers.unwrap_or(0)).collect();
        assert_eq!(desks, [4, 12, 10]);
        let seats = p.observation.seats.unwrap_or(0);
        assert!((80..120).contains(&seats), "{seats}");
        let day = p.day(
            "s1-d0",
            &DayBookings {
                per_slot: vec![100; 20],
                buses: vec![(60.0, 45), (90.0, 45), (120.0, 30)],
                priority_share: 0.1,
                walk_in_share: 0.1,
            },
        );
        day.check().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(day.arrivals.len(), 4);
        let expected = 2120.0 * 0.95 + 212.0;
        assert!((day.expected_people() - expected).abs() < 1e-6);
    }
}
