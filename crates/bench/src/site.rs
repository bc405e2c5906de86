//! `vaxloop-bench site URL…`: the site benchmark of `docs/benchmarks.md` on each database named
//! (SQLite and PostgreSQL), as `docs/benchmark-methods.md` lays it out.
//!
//! Per backend, on one fresh database: a site open 08:00–18:00 in 30-minute slots with 5,000
//! people booked today in 100 teams of 50 from 20 units, 5,500 doses of one lot in 10-dose vials
//! received, five screening questions, and 16 desk logins plus the manager's. Then the day is
//! replayed **at full speed** through `vaxloop serve`'s own router on a loopback port:
//!
//! - 4 check-in desks scan the people in slot order (5% never come);
//! - 4 screening desks take whoever was checked in and screen them (3% deferred);
//! - 6 vaccinators take whoever passed, each person states their presence code (1% get it wrong
//!   first and say it again), from the one lot, so every dose contends for its stock row;
//! - 2 observation nurses release each person (0.5% with an AEFI report first);
//!
//! each desk sending its next action as soon as the last returns, each POST with its own
//! `Idempotency-Key`; and the manager's board page fetched every second throughout. Afterwards
//! the day is closed over the API and its reconciliation fetched, and the database is read back:
//! everyone booked in exactly one state, nobody left in a site state, every lot's ledger
//! balanced, one dose record per vaccinated person.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::{Datelike, NaiveDate};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};
use sqlx::Row;
use tokio::sync::{Mutex, mpsc};
use vaxloop_core::{ResidentId, SiteKind, Source, UnitKind, WorkGroupKind, ZoneKind};
use vaxloop_store::org::{NewUnit, NewWorkGroup};
use vaxloop_store::people::NewPerson;
use vaxloop_store::sites::{NewSite, NewZone};
use vaxloop_store::vaccines::{self, NewVaccine};
use vaxloop_store::{DatabaseUrl, Db, PiiCipher, PiiKey, journeys, now_ms, org, people, sites};
use vaxloop_web::fixtures::{SignedIn, sign_in};
use vaxloop_web::{AppState, WebConfig};

use crate::booking::{connect, percentile_ms, round};

const PEOPLE: usize = 5_000;
const UNITS: usize = 20;
const TEAM: usize = 50;
const SITE: &str = "BSITE";
/// Desks per station: check-in, screening, vaccination, observation.
const DESKS: [(&str, usize); 4] = [
    ("check_in", 4),
    ("screening", 4),
    ("vaccinator", 6),
    ("observation", 2),
];

