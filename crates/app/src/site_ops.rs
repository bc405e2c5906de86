//! On-site operations: check-in at the site's desk. The person's personal QR code (a signed
//! token, read by the tablet's camera or a handheld scanner typing into the field) or their ID
//! number finds today's appointment at this site; the person is checked in once, however many
//! scans arrive at however many desks, and every scan is answered with that one check-in.

use chrono::{Months, NaiveDate, NaiveDateTime, Timelike};
use vaxloop_core::ResidentId;
use vaxloop_store::people::Person;
use vaxloop_store::visits::{self, CheckedIn, PersonAppointment, Visit};
use vaxloop_store::{Db, PiiCipher, StoreError};

/// What a personal QR code holds before its token.
pub const QR_PREFIX: &str = "VXL1:";

/// Why nobody was checked in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckInRefusal {
    #[error("the code is not a personal QR code of this system")]
    BadCode,
    #[error("the ID number is not a valid one: {0}")]
    BadIdNumber(String),
    #[error("nobody with this ID number is registered")]
    UnknownPerson,
    #[error("the person has no appointment")]
    NoAppointment,
    #[error("the person's appointment is on {day} at {site}")]
    OtherDay { day: String, site: String },
    #[error("the person's appointment today is at {site}")]
    OtherSite { site: String },
    #[error("the appointment was cancelled or moved meanwhile")]
    NotActive,
    #[error("the person cannot be booked as a walk-in: {0}")]
    WalkInRefused(&'static str),
    #[error("the site's day is closed")]
    DayClosed,
    #[error("the person was given dose {dose} today")]
    Vaccinated {
        dose: i64,
        /// When (milliseconds since the epoch), and where.
        at: i64,
        site: String,
        /// When their observation ends, while they are still in it.
        observing_until: Option<i64>,
    },
    #[error("the screening doctor deferred the person's vaccination")]
    Deferred { until: Option<String> },
    #[error("the person's dose {dose} is not due before {from}")]
    NotYetDue { dose: i64, from: String },
    #[error("the person has had every dose of the series")]
    Complete { doses: i64 },
    #[error("the person's unit has not confirmed their registration")]
    Unconfirmed,
    #[error("the person's appointment starts at {starts_min} minutes past midnight")]
    TooEarly { starts_min: i64 },
}

impl CheckInRefusal {
    /// The refusal's code, as the API names it.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadCode => "bad_code",
            Self::BadIdNumber(_) => "bad_id_number",
            Self::UnknownPerson => "unknown_person",
            Self::NoAppointment => "no_appointment",
            Self::OtherDay { .. } => "other_day",
            Self::OtherSite { .. } => "other_site",
            Self::NotActive => "not_active",
            Self::WalkInRefused(_) => "walk_in_refused",
            Self::DayClosed => "day_closed",
            Self::Vaccinated { .. } => "vaccinated_today",
            Self::Deferred { .. } => "deferred",
            Self::NotYetDue { .. } => "not_yet_due",
            Self::Complete { .. } => "complete",
            Self::Unconfirmed => "unconfirmed",
            Self::TooEarly { .. } => "too_early",
        }
    }

    /// Whether the desk may book the person as a walk-in instead: they are registered and simply
    /// not expected here today.
    pub fn may_walk_in(&self) -> bool {
        matches!(
            self,
            Self::NoAppointment | Self::OtherDay { .. } | Self::OtherSite { .. }
        )
    }
}

/// Whether the site's day is still open (its manager has not closed it).
async fn day_open(db: &Db, site_id: i64, date: &str) -> Result<bool, StoreError> {
    Ok(vaxloop_store::reconcile::closed(db, site_id, date)
        .await?
        .is_none())
}

/// A check-in, now or before.
#[derive(Debug, Clone)]
pub struct CheckIn {
    pub visit: Visit,
    /// False when the person had been checked in already (the earlier check-in is shown).
    pub fresh: bool,
    /// The person, with the ID number masked.
    pub person: Person,
    pub appointment: PersonAppointment,
}

/// Age from which a person goes through the green channel.
pub const ELDERLY_AGE: u32 = crate::planning::ELDERLY_AGE;

