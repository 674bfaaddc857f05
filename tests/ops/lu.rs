//! LU with partial pivoting and what is built on it: `solve` (vector and matrix right-hand
//! sides), `lu`, `inv`, `det`, `slogdet`.
//!
//! Accuracy is checked with LAPACK's test ratios (`dget01`, `dget02`, `dget03`), computed in f64
//! against slow references with compensated sums; every ratio is scaled by n·ε of the element
//! type, so one threshold serves f32 and f64, well- and ill-conditioned and near-overflow inputs.

use crate::common;

use common::la::*;
use common::*;
use ndarray::{s, Array1, Array2};
use parla::{Engine, Error, Exec, Scalar};
use rand_chacha::ChaCha8Rng;

const SIZES: [usize; 8] = [1, 2, 3, 7, 31, 64, 65, 100];
const THRESH: f64 = 30.0;

/// The execution value of a call on an `m × n` matrix: the process defaults (engine included),
/// except that large calls alternate between one thread and the budget so both paths of
/// `getrf` (OpenBLAS's threaded one starts at m·n ≥ 10000) are checked.
fn ex(m: usize, n: usize) -> Exec {
    let current = Exec::current().unwrap();
    if m * n >= 10_000 && (m + n).is_multiple_of(4) {
        current.with_threads(1).unwrap()
    } else {
        current
    }
}

#[derive(Debug, Clone, Copy)]
enum Family {
    /// Uniform entries in [-1, 1).
    Random,
    /// Singular values geometric from 1 to √ε (cond ≈ 1/√ε of the element type).
    IllConditioned,
    /// Random, times 1e300 (f64) or 1e30 (f32).
    Scaled,
}

const FAMILIES: [Family; 3] = [Family::Random, Family::IllConditioned, Family::Scaled];

fn big_scale<T: Scalar>() -> f64 {
    if eps::<T>() < 1e-10 {
        1e300
    } else {
        1e30
    }
}

/// An `m × n` test matrix of the family, rounded to `T`, and its exact value in f64.
fn matrix<T: Scalar>(
    fam: Family,
    rng: &mut ChaCha8Rng,
    m: usize,
    n: usize,
) -> (Array2<T>, Array2<f64>) {
    let a = match fam {
        Family::Random => random(rng, m, n),
        Family::IllConditioned => {
            with_singular_values(rng, m, n, &geometric(m.min(n), eps::<T>().sqrt()))
        }
        Family::Scaled => random(rng, m, n) * big_scale::<T>(),
    };
    let t = cast::<T>(&a);
    let r = to64(&t.view());
    (t, r)
}

/// Checks the structure and the residual of `A = P L U`.
fn check_lu<T: Scalar>(a: &Array2<f64>, f: &parla::Lu<T>, ctx: &str) {
    let (m, n) = a.dim();
    let k = m.min(n);
    assert_eq!(f.p.dim(), (m, m), "{ctx}: P shape");
    assert_eq!(f.l.dim(), (m, k), "{ctx}: L shape");
    assert_eq!(f.u.dim(), (k, n), "{ctx}: U shape");
    assert_eq!(f.perm.len(), m, "{ctx}: perm length");
    let (p, l, u) = (to64(&f.p.view()), to64(&f.l.view()), to64(&f.u.view()));
    // perm is a permutation and P[perm[i], i] = 1 is the only non-zero of column i.
    let mut seen = vec![false; m];
    for (i, &r) in f.perm.iter().enumerate() {
        assert!(
            r < m && !seen[r],
            "{ctx}: perm {:?} not a permutation",
            f.perm
        );
        seen[r] = true;
        for q in 0..m {
            let want = if q == r { 1.0 } else { 0.0 };
            assert_eq!(p[[q, i]], want, "{ctx}: P[{q},{i}] vs perm {:?}", f.perm);
        }
    }
    for i in 0..m {
        for j in 0..k {
            let v = l[[i, j]];
            if i == j {
                assert_eq!(v, 1.0, "{ctx}: L not unit diagonal");
            } else if j > i {
                assert_eq!(v, 0.0, "{ctx}: L not lower");
            } else {
                // Partial pivoting bounds the multipliers.
                assert!(v.abs() <= 1.0, "{ctx}: |L[{i},{j}]| = {} > 1", v.abs());
            }
        }
    }
    for i in 0..k {
        for j in 0..i.min(n) {
            assert_eq!(u[[i, j]], 0.0, "{ctx}: U not upper");
        }
    }
    let plu = ref_matmul(&p.view(), &ref_matmul(&l.view(), &u.view()).view());
    let nn = m.max(n).max(1) as f64;
    let r = ratio(
        diff1(&plu.view(), &a.view()),
        nn * norm1_nan(&a.view()) * eps::<T>(),
    );
    assert!(r < THRESH, "{ctx}: ‖PLU − A‖₁/(n‖A‖₁ε) = {r}");
    // Row i of L U is row perm[i] of A.
    let lu = ref_matmul(&l.view(), &u.view());
    for (i, &pi) in f.perm.iter().enumerate() {
        let d: f64 = (0..n).map(|j| (lu[[i, j]] - a[[pi, j]]).abs()).sum();
        assert!(
            ratio(d, nn * norm1_nan(&a.view()) * eps::<T>()) < THRESH,
            "{ctx}: row {i} of LU is not row perm[{i}] = {pi} of A"
        );
    }
}

