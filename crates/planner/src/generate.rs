//! Seeded instances for tests, benchmarks and peers (`vaxloop plan generate`): the same preset
//! and seed give the same file, byte for byte, on every machine.
//!
//! A town (the `town` preset): 300 units of five kinds spread over a 14 km square, about 2,000
//! teams of 3–45 people (log-normal, median 12), 10 sites (2 hubs, 5 medium, 3 small; one small
//! site closed on the first day; a lunch dip at noon), 3 days × 20 half-hour slots from 08:00,
//! 30 buses of 45 seats. Doses are about 85% of the people, shared over site-days in proportion
//! to their capacity (±10%) in whole vials of 10, so supply binds and slot capacity (about 110% of
//! demand) binds locally. A `city` is the same shape with 40,000 teams, 150 sites and 600 buses
//! on a 55 km square; `tiny` (6 teams, 2 sites, 2 days × 4 slots) is small enough to solve by
//! enumeration.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::instance::{Buses, Horizon, INSTANCE_FORMAT, Instance, Site, Team, Weights, Window};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    Tiny,
    Town,
    City,
}

impl std::str::FromStr for Preset {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "tiny" => Ok(Self::Tiny),
            "town" => Ok(Self::Town),
            "city" => Ok(Self::City),
            other => Err(format!("unknown preset \"{other}\": tiny, town or city")),
        }
    }
}

impl Preset {
    pub fn name(self) -> &'static str {
        match self {
            Self::Tiny => "tiny",
            Self::Town => "town",
            Self::City => "city",
        }
    }
}

struct Shape {
    teams: usize,
    units: usize,
    /// (count, people per slot) per site size.
    sites: [(usize, u32); 3],
    side_km: f64,
    days: usize,
    slots: usize,
    day_start: &'static str,
    buses: u32,
    seats: u32,
    max_size: u32,
}

fn shape(preset: Preset) -> Shape {
    match preset {
        Preset::Tiny => Shape {
            teams: 6,
            units: 3,
            sites: [(0, 0), (1, 12), (1, 8)],
            side_km: 4.0,
            days: 2,
            slots: 4,
            day_start: "11:00",
            buses: 2,
            seats: 6,
            max_size: 8,
        },
        Preset::Town => Shape {
            teams: 2000,
            units: 300,
            sites: [(2, 120), (5, 60), (3, 40)],
            side_km: 14.0,
            days: 3,
            slots: 20,
            day_start: "08:00",
            buses: 30,
            seats: 45,
            max_size: 45,
        },
        Preset::City => Shape {
            teams: 40_000,
            units: 6000,
            sites: [(30, 120), (75, 60), (45, 40)],
            side_km: 55.0,
            days: 3,
            slots: 20,
            day_start: "08:00",
            buses: 600,
            seats: 45,
            max_size: 45,
        },
    }
}

/// The kinds of unit, with how often they occur, whether their teams ride the shuttle, and the
/// share of their people in the green channel.
const KINDS: [(&str, f64, f64, f64); 5] = [
    // kind, weight, P(bus), green share
    ("village", 0.25, 0.9, 0.20),
    ("community", 0.25, 0.2, 0.15),
    ("enterprise", 0.25, 0.5, 0.02),
    ("office", 0.15, 0.0, 0.01),
    ("construction", 0.10, 1.0, 0.0),
];

/// An instance of `preset` drawn with `seed`.
pub fn generate(preset: Preset, seed: u64) -> Instance {
    let sh = shape(preset);
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x0076_6178_6c6f_6f70);
    let dates: Vec<String> = (0..sh.days)
        .map(|d| format!("2026-12-{:02}", d + 1))
        .collect();
    let mut sites = draw_sites(&sh, preset, &mut rng);
    // Units, then teams drawn from them.
    let units = draw_units(&sh, &mut rng);
    let teams: Vec<Team> = (0..sh.teams)
        .map(|i| draw_team(i, &sh, preset, &units, &mut rng))
        .collect();
    share_doses(&mut sites, &teams, &sh, preset, &mut rng);
    Instance {
        format: INSTANCE_FORMAT.into(),
        name: format!("{}-seed-{seed}", preset.name()),
        horizon: Horizon {
            dates,
            day_start: sh.day_start.into(),
            slot_minutes: 30,
            slots_per_day: sh.slots,
        },
        sites,
        teams,
        buses: Buses {
            count: sh.buses,
            seats: sh.seats,
            speed_kmh: 20.0,
            stop_minutes: 10,
        },
        weights: Weights::default(),
    }
}

