//! The site operations API past check-in: the queues, screening, vaccination, release from
//! observation and AEFI reports, for the staff of each station (and the manager and the admin).
//! Every POST honours an `Idempotency-Key`; a refusal is a 409 (or 422 for a bad field) naming
//! its code and the field.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use vaxloop_app::stations::{self, AefiRefusal, AefiReport, Decision, DoseGiven, Proof};
use vaxloop_core::SitePost;

use super::kit::Body;
use super::kit::{ApiError, created, station_for};
use crate::AppState;
use crate::auth::AuthSession;
use crate::error::{AppError, AppResult};
use crate::i18n::Lang;
use crate::who;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/sites/{code}/queue", get(queue))
        .route("/api/v1/sites/{code}/lots", get(lots))
        .route("/api/v1/sites/{code}/screenings", post(screen))
        .route("/api/v1/sites/{code}/vaccinations", post(vaccinate))
        .route("/api/v1/sites/{code}/releases", post(release))
        .route("/api/v1/sites/{code}/aefi", post(aefi))
}

/// A refusal as the API answers it: `code` is the refusal's code and the field it is about.
fn refused(status: StatusCode, code: (&str, &str), message: String) -> (StatusCode, String) {
    super::kit::refused(status, code.0, Some(code.1), message)
}

/// Which queue.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    /// `screening` (waiting or referred), `vaccination` (screened and passed) or `observation`.
    #[param(pattern = "^(screening|vaccination|observation)$")]
    pub station: String,
}

/// A person in a station's queue, the green channel first.
#[derive(Serialize, ToSchema)]
pub struct QueuedOut {
    pub visit_id: i64,
    pub name: String,
    pub id_masked: String,
    pub green_channel: bool,
    pub stage: String,
    pub dose: i64,
    /// RFC 3339.
    pub checked_in_at: String,
    /// In observation: when it ends (RFC 3339).
    pub observation_due: Option<String>,
}

fn rfc3339(state: &AppState, ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.with_timezone(&state.config.timezone).to_rfc3339())
        .unwrap_or_default()
}

#[utoipa::path(get, path = "/api/v1/sites/{code}/queue", tag = "site",
    params(("code" = String, Path, description = "The site's code"), QueueQuery),
    responses((status = 200, body = [QueuedOut]), (status = 400, body = ApiError), (status = 403, body = ApiError)))]
pub async fn queue(
    State(state): State<AppState>,
    auth: AuthSession,
    Path(code): Path<String>,
    Query(q): Query<QueueQuery>,
) -> AppResult<Json<Vec<QueuedOut>>> {
    let (post, stages): (SitePost, &[&str]) = match q.station.as_str() {
        "screening" => (SitePost::Screening, &["waiting", "referred"]),
        "vaccination" => (SitePost::Vaccinator, &["ready"]),
        "observation" => (SitePost::Observation, &["observing"]),
        _ => {
            return Err(AppError::BadRequest {
                field: Some("station".into()),
                message: "checkin.bad_station".into(),
            });
        }
    };
    let caller = who::caller(&auth, format!("/api/v1/sites/{code}/queue"));
    let station = stations::station(&state.app, &caller, &code, post).await?;
    let people = station.queue(&state.app, stages).await?;
    let due: Vec<(i64, i64)> = if post == SitePost::Observation {
        station
            .observing(&state.app)
            .await?
            .into_iter()
            .map(|o| (o.visit_id, o.due_at))
            .collect()
    } else {
        Vec::new()
    };
    Ok(Json(
        people
            .into_iter()
            .map(|w| QueuedOut {
                observation_due: due
                    .iter()
                    .find(|d| d.0 == w.visit.id)
                    .map(|d| rfc3339(&state, d.1)),
                visit_id: w.visit.id,
                name: w.name,
                id_masked: w.id_masked,
                green_channel: w.visit.green,
                stage: w.visit.stage,
                dose: w.visit.dose_number,
                checked_in_at: rfc3339(&state, w.visit.checked_in_at),
            })
            .collect(),
    ))
}

