//! A delay with unlimited room — the observation area when seats never run out, M/G/∞: people
//! arrive (Poisson) and each stays a time of their own. The run keeps how long the area held
//! each number of people, so its time-average occupancy law can be held to the Poisson law of
//! mean λ·E[stay], and its mean to Little's law.

use crate::engine::{Calendar, Random};

/// How long a person stays.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stay {
    Deterministic(f64),
    Exponential { mean: f64 },
    Lognormal { mean: f64, cv: f64 },
}

impl Stay {
    pub fn mean(&self) -> f64 {
        match *self {
            Stay::Deterministic(v) => v,
            Stay::Exponential { mean } | Stay::Lognormal { mean, .. } => mean,
        }
    }

    fn draw(&self, rng: &mut Random) -> f64 {
        match *self {
            Stay::Deterministic(v) => v,
            Stay::Exponential { mean } => rng.exponential(mean),
            Stay::Lognormal { mean, cv } => rng.lognormal(mean, cv),
        }
    }
}

/// A run of the delay.
#[derive(Debug, Clone, PartialEq)]
pub struct DelayRun {
    pub arrivals: u64,
    /// The time the area held k people, for each k, after the warm-up.
    pub time_at: Vec<f64>,
    pub measured_time: f64,
    /// Arrivals and the sum of their stays, after the warm-up (for Little's law).
    pub measured_arrivals: u64,
    pub stay_sum: f64,
    pub peak: usize,
}

impl DelayRun {
    /// The time-average number present.
    pub fn mean_occupancy(&self) -> f64 {
        let weighted: f64 = self
            .time_at
            .iter()
            .enumerate()
            .map(|(k, t)| k as f64 * t)
            .sum();
        weighted / self.measured_time
    }

    /// The share of time the area held at most k people.
    pub fn occupancy_cdf(&self, k: usize) -> f64 {
        self.time_at.iter().take(k + 1).sum::<f64>() / self.measured_time
    }
}

/// Simulates `arrivals` people arriving at rate `lambda`, each staying per `stay`; statistics
/// start once `warmup` time has passed.
pub fn simulate(lambda: f64, stay: Stay, arrivals: u64, warmup: f64, seed: u64) -> DelayRun {
    #[derive(Debug, Clone, Copy)]
    enum Ev {
        Arrival,
        Leave,
    }
    let mut rng = Random::seeded(seed);
    let mut calendar: Calendar<Ev> = Calendar::with_capacity(1024);
    let mut present = 0usize;
    let mut last = 0.0f64;
    let mut time_at: Vec<f64> = vec![0.0; 64];
    let (mut measured_arrivals, mut stay_sum, mut peak) = (0u64, 0.0f64, 0usize);
    let mut arrived = 0u64;
    if arrivals > 0 {
        calendar.after(rng.exponential(1.0 / lambda), Ev::Arrival);
    }
    while let Some((now, event)) = calendar.pop() {
        // The time since the last event was spent with `present` people.
        if now > warmup {
            let from = last.max(warmup);
            if present >= time_at.len() {
                time_at.resize(present + 1, 0.0);
            }
            time_at[present] += now - from;
        }
        last = now;
        match event {
            Ev::Arrival => {
                arrived += 1;
                if arrived < arrivals {
                    calendar.after(rng.exponential(1.0 / lambda), Ev::Arrival);
                }
                let stay = stay.draw(&mut rng);
                if now >= warmup {
                    measured_arrivals += 1;
                    stay_sum += stay;
                }
                present += 1;
                peak = peak.max(present);
                calendar.after(stay, Ev::Leave);
            }
            Ev::Leave => present -= 1,
        }
    }
    let measured_time: f64 = time_at.iter().sum();
    DelayRun {
        arrivals,
        time_at,
        measured_time,
        measured_arrivals,
        stay_sum,
        peak,
    }
}
