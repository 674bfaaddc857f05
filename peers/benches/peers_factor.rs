//! Factorizations on parla's engines beside their peers: faer (id `faer/<threads>t/<n>`, run in
//! a rayon pool of that many threads at `Par::rayon(threads)`) and a direct LAPACK call on the
//! same OpenBLAS (`lapack/<threads>t/<n>`, on a column-major copy: `dpotrf`, `dgesv`, `dgetrf`,
//! `dgetrf` and the diagonal's product, `dgetrf` + `dgetri`, `dgeqrf`).
//! Groups `cholesky`, `solve` (LU with partial pivoting, one right-hand side), `lu` (the packed
//! factor, `lu_factor`), `det`, `inv`, `qr` (the packed factor, `qr_factor`), `eigh` (values and
//! vectors) and `svd` (thin, with vectors; for these two the `blas` engine is the LAPACK call);
//! ids `<candidate>/<threads>t/<n>`; n = 256, 512, 1024, 2048 (eigh and svd up to 1024).
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

/// The groups: operation, group name, and whether a direct LAPACK call stands beside the `blas`
/// engine (for eigh and svd the `blas` engine *is* the LAPACK call, `dsyevd` / `dgesdd`).
const OPS: [(Op, &str, bool); 8] = [
    (Op::Cholesky, "cholesky", true),
    (Op::Solve, "solve", true),
    (Op::LuFactor, "lu", true),
    (Op::Det, "det", true),
    (Op::Inv, "inv", true),
    (Op::QrFactor, "qr", true),
    (Op::Eigh, "eigh", false),
    (Op::Svd, "svd", false),
];

/// The spectral groups stop at n = 1024 (a 2048 SVD sample takes seconds per candidate).
fn sizes(op: Op) -> &'static [usize] {
    match op {
        Op::Eigh | Op::Svd => &SIZES[..3],
        _ => &SIZES,
    }
}

fn factor(c: &mut Criterion) {
    for (op, name, has_lapack) in OPS {
        let mut group = c.benchmark_group(name);
        group.sample_size(10).sampling_mode(SamplingMode::Flat);
        let id = |who: &str, t: usize| common::id(who, t);
        for &n in sizes(op) {
            let s = common::spd(n, 1);
            let a = common::matrix(n, n, 2);
            let b = common::matrix(n, 1, 3);
            let (fs, fa, fb) = (peers::to_faer(&s), peers::to_faer(&a), peers::to_faer(&b));
            group.throughput(Throughput::Elements(common::flops(op, n)));
            for (engine, t, exec) in common::execs(op) {
                group.bench_function(BenchmarkId::new(id(engine.name(), t), n), |bch| {
                    bch.iter(|| match op {
                        Op::Cholesky => drop(exec.cholesky(&s).unwrap()),
                        Op::LuFactor => drop(exec.lu_factor(&a).unwrap()),
                        Op::Det => {
                            std::hint::black_box(exec.det(&a).unwrap());
                        }
                        Op::Inv => drop(exec.inv(&a).unwrap()),
                        Op::QrFactor => drop(exec.qr_factor(&a).unwrap()),
                        Op::Eigh => drop(exec.eigh(&s).unwrap()),
                        Op::Svd => drop(exec.svd(&a, parla::SvdMode::Thin).unwrap()),
                        _ => drop(exec.solve(&a, &b).unwrap()),
                    })
                });
                if engine == Engine::Blas && has_lapack {
                    // A tiny parla call on this exec sets OpenBLAS's threads to `t`.
                    exec.solve(&Array2::<f64>::eye(2), &Array2::<f64>::eye(2))
                        .unwrap();
                    group.bench_function(BenchmarkId::new(id("lapack", t), n), |bch| {
                        bch.iter(|| match op {
                            Op::Cholesky => drop(peers::lapack_cholesky(&s)),
                            Op::LuFactor => drop(peers::lapack_lu(&a)),
                            Op::Det => {
                                std::hint::black_box(peers::lapack_det(&a));
                            }
                            Op::Inv => drop(peers::lapack_inv(&a)),
                            Op::QrFactor => drop(peers::lapack_qr(&a)),
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
                                Op::LuFactor => drop(peers::faer_lu(&fa)),
                                Op::Det => {
                                    std::hint::black_box(peers::faer_det(&fa));
                                }
                                Op::Inv => drop(peers::faer_inv(&fa)),
                                Op::QrFactor => drop(peers::faer_qr(&fa)),
                                Op::Eigh => drop(peers::faer_eigh(&fs)),
                                Op::Svd => drop(peers::faer_svd(&fa)),
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