/// Sites: hubs near the centre, the rest anywhere; fewer places over noon.
fn draw_sites(sh: &Shape, preset: Preset, rng: &mut ChaCha8Rng) -> Vec<Site> {
    let noon_slot = |k: usize| {
        let start = crate::instance::clock_minutes(sh.day_start).unwrap_or(0) + 30 * k as u32;
        (12 * 60..13 * 60).contains(&start)
    };
    let mut sites = Vec::new();
    for (size, &(count, per_slot)) in sh.sites.iter().enumerate() {
        for _ in 0..count {
            let spread = if size == 0 { 0.25 } else { 0.45 };
            let (x, y) = (
                sh.side_km * (0.5 + rng.random_range(-spread..spread)),
                sh.side_km * (0.5 + rng.random_range(-spread..spread)),
            );
            let n = sites.len();
            let rows = (0..sh.days)
                .map(|d| {
                    (0..sh.slots)
                        .map(|k| {
                            // The first small site is a temporary one, not yet open on day 0.
                            if size == 2
                                && n == sh.sites[0].0 + sh.sites[1].0
                                && d == 0
                                && sh.days > 1
                            {
                                0
                            } else if noon_slot(k) && preset != Preset::Tiny {
                                per_slot * 3 / 5
                            } else {
                                per_slot
                            }
                        })
                        .collect()
                })
                .collect();
            sites.push(Site {
                id: format!("s{:03}", n + 1),
                x_km: round2(x),
                y_km: round2(y),
                slot_capacity: rows,
                doses: vec![0; sh.days],
            });
        }
    }
    sites
}

/// Units: `(kind, x, y)`.
fn draw_units(sh: &Shape, rng: &mut ChaCha8Rng) -> Vec<(usize, f64, f64)> {
    (0..sh.units)
        .map(|_| {
            let mut r = rng.random::<f64>();
            let kind = KINDS
                .iter()
                .position(|k| {
                    r -= k.1;
                    r < 0.0
                })
                .unwrap_or(KINDS.len() - 1);
            (
                kind,
                round2(rng.random_range(0.0..sh.side_km)),
                round2(rng.random_range(0.0..sh.side_km)),
            )
        })
        .collect()
}

/// Team `i`: of the `i`-th unit while there are units left, then of any; its size, days,
/// window, parts and shuttle drawn by its unit's kind.
fn draw_team(
    i: usize,
    sh: &Shape,
    preset: Preset,
    units: &[(usize, f64, f64)],
    rng: &mut ChaCha8Rng,
) -> Team {
    let u = if i < sh.units {
        i
    } else {
        rng.random_range(0..sh.units)
    };
    let (kind, x, y) = units[u];
    let (_, _, p_bus, green) = KINDS[kind];
    let size = if preset == Preset::Tiny {
        rng.random_range(2..=sh.max_size)
    } else {
        lognormal(rng, 12.0, 0.9)
            .round()
            .clamp(3.0, f64::from(sh.max_size)) as u32
    };
    let priority_people = (0..size).filter(|_| rng.random_bool(green)).count() as u32;
    let days = match rng.random_range(0..100) {
        0..45 => vec![],
        45..85 => vec![rng.random_range(0..sh.days)],
        _ => {
            let a = rng.random_range(0..sh.days);
            let b = (a + 1 + rng.random_range(0..sh.days.max(2) - 1)) % sh.days;
            let mut two = vec![a.min(b), a.max(b)];
            two.dedup();
            two
        }
    };
    let window = match rng.random_range(0..100) {
        0..40 => Window::Am,
        40..65 => Window::Pm,
        _ => Window::Any,
    };
    let hard_window = window != Window::Any && rng.random_bool(0.05);
    let max_parts = if rng.random_bool(0.1) {
        3
    } else if size >= 20 || (preset == Preset::Tiny && size >= 5) {
        2
    } else {
        1
    };
    Team {
        id: format!("t{:05}", i + 1),
        unit: format!("u{:04}", u + 1),
        size,
        // Teams of one unit gather at the unit, give or take a street.
        x_km: round2(x + rng.random_range(-0.2..0.2)),
        y_km: round2(y + rng.random_range(-0.2..0.2)),
        days,
        window,
        hard_window,
        priority_people,
        bus: rng.random_bool(p_bus),
        max_parts,
        sites: vec![],
    }
}

/// Doses: about 85% of the people, in proportion to each site-day's capacity, in whole vials.
fn share_doses(
    sites: &mut [Site],
    teams: &[Team],
    sh: &Shape,
    preset: Preset,
    rng: &mut ChaCha8Rng,
) {
    let demand: u64 = teams.iter().map(|t| u64::from(t.size)).sum();
    let capacity: Vec<u64> = sites
        .iter()
        .flat_map(|s| {
            s.slot_capacity
                .iter()
                .map(|row| row.iter().map(|&c| u64::from(c)).sum())
        })
        .collect();
    let total_capacity: u64 = capacity.iter().sum();
    let vial = if preset == Preset::Tiny { 1 } else { 10 };
    for (s, site) in sites.iter_mut().enumerate() {
        for d in 0..sh.days {
            let share = capacity[s * sh.days + d] as f64 / total_capacity.max(1) as f64;
            let doses = 0.85 * demand as f64 * share * rng.random_range(0.9..1.1);
            site.doses[d] = ((doses / f64::from(vial)).round() as u32) * vial;
        }
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// A log-normal draw with the given median and shape, by Box–Muller.
fn lognormal(rng: &mut ChaCha8Rng, median: f64, sigma: f64) -> f64 {
    let (u1, u2): (f64, f64) = (rng.random_range(f64::EPSILON..1.0), rng.random());
    let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
    median * (sigma * z).exp()
}
