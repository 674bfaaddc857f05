//! `C = A B` (f64, square) on parla's engines beside its peers: faer's `matmul` (id
//! `faer/<threads>t/<n>`, run in a rayon pool of that many threads) and a raw `cblas_dgemm`
//! on the same OpenBLAS (`cblas/<threads>t/<n>`). Group `gemm`; n = 256, 512, 1024.
//!
//! Run: `cargo bench -p parla-peers --bench peers_gemm` (engines and threads as the library's
//! benches: `PARLA_BACKEND`, `PARLA_NUM_THREADS`).

#[path = "../../benches/common/mod.rs"]
mod common;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ndarray::Array2;
use parla::{Engine, Op};
use parla_peers as peers;

const SIZES: [usize; 3] = [256, 512, 1024];

fn gemm(c: &mut Criterion) {
    let mut group = c.benchmark_group("gemm");
    for n in SIZES {
        let a = common::matrix(n, n, 1);
        let b = common::matrix(n, n, 2);
        let (fa, fb) = (peers::to_faer(&a), peers::to_faer(&b));
        group.throughput(Throughput::Elements(common::flops(Op::Matmul, n)));
        for (engine, t, exec) in common::execs(Op::Matmul) {
            group.bench_function(BenchmarkId::new(common::id(engine, t), n), |bch| {
                bch.iter(|| exec.matmul(&a, &b).unwrap())
            });
            if engine == Engine::Blas {
                // A tiny parla call on this exec sets OpenBLAS's threads to `t` for cblas.
                exec.matmul(&Array2::<f64>::eye(2), &Array2::<f64>::eye(2))
                    .unwrap();
                let mut out = Array2::<f64>::zeros((n, n));
                group.bench_function(BenchmarkId::new(common::id("cblas", t), n), |bch| {
                    bch.iter(|| peers::cblas_gemm(&a, &b, &mut out))
                });
            }
        }
        for t in common::thread_counts() {
            let pool = peers::faer_pool(t);
            let par = peers::faer_par(t);
            let mut out = faer::Mat::<f64>::zeros(n, n);
            group.bench_function(BenchmarkId::new(common::id("faer", t), n), |bch| {
                bch.iter(|| pool.install(|| peers::faer_gemm(&mut out, &fa, &fb, par)))
            });
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = gemm
}
criterion_main!(benches);
