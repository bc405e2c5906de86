//! The demo town's days so far, so that it looks like a campaign at work whenever it is opened
//! (issue 18, item 16): **yesterday** ran and was reconciled — teams of units booked into most
//! of each site's places, checked in, screened (a few deferred), vaccinated, observed and
//! released, the absent marked no-shows when the day was closed; **today** runs up to the
//! current local time — whoever's slot has passed arrived (or not), and each stands where the
//! clock puts them: waiting for screening, for the vaccinator, in observation, or gone home;
//! later slots are booked and waiting for their people.
//!
//! Everything is written through the data layer's own steps (the booking, the check-in, the
//! screening, the dose with its ledger row and vial, the release, the day's close), each with
//! the time it would have happened, so every page, ledger and reconciliation reads it as it
//! reads a real day. The steps are drawn from a seeded generator: the same town, seed and clock
//! give the same days.

use std::collections::{HashMap, VecDeque};

use chrono::{Days, Months, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use vaxloop_store::booking::{self, Booking};
use vaxloop_store::doses::{self, Vaccination};
use vaxloop_store::screening::{self, Screening};
use vaxloop_store::visits::{CheckedIn, PersonAppointment};
use vaxloop_store::{Db, StoreError, WriteTx, org, planning, reconcile, sites, slots, vaccines};

/// The share of each slot's places the demo's teams take.
const FILL: f64 = 0.6;
/// The most people in one team.
const TEAM_MAX: usize = 30;
/// One in this many booked people does not come.
const NO_SHOW_ONE_IN: u32 = 25;
/// One in this many screened is deferred.
const DEFERRED_ONE_IN: u32 = 33;
/// The main vaccine, which the demo's days give.
const VACCINE: &str = "BIBP";

/// What a day of the story holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DayTally {
    pub booked: u64,
    pub checked_in: u64,
    pub deferred: u64,
    pub vaccinated: u64,
    /// In observation at the story's clock.
    pub observing: u64,
    pub released: u64,
    /// Site-days closed (and reconciled).
    pub closed: u64,
}

/// The story's two days.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Story {
    pub yesterday: DayTally,
    pub today: DayTally,
}

/// Sites played at once (on PostgreSQL each on a connection of its own; SQLite takes their
/// writes in turn).
const SITES_AT_ONCE: usize = 4;

/// Plays yesterday and today up to `now` (local time on `today`) in the town stored on `db`.
/// Each site plays on its own, with its own share of the units' waiting people, a few sites at
/// a time.
pub async fn play(
    db: &Db,
    tz: chrono_tz::Tz,
    today: NaiveDate,
    now: NaiveDateTime,
    seed: u64,
) -> Result<Story, StoreError> {
    let all = sites::all(db).await?;
    // Each site's share of the waiting people follows its places today: the large site (where
    // the demo's station logins work) is the busiest, as in the seed.
    let mut places = Vec::with_capacity(all.len());
    for site in &all {
        let slots = slots::of_site_day(db, site.id, &today.to_string()).await?;
        places.push(slots.iter().map(|s| s.capacity.max(0) as u64).sum::<u64>() + 1);
    }
    let casts = Cast::read(db, today, seed).await?.split(&places);
    let mut story = Story::default();
    let mut sites = all.into_iter().zip(casts);
    let mut playing = tokio::task::JoinSet::new();
    loop {
        while playing.len() < SITES_AT_ONCE {
            let Some((site, cast)) = sites.next() else {
                break;
            };
            let db = db.clone();
            playing.spawn(async move { play_site(&db, tz, (today, now), site, cast).await });
        }
        let Some(played) = playing.join_next().await else {
            break;
        };
        let (yesterday, today) =
            played.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))?;
        story.yesterday.add(&yesterday);
        story.today.add(&today);
    }
    Ok(story)
}

