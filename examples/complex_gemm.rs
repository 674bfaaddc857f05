//! Complex GEMM (`c64`) on the three engines with the same thread budget, timed interleaved
//! (blas, rayon-blas, rayon, blas, …): OpenBLAS's `zgemm` against the rayon engines' 4M
//! formulation (one real GEMM of twice the size on the engine's own kernels, see
//! `parallel/gemm/complex.rs`). Prints medians, GFLOP/s (`8n³` real flops), each engine's speed
//! relative to `blas`, the largest difference from the `blas` result, and /proc/loadavg.
//!
//! Run: `cargo run --release --example complex_gemm -- [threads] [n ...]`
//! (default: all usable cores, n = 1024).

use std::time::Instant;

use ndarray::Array2;
use parla::{c64, Engine, Error, Exec};

fn main() -> Result<(), Error> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let threads = match args.first() {
        Some(&t) => t,
        None => parla::num_threads()?,
    };
    let sizes = if args.len() > 1 {
        args[1..].to_vec()
    } else {
        vec![1024]
    };
    println!(
        "{:>6} {:>7}  {:<10} {:>10} {:>9} {:>13} {:>14}",
        "n", "threads", "engine", "median ms", "GFLOP/s", "speed vs blas", "max|Δ| vs blas"
    );
    for n in sizes {
        let a = Array2::from_shape_fn((n, n), |(i, j)| {
            c64::new(
                (((i * 31 + j * 17) % 97) as f64 - 48.0) / 48.0,
                (((i * 7 + j * 3) % 83) as f64 - 41.0) / 41.0,
            )
        });
        let b = Array2::from_shape_fn((n, n), |(i, j)| {
            c64::new(
                (((i * 13 + j * 7) % 89) as f64 - 44.0) / 44.0,
                (((i * 5 + j * 11) % 79) as f64 - 39.0) / 39.0,
            )
        });
        let engines = [Engine::Blas, Engine::RayonBlas, Engine::Rayon]
            .map(|e| Exec::new(e, threads))
            .into_iter()
            .collect::<Result<Vec<_>, _>>()?;
        let flops = 8.0 * (n as f64).powi(3);
        let reps = ((4e10 / flops) as usize).clamp(5, 100);
        let reference = engines[0].matmul(&a, &b)?;
        let mut diffs = Vec::new();
        for e in &engines {
            let c = e.matmul(&a, &b)?;
            diffs.push(
                (&c - &reference)
                    .iter()
                    .fold(0.0f64, |m, v| m.max(v.norm())),
            );
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
        for ((e, m), d) in engines.iter().zip(&medians).zip(&diffs) {
            println!(
                "{n:>6} {threads:>7}  {:<10} {:>10.2} {:>9.1} {:>12.2}x {:>14.2e}",
                e.engine().to_string(),
                m * 1e3,
                flops / m / 1e9,
                medians[0] / m,
                d
            );
        }
        // The real product the 4M formulation runs (m × 2k times 2k × 2n), alone: the rest of
        // the rayon rows' time is splitting the operands and combining the result.
        let (a2, b2) = (
            Array2::<f64>::ones((n, 2 * n)),
            Array2::<f64>::ones((2 * n, 2 * n)),
        );
        let rayon = &engines[2];
        let mut t = Vec::new();
        for _ in 0..reps.min(10) {
            let start = Instant::now();
            std::hint::black_box(rayon.matmul(&a2, &b2)?);
            t.push(start.elapsed().as_secs_f64());
        }
        t.sort_by(f64::total_cmp);
        println!(
            "{n:>6} {threads:>7}  {:<10} {:>10.2} {:>9.1}   (its real GEMM alone)",
            "rayon f64",
            t[t.len() / 2] * 1e3,
            flops / t[t.len() / 2] / 1e9
        );
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("loadavg: {}", load.trim());
    Ok(())
}
