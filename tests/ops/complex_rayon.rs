//! Complex operations on the rayon engines (`rayon-blas`, `rayon`) beyond GEMM, at 1 and 2
//! threads: against slow complex references and LAPACK-style ratios scaled by `n·ε`, on
//! strided and transposed views, with conjugation on inputs where it changes the result.

use ndarray::{s, Array1, Array2, Axis};
use parla::{c32, c64, Diag, Engine, Error, Exec, Trans, Uplo};

use crate::common::{rng, tiny_block_engines};
use crate::complex::{cofactor_det, crandom, eye, fro, h, hpd, ref_matmul, to32, to64};

/// Both rayon engines at 1 and 2 threads.
fn rayon_engines() -> Vec<Exec> {
    let mut v = Vec::new();
    for engine in [Engine::RayonBlas, Engine::Rayon] {
        for t in [1, 2] {
            v.push(Exec::new(engine, t).unwrap());
        }
    }
    v
}

/// [`rayon_engines`], and both again with tiny recursion bases and panels, so the blocked
/// paths (off-diagonal GEMMs, several panels) run on small matrices.
fn factor_engines() -> Vec<Exec> {
    let mut v = rayon_engines();
    v.extend(tiny_block_engines());
    v
}

fn col(a: &Array2<c64>) -> Array1<c64> {
    a.column(0).to_owned()
}

/// `Σ f(xᵢ) yᵢ` in the obvious order.
fn ref_dot(x: &Array1<c64>, y: &Array1<c64>, conj: bool) -> c64 {
    x.iter().zip(y).fold(c64::new(0.0, 0.0), |s, (&a, &b)| {
        s + if conj { a.conj() } else { a } * b
    })
}

fn abs_sum(x: &Array1<c64>, y: &Array1<c64>) -> f64 {
    x.iter().zip(y).map(|(a, b)| a.norm() * b.norm()).sum()
}

#[test]
fn dot_vdot_axpy_nrm2_match_slow_references() {
    let mut g = rng(31);
    // Long enough that two threads split it, odd so the chunks differ in length.
    let n = 1001;
    let x = col(&crandom(&mut g, 2 * n, 1));
    let y = col(&crandom(&mut g, 2 * n, 1));
    // Contiguous, strided (every other element) and reversed views.
    let views: [(ndarray::ArrayView1<c64>, ndarray::ArrayView1<c64>); 3] = [
        (x.slice(s![..n]), y.slice(s![..n])),
        (x.slice(s![..;2]), y.slice(s![1..;2])),
        (x.slice(s![..n;-1]), y.slice(s![n..])),
    ];
    for ex in rayon_engines() {
        for (xv, yv) in &views {
            let (xo, yo) = (xv.to_owned(), yv.to_owned());
            let bound = 4.0 * n as f64 * f64::EPSILON * abs_sum(&xo, &yo);
            for conj in [false, true] {
                let got = if conj {
                    ex.vdot(xv, yv).unwrap()
                } else {
                    ex.dot(xv, yv).unwrap()
                };
                let want = ref_dot(&xo, &yo, conj);
                assert!(
                    (got - want).norm() <= bound,
                    "{ex:?} conj={conj}: {got} vs {want}"
                );
            }
            // The conjugation changes the result (the test would not see it missing otherwise).
            assert!((ref_dot(&xo, &yo, true) - ref_dot(&xo, &yo, false)).norm() > 1.0);

            let alpha = c64::new(0.5, -2.0);
            let mut yy = y.clone();
            let mut ym = yy.slice_mut(s![..;2]);
            let before = ym.to_owned();
            ex.axpy(alpha, xv, &mut ym).unwrap();
            for i in 0..n {
                let want = before[i] + alpha * xo[i];
                assert!(
                    (ym[i] - want).norm()
                        <= 4.0 * f64::EPSILON * (before[i].norm() + 2.1 * xo[i].norm())
                );
            }
            // The elements between the strided ones are untouched.
            assert_eq!(yy.slice(s![1..;2]), y.slice(s![1..;2]));

            let nrm = ex.nrm2(xv).unwrap();
            let want = xo.iter().map(|z| z.norm_sqr()).sum::<f64>().sqrt();
            assert!(
                (nrm - want).abs() <= 4.0 * n as f64 * f64::EPSILON * want,
                "{ex:?}: {nrm}"
            );
        }
        // Overflow- and underflow-safe: the squares would over/underflow, the norm does not.
        let big = Array1::from_elem(n, c64::new(3e300, 4e300));
        let want = 5e300 * (n as f64).sqrt();
        let got = ex.nrm2(&big).unwrap();
        assert!((got - want).abs() <= 1e-13 * want, "{ex:?}: {got}");
        let tiny = Array1::from_elem(n, c32::new(3e-30, -4e-30));
        let want = 5e-30 * (n as f32).sqrt();
        let got = ex.nrm2(&tiny).unwrap();
        assert!((got - want).abs() <= 1e-5 * want, "{ex:?}: {got}");
        let tiny_strided = tiny.slice(s![..;3]);
        let want = 5e-30 * (tiny_strided.len() as f32).sqrt();
        let got = ex.nrm2(&tiny_strided).unwrap();
        assert!((got - want).abs() <= 1e-5 * want, "{ex:?}: {got}");
        let mut nan = big.clone();
        nan[700] = c64::new(0.0, f64::NAN);
        assert!(ex.nrm2(&nan).unwrap().is_nan());
        // c32 goes through the same paths.
        let (x32, y32) = (
            to32(&x.clone().insert_axis(Axis(1))),
            to32(&y.clone().insert_axis(Axis(1))),
        );
        let d = ex.vdot(&x32.column(0), &y32.column(0)).unwrap();
        let want = ref_dot(&x, &y, true);
        assert!(
            (c64::new(d.re.into(), d.im.into()) - want).norm()
                <= 4.0 * (2 * n) as f64 * f32::EPSILON as f64 * abs_sum(&x, &y)
        );
    }
}

