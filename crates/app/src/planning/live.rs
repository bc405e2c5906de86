//! The planner's instance built from live data (see the parent module): the horizon, the sites'
//! grid of free places and doses, the teams of the people waiting, and the teams booked already
//! — each a named step of [`live_instance`].

use std::collections::HashMap;

use chrono::{Datelike, Days, Months, NaiveDate};
use vaxloop_planner::Instance;
use vaxloop_planner::instance::{
    Buses, Horizon, INSTANCE_FORMAT, Site, Team, Weights, Window, travel_minutes,
};
use vaxloop_planner::plan::{Assignment, Part, Trip};
use vaxloop_store::planning::{self, BookedTeam, PlanningSite, UnitPrefs, WaitingUnit};
use vaxloop_store::{Db, StoreResult};

use super::{
    BUS_KMH, BUS_STOP_MINUTES, BookedRef, BusTrip, DAYS, ELDERLY_AGE, GRID_MINUTES, Live, LiveTeam,
    TEAM_MAX, WALKING_KM,
};

/// The instance for the [`DAYS`] days after `today`.
pub async fn live_instance(db: &Db, today: NaiveDate) -> StoreResult<Live> {
    let days = PlanDays::after(today);
    let sites = planning::sites(db, &days.dates).await?;
    let waiting = planning::waiting(db, &days.elderly).await?;
    let (bus_count, bus_seats) = planning::shuttle(db).await?;
    let prefs = planning::prefs(db).await?;
    let site_index: HashMap<i64, usize> = (sites.iter().enumerate())
        .map(|(i, s)| (s.site_id, i))
        .collect();
    // The teams booked already on these days at these sites: the places and doses they hold
    // count as theirs to keep or to give up when the plan moves them.
    let booked: Vec<BookedTeam> = planning::booked_teams(db, &days.dates, &days.elderly)
        .await?
        .into_iter()
        .filter(|b| site_index.contains_key(&b.site_id) && days.dates.contains(&b.day))
        .collect();
    let grid = Grid::of(&sites, &days, &booked, &site_index);
    let mut teams = Teams::new(&grid, &sites, bus_count, bus_seats);
    teams.waiting(&waiting, &prefs, &days);
    teams.booked(&booked, &site_index, &days);
    let Teams {
        teams,
        live,
        deferred,
        ..
    } = teams;
    let instance = Instance {
        format: INSTANCE_FORMAT.into(),
        name: format!("live-{}", days.dates.first().map_or("", String::as_str)),
        horizon: Horizon {
            dates: days.dates,
            day_start: format!("{:02}:{:02}", grid.first / 60, grid.first % 60),
            slot_minutes: GRID_MINUTES as u32,
            slots_per_day: grid.slots_per_day,
        },
        sites: grid.sites,
        teams,
        buses: Buses {
            count: bus_count.clamp(0, i64::from(u32::MAX)) as u32,
            seats: bus_seats.clamp(0, i64::from(u32::MAX)) as u32,
            speed_kmh: BUS_KMH,
            stop_minutes: BUS_STOP_MINUTES,
        },
        weights: Weights::default(),
    };
    Ok(Live {
        instance,
        teams: live,
        site_ids: sites.iter().map(|s| s.site_id).collect(),
        slots: grid.slots,
        fixed: grid.fixed,
        allocated: grid.allocated,
        disruptions: Vec::new(),
        deferred,
        elderly: days.elderly,
    })
}

/// The planning days and what depends on them.
struct PlanDays {
    /// YYYY-MM-DD.
    dates: Vec<String>,
    /// 1 = Monday … 7 = Sunday, per planning day.
    weekdays: Vec<char>,
    /// Born on or before this day: [`ELDERLY_AGE`] or older today (a 29 February birthday counts
    /// from 28 February).
    elderly: String,
}

impl PlanDays {
    fn after(today: NaiveDate) -> Self {
        let days: Vec<NaiveDate> = (1..=DAYS)
            .filter_map(|d| today.checked_add_days(Days::new(d)))
            .collect();
        let elderly = today
            .checked_sub_months(Months::new(12 * ELDERLY_AGE))
            .unwrap_or(today);
        Self {
            dates: days
                .iter()
                .map(|d| d.format("%Y-%m-%d").to_string())
                .collect(),
            weekdays: (days.iter())
                .map(|d| char::from_digit(d.weekday().number_from_monday(), 10).unwrap_or('0'))
                .collect(),
            elderly: elderly.format("%Y-%m-%d").to_string(),
        }
    }

