//! A real browser: Debian's headless Chromium through chromedriver, on a phone-sized window.
//! The admin logs in, the page fits 360 px without sideways scrolling, English is switched on,
//! and the admin logs out. Skipped with a note when chromedriver is missing, except under
//! `CI=true`.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use vaxloop_demo::DEMO_PASSWORD;
use vaxloop_store::testing::TestDb;
use vaxloop_web::{AppState, WebConfig};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// Ends chromedriver (and with it the browser) however the test ends.
pub(crate) struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

pub(crate) async fn start_browser(
    width: u32,
    height: u32,
    profile: &std::path::Path,
) -> Option<(Driver, Client)> {
    start_browser_with(width, height, profile, &[]).await
}

/// As [`start_browser`], with more Chromium switches.
async fn start_browser_with(
    width: u32,
    height: u32,
    profile: &std::path::Path,
    extra: &[String],
) -> Option<(Driver, Client)> {
    if !std::path::Path::new(CHROMEDRIVER).exists() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!(
                "CI=true but {CHROMEDRIVER} is missing: scripts/test installs Debian's chromium-driver"
            );
        }
        eprintln!(
            "note: {CHROMEDRIVER} not found; skipping the browser test (scripts/test installs it)"
        );
        return None;
    }
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let driver = Driver(child);
    let mut caps = serde_json::Map::new();
    let mut args: Vec<String> = [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-extensions",
        "--lang=zh-CN",
    ]
    .map(String::from)
    .to_vec();
    args.push(format!("--user-data-dir={}", profile.display()));
    args.push(format!("--window-size={width},{height}"));
    args.extend(extra.iter().cloned());
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": CHROMIUM,
            "args": args,
            // A browser in China asks for Chinese first.
            "prefs": { "intl.accept_languages": "zh-CN,zh" },
            "mobileEmulation": { "deviceMetrics": { "width": width, "height": height, "pixelRatio": 2.0 } }
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let mut last = None;
    for _ in 0..50 {
        match ClientBuilder::new(connector.clone())
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(client) => return Some((driver, client)),
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("chromedriver did not accept a session: {last:?}");
}

/// A small demo town served on a free port: the database (kept alive), the town and the base URL.
pub(crate) async fn serve_town() -> (TestDb, vaxloop_demo::Town, String) {
    serve_town_with(crate::client::test_config()).await
}

/// As [`serve_town`], with a given configuration.
pub(crate) async fn serve_town_with(config: WebConfig) -> (TestDb, vaxloop_demo::Town, String) {
    let t = TestDb::sqlite().await;
    let spec = vaxloop_demo::TownSpec {
        people: 600,
        seed: 3,
        today: WebConfig::default().today(),
    };
    let town = vaxloop_demo::generate(&spec);
    vaxloop_demo::store(&t, &t.cipher, &town)
        .await
        .expect("town");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let state = AppState::new(t.db.clone(), t.cipher.clone(), config);
    tokio::spawn(vaxloop_web::serve(listener, state));
    (t, town, base)
}

