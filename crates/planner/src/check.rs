//! The independent validator behind `vaxloop plan check`: every hard rule of the format, judged
//! from the instance and the plan files alone. It shares nothing with the solver but the file
//! types, so a solver bug cannot hide behind the same bug here.

use std::collections::HashMap;

use serde::Serialize;

use crate::instance::{Instance, travel_minutes};
use crate::plan::Plan;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub valid: bool,
    /// The format's objective over the assignments that name a known team and site.
    pub objective: i64,
    pub violations: Vec<String>,
    pub warnings: Vec<String>,
    pub scheduled_teams: usize,
    pub scheduled_people: u64,
    pub unassigned_teams: usize,
}

/// A bus kept busy: from, to (minutes from day start) and for which team.
type Busy = (i64, i64, String);

/// Judges `plan` against `instance`: every broken rule is listed, none is fatal to the rest.
pub fn check(instance: &Instance, plan: &Plan) -> Report {
    let mut v = Vec::new();
    let mut warnings = Vec::new();
    if plan.instance != instance.name {
        warnings.push(format!(
            "the plan names instance \"{}\", the file is \"{}\"",
            plan.instance, instance.name
        ));
    }
    let team_at: HashMap<&str, usize> = instance
        .teams
        .iter()
        .enumerate()
        .map(|(i, t)| (t.id.as_str(), i))
        .collect();
    let site_at: HashMap<&str, usize> = instance
        .sites
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    let days = instance.horizon.dates.len();
    let slots = instance.horizon.slots_per_day;
    let slot_minutes = instance.horizon.slot_minutes as i64;
    let seats = instance.buses.seats;

    let mut seen = vec![0u32; instance.teams.len()];
    let mut mention = |id: &str, v: &mut Vec<String>| match team_at.get(id) {
        Some(&t) => {
            seen[t] += 1;
            if seen[t] == 2 {
                v.push(format!("team {id} appears more than once in the plan"));
            }
            Some(t)
        }
        None => {
            v.push(format!("team {id} is not in the instance"));
            None
        }
    };
    for u in &plan.unassigned {
        mention(&u.team, &mut v);
    }

    let mut people = vec![0u64; instance.sites.len() * days * slots];
    let mut day_people = vec![0u64; instance.sites.len() * days];
    // (day, bus) → busy intervals [from, to) in minutes from day_start.
    let mut busy: HashMap<(usize, u32), Vec<Busy>> = HashMap::new();
    let w = &instance.weights;
    let mut objective = 0i64;
    let (mut scheduled_teams, mut scheduled_people) = (0usize, 0u64);

    for a in &plan.assignments {
        let Some(t) = mention(&a.team, &mut v) else {
            continue;
        };
        let team = &instance.teams[t];
        let at = format!("team {}", team.id);
        let Some(&s) = site_at.get(a.site.as_str()) else {
            v.push(format!("{at}: site {} is not in the instance", a.site));
            continue;
        };
        if !instance.serves(s, t) {
            v.push(format!("{at}: site {} does not serve its unit", a.site));
        }
        if a.day >= days {
            v.push(format!(
                "{at}: day {} is past the horizon's {days} dates",
                a.day
            ));
            continue;
        }
        if !team.days.is_empty() && !team.days.contains(&a.day) {
            v.push(format!(
                "{at}: day {} is not one of its days {:?}",
                a.day, team.days
            ));
        }
        if a.parts.is_empty() {
            v.push(format!("{at}: an assignment without parts"));
            continue;
        }
        if a.parts.len() > team.max_parts as usize {
            v.push(format!(
                "{at}: {} parts, at most {} allowed",
                a.parts.len(),
                team.max_parts
            ));
        }
        let mut sum = 0u64;
        let mut slots_ok = true;
        for (i, p) in a.parts.iter().enumerate() {
            if p.slot >= slots {
                v.push(format!(
                    "{at}: part {i} in slot {}, the day has {slots}",
                    p.slot
                ));
                slots_ok = false;
                continue;
            }
            if i > 0 && p.slot != a.parts[i - 1].slot + 1 {
                v.push(format!(
                    "{at}: part {i} in slot {} does not follow slot {}",
                    p.slot,
                    a.parts[i - 1].slot
                ));
            }
            if p.people == 0 {
                v.push(format!("{at}: part {i} has no people"));
            }
            sum += u64::from(p.people);
            people[(s * days + a.day) * slots + p.slot] += u64::from(p.people);
        }
        if sum != u64::from(team.size) {
            v.push(format!(
                "{at}: parts hold {sum} people, the team has {}",
                team.size
            ));
        }
        day_people[s * days + a.day] += sum;
        let first = a.parts[0].slot;
        if slots_ok && team.hard_window && !instance.in_window(first, team.window) {
            v.push(format!(
                "{at}: starts in slot {first}, outside its hard {:?} window",
                team.window
            ));
        }

        // Buses.
        let travel = i64::from(travel_minutes(
            team,
            &instance.sites[s],
            instance.buses.speed_kmh,
        ));
        if !team.bus {
            if !a.trips.is_empty() {
                v.push(format!("{at}: does not ride the shuttle but has trips"));
            }
        } else {
            let mut per_part = vec![(0u32, 0u64); a.parts.len()];
            for (j, trip) in a.trips.iter().enumerate() {
                if trip.part >= a.parts.len() {
                    v.push(format!(
                        "{at}: trip {j} names part {}, there are {}",
                        trip.part,
                        a.parts.len()
                    ));
                    continue;
                }
                if trip.bus >= instance.buses.count {
                    v.push(format!(
                        "{at}: trip {j} on bus {}, there are {}",
                        trip.bus, instance.buses.count
                    ));
                }
                if trip.people == 0 || trip.people > seats {
                    v.push(format!(
                        "{at}: trip {j} carries {} people, a bus has {seats} seats",
                        trip.people
                    ));
                }
                per_part[trip.part].0 += 1;
                per_part[trip.part].1 += u64::from(trip.people);
                let arrive = a.parts[trip.part].slot as i64 * slot_minutes;
                let stop = i64::from(instance.buses.stop_minutes);
                busy.entry((a.day, trip.bus)).or_default().push((
                    arrive - travel - stop,
                    arrive + travel,
                    team.id.clone(),
                ));
            }
            for (i, (&(trips, carried), part)) in per_part.iter().zip(&a.parts).enumerate() {
                let needed = part.people.div_ceil(seats.max(1));
                if trips != needed {
                    v.push(format!(
                        "{at}: part {i} ({} people) has {trips} trips, {needed} needed",
                        part.people
                    ));
                }
                if carried != u64::from(part.people) {
                    v.push(format!(
                        "{at}: part {i} has {} people, its trips carry {carried}",
                        part.people
                    ));
                }
            }
        }

        scheduled_teams += 1;
        scheduled_people += u64::from(team.size);
        let size = i64::from(team.size);
        let miss = slots_ok && !instance.in_window(first, team.window);
        objective += w.person * size + w.priority_person * i64::from(team.priority_people)
            - w.travel_person_minute * size * travel
            - if miss { w.window_miss_person * size } else { 0 };
    }

    for (t, &n) in seen.iter().enumerate() {
        if n == 0 {
            v.push(format!(
                "team {} is neither assigned nor unassigned",
                instance.teams[t].id
            ));
        }
    }
    for (s, site) in instance.sites.iter().enumerate() {
        for d in 0..days {
            for k in 0..slots {
                let n = people[(s * days + d) * slots + k];
                let cap = site.slot_capacity[d][k];
                if n > u64::from(cap) {
                    v.push(format!(
                        "site {} day {d} slot {k}: {n} people, capacity {cap}",
                        site.id
                    ));
                }
            }
            let n = day_people[s * days + d];
            if n > u64::from(site.doses[d]) {
                v.push(format!(
                    "site {} day {d}: {n} people, {} doses",
                    site.id, site.doses[d]
                ));
            }
        }
    }
    let mut keys: Vec<_> = busy.keys().copied().collect();
    keys.sort_unstable();
    for key in keys {
        let list = busy.get_mut(&key).expect("key listed");
        list.sort_unstable();
        // Against the trip that ends last so far, so a long trip overlapping a later one past
        // a short one in between is caught too.
        let mut last: Option<&Busy> = None;
        for trip in list.iter() {
            if let Some(before) = last {
                if trip.0 < before.1 {
                    v.push(format!(
                        "bus {} day {}: trips for {} ({}..{}) and {} ({}..{}) overlap",
                        key.1, key.0, before.2, before.0, before.1, trip.2, trip.0, trip.1
                    ));
                }
                if trip.1 <= before.1 {
                    continue;
                }
            }
            last = Some(trip);
        }
    }
    Report {
        valid: v.is_empty(),
        objective,
        violations: v,
        warnings,
        scheduled_teams,
        scheduled_people,
        unassigned_teams: plan.unassigned.len(),
    }
}