#[test]
fn gemv_matvec_with_each_transpose_and_layout() {
    let mut g = rng(32);
    let (m, n) = (67, 45);
    let a = crandom(&mut g, m, n);
    let af = a.t().as_standard_layout().into_owned().reversed_axes(); // a in Fortran order
    let big = crandom(&mut g, 2 * m, 2 * n);
    let a_strided = big.slice(s![..;2, 1..;2]); // neither rows nor columns contiguous
    let xm = crandom(&mut g, m, 1);
    let xn = crandom(&mut g, n, 1);
    let xs = crandom(&mut g, 2 * m, 1);
    let alpha = c64::new(0.75, -1.25);
    let beta = c64::new(-0.5, 0.25);
    for ex in rayon_engines() {
        for av in [a.view(), af.view(), a_strided] {
            let ao = av.to_owned();
            for (t, opa) in [
                (Trans::No, ao.clone()),
                (Trans::Yes, ao.t().to_owned()),
                (Trans::Conj, h(&ao.view())),
            ] {
                let (rows, k) = opa.dim();
                // x strided when op(A) has m columns (every other element of xs).
                let x: Array1<c64> = if k == m {
                    xs.column(0).slice(s![..;2]).to_owned()
                } else {
                    col(&xn)
                };
                let xv = if k == m {
                    xs.column(0).slice_move(s![..;2])
                } else {
                    xn.column(0)
                };
                let y0 = if rows == m { col(&xm) } else { col(&xn) };
                let mut y = y0.clone();
                ex.gemv(alpha, &av, t, &xv, beta, &mut y).unwrap();
                let want = ref_matmul(&opa.view(), &x.view().insert_axis(Axis(1)))
                    .column(0)
                    .mapv(|v| alpha * v)
                    + y0.mapv(|v| beta * v);
                let err = fro(&(y - &want).insert_axis(Axis(1)).view());
                let bound = k as f64
                    * f64::EPSILON
                    * (fro(&ao.view()) * fro(&x.view().insert_axis(Axis(1)))
                        + fro(&y0.view().insert_axis(Axis(1))));
                assert!(err <= 4.0 * bound, "{ex:?} {t:?}: {err} vs {bound}");
            }
        }
        // matvec = gemv with α = 1, β = 0; NaN in the output buffer does not leak (β = 0).
        let mv = ex.matvec(&a, &xn.column(0)).unwrap();
        let want = ref_matmul(&a.view(), &xn.view());
        assert!(
            fro(&(mv.insert_axis(Axis(1)) - &want).view())
                <= 4.0 * n as f64 * f64::EPSILON * fro(&a.view()) * fro(&xn.view())
        );
        let mut y = Array1::from_elem(n, c64::new(f64::NAN, 0.0));
        ex.gemv(
            c64::new(1.0, 0.0),
            &a,
            Trans::Conj,
            &xm.column(0),
            c64::new(0.0, 0.0),
            &mut y,
        )
        .unwrap();
        let want = ref_matmul(&h(&a.view()).view(), &xm.view());
        assert!(
            fro(&(y.insert_axis(Axis(1)) - &want).view())
                <= 4.0 * m as f64 * f64::EPSILON * fro(&a.view()) * fro(&xm.view())
        );
        // The plan names the engine that ran.
        let p = ex
            .plan(
                parla::Op::Gemv,
                parla::Dtype::C128,
                parla::Shape::Matrix(m, n),
            )
            .unwrap();
        assert_eq!(p.engine, ex.engine());
    }
}

/// `‖op(A) X − B‖ / (‖A‖ ‖X‖ n ε)`.
fn solve_ratio(opa: &Array2<c64>, x: &Array2<c64>, b: &Array2<c64>) -> f64 {
    let n = opa.nrows();
    fro(&(ref_matmul(&opa.view(), &x.view()) - b).view())
        / (fro(&opa.view()) * fro(&x.view()) * n as f64 * f64::EPSILON)
}

