//! The desk benchmark: the demo town (250,000 people by default, `--people`), a new proposal
//! for the next three days made and published as the desk's page does it (through the same use
//! cases, with the desk's login), then the pages and the API the issue names fetched through the
//! real router with the desk's session, each [`REPEATS`] times: the median time, the first
//! fetch's (which makes the counts the later ones find kept, see `vaxloop_app::kept`) and the
//! size of each. The last line is one JSON object.
//!
//! Targets (issue 18): `/desk` and the plan page ≤ 300 ms and ≤ 150 KB with the published teams;
//! a new proposal ≤ 3 s; publishing ≤ 2 s; the overview, the funnel and the work-group API
//! ≤ 100 ms.

use std::time::Instant;

use anyhow::{Context, bail};
use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use tower::ServiceExt;
use vaxloop_store::{DatabaseUrl, Db, PiiCipher, PiiKey};
use vaxloop_web::{AppState, WebConfig};

/// Fetches of each page; the median is reported.
const REPEATS: usize = 7;

/// The pages and API answers measured, with the login that asks.
const PAGES: &[(&str, &str)] = &[
    ("desk", "/desk"),
    ("desk", "/desk/plan"),
    ("admin", "/admin"),
    ("desk", "/funnel"),
    ("desk", "/api/v1/work-groups"),
];

pub fn main(args: &[String]) -> anyhow::Result<()> {
    let urls: Vec<&String> = args.iter().take_while(|a| !a.starts_with("--")).collect();
    if urls.is_empty() {
        bail!("usage: vaxloop-bench desk DATABASE_URL… [--people N]");
    }
    let people: usize = crate::args::flag(args, "--people", 250_000)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut results = Vec::new();
    for url in urls {
        results.push(runtime.block_on(run(url, people))?);
    }
    println!(
        "{}",
        serde_json::json!({ "bench": "desk", "people": people, "runs": results })
    );
    Ok(())
}

async fn run(url: &str, people: usize) -> anyhow::Result<serde_json::Value> {
    let url: DatabaseUrl = url.parse()?;
    let db = Db::connect(&url).await?;
    db.migrate().await?;
    let backend = db.backend().as_str();
    let cipher = PiiCipher::new(&PiiKey::generate());
    let config = WebConfig::default();
    let today = config.today();
    eprintln!("{backend}: building the demo town ({people} people)…");
    let town = vaxloop_demo::generate(&vaxloop_demo::TownSpec {
        people,
        seed: 2021,
        today,
    });
    let stored = vaxloop_demo::store(&db, &cipher, &town).await?;
    eprintln!("  stored in {:.1} s", stored.seconds);
    let state = AppState::new(db.clone(), cipher, config);
    let app = vaxloop_web::router(state.clone());

    // The desk proposes and publishes, as its page does.
    let desk = vaxloop_store::users::by_username(&db, "desk")
        .await?
        .context("the demo's desk login")?;
    let caller = vaxloop_app::Caller::login(vaxloop_app::Actor::from(&desk), "/bench/desk");
    let start = Instant::now();
    let proposal = vaxloop_app::proposals::propose(
        &state.app,
        &caller,
        today,
        vaxloop_app::proposals::desk_options(),
    )
    .await
    .map_err(|e| anyhow::anyhow!("propose: {e}"))?;
    let propose_s = start.elapsed().as_secs_f64();
    let teams = proposal.plan.assignments.len();
    let start = Instant::now();
    let published = vaxloop_app::proposals::publish_proposal(
        &state.app,
        &caller,
        proposal.id,
        proposal.version,
    )
    .await
    .map_err(|e| anyhow::anyhow!("publish: {e}"))?;
    let publish_s = start.elapsed().as_secs_f64();
    eprintln!(
        "  proposal of {teams} teams in {propose_s:.2} s, published ({} teams) in {publish_s:.2} s",
        published.booked.len()
    );

    let desk = log_in(&app, "desk", vaxloop_demo::DEMO_PASSWORD).await?;
    let admin = log_in(&app, "admin", vaxloop_demo::DEMO_PASSWORD).await?;
    let mut pages = serde_json::Map::new();
    for (login, path) in PAGES {
        let cookies = if *login == "admin" { &admin } else { &desk };
        let mut times = Vec::with_capacity(REPEATS);
        let mut bytes = 0;
        for repeat in 0..REPEATS {
            let start = Instant::now();
            let (status, body) = get(&app, path, cookies).await?;
            times.push(start.elapsed().as_secs_f64() * 1000.0);
            if status != StatusCode::OK {
                bail!("{path}: {status}");
            }
            bytes = body.len();
            if let Some(dir) = std::env::var_os("BENCH_KEEP_PAGES").filter(|_| repeat == 0) {
                let name = path.trim_start_matches('/').replace('/', "_");
                std::fs::write(
                    std::path::Path::new(&dir).join(format!("{name}.html")),
                    &body,
                )?;
            }
        }
        // The first fetch counts what the later ones find kept (see vaxloop_app::kept).
        let first = times[0];
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        eprintln!(
            "  {path}: {median:.0} ms (first {first:.0} ms), {:.0} KB",
            bytes as f64 / 1024.0
        );
        pages.insert(
            (*path).into(),
            serde_json::json!({
                "median_ms": (median * 10.0).round() / 10.0,
                "first_ms": (first * 10.0).round() / 10.0,
                "bytes": bytes,
            }),
        );
    }
    db.close().await;
    Ok(serde_json::json!({
        "backend": backend,
        "people": stored.people,
        "proposal_s": (propose_s * 100.0).round() / 100.0,
        "proposal_teams": teams,
        "publish_s": (publish_s * 100.0).round() / 100.0,
        "published_teams": published.booked.len(),
        "pages": pages,
    }))
}