pub(crate) async fn text(c: &Client, css: &str) -> String {
    c.wait()
        .for_element(Locator::Css(css))
        .await
        .expect(css)
        .text()
        .await
        .expect("text")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_logs_in_on_a_phone_switches_to_english_and_logs_out() {
    let profile = tempfile::tempdir().expect("profile dir");
    let Some((_driver, c)) = start_browser(360, 740, profile.path()).await else {
        return;
    };
    let (_db, _town, base) = serve_town().await;

    c.goto(&format!("{base}/admin")).await.expect("open");
    assert_eq!(
        text(&c, "h1").await,
        "登录",
        "an anonymous visitor is sent to the login form"
    );
    c.find(Locator::Id("login"))
        .await
        .expect("login field")
        .send_keys("admin")
        .await
        .expect("type");
    c.find(Locator::Id("password"))
        .await
        .expect("password")
        .send_keys(DEMO_PASSWORD)
        .await
        .expect("type");
    c.find(Locator::Id("login-submit"))
        .await
        .expect("button")
        .click()
        .await
        .expect("submit");
    c.wait()
        .for_url(&url::Url::parse(&format!("{base}/admin")).expect("url"))
        .await
        .expect("lands on /admin");
    assert_eq!(text(&c, "h1").await, "全镇总览");

    let widths = c
        .execute(
            "return [document.documentElement.clientWidth, document.documentElement.scrollWidth]",
            vec![],
        )
        .await
        .expect("script");
    let widths: Vec<i64> = serde_json::from_value(widths).expect("numbers");
    assert_eq!(widths[0], 360, "the window is phone-sized");
    assert!(
        widths[1] <= widths[0],
        "the page fits a 360 px phone without sideways scrolling: {widths:?}"
    );

    c.find(Locator::Id("lang-switch"))
        .await
        .expect("switch")
        .click()
        .await
        .expect("switch");
    c.wait()
        .for_element(Locator::XPath("//h1[text()='Town overview']"))
        .await
        .expect("English page");
    let nav = text(&c, "nav.main").await;
    assert!(
        nav.contains("Overview") && nav.contains("Audit log"),
        "navigation in English: {nav}"
    );
    if let Ok(png) = c.screenshot().await {
        let _ = std::fs::write(
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../target/browser-admin-en.png"
            ),
            png,
        );
    }

    c.find(Locator::Id("logout"))
        .await
        .expect("logout")
        .click()
        .await
        .expect("logout");
    c.wait()
        .for_element(Locator::XPath("//h1[text()='Log in']"))
        .await
        .expect("back at the login form, in English");
    assert!(
        c.current_url()
            .await
            .expect("url")
            .path()
            .ends_with("/login")
    );
    c.goto(&format!("{base}/admin")).await.expect("open");
    assert_eq!(
        text(&c, "h1").await,
        "Log in",
        "logged out: the admin page asks for a login again"
    );
    c.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resident_registers_by_qr_link_on_a_phone_in_chinese() {
    let profile = tempfile::tempdir().expect("profile dir");
    let Some((_driver, c)) = start_browser(360, 740, profile.path()).await else {
        return;
    };
    let (_db, town, base) = serve_town().await;

    let unit = &town.units[1];
    c.goto(&format!("{base}/r/{}", unit.reg_token))
        .await
        .expect("open the link");
    assert_eq!(text(&c, "h1").await, "疫苗接种登记");
    assert_eq!(text(&c, "#unit-name").await, unit.name);
    let id = vaxloop_core::ResidentId::compose(
        310112,
        chrono::NaiveDate::from_ymd_opt(1955, 5, 5).expect("date"),
        77,
    );
    for (field, value) in [
        ("name", "欧阳娜娜"),
        ("id_number", id.as_str()),
        ("phone", "13987654321"),
        ("pin", "112233"),
        ("pin_again", "112233"),
    ] {
        c.find(Locator::Id(field))
            .await
            .expect(field)
            .send_keys(value)
            .await
            .expect("type");
    }
    // Submitting without the consent box names the problem and keeps what was typed.
    c.find(Locator::Id("register-submit"))
        .await
        .expect("submit")
        .click()
        .await
        .expect("submit");
    assert_eq!(
        text(&c, "#consent-error").await,
        "请阅读告知并勾选同意，才能完成登记"
    );
    let kept = c
        .find(Locator::Id("name"))
        .await
        .expect("name")
        .prop("value")
        .await
        .expect("value");
    assert_eq!(kept.as_deref(), Some("欧阳娜娜"));
    for (field, value) in [("pin", "112233"), ("pin_again", "112233")] {
        c.find(Locator::Id(field))
            .await
            .expect(field)
            .send_keys(value)
            .await
            .expect("type");
    }
    c.find(Locator::Id("consent"))
        .await
        .expect("consent")
        .click()
        .await
        .expect("tick");
    c.find(Locator::Id("register-submit"))
        .await
        .expect("submit")
        .click()
        .await
        .expect("submit");
    c.wait()
        .for_url(&url::Url::parse(&format!("{base}/me")).expect("url"))
        .await
        .expect("lands on /me");
    assert_eq!(text(&c, "h1").await, "我的接种");
    c.wait()
        .for_element(Locator::Css("#personal-qr img"))
        .await
        .expect("QR image");
    let loaded = c
        .execute("const i = document.querySelector('#personal-qr img'); return i.complete && i.naturalWidth > 0", vec![])
        .await
        .expect("script");
    assert_eq!(
        loaded,
        serde_json::Value::Bool(true),
        "the personal QR code loads"
    );
    assert!(fits(&c).await, "the page fits the phone");
    if let Ok(png) = c.screenshot().await {
        let _ = std::fs::write(
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../target/browser-register.png"
            ),
            png,
        );
    }
    c.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resident_books_and_cancels_on_a_phone() {
    let profile = tempfile::tempdir().expect("profile dir");
    let Some((_driver, c)) = start_browser(390, 844, profile.path()).await else {
        return;
    };
    let (_db, town, base) = serve_town().await;
    let resident = town.logins.iter().find_map(|l| l.person).expect("resident");
    c.goto(&format!("{base}/login")).await.expect("open");
    c.find(Locator::Id("login"))
        .await
        .expect("login")
        .send_keys(town.people[resident].id.as_str())
        .await
        .expect("type");
    c.find(Locator::Id("password"))
        .await
        .expect("pin")
        .send_keys(vaxloop_demo::DEMO_PIN)
        .await
        .expect("type");
    c.find(Locator::Id("login-submit"))
        .await
        .expect("submit")
        .click()
        .await
        .expect("submit");
    c.wait()
        .for_url(&url::Url::parse(&format!("{base}/me")).expect("url"))
        .await
        .expect("lands on /me");
    // The next step says what they may do, with one big button to do it.
    assert!(text(&c, "#next-text").await.contains("您现在可以预约第1剂"));
    let button_height: f64 = serde_json::from_value(
        c.execute(
            "return document.getElementById('book-link').getBoundingClientRect().height",
            vec![],
        )
        .await
        .expect("script"),
    )
    .expect("number");
    assert!(button_height >= 48.0, "a big button: {button_height}px");
    click(&c, "#book-link").await;
    click(&c, "#show-slots").await;
    click(&c, "#slots button").await;
    // Booked: said so, with the day on one line, where, the address and the ID card.
    assert_eq!(text(&c, "#me-notice").await, "预约成功，请按时前往。");
    let card = text(&c, "article.appointment").await;
    assert!(
        card.contains("合川路") || card.contains("接种点"),
        "where: {card}"
    );
    assert!(
        card.contains("请携带本人身份证"),
        "bring the ID card: {card}"
    );
    let lines: Vec<i64> = serde_json::from_value(
        c.execute(
            "const a = document.querySelector('article.appointment');
             return [a.querySelector('.day').getClientRects().length,
                     a.querySelector('.clock').getClientRects().length,
                     Math.round(a.querySelector('button.danger').getBoundingClientRect().height)]",
            vec![],
        )
        .await
        .expect("script"),
    )
    .expect("numbers");
    assert_eq!(&lines[..2], [1, 1], "the day and the time each on one line");
    assert!(
        lines[2] < 70,
        "the cancel button is one line high: {lines:?}"
    );
    assert!(
        card.contains("月") && card.contains("周"),
        "the day as people read it: {card}"
    );

    // Cancelling asks first, in plain words; going back changes nothing.
    click(&c, "article.appointment button.danger").await;
    let dialog = c
        .wait()
        .for_element(Locator::Css("dialog#confirm-dialog[open]"))
        .await
        .expect("a confirmation");
    let asked = dialog.text().await.expect("text");
    assert!(
        asked.contains("确定取消") && asked.contains("名额将让给他人"),
        "{asked}"
    );
    click(&c, "#confirm-no").await;
    assert!(
        c.find(Locator::Css("dialog#confirm-dialog[open]"))
            .await
            .is_err(),
        "closed"
    );
    assert!(
        c.find(Locator::Css("article.appointment")).await.is_ok(),
        "still booked"
    );
    click(&c, "article.appointment button.danger").await;
    click(&c, "dialog#confirm-dialog[open] #confirm-yes").await;
    c.wait()
        .for_element(Locator::XPath(
            "//p[@id='me-notice'][contains(., '预约已取消')]",
        ))
        .await
        .expect("cancelled, and told so");
    assert!(c.find(Locator::Css("article.appointment")).await.is_err());
    assert!(fits(&c).await, "the page fits the phone");
    c.close().await.expect("close");
}

/// Whether the page fits the window's width (no sideways scrolling).
pub(crate) async fn fits(c: &Client) -> bool {
    let widths: Vec<i64> = serde_json::from_value(
        c.execute(
            "return [document.documentElement.clientWidth, document.documentElement.scrollWidth]",
            vec![],
        )
        .await
        .expect("script"),
    )
    .expect("numbers");
    widths[1] <= widths[0]
}

/// Logs in through the form and submits it.
pub(crate) async fn log_in(c: &Client, base: &str, login: &str, password: &str) {
    c.goto(&format!("{base}/login")).await.expect("open");
    for (id, value) in [("login", login), ("password", password)] {
        c.find(Locator::Id(id))
            .await
            .expect(id)
            .send_keys(value)
            .await
            .expect("type");
    }
    click(c, "#login-submit").await;
    // Logged in once the answer has taken the browser away from the form (the password hash
    // takes a moment, longer on a loaded machine): what the test opens next needs the session.
    let mut waited = 0;
    loop {
        let url = c.current_url().await.expect("url");
        if url.path() != "/login" {
            break;
        }
        waited += 1;
        assert!(waited < 300, "{login} did not get past the login form");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Clicks the element `css` once it is there.
pub(crate) async fn click(c: &Client, css: &str) {
    c.wait()
        .for_element(Locator::Css(css))
        .await
        .expect(css)
        .click()
        .await
        .expect("click");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_desk_plans_adjusts_publishes_and_prints_on_a_tablet() {
    let profile = tempfile::tempdir().expect("profile dir");
    let Some((_driver, c)) = start_browser(600, 960, profile.path()).await else {
        return;
    };
    let (db, _town, base) = serve_town().await;
    log_in(&c, &base, "desk", DEMO_PASSWORD).await;
    c.wait()
        .for_url(&url::Url::parse(&format!("{base}/desk")).expect("url"))
        .await
        .expect("lands on /desk");

    // Plan: pressing "run" says what is being done and counts the seconds (the submission is
    // held back here, to look at the line), then the desk runs the planner for real.
    click(&c, "#plan-link").await;
    c.execute(
        "document.getElementById('run-form').addEventListener('submit', e => e.preventDefault())",
        vec![],
    )
    .await
    .expect("hold the form");
    click(&c, "#run").await;
    assert!(text(&c, "#working").await.contains("正在按实时数据排班"));
    tokio::time::sleep(std::time::Duration::from_millis(1300)).await;
    assert!(
        text(&c, "#working").await.contains("已用 1 秒"),
        "the seconds count"
    );
    let held = c.current_url().await.expect("url");
    c.goto(held.as_str()).await.expect("the page again");
    click(&c, "#run").await;
    c.wait()
        .for_element(Locator::Css("#proposal a.chip"))
        .await
        .expect("a proposal with teams on the timeline");
    assert!(text(&c, "#notice").await.contains("已生成新的排班方案"));

    // Adjust: open a team from the timeline and move it where it fits.
    let chip = c
        .find(Locator::Css("#timeline-slots a.chip"))
        .await
        .expect("chip");
    let team = chip.attr("data-team").await.expect("attr").expect("team");
    chip.click().await.expect("open the team");
    c.wait()
        .for_element(Locator::Id("move-form"))
        .await
        .expect("the adjust card");
    let p = vaxloop_app::proposals::latest(&db)
        .await
        .expect("q")
        .expect("proposal");
    let inst = &p.live.instance;
    let here = p
        .plan
        .assignments
        .iter()
        .find(|a| a.team == team)
        .expect("placed");
    let mut target = None;
    'find: for s in &inst.sites {
        for d in 0..inst.days() {
            for k in 0..inst.slots() {
                if (&s.id, d, k) != (&here.site, here.day, here.parts[0].slot)
                    && vaxloop_planner::place_team(inst, &p.plan, &team, &s.id, d, k).is_ok()
                {
                    target = Some((s.id.clone(), inst.horizon.dates[d].clone(), k));
                    break 'find;
                }
            }
        }
    }
    let (site, day, k) = target.expect("another place fits");
    let start = vaxloop_planner::instance::clock_minutes(&inst.horizon.day_start).expect("start")
        as i32
        + inst.slot_start(k);
    let start = format!("{:02}:{:02}", start / 60, start % 60);
    for (id, value) in [
        ("move-site", &site),
        ("move-day", &day),
        ("move-start", &start),
    ] {
        c.find(Locator::Id(id))
            .await
            .expect(id)
            .select_by_value(value)
            .await
            .expect("choose");
    }
    click(&c, "#move").await;
    c.wait()
        .for_element(Locator::Id("changes"))
        .await
        .expect("the difference is shown");
    assert!(text(&c, "#notice").await.contains("批次已调整并锁定"));
    assert!(text(&c, "#changes").await.contains(&team));
    assert!(fits(&c).await, "the plan fits the tablet");

    // Publish: the teams are booked; the desk's list opens a team's page with its papers.
    click(&c, "#publish").await;
    c.wait()
        .for_element(Locator::Css("#teams a[id^='open-']"))
        .await
        .expect("published teams");
    assert!(text(&c, "#notice").await.contains("方案已发布"));
    assert!(fits(&c).await, "the desk fits the tablet");
    click(&c, "#teams a[id^='open-']").await;

    // Print: the form and the labels are PDFs, fetched with the desk's own session.
    for css in ["a.print-form", "a.print-labels"] {
        let href = c
            .find(Locator::Css(css))
            .await
            .expect(css)
            .attr("href")
            .await
            .expect("attr")
            .expect("href");
        let got: Vec<String> = serde_json::from_value(
            c.execute_async(
                "const done = arguments[arguments.length - 1];
                 fetch(arguments[0]).then(async r => done([String(r.status),
                     r.headers.get('content-type'), (await r.text()).slice(0, 5)]));",
                vec![serde_json::json!(href)],
            )
            .await
            .expect("fetch"),
        )
        .expect("strings");
        assert_eq!(got, ["200", "application/pdf", "%PDF-"], "{href}");
    }
    c.close().await.expect("close");
}

/// A still video for Chromium's fake camera: `text` as a QR code on white, 640×480, in the
/// YUV4MPEG2 format Chromium reads with `--use-file-for-fake-video-capture`.
fn qr_video(text: &str, path: &std::path::Path) {
    let qr = fast_qr::QRBuilder::new(text)
        .ecl(fast_qr::ECL::M)
        .build()
        .expect("qr");
    let (w, h) = (640usize, 480usize);
    let scale = 400 / (qr.size + 8);
    let side = scale * qr.size;
    let (x0, y0) = ((w - side) / 2, (h - side) / 2);
    let mut luma = vec![235u8; w * h];
    for y in 0..qr.size {
        for x in 0..qr.size {
            if qr[y][x].value() {
                for dy in 0..scale {
                    let row = (y0 + y * scale + dy) * w;
                    luma[row + x0 + x * scale..row + x0 + (x + 1) * scale].fill(16);
                }
            }
        }
    }
    let mut out = format!("YUV4MPEG2 W{w} H{h} F10:1 Ip A1:1 C420jpeg\n").into_bytes();
    for _ in 0..2 {
        out.extend_from_slice(b"FRAME\n");
        out.extend_from_slice(&luma);
        out.extend(std::iter::repeat_n(128u8, w * h / 2));
    }
    std::fs::write(path, out).expect("video");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_check_in_desk_scans_a_personal_qr_code_with_the_camera() {
    let profile = tempfile::tempdir().expect("profile dir");
    let (db, _town, base) = serve_town().await;
    // A person of a unit HCL serves, booked today at HCL.
    let (_, people) = book_at_hcl(&db, 1).await;
    let person = people[0];
    let video = profile.path().join("qr.y4m");
    qr_video(
        &format!("VXL1:{}", db.cipher.sign("person", person)),
        &video,
    );
    let camera = [
        "--use-fake-ui-for-media-stream".to_string(),
        "--use-fake-device-for-media-stream".to_string(),
        format!("--use-file-for-fake-video-capture={}", video.display()),
    ];
    let Some((_driver, c)) = start_browser_with(600, 960, &profile.path().join("p"), &camera).await
    else {
        return;
    };
    // The check-in desk lands on its own station, the site's flow one tap away.
    log_in(&c, &base, "hcl.checkin", DEMO_PASSWORD).await;
    c.wait()
        .for_element(Locator::Id("checkin-code"))
        .await
        .expect("the check-in station");
    let flow = text(&c, "#stations").await;
    assert!(
        flow.contains("登记签到") && flow.contains("预检") && flow.contains("留观"),
        "{flow}"
    );
    // The camera button appears once the scanner library has loaded.
    c.wait()
        .for_element(Locator::Css("#camera-start:not([hidden])"))
        .await
        .expect("a camera button");
    click(&c, "#camera-start").await;
    c.wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css("#checkin-card.fresh"))
        .await
        .expect("checked in from the camera");
    assert!(text(&c, "#checkin-card").await.contains("签到成功"));
    c.close().await.expect("close");
}

/// The first unit HCL serves with `n` people waiting, those people booked there today as a
/// team: the booking and the people.
pub(crate) async fn book_at_hcl(
    db: &TestDb,
    n: usize,
) -> (vaxloop_app::booking::TeamBooked, Vec<i64>) {
    let hcl = vaxloop_store::sites::by_code(db, "HCL")
        .await
        .expect("q")
        .expect("HCL");
    let mut found = None;
    for u in vaxloop_store::org::units(db, None).await.expect("units") {
        let serves = vaxloop_store::sites::serving_unit(db, u.id)
            .await
            .expect("q")
            .iter()
            .any(|s| s.id == hcl.id);
        let waiting = vaxloop_store::journeys::waiting_of_unit(db, u.id, 1, n as i64)
            .await
            .expect("q");
        if serves && waiting.len() == n {
            found = Some((u.id, waiting));
            break;
        }
    }
    let (unit, people) = found.expect("people to book");
    let today = WebConfig::default().today().to_string();
    let slot = vaxloop_store::slots::of_site_day(db, hcl.id, &today)
        .await
        .expect("slots")
        .into_iter()
        .find(|s| s.capacity - s.booked >= n as i64)
        .expect("room today")
        .id;
    let booked = vaxloop_app::booking::engine::book_team(
        db,
        chrono_tz::Asia::Shanghai,
        unit,
        slot,
        &people,
        1,
    )
    .await
    .expect("book")
    .expect("booked");
    (booked, people)
}

/// Logs out whoever is logged in, then logs `login` in.
pub(crate) async fn switch_to(c: &Client, base: &str, login: &str) {
    if let Ok(out) = c.find(Locator::Id("logout")).await {
        out.click().await.expect("logout");
        c.wait()
            .for_element(Locator::Id("login"))
            .await
            .expect("the login form");
    }
    log_in(c, base, login, DEMO_PASSWORD).await;
    c.wait()
        .for_element(Locator::Id("logout"))
        .await
        .expect("logged in");
}

/// The numbers in a team's row of a tally table.
async fn tally_row(c: &Client, team: &str) -> Vec<String> {
    let row = c
        .wait()
        .for_element(Locator::Id(&format!("team-{team}")))
        .await
        .expect("the team's row");
    let mut out = Vec::new();
    for cell in row.find_all(Locator::Css("td.num")).await.expect("cells") {
        out.push(cell.text().await.expect("text"));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_team_goes_through_the_site_on_a_tablet_and_the_day_adds_up() {
    let profile = tempfile::tempdir().expect("profile dir");
    let (db, _town, base) = serve_town().await;
    let (booked, people) = book_at_hcl(&db, 2).await;
    let team = booked.team.code.clone();
    let Some((_driver, c)) = start_browser(768, 1024, &profile.path().join("p")).await else {
        return;
    };

    // Check-in: both members scanned (the handheld scanner types into the field).
    switch_to(&c, &base, "hcl.checkin").await;
    for &p in &people {
        c.goto(&format!("{base}/sites/HCL/checkin"))
            .await
            .expect("open");
        let field = c
            .wait()
            .for_element(Locator::Id("checkin-code"))
            .await
            .expect("field");
        field
            .send_keys(&format!("VXL1:{}", db.cipher.sign("person", p)))
            .await
            .expect("type");
        click(&c, "#checkin-submit").await;
        c.wait()
            .for_element(Locator::Css("#checkin-card.fresh #team-label"))
            .await
            .expect("checked in, the team's label shown");
    }
    let visits: Vec<i64> = {
        let mut v = Vec::new();
        for &p in &people {
            let a = vaxloop_store::visits::active_of_person(&db, p)
                .await
                .expect("q")
                .remove(0);
            let visit = vaxloop_store::visits::of_appointment(&db, a.appointment_id)
                .await
                .expect("q")
                .expect("visit");
            v.push(visit.id);
        }
        v
    };

    // Screening: the first passes; the second has a fever and is deferred a week.
    switch_to(&c, &base, "hcl.screening").await;
    for (i, &v) in visits.iter().enumerate() {
        c.goto(&format!("{base}/sites/HCL/screening?visit={v}"))
            .await
            .expect("open");
        c.wait()
            .for_element(Locator::Id("screening-form"))
            .await
            .expect("the questions");
        for radio in c
            .find_all(Locator::Css("#screening-form .question input[value='no']"))
            .await
            .expect("answers")
        {
            radio.click().await.expect("no");
        }
        if i == 0 {
            click(&c, "input[name='outcome'][value='pass']").await;
        } else {
            click(&c, "#screening-form .question input[value='yes']").await;
            click(&c, "input[name='outcome'][value='defer']").await;
            c.find(Locator::Id("defer-reason"))
                .await
                .expect("reason")
                .send_keys("发热")
                .await
                .expect("type");
            let later = (WebConfig::default().today() + chrono::Days::new(7)).to_string();
            c.execute(
                "document.getElementById('defer-until').value = arguments[0];",
                vec![serde_json::json!(later)],
            )
            .await
            .expect("date");
        }
        click(&c, "#screening-submit").await;
        c.wait()
            .for_element(Locator::Id("notice"))
            .await
            .expect("decided");
    }

    // Vaccination: the person states their code from their phone.
    switch_to(&c, &base, "hcl.vaccinator").await;
    c.goto(&format!("{base}/sites/HCL/vaccination?visit={}", visits[0]))
        .await
        .expect("open");
    let appointment = vaxloop_store::visits::by_id(&db, visits[0])
        .await
        .expect("q")
        .expect("visit")
        .0
        .appointment_id;
    c.wait()
        .for_element(Locator::Id("presence"))
        .await
        .expect("the code field")
        .send_keys(&db.cipher.presence_code(appointment))
        .await
        .expect("type");
    click(&c, "#vaccination-submit").await;
    c.wait()
        .for_element(Locator::XPath(
            "//p[@id='notice' and contains(., '已记录接种')]",
        ))
        .await
        .expect("the dose recorded");

    // Observation: the countdown ticks; an early release asks for its reason.
    switch_to(&c, &base, "hcl.observation").await;
    c.goto(&format!("{base}/sites/HCL/observation"))
        .await
        .expect("open");
    let countdown = text(&c, &format!("#obs-{} .countdown", visits[0])).await;
    assert!(countdown.contains(':'), "the countdown runs: {countdown:?}");
    click(&c, &format!("#release-{}", visits[0])).await;
    c.wait()
        .for_element(Locator::Id("early-reason"))
        .await
        .expect("a reason is asked")
        .send_keys("家中有事")
        .await
        .expect("type");
    click(&c, &format!("#release-{}", visits[0])).await;
    c.wait()
        .for_element(Locator::XPath(
            "//p[@id='notice' and contains(., '已离开')]",
        ))
        .await
        .expect("released");

    // The manager's board and the day: one vaccinated, one deferred; then the close.
    switch_to(&c, &base, "hcl.manager").await;
    c.goto(&format!("{base}/sites/HCL/board"))
        .await
        .expect("open");
    assert_eq!(
        tally_row(&c, &team).await,
        ["2", "2", "1", "1", "0", "0", "0", "0"]
    );
    c.goto(&format!("{base}/sites/HCL/day"))
        .await
        .expect("open");
    // Closing asks first: what it does, and that it cannot be undone.
    click(&c, "#close-day").await;
    let asked = text(&c, "dialog#confirm-dialog[open] #confirm-text").await;
    assert!(
        asked.contains("不可撤销") && asked.contains("确定结束"),
        "{asked}"
    );
    click(&c, "dialog#confirm-dialog[open] #confirm-yes").await;
    c.wait()
        .for_element(Locator::Id("day-closed"))
        .await
        .expect("closed");
    assert_eq!(
        tally_row(&c, &team).await,
        ["2", "2", "1", "1", "0", "0", "0", "0"]
    );
    let wide: bool = c
        .execute(
            "return document.documentElement.scrollWidth > window.innerWidth + 1;",
            vec![],
        )
        .await
        .expect("script")
        .as_bool()
        .unwrap_or(true);
    assert!(!wide, "the day's page fits the tablet");

    // What if the screening had four desks? The form keeps the edit; the chart draws.
    c.goto(&format!("{base}/sites/HCL/what-if"))
        .await
        .expect("open");
    let safe_before = c
        .find(Locator::Css("#safe-capacity .figure"))
        .await
        .expect("safe")
        .text()
        .await
        .expect("text");
    let desks = c.find(Locator::Id("desks_screening")).await.expect("field");
    desks.clear().await.expect("clear");
    desks.send_keys("4").await.expect("type");
    click(&c, "#what-if-run").await;
    c.wait()
        .for_element(Locator::XPath(
            "//input[@id='desks_screening' and @value='4']",
        ))
        .await
        .expect("simulated again");
    let safe_after = c
        .find(Locator::Css("#safe-capacity .figure"))
        .await
        .expect("safe")
        .text()
        .await
        .expect("text");
    let (before, after): (u32, u32) = (
        safe_before.trim().parse().expect("a number"),
        safe_after.trim().parse().expect("a number"),
    );
    assert!(after < before, "{after} vs {before}");
    let mut drawn = false;
    for _ in 0..50 {
        drawn = c
            .execute(
                "const i = document.getElementById('what-if-chart'); return i.complete && i.naturalWidth > 0;",
                vec![],
            )
            .await
            .expect("script")
            .as_bool()
            .unwrap_or(false);
        if drawn {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(drawn, "the chart loads");
    let wide: bool = c
        .execute(
            "return document.documentElement.scrollWidth > window.innerWidth + 1;",
            vec![],
        )
        .await
        .expect("script")
        .as_bool()
        .unwrap_or(true);
    assert!(!wide, "the what-if page fits the tablet");
    c.close().await.expect("close");
}
