//! Booking rules above the store: later doses wait for the minimum interval, sites serve their
//! listed units, walk-ins count like bookings, teams fill consecutive slots or nobody is booked,
//! and a move keeps the old place unless the new one is granted.

use chrono::{Days, NaiveDate};
use vaxloop_app::booking::engine::{BookRefusal, Request, book, book_team, reschedule};
use vaxloop_core::{ResidentId, SiteKind, Source, UnitKind, WorkGroupKind, ZoneKind};
use vaxloop_store::org::{NewUnit, NewWorkGroup};
use vaxloop_store::people::NewPerson;
use vaxloop_store::sites::{NewSite, NewZone};
use vaxloop_store::vaccines::{self, NewVaccine};
use vaxloop_store::{journeys, now_ms, org, people, sites, slots};

/// One unit of `people` registered people, one site open every day 08:00–`closes`, cut on
/// 1 December 2026 (a Tuesday) into 30-minute slots of `per_slot` places, with `doses` allocated.
struct World {
    unit: i64,
    slots: Vec<slots::Slot>,
    people: Vec<i64>,
}

const DAY: &str = "2026-12-01";

async fn world(
    t: &vaxloop_store::testing::TestDb,
    people: u16,
    closes: i64,
    per_slot: i64,
    doses: i64,
) -> World {
    let now = now_ms();
    let mut tx = t.begin_write().await.expect("tx");
    let g = org::insert_work_group(
        &mut tx,
        &NewWorkGroup {
            code: "G1".into(),
            name: "组".into(),
            kind: WorkGroupKind::Street,
            leader_name: None,
        },
        now,
    )
    .await
    .expect("g");
    let u = org::insert_unit(
        &mut tx,
        &t.cipher,
        &NewUnit {
            code: "U1".into(),
            work_group_id: g,
            name: "单位".into(),
            kind: UnitKind::Shop,
            address: String::new(),
            lat: None,
            lon: None,
            target_headcount: 20,
            contact_name: None,
            contact_phone: None,
            reg_token: "t".into(),
        },
        now,
    )
    .await
    .expect("u");
    let site = sites::insert(
        &mut tx,
        &NewSite {
            code: "S1".into(),
            name: "点".into(),
            kind: SiteKind::Fixed,
            address: String::new(),
            lat: None,
            lon: None,
            open_from: None,
            open_until: None,
            hours: (0..7).map(|d| (d, 480, closes)).collect(),
            zones: vec![NewZone {
                kind: ZoneKind::Vaccination,
                space: 10,
                desks_am: 2,
                desks_pm: 2,
                mean_service_seconds: 60,
            }],
        },
        now,
    )
    .await
    .expect("site");
    vaccines::insert_vaccine(
        &mut tx,
        &NewVaccine {
            code: "BIBP".into(),
            name: "灭活".into(),
            manufacturer: "北京生物".into(),
            doses_in_series: 2,
            min_interval_days: 21,
            min_age: 3,
            max_age: None,
            doses_per_vial: 1,
            open_vial_minutes: 0,
            observation_minutes: 30,
        },
    )
    .await
    .expect("vaccine");
    let list: Vec<NewPerson> = (0..people)
        .map(|i| NewPerson {
            unit_id: u,
            name: format!("人{i}"),
            resident_id: ResidentId::compose(
                310112,
                NaiveDate::from_ymd_opt(1970, 1, 1).expect("d"),
                i,
            ),
            phone: None,
            disabled: false,
            consent: None,
            source: Source::Import,
            confirmed: true,
            note: None,
        })
        .collect();
    people::insert_many(&mut tx, &t.cipher, &list, now)
        .await
        .expect("people");
    journeys::open_for_registered(&mut tx, None, now)
        .await
        .expect("journeys");
    slots::generate(&mut tx, site, DAY, 1, 30, |_| (per_slot, "test".into()))
        .await
        .expect("slots");
    vaccines::allocate(&mut tx, site, DAY, doses)
        .await
        .expect("allocate");
    tx.commit().await.expect("commit");
    World {
        unit: u,
        slots: slots::of_site_day(t, site, DAY).await.expect("slots"),
        people: journeys::waiting_of_unit(t, u, 1, 1000)
            .await
            .expect("waiting"),
    }
}

