//! Order statistics of timing samples: median, quartiles, minimum, maximum.
//!
//! Quantiles interpolate linearly between order statistics (numpy's default, "type 7"): the
//! `p`-quantile of sorted `x₀ ≤ … ≤ x_{n-1}` is `x_⌊h⌋ + (h − ⌊h⌋)(x_{⌊h⌋+1} − x_⌊h⌋)` with
//! `h = (n − 1) p`.

use serde::{Deserialize, Serialize};

/// Summary of a set of samples (seconds per call).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Number of samples.
    pub samples: usize,
    /// Median.
    pub median: f64,
    /// Smallest sample.
    pub min: f64,
    /// Largest sample.
    pub max: f64,
    /// First quartile (25th percentile).
    pub q1: f64,
    /// Third quartile (75th percentile).
    pub q3: f64,
}

impl Summary {
    /// The summary of `samples`; `None` when there is no finite sample (non-finite ones are
    /// ignored).
    pub fn of(samples: &[f64]) -> Option<Summary> {
        let mut x: Vec<f64> = samples.iter().copied().filter(|v| v.is_finite()).collect();
        if x.is_empty() {
            return None;
        }
        x.sort_by(f64::total_cmp);
        Some(Summary {
            samples: x.len(),
            median: quantile_sorted(&x, 0.5),
            min: x[0],
            max: x[x.len() - 1],
            q1: quantile_sorted(&x, 0.25),
            q3: quantile_sorted(&x, 0.75),
        })
    }

    /// Interquartile range `q3 − q1`.
    pub fn iqr(&self) -> f64 {
        self.q3 - self.q1
    }

    /// Interquartile range relative to the median (`0.02` = the middle half of the samples
    /// spans 2 % of the median). `0` when the median is `0`.
    pub fn relative_iqr(&self) -> f64 {
        if self.median > 0.0 {
            self.iqr() / self.median
        } else {
            0.0
        }
    }
}

/// The `p`-quantile (`0 ≤ p ≤ 1`) of non-empty sorted samples, interpolated linearly.
pub fn quantile_sorted(sorted: &[f64], p: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        1 => sorted[0],
        n => {
            let h = (n - 1) as f64 * p.clamp(0.0, 1.0);
            let lo = h.floor() as usize;
            let hi = (lo + 1).min(n - 1);
            sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quartiles_interpolate_like_numpy() {
        // numpy.percentile([1, 2, 3, 4], [25, 50, 75]) == [1.75, 2.5, 3.25]
        let s = Summary::of(&[4.0, 1.0, 3.0, 2.0]).unwrap();
        assert_eq!((s.q1, s.median, s.q3), (1.75, 2.5, 3.25));
        assert_eq!((s.min, s.max, s.samples), (1.0, 4.0, 4));
        assert_eq!(s.iqr(), 1.5);
        assert_eq!(s.relative_iqr(), 0.6);
        // Odd count: the median is the middle sample.
        let s = Summary::of(&[5.0, 1.0, 100.0]).unwrap();
        assert_eq!((s.median, s.q1, s.q3), (5.0, 3.0, 52.5));
    }

    #[test]
    fn degenerate_inputs() {
        assert!(Summary::of(&[]).is_none());
        assert!(Summary::of(&[f64::NAN]).is_none());
        let s = Summary::of(&[2.0, f64::NAN]).unwrap();
        assert_eq!((s.samples, s.median, s.iqr()), (1, 2.0, 0.0));
        let z = Summary::of(&[0.0, 0.0]).unwrap();
        assert_eq!(z.relative_iqr(), 0.0);
    }
}
