//! `_into` variants: written into a window of a larger array full of a sentinel (C order,
//! F order, reversed rows), they give the allocating operation's result and leave every cell
//! outside the window untouched; wrong output shapes and outputs that share memory with an
//! input are typed errors. All engines.

use crate::common;

use common::guard::{Guarded, WINDOW_LAYOUTS};
use common::*;
use ndarray::{
    s, Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2, Axis, ShapeBuilder,
};
use parla::{c32, c64, Engine, Error, Exec, Field, QrMode};

use crate::complex;

const SENTINEL: f64 = -777.25;
const ENGINES: [Engine; 3] = [Engine::Blas, Engine::RayonBlas, Engine::Rayon];

fn close(x: &Array2<f64>, y: &Array2<f64>, tol: f64) -> bool {
    x.dim() == y.dim()
        && x.iter()
            .zip(y)
            .all(|(a, b)| (a - b).abs() <= tol * (1.0 + b.abs()))
}

/// Runs `write` into a guarded window of every layout and checks it against `want`.
fn check_2d(
    ctx: &str,
    rows: usize,
    cols: usize,
    tol: f64,
    want: &Array2<f64>,
    write: impl Fn(&mut ArrayViewMut2<f64>) -> parla::Result<()>,
) {
    for layout in WINDOW_LAYOUTS {
        let mut b = Guarded::new(rows, cols, layout, SENTINEL);
        write(&mut b.window()).unwrap_or_else(|e| panic!("{ctx} layout {layout}: {e}"));
        let (got, intact) = (b.read().to_owned(), b.written_outside().is_none());
        assert!(intact, "{ctx} layout {layout}: a guard cell was written");
        assert!(
            close(&got, want, tol),
            "{ctx} layout {layout}: {got} vs {want}"
        );
    }
}

/// The same for a vector output: a strided window (every other element) of a longer vector.
fn check_1d(
    ctx: &str,
    len: usize,
    tol: f64,
    want: &Array1<f64>,
    write: impl Fn(&mut ArrayViewMut1<f64>) -> parla::Result<()>,
) {
    for step in [1isize, 2, -1] {
        let mut v = Array1::from_elem(2 * len + 3, SENTINEL);
        let range = if step == -1 {
            s![1..1 + len;-1]
        } else {
            s![1..1 + step as usize * len;step]
        };
        write(&mut v.slice_mut(range)).unwrap_or_else(|e| panic!("{ctx} step {step}: {e}"));
        let got = v.slice(range).to_owned();
        let untouched = v.iter().enumerate().filter(|&(i, _)| {
            let inside = if step == 2 {
                i >= 1 && i < 1 + 2 * len && (i - 1) % 2 == 0
            } else {
                (1..1 + len).contains(&i)
            };
            !inside
        });
        assert!(
            untouched
                .clone()
                .all(|(_, x)| x.to_bits() == SENTINEL.to_bits()),
            "{ctx} step {step}: guard written"
        );
        let ok = got
            .iter()
            .zip(want)
            .all(|(a, b)| (a - b).abs() <= tol * (1.0 + b.abs()));
        assert!(ok, "{ctx} step {step}: {got} vs {want}");
    }
}

