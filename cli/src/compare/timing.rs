//! Timing one cell: a warm-up, then timed repeats until both a minimum time and a minimum
//! count are reached.
//!
//! Calls shorter than [`MIN_SAMPLE_SECONDS`] are timed in batches (a sample is the mean of a
//! batch of back-to-back calls), so the clock's own cost and resolution stay below 1 % of a
//! sample.

use std::time::Instant;

use serde::{Deserialize, Serialize};

use parla::Result;

/// Shortest sample worth timing on its own (20 µs: `Instant::now` costs ~25 ns).
pub const MIN_SAMPLE_SECONDS: f64 = 20e-6;

/// How long and how often to time a cell.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    /// Warm-up: untimed calls until this many seconds have passed (at least one call, the
    /// checked one, always runs before).
    pub warmup_seconds: f64,
    /// Timed repeats continue until at least this many seconds of samples...
    pub min_seconds: f64,
    /// ...and at least this many samples.
    pub min_repeats: usize,
    /// Never more samples than this.
    pub max_repeats: usize,
}

impl Timing {
    /// The default preset: 0.1 s warm-up, at least 0.4 s and 7 samples per cell (the whole
    /// default grid takes about 3 minutes on 2 cores).
    pub const DEFAULT: Timing = Timing {
        warmup_seconds: 0.1,
        min_seconds: 0.4,
        min_repeats: 7,
        max_repeats: 100_000,
    };

    /// The `--quick` preset: 20 ms warm-up, at least 50 ms and 3 samples per cell.
    pub const QUICK: Timing = Timing {
        warmup_seconds: 0.02,
        min_seconds: 0.05,
        min_repeats: 3,
        max_repeats: 100_000,
    };
}

/// The samples of one cell.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// Seconds per call, one entry per sample.
    pub samples: Vec<f64>,
    /// Calls per sample.
    pub batch: usize,
}

/// Calls per sample so that a sample lasts at least [`MIN_SAMPLE_SECONDS`], given an estimate
/// of one call's time.
pub fn batch_for(call_seconds: f64) -> usize {
    if call_seconds >= MIN_SAMPLE_SECONDS {
        1
    } else if call_seconds > 0.0 {
        (MIN_SAMPLE_SECONDS / call_seconds).ceil().min(1e6) as usize
    } else {
        1000
    }
}

/// Warms up then times `call`. `first_call` is the duration of a call already made (the
/// checked one), used to size the warm-up and the batches.
///
/// # Errors
/// The first error `call` returns.
pub fn measure(
    timing: &Timing,
    first_call: f64,
    mut call: impl FnMut() -> Result<()>,
) -> Result<Measurement> {
    // Warm-up: caches, pools, page faults, OpenBLAS's buffers.
    let start = Instant::now();
    let mut calls = 0usize;
    while start.elapsed().as_secs_f64() < timing.warmup_seconds {
        call()?;
        calls += 1;
    }
    let estimate = if calls > 0 {
        start.elapsed().as_secs_f64() / calls as f64
    } else {
        first_call
    };
    let batch = batch_for(estimate);
    let mut samples = Vec::new();
    let mut total = 0.0;
    while (samples.len() < timing.min_repeats.max(1) || total < timing.min_seconds)
        && samples.len() < timing.max_repeats.max(1)
    {
        let t = Instant::now();
        for _ in 0..batch {
            call()?;
        }
        let dt = t.elapsed().as_secs_f64();
        total += dt;
        samples.push(dt / batch as f64);
    }
    Ok(Measurement { samples, batch })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_make_samples_long_enough() {
        assert_eq!(batch_for(1.0), 1);
        assert_eq!(batch_for(MIN_SAMPLE_SECONDS), 1);
        assert_eq!(batch_for(MIN_SAMPLE_SECONDS / 4.0), 4);
        assert_eq!(batch_for(0.0), 1000);
    }

    #[test]
    fn repeats_reach_both_minimums() {
        let t = Timing {
            warmup_seconds: 0.0,
            min_seconds: 0.0,
            min_repeats: 7,
            max_repeats: 100,
        };
        let mut n = 0;
        let m = measure(&t, 1.0, || {
            n += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!(m.samples.len(), 7);
        assert_eq!(n, 7 * m.batch);
        let t = Timing {
            min_seconds: 0.01,
            min_repeats: 1,
            ..t
        };
        let m = measure(&t, 1e-3, || {
            std::thread::sleep(std::time::Duration::from_millis(1));
            Ok(())
        })
        .unwrap();
        assert!(m.samples.len() >= 5 && m.samples.iter().sum::<f64>() >= 0.01);
        // The cap wins over the minimum time.
        let t = Timing {
            min_seconds: 10.0,
            max_repeats: 3,
            ..t
        };
        assert_eq!(measure(&t, 1.0, || Ok(())).unwrap().samples.len(), 3);
    }

    #[test]
    fn errors_stop_the_measurement() {
        let err = parla::Error::InvalidArgument {
            op: "t",
            name: "x",
            reason: "boom".into(),
        };
        let r = measure(&Timing::QUICK, 1.0, || Err(err.clone()));
        assert_eq!(r.unwrap_err(), err);
    }
}