#[test]
fn solve_triangular_lower_upper_each_transpose() {
    let mut g = rng(33);
    // Above the default recursion base (48), so the GEMM updates run without tiny blocks too.
    let n = 70;
    let mut lo = crandom(&mut g, n, n) + eye(n) * c64::new(4.0, 2.0);
    for i in 0..n {
        for j in i + 1..n {
            lo[[i, j]] = c64::new(0.0, 0.0);
        }
    }
    let up = h(&lo.view()); // upper, non-Hermitian diagonal
                            // Garbage in the unread triangle: only the named triangle may be read.
    let noise = crandom(&mut g, n, n);
    let b = crandom(&mut g, n, 37);
    for ex in factor_engines() {
        for (tri, uplo) in [(&lo, Uplo::Lower), (&up, Uplo::Upper)] {
            let mut stored = tri.clone();
            for i in 0..n {
                for j in 0..n {
                    if (uplo == Uplo::Lower && j > i) || (uplo == Uplo::Upper && j < i) {
                        stored[[i, j]] = noise[[i, j]];
                    }
                }
            }
            // C order and Fortran order.
            let fstored = stored.t().as_standard_layout().into_owned().reversed_axes();
            for a in [&stored, &fstored] {
                for (trans, opa) in [
                    (Trans::No, tri.clone()),
                    (Trans::Yes, tri.t().to_owned()),
                    (Trans::Conj, h(&tri.view())),
                ] {
                    let x = ex
                        .solve_triangular(a, &b, uplo, trans, Diag::NonUnit)
                        .unwrap();
                    let q = solve_ratio(&opa, &x, &b);
                    assert!(q < 10.0, "{ex:?} {uplo:?} {trans:?}: {q}");
                }
            }
        }
        // Unit diagonal: the stored diagonal is not read.
        let mut unit = lo.clone();
        unit.diag_mut().fill(c64::new(1.0, 0.0));
        let mut stored = lo.clone();
        stored.diag_mut().fill(c64::new(f64::NAN, 0.0));
        let x = ex
            .solve_triangular(&stored, &b, Uplo::Lower, Trans::Conj, Diag::Unit)
            .unwrap();
        let q = solve_ratio(&h(&unit.view()), &x, &b);
        assert!(q < 10.0, "{ex:?} unit: {q}");
        // A zero on the diagonal: the blas engine's typed error.
        let mut s = lo.clone();
        s[[40, 40]] = c64::new(0.0, 0.0);
        let r = ex.solve_triangular(&s, &b, Uplo::Lower, Trans::No, Diag::NonUnit);
        assert!(matches!(r, Err(Error::Singular { pivot: 40, .. })), "{r:?}");
        // c32 on the same path, its own ε.
        let x32 = ex
            .solve_triangular(
                &to32(&lo),
                &to32(&b),
                Uplo::Lower,
                Trans::Conj,
                Diag::NonUnit,
            )
            .unwrap();
        let x64 = x32.mapv(|z| c64::new(z.re.into(), z.im.into()));
        let q = solve_ratio(&h(&lo.view()), &x64, &b) * f64::EPSILON / f32::EPSILON as f64;
        assert!(q < 10.0, "{ex:?} c32: {q}");
    }
}

#[test]
fn gemm_into_column_major_c_with_each_conjugation() {
    // The factorizations' C is column-major: the rayon engines compute Cᵀ = op(B)ᵀ op(A)ᵀ in
    // place; every pair of transposes, each with its conjugation.
    let mut g = rng(34);
    let (m, n, k) = (9, 7, 5);
    let alpha = c64::new(0.5, 1.5);
    let beta = c64::new(-1.0, 0.5);
    let ops = |x: &Array2<c64>, t: Trans| match t {
        Trans::No => x.clone(),
        Trans::Yes => x.t().to_owned(),
        Trans::Conj => h(&x.view()),
    };
    for ex in rayon_engines() {
        for ta in [Trans::No, Trans::Yes, Trans::Conj] {
            for tb in [Trans::No, Trans::Yes, Trans::Conj] {
                let a = if ta == Trans::No {
                    crandom(&mut g, m, k)
                } else {
                    crandom(&mut g, k, m)
                };
                let b = if tb == Trans::No {
                    crandom(&mut g, k, n)
                } else {
                    crandom(&mut g, n, k)
                };
                let c0 = crandom(&mut g, m, n);
                let mut c = c0.t().as_standard_layout().into_owned().reversed_axes();
                ex.gemm(alpha, &a, ta, &b, tb, beta, &mut c).unwrap();
                let want = ref_matmul(&ops(&a, ta).view(), &ops(&b, tb).view()).mapv(|v| alpha * v)
                    + c0.mapv(|v| beta * v);
                let err = fro(&(c - &want).view());
                assert!(err < 1e-13, "{ex:?} {ta:?} {tb:?}: {err}");
            }
        }
    }
}

