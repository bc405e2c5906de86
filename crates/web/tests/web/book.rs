//! A resident books and cancels their own appointment; nobody else can cancel it; a full slot
//! says so.

use axum::http::StatusCode;
use vaxloop_demo::DEMO_PIN;
use vaxloop_store::{booking, sites, slots};

use crate::fixture;

vaxloop_store::backend_tests! {
    async fn a_resident_books_and_cancels_their_own_appointment(t) {
        let f = fixture(t).await;
        let resident = f.town.logins.iter().find_map(|l| l.person).expect("resident");
        let id = f.town.people[resident].id.as_str().to_string();
        let mut r = f.client();
        assert_eq!(r.login(&id, DEMO_PIN).await.location(), "/me");
        let me = r.get("/me").await;
        assert!(me.body.contains("您现在可以预约第1剂") && me.body.contains("id=\"book-link\""), "{}", me.body);
        let today = f.town.spec.today.to_string();
        let hcl = sites::by_code(&f.db, "HCL").await.expect("q").expect("HCL");
        let slot = slots::of_site_day(&f.db, hcl.id, &today).await.expect("slots").remove(3);
        let choose = r.get(&format!("/me/book?site=HCL&date={today}")).await;
        assert_eq!(choose.status, StatusCode::OK);
        assert!(choose.body.contains(&format!("id=\"book-{}\"", slot.id)));
        let token = choose.csrf();
        let booked = r.post_form("/me/book", &[("csrf_token", &token), ("slot_id", &slot.id.to_string()), ("site", "HCL"), ("date", &today)]).await;
        assert_eq!(booked.location(), "/me?done=booked", "{}", booked.body);
        let me = r.get("/me").await;
        assert!(me.body.contains("合川路接种点") && me.body.contains("取消预约") && me.body.contains("请携带本人身份证"));
        // Cancelling asks first, in plain words.
        assert!(me.body.contains("data-confirm=\"确定取消"), "{}", me.body);
        let again = r.post_form("/me/book", &[("csrf_token", &token), ("slot_id", &slot.id.to_string())]).await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        assert!(again.body.contains("您已经有这一剂的预约"));
        let person = vaxloop_store::people::by_resident_id(&f.db, &f.db.cipher, &f.town.people[resident].id).await.expect("q").expect("person");
        let appointment = booking::active_of_person(&f.db, person.id).await.expect("q").remove(0);
        // The page shows the appointment's presence code, stated at the vaccination desk.
        let code = f.db.cipher.presence_code(appointment.id);
        assert!(me.body.contains(&format!("id=\"presence-{}\">{code}<", appointment.id)), "presence code shown");
        // Nobody else may cancel it — not even the admin through the resident's page.
        let mut admin = f.client();
        admin.login("admin", vaxloop_demo::DEMO_PASSWORD).await;
        let admin_token = admin.get("/admin").await.csrf();
        let not_theirs = admin.post_form(&format!("/me/appointments/{}/cancel", appointment.id), &[("csrf_token", &admin_token)]).await;
        assert_eq!(not_theirs.status, StatusCode::FORBIDDEN);
        let cancelled = r.post_form(&format!("/me/appointments/{}/cancel", appointment.id), &[("csrf_token", &token)]).await;
        assert_eq!(cancelled.location(), "/me?done=cancelled");
        let after = r.get("/me?done=cancelled").await.body;
        assert!(after.contains("预约已取消") && after.contains("您现在可以预约第1剂"), "{after}");
        let slot_now = slots::of_site_day(&f.db, hcl.id, &today).await.expect("slots").remove(3);
        assert_eq!(slot_now.booked, slot.booked, "the place came back");
    }

    async fn a_resident_moves_their_appointment_in_one_step(t) {
        let f = fixture(t).await;
        let resident = f.town.logins.iter().find_map(|l| l.person).expect("resident");
        let id = f.town.people[resident].id.as_str().to_string();
        let person = vaxloop_store::people::by_resident_id(&f.db, &f.db.cipher, &f.town.people[resident].id).await.expect("q").expect("person");
        let mut r = f.client();
        r.login(&id, DEMO_PIN).await;
        let today = f.town.spec.today.to_string();
        let hcl = sites::by_code(&f.db, "HCL").await.expect("q").expect("HCL");
        let day_slots = slots::of_site_day(&f.db, hcl.id, &today).await.expect("slots");
        let (a, b, c) = (&day_slots[4], &day_slots[5], &day_slots[6]);
        let token = r.get("/me/book").await.csrf();
        assert_eq!(r.post_form("/me/book", &[("csrf_token", &token), ("slot_id", &a.id.to_string())]).await.location(), "/me?done=booked");
        let appointment = booking::active_of_person(&f.db, person.id).await.expect("q").remove(0);
        let me = r.get("/me").await;
        assert!(me.body.contains(&format!("id=\"move-{}\"", appointment.id)));
        let choose = r.get(&format!("/me/book?move={}&site=HCL&date={today}", appointment.id)).await;
        assert!(choose.body.contains("id=\"moving\"") && choose.body.contains("改到这里"));
        // A full slot: refused, and the old appointment stands.
        let mut tx = f.db.begin_write().await.expect("tx");
        vaxloop_store::slots::set_capacity(&mut tx, c.id, c.booked, "test: full").await.expect("q").expect("set");
        tx.commit().await.expect("commit");
        let full = r.post_form("/me/book", &[("csrf_token", &token), ("slot_id", &c.id.to_string()), ("move", &appointment.id.to_string())]).await;
        assert_eq!(full.status, StatusCode::CONFLICT);
        let still = booking::active_of_person(&f.db, person.id).await.expect("q");
        assert_eq!((still.len(), still[0].id), (1, appointment.id), "the old appointment stands");
        // Someone else's appointment cannot be moved by this resident.
        let (unit_code, _, _) = vaxloop_store::journeys::waiting_by_unit(&f.db, 1).await.expect("q").remove(0);
        let unit = vaxloop_store::org::unit_by_code(&f.db, &unit_code).await.expect("q").expect("unit");
        let other = vaxloop_store::journeys::waiting_of_unit(&f.db, unit.id, 1, 1).await.expect("q")[0];
        assert_ne!(other, person.id);
        let theirs = vaxloop_app::booking::engine::book(&f.db, chrono_tz::Asia::Shanghai, &vaxloop_app::booking::Request { slot_id: b.id, people: &[other], dose_number: 1, team_id: None, walk_in: false }).await.expect("q").expect("booked")[0];
        let stolen = r.post_form("/me/book", &[("csrf_token", &token), ("slot_id", &a.id.to_string()), ("move", &theirs.to_string())]).await;
        assert_eq!(stolen.status, StatusCode::FORBIDDEN);
        assert_eq!(booking::active_of_person(&f.db, other).await.expect("q")[0].id, theirs, "theirs stands");
        let moved = r.post_form("/me/book", &[("csrf_token", &token), ("slot_id", &b.id.to_string()), ("move", &appointment.id.to_string())]).await;
        assert_eq!(moved.location(), "/me?done=moved", "{}", moved.body);
        let now = booking::active_of_person(&f.db, person.id).await.expect("q");
        assert_eq!(now.len(), 1);
        assert_eq!(now[0].starts_min, b.starts_min);
        let after = slots::of_site_day(&f.db, hcl.id, &today).await.expect("slots");
        assert_eq!((after[4].booked, after[5].booked), (a.booked, b.booked + 2), "the old place came back, the new one is taken");
    }

    async fn the_desk_books_a_team_across_consecutive_slots_or_not_at_all(t) {
        let f = fixture(t).await;
        let mut desk = f.client();
        desk.login("desk", vaxloop_demo::DEMO_PASSWORD).await;
        let page = desk.get("/desk").await;
        assert_eq!(page.body.matches("id=\"team-form\"").count(), 1, "the form is in the page once, not in its title");
        let token = page.csrf();
        let (unit_code, _, waiting) = vaxloop_store::journeys::waiting_by_unit(&f.db, 1).await.expect("q").remove(0);
        let unit = vaxloop_store::org::unit_by_code(&f.db, &unit_code).await.expect("q").expect("unit");
        let day = f.town.spec.today.checked_add_days(chrono::Days::new(1)).expect("day").to_string();
        let hcl = sites::by_code(&f.db, "HCL").await.expect("q").expect("HCL");
        let day_slots = slots::of_site_day(&f.db, hcl.id, &day).await.expect("slots");
        let hhmm = |m: i64| format!("{:02}:{:02}", m / 60, m % 60);
        // A team one slot cannot hold.
        let first = &day_slots[0];
        let size = first.capacity - first.booked + 2;
        assert!(waiting > size, "the unit has people enough");
        let form = |start: String, size: i64, unit: &str| vec![("csrf_token".to_string(), token.clone()), ("unit".into(), unit.to_string()), ("site".into(), "HCL".into()), ("day".into(), day.clone()), ("start".into(), start), ("size".into(), size.to_string())];
        let post = |fields: Vec<(String, String)>| {
            let mut c = desk.clone();
            async move {
                let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                c.post_form("/desk/teams", &refs).await
            }
        };
        let unknown = post(form(hhmm(first.starts_min), size, "NOPE99")).await;
        assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
        assert!(unknown.body.contains("没有这个编码的单位"));
        let no_slot = post(form("03:17".into(), size, &unit_code)).await;
        assert!(no_slot.body.contains("当天没有从这个时间开始的时段"));
        // From the last slot, two more than it holds: nobody is booked.
        let last = day_slots.last().expect("slot");
        let waiting_before = vaxloop_store::journeys::waiting_of_unit(&f.db, unit.id, 1, 10_000).await.expect("q").len();
        let refused = post(form(hhmm(last.starts_min), last.capacity - last.booked + 2, &unit_code)).await;
        assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
        assert_eq!(vaxloop_store::journeys::waiting_of_unit(&f.db, unit.id, 1, 10_000).await.expect("q").len(), waiting_before, "no half-booked team");
        let booked = post(form(hhmm(first.starts_min), size, &unit_code)).await;
        assert!(booked.location().starts_with("/desk?team="), "{}", booked.body);
        let shown = desk.get(booked.location()).await;
        assert!(shown.body.contains("已预约"));
        let after = slots::of_site_day(&f.db, hcl.id, &day).await.expect("slots");
        assert_eq!(after[0].booked, after[0].capacity, "the first slot is filled");
        assert_eq!(after[1].booked, day_slots[1].booked + 2, "the rest go into the next slot");
        assert_eq!(vaxloop_store::journeys::waiting_of_unit(&f.db, unit.id, 1, 10_000).await.expect("q").len() as i64, waiting_before as i64 - size);
        // The team is listed, found by its unit's name or its code, and its page holds its
        // move and cancel forms (the cancel asking first, saying it cannot be undone).
        let code = booked.location().trim_start_matches("/desk?team=").to_string();
        let listed = desk.get("/desk").await;
        assert!(listed.body.contains(&format!("id=\"team-{code}\"")), "the team is listed");
        assert!(listed.body.contains(&format!("href=\"/desk/teams/{code}\"")));
        assert!(!listed.body.contains(&format!("/desk/teams/{code}/move")), "actions open on demand");
        let by_name = desk.get(&format!("/desk?q={}", form_urlencoded::byte_serialize(unit.name.as_bytes()).collect::<String>())).await;
        assert!(by_name.body.contains(&format!("id=\"team-{code}\"")), "found by the unit's name");
        let elsewhere = desk.get(&format!("/desk?q={code}&site=NOPE&day={day}&state=cancelled")).await;
        assert!(!elsewhere.body.contains(&format!("id=\"team-{code}\"")), "not a cancelled team");
        let own = desk.get(&format!("/desk/teams/{code}")).await;
        assert_eq!(own.status, StatusCode::OK);
        assert!(own.body.contains(&format!("/desk/teams/{code}/move")) && own.body.contains(&format!("/desk/teams/{code}/cancel")));
        assert!(own.body.contains("data-confirm=\"取消整队") && own.body.contains("不可撤销"), "{}", own.body);
        // The start choices of a site-day, for the forms, with the room each has.
        let starts = desk.get(&format!("/desk/starts?site=HCL&day={day}")).await;
        assert!(starts.body.contains(&format!("value=\"{}\"", hhmm(first.starts_min))), "{}", starts.body);
        // A move whose new places are not all there leaves the team where it was.
        let team_form = |start: String| vec![("csrf_token".to_string(), token.clone()), ("site".into(), "HCL".into()), ("day".into(), day.clone()), ("start".into(), start)];
        let move_to = |fields: Vec<(String, String)>| {
            let mut c = desk.clone();
            let path = format!("/desk/teams/{code}/move");
            async move {
                let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                c.post_form(&path, &refs).await
            }
        };
        // (The last slot is closed down to what it holds, so it cannot take the team.)
        let mut tx = f.db.begin_write().await.expect("tx");
        slots::set_capacity(&mut tx, last.id, last.booked, "test").await.expect("capacity");
        tx.commit().await.expect("commit");
        let before_move = slots::of_site_day(&f.db, hcl.id, &day).await.expect("slots");
        let full = move_to(team_form(hhmm(last.starts_min))).await;
        assert_eq!(full.status, StatusCode::CONFLICT, "{}", full.body);
        assert_eq!(slots::of_site_day(&f.db, hcl.id, &day).await.expect("slots"), before_move, "nobody moved");
        // Onto its own first slot again: its own places count as free, so it fits.
        let same = move_to(team_form(hhmm(first.starts_min))).await;
        assert_eq!(same.location(), format!("/desk?moved={code}"), "{}", same.body);
        // A resident cannot touch the team; a wrong code is a 404.
        let resident = f.town.logins.iter().find_map(|l| l.person).expect("resident");
        let mut r = f.client();
        r.login(f.town.people[resident].id.as_str(), DEMO_PIN).await;
        let r_token = r.get("/me").await.csrf();
        let denied = r.post_form(&format!("/desk/teams/{code}/cancel"), &[("csrf_token", &r_token)]).await;
        assert_eq!(denied.status, StatusCode::FORBIDDEN);
        let missing = desk.post_form("/desk/teams/T0-NOPE-1/cancel", &[("csrf_token", &token)]).await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        // Cancelled whole: everyone waits again and the slots are as before the team.
        let cancelled = desk.post_form(&format!("/desk/teams/{code}/cancel"), &[("csrf_token", &token)]).await;
        assert_eq!(cancelled.location(), format!("/desk?cancelled={code}"));
        let gone = desk.get(&format!("/desk?state=cancelled&q={code}")).await;
        assert!(gone.body.contains(&format!("id=\"team-{code}\"")), "listed among the cancelled");
        assert_eq!(vaxloop_store::journeys::waiting_of_unit(&f.db, unit.id, 1, 10_000).await.expect("q").len(), waiting_before);
        let end: Vec<i64> = slots::of_site_day(&f.db, hcl.id, &day).await.expect("slots").iter().map(|s| s.booked).collect();
        assert_eq!(end, day_slots.iter().map(|s| s.booked).collect::<Vec<_>>(), "the places are back");
        let log = vaxloop_store::audit::recent(&f.db, 20).await.expect("audit");
        assert!(["book_team", "move_team", "cancel_team"].iter().all(|a| log.iter().any(|e| e.action == *a)), "every desk action on a team is audited");
    }

    async fn a_site_that_serves_listed_units_refuses_the_others(t) {
        let f = fixture(t).await;
        let resident = f.town.logins.iter().find_map(|l| l.person).expect("resident");
        let id = f.town.people[resident].id.as_str().to_string();
        let person = vaxloop_store::people::by_resident_id(&f.db, &f.db.cipher, &f.town.people[resident].id).await.expect("q").expect("person");
        let units = vaxloop_store::org::units(&f.db, None).await.expect("units");
        let own = units.iter().find(|u| u.id == person.unit_id).expect("own unit").code.clone();
        let other = units.iter().find(|u| u.id != person.unit_id).expect("another unit").code.clone();
        let mut admin = f.client();
        admin.login("admin", vaxloop_demo::DEMO_PASSWORD).await;
        let page = admin.get("/sites/HCL").await;
        assert!(page.body.contains("id=\"serve-unit\""), "the admin can edit the list");
        let token = page.csrf();
        // A unit code that does not exist is refused, naming the field; nothing is added.
        let unknown = admin.post_form("/sites/HCL/units", &[("csrf_token", &token), ("unit", "NOPE99")]).await;
        assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
        assert!(unknown.body.contains("没有这个编码的单位"), "{}", unknown.body);
        let hcl = sites::by_code(&f.db, "HCL").await.expect("q").expect("HCL");
        assert!(sites::units_served(&f.db, hcl.id).await.expect("q").is_empty());
        // The desk may look but not change it.
        let mut desk = f.client();
        desk.login("desk", vaxloop_demo::DEMO_PASSWORD).await;
        let desk_page = desk.get("/sites/HCL").await;
        assert!(!desk_page.body.contains("id=\"serve-unit\""));
        let desk_token = desk_page.csrf();
        assert_eq!(desk.post_form("/sites/HCL/units", &[("csrf_token", &desk_token), ("unit", &own)]).await.status, StatusCode::FORBIDDEN);
        // HCL now serves another unit only: the resident is not offered it and cannot book it.
        assert_eq!(admin.post_form("/sites/HCL/units", &[("csrf_token", &token), ("unit", &other)]).await.status, StatusCode::SEE_OTHER);
        assert!(admin.get("/sites/HCL").await.body.contains(&format!("id=\"remove-{other}\"")));
        let mut r = f.client();
        r.login(&id, DEMO_PIN).await;
        let today = f.town.spec.today.to_string();
        let choose = r.get(&format!("/me/book?site=HCL&date={today}")).await;
        assert!(!choose.body.contains("value=\"HCL\""), "HCL is not offered");
        let slot = slots::of_site_day(&f.db, hcl.id, &today).await.expect("slots").remove(2);
        let rtoken = choose.csrf();
        let refused = r.post_form("/me/book", &[("csrf_token", &rtoken), ("slot_id", &slot.id.to_string())]).await;
        assert_eq!(refused.status, StatusCode::CONFLICT);
        assert!(refused.body.contains("该接种点不负责您所在的单位"), "{}", refused.body);
        assert!(booking::active_of_person(&f.db, person.id).await.expect("q").is_empty());
        // Once the resident's unit is listed too, the booking goes through.
        assert_eq!(admin.post_form("/sites/HCL/units", &[("csrf_token", &token), ("unit", &own)]).await.status, StatusCode::SEE_OTHER);
        let offered = r.get(&format!("/me/book?site=HCL&date={today}")).await;
        assert!(offered.body.contains("value=\"HCL\""));
        let booked = r.post_form("/me/book", &[("csrf_token", &rtoken), ("slot_id", &slot.id.to_string())]).await;
        assert_eq!(booked.location(), "/me?done=booked", "{}", booked.body);
        // Removing the unit again keeps the appointment made; both changes are audited.
        assert_eq!(admin.post_form(&format!("/sites/HCL/units/{own}/remove"), &[("csrf_token", &token)]).await.status, StatusCode::SEE_OTHER);
        assert_eq!(sites::units_served(&f.db, hcl.id).await.expect("q").len(), 1);
        assert_eq!(booking::active_of_person(&f.db, person.id).await.expect("q").len(), 1);
        let log = vaxloop_store::audit::recent(&f.db, 50).await.expect("audit");
        let audited: Vec<&str> = log.iter().filter(|e| e.action.starts_with("site_")).map(|e| e.action.as_str()).collect();
        assert_eq!(audited, ["site_stop_serving_unit", "site_serve_unit", "site_serve_unit"], "newest first");
    }
}