/// The cookies a response sets, as a `Cookie` header's value, added to `jar`.
fn keep_cookies(jar: &mut Vec<(String, String)>, headers: &axum::http::HeaderMap) {
    for set in headers.get_all(header::SET_COOKIE) {
        let Some((name, value)) = set
            .to_str()
            .ok()
            .and_then(|v| v.split(';').next())
            .and_then(|kv| kv.split_once('='))
        else {
            continue;
        };
        jar.retain(|(n, _)| n != name);
        jar.push((name.to_string(), value.to_string()));
    }
}

fn cookie_header(jar: &[(String, String)]) -> String {
    jar.iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Logs `login` in through the login form: the session's cookies.
async fn log_in(
    app: &Router,
    login: &str,
    password: &str,
) -> anyhow::Result<Vec<(String, String)>> {
    let mut jar = Vec::new();
    let page = app
        .clone()
        .oneshot(Request::get("/login").body(Body::empty())?)
        .await?;
    keep_cookies(&mut jar, page.headers());
    let body = String::from_utf8(to_bytes(page.into_body(), 1 << 20).await?.to_vec())?;
    let marker = "name=\"csrf_token\" value=\"";
    let at = body.find(marker).context("the login form's token")? + marker.len();
    let token = &body[at..at + 64];
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("csrf_token", token)
        .append_pair("login", login)
        .append_pair("password", password)
        .finish();
    let done = app
        .clone()
        .oneshot(
            Request::post("/login")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::COOKIE, cookie_header(&jar))
                .body(Body::from(form))?,
        )
        .await?;
    if done.status() != StatusCode::SEE_OTHER {
        bail!("login as {login}: {}", done.status());
    }
    keep_cookies(&mut jar, done.headers());
    Ok(jar)
}

async fn get(
    app: &Router,
    path: &str,
    jar: &[(String, String)],
) -> anyhow::Result<(StatusCode, Vec<u8>)> {
    let answer = app
        .clone()
        .oneshot(
            Request::get(path)
                .header(header::COOKIE, cookie_header(jar))
                .body(Body::empty())?,
        )
        .await?;
    let status = answer.status();
    let body = to_bytes(answer.into_body(), 64 << 20).await?.to_vec();
    Ok((status, body))
}
