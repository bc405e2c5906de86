//! Booking under contention, on both backends: racers for the last seats of a slot, for the last
//! doses of a site-day, a team against individuals, one person twice — the exact number of
//! winners is asserted and no invariant is ever broken.

use chrono::NaiveDate;
use vaxloop_core::{ResidentId, SiteKind, Source, UnitKind, WorkGroupKind, ZoneKind};
use vaxloop_store::booking::{self, Booking, Refusal};
use vaxloop_store::org::{NewUnit, NewWorkGroup};
use vaxloop_store::people::NewPerson;
use vaxloop_store::sites::{NewSite, NewZone};
use vaxloop_store::testing::TestDb;
use vaxloop_store::vaccines::{self, NewVaccine};
use vaxloop_store::{journeys, now_ms, org, people, sites, slots};

/// Books in a transaction of its own, committed only if everyone got a place (the writer in app
/// commits many such bookings together; here each stands alone).
async fn book_alone(
    db: &vaxloop_store::Db,
    b: &Booking<'_>,
) -> vaxloop_store::StoreResult<Result<Vec<i64>, Refusal>> {
    let mut tx = db.begin_write().await?;
    let booked = booking::book_in(&mut tx, b, vaxloop_store::now_ms()).await?;
    if booked.is_ok() {
        tx.commit().await?;
    } else {
        tx.rollback().await?;
    }
    Ok(booked)
}

/// Cancels in a transaction of its own.
async fn cancel_alone(
    db: &vaxloop_store::Db,
    appointment: i64,
) -> vaxloop_store::StoreResult<bool> {
    let mut tx = db.begin_write().await?;
    let done = booking::cancel_in(&mut tx, appointment, vaxloop_store::now_ms()).await?;
    tx.commit().await?;
    Ok(done)
}

const DAY: &str = "2026-11-30"; // a Monday

struct World {
    slots: Vec<i64>,
    people: Vec<i64>,
    vaccine: i64,
}

