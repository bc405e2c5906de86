//! The demo town stored on both backends: counts add up, the invariants hold, and the same seed
//! stores the same town.

use chrono::NaiveDate;
use sqlx::Row;
use vaxloop_demo::{TownSpec, generate, store};
use vaxloop_store::testing::TestDb;
use vaxloop_store::{people, stats, users, vaccines};

fn spec(seed: u64) -> TownSpec {
    TownSpec {
        people: 3000,
        seed,
        today: NaiveDate::from_ymd_opt(2026, 11, 27).expect("date"),
    }
}

/// Everything a person can see of the stored town, in a stable order (ciphertexts differ between
/// runs by design — fresh nonces — so the masked forms and plain fields stand in for them).
async fn fingerprint(t: &TestDb) -> Vec<String> {
    let rows = sqlx::query(
        "SELECT u.code, p.name, p.id_masked, p.birth_date, p.sex, p.phone_masked, p.disabled, \
                COALESCE(j.state, '-') \
         FROM people p JOIN units u ON u.id = p.unit_id \
         LEFT JOIN journeys j ON j.person_id = p.id ORDER BY p.id",
    )
    .fetch_all(&mut *t.begin_write().await.expect("tx"))
    .await
    .expect("people");
    rows.iter()
        .map(|r| {
            format!(
                "{}|{}|{}|{}|{}|{:?}|{}|{}",
                r.get::<String, _>(0),
                r.get::<String, _>(1),
                r.get::<String, _>(2),
                r.get::<String, _>(3),
                r.get::<String, _>(4),
                r.get::<Option<String>, _>(5),
                r.get::<i64, _>(6),
                r.get::<String, _>(7)
            )
        })
        .collect()
}

vaxloop_store::backend_tests! {
    async fn a_stored_town_adds_up(t) {
        let town = generate(&spec(3));
        let stored = store(&t, &t.cipher, &town).await.expect("store");
        assert_eq!(stored.people, 3000);
        assert!(stored.slots > 0, "slots are open for the coming days");
        let today = spec(3).today.to_string();
        let hcl = vaxloop_store::sites::by_code(&t, "HCL").await.expect("q").expect("HCL");
        let slots = vaxloop_store::slots::of_site_day(&t, hcl.id, &today).await.expect("slots");
        assert_eq!(slots.len(), 20, "08:00–18:00 in 30-minute slots");
        assert!(slots.iter().all(|s| s.capacity > 0 && s.capacity_reason.contains("bottleneck")));
        let overview = stats::overview(&t).await.expect("overview");
        assert_eq!(overview.people, 3000);
        assert_eq!(overview.work_groups, 5);
        assert_eq!(overview.units as usize, town.units.len());
        assert_eq!(overview.sites, 10);
        assert!(overview.doses_in_stock > 0 && overview.doses_planned > 0);
        let registered = town.people.iter().filter(|p| p.confirmed).count() as u64;
        assert_eq!(stored.registered, registered);
        for b in vaccines::ledger_balances(&t).await.expect("ledger") {
            assert_eq!(b.ledger_sum, b.remaining, "ledger balances for lot {} at site {}", b.lot_id, b.site_id);
        }
        // Every demo login exists, and the resident logs in by ID number.
        let admin = users::by_username(&t, "admin").await.expect("q").expect("admin");
        assert!(vaxloop_core::password::verify(vaxloop_demo::DEMO_PASSWORD, &admin.password_hash));
        let resident = town.logins.iter().find_map(|l| l.person).expect("a resident login");
        let person = people::by_resident_id(&t, &t.cipher, &town.people[resident].id).await.expect("q").expect("found");
        let login = users::by_person(&t, person.id).await.expect("q").expect("resident login");
        assert!(vaxloop_core::password::verify(vaxloop_demo::DEMO_PIN, &login.password_hash));
    }

    async fn the_same_seed_stores_the_same_town(t) {
        store(&t, &t.cipher, &generate(&spec(9))).await.expect("first");
        let first = fingerprint(&t).await;
        let again = TestDb::sqlite().await;
        store(&again, &again.cipher, &generate(&spec(9))).await.expect("second");
        assert_eq!(first, fingerprint(&again).await);
        let other = TestDb::sqlite().await;
        store(&other, &other.cipher, &generate(&spec(10))).await.expect("other seed");
        assert_ne!(first, fingerprint(&other).await);
    }

    async fn a_failed_store_leaves_nothing(t) {
        let mut town = generate(&spec(4));
        // Two people with one ID number: the unique blind index refuses the second, late in the
        // transaction, after groups, units and most people were written.
        let dup = town.people[0].clone();
        town.people.push(dup);
        assert!(store(&t, &t.cipher, &town).await.is_err());
        let overview = stats::overview(&t).await.expect("overview");
        assert_eq!((overview.work_groups, overview.units, overview.people), (0, 0, 0));
    }
}
