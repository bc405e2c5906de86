//! A resident books and cancels their own appointment; nobody else can cancel it; a full slot
//! says so.

use axum::http::StatusCode;
use vaxloop_demo::DEMO_PIN;
use vaxloop_store::{booking, sites, slots};

use crate::fixture;

vaxloop_store::backend_tests! {
    async fn a_resident_books_and_cancels_their_own_appointment(t) {
        let f = fixture(t).await;
        let resident = f.town.logins.iter().find_map(|l| l.person).expect("resident");
        let id = f.town.people[resident].id.as_str().to_string();
        let mut r = f.client();
        assert_eq!(r.login(&id, DEMO_PIN).await.location(), "/me");
        let me = r.get("/me").await;
        assert!(me.body.contains("暂无预约") && me.body.contains("/me/book"));
        let today = f.town.spec.today.to_string();
        let hcl = sites::by_code(&f.db, "HCL").await.expect("q").expect("HCL");
        let slot = slots::of_site_day(&f.db, hcl.id, &today).await.expect("slots").remove(3);
        let choose = r.get(&format!("/me/book?site=HCL&date={today}")).await;
        assert_eq!(choose.status, StatusCode::OK);
        assert!(choose.body.contains(&format!("id=\"book-{}\"", slot.id)));
        let token = choose.csrf();
        let booked = r.post_form("/me/book", &[("csrf_token", &token), ("slot_id", &slot.id.to_string()), ("site", "HCL"), ("date", &today)]).await;
        assert_eq!(booked.location(), "/me", "{}", booked.body);
        let me = r.get("/me").await;
        assert!(me.body.contains("合川路接种点") && me.body.contains("取消预约"));
        let again = r.post_form("/me/book", &[("csrf_token", &token), ("slot_id", &slot.id.to_string())]).await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        assert!(again.body.contains("您已经有这一剂的预约"));
        let person = vaxloop_store::people::by_resident_id(&f.db, &f.db.cipher, &f.town.people[resident].id).await.expect("q").expect("person");
        let appointment = booking::active_of_person(&f.db, person.id).await.expect("q").remove(0);
        // Nobody else may cancel it — not even the admin through the resident's page.
        let mut admin = f.client();
        admin.login("admin", vaxloop_demo::DEMO_PASSWORD).await;
        let admin_token = admin.get("/admin").await.csrf();
        let not_theirs = admin.post_form(&format!("/me/appointments/{}/cancel", appointment.id), &[("csrf_token", &admin_token)]).await;
        assert_eq!(not_theirs.status, StatusCode::FORBIDDEN);
        let cancelled = r.post_form(&format!("/me/appointments/{}/cancel", appointment.id), &[("csrf_token", &token)]).await;
        assert_eq!(cancelled.location(), "/me");
        assert!(r.get("/me").await.body.contains("暂无预约"));
        let slot_now = slots::of_site_day(&f.db, hcl.id, &today).await.expect("slots").remove(3);
        assert_eq!(slot_now.booked, slot.booked, "the place came back");
    }
}
