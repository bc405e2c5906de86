//! The fuzz target for the API's JSON bodies (see `crate::fuzz`): a small demo town on a
//! throwaway SQLite file, served by the real router in-process; the town admin posts to every
//! route that takes a JSON body mutations of a valid body — hostile numbers, strings, types,
//! missing fields, long arrays — and no answer may be a server error.

use std::time::Duration;

use anyhow::Context;
use axum::body::Body;
use axum::http::Request;
use proptest::prelude::*;
use serde_json::{Value, json};
use tower::ServiceExt;
use vaxloop_store::{DatabaseUrl, Db, PiiCipher, PiiKey};
use vaxloop_web::fixtures::sign_in;
use vaxloop_web::{AppState, WebConfig};

use crate::fuzz_kit::{Figures, drive, mutated_json};

/// Every route that reads a JSON body, with a valid one to start from.
fn routes(ids: &Ids) -> Vec<(&'static str, String, Value)> {
    let day = ids.day.clone();
    vec![
        (
            "POST",
            "/api/v1/work-groups".into(),
            json!({"code": "GF", "name": "组", "kind": "village"}),
        ),
        (
            "PUT",
            format!("/api/v1/work-groups/{}", ids.group),
            json!({"code": ids.group, "name": "组", "kind": "village"}),
        ),
        (
            "POST",
            "/api/v1/units".into(),
            json!({"code": "UF1", "group": ids.group, "name": "单位", "kind": "community", "target": 10}),
        ),
        (
            "PUT",
            format!("/api/v1/units/{}", ids.unit),
            json!({"code": ids.unit, "group": ids.group, "name": "单位", "kind": "community", "target": 10}),
        ),
        (
            "POST",
            format!("/api/v1/people/{}/unmask", ids.person),
            json!({"reason": "fuzzing the unmask reason"}),
        ),
        (
            "POST",
            "/api/v1/appointments".into(),
            json!({"slot_id": ids.slot, "people": [ids.person], "dose": 1, "spread": false}),
        ),
        (
            "PUT",
            format!("/api/v1/slots/{}/capacity", ids.slot),
            json!({"capacity": 40, "reason": "fuzz"}),
        ),
        (
            "POST",
            "/api/v1/vaccines".into(),
            json!({"code": "FZ", "name": "x", "manufacturer": "y", "doses_in_series": 1, "min_interval_days": 0, "min_age": 0, "doses_per_vial": 1}),
        ),
        (
            "POST",
            "/api/v1/lots".into(),
            json!({"vaccine_id": ids.vaccine, "lot_number": "F-1", "expires_on": "2099-01-01"}),
        ),
        (
            "POST",
            "/api/v1/deliveries".into(),
            json!({"lot_id": ids.lot, "site": "HCL", "day": day, "doses": 10}),
        ),
        (
            "POST",
            format!("/api/v1/deliveries/{}/receive", ids.delivery),
            json!({}),
        ),
        (
            "POST",
            "/api/v1/plans/1/actions".into(),
            json!({"action": "move", "version": 1, "team": "x", "site": "HCL", "day": day, "start": "08:00"}),
        ),
        (
            "POST",
            "/api/v1/sites/HCL/checkins".into(),
            json!({"code": "VXL1:x", "walk_in": false}),
        ),
        (
            "POST",
            "/api/v1/sites/HCL/screenings".into(),
            json!({"visit_id": 1, "answers": [{"question": 1, "yes": false}], "outcome": "pass"}),
        ),
        (
            "POST",
            "/api/v1/sites/HCL/vaccinations".into(),
            json!({"visit_id": 1, "lot_id": ids.lot, "presence_code": "0000", "observation_minutes": 30}),
        ),
        (
            "POST",
            "/api/v1/sites/HCL/releases".into(),
            json!({"visit_id": 1, "early_reason": null}),
        ),
        (
            "POST",
            "/api/v1/sites/HCL/aefi".into(),
            json!({"visit_id": 1, "onset": "10:00", "symptoms": ["fever"], "severity": "mild", "action": "observed"}),
        ),
        (
            "POST",
            format!("/api/v1/sites/HCL/days/{day}/close"),
            json!({}),
        ),
    ]
}

/// Real ids of the demo town to aim at.
struct Ids {
    group: String,
    unit: String,
    person: i64,
    slot: i64,
    vaccine: i64,
    lot: i64,
    delivery: i64,
    day: String,
}

pub fn api_json(budget: Duration) -> anyhow::Result<Figures> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let dir = std::env::temp_dir().join(format!("vaxloop-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let file = dir.join("town.db");
    let _ = std::fs::remove_file(&file);
    let (app, cookie, csrf, ids) = runtime.block_on(async {
        let url: DatabaseUrl = format!("sqlite://{}", file.display()).parse()?;
        let db = Db::connect(&url).await?;
        db.migrate().await?;
        let cipher = PiiCipher::new(&PiiKey::generate());
        let config = WebConfig::default();
        let town = vaxloop_demo::generate(&vaxloop_demo::TownSpec {
            people: 300,
            seed: 9,
            today: config.today(),
        });
        vaxloop_demo::store(&db, &cipher, &town).await?;
        let app_state = AppState::new(db.clone(), cipher.clone(), config.clone());
        let use_cases = vaxloop_app::App::new(db.clone(), cipher.clone(), config.timezone);
        let mut tx = db.begin_write().await?;
        let admin: (i64, String) =
            sqlx::query_as("SELECT id, password_hash FROM users WHERE username = 'admin'")
                .fetch_one(&mut *tx)
                .await?;
        let one = |sql: &'static str| sqlx::query_scalar::<_, i64>(sql);
        let person = one("SELECT MIN(id) FROM people")
            .fetch_one(&mut *tx)
            .await?;
        let slot = one("SELECT MAX(id) FROM slots").fetch_one(&mut *tx).await?;
        let vaccine = one("SELECT MIN(id) FROM vaccines")
            .fetch_one(&mut *tx)
            .await?;
        let lot = one("SELECT MIN(id) FROM lots").fetch_one(&mut *tx).await?;
        let delivery = one("SELECT MAX(id) FROM deliveries")
            .fetch_one(&mut *tx)
            .await?;
        tx.rollback().await?;
        let signed = sign_in(&use_cases, &[admin], 600).await?;
        let signed = signed.into_iter().next().context("a session")?;
        let ids = Ids {
            group: town.groups[0].code.clone(),
            unit: town.units[0].code.clone(),
            person,
            slot,
            vaccine,
            lot,
            delivery,
            day: config.today().to_string(),
        };
        anyhow::Ok((
            vaxloop_web::router(app_state),
            signed.cookie,
            signed.csrf,
            ids,
        ))
    })?;
    let routes = routes(&ids);
    let strategy = (0..routes.len()).prop_flat_map(move |i| {
        let (method, path, seed) = routes[i].clone();
        mutated_json(seed).prop_map(move |body| (method, path.clone(), body))
    });
    let figures = drive(
        budget,
        strategy,
        |(method, path, body): (&str, String, Value)| {
            let request = Request::builder()
                .method(method)
                .uri(&path)
                .header("cookie", &cookie)
                .header("x-csrf-token", &csrf)
                .header("content-type", "application/json")
                .body(Body::from(body.to_string()))
                .map_err(|e| e.to_string())?;
            let answer = runtime
                .block_on(app.clone().oneshot(request))
                .map_err(|e| e.to_string())?;
            if answer.status().is_server_error() {
                return Err(format!("{method} {path} answered {}", answer.status()));
            }
            Ok(())
        },
    );
    drop(runtime);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(figures)
}
