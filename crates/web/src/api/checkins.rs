//! The site operations API: check-in by personal QR code or ID number — and, for someone without
//! an appointment here today, a walk-in booked into today's slot and checked in. A check-in is
//! idempotent by nature (one per appointment: a repeated scan answers with the first check-in)
//! and also honours an `Idempotency-Key`.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::post;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vaxloop_core::SitePost;
use vaxloop_core::hhmm;

use super::kit::ApiError;
use super::kit::Body;
use crate::AppState;
use crate::auth::AuthSession;
use crate::error::{AppError, AppResult};
use crate::i18n::Lang;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/sites/{code}/checkins", post(create))
}

/// A scan at the check-in desk.
#[derive(Deserialize, Serialize, ToSchema)]
pub struct CheckInIn {
    /// The personal QR code as scanned (`VXL1:…`), or an ID number.
    #[schema(min_length = 1, max_length = 256)]
    pub code: String,
    /// A registered person without an appointment here today is booked as a walk-in into the
    /// slot under way (or the next with room) — their appointment elsewhere moves here — and
    /// checked in, as the check-in page does.
    #[serde(default)]
    pub walk_in: bool,
    /// Check the person in even when they came far too early for their slot (the refusal
    /// `too_early` says when it starts).
    #[serde(default)]
    pub early: bool,
}

/// A check-in, now (201) or before (200).
#[derive(Serialize, ToSchema)]
pub struct CheckInOut {
    pub visit_id: i64,
    /// False when the person had been checked in already.
    pub fresh: bool,
    /// RFC 3339, the site's time zone.
    pub checked_in_at: String,
    pub name: String,
    pub id_masked: String,
    pub appointment_id: i64,
    pub dose: i64,
    pub day: String,
    /// `HH:MM`.
    pub starts: String,
    /// The team's code and colour label, when booked with a team.
    pub team: Option<String>,
    pub label: Option<String>,
    pub green_channel: bool,
}

#[utoipa::path(post, path = "/api/v1/sites/{code}/checkins", tag = "site", request_body = CheckInIn,
    params(("code" = String, Path, description = "The site's code"),
           ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = CheckInOut, description = "Checked in now"),
               (status = 200, body = CheckInOut, description = "Checked in before"),
               (status = 409, body = ApiError, description = "Not checked in, and why: `no_appointment`, `other_day`, `other_site`, `vaccinated_today`, `deferred`, `not_yet_due`, `complete`, `unconfirmed`, `too_early` (set `early` to check in anyway), `day_closed`, `bad_code`, `unknown_person`, …"),
               (status = 400, body = ApiError), (status = 403, body = ApiError)))]
pub async fn create(
    State(state): State<AppState>,
    auth: AuthSession,
    lang: Lang,
    headers: HeaderMap,
    Path(code): Path<String>,
    Body(input): Body<CheckInIn>,
) -> AppResult<Response> {
    let via = format!("/api/v1/sites/{code}/checkins");
    let (desk, user_id) =
        super::kit::station_for(&state, &auth, via, &code, SitePost::CheckIn).await?;
    if input.code.trim().is_empty() || input.code.len() > 256 {
        return Err(AppError::invalid("code", "checkin.code_required"));
    }
    let walk = if input.walk_in { ":walk_in" } else { "" };
    let early = if input.early { ":early" } else { "" };
    let request = format!("{}:{}{walk}{early}", desk.site().id, input.code.trim());
    super::kit::keyed(&state, user_id, &headers, &request, async || {
        let done = if input.walk_in {
            desk.walk_in(&state.app, &input.code).await?
        } else {
            desk.check_in(&state.app, &input.code, input.early).await?
        };
        Ok(match done {
            Ok(c) => {
                let at = chrono::DateTime::from_timestamp_millis(c.visit.checked_in_at)
                    .map(|t| t.with_timezone(&state.config.timezone).to_rfc3339())
                    .unwrap_or_default();
                let label = c.appointment.team.as_ref().map(|(_, colour, number)| {
                    let l = vaxloop_core::Label::from_stored(*colour, *number);
                    if lang == Lang::En { l.en() } else { l.zh() }
                });
                let out = CheckInOut {
                    visit_id: c.visit.id,
                    fresh: c.fresh,
                    checked_in_at: at,
                    name: c.person.name,
                    id_masked: c.person.id_masked,
                    appointment_id: c.appointment.appointment_id,
                    dose: c.appointment.dose_number,
                    day: c.appointment.day,
                    starts: hhmm(c.appointment.starts_min),
                    team: c.appointment.team.map(|t| t.0),
                    label,
                    green_channel: c.visit.green,
                };
                let status = if c.fresh {
                    StatusCode::CREATED
                } else {
                    StatusCode::OK
                };
                (status, serde_json::to_string(&out).unwrap_or_default())
            }
            Err(refusal) => {
                let (error, message) = (
                    refusal.code(),
                    crate::messages::check_in(lang, &state, &refusal),
                );
                super::kit::refused(StatusCode::CONFLICT, error, Some("code"), message)
            }
        })
    })
    .await
}
