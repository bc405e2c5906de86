//! The roster instance (`docs/formats/roster-format.md`, "Instance"): the days, the shift
//! catalogue, the posts with the skill and training each needs, the sites with their demand per
//! day × shift × post, the agencies with their members' fair share, and the people with their
//! skills, trainings, availability and limits. [`Instance::parse`] reads one and checks its
//! shape — what every solver and the checker rely on; the rules a plan must keep are
//! [`crate::check`]'s.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::{RosterError, bad};

pub const INSTANCE_FORMAT: &str = "vaxloop-roster-instance/1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Instance {
    pub format: String,
    pub name: String,
    /// Consecutive calendar days, `YYYY-MM-DD`; day *d* is `dates[d]`.
    pub dates: Vec<String>,
    pub shifts: Vec<Shift>,
    pub posts: Vec<Post>,
    pub sites: Vec<Site>,
    pub agencies: Vec<Agency>,
    pub people: Vec<Person>,
    pub weights: Weights,
}

/// A shift of the catalogue: minutes after midnight, `start < end` (none crosses midnight).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shift {
    pub id: String,
    pub start: u32,
    pub end: u32,
}

impl Shift {
    /// Whether two shifts overlap (touching ends do not; a shift overlaps itself).
    pub fn overlaps(&self, other: &Shift) -> bool {
        self.start < other.end && other.start < self.end
    }
}

/// A post: filled by someone with `skill` and, unless none, `training`; `weight` is the value
/// of one filled position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Post {
    pub id: String,
    pub skill: String,
    pub training: Option<String>,
    pub weight: i64,
}

/// A site: the shifts it runs, and `demand[d][i][k]` people wanted on day *d* in shift
/// `shifts[i]` on post `posts[k]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Site {
    pub id: String,
    pub shifts: Vec<String>,
    pub demand: Vec<Vec<Vec<u32>>>,
}

/// An agency lending people; `fair_shifts` is each member's fair share over the horizon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agency {
    pub id: String,
    pub kind: String,
    pub fair_shifts: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub id: String,
    pub agency: String,
    pub skills: Vec<String>,
    #[serde(default)]
    pub trainings: Vec<String>,
    /// Per day: the shift ids the person can work.
    pub available: Vec<Vec<String>>,
    pub max_shifts_per_day: u32,
    pub max_shifts: u32,
    pub max_consecutive_days: u32,
    pub min_rest_minutes: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home_site: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home_post: Option<String>,
    /// The only sites the person may work at; none: any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sites: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Weights {
    pub home_site: i64,
    pub home_post: i64,
    pub extra_site_post: i64,
    pub over_fair_shift: i64,
}

impl Default for Weights {
    fn default() -> Self {
        Self {
            home_site: 10,
            home_post: 10,
            extra_site_post: 30,
            over_fair_shift: 5,
        }
    }
}