/// Whether the person goes through the green channel: disabled, or aged 60 or over `today`.
pub fn green_channel(person: &Person, today: NaiveDate) -> bool {
    let born_by = today
        .checked_sub_months(Months::new(12 * ELDERLY_AGE))
        .unwrap_or(today)
        .format("%Y-%m-%d")
        .to_string();
    person.disabled || person.birth_date.as_str() <= born_by.as_str()
}

/// How long before their slot a person may be checked in without the desk saying so, unless the
/// campaign sets its own (see [`crate::App::early_check_in`]): earlier, the desk is told the
/// slot's time and checks them in only when it chooses to.
pub const EARLY_MINUTES: i64 = 60;

/// When a check-in happens: the campaign's time zone, the site's local time, and how many
/// minutes before their slot a person may be checked in (`None`: however early — the desk chose
/// to let them in, or the campaign does not limit it).
#[derive(Debug, Clone, Copy)]
pub struct At {
    pub tz: chrono_tz::Tz,
    pub now: NaiveDateTime,
    pub early_limit: Option<i64>,
}

impl At {
    /// Now, in time zone `tz`.
    pub fn now(tz: chrono_tz::Tz, early_limit: Option<i64>) -> Self {
        Self {
            tz,
            now: chrono::Utc::now().with_timezone(&tz).naive_local(),
            early_limit,
        }
    }

    /// Some time on `day`, however early (for tools and tests that check in a day's people).
    pub fn on(tz: chrono_tz::Tz, day: NaiveDate) -> Self {
        Self {
            tz,
            now: day.and_time(chrono::NaiveTime::MIN),
            early_limit: None,
        }
    }
}

