//! Seeded instances (`docs/formats/roster-format.md`, "Generator presets"): `tiny` (one site,
//! two days, 18 people: small enough to search exhaustively), `town` (one district of 10 sites,
//! 7 days, 1,200 people) and `city` (15 districts, 14 days, 19,995 people). The same preset and
//! seed always give the same instance; the distributions are the spec's.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::instance::{Agency, INSTANCE_FORMAT, Instance, Person, Post, Shift, Site, Weights};

/// The generator's presets.
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
            "tiny" => Ok(Preset::Tiny),
            "town" => Ok(Preset::Town),
            "city" => Ok(Preset::City),
            other => Err(format!("no preset \"{other}\" (tiny, town or city)")),
        }
    }
}

impl Preset {
    fn name(self) -> &'static str {
        match self {
            Preset::Tiny => "tiny",
            Preset::Town => "town",
            Preset::City => "city",
        }
    }
}

/// Posts in the spec's order: (id, skill, training, weight).
const POSTS: [(&str, &str, Option<&str>, i64); 7] = [
    ("security", "security", None, 400),
    ("screening", "doctor", None, 1000),
    ("emergency", "doctor", Some("first-aid"), 1000),
    ("vaccination", "nurse", None, 1000),
    ("observation", "nurse", None, 800),
    ("qr", "volunteer", Some("qr"), 300),
    ("guide", "volunteer", Some("guide"), 300),
];

/// The site kinds of a district, in order: (kind, how many, shifts, base demand per post).
const KINDS: [(char, usize, &[&str], [u32; 7]); 4] = [
    ('L', 1, &["am", "pm"], [30, 7, 1, 8, 4, 3, 3]),
    ('M', 3, &["md", "ev"], [8, 2, 1, 3, 2, 2, 1]),
    ('C', 4, &["am", "pm"], [4, 2, 0, 2, 1, 1, 1]),
    ('V', 2, &["am"], [2, 1, 0, 1, 1, 1, 0]),
];

/// Availability windows: (start, end) in minutes.
const MORNING: (u32, u32) = (480, 900);
const AFTERNOON: (u32, u32) = (780, 1200);
const DAY: (u32, u32) = (480, 1080);
const FULL: (u32, u32) = (480, 1200);

/// The people's groups, with their limits: (skill, max shifts a day, shifts per 7 days,
/// max consecutive days, rest minutes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Group {
    Doctor,
    Nurse,
    Security,
    Volunteer,
}

impl Group {
    fn skill(self) -> &'static str {
        match self {
            Group::Doctor => "doctor",
            Group::Nurse => "nurse",
            Group::Security => "security",
            Group::Volunteer => "volunteer",
        }
    }

    /// (max shifts a day, shifts per 7 days, max consecutive days, rest minutes).
    fn limits(self) -> (u32, u32, u32, u32) {
        match self {
            Group::Doctor | Group::Nurse => (2, 10, 5, 840),
            Group::Security => (2, 6, 5, 720),
            Group::Volunteer => (1, 3, 3, 720),
        }
    }
}

/// An instance of `preset` drawn from `seed`.
pub fn generate(preset: Preset, seed: u64) -> Instance {
    let mut g = Draw {
        rng: ChaCha8Rng::seed_from_u64(seed),
    };
    let (districts, days, per_district) = match preset {
        Preset::Tiny => return g.tiny(seed),
        Preset::Town => (1, 7, 1200),
        Preset::City => (15, 14, 1333),
    };
    let mut inst = skeleton(format!("{}-seed-{seed}", preset.name()), days);
    for k in 0..districts {
        g.district(&mut inst, k, per_district);
    }
    // City hospital staff may also work at the next district's sites.
    if districts > 1 {
        for p in inst
            .people
            .iter_mut()
            .filter(|p| p.agency.contains("-hospital"))
        {
            let k: usize = p.agency[1..4].parse().unwrap_or(0);
            let next = (k + 1) % districts;
            if let Some(sites) = p.sites.as_mut() {
                sites.extend((0..10).map(|i| site_id(next * 10 + i)));
            }
        }
    }
    fill_home_and_fairness(&mut g, &mut inst);
    inst
}

