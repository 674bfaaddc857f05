//! Complex matrices (`c32`, `c64`) through the same functions as real ones: against slow
//! complex references (triple loops, cofactor expansion) and LAPACK-style ratios in complex
//! arithmetic with `n·ε` bounds; conjugation checked on Hermitian-but-not-symmetric input;
//! typed errors for bad input; the rayon engines' GEMM (4M) and their typed `Unsupported`.

use ndarray::{array, Array1, Array2, ArrayView2, ShapeBuilder};
use num_complex::Complex;
use parla::{c32, c64, Diag, Dtype, Engine, Error, Exec, Field, Op, QrMode, Shape, Trans, Uplo};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::common::rng;

pub(crate) fn crandom(rng: &mut ChaCha8Rng, m: usize, n: usize) -> Array2<c64> {
    Array2::from_shape_fn((m, n), |_| {
        c64::new(rng.gen_range(-1.0..1.0), rng.gen_range(-1.0..1.0))
    })
}

pub(crate) fn to32(a: &Array2<c64>) -> Array2<c32> {
    a.mapv(|z| c32::new(z.re as f32, z.im as f32))
}

pub(crate) fn to64<T: Field>(a: &ArrayView2<T>) -> Array2<c64> {
    a.mapv(|z| c64::new(as64(z.re()), as64(z.im())))
}

pub(crate) fn as64<R: parla::Scalar>(x: R) -> f64 {
    x.to_f64().unwrap()
}

/// `Aᴴ`.
pub(crate) fn h(a: &ArrayView2<c64>) -> Array2<c64> {
    a.t().mapv(|z| z.conj())
}

/// Triple-loop product in `c64`.
pub(crate) fn ref_matmul(a: &ArrayView2<c64>, b: &ArrayView2<c64>) -> Array2<c64> {
    let (m, k) = a.dim();
    let n = b.ncols();
    Array2::from_shape_fn((m, n), |(i, j)| {
        (0..k).fold(c64::new(0.0, 0.0), |s, p| s + a[[i, p]] * b[[p, j]])
    })
}

pub(crate) fn fro(a: &ArrayView2<c64>) -> f64 {
    a.iter().map(|z| z.norm_sqr()).sum::<f64>().sqrt()
}

pub(crate) fn eye(n: usize) -> Array2<c64> {
    Array2::eye(n)
}

/// Determinant by cofactor expansion along the first row (slow, obviously correct).
pub(crate) fn cofactor_det(a: &Array2<c64>) -> c64 {
    let n = a.nrows();
    if n == 1 {
        return a[[0, 0]];
    }
    let mut d = c64::new(0.0, 0.0);
    for j in 0..n {
        let minor = Array2::from_shape_fn((n - 1, n - 1), |(r, c)| {
            a[[r + 1, if c < j { c } else { c + 1 }]]
        });
        let sign = if j % 2 == 0 { 1.0 } else { -1.0 };
        d += a[[0, j]] * cofactor_det(&minor) * sign;
    }
    d
}

/// Hermitian positive definite and not symmetric: `B Bᴴ + n I`.
pub(crate) fn hpd(rng: &mut ChaCha8Rng, n: usize) -> Array2<c64> {
    let b = crandom(rng, n, n);
    ref_matmul(&b.view(), &h(&b.view()).view()) + eye(n) * c64::new(n as f64, 0.0)
}

fn engines() -> Vec<Exec> {
    vec![
        Exec::blas(2).unwrap(),
        Exec::new(Engine::Rayon, 2).unwrap(),
        Exec::new(Engine::RayonBlas, 2).unwrap(),
        Exec::new(Engine::Rayon, 1).unwrap(),
    ]
}

/// `‖C − ref‖ / (k ε ‖A‖ ‖B‖)` for `C = op(A) op(B)`.
fn product_ratio(
    c: &ArrayView2<c64>,
    r: &ArrayView2<c64>,
    a: f64,
    b: f64,
    k: usize,
    eps: f64,
) -> f64 {
    fro(&(c.to_owned() - r).view()) / (k as f64 * eps * a * b)
}

#[test]
fn matmul_matches_the_triple_loop_on_every_engine_and_layout() {
    let mut g = rng(1);
    for (m, k, n) in [(1, 1, 1), (7, 5, 3), (33, 65, 17), (96, 80, 70)] {
        let a = crandom(&mut g, m, k);
        let b = crandom(&mut g, k, n);
        let r = ref_matmul(&a.view(), &b.view());
        let (na, nb) = (fro(&a.view()), fro(&b.view()));
        let af = crate::common::fortran(&a);
        let bt = b.t().to_owned();
        for ex in engines() {
            for (av, bv) in [(a.view(), b.view()), (af.view(), bt.t())] {
                let c = ex.matmul(&av, &bv).unwrap();
                let q = product_ratio(&c.view(), &r.view(), na, nb, k, f64::EPSILON);
                assert!(q < 4.0, "{:?} {m}x{k}x{n}: ratio {q}", ex.engine());
                let c32 = ex
                    .matmul(&to32(&av.to_owned()), &to32(&bv.to_owned()))
                    .unwrap();
                let q = product_ratio(
                    &to64(&c32.view()).view(),
                    &r.view(),
                    na,
                    nb,
                    k,
                    f32::EPSILON as f64,
                );
                assert!(q < 4.0, "c32 {:?} {m}x{k}x{n}: ratio {q}", ex.engine());
            }
        }
    }
}