fn lu_all_cases<T: Scalar>(seed: u64) {
    let mut rng = rng(seed);
    let shapes: Vec<(usize, usize)> = SIZES
        .iter()
        .map(|&n| (n, n))
        .chain([(5, 3), (3, 5), (70, 31), (31, 70), (1, 4), (4, 1)])
        .collect();
    for fam in FAMILIES {
        for &(m, n) in &shapes {
            let (at, a) = matrix::<T>(fam, &mut rng, m, n);
            for layout in LAYOUTS {
                let st = Stored::new(&at, layout, T::of(-7.5));
                let f = ex(m, n).lu(&st.view()).unwrap();
                let ctx = format!(
                    "lu {} {fam:?} {m}x{n} {layout:?}",
                    std::any::type_name::<T>()
                );
                check_lu(&a, &f, &ctx);
                assert!(st.guards_intact(), "{ctx}: guard overwritten");
            }
        }
    }
}

#[test]
fn lu_f64() {
    lu_all_cases::<f64>(1);
}

#[test]
fn lu_f32() {
    lu_all_cases::<f32>(2);
}

/// The backward-error ratio of `solve` for one system, vector and matrix right-hand sides.
fn solve_all_cases<T: Scalar>(seed: u64) {
    let mut rng = rng(seed);
    for fam in FAMILIES {
        for n in SIZES {
            let (at, a) = matrix::<T>(fam, &mut rng, n, n);
            let scale = match fam {
                Family::Scaled => big_scale::<T>(),
                _ => 1.0,
            };
            let bt = cast::<T>(&(random(&mut rng, n, 3) * scale));
            let b = to64(&bt.view());
            for layout in LAYOUTS {
                let ctx = format!(
                    "solve {} {fam:?} n={n} {layout:?}",
                    std::any::type_name::<T>()
                );
                let st = Stored::new(&at, layout, T::of(3.25));
                let sb = Stored::new(&bt, layout, T::of(3.25));
                let e = ex(n, n);
                // Matrix right-hand side.
                let x = e.solve(&st.view(), &sb.view()).unwrap();
                assert_eq!(x.dim(), (n, 3), "{ctx}");
                let r = solve_ratio(&a.view(), &to64(&x.view()).view(), &b.view(), eps::<T>());
                assert!(r < THRESH, "{ctx}: matrix rhs backward error ratio {r}");
                // Vector right-hand side, from a strided column of the matrix storage.
                let bcol = sb.view().column(1).to_owned();
                let xv = e.solve(&st.view(), &sb.view().column(1)).unwrap();
                assert_eq!(xv.len(), n, "{ctx}");
                let xv2 = xv.clone().insert_axis(ndarray::Axis(1));
                let bv2 = vec64(&bcol.view()).insert_axis(ndarray::Axis(1));
                let r = solve_ratio(
                    &a.view(),
                    &to64(&xv2.view()).view(),
                    &bv2.view(),
                    eps::<T>(),
                );
                assert!(r < THRESH, "{ctx}: vector rhs backward error ratio {r}");
                assert!(st.guards_intact() && sb.guards_intact(), "{ctx}: guard");
            }
        }
    }
}

#[test]
fn solve_f64() {
    solve_all_cases::<f64>(3);
}

#[test]
fn solve_f32() {
    solve_all_cases::<f32>(4);
}

#[test]
fn solve_matches_reference_for_well_conditioned_systems() {
    // For cond(A) ≤ 2 the forward error is bounded by a small multiple of n·ε.
    let mut rng = rng(5);
    for n in [1, 2, 3, 7, 31, 64] {
        let s: Vec<f64> = geometric(n, 0.5);
        let a = with_singular_values(&mut rng, n, n, &s);
        let b = random(&mut rng, n, 2);
        let (xr, _) = ref_solve_det(&a.view(), &b.view());
        let xr = xr.unwrap();
        let x = parla::solve(&a, &b).unwrap();
        let err = ratio(diff1(&x.view(), &xr.view()), norm1_nan(&xr.view()));
        assert!(
            err < 100.0 * n as f64 * f64::EPSILON,
            "n={n}: forward error {err}"
        );
    }
}

#[test]
fn solve_with_empty_right_hand_side_and_empty_system() {
    let mut rng = rng(6);
    let a = random(&mut rng, 4, 4);
    let x = parla::solve(&a, &Array2::<f64>::zeros((4, 0))).unwrap();
    assert_eq!(x.dim(), (4, 0));
    let e = Array2::<f64>::zeros((0, 0));
    assert_eq!(parla::solve(&e, &Array1::<f64>::zeros(0)).unwrap().len(), 0);
    assert_eq!(
        parla::solve(&e, &Array2::<f64>::zeros((0, 3)))
            .unwrap()
            .dim(),
        (0, 3)
    );
    assert_eq!(
        parla::solve(&Array2::<f32>::zeros((0, 0)), &Array2::<f32>::zeros((0, 0)))
            .unwrap()
            .dim(),
        (0, 0)
    );
}

