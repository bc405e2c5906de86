//! The independent validator behind `vaxloop plan check`: every hard rule of the format, judged
//! from the instance and the plan files alone. It shares nothing with the solver but the file
//! types, so a solver bug cannot hide behind the same bug here.

use std::collections::HashMap;

use serde::Serialize;

use crate::instance::{Instance, Team, travel_minutes};
use crate::plan::{Assignment, Plan};

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
    let mut j = Judge::new(instance);
    if plan.instance != instance.name {
        j.warnings.push(format!(
            "the plan names instance \"{}\", the file is \"{}\"",
            plan.instance, instance.name
        ));
    }
    for u in &plan.unassigned {
        j.mention(&u.team);
    }
    for a in &plan.assignments {
        j.assignment(a);
    }
    j.everyone_mentioned();
    j.capacities();
    j.buses();
    Report {
        valid: j.v.is_empty(),
        objective: j.objective,
        violations: j.v,
        warnings: j.warnings,
        scheduled_teams: j.scheduled_teams,
        scheduled_people: j.scheduled_people,
        unassigned_teams: plan.unassigned.len(),
    }
}

/// The checker's state as it reads a plan: what it found wrong, and what it counts.
struct Judge<'a> {
    instance: &'a Instance,
    team_at: HashMap<&'a str, usize>,
    site_at: HashMap<&'a str, usize>,
    days: usize,
    slots: usize,
    v: Vec<String>,
    warnings: Vec<String>,
    /// How often each team is named.
    seen: Vec<u32>,
    /// People per site, day and slot; per site and day.
    people: Vec<u64>,
    day_people: Vec<u64>,
    /// (day, bus) → busy intervals [from, to) in minutes from day_start.
    busy: HashMap<(usize, u32), Vec<Busy>>,
    objective: i64,
    scheduled_teams: usize,
    scheduled_people: u64,
}

impl<'a> Judge<'a> {
    fn new(instance: &'a Instance) -> Self {
        let days = instance.horizon.dates.len();
        let slots = instance.horizon.slots_per_day;
        Self {
            instance,
            team_at: (instance.teams.iter().enumerate())
                .map(|(i, t)| (t.id.as_str(), i))
                .collect(),
            site_at: (instance.sites.iter().enumerate())
                .map(|(i, s)| (s.id.as_str(), i))
                .collect(),
            days,
            slots,
            v: Vec::new(),
            warnings: Vec::new(),
            seen: vec![0u32; instance.teams.len()],
            people: vec![0u64; instance.sites.len() * days * slots],
            day_people: vec![0u64; instance.sites.len() * days],
            busy: HashMap::new(),
            objective: 0,
            scheduled_teams: 0,
            scheduled_people: 0,
        }
    }

    /// The team named `id`, counted; a team named twice or unknown is a violation.
    fn mention(&mut self, id: &str) -> Option<usize> {
        match self.team_at.get(id) {
            Some(&t) => {
                self.seen[t] += 1;
                if self.seen[t] == 2 {
                    self.v
                        .push(format!("team {id} appears more than once in the plan"));
                }
                Some(t)
            }
            None => {
                self.v.push(format!("team {id} is not in the instance"));
                None
            }
        }
    }

    /// One assignment: its team, site and day, its parts, its trips, and what it adds to the
    /// objective.
    fn assignment(&mut self, a: &Assignment) {
        let Some(t) = self.mention(&a.team) else {
            return;
        };
        let instance = self.instance;
        let team = &instance.teams[t];
        let at = format!("team {}", team.id);
        let Some(&s) = self.site_at.get(a.site.as_str()) else {
            self.v
                .push(format!("{at}: site {} is not in the instance", a.site));
            return;
        };
        if !instance.serves(s, t) {
            self.v
                .push(format!("{at}: site {} does not serve its unit", a.site));
        }
        if a.day >= self.days {
            let days = self.days;
            self.v.push(format!(
                "{at}: day {} is past the horizon's {days} dates",
                a.day
            ));
            return;
        }
        if !team.days.is_empty() && !team.days.contains(&a.day) {
            self.v.push(format!(
                "{at}: day {} is not one of its days {:?}",
                a.day, team.days
            ));
        }
        if a.parts.is_empty() {
            self.v.push(format!("{at}: an assignment without parts"));
            return;
        }
        if a.parts.len() > team.max_parts as usize {
            self.v.push(format!(
                "{at}: {} parts, at most {} allowed",
                a.parts.len(),
                team.max_parts
            ));
        }
        let slots_ok = self.parts(&at, team, s, a);
        let first = a.parts[0].slot;
        if slots_ok && team.hard_window && !instance.in_window(first, team.window) {
            self.v.push(format!(
                "{at}: starts in slot {first}, outside its hard {:?} window",
                team.window
            ));
        }
        let travel = i64::from(travel_minutes(
            team,
            &instance.sites[s],
            instance.buses.speed_kmh,
        ));
        if !team.bus {
            if !a.trips.is_empty() {
                self.v
                    .push(format!("{at}: does not ride the shuttle but has trips"));
            }
        } else {
            self.trips(&at, team, a, travel);
        }
        self.scheduled_teams += 1;
        self.scheduled_people += u64::from(team.size);
        let w = &instance.weights;
        let size = i64::from(team.size);
        let miss = slots_ok && !instance.in_window(first, team.window);
        // Saturating: the weights and sizes are bounded, but distances come from coordinates.
        let gain = (w.person.saturating_mul(size)).saturating_add(
            w.priority_person
                .saturating_mul(i64::from(team.priority_people)),
        );
        let loss = (w
            .travel_person_minute
            .saturating_mul(size)
            .saturating_mul(travel))
        .saturating_add(if miss {
            w.window_miss_person.saturating_mul(size)
        } else {
            0
        });
        self.objective = self.objective.saturating_add(gain.saturating_sub(loss));
    }

