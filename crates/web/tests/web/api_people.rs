//! The JSON API across the scope line: people listed masked and only within one's unit, changes
//! checked field by field, unmasking with a reason — and guessed ids refused.

use axum::http::StatusCode;
use vaxloop_core::Role;
use vaxloop_demo::DEMO_PASSWORD;
use vaxloop_store::{audit, org, people};

use crate::fixture;

vaxloop_store::backend_tests! {
    async fn the_api_keeps_each_caller_inside_their_scope(t) {
        let f = fixture(t).await;
        let contact = f.town.logins.iter().find(|l| l.role == Role::UnitContact).expect("contact").clone();
        let unit = f.town.units[contact.unit.expect("unit")].clone();
        let other = f.town.units.iter().find(|u| u.code != unit.code).expect("other unit").clone();
        let mut c = f.client();
        c.login(contact.username.as_deref().expect("username"), DEMO_PASSWORD).await;
        let token = c.get(&format!("/units/{}", unit.code)).await.csrf();

        let list = c.get(&format!("/api/v1/units/{}/people", unit.code)).await;
        assert_eq!(list.status, StatusCode::OK);
        let people_json: serde_json::Value = serde_json::from_str(&list.body).expect("json");
        let first = &people_json[0];
        assert!(first["id_number"].as_str().expect("id").contains("********"), "masked: {first}");
        for p in f.town.people.iter().filter(|p| f.town.units[p.unit].code == unit.code) {
            assert!(!list.body.contains(p.id.as_str()));
        }
        // Pages are sized as asked, within bounds; absurd pages are refused by field, not
        // overflowed.
        let few = c.get(&format!("/api/v1/units/{}/people?per_page=3", unit.code)).await;
        assert_eq!(serde_json::from_str::<Vec<serde_json::Value>>(&few.body).expect("json").len(), 3);
        for (query, field) in [("page=0", "page"), ("page=9223372036854775807", "page"), ("per_page=100000", "per_page"), ("per_page=0", "per_page")] {
            let refused = c.get(&format!("/api/v1/units/{}/people?{query}", unit.code)).await;
            assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {}", refused.body);
            assert!(refused.body.contains(&format!("\"field\":\"{field}\"")), "{query}: {}", refused.body);
        }
        let cross = c.get(&format!("/api/v1/units/{}/people", other.code)).await;
        assert_eq!(cross.status, StatusCode::FORBIDDEN);
        assert_eq!(c.get(&format!("/api/v1/units/{}", other.code)).await.status, StatusCode::FORBIDDEN);

        // Unmasking: own unit with a reason; anyone else's by guessed id is refused.
        let own_id = first["id"].as_i64().expect("id");
        let no_reason = c.post_json(&format!("/api/v1/people/{own_id}/unmask"), r#"{"reason":""}"#, Some(&token)).await;
        assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
        // Text with a NUL character (PostgreSQL cannot store one) is refused by field, not a 500.
        let nul = c.post_json(&format!("/api/v1/people/{own_id}/unmask"), r#"{"reason":"核对\u0000名单"}"#, Some(&token)).await;
        assert_eq!(nul.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", nul.body);
        assert!(nul.body.contains("\"field\":\"reason\""), "{}", nul.body);
        let shown = c.post_json(&format!("/api/v1/people/{own_id}/unmask"), r#"{"reason":"核对预约名单"}"#, Some(&token)).await;
        assert_eq!(shown.status, StatusCode::OK);
        let (full, _) = people::reveal(&f.db, &f.db.cipher, own_id).await.expect("reveal");
        assert!(shown.body.contains(&full));
        let other_id = org::unit_by_code(&f.db, &other.code).await.expect("q").expect("unit").id;
        let theirs = people::of_unit(&f.db, other_id, 1, 0).await.expect("q")[0].id;
        let guessed = c.post_json(&format!("/api/v1/people/{theirs}/unmask"), r#"{"reason":"只是看看"}"#, Some(&token)).await;
        assert_eq!(guessed.status, StatusCode::FORBIDDEN);
        let no_csrf = c.post_json(&format!("/api/v1/people/{own_id}/unmask"), r#"{"reason":"核对预约名单"}"#, None).await;
        assert_eq!(no_csrf.status, StatusCode::FORBIDDEN);
        assert!(no_csrf.body.contains("\"error\":\"csrf\""));
        let log = audit::recent(&f.db, 30).await.expect("audit");
        assert_eq!(log.iter().filter(|e| e.action == "unmask").count(), 1, "one unmasking, audited");
    }

    async fn the_api_creates_and_changes_groups_and_units_with_field_errors(t) {
        let f = fixture(t).await;
        let mut admin = f.client();
        admin.login("admin", DEMO_PASSWORD).await;
        let token = admin.get("/admin").await.csrf();
        let bad = admin.post_json("/api/v1/work-groups", r#"{"code":"!","name":"","kind":"castle"}"#, Some(&token)).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        let body: serde_json::Value = serde_json::from_str(&bad.body).expect("json");
        let fields: Vec<&str> = body["problems"].as_array().expect("problems").iter().map(|p| p["field"].as_str().expect("field")).collect();
        assert_eq!(fields, vec!["code", "name", "kind"]);
        let made = admin.post_json("/api/v1/work-groups", r#"{"code":"GAPI","name":"接口组","kind":"street"}"#, Some(&token)).await;
        assert_eq!(made.status, StatusCode::CREATED);
        let changed = admin.send_json("PUT", "/api/v1/work-groups/GAPI", r#"{"name":"接口测试组","kind":"street"}"#, Some(&token)).await;
        assert_eq!(changed.status, StatusCode::NO_CONTENT);
        // A code is fixed once created: repeating it is fine, changing it is refused by field.
        let same = admin.send_json("PUT", "/api/v1/work-groups/GAPI", r#"{"code":"GAPI","name":"接口测试组","kind":"street"}"#, Some(&token)).await;
        assert_eq!(same.status, StatusCode::NO_CONTENT, "{}", same.body);
        let renamed = admin.send_json("PUT", "/api/v1/work-groups/GAPI", r#"{"code":"GAPI2","name":"接口测试组","kind":"street"}"#, Some(&token)).await;
        assert_eq!(renamed.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", renamed.body);
        assert!(renamed.body.contains("\"field\":\"code\"") && renamed.body.contains("编码创建后不能修改"), "{}", renamed.body);

        let leader = f.town.logins.iter().find(|l| l.role == Role::GroupLeader).expect("leader").clone();
        let own = f.town.groups[leader.group.expect("group")].code.clone();
        let mut l = f.client();
        l.login(leader.username.as_deref().expect("username"), DEMO_PASSWORD).await;
        let token = l.get("/group").await;
        let token = l.get(token.location()).await.csrf();
        let unit = format!(r#"{{"code":"API01","group":"{own}","name":"接口小区","kind":"community","target":300}}"#);
        assert_eq!(l.post_json("/api/v1/units", &unit, Some(&token)).await.status, StatusCode::CREATED);
        let elsewhere = r#"{"code":"API02","group":"GAPI","name":"越界","kind":"community"}"#;
        let refused = l.post_json("/api/v1/units", elsewhere, Some(&token)).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.body.contains("\"field\":\"group\""));
        assert_eq!(l.post_json("/api/v1/work-groups", r#"{"code":"GX","name":"x","kind":"street"}"#, Some(&token)).await.status, StatusCode::FORBIDDEN);
        let detail = l.get("/api/v1/units/API01").await;
        assert!(detail.body.contains("\"target\":300"));
    }
}
