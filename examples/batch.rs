//! Batched linear algebra, the three strategies (and `auto`) side by side: 10 000 GEMMs of
//! 32×32 and 1 000 LU solves of 64×64 (f64), each timed *interleaved* (loop, rayon-blas, rayon,
//! auto, loop, …) so noise from a shared machine hits all alike; prints median times and the
//! speed of each strategy relative to the loop of threaded OpenBLAS calls (median over rounds of
//! the back-to-back ratio), and first how much parallelism the machine gives right now.
//!
//! Run: `cargo run --release --example batch` (about 10 s on 2 cores).
//! Threads: `PARLA_NUM_THREADS` (default: the usable cores).
//! `-- --grid` also times loop vs rayon-blas for orders 16..512 and batch lengths 2..64
//! (the measurement behind the `parla::batch::BATCH_*` thresholds of strategy `auto`).

use std::time::Instant;

use ndarray::{Array3, Axis};
use parla::batch::{Batch, Strategy};
use parla::{Dtype, Engine, Error, Exec, Op};

fn input(batch: usize, m: usize, n: usize, seed: usize) -> Array3<f64> {
    Array3::from_shape_fn((batch, m, n), |(b, i, j)| {
        (((b * 7 + i * 31 + j * 17 + seed) % 97) as f64 - 48.0) / 48.0
    })
}

/// Diagonally dominant, so every system is well conditioned.
fn systems(batch: usize, n: usize) -> Array3<f64> {
    let mut a = input(batch, n, n, 3);
    for mut m in a.axis_iter_mut(Axis(0)) {
        for i in 0..n {
            m[[i, i]] += n as f64;
        }
    }
    a
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Times `run` for every runner, interleaved, `reps` rounds; returns each runner's times in
/// seconds, round by round (or the error it returned).
fn time_all<R>(
    runners: &[Batch],
    reps: usize,
    run: impl Fn(&Batch) -> Result<R, Error>,
) -> Vec<Result<Vec<f64>, Error>> {
    let mut times: Vec<Result<Vec<f64>, Error>> = runners
        .iter()
        .map(|b| run(b).map(|_| Vec::new())) // warm-up (pools, pages)
        .collect();
    for _ in 0..reps {
        for (b, t) in runners.iter().zip(times.iter_mut()) {
            if let Ok(v) = t {
                let start = Instant::now();
                let r = std::hint::black_box(run(b));
                let dt = start.elapsed().as_secs_f64();
                match r {
                    Ok(_) => v.push(dt),
                    Err(e) => *t = Err(e),
                }
            }
        }
    }
    times
}

/// Median over rounds of `base[i] / other[i]`: the speed of `other` relative to `base`, from
/// runs made back to back (less sensitive to other load on the machine than a ratio of
/// medians).
fn paired_speed(base: &[f64], other: &[f64]) -> f64 {
    let r: Vec<f64> = base.iter().zip(other).map(|(b, o)| b / o).collect();
    median(&r)
}

fn report(title: &str, flops: f64, runners: &[Batch], times: &[Result<Vec<f64>, Error>]) {
    println!("{title}");
    let base = times[0].as_ref().ok();
    for (b, t) in runners.iter().zip(times) {
        let name = b.strategy().name();
        match (t, base) {
            (Ok(t), Some(t0)) => println!(
                "  {name:<10} {:>9.3} ms  {:>6.1} GFLOP/s  speed vs loop {:.2}x",
                median(t) * 1e3,
                flops / median(t) / 1e9,
                paired_speed(t0, t)
            ),
            (Ok(t), None) => println!("  {name:<10} {:>9.3} ms", median(t) * 1e3),
            (Err(e), _) => println!("  {name:<10} -- {e}"),
        }
    }
}

/// How much faster `threads` threads spinning run than one: the parallelism the machine gives
/// this process right now (other processes on a shared machine take some).
fn available_parallelism(threads: usize) -> f64 {
    let spin = |n: u64| {
        let mut x = 1u64;
        for i in 0..n {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(i));
        }
        x
    };
    let n = 20_000_000u64;
    let mut ratios = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        spin(n);
        let one = t.elapsed().as_secs_f64();
        let t = Instant::now();
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| spin(n));
            }
        });
        let many = t.elapsed().as_secs_f64();
        ratios.push(threads as f64 * one / many);
    }
    median(&ratios)
}

