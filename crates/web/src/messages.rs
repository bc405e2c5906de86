//! What a refusal tells the person who met it, in their language: one function per kind of
//! refusal, shared by the pages and the API (whose error body carries the same text).

use vaxloop_app::booking::{BookRefusal, Refusal};
use vaxloop_app::import::ReadError;
use vaxloop_app::planning::DisruptionError;
use vaxloop_app::proposals::MoveRefusal;
use vaxloop_app::stations::{
    AefiRefusal, CheckInRefusal, ReleaseRefusal, ScreenRefusal, VaccinateRefusal,
};

use crate::AppState;
use crate::i18n::Lang;

/// A refusal in the reader's language.
pub fn booking(lang: Lang, refusal: &BookRefusal) -> String {
    match refusal {
        BookRefusal::Store(Refusal::SlotFull { .. }) => lang.t("book.slot_full"),
        BookRefusal::Store(Refusal::NoDoses { .. }) => lang.t("book.no_doses"),
        BookRefusal::Store(Refusal::AlreadyBooked { .. }) => lang.t("book.already"),
        BookRefusal::Store(Refusal::NotBookable { .. }) => lang.t("book.not_bookable"),
        BookRefusal::Store(Refusal::NoSlot) => lang.t("error.not_found"),
        BookRefusal::NoPriorDose { .. } => lang.t("book.no_prior_dose"),
        BookRefusal::TooEarly { earliest, .. } => {
            lang.tf("book.too_early", &[("date", &earliest.to_string())])
        }
        BookRefusal::SiteNotServing { .. } => lang.t("book.site_not_serving"),
    }
}

/// What a refused check-in tells the desk (and the API's message).
pub fn check_in(lang: Lang, state: &AppState, r: &CheckInRefusal) -> String {
    match r {
        CheckInRefusal::BadCode => lang.t("checkin.bad_code"),
        CheckInRefusal::BadIdNumber(_) => lang.t("checkin.bad_id"),
        CheckInRefusal::UnknownPerson => lang.t("checkin.unknown"),
        CheckInRefusal::NoAppointment => lang.t("checkin.no_appointment"),
        CheckInRefusal::OtherDay { day, site } => {
            lang.tf("checkin.other_day", &[("day", day), ("site", site)])
        }
        CheckInRefusal::OtherSite { site } => lang.tf("checkin.other_site", &[("site", site)]),
        CheckInRefusal::NotActive => lang.t("checkin.not_active"),
        CheckInRefusal::WalkInRefused(code) => lang.tf(
            "checkin.walk_in_refused",
            &[("reason", &lang.t(&format!("checkin.refusal.{code}")))],
        ),
        CheckInRefusal::DayClosed => lang.t("checkin.day_closed"),
        CheckInRefusal::Vaccinated {
            dose,
            at,
            site,
            observing_until,
        } => {
            let given = lang.tf(
                "checkin.vaccinated_today",
                &[
                    ("dose", &dose.to_string()),
                    ("time", &state.config.local_hhmm(*at)),
                    ("site", site),
                ],
            );
            let now = match observing_until {
                Some(due) => lang.tf(
                    "checkin.observing_until",
                    &[("time", &state.config.local_hhmm(*due))],
                ),
                None => lang.t("checkin.left_observation"),
            };
            format!("{given} {now}")
        }
        CheckInRefusal::Deferred { until: Some(day) } => {
            lang.tf("checkin.deferred_until", &[("day", day)])
        }
        CheckInRefusal::Deferred { until: None } => lang.t("checkin.deferred"),
        CheckInRefusal::NotYetDue { dose, from } => lang.tf(
            "checkin.not_yet_due",
            &[("dose", &dose.to_string()), ("day", from)],
        ),
        CheckInRefusal::Complete { doses } => {
            lang.tf("checkin.complete", &[("n", &doses.to_string())])
        }
        CheckInRefusal::Unconfirmed => lang.t("checkin.unconfirmed"),
        CheckInRefusal::TooEarly { starts_min } => lang.tf(
            "checkin.too_early",
            &[("time", &vaxloop_core::hhmm(*starts_min))],
        ),
    }
}

pub fn release(lang: Lang, state: &AppState, refusal: &ReleaseRefusal) -> String {
    match refusal {
        ReleaseRefusal::NotObserving => lang.t("observation.not_observing"),
        ReleaseRefusal::TooEarly { due_at } => lang.tf(
            "observation.too_early",
            &[("due", &state.config.local_hhmm(*due_at))],
        ),
    }
}

pub fn aefi(lang: Lang, refusal: &AefiRefusal) -> String {
    match refusal {
        AefiRefusal::NoVisit => lang.t("observation.no_visit"),
        AefiRefusal::Field(f) => lang.t(&format!("observation.invalid_{f}")),
    }
}

