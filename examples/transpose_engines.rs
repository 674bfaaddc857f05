//! `transpose` (a new C-order array holding `Aᵀ`) on every engine at 1 and 2 threads, timed
//! interleaved so noise hits all candidates alike; prints the median time and each
//! candidate's time relative to `blas` at the same thread count.
//!
//! Run: `cargo run --release --example transpose_engines -- [n ...]` (default n = 256 1024
//! 2048; f64).

use std::time::Instant;

use ndarray::Array2;
use parla::{Engine, Error, Exec};

fn main() -> Result<(), Error> {
    let mut sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|s| s.parse().ok())
        .collect();
    if sizes.is_empty() {
        sizes = vec![256, 1024, 2048];
    }
    println!(
        "{:>6} {:>7}  {:<10} {:>10} {:>9}",
        "n", "threads", "engine", "median ms", "/ blas"
    );
    for &n in &sizes {
        let a = Array2::from_shape_fn((n, n), |(i, j)| (i * n + j) as f64);
        let mut execs = Vec::new();
        for t in [1, 2] {
            for e in [Engine::Blas, Engine::RayonBlas, Engine::Rayon, Engine::Auto] {
                execs.push(Exec::new(e, t)?);
            }
        }
        for e in &execs {
            assert_eq!(e.transpose(&a)?, a.t());
        }
        let reps = (2e8 / (n * n) as f64).clamp(9.0, 401.0) as usize;
        let mut times = vec![Vec::new(); execs.len()];
        for _ in 0..reps {
            for (e, t) in execs.iter().zip(times.iter_mut()) {
                let start = Instant::now();
                std::hint::black_box(e.transpose(&a)?);
                t.push(start.elapsed().as_secs_f64());
            }
        }
        let med: Vec<f64> = times
            .iter_mut()
            .map(|v| {
                v.sort_by(f64::total_cmp);
                v[v.len() / 2]
            })
            .collect();
        for (i, e) in execs.iter().enumerate() {
            let blas = med[i / 4 * 4];
            println!(
                "{n:>6} {:>7}  {:<10} {:>10.3} {:>9.2}",
                e.threads(),
                e.engine().name(),
                med[i] * 1e3,
                med[i] / blas
            );
        }
    }
    Ok(())
}
