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
        let booked = vaxloop_app::booking::engine::book_team(&t, tz, unit.id, slot_here, &people[..3], 1).await.expect("book").expect("booked");
        vaxloop_app::booking::engine::book_team(&t, tz, unit.id, slot_there, &people[3..4], 1).await.expect("book").expect("booked");
        vaxloop_app::booking::engine::book_team(&t, tz, unit.id, slot_later, &people[4..5], 1).await.expect("book").expect("booked");

        // Three desks scan the same personal QR code at once: one check-in, the same answer.
        let person = people[0];
        let code = format!("{QR_PREFIX}{}", t.cipher.sign("person", person));
        let (a, b, c) = tokio::join!(
            check_in(&t, &t.cipher, here.id, vaxloop_app::site_ops::At::on(chrono_tz::Asia::Shanghai, today), &code, None),
            check_in(&t, &t.cipher, here.id, vaxloop_app::site_ops::At::on(chrono_tz::Asia::Shanghai, today), &code, None),
            check_in(&t, &t.cipher, here.id, vaxloop_app::site_ops::At::on(chrono_tz::Asia::Shanghai, today), &code, None),
        );
        let all: Vec<_> = [a, b, c].into_iter().map(|r| r.expect("store").expect("checked in")).collect();
        assert_eq!(all.iter().filter(|x| x.fresh).count(), 1, "one desk checks in, the others hear it was done");
        assert!(all.iter().all(|x| x.visit.id == all[0].visit.id && x.visit.checked_in_at == all[0].visit.checked_in_at));
        let first = &all[0];
        assert_eq!(first.appointment.team.as_ref().map(|x| x.0.clone()), Some(booked.team.code.clone()));
        assert!(first.person.id_masked.contains('*'));
        // Later, by ID number: the same check-in.
        let (id_number, _) = vaxloop_store::people::reveal(&t, &t.cipher, person).await.expect("reveal");
        let again = check_in(&t, &t.cipher, here.id, vaxloop_app::site_ops::At::on(chrono_tz::Asia::Shanghai, today), &id_number, None).await.expect("store").expect("found");
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
        assert_eq!(refused(check_in(&t, &t.cipher, here.id, vaxloop_app::site_ops::At::on(chrono_tz::Asia::Shanghai, today), &scan(people[3]), None).await), CheckInRefusal::OtherSite { site: there.name.clone() });
        assert_eq!(refused(check_in(&t, &t.cipher, here.id, vaxloop_app::site_ops::At::on(chrono_tz::Asia::Shanghai, today), &scan(people[4]), None).await), CheckInRefusal::OtherDay { day: tomorrow.clone(), site: here.name.clone() });
        let nobody = journeys::waiting_of_unit(&t, unit.id, 1, 1).await.expect("waiting")[0];
        assert_eq!(refused(check_in(&t, &t.cipher, here.id, vaxloop_app::site_ops::At::on(chrono_tz::Asia::Shanghai, today), &scan(nobody), None).await), CheckInRefusal::NoAppointment);
        assert_eq!(refused(check_in(&t, &t.cipher, here.id, vaxloop_app::site_ops::At::on(chrono_tz::Asia::Shanghai, today), "VXL1:forged-token", None).await), CheckInRefusal::BadCode);
        assert!(matches!(refused(check_in(&t, &t.cipher, here.id, vaxloop_app::site_ops::At::on(chrono_tz::Asia::Shanghai, today), "310112", None).await), CheckInRefusal::BadIdNumber(_)));
        assert_eq!(refused(check_in(&t, &t.cipher, here.id, vaxloop_app::site_ops::At::on(chrono_tz::Asia::Shanghai, today), "11010519491231002X", None).await), CheckInRefusal::UnknownPerson);
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
        vaxloop_app::booking::engine::book_team(&t, tz, unit.id, later, &people[1..2], 1).await.expect("book").expect("booked");
        let at_ten = today.and_hms_opt(10, 5, 0).expect("time");
        let scan = |p: i64| format!("{QR_PREFIX}{}", t.cipher.sign("person", p));
        let app = vaxloop_app::App::new(t.db.clone(), t.cipher.clone(), tz);

        // No appointment at all: booked into the slot under way, as a walk-in, and checked in.
        let came = walk_in(&app, here.id, at_ten, &scan(people[0]), None).await.expect("store").expect("walked in");
        assert!(came.fresh);
        assert_eq!(came.appointment.site_id, here.id);
        assert!(came.appointment.starts_min <= 10 * 60 + 5 && came.appointment.ends_min > 10 * 60 + 5, "the slot under way");
        let mut tx = t.begin_write().await.expect("tx");
        let walk: i64 = sqlx::query_scalar("SELECT walk_in FROM appointments WHERE id = $1").bind(came.appointment.appointment_id).fetch_one(&mut *tx).await.expect("q");
        assert_eq!(walk, 1, "counted as a walk-in");
        drop(tx);
        // Booked for tomorrow elsewhere: that appointment moves here, so they still hold one.
        let moved = walk_in(&app, here.id, at_ten, &scan(people[1]), None).await.expect("store").expect("walked in");
        assert_eq!(moved.appointment.site_id, here.id);
        let active = vaxloop_store::visits::active_of_person(&t, people[1]).await.expect("q");
        assert_eq!(active.len(), 1, "one appointment for the dose");
        // A second walk-in scan is the same check-in.
        let again = walk_in(&app, here.id, at_ten, &scan(people[0]), None).await.expect("store").expect("same");
        assert!(!again.fresh && again.visit.id == came.visit.id);
        // After the last slot has ended, there is no room today.
        let late = today.and_hms_opt(23, 0, 0).expect("time");
        let nobody = journeys::waiting_of_unit(&t, unit.id, 1, 1).await.expect("waiting")[0];
        assert_eq!(walk_in(&app, here.id, late, &scan(nobody), None).await.expect("store").expect_err("no room"), CheckInRefusal::WalkInRefused("slot_full"));
    }

    async fn the_desk_hears_why_someone_is_not_expected_and_who_is_far_too_early(t) {
        use vaxloop_app::site_ops::At;
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).expect("date");
        let town = vaxloop_demo::generate(&vaxloop_demo::TownSpec { people: 600, seed: 14, today });
        vaxloop_demo::store(&t, &t.cipher, &town).await.expect("demo town");
        let tz = chrono_tz::Asia::Shanghai;
        let unit = vaxloop_store::org::units(&t, None).await.expect("units").into_iter().next().expect("a unit");
        let people = journeys::waiting_of_unit(&t, unit.id, 1, 2).await.expect("waiting");
        let here = sites::serving_unit(&t, unit.id).await.expect("sites")[0].clone();
        let afternoon = slots::of_site_day(&t, here.id, &today.to_string()).await.expect("slots").into_iter()
            .find(|s| s.starts_min >= 14 * 60 && s.capacity > s.booked).expect("an afternoon slot");
        vaxloop_app::booking::engine::book_team(&t, tz, unit.id, afternoon.id, &people[..1], 1).await.expect("book").expect("booked");
        let code = format!("{QR_PREFIX}{}", t.cipher.sign("person", people[0]));
        let at = |h: u32, m: u32, limit: Option<i64>| At { tz, now: today.and_hms_opt(h, m, 0).expect("time"), early_limit: limit };
        // Three hours early: the desk hears when the slot starts, and nothing is recorded.
        let refused = check_in(&t, &t.cipher, here.id, at(afternoon.starts_min as u32 / 60 - 3, 0, Some(60)), &code, None).await.expect("store");
        assert_eq!(refused.expect_err("too early"), CheckInRefusal::TooEarly { starts_min: afternoon.starts_min });
        assert!(vaxloop_store::visits::active_of_person(&t, people[0]).await.expect("q").len() == 1);
        // Within the hour before: checked in; the desk may also let someone in earlier.
        let start = afternoon.starts_min as u32;
        let near = at((start - 50) / 60, (start - 50) % 60, Some(60));
        assert!(check_in(&t, &t.cipher, here.id, near, &code, None).await.expect("store").expect("in").fresh);
        let other = format!("{QR_PREFIX}{}", t.cipher.sign("person", people[1]));
        // Someone confirmed but never booked: no appointment (a walk-in may follow).
        assert_eq!(check_in(&t, &t.cipher, here.id, at(8, 0, Some(60)), &other, None).await.expect("store").expect_err("none"), CheckInRefusal::NoAppointment);
        assert!(CheckInRefusal::NoAppointment.may_walk_in());
        assert!(!CheckInRefusal::Deferred { until: None }.may_walk_in());
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
        vaxloop_app::booking::engine::book_team(&t, tz, unit.id, slot, &people, 1).await.expect("book").expect("booked");
        let mut visits = Vec::new();
        for &p in &people {
            let code = format!("{QR_PREFIX}{}", t.cipher.sign("person", p));
            visits.push(check_in(&t, &t.cipher, here.id, vaxloop_app::site_ops::At::on(chrono_tz::Asia::Shanghai, today), &code, None).await.expect("store").expect("in").visit);
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
        assert_eq!(screen_as(visits[1].id, answers(Some("defer")), Decision::Pass).await, Err(ScreenRefusal::NeedsDoctor { question: 1 }));
        let later = today.checked_add_days(Days::new(14)).expect("day");
        assert_eq!(screen_as(visits[1].id, answers(Some("defer")), Decision::Defer { reason: " ".into(), until: later }).await, Err(ScreenRefusal::DeferReason));
        assert_eq!(screen_as(visits[1].id, answers(Some("defer")), Decision::Defer { reason: "发热".into(), until: today }).await, Err(ScreenRefusal::DeferUntil));
        assert_eq!(screen_as(visits[1].id, answers(Some("defer")), Decision::Defer { reason: "发热".into(), until: later }).await, Ok("deferred"));
        let states = journeys::of_person(&t, people[1]).await.expect("journey");
        assert!(states.iter().any(|s| s.1.to_string() == "deferred"));
        // Scanned again at the desk: deferred, and until when — not "no appointment".
        let code = format!("{QR_PREFIX}{}", t.cipher.sign("person", people[1]));
        let again = check_in(&t, &t.cipher, here.id, vaxloop_app::site_ops::At::on(tz, today), &code, None).await.expect("store");
        assert_eq!(again.expect_err("refused"), vaxloop_app::site_ops::CheckInRefusal::Deferred { until: Some(later.to_string()) });

        // An allergy: to the doctor, who may then pass.
        assert_eq!(screen_as(visits[2].id, answers(Some("refer")), Decision::Refer).await, Ok("referred"));
        assert_eq!(screen_as(visits[2].id, answers(Some("refer")), Decision::Pass).await, Ok("ready"));
        // What screening noted, for the vaccinator and the nurse: the allergy, and nothing for
        // the one all clear.
        let noted = vaxloop_store::screening::yes_answers(&t, &[visits[0].id, visits[2].id]).await.expect("notes");
        assert_eq!(noted[&visits[2].id].iter().map(|q| q.on_yes.as_str()).collect::<Vec<_>>(), ["refer"]);
        assert!(noted[&visits[0].id].is_empty());

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

    async fn a_dose_is_given_once_to_a_screened_person_present_with_their_code_and_stock_balances(t) {
        use vaxloop_app::site_ops::{Decision, DoseGiven, Proof, ReleaseRefusal, VaccinateRefusal, AefiReport, AefiRefusal, release, report_aefi, screen, vaccinate};
        use vaxloop_store::doses;
        let today = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive();
        let tz = chrono_tz::Asia::Shanghai;
        // Two doses to a vial, usable for an hour once opened.
        let (here, _, people) = booked_today(&t, 14, today, "doses_per_vial = 2, open_vial_minutes = 60, observation_minutes = 15", 7).await;
        let mut visits = Vec::new();
        for &p in &people {
            let code = format!("{QR_PREFIX}{}", t.cipher.sign("person", p));
            visits.push(check_in(&t, &t.cipher, here.id, vaxloop_app::site_ops::At::on(chrono_tz::Asia::Shanghai, today), &code, None).await.expect("store").expect("in").visit);
        }
        let (_, vaccine) = vaxloop_store::visits::by_id(&t, visits[0].id).await.expect("q").expect("visit");
        let questions = vaxloop_store::screening::questions(&t, vaccine).await.expect("questions");
        let clear: Vec<(i64, bool)> = questions.iter().map(|q| (q.id, false)).collect();
        // All but the last are screened and passed.
        for v in &visits[..6] {
            screen(&t, here.id, today, v.id, &clear, &Decision::Pass, None).await.expect("store").expect("passed");
        }
        let lots = doses::lots_for(&t, here.id, vaccine, &today.to_string(), vaxloop_store::now_ms(), None).await.expect("lots");
        let lot = lots.first().expect("a lot in stock").lot_id;
        assert!(lots.iter().all(|l| l.open_vial.is_none()), "no vial open yet");
        let code_of = |v: &vaxloop_store::visits::Visit| t.cipher.presence_code(v.appointment_id);
        let give = |v: &vaxloop_store::visits::Visit, proof: Proof, lot: i64| {
            let d = DoseGiven { visit_id: v.id, lot_id: lot, proof, minutes: None };
            let t = &t;
            async move { vaccinate(t, &t.cipher, here.id, today, &d, None).await.expect("store") }
        };

        // Not screened, a wrong code, another vaccine's lot: refused, nothing written.
        assert_eq!(give(&visits[6], Proof::Code(code_of(&visits[6])), lot).await, Err(VaccinateRefusal::NotReady("waiting".into())));
        let wrong = if code_of(&visits[0]) == "0000" { "0001" } else { "0000" };
        assert_eq!(give(&visits[0], Proof::Code(wrong.into()), lot).await, Err(VaccinateRefusal::WrongCode));
        let other_lot = {
            let mut tx = t.begin_write().await.expect("tx");
            let id: i64 = sqlx::query_scalar("SELECT id FROM lots WHERE vaccine_id <> $1 ORDER BY id LIMIT 1").bind(vaccine).fetch_one(&mut *tx).await.expect("lot");
            id
        };
        assert_eq!(give(&visits[0], Proof::Code(code_of(&visits[0])), other_lot).await, Err(VaccinateRefusal::WrongLot));

        // The right code: one dose, a vial opened, observation for the vaccine's 15 minutes.
        let first = give(&visits[0], Proof::Code(code_of(&visits[0])), lot).await.expect("given");
        assert!(first.opened_vial);
        let obs = doses::observation(&t, visits[0].id).await.expect("q").expect("observing");
        assert_eq!(obs.1, 15);
        assert_eq!(give(&visits[0], Proof::Code(code_of(&visits[0])), lot).await, Err(VaccinateRefusal::NotReady("observing".into())));
        // The vial's second dose goes to the next person; then it is empty and closed.
        let second = give(&visits[1], Proof::IdCard, lot).await.expect("given");
        assert!(!second.opened_vial);
        // Two vaccinators at once on one person: one dose.
        let (a, b) = tokio::join!(
            give(&visits[2], Proof::Code(code_of(&visits[2])), lot),
            give(&visits[2], Proof::Code(code_of(&visits[2])), lot),
        );
        assert_eq!([a.is_ok(), b.is_ok()].iter().filter(|x| **x).count(), 1, "{a:?} {b:?}");
        // Three vaccinators at once on three people, one lot: three doses, and the ledger and the
        // balance agree in every snapshot a reader takes meanwhile.
        let watching = std::sync::atomic::AtomicBool::new(true);
        let watch = async {
            let mut looks = 0;
            while watching.load(std::sync::atomic::Ordering::Relaxed) || looks == 0 {
                for b in vaxloop_store::vaccines::ledger_balances(&t).await.expect("ledger") {
                    assert_eq!(b.ledger_sum, b.remaining, "mid-flight: lot {} at site {}", b.lot_id, b.site_id);
                }
                looks += 1;
                tokio::task::yield_now().await;
            }
            looks
        };
        let doses = async {
            let done = tokio::join!(
                give(&visits[3], Proof::Code(code_of(&visits[3])), lot),
                give(&visits[4], Proof::Code(code_of(&visits[4])), lot),
                give(&visits[5], Proof::Code(code_of(&visits[5])), lot),
            );
            watching.store(false, std::sync::atomic::Ordering::Relaxed);
            done
        };
        let (looks, (a, b, c)) = tokio::join!(watch, doses);
        assert!(looks > 0);
        assert!(a.is_ok() && b.is_ok() && c.is_ok(), "{a:?} {b:?} {c:?}");

        let mut tx = t.begin_write().await.expect("tx");
        let given: i64 = sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM dose_records").fetch_one(&mut *tx).await.expect("n");
        let administered: i64 = sqlx::query_scalar("SELECT CAST(COALESCE(SUM(-delta), 0) AS BIGINT) FROM stock_ledger WHERE kind = 'administered'").fetch_one(&mut *tx).await.expect("n");
        let used: i64 = sqlx::query_scalar("SELECT CAST(SUM(used) AS BIGINT) FROM vials").fetch_one(&mut *tx).await.expect("n");
        let vials: i64 = sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM vials").fetch_one(&mut *tx).await.expect("n");
        let proofs: i64 = sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM dose_records WHERE proof = 'id_card'").fetch_one(&mut *tx).await.expect("n");
        drop(tx);
        assert_eq!((given, administered, used, proofs), (6, 6, 6, 1), "six doses");
        // Two-dose vials: three, or a fourth when two vaccinators found none open at once.
        assert!((3..=4).contains(&vials), "{vials} vials");
        let states = journeys::of_person(&t, people[0]).await.expect("journey");
        assert_eq!(states[0].1.to_string(), "observing");
        for b in vaxloop_store::vaccines::ledger_balances(&t).await.expect("ledger") {
            assert_eq!(b.ledger_sum, b.remaining, "ledger and balance agree for lot {} at site {}", b.lot_id, b.site_id);
        }

        // Release: before time only with a reason; once.
        assert!(matches!(release(&t, here.id, today, visits[0].id, None, None).await.expect("store"), Err(ReleaseRefusal::TooEarly { .. })));
        release(&t, here.id, today, visits[0].id, Some("坚持离开"), None).await.expect("store").expect("released");
        assert_eq!(release(&t, here.id, today, visits[0].id, Some("again"), None).await.expect("store"), Err(ReleaseRefusal::NotObserving));
        let states = journeys::of_person(&t, people[0]).await.expect("journey");
        assert_eq!(states[0].1.to_string(), "released");
        // Scanned again at the desk: vaccinated today, when and where, and whether still in
        // observation — not "no appointment"; nobody is checked in twice.
        let scan = |p: i64| format!("{QR_PREFIX}{}", t.cipher.sign("person", p));
        let at = vaxloop_app::site_ops::At::on(tz, today);
        match check_in(&t, &t.cipher, here.id, at, &scan(people[0]), None).await.expect("store") {
            Err(CheckInRefusal::Vaccinated { dose: 1, site, observing_until: None, .. }) => assert_eq!(site, here.name),
            other => panic!("released: {other:?}"),
        }
        match check_in(&t, &t.cipher, here.id, at, &scan(people[1]), None).await.expect("store") {
            Err(CheckInRefusal::Vaccinated { dose: 1, at, observing_until: Some(due), .. }) => assert!(due > at, "observed until {due}, given at {at}"),
            other => panic!("in observation: {other:?}"),
        }

        // An adverse event: its fields are checked and named; recorded, the journey says aefi.
        let mut report = AefiReport { visit_id: visits[1].id, onset: "00:00".into(), symptoms: vec!["itching".into()], severity: "mild".into(), action: "observed".into(), ..Default::default() };
        assert_eq!(report_aefi(&t, tz, here.id, today, &report, None).await.expect("store"), Err(AefiRefusal::Field("symptoms")));
        report.symptoms = vec!["rash".into(), "fever".into()];
        report.severity = "bad".into();
        assert_eq!(report_aefi(&t, tz, here.id, today, &report, None).await.expect("store"), Err(AefiRefusal::Field("severity")));
        report.severity = "mild".into();
        report_aefi(&t, tz, here.id, today, &report, None).await.expect("store").expect("reported");
        let states = journeys::of_person(&t, people[1]).await.expect("journey");
        assert_eq!(states[0].1.to_string(), "aefi");
        let unscreened = AefiReport { visit_id: visits[6].id, ..report.clone() };
        assert_eq!(report_aefi(&t, tz, here.id, today, &unscreened, None).await.expect("store"), Err(AefiRefusal::NoVisit), "no dose, no AEFI");
    }

    async fn opened_vials_past_their_life_or_at_close_become_waste_and_the_ledger_balances(t) {
        use vaxloop_store::doses::{self, Vaccination};
        let today = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive();
        let (here, _, people) = booked_today(&t, 15, today, "doses_per_vial = 10, open_vial_minutes = 60", 3).await;
        let mut visits = Vec::new();
        for &p in &people {
            let code = format!("{QR_PREFIX}{}", t.cipher.sign("person", p));
            let v = check_in(&t, &t.cipher, here.id, vaxloop_app::site_ops::At::on(chrono_tz::Asia::Shanghai, today), &code, None).await.expect("store").expect("in").visit;
            let mut tx = t.begin_write().await.expect("tx");
            sqlx::query("UPDATE visits SET stage = 'ready' WHERE id = $1").bind(v.id).execute(&mut *tx).await.expect("ready");
            tx.commit().await.expect("commit");
            visits.push(v);
        }
        let (_, vaccine) = vaxloop_store::visits::by_id(&t, visits[0].id).await.expect("q").expect("visit");
        let date = today.to_string();
        let lot = doses::lots_for(&t, here.id, vaccine, &date, 0, None).await.expect("lots")[0].lot_id;
        let start = vaxloop_store::now_ms();
        let at = |v: i64, now: i64| Vaccination { visit_id: v, lot_id: lot, proof: "code", minutes: Some(30), by: None, now, today: &date };
        let give = async |v: Vaccination<'_>| {
            let mut tx = t.begin_write().await.expect("tx");
            let given = doses::vaccinate_in(&mut tx, &v).await;
            tx.commit().await.expect("commit");
            given
        };
        // One dose opens a ten-dose vial; 61 minutes later it is past its life: its nine doses
        // are written off when the next dose opens a new vial.
        assert!(give(at(visits[0].id, start)).await.expect("store").expect("given").opened_vial);
        let later = start + 61 * 60_000;
        assert!(give(at(visits[1].id, later)).await.expect("store").expect("given").opened_vial);
        assert!(!give(at(visits[2].id, later + 1000)).await.expect("store").expect("given").opened_vial);
        // At the day's close the open vial's eight doses go too.
        let mut tx = t.begin_write().await.expect("tx");
        let closed = doses::waste_vials_in(&mut tx, here.id, None, later + 2000, true, None).await.expect("close");
        tx.commit().await.expect("commit");
        assert_eq!(closed, 8);
        let mut tx = t.begin_write().await.expect("tx");
        let sum = |kind: &'static str| format!("SELECT CAST(COALESCE(SUM(delta), 0) AS BIGINT) FROM stock_ledger WHERE lot_id = {lot} AND site_id = {} AND kind = '{kind}'", here.id);
        let delivered: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sum("delivered"))).fetch_one(&mut *tx).await.expect("n");
        let administered: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sum("administered"))).fetch_one(&mut *tx).await.expect("n");
        let wasted: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sum("wasted"))).fetch_one(&mut *tx).await.expect("n");
        let remaining: i64 = sqlx::query_scalar("SELECT remaining FROM stock_balances WHERE lot_id = $1 AND site_id = $2").bind(lot).bind(here.id).fetch_one(&mut *tx).await.expect("n");
        let open: i64 = sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM vials WHERE closed_at IS NULL").fetch_one(&mut *tx).await.expect("n");
        assert_eq!((administered, wasted, open), (-3, -17, 0));
        assert_eq!(delivered, -administered - wasted + remaining, "delivered = administered + wasted + remaining");
    }
}

