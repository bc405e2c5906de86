//! The site-days that bookings look at, kept for a moment. When a release opens, thousands of
//! requests a second ask about the same few site-days: is there a place, are there doses, what
//! else is free. Each answer is a read, not a promise — the write re-checks everything
//! conditionally — so a view a fraction of a second old serves as well as one read just now
//! (a request would be as old by the time it is written). [`DayCache`] keeps each
//! [`DayView`] for [`DayCache::FRESH`]; the booking writer forgets the site-days it has just
//! changed, so its own bookings are seen at once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use quick_cache::sync::Cache;
use vaxloop_store::slots::{self, DayView};
use vaxloop_store::{Db, StoreError, sites};

type Key = (i64, String);

/// Recently read site-days. Cheap to clone; one per application.
#[derive(Clone)]
pub struct DayCache {
    /// The site-day each slot belongs to (which never changes).
    homes: Arc<Cache<i64, Key>>,
    views: Arc<Cache<Key, (Instant, Arc<DayView>)>>,
    /// Sites' ids by code, for [`DayCache::SITE_FRESH`].
    sites: Arc<Cache<String, (Instant, i64)>>,
}

impl std::fmt::Debug for DayCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DayCache({} site-days)", self.views.len())
    }
}

impl Default for DayCache {
    fn default() -> Self {
        Self::new()
    }
}

impl DayCache {
    /// How long a site-day's view stands for reading it again.
    pub const FRESH: Duration = Duration::from_millis(100);

    pub fn new() -> Self {
        Self {
            homes: Arc::new(Cache::new(200_000)),
            views: Arc::new(Cache::new(10_000)),
            sites: Arc::new(Cache::new(10_000)),
        }
    }

    /// How long a site code is taken to name the same site.
    pub const SITE_FRESH: Duration = Duration::from_secs(10);

    /// The site-day of the site coded `code`, at most [`DayCache::FRESH`] old; `None` when
    /// there is no such site.
    pub async fn of_site(
        &self,
        db: &Db,
        code: &str,
        day: &str,
    ) -> Result<Option<Arc<DayView>>, StoreError> {
        let site_id = match self.sites.get(code) {
            Some((at, id)) if at.elapsed() < Self::SITE_FRESH => id,
            _ => match sites::by_code(db, code).await? {
                Some(site) => {
                    self.sites
                        .insert(code.to_string(), (Instant::now(), site.id));
                    site.id
                }
                None => return Ok(None),
            },
        };
        Ok(Some(self.of_day(db, site_id, day).await?))
    }

    /// The site-day of `slot_id`, at most [`DayCache::FRESH`] old; `None` when there is no such
    /// slot.
    pub async fn of_slot(&self, db: &Db, slot_id: i64) -> Result<Option<Arc<DayView>>, StoreError> {
        let key = match self.homes.get_value_or_guard_async(&slot_id).await {
            Ok(key) => key,
            Err(guard) => match slots::home(db, slot_id).await? {
                Some(key) => {
                    let _ = guard.insert(key.clone());
                    key
                }
                None => return Ok(None),
            },
        };
        let view = self.of_day(db, key.0, &key.1).await?;
        if view.slot(slot_id).is_some() {
            return Ok(Some(view));
        }
        // The view kept is older than the slot (opened since), or the slot is gone: read the
        // site-day once more before saying there is no such slot.
        self.forget(key.0, &key.1);
        let view = self.of_day(db, key.0, &key.1).await?;
        if view.slot(slot_id).is_some() {
            return Ok(Some(view));
        }
        self.homes.remove(&slot_id);
        Ok(None)
    }

    /// The site-day, at most [`DayCache::FRESH`] old.
    pub async fn of_day(
        &self,
        db: &Db,
        site_id: i64,
        day: &str,
    ) -> Result<Arc<DayView>, StoreError> {
        let key = (site_id, day.to_string());
        loop {
            // One reader reads a missing site-day; the others asking meanwhile wait for it.
            match self.views.get_value_or_guard_async(&key).await {
                Ok((at, view)) if at.elapsed() < Self::FRESH => return Ok(view),
                Ok(_) => {
                    self.views
                        .remove_if(&key, |(at, _)| at.elapsed() >= Self::FRESH);
                }
                Err(guard) => {
                    let at = Instant::now();
                    // On an error the guard is dropped unfilled and the next reader tries.
                    let view = Arc::new(slots::day_view(db, site_id, day).await?);
                    let _ = guard.insert((at, Arc::clone(&view)));
                    return Ok(view);
                }
            }
        }
    }

    /// Forgets a site-day, so the next look reads it afresh (after a write to it).
    pub fn forget(&self, site_id: i64, day: &str) {
        self.views.remove(&(site_id, day.to_string()));
    }
}
