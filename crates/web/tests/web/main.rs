//! The web layer, in-process: the real router on a fresh database with a small demo town, driven
//! by a cookie-keeping client. Each test runs on SQLite and on PostgreSQL.

mod api_people;
mod book;
mod browser;
mod checkin;
mod client;
mod funnel;
mod http;
mod i18n;
mod idempotency;
mod imports;
mod journeys;
mod logs;
mod matrix;
mod org_admin;
mod plan;
mod privacy;
mod register;
mod site_day;
mod stock;
mod team_papers;
mod tokens;
mod what_if;

pub use client::{Client, Fixture, fixture, fixture_with};
