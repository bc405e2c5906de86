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
    let Some(person) = person else {
        return Ok(Err(CheckInRefusal::UnknownPerson));
    };
    let date = today.format("%Y-%m-%d").to_string();
    let all = visits::active_of_person(db, person.id).await?;
    let here = all.iter().find(|a| a.site_id == site_id && a.day == date);
    let Some(appointment) = here.cloned() else {
        // Checked in already today (its appointment is no longer waiting) answers as such.
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
