//! The authorisation matrix: every route of the router × every role × its own scope and someone
//! else's, against one table of who may. The routes are read from the web crate's source (every
//! `.route("…", get(…).post(…))`), so a route missing from the table fails the test: a new page
//! cannot ship unguarded.
//!
//! Who may is written per route as space-separated subjects: `anon`, `resident`, `contact` (a
//! unit's contact), `leader` (a work group's leader), `desk`, `staff` (a volunteer), `admin`, and
//! the site posts `manager`, `checkin`, `screening`, `vaccinator`, `observation`. A subject as
//! written reaches its own scope only (its unit, group, site, appointment); with a `*` it reaches
//! someone else's too. `public` is everyone everywhere; `login` everyone logged in, everywhere.
//!
//! Each path is probed in scope A (the subjects' own: site HCL, their unit, group, team, person,
//! appointment…) and, when it names a scoped thing, scope B (another group's unit at HQC, …).
//! Denied is 401, 403, 404 (an outsider is not told what exists) or, for a page, the way to the
//! login form; allowed is anything else but a server error. Denied subjects are probed first, then
//! the allowed; the first allowed answer must not be 404 (the fixture names something real).
//! Unsafe requests carry the caller's CSRF token and, where the handler reads one, a well-formed
//! body, so the answer is the guard's and not the parser's. Safe routes run first, those that
//! destroy what others name (cancel, close, revoke) last.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use axum::http::{Request, StatusCode, header};
use vaxloop_core::Role;
use vaxloop_demo::DEMO_PASSWORD;
use vaxloop_store::users::{self, NewUser};

use crate::client::Response;
use crate::{Client, Fixture, fixture};

const SUBJECTS: [&str; 12] = [
    "anon",
    "resident",
    "contact",
    "leader",
    "desk",
    "staff",
    "admin",
    "manager",
    "checkin",
    "screening",
    "vaccinator",
    "observation",
];

