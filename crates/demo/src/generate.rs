//! Pure generation of the demo town from a seed.

use std::collections::HashSet;

use chrono::{Datelike, Days, NaiveDate};
use rand::distr::{Distribution, weighted::WeightedIndex};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use vaxloop_core::{ResidentId, Source, UnitKind, WorkGroupKind};

use crate::model::*;
use crate::names::*;
use crate::places::{address, near_centre};

/// Minhang District's administrative code, the region part of every demo ID number.
const MINHANG: u32 = 310112;

fn pick<T: Copy>(rng: &mut ChaCha8Rng, items: &[T]) -> T {
    items[rng.random_range(0..items.len())]
}

fn person_name(rng: &mut ChaCha8Rng, surnames: &WeightedIndex<u32>, male: bool) -> String {
    let mut name = SURNAMES[surnames.sample(rng)].0.to_string();
    let pool = if male { GIVEN_MALE } else { GIVEN_FEMALE };
    name.push_str(pick(rng, pool));
    if rng.random_bool(0.7) {
        name.push_str(pick(rng, pool));
    }
    name
}

fn phone(rng: &mut ChaCha8Rng) -> String {
    const PREFIXES: [&str; 12] = [
        "135", "136", "137", "138", "139", "150", "158", "186", "187", "177", "189", "199",
    ];
    format!(
        "{}{:08}",
        pick(rng, &PREFIXES),
        rng.random_range(0..100_000_000u32)
    )
}

/// How one kind of unit is sized: relative weight of its people, and the age band it draws from.
struct UnitProfile {
    group: usize,
    kind: UnitKind,
    share: f64,
    working_age_only: bool,
}

/// Ages as a resident population of Minhang: `(lowest, highest, share)`.
const AGE_BANDS: [(u32, u32, f64); 8] = [
    (3, 14, 0.10),
    (15, 24, 0.09),
    (25, 34, 0.20),
    (35, 44, 0.18),
    (45, 54, 0.14),
    (55, 64, 0.13),
    (65, 74, 0.10),
    (75, 95, 0.06),
];

fn birth_date(
    rng: &mut ChaCha8Rng,
    today: NaiveDate,
    working_age_only: bool,
    bands: &WeightedIndex<f64>,
) -> NaiveDate {
    let age = if working_age_only {
        rng.random_range(18..=60)
    } else {
        let (lo, hi, _) = AGE_BANDS[bands.sample(rng)];
        rng.random_range(lo..=hi)
    };
    let base = today.with_year(today.year() - age as i32).unwrap_or(today);
    base - Days::new(rng.random_range(0..365))
}

/// Generates a town. Deterministic: the same spec gives the same town, value for value.
pub fn generate(spec: &TownSpec) -> Town {
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    let surnames = WeightedIndex::new(SURNAMES.iter().map(|s| s.1)).expect("positive weights");
    let bands = WeightedIndex::new(AGE_BANDS.iter().map(|b| b.2)).expect("positive weights");
    let mut draw = Draw {
        rng: &mut rng,
        surnames: &surnames,
    };
    let groups = draw.groups();
    let profiles = profiles();
    let unit_count = (spec.people / 800).clamp(25, 300);
    let (mut units, weights) = draw.units(&profiles, unit_count);
    let sizes = unit_sizes(&weights, spec.people);
    let people = draw.people(spec, &bands, &profiles, &mut units, &sizes);
    let sites = crate::sites::sites(draw.rng, spec.today, spec.people);
    let deliveries = draw.deliveries(&sites, spec.today);
    let vehicles = draw.vehicles();
    let logins = crate::logins::logins(&groups, &units, &people);
    Town {
        spec: spec.clone(),
        groups,
        units,
        people,
        sites,
        lots: lots(spec.today),
        deliveries,
        vehicles,
        logins,
    }
}

/// Share of units and of people per kind: residents live in villages and communities; firms,
/// offices, sites and shops add their staff.
fn profiles() -> [(UnitProfile, f64); 6] {
    [
        (
            UnitProfile {
                group: 0,
                kind: UnitKind::Village,
                share: 0.22,
                working_age_only: false,
            },
            0.05,
        ),
        (
            UnitProfile {
                group: 1,
                kind: UnitKind::Community,
                share: 0.50,
                working_age_only: false,
            },
            0.30,
        ),
        (
            UnitProfile {
                group: 2,
                kind: UnitKind::Shop,
                share: 0.02,
                working_age_only: true,
            },
            0.17,
        ),
        (
            UnitProfile {
                group: 3,
                kind: UnitKind::Enterprise,
                share: 0.16,
                working_age_only: true,
            },
            0.23,
        ),
        (
            UnitProfile {
                group: 3,
                kind: UnitKind::OfficeBuilding,
                share: 0.06,
                working_age_only: true,
            },
            0.10,
        ),
        (
            UnitProfile {
                group: 4,
                kind: UnitKind::ConstructionSite,
                share: 0.04,
                working_age_only: true,
            },
            0.15,
        ),
    ]
}

