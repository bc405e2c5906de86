//! Queueing formulas, for validating the simulator and for sizing without it.

/// Erlang B: the probability that an arrival finds all `c` servers busy in an M/M/c/c loss
/// system offered `a` erlangs (a = λ/μ), by the stable recursion B₀ = 1, Bₖ = a·Bₖ₋₁/(k + a·Bₖ₋₁).
pub fn erlang_b(c: u32, a: f64) -> f64 {
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (f64::from(k) + a * b);
    }
    b
}

/// Erlang C: the probability that an arrival waits in an M/M/c queue offered `a` erlangs;
/// C = B / (1 − ρ + ρ·B) with ρ = a/c. 1 when the queue is unstable (ρ ≥ 1).
pub fn erlang_c(c: u32, a: f64) -> f64 {
    let rho = a / f64::from(c);
    if rho >= 1.0 {
        return 1.0;
    }
    let b = erlang_b(c, a);
    b / (1.0 - rho + rho * b)
}

/// An M/M/c queue: Poisson arrivals at rate `lambda`, `servers` servers each serving at rate `mu`
/// (exponential service), first come first served, unlimited waiting room.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mmc {
    pub servers: u32,
    pub lambda: f64,
    pub mu: f64,
}

impl Mmc {
    /// ρ = λ / (cμ).
    pub fn utilisation(&self) -> f64 {
        self.lambda / (f64::from(self.servers) * self.mu)
    }

    pub fn stable(&self) -> bool {
        self.utilisation() < 1.0
    }

    /// The probability of waiting at all (Erlang C).
    pub fn wait_probability(&self) -> f64 {
        erlang_c(self.servers, self.lambda / self.mu)
    }

    /// The rate of the waiting time's exponential tail, cμ − λ.
    fn drain(&self) -> f64 {
        f64::from(self.servers) * self.mu - self.lambda
    }

    /// Mean wait in queue, W_q = C / (cμ − λ).
    pub fn wq_mean(&self) -> f64 {
        if !self.stable() {
            return f64::INFINITY;
        }
        self.wait_probability() / self.drain()
    }

    /// P(W_q ≤ t) = 1 − C·e^{−(cμ−λ)t}: an atom of 1 − C at zero, then an exponential.
    pub fn wq_cdf(&self, t: f64) -> f64 {
        if t < 0.0 {
            return 0.0;
        }
        1.0 - self.wait_probability() * (-self.drain() * t).exp()
    }

    /// The p-quantile of the wait: 0 when at least p of arrivals do not wait.
    pub fn wq_quantile(&self, p: f64) -> f64 {
        if !self.stable() {
            return f64::INFINITY;
        }
        let c = self.wait_probability();
        if c <= 1.0 - p {
            return 0.0;
        }
        (c / (1.0 - p)).ln() / self.drain()
    }
}

/// Mean waits of the classes of a non-preemptive priority M/M/c queue with one service rate for
/// all (Cobham): class k (0 = served first) arriving at `shares[k]`·λ waits
/// W_k = (C/(cμ)) / ((1 − σ_{k−1})(1 − σ_k)), σ_k the load of classes 0..=k. With one class this
/// is Erlang C's W_q; weighted by arrival rates the classes' waits add up to FCFS's
/// (Kleinrock's conservation law).
pub fn priority_waits(q: &Mmc, shares: &[f64]) -> Vec<f64> {
    let c_mu = f64::from(q.servers) * q.mu;
    let w0 = q.wait_probability() / c_mu;
    let mut sigma = 0.0;
    shares
        .iter()
        .map(|share| {
            let before = sigma;
            sigma += share * q.lambda / c_mu;
            w0 / ((1.0 - before) * (1.0 - sigma))
        })
        .collect()
}

/// Allen–Cunneen: the mean wait of a G/G/c queue, approximately W_q(M/M/c) · (c_a² + c_s²) / 2,
/// with c_a and c_s the coefficients of variation of interarrival and service times.
pub fn allen_cunneen_wq(q: &Mmc, ca2: f64, cs2: f64) -> f64 {
    q.wq_mean() * (ca2 + cs2) / 2.0
}

/// P(N ≤ k) for a Poisson law with mean `m`.
pub fn poisson_cdf(m: f64, k: u64) -> f64 {
    if m <= 0.0 {
        return 1.0;
    }
    let mut log_term = -m;
    let mut cdf = log_term.exp();
    for j in 1..=k {
        log_term += m.ln() - (j as f64).ln();
        cdf += log_term.exp();
    }
    cdf.min(1.0)
}

