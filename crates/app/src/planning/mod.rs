//! The planner's instance built from live data, for the appointment desk: people registered
//! and not yet booked, grouped per unit into teams of at most a bus load (or a slot's worth);
//! the teams booked already on the planning days, where they are (their places and doses count
//! as theirs, so a plan keeps them or moves them); the free places of every slot and the free
//! doses of every site-day over the next three days; the units each site serves; the shuttle
//! pool. [`Live`] keeps the way back from the instance's ids to the database's (teams → people
//! and booked teams, grid slots → slots) for publishing, and the [`Disruption`]s the desk
//! recorded (a site-day closed, a delivery short), applied to the instance.

use std::collections::HashMap;

use chrono::{Datelike, Days, Months, NaiveDate};
use vaxloop_planner::Instance;
use vaxloop_planner::instance::{
    Buses, Horizon, INSTANCE_FORMAT, Site, Team, Weights, Window, travel_minutes,
};
use vaxloop_planner::plan::{Assignment, Part, Trip};
use vaxloop_store::{Db, StoreResult, planning};

/// Planning days after today (the desk plans three days ahead).
pub const DAYS: u64 = 3;
/// The slot grid of the instance, in minutes (the booking issue's default slot length).
pub const GRID_MINUTES: i64 = 30;
/// The most people in one team when there are no buses to size it by.
pub const TEAM_MAX: i64 = 45;
/// Shuttle speed on town roads, and the minutes a bus stops to load.
pub const BUS_KMH: f64 = 25.0;
pub const BUS_STOP_MINUTES: u32 = 10;
/// A unit further than this from its nearest site rides the shuttle (when there is one).
pub const WALKING_KM: f64 = 2.0;
/// Age from which a person goes through the green channel.
pub const ELDERLY_AGE: u32 = 60;

/// A live instance and the way back to the database.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Live {
    pub instance: Instance,
    /// Per instance team: its unit and its people.
    pub teams: Vec<LiveTeam>,
    /// Per instance site: the site's id.
    pub site_ids: Vec<i64>,
    /// `(site, day, grid slot)` → the slots starting in that grid cell, with their free places
    /// (not counting what the booked teams hold).
    #[serde(with = "slot_map")]
    pub slots: HashMap<(usize, usize, usize), Vec<(i64, i64)>>,
    /// `[site][day]`: places and doses booked there by people outside the booked teams, which
    /// no plan moves.
    #[serde(default)]
    pub fixed: Vec<Vec<i64>>,
    /// `[site][day]`: doses allocated.
    #[serde(default)]
    pub allocated: Vec<Vec<i64>>,
    /// What the desk recorded as changed since the supply was planned; applied to the instance.
    #[serde(default)]
    pub disruptions: Vec<Disruption>,
    /// Units left out of this plan because none of its days is one their people can come on:
    /// `(unit code, people waiting)`.
    #[serde(default)]
    pub deferred: Vec<(String, usize)>,
}

/// A change the desk records on a proposal before it shows in the data: a site-day closed,
/// or a site-day's delivery short. Publishing applies it, once its teams have been moved.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Disruption {
    /// The site (its code) is closed on that day (its date).
    Closed { site: String, day: String },
    /// Only `doses` doses in all arrive for the site-day.
    Doses {
        site: String,
        day: String,
        doses: i64,
    },
}

impl Disruption {
    /// The site's code and the date.
    pub fn site_day(&self) -> (&str, &str) {
        match self {
            Disruption::Closed { site, day } | Disruption::Doses { site, day, .. } => (site, day),
        }
    }
}

/// Why a disruption cannot be recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DisruptionError {
    #[error("there is no such site or day in the plan")]
    Unknown,
    #[error("{people} people booked one by one hold places there; move them first")]
    PeopleBooked { people: i64 },
    #[error("{fixed} doses are promised to people booked one by one; no fewer can arrive")]
    BelowFixed { fixed: i64 },
    #[error("{allocated} doses are allocated; a short delivery is fewer than that")]
    NotShort { allocated: i64 },
}

