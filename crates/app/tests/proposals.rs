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

/// The application and a desk member's login as the caller of the planning use cases.
async fn desk(t: &vaxloop_store::testing::TestDb) -> (vaxloop_app::App, vaxloop_app::Caller) {
    let id = desk_user(t).await;
    let user = vaxloop_store::users::by_id(t, id)
        .await
        .expect("q")
        .expect("desk user");
    let app = vaxloop_app::App::new(t.db.clone(), t.cipher.clone(), chrono_tz::Asia::Shanghai);
    let by = vaxloop_app::Caller::login(vaxloop_app::Actor::from(&user), "test");
    (app, by)
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
        let (app, by) = desk(&t).await;
        assert!(latest(&t).await.expect("latest").is_none());

        let p = propose(&app, &by, today, quick(100)).await.expect("proposal");
        assert!(p.is_open() && p.report.valid, "{:?}", p.report.violations);
        assert!(p.plan.assignments.len() >= 3);
        assert!(p.changes().is_empty());

        // Lock a team; a colleague acting on the old version is told, and changes nothing.
        let locked_team = p.plan.assignments[0].team.clone();
        let p2 = set_lock(&app, &by, p.id, p.version, &locked_team, true).await.expect("lock");
        assert!(p2.locked.contains(&locked_team) && p2.version > p.version);
        assert!(matches!(set_lock(&app, &by, p.id, p.version, &locked_team, false).await, Err(ProposalError::Stale)));

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
                    match move_team(&app, &by, p2.id, p2.version, &a.team, &s.id, d, k).await {
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
        let too_far = move_team(&app, &by, p3.id, p3.version, &a.team, &site, day, inst.slots()).await;
        assert!(matches!(too_far, Err(ProposalError::Move(vaxloop_planner::MoveRefusal::OutsideHorizon))));

        // Re-run around the locks: both locked teams stay where they are.
        let p4 = rerun(&app, &by, p3.id, p3.version, quick(200)).await.expect("rerun");
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
        let p5 = refresh(&app, &by, p4.id, p4.version, today, quick(50)).await.expect("refresh");
        assert!(p5.report.valid, "{:?}", p5.report.violations);
        assert!(!p5.plan.assignments.iter().any(|x| x.site == victim.site && x.day == victim.day));
        let changes = p5.changes();
        assert!(!changes.is_empty());
        for c in &changes {
            assert!(c.before.is_none() || there.contains(&c.team), "{c:?} moved without cause");
        }

        // Two desk members publish at once: one books the whole plan, the other is told.
        let (x, y) = tokio::join!(
            publish_proposal(&app, &by, p5.id, p5.version),
            publish_proposal(&app, &by, p5.id, p5.version),
        );
        let (ok, stale): (Vec<_>, Vec<_>) = [x, y].into_iter().partition(|r| r.is_ok());
        assert_eq!((ok.len(), stale.len()), (1, 1));
        assert!(stale.into_iter().all(|r| matches!(r, Err(ProposalError::Stale))));
        let published = ok.into_iter().next().expect("one").expect("published");
        assert_eq!(published.booked.len(), p5.plan.assignments.len());
        assert!(published.moved.is_empty() && published.cancelled.is_empty());
        let done = latest(&t).await.expect("latest").expect("one");
        assert_eq!(done.status, "published");
        assert!(matches!(set_lock(&app, &by, done.id, done.version, &locked_team, false).await, Err(ProposalError::Stale)));

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

    async fn a_site_closing_after_publishing_moves_only_its_teams_and_closes_it(t) {
        use vaxloop_app::planning::{Disruption, DisruptionError};
        use vaxloop_app::proposals::disrupt;
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).expect("date");
        let town = vaxloop_demo::generate(&vaxloop_demo::TownSpec { people: 800, seed: 8, today });
        vaxloop_demo::store(&t, &t.cipher, &town).await.expect("demo town");
        let (app, by) = desk(&t).await;

        let p = propose(&app, &by, today, quick(100)).await.expect("proposal");
        let first = publish_proposal(&app, &by, p.id, p.version).await.expect("published");
        assert!(first.booked.len() >= 3);

        // A new proposal keeps every published team where it is.
        let p = propose(&app, &by, today, quick(50)).await.expect("proposal");
        assert!(p.report.valid, "{:?}", p.report.violations);
        assert!(p.booked_changes().is_empty(), "{:?}", p.booked_changes());
        let booked = p.live.booked_plan();
        assert_eq!(booked.assignments.len(), first.booked.len(), "every published team is in the plan");

        // The busiest site-day of the published teams closes.
        let mut count: std::collections::HashMap<(String, usize), usize> = Default::default();
        for a in &booked.assignments {
            *count.entry((a.site.clone(), a.day)).or_default() += 1;
        }
        let ((site, day), n) = count.into_iter().max_by_key(|x| x.1).expect("a site-day");
        let date = p.live.instance.horizon.dates[day].clone();
        let there: Vec<String> = booked.assignments.iter()
            .filter(|a| a.site == site && a.day == day)
            .map(|a| a.team.clone())
            .collect();
        assert_eq!(there.len(), n);

        // A delivery cut below what people booked one by one hold is refused, and so is a cut
        // that is not one.
        let s = p.live.site_day(&site, &date).expect("site-day").0;
        let allocated = p.live.allocated[s][day];
        let more = disrupt(&app, &by, p.id, p.version, today, Disruption::Doses { site: site.clone(), day: date.clone(), doses: allocated + 1 }, quick(10)).await;
        assert!(matches!(more, Err(ProposalError::Disruption(DisruptionError::NotShort { .. }))), "{more:?}");

        let p2 = disrupt(&app, &by, p.id, p.version, today, Disruption::Closed { site: site.clone(), day: date.clone() }, quick(100))
            .await
            .expect("closed");
        assert!(p2.report.valid, "{:?}", p2.report.violations);
        assert_eq!(p2.live.disruptions.len(), 1);
        assert!(!p2.plan.assignments.iter().any(|a| a.site == site && a.day == day), "nobody left there");
        let changes = p2.booked_changes();
        let mut moved: Vec<String> = changes.iter().map(|c| c.team.clone()).collect();
        moved.sort();
        let mut expected = there.clone();
        expected.sort();
        assert_eq!(moved, expected, "only the teams of the closed site-day change");

        // Publishing moves them (or cancels those with nowhere to go) and closes the site-day.
        let done = publish_proposal(&app, &by, p2.id, p2.version).await.expect("published");
        assert!(!done.moved.is_empty(), "some teams find a place elsewhere");
        let mut touched: Vec<String> = done.moved.iter().chain(&done.cancelled).cloned().collect();
        touched.sort();
        assert_eq!(touched, expected);
        let site_id = p2.live.site_ids[s];
        let mut tx = t.begin_write().await.expect("tx");
        let (capacity, held): (i64, i64) = {
            use sqlx::Row;
            let row = sqlx::query("SELECT CAST(COALESCE(SUM(capacity), 0) AS BIGINT), CAST(COALESCE(SUM(booked), 0) AS BIGINT) FROM slots WHERE site_id = $1 AND day = $2")
                .bind(site_id).bind(&date).fetch_one(&mut *tx).await.expect("slots");
            (row.try_get(0).expect("c"), row.try_get(1).expect("b"))
        };
        assert_eq!((capacity, held), (0, 0), "the site-day is closed and empty");
        // Every moved team is booked whole somewhere else; every cancelled team's people wait again.
        let kinds: Vec<String> = sqlx::query_scalar("SELECT kind FROM notifications WHERE kind <> 'team_booked'")
            .fetch_all(&mut *tx).await.expect("notices");
        drop(tx);
        for code in &done.moved {
            let old = vaxloop_store::teams::by_code(&t, code).await.expect("q").expect("team");
            if old.active > 0 {
                assert!(old.site_code != site || old.day != date, "{code} still there");
            }
        }
        assert_eq!(kinds.iter().filter(|k| *k == "team_cancelled").count(), done.cancelled.len());
        for code in &done.cancelled {
            let team = vaxloop_store::teams::by_code(&t, code).await.expect("q").expect("team");
            assert_eq!(team.active, 0);
        }
        // The books balance: no slot above capacity, no site-day above its doses.
        let mut tx = t.begin_write().await.expect("tx");
        let over: i64 = sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM slots WHERE booked > capacity")
            .fetch_one(&mut *tx).await.expect("q");
        assert_eq!(over, 0);
        let active: i64 = sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM appointments a JOIN slots s ON s.id = a.slot_id WHERE a.status = 'active' AND s.site_id = $1 AND s.day = $2")
            .bind(site_id).bind(&date).fetch_one(&mut *tx).await.expect("q");
        assert_eq!(active, 0);
            drop(tx);

        // A delivery falls short at another busy site-day: its teams beyond the doses left move.
        let p = propose(&app, &by, today, quick(50)).await.expect("proposal");
        assert!(p.booked_changes().is_empty(), "{:?}", p.booked_changes());
        let booked = p.live.booked_plan();
        let a = booked.assignments.iter().find(|a| (a.site.as_str(), a.day) != (site.as_str(), day)).expect("another team").clone();
        let date2 = p.live.instance.horizon.dates[a.day].clone();
        let s2 = p.live.site_day(&a.site, &date2).expect("site-day").0;
        let fixed = p.live.fixed[s2][a.day];
        let below = disrupt(&app, &by, p.id, p.version, today, Disruption::Doses { site: a.site.clone(), day: date2.clone(), doses: fixed - 1 }, quick(10)).await;
        assert!(fixed < 1 || matches!(below, Err(ProposalError::Disruption(DisruptionError::BelowFixed { .. }))), "{below:?}");
        let p = vaxloop_app::proposals::latest(&t).await.expect("q").expect("p");
        let cut = disrupt(&app, &by, p.id, p.version, today, Disruption::Doses { site: a.site.clone(), day: date2.clone(), doses: fixed }, quick(50))
            .await
            .expect("cut");
        assert!(cut.report.valid, "{:?}", cut.report.violations);
        assert!(cut.booked_changes().iter().any(|c| c.team == a.team), "its teams move");
        assert!(cut.booked_changes().iter().all(|c| c.before.as_ref().is_some_and(|b| b.0 == a.site && b.1 == a.day)));
        publish_proposal(&app, &by, cut.id, cut.version).await.expect("published");
        let mut tx = t.begin_write().await.expect("tx");
        let allocated: i64 = sqlx::query_scalar("SELECT doses_allocated FROM site_days WHERE site_id = $1 AND day = $2")
            .bind(p.live.site_ids[s2]).bind(&date2).fetch_one(&mut *tx).await.expect("q");
        assert_eq!(allocated, fixed, "the short delivery is recorded");
    }
}
