//! `vaxloop-bench booking URL…`: the booking benchmark of `docs/benchmarks.md` on each database
//! named (SQLite and PostgreSQL), as `docs/benchmark-methods.md` lays it out.
//!
//! Per backend, on one fresh database, four worlds of their own (a unit of residents, a site open
//! 08:00–18:00 in 30-minute slots, doses allocated per day), so no run sees another's bookings:
//!
//! - **surge over HTTP**: 20,000 residents, each signed in, POST one booking for a random slot of
//!   40 (2,000 seats; the second day has 10% fewer doses than seats) through `vaxloop serve`'s
//!   own router on a loopback port, from 1,000 keep-alive connections at once;
//! - **sustained over HTTP**: 200,000 residents against 100,000 seats (200 slots of 500), same way;
//! - **reference**: the same attempts on twin worlds, applied straight to the database in this
//!   process with no HTTP — the same checks and the same transaction (idempotency key, slot,
//!   doses, journey, appointment), one booking per commit, at the same durability — run with one
//!   writer and with as many as the pool has connections; the faster counts;
//! - **availability**: `GET /api/v1/sites/{code}/availability` against trivial handlers served
//!   by the same server to the same load generator: a constant behind the same layers as every
//!   page and API call (sessions, login, CSRF, security headers, metrics, tracing) — the
//!   target's comparison — a constant outside every layer, and `GET /api/v1/me`.
//!
//! After each run the database is read back: seats confirmed beyond a slot's capacity, doses
//! beyond a day's allocation and people holding two active appointments for one dose are counted
//! as `overbooked` (which must be 0), and the appointments found must equal those confirmed.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::{Datelike, Days, NaiveDate};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};
use sqlx::Row;
use vaxloop_app::booking::Request;
use vaxloop_core::{ResidentId, Role, SiteKind, Source, UnitKind, WorkGroupKind, ZoneKind};
use vaxloop_store::idempotency::{self, Claim};
use vaxloop_store::org::{NewUnit, NewWorkGroup};
use vaxloop_store::people::NewPerson;
use vaxloop_store::sites::{NewSite, NewZone};
use vaxloop_store::vaccines::{self, NewVaccine};
use vaxloop_store::{
    DatabaseUrl, Db, PiiCipher, PiiKey, journeys, now_ms, org, people, sites, slots,
};
use vaxloop_web::fixtures::{SignedIn, sign_in};
use vaxloop_web::{AppState, WebConfig};

/// The sizes of one run.
#[derive(Debug, Clone, Copy)]
struct Shape {
    attempts: usize,
    days: u64,
    per_slot: i64,
    /// The last day's doses as a share of its seats (1.0: as many doses as seats).
    last_day_doses: f64,
}

const SLOTS_PER_DAY: u64 = 20;

/// The reference books one transaction at a time, one flush each; past this it stops and its
/// rate is what it reached (early on most attempts find a seat, so this flatters it if anything).
const REFERENCE_LIMIT: Duration = Duration::from_secs(20);

const SURGE: Shape = Shape {
    attempts: 20_000,
    days: 2,
    per_slot: 50,
    last_day_doses: 0.9,
};

const SUSTAINED: Shape = Shape {
    attempts: 200_000,
    days: 10,
    per_slot: 500,
    last_day_doses: 1.0,
};

/// A site, its slots and its registered people (with logins).
struct World {
    site_id: i64,
    site_code: String,
    first_day: String,
    slots: Vec<i64>,
    /// `(person id, user id)` in order.
    people: Vec<(i64, i64)>,
}

/// What one run measured.
#[derive(Default)]
struct Run {
    attempts: usize,
    confirmed: usize,
    rejected: BTreeMap<String, usize>,
    errors: usize,
    seconds: f64,
    latencies_us: Vec<u32>,
    /// The latencies of the confirmed attempts alone.
    confirmed_us: Vec<u32>,
}

impl Run {
    fn merge(&mut self, other: Run) {
        self.attempts += other.attempts;
        self.confirmed += other.confirmed;
        for (k, v) in other.rejected {
            *self.rejected.entry(k).or_default() += v;
        }
        self.errors += other.errors;
        self.latencies_us.extend(other.latencies_us);
        self.confirmed_us.extend(other.confirmed_us);
    }

