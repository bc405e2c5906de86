//! The outbox's webhook against a real HTTP server on loopback: each queued message is POSTed
//! with its idempotency key and the bearer token, a refusal is retried after its pause, and a
//! taken message is never sent again.

use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode};
use vaxloop_app::outbox::{Webhook, deliver_due, pause_after};
use vaxloop_store::notifications;

/// What the fake gateway saw: (idempotency key, authorization, body) per request.
type Seen = Arc<Mutex<Vec<(String, String, serde_json::Value)>>>;

async fn gateway(seen: Seen) -> String {
    let app = axum::Router::new().route(
        "/sms",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let seen = seen.clone();
            async move {
                let mut seen = seen.lock().expect("lock");
                let header = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string()
                };
                seen.push((
                    header("idempotency-key"),
                    header("authorization"),
                    serde_json::from_str(&body).expect("json body"),
                ));
                // The first request of the day is turned away; later ones are taken.
                if seen.len() == 1 {
                    StatusCode::SERVICE_UNAVAILABLE
                } else {
                    StatusCode::ACCEPTED
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    format!("http://{addr}/sms")
}

vaxloop_store::backend_tests! {
    async fn the_webhook_gets_each_message_once_with_its_key_after_retries(t) {
        let seen: Seen = Arc::default();
        let url = gateway(seen.clone()).await;
        let hook = Webhook::new(&url, Some("s3cret".into())).expect("webhook");
        assert!(Webhook::new("ftp://example", None).is_err(), "only http(s)");

        let now = vaxloop_store::now_ms();
        let mut tx = t.begin_write().await.expect("tx");
        for to in ["13800000001", "13800000002"] {
            let payload = serde_json::json!({ "to": to, "text": "【疫苗接种】红-01批次", "team": "T1" }).to_string();
            notifications::enqueue_in(&mut tx, &t.cipher, "sms", &payload, now).await.expect("enqueue");
        }
        tx.commit().await.expect("commit");
        // Queued sealed: no phone number is readable in the table.
        let mut tx = t.begin_write().await.expect("tx");
        let stored: Vec<(String, Vec<u8>)> = sqlx::query_as("SELECT payload, payload_cipher FROM outbox")
            .fetch_all(&mut *tx).await.expect("rows");
        drop(tx);
        assert_eq!(stored.len(), 2);
        for (plain, sealed) in &stored {
            assert_eq!(plain, "", "nothing in the plain column");
            assert!(!String::from_utf8_lossy(sealed).contains("1380000000"), "the phone is sealed");
        }

        let first = deliver_due(&t, &t.cipher, &hook, now, 100).await.expect("round");
        assert_eq!((first.delivered, first.failed), (1, 1), "the first was turned away");
        let again = deliver_due(&t, &t.cipher, &hook, now + pause_after(0), 100).await.expect("round");
        assert_eq!((again.delivered, again.failed), (1, 0), "and taken on the retry");
        let later = deliver_due(&t, &t.cipher, &hook, now + pause_after(3), 100).await.expect("round");
        assert_eq!((later.delivered, later.failed), (0, 0), "nothing is sent twice");
        assert_eq!(notifications::outbox_counts(&t).await.expect("counts"), (0, 2));

        let seen = seen.lock().expect("lock").clone();
        assert_eq!(seen.len(), 3);
        assert_eq!(seen[0].0, seen[2].0, "the retry carries the same idempotency key");
        assert!(seen[0].0.starts_with("vaxloop-outbox-"));
        assert!(seen.iter().all(|s| s.1 == "Bearer s3cret"));
        assert_eq!(seen[0].2["topic"], "sms");
        assert!(seen[0].2["message"]["to"].as_str().is_some_and(|to| to.starts_with("1380000000")));

        // A gateway that is down: the attempt fails with a reason, and waits its pause.
        let down = Webhook::new("http://127.0.0.1:9/sms", None).expect("webhook");
        let mut tx = t.begin_write().await.expect("tx");
        notifications::enqueue_in(&mut tx, &t.cipher, "sms", "{\"to\":\"1\"}", now).await.expect("enqueue");
        tx.commit().await.expect("commit");
        let round = deliver_due(&t, &t.cipher, &down, now, 100).await.expect("round");
        assert_eq!((round.delivered, round.failed), (0, 1));
        assert_eq!(notifications::outbox_counts(&t).await.expect("counts"), (1, 2));

        // A week after delivery the delivered messages (phone numbers in them) are purged; the
        // one still waiting stays.
        let app = vaxloop_app::App::new(t.db.clone(), t.cipher.clone(), chrono_tz::Asia::Shanghai);
        assert_eq!(vaxloop_app::outbox::purge(&app, vaxloop_store::now_ms()).await.expect("purge"), 0);
        let later = vaxloop_store::now_ms() + vaxloop_app::outbox::KEEP_DELIVERED_MS + pause_after(3) + 60_000;
        assert_eq!(vaxloop_app::outbox::purge(&app, later).await.expect("purge"), 2);
        assert_eq!(notifications::outbox_counts(&t).await.expect("counts"), (1, 0));
    }

    async fn payloads_queued_in_plain_text_before_sealing_are_sealed_once_and_still_delivered(t) {
        // A message queued before migration 0014 kept its payload in plain text.
        let now = vaxloop_store::now_ms();
        let mut tx = t.begin_write().await.expect("tx");
        sqlx::query("INSERT INTO outbox (topic, payload, created_at, next_at) VALUES ('sms', $1, $2, $2)")
            .bind(r#"{"to":"13800000009","text":"old"}"#)
            .bind(now)
            .execute(&mut *tx).await.expect("old row");
        tx.commit().await.expect("commit");
        let app = vaxloop_app::App::new(t.db.clone(), t.cipher.clone(), chrono_tz::Asia::Shanghai);
        assert_eq!(vaxloop_app::outbox::seal_plain_payloads(&app).await.expect("seal"), 1);
        assert_eq!(vaxloop_app::outbox::seal_plain_payloads(&app).await.expect("seal"), 0, "once");
        let mut tx = t.begin_write().await.expect("tx");
        let (plain,): (String,) = sqlx::query_as("SELECT payload FROM outbox").fetch_one(&mut *tx).await.expect("row");
        drop(tx);
        assert_eq!(plain, "");

        let seen: Seen = Arc::default();
        let url = gateway(seen.clone()).await;
        let hook = Webhook::new(&url, None).expect("webhook");
        // The fake gateway turns its first request away; the retry is taken, opened as it was queued.
        deliver_due(&t, &t.cipher, &hook, now, 10).await.expect("round");
        let round = deliver_due(&t, &t.cipher, &hook, now + pause_after(0), 10).await.expect("round");
        assert_eq!(round.delivered, 1);
        let seen = seen.lock().expect("lock").clone();
        assert_eq!(seen[1].2["message"]["to"], "13800000009");
    }
}