pub fn main(args: &[String]) -> anyhow::Result<()> {
    let urls: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    if urls.is_empty() {
        bail!("usage: vaxloop-bench site DATABASE_URL…");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut line = serde_json::Map::new();
    line.insert("benchmark".into(), "site".into());
    line.insert(
        "cores".into(),
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .into(),
    );
    line.insert("people".into(), PEOPLE.into());
    for url in urls {
        let url: DatabaseUrl = url.parse()?;
        let name = url.backend().as_str().to_string();
        eprintln!("== {name}");
        let figures = runtime.block_on(backend(&url))?;
        print_table(&name, &figures);
        line.insert(name, figures);
    }
    println!("{}", Value::Object(line));
    Ok(())
}

/// The fixtures: the site, its people and teams, its stock, its staff.
struct World {
    site_id: i64,
    lot_id: i64,
    /// Everyone booked, in slot order: `(person id, appointment id)`.
    people: Vec<(i64, i64)>,
    questions: Vec<i64>,
    /// Signed-in desks per station, and the manager.
    desks: BTreeMap<&'static str, Vec<SignedIn>>,
    manager: SignedIn,
}

async fn make_world(db: &Db, cipher: &PiiCipher, today: NaiveDate) -> anyhow::Result<World> {
    let now = now_ms();
    let tz = chrono_tz::Asia::Shanghai;
    let mut tx = db.begin_write().await?;
    let group = org::insert_work_group(
        &mut tx,
        &NewWorkGroup {
            code: "GSITE".into(),
            name: "压测工作组".into(),
            kind: WorkGroupKind::Street,
            leader_name: None,
        },
        now,
    )
    .await?;
    let mut units = Vec::new();
    for u in 0..UNITS {
        units.push(
            org::insert_unit(
                &mut tx,
                cipher,
                &NewUnit {
                    code: format!("US{u:02}"),
                    work_group_id: group,
                    name: format!("压测单位{u}"),
                    kind: UnitKind::Enterprise,
                    address: String::new(),
                    lat: None,
                    lon: None,
                    target_headcount: (PEOPLE / UNITS) as i64,
                    contact_name: None,
                    contact_phone: None,
                    reg_token: format!("bench-site-{u}"),
                },
                now,
            )
            .await?,
        );
    }
    let site_id = sites::insert(
        &mut tx,
        &NewSite {
            code: SITE.into(),
            name: "压测大型接种点".into(),
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
                    space: 300,
                    desks_am: 6,
                    desks_pm: 6,
                    mean_service_seconds: 60,
                })
                .collect(),
        },
        now,
    )
    .await?;
    let vaccine = vaccines::insert_vaccine(
        &mut tx,
        &NewVaccine {
            code: "BENCH".into(),
            name: "灭活疫苗".into(),
            manufacturer: "压测".into(),
            doses_in_series: 2,
            min_interval_days: 21,
            min_age: 3,
            max_age: None,
            doses_per_vial: 10,
            open_vial_minutes: 360,
            observation_minutes: 30,
        },
    )
    .await?;
    let mut questions = Vec::new();
    for (i, (zh, en, on_yes)) in vaxloop_demo::SCREENING.iter().enumerate() {
        questions.push(
            vaxloop_store::screening::add_question_in(
                &mut tx,
                vaccine,
                i as i64 + 1,
                zh,
                en,
                on_yes,
            )
            .await?,
        );
    }
    let expires = today
        .checked_add_days(chrono::Days::new(200))
        .context("date")?
        .to_string();
    let lot_id = vaccines::insert_lot(&mut tx, vaccine, "BENCH-LOT-1", &expires).await?;
    let date = today.to_string();
    let delivery = vaccines::plan_delivery(&mut tx, lot_id, site_id, &date, 5_500).await?;
    vaccines::receive_delivery(&mut tx, delivery, None, now).await?;
    vaccines::allocate(&mut tx, site_id, &date, 5_500).await?;
    let weekday = i64::from(today.weekday().num_days_from_monday());
    vaxloop_store::slots::generate(&mut tx, site_id, &date, weekday, 30, |_| {
        ((PEOPLE / 20 + 10) as i64, "bench".into())
    })
    .await?;
    let born = NaiveDate::from_ymd_opt(1955, 1, 1).context("date")?;
    let list: Vec<NewPerson> = (0..PEOPLE)
        .map(|i| NewPerson {
            unit_id: units[i % UNITS],
            name: format!("受种者{i}"),
            resident_id: ResidentId::compose(
                310112,
                born.checked_add_days(chrono::Days::new((i / 1000) as u64 * 5))
                    .unwrap_or(born),
                (i % 1000) as u16,
            ),
            phone: None,
            disabled: i % 40 == 0,
            consent: None,
            source: Source::Import,
            confirmed: true,
            note: None,
        })
        .collect();
    people::insert_many(&mut tx, cipher, &list, now).await?;
    journeys::open_for_registered(&mut tx, None, now).await?;
    // Staff: the desks and the manager, each a site_staff login at this site.
    let hash = vaxloop_core::password::hash("bench-staff-2468");
    let mut staff: Vec<(&'static str, i64)> = Vec::new();
    for (post, n) in DESKS.iter().copied().chain([("manager", 1)]) {
        for k in 0..n {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO users (username, display_name, password_hash, role, site_id, site_post, created_at) \
                 VALUES ($1, $2, $3, 'site_staff', $4, $5, $6) RETURNING id",
            )
            .bind(format!("bench.{post}.{k}"))
            .bind(format!("{post} {k}"))
            .bind(&hash)
            .bind(site_id)
            .bind(post)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            staff.push((post, id));
        }
    }
    tx.commit().await?;

    // Teams of 50, each unit's people, into the day's slots in order.
    let slots = vaxloop_store::slots::of_site_day(db, site_id, &date).await?;
    let mut placed = 0usize;
    for &unit in &units {
        let waiting = journeys::waiting_of_unit(db, unit, 1, PEOPLE as i64).await?;
        for team in waiting.chunks(TEAM) {
            let slot = (placed / (PEOPLE / 20)).min(slots.len() - 1);
            vaxloop_app::booking::engine::book_team(db, tz, unit, slots[slot].id, team, 1)
                .await?
                .map_err(|r| anyhow::anyhow!("booking a team: {r:?}"))?;
            placed += team.len();
        }
    }
    let mut read = db.begin_write().await?;
    let rows = sqlx::query(
        "SELECT a.person_id, a.id FROM appointments a JOIN slots s ON s.id = a.slot_id \
         WHERE s.site_id = $1 AND a.status = 'active' ORDER BY s.starts_min, a.id",
    )
    .bind(site_id)
    .fetch_all(&mut *read)
    .await?;
    read.rollback().await?;
    let booked = rows
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect::<Result<Vec<(i64, i64)>, sqlx::Error>>()?;
    let logins: Vec<(i64, String)> = staff.iter().map(|s| (s.1, hash.clone())).collect();
    let signed = sign_in(
        &vaxloop_app::App::new(db.clone(), cipher.clone(), chrono_tz::Asia::Shanghai),
        &logins,
        600,
    )
    .await?;
    let mut desks: BTreeMap<&'static str, Vec<SignedIn>> = BTreeMap::new();
    let mut manager = None;
    for ((post, _), s) in staff.iter().zip(signed) {
        if *post == "manager" {
            manager = Some(s);
        } else {
            desks.entry(post).or_default().push(s);
        }
    }
    Ok(World {
        site_id,
        lot_id,
        people: booked,
        questions,
        desks,
        manager: manager.context("the manager")?,
    })
}

