//! The store's contract, one suite run on both backends: schema invariants, PII at rest, logins,
//! sessions, the stock ledger. Each test gets a fresh database.

use chrono::NaiveDate;
use vaxloop_core::{ResidentId, Role, SiteKind, Source, UnitKind, WorkGroupKind, ZoneKind};
use vaxloop_store::org::{NewUnit, NewWorkGroup};
use vaxloop_store::people::NewPerson;
use vaxloop_store::sites::{NewSite, NewZone};
use vaxloop_store::testing::TestDb;
use vaxloop_store::users::NewUser;
use vaxloop_store::vaccines::NewVaccine;
use vaxloop_store::{
    StoreError, audit, now_ms, org, people, sessions, sites, stats, users, vaccines,
};

fn rid(seq: u16) -> ResidentId {
    ResidentId::compose(
        310112,
        NaiveDate::from_ymd_opt(1980, 5, 17).expect("date"),
        seq,
    )
}

/// A work group with one unit; returns the unit id.
async fn one_unit(t: &TestDb, code: &str) -> i64 {
    let mut tx = t.begin_write().await.expect("begin");
    let g = org::insert_work_group(
        &mut tx,
        &NewWorkGroup {
            code: format!("G{code}"),
            name: "社区组".into(),
            kind: WorkGroupKind::Community,
            leader_name: None,
        },
        now_ms(),
    )
    .await
    .expect("group");
    let u = org::insert_unit(
        &mut tx,
        &t.cipher,
        &NewUnit {
            code: code.into(),
            work_group_id: g,
            name: "虹桥新村".into(),
            kind: UnitKind::Community,
            address: "虹桥镇".into(),
            lat: Some(31.18),
            lon: Some(121.39),
            target_headcount: 100,
            contact_name: None,
            contact_phone: None,
            reg_token: format!("tok-{code}"),
        },
        now_ms(),
    )
    .await
    .expect("unit");
    tx.commit().await.expect("commit");
    u
}

async fn one_site(t: &TestDb) -> i64 {
    let mut tx = t.begin_write().await.expect("begin");
    let id = sites::insert(
        &mut tx,
        &NewSite {
            code: "HCL".into(),
            name: "合川路接种点".into(),
            kind: SiteKind::Fixed,
            address: "合川路".into(),
            lat: None,
            lon: None,
            open_from: None,
            open_until: None,
            hours: vec![(0, 480, 1020)],
            zones: ZoneKind::ALL
                .iter()
                .map(|&kind| NewZone {
                    kind,
                    space: 50,
                    desks_am: 4,
                    desks_pm: 3,
                    mean_service_seconds: 90,
                })
                .collect(),
        },
        now_ms(),
    )
    .await
    .expect("site");
    tx.commit().await.expect("commit");
    id
}