fn site_id(index: usize) -> String {
    let kind = match index % 10 {
        0 => 'L',
        1..=3 => 'M',
        4..=7 => 'C',
        _ => 'V',
    };
    format!("s{index:03}-{kind}")
}

fn dates(days: usize) -> Vec<String> {
    let monday = chrono::NaiveDate::from_ymd_opt(2026, 12, 7).unwrap_or_default();
    (0..days as u64)
        .map(|d| {
            (monday + chrono::Days::new(d))
                .format("%Y-%m-%d")
                .to_string()
        })
        .collect()
}

fn skeleton(name: String, days: usize) -> Instance {
    let shift = |id: &str, start, end| Shift {
        id: id.into(),
        start,
        end,
    };
    Instance {
        format: INSTANCE_FORMAT.into(),
        name,
        dates: dates(days),
        shifts: vec![
            shift("am", 480, 780),
            shift("pm", 780, 1080),
            shift("md", 600, 900),
            shift("ev", 900, 1200),
        ],
        posts: (POSTS.iter())
            .map(|&(id, skill, training, weight)| Post {
                id: id.into(),
                skill: skill.into(),
                training: training.map(String::from),
                weight,
            })
            .collect(),
        sites: Vec::new(),
        agencies: Vec::new(),
        people: Vec::new(),
        weights: Weights::default(),
    }
}

struct Draw {
    rng: ChaCha8Rng,
}