/// Latencies per action kind, and the refusals and errors seen.
#[derive(Default)]
struct Tally {
    us: BTreeMap<&'static str, Vec<u32>>,
    refused: BTreeMap<String, usize>,
    errors: usize,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        for (k, v) in other.us {
            self.us.entry(k).or_default().extend(v);
        }
        for (k, v) in other.refused {
            *self.refused.entry(k).or_default() += v;
        }
        self.errors += other.errors;
    }
}

/// One request on a desk's connection: the status, the body and the microseconds it took.
struct Desk {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    who: SignedIn,
    seq: u64,
    name: String,
}

impl Desk {
    async fn post(&mut self, path: &str, body: String) -> anyhow::Result<(u16, Vec<u8>, u32)> {
        self.seq += 1;
        let request = hyper::Request::post(path)
            .header("host", "127.0.0.1")
            .header("cookie", &self.who.cookie)
            .header("x-csrf-token", &self.who.csrf)
            .header("content-type", "application/json")
            .header("idempotency-key", format!("{}-{}", self.name, self.seq))
            .body(Full::new(Bytes::from(body)))?;
        let sent = Instant::now();
        self.sender.ready().await?;
        let response = self.sender.send_request(request).await?;
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await?.to_bytes().to_vec();
        let took = u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX);
        Ok((status, bytes, took))
    }

    /// Records an action's answer: its latency, and its refusal or error.
    fn count(&self, tally: &mut Tally, kind: &'static str, answer: &(u16, Vec<u8>, u32)) {
        tally.us.entry(kind).or_default().push(answer.2);
        match answer.0 {
            200 | 201 => {}
            409 | 422 => {
                let code = serde_json::from_slice::<Value>(&answer.1)
                    .ok()
                    .and_then(|v| v["error"].as_str().map(str::to_string))
                    .unwrap_or_else(|| "unreadable".into());
                *tally.refused.entry(format!("{kind}:{code}")).or_default() += 1;
            }
            _ => tally.errors += 1,
        }
    }
}

type Queue = Arc<Mutex<mpsc::UnboundedReceiver<(i64, i64)>>>;

