//! Capacity planning: from a site's desks, space and service times to the bookings it can take
//! safely, and from a daily target to the desks, seats and staff it needs.
//!
//! "Safe" is the spec's: the mean over replications of the 95th percentile of a person's total
//! waiting (all stations, outside and blocked, excluding service and observation) at or under
//! the target, and nobody in any replication waiting for an observation seat. Each candidate is
//! simulated with the same seeds (common random numbers), so neighbouring candidates differ by
//! their load and not by luck, and the search is a bisection on people per slot.

use crate::clinic::{ClinicResult, simulate};
use crate::scenario::Dist;
use crate::site::{DayBookings, SiteProfile, desks_for};

/// How candidates are judged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Judge {
    /// Minutes: the 95th percentile of a person's total waiting must stay at or under this.
    pub wait_p95_target: f64,
    pub replications: u64,
    pub seed: u64,
    pub threads: usize,
    /// The most people a candidate day may bring (per replication, walk-ins included): the
    /// search never simulates a day larger than this, however fast the desks are said to be.
    pub max_arrivals: u32,
}

impl Default for Judge {
    fn default() -> Self {
        Self {
            wait_p95_target: 10.0,
            replications: 20,
            seed: 1,
            threads: 1,
            max_arrivals: MAX_ARRIVALS,
        }
    }
}

/// The default bound on a candidate day's arrivals: well above any site's day (the seed's
/// largest site vaccinates about 5,000 a day), small enough that a probe stays under a second.
pub const MAX_ARRIVALS: u32 = 50_000;

impl Judge {
    /// Is this day safe, and its result.
    pub fn judge(&self, profile: &SiteProfile, day: &DayBookings) -> (bool, ClinicResult) {
        let scenario = profile.day("candidate", day);
        let r = simulate(&scenario, self.replications, self.seed, self.threads, None);
        let seats_ok = r
            .observation
            .as_ref()
            .is_none_or(|o| o.waited_for_seat == 0.0);
        (r.system.wait_p95 <= self.wait_p95_target && seats_ok, r)
    }
}

/// Who comes, besides how many: the day's slots, the green channel's share of the booked, and
/// walk-ins as a share of the bookings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Demand {
    pub slots: usize,
    pub priority_share: f64,
    pub walk_in_share: f64,
}

impl Demand {
    /// `per_slot` booked in every slot.
    pub fn day(&self, per_slot: u32) -> DayBookings {
        DayBookings {
            per_slot: vec![per_slot; self.slots],
            buses: Vec::new(),
            priority_share: self.priority_share,
            walk_in_share: self.walk_in_share,
        }
    }
}

/// One candidate tried.
#[derive(Debug, Clone, PartialEq)]
pub struct Tried {
    pub per_slot: u32,
    pub safe: bool,
    pub wait_p95: f64,
    pub seats_peak: f64,
    pub waited_for_seat: f64,
}

/// The largest safe bookings per slot, with the figures of that day and of the first unsafe one.
#[derive(Debug, Clone, PartialEq)]
pub struct SafeCapacity {
    pub per_slot: u32,
    /// The day at `per_slot` (None when even one person a slot is unsafe).
    pub at_capacity: Option<ClinicResult>,
    /// The station with the longest mean wait at one more person a slot: what to staff next.
    pub bottleneck: Option<String>,
    pub tried: Vec<Tried>,
    /// The search reached the arrivals bound ([`Judge::max_arrivals`]) still safe: the site
    /// takes at least `per_slot`.
    pub capped: bool,
    /// The search was stopped (its deadline passed, or nobody waits for it any more) before it
    /// was done; `per_slot` is only what was proven safe by then.
    pub stopped: bool,
}

/// The most people per slot the site's stations could serve at all (utilisation 1 at the
/// busiest station), walk-ins included: the search's upper end.
pub fn service_limit_per_slot(profile: &SiteProfile, walk_in_share: f64) -> u32 {
    let mut reaching = 1.0;
    let mut limit = f64::INFINITY;
    for st in &profile.stations {
        let desks = st
            .shift_list(profile.open_minutes)
            .iter()
            .map(|s| s.servers)
            .max()
            .unwrap_or(0) as f64;
        let per_slot = desks / st.service.mean().max(1e-9) * profile.slot_minutes;
        limit = limit.min(per_slot / reaching);
        reaching *= 1.0 - st.leave_probability;
    }
    (limit / ((1.0 + walk_in_share) * (1.0 - profile.no_show).max(0.05))).ceil() as u32
}

