//! How many people a slot can take, by the bottleneck rule (DESIGN.md, "Slot capacity before the
//! simulator"): each station serves `desks × slot minutes / mean service minutes` people per slot,
//! observation holds `seats × slot minutes / observation minutes`, and the slot takes the
//! smallest of these, times a target utilisation (0.85 by default) so queues stay bounded. The
//! simulator will later replace this with capacities that bound the 95th-percentile wait; the
//! reasons list keeps the arithmetic visible to the desk.

use serde::{Deserialize, Serialize};

use crate::ZoneKind;

/// One station's or the observation area's share of the arithmetic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Limit {
    pub zone: ZoneKind,
    /// Desks (or, for observation, seats).
    pub units: i64,
    /// Minutes each person takes there.
    pub minutes_each: f64,
    /// People per slot before the utilisation factor.
    pub per_slot: f64,
}

/// The capacity of a slot and how it was reached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Capacity {
    pub capacity: i64,
    pub slot_minutes: i64,
    pub utilisation: f64,
    pub limits: Vec<Limit>,
    /// The zone that binds.
    pub bottleneck: Option<ZoneKind>,
    /// When the simulator set the capacity: what it found. The bottleneck arithmetic above stays
    /// for comparison.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub simulated: Option<Simulated>,
}

/// The simulator's capacity: the most people per slot whose day keeps the 95th percentile of a
/// person's total wait at or under the target with observation seats to spare.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Simulated {
    pub per_slot: i64,
    pub wait_p95_target: f64,
    /// The 95th-percentile total wait at that capacity, minutes.
    pub wait_p95: f64,
    pub seats_peak: f64,
    pub replications: u64,
    /// The station that limits next (the longest mean wait at one more a slot).
    pub limiting: Option<String>,
    /// Stations whose service times came from measured journeys, with how many measurements.
    #[serde(default)]
    pub measured: Vec<(String, usize)>,
}

/// A zone's resources for one shift: desks (seats for observation) and minutes per person.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ZoneShift {
    pub zone: ZoneKind,
    pub desks: i64,
    pub space: i64,
    pub mean_service_seconds: i64,
}

/// The default target utilisation of the bottleneck.
pub const UTILISATION: f64 = 0.85;

/// The length of a booking slot, in minutes.
pub const SLOT_MINUTES: i64 = 30;
/// Observation after the jab, in minutes (the seats it holds count against the slot).
pub const OBSERVATION_MINUTES: i64 = 30;

/// The bottleneck capacity of one slot.
pub fn bottleneck(
    zones: &[ZoneShift],
    slot_minutes: i64,
    observation_minutes: i64,
    utilisation: f64,
) -> Capacity {
    let slot = slot_minutes.max(0) as f64;
    let mut limits = Vec::new();
    for z in zones {
        let (units, minutes) = match z.zone {
            // Observation is a delay with seats: each person holds a seat for the whole wait.
            ZoneKind::Observation => (z.space, observation_minutes.max(1) as f64),
            _ => (z.desks, (z.mean_service_seconds.max(1) as f64) / 60.0),
        };
        limits.push(Limit {
            zone: z.zone,
            units,
            minutes_each: minutes,
            per_slot: units.max(0) as f64 * slot / minutes,
        });
    }
    let binding = limits
        .iter()
        .min_by(|a, b| a.per_slot.total_cmp(&b.per_slot));
    let capacity = binding
        .map(|l| (l.per_slot * utilisation).floor() as i64)
        .unwrap_or(0)
        .max(0);
    Capacity {
        capacity,
        slot_minutes,
        utilisation,
        bottleneck: binding.map(|l| l.zone),
        limits,
        simulated: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(zone: ZoneKind, desks: i64, space: i64, seconds: i64) -> ZoneShift {
        ZoneShift {
            zone,
            desks,
            space,
            mean_service_seconds: seconds,
        }
    }

    #[test]
    fn the_slowest_station_or_the_observation_seats_bind() {
        // 8 check-in desks at 1 min: 240 per 30 min; 12 screening at 2.5 min: 144; 12 vaccinators
        // at 2 min: 180; 200 observation seats at 30 min: 200. Screening binds: 144 × 0.85 = 122.
        let zones = [
            zone(ZoneKind::Waiting, 8, 240, 60),
            zone(ZoneKind::Screening, 12, 64, 150),
            zone(ZoneKind::Vaccination, 12, 48, 120),
            zone(ZoneKind::Observation, 4, 200, 1800),
        ];
        let c = bottleneck(&zones, 30, 30, UTILISATION);
        assert_eq!(c.bottleneck, Some(ZoneKind::Screening));
        assert_eq!(c.capacity, 122);
        assert_eq!(c.limits.len(), 4);
        // Halve the seats and observation binds: 100 × 0.85 = 85.
        let mut fewer = zones;
        fewer[3].space = 100;
        let c = bottleneck(&fewer, 30, 30, UTILISATION);
        assert_eq!(
            (c.bottleneck, c.capacity),
            (Some(ZoneKind::Observation), 85)
        );
    }

    #[test]
    fn no_desks_means_no_capacity() {
        let c = bottleneck(
            &[zone(ZoneKind::Vaccination, 0, 10, 120)],
            30,
            30,
            UTILISATION,
        );
        assert_eq!(c.capacity, 0);
        assert_eq!(bottleneck(&[], 30, 30, UTILISATION).capacity, 0);
    }
}