/// A site with `slot_caps.len()` slots of those capacities on DAY, `doses` allocated for the
/// day, and `n` registered people.
async fn world(t: &TestDb, slot_caps: &[i64], doses: i64, n: u16) -> World {
    let now = now_ms();
    let mut tx = t.begin_write().await.expect("tx");
    let g = org::insert_work_group(
        &mut tx,
        &NewWorkGroup {
            code: "GEN".into(),
            name: "企业组".into(),
            kind: WorkGroupKind::Enterprise,
            leader_name: None,
        },
        now,
    )
    .await
    .expect("group");
    let u = org::insert_unit(
        &mut tx,
        &t.cipher,
        &NewUnit {
            code: "E001".into(),
            work_group_id: g,
            name: "华住集团".into(),
            kind: UnitKind::Enterprise,
            address: String::new(),
            lat: None,
            lon: None,
            target_headcount: 0,
            contact_name: None,
            contact_phone: None,
            reg_token: "tok".into(),
        },
        now,
    )
    .await
    .expect("unit");
    let site = sites::insert(
        &mut tx,
        &NewSite {
            code: "HCL".into(),
            name: "合川路".into(),
            kind: SiteKind::Fixed,
            address: String::new(),
            lat: None,
            lon: None,
            open_from: None,
            open_until: None,
            hours: vec![(0, 480, 480 + 30 * slot_caps.len() as i64)],
            zones: ZoneKind::ALL
                .iter()
                .map(|&kind| NewZone {
                    kind,
                    space: 100,
                    desks_am: 4,
                    desks_pm: 4,
                    mean_service_seconds: 60,
                })
                .collect(),
        },
        now,
    )
    .await
    .expect("site");
    slots::generate(&mut tx, site, DAY, 0, 30, |_| (1, "test".to_string()))
        .await
        .expect("slots");
    let vaccine = vaccines::insert_vaccine(
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
    vaccines::allocate(&mut tx, site, DAY, doses)
        .await
        .expect("allocate");
    let list: Vec<NewPerson> = (0..n)
        .map(|i| NewPerson {
            unit_id: u,
            name: format!("员工{i}"),
            resident_id: ResidentId::compose(
                310112,
                NaiveDate::from_ymd_opt(1980, 1, 1).expect("date"),
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
    tx.commit().await.expect("commit");
    let slot_rows = slots::of_site_day(t, site, DAY).await.expect("slots");
    let mut tx = t.begin_write().await.expect("tx");
    for (slot, cap) in slot_rows.iter().zip(slot_caps) {
        sqlx::query("UPDATE slots SET capacity = $2 WHERE id = $1")
            .bind(slot.id)
            .bind(*cap)
            .execute(&mut *tx)
            .await
            .expect("capacity");
    }
    tx.commit().await.expect("commit");
    let ids = people::of_unit(t, u, 10_000, 0)
        .await
        .expect("people")
        .into_iter()
        .map(|p| p.id)
        .collect();
    World {
        slots: slot_rows.iter().map(|s| s.id).collect(),
        people: ids,
        vaccine,
    }
}

async fn race(
    t: &TestDb,
    w: &World,
    entries: Vec<(usize, Vec<i64>)>,
) -> Vec<Result<Vec<i64>, Refusal>> {
    let mut tasks = Vec::new();
    for (slot, people) in entries {
        let db = t.db.clone();
        let slot_id = w.slots[slot];
        let vaccine = w.vaccine;
        tasks.push(tokio::spawn(async move {
            let b = Booking {
                slot_id,
                people: &people,
                vaccine_id: vaccine,
                dose_number: 1,
                team_id: None,
                walk_in: false,
            };
            book_alone(&db, &b).await.expect("book")
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("join"));
    }
    out
}

async fn invariants(t: &TestDb) {
    for (slot, capacity, booked, active) in booking::slot_counts(t).await.expect("counts") {
        assert!(
            booked <= capacity,
            "slot {slot}: {booked} booked over capacity {capacity}"
        );
        assert_eq!(
            booked, active,
            "slot {slot}: the counter matches the active appointments"
        );
    }
    let doubles: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT person_id FROM appointments WHERE status = 'active' GROUP BY person_id, dose_number HAVING COUNT(*) > 1) d",
    )
    .fetch_one(&mut *t.begin_write().await.expect("tx"))
    .await
    .expect("doubles");
    assert_eq!(
        doubles, 0,
        "nobody holds two active appointments for one dose"
    );
}

vaxloop_store::backend_tests! {
    async fn twenty_racers_for_five_seats_leave_five_winners(t) {
        let w = world(&t, &[5], 100, 20).await;
        let results = race(&t, &w, w.people.iter().map(|p| (0, vec![*p])).collect()).await;
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 5);
        assert!(results.iter().filter_map(|r| r.as_ref().err()).all(|e| matches!(e, Refusal::SlotFull { free: 0, .. })));
        invariants(&t).await;
    }

    async fn the_last_doses_of_a_site_day_go_to_exactly_that_many(t) {
        let w = world(&t, &[5, 5], 7, 20).await;
        let results = race(&t, &w, w.people.iter().enumerate().map(|(i, p)| (i % 2, vec![*p])).collect()).await;
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 7);
        assert!(results.iter().filter_map(|r| r.as_ref().err()).any(|e| matches!(e, Refusal::NoDoses { free: 0, .. })));
        invariants(&t).await;
    }

    async fn a_team_racing_individuals_is_booked_whole_or_not_at_all(t) {
        let w = world(&t, &[6], 100, 12).await;
        let team: Vec<i64> = w.people[..4].to_vec();
        let mut entries = vec![(0, team.clone())];
        entries.extend(w.people[4..].iter().map(|p| (0, vec![*p])));
        let results = race(&t, &w, entries).await;
        let team_won = results[0].is_ok();
        let singles = results[1..].iter().filter(|r| r.is_ok()).count();
        assert_eq!(singles, if team_won { 2 } else { 6 }, "team won: {team_won}");
        let team_active: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM appointments WHERE status = 'active' AND person_id IN ({})",
            team.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(", ")
        )))
        .fetch_one(&mut *t.begin_write().await.expect("tx"))
        .await
        .expect("count");
        assert_eq!(team_active, if team_won { 4 } else { 0 }, "no half-booked teams");
        invariants(&t).await;
    }

    async fn one_person_racing_themselves_gets_one_appointment(t) {
        let w = world(&t, &[10, 10], 100, 1).await;
        let me = w.people[0];
        let results = race(&t, &w, (0..8).map(|i| (i % 2, vec![me])).collect()).await;
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
        assert!(results.iter().filter_map(|r| r.as_ref().err()).all(|e| *e == Refusal::AlreadyBooked { person_id: me }));
        invariants(&t).await;
    }

    async fn set_wise_singles_agree_with_one_by_one(t) {
        // The same world twice: one books a queue of single people set-wise in one
        // transaction, the other one booking at a time; every outcome and count must agree.
        let twin = match t.backend() {
            vaxloop_store::Backend::Sqlite => TestDb::sqlite().await,
            vaxloop_store::Backend::Postgres => TestDb::postgres().await.expect("postgres"),
        };
        let w = world(&t, &[3, 2, 4], 7, 12).await;
        let w2 = world(&twin, &[3, 2, 4], 7, 12).await;
        fn one(w: &World, slot: i64, p: usize) -> Booking<'_> {
            Booking {
                slot_id: slot, people: std::slice::from_ref(&w.people[p]), vaccine_id: w.vaccine,
                dose_number: 1, team_id: None, walk_in: p == 9,
            }
        }
        for (db, w) in [(&t, &w), (&twin, &w2)] {
            let p0 = [w.people[0]];
            book_alone(db, &Booking { people: &p0, ..one(w, w.slots[0], 0) }).await.expect("q").expect("p0 booked");
        }
        // (slot index or a missing slot, person)
        let queue: [(Option<usize>, usize); 12] = [
            (Some(0), 1), (Some(0), 2), (Some(0), 3), (Some(0), 4), (Some(1), 5), (Some(1), 6),
            (Some(1), 7), (Some(2), 0), (Some(2), 8), (Some(2), 9), (Some(2), 10), (None, 11),
        ];
        let slot_of = |w: &World, s: Option<usize>| s.map_or(987_654, |s| w.slots[s]);
        let items: Vec<booking::Single> = queue.iter().map(|&(s, p)| booking::Single {
            slot_id: slot_of(&w, s), person_id: w.people[p], vaccine_id: w.vaccine, walk_in: p == 9,
        }).collect();
        let mut tx = t.begin_write().await.expect("tx");
        let together = booking::book_singles(&mut tx, &items, 1, now_ms()).await.expect("q").expect("no surprise");
        tx.commit().await.expect("commit");
        let mut apart = Vec::new();
        for &(s, p) in &queue {
            apart.push(book_alone(&twin, &one(&w2, slot_of(&w2, s), p)).await.expect("q").map(|ids| ids.len()));
        }
        let together: Vec<Result<usize, Refusal>> = together.into_iter().map(|r| r.map(|_| 1)).collect();
        assert_eq!(together, apart);
        assert_eq!(together.iter().filter(|r| r.is_ok()).count(), 6, "{together:?}");
        assert_eq!(booking::slot_counts(&t).await.expect("counts"), booking::slot_counts(&twin).await.expect("counts"));
        let doses = |db: &TestDb| {
            let db = db.db.clone();
            async move {
                sqlx::query_scalar::<_, i64>("SELECT doses_booked FROM site_days")
                    .fetch_one(&mut *db.begin_write().await.expect("tx")).await.expect("doses")
            }
        };
        assert_eq!(doses(&t).await, 7);
        assert_eq!(doses(&twin).await, 7);
        for p in [1usize, 2, 5, 6, 8, 9] {
            assert_eq!(booking::active_of_person(&t, w.people[p]).await.expect("q").len(), 1, "person {p}");
        }
        invariants(&t).await;
    }

    async fn cancelling_gives_the_place_and_the_dose_back(t) {
        let w = world(&t, &[1], 1, 2).await;
        fn b<'a>(w: &World, p: &'a [i64]) -> Booking<'a> {
            Booking { slot_id: w.slots[0], people: p, vaccine_id: w.vaccine, dose_number: 1, team_id: None, walk_in: false }
        }
        let first = book_alone(&t, &b(&w, &[w.people[0]])).await.expect("q").expect("booked");
        assert!(matches!(book_alone(&t, &b(&w, &[w.people[1]])).await.expect("q"), Err(Refusal::SlotFull { .. })));
        assert!(cancel_alone(&t, first[0]).await.expect("cancel"));
        assert!(!cancel_alone(&t, first[0]).await.expect("again"), "cancelling twice changes nothing");
        book_alone(&t, &b(&w, &[w.people[1]])).await.expect("q").expect("the freed place");
        book_alone(&t, &b(&w, &[w.people[0]])).await.expect("q").expect_err("full again");
        invariants(&t).await;
    }
}

