//! Seeing personal data in full: a stated reason, an audit entry, then the numbers. Who may ask
//! is the caller's decision (the web layer's access rules); this makes sure nobody sees them
//! without the reason on record.

use vaxloop_store::audit::{self, Entry, Outcome};
use vaxloop_store::{Db, PiiCipher, StoreError, people};

/// The shortest reason accepted, in characters.
pub const MIN_REASON: usize = 4;

#[derive(Debug, thiserror::Error)]
pub enum UnmaskError {
    #[error("a reason of at least {MIN_REASON} characters is required")]
    ReasonRequired,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A reason fit for the audit log, if `text` is one.
pub fn reason(text: &str) -> Result<&str, UnmaskError> {
    let reason = text.trim();
    if reason.chars().count() < MIN_REASON {
        Err(UnmaskError::ReasonRequired)
    } else {
        Ok(reason)
    }
}

/// Records who unmasked whom and why, then opens the person's ID and phone numbers.
pub async fn unmask(
    db: &Db,
    cipher: &PiiCipher,
    actor: i64,
    person_id: i64,
    why: &str,
    channel: &str,
) -> Result<(String, Option<String>), UnmaskError> {
    let why = reason(why)?;
    let target = format!("person:{person_id}");
    let detail = format!("id_number,phone via {channel}");
    let entry = Entry {
        actor_user_id: Some(actor),
        action: "unmask",
        target: &target,
        reason: Some(why),
        outcome: Outcome::Ok,
        detail: Some(&detail),
    };
    audit::record(db, &entry, vaxloop_store::now_ms()).await?;
    Ok(people::reveal(db, cipher, person_id).await?)
}
