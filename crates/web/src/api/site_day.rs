//! The site's day over the API: the live board, the reconciliation of a day (per team, unit,
//! lot and site), the manager's close, and a unit's own teams.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;
use vaxloop_app::site_day::{self, CloseRefusal, LotLedger, Tally, TeamLine};
use vaxloop_core::SitePost;

use super::kit::ApiError;
use crate::AppState;
use crate::auth::AuthSession;
use crate::error::{AppError, AppResult};
use crate::i18n::Lang;
use crate::who;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/sites/{code}/board", get(board))
        .route("/api/v1/sites/{code}/days/{day}", get(day))
        .route("/api/v1/sites/{code}/days/{day}/close", post(close))
        .route("/api/v1/units/{code}/days/{day}", get(unit_day))
}

/// Where the people booked for a day stand; each is counted in exactly one of the last six.
#[derive(Serialize, ToSchema)]
pub struct TallyOut {
    pub booked: i64,
    pub arrived: i64,
    pub vaccinated: i64,
    pub deferred: i64,
    /// Checked in, gone before their dose.
    pub left: i64,
    pub no_show: i64,
    /// Here now, not yet vaccinated.
    pub in_progress: i64,
    /// Not come yet, their slot not past the grace period.
    pub expected: i64,
}

impl From<&Tally> for TallyOut {
    fn from(t: &Tally) -> Self {
        Self {
            booked: t.booked,
            arrived: t.arrived,
            vaccinated: t.vaccinated,
            deferred: t.deferred,
            left: t.left,
            no_show: t.no_show,
            in_progress: t.in_progress,
            expected: t.expected,
        }
    }
}

/// A team's line.
#[derive(Serialize, ToSchema)]
pub struct TeamOut {
    pub code: String,
    /// The colour label in the caller's language ("红-07" / "Red-07").
    pub label: String,
    pub unit: String,
    pub tally: TallyOut,
}

fn teams_out(lang: Lang, teams: &[TeamLine]) -> Vec<TeamOut> {
    teams
        .iter()
        .map(|t| TeamOut {
            code: t.code.clone(),
            label: if lang == Lang::En {
                t.label_en.clone()
            } else {
                t.label_zh.clone()
            },
            unit: t.unit_code.clone(),
            tally: (&t.tally).into(),
        })
        .collect()
}

/// A lot's stock at the site, from its ledger.
#[derive(Serialize, ToSchema)]
pub struct LotOut {
    pub vaccine: String,
    pub lot_number: String,
    pub expires_on: String,
    pub received: i64,
    pub administered: i64,
    pub wasted: i64,
    /// Of the wasted: left in opened vials past their life or at a close.
    pub vial_waste: i64,
    pub transferred_out: i64,
    pub corrections: i64,
    pub remaining: i64,
    pub in_open_vials: i64,
    pub administered_today: i64,
    pub wasted_today: i64,
    /// received + corrections = administered + wasted + transferred out + remaining.
    pub balanced: bool,
}

fn lots_out(lots: &[LotLedger]) -> Vec<LotOut> {
    lots.iter()
        .map(|l| LotOut {
            vaccine: l.vaccine_code.clone(),
            lot_number: l.lot_number.clone(),
            expires_on: l.expires_on.clone(),
            received: l.received,
            administered: l.administered,
            wasted: l.wasted,
            vial_waste: l.vial_waste,
            transferred_out: l.transferred_out,
            corrections: l.corrections,
            remaining: l.remaining,
            in_open_vials: l.in_open_vials,
            administered_today: l.administered_today,
            wasted_today: l.wasted_today,
            balanced: l.balanced(),
        })
        .collect()
}

/// A station's queue on the board.
#[derive(Serialize, ToSchema)]
pub struct QueueOut {
    /// `screening` or `vaccination`.
    pub zone: String,
    pub people: i64,
    pub green_channel: i64,
    pub longest_minutes: i64,
    pub mean_minutes: f64,
}

/// The live board.
#[derive(Serialize, ToSchema)]
pub struct BoardOut {
    pub queues: Vec<QueueOut>,
    pub checked_in_last_30_minutes: i64,
    pub vaccinated_last_30_minutes: i64,
    pub check_in_to_dose_minutes: Option<f64>,
    pub observation_seats_used: i64,
    pub observation_seats: i64,
    pub lots: Vec<LotOut>,
    pub teams: Vec<TeamOut>,
    pub total: TallyOut,
    pub closed: bool,
}

#[utoipa::path(get, path = "/api/v1/sites/{code}/board", tag = "site",
    params(("code" = String, Path, description = "The site's code")),
    responses((status = 200, body = BoardOut), (status = 403, body = ApiError)))]
pub async fn board(
    State(state): State<AppState>,
    auth: AuthSession,
    lang: Lang,
    Path(code): Path<String>,
) -> AppResult<Json<BoardOut>> {
    let caller = who::caller(&auth, format!("/api/v1/sites/{code}/board"));
    let (_, b) = site_day::live_board(&state.app, &caller, &code, vaxloop_app::now_ms()).await?;
    Ok(Json(BoardOut {
        queues: b
            .queues
            .iter()
            .map(|q| QueueOut {
                zone: q.zone.into(),
                people: q.people,
                green_channel: q.green,
                longest_minutes: q.longest_minutes,
                mean_minutes: q.mean_minutes,
            })
            .collect(),
        checked_in_last_30_minutes: b.checked_in_30,
        vaccinated_last_30_minutes: b.vaccinated_30,
        check_in_to_dose_minutes: b.check_in_to_dose_30,
        observation_seats_used: b.seats_used,
        observation_seats: b.seats,
        lots: lots_out(&b.lots),
        teams: teams_out(lang, &b.teams),
        total: (&b.total).into(),
        closed: b.closed,
    }))
}

