//! The application: what every use case runs against — the database, the cipher for personal
//! data, the campaign's time zone, the booking writer and the site-days it keeps fresh. Built once
//! by the binary (or a test) and shared by every caller; cheap to clone.

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use vaxloop_store::{Db, PiiCipher};

use crate::commit::Writer;
use crate::days::DayCache;
use crate::kept::{Kept, KeptStuck, KeptTown};

#[derive(Clone)]
pub struct App(Arc<Inner>);

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "App({})", self.0.tz)
    }
}

struct Inner {
    db: Db,
    cipher: PiiCipher,
    tz: chrono_tz::Tz,
    bookings: Writer,
    days: DayCache,
    /// One simulation per core at a time (see [`crate::what_if`]).
    simulations: Arc<tokio::sync::Semaphore>,
    /// One password hash per core at a time (see [`crate::auth`]).
    hashing: Arc<tokio::sync::Semaphore>,
    /// Failures of names that have no login (see [`crate::auth`]).
    strangers: crate::strangers::Strangers,
    /// How many minutes before their slot people may be checked in without the desk choosing to
    /// (see [`crate::site_ops::At`]); `None`: however early.
    early_check_in: Option<i64>,
    /// The town's counts, kept (see [`crate::kept`]).
    town: Arc<KeptTown>,
    /// The people stuck, per group (none: the town) and list length, kept.
    stuck: Arc<KeptStuck>,
}

/// One permit per core.
fn per_core() -> Arc<tokio::sync::Semaphore> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    Arc::new(tokio::sync::Semaphore::new(cores))
}

impl App {
    pub fn new(db: Db, cipher: PiiCipher, tz: chrono_tz::Tz) -> Self {
        let days = DayCache::new();
        Self(Arc::new(Inner {
            bookings: Writer::new(db.clone(), days.clone()),
            days,
            db,
            cipher,
            tz,
            simulations: per_core(),
            hashing: per_core(),
            strangers: crate::strangers::Strangers::default(),
            early_check_in: None,
            town: Kept::new(Duration::ZERO),
            stuck: Kept::new(Duration::ZERO),
        }))
    }

    /// This application, keeping the town's counts for `age` before counting them again (zero:
    /// counted on every read; see [`crate::kept`]). Called once, before the application is
    /// shared.
    pub fn with_count_age(self, age: Duration) -> Self {
        match Arc::try_unwrap(self.0) {
            Ok(mut inner) => {
                inner.town = Kept::new(age);
                inner.stuck = Kept::new(age);
                Self(Arc::new(inner))
            }
            Err(shared) => panic!("App::with_count_age on a shared App ({})", shared.tz),
        }
    }

    /// The town's counts, kept.
    pub(crate) fn town(&self) -> &Arc<KeptTown> {
        &self.0.town
    }

    /// The people stuck, kept.
    pub(crate) fn stuck(&self) -> &Arc<KeptStuck> {
        &self.0.stuck
    }

    /// This application, checking in people up to `minutes` before their slot without the desk
    /// choosing to (`None`: however early). Called once, before the application is shared.
    pub fn with_early_check_in(self, minutes: Option<i64>) -> Self {
        match Arc::try_unwrap(self.0) {
            Ok(mut inner) => {
                inner.early_check_in = minutes;
                Self(Arc::new(inner))
            }
            Err(shared) => panic!("App::with_early_check_in on a shared App ({})", shared.tz),
        }
    }

    /// How many minutes before their slot people may be checked in (see
    /// [`App::with_early_check_in`]).
    pub fn early_check_in(&self) -> Option<i64> {
        self.0.early_check_in
    }

    pub fn db(&self) -> &Db {
        &self.0.db
    }

    pub fn cipher(&self) -> &PiiCipher {
        &self.0.cipher
    }

    /// The campaign's time zone, for "today" and the clock times people read.
    pub fn tz(&self) -> chrono_tz::Tz {
        self.0.tz
    }

    /// Today in the campaign's time zone.
    pub fn today(&self) -> NaiveDate {
        chrono::Utc::now().with_timezone(&self.0.tz).date_naive()
    }

    /// Bookings committed in groups (see [`crate::commit`]).
    pub fn bookings(&self) -> &Writer {
        &self.0.bookings
    }

    /// Site-days as bookings and availability look at them, a moment old at most.
    pub fn days(&self) -> &DayCache {
        &self.0.days
    }

    /// The permits for simulations on request, one per core.
    pub fn simulations(&self) -> Arc<tokio::sync::Semaphore> {
        Arc::clone(&self.0.simulations)
    }

    /// The permits for hashing passwords, one per core.
    pub fn hashing(&self) -> Arc<tokio::sync::Semaphore> {
        Arc::clone(&self.0.hashing)
    }

    /// Failed logins of names that have no login.
    pub(crate) fn strangers(&self) -> &crate::strangers::Strangers {
        &self.0.strangers
    }

    /// Whether the database answers, and which backend it is (`sqlite`, `postgres`): the health
    /// check's question.
    pub async fn health(&self) -> crate::Result<&'static str> {
        self.0.db.ping().await?;
        Ok(self.0.db.backend().as_str())
    }
}
