//! Opening site-days for booking: slots cut from the site's hours, each with the capacity the
//! simulator finds safe for the shift's desks, space and seats and the times the site's past
//! days measured ([`crate::capacity`]), kept as the reason with the bottleneck rule's arithmetic
//! beside it.

use chrono::{Datelike, NaiveDate};
use vaxloop_store::{Db, StoreError, sites, slots};

pub use vaxloop_core::capacity::{OBSERVATION_MINUTES, SLOT_MINUTES};
/// Days open for booking: today and the next three.
pub const BOOKING_DAYS: u64 = 4;

/// The capacity reason of a slot left outside its site's changed hours.
pub const CLOSED: &str = "closed";

/// The days open for booking from `today` on.
pub fn booking_window(today: NaiveDate) -> Vec<NaiveDate> {
    (0..BOOKING_DAYS)
        .filter_map(|d| today.checked_add_days(chrono::Days::new(d)))
        .collect()
}

/// Opens the booking window from `today` at one site, on the days within its open dates;
/// returns how many slots were new.
pub async fn open_window(db: &Db, site: &sites::Site, today: NaiveDate) -> Result<u64, StoreError> {
    let within = |d: &NaiveDate| {
        let day = d.to_string();
        site.open_from.as_deref().is_none_or(|f| f <= day.as_str())
            && site.open_until.as_deref().is_none_or(|u| day.as_str() <= u)
    };
    let days: Vec<NaiveDate> = booking_window(today).into_iter().filter(within).collect();
    open_days(db, site.id, &days, SLOT_MINUTES, OBSERVATION_MINUTES).await
}

/// The booking window's slots opened at every site as of today (the server's ten-minute sweep);
/// answers how many slots were created.
pub async fn open_windows(app: &crate::App) -> crate::Result<u64> {
    Ok(open_window_everywhere(app.db(), app.today()).await?)
}

/// Opens the booking window at every site (run at start-up and through the day, so that a new
/// day's slots exist as soon as the day enters the window); returns how many slots were new.
pub async fn open_window_everywhere(db: &Db, today: NaiveDate) -> Result<u64, StoreError> {
    let mut created = 0;
    for site in sites::all(db).await? {
        created += open_window(db, &site, today).await?;
    }
    Ok(created)
}

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
    // Most calls (the window's sweep) find every slot there already: then there is nothing to
    // simulate or write.
    let mut missing = false;
    for day in days {
        let weekday = i64::from(day.weekday().num_days_from_monday());
        if !slots::all_there(db, site_id, &day.to_string(), weekday, slot_minutes).await? {
            missing = true;
            break;
        }
    }
    if !missing {
        return Ok(0);
    }
    let first = days.first().copied();
    let rule = capacity_rule(db, site_id, first, slot_minutes, observation_minutes).await?;
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
            &rule,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(created)
}

/// The capacity rule for a site's zones as they are now: a slot's capacity from its start
/// (morning or afternoon desks), as the simulator finds it safe, with the simulation's figures
/// and the bottleneck rule's arithmetic as JSON for the reason. Service times are calibrated
/// from the site's journeys of the days before `first` ([`crate::capacity::measured_before`]).
async fn capacity_rule(
    db: &Db,
    site_id: i64,
    first: Option<NaiveDate>,
    slot_minutes: i64,
    observation_minutes: i64,
) -> Result<impl Fn(i64) -> (i64, String), StoreError> {
    let zones = sites::zones(db, site_id).await?;
    let measured = crate::capacity::measured_before(db, site_id, first).await?;
    // Each shift's capacity: the simulator's, with the bottleneck rule's arithmetic beside it
    // (and alone when a station has no desks then).
    let shift = |afternoon: bool| {
        let model = crate::capacity::profile(
            &zones,
            afternoon,
            &measured,
            slot_minutes,
            observation_minutes,
        );
        let mut c =
            crate::capacity::bottleneck_rule(&zones, afternoon, slot_minutes, observation_minutes);
        async move {
            let simulated = match model {
                Some((profile, used)) => {
                    tokio::task::spawn_blocking(move || crate::capacity::simulate(&profile, used))
                        .await
                        .ok()
                }
                None => None,
            };
            if let Some(s) = simulated {
                c.capacity = s.per_slot;
                c.simulated = Some(s);
            }
            (c.capacity, serde_json::to_string(&c).unwrap_or_default())
        }
    };
    let (am, pm) = (shift(false).await, shift(true).await);
    Ok(move |start: i64| {
        if start < AFTERNOON {
            am.clone()
        } else {
            pm.clone()
        }
    })
}

