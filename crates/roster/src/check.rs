//! The independent check of a roster plan (`docs/formats/roster-format.md`, "Hard rules" and
//! "Objective"): every hard rule, each violation named, and the objective's terms — computed
//! even for an invalid plan, from the assignments whose ids resolve. It shares nothing with a
//! solver but the instance's types.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use crate::instance::{Index, Instance};
use crate::plan::{Assignment, PLAN_FORMAT, Plan};

/// What the check found: `roster check --json` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub valid: bool,
    pub violations: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    pub objective: i64,
    /// Σ over position groups of min(assigned, demand).
    pub covered: u64,
    /// Σ demand.
    pub demand: u64,
    /// Σ over assignments of their post's weight.
    pub coverage_value: i64,
    /// Σ over assignments of the home-site and home-post bonuses.
    pub home_value: i64,
    /// Σ over people of (distinct site-post pairs worked − 1), when above 0.
    pub extra_site_posts: i64,
    /// Σ over people of (assignments − their agency's fair share), when above 0.
    pub over_fair_shifts: i64,
}

/// An assignment whose ids all resolve: indices of person, shift, site, post, and its day.
#[derive(Debug, Clone, Copy)]
struct Placed {
    person: usize,
    day: usize,
    shift: usize,
    site: usize,
    post: usize,
}

/// Checks `plan` against `instance`.
pub fn check(instance: &Instance, plan: &Plan) -> Report {
    let index = instance.index();
    let mut violations = Vec::new();
    let mut warnings = Vec::new();
    if plan.format != PLAN_FORMAT {
        violations.push(format!(
            "format: expected \"{PLAN_FORMAT}\", found \"{}\"",
            plan.format
        ));
    }
    if plan.instance != instance.name {
        warnings.push(format!(
            "the plan is of instance \"{}\", not \"{}\"",
            plan.instance, instance.name
        ));
    }
    let placed: Vec<Placed> = (plan.assignments.iter().enumerate())
        .filter_map(|(i, a)| resolve(instance, &index, i, a, &mut violations))
        .collect();
    qualifications(instance, &placed, &mut violations);
    let (covered, demand) = positions(instance, &placed, &mut violations);
    per_person(instance, &placed, &mut violations);
    let terms = objective(instance, &placed);
    Report {
        valid: violations.is_empty(),
        violations,
        warnings,
        objective: terms.0 + terms.1
            - instance.weights.extra_site_post * terms.2
            - instance.weights.over_fair_shift * terms.3,
        covered,
        demand,
        coverage_value: terms.0,
        home_value: terms.1,
        extra_site_posts: terms.2,
        over_fair_shifts: terms.3,
    }
}

/// Rule 1: the ids exist, the day is in the horizon, the site runs the shift.
fn resolve(
    instance: &Instance,
    index: &Index,
    i: usize,
    a: &Assignment,
    violations: &mut Vec<String>,
) -> Option<Placed> {
    let at = format!("assignments[{i}]");
    let found = (
        index.people.get(a.person.as_str()),
        index.shifts.get(a.shift.as_str()),
        index.sites.get(a.site.as_str()),
        index.posts.get(a.post.as_str()),
    );
    let (Some(&person), Some(&shift), Some(&site), Some(&post)) = found else {
        violations.push(format!(
            "{at}: unknown person, shift, site or post ({} {} {} {})",
            a.person, a.shift, a.site, a.post
        ));
        return None;
    };
    if a.day >= instance.dates.len() {
        violations.push(format!("{at}: day {} is outside the horizon", a.day));
        return None;
    }
    if !instance.sites[site].shifts.contains(&a.shift) {
        violations.push(format!(
            "{at}: site {} does not run shift {}",
            a.site, a.shift
        ));
        return None;
    }
    Some(Placed {
        person,
        day: a.day,
        shift,
        site,
        post,
    })
}

/// Rule 2: qualified for the post, available for the shift that day, allowed at the site.
fn qualifications(instance: &Instance, placed: &[Placed], violations: &mut Vec<String>) {
    for p in placed {
        let person = &instance.people[p.person];
        let (post, shift, site) = (
            &instance.posts[p.post],
            &instance.shifts[p.shift],
            &instance.sites[p.site],
        );
        let who = format!("{} on day {} {} at {}", person.id, p.day, shift.id, site.id);
        if !Instance::qualified(person, post) {
            violations.push(format!("{who}: not qualified for post {}", post.id));
        }
        if !person.available[p.day].contains(&shift.id) {
            violations.push(format!("{who}: not available for that shift"));
        }
        if person.sites.as_ref().is_some_and(|s| !s.contains(&site.id)) {
            violations.push(format!("{who}: may not work at that site"));
        }
    }
}

/// Rule 3: per position group, no more than the demand; and the coverage `(covered, demand)`.
fn positions(instance: &Instance, placed: &[Placed], violations: &mut Vec<String>) -> (u64, u64) {
    let mut assigned: HashMap<(usize, usize, usize, usize), u64> = HashMap::new();
    for p in placed {
        *assigned
            .entry((p.site, p.day, p.shift, p.post))
            .or_default() += 1;
    }
    let shift_of = instance.index().shifts;
    let (mut covered, mut demand) = (0, 0);
    for (s, site) in instance.sites.iter().enumerate() {
        for (d, day) in site.demand.iter().enumerate() {
            for (i, per_post) in day.iter().enumerate() {
                let shift = shift_of.get(site.shifts[i].as_str()).copied();
                for (k, &want) in per_post.iter().enumerate() {
                    let want = u64::from(want);
                    let got = shift
                        .and_then(|sh| assigned.get(&(s, d, sh, k)))
                        .copied()
                        .unwrap_or(0);
                    demand += want;
                    covered += got.min(want);
                    if got > want {
                        violations.push(format!(
                            "{} day {d} {} {}: {got} assigned, {want} wanted",
                            site.id, site.shifts[i], instance.posts[k].id
                        ));
                    }
                }
            }
        }
    }
    (covered, demand)
}