vaxloop_store::backend_tests! {
    async fn a_site_serves_every_unit_until_units_are_listed(t) {
        let a = one_unit(&t, "U-A").await;
        let b = one_unit(&t, "U-B").await;
        let site = one_site(&t).await;
        let serves = |unit: i64| {
            let db = t.db.clone();
            async move { sites::serving_unit(&db, unit).await.expect("q").iter().any(|s| s.id == site) }
        };
        assert!(serves(a).await && serves(b).await);
        assert_eq!(sites::serving_unit(&t, b).await.expect("q").len(), 1);
        assert!({ let mut tx = t.begin_write().await.expect("tx"); let changed = sites::serve_unit(&mut tx, site, a, now_ms()).await.expect("add"); tx.commit().await.expect("commit"); changed });
        assert!(!{ let mut tx = t.begin_write().await.expect("tx"); let changed = sites::serve_unit(&mut tx, site, a, now_ms()).await.expect("again"); tx.commit().await.expect("commit"); changed }, "adding twice changes nothing");
        assert!(serves(a).await);
        assert!(!serves(b).await);
        assert!(sites::serving_unit(&t, b).await.expect("q").is_empty());
        assert_eq!(sites::units_served(&t, site).await.expect("q").iter().map(|u| u.0).collect::<Vec<_>>(), vec![a]);
        let ghost = sqlx::query("INSERT INTO site_units (site_id, unit_id, created_at) VALUES ($1, $2, 0)").bind(site).bind(9_999_999i64).execute(&mut *t.begin_write().await.expect("tx")).await;
        assert!(ghost.is_err(), "an unknown unit cannot be listed");
        assert!({ let mut tx = t.begin_write().await.expect("tx"); let changed = sites::stop_serving_unit(&mut tx, site, a).await.expect("remove"); tx.commit().await.expect("commit"); changed });
        assert!(serves(b).await, "an empty list serves everyone again");
    }

    async fn people_are_stored_sealed_and_found_by_blind_index(t) {
        let unit = one_unit(&t, "U1").await;
        let mut tx = t.begin_write().await.expect("begin");
        let n = people::insert_many(&mut tx, &t.cipher, &[
            NewPerson { unit_id: unit, name: "张伟".into(), resident_id: rid(11), phone: Some("13800138000".into()), disabled: false, consent: None, source: Source::Import, confirmed: true, note: None },
            NewPerson { unit_id: unit, name: "王芳".into(), resident_id: rid(12), phone: None, disabled: true, consent: None, source: Source::Import, confirmed: true, note: None },
        ], now_ms()).await.expect("insert");
        tx.commit().await.expect("commit");
        assert_eq!(n, 2);
        let found = people::by_resident_id(&t, &t.cipher, &rid(11)).await.expect("query").expect("found");
        assert_eq!(found.name, "张伟");
        assert_eq!(found.id_masked, rid(11).masked());
        assert_eq!(found.phone_masked.as_deref(), Some("138****8000"));
        assert_eq!(found.sex, "M");
        assert_eq!(found.birth_date, "1980-05-17");
        let (id, phone) = people::reveal(&t, &t.cipher, found.id).await.expect("reveal");
        assert_eq!(id, rid(11).as_str());
        assert_eq!(phone.as_deref(), Some("13800138000"));
        assert!(people::by_resident_id(&t, &t.cipher, &rid(13)).await.expect("query").is_none());
    }

    async fn the_same_person_cannot_join_a_second_unit_and_nothing_is_half_written(t) {
        let a = one_unit(&t, "UA").await;
        let b = one_unit(&t, "UB").await;
        let mut tx = t.begin_write().await.expect("begin");
        people::insert_many(&mut tx, &t.cipher, &[NewPerson { unit_id: a, name: "李娜".into(), resident_id: rid(21), phone: None, disabled: false, consent: None, source: Source::Import, confirmed: true, note: None }], now_ms()).await.expect("first");
        tx.commit().await.expect("commit");
        let mut tx = t.begin_write().await.expect("begin");
        let err = people::insert_many(&mut tx, &t.cipher, &[
            NewPerson { unit_id: b, name: "刘洋".into(), resident_id: rid(22), phone: None, disabled: false, consent: None, source: Source::Import, confirmed: true, note: None },
            NewPerson { unit_id: b, name: "李娜".into(), resident_id: rid(21), phone: None, disabled: false, consent: None, source: Source::Import, confirmed: true, note: None },
        ], now_ms()).await.expect_err("duplicate refused");
        assert!(matches!(err, StoreError::Constraint { .. }), "{err:?}");
        drop(tx);
        assert_eq!(people::count(&t).await.expect("count"), 1, "the rolled-back batch left nothing");
    }

    async fn plaintext_id_numbers_never_reach_the_database(t) {
        let unit = one_unit(&t, "U2").await;
        let mut tx = t.begin_write().await.expect("begin");
        people::insert_many(&mut tx, &t.cipher, &[NewPerson { unit_id: unit, name: "陈静".into(), resident_id: rid(31), phone: Some("13912345678".into()), disabled: false, consent: None, source: Source::Import, confirmed: true, note: None }], now_ms()).await.expect("insert");
        tx.commit().await.expect("commit");
        let rows = people::of_unit(&t, unit, 10, 0).await.expect("roster");
        let shown = format!("{rows:?}");
        assert!(!shown.contains(rid(31).as_str()));
        assert!(!shown.contains("13912345678"));
    }

    async fn scoped_roles_need_their_scope(t) {
        let mut tx = t.begin_write().await.expect("begin");
        let err = users::insert(&mut tx, &NewUser {
            username: Some("contact".into()),
            display_name: "联络员".into(),
            password_hash: "x".into(),
            role: Some(Role::UnitContact),
            ..NewUser::default()
        }, now_ms()).await.expect_err("unit contact without a unit");
        assert!(matches!(err, StoreError::Constraint { .. }), "{err:?}");
    }

    async fn failed_logins_lock_after_five(t) {
        let mut tx = t.begin_write().await.expect("begin");
        let id = users::insert(&mut tx, &NewUser {
            username: Some("admin".into()),
            display_name: "管理员".into(),
            password_hash: "x".into(),
            role: Some(Role::Admin),
            ..NewUser::default()
        }, now_ms()).await.expect("insert");
        tx.commit().await.expect("commit");
        let now = now_ms();
        let mut tx = t.begin_write().await.expect("tx");
        for _ in 0..4 {
            assert_eq!(users::record_failed_login(&mut tx, id, now).await.expect("fail"), None);
        }
        tx.commit().await.expect("commit");
        assert_eq!(users::by_id(&t, id).await.expect("q").expect("user").locked_until, None);
        let mut tx = t.begin_write().await.expect("tx");
        let until = users::record_failed_login(&mut tx, id, now).await.expect("fail").expect("locked");
        // During the lock a failure neither counts nor extends it.
        assert_eq!(users::record_failed_login(&mut tx, id, now + 60_000).await.expect("fail"), None);
        tx.commit().await.expect("commit");
        let user = users::by_username(&t, "admin").await.expect("q").expect("user");
        assert_eq!((user.failed_logins, user.locked_until), (0, Some(until)), "the count starts again with the lock");
        assert!(until > now);
        // After the lock, one failure does not lock again: five more tries.
        let mut tx = t.begin_write().await.expect("tx");
        assert_eq!(users::record_failed_login(&mut tx, id, until + 1).await.expect("fail"), None);
        users::record_login(&mut tx, id).await.expect("reset");
        tx.commit().await.expect("commit");
        let user = users::by_id(&t, id).await.expect("q").expect("user");
        assert_eq!((user.failed_logins, user.locked_until), (0, None));
    }

    async fn sessions_expire_and_ids_are_unique(t) {
        let now = now_ms();
        assert!(sessions::create(&t, "s1", "{}", now + 1000, None).await.expect("create"));
        assert!(!sessions::create(&t, "s1", "{}", now + 1000, None).await.expect("create twice"));
        sessions::save(&t, "s1", "{\"a\":1}", now + 1000, None).await.expect("save");
        assert_eq!(sessions::load(&t, "s1", now).await.expect("load").as_deref(), Some("{\"a\":1}"));
        assert_eq!(sessions::load(&t, "s1", now + 2000).await.expect("load"), None);
        assert_eq!(sessions::delete_expired(&t, now + 2000).await.expect("gc"), 1);
        sessions::delete(&t, "s1").await.expect("delete");
    }

    async fn answers_settled_together_keep_the_first_per_key(t) {
        use vaxloop_store::idempotency::{self, Claim, Settle};
        let mut tx = t.begin_write().await.expect("begin");
        let uid = users::insert(&mut tx, &NewUser {
            username: Some("res1".into()),
            display_name: "居民".into(),
            password_hash: "h".into(),
            role: Some(Role::Desk),
            ..NewUser::default()
        }, now_ms()).await.expect("insert");
        let now = now_ms();
        assert_eq!(idempotency::claim(&mut tx, uid, "done", "h1", now).await.expect("claim"), Claim::Fresh);
        idempotency::answer(&mut tx, uid, "done", "h1", 201, "{\"ok\":1}", now).await.expect("answer");
        let one = |key: &'static str, hash: &'static str, body: &'static str| Settle {
            user_id: uid, key, request_hash: hash, status: 409, body,
        };
        // 120 new keys cross a chunk boundary; "twice" is named twice; "done" was answered
        // before; "other" is reused for another request after its first answer here.
        let fresh: Vec<String> = (0..120).map(|i| format!("k{i}")).collect();
        let mut items: Vec<Settle> = fresh.iter().map(|k| Settle {
            user_id: uid, key: k, request_hash: "h", status: 409, body: "{}",
        }).collect();
        items.extend([one("twice", "h2", "{\"first\":1}"), one("twice", "h2", "{\"second\":1}"),
                      one("done", "h1", "{}"), one("other", "h3", "{}"), one("other", "h4", "{}")]);
        let claims = idempotency::settle_many(&mut tx, &items, now).await.expect("settle");
        assert!(claims[..120].iter().all(|c| *c == Claim::Fresh));
        assert_eq!(claims[120], Claim::Fresh);
        assert_eq!(claims[121], Claim::Answered { status: 409, body: "{\"first\":1}".into() });
        assert_eq!(claims[122], Claim::Answered { status: 201, body: "{\"ok\":1}".into() });
        assert_eq!(claims[123], Claim::Fresh);
        assert_eq!(claims[124], Claim::Mismatch);
        // A claim left unanswered (its server killed between claim and answer): in flight within
        // its lease, taken over once by the first request after it, in flight again for others.
        assert_eq!(idempotency::claim(&mut tx, uid, "stuck", "h5", now).await.expect("claim"), Claim::Fresh);
        assert_eq!(idempotency::claim(&mut tx, uid, "stuck", "h5", now + 1_000).await.expect("claim"), Claim::InFlight { since: now });
        let later = now + idempotency::IN_FLIGHT_LEASE_MS + 1;
        assert_eq!(idempotency::claim(&mut tx, uid, "stuck", "h5", later).await.expect("claim"), Claim::Fresh, "taken over");
        assert_eq!(idempotency::claim(&mut tx, uid, "stuck", "h5", later).await.expect("claim"), Claim::InFlight { since: later });
        assert_eq!(idempotency::claim(&mut tx, uid, "stuck", "h6", later).await.expect("claim"), Claim::Mismatch);
        tx.commit().await.expect("commit");
    }

    async fn a_session_loads_with_its_login_in_one_read(t) {
        let mut tx = t.begin_write().await.expect("begin");
        let id = users::insert(&mut tx, &NewUser {
            username: Some("desk1".into()),
            display_name: "预约台".into(),
            password_hash: "h".into(),
            role: Some(Role::Desk),
            ..NewUser::default()
        }, now_ms()).await.expect("insert");
        tx.commit().await.expect("commit");
        let now = now_ms();
        assert!(sessions::create(&t, "anon", "{}", now + 1000, None).await.expect("create"));
        let (data, user) = sessions::load_with_user(&t, "anon", now).await.expect("load").expect("session");
        assert_eq!((data.as_str(), user), ("{}", None));
        sessions::save(&t, "anon", "{\"b\":2}", now + 1000, Some(id)).await.expect("log in");
        let (data, user) = sessions::load_with_user(&t, "anon", now).await.expect("load").expect("session");
        assert_eq!(data, "{\"b\":2}");
        assert_eq!(user, users::by_id(&t, id).await.expect("user"));
        assert_eq!(sessions::load_with_user(&t, "anon", now + 2000).await.expect("expired"), None);
        assert_eq!(sessions::load_with_user(&t, "nobody", now).await.expect("missing"), None);

        // Many at once, more than one statement's worth: each present, unexpired id once,
        // with the same login a single read gives; missing and expired ids are left out.
        let mut ids = Vec::new();
        for i in 0..sessions::LOAD_CHUNK + 5 {
            let id_text = format!("s{i}");
            let expires = if i % 10 == 3 { now - 1 } else { now + 1000 };
            let user = (i % 2 == 0).then_some(id);
            assert!(sessions::create(&t, &id_text, &format!("{{\"i\":{i}}}"), expires, user).await.expect("create"));
            ids.push(id_text);
        }
        ids.push("nobody".into());
        let keys: Vec<&str> = ids.iter().map(String::as_str).collect();
        let mut many = sessions::load_many_with_user(&t, &keys, now).await.expect("many");
        many.sort_by_key(|(k, _)| k[1..].parse::<usize>().expect("number"));
        let mut alone = Vec::new();
        for key in &keys {
            if let Some(found) = sessions::load_with_user(&t, key, now).await.expect("one") {
                alone.push((key.to_string(), found));
            }
        }
        assert_eq!(many, alone);
        assert_eq!(many.len(), sessions::LOAD_CHUNK + 5 - 7);
    }

    async fn deliveries_feed_an_append_only_balanced_ledger(t) {
        let site = one_site(&t).await;
        let mut tx = t.begin_write().await.expect("begin");
        let v = vaccines::insert_vaccine(&mut tx, &NewVaccine {
            code: "SINO".into(), name: "新冠灭活疫苗".into(), manufacturer: "北京生物".into(),
            doses_in_series: 2, min_interval_days: 21, min_age: 3, max_age: None,
            doses_per_vial: 1, open_vial_minutes: 0, observation_minutes: 30,
        }).await.expect("vaccine");
        let lot = vaccines::insert_lot(&mut tx, v, "202611A", "2027-06-30").await.expect("lot");
        let d = vaccines::plan_delivery(&mut tx, lot, site, "2026-11-28", 600).await.expect("plan");
        vaccines::receive_delivery(&mut tx, d, None, now_ms()).await.expect("receive");
        tx.commit().await.expect("commit");
        let mut tx = t.begin_write().await.expect("begin");
        let again = vaccines::receive_delivery(&mut tx, d, None, now_ms()).await;
        assert!(matches!(again, Err(StoreError::NotFound(_))), "received twice: {again:?}");
        drop(tx);
        let balances = vaccines::ledger_balances(&t).await.expect("balances");
        assert_eq!(balances.len(), 1);
        assert_eq!((balances[0].delivered, balances[0].ledger_sum, balances[0].remaining), (600, 600, 600));
        let mut tx = t.begin_write().await.expect("begin");
        let tamper = sqlx::query("UPDATE stock_ledger SET delta = 1").execute(&mut *tx).await;
        assert!(tamper.is_err(), "ledger rows are never updated");
        drop(tx);
        let mut tx = t.begin_write().await.expect("begin");
        let negative = sqlx::query("UPDATE stock_balances SET remaining = remaining - 601").execute(&mut *tx).await;
        assert!(negative.is_err(), "remaining is never negative");
        drop(tx);
        assert_eq!(stats::overview(&t).await.expect("overview").doses_in_stock, 600);
    }

    async fn slots_cannot_hold_more_than_capacity(t) {
        let site = one_site(&t).await;
        let mut tx = t.begin_write().await.expect("begin");
        sqlx::query("INSERT INTO slots (site_id, day, starts_min, ends_min, capacity) VALUES ($1, '2026-11-28', 480, 510, 2)")
            .bind(site).execute(&mut *tx).await.expect("slot");
        tx.commit().await.expect("commit");
        let mut tx = t.begin_write().await.expect("begin");
        let over = sqlx::query("UPDATE slots SET booked = 3").execute(&mut *tx).await;
        assert!(over.is_err(), "CHECK (booked <= capacity)");
        drop(tx);
        let zones = sites::zones(&t, site).await.expect("zones");
        assert_eq!(zones.iter().map(|z| z.kind).collect::<Vec<_>>(), ZoneKind::ALL.to_vec());
        assert_eq!((zones[0].desks_am, zones[0].desks_pm), (4, 3));
    }

    async fn two_teams_of_one_site_day_made_at_once_take_two_numbers(t) {
        let site = one_site(&t).await;
        let unit = one_unit(&t, "C1").await;
        // The first transaction makes its team and holds it uncommitted while the second makes
        // one of the same site-day (on PostgreSQL it reads the same last number, waits on the
        // first's code, then takes the next).
        let mut first = t.begin_write().await.expect("begin");
        let a = vaxloop_store::teams::insert(&mut first, unit, site, "2026-12-09", 5).await.expect("first");
        let db = t.db.clone();
        let second = tokio::spawn(async move {
            let mut tx = db.begin_write().await.expect("begin");
            let b = vaxloop_store::teams::insert(&mut tx, unit, site, "2026-12-09", 5).await.expect("second");
            tx.commit().await.expect("commit");
            b
        });
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        first.commit().await.expect("commit");
        let b = second.await.expect("joined");
        assert_eq!((a.number, b.number), (1, 2));
        assert_ne!(a.code, b.code);
    }

    async fn audit_entries_are_append_only(t) {
        audit::record(&t, &audit::Entry { actor_user_id: None, action: "login", target: "user:1", reason: None, outcome: audit::Outcome::Denied, detail: None }, now_ms()).await.expect("record");
        let recent = audit::recent(&t, 10).await.expect("recent");
        assert_eq!(recent.len(), 1);
        assert_eq!(recent[0].outcome, "denied");
        let mut tx = t.begin_write().await.expect("begin");
        assert!(sqlx::query("DELETE FROM audit_log").execute(&mut *tx).await.is_err());
    }

    async fn migrations_are_idempotent(t) {
        t.migrate().await.expect("second run changes nothing");
        t.ping().await.expect("ping");
    }
}