/// Checks in at site `site_id` whoever `code` names: a scanned personal QR code (`VXL1:…`) or a
/// typed ID number. Someone earlier than `at.early_limit` before their slot is refused (the desk
/// may then let them in); someone not expected here today is told why (see [`absent`]).
pub async fn check_in(
    db: &Db,
    cipher: &PiiCipher,
    site_id: i64,
    at: At,
    code: &str,
    actor: Option<i64>,
) -> Result<Result<CheckIn, CheckInRefusal>, StoreError> {
    let now = at.now;
    let today = now.date();
    let person = match resolve(db, cipher, today, code).await? {
        Ok(p) => p,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let date = today.format("%Y-%m-%d").to_string();
    let all = visits::active_of_person(db, person.id).await?;
    let here = all.iter().find(|a| a.site_id == site_id && a.day == date);
    let Some(appointment) = here.cloned() else {
        return Ok(Err(absent(db, at, &person, &all).await?));
    };
    if !day_open(db, site_id, &date).await? {
        return Ok(Err(CheckInRefusal::DayClosed));
    }
    let minute = i64::from(now.hour() * 60 + now.minute());
    let early = at
        .early_limit
        .is_some_and(|limit| minute < appointment.starts_min - limit);
    if early {
        // Checked in already (another desk let them in early)? That one check-in stands.
        if visits::of_appointment(db, appointment.appointment_id)
            .await?
            .is_none()
        {
            return Ok(Err(CheckInRefusal::TooEarly {
                starts_min: appointment.starts_min,
            }));
        }
    }
    let green = green_channel(&person, today);
    let now = vaxloop_store::now_ms();
    let mut tx = db.begin_write().await?;
    let checked = visits::check_in_in(&mut tx, &appointment, green, actor, now).await?;
    tx.commit().await?;
    Ok(match checked {
        CheckedIn::Now(visit) => Ok(CheckIn {
            visit,
            fresh: true,
            person,
            appointment,
        }),
        CheckedIn::Before(visit) => Ok(CheckIn {
            visit,
            fresh: false,
            person,
            appointment,
        }),
        CheckedIn::NotActive => Err(CheckInRefusal::NotActive),
    })
}

/// Why a person with no appointment here today is not expected, truthfully: given a dose today
/// (and where they are now), expected at another site today or on another day, deferred, not
/// yet due for their next dose, done with the series, not yet confirmed — or simply without an
/// appointment (a walk-in may follow).
async fn absent(
    db: &Db,
    at: At,
    person: &Person,
    active: &[PersonAppointment],
) -> Result<CheckInRefusal, StoreError> {
    use crate::whereabouts::{self, Next};
    let (tz, today) = (at.tz, at.now.date());
    let date = today.format("%Y-%m-%d").to_string();
    let w = whereabouts::of_person(db, tz, today, person).await?;
    if let Some(g) = w.given_on(tz, today) {
        let now_ms = vaxloop_store::now_ms();
        return Ok(CheckInRefusal::Vaccinated {
            dose: g.dose_number,
            at: g.given_at,
            site: g.site_name.clone(),
            observing_until: g
                .observation_due
                .filter(|&due| g.released_at.is_none() && due > now_ms - 3_600_000),
        });
    }
    if let Some(a) = active.iter().find(|a| a.day == date) {
        return Ok(CheckInRefusal::OtherSite {
            site: a.site_name.clone(),
        });
    }
    if let Some(a) = active.iter().find(|a| a.day.as_str() > date.as_str()) {
        return Ok(CheckInRefusal::OtherDay {
            day: a.day.clone(),
            site: a.site_name.clone(),
        });
    }
    Ok(match w.next {
        Next::Deferred { until, .. } => CheckInRefusal::Deferred {
            until: until.map(|d| d.to_string()),
        },
        Next::Book { dose, from } if from > today => CheckInRefusal::NotYetDue {
            dose,
            from: from.to_string(),
        },
        Next::Complete { doses } => CheckInRefusal::Complete { doses },
        Next::Unconfirmed => CheckInRefusal::Unconfirmed,
        _ => CheckInRefusal::NoAppointment,
    })
}

/// The person a scanned code or a typed ID number names.
pub async fn resolve(
    db: &Db,
    cipher: &PiiCipher,
    today: NaiveDate,
    code: &str,
) -> Result<Result<Person, CheckInRefusal>, StoreError> {
    let code = code.trim();
    let person = if let Some(token) = code.strip_prefix(QR_PREFIX) {
        match cipher.verify("person", token) {
            Some(id) => vaxloop_store::people::by_id(db, id).await?,
            None => return Ok(Err(CheckInRefusal::BadCode)),
        }
    } else {
        match ResidentId::parse_on(code, today) {
            Ok(id) => vaxloop_store::people::by_resident_id(db, cipher, &id).await?,
            Err(e) => return Ok(Err(CheckInRefusal::BadIdNumber(e.to_string()))),
        }
    };
    Ok(person.ok_or(CheckInRefusal::UnknownPerson))
}

/// A registered person who came without an appointment here today: booked as a walk-in into
/// the slot under way at this site (or the next one with room), through the booking checks and
/// the group-commit writer like every booking (audited there) — their appointment elsewhere or
/// on another day moves here, so they hold one — then checked in. `now` is the site's local
/// time.
pub async fn walk_in(
    app: &crate::App,
    site_id: i64,
    now: chrono::NaiveDateTime,
    code: &str,
    actor: Option<i64>,
) -> Result<Result<CheckIn, CheckInRefusal>, StoreError> {
    let (db, cipher) = (app.db(), app.cipher());
    let today = now.date();
    let at = At {
        tz: app.tz(),
        now,
        early_limit: None,
    };
    let person = match resolve(db, cipher, today, code).await? {
        Ok(p) => p,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let date = today.format("%Y-%m-%d").to_string();
    if !day_open(db, site_id, &date).await? {
        return Ok(Err(CheckInRefusal::DayClosed));
    }
    let here = visits::active_of_person(db, person.id).await?;
    if here.iter().any(|a| a.site_id == site_id && a.day == date) {
        return check_in(db, cipher, site_id, at, code, actor).await;
    }
    if let Err(refusal) = book_walk_in(app, site_id, now, person.id, here.first(), actor).await? {
        return Ok(Err(refusal));
    }
    check_in(db, cipher, site_id, at, code, actor).await
}

/// Books `person` as a walk-in into the slot under way here (or the next with a free place),
/// moving `booked` — their appointment elsewhere — when they hold one.
async fn book_walk_in(
    app: &crate::App,
    site_id: i64,
    now: chrono::NaiveDateTime,
    person: i64,
    booked: Option<&PersonAppointment>,
    actor: Option<i64>,
) -> Result<Result<(), CheckInRefusal>, StoreError> {
    use crate::booking::{Request, engine};
    use crate::commit::{Order, Written};
    use chrono::Timelike;
    use vaxloop_core::JourneyState;
    let date = now.date().format("%Y-%m-%d").to_string();
    let now_min = i64::from(now.hour() * 60 + now.minute());
    let slots = vaxloop_store::slots::of_site_day(app.db(), site_id, &date).await?;
    let Some(slot) = slots
        .iter()
        .find(|s| s.ends_min > now_min && s.booked < s.capacity)
    else {
        return Ok(Err(CheckInRefusal::WalkInRefused("slot_full")));
    };
    let dose = match booked {
        Some(a) => a.dose_number,
        None => {
            let journeys = vaxloop_store::journeys::of_person(app.db(), person).await?;
            let open = journeys.iter().find(|j| {
                matches!(
                    j.1,
                    JourneyState::Registered | JourneyState::Cancelled | JourneyState::NoShow
                )
            });
            match open {
                Some(&(dose, ..)) => dose,
                None => return Ok(Err(CheckInRefusal::NoAppointment)),
            }
        }
    };
    let people = [person];
    let req = Request {
        slot_id: slot.id,
        people: &people,
        dose_number: dose,
        team_id: None,
        walk_in: true,
    };
    let checked = match engine::check_move(app.db(), app.tz(), &req).await? {
        Ok(checked) => checked,
        Err(refusal) => return Ok(Err(CheckInRefusal::WalkInRefused(refusal.code()))),
    };
    let order = Order::of(&req, &checked, actor);
    let written = match booked {
        Some(a) => {
            let old = (a.appointment_id, a.site_id, a.day.clone());
            app.bookings().move_to(order, old).await?
        }
        None => {
            app.bookings()
                .book(order, None, |_, _| String::new())
                .await?
        }
    };
    Ok(match written {
        Written::Booked { .. } => Ok(()),
        Written::Refused(refusal) => Err(CheckInRefusal::WalkInRefused(refusal.code())),
        // Their appointment changed meanwhile: the desk scans again.
        Written::Gone | Written::Replayed { .. } | Written::KeyReused => {
            Err(CheckInRefusal::WalkInRefused("changed"))
        }
    })
}

/// The screener's decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Pass,
    /// Not today: why, and the first day they may come again.
    Defer {
        reason: String,
        until: NaiveDate,
    },
    /// To the doctor, who screens again.
    Refer,
}

/// Why a screening was not recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScreenRefusal {
    #[error("no such visit at this site today")]
    NoVisit,
    #[error("question {0} is not answered")]
    Unanswered(i64),
    #[error("question {question} needs a deferral or the doctor's assessment before a pass")]
    NeedsDoctor {
        /// The first question (by position) answered "yes" that needs it.
        question: i64,
    },
    #[error("a deferral needs its reason")]
    DeferReason,
    #[error("a deferral needs a day after today")]
    DeferUntil,
    #[error("the person has been screened already")]
    AlreadyScreened,
    #[error("the site's day is closed")]
    DayClosed,
}