/// Sizes that add up exactly to `people`, in proportion to `weights`, every unit at least one.
fn unit_sizes(weights: &[f64], people: usize) -> Vec<usize> {
    let total_weight: f64 = weights.iter().sum();
    let mut sizes: Vec<usize> = weights
        .iter()
        .map(|w| ((w / total_weight) * people as f64).floor().max(1.0) as usize)
        .collect();
    let mut assigned: usize = sizes.iter().sum();
    let mut i = 0;
    while assigned < people {
        let j = i % sizes.len();
        sizes[j] += 1;
        assigned += 1;
        i += 1;
    }
    while assigned > people {
        let j = i % sizes.len();
        if sizes[j] > 1 {
            sizes[j] -= 1;
            assigned -= 1;
        }
        i += 1;
    }
    sizes
}

/// The lots delivered: two of the two-dose vaccine, one of the three-dose one.
fn lots(today: NaiveDate) -> Vec<(String, String, NaiveDate)> {
    let (y, m) = (today.year(), today.month());
    vec![
        (
            "BIBP".to_string(),
            format!("{y}{m:02}A"),
            today + Days::new(240),
        ),
        (
            "BIBP".to_string(),
            format!("{y}{m:02}B"),
            today + Days::new(300),
        ),
        (
            "ZFSW".to_string(),
            format!("Z{y}{m:02}01"),
            today + Days::new(200),
        ),
    ]
}

/// The town's random draws, in the order that makes it the same town every time.
struct Draw<'a> {
    rng: &'a mut ChaCha8Rng,
    surnames: &'a WeightedIndex<u32>,
}

