//! Publishing a plan: every team booked, numbered and coloured, its unit told — at once.

use std::collections::HashMap;

use vaxloop_planner::Instance;
use vaxloop_planner::plan::Assignment;
use vaxloop_store::booking::Refusal;
use vaxloop_store::{Db, StoreResult, WriteTx};

use crate::booking::engine::{BookRefusal, TeamOf, team_in, team_vaccine};

use super::Live;
use vaxloop_core::hhmm;

/// A plan's team that could not be published, and why; nothing of the plan was.
#[derive(Debug)]
pub struct NotPublished {
    pub team: String,
    pub refusal: crate::booking::BookRefusal,
}

/// The desk's proposal a plan comes from, marked published in the same transaction, with the
/// audit row of who published it.
#[derive(Debug, Clone, Copy)]
pub struct Mark<'a> {
    pub proposal: i64,
    /// The version the publisher saw.
    pub version: i64,
    pub by: &'a crate::Caller,
}

/// Why a plan was not published.
#[derive(Debug)]
pub enum Unpublished {
    /// A team no longer fits; nothing of the plan was booked.
    Team(NotPublished),
    /// The proposal changed, or was published, since it was read.
    Stale,
    /// A booked team (its code), or a disrupted site-day, changed since the plan was made.
    Changed(String),
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
    let travel = i64::from(instance.travel(t, s));
    a.trips
        .iter()
        .filter_map(|trip| {
            let part = a.parts.get(trip.part)?;
            Some(BusTrip {
                bus: trip.bus + 1,
                departs_min: instance.slot_clock(part.slot) - travel,
                people: trip.people,
            })
        })
        .collect()
}

/// A team as published: the plan's team id and its booking (team number, colour, slots).
pub type PublishedTeam = (String, crate::booking::TeamBooked);

/// What publishing did.
#[derive(Debug, Default)]
pub struct Published {
    /// Teams booked: the new ones and the booked ones that moved.
    pub booked: Vec<PublishedTeam>,
    /// Booked teams moved by the plan (their codes before).
    pub moved: Vec<String>,
    /// Booked teams the plan left out: cancelled, their people waiting to be booked again.
    pub cancelled: Vec<String>,
    /// People the plan counted in its teams who were no longer waiting when it was published
    /// (booked meanwhile): their places stay free.
    pub gone: usize,
}

/// A team's appointments as read before publishing: `(appointment, person, slot, dose)`.
type Members = Vec<(i64, i64, i64, i64)>;

/// One team to book: the plan's team, its unit, its people per slot, the vaccine, its trips,
/// and the booked team it is when it moves on its own site-day.
struct ToBook<'a> {
    id: &'a str,
    unit_id: i64,
    parts: Vec<(vaxloop_store::slots::Slot, &'a [i64])>,
    vaccine: i64,
    trips: Vec<BusTrip>,
    keep: Option<vaxloop_store::teams::Team>,
    moved_from: Option<String>,
}