#[test]
fn solve_inv_lu_det_slogdet_meet_lapack_ratios() {
    let mut g = rng(35);
    for ex in factor_engines() {
        // 300: above two look-ahead steps of the default panels, so the look-ahead driver runs
        // at 2 threads; small orders run the recursion and the panel alone.
        for n in [1, 5, 37, 300] {
            // No diagonal shift: partial pivoting has real work to do.
            let a = crandom(&mut g, n, n);
            let b = crandom(&mut g, n, 3);
            let x = ex.solve(&a, &b).unwrap();
            let q = solve_ratio(&a, &x, &b);
            assert!(q < 30.0, "{ex:?} solve n={n}: {q}");
            let x32 = ex.solve(&to32(&a), &to32(&b)).unwrap();
            let x64 = x32.mapv(|z| c64::new(z.re.into(), z.im.into()));
            let q = solve_ratio(&a, &x64, &b) * f64::EPSILON / f32::EPSILON as f64;
            assert!(q < 30.0, "{ex:?} solve c32 n={n}: {q}");
            if n > 40 {
                continue;
            }
            let ai = ex.inv(&a).unwrap();
            let q = fro(&(ref_matmul(&a.view(), &ai.view()) - eye(n)).view())
                / (fro(&a.view()) * fro(&ai.view()) * n as f64 * f64::EPSILON);
            assert!(q < 30.0, "{ex:?} inv n={n}: {q}");
            let f = ex.lu(&a).unwrap();
            let back = ref_matmul(&f.p.view(), &ref_matmul(&f.l.view(), &f.u.view()).view());
            let q = fro(&(back - &a).view()) / (fro(&a.view()) * n as f64 * f64::EPSILON);
            assert!(q < 30.0, "{ex:?} lu n={n}: {q}");
            // Partial pivoting by LAPACK's |re| + |im|: |L| ≤ √2 (≤ 1 in that measure, which
            // the pivot's modulus is at most √2 times).
            assert!(f.l.iter().all(|z| z.norm() <= 2f64.sqrt() * (1.0 + 1e-15)));
            // The same interchanges as LAPACK (blas engine) on this matrix.
            let fb = parla::Exec::blas(1).unwrap().lu(&a).unwrap();
            assert_eq!(f.perm, fb.perm, "{ex:?} n={n}");
            if n <= 5 {
                let want = cofactor_det(&a);
                let d = ex.det(&a).unwrap();
                assert!(
                    (d - want).norm() <= 50.0 * n as f64 * f64::EPSILON * want.norm(),
                    "{ex:?} det n={n}: {d} vs {want}"
                );
                let (sign, logabs) = ex.slogdet(&a).unwrap();
                assert!((sign * logabs.exp() - want).norm() <= 1e-12 * want.norm());
            }
        }
        // A wide and a tall LU.
        for (m, n) in [(7, 12), (12, 7)] {
            let a = crandom(&mut g, m, n);
            let f = ex.lu(&a).unwrap();
            let back = ref_matmul(&f.p.view(), &ref_matmul(&f.l.view(), &f.u.view()).view());
            assert!(fro(&(back - &a).view()) < 30.0 * 12.0 * f64::EPSILON * fro(&a.view()));
        }
        // Singular: the typed error at the first zero pivot; det 0, slogdet (0, −∞).
        // A zero column stays exactly zero through the elimination: pivot 3 is zero.
        let mut s = crandom(&mut g, 6, 6);
        s.column_mut(3).fill(c64::new(0.0, 0.0));
        let r = ex.solve(&s, &crandom(&mut g, 6, 1));
        let rb = parla::Exec::blas(1)
            .unwrap()
            .solve(&s, &crandom(&mut g, 6, 1));
        match (&r, &rb) {
            (Err(Error::Singular { pivot, .. }), Err(Error::Singular { pivot: pb, .. })) => {
                assert_eq!((*pivot, *pb), (3, 3), "{ex:?}")
            }
            _ => panic!("{ex:?}: {r:?} vs blas {rb:?}"),
        }
        assert!(matches!(ex.inv(&s), Err(Error::Singular { .. })));
        assert_eq!(ex.det(&s).unwrap(), c64::new(0.0, 0.0));
        assert_eq!(ex.slogdet(&s).unwrap().1, f64::NEG_INFINITY);
        // Non-finite input: the same typed error as on blas.
        let mut nan = eye(4);
        nan[[2, 1]] = c64::new(0.0, f64::INFINITY);
        assert!(matches!(
            ex.solve(&nan, &eye(4)),
            Err(Error::NonFinite { .. })
        ));
    }
}

#[test]
fn cholesky_of_hermitian_not_symmetric_matrices() {
    let mut g = rng(36);
    for ex in factor_engines() {
        // 420: above the two look-ahead steps of `rayon-blas` (384).
        for n in [1, 7, 60, 420] {
            let a = hpd(&mut g, n);
            if n > 1 {
                assert!(a != a.t(), "the test matrix must not be symmetric");
            }
            // Only the lower triangle is read.
            let mut junk = a.clone();
            for i in 0..n {
                for j in i + 1..n {
                    junk[[i, j]] = c64::new(f64::NAN, 9.0);
                }
            }
            for input in [
                &junk,
                &junk.t().as_standard_layout().into_owned().reversed_axes(),
            ] {
                let l = ex.cholesky(input).unwrap();
                let q = fro(&(ref_matmul(&l.view(), &h(&l.view()).view()) - &a).view())
                    / (n as f64 * fro(&a.view()) * f64::EPSILON);
                assert!(q < 30.0, "{ex:?} n={n}: {q}");
                assert!((0..n).all(|i| (i + 1..n).all(|j| l[[i, j]] == c64::new(0.0, 0.0))));
                assert!((0..n).all(|i| l[[i, i]].im == 0.0 && l[[i, i]].re > 0.0));
            }
        }
        // Hermitian, not positive definite from index 37 on: the blas engine's index.
        let n = 50;
        let mut a = hpd(&mut g, n);
        a[[37, 37]] = c64::new(-1e4, 0.0);
        let r = ex.cholesky(&a);
        assert!(
            matches!(r, Err(Error::NotPositiveDefinite { index: 37, .. })),
            "{ex:?}: {r:?}"
        );
        let l32 = ex.cholesky(&to32(&hpd(&mut g, 30))).unwrap();
        assert!(l32.iter().all(|z| z.re.is_finite() && z.im.is_finite()));
    }
}