fn inv_all_cases<T: Scalar>(seed: u64) {
    let mut rng = rng(seed);
    for fam in FAMILIES {
        for n in SIZES {
            let (at, a) = matrix::<T>(fam, &mut rng, n, n);
            for layout in LAYOUTS {
                let ctx = format!(
                    "inv {} {fam:?} n={n} {layout:?}",
                    std::any::type_name::<T>()
                );
                let st = Stored::new(&at, layout, T::of(0.5));
                let x = to64(&ex(n, n).inv(&st.view()).unwrap().view());
                assert_eq!(x.dim(), (n, n), "{ctx}");
                // dget03: ‖I − A·A⁻¹‖ / (n ‖A‖ ‖A⁻¹‖ ε).
                let ax = ref_matmul(&a.view(), &x.view());
                let r = ratio(
                    diff1(&ax.view(), &eye(n).view()),
                    n as f64 * norm1_nan(&a.view()) * norm1_nan(&x.view()) * eps::<T>(),
                );
                assert!(r < THRESH, "{ctx}: inverse ratio {r}");
                assert!(st.guards_intact(), "{ctx}: guard");
            }
        }
    }
}

#[test]
fn inv_f64() {
    inv_all_cases::<f64>(7);
}

#[test]
fn inv_f32() {
    inv_all_cases::<f32>(8);
}

/// `|det A| = Π σᵢ` for a matrix built from its singular values; the sign comes from slow
/// Gaussian elimination in f64 (reliable for cond ≤ 2).
fn det_known<T: Scalar>(seed: u64) {
    let mut rng = rng(seed);
    for n in SIZES {
        let s = geometric(n, 0.5);
        let at = cast::<T>(&with_singular_values(&mut rng, n, n, &s));
        let a = to64(&at.view());
        let (_, det_ref) = ref_solve_det(&a.view(), &Array2::zeros((n, 0)).view());
        let abs_ref: f64 = s.iter().product();
        let log_ref: f64 = s.iter().map(|x| x.ln()).sum();
        let tol = 100.0 * n as f64 * eps::<T>();
        for layout in LAYOUTS {
            let ctx = format!("det {} n={n} {layout:?}", std::any::type_name::<T>());
            let st = Stored::new(&at, layout, T::of(1.0));
            let d = ex(n, n).det(&st.view()).unwrap().as_f64();
            assert_eq!(d.signum(), det_ref.signum(), "{ctx}: sign");
            assert!(
                (d.abs() - abs_ref).abs() <= tol * abs_ref,
                "{ctx}: |det| {d} vs Π σ = {abs_ref}"
            );
            let (sign, logabs) = ex(n, n).slogdet(&st.view()).unwrap();
            assert_eq!(sign.as_f64(), det_ref.signum(), "{ctx}: slogdet sign");
            assert!(
                (logabs.as_f64() - log_ref).abs() <= tol,
                "{ctx}: log|det| {logabs} vs Σ ln σ = {log_ref}"
            );
        }
    }
}

#[test]
fn det_and_slogdet_f64() {
    det_known::<f64>(9);
}

#[test]
fn det_and_slogdet_f32() {
    det_known::<f32>(10);
}

#[test]
fn det_and_slogdet_match_reference_elimination() {
    // Random (not specially built) matrices: compare with slow Gaussian elimination, with a
    // tolerance that grows with the condition number.
    let mut rng = rng(11);
    for n in [1, 2, 3, 7, 31, 64] {
        let a = random(&mut rng, n, n);
        let (_, det_ref) = ref_solve_det(&a.view(), &Array2::zeros((n, 0)).view());
        let c = Exec::blas(1).unwrap().cond(&a).unwrap();
        let tol = 100.0 * n as f64 * c * f64::EPSILON;
        let d = parla::det(&a).unwrap();
        assert!(
            (d - det_ref).abs() <= tol * det_ref.abs(),
            "n={n}: det {d} vs {det_ref}"
        );
        let (sign, logabs) = parla::slogdet(&a).unwrap();
        assert_eq!(sign, det_ref.signum(), "n={n}");
        assert!(
            (logabs - det_ref.abs().ln()).abs() <= tol,
            "n={n}: {logabs}"
        );
        // Swapping two rows flips the sign.
        if n >= 2 {
            let mut b = a.clone();
            for j in 0..n {
                b.swap([0, j], [n - 1, j]);
            }
            let db = parla::det(&b).unwrap();
            assert!(
                (db + d).abs() <= tol * d.abs(),
                "n={n}: swapped det {db} vs {d}"
            );
        }
    }
}

