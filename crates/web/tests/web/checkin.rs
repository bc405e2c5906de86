//! The check-in desk's page: a scan checks the person in and shows their team's label; a second
//! scan says when; a bad code is named; other posts and other roles are refused.

use axum::http::StatusCode;
use vaxloop_core::Role;
use vaxloop_demo::DEMO_PASSWORD;

use crate::fixture;

vaxloop_store::backend_tests! {
    async fn the_check_in_desk_scans_once_and_says_so_the_second_time(t) {
        let f = fixture(t).await;
        let hcl = vaxloop_store::sites::by_code(&f.db, "HCL").await.expect("q").expect("HCL");
        let mut unit = None;
        for u in vaxloop_store::org::units(&f.db, None).await.expect("units") {
            let serves = vaxloop_store::sites::serving_unit(&f.db, u.id).await.expect("q").iter().any(|s| s.id == hcl.id);
            let waiting = vaxloop_store::journeys::waiting_of_unit(&f.db, u.id, 1, 2).await.expect("q");
            if serves && waiting.len() == 2 {
                unit = Some((u, waiting));
                break;
            }
        }
        let (unit, people) = unit.expect("a unit HCL serves with people waiting");
        let today = vaxloop_web::WebConfig::default().today().to_string();
        let slot = vaxloop_store::slots::of_site_day(&f.db, hcl.id, &today).await.expect("slots")
            .into_iter().find(|s| s.capacity - s.booked >= 2).expect("room today").id;
        vaxloop_app::booking::engine::book_team(&f.db, chrono_tz::Asia::Shanghai, unit.id, slot, &people, 1).await.expect("book").expect("booked");

        let mut desk = f.client();
        desk.login("hcl.checkin", DEMO_PASSWORD).await;
        assert!(desk.get("/sites/HCL").await.body.contains("id=\"checkin-link\""));
        // The desk lands on its own station; the flow's other stations are shown in order, the
        // ones it does not work not linked.
        assert_eq!(desk.get("/site").await.location(), "/sites/HCL/checkin");
        let page = desk.get("/sites/HCL/checkin").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("id=\"stations\"") && page.body.contains("class=\"station current\""));
        assert!(!page.body.contains("href=\"/sites/HCL/screening\""), "not the desk's station");
        let mut manager = f.client();
        manager.login("hcl.manager", DEMO_PASSWORD).await;
        assert_eq!(manager.get("/site").await.location(), "/sites/HCL");
        let managed = manager.get("/sites/HCL/checkin").await.body;
        for s in ["screening", "vaccination", "observation", "board", "day"] {
            assert!(managed.contains(&format!("href=\"/sites/HCL/{s}\"")), "the manager's tabs hold {s}");
        }
        let token = page.csrf();
        let code = format!("VXL1:{}", f.db.cipher.sign("person", people[0]));
        let first = desk.post_form("/sites/HCL/checkin", &[("csrf_token", &token), ("code", &code)]).await;
        assert_eq!(first.status, StatusCode::OK);
        assert!(first.body.contains("签到成功") && first.body.contains("id=\"team-label\""), "checked in, label shown");
        assert!(first.body.contains("****"), "the ID number masked");
        let second = desk.post_form("/sites/HCL/checkin", &[("csrf_token", &token), ("code", &code)]).await;
        assert!(second.body.contains("已于") && second.body.contains("签到"));
        let empty = desk.post_form("/sites/HCL/checkin", &[("csrf_token", &token), ("code", " ")]).await;
        assert_eq!(empty.status, StatusCode::BAD_REQUEST);
        let forged = desk.post_form("/sites/HCL/checkin", &[("csrf_token", &token), ("code", "VXL1:abc")]).await;
        assert!(forged.body.contains("这不是本次接种的个人二维码"));

        // Someone registered without an appointment, typed by ID number: the card offers a
        // walk-in, carrying their personal code and never the ID number typed.
        let nobody = vaxloop_store::journeys::waiting_of_unit(&f.db, unit.id, 1, 1).await.expect("q")[0];
        let (id_number, _) = vaxloop_store::people::reveal(&f.db, &f.db.cipher, nobody).await.expect("reveal");
        let offered = desk.post_form("/sites/HCL/checkin", &[("csrf_token", &token), ("code", &id_number)]).await;
        assert!(offered.body.contains("此人没有预约") && offered.body.contains("id=\"walk-in-form\""));
        assert!(!offered.body.contains(&id_number), "the ID number is not echoed");
        let personal = format!("VXL1:{}", f.db.cipher.sign("person", nobody));
        assert!(offered.body.contains(&personal));
        let walked = desk.post_form("/sites/HCL/checkin/walk-in", &[("csrf_token", &token), ("code", &personal)]).await;
        assert_eq!(walked.status, StatusCode::OK);
        // Booked into the slot under way, or — late in the evening — told no slot is left.
        let checked = walked.body.contains("签到成功");
        assert!(checked || walked.body.contains("今天已没有空余名额的时段"), "{}", walked.body);
        // Nobody with this ID number: the desk registers them, then books and checks them in.
        let stranger = vaxloop_core::ResidentId::compose(310112, chrono::NaiveDate::from_ymd_opt(1971, 3, 9).expect("date"), 987);
        let unknown = desk.post_form("/sites/HCL/checkin", &[("csrf_token", &token), ("code", stranger.as_str())]).await;
        assert!(unknown.body.contains("id=\"register-form\""), "the registration is offered");
        assert!(!unknown.body.contains(stranger.as_str()), "the ID number is not echoed");
        let served = vaxloop_store::sites::units_served(&f.db, hcl.id).await.expect("q");
        let unit_code = served.first().map(|u| u.1.clone()).unwrap_or_else(|| unit.code.clone());
        let bad = desk.post_form("/sites/HCL/checkin/register", &[("csrf_token", &token), ("id_number", stranger.as_str()), ("name", "路人甲"), ("phone", "021-5555"), ("unit", &unit_code), ("consent", "1")]).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.body.contains("请填写中国大陆手机号") && !bad.body.contains(stranger.as_str()));
        let registered = desk.post_form("/sites/HCL/checkin/register", &[("csrf_token", &token), ("id_number", stranger.as_str()), ("name", "路人甲"), ("phone", ""), ("unit", &unit_code), ("consent", "1")]).await;
        assert_eq!(registered.status, StatusCode::OK, "{}", registered.body);
        let stranger_checked = registered.body.contains("签到成功");
        assert!(stranger_checked || registered.body.contains("今天已没有空余名额的时段"), "{}", registered.body);
        let person = vaxloop_store::people::by_resident_id(&f.db, &f.db.cipher, &stranger).await.expect("q").expect("registered");
        assert!(person.confirmed);
        let again = desk.post_form("/sites/HCL/checkin/register", &[("csrf_token", &token), ("id_number", stranger.as_str()), ("name", "路人甲"), ("unit", &unit_code), ("consent", "1")]).await;
        assert_eq!(again.status, StatusCode::CONFLICT, "registered once");
        for login in ["hcl.vaccinator".to_string(), f.username(Role::UnitContact)] {
            let mut other = f.client();
            other.login(&login, DEMO_PASSWORD).await;
            assert_eq!(other.get("/sites/HCL/checkin").await.status, StatusCode::FORBIDDEN, "{login}");
        }
        let mut tx = f.db.begin_write().await.expect("tx");
        let visits: i64 = sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM visits").fetch_one(&mut *tx).await.expect("n");
        assert_eq!(visits, 1 + i64::from(checked) + i64::from(stranger_checked));
    }

    async fn the_check_in_api_answers_each_scan_with_the_one_check_in(t) {
        let f = fixture(t).await;
        let hcl = vaxloop_store::sites::by_code(&f.db, "HCL").await.expect("q").expect("HCL");
        let mut found = None;
        for u in vaxloop_store::org::units(&f.db, None).await.expect("units") {
            let serves = vaxloop_store::sites::serving_unit(&f.db, u.id).await.expect("q").iter().any(|s| s.id == hcl.id);
            let waiting = vaxloop_store::journeys::waiting_of_unit(&f.db, u.id, 1, 1).await.expect("q");
            if serves && waiting.len() == 1 {
                found = Some((u, waiting[0]));
                break;
            }
        }
        let (unit, person) = found.expect("a unit HCL serves with people waiting");
        let today = vaxloop_web::WebConfig::default().today().to_string();
        let slot = vaxloop_store::slots::of_site_day(&f.db, hcl.id, &today).await.expect("slots")
            .into_iter().find(|s| s.capacity > s.booked).expect("room today").id;
        vaxloop_app::booking::engine::book_team(&f.db, chrono_tz::Asia::Shanghai, unit.id, slot, &[person], 1).await.expect("book").expect("booked");
        let mut desk = f.client();
        desk.login("hcl.checkin", DEMO_PASSWORD).await;
        let token = desk.get("/sites/HCL/checkin").await.csrf();
        let code = format!(r#"{{"code":"VXL1:{}"}}"#, f.db.cipher.sign("person", person));
        let first = desk.post_json("/api/v1/sites/HCL/checkins", &code, Some(&token)).await;
        assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
        let a: serde_json::Value = serde_json::from_str(&first.body).expect("json");
        assert_eq!(a["fresh"], true);
        assert!(a["id_masked"].as_str().expect("masked").contains('*'));
        let again = desk.post_json("/api/v1/sites/HCL/checkins", &code, Some(&token)).await;
        assert_eq!(again.status, StatusCode::OK);
        let b: serde_json::Value = serde_json::from_str(&again.body).expect("json");
        assert_eq!((b["fresh"].clone(), b["visit_id"].clone(), b["checked_in_at"].clone()), (serde_json::json!(false), a["visit_id"].clone(), a["checked_in_at"].clone()));
        let bad = desk.post_json("/api/v1/sites/HCL/checkins", r#"{"code":"12345"}"#, Some(&token)).await;
        assert_eq!(bad.status, StatusCode::CONFLICT);
        assert!(bad.body.contains("\"error\":\"bad_id_number\"") && bad.body.contains("\"field\":\"code\""));
        let mut nurse = f.client();
        nurse.login("hcl.vaccinator", DEMO_PASSWORD).await;
        let their = nurse.get("/site").await;
        let their = nurse.get(their.location()).await.csrf();
        assert_eq!(nurse.post_json("/api/v1/sites/HCL/checkins", &code, Some(&their)).await.status, StatusCode::FORBIDDEN);
    }

    async fn the_screening_doctor_calls_people_in_order_and_decides_once(t) {
        let f = fixture(t).await;
        let hcl = vaxloop_store::sites::by_code(&f.db, "HCL").await.expect("q").expect("HCL");
        let mut found = None;
        for u in vaxloop_store::org::units(&f.db, None).await.expect("units") {
            let serves = vaxloop_store::sites::serving_unit(&f.db, u.id).await.expect("q").iter().any(|s| s.id == hcl.id);
            let waiting = vaxloop_store::journeys::waiting_of_unit(&f.db, u.id, 1, 2).await.expect("q");
            if serves && waiting.len() == 2 {
                found = Some((u, waiting));
                break;
            }
        }
        let (unit, people) = found.expect("people HCL serves");
        let today = vaxloop_web::WebConfig::default().today();
        let slot = vaxloop_store::slots::of_site_day(&f.db, hcl.id, &today.to_string()).await.expect("slots")
            .into_iter().find(|s| s.capacity - s.booked >= 2).expect("room today").id;
        vaxloop_app::booking::engine::book_team(&f.db, chrono_tz::Asia::Shanghai, unit.id, slot, &people, 1).await.expect("book").expect("booked");
        let mut visits = Vec::new();
        for &p in &people {
            let code = format!("VXL1:{}", f.db.cipher.sign("person", p));
            visits.push(vaxloop_app::site_ops::check_in(&f.db, &f.db.cipher, hcl.id, vaxloop_app::site_ops::At::on(chrono_tz::Asia::Shanghai, today), &code, None).await.expect("store").expect("in").visit);
        }

        let mut doc = f.client();
        doc.login("hcl.screening", DEMO_PASSWORD).await;
        assert!(doc.get("/sites/HCL").await.body.contains("id=\"screening-link\""));
        let list = doc.get("/sites/HCL/screening").await;
        assert_eq!(list.status, StatusCode::OK);
        assert_eq!(list.body.matches("screening?visit=").count(), 2, "both wait");
        let token = list.csrf();
        let v = visits[0].id;
        let called = doc.get(&format!("/sites/HCL/screening?visit={v}")).await;
        assert!(called.body.contains("id=\"screening-form\""));
        let (_, vaccine) = vaxloop_store::visits::by_id(&f.db, v).await.expect("q").expect("visit");
        let questions = vaxloop_store::screening::questions(&f.db, vaccine).await.expect("q");
        let mut fields: Vec<(String, String)> = vec![("csrf_token".into(), token.clone()), ("visit".into(), v.to_string())];
        // A fever, and a pass: refused, the doctor's to give.
        for (i, q) in questions.iter().enumerate() {
            fields.push((format!("q{}", q.id), if i == 0 { "yes" } else { "no" }.into()));
        }
        fields.push(("outcome".into(), "pass".into()));
        let send = |c: &mut crate::Client, f: Vec<(String, String)>| {
            let mut c = c.clone();
            async move {
                let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                c.post_form("/sites/HCL/screening", &pairs).await
            }
        };
        let refused = send(&mut doc, fields.clone()).await;
        assert_eq!(refused.status, StatusCode::CONFLICT);
        // Said as an error, naming the question and who decides, with every answer kept.
        assert!(refused.body.contains("class=\"alert\"") && refused.body.contains("第1题回答“是”") && refused.body.contains("转医生评估"), "{}", refused.body);
        assert_eq!(refused.body.matches(" checked>").count() + refused.body.matches(" checked ").count(), questions.len() + 1, "the answers and the outcome stay");
        // All clear: passed; the queue is one shorter.
        for (i, q) in questions.iter().enumerate() {
            if i == 0 {
                fields.retain(|(k, _)| k != &format!("q{}", q.id));
                fields.push((format!("q{}", q.id), "no".into()));
            }
        }
        let passed = send(&mut doc, fields.clone()).await;
        assert_eq!(passed.status, StatusCode::SEE_OTHER, "{}", passed.body);
        let after = doc.get(passed.location()).await;
        assert!(after.body.contains("已通过"));
        assert_eq!(after.body.matches("screening?visit=").count(), 1);
        let again = send(&mut doc, fields.clone()).await;
        assert_eq!(again.status, StatusCode::CONFLICT);

        let mut nurse = f.client();
        nurse.login("hcl.checkin", DEMO_PASSWORD).await;
        assert_eq!(nurse.get("/sites/HCL/screening").await.status, StatusCode::FORBIDDEN);
    }

    async fn the_vaccinator_needs_the_persons_code_and_the_nurse_releases_or_reports(t) {
        let f = fixture(t).await;
        let (hcl, _, people, _) = f.book_today("HCL", 2).await;
        let visits = f.ready_for_the_dose(&hcl, &people).await;

        let mut vac = f.client();
        vac.login("hcl.vaccinator", DEMO_PASSWORD).await;
        assert!(vac.get("/sites/HCL").await.body.contains("id=\"vaccination-link\""));
        let list = vac.get("/sites/HCL/vaccination").await;
        assert_eq!(list.status, StatusCode::OK);
        assert_eq!(list.body.matches("vaccination?visit=").count(), 2, "both wait");
        let token = list.csrf();
        let v = visits[0].clone();
        let called = vac.get(&format!("/sites/HCL/vaccination?visit={}", v.id)).await;
        assert!(called.body.contains("id=\"vaccination-form\""));
        let lot = called.body.split("name=\"lot\" value=\"").nth(1).and_then(|r| r.split('"').next()).expect("a lot offered").to_string();
        let right = f.db.cipher.presence_code(v.appointment_id);
        let wrong = if right == "0000" { "0001" } else { "0000" };
        let give = |c: &crate::Client, code: &str| {
            let mut c = c.clone();
            let fields = [("csrf_token".to_string(), token.clone()), ("visit".into(), v.id.to_string()), ("lot".into(), lot.clone()), ("presence".into(), code.to_string()), ("minutes".into(), "30".into())];
            async move {
                let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                c.post_form("/sites/HCL/vaccination", &pairs).await
            }
        };
        let refused = give(&vac, wrong).await;
        assert_eq!(refused.status, StatusCode::CONFLICT);
        assert!(refused.body.contains("到场码与该受种者的预约不符"));
        let missing = give(&vac, "").await;
        assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
        let given = give(&vac, &right).await;
        assert_eq!(given.status, StatusCode::SEE_OTHER, "{}", given.body);
        let after = vac.get(given.location()).await;
        assert!(after.body.contains("已记录接种"));
        assert_eq!(after.body.matches("vaccination?visit=").count(), 1);
        assert_eq!(give(&vac, &right).await.status, StatusCode::CONFLICT, "given once");
        let mut tx = f.db.begin_write().await.expect("tx");
        let denied: i64 = sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE action = 'dose.wrong_code' AND outcome = 'denied'").fetch_one(&mut *tx).await.expect("n");
        assert_eq!(denied, 1, "the wrong code is in the log");
        drop(tx);
        // The screener may not give doses.
        let mut doc = f.client();
        doc.login("hcl.screening", DEMO_PASSWORD).await;
        assert_eq!(doc.get("/sites/HCL/vaccination").await.status, StatusCode::FORBIDDEN);

        // Observation: listed with its countdown; release before time needs a reason.
        let mut nurse = f.client();
        nurse.login("hcl.observation", DEMO_PASSWORD).await;
        let obs = nurse.get("/sites/HCL/observation").await;
        assert_eq!(obs.status, StatusCode::OK);
        assert!(obs.body.contains(&format!("id=\"obs-{}\"", v.id)) && obs.body.contains("data-due="));
        let token = obs.csrf();
        let early = nurse.post_form("/sites/HCL/observation/release", &[("csrf_token", &token), ("visit", &v.id.to_string())]).await;
        assert_eq!(early.status, StatusCode::CONFLICT);
        assert!(early.body.contains("id=\"early-reason\""));
        // An adverse event, with a field missing and then whole.
        let form = nurse.get(&format!("/sites/HCL/observation?aefi={}", v.id)).await;
        assert!(form.body.contains("id=\"aefi-form\""));
        let bad = nurse.post_form("/sites/HCL/observation/aefi", &[("csrf_token", &token), ("visit", &v.id.to_string()), ("onset", "00:00"), ("severity", "mild"), ("action", "observed")]).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.body.contains("请至少选择一项症状"));
        let ok = nurse.post_form("/sites/HCL/observation/aefi", &[("csrf_token", &token), ("visit", &v.id.to_string()), ("onset", "00:00"), ("symptom", "rash"), ("symptom", "fever"), ("severity", "mild"), ("action", "observed")]).await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
        assert!(nurse.get("/sites/HCL/observation").await.body.contains("已报告不良反应"));
        let released = nurse.post_form("/sites/HCL/observation/release", &[("csrf_token", &token), ("visit", &v.id.to_string()), ("reason", "家中有事")]).await;
        assert_eq!(released.status, StatusCode::SEE_OTHER);
        assert!(!nurse.get("/sites/HCL/observation").await.body.contains(&format!("id=\"obs-{}\"", v.id)));
        assert_eq!(vac.get("/sites/HCL/observation").await.status, StatusCode::FORBIDDEN, "the vaccinator does not release");
    }
}
