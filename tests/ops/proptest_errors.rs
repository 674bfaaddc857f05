//! Property: no public operation panics on any input. Random shapes (0..6 × 0..6), layouts
//! (C, Fortran, padded transposes, strided, negative strides), optional transposition, optional
//! NaN/±Inf injection and exactly singular rows; every call returns `Ok` or a typed error, and
//! the error is the right one for the input:
//!
//! - `NotSquare` / `ShapeMismatch` only when the shapes really are wrong, with the real shapes;
//! - `NonFinite` names an element that really is non-finite, in the operand the op checks;
//! - finiteness-checking ops never return `Ok` for an input with NaN/Inf where they read;
//! - `Error::Lapack` ("a bug in parla if it ever shows up") never appears;
//! - on `Ok`, the outputs have the documented shapes.

use crate::common;

use common::la::{Layout, Stored, LAYOUTS};
use ndarray::{Array1, Array2, ArrayView2};
use parla::{Diag, Error, NormKind, QrMode, Scalar, Trans, Uplo};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// A random matrix: logical shape, values, storage and injected non-finite value.
#[derive(Debug, Clone)]
struct Spec {
    m: usize,
    n: usize,
    data: Vec<f64>,
    layout: Layout,
    /// Stored as the transpose and viewed through `.t()`.
    transposed: bool,
    /// Position (mod m·n) and value of an injected NaN/±Inf.
    bad: Option<(usize, f64)>,
    /// Row (mod m) zeroed to make a square matrix exactly singular.
    zero_row: Option<usize>,
    /// 1, or a scale near the ends of the range (1e±150, 1e±300; beyond f32's range).
    scale: f64,
}

fn spec(max: usize) -> impl Strategy<Value = Spec> {
    (0..max, 0..max).prop_flat_map(|(m, n)| {
        (
            proptest::collection::vec(-2.0f64..2.0, m * n),
            0..LAYOUTS.len(),
            any::<bool>(),
            proptest::option::weighted(
                0.3,
                (
                    any::<usize>(),
                    prop_oneof![Just(f64::NAN), Just(f64::INFINITY), Just(f64::NEG_INFINITY)],
                ),
            ),
            proptest::option::weighted(0.2, any::<usize>()),
            prop_oneof![
                Just(1.0),
                Just(1e150),
                Just(1e-150),
                Just(1e300),
                Just(1e-300)
            ],
        )
            .prop_map(move |(data, l, transposed, bad, zero_row, scale)| Spec {
                m,
                n,
                data,
                layout: LAYOUTS[l],
                transposed,
                bad,
                zero_row,
                scale,
            })
    })
}

impl Spec {
    /// The logical matrix in f64.
    fn matrix(&self) -> Array2<f64> {
        let mut a =
            Array2::from_shape_vec((self.m, self.n), self.data.clone()).unwrap() * self.scale;
        if let (Some(r), true) = (self.zero_row, self.m > 0) {
            a.row_mut(r % self.m).fill(0.0);
        }
        if let (Some((k, v)), true) = (self.bad, self.m * self.n > 0) {
            let k = k % (self.m * self.n);
            a[[k / self.n, k % self.n]] = v;
        }
        a
    }

    /// Storage holding the matrix in `T`, in the chosen layout.
    fn store<T: Scalar>(&self) -> Stored<T> {
        let a = self.matrix().mapv(T::of);
        if self.transposed {
            Stored::new(&a.t().to_owned(), self.layout, T::of(5.0))
        } else {
            Stored::new(&a, self.layout, T::of(5.0))
        }
    }

    fn view<'a, T: Scalar>(&self, st: &'a Stored<T>) -> ArrayView2<'a, T> {
        if self.transposed {
            st.view().reversed_axes()
        } else {
            st.view()
        }
    }
}

fn all_finite<T: Scalar>(a: &ArrayView2<T>) -> bool {
    a.iter().all(|x| x.is_finite())
}