    fn percentile_ms(&mut self, p: f64) -> f64 {
        percentile_ms(&mut self.latencies_us, p)
    }

    fn json(&mut self) -> Value {
        json!({
            "attempts": self.attempts,
            "confirmed": self.confirmed,
            "rejected": self.rejected,
            "errors": self.errors,
            "seconds": round(self.seconds, 3),
            "attempts_per_second": round(self.attempts as f64 / self.seconds, 0),
            "confirmed_per_second": round(self.confirmed as f64 / self.seconds, 0),
            "p50_ms": round(self.percentile_ms(0.50), 2),
            "p95_ms": round(self.percentile_ms(0.95), 2),
            "p99_ms": round(self.percentile_ms(0.99), 2),
            "confirmed_p50_ms": round(percentile_ms(&mut self.confirmed_us, 0.50), 2),
            "confirmed_p99_ms": round(percentile_ms(&mut self.confirmed_us, 0.99), 2),
        })
    }
}

pub(crate) fn percentile_ms(us: &mut [u32], p: f64) -> f64 {
    if us.is_empty() {
        return 0.0;
    }
    us.sort_unstable();
    let i = ((us.len() as f64 - 1.0) * p).round() as usize;
    f64::from(us[i]) / 1000.0
}

pub(crate) fn round(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    if x.is_finite() {
        (x * f).round() / f
    } else {
        0.0
    }
}

pub fn main(args: &[String]) -> anyhow::Result<()> {
    // Database URLs are the arguments that are neither flags nor a flag's value.
    let urls: Vec<&String> = args
        .iter()
        .enumerate()
        .filter(|(i, a)| !a.starts_with("--") && (*i == 0 || !args[i - 1].starts_with("--")))
        .map(|(_, a)| a)
        .collect();
    if urls.is_empty() {
        bail!(
            "usage: vaxloop-bench booking DATABASE_URL… [--connections N] [--scale F] [--only surge|sustained|availability]"
        );
    }
    let connections: usize = crate::args::flag(args, "--connections", 1000)?;
    // For a quick look: --scale 0.1 runs a tenth of every size.
    let scale: f64 = crate::args::flag(args, "--scale", 1.0)?;
    // For a quick look at one part: --only surge|sustained|availability (no reference runs).
    let only: String = crate::args::flag(args, "--only", String::new())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut out = serde_json::Map::new();
    for url in urls {
        let url: DatabaseUrl = url.parse()?;
        let name = url.backend().as_str().to_string();
        eprintln!("== {name}");
        let figures = runtime.block_on(backend(&url, connections, scale, &only))?;
        out.insert(name, figures);
    }
    let mut line = serde_json::Map::new();
    line.insert("benchmark".into(), "booking".into());
    line.insert(
        "cores".into(),
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .into(),
    );
    line.insert("connections".into(), connections.into());
    line.extend(out);
    print_table(&line);
    println!("{}", Value::Object(line));
    Ok(())
}

fn scaled(shape: Shape, scale: f64) -> Shape {
    Shape {
        attempts: ((shape.attempts as f64 * scale) as usize).max(100),
        per_slot: ((shape.per_slot as f64 * scale).round() as i64).max(1),
        ..shape
    }
}

