//! The stock page: deliveries received once, waste with a reason, transfers, and the scope of
//! who may move stock.

use axum::http::StatusCode;
use vaxloop_core::Role;
use vaxloop_demo::DEMO_PASSWORD;
use vaxloop_store::vaccines;

use crate::fixture;

vaxloop_store::backend_tests! {
    async fn deliveries_waste_and_transfers_move_stock_through_the_ledger(t) {
        let f = fixture(t).await;
        let mut desk = f.client();
        desk.login("desk", DEMO_PASSWORD).await;
        let page = desk.get("/stock").await;
        assert_eq!(page.status, StatusCode::OK);
        let token = page.csrf();
        let today = f.town.spec.today;
        let later = today.checked_add_days(chrono::Days::new(7)).expect("date");
        let planned = vaccines::deliveries(&f.db, &today.to_string(), &later.to_string(), None).await.expect("q").into_iter().find(|d| d.status == "planned").expect("a planned delivery");
        assert!(page.body.contains(&format!("receive-{}", planned.id)));
        let before: i64 = vaccines::ledger_balances(&f.db).await.expect("q").iter().map(|b| b.remaining).sum();
        for done in ["received", "before"] {
            let r = desk.post_form(&format!("/deliveries/{}/receive", planned.id), &[("csrf_token", &token)]).await;
            assert_eq!(r.location(), format!("/stock?done={done}"), "the second press says it was received before");
        }
        let after: i64 = vaccines::ledger_balances(&f.db).await.expect("q").iter().map(|b| b.remaining).sum();
        assert_eq!(after - before, planned.doses, "received once, however often the button is pressed");

        let site = planned.site_id.to_string();
        let lot = planned.lot_id.to_string();
        let no_reason = desk.post_form("/stock/waste", &[("csrf_token", &token), ("site", &site), ("lot", &lot), ("doses", "2"), ("reason", "")]).await;
        assert_eq!(no_reason.status, StatusCode::CONFLICT);
        let wasted = desk.post_form("/stock/waste", &[("csrf_token", &token), ("site", &site), ("lot", &lot), ("doses", "2"), ("reason", "安瓿破损")]).await;
        assert_eq!(wasted.location(), "/stock?done=wasted");
        assert!(desk.get(wasted.location()).await.body.contains("id=\"stock-notice\""), "the page says the waste was recorded");
        let too_much = desk.post_form("/stock/waste", &[("csrf_token", &token), ("site", &site), ("lot", &lot), ("doses", "999999"), ("reason", "全部过期")]).await;
        assert_eq!(too_much.status, StatusCode::CONFLICT);
        assert!(too_much.body.contains("库存不足"));
        let other = vaxloop_store::sites::all(&f.db).await.expect("q").into_iter().find(|s| s.id != planned.site_id).expect("another site").id.to_string();
        let moved = desk.post_form("/stock/transfer", &[("csrf_token", &token), ("lot", &lot), ("from", &site), ("to", &other), ("doses", "5")]).await;
        assert_eq!(moved.location(), "/stock?done=transferred");
        for b in vaccines::ledger_balances(&f.db).await.expect("q") {
            assert_eq!(b.ledger_sum, b.remaining, "every balance equals its ledger");
        }
        let total: i64 = vaccines::ledger_balances(&f.db).await.expect("q").iter().map(|b| b.remaining).sum();
        assert_eq!(total, after - 2, "waste leaves; a transfer only moves");

        let contact = f.town.logins.iter().find(|l| l.role == Role::UnitContact).expect("contact").clone();
        let mut c = f.client();
        c.login(contact.username.as_deref().expect("username"), DEMO_PASSWORD).await;
        assert_eq!(c.get("/stock").await.status, StatusCode::FORBIDDEN);
        let mut vaccinator = f.client();
        vaccinator.login("hcl.vaccinator", DEMO_PASSWORD).await;
        let v_token = vaccinator.get("/site").await;
        let v_token = vaccinator.get(v_token.location()).await.csrf();
        let not_manager = vaccinator.post_form("/stock/waste", &[("csrf_token", &v_token), ("site", &site), ("lot", &lot), ("doses", "1"), ("reason", "试试")]).await;
        assert_eq!(not_manager.status, StatusCode::FORBIDDEN, "only the site's manager moves its stock");
    }
}

mod supply {
    use axum::http::StatusCode;
    use vaxloop_demo::DEMO_PASSWORD;
    use vaxloop_store::{sites, vaccines};

    use crate::fixture;