    /// The parts of an assignment: in the day, consecutive, not empty, holding the team; counted
    /// against their slots and the site-day. False when a part lies outside the day.
    fn parts(&mut self, at: &str, team: &Team, s: usize, a: &Assignment) -> bool {
        let (days, slots) = (self.days, self.slots);
        let mut sum = 0u64;
        let mut slots_ok = true;
        for (i, p) in a.parts.iter().enumerate() {
            if p.slot >= slots {
                self.v.push(format!(
                    "{at}: part {i} in slot {}, the day has {slots}",
                    p.slot
                ));
                slots_ok = false;
                continue;
            }
            if i > 0 && Some(p.slot) != a.parts[i - 1].slot.checked_add(1) {
                self.v.push(format!(
                    "{at}: part {i} in slot {} does not follow slot {}",
                    p.slot,
                    a.parts[i - 1].slot
                ));
            }
            if p.people == 0 {
                self.v.push(format!("{at}: part {i} has no people"));
            }
            sum += u64::from(p.people);
            self.people[(s * days + a.day) * slots + p.slot] += u64::from(p.people);
        }
        if sum != u64::from(team.size) {
            self.v.push(format!(
                "{at}: parts hold {sum} people, the team has {}",
                team.size
            ));
        }
        self.day_people[s * days + a.day] += sum;
        slots_ok
    }

    /// The shuttle trips of a team that rides: on a bus there is, within its seats, enough for
    /// each part and carrying exactly its people; each keeps its bus busy for the round trip.
    fn trips(&mut self, at: &str, team: &Team, a: &Assignment, travel: i64) {
        let buses = &self.instance.buses;
        let seats = buses.seats;
        let slot_minutes = i64::from(self.instance.horizon.slot_minutes);
        let mut per_part = vec![(0u32, 0u64); a.parts.len()];
        for (j, trip) in a.trips.iter().enumerate() {
            if trip.part >= a.parts.len() {
                self.v.push(format!(
                    "{at}: trip {j} names part {}, there are {}",
                    trip.part,
                    a.parts.len()
                ));
                continue;
            }
            if trip.bus >= buses.count {
                self.v.push(format!(
                    "{at}: trip {j} on bus {}, there are {}",
                    trip.bus, buses.count
                ));
            }
            if trip.people == 0 || trip.people > seats {
                self.v.push(format!(
                    "{at}: trip {j} carries {} people, a bus has {seats} seats",
                    trip.people
                ));
            }
            per_part[trip.part].0 += 1;
            per_part[trip.part].1 += u64::from(trip.people);
            // Saturating: a plan file may name any slot (one outside the day is a violation of
            // its own, found with the parts).
            let slot = i64::try_from(a.parts[trip.part].slot).unwrap_or(i64::MAX);
            let arrive = slot.saturating_mul(slot_minutes);
            let stop = i64::from(buses.stop_minutes);
            self.busy.entry((a.day, trip.bus)).or_default().push((
                arrive.saturating_sub(travel).saturating_sub(stop),
                arrive.saturating_add(travel),
                team.id.clone(),
            ));
        }
        for (i, (&(trips, carried), part)) in per_part.iter().zip(&a.parts).enumerate() {
            let needed = part.people.div_ceil(seats.max(1));
            if trips != needed {
                self.v.push(format!(
                    "{at}: part {i} ({} people) has {trips} trips, {needed} needed",
                    part.people
                ));
            }
            if carried != u64::from(part.people) {
                self.v.push(format!(
                    "{at}: part {i} has {} people, its trips carry {carried}",
                    part.people
                ));
            }
        }
    }

    /// Every team is assigned or unassigned.
    fn everyone_mentioned(&mut self) {
        for (t, &n) in self.seen.iter().enumerate() {
            if n == 0 {
                let id = &self.instance.teams[t].id;
                self.v
                    .push(format!("team {id} is neither assigned nor unassigned"));
            }
        }
    }

    /// No slot over its capacity, no site-day over its doses.
    fn capacities(&mut self) {
        let (days, slots) = (self.days, self.slots);
        for (s, site) in self.instance.sites.iter().enumerate() {
            for d in 0..days {
                for k in 0..slots {
                    let n = self.people[(s * days + d) * slots + k];
                    let cap = site.slot_capacity[d][k];
                    if n > u64::from(cap) {
                        self.v.push(format!(
                            "site {} day {d} slot {k}: {n} people, capacity {cap}",
                            site.id
                        ));
                    }
                }
                let n = self.day_people[s * days + d];
                if n > u64::from(site.doses[d]) {
                    self.v.push(format!(
                        "site {} day {d}: {n} people, {} doses",
                        site.id, site.doses[d]
                    ));
                }
            }
        }
    }

    /// No bus on two trips at once.
    fn buses(&mut self) {
        let mut keys: Vec<_> = self.busy.keys().copied().collect();
        keys.sort_unstable();
        for key in keys {
            let list = self.busy.get_mut(&key).expect("key listed");
            list.sort_unstable();
            // Against the trip that ends last so far, so a long trip overlapping a later one
            // past a short one in between is caught too.
            let mut last: Option<&Busy> = None;
            for trip in list.iter() {
                if let Some(before) = last {
                    if trip.0 < before.1 {
                        self.v.push(format!(
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
    }
}
