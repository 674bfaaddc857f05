//! DGEMM on `blas` (OpenBLAS's threads) and `rayon-blas` (parla's panels on rayon, 1-thread
//! OpenBLAS each) with the same thread budget, timed *interleaved* (blas, rayon-blas, blas, …)
//! so that noise from a shared machine hits both alike; reports medians and the speed ratio.
//!
//! Run: `cargo run --release --example gemm_engines` (about 15 s on 2 cores).

use std::time::Instant;

use ndarray::Array2;
use parla::{Engine, Error, Exec};

fn main() -> Result<(), Error> {
    let threads = parla::threads::usable_cores();
    for n in [1024usize, 2048] {
        let a = Array2::from_shape_fn((n, n), |(i, j)| {
            (((i * 31 + j * 17) % 97) as f64 - 48.0) / 48.0
        });
        let b = Array2::from_shape_fn((n, n), |(i, j)| {
            (((i * 13 + j * 7) % 89) as f64 - 44.0) / 44.0
        });
        let engines = [
            Exec::new(Engine::Blas, threads)?,
            Exec::new(Engine::RayonBlas, threads)?,
        ];
        let reps = if n <= 1024 { 40 } else { 12 };
        let mut times = [Vec::new(), Vec::new()];
        for e in &engines {
            e.matmul(&a, &b)?; // warm-up
        }
        for _ in 0..reps {
            for (e, t) in engines.iter().zip(times.iter_mut()) {
                let start = Instant::now();
                std::hint::black_box(e.matmul(&a, &b)?);
                t.push(start.elapsed().as_secs_f64());
            }
        }
        let median = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let (tb, tr) = (median(&mut times[0]), median(&mut times[1]));
        let gflops = |t: f64| 2.0 * (n as f64).powi(3) / t / 1e9;
        println!(
            "n = {n}, {threads} threads: blas {:.2} ms ({:.1} GFLOP/s), rayon-blas {:.2} ms ({:.1} GFLOP/s); rayon-blas / blas speed = {:.3}",
            tb * 1e3,
            gflops(tb),
            tr * 1e3,
            gflops(tr),
            tb / tr
        );
    }
    Ok(())
}
