//! `vaxloop-bench crash --vaxloop BIN [--kills N] DATABASE_URL…`: the crash-safety battery of
//! `docs/benchmarks.md` on each database named (SQLite and PostgreSQL).
//!
//! Per backend, on one fresh database: a site with today's slots holding 600 people in teams of
//! 20 (for the site's flow) and three later days' slots for 2,400 people waiting (for the desk),
//! doses received and allocated, a desk login and one login per station. `vaxloop serve` runs as
//! a child process; clients drive it over HTTP while a killer sends it SIGKILL at random moments
//! (`--kills`, at least 20) and starts it again:
//!
//! - the desk books people one at a time and as teams of five (`POST /api/v1/appointments`, each
//!   with an `Idempotency-Key`), cancels some of its single bookings (`DELETE`) and moves some of
//!   its teams to another start (the desk's form);
//! - the site's desks take today's people through check-in, screening, vaccination and release,
//!   each step keyed;
//! - once the site's flow is through, the manager closes the day (keyed).
//!
//! A request whose connection died is sent again, with the same key, once the server is back;
//! one told the key is still in flight (its server died between claiming and answering) is set
//! aside and sent again after the claim's lease. Every answer received is an acknowledgement.
//! After a last kill and restart: every acknowledged write must be in the database (a booking
//! held unless its cancellation was acknowledged, a cancellation, a move, a visit in its stage,
//! a dose, a release, the close); acknowledged keyed requests sent again must get the same
//! answer; and the invariants must hold (no slot or day over capacity, nobody booked twice, slot
//! counters equal to their appointments, every ledger balanced, one dose record per vaccinated
//! visit, today's people each in one state).

use std::collections::{BTreeMap, HashMap};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::{Datelike, NaiveDate, Timelike};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};
use sqlx::Row;
use tokio::sync::Mutex;
use vaxloop_core::{ResidentId, SiteKind, Source, UnitKind, WorkGroupKind, ZoneKind};
use vaxloop_store::org::{NewUnit, NewWorkGroup};
use vaxloop_store::people::NewPerson;
use vaxloop_store::sites::{NewSite, NewZone};
use vaxloop_store::vaccines::{self, NewVaccine};
use vaxloop_store::{DatabaseUrl, Db, PiiCipher, PiiKey, journeys, now_ms, org, people, sites};
use vaxloop_web::fixtures::{SignedIn, sign_in};

use crate::args;

const SITE: &str = "CSITE";
const UNITS: usize = 6;
const TODAY_PEOPLE: usize = 600;
const LATER_PEOPLE: usize = 2_400;
const TEAM_TODAY: usize = 20;
const LATER_DAYS: u64 = 3;