    fn index(&self, date: &str) -> usize {
        self.dates.iter().position(|d| d == date).unwrap_or(0)
    }
}

/// Kilometres east and north of `origin` (equirectangular: a town is small).
fn km(origin: (f64, f64), lat: f64, lon: f64) -> (f64, f64) {
    let x = (lon - origin.1) * 111.32 * origin.0.to_radians().cos();
    let y = (lat - origin.0) * 110.57;
    ((x * 100.0).round() / 100.0, (y * 100.0).round() / 100.0)
}

fn clamp(n: i64) -> u32 {
    n.clamp(0, i64::from(u32::MAX)) as u32
}

/// The sites on the instance's grid: each site-day's places per grid slot and its doses, with
/// what the booked teams hold counted back in, and the way back to the database's slots.
struct Grid {
    /// Minutes after midnight of the grid's first slot.
    first: i64,
    slots_per_day: usize,
    /// Coordinates are kilometres from here, the sites' centre.
    origin: (f64, f64),
    sites: Vec<Site>,
    /// `(site, day, grid slot)` → the slots starting there, with their free places.
    slots: HashMap<(usize, usize, usize), Vec<(i64, i64)>>,
    /// Slot id → its grid slot.
    cell_of: HashMap<i64, usize>,
    fixed: Vec<Vec<i64>>,
    allocated: Vec<Vec<i64>>,
}

impl Grid {
    fn of(
        sites: &[PlanningSite],
        days: &PlanDays,
        booked: &[BookedTeam],
        site_index: &HashMap<i64, usize>,
    ) -> Self {
        let (first, slots_per_day) = Self::span(sites);
        let n_days = days.dates.len();
        // What the booked teams hold: places per slot, doses per site-day.
        let mut held: HashMap<i64, i64> = HashMap::new();
        let mut held_doses = vec![vec![0i64; n_days]; sites.len()];
        for b in booked {
            for p in &b.people {
                *held.entry(p.2).or_default() += 1;
            }
            held_doses[site_index[&b.site_id]][days.index(&b.day)] += b.people.len() as i64;
        }
        let mut grid = Grid {
            first,
            slots_per_day,
            origin: centre(sites),
            sites: Vec::with_capacity(sites.len()),
            slots: HashMap::new(),
            cell_of: HashMap::new(),
            fixed: vec![vec![0i64; n_days]; sites.len()],
            allocated: vec![vec![0i64; n_days]; sites.len()],
        };
        for (s, site) in sites.iter().enumerate() {
            let mut capacity = vec![vec![0u32; slots_per_day]; n_days];
            let mut doses = vec![0u32; n_days];
            for (d, date) in days.dates.iter().enumerate() {
                grid.allocated[s][d] = site.allocated.get(date).copied().unwrap_or(0);
                let Some((free_doses, day_slots)) = site.days.get(date) else {
                    continue;
                };
                doses[d] = clamp(free_doses + held_doses[s][d]);
                grid.fixed[s][d] = (grid.allocated[s][d] - free_doses - held_doses[s][d]).max(0);
                for slot in day_slots {
                    let k = ((slot.starts_min - first) / GRID_MINUTES) as usize;
                    let own = held.get(&slot.slot_id).copied().unwrap_or(0);
                    grid.cell_of.insert(slot.slot_id, k);
                    if k < slots_per_day && slot.free + own > 0 {
                        capacity[d][k] += clamp(slot.free + own);
                        (grid.slots.entry((s, d, k)).or_default()).push((slot.slot_id, slot.free));
                    }
                }
            }
            let (x, y) = grid.here(site.lat, site.lon);
            grid.sites.push(Site {
                id: site.code.clone(),
                x_km: x,
                y_km: y,
                slot_capacity: capacity,
                doses,
            });
        }
        grid
    }