impl Draw {
    fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p.clamp(0.0, 1.0))
    }

    /// `n` distinct days out of `0..len`, in order.
    fn some_days(&mut self, len: usize, n: usize) -> Vec<usize> {
        let mut days: Vec<usize> = (0..len).collect();
        for i in 0..len {
            let j = self.rng.random_range(i..len);
            days.swap(i, j);
        }
        let mut chosen = days[..n.min(len)].to_vec();
        chosen.sort_unstable();
        chosen
    }

    /// The open days of a site kind over the horizon: C closed on 2 random days and V open on 4
    /// of each 7-day block; the others every day.
    fn open_days(&mut self, kind: char, days: usize) -> Vec<bool> {
        let mut open = vec![true; days];
        for block in (0..days).step_by(7) {
            let len = 7.min(days - block);
            match kind {
                'C' => self
                    .some_days(len, 2)
                    .iter()
                    .for_each(|&d| open[block + d] = false),
                'V' => {
                    let on = self.some_days(len, 4);
                    (0..len).for_each(|d| open[block + d] = on.contains(&d));
                }
                _ => {}
            }
        }
        open
    }

    /// A site's demand: per open (day, shift), each post's base × f, f ~ U(0.8, 1.2) (× 1.25 for
    /// a mall on a weekend), at least 1 where the base is above 0.
    fn demand(
        &mut self,
        kind: char,
        shifts: usize,
        base: &[u32; 7],
        open: &[bool],
    ) -> Vec<Vec<Vec<u32>>> {
        (0..open.len())
            .map(|d| {
                (0..shifts)
                    .map(|_| {
                        if !open[d] {
                            return vec![0; 7];
                        }
                        let mut f: f64 = self.rng.random_range(0.8..1.2);
                        if kind == 'M' && d % 7 >= 5 {
                            f *= 1.25;
                        }
                        (base.iter())
                            .map(|&b| {
                                if b == 0 {
                                    0
                                } else {
                                    ((f64::from(b) * f).round() as u32).max(1)
                                }
                            })
                            .collect()
                    })
                    .collect()
            })
            .collect()
    }

    /// The shifts of the catalogue inside a window.
    fn inside(inst: &Instance, (start, end): (u32, u32)) -> Vec<String> {
        (inst.shifts.iter())
            .filter(|s| s.start >= start && s.end <= end)
            .map(|s| s.id.clone())
            .collect()
    }

    fn pick_window(&mut self, weights: &[((u32, u32), f64)]) -> (u32, u32) {
        let mut x: f64 = self.rng.random_range(0.0..1.0);
        for &(w, p) in weights {
            if x < p {
                return w;
            }
            x -= p;
        }
        weights.last().map_or(FULL, |w| w.0)
    }

    /// A person's availability over the horizon, by group.
    fn availability(&mut self, inst: &Instance, group: Group) -> Vec<Vec<String>> {
        let days = inst.dates.len();
        match group {
            Group::Doctor | Group::Nurse => {
                let window = if self.chance(0.7) { DAY } else { FULL };
                let shifts = Self::inside(inst, window);
                let mut out = vec![Vec::new(); days];
                for block in (0..days).step_by(7) {
                    let len = 7.min(days - block);
                    let n = if len < 4 {
                        len
                    } else {
                        self.rng.random_range(4..=6).min(len)
                    };
                    for d in self.some_days(len, n) {
                        out[block + d] = shifts.clone();
                    }
                }
                out
            }
            Group::Security => (0..days)
                .map(|_| {
                    if !self.chance(0.6) {
                        return Vec::new();
                    }
                    let w = self.pick_window(&[
                        (MORNING, 0.3),
                        (AFTERNOON, 0.3),
                        (DAY, 0.25),
                        (FULL, 0.15),
                    ]);
                    Self::inside(inst, w)
                })
                .collect(),
            Group::Volunteer => (0..days)
                .map(|d| {
                    if !self.chance(if d % 7 >= 5 { 0.6 } else { 0.3 }) {
                        return Vec::new();
                    }
                    let w = self.pick_window(&[(MORNING, 0.45), (AFTERNOON, 0.4), (FULL, 0.15)]);
                    Self::inside(inst, w)
                })
                .collect(),
        }
    }

    fn person(&mut self, inst: &Instance, id: String, agency: &str, group: Group) -> Person {
        let (per_day, per_week, consecutive, rest) = group.limits();
        let days = inst.dates.len() as u32;
        let mut skills = vec![group.skill().to_string()];
        let mut trainings = Vec::new();
        match group {
            Group::Doctor if self.chance(0.5) => trainings.push("first-aid".to_string()),
            Group::Volunteer => {
                if self.chance(0.1) {
                    skills.push("nurse".into());
                }
                if self.chance(0.6) {
                    trainings.push("qr".into());
                }
                if self.chance(0.5) {
                    trainings.push("guide".into());
                }
            }
            _ => {}
        }
        Person {
            id,
            agency: agency.into(),
            skills,
            trainings,
            available: self.availability(inst, group),
            max_shifts_per_day: per_day,
            max_shifts: (per_week * days).div_ceil(7),
            max_consecutive_days: consecutive,
            min_rest_minutes: rest,
            home_site: None,
            home_post: None,
            sites: None,
        }
    }

    /// District `k`: its 10 sites, its agencies and its people.
    fn district(&mut self, inst: &mut Instance, k: usize, n: usize) {
        let days = inst.dates.len();
        let first = inst.sites.len();
        for &(kind, count, shifts, base) in &KINDS {
            for _ in 0..count {
                let open = self.open_days(kind, days);
                inst.sites.push(Site {
                    id: site_id(inst.sites.len()),
                    shifts: shifts.iter().map(|s| s.to_string()).collect(),
                    demand: self.demand(kind, shifts.len(), &base, &open),
                });
            }
        }
        let district_sites: Vec<String> =
            inst.sites[first..].iter().map(|s| s.id.clone()).collect();
        let community_sites: Vec<String> = (district_sites.iter())
            .filter(|s| s.ends_with('C'))
            .cloned()
            .collect();
        let round = |share: f64| (share * n as f64).round() as usize;
        let (doctors, nurses, security) = (round(0.03), round(0.05), round(0.5));
        let volunteers = n - doctors - nurses - security;
        let police = security / 6;
        let per_community = security / 12;
        let companies = security - police - 4 * per_community;
        let mut plan: Vec<Lent> = Vec::new();
        let a = |name: &str| format!("a{k:03}-{name}");
        plan.push((a("police"), "police", vec![(Group::Security, police)], None));
        for (i, n) in split(companies, 2).into_iter().enumerate() {
            plan.push((
                a(&format!("security{}", i + 1)),
                "security",
                vec![(Group::Security, n)],
                None,
            ));
        }
        for (i, c) in community_sites.iter().enumerate() {
            let sites = vec![c.clone(), district_sites[0].clone()];
            plan.push((
                a(&format!("community{}", i + 1)),
                "community",
                vec![(Group::Security, per_community)],
                Some(sites),
            ));
        }
        let (docs, nurs) = (split(doctors, 3), split(nurses, 3));
        for (i, &kind) in ["health", "hospital", "hospital"].iter().enumerate() {
            let name = if i == 0 {
                "health".to_string()
            } else {
                format!("hospital{i}")
            };
            plan.push((
                a(&name),
                kind,
                vec![(Group::Doctor, docs[i]), (Group::Nurse, nurs[i])],
                None,
            ));
        }
        for (i, n) in split(volunteers, 6).into_iter().enumerate() {
            plan.push((
                a(&format!("volunteer{}", i + 1)),
                "volunteer",
                vec![(Group::Volunteer, n)],
                None,
            ));
        }
        for (agency, kind, members, sites) in plan {
            inst.agencies.push(Agency {
                id: agency.clone(),
                kind: kind.into(),
                fair_shifts: 1,
            });
            for (group, count) in members {
                for _ in 0..count {
                    let id = format!("p{:05}", inst.people.len());
                    let mut p = self.person(inst, id, &agency, group);
                    p.sites = Some(sites.clone().unwrap_or_else(|| district_sites.clone()));
                    if kind == "community" {
                        p.home_site = sites.as_ref().map(|s| s[0].clone());
                    }
                    inst.people.push(p);
                }
            }
        }
    }

    /// The tiny preset: one L site over 2 days running am, md and pm; 18 people.
    fn tiny(&mut self, seed: u64) -> Instance {
        let mut inst = skeleton(format!("tiny-seed-{seed}"), 2);
        let big = [2, 1, 1, 1, 1, 1, 1];
        let small = [1, 0, 0, 1, 0, 0, 0];
        let open = [true, true];
        let am = self.demand('L', 1, &big, &open);
        let md = self.demand('L', 1, &small, &open);
        let pm = self.demand('L', 1, &big, &open);
        inst.sites.push(Site {
            id: "s000-L".into(),
            shifts: vec!["am".into(), "md".into(), "pm".into()],
            demand: (0..2)
                .map(|d| vec![am[d][0].clone(), md[d][0].clone(), pm[d][0].clone()])
                .collect(),
        });
        let members = [
            ("a000-police", "police", vec![(Group::Security, 6)]),
            (
                "a000-hospital1",
                "hospital",
                vec![(Group::Doctor, 3), (Group::Nurse, 4)],
            ),
            ("a000-volunteer1", "volunteer", vec![(Group::Volunteer, 5)]),
        ];
        let every_day = vec![Self::inside(&inst, FULL); 2];
        for (agency, kind, groups) in members {
            inst.agencies.push(Agency {
                id: agency.into(),
                kind: kind.into(),
                fair_shifts: 1,
            });
            for (group, count) in groups {
                for _ in 0..count {
                    let id = format!("p{:05}", inst.people.len());
                    let mut p = self.person(&inst, id, agency, group);
                    match group {
                        Group::Doctor | Group::Nurse => p.min_rest_minutes = 900,
                        _ => {
                            p.available = (every_day.iter())
                                .map(|d| {
                                    if self.chance(0.8) {
                                        d.clone()
                                    } else {
                                        Vec::new()
                                    }
                                })
                                .collect();
                        }
                    }
                    if self.chance(0.5) {
                        p.max_consecutive_days = 1;
                    }
                    inst.people.push(p);
                }
            }
        }
        fill_home_and_fairness(self, &mut inst);
        inst
    }
}

