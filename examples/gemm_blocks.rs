//! Sweeps the `rayon` engine's GEMM cache blocks (MC, KC, NC) on square f64/f32 problems and
//! prints GFLOP/s per setting (median and best of at least 9 rounds), timed interleaved (every
//! setting once per round) so noise hits all alike. This is how the defaults in
//! `kernels::Element::default_blocks` were chosen.
//!
//! Run: `cargo run --release --example gemm_blocks -- [f64|f32] [threads] [n] [mc,kc,nc ...]`
//! (default: f64, all usable cores, n = 2048, a small built-in sweep).

use std::time::Instant;

use ndarray::Array2;
use parla::tuning::GemmBlocks;
use parla::{Engine, Error, Exec, Scalar};

fn run<T: Scalar>(threads: usize, n: usize, settings: &[GemmBlocks]) -> Result<(), Error> {
    let a = Array2::from_shape_fn((n, n), |(i, j)| T::of(((i * 7 + j * 3) % 13) as f64 - 6.0));
    let b = Array2::from_shape_fn((n, n), |(i, j)| T::of(((i * 5 + j * 11) % 17) as f64 - 8.0));
    let base = Exec::new(Engine::Rayon, threads)?;
    let execs = settings
        .iter()
        .map(|&s| base.with_gemm_blocks(s))
        .collect::<Result<Vec<_>, _>>()?;
    let flops = 2.0 * (n as f64).powi(3);
    let rounds = ((1e10 / flops) as usize).clamp(9, 100);
    let mut times = vec![Vec::new(); execs.len()];
    for e in &execs {
        e.matmul(&a, &b)?;
    }
    for _ in 0..rounds {
        for (e, t) in execs.iter().zip(times.iter_mut()) {
            let start = Instant::now();
            std::hint::black_box(e.matmul(&a, &b)?);
            t.push(start.elapsed().as_secs_f64());
        }
    }
    for (s, t) in settings.iter().zip(times.iter_mut()) {
        t.sort_by(f64::total_cmp);
        let med = t[t.len() / 2];
        println!(
            "{} n={n} threads={threads} mc={:4} kc={:4} nc={:5}: {:8.3} ms {:7.1} GFLOP/s (best {:7.1})",
            T::DTYPE,
            s.mc,
            s.kc,
            s.nc,
            med * 1e3,
            flops / med / 1e9,
            flops / t[0] / 1e9
        );
    }
    Ok(())
}

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dtype = args.first().cloned().unwrap_or_else(|| "f64".into());
    let threads = args
        .get(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(parla::threads::usable_cores);
    let n = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(2048);
    let mut settings: Vec<GemmBlocks> = args
        .iter()
        .skip(3)
        .filter_map(|s| {
            let v: Vec<usize> = s.split(',').filter_map(|x| x.parse().ok()).collect();
            (v.len() == 3).then(|| GemmBlocks {
                mc: v[0],
                kc: v[1],
                nc: v[2],
            })
        })
        .collect();
    if settings.is_empty() {
        for (mc, kc) in [(96, 256), (192, 256), (128, 384), (128, 512), (256, 384)] {
            settings.push(GemmBlocks { mc, kc, nc: 4096 });
        }
    }
    match dtype.as_str() {
        "f32" => run::<f32>(threads, n, &settings),
        _ => run::<f64>(threads, n, &settings),
    }
}
