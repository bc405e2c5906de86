//! The planner's instance built from live data, for the appointment desk: people registered
//! and not yet booked, grouped per unit into teams of at most a bus load (or a slot's worth);
//! the free places of every slot and the free doses of every site-day over the next three days;
//! the units each site serves; the shuttle pool. [`Live`] keeps the way back from the
//! instance's ids to the database's (teams → people, grid slots → slots) for publishing.

use std::collections::HashMap;

use chrono::{Datelike, Days, Months, NaiveDate};
use vaxloop_planner::Instance;
use vaxloop_planner::instance::{Buses, Horizon, INSTANCE_FORMAT, Site, Team, Weights, Window};
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
    /// `(site, day, grid slot)` → the slots starting in that grid cell, with their free places.
    #[serde(with = "slot_map")]
    pub slots: HashMap<(usize, usize, usize), Vec<(i64, i64)>>,
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

    // The grid: from the earliest slot start to the latest end of any site.
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
    let slots_per_day = ((last - first + GRID_MINUTES - 1) / GRID_MINUTES).max(1) as usize;

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

    let mut slots = HashMap::new();
    let mut inst_sites = Vec::with_capacity(sites.len());
    for (s, site) in sites.iter().enumerate() {
        let mut capacity = vec![vec![0u32; slots_per_day]; dates.len()];
        let mut doses = vec![0u32; dates.len()];
        for (d, date) in dates.iter().enumerate() {
            let Some((free_doses, day_slots)) = site.days.get(date) else {
                continue;
            };
            doses[d] = (*free_doses).clamp(0, i64::from(u32::MAX)) as u32;
            for slot in day_slots {
                let k = ((slot.starts_min - first) / GRID_MINUTES) as usize;
                if k < slots_per_day && slot.free > 0 {
                    capacity[d][k] += slot.free.clamp(0, i64::from(u32::MAX)) as u32;
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
    let mut teams = Vec::new();
    let mut live_teams = Vec::new();
    for unit in &waiting {
        let (x, y) = here(unit.lat, unit.lon);
        let serving: Vec<usize> = (0..sites.len())
            .filter(|&s| sites[s].serves.is_empty() || sites[s].serves.contains(&unit.unit_id))
            .collect();
        let nearest_km = serving
            .iter()
            .map(|&s| (inst_sites[s].x_km - x).hypot(inst_sites[s].y_km - y))
            .fold(f64::INFINITY, f64::min);
        let restricted = serving.len() < sites.len();
        for (i, chunk) in unit.people.chunks(team_max).enumerate() {
            let size = chunk.len() as u32;
            teams.push(Team {
                id: format!("{}-{}", unit.code, i + 1),
                unit: unit.code.clone(),
                size,
                x_km: x,
                y_km: y,
                days: vec![],
                window: Window::Any,
                hard_window: false,
                priority_people: chunk.iter().filter(|p| p.1).count() as u32,
                bus: bus_count > 0 && nearest_km > WALKING_KM,
                max_parts: if size > 10 { 2 } else { 1 },
                sites: if restricted {
                    serving.iter().map(|&s| inst_sites[s].id.clone()).collect()
                } else {
                    vec![]
                },
            });
            live_teams.push(LiveTeam {
                unit_id: unit.unit_id,
                people: chunk.iter().map(|p| p.0).collect(),
            });
        }
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
    })
}

/// A plan's team that could not be published, and why; nothing of the plan was.
#[derive(Debug)]
pub struct NotPublished {
    pub team: String,
    pub refusal: crate::booking::BookRefusal,
}

/// The desk's proposal a plan comes from, marked published in the same transaction: `(proposal
/// id, the version read, the user publishing)`.
pub type Mark = (i64, i64, i64);

/// Why a plan was not published.
#[derive(Debug)]
pub enum Unpublished {
    /// A team no longer fits; nothing of the plan was booked.
    Team(NotPublished),
    /// The proposal changed, or was published, since it was read.
    Stale,
}

/// A shuttle trip of a published team, as stored on it (migration 0007).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BusTrip {
    /// Numbered from 1, as the drivers know them.
    pub bus: u32,
    /// Minute of the day the bus leaves the unit.
    pub departs_min: i64,
    pub people: u32,
}

/// The trips of assignment `a` (of team `t` at site `s`): each leaves the unit the travel time
/// before its part's slot starts.
pub fn bus_trips(
    instance: &Instance,
    t: usize,
    s: usize,
    a: &vaxloop_planner::plan::Assignment,
) -> Vec<BusTrip> {
    let day_start = i64::from(
        vaxloop_planner::instance::clock_minutes(&instance.horizon.day_start).unwrap_or(0),
    );
    let travel = i64::from(instance.travel(t, s));
    a.trips
        .iter()
        .filter_map(|trip| {
            let part = a.parts.get(trip.part)?;
            Some(BusTrip {
                bus: trip.bus + 1,
                departs_min: day_start + i64::from(instance.slot_start(part.slot)) - travel,
                people: trip.people,
            })
        })
        .collect()
}

/// A team as published: the plan's team id and its booking (team number, colour, slots).
pub type PublishedTeam = (String, crate::booking::TeamBooked);

/// Publishes `plan` (made on `live`'s instance): every team is booked into the slots its parts
/// name, as a numbered, coloured team of its site-day, through the same checks and conditional
/// updates as any booking — and all of it in one transaction: when a slot filled or doses went
/// since the plan was made, nothing is booked and the team that no longer fits is named (the desk
/// re-plans from the current plan and publishes again).
pub async fn publish(
    db: &Db,
    tz: chrono_tz::Tz,
    live: &Live,
    plan: &vaxloop_planner::Plan,
    mark: Option<Mark>,
) -> Result<Result<Vec<PublishedTeam>, Unpublished>, vaxloop_store::StoreError> {
    use crate::booking::{BookRefusal, TeamOf, team_in, team_vaccine};
    use vaxloop_store::booking::Refusal;

    let team_at: HashMap<&str, usize> = live
        .instance
        .teams
        .iter()
        .enumerate()
        .map(|(i, t)| (t.id.as_str(), i))
        .collect();
    let site_at: HashMap<&str, usize> = live
        .instance
        .sites
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    let refused = |team: &str, refusal: BookRefusal| {
        Ok(Err(Unpublished::Team(NotPublished {
            team: team.to_string(),
            refusal,
        })))
    };
    let gone = || BookRefusal::Store(Refusal::NoSlot);
    // Everything read first: each team's slots and vaccine.
    let mut booked = Vec::new();
    for a in &plan.assignments {
        let (Some(&t), Some(&s)) = (team_at.get(a.team.as_str()), site_at.get(a.site.as_str()))
        else {
            return refused(&a.team, gone());
        };
        let people = &live.teams[t].people;
        let mut parts: Vec<(vaxloop_store::slots::Slot, &[i64])> = Vec::new();
        let mut rest: &[i64] = people;
        for part in &a.parts {
            let mut left = part.people as usize;
            for &(slot_id, free) in live.slots.get(&(s, a.day, part.slot)).into_iter().flatten() {
                if left == 0 {
                    break;
                }
                let take = left.min(usize::try_from(free).unwrap_or(0)).min(rest.len());
                if take == 0 {
                    continue;
                }
                let Some(slot) = vaxloop_store::slots::by_id(db, slot_id).await? else {
                    return refused(&a.team, gone());
                };
                let (now, later) = rest.split_at(take);
                parts.push((slot, now));
                rest = later;
                left -= take;
            }
            if left > 0 {
                return refused(&a.team, gone());
            }
        }
        if !rest.is_empty() || parts.is_empty() {
            return refused(&a.team, gone());
        }
        let vaccine = match team_vaccine(db, tz, parts[0].0.id, people, 1).await? {
            Ok(v) => v,
            Err(refusal) => return refused(&a.team, refusal),
        };
        let trips = bus_trips(&live.instance, t, s, a);
        booked.push((
            a.team.as_str(),
            live.teams[t].unit_id,
            parts,
            vaccine,
            trips,
        ));
    }
    // The units' names and contact phones and the sites' names, for the SMS.
    let mut units: HashMap<i64, (String, Option<String>)> = HashMap::new();
    let mut site_names: HashMap<i64, String> = HashMap::new();
    for (_, unit_id, parts, ..) in &booked {
        if !units.contains_key(unit_id)
            && let Some(u) = vaxloop_store::org::unit(db, *unit_id).await?
        {
            units.insert(
                *unit_id,
                (u.name, u.contact_phone.filter(|p| !p.is_empty())),
            );
        }
        let site = parts[0].0.site_id;
        if !site_names.contains_key(&site)
            && let Some(s) = vaxloop_store::sites::by_id(db, site).await?
        {
            site_names.insert(site, s.name);
        }
    }
    // Then one transaction for the whole plan, with each unit's SMS (the booking leaves the
    // notice in the unit's inbox).
    let now = vaxloop_store::now_ms();
    let mut tx = db.begin_write().await?;
    if let Some((id, version, user)) = mark
        && !vaxloop_store::plan_drafts::publish_in(&mut tx, id, version, user, now).await?
    {
        tx.rollback().await?;
        return Ok(Err(Unpublished::Stale));
    }
    let mut out = Vec::with_capacity(booked.len());
    for (team, unit_id, parts, vaccine, trips) in &booked {
        match team_in(&mut tx, TeamOf::New(*unit_id), parts, 1, *vaccine).await? {
            Ok(done) => {
                if !trips.is_empty() {
                    let json = serde_json::to_string(trips).unwrap_or_default();
                    vaxloop_store::teams::set_trips_in(&mut tx, done.team.id, Some(&json)).await?;
                }
                let first = &parts[0].0;
                let site = site_names.get(&first.site_id).map_or("", String::as_str);
                if let Some(sms) = units
                    .get(unit_id)
                    .and_then(|u| sms_of(u, &done, first, site, trips.first()))
                {
                    vaxloop_store::notifications::enqueue_in(
                        &mut tx,
                        crate::outbox::SMS,
                        &sms,
                        now,
                    )
                    .await?;
                }
                out.push((team.to_string(), done))
            }
            Err(refusal) => {
                tx.rollback().await?;
                return refused(team, refusal);
            }
        }
    }
    tx.commit().await?;
    Ok(Ok(out))
}

/// A team's printed papers: its registration form and its sheet of colour labels.
#[derive(Debug, Clone)]
pub struct TeamPapers {
    pub form: vaxloop_documents::team_forms::TeamForm,
    pub site: String,
    /// "2026-12-02 09:00".
    pub when: String,
}

fn hhmm(minutes: i64) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// What a team's papers say, from its booking: the unit, the label, the site, the day and the
/// hours its slots span, and its members with masked ID numbers. `footer` is printed at the foot.
pub async fn team_papers(
    db: &Db,
    team: &vaxloop_store::teams::TeamRow,
    footer: String,
) -> StoreResult<TeamPapers> {
    use vaxloop_documents::team_forms::{PrintedLabel, TeamForm};
    let members = vaxloop_store::teams::roster(db, team.id).await?;
    let site = vaxloop_store::sites::by_id(db, team.site_id).await?;
    let (site_name, address) = site
        .map(|s| (s.name, s.address))
        .unwrap_or_else(|| (team.site_code.clone(), String::new()));
    let from = members.iter().map(|m| m.2).min().unwrap_or(0);
    let to = members.iter().map(|m| m.3).max().unwrap_or(from);
    let weekday = NaiveDate::parse_from_str(&team.day, "%Y-%m-%d")
        .map(|d| {
            [
                "星期一",
                "星期二",
                "星期三",
                "星期四",
                "星期五",
                "星期六",
                "星期日",
            ][d.weekday().num_days_from_monday() as usize]
        })
        .unwrap_or("");
    let label = vaxloop_core::Label {
        colour: u8::try_from(team.colour).unwrap_or(0),
        number: u32::try_from(team.number).unwrap_or(0),
    };
    let form = TeamForm {
        unit: team.unit_name.clone(),
        label: PrintedLabel {
            zh: label.zh(),
            en: label.en(),
            rgb: label.rgb(),
            dark_text: label.dark_text(),
        },
        site: site_name.clone(),
        site_address: address,
        date: format!("{} {weekday}", team.day),
        time: format!("{}–{}", hhmm(from), hhmm(to)),
        pickup: pickup(team, db).await?,
        members: members.into_iter().map(|m| (m.0, m.1)).collect(),
        footer,
    };
    Ok(TeamPapers {
        form,
        site: site_name,
        when: format!("{} {}", team.day, hhmm(from)),
    })
}

/// Where and when the shuttle picks a team up, as printed: "村委会 07:40（3号车 30人）、…".
async fn pickup(team: &vaxloop_store::teams::TeamRow, db: &Db) -> StoreResult<Option<String>> {
    let Some(trips) = team
        .trips
        .as_deref()
        .and_then(|j| serde_json::from_str::<Vec<BusTrip>>(j).ok())
        .filter(|t| !t.is_empty())
    else {
        return Ok(None);
    };
    let place = vaxloop_store::org::unit(db, team.unit_id)
        .await?
        .map(|u| {
            if u.address.is_empty() {
                u.name
            } else {
                u.address
            }
        })
        .unwrap_or_default();
    let trips: Vec<String> = trips
        .iter()
        .map(|t| format!("{}（{}号车 {}人）", hhmm(t.departs_min), t.bus, t.people))
        .collect();
    Ok(Some(format!("{place} {}", trips.join("、"))))
}

/// The SMS to a unit's contact about a booked team, when the unit has a contact phone:
/// `{"to", "text", "team"}`, in Chinese (the gateway sends it as it is).
fn sms_of(
    (unit_name, phone): &(String, Option<String>),
    booked: &crate::booking::TeamBooked,
    first: &vaxloop_store::slots::Slot,
    site: &str,
    bus: Option<&BusTrip>,
) -> Option<String> {
    let phone = phone.as_ref()?;
    let label = vaxloop_core::Label {
        colour: u8::try_from(booked.team.colour).unwrap_or(0),
        number: u32::try_from(booked.team.number).unwrap_or(0),
    };
    let shuttle = bus
        .map(|b| format!("{}号班车 {} 在单位门口接，", b.bus, hhmm(b.departs_min)))
        .unwrap_or_default();
    let text = format!(
        "【疫苗接种】{unit_name}：{}批次 {} 人，{} {} 到{site}接种，{shuttle}请打印预约登记表和彩色标签。",
        label.zh(),
        booked.appointments.len(),
        first.day,
        hhmm(first.starts_min),
    );
    Some(serde_json::json!({ "to": phone, "text": text, "team": booked.team.code }).to_string())
}
