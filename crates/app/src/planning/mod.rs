//! The planner's instance built from live data, for the appointment desk: people registered
//! and not yet booked, grouped per unit into teams of at most a bus load (or a slot's worth);
//! the teams booked already on the planning days, where they are (their places and doses count
//! as theirs, so a plan keeps them or moves them); the free places of every slot and the free
//! doses of every site-day over the next three days; the units each site serves; the shuttle
//! pool. [`Live`] keeps the way back from the instance's ids to the database's (teams → people
//! and booked teams, grid slots → slots) for publishing, and the [`Disruption`]s the desk
//! recorded (a site-day closed, a delivery short), applied to the instance.

use std::collections::HashMap;

use vaxloop_planner::Instance;

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
    /// Born on or before this day (YYYY-MM-DD): in the green channel, as the teams were made.
    #[serde(default)]
    pub elderly: String,
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

/// An instance team's way back to the database. A waiting team is a run of its unit's waiting
/// people (see `vaxloop_store::planning::waiting_people`), named only when the plan is published
/// — a proposal does not carry every waiting person's id; a booked team is its people.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LiveTeam {
    pub unit_id: i64,
    /// A booked team's people (a proposal made before the waiting teams were bound at
    /// publishing may carry a waiting team's too).
    #[serde(default)]
    pub people: Vec<i64>,
    /// A waiting team: where its run starts in its unit's waiting people.
    #[serde(default)]
    pub from: usize,
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

mod live;
mod papers;
mod publish;

pub use live::live_instance;
pub use papers::{TeamPapers, print_team, team_papers};
pub use publish::{
    BusTrip, Mark, NotPublished, Published, PublishedTeam, Unpublished, bus_trips, publish,
};