impl Draw<'_> {
    fn name(&mut self, male: bool) -> String {
        person_name(self.rng, self.surnames, male)
    }

    fn groups(&mut self) -> Vec<DemoGroup> {
        let group_defs = [
            ("VC", "村公司组", WorkGroupKind::VillageCompany),
            ("CM", "社区组", WorkGroupKind::Community),
            ("ST", "街面组", WorkGroupKind::Street),
            ("EN", "企业组", WorkGroupKind::Enterprise),
            ("CS", "工地组", WorkGroupKind::Construction),
        ];
        group_defs
            .iter()
            .map(|&(code, name, kind)| {
                let male = self.rng.random_bool(0.5);
                DemoGroup {
                    code: format!("G{code}"),
                    name: name.to_string(),
                    kind,
                    leader: self.name(male),
                }
            })
            .collect()
    }

    /// The units of each kind, with their weights in the population.
    fn units(
        &mut self,
        profiles: &[(UnitProfile, f64)],
        unit_count: usize,
    ) -> (Vec<DemoUnit>, Vec<f64>) {
        let mut units = Vec::new();
        let mut weights = Vec::new();
        let mut used_names = HashSet::new();
        let mut big_firms = BIG_ENTERPRISES.iter();
        for (profile, unit_share) in profiles {
            let n = ((unit_count as f64 * unit_share).round() as usize).max(1);
            for i in 0..n {
                let (name, weight) =
                    unit_name(self.rng, profile, i, &mut big_firms, &mut used_names);
                let (lat, lon) = near_centre(self.rng, 3.0);
                let contact_male = self.rng.random_bool(0.5);
                units.push(DemoUnit {
                    code: format!("{}{:03}", unit_prefix(profile.kind), i + 1),
                    group: profile.group,
                    name,
                    kind: profile.kind,
                    address: address(self.rng),
                    lat,
                    lon,
                    target: 0,
                    contact: self.name(contact_male),
                    contact_phone: phone(self.rng),
                    reg_token: token(self.rng),
                });
                weights.push((profile.share / n as f64) * weight * self.rng.random_range(0.6..1.4));
            }
        }
        (units, weights)
    }

    /// Each unit's people, registered by roster or by QR code; the unit's target is its whole
    /// headcount, of which those stored are the mobilised share.
    fn people(
        &mut self,
        spec: &TownSpec,
        bands: &WeightedIndex<f64>,
        profiles: &[(UnitProfile, f64)],
        units: &mut [DemoUnit],
        sizes: &[usize],
    ) -> Vec<DemoPerson> {
        let mut people = Vec::with_capacity(spec.people);
        let mut ids = HashSet::with_capacity(spec.people);
        for (u, &size) in sizes.iter().enumerate() {
            let working = profiles
                .iter()
                .find(|(p, _)| p.kind == units[u].kind)
                .map(|(p, _)| p.working_age_only)
                .unwrap_or(false);
            // Villages and communities send rosters; firms' staff scan the code themselves.
            let qr_share = match units[u].kind {
                UnitKind::Village | UnitKind::Community => self.rng.random_range(0.2..0.6),
                _ => self.rng.random_range(0.5..0.95),
            };
            for _ in 0..size {
                let male = self.rng.random_bool(0.51);
                let id = loop {
                    let birth = birth_date(self.rng, spec.today, working, bands);
                    let seq = self.rng.random_range(0..500u16) * 2 + u16::from(male);
                    let id = ResidentId::compose(MINHANG, birth, seq);
                    if ids.insert(id.clone()) {
                        break id;
                    }
                };
                let mut person = DemoPerson {
                    unit: u,
                    name: self.name(male),
                    id,
                    phone: phone(self.rng),
                    disabled: self.rng.random_bool(0.015),
                    source: if self.rng.random_bool(qr_share) {
                        Source::Qr
                    } else {
                        Source::Import
                    },
                    confirmed: true,
                };
                // A few QR registrations match no roster entry and wait for the unit contact.
                person.confirmed = person.source == Source::Import || !self.rng.random_bool(0.01);
                people.push(person);
            }
            // Mobilisation differs by unit: the people stored are those registered so far, and
            // the work group's target is the unit's whole headcount.
            let mobilised = self.rng.random_range(0.55..0.98);
            units[u].target = (size as f64 / mobilised).round() as i64;
        }
        people
    }

    /// A week of deliveries to every open site-day: most doses of the two-dose vaccine, a
    /// quarter of the three-dose one; today's received.
    fn deliveries(&mut self, sites: &[DemoSite], today: NaiveDate) -> Vec<DemoDelivery> {
        let mut deliveries = Vec::new();
        for (s, site) in sites.iter().enumerate() {
            for d in 0..7u64 {
                let day = today + Days::new(d);
                if !site_open(site, day) {
                    continue;
                }
                let doses =
                    (site.daily_doses as f64 * self.rng.random_range(0.8..1.1)).round() as i64;
                let main = (doses as f64 * 0.75).round() as i64;
                let lot = if d < 4 { 0 } else { 1 };
                deliveries.push(DemoDelivery {
                    site: s,
                    lot,
                    day,
                    doses: main,
                    received: d == 0,
                });
                deliveries.push(DemoDelivery {
                    site: s,
                    lot: 2,
                    day,
                    doses: doses - main,
                    received: d == 0,
                });
            }
        }
        deliveries
    }

    /// The shuttle fleet.
    fn vehicles(&mut self) -> Vec<DemoVehicle> {
        (1..=12)
            .map(|i| DemoVehicle {
                code: format!("BUS{i:02}"),
                plate: format!(
                    "沪{}{:05}",
                    pick(self.rng, &['A', 'B', 'D', 'E', 'F']),
                    self.rng.random_range(10_000..99_999)
                ),
                seats: if i <= 8 { 45 } else { 33 },
                driver: self.name(true),
                phone: phone(self.rng),
                depot: "虹桥镇公交停车场".to_string(),
            })
            .collect()
    }
}

fn unit_prefix(kind: UnitKind) -> &'static str {
    match kind {
        UnitKind::Village => "V",
        UnitKind::Community => "C",
        UnitKind::Shop => "S",
        UnitKind::Enterprise => "E",
        UnitKind::OfficeBuilding => "O",
        UnitKind::ConstructionSite => "K",
        UnitKind::School => "X",
    }
}

