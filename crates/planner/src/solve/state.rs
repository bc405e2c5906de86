//! The solver's working state: what is left of every slot, every site-day's doses and the bus
//! pool, and where each team is. Placing and removing a team are exact inverses, so a search
//! move is undone by replaying its removals and insertions backwards.
//!
//! Buses are kept as a count of buses busy at each minute of each day, not as named buses: a set
//! of trips fits a pool of `count` interchangeable buses exactly when no minute has more than
//! `count` of them under way (interval graphs are perfect), and [`State::bus_numbers`] names the
//! buses at the end by handing them out in order of departure.

use crate::instance::Instance;

/// What does not change while solving: the instance and numbers derived from it.
pub(crate) struct Model<'a> {
    pub inst: &'a Instance,
    pub sites: usize,
    pub days: usize,
    pub slots: usize,
    /// Travel minutes, `[team * sites + site]`.
    pub travel: Vec<i32>,
    /// Whether each slot lies in each team's window: `[team * slots + slot]`.
    pub in_window: Vec<bool>,
    /// Minutes from day_start at which each slot starts.
    pub slot_start: Vec<i32>,
    /// Bus timeline: minute index 0 is `origin` minutes from day_start; `span` minutes a day.
    pub origin: i32,
    pub span: usize,
    pub seats: u32,
    pub bus_count: u16,
    pub stop: i32,
}

impl<'a> Model<'a> {
    pub fn new(inst: &'a Instance) -> Self {
        let (sites, days, slots) = (inst.sites.len(), inst.days(), inst.slots());
        let teams = inst.teams.len();
        let mut travel = Vec::with_capacity(teams * sites);
        let mut in_window = Vec::with_capacity(teams * slots);
        for t in 0..teams {
            travel.extend((0..sites).map(|s| inst.travel(t, s)));
            in_window.extend((0..slots).map(|k| inst.in_window(k, inst.teams[t].window)));
        }
        let slot_start: Vec<i32> = (0..slots).map(|k| inst.slot_start(k)).collect();
        // Only bus teams' trips go on the timeline.
        let max_travel = (0..teams)
            .filter(|&t| inst.teams[t].bus)
            .flat_map(|t| travel[t * sites..(t + 1) * sites].iter().copied())
            .max()
            .unwrap_or(0);
        let stop = inst.buses.stop_minutes as i32;
        let origin = -(max_travel + stop);
        let end = slot_start.last().copied().unwrap_or(0) + max_travel;
        Model {
            inst,
            sites,
            days,
            slots,
            travel,
            in_window,
            slot_start,
            origin,
            span: (end - origin).max(1) as usize,
            seats: inst.buses.seats.max(1),
            bus_count: inst.buses.count.min(u32::from(u16::MAX)) as u16,
            stop,
        }
    }

    pub fn teams(&self) -> usize {
        self.inst.teams.len()
    }

    pub fn travel(&self, t: usize, s: usize) -> i32 {
        self.travel[t * self.sites + s]
    }

    /// The objective's worth of team `t` at site `s`, starting in or out of its window.
    pub fn value(&self, t: usize, s: usize, miss: bool) -> i64 {
        let team = &self.inst.teams[t];
        let w = &self.inst.weights;
        let size = i64::from(team.size);
        w.person * size + w.priority_person * i64::from(team.priority_people)
            - w.travel_person_minute * size * i64::from(self.travel(t, s))
            - if miss { w.window_miss_person * size } else { 0 }
    }

    /// The minutes `[from, to)` of the bus timeline a trip arriving at slot `k` keeps a bus.
    pub fn trip_span(&self, t: usize, s: usize, k: usize) -> (usize, usize) {
        let travel = self.travel(t, s);
        let arrive = self.slot_start[k];
        let from = arrive - travel - self.stop - self.origin;
        let to = arrive + travel - self.origin;
        (from as usize, to as usize)
    }

    pub fn site_day(&self, s: usize, d: usize) -> usize {
        s * self.days + d
    }

    pub fn slot_index(&self, s: usize, d: usize, k: usize) -> usize {
        (s * self.days + d) * self.slots + k
    }
}

/// A trip with its bus: (part, bus, people).
pub(crate) type NamedTrip = (usize, u32, u32);

/// Where a team is: site, day, the first slot, and people per consecutive slot from there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Placement {
    pub site: u32,
    pub day: u32,
    pub first: u32,
    pub parts: Vec<u32>,
    pub miss: bool,
}

#[derive(Clone)]
pub(crate) struct State {
    /// People still free per slot.
    pub cap: Vec<u32>,
    /// Doses still free per site-day.
    pub doses: Vec<u32>,
    /// Buses under way per minute: `[day * span + minute]`.
    pub buses: Vec<u16>,
    pub placed: Vec<Option<Placement>>,
    pub value: Vec<i64>,
    pub objective: i64,
}

impl State {
    pub fn new(m: &Model) -> Self {
        let mut cap = Vec::with_capacity(m.sites * m.days * m.slots);
        let mut doses = Vec::with_capacity(m.sites * m.days);
        for site in &m.inst.sites {
            for d in 0..m.days {
                cap.extend(site.slot_capacity[d].iter().copied());
                doses.push(site.doses[d]);
            }
        }
        State {
            cap,
            doses,
            buses: vec![0; m.days * m.span],
            placed: vec![None; m.teams()],
            value: vec![0; m.teams()],
            objective: 0,
        }
    }

    /// Buses a part of `people` people needs.
    pub fn trips(m: &Model, people: u32) -> u16 {
        people.div_ceil(m.seats).min(u32::from(u16::MAX)) as u16
    }