/// Random sequences of book / team-book / walk-in / cancel / reschedule / allocate (with more
/// places) / deliver / waste against a model kept in memory: after every step the database says
/// exactly what the model says — places, doses promised, stock — and no invariant breaks.
async fn model_run(t: &TestDb, seed: u64, steps: usize) {
    use rand::{Rng, SeedableRng};
    use std::collections::{BTreeMap, BTreeSet};
    let w = world(t, &[3, 2, 4], 6, 14).await;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut capacity: Vec<i64> = vec![3, 2, 4];
    let mut booked: Vec<i64> = vec![0; 3];
    let mut allocated: i64 = 6;
    let mut active: BTreeMap<i64, (i64, usize)> = BTreeMap::new(); // appointment -> (person, slot)
    let mut holding: BTreeSet<i64> = BTreeSet::new();
    // A lot in stock at the site: what was delivered, and what is left after waste.
    let site: i64 = sqlx::query_scalar("SELECT site_id FROM slots WHERE id = $1")
        .bind(w.slots[0])
        .fetch_one(&mut *t.begin_write().await.expect("tx"))
        .await
        .expect("site");
    let lot = {
        let mut tx = t.begin_write().await.expect("tx");
        let lot = vaccines::insert_lot(&mut tx, w.vaccine, &format!("M{seed}"), "2099-12-31")
            .await
            .expect("lot");
        tx.commit().await.expect("commit");
        lot
    };
    let (mut delivered, mut remaining) = (0i64, 0i64);
    for step in 0..steps {
        match rng.random_range(0..14) {
            0..=4 => {
                let slot = rng.random_range(0..3);
                let size = if rng.random_bool(0.3) {
                    rng.random_range(2..4)
                } else {
                    1
                };
                let mut people: Vec<i64> = Vec::new();
                while people.len() < size {
                    let p = w.people[rng.random_range(0..w.people.len())];
                    if !people.contains(&p) {
                        people.push(p);
                    }
                }
                let b = Booking {
                    slot_id: w.slots[slot],
                    people: &people,
                    vaccine_id: w.vaccine,
                    dose_number: 1,
                    team_id: None,
                    walk_in: rng.random_bool(0.1),
                };
                let got = book_alone(t, &b).await.expect("book");
                let n = people.len() as i64;
                let total: i64 = booked.iter().sum();
                let expect_ok = booked[slot] + n <= capacity[slot]
                    && total + n <= allocated
                    && people.iter().all(|p| !holding.contains(p));
                assert_eq!(
                    got.is_ok(),
                    expect_ok,
                    "seed {seed} step {step}: booking {people:?} into slot {slot}: {got:?}"
                );
                if let Ok(ids) = got {
                    booked[slot] += n;
                    for (id, p) in ids.iter().zip(&people) {
                        active.insert(*id, (*p, slot));
                        holding.insert(*p);
                    }
                }
            }
            5..=7 => {
                let pick = if active.is_empty() {
                    None
                } else {
                    active.iter().nth(rng.random_range(0..active.len()))
                };
                if let Some((&id, &(person, slot))) = pick {
                    assert!(
                        cancel_alone(t, id).await.expect("cancel"),
                        "seed {seed} step {step}"
                    );
                    active.remove(&id);
                    holding.remove(&person);
                    booked[slot] -= 1;
                } else {
                    assert!(!cancel_alone(t, 999_999).await.expect("cancel"));
                }
            }
            10..=11 => {
                // A move: the old place back and the new one taken in one transaction, or — when
                // the new slot is full — nothing changes.
                let pick = if active.is_empty() {
                    None
                } else {
                    active.iter().nth(rng.random_range(0..active.len()))
                };
                if let Some((&id, &(person, from))) = pick {
                    let to = rng.random_range(0..3);
                    let now = vaxloop_store::now_ms();
                    let mut tx = t.begin_write().await.expect("tx");
                    assert!(booking::cancel_in(&mut tx, id, now).await.expect("cancel"));
                    let b = Booking {
                        slot_id: w.slots[to],
                        people: &[person],
                        vaccine_id: w.vaccine,
                        dose_number: 1,
                        team_id: None,
                        walk_in: false,
                    };
                    let got = booking::book_in(&mut tx, &b, now).await.expect("book");
                    let expect_ok = to == from || booked[to] < capacity[to];
                    assert_eq!(
                        got.is_ok(),
                        expect_ok,
                        "seed {seed} step {step}: moving {person} from {from} to {to}: {got:?}"
                    );
                    match got {
                        Ok(ids) => {
                            tx.commit().await.expect("commit");
                            active.remove(&id);
                            active.insert(ids[0], (person, to));
                            booked[from] -= 1;
                            booked[to] += 1;
                        }
                        Err(_) => tx.rollback().await.expect("rollback"),
                    }
                }
            }
            12 => {
                // A delivery received at the site.
                let doses = rng.random_range(1..6);
                let mut tx = t.begin_write().await.expect("tx");
                let d = vaccines::plan_delivery(&mut tx, lot, site, DAY, doses)
                    .await
                    .expect("plan");
                vaccines::receive_delivery(&mut tx, d, None, vaxloop_store::now_ms())
                    .await
                    .expect("receive");
                tx.commit().await.expect("commit");
                delivered += doses;
                remaining += doses;
            }
            13 => {
                // Waste: refused beyond what is left, never below zero.
                let doses = rng.random_range(1..4);
                let mut tx = t.begin_write().await.expect("tx");
                let got = vaccines::waste(
                    &mut tx,
                    lot,
                    site,
                    doses,
                    "dropped",
                    None,
                    vaxloop_store::now_ms(),
                )
                .await
                .expect("waste");
                assert_eq!(
                    got.is_ok(),
                    doses <= remaining,
                    "seed {seed} step {step}: waste {doses} of {remaining}: {got:?}"
                );
                if got.is_ok() {
                    tx.commit().await.expect("commit");
                    remaining -= doses;
                } else {
                    tx.rollback().await.expect("rollback");
                }
            }
            _ => {
                let more = rng.random_range(1..3);
                let mut tx = t.begin_write().await.expect("tx");
                let site: i64 = sqlx::query_scalar("SELECT site_id FROM slots WHERE id = $1")
                    .bind(w.slots[0])
                    .fetch_one(&mut *tx)
                    .await
                    .expect("site");
                vaccines::allocate(&mut tx, site, DAY, more)
                    .await
                    .expect("allocate");
                tx.commit().await.expect("commit");
                allocated += more;
                // Capacity is raised too, now and then, as the desk would after adding desks.
                let slot = rng.random_range(0..3);
                capacity[slot] += 1;
                let mut tx = t.begin_write().await.expect("tx");
                sqlx::query("UPDATE slots SET capacity = capacity + 1 WHERE id = $1")
                    .bind(w.slots[slot])
                    .execute(&mut *tx)
                    .await
                    .expect("capacity");
                tx.commit().await.expect("commit");
            }
        }
        let counts = booking::slot_counts(t).await.expect("counts");
        for (i, (_, cap, b, act)) in counts.iter().enumerate() {
            assert_eq!(
                (*cap, *b, *act),
                (capacity[i], booked[i], booked[i]),
                "seed {seed} step {step}: slot {i}"
            );
        }
        let doses: (i64, i64) = {
            let row: (i64, i64) = sqlx::query_as(
                "SELECT doses_allocated, doses_booked FROM site_days WHERE day = $1",
            )
            .bind(DAY)
            .fetch_one(&mut *t.begin_write().await.expect("tx"))
            .await
            .expect("site day");
            row
        };
        assert_eq!(
            doses,
            (allocated, booked.iter().sum()),
            "seed {seed} step {step}: site-day"
        );
        let ledger = vaccines::ledger_balances(t).await.expect("ledger");
        let ours: Vec<_> = ledger.iter().filter(|l| l.lot_id == lot).collect();
        if delivered > 0 {
            assert_eq!(ours.len(), 1, "seed {seed} step {step}");
            assert_eq!(
                (ours[0].delivered, ours[0].ledger_sum, ours[0].remaining),
                (delivered, remaining, remaining),
                "seed {seed} step {step}: delivered = wasted + remaining, never negative"
            );
        }
    }
    invariants(t).await;
}

mod model {
    use super::*;

    vaxloop_store::backend_tests! {
        async fn random_sequences_agree_with_a_model_after_every_step(t) {
            model_run(&t, 7, 120).await;
            for seed in 1..4 {
                let fresh = if t.backend() == vaxloop_store::Backend::Sqlite { TestDb::sqlite().await } else { TestDb::postgres().await.expect("postgres") };
                model_run(&fresh, seed, 80).await;
            }
        }
    }
}
