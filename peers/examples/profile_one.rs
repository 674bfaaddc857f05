//! One parla factorization in a loop, for `perf record` / `perf stat`:
//! `cargo run --release -p parla-peers --example profile_one -- <engine> <solve|lu|cholesky|qr> <threads> <n> [reps] [block]`
//! (`block`: the op's `FactorBlocks` field — `qr` for qr, `cholesky` for cholesky, `lu` for
//! lu and solve — for trying block sizes).

use std::time::Instant;

use parla::{Engine, Exec};
use parla_peers as peers;

fn main() -> Result<(), parla::Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let engine: Engine = args
        .first()
        .map(|s| s.as_str())
        .unwrap_or("rayon")
        .parse()
        .map_err(|_| parla::Error::InvalidArgument {
            op: "profile_one",
            name: "engine",
            reason: "unknown engine".into(),
        })?;
    let op = args.get(1).map(|s| s.as_str()).unwrap_or("solve");
    let num = |i: usize, d: usize| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    let (threads, n, reps) = (num(2, 2), num(3, 1024), num(4, 20));
    let mut exec = Exec::new(engine, threads)?;
    if let Some(block) = args.get(5).and_then(|s| s.parse().ok()) {
        let mut blocks = parla::tuning::FactorBlocks::default();
        match op {
            "qr" => blocks.qr = block,
            "cholesky" => blocks.cholesky = block,
            _ => blocks.lu = block,
        }
        exec = exec.with_factor_blocks(blocks)?;
    }
    let a = peers::matrix(n, n, 1);
    let b = peers::matrix(n, 1, 2);
    let s = peers::spd(n, 3);
    let (c0, w0) = (peers::cpu_seconds(), Instant::now());
    for _ in 0..reps {
        match op {
            "solve" => drop(exec.solve(&a, &b)?),
            "lu" => drop(exec.lu_factor(&a)?),
            "qr" => drop(exec.qr_factor(&a)?),
            _ => drop(exec.cholesky(&s)?),
        }
    }
    let wall = w0.elapsed().as_secs_f64();
    println!(
        "{op} {engine} {threads}t n={n}: {:.3} ms per call, {:.2} cores busy",
        wall / reps as f64 * 1e3,
        (peers::cpu_seconds() - c0) / wall
    );
    Ok(())
}