/// The largest number of people booked in every slot of the day (plus `walk_in_share` of that
/// walking in, the green channel at `priority_share`) that keeps the day safe.
pub fn safe_per_slot(profile: &SiteProfile, demand: &Demand, judge: &Judge) -> SafeCapacity {
    safe_per_slot_until(profile, demand, judge, &|| false)
}

/// [`safe_per_slot`], asking `stop` before each candidate: when it says so, the search ends
/// with what it has (marked [`SafeCapacity::stopped`]). Every candidate is bounded by
/// [`Judge::max_arrivals`], so the time between two questions is bounded too.
pub fn safe_per_slot_until(
    profile: &SiteProfile,
    demand: &Demand,
    judge: &Judge,
    stop: &dyn Fn() -> bool,
) -> SafeCapacity {
    let mut tried = Vec::new();
    let check = |n: u32, tried: &mut Vec<Tried>| {
        let (safe, r) = judge.judge(profile, &demand.day(n));
        tried.push(Tried {
            per_slot: n,
            safe,
            wait_p95: r.system.wait_p95,
            seats_peak: r.observation.as_ref().map_or(0.0, |o| o.peak),
            waited_for_seat: r.observation.as_ref().map_or(0.0, |o| o.waited_for_seat),
        });
        (safe, r)
    };
    // lo is safe (or 0), hi is not.
    let (mut lo, mut lo_result) = (0u32, None);
    let bound = arrivals_bound_per_slot(demand, judge.max_arrivals);
    let limit = service_limit_per_slot(profile, demand.walk_in_share).saturating_add(1);
    let capped = limit > bound;
    let mut hi = limit.min(bound).max(2);
    if stop() {
        return SafeCapacity {
            per_slot: 0,
            at_capacity: None,
            bottleneck: None,
            tried,
            capped: false,
            stopped: true,
        };
    }
    let (hi_safe, hi_result) = check(hi, &mut tried);
    if hi_safe {
        // Safe even past the desks' limit (a short day), or at the arrivals bound: take it.
        return SafeCapacity {
            per_slot: hi,
            at_capacity: Some(hi_result),
            bottleneck: None,
            tried,
            capped,
            stopped: false,
        };
    }
    let mut hi_result = Some(hi_result);
    let mut stopped = false;
    while hi - lo > 1 {
        if stop() {
            stopped = true;
            break;
        }
        let mid = lo + (hi - lo) / 2;
        let (safe, r) = check(mid, &mut tried);
        if safe {
            (lo, lo_result) = (mid, Some(r));
        } else {
            (hi, hi_result) = (mid, Some(r));
        }
    }
    let bottleneck = hi_result.as_ref().and_then(|r| {
        r.stations
            .iter()
            .max_by(|a, b| a.wait_mean.total_cmp(&b.wait_mean))
            .map(|s| s.name.clone())
    });
    SafeCapacity {
        per_slot: lo,
        at_capacity: lo_result,
        bottleneck,
        tried,
        capped: false,
        stopped,
    }
}

/// The most people per slot whose day (walk-ins included) stays within `max_arrivals`.
fn arrivals_bound_per_slot(demand: &Demand, max_arrivals: u32) -> u32 {
    let per_slot = 1.0 + demand.walk_in_share.max(0.0);
    let slots = demand.slots.max(1) as f64;
    (f64::from(max_arrivals) / (slots * per_slot))
        .floor()
        .max(2.0) as u32
}

/// Staff beyond the desks, per the site's practice.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ratios {
    /// Staff per desk, for each station (a vaccinator and a recorder: 2).
    pub staff_per_desk: f64,
    /// Security staff per 100 people an hour at the busiest hour.
    pub security_per_hundred_an_hour: f64,
    /// Volunteers (guides, the green channel, queue marshals) per desk.
    pub volunteers_per_desk: f64,
    /// Medical staff watching the observation area, per 50 seats.
    pub observers_per_fifty_seats: f64,
}

impl Default for Ratios {
    fn default() -> Self {
        Self {
            staff_per_desk: 1.0,
            security_per_hundred_an_hour: 1.0,
            volunteers_per_desk: 0.5,
            observers_per_fifty_seats: 1.0,
        }
    }
}

