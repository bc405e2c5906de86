//! The demo town's days so far, on both backends: yesterday booked, given and reconciled (its
//! site-days closed, its ledger balanced, nobody booked and unaccounted for); today, at 10:40,
//! people at every stage — checked in and waiting, in observation, gone home — and later slots
//! booked; and every dose given is on record once, with its ledger row.

use chrono::NaiveDate;
use vaxloop_demo::{TownSpec, generate, play, store};
use vaxloop_store::{reconcile, sites, vaccines};

async fn count(t: &vaxloop_store::testing::TestDb, sql: &str) -> i64 {
    let mut tx = t.begin_write().await.expect("tx");
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(&mut *tx)
        .await
        .expect("count")
}

vaxloop_store::backend_tests! {
    async fn yesterday_is_reconciled_and_today_stands_where_the_clock_puts_it(t) {
        let today = NaiveDate::from_ymd_opt(2026, 12, 2).expect("date");
        let town = generate(&TownSpec { people: 3000, seed: 7, today });
        store(&t, &t.cipher, &town).await.expect("town");
        let now = today.and_hms_opt(10, 40, 0).expect("time");
        let story = play(&t, chrono_tz::Asia::Shanghai, today, now, 7).await.expect("story");
        let y = story.yesterday;
        assert!(y.booked > 100 && y.vaccinated > 0 && y.deferred > 0, "{y:?}");
        assert_eq!(y.observing, 0, "yesterday everyone went home");
        assert_eq!(y.vaccinated, y.released);
        assert!(y.checked_in < y.booked, "some never came");
        let yesterday = "2026-12-01";
        let mut closed = 0;
        for site in sites::all(&t).await.expect("sites") {
            if reconcile::closed(&t, site.id, yesterday).await.expect("closed").is_some() {
                closed += 1;
            }
        }
        assert_eq!(closed, y.closed as usize);
        assert!(closed > 0);
        let waiting_yesterday = count(&t, &format!(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM appointments a JOIN slots s ON s.id = a.slot_id WHERE s.day = '{yesterday}' AND a.status = 'active'"
        )).await;
        assert_eq!(waiting_yesterday, 0, "every booking of yesterday was given, deferred or a no-show");
        let no_shows = count(&t, &format!(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM appointments a JOIN slots s ON s.id = a.slot_id WHERE s.day = '{yesterday}' AND a.status = 'no_show'"
        )).await;
        assert_eq!(no_shows as u64, y.booked - y.checked_in, "the absent are no-shows");

        let d = story.today;
        assert!(d.checked_in > d.vaccinated + d.deferred, "some wait at a station: {d:?}");
        assert!(d.observing > 0 && d.released > 0, "{d:?}");
        assert!(d.booked > d.checked_in, "later slots are booked");
        assert_eq!(d.closed, 0, "today is still open");

        for b in vaccines::ledger_balances(&t).await.expect("balances") {
            assert_eq!(b.ledger_sum, b.remaining, "every balance equals its ledger");
        }
        let doses = count(&t, "SELECT CAST(COUNT(*) AS BIGINT) FROM dose_records").await;
        assert_eq!(doses as u64, y.vaccinated + d.vaccinated);
        let vaccinated = count(&t, "SELECT CAST(COUNT(*) AS BIGINT) FROM journeys WHERE state IN ('vaccinated', 'observing', 'released')").await;
        assert_eq!(vaccinated as u64, y.vaccinated + d.vaccinated, "each dose moved its journey");
        let observing = count(&t, "SELECT CAST(COUNT(*) AS BIGINT) FROM visits WHERE stage = 'observing'").await;
        assert_eq!(observing as u64, d.observing);
    }
}