/// Who may call each route (see the module's comment); the body for unsafe ones, if any.
const TABLE: &[(&str, &str, &str)] = &[
    // Public doors.
    ("GET", "/", "login"),
    ("GET", "/login", "public"),
    ("POST", "/login", "public"),
    ("POST", "/logout", "public"),
    ("POST", "/lang", "public"),
    ("GET", "/healthz", "public"),
    ("GET", "/metrics", "public"),
    ("GET", "/static/{*path}", "public"),
    ("GET", "/favicon.ico", "public"),
    ("GET", "/api/openapi.json", "public"),
    ("GET", "/r/{token}", "public"),
    ("POST", "/r/{token}", "public"),
    ("GET", "/r/{token}/claim/{claim}", "public"),
    ("POST", "/r/{token}/claim/{claim}", "public"),
    ("GET", "/api/v1/me", "login"),
    // The town admin.
    ("GET", "/admin", "admin"),
    ("GET", "/admin/users", "admin"),
    ("POST", "/admin/users/{username}/unlock", "admin"),
    ("GET", "/admin/audit", "admin"),
    ("GET", "/admin/tokens", "admin"),
    ("POST", "/admin/tokens", "admin"),
    ("POST", "/admin/tokens/{name}/revoke", "admin"),
    ("GET", "/admin/units/import", "admin"),
    ("POST", "/admin/units/import", "admin"),
    ("GET", "/groups/new", "admin"),
    ("POST", "/groups/new", "admin"),
    ("POST", "/api/v1/work-groups", "admin"),
    ("GET", "/sites/new", "admin"),
    ("POST", "/sites/new", "admin"),
    ("GET", "/sites/{code}/edit", "admin*"),
    ("POST", "/sites/{code}/edit", "admin*"),
    ("POST", "/sites/{code}/units", "admin*"),
    ("POST", "/sites/{code}/units/{unit}/remove", "admin*"),
    ("POST", "/vaccines", "admin"),
    ("POST", "/api/v1/vaccines", "admin"),
    ("GET", "/vaccines/{code}/screening", "admin"),
    ("POST", "/vaccines/{code}/screening", "admin"),
    ("POST", "/vaccines/{code}/screening/{id}", "admin"),
    // The desk (and the admin).
    ("GET", "/desk", "admin desk"),
    ("POST", "/desk/teams", "admin desk"),
    ("GET", "/desk/teams/{code}", "admin* desk*"),
    ("GET", "/desk/starts", "admin desk"),
    ("POST", "/desk/teams/{code}/cancel", "admin* desk*"),
    ("POST", "/desk/teams/{code}/move", "admin* desk*"),
    ("GET", "/desk/plan", "admin desk"),
    ("POST", "/desk/plan", "admin desk"),
    ("POST", "/desk/plan/{id}/lock", "admin desk"),
    ("POST", "/desk/plan/{id}/move", "admin desk"),
    ("POST", "/desk/plan/{id}/rerun", "admin desk"),
    ("POST", "/desk/plan/{id}/refresh", "admin desk"),
    ("POST", "/desk/plan/{id}/publish", "admin desk"),
    ("POST", "/desk/plan/{id}/disrupt", "admin desk"),
    ("POST", "/desk/plan/{id}/undisrupt", "admin desk"),
    ("POST", "/api/v1/plans", "admin desk"),
    ("GET", "/api/v1/plans/current", "admin desk"),
    ("GET", "/api/v1/plans/{id}/instance", "admin desk"),
    ("POST", "/api/v1/plans/{id}/actions", "admin desk"),
    ("GET", "/stock", "admin desk"),
    (
        "GET",
        "/api/v1/stock",
        "admin desk manager checkin screening vaccinator observation",
    ),
    ("POST", "/lots", "admin desk"),
    ("POST", "/api/v1/lots", "admin desk"),
    ("POST", "/deliveries", "admin desk"),
    ("POST", "/api/v1/deliveries", "admin desk"),
    ("POST", "/deliveries/{id}/receive", "admin* desk* manager"),
    (
        "POST",
        "/api/v1/deliveries/{id}/receive",
        "admin* desk* manager",
    ),
    ("POST", "/stock/waste", "admin desk manager"),
    ("POST", "/stock/transfer", "admin desk manager"),
    ("PUT", "/api/v1/slots/{id}/capacity", "admin* desk*"),
    ("GET", "/funnel", "admin desk leader"),
    ("GET", "/funnel/chart.svg", "admin desk leader"),
    ("POST", "/api/v1/appointments", "admin desk resident"),
    // Work groups and units.
    ("GET", "/group", "leader"),
    ("GET", "/groups/{code}", "admin* desk* leader"),
    ("GET", "/groups/{code}/edit", "admin*"),
    ("POST", "/groups/{code}/edit", "admin*"),
    ("PUT", "/api/v1/work-groups/{code}", "admin*"),
    ("GET", "/api/v1/work-groups", "admin desk leader"),
    (
        "GET",
        "/api/v1/work-groups/{code}/units",
        "admin* desk* leader",
    ),
    ("GET", "/unit", "contact"),
    ("GET", "/units/new", "admin leader"),
    ("POST", "/units/new", "admin leader"),
    ("POST", "/api/v1/units", "admin leader"),
    ("GET", "/units/{code}", "admin* desk* leader contact"),
    ("GET", "/api/v1/units/{code}", "admin* desk* leader contact"),
    ("GET", "/units/{code}/edit", "admin* leader"),
    ("POST", "/units/{code}/edit", "admin* leader"),
    ("PUT", "/api/v1/units/{code}", "admin* leader"),
    ("POST", "/units/{code}/contact-login", "admin*"),
    (
        "GET",
        "/api/v1/units/{code}/people",
        "admin* desk* leader contact",
    ),
    ("POST", "/units/{code}/inbox/read", "contact"),
    ("POST", "/units/{code}/prefs", "admin* desk* contact"),
    ("GET", "/units/{code}/import", "admin* leader contact"),
    ("POST", "/units/{code}/import", "admin* leader contact"),
    ("GET", "/imports/{id}", "admin* leader contact"),
    (
        "GET",
        "/imports/{id}/rejected.xlsx",
        "admin* leader contact",
    ),
    (
        "POST",
        "/units/{code}/export",
        "admin* desk* leader contact",
    ),
    ("GET", "/people/{id}/reveal", "admin* contact"),
    ("POST", "/people/{id}/reveal", "admin* contact"),
    ("POST", "/api/v1/people/{id}/unmask", "admin* contact"),
    ("GET", "/units/{code}/qr.svg", "admin* leader contact"),
    ("GET", "/units/{code}/poster.pdf", "admin* leader contact"),
    (
        "POST",
        "/units/{code}/pending/{person}/{decision}",
        "admin* leader contact",
    ),
    (
        "POST",
        "/units/{code}/claims/{claim}/{decision}",
        "admin* leader contact",
    ),
    ("GET", "/units/{code}/day", "admin* desk* leader contact"),
    (
        "GET",
        "/units/{code}/day.xlsx",
        "admin* desk* leader contact",
    ),
    (
        "GET",
        "/api/v1/units/{code}/days/{day}",
        "admin* desk* leader contact",
    ),
    (
        "GET",
        "/teams/{code}/form.pdf",
        "admin* desk* leader contact",
    ),
    (
        "GET",
        "/teams/{code}/labels.pdf",
        "admin* desk* leader contact",
    ),
    // Sites.
    ("GET", "/sites", "admin desk"),
    (
        "GET",
        "/api/v1/sites",
        "admin desk manager checkin screening vaccinator observation",
    ),
    (
        "GET",
        "/site",
        "manager checkin screening vaccinator observation",
    ),
    (
        "GET",
        "/sites/{code}",
        "admin* desk* manager checkin screening vaccinator observation",
    ),
    ("GET", "/api/v1/sites/{code}/availability", "login"),
    ("GET", "/sites/{code}/what-if", "admin* desk* manager"),
    (
        "GET",
        "/sites/{code}/what-if/chart.svg",
        "admin* desk* manager",
    ),
    ("GET", "/sites/{code}/board", "admin* desk* manager"),
    ("GET", "/api/v1/sites/{code}/board", "admin* desk* manager"),
    ("GET", "/sites/{code}/day", "admin* desk* manager"),
    ("GET", "/sites/{code}/day.xlsx", "admin* desk* manager"),
    (
        "GET",
        "/api/v1/sites/{code}/days/{day}",
        "admin* desk* manager",
    ),
    ("POST", "/sites/{code}/day/close", "admin* manager"),
    (
        "POST",
        "/api/v1/sites/{code}/days/{day}/close",
        "admin* manager",
    ),
    ("GET", "/sites/{code}/checkin", "admin* manager checkin"),
    ("POST", "/sites/{code}/checkin", "admin* manager checkin"),
    (
        "POST",
        "/sites/{code}/checkin/walk-in",
        "admin* manager checkin",
    ),
    (
        "POST",
        "/sites/{code}/checkin/register",
        "admin* manager checkin",
    ),
    (
        "POST",
        "/api/v1/sites/{code}/checkins",
        "admin* manager checkin",
    ),
    ("GET", "/sites/{code}/screening", "admin* manager screening"),
    (
        "POST",
        "/sites/{code}/screening",
        "admin* manager screening",
    ),
    (
        "POST",
        "/api/v1/sites/{code}/screenings",
        "admin* manager screening",
    ),
    (
        "GET",
        "/api/v1/sites/{code}/queue",
        "admin* manager screening",
    ),
    (
        "GET",
        "/sites/{code}/vaccination",
        "admin* manager vaccinator",
    ),
    (
        "POST",
        "/sites/{code}/vaccination",
        "admin* manager vaccinator",
    ),
    (
        "GET",
        "/api/v1/sites/{code}/lots",
        "admin* manager vaccinator",
    ),
    (
        "POST",
        "/api/v1/sites/{code}/vaccinations",
        "admin* manager vaccinator",
    ),
    (
        "GET",
        "/sites/{code}/observation",
        "admin* manager observation",
    ),
    (
        "POST",
        "/sites/{code}/observation/release",
        "admin* manager observation",
    ),
    (
        "POST",
        "/sites/{code}/observation/aefi",
        "admin* manager observation",
    ),
    (
        "POST",
        "/api/v1/sites/{code}/releases",
        "admin* manager observation",
    ),
    (
        "POST",
        "/api/v1/sites/{code}/aefi",
        "admin* manager observation",
    ),
    // Residents and volunteers.
    ("GET", "/me", "resident"),
    ("GET", "/me/qr.svg", "resident"),
    ("GET", "/me/book", "resident"),
    ("POST", "/me/book", "resident"),
    ("POST", "/me/appointments/{id}/cancel", "resident"),
    (
        "DELETE",
        "/api/v1/appointments/{id}",
        "admin* desk* resident",
    ),
    ("GET", "/staff", "staff"),
];