#[test]
fn level3_elementwise_and_reductions_into_guarded_windows() {
    let mut rng = rng(21);
    for engine in ENGINES {
        for t in [1, 2] {
            let e = Exec::new(engine, t).unwrap();
            let ctx = format!("{engine} {t}");
            for (m, k, n) in [(1, 1, 1), (7, 5, 3), (64, 64, 64), (70, 33, 129)] {
                let a = random(&mut rng, m, k);
                let b = random(&mut rng, k, n);
                let want = e.matmul(&a, &b).unwrap();
                check_2d(
                    &format!("{ctx} matmul {m}x{k}x{n}"),
                    m,
                    n,
                    1e-13,
                    &want,
                    |o| e.matmul_into(&a, &b, o),
                );
                // Transposed, F-order and negative-stride inputs.
                let at = fortran(&a.t().to_owned());
                let want = e.matmul(&at.t(), &b.slice(s![..;-1, ..])).unwrap();
                check_2d(&format!("{ctx} matmul views"), m, n, 1e-13, &want, |o| {
                    e.matmul_into(&at.t(), &b.slice(s![..;-1, ..]), o)
                });
            }
            for (r, c) in [(1, 1), (5, 9), (40, 70), (90, 70)] {
                let a = random(&mut rng, r, c);
                let a2 = random(&mut rng, r, c);
                check_2d(
                    &format!("{ctx} transpose"),
                    c,
                    r,
                    0.0,
                    &a.t().to_owned(),
                    |o| e.transpose_into(&a, o),
                );
                let want = e.map(&a, |x| x * 3.0 - 1.0).unwrap();
                check_2d(&format!("{ctx} map"), r, c, 0.0, &want, |o| {
                    e.map_into(&a, o, |x| x * 3.0 - 1.0)
                });
                let want = e.zip_with(&a, &a2, f64::max).unwrap();
                check_2d(&format!("{ctx} zip_with"), r, c, 0.0, &want, |o| {
                    e.zip_with_into(&a, &a2, o, f64::max)
                });
                let want = &a * &a2;
                check_2d(&format!("{ctx} multiply"), r, c, 0.0, &want, |o| {
                    e.multiply_into(&a, &a2, o)
                });
                type Red = fn(&Exec, &Array2<f64>) -> parla::Result<Array1<f64>>;
                type RedInto =
                    fn(&Exec, &Array2<f64>, &mut ArrayViewMut1<f64>) -> parla::Result<()>;
                let reds: [(&str, Red, RedInto, usize); 4] = [
                    (
                        "row_sums",
                        |e, a| e.row_sums(a),
                        |e, a, o| e.row_sums_into(a, o),
                        r,
                    ),
                    (
                        "col_sums",
                        |e, a| e.col_sums(a),
                        |e, a, o| e.col_sums_into(a, o),
                        c,
                    ),
                    (
                        "row_norms",
                        |e, a| e.row_norms(a),
                        |e, a, o| e.row_norms_into(a, o),
                        r,
                    ),
                    (
                        "col_norms",
                        |e, a| e.col_norms(a),
                        |e, a, o| e.col_norms_into(a, o),
                        c,
                    ),
                ];
                for (name, red, into, len) in reds {
                    let want = red(&e, &a).unwrap();
                    check_1d(&format!("{ctx} {name}"), len, 1e-14, &want, |o| {
                        into(&e, &a, o)
                    });
                    let af = fortran(&a);
                    check_1d(&format!("{ctx} {name} F"), len, 1e-14, &want, |o| {
                        into(&e, &af, o)
                    });
                }
            }
        }
    }
}

#[test]
fn factorizations_into_guarded_windows() {
    let mut rng = rng(22);
    for engine in ENGINES {
        let e = Exec::new(engine, 2).unwrap();
        for n in [1, 6, 50, 97] {
            let ctx = format!("{engine} n={n}");
            let a = random(&mut rng, n, n);
            let b = random(&mut rng, n, 3);
            let want = e.solve(&a, &b).unwrap();
            check_2d(&format!("{ctx} solve"), n, 3, 1e-9, &want, |o| {
                e.solve_into(&a, &b, o)
            });
            let bv = b.column(0).to_owned();
            let want = e.solve(&a, &bv).unwrap();
            check_1d(&format!("{ctx} solve 1-D"), n, 1e-9, &want, |o| {
                e.solve_into(&a, &bv, o)
            });
            let want = e.inv(&a).unwrap();
            check_2d(&format!("{ctx} inv"), n, n, 1e-9, &want, |o| {
                e.inv_into(&a, o)
            });
            let s = spd(&mut rng, n);
            let want = e.cholesky(&s).unwrap();
            check_2d(&format!("{ctx} cholesky"), n, n, 1e-12, &want, |o| {
                e.cholesky_into(&s, o)
            });
            let w = random(&mut rng, n + 3, n);
            for mode in [QrMode::Reduced, QrMode::Complete] {
                let f = e.qr(&w, mode).unwrap();
                let qc = f.q.ncols();
                check_2d(&format!("{ctx} qr q {mode:?}"), n + 3, qc, 0.0, &f.q, |o| {
                    let mut r = Array2::zeros((qc, n));
                    e.qr_into(&w, mode, o, &mut r)
                });
                check_2d(&format!("{ctx} qr r {mode:?}"), qc, n, 0.0, &f.r, |o| {
                    let mut q = Array2::zeros((n + 3, qc));
                    e.qr_into(&w, mode, &mut q, o)
                });
            }
            let f = e.lu(&w).unwrap();
            let k = n;
            check_2d(&format!("{ctx} lu l"), n + 3, k, 0.0, &f.l, |o| {
                let (mut u, mut perm) = (Array2::zeros((k, n)), vec![0; n + 3]);
                e.lu_into(&w, o, &mut u, &mut perm)?;
                assert_eq!(perm, f.perm);
                Ok(())
            });
            check_2d(&format!("{ctx} lu u"), k, n, 0.0, &f.u, |o| {
                let (mut l, mut perm) = (Array2::zeros((n + 3, k)), vec![0; n + 3]);
                e.lu_into(&w, &mut l, o, &mut perm)
            });
        }
        // Errors keep their types: singular, not positive definite.
        let sing = ndarray::array![[1.0, 2.0], [2.0, 4.0]];
        let mut o = Array2::zeros((2, 2));
        assert!(matches!(
            e.solve_into(&sing, &Array2::<f64>::ones((2, 2)), &mut o),
            Err(Error::Singular { op: "solve", .. })
        ));
        assert!(matches!(
            e.inv_into(&sing, &mut o),
            Err(Error::Singular { op: "inv", .. })
        ));
        assert!(matches!(
            e.cholesky_into(&sing, &mut o),
            Err(Error::NotPositiveDefinite {
                op: "cholesky",
                index: 1
            })
        ));
    }
}

