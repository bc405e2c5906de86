//! The booking API: a site-day's availability, appointments made (a person, or a team into one
//! slot, all or nothing) and cancelled. POST honours an `Idempotency-Key` header: the first
//! request does the work and stores its answer in the same transaction; a retry gets that answer
//! back and never a second booking.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vaxloop_app::booking::{self, BookInput, BookRefusal, Booking, Refusal, Slot};
use vaxloop_core::hhmm;

use super::kit::ApiError;
use super::kit::Body;
use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::i18n::Lang;
use crate::who::Who;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/sites/{code}/availability", get(availability))
        .route("/api/v1/appointments", post(create))
        .route("/api/v1/appointments/{id}", delete(cancel))
}

/// One slot's places.
#[derive(Serialize, ToSchema, Clone)]
pub struct SlotOut {
    pub slot_id: i64,
    /// `HH:MM`, local time.
    pub starts: String,
    pub ends: String,
    pub capacity: i64,
    pub booked: i64,
    pub free: i64,
}

/// A site-day: its slots, and the doses the day may still promise.
#[derive(Serialize, ToSchema)]
pub struct Availability {
    pub site: String,
    pub date: String,
    pub doses_allocated: i64,
    pub doses_booked: i64,
    pub slots: Vec<SlotOut>,
}

#[derive(Deserialize)]
pub struct DateQuery {
    date: String,
}

fn slot_out(s: &Slot) -> SlotOut {
    SlotOut {
        slot_id: s.id,
        starts: hhmm(s.starts_min),
        ends: hhmm(s.ends_min),
        capacity: s.capacity,
        booked: s.booked,
        free: s.capacity - s.booked,
    }
}

#[utoipa::path(get, path = "/api/v1/sites/{code}/availability", tag = "booking",
    params(("code" = String, Path, description = "The site's code"), ("date" = String, Query, format = Date, description = "YYYY-MM-DD")),
    responses((status = 200, body = Availability), (status = 400, body = ApiError), (status = 401, body = ApiError), (status = 404, body = ApiError)))]
pub async fn availability(
    State(state): State<AppState>,
    Who(caller): Who,
    Path(code): Path<String>,
    Query(q): Query<DateQuery>,
) -> AppResult<Json<Availability>> {
    if caller.role().is_none() {
        return Err(AppError::Unauthenticated);
    }
    let day = chrono::NaiveDate::parse_from_str(&q.date, "%Y-%m-%d").map_err(|_| {
        AppError::BadRequest {
            field: Some("date".into()),
            message: "booking.bad_date".into(),
        }
    })?;
    let date = day.to_string();
    // A moment old at most (see `vaxloop_app::days`); booking re-checks everything.
    let day = booking::availability(&state.app, &caller, &code, day)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(Availability {
        site: code,
        date,
        doses_allocated: day.doses_allocated,
        doses_booked: day.doses_booked,
        slots: day.slots.iter().map(slot_out).collect(),
    }))
}

/// A booking request: a resident books themselves (omit `people`); the desk books people, a
/// team when there are several.
#[derive(Deserialize, Serialize, ToSchema)]
pub struct BookIn {
    pub slot_id: i64,
    #[serde(default)]
    pub people: Vec<i64>,
    /// Which dose of the series (default 1); later doses respect the minimum interval.
    #[serde(default)]
    pub dose: Option<i64>,
    /// Refused when true: a walk-in is the check-in desk's act, for today's slot, with proof of
    /// the person (`POST /api/v1/sites/{code}/checkins` with `walk_in`).
    #[serde(default)]
    pub walk_in: bool,
    /// The desk's team of one unit's people may spread from this slot over the consecutive ones
    /// of its site-day when this one is short (as the desk's page books teams); everyone or
    /// nobody still.
    #[serde(default)]
    pub spread: bool,
}

/// The appointments made; several people of one unit are booked as a team.
#[derive(Serialize, ToSchema)]
pub struct Booked {
    pub appointments: Vec<i64>,
    /// The team's code (`T{site}-{yyyymmdd}-{n}`) when several people of one unit were booked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// The team's number on its site-day.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team_number: Option<i64>,
}

/// Why a booking was refused, with the other places of the site-day that are still free.
#[derive(Serialize, ToSchema)]
pub struct Refused {
    /// `slot_full`, `no_doses`, `already_booked`, `not_bookable`, `no_slot`, `no_prior_dose`,
    /// `too_early` or `site_not_serving`.
    pub error: String,
    pub message: String,
    pub slot_id: i64,
    /// Up to six other times of the same site-day nearest to the one asked for that still have
    /// places (none when the day has no doses left).
    pub nearby: Vec<SlotOut>,
}

