//! A site's what-if: the site as it is, every number editable, the simulated day with its chart
//! and the safe bookings per slot; bad numbers named by their field; only those who watch the
//! site may ask.

use axum::http::StatusCode;
use vaxloop_demo::DEMO_PASSWORD;

use crate::fixture;

/// The figure of a card, by its id.
fn figure(body: &str, id: &str) -> String {
    body.split(&format!("id=\"{id}\""))
        .nth(1)
        .and_then(|s| s.split("<p class=\"figure").nth(1))
        .and_then(|s| s.split('>').nth(1))
        .and_then(|s| s.split('<').next())
        .unwrap_or("")
        .to_string()
}

vaxloop_store::backend_tests! {
    async fn the_manager_changes_desks_and_sees_the_waits_and_the_safe_capacity_move(t) {
        let f = fixture(t).await;
        let mut manager = f.client();
        manager.login("hcl.manager", DEMO_PASSWORD).await;
        let site = manager.get("/sites/HCL").await;
        assert!(site.body.contains("href=\"/sites/HCL/what-if\""), "linked from the site");
        let page = manager.get("/sites/HCL/what-if").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains("id=\"what-if-result\""));
        assert!(page.body.contains("id=\"desks_screening\""), "every number is editable");
        let safe: u32 = figure(&page.body, "safe-capacity").parse().expect("a safe capacity");
        assert!(safe > 0);
        assert_eq!(page.body.matches("<tr><td>").count(), 3, "a row per station");
        let chart_src = page.body.split("id=\"what-if-chart\"").next().and_then(|s| s.rsplit("src=\"").next())
            .and_then(|s| s.split('"').next()).expect("chart").replace("&amp;", "&");
        let chart = manager.get(&chart_src).await;
        assert_eq!(chart.status, StatusCode::OK);
        assert!(chart.body.starts_with("<svg") && chart.body.contains("<polyline"), "a line chart");

        // Half the screening desks: a smaller safe capacity.
        let fewer = manager.get("/sites/HCL/what-if?shift=am&desks_screening=4&per_slot=60").await;
        assert_eq!(fewer.status, StatusCode::OK);
        let fewer_safe: u32 = figure(&fewer.body, "safe-capacity").parse().expect("a safe capacity");
        assert!(fewer_safe < safe, "{fewer_safe} vs {safe}");
        assert!(fewer.body.contains("value=\"4\""), "the edit stays in the form");
        // An overloaded day is over the target.
        let crowded = manager.get("/sites/HCL/what-if?per_slot=400").await;
        assert!(crowded.body.contains("超过目标"), "over the target");

        // Bad numbers: named, no simulation.
        let bad = manager.get("/sites/HCL/what-if?desks_screening=abc&no_show=120").await;
        assert_eq!(bad.status, StatusCode::OK);
        assert!(bad.body.contains("id=\"desks_screening-error\"") && bad.body.contains("请输入1到100之间的数字"));
        // Numbers no site has — the ones that once sent the search to millions of arrivals —
        // are refused by field, before anything is simulated.
        let absurd = manager.get("/sites/HCL/what-if?desks_screening=500&minutes_screening=0.05&no_show=95&per_slot=5000").await;
        assert_eq!(absurd.status, StatusCode::OK);
        for field in ["desks_screening", "minutes_screening", "no_show", "per_slot"] {
            assert!(absurd.body.contains(&format!("id=\"{field}-error\"")), "{field}");
        }
        assert!(!absurd.body.contains("id=\"what-if-result\""));
        // The largest numbers allowed still answer, with the safe capacity bounded.
        let largest = manager.get("/sites/HCL/what-if?desks_screening=100&desks_vaccination=100&desks_checkin=100&minutes_screening=0.1&minutes_vaccination=0.1&minutes_checkin=0.1&no_show=80&per_slot=1000").await;
        assert_eq!(largest.status, StatusCode::OK);
        assert!(largest.body.contains("id=\"what-if-result\"") || largest.body.contains("id=\"what-if-refused\""), "{}", largest.body);
        assert!(bad.body.contains("id=\"no_show-error\""));
        assert!(!bad.body.contains("id=\"what-if-result\""));
        assert_eq!(manager.get("/sites/HCL/what-if/chart.svg?desks_screening=0").await.status, StatusCode::BAD_REQUEST);
        // In English too.
        let mut english = f.client().with_accept_language("en-US,en;q=0.9");
        english.login("hcl.manager", DEMO_PASSWORD).await;
        let en = english.get("/sites/HCL/what-if").await;
        assert!(en.body.contains("Safe bookings per slot") && en.body.contains("Minutes per person"));

        // The check-in desk does not watch the site; a site that is not there is refused the
        // same way, as the board does, so codes cannot be probed.
        let mut checkin = f.client();
        checkin.login("hcl.checkin", DEMO_PASSWORD).await;
        assert_eq!(checkin.get("/sites/HCL/what-if").await.status, StatusCode::FORBIDDEN);
        assert_eq!(checkin.get("/sites/HCL/what-if/chart.svg").await.status, StatusCode::FORBIDDEN);
        let mut admin = f.client();
        admin.login("admin", DEMO_PASSWORD).await;
        // A site that does not exist is "not found" to the admin, who sees every site.
        assert_eq!(admin.get("/sites/NOPE/what-if").await.status, StatusCode::NOT_FOUND);
        assert_eq!(admin.get("/sites/HCL/what-if?shift=pm").await.status, StatusCode::OK);
    }
}
