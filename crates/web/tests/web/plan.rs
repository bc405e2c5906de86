//! The desk's planning page over HTTP: run the planner, lock and move teams (refused moves name
//! the reason), a stale version is told and changes nothing, publish books the teams once, and
//! nobody but the desk and the admin reaches any of it.

use axum::http::StatusCode;
use chrono::Datelike;
use vaxloop_core::Role;
use vaxloop_demo::DEMO_PASSWORD;

use crate::fixture;

/// The value of `attr="…"` after the first `marker` in `body`.
fn attr(body: &str, marker: &str, attr: &str) -> String {
    let at = body
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} on the page"));
    let rest = &body[at..];
    let key = format!("{attr}=\"");
    let from = rest.find(&key).expect("attribute") + key.len();
    rest[from..].split('"').next().expect("value").to_string()
}

/// `text` as a query value.
fn urlencoding(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

vaxloop_store::backend_tests! {
    async fn the_desk_plans_adjusts_and_publishes_and_nobody_else_may(t) {
        let f = fixture(t).await;
        let mut desk = f.client();
        desk.login("desk", DEMO_PASSWORD).await;
        assert!(desk.get("/desk").await.body.contains("href=\"/desk/plan\""), "the desk links the plan");
        let empty = desk.get("/desk/plan").await;
        assert_eq!(empty.status, StatusCode::OK);
        assert!(empty.body.contains("id=\"no-proposal\""));
        let token = empty.csrf();

        // Others may neither see nor run it.
        for role in [Role::UnitContact, Role::GroupLeader, Role::SiteStaff] {
            let mut other = f.client();
            other.login(&f.username(role), DEMO_PASSWORD).await;
            assert_eq!(other.get("/desk/plan").await.status, StatusCode::FORBIDDEN, "{role:?}");
            let mut home = other.get("/").await;
            while home.status.is_redirection() {
                let to = home.location().to_string();
                home = other.get(&to).await;
            }
            let their = home.csrf();
            assert_eq!(other.post_form("/desk/plan", &[("csrf_token", &their)]).await.status, StatusCode::FORBIDDEN);
        }
        assert!(vaxloop_store::plan_drafts::latest(&f.db).await.expect("q").is_none());

        let ran = desk.post_form("/desk/plan", &[("csrf_token", &token)]).await;
        assert_eq!(ran.status, StatusCode::SEE_OTHER);
        let page = desk.get(ran.location()).await;
        assert!(page.body.contains("已生成新的排班方案"), "the notice");
        assert!(page.body.contains("id=\"timeline-slots\"") && page.body.contains("class=\"chip chip-"));
        assert!(page.body.contains("校验通过"));
        let id = attr(&page.body, "id=\"proposal\"", "data-id");
        let version = attr(&page.body, "id=\"proposal\"", "data-version");
        let p = vaxloop_app::proposals::latest(&f.db).await.expect("q").expect("proposal");
        assert_eq!((p.id.to_string(), p.version.to_string()), (id.clone(), version.clone()));

        // A unit's left-out teams fold into one line, unless the unit is asked for by its code.
        // (When the planner placed every team, the last one is left out by hand.)
        let p = if p.plan.assignments.len() == p.live.instance.teams.len() {
            let mut plan = p.plan.clone();
            let last = plan.assignments.pop().expect("a team");
            plan.unassigned.push(vaxloop_planner::plan::Unassigned { team: last.team, reason: vaxloop_planner::solve::UNPLACED_REASONS[2].1.into() });
            let (live, plan, locked) = (serde_json::to_string(&p.live).expect("json"), serde_json::to_string(&plan).expect("json"), serde_json::to_string(&p.locked).expect("json"));
            let change = vaxloop_store::plan_drafts::Change { live: &live, plan: &plan, previous: None, locked: &locked, seconds: p.seconds };
            let mut tx = f.db.begin_write().await.expect("tx");
            assert!(vaxloop_store::plan_drafts::update(&mut tx, p.id, p.version, vaxloop_store::now_ms(), change).await.expect("update"));
            tx.commit().await.expect("commit");
            vaxloop_app::proposals::latest(&f.db).await.expect("q").expect("proposal")
        } else {
            p
        };
        let version = p.version.to_string();
        let inst = &p.live.instance;
        let out = inst.teams.iter().find(|t| !p.plan.assignments.iter().any(|a| a.team == t.id)).expect("a team left out");
        let name = vaxloop_store::org::units(&f.db, None).await.expect("q").into_iter().find(|u| u.code == out.unit).expect("its unit").name;
        let folded = desk.get(&format!("/desk/plan?unit={}", urlencoding(&name))).await.body;
        assert!(folded.contains(&format!("id=\"left-out-{}\"", out.unit)) && !folded.contains(&format!("id=\"team-{}\"", out.id)), "folded");
        let all = desk.get(&format!("/desk/plan?unit={}", out.unit)).await.body;
        assert!(all.contains(&format!("id=\"team-{}\"", out.id)) && !all.contains("id=\"left-out-"), "listed");

        // Lock the first team.
        let first = p.plan.assignments[0].team.clone();
        let locked = desk.post_form(&format!("/desk/plan/{id}/lock"), &[("csrf_token", &token), ("version", &version), ("team", &first), ("lock", "1")]).await;
        assert_eq!(locked.status, StatusCode::SEE_OTHER);
        // A colleague on the old version is told and nothing changes.
        let stale = desk.post_form(&format!("/desk/plan/{id}/lock"), &[("csrf_token", &token), ("version", &version), ("team", &first), ("lock", "0")]).await;
        assert_eq!(stale.status, StatusCode::CONFLICT);
        assert!(stale.body.contains("已被他人修改或发布"));
        let p = vaxloop_app::proposals::latest(&f.db).await.expect("q").expect("proposal");
        assert!(p.locked.contains(&first));
        let version = p.version.to_string();

        // A move to a time the plan does not have names the reason.
        let team = p.plan.assignments[1].team.clone();
        let bad = desk.post_form(&format!("/desk/plan/{id}/move"), &[
            ("csrf_token", &token), ("version", &version), ("team", &team),
            ("site", &p.plan.assignments[1].site), ("day", &p.live.instance.horizon.dates[0]), ("start", "23:59"),
        ]).await;
        assert_eq!(bad.status, StatusCode::CONFLICT);
        assert!(bad.body.contains("不在方案的日期和时段内"), "the reason");

        // A move to a place where it fits (found with the planner) is done, locked and listed.
        let inst = &p.live.instance;
        let here = &p.plan.assignments[1];
        let mut target = None;
        'find: for s in &inst.sites {
            for d in 0..inst.days() {
                for k in 0..inst.slots() {
                    if (&s.id, d, k) != (&here.site, here.day, here.parts[0].slot)
                        && vaxloop_planner::place_team(inst, &p.plan, &team, &s.id, d, k).is_ok()
                    {
                        target = Some((s.id.clone(), d, k));
                        break 'find;
                    }
                }
            }
        }
        let (site, d, k) = target.expect("another place fits");
        let start = vaxloop_planner::instance::clock_minutes(&inst.horizon.day_start).expect("start") as i32 + inst.slot_start(k);
        let start = format!("{:02}:{:02}", start / 60, start % 60);
        let moved = desk.post_form(&format!("/desk/plan/{id}/move"), &[
            ("csrf_token", &token), ("version", &version), ("team", &team),
            ("site", &site), ("day", &inst.horizon.dates[d]), ("start", &start),
        ]).await;
        assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.body);
        let after = desk.get(moved.location()).await;
        assert!(after.body.contains("批次已调整并锁定"));
        assert!(after.body.contains("id=\"changes\""), "the difference is shown");
        assert!(after.body.contains("id=\"adjust\""), "the moved team's card");
        let p = vaxloop_app::proposals::latest(&f.db).await.expect("q").expect("proposal");
        assert!(p.locked.contains(&team));
        let placed = p.plan.assignments.len();

        // Publish: every team booked; a second press on the same version is told.
        let version = p.version.to_string();
        let published = desk.post_form(&format!("/desk/plan/{id}/publish"), &[("csrf_token", &token), ("version", &version)]).await;
        assert_eq!(published.status, StatusCode::SEE_OTHER);
        assert_eq!(published.location(), format!("/desk?published={placed}&relocated=0&dropped=0&gone=0"));
        let listed = desk.get(published.location()).await;
        assert!(listed.body.contains(&format!("方案已发布：{placed} 个新批次")));
        assert!(listed.body.contains("href=\"/desk/teams/"), "each team's page is linked");
        if placed > 50 {
            assert!(listed.body.contains("id=\"teams-next\""), "the list is paged");
        }
        let again = desk.post_form(&format!("/desk/plan/{id}/publish"), &[("csrf_token", &token), ("version", &version)]).await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        let teams = vaxloop_store::teams::of_days(&f.db, "2000-01-01", "2999-01-01").await.expect("teams");
        assert_eq!(teams.len(), placed, "published once");
        assert!(desk.get("/desk/plan").await.body.contains("已发布"));

        let audit = vaxloop_store::audit::recent(&f.db, 50).await.expect("audit");
        for action in ["plan_propose", "plan_lock", "plan_move", "plan_publish"] {
            assert!(audit.iter().any(|e| e.action == action), "{action} audited");
        }
    }

    async fn a_closure_recorded_on_the_plan_moves_published_teams_and_their_units_hear(t) {
        let f = fixture(t).await;
        let mut desk = f.client();
        desk.login("desk", DEMO_PASSWORD).await;
        let token = desk.get("/desk/plan").await.csrf();
        let login = vaxloop_store::users::by_username(&f.db, "desk").await.expect("q").expect("desk");
        let by = vaxloop_app::Caller::login(vaxloop_app::Actor::from(&login), "test");
        let app = vaxloop_app::App::new(f.db.db.clone(), f.db.cipher.clone(), chrono_tz::Asia::Shanghai);
        let today = vaxloop_web::WebConfig::default().today();
        let quick = vaxloop_planner::Options { time_limit: std::time::Duration::from_secs(5), max_steps: Some(50), seed: 3 };
        let p = vaxloop_app::proposals::propose(&app, &by, today, quick.clone()).await.expect("proposal");
        vaxloop_app::proposals::publish_proposal(&app, &by, p.id, p.version).await.expect("published");

        // The desk makes a new plan: the published teams are in it, marked, and stay.
        let ran = desk.post_form("/desk/plan", &[("csrf_token", &token)]).await;
        assert_eq!(ran.status, StatusCode::SEE_OTHER);
        let page = desk.get("/desk/plan").await;
        assert!(page.body.contains("已发布</span>"), "published teams are marked");
        assert!(!page.body.contains("id=\"booked-changes\""), "none of them moves");
        let p = vaxloop_app::proposals::latest(&f.db).await.expect("q").expect("proposal");
        let booked = p.live.booked_plan();
        let a = booked.assignments.first().expect("a published team").clone();
        let date = p.live.instance.horizon.dates[a.day].clone();
        let version = p.version.to_string();
        let id = p.id.to_string();

        // Bad input names the field; a cut that is no cut says why.
        let bad = desk.post_form(&format!("/desk/plan/{id}/disrupt"), &[("csrf_token", &token), ("version", &version), ("site", &a.site), ("day", &date), ("kind", "doses"), ("doses", "many")]).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert!(bad.body.contains("剂数须为 0 或以上的整数"));
        let s = p.live.site_day(&a.site, &date).expect("site-day").0;
        let more = (p.live.allocated[s][a.day] + 5).to_string();
        let not_short = desk.post_form(&format!("/desk/plan/{id}/disrupt"), &[("csrf_token", &token), ("version", &version), ("site", &a.site), ("day", &date), ("kind", "doses"), ("doses", &more)]).await;
        assert_eq!(not_short.status, StatusCode::CONFLICT);
        assert!(not_short.body.contains("到货不足应少于此数"));

        // The site closes that day: the plan shows which published teams move, then publishes.
        let closed = desk.post_form(&format!("/desk/plan/{id}/disrupt"), &[("csrf_token", &token), ("version", &version), ("site", &a.site), ("day", &date), ("kind", "closed"), ("doses", "")]).await;
        assert_eq!(closed.status, StatusCode::SEE_OTHER, "{}", closed.body);
        let page = desk.get(closed.location()).await;
        assert!(page.body.contains("id=\"booked-changes\"") && page.body.contains(&a.team));
        assert!(page.body.contains("接种点停诊"), "the closure is listed");
        let p = vaxloop_app::proposals::latest(&f.db).await.expect("q").expect("proposal");
        let touched = p.booked_changes().len();
        assert!(touched >= 1);
        let published = desk.post_form(&format!("/desk/plan/{id}/publish"), &[("csrf_token", &token), ("version", &p.version.to_string())]).await;
        assert_eq!(published.status, StatusCode::SEE_OTHER);
        assert!(published.location().contains("relocated=") && !published.location().ends_with("relocated=0&dropped=0"), "{}", published.location());

        // The moved team's unit sees it in its inbox.
        let unit_code = p.live.instance.teams.iter().find(|x| x.id == a.team).expect("team").unit.clone();
        let mut admin = f.client();
        admin.login("admin", DEMO_PASSWORD).await;
        let unit_page = admin.get(&format!("/units/{unit_code}")).await;
        assert!(unit_page.body.contains("已改约") || unit_page.body.contains("已取消"), "the unit hears of it");
        let audit = vaxloop_store::audit::recent(&f.db, 50).await.expect("audit");
        assert!(audit.iter().any(|e| e.action == "plan_disrupt"));
    }

    async fn the_planning_api_proposes_acts_and_publishes_once_per_key(t) {
        let f = fixture(t).await;
        let mut desk = f.client();
        desk.login("desk", DEMO_PASSWORD).await;
        let token = desk.get("/desk").await.csrf();
        assert_eq!(desk.get("/api/v1/plans/current").await.status, StatusCode::NOT_FOUND);
        let made = desk.post_json("/api/v1/plans", "", Some(&token)).await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
        let out: serde_json::Value = serde_json::from_str(&made.body).expect("json");
        assert_eq!(out["status"], "open");
        assert_eq!(out["valid"], true);
        assert_eq!(out["plan"]["format"], "vaxloop-plan/1");
        let id = out["id"].as_i64().expect("id");
        let version = out["version"].as_i64().expect("version");

        // The instance and the plan check out with the planner's own validator.
        let inst = desk.get(&format!("/api/v1/plans/{id}/instance")).await;
        let inst = vaxloop_planner::Instance::parse(&inst.body).expect("instance");
        let plan = vaxloop_planner::Plan::parse(&out["plan"].to_string()).expect("plan");
        assert!(vaxloop_planner::check(&inst, &plan).valid);

        // Actions: a missing field is named; a stale version is a conflict.
        let team = plan.assignments[0].team.clone();
        let no_team = desk.post_json(&format!("/api/v1/plans/{id}/actions"), &format!(r#"{{"version":{version},"action":"lock"}}"#), Some(&token)).await;
        assert_eq!(no_team.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(no_team.body.contains("\"field\":\"team\""));
        let locked = desk.post_json(&format!("/api/v1/plans/{id}/actions"), &format!(r#"{{"version":{version},"action":"lock","team":"{team}"}}"#), Some(&token)).await;
        assert_eq!(locked.status, StatusCode::OK);
        let out: serde_json::Value = serde_json::from_str(&locked.body).expect("json");
        assert_eq!(out["locked"][0], team.as_str());
        let stale = desk.post_json(&format!("/api/v1/plans/{id}/actions"), &format!(r#"{{"version":{version},"action":"unlock","team":"{team}"}}"#), Some(&token)).await;
        assert_eq!(stale.status, StatusCode::CONFLICT);
        assert!(stale.body.contains("\"error\":\"stale\""));
        let version = out["version"].as_i64().expect("version");
        let bad_move = desk.post_json(&format!("/api/v1/plans/{id}/actions"), &format!(r#"{{"version":{version},"action":"move","team":"{team}","site":"{}","date":"{}","starts":"03:00"}}"#, plan.assignments[0].site, inst.horizon.dates[0]), Some(&token)).await;
        assert_eq!(bad_move.status, StatusCode::CONFLICT);
        assert!(bad_move.body.contains("\"error\":\"move_refused\"") && bad_move.body.contains("\"field\":\"starts\""));

        // Others may not.
        let contact = f.username(vaxloop_core::Role::UnitContact);
        let mut other = f.client();
        other.login(&contact, DEMO_PASSWORD).await;
        assert_eq!(other.get("/api/v1/plans/current").await.status, StatusCode::FORBIDDEN);
        assert_eq!(other.get(&format!("/api/v1/plans/{id}/instance")).await.status, StatusCode::FORBIDDEN);

        // Publish with a key, twice: one booking, the same answer.
        let publish = format!(r#"{{"version":{version},"action":"publish"}}"#);
        let send = |c: &mut crate::Client| {
            let builder = axum::http::Request::builder()
                .method("POST")
                .uri(format!("/api/v1/plans/{id}/actions"))
                .header("content-type", "application/json")
                .header("x-csrf-token", token.clone())
                .header("idempotency-key", "publish-1");
            let body = publish.clone();
            let mut c = c.clone();
            async move { c.send_raw(builder, body).await }
        };
        let first = send(&mut desk).await;
        assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
        let again = send(&mut desk).await;
        assert_eq!((again.status, &again.body), (StatusCode::CREATED, &first.body));
        let out: serde_json::Value = serde_json::from_str(&first.body).expect("json");
        let booked = out["booked"].as_array().expect("booked").len();
        assert_eq!(booked, plan.assignments.len());
        let teams = vaxloop_store::teams::of_days(&f.db, "2000-01-01", "2999-01-01").await.expect("teams");
        assert_eq!(teams.len(), booked, "published once");
        let current: serde_json::Value = serde_json::from_str(&desk.get("/api/v1/plans/current").await.body).expect("json");
        assert_eq!(current["status"], "published");
        let doc = desk.get("/api/openapi.json").await;
        assert!(doc.body.contains("/api/v1/plans/{id}/actions"));
    }

    async fn a_unit_contact_sets_when_their_people_can_come_and_nobody_else_does(t) {
        let f = fixture(t).await;
        let contact = f.town.logins.iter().find(|l| l.role == Role::UnitContact).expect("contact").clone();
        let own = f.town.units[contact.unit.expect("unit")].code.clone();
        let other = f.town.logins.iter().find(|l| l.role == Role::UnitContact && l.unit != contact.unit).expect("another").clone();
        let mut c = f.client();
        c.login(contact.username.as_deref().expect("username"), DEMO_PASSWORD).await;
        let page = c.get(&format!("/units/{own}")).await;
        assert!(page.body.contains("id=\"prefs-form\""));
        let token = page.csrf();
        let bad = c.post_form(&format!("/units/{own}/prefs"), &[("csrf_token", &token), ("window", "night")]).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.body.contains("时段须为不限、上午或下午"));
        // Two of the planner's next three days (1 = Monday), so the unit stays in the plan.
        let today = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive();
        let mut days: Vec<u32> = (1..=2).map(|d| (today + chrono::Days::new(d)).weekday().number_from_monday()).collect();
        days.sort_unstable();
        let (first, second) = (format!("d{}", days[0]), format!("d{}", days[1]));
        let saved = c.post_form(&format!("/units/{own}/prefs"), &[("csrf_token", &token), (&first, "1"), (&second, "1"), ("window", "am"), ("hard", "1")]).await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER);
        let unit = vaxloop_store::org::unit_by_code(&f.db, &own).await.expect("q").expect("unit");
        let prefs = vaxloop_store::planning::prefs_of(&f.db, unit.id).await.expect("prefs");
        let chosen = format!("{}{}", days[0], days[1]);
        assert_eq!((prefs.weekdays.as_str(), prefs.window.as_str(), prefs.hard_window), (chosen.as_str(), "am", true));
        let again = c.get(&format!("/units/{own}")).await;
        assert!(again.body.contains(&format!("name=\"{first}\" value=\"1\" checked")));

        // Another unit's contact cannot; the desk can, and sees it on the plan.
        let mut o = f.client();
        o.login(other.username.as_deref().expect("username"), DEMO_PASSWORD).await;
        let mut home = o.get("/unit").await;
        while home.status.is_redirection() {
            let to = home.location().to_string();
            home = o.get(&to).await;
        }
        let theirs = home.csrf();
        let denied = o.post_form(&format!("/units/{own}/prefs"), &[("csrf_token", &theirs), ("window", "pm")]).await;
        assert_eq!(denied.status, StatusCode::FORBIDDEN);
        assert_eq!(vaxloop_store::planning::prefs_of(&f.db, unit.id).await.expect("prefs").window, "am");
        let mut desk = f.client();
        desk.login("desk", DEMO_PASSWORD).await;
        let seen = desk.get(&format!("/units/{own}")).await;
        assert!(seen.body.contains("id=\"prefs-form\""), "{} {}", seen.status, &seen.body[..seen.body.len().min(300)]);
        let token = desk.get("/desk/plan").await.csrf();
        desk.post_form("/desk/plan", &[("csrf_token", &token)]).await;
        let plan = desk.get(&format!("/desk/plan?unit={own}")).await;
        assert!(plan.body.contains("仅限此时段"), "the unit's hours are shown on the plan");
    }
}