    /// Whether `n` more buses are free over the minutes `[from, to)` of day `d`.
    pub fn buses_free(&self, m: &Model, d: usize, (from, to): (usize, usize), n: u16) -> bool {
        let limit = m.bus_count.saturating_sub(n);
        n <= m.bus_count
            && self.buses[d * m.span + from..d * m.span + to]
                .iter()
                .all(|&b| b <= limit)
    }

    pub fn place(&mut self, m: &Model, t: usize, p: Placement) {
        debug_assert!(self.placed[t].is_none(), "team {t} placed twice");
        let (s, d) = (p.site as usize, p.day as usize);
        let size: u32 = p.parts.iter().sum();
        self.doses[m.site_day(s, d)] -= size;
        for (i, &people) in p.parts.iter().enumerate() {
            let k = p.first as usize + i;
            self.cap[m.slot_index(s, d, k)] -= people;
            if m.inst.teams[t].bus {
                let (from, to) = m.trip_span(t, s, k);
                let n = Self::trips(m, people);
                for b in &mut self.buses[d * m.span + from..d * m.span + to] {
                    *b += n;
                }
            }
        }
        let v = m.value(t, s, p.miss);
        self.value[t] = v;
        self.objective += v;
        self.placed[t] = Some(p);
    }

    pub fn remove(&mut self, m: &Model, t: usize) -> Option<Placement> {
        let p = self.placed[t].take()?;
        let (s, d) = (p.site as usize, p.day as usize);
        let size: u32 = p.parts.iter().sum();
        self.doses[m.site_day(s, d)] += size;
        for (i, &people) in p.parts.iter().enumerate() {
            let k = p.first as usize + i;
            self.cap[m.slot_index(s, d, k)] += people;
            if m.inst.teams[t].bus {
                let (from, to) = m.trip_span(t, s, k);
                let n = Self::trips(m, people);
                for b in &mut self.buses[d * m.span + from..d * m.span + to] {
                    *b -= n;
                }
            }
        }
        self.objective -= self.value[t];
        self.value[t] = 0;
        Some(p)
    }

    /// Names a bus for every trip. Teams with `prior` trips (a start plan's, for teams still
    /// exactly where they were) keep their buses where those do not clash; the other trips, in
    /// order of departure, take the lowest-numbered bus free for their whole trip. Should the
    /// kept buses leave no bus for a trip, that day is named afresh. Returns
    /// `[team] → [(part, bus, people)]`.
    pub fn bus_numbers(&self, m: &Model, prior: &[Option<Vec<NamedTrip>>]) -> Vec<Vec<NamedTrip>> {
        let mut out = vec![Vec::new(); m.teams()];
        for d in 0..m.days {
            if !self.name_day(m, d, prior, &mut out) {
                for (t, p) in self.placed.iter().enumerate() {
                    if p.as_ref().is_some_and(|p| p.day as usize == d) {
                        out[t].clear();
                    }
                }
                let named = self.name_day(m, d, &vec![None; m.teams()], &mut out);
                debug_assert!(named, "without kept buses every trip finds one");
            }
        }
        out
    }

    /// Names the buses of day `d` into `out`; false when the kept buses left a trip without one.
    fn name_day(
        &self,
        m: &Model,
        d: usize,
        prior: &[Option<Vec<NamedTrip>>],
        out: &mut [Vec<NamedTrip>],
    ) -> bool {
        let buses = usize::from(m.bus_count);
        let mut taken: Vec<Vec<(usize, usize)>> = vec![Vec::new(); buses];
        let clash = |taken: &[(usize, usize)], (from, to): (usize, usize)| {
            taken.iter().any(|&(a, b)| a < to && from < b)
        };
        // (from, to, team, part, people) of every trip still to name.
        let mut trips = Vec::new();
        for (t, p) in self.placed.iter().enumerate() {
            let Some(p) = p
                .as_ref()
                .filter(|p| p.day as usize == d && m.inst.teams[t].bus)
            else {
                continue;
            };
            let span = |part: usize| m.trip_span(t, p.site as usize, p.first as usize + part);
            if let Some(kept) = &prior[t] {
                let mut mine: Vec<(usize, usize, usize)> = Vec::new();
                let fits = kept.iter().all(|&(part, bus, _)| {
                    let bus = bus as usize;
                    let here = span(part);
                    let ok = part < p.parts.len()
                        && bus < buses
                        && !clash(&taken[bus], here)
                        && !mine
                            .iter()
                            .any(|&(b, a, z)| b == bus && a < here.1 && here.0 < z);
                    mine.push((bus, here.0, here.1));
                    ok
                });
                if fits {
                    for (&(bus, from, to), &trip) in mine.iter().zip(kept) {
                        taken[bus].push((from, to));
                        out[t].push(trip);
                    }
                    continue;
                }
            }
            for (i, &people) in p.parts.iter().enumerate() {
                let (from, to) = span(i);
                let n = u32::from(Self::trips(m, people));
                for j in 0..n {
                    // Share the part evenly over its trips.
                    let carried = people / n + u32::from(j < people % n);
                    trips.push((from, to, t, i, carried));
                }
            }
        }
        trips.sort_unstable();
        let kept_any = taken.iter().any(|b| !b.is_empty());
        let mut free_at = vec![0usize; buses];
        for (from, to, t, part, people) in trips {
            let bus = if kept_any {
                (0..buses).find(|&b| !clash(&taken[b], (from, to)))
            } else {
                // No kept buses: in order of departure, any bus free by then will do.
                free_at.iter().position(|&f| f <= from)
            };
            let Some(bus) = bus else { return false };
            free_at[bus] = to;
            taken[bus].push((from, to));
            out[t].push((part, bus as u32, people));
        }
        true
    }
}