/// Publishes `plan` (made on `live`'s instance), all in one transaction or not at all:
/// - every new team is booked into the slots its parts name, as a numbered, coloured team of
///   its site-day, through the same checks and conditional updates as any booking;
/// - every booked team the plan moved gives up its places and takes the new ones (the same team
///   on its own site-day, a new one elsewhere); every booked team it left out is cancelled, its
///   people waiting to be booked again;
/// - the disruptions recorded on `live` are applied once their teams are out (a site-day closed,
///   a site-day's doses cut);
/// - each unit hears of it in its inbox, and its contact by SMS through the outbox.
///
/// When a slot filled, doses went, or a team changed since the plan was made, nothing is done
/// and the team that no longer fits is named (the desk refreshes the plan and publishes again).
pub async fn publish(
    db: &Db,
    cipher: &vaxloop_store::PiiCipher,
    tz: chrono_tz::Tz,
    live: &Live,
    plan: &vaxloop_planner::Plan,
    mark: Option<Mark<'_>>,
) -> Result<Result<Published, Unpublished>, vaxloop_store::StoreError> {
    let started = std::time::Instant::now();
    let placed: HashMap<&str, &Assignment> = (plan.assignments.iter())
        .map(|a| (a.team.as_str(), a))
        .collect();
    // Everything read first: the teams that give up their places, each team's slots and vaccine,
    // the units' and sites' names for the messages.
    let (released, mut free) = match released(db, live, &placed).await? {
        Ok(r) => r,
        Err(unpublished) => return Ok(Err(unpublished)),
    };
    let released_ms = started.elapsed().as_millis();
    let bound = Bound::read(db, live, plan).await?;
    let bound_ms = started.elapsed().as_millis();
    let reads = match to_book(db, tz, live, plan, &bound, &released, &mut free).await? {
        Ok(r) => r,
        Err(unpublished) => return Ok(Err(unpublished)),
    };
    let names = Names::read(db, cipher, &reads.to_book, &released).await?;
    let read_ms = started.elapsed().as_millis();

    // Then one transaction for the whole plan.
    let now = vaxloop_store::now_ms();
    let mut tx = db.begin_write().await?;
    let mut out = Published {
        gone: bound.gone,
        ..Published::default()
    };
    let user = mark.and_then(|m| m.by.user_id());
    let marked = match mark {
        Some(m) => {
            vaxloop_store::plan_drafts::publish_in(&mut tx, m.proposal, m.version, user, now)
                .await?
        }
        None => true,
    };
    let done = if !marked {
        Err(Unpublished::Stale)
    } else {
        // First every place given up, so that teams may move into each other's.
        let w = Writing {
            live,
            placed: &placed,
            names: &names,
            cipher,
            now,
        };
        match w.give_up(&mut tx, &released, &mut out).await? {
            Ok(()) => match w.book(&mut tx, &reads, &mut out).await? {
                Ok(()) => apply_disruptions(&mut tx, live).await?,
                refused => refused,
            },
            refused => refused,
        }
    };
    if let Err(unpublished) = done {
        tx.rollback().await?;
        return Ok(Err(unpublished));
    }
    if let Some(m) = mark {
        audit_publish(&mut tx, m, &out).await?;
    }
    tx.commit().await?;
    tracing::info!(
        teams = out.booked.len(),
        released_ms,
        bound_ms,
        read_ms,
        written_ms = started.elapsed().as_millis(),
        "plan published"
    );
    Ok(Ok(out))
}

/// A booked team that gives up its places: its index in the plan, its row, its appointments.
type Released = (usize, vaxloop_store::teams::TeamRow, Members);

fn same(a: &Assignment, b: &Assignment) -> bool {
    a.site == b.site && a.day == b.day && a.parts == b.parts
}

fn refused<T>(team: &str, refusal: BookRefusal) -> Result<T, Unpublished> {
    Err(Unpublished::Team(NotPublished {
        team: team.to_string(),
        refusal,
    }))
}

fn gone() -> BookRefusal {
    BookRefusal::Store(Refusal::NoSlot)
}

/// Units whose waiting people are read at once when a plan is published.
const BINDING_READERS: usize = 4;

/// The people of the plan's waiting teams, named now: each unit's waiting people in the order
/// the teams were cut from them (the green channel first), as many as its placed teams reach.
/// Whoever was booked meanwhile is no longer among them, so a team may come out smaller than
/// planned (or empty); whoever registered since waits for the next plan.
struct Bound {
    /// Instance team → its people.
    people: HashMap<usize, Vec<i64>>,
    /// People counted by the plan and no longer waiting.
    gone: usize,
}