/// The output-shape errors of the solves and factorizations, for any element type: `a` is
/// `3 × 4`, `sq` `3 × 3`, `o` a `3 × 3` and `v` a length-5 output, each call is refused with
/// [`Error::ShapeMismatch`] naming its operation.
fn factorization_shape_errors<T: Field>(
    e: &Exec,
    a: &Array2<T>,
    sq: &Array2<T>,
    o: &mut Array2<T>,
    v: &mut Array1<T>,
) {
    let engine = e.engine();
    let mm = |r: parla::Result<()>, op: &str| match r {
        Err(Error::ShapeMismatch { op: got, .. }) => assert_eq!(got, op, "{engine}"),
        other => panic!("{engine} {op}: {other:?}"),
    };
    mm(e.solve_into(sq, &Array1::<T>::ones(3), v), "solve");
    mm(e.solve_into(sq, &Array2::<T>::ones((3, 2)), o), "solve");
    mm(e.inv_into(sq, &mut Array2::zeros((3, 2))), "inv");
    mm(e.cholesky_into(sq, &mut Array2::zeros((2, 3))), "cholesky");
    mm(
        e.lu_into(
            a,
            &mut Array2::zeros((3, 4)),
            &mut Array2::zeros((3, 4)),
            &mut [0; 3],
        ),
        "lu",
    );
    mm(
        e.lu_into(
            a,
            &mut Array2::zeros((3, 3)),
            &mut Array2::zeros((3, 4)),
            &mut [0; 4],
        ),
        "lu",
    );
    mm(
        e.qr_into(a, QrMode::Complete, o, &mut Array2::zeros((3, 3))),
        "qr",
    );
}

#[test]
fn wrong_output_shapes_are_typed_errors() {
    let a = Array2::<f64>::ones((3, 4));
    let sq = Array2::<f64>::eye(3);
    for engine in ENGINES {
        let e = Exec::new(engine, 1).unwrap();
        let mut o = Array2::<f64>::zeros((3, 3));
        let mut v = Array1::<f64>::zeros(5);
        let mm = |r: parla::Result<()>, op: &str| match r {
            Err(Error::ShapeMismatch { op: got, .. }) => assert_eq!(got, op, "{engine}"),
            other => panic!("{engine} {op}: {other:?}"),
        };
        mm(
            e.matmul_into(&a, &a.t(), &mut Array2::zeros((3, 4))),
            "matmul",
        );
        mm(e.transpose_into(&a, &mut o), "transpose");
        mm(e.map_into(&a, &mut o, |x| x), "map");
        mm(e.zip_with_into(&a, &a, &mut o, |x, y| x + y), "zip_with");
        mm(e.multiply_into(&a, &a, &mut o), "multiply");
        mm(e.row_sums_into(&a, &mut v), "row_sums");
        mm(e.col_norms_into(&a, &mut v), "col_norms");
        factorization_shape_errors(&e, &a, &sq, &mut o, &mut v);
        e.lu_into(&a, &mut o, &mut Array2::zeros((3, 4)), &mut [0; 3])
            .unwrap();
        // Empty problems write nothing and succeed.
        let mut empty = Array2::<f64>::zeros((0, 0));
        e.inv_into(&Array2::<f64>::zeros((0, 0)), &mut empty)
            .unwrap();
        let mut z = Array2::from_elem((2, 3), 5.0);
        e.matmul_into(
            &Array2::<f64>::zeros((2, 0)),
            &Array2::<f64>::zeros((0, 3)),
            &mut z,
        )
        .unwrap();
        assert_eq!(z, Array2::<f64>::zeros((2, 3)), "k = 0 gives zeros");
    }
}

