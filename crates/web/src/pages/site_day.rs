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
use vaxloop_app::site_day::{self, Board, Reconciliation, Site, Tally, TeamLine, Unit};
use vaxloop_documents::{Sheet, write_xlsx};

use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::furniture::{Page, PageCtx, html};
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
#[template(path = "site_day/board.html")]
struct BoardPage {
    ctx: PageCtx,
    site: Site,
    b: Board,
    at: String,
    /// Seconds between the board's refreshes.
    refresh: u32,
}

async fn board(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
) -> AppResult<Html<String>> {
    let now = vaxloop_app::now_ms();
    let (site, b) = site_day::live_board(&state.app, &page.caller(), &code, now).await?;
    html(&BoardPage {
        ctx: page.ctx("/site").await?,
        site,
        b,
        at: state.config.local_hhmm(now),
        refresh: state.config.refresh_seconds.max(1),
    })
}

#[derive(Template)]
#[template(path = "site_day/site_day.html")]
struct DayPage {
    ctx: PageCtx,
    site: Site,
    day: String,
    r: Reconciliation,
    closed_at: String,
    can_close: bool,
    /// What closing the day now would do, asked before it is done.
    close_confirm: String,
    notice: Option<String>,
}

/// The question asked before a day is closed: what it does to whom, that it cannot be undone,
/// and whether the site is still open by its slots.
fn close_question(lang: Lang, state: &AppState, site: &Site, r: &Reconciliation) -> String {
    use chrono::Timelike;
    let now = chrono::Utc::now()
        .with_timezone(&state.config.timezone)
        .time();
    let minute = i64::from(now.hour() * 60 + now.minute());
    let when = match r.hours {
        Some((opens, _)) if minute < opens => lang.tf(
            "day.confirm_not_open",
            &[("time", &vaxloop_core::hhmm(opens))],
        ),
        Some((_, closes)) if minute < closes => lang.tf(
            "day.confirm_still_open",
            &[("time", &vaxloop_core::hhmm(closes))],
        ),
        _ => String::new(),
    };
    lang.tf(
        "day.confirm_close",
        &[
            ("site", &site.name),
            ("when", &when),
            ("expected", &r.total.expected.to_string()),
            ("in_progress", &r.total.in_progress.to_string()),
        ],
    )
}

async fn day(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
    Query(q): Query<DayQuery>,
) -> AppResult<Html<String>> {
    let date = day_of(&state, &q)?;
    let (site, r, can_close) = site_day::site_day(&state.app, &page.caller(), &code, date).await?;
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
    let close_confirm = close_question(page.lang, &state, &site, &r);
    html(&DayPage {
        ctx: page.ctx("/site").await?,
        can_close,
        close_confirm,
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
    // Closed now, or closed already: either way the day's page says where it stands.
    let today = state.app.today();
    let _closed_or_not = site_day::close(&state.app, &page.caller(), &code, today).await?;
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

async fn day_xlsx(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
    Query(q): Query<DayQuery>,
) -> AppResult<Response> {
    let date = day_of(&state, &q)?;
    let (site, r) = site_day::site_day_export(&state.app, &page.caller(), &code, date).await?;
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
                l.vaccine_name.clone(),
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
    let sheets = [
        sheet_of(&lang.t("day.site"), &site_head, vec![site_row]),
        team_sheet(lang, &r.teams),
        sheet_of(&lang.t("day.units"), &unit_head, unit_rows),
        sheet_of(&lang.t("day.lots"), &lot_head, lot_rows),
    ];
    xlsx_response(&sheets, &format!("{}-{date}.xlsx", site.code))
}

#[derive(Template)]
#[template(path = "site_day/unit_day.html")]
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
    let date = day_of(&state, &q)?;
    let (unit, teams, total) =
        site_day::unit_teams(&state.app, &page.caller(), &code, date).await?;
    let role = page.caller().role();
    html(&UnitDayPage {
        ctx: page.ctx(role.map_or("/", crate::furniture::home)).await?,
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
    let date = day_of(&state, &q)?;
    let (unit, teams) =
        site_day::unit_teams_export(&state.app, &page.caller(), &code, date).await?;
    xlsx_response(
        &[team_sheet(page.lang, &teams)],
        &format!("{}-{date}.xlsx", unit.code),
    )
}
