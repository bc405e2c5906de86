//! QR self-registration through the real router: the phone page in Chinese, every field checked,
//! the new resident's own page and QR code, repeats that reveal nothing, the contact's
//! confirmation, scoping, and the rate limit.

use axum::http::StatusCode;
use chrono::NaiveDate;
use vaxloop_core::{ResidentId, Role};
use vaxloop_demo::DEMO_PASSWORD;
use vaxloop_store::{audit, people};

use crate::fixture;

fn rid(seq: u16) -> String {
    ResidentId::compose(
        310112,
        NaiveDate::from_ymd_opt(1948, 8, 8).expect("date"),
        seq,
    )
    .as_str()
    .to_string()
}

fn fields<'a>(
    token: &'a str,
    name: &'a str,
    id: &'a str,
    consent: bool,
) -> Vec<(&'a str, &'a str)> {
    let mut f = vec![
        ("csrf_token", token),
        ("name", name),
        ("id_number", id),
        ("phone", "13812345678"),
        ("pin", "135790"),
        ("pin_again", "135790"),
    ];
    if consent {
        f.push(("consent", "yes"));
    }
    f
}

vaxloop_store::backend_tests! {
    async fn a_stranger_registers_waits_for_the_contact_and_is_confirmed(t) {
        let f = fixture(t).await;
        let contact = f.town.logins.iter().find(|l| l.role == Role::UnitContact).expect("contact").clone();
        let unit = f.town.units[contact.unit.expect("unit")].clone();
        let link = format!("/r/{}", unit.reg_token);

        let mut phone = f.client();
        let page = phone.get(&link).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("疫苗接种登记") && page.body.contains(&unit.name));
        assert!(page.body.contains("敏感个人信息"), "the consent notice is on the page");
        assert!(!page.body.contains("name=\"consent\" value=\"yes\" id=\"consent\" checked"), "consent is never pre-ticked");
        assert_eq!(phone.get("/r/not-a-real-token").await.status, StatusCode::NOT_FOUND);

        let token = page.csrf();
        let id = rid(1);
        let no_consent = phone.post_form(&link, &fields(&token, "新来的", &id, false)).await;
        assert_eq!(no_consent.status, StatusCode::BAD_REQUEST);
        assert!(no_consent.body.contains("请阅读告知并勾选同意"));
        assert!(no_consent.body.contains("value=\"新来的\""), "what was typed is kept");
        assert!(!no_consent.body.contains("135790"), "PINs are never sent back");
        let bad_id = phone.post_form(&link, &fields(&token, "新来的", "310112194808080000", true)).await;
        assert!(bad_id.body.contains("身份证号不正确"));

        let done = phone.post_form(&link, &fields(&token, "新来的", &id, true)).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        assert_eq!(done.location(), "/me");
        let me = phone.get("/me").await;
        // What happens next, and roughly when — not an error, and not "not registered".
        assert!(me.body.contains("新来的") && me.body.contains("联络员核对并确认，通常在1个工作日内"), "{}", me.body);
        assert!(me.body.contains("等待单位确认登记") && !me.body.contains("尚未登记") && !me.body.contains("class=\"alert\""), "{}", me.body);
        assert!(!me.body.contains(&id));
        let qr = phone.get("/me/qr.svg").await;
        assert_eq!(qr.status, StatusCode::OK);
        assert!(qr.body.starts_with("<svg"));

        // The same ID number again, from another phone: nothing about the record is revealed.
        let mut other_phone = f.client();
        let token2 = other_phone.get(&link).await.csrf();
        let again = other_phone.post_form(&link, &fields(&token2, "别人", &id, true)).await;
        assert_eq!(again.status, StatusCode::OK);
        assert!(again.body.contains("该身份证号已经登记过"));
        assert!(!again.body.contains("新来的"));

        // The contact confirms; another unit's contact could not.
        let person = people::pending_of_unit(&f.db, {
            let u = vaxloop_store::org::unit_by_code(&f.db, &unit.code).await.expect("q").expect("unit");
            u.id
        }).await.expect("pending");
        assert_eq!(person.len(), 1);
        let person_id = person[0].id;
        let other_contact = f.town.logins.iter().find(|l| l.role == Role::UnitContact && l.unit != contact.unit).expect("other").clone();
        let mut o = f.client();
        o.login(other_contact.username.as_deref().expect("username"), DEMO_PASSWORD).await;
        let o_token = o.get(&format!("/units/{}", f.town.units[other_contact.unit.expect("unit")].code)).await.csrf();
        let cross = o.post_form(&format!("/units/{}/pending/{person_id}/confirm", unit.code), &[("csrf_token", &o_token)]).await;
        assert_eq!(cross.status, StatusCode::FORBIDDEN);
        assert_eq!(o.get(&format!("/units/{}/qr.svg", unit.code)).await.status, StatusCode::FORBIDDEN);
        assert_eq!(o.get(&format!("/units/{}/poster.pdf", unit.code)).await.status, StatusCode::FORBIDDEN);

        let mut c = f.client();
        c.login(contact.username.as_deref().expect("username"), DEMO_PASSWORD).await;
        let unit_page = c.get(&format!("/units/{}", unit.code)).await;
        assert!(unit_page.body.contains("待确认的登记") && unit_page.body.contains("新来的"));
        assert!(unit_page.body.contains(&format!("/r/{}", unit.reg_token)));
        let poster = c.get(&format!("/units/{}/poster.pdf", unit.code)).await;
        assert_eq!(poster.status, StatusCode::OK);
        assert_eq!(poster.headers.get("content-type").and_then(|v| v.to_str().ok()), Some("application/pdf"));
        assert!(poster.body.starts_with("%PDF-"));
        let c_token = unit_page.csrf();
        let confirmed = c.post_form(&format!("/units/{}/pending/{person_id}/confirm", unit.code), &[("csrf_token", &c_token)]).await;
        assert_eq!(confirmed.status, StatusCode::SEE_OTHER);
        assert!(people::by_id(&f.db, person_id).await.expect("q").expect("person").confirmed);
        let me = phone.get("/me").await;
        assert!(!me.body.contains("等待单位联络员确认"));
        assert!(me.body.contains("已登记"));
        let log = audit::recent(&f.db, 50).await.expect("audit");
        assert!(log.iter().any(|e| e.action == "register"));
        assert!(log.iter().any(|e| e.action == "confirm_registration" && e.target == format!("person:{person_id}")));
    }

    async fn a_roster_record_is_claimed_only_with_the_code_sent_to_its_phone(t) {
        let f = fixture(t).await;
        let mut roster = f.town.people.iter().filter(|p| p.source == vaxloop_core::Source::Import);
        let person = roster.next().expect("a roster entry").clone();
        let unit = f.town.units[person.unit].clone();
        let link = format!("/r/{}", unit.reg_token);
        let stored = people::by_resident_id(&f.db, &f.db.cipher, &person.id).await.expect("q").expect("stored");
        let logins = || async {
            let mut tx = f.db.begin_write().await.expect("tx");
            let n: i64 = sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM users WHERE person_id = $1").bind(stored.id).fetch_one(&mut *tx).await.expect("q");
            n
        };
        // Someone who knows the name and ID number claims the record: nothing of it changes yet;
        // a code goes by SMS to the phone the roster holds, not to the one typed.
        let mut claimant = f.client();
        let token = claimant.get(&link).await.csrf();
        let claimed = claimant.post_form(&link, &fields(&token, &person.name, person.id.as_str(), true)).await;
        assert_eq!(claimed.status, StatusCode::ACCEPTED, "{}", claimed.body);
        assert!(claimed.body.contains("验证码已通过短信发送"), "{}", claimed.body);
        assert!(claimed.body.contains(&format!("{}****{}", &person.phone[..3], &person.phone[7..])));
        assert_eq!(logins().await, 0, "no login before the proof");
        let sms = last_sms(&f).await;
        assert_eq!(sms["to"], person.phone.as_str(), "to the roster's phone");
        let text = sms["text"].as_str().expect("text");
        let code: String = text.chars().filter(char::is_ascii_digit).take(6).collect();
        let marker = "action=\"/r/";
        let start = claimed.body.find(marker).expect("the code form") + marker.len() - 3;
        let action: String = claimed.body[start..].chars().take_while(|c| *c != '"').collect();
        let form_token = claimed.csrf();
        let wrong = if code == "000000" { "111111" } else { "000000" };
        let refused = claimant.post_form(&action, &[("csrf_token", &form_token), ("code", wrong)]).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
        assert!(refused.body.contains("还可尝试4次"), "{}", refused.body);
        let proven = claimant.post_form(&action, &[("csrf_token", &form_token), ("code", &code)]).await;
        assert_eq!(proven.location(), "/me", "{}", proven.body);
        assert_eq!(logins().await, 1);
        let again = claimant.post_form(&action, &[("csrf_token", &form_token), ("code", &code)]).await;
        assert_eq!(again.status, StatusCode::GONE, "a code works once");

        // Someone without the phone guesses: five tries, then the claim is void — even the
        // right code no longer opens it.
        let other = roster.next().expect("another roster entry").clone();
        let other_unit = f.town.units[other.unit].clone();
        let other_link = format!("/r/{}", other_unit.reg_token);
        let mut guesser = f.client();
        let token = guesser.get(&other_link).await.csrf();
        let claimed = guesser.post_form(&other_link, &fields(&token, &other.name, other.id.as_str(), true)).await;
        let start = claimed.body.find(marker).expect("the code form") + marker.len() - 3;
        let action: String = claimed.body[start..].chars().take_while(|c| *c != '"').collect();
        let form_token = claimed.csrf();
        let sms = last_sms(&f).await;
        let right: String = sms["text"].as_str().expect("text").chars().filter(char::is_ascii_digit).take(6).collect();
        let mut statuses = Vec::new();
        for guess in ["000001", "000002", "000003", "000004", "000005"].into_iter().filter(|g| *g != right) {
            statuses.push(guesser.post_form(&action, &[("csrf_token", &form_token), ("code", guess)]).await.status);
        }
        let late = guesser.post_form(&action, &[("csrf_token", &form_token), ("code", &right)]).await;
        assert!(statuses.len() < 5 || late.status == StatusCode::GONE, "{statuses:?} then {}", late.status);
        let log = audit::recent(&f.db, 30).await.expect("audit");
        assert!(log.iter().filter(|e| e.action == "claim_code" && e.outcome == "denied").count() >= 5);
    }

    async fn a_roster_record_without_a_phone_waits_for_the_contact(t) {
        let f = fixture(t).await;
        let contact = f.town.logins.iter().find(|l| l.role == Role::UnitContact).expect("contact").clone();
        let unit = f.town.units[contact.unit.expect("unit")].clone();
        let person = f.town.people.iter().find(|p| p.source == vaxloop_core::Source::Import && f.town.units[p.unit].code == unit.code).expect("a roster entry").clone();
        let stored = people::by_resident_id(&f.db, &f.db.cipher, &person.id).await.expect("q").expect("stored");
        let mut tx = f.db.begin_write().await.expect("tx");
        sqlx::query("UPDATE people SET phone_cipher = NULL, phone_masked = NULL WHERE id = $1").bind(stored.id).execute(&mut *tx).await.expect("no phone");
        tx.commit().await.expect("commit");
        let link = format!("/r/{}", unit.reg_token);
        let mut claimant = f.client();
        let token = claimant.get(&link).await.csrf();
        let waiting = claimant.post_form(&link, &fields(&token, &person.name, person.id.as_str(), true)).await;
        assert_eq!(waiting.status, StatusCode::ACCEPTED);
        assert!(waiting.body.contains("单位联络员核实"), "{}", waiting.body);
        let mut login = f.client();
        assert_eq!(login.login(person.id.as_str(), "135790").await.status, StatusCode::UNAUTHORIZED, "no login before the contact's word");
        // The contact sees the claim with the phone given (masked) and confirms it.
        let mut c = f.client();
        c.login(contact.username.as_deref().expect("username"), DEMO_PASSWORD).await;
        let page = c.get(&format!("/units/{}", unit.code)).await;
        assert!(page.body.contains("id=\"claim-list\"") && page.body.contains("138****5678"), "{}", page.body);
        let marker = "/claims/";
        let start = page.body.find(marker).expect("a claim") + marker.len();
        let id: String = page.body[start..].chars().take_while(char::is_ascii_digit).collect();
        let confirmed = c.post_form(&format!("/units/{}/claims/{id}/confirm", unit.code), &[("csrf_token", &page.csrf())]).await;
        assert_eq!(confirmed.status, StatusCode::SEE_OTHER);
        assert_eq!(login.login(person.id.as_str(), "135790").await.status, StatusCode::SEE_OTHER, "now the PIN works");
        let log = audit::recent(&f.db, 10).await.expect("audit");
        assert!(log.iter().any(|e| e.action == "confirm_claim" && e.target == format!("person:{}", stored.id)));
    }

    async fn behind_a_trusted_proxy_each_client_has_its_own_budget(t) {
        let config = vaxloop_web::WebConfig { trust_forwarded_for: true, ..crate::client::test_config() };
        let f = crate::fixture_with(t, config).await;
        let link = format!("/r/{}", f.town.units[0].reg_token);
        let mut busy = f.client().with_forwarded_for("203.0.113.7");
        let token = busy.get(&link).await.csrf();
        for _ in 0..12 {
            busy.post_form(&link, &fields(&token, "", "", false)).await;
        }
        assert_eq!(busy.post_form(&link, &fields(&token, "", "", false)).await.status, StatusCode::TOO_MANY_REQUESTS);
        // Entries a client puts left of what the proxy saw buy no new budget.
        let mut spoofer = f.client().with_forwarded_for("198.51.100.1, 203.0.113.7");
        let spoofed = spoofer.get(&link).await.csrf();
        assert_eq!(spoofer.post_form(&link, &fields(&spoofed, "", "", false)).await.status, StatusCode::TOO_MANY_REQUESTS);
        let mut neighbour = f.client().with_forwarded_for("203.0.113.7, 203.0.113.8");
        let token = neighbour.get(&link).await.csrf();
        assert_eq!(neighbour.post_form(&link, &fields(&token, "", "", false)).await.status, StatusCode::BAD_REQUEST, "another client is not throttled");
    }

    async fn registrations_are_rate_limited(t) {
        let f = fixture(t).await;
        let unit = &f.town.units[0];
        let link = format!("/r/{}", unit.reg_token);
        let mut phone = f.client();
        let token = phone.get(&link).await.csrf();
        let mut statuses = Vec::new();
        for _ in 0..14 {
            statuses.push(phone.post_form(&link, &fields(&token, "", "", false)).await.status);
        }
        assert!(statuses[..10].iter().all(|s| *s == StatusCode::BAD_REQUEST), "{statuses:?}");
        assert_eq!(*statuses.last().expect("status"), StatusCode::TOO_MANY_REQUESTS);
        let limited = phone.post_form(&link, &fields(&token, "", "", false)).await;
        assert!(limited.body.contains("提交过于频繁"));
    }
}

/// The last SMS queued, opened with the personal-data key (the outbox keeps payloads sealed).
async fn last_sms(f: &crate::client::Fixture) -> serde_json::Value {
    let mut tx = f.db.begin_write().await.expect("tx");
    let sealed: Vec<u8> = sqlx::query_scalar(
        "SELECT payload_cipher FROM outbox WHERE topic = 'sms' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&mut *tx)
    .await
    .expect("sms");
    drop(tx);
    serde_json::from_str(&f.db.cipher.open(&sealed).expect("opens")).expect("json")
}