    /// The grid: from the earliest slot start to the latest end of any site, `(first minute,
    /// slots per day)`.
    fn span(sites: &[PlanningSite]) -> (i64, usize) {
        let all_slots = sites
            .iter()
            .flat_map(|s| s.days.values().flat_map(|(_, v)| v.iter()));
        let first = (all_slots.clone().map(|s| s.starts_min).min()).unwrap_or(8 * 60);
        let last = (all_slots.map(|s| s.ends_min).max()).unwrap_or(first + GRID_MINUTES);
        let first = first - first % GRID_MINUTES;
        let slots = ((last - first + GRID_MINUTES - 1) / GRID_MINUTES).max(1) as usize;
        (first, slots)
    }

    /// A place's coordinates on the instance (the origin when it has none).
    fn here(&self, lat: Option<f64>, lon: Option<f64>) -> (f64, f64) {
        match lat.zip(lon) {
            Some((lat, lon)) => km(self.origin, lat, lon),
            None => (0.0, 0.0),
        }
    }
}

/// The centre of the sites that have coordinates.
fn centre(sites: &[PlanningSite]) -> (f64, f64) {
    let located: Vec<(f64, f64)> = sites.iter().filter_map(|s| s.lat.zip(s.lon)).collect();
    if located.is_empty() {
        return (0.0, 0.0);
    }
    let n = located.len() as f64;
    (
        located.iter().map(|p| p.0).sum::<f64>() / n,
        located.iter().map(|p| p.1).sum::<f64>() / n,
    )
}

/// The instance's teams as they are made: a unit's waiting people in order, at most a bus load
/// (or [`TEAM_MAX`]) and at most the largest slot each; then the teams booked already.
struct Teams<'a> {
    grid: &'a Grid,
    sites: &'a [PlanningSite],
    buses: bool,
    team_max: usize,
    teams: Vec<Team>,
    live: Vec<LiveTeam>,
    deferred: Vec<(String, usize)>,
}

impl<'a> Teams<'a> {
    fn new(grid: &'a Grid, sites: &'a [PlanningSite], bus_count: i64, bus_seats: i64) -> Self {
        let largest_slot = (grid.sites.iter())
            .flat_map(|s| s.slot_capacity.iter().flatten())
            .copied()
            .max()
            .unwrap_or(0) as i64;
        let team_max = if bus_count > 0 { bus_seats } else { TEAM_MAX }
            .min(largest_slot.max(1))
            .max(1) as usize;
        Self {
            grid,
            sites,
            buses: bus_count > 0,
            team_max,
            teams: Vec::new(),
            live: Vec::new(),
            deferred: Vec::new(),
        }
    }

    /// A team of unit `unit` at `(x, y)`: `people` with their green flag, `parts` at most.
    fn team(
        &self,
        id: String,
        unit: (&str, i64),
        (x, y): (f64, f64),
        people: &[bool],
        parts: usize,
    ) -> Team {
        let (code, unit_id) = unit;
        let serving: Vec<usize> = (0..self.sites.len())
            .filter(|&s| self.sites[s].serves.is_empty() || self.sites[s].serves.contains(&unit_id))
            .collect();
        let at = &self.grid.sites;
        let nearest_km = (serving.iter())
            .map(|&s| (at[s].x_km - x).hypot(at[s].y_km - y))
            .fold(f64::INFINITY, f64::min);
        let size = people.len() as u32;
        Team {
            id,
            unit: code.to_string(),
            size,
            x_km: x,
            y_km: y,
            days: vec![],
            window: Window::Any,
            hard_window: false,
            priority_people: people.iter().filter(|&&g| g).count() as u32,
            bus: self.buses && nearest_km > WALKING_KM,
            max_parts: (if size > 10 { 2 } else { 1 }).max(parts as u32),
            sites: if serving.len() < self.sites.len() {
                serving.iter().map(|&s| at[s].id.clone()).collect()
            } else {
                vec![]
            },
        }
    }

