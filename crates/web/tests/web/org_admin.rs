//! Organisation admin: groups by the admin, units by the admin and their group's leader, unit
//! contacts' logins, and units imported from a spreadsheet.

use axum::http::StatusCode;
use vaxloop_core::Role;
use vaxloop_demo::DEMO_PASSWORD;
use vaxloop_store::{audit, org};

use crate::fixture;

async fn post_to(
    c: &crate::client::Client,
    path: &str,
    fields: Vec<(String, String)>,
) -> crate::client::Response {
    let mut c = c.clone();
    let refs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    c.post_form(path, &refs).await
}

vaxloop_store::backend_tests! {
    async fn groups_and_units_are_created_edited_and_scoped(t) {
        let f = fixture(t).await;
        let mut admin = f.client();
        admin.login("admin", DEMO_PASSWORD).await;
        let token = admin.get("/groups/new").await.csrf();
        let bad = admin.post_form("/groups/new", &[("csrf_token", &token), ("code", "x"), ("name", ""), ("kind", "community")]).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert!(bad.body.contains("编码应为2–32位") && bad.body.contains("必填"));
        let made = admin.post_form("/groups/new", &[("csrf_token", &token), ("code", "GSC"), ("name", "学校组"), ("kind", "community"), ("leader_name", "周老师")]).await;
        assert_eq!(made.location(), "/groups/GSC");
        let taken = admin.post_form("/groups/new", &[("csrf_token", &token), ("code", "GSC"), ("name", "重复"), ("kind", "community")]).await;
        assert!(taken.body.contains("该编码已被使用"));
        let edited = admin.post_form("/groups/GSC/edit", &[("csrf_token", &token), ("name", "学校与培训机构组"), ("kind", "street"), ("leader_name", "")]).await;
        assert_eq!(edited.status, StatusCode::SEE_OTHER);
        let g = org::work_group_by_code(&f.db, "GSC").await.expect("q").expect("group");
        assert_eq!((g.name.as_str(), g.kind.as_str(), g.leader_name), ("学校与培训机构组", "street", None));

        let leader = f.town.logins.iter().find(|l| l.role == Role::GroupLeader).expect("leader").clone();
        let own = f.town.groups[leader.group.expect("group")].code.clone();
        let other_unit = f.town.units.iter().find(|u| Some(u.group) != leader.group).expect("another group's unit").clone();
        let mut l = f.client();
        l.login(leader.username.as_deref().expect("username"), DEMO_PASSWORD).await;
        assert_eq!(l.get("/groups/new").await.status, StatusCode::FORBIDDEN, "only the admin makes groups");
        let token = l.get("/units/new").await.csrf();
        let unit = [("csrf_token", token.as_str()), ("code", "N001"), ("group", own.as_str()), ("name", "新建小区"), ("kind", "community"), ("target", "1200"), ("contact_name", "钱经理"), ("contact_phone", "13700000001")];
        let made = l.post_form("/units/new", &unit).await;
        assert_eq!(made.location(), "/units/N001", "{}", made.body);
        // The contact's phone is sealed at rest like a resident's: masked on the unit's page,
        // opened only on its edit form for whoever may edit the unit.
        let mut tx = f.db.begin_write().await.expect("tx");
        let (plain, masked, sealed): (Option<String>, Option<String>, Option<Vec<u8>>) = sqlx::query_as("SELECT contact_phone, contact_phone_masked, contact_phone_cipher FROM units WHERE code = 'N001'").fetch_one(&mut *tx).await.expect("unit");
        drop(tx);
        assert_eq!((plain, masked.as_deref()), (None, Some("137****0001")));
        assert!(sealed.is_some_and(|s| !String::from_utf8_lossy(&s).contains("13700000001")));
        assert!(l.get("/units/N001").await.body.contains("137****0001"));
        assert!(l.get("/units/N001/edit").await.body.contains("value=\"13700000001\""));
        // A phone stored in plain text before the migration is sealed at start-up.
        let mut tx = f.db.begin_write().await.expect("tx");
        sqlx::query("UPDATE units SET contact_phone = '13600000002', contact_phone_cipher = NULL, contact_phone_masked = NULL WHERE code = 'N001'").execute(&mut *tx).await.expect("plain");
        tx.commit().await.expect("commit");
        let app = vaxloop_app::App::new(f.db.db.clone(), f.db.cipher.clone(), chrono_tz::Asia::Shanghai);
        assert_eq!(vaxloop_app::org::seal_plain_contact_phones(&app).await.expect("seal"), 1);
        assert_eq!(vaxloop_app::org::seal_plain_contact_phones(&app).await.expect("seal"), 0, "once");
        assert!(l.get("/units/N001").await.body.contains("136****0002"));
        let mut elsewhere = unit;
        elsewhere[1] = ("code", "N002");
        elsewhere[2] = ("group", "GSC");
        let refused = l.post_form("/units/new", &elsewhere).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
        assert!(refused.body.contains("没有这个工作组"));
        let mut bad = unit;
        bad[1] = ("code", "N003");
        bad[5] = ("target", "lots");
        let bad = l.post_form("/units/new", &bad).await;
        assert!(bad.body.contains("目标人数应为"));
        assert_eq!(l.get(&format!("/units/{}/edit", other_unit.code)).await.status, StatusCode::FORBIDDEN);
        let cross = l.post_form(&format!("/units/{}/contact-login", other_unit.code), &[("csrf_token", &token), ("username", "intruder"), ("display_name", "x")]).await;
        assert_eq!(cross.status, StatusCode::FORBIDDEN);

        // The leader may not mint the contact's login (it could unmask and export what the
        // leader may not) and is not offered the form; the admin gives it, and the contact lands
        // on their unit.
        let minted = l.post_form("/units/N001/contact-login", &[("csrf_token", &token), ("username", "contact.n001"), ("display_name", "钱经理")]).await;
        assert_eq!(minted.status, StatusCode::FORBIDDEN);
        assert!(!l.get("/units/N001").await.body.contains("id=\"create-login\""));
        let mut admin = f.client();
        admin.login("admin", DEMO_PASSWORD).await;
        let admin_token = admin.get("/units/N001").await.csrf();
        let created = admin.post_form("/units/N001/contact-login", &[("csrf_token", &admin_token), ("username", "contact.n001"), ("display_name", "钱经理")]).await;
        assert_eq!(created.status, StatusCode::OK, "{}", created.body);
        let marker = "id=\"initial-password\">";
        let start = created.body.find(marker).expect("the initial password is shown once") + marker.len();
        let password: String = created.body[start..].chars().take_while(|c| *c != '<').collect();
        let mut contact = f.client();
        let landed = contact.login("contact.n001", &password).await;
        assert_eq!(landed.location(), "/unit");
        assert_eq!(contact.get("/unit").await.location(), "/units/N001");
        let log = audit::recent(&f.db, 30).await.expect("audit");
        for action in ["create_group", "update_group", "create_unit", "create_login"] {
            assert!(log.iter().any(|e| e.action == action), "{action} audited");
        }
        assert!(log.iter().all(|e| !e.detail.as_deref().unwrap_or("").contains(&password)), "no password in the log");
    }

    async fn the_admin_imports_units_from_a_spreadsheet(t) {
        let f = fixture(t).await;
        let group = f.town.groups[1].code.clone();
        let csv = format!(
            "单位编码,单位名称,类型,工作组,目标人数,联系电话\nM100,锦绣花园,community,{group},800,13600000000\nM101,,community,{group},10,\nM102,坏类型,castle,{group},10,\n{},改名了,community,{group},999,\n",
            f.town.units[0].code
        );
        let mut admin = f.client();
        admin.login("admin", DEMO_PASSWORD).await;
        let page = admin.get("/admin/units/import").await;
        let marker = "?csrf_token=";
        let start = page.body.find(marker).expect("token in the action") + marker.len();
        let token = page.body[start..start + 64].to_string();
        let done = admin.post_file(&format!("/admin/units/import?csrf_token={token}"), "units.csv", csv.as_bytes()).await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.body);
        assert!(done.body.contains("类型不正确") && done.body.contains("必填"));
        assert!(org::unit_by_code(&f.db, "M100").await.expect("q").is_some());
        assert_eq!(org::unit_by_code(&f.db, &f.town.units[0].code).await.expect("q").expect("unit").target_headcount, 999);
        let missing = admin.post_file(&format!("/admin/units/import?csrf_token={token}"), "u.csv", "编码,名称\nA1,b\n".as_bytes()).await;
        assert_eq!(missing.status, StatusCode::BAD_REQUEST);
        let leader = f.town.logins.iter().find(|l| l.role == Role::GroupLeader).expect("leader").clone();
        let mut l = f.client();
        l.login(leader.username.as_deref().expect("username"), DEMO_PASSWORD).await;
        assert_eq!(l.get("/admin/units/import").await.status, StatusCode::FORBIDDEN);
    }

    async fn the_admin_sets_up_a_site_with_hours_and_desks(t) {
        let f = fixture(t).await;
        let mut admin = f.client();
        admin.login("admin", DEMO_PASSWORD).await;
        assert!(admin.get("/sites").await.body.contains("href=\"/sites/new\""));
        let form = admin.get("/sites/new").await;
        assert_eq!(form.status, StatusCode::OK);
        assert!(form.body.contains("name=\"vaccination_am\"") && form.body.contains("value=\"08:00\""), "the form starts from usable defaults");
        let token = form.csrf();
        let mut fields: Vec<(String, String)> = vec![("csrf_token".into(), token.clone()), ("code".into(), "TMP1".into()), ("name".into(), "体育馆临时点".into()), ("kind".into(), "temporary".into()), ("address".into(), "体育馆".into()), ("open_from".into(), "2026-12-01".into()), ("open_until".into(), "2026-11-20".into()), ("opens".into(), "09:00".into()), ("closes".into(), "08:00".into()), ("day0".into(), "on".into()), ("day2".into(), "on".into()), ("lat".into(), "91".into()), ("lon".into(), "121.473701".into()), ("opens_d2".into(), "10:00".into()), ("closes_d2".into(), String::new())];
        for zone in ["waiting", "screening", "vaccination", "observation"] {
            for (suffix, v) in [("space", "30"), ("am", "2"), ("pm", "2"), ("seconds", "90")] {
                fields.push((format!("{zone}_{suffix}"), v.into()));
            }
        }
        let set = |fields: &mut Vec<(String, String)>, k: &str, v: &str| {
            if let Some(f) = fields.iter_mut().find(|(name, _)| name == k) { f.1 = v.into(); }
        };
        set(&mut fields, "vaccination_am", "0");
        set(&mut fields, "vaccination_pm", "0");
        set(&mut fields, "screening_seconds", "abc");
        let as_refs = |fields: &Vec<(String, String)>| fields.iter().map(|(k, v)| (k.clone(), v.clone())).collect::<Vec<_>>();
        let post = |fields: Vec<(String, String)>| {
            let mut c = admin.clone();
            async move {
                let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                c.post_form("/sites/new", &refs).await
            }
        };
        let bad = post(as_refs(&fields)).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        for id in ["open_until-error", "closes-error", "vaccination_am-error", "screening_seconds-error", "lat-error", "closes_d2-error"] {
            assert!(bad.body.contains(&format!("id=\"{id}\"")), "{id} is named: {}", bad.body);
        }
        assert!(bad.body.contains("体育馆临时点"), "the form comes back as typed");
        assert!(vaxloop_store::sites::by_code(&f.db, "TMP1").await.expect("q").is_none(), "nothing was written");
        // Open from today for three weeks: slots are opened for the booking window's Mondays and
        // Wednesdays (the days ticked).
        let today = f.town.spec.today;
        let until = today.checked_add_days(chrono::Days::new(20)).expect("date");
        set(&mut fields, "open_from", &today.to_string());
        set(&mut fields, "open_until", &until.to_string());
        set(&mut fields, "closes", "16:30");
        set(&mut fields, "vaccination_am", "3");
        set(&mut fields, "screening_seconds", "75");
        set(&mut fields, "lat", "31.230416");
        // Wednesdays keep shorter hours of their own.
        set(&mut fields, "closes_d2", "12:00");
        let made = post(as_refs(&fields)).await;
        assert_eq!(made.location(), "/sites/TMP1", "{}", made.body);
        let site = vaxloop_store::sites::by_code(&f.db, "TMP1").await.expect("q").expect("site");
        assert_eq!((site.open_from.clone(), site.open_until.clone()), (Some(today.to_string()), Some(until.to_string())));
        assert_eq!((site.lat, site.lon), (Some(31.230416), Some(121.473701)), "the map position is kept");
        for d in 0..4 {
            let day = today.checked_add_days(chrono::Days::new(d)).expect("day");
            let slots = vaxloop_store::slots::of_site_day(&f.db, site.id, &day.to_string()).await.expect("slots");
            let open = matches!(chrono::Datelike::weekday(&day), chrono::Weekday::Mon | chrono::Weekday::Wed);
            // 09:00–16:30 in 30-minute slots; Wednesdays 10:00–12:00.
            let expected = match chrono::Datelike::weekday(&day) {
                chrono::Weekday::Mon => 15,
                chrono::Weekday::Wed => 4,
                _ => 0,
            };
            assert_eq!(slots.len(), if open { expected } else { 0 }, "{day}");
            assert!(slots.iter().all(|s| s.capacity > 0 || s.starts_min >= 720), "morning slots have desks");
        }
        assert_eq!(vaxloop_store::sites::hours(&f.db, site.id).await.expect("hours"), vec![(0, 540, 990), (2, 600, 720)]);
        let edit = admin.clone().get("/sites/TMP1/edit").await;
        assert!(edit.body.contains("name=\"opens_d2\" type=\"time\" value=\"10:00\"") && edit.body.contains("value=\"31.230416\""), "the edit form shows the day's own hours and the position");
        let zones = vaxloop_store::sites::zones(&f.db, site.id).await.expect("zones");
        let vaccination = zones.iter().find(|z| z.kind == vaxloop_core::ZoneKind::Vaccination).expect("zone");
        assert_eq!((vaccination.desks_am, vaccination.desks_pm), (3, 0));
        // The next day entering the window gets its slots at every site, once.
        let tomorrow = today.checked_add_days(chrono::Days::new(1)).expect("day");
        let opened = vaxloop_app::slots::open_window_everywhere(&f.db, tomorrow).await.expect("open");
        let last = today.checked_add_days(chrono::Days::new(4)).expect("day");
        let hcl = vaxloop_store::sites::by_code(&f.db, "HCL").await.expect("q").expect("HCL");
        assert!(opened > 0 && !vaxloop_store::slots::of_site_day(&f.db, hcl.id, &last.to_string()).await.expect("slots").is_empty());
        assert_eq!(vaxloop_app::slots::open_window_everywhere(&f.db, tomorrow).await.expect("open"), 0, "existing slots stay");
        let again = post(as_refs(&fields)).await;
        assert!(again.body.contains("id=\"code-error\""), "a taken code is named");
        assert!(audit::recent(&f.db, 5).await.expect("audit").iter().any(|e| e.action == "create_site" && e.target == "site:TMP1"));
        // HCL closes at noon from now on, with twice the vaccination desks in the morning: the
        // afternoon slots take no one new, the morning ones follow the rule, nobody loses a place.
        let hcl_hours = vaxloop_store::sites::hours(&f.db, hcl.id).await.expect("hours");
        let hcl_zones = vaxloop_store::sites::zones(&f.db, hcl.id).await.expect("zones");
        let mut change = vaxloop_app::sites::SiteInput::of_site(&hcl, &hcl_hours, &hcl_zones);
        let form = admin.get("/sites/HCL/edit").await;
        assert!(form.body.contains(&format!("value=\"{}\"", change.v("closes"))), "the form shows the site as it is");
        change.0.insert("closes".into(), "12:00".into());
        let desks: i64 = change.v("vaccination_am").parse().expect("desks");
        change.0.insert("vaccination_am".into(), (desks * 2).to_string());
        change.0.insert("csrf_token".into(), form.csrf());
        let before = vaxloop_store::slots::of_site_day(&f.db, hcl.id, &today.to_string()).await.expect("slots");
        let changed = post_to(&admin, "/sites/HCL/edit", change.0.clone().into_iter().collect()).await;
        assert_eq!(changed.location(), "/sites/HCL", "{}", changed.body);
        let after = vaxloop_store::slots::of_site_day(&f.db, hcl.id, &today.to_string()).await.expect("slots");
        assert_eq!(before.len(), after.len(), "slots are never removed");
        for (b, a) in before.iter().zip(&after) {
            assert!(a.capacity >= a.booked && a.booked == b.booked);
            if a.starts_min >= 720 {
                assert_eq!(a.capacity, a.booked, "closed slots take no one new");
            } else {
                assert!(a.capacity >= b.capacity, "more desks never shrink a morning slot");
            }
        }
        assert!(admin.get("/sites/HCL").await.body.contains("不再接受预约"));
        assert_eq!(vaxloop_store::sites::hours(&f.db, hcl.id).await.expect("hours").iter().map(|h| h.2).max(), Some(720));
        change.0.insert("opens".into(), "13:00".into());
        let bad = post_to(&admin, "/sites/HCL/edit", change.0.into_iter().collect()).await;
        assert!(bad.body.contains("id=\"closes-error\""));
        let mut desk = f.client();
        desk.login("desk", DEMO_PASSWORD).await;
        assert_eq!(desk.get("/sites/HCL/edit").await.status, StatusCode::FORBIDDEN);
        assert!(!desk.get("/sites/HCL").await.body.contains("id=\"edit-site\""));
        assert!(!desk.get("/sites").await.body.contains("href=\"/sites/new\""));
        assert_eq!(desk.get("/sites/new").await.status, StatusCode::FORBIDDEN);
    }
}