impl Bound {
    async fn read(db: &Db, live: &Live, plan: &vaxloop_planner::Plan) -> StoreResult<Self> {
        let team_at: HashMap<&str, usize> = (live.instance.teams.iter().enumerate())
            .map(|(i, t)| (t.id.as_str(), i))
            .collect();
        // Per unit, its placed waiting teams and how far into its people they reach.
        let mut units: HashMap<i64, (usize, Vec<usize>)> = HashMap::new();
        for a in &plan.assignments {
            let Some(&t) = team_at.get(a.team.as_str()) else {
                continue;
            };
            let lt = &live.teams[t];
            if lt.booked.is_some() || !lt.people.is_empty() {
                continue;
            }
            let end = lt.from + live.instance.teams[t].size as usize;
            let unit = units.entry(lt.unit_id).or_default();
            unit.0 = unit.0.max(end);
            unit.1.push(t);
        }
        let mut bound = Bound {
            people: HashMap::new(),
            gone: 0,
        };
        // A few units at a time: each is a short indexed read, and the readers run side by side.
        let mut units = units.into_iter();
        let mut reading = tokio::task::JoinSet::new();
        loop {
            while reading.len() < BINDING_READERS {
                let Some((unit_id, (reach, teams))) = units.next() else {
                    break;
                };
                let (db, elderly) = (db.clone(), live.elderly.clone());
                reading.spawn(async move {
                    let waiting =
                        vaxloop_store::planning::waiting_people(&db, unit_id, &elderly, reach);
                    (teams, waiting.await)
                });
            }
            let Some(read) = reading.join_next().await else {
                break;
            };
            let (teams, waiting) =
                read.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
            let waiting = waiting?;
            for t in teams {
                let (from, size) = (live.teams[t].from, live.instance.teams[t].size as usize);
                let run = waiting
                    .get(from..(from + size).min(waiting.len()))
                    .unwrap_or(&[]);
                bound.gone += size - run.len();
                bound.people.insert(t, run.to_vec());
            }
        }
        Ok(bound)
    }

    /// Team `t`'s people: bound now, or as the proposal carries them.
    fn of<'a>(&'a self, t: usize, live: &'a Live) -> &'a [i64] {
        self.people.get(&t).unwrap_or(&live.teams[t].people)
    }
}

/// The booked teams that give up their places, moved or left out — their appointments must be as
/// the plan saw them — and the free places of every slot, those places counted back in.
async fn released(
    db: &Db,
    live: &Live,
    placed: &HashMap<&str, &Assignment>,
) -> StoreResult<Result<(Vec<Released>, HashMap<i64, i64>), Unpublished>> {
    let mut free: HashMap<i64, i64> = live.slots.values().flatten().copied().collect();
    let mut out: Vec<Released> = Vec::new();
    for (t, lt) in live.teams.iter().enumerate() {
        let Some(b) = &lt.booked else { continue };
        if placed.get(b.code.as_str()).is_some_and(|a| same(a, &b.now)) {
            continue;
        }
        let members = vaxloop_store::teams::members(db, b.team_id).await?;
        let row = vaxloop_store::teams::by_code(db, &b.code).await?;
        let mut people: Vec<i64> = members.iter().map(|m| m.1).collect();
        let mut planned = lt.people.clone();
        people.sort_unstable();
        planned.sort_unstable();
        let Some(row) = row.filter(|_| people == planned) else {
            return Ok(Err(Unpublished::Changed(b.code.clone())));
        };
        for &(slot, n) in &b.holds {
            *free.entry(slot).or_default() += n;
        }
        out.push((t, row, members));
    }
    Ok(Ok((out, free)))
}

/// What the plan books: the teams to book, and the shuttle trips of the booked teams that stay.
struct Reads<'a> {
    to_book: Vec<ToBook<'a>>,
    keep_trips: Vec<(i64, Option<String>)>,
}