#[test]
fn gemm_conjugate_transpose_is_not_the_transpose() {
    let mut g = rng(2);
    let (m, k, n) = (19, 23, 11);
    let a = crandom(&mut g, k, m); // op(A) = Aᴴ: m × k
    let b = crandom(&mut g, n, k); // op(B) = Bᵀ: k × n
    let c0 = crandom(&mut g, m, n);
    let (alpha, beta) = (c64::new(0.5, -1.5), c64::new(-0.25, 2.0));
    let ah = h(&a.view());
    let r = ref_matmul(&ah.view(), &b.t()) * alpha + &c0 * beta;
    let bound = (k as f64 + 2.0)
        * f64::EPSILON
        * (1.6 * fro(&a.view()) * fro(&b.view()) + 2.1 * fro(&c0.view()));
    for ex in engines() {
        let mut c = c0.clone();
        ex.gemm(alpha, &a, Trans::Conj, &b, Trans::Yes, beta, &mut c)
            .unwrap();
        let err = fro(&(&c - &r).view());
        assert!(err < 4.0 * bound, "{:?}: {err} vs {bound}", ex.engine());
        // Both flags conjugating (Aᴴ Bᴴ), into a strided view of C.
        let mut big = Array2::from_elem((m, 2 * n), c64::new(7.0, 7.0));
        let bc = b.t().mapv(|z| z.conj()).t().to_owned(); // n × k, so that Bcᴴ = Bᵀ
        let mut cv = big.slice_mut(ndarray::s![.., ..;2]);
        cv.assign(&c0);
        ex.gemm(alpha, &a, Trans::Conj, &bc, Trans::Conj, beta, &mut cv)
            .unwrap();
        let err = fro(&(&cv.to_owned() - &r).view());
        assert!(
            err < 4.0 * bound,
            "{:?} strided: {err} vs {bound}",
            ex.engine()
        );
        assert!(big
            .slice(ndarray::s![.., 1..;2])
            .iter()
            .all(|&z| z == c64::new(7.0, 7.0)));
        // A real β (C updated in place as real rows on the rayon engines), Aᴴ with A in
        // Fortran order (read in place by the 4M path as well).
        let af = crate::common::fortran(&a);
        let mut c = c0.clone();
        let r2 = ref_matmul(&ah.view(), &b.t()) * alpha + &c0 * 0.5;
        ex.gemm(
            alpha,
            &af,
            Trans::Conj,
            &b,
            Trans::Yes,
            c64::new(0.5, 0.0),
            &mut c,
        )
        .unwrap();
        assert!(
            fro(&(&c - &r2).view()) < 4.0 * bound,
            "{:?} real beta",
            ex.engine()
        );
        // β = 0: C's NaNs are never read.
        let mut c = Array2::from_elem((m, n), c64::new(f64::NAN, f64::NAN));
        let r3 = ref_matmul(&ah.view(), &b.t()) * alpha;
        ex.gemm(
            alpha,
            &a,
            Trans::Conj,
            &b,
            Trans::Yes,
            c64::new(0.0, 0.0),
            &mut c,
        )
        .unwrap();
        assert!(
            fro(&(&c - &r3).view()) < 4.0 * bound,
            "{:?} beta 0",
            ex.engine()
        );
        let mut c32 = to32(&c0);
        let (a32, b32) = (to32(&a), to32(&b));
        let (al32, be32) = (c32::new(0.5, -1.5), c32::new(-0.25, 2.0));
        ex.gemm(al32, &a32, Trans::Conj, &b32, Trans::Yes, be32, &mut c32)
            .unwrap();
        let err = fro(&(to64(&c32.view()) - &r).view());
        let bound32 = 4.0 * bound * (f32::EPSILON as f64 / f64::EPSILON);
        assert!(err < bound32, "{:?} c32: {err}", ex.engine());
    }
}

#[test]
fn gemv_matvec_dot_vdot_axpy_nrm2_follow_numpy() {
    let ex = Exec::blas(1).unwrap();
    let x = array![c64::new(1.0, 2.0), c64::new(0.0, 1.0)];
    assert_eq!(ex.dot(&x, &x).unwrap(), c64::new(-4.0, 4.0)); // Σ xᵢ², no conjugation
    assert_eq!(ex.vdot(&x, &x).unwrap(), c64::new(6.0, 0.0)); // ‖x‖²
    let y = array![c64::new(3.0, -1.0), c64::new(2.0, 5.0)];
    // numpy: np.vdot([1+2j, 1j], [3-1j, 2+5j]) = (1-2j)(3-1j) + (-1j)(2+5j) = (1-7j) + (5-2j)
    assert_eq!(parla::vdot(&x, &y).unwrap(), c64::new(6.0, -9.0));
    assert_eq!(
        parla::vdot(&array![1.0f64, 2.0], &array![3.0, 4.0]).unwrap(),
        11.0
    );
    assert_eq!(ex.nrm2(&array![c64::new(3.0, 4.0)]).unwrap(), 5.0);
    assert_eq!(ex.nrm2(&array![c64::new(3e300, 4e300)]).unwrap(), 5e300);
    assert_eq!(ex.nrm2(&array![c32::new(3e-30, 4e-30)]).unwrap(), 5e-30);
    let mut yy = y.clone();
    ex.axpy(c64::new(0.0, 1.0), &x, &mut yy).unwrap();
    assert_eq!(yy, array![c64::new(1.0, 0.0), c64::new(1.0, 5.0)]);

    let mut g = rng(3);
    let a = crandom(&mut g, 13, 9);
    let v = crandom(&mut g, 13, 1).column(0).to_owned();
    let w = crandom(&mut g, 9, 1).column(0).to_owned();
    let r = ref_matmul(
        &h(&a.view()).view(),
        &v.view().insert_axis(ndarray::Axis(1)),
    );
    let mut out = Array1::from_elem(9, c64::new(f64::NAN, 0.0));
    ex.gemv(
        c64::new(1.0, 0.0),
        &a,
        Trans::Conj,
        &v,
        c64::new(0.0, 0.0),
        &mut out,
    )
    .unwrap();
    let err = fro(&(out.clone().insert_axis(ndarray::Axis(1)) - &r).view());
    assert!(
        err < 30.0 * f64::EPSILON * fro(&a.view()) * fro(&v.view().insert_axis(ndarray::Axis(1)))
    );
    let mv = ex.matvec(&a, &w).unwrap();
    let r = ref_matmul(&a.view(), &w.view().insert_axis(ndarray::Axis(1)));
    assert!(fro(&(mv.insert_axis(ndarray::Axis(1)) - &r).view()) < 1e-13);
}

