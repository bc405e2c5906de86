//! A minimal browser for in-process tests: keeps cookies, finds the CSRF token in pages.

use std::collections::HashMap;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{HeaderMap, Request, StatusCode, header};
use tower::ServiceExt;
use vaxloop_demo::{Town, TownSpec};
use vaxloop_store::testing::TestDb;
use vaxloop_web::{AppState, WebConfig, router};

pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
    /// The body as it came (a spreadsheet, a PDF).
    pub bytes: Vec<u8>,
}

impl Response {
    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The page's CSRF token (from the first form that carries one).
    pub fn csrf(&self) -> String {
        let marker = "name=\"csrf_token\" value=\"";
        let start = self
            .body
            .find(marker)
            .map(|i| i + marker.len())
            .expect("page has a CSRF token");
        self.body[start..start + 64].to_string()
    }
}

#[derive(Clone)]
pub struct Client {
    app: Router,
    cookies: HashMap<String, String>,
    accept_language: Option<&'static str>,
    forwarded_for: Option<&'static str>,
}

impl Client {
    pub fn new(app: Router) -> Self {
        Self {
            app,
            cookies: HashMap::new(),
            accept_language: None,
            forwarded_for: None,
        }
    }

    pub fn with_accept_language(mut self, value: &'static str) -> Self {
        self.accept_language = Some(value);
        self
    }

    /// Sends `X-Forwarded-For`, as a reverse proxy would.
    pub fn with_forwarded_for(mut self, value: &'static str) -> Self {
        self.forwarded_for = Some(value);
        self
    }

    pub fn has_cookie(&self, name: &str) -> bool {
        self.cookies.contains_key(name)
    }

    async fn send(&mut self, mut builder: axum::http::request::Builder, body: Body) -> Response {
        if !self.cookies.is_empty() {
            let cookie = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            builder = builder.header(header::COOKIE, cookie);
        }
        if let Some(al) = self.accept_language {
            builder = builder.header(header::ACCEPT_LANGUAGE, al);
        }
        if let Some(ff) = self.forwarded_for {
            builder = builder.header("x-forwarded-for", ff);
        }
        let response = self
            .app
            .clone()
            .oneshot(builder.body(body).expect("request"))
            .await
            .expect("infallible");
        for value in response.headers().get_all(header::SET_COOKIE) {
            let text = value.to_str().expect("ascii cookie");
            let pair = text.split(';').next().unwrap_or("");
            if let Some((name, value)) = pair.split_once('=') {
                if value.is_empty() || text.contains("Max-Age=0") {
                    self.cookies.remove(name);
                } else {
                    self.cookies.insert(name.to_string(), value.to_string());
                }
            }
        }
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
        Response {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
            bytes: bytes.to_vec(),
        }
    }

    /// Sends a prepared request (extra headers) with this client's cookies.
    pub async fn send_raw(
        &mut self,
        builder: axum::http::request::Builder,
        body: String,
    ) -> Response {
        self.send(builder, Body::from(body)).await
    }

    pub async fn get(&mut self, path: &str) -> Response {
        self.send(Request::get(path), Body::empty()).await
    }

    pub async fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Response {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let builder =
            Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        self.send(builder, Body::from(body)).await
    }

    /// Posts a file as `multipart/form-data` in the field `file`.
    pub async fn post_file(&mut self, path: &str, file_name: &str, bytes: &[u8]) -> Response {
        let boundary = "vaxloopTestBoundary7d2c";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let builder = Request::post(path).header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        );
        self.send(builder, Body::from(body)).await
    }

    pub async fn post_json(&mut self, path: &str, json: &str, csrf: Option<&str>) -> Response {
        self.send_json("POST", path, json, csrf).await
    }

    pub async fn send_json(
        &mut self,
        method: &str,
        path: &str,
        json: &str,
        csrf: Option<&str>,
    ) -> Response {
        let mut builder = Request::builder()
            .method(method)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(t) = csrf {
            builder = builder.header("x-csrf-token", t);
        }
        self.send(builder, Body::from(json.to_string())).await
    }

    /// Logs in through the form; returns the redirect response.
    pub async fn login(&mut self, login: &str, password: &str) -> Response {
        let token = self.get("/login").await.csrf();
        self.post_form(
            "/login",
            &[
                ("csrf_token", &token),
                ("login", login),
                ("password", password),
                ("next", ""),
            ],
        )
        .await
    }
}

pub struct Fixture {
    pub db: TestDb,
    pub town: Town,
    pub app: Router,
}

impl Fixture {
    pub fn client(&self) -> Client {
        Client::new(self.app.clone())
    }

