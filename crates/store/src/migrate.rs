//! The schema's migrations, embedded in the binary: one ordered list per backend, the same
//! versions and descriptions in both, run by sqlx's migrator (which records what ran and refuses
//! a database whose applied migrations were edited).

use std::borrow::Cow;

use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};

use crate::db::{Backend, Db};
use crate::error::StoreResult;

/// `(version, description, sqlite, postgres)`. Append only: a shipped migration is never edited.
const MIGRATIONS: &[(i64, &str, &str, &str)] = &[
    (
        1,
        "foundation",
        include_str!("../migrations/sqlite/0001_foundation.sql"),
        include_str!("../migrations/postgres/0001_foundation.sql"),
    ),
    (
        2,
        "registration",
        include_str!("../migrations/sqlite/0002_registration.sql"),
        include_str!("../migrations/postgres/0002_registration.sql"),
    ),
    (
        3,
        "booking",
        include_str!("../migrations/sqlite/0003_booking.sql"),
        include_str!("../migrations/postgres/0003_booking.sql"),
    ),
    (
        4,
        "site units",
        include_str!("../migrations/sqlite/0004_site_units.sql"),
        include_str!("../migrations/postgres/0004_site_units.sql"),
    ),
    (
        5,
        "session user",
        include_str!("../migrations/sqlite/0005_session_user.sql"),
        include_str!("../migrations/postgres/0005_session_user.sql"),
    ),
    (
        6,
        "notifications",
        include_str!("../migrations/sqlite/0006_notifications.sql"),
        include_str!("../migrations/postgres/0006_notifications.sql"),
    ),
    (
        7,
        "plan drafts",
        include_str!("../migrations/sqlite/0007_plan_drafts.sql"),
        include_str!("../migrations/postgres/0007_plan_drafts.sql"),
    ),
    (
        8,
        "visits",
        include_str!("../migrations/sqlite/0008_visits.sql"),
        include_str!("../migrations/postgres/0008_visits.sql"),
    ),
    (
        9,
        "doses",
        include_str!("../migrations/sqlite/0009_doses.sql"),
        include_str!("../migrations/postgres/0009_doses.sql"),
    ),
    (
        10,
        "day closes",
        include_str!("../migrations/sqlite/0010_day_closes.sql"),
        include_str!("../migrations/postgres/0010_day_closes.sql"),
    ),
    (
        11,
        "measured times",
        include_str!("../migrations/sqlite/0011_measured_times.sql"),
        include_str!("../migrations/postgres/0011_measured_times.sql"),
    ),
    (
        12,
        "claims",
        include_str!("../migrations/sqlite/0012_claims.sql"),
        include_str!("../migrations/postgres/0012_claims.sql"),
    ),
    (
        13,
        "sealed contact phones",
        include_str!("../migrations/sqlite/0013_sealed_contact_phones.sql"),
        include_str!("../migrations/postgres/0013_sealed_contact_phones.sql"),
    ),
    (
        14,
        "sealed outbox",
        include_str!("../migrations/sqlite/0014_sealed_outbox.sql"),
        include_str!("../migrations/postgres/0014_sealed_outbox.sql"),
    ),
    (
        15,
        "api tokens",
        include_str!("../migrations/sqlite/0015_api_tokens.sql"),
        include_str!("../migrations/postgres/0015_api_tokens.sql"),
    ),
];

fn migrator(backend: Backend) -> Migrator {
    let migrations = MIGRATIONS
        .iter()
        .map(|&(version, description, sqlite, postgres)| {
            let sql = match backend {
                Backend::Sqlite => sqlite,
                Backend::Postgres => postgres,
            };
            Migration::new(
                version,
                Cow::Borrowed(description),
                MigrationType::Simple,
                sql.into_sql_str(),
                false,
            )
        })
        .collect::<Vec<_>>();
    Migrator {
        migrations: Cow::Owned(migrations),
        ..Migrator::DEFAULT
    }
}

impl Db {
    /// Brings the schema up to date; safe to run on every start.
    pub async fn migrate(&self) -> StoreResult<()> {
        migrator(self.backend()).run(self.pool()).await?;
        Ok(())
    }

    /// The newest migration version this build knows.
    pub fn schema_version() -> i64 {
        MIGRATIONS.last().map(|m| m.0).unwrap_or(0)
    }
}