#[test]
fn solve_inv_lu_meet_lapack_ratios() {
    let mut g = rng(4);
    let ex = Exec::blas(2).unwrap();
    for n in [1, 2, 17, 64] {
        let a = crandom(&mut g, n, n) + eye(n) * c64::new(0.5, 0.5);
        let b = crandom(&mut g, n, 3);
        let x = ex.solve(&a, &b).unwrap();
        let res = fro(&(ref_matmul(&a.view(), &x.view()) - &b).view());
        let q = res / (fro(&a.view()) * fro(&x.view()) * n as f64 * f64::EPSILON);
        assert!(q < 30.0, "solve n={n}: {q}");
        let x1 = parla::solve(&a, &b.column(0)).unwrap();
        assert!(
            fro(&(x1.insert_axis(ndarray::Axis(1)) - x.slice(ndarray::s![.., ..1])).view())
                <= 1e-12 * fro(&x.view())
        );
        let xs = ex.solve(&to32(&a), &to32(&b)).unwrap();
        let res = fro(&(ref_matmul(&a.view(), &to64(&xs.view()).view()) - &b).view());
        let q =
            res / (fro(&a.view()) * fro(&to64(&xs.view()).view()) * n as f64 * f32::EPSILON as f64);
        assert!(q < 30.0, "solve c32 n={n}: {q}");

        let ai = ex.inv(&a).unwrap();
        let q = fro(&(ref_matmul(&a.view(), &ai.view()) - eye(n)).view())
            / (fro(&a.view()) * fro(&ai.view()) * n as f64 * f64::EPSILON);
        assert!(q < 30.0, "inv n={n}: {q}");

        let f = ex.lu(&a).unwrap();
        let back = ref_matmul(&f.p.view(), &ref_matmul(&f.l.view(), &f.u.view()).view());
        let q = fro(&(back - &a).view()) / (fro(&a.view()) * n as f64 * f64::EPSILON);
        assert!(q < 30.0, "lu n={n}: {q}");
        assert!((0..n).all(|i| f.l[[i, i]] == c64::new(1.0, 0.0)));
    }
}

#[test]
fn det_and_slogdet_match_cofactor_expansion() {
    let a = array![
        [c64::new(1.0, 1.0), c64::new(2.0, 0.0)],
        [c64::new(3.0, 0.0), c64::new(4.0, -1.0)]
    ];
    // (1+i)(4-i) - 6 = 5 + 3i - 6
    let d = parla::det(&a).unwrap();
    assert!((d - c64::new(-1.0, 3.0)).norm() < 1e-14, "{d}");
    let mut g = rng(5);
    for n in [1, 3, 5, 6] {
        let a = crandom(&mut g, n, n);
        let want = cofactor_det(&a);
        let got = parla::det(&a).unwrap();
        assert!(
            (got - want).norm() <= 50.0 * n as f64 * f64::EPSILON * want.norm().max(1e-300),
            "n={n}: {got} vs {want}"
        );
        let (sign, logabs) = parla::slogdet(&a).unwrap();
        assert!((sign.norm() - 1.0).abs() < 1e-14);
        let back = sign * logabs.exp();
        assert!((back - want).norm() <= 1e-12 * want.norm(), "slogdet n={n}");
        let got32 = parla::det(&to32(&a)).unwrap();
        assert!(
            (c64::new(got32.re as f64, got32.im as f64) - want).norm()
                <= 50.0 * n as f64 * f32::EPSILON as f64 * want.norm()
        );
    }
    // Singular: det 0, slogdet (0, -inf); huge: no spurious overflow.
    let s = array![
        [c64::new(1.0, 1.0), c64::new(2.0, 2.0)],
        [c64::new(1.0, 1.0), c64::new(2.0, 2.0)]
    ];
    assert_eq!(parla::det(&s).unwrap(), c64::new(0.0, 0.0));
    assert_eq!(
        parla::slogdet(&s).unwrap(),
        (c64::new(0.0, 0.0), f64::NEG_INFINITY)
    );
    let mut big = eye(3) * c64::new(0.0, 1e200);
    big[[2, 2]] = c64::new(1e-300, 0.0);
    let d = parla::det(&big).unwrap(); // i²·1e400·1e-300: the partial product overflows, det not
    assert!((d - c64::new(-1e100, 0.0)).norm() < 1e-14 * 1e100, "{d}");
    let big = eye(3) * c64::new(0.0, 1e200);
    assert_eq!(parla::det(&big).unwrap().im, f64::NEG_INFINITY); // i³·1e600 = -i·∞
    assert_eq!(
        parla::det(&Array2::<c64>::zeros((0, 0))).unwrap(),
        c64::new(1.0, 0.0)
    );
}

#[test]
fn cholesky_of_a_hermitian_not_symmetric_matrix() {
    let mut g = rng(6);
    for n in [1, 2, 9, 40] {
        let a = hpd(&mut g, n);
        if n > 1 {
            assert!(a != a.t(), "the test matrix must not be symmetric");
        }
        let l = parla::cholesky(&a).unwrap();
        let q = fro(&(ref_matmul(&l.view(), &h(&l.view()).view()) - &a).view())
            / (n as f64 * fro(&a.view()) * f64::EPSILON);
        assert!(q < 30.0, "n={n}: {q}");
        assert!((0..n).all(|i| (i + 1..n).all(|j| l[[i, j]] == c64::new(0.0, 0.0))));
        assert!((0..n).all(|i| l[[i, i]].im == 0.0 && l[[i, i]].re > 0.0));
        // Only the lower triangle is read.
        let mut junk = a.clone();
        for i in 0..n {
            for j in i + 1..n {
                junk[[i, j]] = c64::new(f64::NAN, 9.0);
            }
        }
        assert_eq!(parla::cholesky(&junk).unwrap(), l);
    }
    // Hermitian with eigenvalues -1 and 3.
    let bad = array![
        [c64::new(1.0, 0.0), c64::new(0.0, 2.0)],
        [c64::new(0.0, -2.0), c64::new(1.0, 0.0)]
    ];
    assert!(matches!(
        parla::cholesky(&bad),
        Err(Error::NotPositiveDefinite {
            op: "cholesky",
            index: 1
        })
    ));
}

