//! The desk's proposal: planned from live data, moved and locked by hand, re-run around the
//! locks, refreshed after a site-day loses its doses (the difference shown), and published once
//! — with each team's shuttle trips — however many desk members press publish together.

use chrono::NaiveDate;
use vaxloop_app::proposals::{
    ProposalError, latest, move_team, propose, publish_proposal, refresh, rerun, set_lock,
};
use vaxloop_planner::Options;

fn quick(steps: u64) -> Options {
    Options {
        time_limit: std::time::Duration::from_secs(5),
        max_steps: Some(steps),
        seed: 7,
    }
}

async fn desk_user(t: &vaxloop_store::testing::TestDb) -> i64 {
    let mut tx = t.begin_write().await.expect("tx");
    let id: i64 =
        sqlx::query_scalar("SELECT id FROM users WHERE role = 'desk' ORDER BY id LIMIT 1")
            .fetch_one(&mut *tx)
            .await
            .expect("a desk user");
    id
}

vaxloop_store::backend_tests! {
    async fn the_desk_plans_adjusts_replans_and_publishes_once(t) {
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).expect("date");
        let town = vaxloop_demo::generate(&vaxloop_demo::TownSpec { people: 800, seed: 6, today });
        vaxloop_demo::store(&t, &t.cipher, &town).await.expect("demo town");
        let user = desk_user(&t).await;
        assert!(latest(&t).await.expect("latest").is_none());

        let p = propose(&t, today, user, quick(100)).await.expect("proposal");
        assert!(p.is_open() && p.report.valid, "{:?}", p.report.violations);
        assert!(p.plan.assignments.len() >= 3);
        assert!(p.changes().is_empty());

        // Lock a team; a colleague acting on the old version is told, and changes nothing.
        let locked_team = p.plan.assignments[0].team.clone();
        let p2 = set_lock(&t, p.id, p.version, &locked_team, true).await.expect("lock");
        assert!(p2.locked.contains(&locked_team) && p2.version > p.version);
        assert!(matches!(set_lock(&t, p.id, p.version, &locked_team, false).await, Err(ProposalError::Stale)));

        // Move a team by hand to the first place where it fits, other than its own: it is
        // there, locked, and the difference names it alone.
        let a = p2.plan.assignments[1].clone();
        let inst = &p2.live.instance;
        let mut moved = None;
        'search: for s in &inst.sites {
            for d in 0..inst.days() {
                for k in 0..inst.slots() {
                    if (&s.id, d, k) == (&a.site, a.day, a.parts[0].slot) {
                        continue;
                    }
                    match move_team(&t, p2.id, p2.version, &a.team, &s.id, d, k).await {
                        Ok(p3) => { moved = Some((p3, s.id.clone(), d, k)); break 'search; }
                        Err(ProposalError::Move(_)) => {}
                        Err(e) => panic!("{e}"),
                    }
                }
            }
        }
        let (p3, site, day, slot) = moved.expect("somewhere else the team fits");
        assert!(p3.report.valid, "{:?}", p3.report.violations);
        assert!(p3.locked.contains(&a.team));
        let changes = p3.changes();
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(changes[0].after, Some((site.clone(), day, slot)));
        // A move that cannot fit says why.
        let too_far = move_team(&t, p3.id, p3.version, &a.team, &site, day, inst.slots()).await;
        assert!(matches!(too_far, Err(ProposalError::Move(vaxloop_planner::MoveRefusal::OutsideHorizon))));

        // Re-run around the locks: both locked teams stay where they are.
        let p4 = rerun(&t, p3.id, p3.version, quick(200)).await.expect("rerun");
        assert!(p4.report.valid);
        for team in [&locked_team, &a.team] {
            let was = p3.plan.assignments.iter().find(|x| &x.team == team).expect("placed");
            let now = p4.plan.assignments.iter().find(|x| &x.team == team).expect("still placed");
            assert_eq!((&was.site, was.day, &was.parts), (&now.site, now.day, &now.parts));
        }

        // The delivery for one site-day falls short to nothing: the refreshed proposal keeps
        // every team that still fits and moves only those that were there.
        let victim = p4.plan.assignments.iter().find(|x| !p4.locked.contains(&x.team)).expect("an unlocked team").clone();
        let s = p4.live.instance.sites.iter().position(|x| x.id == victim.site).expect("site");
        let site_id = p4.live.site_ids[s];
        let date = p4.live.instance.horizon.dates[victim.day].clone();
        let mut tx = t.begin_write().await.expect("tx");
        sqlx::query("UPDATE site_days SET doses_allocated = doses_booked WHERE site_id = $1 AND day = $2")
            .bind(site_id).bind(&date).execute(&mut *tx).await.expect("short");
        tx.commit().await.expect("commit");
        let there: Vec<String> = p4.plan.assignments.iter()
            .filter(|x| x.site == victim.site && x.day == victim.day)
            .map(|x| x.team.clone()).collect();
        let p5 = refresh(&t, p4.id, p4.version, today, quick(50)).await.expect("refresh");
        assert!(p5.report.valid, "{:?}", p5.report.violations);
        assert!(!p5.plan.assignments.iter().any(|x| x.site == victim.site && x.day == victim.day));
        let changes = p5.changes();
        assert!(!changes.is_empty());
        for c in &changes {
            assert!(c.before.is_none() || there.contains(&c.team), "{c:?} moved without cause");
        }

        // Two desk members publish at once: one books the whole plan, the other is told.
        let tz = chrono_tz::Asia::Shanghai;
        let (x, y) = tokio::join!(
            publish_proposal(&t, tz, p5.id, p5.version, user),
            publish_proposal(&t, tz, p5.id, p5.version, user),
        );
        let (ok, stale): (Vec<_>, Vec<_>) = [x, y].into_iter().partition(|r| r.is_ok());
        assert_eq!((ok.len(), stale.len()), (1, 1));
        assert!(stale.into_iter().all(|r| matches!(r, Err(ProposalError::Stale))));
        let published = ok.into_iter().next().expect("one").expect("published");
        assert_eq!(published.len(), p5.plan.assignments.len());
        let done = latest(&t).await.expect("latest").expect("one");
        assert_eq!(done.status, "published");
        assert!(matches!(set_lock(&t, done.id, done.version, &locked_team, false).await, Err(ProposalError::Stale)));

        // Every team that rides the shuttle has its trips on it; the others make their own way.
        let riders = p5.plan.assignments.iter().filter(|x| !x.trips.is_empty()).count();
        assert!(riders > 0, "the demo town has units beyond walking distance");
        let mut tx = t.begin_write().await.expect("tx");
        let with_trips: Vec<String> = sqlx::query_scalar("SELECT trips FROM teams WHERE trips IS NOT NULL")
            .fetch_all(&mut *tx).await.expect("trips");
        assert_eq!(with_trips.len(), riders);
        for j in &with_trips {
            let trips: Vec<vaxloop_app::planning::BusTrip> = serde_json::from_str(j).expect("json");
            assert!(trips.iter().all(|b| b.bus >= 1 && b.people >= 1 && (5 * 60..20 * 60).contains(&b.departs_min)), "{j}");
        }
    }
}
