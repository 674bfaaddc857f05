//! Factorizations on the three engines with the same thread budget, timed interleaved (blas,
//! rayon-blas, rayon, blas, …) so noise hits all alike; prints medians and each engine's speed
//! relative to `blas` (OpenBLAS's own LAPACK with its threads). Engines that do not implement an
//! operation are shown as such.
//!
//! Run: `cargo run --release --example factor_engines -- [threads] [n ...]`
//! (default: all usable cores, n = 1024 2048).

use std::time::Instant;

use ndarray::Array2;
use parla::{Diag, Engine, Error, Exec, Trans, Uplo};

type Op = (&'static str, Box<dyn Fn(&Exec) -> Result<(), Error>>);

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let threads = args
        .first()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(parla::threads::usable_cores);
    let mut sizes: Vec<usize> = args.iter().skip(1).filter_map(|s| s.parse().ok()).collect();
    if sizes.is_empty() {
        sizes = vec![1024, 2048];
    }
    println!(
        "{:<16} {:>6} {:>7}  {:<10} {:>10}  {:>13}",
        "operation", "n", "threads", "engine", "median ms", "speed vs blas"
    );
    for n in sizes {
        let g = Array2::from_shape_fn((n, n), |(i, j)| {
            (((i * 37 + j * 11) % 101) as f64 - 50.0) / 50.0
        });
        // Symmetric positive definite: G Gᵀ/n + I.
        let mut spd = Exec::blas(threads)?.matmul(&g, &g.t())? / n as f64;
        spd.diag_mut().iter_mut().for_each(|d| *d += 1.0);
        let l = Exec::blas(threads)?.cholesky(&spd)?;
        let rhs = g.clone();
        let ops: Vec<Op> = vec![
            (
                "cholesky",
                Box::new({
                    let spd = spd.clone();
                    move |e: &Exec| e.cholesky(&spd).map(drop)
                }),
            ),
            (
                "solve_triangular",
                Box::new(move |e: &Exec| {
                    e.solve_triangular(&l, &rhs, Uplo::Lower, Trans::No, Diag::NonUnit)
                        .map(drop)
                }),
            ),
            (
                "solve",
                Box::new({
                    let b = g.clone();
                    move |e: &Exec| e.solve(&spd, &b).map(drop)
                }),
            ),
        ];
        let engines = [Engine::Blas, Engine::RayonBlas, Engine::Rayon]
            .map(|e| Exec::new(e, threads))
            .into_iter()
            .collect::<Result<Vec<_>, _>>()?;
        for (name, op) in &ops {
            let live: Vec<&Exec> = engines.iter().filter(|e| op(e).is_ok()).collect();
            let reps = if n <= 1024 { 15 } else { 5 };
            let mut times = vec![Vec::new(); live.len()];
            for _ in 0..reps {
                for (e, t) in live.iter().zip(times.iter_mut()) {
                    let start = Instant::now();
                    op(e)?;
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
            let base = med.first().copied().unwrap_or(f64::NAN);
            for e in &engines {
                match live.iter().position(|l| l.engine() == e.engine()) {
                    Some(i) => println!(
                        "{name:<16} {n:>6} {threads:>7}  {:<10} {:>10.3}  {:>13.2}",
                        e.engine().name(),
                        med[i] * 1e3,
                        base / med[i]
                    ),
                    None => println!(
                        "{name:<16} {n:>6} {threads:>7}  {:<10} {:>10}  {:>13}",
                        e.engine().name(),
                        "-",
                        "not implemented"
                    ),
                }
            }
        }
    }
    Ok(())
}