/// Rules 4–6, person by person: shifts per day, one site a day, no overlap; shifts over the
/// horizon; consecutive days; rest between days.
fn per_person(instance: &Instance, placed: &[Placed], violations: &mut Vec<String>) {
    let mut by_person: BTreeMap<usize, Vec<&Placed>> = BTreeMap::new();
    for p in placed {
        by_person.entry(p.person).or_default().push(p);
    }
    for (&n, mine) in &by_person {
        let person = &instance.people[n];
        let mut by_day: BTreeMap<usize, Vec<&Placed>> = BTreeMap::new();
        for p in mine {
            by_day.entry(p.day).or_default().push(p);
        }
        for (&d, today) in &by_day {
            let who = format!("{} on day {d}", person.id);
            if today.len() > person.max_shifts_per_day as usize {
                violations.push(format!(
                    "{who}: {} shifts, at most {}",
                    today.len(),
                    person.max_shifts_per_day
                ));
            }
            if today.iter().map(|p| p.site).collect::<BTreeSet<_>>().len() > 1 {
                violations.push(format!("{who}: at more than one site"));
            }
            for (i, a) in today.iter().enumerate() {
                for b in &today[i + 1..] {
                    if instance.shifts[a.shift].overlaps(&instance.shifts[b.shift]) {
                        violations.push(format!(
                            "{who}: {} and {} overlap",
                            instance.shifts[a.shift].id, instance.shifts[b.shift].id
                        ));
                    }
                }
            }
        }
        if mine.len() > person.max_shifts as usize {
            violations.push(format!(
                "{}: {} shifts, at most {}",
                person.id,
                mine.len(),
                person.max_shifts
            ));
        }
        consecutive_and_rest(instance, n, &by_day, violations);
    }
}

/// Rules 5 (consecutive days) and 6 (rest between shifts of different days).
fn consecutive_and_rest(
    instance: &Instance,
    n: usize,
    by_day: &BTreeMap<usize, Vec<&Placed>>,
    violations: &mut Vec<String>,
) {
    let person = &instance.people[n];
    let mut run = 0;
    let mut last: Option<usize> = None;
    for &d in by_day.keys() {
        run = if last == Some(d.wrapping_sub(1)) {
            run + 1
        } else {
            1
        };
        if run == person.max_consecutive_days as usize + 1 {
            violations.push(format!(
                "{}: more than {} consecutive days (to day {d})",
                person.id, person.max_consecutive_days
            ));
        }
        last = Some(d);
    }
    let days: Vec<(&usize, &Vec<&Placed>)> = by_day.iter().collect();
    for (i, &(&d, earlier)) in days.iter().enumerate() {
        for &(&d2, later) in &days[i + 1..] {
            for a in earlier.iter() {
                for b in later.iter() {
                    let gap = 1440 * (d2 - d) as i64 + i64::from(instance.shifts[b.shift].start)
                        - i64::from(instance.shifts[a.shift].end);
                    if gap < i64::from(person.min_rest_minutes) {
                        violations.push(format!(
                            "{}: {gap} minutes of rest between day {d} {} and day {d2} {}, at least {}",
                            person.id,
                            instance.shifts[a.shift].id,
                            instance.shifts[b.shift].id,
                            person.min_rest_minutes
                        ));
                    }
                }
            }
        }
    }
}

/// The objective's terms: (coverage value, home value, extra site-posts, shifts over the fair
/// share).
fn objective(instance: &Instance, placed: &[Placed]) -> (i64, i64, i64, i64) {
    let w = &instance.weights;
    let agency: HashMap<&str, u32> = (instance.agencies.iter())
        .map(|a| (a.id.as_str(), a.fair_shifts))
        .collect();
    let (mut coverage, mut home) = (0, 0);
    let mut pairs: HashMap<usize, BTreeSet<(usize, usize)>> = HashMap::new();
    let mut shifts: HashMap<usize, i64> = HashMap::new();
    for p in placed {
        let person = &instance.people[p.person];
        coverage += instance.posts[p.post].weight;
        if person.home_site.as_deref() == Some(instance.sites[p.site].id.as_str()) {
            home += w.home_site;
        }
        if person.home_post.as_deref() == Some(instance.posts[p.post].id.as_str()) {
            home += w.home_post;
        }
        pairs.entry(p.person).or_default().insert((p.site, p.post));
        *shifts.entry(p.person).or_default() += 1;
    }
    let extra = pairs.values().map(|s| s.len() as i64 - 1).sum();
    let over = (shifts.iter())
        .map(|(&n, &count)| {
            let fair = agency
                .get(instance.people[n].agency.as_str())
                .copied()
                .unwrap_or(0);
            (count - i64::from(fair)).max(0)
        })
        .sum();
    (coverage, home, extra, over)
}