    vaxloop_store::backend_tests! {
        async fn products_lots_and_deliveries_are_created_with_field_checks(t) {
            let f = fixture(t).await;
            let mut admin = f.client();
            admin.login("admin", DEMO_PASSWORD).await;
            let token = admin.get("/stock").await.csrf();
            let bad = admin.post_form("/vaccines", &[("csrf_token", &token), ("code", "X"), ("name", ""), ("manufacturer", "某厂"), ("doses_in_series", "9"), ("min_interval_days", "21"), ("min_age", "3"), ("doses_per_vial", "1"), ("open_vial_minutes", "0"), ("observation_minutes", "30")]).await;
            assert_eq!(bad.status, StatusCode::BAD_REQUEST);
            assert!(bad.body.contains("剂次应为1到5") && bad.body.contains("编码应为2–32位"));
            let ok = admin.post_form("/vaccines", &[("csrf_token", &token), ("code", "KXSW"), ("name", "科兴灭活疫苗"), ("manufacturer", "科兴"), ("doses_in_series", "2"), ("min_interval_days", "14"), ("min_age", "3"), ("doses_per_vial", "1"), ("open_vial_minutes", "0"), ("observation_minutes", "30")]).await;
            assert_eq!(ok.location(), "/stock");
            let v = vaccines::all(&f.db).await.expect("q").into_iter().find(|v| v.code == "KXSW").expect("created");
            let past = admin.post_form("/lots", &[("csrf_token", &token), ("vaccine", &v.id.to_string()), ("lot_number", "K1"), ("expires_on", "2020-01-01")]).await;
            assert!(past.body.contains("有效期应为今天之后的日期"));
            let lot = admin.post_form("/lots", &[("csrf_token", &token), ("vaccine", &v.id.to_string()), ("lot_number", "K1"), ("expires_on", "2099-12-31")]).await;
            assert_eq!(lot.location(), "/stock");
            let lot_id = vaccines::lots(&f.db).await.expect("q").into_iter().find(|l| l.2 == "K1").expect("lot").0;
            let site = sites::by_code(&f.db, "HQC").await.expect("q").expect("site");
            let day = f.town.spec.today.to_string();
            let before = vaccines::site_days(&f.db, &day, &day, Some(site.id)).await.expect("q").first().map(|d| d.allocated).unwrap_or(0);
            let planned = admin.post_form("/deliveries", &[("csrf_token", &token), ("lot", &lot_id.to_string()), ("site", &site.id.to_string()), ("day", &day), ("doses", "300")]).await;
            assert_eq!(planned.location(), "/stock");
            let after = vaccines::site_days(&f.db, &day, &day, Some(site.id)).await.expect("q").first().map(|d| d.allocated).unwrap_or(0);
            assert_eq!(after - before, 300, "a planned delivery allocates its doses to the site-day");
            let contact = f.town.logins.iter().find(|l| l.role == vaxloop_core::Role::UnitContact).expect("contact").clone();
            let mut c = f.client();
            c.login(contact.username.as_deref().expect("username"), DEMO_PASSWORD).await;
            let c_token = c.get("/unit").await;
            let c_token = c.get(c_token.location()).await.csrf();
            assert_eq!(c.post_form("/deliveries", &[("csrf_token", &c_token), ("lot", &lot_id.to_string()), ("site", &site.id.to_string()), ("day", &day), ("doses", "5")]).await.status, StatusCode::FORBIDDEN);
        }
    }
}

mod supply_api {
    use axum::http::StatusCode;
    use vaxloop_demo::DEMO_PASSWORD;

    use crate::fixture;

