//! QR self-registration on both backends: roster matches, pending strangers, repeat and
//! concurrent registrations.

use chrono::NaiveDate;
use vaxloop_app::import::{Upload, import_people};
use vaxloop_app::register::{RegisterError, Registered, RegistrationForm, register_by_qr};
use vaxloop_core::{ResidentId, UnitKind, WorkGroupKind, password};
use vaxloop_documents::Limits;
use vaxloop_store::org::{self, NewUnit, NewWorkGroup, Unit};
use vaxloop_store::testing::TestDb;
use vaxloop_store::{journeys, now_ms, people, users};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 27).expect("date")
}

fn rid(seq: u16) -> String {
    ResidentId::compose(
        310112,
        NaiveDate::from_ymd_opt(1950, 2, 3).expect("date"),
        seq,
    )
    .as_str()
    .to_string()
}

fn form(name: &str, id: &str) -> RegistrationForm {
    RegistrationForm {
        name: name.into(),
        id_number: id.into(),
        phone: "13912345678".into(),
        disabled: Some("on".into()),
        pin: "246810".into(),
        pin_again: "246810".into(),
        consent: Some("yes".into()),
    }
}

async fn unit(t: &TestDb, code: &str) -> Unit {
    let mut tx = t.begin_write().await.expect("tx");
    let g = match org::work_group_by_code(t, "GCM").await.expect("q") {
        Some(g) => g.id,
        None => org::insert_work_group(
            &mut tx,
            &NewWorkGroup {
                code: "GCM".into(),
                name: "社区组".into(),
                kind: WorkGroupKind::Community,
                leader_name: None,
            },
            now_ms(),
        )
        .await
        .expect("group"),
    };
    let u = NewUnit {
        code: code.into(),
        work_group_id: g,
        name: format!("{code}居委"),
        kind: UnitKind::Community,
        address: String::new(),
        lat: None,
        lon: None,
        target_headcount: 10,
        contact_name: None,
        contact_phone: None,
        reg_token: format!("token-{code}"),
    };
    let id = org::insert_unit(&mut tx, &t.cipher, &u, now_ms())
        .await
        .expect("unit");
    tx.commit().await.expect("commit");
    org::unit(t, id).await.expect("q").expect("unit")
}