/// Records the screening of visit `visit_id` at site `site_id` today: every question of the
/// vaccine answered; a pass refused when an answer calls for a deferral or the doctor, unless
/// the doctor (the visit was referred) gives it; a deferral with its reason and a later day.
/// Returns the visit's new stage.
pub async fn screen(
    db: &Db,
    site_id: i64,
    today: NaiveDate,
    visit_id: i64,
    answers: &[(i64, bool)],
    decision: &Decision,
    actor: Option<i64>,
) -> Result<Result<&'static str, ScreenRefusal>, StoreError> {
    use vaxloop_store::screening::{self, Screening};
    let date = today.format("%Y-%m-%d").to_string();
    let Some((visit, vaccine)) = visits::by_id(db, visit_id)
        .await?
        .filter(|(v, _)| v.site_id == site_id && v.day == date)
    else {
        return Ok(Err(ScreenRefusal::NoVisit));
    };
    if !matches!(visit.stage.as_str(), "waiting" | "referred") {
        return Ok(Err(ScreenRefusal::AlreadyScreened));
    }
    if !day_open(db, site_id, &date).await? {
        return Ok(Err(ScreenRefusal::DayClosed));
    }
    let questions = screening::questions(db, vaccine).await?;
    let mut serious = None;
    let mut given = Vec::with_capacity(questions.len());
    for q in &questions {
        let Some(&(_, yes)) = answers.iter().find(|a| a.0 == q.id) else {
            return Ok(Err(ScreenRefusal::Unanswered(q.position)));
        };
        if yes && q.on_yes != "note" {
            serious = serious.or(Some(q.position));
        }
        given.push(serde_json::json!({ "question": q.id, "yes": yes }));
    }
    let (outcome, reason, until) = match decision {
        Decision::Pass if serious.is_some() && visit.stage != "referred" => {
            let question = serious.unwrap_or_default();
            return Ok(Err(ScreenRefusal::NeedsDoctor { question }));
        }
        Decision::Pass => ("pass", None, None),
        Decision::Refer => ("refer", None, None),
        Decision::Defer { reason, until } => {
            if reason.trim().is_empty() {
                return Ok(Err(ScreenRefusal::DeferReason));
            }
            if *until <= today {
                return Ok(Err(ScreenRefusal::DeferUntil));
            }
            (
                "defer",
                Some(reason.trim().to_string()),
                Some(until.format("%Y-%m-%d").to_string()),
            )
        }
    };
    let answers = serde_json::Value::Array(given).to_string();
    let s = Screening {
        visit_id,
        answers: &answers,
        outcome,
        reason: reason.as_deref(),
        defer_until: until.as_deref(),
        by: actor,
    };
    let mut tx = db.begin_write().await?;
    let recorded = screening::record_in(&mut tx, &s, vaxloop_store::now_ms()).await?;
    tx.commit().await?;
    if !recorded {
        return Ok(Err(ScreenRefusal::AlreadyScreened));
    }
    Ok(Ok(match outcome {
        "pass" => "ready",
        "defer" => "deferred",
        _ => "referred",
    }))
}

