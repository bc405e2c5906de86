//! The funnel: the town for the admin, one group for its leader, nothing for a unit contact.

use axum::http::StatusCode;
use vaxloop_core::Role;
use vaxloop_demo::DEMO_PASSWORD;

use crate::fixture;

vaxloop_store::backend_tests! {
    async fn the_funnel_shows_each_scope_its_own_units(t) {
        let f = fixture(t).await;
        let mut admin = f.client();
        admin.login("admin", DEMO_PASSWORD).await;
        let town = admin.get("/funnel").await;
        assert_eq!(town.status, StatusCode::OK);
        assert!(town.body.contains("动员漏斗") && town.body.contains("各工作组"));
        for g in &f.town.groups {
            assert!(town.body.contains(&g.name), "{} listed", g.name);
        }
        let registered: usize = f.town.people.iter().filter(|p| p.confirmed).count();
        let shown = format!("{}", registered);
        let with_commas: String = {
            let d = shown.clone();
            let mut out = String::new();
            for (i, c) in d.chars().enumerate() {
                if i > 0 && (d.len() - i) % 3 == 0 {
                    out.push(',');
                }
                out.push(c);
            }
            out
        };
        assert!(town.body.contains(&with_commas), "the town's registered total {with_commas}");
        let chart = admin.get("/funnel/chart.svg").await;
        assert_eq!(chart.status, StatusCode::OK);
        assert!(chart.body.starts_with("<svg") && chart.body.contains("已登记"));
        let lagging = admin.get("/funnel?threshold=100").await;
        assert!(lagging.body.contains("登记率低于100%的单位"));
        assert!(lagging.body.matches("/units/").count() > f.town.units.len(), "every unit lags below 100%");

        let leader = f.town.logins.iter().find(|l| l.role == Role::GroupLeader).expect("leader").clone();
        let own = &f.town.groups[leader.group.expect("group")];
        let other = f.town.groups.iter().find(|g| g.code != own.code).expect("another group");
        let mut l = f.client();
        l.login(leader.username.as_deref().expect("username"), DEMO_PASSWORD).await;
        let mine = l.get("/funnel").await;
        assert_eq!(mine.status, StatusCode::OK);
        assert!(mine.body.contains(&own.name));
        for u in f.town.units.iter().filter(|u| u.group != leader.group.expect("group")) {
            assert!(!mine.body.contains(&format!("/units/{}\"", u.code)), "another group's unit {} shown", u.code);
        }
        assert_eq!(l.get(&format!("/funnel?group={}", other.code)).await.status, StatusCode::FORBIDDEN);
        assert_eq!(l.get(&format!("/funnel/chart.svg?group={}", other.code)).await.status, StatusCode::FORBIDDEN);

        let contact = f.town.logins.iter().find(|l| l.role == Role::UnitContact).expect("contact").clone();
        let mut c = f.client();
        c.login(contact.username.as_deref().expect("username"), DEMO_PASSWORD).await;
        assert_eq!(c.get("/funnel").await.status, StatusCode::FORBIDDEN);
    }
}
