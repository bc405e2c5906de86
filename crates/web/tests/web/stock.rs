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
        for _ in 0..2 {
            let r = desk.post_form(&format!("/deliveries/{}/receive", planned.id), &[("csrf_token", &token)]).await;
            assert_eq!(r.location(), "/stock");
        }
        let after: i64 = vaccines::ledger_balances(&f.db).await.expect("q").iter().map(|b| b.remaining).sum();
        assert_eq!(after - before, planned.doses, "received once, however often the button is pressed");

        let site = planned.site_id.to_string();
        let lot = planned.lot_id.to_string();
        let no_reason = desk.post_form("/stock/waste", &[("csrf_token", &token), ("site", &site), ("lot", &lot), ("doses", "2"), ("reason", "")]).await;
        assert_eq!(no_reason.status, StatusCode::CONFLICT);
        let wasted = desk.post_form("/stock/waste", &[("csrf_token", &token), ("site", &site), ("lot", &lot), ("doses", "2"), ("reason", "安瓿破损")]).await;
        assert_eq!(wasted.location(), "/stock");
        let too_much = desk.post_form("/stock/waste", &[("csrf_token", &token), ("site", &site), ("lot", &lot), ("doses", "999999"), ("reason", "全部过期")]).await;
        assert_eq!(too_much.status, StatusCode::CONFLICT);
        assert!(too_much.body.contains("库存不足"));
        let other = vaxloop_store::sites::all(&f.db).await.expect("q").into_iter().find(|s| s.id != planned.site_id).expect("another site").id.to_string();
        let moved = desk.post_form("/stock/transfer", &[("csrf_token", &token), ("lot", &lot), ("from", &site), ("to", &other), ("doses", "5")]).await;
        assert_eq!(moved.location(), "/stock");
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
