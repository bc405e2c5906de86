//! The demo town: "a town like Hongqiao" (虹桥镇, Minhang District, Shanghai), generated
//! deterministically from a seed and stored through the same data layer as real data.
//!
//! [`generate`] is pure — the same [`TownSpec`] always gives the same [`Town`] — and [`store`]
//! writes a town in one transaction, so a failure leaves an empty database, never half a town.
//! Sizes scale with the requested population: the default 250,000 people live in about 300
//! units; `--people 5000` gives a coherent town of a few dozen units with the same sites, vaccines
//! and logins.

mod generate;
mod load;
mod logins;
mod model;
mod names;
mod places;
mod sites;
pub mod story;

pub use generate::generate;
pub use load::{DEMO_PASSWORD, DEMO_PIN, SCREENING, StoreError, Stored, store};
pub use model::{
    DemoDelivery, DemoGroup, DemoLogin, DemoPerson, DemoSite, DemoUnit, DemoVehicle, Town, TownSpec,
};
pub use story::{DayTally, Story, play};
