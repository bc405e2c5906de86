//! The shape every "create or change a record" use case shares: write inside one transaction,
//! name a unique-key clash as a field to correct, write the audit row beside the change, commit.

use vaxloop_store::{StoreResult, WriteTx};

use crate::audit::{self, Act};
use crate::error::{Error, Result};
use crate::{App, Caller};

/// A unique key that the input may clash with: the constraint's name (or a word in it), the
/// field to name, and the problem's code (`code_taken`, `username_taken`, …).
#[derive(Debug, Clone, Copy)]
pub struct Clash {
    pub constraint: &'static str,
    pub field: &'static str,
    pub code: &'static str,
}

impl Clash {
    /// A code already taken.
    pub const CODE: Clash = Clash {
        constraint: "code",
        field: "code",
        code: "code_taken",
    };
}

/// Runs `write` in a write transaction; a clash with `clash` becomes [`Error::Invalid`] naming
/// its field (nothing written), and on success `act` is audited in the same transaction.
pub async fn saved<T>(
    app: &App,
    caller: &Caller,
    clash: Option<Clash>,
    act: Act<'_>,
    write: impl AsyncFnOnce(&mut WriteTx) -> StoreResult<T>,
) -> Result<T> {
    let mut tx = app.db().begin_write().await?;
    let out = match write(&mut tx).await {
        Ok(out) => out,
        Err(e) => {
            return Err(match clash.filter(|c| e.is_constraint(c.constraint)) {
                Some(c) => Error::invalid(c.field, c.code),
                None => e.into(),
            });
        }
    };
    audit::write(&mut tx, caller, act).await?;
    tx.commit().await?;
    Ok(out)
}
