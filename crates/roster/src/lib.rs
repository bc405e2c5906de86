//! The staff roster: people lent by the town's agencies (police stations, security companies,
//! community centres, hospitals, volunteer teams) assigned to positions — site × day × shift ×
//! post — so that demand is covered first (medical posts weigh most), every hard rule holds,
//! people keep their site and post from day to day (定人定点定岗) and load is shared fairly.
//! Pure: no IO, no database, no async — the application builds an [`Instance`] from live data,
//! the command line reads one from a file, and both get a [`Plan`] back. The file formats, the
//! rules and the objective are the contract in `docs/formats/roster-format.md`.
//!
//! # The pieces
//!
//! - [`instance`] and [`plan`]: the files, read and their shape checked ([`Instance::parse`]).
//! - [`check`]: an independent validator of every hard rule, with the objective's terms.
//! - [`generate`]: seeded `tiny`, `town` and `city` instances.
//! - [`solve`]: the construction (heaviest posts first, the best candidate keeping every rule);
//!   the search that improves on it comes next.

pub mod check;
pub mod generate;
pub mod instance;
pub mod plan;
pub mod solve;

pub use check::{Report, check};
pub use generate::{Preset, generate};
pub use instance::Instance;
pub use plan::{Assignment, Plan};
pub use solve::{Options, Solved, solve, solve_from};

/// A roster file that cannot be used, with where and why.
#[derive(Debug, thiserror::Error)]
pub enum RosterError {
    #[error(
        "the {what} file is not valid JSON of the format at line {line}, column {column}: {message}"
    )]
    Json {
        what: &'static str,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{field}: {message}")]
    Field { field: String, message: String },
}

/// A [`RosterError::Field`].
pub(crate) fn bad<T>(
    field: impl Into<String>,
    message: impl Into<String>,
) -> Result<T, RosterError> {
    Err(RosterError::Field {
        field: field.into(),
        message: message.into(),
    })
}
