//! Delivering the outbox: messages written in the same transaction as what they announce (a
//! team booked) go out afterwards to another system — an SMS gateway's webhook — and are
//! retried with growing pauses until it takes them. The receiver gets each message's id as its
//! idempotency key, so a retry after a lost answer is not a second SMS.

use std::future::Future;

use vaxloop_store::{Db, PiiCipher, StoreResult, notifications};

/// The SMS topic: `{"to": phone, "text": …, "team": code}`.
pub const SMS: &str = "sms";
/// How long a claimed message is left to its deliverer before another may try it.
pub const LEASE_MS: i64 = 60_000;
/// The first pause after a failure; each further failure doubles it, up to [`MAX_PAUSE_MS`].
pub const FIRST_PAUSE_MS: i64 = 30_000;
pub const MAX_PAUSE_MS: i64 = 3_600_000;

/// Where messages go (the webhook, or a test's fake).
pub trait Sender {
    /// Delivers one message; `Err` says why it was not taken.
    fn send(
        &self,
        id: i64,
        topic: &str,
        payload: &str,
    ) -> impl Future<Output = Result<(), String>> + Send;
}

/// The pause before the next try after `attempts` failed ones.
pub fn pause_after(attempts: i64) -> i64 {
    let doublings = u32::try_from(attempts.clamp(0, 20)).unwrap_or(20);
    FIRST_PAUSE_MS
        .saturating_mul(1i64 << doublings)
        .min(MAX_PAUSE_MS)
}

/// What one round of delivery did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    pub delivered: usize,
    pub failed: usize,
}

/// Delivers the messages due at `now` (up to `limit`), recording each outcome. Payloads are
/// stored sealed; `cipher` opens each as it goes out.
pub async fn deliver_due(
    db: &Db,
    cipher: &PiiCipher,
    sender: &impl Sender,
    now: i64,
    limit: i64,
) -> StoreResult<Round> {
    let mut round = Round::default();
    let mut tx = db.begin_write().await?;
    let due = notifications::claim_due_in(&mut tx, cipher, now, LEASE_MS, limit).await?;
    tx.commit().await?;
    // Each message is sent outside any transaction, then its outcome recorded in one of its own.
    for m in due {
        let sent = sender.send(m.id, &m.topic, &m.payload).await;
        let mut tx = db.begin_write().await?;
        match sent {
            Ok(()) => {
                let at = vaxloop_store::now_ms().max(now);
                notifications::delivered_in(&mut tx, m.id, at).await?;
                round.delivered += 1;
            }
            Err(why) => {
                // The error is the receiver's words about a request, never the payload.
                let why: String = why.chars().take(200).collect();
                let retry_at = now + pause_after(m.attempts);
                notifications::failed_in(&mut tx, m.id, retry_at, &why).await?;
                round.failed += 1;
            }
        }
        tx.commit().await?;
    }
    Ok(round)
}

/// The webhook an SMS gateway (or any other system) consumes: each message is POSTed as
/// `{"id", "topic", "message"}` with `Idempotency-Key: vaxloop-outbox-{id}` (and a bearer token
/// when configured); any 2xx answer takes it.
#[derive(Debug, Clone)]
pub struct Webhook {
    client: reqwest::Client,
    url: String,
    token: Option<String>,
}

impl Webhook {
    pub fn new(url: &str, token: Option<String>) -> Result<Self, String> {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(format!(
                "the webhook URL must start with https:// or http://: {url}"
            ));
        }
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            client,
            url: url.to_string(),
            token,
        })
    }
}

impl Sender for Webhook {
    async fn send(&self, id: i64, topic: &str, payload: &str) -> Result<(), String> {
        let message: serde_json::Value =
            serde_json::from_str(payload).map_err(|e| format!("stored payload: {e}"))?;
        let body = serde_json::json!({ "id": id, "topic": topic, "message": message });
        let mut request = self
            .client
            .post(&self.url)
            .header("content-type", "application/json")
            .header("idempotency-key", format!("vaxloop-outbox-{id}"))
            .body(body.to_string());
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        // Errors name the status or the transport failure, never the message.
        match request.send().await {
            Ok(answer) if answer.status().is_success() => Ok(()),
            Ok(answer) => Err(format!("HTTP {}", answer.status().as_u16())),
            Err(e) if e.is_timeout() => Err("timed out".into()),
            Err(e) if e.is_connect() => Err("could not connect".into()),
            Err(_) => Err("request failed".into()),
        }
    }
}

/// How often the deliverer looks for due messages.
pub const EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Delivers due messages every [`EVERY`], for as long as the server runs.
pub async fn run(db: Db, cipher: PiiCipher, sender: impl Sender) {
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match deliver_due(&db, &cipher, &sender, vaxloop_store::now_ms(), 100).await {
            Ok(round) if round.delivered + round.failed > 0 => {
                tracing::info!(delivered = round.delivered, failed = round.failed, "outbox");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "outbox delivery could not read the database"),
        }
    }
}

/// How long a delivered message is kept (for questions about what was sent), then purged.
pub const KEEP_DELIVERED_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// Seals the payloads queued in plain text before migration 0014 (at start-up, like the units'
/// contact phones). Returns how many.
pub async fn seal_plain_payloads(app: &crate::App) -> crate::Result<u64> {
    let plain = notifications::plain_payloads(app.db()).await?;
    if plain.is_empty() {
        return Ok(0);
    }
    let mut tx = app.db().begin_write().await?;
    for (id, payload) in &plain {
        notifications::seal_payload(&mut tx, app.cipher(), *id, payload).await?;
    }
    tx.commit().await?;
    Ok(plain.len() as u64)
}

/// Purges messages delivered more than [`KEEP_DELIVERED_MS`] before `now` (the server's sweep):
/// their payloads carry phone numbers. Returns how many.
pub async fn purge(app: &crate::App, now: i64) -> crate::Result<u64> {
    let mut tx = app.db().begin_write().await?;
    let n = notifications::purge_delivered(&mut tx, now - KEEP_DELIVERED_MS).await?;
    tx.commit().await?;
    Ok(n)
}
