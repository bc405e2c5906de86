//! The dose ledger under contention, on both backends: racing waste and transfers never drive a
//! balance negative, and every balance equals its ledger at the end.

use vaxloop_core::{SiteKind, ZoneKind};
use vaxloop_store::sites::{NewSite, NewZone};
use vaxloop_store::testing::TestDb;
use vaxloop_store::vaccines::{self, NewVaccine, StockRefusal};
use vaxloop_store::{now_ms, sites};

async fn site(t: &TestDb, code: &str) -> i64 {
    let mut tx = t.begin_write().await.expect("tx");
    let id = sites::insert(
        &mut tx,
        &NewSite {
            code: code.into(),
            name: code.into(),
            kind: SiteKind::Fixed,
            address: String::new(),
            lat: None,
            lon: None,
            open_from: None,
            open_until: None,
            hours: vec![],
            zones: vec![NewZone {
                kind: ZoneKind::Vaccination,
                space: 10,
                desks_am: 1,
                desks_pm: 1,
                mean_service_seconds: 60,
            }],
        },
        now_ms(),
    )
    .await
    .expect("site");
    tx.commit().await.expect("commit");
    id
}

vaxloop_store::backend_tests! {
    async fn racing_waste_and_transfers_keep_every_balance_equal_to_its_ledger(t) {
        let a = site(&t, "SA").await;
        let b = site(&t, "SB").await;
        let mut tx = t.begin_write().await.expect("tx");
        let v = vaccines::insert_vaccine(&mut tx, &NewVaccine { code: "BIBP".into(), name: "灭活".into(), manufacturer: "北京生物".into(), doses_in_series: 2, min_interval_days: 21, min_age: 3, max_age: None, doses_per_vial: 1, open_vial_minutes: 0, observation_minutes: 30 }).await.expect("vaccine");
        let lot = vaccines::insert_lot(&mut tx, v, "L1", "2027-12-31").await.expect("lot");
        let d = vaccines::plan_delivery(&mut tx, lot, a, "2026-11-30", 20).await.expect("plan");
        vaccines::receive_delivery(&mut tx, d, None, now_ms()).await.expect("receive");
        tx.commit().await.expect("commit");

        let mut tasks = Vec::new();
        for i in 0..12 {
            let db = t.db.clone();
            tasks.push(tokio::spawn(async move {
                let mut tx = db.begin_write().await.expect("tx");
                let done = if i % 2 == 0 {
                    vaccines::waste(&mut tx, lot, a, 3, "冷链温度超标", None, now_ms()).await.expect("waste")
                } else {
                    vaccines::transfer(&mut tx, lot, a, b, 3, None, now_ms()).await.expect("transfer")
                };
                if done.is_ok() { tx.commit().await.expect("commit") } else { tx.rollback().await.expect("rollback") }
                done
            }));
        }
        let mut ok = 0;
        for task in tasks {
            match task.await.expect("join") {
                Ok(()) => ok += 1,
                Err(StockRefusal::Short { remaining }) => assert!(remaining < 3, "refused with {remaining} left"),
                Err(other) => panic!("{other:?}"),
            }
        }
        assert_eq!(ok, 6, "twenty doses, threes taken: exactly six succeed");
        let balances = vaccines::ledger_balances(&t).await.expect("balances");
        for bal in &balances {
            assert!(bal.remaining >= 0);
            assert_eq!(bal.ledger_sum, bal.remaining, "lot {} at site {}", bal.lot_id, bal.site_id);
        }
        let total: i64 = balances.iter().map(|b| b.remaining).sum();
        let wasted: i64 = sqlx::query_scalar("SELECT CAST(COALESCE(SUM(-delta), 0) AS BIGINT) FROM stock_ledger WHERE kind = 'wasted'")
            .fetch_one(&mut *t.begin_write().await.expect("tx"))
            .await
            .expect("wasted");
        assert_eq!(total + wasted, 20, "delivered = wasted + remaining, transfers cancelling out");
        let mut tx = t.begin_write().await.expect("tx");
        assert_eq!(vaccines::waste(&mut tx, lot, a, 1, "  ", None, now_ms()).await.expect("q"), Err(StockRefusal::NoReason));
    }
}
