//! The roster solver's construction: positions filled one by one, the heaviest posts first
//! (medical before security before volunteers), each by the candidate whose assignment keeps
//! every hard rule and adds the most to the objective — the home site and post (定人定点定岗),
//! a site-post the person already works, a share of shifts still under the agency's fair
//! share — the least loaded first among equals. Every roster it returns passes [`crate::check`]
//! (a property test holds it to that). The search that improves on it comes next (issue 19).

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use crate::check::check;
use crate::instance::Instance;
use crate::plan::{Assignment, PLAN_FORMAT, Plan};

/// How long the solver may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    pub time_limit: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            time_limit: Duration::from_secs(10),
        }
    }
}

/// A roster and what it is worth.
#[derive(Debug, Clone, PartialEq)]
pub struct Solved {
    pub plan: Plan,
    pub objective: i64,
    pub covered: u64,
    pub demand: u64,
    pub seconds: f64,
}

/// What one person holds so far.
#[derive(Debug, Clone, Default)]
struct Load {
    /// Per day: the site and the shifts (indices).
    days: HashMap<usize, (usize, Vec<usize>)>,
    shifts: u32,
    pairs: BTreeSet<(usize, usize)>,
}

/// Rosters `instance` (see the module).
pub fn solve(instance: &Instance, options: &Options) -> Solved {
    solve_from(instance, None, options)
}

/// Rosters `instance` again after a change (someone dropped out, a site-day was added or its
/// demand changed), from its `previous` roster: every assignment that still keeps the rules and
/// fits the demand stays, in the previous roster's order; only the positions left empty are
/// filled again. Nobody who was not displaced is moved.
pub fn solve_from(instance: &Instance, previous: Option<&Plan>, options: &Options) -> Solved {
    let started = Instant::now();
    let index = instance.index();
    let fair: Vec<u32> = (instance.people.iter())
        .map(|p| {
            index
                .agencies
                .get(p.agency.as_str())
                .map_or(0, |&a| instance.agencies[a].fair_shifts)
        })
        .collect();
    let mut state = State {
        instance,
        loads: vec![Load::default(); instance.people.len()],
        open: HashMap::new(),
        assignments: Vec::new(),
    };
    // Positions: (post weight, day, shift start, site, shift, post), heaviest first.
    let mut positions = Vec::new();
    for (s, site) in instance.sites.iter().enumerate() {
        for (d, day) in site.demand.iter().enumerate() {
            for (i, per_post) in day.iter().enumerate() {
                let Some(&shift) = index.shifts.get(site.shifts[i].as_str()) else {
                    continue;
                };
                for (k, &n) in per_post.iter().enumerate() {
                    state.open.insert((s, d, shift, k), n);
                    for _ in 0..n {
                        let weight = instance.posts[k].weight;
                        positions.push((weight, d, instance.shifts[shift].start, s, shift, k));
                    }
                }
            }
        }
    }
    positions.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    for a in previous
        .map(|p| p.assignments.as_slice())
        .unwrap_or_default()
    {
        let found = (
            index.people.get(a.person.as_str()),
            index.shifts.get(a.shift.as_str()),
            index.sites.get(a.site.as_str()),
            index.posts.get(a.post.as_str()),
        );
        let (Some(&n), Some(&shift), Some(&s), Some(&k)) = found else {
            continue;
        };
        let person = &instance.people[n];
        let allowed = Instance::qualified(person, &instance.posts[k])
            && person
                .sites
                .as_ref()
                .is_none_or(|l| l.contains(&instance.sites[s].id));
        if a.day < instance.dates.len()
            && allowed
            && fits(instance, &state.loads[n], n, a.day, shift, s)
        {
            state.take(n, a.day, shift, s, k);
        }
    }
    // Candidates per (post, site): qualified and allowed there.
    let mut candidates: HashMap<(usize, usize), Vec<usize>> = HashMap::new();
    for &(_, d, _, s, shift, k) in &positions {
        if started.elapsed() > options.time_limit {
            break;
        }
        if state.open.get(&(s, d, shift, k)).copied().unwrap_or(0) == 0 {
            continue;
        }
        let list = candidates
            .entry((k, s))
            .or_insert_with(|| qualified_at(instance, k, s));
        let loads = &state.loads;
        let best = (list.iter())
            .filter(|&&n| fits(instance, &loads[n], n, d, shift, s))
            .max_by_key(|&&n| {
                (
                    gain(instance, &loads[n], fair[n], n, s, k),
                    std::cmp::Reverse(loads[n].shifts),
                )
            });
        if let Some(&n) = best {
            state.take(n, d, shift, s, k);
        }
    }
    let plan = Plan {
        format: PLAN_FORMAT.into(),
        instance: instance.name.clone(),
        assignments: state.assignments,
    };
    let report = check(instance, &plan);
    Solved {
        objective: report.objective,
        covered: report.covered,
        demand: report.demand,
        plan,
        seconds: started.elapsed().as_secs_f64(),
    }
}

