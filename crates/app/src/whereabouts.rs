//! Where a person stands in their vaccination, told the same way to everyone who asks: the
//! resident's own page (what to do next, and from when), their booking page (only what they may
//! book, or why not) and the check-in desk (why someone without an appointment here is not
//! expected: vaccinated an hour ago, deferred, not yet due).

use chrono::{Days, NaiveDate};
use vaxloop_core::JourneyState;
use vaxloop_store::doses::{self, GivenDose};
use vaxloop_store::people::Person;
use vaxloop_store::{Db, StoreError, journeys, screening};

/// What a person may do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Registered by themselves; their unit has not confirmed them yet.
    Unconfirmed,
    /// They may book dose `dose`, for a day from `from` on.
    Book { dose: i64, from: NaiveDate },
    /// They hold an appointment for dose `dose`.
    Booked { dose: i64 },
    /// They are at a site for dose `dose` now (checked in or screened, not yet vaccinated).
    AtSite { dose: i64 },
    /// The screening doctor deferred dose `dose`: they may come again from `until` (when the
    /// doctor named a day).
    Deferred { dose: i64, until: Option<NaiveDate> },
    /// Every dose of the series is given.
    Complete { doses: i64 },
    /// They declined vaccination.
    Declined,
}

/// A person's doses given and what comes next.
#[derive(Debug, Clone, PartialEq)]
pub struct Whereabouts {
    pub given: Vec<GivenDose>,
    pub next: Next,
}

impl Whereabouts {
    /// The dose given on `day` (local), if any, in the campaign's time zone.
    pub fn given_on(&self, tz: chrono_tz::Tz, day: NaiveDate) -> Option<&GivenDose> {
        self.given
            .iter()
            .rev()
            .find(|g| local_day(tz, g.given_at) == Some(day))
    }
}

fn local_day(tz: chrono_tz::Tz, ms: i64) -> Option<NaiveDate> {
    chrono::DateTime::from_timestamp_millis(ms).map(|t| t.with_timezone(&tz).date_naive())
}

/// The earliest day dose `dose` may be given after the doses in `given`: the vaccine's minimum
/// interval after the dose before it (today for a first dose, or one whose previous dose is not
/// recorded — booking refuses that on its own).
pub fn earliest(tz: chrono_tz::Tz, given: &[GivenDose], dose: i64, today: NaiveDate) -> NaiveDate {
    let Some(before) = given.iter().find(|g| g.dose_number == dose - 1) else {
        return today;
    };
    let day = local_day(tz, before.given_at).unwrap_or(today);
    day.checked_add_days(Days::new(before.min_interval_days.max(0) as u64))
        .unwrap_or(day)
        .max(today)
}

/// Where `person` stands on `today`.
pub async fn of_person(
    db: &Db,
    tz: chrono_tz::Tz,
    today: NaiveDate,
    person: &Person,
) -> Result<Whereabouts, StoreError> {
    let given = doses::given_to(db, person.id).await?;
    let latest = journeys::of_person(db, person.id).await?.into_iter().last();
    let next = match latest {
        _ if !person.confirmed => Next::Unconfirmed,
        None => Next::Book {
            dose: 1,
            from: today,
        },
        Some((dose, state, _)) => match state {
            JourneyState::Registered | JourneyState::Cancelled | JourneyState::NoShow => {
                // Back from a deferral: not before the day the doctor named.
                let deferred = deferred_until(db, person.id, dose).await?;
                let from = earliest(tz, &given, dose, today).max(deferred.unwrap_or(today));
                Next::Book { dose, from }
            }
            JourneyState::Booked => Next::Booked { dose },
            JourneyState::CheckedIn | JourneyState::Screened => Next::AtSite { dose },
            JourneyState::Deferred => {
                let until = deferred_until(db, person.id, dose).await?;
                Next::Deferred { dose, until }
            }
            JourneyState::Declined => Next::Declined,
            JourneyState::Vaccinated
            | JourneyState::Observing
            | JourneyState::Released
            | JourneyState::Aefi => after_dose(tz, &given, dose, today),
        },
    };
    Ok(Whereabouts { given, next })
}

/// The day the screening doctor last deferred `dose` of `person` to, if they did.
async fn deferred_until(db: &Db, person: i64, dose: i64) -> Result<Option<NaiveDate>, StoreError> {
    Ok(screening::deferred_until(db, person, dose)
        .await?
        .and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok()))
}

/// What follows dose `dose` once it is given: the next dose of the series, or nothing more.
fn after_dose(tz: chrono_tz::Tz, given: &[GivenDose], dose: i64, today: NaiveDate) -> Next {
    let series = given
        .iter()
        .find(|g| g.dose_number == dose)
        .map_or(1, |g| g.doses_in_series);
    if dose >= series {
        return Next::Complete { doses: series };
    }
    Next::Book {
        dose: dose + 1,
        from: earliest(tz, given, dose + 1, today),
    }
}
