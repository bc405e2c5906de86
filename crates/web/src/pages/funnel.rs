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
use vaxloop_app::funnel::{self, Stuck, Totals, UnitFunnel};
use vaxloop_app::org::WorkGroup;
use vaxloop_documents::chart::{Bar, funnel_svg};

use crate::AppState;
use crate::error::AppResult;
use crate::furniture::{Page, PageCtx, html};
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

/// A row of the group table.
struct GroupRow {
    group: WorkGroup,
    totals: Totals,
}

#[derive(Template)]
#[template(path = "funnel/funnel.html")]
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
    /// When the figures were counted.
    counted: String,
}

/// "Figures as counted at HH:MM:SS", and how often they are counted again (see
/// `vaxloop_app::kept`).
pub(crate) fn counted_note(state: &AppState, lang: Lang, at_ms: i64) -> String {
    let at = state.config.local_clock(at_ms);
    let mut note = lang.tf("common.counted_at", &[("at", &at)]);
    if state.config.count_seconds > 0 {
        let every = state.config.count_seconds.to_string();
        note.push_str(&lang.tf("common.counted_every", &[("s", &every)]));
    }
    note
}

/// How many stuck people the page lists.
const STUCK_SHOWN: i64 = 50;

async fn page(
    State(state): State<AppState>,
    page: Page,
    Query(q): Query<Scope>,
) -> AppResult<Html<String>> {
    let caller = page.caller();
    let group = q.group.as_deref();
    let f = funnel::funnel(&state.app, &caller, group).await?;
    let threshold = q.threshold.unwrap_or(60).clamp(1, 100);
    let group_rows = (f.by_group().into_iter())
        .map(|(group, totals)| GroupRow { group, totals })
        .collect();
    let lagging = f.lagging(threshold);
    let chart_query = (f.chosen.as_ref())
        .map(|g| format!("?group={}", g.code))
        .unwrap_or_default();
    let (stuck, stuck_total) = funnel::stuck(&state.app, &caller, group, STUCK_SHOWN).await?;
    let stuck = stuck
        .into_iter()
        .map(|s| {
            let key = format!("journey.{}", s.state);
            let since = state.config.local_time(s.since);
            (s, key, since)
        })
        .collect();
    let counted = counted_note(&state, page.lang, f.counted_at);
    let (chosen, groups, units, totals) = (f.chosen, f.groups, f.units, f.totals);
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
        counted,
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
    let f = funnel::funnel(&state.app, &page.caller(), q.group.as_deref()).await?;
    let svg = funnel_svg(&bars(page.lang, &f.totals), 560);
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        svg,
    )
        .into_response())
}
