//! vaxloop's persistence layer: one data layer for SQLite (the embedded default) and PostgreSQL
//! (production).
//!
//! The backend is chosen once, from the database URL, when [`Db::connect`] runs; every query in
//! this crate is written once in the SQL both engines share, with `$1`-style parameters, and runs
//! through sqlx's `Any` driver. The few places where the engines differ — migrations, connection
//! pragmas, how a write transaction begins — live in [`db`] and [`migrate`] and nowhere else, so
//! business code never asks which database it is on.
//!
//! Invariants live in the schema as well as in code: CHECK constraints, unique and partial unique
//! indexes, append-only triggers on the ledgers, and conditional updates inside one transaction.
//! Resident ID numbers and phone numbers are stored encrypted, with a keyed blind index for
//! lookup ([`crypto`]).

pub mod api_tokens;
pub mod audit;
pub mod booking;
mod bulk;
pub mod claims;
pub mod crypto;
pub mod db;
pub mod doses;
pub mod error;
pub mod funnel;
pub mod idempotency;
pub mod imports;
pub mod journeys;
pub mod migrate;
pub mod notifications;
pub mod org;
pub mod people;
pub mod plan_drafts;
pub mod planning;
pub mod reconcile;
pub mod roster;
mod rows;
pub mod screening;
pub mod sessions;
pub mod sites;
pub mod slots;
pub mod stats;
pub mod teams;
pub mod users;
pub mod vaccines;
pub mod vehicles;
pub mod visits;

#[cfg(feature = "testing")]
pub mod testing;

pub use crypto::{PiiCipher, PiiKey};
pub use db::{Backend, DatabaseUrl, Db, WriteTx};
pub use error::{StoreError, StoreResult};

/// Milliseconds since the Unix epoch, the representation of every instant in the schema.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
