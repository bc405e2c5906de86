//! Unmasking and exporting: only permitted roles, only with a reason, always audited — and never
//! across a unit's line, by page or by guessed id.

use axum::http::StatusCode;
use vaxloop_core::Role;
use vaxloop_demo::DEMO_PASSWORD;
use vaxloop_store::{audit, org, people};

use crate::fixture;

vaxloop_store::backend_tests! {
    async fn unmasking_needs_a_role_and_a_reason_and_is_audited(t) {
        let f = fixture(t).await;
        let contact = f.town.logins.iter().find(|l| l.role == Role::UnitContact).expect("contact").clone();
        let unit = f.town.units[contact.unit.expect("unit")].clone();
        let unit_id = org::unit_by_code(&f.db, &unit.code).await.expect("q").expect("unit").id;
        let person = people::of_unit(&f.db, unit_id, 1, 0).await.expect("q").remove(0);
        let (full_id, _) = people::reveal(&f.db, &f.db.cipher, person.id).await.expect("reveal");
        let path = format!("/people/{}/reveal", person.id);

        let mut c = f.client();
        c.login(contact.username.as_deref().expect("username"), DEMO_PASSWORD).await;
        let form = c.get(&path).await;
        assert_eq!(form.status, StatusCode::OK);
        assert!(!form.body.contains(&full_id));
        let token = form.csrf();
        let no_reason = c.post_form(&path, &[("csrf_token", &token), ("reason", " ")]).await;
        assert_eq!(no_reason.status, StatusCode::BAD_REQUEST);
        assert!(!no_reason.body.contains(&full_id));
        let nul = c.post_form(&path, &[("csrf_token", &token), ("reason", "核对\0接种信息")]).await;
        assert_eq!(nul.status, StatusCode::BAD_REQUEST, "a NUL is no reason, and no server error on PostgreSQL");
        assert!(!nul.body.contains(&full_id));
        let shown = c.post_form(&path, &[("csrf_token", &token), ("reason", "核对接种预约信息")]).await;
        assert_eq!(shown.status, StatusCode::OK);
        assert!(shown.body.contains(&full_id), "the full number after a reason");
        let log = audit::recent(&f.db, 20).await.expect("audit");
        let entry = log.iter().find(|e| e.action == "unmask").expect("an unmask entry");
        assert_eq!(entry.reason.as_deref(), Some("核对接种预约信息"));
        assert_eq!(entry.target, format!("person:{}", person.id));

        // A leader may see the list but not unmask; another unit's contact may do neither.
        let leader = f.town.logins.iter().find(|l| l.role == Role::GroupLeader && l.group == Some(unit.group)).expect("leader").clone();
        let mut l = f.client();
        l.login(leader.username.as_deref().expect("username"), DEMO_PASSWORD).await;
        assert_eq!(l.get(&path).await.status, StatusCode::FORBIDDEN);
        let other = f.town.logins.iter().find(|x| x.role == Role::UnitContact && x.unit != contact.unit).expect("other").clone();
        let mut o = f.client();
        o.login(other.username.as_deref().expect("username"), DEMO_PASSWORD).await;
        assert_eq!(o.get(&path).await.status, StatusCode::FORBIDDEN);
        assert_eq!(o.get("/people/987654321/reveal").await.status, StatusCode::FORBIDDEN, "a guessed id");
    }

    async fn exports_are_masked_unless_unmasking_is_allowed_and_always_audited(t) {
        let f = fixture(t).await;
        let contact = f.town.logins.iter().find(|l| l.role == Role::UnitContact).expect("contact").clone();
        let unit = f.town.units[contact.unit.expect("unit")].clone();
        let members: Vec<_> = f.town.people.iter().filter(|p| f.town.units[p.unit].code == unit.code).collect();
        let export = format!("/units/{}/export", unit.code);

        let leader = f.town.logins.iter().find(|l| l.role == Role::GroupLeader && l.group == Some(unit.group)).expect("leader").clone();
        let mut l = f.client();
        l.login(leader.username.as_deref().expect("username"), DEMO_PASSWORD).await;
        let token = l.get(&format!("/units/{}", unit.code)).await.csrf();
        let masked = l.post_form(&export, &[("csrf_token", &token), ("reason", "核对动员进度"), ("format", "csv")]).await;
        assert_eq!(masked.status, StatusCode::OK);
        assert!(masked.body.starts_with('\u{feff}'), "CSV with a BOM for Excel");
        for p in &members {
            assert!(!masked.body.contains(p.id.as_str()), "a masked export holds no full ID number");
            assert!(masked.body.contains(&p.id.masked()));
        }
        let full = l.post_form(&export, &[("csrf_token", &token), ("reason", "核对动员进度"), ("format", "csv"), ("full", "yes")]).await;
        assert_eq!(full.status, StatusCode::FORBIDDEN, "a leader may not export full numbers");
        let no_reason = l.post_form(&export, &[("csrf_token", &token), ("reason", ""), ("format", "csv")]).await;
        assert_eq!(no_reason.status, StatusCode::BAD_REQUEST);

        let mut c = f.client();
        c.login(contact.username.as_deref().expect("username"), DEMO_PASSWORD).await;
        let token = c.get(&format!("/units/{}", unit.code)).await.csrf();
        let full = c.post_form(&export, &[("csrf_token", &token), ("reason", "交给接种点核对"), ("format", "csv"), ("full", "yes")]).await;
        assert_eq!(full.status, StatusCode::OK);
        assert!(members.iter().all(|p| full.body.contains(p.id.as_str())), "the contact's full export");
        let xlsx = c.post_form(&export, &[("csrf_token", &token), ("reason", "交给接种点核对"), ("format", "xlsx")]).await;
        assert!(xlsx.body.starts_with("PK"));
        let other_unit = f.town.units.iter().find(|u| u.code != unit.code).expect("other");
        let cross = c.post_form(&format!("/units/{}/export", other_unit.code), &[("csrf_token", &token), ("reason", "试试看看"), ("format", "csv")]).await;
        assert_eq!(cross.status, StatusCode::FORBIDDEN);

        let log = audit::recent(&f.db, 50).await.expect("audit");
        let exports: Vec<_> = log.iter().filter(|e| e.action == "export").collect();
        assert_eq!(exports.len(), 3, "every export is audited: {exports:?}");
        assert!(exports.iter().any(|e| e.reason.as_deref() == Some("交给接种点核对")));
        assert!(log.iter().any(|e| e.action == "access" && e.outcome == "denied" && e.target.ends_with("/export?full")));
    }
}