    /// The first unit that site `site_code` serves with `n` people waiting, those people booked
    /// there today (the server's today) as one team: `(site, unit, people, team)`.
    pub async fn book_today(
        &self,
        site_code: &str,
        n: usize,
    ) -> (
        vaxloop_store::sites::Site,
        vaxloop_store::org::Unit,
        Vec<i64>,
        vaxloop_app::booking::TeamBooked,
    ) {
        let site = vaxloop_store::sites::by_code(&self.db, site_code)
            .await
            .expect("q")
            .expect("the site");
        let mut found = None;
        for u in vaxloop_store::org::units(&self.db, None)
            .await
            .expect("units")
        {
            let serves = vaxloop_store::sites::serving_unit(&self.db, u.id)
                .await
                .expect("q")
                .iter()
                .any(|s| s.id == site.id);
            let waiting = vaxloop_store::journeys::waiting_of_unit(&self.db, u.id, 1, n as i64)
                .await
                .expect("q");
            if serves && waiting.len() == n {
                found = Some((u, waiting));
                break;
            }
        }
        let (unit, people) = found.expect("a unit the site serves with people waiting");
        let today = WebConfig::default().today().to_string();
        let slot = vaxloop_store::slots::of_site_day(&self.db, site.id, &today)
            .await
            .expect("slots")
            .into_iter()
            .find(|s| s.capacity - s.booked >= n as i64)
            .expect("room today")
            .id;
        let team = vaxloop_app::booking::engine::book_team(
            &self.db,
            chrono_tz::Asia::Shanghai,
            unit.id,
            slot,
            &people,
            1,
        )
        .await
        .expect("book")
        .expect("booked");
        (site, unit, people, team)
    }

    /// Checks in, screens (all clear, passed) and returns the visits of `people` at `site` today.
    pub async fn ready_for_the_dose(
        &self,
        site: &vaxloop_store::sites::Site,
        people: &[i64],
    ) -> Vec<vaxloop_store::visits::Visit> {
        ready_for_the_dose(&self.db, site, people).await
    }

    /// The username of the first demo login with this role (and post).
    pub fn username(&self, role: vaxloop_core::Role) -> String {
        self.town
            .logins
            .iter()
            .find(|l| l.role == role)
            .and_then(|l| l.username.clone())
            .expect("a demo login for the role")
    }
}

/// The configuration the tests serve with: the defaults, except that check-in takes people
/// however early — the tests run at any hour of the day, and book whatever slot has room (the
/// limit itself is proven by the app's tests at fixed times).
pub fn test_config() -> WebConfig {
    WebConfig {
        early_check_in_minutes: None,
        // The tests look at the counts right after they write.
        count_seconds: 0,
        ..WebConfig::default()
    }
}

/// A small demo town on `db`, served by the real router.
pub async fn fixture(db: TestDb) -> Fixture {
    fixture_with(db, test_config()).await
}

/// As [`fixture`], with a given configuration.
pub async fn fixture_with(db: TestDb, config: WebConfig) -> Fixture {
    let spec = TownSpec {
        people: 600,
        seed: 5,
        // The server's today, so the booking pages offer the days that have slots.
        today: config.today(),
    };
    let town = vaxloop_demo::generate(&spec);
    vaxloop_demo::store(&db, &db.cipher, &town)
        .await
        .expect("demo town");
    let state = AppState::new(db.db.clone(), db.cipher.clone(), config);
    let app = router(state);
    Fixture { db, town, app }
}

/// Checks in, screens (all clear, passed) and returns the visits of `people` at `site` today.
pub async fn ready_for_the_dose(
    db: &TestDb,
    site: &vaxloop_store::sites::Site,
    people: &[i64],
) -> Vec<vaxloop_store::visits::Visit> {
    let today = WebConfig::default().today();
    let mut visits = Vec::new();
    for &p in people {
        let visit = check_in_today(db, site, p).await;
        let (_, vaccine) = vaxloop_store::visits::by_id(db, visit.id)
            .await
            .expect("q")
            .expect("visit");
        let clear: Vec<(i64, bool)> = vaxloop_store::screening::questions(db, vaccine)
            .await
            .expect("q")
            .iter()
            .map(|q| (q.id, false))
            .collect();
        let pass = vaxloop_app::site_ops::Decision::Pass;
        vaxloop_app::site_ops::screen(db, site.id, today, visit.id, &clear, &pass, None)
            .await
            .expect("store")
            .expect("passed");
        visits.push(visit);
    }
    visits
}

/// Checks `person` in at `site` today (however early) by their personal code: their visit.
pub async fn check_in_today(
    db: &TestDb,
    site: &vaxloop_store::sites::Site,
    person: i64,
) -> vaxloop_store::visits::Visit {
    let today = WebConfig::default().today();
    let code = format!("VXL1:{}", db.cipher.sign("person", person));
    vaxloop_app::site_ops::check_in(
        db,
        &db.cipher,
        site.id,
        vaxloop_app::site_ops::At::on(chrono_tz::Asia::Shanghai, today),
        &code,
        None,
    )
    .await
    .expect("store")
    .expect("checked in")
    .visit
}

/// Gives each of `visits` (ready for the dose at `site` today) their dose from the first lot in
/// stock, on their ID card: they go into observation.
pub async fn give_doses(
    db: &TestDb,
    site: &vaxloop_store::sites::Site,
    visits: &[vaxloop_store::visits::Visit],
) {
    let today = WebConfig::default().today();
    for v in visits {
        let (_, vaccine) = vaxloop_store::visits::by_id(db, v.id)
            .await
            .expect("q")
            .expect("visit");
        let lots = vaxloop_store::doses::lots_for(
            db,
            site.id,
            vaccine,
            &today.to_string(),
            vaxloop_store::now_ms(),
            None,
        )
        .await
        .expect("lots");
        let given = vaxloop_app::site_ops::DoseGiven {
            visit_id: v.id,
            lot_id: lots.first().expect("a lot in stock").lot_id,
            proof: vaxloop_app::site_ops::Proof::IdCard,
            minutes: None,
        };
        vaxloop_app::site_ops::vaccinate(db, &db.cipher, site.id, today, &given, None)
            .await
            .expect("store")
            .expect("given");
    }
}
