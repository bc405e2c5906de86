//! On-site operations: check-in at the site's desk. The person's personal QR code (a signed
//! token, read by the tablet's camera or a handheld scanner typing into the field) or their ID
//! number finds today's appointment at this site; the person is checked in once, however many
//! scans arrive at however many desks, and every scan is answered with that one check-in.

use chrono::{Months, NaiveDate};
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

/// Checks in at site `site_id` on `today` whoever `code` names: a scanned personal QR code
/// (`VXL1:…`) or a typed ID number.
pub async fn check_in(
    db: &Db,
    cipher: &PiiCipher,
    site_id: i64,
    today: NaiveDate,
    code: &str,
    actor: Option<i64>,
) -> Result<Result<CheckIn, CheckInRefusal>, StoreError> {
    let person = match resolve(db, cipher, today, code).await? {
        Ok(p) => p,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let date = today.format("%Y-%m-%d").to_string();
    let all = visits::active_of_person(db, person.id).await?;
    let here = all.iter().find(|a| a.site_id == site_id && a.day == date);
    let Some(appointment) = here.cloned() else {
        // Not here today: say where and when they are expected, if anywhere.
        return Ok(Err(match all.iter().find(|a| a.day == date) {
            Some(a) => CheckInRefusal::OtherSite {
                site: a.site_name.clone(),
            },
            None => match all.iter().find(|a| a.day.as_str() > date.as_str()) {
                Some(a) => CheckInRefusal::OtherDay {
                    day: a.day.clone(),
                    site: a.site_name.clone(),
                },
                None => CheckInRefusal::NoAppointment,
            },
        }));
    };
    let green = green_channel(&person, today);
    let now = vaxloop_store::now_ms();
    Ok(
        match visits::check_in(db, &appointment, green, actor, now).await? {
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
        },
    )
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
/// the slot under way at this site (or the next one with room), through the booking checks —
/// their appointment elsewhere or on another day moves here, so they hold one — then checked
/// in. `now` is the site's local time.
pub async fn walk_in(
    db: &Db,
    cipher: &PiiCipher,
    tz: chrono_tz::Tz,
    site_id: i64,
    now: chrono::NaiveDateTime,
    code: &str,
    actor: Option<i64>,
) -> Result<Result<CheckIn, CheckInRefusal>, StoreError> {
    use chrono::Timelike;
    use vaxloop_core::JourneyState;
    let today = now.date();
    let now_min = i64::from(now.hour() * 60 + now.minute());
    let person = match resolve(db, cipher, today, code).await? {
        Ok(p) => p,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let date = today.format("%Y-%m-%d").to_string();
    let here = visits::active_of_person(db, person.id).await?;
    if here.iter().any(|a| a.site_id == site_id && a.day == date) {
        return check_in(db, cipher, site_id, today, code, actor).await;
    }
    // The slot under way, or the next with a free place.
    let slots = vaxloop_store::slots::of_site_day(db, site_id, &date).await?;
    let Some(slot) = slots
        .iter()
        .find(|s| s.ends_min > now_min && s.booked < s.capacity)
    else {
        return Ok(Err(CheckInRefusal::WalkInRefused("slot_full")));
    };
    let booked = match here.first() {
        // Their appointment elsewhere comes here.
        Some(a) => crate::booking::reschedule(db, tz, a.appointment_id, slot.id).await?,
        None => {
            let journeys = vaxloop_store::journeys::of_person(db, person.id).await?;
            let open = journeys.iter().find(|j| {
                matches!(
                    j.1,
                    JourneyState::Registered | JourneyState::Cancelled | JourneyState::NoShow
                )
            });
            let Some(&(dose, ..)) = open else {
                return Ok(Err(CheckInRefusal::NoAppointment));
            };
            let people = [person.id];
            let req = crate::booking::Request {
                slot_id: slot.id,
                people: &people,
                dose_number: dose,
                team_id: None,
                walk_in: true,
            };
            crate::booking::book(db, tz, &req).await?
        }
    };
    if let Err(refusal) = booked {
        return Ok(Err(CheckInRefusal::WalkInRefused(refusal.code())));
    }
    check_in(db, cipher, site_id, today, code, actor).await
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
    #[error("an answer needs a deferral or the doctor; a pass is the doctor's to give")]
    NeedsDoctor,
    #[error("a deferral needs its reason")]
    DeferReason,
    #[error("a deferral needs a day after today")]
    DeferUntil,
    #[error("the person has been screened already")]
    AlreadyScreened,
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
    let questions = screening::questions(db, vaccine).await?;
    let mut serious = false;
    let mut given = Vec::with_capacity(questions.len());
    for q in &questions {
        let Some(&(_, yes)) = answers.iter().find(|a| a.0 == q.id) else {
            return Ok(Err(ScreenRefusal::Unanswered(q.position)));
        };
        serious |= yes && q.on_yes != "note";
        given.push(serde_json::json!({ "question": q.id, "yes": yes }));
    }
    let (outcome, reason, until) = match decision {
        Decision::Pass if serious && visit.stage != "referred" => {
            return Ok(Err(ScreenRefusal::NeedsDoctor));
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
    if !screening::record(db, &s, vaxloop_store::now_ms()).await? {
        return Ok(Err(ScreenRefusal::AlreadyScreened));
    }
    Ok(Ok(match outcome {
        "pass" => "ready",
        "defer" => "deferred",
        _ => "referred",
    }))
}
