//! The funnel: the town for the admin, one group for its leader, nothing for a unit contact.

use axum::http::StatusCode;
use vaxloop_core::Role;
use vaxloop_demo::DEMO_PASSWORD;

use crate::fixture;

vaxloop_store::backend_tests! {
    async fn the_town_s_counts_are_kept_and_the_pages_say_when_they_were_counted(t) {
        let config = vaxloop_web::WebConfig { count_seconds: 3600, ..crate::client::test_config() };
        let f = crate::client::fixture_with(t, config).await;
        let mut admin = f.client();
        admin.login("admin", DEMO_PASSWORD).await;
        let figures = |body: &str| {
            let at = body.find("id=\"funnel-figures\"").expect("figures");
            body[at..at + body[at..].find("</section>").expect("end")].to_string()
        };
        let first = admin.get("/funnel").await.body;
        assert!(first.contains("id=\"counted\"") && first.contains("每 3600 秒重新统计一次"), "the page says when it counted");
        // Someone's registration goes back to pending: the kept counts do not see it yet.
        let mut tx = f.db.begin_write().await.expect("tx");
        sqlx::query("UPDATE people SET status = 'pending' WHERE id = (SELECT MIN(id) FROM people WHERE status = 'confirmed')").execute(&mut *tx).await.expect("pending");
        tx.commit().await.expect("commit");
        let again = admin.get("/funnel").await.body;
        assert_eq!(figures(&first), figures(&again), "served from the kept count");
        let overview = admin.get("/admin").await.body;
        assert!(overview.contains("id=\"counted\"") && overview.contains("以上数字统计于"));
    }

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

    async fn the_funnel_follows_people_to_their_dose_and_names_who_is_stuck(t) {
        let f = fixture(t).await;
        let unit = vaxloop_store::org::units(&f.db, None).await.expect("units").into_iter().next().expect("a unit");
        let site = vaxloop_store::sites::serving_unit(&f.db, unit.id).await.expect("q").remove(0);
        let people = vaxloop_store::journeys::waiting_of_unit(&f.db, unit.id, 1, 3).await.expect("q");
        let today = vaxloop_web::WebConfig::default().today();
        let slot = vaxloop_store::slots::of_site_day(&f.db, site.id, &today.to_string()).await.expect("slots")
            .into_iter().find(|s| s.capacity - s.booked >= 2).expect("room").id;
        vaxloop_app::booking::engine::book_team(&f.db, chrono_tz::Asia::Shanghai, unit.id, slot, &people[..2], 1).await.expect("book").expect("booked");
        let code = format!("VXL1:{}", f.db.cipher.sign("person", people[0]));
        let visit = vaxloop_app::site_ops::check_in(&f.db, &f.db.cipher, site.id, vaxloop_app::site_ops::At::on(chrono_tz::Asia::Shanghai, today), &code, None).await.expect("store").expect("in").visit;
        let (_, vaccine) = vaxloop_store::visits::by_id(&f.db, visit.id).await.expect("q").expect("visit");
        let clear: Vec<(i64, bool)> = vaxloop_store::screening::questions(&f.db, vaccine).await.expect("q").iter().map(|q| (q.id, false)).collect();
        vaxloop_app::site_ops::screen(&f.db, site.id, today, visit.id, &clear, &vaxloop_app::site_ops::Decision::Pass, None).await.expect("store").expect("passed");
        let lot = vaxloop_store::doses::lots_for(&f.db, site.id, vaccine, &today.to_string(), 0, None).await.expect("lots")[0].lot_id;
        let dose = vaxloop_app::site_ops::DoseGiven { visit_id: visit.id, lot_id: lot, proof: vaxloop_app::site_ops::Proof::IdCard, minutes: None };
        vaxloop_app::site_ops::vaccinate(&f.db, &f.db.cipher, site.id, today, &dose, None).await.expect("store").expect("given");
        // The third has waited for the desk since long ago.
        let mut tx = f.db.begin_write().await.expect("tx");
        sqlx::query("UPDATE journeys SET updated_at = 0 WHERE person_id = $1").bind(people[2]).execute(&mut *tx).await.expect("old");
        tx.commit().await.expect("commit");
        let stuck = vaxloop_store::people::by_id(&f.db, people[2]).await.expect("q").expect("person");

        let mut admin = f.client();
        admin.login("admin", DEMO_PASSWORD).await;
        let groups = vaxloop_store::org::work_groups(&f.db).await.expect("groups");
        let group = groups.iter().find(|g| g.id == unit.work_group_id).expect("group");
        let page = admin.get(&format!("/funnel?group={}", group.code)).await;
        assert_eq!(page.status, StatusCode::OK);
        let table = page.body.split("id=\"funnel-units\"").nth(1).expect("the unit table");
        let row = table.split(&format!("/units/{}\"", unit.code)).nth(1).expect("the unit's row");
        let cells: Vec<&str> = row.split("<td class=\"num\">").skip(1).take(9).map(|c| c.split('<').next().unwrap_or("")).collect();
        assert_eq!(&cells[5..], ["2", "1", "1", "0"], "booked 2, arrived 1, vaccinated 1, none complete (two doses)");
        let stuck_table = page.body.split("id=\"stuck-people\"").nth(1).expect("the stuck table");
        assert!(stuck_table.contains(&stuck.id_masked) && stuck_table.contains("已登记"), "the long wait is named");
        let chart = admin.get(&format!("/funnel/chart.svg?group={}", group.code)).await;
        assert!(chart.body.contains("已到场") && chart.body.contains("全程完成"));
    }
}
