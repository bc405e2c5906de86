//! A site's day on the web: the manager's board and reconciliation, the close, the XLSX export,
//! and the unit contact's view of their own teams — and nobody else's.

use axum::http::StatusCode;
use vaxloop_core::Role;
use vaxloop_demo::DEMO_PASSWORD;

use crate::fixture;

vaxloop_store::backend_tests! {
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
        let booked = vaxloop_app::booking::book_team(&f.db, chrono_tz::Asia::Shanghai, unit.id, slot, &people, 1).await.expect("book").expect("booked");
        // One vaccinated, one checked in, one not come.
        let mut visits = Vec::new();
        for &p in &people[..2] {
            let code = format!("VXL1:{}", f.db.cipher.sign("person", p));
            visits.push(vaxloop_app::site_ops::check_in(&f.db, &f.db.cipher, site.id, today, &code, None).await.expect("store").expect("in").visit);
        }
        let (_, vaccine) = vaxloop_store::visits::by_id(&f.db, visits[0].id).await.expect("q").expect("visit");
        let clear: Vec<(i64, bool)> = vaxloop_store::screening::questions(&f.db, vaccine).await.expect("q").iter().map(|q| (q.id, false)).collect();
        vaxloop_app::site_ops::screen(&f.db, site.id, today, visits[0].id, &clear, &vaxloop_app::site_ops::Decision::Pass, None).await.expect("store").expect("passed");
        let lot = vaxloop_store::doses::lots_for(&f.db, site.id, vaccine, &today.to_string(), 0).await.expect("lots")[0].lot_id;
        let dose = vaxloop_app::site_ops::DoseGiven { visit_id: visits[0].id, lot_id: lot, proof: vaxloop_app::site_ops::Proof::IdCard, minutes: None };
        vaxloop_app::site_ops::vaccinate(&f.db, &f.db.cipher, site.id, today, &dose, None).await.expect("store").expect("given");

        let mut admin = f.client();
        admin.login("admin", DEMO_PASSWORD).await;
        let board = admin.get(&format!("/sites/{}/board", site.code)).await;
        assert_eq!(board.status, StatusCode::OK);
        assert!(board.body.contains("id=\"queue-screening\"") && board.body.contains("id=\"seats\""));
        assert!(board.body.contains(&format!("id=\"team-{}\"", booked.team.code)), "the team's line");
        assert!(board.body.contains("hx-trigger=\"every 10s\""), "it refreshes itself");
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
}