/// Desks, seats and people for a daily target.
#[derive(Debug, Clone, PartialEq)]
pub struct Staffing {
    pub per_day: u32,
    pub per_slot: u32,
    pub desks: Vec<(String, u32)>,
    pub seats: u32,
    pub desk_staff: u32,
    pub security: u32,
    pub volunteers: u32,
    pub observers: u32,
    /// The day as staffed; None when no staffing within the limits was safe.
    pub result: Option<ClinicResult>,
    pub safe: bool,
}

/// Desks per station and observation seats for `per_day` people booked evenly over the day's
/// slots: desks from the formula (utilisation 0.85 at that rate), then one more desk at the
/// station with the longest mean wait, or more seats when people waited for one, until the day
/// is safe (at most `max_steps` additions); staff from `ratios`.
pub fn staff_for(
    profile: &SiteProfile,
    demand: &Demand,
    per_day: u32,
    judge: &Judge,
    ratios: &Ratios,
    max_steps: usize,
) -> Staffing {
    let per_slot = per_day.div_ceil(demand.slots.max(1) as u32);
    let rate = per_slot as f64 * (1.0 + demand.walk_in_share) / profile.slot_minutes;
    let mut p = profile.clone();
    let mut reaching = 1.0 - p.no_show;
    for st in &mut p.stations {
        st.shifts = None;
        st.servers = Some(desks_for(rate * reaching, st.service.mean(), 0.85));
        reaching *= 1.0 - st.leave_probability;
    }
    let stay = p.observation.minutes.mean();
    p.observation.seats =
        Some((crate::formulas::poisson_quantile(rate * reaching * stay, 0.999) as u32).max(1));
    let day = demand.day(per_slot);
    let mut steps = 0;
    let (safe, result) = loop {
        let (safe, r) = judge.judge(&p, &day);
        if safe || steps >= max_steps {
            break (safe, r);
        }
        steps += 1;
        let waited_for_seat = r
            .observation
            .as_ref()
            .is_some_and(|o| o.waited_for_seat > 0.0);
        if waited_for_seat {
            let seats = p.observation.seats.unwrap_or(1);
            p.observation.seats = Some(seats + seats.div_ceil(10));
        } else if let Some((k, _)) = r
            .stations
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.wait_mean.total_cmp(&b.1.wait_mean))
        {
            let st = &mut p.stations[k];
            st.servers = Some(st.servers.unwrap_or(0) + 1);
        }
    };
    let desks: Vec<(String, u32)> = p
        .stations
        .iter()
        .map(|s| (s.name.clone(), s.servers.unwrap_or(0)))
        .collect();
    let total_desks: u32 = desks.iter().map(|d| d.1).sum();
    let seats = p.observation.seats.unwrap_or(0);
    let per_hour = rate * 60.0;
    Staffing {
        per_day,
        per_slot,
        desk_staff: (total_desks as f64 * ratios.staff_per_desk).ceil() as u32,
        security: (per_hour / 100.0 * ratios.security_per_hundred_an_hour).ceil() as u32,
        volunteers: (total_desks as f64 * ratios.volunteers_per_desk).ceil() as u32,
        observers: (seats as f64 / 50.0 * ratios.observers_per_fifty_seats).ceil() as u32,
        desks,
        seats,
        result: Some(result),
        safe,
    }
}

