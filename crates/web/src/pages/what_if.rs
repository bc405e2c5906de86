//! A site's what-if (issue 7): its desks, space, service times and bookings as they are for a
//! shift, every one editable; the simulated day with its waits, queue peaks, desk use and
//! observation seats, a chart of the queues through the day, and the safe bookings per slot
//! for those desks and times. Service times measured at the site keep their shape when their
//! mean is changed. A GET form, so a what-if is a link that can be shared; nothing is stored.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use vaxloop_app::sites::Site;
use vaxloop_app::what_if::{
    self as what_ifs, Measured, Range, WhatIf, WhatIfOutcome, WhatIfRefusal, ranges, what_if_base,
};
use vaxloop_documents::chart::{Line, lines_svg};

use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::furniture::{Page, PageCtx, html};
use crate::i18n::Lang;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/sites/{code}/what-if", get(what_if))
        .route("/sites/{code}/what-if/chart.svg", get(chart))
}

/// One number of the form: its name, label, value as typed, and what is wrong with it.
pub struct Field {
    pub name: String,
    pub label: String,
    pub value: String,
    pub error: Option<String>,
}

pub struct StationFields {
    pub title: String,
    pub measured: Option<usize>,
    /// Desks, space and minutes per person.
    pub fields: Vec<Field>,
}

pub struct Row {
    pub name: String,
    pub desks: u32,
    pub wait_mean: String,
    pub wait_p95: String,
    pub queue_max: String,
    /// The most people at the station at once: queued, at a desk or waiting to move on.
    pub peak: String,
    pub busy: String,
}

pub struct Shown {
    /// The safe bookings per slot ("at least N" when the search reached its bound still safe).
    pub safe: String,
    pub safe_hint: String,
    pub people: String,
    pub total_wait: String,
    pub within_target: bool,
    pub time: String,
    pub seats: String,
    pub waited_for_seat: u64,
    pub rows: Vec<Row>,
}

#[derive(Template)]
#[template(path = "what_if/what_if.html")]
struct WhatIfPage {
    ctx: PageCtx,
    site: Site,
    afternoon: bool,
    stations: Vec<StationFields>,
    others: Vec<Field>,
    shown: Option<Shown>,
    /// Why the simulation was not run to the end (busy, too slow).
    refused: Option<String>,
    chart_src: String,
}

/// The station's name in the page's language.
fn station_label(lang: Lang, name: &str) -> String {
    let zone = if name == "checkin" { "waiting" } else { name };
    lang.t(&format!("zone.{zone}"))
}

/// The site as it is, for the shift asked for, and the form's edits on top of it.
struct Read {
    what_if: WhatIf,
    stations: Vec<StationFields>,
    others: Vec<Field>,
    valid: bool,
    measured: Measured,
    afternoon: bool,
}