#[test]
fn det_of_scaled_matrices_overflows_only_when_the_determinant_does() {
    let mut rng = rng(12);
    for n in [1, 2, 3, 7, 31] {
        let a = random(&mut rng, n, n);
        let (sign_a, log_a) = parla::slogdet(&a).unwrap();
        // Near overflow: det = 1e300ⁿ det(A) overflows to ±inf for n ≥ 2; slogdet stays finite.
        let big = &a * 1e300;
        let d = parla::det(&big).unwrap();
        if n >= 2 {
            assert_eq!(d, sign_a * f64::INFINITY, "n={n}: det of A·1e300");
        } else {
            assert_eq!(d, big[[0, 0]]);
        }
        let (sign, logabs) = parla::slogdet(&big).unwrap();
        let want_log = log_a + n as f64 * 1e300f64.ln();
        assert_eq!(sign, sign_a, "n={n}");
        assert!(logabs.is_finite(), "n={n}: slogdet {logabs}");
        assert!(
            (logabs - want_log).abs() <= 1e-9 * want_log.abs(),
            "n={n}: {logabs} vs {want_log}"
        );
        // det = 1e150ⁿ det(A) overflows to ±inf for n ≥ 3 (pivots stay below 2⁵²⁴).
        let big = &a * 1e150;
        let d = parla::det(&big).unwrap();
        if n >= 3 {
            assert_eq!(d, sign_a * f64::INFINITY, "n={n}: det of A·1e150");
        } else {
            let want = sign_a * (log_a + n as f64 * 1e150f64.ln()).exp();
            assert!(
                (d - want).abs() <= 1e-12 * want.abs(),
                "n={n}: {d} vs {want}"
            );
        }
        // Near underflow: det underflows to ±0 for n ≥ 2; slogdet stays finite.
        let tiny = &a * 1e-300;
        let d = parla::det(&tiny).unwrap();
        let (sign, logabs) = parla::slogdet(&tiny).unwrap();
        assert_eq!(sign, sign_a, "n={n}");
        let want_log = log_a + n as f64 * 1e-300f64.ln();
        assert!(
            (logabs - want_log).abs() <= 1e-9 * want_log.abs(),
            "n={n}: {logabs} vs {want_log}"
        );
        if n >= 2 {
            assert_eq!(d, 0.0, "n={n}: det of A·1e-300");
        }
    }
    // f32 overflows at a much smaller scale.
    let a = random_f32(&mut rng, 3, 3);
    let (sign_a, _) = parla::slogdet(&a).unwrap();
    let d = parla::det(&(&a * 1e30f32)).unwrap();
    assert_eq!(d, sign_a * f32::INFINITY, "f32 det of A·1e30 = {d}");
    let (sign, logabs) = parla::slogdet(&(&a * 1e30f32)).unwrap();
    assert_eq!(sign, sign_a);
    assert!(logabs.is_finite());
}

/// Runs `f` on its own thread; `None` if it has not returned after `secs` seconds (the thread
/// is then left behind).
fn with_timeout<R: Send + 'static>(secs: u64, f: impl FnOnce() -> R + Send + 'static) -> Option<R> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(std::time::Duration::from_secs(secs)).ok()
}

/// The running product of the pivots used to be rescaled in a loop that spun forever once it
/// overflowed to inf (det([[1e300, 0], [0, 1e300]]) never returned).
#[test]
fn det_of_huge_pivots_returns_infinity() {
    let d = with_timeout(5, || {
        parla::det(&ndarray::array![[1e300, 0.0], [0.0, 1e300]])
    });
    assert_eq!(d, Some(Ok(f64::INFINITY)), "det did not return within 5 s");
    let mut rng = rng(20);
    let a = random(&mut rng, 7, 7);
    let (sign_a, _) = parla::slogdet(&a).unwrap();
    let d = with_timeout(5, move || parla::det(&(&a * 1e300)));
    assert_eq!(d, Some(Ok(sign_a * f64::INFINITY)), "det of A·1e300");
}

/// The running product of the pivots must not underflow to 0 before it is rescaled.
#[test]
fn det_does_not_underflow_spuriously() {
    let a = Array2::from_diag(&ndarray::array![1e-300, 1e-300, 1e300, 1e300]);
    let want = (1e-300f64 * 1e300) * (1e-300 * 1e300);
    let d = parla::det(&a).unwrap();
    assert!(
        (d - want).abs() <= 4.0 * f64::EPSILON,
        "det {d}, want {want}"
    );
}

#[test]
fn det_has_no_spurious_intermediate_overflow() {
    // Pivots 1e200, 1e200, 1e-200, 1e-200: the running product overflows unless it is scaled.
    let (h, t) = (1e200f64, 1e-200f64);
    let want = (h * t) * (h * t);
    let mut a = Array2::<f64>::zeros((4, 4));
    for (i, v) in [h, h, t, t].into_iter().enumerate() {
        a[[i, i]] = v;
    }
    let d = parla::det(&a).unwrap();
    assert!((d - want).abs() <= 4.0 * f64::EPSILON, "det {d}");
    // One row interchange flips the sign.
    let mut b = a.clone();
    for j in 0..4 {
        b.swap([0, j], [3, j]);
    }
    let d = parla::det(&b).unwrap();
    assert!((d + want).abs() <= 4.0 * f64::EPSILON, "det {d}");
    let (sign, logabs) = parla::slogdet(&b).unwrap();
    assert_eq!(sign, -1.0);
    assert!(logabs.abs() < 1e-12);
}

/// A matrix with an exactly zero column `j`: column j of every elimination step stays exactly
/// zero, so the first zero pivot is `U[j, j]` (the other columns are generic).
fn zero_column(rng: &mut ChaCha8Rng, n: usize, j: usize) -> Array2<f64> {
    let mut a = random(rng, n, n);
    a.column_mut(j).fill(0.0);
    a
}