async fn backend(
    url: &DatabaseUrl,
    connections: usize,
    scale: f64,
    only: &str,
) -> anyhow::Result<Value> {
    let pool: u32 = std::env::var("BENCH_POOL")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let db = Db::connect_with(url, (pool > 0).then_some(pool)).await?;
    db.migrate().await?;
    let cipher = PiiCipher::new(&PiiKey::generate());
    let config = WebConfig::default();
    let tomorrow = config
        .today()
        .checked_add_days(Days::new(1))
        .context("date")?;
    let pin_hash = vaxloop_core::password::hash("bench-pin-2468");
    let mut seq = 0usize;
    let mut world = |code: &'static str, shape: Shape| {
        seq += 1;
        make_world(&db, &cipher, code, seq, shape, tomorrow, pin_hash.clone())
    };
    // A part left out by --only gets the smallest world.
    let size = |label: &str| {
        if only.is_empty() || only == label || (label == "surge" && only == "availability") {
            scale
        } else {
            0.0
        }
    };
    let surge = scaled(SURGE, size("surge"));
    let sustained = scaled(SUSTAINED, size("sustained"));
    eprintln!("setting up four worlds…");
    let w_surge = world("SRG", surge).await?;
    let w_surge_ref = world("SRR", surge).await?;
    let w_sust = world("SUS", sustained).await?;
    let w_sust_ref = world("SUR", sustained).await?;
    let signed_surge = sign_in(
        &vaxloop_app::App::new(db.clone(), cipher.clone(), config.timezone),
        &logins(&w_surge, &pin_hash),
        600,
    )
    .await?;
    let signed_sust = sign_in(
        &vaxloop_app::App::new(db.clone(), cipher.clone(), config.timezone),
        &logins(&w_sust, &pin_hash),
        600,
    )
    .await?;
    db.after_bulk_load().await?;

    // The server: the application's own router, plus two trivial handlers to compare reads
    // with: one served behind the same layers as every page and API call, one bare.
    let state = AppState::new(db.clone(), cipher.clone(), config.clone());
    let trivial =
        axum::Router::new().route("/bench/trivial", axum::routing::get(|| async { "ok" }));
    let app = vaxloop_web::router_with(state, trivial)
        .route("/bench/bare", axum::routing::get(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
    });

    let mut figures = serde_json::Map::new();
    for (label, shape, http_world, ref_world, signed) in [
        ("surge", surge, &w_surge, &w_surge_ref, &signed_surge),
        ("sustained", sustained, &w_sust, &w_sust_ref, &signed_sust),
    ] {
        if !only.is_empty() && only != label {
            continue;
        }
        let plan = attempts(shape, http_world.slots.len(), 7);
        eprintln!("{label}: {} attempts over HTTP…", plan.len());
        let mut http = http_bookings(addr, connections, http_world, signed, &plan).await?;
        let http_check = audit(&db, http_world, http.confirmed).await?;
        if !only.is_empty() {
            figures.insert(
                label.into(),
                json!({ "http": http.json(), "http_check": http_check }),
            );
            continue;
        }
        eprintln!("{label}: the same attempts straight to the database…");
        let ref_plan = attempts(shape, ref_world.slots.len(), 7);
        let (mut reference, writers, ref_check) =
            best_reference(&db, &config, ref_world, &ref_plan).await?;
        let ratio = (http.confirmed as f64 / http.seconds)
            / (reference.confirmed as f64 / reference.seconds);
        figures.insert(
            label.into(),
            json!({
                "seats": shape.per_slot * http_world.slots.len() as i64,
                "slots": http_world.slots.len(),
                "http": http.json(),
                "http_check": http_check,
                "reference": reference.json(),
                "reference_writers": writers,
                "reference_check": ref_check,
                "ratio": round(ratio, 2),
            }),
        );
    }

    if !only.is_empty() && only != "availability" {
        server.abort();
        db.close().await;
        return Ok(Value::Object(figures));
    }
    eprintln!("availability against a trivial handler…");
    let path = format!(
        "/api/v1/sites/{}/availability?date={}",
        w_surge.site_code, w_surge.first_day
    );
    let reader = signed_surge.first().context("a signed-in resident")?;
    let mut avail = reads(addr, 64, Duration::from_secs(5), &path, reader).await?;
    let mut trivial = reads(addr, 64, Duration::from_secs(5), "/bench/trivial", reader).await?;
    let mut bare = reads(addr, 64, Duration::from_secs(5), "/bench/bare", reader).await?;
    let mut me = reads(addr, 64, Duration::from_secs(5), "/api/v1/me", reader).await?;
    let avail_rps = avail.attempts as f64 / avail.seconds;
    let trivial_rps = trivial.attempts as f64 / trivial.seconds;
    let bare_rps = bare.attempts as f64 / bare.seconds;
    let me_rps = me.attempts as f64 / me.seconds;
    figures.insert(
        "availability".into(),
        json!({
            "requests_per_second": round(avail_rps, 0),
            "p99_ms": round(avail.percentile_ms(0.99), 2),
            "errors": avail.errors,
            "trivial_requests_per_second": round(trivial_rps, 0),
            "trivial_p99_ms": round(trivial.percentile_ms(0.99), 2),
            "ratio": round(avail_rps / trivial_rps, 2),
            "bare_requests_per_second": round(bare_rps, 0),
            "bare_p99_ms": round(bare.percentile_ms(0.99), 2),
            "ratio_to_bare": round(avail_rps / bare_rps, 2),
            "me_requests_per_second": round(me_rps, 0),
            "me_p99_ms": round(me.percentile_ms(0.99), 2),
            "ratio_to_me": round(avail_rps / me_rps, 2),
        }),
    );
    server.abort();
    db.close().await;
    Ok(Value::Object(figures))
}

