//! Application services: each use case that the web pages, the JSON API and the command line
//! share. A use case is one function that takes the [`App`] and the [`Caller`], checks the
//! caller's permission through [`scope`], opens and commits its transaction, writes its audit row
//! inside it, and answers with its outcome, its own typed refusal, or an [`Error`].

pub mod admin;
pub mod audit;
pub mod auth;
pub mod booking;
pub mod caller;
pub mod capacity;
pub mod claims;
pub mod commit;
mod context;
pub mod days;
pub mod error;
pub mod funnel;
pub mod idempotency;
pub mod import;
pub mod kept;
pub mod org;
pub mod outbox;
pub mod planning;
pub mod privacy;
pub mod proposals;
pub mod questions;
pub mod register;
pub mod residents;
mod save;
pub mod scope;
pub mod sessions;
pub mod site_day;
pub mod site_ops;
pub mod sites;
pub mod slots;
pub mod stations;
mod strangers;
pub mod supply;
pub mod tokens;
pub mod what_if;
pub mod whereabouts;

pub use caller::{Actor, Caller};
pub use context::App;
pub use error::{Error, Problem, Result};
pub use vaxloop_store::{Db, PiiCipher, now_ms};
