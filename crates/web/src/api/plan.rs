//! The planning API, for the desk's own tools: the current proposal (with its plan in the
//! `vaxloop-plan/1` format and the instance it was made on, so `vaxloop plan check` can judge
//! it), a new proposal from live data, and every action of the planning page — lock, unlock,
//! move, re-run, refresh, record or take back a disruption, publish — each conditional on the
//! proposal's version. POSTs honour an `Idempotency-Key`: a retry gets the first answer back.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vaxloop_app::Caller;
use vaxloop_app::planning::Disruption;
use vaxloop_app::proposals::{self, MoveRefusal, Place, Proposal, ProposalError};
use vaxloop_core::hhmm;

use super::kit::Body;
use super::kit::{ApiError, body};
use crate::AppState;
use crate::auth::AuthSession;
use crate::error::{AppError, AppResult};
use crate::i18n::Lang;
use crate::who;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/plans", post(create))
        .route("/api/v1/plans/current", get(current))
        .route("/api/v1/plans/{id}/instance", get(instance))
        .route("/api/v1/plans/{id}/actions", post(act))
}

/// Where a team is in a plan.
#[derive(Serialize, ToSchema)]
pub struct PlaceOut {
    pub site: String,
    pub date: String,
    /// `HH:MM`, its first slot's start.
    pub starts: String,
}

/// A team whose place differs; `null` is "left out".
#[derive(Serialize, ToSchema)]
pub struct ChangeOut {
    pub team: String,
    pub before: Option<PlaceOut>,
    pub after: Option<PlaceOut>,
}

/// A proposal of the desk.
#[derive(Serialize, ToSchema)]
pub struct PlanOut {
    pub id: i64,
    /// Every action names the version it was made on.
    pub version: i64,
    /// `open`, `published` or `superseded`.
    pub status: String,
    pub teams: usize,
    pub placed: usize,
    pub people: u64,
    pub people_placed: u64,
    /// The independent check of the plan on its instance.
    pub valid: bool,
    pub violations: Vec<String>,
    pub locked: Vec<String>,
    /// Site-days closed or short, as recorded: `{"kind": "closed"|"doses", "site", "day",
    /// "doses"?}`.
    #[schema(value_type = Vec<Object>)]
    pub disruptions: Vec<serde_json::Value>,
    /// Since the last re-plan or hand move.
    pub changes: Vec<ChangeOut>,
    /// Published teams this proposal moves or cancels.
    pub booked_changes: Vec<ChangeOut>,
    /// The plan, in the `vaxloop-plan/1` format.
    #[schema(value_type = Object)]
    pub plan: serde_json::Value,
}

/// An action on a proposal.
#[derive(Deserialize, Serialize, ToSchema)]
pub struct ActionIn {
    /// The version the action was decided on.
    pub version: i64,
    /// `lock`, `unlock`, `move`, `rerun`, `refresh`, `disrupt`, `undisrupt` or `publish`.
    #[schema(schema_with = super::shapes::plan_action)]
    pub action: String,
    /// The plan's team id (lock, unlock, move).
    #[serde(default)]
    pub team: Option<String>,
    /// A site code (move, disrupt, undisrupt).
    #[serde(default)]
    pub site: Option<String>,
    /// `YYYY-MM-DD` (move, disrupt, undisrupt).
    #[serde(default)]
    #[schema(schema_with = super::shapes::optional_date)]
    pub date: Option<String>,
    /// `HH:MM`, the first slot (move).
    #[serde(default)]
    #[schema(schema_with = super::shapes::optional_hhmm)]
    pub starts: Option<String>,
    /// `closed` or `doses` (disrupt).
    #[serde(default)]
    #[schema(schema_with = super::shapes::disruption_kind)]
    pub kind: Option<String>,
    /// The doses that arrive in all (disrupt with `doses`), 0 or more.
    #[serde(default)]
    #[schema(minimum = 0)]
    pub doses: Option<i64>,
}

/// What publishing did.
#[derive(Serialize, ToSchema)]
pub struct PublishedOut {
    /// Codes of the teams booked (new, and moved).
    pub booked: Vec<String>,
    /// Codes, before, of the published teams moved.
    pub moved: Vec<String>,
    /// Codes of the published teams cancelled.
    pub cancelled: Vec<String>,
    /// People the plan counted who were no longer waiting when it was published (booked
    /// otherwise meanwhile); their places stay free.
    pub gone: usize,
}