fn logins(w: &World, hash: &str) -> Vec<(i64, String)> {
    w.people
        .iter()
        .map(|&(_, user)| (user, hash.to_string()))
        .collect()
}

/// Who tries which slot: attempt `i` is person `i`, for a slot drawn at random.
fn attempts(shape: Shape, slots: usize, seed: u64) -> Vec<(usize, usize)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..shape.attempts)
        .map(|i| (i, rng.random_range(0..slots)))
        .collect()
}

async fn make_world(
    db: &Db,
    cipher: &PiiCipher,
    code: &'static str,
    seq: usize,
    shape: Shape,
    first: NaiveDate,
    pin_hash: String,
) -> anyhow::Result<World> {
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    let group = org::insert_work_group(
        &mut tx,
        &NewWorkGroup {
            code: format!("G{code}"),
            name: format!("压测组{code}"),
            kind: WorkGroupKind::Street,
            leader_name: None,
        },
        now,
    )
    .await?;
    let unit = org::insert_unit(
        &mut tx,
        cipher,
        &NewUnit {
            code: format!("U{code}"),
            work_group_id: group,
            name: format!("压测单位{code}"),
            kind: UnitKind::Community,
            address: String::new(),
            lat: None,
            lon: None,
            target_headcount: i64::try_from(shape.attempts)?,
            contact_name: None,
            contact_phone: None,
            reg_token: format!("bench-{code}"),
        },
        now,
    )
    .await?;
    let site = sites::insert(
        &mut tx,
        &NewSite {
            code: code.into(),
            name: format!("压测接种点{code}"),
            kind: SiteKind::Fixed,
            address: String::new(),
            lat: None,
            lon: None,
            open_from: None,
            open_until: None,
            hours: (0..7).map(|d| (d, 8 * 60, 18 * 60)).collect(),
            zones: ZoneKind::ALL
                .iter()
                .map(|&kind| NewZone {
                    kind,
                    space: 200,
                    desks_am: 10,
                    desks_pm: 10,
                    mean_service_seconds: 60,
                })
                .collect(),
        },
        now,
    )
    .await?;
    if seq == 1 {
        vaccines::insert_vaccine(
            &mut tx,
            &NewVaccine {
                code: "BENCH".into(),
                name: "灭活疫苗".into(),
                manufacturer: "压测".into(),
                doses_in_series: 2,
                min_interval_days: 21,
                min_age: 3,
                max_age: None,
                doses_per_vial: 1,
                open_vial_minutes: 0,
                observation_minutes: 30,
            },
        )
        .await?;
    }
    let born = NaiveDate::from_ymd_opt(1950, 1, 1).context("date")?;
    let list: Vec<NewPerson> = (0..shape.attempts)
        .map(|i| {
            // A different birth day per thousand people and world keeps every number unique.
            let day = born
                .checked_add_days(Days::new((seq * 400 + i / 1000) as u64))
                .unwrap_or(born);
            NewPerson {
                unit_id: unit,
                name: format!("居民{i}"),
                resident_id: ResidentId::compose(310112, day, (i % 1000) as u16),
                phone: None,
                disabled: false,
                consent: None,
                source: Source::Import,
                confirmed: true,
                note: None,
            }
        })
        .collect();
    people::insert_many(&mut tx, cipher, &list, now).await?;
    journeys::open_for_registered(&mut tx, Some(unit), now).await?;
    sqlx::query(
        "INSERT INTO users (display_name, password_hash, role, person_id, created_at) \
         SELECT name, $1, $2, id, $3 FROM people WHERE unit_id = $4",
    )
    .bind(&pin_hash)
    .bind(Role::Resident.as_str())
    .bind(now)
    .bind(unit)
    .execute(&mut *tx)
    .await?;
    let seats_per_day = shape.per_slot * SLOTS_PER_DAY as i64;
    for d in 0..shape.days {
        let day = first.checked_add_days(Days::new(d)).context("date")?;
        let weekday = i64::from(day.weekday().num_days_from_monday());
        let text = day.to_string();
        slots::generate(&mut tx, site, &text, weekday, 30, |_| {
            (shape.per_slot, "bench".into())
        })
        .await?;
        let doses = if d + 1 == shape.days {
            (seats_per_day as f64 * shape.last_day_doses) as i64
        } else {
            seats_per_day
        };
        vaccines::allocate(&mut tx, site, &text, doses).await?;
    }
    tx.commit().await?;
    // The bench reads its own fixtures back through a transaction (the store keeps its pool).
    let mut read = db.begin_write().await?;
    let rows = sqlx::query(
        "SELECT p.id, u.id FROM people p JOIN users u ON u.person_id = p.id \
         WHERE p.unit_id = $1 ORDER BY p.id",
    )
    .bind(unit)
    .fetch_all(&mut *read)
    .await?;
    read.rollback().await?;
    let people = rows
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect::<Result<Vec<(i64, i64)>, sqlx::Error>>()?;
    let mut slot_ids = Vec::new();
    for d in 0..shape.days {
        let day = first.checked_add_days(Days::new(d)).context("date")?;
        slot_ids.extend(
            slots::of_site_day(db, site, &day.to_string())
                .await?
                .iter()
                .map(|s| s.id),
        );
    }
    Ok(World {
        site_id: site,
        site_code: code.into(),
        first_day: first.to_string(),
        slots: slot_ids,
        people,
    })
}