/// Which lots.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LotsQuery {
    /// The visit the dose is for: only lots of its vaccine.
    pub visit_id: i64,
}

/// A lot a vaccinator may choose: in stock here, of the vaccine, not expired; the one with an
/// opened vial first.
#[derive(Serialize, ToSchema)]
pub struct LotChoiceOut {
    pub lot_id: i64,
    pub lot_number: String,
    pub expires_on: String,
    pub remaining: i64,
    /// Doses left in the opened vial, if one is open.
    pub open_vial_left: Option<i64>,
    /// Until when the opened vial may be used (RFC 3339).
    pub open_vial_until: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/sites/{code}/lots", tag = "site",
    params(("code" = String, Path, description = "The site's code"), LotsQuery),
    responses((status = 200, body = [LotChoiceOut]), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn lots(
    State(state): State<AppState>,
    auth: AuthSession,
    Path(code): Path<String>,
    Query(q): Query<LotsQuery>,
) -> AppResult<Json<Vec<LotChoiceOut>>> {
    let caller = who::caller(&auth, format!("/api/v1/sites/{code}/lots"));
    let station = stations::station(&state.app, &caller, &code, SitePost::Vaccinator).await?;
    let lots = station
        .dose_choice(&state.app, q.visit_id)
        .await?
        .ok_or(AppError::NotFound)?
        .lots;
    Ok(Json(
        lots.into_iter()
            .map(|l| LotChoiceOut {
                lot_id: l.lot_id,
                lot_number: l.lot_number,
                expires_on: l.expires_on,
                remaining: l.remaining,
                open_vial_left: l.open_vial.map(|v| v.1),
                open_vial_until: l.open_vial.map(|v| rfc3339(&state, v.2)),
            })
            .collect(),
    ))
}

/// One answer of the questionnaire.
#[derive(Deserialize, Serialize, ToSchema)]
pub struct AnswerIn {
    /// The question's id.
    pub question: i64,
    pub yes: bool,
}

/// A screening's answers and decision.
#[derive(Deserialize, Serialize, ToSchema)]
pub struct ScreeningIn {
    pub visit_id: i64,
    pub answers: Vec<AnswerIn>,
    /// `pass`, `defer` or `refer`.
    #[schema(schema_with = super::shapes::screening_outcome)]
    pub outcome: String,
    /// With `defer`: why.
    pub reason: Option<String>,
    /// With `defer`: the first day they may come again (`YYYY-MM-DD`).
    #[schema(schema_with = super::shapes::optional_date)]
    pub until: Option<String>,
}

/// Where the person goes next.
#[derive(Serialize, ToSchema)]
pub struct StageOut {
    pub visit_id: i64,
    /// `ready` (to vaccination), `deferred` or `referred` (to the doctor).
    pub stage: String,
}

#[utoipa::path(post, path = "/api/v1/sites/{code}/screenings", tag = "site", request_body = ScreeningIn,
    params(("code" = String, Path, description = "The site's code"),
           ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = StageOut), (status = 409, body = ApiError, description = "Refused: the code and field say why"),
              (status = 400, body = ApiError), (status = 403, body = ApiError)))]
pub async fn screen(
    State(state): State<AppState>,
    auth: AuthSession,
    lang: Lang,
    headers: HeaderMap,
    Path(code): Path<String>,
    Body(input): Body<ScreeningIn>,
) -> AppResult<Response> {
    let (station, user_id) = station_for(
        &state,
        &auth,
        format!("/api/v1/sites/{code}/screenings"),
        &code,
        SitePost::Screening,
    )
    .await?;
    let decision = match input.outcome.as_str() {
        "pass" => Decision::Pass,
        "refer" => Decision::Refer,
        "defer" => {
            let until = input
                .until
                .as_deref()
                .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                .ok_or_else(|| AppError::invalid("until", "screening.until_invalid"))?;
            Decision::Defer {
                reason: input.reason.clone().unwrap_or_default(),
                until,
            }
        }
        _ => {
            return Err(AppError::invalid("outcome", "screening.outcome_invalid"));
        }
    };
    let answers: Vec<(i64, bool)> = input.answers.iter().map(|a| (a.question, a.yes)).collect();
    let request = format!(
        "screen:{}:{}",
        station.site().id,
        serde_json::to_string(&input).unwrap_or_default()
    );
    super::kit::keyed(&state, user_id, &headers, &request, async || {
        let done = station
            .screen(&state.app, input.visit_id, &answers, &decision)
            .await?;
        Ok(match done {
            Ok(stage) => created(&StageOut {
                visit_id: input.visit_id,
                stage: stage.into(),
            }),
            Err(r) => refused(
                StatusCode::CONFLICT,
                r.code(),
                crate::messages::screening(lang, &r),
            ),
        })
    })
    .await
}

