//! Check-in at the site: by personal QR code or by ID number, once however many scans arrive
//! at once; a person booked elsewhere, another day or not at all is told so, and bad codes are
//! named.

use chrono::{Days, NaiveDate};
use vaxloop_app::site_ops::{CheckInRefusal, QR_PREFIX, check_in};
use vaxloop_store::{journeys, sites, slots};

vaxloop_store::backend_tests! {
    async fn a_person_is_checked_in_once_however_many_desks_scan(t) {
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).expect("date");
        let town = vaxloop_demo::generate(&vaxloop_demo::TownSpec { people: 600, seed: 11, today });
        vaxloop_demo::store(&t, &t.cipher, &town).await.expect("demo town");
        let tz = chrono_tz::Asia::Shanghai;
        let unit = vaxloop_store::org::units(&t, None).await.expect("units").into_iter().next().expect("a unit");
        let people = journeys::waiting_of_unit(&t, unit.id, 1, 5).await.expect("waiting");
        assert!(people.len() >= 5);
        let serving = sites::serving_unit(&t, unit.id).await.expect("sites");
        assert!(serving.len() >= 2, "two sites serve the unit");
        let (here, there) = (&serving[0], &serving[1]);
        let date = today.to_string();
        let tomorrow = today.checked_add_days(Days::new(1)).expect("day").to_string();
        let first_free = |list: Vec<slots::Slot>| list.into_iter().find(|s| s.capacity - s.booked >= 3).expect("a slot with room").id;
        let slot_here = first_free(slots::of_site_day(&t, here.id, &date).await.expect("slots"));
        let slot_there = first_free(slots::of_site_day(&t, there.id, &date).await.expect("slots"));
        let slot_later = first_free(slots::of_site_day(&t, here.id, &tomorrow).await.expect("slots"));
        let booked = vaxloop_app::booking::book_team(&t, tz, unit.id, slot_here, &people[..3], 1).await.expect("book").expect("booked");
        vaxloop_app::booking::book_team(&t, tz, unit.id, slot_there, &people[3..4], 1).await.expect("book").expect("booked");
        vaxloop_app::booking::book_team(&t, tz, unit.id, slot_later, &people[4..5], 1).await.expect("book").expect("booked");

        // Three desks scan the same personal QR code at once: one check-in, the same answer.
        let person = people[0];
        let code = format!("{QR_PREFIX}{}", t.cipher.sign("person", person));
        let (a, b, c) = tokio::join!(
            check_in(&t, &t.cipher, here.id, today, &code, None),
            check_in(&t, &t.cipher, here.id, today, &code, None),
            check_in(&t, &t.cipher, here.id, today, &code, None),
        );
        let all: Vec<_> = [a, b, c].into_iter().map(|r| r.expect("store").expect("checked in")).collect();
        assert_eq!(all.iter().filter(|x| x.fresh).count(), 1, "one desk checks in, the others hear it was done");
        assert!(all.iter().all(|x| x.visit.id == all[0].visit.id && x.visit.checked_in_at == all[0].visit.checked_in_at));
        let first = &all[0];
        assert_eq!(first.appointment.team.as_ref().map(|x| x.0.clone()), Some(booked.team.code.clone()));
        assert!(first.person.id_masked.contains('*'));
        // Later, by ID number: the same check-in.
        let (id_number, _) = vaxloop_store::people::reveal(&t, &t.cipher, person).await.expect("reveal");
        let again = check_in(&t, &t.cipher, here.id, today, &id_number, None).await.expect("store").expect("found");
        assert!(!again.fresh);
        assert_eq!(again.visit.id, first.visit.id);
        let states = journeys::of_person(&t, person).await.expect("journey");
        assert!(states.iter().any(|s| s.0 == 1 && s.1.to_string() == "checked_in"), "{states:?}");
        let mut tx = t.begin_write().await.expect("tx");
        let events: i64 = sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM journey_events WHERE person_id = $1 AND state = 'checked_in'")
            .bind(person).fetch_one(&mut *tx).await.expect("n");
        let visits: i64 = sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM visits WHERE person_id = $1")
            .bind(person).fetch_one(&mut *tx).await.expect("n");
        assert_eq!((events, visits), (1, 1));
        drop(tx);

        // Elsewhere, another day, not at all, and bad codes: each told, nothing recorded.
        let scan = |p: i64| format!("{QR_PREFIX}{}", t.cipher.sign("person", p));
        let refused = |r: Result<Result<vaxloop_app::site_ops::CheckIn, CheckInRefusal>, _>| r.expect("store").expect_err("refused");
        assert_eq!(refused(check_in(&t, &t.cipher, here.id, today, &scan(people[3]), None).await), CheckInRefusal::OtherSite { site: there.name.clone() });
        assert_eq!(refused(check_in(&t, &t.cipher, here.id, today, &scan(people[4]), None).await), CheckInRefusal::OtherDay { day: tomorrow.clone(), site: here.name.clone() });
        let nobody = journeys::waiting_of_unit(&t, unit.id, 1, 1).await.expect("waiting")[0];
        assert_eq!(refused(check_in(&t, &t.cipher, here.id, today, &scan(nobody), None).await), CheckInRefusal::NoAppointment);
        assert_eq!(refused(check_in(&t, &t.cipher, here.id, today, "VXL1:forged-token", None).await), CheckInRefusal::BadCode);
        assert!(matches!(refused(check_in(&t, &t.cipher, here.id, today, "310112", None).await), CheckInRefusal::BadIdNumber(_)));
        assert_eq!(refused(check_in(&t, &t.cipher, here.id, today, "11010519491231002X", None).await), CheckInRefusal::UnknownPerson);
        let mut tx = t.begin_write().await.expect("tx");
        let visits: i64 = sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM visits").fetch_one(&mut *tx).await.expect("n");
        assert_eq!(visits, 1);
    }

    async fn a_registered_person_without_an_appointment_is_booked_as_a_walk_in_and_checked_in(t) {
        use vaxloop_app::site_ops::walk_in;
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).expect("date");
        let town = vaxloop_demo::generate(&vaxloop_demo::TownSpec { people: 600, seed: 12, today });
        vaxloop_demo::store(&t, &t.cipher, &town).await.expect("demo town");
        let tz = chrono_tz::Asia::Shanghai;
        let unit = vaxloop_store::org::units(&t, None).await.expect("units").into_iter().next().expect("a unit");
        let people = journeys::waiting_of_unit(&t, unit.id, 1, 2).await.expect("waiting");
        let serving = sites::serving_unit(&t, unit.id).await.expect("sites");
        let (here, there) = (&serving[0], &serving[1]);
        let tomorrow = today.checked_add_days(Days::new(1)).expect("day").to_string();
        let later = slots::of_site_day(&t, there.id, &tomorrow).await.expect("slots").into_iter().find(|s| s.capacity > s.booked).expect("room").id;
        vaxloop_app::booking::book_team(&t, tz, unit.id, later, &people[1..2], 1).await.expect("book").expect("booked");
        let at_ten = today.and_hms_opt(10, 5, 0).expect("time");
        let scan = |p: i64| format!("{QR_PREFIX}{}", t.cipher.sign("person", p));

        // No appointment at all: booked into the slot under way, as a walk-in, and checked in.
        let came = walk_in(&t, &t.cipher, tz, here.id, at_ten, &scan(people[0]), None).await.expect("store").expect("walked in");
        assert!(came.fresh);
        assert_eq!(came.appointment.site_id, here.id);
        assert!(came.appointment.starts_min <= 10 * 60 + 5 && came.appointment.ends_min > 10 * 60 + 5, "the slot under way");
        let mut tx = t.begin_write().await.expect("tx");
        let walk: i64 = sqlx::query_scalar("SELECT walk_in FROM appointments WHERE id = $1").bind(came.appointment.appointment_id).fetch_one(&mut *tx).await.expect("q");
        assert_eq!(walk, 1, "counted as a walk-in");
        drop(tx);
        // Booked for tomorrow elsewhere: that appointment moves here, so they still hold one.
        let moved = walk_in(&t, &t.cipher, tz, here.id, at_ten, &scan(people[1]), None).await.expect("store").expect("walked in");
        assert_eq!(moved.appointment.site_id, here.id);
        let active = vaxloop_store::visits::active_of_person(&t, people[1]).await.expect("q");
        assert_eq!(active.len(), 1, "one appointment for the dose");
        // A second walk-in scan is the same check-in.
        let again = walk_in(&t, &t.cipher, tz, here.id, at_ten, &scan(people[0]), None).await.expect("store").expect("same");
        assert!(!again.fresh && again.visit.id == came.visit.id);
        // After the last slot has ended, there is no room today.
        let late = today.and_hms_opt(23, 0, 0).expect("time");
        let nobody = journeys::waiting_of_unit(&t, unit.id, 1, 1).await.expect("waiting")[0];
        assert_eq!(walk_in(&t, &t.cipher, tz, here.id, late, &scan(nobody), None).await.expect("store").expect_err("no room"), CheckInRefusal::WalkInRefused("slot_full"));
    }

    async fn screening_passes_defers_or_refers_and_decides_once(t) {
        use vaxloop_app::site_ops::{Decision, ScreenRefusal, screen};
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).expect("date");
        let town = vaxloop_demo::generate(&vaxloop_demo::TownSpec { people: 600, seed: 13, today });
        vaxloop_demo::store(&t, &t.cipher, &town).await.expect("demo town");
        let tz = chrono_tz::Asia::Shanghai;
        let unit = vaxloop_store::org::units(&t, None).await.expect("units").into_iter().next().expect("a unit");
        let people = journeys::waiting_of_unit(&t, unit.id, 1, 4).await.expect("waiting");
        let here = sites::serving_unit(&t, unit.id).await.expect("sites")[0].clone();
        let slot = slots::of_site_day(&t, here.id, &today.to_string()).await.expect("slots").into_iter().find(|s| s.capacity - s.booked >= 4).expect("room").id;
        vaxloop_app::booking::book_team(&t, tz, unit.id, slot, &people, 1).await.expect("book").expect("booked");
        let mut visits = Vec::new();
        for &p in &people {
            let code = format!("{QR_PREFIX}{}", t.cipher.sign("person", p));
            visits.push(check_in(&t, &t.cipher, here.id, today, &code, None).await.expect("store").expect("in").visit);
        }
        let (_, vaccine) = vaxloop_store::visits::by_id(&t, visits[0].id).await.expect("q").expect("visit");
        let questions = vaxloop_store::screening::questions(&t, vaccine).await.expect("questions");
        assert_eq!(questions.len(), vaxloop_demo::SCREENING.len());
        let answers = |yes_on: Option<&str>| -> Vec<(i64, bool)> {
            let mut first = true;
            questions.iter().map(|q| {
                let yes = Some(q.on_yes.as_str()) == yes_on && std::mem::take(&mut first);
                (q.id, yes)
            }).collect()
        };
        let screen_as = |v: i64, a: Vec<(i64, bool)>, d: Decision| {
            let t = &t;
            async move { screen(t, here.id, today, v, &a, &d, None).await.expect("store") }
        };

        // All clear: passed, ready for the vaccinator; a second screening is refused.
        assert_eq!(screen_as(visits[0].id, answers(None), Decision::Pass).await, Ok("ready"));
        assert_eq!(screen_as(visits[0].id, answers(None), Decision::Pass).await, Err(ScreenRefusal::AlreadyScreened));
        let states = journeys::of_person(&t, people[0]).await.expect("journey");
        assert!(states.iter().any(|s| s.1.to_string() == "screened"));
        // A question left out is named by its number.
        let mut missing = answers(None);
        missing.remove(2);
        assert_eq!(screen_as(visits[1].id, missing, Decision::Pass).await, Err(ScreenRefusal::Unanswered(3)));

        // A fever: a pass is refused; a deferral needs its reason and a later day.
        assert_eq!(screen_as(visits[1].id, answers(Some("defer")), Decision::Pass).await, Err(ScreenRefusal::NeedsDoctor));
        let later = today.checked_add_days(Days::new(14)).expect("day");
        assert_eq!(screen_as(visits[1].id, answers(Some("defer")), Decision::Defer { reason: " ".into(), until: later }).await, Err(ScreenRefusal::DeferReason));
        assert_eq!(screen_as(visits[1].id, answers(Some("defer")), Decision::Defer { reason: "发热".into(), until: today }).await, Err(ScreenRefusal::DeferUntil));
        assert_eq!(screen_as(visits[1].id, answers(Some("defer")), Decision::Defer { reason: "发热".into(), until: later }).await, Ok("deferred"));
        let states = journeys::of_person(&t, people[1]).await.expect("journey");
        assert!(states.iter().any(|s| s.1.to_string() == "deferred"));

        // An allergy: to the doctor, who may then pass.
        assert_eq!(screen_as(visits[2].id, answers(Some("refer")), Decision::Refer).await, Ok("referred"));
        assert_eq!(screen_as(visits[2].id, answers(Some("refer")), Decision::Pass).await, Ok("ready"));

        // Two screeners at once: one decides.
        let (a, b) = tokio::join!(
            screen_as(visits[3].id, answers(None), Decision::Pass),
            screen_as(visits[3].id, answers(None), Decision::Pass),
        );
        let mut outcomes = [a, b];
        outcomes.sort_by_key(|o| o.is_err());
        assert_eq!(outcomes, [Ok("ready"), Err(ScreenRefusal::AlreadyScreened)]);
        let mut tx = t.begin_write().await.expect("tx");
        let n: i64 = sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM screenings WHERE visit_id = $1").bind(visits[3].id).fetch_one(&mut *tx).await.expect("n");
        assert_eq!(n, 1);
        drop(tx);
        // Another site's screener finds no such visit.
        let other = sites::all(&t).await.expect("sites").into_iter().find(|s| s.id != here.id).expect("another site");
        assert_eq!(screen(&t, other.id, today, visits[0].id, &answers(None), &Decision::Pass, None).await.expect("store"), Err(ScreenRefusal::NoVisit));
    }
}