/// Opens a keep-alive HTTP/1.1 connection to the server.
pub(crate) async fn connect(
    addr: std::net::SocketAddr,
) -> anyhow::Result<hyper::client::conn::http1::SendRequest<Full<Bytes>>> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

/// The part of a 409 answer the load generator reads.
#[derive(serde::Deserialize)]
struct RefusalCode {
    error: String,
}

/// Every attempt as a resident's POST, from `connections` connections at once.
async fn http_bookings(
    addr: std::net::SocketAddr,
    connections: usize,
    world: &World,
    signed: &[SignedIn],
    plan: &[(usize, usize)],
) -> anyhow::Result<Run> {
    let next = Arc::new(AtomicUsize::new(0));
    let plan = Arc::new(plan.to_vec());
    let signed = Arc::new(signed.to_vec());
    let slots = Arc::new(world.slots.clone());
    // Every connection is open before the first request, as when a release is announced.
    let mut senders = Vec::with_capacity(connections);
    for _ in 0..connections {
        senders.push(connect(addr).await?);
    }
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for mut sender in senders {
        let (next, plan, signed, slots) =
            (next.clone(), plan.clone(), signed.clone(), slots.clone());
        tasks.spawn(async move {
            let mut run = Run::default();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(&(person, slot)) = plan.get(i) else {
                    break;
                };
                let who = &signed[person];
                let body = format!("{{\"slot_id\":{}}}", slots[slot]);
                let request = hyper::Request::post("/api/v1/appointments")
                    .header("host", "127.0.0.1")
                    .header("cookie", &who.cookie)
                    .header("x-csrf-token", &who.csrf)
                    .header("content-type", "application/json")
                    .header("idempotency-key", format!("b-{i}"))
                    .body(Full::new(Bytes::from(body)))?;
                let sent = Instant::now();
                sender.ready().await?;
                let response = sender.send_request(request).await?;
                let status = response.status().as_u16();
                let bytes = response.into_body().collect().await?.to_bytes();
                let took = u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX);
                run.latencies_us.push(took);
                run.attempts += 1;
                match status {
                    201 => {
                        run.confirmed += 1;
                        run.confirmed_us.push(took);
                    }
                    409 => {
                        let reason = serde_json::from_slice::<RefusalCode>(&bytes)
                            .map(|r| r.error)
                            .unwrap_or_else(|_| "unreadable".into());
                        *run.rejected.entry(reason).or_default() += 1;
                    }
                    _ => run.errors += 1,
                }
            }
            anyhow::Ok(run)
        });
    }
    gather(tasks, start).await
}

