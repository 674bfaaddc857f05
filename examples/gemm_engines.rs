//! GEMM on the three engines with the same thread budget, timed *interleaved* (blas,
//! rayon-blas, rayon, blas, …) so that noise from a shared machine hits all alike; prints
//! medians, GFLOP/s and each engine's speed relative to `blas`, plus the largest difference from
//! the `blas` result.
//!
//! Run: `cargo run --release --example gemm_engines -- [f64|f32] [threads] [n ...]`
//! (default: f64, all usable cores, n = 1024 2048; about 20 s on 2 cores).

use std::time::Instant;

use ndarray::Array2;
use parla::{Engine, Error, Exec, Scalar};

fn run<T: Scalar>(threads: usize, sizes: &[usize]) -> Result<(), Error> {
    println!(
        "{:<8} {:>6} {:>7}  {:<10} {:>10} {:>9} {:>13} {:>14}",
        "dtype",
        "n",
        "threads",
        "engine",
        "median ms",
        "GFLOP/s",
        "speed vs blas",
        "max|Δ| vs blas"
    );
    for &n in sizes {
        let a = Array2::from_shape_fn((n, n), |(i, j)| {
            T::of((((i * 31 + j * 17) % 97) as f64 - 48.0) / 48.0)
        });
        let b = Array2::from_shape_fn((n, n), |(i, j)| {
            T::of((((i * 13 + j * 7) % 89) as f64 - 44.0) / 44.0)
        });
        let engines = [Engine::Blas, Engine::RayonBlas, Engine::Rayon]
            .map(|e| Exec::new(e, threads))
            .into_iter()
            .collect::<Result<Vec<_>, _>>()?;
        let flops = 2.0 * (n as f64).powi(3);
        let reps = ((2e10 / flops) as usize).clamp(5, 200);
        let reference = engines[0].matmul(&a, &b)?;
        let mut diffs = Vec::new();
        for e in &engines {
            let c = e.matmul(&a, &b)?; // warm-up and check
            let d = (&c - &reference)
                .iter()
                .fold(0.0f64, |m, v| m.max(v.as_f64().abs()));
            diffs.push(d);
        }
        let mut times = vec![Vec::new(); engines.len()];
        for _ in 0..reps {
            for (e, t) in engines.iter().zip(times.iter_mut()) {
                let start = Instant::now();
                std::hint::black_box(e.matmul(&a, &b)?);
                t.push(start.elapsed().as_secs_f64());
            }
        }
        let medians: Vec<f64> = times
            .iter_mut()
            .map(|v| {
                v.sort_by(f64::total_cmp);
                v[v.len() / 2]
            })
            .collect();
        for ((e, t), d) in engines.iter().zip(&medians).zip(&diffs) {
            println!(
                "{:<8} {n:>6} {threads:>7}  {:<10} {:>10.3} {:>9.1} {:>13.3} {:>14.1e}",
                T::DTYPE,
                e.engine().name(),
                t * 1e3,
                flops / t / 1e9,
                medians[0] / t,
                d
            );
        }
    }
    Ok(())
}

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dtype = args.first().cloned().unwrap_or_else(|| "f64".into());
    let threads = args
        .get(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(parla::threads::usable_cores);
    let mut sizes: Vec<usize> = args.iter().skip(2).filter_map(|s| s.parse().ok()).collect();
    if sizes.is_empty() {
        sizes = vec![1024, 2048];
    }
    match dtype.as_str() {
        "f32" => run::<f32>(threads, &sizes),
        _ => run::<f64>(threads, &sizes),
    }
}
