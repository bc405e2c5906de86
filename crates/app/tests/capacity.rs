//! Slot capacity from the simulator, calibrated by what a site's past days measured: a day of
//! journeys at one desk per station becomes the service times of the next day's slots.

use chrono::{Days, NaiveDate};
use vaxloop_app::slots::open_days;
use vaxloop_core::capacity::Capacity;
use vaxloop_store::{sites, slots};

vaxloop_store::backend_tests! {
    async fn measured_service_times_set_the_next_days_capacity(t) {
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).expect("date");
        let town = vaxloop_demo::generate(&vaxloop_demo::TownSpec { people: 600, seed: 11, today });
        vaxloop_demo::store(&t, &t.cipher, &town).await.expect("demo town");
        let site = sites::by_code(&t, "HCL").await.expect("q").expect("site");
        let mut tx = t.begin_write().await.expect("tx");
        let people: Vec<i64> = sqlx::query_scalar("SELECT id FROM people ORDER BY id LIMIT 40")
            .fetch_all(&mut *tx).await.expect("people");
        let users: Vec<i64> = sqlx::query_scalar("SELECT id FROM users ORDER BY id LIMIT 3")
            .fetch_all(&mut *tx).await.expect("users");
        // Two days from now, from 09:00 in Shanghai: everyone checked in at once; one screener
        // takes 3 minutes each, one vaccinator 2, and each is released 30.5 minutes after the dose.
        let day = today.checked_add_days(Days::new(2)).expect("day");
        let t0 = day.and_hms_opt(1, 0, 0).expect("time").and_utc().timestamp_millis();
        let minute = 60_000i64;
        let mut steps = Vec::new();
        for (i, p) in people.iter().enumerate() {
            let i = i as i64;
            steps.push((*p, "checked_in", t0, Some(users[0])));
            steps.push((*p, "screened", t0 + (i + 1) * 3 * minute, Some(users[1])));
            let dose = t0 + 200 * minute + i * 2 * minute;
            steps.push((*p, "vaccinated", dose, Some(users[2])));
            steps.push((*p, "observing", dose, None));
            steps.push((*p, "released", dose + 30 * minute + minute / 2, Some(users[0])));
        }
        for (person, state, at, actor) in &steps {
            sqlx::query("INSERT INTO journey_events (person_id, dose_number, state, at, site_id, actor_user_id) VALUES ($1, 1, $2, $3, $4, $5)")
                .bind(person).bind(*state).bind(at).bind(site.id).bind(*actor)
                .execute(&mut *tx).await.expect("step");
        }
        tx.commit().await.expect("commit");

        let measured = vaxloop_app::capacity::measured_before(&t, site.id, today.checked_add_days(Days::new(5))).await.expect("measured");
        assert_eq!(measured.screening.len(), 39, "the first screening's gap has no start");
        assert!(measured.screening.iter().all(|m| (m - 3.0).abs() < 1e-9));
        assert_eq!(measured.vaccination.len(), 39);
        assert_eq!(measured.observation.len(), 40);
        // The day itself and later are not read when opening it.
        let none = vaxloop_app::capacity::measured_before(&t, site.id, Some(day)).await.expect("measured");
        assert!(none.screening.is_empty() && none.observation.is_empty());

        let later = today.checked_add_days(Days::new(5)).expect("day");
        let created = open_days(&t, site.id, &[later], 30, 30).await.expect("open");
        assert!(created > 0);
        let opened = slots::of_site_day(&t, site.id, &later.to_string()).await.expect("slots");
        let first = &opened[0];
        let reason: Capacity = serde_json::from_str(&first.capacity_reason).expect("a capacity reason");
        let simulated = reason.simulated.expect("set by the simulator");
        assert_eq!(first.capacity, simulated.per_slot);
        assert!(simulated.per_slot > 0 && simulated.wait_p95 <= simulated.wait_p95_target);
        let names: Vec<&str> = simulated.measured.iter().map(|m| m.0.as_str()).collect();
        assert_eq!(names, ["screening", "vaccination", "observation"]);
        // A slower measured screening (3 minutes against the configured 2.5) gives fewer places
        // than the configured times did on a day opened before anything was measured.
        let before = slots::of_site_day(&t, site.id, &today.to_string()).await.expect("slots");
        let configured = before.iter().find(|s| s.starts_min == first.starts_min).expect("same slot");
        assert!(first.capacity < configured.capacity, "{} vs {}", first.capacity, configured.capacity);
    }
}
