//! A team's printed papers: the desk and the team's own unit contact print its registration form
//! and label sheet; another unit's contact and a resident cannot; every print is audited.

use axum::http::StatusCode;
use vaxloop_core::Role;
use vaxloop_demo::DEMO_PASSWORD;

use crate::fixture;

vaxloop_store::backend_tests! {
    async fn a_team_prints_its_form_and_labels_and_nobody_else_does(t) {
        let f = fixture(t).await;
        let contact = f.town.logins.iter().find(|l| l.role == Role::UnitContact).expect("contact").clone();
        let own = &f.town.units[contact.unit.expect("unit")];
        let unit = vaxloop_store::org::unit_by_code(&f.db, &own.code).await.expect("q").expect("unit");
        let people = vaxloop_store::journeys::waiting_of_unit(&f.db, unit.id, 1, 5).await.expect("q");
        assert!(people.len() >= 3, "people waiting in the contact's unit");
        let day = f.town.spec.today.checked_add_days(chrono::Days::new(1)).expect("day").to_string();
        let hcl = vaxloop_store::sites::by_code(&f.db, "HCL").await.expect("q").expect("HCL");
        let first = vaxloop_store::slots::of_site_day(&f.db, hcl.id, &day).await.expect("slots")[0].id;
        let booked = vaxloop_app::booking::engine::book_team(&f.db, chrono_tz::Asia::Shanghai, unit.id, first, &people, 1)
            .await
            .expect("book")
            .expect("booked");
        let code = booked.team.code.clone();

        let mut desk = f.client();
        desk.login("desk", DEMO_PASSWORD).await;
        let listed = desk.get(&format!("/desk/teams/{code}")).await;
        assert!(listed.body.contains(&format!("href=\"/teams/{code}/form.pdf\"")), "the desk links the form");
        assert!(listed.body.contains(&format!("href=\"/teams/{code}/labels.pdf\"")));
        let form = desk.get(&format!("/teams/{code}/form.pdf")).await;
        assert_eq!(form.status, StatusCode::OK);
        assert_eq!(form.headers["content-type"], "application/pdf");
        assert!(form.body.starts_with("%PDF-"));
        let labels = desk.get(&format!("/teams/{code}/labels.pdf")).await;
        assert_eq!(labels.status, StatusCode::OK);
        assert!(labels.body.starts_with("%PDF-"));

        let mut own_contact = f.client();
        own_contact.login(contact.username.as_deref().expect("username"), DEMO_PASSWORD).await;
        assert_eq!(own_contact.get(&format!("/teams/{code}/form.pdf")).await.status, StatusCode::OK);
        // The unit's page shows the booked team in its inbox, unread, with its papers.
        let unit_page = own_contact.get(&format!("/units/{}", own.code)).await;
        assert!(unit_page.body.contains("id=\"inbox-list\""), "the inbox is shown");
        assert!(unit_page.body.contains(&format!("href=\"/teams/{code}/labels.pdf\"")));
        assert!(unit_page.body.contains("1 条未读"), "one unread notice");
        let token = unit_page.csrf();
        let newest = vaxloop_store::notifications::of_unit(&f.db, unit.id, 1).await.expect("inbox")[0].id.to_string();
        let read = own_contact.post_form(&format!("/units/{}/inbox/read", own.code), &[("csrf_token", &token), ("upto", &newest)]).await;
        assert_eq!(read.status, StatusCode::SEE_OTHER);
        assert_eq!(vaxloop_store::notifications::unread(&f.db, unit.id).await.expect("n"), 0);
        assert!(!own_contact.get(&format!("/units/{}", own.code)).await.body.contains("条未读"));

        let stranger = f.town.logins.iter()
            .find(|l| l.role == Role::UnitContact && l.unit != contact.unit)
            .expect("another unit's contact");
        let mut other = f.client();
        other.login(stranger.username.as_deref().expect("username"), DEMO_PASSWORD).await;
        assert_eq!(other.get(&format!("/teams/{code}/form.pdf")).await.status, StatusCode::FORBIDDEN);
        assert_eq!(other.get(&format!("/teams/{code}/labels.pdf")).await.status, StatusCode::FORBIDDEN);
        // An unknown team looks the same as a forbidden one.
        assert_eq!(other.get("/teams/T0-NOPE-1/form.pdf").await.status, StatusCode::FORBIDDEN);
        // Nor may they mark another unit's inbox read.
        let home = other.get("/unit").await;
        let other_token = other.get(home.location()).await.csrf();
        let denied = other.post_form(&format!("/units/{}/inbox/read", own.code), &[("csrf_token", &other_token), ("upto", "999999")]).await;
        assert_eq!(denied.status, StatusCode::FORBIDDEN);
        assert_ne!(f.client().get(&format!("/teams/{code}/form.pdf")).await.status, StatusCode::OK, "not without a login");

        let printed = vaxloop_store::audit::recent(&f.db, 50).await.expect("audit");
        let prints = printed.iter().filter(|e| e.action == "print" && e.target == format!("team:{code}")).count();
        assert_eq!(prints, 3, "every print is audited");
        assert!(printed.iter().any(|e| e.action == "access" && e.target.contains(&code)), "the refusals too");
    }
}
