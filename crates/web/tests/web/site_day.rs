//! A site's day on the web: the manager's board and reconciliation, the close, the XLSX export,
//! and the unit contact's view of their own teams — and nobody else's.

use axum::http::StatusCode;
use vaxloop_core::Role;
use vaxloop_demo::DEMO_PASSWORD;

use crate::fixture;

vaxloop_store::backend_tests! {
    async fn the_demo_town_s_days_show_on_the_stations_and_the_day_pages(t) {
        let f = fixture(t).await;
        let config = vaxloop_web::WebConfig::default();
        let today = config.today();
        let yesterday = today.pred_opt().expect("yesterday");
        let now = today.and_hms_opt(10, 40, 0).expect("time");
        let story = vaxloop_demo::play(&f.db, config.timezone, today, now, 5).await.expect("the demo's days");
        assert!(story.yesterday.vaccinated > 0 && story.yesterday.closed > 0, "{story:?}");
        assert!(story.today.checked_in > 0, "{story:?}");
        let site = vaxloop_store::sites::all(&f.db).await.expect("sites").into_iter().find(|s| s.code == "HCL").expect("HCL");
        let count = |sql: String| {
            let db = f.db.clone();
            async move {
                let mut tx = db.begin_write().await.expect("tx");
                sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql)).fetch_one(&mut *tx).await.expect("count")
            }
        };
        let in_stage = |stage: &str| count(format!(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM visits WHERE site_id = {} AND day = '{today}' AND stage = '{stage}'", site.id
        ));

        // Yesterday: closed and reconciled, its page says so.
        let mut manager = f.client();
        manager.login("hcl.manager", DEMO_PASSWORD).await;
        let day = manager.get(&format!("/sites/HCL/day?day={yesterday}")).await;
        assert_eq!(day.status, StatusCode::OK);
        assert!(day.body.contains("id=\"day-closed\""), "yesterday is closed");
        // Today: each station shows who stands there now.
        let mut observation = f.client();
        observation.login("hcl.observation", DEMO_PASSWORD).await;
        let list = observation.get("/sites/HCL/observation").await.body;
        let observing = in_stage("observing").await;
        assert_eq!(list.matches("id=\"obs-").count() as i64, observing, "the observation list is the observing");
        let mut screening = f.client();
        screening.login("hcl.screening", DEMO_PASSWORD).await;
        let queue = screening.get("/sites/HCL/screening").await.body;
        let waiting = in_stage("waiting").await;
        let listed = queue.split("id=\"screening-queue\"").nth(1).expect("queue").split("</ul>").next().expect("list").matches("screening?visit=").count() as i64;
        assert_eq!(listed, waiting, "the screening queue is those checked in and not yet screened");
        let done = in_stage("released").await + observing + in_stage("waiting").await + in_stage("screened").await;
        assert!(done > 0 && observing + waiting > 0, "the site's morning has happened, and someone stands at a station");
        let board = manager.get("/sites/HCL/board").await;
        assert_eq!(board.status, StatusCode::OK);
        assert!(board.body.contains("id=\"day-total\""));
    }

    async fn the_board_and_the_days_reconciliation_add_up_and_the_unit_sees_its_own(t) {
        let f = fixture(t).await;
        let contact = f.username(Role::UnitContact);
        let mut tx = f.db.begin_write().await.expect("tx");
        let unit_id: i64 = sqlx::query_scalar("SELECT unit_id FROM users WHERE username = $1").bind(&contact).fetch_one(&mut *tx).await.expect("unit");
        drop(tx);
        let unit = vaxloop_store::org::unit(&f.db, unit_id).await.expect("q").expect("unit");
        let site = vaxloop_store::sites::serving_unit(&f.db, unit.id).await.expect("q").remove(0);
        let people = vaxloop_store::journeys::waiting_of_unit(&f.db, unit.id, 1, 3).await.expect("q");
        assert_eq!(people.len(), 3);
        let today = vaxloop_web::WebConfig::default().today();
        let slot = vaxloop_store::slots::of_site_day(&f.db, site.id, &today.to_string()).await.expect("slots")
            .into_iter().find(|s| s.capacity - s.booked >= 3).expect("room today").id;
        let booked = vaxloop_app::booking::engine::book_team(&f.db, chrono_tz::Asia::Shanghai, unit.id, slot, &people, 1).await.expect("book").expect("booked");
        // One vaccinated, one checked in, one not come.
        let mut visits = Vec::new();
        for &p in &people[..2] {
            let code = format!("VXL1:{}", f.db.cipher.sign("person", p));
            visits.push(vaxloop_app::site_ops::check_in(&f.db, &f.db.cipher, site.id, vaxloop_app::site_ops::At::on(chrono_tz::Asia::Shanghai, today), &code, None).await.expect("store").expect("in").visit);
        }
        let (_, vaccine) = vaxloop_store::visits::by_id(&f.db, visits[0].id).await.expect("q").expect("visit");
        let clear: Vec<(i64, bool)> = vaxloop_store::screening::questions(&f.db, vaccine).await.expect("q").iter().map(|q| (q.id, false)).collect();
        vaxloop_app::site_ops::screen(&f.db, site.id, today, visits[0].id, &clear, &vaxloop_app::site_ops::Decision::Pass, None).await.expect("store").expect("passed");
        let lot = vaxloop_store::doses::lots_for(&f.db, site.id, vaccine, &today.to_string(), 0, None).await.expect("lots")[0].lot_id;
        let dose = vaxloop_app::site_ops::DoseGiven { visit_id: visits[0].id, lot_id: lot, proof: vaxloop_app::site_ops::Proof::IdCard, minutes: None };
        vaxloop_app::site_ops::vaccinate(&f.db, &f.db.cipher, site.id, today, &dose, None).await.expect("store").expect("given");

        let mut admin = f.client();
        admin.login("admin", DEMO_PASSWORD).await;
        let board = admin.get(&format!("/sites/{}/board", site.code)).await;
        assert_eq!(board.status, StatusCode::OK);
        assert!(board.body.contains("id=\"queue-screening\"") && board.body.contains("id=\"seats\""));
        assert!(board.body.contains(&format!("id=\"team-{}\"", booked.team.code)), "the team's line");
        assert!(board.body.contains("hx-trigger=\"every 15s\""), "it refreshes itself");
        let day = admin.get(&format!("/sites/{}/day", site.code)).await;
        assert_eq!(day.status, StatusCode::OK);
        assert!(day.body.contains("id=\"close-form\""));
        let row = day.body.split(&format!("id=\"team-{}\"", booked.team.code)).nth(1).expect("team row");
        let cells: Vec<&str> = row.split("<td class=\"num\">").skip(1).take(8).map(|c| c.split('<').next().unwrap_or("")).collect();
        assert_eq!(cells, ["3", "2", "1", "0", "0", "0", "1", "1"], "booked 3, arrived 2, vaccinated 1, one here, one expected");
        assert_eq!(admin.get(&format!("/sites/{}/day?day=tomorrow", site.code)).await.status, StatusCode::BAD_REQUEST);
        let xlsx = admin.get(&format!("/sites/{}/day.xlsx", site.code)).await;
        assert_eq!(xlsx.status, StatusCode::OK);
        assert!(xlsx.body.starts_with("PK"), "an XLSX (zip) file");

        // The desk watches but does not close; the check-in desk does neither.
        let mut desk = f.client();
        desk.login("desk", DEMO_PASSWORD).await;
        let seen = desk.get(&format!("/sites/{}/day", site.code)).await;
        assert_eq!(seen.status, StatusCode::OK);
        assert!(!seen.body.contains("id=\"close-form\""));
        let token = seen.csrf();
        assert_eq!(desk.post_form(&format!("/sites/{}/day/close", site.code), &[("csrf_token", &token)]).await.status, StatusCode::FORBIDDEN);
        let mut checkin = f.client();
        checkin.login("hcl.checkin", DEMO_PASSWORD).await;
        assert_eq!(checkin.get("/sites/HCL/board").await.status, StatusCode::FORBIDDEN);
        let mut manager = f.client();
        manager.login("hcl.manager", DEMO_PASSWORD).await;
        assert_eq!(manager.get("/sites/HCL/board").await.status, StatusCode::OK);

        // The close: once; the page then shows what it did.
        let token = day.csrf();
        let closed = admin.post_form(&format!("/sites/{}/day/close", site.code), &[("csrf_token", &token)]).await;
        assert_eq!(closed.status, StatusCode::SEE_OTHER);
        let after = admin.get(closed.location()).await;
        assert!(after.body.contains("id=\"day-closed\"") && !after.body.contains("id=\"close-form\""));
        let row = after.body.split(&format!("id=\"team-{}\"", booked.team.code)).nth(1).expect("team row");
        let cells: Vec<&str> = row.split("<td class=\"num\">").skip(1).take(8).map(|c| c.split('<').next().unwrap_or("")).collect();
        assert_eq!(cells, ["3", "2", "1", "0", "1", "1", "0", "0"], "after the close: one left, one no-show");

        // The unit's contact sees their team's line, and no other unit's.
        let mut contact_client = f.client();
        contact_client.login(&contact, DEMO_PASSWORD).await;
        let own = contact_client.get(&format!("/units/{}/day", unit.code)).await;
        assert_eq!(own.status, StatusCode::OK);
        assert!(own.body.contains(&format!("id=\"team-{}\"", booked.team.code)));
        assert_eq!(contact_client.get(&format!("/units/{}/day.xlsx", unit.code)).await.status, StatusCode::OK);
        let other = vaxloop_store::org::units(&f.db, None).await.expect("units").into_iter().find(|u| u.id != unit.id).expect("another unit");
        assert_eq!(contact_client.get(&format!("/units/{}/day", other.code)).await.status, StatusCode::FORBIDDEN);
        assert_eq!(contact_client.get(&format!("/sites/{}/day", site.code)).await.status, StatusCode::FORBIDDEN);
        let mut tx = f.db.begin_write().await.expect("tx");
        let exports: i64 = sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE action = 'export'").fetch_one(&mut *tx).await.expect("n");
        assert_eq!(exports, 2, "both exports are in the log");
    }

    async fn one_person_goes_through_the_site_by_api_each_post_honouring_its_key(t) {
        let f = fixture(t).await;
        let (_, unit, people, _) = f.book_today("HCL", 1).await;
        let person = people[0];
        let today = vaxloop_web::WebConfig::default().today();
        let mut admin = f.client();
        admin.login("admin", DEMO_PASSWORD).await;
        let token = admin.get("/admin").await.csrf();
        let keyed = |c: &crate::Client, path: String, body: String, key: &'static str| {
            let builder = axum::http::Request::builder().method("POST").uri(path)
                .header("content-type", "application/json").header("x-csrf-token", token.clone())
                .header("idempotency-key", key);
            let mut c = c.clone();
            async move { c.send_raw(builder, body).await }
        };
        let json = |r: &crate::client::Response| -> serde_json::Value { serde_json::from_str(&r.body).expect("json") };

        let code = format!(r#"{{"code":"VXL1:{}"}}"#, f.db.cipher.sign("person", person));
        let checked = keyed(&admin, "/api/v1/sites/HCL/checkins".into(), code, "in-1").await;
        assert_eq!(checked.status, StatusCode::CREATED, "{}", checked.body);
        let visit = json(&checked)["visit_id"].as_i64().expect("visit");
        let queue = admin.get("/api/v1/sites/HCL/queue?station=screening").await;
        assert!(json(&queue).as_array().expect("list").iter().any(|q| q["visit_id"] == visit));
        assert_eq!(admin.get("/api/v1/sites/HCL/queue?station=kitchen").await.status, StatusCode::BAD_REQUEST);

        // Screening: a missing answer is named; then all clear.
        let (_, vaccine) = vaxloop_store::visits::by_id(&f.db, visit).await.expect("q").expect("visit");
        let questions = vaxloop_store::screening::questions(&f.db, vaccine).await.expect("q");
        let answers: Vec<serde_json::Value> = questions.iter().map(|q| serde_json::json!({"question": q.id, "yes": false})).collect();
        let partial = serde_json::json!({"visit_id": visit, "answers": answers[1..], "outcome": "pass"}).to_string();
        let missing = keyed(&admin, "/api/v1/sites/HCL/screenings".into(), partial, "screen-0").await;
        assert_eq!(missing.status, StatusCode::CONFLICT);
        assert_eq!((json(&missing)["error"].clone(), json(&missing)["field"].clone()), (serde_json::json!("unanswered"), serde_json::json!("answers")));
        let whole = serde_json::json!({"visit_id": visit, "answers": answers, "outcome": "pass"}).to_string();
        let passed = keyed(&admin, "/api/v1/sites/HCL/screenings".into(), whole, "screen-1").await;
        assert_eq!(passed.status, StatusCode::CREATED, "{}", passed.body);
        assert_eq!(json(&passed)["stage"], "ready");

        // Vaccination: the lot offered, the code stated, a retry with the key gives one dose.
        let lots = admin.get(&format!("/api/v1/sites/HCL/lots?visit_id={visit}")).await;
        let lot = json(&lots)[0]["lot_id"].as_i64().expect("a lot");
        let appointment = vaxloop_store::visits::by_id(&f.db, visit).await.expect("q").expect("visit").0.appointment_id;
        let wrong = if f.db.cipher.presence_code(appointment) == "0000" { "0001" } else { "0000" };
        let bad = serde_json::json!({"visit_id": visit, "lot_id": lot, "presence_code": wrong}).to_string();
        let refused = keyed(&admin, "/api/v1/sites/HCL/vaccinations".into(), bad, "dose-0").await;
        assert_eq!(refused.status, StatusCode::CONFLICT);
        assert_eq!(json(&refused)["field"], "presence_code");
        let dose = serde_json::json!({"visit_id": visit, "lot_id": lot, "presence_code": f.db.cipher.presence_code(appointment), "observation_minutes": 30}).to_string();
        let given = keyed(&admin, "/api/v1/sites/HCL/vaccinations".into(), dose.clone(), "dose-1").await;
        assert_eq!(given.status, StatusCode::CREATED, "{}", given.body);
        let again = keyed(&admin, "/api/v1/sites/HCL/vaccinations".into(), dose.clone(), "dose-1").await;
        assert_eq!((again.status, again.body.clone()), (given.status, given.body.clone()), "the same answer");
        let other_key = keyed(&admin, "/api/v1/sites/HCL/vaccinations".into(), dose, "dose-2").await;
        assert_eq!(other_key.status, StatusCode::CONFLICT, "given once");
        assert_eq!(json(&other_key)["error"], "not_ready");

        // Observation: too early without a reason; an AEFI with a bad field, then whole.
        let obs = admin.get("/api/v1/sites/HCL/queue?station=observation").await;
        assert!(json(&obs)[0]["observation_due"].is_string());
        let early = keyed(&admin, "/api/v1/sites/HCL/releases".into(), serde_json::json!({"visit_id": visit}).to_string(), "rel-0").await;
        assert_eq!(early.status, StatusCode::CONFLICT);
        assert_eq!(json(&early)["error"], "too_early");
        let aefi = |severity: &str| serde_json::json!({"visit_id": visit, "onset": "00:00", "symptoms": ["fever"], "severity": severity, "action": "observed"}).to_string();
        let bad = keyed(&admin, "/api/v1/sites/HCL/aefi".into(), aefi("awful"), "aefi-0").await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(json(&bad)["field"], "severity");
        assert_eq!(keyed(&admin, "/api/v1/sites/HCL/aefi".into(), aefi("mild"), "aefi-1").await.status, StatusCode::CREATED);
        let released = keyed(&admin, "/api/v1/sites/HCL/releases".into(), serde_json::json!({"visit_id": visit, "early_reason": "接孩子"}).to_string(), "rel-1").await;
        assert_eq!(released.status, StatusCode::CREATED, "{}", released.body);

        // The board and the day, then the close — once.
        let board = admin.get("/api/v1/sites/HCL/board").await;
        assert_eq!(board.status, StatusCode::OK);
        assert!(json(&board)["total"]["vaccinated"].as_i64().expect("n") >= 1);
        let day = admin.get(&format!("/api/v1/sites/HCL/days/{today}")).await;
        assert!(json(&day)["lots"].as_array().expect("lots").iter().all(|l| l["balanced"] == true));
        assert_eq!(admin.get("/api/v1/sites/HCL/days/someday").await.status, StatusCode::BAD_REQUEST);
        let close = format!("/api/v1/sites/HCL/days/{today}/close");
        let closed = keyed(&admin, close.clone(), String::new(), "close-1").await;
        assert_eq!(closed.status, StatusCode::CREATED, "{}", closed.body);
        assert_eq!(keyed(&admin, close.clone(), String::new(), "close-1").await.body, closed.body);
        assert_eq!(keyed(&admin, close, String::new(), "close-2").await.status, StatusCode::CONFLICT);
        let unit_day = admin.get(&format!("/api/v1/units/{}/days/{today}", unit.code)).await;
        assert_eq!(json(&unit_day)["total"]["vaccinated"], 1);
        let spec = admin.get("/api/openapi.json").await;
        assert!(spec.body.contains("/api/v1/sites/{code}/vaccinations") && spec.body.contains("/api/v1/sites/{code}/days/{day}/close"));
    }
}