fn singular_cases<T: Scalar>(seed: u64) {
    let mut rng = rng(seed);
    for n in [1, 2, 3, 7, 31, 64, 65, 100] {
        for j in [0, n / 2, n - 1] {
            let a = cast::<T>(&zero_column(&mut rng, n, j));
            for layout in LAYOUTS {
                let ctx = format!(
                    "{} n={n} zero column {j} {layout:?}",
                    std::any::type_name::<T>()
                );
                let st = Stored::new(&a, layout, T::of(2.0));
                let e = ex(n, n);
                let b = Array1::<T>::ones(n);
                assert_eq!(
                    e.solve(&st.view(), &b),
                    Err(Error::Singular {
                        op: "solve",
                        pivot: j
                    }),
                    "{ctx}"
                );
                assert_eq!(
                    e.inv(&st.view()),
                    Err(Error::Singular {
                        op: "inv",
                        pivot: j
                    }),
                    "{ctx}"
                );
                assert_eq!(e.det(&st.view()).unwrap(), T::zero(), "{ctx}");
                let (s, l) = e.slogdet(&st.view()).unwrap();
                assert_eq!((s, l), (T::zero(), T::neg_infinity()), "{ctx}");
                // `lu` does not fail: U has the zero on its diagonal.
                let f = e.lu(&st.view()).unwrap();
                assert_eq!(f.u[[j, j]], T::zero(), "{ctx}");
                check_lu(&to64(&a.view()), &f, &ctx);
            }
        }
    }
}

#[test]
fn singular_zero_column_f64() {
    singular_cases::<f64>(13);
}

#[test]
fn singular_zero_column_f32() {
    singular_cases::<f32>(14);
}

#[test]
fn singular_zero_row_and_exact_rank_one() {
    let mut rng = rng(15);
    for n in [2, 3, 7, 31, 64] {
        // A zero row is never a pivot until the last step: the zero pivot is n − 1.
        let mut a = random(&mut rng, n, n);
        a.row_mut(n / 3).fill(0.0);
        assert_eq!(
            parla::solve(&a, &Array1::ones(n)),
            Err(Error::Singular {
                op: "solve",
                pivot: n - 1
            }),
            "n={n}"
        );
        // x yᵀ with power-of-two entries: the multipliers are exact, the first elimination
        // step leaves an exactly zero trailing block, so the zero pivot is 1.
        let x = Array1::from_shape_fn(n, |i| {
            2f64.powi((i * 7 % 11) as i32 - 5) * if i % 3 == 0 { -1.0 } else { 1.0 }
        });
        let y = Array1::from_shape_fn(n, |i| 2f64.powi((i * 5 % 13) as i32 - 6));
        let r1 = Array2::from_shape_fn((n, n), |(i, j)| x[i] * y[j]);
        assert_eq!(
            parla::inv(&r1),
            Err(Error::Singular {
                op: "inv",
                pivot: 1
            }),
            "n={n}"
        );
        assert_eq!(parla::det(&r1).unwrap(), 0.0);
        assert_eq!(parla::slogdet(&r1).unwrap(), (0.0, f64::NEG_INFINITY));
    }
}

#[test]
fn empty_inputs() {
    let e = Array2::<f64>::zeros((0, 0));
    assert_eq!(parla::det(&e).unwrap(), 1.0);
    assert_eq!(parla::slogdet(&e).unwrap(), (1.0, 0.0));
    assert_eq!(parla::inv(&e).unwrap().dim(), (0, 0));
    assert_eq!(parla::det(&Array2::<f32>::zeros((0, 0))).unwrap(), 1.0f32);
    assert_eq!(
        parla::slogdet(&Array2::<f32>::zeros((0, 0))).unwrap(),
        (1.0f32, 0.0f32)
    );
    for (m, n) in [(0, 0), (0, 3), (3, 0)] {
        let f = parla::lu(&Array2::<f64>::zeros((m, n))).unwrap();
        let k = m.min(n);
        assert_eq!(f.p, Array2::<f64>::eye(m), "{m}x{n}");
        assert_eq!(f.l.dim(), (m, k));
        assert_eq!(f.u.dim(), (k, n));
        assert_eq!(f.perm, (0..m).collect::<Vec<_>>());
    }
}

#[test]
fn not_square_and_shape_mismatch() {
    let a = Array2::<f64>::ones((3, 4));
    let sq = Array2::<f64>::eye(3);
    let ns = |op| Error::NotSquare {
        op,
        rows: 3,
        cols: 4,
    };
    assert_eq!(parla::solve(&a, &Array1::<f64>::ones(3)), Err(ns("solve")));
    assert_eq!(parla::inv(&a), Err(ns("inv")));
    assert_eq!(parla::det(&a), Err(ns("det")));
    assert_eq!(parla::slogdet(&a), Err(ns("slogdet")));
    assert_eq!(
        parla::solve(&a.t(), &Array1::<f64>::ones(4)),
        Err(Error::NotSquare {
            op: "solve",
            rows: 4,
            cols: 3
        })
    );
    // b with the wrong number of rows: the error names both shapes.
    assert_eq!(
        parla::solve(&sq, &Array2::<f64>::ones((4, 2))),
        Err(Error::ShapeMismatch {
            op: "solve",
            left: vec![3, 3],
            right: vec![4, 2]
        })
    );
    match parla::solve(&sq, &Array1::<f64>::ones(4)) {
        Err(Error::ShapeMismatch {
            op: "solve", left, ..
        }) => assert_eq!(left, vec![3, 3]),
        other => panic!("{other:?}"),
    }
}