impl Live {
    /// The instance's indices of a site (code) and a day (date).
    pub fn site_day(&self, site: &str, day: &str) -> Option<(usize, usize)> {
        let s = self.instance.sites.iter().position(|x| x.id == site)?;
        let d = self.instance.horizon.dates.iter().position(|x| x == day)?;
        Some((s, d))
    }

    /// Applies `d` to the instance (replacing any earlier one of its site-day), after checking
    /// it can be applied.
    pub fn disrupt(&mut self, d: Disruption) -> Result<(), DisruptionError> {
        let (code, date) = d.site_day();
        let (s, day) = self.site_day(code, date).ok_or(DisruptionError::Unknown)?;
        let fixed = self
            .fixed
            .get(s)
            .and_then(|f| f.get(day))
            .copied()
            .unwrap_or(0);
        let allocated = self
            .allocated
            .get(s)
            .and_then(|f| f.get(day))
            .copied()
            .unwrap_or(0);
        let site = &mut self.instance.sites[s];
        match &d {
            Disruption::Closed { .. } => {
                if fixed > 0 {
                    return Err(DisruptionError::PeopleBooked { people: fixed });
                }
                site.slot_capacity[day].iter_mut().for_each(|c| *c = 0);
                site.doses[day] = 0;
            }
            Disruption::Doses { doses, .. } => {
                if *doses >= allocated {
                    return Err(DisruptionError::NotShort { allocated });
                }
                if *doses < fixed {
                    return Err(DisruptionError::BelowFixed { fixed });
                }
                site.doses[day] = u32::try_from(doses - fixed).unwrap_or(0);
            }
        }
        let key = (code.to_string(), date.to_string());
        self.disruptions
            .retain(|x| x.site_day() != (key.0.as_str(), key.1.as_str()));
        self.disruptions.push(d);
        Ok(())
    }

    /// The booked teams where they are now, as a plan of this instance.
    pub fn booked_plan(&self) -> vaxloop_planner::Plan {
        vaxloop_planner::Plan {
            format: vaxloop_planner::plan::PLAN_FORMAT.into(),
            instance: self.instance.name.clone(),
            assignments: (self.teams.iter())
                .filter_map(|t| t.booked.as_ref().map(|b| b.now.clone()))
                .collect(),
            unassigned: vec![],
        }
    }
}

/// The grid's slots as a list of `[cell, slots]` pairs (JSON maps take only string keys).
mod slot_map {
    use std::collections::HashMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    type Cell = (usize, usize, usize);
    type Map = HashMap<Cell, Vec<(i64, i64)>>;

