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
}
