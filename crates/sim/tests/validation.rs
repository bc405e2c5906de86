//! Validation of the simulator against queueing theory (`docs/formats/clinic-scenario.md`,
//! "Validation"): a simulated mean matches a formula when the formula's value lies inside the
//! batch-means confidence interval of the mean and the 95% interval's half-width is at most 2%
//! of the value; a simulated distribution matches a law when the Kolmogorov–Smirnov distance of
//! every k-th customer's wait (k ≥ 50) stays under the critical value.
//!
//! Each battery below makes nine such comparisons of each kind. A 95% interval misses the truth
//! one time in twenty by design, so nine of them at 95% would fail a correct simulator about one
//! run in three; the intervals here are simultaneous 95% ones (Bonferroni: each at 1 − 0.05/9),
//! so the battery as a whole is wrong at most one time in twenty. Runs are long enough that the
//! plain 95% half-width stays under 2% (longer as ρ approaches 1, as the spec asks). Run
//! optimised (the package's dev profile is opt-level 3): about 250 million customers in all.

use vaxloop_sim::formulas::Mmc;
use vaxloop_sim::mmc::simulate;
use vaxloop_sim::stats::{across_at, ks_critical, ks_distance};

/// Comparisons of each kind in the battery, for simultaneous intervals.
const COMPARISONS: f64 = 9.0;

/// Checks one M/M/c queue: the mean against Erlang C, and the whole waiting-time law on every
/// k-th wait, k = 50 / (1 − ρ) (100 at ρ = 0.5, 1,000 at 0.95): waits stay correlated longer as
/// the load grows.
fn check(q: Mmc, customers: u64, seed: u64) {
    let every = (50.0 / (1.0 - q.utilisation())).round() as u64;
    let run = simulate(&q, customers, seed);
    let exact = q.wq_mean();
    let (_, wide) = across_at(&run.batch_means, 1.0 - 0.05 / COMPARISONS);
    let (mean, half) = (run.wq_mean, run.wq_mean_ci95);
    eprintln!(
        "M/M/{} ρ={:.2}: simulated {mean:.5} ± {half:.5}, Erlang C {exact:.5} ({:.2}% half-width, {:.3}% off)",
        q.servers,
        q.utilisation(),
        100.0 * half / exact,
        100.0 * (mean - exact).abs() / exact,
    );
    assert!(
        (mean - exact).abs() <= wide,
        "M/M/{} at ρ {}: {exact} outside {mean} ± {wide}",
        q.servers,
        q.utilisation()
    );
    assert!(
        half <= 0.02 * exact,
        "M/M/{} at ρ {}: the interval ±{half} is wider than 2% of {exact}",
        q.servers,
        q.utilisation()
    );
    // Every `every`-th customer: the run's sample is every `sample_every`-th.
    let step = every.div_ceil(run.sample_every).max(1) as usize;
    let sample: Vec<f64> = run.sample.iter().step_by(step).copied().collect();
    let d = ks_distance(&sample, |t| q.wq_cdf(t));
    let critical = ks_critical(sample.len(), 0.05 / COMPARISONS);
    eprintln!(
        "  KS {d:.5} against {critical:.5} on {} waits",
        sample.len()
    );
    assert!(
        d < critical,
        "M/M/{} at ρ {}: KS {d} ≥ {critical}",
        q.servers,
        q.utilisation()
    );
}

#[test]
fn mm1_matches_the_formula_at_every_load() {
    for (rho, customers) in [
        (0.5, 2_000_000),
        (0.8, 8_000_000),
        (0.9, 32_000_000),
        (0.95, 96_000_000),
    ] {
        check(
            Mmc {
                servers: 1,
                lambda: rho,
                mu: 1.0,
            },
            customers,
            1,
        );
    }
}

#[test]
fn mmc_matches_erlang_c_at_every_load() {
    for (servers, rho, customers) in [
        (4, 0.5, 4_000_000),
        (4, 0.8, 8_000_000),
        (2, 0.9, 16_000_000),
        (10, 0.9, 16_000_000),
        (10, 0.95, 64_000_000),
    ] {
        let lambda = rho * f64::from(servers);
        check(
            Mmc {
                servers,
                lambda,
                mu: 1.0,
            },
            customers,
            1,
        );
    }
}

