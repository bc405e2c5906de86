//! A site's day for its manager: the live board (queues and waits, the last half hour, seats,
//! doses per lot, every team by its colour label; it refreshes itself), and the end-of-day
//! reconciliation per team, unit, lot and site, with the close of the day and an XLSX export.
//! A unit's contact sees the same lines for their own teams.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::NaiveDate;
use serde::Deserialize;
use vaxloop_app::site_day::{self, Board, Reconciliation, Tally, TeamLine};
use vaxloop_core::SitePost;
use vaxloop_documents::{Sheet, write_xlsx};
use vaxloop_store::audit::{self, Entry, Outcome};
use vaxloop_store::org::{self, Unit};
use vaxloop_store::sites::Site;
use vaxloop_store::users::User;

use super::{Page, PageCtx, html};
use crate::AppState;
use crate::access::{self, can_see_unit, deny};
use crate::error::{AppError, AppResult};
use crate::i18n::Lang;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/sites/{code}/board", get(board))
        .route("/sites/{code}/day", get(day))
        .route("/sites/{code}/day.xlsx", get(day_xlsx))
        .route("/sites/{code}/day/close", post(close))
        .route("/units/{code}/day", get(unit_day))
        .route("/units/{code}/day.xlsx", get(unit_day_xlsx))
}

#[derive(Deserialize, Default)]
struct DayQuery {
    day: Option<String>,
    done: Option<String>,
}

/// The day asked for (`YYYY-MM-DD`), today when none is; a malformed one is refused.
fn day_of(state: &AppState, q: &DayQuery) -> AppResult<NaiveDate> {
    match q.day.as_deref().filter(|d| !d.is_empty()) {
        None => Ok(state.config.today()),
        Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| AppError::BadRequest {
            field: Some("day".into()),
            message: "day.bad_day".into(),
        }),
    }
}

#[derive(Template)]
#[template(path = "board.html")]
struct BoardPage {
    ctx: PageCtx,
    site: Site,
    b: Board,
    at: String,
}

async fn board(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
) -> AppResult<Html<String>> {
    let user = access::user(&page.auth)?;
    let site = access::watched_site(&state, user, &code, &format!("/sites/{code}/board")).await?;
    let now = vaxloop_store::now_ms();
    let tz = state.config.timezone;
    let b = site_day::board(&state.db, tz, site.id, state.config.today(), now).await?;
    html(&BoardPage {
        ctx: page.ctx("/site").await?,
        site,
        b,
        at: state.config.local_hhmm(now),
    })
}

#[derive(Template)]
#[template(path = "site_day.html")]
struct DayPage {
    ctx: PageCtx,
    site: Site,
    day: String,
    r: Reconciliation,
    closed_at: String,
    can_close: bool,
    notice: Option<String>,
}

async fn day(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
    Query(q): Query<DayQuery>,
) -> AppResult<Html<String>> {
    let user = access::user(&page.auth)?;
    let site = access::watched_site(&state, user, &code, &format!("/sites/{code}/day")).await?;
    let date = day_of(&state, &q)?;
    let r = site_day::reconcile(&state.db, state.config.timezone, site.id, date).await?;
    let closed_at = r
        .closed
        .as_ref()
        .map(|c| state.config.local_time(c.0))
        .unwrap_or_default();
    let notice = q
        .done
        .as_deref()
        .filter(|d| *d == "closed")
        .map(|_| page.lang.t("day.done_closed"));
    html(&DayPage {
        ctx: page.ctx("/site").await?,
        can_close: access::works_at(user, site.id, SitePost::Manager)
            && date == state.config.today(),
        site,
        day: date.to_string(),
        r,
        closed_at,
        notice,
    })
}

async fn close(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
) -> AppResult<Response> {
    let user = access::user(&page.auth)?;
    let path = format!("/sites/{code}/day/close");
    let site = access::station(&state, user, &code, SitePost::Manager, &path).await?;
    let today = state.config.today();
    let done = site_day::close_day(&state.db, site.id, today, Some(user.id)).await?;
    let target = format!("site:{}:{today}", site.code);
    let detail = done
        .as_ref()
        .map(|s| serde_json::to_string(s).unwrap_or_default());
    let entry = Entry {
        actor_user_id: Some(user.id),
        action: "site.close_day",
        target: &target,
        reason: None,
        outcome: if done.is_some() {
            Outcome::Ok
        } else {
            Outcome::Failed
        },
        detail: detail.as_deref(),
    };
    audit::record(&state.db, &entry, vaxloop_store::now_ms()).await?;
    Ok(Redirect::to(&format!("/sites/{code}/day?done=closed")).into_response())
}

/// The headers of a tally's columns, in the reader's language.
fn tally_headers(lang: Lang) -> Vec<String> {
    [
        "booked",
        "arrived",
        "vaccinated",
        "deferred",
        "left",
        "no_show",
        "in_progress",
        "expected",
    ]
    .iter()
    .map(|k| lang.t(&format!("day.col.{k}")))
    .collect()
}

fn tally_cells(t: &Tally) -> Vec<String> {
    [
        t.booked,
        t.arrived,
        t.vaccinated,
        t.deferred,
        t.left,
        t.no_show,
        t.in_progress,
        t.expected,
    ]
    .iter()
    .map(i64::to_string)
    .collect()
}

fn sheet_of(name: &str, first: &[String], rows: Vec<Vec<String>>) -> Sheet {
    let headers: Vec<&str> = first.iter().map(String::as_str).collect();
    let mut sheet = Sheet::new(name, &headers);
    for row in rows {
        sheet.push(row);
    }
    sheet
}

