//! Factorization benchmarks, throughput in nominal flops (the counts of `parla compare`).
//! Ids: `<engine>/<threads>t/<n>`; engines that do not implement an operation are skipped.
//!
//! - `cholesky`, `solve` (LU, one right-hand side), `qr` (Q formed): n = 256, 1024;
//! - `eigh`: `parla::eigh` (LAPACK `syevd`) against ndarray-linalg's `eigh` (`syev`, id
//!   `ndarray-linalg-syev/<threads>t/<n>`) on the same symmetric matrix, n = 256, 1024;
//! - `svd`: thin SVD with vectors (LAPACK `gesdd` on `blas`, parla's bidiagonal divide and
//!   conquer on the rayon engines), n = 256, 1024.
//!
//! Run: `cargo bench --bench factor` (about 3 minutes on 2 cores). Engines and threads:
//! `PARLA_BACKEND`, `PARLA_NUM_THREADS` (default: blas, rayon-blas, rayon × 1 and the usable
//! cores).

mod common;

use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use ndarray::{array, Array2};
use ndarray_linalg::{Eigh as _, UPLO};
use parla::{Engine, QrMode};

const SIZES: [usize; 2] = [256, 1024];

fn cholesky(c: &mut Criterion) {
    let mut group = c.benchmark_group("cholesky");
    // Flat sampling: 10 samples of equal iteration counts (linear sampling would need 55
    // calls of the slowest cases, ~40 s for `syev` at n = 1024).
    group.sample_size(10).sampling_mode(SamplingMode::Flat);
    for n in SIZES {
        let a = common::spd(n, 1);
        group.throughput(Throughput::Elements(common::flops(parla::Op::Cholesky, n)));
        for (engine, t, exec) in common::execs(parla::Op::Cholesky) {
            group.bench_function(BenchmarkId::new(common::id(engine, t), n), |b| {
                b.iter(|| exec.cholesky(&a).unwrap())
            });
        }
    }
    group.finish();
}

fn solve(c: &mut Criterion) {
    let mut group = c.benchmark_group("solve");
    // Flat sampling: 10 samples of equal iteration counts (linear sampling would need 55
    // calls of the slowest cases, ~40 s for `syev` at n = 1024).
    group.sample_size(10).sampling_mode(SamplingMode::Flat);
    for n in SIZES {
        let a = common::matrix(n, n, 1);
        let rhs = common::vector(n, 2);
        group.throughput(Throughput::Elements(common::flops(parla::Op::Solve, n)));
        for (engine, t, exec) in common::execs(parla::Op::Solve) {
            group.bench_function(BenchmarkId::new(common::id(engine, t), n), |b| {
                b.iter(|| exec.solve(&a, &rhs).unwrap())
            });
        }
    }
    group.finish();
}

fn qr(c: &mut Criterion) {
    let mut group = c.benchmark_group("qr");
    // Flat sampling: 10 samples of equal iteration counts (linear sampling would need 55
    // calls of the slowest cases, ~40 s for `syev` at n = 1024).
    group.sample_size(10).sampling_mode(SamplingMode::Flat);
    for n in SIZES {
        let a = common::matrix(n, n, 1);
        group.throughput(Throughput::Elements(common::flops(parla::Op::Qr, n)));
        for (engine, t, exec) in common::execs(parla::Op::Qr) {
            group.bench_function(BenchmarkId::new(common::id(engine, t), n), |b| {
                b.iter(|| exec.qr(&a, QrMode::Reduced).unwrap())
            });
        }
    }
    group.finish();
}

fn symmetric(n: usize) -> Array2<f64> {
    let b = common::matrix(n, n, 3);
    &b + &b.t()
}

fn eigh(c: &mut Criterion) {
    let mut group = c.benchmark_group("eigh");
    // Flat sampling: 10 samples of equal iteration counts (linear sampling would need 55
    // calls of the slowest cases, ~40 s for `syev` at n = 1024).
    group.sample_size(10).sampling_mode(SamplingMode::Flat);
    for n in SIZES {
        let a = symmetric(n);
        group.throughput(Throughput::Elements(common::flops(parla::Op::Eigh, n)));
        for (engine, t, exec) in common::execs(parla::Op::Eigh) {
            group.bench_function(BenchmarkId::new(common::id(engine, t), n), |b| {
                b.iter(|| exec.eigh(&a).unwrap())
            });
            if engine == Engine::Blas {
                // ndarray-linalg calls OpenBLAS directly, with whatever thread count OpenBLAS is
                // set to: a tiny parla call on this exec sets it to `t` first (read back).
                exec.eigh(&array![[2.0f64, 1.0], [1.0, 2.0]]).unwrap();
                assert_eq!(parla::threads::openblas::current_threads(), t);
                group.bench_function(
                    BenchmarkId::new(common::id("ndarray-linalg-syev", t), n),
                    |b| b.iter(|| a.eigh(UPLO::Lower).unwrap()),
                );
            }
        }
    }
    group.finish();
}

fn svd(c: &mut Criterion) {
    let mut group = c.benchmark_group("svd");
    group.sample_size(10).sampling_mode(SamplingMode::Flat);
    for n in SIZES {
        let a = common::matrix(n, n, 5);
        group.throughput(Throughput::Elements(common::flops(parla::Op::Svd, n)));
        for (engine, t, exec) in common::execs(parla::Op::Svd) {
            group.bench_function(BenchmarkId::new(common::id(engine, t), n), |b| {
                b.iter(|| exec.svd(&a, parla::SvdMode::Thin).unwrap())
            });
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = cholesky, solve, qr, eigh, svd
}
criterion_main!(benches);
