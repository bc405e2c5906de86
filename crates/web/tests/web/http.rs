//! Login and logout, CSRF, role scoping, health, metrics and the OpenAPI document.

use axum::http::StatusCode;
use vaxloop_core::Role;
use vaxloop_demo::{DEMO_PASSWORD, DEMO_PIN};
use vaxloop_store::audit;
use vaxloop_web::furniture as access;

use crate::fixture;

vaxloop_store::backend_tests! {
    async fn login_lands_each_role_on_its_home_and_logout_ends_the_session(t) {
        let f = fixture(t).await;
        for login in f.town.logins.clone() {
            let mut c = f.client();
            let (name, secret) = match (&login.username, login.person) {
                (Some(u), _) => (u.clone(), DEMO_PASSWORD),
                (None, Some(p)) => (f.town.people[p].id.as_str().to_string(), DEMO_PIN),
                (None, None) => unreachable!("every demo login has a username or a person"),
            };
            let r = c.login(&name, secret).await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);
            assert_eq!(r.location(), access::home(login.role), "{name} lands home");
            let mut home = c.get(r.location()).await;
            if home.status == StatusCode::SEE_OTHER {
                // /group, /unit and /site forward to the caller's own group, unit or site.
                home = c.get(home.location()).await;
            }
            assert_eq!(home.status, StatusCode::OK, "{name} opens their home");
            assert!(home.body.contains(&login.display_name), "{name}'s name is shown");
            let token = home.csrf();
            let out = c.post_form("/logout", &[("csrf_token", &token)]).await;
            assert_eq!(out.location(), "/login");
            let after = c.get(access::home(login.role)).await;
            assert_eq!(after.status, StatusCode::SEE_OTHER);
            assert!(after.location().starts_with("/login?next="), "{name} logged out: {}", after.location());
        }
    }

    async fn a_wrong_password_is_refused_without_saying_which_part_was_wrong(t) {
        let f = fixture(t).await;
        let mut c = f.client();
        let wrong = c.login("admin", "not-the-password").await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        assert!(wrong.body.contains("登录名或密码错误"));
        let nobody = c.login("nobody", "whatever").await;
        assert_eq!(nobody.status, StatusCode::UNAUTHORIZED);
        assert!(nobody.body.contains("登录名或密码错误"));
        assert!(nobody.body.contains("value=\"nobody\""), "the username is kept in the form");
        let denied = audit::recent(&f.db, 10).await.expect("audit");
        assert!(denied.iter().filter(|e| e.action == "login" && e.outcome == "denied").count() >= 2);
        assert!(denied.iter().all(|e| !e.target.contains("nobody")), "typed logins are not logged");
    }

    async fn five_wrong_passwords_lock_the_login_until_a_time_it_names(t) {
        let f = fixture(t).await;
        let mut c = f.client();
        for _ in 0..4 {
            assert_eq!(c.login("desk", "guess").await.status, StatusCode::UNAUTHORIZED);
        }
        let fifth = c.login("desk", "guess").await;
        assert_eq!(fifth.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(fifth.body.contains("该账号已锁定至"), "{}", fifth.body);
        let during = c.login("desk", DEMO_PASSWORD).await;
        assert_eq!(during.status, StatusCode::TOO_MANY_REQUESTS, "locked even with the right password");
        assert!(during.headers.get("retry-after").is_some());
        let locked = vaxloop_store::users::by_username(&f.db, "desk").await.expect("q").expect("desk");
        for _ in 0..3 {
            c.login("desk", "guess").await;
        }
        let still = vaxloop_store::users::by_username(&f.db, "desk").await.expect("q").expect("desk");
        assert_eq!(still.locked_until, locked.locked_until, "tries during the lock do not extend it");
        assert_eq!(c.login("admin", DEMO_PASSWORD).await.status, StatusCode::SEE_OTHER, "other logins are unaffected");
        // The admin unlocks it; the desk logs in at once.
        let users = c.get("/admin/users").await;
        assert!(users.body.contains("id=\"unlock-desk\""), "a locked login offers the button");
        let unlocked = c.post_form("/admin/users/desk/unlock", &[("csrf_token", &users.csrf())]).await;
        assert_eq!(unlocked.status, StatusCode::SEE_OTHER);
        let log = audit::recent(&f.db, 5).await.expect("audit");
        assert!(log.iter().any(|e| e.action == "unlock_login" && e.target == format!("user:{}", locked.id)));
        let mut desk = f.client();
        assert_eq!(desk.login("desk", DEMO_PASSWORD).await.status, StatusCode::SEE_OTHER);
        // A name nobody has locks the same way, so the lock tells nobody who has an account.
        let mut stranger = f.client();
        for _ in 0..4 {
            assert_eq!(stranger.login("nobody", "guess").await.status, StatusCode::UNAUTHORIZED);
        }
        let fifth = stranger.login("nobody", "guess").await;
        assert_eq!(fifth.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(fifth.body.contains("该账号已锁定至"));
    }

    async fn a_client_trying_too_many_logins_is_told_to_wait(t) {
        let f = fixture(t).await;
        let mut c = f.client();
        let mut statuses = Vec::new();
        for i in 0..70 {
            // Spraying one guess over many names, as a PIN sprayer does.
            statuses.push(c.login(&format!("name{i}"), "123456").await.status);
        }
        let throttled = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
        assert!(throttled >= 5, "{statuses:?}");
        let last = c.login("admin", DEMO_PASSWORD).await;
        assert_eq!(last.status, StatusCode::TOO_MANY_REQUESTS, "the right password waits its turn too");
        assert!(last.body.contains("此设备尝试次数过多"), "{}", last.body);
        assert!(last.headers.get("retry-after").is_some());
    }

    async fn the_frameworks_own_refusals_answer_in_the_documented_shape(t) {
        let f = fixture(t).await;
        let mut c = f.client();
        c.login("desk", DEMO_PASSWORD).await;
        let token = c.get("/desk").await.csrf();
        let json = |body: &str| serde_json::from_str::<serde_json::Value>(body).unwrap_or_else(|e| panic!("{e}: {body}"));
        let malformed = c.post_json("/api/v1/appointments", "{\"slot_id\": ", Some(&token)).await;
        assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
        assert_eq!(json(&malformed.body)["error"], "bad_request");
        let wrong_shape = c.post_json("/api/v1/appointments", "{\"slot_id\": \"seven\"}", Some(&token)).await;
        assert_eq!(wrong_shape.status, StatusCode::BAD_REQUEST);
        assert!(json(&wrong_shape.body)["message"].as_str().is_some_and(|m| m.contains("slot_id")), "{}", wrong_shape.body);
        let nowhere = c.get("/api/v1/no-such-thing").await;
        assert_eq!(nowhere.status, StatusCode::NOT_FOUND);
        assert_eq!(json(&nowhere.body)["error"], "not_found");
        let bad_query = c.get("/api/v1/units/C001/people?page=many").await;
        assert_eq!(bad_query.status, StatusCode::BAD_REQUEST);
        assert_eq!(json(&bad_query.body)["error"], "bad_request");
        // A number written with a zero fraction is the integer JSON Schema says it is.
        let float_id = c.post_json("/api/v1/appointments", r#"{"slot_id": 7.0, "people": [1.0]}"#, Some(&token)).await;
        assert_ne!(float_id.status, StatusCode::BAD_REQUEST, "{}", float_id.body);
        // Read exactly (serde_json's float_roundtrip), not rounded to a neighbour with a fraction.
        let large = c.post_json("/api/v1/appointments", r#"{"slot_id": 2083945636441469.0}"#, Some(&token)).await;
        assert_ne!(large.status, StatusCode::BAD_REQUEST, "{}", large.body);
        let fraction = c.post_json("/api/v1/appointments", r#"{"slot_id": 7.5}"#, Some(&token)).await;
        assert_eq!(fraction.status, StatusCode::BAD_REQUEST);
        assert!(json(&fraction.body)["message"].as_str().is_some_and(|m| m.contains("slot_id")), "{}", fraction.body);
        // So is an id in a path; a word is not.
        let capacity = r#"{"capacity": 30, "reason": "两名护士请假"}"#;
        let float_path = c.send_json("PUT", "/api/v1/slots/7.0/capacity", capacity, Some(&token)).await;
        assert_ne!(float_path.status, StatusCode::BAD_REQUEST, "{}", float_path.body);
        let word_path = c.send_json("PUT", "/api/v1/slots/seven/capacity", capacity, Some(&token)).await;
        assert_eq!(word_path.status, StatusCode::BAD_REQUEST);
        assert_eq!(json(&word_path.body)["error"], "bad_request");
        // A NUL in a query or a form is no text at all (PostgreSQL cannot keep one): refused
        // before any handler, by name.
        let nul_query = c.get("/api/v1/units/C001/people?search=a%00b").await;
        assert_eq!(nul_query.status, StatusCode::BAD_REQUEST);
        assert!(json(&nul_query.body)["message"].as_str().is_some_and(|m| m.contains("NUL")), "{}", nul_query.body);
        let nul_form = c.post_form("/desk/teams", &[("csrf_token", token.as_str()), ("unit", "a\0b")]).await;
        assert_eq!(nul_form.status, StatusCode::BAD_REQUEST);
        assert!(nul_form.body.contains("NUL"), "{}", nul_form.body);
        // A page's bad form is the error page, not the framework's plain text.
        let page = c.post_form("/desk/teams", &[("csrf_token", token.as_str())]).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
        assert!(page.body.contains("<html"), "{}", page.body);
    }

    async fn metrics_on_an_internal_address_are_not_on_the_public_one(t) {
        let config = vaxloop_web::WebConfig { metrics_addr: Some("127.0.0.1:0".into()), ..crate::client::test_config() };
        let f = crate::fixture_with(t, config).await;
        let mut c = f.client();
        assert_eq!(c.get("/metrics").await.status, StatusCode::NOT_FOUND);
        assert_eq!(c.get("/healthz").await.status, StatusCode::OK);
    }

    async fn behind_tls_browsers_are_told_to_stay_on_tls(t) {
        let config = vaxloop_web::WebConfig { secure_cookies: true, ..crate::client::test_config() };
        let f = crate::fixture_with(t, config).await;
        let page = f.client().get("/login").await;
        assert_eq!(page.headers.get("strict-transport-security").and_then(|v| v.to_str().ok()), Some("max-age=31536000; includeSubDomains"));
        assert!(f.client().get("/metrics").await.status == StatusCode::OK, "metrics stay public unless an internal address is set");
        // A next= with a tab, a newline or a NUL is no redirect target, and no server error (a
        // NUL in a query is refused outright, as unreadable).
        let mut c = f.client();
        for (next, status) in [("/%09/evil.example", StatusCode::OK), ("/a%0d%0aSet-Cookie:x=1", StatusCode::OK), ("/a%00b", StatusCode::BAD_REQUEST)] {
            let form = c.get(&format!("/login?next={next}")).await;
            assert_eq!(form.status, status, "{next}");
            assert!(!form.body.contains("evil.example") && !form.body.contains("Set-Cookie"), "{next}");
        }
    }

    async fn visitors_who_do_not_log_in_leave_no_session_rows(t) {
        let f = fixture(t).await;
        let sessions = || async {
            let mut tx = f.db.begin_write().await.expect("tx");
            let n: i64 = sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM sessions").fetch_one(&mut *tx).await.expect("count");
            n
        };
        let before = sessions().await;
        // Cookieless clients — a bot, or fifty phones scanning a unit's poster — fetch pages.
        for _ in 0..50 {
            let mut bot = f.client();
            assert_eq!(bot.get("/login").await.status, StatusCode::OK);
            assert_eq!(bot.get("/no-such-page").await.status, StatusCode::NOT_FOUND);
        }
        assert_eq!(sessions().await, before, "no row for a page view");
        // A visitor's form still works with the token of their own cookie, and the session
        // begins with the login.
        let mut c = f.client();
        assert_eq!(c.login("admin", DEMO_PASSWORD).await.status, StatusCode::SEE_OTHER);
        assert_eq!(sessions().await, before + 1);
        // Another visitor's token is not this one's.
        let mut a = f.client();
        let token = a.get("/login").await.csrf();
        let mut b = f.client();
        b.get("/login").await;
        let crossed = b.post_form("/login", &[("csrf_token", &token), ("login", "admin"), ("password", DEMO_PASSWORD)]).await;
        assert_eq!(crossed.status, StatusCode::FORBIDDEN);
    }

    async fn forms_without_the_right_csrf_token_are_refused(t) {
        let f = fixture(t).await;
        let mut c = f.client();
        let page = c.get("/login").await;
        let token = page.csrf();
        let none = c.post_form("/login", &[("login", "admin"), ("password", DEMO_PASSWORD)]).await;
        assert_eq!(none.status, StatusCode::FORBIDDEN);
        assert!(none.body.contains("表单已过期"));
        let forged = c.post_form("/login", &[("csrf_token", &"0".repeat(64)), ("login", "admin"), ("password", DEMO_PASSWORD)]).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        // A fresh client (another browser, or a cross-site form) has no session token at all.
        let mut stranger = f.client();
        let cross = stranger.post_form("/login", &[("csrf_token", &token), ("login", "admin"), ("password", DEMO_PASSWORD)]).await;
        assert_eq!(cross.status, StatusCode::FORBIDDEN);
        assert_eq!(c.login("admin", DEMO_PASSWORD).await.status, StatusCode::SEE_OTHER);
        let json = c.post_json("/logout", "{}", None).await;
        assert_eq!(json.status, StatusCode::FORBIDDEN, "no header token, no form token");
        let with_header = c.post_json("/logout", "{}", Some(&token)).await;
        assert_eq!(with_header.status, StatusCode::SEE_OTHER, "the htmx header token is accepted: {}", with_header.body);
    }

    async fn figures_are_grouped_and_the_site_has_an_icon(t) {
        let f = fixture(t).await;
        let mut c = f.client();
        let icon = c.get("/favicon.ico").await;
        assert_eq!(icon.status, StatusCode::OK);
        assert_eq!(icon.headers["content-type"], "image/svg+xml");
        assert!(c.get("/login").await.body.contains("rel=\"icon\""));
        assert_eq!(vaxloop_core::grouped(339_093), "339,093");
        assert_eq!(vaxloop_core::grouped(-1_234_567), "-1,234,567");
        assert_eq!(vaxloop_core::grouped(999), "999");
    }

    async fn a_volunteer_sees_their_site_and_how_it_works(t) {
        let f = fixture(t).await;
        let mut v = f.client();
        v.login("volunteer", DEMO_PASSWORD).await;
        let page = v.get("/staff").await;
        assert_eq!(page.status, StatusCode::OK);
        for part in ["id=\"site-name\"", "合川路", "id=\"flow\"", "id=\"zones\"", "id=\"duties\"", "有事请找：", "合川路接种点负责人", "绿色通道"] {
            assert!(page.body.contains(part), "the volunteer's page holds {part}: {}", page.body);
        }
    }

    async fn error_pages_keep_the_frame_and_offer_the_way_back(t) {
        let f = fixture(t).await;
        let mut c = f.client();
        c.login("desk", DEMO_PASSWORD).await;
        assert_eq!(c.get("/desk").await.status, StatusCode::OK);
        // Another role's page: the desk's own navigation, language switch and logout stay.
        let denied = c.get("/admin/users").await;
        assert_eq!(denied.status, StatusCode::FORBIDDEN);
        for part in ["<nav class=\"main\">", "id=\"logout\"", "id=\"lang-switch\"", "id=\"error-hint\"", "id=\"error-back\"", "href=\"/desk\""] {
            assert!(denied.body.contains(part), "403 keeps {part}: {}", denied.body);
        }
        let missing = c.get("/desk/teams/T0-NOPE-1").await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        assert!(missing.body.contains("id=\"logout\"") && missing.body.contains("地址可能输错了"), "{}", missing.body);
        // A form's address opened directly: a framed page saying so, not the browser's own.
        let get_post = c.get("/desk/teams").await;
        assert_eq!(get_post.status, StatusCode::METHOD_NOT_ALLOWED);
        assert!(get_post.headers.contains_key("allow"), "{:?}", get_post.headers);
        assert!(get_post.body.contains("只接收表单提交") && get_post.body.contains("id=\"logout\""), "{}", get_post.body);
        // An expired registration link says what to do, to anyone.
        let gone = f.client().get("/r/not-a-link-any-more").await;
        assert_eq!(gone.status, StatusCode::NOT_FOUND);
        assert!(gone.body.contains("登记链接已失效") && gone.body.contains("联络员"), "{}", gone.body);
        assert!(gone.body.contains("id=\"error-home\""));
    }

    async fn roles_cannot_open_each_others_pages(t) {
        let f = fixture(t).await;
        let contact = f.town.logins.iter().find(|l| l.role == Role::UnitContact).expect("contact").clone();
        let own_unit = &f.town.units[contact.unit.expect("unit")];
        let other_unit = f.town.units.iter().find(|u| u.code != own_unit.code).expect("another unit");
        let other_group_unit = f.town.units.iter().find(|u| u.group != own_unit.group).expect("unit of another group");
        let mut c = f.client();
        c.login(contact.username.as_deref().expect("username"), DEMO_PASSWORD).await;
        assert_eq!(c.get(&format!("/units/{}", own_unit.code)).await.status, StatusCode::OK);
        for path in ["/admin", "/admin/users", "/admin/audit", "/desk", "/sites", "/sites/HCL", "/group", "/site", "/me", "/staff"] {
            assert_eq!(c.get(path).await.status, StatusCode::FORBIDDEN, "unit contact opened {path}");
        }
        assert_eq!(c.get(&format!("/units/{}", other_unit.code)).await.status, StatusCode::FORBIDDEN);
        assert_eq!(c.get(&format!("/groups/{}", f.town.groups[own_unit.group].code)).await.status, StatusCode::FORBIDDEN);
        let api = c.get("/api/v1/work-groups").await;
        assert_eq!(api.status, StatusCode::FORBIDDEN);
        assert!(api.body.contains("\"error\":\"forbidden\""), "{}", api.body);

        let leader = f.town.logins.iter().find(|l| l.role == Role::GroupLeader && l.group == Some(own_unit.group)).expect("leader").clone();
        let mut l = f.client();
        l.login(leader.username.as_deref().expect("username"), DEMO_PASSWORD).await;
        assert_eq!(l.get(&format!("/units/{}", own_unit.code)).await.status, StatusCode::OK, "a leader sees the group's units");
        assert_eq!(l.get(&format!("/units/{}", other_group_unit.code)).await.status, StatusCode::FORBIDDEN);
        let groups = l.get("/api/v1/work-groups").await;
        assert_eq!(groups.status, StatusCode::OK);
        assert_eq!(groups.body.matches("\"code\"").count(), 1, "a leader's API lists only their group");
        let other_group = &f.town.groups[other_group_unit.group].code;
        assert_eq!(l.get(&format!("/api/v1/work-groups/{other_group}/units")).await.status, StatusCode::FORBIDDEN);

        let mut s = f.client();
        s.login("hcl.checkin", DEMO_PASSWORD).await;
        assert_eq!(s.get("/sites/HCL").await.status, StatusCode::OK);
        assert_eq!(s.get("/sites/AQH").await.status, StatusCode::FORBIDDEN);
        assert_eq!(s.get("/units/C001").await.status, StatusCode::FORBIDDEN);

        let denied = audit::recent(&f.db, 100).await.expect("audit");
        assert!(denied.iter().any(|e| e.action == "access" && e.outcome == "denied" && e.target == "/admin"));
        assert!(denied.iter().any(|e| e.action == "access" && e.target == "/sites/AQH"));
    }

    async fn pages_show_personal_data_masked_only(t) {
        let f = fixture(t).await;
        let mut c = f.client();
        c.login("admin", DEMO_PASSWORD).await;
        let unit = &f.town.units[0];
        let page = c.get(&format!("/units/{}", unit.code)).await;
        assert_eq!(page.status, StatusCode::OK);
        let members: Vec<_> = f.town.people.iter().filter(|p| std::ptr::eq(&f.town.units[p.unit], unit)).take(50).collect();
        assert!(!members.is_empty());
        for p in members {
            assert!(!page.body.contains(p.id.as_str()), "full ID number on the roster page");
            assert!(!page.body.contains(&p.phone), "full phone number on the roster page");
            assert!(page.body.contains(&p.id.masked()));
        }
        assert_eq!(page.headers.get("cache-control").map(|v| v.to_str().unwrap_or("")), Some("no-store"));

        let resident = f.town.logins.iter().find_map(|l| l.person).expect("resident");
        let id = f.town.people[resident].id.clone();
        let mut r = f.client();
        assert_eq!(r.login(&id.as_str().to_lowercase(), DEMO_PIN).await.location(), "/me");
        let me = r.get("/me").await;
        assert!(me.body.contains(&id.masked()) && !me.body.contains(id.as_str()));
        let wrong = f.client().login(id.as_str(), "000000").await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        assert!(!wrong.body.contains(id.as_str()), "a typed ID number is not echoed back");
    }

    async fn security_headers_are_on_every_response(t) {
        let f = fixture(t).await;
        let mut c = f.client();
        for path in ["/login", "/healthz", "/static/app.css", "/nope"] {
            let r = c.get(path).await;
            let csp = r.headers.get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or("");
            assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
            assert_eq!(r.headers.get("x-content-type-options").map(|v| v.as_bytes()), Some(&b"nosniff"[..]), "{path}");
            assert_eq!(r.headers.get("x-frame-options").map(|v| v.as_bytes()), Some(&b"DENY"[..]), "{path}");
        }
        let js = c.get("/static/htmx.min.js").await;
        assert_eq!(js.status, StatusCode::OK);
        assert!(js.body.contains("htmx"));
        let missing = c.get("/nope").await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        assert!(missing.body.contains("页面不存在"));
        let api_missing = c.get("/api/v1/nope").await;
        assert_eq!(api_missing.status, StatusCode::NOT_FOUND);
        assert!(api_missing.body.contains("\"error\":\"not_found\""));
        let unauth = c.get("/api/v1/me").await;
        assert_eq!(unauth.status, StatusCode::UNAUTHORIZED);
    }

    async fn a_session_ended_or_a_login_stopped_elsewhere_counts_within_a_second(t) {
        // Another server of the same database logs a session out, or an administrator's tool
        // deactivates a login: this server may go on from the session it read for up to a
        // second, never longer.
        let f = fixture(t).await;
        let mut c = f.client();
        c.login("desk", DEMO_PASSWORD).await;
        assert_eq!(c.get("/api/v1/me").await.status, StatusCode::OK);
        let mut tx = f.db.begin_write().await.expect("tx");
        sqlx::query("DELETE FROM sessions").execute(&mut *tx).await.expect("end every session");
        tx.commit().await.expect("commit");
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        assert_eq!(c.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED, "the ended session is gone");

        let mut c = f.client();
        c.login("desk", DEMO_PASSWORD).await;
        assert_eq!(c.get("/api/v1/me").await.status, StatusCode::OK);
        let mut tx = f.db.begin_write().await.expect("tx");
        sqlx::query("UPDATE users SET active = 0 WHERE username = 'desk'").execute(&mut *tx).await.expect("deactivate");
        tx.commit().await.expect("commit");
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        assert_eq!(c.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED, "the stopped login is out");
    }

    async fn sessions_read_together_each_answer_their_own_login(t) {
        // Sessions arriving at once are read from the database in one statement: every
        // request still gets its own login, and a stranger's cookie gets nobody.
        let f = fixture(t).await;
        let mut clients = Vec::new();
        for login in f.town.logins.iter().filter(|l| l.username.is_some()).take(8) {
            let mut c = f.client();
            let name = login.username.clone().expect("username");
            assert_eq!(c.login(&name, DEMO_PASSWORD).await.status, StatusCode::SEE_OTHER, "{name}");
            clients.push((c, login.display_name.clone()));
        }
        assert!(clients.len() >= 5, "enough logins to read together");
        let mut asks = tokio::task::JoinSet::new();
        for (c, name) in &clients {
            for _ in 0..4 {
                let (mut c, name) = (c.clone(), name.clone());
                asks.spawn(async move { (c.get("/api/v1/me").await, name) });
            }
        }
        let answers = asks.join_all().await;
        assert_eq!(answers.len(), clients.len() * 4);
        for (answer, name) in answers {
            assert_eq!(answer.status, StatusCode::OK);
            assert!(answer.body.contains(&format!("\"display_name\":\"{name}\"")), "{name}: {}", answer.body);
        }
        let mut stranger = f.client();
        assert_eq!(stranger.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED);
    }

    async fn healthz_follows_the_database_and_metrics_count_requests(t) {
        let f = fixture(t).await;
        let mut c = f.client();
        let ok = c.get("/healthz").await;
        assert_eq!(ok.status, StatusCode::OK);
        assert!(ok.body.contains("\"status\":\"ok\""));
        assert!(!c.has_cookie("vaxloop_session"), "probes create no sessions");
        c.get("/login").await;
        let metrics = c.get("/metrics").await;
        assert_eq!(metrics.status, StatusCode::OK);
        assert!(metrics.body.contains("http_requests_total"), "{}", metrics.body);
        assert!(metrics.body.contains("route=\"/login\""));
        f.db.db.close().await;
        let down = c.get("/healthz").await;
        assert_eq!(down.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(down.body.contains("unreachable"));
    }

    async fn the_openapi_document_describes_the_api(t) {
        let f = fixture(t).await;
        let mut c = f.client();
        let doc = c.get("/api/openapi.json").await;
        assert_eq!(doc.status, StatusCode::OK);
        let json: serde_json::Value = serde_json::from_str(&doc.body).expect("JSON");
        assert!(json["openapi"].as_str().expect("version").starts_with("3."));
        assert_eq!(json["info"]["title"], "vaxloop API");
        let paths = json["paths"].as_object().expect("paths");
        for p in ["/api/v1/me", "/api/v1/work-groups", "/api/v1/work-groups/{code}/units", "/api/v1/sites", "/api/v1/units/{code}", "/api/v1/units/{code}/people"] {
            let op = &paths[p]["get"];
            assert!(op["responses"]["200"].is_object(), "{p} documents its 200");
        }
        for (p, method) in [("/api/v1/work-groups", "post"), ("/api/v1/units", "post"), ("/api/v1/units/{code}", "put"), ("/api/v1/people/{id}/unmask", "post")] {
            assert!(paths[p][method]["requestBody"].is_object(), "{method} {p} documents its body");
        }
        assert!(json["components"]["schemas"]["ApiError"].is_object());
        assert!(json["components"]["schemas"]["ApiError"]["properties"]["problems"].is_object());
        // Every answer the server may give is listed (issue 17, item 9): the shared ones on every
        // operation, by its shape, with the headers that say when to retry and how to log in.
        let shared = &json["components"]["responses"];
        assert!(shared["TooManyRequests"]["headers"]["Retry-After"].is_object());
        assert!(shared["InFlight"]["headers"]["Retry-After"].is_object());
        assert!(shared["Unauthenticated"]["headers"]["WWW-Authenticate"].is_object());
        let mut operations = 0;
        for (path, item) in paths {
            for (method, op) in item.as_object().expect("path item") {
                let listed = |status: &str| op["responses"][status].is_object();
                for status in ["401", "403", "429"] {
                    assert!(listed(status), "{method} {path} lists {status}");
                }
                if op["requestBody"].is_object() {
                    for status in ["400", "413", "415", "422"] {
                        assert!(listed(status), "{method} {path} lists {status}");
                    }
                }
                if path.contains('{') {
                    assert!(listed("404"), "{method} {path} lists 404");
                }
                let params = op["parameters"].as_array().cloned().unwrap_or_default();
                if let Some(key) = params.iter().find(|p| p["name"] == "Idempotency-Key") {
                    assert!(listed("409"), "{method} {path} lists the key's 409");
                    assert!(key["schema"]["pattern"].as_str().is_some_and(|p| p.contains("{0,198}")), "{method} {path}: {key}");
                }
                operations += 1;
            }
        }
        assert!(operations >= 35, "{operations}");
        // A refusal of its own at 409 keeps its body, and may also be the key's in_flight.
        let booking_conflict = &paths["/api/v1/appointments"]["post"]["responses"]["409"];
        let either = &booking_conflict["content"]["application/json"]["schema"]["anyOf"];
        assert_eq!(either.as_array().map(Vec::len), Some(2), "{booking_conflict}");
        // The limits the server enforces are in the schemas.
        let schemas = &json["components"]["schemas"];
        assert_eq!(schemas["UnmaskIn"]["properties"]["reason"]["minLength"], 4);
        assert_eq!(schemas["CapacityIn"]["properties"]["capacity"]["maximum"], 10_000);
        assert_eq!(schemas["VaccineIn"]["properties"]["doses_in_series"]["maximum"], 5);
        assert_eq!(schemas["DeliveryIn"]["properties"]["day"]["format"], "date");
        assert!(schemas["AefiIn"]["properties"]["severity"]["enum"].as_array().is_some_and(|e| e.len() == 4));
        let lots = paths["/api/v1/sites/{code}/lots"]["get"]["parameters"].as_array().expect("params");
        assert!(lots.iter().any(|p| p["name"] == "visit_id" && p["in"] == "query" && p["required"] == true), "{lots:?}");
        c.login("admin", DEMO_PASSWORD).await;
        let me: serde_json::Value = serde_json::from_str(&c.get("/api/v1/me").await.body).expect("JSON");
        assert_eq!(me["role"], "admin");
        assert_eq!(me["home"], "/admin");
    }
}