#[test]
fn outputs_sharing_memory_with_an_input_are_rejected() {
    for engine in ENGINES {
        let e = Exec::new(engine, 1).unwrap();
        let mut buf = Array2::<f64>::eye(4);
        let other = Array2::<f64>::eye(4);
        let ptr = buf.as_ptr();
        // SAFETY (test): a read-only view of `buf`'s memory while `buf` is the output: exactly
        // the aliasing the functions must refuse before they touch either.
        let alias: ArrayView2<f64> = unsafe { ArrayView2::from_shape_ptr((4, 4), ptr) };
        let part: ArrayView2<f64> =
            unsafe { ArrayView2::from_shape_ptr((2, 2).strides((4, 1)), ptr.add(10)) };
        let is = |r: parla::Result<()>, op: &str, input: &str| match r {
            Err(Error::Aliasing { op: o, input: i }) => assert_eq!((o, i), (op, input), "{engine}"),
            other => panic!("{engine} {op}: {other:?}"),
        };
        is(e.matmul_into(&alias, &other, &mut buf), "matmul", "a");
        is(e.matmul_into(&other, &alias, &mut buf), "matmul", "b");
        is(e.transpose_into(&alias, &mut buf), "transpose", "a");
        is(e.map_into(&alias, &mut buf, |x| x), "map", "a");
        is(e.multiply_into(&other, &alias, &mut buf), "multiply", "b");
        is(
            e.zip_with_into(&alias, &other, &mut buf, |x, y| x - y),
            "zip_with",
            "a",
        );
        is(e.solve_into(&alias, &other, &mut buf), "solve", "a");
        is(e.solve_into(&other, &alias, &mut buf), "solve", "b");
        is(e.inv_into(&alias, &mut buf), "inv", "a");
        is(e.cholesky_into(&alias, &mut buf), "cholesky", "a");
        // A sub-block overlapping part of the output is caught as well.
        let mut sub = buf.slice_mut(s![2.., 2..]);
        is(e.transpose_into(&part, &mut sub), "transpose", "a");
        let mut row = buf.row_mut(0);
        is(e.col_sums_into(&alias, &mut row), "col_sums", "a");
        let mut bvec = Array1::<f64>::ones(4);
        // SAFETY (test): as above, the right-hand side is the output's memory.
        let bview: ArrayView1<f64> = unsafe { ArrayView1::from_shape_ptr(4, bvec.as_ptr()) };
        is(e.solve_into(&other, &bview, &mut bvec), "solve", "b");
        assert_eq!(buf, Array2::<f64>::eye(4), "{engine}: nothing written");
        // Disjoint windows of one array are accepted.
        let mut whole = Array2::<f64>::zeros((4, 8));
        let (left, mut right) = whole.view_mut().split_at(Axis(1), 4);
        e.transpose_into(&left, &mut right).unwrap();
    }
}

// ---- Complex (`c32`, `c64`): the same `_into` variants where the allocating op is complex. ----

/// A complex operand of `T` from its `c64` value, and the tolerance unit `ε` of `T`.
struct Cx<T> {
    of: fn(&Array2<c64>) -> Array2<T>,
    eps: f64,
}

const C64: Cx<c64> = Cx {
    of: |a| a.clone(),
    eps: f64::EPSILON,
};
const C32: Cx<c32> = Cx {
    of: complex::to32,
    eps: f32::EPSILON as f64,
};