/// After a site's hours or desks change: every slot of the booking window gets the capacity the
/// rule now gives (a slot outside the new hours gets none), never below what it already holds —
/// those appointments stand — and the window's new slots are opened. Returns the slots changed.
pub async fn resize_window(
    db: &Db,
    site: &sites::Site,
    today: NaiveDate,
) -> Result<u64, StoreError> {
    let rule = capacity_rule(db, site.id, Some(today), SLOT_MINUTES, OBSERVATION_MINUTES).await?;
    let hours = sites::hours(db, site.id).await?;
    let mut wanted = Vec::new();
    for day in booking_window(today) {
        let weekday = i64::from(day.weekday().num_days_from_monday());
        let open = hours.iter().find(|h| h.0 == weekday);
        for slot in slots::of_site_day(db, site.id, &day.to_string()).await? {
            let (capacity, reason) = match open {
                Some(&(_, opens, closes))
                    if slot.starts_min >= opens && slot.ends_min <= closes =>
                {
                    rule(slot.starts_min)
                }
                _ => (0, CLOSED.to_string()),
            };
            let capacity = capacity.max(slot.booked);
            if capacity != slot.capacity {
                wanted.push((slot.id, capacity, reason));
            }
        }
    }
    // A booking racing this may leave a slot above its new capacity's floor; then the slot keeps
    // its old capacity (the update is conditional) rather than go below what it holds.
    let mut changed = 0;
    let mut tx = db.begin_write().await?;
    for (id, capacity, reason) in wanted {
        if slots::set_capacity(&mut tx, id, capacity, &reason)
            .await?
            .is_some()
        {
            changed += 1;
        }
    }
    tx.commit().await?;
    open_window(db, site, today).await?;
    Ok(changed)
}

/// Why a slot's capacity was not changed by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapacityRefusal {
    /// A reason of a few words is needed: it is kept with the slot and audited.
    ReasonRequired,
    /// From 0 to 10,000.
    OutOfRange,
    /// Never below the bookings the slot holds.
    BelowBooked,
}

/// The desk or the admin sets slot `slot_id`'s capacity by hand, with a reason kept with the slot
/// (`manual: …`) and written to the audit log, in one transaction.
pub async fn set_capacity(
    app: &crate::App,
    caller: &crate::Caller,
    slot_id: i64,
    capacity: i64,
    why: &str,
) -> crate::Result<Result<(), CapacityRefusal>> {
    use vaxloop_core::Role;
    crate::scope::require(app, caller, &[Role::Admin, Role::Desk]).await?;
    let Ok(reason) = crate::privacy::reason(why) else {
        return Ok(Err(CapacityRefusal::ReasonRequired));
    };
    if !(0..=10_000).contains(&capacity) {
        return Ok(Err(CapacityRefusal::OutOfRange));
    }
    let mut tx = app.db().begin_write().await?;
    let stored_reason = format!("manual: {reason}");
    let Some(previous) = slots::set_capacity(&mut tx, slot_id, capacity, &stored_reason).await?
    else {
        tx.rollback().await?;
        return match slots::by_id(app.db(), slot_id).await? {
            Some(_) => Ok(Err(CapacityRefusal::BelowBooked)),
            None => Err(crate::Error::NotFound),
        };
    };
    let target = format!("slot:{slot_id}");
    let detail = format!("capacity {previous} -> {capacity}");
    let act = crate::audit::Act::new("slot_capacity", &target)
        .reason(reason)
        .detail(&detail);
    crate::audit::write(&mut tx, caller, act).await?;
    tx.commit().await?;
    Ok(Ok(()))
}