/// Each placed team's slots (its people shared out over the free places of its grid slots) and
/// vaccine.
async fn to_book<'a>(
    db: &Db,
    tz: chrono_tz::Tz,
    live: &'a Live,
    plan: &'a vaxloop_planner::Plan,
    bound: &'a Bound,
    released: &[Released],
    free: &mut HashMap<i64, i64>,
) -> StoreResult<Result<Reads<'a>, Unpublished>> {
    let inst = &live.instance;
    let team_at: HashMap<&str, usize> = (inst.teams.iter().enumerate())
        .map(|(i, t)| (t.id.as_str(), i))
        .collect();
    let site_at: HashMap<&str, usize> = (inst.sites.iter().enumerate())
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    let mut slot_cache: HashMap<i64, vaxloop_store::slots::Slot> = HashMap::new();
    let mut reads = Reads {
        to_book: Vec::new(),
        keep_trips: Vec::new(),
    };
    for a in &plan.assignments {
        let t = team_at.get(a.team.as_str()).copied();
        let s = site_at.get(a.site.as_str()).copied();
        let (Some(t), Some(s)) = (t, s) else {
            return Ok(refused(&a.team, gone()));
        };
        let trips = bus_trips(inst, t, s, a);
        let lt = &live.teams[t];
        if let Some(b) = &lt.booked
            && same(a, &b.now)
        {
            // Staying where it is; its shuttle may be new.
            let json =
                (!trips.is_empty()).then(|| serde_json::to_string(&trips).unwrap_or_default());
            reads.keep_trips.push((b.team_id, json));
            continue;
        }
        let people = bound.of(t, live);
        if people.is_empty() {
            // Everyone of the team was booked meanwhile.
            continue;
        }
        let parts = match slots_of(db, live, a, s, people, free, &mut slot_cache).await? {
            Some(parts) => parts,
            None => return Ok(refused(&a.team, gone())),
        };
        let vaccine = match team_vaccine(db, tz, parts[0].0.id, people, 1).await? {
            Ok(v) => v,
            Err(refusal) => return Ok(refused(&a.team, refusal)),
        };
        let before = released.iter().find(|r| r.0 == t).map(|r| &r.1);
        let keep = before
            .filter(|row| row.site_id == parts[0].0.site_id && row.day == parts[0].0.day)
            .map(|row| vaxloop_store::teams::Team {
                id: row.id,
                code: row.code.clone(),
                number: row.number,
                colour: row.colour,
            });
        reads.to_book.push(ToBook {
            id: a.team.as_str(),
            unit_id: lt.unit_id,
            parts,
            vaccine,
            trips,
            keep,
            moved_from: before.map(|row| row.code.clone()),
        });
    }
    Ok(Ok(reads))
}

/// A team's people shared out over the free places of the slots its parts name, in order (a
/// team smaller than planned fills its first parts); None when they do not fit (a slot filled
/// or went since the plan was made).
async fn slots_of<'p>(
    db: &Db,
    live: &Live,
    a: &Assignment,
    s: usize,
    people: &'p [i64],
    free: &mut HashMap<i64, i64>,
    cache: &mut HashMap<i64, vaxloop_store::slots::Slot>,
) -> StoreResult<Option<Vec<(vaxloop_store::slots::Slot, &'p [i64])>>> {
    let mut parts = Vec::new();
    let mut rest: &[i64] = people;
    for part in &a.parts {
        let mut left = (part.people as usize).min(rest.len());
        if left == 0 {
            break;
        }
        for &(slot_id, _) in live.slots.get(&(s, a.day, part.slot)).into_iter().flatten() {
            let room = free.entry(slot_id).or_default();
            let take = left
                .min(usize::try_from(*room).unwrap_or(0))
                .min(rest.len());
            if take == 0 {
                continue;
            }
            let slot = match cache.get(&slot_id) {
                Some(slot) => slot.clone(),
                None => match vaxloop_store::slots::by_id(db, slot_id).await? {
                    Some(slot) => {
                        cache.insert(slot_id, slot.clone());
                        slot
                    }
                    None => return Ok(None),
                },
            };
            *room -= take as i64;
            let (now, later) = rest.split_at(take);
            parts.push((slot, now));
            rest = later;
            left -= take;
            if left == 0 {
                break;
            }
        }
        if left > 0 {
            return Ok(None);
        }
    }
    Ok((rest.is_empty() && !parts.is_empty()).then_some(parts))
}

/// The units' names and contact phones and the sites' names, for the SMS.
struct Names {
    units: HashMap<i64, (String, Option<String>)>,
    sites: HashMap<i64, String>,
}