/// A service-time distribution from measured minutes (journey timestamps): the measurements
/// themselves (empirical) from 30 on, a log-normal of their mean and spread from 5 on, nothing
/// with fewer. Values outside (0, `longest`] minutes — a desk left open over lunch — are dropped.
pub fn calibrate(measured: &[f64], longest: f64) -> Option<Dist> {
    let mut values: Vec<f64> = measured
        .iter()
        .copied()
        .filter(|v| v.is_finite() && *v > 0.0 && *v <= longest)
        .collect();
    if values.len() < 5 {
        return None;
    }
    values.sort_by(f64::total_cmp);
    if values.len() >= 30 {
        return Some(Dist::Empirical { values });
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    Some(Dist::Lognormal {
        mean,
        cv: (var.sqrt() / mean).min(10.0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEMAND: Demand = Demand {
        slots: 20,
        priority_share: 0.1,
        walk_in_share: 0.1,
    };

    fn judge() -> Judge {
        Judge {
            replications: 8,
            ..Judge::default()
        }
    }

    #[test]
    fn the_safe_capacity_is_safe_and_one_more_is_not() {
        let p = SiteProfile::standard(100, 30.0, 600.0, 0.85);
        let c = safe_per_slot(&p, &DEMAND, &judge());
        assert!(c.per_slot > 20, "{c:?}");
        let at = c.at_capacity.as_ref().expect("a safe day");
        assert!(at.system.wait_p95 <= 10.0);
        let (safe, _) = judge().judge(&p, &DEMAND.day(c.per_slot + 1));
        assert!(!safe, "one more a slot is unsafe");
        assert!(c.bottleneck.is_some());
        // Bisection: a handful of candidates, not a scan.
        assert!(c.tried.len() < 12, "{}", c.tried.len());
        // A stricter target takes fewer people.
        let strict = safe_per_slot(
            &p,
            &DEMAND,
            &Judge {
                wait_p95_target: 3.0,
                ..judge()
            },
        );
        assert!(strict.per_slot < c.per_slot);
    }

    #[test]
    fn too_few_seats_bound_the_capacity_too() {
        let mut p = SiteProfile::standard(100, 30.0, 600.0, 0.85);
        let alone = Demand {
            slots: 20,
            priority_share: 0.0,
            walk_in_share: 0.0,
        };
        let roomy = safe_per_slot(&p, &alone, &judge()).per_slot;
        p.observation.seats = Some(20);
        let cramped = safe_per_slot(&p, &alone, &judge());
        assert!(cramped.per_slot < roomy, "{} vs {roomy}", cramped.per_slot);
        let at = cramped.at_capacity.expect("a safe day");
        assert_eq!(at.observation.expect("observation").waited_for_seat, 0.0);
    }

    #[test]
    fn staffing_for_a_daily_target_is_safe_and_grows_with_it() {
        let p = SiteProfile::standard(60, 30.0, 600.0, 0.85);
        let small = staff_for(&p, &DEMAND, 1_000, &judge(), &Ratios::default(), 40);
        let large = staff_for(&p, &DEMAND, 3_000, &judge(), &Ratios::default(), 40);
        assert!(small.safe && large.safe);
        let total = |s: &Staffing| s.desks.iter().map(|d| d.1).sum::<u32>();
        assert!(total(&large) > total(&small));
        assert!(large.seats > small.seats);
        assert!(large.security >= small.security && large.volunteers > small.volunteers);
        let r = large.result.expect("result");
        assert!(r.system.wait_p95 <= 10.0);
        assert!(r.completed > 2_500.0);
    }

    #[test]
    fn measured_times_become_a_distribution() {
        assert_eq!(calibrate(&[1.0, 2.0], 60.0), None);
        let few = calibrate(&[1.0, 2.0, 3.0, 2.0, 2.0, -1.0, 500.0], 60.0).expect("five");
        assert!(matches!(few, Dist::Lognormal { mean, .. } if (mean - 2.0).abs() < 1e-9));
        let many: Vec<f64> = (1..=40).map(|i| i as f64 / 10.0).collect();
        let dist = calibrate(&many, 60.0).expect("forty");
        assert!(matches!(&dist, Dist::Empirical { values } if values.len() == 40));
        assert!((dist.mean() - 2.05).abs() < 1e-9);
    }

    #[test]
    fn absurd_desks_are_searched_within_the_arrivals_bound_and_a_stop_is_heeded() {
        // 500 desks at three seconds a person: the desks' limit is millions a slot.
        let mut p = SiteProfile::standard(100, 30.0, 600.0, 0.85);
        for st in &mut p.stations {
            st.servers = Some(500);
            st.service = Dist::Deterministic { value: 0.05 };
        }
        p.no_show = 0.95;
        assert!(service_limit_per_slot(&p, DEMAND.walk_in_share) > 1_000_000);
        let bounded = Judge {
            max_arrivals: 5_000,
            ..judge()
        };
        let c = safe_per_slot(&p, &DEMAND, &bounded);
        // 20 slots and a tenth more walking in: 227 a slot is the most that stays within 5,000.
        assert!(c.tried.iter().all(|t| t.per_slot <= 227), "{:?}", c.tried);
        assert!(c.capped && !c.stopped, "{c:?}");
        // Told to stop at once, it tries nothing.
        let asked = std::cell::Cell::new(0);
        let stopped = safe_per_slot_until(&p, &DEMAND, &bounded, &|| {
            asked.set(asked.get() + 1);
            true
        });
        assert!(stopped.stopped && stopped.tried.is_empty() && asked.get() == 1);
    }
}
