//! The spectral decompositions on the three engines with the same thread budget, timed
//! interleaved (blas, rayon-blas, rayon, blas, …) so noise hits all alike; prints medians and
//! each engine's time relative to `blas` (LAPACK `syevd` / `gesdd` on OpenBLAS's threads).
//!
//! Run: `cargo run --release --example spectral_engines -- [threads] [n | MxN ...] [--only=eig,svdvals]`
//! (default: all usable cores, n = 512 1024, every operation; `MxN` times the SVD operations
//! of an `M × N` matrix).

use std::time::Instant;

use ndarray::Array2;
use parla::{Engine, Error, Exec};

type Op = (&'static str, Box<dyn Fn(&Exec) -> Result<(), Error>>);

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let threads = args
        .first()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(parla::threads::usable_cores);
    // `n` (square) or `MxN` (rectangular: the SVD operations only).
    let parse = |s: &String| -> Option<(usize, usize)> {
        match s.split_once('x') {
            Some((m, n)) => Some((m.parse().ok()?, n.parse().ok()?)),
            None => s.parse().ok().map(|n| (n, n)),
        }
    };
    let mut sizes: Vec<(usize, usize)> = args.iter().skip(1).filter_map(parse).collect();
    if sizes.is_empty() {
        sizes = vec![(512, 512), (1024, 1024)];
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("threads {threads}, load {}", load.trim());
    for (m, n) in sizes {
        let g = Array2::from_shape_fn((m, n), |(i, j)| {
            (((i * 37 + j * 11) % 101) as f64 - 50.0) / 50.0 + ((i * j) % 7) as f64 / 13.0
        });
        let sym = if m == n {
            &g + &g.t()
        } else {
            Array2::zeros((0, 0))
        };
        let ops: Vec<Op> = vec![
            (
                "eigh",
                Box::new({
                    let a = sym.clone();
                    move |e: &Exec| e.eigh(&a).map(drop)
                }),
            ),
            (
                "eigvalsh",
                Box::new({
                    let a = sym.clone();
                    move |e: &Exec| e.eigvalsh(&a).map(drop)
                }),
            ),
            (
                "svd thin",
                Box::new({
                    let a = g.clone();
                    move |e: &Exec| e.svd(&a, parla::SvdMode::Thin).map(drop)
                }),
            ),
            (
                "svdvals",
                Box::new({
                    let a = g.clone();
                    move |e: &Exec| e.svdvals(&a).map(drop)
                }),
            ),
            (
                "eig",
                Box::new({
                    let a = g.clone();
                    move |e: &Exec| e.eig(&a).map(drop)
                }),
            ),
            (
                "eigvals",
                Box::new({
                    let a = g.clone();
                    move |e: &Exec| e.eigvals(&a).map(drop)
                }),
            ),
        ];
        // `--only=eig,eigvals` (comma-separated names) times only those.
        let only = std::env::args().find_map(|a| a.strip_prefix("--only=").map(str::to_owned));
        let ops: Vec<Op> = ops
            .into_iter()
            .filter(|(name, _)| {
                only.as_ref()
                    .is_none_or(|o| o.split(',').any(|x| x == *name))
                    && (m == n || name.starts_with("svd"))
            })
            .collect();
        let engines = [Engine::Blas, Engine::RayonBlas, Engine::Rayon]
            .map(|e| Exec::new(e, threads))
            .into_iter()
            .collect::<Result<Vec<_>, _>>()?;
        for (name, op) in &ops {
            let reps = if m.max(n) <= 512 { 5 } else { 3 };
            let mut times = vec![Vec::new(); engines.len()];
            for _ in 0..reps {
                for (e, t) in engines.iter().zip(times.iter_mut()) {
                    let start = Instant::now();
                    op(e)?;
                    t.push(start.elapsed().as_secs_f64());
                }
            }
            let med: Vec<f64> = times
                .iter_mut()
                .map(|v| {
                    v.sort_by(f64::total_cmp);
                    v[v.len() / 2]
                })
                .collect();
            println!(
                "{:>9} {name:9} blas {:.4} s | rayon-blas {:.4} s ({:.2}x) | rayon {:.4} s ({:.2}x)",
                if m == n {
                    format!("n={n}")
                } else {
                    format!("{m}x{n}")
                },
                med[0],
                med[1],
                med[1] / med[0],
                med[2],
                med[2] / med[0]
            );
        }
    }
    Ok(())
}