/// A complex sentinel no operation writes (both parts set, exactly representable in `c32`).
fn csentinel<T: Field>(cx: &Cx<T>) -> T {
    (cx.of)(&Array2::from_elem((1, 1), c64::new(-777.25, 3.5)))[[0, 0]]
}

/// [`check_2d`] for complex outputs: `write` goes into a guarded window of every layout; the
/// window (as `c64`) is handed to `judge`, and every cell outside it must keep the sentinel.
fn check_2d_c<T: Field>(
    cx: &Cx<T>,
    ctx: &str,
    rows: usize,
    cols: usize,
    write: impl Fn(&mut ArrayViewMut2<T>) -> parla::Result<()>,
    judge: impl Fn(&str, &Array2<c64>),
) {
    let sent = csentinel(cx);
    for layout in WINDOW_LAYOUTS {
        let mut big = Guarded::new(rows, cols, layout, sent);
        write(&mut big.window()).unwrap_or_else(|e| panic!("{ctx} layout {layout}: {e}"));
        if let Some((i, j)) = big.written_outside() {
            panic!("{ctx} layout {layout}: guard cell ({i}, {j}) was written");
        }
        judge(
            &format!("{ctx} layout {layout}"),
            &complex::to64(&big.read()),
        );
    }
}

/// `Σₚ |aᵢₚ| |bₚⱼ|` (the scale of a product's rounding error, entry by entry).
fn abs_product(a: &Array2<c64>, b: &Array2<c64>) -> Array2<f64> {
    let (aa, ba) = (a.mapv(|z| z.norm()), b.mapv(|z| z.norm()));
    aa.dot(&ba)
}

fn cfro(a: &Array2<c64>) -> f64 {
    complex::fro(&a.view())
}

