//! What every operation may answer besides its own outcomes, written into the OpenAPI document
//! from the operation's shape — so no handler can forget one, and the document says what the
//! server does (issue 17, item 9):
//!
//! - any operation: 401 (no login, or an unknown, revoked or expired token, with
//!   `WWW-Authenticate`), 403 (not this caller's to do or see, or a missing CSRF token), 429 (a
//!   token's or a client's budget spent, with `Retry-After`);
//! - with parameters or a body: 400 (a path, query, header or body that could not be read: not
//!   the types and limits this document states);
//! - with a query, a header or a body: 422 (read, but a field's value is refused — a thing it
//!   names that does not exist, a date already past, a combination not allowed — each field
//!   named in `problems`; or an Idempotency-Key used before for a different request);
//! - with a path parameter: 404 (nothing by that name, to a caller who may see the whole town;
//!   anyone else gets the 403 an out-of-scope thing gets, so an outsider learns nothing);
//! - with a body: 413 (over the size limit) and 415 (not JSON);
//! - with an `Idempotency-Key`: 409 `in_flight` with `Retry-After` (the first request with the
//!   key is still being done).
//!
//! An operation's own entry for a status stays; a 409 of its own gains the `in_flight` body as
//! an alternative. An operation that takes an `Idempotency-Key` declares the header; its shape
//! and meaning are written here, once.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, Type};
use utoipa::openapi::{
    ContentBuilder, HeaderBuilder, OpenApi, Ref, RefOr, Response, ResponseBuilder, Schema,
};

/// Adds the answers every operation may give (see the module's description).
pub(super) struct Promises;

/// `(status, component name, description)` of each shared answer.
const SHARED: [(&str, &str, &str); 9] = [
    (
        "400",
        "BadRequest",
        "A path, query, header or body that could not be read (`bad_request`): not of the types \
         and within the limits this document states; `field` names it when it can.",
    ),
    (
        "401",
        "Unauthenticated",
        "Not logged in (`unauthenticated`), or an unknown, revoked or expired API token \
         (`invalid_token`, with `WWW-Authenticate`).",
    ),
    (
        "403",
        "Forbidden",
        "Not this caller's to do or see (`forbidden`) — also what an out-of-scope caller gets \
         for something that does not exist — or a session's unsafe request without its CSRF \
         token (`csrf`).",
    ),
    (
        "404",
        "NotFound",
        "Nothing by that name (`not_found`), to a caller who may see the whole town.",
    ),
    (
        "409",
        "InFlight",
        "The first request with this Idempotency-Key is still being done (`in_flight`): retry \
         after `Retry-After` seconds for its answer.",
    ),
    (
        "413",
        "TooLarge",
        "The body is over the server's limit (`too_large`).",
    ),
    (
        "415",
        "UnsupportedMediaType",
        "The body is not `application/json` (`unsupported_media_type`).",
    ),
    (
        "422",
        "UnprocessableContent",
        "Read, but field values are refused (`invalid`, each field in `problems`, the first in \
         `field`): a thing it names that does not exist, a date already past, a combination not \
         allowed; or an Idempotency-Key used before for a different request.",
    ),
    (
        "429",
        "TooManyRequests",
        "Too many requests from this token or client (`too_many_requests`), or too many unknown \
         tokens (`invalid_token`): retry after `Retry-After` seconds.",
    ),
];

fn error_body() -> ContentBuilder {
    ContentBuilder::new().schema(Some(Ref::from_schema_name("ApiError")))
}

fn shared(status: &str, description: &str) -> Response {
    let seconds = || {
        HeaderBuilder::new()
            .schema(utoipa::openapi::schema::Object::with_type(
                utoipa::openapi::schema::Type::Integer,
            ))
            .description(Some("Seconds until the request may be tried again"))
            .build()
    };
    let mut response = ResponseBuilder::new()
        .description(description)
        .content("application/json", error_body().build());
    match status {
        "409" | "429" => response = response.header("Retry-After", seconds()),
        "401" => {
            response = response.header(
                "WWW-Authenticate",
                HeaderBuilder::new()
                    .schema(utoipa::openapi::schema::Object::with_type(
                        utoipa::openapi::schema::Type::String,
                    ))
                    .description(Some(
                        "`Bearer error=\"invalid_token\"` for a token that opens nothing",
                    ))
                    .build(),
            )
        }
        _ => {}
    }
    response.build()
}

impl utoipa::Modify for Promises {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for (status, name, description) in SHARED {
            components
                .responses
                .insert(name.into(), RefOr::T(shared(status, description)));
        }
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                promise(operation);
            }
        }
    }
}

/// The shared answers `operation` may give, by its shape.
fn promise(operation: &mut Operation) {
    describe_key(operation);
    let params = operation.parameters.as_deref().unwrap_or_default();
    let takes = |place: ParameterIn| params.iter().any(|p| p.parameter_in == place);
    let keyed = params.iter().any(|p| p.name == "Idempotency-Key");
    let body = operation.request_body.is_some();
    let mut statuses = vec!["401", "403", "429"];
    if body || !params.is_empty() {
        statuses.push("400");
    }
    if body || takes(ParameterIn::Query) || takes(ParameterIn::Header) {
        statuses.push("422");
    }
    if takes(ParameterIn::Path) {
        statuses.push("404");
    }
    if body {
        statuses.extend(["413", "415"]);
    }
    if keyed {
        statuses.push("409");
    }
    let responses = &mut operation.responses.responses;
    for status in statuses {
        let Some((_, name, description)) = SHARED.iter().find(|s| s.0 == status) else {
            continue;
        };
        match responses.get_mut(status) {
            None => {
                responses.insert(status.into(), RefOr::Ref(Ref::from_response_name(*name)));
            }
            // The operation's own 409 (a refusal) and the key's `in_flight` share the status.
            Some(RefOr::T(own)) if status == "409" => also_in_flight(own, description),
            // The operation's own words for the status; the body is the same error body.
            Some(_) => {}
        }
    }
}

/// The `Idempotency-Key` header, where the operation takes one: its pattern and what it does.
fn describe_key(operation: &mut Operation) {
    let keys = (operation.parameters.iter_mut().flatten()).filter(|p| p.name == "Idempotency-Key");
    for key in keys {
        key.description = Some(
            "Retries with the same key return the first answer; 1–200 visible ASCII characters. \
             The same key with a different request is refused (422)."
                .into(),
        );
        let shape = ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(super::shapes::IDEMPOTENCY_KEY))
            .build();
        key.schema = Some(RefOr::T(Schema::Object(shape)));
    }
}

/// An operation's own 409 that may also be the key's `in_flight`: both bodies, both meanings.
fn also_in_flight(own: &mut Response, description: &str) {
    own.description = format!("{} Or: {description}", own.description.trim_end());
    for content in own.content.values_mut() {
        let is_error_body =
            matches!(&content.schema, Some(RefOr::Ref(r)) if r.ref_location.ends_with("/ApiError"));
        if let (false, Some(schema)) = (is_error_body, content.schema.take()) {
            let either: Schema = AnyOfBuilder::new()
                .item(schema)
                .item(Ref::from_schema_name("ApiError"))
                .into();
            content.schema = Some(RefOr::T(either));
        }
    }
}