impl Names {
    async fn read(
        db: &Db,
        cipher: &vaxloop_store::PiiCipher,
        to_book: &[ToBook<'_>],
        released: &[Released],
    ) -> StoreResult<Self> {
        let mut names = Names {
            units: HashMap::new(),
            sites: HashMap::new(),
        };
        let unit_ids =
            (to_book.iter().map(|b| b.unit_id)).chain(released.iter().map(|r| r.1.unit_id));
        for unit_id in unit_ids {
            if !names.units.contains_key(&unit_id)
                && let Some(u) = vaxloop_store::org::unit(db, unit_id).await?
            {
                // The contact's phone, opened for the SMS (sealed at rest, migration 0013).
                let phone = (u.contact_phone_sealed.as_deref())
                    .map(|sealed| cipher.open(sealed))
                    .transpose()?
                    .filter(|p| !p.is_empty());
                names.units.insert(unit_id, (u.name, phone));
            }
        }
        let site_ids = (to_book.iter().map(|b| b.parts[0].0.site_id))
            .chain(released.iter().map(|r| r.1.site_id));
        for site in site_ids {
            if !names.sites.contains_key(&site)
                && let Some(s) = vaxloop_store::sites::by_id(db, site).await?
            {
                names.sites.insert(site, s.name);
            }
        }
        Ok(names)
    }

    fn site(&self, id: i64) -> &str {
        self.sites.get(&id).map_or("", String::as_str)
    }
}

/// The write steps of publishing, on its one transaction.
struct Writing<'a> {
    live: &'a Live,
    placed: &'a HashMap<&'a str, &'a Assignment>,
    names: &'a Names,
    cipher: &'a vaxloop_store::PiiCipher,
    now: i64,
}

impl Writing<'_> {
    /// Every place the released teams held comes back; a team the plan left out is cancelled,
    /// its unit told.
    async fn give_up(
        &self,
        tx: &mut WriteTx,
        released: &[Released],
        out: &mut Published,
    ) -> StoreResult<Result<(), Unpublished>> {
        let now = self.now;
        for (t, row, members) in released {
            for (appointment, ..) in members {
                if !vaxloop_store::booking::cancel_in(tx, *appointment, now).await? {
                    return Ok(Err(Unpublished::Changed(row.code.clone())));
                }
            }
            vaxloop_store::teams::set_trips_in(tx, row.id, None).await?;
            if self
                .placed
                .contains_key(self.live.instance.teams[*t].id.as_str())
            {
                continue;
            }
            vaxloop_store::notifications::notify_in(tx, row.unit_id, "team_cancelled", row.id, now)
                .await?;
            let site = self.names.site(row.site_id);
            let unit = self.names.units.get(&row.unit_id);
            if let Some(sms) = unit.and_then(|u| cancelled_sms(u, row, site)) {
                let (topic, cipher) = (crate::outbox::SMS, self.cipher);
                vaxloop_store::notifications::enqueue_in(tx, cipher, topic, &sms, now).await?;
            }
            out.cancelled.push(row.code.clone());
        }
        Ok(Ok(()))
    }

    /// Every team booked as a numbered, coloured team of its site-day (a moved team keeps its
    /// own on its own site-day), its trips kept, its unit told.
    async fn book(
        &self,
        tx: &mut WriteTx,
        reads: &Reads<'_>,
        out: &mut Published,
    ) -> StoreResult<Result<(), Unpublished>> {
        let now = self.now;
        for b in &reads.to_book {
            let moved = b.moved_from.is_some();
            let which = match &b.keep {
                Some(team) => TeamOf::Existing(team.clone()),
                None => TeamOf::New(b.unit_id),
            };
            let done = match team_in(tx, which, &b.parts, 1, b.vaccine).await? {
                Ok(done) => done,
                Err(refusal) => return Ok(refused(b.id, refusal)),
            };
            if !b.trips.is_empty() {
                let json = serde_json::to_string(&b.trips).unwrap_or_default();
                vaxloop_store::teams::set_trips_in(tx, done.team.id, Some(&json)).await?;
            }
            if b.keep.is_some() {
                let team = done.team.id;
                vaxloop_store::notifications::notify_in(tx, b.unit_id, "team_moved", team, now)
                    .await?;
            } else if moved {
                vaxloop_store::notifications::booked_as_moved_in(tx, done.team.id).await?;
            }
            let first = &b.parts[0].0;
            let site = self.names.site(first.site_id);
            let unit = self.names.units.get(&b.unit_id);
            if let Some(sms) =
                unit.and_then(|u| sms_of(u, &done, first, site, b.trips.first(), moved))
            {
                let (topic, cipher) = (crate::outbox::SMS, self.cipher);
                vaxloop_store::notifications::enqueue_in(tx, cipher, topic, &sms, now).await?;
            }
            if let Some(from) = &b.moved_from {
                out.moved.push(from.clone());
            }
            out.booked.push((b.id.to_string(), done));
        }
        for (team_id, json) in &reads.keep_trips {
            vaxloop_store::teams::set_trips_in(tx, *team_id, json.as_deref()).await?;
        }
        Ok(Ok(()))
    }
}

