//! The site manager's what-if, bounded: its numbers within ranges a site could have (each refused
//! by name outside them), at most one simulation per core at a time (others wait a moment, then
//! are told the server is busy), and every simulation with a deadline that also holds when
//! nobody waits for it any more — the search is asked between candidates whether to go on, and
//! each candidate is bounded in arrivals ([`vaxloop_sim::capacity::Judge::max_arrivals`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

pub use crate::capacity::{Measured, WhatIf, WhatIfOutcome, what_if_base};
use crate::error::{Error, Result};
use crate::{App, Caller};

/// A number's range: `(min, max)`, both included.
pub type Range = (f64, f64);

/// What a what-if may ask, field by field.
pub mod ranges {
    use super::Range;
    pub const DESKS: Range = (1.0, 100.0);
    /// Places at a station (0: unlimited).
    pub const SPACE: Range = (0.0, 5_000.0);
    /// Mean minutes per person at a desk.
    pub const MINUTES: Range = (0.1, 60.0);
    pub const SEATS: Range = (0.0, 2_000.0);
    pub const OBSERVATION_MINUTES: Range = (0.0, 120.0);
    pub const PER_SLOT: Range = (1.0, 1_000.0);
    /// Percentages.
    pub const WALK_IN: Range = (0.0, 100.0);
    pub const GREEN: Range = (0.0, 100.0);
    pub const NO_SHOW: Range = (0.0, 80.0);
    /// Minutes: the 95th percentile of the total wait.
    pub const TARGET: Range = (1.0, 120.0);
}

/// The longest a what-if may run.
pub const DEADLINE: Duration = Duration::from_secs(20);
/// How long a what-if waits for a free core before it is told the server is busy.
const QUEUE_WAIT: Duration = Duration::from_secs(3);

/// Why a what-if was not answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhatIfRefusal {
    /// Every core is simulating; try again in a moment.
    Busy,
    /// It took longer than [`DEADLINE`]; smaller numbers answer sooner.
    TimedOut,
}

/// The first field of `w` outside its range, by the form's name.
pub fn out_of_range(w: &WhatIf) -> Option<&'static str> {
    let within = |v: f64, (min, max): Range| v.is_finite() && (min..=max).contains(&v);
    for st in &w.stations {
        if !within(f64::from(st.desks), ranges::DESKS) {
            return Some("desks");
        }
        if !within(f64::from(st.space), ranges::SPACE) {
            return Some("space");
        }
        if !within(st.minutes, ranges::MINUTES) {
            return Some("minutes");
        }
    }
    let checks = [
        (f64::from(w.seats), ranges::SEATS, "seats"),
        (
            w.observation_minutes,
            ranges::OBSERVATION_MINUTES,
            "observation_minutes",
        ),
        (f64::from(w.per_slot), ranges::PER_SLOT, "per_slot"),
        (w.walk_in_percent, ranges::WALK_IN, "walk_in"),
        (w.green_percent, ranges::GREEN, "green"),
        (w.no_show_percent, ranges::NO_SHOW, "no_show"),
        (w.target, ranges::TARGET, "target"),
    ];
    checks
        .into_iter()
        .find(|(v, range, _)| !within(*v, *range))
        .map(|(_, _, name)| name)
}

/// A what-if is simulated for a logged-in caller, with every number in its range.
fn admit(caller: &Caller, w: &WhatIf) -> Result<()> {
    if caller.role().is_none() {
        return Err(Error::Unauthenticated);
    }
    match out_of_range(w) {
        Some(field) => Err(Error::invalid(field, "out_of_range")),
        None => Ok(()),
    }
}

/// Sets its flag when dropped: the request that waited for the work has gone.
struct Gone(Arc<AtomicBool>);

impl Drop for Gone {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Runs `work` on the blocking pool under the what-if's bounds: a free core (or `Busy`), and a
/// stop that says yes past the deadline or once the caller stopped waiting.
async fn bounded<T: Send + 'static>(
    app: &App,
    work: impl FnOnce(&dyn Fn() -> bool) -> T + Send + 'static,
) -> Result<std::result::Result<T, WhatIfRefusal>> {
    let permit = tokio::time::timeout(QUEUE_WAIT, app.simulations().acquire_owned()).await;
    let Ok(Ok(permit)) = permit else {
        return Ok(Err(WhatIfRefusal::Busy));
    };
    let gone = Arc::new(AtomicBool::new(false));
    let _guard = Gone(Arc::clone(&gone));
    let until = Instant::now() + DEADLINE;
    let task = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let stop = move || gone.load(Ordering::Relaxed) || Instant::now() > until;
        work(&stop)
    });
    task.await
        .map(Ok)
        .map_err(|e| Error::Internal(format!("what-if: {e}")))
}