/// The p-quantile of a Poisson law with mean `m`: how many are present in an M/G/∞ system
/// (observation seats: arrivals at rate λ each staying a mean of s, m = λ·s) at least a share
/// p of the time.
pub fn poisson_quantile(m: f64, p: f64) -> u64 {
    if m <= 0.0 {
        return 0;
    }
    // Sum the probabilities in log space, so that large means do not underflow e^{−m}.
    let mut k = 0u64;
    let mut log_term = -m;
    let mut cdf = log_term.exp();
    while cdf < p && k < 10_000_000 {
        k += 1;
        log_term += m.ln() - (k as f64).ln();
        cdf += log_term.exp();
    }
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn erlang_c_and_the_mean_wait_match_known_values() {
        // M/M/2, λ = 1.8, μ = 1: C = 0.85263, W_q = 4.26316.
        let q = Mmc {
            servers: 2,
            lambda: 1.8,
            mu: 1.0,
        };
        assert!(
            close(q.wait_probability(), 0.85263, 5e-5),
            "{}",
            q.wait_probability()
        );
        assert!(close(q.wq_mean(), 4.26316, 5e-5), "{}", q.wq_mean());
        // M/M/10 offered 9 erlangs: C = 0.66873.
        assert!(close(erlang_c(10, 9.0), 0.66873, 5e-5));
        // M/M/1: W_q = ρ/(μ − λ); λ = 0.9, μ = 1 → 9.
        let m1 = Mmc {
            servers: 1,
            lambda: 0.9,
            mu: 1.0,
        };
        assert!(close(m1.wq_mean(), 9.0, 1e-9));
        // Erlang B, one server: a/(1+a).
        assert!(close(erlang_b(1, 3.0), 0.75, 1e-12));
    }

    #[test]
    fn the_wait_law_has_an_atom_at_zero_and_an_exponential_tail() {
        let q = Mmc {
            servers: 4,
            lambda: 3.2,
            mu: 1.0,
        };
        let c = q.wait_probability();
        assert!(close(q.wq_cdf(0.0), 1.0 - c, 1e-12));
        let p95 = q.wq_quantile(0.95);
        assert!(close(q.wq_cdf(p95), 0.95, 1e-9));
        // When most people never wait, the median wait is zero.
        let light = Mmc {
            servers: 10,
            lambda: 2.0,
            mu: 1.0,
        };
        assert_eq!(light.wq_quantile(0.5), 0.0);
        assert!(
            Mmc {
                servers: 1,
                lambda: 1.0,
                mu: 1.0
            }
            .wq_mean()
            .is_infinite()
        );
    }

    #[test]
    fn priority_waits_reduce_to_erlang_c_and_conserve_work() {
        let q = Mmc {
            servers: 4,
            lambda: 3.6,
            mu: 1.0,
        };
        let one = priority_waits(&q, &[1.0]);
        assert!(close(one[0], q.wq_mean(), 1e-12));
        let two = priority_waits(&q, &[0.1, 0.9]);
        assert!(two[0] < q.wq_mean() && two[1] > q.wq_mean());
        assert!(close(0.1 * two[0] + 0.9 * two[1], q.wq_mean(), 1e-12));
    }

    #[test]
    fn allen_cunneen_halves_the_wait_for_constant_service() {
        let q = Mmc {
            servers: 3,
            lambda: 2.4,
            mu: 1.0,
        };
        assert!(close(allen_cunneen_wq(&q, 1.0, 1.0), q.wq_mean(), 1e-12));
        assert!(close(
            allen_cunneen_wq(&q, 1.0, 0.0),
            q.wq_mean() / 2.0,
            1e-12
        ));
    }

    #[test]
    fn poisson_quantiles_bound_the_seats_needed() {
        assert_eq!(poisson_quantile(0.0, 0.99), 0);
        // Mean 1: P(0) = 0.368, P(≤1) = 0.736, P(≤2) = 0.920, P(≤3) = 0.981.
        assert_eq!(poisson_quantile(1.0, 0.95), 3);
        // A large mean: about m + 2.33·√m at 0.99.
        let k = poisson_quantile(900.0, 0.99) as f64;
        assert!((960.0..=975.0).contains(&k), "{k}");
    }
}