pub fn plan_disruption(lang: Lang, d: &DisruptionError) -> String {
    match d {
        DisruptionError::Unknown => lang.t("plan.disruption.unknown"),
        DisruptionError::PeopleBooked { people } => lang.tf(
            "plan.disruption.people_booked",
            &[("n", &people.to_string())],
        ),
        DisruptionError::BelowFixed { fixed } => {
            lang.tf("plan.disruption.below_fixed", &[("n", &fixed.to_string())])
        }
        DisruptionError::NotShort { allocated } => lang.tf(
            "plan.disruption.not_short",
            &[("n", &allocated.to_string())],
        ),
    }
}

pub fn plan_move(lang: Lang, m: &MoveRefusal) -> String {
    match m {
        MoveRefusal::UnknownTeam => lang.t("plan.refuse.unknown_team"),
        MoveRefusal::UnknownSite => lang.t("plan.refuse.unknown_site"),
        MoveRefusal::OutsideHorizon => lang.t("plan.refuse.outside_horizon"),
        MoveRefusal::NotServed => lang.t("plan.refuse.not_served"),
        MoveRefusal::DayNotAllowed => lang.t("plan.refuse.day_not_allowed"),
        MoveRefusal::OutsideWindow => lang.t("plan.refuse.outside_window"),
        MoveRefusal::NoDoses { free, needed } => lang.tf(
            "plan.refuse.no_doses",
            &[("free", &free.to_string()), ("needed", &needed.to_string())],
        ),
        MoveRefusal::NoRoom { free, needed } => lang.tf(
            "plan.refuse.no_room",
            &[("free", &free.to_string()), ("needed", &needed.to_string())],
        ),
        MoveRefusal::NoBus => lang.t("plan.refuse.no_bus"),
    }
}

/// What a refused screening tells the screener (and the API's message).
pub fn screening(lang: Lang, refusal: &ScreenRefusal) -> String {
    match refusal {
        ScreenRefusal::NoVisit => lang.t("screening.no_visit"),
        ScreenRefusal::Unanswered(n) => lang.tf("screening.unanswered", &[("n", &n.to_string())]),
        ScreenRefusal::NeedsDoctor { question } => {
            lang.tf("screening.needs_doctor", &[("n", &question.to_string())])
        }
        ScreenRefusal::DeferReason => lang.t("screening.defer_reason"),
        ScreenRefusal::DeferUntil => lang.t("screening.until_invalid"),
        ScreenRefusal::AlreadyScreened => lang.t("screening.already"),
        ScreenRefusal::DayClosed => lang.t("checkin.day_closed"),
    }
}

/// What a refused dose tells the vaccinator.
pub fn vaccination(lang: Lang, refusal: &VaccinateRefusal) -> String {
    match refusal {
        VaccinateRefusal::NoVisit => lang.t("vaccination.no_visit"),
        VaccinateRefusal::WrongCode => lang.t("vaccination.wrong_code"),
        VaccinateRefusal::NotReady(stage) if stage == "observing" || stage == "released" => {
            lang.t("vaccination.already")
        }
        VaccinateRefusal::NotReady(_) => lang.t("vaccination.not_ready"),
        VaccinateRefusal::WrongLot => lang.t("vaccination.wrong_lot"),
        VaccinateRefusal::NoStock => lang.t("vaccination.no_stock"),
        VaccinateRefusal::AlreadyGiven => lang.t("vaccination.already"),
        VaccinateRefusal::Minutes => lang.t("vaccination.minutes"),
        VaccinateRefusal::DayClosed => lang.t("checkin.day_closed"),
    }
}

/// Why an uploaded spreadsheet could not be read, naming the row and column where there is one.
pub fn read_error(lang: Lang, r: &ReadError) -> String {
    match r {
        ReadError::Empty => lang.t("import.file_error.empty"),
        ReadError::TooLarge { limit, .. } => lang.tf(
            "import.file_error.too_large",
            &[("mb", &(limit / (1024 * 1024)).to_string())],
        ),
        ReadError::TooManyRows { limit } => lang.tf(
            "import.file_error.too_many_rows",
            &[("rows", &limit.to_string())],
        ),
        ReadError::TooManyColumns { row, column, limit } => lang.tf(
            "import.file_error.too_many_columns",
            &[
                ("row", &row.to_string()),
                ("column", column),
                ("limit", &limit.to_string()),
            ],
        ),
        ReadError::TooSlow { seconds } => lang.tf(
            "import.file_error.too_slow",
            &[("seconds", &seconds.to_string())],
        ),
        ReadError::WrongType => lang.t("import.file_error.wrong_type"),
        ReadError::ZipBomb { .. } => lang.t("import.file_error.zip_bomb"),
        ReadError::NoHeader => lang.t("import.file_error.no_header"),
        ReadError::Csv { line, .. } => {
            lang.tf("import.file_error.csv", &[("line", &line.to_string())])
        }
        ReadError::Xlsx(_) | ReadError::NoSheet | ReadError::Rejected(_) => {
            lang.t("import.file_error.unreadable")
        }
    }
}
