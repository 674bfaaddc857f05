//! GEMM benchmarks.
//!
//! Group `matmul_overhead`: `parla::matmul` on the `blas` engine against a raw `cblas_dgemm`
//! call doing the same work (allocate a zeroed `n × n` output, multiply), side by side at
//! n = 64, 256, 1024, with 1 thread and with every usable core. `raw_prealloc` reuses one
//! output buffer and shows what allocation costs.
//!
//! Group `dgemm_engines`: `blas` vs `rayon-blas` DGEMM at n = 1024, 2048 with all cores.
//!
//! Run: `cargo bench --bench gemm` (about 3 minutes on 2 cores).
//! Threads: `PARLA_NUM_THREADS` (default: 1 and the usable cores).

use std::os::raw::c_int;

use cblas_sys::{cblas_dgemm, CBLAS_LAYOUT, CBLAS_TRANSPOSE};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ndarray::Array2;
use parla::{Engine, Exec};

extern "C" {
    fn openblas_set_num_threads(n: c_int);
}

fn thread_counts() -> Vec<usize> {
    match std::env::var("PARLA_NUM_THREADS") {
        Ok(v) => vec![v
            .parse()
            .expect("PARLA_NUM_THREADS must be a positive integer")],
        Err(_) => {
            let cores = parla::threads::usable_cores();
            if cores > 1 {
                vec![1, cores]
            } else {
                vec![1]
            }
        }
    }
}

fn input(n: usize, seed: usize) -> Array2<f64> {
    Array2::from_shape_fn((n, n), |(i, j)| {
        (((i * 31 + j * 17 + seed) % 97) as f64 - 48.0) / 48.0
    })
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
    for &t in &thread_counts() {
        for n in [64usize, 256, 1024] {
            let (a, b) = (input(n, 1), input(n, 2));
            group.throughput(Throughput::Elements((2 * n * n * n) as u64));
            if n >= 1024 {
                group.sample_size(20);
            } else {
                group.sample_size(100);
            }
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

/// `blas` (OpenBLAS's own threads) against `rayon-blas` (parla's panels on rayon, 1-thread
/// OpenBLAS each), same thread budget, side by side.
fn engines(c: &mut Criterion) {
    let mut group = c.benchmark_group("dgemm_engines");
    group.sample_size(10);
    let t = *thread_counts().last().unwrap();
    for n in [1024usize, 2048] {
        let (a, b) = (input(n, 1), input(n, 2));
        group.throughput(Throughput::Elements((2 * n * n * n) as u64));
        for engine in [Engine::Blas, Engine::RayonBlas] {
            let exec = Exec::new(engine, t).unwrap();
            group.bench_function(BenchmarkId::new(format!("{engine}/{t}t"), n), |bench| {
                bench.iter(|| exec.matmul(&a, &b).unwrap())
            });
        }
    }
    group.finish();
}

criterion_group!(benches, matmul_overhead, engines);
criterion_main!(benches);
