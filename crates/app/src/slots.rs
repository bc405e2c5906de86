//! Opening site-days for booking: slots cut from the site's hours, each with the capacity the
//! bottleneck rule gives for the shift's desks and seats, and the arithmetic kept as the reason.

use chrono::{Datelike, NaiveDate};
use vaxloop_core::capacity::{UTILISATION, ZoneShift, bottleneck};
use vaxloop_store::{Db, StoreError, sites, slots};

/// Minutes after midnight at which the afternoon shift starts.
const AFTERNOON: i64 = 12 * 60;

/// Creates the slots of `days` at a site (existing slots stay as they are); returns how many.
pub async fn open_days(
    db: &Db,
    site_id: i64,
    days: &[NaiveDate],
    slot_minutes: i64,
    observation_minutes: i64,
) -> Result<u64, StoreError> {
    let zones = sites::zones(db, site_id).await?;
    let shift = |afternoon: bool| -> Vec<ZoneShift> {
        zones
            .iter()
            .map(|z| ZoneShift {
                zone: z.kind,
                desks: if afternoon { z.desks_pm } else { z.desks_am },
                space: z.space,
                mean_service_seconds: z.mean_service_seconds,
            })
            .collect()
    };
    let (am, pm) = (shift(false), shift(true));
    let rule = |start: i64| {
        let c = bottleneck(
            if start < AFTERNOON { &am } else { &pm },
            slot_minutes,
            observation_minutes,
            UTILISATION,
        );
        (c.capacity, serde_json::to_string(&c).unwrap_or_default())
    };
    let mut tx = db.begin_write().await?;
    let mut created = 0;
    for day in days {
        let weekday = i64::from(day.weekday().num_days_from_monday());
        created += slots::generate(
            &mut tx,
            site_id,
            &day.to_string(),
            weekday,
            slot_minutes,
            rule,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(created)
}
