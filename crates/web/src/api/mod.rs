//! The JSON API under `/api/v1`, described by the OpenAPI document at `/api/openapi.json`. It uses
//! the same session login as the pages, or a machine client's API token (`Authorization: Bearer`,
//! see `crate::bearer`), and the same use cases, whose scope rules are `vaxloop_app::scope`'s;
//! with a session, unsafe methods need the session's CSRF token in `X-CSRF-Token` (a token needs
//! none). Errors are `{"error": code, "field": name|null, "message": text}` in the caller's
//! language.

mod booking;
mod checkins;
pub(crate) mod kit;
mod org;
mod plan;
mod promises;
mod session;
mod shapes;
mod site_day;
mod sites;
mod slots;
mod stations;
mod supply;

use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;

use promises::Promises;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};

pub use kit::ApiError;

use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/openapi.json", get(openapi))
        .route("/api/v1/me", get(session::me))
        .route("/api/v1/work-groups", get(org::work_groups))
        .route("/api/v1/work-groups/{code}/units", get(org::group_units))
        .route("/api/v1/sites", get(sites::site_list))
        .merge(org::routes())
        .merge(booking::routes())
        .merge(slots::routes())
        .merge(supply::routes())
        .merge(plan::routes())
        .merge(checkins::routes())
        .merge(stations::routes())
        .merge(site_day::routes())
}

#[derive(OpenApi)]
#[openapi(
    info(title = "vaxloop API", description = "Mass-vaccination campaign management: mobilisation, supply, booking, site operations."),
    paths(
        session::me, org::work_groups, org::group_units, sites::site_list,
        org::create_group, org::update_group, org::unit_detail,
        org::create_unit, org::update_unit, org::unit_people,
        org::unmask,
        booking::availability, booking::create, booking::cancel,
        slots::set_capacity,
        supply::create_vaccine, supply::create_lot, supply::create_delivery,
        supply::receive, supply::stock,
        plan::current, plan::instance, plan::create, plan::act,
        checkins::create,
        stations::queue, stations::lots, stations::screen,
        stations::vaccinate, stations::release, stations::aefi,
        site_day::board, site_day::day, site_day::close,
        site_day::unit_day
    ),
    components(schemas(
        session::Me, org::WorkGroupOut, org::UnitOut, sites::SiteOut, ApiError, kit::FieldProblem,
        org::GroupIn, org::UnitIn, org::UnitDetail,
        org::PersonOut, org::UnmaskIn, org::UnmaskOut, org::Created,
        booking::SlotOut, booking::Availability, booking::BookIn,
        booking::Booked, booking::Refused, slots::CapacityIn,
        supply::Id, supply::VaccineIn, supply::LotIn,
        supply::DeliveryIn, supply::StockOut,
        plan::PlanOut, plan::ChangeOut, plan::PlaceOut,
        plan::ActionIn, plan::PublishedOut,
        checkins::CheckInIn, checkins::CheckInOut,
        stations::QueuedOut, stations::LotChoiceOut, stations::AnswerIn,
        stations::ScreeningIn, stations::StageOut, stations::VaccinationIn,
        stations::VaccinationOut, stations::ReleaseIn, stations::AefiIn,
        stations::AefiOut,
        site_day::TallyOut, site_day::TeamOut, site_day::LotOut,
        site_day::QueueOut, site_day::BoardOut, site_day::UnitLineOut,
        site_day::DayOut, site_day::ClosedOut, site_day::UnitDayOut
    )),
    modifiers(&Security, &Promises),
    security(("session" = []), ("bearer" = [])),
    tags((name = "session", description = "The logged-in user"), (name = "organisation", description = "Work groups and units"), (name = "sites", description = "Vaccination sites"), (name = "people", description = "People of a unit"), (name = "booking", description = "Availability and appointments"), (name = "supply", description = "Vaccines, lots, deliveries and stock"), (name = "planning", description = "The desk's team plan: propose, adjust, re-plan, publish"), (name = "site", description = "On-site operations: check-in, screening, vaccination, observation, the board and the day's reconciliation"))
)]
pub struct ApiDoc;

/// The two ways to call the API: a browser's session cookie (unsafe methods with its CSRF token
/// in `X-CSRF-Token`), or a machine client's token made by the admin at `/admin/tokens`.
struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "vaxloop_session",
                "The session cookie set by logging in at /login; unsafe methods also need the \
                 session's CSRF token in the X-CSRF-Token header.",
            ))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("vxl_ followed by 64 hex digits")
                    .description(Some(
                        "An API token for a machine client, made by the town admin at \
                         /admin/tokens and bound to a role and scope like a login; no CSRF token \
                         is needed. An unknown, revoked or expired token is answered 401 \
                         (invalid_token); too many requests 429 with Retry-After.",
                    ))
                    .build(),
            ),
        );
    }
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