mod api {
    use axum::http::StatusCode;
    use vaxloop_demo::{DEMO_PASSWORD, DEMO_PIN};
    use vaxloop_store::{booking, people, sites, slots};

    use crate::fixture;

    vaxloop_store::backend_tests! {
        async fn booking_by_api_is_idempotent_and_refusals_name_what_is_free(t) {
            let f = fixture(t).await;
            let resident = f.town.logins.iter().find_map(|l| l.person).expect("resident");
            let mut r = f.client();
            r.login(f.town.people[resident].id.as_str(), DEMO_PIN).await;
            let token = r.get("/me").await.csrf();
            let today = f.town.spec.today.to_string();
            let avail = r.get(&format!("/api/v1/sites/HCL/availability?date={today}")).await;
            assert_eq!(avail.status, StatusCode::OK);
            let avail: serde_json::Value = serde_json::from_str(&avail.body).expect("json");
            let slot_id = avail["slots"][2]["slot_id"].as_i64().expect("slot");
            assert!(avail["doses_allocated"].as_i64().expect("doses") > 0);
            assert_eq!(r.get("/api/v1/sites/HCL/availability?date=tomorrow").await.status, StatusCode::BAD_REQUEST);

            let booked_before = avail["slots"][2]["booked"].as_i64().expect("booked");
            let body = format!(r#"{{"slot_id":{slot_id}}}"#);
            let send = |r: &mut crate::Client, key: &'static str, body: String, token: String| {
                let mut r = r.clone();
                async move {
                    let req = axum::http::Request::post("/api/v1/appointments")
                        .header("content-type", "application/json")
                        .header("x-csrf-token", token)
                        .header("idempotency-key", key);
                    r.send_raw(req, body).await
                }
            };
            let first = send(&mut r, "k-1", body.clone(), token.clone()).await;
            assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
            let retry = send(&mut r, "k-1", body.clone(), token.clone()).await;
            assert_eq!(retry.status, StatusCode::CREATED);
            assert_eq!(retry.body, first.body, "a retry gets the first answer");
            let person = people::by_resident_id(&f.db, &f.db.cipher, &f.town.people[resident].id).await.expect("q").expect("person");
            assert_eq!(booking::active_of_person(&f.db, person.id).await.expect("q").len(), 1, "and no second booking");
            // Availability is read a moment old at most, and a booking just made counts at once.
            let after: serde_json::Value = serde_json::from_str(&r.get(&format!("/api/v1/sites/HCL/availability?date={today}")).await.body).expect("json");
            assert_eq!(after["slots"][2]["booked"].as_i64(), Some(booked_before + 1));
            let other_body = format!(r#"{{"slot_id":{}}}"#, slot_id + 1);
            let reused = send(&mut r, "k-1", other_body, token.clone()).await;
            assert_eq!(reused.status, StatusCode::UNPROCESSABLE_ENTITY);
            let twice = r.post_json("/api/v1/appointments", &body, Some(&token)).await;
            assert_eq!(twice.status, StatusCode::CONFLICT);
            assert!(twice.body.contains("\"error\":\"already_booked\""));

            // The desk fills a slot with a team; the next booking is told what is still free.
            let hcl = sites::by_code(&f.db, "HCL").await.expect("q").expect("site");
            let small = slots::of_site_day(&f.db, hcl.id, &today).await.expect("slots").remove(5);
            let mut tx = f.db.begin_write().await.expect("tx");
            sqlx::query("UPDATE slots SET capacity = booked + 3 WHERE id = $1").bind(small.id).execute(&mut *tx).await.expect("shrink");
            tx.commit().await.expect("commit");
            let other_unit = f.town.units.iter().enumerate().find(|(u, _)| *u != f.town.people[resident].unit).expect("another unit").1;
            let unit_id = vaxloop_store::org::unit_by_code(&f.db, &other_unit.code).await.expect("q").expect("unit").id;
            let team: Vec<i64> = people::of_unit(&f.db, unit_id, 50, 0).await.expect("q").into_iter().filter(|p| p.confirmed).take(4).map(|p| p.id).collect();
            let mut desk = f.client();
            desk.login("desk", DEMO_PASSWORD).await;
            let desk_token = desk.get("/desk").await.csrf();
            let four = desk.post_json("/api/v1/appointments", &format!(r#"{{"slot_id":{},"people":{:?}}}"#, small.id, team), Some(&desk_token)).await;
            assert_eq!(four.status, StatusCode::CONFLICT, "a team of four does not fit three places: {}", four.body);
            let refused: serde_json::Value = serde_json::from_str(&four.body).expect("json");
            assert_eq!(refused["error"], "slot_full");
            let nearby = refused["nearby"].as_array().expect("nearby");
            assert!(!nearby.is_empty() && nearby.len() <= 6, "a few other free times are offered: {nearby:?}");
            assert!(nearby.iter().all(|s| s["free"].as_i64() > Some(0) && s["slot_id"].as_i64() != Some(small.id)));
            let three = desk.post_json("/api/v1/appointments", &format!(r#"{{"slot_id":{},"people":{:?}}}"#, small.id, &team[..3]), Some(&desk_token)).await;
            assert_eq!(three.status, StatusCode::CREATED, "{}", three.body);
            // Three people of one unit are booked as one numbered team of that unit.
            let booked: serde_json::Value = serde_json::from_str(&three.body).expect("json");
            let code = booked["team"].as_str().expect("a team code").to_string();
            let listed = vaxloop_store::teams::by_code(&f.db, &code).await.expect("q").expect("team");
            assert_eq!((listed.unit_id, listed.active, listed.size), (unit_id, 3, 3));
            assert_eq!(booked["team_number"].as_i64(), Some(listed.number));

            // A resident cancels only their own.
            let mine: serde_json::Value = serde_json::from_str(&first.body).expect("json");
            let mine = mine["appointments"][0].as_i64().expect("id");
            let theirs: serde_json::Value = serde_json::from_str(&three.body).expect("json");
            let theirs = theirs["appointments"][0].as_i64().expect("id");
            let del = |id: i64| format!("/api/v1/appointments/{id}");
            assert_eq!(r.send_json("DELETE", &del(theirs), "{}", Some(&token)).await.status, StatusCode::FORBIDDEN);
            assert_eq!(r.send_json("DELETE", &del(mine), "{}", Some(&token)).await.status, StatusCode::NO_CONTENT);
            assert_eq!(r.send_json("DELETE", &del(mine), "{}", Some(&token)).await.status, StatusCode::NOT_FOUND);
        }
    }
}

mod capacity {
    use axum::http::StatusCode;
    use vaxloop_core::Role;
    use vaxloop_demo::DEMO_PASSWORD;
    use vaxloop_store::{audit, sites, slots};

    use crate::fixture;

    vaxloop_store::backend_tests! {
        async fn the_desk_changes_a_slot_capacity_with_a_reason_never_below_bookings(t) {
            let f = fixture(t).await;
            let today = f.town.spec.today.to_string();
            let hcl = sites::by_code(&f.db, "HCL").await.expect("q").expect("site");
            let slot = slots::of_site_day(&f.db, hcl.id, &today).await.expect("slots").remove(0);
            let mut desk = f.client();
            desk.login("desk", DEMO_PASSWORD).await;
            let token = desk.get("/desk").await.csrf();
            let path = format!("/api/v1/slots/{}/capacity", slot.id);
            let site_page = desk.get("/sites/HCL").await;
            // The simulator's reason: the safe capacity, its wait and what limits next.
            assert!(site_page.body.contains("模拟：每时段"), "the rule's reason is shown");
            assert!(site_page.body.contains("95%的人总等候不超过"));
            assert!(site_page.body.contains("下一个瓶颈："));
            let no_reason = desk.send_json("PUT", &path, r#"{"capacity":10,"reason":""}"#, Some(&token)).await;
            assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
            let ok = desk.send_json("PUT", &path, r#"{"capacity":2,"reason":"两名接种护士请假"}"#, Some(&token)).await;
            assert_eq!(ok.status, StatusCode::NO_CONTENT, "{}", ok.body);
            assert_eq!(slots::by_id(&f.db, slot.id).await.expect("q").expect("slot").capacity, 2);
            assert!(desk.get("/sites/HCL").await.body.contains("两名接种护士请假"));
            let mut tx = f.db.begin_write().await.expect("tx");
            sqlx::query("UPDATE slots SET booked = 2 WHERE id = $1").bind(slot.id).execute(&mut *tx).await.expect("fill");
            tx.commit().await.expect("commit");
            let below = desk.send_json("PUT", &path, r#"{"capacity":1,"reason":"再减一个"}"#, Some(&token)).await;
            assert_eq!(below.status, StatusCode::UNPROCESSABLE_ENTITY);
            assert!(below.body.contains("已预约人数超过这个容量"));
            let log = audit::recent(&f.db, 10).await.expect("audit");
            let entry = log.iter().find(|e| e.action == "slot_capacity").expect("audited");
            assert_eq!(entry.reason.as_deref(), Some("两名接种护士请假"));
            let contact = f.town.logins.iter().find(|l| l.role == Role::UnitContact).expect("contact").clone();
            let mut c = f.client();
            c.login(contact.username.as_deref().expect("username"), DEMO_PASSWORD).await;
            let c_token = c.get("/unit").await;
            let c_token = c.get(c_token.location()).await.csrf();
            assert_eq!(c.send_json("PUT", &path, r#"{"capacity":50,"reason":"我想多约"}"#, Some(&c_token)).await.status, StatusCode::FORBIDDEN);
        }
    }
}

mod walk_in {
    use axum::http::StatusCode;
    use vaxloop_demo::DEMO_PASSWORD;
    use vaxloop_store::{org, people, sites, slots};

    use crate::fixture;

    vaxloop_store::backend_tests! {
        async fn a_walk_in_is_the_check_in_desks_act_with_proof_of_the_person(t) {
            let f = fixture(t).await;
            let today = f.town.spec.today.to_string();
            let hcl = sites::by_code(&f.db, "HCL").await.expect("q").expect("site");
            let other = sites::all(&f.db).await.expect("q").into_iter().find(|s| s.code != "HCL").expect("other");
            let here = slots::of_site_day(&f.db, hcl.id, &today).await.expect("slots")[1].id;
            let there = slots::of_site_day(&f.db, other.id, &today).await.expect("slots").first().map(|s| s.id);
            let unit = org::unit_by_code(&f.db, &f.town.units[2].code).await.expect("q").expect("unit");
            let person = people::of_unit(&f.db, unit.id, 20, 0).await.expect("q").into_iter().find(|p| p.confirmed).expect("person").id;
            let mut desk = f.client();
            desk.login("hcl.checkin", DEMO_PASSWORD).await;
            let token = desk.get("/site").await;
            let token = desk.get(token.location()).await.csrf();
            let booking = |slot: i64, walk_in: bool| format!(r#"{{"slot_id":{slot},"people":[{person}],"walk_in":{walk_in}}}"#);
            // Site staff book nobody by raw person id, walk-in or not, here or elsewhere.
            for (slot, walk_in) in [(Some(here), false), (Some(here), true), (there, true)] {
                let Some(slot) = slot else { continue };
                let refused = desk.post_json("/api/v1/appointments", &booking(slot, walk_in), Some(&token)).await;
                assert_eq!(refused.status, StatusCode::FORBIDDEN, "{slot} {walk_in}: {}", refused.body);
            }
            assert_eq!(slots::by_id(&f.db, here).await.expect("q").expect("slot").booked, 0, "nothing was booked");
            // Nor does the desk through the booking API: a walk-in is refused there, by field.
            let mut office = f.client();
            office.login("desk", DEMO_PASSWORD).await;
            let office_token = office.get("/desk").await.csrf();
            let walk = office.post_json("/api/v1/appointments", &booking(here, true), Some(&office_token)).await;
            assert_eq!(walk.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", walk.body);
            assert!(walk.body.contains("\"field\":\"walk_in\""), "{}", walk.body);
            // At the check-in desk, with the person's QR code: booked into today's slot and
            // checked in (or, late in the day, told there is no room left).
            let qr = format!("VXL1:{}", f.db.cipher.sign("person", person));
            let body = format!(r#"{{"code":"{qr}","walk_in":true}}"#);
            let walked = desk.post_json("/api/v1/sites/HCL/checkins", &body, Some(&token)).await;
            assert!(walked.status == StatusCode::CREATED || (walked.status == StatusCode::CONFLICT && walked.body.contains("walk_in_refused")), "{}", walked.body);
            // Another post of the site is not the check-in desk.
            let mut nurse = f.client();
            nurse.login("hcl.vaccinator", DEMO_PASSWORD).await;
            let nurse_token = nurse.get("/site").await;
            let nurse_token = nurse.get(nurse_token.location()).await.csrf();
            let refused = nurse.post_json("/api/v1/sites/HCL/checkins", &body, Some(&nurse_token)).await;
            assert_eq!(refused.status, StatusCode::FORBIDDEN);
        }
    }
}