/// The checks shared by every call: no `Lapack` error, and `NonFinite` names a non-finite
/// element of one of `operands` (in that operand's own shape), with the right op.
fn check_err<T: Scalar, R>(op: &str, res: &Result<R, Error>, operands: &[ArrayView2<T>]) {
    match res {
        Err(Error::Lapack { .. }) => panic!("{op}: {res:?}", res = res.as_ref().err()),
        Err(Error::NonFinite {
            op: o,
            index,
            value,
        }) => {
            assert_eq!(*o, op);
            let hit = operands.iter().any(|a| {
                let x = match index.as_slice() {
                    [i, j] if a.nrows() > *i && a.ncols() > *j => Some(a[[*i, *j]]),
                    // A vector operand is passed as an n × 1 view.
                    [i] if a.ncols() == 1 && a.nrows() > *i => Some(a[[*i, 0]]),
                    _ => None,
                };
                x.is_some_and(|x| !x.is_finite() && format!("{x}") == *value)
            });
            assert!(
                hit,
                "{op}: NonFinite at {index:?} ({value}) is not a non-finite element"
            );
        }
        Err(Error::NotSquare { op: o, rows, cols }) => {
            assert_eq!(*o, op);
            assert_ne!(rows, cols, "{op}: NotSquare for a square matrix");
        }
        Err(Error::ShapeMismatch { op: o, left, right }) => {
            assert_eq!(*o, op);
            assert!(
                !left.is_empty() && !right.is_empty(),
                "{op}: {left:?} {right:?}"
            );
        }
        Err(Error::Empty { op: o, shape }) => {
            assert_eq!(*o, op);
            assert!(shape.contains(&0), "{op}: Empty for {shape:?}");
        }
        Err(
            Error::Singular { op: o, .. }
            | Error::NotPositiveDefinite { op: o, .. }
            | Error::NoConvergence { op: o, .. }
            | Error::InvalidArgument { op: o, .. },
        ) => assert_eq!(*o, op),
        // Under a rayon engine (the tests below), the operations it does not implement say so.
        Err(Error::Unsupported { op: o, engine }) if *engine != parla::Engine::Blas => {
            assert_eq!(*o, op)
        }
        Err(e) => panic!("{op}: unexpected {e:?}"),
        Ok(_) => {}
    }
}

/// Runs `f` with each rayon engine as the scoped default, at 2 threads.
fn on_rayon_engines(f: impl Fn()) {
    for engine in [parla::Engine::RayonBlas, parla::Engine::Rayon] {
        parla::with_backend(engine, || parla::with_num_threads(2, &f).unwrap());
    }
}

/// A finiteness-checking op must not succeed on a non-finite input it reads.
fn must_fail_on_non_finite<R: std::fmt::Debug>(op: &str, res: &Result<R, Error>, finite: bool) {
    if !finite {
        assert!(
            res.is_err(),
            "{op}: Ok({:?}) for a non-finite input",
            res.as_ref().ok()
        );
    }
}

/// Unary matrix operations.
fn unary<T: Scalar>(s: &Spec) {
    let st = s.store::<T>();
    let a = s.view(&st);
    let (m, n) = a.dim();
    let k = m.min(n);
    let fin = all_finite(&a);
    let ops = [a.view()];
    macro_rules! call {
        ($op:expr, $e:expr, $checks_finite:expr) => {{
            let r = $e;
            check_err::<T, _>($op, &r, &ops);
            if $checks_finite {
                must_fail_on_non_finite($op, &r, fin);
            }
            r
        }};
    }
    if let Ok(f) = call!("lu", parla::lu(&a), true) {
        assert_eq!((f.p.dim(), f.l.dim(), f.u.dim()), ((m, m), (m, k), (k, n)));
    }
    if let Ok(x) = call!("inv", parla::inv(&a), true) {
        assert_eq!(x.dim(), (n, n));
    }
    if let Ok(d) = call!("det", parla::det(&a), true) {
        assert!(!d.is_nan() || s.scale != 1.0, "det NaN for finite input");
    }
    if let Ok((sign, _)) = call!("slogdet", parla::slogdet(&a), true) {
        assert!(sign == T::one() || sign == -T::one() || sign == T::zero());
    }
    if let Ok(l) = call!("cholesky", parla::cholesky(&a), false) {
        assert_eq!(l.dim(), (n, n));
    }
    for mode in [QrMode::Reduced, QrMode::Complete] {
        if let Ok(f) = call!("qr", parla::qr(&a, mode), true) {
            let c = if mode == QrMode::Reduced { k } else { m };
            assert_eq!((f.q.dim(), f.r.dim()), ((m, c), (c, n)));
        }
    }
    for full in [false, true] {
        if let Ok(f) = call!(
            "svd",
            parla::svd(
                &a,
                if full {
                    parla::SvdMode::Full
                } else {
                    parla::SvdMode::Thin
                }
            ),
            true
        ) {
            let (uc, vr) = if full { (m, n) } else { (k, k) };
            assert_eq!((f.u.dim(), f.s.len(), f.vt.dim()), ((m, uc), k, (vr, n)));
        }
    }
    if let Ok(sv) = call!("svdvals", parla::svdvals(&a), true) {
        assert_eq!(sv.len(), k);
    }
    if let Ok(f) = call!("eigh", parla::eigh(&a), false) {
        assert_eq!((f.values.len(), f.vectors.dim()), (n, (n, n)));
    }
    let _ = call!("eigvalsh", parla::eigvalsh(&a), false);
    if let Ok(f) = call!("eig", parla::eig(&a), true) {
        assert_eq!((f.values.len(), f.vectors.dim()), (n, (n, n)));
    }
    let _ = call!("eigvals", parla::eigvals(&a), true);
    if let Ok(x) = call!("pinv", parla::pinv(&a, None), true) {
        assert_eq!(x.dim(), (n, m));
    }
    let _ = call!("pinv", parla::pinv(&a, Some(T::of(-1.0))), false);
    if let Ok(c) = call!("cond", parla::cond(&a), true) {
        assert!(c >= T::one() || c.is_nan() || m * n == 0, "cond {c}");
    }
    if let Ok(r) = call!("matrix_rank", parla::matrix_rank(&a, None), true) {
        assert!(r <= k);
    }
    for kind in [NormKind::Fro, NormKind::One, NormKind::Inf] {
        let v = call!("norm", parla::norm(&a, kind), false).unwrap();
        assert!(v >= T::zero() || v.is_nan());
        if fin && s.scale == 1.0 {
            assert!(v.is_finite());
        }
    }
    let _ = call!("norm", parla::norm(&a, NormKind::Two), true);
    let _ = call!("trace", parla::trace(&a), false).unwrap();
    // Symmetric-triangle ops: NaN in the lower triangle must be reported.
    if m == n {
        let lower_finite = (0..n).all(|i| (0..=i).all(|j| a[[i, j]].is_finite()));
        must_fail_on_non_finite("cholesky", &parla::cholesky(&a), lower_finite);
        must_fail_on_non_finite("eigh", &parla::eigh(&a), lower_finite);
    }
    assert!(st.guards_intact());
}