/// The disruptions recorded on the plan, now that no team holds places there.
async fn apply_disruptions(tx: &mut WriteTx, live: &Live) -> StoreResult<Result<(), Unpublished>> {
    for d in &live.disruptions {
        let (code, date) = d.site_day();
        let Some((s, _)) = live.site_day(code, date) else {
            continue;
        };
        let site_id = live.site_ids[s];
        let applied = match d {
            super::Disruption::Closed { .. } => {
                vaxloop_store::slots::close_site_day_in(tx, site_id, date, "closed").await?
            }
            super::Disruption::Doses { doses, .. } => {
                vaxloop_store::vaccines::set_allocation_in(tx, site_id, date, *doses).await?
            }
        };
        if !applied {
            return Ok(Err(Unpublished::Changed(format!("{code} {date}"))));
        }
    }
    Ok(Ok(()))
}

/// Who published what, in the publishing transaction.
async fn audit_publish(tx: &mut WriteTx, m: Mark<'_>, out: &Published) -> StoreResult<()> {
    let people: usize = (out.booked.iter()).map(|b| b.1.appointments.len()).sum();
    let detail = format!(
        "proposal={} booked={} moved={} cancelled={} people={people}",
        m.proposal,
        out.booked.len(),
        out.moved.len(),
        out.cancelled.len()
    );
    let act = crate::audit::Act::new("plan_publish", "plan").detail(&detail);
    crate::audit::record_in(tx, m.by, act).await
}

/// The SMS to a unit's contact about a team booked or moved, when the unit has a contact phone:
/// `{"to", "text", "team"}`, in Chinese (the gateway sends it as it is).
fn sms_of(
    (unit_name, phone): &(String, Option<String>),
    booked: &crate::booking::TeamBooked,
    first: &vaxloop_store::slots::Slot,
    site: &str,
    bus: Option<&BusTrip>,
    moved: bool,
) -> Option<String> {
    let phone = phone.as_ref()?;
    let label = vaxloop_core::Label::from_stored(booked.team.colour, booked.team.number);
    let shuttle = bus
        .map(|b| format!("{}号班车 {} 在单位门口接，", b.bus, hhmm(b.departs_min)))
        .unwrap_or_default();
    let (what, print) = if moved {
        ("已改到", "请重新打印预约登记表和彩色标签")
    } else {
        ("", "请打印预约登记表和彩色标签")
    };
    let text = format!(
        "【疫苗接种】{unit_name}：{}批次 {} 人，{what}{} {} 到{site}接种，{shuttle}{print}。",
        label.zh(),
        booked.appointments.len(),
        first.day,
        hhmm(first.starts_min),
    );
    Some(serde_json::json!({ "to": phone, "text": text, "team": booked.team.code }).to_string())
}

/// The SMS to a unit's contact about a team cancelled by a re-plan.
fn cancelled_sms(
    (unit_name, phone): &(String, Option<String>),
    team: &vaxloop_store::teams::TeamRow,
    site: &str,
) -> Option<String> {
    let phone = phone.as_ref()?;
    let label = vaxloop_core::Label::from_stored(team.colour, team.number);
    let text = format!(
        "【疫苗接种】{unit_name}：原定 {} 到{site}接种的{}批次取消，人员将另行安排预约。",
        team.day,
        label.zh(),
    );
    Some(serde_json::json!({ "to": phone, "text": text, "team": team.code }).to_string())
}