/// One site's yesterday, closed, and its today up to the clock: `(yesterday, today)`.
async fn play_site(
    db: &Db,
    tz: chrono_tz::Tz,
    (today, now): (NaiveDate, NaiveDateTime),
    site: sites::Site,
    mut cast: Cast,
) -> Result<(DayTally, DayTally), StoreError> {
    let yesterday = today.checked_sub_days(Days::new(1)).unwrap_or(today);
    let evening = yesterday.and_time(NaiveTime::from_hms_opt(23, 0, 0).unwrap_or_default());
    let (mut before, mut now_tally) = (DayTally::default(), DayTally::default());
    cast.open_yesterday(db, tz, site.id, yesterday).await?;
    let day = Day {
        tz,
        site_id: site.id,
        site_name: site.name.clone(),
        date: yesterday,
        until: evening,
    };
    cast.run(db, &day, &mut before).await?;
    let closing = yesterday.and_time(NaiveTime::from_hms_opt(18, 30, 0).unwrap_or_default());
    let mut tx = db.begin_write().await?;
    let closed = reconcile::close_day_in(
        &mut tx,
        site.id,
        &yesterday.to_string(),
        &today.to_string(),
        None,
        ms(tz, closing),
    )
    .await?;
    tx.commit().await?;
    before.closed += u64::from(closed.is_some());
    let day = Day {
        date: today,
        until: now,
        ..day
    };
    cast.run(db, &day, &mut now_tally).await?;
    Ok((before, now_tally))
}

impl DayTally {
    fn add(&mut self, o: &DayTally) {
        self.booked += o.booked;
        self.checked_in += o.checked_in;
        self.deferred += o.deferred;
        self.vaccinated += o.vaccinated;
        self.observing += o.observing;
        self.released += o.released;
        self.closed += o.closed;
    }
}

/// Milliseconds since the epoch of a local time.
fn ms(tz: chrono_tz::Tz, at: NaiveDateTime) -> i64 {
    tz.from_local_datetime(&at)
        .earliest()
        .map_or(0, |t| t.timestamp_millis())
}

/// A site's day as the story plays it: up to `until`.
struct Day {
    tz: chrono_tz::Tz,
    site_id: i64,
    site_name: String,
    date: NaiveDate,
    until: NaiveDateTime,
}

impl Day {
    fn at(&self, minute: i64) -> NaiveDateTime {
        self.date.and_time(NaiveTime::MIN) + chrono::Duration::minutes(minute)
    }

    fn ms(&self, minute: i64) -> i64 {
        ms(self.tz, self.at(minute))
    }
}

/// Who the story books (units' waiting people, in turn) and with what.
struct Cast {
    rng: ChaCha8Rng,
    /// Units in turn, each with the people it has still waiting.
    units: VecDeque<(i64, VecDeque<i64>)>,
    vaccine: i64,
    /// The vaccine's screening questions.
    questions: Vec<i64>,
    /// Per site: the lot it gives the vaccine from.
    lots: HashMap<i64, i64>,
    /// The most people one site-day books: half the site's share of the waiting people each of
    /// the two days, so a small town's today is not left empty by its yesterday.
    per_site_day: usize,
    seed: u64,
}

