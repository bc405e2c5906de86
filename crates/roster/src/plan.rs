//! The roster plan (`docs/formats/roster-format.md`, "Plan"): one assignment per filled
//! position; empty positions are not listed.

use serde::{Deserialize, Serialize};

use crate::RosterError;

pub const PLAN_FORMAT: &str = "vaxloop-roster/1";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub format: String,
    /// The instance's name (another name is a warning, not a violation).
    pub instance: String,
    pub assignments: Vec<Assignment>,
}

/// A person in a position: site × day × shift × post.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Assignment {
    pub person: String,
    pub day: usize,
    pub shift: String,
    pub site: String,
    pub post: String,
}

impl Plan {
    /// An empty plan of `instance` (valid: nobody is rostered).
    pub fn empty(instance: &str) -> Self {
        Self {
            format: PLAN_FORMAT.into(),
            instance: instance.into(),
            assignments: Vec::new(),
        }
    }

    /// Reads a plan file; its content is judged by [`crate::check`], not here.
    pub fn parse(json: &str) -> Result<Self, RosterError> {
        serde_json::from_str(json).map_err(|e| RosterError::Json {
            what: "plan",
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })
    }
}