async fn backend(url: &DatabaseUrl) -> anyhow::Result<Value> {
    let db = Db::connect(url).await?;
    db.migrate().await?;
    let cipher = PiiCipher::new(&PiiKey::generate());
    // The day's people are checked in at whatever hour the benchmark runs.
    let config = WebConfig {
        early_check_in_minutes: None,
        ..WebConfig::default()
    };
    let today = config.today();
    eprintln!("setting up the site: {PEOPLE} people in teams of {TEAM}…");
    let setup = Instant::now();
    let world = make_world(&db, &cipher, today).await?;
    db.after_bulk_load().await?;
    eprintln!(
        "  {} booked in {:.1} s",
        world.people.len(),
        setup.elapsed().as_secs_f64()
    );
    let state = AppState::new(db.clone(), cipher.clone(), config.clone());
    let app = vaxloop_web::router(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
    });

    // The stations' queues: checked in → screened → vaccinated, each `(visit, appointment)`.
    let (to_screen, screen_rx) = mpsc::unbounded_channel::<(i64, i64)>();
    let (to_vaccinate, vaccinate_rx) = mpsc::unbounded_channel::<(i64, i64)>();
    let (to_observe, observe_rx) = mpsc::unbounded_channel::<(i64, i64)>();
    let screen_rx: Queue = Arc::new(Mutex::new(screen_rx));
    let vaccinate_rx: Queue = Arc::new(Mutex::new(vaccinate_rx));
    let observe_rx: Queue = Arc::new(Mutex::new(observe_rx));
    let arrivals = Arc::new(Mutex::new(world.people.clone().into_iter().enumerate()));
    let questions = Arc::new(world.questions.clone());
    let cipher = Arc::new(cipher);
    let lot = world.lot_id;
    let defer_until = today
        .checked_add_days(chrono::Days::new(14))
        .context("date")?
        .to_string();

    let start = Instant::now();
    let mut tasks: tokio::task::JoinSet<anyhow::Result<Tally>> = tokio::task::JoinSet::new();
    for (post, signed) in &world.desks {
        for (k, who) in signed.iter().enumerate() {
            let mut desk = Desk {
                sender: connect(addr).await?,
                who: who.clone(),
                seq: 0,
                name: format!("{post}{k}"),
            };
            let mut rng = ChaCha8Rng::seed_from_u64(k as u64 + 17);
            match *post {
                "check_in" => {
                    let (arrivals, to_screen, cipher) =
                        (arrivals.clone(), to_screen.clone(), cipher.clone());
                    tasks.spawn(async move {
                        let mut tally = Tally::default();
                        loop {
                            let next = arrivals.lock().await.next();
                            let Some((i, (person, _))) = next else {
                                break;
                            };
                            // One in twenty never comes.
                            if i % 20 == 7 {
                                continue;
                            }
                            let token = format!("VXL1:{}", cipher.sign("person", person));
                            let body = json!({ "code": token }).to_string();
                            let answer = desk
                                .post(&format!("/api/v1/sites/{SITE}/checkins"), body)
                                .await?;
                            desk.count(&mut tally, "check_in", &answer);
                            if answer.0 == 201 {
                                let v: Value = serde_json::from_slice(&answer.1)?;
                                let visit = v["visit_id"].as_i64().context("visit")?;
                                let appointment =
                                    v["appointment_id"].as_i64().context("appointment")?;
                                let _ = to_screen.send((visit, appointment));
                            }
                        }
                        Ok(tally)
                    });
                }
                "screening" => {
                    let (queue, to_vaccinate, questions, until) = (
                        screen_rx.clone(),
                        to_vaccinate.clone(),
                        questions.clone(),
                        defer_until.clone(),
                    );
                    tasks.spawn(async move {
                        let mut tally = Tally::default();
                        loop {
                            let next = queue.lock().await.recv().await;
                            let Some((visit, appointment)) = next else {
                                break;
                            };
                            let defer = rng.random_bool(0.03);
                            let answers: Vec<Value> = questions
                                .iter()
                                .enumerate()
                                .map(|(i, q)| json!({ "question": q, "yes": defer && i == 0 }))
                                .collect();
                            let body = if defer {
                                json!({ "visit_id": visit, "answers": answers, "outcome": "defer",
                                        "reason": "发热", "until": until })
                            } else {
                                json!({ "visit_id": visit, "answers": answers, "outcome": "pass" })
                            };
                            let answer = desk
                                .post(
                                    &format!("/api/v1/sites/{SITE}/screenings"),
                                    body.to_string(),
                                )
                                .await?;
                            desk.count(&mut tally, "screening", &answer);
                            if answer.0 == 201 && !defer {
                                let _ = to_vaccinate.send((visit, appointment));
                            }
                        }
                        Ok(tally)
                    });
                }
                "vaccinator" => {
                    let (queue, to_observe, cipher) =
                        (vaccinate_rx.clone(), to_observe.clone(), cipher.clone());
                    tasks.spawn(async move {
                        let mut tally = Tally::default();
                        loop {
                            let next = queue.lock().await.recv().await;
                            let Some((visit, appointment)) = next else {
                                break;
                            };
                            let code = cipher.presence_code(appointment);
                            if rng.random_bool(0.01) {
                                let wrong = if code == "0000" { "0001" } else { "0000" };
                                let body = json!({ "visit_id": visit, "lot_id": lot, "presence_code": wrong });
                                let answer = desk
                                    .post(&format!("/api/v1/sites/{SITE}/vaccinations"), body.to_string())
                                    .await?;
                                desk.count(&mut tally, "vaccination", &answer);
                            }
                            // Observation compressed with the day: the nurse may release at once.
                            let body = json!({ "visit_id": visit, "lot_id": lot, "presence_code": code,
                                               "observation_minutes": 0 });
                            let answer = desk
                                .post(&format!("/api/v1/sites/{SITE}/vaccinations"), body.to_string())
                                .await?;
                            desk.count(&mut tally, "vaccination", &answer);
                            if answer.0 == 201 {
                                let _ = to_observe.send((visit, appointment));
                            }
                        }
                        Ok(tally)
                    });
                }
                _ => {
                    let queue = observe_rx.clone();
                    tasks.spawn(async move {
                        let mut tally = Tally::default();
                        loop {
                            let next = queue.lock().await.recv().await;
                            let Some((visit, _)) = next else {
                                break;
                            };
                            if rng.random_bool(0.005) {
                                let body = json!({ "visit_id": visit, "onset": "00:00",
                                                   "symptoms": ["fever"], "severity": "mild",
                                                   "action": "observed" });
                                let answer = desk
                                    .post(&format!("/api/v1/sites/{SITE}/aefi"), body.to_string())
                                    .await?;
                                desk.count(&mut tally, "aefi", &answer);
                            }
                            let body = json!({ "visit_id": visit });
                            let answer = desk
                                .post(&format!("/api/v1/sites/{SITE}/releases"), body.to_string())
                                .await?;
                            desk.count(&mut tally, "release", &answer);
                        }
                        Ok(tally)
                    });
                }
            }
        }
    }
    // Each station's queue closes when the station before it is done.
    drop((to_screen, to_vaccinate, to_observe));

    // The manager's board, every second while the desks work.
    let board_done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let board = {
        let (done, who) = (board_done.clone(), world.manager.clone());
        let mut sender = connect(addr).await?;
        tokio::spawn(async move {
            let mut us: Vec<u32> = Vec::new();
            let mut errors = 0usize;
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                tick.tick().await;
                let request = hyper::Request::get(format!("/sites/{SITE}/board"))
                    .header("host", "127.0.0.1")
                    .header("cookie", &who.cookie)
                    .body(Full::new(Bytes::new()))?;
                let sent = Instant::now();
                sender.ready().await?;
                let response = sender.send_request(request).await?;
                let ok = response.status().is_success();
                response.into_body().collect().await?;
                us.push(u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX));
                if !ok {
                    errors += 1;
                }
            }
            anyhow::Ok((us, errors))
        })
    };
    let mut tally = Tally::default();
    while let Some(done) = tasks.join_next().await {
        tally.merge(done??);
    }
    let seconds = start.elapsed().as_secs_f64();
    board_done.store(true, std::sync::atomic::Ordering::Relaxed);
    let (mut board_us, board_errors) = board.await??;

    // The board once more with the desks idle, to tell its own cost from the load's.
    let mut idle_us = Vec::new();
    {
        let mut sender = connect(addr).await?;
        for _ in 0..10 {
            let request = hyper::Request::get(format!("/sites/{SITE}/board"))
                .header("host", "127.0.0.1")
                .header("cookie", &world.manager.cookie)
                .body(Full::new(Bytes::new()))?;
            let sent = Instant::now();
            sender.ready().await?;
            let response = sender.send_request(request).await?;
            response.into_body().collect().await?;
            idle_us.push(u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX));
        }
    }
    // The close over the API, then the day's reconciliation, timed.
    let mut manager = Desk {
        sender: connect(addr).await?,
        who: world.manager.clone(),
        seq: 0,
        name: "manager".into(),
    };
    let closed = manager
        .post(
            &format!("/api/v1/sites/{SITE}/days/{today}/close"),
            String::new(),
        )
        .await?;
    if closed.0 != 201 {
        bail!(
            "closing the day answered {}: {}",
            closed.0,
            String::from_utf8_lossy(&closed.1)
        );
    }
    let mut reconcile_us = Vec::new();
    let mut day: Value = Value::Null;
    for _ in 0..5 {
        let request = hyper::Request::get(format!("/api/v1/sites/{SITE}/days/{today}"))
            .header("host", "127.0.0.1")
            .header("cookie", &world.manager.cookie)
            .body(Full::new(Bytes::new()))?;
        let sent = Instant::now();
        manager.sender.ready().await?;
        let response = manager.sender.send_request(request).await?;
        let bytes = response.into_body().collect().await?.to_bytes();
        reconcile_us.push(u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX));
        day = serde_json::from_slice(&bytes)?;
    }
    let check = audit(&db, &world, today, &day).await?;
    server.abort();
    db.close().await;

    let actions: usize = tally.us.values().map(Vec::len).sum();
    let mut kinds = serde_json::Map::new();
    let mut worst_p99: f64 = 0.0;
    for (kind, us) in tally.us.iter_mut() {
        let p99 = percentile_ms(us, 0.99);
        worst_p99 = worst_p99.max(p99);
        kinds.insert(
            (*kind).into(),
            json!({
                "count": us.len(),
                "p50_ms": round(percentile_ms(us, 0.50), 2),
                "p99_ms": round(p99, 2),
            }),
        );
    }
    Ok(json!({
        "seconds": round(seconds, 2),
        "actions": actions,
        "actions_per_second": round(actions as f64 / seconds, 0),
        "desk_actions": kinds,
        "worst_desk_p99_ms": round(worst_p99, 2),
        "refused": tally.refused,
        "errors": tally.errors,
        "board_renders": board_us.len(),
        "board_p95_ms": round(percentile_ms(&mut board_us, 0.95), 2),
        "board_errors": board_errors,
        "board_idle_p50_ms": round(percentile_ms(&mut idle_us, 0.5), 2),
        "reconciliation_ms": round(percentile_ms(&mut reconcile_us, 0.5), 1),
        "reconciliation_max_ms": round(percentile_ms(&mut reconcile_us, 1.0), 1),
        "check": check,
    }))
}