/// Adds up the runs of a load generator's tasks, timed from `start`.
async fn gather(
    mut tasks: tokio::task::JoinSet<anyhow::Result<Run>>,
    start: Instant,
) -> anyhow::Result<Run> {
    let mut total = Run::default();
    while let Some(done) = tasks.join_next().await {
        total.merge(done??);
    }
    total.seconds = start.elapsed().as_secs_f64();
    Ok(total)
}

/// The reference with one writer and with a pool's worth, each on the same twin world (put back
/// between the two); the faster counts. Returns the run, its writers and its audit.
async fn best_reference(
    db: &Db,
    config: &WebConfig,
    world: &World,
    plan: &[(usize, usize)],
) -> anyhow::Result<(Run, usize, Value)> {
    let mut best: Option<(Run, usize, Value)> = None;
    for writers in [1usize, 8] {
        if writers > 1 {
            reset(db, world).await?;
        }
        let run = reference(db, config, world, plan, writers).await?;
        let check = audit(db, world, run.confirmed).await?;
        eprintln!(
            "  reference, {writers} writer(s): {:.0} confirmed/s",
            run.confirmed as f64 / run.seconds
        );
        let rate = |r: &Run| r.confirmed as f64 / r.seconds;
        if best.as_ref().is_none_or(|(b, _, _)| rate(&run) > rate(b)) {
            best = Some((run, writers, check));
        }
    }
    best.context("a reference run")
}

