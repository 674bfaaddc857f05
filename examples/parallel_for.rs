//! Parallelising a for loop, joblib style: the same work serially and with `n_jobs` workers.
//!
//! Python: `Parallel(n_jobs=-1)(delayed(slogdet)(a) for a in matrices)`.
//! Run: `cargo run --release --example parallel_for`

use std::time::Instant;

use ndarray::Array2;
use parla::{Error, Parallel};

fn matrix(seed: usize, n: usize) -> Array2<f64> {
    Array2::from_shape_fn((n, n), |(i, j)| {
        let x = (i * 31 + j * 17 + seed * 7) % 101;
        x as f64 / 101.0 + if i == j { n as f64 } else { 0.0 }
    })
}

fn main() -> Result<(), Error> {
    let matrices: Vec<Array2<f64>> = (0..400).map(|s| matrix(s, 96)).collect();

    let t = Instant::now();
    let serial: Vec<(f64, f64)> = matrices
        .iter()
        .map(parla::slogdet)
        .collect::<Result<_, _>>()?;
    let t_serial = t.elapsed();

    for n_jobs in [1, 2, -1] {
        let p = Parallel::new(n_jobs)?;
        let t = Instant::now();
        // Each task calls parla; inside a worker OpenBLAS runs single-threaded, so
        // n_jobs workers use n_jobs cores, not n_jobs × cores threads.
        let parallel = p.try_map(&matrices, parla::slogdet)?;
        let dt = t.elapsed();
        assert_eq!(parallel.len(), serial.len());
        let worst = serial
            .iter()
            .zip(&parallel)
            .map(|(a, b)| (a.1 - b.1).abs() / a.1.abs())
            .fold(0.0f64, f64::max);
        println!(
            "n_jobs = {n_jobs:>2} ({} workers): {:7.1} ms   serial loop: {:7.1} ms   speedup {:.2}x   max rel. diff {worst:.1e}",
            p.n_jobs(),
            dt.as_secs_f64() * 1e3,
            t_serial.as_secs_f64() * 1e3,
            t_serial.as_secs_f64() / dt.as_secs_f64()
        );
    }
    Ok(())
}