    /// The teams of the people waiting, each unit on its days and part of the day as its contact
    /// or the desk set them; a unit none of whose days is planned is left out (deferred).
    fn waiting(
        &mut self,
        waiting: &[WaitingUnit],
        prefs: &HashMap<i64, UnitPrefs>,
        days: &PlanDays,
    ) {
        for unit in waiting {
            let at = self.grid.here(unit.lat, unit.lon);
            let pref = prefs.get(&unit.unit_id);
            let only_days = pref.is_some_and(|p| !p.weekdays.is_empty());
            let on: Vec<usize> = match pref {
                Some(p) if only_days => (0..days.weekdays.len())
                    .filter(|&d| p.weekdays.contains(days.weekdays[d]))
                    .collect(),
                _ => vec![],
            };
            if only_days && on.is_empty() {
                self.deferred.push((unit.code.clone(), unit.people));
                continue;
            }
            let window = match pref.map(|p| p.window.as_str()) {
                Some("am") => Window::Am,
                Some("pm") => Window::Pm,
                _ => Window::Any,
            };
            let hard_window = pref.is_some_and(|p| p.hard_window) && window != Window::Any;
            // The unit's people in the order publishing takes them (the green channel first):
            // team i is the i-th run of at most a team's worth.
            for (i, from) in (0..unit.people).step_by(self.team_max).enumerate() {
                let size = self.team_max.min(unit.people - from);
                let green = unit.green.saturating_sub(from).min(size);
                let flags: Vec<bool> = (0..size).map(|k| k < green).collect();
                let id = format!("{}-{}", unit.code, i + 1);
                let mut team = self.team(id, (&unit.code, unit.unit_id), at, &flags, 1);
                team.days = on.clone();
                team.window = window;
                team.hard_window = hard_window;
                self.teams.push(team);
                self.live.push(LiveTeam {
                    unit_id: unit.unit_id,
                    people: Vec::new(),
                    from,
                    booked: None,
                });
            }
        }
    }

    /// The teams booked already, each where it is now: its people per grid slot, its stored
    /// trips, and the places it holds.
    fn booked(&mut self, booked: &[BookedTeam], site_index: &HashMap<i64, usize>, days: &PlanDays) {
        for b in booked {
            let (s, d) = (site_index[&b.site_id], days.index(&b.day));
            let (parts, holds) = self.parts_of(b);
            let green: Vec<bool> = b.people.iter().map(|p| p.1).collect();
            let at = self.grid.here(b.lat, b.lon);
            let team = self.team(
                b.code.clone(),
                (&b.unit_code, b.unit_id),
                at,
                &green,
                parts.len(),
            );
            let trips = if team.bus {
                self.trips_of(b, &team, s, &parts)
            } else {
                vec![]
            };
            let now = Assignment {
                team: b.code.clone(),
                site: self.grid.sites[s].id.clone(),
                day: d,
                parts,
                trips,
            };
            self.teams.push(team);
            self.live.push(LiveTeam {
                unit_id: b.unit_id,
                people: b.people.iter().map(|p| p.0).collect(),
                from: 0,
                booked: Some(BookedRef {
                    team_id: b.team_id,
                    code: b.code.clone(),
                    now,
                    holds,
                }),
            });
        }
    }

    /// A booked team's people per grid slot, in slot order (a slot off the grid shows as one past
    /// it: the plan then cannot keep the team there and moves it), and the places it holds.
    fn parts_of(&self, b: &BookedTeam) -> (Vec<Part>, Vec<(i64, i64)>) {
        let mut parts: Vec<Part> = Vec::new();
        let mut holds: Vec<(i64, i64)> = Vec::new();
        for p in &b.people {
            let k = self
                .grid
                .cell_of
                .get(&p.2)
                .copied()
                .unwrap_or(self.grid.slots_per_day);
            match parts.last_mut() {
                Some(x) if x.slot == k => x.people += 1,
                _ => parts.push(Part { slot: k, people: 1 }),
            }
            match holds.last_mut() {
                Some(h) if h.0 == p.2 => h.1 += 1,
                _ => holds.push((p.2, 1)),
            }
        }
        (parts, holds)
    }

    /// A booked team's stored trips, each to the part whose slot it arrives for.
    fn trips_of(&self, b: &BookedTeam, team: &Team, s: usize, parts: &[Part]) -> Vec<Trip> {
        let travel = i64::from(travel_minutes(team, &self.grid.sites[s], BUS_KMH));
        let stored: Vec<BusTrip> = (b.trips.as_deref())
            .and_then(|j| serde_json::from_str(j).ok())
            .unwrap_or_default();
        let first = self.grid.first;
        (stored.iter())
            .map(|t| Trip {
                bus: t.bus.saturating_sub(1),
                part: (parts.iter())
                    .position(|p| first + p.slot as i64 * GRID_MINUTES - travel == t.departs_min)
                    .unwrap_or(0),
                people: t.people,
            })
            .collect()
    }
}