/// Frees a world's seats again for the next reference variant: its appointments are cancelled
/// (the journey log is append-only; cancelled people may book again), seats and doses return.
async fn reset(db: &Db, world: &World) -> anyhow::Result<()> {
    let mut tx = db.begin_write().await?;
    for sql in [
        "UPDATE journeys SET state = 'cancelled' WHERE state = 'booked' AND person_id IN \
         (SELECT a.person_id FROM appointments a JOIN slots s ON s.id = a.slot_id WHERE s.site_id = $1 AND a.status = 'active')",
        "UPDATE appointments SET status = 'cancelled' WHERE status = 'active' AND slot_id IN (SELECT id FROM slots WHERE site_id = $1)",
        "UPDATE slots SET booked = 0 WHERE site_id = $1",
        "UPDATE site_days SET doses_booked = 0 WHERE site_id = $1",
    ] {
        sqlx::query(sql)
            .bind(world.site_id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The same booking transaction as `POST /api/v1/appointments`, straight to the database: the
/// checks, then one transaction per attempt holding the idempotency key, the booking and the
/// stored answer, committed — or rolled back on a refusal.
async fn reference(
    db: &Db,
    config: &WebConfig,
    world: &World,
    plan: &[(usize, usize)],
    writers: usize,
) -> anyhow::Result<Run> {
    let next = Arc::new(AtomicUsize::new(0));
    let plan = Arc::new(plan.to_vec());
    let people = Arc::new(world.people.clone());
    let slots = Arc::new(world.slots.clone());
    let tz = config.timezone;
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..writers {
        let (db, next, plan, people, slots) = (
            db.clone(),
            next.clone(),
            plan.clone(),
            people.clone(),
            slots.clone(),
        );
        tasks.spawn(async move {
            let mut run = Run::default();
            while start.elapsed() < REFERENCE_LIMIT {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(&(person, slot)) = plan.get(i) else {
                    break;
                };
                let (person_id, user_id) = people[person];
                let sent = Instant::now();
                let ids = [person_id];
                let req = Request {
                    slot_id: slots[slot],
                    people: &ids,
                    dose_number: 1,
                    team_id: None,
                    walk_in: false,
                };
                let key = format!("ref-{writers}-{i}");
                let hash = format!("{}:{}", req.slot_id, person_id);
                let outcome = match vaxloop_app::booking::check(&db, tz, &req).await? {
                    Err(refusal) => Err(refusal),
                    Ok(vaccine) => {
                        let now = now_ms();
                        let mut tx = db.begin_write().await?;
                        if !matches!(
                            idempotency::claim(&mut tx, user_id, &key, &hash, now).await?,
                            Claim::Fresh
                        ) {
                            bail!("reference keys are fresh");
                        }
                        match vaxloop_app::booking::book_in(&mut tx, &req, vaccine, now).await? {
                            Ok(ids) => {
                                let body = format!("{{\"appointments\":{ids:?}}}");
                                idempotency::answer(&mut tx, user_id, &key, &hash, 201, &body, now)
                                    .await?;
                                // The booking's audit row, as every booking writes it.
                                let target = format!("appointment:{}", ids[0]);
                                let detail = format!("slot={} people=1 dose=1", req.slot_id);
                                let entry = vaxloop_store::audit::Entry {
                                    actor_user_id: Some(user_id),
                                    action: "book",
                                    target: &target,
                                    reason: None,
                                    outcome: vaxloop_store::audit::Outcome::Ok,
                                    detail: Some(&detail),
                                };
                                vaxloop_store::audit::record_in(&mut tx, &entry, now).await?;
                                tx.commit().await?;
                                Ok(ids)
                            }
                            Err(refusal) => {
                                tx.rollback().await?;
                                Err(refusal)
                            }
                        }
                    }
                };
                let took = u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX);
                run.latencies_us.push(took);
                run.attempts += 1;
                match outcome {
                    Ok(_) => {
                        run.confirmed += 1;
                        run.confirmed_us.push(took);
                    }
                    Err(refusal) => *run.rejected.entry(refusal.code().into()).or_default() += 1,
                }
            }
            anyhow::Ok(run)
        });
    }
    gather(tasks, start).await
}

/// Reads the world back: what was promised beyond capacity or supply, who holds two
/// appointments for one dose, and whether the database holds exactly what was confirmed.
async fn audit(db: &Db, world: &World, confirmed: usize) -> anyhow::Result<Value> {
    let mut read = db.begin_write().await?;
    let mut scalars = Vec::new();
    for sql in [
        "SELECT CAST(COALESCE(SUM(n - capacity), 0) AS BIGINT) FROM (SELECT s.capacity, COUNT(a.id) AS n FROM slots s \
         JOIN appointments a ON a.slot_id = s.id AND a.status = 'active' WHERE s.site_id = $1 \
         GROUP BY s.id, s.capacity) t WHERE n > capacity",
        "SELECT CAST(COALESCE(SUM(n - doses_allocated), 0) AS BIGINT) FROM (SELECT d.doses_allocated, COUNT(a.id) AS n \
         FROM site_days d JOIN slots s ON s.site_id = d.site_id AND s.day = d.day \
         JOIN appointments a ON a.slot_id = s.id AND a.status = 'active' WHERE d.site_id = $1 \
         GROUP BY d.site_id, d.day, d.doses_allocated) t WHERE n > doses_allocated",
        "SELECT COUNT(*) FROM (SELECT a.person_id FROM appointments a JOIN slots s ON s.id = a.slot_id \
         WHERE s.site_id = $1 AND a.status = 'active' GROUP BY a.person_id, a.dose_number HAVING COUNT(*) > 1) t",
        "SELECT COUNT(*) FROM slots s WHERE s.site_id = $1 AND s.booked <> \
         (SELECT COUNT(*) FROM appointments a WHERE a.slot_id = s.id AND a.status = 'active')",
        "SELECT COUNT(*) FROM appointments a JOIN slots s ON s.id = a.slot_id \
         WHERE s.site_id = $1 AND a.status = 'active'",
    ] {
        let n: i64 = sqlx::query_scalar(sql)
            .bind(world.site_id)
            .fetch_one(&mut *read)
            .await?;
        scalars.push(n);
    }
    read.rollback().await?;
    let [beyond_slots, beyond_doses, doubled, counters_off, stored] = scalars[..] else {
        bail!("five counts");
    };
    let overbooked = beyond_slots + beyond_doses + doubled;
    if overbooked != 0 || counters_off != 0 || stored != i64::try_from(confirmed)? {
        eprintln!(
            "INVARIANT BROKEN at {}: {overbooked} overbooked, {counters_off} slot counters off, \
             {stored} stored vs {confirmed} confirmed",
            world.site_code
        );
    }
    Ok(json!({
        "overbooked": overbooked,
        "beyond_slot_capacity": beyond_slots,
        "beyond_doses": beyond_doses,
        "people_booked_twice": doubled,
        "slot_counters_off": counters_off,
        "appointments_stored": stored,
        "confirmed_answers": confirmed,
    }))
}

/// As many GETs of `path` as `connections` connections manage in `length`.
async fn reads(
    addr: std::net::SocketAddr,
    connections: usize,
    length: Duration,
    path: &str,
    who: &SignedIn,
) -> anyhow::Result<Run> {
    let mut senders = Vec::with_capacity(connections);
    for _ in 0..connections {
        senders.push(connect(addr).await?);
    }
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for mut sender in senders {
        let (path, cookie) = (path.to_string(), who.cookie.clone());
        tasks.spawn(async move {
            let mut run = Run::default();
            while start.elapsed() < length {
                let request = hyper::Request::get(path.as_str())
                    .header("host", "127.0.0.1")
                    .header("cookie", &cookie)
                    .body(Full::new(Bytes::new()))?;
                let sent = Instant::now();
                sender.ready().await?;
                let response = sender.send_request(request).await?;
                let ok = response.status().is_success();
                response.into_body().collect().await?;
                run.latencies_us
                    .push(u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX));
                run.attempts += 1;
                if !ok {
                    run.errors += 1;
                }
            }
            anyhow::Ok(run)
        });
    }
    gather(tasks, start).await
}

fn print_table(line: &serde_json::Map<String, Value>) {
    eprintln!();
    for backend in ["sqlite", "postgres"] {
        let Some(b) = line.get(backend) else { continue };
        eprintln!("{backend}");
        for run in ["surge", "sustained"] {
            let r = &b[run];
            eprintln!(
                "  {run:<9} HTTP {:>6} attempts/s {:>6} confirmed/s p50 {:>7} ms p95 {:>7} ms p99 {:>7} ms (confirmed: p50 {} ms p99 {} ms)  overbooked {}  rejected {}",
                r["http"]["attempts_per_second"],
                r["http"]["confirmed_per_second"],
                r["http"]["p50_ms"],
                r["http"]["p95_ms"],
                r["http"]["p99_ms"],
                r["http"]["confirmed_p50_ms"],
                r["http"]["confirmed_p99_ms"],
                r["http_check"]["overbooked"],
                r["http"]["rejected"],
            );
            eprintln!(
                "  {:<9} reference {:>6} confirmed/s ({} writer(s))  ratio {}",
                "", r["reference"]["confirmed_per_second"], r["reference_writers"], r["ratio"],
            );
        }
        let a = &b["availability"];
        eprintln!(
            "  availability {} req/s (p99 {} ms) vs trivial (same layers) {} req/s: ratio {}; vs bare {} req/s: ratio {}; vs /api/v1/me {} req/s: ratio {}",
            a["requests_per_second"],
            a["p99_ms"],
            a["trivial_requests_per_second"],
            a["ratio"],
            a["bare_requests_per_second"],
            a["ratio_to_bare"],
            a["me_requests_per_second"],
            a["ratio_to_me"],
        );
    }
}
