//! GEMM benchmarks. Ids: `<engine>/<threads>t/<n>`; throughput in flops (criterion's
//! "elem/s" reads as flop/s).
//!
//! - `gemm` (f64) and `gemm_f32`: `C ← A B`, `n × n`, n = 256 and 1024, on every engine that
//!   implements it × threads.
//! - `matmul_overhead`: `parla::matmul` on the `blas` engine against a raw `cblas_dgemm` doing
//!   the same work (allocate a zeroed `n × n` output, multiply), side by side at n = 64, 256,
//!   1024; `raw_prealloc` reuses one output buffer and shows what the allocation costs.
//!
//! Run: `cargo bench --bench gemm` (about 2–3 minutes on 2 cores); one group:
//! `cargo bench --bench gemm -- gemm_f32`. Engines and threads: `PARLA_BACKEND`,
//! `PARLA_NUM_THREADS` (default: blas, rayon-blas, rayon × 1 and the usable cores).

mod common;

use std::os::raw::c_int;

use cblas_sys::{cblas_dgemm, CBLAS_LAYOUT, CBLAS_TRANSPOSE};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ndarray::Array2;
use parla::{Engine, Exec, Trans};

extern "C" {
    fn openblas_set_num_threads(n: c_int);
}

fn gemm_f64(c: &mut Criterion) {
    let mut group = c.benchmark_group("gemm");
    for n in [256usize, 1024] {
        let (a, b) = (common::matrix(n, n, 1), common::matrix(n, n, 2));
        let mut out = Array2::<f64>::zeros((n, n));
        group.throughput(Throughput::Elements(common::flops(parla::Op::Gemm, n)));
        group.sample_size(if n >= 1024 { 10 } else { 30 });
        for (engine, t, exec) in common::execs(parla::Op::Gemm) {
            group.bench_function(BenchmarkId::new(common::id(engine, t), n), |bench| {
                bench.iter(|| {
                    exec.gemm(1.0, &a, Trans::No, &b, Trans::No, 0.0, &mut out)
                        .unwrap()
                })
            });
        }
    }
    group.finish();
}

fn gemm_f32(c: &mut Criterion) {
    let mut group = c.benchmark_group("gemm_f32");
    for n in [256usize, 1024] {
        let (a, b) = (common::matrix_f32(n, n, 1), common::matrix_f32(n, n, 2));
        let mut out = Array2::<f32>::zeros((n, n));
        group.throughput(Throughput::Elements(common::flops(parla::Op::Gemm, n)));
        group.sample_size(if n >= 1024 { 10 } else { 30 });
        for (engine, t, exec) in common::execs(parla::Op::Gemm) {
            group.bench_function(BenchmarkId::new(common::id(engine, t), n), |bench| {
                bench.iter(|| {
                    exec.gemm(1.0, &a, Trans::No, &b, Trans::No, 0.0, &mut out)
                        .unwrap()
                })
            });
        }
    }
    group.finish();
}

/// C = A B through cblas with nothing around it but the output allocation.
fn raw_matmul(a: &Array2<f64>, b: &Array2<f64>, c: &mut [f64]) {
    let n = a.nrows() as c_int;
    // SAFETY: a, b are n × n C-contiguous, c holds n² elements.
    unsafe {
        cblas_dgemm(
            CBLAS_LAYOUT::CblasRowMajor,
            CBLAS_TRANSPOSE::CblasNoTrans,
            CBLAS_TRANSPOSE::CblasNoTrans,
            n,
            n,
            n,
            1.0,
            a.as_ptr(),
            n,
            b.as_ptr(),
            n,
            0.0,
            c.as_mut_ptr(),
            n,
        )
    }
}

fn matmul_overhead(c: &mut Criterion) {
    let mut group = c.benchmark_group("matmul_overhead");
    for &t in &common::thread_counts() {
        for n in [64usize, 256, 1024] {
            let (a, b) = (common::matrix(n, n, 1), common::matrix(n, n, 2));
            group.throughput(Throughput::Elements(common::flops(parla::Op::Gemm, n)));
            group.sample_size(if n >= 1024 { 10 } else { 50 });
            let exec = Exec::new(Engine::Blas, t).unwrap();
            // Interleave the variants per size so machine noise hits them alike.
            group.bench_function(BenchmarkId::new(format!("raw/{t}t"), n), |bench| {
                // SAFETY: plain setter; parla's gate is re-synchronised by the next parla call,
                // which asks for the same count.
                unsafe { openblas_set_num_threads(t as c_int) };
                bench.iter(|| {
                    let mut out = vec![0.0f64; n * n];
                    raw_matmul(&a, &b, &mut out);
                    out
                })
            });
            group.bench_function(BenchmarkId::new(format!("parla/{t}t"), n), |bench| {
                bench.iter(|| exec.matmul(&a, &b).unwrap())
            });
            group.bench_function(BenchmarkId::new(format!("raw_prealloc/{t}t"), n), |bench| {
                // SAFETY: as above.
                unsafe { openblas_set_num_threads(t as c_int) };
                let mut out = vec![0.0f64; n * n];
                bench.iter(|| raw_matmul(&a, &b, &mut out))
            });
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = gemm_f64, gemm_f32, matmul_overhead
}
criterion_main!(benches);
