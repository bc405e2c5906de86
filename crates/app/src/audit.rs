//! The audit row every use case writes inside its own transaction: who (the caller's login, or
//! none for the operator), what, to which record, and — where one was given — why. Targets are
//! codes and ids, never personal data.

use vaxloop_store::WriteTx;
use vaxloop_store::audit::{self, Entry, Outcome};

use crate::caller::Caller;
use crate::error::Result;

/// What was done, to be audited.
#[derive(Debug, Clone, Copy)]
pub struct Act<'a> {
    pub action: &'a str,
    pub target: &'a str,
    pub reason: Option<&'a str>,
    pub detail: Option<&'a str>,
}

impl<'a> Act<'a> {
    pub fn new(action: &'a str, target: &'a str) -> Self {
        Self {
            action,
            target,
            reason: None,
            detail: None,
        }
    }

    pub fn reason(self, reason: &'a str) -> Self {
        Self {
            reason: Some(reason),
            ..self
        }
    }

    pub fn detail(self, detail: &'a str) -> Self {
        Self {
            detail: Some(detail),
            ..self
        }
    }
}

/// Appends `act`, done by `caller`, inside `tx`: the change and its entry commit together.
pub async fn write(tx: &mut WriteTx, caller: &Caller, act: Act<'_>) -> Result<()> {
    append(tx, caller, act, Outcome::Ok).await
}

/// Appends `act`, attempted by `caller` and refused (a wrong code, kept so guessing shows).
pub async fn write_denied(tx: &mut WriteTx, caller: &Caller, act: Act<'_>) -> Result<()> {
    append(tx, caller, act, Outcome::Denied).await
}

/// Appends `act`, attempted by `caller`, that changed nothing (a day closed already).
pub async fn write_failed(tx: &mut WriteTx, caller: &Caller, act: Act<'_>) -> Result<()> {
    append(tx, caller, act, Outcome::Failed).await
}

/// [`write`], answering the store's own error (for the steps of a use case that speak it).
pub(crate) async fn record_in(
    tx: &mut WriteTx,
    caller: &Caller,
    act: Act<'_>,
) -> vaxloop_store::StoreResult<()> {
    let entry = Entry {
        actor_user_id: caller.user_id(),
        action: act.action,
        target: act.target,
        reason: act.reason,
        outcome: Outcome::Ok,
        detail: act.detail,
    };
    audit::record_in(tx, &entry, vaxloop_store::now_ms()).await
}

async fn append(tx: &mut WriteTx, caller: &Caller, act: Act<'_>, outcome: Outcome) -> Result<()> {
    let entry = Entry {
        actor_user_id: caller.user_id(),
        action: act.action,
        target: act.target,
        reason: act.reason,
        outcome,
        detail: act.detail,
    };
    audit::record_in(tx, &entry, vaxloop_store::now_ms()).await?;
    Ok(())
}
