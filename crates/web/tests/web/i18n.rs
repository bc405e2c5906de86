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
    async fn rendered_pages_hold_no_untranslated_key_or_raw_code_in_either_language(t) {
        let f = fixture(t).await;
        // Something in every list: a proposal, people at each station, a dose given.
        let (hcl, _, people, _) = f.book_today("HCL", 4).await;
        let visits = crate::client::ready_for_the_dose(&f.db, &hcl, &people[..2]).await;
        crate::client::give_doses(&f.db, &hcl, &visits[..1]).await;
        crate::client::check_in_today(&f.db, &hcl, people[2]).await;
        let contact = f.username(Role::UnitContact);
        let leader = f.username(Role::GroupLeader);
        let resident = f.town.logins.iter().find_map(|l| l.person).expect("resident");
        let resident_id = f.town.people[resident].id.as_str().to_string();
        let unit = f.town.units[0].code.clone();
        let group = f.town.groups[0].code.clone();
        let mut desk = f.client();
        desk.login("desk", DEMO_PASSWORD).await;
        let token = desk.get("/desk/plan").await.csrf();
        assert_eq!(desk.post_form("/desk/plan", &[("csrf_token", &token)]).await.status, StatusCode::SEE_OTHER);
        let rounds: Vec<(String, &str, Vec<String>)> = vec![
            ("admin".into(), DEMO_PASSWORD, ["/admin", "/admin/users", "/admin/audit", "/funnel", "/sites", "/sites/HCL", "/sites/HCL/board", "/sites/HCL/day", "/stock", "/nope"].map(String::from).to_vec()),
            ("desk".into(), DEMO_PASSWORD, vec!["/desk".into(), "/desk/plan".into(), format!("/units/{unit}"), format!("/groups/{group}")]),
            (leader, DEMO_PASSWORD, vec!["/group".into()]),
            (contact, DEMO_PASSWORD, vec!["/unit".into()]),
            ("hcl.checkin".into(), DEMO_PASSWORD, vec!["/sites/HCL/checkin".into()]),
            ("hcl.screening".into(), DEMO_PASSWORD, vec!["/sites/HCL/screening".into()]),
            ("hcl.vaccinator".into(), DEMO_PASSWORD, vec!["/sites/HCL/vaccination".into(), format!("/sites/HCL/vaccination?visit={}", visits[1].id)]),
            ("hcl.observation".into(), DEMO_PASSWORD, vec!["/sites/HCL/observation".into()]),
            ("hcl.manager".into(), DEMO_PASSWORD, vec!["/sites/HCL".into(), "/sites/HCL/board".into(), "/sites/HCL/day".into()]),
            ("volunteer".into(), DEMO_PASSWORD, vec!["/staff".into()]),
            (resident_id, vaxloop_demo::DEMO_PIN, vec!["/me".into(), "/me/book".into()]),
        ];
        // The locale files' sections: a word `section.something` shown is a key, not data
        // (a username such as `hcl.checkin` is data).
        let sections: BTreeSet<String> = keys("zh-CN.yml").iter().filter_map(|k| k.split('.').next().map(String::from)).collect();
        let mut found = Vec::new();
        for (login, password, pages) in &rounds {
            for lang in ["zh-CN", "en"] {
                let mut c = f.client();
                c.login(login, password).await;
                let mut first = c.get(&pages[0]).await;
                if first.status == StatusCode::SEE_OTHER {
                    first = c.get(first.location()).await;
                }
                let token = first.csrf();
                c.post_form("/lang", &[("csrf_token", &token), ("lang", lang), ("back", "/")]).await;
                for path in pages {
                    let mut page = c.get(path).await;
                    if page.status == StatusCode::SEE_OTHER {
                        page = c.get(page.location()).await;
                    }
                    assert!(page.status.is_success() || page.status == StatusCode::NOT_FOUND, "{login} {path}: {}", page.status);
                    assert!(page.body.contains(&format!("<html lang=\"{lang}\">")), "{login} {path} in {lang}");
                    for problem in text_problems(&visible_text(&page.body), lang, &sections) {
                        found.push(format!("{login} {path} ({lang}): {problem}"));
                    }
                }
            }
        }
        let missing = vaxloop_web::i18n::missing_keys();
        assert!(missing.is_empty(), "keys asked for without a translation: {missing:?}");
        assert!(found.is_empty(), "raw text on rendered pages:\n{}", found.join("\n"));
    }

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

/// What a reader sees of a page: the text between tags (scripts and styles left out) and the
/// attributes read out or shown (placeholders, titles, labels, confirmations, alternatives).
fn visible_text(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        out.push(' ');
        let tag_end = rest[open..].find('>').map_or(rest.len(), |e| open + e + 1);
        let tag = &rest[open..tag_end];
        for attr in [
            "placeholder=\"",
            "title=\"",
            "aria-label=\"",
            "data-confirm=\"",
            "alt=\"",
        ] {
            if let Some(i) = tag.find(attr) {
                let value = &tag[i + attr.len()..];
                out.push_str(&value[..value.find('"').unwrap_or(value.len())]);
                out.push(' ');
            }
        }
        rest = &rest[tag_end..];
        for skipped in ["script", "style"] {
            if tag.starts_with(&format!("<{skipped}")) {
                let close = format!("</{skipped}>");
                rest = rest.find(&close).map_or("", |i| &rest[i + close.len()..]);
            }
        }
    }
    out.push_str(rest);
    out.replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

/// Untranslated keys, raw record references and (on a Chinese page) English sentences.
fn text_problems(text: &str, lang: &str, sections: &BTreeSet<String>) -> Vec<String> {
    let mut out = Vec::new();
    let words: Vec<&str> = text.split_whitespace().collect();
    for w in &words {
        let w = w
            .trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '.' && c != '_' && c != ':');
        // `user:14`, `appointment:3`: a record's reference rather than what it is.
        if let Some((kind, id)) = w.split_once(':')
            && !kind.is_empty()
            && kind.chars().all(|c| c.is_ascii_lowercase() || c == '_')
            && !id.is_empty()
            && id.chars().all(|c| c.is_ascii_digit())
        {
            out.push(format!("raw reference {w}"));
        }
        // `journey.booked`, `desk.no_slots`: a key shown instead of its text.
        let parts: Vec<&str> = w.split('.').collect();
        if parts.len() >= 2
            && parts.iter().all(|p| {
                !p.is_empty()
                    && p.chars()
                        .all(|c| c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit())
            })
            && sections.contains(parts[0])
        {
            out.push(format!("key {w}"));
        }
    }
    if lang == "zh-CN" {
        // Four English words in a row on a Chinese page: a sentence nobody translated.
        let mut run = Vec::new();
        for w in &words {
            let plain = w
                .trim_matches(|c: char| matches!(c, ',' | '.' | ':' | ';' | '(' | ')' | '!' | '?'));
            if !plain.is_empty() && plain.chars().all(|c| c.is_ascii_alphabetic() || c == '\'') {
                run.push(plain);
                if run.len() == 4 {
                    out.push(format!("English on a Chinese page: {}", run.join(" ")));
                }
            } else {
                run.clear();
            }
        }
    }
    out
}
