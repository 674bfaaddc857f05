//! One parla factorization or square product in a loop, for `perf record` / `perf stat`:
//! `cargo run --release -p parla-peers --example profile_one -- <engine> <solve|lu|inv|det|cholesky|qr|gemm|sgemm|ssolve|scholesky> <threads> <n> [reps] [block]`
//! (`block`: the op's `FactorBlocks` field — `qr` for qr, `cholesky` for cholesky, `lu` for
//! lu and solve — for trying block sizes; `ssolve` and `scholesky` are `f32`, parla's engines only; for gemm and sgemm (`C = A B`, β = 0, into one
//! preallocated C) the GEMM cache blocks as `mc,kc,nc`). `<engine>` may also be `faer` (the
//! same calls on faer, in a pool of `threads` workers). `PROFILE_COLD=1` starts each call with
//! cold caches.

use std::time::Instant;

use ndarray::ShapeBuilder;
use parla::{Engine, Exec};
use parla_peers as peers;

fn main() -> Result<(), parla::Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let name = args.first().map(|s| s.as_str()).unwrap_or("rayon");
    let faer = name == "faer";
    let engine: Engine =
        if faer { "blas" } else { name }
            .parse()
            .map_err(|_| parla::Error::InvalidArgument {
                op: "profile_one",
                name: "engine",
                reason: "unknown engine".into(),
            })?;
    let op = args.get(1).map(|s| s.as_str()).unwrap_or("solve");
    let num = |i: usize, d: usize| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    let (threads, n, reps) = (num(2, 2), num(3, 1024), num(4, 20));
    if faer && matches!(op, "ssolve" | "scholesky") {
        return Err(parla::Error::InvalidArgument {
            op: "profile_one",
            name: "op",
            reason: "ssolve and scholesky (f32) run on parla's engines only".into(),
        });
    }
    let mut exec = Exec::new(engine, threads)?;
    let gemm_blocks: Vec<usize> = args
        .get(5)
        .map(|s| s.split(',').filter_map(|x| x.parse().ok()).collect())
        .unwrap_or_default();
    if let [mc, kc, nc] = gemm_blocks[..] {
        exec = exec.with_gemm_blocks(parla::tuning::GemmBlocks { mc, kc, nc })?;
    } else if let Some(block) = args.get(5).and_then(|s| s.parse().ok()) {
        let mut blocks = parla::tuning::FactorBlocks::default();
        match op {
            "qr" => blocks.qr = block,
            "cholesky" | "scholesky" => blocks.cholesky = block,
            _ => blocks.lu = block,
        }
        exec = exec.with_factor_blocks(blocks)?;
    }
    let a = peers::matrix(n, n, 1);
    // PROFILE_FORTRAN=1: parla's square input in column-major order (faer's own layout).
    let a = if std::env::var("PROFILE_FORTRAN").is_ok_and(|v| v == "1") {
        let mut f = ndarray::Array2::zeros((n, n).f());
        f.assign(&a);
        f
    } else {
        a
    };
    let b = peers::matrix(n, 1, 2);
    let s = peers::spd(n, 3);
    let g = peers::matrix(n, n, 4);
    let (a32, g32) = (a.mapv(|x| x as f32), g.mapv(|x| x as f32));
    let (b32, s32) = (b.mapv(|x| x as f32), s.mapv(|x| x as f32));
    let mut c = ndarray::Array2::<f64>::zeros((n, n));
    let mut c32 = ndarray::Array2::<f32>::zeros((n, n));
    let (fa, fb, fs, fg) = (
        peers::to_faer(&a),
        peers::to_faer(&b),
        peers::to_faer(&s),
        peers::to_faer(&g),
    );
    let to32 = |m: &ndarray::Array2<f32>| faer::Mat::<f32>::from_fn(n, n, |i, j| m[[i, j]]);
    let (fa32, fg32) = (to32(&a32), to32(&g32));
    let mut fc = faer::Mat::<f64>::zeros(n, n);
    let mut fc32 = faer::Mat::<f32>::zeros(n, n);
    let pool = peers::faer_pool(threads);
    let par = peers::faer_par(threads);
    faer::set_global_parallelism(par);
    // PROFILE_COLD=1: before each call, write 64 MiB (untimed) so the call starts with cold
    // caches, as in an interleaved run where other candidates ran in between.
    let cold = std::env::var("PROFILE_COLD").is_ok_and(|v| v == "1");
    let mut flush = vec![0u8; if cold { 64 << 20 } else { 0 }];
    // PROFILE_SLEEP_MS=t: an untimed pause of t ms before each call (as `side_by_side` makes).
    let pause: u64 = std::env::var("PROFILE_SLEEP_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    // PROFILE_SPIN_US=t: an untimed busy wait of t µs right before each call.
    let spin_us: Option<u128> = std::env::var("PROFILE_SPIN_US")
        .ok()
        .and_then(|v| v.parse().ok());
    let mut timed = 0.0;
    let mut cpu = 0.0;
    for _ in 0..reps {
        if cold {
            for (i, x) in flush.iter_mut().enumerate().step_by(64) {
                *x = x.wrapping_add(i as u8);
            }
            std::hint::black_box(&mut flush);
        }
        if pause > 0 {
            std::thread::sleep(std::time::Duration::from_millis(pause));
        }
        if let Some(spin) = spin_us {
            let t0 = Instant::now();
            while t0.elapsed().as_micros() < spin {
                std::hint::spin_loop();
            }
        }
        let (c0, w0) = (peers::cpu_seconds(), Instant::now());
        if faer {
            pool.install(|| match op {
                "solve" => drop::<faer::Mat<f64>>(peers::faer_solve(&fa, &fb)),
                "lu" => drop(peers::faer_lu(&fa)),
                "inv" => drop(peers::faer_inv(&fa)),
                "det" => drop(peers::faer_det(&fa)),
                "qr" => drop(peers::faer_qr(&fa)),
                "gemm" => peers::faer_gemm(&mut fc, &fa, &fg, par),
                "sgemm" => peers::faer_sgemm(&mut fc32, &fa32, &fg32, par),
                _ => drop(peers::faer_cholesky(&fs)),
            });
        } else {
            match op {
                "solve" => drop(exec.solve(&a, &b)?),
                "lu" => drop(exec.lu_factor(&a)?),
                "inv" => drop(exec.inv(&a)?),
                "ssolve" => drop(exec.solve(&a32, &b32)?),
                "scholesky" => drop(exec.cholesky(&s32)?),
                "det" => drop(exec.det(&a)?),
                "qr" => drop(exec.qr_factor(&a)?),
                "gemm" => {
                    exec.gemm(1.0, &a, parla::Trans::No, &g, parla::Trans::No, 0.0, &mut c)?
                }
                "sgemm" => exec.gemm(
                    1.0,
                    &a32,
                    parla::Trans::No,
                    &g32,
                    parla::Trans::No,
                    0.0,
                    &mut c32,
                )?,
                _ => drop(exec.cholesky(&s)?),
            }
        }
        timed += w0.elapsed().as_secs_f64();
        cpu += peers::cpu_seconds() - c0;
    }
    println!(
        "{op} {name} {threads}t n={n}{}: {:.3} ms per call, {:.2} cores busy",
        if cold { " (cold caches)" } else { "" },
        timed / reps as f64 * 1e3,
        cpu / timed
    );
    Ok(())
}