#[test]
fn qr_is_unitary_times_upper() {
    let mut g = rng(7);
    for (m, n) in [(1, 1), (9, 4), (4, 9), (30, 30)] {
        let a = crandom(&mut g, m, n);
        for mode in [QrMode::Reduced, QrMode::Complete] {
            let f = parla::qr(&a, mode).unwrap();
            let k = if mode == QrMode::Reduced { m.min(n) } else { m };
            assert_eq!((f.q.dim(), f.r.dim()), ((m, k), (k, n)));
            let q = fro(&(ref_matmul(&f.q.view(), &f.r.view()) - &a).view())
                / (m.max(n) as f64 * fro(&a.view()) * f64::EPSILON);
            assert!(q < 30.0, "{m}x{n} {mode:?}: {q}");
            let o = fro(&(ref_matmul(&h(&f.q.view()).view(), &f.q.view()) - eye(k)).view())
                / (m as f64 * f64::EPSILON);
            assert!(o < 30.0, "{m}x{n} {mode:?}: QᴴQ {o}");
            assert!((0..k).all(|i| (0..i.min(n)).all(|j| f.r[[i, j]] == c64::new(0.0, 0.0))));
        }
    }
}

#[test]
fn solve_triangular_with_each_transpose() {
    let mut g = rng(8);
    let n = 12;
    let mut l = crandom(&mut g, n, n) + eye(n) * c64::new(3.0, 1.0);
    for i in 0..n {
        for j in i + 1..n {
            l[[i, j]] = c64::new(0.0, 0.0);
        }
    }
    let b = crandom(&mut g, n, 2);
    for (trans, op) in [
        (Trans::No, l.clone()),
        (Trans::Yes, l.t().to_owned()),
        (Trans::Conj, h(&l.view())),
    ] {
        let x = parla::solve_triangular(&l, &b, Uplo::Lower, trans, Diag::NonUnit).unwrap();
        let q = fro(&(ref_matmul(&op.view(), &x.view()) - &b).view())
            / (fro(&l.view()) * fro(&x.view()) * n as f64 * f64::EPSILON);
        assert!(q < 30.0, "{trans:?}: {q}");
    }
    let mut s = l.clone();
    s[[4, 4]] = c64::new(0.0, 0.0);
    assert!(matches!(
        parla::solve_triangular(&s, &b, Uplo::Lower, Trans::No, Diag::NonUnit),
        Err(Error::Singular { pivot: 4, .. })
    ));
}

#[test]
fn bad_complex_input_is_a_typed_error() {
    let mut a = eye(3);
    a[[1, 2]] = c64::new(0.0, f64::NAN);
    let b = Array2::<c64>::ones((3, 1));
    assert!(matches!(
        parla::solve(&a, &b),
        Err(Error::NonFinite { op: "solve", ref index, .. }) if index == &vec![1, 2]
    ));
    a[[1, 2]] = c64::new(f64::INFINITY, 0.0);
    assert!(matches!(parla::inv(&a), Err(Error::NonFinite { .. })));
    assert!(matches!(parla::det(&a), Err(Error::NonFinite { .. })));
    assert!(matches!(
        parla::qr(&a, QrMode::Reduced),
        Err(Error::NonFinite { .. })
    ));
    let sing = Array2::<c64>::zeros((3, 3));
    assert!(matches!(
        parla::solve(&sing, &b),
        Err(Error::Singular {
            op: "solve",
            pivot: 0
        })
    ));
    assert!(matches!(
        parla::inv(&sing),
        Err(Error::Singular { op: "inv", .. })
    ));
    assert!(matches!(
        parla::solve(&eye(3), &Array2::<c64>::ones((2, 1))),
        Err(Error::ShapeMismatch { op: "solve", .. })
    ));
    assert!(matches!(
        parla::matmul(&eye(3), &Array2::<c64>::ones((2, 1))),
        Err(Error::ShapeMismatch { op: "matmul", .. })
    ));
    assert!(matches!(
        parla::cholesky(&Array2::<c64>::ones((2, 3))),
        Err(Error::NotSquare { .. })
    ));
    assert!(matches!(
        parla::dot(&Array1::<c64>::ones(2), &Array1::<c64>::ones(3)),
        Err(Error::ShapeMismatch { op: "dot", .. })
    ));
    // Empty inputs: the results numpy gives.
    let e = Array2::<c64>::zeros((0, 0));
    assert_eq!(
        parla::solve(&e, &Array2::<c64>::zeros((0, 2)))
            .unwrap()
            .dim(),
        (0, 2)
    );
    assert_eq!(
        parla::matmul(&Array2::<c64>::zeros((2, 0)), &Array2::<c64>::zeros((0, 3))).unwrap(),
        Array2::<c64>::zeros((2, 3))
    );
}

