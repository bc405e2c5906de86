//! The end of a site's day: every booked person in exactly one state, no-shows marked after
//! their slot and the grace period, the close once (releasing, writing off, returning deferred
//! people to the desk), and the lots' ledgers balanced.

use chrono::Days;
use vaxloop_app::site_day::{close_day, reconcile, sweep, unit_day};
use vaxloop_app::site_ops::{
    CheckInRefusal, Decision, DoseGiven, Proof, QR_PREFIX, check_in, screen, vaccinate,
};
use vaxloop_store::{journeys, sites, slots};

vaxloop_store::backend_tests! {
    async fn a_day_reconciles_every_booked_person_and_dose_and_closes_once(t) {
        let tz = chrono_tz::Asia::Shanghai;
        let today = chrono::Utc::now().with_timezone(&tz).date_naive();
        let town = vaxloop_demo::generate(&vaxloop_demo::TownSpec { people: 600, seed: 21, today });
        vaxloop_demo::store(&t, &t.cipher, &town).await.expect("demo town");
        let unit = vaxloop_store::org::units(&t, None).await.expect("units").into_iter().next().expect("a unit");
        let people = journeys::waiting_of_unit(&t, unit.id, 1, 7).await.expect("waiting");
        assert_eq!(people.len(), 7);
        let here = sites::serving_unit(&t, unit.id).await.expect("sites")[0].clone();
        let slot = slots::of_site_day(&t, here.id, &today.to_string()).await.expect("slots").into_iter().find(|s| s.capacity - s.booked >= 7).expect("room").id;
        let booked = vaxloop_app::booking::engine::book_team(&t, tz, unit.id, slot, &people[..6], 1).await.expect("book").expect("booked");
        // The seventh booked one by one.
        let alone = [people[6]];
        let request = vaxloop_app::booking::Request { slot_id: slot, people: &alone, dose_number: 1, team_id: None, walk_in: false };
        vaxloop_app::booking::engine::book(&t, tz, &request).await.expect("book").expect("booked alone");
        let scan = |p: i64| format!("{QR_PREFIX}{}", t.cipher.sign("person", p));
        let mut visits = Vec::new();
        for &p in &people[..4] {
            visits.push(check_in(&t, &t.cipher, here.id, vaxloop_app::site_ops::At::on(chrono_tz::Asia::Shanghai, today), &scan(p), None).await.expect("store").expect("in").visit);
        }
        let (_, vaccine) = vaxloop_store::visits::by_id(&t, visits[0].id).await.expect("q").expect("visit");
        let clear: Vec<(i64, bool)> = vaxloop_store::screening::questions(&t, vaccine).await.expect("q").iter().map(|q| (q.id, false)).collect();
        for v in &visits[..2] {
            screen(&t, here.id, today, v.id, &clear, &Decision::Pass, None).await.expect("store").expect("passed");
        }
        let tomorrow = today.checked_add_days(Days::new(1)).expect("day");
        screen(&t, here.id, today, visits[2].id, &clear, &Decision::Defer { reason: "发热".into(), until: tomorrow }, None).await.expect("store").expect("deferred");
        assert_eq!(vaxloop_store::screening::deferred_until(&t, people[2], 1).await.expect("q"), Some(tomorrow.to_string()), "the day to come again");
        let lot = vaxloop_store::doses::lots_for(&t, here.id, vaccine, &today.to_string(), 0, None).await.expect("lots")[0].lot_id;
        for v in &visits[..2] {
            let d = DoseGiven { visit_id: v.id, lot_id: lot, proof: Proof::Code(t.cipher.presence_code(v.appointment_id)), minutes: Some(0) };
            vaccinate(&t, &t.cipher, here.id, today, &d, None).await.expect("store").expect("given");
        }
        vaxloop_app::site_ops::release(&t, here.id, today, visits[0].id, None, None).await.expect("store").expect("released");

        // During the day: two vaccinated, one deferred, one in the queue, three expected.
        let r = reconcile(&t, tz, here.id, today).await.expect("reconcile");
        assert_eq!((r.total.booked, r.total.arrived, r.total.vaccinated, r.total.deferred, r.total.in_progress, r.total.expected), (7, 4, 2, 1, 1, 3), "{:?}", r.total);
        assert!(r.total.whole());
        let team = r.teams.iter().find(|x| x.code == booked.team.code).expect("the team's line");
        assert_eq!((team.tally.booked, team.tally.vaccinated, team.tally.expected), (6, 2, 2));
        assert_eq!((r.individuals.booked, r.individuals.expected), (1, 1), "the one booked alone");
        assert_eq!(r.units.iter().map(|u| u.tally.booked).sum::<i64>(), 7);
        assert!(r.lots.iter().all(|l| l.balanced()), "{:?}", r.lots);
        assert_eq!(r.lots.iter().map(|l| l.administered_today).sum::<i64>(), 2);

        // Past the last slot and the grace period: the two who never came are no-shows.
        let late = today.and_hms_opt(23, 59, 0).expect("time");
        // The deferred person may come tomorrow: back to the desk, to be booked.
        let (no_shows, reinvited) = sweep(&t, late).await.expect("sweep");
        assert_eq!((no_shows, reinvited), (3, 1));
        assert_eq!(sweep(&t, late).await.expect("sweep").0, 0, "marked once");
        assert_eq!(journeys::of_person(&t, people[4]).await.expect("q")[0].1.to_string(), "no_show", "back to the desk");

        // The close: once, however many managers press it.
        let (a, b) = tokio::join!(close_day(&t, here.id, today, None), close_day(&t, here.id, today, None));
        let summary = match (a.expect("store"), b.expect("store")) {
            (Some(s), None) | (None, Some(s)) => s,
            other => panic!("closed once: {other:?}"),
        };
        assert_eq!((summary.no_shows, summary.left, summary.released, summary.reinvited), (0, 1, 1, 0), "{summary:?}");
        let r = reconcile(&t, tz, here.id, today).await.expect("reconcile");
        assert_eq!((r.total.vaccinated, r.total.deferred, r.total.left, r.total.no_show, r.total.in_progress, r.total.expected), (2, 1, 1, 3, 0, 0), "{:?}", r.total);
        assert!(r.total.whole() && r.closed.is_some());
        assert!(r.lots.iter().all(|l| l.balanced() && l.in_open_vials == 0));
        // Nobody is left in a site state; the deferred person is back at the desk.
        let states: Vec<String> = futures_states(&t, &people).await;
        assert_eq!(states, ["released", "released", "registered", "no_show", "no_show", "no_show", "no_show"]);
        // After the close nothing more is recorded here today.
        let at_noon = today.and_hms_opt(12, 0, 0).expect("time");
        let walk_in = vaxloop_app::site_ops::walk_in(&vaxloop_app::App::new(t.db.clone(), t.cipher.clone(), tz), here.id, at_noon, &scan(people[5]), None).await.expect("store");
        assert_eq!(walk_in.expect_err("closed"), CheckInRefusal::DayClosed);
        assert!(vaxloop_store::visits::active_of_person(&t, people[5]).await.expect("q").is_empty(), "not booked either");
        // The unit's contact sees the same line for its team.
        let (teams, total) = unit_day(&t, unit.id, today).await.expect("unit day");
        assert_eq!(total, r.total);
        assert_eq!(teams[0].tally.booked, 6);
    }
}