#[test]
fn vector_rhs_errors_report_the_vector_shape_and_index() {
    let a = Array2::<f64>::eye(3);
    assert_eq!(
        parla::solve(&a, &Array1::<f64>::ones(4)),
        Err(Error::ShapeMismatch {
            op: "solve",
            left: vec![3, 3],
            right: vec![4]
        })
    );
    match parla::solve(&a, &ndarray::array![1.0, f64::NAN, 2.0]) {
        Err(Error::NonFinite { index, .. }) => assert_eq!(index, vec![1]),
        other => panic!("{other:?}"),
    }
}

#[test]
fn non_finite_inputs_name_the_first_bad_element() {
    for layout in LAYOUTS {
        let mut rng = rng(16);
        let mut a = random(&mut rng, 5, 5);
        // (3, 0) comes first in memory for column-major storage, (0, 4) in logical row-major
        // order: the error names the latter.
        a[[3, 0]] = f64::INFINITY;
        a[[0, 4]] = f64::NAN;
        let st = Stored::new(&a, layout, 0.0);
        let b = Array1::<f64>::ones(5);
        let nf = |op, index: Vec<usize>, value: &str| Error::NonFinite {
            op,
            index,
            value: value.to_string(),
        };
        assert_eq!(
            parla::solve(&st.view(), &b),
            Err(nf("solve", vec![0, 4], "NaN")),
            "{layout:?}"
        );
        assert_eq!(parla::lu(&st.view()), Err(nf("lu", vec![0, 4], "NaN")));
        assert_eq!(parla::inv(&st.view()), Err(nf("inv", vec![0, 4], "NaN")));
        assert_eq!(parla::det(&st.view()), Err(nf("det", vec![0, 4], "NaN")));
        assert_eq!(
            parla::slogdet(&st.view()),
            Err(nf("slogdet", vec![0, 4], "NaN"))
        );
        a[[0, 4]] = 1.0;
        let st = Stored::new(&a, layout, 0.0);
        assert_eq!(parla::det(&st.view()), Err(nf("det", vec![3, 0], "inf")));
        a[[3, 0]] = f64::NEG_INFINITY;
        let st = Stored::new(&a, layout, 0.0);
        assert_eq!(parla::inv(&st.view()), Err(nf("inv", vec![3, 0], "-inf")));
        // A finite A with a non-finite right-hand side.
        let a = Array2::<f64>::eye(5);
        let mut b = Array2::<f64>::ones((5, 2));
        b[[4, 1]] = f64::NAN;
        assert_eq!(parla::solve(&a, &b), Err(nf("solve", vec![4, 1], "NaN")));
    }
    let a32 = ndarray::array![[1.0f32, f32::NAN], [0.0, 1.0]];
    assert_eq!(
        parla::solve(&a32, &ndarray::array![1.0f32, 1.0]),
        Err(Error::NonFinite {
            op: "solve",
            index: vec![0, 1],
            value: "NaN".into()
        })
    );
}

#[test]
fn too_large_is_reported_before_any_work() {
    // A zero-stride view: no memory behind its 2⁶² elements.
    let n = i32::MAX as usize + 1;
    let zero = Array2::<f64>::zeros((1, 1));
    let a = zero.broadcast((n, n)).unwrap();
    let b1 = Array1::<f64>::zeros(1);
    let b = b1.broadcast(n).unwrap();
    let tl = |op| Error::TooLarge {
        op,
        what: "rows",
        value: n,
        max: i32::MAX as usize,
    };
    assert_eq!(parla::solve(&a, &b), Err(tl("solve")));
    assert_eq!(parla::lu(&a), Err(tl("lu")));
    assert_eq!(parla::inv(&a), Err(tl("inv")));
    assert_eq!(parla::det(&a), Err(tl("det")));
    assert_eq!(parla::slogdet(&a), Err(tl("slogdet")));
    // Too many right-hand sides.
    let wide = zero.broadcast((1, n)).unwrap();
    assert_eq!(
        parla::solve(&ndarray::array![[1.0]], &wide),
        Err(Error::TooLarge {
            op: "solve",
            what: "right-hand sides",
            value: n,
            max: i32::MAX as usize
        })
    );
    let tall = zero.broadcast((n, 1)).unwrap();
    assert_eq!(
        parla::lu(&tall),
        Err(Error::TooLarge {
            op: "lu",
            what: "rows",
            value: n,
            max: i32::MAX as usize
        })
    );
}