#[test]
fn rayon_engines_run_complex_gemm_and_level_1_2_and_refuse_the_rest() {
    let a = eye(4) * c64::new(2.0, 1.0);
    let b = Array2::<c64>::ones((4, 1));
    for engine in [Engine::Rayon, Engine::RayonBlas] {
        let ex = Exec::new(engine, 2).unwrap();
        assert!(ex.matmul(&a, &a).is_ok());
        // Level 1/2 run too (`complex_rayon.rs` checks their results).
        assert!(ex.vdot(&b.column(0), &b.column(0)).is_ok());
        assert!(ex.matvec(&a, &b.column(0)).is_ok());
        // So do the LU family, Cholesky, QR and the factor objects (`complex_rayon.rs`).
        let hpd2 = eye(4) * c64::new(2.0, 0.0);
        for r in [
            ex.solve(&a, &b).map(drop),
            ex.inv(&a).map(drop),
            ex.det(&a).map(drop),
            ex.cholesky(&hpd2).map(drop),
            ex.qr(&a, QrMode::Reduced).map(drop),
            ex.lu_factor(&a).map(drop),
            ex.cho_factor(&hpd2).map(drop),
            ex.qr_factor(&a).map(drop),
            ex.lu_factor(&Array2::<c64>::zeros((0, 0))).map(drop),
        ] {
            assert!(r.is_ok(), "{engine}: {r:?}");
        }
        for r in [
            ex.eigh(&a).map(drop),
            ex.eig(&a).map(drop),
            ex.eigvals(&a).map(drop),
            ex.svd(&a, parla::SvdMode::Thin).map(drop),
        ] {
            assert!(
                matches!(r, Err(Error::Unsupported { engine: e, .. }) if e == engine),
                "{engine}: {r:?}"
            );
        }
        // solve_triangular runs too (`complex_rayon.rs`).
        let tri = ex.solve_triangular(&a, &b, Uplo::Lower, Trans::No, Diag::NonUnit);
        assert!(tri.is_ok(), "{tri:?}");
        let plan = ex.plan(Op::Eigh, Dtype::C128, Shape::Square(64));
        assert!(matches!(plan, Err(Error::Unsupported { op: "eigh", .. })));
        let plan = ex.plan(Op::Matmul, Dtype::C64, Shape::Square(64)).unwrap();
        assert_eq!(plan.engine, engine);
        // The real types are untouched.
        assert!(ex
            .solve(&Array2::<f64>::eye(2), &Array2::<f64>::ones((2, 1)))
            .is_ok());
    }
    let auto = Exec::new(Engine::Auto, 2).unwrap();
    assert_eq!(
        auto.plan(Op::Solve, Dtype::C128, Shape::Square(500))
            .unwrap()
            .engine,
        Engine::Blas
    );
    // Complex GEMM under auto: `blas` or `rayon` by the built-in GEMM rule, never `rayon-blas`.
    let p = auto
        .plan(Op::Matmul, Dtype::C128, Shape::Square(500))
        .unwrap();
    assert!(matches!(p.engine, Engine::Blas | Engine::Rayon), "{p:?}");
    assert!(p.rule.starts_with("auto: "), "{p:?}");
    let a = crandom(&mut rng(12), 40, 40);
    let c = auto.matmul(&a, &a).unwrap();
    let q = product_ratio(
        &c.view(),
        &ref_matmul(&a.view(), &a.view()).view(),
        fro(&a.view()),
        fro(&a.view()),
        40,
        f64::EPSILON,
    );
    assert!(q < 4.0, "auto: {q}");
}

#[test]
fn dtype_names_parse() {
    for d in Dtype::ALL {
        assert_eq!(d.name().parse::<Dtype>().unwrap(), d);
        assert_eq!(d.name().to_uppercase().parse::<Dtype>().unwrap(), d);
    }
    assert_eq!("c64".parse::<Dtype>().unwrap(), Dtype::C128);
    assert_eq!(Dtype::C128.bytes(), 16);
    assert!("complex256".parse::<Dtype>().is_err());
    assert_eq!(<c64 as Field>::ELEMENT, Dtype::C128);
    assert_eq!(<Complex<f32> as Field>::ELEMENT, Dtype::C64);
}

#[test]
fn real_generic_code_still_compiles_and_runs() {
    fn residual<T: parla::Scalar>(a: &Array2<T>, b: &Array1<T>) -> parla::Result<T> {
        let x = parla::solve(a, b)?;
        let (s, l) = parla::slogdet(a)?;
        assert!(s * l.exp() != T::zero());
        parla::blas_level::nrm2(&(parla::matvec(a, &x)? - b))
    }
    let a = Array2::from_shape_vec((2, 2).f(), vec![2.0f64, 1.0, 1.0, 3.0]).unwrap();
    assert!(residual(&a, &array![1.0, 2.0]).unwrap() < 1e-14);
}

#[test]
fn eigh_of_a_hermitian_not_symmetric_matrix() {
    // [[2, i], [-i, 2]] has eigenvalues 1 and 3 (its transpose-symmetric reading would not).
    let i = c64::new(0.0, 1.0);
    let a = array![[c64::new(2.0, 0.0), i], [-i, c64::new(2.0, 0.0)]];
    let w = parla::eigvalsh(&a).unwrap();
    assert!(
        (w[0] - 1.0).abs() < 1e-14 && (w[1] - 3.0).abs() < 1e-14,
        "{w}"
    );
    let mut g = rng(9);
    for n in [1, 5, 33] {
        let b = crandom(&mut g, n, n);
        let a = &b + &h(&b.view()); // Hermitian, indefinite
        let e = parla::eigh(&a).unwrap();
        let v = &e.vectors;
        let av = ref_matmul(&a.view(), &v.view());
        let vw = v * &e.values.mapv(|x| c64::new(x, 0.0));
        let q = fro(&(av - vw).view()) / (n as f64 * fro(&a.view()) * f64::EPSILON);
        assert!(q < 30.0, "eigh n={n}: {q}");
        let o = fro(&(ref_matmul(&h(&v.view()).view(), &v.view()) - eye(n)).view())
            / (n as f64 * f64::EPSILON);
        assert!(o < 30.0, "eigh n={n}: VᴴV {o}");
        assert!(e.values.windows(2).into_iter().all(|p| p[0] <= p[1]));
        let w = parla::eigvalsh(&to32(&a)).unwrap();
        let d = w
            .iter()
            .zip(&e.values)
            .fold(0.0f64, |m, (&x, &y)| m.max((x as f64 - y).abs()));
        assert!(
            d < 30.0 * n as f64 * f32::EPSILON as f64 * fro(&a.view()),
            "c32 n={n}: {d}"
        );
    }
}