/// The two migration trees describe the same schema: same tables, same columns in the same order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_backends_have_the_same_tables_and_columns() {
    use sqlx::Row;
    let lite = TestDb::sqlite().await;
    let Some(pg) = TestDb::postgres().await else {
        return;
    };
    let mut lite_conn = lite.begin_write().await.expect("tx");
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations' ORDER BY name",
    )
    .fetch_all(&mut *lite_conn)
    .await
    .expect("sqlite tables");
    let mut pg_conn = pg.begin_write().await.expect("tx");
    let pg_tables: Vec<String> = sqlx::query_scalar(
        "SELECT CAST(table_name AS TEXT) FROM information_schema.tables WHERE table_schema = 'public' \
         AND table_name <> '_sqlx_migrations' ORDER BY 1",
    )
    .fetch_all(&mut *pg_conn)
    .await
    .expect("pg tables");
    assert_eq!(tables, pg_tables);
    assert!(tables.len() >= 20, "{tables:?}");
    for table in &tables {
        let lite_cols: Vec<String> = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT name FROM pragma_table_info('{table}') ORDER BY cid"
        )))
        .fetch_all(&mut *lite_conn)
        .await
        .expect("sqlite columns")
        .iter()
        .map(|r| r.get::<String, _>(0))
        .collect();
        let pg_cols: Vec<String> = sqlx::query_scalar(
            "SELECT CAST(column_name AS TEXT) FROM information_schema.columns WHERE table_schema = 'public' \
             AND table_name = $1 ORDER BY ordinal_position",
        )
        .bind(table)
        .fetch_all(&mut *pg_conn)
        .await
        .expect("pg columns");
        assert_eq!(lite_cols, pg_cols, "columns of {table}");
    }
}
