//! The plan file (`vaxloop-plan/1`, see `docs/formats/planner-format.md`): where each team goes, in
//! which slots, on which buses, and who was left out and why.

use serde::{Deserialize, Serialize};

use crate::PlanError;

pub const PLAN_FORMAT: &str = "vaxloop-plan/1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub format: String,
    pub instance: String,
    pub assignments: Vec<Assignment>,
    #[serde(default)]
    pub unassigned: Vec<Unassigned>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assignment {
    pub team: String,
    pub site: String,
    pub day: usize,
    pub parts: Vec<Part>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trips: Vec<Trip>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    pub slot: usize,
    pub people: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trip {
    pub bus: u32,
    pub part: usize,
    pub people: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unassigned {
    pub team: String,
    pub reason: String,
}

impl Plan {
    /// Reads a plan file; its content is judged by [`crate::check`], not here.
    pub fn parse(json: &str) -> Result<Self, PlanError> {
        let plan: Plan = serde_json::from_str(json).map_err(|e| PlanError::Json {
            what: "plan",
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        if plan.format != PLAN_FORMAT {
            return Err(PlanError::Field {
                field: "format".into(),
                message: format!("expected \"{PLAN_FORMAT}\", found \"{}\"", plan.format),
            });
        }
        Ok(plan)
    }
}
