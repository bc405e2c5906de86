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

/// The seed of replication `r` of a run seeded `seed`: SplitMix64 of the pair, so replications
/// are independent streams and the same whatever the number of threads.
pub fn replication_seed(seed: u64, r: u64) -> u64 {
    let mut z = seed
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(r.wrapping_add(1).wrapping_mul(0xBF58_476D_1CE4_E5B9));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `replications` independent runs of the queue, spread over `threads` threads (each run on
/// one), in replication order whatever the threads: the same seed gives the same runs.
pub fn replicate(
    q: &Mmc,
    customers: u64,
    replications: u64,
    seed: u64,
    threads: usize,
) -> Vec<MmcRun> {
    let threads = threads.clamp(1, replications.max(1) as usize);
    let mut runs: Vec<Option<MmcRun>> = vec![None; replications as usize];
    std::thread::scope(|scope| {
        for (t, chunk) in runs
            .chunks_mut((replications as usize).div_ceil(threads).max(1))
            .enumerate()
        {
            let first = t * (replications as usize).div_ceil(threads).max(1);
            scope.spawn(move || {
                for (i, slot) in chunk.iter_mut().enumerate() {
                    let r = (first + i) as u64;
                    *slot = Some(simulate(q, customers, replication_seed(seed, r)));
                }
            });
        }
    });
    runs.into_iter().flatten().collect()
}

/// One priority class of a run: its waits' mean and 95% interval by batch means.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassRun {
    pub served: u64,
    pub wq_mean: f64,
    pub wq_mean_ci95: f64,
    pub batch_means: Vec<f64>,
}

/// The M/M/c queue with priority classes (the green channel): an arrival belongs to class k with
/// probability `shares[k]`; a freed server takes the longest-waiting person of the first class
/// with anyone waiting (non-preemptive), all classes served at rate μ. Per class, the mean wait
/// after a 1% warm-up, with 20 batch means (batches by arrival order).
pub fn simulate_priority(q: &Mmc, shares: &[f64], customers: u64, seed: u64) -> Vec<ClassRun> {
    #[derive(Debug, Clone, Copy)]
    enum Ev {
        Arrival,
        Done,
    }
    let classes = shares.len().max(1);
    let mut rng = Random::seeded(seed);
    let mut calendar: Calendar<Ev> = Calendar::with_capacity(q.servers as usize + 2);
    // Waiting people per class: (arrival time, arrival index).
    let mut queues: Vec<VecDeque<(f64, u64)>> = (0..classes)
        .map(|_| VecDeque::with_capacity(1024))
        .collect();
    let warmup = customers / 100;
    let batch = ((customers - warmup) / BATCHES).max(1);
    let mut sums = vec![[0.0f64; BATCHES as usize]; classes];
    let mut counts = vec![[0u64; BATCHES as usize]; classes];
    let mut record = |class: usize, index: u64, wait: f64| {
        if index >= warmup {
            let b = ((index - warmup) / batch).min(BATCHES - 1) as usize;
            sums[class][b] += wait;
            counts[class][b] += 1;
        }
    };
    let (mean_gap, mean_service) = (1.0 / q.lambda, 1.0 / q.mu);
    let mut idle = q.servers;
    let mut arrived = 0u64;
    if customers > 0 {
        calendar.after(rng.exponential(mean_gap), Ev::Arrival);
    }
    while let Some((now, event)) = calendar.pop() {
        match event {
            Ev::Arrival => {
                let index = arrived;
                arrived += 1;
                if arrived < customers {
                    calendar.after(rng.exponential(mean_gap), Ev::Arrival);
                }
                let mut u = rng.unit();
                let mut class = classes - 1;
                for (k, share) in shares.iter().enumerate() {
                    if u <= *share {
                        class = k;
                        break;
                    }
                    u -= share;
                }
                if idle > 0 {
                    idle -= 1;
                    record(class, index, 0.0);
                    calendar.after(rng.exponential(mean_service), Ev::Done);
                } else {
                    queues[class].push_back((now, index));
                }
            }
            Ev::Done => match queues.iter_mut().enumerate().find(|(_, q)| !q.is_empty()) {
                Some((class, queue)) => {
                    let (came, index) = queue.pop_front().unwrap_or((now, 0));
                    record(class, index, now - came);
                    calendar.after(rng.exponential(mean_service), Ev::Done);
                }
                None => idle += 1,
            },
        }
    }
    (0..classes)
        .map(|k| {
            let served: u64 = counts[k].iter().sum();
            let total: f64 = sums[k].iter().sum();
            let means: Vec<f64> = sums[k]
                .iter()
                .zip(&counts[k])
                .filter(|(_, n)| **n > 0)
                .map(|(s, n)| s / *n as f64)
                .collect();
            let (_, ci) = stats::across(&means);
            ClassRun {
                served,
                wq_mean: if served > 0 {
                    total / served as f64
                } else {
                    0.0
                },
                wq_mean_ci95: ci,
                batch_means: means,
            }
        })
        .collect()
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

    #[test]
    fn replications_are_the_same_on_one_thread_or_many() {
        let q = Mmc {
            servers: 2,
            lambda: 1.5,
            mu: 1.0,
        };
        let one = replicate(&q, 20_000, 5, 9, 1);
        let many = replicate(&q, 20_000, 5, 9, 4);
        assert_eq!(one, many);
        assert_eq!(one.len(), 5);
        assert_eq!(one[3], simulate(&q, 20_000, replication_seed(9, 3)));
        assert_ne!(one[0].wq_mean, one[1].wq_mean, "independent streams");
    }
}