/// How the person proved they were at the vaccination desk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proof {
    /// The 4-digit presence code they stated (from their phone page or the team's form).
    Code(String),
    /// Neither at hand: the vaccinator checked their identity card.
    IdCard,
}

/// A dose the vaccinator is giving.
#[derive(Debug, Clone)]
pub struct DoseGiven {
    pub visit_id: i64,
    pub lot_id: i64,
    pub proof: Proof,
    /// Observation minutes for this person; the vaccine's own when None.
    pub minutes: Option<i64>,
}

/// Why no dose was recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaccinateRefusal {
    #[error("no such visit at this site today")]
    NoVisit,
    #[error("the presence code does not match")]
    WrongCode,
    #[error("the person has not been screened and passed (stage {0})")]
    NotReady(String),
    #[error("the lot is not of this vaccine or has expired")]
    WrongLot,
    #[error("the lot has no dose left at this site")]
    NoStock,
    #[error("the person has had this dose already")]
    AlreadyGiven,
    #[error("observation minutes must be between 0 and 240")]
    Minutes,
    #[error("the site's day is closed")]
    DayClosed,
}

/// A dose recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Vaccinated {
    pub dose_record_id: i64,
    pub opened_vial: bool,
    /// When observation ends (milliseconds since the epoch).
    pub due_at: i64,
}

/// Gives the dose of visit `d.visit_id` at site `site_id` today: only to a person checked in,
/// screened and passed, who states their presence code (or whose identity card the vaccinator
/// checked), from a lot of the right vaccine in stock here and not expired. The dose record,
/// the ledger row, the vial, the observation and the journey are written in one transaction.
pub async fn vaccinate(
    db: &Db,
    cipher: &PiiCipher,
    site_id: i64,
    today: NaiveDate,
    d: &DoseGiven,
    actor: Option<i64>,
) -> Result<Result<Vaccinated, VaccinateRefusal>, StoreError> {
    use vaxloop_store::doses::{self, DoseRefusal, Vaccination};
    let date = today.format("%Y-%m-%d").to_string();
    let Some((visit, _)) = visits::by_id(db, d.visit_id)
        .await?
        .filter(|(v, _)| v.site_id == site_id && v.day == date)
    else {
        return Ok(Err(VaccinateRefusal::NoVisit));
    };
    if !day_open(db, site_id, &date).await? {
        return Ok(Err(VaccinateRefusal::DayClosed));
    }
    let proof = match &d.proof {
        Proof::Code(code) => {
            if code.trim() != cipher.presence_code(visit.appointment_id) {
                return Ok(Err(VaccinateRefusal::WrongCode));
            }
            "code"
        }
        Proof::IdCard => "id_card",
    };
    if d.minutes.is_some_and(|m| !(0..=240).contains(&m)) {
        return Ok(Err(VaccinateRefusal::Minutes));
    }
    let v = Vaccination {
        visit_id: d.visit_id,
        lot_id: d.lot_id,
        proof,
        minutes: d.minutes,
        by: actor,
        now: vaxloop_store::now_ms(),
        today: &date,
    };
    let mut tx = db.begin_write().await?;
    let given = doses::vaccinate_in(&mut tx, &v).await?;
    if given.is_ok() {
        tx.commit().await?;
    } else {
        tx.rollback().await?;
    }
    Ok(match given {
        Ok(g) => Ok(Vaccinated {
            dose_record_id: g.dose_record_id,
            opened_vial: g.opened_vial,
            due_at: g.due_at,
        }),
        Err(DoseRefusal::NotReady { stage }) => Err(VaccinateRefusal::NotReady(stage)),
        Err(DoseRefusal::WrongLot) => Err(VaccinateRefusal::WrongLot),
        Err(DoseRefusal::NoStock) => Err(VaccinateRefusal::NoStock),
        Err(DoseRefusal::AlreadyGiven) => Err(VaccinateRefusal::AlreadyGiven),
    })
}

