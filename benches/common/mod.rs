//! What every bench shares: the engines and thread counts to run (from `PARLA_BACKEND` and
//! `PARLA_NUM_THREADS` when set, read through parla's own environment reader), the execution
//! values for one operation (engines without it are skipped), and seeded inputs.
//!
//! Benchmark ids are `<engine>/<threads>t/<n>`; groups are named by operation.

#![allow(dead_code)] // each bench uses its own part

use criterion::Criterion;
use ndarray::{Array1, Array2};
use parla::{Engine, Exec, Op, Shape};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The engines to run: `PARLA_BACKEND` when set (`auto` means all three), else `blas`,
/// `rayon-blas` and `rayon`.
pub fn engines() -> Vec<Engine> {
    let all = vec![Engine::Blas, Engine::RayonBlas, Engine::Rayon];
    match parla::threads::env::snapshot().backend.clone() {
        Ok(Some(Engine::Auto)) | Ok(None) => all,
        Ok(Some(e)) => vec![e],
        Err(e) => panic!("{e}"),
    }
}

/// The thread counts to run: `PARLA_NUM_THREADS` when set, else 1 and the usable cores.
pub fn thread_counts() -> Vec<usize> {
    match parla::threads::env::snapshot().threads.clone() {
        Ok(Some(n)) => vec![n],
        Ok(None) => {
            let cores = parla::threads::usable_cores();
            if cores > 1 {
                vec![1, cores]
            } else {
                vec![1]
            }
        }
        Err(e) => panic!("{e}"),
    }
}

/// `(engine, threads, exec)` for every engine × thread count that implements `op`
/// (the others are skipped, with a note on stderr).
pub fn execs(op: Op) -> Vec<(Engine, usize, Exec)> {
    let mut out = Vec::new();
    for engine in engines() {
        for t in thread_counts() {
            let exec = Exec::new(engine, t).expect("thread count in range");
            match exec.plan(op, parla::Dtype::F64, Shape::Unknown) {
                Ok(_) => out.push((engine, t, exec)),
                Err(parla::Error::Unsupported { .. }) => note_skipped(op, engine),
                Err(e) => panic!("{e}"),
            }
        }
    }
    out
}

/// Says once per (operation, engine) that the engine is skipped.
fn note_skipped(op: Op, engine: Engine) {
    use std::sync::Mutex;
    static SEEN: Mutex<Vec<(Op, Engine)>> = Mutex::new(Vec::new());
    let mut seen = SEEN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if !seen.contains(&(op, engine)) {
        seen.push((op, engine));
        eprintln!("{op}: engine {engine} does not implement it; skipped");
    }
}

/// The benchmark id's function part: `<engine>/<threads>t`.
pub fn id(engine: impl std::fmt::Display, threads: usize) -> String {
    format!("{engine}/{threads}t")
}

/// Nominal flops of `op` on `n × n` operands (the library's count, as `parla compare` uses).
pub fn flops(op: Op, n: usize) -> u64 {
    op.flops(Shape::Square(n)) as u64
}

/// Nominal bytes of `op` at size `n` with `elem`-byte elements (read and written once).
pub fn bytes(op: Op, n: usize, elem: usize) -> u64 {
    let (n, s) = (n as f64, elem as f64);
    let b = match op {
        Op::Gemv => (n * n + 2.0 * n) * s,
        Op::Axpy => 3.0 * n * s,
        other => panic!("no byte count for {other}"),
    };
    b as u64
}

fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// `rows × cols`, entries uniform in [-1, 1).
pub fn matrix(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
    let mut r = rng(seed);
    Array2::from_shape_simple_fn((rows, cols), || r.gen_range(-1.0..1.0))
}

/// As [`matrix`], in `f32`.
pub fn matrix_f32(rows: usize, cols: usize, seed: u64) -> Array2<f32> {
    let mut r = rng(seed);
    Array2::from_shape_simple_fn((rows, cols), || r.gen_range(-1.0f32..1.0))
}

/// `n` entries uniform in [-1, 1).
pub fn vector(n: usize, seed: u64) -> Array1<f64> {
    let mut r = rng(seed);
    Array1::from_shape_simple_fn(n, || r.gen_range(-1.0..1.0))
}

/// Symmetric positive definite `n × n` (diagonally dominant).
pub fn spd(n: usize, seed: u64) -> Array2<f64> {
    let mut a = matrix(n, n, seed);
    for i in 0..n {
        for j in 0..i {
            a[[j, i]] = a[[i, j]];
        }
        a[[i, i]] += n as f64;
    }
    a
}

/// Criterion settings that keep a whole bench file within a few minutes on 2 cores.
pub fn criterion() -> Criterion {
    Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(800))
        .measurement_time(std::time::Duration::from_secs(2))
        .configure_from_args()
}