/// The site with code `code`, for whoever may watch its day, as it is for the shift asked for,
/// with the form's edits on top.
async fn read(
    state: &AppState,
    page: &Page,
    code: &str,
    q: &HashMap<String, String>,
) -> AppResult<(Site, Read)> {
    let lang = page.lang;
    let afternoon = q.get("shift").is_some_and(|s| s == "pm");
    let (site, mut w, measured) = what_if_base(&state.app, &page.caller(), code, afternoon).await?;
    let mut valid = true;
    let mut number = |name: &str, label: String, default: f64, (min, max): Range| -> (f64, Field) {
        let typed = q
            .get(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty());
        let (value, error) = match &typed {
            None => (default, None),
            Some(text) => match text.parse::<f64>() {
                Ok(v) if v.is_finite() && (min..=max).contains(&v) => (v, None),
                _ => (
                    default,
                    Some(lang.tf(
                        "whatif.bad_number",
                        &[
                            ("field", label.as_str()),
                            ("min", &min.to_string()),
                            ("max", &max.to_string()),
                        ],
                    )),
                ),
            },
        };
        valid &= error.is_none();
        let field = Field {
            name: name.to_string(),
            value: typed.unwrap_or_else(|| trim_number(default)),
            label,
            error,
        };
        (value, field)
    };
    let mut stations = Vec::new();
    for st in &mut w.stations {
        let title = station_label(lang, &st.name);
        let measured_n = match st.name.as_str() {
            "screening" => Some(measured.screening.len()),
            "vaccination" => Some(measured.vaccination.len()),
            _ => None,
        }
        .filter(|n| *n >= 5);
        let name = st.name.clone();
        let (desks, desks_f) = number(
            &format!("desks_{name}"),
            format!("{title} · {}", lang.t("whatif.desks")),
            f64::from(st.desks),
            ranges::DESKS,
        );
        let (space, space_f) = number(
            &format!("space_{name}"),
            format!("{title} · {}", lang.t("whatif.space")),
            f64::from(st.space),
            ranges::SPACE,
        );
        let (minutes, minutes_f) = number(
            &format!("minutes_{name}"),
            format!("{title} · {}", lang.t("whatif.minutes")),
            st.minutes,
            ranges::MINUTES,
        );
        st.desks = desks.round() as u32;
        st.space = space.round() as u32;
        st.minutes = minutes;
        stations.push(StationFields {
            title,
            measured: measured_n,
            fields: vec![desks_f, space_f, minutes_f],
        });
    }
    let mut others = Vec::new();
    let mut other = |name: &str, default: f64, range: Range| -> f64 {
        let (v, f) = number(name, lang.t(&format!("whatif.{name}")), default, range);
        others.push(f);
        v
    };
    w.seats = other("seats", f64::from(w.seats), ranges::SEATS).round() as u32;
    w.observation_minutes = other(
        "observation_minutes",
        w.observation_minutes,
        ranges::OBSERVATION_MINUTES,
    );
    w.per_slot = other("per_slot", f64::from(w.per_slot), ranges::PER_SLOT).round() as u32;
    w.walk_in_percent = other("walk_in", w.walk_in_percent, ranges::WALK_IN);
    w.green_percent = other("green", w.green_percent, ranges::GREEN);
    w.no_show_percent = other("no_show", w.no_show_percent, ranges::NO_SHOW);
    w.target = other("target", w.target, ranges::TARGET);
    let read = Read {
        what_if: w,
        stations,
        others,
        valid,
        measured,
        afternoon,
    };
    Ok((site, read))
}

