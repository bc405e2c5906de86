//! Wrong passwords in a row for names that have no login, kept in memory — the counterpart of a
//! login's own count (see [`crate::auth`]), so a name with no account locks exactly as one
//! with an account and the lock reveals nobody.

use std::collections::HashMap;
use std::sync::Mutex;

use vaxloop_store::users::{LOCK_MINUTES, MAX_FAILED_LOGINS};

/// Names without a login whose failures are remembered at most (a flood of made-up names
/// forgets the oldest, not the memory).
const UNKNOWN_NAMES: usize = 100_000;

/// Wrong passwords in a row for names that have no login, kept in memory (keyed by a keyed hash
/// of the name, never the name), so such a name locks exactly as a login would.
#[derive(Debug, Default)]
pub struct Strangers {
    names: Mutex<HashMap<Vec<u8>, Tries>>,
}

/// Failures in a row, and the lock's end when they locked the name.
type Tries = (i64, Option<i64>);

impl Strangers {
    /// The lock's end, when the name is locked at `now`.
    pub(crate) fn locked(&self, key: &[u8], now: i64) -> Option<i64> {
        let names = self.names.lock().ok()?;
        names
            .get(key)
            .and_then(|(_, until)| *until)
            .filter(|until| *until > now)
    }

    /// Counts a failure, as [`users::record_failed_login`] does for a login.
    pub(crate) fn failed(&self, key: &[u8], now: i64) -> Option<i64> {
        let mut names = self.names.lock().ok()?;
        if names.len() >= UNKNOWN_NAMES {
            names.retain(|_, (_, until)| until.is_some_and(|u| u > now));
            if names.len() >= UNKNOWN_NAMES {
                names.clear();
            }
        }
        let entry = names.entry(key.to_vec()).or_insert((0, None));
        if entry.1.is_some_and(|until| until > now) {
            return None;
        }
        entry.0 += 1;
        if entry.0 >= MAX_FAILED_LOGINS {
            let until = now + LOCK_MINUTES * 60_000;
            *entry = (0, Some(until));
            return Some(until);
        }
        entry.1 = None;
        None
    }
}
