//! Complex (`c64`) operations beyond GEMM on the three engines with the same thread budget,
//! timed interleaved (blas, rayon-blas, rayon, blas, …): `solve` (LU, one right-hand side),
//! `cholesky`, `solve_triangular` (n right-hand sides), `qr` (reduced; compared by the moduli
//! of R's diagonal), `lu_factor` + 10 solves, `qr_factor` + one least-squares solve (a 2n × n
//! system), `matvec` and `vdot`. Prints medians,
//! each engine's speed relative to `blas`, the relative residual / difference from `blas`, and
//! /proc/loadavg.
//!
//! Run: `cargo run --release --example complex_ops -- [threads] [n ...]`
//! (default: all usable cores, n = 512).

use std::time::Instant;

use ndarray::{Array1, Array2};
use parla::{c64, Diag, Engine, Error, Exec, QrMode, Trans, Uplo};

type Case<'a> = (
    &'static str,
    Box<dyn Fn(&Exec) -> Result<Array1<c64>, Error> + 'a>,
);

fn main() -> Result<(), Error> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let threads = match args.first() {
        Some(&t) => t,
        None => parla::num_threads()?,
    };
    let sizes = if args.len() > 1 {
        args[1..].to_vec()
    } else {
        vec![512]
    };
    let engines = [Engine::Blas, Engine::RayonBlas, Engine::Rayon]
        .map(|e| Exec::new(e, threads))
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
    println!(
        "{:>6} {:>7}  {:<17} {:<10} {:>10} {:>13} {:>12}",
        "n", "threads", "op", "engine", "median ms", "speed vs blas", "rel Δ blas"
    );
    for n in sizes {
        // Pseudo-random parts in [-1, 1) (an LCG): a well-conditioned general matrix.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 11) as f64 / (1u64 << 52) as f64 - 1.0
        };
        let a = Array2::from_shape_simple_fn((n, n), || c64::new(next(), next()));
        // Hermitian positive definite: A Aᴴ / n + 2 I.
        let blas = &engines[0];
        let ah = a.t().mapv(|z| z.conj());
        let mut hpd = blas.matmul(&a, &ah)? / c64::new(n as f64, 0.0);
        hpd.diag_mut().map_inplace(|d| *d += c64::new(2.0, 0.0));
        let b = Array2::from_shape_fn((n, n), |(i, j)| c64::new((i + j) as f64 / n as f64, 1.0));
        let x = b.column(0).to_owned();
        let tall = Array2::from_shape_simple_fn((2 * n, n), || c64::new(next(), next()));
        let x2 = Array1::from_shape_fn(2 * n, |i| c64::new(1.0, i as f64 / n as f64));
        let cases: Vec<Case> = vec![
            ("solve", Box::new(|e: &Exec| e.solve(&a, &x))),
            (
                "cholesky",
                Box::new(|e: &Exec| Ok(e.cholesky(&hpd)?.column(0).to_owned())),
            ),
            (
                "solve_triangular",
                Box::new(|e: &Exec| {
                    let s =
                        e.solve_triangular(&hpd, &b, Uplo::Lower, Trans::Conj, Diag::NonUnit)?;
                    Ok(s.column(n - 1).to_owned())
                }),
            ),
            (
                "qr",
                Box::new(|e: &Exec| {
                    let r = e.qr(&a, QrMode::Reduced)?.r;
                    Ok(r.diag().mapv(|d| c64::new(d.norm(), 0.0)))
                }),
            ),
            (
                "lu_factor+10 solves",
                Box::new(|e: &Exec| {
                    let f = e.lu_factor(&a)?;
                    let mut y = x.clone();
                    for _ in 0..10 {
                        y = f.solve(&x)?;
                    }
                    Ok(y)
                }),
            ),
            (
                "qr_factor+lstsq",
                Box::new(|e: &Exec| e.qr_factor(&tall)?.solve_lstsq(&x2)),
            ),
            ("matvec", Box::new(|e: &Exec| e.matvec(&a, &x))),
            (
                "vdot",
                Box::new(|e: &Exec| Ok(Array1::from_elem(1, e.vdot(&a.row(0), &a.row(1))?))),
            ),
        ];
        for (name, f) in &cases {
            let reference = f(blas)?;
            let scale = reference
                .iter()
                .fold(0.0f64, |m, v| m.max(v.norm()))
                .max(1e-300);
            let mut diffs = Vec::new();
            for e in &engines {
                let r = f(e)?;
                diffs.push(
                    (&r - &reference)
                        .iter()
                        .fold(0.0f64, |m, v| m.max(v.norm()))
                        / scale,
                );
            }
            let reps = if n <= 256 { 40 } else { 10 };
            let mut times = vec![Vec::new(); engines.len()];
            for _ in 0..reps {
                for (e, t) in engines.iter().zip(times.iter_mut()) {
                    let start = Instant::now();
                    std::hint::black_box(f(e)?);
                    t.push(start.elapsed().as_secs_f64());
                }
            }
            let medians: Vec<f64> = times
                .iter_mut()
                .map(|v| {
                    v.sort_by(f64::total_cmp);
                    v[v.len() / 2]
                })
                .collect();
            for ((e, m), d) in engines.iter().zip(&medians).zip(&diffs) {
                println!(
                    "{n:>6} {threads:>7}  {name:<17} {:<10} {:>10.3} {:>12.2}x {:>12.1e}",
                    e.engine().to_string(),
                    m * 1e3,
                    medians[0] / m,
                    d
                );
            }
        }
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("loadavg: {}", load.trim());
    Ok(())
}
