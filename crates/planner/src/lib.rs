//! The 3-day team planner: places whole teams of an organisation into site / day / slot blocks
//! against vaccine supply, with shuttle buses. Pure: no IO, no database, no async — the
//! application builds an [`Instance`] from live data, the command line reads one from a file,
//! and both get a [`Plan`] back. The file formats are the contract in
//! `docs/formats/planner-format.md`.
//!
//! # The model
//!
//! **Data.** Teams *t* (unit, size *nₜ*, location, allowed days, a morning or afternoon window,
//! hard or soft, *pₜ* green-channel members, whether the team rides the shuttle, and how many
//! consecutive slots it may be split over); sites *s* (location, people per slot *C[s,d,k]*,
//! doses per day *D[s,d]*); a pool of *B* buses of *Q* seats, a speed and a stop time; a horizon
//! of days × slots.
//!
//! **Decisions.** For each team: left out, or one site *s*, one day *d* and a run of consecutive
//! slots *k, k+1, …* with people per slot (*parts*), and for bus teams ⌈part / Q⌉ trips per part.
//!
//! **Hard constraints.** Each team placed at most once, whole (parts sum to *nₜ*), on an allowed
//! day, in at most its `max_parts` consecutive slots, starting inside its window where the window
//! is hard; people per slot ≤ *C[s,d,k]*; people per site-day ≤ *D[s,d]*; a trip keeps a bus from
//! *a − travel − stop* to *a + travel* (arrival *a* = its part's slot start) and no bus carries two
//! trips at once.
//!
//! **Objective (maximised).** Σ over placed teams of
//! `person·nₜ + priority_person·pₜ − travel_person_minute·nₜ·travel(t,s) −
//! window_miss_person·nₜ·[first slot outside the window]`: people placed first (the green
//! channel weighted), then travel time, then window preferences. Load balance is a tie-break
//! inside the solver (a team goes to the least-loaded slot and day among places of equal worth),
//! not part of the objective that solvers are compared on.
//!
//! **An addition to format 1.** `teams[].sites`: the ids of the sites that serve the team's
//! unit (a site may serve only some units, say a workplace site its own enterprise); empty or
//! absent means every site. The application writes it; the validator, the solver and the bound
//! honour it; generated instances leave it out, so the peers, which ignore it, stay exact.
//!
//! # The pieces
//!
//! - [`instance`] and [`plan`]: the files, read and checked ([`Instance::parse`]).
//! - [`generate`]: seeded `tiny`, `town` and `city` instances.
//! - [`solve`]: greedy construction, then large-neighbourhood search within a time limit.
//! - [`check`]: an independent validator of every hard rule, with the objective.
//! - [`bound`]: a valid upper bound (Lagrangian relaxation of an aggregated model), for gaps.

pub mod bound;
pub mod check;
pub mod generate;
pub mod instance;
pub mod plan;
pub mod solve;

pub use bound::{Bound, upper_bound};
pub use check::{Report, check};
pub use generate::{Preset, generate};
pub use instance::{Instance, Window};
pub use plan::Plan;
pub use solve::{
    Change, MoveRefusal, Options, Place, Solved, Start, diff, place_team, replan, solve, solve_from,
};

/// A planner file that cannot be used, with where and why.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
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