fn team_sheet(lang: Lang, teams: &[TeamLine]) -> Sheet {
    let mut head = vec![
        lang.t("day.col.team"),
        lang.t("day.col.code"),
        lang.t("col.unit"),
    ];
    head.extend(tally_headers(lang));
    let rows = teams
        .iter()
        .map(|t| {
            let label = if lang == Lang::En {
                &t.label_en
            } else {
                &t.label_zh
            };
            let mut row = vec![label.clone(), t.code.clone(), t.unit_name.clone()];
            row.extend(tally_cells(&t.tally));
            row
        })
        .collect();
    sheet_of(&lang.t("day.teams"), &head, rows)
}

fn xlsx_response(sheets: &[Sheet], file: &str) -> AppResult<Response> {
    let bytes = write_xlsx(sheets).map_err(|e| AppError::Internal(anyhow::anyhow!("xlsx: {e}")))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

async fn audit_export(state: &AppState, user: &User, target: &str, rows: usize) -> AppResult<()> {
    let detail = format!("rows={rows} format=xlsx");
    let entry = Entry {
        actor_user_id: Some(user.id),
        action: "export",
        target,
        reason: None,
        outcome: Outcome::Ok,
        detail: Some(&detail),
    };
    audit::record(&state.db, &entry, vaxloop_store::now_ms()).await?;
    Ok(())
}

async fn day_xlsx(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
    Query(q): Query<DayQuery>,
) -> AppResult<Response> {
    let user = access::user(&page.auth)?;
    let site =
        access::watched_site(&state, user, &code, &format!("/sites/{code}/day.xlsx")).await?;
    let date = day_of(&state, &q)?;
    let r = site_day::reconcile(&state.db, state.config.timezone, site.id, date).await?;
    let lang = page.lang;
    let mut unit_head = vec![lang.t("day.col.code"), lang.t("col.unit")];
    unit_head.extend(tally_headers(lang));
    let unit_rows: Vec<Vec<String>> = r
        .units
        .iter()
        .map(|u| {
            let mut row = vec![u.code.clone(), u.name.clone()];
            row.extend(tally_cells(&u.tally));
            row
        })
        .collect();
    let lot_head: Vec<String> = [
        "vaccine",
        "lot",
        "expires",
        "received",
        "administered",
        "wasted",
        "vial_waste",
        "transferred_out",
        "corrections",
        "remaining",
        "in_open_vials",
        "administered_today",
        "wasted_today",
        "balanced",
    ]
    .iter()
    .map(|k| lang.t(&format!("day.lot.{k}")))
    .collect();
    let lot_rows: Vec<Vec<String>> = r
        .lots
        .iter()
        .map(|l| {
            let mut row = vec![
                l.vaccine_code.clone(),
                l.lot_number.clone(),
                l.expires_on.clone(),
            ];
            row.extend(
                [
                    l.received,
                    l.administered,
                    l.wasted,
                    l.vial_waste,
                    l.transferred_out,
                    l.corrections,
                    l.remaining,
                    l.in_open_vials,
                    l.administered_today,
                    l.wasted_today,
                ]
                .iter()
                .map(i64::to_string),
            );
            row.push(lang.t(if l.balanced() { "day.yes" } else { "day.no" }));
            row
        })
        .collect();
    let mut site_head = vec![lang.t("day.col.site"), lang.t("day.col.day")];
    site_head.extend(tally_headers(lang));
    let mut site_row = vec![site.name.clone(), date.to_string()];
    site_row.extend(tally_cells(&r.total));
    let rows = r.teams.len() + r.units.len() + r.lots.len() + 1;
    let sheets = [
        sheet_of(&lang.t("day.site"), &site_head, vec![site_row]),
        team_sheet(lang, &r.teams),
        sheet_of(&lang.t("day.units"), &unit_head, unit_rows),
        sheet_of(&lang.t("day.lots"), &lot_head, lot_rows),
    ];
    audit_export(&state, user, &format!("site:{}:{date}", site.code), rows).await?;
    xlsx_response(&sheets, &format!("{}-{date}.xlsx", site.code))
}

/// The unit, when the caller may see it (its contact, its group's leader, the desk, the admin).
async fn seen_unit(state: &AppState, user: &User, code: &str, path: &str) -> AppResult<Unit> {
    let unit = org::unit_by_code(&state.db, code).await?;
    match unit.filter(|u| can_see_unit(user, u)) {
        Some(u) => Ok(u),
        None => Err(deny(state, Some(user), path).await),
    }
}

#[derive(Template)]
#[template(path = "unit_day.html")]
struct UnitDayPage {
    ctx: PageCtx,
    unit: Unit,
    day: String,
    teams: Vec<TeamLine>,
    total: Tally,
}

async fn unit_day(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
    Query(q): Query<DayQuery>,
) -> AppResult<Html<String>> {
    let user = access::user(&page.auth)?;
    let unit = seen_unit(&state, user, &code, &format!("/units/{code}/day")).await?;
    let date = day_of(&state, &q)?;
    let (teams, total) = site_day::unit_day(&state.db, unit.id, date).await?;
    html(&UnitDayPage {
        ctx: page.ctx(access::home(user.role)).await?,
        unit,
        day: date.to_string(),
        teams,
        total,
    })
}

async fn unit_day_xlsx(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
    Query(q): Query<DayQuery>,
) -> AppResult<Response> {
    let user = access::user(&page.auth)?;
    let unit = seen_unit(&state, user, &code, &format!("/units/{code}/day.xlsx")).await?;
    let date = day_of(&state, &q)?;
    let (teams, _) = site_day::unit_day(&state.db, unit.id, date).await?;
    let target = format!("unit:{}:{date}", unit.code);
    audit_export(&state, user, &target, teams.len()).await?;
    xlsx_response(
        &[team_sheet(page.lang, &teams)],
        &format!("{}-{date}.xlsx", unit.code),
    )
}