/// A dose given.
#[derive(Deserialize, Serialize, ToSchema)]
pub struct VaccinationIn {
    pub visit_id: i64,
    pub lot_id: i64,
    /// The 4-digit code the person stated.
    pub presence_code: Option<String>,
    /// True when, without a code, the vaccinator checked the person's identity card.
    #[serde(default)]
    pub id_card_checked: bool,
    /// Observation minutes for this person, 0 to 240; the vaccine's own when absent.
    #[schema(minimum = 0, maximum = 240)]
    pub observation_minutes: Option<i64>,
}

/// The dose recorded.
#[derive(Serialize, ToSchema)]
pub struct VaccinationOut {
    pub dose_record_id: i64,
    /// True when this dose opened a vial.
    pub opened_vial: bool,
    /// When observation ends (RFC 3339).
    pub observation_due: String,
}

#[utoipa::path(post, path = "/api/v1/sites/{code}/vaccinations", tag = "site", request_body = VaccinationIn,
    params(("code" = String, Path, description = "The site's code"),
           ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = VaccinationOut), (status = 409, body = ApiError, description = "Refused: the code and field say why"),
              (status = 400, body = ApiError), (status = 403, body = ApiError)))]
pub async fn vaccinate(
    State(state): State<AppState>,
    auth: AuthSession,
    lang: Lang,
    headers: HeaderMap,
    Path(code): Path<String>,
    Body(input): Body<VaccinationIn>,
) -> AppResult<Response> {
    let (station, user_id) = station_for(
        &state,
        &auth,
        format!("/api/v1/sites/{code}/vaccinations"),
        &code,
        SitePost::Vaccinator,
    )
    .await?;
    let proof = match (&input.presence_code, input.id_card_checked) {
        (_, true) => Proof::IdCard,
        (Some(c), false) if !c.trim().is_empty() => Proof::Code(c.trim().to_string()),
        _ => {
            return Err(AppError::invalid(
                "presence_code",
                "vaccination.code_required",
            ));
        }
    };
    let dose = DoseGiven {
        visit_id: input.visit_id,
        lot_id: input.lot_id,
        proof,
        minutes: input.observation_minutes,
    };
    let request = format!(
        "vaccinate:{}:{}",
        station.site().id,
        serde_json::to_string(&input).unwrap_or_default()
    );
    super::kit::keyed(&state, user_id, &headers, &request, async || {
        let done = station.vaccinate(&state.app, &dose).await?;
        Ok(match done {
            Ok(v) => created(&VaccinationOut {
                dose_record_id: v.dose_record_id,
                opened_vial: v.opened_vial,
                observation_due: rfc3339(&state, v.due_at),
            }),
            Err(r) => refused(
                StatusCode::CONFLICT,
                r.code(),
                crate::messages::vaccination(lang, &r),
            ),
        })
    })
    .await
}

/// A release from observation.
#[derive(Deserialize, Serialize, ToSchema)]
pub struct ReleaseIn {
    pub visit_id: i64,
    /// Needed before the observation time is over.
    pub early_reason: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/sites/{code}/releases", tag = "site", request_body = ReleaseIn,
    params(("code" = String, Path, description = "The site's code"),
           ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = StageOut), (status = 409, body = ApiError, description = "Not in observation, or too early without a reason"),
              (status = 403, body = ApiError)))]