/// A unit's line.
#[derive(Serialize, ToSchema)]
pub struct UnitLineOut {
    pub code: String,
    pub name: String,
    pub tally: TallyOut,
}

/// A site's day, reconciled.
#[derive(Serialize, ToSchema)]
pub struct DayOut {
    pub site: String,
    pub day: String,
    pub total: TallyOut,
    pub teams: Vec<TeamOut>,
    pub units: Vec<UnitLineOut>,
    /// People booked one by one, and walk-ins.
    pub individuals: TallyOut,
    pub walk_ins: i64,
    pub lots: Vec<LotOut>,
    /// When the day was closed (RFC 3339), if it was.
    pub closed_at: Option<String>,
}

fn parse_day(day: &str) -> AppResult<NaiveDate> {
    NaiveDate::parse_from_str(day, "%Y-%m-%d").map_err(|_| AppError::BadRequest {
        field: Some("day".into()),
        message: "day.bad_day".into(),
    })
}

#[utoipa::path(get, path = "/api/v1/sites/{code}/days/{day}", tag = "site",
    params(("code" = String, Path, description = "The site's code"), ("day" = String, Path, format = Date, description = "YYYY-MM-DD")),
    responses((status = 200, body = DayOut), (status = 400, body = ApiError), (status = 403, body = ApiError)))]
pub async fn day(
    State(state): State<AppState>,
    auth: AuthSession,
    lang: Lang,
    Path((code, day)): Path<(String, String)>,
) -> AppResult<Json<DayOut>> {
    let date = parse_day(&day)?;
    let caller = who::caller(&auth, format!("/api/v1/sites/{code}/days"));
    let (site, r, _) = site_day::site_day(&state.app, &caller, &code, date).await?;
    Ok(Json(DayOut {
        site: site.code,
        day: date.to_string(),
        total: (&r.total).into(),
        teams: teams_out(lang, &r.teams),
        units: r
            .units
            .iter()
            .map(|u| UnitLineOut {
                code: u.code.clone(),
                name: u.name.clone(),
                tally: (&u.tally).into(),
            })
            .collect(),
        individuals: (&r.individuals).into(),
        walk_ins: r.walk_ins,
        lots: lots_out(&r.lots),
        closed_at: r.closed.map(|c| {
            chrono::DateTime::from_timestamp_millis(c.0)
                .map(|t| t.with_timezone(&state.config.timezone).to_rfc3339())
                .unwrap_or_default()
        }),
    }))
}

/// What the close did.
#[derive(Serialize, ToSchema)]
pub struct ClosedOut {
    pub no_shows: u64,
    pub left: u64,
    pub released: u64,
    pub vial_waste: i64,
    pub reinvited: u64,
}

#[utoipa::path(post, path = "/api/v1/sites/{code}/days/{day}/close", tag = "site",
    params(("code" = String, Path, description = "The site's code"), ("day" = String, Path, format = Date, description = "Today, YYYY-MM-DD"),
           ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = ClosedOut, description = "Closed now"),
              (status = 409, body = ApiError, description = "Closed already, or not today"),
              (status = 403, body = ApiError)))]
pub async fn close(
    State(state): State<AppState>,
    auth: AuthSession,
    lang: Lang,
    headers: HeaderMap,
    Path((code, day)): Path<(String, String)>,
) -> AppResult<Response> {
    let caller = who::caller(&auth, format!("/api/v1/sites/{code}/days/{day}/close"));
    let manager = SitePost::Manager;
    vaxloop_app::stations::station(&state.app, &caller, &code, manager).await?;
    let user_id = vaxloop_app::scope::login(&caller)?.id;
    let date = parse_day(&day)?;
    let request = format!("close:{code}:{date}");
    super::kit::keyed(&state, user_id, &headers, &request, async || {
        Ok(
            match site_day::close(&state.app, &caller, &code, date).await? {
                Ok(s) => (
                    StatusCode::CREATED,
                    serde_json::to_string(&ClosedOut {
                        no_shows: s.no_shows,
                        left: s.left,
                        released: s.released,
                        vial_waste: s.vial_waste,
                        reinvited: s.reinvited,
                    })
                    .unwrap_or_default(),
                ),
                Err(refusal) => {
                    let key = match refusal {
                        CloseRefusal::NotToday => "day.not_today",
                        CloseRefusal::Closed => "day.closed",
                    };
                    super::kit::refused(
                        StatusCode::CONFLICT,
                        refusal.code(),
                        Some("day"),
                        lang.t(key),
                    )
                }
            },
        )
    })
    .await
}

/// A unit's teams on a day.
#[derive(Serialize, ToSchema)]
pub struct UnitDayOut {
    pub unit: String,
    pub day: String,
    pub total: TallyOut,
    pub teams: Vec<TeamOut>,
}

#[utoipa::path(get, path = "/api/v1/units/{code}/days/{day}", tag = "site",
    params(("code" = String, Path, description = "The unit's code"), ("day" = String, Path, format = Date, description = "YYYY-MM-DD")),
    responses((status = 200, body = UnitDayOut), (status = 400, body = ApiError), (status = 403, body = ApiError)))]
pub async fn unit_day(
    State(state): State<AppState>,
    auth: AuthSession,
    lang: Lang,
    Path((code, day)): Path<(String, String)>,
) -> AppResult<Json<UnitDayOut>> {
    let date = parse_day(&day)?;
    let caller = who::caller(&auth, format!("/api/v1/units/{code}/days"));
    let (unit, teams, total) = site_day::unit_teams(&state.app, &caller, &code, date).await?;
    Ok(Json(UnitDayOut {
        unit: unit.code,
        day: date.to_string(),
        total: (&total).into(),
        teams: teams_out(lang, &teams),
    }))
}