    pub fn serialize<S: Serializer>(map: &Map, s: S) -> Result<S::Ok, S::Error> {
        let mut pairs: Vec<(&Cell, &Vec<(i64, i64)>)> = map.iter().collect();
        pairs.sort();
        pairs.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Map, D::Error> {
        let pairs = Vec::<(Cell, Vec<(i64, i64)>)>::deserialize(d)?;
        Ok(pairs.into_iter().collect())
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LiveTeam {
    pub unit_id: i64,
    pub people: Vec<i64>,
    /// When the team is booked already: which, and where it is now.
    #[serde(default)]
    pub booked: Option<BookedRef>,
}

/// A booked team in a plan: its id and code, where it is now (as an assignment of the
/// instance), and the places it holds, `(slot id, people)`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BookedRef {
    pub team_id: i64,
    pub code: String,
    pub now: vaxloop_planner::plan::Assignment,
    pub holds: Vec<(i64, i64)>,
}

/// Kilometres east and north of `origin` (equirectangular: a town is small).
fn km(origin: (f64, f64), lat: f64, lon: f64) -> (f64, f64) {
    let x = (lon - origin.1) * 111.32 * origin.0.to_radians().cos();
    let y = (lat - origin.0) * 110.57;
    ((x * 100.0).round() / 100.0, (y * 100.0).round() / 100.0)
}

/// The instance for the [`DAYS`] days after `today`.
pub async fn live_instance(db: &Db, today: NaiveDate) -> StoreResult<Live> {
    let dates: Vec<String> = (1..=DAYS)
        .filter_map(|d| today.checked_add_days(Days::new(d)))
        .map(|d| d.format("%Y-%m-%d").to_string())
        .collect();
    // Born on or before this day, ELDERLY_AGE or older today (a 29 February birthday counts
    // from 28 February).
    let elderly = today
        .checked_sub_months(Months::new(12 * ELDERLY_AGE))
        .unwrap_or(today)
        .format("%Y-%m-%d")
        .to_string();
    let sites = planning::sites(db, &dates).await?;
    let waiting = planning::waiting(db, &elderly).await?;
    let (bus_count, bus_seats) = planning::shuttle(db).await?;
    let prefs = planning::prefs(db).await?;
    // 1 = Monday … 7 = Sunday, per planning day.
    let weekdays: Vec<char> = dates
        .iter()
        .map(|d| {
            NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .ok()
                .and_then(|d| char::from_digit(d.weekday().number_from_monday(), 10))
                .unwrap_or('0')
        })
        .collect();

    // The grid: from the earliest slot start to the latest end of any site.
    let (first, slots_per_day) = {
        let all_slots = sites
            .iter()
            .flat_map(|s| s.days.values().flat_map(|(_, v)| v.iter()));
        let first = all_slots
            .clone()
            .map(|s| s.starts_min)
            .min()
            .unwrap_or(8 * 60);
        let last = all_slots
            .map(|s| s.ends_min)
            .max()
            .unwrap_or(first + GRID_MINUTES);
        let first = first - first % GRID_MINUTES;
        (
            first,
            ((last - first + GRID_MINUTES - 1) / GRID_MINUTES).max(1) as usize,
        )
    };

    // Coordinates around the sites' centre.
    let located: Vec<(f64, f64)> = sites.iter().filter_map(|s| s.lat.zip(s.lon)).collect();
    let origin = if located.is_empty() {
        (0.0, 0.0)
    } else {
        let n = located.len() as f64;
        (
            located.iter().map(|p| p.0).sum::<f64>() / n,
            located.iter().map(|p| p.1).sum::<f64>() / n,
        )
    };
    let here = |lat: Option<f64>, lon: Option<f64>| match lat.zip(lon) {
        Some((lat, lon)) => km(origin, lat, lon),
        None => (0.0, 0.0),
    };

    // The teams booked already on these days at these sites: the places and doses they hold
    // count as theirs to keep or to give up when the plan moves them.
    let site_index: HashMap<i64, usize> = (sites.iter().enumerate())
        .map(|(i, s)| (s.site_id, i))
        .collect();
    let booked: Vec<planning::BookedTeam> = planning::booked_teams(db, &dates, &elderly)
        .await?
        .into_iter()
        .filter(|b| site_index.contains_key(&b.site_id) && dates.contains(&b.day))
        .collect();
    let day_of = |date: &str| dates.iter().position(|d| d == date).unwrap_or(0);
    let mut held: HashMap<i64, i64> = HashMap::new();
    let mut held_doses = vec![vec![0i64; dates.len()]; sites.len()];
    for b in &booked {
        for p in &b.people {
            *held.entry(p.2).or_default() += 1;
        }
        held_doses[site_index[&b.site_id]][day_of(&b.day)] += b.people.len() as i64;
    }

    let clamp = |n: i64| n.clamp(0, i64::from(u32::MAX)) as u32;
    let mut slots = HashMap::new();
    let mut cell_of: HashMap<i64, usize> = HashMap::new();
    let mut fixed = vec![vec![0i64; dates.len()]; sites.len()];
    let mut allocated = vec![vec![0i64; dates.len()]; sites.len()];
    let mut inst_sites = Vec::with_capacity(sites.len());
    for (s, site) in sites.iter().enumerate() {
        let mut capacity = vec![vec![0u32; slots_per_day]; dates.len()];
        let mut doses = vec![0u32; dates.len()];
        for (d, date) in dates.iter().enumerate() {
            allocated[s][d] = site.allocated.get(date).copied().unwrap_or(0);
            let Some((free_doses, day_slots)) = site.days.get(date) else {
                continue;
            };
            doses[d] = clamp(free_doses + held_doses[s][d]);
            fixed[s][d] = (allocated[s][d] - free_doses - held_doses[s][d]).max(0);
            for slot in day_slots {
                let k = ((slot.starts_min - first) / GRID_MINUTES) as usize;
                let own = held.get(&slot.slot_id).copied().unwrap_or(0);
                cell_of.insert(slot.slot_id, k);
                if k < slots_per_day && slot.free + own > 0 {
                    capacity[d][k] += clamp(slot.free + own);
                    slots
                        .entry((s, d, k))
                        .or_insert_with(Vec::new)
                        .push((slot.slot_id, slot.free));
                }
            }
        }
        let (x, y) = here(site.lat, site.lon);
        inst_sites.push(Site {
            id: site.code.clone(),
            x_km: x,
            y_km: y,
            slot_capacity: capacity,
            doses,
        });
    }

    // Teams: a unit's waiting people in order, at most a bus load (or TEAM_MAX) and at most the
    // largest slot each.
    let largest_slot = inst_sites
        .iter()
        .flat_map(|s| s.slot_capacity.iter().flatten())
        .copied()
        .max()
        .unwrap_or(0) as i64;
    let team_max = if bus_count > 0 { bus_seats } else { TEAM_MAX }
        .min(largest_slot.max(1))
        .max(1) as usize;
    // A team of a unit at (x, y): `(id, unit code, unit id, people with their green flag,
    // most parts)`.
    let team_of = |id: String,
                   unit: &str,
                   unit_id: i64,
                   (x, y): (f64, f64),
                   people: &[bool],
                   parts: usize| {
        let serving: Vec<usize> = (0..sites.len())
            .filter(|&s| sites[s].serves.is_empty() || sites[s].serves.contains(&unit_id))
            .collect();
        let nearest_km = serving
            .iter()
            .map(|&s| (inst_sites[s].x_km - x).hypot(inst_sites[s].y_km - y))
            .fold(f64::INFINITY, f64::min);
        let size = people.len() as u32;
        Team {
            id,
            unit: unit.to_string(),
            size,
            x_km: x,
            y_km: y,
            days: vec![],
            window: Window::Any,
            hard_window: false,
            priority_people: people.iter().filter(|&&g| g).count() as u32,
            bus: bus_count > 0 && nearest_km > WALKING_KM,
            max_parts: (if size > 10 { 2 } else { 1 }).max(parts as u32),
            sites: if serving.len() < sites.len() {
                serving.iter().map(|&s| inst_sites[s].id.clone()).collect()
            } else {
                vec![]
            },
        }
    };
    let mut teams = Vec::new();
    let mut live_teams = Vec::new();
    let mut deferred = Vec::new();
    for unit in &waiting {
        let at = here(unit.lat, unit.lon);
        // The unit's days (hard) and part of the day, as its contact or the desk set them.
        let pref = prefs.get(&unit.unit_id);
        let days: Vec<usize> = match pref {
            Some(p) if !p.weekdays.is_empty() => (0..weekdays.len())
                .filter(|&d| p.weekdays.contains(weekdays[d]))
                .collect(),
            _ => vec![],
        };
        if pref.is_some_and(|p| !p.weekdays.is_empty()) && days.is_empty() {
            deferred.push((unit.code.clone(), unit.people.len()));
            continue;
        }
        let window = match pref.map(|p| p.window.as_str()) {
            Some("am") => Window::Am,
            Some("pm") => Window::Pm,
            _ => Window::Any,
        };
        let hard_window = pref.is_some_and(|p| p.hard_window) && window != Window::Any;
        for (i, chunk) in unit.people.chunks(team_max).enumerate() {
            let green: Vec<bool> = chunk.iter().map(|p| p.1).collect();
            let id = format!("{}-{}", unit.code, i + 1);
            let mut team = team_of(id, &unit.code, unit.unit_id, at, &green, 1);
            team.days = days.clone();
            team.window = window;
            team.hard_window = hard_window;
            teams.push(team);
            live_teams.push(LiveTeam {
                unit_id: unit.unit_id,
                people: chunk.iter().map(|p| p.0).collect(),
                booked: None,
            });
        }
    }
    for b in &booked {
        let (s, d) = (site_index[&b.site_id], day_of(&b.day));
        // Its people per grid slot, in slot order; a slot off the grid shows as one past it
        // (the plan then cannot keep the team there and moves it).
        let mut parts: Vec<Part> = Vec::new();
        let mut holds: Vec<(i64, i64)> = Vec::new();
        for p in &b.people {
            let k = cell_of.get(&p.2).copied().unwrap_or(slots_per_day);
            match parts.last_mut() {
                Some(x) if x.slot == k => x.people += 1,
                _ => parts.push(Part { slot: k, people: 1 }),
            }
            match holds.last_mut() {
                Some(h) if h.0 == p.2 => h.1 += 1,
                _ => holds.push((p.2, 1)),
            }
        }
        let green: Vec<bool> = b.people.iter().map(|p| p.1).collect();
        let team = team_of(
            b.code.clone(),
            &b.unit_code,
            b.unit_id,
            here(b.lat, b.lon),
            &green,
            parts.len(),
        );
        // Its stored trips, each to the part whose slot it arrives for.
        let travel = i64::from(travel_minutes(&team, &inst_sites[s], BUS_KMH));
        let stored: Vec<BusTrip> = (b.trips.as_deref())
            .and_then(|j| serde_json::from_str(j).ok())
            .unwrap_or_default();
        let trips = if team.bus {
            stored
                .iter()
                .map(|t| Trip {
                    bus: t.bus.saturating_sub(1),
                    part: parts
                        .iter()
                        .position(|p| {
                            first + p.slot as i64 * GRID_MINUTES - travel == t.departs_min
                        })
                        .unwrap_or(0),
                    people: t.people,
                })
                .collect()
        } else {
            vec![]
        };
        let now = Assignment {
            team: b.code.clone(),
            site: inst_sites[s].id.clone(),
            day: d,
            parts,
            trips,
        };
        teams.push(team);
        live_teams.push(LiveTeam {
            unit_id: b.unit_id,
            people: b.people.iter().map(|p| p.0).collect(),
            booked: Some(BookedRef {
                team_id: b.team_id,
                code: b.code.clone(),
                now,
                holds,
            }),
        });
    }

    let instance = Instance {
        format: INSTANCE_FORMAT.into(),
        name: format!("live-{}", dates.first().map_or("", String::as_str)),
        horizon: Horizon {
            dates,
            day_start: format!("{:02}:{:02}", first / 60, first % 60),
            slot_minutes: GRID_MINUTES as u32,
            slots_per_day,
        },
        sites: inst_sites,
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
        teams: live_teams,
        site_ids: sites.iter().map(|s| s.site_id).collect(),
        slots,
        fixed,
        allocated,
        disruptions: Vec::new(),
        deferred,
    })
}

mod papers;
mod publish;

pub use papers::{TeamPapers, print_team, team_papers};
pub use publish::{
    BusTrip, Mark, NotPublished, Published, PublishedTeam, Unpublished, bus_trips, publish,
};