/// A demo town stored for `today` with BIBP set to `sql` (vials, observation), and `n` people of
/// its first unit booked as a team at the first site serving it, today: `(site, unit, people)`.
async fn booked_today(
    t: &vaxloop_store::testing::TestDb,
    seed: u64,
    today: chrono::NaiveDate,
    vaccine: &str,
    n: usize,
) -> (
    vaxloop_store::sites::Site,
    vaxloop_store::org::Unit,
    Vec<i64>,
) {
    let town = vaxloop_demo::generate(&vaxloop_demo::TownSpec {
        people: 600,
        seed,
        today,
    });
    vaxloop_demo::store(t, &t.cipher, &town)
        .await
        .expect("demo town");
    let mut tx = t.begin_write().await.expect("tx");
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE vaccines SET {vaccine} WHERE code = 'BIBP'"
    )))
    .execute(&mut *tx)
    .await
    .expect("vaccine");
    tx.commit().await.expect("commit");
    let unit = vaxloop_store::org::units(t, None)
        .await
        .expect("units")
        .into_iter()
        .next()
        .expect("a unit");
    let people = journeys::waiting_of_unit(t, unit.id, 1, n as i64)
        .await
        .expect("waiting");
    assert_eq!(people.len(), n);
    let here = sites::serving_unit(t, unit.id).await.expect("sites")[0].clone();
    let slot = slots::of_site_day(t, here.id, &today.to_string())
        .await
        .expect("slots")
        .into_iter()
        .find(|s| s.capacity - s.booked >= n as i64)
        .expect("room")
        .id;
    vaxloop_app::booking::engine::book_team(
        t,
        chrono_tz::Asia::Shanghai,
        unit.id,
        slot,
        &people,
        1,
    )
    .await
    .expect("book")
    .expect("booked");
    (here, unit, people)
}
