//! One team's page for the desk — what it is and what may be done with it (move it, print its
//! papers, cancel it) — opened from the desk's list only when needed, and the start choices of a
//! site-day that the desk's forms load as the site or day changes.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Html;
use axum::routing::get;
use serde::Deserialize;
use vaxloop_app::admin::{self, TeamRow};
use vaxloop_app::sites::Site;

use crate::AppState;
use crate::error::AppResult;
use crate::furniture::{Page, PageCtx, html};
use crate::i18n::Lang;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/desk/teams/{code}", get(team))
        .route("/desk/starts", get(starts))
}

/// A site-day's slots as the choices of a team's first slot: `(HH:MM, "HH:MM–HH:MM · N free")`,
/// the full ones said so.
pub fn start_choices(lang: Lang, slots: &[(i64, i64, i64)]) -> Vec<(String, String)> {
    slots
        .iter()
        .map(|&(starts, ends, free)| {
            let at = vaxloop_core::hhmm(starts);
            let room = if free > 0 {
                lang.tf("book.free", &[("n", &free.to_string())])
            } else {
                lang.t("book.full")
            };
            let label = format!("{at}–{} · {room}", vaxloop_core::hhmm(ends));
            (at, label)
        })
        .collect()
}

#[derive(Template)]
#[template(path = "admin/desk_team.html")]
struct TeamPage {
    ctx: PageCtx,
    team: TeamRow,
    label: String,
    starts: String,
    sites: Vec<Site>,
    days: Vec<String>,
    /// The start choices of the team's own site-day.
    choices: Vec<(String, String)>,
    /// What cancelling it does, asked before it is done.
    confirm: String,
}

async fn team(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
) -> AppResult<Html<String>> {
    let caller = page.caller();
    let t = admin::desk_team(&state.app, &caller, &code).await?;
    let site_code = t
        .sites
        .iter()
        .find(|s| s.id == t.team.site_id)
        .map(|s| s.code.clone())
        .unwrap_or_default();
    let slots = admin::slot_starts(&state.app, &caller, &site_code, &t.team.day).await?;
    let label = vaxloop_core::Label::from_stored(t.team.colour, t.team.number);
    let starts = t
        .team
        .starts_min
        .map(vaxloop_core::hhmm)
        .unwrap_or_default();
    let what = format!(
        "{} · {} · {} {} {starts}",
        t.team.code,
        t.team.unit_name,
        t.team.site_code,
        page.lang.day(&t.team.day)
    );
    let confirm = page.lang.tf(
        "desk.cancel_confirm",
        &[("what", &what), ("n", &t.team.active.to_string())],
    );
    html(&TeamPage {
        ctx: page.ctx("/desk").await?,
        label: if page.lang == Lang::En {
            label.en()
        } else {
            label.zh()
        },
        starts,
        confirm,
        choices: start_choices(page.lang, &slots),
        team: t.team,
        sites: t.sites,
        days: t.days,
    })
}

#[derive(Deserialize)]
struct StartsQuery {
    #[serde(default)]
    site: String,
    #[serde(default)]
    day: String,
    /// The start to keep chosen, `HH:MM`.
    #[serde(default)]
    start: String,
}

#[derive(Template)]
#[template(path = "admin/starts.html")]
struct Starts {
    choices: Vec<(String, String)>,
    chosen: String,
    none: String,
}

/// The `<option>`s of a site-day's starts, for the select the desk's forms refresh.
async fn starts(
    State(state): State<AppState>,
    page: Page,
    Query(q): Query<StartsQuery>,
) -> AppResult<Html<String>> {
    let slots = admin::slot_starts(&state.app, &page.caller(), &q.site, &q.day).await?;
    html(&Starts {
        choices: start_choices(page.lang, &slots),
        chosen: q.start,
        none: page.lang.t("desk.no_slots_that_day"),
    })
}