#[test]
fn rayon_engines_run_every_lu_check_at_1_2_3_threads() {
    // The checks above through the free functions, with each rayon engine as the scoped
    // default: LAPACK ratios for lu/solve/inv, det/slogdet, singular and empty cases, the
    // overflow and subnormal-pivot cases.
    on_rayon_engines(parla::Op::Lu, |_engine, t| {
        let seed = 100 + 10 * t as u64;
        lu_all_cases::<f64>(seed);
        lu_all_cases::<f32>(seed + 1);
        solve_all_cases::<f64>(seed + 2);
        inv_all_cases::<f64>(seed + 3);
        det_known::<f64>(seed + 4);
        singular_cases::<f64>(seed + 5);
        solve_matches_reference_for_well_conditioned_systems();
        solve_with_empty_right_hand_side_and_empty_system();
        det_and_slogdet_match_reference_elimination();
        det_of_scaled_matrices_overflows_only_when_the_determinant_does();
        det_does_not_underflow_spuriously();
        det_has_no_spurious_intermediate_overflow();
        singular_zero_row_and_exact_rank_one();
        empty_inputs();
        bug_subnormal_pivot_gives_nan();
        overflowing_elimination_is_rescued_by_exact_row_scaling();
        inverse_with_subnormal_pivots_has_exact_zeros();
    });
}

#[test]
fn rayon_engines_large_orders_and_shapes() {
    // Past the recursion base (16 columns) and the parallel threshold (192): tall, wide and
    // square, a zero pivot deep inside, bit-identical run to run.
    let mut rng = rng(200);
    for (m, n) in [(257, 257), (400, 130), (130, 300), (33, 33)] {
        let a = random(&mut rng, m, n);
        for engine in [Engine::RayonBlas, Engine::Rayon] {
            for t in [1, 2, 3] {
                let e = Exec::new(engine, t).unwrap();
                let ctx = format!("{engine} t={t} {m}x{n}");
                let f = e.lu(&a).unwrap();
                check_lu::<f64>(&a, &f, &ctx);
                assert_eq!(e.lu(&a).unwrap().u, f.u, "{ctx}: not bit-identical");
            }
        }
    }
    let n = 300;
    let a = zero_column(&mut rng, n, 250);
    for engine in [Engine::RayonBlas, Engine::Rayon] {
        let e = Exec::new(engine, 2).unwrap();
        assert_eq!(
            e.solve(&a, &Array1::<f64>::ones(n)),
            Err(Error::Singular {
                op: "solve",
                pivot: 250
            }),
            "{engine}"
        );
        let b = random(&mut rng, n, 5);
        let x = e.solve(&random(&mut rng, n, n), &b);
        assert!(x.is_ok(), "{engine}: {x:?}");
    }
}

#[test]
fn two_threads_give_the_same_accuracy_as_one() {
    // The threaded getrf path (m·n ≥ 10000), run from this test thread's 2 MiB stack.
    let mut rng = rng(17);
    let e = Exec::blas(2).unwrap();
    for n in [100, 160] {
        let a = random(&mut rng, n, n);
        let b = random(&mut rng, n, 2);
        let x = e.solve(&a, &b).unwrap();
        let r = solve_ratio(&a.view(), &x.view(), &b.view(), f64::EPSILON);
        assert!(r < THRESH, "n={n}: {r}");
        let f = e.lu(&a).unwrap();
        check_lu(&a, &f, &format!("2 threads n={n}"));
        let ai = e.inv(&a).unwrap();
        let ax = ref_matmul(&a.view(), &ai.view());
        let r = diff1(&ax.view(), &eye(n).view())
            / (n as f64 * norm1_nan(&a.view()) * norm1_nan(&ai.view()) * f64::EPSILON);
        assert!(r < THRESH, "n={n}: inv {r}");
        let d1 = Exec::blas(1).unwrap().slogdet(&a).unwrap();
        let d2 = e.slogdet(&a).unwrap();
        assert_eq!(d1.0, d2.0);
        assert!((d1.1 - d2.1).abs() < 1e-10 * d1.1.abs().max(1.0));
    }
}

/// OpenBLAS's threaded `getrf` (m·n ≥ 10000, ≥ 2 threads) needs more than the 2 MiB stack of
/// a spawned Rust thread; it used to kill the process with SIGSEGV.
#[test]
fn threaded_getrf_runs_on_a_default_2_mib_thread_stack() {
    let h = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            let mut rng = rng(18);
            let n = 300;
            let a = random(&mut rng, n, n);
            let b = Array1::ones(n).insert_axis(ndarray::Axis(1));
            let e = Exec::blas(2).unwrap();
            let x = e.solve(&a, &b).unwrap();
            let r = solve_ratio(&a.view(), &x.view(), &b.view(), f64::EPSILON);
            assert!(r < THRESH, "{r}");
            check_lu(&a, &e.lu(&a).unwrap(), "lu n=300 on a 2 MiB stack");
            assert_eq!(e.inv(&a).unwrap().dim(), (n, n));
            let (sign, logabs) = e.slogdet(&a).unwrap();
            assert!(sign.abs() == 1.0 && logabs.is_finite());
        })
        .unwrap();
    h.join().unwrap();
}