/// Every `_into` of a complex op, for one engine and one element type, against the
/// allocating op on the same engine.
fn complex_into_case<T: Field>(e: &Exec, cx: &Cx<T>, seed: u64) {
    let mut g = rng(seed);
    let eps = cx.eps;
    for (m, k, n) in [(1, 1, 1), (7, 5, 3), (33, 40, 65)] {
        let (a64, b64) = (
            complex::crandom(&mut g, m, k),
            complex::crandom(&mut g, k, n),
        );
        let (a, b) = ((cx.of)(&a64), (cx.of)(&b64));
        let want = complex::to64(&e.matmul(&a, &b).unwrap().view());
        // The conjugation-free product of the stored operands (exact inputs: `a`, `b` as `c64`).
        let (ax, bx) = (complex::to64(&a.view()), complex::to64(&b.view()));
        let scale = abs_product(&ax, &bx);
        let reference = complex::ref_matmul(&ax.view(), &bx.view());
        let judge = |ctx: &str, got: &Array2<c64>| {
            for ((i, j), z) in got.indexed_iter() {
                let bound = 8.0 * k as f64 * eps * scale[[i, j]];
                assert!(
                    (z - want[[i, j]]).norm() <= bound && (z - reference[[i, j]]).norm() <= bound,
                    "{ctx} ({i}, {j}): {z} vs {} (triple loop {})",
                    want[[i, j]],
                    reference[[i, j]]
                );
            }
        };
        let ctx = format!("{e:?} matmul {m}x{k}x{n}");
        check_2d_c(cx, &ctx, m, n, |o| e.matmul_into(&a, &b, o), judge);
        // The same operands as an F-order `Aᵀ` seen transposed and `B` with reversed rows
        // read backwards.
        let at = fortran(&a.t().to_owned());
        let brev = b.slice(s![..;-1, ..]).to_owned();
        check_2d_c(
            cx,
            &format!("{ctx} views"),
            m,
            n,
            |o| e.matmul_into(&at.t(), &brev.slice(s![..;-1, ..]), o),
            judge,
        );
    }
    for n in [1, 5, 40, 70] {
        let ctx = format!("{e:?} n={n}");
        let a64 = complex::crandom(&mut g, n, n) + complex::eye(n) * c64::new(2.0, 1.0);
        let a = (cx.of)(&a64);
        let ax = complex::to64(&a.view());
        let b = (cx.of)(&complex::crandom(&mut g, n, 3));
        let bx = complex::to64(&b.view());
        let inv_want = complex::to64(&e.inv(&a).unwrap().view());
        // κ_F = ‖A‖_F ‖A⁻¹‖_F: how far two backward-stable answers may lie apart.
        let kappa = cfro(&ax) * cfro(&inv_want);
        let near = |ctx: &str, got: &Array2<c64>, want: &Array2<c64>| {
            let d = cfro(&(got - want));
            assert!(
                d <= 4.0 * n as f64 * eps * kappa * cfro(want),
                "{ctx}: ‖got − want‖ = {d:e}, κ = {kappa:e}"
            );
        };
        // Solve: the LAPACK ratio ‖A X − B‖ / (‖A‖ ‖X‖ n ε), and near the allocating solve.
        let want = complex::to64(&e.solve(&a, &b).unwrap().view());
        check_2d_c(
            cx,
            &format!("{ctx} solve"),
            n,
            3,
            |o| e.solve_into(&a, &b, o),
            |ctx, x| {
                let r = cfro(&(complex::ref_matmul(&ax.view(), &x.view()) - &bx));
                let ratio = r / (cfro(&ax) * cfro(x) * n as f64 * eps);
                assert!(ratio < 30.0, "{ctx}: solve ratio {ratio}");
                near(ctx, x, &want);
            },
        );
        let bv = b.column(0).to_owned();
        let want1 = e.solve(&a, &bv).unwrap();
        let mut x1 = Array1::from_elem(2 * n + 1, csentinel(cx));
        e.solve_into(&a, &bv, &mut x1.slice_mut(s![..2 * n;2]))
            .unwrap();
        assert!(
            x1.slice(s![1..;2]).iter().all(|&v| v == csentinel(cx)) && x1[2 * n] == csentinel(cx),
            "{ctx} solve 1-D: guard written"
        );
        let got1 = complex::to64(&x1.slice(s![..2 * n;2]).insert_axis(Axis(1)));
        near(
            &format!("{ctx} solve 1-D"),
            &got1,
            &complex::to64(&want1.view().insert_axis(Axis(1))),
        );
        // Inverse: ‖A X − I‖ / (‖A‖ ‖X‖ n ε), and near the allocating inv.
        check_2d_c(
            cx,
            &format!("{ctx} inv"),
            n,
            n,
            |o| e.inv_into(&a, o),
            |ctx, x| {
                let r = cfro(&(complex::ref_matmul(&ax.view(), &x.view()) - complex::eye(n)));
                let ratio = r / (cfro(&ax) * cfro(x) * n as f64 * eps);
                assert!(ratio < 30.0, "{ctx}: inv ratio {ratio}");
                near(ctx, x, &inv_want);
            },
        );
        // Cholesky of a Hermitian, not symmetric matrix: ‖L Lᴴ − A‖ / (‖A‖ n ε), L lower,
        // near the allocating cholesky.
        let h64 = complex::hpd(&mut g, n);
        let hp = (cx.of)(&h64);
        let hx = complex::to64(&hp.view());
        let lwant = complex::to64(&e.cholesky(&hp).unwrap().view());
        check_2d_c(
            cx,
            &format!("{ctx} cholesky"),
            n,
            n,
            |o| e.cholesky_into(&hp, o),
            |ctx, l| {
                assert!(
                    l.indexed_iter()
                        .all(|((i, j), z)| j <= i || *z == c64::new(0.0, 0.0)),
                    "{ctx}: not lower triangular"
                );
                let llh = complex::ref_matmul(&l.view(), &complex::h(&l.view()).view());
                let ratio = cfro(&(llh - &hx)) / (cfro(&hx) * n as f64 * eps);
                assert!(ratio < 30.0, "{ctx}: cholesky ratio {ratio}");
                let d = cfro(&(l - &lwant));
                assert!(d <= 8.0 * n as f64 * eps * cfro(&lwant), "{ctx}: {d:e}");
            },
        );
        // LU and QR of a tall matrix: bitwise the allocating op's factors (same path).
        let w = (cx.of)(&complex::crandom(&mut g, n + 3, n));
        let f = e.lu(&w).unwrap();
        let (l_want, u_want) = (complex::to64(&f.l.view()), complex::to64(&f.u.view()));
        check_2d_c(
            cx,
            &format!("{ctx} lu l"),
            n + 3,
            n,
            |o| {
                let (mut u, mut perm) = (Array2::zeros((n, n)), vec![0; n + 3]);
                e.lu_into(&w, o, &mut u, &mut perm)?;
                assert_eq!(perm, f.perm, "{ctx} lu perm");
                Ok(())
            },
            |ctx, l| assert_eq!(l, &l_want, "{ctx}"),
        );
        check_2d_c(
            cx,
            &format!("{ctx} lu u"),
            n,
            n,
            |o| {
                let (mut l, mut perm) = (Array2::zeros((n + 3, n)), vec![0; n + 3]);
                e.lu_into(&w, &mut l, o, &mut perm)
            },
            |ctx, u| assert_eq!(u, &u_want, "{ctx}"),
        );
        for mode in [QrMode::Reduced, QrMode::Complete] {
            let f = e.qr(&w, mode).unwrap();
            let qc = f.q.ncols();
            let (q_want, r_want) = (complex::to64(&f.q.view()), complex::to64(&f.r.view()));
            check_2d_c(
                cx,
                &format!("{ctx} qr q {mode:?}"),
                n + 3,
                qc,
                |o| e.qr_into(&w, mode, o, &mut Array2::zeros((qc, n))),
                |ctx, q| assert_eq!(q, &q_want, "{ctx}"),
            );
            check_2d_c(
                cx,
                &format!("{ctx} qr r {mode:?}"),
                qc,
                n,
                |o| e.qr_into(&w, mode, &mut Array2::zeros((n + 3, qc)), o),
                |ctx, r| assert_eq!(r, &r_want, "{ctx}"),
            );
        }
    }
}

