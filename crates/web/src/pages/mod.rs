//! Server-rendered pages: one module per page (or a page's family), each an askama template struct
//! with a [`crate::furniture::PageCtx`] for the shared layout, and handlers that call one app use
//! case each.

mod admin;
mod book;
mod checkin;
mod desk_teams;
mod funnel;
pub(crate) mod imports;
mod login;
mod observation;
mod org;
mod org_admin;
mod people;
mod plan;
mod privacy;
mod questions;
pub(crate) mod register;
mod screening;
mod site_day;
mod sites;
mod stock;
mod team_papers;
mod tokens;
mod vaccination;
mod what_if;

mod station;

use axum::Router;

use crate::AppState;
use crate::error::AppError;

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(login::routes())
        .merge(admin::routes())
        .merge(desk_teams::routes())
        .merge(org::routes())
        .merge(sites::routes())
        .merge(people::routes())
        .merge(imports::routes())
        .merge(register::routes())
        .merge(funnel::routes())
        .merge(privacy::routes())
        .merge(org_admin::routes())
        .merge(book::routes())
        .merge(stock::routes())
        .merge(team_papers::routes())
        .merge(plan::routes())
        .merge(checkin::routes())
        .merge(screening::routes())
        .merge(vaccination::routes())
        .merge(observation::routes())
        .merge(site_day::routes())
        .merge(what_if::routes())
        .merge(tokens::routes())
        .merge(questions::routes())
        .fallback(|| async { AppError::NotFound })
}