/// Why a person was not released from observation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReleaseRefusal {
    #[error("nobody in observation with this visit at this site today")]
    NotObserving,
    #[error("the observation time is not over; an early release needs its reason")]
    TooEarly { due_at: i64 },
}

/// Releases the person of `visit_id` from observation at site `site_id` today: once their time
/// is over, or earlier with the reason (they insisted on leaving, the doctor saw them).
pub async fn release(
    db: &Db,
    site_id: i64,
    today: NaiveDate,
    visit_id: i64,
    early_reason: Option<&str>,
    actor: Option<i64>,
) -> Result<Result<(), ReleaseRefusal>, StoreError> {
    use vaxloop_store::doses;
    let date = today.format("%Y-%m-%d").to_string();
    let here = visits::by_id(db, visit_id)
        .await?
        .filter(|(v, _)| v.site_id == site_id && v.day == date && v.stage == "observing");
    let Some(obs) = (match here {
        Some(_) => doses::observation(db, visit_id).await?,
        None => None,
    }) else {
        return Ok(Err(ReleaseRefusal::NotObserving));
    };
    let now = vaxloop_store::now_ms();
    let reason = early_reason.map(str::trim).filter(|r| !r.is_empty());
    let early = now < obs.2;
    if early && reason.is_none() {
        return Ok(Err(ReleaseRefusal::TooEarly { due_at: obs.2 }));
    }
    let reason = if early { reason } else { None };
    let mut tx = db.begin_write().await?;
    let released = doses::release_in(&mut tx, visit_id, reason, actor, now).await?;
    tx.commit().await?;
    Ok(if released {
        Ok(())
    } else {
        Err(ReleaseRefusal::NotObserving)
    })
}

/// Symptom codes an AEFI report may name.
pub const AEFI_SYMPTOMS: &[&str] = &[
    "local_reaction",
    "fever",
    "rash",
    "allergic",
    "syncope",
    "headache",
    "nausea",
    "anaphylaxis",
    "other",
];
/// AEFI severities, mildest first.
pub const AEFI_SEVERITIES: &[&str] = &["mild", "moderate", "severe", "serious"];
/// What was done about an adverse event.
pub const AEFI_ACTIONS: &[&str] = &["observed", "treated", "hospital"];

/// An adverse event as reported by the observation nurse or the doctor.
#[derive(Debug, Clone, Default)]
pub struct AefiReport {
    pub visit_id: i64,
    /// Local time of onset today, `HH:MM`.
    pub onset: String,
    pub symptoms: Vec<String>,
    pub note: String,
    pub severity: String,
    pub action: String,
    pub action_note: String,
}

/// A report's problem, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AefiRefusal {
    #[error("no vaccinated person with this visit at this site today")]
    NoVisit,
    #[error("field {0} is missing or not valid")]
    Field(&'static str),
}