#[test]
fn priority_classes_match_cobham_and_conserve_the_work_weighted_wait() {
    // The green channel: a tenth of arrivals served first, at two loads.
    for (servers, rho, customers) in [(4, 0.8, 8_000_000u64), (10, 0.9, 16_000_000)] {
        let lambda = rho * f64::from(servers);
        let q = Mmc {
            servers,
            lambda,
            mu: 1.0,
        };
        let shares = [0.1, 0.9];
        let runs = vaxloop_sim::mmc::simulate_priority(&q, &shares, customers, 1);
        let exact = vaxloop_sim::formulas::priority_waits(&q, &shares);
        for (k, (run, w)) in runs.iter().zip(&exact).enumerate() {
            let (_, wide) = across_at(&run.batch_means, 1.0 - 0.05 / 4.0);
            eprintln!(
                "M/M/{servers} ρ={rho} class {k}: simulated {:.5} ± {:.5}, Cobham {w:.5}",
                run.wq_mean, run.wq_mean_ci95
            );
            assert!(
                (run.wq_mean - w).abs() <= wide,
                "class {k}: {w} outside {} ± {wide}",
                run.wq_mean
            );
            assert!(
                run.wq_mean_ci95 <= 0.02 * w,
                "class {k}: ±{} wider than 2% of {w}",
                run.wq_mean_ci95
            );
        }
        // Conservation: weighted by arrival shares, the classes' waits are FCFS's wait.
        let weighted: f64 = runs.iter().zip(&shares).map(|(r, s)| s * r.wq_mean).sum();
        let fcfs = q.wq_mean();
        eprintln!("  share-weighted {weighted:.5} against FCFS {fcfs:.5}");
        assert!(
            (weighted - fcfs).abs() <= 0.02 * fcfs,
            "{weighted} against {fcfs}"
        );
        assert!(
            runs[0].wq_mean < fcfs && runs[1].wq_mean > fcfs,
            "the green channel waits less"
        );
    }
}

#[test]
fn the_same_seed_gives_the_same_run_and_another_seed_another() {
    let q = Mmc {
        servers: 3,
        lambda: 2.4,
        mu: 1.0,
    };
    let a = simulate(&q, 50_000, 5);
    let b = simulate(&q, 50_000, 5);
    assert_eq!(a, b);
    assert_eq!(
        a.sample.iter().map(|w| w.to_bits()).collect::<Vec<_>>(),
        b.sample.iter().map(|w| w.to_bits()).collect::<Vec<_>>(),
        "bit for bit"
    );
    assert_ne!(a.sample, simulate(&q, 50_000, 6).sample);
}

#[test]
fn an_unlimited_delay_holds_a_poisson_number_and_keeps_littles_law() {
    use vaxloop_sim::delay::{Stay, simulate};
    use vaxloop_sim::formulas::poisson_cdf;
    // Observation: 4 arrivals a minute, each staying 15 or 30 minutes on average, however the
    // stay is spread (M/G/∞ is insensitive to it).
    for stay in [
        Stay::Deterministic(15.0),
        Stay::Exponential { mean: 15.0 },
        Stay::Lognormal {
            mean: 30.0,
            cv: 0.6,
        },
    ] {
        let lambda = 4.0;
        let run = simulate(lambda, stay, 2_000_000, 200.0, 1);
        let m = lambda * stay.mean();
        let mean = run.mean_occupancy();
        // The whole law: the time-average share at or below each count, against Poisson(m).
        let worst = (0..run.time_at.len())
            .map(|k| (run.occupancy_cdf(k) - poisson_cdf(m, k as u64)).abs())
            .fold(0.0, f64::max);
        // Little: L = λW, with λ and W as the run measured them.
        let rate = run.measured_arrivals as f64 / run.measured_time;
        let w = run.stay_sum / run.measured_arrivals as f64;
        eprintln!(
            "{stay:?}: mean {mean:.3} (Poisson {m}), largest CDF gap {worst:.4}, Little {:.4} against {:.4}, peak {}",
            mean,
            rate * w,
            run.peak
        );
        assert!(
            (mean - m).abs() <= 0.01 * m,
            "{stay:?}: mean {mean} against {m}"
        );
        assert!(
            worst <= 0.01,
            "{stay:?}: the occupancy law is {worst} from Poisson"
        );
        assert!(
            (mean - rate * w).abs() <= 0.005 * mean,
            "{stay:?}: Little's law {mean} against {}",
            rate * w
        );
    }
}
