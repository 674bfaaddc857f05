//! How long a 2-thread rayon GEMM takes right after the process ran on one core, call by
//! call: with the pool's workers pinned (the default when the pool covers the affinity mask)
//! and without (`PARLA_PIN_THREADS=off`). Unpinned, Linux may wake both workers on one CPU
//! and migrate one only tens of milliseconds later; meanwhile the calls take the 1-thread time.
//!
//! Run both and compare:
//! `cargo run --release --example pool_pinning -- [n]` and
//! `PARLA_PIN_THREADS=off cargo run --release --example pool_pinning -- [n]` (default n = 512).

use std::time::{Duration, Instant};

use ndarray::Array2;
use parla::{threads, Engine, Error, Exec};

fn main() -> Result<(), Error> {
    let n: usize = match std::env::args().nth(1) {
        Some(s) => s.parse().map_err(|_| Error::InvalidArgument {
            op: "pool_pinning",
            name: "n",
            reason: format!("not a size: {s}"),
        })?,
        None => 512,
    };
    let cores = threads::usable_cores();
    if cores < 2 {
        println!("one usable core: nothing to pin");
        return Ok(());
    }
    let a = Array2::from_shape_fn((n, n), |(i, j)| ((i * 31 + j * 17) % 97) as f64 / 97.0);
    let one = Exec::new(Engine::Rayon, 1)?;
    let all = Exec::new(Engine::Rayon, cores)?;
    let reference = Instant::now();
    all.matmul(&a, &a)?;
    let first = reference.elapsed();
    let pinned = threads::pinned_cpus(cores)?;
    println!(
        "rayon {cores}t GEMM n={n}, workers {} (first call {:.2} ms)",
        if pinned.is_some() {
            "pinned"
        } else {
            "not pinned"
        },
        first.as_secs_f64() * 1e3
    );
    let mut medians = Vec::new();
    for rep in 0..5 {
        // 30 ms on one core, then 100 ms of calls on all of them.
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_millis(30) {
            one.matmul(&a, &a)?;
        }
        let t0 = Instant::now();
        let mut times = Vec::new();
        while t0.elapsed() < Duration::from_millis(100) {
            let t = Instant::now();
            all.matmul(&a, &a)?;
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
        let first_five: Vec<String> = times.iter().take(5).map(|t| format!("{t:.2}")).collect();
        let slowest = times.iter().cloned().fold(0.0, f64::max);
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        medians.push(median);
        println!(
            "  round {rep}: first calls {} ms; median {median:.2} ms, slowest {slowest:.2} ms",
            first_five.join(" ")
        );
    }
    medians.sort_by(f64::total_cmp);
    println!("median of the round medians: {:.2} ms", medians[2]);
    Ok(())
}