/// An agency of a district as it is made: its id, kind, members `(group, count)`, and the
/// sites its members may work at when not every site of the district.
type Lent = (
    String,
    &'static str,
    Vec<(Group, usize)>,
    Option<Vec<String>>,
);

/// `total` split into `parts` as evenly as possible, the first ones taking the remainder.
fn split(total: usize, parts: usize) -> Vec<usize> {
    (0..parts)
        .map(|i| total / parts + usize::from(i < total % parts))
        .collect()
}

/// Home sites and posts (定人定点定岗), `sites` left out where it is every site, and each
/// agency's fair share.
fn fill_home_and_fairness(g: &mut Draw, inst: &mut Instance) {
    let all_sites = inst.sites.len();
    // Each site's demand per skill over the horizon.
    let demand_of = |site: &Site, skill: &str, posts: &[Post]| -> u64 {
        (site.demand.iter().flatten())
            .map(|per_post| {
                (per_post.iter().zip(posts))
                    .filter(|(_, p)| p.skill == skill)
                    .map(|(&n, _)| u64::from(n))
                    .sum::<u64>()
            })
            .sum()
    };
    for n in 0..inst.people.len() {
        let person = &inst.people[n];
        let skill = person.skills[0].clone();
        let allowed: Vec<usize> = (0..all_sites)
            .filter(|&s| {
                person
                    .sites
                    .as_ref()
                    .is_none_or(|list| list.contains(&inst.sites[s].id))
            })
            .collect();
        let community = inst
            .agencies
            .iter()
            .any(|a| a.id == person.agency && a.kind == "community");
        if !community && g.chance(0.8) {
            let weights: Vec<u64> = allowed
                .iter()
                .map(|&s| demand_of(&inst.sites[s], &skill, &inst.posts))
                .collect();
            let total: u64 = weights.iter().sum();
            if total > 0 {
                let mut x = g.rng.random_range(0..total);
                for (i, w) in weights.iter().enumerate() {
                    if x < *w {
                        inst.people[n].home_site = Some(inst.sites[allowed[i]].id.clone());
                        break;
                    }
                    x -= w;
                }
            }
        }
        let qualified: Vec<String> = (inst.posts.iter())
            .filter(|p| Instance::qualified(&inst.people[n], p))
            .map(|p| p.id.clone())
            .collect();
        if !qualified.is_empty() && g.chance(0.8) {
            let i = g.rng.random_range(0..qualified.len());
            inst.people[n].home_post = Some(qualified[i].clone());
        }
        if inst.people[n]
            .sites
            .as_ref()
            .is_some_and(|s| s.len() == all_sites)
        {
            inst.people[n].sites = None;
        }
    }
    fairness(inst);
}

