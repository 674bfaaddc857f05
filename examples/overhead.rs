//! What parla's layers cost on small calls, where they would show: `matmul` at n = 64 against a
//! raw `cblas_dgemm` into a preallocated buffer (same OpenBLAS, one thread), and a 32 × 32
//! `solve` on each engine at one thread; `auto`'s own cost (its choice) on an `axpy` of 10 000
//! elements against `blas` at the same threads. Calls are interleaved so the machine's noise hits all
//! of them alike; medians of many rounds.
//!
//! Run: `cargo run --release --example overhead -- [rounds]` (default 200).

use std::time::Instant;

use cblas_sys::{cblas_dgemm, CBLAS_LAYOUT, CBLAS_TRANSPOSE};
use ndarray::Array2;
use parla::{Engine, Error, Exec};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Seconds per call of `f`, timed over `reps` calls.
fn per_call(reps: usize, mut f: impl FnMut()) -> f64 {
    let t = Instant::now();
    for _ in 0..reps {
        f();
    }
    t.elapsed().as_secs_f64() / reps as f64
}

fn main() -> Result<(), Error> {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let n = 64;
    let a = Array2::from_shape_fn((n, n), |(i, j)| ((i * 7 + j * 3) % 11) as f64 - 5.0);
    let mut c = Array2::<f64>::zeros((n, n));
    let blas1 = Exec::new(Engine::Blas, 1)?;
    let raw = |c: &mut Array2<f64>| {
        // SAFETY: `a` and `c` are contiguous row-major n × n arrays with leading dimension n;
        // `c` is exclusively borrowed and does not alias `a`.
        unsafe {
            cblas_dgemm(
                CBLAS_LAYOUT::CblasRowMajor,
                CBLAS_TRANSPOSE::CblasNoTrans,
                CBLAS_TRANSPOSE::CblasNoTrans,
                n as i32,
                n as i32,
                n as i32,
                1.0,
                a.as_ptr(),
                n as i32,
                a.as_ptr(),
                n as i32,
                0.0,
                c.as_mut_ptr(),
                n as i32,
            )
        }
    };
    let m = 32;
    let s = Array2::from_shape_fn((m, m), |(i, j)| {
        if i == j {
            40.0
        } else {
            ((i + 2 * j) % 7) as f64
        }
    });
    let rhs = Array2::from_shape_fn((m, 1), |(i, _)| i as f64);
    let solvers = [Engine::Blas, Engine::RayonBlas, Engine::Rayon]
        .map(|e| Exec::new(e, 1))
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
    let x = ndarray::Array1::from_shape_fn(10_000, |i| i as f64);
    let mut y = ndarray::Array1::from_shape_fn(10_000, |i| 1.0 + i as f64);
    let cores = parla::threads::usable_cores();
    let axpy_execs = [
        Exec::new(Engine::Auto, cores)?,
        Exec::new(Engine::Blas, cores)?,
    ];
    // Warm-up: pools, first-touch, OpenBLAS's buffers.
    for _ in 0..50 {
        raw(&mut c);
        blas1.matmul(&a, &a)?;
        for e in &solvers {
            e.solve(&s, &rhs)?;
        }
    }
    let reps = 20;
    let (mut t_raw, mut t_mm) = (Vec::new(), Vec::new());
    let mut t_solve = vec![Vec::new(); solvers.len()];
    let mut t_axpy = vec![Vec::new(); 2];
    for _ in 0..rounds {
        for (e, t) in axpy_execs.iter().zip(t_axpy.iter_mut()) {
            t.push(per_call(200, || drop(e.axpy(1e-9, &x, &mut y))));
        }
        t_raw.push(per_call(reps, || raw(&mut c)));
        t_mm.push(per_call(reps, || drop(blas1.matmul(&a, &a))));
        for (e, t) in solvers.iter().zip(t_solve.iter_mut()) {
            t.push(per_call(reps, || drop(e.solve(&s, &rhs))));
        }
    }
    let (raw_s, mm_s) = (median(t_raw), median(t_mm));
    println!("matmul n={n}, 1 thread: raw cblas_dgemm {:.2} µs, parla::matmul {:.2} µs: speed ratio {:.3}x (raw / parla)", raw_s * 1e6, mm_s * 1e6, raw_s / mm_s);
    for (e, t) in solvers.iter().zip(t_solve) {
        println!(
            "solve {m}x{m}, 1 rhs, {:>10} 1 thread: {:.2} µs",
            e.engine().to_string(),
            median(t) * 1e6
        );
    }
    let (auto_s, blas_s) = (median(t_axpy[0].clone()), median(t_axpy[1].clone()));
    println!(
        "axpy n=10000, {cores} threads: auto {:.0} ns, blas {:.0} ns: auto costs {:.0} ns per call",
        auto_s * 1e9,
        blas_s * 1e9,
        (auto_s - blas_s) * 1e9
    );
    Ok(())
}
