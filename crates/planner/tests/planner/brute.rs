//! An exhaustive search for the best objective of a tiny instance, written apart from the
//! solver: every team left out or at every site, allowed day, start slot and split into parts,
//! with bus feasibility judged by the most trips under way at once (buses are interchangeable).

use vaxloop_planner::Instance;
use vaxloop_planner::instance::travel_minutes;

struct Option_ {
    site: usize,
    day: usize,
    /// (slot, people)
    parts: Vec<(usize, u32)>,
    value: i64,
    /// (from, to, buses) per part, for bus teams.
    trips: Vec<(i64, i64, u32)>,
}

fn compositions(total: u32, parts: usize) -> Vec<Vec<u32>> {
    if parts == 1 {
        return vec![vec![total]];
    }
    let mut out = Vec::new();
    for first in 1..total {
        for mut rest in compositions(total - first, parts - 1) {
            rest.insert(0, first);
            out.push(rest);
        }
    }
    out
}

fn options(inst: &Instance, t: usize) -> Vec<Option_> {
    let team = &inst.teams[t];
    let w = &inst.weights;
    let slots = inst.horizon.slots_per_day;
    let mut out = Vec::new();
    for (s, site) in inst.sites.iter().enumerate() {
        let travel = i64::from(travel_minutes(team, site, inst.buses.speed_kmh));
        for d in 0..inst.horizon.dates.len() {
            if !team.days.is_empty() && !team.days.contains(&d) {
                continue;
            }
            for k in 0..slots {
                let inside = inst.in_window(k, team.window);
                if team.hard_window && !inside {
                    continue;
                }
                let size = i64::from(team.size);
                let value = w.person * size + w.priority_person * i64::from(team.priority_people)
                    - w.travel_person_minute * size * travel
                    - if inside {
                        0
                    } else {
                        w.window_miss_person * size
                    };
                for m in 1..=(team.max_parts as usize).min(slots - k) {
                    for split in compositions(team.size, m) {
                        let parts: Vec<(usize, u32)> =
                            split.iter().enumerate().map(|(i, &p)| (k + i, p)).collect();
                        let trips = if team.bus {
                            parts
                                .iter()
                                .map(|&(slot, p)| {
                                    let a = i64::from(inst.slot_start(slot));
                                    let stop = i64::from(inst.buses.stop_minutes);
                                    (a - travel - stop, a + travel, p.div_ceil(inst.buses.seats))
                                })
                                .collect()
                        } else {
                            vec![]
                        };
                        out.push(Option_ {
                            site: s,
                            day: d,
                            parts,
                            value,
                            trips,
                        });
                    }
                }
            }
        }
    }
    out.sort_by_key(|o| std::cmp::Reverse(o.value));
    out
}

struct Search<'a> {
    inst: &'a Instance,
    options: Vec<Vec<Option_>>,
    /// The most each team from index i on can add.
    rest: Vec<i64>,
    used: Vec<u32>,
    dosed: Vec<u32>,
    /// (day, from, to, buses)
    trips: Vec<(usize, i64, i64, u32)>,
    best: i64,
    /// The choices on the current path and at the best: option index per team (none: out).
    path: Vec<Option<usize>>,
    best_path: Vec<Option<usize>>,
}

impl Search<'_> {
    fn slot(&self, s: usize, d: usize, k: usize) -> usize {
        (s * self.inst.horizon.dates.len() + d) * self.inst.horizon.slots_per_day + k
    }

    fn buses_ok(&self) -> bool {
        // The most trips under way at once is reached at some trip's start.
        self.trips.iter().all(|&(day, at, _, _)| {
            let under_way: u32 = self
                .trips
                .iter()
                .filter(|&&(d, from, to, _)| d == day && from <= at && at < to)
                .map(|t| t.3)
                .sum();
            under_way <= self.inst.buses.count
        })
    }

    fn go(&mut self, t: usize, value: i64) {
        if t == self.options.len() {
            if value > self.best {
                self.best = value;
                self.best_path.clone_from(&self.path);
            }
            return;
        }
        if value + self.rest[t] <= self.best {
            return;
        }
        let size = self.inst.teams[t].size;
        for i in 0..self.options[t].len() {
            let o = &self.options[t][i];
            if o.value <= 0 {
                break;
            }
            let days = self.inst.horizon.dates.len();
            let sd = o.site * days + o.day;
            if self.dosed[sd] + size > self.inst.sites[o.site].doses[o.day] {
                continue;
            }
            let fits = o.parts.iter().all(|&(k, p)| {
                self.used[self.slot(o.site, o.day, k)] + p
                    <= self.inst.sites[o.site].slot_capacity[o.day][k]
            });
            if !fits {
                continue;
            }
            let (site, day, v) = (o.site, o.day, o.value);
            let parts = o.parts.clone();
            let added: Vec<_> = o.trips.iter().map(|&(f, to, n)| (day, f, to, n)).collect();
            self.trips.extend(added.iter().copied());
            if self.buses_ok() {
                self.dosed[sd] += size;
                for &(k, p) in &parts {
                    let idx = self.slot(site, day, k);
                    self.used[idx] += p;
                }
                self.path[t] = Some(i);
                self.go(t + 1, value + v);
                self.path[t] = None;
                self.dosed[sd] -= size;
                for &(k, p) in &parts {
                    let idx = self.slot(site, day, k);
                    self.used[idx] -= p;
                }
            }
            self.trips.truncate(self.trips.len() - added.len());
        }
        // Left out.
        self.go(t + 1, value);
    }
}

/// Where a team goes: site, day, (slot, people) per part.
pub type Seat = (String, usize, Vec<(usize, u32)>);

/// The best objective of `inst` by exhaustive search and, per team, where it goes at that
/// optimum.
pub fn optimum_with_plan(inst: &Instance) -> (i64, Vec<Option<Seat>>) {
    let options: Vec<Vec<Option_>> = (0..inst.teams.len()).map(|t| options(inst, t)).collect();
    let mut rest = vec![0i64; options.len() + 1];
    for t in (0..options.len()).rev() {
        rest[t] = rest[t + 1] + options[t].first().map_or(0, |o| o.value.max(0));
    }
    let n = inst.sites.len() * inst.horizon.dates.len();
    let mut search = Search {
        inst,
        options,
        rest,
        used: vec![0; n * inst.horizon.slots_per_day],
        dosed: vec![0; n],
        trips: vec![],
        best: 0,
        path: vec![None; inst.teams.len()],
        best_path: vec![None; inst.teams.len()],
    };
    search.go(0, 0);
    let plan = search
        .best_path
        .iter()
        .enumerate()
        .map(|(t, i)| {
            i.map(|i| {
                let o = &search.options[t][i];
                (inst.sites[o.site].id.clone(), o.day, o.parts.clone())
            })
        })
        .collect();
    (search.best, plan)
}
