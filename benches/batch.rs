//! Batched linear algebra benchmarks: every strategy of `parla::batch` side by side.
//!
//! One group per operation (`batch_matmul`, `batch_solve`, `batch_cholesky`, `batch_inv`);
//! benchmark ids are `strategy/threads/batch x order`, throughput in floating-point operations
//! (`2mnk` per GEMM, `2n³/3 + 2n²k` per solve, `n³/3` per Cholesky, `2n³` per inverse).
//! Strategies whose item engine lacks the operation (`rayon` before its kernels land) are
//! skipped with a note.
//!
//! The issue-5 speed target is `batch_matmul/rayon-blas/2t/10000x32` ≥ 1.8× the speed of
//! `batch_matmul/loop/2t/10000x32`.
//!
//! Run: `cargo bench --bench batch` (about 2 minutes on 2 cores).
//! Threads: `PARLA_NUM_THREADS` (default: the usable cores).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ndarray::{Array3, Axis};
use parla::batch::{Batch, Strategy};
use parla::{Dtype, Engine, Exec, Op};

fn threads() -> usize {
    match std::env::var("PARLA_NUM_THREADS") {
        Ok(v) => v
            .parse()
            .expect("PARLA_NUM_THREADS must be a positive integer"),
        Err(_) => parla::threads::usable_cores(),
    }
}

fn input(batch: usize, m: usize, n: usize, seed: usize) -> Array3<f64> {
    Array3::from_shape_fn((batch, m, n), |(b, i, j)| {
        (((b * 7 + i * 31 + j * 17 + seed) % 97) as f64 - 48.0) / 48.0
    })
}

/// Symmetric and diagonally dominant: SPD, well conditioned.
fn spd(batch: usize, n: usize) -> Array3<f64> {
    let mut a = input(batch, n, n, 3);
    for mut m in a.axis_iter_mut(Axis(0)) {
        let s = (&m + &m.t()) * 0.5;
        m.assign(&s);
        for i in 0..n {
            m[[i, i]] += n as f64;
        }
    }
    a
}

/// The runners of one thread count, each with the name of its benchmark id.
fn runners(t: usize) -> Vec<Batch> {
    let exec = Exec::new(Engine::Auto, t).unwrap();
    Strategy::ALL.iter().map(|&s| exec.batch(s)).collect()
}

fn bench_op(
    c: &mut Criterion,
    group: &str,
    op: Op,
    cases: &[(usize, usize)],
    flops: impl Fn(usize) -> f64,
    mut run: impl FnMut(&Batch, usize, usize) -> Box<dyn FnMut()>,
) {
    let t = threads();
    let mut g = c.benchmark_group(group);
    g.sample_size(10);
    g.warm_up_time(std::time::Duration::from_millis(500));
    g.measurement_time(std::time::Duration::from_secs(2));
    for &(len, n) in cases {
        g.throughput(Throughput::Elements((len as f64 * flops(n)) as u64));
        for b in runners(t) {
            if let Err(e) = b.plan(op, Dtype::F64, len, n) {
                eprintln!("{group}: skipping strategy {}: {e}", b.strategy());
                continue;
            }
            let id = BenchmarkId::new(format!("{}/{t}t", b.strategy()), format!("{len}x{n}"));
            let mut f = run(&b, len, n);
            g.bench_function(id, |bench| bench.iter(&mut f));
        }
    }
    g.finish();
}

fn matmul(c: &mut Criterion) {
    bench_op(
        c,
        "batch_matmul",
        Op::Matmul,
        &[(10_000, 32), (1_000, 64), (64, 256)],
        |n| 2.0 * (n as f64).powi(3),
        |b, len, n| {
            let (x, y, b) = (input(len, n, n, 1), input(len, n, n, 2), *b);
            Box::new(move || drop(std::hint::black_box(b.matmul(&x, &y).unwrap())))
        },
    );
}

fn solve(c: &mut Criterion) {
    bench_op(
        c,
        "batch_solve",
        Op::Solve,
        &[(1_000, 64)],
        |n| 2.0 / 3.0 * (n as f64).powi(3) + 2.0 * (n as f64).powi(2),
        |b, len, n| {
            let (a, r, b) = (spd(len, n), input(len, n, 1, 5), *b);
            Box::new(move || drop(std::hint::black_box(b.solve(&a, &r).unwrap())))
        },
    );
}

fn cholesky(c: &mut Criterion) {
    bench_op(
        c,
        "batch_cholesky",
        Op::Cholesky,
        &[(1_000, 64)],
        |n| (n as f64).powi(3) / 3.0,
        |b, len, n| {
            let (a, b) = (spd(len, n), *b);
            Box::new(move || drop(std::hint::black_box(b.cholesky(&a).unwrap())))
        },
    );
}

fn inv(c: &mut Criterion) {
    bench_op(
        c,
        "batch_inv",
        Op::Inv,
        &[(1_000, 64)],
        |n| 2.0 * (n as f64).powi(3),
        |b, len, n| {
            let (a, b) = (spd(len, n), *b);
            Box::new(move || drop(std::hint::black_box(b.inv(&a).unwrap())))
        },
    );
}

criterion_group!(benches, matmul, solve, cholesky, inv);
criterion_main!(benches);