#[test]
fn complex_plans_on_rayon_engines_match_what_runs() {
    use parla::{Dtype, Op, QrMode, Shape};
    let ran = [
        Op::Matmul,
        Op::Gemm,
        Op::Gemv,
        Op::Matvec,
        Op::Dot,
        Op::Axpy,
        Op::Nrm2,
        Op::SolveTriangular,
        Op::Solve,
        Op::Lu,
        Op::Inv,
        Op::Det,
        Op::Slogdet,
        Op::Cholesky,
        Op::Qr,
        Op::LuFactor,
        Op::LuSolve,
        Op::ChoFactor,
        Op::ChoSolve,
        Op::QrFactor,
        Op::QrLstsq,
    ];
    let a = eye(3) * c64::new(2.0, 0.0);
    let v = a.column(0).to_owned();
    for engine in [Engine::RayonBlas, Engine::Rayon] {
        let ex = Exec::new(engine, 2).unwrap();
        // What runs is planned on the engine; what is refused is refused by the plan too.
        for op in [Op::Eigh, Op::Svd, Op::Eig, Op::Lstsq] {
            let p = ex.plan(op, Dtype::C128, Shape::Square(3));
            assert!(
                matches!(p, Err(Error::Unsupported { .. })),
                "{engine} {op}: {p:?}"
            );
        }
        for op in ran {
            let p = ex.plan(op, Dtype::C128, Shape::Square(3)).unwrap();
            assert_eq!(p.engine, engine, "{op}");
        }
        assert!(ex.matvec(&a, &v).is_ok() && ex.nrm2(&v).is_ok() && ex.vdot(&v, &v).is_ok());
        assert!(ex.solve(&a, &a).is_ok() && ex.inv(&a).is_ok() && ex.lu(&a).is_ok());
        assert!(ex.det(&a).is_ok() && ex.slogdet(&a).is_ok() && ex.cholesky(&a).is_ok());
        assert!(ex.qr(&a, QrMode::Reduced).is_ok() && ex.lu_factor(&a).is_ok());
        assert!(matches!(ex.eigh(&a), Err(Error::Unsupported { .. })));
    }
}

/// [`factor_engines`] plus both rayon engines at 3 threads (more workers than the 2 cores).
fn qr_engines() -> Vec<Exec> {
    let mut v = factor_engines();
    for engine in [Engine::RayonBlas, Engine::Rayon] {
        v.push(Exec::new(engine, 3).unwrap());
    }
    v
}

/// `‖A − Q R‖ / (max(m, n)·‖A‖·ε)` and `‖Qᴴ Q − I‖ / (m·ε)` (LAPACK's QR test ratios), with
/// `ε` the unit roundoff of the precision that computed the factors.
fn qr_ratios(a: &Array2<c64>, q: &Array2<c64>, r: &Array2<c64>, eps: f64) -> (f64, f64) {
    let (m, n) = a.dim();
    let back = ref_matmul(&q.view(), &r.view());
    let fa = fro(&a.view()).max(f64::MIN_POSITIVE);
    let res = fro(&(back - a).view()) / (m.max(n) as f64 * fa * eps);
    let qq = ref_matmul(&h(&q.view()).view(), &q.view()) - eye(q.ncols());
    (res, fro(&qq.view()) / (m as f64 * eps))
}