pub fn main(args: &[String]) -> anyhow::Result<()> {
    let bin: String = args::flag(args, "--vaxloop", String::new())?;
    if bin.is_empty() {
        bail!("usage: vaxloop-bench crash --vaxloop BIN [--kills N] DATABASE_URL…");
    }
    let kills: usize = args::flag(args, "--kills", 25)?;
    let urls: Vec<&String> = args
        .iter()
        .enumerate()
        .filter(|(i, a)| !a.starts_with("--") && (*i == 0 || !args[i - 1].starts_with("--")))
        .map(|(_, a)| a)
        .collect();
    if urls.is_empty() {
        bail!("usage: vaxloop-bench crash --vaxloop BIN [--kills N] DATABASE_URL…");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut line = serde_json::Map::new();
    line.insert("benchmark".into(), "crash".into());
    line.insert(
        "cores".into(),
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .into(),
    );
    let mut failed = false;
    for url in urls {
        let url: DatabaseUrl = url.parse()?;
        let name = url.backend().as_str().to_string();
        eprintln!("== {name}");
        let figures = runtime.block_on(backend(&bin, &url, kills.max(20)))?;
        failed |= figures["lost"].as_i64() != Some(0)
            || figures["server_errors"].as_i64() != Some(0)
            || figures["invariant_violations"].as_i64() != Some(0)
            || figures["replays_differing"].as_i64() != Some(0);
        print_table(&name, &figures);
        line.insert(name, figures);
    }
    println!("{}", Value::Object(line));
    if failed {
        bail!(
            "acknowledged writes were lost, answers changed, the server failed or invariants broke"
        );
    }
    Ok(())
}

/// The fixtures.
struct World {
    site_id: i64,
    lot_id: i64,
    today: NaiveDate,
    /// Today's people, in slot order: `(person id, appointment id)`.
    today_people: Vec<(i64, i64)>,
    /// People waiting, by unit.
    waiting: Vec<Vec<i64>>,
    /// The later days' slots: `(id, day, start "HH:MM")`.
    later_slots: Vec<(i64, String, String)>,
    questions: Vec<i64>,
    desk: SignedIn,
    manager: SignedIn,
    /// One login per station: check-in, screening, vaccination, observation.
    stations: BTreeMap<&'static str, SignedIn>,
    cipher: PiiCipher,
}

async fn make_world(db: &Db, cipher: &PiiCipher, today: NaiveDate) -> anyhow::Result<World> {
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    let group = org::insert_work_group(
        &mut tx,
        &NewWorkGroup {
            code: "GCRASH".into(),
            name: "崩溃测试工作组".into(),
            kind: WorkGroupKind::Street,
            leader_name: None,
        },
        now,
    )
    .await?;
    let site_id = sites::insert(
        &mut tx,
        &NewSite {
            code: SITE.into(),
            name: "崩溃测试接种点".into(),
            kind: SiteKind::Fixed,
            address: String::new(),
            lat: None,
            lon: None,
            open_from: None,
            open_until: None,
            hours: (0..7).map(|d| (d, 0, 24 * 60 - 30)).collect(),
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
    let mut units = Vec::new();
    for u in 0..UNITS {
        let id = org::insert_unit(
            &mut tx,
            cipher,
            &NewUnit {
                code: format!("UC{u:02}"),
                work_group_id: group,
                name: format!("崩溃测试单位{u}"),
                kind: UnitKind::Enterprise,
                address: String::new(),
                lat: None,
                lon: None,
                target_headcount: 500,
                contact_name: None,
                contact_phone: None,
                reg_token: format!("bench-crash-{u}"),
            },
            now,
        )
        .await?;
        sites::serve_unit(&mut tx, site_id, id, now).await?;
        units.push(id);
    }
    let vaccine = vaccines::insert_vaccine(
        &mut tx,
        &NewVaccine {
            code: "CRASH".into(),
            name: "灭活疫苗".into(),
            manufacturer: "测试".into(),
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
        let q = vaxloop_store::screening::add_question_in(
            &mut tx,
            vaccine,
            i as i64 + 1,
            zh,
            en,
            on_yes,
        )
        .await?;
        questions.push(q);
    }
    let expires = (today + chrono::Days::new(200)).to_string();
    let lot_id = vaccines::insert_lot(&mut tx, vaccine, "CRASH-LOT-1", &expires).await?;
    let date = today.to_string();
    let delivery = vaccines::plan_delivery(&mut tx, lot_id, site_id, &date, 4_000).await?;
    vaccines::receive_delivery(&mut tx, delivery, None, now).await?;
    let mut later_days = Vec::new();
    for d in 0..=LATER_DAYS {
        let day = today + chrono::Days::new(d);
        let doses = if d == 0 { 700 } else { 1_000 };
        vaccines::allocate(&mut tx, site_id, &day.to_string(), doses).await?;
        let weekday = i64::from(day.weekday().num_days_from_monday());
        let capacity = if d == 0 { TODAY_PEOPLE as i64 + 50 } else { 25 };
        vaxloop_store::slots::generate(&mut tx, site_id, &day.to_string(), weekday, 30, |_| {
            (capacity, "bench".into())
        })
        .await?;
        if d > 0 {
            later_days.push(day.to_string());
        }
    }
    let born = NaiveDate::from_ymd_opt(1960, 1, 1).context("date")?;
    let list: Vec<NewPerson> = (0..TODAY_PEOPLE + LATER_PEOPLE)
        .map(|i| NewPerson {
            unit_id: units[i % UNITS],
            name: format!("受种者{i}"),
            resident_id: ResidentId::compose(
                310113,
                born + chrono::Days::new((i / 900) as u64),
                (i % 900) as u16,
            ),
            phone: None,
            disabled: false,
            consent: None,
            source: Source::Import,
            confirmed: true,
            note: None,
        })
        .collect();
    people::insert_many(&mut tx, cipher, &list, now).await?;
    journeys::open_for_registered(&mut tx, None, now).await?;
    let hash = vaxloop_core::password::hash("bench-crash-1357");
    let mut logins: Vec<(&'static str, i64)> = Vec::new();
    for post in [
        "desk",
        "manager",
        "check_in",
        "screening",
        "vaccinator",
        "observation",
    ] {
        let (role, site, post_col) = match post {
            "desk" => ("desk", None, None),
            p => ("site_staff", Some(site_id), Some(p)),
        };
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (username, display_name, password_hash, role, site_id, site_post, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(format!("crash.{post}"))
        .bind(post)
        .bind(&hash)
        .bind(role)
        .bind(site)
        .bind(post_col)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        logins.push((post, id));
    }
    tx.commit().await?;

    // Today's people in teams, into today's slots from the first that has not started.
    let tz = chrono_tz::Asia::Shanghai;
    let slots = vaxloop_store::slots::of_site_day(db, site_id, &date).await?;
    // Everyone today in the slot that holds the site's present moment, so they may check in now.
    let local = chrono::Utc::now().with_timezone(&tz);
    let minute = i64::from(local.hour() * 60 + local.minute());
    let now_slot = slots
        .iter()
        .rev()
        .find(|s| s.starts_min <= minute)
        .unwrap_or(&slots[0]);
    let mut waiting = Vec::new();
    let per_unit = TODAY_PEOPLE / UNITS;
    for &unit in &units {
        let all = journeys::waiting_of_unit(db, unit, 1, 10_000).await?;
        let (now_people, later) = all.split_at(per_unit.min(all.len()));
        for team in now_people.chunks(TEAM_TODAY) {
            vaxloop_app::booking::engine::book_team(db, tz, unit, now_slot.id, team, 1)
                .await?
                .map_err(|r| anyhow::anyhow!("booking a team: {r:?}"))?;
        }
        waiting.push(later.to_vec());
    }
    let mut read = db.begin_write().await?;
    let rows = sqlx::query(
        "SELECT a.person_id, a.id FROM appointments a JOIN slots s ON s.id = a.slot_id \
         WHERE s.site_id = $1 AND s.day = $2 AND a.status = 'active' ORDER BY s.starts_min, a.id",
    )
    .bind(site_id)
    .bind(&date)
    .fetch_all(&mut *read)
    .await?;
    read.rollback().await?;
    let today_people = rows
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect::<Result<Vec<(i64, i64)>, sqlx::Error>>()?;
    let mut later_slots = Vec::new();
    for day in &later_days {
        for s in vaxloop_store::slots::of_site_day(db, site_id, day).await? {
            let start = format!("{:02}:{:02}", s.starts_min / 60, s.starts_min % 60);
            later_slots.push((s.id, day.clone(), start));
        }
    }
    let app = vaxloop_app::App::new(db.clone(), cipher.clone(), tz);
    let pairs: Vec<(i64, String)> = logins.iter().map(|l| (l.1, hash.clone())).collect();
    let signed = sign_in(&app, &pairs, 600).await?;
    let mut by_post: HashMap<&'static str, SignedIn> =
        logins.iter().map(|l| l.0).zip(signed).collect();
    let mut take = |post: &str| by_post.remove(post).context("a login");
    let desk = take("desk")?;
    let manager = take("manager")?;
    let mut stations = BTreeMap::new();
    for post in ["check_in", "screening", "vaccinator", "observation"] {
        stations.insert(post, take(post)?);
    }
    Ok(World {
        site_id,
        lot_id,
        today,
        today_people,
        waiting,
        later_slots,
        questions,
        desk,
        manager,
        stations,
        cipher: cipher.clone(),
    })
}

/// The server as a child process, killed and started again.
struct Server {
    bin: String,
    url: String,
    key_hex: String,
    port: u16,
    child: Option<Child>,
    /// Where the server's errors go (one file over all its lives).
    log: std::fs::File,
    /// Bumped at every start: a client that saw a connection fail waits for the next one.
    generation: Arc<AtomicUsize>,
}

impl Server {
    async fn start(&mut self) -> anyhow::Result<()> {
        let child = Command::new(&self.bin)
            .args(["serve", "--database-url", &self.url, "--addr"])
            .arg(format!("127.0.0.1:{}", self.port))
            .env("VAXLOOP_PII_KEY", &self.key_hex)
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .stderr(
                self.log
                    .try_clone()
                    .map_or_else(|_| Stdio::null(), Stdio::from),
            )
            .spawn()
            .context("starting vaxloop serve")?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(answer) = get(self.port, "/healthz", None).await
                && answer.0 == 200
            {
                break;
            }
            if Instant::now() > deadline {
                bail!("the server did not come up");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.generation.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    /// SIGKILL: no shutdown, no flushing, as a power cut would leave the process.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

type Answer = (u16, Vec<u8>, Option<String>);

/// One request on a fresh connection: the status, the body and the `Location` (30 seconds at
/// most, connection to last byte).
async fn send(
    port: u16,
    method: &str,
    path: &str,
    who: Option<&SignedIn>,
    body: Option<(&str, &str)>,
    key: Option<&str>,
) -> anyhow::Result<Answer> {
    tokio::time::timeout(
        Duration::from_secs(30),
        send_once(port, method, path, who, body, key),
    )
    .await
    .context("no answer in 30 s")?
}

async fn send_once(
    port: u16,
    method: &str,
    path: &str,
    who: Option<&SignedIn>,
    body: Option<(&str, &str)>,
    key: Option<&str>,
) -> anyhow::Result<Answer> {
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
    let mut sender = crate::booking::connect(addr).await?;
    let mut request = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("host", "127.0.0.1");
    if let Some(who) = who {
        request = request
            .header("cookie", &who.cookie)
            .header("x-csrf-token", &who.csrf);
    }
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    let request = match body {
        Some((kind, text)) => request
            .header("content-type", kind)
            .body(Full::new(Bytes::from(text.to_string())))?,
        None => request.body(Full::new(Bytes::new()))?,
    };
    sender.ready().await?;
    let response = sender.send_request(request).await?;
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let bytes = response.into_body().collect().await?.to_bytes().to_vec();
    Ok((status, bytes, location))
}

async fn get(port: u16, path: &str, who: Option<&SignedIn>) -> anyhow::Result<Answer> {
    send(port, "GET", path, who, None, None).await
}

/// A keyed JSON request as a client that does not give up: a dropped connection is sent again,
/// same key, once the server is back; `None` when the key is in flight (set aside for later).
struct Client {
    port: u16,
    generation: Arc<AtomicUsize>,
    /// Requests that had to be sent again after a connection died.
    resent: usize,
    /// Answers 5xx, over all clients (each sent again).
    server_errors: Arc<AtomicUsize>,
}

/// A write that was answered: what to check it by, and the request to send again.
#[derive(Debug, Clone)]
struct Ack {
    what: Effect,
    replay: Option<Replay>,
}

#[derive(Debug, Clone)]
struct Replay {
    who: &'static str,
    method: &'static str,
    path: String,
    body: String,
    key: String,
    status: u16,
    answer: Vec<u8>,
}

#[derive(Debug, Clone)]
enum Effect {
    /// These people hold a booking (wherever a later move put them).
    Booked(Vec<i64>),
    Cancelled(i64),
    /// The team led by `lead` (its first person) starts at `slot`, unless a later move of it
    /// was tried (`seq` is this move's place among the tries).
    Moved {
        lead: i64,
        seq: usize,
        slot: i64,
    },
    Stage {
        visit: i64,
        at_least: &'static str,
    },
    Closed,
    /// A refusal (`path-kind:error`): nothing to find, but its answer must come back the same.
    Refused(String),
}

/// What a refusal was: the request's last path segment and the answer's error code.
fn refusal(path: &str, answer: &Answer) -> Effect {
    let kind = path.rsplit('/').next().unwrap_or(path);
    let code = json_of(answer)["error"]
        .as_str()
        .map_or_else(|| answer.0.to_string(), str::to_string);
    Effect::Refused(format!("{kind}:{code}"))
}

impl Client {
    /// Sends until an answer comes; `Ok(None)` when the key is still in flight.
    async fn keyed(
        &mut self,
        method: &str,
        path: &str,
        who: &SignedIn,
        body: &str,
        key: &str,
    ) -> anyhow::Result<Option<Answer>> {
        let mut tries = 0;
        loop {
            let seen = self.generation.load(Ordering::SeqCst);
            let body = (!body.is_empty()).then_some(("application/json", body));
            match send(self.port, method, path, Some(who), body, Some(key)).await {
                Ok(answer) if answer.0 == 409 && in_flight(&answer.1) => return Ok(None),
                // A server error is no answer: nothing was kept under the key; send it again.
                Ok(answer) if answer.0 >= 500 => {
                    self.server_errors.fetch_add(1, Ordering::SeqCst);
                    tries += 1;
                    if tries > 50 {
                        bail!("{method} {path}: {} again and again", answer.0);
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Ok(answer) => return Ok(Some(answer)),
                Err(_) => {
                    tries += 1;
                    if tries == 1 {
                        self.resent += 1;
                    }
                    if tries > 100 {
                        bail!("{method} {path}: the server never answered");
                    }
                    // Wait for the server's next start (or a moment, if it was only busy).
                    let waited = Instant::now();
                    while self.generation.load(Ordering::SeqCst) == seen
                        && waited.elapsed() < Duration::from_secs(2)
                    {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
            }
        }
    }

    /// A form post (the desk's move): sent again after a dropped connection.
    async fn form(&mut self, path: &str, who: &SignedIn, fields: &str) -> anyhow::Result<Answer> {
        let body = format!("csrf_token={}&{fields}", who.csrf);
        for _ in 0..100 {
            let seen = self.generation.load(Ordering::SeqCst);
            let kind = "application/x-www-form-urlencoded";
            match send(
                self.port,
                "POST",
                path,
                Some(who),
                Some((kind, &body)),
                None,
            )
            .await
            {
                Ok(answer) => return Ok(answer),
                Err(_) => {
                    self.resent += 1;
                    let waited = Instant::now();
                    while self.generation.load(Ordering::SeqCst) == seen
                        && waited.elapsed() < Duration::from_secs(2)
                    {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
            }
        }
        bail!("POST {path}: the server never answered")
    }
}

fn in_flight(body: &[u8]) -> bool {
    serde_json::from_slice::<Value>(body).is_ok_and(|v| v["error"] == "in_flight")
}

/// What a client's run gave: its acknowledgements, the requests set aside in flight, how many
/// it sent again.
#[derive(Default)]
struct Outcome {
    acks: Vec<Ack>,
    parked: Vec<Parked>,
    resent: usize,
    /// People whose booking's cancellation was sent (answered or not).
    cancel_tried: Vec<i64>,
    /// The last move tried of each team, by its lead.
    last_move: HashMap<i64, usize>,
}

#[derive(Debug, Clone)]
struct Parked {
    who: &'static str,
    method: &'static str,
    path: String,
    body: String,
    key: String,
    effect: Effect,
    /// When it was set aside: its claim is at least this old.
    at: Instant,
}

/// The acknowledgement an answer to a parked request makes.
fn acked(p: Parked, answer: Answer) -> Ack {
    let ok = matches!(answer.0, 200 | 201);
    let what = match (&p.effect, ok) {
        (Effect::Stage { visit: 0, .. }, true) => Effect::Stage {
            visit: json_of(&answer)["visit_id"].as_i64().unwrap_or(0),
            at_least: "checked_in",
        },
        (e, true) => e.clone(),
        _ => refusal(&p.path, &answer),
    };
    Ack {
        what,
        replay: Some(Replay {
            who: p.who,
            method: p.method,
            path: p.path,
            body: p.body,
            key: p.key,
            status: answer.0,
            answer: answer.1,
        }),
    }
}

/// Sends what was set aside in flight again once its claim's lease has run out (counting the
/// answers' kinds into `seen`).
async fn resend_parked(
    c: &mut Client,
    world: &World,
    parked: Vec<Parked>,
    seen: &mut BTreeMap<String, usize>,
) -> anyhow::Result<Vec<Ack>> {
    let Some(last) = parked.iter().map(|p| p.at).max() else {
        return Ok(Vec::new());
    };
    let lease = Duration::from_millis(
        u64::try_from(vaxloop_store::idempotency::IN_FLIGHT_LEASE_MS).unwrap_or(60_000),
    );
    let wait = (lease + Duration::from_secs(1)).saturating_sub(last.elapsed());
    eprintln!(
        "   {} requests in flight at a kill: sent again in {}s",
        parked.len(),
        wait.as_secs()
    );
    tokio::time::sleep(wait).await;
    let mut acks = Vec::new();
    for p in parked {
        let who = who_is(world, p.who);
        let answer = c
            .keyed(p.method, &p.path, who, &p.body, &p.key)
            .await?
            .context("still in flight after the lease")?;
        let kind = p.path.rsplit('/').next().unwrap_or("");
        *seen.entry(format!("{kind}:{}", answer.0)).or_default() += 1;
        acks.push(acked(p, answer));
    }
    Ok(acks)
}

fn json_of(answer: &Answer) -> Value {
    serde_json::from_slice(&answer.1).unwrap_or(Value::Null)
}

/// The desk's work: single and team bookings on the later days, cancellations, team moves.
async fn desk_run(
    mut c: Client,
    world: Arc<World>,
    killing: Arc<AtomicBool>,
    seed: u64,
) -> anyhow::Result<Outcome> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Outcome::default();
    // Each desk its own half of the people waiting.
    let mut queues: Vec<Vec<i64>> = (world.waiting.iter())
        .map(|q| {
            (q.iter().enumerate())
                .filter(|(i, _)| *i as u64 % 2 == seed % 2)
                .map(|(_, p)| *p)
                .collect()
        })
        .collect();
    // Single bookings as (appointment, person); teams as (code, lead).
    let mut singles: Vec<(i64, i64)> = Vec::new();
    let mut teams: Vec<(String, i64)> = Vec::new();
    let mut n = 0u64;
    let mut moves = 0usize;
    while killing.load(Ordering::SeqCst) {
        n += 1;
        let key = format!("desk-{seed}-{n}");
        let pick: f64 = rng.random();
        if pick < 0.15 && !singles.is_empty() {
            // Cancel one of the desk's single bookings.
            let (id, person) = singles.swap_remove(rng.random_range(0..singles.len()));
            out.cancel_tried.push(person);
            let path = format!("/api/v1/appointments/{id}");
            let answer = c.keyed("DELETE", &path, &world.desk, "", &key).await?;
            if let Some(answer) = answer
                && answer.0 == 204
            {
                out.acks.push(Ack {
                    what: Effect::Cancelled(id),
                    replay: None,
                });
            }
            continue;
        }
        if pick < 0.25 && !teams.is_empty() {
            // Move one of the desk's teams to another start on a later day.
            let t = rng.random_range(0..teams.len());
            let (team, lead) = teams[t].clone();
            let (slot, day, start) =
                &world.later_slots[rng.random_range(0..world.later_slots.len())];
            let path = format!("/desk/teams/{team}/move");
            let fields = format!("site={SITE}&day={day}&start={start}");
            moves += 1;
            out.last_move.insert(lead, moves);
            let answer = c.form(&path, &world.desk, &fields).await?;
            match answer
                .2
                .as_deref()
                .and_then(|l| l.strip_prefix("/desk?moved="))
            {
                Some(now) => {
                    // A move books the team afresh, under a code of its new day.
                    teams[t].0 = now.to_string();
                    out.acks.push(Ack {
                        what: Effect::Moved {
                            lead,
                            seq: moves,
                            slot: *slot,
                        },
                        replay: None,
                    });
                }
                // Refused (no room), or lost with a dropped connection: its code is unknown
                // now, so the desk leaves the team alone.
                None if answer.0 == 303 || answer.0 == 200 || answer.0 == 409 => {}
                None => {
                    teams.swap_remove(t);
                }
            }
            continue;
        }
        let unit = rng.random_range(0..queues.len());
        let size = if pick < 0.55 { 5 } else { 1 };
        if queues[unit].len() < size {
            continue;
        }
        let people: Vec<i64> = queues[unit].drain(..size).collect();
        let (slot, _, _) = &world.later_slots[rng.random_range(0..world.later_slots.len())];
        let body = json!({ "slot_id": slot, "people": people, "spread": size > 1 }).to_string();
        let Some(answer) = c
            .keyed("POST", "/api/v1/appointments", &world.desk, &body, &key)
            .await?
        else {
            bail!("a booking's key was in flight: bookings keep their keys with their writes");
        };
        let v = json_of(&answer);
        let effect = if answer.0 == 201 {
            let ids: Vec<i64> = v["appointments"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_i64).collect())
                .unwrap_or_default();
            match v["team"].as_str() {
                Some(team) => teams.push((team.to_string(), people[0])),
                None => singles.extend(ids.iter().map(|&id| (id, people[0]))),
            }
            Effect::Booked(people)
        } else {
            // Refused (a full slot): the people wait for another try.
            queues[unit].extend(people);
            refusal("/api/v1/appointments", &answer)
        };
        out.acks.push(Ack {
            what: effect,
            replay: Some(Replay {
                who: "desk",
                method: "POST",
                path: "/api/v1/appointments".into(),
                body,
                key,
                status: answer.0,
                answer: answer.1,
            }),
        });
    }
    out.resent = c.resent;
    Ok(out)
}

/// One step of a person's flow through the site, keyed: its effect when it is answered 2xx.
struct Step {
    post: &'static str,
    path: String,
    body: String,
    at_least: &'static str,
}

/// The site's desks: today's people, one after another, through the four stations.
async fn site_run(
    mut c: Client,
    world: Arc<World>,
    next: Arc<Mutex<usize>>,
    worker: usize,
) -> anyhow::Result<Outcome> {
    let mut out = Outcome::default();
    loop {
        let i = {
            let mut n = next.lock().await;
            let i = *n;
            *n += 1;
            i
        };
        let Some(&(person, appointment)) = world.today_people.get(i) else {
            break;
        };
        // A little pacing, so the day spans the kills.
        tokio::time::sleep(Duration::from_millis(15)).await;
        let key = |step: &str| format!("site-{worker}-{i}-{step}");
        let checkin = Step {
            post: "check_in",
            path: format!("/api/v1/sites/{SITE}/checkins"),
            body: json!({ "code": format!("VXL1:{}", world.cipher.sign("person", person)) })
                .to_string(),
            at_least: "checked_in",
        };
        let Some(visit) = step(&mut c, &world, &mut out, checkin, key("in"), None).await? else {
            continue;
        };
        let answers: Vec<Value> = (world.questions.iter())
            .map(|q| json!({ "question": q, "yes": false }))
            .collect();
        let screen = Step {
            post: "screening",
            path: format!("/api/v1/sites/{SITE}/screenings"),
            body: json!({ "visit_id": visit, "answers": answers, "outcome": "pass" }).to_string(),
            at_least: "screened",
        };
        if step(&mut c, &world, &mut out, screen, key("screen"), Some(visit))
            .await?
            .is_none()
        {
            continue;
        }
        let code = world.cipher.presence_code(appointment);
        let dose = Step {
            post: "vaccinator",
            path: format!("/api/v1/sites/{SITE}/vaccinations"),
            body: json!({ "visit_id": visit, "lot_id": world.lot_id, "presence_code": code,
                          "observation_minutes": 0 })
            .to_string(),
            at_least: "vaccinated",
        };
        if step(&mut c, &world, &mut out, dose, key("dose"), Some(visit))
            .await?
            .is_none()
        {
            continue;
        }
        let release = Step {
            post: "observation",
            path: format!("/api/v1/sites/{SITE}/releases"),
            body: json!({ "visit_id": visit }).to_string(),
            at_least: "released",
        };
        step(&mut c, &world, &mut out, release, key("out"), Some(visit)).await?;
    }
    out.resent = c.resent;
    Ok(out)
}

/// Sends one step; the visit it names (from the check-in's answer, or `visit`) when it went
/// through, `None` when it did not (refused, or set aside in flight).
async fn step(
    c: &mut Client,
    world: &World,
    out: &mut Outcome,
    s: Step,
    key: String,
    visit: Option<i64>,
) -> anyhow::Result<Option<i64>> {
    let who = &world.stations[s.post];
    match c.keyed("POST", &s.path, who, &s.body, &key).await? {
        None => {
            out.parked.push(Parked {
                who: s.post,
                method: "POST",
                path: s.path,
                body: s.body,
                key,
                effect: Effect::Stage {
                    visit: visit.unwrap_or(0),
                    at_least: s.at_least,
                },
                at: Instant::now(),
            });
            Ok(None)
        }
        Some(answer) => {
            let v = json_of(&answer);
            let ok = matches!(answer.0, 200 | 201);
            let visit = visit.or_else(|| v["visit_id"].as_i64());
            let effect = match (ok, visit) {
                (true, Some(visit)) => Effect::Stage {
                    visit,
                    at_least: s.at_least,
                },
                _ => refusal(&s.path, &answer),
            };
            out.acks.push(Ack {
                what: effect,
                replay: Some(Replay {
                    who: s.post,
                    method: "POST",
                    path: s.path,
                    body: s.body,
                    key,
                    status: answer.0,
                    answer: answer.1,
                }),
            });
            Ok(if ok { visit } else { None })
        }
    }
}

async fn backend(bin: &str, url: &DatabaseUrl, kills: usize) -> anyhow::Result<Value> {
    let db = Db::connect(url).await?;
    db.migrate().await?;
    let key = PiiKey::generate();
    let cipher = PiiCipher::new(&key);
    let today = vaxloop_web::WebConfig::default().today();
    let world = Arc::new(make_world(&db, &cipher, today).await?);
    db.close().await;

    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0")?;
        l.local_addr()?.port()
    };
    let generation = Arc::new(AtomicUsize::new(0));
    let mut server = Server {
        bin: bin.to_string(),
        url: url.as_str().to_string(),
        key_hex: key.to_hex(),
        port,
        child: None,
        log: std::fs::OpenOptions::new().create(true).append(true).open(
            std::env::temp_dir().join(format!("vaxloop-crash-{}.log", url.backend().as_str())),
        )?,
        generation: generation.clone(),
    };
    server.start().await?;
    let killing = Arc::new(AtomicBool::new(true));
    let server_errors = Arc::new(AtomicUsize::new(0));
    let client = || Client {
        port,
        generation: generation.clone(),
        resent: 0,
        server_errors: server_errors.clone(),
    };
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for seed in 0..2u64 {
        tasks.spawn(desk_run(client(), world.clone(), killing.clone(), seed + 1));
    }
    let next = Arc::new(Mutex::new(0usize));
    let site_tasks: Vec<_> = (0..2)
        .map(|w| tokio::spawn(site_run(client(), world.clone(), next.clone(), w)))
        .collect();

    // Phase 1, the killer: SIGKILL at random moments, then start again, while the desk books,
    // cancels and moves and the site's desks take today's people through.
    let mut rng = ChaCha8Rng::seed_from_u64(99);
    for _ in 0..kills {
        let pause = rng.random_range(150..900);
        tokio::time::sleep(Duration::from_millis(pause)).await;
        server.kill();
        server.start().await?;
    }
    let kill_phase = started.elapsed();
    killing.store(false, Ordering::SeqCst);
    let mut outcomes = Vec::new();
    for t in site_tasks {
        outcomes.push(t.await??);
    }
    while let Some(done) = tasks.join_next().await {
        outcomes.push(done??);
    }
    let mut acks = Vec::new();
    let mut parked = Vec::new();
    let mut resent = 0;
    let mut tried = Tried::default();
    for o in outcomes {
        acks.extend(o.acks);
        parked.extend(o.parked);
        resent += o.resent;
        tried.cancels.extend(o.cancel_tried);
        tried.moves.extend(o.last_move);
    }

    // Phase 2: what was in flight at a kill, sent again once the dead servers' claims lapsed.
    let mut in_flight = parked.len();
    let mut after_lease: BTreeMap<String, usize> = BTreeMap::new();
    let mut c = client();
    acks.extend(resend_parked(&mut c, &world, parked, &mut after_lease).await?);

    // Phase 3: the manager closes the day, and the server is killed while it does.
    let path = format!("/api/v1/sites/{SITE}/days/{}/close", world.today);
    let key = "close-1".to_string();
    let closing = {
        let (mut c, world, path, key) = (client(), world.clone(), path.clone(), key.clone());
        tokio::spawn(async move {
            let answer = c.keyed("POST", &path, &world.manager, "{}", &key).await;
            answer.map(|a| (a, c.resent))
        })
    };
    tokio::time::sleep(Duration::from_millis(rng.random_range(2..40))).await;
    server.kill();
    server.start().await?;
    let (answer, more) = closing.await??;
    resent += more;
    let close = Parked {
        who: "manager",
        method: "POST",
        path,
        body: "{}".into(),
        key,
        effect: Effect::Closed,
        at: Instant::now(),
    };
    match answer {
        None => {
            in_flight += 1;
            acks.extend(resend_parked(&mut c, &world, vec![close], &mut after_lease).await?);
        }
        Some(answer) => acks.push(acked(close, answer)),
    }

    // A last kill, a last start; then every acknowledged keyed request again.
    server.kill();
    server.start().await?;
    let mut replays = 0;
    let mut differing = 0;
    let replaying = Instant::now();
    for ack in &acks {
        let Some(r) = &ack.replay else { continue };
        if replays % 500 == 0 {
            eprintln!(
                "   replayed {replays} in {:.1}s",
                replaying.elapsed().as_secs_f64()
            );
        }
        let who = who_is(&world, r.who);
        let body = (!r.body.is_empty()).then_some(("application/json", r.body.as_str()));
        let again = send(port, r.method, &r.path, Some(who), body, Some(&r.key)).await?;
        replays += 1;
        if again.0 != r.status || again.1 != r.answer {
            differing += 1;
            if differing <= 5 {
                eprintln!(
                    "   DIFFERENT ANSWER for {} {} ({}): {} then {}",
                    r.method, r.path, r.key, r.status, again.0
                );
            }
        }
    }
    server.kill();

    let db = Db::connect(url).await?;
    let (lost, checked) = lost(&db, &acks, &tried).await?;
    let invariants = invariants(&db, &world).await?;
    db.close().await;
    let violations = invariants.values().filter_map(Value::as_i64).sum::<i64>();
    let count = |f: fn(&Effect) -> bool| acks.iter().filter(|a| f(&a.what)).count();
    let mut refusals: BTreeMap<&str, usize> = BTreeMap::new();
    for a in &acks {
        if let Effect::Refused(kind) = &a.what {
            *refusals.entry(kind).or_default() += 1;
        }
    }
    Ok(json!({
        "kills": kills + 2,
        "kill_phase_seconds": (kill_phase.as_secs_f64() * 10.0).round() / 10.0,
        "acknowledged": acks.len(),
        "acknowledged_writes": checked,
        "bookings": count(|e| matches!(e, Effect::Booked(_))),
        "cancellations": count(|e| matches!(e, Effect::Cancelled(_))),
        "moves": count(|e| matches!(e, Effect::Moved { .. })),
        "site_steps": count(|e| matches!(e, Effect::Stage { .. })),
        "closes": count(|e| matches!(e, Effect::Closed)),
        "refusals": count(|e| matches!(e, Effect::Refused(_))),
        "refusals_by_kind": refusals,
        "resent_after_a_dropped_connection": resent,
        "server_errors": server_errors.load(Ordering::SeqCst),
        "in_flight_at_a_kill": in_flight,
        "in_flight_answers_after_the_lease": after_lease,
        "replays": replays,
        "replays_differing": differing,
        "lost": lost,
        "invariants": invariants,
        "invariant_violations": violations,
    }))
}

fn who_is<'a>(world: &'a World, post: &str) -> &'a SignedIn {
    match post {
        "desk" => &world.desk,
        "manager" => &world.manager,
        p => &world.stations[p],
    }
}

/// What the desk tried, answered or not: the people whose booking it tried to cancel, and the
/// last move tried of each team (by lead).
#[derive(Default)]
struct Tried {
    cancels: std::collections::HashSet<i64>,
    moves: HashMap<i64, usize>,
}

/// How many acknowledged writes are not in the database, and how many were checked.
async fn lost(db: &Db, acks: &[Ack], tried: &Tried) -> anyhow::Result<(usize, usize)> {
    // How far along a visit's stages each step must at least have brought it.
    let reached = |stage: &str, at_least: &str| -> bool {
        let rank = |s: &str| match s {
            "waiting" | "deferred" | "referred" => 0,
            "ready" => 1,
            "vaccinated" | "observing" => 2,
            "released" => 3,
            _ => -1,
        };
        let need = match at_least {
            "checked_in" => 0,
            "screened" => 1,
            "vaccinated" => 2,
            _ => 3,
        };
        rank(stage) >= need
    };
    let mut tx = db.begin_write().await?;
    let mut lost = 0;
    let mut checked = 0;
    for a in acks {
        let found = match &a.what {
            Effect::Booked(people) => {
                checked += 1;
                let mut all = true;
                for p in people {
                    let held: i64 = sqlx::query_scalar(
                        "SELECT CAST(COUNT(*) AS BIGINT) FROM appointments WHERE person_id = $1 AND status = 'active'",
                    )
                    .bind(p)
                    .fetch_one(&mut *tx)
                    .await?;
                    all &= held == 1 || tried.cancels.contains(p);
                }
                all
            }
            Effect::Cancelled(id) => {
                checked += 1;
                let status: Option<String> =
                    sqlx::query_scalar("SELECT status FROM appointments WHERE id = $1")
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await?;
                status.as_deref() == Some("cancelled")
            }
            Effect::Moved { lead, seq, slot } => {
                checked += 1;
                if tried.moves.get(lead) != Some(seq) {
                    true
                } else {
                    // A team starts at the first slot with room from the one asked for, that day.
                    let there: i64 = sqlx::query_scalar(
                        "SELECT CAST(COUNT(*) AS BIGINT) FROM appointments a JOIN slots s ON s.id = a.slot_id \
                         JOIN slots asked ON asked.id = $2 \
                         WHERE a.person_id = $1 AND a.status = 'active' AND s.site_id = asked.site_id \
                         AND s.day = asked.day AND s.starts_min >= asked.starts_min",
                    )
                    .bind(lead)
                    .bind(slot)
                    .fetch_one(&mut *tx)
                    .await?;
                    there == 1
                }
            }
            Effect::Stage { visit, at_least } => {
                checked += 1;
                let stage: Option<String> =
                    sqlx::query_scalar("SELECT stage FROM visits WHERE id = $1")
                        .bind(visit)
                        .fetch_optional(&mut *tx)
                        .await?;
                stage.is_some_and(|s| reached(&s, at_least))
            }
            Effect::Closed => {
                checked += 1;
                let n: i64 = sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM day_closes")
                    .fetch_one(&mut *tx)
                    .await?;
                n == 1
            }
            Effect::Refused(_) => true,
        };
        if !found {
            lost += 1;
            if lost <= 5 {
                eprintln!("   LOST: {:?}", a.what);
            }
        }
    }
    tx.rollback().await?;
    Ok((lost, checked))
}

/// The invariants, each as a count of what breaks it.
async fn invariants(db: &Db, world: &World) -> anyhow::Result<serde_json::Map<String, Value>> {
    let mut out = serde_json::Map::new();
    let mut tx = db.begin_write().await?;
    for (name, sql) in [
        (
            "beyond_slot_capacity",
            "SELECT CAST(COUNT(*) AS BIGINT) FROM slots s WHERE s.site_id = $1 AND \
             (SELECT COUNT(*) FROM appointments a WHERE a.slot_id = s.id AND a.status <> 'cancelled') > s.capacity",
        ),
        (
            "beyond_day_doses",
            "SELECT CAST(COUNT(*) AS BIGINT) FROM site_days d WHERE d.site_id = $1 AND \
             (SELECT COUNT(*) FROM appointments a JOIN slots s ON s.id = a.slot_id \
              WHERE s.site_id = d.site_id AND s.day = d.day AND a.status <> 'cancelled') > d.doses_allocated",
        ),
        (
            "people_booked_twice",
            "SELECT CAST(COUNT(*) AS BIGINT) FROM (SELECT a.person_id FROM appointments a JOIN slots s ON s.id = a.slot_id \
             WHERE s.site_id = $1 AND a.status = 'active' GROUP BY a.person_id, a.dose_number HAVING COUNT(*) > 1) t",
        ),
        (
            "slot_counters_off",
            "SELECT CAST(COUNT(*) AS BIGINT) FROM slots s WHERE s.site_id = $1 AND s.booked <> \
             (SELECT COUNT(*) FROM appointments a WHERE a.slot_id = s.id AND a.status <> 'cancelled')",
        ),
        (
            "doses_without_a_vaccinated_visit",
            "SELECT CAST(COUNT(*) AS BIGINT) FROM dose_records r WHERE r.site_id = $1 AND NOT EXISTS \
             (SELECT 1 FROM visits v WHERE v.id = r.visit_id AND v.stage IN ('vaccinated', 'observing', 'released'))",
        ),
        (
            "vaccinated_visits_without_one_dose",
            "SELECT CAST(COUNT(*) AS BIGINT) FROM visits v WHERE v.site_id = $1 \
             AND v.stage IN ('vaccinated', 'observing', 'released') AND \
             (SELECT COUNT(*) FROM dose_records r WHERE r.visit_id = v.id) <> 1",
        ),
    ] {
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(world.site_id)
            .fetch_one(&mut *tx)
            .await?;
        out.insert(name.into(), n.into());
    }
    tx.rollback().await?;
    let r =
        vaxloop_app::site_day::reconcile(db, chrono_tz::Asia::Shanghai, world.site_id, world.today)
            .await?;
    let unbalanced = r.lots.iter().filter(|l| !l.balanced()).count();
    out.insert("ledgers_unbalanced".into(), unbalanced.into());
    let t = r.total;
    out.insert(
        "today_not_in_one_state".into(),
        i64::from(!t.whole() || t.booked != world.today_people.len() as i64).into(),
    );
    Ok(out)
}

fn print_table(name: &str, f: &Value) {
    println!("\ncrash battery on {name}");
    for key in [
        "kills",
        "kill_phase_seconds",
        "acknowledged",
        "acknowledged_writes",
        "bookings",
        "cancellations",
        "moves",
        "site_steps",
        "closes",
        "refusals",
        "resent_after_a_dropped_connection",
        "server_errors",
        "in_flight_at_a_kill",
        "replays",
        "replays_differing",
        "lost",
        "invariant_violations",
    ] {
        println!("  {key:<40} {:>10}", f[key]);
    }
    println!("  refusals by kind: {}", f["refusals_by_kind"]);
    println!(
        "  answers to what was in flight, after the lease: {}",
        f["in_flight_answers_after_the_lease"]
    );
}
