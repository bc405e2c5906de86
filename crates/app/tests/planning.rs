//! The planner fed from live data: a demo town's waiting people become teams of their units,
//! its slots and doses the instance's capacities; the instance is valid, the solver's plan
//! passes the independent check, and every team maps back to its people and every grid slot to
//! real slots.

use chrono::NaiveDate;
use vaxloop_app::planning::{DAYS, live_instance};
use vaxloop_planner::{Options, check, solve};

vaxloop_store::backend_tests! {
    async fn the_desk_plans_the_next_three_days_from_live_data(t) {
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).expect("date");
        let town = vaxloop_demo::generate(&vaxloop_demo::TownSpec { people: 800, seed: 3, today });
        vaxloop_demo::store(&t, &t.cipher, &town).await.expect("demo town");

        let live = live_instance(&t, today).await.expect("live");
        // Read back through a transaction (the tests' way into the database).
        let mut tx = t.begin_write().await.expect("tx");
        let inst = &live.instance;
        inst.validate().expect("a valid instance");
        assert_eq!(inst.horizon.dates, ["2026-12-02", "2026-12-03", "2026-12-04"]);
        assert_eq!(inst.days(), DAYS as usize);
        assert!(!inst.sites.is_empty() && !inst.teams.is_empty());
        assert_eq!(live.teams.len(), inst.teams.len());
        assert_eq!(live.site_ids.len(), inst.sites.len());

        // Everybody waiting is in exactly one team, of their own unit, no team above a bus load.
        let waiting: i64 = sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM journeys WHERE dose_number = 1 AND state = 'registered'",
        )
        .fetch_one(&mut *tx)
        .await
        .expect("count");
        let mut everyone: Vec<i64> = live.teams.iter().flat_map(|lt| lt.people.iter().copied()).collect();
        assert_eq!(everyone.len() as i64, waiting);
        everyone.sort_unstable();
        everyone.dedup();
        assert_eq!(everyone.len() as i64, waiting, "nobody in two teams");
        for (team, lt) in inst.teams.iter().zip(&live.teams) {
            assert_eq!(team.size as usize, lt.people.len());
            assert!(team.size <= inst.buses.seats.max(45), "{} has {}", team.id, team.size);
            let unit_of: Vec<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT DISTINCT unit_id FROM people WHERE id IN ({})",
                lt.people.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
            )))
            .fetch_all(&mut *tx)
            .await
            .expect("units");
            assert_eq!(unit_of, [lt.unit_id]);
        }

        // The capacities are the slots' free places and the site-days' free doses.
        let free: i64 = sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(capacity - booked), 0) AS BIGINT) FROM slots \
             WHERE day IN ('2026-12-02', '2026-12-03', '2026-12-04')",
        )
        .fetch_one(&mut *tx)
        .await
        .expect("free");
        let in_grid: i64 = inst.sites.iter().flat_map(|s| s.slot_capacity.iter().flatten()).map(|&c| i64::from(c)).sum();
        assert_eq!(in_grid, free, "every free place is on the grid");
        let mapped: i64 = live.slots.values().flatten().map(|s| s.1).sum();
        assert_eq!(mapped, free, "and maps back to its slot");

        drop(tx);

        // Plan it: the plan passes the independent check and places people.
        let solved = solve(inst, &Options { time_limit: std::time::Duration::from_secs(2), max_steps: Some(200), seed: 1 });
        let report = check(inst, &solved.plan);
        assert!(report.valid, "{:?}", &report.violations[..report.violations.len().min(5)]);
        assert!(solved.scheduled_people > 0);
    }
}