#[test]
fn qr_tall_wide_square_meets_lapack_ratios_and_matches_blas() {
    use parla::QrMode;
    let mut g = rng(37);
    let blas = Exec::blas(1).unwrap();
    let shapes = [
        (1, 1),
        (1, 6),
        (6, 1),
        (9, 9),
        (40, 17),
        (17, 40),
        (33, 33),
        // Several default panels (64 columns) and a trailing update.
        (150, 90),
        (90, 150),
        // From min(m, n) = 256 on two or more threads: the look-ahead.
        (280, 260),
    ];
    for ex in qr_engines() {
        for &(m, n) in &shapes {
            let a = crandom(&mut g, m, n);
            let k = m.min(n);
            let rb = blas.qr(&a, QrMode::Reduced).unwrap().r;
            for mode in [QrMode::Reduced, QrMode::Complete] {
                let f = ex.qr(&a, mode).unwrap();
                let qc = if mode == QrMode::Reduced { k } else { m };
                assert_eq!((f.q.dim(), f.r.dim()), ((m, qc), (qc, n)), "{ex:?}");
                let (res, orth) = qr_ratios(&a, &f.q, &f.r, f64::EPSILON);
                assert!(
                    res < 60.0 && orth < 60.0,
                    "{ex:?} {m}x{n} {mode:?}: {res} {orth}"
                );
                // R: upper trapezoidal with a real diagonal (LAPACK's reflectors), and the
                // moduli of its diagonal those of LAPACK's R (a unique QR up to unit phases).
                for i in 0..qc {
                    for j in 0..i.min(n) {
                        assert_eq!(f.r[[i, j]], c64::new(0.0, 0.0), "{ex:?} r[{i},{j}]");
                    }
                }
                let fa = fro(&a.view());
                for i in 0..k {
                    let d = f.r[[i, i]];
                    assert_eq!(d.im, 0.0, "{ex:?} {m}x{n}: r[{i},{i}] = {d}");
                    let diff = (d.norm() - rb[[i, i]].norm()).abs();
                    assert!(
                        diff <= 60.0 * m.max(n) as f64 * f64::EPSILON * fa,
                        "{ex:?} {m}x{n}: |r[{i},{i}]| {} vs blas {}",
                        d.norm(),
                        rb[[i, i]].norm()
                    );
                }
            }
            // c32 through the same paths, against its own roundoff.
            let f = ex.qr(&to32(&a), QrMode::Reduced).unwrap();
            let (q, r) = (to64(&f.q.view()), to64(&f.r.view()));
            let (res, orth) = qr_ratios(&a, &q, &r, f32::EPSILON as f64);
            // The input itself was rounded to c32: its error counts as ≤ 1 ε of ‖A‖.
            assert!(
                res < 60.0 && orth < 60.0,
                "{ex:?} c32 {m}x{n}: {res} {orth}"
            );
        }
        // A column-major, a transposed and a strided input.
        let a = crandom(&mut g, 60, 70);
        let fa = a.t().as_standard_layout().into_owned().reversed_axes();
        let at = a.t().to_owned();
        for (input, want) in [
            (fa.view(), a.view()),
            (a.t(), at.view()),
            (a.slice(s![..;2, ..;3]), a.slice(s![..;2, ..;3])),
        ] {
            let f = ex.qr(&input, QrMode::Reduced).unwrap();
            let (res, orth) = qr_ratios(&want.to_owned(), &f.q, &f.r, f64::EPSILON);
            assert!(res < 60.0 && orth < 60.0, "{ex:?}: {res} {orth}");
        }
        // Exactly rank deficient: a zero column is a zero reflector (τ = 0), still A = QR.
        let mut z = crandom(&mut g, 12, 5);
        z.column_mut(2).fill(c64::new(0.0, 0.0));
        let f = ex.qr(&z, QrMode::Complete).unwrap();
        let (res, orth) = qr_ratios(&z, &f.q, &f.r, f64::EPSILON);
        assert!(res < 60.0 && orth < 60.0, "{ex:?}: {res} {orth}");
        // Non-finite input: the typed error of the real QR.
        let mut nan = crandom(&mut g, 5, 4);
        nan[[3, 1]] = c64::new(1.0, f64::NAN);
        let r = ex.qr(&nan, QrMode::Reduced);
        assert!(matches!(r, Err(Error::NonFinite { op: "qr", .. })), "{r:?}");
        // Empty input: numpy's shapes.
        let e = ex
            .qr(&Array2::<c64>::zeros((0, 3)), QrMode::Complete)
            .unwrap();
        assert_eq!((e.q.dim(), e.r.dim()), ((0, 0), (0, 3)));
    }
}

#[test]
fn qr_of_tiny_and_huge_columns_keeps_its_ratios() {
    use parla::QrMode;
    let mut g = rng(38);
    for ex in qr_engines() {
        // Columns scaled by 1e-300 and 1e300: β rescaled in the reflector (larfg's loop),
        // norms neither under- nor overflow.
        for scale in [1e-300, 1e-160, 1e160, 1e300] {
            let a0 = crandom(&mut g, 20, 7);
            let a = &a0 * c64::new(scale, 0.0);
            let f = ex.qr(&a, QrMode::Reduced).unwrap();
            assert!(f
                .q
                .iter()
                .chain(&f.r)
                .all(|z| z.re.is_finite() && z.im.is_finite()));
            // The ratios of the unscaled problem (R scales with A, Q does not).
            let r = f.r.mapv(|z| z / scale);
            let (res, orth) = qr_ratios(&a0, &f.q, &r, f64::EPSILON);
            assert!(
                res < 60.0 && orth < 60.0,
                "{ex:?} scale {scale}: {res} {orth}"
            );
        }
        // Subnormal entries: |β| below larfg's safe minimum, where 1/(α − β) overflows unless
        // the column is rescaled first (its loop).
        let a0 = crandom(&mut g, 20, 7);
        let a = a0.mapv(|z| z * 1e-310);
        let f = ex.qr(&a, QrMode::Reduced).unwrap();
        assert!(
            f.q.iter().all(|z| z.re.is_finite() && z.im.is_finite()),
            "{ex:?} subnormal"
        );
        // Subnormal R loses digits to the format itself: a loose bound.
        let (res, orth) = qr_ratios(
            &a.mapv(|z| z * 1e300),
            &f.q,
            &f.r.mapv(|z| z * 1e300),
            f64::EPSILON,
        );
        assert!(res < 1e4 && orth < 60.0, "{ex:?} subnormal: {res} {orth}");
        // A purely imaginary column below nothing: the last reflector of a wide matrix only
        // makes R's diagonal real (τ ≠ 0 with x empty).
        let a = ndarray::array![[c64::new(0.0, 2.0), c64::new(1.0, 1.0)]];
        let f = ex.qr(&a, QrMode::Reduced).unwrap();
        assert_eq!(f.r[[0, 0]].im, 0.0);
        assert!((f.r[[0, 0]].re.abs() - 2.0).abs() < 1e-15, "{:?}", f.r);
        let (res, orth) = qr_ratios(&a, &f.q, &f.r, f64::EPSILON);
        assert!(res < 60.0 && orth < 60.0, "{ex:?}: {res} {orth}");
    }
}

