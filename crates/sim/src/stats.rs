//! Statistics for simulated samples: percentiles, batch-means confidence intervals (successive
//! waits are correlated, so their plain standard error would flatter the run), and the
//! Kolmogorov–Smirnov distance to a law.

/// The p-quantile of a sample (nearest rank on the sorted sample); 0 for an empty one.
pub fn quantile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

/// Student's t at 0.975 for `df` degrees of freedom (a table for small df, then 1.96).
pub fn t975(df: usize) -> f64 {
    const T: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::INFINITY,
        d if d <= 30 => T[d - 1],
        d if d <= 60 => 2.000,
        _ => 1.96,
    }
}

/// The mean of a sample and the half-width of its 95% confidence interval by batch means:
/// `batches` consecutive batches of equal size, their means treated as independent.
pub fn batch_means(sample: &[f64], batches: usize) -> (f64, f64) {
    let n = sample.len();
    if n == 0 {
        return (0.0, 0.0);
    }
    let mean = sample.iter().sum::<f64>() / n as f64;
    let size = n / batches.max(1);
    if batches < 2 || size == 0 {
        return (mean, 0.0);
    }
    let means: Vec<f64> = (0..batches)
        .map(|b| sample[b * size..(b + 1) * size].iter().sum::<f64>() / size as f64)
        .collect();
    let m = means.iter().sum::<f64>() / batches as f64;
    let var = means.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (batches - 1) as f64;
    (mean, t975(batches - 1) * (var / batches as f64).sqrt())
}

/// The mean and the 95% half-width across independent replications' (or batches') figures.
pub fn across(figures: &[f64]) -> (f64, f64) {
    let (mean, se, n) = mean_se(figures);
    if n < 2 {
        return (mean, 0.0);
    }
    (mean, t975(n - 1) * se)
}

/// As [`across`], at another confidence level (0.99, say, or 1 − 0.05/k for k intervals that
/// must hold together).
pub fn across_at(figures: &[f64], level: f64) -> (f64, f64) {
    let (mean, se, n) = mean_se(figures);
    if n < 2 {
        return (mean, 0.0);
    }
    (mean, t_quantile(0.5 + level / 2.0, n - 1) * se)
}

/// The mean of independent figures and its standard error.
pub fn mean_and_se(figures: &[f64]) -> (f64, f64) {
    let (mean, se, _) = mean_se(figures);
    (mean, se)
}

fn mean_se(figures: &[f64]) -> (f64, f64, usize) {
    let n = figures.len();
    if n == 0 {
        return (0.0, 0.0, 0);
    }
    let mean = figures.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return (mean, 0.0, n);
    }
    let var = figures.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1) as f64;
    (mean, (var / n as f64).sqrt(), n)
}

/// The standard normal p-quantile (Acklam's rational approximation, relative error < 1.2e-9).
pub fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.38357751867269e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 5] = [
        -5.447609879822406e1,
        1.615858368580409e2,
        -1.556989798598866e2,
        6.680131188771972e1,
        -1.328068155288572e1,
    ];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [
        7.784695709041462e-3,
        3.224671290700398e-1,
        2.445134137142996,
        3.754408661907416,
    ];
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    if p < 0.02425 {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - 0.02425 {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

/// Student's t p-quantile for `df` degrees of freedom, by the Cornish–Fisher expansion about
/// the normal quantile (good to about 0.5% for df ≥ 10 at the usual levels).
pub fn t_quantile(p: f64, df: usize) -> f64 {
    let z = normal_quantile(p);
    let v = df.max(1) as f64;
    let (z3, z5, z7) = (z.powi(3), z.powi(5), z.powi(7));
    z + (z3 + z) / (4.0 * v)
        + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * v * v)
        + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * v * v * v)
}

/// The Kolmogorov–Smirnov distance sup |Fₙ − F| between a sample and a law `cdf`, which may
/// have atoms (the empirical law is compared on both sides of every jump).
pub fn ks_distance(sample: &[f64], cdf: impl Fn(f64) -> f64) -> f64 {
    let mut sorted = sample.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len() as f64;
    let mut d: f64 = 0.0;
    let mut i = 0;
    while i < sorted.len() {
        let x = sorted[i];
        let mut j = i;
        while j < sorted.len() && sorted[j] == x {
            j += 1;
        }
        let below = i as f64 / n;
        let upto = j as f64 / n;
        // Both laws jump at x: compare them just after (Fₙ(x), F(x)) and just before
        // (Fₙ(x−), F(x−)), F(x−) read a hair to the left, which sees an atom at x.
        let before = cdf(x - 1e-12 * x.abs().max(1.0));
        d = d.max((upto - cdf(x)).abs()).max((below - before).abs());
        i = j;
    }
    d
}

/// The KS critical distance at the 5% level for a sample of `n` (large-sample form).
pub fn ks_critical_05(n: usize) -> f64 {
    ks_critical(n, 0.05)
}

/// The KS critical distance at level `alpha` for a sample of `n`: √(−ln(α/2)/2) / √n.
pub fn ks_critical(n: usize, alpha: f64) -> f64 {
    (-(alpha / 2.0).ln() / 2.0).sqrt() / (n as f64).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_and_intervals() {
        let s: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&s, 0.95), 95.0);
        assert_eq!(quantile(&s, 1.0), 100.0);
        let (m, h) = batch_means(&s, 10);
        assert_eq!(m, 50.5);
        assert!(h > 0.0);
        assert_eq!(across(&[2.0, 2.0, 2.0]), (2.0, 0.0));
    }

    #[test]
    fn quantiles_of_the_normal_and_t_laws() {
        assert!((normal_quantile(0.975) - 1.959964).abs() < 1e-6);
        assert!((normal_quantile(0.005) + 2.575829).abs() < 1e-6);
        assert!((t_quantile(0.975, 19) - 2.093).abs() < 0.005);
        assert!((t_quantile(0.995, 19) - 2.861).abs() < 0.015);
        assert!((ks_critical_05(10_000) - 0.01358).abs() < 1e-4);
    }

    #[test]
    fn ks_tells_a_uniform_sample_from_a_shifted_one() {
        let s: Vec<f64> = (0..1000).map(|i| (f64::from(i) + 0.5) / 1000.0).collect();
        let uniform = |x: f64| x.clamp(0.0, 1.0);
        assert!(ks_distance(&s, uniform) < ks_critical_05(s.len()));
        let shifted = |x: f64| (x - 0.1).clamp(0.0, 1.0);
        assert!(ks_distance(&s, shifted) > ks_critical_05(s.len()));
    }
}