/// Records an adverse event after a dose given at this site today.
pub async fn report_aefi(
    db: &Db,
    tz: chrono_tz::Tz,
    site_id: i64,
    today: NaiveDate,
    r: &AefiReport,
    actor: Option<i64>,
) -> Result<Result<i64, AefiRefusal>, StoreError> {
    use vaxloop_store::doses::{self, Aefi};
    let date = today.format("%Y-%m-%d").to_string();
    let here = visits::by_id(db, r.visit_id)
        .await?
        .filter(|(v, _)| v.site_id == site_id && v.day == date);
    if here.is_none() {
        return Ok(Err(AefiRefusal::NoVisit));
    }
    let Ok(onset) = chrono::NaiveTime::parse_from_str(r.onset.trim(), "%H:%M") else {
        return Ok(Err(AefiRefusal::Field("onset")));
    };
    let Some(onset_at) = today
        .and_time(onset)
        .and_local_timezone(tz)
        .earliest()
        .map(|t| t.timestamp_millis())
    else {
        return Ok(Err(AefiRefusal::Field("onset")));
    };
    let now = vaxloop_store::now_ms();
    if onset_at > now + 60_000 {
        return Ok(Err(AefiRefusal::Field("onset")));
    }
    if r.symptoms.is_empty()
        || r.symptoms
            .iter()
            .any(|s| !AEFI_SYMPTOMS.contains(&s.as_str()))
    {
        return Ok(Err(AefiRefusal::Field("symptoms")));
    }
    if r.symptoms.iter().any(|s| s == "other") && r.note.trim().is_empty() {
        return Ok(Err(AefiRefusal::Field("note")));
    }
    if !AEFI_SEVERITIES.contains(&r.severity.as_str()) {
        return Ok(Err(AefiRefusal::Field("severity")));
    }
    if !AEFI_ACTIONS.contains(&r.action.as_str()) {
        return Ok(Err(AefiRefusal::Field("action")));
    }
    let symptoms = r.symptoms.join(",");
    let a = Aefi {
        visit_id: r.visit_id,
        onset_at,
        symptoms: &symptoms,
        note: r.note.trim(),
        severity: &r.severity,
        action: &r.action,
        action_note: r.action_note.trim(),
        by: actor,
        now,
    };
    let mut tx = db.begin_write().await?;
    let reported = doses::report_aefi_in(&mut tx, &a).await?;
    tx.commit().await?;
    Ok(match reported {
        Some(id) => Ok(id),
        None => Err(AefiRefusal::NoVisit),
    })
}

impl ScreenRefusal {
    /// The refusal's code, as the API names it, and the field it is about.
    pub fn code(&self) -> (&'static str, &'static str) {
        match self {
            Self::NoVisit => ("no_visit", "visit_id"),
            Self::Unanswered(_) => ("unanswered", "answers"),
            Self::NeedsDoctor { .. } => ("needs_doctor", "outcome"),
            Self::DeferReason => ("defer_reason", "reason"),
            Self::DeferUntil => ("defer_until", "until"),
            Self::AlreadyScreened => ("already_screened", "visit_id"),
            Self::DayClosed => ("day_closed", "visit_id"),
        }
    }
}

impl VaccinateRefusal {
    /// The refusal's code, as the API names it, and the field it is about.
    pub fn code(&self) -> (&'static str, &'static str) {
        match self {
            Self::NoVisit => ("no_visit", "visit_id"),
            Self::WrongCode => ("wrong_code", "presence_code"),
            Self::NotReady(_) => ("not_ready", "visit_id"),
            Self::WrongLot => ("wrong_lot", "lot_id"),
            Self::NoStock => ("no_stock", "lot_id"),
            Self::AlreadyGiven => ("already_given", "visit_id"),
            Self::Minutes => ("minutes", "observation_minutes"),
            Self::DayClosed => ("day_closed", "visit_id"),
        }
    }
}

impl ReleaseRefusal {
    /// The refusal's code, as the API names it, and the field it is about.
    pub fn code(&self) -> (&'static str, &'static str) {
        match self {
            Self::NotObserving => ("not_observing", "visit_id"),
            Self::TooEarly { .. } => ("too_early", "early_reason"),
        }
    }
}

impl AefiRefusal {
    /// The refusal's code, as the API names it, and the field it is about.
    pub fn code(&self) -> (&'static str, &'static str) {
        match self {
            Self::NoVisit => ("no_visit", "visit_id"),
            Self::Field(f) => ("invalid", f),
        }
    }
}