/// `‖x − y‖ ≤ tol · ‖y‖`.
fn close(x: &Array2<c64>, y: &Array2<c64>, tol: f64) -> bool {
    fro(&(x - y).view()) <= tol * fro(&y.view()).max(f64::MIN_POSITIVE)
}

#[test]
fn factor_objects_agree_with_repeated_solves() {
    let mut g = rng(39);
    for ex in factor_engines() {
        for n in [1, 6, 45, 130] {
            let tol = 1e3 * n as f64 * f64::EPSILON;
            let a = crandom(&mut g, n, n);
            let b = crandom(&mut g, n, 3);
            let lu = ex.lu_factor(&a).unwrap();
            assert_eq!(lu.engine(), ex.engine(), "the factor keeps the engine");
            // Each solve, and the same solve again from the same factor.
            let x = lu.solve(&b).unwrap();
            assert!(close(&x, &ex.solve(&a, &b).unwrap(), tol), "{ex:?} n={n}");
            assert_eq!(lu.solve(&b).unwrap(), x);
            let at = a.t().to_owned();
            let xt = lu.solve_transpose(&b).unwrap();
            assert!(
                close(&xt, &ex.solve(&at, &b).unwrap(), tol),
                "{ex:?} n={n} ᵀ"
            );
            let ah = h(&a.view());
            let xh = lu.solve_conj_transpose(&b).unwrap();
            assert!(
                close(&xh, &ex.solve(&ah, &b).unwrap(), tol),
                "{ex:?} n={n} ᴴ"
            );
            // Aᴴ and Aᵀ differ (the conjugation is not dropped).
            if n > 1 {
                assert!(!close(&xh, &xt, 1e-3), "{ex:?} n={n}");
            }
            // A vector right-hand side gives a vector; many right-hand sides (the recursive
            // trsm path) agree with solve too.
            let b1 = b.column(0).to_owned();
            let x1 = lu.solve(&b1).unwrap();
            assert_eq!(x1.len(), n);
            assert!(close(
                &x1.insert_axis(Axis(1)),
                &x.slice(s![.., ..1]).to_owned(),
                tol
            ));
            let bm = crandom(&mut g, n, 70);
            let xm = lu.solve_conj_transpose(&bm).unwrap();
            assert!(
                close(&xm, &ex.solve(&ah, &bm).unwrap(), tol),
                "{ex:?} n={n} ᴴ many"
            );
            let d = lu.det();
            let want = ex.det(&a).unwrap();
            assert!(
                (d - want).norm() <= tol * want.norm(),
                "{ex:?} n={n}: {d} vs {want}"
            );
            let (sign, logabs) = lu.slogdet();
            let (ws, wl) = ex.slogdet(&a).unwrap();
            assert!((sign - ws).norm() < tol && (logabs - wl).abs() < tol * wl.abs().max(1.0));
            let inv = lu.inv().unwrap();
            assert!(close(&inv, &ex.inv(&a).unwrap(), tol), "{ex:?} n={n} inv");

            let p = hpd(&mut g, n);
            let ch = ex.cho_factor(&p).unwrap();
            assert_eq!(ch.engine(), ex.engine());
            let xc = ch.solve(&b).unwrap();
            assert!(
                close(&xc, &ex.solve(&p, &b).unwrap(), tol),
                "{ex:?} n={n} cho"
            );
            let xcm = ch.solve(&bm).unwrap();
            assert!(
                close(&xcm, &ex.solve(&p, &bm).unwrap(), tol),
                "{ex:?} n={n} cho many"
            );
            let pinv = ch.inv().unwrap();
            assert!(
                close(&pinv, &ex.inv(&p).unwrap(), tol),
                "{ex:?} n={n} cho inv"
            );
            assert_eq!(
                pinv,
                h(&pinv.view()),
                "{ex:?}: the inverse is exactly Hermitian"
            );
            let (_, wl) = ex.slogdet(&p).unwrap();
            assert!((ch.logdet() - wl).abs() <= tol * wl.abs().max(1.0));
        }
        // QR least squares: the normal equations Aᴴ (A x − b) = 0, and the blas engine's
        // solution.
        for (m, n) in [(1, 1), (9, 4), (70, 45), (160, 100)] {
            let a = crandom(&mut g, m, n);
            let b = crandom(&mut g, m, 2);
            let f = ex.qr_factor(&a).unwrap();
            assert_eq!((f.engine(), f.dim()), (ex.engine(), (m, n)));
            let x = f.solve_lstsq(&b).unwrap();
            let r = ref_matmul(&a.view(), &x.view()) - &b;
            let ne = ref_matmul(&h(&a.view()).view(), &r.view());
            let fa = fro(&a.view());
            let q = fro(&ne.view())
                / (m as f64 * fa * fa * fro(&x.view()).max(fro(&b.view())) * f64::EPSILON);
            assert!(q < 60.0, "{ex:?} {m}x{n}: {q}");
            let xb = parla::Exec::blas(1)
                .unwrap()
                .qr_factor(&a)
                .unwrap()
                .solve_lstsq(&b)
                .unwrap();
            assert!(
                close(&x, &xb, 1e4 * m as f64 * f64::EPSILON),
                "{ex:?} {m}x{n}"
            );
            // R as the blas engine's up to unit phases: equal moduli on the diagonal.
            let (r, rb) = (
                f.r().unwrap(),
                parla::Exec::blas(1)
                    .unwrap()
                    .qr(&a, parla::QrMode::Reduced)
                    .unwrap()
                    .r,
            );
            for i in 0..m.min(n) {
                assert!(
                    (r[[i, i]].norm() - rb[[i, i]].norm()).abs()
                        <= 1e3 * m as f64 * f64::EPSILON * fa
                );
            }
            let b1 = b.column(1).to_owned();
            let x1 = f.solve_lstsq(&b1).unwrap();
            assert!(close(
                &x1.insert_axis(Axis(1)),
                &x.slice(s![.., 1..]).to_owned(),
                1e-12
            ));
        }
        // c32 through the same paths.
        let a = crandom(&mut g, 30, 30);
        let b = crandom(&mut g, 30, 2);
        let x = ex
            .lu_factor(&to32(&a))
            .unwrap()
            .solve_conj_transpose(&to32(&b))
            .unwrap();
        let q =
            solve_ratio(&h(&a.view()), &to64(&x.view()), &b) * f64::EPSILON / f32::EPSILON as f64;
        assert!(q < 60.0, "{ex:?} c32: {q}");
        let p = hpd(&mut g, 30);
        let x = ex.cho_factor(&to32(&p)).unwrap().solve(&to32(&b)).unwrap();
        let q = solve_ratio(&p, &to64(&x.view()), &b) * f64::EPSILON / f32::EPSILON as f64;
        assert!(q < 60.0, "{ex:?} c32 cho: {q}");
        let x = ex
            .qr_factor(&to32(&a))
            .unwrap()
            .solve_lstsq(&to32(&b))
            .unwrap();
        let q = solve_ratio(&a, &to64(&x.view()), &b) * f64::EPSILON / f32::EPSILON as f64;
        assert!(q < 60.0, "{ex:?} c32 qr: {q}");
    }
}

