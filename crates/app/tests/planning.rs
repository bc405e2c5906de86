//! The planner fed from live data: a demo town's waiting people become teams of their units,
//! its slots and doses the instance's capacities; the instance is valid, the solver's plan
//! passes the independent check, and every team maps back to its people and every grid slot to
//! real slots.

use chrono::NaiveDate;
use vaxloop_app::planning::{DAYS, live_instance, publish};
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

        // Everybody waiting is in exactly one team, of their own unit, no team above a bus load:
        // a unit's teams are consecutive runs of its waiting people, the green channel first.
        let waiting: Vec<(i64, i64, i64)> = sqlx::query_as(
            "SELECT p.unit_id, CAST(COUNT(*) AS BIGINT), \
                    CAST(SUM(CASE WHEN p.disabled <> 0 OR p.birth_date <= '1966-12-01' THEN 1 ELSE 0 END) AS BIGINT) \
             FROM journeys j JOIN people p ON p.id = j.person_id \
             WHERE j.dose_number = 1 AND j.state IN ('registered', 'no_show', 'cancelled') GROUP BY p.unit_id",
        )
        .fetch_all(&mut *tx)
        .await
        .expect("count");
        assert!(!waiting.is_empty());
        for (unit, people, green) in waiting {
            let teams: Vec<(&vaxloop_planner::instance::Team, &vaxloop_app::planning::LiveTeam)> =
                inst.teams.iter().zip(&live.teams).filter(|(_, lt)| lt.unit_id == unit && lt.booked.is_none()).collect();
            let mut next = 0;
            for (team, lt) in &teams {
                assert_eq!(lt.from, next, "{}: runs follow each other", team.id);
                assert!(lt.people.is_empty(), "a proposal names no waiting person");
                assert!(team.size >= 1 && team.size <= inst.buses.seats.max(45), "{} has {}", team.id, team.size);
                next += team.size as usize;
            }
            assert_eq!(next as i64, people, "unit {unit}: everybody waiting in one team");
            let in_green: u32 = teams.iter().map(|(t, _)| t.priority_people).sum();
            assert_eq!(i64::from(in_green), green, "unit {unit}: the green channel counted");
            let leading = teams.iter().take_while(|(t, _)| t.priority_people == t.size).count();
            assert!(teams.iter().skip(leading + 1).all(|(t, _)| t.priority_people == 0), "unit {unit}: the green channel first");
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

    async fn a_plan_publishes_as_coloured_teams_or_not_at_all(t) {
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).expect("date");
        let town = vaxloop_demo::generate(&vaxloop_demo::TownSpec { people: 800, seed: 4, today });
        vaxloop_demo::store(&t, &t.cipher, &town).await.expect("demo town");
        let tz = chrono_tz::Asia::Shanghai;
        let live = live_instance(&t, today).await.expect("live");
        let solved = solve(&live.instance, &Options { time_limit: std::time::Duration::from_secs(2), max_steps: Some(100), seed: 2 });
        assert!(solved.plan.assignments.len() >= 2, "a plan with teams to publish");

        // A slot of the last team fills in the meantime: nothing is published, that team is named.
        let last = solved.plan.assignments.last().expect("a team");
        let s = live.instance.sites.iter().position(|x| x.id == last.site).expect("site");
        let (slot_id, _) = live.slots[&(s, last.day, last.parts[0].slot)][0];
        let mut tx = t.begin_write().await.expect("tx");
        let before: i64 = sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM appointments").fetch_one(&mut *tx).await.expect("n");
        sqlx::query("UPDATE slots SET capacity = booked WHERE id = $1").bind(slot_id).execute(&mut *tx).await.expect("fill");
        tx.commit().await.expect("commit");
        let refused = match publish(&t, &t.cipher, tz, &live, &solved.plan, None).await.expect("publish") {
            Err(vaxloop_app::planning::Unpublished::Team(refused)) => refused,
            other => panic!("the filled slot refuses the plan: {other:?}"),
        };
        // The first team of the plan booked into that slot is the one named.
        let in_slot = solved.plan.assignments.iter().find(|a| {
            a.site == last.site && a.day == last.day && a.parts.iter().any(|p| p.slot == last.parts[0].slot)
        });
        assert_eq!(Some(refused.team.as_str()), in_slot.map(|a| a.team.as_str()));
        assert_eq!(refused.refusal.code(), "slot_full");
        let mut tx = t.begin_write().await.expect("tx");
        let after: i64 = sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM appointments").fetch_one(&mut *tx).await.expect("n");
        let teams: i64 = sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM teams").fetch_one(&mut *tx).await.expect("n");
        assert_eq!((after, teams), (before, 0), "nothing of the plan was booked");
        // The place comes back; the same plan now publishes whole.
        sqlx::query("UPDATE slots SET capacity = capacity + 1000 WHERE id = $1").bind(slot_id).execute(&mut *tx).await.expect("reopen");
        tx.commit().await.expect("commit");

        let published = publish(&t, &t.cipher, tz, &live, &solved.plan, None).await.expect("publish").expect("published").booked;
        assert_eq!(published.len(), solved.plan.assignments.len());
        let people: usize = published.iter().map(|(_, b)| b.appointments.len()).sum();
        assert_eq!(people as u64, solved.scheduled_people);
        // Colour labels: one of 20 colours and a number, unique per site-day.
        let mut labels = std::collections::HashSet::new();
        for (id, b) in &published {
            assert!((0..20).contains(&b.team.colour), "{id}");
            let a = solved.plan.assignments.iter().find(|a| &a.team == id).expect("planned");
            assert!(labels.insert((a.site.clone(), a.day, b.team.colour, b.team.number)), "label twice: {id}");
            let size: usize = b.slots.iter().map(|s| s.1).sum();
            assert_eq!(size as u32, a.parts.iter().map(|p| p.people).sum::<u32>());
        }
        let mut tx = t.begin_write().await.expect("tx");
        let waiting_booked: i64 = sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM journeys WHERE dose_number = 1 AND state = 'booked'",
        )
        .fetch_one(&mut *tx)
        .await
        .expect("n");
        assert!(waiting_booked >= people as i64);
    }

    async fn publishing_tells_each_unit_and_its_sms_goes_out_once_with_retries(t) {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use vaxloop_app::outbox::{Sender, deliver_due, pause_after};

        let today = NaiveDate::from_ymd_opt(2026, 12, 1).expect("date");
        let town = vaxloop_demo::generate(&vaxloop_demo::TownSpec { people: 800, seed: 5, today });
        vaxloop_demo::store(&t, &t.cipher, &town).await.expect("demo town");
        let live = live_instance(&t, today).await.expect("live");
        let solved = solve(&live.instance, &Options { time_limit: std::time::Duration::from_secs(2), max_steps: Some(50), seed: 3 });
        let published = publish(&t, &t.cipher, chrono_tz::Asia::Shanghai, &live, &solved.plan, None).await.expect("publish").expect("published").booked;
        assert!(!published.is_empty());

        // Each team's unit has a notice in its inbox, unread.
        let unit_of = |id: &str| live.teams[live.instance.teams.iter().position(|t| t.id == id).expect("team")].unit_id;
        let mut units: Vec<i64> = published.iter().map(|(id, _)| unit_of(id)).collect();
        units.sort_unstable();
        units.dedup();
        let mut notices = 0;
        for &u in &units {
            let inbox = vaxloop_store::notifications::of_unit(&t, u, 100).await.expect("inbox");
            assert!(inbox.iter().all(|n| n.kind == "team_booked" && !n.read));
            assert_eq!(vaxloop_store::notifications::unread(&t, u).await.expect("n"), inbox.len() as i64);
            notices += inbox.len();
        }
        assert_eq!(notices, published.len(), "one notice per team");
        let (waiting, delivered) = vaxloop_store::notifications::outbox_counts(&t).await.expect("counts");
        assert!(waiting > 0 && delivered == 0, "SMS queued for units with a contact phone: {waiting}");

        // A gateway that fails each message once, then takes it; two deliverers at once.
        struct Gateway { calls: AtomicUsize, seen: std::sync::Mutex<std::collections::HashMap<i64, usize>> }
        impl Sender for Gateway {
            async fn send(&self, id: i64, topic: &str, payload: &str) -> Result<(), String> {
                assert_eq!(topic, "sms");
                let sms: serde_json::Value = serde_json::from_str(payload).expect("json");
                assert!(sms["text"].as_str().expect("text").contains("批次"), "{payload}");
                self.calls.fetch_add(1, Ordering::SeqCst);
                let mut seen = self.seen.lock().expect("lock");
                let n = seen.entry(id).or_default();
                *n += 1;
                if *n == 1 { Err("503 busy".into()) } else { Ok(()) }
            }
        }
        let gateway = Gateway { calls: AtomicUsize::new(0), seen: Default::default() };
        let now = vaxloop_store::now_ms();
        let (a, b) = tokio::join!(deliver_due(&t, &t.cipher, &gateway, now, 1000), deliver_due(&t, &t.cipher, &gateway, now, 1000));
        let (a, b) = (a.expect("round"), b.expect("round"));
        assert_eq!(a.failed + b.failed, waiting as usize, "each message tried once, by one deliverer");
        assert_eq!(a.delivered + b.delivered, 0);
        // Not again before its pause is over.
        let early = deliver_due(&t, &t.cipher, &gateway, now + pause_after(0) - 1, 1000).await.expect("round");
        assert_eq!((early.delivered, early.failed), (0, 0));
        let later = deliver_due(&t, &t.cipher, &gateway, now + pause_after(0), 1000).await.expect("round");
        assert_eq!(later.delivered, waiting as usize);
        assert_eq!(vaxloop_store::notifications::outbox_counts(&t).await.expect("counts"), (0, waiting));
        let after = deliver_due(&t, &t.cipher, &gateway, now + 10 * pause_after(5), 1000).await.expect("round");
        assert_eq!((after.delivered, after.failed), (0, 0), "delivered messages are not sent again");
        assert_eq!(gateway.calls.load(Ordering::SeqCst), 2 * waiting as usize);

        // Reading the inbox marks it read, up to what was seen.
        let u = units[0];
        let newest = vaxloop_store::notifications::of_unit(&t, u, 1).await.expect("inbox")[0].id;
        let mut tx = t.begin_write().await.expect("tx");
        vaxloop_store::notifications::mark_read(&mut tx, u, newest, now).await.expect("read");
        tx.commit().await.expect("commit");
        assert_eq!(vaxloop_store::notifications::unread(&t, u).await.expect("n"), 0);
    }

    async fn units_are_planned_on_their_days_and_at_their_time_of_day(t) {
        use chrono::Datelike;
        use vaxloop_store::planning::{UnitPrefs, set_prefs};
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).expect("date");
        let town = vaxloop_demo::generate(&vaxloop_demo::TownSpec { people: 800, seed: 9, today });
        vaxloop_demo::store(&t, &t.cipher, &town).await.expect("demo town");
        let before = live_instance(&t, today).await.expect("live");
        let mut units: Vec<(String, i64)> = before.instance.teams.iter().zip(&before.teams).map(|(x, lt)| (x.unit.clone(), lt.unit_id)).collect();
        units.dedup();
        assert!(units.len() >= 2);
        let (only_day2, u1) = units[0].clone();
        let (never, u2) = units[1].clone();
        // The second planning day's weekday, afternoons only; and a weekday outside the horizon.
        let day2 = today.checked_add_days(chrono::Days::new(2)).expect("day");
        let digit = |d: NaiveDate| char::from_digit(d.weekday().number_from_monday(), 10).expect("digit");
        let outside: String = (1..=7u32).filter_map(|d| char::from_digit(d, 10))
            .filter(|c| (1..=3).all(|k| *c != digit(today.checked_add_days(chrono::Days::new(k)).expect("d"))))
            .take(1)
            .collect();
        let mut tx = t.begin_write().await.expect("tx");
        set_prefs(&mut tx, u1, &UnitPrefs { weekdays: digit(day2).to_string(), window: "pm".into(), hard_window: true }, Some(1), 0).await.expect("prefs");
        set_prefs(&mut tx, u2, &UnitPrefs { weekdays: outside, window: "any".into(), hard_window: false }, Some(1), 0).await.expect("prefs");
        tx.commit().await.expect("commit");

        let live = live_instance(&t, today).await.expect("live");
        live.instance.validate().expect("valid");
        assert!(live.instance.teams.iter().all(|x| x.unit != never), "a unit with no day in the plan waits");
        assert_eq!(live.deferred.iter().map(|d| d.0.as_str()).collect::<Vec<_>>(), [never.as_str()]);
        let mine: Vec<_> = live.instance.teams.iter().filter(|x| x.unit == only_day2).collect();
        assert!(!mine.is_empty());
        for team in &mine {
            assert_eq!(team.days, [1]);
            assert_eq!(team.window, vaxloop_planner::Window::Pm);
            assert!(team.hard_window);
        }
        let solved = solve(&live.instance, &Options { time_limit: std::time::Duration::from_secs(2), max_steps: Some(100), seed: 4 });
        assert!(check(&live.instance, &solved.plan).valid);
        for a in solved.plan.assignments.iter().filter(|a| mine.iter().any(|m| m.id == a.team)) {
            assert_eq!(a.day, 1);
            assert!(live.instance.in_window(a.parts[0].slot, vaxloop_planner::Window::Pm));
        }
    }

    async fn people_whose_team_was_cancelled_are_planned_again(t) {
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).expect("date");
        let town = vaxloop_demo::generate(&vaxloop_demo::TownSpec { people: 800, seed: 10, today });
        vaxloop_demo::store(&t, &t.cipher, &town).await.expect("demo town");
        let live = live_instance(&t, today).await.expect("live");
        let solved = solve(&live.instance, &Options { time_limit: std::time::Duration::from_secs(2), max_steps: Some(20), seed: 5 });
        let published = publish(&t, &t.cipher, chrono_tz::Asia::Shanghai, &live, &solved.plan, None).await.expect("publish").expect("published").booked;
        let (_, first) = &published[0];
        let people: Vec<i64> = vaxloop_store::teams::members(&t, first.team.id).await.expect("members").iter().map(|m| m.1).collect();
        let unit = live.teams[live.instance.teams.iter().position(|t| t.id == published[0].0).expect("team")].unit_id;
        let waiting = |live: vaxloop_app::planning::Live| {
            let t = &t;
            async move {
                let counted: usize = (live.instance.teams.iter().zip(&live.teams))
                    .filter(|(_, lt)| lt.unit_id == unit && lt.booked.is_none())
                    .map(|(team, _)| team.size as usize)
                    .sum();
                let named = vaxloop_store::planning::waiting_people(t, unit, &live.elderly, usize::MAX).await.expect("people");
                assert_eq!(named.len(), counted, "the teams count whoever waits");
                named
            }
        };
        let after = waiting(live_instance(&t, today).await.expect("live")).await;
        assert!(people.iter().all(|p| !after.contains(p)), "booked people do not wait");
        vaxloop_app::booking::engine::cancel_team(&t, first.team.id).await.expect("cancel");
        let again = waiting(live_instance(&t, today).await.expect("live")).await;
        assert!(people.iter().all(|p| again.contains(p)), "nobody falls out of the loop: the cancelled wait again");
    }

    async fn publishing_names_the_waiting_people_then_and_books_nobody_twice(t) {
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).expect("date");
        let town = vaxloop_demo::generate(&vaxloop_demo::TownSpec { people: 800, seed: 6, today });
        vaxloop_demo::store(&t, &t.cipher, &town).await.expect("demo town");
        let live = live_instance(&t, today).await.expect("live");
        let solved = solve(&live.instance, &Options { time_limit: std::time::Duration::from_secs(2), max_steps: Some(100), seed: 4 });
        // A unit whose teams the plan places all, and the first of its people.
        let placed = |id: &str| solved.plan.assignments.iter().any(|a| a.team == id);
        let teams = || live.instance.teams.iter().zip(&live.teams).filter(|(_, lt)| lt.booked.is_none());
        let (_, lt) = teams()
            .find(|(_, lt)| teams().filter(|(_, o)| o.unit_id == lt.unit_id).all(|(t, _)| placed(&t.id)))
            .expect("a unit placed whole");
        let planned: u32 = teams().filter(|(_, o)| o.unit_id == lt.unit_id).map(|(t, _)| t.size).sum();
        let first = vaxloop_store::planning::waiting_people(&t, lt.unit_id, &live.elderly, 1).await.expect("people")[0];
        // Meanwhile that person declines.
        let mut tx = t.begin_write().await.expect("tx");
        sqlx::query("UPDATE journeys SET state = 'declined' WHERE person_id = $1 AND dose_number = 1").bind(first).execute(&mut *tx).await.expect("decline");
        tx.commit().await.expect("commit");

        let published = publish(&t, &t.cipher, chrono_tz::Asia::Shanghai, &live, &solved.plan, None).await.expect("publish").expect("published");
        assert_eq!(published.gone, 1, "the one who declined is counted out");
        let booked: usize = published.booked.iter().map(|(_, b)| b.appointments.len()).sum();
        assert_eq!(booked as u64, solved.scheduled_people - 1);
        let unit_of = |id: &str| live.teams[live.instance.teams.iter().position(|t| t.id == id).expect("team")].unit_id;
        let ours: usize = published.booked.iter().filter(|(id, _)| unit_of(id) == lt.unit_id).map(|(_, b)| b.appointments.len()).sum();
        assert_eq!(ours as u32, planned - 1, "the unit's teams book one fewer than planned");
        let mut tx = t.begin_write().await.expect("tx");
        let theirs: i64 = sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM appointments WHERE person_id = $1").bind(first).fetch_one(&mut *tx).await.expect("n");
        assert_eq!(theirs, 0, "the one who declined is not booked");
        // Every appointment of a published team is one of its unit's people, each booked once.
        let wrong: i64 = sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM appointments a JOIN teams tm ON tm.id = a.team_id JOIN people p ON p.id = a.person_id WHERE p.unit_id <> tm.unit_id",
        ).fetch_one(&mut *tx).await.expect("n");
        assert_eq!(wrong, 0);
        let twice: i64 = sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM (SELECT person_id FROM appointments WHERE status = 'active' GROUP BY person_id, dose_number HAVING COUNT(*) > 1) x",
        ).fetch_one(&mut *tx).await.expect("n");
        assert_eq!(twice, 0);
    }
}
