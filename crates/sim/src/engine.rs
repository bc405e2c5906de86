//! The event engine: a calendar of timed events on a binary heap, earliest first and, at equal
//! times, first scheduled first — so a run is a pure function of its inputs and its seed. The
//! heap keeps its capacity, so a model in its steady state schedules and pops events without
//! allocating.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Exp1, StandardNormal};

/// An event due at `time`; `seq` orders events at the same time by when they were scheduled.
/// Times are never negative, so their bit patterns order as the times do and the pair compares
/// as two integers.
#[derive(Debug, Clone, Copy)]
struct Due<E> {
    time: u64,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Due<E> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl<E> Eq for Due<E> {}

impl<E> PartialOrd for Due<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Reversed, so the max-heap pops the earliest event (and the first scheduled among equals).
impl<E> Ord for Due<E> {
    fn cmp(&self, other: &Self) -> Ordering {
        (other.time, other.seq).cmp(&(self.time, self.seq))
    }
}

/// The calendar of future events and the clock.
#[derive(Debug, Clone)]
pub struct Calendar<E> {
    heap: BinaryHeap<Due<E>>,
    seq: u64,
    now: f64,
    popped: u64,
}

impl<E: Copy> Calendar<E> {
    /// An empty calendar at time 0, with room for `capacity` pending events.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            heap: BinaryHeap::with_capacity(capacity),
            seq: 0,
            now: 0.0,
            popped: 0,
        }
    }

    /// The current time: that of the last event popped.
    pub fn now(&self) -> f64 {
        self.now
    }

    /// Events popped so far.
    pub fn popped(&self) -> u64 {
        self.popped
    }

    /// Pending events.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Schedules `event` at absolute time `time` (never before now).
    pub fn at(&mut self, time: f64, event: E) {
        // Also turns NaN into now, and -0.0 into +0.0 (whose bits order correctly).
        let time = if time > self.now { time } else { self.now };
        self.seq += 1;
        self.heap.push(Due {
            time: time.to_bits(),
            seq: self.seq,
            event,
        });
    }

    /// Schedules `event` `delay` after now.
    pub fn after(&mut self, delay: f64, event: E) {
        self.at(self.now + delay.max(0.0), event);
    }

    /// The time of the next event, if any.
    pub fn peek_time(&self) -> Option<f64> {
        self.heap.peek().map(|due| f64::from_bits(due.time))
    }

    /// Moves the clock to `time` (never back) for something that happened outside the calendar —
    /// an arrival taken from a sorted list, say.
    pub fn advance(&mut self, time: f64) {
        if time > self.now {
            self.now = time;
        }
    }

    /// Forgets every pending event and returns to time 0, keeping the heap's room.
    pub fn clear(&mut self) {
        self.heap.clear();
        self.seq = 0;
        self.now = 0.0;
        self.popped = 0;
    }

    /// The next event, advancing the clock to it.
    pub fn pop(&mut self) -> Option<(f64, E)> {
        let due = self.heap.pop()?;
        self.now = f64::from_bits(due.time);
        self.popped += 1;
        Some((self.now, due.event))
    }
}

/// The model's source of randomness: ChaCha8, seeded, the same stream on every platform.
#[derive(Debug, Clone)]
pub struct Random {
    rng: ChaCha8Rng,
}

impl Random {
    pub fn seeded(seed: u64) -> Self {
        Self {
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// A uniform draw in (0, 1]: never 0, so its logarithm is finite.
    pub fn unit(&mut self) -> f64 {
        1.0 - self.rng.random::<f64>()
    }

    /// An exponential draw with this mean (ziggurat).
    #[inline]
    pub fn exponential(&mut self, mean: f64) -> f64 {
        let e: f64 = self.rng.sample(Exp1);
        mean * e
    }

    /// A standard normal draw (ziggurat).
    #[inline]
    pub fn normal(&mut self) -> f64 {
        self.rng.sample(StandardNormal)
    }

    /// A log-normal draw with this mean and coefficient of variation (of the draw itself, not of
    /// its logarithm).
    pub fn lognormal(&mut self, mean: f64, cv: f64) -> f64 {
        let s2 = (1.0 + cv * cv).ln();
        let m = mean.ln() - s2 / 2.0;
        (m + s2.sqrt() * self.normal()).exp()
    }

    /// A uniform draw in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        self.rng.random::<f64>()
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.rng.random::<f64>() < p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_come_out_in_time_order_and_in_scheduling_order_at_equal_times() {
        let mut c = Calendar::with_capacity(8);
        c.at(5.0, 'a');
        c.at(1.0, 'b');
        c.at(5.0, 'c');
        c.at(3.0, 'd');
        let order: Vec<char> = std::iter::from_fn(|| c.pop().map(|e| e.1)).collect();
        assert_eq!(order, ['b', 'd', 'a', 'c']);
        assert_eq!(c.now(), 5.0);
        assert_eq!(c.popped(), 4);
        // Nothing is scheduled in the past.
        c.at(2.0, 'e');
        assert_eq!(c.pop(), Some((5.0, 'e')));
    }

    #[test]
    fn lognormal_draws_have_the_mean_and_spread_asked_for() {
        let mut r = Random::seeded(3);
        let n = 400_000;
        let draws: Vec<f64> = (0..n).map(|_| r.lognormal(2.0, 0.5)).collect();
        let mean = draws.iter().sum::<f64>() / n as f64;
        let sd = (draws.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64).sqrt();
        assert!((mean - 2.0).abs() < 0.01, "{mean}");
        assert!((sd / mean - 0.5).abs() < 0.01, "{}", sd / mean);
        assert!(draws.iter().all(|x| *x > 0.0));
    }

    #[test]
    fn the_same_seed_gives_the_same_draws() {
        let draws = |seed| {
            let mut r = Random::seeded(seed);
            (0..5).map(|_| r.exponential(2.0)).collect::<Vec<_>>()
        };
        assert_eq!(draws(7), draws(7));
        assert_ne!(draws(7), draws(8));
        assert!(draws(7).iter().all(|x| x.is_finite() && *x >= 0.0));
    }
}