async fn futures_states(db: &vaxloop_store::Db, people: &[i64]) -> Vec<String> {
    let mut out = Vec::new();
    for &p in people {
        out.push(
            journeys::of_person(db, p).await.expect("q")[0]
                .1
                .to_string(),
        );
    }
    out
}

/// The close as the manager's use case: today only, once, audited; other posts refused.
mod close {
    use super::*;

    vaxloop_store::backend_tests! {
        async fn the_manager_closes_today_once_audited_and_other_posts_are_refused(t) {
            use vaxloop_app::site_day::{CloseRefusal, close};
            use vaxloop_app::{Actor, App, Caller};
            let tz = chrono_tz::Asia::Shanghai;
            let app = App::new(t.db.clone(), t.cipher.clone(), tz);
            let today = app.today();
            let town = vaxloop_demo::generate(&vaxloop_demo::TownSpec { people: 300, seed: 5, today });
            vaxloop_demo::store(&t, &t.cipher, &town).await.expect("demo town");
            let login = async |name: &str| {
                let user = vaxloop_store::users::by_username(&t, name).await.expect("q").expect("the demo login");
                Caller::login(Actor::from(&user), "/test/close")
            };
            let audit = async |sql: &str| -> Vec<String> {
                let mut tx = t.begin_write().await.expect("tx");
                let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string())).fetch_all(&mut *tx).await.expect("audit");
                tx.rollback().await.expect("rollback");
                rows
            };
            let manager = login("hcl.manager").await;
            // Not today: refused, nothing closed.
            let tomorrow = today.checked_add_days(Days::new(1)).expect("day");
            assert_eq!(close(&app, &manager, "HCL", tomorrow).await.expect("use case").map(|_| ()), Err(CloseRefusal::NotToday));
            // Today: closed, and a second press says so; both audited in their transactions.
            close(&app, &manager, "HCL", today).await.expect("use case").expect("closed");
            assert_eq!(close(&app, &manager, "HCL", today).await.expect("use case").map(|_| ()), Err(CloseRefusal::Closed));
            assert_eq!(audit("SELECT outcome FROM audit_log WHERE action = 'site.close_day' ORDER BY id").await, ["ok", "failed"]);
            // The check-in desk of the same site may not close it: denied, and the denial audited.
            let desk = login("hcl.checkin").await;
            assert!(matches!(close(&app, &desk, "HCL", today).await, Err(vaxloop_app::Error::Denied)));
            let denied = audit("SELECT outcome FROM audit_log WHERE action = 'access' AND target = '/test/close'").await;
            assert_eq!(denied, ["denied"]);
        }
    }
}