impl Instance {
    /// Reads an instance file and checks its shape.
    pub fn parse(json: &str) -> Result<Self, RosterError> {
        let instance: Instance = serde_json::from_str(json).map_err(|e| RosterError::Json {
            what: "instance",
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        instance.validate()?;
        Ok(instance)
    }

    /// The shape every solver and the checker rely on: the format, consecutive days, shifts
    /// inside a day, ids unique and known, demand and availability one per day, limits that
    /// mean something.
    pub fn validate(&self) -> Result<(), RosterError> {
        if self.format != INSTANCE_FORMAT {
            return bad(
                "format",
                format!("expected \"{INSTANCE_FORMAT}\", found \"{}\"", self.format),
            );
        }
        self.validate_days_and_shifts()?;
        self.validate_posts_and_sites()?;
        self.validate_people()
    }

    fn validate_days_and_shifts(&self) -> Result<(), RosterError> {
        let mut previous: Option<chrono::NaiveDate> = None;
        for (d, date) in self.dates.iter().enumerate() {
            let Ok(day) = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d") else {
                return bad(
                    format!("dates[{d}]"),
                    format!("\"{date}\" is not a YYYY-MM-DD day"),
                );
            };
            if previous.is_some_and(|p| p.succ_opt() != Some(day)) {
                return bad(format!("dates[{d}]"), "the days are not consecutive");
            }
            previous = Some(day);
        }
        unique("shifts", self.shifts.iter().map(|s| &s.id))?;
        for (i, s) in self.shifts.iter().enumerate() {
            if s.start >= s.end || s.end > 24 * 60 {
                return bad(
                    format!("shifts[{i}]"),
                    "a shift starts before it ends, inside one day (minutes 0–1440)",
                );
            }
        }
        Ok(())
    }

    fn validate_posts_and_sites(&self) -> Result<(), RosterError> {
        unique("posts", self.posts.iter().map(|p| &p.id))?;
        for (k, p) in self.posts.iter().enumerate() {
            if p.weight <= 0 {
                return bad(format!("posts[{k}].weight"), "a post's weight is above 0");
            }
        }
        unique("sites", self.sites.iter().map(|s| &s.id))?;
        let shifts: HashSet<&str> = self.shifts.iter().map(|s| s.id.as_str()).collect();
        for (s, site) in self.sites.iter().enumerate() {
            for (i, id) in site.shifts.iter().enumerate() {
                if !shifts.contains(id.as_str()) {
                    return bad(
                        format!("sites[{s}].shifts[{i}]"),
                        format!("no shift \"{id}\""),
                    );
                }
            }
            if site.demand.len() != self.dates.len() {
                return bad(format!("sites[{s}].demand"), "one entry per day");
            }
            for (d, day) in site.demand.iter().enumerate() {
                if day.len() != site.shifts.len()
                    || day
                        .iter()
                        .any(|per_post| per_post.len() != self.posts.len())
                {
                    return bad(
                        format!("sites[{s}].demand[{d}]"),
                        "one entry per site shift, each one number per post",
                    );
                }
            }
        }
        unique("agencies", self.agencies.iter().map(|a| &a.id))
    }

    fn validate_people(&self) -> Result<(), RosterError> {
        unique("people", self.people.iter().map(|p| &p.id))?;
        let agencies: HashSet<&str> = self.agencies.iter().map(|a| a.id.as_str()).collect();
        let shifts: HashSet<&str> = self.shifts.iter().map(|s| s.id.as_str()).collect();
        let sites: HashSet<&str> = self.sites.iter().map(|s| s.id.as_str()).collect();
        let posts: HashSet<&str> = self.posts.iter().map(|p| p.id.as_str()).collect();
        for (n, p) in self.people.iter().enumerate() {
            let at = |field: &str| format!("people[{n}].{field}");
            if !agencies.contains(p.agency.as_str()) {
                return bad(at("agency"), format!("no agency \"{}\"", p.agency));
            }
            if p.available.len() != self.dates.len() {
                return bad(at("available"), "one entry per day");
            }
            if let Some(id) = p
                .available
                .iter()
                .flatten()
                .find(|s| !shifts.contains(s.as_str()))
            {
                return bad(at("available"), format!("no shift \"{id}\""));
            }
            if !(1..=2).contains(&p.max_shifts_per_day) {
                return bad(at("max_shifts_per_day"), "1 or 2");
            }
            let known_site = |s: &String| sites.contains(s.as_str());
            if p.home_site.as_ref().is_some_and(|s| !known_site(s))
                || p.sites.iter().flatten().any(|s| !known_site(s))
            {
                return bad(at("sites"), "a site that does not exist");
            }
            if p.home_post
                .as_ref()
                .is_some_and(|k| !posts.contains(k.as_str()))
            {
                return bad(at("home_post"), "a post that does not exist");
            }
        }
        Ok(())
    }

    /// Whether `person` is qualified for `post`: the skill, and the training when one is asked.
    pub fn qualified(person: &Person, post: &Post) -> bool {
        person.skills.contains(&post.skill)
            && post
                .training
                .as_ref()
                .is_none_or(|t| person.trainings.contains(t))
    }

    /// Lookups by id: shifts, posts, sites, agencies, people → their index.
    pub fn index(&self) -> Index<'_> {
        fn of<'a, T>(items: &'a [T], id: impl Fn(&'a T) -> &'a str) -> HashMap<&'a str, usize> {
            items.iter().enumerate().map(|(i, x)| (id(x), i)).collect()
        }
        Index {
            shifts: of(&self.shifts, |s| s.id.as_str()),
            posts: of(&self.posts, |p| p.id.as_str()),
            sites: of(&self.sites, |s| s.id.as_str()),
            agencies: of(&self.agencies, |a| a.id.as_str()),
            people: of(&self.people, |p| p.id.as_str()),
        }
    }
}

/// An instance's ids → indices.
#[derive(Debug, Clone)]
pub struct Index<'a> {
    pub shifts: HashMap<&'a str, usize>,
    pub posts: HashMap<&'a str, usize>,
    pub sites: HashMap<&'a str, usize>,
    pub agencies: HashMap<&'a str, usize>,
    pub people: HashMap<&'a str, usize>,
}

fn unique<'a>(what: &str, ids: impl Iterator<Item = &'a String>) -> Result<(), RosterError> {
    let mut seen = HashSet::new();
    for id in ids {
        if !seen.insert(id) {
            return bad(what, format!("\"{id}\" appears twice"));
        }
    }
    Ok(())
}