pub async fn release(
    State(state): State<AppState>,
    auth: AuthSession,
    lang: Lang,
    headers: HeaderMap,
    Path(code): Path<String>,
    Body(input): Body<ReleaseIn>,
) -> AppResult<Response> {
    let (station, user_id) = station_for(
        &state,
        &auth,
        format!("/api/v1/sites/{code}/releases"),
        &code,
        SitePost::Observation,
    )
    .await?;
    let request = format!(
        "release:{}:{}",
        station.site().id,
        serde_json::to_string(&input).unwrap_or_default()
    );
    super::kit::keyed(&state, user_id, &headers, &request, async || {
        let reason = input.early_reason.as_deref();
        let done = station.release(&state.app, input.visit_id, reason).await?;
        Ok(match done {
            Ok(()) => created(&StageOut {
                visit_id: input.visit_id,
                stage: "released".into(),
            }),
            Err(r) => refused(
                StatusCode::CONFLICT,
                r.code(),
                crate::messages::release(lang, &state, &r),
            ),
        })
    })
    .await
}

/// An adverse event following immunisation.
#[derive(Deserialize, Serialize, ToSchema)]
pub struct AefiIn {
    pub visit_id: i64,
    /// Local time of onset today, `HH:MM`, not in the future.
    #[schema(pattern = r"^\s*([01][0-9]|2[0-3]):[0-5][0-9]\s*$")]
    pub onset: String,
    /// Codes: `local_reaction`, `fever`, `rash`, `allergic`, `syncope`, `headache`, `nausea`,
    /// `anaphylaxis`, `other` (which needs a `note`).
    #[schema(schema_with = super::shapes::aefi_symptoms)]
    pub symptoms: Vec<String>,
    #[serde(default)]
    pub note: String,
    /// `mild`, `moderate`, `severe` or `serious`.
    #[schema(schema_with = super::shapes::aefi_severity)]
    pub severity: String,
    /// `observed`, `treated` or `hospital`.
    #[schema(schema_with = super::shapes::aefi_action)]
    pub action: String,
    #[serde(default)]
    pub action_note: String,
}

/// A report recorded.
#[derive(Serialize, ToSchema)]
pub struct AefiOut {
    pub id: i64,
}

#[utoipa::path(post, path = "/api/v1/sites/{code}/aefi", tag = "site", request_body = AefiIn,
    params(("code" = String, Path, description = "The site's code"),
           ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = AefiOut), (status = 422, body = ApiError, description = "A field is missing or invalid: it is named"),
              (status = 409, body = ApiError, description = "No dose given at this visit"), (status = 403, body = ApiError)))]
pub async fn aefi(
    State(state): State<AppState>,
    auth: AuthSession,
    lang: Lang,
    headers: HeaderMap,
    Path(code): Path<String>,
    Body(input): Body<AefiIn>,
) -> AppResult<Response> {
    let (station, user_id) = station_for(
        &state,
        &auth,
        format!("/api/v1/sites/{code}/aefi"),
        &code,
        SitePost::Observation,
    )
    .await?;
    let request = format!(
        "aefi:{}:{}",
        station.site().id,
        serde_json::to_string(&input).unwrap_or_default()
    );
    let report = AefiReport {
        visit_id: input.visit_id,
        onset: input.onset.clone(),
        symptoms: input.symptoms.clone(),
        note: input.note.clone(),
        severity: input.severity.clone(),
        action: input.action.clone(),
        action_note: input.action_note.clone(),
    };
    super::kit::keyed(&state, user_id, &headers, &request, async || {
        let done = station.report_aefi(&state.app, &report).await?;
        Ok(match done {
            Ok(id) => created(&AefiOut { id }),
            Err(r @ AefiRefusal::Field(_)) => refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                r.code(),
                crate::messages::aefi(lang, &r),
            ),
            Err(r) => refused(
                StatusCode::CONFLICT,
                r.code(),
                crate::messages::aefi(lang, &r),
            ),
        })
    })
    .await
}