/// Operations with two operands.
fn binary<T: Scalar>(sa: &Spec, sb: &Spec, tr: (bool, bool, bool)) {
    let (st_a, st_b) = (sa.store::<T>(), sb.store::<T>());
    let (a, b) = (sa.view(&st_a), sb.view(&st_b));
    let (m, n) = a.dim();
    let fin = all_finite(&a) && all_finite(&b);
    let ops = [a.view(), b.view()];
    macro_rules! call {
        ($op:expr, $e:expr) => {{
            let r = $e;
            check_err::<T, _>($op, &r, &ops);
            r
        }};
    }
    // matmul / gemm never check finiteness (NaN propagates).
    match call!("matmul", parla::matmul(&a, &b)) {
        Ok(c) => assert_eq!(c.dim(), (m, b.ncols())),
        Err(e) => assert!(
            matches!(e, Error::ShapeMismatch { .. }) && a.ncols() != b.nrows(),
            "matmul: {e:?}"
        ),
    }
    let ta = if tr.0 { Trans::Yes } else { Trans::No };
    let tb = if tr.1 { Trans::Yes } else { Trans::No };
    let oa = if tr.0 { a.t() } else { a.view() };
    let ob = if tr.1 { b.t() } else { b.view() };
    let mut c = Array2::<T>::zeros((oa.nrows(), ob.ncols()));
    let r = call!(
        "gemm",
        parla::blas_level::gemm(T::one(), &a, ta, &b, tb, T::zero(), &mut c)
    );
    assert_eq!(r.is_ok(), oa.ncols() == ob.nrows(), "gemm: {r:?}");
    // Linear systems with a matrix and a vector right-hand side.
    let r = call!("solve", parla::solve(&a, &b));
    if let Ok(x) = &r {
        assert_eq!(x.dim(), (n, b.ncols()));
    }
    let square_ok = m == n && b.nrows() == n;
    if square_ok {
        must_fail_on_non_finite("solve", &r, fin);
    } else {
        assert!(r.is_err(), "solve accepted {:?} and {:?}", a.dim(), b.dim());
    }
    if b.ncols() > 0 {
        let col = b.column(0);
        let col2 = col.insert_axis(ndarray::Axis(1));
        let r = parla::solve(&a, &col);
        check_err::<T, _>("solve", &r, &[a.view(), col2.view()]);
        match &r {
            Err(Error::ShapeMismatch { right, .. }) => {
                assert_eq!(
                    right,
                    &vec![col.len()],
                    "solve: vector reported as {right:?}"
                )
            }
            Ok(x) => assert_eq!(x.len(), n),
            Err(_) => {}
        }
        if square_ok {
            must_fail_on_non_finite("solve", &r, all_finite(&a) && all_finite(&col2));
        }
    }
    // Least squares (including B with no columns).
    {
        let r = call!("lstsq", parla::lstsq(&a, &b, None));
        if let Ok(f) = &r {
            assert_eq!(f.solution.dim(), (n, b.ncols()));
            assert!(f.rank <= m.min(n));
        }
        if b.nrows() == m {
            must_fail_on_non_finite("lstsq", &r, fin);
        } else {
            assert!(
                matches!(r, Err(Error::ShapeMismatch { .. })),
                "lstsq: {r:?}"
            );
        }
    }
    let _ = call!("lstsq", parla::lstsq(&a, &b, Some(T::of(-1.0))));
    // Triangular solves.
    let uplo = if tr.2 { Uplo::Upper } else { Uplo::Lower };
    for diag in [Diag::NonUnit, Diag::Unit] {
        let r = call!(
            "solve_triangular",
            parla::solve_triangular(&a, &b, uplo, ta, diag)
        );
        if let Ok(x) = &r {
            assert_eq!(x.dim(), (n, b.ncols()));
        }
    }
    // Level 1 on the first rows / columns (vectors, possibly strided or reversed).
    if m > 0 && b.ncols() > 0 {
        let x = a.row(0);
        let y = b.column(0);
        let r = call!("dot", parla::dot(&x, &y));
        assert_eq!(r.is_ok(), x.len() == y.len(), "dot: {r:?}");
        let v = call!("nrm2", parla::blas_level::nrm2(&x)).unwrap();
        assert!(v >= T::zero() || v.is_nan());
        if x.iter().any(|t| t.is_nan()) {
            assert!(v.is_nan(), "nrm2 of a vector with NaN: {v}");
        }
    }
    assert!(st_a.guards_intact() && st_b.guards_intact());
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn unary_ops_never_panic_f64(s in spec(6)) {
        unary::<f64>(&s);
    }

    #[test]
    fn unary_ops_never_panic_f32(s in spec(6)) {
        unary::<f32>(&s);
    }

    #[test]
    fn binary_ops_never_panic_f64(a in spec(6), b in spec(6), tr in any::<(bool, bool, bool)>()) {
        binary::<f64>(&a, &b, tr);
    }

    #[test]
    fn binary_ops_never_panic_f32(a in spec(6), b in spec(6), tr in any::<(bool, bool, bool)>()) {
        binary::<f32>(&a, &b, tr);
    }

    /// The same on the rayon engines, with sizes past their recursion bases (32–48).
    #[test]
    fn unary_ops_never_panic_on_rayon_engines(s in spec(70)) {
        on_rayon_engines(|| {
            unary::<f64>(&s);
            unary::<f32>(&s);
        });
    }

    #[test]
    fn binary_ops_never_panic_on_rayon_engines(a in spec(60), b in spec(60),
                                               tr in any::<(bool, bool, bool)>()) {
        on_rayon_engines(|| binary::<f64>(&a, &b, tr));
    }

    /// Matching shapes are far more interesting than random pairs: square A, B with n rows.
    #[test]
    fn systems_with_matching_shapes(n in 0usize..6, k in 0usize..4, a in spec(1), b in spec(1),
                                    tr in any::<(bool, bool, bool)>(), seed in any::<u64>()) {
        use rand::Rng;
        let mut rng = common::rng(seed);
        let fill = |rows: usize, cols: usize, rng: &mut rand_chacha::ChaCha8Rng| -> Vec<f64> {
            (0..rows * cols).map(|_| rng.gen_range(-2.0..2.0)).collect()
        };
        let sa = Spec { m: n, n, data: fill(n, n, &mut rng), ..a };
        let sb = Spec { m: n, n: k, data: fill(n, k, &mut rng), ..b };
        binary::<f64>(&sa, &sb, tr);
        binary::<f32>(&sa, &sb, tr);
        // And the tall/wide least-squares shapes with B of m rows.
        let sw = Spec { m: n, n: k + 1, data: fill(n, k + 1, &mut rng), ..sa.clone() };
        let sbw = Spec { m: n, n: 1, data: fill(n, 1, &mut rng), ..sb.clone() };
        binary::<f64>(&sw, &sbw, tr);
    }
}

#[test]
fn vectors_of_every_stride() {
    // dot and nrm2 on reversed and strided 1-D views, with a reference.
    let big: Array1<f64> = (0..20).map(|i| i as f64 - 7.5).collect();
    let x = big.slice(ndarray::s![..;-3]);
    let y = big.slice(ndarray::s![1..;3]);
    let len = x.len().min(y.len());
    let (x, y) = (x.slice(ndarray::s![..len]), y.slice(ndarray::s![..len]));
    let want = common::compensated_sum(x.iter().zip(y.iter()).map(|(a, b)| a * b));
    assert_eq!(parla::dot(&x, &y).unwrap(), want);
    let n2 = common::compensated_sum(x.iter().map(|a| a * a)).sqrt();
    assert!((parla::blas_level::nrm2(&x).unwrap() - n2).abs() <= 4.0 * f64::EPSILON * n2);
}