#[test]
fn svd_reconstructs_with_the_conjugate_transpose() {
    let d = array![
        [c64::new(0.0, 3.0), c64::new(0.0, 0.0)],
        [c64::new(0.0, 0.0), c64::new(-4.0, 0.0)]
    ];
    assert_eq!(parla::svdvals(&d).unwrap(), array![4.0, 3.0]);
    let mut g = rng(10);
    for (m, n) in [(1, 1), (7, 4), (4, 7), (20, 20)] {
        let a = crandom(&mut g, m, n);
        for mode in [parla::SvdMode::Thin, parla::SvdMode::Full] {
            let f = parla::svd(&a, mode).unwrap();
            let k = m.min(n);
            let us = Array2::from_shape_fn((m, k), |(i, j)| f.u[[i, j]] * f.s[j]);
            let back = ref_matmul(&us.view(), &f.vt.slice(ndarray::s![..k, ..]));
            let q = fro(&(back - &a).view()) / (m.max(n) as f64 * fro(&a.view()) * f64::EPSILON);
            assert!(q < 30.0, "svd {m}x{n} {mode:?}: {q}");
            let uo =
                fro(&(ref_matmul(&h(&f.u.view()).view(), &f.u.view()) - eye(f.u.ncols())).view());
            let vo = fro(
                &(ref_matmul(&f.vt.view(), &h(&f.vt.view()).view()) - eye(f.vt.nrows())).view(),
            );
            assert!(
                uo.max(vo) < 30.0 * m.max(n) as f64 * f64::EPSILON,
                "{m}x{n}: {uo} {vo}"
            );
            assert!(f.s.windows(2).into_iter().all(|p| p[0] >= p[1]));
        }
        let s = parla::svdvals(&a).unwrap();
        assert_eq!(s.len(), m.min(n));
    }
}

#[test]
fn norms_cond_rank_pinv() {
    use parla::NormKind;
    let a = array![
        [c64::new(3.0, 4.0), c64::new(0.0, 1.0)],
        [c64::new(0.0, 0.0), c64::new(-1.0, 0.0)]
    ];
    assert!((parla::norm(&a, NormKind::Fro).unwrap() - 27f64.sqrt()).abs() < 1e-14);
    assert_eq!(parla::norm(&a, NormKind::One).unwrap(), 5.0); // column sums of |z|: 5, 2
    assert_eq!(parla::norm(&a, NormKind::Inf).unwrap(), 6.0); // row sums: 6, 1
    let d = array![
        [c64::new(0.0, 3.0), c64::new(0.0, 0.0)],
        [c64::new(0.0, 0.0), c64::new(-4.0, 0.0)]
    ];
    assert!((parla::norm(&d, NormKind::Two).unwrap() - 4.0).abs() < 1e-14);
    assert!((parla::cond(&d).unwrap() - 4.0 / 3.0).abs() < 1e-14);
    assert!(
        (parla::norm(&array![[c64::new(3e300, 4e300)]], NormKind::Fro).unwrap() - 5e300).abs()
            < 1e286
    );

    let mut g = rng(11);
    let u = crandom(&mut g, 6, 1);
    let v = crandom(&mut g, 5, 1);
    let r1 = ref_matmul(&u.view(), &h(&v.view()).view());
    assert_eq!(parla::matrix_rank(&r1, None).unwrap(), 1);
    assert_eq!(parla::matrix_rank(&crandom(&mut g, 6, 5), None).unwrap(), 5);

    let a = crandom(&mut g, 7, 4);
    let p = parla::pinv(&a, None).unwrap();
    assert_eq!(p.dim(), (4, 7));
    let q = fro(&(ref_matmul(&p.view(), &a.view()) - eye(4)).view())
        / (7.0 * f64::EPSILON * parla::cond(&a).unwrap());
    assert!(q < 30.0, "pinv: A⁺A − I ratio {q}");
    // (A⁺)ᴴ = (Aᴴ)⁺: conjugation matters.
    let ph = parla::pinv(&h(&a.view()), None).unwrap();
    assert!(fro(&(ph - h(&p.view())).view()) < 1e-12 * fro(&p.view()));
    let ex = Exec::new(Engine::Rayon, 2).unwrap();
    assert!(matches!(ex.pinv(&a, None), Err(Error::Unsupported { .. })));
    assert!(matches!(
        ex.norm(&a, NormKind::Two),
        Err(Error::Unsupported { op: "norm", .. })
    ));
}

#[test]
fn lstsq_minimum_norm_solutions() {
    let mut g = rng(13);
    // Overdetermined, full column rank: the residual is orthogonal to range(A).
    let (m, n) = (12, 5);
    let a = crandom(&mut g, m, n);
    let b = crandom(&mut g, m, 2);
    let f = parla::lstsq(&a, &b, None).unwrap();
    assert_eq!(
        (f.rank, f.singular_values.len(), f.residuals.len()),
        (n, n, 2)
    );
    let r = &b - &ref_matmul(&a.view(), &f.solution.view());
    let ortho = fro(&ref_matmul(&h(&a.view()).view(), &r.view()).view());
    let scale = fro(&a.view()) * (fro(&a.view()) * fro(&f.solution.view()) + fro(&b.view()));
    assert!(
        ortho / (scale * m as f64 * f64::EPSILON) < 30.0,
        "Aᴴr: {ortho}"
    );
    for (j, &res) in f.residuals.iter().enumerate() {
        let want = r.column(j).iter().map(|z| z.norm_sqr()).sum::<f64>();
        assert!((res - want).abs() <= 1e-12 * want, "{res} vs {want}");
    }
    // A vector right-hand side gives a vector solution.
    let f1 = parla::lstsq(&a, &b.column(0), None).unwrap();
    assert!(
        fro(
            &(f1.solution.insert_axis(ndarray::Axis(1)) - f.solution.slice(ndarray::s![.., ..1]))
                .view()
        ) < 1e-12
    );
    // Underdetermined: the minimum-norm solution pinv(A) b, which solves A x = b.
    let a = crandom(&mut g, 4, 9);
    let b = crandom(&mut g, 4, 1);
    let f = parla::lstsq(&a, &b, None).unwrap();
    assert!(f.residuals.is_empty());
    let want = ref_matmul(&parla::pinv(&a, None).unwrap().view(), &b.view());
    assert!(fro(&(&f.solution - &want).view()) < 1e-12 * fro(&want.view()));
    assert!(fro(&(ref_matmul(&a.view(), &f.solution.view()) - &b).view()) < 1e-12);
    // Rank deficient: rank 1.
    let u = crandom(&mut g, 6, 1);
    let v = crandom(&mut g, 3, 1);
    let r1 = ref_matmul(&u.view(), &h(&v.view()).view());
    assert_eq!(
        parla::lstsq(&r1, &crandom(&mut g, 6, 1), None)
            .unwrap()
            .rank,
        1
    );
    let ex = Exec::new(Engine::Rayon, 2).unwrap();
    assert!(matches!(
        ex.lstsq(&a, &b, None),
        Err(Error::Unsupported { .. })
    ));
    assert!(matches!(
        parla::lstsq(&a, &b, Some(-1.0)),
        Err(Error::InvalidArgument { name: "rcond", .. })
    ));
}

