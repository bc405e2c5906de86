//! vaxloop's domain core: the types every other crate speaks, and the rules that do not need a
//! database or a network — resident ID validation (GB 11643), the closed vocabularies of the
//! domain (work-group kinds, unit kinds, sites, zones, roles, journey states) and password hashing.
//!
//! Nothing here performs IO or knows about async, HTTP or SQL: values are parsed at the edge into
//! these types, and inside the system the types carry the proof that they are valid.

pub mod capacity;
pub mod kinds;
pub mod labels;
pub mod password;
pub mod phone;
pub mod resident_id;

pub use kinds::{
    JourneyState, Role, SiteKind, SitePost, Source, UnitKind, WorkGroupKind, ZoneKind,
};
pub use labels::Label;
pub use phone::{Phone, PhoneError, PhoneValidator};
pub use resident_id::{ResidentId, ResidentIdError, Sex};

/// A whole number with thousands separators, as both languages write figures: 339093 →
/// "339,093".
pub fn grouped(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A minute of the day as a clock time: 545 → "09:05". Slots, trips and check-ins are kept as
/// minutes of the day (or instants) and shown this way everywhere.
pub fn hhmm(minutes: i64) -> String {
    format!(
        "{:02}:{:02}",
        minutes.div_euclid(60),
        minutes.rem_euclid(60)
    )
}