vaxloop_store::backend_tests! {
    async fn without_a_roster_a_registration_is_confirmed_with_a_login(t) {
        let u = unit(&t, "C100").await;
        let done = register_by_qr(&t, &t.cipher, &u, &form("李爷爷", &rid(1)), today()).await.expect("register");
        let Registered::Done { user_id, person_id, confirmed } = done else { panic!("{done:?}") };
        assert!(confirmed);
        let login = users::by_id(&t, user_id).await.expect("q").expect("login");
        assert_eq!(login.person_id, Some(person_id));
        assert!(password::verify("246810", &login.password_hash));
        let person = people::by_id(&t, person_id).await.expect("q").expect("person");
        assert!(person.disabled && person.consent_at.is_some());
        assert_eq!(person.phone_masked.as_deref(), Some("139****5678"));
        assert_eq!(journeys::of_person(&t, person_id).await.expect("journey").len(), 1);
        // Again, with the same ID number: nothing about the record is revealed or changed.
        let again = register_by_qr(&t, &t.cipher, &u, &form("别人", &rid(1)), today()).await.expect("again");
        assert_eq!(again, Registered::AlreadyRegistered);
        assert_eq!(people::by_id(&t, person_id).await.expect("q").expect("person").name, "李爷爷");
    }

    async fn with_a_roster_matches_confirm_and_strangers_wait_for_the_contact(t) {
        let u = unit(&t, "C200").await;
        let other = unit(&t, "C201").await;
        let roster = format!("姓名,身份证号\n王奶奶,{}\n赵叔叔,{}\n", rid(2), rid(4));
        import_people(&t, &t.cipher, &u, Upload { file_name: "r.csv", bytes: roster.as_bytes() }, &Limits::default(), today(), None).await.expect("roster");
        let elsewhere = format!("姓名,身份证号\n钱阿姨,{}\n", rid(6));
        import_people(&t, &t.cipher, &other, Upload { file_name: "r.csv", bytes: elsewhere.as_bytes() }, &Limits::default(), today(), None).await.expect("other roster");

        // On the roster, which holds no phone to send a code to: a claim for the contact to decide,
        // and nothing of the record changes meanwhile.
        let matched = register_by_qr(&t, &t.cipher, &u, &form("王 奶奶", &rid(2)), today()).await.expect("match");
        assert_eq!(matched, Registered::Claimed(vaxloop_app::claims::Proof::Contact));
        let waiting = vaxloop_store::claims::waiting_for_contact(&t, u.id, now_ms()).await.expect("claims");
        assert_eq!(waiting.len(), 1);
        let wrong_name = register_by_qr(&t, &t.cipher, &u, &form("冒名者", &rid(4)), today()).await.expect("mismatch");
        assert_eq!(wrong_name, Registered::RosterMismatch);
        let stranger = register_by_qr(&t, &t.cipher, &u, &form("陌生人", &rid(8)), today()).await.expect("stranger");
        let Registered::Done { person_id, confirmed: false, .. } = stranger else { panic!("{stranger:?}") };
        assert!(journeys::of_person(&t, person_id).await.expect("q").is_empty(), "no journey until confirmed");
        assert_eq!(people::pending_of_unit(&t, u.id).await.expect("pending").len(), 1);
        let from_other_unit = register_by_qr(&t, &t.cipher, &u, &form("钱阿姨", &rid(6)), today()).await.expect("other");
        assert_eq!(from_other_unit, Registered::AlreadyRegistered);

        // The contact rejects the stranger: gone, login and all; then they may register elsewhere.
        let mut tx = t.begin_write().await.expect("tx");
        assert!(!people::reject_pending(&mut tx, other.id, person_id).await.expect("wrong unit"), "only the unit's own contact");
        assert!(people::reject_pending(&mut tx, u.id, person_id).await.expect("reject"));
        tx.commit().await.expect("commit");
        assert!(people::by_id(&t, person_id).await.expect("q").is_none());
        let later = register_by_qr(&t, &t.cipher, &other, &form("陌生人", &rid(8)), today()).await.expect("later");
        let Registered::Done { person_id, confirmed: false, .. } = later else { panic!("{later:?}") };
        let mut tx = t.begin_write().await.expect("tx");
        assert!(people::confirm_pending(&mut tx, other.id, person_id, now_ms()).await.expect("confirm"));
        journeys::open_for_person(&mut tx, person_id, now_ms()).await.expect("journey");
        tx.commit().await.expect("commit");
        assert!(people::by_id(&t, person_id).await.expect("q").expect("person").confirmed);
    }

    async fn bad_forms_name_every_field_and_store_nothing(t) {
        let u = unit(&t, "C300").await;
        let mut f = form("张三", "310112195002030011");
        f.consent = None;
        f.phone = "021-12345678".into();
        match register_by_qr(&t, &t.cipher, &u, &f, today()).await {
            Err(RegisterError::Invalid(problems)) => {
                let fields: Vec<_> = problems.iter().map(|p| p.field).collect();
                assert!(fields.contains(&"phone") && fields.contains(&"consent"), "{problems:?}");
            }
            other => panic!("expected problems, got {other:?}"),
        }
        assert_eq!(people::count(&t).await.expect("count"), 0);
    }

    async fn concurrent_registrations_of_one_person_make_one_record(t) {
        let u = unit(&t, "C400").await;
        let mut tasks = Vec::new();
        for _ in 0..6 {
            let db = t.db.clone();
            let cipher = t.cipher.clone();
            let u = u.clone();
            tasks.push(tokio::spawn(async move { register_by_qr(&db, &cipher, &u, &form("孙某", &rid(10)), today()).await }));
        }
        let mut done = 0;
        for task in tasks {
            match task.await.expect("join").expect("register") {
                Registered::Done { .. } => done += 1,
                Registered::AlreadyRegistered => {}
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(done, 1, "exactly one registration wins");
        assert_eq!(people::count(&t).await.expect("count"), 1);
    }
}