/// The three engines at two threads, and the rayon engines again with tiny recursion bases
/// and panels (the blocked paths on small matrices).
fn complex_engines() -> Vec<Exec> {
    let mut v: Vec<Exec> = ENGINES
        .iter()
        .map(|&engine| Exec::new(engine, 2).unwrap())
        .collect();
    v.extend(tiny_block_engines());
    v
}

#[test]
fn complex_into_c64_matches_the_allocating_ops_in_guarded_windows() {
    for (i, e) in complex_engines().iter().enumerate() {
        complex_into_case(e, &C64, 40 + i as u64);
    }
}

#[test]
fn complex_into_c32_matches_the_allocating_ops_in_guarded_windows() {
    for (i, e) in complex_engines().iter().enumerate() {
        complex_into_case(e, &C32, 50 + i as u64);
    }
}

#[test]
fn complex_into_bad_shapes_aliasing_and_non_finite_input_are_typed_errors() {
    let z = c64::new(0.0, 0.0);
    let a = Array2::<c64>::ones((3, 4));
    let sq = complex::eye(3) * c64::new(1.0, 1.0);
    for engine in ENGINES {
        let e = Exec::new(engine, 1).unwrap();
        let mut o = Array2::<c64>::zeros((3, 3));
        let mut v = Array1::<c64>::zeros(5);
        let mm = |r: parla::Result<()>, op: &str| match r {
            Err(Error::ShapeMismatch { op: got, .. }) => assert_eq!(got, op, "{engine}"),
            other => panic!("{engine} {op}: {other:?}"),
        };
        mm(
            e.matmul_into(&a, &a.t(), &mut Array2::zeros((3, 4))),
            "matmul",
        );
        mm(e.matmul_into(&a, &a, &mut o), "matmul");
        factorization_shape_errors(&e, &a, &sq, &mut o, &mut v);
        assert_eq!(o, Array2::<c64>::zeros((3, 3)), "{engine}: nothing written");

        // Aliasing: read-only views of the output's memory as inputs.
        let mut buf = complex::eye(4);
        let other = complex::eye(4) * c64::new(0.0, 2.0);
        let ptr = buf.as_ptr();
        // SAFETY (test): a read-only view of `buf`'s memory while `buf` is the output: the
        // aliasing the functions must refuse before touching either.
        let alias: ArrayView2<c64> = unsafe { ArrayView2::from_shape_ptr((4, 4), ptr) };
        let is = |r: parla::Result<()>, op: &str, input: &str| match r {
            Err(Error::Aliasing { op: o, input: i }) => {
                assert_eq!((o, i), (op, input), "{engine}")
            }
            other => panic!("{engine} {op}: {other:?}"),
        };
        is(e.matmul_into(&alias, &other, &mut buf), "matmul", "a");
        is(e.matmul_into(&other, &alias, &mut buf), "matmul", "b");
        is(e.solve_into(&alias, &other, &mut buf), "solve", "a");
        is(e.solve_into(&other, &alias, &mut buf), "solve", "b");
        is(e.inv_into(&alias, &mut buf), "inv", "a");
        is(e.cholesky_into(&alias, &mut buf), "cholesky", "a");
        let mut u = Array2::<c64>::zeros((4, 4));
        is(e.lu_into(&alias, &mut buf, &mut u, &mut [0; 4]), "lu", "a");
        is(
            e.qr_into(&alias, QrMode::Reduced, &mut u, &mut buf),
            "qr",
            "a",
        );
        assert_eq!(buf, complex::eye(4), "{engine}: nothing written");

        // Non-finite input where the allocating op rejects it, named by the op.
        let mut bad = complex::eye(3);
        bad[[2, 1]] = c64::new(0.0, f64::NAN);
        let nf = |r: parla::Result<()>, op: &str| match r {
            Err(Error::NonFinite { op: got, .. }) => assert_eq!(got, op, "{engine}"),
            other => panic!("{engine} {op}: {other:?}"),
        };
        let ones = Array2::<c64>::ones((3, 2));
        nf(
            e.solve_into(&bad, &ones, &mut Array2::zeros((3, 2))),
            "solve",
        );
        nf(e.solve_into(&sq, &bad, &mut o), "solve");
        nf(e.inv_into(&bad, &mut o), "inv");
        nf(e.cholesky_into(&bad, &mut o), "cholesky");
        nf(
            e.lu_into(&bad, &mut o, &mut Array2::zeros((3, 3)), &mut [0; 3]),
            "lu",
        );
        nf(
            e.qr_into(&bad, QrMode::Reduced, &mut o, &mut Array2::zeros((3, 3))),
            "qr",
        );
        // Singular and not positive definite keep their types.
        let sing = ndarray::array![[c64::new(1.0, 1.0), z], [c64::new(2.0, 2.0), z]];
        let mut o2 = Array2::<c64>::zeros((2, 2));
        assert!(matches!(
            e.solve_into(&sing, &Array2::<c64>::ones((2, 2)), &mut o2),
            Err(Error::Singular { op: "solve", .. })
        ));
        assert!(matches!(
            e.inv_into(&sing, &mut o2),
            Err(Error::Singular { op: "inv", .. })
        ));
        let not_pd = ndarray::array![
            [c64::new(1.0, 0.0), c64::new(0.0, -2.0)],
            [c64::new(0.0, 2.0), c64::new(1.0, 0.0)]
        ];
        assert!(matches!(
            e.cholesky_into(&not_pd, &mut o2),
            Err(Error::NotPositiveDefinite {
                op: "cholesky",
                index: 1
            })
        ));
        // Empty problems succeed; k = 0 gives zeros.
        e.inv_into(&Array2::<c64>::zeros((0, 0)), &mut Array2::zeros((0, 0)))
            .unwrap();
        let mut zk = Array2::from_elem((2, 3), c64::new(5.0, 5.0));
        e.matmul_into(
            &Array2::<c64>::zeros((2, 0)),
            &Array2::<c64>::zeros((0, 3)),
            &mut zk,
        )
        .unwrap();
        assert_eq!(zk, Array2::<c64>::zeros((2, 3)));
    }
    // The free functions take complex operands too (process defaults): 4i / 2i = 2.
    let a = complex::eye(2) * c64::new(0.0, 2.0);
    let mut x = Array1::<c64>::zeros(2);
    parla::solve_into(&a, &Array1::from_elem(2, c64::new(0.0, 4.0)), &mut x).unwrap();
    assert_eq!(x, Array1::from_elem(2, c64::new(2.0, 0.0)));
    let i32_ = Array2::from_elem((1, 1), c32::new(0.0, 1.0));
    let mut p = Array2::<c32>::zeros((1, 1));
    parla::matmul_into(&i32_, &i32_, &mut p).unwrap();
    assert_eq!(p[[0, 0]], c32::new(-1.0, 0.0));
}
