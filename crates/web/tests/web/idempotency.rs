//! A keyed request whose server died between claiming its key and answering: the retry is told
//! to wait (409, Retry-After) while the claim's lease runs, then does the work, and every retry
//! after that hears the same answer.

use axum::http::{Request, StatusCode, header};
use vaxloop_demo::DEMO_PASSWORD;

use crate::fixture;

vaxloop_store::backend_tests! {
    async fn a_key_left_in_flight_by_a_dead_server_is_taken_over_after_its_lease(t) {
        let f = fixture(t).await;
        let (site, _, people, _) = f.book_today("HCL", 1).await;
        let code = format!("VXL1:{}", f.db.cipher.sign("person", people[0]));
        let mut desk = f.client();
        desk.login("hcl.checkin", DEMO_PASSWORD).await;
        let csrf = desk.get("/sites/HCL/checkin").await.csrf();
        let user_id: i64 = {
            let mut tx = f.db.begin_write().await.expect("tx");
            let id = sqlx::query_scalar("SELECT id FROM users WHERE username = 'hcl.checkin'").fetch_one(&mut *tx).await.expect("user");
            drop(tx);
            id
        };
        // The dead server's claim: made, never answered.
        let app = vaxloop_app::App::new(f.db.db.clone(), f.db.cipher.clone(), chrono_tz::Asia::Shanghai);
        let hash = vaxloop_app::idempotency::fingerprint(&app, &format!("{}:{code}", site.id));
        assert_eq!(vaxloop_app::idempotency::claim(&app, user_id, "k-1", &hash).await.expect("claim"), vaxloop_app::idempotency::Claimed::Fresh);

        let body = serde_json::json!({ "code": code }).to_string();
        let request = || {
            Request::post("/api/v1/sites/HCL/checkins")
                .header(header::CONTENT_TYPE, "application/json")
                .header("x-csrf-token", csrf.clone())
                .header("idempotency-key", "k-1")
        };
        let waiting = desk.send_raw(request(), body.clone()).await;
        assert_eq!(waiting.status, StatusCode::CONFLICT, "{}", waiting.body);
        assert!(waiting.body.contains("\"error\":\"in_flight\""), "{}", waiting.body);
        let after: i64 = waiting.headers.get(header::RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()).expect("Retry-After");
        assert!((1..=60).contains(&after), "{after}");
        let visits = async || -> i64 {
            let mut tx = f.db.begin_write().await.expect("tx");
            let n = sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM visits v JOIN appointments a ON a.id = v.appointment_id WHERE a.person_id = $1").bind(people[0]).fetch_one(&mut *tx).await.expect("count");
            drop(tx);
            n
        };
        assert_eq!(visits().await, 0, "nothing done while the key is in flight");

        // The lease runs out: the next retry does the work, and later ones hear its answer.
        let mut tx = f.db.begin_write().await.expect("tx");
        sqlx::query("UPDATE idempotency_keys SET created_at = created_at - $1 WHERE key = 'k-1'").bind(vaxloop_store::idempotency::IN_FLIGHT_LEASE_MS + 1).execute(&mut *tx).await.expect("age");
        tx.commit().await.expect("commit");
        let done = desk.send_raw(request(), body.clone()).await;
        assert_eq!(done.status, StatusCode::CREATED, "{}", done.body);
        let again = desk.send_raw(request(), body.clone()).await;
        assert_eq!((again.status, again.body.clone()), (done.status, done.body.clone()), "the same answer");
        assert_eq!(visits().await, 1);
    }
}