/// `‖A V − V diag(w)‖ / (n ‖A‖ ε)`, the column norms' largest distance from 1 over `n ε`, and
/// the largest imaginary part of each column's largest component over `ε`.
fn eig_ratios(a: &Array2<c64>, e: &parla::Eig<f64>, eps: f64) -> (f64, f64, f64) {
    let n = a.nrows();
    let v = &e.vectors;
    let r = ref_matmul(&a.view(), &v.view()) - v * &e.values;
    let res = fro(&r.view()) / (n as f64 * fro(&a.view()) * eps);
    let (mut norm, mut real) = (0.0f64, 0.0f64);
    for col in v.columns() {
        let s = col.iter().map(|z| z.norm_sqr()).sum::<f64>().sqrt();
        norm = norm.max((s - 1.0).abs() / (n as f64 * eps));
        let big = col.iter().fold(
            c64::new(0.0, 0.0),
            |m, &z| if z.norm() > m.norm() { z } else { m },
        );
        real = real.max(big.im.abs() / eps);
    }
    (res, norm, real)
}

#[test]
fn eig_of_general_complex_matrices() {
    let mut g = rng(13);
    for n in [1, 2, 7, 40] {
        let a = crandom(&mut g, n, n);
        let e = parla::eig(&a).unwrap();
        let (res, norm, real) = eig_ratios(&a, &e, f64::EPSILON);
        assert!(
            res < 30.0 && norm < 30.0 && real < 30.0,
            "n={n}: {res} {norm} {real}"
        );
        let w = parla::eigvals(&a).unwrap();
        assert_eq!(w.len(), n);
        // Without vectors the same eigenvalues (each within n ε ‖A‖ of one from `eig`).
        for z in &w {
            let d = e.values.iter().fold(f64::MAX, |m, y| m.min((y - z).norm()));
            assert!(
                d < 30.0 * n as f64 * f64::EPSILON * fro(&a.view()),
                "n={n}: {d}"
            );
        }
        let e32 = parla::eig(&to32(&a)).unwrap();
        let e32 = parla::Eig {
            values: e32.values.mapv(|z| c64::new(z.re as f64, z.im as f64)),
            vectors: to64(&e32.vectors.view()),
        };
        let (res, norm, _) = eig_ratios(&a, &e32, f32::EPSILON as f64);
        assert!(res < 30.0 && norm < 30.0, "c32 n={n}: {res} {norm}");
    }
}

#[test]
fn eig_of_a_complex_triangular_matrix_is_its_diagonal() {
    let mut g = rng(14);
    let n = 12;
    let mut t = crandom(&mut g, n, n);
    for i in 0..n {
        for j in 0..i {
            t[[i, j]] = c64::new(0.0, 0.0);
        }
        // Distinct, well separated diagonal entries.
        t[[i, i]] = c64::new(i as f64, (n - i) as f64 * 0.5);
    }
    let w = parla::eigvals(&t).unwrap();
    let tol = 30.0 * n as f64 * f64::EPSILON * fro(&t.view());
    let mut used = vec![false; n];
    for i in 0..n {
        let d = t[[i, i]];
        let (k, dist) = w
            .iter()
            .enumerate()
            .filter(|(k, _)| !used[*k])
            .map(|(k, z)| (k, (z - d).norm()))
            .fold((n, f64::MAX), |m, p| if p.1 < m.1 { p } else { m });
        assert!(dist < tol, "diagonal {d}: nearest eigenvalue at {dist}");
        used[k] = true;
    }
}

#[test]
fn eig_of_a_hermitian_matrix_gives_the_real_eigenvalues_of_eigh() {
    let mut g = rng(15);
    for n in [3, 30] {
        let b = crandom(&mut g, n, n);
        let a = &b + &h(&b.view());
        let tol = 30.0 * n as f64 * f64::EPSILON * fro(&a.view());
        let e = parla::eig(&a).unwrap();
        assert!(e.values.iter().all(|z| z.im.abs() < tol), "{}", e.values);
        let mut re: Vec<f64> = e.values.iter().map(|z| z.re).collect();
        re.sort_by(f64::total_cmp);
        let wh = parla::eigvalsh(&a).unwrap();
        for (x, y) in re.iter().zip(&wh) {
            assert!((x - y).abs() < tol, "n={n}: {x} vs {y}");
        }
    }
}

#[test]
fn eig_of_bad_complex_input_is_a_typed_error() {
    assert!(matches!(
        parla::eig(&Array2::<c64>::ones((2, 3))),
        Err(Error::NotSquare { op: "eig", .. })
    ));
    let mut a = eye(3);
    a[[2, 0]] = c64::new(f64::NAN, 0.0);
    assert!(matches!(
        parla::eigvals(&a),
        Err(Error::NonFinite { op: "eigvals", .. })
    ));
    let e = parla::eig(&Array2::<c64>::zeros((0, 0))).unwrap();
    assert_eq!((e.values.len(), e.vectors.dim()), (0, (0, 0)));
    assert!(matches!(
        parla::eig(&Array2::<c32>::zeros((1, 2))),
        Err(Error::NotSquare { .. })
    ));
}

/// `‖x − y‖ / ‖y‖`.
fn rel(x: &ArrayView2<c64>, y: &ArrayView2<c64>) -> f64 {
    fro(&(x.to_owned() - y).view()) / fro(y)
}