/// A number as a person would type it: no trailing zeros.
fn trim_number(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

async fn what_if(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    RawQuery(raw): RawQuery,
) -> AppResult<Html<String>> {
    let lang = page.lang;
    let (site, r) = read(&state, &page, &code, &q).await?;
    let (mut shown, mut refused) = (None, None);
    if r.valid {
        let (w, m) = (r.what_if.clone(), r.measured.clone());
        match what_ifs::run(&state.app, &page.caller(), w, m).await? {
            Ok(outcome) => shown = Some(self::shown(lang, &r.what_if, &outcome)),
            Err(refusal) => refused = Some(refusal_text(lang, refusal)),
        }
    }
    let chart_src = format!(
        "/sites/{}/what-if/chart.svg?{}",
        site.code,
        raw.unwrap_or_default()
    );
    html(&WhatIfPage {
        ctx: page.ctx("/site").await?,
        site,
        afternoon: r.afternoon,
        stations: r.stations,
        others: r.others,
        shown,
        refused,
        chart_src,
    })
}

/// Why the what-if was not answered, in the page's language.
fn refusal_text(lang: Lang, refusal: WhatIfRefusal) -> String {
    match refusal {
        WhatIfRefusal::Busy => lang.t("whatif.busy"),
        WhatIfRefusal::TimedOut => lang.tf(
            "whatif.timed_out",
            &[("seconds", &what_ifs::DEADLINE.as_secs().to_string())],
        ),
    }
}

fn shown(lang: Lang, w: &WhatIf, o: &WhatIfOutcome) -> Shown {
    let d = &o.day;
    let f1 = |x: f64| format!("{x:.1}");
    let limiting = o
        .limiting
        .as_deref()
        .map(|s| station_label(lang, s))
        .unwrap_or_else(|| "-".into());
    let observation = d.observation.as_ref();
    Shown {
        safe: if o.at_least {
            lang.tf("whatif.at_least", &[("n", &o.safe_per_slot.to_string())])
        } else {
            o.safe_per_slot.to_string()
        },
        safe_hint: lang.tf(
            "whatif.safe_hint",
            &[
                ("wait", &f1(o.safe_wait_p95)),
                ("target", &trim_number(w.target)),
                ("zone", &limiting),
            ],
        ),
        people: lang.tf(
            "whatif.people",
            &[
                ("arrived", &format!("{:.0}", d.arrived)),
                ("completed", &format!("{:.0}", d.completed)),
                ("left", &format!("{:.0}", d.left)),
            ],
        ),
        total_wait: lang.tf(
            "whatif.total_wait",
            &[
                ("mean", &f1(d.system.wait_mean)),
                ("p95", &f1(d.system.wait_p95)),
            ],
        ),
        within_target: d.system.wait_p95 <= w.target,
        time: lang.tf("whatif.time", &[("mean", &f1(d.system.time_mean))]),
        seats: lang.tf(
            "whatif.seats_peak",
            &[
                (
                    "peak",
                    &format!("{:.0}", observation.map_or(0.0, |x| x.peak)),
                ),
                (
                    "seats",
                    &observation
                        .and_then(|x| x.seats)
                        .map_or_else(|| "∞".to_string(), |s| s.to_string()),
                ),
            ],
        ),
        waited_for_seat: observation.map_or(0.0, |x| x.waited_for_seat).round() as u64,
        rows: d
            .stations
            .iter()
            .zip(&w.stations)
            .map(|(s, input)| Row {
                name: station_label(lang, &s.name),
                desks: input.desks,
                wait_mean: f1(s.wait_mean),
                wait_p95: f1(s.wait_p95),
                queue_max: format!("{:.0}", s.queue_max),
                peak: if input.space > 0 {
                    format!("{:.0} / {}", s.peak, input.space)
                } else {
                    format!("{:.0}", s.peak)
                },
                busy: format!("{:.0}%", 100.0 * s.busy_share),
            })
            .collect(),
    }
}

/// The queues through the simulated day (mean over replications, every 15 minutes) and the
/// observation area's occupancy.
async fn chart(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> AppResult<Response> {
    let lang = page.lang;
    let (_, r) = read(&state, &page, &code, &q).await?;
    if !r.valid {
        return Err(AppError::BadRequest {
            field: None,
            message: "whatif.fix_first".into(),
        });
    }
    let day = match what_ifs::day(&state.app, &page.caller(), r.what_if, r.measured).await? {
        Ok(day) => day,
        Err(refusal) => {
            let headers = [(header::RETRY_AFTER, "5")];
            let status = axum::http::StatusCode::SERVICE_UNAVAILABLE;
            return Ok((status, headers, refusal_text(lang, refusal)).into_response());
        }
    };
    const COLOURS: [(u8, u8, u8); 4] = [
        (0x1f, 0x5f, 0xa8),
        (0x0b, 0x6e, 0x4f),
        (0xb4, 0x5f, 0x06),
        (0x8e, 0x24, 0x4e),
    ];
    let mut lines = Vec::new();
    if let Some(t) = &day.timeline {
        for (i, (name, values)) in t.queues.iter().enumerate() {
            lines.push(Line {
                label: lang.tf(
                    "whatif.chart_queue",
                    &[("zone", &station_label(lang, name))],
                ),
                values: values.clone(),
                colour: COLOURS[i % 3],
            });
        }
        lines.push(Line {
            label: lang.t("zone.observation"),
            values: t.observation.clone(),
            colour: COLOURS[3],
        });
    }
    let svg = lines_svg(&lines, 15.0, &lang.t("whatif.hours"), 720, 320);
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "private, max-age=60"),
        ],
        svg,
    )
        .into_response())
}