#[test]
fn factor_objects_reject_bad_input_with_typed_errors() {
    let mut g = rng(40);
    for ex in factor_engines() {
        let a = crandom(&mut g, 5, 5);
        let lu = ex.lu_factor(&a).unwrap();
        for r in [
            lu.solve(&crandom(&mut g, 4, 2)).map(drop),
            lu.solve_transpose(&crandom(&mut g, 6, 1)).map(drop),
            lu.solve_conj_transpose(&col(&crandom(&mut g, 3, 1)))
                .map(drop),
        ] {
            assert!(
                matches!(r, Err(Error::ShapeMismatch { op: "lu_solve", .. })),
                "{r:?}"
            );
        }
        let mut nan = crandom(&mut g, 5, 1);
        nan[[2, 0]] = c64::new(f64::INFINITY, 0.0);
        assert!(matches!(lu.solve(&nan), Err(Error::NonFinite { .. })));
        assert!(matches!(
            ex.lu_factor(&crandom(&mut g, 3, 4)),
            Err(Error::NotSquare { .. })
        ));
        // Singular: the factor is made, its solves and inverse are refused, det is 0.
        let mut s = crandom(&mut g, 6, 6);
        s.column_mut(3).fill(c64::new(0.0, 0.0));
        let f = ex.lu_factor(&s).unwrap();
        assert!(f.is_singular());
        assert!(matches!(
            f.solve(&crandom(&mut g, 6, 1)),
            Err(Error::Singular { pivot: 3, .. })
        ));
        assert!(matches!(f.inv(), Err(Error::Singular { .. })));
        assert_eq!(f.det(), c64::new(0.0, 0.0));

        let ch = ex.cho_factor(&hpd(&mut g, 4)).unwrap();
        let r = ch.solve(&crandom(&mut g, 5, 1));
        assert!(
            matches!(
                r,
                Err(Error::ShapeMismatch {
                    op: "cho_solve",
                    ..
                })
            ),
            "{r:?}"
        );
        let mut bad = hpd(&mut g, 8);
        bad[[5, 5]] = c64::new(-1e4, 0.0);
        let r = ex.cho_factor(&bad);
        assert!(
            matches!(r, Err(Error::NotPositiveDefinite { index: 5, .. })),
            "{r:?}"
        );

        let qf = ex.qr_factor(&crandom(&mut g, 7, 3)).unwrap();
        let r = qf.solve_lstsq(&crandom(&mut g, 6, 1));
        assert!(
            matches!(r, Err(Error::ShapeMismatch { op: "qr_lstsq", .. })),
            "{r:?}"
        );
        let wide = ex.qr_factor(&crandom(&mut g, 3, 7)).unwrap();
        let r = wide.solve_lstsq(&crandom(&mut g, 3, 1));
        assert!(matches!(r, Err(Error::InvalidArgument { .. })), "{r:?}");
        // Rank deficient: a zero column gives a zero diagonal entry of R.
        let mut z = crandom(&mut g, 8, 4);
        z.column_mut(1).fill(c64::new(0.0, 0.0));
        let r = ex
            .qr_factor(&z)
            .unwrap()
            .solve_lstsq(&crandom(&mut g, 8, 1));
        assert!(matches!(r, Err(Error::Singular { pivot: 1, .. })), "{r:?}");
    }
}