fn main() -> Result<(), Error> {
    let threads = parla::threads::budget_for(Engine::Rayon)?.0;
    let exec = Exec::new(Engine::Auto, threads)?;
    let runners: Vec<Batch> = [
        Strategy::Loop,
        Strategy::RayonBlas,
        Strategy::Rayon,
        Strategy::Auto,
    ]
    .into_iter()
    .map(|s| exec.batch(s))
    .collect();
    println!(
        "{threads} threads (the machine gives this process {:.2}x one core's speed now); auto picks:",
        available_parallelism(threads)
    );
    for (op, len, n) in [(Op::Matmul, 10_000, 32), (Op::Solve, 1_000, 64)] {
        let p = exec.batch(Strategy::Auto).plan(op, Dtype::F64, len, n)?;
        println!(
            "  {op} {len} x {n}x{n}: {} ({} workers, items on {} with {} thread)",
            p.strategy, p.workers, p.item.engine, p.item.threads
        );
    }

    let (a, b) = (input(10_000, 32, 32, 1), input(10_000, 32, 32, 2));
    let m = time_all(&runners, 31, |s| s.matmul(&a, &b));
    report(
        "10 000 x (32x32 @ 32x32), f64",
        10_000.0 * 2.0 * 32f64.powi(3),
        &runners,
        &m,
    );

    let (a, rhs) = (systems(1_000, 64), input(1_000, 64, 1, 5));
    let m = time_all(&runners, 31, |s| s.solve(&a, &rhs));
    report(
        "1 000 x solve(64x64, 64x1), f64",
        1_000.0 * (2.0 / 3.0 * 64f64.powi(3) + 2.0 * 64f64.powi(2)),
        &runners,
        &m,
    );

    if std::env::args().any(|a| a == "--grid") {
        grid(&exec)?;
    }
    Ok(())
}

/// Speed of rayon-blas over loop across orders and batch lengths, for matmul and solve
/// (cells above 4·10⁹ flops per run are skipped: `-`).
fn grid(exec: &Exec) -> Result<(), Error> {
    let pair = [exec.batch(Strategy::Loop), exec.batch(Strategy::RayonBlas)];
    let lens = [2usize, 3, 4, 8, 32, 128, 512, 2048];
    for op in ["matmul", "solve"] {
        println!(
            "\n{op}: speed rayon-blas / loop ({} threads)",
            exec.threads()
        );
        print!("{:>6}", "order");
        for l in lens {
            print!("{:>7}", format!("b{l}"));
        }
        println!();
        for n in [4usize, 8, 16, 32, 64, 96, 128, 192, 256, 384, 512] {
            print!("{n:>6}");
            for len in lens {
                let work = len as f64 * (n as f64).powi(3) * 2.0;
                if work > 4e9 {
                    print!("{:>7}", "-");
                    continue;
                }
                // Enough rounds for ~0.1 s per cell and strategy at 20 GFLOP/s.
                let reps = ((2e9 / work) as usize).clamp(7, 401);
                let a = if op == "matmul" {
                    input(len, n, n, 1)
                } else {
                    systems(len, n)
                };
                let b = input(len, n, if op == "matmul" { n } else { 1 }, 2);
                let m = time_all(&pair, reps, |s| {
                    if op == "matmul" {
                        s.matmul(&a, &b)
                    } else {
                        s.solve(&a, &b)
                    }
                });
                let (t0, t1) = (m[0].clone()?, m[1].clone()?);
                print!("{:>7.2}", paired_speed(&t0, &t1));
            }
            println!();
        }
    }
    Ok(())
}
