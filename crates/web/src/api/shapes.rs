//! The shapes of input fields the OpenAPI document states, where a Rust type alone says too
//! little: closed vocabularies (from the same lists the server checks against) and the patterns
//! of codes, dates and times. Fields use them with `#[schema(schema_with = …)]`; the limits of
//! numbers and lengths sit on the fields themselves.

use utoipa::openapi::Object;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, SchemaType, Type};
use vaxloop_app::site_ops::{AEFI_ACTIONS, AEFI_SEVERITIES, AEFI_SYMPTOMS};
use vaxloop_core::{UnitKind, WorkGroupKind};

/// An `Idempotency-Key` as the server takes it: 1–200 visible ASCII characters (spaces and
/// tabs inside; around it they are no part of the header's value).
pub const IDEMPOTENCY_KEY: &str = r"^[\t ]*[!-~]([\t -~]{0,198}[!-~])?[\t ]*$";

/// A clock time, `HH:MM`.
pub const HHMM: &str = r"^\s*([01][0-9]|2[0-3]):[0-5][0-9]\s*$";

/// A string that is one of `codes`, or also null when `nullable`.
fn one_of(codes: impl IntoIterator<Item = &'static str>, nullable: bool) -> Object {
    let mut values: Vec<serde_json::Value> = codes.into_iter().map(Into::into).collect();
    let kind = if nullable {
        values.push(serde_json::Value::Null);
        SchemaType::from_iter([Type::String, Type::Null])
    } else {
        SchemaType::new(Type::String)
    };
    ObjectBuilder::new()
        .schema_type(kind)
        .enum_values(Some(values))
        .build()
}

pub fn group_kind() -> Object {
    one_of(WorkGroupKind::ALL.iter().map(|k| k.as_str()), false)
}

pub fn unit_kind() -> Object {
    one_of(UnitKind::ALL.iter().map(|k| k.as_str()), false)
}

pub fn screening_outcome() -> Object {
    one_of(["pass", "defer", "refer"], false)
}

pub fn aefi_severity() -> Object {
    one_of(AEFI_SEVERITIES.iter().copied(), false)
}

pub fn aefi_action() -> Object {
    one_of(AEFI_ACTIONS.iter().copied(), false)
}

/// One or more symptoms, each a code.
pub fn aefi_symptoms() -> utoipa::openapi::schema::Array {
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(one_of(AEFI_SYMPTOMS.iter().copied(), false))
        .min_items(Some(1))
        .build()
}

pub fn plan_action() -> Object {
    one_of(
        [
            "lock",
            "unlock",
            "move",
            "rerun",
            "refresh",
            "disrupt",
            "undisrupt",
            "publish",
        ],
        false,
    )
}

pub fn disruption_kind() -> Object {
    one_of(["closed", "doses"], true)
}

/// A calendar day, `YYYY-MM-DD`, or null.
pub fn optional_date() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
        .build()
}

/// A clock time, `HH:MM`, or null.
pub fn optional_hhmm() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .pattern(Some(HHMM))
        .build()
}