/// Each agency's fair share: per family (security: police, security, community; medical:
/// health, hospital; volunteer), max(1, ⌊the family's posts' demand / the family's members⌋).
fn fairness(inst: &mut Instance) {
    let family = |kind: &str| match kind {
        "police" | "security" | "community" => "security",
        "health" | "hospital" => "medical",
        _ => "volunteer",
    };
    let post_family = |skill: &str| match skill {
        "security" => "security",
        "doctor" | "nurse" => "medical",
        _ => "volunteer",
    };
    let mut demand: std::collections::HashMap<&str, u64> = Default::default();
    for site in &inst.sites {
        for per_post in site.demand.iter().flatten() {
            for (k, &n) in per_post.iter().enumerate() {
                *demand.entry(post_family(&inst.posts[k].skill)).or_default() += u64::from(n);
            }
        }
    }
    let mut members: std::collections::HashMap<&str, u64> = Default::default();
    let kind_of: std::collections::HashMap<&str, &str> = (inst.agencies.iter())
        .map(|a| (a.id.as_str(), a.kind.as_str()))
        .collect();
    for p in &inst.people {
        *members
            .entry(family(
                kind_of.get(p.agency.as_str()).copied().unwrap_or(""),
            ))
            .or_default() += 1;
    }
    let shares: Vec<u32> = (inst.agencies.iter())
        .map(|a| {
            let f = family(&a.kind);
            let m = members.get(f).copied().unwrap_or(0).max(1);
            (demand.get(f).copied().unwrap_or(0) / m).max(1) as u32
        })
        .collect();
    for (a, share) in inst.agencies.iter_mut().zip(shares) {
        a.fair_shifts = share;
    }
}