fn json(status: StatusCode, body: String) -> Response {
    (
        status,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

#[utoipa::path(post, path = "/api/v1/appointments", tag = "booking", request_body = BookIn,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Booked), (status = 409, body = Refused), (status = 403, body = ApiError), (status = 422, body = ApiError)))]
pub async fn create(
    State(state): State<AppState>,
    Who(caller): Who,
    lang: Lang,
    headers: HeaderMap,
    Body(input): Body<BookIn>,
) -> AppResult<Response> {
    let key = super::kit::idempotency_key(&headers)?;
    let slot_id = input.slot_id;
    let input = BookInput {
        slot_id,
        people: input.people,
        dose: input.dose,
        walk_in: input.walk_in,
        spread: input.spread,
    };
    let booked = |ids: &[i64], team: Option<&booking::Team>| {
        serde_json::to_string(&Booked {
            appointments: ids.to_vec(),
            team: team.map(|t| t.code.clone()),
            team_number: team.map(|t| t.number),
        })
        .unwrap_or_default()
    };
    let refused = |refusal: &BookRefusal, day: &[Slot]| {
        serde_json::to_string(&refused(lang, slot_id, refusal, day)).unwrap_or_default()
    };
    let outcome = booking::book(&state.app, &caller, &input, key.as_deref(), booked, refused)
        .await
        .map_err(|e| match e {
            vaxloop_app::Error::Invalid(problems) => AppError::Invalid(
                problems
                    .into_iter()
                    .map(|p| (p.field.to_string(), format!("booking.{}", p.code)))
                    .collect(),
            ),
            other => other.into(),
        })?;
    match outcome {
        Booking::Booked { body, .. } => Ok(json(StatusCode::CREATED, body)),
        Booking::Refused { body, .. } => Ok(json(StatusCode::CONFLICT, body)),
        Booking::Replayed { status, body } => Ok(replay(status, body)),
        Booking::KeyReused => Err(key_reused()),
    }
}

/// The answer stored under a key, given again.
fn replay(status: i64, body: String) -> Response {
    json(
        StatusCode::from_u16(u16::try_from(status).unwrap_or(200)).unwrap_or(StatusCode::OK),
        body,
    )
}

fn key_reused() -> AppError {
    AppError::invalid("Idempotency-Key", "booking.key_reused")
}

/// How many other free times a refusal offers: the nearest to the asked-for one.
const NEARBY: usize = 6;

fn refused(lang: Lang, slot_id: i64, refusal: &BookRefusal, day_slots: &[Slot]) -> Refused {
    let error = refusal.code();
    // The slots of the same site-day nearest in time that still have places — none when the
    // day has no doses left, since none of them could be booked either.
    let nearby = if matches!(refusal, BookRefusal::Store(Refusal::NoDoses { .. })) {
        Vec::new()
    } else {
        let at = day_slots
            .iter()
            .find(|s| s.id == slot_id)
            .map_or(0, |s| s.starts_min);
        let mut free: Vec<&Slot> = day_slots
            .iter()
            .filter(|s| s.id != slot_id && s.capacity > s.booked)
            .collect();
        free.sort_by_key(|s| ((s.starts_min - at).abs(), s.starts_min));
        free.truncate(NEARBY);
        free.sort_by_key(|s| s.starts_min);
        free.into_iter().map(slot_out).collect()
    };
    let message = crate::messages::booking(lang, refusal);
    Refused {
        error: error.into(),
        message,
        slot_id,
        nearby,
    }
}

#[utoipa::path(delete, path = "/api/v1/appointments/{id}", tag = "booking",
    params(("id" = i64, Path, description = "The appointment's id")),
    responses((status = 204), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn cancel(
    State(state): State<AppState>,
    Who(caller): Who,
    Path(super::kit::Id(id)): Path<super::kit::Id>,
) -> AppResult<StatusCode> {
    if booking::cancel(&state.app, &caller, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AppError::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day() -> Vec<Slot> {
        (0..20)
            .map(|i| Slot {
                id: 100 + i,
                site_id: 1,
                day: "2026-12-01".into(),
                starts_min: 480 + 30 * i,
                ends_min: 510 + 30 * i,
                capacity: 10,
                // Every third slot is full.
                booked: if i % 3 == 0 { 10 } else { 4 },
                capacity_reason: String::new(),
            })
            .collect()
    }

    #[test]
    fn a_full_slot_offers_the_nearest_free_times_in_order() {
        let full = BookRefusal::Store(Refusal::SlotFull {
            slot_id: 109,
            free: 0,
        });
        let r = refused(Lang::En, 109, &full, &day());
        assert_eq!(r.error, "slot_full");
        let ids: Vec<i64> = r.nearby.iter().map(|s| s.slot_id).collect();
        assert_eq!(ids, vec![105, 107, 108, 110, 111, 113]);
        assert!(r.nearby.iter().all(|s| s.free > 0));
    }

    #[test]
    fn a_day_without_doses_offers_nothing_on_that_day() {
        let none = BookRefusal::Store(Refusal::NoDoses {
            site_id: 1,
            day: "2026-12-01".into(),
            free: 0,
        });
        let r = refused(Lang::ZhCn, 104, &none, &day());
        assert_eq!(r.error, "no_doses");
        assert!(r.nearby.is_empty());
        assert!(!r.message.is_empty());
    }
}