#[test]
fn lu_factor_solves_like_repeated_solve() {
    let mut g = rng(16);
    for n in [1, 9, 50] {
        let a = crandom(&mut g, n, n);
        let f = parla::lu_factor(&a).unwrap();
        assert!(!f.is_singular() && f.n() == n && f.engine() == Engine::Blas);
        let (at, ah) = (a.t().to_owned(), h(&a.view()));
        let tol = 1e3 * n as f64 * f64::EPSILON;
        for k in [1, 4] {
            let b = crandom(&mut g, n, k);
            for (x, m) in [
                (f.solve(&b).unwrap(), &a),
                (f.solve_transpose(&b).unwrap(), &at),
                (f.solve_conj_transpose(&b).unwrap(), &ah),
            ] {
                let want = parla::solve(m, &b).unwrap();
                let d = rel(&x.view(), &want.view());
                assert!(d < tol, "n={n} k={k}: {d}");
            }
            // A vector right-hand side gives a vector.
            let x1 = f.solve_conj_transpose(&b.column(0)).unwrap();
            let want = parla::solve(&ah, &b.column(0)).unwrap();
            let d = rel(
                &x1.insert_axis(ndarray::Axis(1)).view(),
                &want.insert_axis(ndarray::Axis(1)).view(),
            );
            assert!(d < tol, "n={n} vector: {d}");
        }
        let dd = (f.det() - parla::det(&a).unwrap()).norm() / parla::det(&a).unwrap().norm();
        assert!(dd < tol, "det n={n}: {dd}");
        let (s1, l1) = f.slogdet();
        let (s2, l2) = parla::slogdet(&a).unwrap();
        assert!(
            (s1 - s2).norm() < tol && (l1 - l2).abs() < tol * (1.0 + l2.abs()),
            "slogdet n={n}"
        );
        let d = rel(&f.inv().unwrap().view(), &parla::inv(&a).unwrap().view());
        assert!(d < tol, "inv n={n}: {d}");
    }
    let a = crandom(&mut g, 20, 20);
    let b = crandom(&mut g, 20, 3);
    let x = parla::lu_factor(&to32(&a))
        .unwrap()
        .solve_conj_transpose(&to32(&b))
        .unwrap();
    let want = parla::solve(&to32(&h(&a.view())), &to32(&b)).unwrap();
    let d = rel(&to64(&x.view()).view(), &to64(&want.view()).view());
    assert!(d < 1e3 * 20.0 * f32::EPSILON as f64, "c32: {d}");
    // Singular: not an error to factor; its solves and inv are.
    let f = parla::lu_factor(&Array2::<c64>::zeros((3, 3))).unwrap();
    assert!(f.is_singular() && f.det() == c64::new(0.0, 0.0));
    assert_eq!(f.slogdet().1, f64::NEG_INFINITY);
    assert!(matches!(
        f.solve(&b.slice(ndarray::s![..3, ..])),
        Err(Error::Singular { .. })
    ));
    assert!(matches!(f.inv(), Err(Error::Singular { .. })));
    assert!(matches!(
        parla::lu_factor(&a)
            .unwrap()
            .solve(&Array2::<c64>::ones((3, 1))),
        Err(Error::ShapeMismatch { op: "lu_solve", .. })
    ));
    assert!(matches!(
        parla::lu_factor(&Array2::<c64>::ones((2, 3))),
        Err(Error::NotSquare { .. })
    ));
    let e = parla::lu_factor(&Array2::<c64>::zeros((0, 0))).unwrap();
    assert_eq!(
        e.solve(&Array2::<c64>::zeros((0, 2))).unwrap().dim(),
        (0, 2)
    );
    assert_eq!(e.det(), c64::new(1.0, 0.0));
}

#[test]
fn cho_factor_of_a_hermitian_matrix_solves_like_repeated_solve() {
    let mut g = rng(17);
    for n in [1, 8, 40] {
        let a = hpd(&mut g, n);
        let f = parla::cho_factor(&a).unwrap();
        let tol = 1e3 * n as f64 * f64::EPSILON;
        assert!(rel(&f.l(), &parla::cholesky(&a).unwrap().view()) < tol);
        for k in [1, 3] {
            let b = crandom(&mut g, n, k);
            let d = rel(
                &f.solve(&b).unwrap().view(),
                &parla::solve(&a, &b).unwrap().view(),
            );
            assert!(d < tol, "n={n} k={k}: {d}");
        }
        let d = rel(&f.inv().unwrap().view(), &parla::inv(&a).unwrap().view());
        assert!(d < tol, "inv n={n}: {d}");
        let (_, want) = parla::slogdet(&a).unwrap();
        assert!(
            (f.logdet() - want).abs() < tol * want.abs().max(1.0),
            "logdet n={n}"
        );
    }
    let mut a = eye(2);
    a[[1, 1]] = c64::new(-1.0, 0.0);
    assert!(matches!(
        parla::cho_factor(&a),
        Err(Error::NotPositiveDefinite {
            op: "cho_factor",
            index: 1
        })
    ));
}

#[test]
fn qr_factor_solves_least_squares_like_lstsq() {
    let mut g = rng(18);
    for (m, n) in [(1, 1), (12, 12), (30, 7)] {
        let a = crandom(&mut g, m, n);
        let f = parla::qr_factor(&a).unwrap();
        assert_eq!(f.dim(), (m, n));
        let tol = 1e3 * m as f64 * f64::EPSILON;
        let b = crandom(&mut g, m, 3);
        let x = f.solve_lstsq(&b).unwrap();
        let want = parla::lstsq(&a, &b, None).unwrap().solution;
        let d = rel(&x.view(), &want.view());
        assert!(d < tol, "{m}x{n}: {d}");
        let x1 = f.solve_lstsq(&b.column(1)).unwrap();
        assert_eq!(x1.len(), n);
        // Rᴴ R = Aᴴ A.
        let r = f.r().unwrap();
        assert_eq!(r.dim(), (m.min(n), n));
        let d = rel(
            &ref_matmul(&h(&r.view()).view(), &r.view()).view(),
            &ref_matmul(&h(&a.view()).view(), &a.view()).view(),
        );
        assert!(d < tol, "RᴴR {m}x{n}: {d}");
    }
    let wide = crandom(&mut g, 2, 3);
    assert!(matches!(
        parla::qr_factor(&wide)
            .unwrap()
            .solve_lstsq(&Array2::<c64>::ones((2, 1))),
        Err(Error::InvalidArgument { .. })
    ));
}