fn plan_out(p: &Proposal) -> PlanOut {
    let inst = &p.live.instance;
    let place = |x: &Option<Place>| {
        x.as_ref().map(|(site, d, k)| PlaceOut {
            site: site.clone(),
            date: inst.horizon.dates.get(*d).cloned().unwrap_or_default(),
            starts: hhmm(inst.slot_clock(*k)),
        })
    };
    let changes = |list: Vec<proposals::Change>| -> Vec<ChangeOut> {
        list.iter()
            .map(|c| ChangeOut {
                team: c.team.clone(),
                before: place(&c.before),
                after: place(&c.after),
            })
            .collect()
    };
    let placed: std::collections::HashSet<&str> =
        p.plan.assignments.iter().map(|a| a.team.as_str()).collect();
    PlanOut {
        id: p.id,
        version: p.version,
        status: p.status.clone(),
        teams: inst.teams.len(),
        placed: p.plan.assignments.len(),
        people: inst.teams.iter().map(|t| u64::from(t.size)).sum(),
        people_placed: (inst.teams.iter())
            .filter(|t| placed.contains(t.id.as_str()))
            .map(|t| u64::from(t.size))
            .sum(),
        valid: p.report.valid,
        violations: p.report.violations.clone(),
        locked: p.locked.iter().cloned().collect(),
        disruptions: (p.live.disruptions.iter())
            .map(|d| serde_json::to_value(d).unwrap_or_default())
            .collect(),
        changes: changes(p.changes()),
        booked_changes: changes(p.booked_changes()),
        plan: serde_json::to_value(&p.plan).unwrap_or_default(),
    }
}

/// A refusal as the API says it: 409 with a code, the field it is about, and the message.
fn conflict(lang: Lang, e: &ProposalError) -> Option<String> {
    let (code, field, message) = match e {
        ProposalError::Stale => ("stale", None, lang.t("plan.stale")),
        ProposalError::Move(m) => (
            "move_refused",
            Some(match m {
                MoveRefusal::UnknownTeam => "team",
                MoveRefusal::UnknownSite | MoveRefusal::NotServed => "site",
                MoveRefusal::DayNotAllowed | MoveRefusal::NoDoses { .. } => "date",
                _ => "starts",
            }),
            crate::messages::plan_move(lang, m),
        ),
        ProposalError::Disruption(d) => (
            "disruption_refused",
            Some("doses"),
            crate::messages::plan_disruption(lang, d),
        ),
        ProposalError::Changed(what) => {
            ("changed", None, lang.tf("plan.changed", &[("what", what)]))
        }
        ProposalError::NotPublished(np) => (
            "not_published",
            None,
            lang.tf(
                "plan.not_published",
                &[
                    ("team", &np.team),
                    ("reason", &crate::messages::booking(lang, &np.refusal)),
                ],
            ),
        ),
        _ => return None,
    };
    Some(super::kit::refused(StatusCode::CONFLICT, code, field, message).1)
}

#[utoipa::path(get, path = "/api/v1/plans/current", tag = "planning",
    responses((status = 200, body = PlanOut), (status = 404, body = ApiError), (status = 403, body = ApiError)))]
pub async fn current(State(state): State<AppState>, auth: AuthSession) -> AppResult<Json<PlanOut>> {
    let caller = who::caller(&auth, "/api/v1/plans/current");
    let p = proposals::current(&state.app, &caller)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(plan_out(&p)))
}

#[utoipa::path(get, path = "/api/v1/plans/{id}/instance", tag = "planning",
    params(("id" = i64, Path, description = "The proposal")),
    responses((status = 200, description = "The instance, in the vaxloop-instance/1 format"), (status = 404, body = ApiError), (status = 403, body = ApiError)))]
pub async fn instance(
    State(state): State<AppState>,
    auth: AuthSession,
    Path(super::kit::Id(id)): Path<super::kit::Id>,
) -> AppResult<Json<proposals::Instance>> {
    let caller = who::caller(&auth, "/api/v1/plans");
    let p = proposals::proposal(&state.app, &caller, id).await?;
    Ok(Json(p.live.instance))
}

