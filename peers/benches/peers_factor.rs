//! Factorizations on parla's engines beside their peers: faer (id `faer/<threads>t/<n>`, run in
//! a rayon pool of that many threads at `Par::rayon(threads)`) and a direct LAPACK call on the
//! same OpenBLAS (`lapack/<threads>t/<n>`: `dpotrf`, `dgesv` on a column-major copy).
//! Groups `cholesky` and `solve` (LU with partial pivoting, one right-hand side), as in the
//! library's `factor` bench; ids `<candidate>/<threads>t/<n>`; n = 256, 512, 1024, 2048.
//!
//! Run: `cargo bench -p parla-peers --bench peers_factor` (engines and threads as the library's
//! benches: `PARLA_BACKEND`, `PARLA_NUM_THREADS`). For ratios from one interleaved run, see
//! `cargo run --release -p parla-peers --example side_by_side`.

#[path = "../../benches/common/mod.rs"]
mod common;

use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use ndarray::Array2;
use parla::{Engine, Op};
use parla_peers as peers;

const SIZES: [usize; 4] = [256, 512, 1024, 2048];

fn factor(c: &mut Criterion) {
    for (op, name) in [(Op::Cholesky, "cholesky"), (Op::Solve, "solve")] {
        let mut group = c.benchmark_group(name);
        group.sample_size(10).sampling_mode(SamplingMode::Flat);
        let id = |who: &str, t: usize| common::id(who, t);
        for n in SIZES {
            let s = common::spd(n, 1);
            let a = common::matrix(n, n, 2);
            let b = common::matrix(n, 1, 3);
            let (fs, fa, fb) = (peers::to_faer(&s), peers::to_faer(&a), peers::to_faer(&b));
            group.throughput(Throughput::Elements(common::flops(op, n)));
            for (engine, t, exec) in common::execs(op) {
                group.bench_function(BenchmarkId::new(id(engine.name(), t), n), |bch| {
                    bch.iter(|| match op {
                        Op::Cholesky => drop(exec.cholesky(&s).unwrap()),
                        _ => drop(exec.solve(&a, &b).unwrap()),
                    })
                });
                if engine == Engine::Blas {
                    // A tiny parla call on this exec sets OpenBLAS's threads to `t`.
                    exec.solve(&Array2::<f64>::eye(2), &Array2::<f64>::eye(2))
                        .unwrap();
                    group.bench_function(BenchmarkId::new(id("lapack", t), n), |bch| {
                        bch.iter(|| match op {
                            Op::Cholesky => drop(peers::lapack_cholesky(&s)),
                            _ => drop(peers::lapack_solve(&a, &b)),
                        })
                    });
                }
            }
            for t in common::thread_counts() {
                let pool = peers::faer_pool(t);
                group.bench_function(BenchmarkId::new(id("faer", t), n), |bch| {
                    bch.iter(|| {
                        pool.install(|| {
                            faer::set_global_parallelism(peers::faer_par(t));
                            match op {
                                Op::Cholesky => drop(peers::faer_cholesky(&fs)),
                                _ => drop(peers::faer_solve(&fa, &fb)),
                            }
                        })
                    })
                });
            }
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = factor
}
criterion_main!(benches);