    vaxloop_store::backend_tests! {
        async fn the_supply_api_creates_plans_receives_and_reports(t) {
            let f = fixture(t).await;
            let mut desk = f.client();
            desk.login("desk", DEMO_PASSWORD).await;
            let token = desk.get("/desk").await.csrf();
            let bad = desk.post_json("/api/v1/lots", r#"{"vaccine_id":1,"lot_number":"","expires_on":"yesterday"}"#, Some(&token)).await;
            assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
            assert!(bad.body.contains("\"field\":\"lot_number\"") && bad.body.contains("\"field\":\"expires_on\""));
            let unknown = desk.post_json("/api/v1/lots", r#"{"vaccine_id":999999,"lot_number":"X-1","expires_on":"2099-01-01"}"#, Some(&token)).await;
            assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY, "an unknown product is named, not a server error: {}", unknown.body);
            assert!(unknown.body.contains("\"field\":\"vaccine_id\""), "{}", unknown.body);
            let day = f.town.spec.today.to_string();
            let no_lot = desk.post_json("/api/v1/deliveries", &format!(r#"{{"lot_id":9223372036854775807,"site":"HCL","day":"{day}","doses":10}}"#), Some(&token)).await;
            assert_eq!(no_lot.status, StatusCode::UNPROCESSABLE_ENTITY, "an unknown lot is named, not a server error: {}", no_lot.body);
            assert!(no_lot.body.contains("\"field\":\"lot_id\""), "{}", no_lot.body);
            let lot = desk.post_json("/api/v1/lots", r#"{"vaccine_id":1,"lot_number":"API-1","expires_on":"2099-01-01"}"#, Some(&token)).await;
            assert_eq!(lot.status, StatusCode::CREATED);
            let lot: serde_json::Value = serde_json::from_str(&lot.body).expect("json");
            let day = f.town.spec.today.to_string();
            let delivery = desk.post_json("/api/v1/deliveries", &format!(r#"{{"lot_id":{},"site":"HCL","day":"{day}","doses":50}}"#, lot["id"]), Some(&token)).await;
            assert_eq!(delivery.status, StatusCode::CREATED, "{}", delivery.body);
            let delivery: serde_json::Value = serde_json::from_str(&delivery.body).expect("json");
            let path = format!("/api/v1/deliveries/{}/receive", delivery["id"]);
            assert_eq!(desk.post_json(&path, "{}", Some(&token)).await.status, StatusCode::NO_CONTENT);
            let again = desk.post_json(&path, "{}", Some(&token)).await;
            assert_eq!(again.status, StatusCode::CONFLICT, "received once");
            assert!(again.body.contains("\"error\":\"already_received\"") && again.body.contains("台账只记一次"), "the documented body: {}", again.body);
            let stock = desk.get("/api/v1/stock").await;
            let rows: Vec<serde_json::Value> = serde_json::from_str(&stock.body).expect("json");
            let mine = rows.iter().find(|r| r["lot_id"] == lot["id"]).expect("the new lot's stock");
            assert_eq!((mine["delivered"].as_i64(), mine["remaining"].as_i64()), (Some(50), Some(50)));
            assert!(rows.iter().all(|r| r["ledger_sum"] == r["remaining"]));
            assert_eq!(desk.post_json("/api/v1/vaccines", r#"{"code":"X1","name":"x","manufacturer":"y","doses_in_series":1,"min_interval_days":0,"min_age":0,"doses_per_vial":1}"#, Some(&token)).await.status, StatusCode::FORBIDDEN, "only the admin adds products");
        }
    }
}

mod questions {
    use axum::http::StatusCode;

    use crate::fixture;

    vaxloop_store::backend_tests! {
    async fn the_admin_edits_a_vaccines_screening_questions(t) {
        let f = fixture(t).await;
        let mut admin = f.client();
        admin.login("admin", vaxloop_demo::DEMO_PASSWORD).await;
        assert!(admin.get("/stock").await.body.contains("id=\"questions-BIBP\""));
        let page = admin.get("/vaccines/BIBP/screening").await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(page.body.matches("id=\"question-").count(), vaxloop_demo::SCREENING.len());
        let token = page.csrf();
        let bad = admin.post_form("/vaccines/BIBP/screening", &[("csrf_token", &token), ("text_zh", "近期是否接种过其他疫苗？"), ("text_en", " "), ("on_yes", "note")]).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.body.contains("请填写英文问题"));
        let added = admin.post_form("/vaccines/BIBP/screening", &[("csrf_token", &token), ("text_zh", "近期是否接种过其他疫苗？"), ("text_en", "Any other vaccine lately?"), ("on_yes", "defer")]).await;
        assert_eq!(added.status, StatusCode::SEE_OTHER);
        let vaccine = vaxloop_store::vaccines::all(&f.db).await.expect("q").into_iter().find(|v| v.code == "BIBP").expect("BIBP");
        let questions = vaxloop_store::screening::questions(&f.db, vaccine.id).await.expect("q");
        let new = questions.last().expect("added last").clone();
        assert_eq!((new.text_en.as_str(), new.on_yes.as_str()), ("Any other vaccine lately?", "defer"));
        // Up one place, edited, then removed.
        let path = format!("/vaccines/BIBP/screening/{}", new.id);
        admin.post_form(&path, &[("csrf_token", &token), ("action", "up")]).await;
        let order: Vec<i64> = vaxloop_store::screening::questions(&f.db, vaccine.id).await.expect("q").iter().map(|q| q.id).collect();
        assert_eq!(order[order.len() - 2], new.id, "moved up one place");
        admin.post_form(&path, &[("csrf_token", &token), ("action", "save"), ("text_zh", "近14天是否接种过其他疫苗？"), ("text_en", "Another vaccine in the last 14 days?"), ("on_yes", "defer")]).await;
        let edited = vaxloop_store::screening::questions(&f.db, vaccine.id).await.expect("q").into_iter().find(|q| q.id == new.id).expect("still there");
        assert_eq!(edited.text_zh, "近14天是否接种过其他疫苗？");
        admin.post_form(&path, &[("csrf_token", &token), ("action", "delete")]).await;
        assert_eq!(vaxloop_store::screening::questions(&f.db, vaccine.id).await.expect("q").len(), vaxloop_demo::SCREENING.len());
        assert_eq!(admin.get("/vaccines/NOPE/screening").await.status, StatusCode::NOT_FOUND);
        let mut desk = f.client();
        desk.login("desk", vaxloop_demo::DEMO_PASSWORD).await;
        assert_eq!(desk.get("/vaccines/BIBP/screening").await.status, StatusCode::FORBIDDEN);
    }
    }
}
