//! The closed-loop funnel (漏斗) for work-group leaders and the town: per group and per unit,
//! target → registered (by QR code, by roster import, at a desk) → booked → arrived → vaccinated
//! → series complete, a server-drawn chart, the units that lag behind, each a click from its
//! list, and the people stuck in a state longer than expected.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use vaxloop_core::Role;
use vaxloop_documents::chart::{Bar, funnel_svg};
use vaxloop_store::funnel::{self, Stuck, UnitFunnel};
use vaxloop_store::org::{self, WorkGroup};

use super::{Page, PageCtx, html};
use crate::AppState;
use crate::access::{deny, require};
use crate::error::AppResult;
use crate::i18n::Lang;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/funnel", get(page))
        .route("/funnel/chart.svg", get(chart))
}

#[derive(Deserialize, Default)]
struct Scope {
    group: Option<String>,
    threshold: Option<i64>,
}

/// Totals of a set of units.
#[derive(Debug, Clone, Default)]
struct Totals {
    target: i64,
    by_qr: i64,
    by_import: i64,
    by_desk: i64,
    pending: i64,
    booked: i64,
    arrived: i64,
    vaccinated: i64,
    complete: i64,
}

impl Totals {
    fn of<'a>(units: impl IntoIterator<Item = &'a UnitFunnel>) -> Self {
        units.into_iter().fold(Totals::default(), |mut t, u| {
            t.target += u.target;
            t.by_qr += u.by_qr;
            t.by_import += u.by_import;
            t.by_desk += u.by_desk;
            t.pending += u.pending;
            t.booked += u.booked;
            t.arrived += u.arrived;
            t.vaccinated += u.vaccinated;
            t.complete += u.complete;
            t
        })
    }

    fn registered(&self) -> i64 {
        self.by_qr + self.by_import + self.by_desk
    }
}

/// Resolves the scope the caller asked for against what they may see: a leader always gets
/// their own group; the admin and the desk any group, or the whole town.
async fn scope(
    state: &AppState,
    page: &Page,
    q: &Scope,
    what: &str,
) -> AppResult<(Option<WorkGroup>, Vec<WorkGroup>)> {
    let user = require(
        state,
        &page.auth,
        &[Role::Admin, Role::Desk, Role::GroupLeader],
        what,
    )
    .await?;
    let groups = org::work_groups(&state.db).await?;
    if user.role == Role::GroupLeader {
        let own = groups
            .iter()
            .find(|g| Some(g.id) == user.work_group_id)
            .cloned();
        if q.group
            .as_ref()
            .is_some_and(|c| own.as_ref().is_none_or(|g| &g.code != c))
        {
            return Err(deny(
                state,
                Some(user),
                &format!("{what}?group={}", q.group.clone().unwrap_or_default()),
            )
            .await);
        }
        return Ok((own.clone(), own.into_iter().collect()));
    }
    let chosen = q
        .group
        .as_ref()
        .and_then(|c| groups.iter().find(|g| &g.code == c).cloned());
    Ok((chosen, groups))
}

/// A row of the group table.
struct GroupRow {
    group: WorkGroup,
    totals: Totals,
}

#[derive(Template)]
#[template(path = "funnel.html")]
struct FunnelPage {
    ctx: PageCtx,
    chosen: Option<WorkGroup>,
    groups: Vec<WorkGroup>,
    group_rows: Vec<GroupRow>,
    totals: Totals,
    units: Vec<UnitFunnel>,
    lagging: Vec<UnitFunnel>,
    threshold: i64,
    chart_query: String,
    /// `(stuck, state key, since)`, the longest first.
    stuck: Vec<(Stuck, String, String)>,
    stuck_total: i64,
}

/// How many stuck people the page lists.
const STUCK_SHOWN: i64 = 50;

async fn page(
    State(state): State<AppState>,
    page: Page,
    Query(q): Query<Scope>,
) -> AppResult<Html<String>> {
    let (chosen, groups) = scope(&state, &page, &q, "/funnel").await?;
    let units = funnel::by_unit(&state.db, chosen.as_ref().map(|g| g.id)).await?;
    let threshold = q.threshold.unwrap_or(60).clamp(1, 100);
    let group_rows = if chosen.is_none() {
        groups
            .iter()
            .map(|g| GroupRow {
                group: g.clone(),
                totals: Totals::of(units.iter().filter(|u| u.work_group_id == g.id)),
            })
            .collect()
    } else {
        vec![]
    };
    let mut lagging: Vec<UnitFunnel> = units
        .iter()
        .filter(|u| u.target > 0 && u.registered() * 100 < threshold * u.target)
        .cloned()
        .collect();
    lagging.sort_by(|a, b| {
        (a.registered() * b.target)
            .cmp(&(b.registered() * a.target))
            .then(a.code.cmp(&b.code))
    });
    let totals = Totals::of(&units);
    let chart_query = chosen
        .as_ref()
        .map(|g| format!("?group={}", g.code))
        .unwrap_or_default();
    let now = vaxloop_store::now_ms();
    let today = state.config.today().to_string();
    let group = chosen.as_ref().map(|g| g.id);
    let (stuck, stuck_total) = funnel::stuck(&state.db, group, now, &today, STUCK_SHOWN).await?;
    let stuck = stuck
        .into_iter()
        .map(|s| {
            let key = format!("journey.{}", s.state);
            let since = state.config.local_time(s.since);
            (s, key, since)
        })
        .collect();
    let ctx = page.ctx("/funnel").await?;
    html(&FunnelPage {
        ctx,
        chosen,
        groups,
        group_rows,
        totals,
        units,
        lagging,
        threshold,
        chart_query,
        stuck,
        stuck_total,
    })
}

fn bars(lang: Lang, t: &Totals) -> Vec<Bar> {
    vec![
        Bar {
            label: lang.t("funnel.target"),
            value: t.target,
            colour: (0x9a, 0xa5, 0xb1),
        },
        Bar {
            label: lang.t("funnel.registered"),
            value: t.registered(),
            colour: (0x0b, 0x6e, 0x4f),
        },
        Bar {
            label: lang.t("funnel.booked"),
            value: t.booked,
            colour: (0x2f, 0x80, 0xc0),
        },
        Bar {
            label: lang.t("funnel.arrived"),
            value: t.arrived,
            colour: (0x1f, 0x9a, 0xa8),
        },
        Bar {
            label: lang.t("funnel.vaccinated"),
            value: t.vaccinated,
            colour: (0x7b, 0x4f, 0xb8),
        },
        Bar {
            label: lang.t("funnel.complete"),
            value: t.complete,
            colour: (0x4a, 0x2d, 0x7a),
        },
    ]
}

async fn chart(
    State(state): State<AppState>,
    page: Page,
    Query(q): Query<Scope>,
) -> AppResult<Response> {
    let (chosen, _) = scope(&state, &page, &q, "/funnel/chart.svg").await?;
    let units = funnel::by_unit(&state.db, chosen.as_ref().map(|g| g.id)).await?;
    let svg = funnel_svg(&bars(page.lang, &Totals::of(&units)), 560);
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        svg,
    )
        .into_response())
}