/// Reads the day back from the database: everyone booked in exactly one state and none left in
/// a site state, every ledger balanced, a dose record per vaccinated person.
async fn audit(db: &Db, world: &World, today: NaiveDate, day: &Value) -> anyhow::Result<Value> {
    let r = vaxloop_app::site_day::reconcile(db, chrono_tz::Asia::Shanghai, world.site_id, today)
        .await?;
    let mut read = db.begin_write().await?;
    let doses: i64 =
        sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM dose_records WHERE site_id = $1")
            .bind(world.site_id)
            .fetch_one(&mut *read)
            .await?;
    let in_site: i64 = sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM journeys WHERE state IN ('booked', 'checked_in', 'screened', 'observing')",
    )
    .fetch_one(&mut *read)
    .await?;
    read.rollback().await?;
    let t = r.total;
    let whole = t.whole() && t.booked == world.people.len() as i64;
    let balanced = r.lots.iter().all(|l| l.balanced());
    let ok = whole
        && t.in_progress == 0
        && t.expected == 0
        && balanced
        && doses == t.vaccinated
        && in_site == 0
        && day["total"]["vaccinated"].as_i64() == Some(t.vaccinated);
    Ok(json!({
        "booked": t.booked,
        "arrived": t.arrived,
        "vaccinated": t.vaccinated,
        "deferred": t.deferred,
        "left": t.left,
        "no_show": t.no_show,
        "every_person_in_one_state": whole && t.in_progress == 0 && t.expected == 0 && in_site == 0,
        "ledger_balanced": balanced,
        "dose_records": doses,
        "ok": ok,
    }))
}

fn print_table(name: &str, f: &Value) {
    let row = |label: &str, value: String| eprintln!("{label:<56} {value:>12}");
    eprintln!(
        "\nsite benchmark on {name} ({PEOPLE} people, 16 desks at full speed, the board every second)"
    );
    row("wall time (s)", f["seconds"].to_string());
    row("desk actions / s", f["actions_per_second"].to_string());
    if let Some(kinds) = f["desk_actions"].as_object() {
        for (kind, k) in kinds {
            row(
                &format!("  {kind}: count, p50 / p99 ms"),
                format!("{} {} / {}", k["count"], k["p50_ms"], k["p99_ms"]),
            );
        }
    }
    row(
        "worst desk p99 (ms, target ≤ 50)",
        f["worst_desk_p99_ms"].to_string(),
    );
    row(
        "board renders, p95 (ms, target ≤ 50)",
        format!("{} {}", f["board_renders"], f["board_p95_ms"]),
    );
    row(
        "  the board with the desks idle, p50 (ms)",
        f["board_idle_p50_ms"].to_string(),
    );
    row(
        "reconciliation (ms, target ≤ 1000)",
        f["reconciliation_ms"].to_string(),
    );
    row("invariants hold", f["check"]["ok"].to_string());
}
