//! Level 1 and 2 benchmarks (memory-bound: throughput in bytes, each input read once and each
//! output written once). Ids: `<engine>/<threads>t/<n>`.
//!
//! - `gemv`: `y ← A x`, `A` n × n, n = 1024 (in cache) and 4096 (128 MiB, from memory);
//! - `axpy`: `y ← α x + y`, n = 10⁵ (in cache) and 10⁷ (from memory);
//! - `dot`: `xᵀ y`, same sizes.
//!
//! Run: `cargo bench --bench level12` (about 2 minutes on 2 cores). Engines and threads:
//! `PARLA_BACKEND`, `PARLA_NUM_THREADS` (default: blas, rayon-blas, rayon × 1 and the usable
//! cores).

mod common;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ndarray::Array1;
use parla::Trans;

fn gemv(c: &mut Criterion) {
    let mut group = c.benchmark_group("gemv");
    for n in [1024usize, 4096] {
        let a = common::matrix(n, n, 1);
        let x = common::vector(n, 2);
        let mut y = Array1::<f64>::zeros(n);
        group.throughput(Throughput::Bytes(common::bytes(parla::Op::Gemv, n, 8)));
        for (engine, t, exec) in common::execs(parla::Op::Gemv) {
            group.bench_function(BenchmarkId::new(common::id(engine, t), n), |bench| {
                bench.iter(|| exec.gemv(1.0, &a, Trans::No, &x, 0.0, &mut y).unwrap())
            });
        }
    }
    group.finish();
}

fn axpy(c: &mut Criterion) {
    let mut group = c.benchmark_group("axpy");
    for n in [100_000usize, 10_000_000] {
        let x = common::vector(n, 1);
        let mut y = common::vector(n, 2);
        group.throughput(Throughput::Bytes(common::bytes(parla::Op::Axpy, n, 8)));
        for (engine, t, exec) in common::execs(parla::Op::Axpy) {
            group.bench_function(BenchmarkId::new(common::id(engine, t), n), |bench| {
                // Alternating signs keep y bounded over millions of calls.
                let mut sign = 1.0;
                bench.iter(|| {
                    sign = -sign;
                    exec.axpy(0.5 * sign, &x, &mut y).unwrap()
                })
            });
        }
    }
    group.finish();
}

fn dot(c: &mut Criterion) {
    let mut group = c.benchmark_group("dot");
    for n in [100_000usize, 10_000_000] {
        let (x, y) = (common::vector(n, 1), common::vector(n, 2));
        // x and y read once.
        group.throughput(Throughput::Bytes(2 * 8 * n as u64));
        for (engine, t, exec) in common::execs(parla::Op::Dot) {
            group.bench_function(BenchmarkId::new(common::id(engine, t), n), |bench| {
                bench.iter(|| exec.dot(&x, &y).unwrap())
            });
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = gemv, axpy, dot
}
criterion_main!(benches);
