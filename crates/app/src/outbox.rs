//! Delivering the outbox: messages written in the same transaction as what they announce (a
//! team booked) go out afterwards to another system — an SMS gateway's webhook — and are
//! retried with growing pauses until it takes them. The receiver gets each message's id as its
//! idempotency key, so a retry after a lost answer is not a second SMS.

use std::future::Future;

use vaxloop_store::{Db, StoreResult, notifications};

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

/// Delivers the messages due at `now` (up to `limit`), recording each outcome.
pub async fn deliver_due(
    db: &Db,
    sender: &impl Sender,
    now: i64,
    limit: i64,
) -> StoreResult<Round> {
    let mut round = Round::default();
    for m in notifications::claim_due(db, now, LEASE_MS, limit).await? {
        match sender.send(m.id, &m.topic, &m.payload).await {
            Ok(()) => {
                notifications::delivered(db, m.id, vaxloop_store::now_ms().max(now)).await?;
                round.delivered += 1;
            }
            Err(why) => {
                // The error is the receiver's words about a request, never the payload.
                let why: String = why.chars().take(200).collect();
                notifications::failed(db, m.id, now + pause_after(m.attempts), &why).await?;
                round.failed += 1;
            }
        }
    }
    Ok(round)
}