#[test]
fn solve_and_inv_agree_across_layouts_of_the_rhs() {
    // The right-hand side in every layout (including negative strides) gives the same answer
    // as the contiguous one, within the backward-error bound.
    let mut rng = rng(19);
    let n = 31;
    let a = random(&mut rng, n, n);
    let b = random(&mut rng, n, 4);
    let x0 = parla::solve(&a, &b).unwrap();
    for layout in LAYOUTS {
        let sb = Stored::new(&b, layout, -1.0);
        let x = parla::solve(&a, &sb.view()).unwrap();
        let r = solve_ratio(&a.view(), &x.view(), &b.view(), f64::EPSILON);
        assert!(r < THRESH, "{layout:?}: {r}");
        let d = ratio(diff1(&x.view(), &x0.view()), norm1_nan(&x0.view()));
        let c = parla::cond(&a).unwrap();
        assert!(d < 100.0 * n as f64 * c * f64::EPSILON, "{layout:?}: {d}");
        let bv = sb.view();
        let col = bv.slice(s![.., 2]);
        let xv = parla::solve(&a, &col).unwrap();
        let d: f64 = (&xv - &x0.column(2)).iter().map(|v: &f64| v.abs()).sum();
        assert!(
            d < 100.0 * n as f64 * c * f64::EPSILON * norm1_nan(&x0.view()),
            "{layout:?}"
        );
    }
}

#[test]
fn bug_subnormal_pivot_gives_nan() {
    let a = ndarray::array![[1e-310, 0.0], [1e-310, 1.0]];
    let f = parla::lu(&a).unwrap();
    assert_eq!(f.l, ndarray::array![[1.0, 0.0], [1.0, 1.0]]);
    assert_eq!(f.u, ndarray::array![[1e-310, 0.0], [0.0, 1.0]]);
    assert_eq!(parla::det(&a).unwrap(), 1e-310);
    let x: Array1<f64> = parla::solve(&a, &ndarray::array![1e-310, 2.0]).unwrap();
    assert!(
        (x[0] - 1.0).abs() < 1e-15 && (x[1] - 2.0).abs() < 1e-15,
        "{x}"
    );
    let b = ndarray::array![[1e-310f64, 1.0], [1e-310, 0.0]];
    let (sign, logabs) = parla::slogdet(&b).unwrap();
    assert_eq!(sign, -1.0);
    assert!((logabs - 1e-310f64.ln()).abs() < 1e-12, "log|det| {logabs}");
    let d = with_timeout(5, move || parla::det(&b));
    assert_eq!(d, Some(Ok(-1e-310)), "det of [[1e-310, 1], [1e-310, 0]]");
}

#[test]
fn overflowing_elimination_is_rescued_by_exact_row_scaling() {
    // W = [[1,0,1],[-1,1,1],[-1,-1,1]] grows to 4 during elimination, so 1e308·W overflows
    // inside LU although every entry and the solution are finite. W·[0,0,1] = [1,1,1], so
    // (1e308·W)·x = [1,1,1] has x = [0, 0, 1e-308]; det W = 4, so
    // log|det(1e308·W)| = ln 4 + 3·ln 1e308 and det overflows to +inf.
    let w = ndarray::array![[1.0f64, 0.0, 1.0], [-1.0, 1.0, 1.0], [-1.0, -1.0, 1.0]];
    let a = &w * 1e308;
    let x: Array1<f64> = parla::solve(&a, &ndarray::array![1.0, 1.0, 1.0]).unwrap();
    assert!(x.iter().all(|v| v.is_finite()), "{x}");
    assert!(
        x[0].abs() <= 1e-323 && x[1].abs() <= 1e-323 && (x[2] / 1e-308 - 1.0).abs() < 1e-14,
        "{x}"
    );
    let (sign, logdet) = parla::slogdet(&a).unwrap();
    let want = 4f64.ln() + 3.0 * 1e308f64.ln();
    assert_eq!(sign, 1.0);
    assert!((logdet - want).abs() < 1e-12 * want, "{logdet} vs {want}");
    assert_eq!(parla::det(&a).unwrap(), f64::INFINITY);
    // The inverse is checked through A·inv(A) = I.
    let ai = parla::inv(&a).unwrap();
    assert!(ai.iter().all(|v| v.is_finite()), "{ai}");
    let prod = a.dot(&ai);
    let err = (&prod - &Array2::<f64>::eye(3))
        .iter()
        .fold(0.0f64, |m, d| m.max(d.abs()));
    assert!(err < 1e-14, "A·inv(A) − I: {err}");
}

#[test]
fn inverse_with_subnormal_pivots_has_exact_zeros() {
    // 1/1e-310 overflows, so the diagonal of the inverse is +inf; the off-diagonal entries are
    // exactly 0 and must not become NaN (0·inf) in the substitution fallback.
    let a = ndarray::array![[1e-310f64, 0.0], [0.0, 1e-310]];
    let ai = parla::inv(&a).unwrap();
    assert_eq!(
        ai,
        ndarray::array![[f64::INFINITY, 0.0], [0.0, f64::INFINITY]]
    );
    // With one subnormal pivot (2^-1030, whose inverse overflows) the other entries stay exact.
    let t = 2f64.powi(-1000) * 2f64.powi(-30);
    let b = ndarray::array![[t, 0.0], [0.0, 1.0]];
    let bi = parla::inv(&b).unwrap();
    assert_eq!(bi[[1, 1]], 1.0);
    assert_eq!((bi[[0, 1]], bi[[1, 0]]), (0.0, 0.0));
}