/// Bodies for unsafe requests whose handler parses one (a form's fields, or JSON under
/// `/api/`), well-formed so the answer is the guard's and not the parser's; they keep each
/// scope's things as they are (an edit sends the unit's own group back).
fn body_of(method: &str, path: &str, s: &Scope, r: &Resources) -> Option<String> {
    let (day, site, site_id, lot, v) = (&r.day, &s.site, s.site_id, r.lot, s.visit);
    let b = match (method, path) {
        ("POST", "/api/v1/work-groups") => r#"{"code":"MX","name":"x","kind":"village"}"#.into(),
        ("PUT", "/api/v1/work-groups/{code}") => {
            format!(r#"{{"code":"{}","name":"x","kind":"village"}}"#, s.group)
        }
        ("POST", "/api/v1/units") => format!(
            r#"{{"code":"MX1","group":"{}","name":"x","kind":"community","target":10}}"#,
            s.group
        ),
        ("PUT", "/api/v1/units/{code}") => format!(
            r#"{{"code":"{}","group":"{}","name":"x","kind":"community","target":10}}"#,
            s.unit, s.group
        ),
        ("POST", "/api/v1/vaccines") => r#"{"code":"X1","name":"x","manufacturer":"y","doses_in_series":1,"min_interval_days":0,"min_age":0,"doses_per_vial":1}"#.into(),
        ("POST", "/api/v1/lots") => format!(r#"{{"vaccine_id":{},"lot_number":"M-1","expires_on":"2099-01-01"}}"#, r.vaccine_id),
        ("POST", "/api/v1/deliveries") => format!(r#"{{"lot_id":{lot},"site":"{site}","day":"{day}","doses":1}}"#),
        ("PUT", "/api/v1/slots/{id}/capacity") => r#"{"capacity":40,"reason":"matrix probe"}"#.into(),
        ("POST", "/api/v1/appointments") => format!(r#"{{"person_id":{},"slot_id":{}}}"#, s.person, s.slot),
        ("POST", "/api/v1/people/{id}/unmask") => r#"{"reason":"matrix probe of who may unmask"}"#.into(),
        ("POST", "/api/v1/plans/{id}/actions") => r#"{"action":"rerun","version":1}"#.into(),
        ("POST", "/api/v1/sites/{code}/checkins") => r#"{"code":"VXL1:nothing"}"#.into(),
        ("POST", "/api/v1/sites/{code}/screenings") => format!(r#"{{"visit_id":{v},"answers":[],"outcome":"pass"}}"#),
        ("POST", "/api/v1/sites/{code}/vaccinations") => format!(r#"{{"visit_id":{v},"lot_id":{lot}}}"#),
        ("POST", "/api/v1/sites/{code}/releases") => format!(r#"{{"visit_id":{v}}}"#),
        ("POST", "/api/v1/sites/{code}/aefi") => format!(r#"{{"visit_id":{v},"onset":"10:00","symptoms":[],"severity":"mild","action":"observed"}}"#),
        ("POST", "/admin/tokens") => "name=probe&role=desk&days=30".into(),
        ("POST", "/sites/{code}/units") => format!("unit={}", s.unit),
        ("POST", "/deliveries") => format!("lot={lot}&site={site_id}&day={day}&doses=1"),
        ("POST", "/lots") => format!("vaccine={}&lot_number=P-1&expires_on=2099-01-01", r.vaccine_id),
        ("POST", "/vaccines") => "code=X2&name=x&manufacturer=y&doses_in_series=1&min_interval_days=0&min_age=0&doses_per_vial=1".into(),
        ("POST", "/desk/plan/{id}/lock") => format!("version=1&team={}&lock=1", s.team),
        ("POST", "/desk/plan/{id}/move") => format!("version=1&team={}&site={site}&day={day}&start=08:00", s.team),
        ("POST", "/desk/plan/{id}/disrupt") => format!("version=1&site={site}&day={day}&kind=closed"),
        ("POST", "/desk/plan/{id}/undisrupt") => format!("version=1&site={site}&day={day}"),
        ("POST", p) if p.starts_with("/desk/plan/{id}/") => "version=1".into(),
        ("POST", "/desk/teams") => format!("unit={}&site={site}&day={day}&start=08:00&size=1", s.unit),
        ("POST", "/desk/teams/{code}/move") => format!("site={site}&day={day}&start=08:00"),
        ("POST", "/me/book") => format!("slot_id={}", s.slot),
        ("POST", "/sites/{code}/checkin") | ("POST", "/sites/{code}/checkin/walk-in") => "code=VXL1:nothing".into(),
        ("POST", "/sites/{code}/observation/release") => format!("visit={v}&reason="),
        ("POST", "/sites/{code}/vaccination") => format!("visit={v}"),
        ("POST", "/stock/transfer") => format!("lot={lot}&from={site_id}&to={site_id}&doses=1"),
        ("POST", "/stock/waste") => format!("site={site_id}&lot={lot}&doses=1&reason=broken"),
        ("POST", "/units/{code}/export") => "reason=matrix+probe+of+who+may+export&format=xlsx".into(),
        ("POST", "/units/{code}/inbox/read") => "upto=0".into(),
        ("POST", "/units/{code}/prefs") => "d1=on&window=all".into(),
        _ if path.starts_with("/api/") => "{}".into(),
        _ => return None,
    };
    Some(b)
}

/// Query strings a handler needs before it reaches its guard.
fn query_of(path: &str, s: &Scope, r: &Resources) -> String {
    match path {
        "/api/v1/sites/{code}/queue" => "?station=screening".into(),
        "/api/v1/sites/{code}/lots" => format!("?visit_id={}", s.visit),
        "/api/v1/sites/{code}/availability" => format!("?date={}", r.day),
        _ => String::new(),
    }
}

/// The things a scope names.
#[derive(Debug, Clone, Default)]
struct Scope {
    site: String,
    site_id: i64,
    unit: String,
    group: String,
    team: String,
    person: i64,
    /// A visit of the scope's team at its site today (checked in).
    visit: i64,
    appointment: i64,
    import: i64,
    delivery: i64,
    slot: i64,
    token: String,
    claim: i64,
    pending: i64,
}

struct Resources {
    a: Scope,
    b: Scope,
    day: String,
    vaccine: String,
    vaccine_id: i64,
    question: i64,
    plan: i64,
    lot: i64,
    api_token: String,
}

/// The path of `template` in `scope`; `None` when the template names nothing scoped (probed
/// once, in scope A).
fn instantiate(template: &str, s: &Scope, r: &Resources) -> (String, bool) {
    let mut scoped = false;
    let mut out = Vec::new();
    let parts: Vec<&str> = template.split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        let before = if i > 0 { parts[i - 1] } else { "" };
        let value = match *part {
            "{code}" => {
                scoped = true;
                match before {
                    "sites" => s.site.clone(),
                    "units" => s.unit.clone(),
                    "groups" | "work-groups" => s.group.clone(),
                    "teams" => s.team.clone(),
                    "vaccines" => {
                        scoped = false;
                        r.vaccine.clone()
                    }
                    other => panic!("{{code}} after {other} in {template}"),
                }
            }
            "{id}" => match before {
                "appointments" => {
                    scoped = true;
                    s.appointment.to_string()
                }
                "people" => {
                    scoped = true;
                    s.person.to_string()
                }
                "imports" => {
                    scoped = true;
                    s.import.to_string()
                }
                "deliveries" => {
                    scoped = true;
                    s.delivery.to_string()
                }
                "slots" => {
                    scoped = true;
                    s.slot.to_string()
                }
                "plan" | "plans" => r.plan.to_string(),
                "screening" => r.question.to_string(),
                other => panic!("{{id}} after {other} in {template}"),
            },
            "{day}" => r.day.clone(),
            "{token}" => {
                scoped = true;
                s.token.clone()
            }
            "{claim}" => s.claim.to_string(),
            "{person}" => s.pending.to_string(),
            "{decision}" => "reject".into(),
            "{unit}" => s.unit.clone(),
            "{username}" => "hcl.checkin".into(),
            "{name}" => r.api_token.clone(),
            "{*path}" => "app.css".into(),
            p if p.starts_with('{') => panic!("no value for {p} in {template}"),
            p => p.to_string(),
        };
        out.push(value);
    }
    (out.join("/"), scoped)
}

/// Every `(method, path)` the web crate routes, read from its source.
fn routes_in_source() -> BTreeSet<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![dir];
    let mut routes = BTreeSet::new();
    while let Some(path) = files.pop() {
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).expect("dir") {
                files.push(entry.expect("entry").path());
            }
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("source");
        let mut rest = text.as_str();
        while let Some(at) = rest.find(".route(") {
            rest = &rest[at + ".route(".len()..];
            let Some(open) = rest.find('"') else { break };
            let after = &rest[open + 1..];
            let close = after.find('"').expect("route literal");
            let path = after[..close].to_string();
            // The call's arguments, up to its matching parenthesis.
            let mut depth = 1;
            let mut end = 0;
            for (i, c) in rest.char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            end = i;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let call = &rest[..end];
            for method in ["get", "post", "put", "delete", "patch"] {
                let needle = format!("{method}(");
                let mut from = 0;
                while let Some(i) = call[from..].find(&needle) {
                    let at = from + i;
                    let prev = call[..at].chars().last().unwrap_or(' ');
                    if !(prev.is_alphanumeric() || prev == '_' || prev == ':') {
                        routes.insert((method.to_uppercase(), path.clone()));
                    }
                    from = at + needle.len();
                }
            }
        }
    }
    routes
}

/// Who may, as `(own scope, other scope)` sets of subjects.
fn who_may(spec: &str) -> (BTreeSet<&'static str>, BTreeSet<&'static str>) {
    let mut own = BTreeSet::new();
    let mut other = BTreeSet::new();
    for word in spec.split_whitespace() {
        match word {
            "public" => {
                own.extend(SUBJECTS);
                other.extend(SUBJECTS);
            }
            "login" => {
                own.extend(SUBJECTS.iter().filter(|s| **s != "anon"));
                other.extend(SUBJECTS.iter().filter(|s| **s != "anon"));
            }
            w => {
                let name = w.trim_end_matches('*');
                let s = *SUBJECTS
                    .iter()
                    .find(|s| **s == name)
                    .unwrap_or_else(|| panic!("unknown subject {w}"));
                own.insert(s);
                if w.ends_with('*') {
                    other.insert(s);
                }
            }
        }
    }
    (own, other)
}

/// Denied: 401, 403, 404, or (a page) the way to the login form.
fn denied(r: &Response) -> bool {
    matches!(
        r.status,
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::NOT_FOUND
    ) || (r.status.is_redirection() && r.location().starts_with("/login"))
}

/// Routes that destroy what others name: probed last.
fn destroys(path: &str) -> bool {
    [
        "cancel",
        "close",
        "revoke",
        "remove",
        "{decision}",
        "unlock",
        "publish",
        "logout",
    ]
    .iter()
    .any(|w| path.ends_with(w))
        || path.starts_with("/api/v1/appointments/")
}

struct Subject {
    client: Client,
    csrf: String,
}

async fn csrf_of(client: &mut Client) -> String {
    let mut page = client.get("/").await;
    for _ in 0..3 {
        if !page.status.is_redirection() {
            break;
        }
        let to = page.location().to_string();
        page = client.get(&to).await;
    }
    if !page.body.contains("name=\"csrf_token\"") {
        page = client.get("/login").await;
    }
    page.csrf()
}

async fn probe(s: &mut Subject, method: &str, path: &str, body: Option<&str>) -> Response {
    if method == "GET" {
        return s.client.get(path).await;
    }
    if method == "POST" && path.ends_with("/import") {
        // An upload: the token in the action's query, a small roster in the body.
        let to = format!("{path}?csrf_token={}", s.csrf);
        return s
            .client
            .post_file(&to, "probe.csv", "姓名,身份证号,手机号\n".as_bytes())
            .await;
    }
    let api = path.starts_with("/api/");
    let mut builder = Request::builder().method(method).uri(path);
    let text = if api {
        builder = builder
            .header(header::CONTENT_TYPE, "application/json")
            .header("x-csrf-token", &s.csrf);
        body.unwrap_or("{}").to_string()
    } else {
        builder = builder.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("csrf_token", &s.csrf);
        let mut text = form.finish();
        if let Some(b) = body {
            text = format!("{text}&{b}");
        }
        text
    };
    s.client.send_raw(builder, text).await
}

async fn make_login(f: &Fixture, user: NewUser) {
    let mut tx = f.db.begin_write().await.expect("tx");
    users::insert(&mut tx, &user, vaxloop_store::now_ms())
        .await
        .expect("login");
    tx.commit().await.expect("commit");
}

/// A unit's people waiting, and a team of `n` of them booked at `site` today.
async fn scope_at(f: &Fixture, site_code: &str, avoid_group: Option<i64>) -> Scope {
    let site = vaxloop_store::sites::by_code(&f.db, site_code)
        .await
        .expect("q")
        .expect("site");
    let today = vaxloop_web::WebConfig::default().today().to_string();
    let mut chosen = None;
    for u in vaxloop_store::org::units(&f.db, None).await.expect("units") {
        if Some(u.work_group_id) == avoid_group {
            continue;
        }
        let serves = vaxloop_store::sites::serving_unit(&f.db, u.id)
            .await
            .expect("q")
            .iter()
            .any(|s| s.id == site.id);
        let waiting = vaxloop_store::journeys::waiting_of_unit(&f.db, u.id, 1, 3)
            .await
            .expect("q");
        let index = f
            .town
            .units
            .iter()
            .position(|d| d.code == u.code)
            .expect("demo unit");
        let pending = (f.town.people.iter()).any(|p| p.unit == index && !p.confirmed);
        if serves && waiting.len() == 3 && pending {
            chosen = Some((u, waiting));
            break;
        }
    }
    let (unit, people) =
        chosen.expect("a unit the site serves, with people waiting and one pending");
    let slot = vaxloop_store::slots::of_site_day(&f.db, site.id, &today)
        .await
        .expect("slots")
        .into_iter()
        .find(|s| s.capacity - s.booked >= 3)
        .expect("room today")
        .id;
    let team = vaxloop_app::booking::engine::book_team(
        &f.db,
        chrono_tz::Asia::Shanghai,
        unit.id,
        slot,
        &people,
        1,
    )
    .await
    .expect("book")
    .expect("booked");
    let group = vaxloop_store::org::work_groups(&f.db)
        .await
        .expect("groups")
        .into_iter()
        .find(|g| g.id == unit.work_group_id)
        .expect("group");
    let mut tx = f.db.begin_write().await.expect("tx");
    let appointment: i64 = sqlx::query_scalar(
        "SELECT id FROM appointments WHERE person_id = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(people[0])
    .fetch_one(&mut *tx)
    .await
    .expect("appointment");
    // A delivery planned for the site, to receive.
    let delivery: i64 = sqlx::query_scalar(
        "INSERT INTO deliveries (lot_id, site_id, delivery_date, doses, status) \
         VALUES ((SELECT MIN(id) FROM lots), $1, $2, 10, 'planned') RETURNING id",
    )
    .bind(site.id)
    .bind(&today)
    .fetch_one(&mut *tx)
    .await
    .expect("a delivery to receive");
    let pending: i64 = sqlx::query_scalar(
        "SELECT id FROM people WHERE unit_id = $1 AND status = 'pending' ORDER BY id LIMIT 1",
    )
    .bind(unit.id)
    .fetch_one(&mut *tx)
    .await
    .expect("a pending registration");
    // A claim of a roster record waiting for the contact's word.
    let now = vaxloop_store::now_ms();
    let claim: i64 = sqlx::query_scalar(
        "INSERT INTO claims (person_id, unit_id, phone_cipher, phone_masked, consent_at, consent_version, pin_hash, expires_at, created_at) \
         VALUES ($1, $2, $3, '138****0000', $4, 'v1', 'x', $5, $4) RETURNING id",
    )
    .bind(people[1])
    .bind(unit.id)
    .bind(f.db.cipher.seal("13800000000"))
    .bind(now)
    .bind(now + 86_400_000)
    .fetch_one(&mut *tx)
    .await
    .expect("a claim");
    tx.commit().await.expect("commit");
    Scope {
        site_id: site.id,
        site: site.code,
        unit: unit.code.clone(),
        group: group.code,
        team: team.team.code.clone(),
        person: people[0],
        appointment,
        import: 0,
        visit: 0,
        delivery,
        slot,
        token: unit.reg_token.clone(),
        claim,
        pending,
    }
}

vaxloop_store::backend_tests! {
    async fn every_route_answers_every_role_in_and_out_of_scope_as_the_table_says(t) {
        let f = fixture(t).await;
        // Every routed (method, path) is in the table, and the table names nothing unrouted.
        let routed = routes_in_source();
        let table: BTreeMap<(String, String), &str> = TABLE
            .iter()
            .map(|(m, p, w)| ((m.to_string(), p.to_string()), *w))
            .collect();
        assert_eq!(table.len(), TABLE.len(), "each route once in the table");
        let missing: Vec<_> = routed.iter().filter(|r| !table.contains_key(*r)).collect();
        assert!(missing.is_empty(), "routes missing from the authorisation table: {missing:?}");
        let stale: Vec<_> = table.keys().filter(|r| !routed.contains(*r)).collect();
        assert!(stale.is_empty(), "the table names routes that are not routed: {stale:?}");

        // The world: scope A (the subjects' own) at HCL, scope B elsewhere in another group.
        let a = scope_at(&f, "HCL", None).await;
        let a_group_id = vaxloop_store::org::unit_by_code(&f.db, &a.unit).await.expect("q").expect("unit").work_group_id;
        let b = scope_at(&f, "HQC", Some(a_group_id)).await;
        let vaccine_row = vaxloop_store::vaccines::all(&f.db).await.expect("q").remove(0);
        let vaccine = vaccine_row.code.clone();
        let question = vaxloop_store::screening::questions(&f.db, vaccine_row.id).await.expect("q")[0].id;
        let admin_caller = vaxloop_app::Caller::operator("matrix");
        let app = vaxloop_app::App::new(f.db.db.clone(), f.db.cipher.clone(), chrono_tz::Asia::Shanghai);
        let made = vaxloop_app::tokens::create(&app, &admin_caller, &vaxloop_app::tokens::TokenInput {
            name: "matrix".into(), role: "desk".into(), ..Default::default()
        }).await.expect("token");
        let mut desk = f.client();
        desk.login("desk", DEMO_PASSWORD).await;
        let desk_csrf = csrf_of(&mut desk).await;
        let ran = desk.post_form("/desk/plan", &[("csrf_token", &desk_csrf)]).await;
        assert!(ran.status.is_redirection(), "a plan to probe: {}", ran.body);
        let mut tx = f.db.begin_write().await.expect("tx");
        let lot: i64 = sqlx::query_scalar("SELECT MIN(id) FROM lots").fetch_one(&mut *tx).await.expect("a lot");
        drop(tx);
        let plan = vaxloop_app::proposals::latest(&f.db).await.expect("q").expect("proposal").id;
        let r = Resources {
            a,
            b,
            day: vaxloop_web::WebConfig::default().today().to_string(),
            vaccine,
            vaccine_id: vaccine_row.id,
            question,
            plan,
            lot,
            api_token: made.name,
        };

        // The subjects: the demo's logins, and a contact, leader and resident of scope A.
        let unit_a = vaxloop_store::org::unit_by_code(&f.db, &r.a.unit).await.expect("q").expect("unit");
        let hash = vaxloop_core::password::hash(DEMO_PASSWORD);
        make_login(&f, NewUser { username: Some("m.contact".into()), display_name: "m".into(), password_hash: hash.clone(), role: Some(Role::UnitContact), unit_id: Some(unit_a.id), ..NewUser::default() }).await;
        make_login(&f, NewUser { username: Some("m.leader".into()), display_name: "m".into(), password_hash: hash.clone(), role: Some(Role::GroupLeader), work_group_id: Some(unit_a.work_group_id), ..NewUser::default() }).await;
        let pin = "246813";
        make_login(&f, NewUser { username: None, display_name: "m".into(), password_hash: vaxloop_core::password::hash(pin), role: Some(Role::Resident), person_id: Some(r.a.person), ..NewUser::default() }).await;
        let resident_id = {
            let mut found = None;
            for p in f.town.people.iter().filter(|p| f.town.units[p.unit].code == r.a.unit) {
                let row = vaxloop_store::people::by_resident_id(&f.db, &f.db.cipher, &p.id).await.expect("q");
                if row.is_some_and(|row| row.id == r.a.person) {
                    found = Some(p.id.as_str().to_string());
                }
            }
            found.expect("the resident's ID number")
        };
        let mut subjects: HashMap<&str, Subject> = HashMap::new();
        for name in SUBJECTS {
            let mut client = f.client();
            let (login, password) = match name {
                "anon" => (None, DEMO_PASSWORD),
                "resident" => (Some(resident_id.clone()), pin),
                "contact" => (Some("m.contact".to_string()), DEMO_PASSWORD),
                "leader" => (Some("m.leader".to_string()), DEMO_PASSWORD),
                "staff" => (Some("volunteer".to_string()), DEMO_PASSWORD),
                "desk" | "admin" => (Some(name.to_string()), DEMO_PASSWORD),
                post => (Some(format!("hcl.{post}")), DEMO_PASSWORD),
            };
            if let Some(login) = login {
                let done = client.login(&login, password).await;
                assert!(done.status.is_redirection() && !done.location().starts_with("/login"), "{name} logs in: {}", done.body);
            }
            let csrf = csrf_of(&mut client).await;
            subjects.insert(name, Subject { client, csrf });
        }

        // An import into each scope's unit, and a visit (someone of its team checked in).
        let mut r = r;
        let today = vaxloop_web::WebConfig::default().today();
        for (n, scope) in [&mut r.a, &mut r.b].into_iter().enumerate() {
            let admin = subjects.get_mut("admin").expect("admin");
            let id = vaxloop_core::ResidentId::compose(310112, chrono::NaiveDate::from_ymd_opt(1960, 1, 1).expect("date"), 900 + n as u16).as_str().to_string();
            let csv = format!("姓名,身份证号,手机号\n甲,{id},13800138000\n乙,1234,\n");
            let to = format!("/units/{}/import?csrf_token={}", scope.unit, admin.csrf);
            let done = admin.client.post_file(&to, "probe.csv", csv.as_bytes()).await;
            assert!(done.status.is_redirection(), "an import: {}", done.body);
            scope.import = done.location().trim_start_matches("/imports/").parse().expect("the import's id");
            let code = format!("VXL1:{}", f.db.cipher.sign("person", scope.person));
            let site = vaxloop_store::sites::by_code(&f.db, &scope.site).await.expect("q").expect("site");
            scope.visit = vaxloop_app::site_ops::check_in(&f.db, &f.db.cipher, site.id, vaxloop_app::site_ops::At::on(chrono_tz::Asia::Shanghai, today), &code, None)
                .await
                .expect("store")
                .expect("checked in")
                .visit
                .id;
        }

        // Something that does not exist answers like something out of scope to everyone it
        // would be out of scope for (the answer tells no outsider what exists), and "not found"
        // to whoever reaches every scope (the admin, and for some routes everyone logged in).
        let mut ghost = r.b.clone();
        ghost.unit = "ZZZ999".into();
        ghost.site = "ZZZ".into();
        ghost.group = "GZZZ".into();
        ghost.team = "T0-20990101-1".into();
        let mut probes = 0;
        let mut unknown = Vec::new();
        for (method, template, spec) in TABLE.iter().filter(|(m, t, _)| *m == "GET" && t.contains("{code}")) {
            let (_, reaches) = who_may(spec);
            let query = query_of(template, &r.b, &r);
            let other = format!("{}{query}", instantiate(template, &r.b, &r).0);
            let nothing = format!("{}{query}", instantiate(template, &ghost, &r).0);
            if other == nothing {
                continue;
            }
            for name in ["contact", "leader", "manager", "admin"] {
                let s = subjects.get_mut(name).expect("subject");
                let (a, b) = (probe(s, method, &other, None).await.status, probe(s, method, &nothing, None).await.status);
                probes += 2;
                // Whoever reaches someone else's thing is told nothing is there; whoever does
                // not hears the same refusal for both.
                let fine = if reaches.contains(name) { b == StatusCode::NOT_FOUND } else { !a.is_success() && a == b };
                if !fine {
                    unknown.push(format!("{template} by {name}: someone else's {a}, nothing's {b}"));
                }
            }
        }
        assert!(unknown.is_empty(), "unknown things answered unlike the rest:\n{}", unknown.join("\n"));

        // Safe routes first, the destroying ones last.
        let mut order: Vec<&(&str, &str, &str)> = TABLE.iter().collect();
        order.sort_by_key(|(m, p, _)| (*m != "GET", destroys(p), *p == "/logout"));
        let mut wrong = Vec::new();
        for (method, template, spec) in order {
            let (own, other) = who_may(spec);
            let (path_a, scoped) = instantiate(template, &r.a, &r);
            let mut cases = vec![(path_a, own, "own", &r.a)];
            if scoped {
                cases.push((instantiate(template, &r.b, &r).0, other, "other", &r.b));
            }
            for (path, allowed, scope, sc) in cases {
                let body = body_of(method, template, sc, &r);
                let path = format!("{path}{}", query_of(template, sc, &r));
                let (yes, no): (Vec<&str>, Vec<&str>) = SUBJECTS.iter().partition(|s| allowed.contains(*s));
                for name in &no {
                    let s = subjects.get_mut(name).expect("subject");
                    let answer = probe(s, method, &path, body.as_deref()).await;
                    probes += 1;
                    if !denied(&answer) {
                        wrong.push(format!("{method} {path} ({scope}) by {name}: {} {} — should be denied", answer.status, answer.location()));
                    }
                }
                for (i, name) in yes.iter().enumerate() {
                    let s = subjects.get_mut(name).expect("subject");
                    let answer = probe(s, method, &path, body.as_deref()).await;
                    probes += 1;
                    let first_found = i > 0 || *method != "GET" || answer.status != StatusCode::NOT_FOUND;
                    if *template == "/logout" && answer.status.is_redirection() {
                        continue;
                    }
                    if answer.status.is_server_error() || (denied(&answer) && answer.status != StatusCode::NOT_FOUND) || !first_found {
                        let head: String = answer.body.chars().take(160).collect();
                        wrong.push(format!("{method} {path} ({scope}) by {name}: {} {} — should be allowed: {head}", answer.status, answer.location()));
                    }
                }
            }
        }
        println!("authorisation matrix: {} routes, {} subjects, {probes} probes, {} wrong", TABLE.len(), SUBJECTS.len(), wrong.len());
        assert!(wrong.is_empty(), "{} probes answered against the table:\n{}", wrong.len(), wrong.join("\n"));
    }
}