vaxloop_store::backend_tests! {
    async fn a_second_dose_waits_for_the_minimum_interval(t) {
        let tz = chrono_tz::Asia::Shanghai;
        let first_dose_day = NaiveDate::from_ymd_opt(2026, 11, 2).expect("date");
        let now = now_ms();
        let mut tx = t.begin_write().await.expect("tx");
        let g = org::insert_work_group(&mut tx, &NewWorkGroup { code: "G1".into(), name: "组".into(), kind: WorkGroupKind::Street, leader_name: None }, now).await.expect("g");
        let u = org::insert_unit(&mut tx, &t.cipher, &NewUnit { code: "U1".into(), work_group_id: g, name: "单位".into(), kind: UnitKind::Shop, address: String::new(), lat: None, lon: None, target_headcount: 2, contact_name: None, contact_phone: None, reg_token: "t".into() }, now).await.expect("u");
        let site = sites::insert(&mut tx, &NewSite { code: "S1".into(), name: "点".into(), kind: SiteKind::Fixed, address: String::new(), lat: None, lon: None, open_from: None, open_until: None, hours: (0..7).map(|d| (d, 480, 540)).collect(), zones: vec![NewZone { kind: ZoneKind::Vaccination, space: 10, desks_am: 2, desks_pm: 2, mean_service_seconds: 60 }] }, now).await.expect("site");
        vaccines::insert_vaccine(&mut tx, &NewVaccine { code: "BIBP".into(), name: "灭活".into(), manufacturer: "北京生物".into(), doses_in_series: 2, min_interval_days: 21, min_age: 3, max_age: None, doses_per_vial: 1, open_vial_minutes: 0, observation_minutes: 30 }).await.expect("vaccine");
        let list: Vec<NewPerson> = (0..2u16).map(|i| NewPerson { unit_id: u, name: format!("人{i}"), resident_id: ResidentId::compose(310112, NaiveDate::from_ymd_opt(1970, 1, 1).expect("d"), i), phone: None, disabled: false, consent: None, source: Source::Import, confirmed: true, note: None }).collect();
        people::insert_many(&mut tx, &t.cipher, &list, now).await.expect("people");
        journeys::open_for_registered(&mut tx, None, now).await.expect("journeys");
        let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM people ORDER BY id").fetch_all(&mut *tx).await.expect("ids");
        // The first person had dose 1 on 2 November at 10:00 Shanghai time.
        let given = first_dose_day.and_hms_opt(2, 0, 0).expect("t").and_utc().timestamp_millis();
        sqlx::query("INSERT INTO journey_events (person_id, dose_number, state, at) VALUES ($1, 1, 'vaccinated', $2)").bind(ids[0]).bind(given).execute(&mut *tx).await.expect("event");
        let mut slot_for = Vec::new();
        for offset in [20u64, 21] {
            let day = first_dose_day.checked_add_days(Days::new(offset)).expect("day");
            slots::generate(&mut tx, site, &day.to_string(), 0, 30, |_| (5, "test".into())).await.expect("slots");
            vaccines::allocate(&mut tx, site, &day.to_string(), 10).await.expect("allocate");
            slot_for.push(day);
        }
        tx.commit().await.expect("commit");
        let slot_on = |day: NaiveDate| {
            let db = t.db.clone();
            async move {
                let all = slots::of_site_day(&db, site, &day.to_string()).await.expect("slots");
                all.into_iter().next().map(|s| s.id)
            }
        };
        let day20 = slot_on(slot_for[0]).await;
        let day21 = slot_on(slot_for[1]).await;
        // Weekday filtering may leave a day without slots; the site is open every day here.
        let (day20, day21) = (day20.expect("slot on day 20"), day21.expect("slot on day 21"));
        let too_early = book(&t, tz, &Request { slot_id: day20, people: &[ids[0]], dose_number: 2, team_id: None, walk_in: false }).await.expect("q");
        assert_eq!(too_early, Err(BookRefusal::TooEarly { person_id: ids[0], earliest: slot_for[1] }));
        let due = book(&t, tz, &Request { slot_id: day21, people: &[ids[0]], dose_number: 2, team_id: None, walk_in: false }).await.expect("q");
        assert!(due.is_ok(), "{due:?}");
        let never = book(&t, tz, &Request { slot_id: day21, people: &[ids[1]], dose_number: 2, team_id: None, walk_in: false }).await.expect("q");
        assert_eq!(never, Err(BookRefusal::NoPriorDose { person_id: ids[1] }));
        // The site now serves another unit only: a booking is refused, a walk-in is the site's call.
        let mut tx = t.begin_write().await.expect("tx");
        let u2 = org::insert_unit(&mut tx, &t.cipher, &NewUnit { code: "U2".into(), work_group_id: g, name: "另一单位".into(), kind: UnitKind::Shop, address: String::new(), lat: None, lon: None, target_headcount: 2, contact_name: None, contact_phone: None, reg_token: "t2".into() }, now).await.expect("u2");
        tx.commit().await.expect("commit");
        let mut tx = t.begin_write().await.expect("tx");
        sites::serve_unit(&mut tx, site, u2, now).await.expect("serve");
        tx.commit().await.expect("commit");
        let elsewhere = book(&t, tz, &Request { slot_id: day21, people: &[ids[1]], dose_number: 1, team_id: None, walk_in: false }).await.expect("q");
        assert_eq!(elsewhere, Err(BookRefusal::SiteNotServing { person_id: ids[1] }));
        let walk_in = book(&t, tz, &Request { slot_id: day21, people: &[ids[1]], dose_number: 1, team_id: None, walk_in: true }).await.expect("q");
        assert!(walk_in.is_ok(), "a walk-in counts against the slot like a booking");
        let counts = vaxloop_store::booking::slot_counts(&t).await.expect("counts");
        assert_eq!(counts.iter().find(|c| c.0 == day21).map(|c| c.2), Some(2));
    }

    async fn a_team_larger_than_a_slot_fills_consecutive_slots_or_nobody_is_booked(t) {
        let tz = chrono_tz::Asia::Shanghai;
        // 08:00–10:00 in 30-minute slots of 5 places; 100 doses.
        let World { unit: u, slots: all, people: ids, .. } = world(&t, 20, 600, 5, 100).await;
        assert_eq!(all.len(), 4);
        assert_eq!(ids.len(), 20);
        // Someone takes 3 places of the second slot: a team of 8 from the first needs 5 + 3, so
        // it goes into slots one, two (2 free) and three.
        let single = book(&t, tz, &Request { slot_id: all[1].id, people: &ids[0..3], dose_number: 1, team_id: None, walk_in: false }).await.expect("q");
        assert!(single.is_ok());
        let team = book_team(&t, tz, u, all[0].id, &ids[3..11], 1).await.expect("q").expect("booked");
        assert_eq!(team.slots, vec![(all[0].id, 5), (all[1].id, 2), (all[2].id, 1)]);
        assert_eq!(team.appointments.len(), 8);
        assert_eq!(team.team.number, 1);
        // The other nine fill the 4 + 5 places left from the third slot on.
        let rest = book_team(&t, tz, u, all[2].id, &ids[11..20], 1).await.expect("q");
        assert_eq!(rest.map(|r| (r.team.number, r.slots.len())), Ok((2, 2)));
        let counts = vaxloop_store::booking::slot_counts(&t).await.expect("counts");
        assert!(counts.iter().all(|c| c.2 == c.3 && c.2 <= c.1), "booked counts match appointments and capacity");
        assert_eq!(journeys::waiting_of_unit(&t, u, 1, 100).await.expect("waiting").len(), 0);
    }

    async fn a_team_that_does_not_fit_books_nobody(t) {
        let tz = chrono_tz::Asia::Shanghai;
        // Two slots of 5: a team of 11 does not fit; nor does a team of 10 when the doses are 8.
        let World { unit: u, slots: all, people: ids, .. } = world(&t, 12, 540, 5, 8).await;
        let first = all[0].id;
        let eleven = book_team(&t, tz, u, first, &ids[0..11], 1).await.expect("q");
        assert!(matches!(eleven, Err(BookRefusal::Store(vaxloop_store::booking::Refusal::SlotFull { free: 10, .. }))), "{eleven:?}");
        let ten = book_team(&t, tz, u, first, &ids[0..10], 1).await.expect("q");
        assert!(matches!(ten, Err(BookRefusal::Store(vaxloop_store::booking::Refusal::NoDoses { .. }))), "{ten:?}");
        let counts = vaxloop_store::booking::slot_counts(&t).await.expect("counts");
        assert!(counts.iter().all(|c| c.2 == 0 && c.3 == 0), "no half-booked team: {counts:?}");
        assert_eq!(journeys::waiting_of_unit(&t, u, 1, 100).await.expect("waiting").len(), 12);
    }

    async fn two_people_moving_into_the_last_place_leave_one_winner_and_one_unchanged(t) {
        let tz = chrono_tz::Asia::Shanghai;
        // Two slots of 3; the second will have one place left.
        let World { slots: all, people: ids, .. } = world(&t, 6, 540, 3, 20).await;
        let mut first = Vec::new();
        for &p in &ids[0..2] {
            let got = book(&t, tz, &Request { slot_id: all[0].id, people: &[p], dose_number: 1, team_id: None, walk_in: false }).await.expect("q").expect("booked");
            first.push(got[0]);
        }
        for &p in &ids[2..4] {
            book(&t, tz, &Request { slot_id: all[1].id, people: &[p], dose_number: 1, team_id: None, walk_in: false }).await.expect("q").expect("booked");
        }
        let (db1, db2) = (t.db.clone(), t.db.clone());
        let (a, b) = (first[0], first[1]);
        let target = all[1].id;
        let (ra, rb) = tokio::join!(
            tokio::spawn(async move { reschedule(&db1, tz, a, target).await }),
            tokio::spawn(async move { reschedule(&db2, tz, b, target).await }),
        );
        let results = [ra.expect("join").expect("q"), rb.expect("join").expect("q")];
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
        assert!(results.iter().any(|r| matches!(r, Err(BookRefusal::Store(vaxloop_store::booking::Refusal::SlotFull { .. })))));
        let counts = vaxloop_store::booking::slot_counts(&t).await.expect("counts");
        assert_eq!(counts.iter().map(|c| (c.2, c.3)).collect::<Vec<_>>(), vec![(1, 1), (3, 3)], "one moved, one kept their place");
        for &p in &ids[0..2] {
            assert_eq!(vaxloop_store::booking::active_of_person(&t, p).await.expect("q").len(), 1, "nobody lost");
        }
    }

    async fn moves_through_the_group_commit_writer_leave_one_winner_and_one_unchanged(t) {
        use vaxloop_app::commit::Written;
        let tz = chrono_tz::Asia::Shanghai;
        // As above, the two moves in one batch of the writer the resident's page books through.
        let World { slots: all, people: ids, .. } = world(&t, 6, 540, 3, 20).await;
        let mut first = Vec::new();
        for &p in &ids[0..2] {
            let got = book(&t, tz, &Request { slot_id: all[0].id, people: &[p], dose_number: 1, team_id: None, walk_in: false }).await.expect("q").expect("booked");
            first.push(got[0]);
        }
        for &p in &ids[2..4] {
            book(&t, tz, &Request { slot_id: all[1].id, people: &[p], dose_number: 1, team_id: None, walk_in: false }).await.expect("q").expect("booked");
        }
        let app = vaxloop_app::App::new(t.db.clone(), t.cipher.clone(), tz);
        let (site, day) = vaxloop_store::slots::home(&t, all[0].id).await.expect("q").expect("home");
        let target = all[1].id;
        let (pa, pb) = ([ids[0]], [ids[1]]);
        let ra = Request { slot_id: target, people: &pa, dose_number: 1, team_id: None, walk_in: false };
        let rb = Request { slot_id: target, people: &pb, dose_number: 1, team_id: None, walk_in: false };
        let ca = vaxloop_app::booking::engine::check_move(&t, tz, &ra).await.expect("q").expect("checked");
        let cb = vaxloop_app::booking::engine::check_move(&t, tz, &rb).await.expect("q").expect("checked");
        let (wa, wb) = tokio::join!(
            app.bookings().move_to(vaxloop_app::commit::Order::of(&ra, &ca, None), (first[0], site, day.clone())),
            app.bookings().move_to(vaxloop_app::commit::Order::of(&rb, &cb, None), (first[1], site, day.clone())),
        );
        let results = [wa.expect("writer"), wb.expect("writer")];
        assert_eq!(results.iter().filter(|w| matches!(w, Written::Booked { .. })).count(), 1, "{results:?}");
        assert!(results.iter().any(|w| matches!(w, Written::Refused(BookRefusal::Store(vaxloop_store::booking::Refusal::SlotFull { .. })))));
        let counts = vaxloop_store::booking::slot_counts(&t).await.expect("counts");
        assert_eq!(counts.iter().map(|c| (c.2, c.3)).collect::<Vec<_>>(), vec![(1, 1), (3, 3)], "one moved, one kept their place");
        for &p in &ids[0..2] {
            assert_eq!(vaxloop_store::booking::active_of_person(&t, p).await.expect("q").len(), 1, "nobody lost");
        }
        // Moving an appointment that is no longer active changes nothing.
        let again = app.bookings().move_to(vaxloop_app::commit::Order::of(&ra, &ca, None), (first[0], site, day.clone())).await.expect("writer");
        let changed_nothing = matches!(again, Written::Gone | Written::Refused(_));
        assert!(changed_nothing, "{again:?}");
    }

    async fn a_slot_opened_after_its_day_was_looked_at_is_found_at_once(t) {
        let World { slots: all, .. } = world(&t, 1, 510, 10, 100).await;
        let days = vaxloop_app::days::DayCache::new();
        let first = days.of_slot(&t, all[0].id).await.expect("q").expect("the day's view");
        assert_eq!(first.slots.len(), 1);
        // A later slot opens on the same day while that view is still fresh.
        let mut tx = t.begin_write().await.expect("tx");
        let later: i64 = sqlx::query_scalar(
            "INSERT INTO slots (site_id, day, starts_min, ends_min, capacity, booked, capacity_reason) \
             VALUES ($1, $2, 510, 540, 10, 0, 'test') RETURNING id",
        )
        .bind(all[0].site_id).bind(DAY)
        .fetch_one(&mut *tx).await.expect("open a slot");
        tx.commit().await.expect("commit");
        let view = days.of_slot(&t, later).await.expect("q").expect("the new slot is found");
        assert_eq!(view.slots.len(), 2);
        assert!(days.of_slot(&t, 987_654).await.expect("q").is_none(), "a slot that does not exist is not");
    }

    async fn group_commit_keeps_each_booking_whole_and_the_slot_within_capacity(t) {
        // One slot of 10 and 60 people queued at the writer at once: their bookings share
        // commits, the refused ones are undone alone, and exactly ten stand.
        let World { slots: all, people: ids, .. } = world(&t, 60, 510, 10, 100).await;
        let writer = vaxloop_app::commit::Writer::new(t.db.clone(), vaxloop_app::days::DayCache::new());
        let vaccine = vaxloop_app::booking::default_vaccine(&t).await.expect("q").expect("vaccine");
        let slot = all[0].id;
        let mut tasks = tokio::task::JoinSet::new();
        for &p in &ids {
            let w = writer.clone();
            tasks.spawn(async move {
                let req = Request { slot_id: slot, people: &[p], dose_number: 1, team_id: None, walk_in: false };
                w.book(vaxloop_app::commit::Order::of(&req, &vaxloop_app::booking::Checked { vaccine_id: vaccine, site_id: 1, day: DAY.into() }, None), None, |_, _| String::new()).await
            });
        }
        let mut booked = 0;
        while let Some(done) = tasks.join_next().await {
            match done.expect("join").expect("written") {
                vaxloop_app::commit::Written::Booked { appointments, .. } => booked += appointments.len(),
                vaxloop_app::commit::Written::Refused(r) => assert!(matches!(r, BookRefusal::Store(vaxloop_store::booking::Refusal::SlotFull { .. })), "{r:?}"),
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(booked, 10);
        let counts = vaxloop_store::booking::slot_counts(&t).await.expect("counts");
        assert_eq!(counts.iter().find(|c| c.0 == slot).map(|c| (c.2, c.3)), Some((10, 10)), "counter and rows agree");
        let in_state: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM journeys WHERE state = 'booked'").fetch_one(&mut *t.begin_write().await.expect("tx")).await.expect("q");
        assert_eq!(in_state, 10, "a refused booking left no journey behind");
    }

    async fn group_commit_answers_a_retried_key_with_the_first_answer(t) {
        let World { slots: all, people: ids, .. } = world(&t, 2, 510, 10, 100).await;
        let writer = vaxloop_app::commit::Writer::new(t.db.clone(), vaxloop_app::days::DayCache::new());
        let vaccine = vaxloop_app::booking::default_vaccine(&t).await.expect("q").expect("vaccine");
        let keyed = vaxloop_app::commit::Keyed { user_id: 1, key: "k-1".into(), request_hash: "h".into() };
        let mut tasks = tokio::task::JoinSet::new();
        let (slot, person) = (all[0].id, ids[0]);
        for _ in 0..8 {
            let (w, k) = (writer.clone(), keyed.clone());
            tasks.spawn(async move {
                let req = Request { slot_id: slot, people: &[person], dose_number: 1, team_id: None, walk_in: false };
                w.book(vaxloop_app::commit::Order::of(&req, &vaxloop_app::booking::Checked { vaccine_id: vaccine, site_id: 1, day: DAY.into() }, None), Some(k), |ids, _| format!("{ids:?}")).await
            });
        }
        let mut outcomes = Vec::new();
        while let Some(done) = tasks.join_next().await {
            outcomes.push(done.expect("join").expect("written"));
        }
        let booked: Vec<_> = outcomes.iter().filter_map(|o| match o { vaxloop_app::commit::Written::Booked { appointments, .. } => Some(appointments.clone()), _ => None }).collect();
        assert_eq!(booked.len(), 1, "{outcomes:?}");
        let first = format!("{:?}", booked[0]);
        for o in &outcomes {
            match o {
                vaxloop_app::commit::Written::Booked { .. } => {}
                vaxloop_app::commit::Written::Replayed { status, body } => assert_eq!((*status, body.as_str()), (201, first.as_str())),
                other => panic!("a retry must hear the first answer, not {other:?}"),
            }
        }
        // The same key for another request is refused; a refusal's answer is kept for its retries.
        let other = vaxloop_app::commit::Keyed { request_hash: "other".into(), ..keyed.clone() };
        let req = Request { slot_id: slot, people: &[ids[1]], dose_number: 1, team_id: None, walk_in: false };
        assert_eq!(writer.book(vaxloop_app::commit::Order::of(&req, &vaxloop_app::booking::Checked { vaccine_id: vaccine, site_id: 1, day: DAY.into() }, None), Some(other), |_, _| String::new()).await.expect("w"), vaxloop_app::commit::Written::KeyReused);
        let refusal_key = vaxloop_app::commit::Keyed { user_id: 2, key: "k-2".into(), request_hash: "h2".into() };
        let kept = writer.answer(refusal_key.clone(), 409, "full".into()).await.expect("w");
        assert_eq!(kept, vaxloop_app::commit::Written::Replayed { status: 409, body: "full".into() });
        let again = writer.answer(refusal_key, 409, "changed".into()).await.expect("w");
        assert_eq!(again, vaxloop_app::commit::Written::Replayed { status: 409, body: "full".into() });
        let counts = vaxloop_store::booking::slot_counts(&t).await.expect("counts");
        assert_eq!(counts.iter().find(|c| c.0 == slot).map(|c| c.2), Some(1));
        // Keys are forgotten a day after they were claimed, not before.
        let app = vaxloop_app::App::new(t.db.clone(), t.cipher.clone(), chrono_tz::Asia::Shanghai);
        let now = now_ms();
        assert_eq!(vaxloop_app::idempotency::sweep(&app, now).await.expect("sweep"), 0);
        let later = now + vaxloop_app::idempotency::KEEP_MS + 60_000;
        assert_eq!(vaxloop_app::idempotency::sweep(&app, later).await.expect("sweep"), 2);
        assert_eq!(writer.answer(keyed.clone(), 409, "anew".into()).await.expect("w"), vaxloop_app::commit::Written::Replayed { status: 409, body: "anew".into() }, "a forgotten key is new again");
    }

    async fn the_desk_moves_a_whole_team_or_none_of_it_and_cancels_it_whole(t) {
        let tz = chrono_tz::Asia::Shanghai;
        // Four slots of 10 (08:00–10:00); a team of 15 from the first.
        let World { unit, slots: all, people: ids, .. } = world(&t, 30, 600, 10, 100).await;
        let team = book_team(&t, tz, unit, all[0].id, &ids[..15], 1).await.expect("q").expect("booked");
        let per_slot = |t: &vaxloop_store::testing::TestDb| {
            let db = t.db.clone();
            async move {
                let counts = vaxloop_store::booking::slot_counts(&db).await.expect("counts");
                counts.iter().map(|c| c.2).collect::<Vec<_>>()
            }
        };
        assert_eq!(per_slot(&t).await, vec![10, 5, 0, 0]);
        let row = |code: String| {
            let db = t.db.clone();
            async move { vaxloop_store::teams::by_code(&db, &code).await.expect("q").expect("team") }
        };
        // Later the same day: the same team, in slots 3 and 4.
        let moved = vaxloop_app::booking::engine::move_team(&t, tz, &row(team.team.code.clone()).await, all[2].id).await.expect("q").expect("moved");
        assert_eq!(moved.team.code, team.team.code, "on its own day a team keeps its number and colour");
        assert_eq!(per_slot(&t).await, vec![0, 0, 10, 5]);
        // Back one slot, overlapping its own places: they count as free for the move.
        vaxloop_app::booking::engine::move_team(&t, tz, &row(team.team.code.clone()).await, all[1].id).await.expect("q").expect("moved");
        assert_eq!(per_slot(&t).await, vec![0, 10, 5, 0]);
        // Ten others fill the first slot; a move into the last slot alone cannot hold fifteen:
        // nobody moves.
        for &p in &ids[15..25] {
            book(&t, tz, &Request { slot_id: all[0].id, people: &[p], dose_number: 1, team_id: None, walk_in: false }).await.expect("q").expect("booked");
        }
        let refused = vaxloop_app::booking::engine::move_team(&t, tz, &row(team.team.code.clone()).await, all[3].id).await.expect("q");
        assert!(matches!(refused, Err(BookRefusal::Store(vaxloop_store::booking::Refusal::SlotFull { .. }))), "{refused:?}");
        assert_eq!(per_slot(&t).await, vec![10, 10, 5, 0], "the team kept its places");
        // Cancelled whole: its places come back and its people wait again.
        let n = vaxloop_app::booking::engine::cancel_team(&t, team.team.id).await.expect("cancel");
        assert_eq!(n, 15);
        assert_eq!(per_slot(&t).await, vec![10, 0, 0, 0]);
        assert_eq!(journeys::waiting_of_unit(&t, unit, 1, 100).await.expect("q").len(), 20);
        assert_eq!(row(team.team.code.clone()).await.active, 0);
    }

    async fn every_booking_door_writes_its_audit_row_with_the_booking(t) {
        use vaxloop_app::booking::{self as use_case, BookInput, Booking};
        let tz = chrono_tz::Asia::Shanghai;
        let World { unit, slots: all, people: ids } = world(&t, 8, 600, 10, 100).await;
        let app = vaxloop_app::App::new(t.db.clone(), t.cipher.clone(), tz);
        let login = |role: vaxloop_core::Role, person_id: Option<i64>| {
            let t = &t;
            async move {
                let mut tx = t.begin_write().await.expect("tx");
                let user = vaxloop_store::users::NewUser {
                    username: Some(format!("{role:?}{person_id:?}")),
                    display_name: "someone".into(),
                    password_hash: String::new(),
                    role: Some(role),
                    work_group_id: None,
                    unit_id: None,
                    site_id: None,
                    site_post: None,
                    person_id,
                };
                let id = vaxloop_store::users::insert(&mut tx, &user, now_ms()).await.expect("user");
                tx.commit().await.expect("commit");
                let user = vaxloop_store::users::by_id(t, id).await.expect("q").expect("user");
                (id, vaxloop_app::Caller::login(vaxloop_app::Actor::from(&user), "/test"))
            }
        };
        let (desk_id, desk) = login(vaxloop_core::Role::Desk, None).await;
        let (resident_id, resident) = login(vaxloop_core::Role::Resident, Some(ids[0])).await;
        let quiet = |_: &[i64], _: Option<&use_case::Team>| String::new();
        let book = |caller, input: BookInput| {
            let app = &app;
            async move { use_case::book(app, caller, &input, None, quiet, |_, _| String::new()).await.expect("book") }
        };
        // The resident books themselves; the desk books one person, then two as a team.
        let mine = book(&resident, BookInput { slot_id: all[0].id, ..BookInput::default() }).await;
        let Booking::Booked { appointments: mine, .. } = mine else { panic!("{mine:?}") };
        let one = book(&desk, BookInput { slot_id: all[0].id, people: vec![ids[1]], ..BookInput::default() }).await;
        assert!(matches!(one, Booking::Booked { team: None, .. }), "{one:?}");
        let two = book(&desk, BookInput { slot_id: all[1].id, people: vec![ids[2], ids[3]], ..BookInput::default() }).await;
        let Booking::Booked { team: Some(pair), .. } = two else { panic!("{two:?}") };
        // The desk's page books a team through the same entry: spread over consecutive slots.
        let place = use_case::desk::Place { site: "S1".into(), day: DAY.into(), start: "09:30".into() };
        let spread = use_case::desk::book_team(&app, &desk, "U1", &place, "3").await.expect("q").expect("booked");
        // A refused booking leaves no row.
        let twice = book(&desk, BookInput { slot_id: all[2].id, people: vec![ids[1]], ..BookInput::default() }).await;
        assert!(matches!(twice, Booking::Refused { .. }), "{twice:?}");
        assert!(use_case::cancel_own(&app, &resident, mine[0]).await.expect("cancel"));
        let log = vaxloop_store::audit::recent(&t, 50).await.expect("log");
        let rows: Vec<(Option<i64>, &str, &str)> = log.iter().rev().map(|e| (e.actor_user_id, e.action.as_str(), e.target.as_str())).collect();
        let own = format!("appointment:{}", mine[0]);
        let (pair, spread) = (format!("team:{}", pair.code), format!("team:{}", spread.code));
        assert_eq!(rows.iter().filter(|r| r.1 == "book").count(), 2, "{rows:?}");
        assert!(rows.contains(&(Some(resident_id), "book", own.as_str())), "{rows:?}");
        assert!(rows.contains(&(Some(desk_id), "book_team", pair.as_str())), "{rows:?}");
        assert!(rows.contains(&(Some(desk_id), "book_team", spread.as_str())), "{rows:?}");
        assert!(rows.contains(&(Some(resident_id), "cancel", own.as_str())), "{rows:?}");
        assert_eq!(rows.len(), 5, "one row per booking and cancellation, none for the refusal: {rows:?}");
        // The spread team waits in the unit's inbox like any new team.
        assert_eq!(journeys::waiting_of_unit(&t, unit, 1, 100).await.expect("q").len(), 2);
    }
}
