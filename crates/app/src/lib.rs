//! Application services: each use case that the web pages, the JSON API and the command line
//! share — parse at the edge, check with the domain rules of `vaxloop-core`, store through
//! `vaxloop-store` in one transaction, audit, and report back in a form every caller can render.

pub mod booking;
pub mod capacity;
pub mod commit;
pub mod days;
pub mod import;
pub mod org;
pub mod outbox;
pub mod planning;
pub mod privacy;
pub mod proposals;
pub mod register;
pub mod site_day;
pub mod site_ops;
pub mod sites;
pub mod slots;
pub mod supply;