#[utoipa::path(post, path = "/api/v1/plans", tag = "planning",
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = PlanOut), (status = 403, body = ApiError)))]
pub async fn create(
    State(state): State<AppState>,
    auth: AuthSession,
    headers: HeaderMap,
) -> AppResult<Response> {
    let (caller, user_id) = planner(&state, &auth).await?;
    super::kit::keyed(&state, user_id, &headers, "propose", async || {
        let (today, options) = (state.app.today(), proposals::desk_options());
        let p = proposals::propose(&state.app, &caller, today, options).await?;
        Ok((StatusCode::CREATED, body(&plan_out(&p))))
    })
    .await
}

/// The caller through `/api/v1/plans`, when they may plan, and their login's id (the
/// Idempotency-Key's owner); an audited denial otherwise.
async fn planner(state: &AppState, auth: &AuthSession) -> AppResult<(Caller, i64)> {
    let caller = who::caller(auth, "/api/v1/plans");
    proposals::may_plan(&state.app, &caller).await?;
    let user_id = vaxloop_app::scope::login(&caller)?.id;
    Ok((caller, user_id))
}

fn need<'a>(value: &'a Option<String>, field: &str) -> AppResult<&'a str> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| AppError::invalid(field, "plan.field_required"))
}

#[utoipa::path(post, path = "/api/v1/plans/{id}/actions", tag = "planning", request_body = ActionIn,
    params(("id" = i64, Path, description = "The proposal"),
           ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = PlanOut), (status = 201, body = PublishedOut, description = "Published"),
               (status = 409, body = ApiError), (status = 400, body = ApiError), (status = 403, body = ApiError)))]
pub async fn act(
    State(state): State<AppState>,
    auth: AuthSession,
    lang: Lang,
    headers: HeaderMap,
    Path(super::kit::Id(id)): Path<super::kit::Id>,
    Body(input): Body<ActionIn>,
) -> AppResult<Response> {
    let (caller, user_id) = planner(&state, &auth).await?;
    let request = format!("{id}:{}", body(&input));
    super::kit::keyed(&state, user_id, &headers, &request, async || {
        let (app, today, v) = (&state.app, state.app.today(), input.version);
        let (by, options) = (&caller, proposals::desk_options());
        let done = match input.action.as_str() {
            "lock" | "unlock" => {
                let team = need(&input.team, "team")?;
                proposals::set_lock(app, by, id, v, team, input.action == "lock").await
            }
            "move" => {
                let team = need(&input.team, "team")?;
                let site = need(&input.site, "site")?;
                let date = need(&input.date, "date")?;
                let starts = need(&input.starts, "starts")?;
                proposals::move_team_at(app, by, id, v, team, site, date, starts).await
            }
            "rerun" => proposals::rerun(app, by, id, v, options).await,
            "refresh" => proposals::refresh(app, by, id, v, today, options).await,
            "disrupt" | "undisrupt" => {
                let site = need(&input.site, "site")?.to_string();
                let day = need(&input.date, "date")?.to_string();
                if input.action == "undisrupt" {
                    proposals::undisrupt(app, by, id, v, today, &site, &day, options).await
                } else {
                    let d = match (need(&input.kind, "kind")?, input.doses) {
                        ("closed", _) => Disruption::Closed { site, day },
                        ("doses", Some(doses)) if doses >= 0 => {
                            Disruption::Doses { site, day, doses }
                        }
                        ("doses", _) => {
                            return Err(AppError::invalid("doses", "plan.doses_invalid"));
                        }
                        _ => {
                            return Err(AppError::invalid("kind", "plan.kind_invalid"));
                        }
                    };
                    proposals::disrupt(app, by, id, v, today, d, options).await
                }
            }
            "publish" => {
                return match proposals::publish_proposal(app, by, id, v).await {
                    Ok(done) => {
                        let out = PublishedOut {
                            booked: done
                                .booked
                                .iter()
                                .map(|(_, b)| b.team.code.clone())
                                .collect(),
                            moved: done.moved,
                            cancelled: done.cancelled,
                            gone: done.gone,
                        };
                        Ok((StatusCode::CREATED, body(&out)))
                    }
                    Err(e) => match conflict(lang, &e) {
                        Some(out) => Ok((StatusCode::CONFLICT, out)),
                        None => Err(e.into()),
                    },
                };
            }
            _ => {
                return Err(AppError::invalid("action", "plan.action_invalid"));
            }
        };
        match done {
            Ok(p) => Ok((StatusCode::OK, body(&plan_out(&p)))),
            Err(e) => match conflict(lang, &e) {
                Some(out) => Ok((StatusCode::CONFLICT, out)),
                None => Err(e.into()),
            },
        }
    })
    .await
}