/// The what-if `w` (read through [`what_if_base`], which decides who may) with the safe bookings
/// per slot for it, within the bounds above.
pub async fn run(
    app: &App,
    caller: &Caller,
    w: WhatIf,
    measured: Measured,
) -> Result<std::result::Result<WhatIfOutcome, WhatIfRefusal>> {
    admit(caller, &w)?;
    let done = bounded(app, move |stop| {
        crate::capacity::run_what_if(&w, &measured, stop)
    })
    .await?;
    Ok(match done {
        Ok(outcome) if outcome.stopped => Err(WhatIfRefusal::TimedOut),
        other => other,
    })
}

/// The day of the what-if `w` alone, with its queues every 15 minutes (the page's chart),
/// within the same bounds.
pub async fn day(
    app: &App,
    caller: &Caller,
    w: WhatIf,
    measured: Measured,
) -> Result<std::result::Result<vaxloop_sim::clinic::ClinicResult, WhatIfRefusal>> {
    admit(caller, &w)?;
    bounded(app, move |_| w.simulate_day(&measured)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn app() -> App {
        let t = vaxloop_store::testing::TestDb::sqlite().await;
        App::new(t.db.clone(), t.cipher.clone(), chrono_tz::Asia::Shanghai)
    }

    #[tokio::test]
    async fn work_stops_when_nobody_waits_for_it_and_gives_its_core_back() {
        let app = app().await;
        let cores = app.simulations().available_permits();
        let (started, mut running) = tokio::sync::oneshot::channel::<()>();
        let asked = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let counted = Arc::clone(&asked);
        let inner = app.clone();
        let waiting = tokio::spawn(async move {
            bounded(&inner, move |stop| {
                let _ = started.send(());
                // Endless work that asks, as the capacity search does between candidates.
                while !stop() {
                    counted.fetch_add(1, Ordering::Relaxed);
                    std::thread::sleep(Duration::from_millis(5));
                }
            })
            .await
        });
        (&mut running).await.ok();
        assert_eq!(
            app.simulations().available_permits(),
            cores - 1,
            "it holds a core"
        );
        // The page's client goes away: the request's future is dropped.
        waiting.abort();
        let mut freed = false;
        for _ in 0..400 {
            if app.simulations().available_permits() == cores {
                freed = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(freed, "the work stopped and gave its core back");
        let n = asked.load(Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(asked.load(Ordering::Relaxed), n, "and asks no more");
    }

    #[tokio::test]
    async fn with_every_core_busy_a_what_if_is_told_so() {
        let app = app().await;
        let cores = app.simulations().available_permits() as u32;
        let _all = app
            .simulations()
            .acquire_many_owned(cores)
            .await
            .expect("permits");
        let done = bounded(&app, |_| 1).await.expect("no error");
        assert_eq!(done, Err(WhatIfRefusal::Busy));
    }

    #[tokio::test]
    async fn numbers_outside_a_sites_range_are_refused_by_field() {
        let w = WhatIf::of_site(&[], false, &Measured::default(), 50);
        assert_eq!(out_of_range(&w), None);
        let app = app().await;
        let by = Caller::operator("test");
        for (field, change) in [
            (
                "per_slot",
                (|w: &mut WhatIf| w.per_slot = 5_000) as fn(&mut WhatIf),
            ),
            ("no_show", |w: &mut WhatIf| w.no_show_percent = 95.0),
            ("target", |w: &mut WhatIf| w.target = f64::NAN),
        ] {
            let mut bad = w.clone();
            change(&mut bad);
            assert_eq!(out_of_range(&bad), Some(field));
            let refused = run(&app, &by, bad, Measured::default()).await;
            assert!(
                matches!(refused, Err(Error::Invalid(ref p)) if p[0].field == field),
                "{refused:?}"
            );
        }
    }
}
