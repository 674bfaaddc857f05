//! The `blas` engine's `solve`, `det` and `inv` against a direct LAPACK call on the same input
//! (the row-major matrix copied to column-major as LAPACK needs, then `dgesv` / `dgetrf` /
//! `dgetrf` + `dgetri`), interleaved, at one and all threads. A ratio above 1 is what parla's
//! wrapper (validation, copies, checks for the careful paths) costs.
//!
//! Run: `cargo run --release --example lapack_overhead -- [threads] [sizes...]`
//! (default: the usable cores; 256 512 1024).

use std::time::Instant;

use ndarray::{Array2, ShapeBuilder};
use parla::{Engine, Error, Exec};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn lapack_gesv(a: &Array2<f64>, b: &Array2<f64>) -> Array2<f64> {
    let n = a.nrows() as i32;
    let nrhs = b.ncols() as i32;
    let mut f = Array2::<f64>::zeros((a.nrows(), a.ncols()).f());
    f.assign(a);
    let mut x = Array2::<f64>::zeros((b.nrows(), b.ncols()).f());
    x.assign(b);
    let mut ipiv = vec![0i32; a.nrows()];
    let mut info = 0;
    // SAFETY: `f` is n × n and `x` n × nrhs, both column-major with leading dimension n;
    // `ipiv` has n entries.
    unsafe {
        lapack_sys::dgesv_(
            &n,
            &nrhs,
            f.as_mut_ptr(),
            &n,
            ipiv.as_mut_ptr(),
            x.as_mut_ptr(),
            &n,
            &mut info,
        )
    };
    assert_eq!(info, 0);
    x
}

fn lapack_getrf(a: &Array2<f64>) -> (Array2<f64>, Vec<i32>) {
    let n = a.nrows() as i32;
    let mut f = Array2::<f64>::zeros((a.nrows(), a.ncols()).f());
    f.assign(a);
    let mut ipiv = vec![0i32; a.nrows()];
    let mut info = 0;
    // SAFETY: `f` is n × n column-major with leading dimension n; `ipiv` has n entries.
    unsafe { lapack_sys::dgetrf_(&n, &n, f.as_mut_ptr(), &n, ipiv.as_mut_ptr(), &mut info) };
    assert_eq!(info, 0);
    (f, ipiv)
}

fn lapack_det(a: &Array2<f64>) -> f64 {
    let (f, ipiv) = lapack_getrf(a);
    let mut d = 1.0;
    for (i, &p) in ipiv.iter().enumerate() {
        d *= f[[i, i]];
        if p as usize != i + 1 {
            d = -d;
        }
    }
    d
}

fn lapack_inv(a: &Array2<f64>) -> Array2<f64> {
    let (mut f, ipiv) = lapack_getrf(a);
    let n = a.nrows() as i32;
    let lwork = 64 * n;
    let mut work = vec![0.0f64; lwork as usize];
    let mut info = 0;
    // SAFETY: `f` holds the n × n getrf factor (ld n) with its pivots; `work` has `lwork` entries.
    unsafe {
        lapack_sys::dgetri_(
            &n,
            f.as_mut_ptr(),
            &n,
            ipiv.as_ptr(),
            work.as_mut_ptr(),
            &lwork,
            &mut info,
        )
    };
    assert_eq!(info, 0);
    f
}

fn time(reps: usize, mut f: impl FnMut()) -> f64 {
    let t = Instant::now();
    for _ in 0..reps {
        f();
    }
    t.elapsed().as_secs_f64() / reps as f64
}

fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let threads: usize = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(parla::threads::usable_cores);
    let mut sizes: Vec<usize> = args.filter_map(|s| s.parse().ok()).collect();
    if sizes.is_empty() {
        sizes = vec![256, 512, 1024];
    }
    let exec = Exec::new(Engine::Blas, threads)?;
    // Direct LAPACK calls run with the same OpenBLAS thread count parla sets.
    println!("blas engine vs direct LAPACK, {threads} thread(s), medians; ratio = parla / LAPACK");
    println!(
        "{:>6} {:>8} {:>12} {:>12} {:>7}",
        "n", "op", "parla", "LAPACK", "ratio"
    );
    for n in sizes {
        let a = Array2::from_shape_fn((n, n), |(i, j)| {
            let x = ((i * 7919 + j * 104_729) % 1000) as f64 / 1000.0 - 0.5;
            if i == j {
                x + n as f64 / 8.0
            } else {
                x
            }
        });
        let b = Array2::from_shape_fn((n, 1), |(i, _)| (i % 17) as f64);
        let reps = (2_000_000 / (n * n)).clamp(1, 200);
        let rounds = 15;
        type Case<'a> = (&'static str, Box<dyn FnMut() + 'a>, Box<dyn FnMut() + 'a>);
        let cases: Vec<Case> = vec![
            (
                "solve",
                Box::new(|| drop(exec.solve(&a, &b).unwrap())),
                Box::new(|| drop(lapack_gesv(&a, &b))),
            ),
            (
                "det",
                Box::new(|| {
                    std::hint::black_box(exec.det(&a).unwrap());
                }),
                Box::new(|| {
                    std::hint::black_box(lapack_det(&a));
                }),
            ),
            (
                "inv",
                Box::new(|| drop(exec.inv(&a).unwrap())),
                Box::new(|| drop(lapack_inv(&a))),
            ),
        ];
        for (name, mut ours, mut theirs) in cases {
            ours(); // warm-up; also sets OpenBLAS to `threads` for the direct calls
            theirs();
            let (mut t1, mut t2) = (Vec::new(), Vec::new());
            for _ in 0..rounds {
                t1.push(time(reps, &mut ours));
                t2.push(time(reps, &mut theirs));
            }
            let (p, l) = (median(t1), median(t2));
            println!(
                "{n:>6} {name:>8} {:>9.3} ms {:>9.3} ms {:>6.3}x",
                p * 1e3,
                l * 1e3,
                p / l
            );
        }
    }
    Ok(())
}
