//! Every visible string exists in both languages, and the language switch works.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use vaxloop_core::{JourneyState, Role, SiteKind, SitePost, UnitKind, WorkGroupKind, ZoneKind};
use vaxloop_demo::DEMO_PASSWORD;
use vaxloop_web::furniture as access;

use crate::fixture;

fn keys(file: &str) -> BTreeSet<String> {
    fn walk(prefix: &str, value: &serde_yaml::Value, out: &mut BTreeSet<String>) {
        match value {
            serde_yaml::Value::Mapping(map) => {
                for (k, v) in map {
                    let k = match k {
                        serde_yaml::Value::String(s) => s.clone(),
                        other => serde_yaml::to_string(other)
                            .expect("key")
                            .trim()
                            .to_string(),
                    };
                    let path = if prefix.is_empty() {
                        k
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&path, v, out);
                }
            }
            _ => {
                out.insert(prefix.to_string());
            }
        }
    }
    let path = format!("{}/locales/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("locale file");
    let value: serde_yaml::Value = serde_yaml::from_str(&text).expect("valid YAML");
    let mut out = BTreeSet::new();
    walk("", &value, &mut out);
    out
}

/// Literal keys passed to `t(...)`, `tf(...)` in templates and source.
fn used_keys() -> BTreeSet<String> {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut files = Vec::new();
    let mut dirs: Vec<std::path::PathBuf> = ["templates", "src"]
        .iter()
        .map(|d| std::path::Path::new(root).join(d))
        .collect();
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(std::fs::read_to_string(&path).expect("file"));
            }
        }
    }
    let mut out = BTreeSet::new();
    for text in files {
        for marker in ["t(\"", "tf(\"", "message_key: \"", "message: \""] {
            for (i, _) in text.match_indices(marker) {
                let rest = &text[i + marker.len()..];
                let key: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '_')
                    .collect();
                if key.contains('.') && rest[key.len()..].starts_with('"') {
                    out.insert(key);
                }
            }
        }
    }
    out
}

/// Keys built at run time from a vocabulary code.
fn vocabulary_keys() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    out.extend(Role::ALL.iter().map(|r| format!("role.{r}")));
    out.extend(SitePost::ALL.iter().map(|p| format!("post.{p}")));
    out.extend(WorkGroupKind::ALL.iter().map(|k| format!("group_kind.{k}")));
    out.extend(UnitKind::ALL.iter().map(|k| format!("unit_kind.{k}")));
    out.extend(SiteKind::ALL.iter().map(|k| format!("site_kind.{k}")));
    out.extend(ZoneKind::ALL.iter().map(|k| format!("zone.{k}")));
    out.extend(JourneyState::ALL.iter().map(|s| format!("journey.{s}")));
    out.extend((0..7).map(|d| format!("weekday.{d}")));
    out.extend(
        [
            "login",
            "access",
            "import",
            "export",
            "register",
            "confirm_registration",
            "reject_registration",
            "book",
            "book_team",
            "walk_in",
            "move",
            "cancel",
            "cancel_team",
            "claim",
            "claim_code",
            "create_site",
            "update_site",
            "print",
            "unlock_login",
            "create_api_token",
            "revoke_api_token",
            "api_token",
            "delivery.plan",
            "delivery.receive",
            "dose.wrong_code",
            "lot.create",
            "screening.questions",
            "site.close_day",
            "vaccine.create",
        ]
        .map(|a| format!("audit.action.{a}")),
    );
    out.extend(
        [
            "required",
            "name_invalid",
            "id_invalid",
            "phone_not_mobile",
            "pin_format",
            "pin_mismatch",
            "consent_required",
        ]
        .map(|c| format!("register.problem.{c}")),
    );
    out.extend(
        vaxloop_app::import::REASON_CODES
            .iter()
            .map(|c| format!("import.reason.{c}")),
    );
    out.extend(
        vaxloop_app::import::WARNING_CODES
            .iter()
            .map(|c| format!("import.warning.{c}")),
    );
    out.extend(["name", "id_number", "phone", "note"].map(|f| format!("import.field.{f}")));
    out.extend(["M", "F"].map(|s| format!("person.sex_{s}")));
    out.extend(["planned", "received", "cancelled"].map(|s| format!("stock.status.{s}")));
    out.extend(
        [
            "code",
            "name",
            "manufacturer",
            "doses_in_series",
            "min_interval_days",
            "min_age",
            "doses_per_vial",
            "observation_minutes",
            "lot_number",
            "expires_on",
            "day",
            "doses",
        ]
        .map(|f| format!("supply.field.{f}")),
    );
    out.extend(
        [
            "code_invalid",
            "code_taken",
            "required",
            "name_invalid",
            "kind_invalid",
            "group_unknown",
            "target_invalid",
            "coordinate_invalid",
            "phone_not_mobile",
            "too_long",
            "username_invalid",
            "username_taken",
        ]
        .map(|c| format!("org.problem.{c}")),
    );
    out.extend(
        vaxloop_core::Source::ALL
            .iter()
            .map(|s| format!("funnel.by_{s}")),
    );
    out.extend(["ok", "denied", "failed"].map(|o| format!("audit.outcome.{o}")));
    for role in Role::ALL {
        out.extend(access::nav(*role).iter().map(|(_, key)| key.to_string()));
    }
    out
}

#[test]
fn both_languages_have_the_same_keys_and_every_used_key() {
    let zh = keys("zh-CN.yml");
    let en = keys("en.yml");
    assert_eq!(
        zh.symmetric_difference(&en).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "keys differ between zh-CN and en"
    );
    let used: BTreeSet<String> = used_keys().into_iter().chain(vocabulary_keys()).collect();
    assert!(used.len() > 100, "found {} used keys", used.len());
    let missing: Vec<_> = used.iter().filter(|k| !zh.contains(*k)).collect();
    assert!(missing.is_empty(), "used but not translated: {missing:?}");
}

vaxloop_store::backend_tests! {
    async fn the_language_follows_the_switch_then_the_browser(t) {
        let f = fixture(t).await;
        let mut zh = f.client();
        let page = zh.get("/login").await;
        assert!(page.body.contains("<html lang=\"zh-CN\">") && page.body.contains("用户名或身份证号"));
        let mut en = f.client().with_accept_language("en-US,en;q=0.9");
        let page = en.get("/login").await;
        assert!(page.body.contains("<html lang=\"en\">") && page.body.contains("Username or ID number"));
        // The switch wins over the browser's preference and survives logging in.
        let token = page.csrf();
        let switched = en.post_form("/lang", &[("csrf_token", &token), ("lang", "zh-CN"), ("back", "/login")]).await;
        assert_eq!(switched.status, StatusCode::SEE_OTHER);
        assert_eq!(switched.location(), "/login");
        assert!(en.get("/login").await.body.contains("<html lang=\"zh-CN\">"));
        en.login("admin", DEMO_PASSWORD).await;
        let token = en.get("/admin").await.csrf();
        en.post_form("/lang", &[("csrf_token", &token), ("lang", "en"), ("back", "/admin")]).await;
        let admin = en.get("/admin").await;
        assert!(admin.body.contains("Town overview") && admin.body.contains("Mobilisation by work group"));
        let bad = en.post_form("/lang", &[("csrf_token", &token), ("lang", "fr"), ("back", "/admin")]).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert!(bad.body.contains("That language is not supported"));
        let offsite = en.post_form("/lang", &[("csrf_token", &token), ("lang", "en"), ("back", "//evil.example/")]).await;
        assert_eq!(offsite.location(), "/", "only local paths are followed");
    }
}
