//! The journeys of the people at the desks, in a real Chromium at phone size (390×844): what
//! each of them trips over if a page gets it wrong — a refresh wiping a half-typed reason, a
//! desk told "no appointment" about someone vaccinated an hour ago, a resident told "not
//! confirmed" when their second dose is simply not due yet, a refusal shown as a success.

use std::time::Duration;

use chrono::Datelike;
use fantoccini::Locator;
use vaxloop_demo::DEMO_PASSWORD;
use vaxloop_store::testing::TestDb;
use vaxloop_web::WebConfig;

use crate::browser::{book_at_hcl, click, fits, log_in, serve_town_with, start_browser, text};
use crate::client::{check_in_today, give_doses, ready_for_the_dose, test_config};

const PHONE: (u32, u32) = (390, 844);

async fn hcl(db: &TestDb) -> vaxloop_store::sites::Site {
    vaxloop_store::sites::by_code(db, "HCL")
        .await
        .expect("q")
        .expect("HCL")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_observation_list_refreshes_without_wiping_a_half_typed_reason() {
    let profile = tempfile::tempdir().expect("profile dir");
    // The list refreshes every second here (every 15 s by default).
    let config = WebConfig {
        refresh_seconds: 1,
        ..test_config()
    };
    let (db, _town, base) = serve_town_with(config).await;
    let site = hcl(&db).await;
    let (_, people) = book_at_hcl(&db, 2).await;
    let visits = ready_for_the_dose(&db, &site, &people).await;
    give_doses(&db, &site, &visits[..1]).await;
    let Some((_driver, c)) = start_browser(PHONE.0, PHONE.1, profile.path()).await else {
        return;
    };
    log_in(&c, &base, "hcl.observation", DEMO_PASSWORD).await;
    c.goto(&format!("{base}/sites/HCL/observation"))
        .await
        .expect("open");
    let first = visits[0].id;
    // Releasing before the time asks why; the nurse starts typing the reason…
    click(&c, &format!("#release-{first}")).await;
    let reason = c
        .wait()
        .for_element(Locator::Id("early-reason"))
        .await
        .expect("the reason is asked for");
    reason.send_keys("家属来接，").await.expect("type");
    // …and another person enters observation meanwhile: several refreshes pass.
    give_doses(&db, &site, &visits[1..]).await;
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let kept = c
        .find(Locator::Id("early-reason"))
        .await
        .expect("the reason field is still there")
        .prop("value")
        .await
        .expect("value");
    assert_eq!(kept.as_deref(), Some("家属来接，"), "what was typed stays");
    c.find(Locator::Id("early-reason"))
        .await
        .expect("field")
        .send_keys("本人坚持离开")
        .await
        .expect("type");
    click(&c, &format!("#release-{first}")).await;
    c.wait()
        .for_element(Locator::XPath("//p[@id='notice'][contains(., '已')]"))
        .await
        .expect("released, and told so");
    // With nothing being typed, the list refreshes by itself: the second person appears
    // without a reload, and the released one is gone.
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Id(&format!("obs-{}", visits[1].id)))
        .await
        .expect("the list refreshed");
    assert!(
        c.find(Locator::Id(&format!("obs-{first}"))).await.is_err(),
        "released"
    );
    assert!(fits(&c).await, "the page fits the phone");
    c.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_check_in_desk_says_someone_was_vaccinated_an_hour_ago() {
    let profile = tempfile::tempdir().expect("profile dir");
    let (db, _town, base) = serve_town_with(test_config()).await;
    let site = hcl(&db).await;
    let (_, people) = book_at_hcl(&db, 1).await;
    let visits = ready_for_the_dose(&db, &site, &people).await;
    give_doses(&db, &site, &visits).await;
    let Some((_driver, c)) = start_browser(PHONE.0, PHONE.1, profile.path()).await else {
        return;
    };
    log_in(&c, &base, "hcl.checkin", DEMO_PASSWORD).await;
    c.goto(&format!("{base}/sites/HCL/checkin"))
        .await
        .expect("open");
    c.wait()
        .for_element(Locator::Id("checkin-code"))
        .await
        .expect("field")
        .send_keys(&format!("VXL1:{}", db.cipher.sign("person", people[0])))
        .await
        .expect("type");
    click(&c, "#checkin-submit").await;
    let card = text(&c, "#checkin-card.refused").await;
    assert!(
        card.contains("已在合川路") && card.contains("接种第 1 剂") && card.contains("留观至"),
        "what is true, and where they are now: {card}"
    );
    assert!(!card.contains("没有预约"), "{card}");
    assert!(
        c.find(Locator::Id("walk-in")).await.is_err(),
        "no walk-in is offered for someone vaccinated today"
    );
    assert!(fits(&c).await, "the page fits the phone");
    c.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_dose_one_the_resident_is_told_when_dose_two_is_due() {
    let profile = tempfile::tempdir().expect("profile dir");
    let (db, town, base) = serve_town_with(test_config()).await;
    let resident = town.logins.iter().find_map(|l| l.person).expect("resident");
    let id = town.people[resident].id.clone();
    let person = vaxloop_store::people::by_resident_id(&db, &db.cipher, &id)
        .await
        .expect("q")
        .expect("person");
    // Dose 1, today, wherever their unit is served.
    let site = vaxloop_store::sites::serving_unit(&db, person.unit_id)
        .await
        .expect("q")
        .into_iter()
        .next()
        .expect("a site for the unit");
    let today = WebConfig::default().today();
    let slot = vaxloop_store::slots::of_site_day(&db, site.id, &today.to_string())
        .await
        .expect("slots")
        .into_iter()
        .find(|s| s.capacity > s.booked)
        .expect("room today");
    let request = vaxloop_app::booking::Request {
        slot_id: slot.id,
        people: &[person.id],
        dose_number: 1,
        team_id: None,
        walk_in: false,
    };
    vaxloop_app::booking::engine::book(&db, chrono_tz::Asia::Shanghai, &request)
        .await
        .expect("q")
        .expect("booked");
    let visits = ready_for_the_dose(&db, &site, &[person.id]).await;
    give_doses(&db, &site, &visits).await;
    let given = vaxloop_store::doses::given_to(&db, person.id)
        .await
        .expect("q");
    let due = today
        .checked_add_days(chrono::Days::new(given[0].min_interval_days as u64))
        .expect("day");
    let due_text = format!("{}月{}日", due.month(), due.day());

    let Some((_driver, c)) = start_browser(PHONE.0, PHONE.1, profile.path()).await else {
        return;
    };
    log_in(&c, &base, id.as_str(), vaxloop_demo::DEMO_PIN).await;
    let next = text(&c, "#next-text").await;
    assert!(
        next.contains("第2剂最早可在") && next.contains(&due_text),
        "the next dose's earliest day: {next}"
    );
    assert!(!next.contains("尚未确认"), "{next}");
    let progress = text(&c, "#progress").await;
    assert!(progress.contains("第1剂"), "{progress}");
    // The booking page offers nothing it would refuse, and says why and from when.
    c.goto(&format!("{base}/me/book")).await.expect("open");
    let why = text(&c, "#book-why").await;
    assert!(
        why.contains("第2剂最早可在") && why.contains(&due_text),
        "{why}"
    );
    assert!(
        c.find(Locator::Css("#slots button")).await.is_err(),
        "no slot offered"
    );
    assert!(fits(&c).await, "the page fits the phone");
    c.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_screening_refusal_keeps_the_answers_and_names_who_decides() {
    let profile = tempfile::tempdir().expect("profile dir");
    let (db, _town, base) = serve_town_with(test_config()).await;
    let (_, people) = book_at_hcl(&db, 1).await;
    let site = hcl(&db).await;
    let visit = check_in_today(&db, &site, people[0]).await;
    let Some((_driver, c)) = start_browser(PHONE.0, PHONE.1, profile.path()).await else {
        return;
    };
    log_in(&c, &base, "hcl.screening", DEMO_PASSWORD).await;
    c.goto(&format!("{base}/sites/HCL/screening?visit={}", visit.id))
        .await
        .expect("open");
    // The first question "yes" (a fever), the rest "no", and a pass: refused.
    let questions = c
        .wait()
        .for_element(Locator::Id("screening-form"))
        .await
        .expect("the form")
        .find_all(Locator::Css("fieldset.question"))
        .await
        .expect("questions");
    for (i, q) in questions.iter().enumerate() {
        let answer = if i == 0 { "yes" } else { "no" };
        q.find(Locator::Css(&format!("input[value='{answer}']")))
            .await
            .expect("answer")
            .click()
            .await
            .expect("click");
    }
    click(&c, "#outcome-pass").await;
    click(&c, "#screening-submit").await;
    let notice = c
        .wait()
        .for_element(Locator::Css("p.alert#notice"))
        .await
        .expect("the refusal, styled as an error");
    let said = notice.text().await.expect("text");
    assert!(
        said.contains("第1题") && said.contains("转医生评估") && !said.contains("只有医生"),
        "{said}"
    );
    // Every answer is still there: the first "yes", the others "no".
    let checked: Vec<String> = serde_json::from_value(
        c.execute(
            "return Array.from(document.querySelectorAll('fieldset.question input:checked')).map(i => i.value)",
            vec![],
        )
        .await
        .expect("script"),
    )
    .expect("values");
    assert_eq!(checked.len(), questions.len(), "no answer lost");
    assert_eq!(checked[0], "yes");
    assert!(checked[1..].iter().all(|v| v == "no"));
    // Referred instead: accepted, and said as a success.
    click(&c, "#outcome-refer").await;
    click(&c, "#screening-submit").await;
    c.wait()
        .for_element(Locator::Css("p.notice#notice"))
        .await
        .expect("a success notice");
    assert!(fits(&c).await, "the page fits the phone");
    c.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_desk_finds_a_team_opens_it_and_cancels_it_after_being_asked() {
    let profile = tempfile::tempdir().expect("profile dir");
    let (db, _town, base) = serve_town_with(test_config()).await;
    // A team booked for tomorrow at HCL.
    let site = hcl(&db).await;
    let tomorrow = WebConfig::default()
        .today()
        .checked_add_days(chrono::Days::new(1))
        .expect("day");
    let mut booked = None;
    for u in vaxloop_store::org::units(&db, None).await.expect("units") {
        let serves = vaxloop_store::sites::serving_unit(&db, u.id)
            .await
            .expect("q")
            .iter()
            .any(|s| s.id == site.id);
        let people = vaxloop_store::journeys::waiting_of_unit(&db, u.id, 1, 3)
            .await
            .expect("q");
        if serves && people.len() == 3 {
            let slot = vaxloop_store::slots::of_site_day(&db, site.id, &tomorrow.to_string())
                .await
                .expect("slots")
                .into_iter()
                .find(|s| s.capacity - s.booked >= 3)
                .expect("room");
            let team = vaxloop_app::booking::engine::book_team(
                &db,
                chrono_tz::Asia::Shanghai,
                u.id,
                slot.id,
                &people,
                1,
            )
            .await
            .expect("book")
            .expect("booked");
            booked = Some((u.name.clone(), team.team.code));
            break;
        }
    }
    let (unit_name, code) = booked.expect("a team");
    let Some((_driver, c)) = start_browser(PHONE.0, PHONE.1, profile.path()).await else {
        return;
    };
    log_in(&c, &base, "desk", DEMO_PASSWORD).await;
    c.goto(&format!("{base}/desk")).await.expect("open");
    // Search by the unit's name: the team is found, and the page fits the phone.
    c.wait()
        .for_element(Locator::Id("filter-q"))
        .await
        .expect("search")
        .send_keys(&unit_name)
        .await
        .expect("type");
    click(&c, "#filter-submit").await;
    c.wait()
        .for_element(Locator::Id(&format!("team-{code}")))
        .await
        .expect("found");
    assert!(fits(&c).await, "the desk fits the phone");
    click(&c, &format!("#open-{code}")).await;
    // Cancelling asks first, saying what happens and that it cannot be undone.
    click(&c, "#cancel-submit").await;
    let asked = text(&c, "dialog#confirm-dialog[open] #confirm-text").await;
    assert!(
        asked.contains(&code) && asked.contains("3 人") && asked.contains("不可撤销"),
        "{asked}"
    );
    click(&c, "#confirm-no").await;
    assert!(
        c.find(Locator::Css("dialog#confirm-dialog[open]"))
            .await
            .is_err()
    );
    click(&c, "#cancel-submit").await;
    click(&c, "dialog#confirm-dialog[open] #confirm-yes").await;
    let notice = text(&c, "#notice").await;
    assert!(notice.contains(&code), "told it is done: {notice}");
    let held = vaxloop_store::teams::by_code(&db, &code)
        .await
        .expect("q")
        .expect("team")
        .active;
    assert_eq!(held, 0, "cancelled");
    c.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_contact_reads_the_inbox_and_confirms_a_registrant_on_a_phone() {
    let profile = tempfile::tempdir().expect("profile dir");
    let (db, town, base) = serve_town_with(test_config()).await;
    let contact = town
        .logins
        .iter()
        .find(|l| l.role == vaxloop_core::Role::UnitContact)
        .expect("a contact")
        .clone();
    let unit = vaxloop_store::org::unit_by_code(&db, &town.units[contact.unit.expect("unit")].code)
        .await
        .expect("q")
        .expect("unit");
    // A team of theirs booked tomorrow, and the notice of it.
    let site = vaxloop_store::sites::serving_unit(&db, unit.id)
        .await
        .expect("q")
        .remove(0);
    let tomorrow = WebConfig::default()
        .today()
        .checked_add_days(chrono::Days::new(1))
        .expect("day");
    let slot = vaxloop_store::slots::of_site_day(&db, site.id, &tomorrow.to_string())
        .await
        .expect("slots")
        .into_iter()
        .find(|s| s.capacity - s.booked >= 2)
        .expect("room");
    let people = vaxloop_store::journeys::waiting_of_unit(&db, unit.id, 1, 2)
        .await
        .expect("q");
    let team = vaxloop_app::booking::engine::book_team(
        &db,
        chrono_tz::Asia::Shanghai,
        unit.id,
        slot.id,
        &people,
        1,
    )
    .await
    .expect("book")
    .expect("booked");
    let mut tx = db.begin_write().await.expect("tx");
    vaxloop_store::notifications::team_booked_in(&mut tx, unit.id, team.team.id, 0)
        .await
        .expect("notice");
    tx.commit().await.expect("commit");
    let Some((_driver, c)) = start_browser(PHONE.0, PHONE.1, profile.path()).await else {
        return;
    };
    // Someone registers themselves through the unit's link.
    c.goto(&format!("{base}/r/{}", unit.reg_token))
        .await
        .expect("open");
    let id = vaxloop_core::ResidentId::compose(
        310112,
        chrono::NaiveDate::from_ymd_opt(1980, 3, 3).expect("date"),
        31,
    );
    for (field, value) in [
        ("name", "新来的人"),
        ("id_number", id.as_str()),
        ("phone", "13912345678"),
        ("pin", "246810"),
        ("pin_again", "246810"),
    ] {
        c.find(Locator::Id(field))
            .await
            .expect(field)
            .send_keys(value)
            .await
            .expect("type");
    }
    click(&c, "#consent").await;
    click(&c, "#register-submit").await;
    // The newcomer is told what happens next, not an error.
    let next = text(&c, "#next-text").await;
    assert!(next.contains("联络员核对并确认"), "{next}");
    assert!(c.find(Locator::Css("p.alert")).await.is_err());
    c.find(Locator::Id("logout"))
        .await
        .expect("logout")
        .click()
        .await
        .expect("out");
    // The contact's page: the notice with the day, time and label; the page fits the phone.
    log_in(
        &c,
        &base,
        contact.username.as_deref().expect("username"),
        DEMO_PASSWORD,
    )
    .await;
    let notice = text(&c, "#inbox-list li").await;
    let time = vaxloop_core::hhmm(slot.starts_min);
    assert!(
        notice.contains(&time)
            && notice.contains(&format!("{}月{}日", tomorrow.month(), tomorrow.day())),
        "the day and the time: {notice}"
    );
    assert!(fits(&c).await, "the unit's page fits the phone");
    // The confirm button for the pending registrant is on screen, and works.
    let confirm = c
        .find(Locator::Css("#pending-list button[type=submit]"))
        .await
        .expect("confirm");
    let right: f64 = serde_json::from_value(
        c.execute(
            "return document.querySelector('#pending-list button').getBoundingClientRect().right",
            vec![],
        )
        .await
        .expect("script"),
    )
    .expect("number");
    assert!(right <= f64::from(PHONE.0), "on screen: {right}");
    confirm.click().await.expect("confirm");
    // The unit's page again, once the confirmation is answered (the list was there before).
    let mut waited = 0;
    while c.find(Locator::Id("pending-list")).await.is_ok() {
        waited += 1;
        assert!(waited < 100, "nobody left to confirm");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    c.wait()
        .for_element(Locator::Id("inbox-list"))
        .await
        .expect("back on the unit's page");
    c.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_volunteer_sees_their_site_and_its_flow_on_a_phone() {
    let profile = tempfile::tempdir().expect("profile dir");
    let (_db, _town, base) = serve_town_with(test_config()).await;
    let Some((_driver, c)) = start_browser(PHONE.0, PHONE.1, profile.path()).await else {
        return;
    };
    log_in(&c, &base, "volunteer", DEMO_PASSWORD).await;
    assert!(text(&c, "#site-name").await.contains("合川路"));
    let flow = text(&c, "#flow").await;
    assert!(flow.contains("登记签到") && flow.contains("留观"), "{flow}");
    assert!(text(&c, "#who-to-call").await.contains("负责人"));
    assert!(fits(&c).await, "the page fits the phone");
    c.close().await.expect("close");
}