/// The roster as it is built: what each person holds, the positions still open per
/// (site, day, shift, post), and the assignments made.
struct State<'a> {
    instance: &'a Instance,
    loads: Vec<Load>,
    open: HashMap<(usize, usize, usize, usize), u32>,
    assignments: Vec<Assignment>,
}

impl State<'_> {
    /// Person `n` takes a position of post `k` at site `s`, day `d`, shift `shift`, when one is
    /// still open there.
    fn take(&mut self, n: usize, d: usize, shift: usize, s: usize, k: usize) {
        let Some(open) = self.open.get_mut(&(s, d, shift, k)).filter(|o| **o > 0) else {
            return;
        };
        *open -= 1;
        let load = &mut self.loads[n];
        let today = load.days.entry(d).or_insert((s, Vec::new()));
        today.1.push(shift);
        load.shifts += 1;
        load.pairs.insert((s, k));
        let inst = self.instance;
        self.assignments.push(Assignment {
            person: inst.people[n].id.clone(),
            day: d,
            shift: inst.shifts[shift].id.clone(),
            site: inst.sites[s].id.clone(),
            post: inst.posts[k].id.clone(),
        });
    }
}

/// The people qualified for post `k` and allowed at site `s`.
fn qualified_at(instance: &Instance, k: usize, s: usize) -> Vec<usize> {
    let (post, site) = (&instance.posts[k], &instance.sites[s]);
    (0..instance.people.len())
        .filter(|&n| {
            let p = &instance.people[n];
            Instance::qualified(p, post) && p.sites.as_ref().is_none_or(|l| l.contains(&site.id))
        })
        .collect()
}

/// Whether person `n` may take shift `shift` at site `s` on day `d`, given what they hold:
/// available, a shift more that day at the same site without overlap, a shift more over the
/// horizon, the consecutive days and the rest between days.
fn fits(instance: &Instance, load: &Load, n: usize, d: usize, shift: usize, s: usize) -> bool {
    let person = &instance.people[n];
    let sh = &instance.shifts[shift];
    if !person.available[d].contains(&sh.id) || load.shifts >= person.max_shifts {
        return false;
    }
    if let Some((site, today)) = load.days.get(&d) {
        if *site != s
            || today.len() >= person.max_shifts_per_day as usize
            || today.iter().any(|&t| instance.shifts[t].overlaps(sh))
        {
            return false;
        }
    } else {
        // A new working day: the run of consecutive days it makes.
        let run = |step: fn(usize) -> Option<usize>| {
            let mut n = 0;
            let mut day = step(d);
            while let Some(x) = day.filter(|x| load.days.contains_key(x)) {
                n += 1;
                day = step(x);
            }
            n
        };
        let before = run(|x| x.checked_sub(1));
        let after = run(|x| x.checked_add(1));
        if before + 1 + after > person.max_consecutive_days as usize {
            return false;
        }
    }
    let rest = i64::from(person.min_rest_minutes);
    (load.days.iter())
        .filter(|(other, _)| **other != d)
        .all(|(&other, (_, shifts))| {
            shifts.iter().all(|&t| {
                let t = &instance.shifts[t];
                let gap = if other < d {
                    1440 * (d - other) as i64 + i64::from(sh.start) - i64::from(t.end)
                } else {
                    1440 * (other - d) as i64 + i64::from(t.start) - i64::from(sh.end)
                };
                gap >= rest
            })
        })
}

/// What giving person `n` post `k` at site `s` adds to the objective beyond the post's weight.
fn gain(instance: &Instance, load: &Load, fair: u32, n: usize, s: usize, k: usize) -> i64 {
    let (person, w) = (&instance.people[n], &instance.weights);
    let mut g = 0;
    if person.home_site.as_deref() == Some(instance.sites[s].id.as_str()) {
        g += w.home_site;
    }
    if person.home_post.as_deref() == Some(instance.posts[k].id.as_str()) {
        g += w.home_post;
    }
    if !load.pairs.is_empty() && !load.pairs.contains(&(s, k)) {
        g -= w.extra_site_post;
    }
    if load.shifts >= fair {
        g -= w.over_fair_shift;
    }
    g
}