impl Cast {
    async fn read(db: &Db, today: NaiveDate, seed: u64) -> Result<Self, StoreError> {
        let vaccine = (vaccines::all(db).await?.into_iter())
            .find(|v| v.code == VACCINE)
            .ok_or(StoreError::NotFound("the demo's vaccine"))?;
        let questions = (screening::questions(db, vaccine.id).await?.iter())
            .map(|q| q.id)
            .collect();
        let today_s = today.to_string();
        let lots = (vaccines::deliveries(db, &today_s, &today_s, None)
            .await?
            .into_iter())
        .filter(|d| d.vaccine_name == vaccine.name)
        .map(|d| (d.site_id, d.lot_id))
        .collect();
        let elderly = today
            .checked_sub_months(Months::new(12 * 60))
            .unwrap_or(today)
            .to_string();
        let mut units = VecDeque::new();
        let mut waiting_total = 0;
        for unit in org::units(db, None).await? {
            let waiting = planning::waiting_people(db, unit.id, &elderly, 400).await?;
            if !waiting.is_empty() {
                waiting_total += waiting.len();
                units.push_back((unit.id, waiting.into()));
            }
        }
        Ok(Self {
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0x5707),
            units,
            vaccine: vaccine.id,
            questions,
            lots,
            per_site_day: waiting_total / 2,
            seed,
        })
    }

    /// The cast shared out among the sites in proportion to `weights` (their places): each unit
    /// goes to the site furthest below its share; each site plays with a generator of its own.
    fn split(self, weights: &[u64]) -> Vec<Cast> {
        let total_weight: u64 = weights.iter().sum::<u64>().max(1);
        let people: usize = self.units.iter().map(|u| u.1.len()).sum();
        let target: Vec<f64> = (weights.iter())
            .map(|&w| people as f64 * w as f64 / total_weight as f64)
            .collect();
        let mut out: Vec<Cast> = (0..weights.len().max(1))
            .map(|i| Cast {
                rng: ChaCha8Rng::seed_from_u64(self.seed ^ (i as u64 + 1)),
                units: VecDeque::new(),
                vaccine: self.vaccine,
                questions: self.questions.clone(),
                lots: self.lots.clone(),
                per_site_day: (target.get(i).copied().unwrap_or(0.0) / 2.0) as usize,
                seed: self.seed,
            })
            .collect();
        let mut given = vec![0usize; out.len()];
        for unit in self.units {
            let i = (0..out.len())
                .max_by(|&a, &b| {
                    let gap = |k: usize| target.get(k).copied().unwrap_or(0.0) - given[k] as f64;
                    gap(a).total_cmp(&gap(b)).then(b.cmp(&a))
                })
                .unwrap_or(0);
            given[i] += unit.1.len();
            out[i].units.push_back(unit);
        }
        out
    }

    /// Yesterday's slots at the site and its delivery (as today's, received that morning).
    async fn open_yesterday(
        &self,
        db: &Db,
        tz: chrono_tz::Tz,
        site_id: i64,
        yesterday: NaiveDate,
    ) -> Result<(), StoreError> {
        use vaxloop_app::slots::{OBSERVATION_MINUTES, SLOT_MINUTES, open_days};
        open_days(db, site_id, &[yesterday], SLOT_MINUTES, OBSERVATION_MINUTES).await?;
        let Some(&lot) = self.lots.get(&site_id) else {
            return Ok(());
        };
        let places: i64 = (slots::of_site_day(db, site_id, &yesterday.to_string()).await?)
            .iter()
            .map(|s| s.capacity)
            .sum();
        if places == 0 {
            return Ok(());
        }
        let day = yesterday.to_string();
        let morning = yesterday.and_time(NaiveTime::from_hms_opt(7, 30, 0).unwrap_or_default());
        let mut tx = db.begin_write().await?;
        let id = vaccines::plan_delivery(&mut tx, lot, site_id, &day, places).await?;
        vaccines::allocate(&mut tx, site_id, &day, places).await?;
        vaccines::receive_delivery(&mut tx, id, None, ms(tz, morning)).await?;
        tx.commit().await
    }

    /// The next team: up to `n` people of the unit whose turn it is.
    fn team(&mut self, n: usize) -> Option<(i64, Vec<i64>)> {
        let (unit, mut people) = self.units.pop_front()?;
        let take = n.min(TEAM_MAX).min(people.len());
        let team: Vec<i64> = people.drain(..take).collect();
        if !people.is_empty() {
            self.units.push_back((unit, people));
        }
        Some((unit, team))
    }

    /// Books the site's day slot by slot, then plays each person's visit up to the day's clock.
    async fn run(&mut self, db: &Db, day: &Day, tally: &mut DayTally) -> Result<(), StoreError> {
        let Some(&lot) = self.lots.get(&day.site_id) else {
            return Ok(());
        };
        let date = day.date.to_string();
        let view = slots::day_view(db, day.site_id, &date).await?;
        let mut doses = (view.doses_allocated - view.doses_booked).max(0) as usize;
        // The day's share spread over its slots, so every hour has its people.
        let per_slot = self.per_site_day.div_ceil(view.slots.len().max(1));
        for slot in view.slots {
            let want = ((slot.capacity as f64 * FILL) as i64 - slot.booked).max(0) as usize;
            let want = want.min(doses).min(per_slot);
            // Booked three days before, as the desk publishes its plans.
            let booked_at = day.ms(9 * 60) - 3 * 24 * 3600 * 1000;
            let mut tx = db.begin_write().await?;
            let mut booked: Vec<(i64, i64)> = Vec::new();
            while booked.len() < want {
                let Some((unit, people)) = self.team(want - booked.len()) else {
                    break;
                };
                let size = people.len() as i64;
                let team =
                    vaxloop_store::teams::insert(&mut tx, unit, day.site_id, &date, size).await?;
                let b = Booking {
                    slot_id: slot.id,
                    people: &people,
                    vaccine_id: self.vaccine,
                    dose_number: 1,
                    team_id: Some(team.id),
                    walk_in: false,
                };
                // Places and doses were counted first, so a refusal is a bug: this slot's bookings
                // are rolled back and the story stops with the error (what it played stays).
                let ids = booking::book_in(&mut tx, &b, booked_at)
                    .await?
                    .map_err(|_| StoreError::NotFound("a place the demo's story counted"))?;
                booked.extend(ids.into_iter().zip(people));
            }
            doses -= booked.len();
            tx.commit().await?;
            tally.booked += booked.len() as u64;
            let mut tx = db.begin_write().await?;
            for (appointment, _) in booked {
                let a = PersonAppointment {
                    appointment_id: appointment,
                    dose_number: 1,
                    site_id: day.site_id,
                    site_name: day.site_name.clone(),
                    day: date.clone(),
                    starts_min: slot.starts_min,
                    ends_min: slot.ends_min,
                    team: None,
                };
                self.visit(&mut tx, day, &a, lot, tally).await?;
            }
            tx.commit().await?;
        }
        Ok(())
    }

    /// One person's visit, as far as the day's clock goes: arrival (or not), screening,
    /// the dose, observation, home.
    async fn visit(
        &mut self,
        tx: &mut WriteTx,
        day: &Day,
        a: &PersonAppointment,
        lot: i64,
        tally: &mut DayTally,
    ) -> Result<(), StoreError> {
        if self.rng.random_range(0..NO_SHOW_ONE_IN) == 0 {
            return Ok(());
        }
        let arrived = a.starts_min + self.rng.random_range(-10..20);
        let screened = arrived + self.rng.random_range(3..12);
        let given = screened + self.rng.random_range(3..15);
        let left = given + 30 + self.rng.random_range(0..6);
        let deferred = self.rng.random_range(0..DEFERRED_ONE_IN) == 0;
        if day.at(arrived) > day.until {
            return Ok(());
        }
        let CheckedIn::Now(visit) =
            vaxloop_store::visits::check_in_in(tx, a, false, None, day.ms(arrived)).await?
        else {
            return Ok(());
        };
        tally.checked_in += 1;
        if day.at(screened) > day.until {
            return Ok(());
        }
        // Every question answered no; a deferral is the doctor's, for a fever measured at the desk.
        let answers = (self.questions.iter())
            .map(|q| format!("{{\"question\":{q},\"yes\":false}}"))
            .collect::<Vec<_>>()
            .join(",");
        let until = (day.date + Days::new(14)).to_string();
        let s = Screening {
            visit_id: visit.id,
            answers: &format!("[{answers}]"),
            outcome: if deferred { "defer" } else { "pass" },
            reason: deferred.then_some("发热（37.9℃），两周后再约"),
            defer_until: deferred.then_some(until.as_str()),
            by: None,
        };
        screening::record_in(tx, &s, day.ms(screened)).await?;
        if deferred {
            tally.deferred += 1;
            return Ok(());
        }
        if day.at(given) > day.until {
            return Ok(());
        }
        let v = Vaccination {
            visit_id: visit.id,
            lot_id: lot,
            proof: "code",
            minutes: None,
            by: None,
            now: day.ms(given),
            today: &a.day,
        };
        if doses::vaccinate_in(tx, &v).await?.is_err() {
            return Ok(());
        }
        tally.vaccinated += 1;
        if day.at(left) > day.until {
            tally.observing += 1;
            return Ok(());
        }
        doses::release_in(tx, visit.id, None, None, day.ms(left)).await?;
        tally.released += 1;
        Ok(())
    }
}
