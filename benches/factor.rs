//! Factorization benchmarks.
//!
//! Group `eigh`: `parla::eigh` (LAPACK `syevd`) against ndarray-linalg's `eigh` (`syev`) on the
//! same symmetric matrix, n = 256 and 1024, with every usable core.
//! Group `cholesky`, `solve`, `qr`: the `blas` engine at n = 1024.
//!
//! Run: `cargo bench --bench factor` (a few minutes on 2 cores).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use ndarray::Array2;
use ndarray_linalg::{Eigh as _, UPLO};
use parla::{Exec, QrMode};

fn symmetric(n: usize) -> Array2<f64> {
    let b = Array2::from_shape_fn((n, n), |(i, j)| {
        (((i * 31 + j * 17) % 97) as f64 - 48.0) / 48.0
    });
    let mut a = b.t().dot(&b);
    for i in 0..n {
        a[[i, i]] += n as f64;
    }
    a
}

fn exec() -> Exec {
    Exec::blas(parla::threads::usable_cores()).unwrap()
}

fn eigh(c: &mut Criterion) {
    let mut group = c.benchmark_group("eigh");
    group.sample_size(10);
    let e = exec();
    for n in [256usize, 1024] {
        let a = symmetric(n);
        group.bench_function(BenchmarkId::new("parla_syevd", n), |b| {
            b.iter(|| e.eigh(&a).unwrap())
        });
        group.bench_function(BenchmarkId::new("ndarray_linalg_syev", n), |b| {
            // ndarray-linalg calls OpenBLAS directly; the previous parla call left it at the same
            // thread count.
            b.iter(|| a.eigh(UPLO::Lower).unwrap())
        });
    }
    group.finish();
}

fn factorizations(c: &mut Criterion) {
    let e = exec();
    let n = 1024;
    let a = symmetric(n);
    let rhs = Array2::from_shape_fn((n, 1), |(i, _)| i as f64);
    let mut group = c.benchmark_group("factor");
    group.sample_size(10);
    group.bench_function(BenchmarkId::new("cholesky", n), |b| {
        b.iter(|| e.cholesky(&a).unwrap())
    });
    group.bench_function(BenchmarkId::new("solve", n), |b| {
        b.iter(|| e.solve(&a, &rhs).unwrap())
    });
    group.bench_function(BenchmarkId::new("qr", n), |b| {
        b.iter(|| e.qr(&a, QrMode::Reduced).unwrap())
    });
    group.finish();
}

criterion_group!(benches, eigh, factorizations);
criterion_main!(benches);
