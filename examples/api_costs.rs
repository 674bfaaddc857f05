//! What the API additions of issue 15 buy, timed interleaved (every candidate once per round,
//! rounds repeated) so noise hits all alike; prints medians, the ratio of each pair and the load
//! average before and after.
//!
//! - factor once, solve many: `lu_factor` + 100 one-vector solves vs 100 `solve` calls, n = 512;
//! - `matmul_into` (a reused output) vs `matmul` (a new output per call), n = 64 and 1024;
//!
//! each on `blas`, `rayon-blas` and `rayon` with the same thread budget.
//!
//! Run: `cargo run --release --example api_costs -- [threads] [rounds]` (default: all usable
//! cores, 7 rounds).

use std::time::Instant;

use ndarray::{Array1, Array2};
use parla::{Engine, Error, Exec};

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn time(f: &mut dyn FnMut() -> Result<(), Error>) -> Result<f64, Error> {
    let t = Instant::now();
    f()?;
    Ok(t.elapsed().as_secs_f64() * 1e3)
}

fn matrix(n: usize, seed: usize) -> Array2<f64> {
    Array2::from_shape_fn((n, n), |(i, j)| {
        let v = ((i * 37 + j * 11 + seed * 7) % 101) as f64 - 50.0;
        v / 50.0 + if i == j { 4.0 } else { 0.0 }
    })
}

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let threads = args
        .first()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(parla::threads::usable_cores);
    let rounds: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(7);
    println!(
        "threads {threads}, rounds {rounds}, load before: {}",
        loadavg()
    );
    let engines = [Engine::Blas, Engine::RayonBlas, Engine::Rayon];

    // Factor once + 100 solves vs 100 solves, n = 512.
    let n = 512;
    let a = matrix(n, 1);
    let rhs: Vec<Array1<f64>> = (0..100)
        .map(|k| Array1::from_shape_fn(n, |i| ((i * 13 + k) % 17) as f64 - 8.0))
        .collect();
    println!(
        "\n{:<11} {:>28} {:>28} {:>8}",
        "engine", "lu_factor + 100 solves (ms)", "100 x solve (ms)", "ratio"
    );
    for engine in engines {
        let e = Exec::new(engine, threads)?;
        let (mut once, mut many) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            once.push(time(&mut || {
                let f = e.lu_factor(&a)?;
                for b in &rhs {
                    std::hint::black_box(f.solve(b)?);
                }
                Ok(())
            })?);
            many.push(time(&mut || {
                for b in &rhs {
                    std::hint::black_box(e.solve(&a, b)?);
                }
                Ok(())
            })?);
        }
        let (o, m) = (median(once), median(many));
        println!("{:<11} {o:>28.2} {m:>28.2} {:>7.1}x", engine.name(), m / o);
    }

    // matmul_into (reused output) vs matmul (new output), n = 64 and 1024.
    println!(
        "\n{:<11} {:>6} {:>6} {:>22} {:>22} {:>15}",
        "engine", "n", "calls", "matmul_into (ms/call)", "matmul (ms/call)", "matmul / into"
    );
    for n in [64usize, 1024] {
        let (a, b) = (matrix(n, 2), matrix(n, 3));
        let calls = if n <= 64 { 2000 } else { 3 };
        for engine in engines {
            let e = Exec::new(engine, threads)?;
            let mut out = Array2::zeros((n, n));
            let (mut into, mut alloc) = (Vec::new(), Vec::new());
            for _ in 0..rounds {
                into.push(
                    time(&mut || {
                        for _ in 0..calls {
                            e.matmul_into(&a, &b, &mut out)?;
                        }
                        Ok(())
                    })? / calls as f64,
                );
                alloc.push(
                    time(&mut || {
                        for _ in 0..calls {
                            std::hint::black_box(e.matmul(&a, &b)?);
                        }
                        Ok(())
                    })? / calls as f64,
                );
            }
            let (i, m) = (median(into), median(alloc));
            println!(
                "{:<11} {n:>6} {calls:>6} {i:>22.4} {m:>22.4} {:>14.2}x",
                engine.name(),
                m / i
            );
        }
    }
    println!("\nload after: {}", loadavg());
    Ok(())
}
