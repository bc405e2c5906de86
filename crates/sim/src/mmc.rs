//! The M/M/c queue on the event engine: Poisson arrivals, `c` servers, exponential service,
//! first come first served. Waits are summed as they come (in arrival order, which under FIFO is
//! the order of service) into 20 batches after a 1% warm-up, for the mean and its batch-means
//! interval; an evenly spaced sample of at most a million of them gives the percentiles and a
//! sample to test against the Erlang C law — so a run of a billion customers needs no more
//! memory than one of a million.

use std::collections::VecDeque;

use crate::engine::{Calendar, Random};
use crate::formulas::Mmc;
use crate::stats;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Event {
    Arrival,
    /// A service ends (and the customer departs).
    Done,
}

/// A simulated M/M/c run.
#[derive(Debug, Clone, PartialEq)]
pub struct MmcRun {
    pub customers: u64,
    /// Customers left out of the statistics at the start (1%).
    pub warmup: u64,
    /// Every `sample_every`-th wait after the warm-up, in arrival order.
    pub sample: Vec<f64>,
    pub sample_every: u64,
    /// Arrivals, service starts, service ends and departures: four per customer.
    pub events: u64,
    /// Events the calendar handled (arrivals and service ends).
    pub calendar_events: u64,
    pub wq_mean: f64,
    /// Half-width of the 95% interval of the mean, by 20 batch means.
    pub wq_mean_ci95: f64,
    /// The 20 batch means themselves, for intervals at other levels.
    pub batch_means: Vec<f64>,
    pub wq_p50: f64,
    pub wq_p95: f64,
    pub wq_p99: f64,
}

/// Batches for the mean's interval.
const BATCHES: u64 = 20;
/// The most waits kept for percentiles and distribution tests.
const SAMPLE: u64 = 1_000_000;

/// Simulates `customers` arrivals to the queue `q`, seeded with `seed`, until the last has been
/// served.
pub fn simulate(q: &Mmc, customers: u64, seed: u64) -> MmcRun {
    let mut rng = Random::seeded(seed);
    let mut calendar: Calendar<Event> = Calendar::with_capacity(q.servers as usize + 2);
    let mut queue: VecDeque<f64> = VecDeque::with_capacity(1024);
    let warmup = customers / 100;
    let measured = customers - warmup;
    let batch = (measured / BATCHES).max(1);
    let sample_every = measured.div_ceil(SAMPLE).max(1);
    let mut sample: Vec<f64> = Vec::with_capacity((measured / sample_every + 1) as usize);
    let mut sums = [0.0f64; BATCHES as usize];
    let mut served = 0u64;
    let mut record = |wait: f64| {
        if served >= warmup {
            let k = served - warmup;
            sums[((k / batch).min(BATCHES - 1)) as usize] += wait;
            if k.is_multiple_of(sample_every) {
                sample.push(wait);
            }
        }
        served += 1;
    };
    let (mean_gap, mean_service) = (1.0 / q.lambda, 1.0 / q.mu);
    let mut idle = q.servers;
    let mut arrived = 0u64;
    if customers > 0 {
        calendar.after(rng.exponential(mean_gap), Event::Arrival);
    }
    while let Some((now, event)) = calendar.pop() {
        match event {
            Event::Arrival => {
                arrived += 1;
                if arrived < customers {
                    calendar.after(rng.exponential(mean_gap), Event::Arrival);
                }
                if idle > 0 {
                    idle -= 1;
                    record(0.0);
                    calendar.after(rng.exponential(mean_service), Event::Done);
                } else {
                    queue.push_back(now);
                }
            }
            Event::Done => match queue.pop_front() {
                Some(came) => {
                    record(now - came);
                    calendar.after(rng.exponential(mean_service), Event::Done);
                }
                None => idle += 1,
            },
        }
    }
    // The last batch takes the remainder.
    let sizes: Vec<f64> = (0..BATCHES)
        .map(|b| {
            if b + 1 == BATCHES {
                measured.saturating_sub(batch * (BATCHES - 1)) as f64
            } else {
                batch as f64
            }
        })
        .collect();
    let means: Vec<f64> = sums
        .iter()
        .zip(&sizes)
        .filter(|(_, n)| **n > 0.0)
        .map(|(s, n)| s / n)
        .collect();
    let total: f64 = sums.iter().sum();
    let wq_mean = if measured > 0 {
        total / measured as f64
    } else {
        0.0
    };
    let (_, wq_mean_ci95) = stats::across(&means);
    let mut sorted = sample.clone();
    sorted.sort_by(f64::total_cmp);
    MmcRun {
        customers,
        warmup,
        sample,
        sample_every,
        events: customers * 4,
        calendar_events: calendar.popped(),
        wq_mean,
        wq_mean_ci95,
        batch_means: means,
        wq_p50: stats::quantile(&sorted, 0.50),
        wq_p95: stats::quantile(&sorted, 0.95),
        wq_p99: stats::quantile(&sorted, 0.99),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_run_serves_everyone_once() {
        let q = Mmc {
            servers: 3,
            lambda: 2.0,
            mu: 1.0,
        };
        let run = simulate(&q, 10_000, 1);
        assert_eq!((run.warmup, run.sample.len()), (100, 9_900));
        assert_eq!(run.calendar_events, 20_000);
        assert!(run.sample.iter().all(|w| *w >= 0.0));
        assert_eq!(simulate(&q, 0, 1).sample.len(), 0);
    }
}
