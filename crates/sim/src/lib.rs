//! The clinic-flow simulator (issue 7): a discrete-event engine built for queueing models —
//! a binary-heap calendar that allocates nothing per event once warm, a seeded generator, the
//! same output for the same seed and inputs — and the queueing formulas its results are checked
//! against (Erlang B and C, the M/M/c waiting-time law). Pure: no IO, no database, no async.
//!
//! The first model is the M/M/c queue ([`mmc`]), which exercises the engine end to end and is
//! validated against Erlang C: `vaxloop simulate mmc`.

pub mod capacity;
pub mod clinic;
pub mod delay;
pub mod engine;
pub mod formulas;
pub mod mmc;
pub mod scenario;
pub mod site;
pub mod stats;