/// A unit's name and a size multiplier (large employers get many times a small firm's staff).
fn unit_name(
    rng: &mut ChaCha8Rng,
    profile: &UnitProfile,
    i: usize,
    big_firms: &mut std::slice::Iter<'_, &str>,
    used: &mut HashSet<String>,
) -> (String, f64) {
    let mut attempt = 0;
    loop {
        let (name, weight) = match profile.kind {
            UnitKind::Village => (
                VILLAGES
                    .get(i)
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| format!("{}村", pick(rng, COMMUNITY_HEADS))),
                1.0,
            ),
            UnitKind::Community => (
                format!(
                    "{}{}",
                    pick(rng, COMMUNITY_HEADS),
                    pick(rng, COMMUNITY_TAILS)
                ),
                1.0,
            ),
            UnitKind::Shop => (
                format!("{}{}", pick(rng, ROADS), pick(rng, SHOP_KINDS)),
                1.0,
            ),
            UnitKind::Enterprise => match i.is_multiple_of(9).then(|| big_firms.next()).flatten() {
                Some(big) => (big.to_string(), 8.0),
                None => (
                    format!("上海{}{}", pick(rng, FIRM_STEMS), pick(rng, FIRM_SUFFIXES)),
                    1.0,
                ),
            },
            UnitKind::OfficeBuilding => (
                OFFICE_BUILDINGS
                    .get(i)
                    .map(|o| o.to_string())
                    .unwrap_or_else(|| format!("{}大厦", pick(rng, FIRM_STEMS))),
                1.0,
            ),
            UnitKind::ConstructionSite => (
                CONSTRUCTION
                    .get(i)
                    .map(|c| c.to_string())
                    .unwrap_or_else(|| {
                        format!(
                            "{}{}项目",
                            pick(rng, ROADS),
                            pick(rng, &["住宅", "商业", "道路", "管网"])
                        )
                    }),
                1.0,
            ),
            UnitKind::School => (format!("{}学校", pick(rng, COMMUNITY_HEADS)), 1.0),
        };
        attempt += 1;
        let name = if attempt > 3 {
            format!("{name}{attempt}")
        } else {
            name
        };
        if used.insert(name.clone()) {
            return (name, weight);
        }
    }
}

fn token(rng: &mut ChaCha8Rng) -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    (0..20)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

fn site_open(site: &DemoSite, day: NaiveDate) -> bool {
    let weekday = i64::from(day.weekday().num_days_from_monday());
    site.hours.iter().any(|h| h.0 == weekday)
        && site.open_from.is_none_or(|f| f <= day)
        && site.open_until.is_none_or(|u| day <= u)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vaxloop_core::Role;

    fn spec(people: usize, seed: u64) -> TownSpec {
        TownSpec {
            people,
            seed,
            today: NaiveDate::from_ymd_opt(2026, 11, 27).expect("date"),
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_town_and_another_seed_another() {
        let a = generate(&spec(5000, 7));
        let b = generate(&spec(5000, 7));
        assert_eq!(a, b);
        let c = generate(&spec(5000, 8));
        assert_ne!(a.people, c.people);
    }

    #[test]
    fn a_small_town_is_coherent() {
        let town = generate(&spec(5000, 1));
        assert_eq!(town.people.len(), 5000);
        assert_eq!(town.groups.len(), 5);
        assert!(town.units.len() >= 25, "{} units", town.units.len());
        for (g, _) in town.groups.iter().enumerate() {
            assert!(
                town.units.iter().any(|u| u.group == g),
                "group {g} has units"
            );
        }
        for (u, unit) in town.units.iter().enumerate() {
            assert!(
                town.people.iter().any(|p| p.unit == u),
                "{} has people",
                unit.name
            );
            assert!(unit.target >= 1);
        }
        let ids: HashSet<_> = town.people.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids.len(), 5000, "ID numbers are unique");
        let today = town.spec.today;
        for p in &town.people {
            let parsed = ResidentId::parse_on(p.id.as_str(), today).expect("valid GB 11643");
            assert_eq!(parsed.region(), "310112");
            assert!(p.phone.len() == 11 && p.phone.starts_with('1'));
        }
        assert_eq!(town.sites.len(), 10);
        assert!(town.sites.iter().all(|s| s.zones.len() == 4));
        assert!(!town.deliveries.is_empty());
        for role in Role::ALL {
            assert!(
                town.logins.iter().any(|l| l.role == *role),
                "a login for {role}"
            );
        }
    }

    #[test]
    fn the_full_town_has_about_300_units_and_a_few_large_employers() {
        let town = generate(&spec(250_000, 42));
        assert_eq!(town.people.len(), 250_000);
        assert!(
            (280..=320).contains(&town.units.len()),
            "{} units",
            town.units.len()
        );
        let mut per_unit = vec![0usize; town.units.len()];
        for p in &town.people {
            per_unit[p.unit] += 1;
        }
        let big = town
            .units
            .iter()
            .zip(&per_unit)
            .filter(|(u, n)| u.kind == UnitKind::Enterprise && **n >= 1000)
            .count();
        assert!(big >= 2, "{big} enterprises with 1000+ staff");
        let old = town
            .people
            .iter()
            .filter(|p| p.id.age_on(town.spec.today) >= 60)
            .count();
        let share = old as f64 / town.people.len() as f64;
        assert!((0.12..0.30).contains(&share), "60+ share {share}");
    }
}
