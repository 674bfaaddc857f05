//! Matrix norms (Frobenius, 1, ∞, 2) and the trace.
//!
//! References in f64 with compensated sums; tolerances are relative and grow with the number
//! of terms times ε of the element type. The 2-norm is checked on matrices built with known
//! singular values.

use crate::common;

use common::la::*;
use common::*;
use ndarray::{Array1, Array2};
use parla::{Engine, Error, Exec, NormKind, Scalar};
use rand::Rng;

const SHAPES: [(usize, usize); 14] = [
    (1, 1),
    (2, 2),
    (3, 3),
    (7, 7),
    (31, 31),
    (64, 64),
    (65, 65),
    (100, 100),
    (1, 9),
    (9, 1),
    (7, 31),
    (64, 3),
    (100, 65),
    (2, 100),
];

/// Frobenius norm: compensated sum of squares of the entries scaled by a power of two.
fn ref_fro(a: &Array2<f64>) -> f64 {
    let m = a.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    if m == 0.0 {
        return 0.0;
    }
    let s = 2f64.powi(m.log2().floor() as i32);
    s * compensated_sum(a.iter().map(|x| (x / s) * (x / s))).sqrt()
}

fn ref_one(a: &Array2<f64>) -> f64 {
    a.columns()
        .into_iter()
        .map(|c| compensated_sum(c.iter().map(|x| x.abs())))
        .fold(0.0, f64::max)
}

fn ref_inf(a: &Array2<f64>) -> f64 {
    ref_one(&a.t().to_owned())
}

fn close(got: f64, want: f64, tol: f64) -> bool {
    (got - want).abs() <= tol * want.abs()
}

fn all_cases<T: Scalar>(seed: u64) {
    let mut rng = rng(seed);
    let e = eps::<T>();
    for (m, n) in SHAPES {
        for scale in [1.0, 1e-300, 1e300, 1e30, 1e-30] {
            if e > 1e-10 && (scale == 1e300 || scale == 1e-300) {
                continue;
            }
            let at = cast::<T>(&(random(&mut rng, m, n) * scale));
            let a = to64(&at.view());
            // Summation of mn positive terms (Fro, in f64) or ≤ max(m,n) terms (1, ∞, in T).
            let fro_tol = 2.0 * (m * n) as f64 * f64::EPSILON + 2.0 * e;
            let sum_tol = 2.0 * m.max(n) as f64 * e;
            for layout in LAYOUTS {
                let ctx = format!(
                    "{} {m}x{n} ×{scale:e} {layout:?}",
                    std::any::type_name::<T>()
                );
                let st = Stored::new(&at, layout, T::of(77.0));
                let v = st.view();
                let f = parla::norm(&v, NormKind::Fro).unwrap().as_f64();
                assert!(
                    close(f, ref_fro(&a), fro_tol),
                    "{ctx}: fro {f} vs {}",
                    ref_fro(&a)
                );
                let o = parla::norm(&v, NormKind::One).unwrap().as_f64();
                assert!(
                    close(o, ref_one(&a), sum_tol),
                    "{ctx}: one {o} vs {}",
                    ref_one(&a)
                );
                let i = parla::norm(&v, NormKind::Inf).unwrap().as_f64();
                assert!(
                    close(i, ref_inf(&a), sum_tol),
                    "{ctx}: inf {i} vs {}",
                    ref_inf(&a)
                );
                // ‖A‖₂ ≤ ‖A‖_F ≤ √rank ‖A‖₂ and ‖A‖₂ ≤ √(‖A‖₁ ‖A‖_∞).
                let t = parla::norm(&v, NormKind::Two).unwrap().as_f64();
                let k = m.min(n) as f64;
                let slack = 1.0 + 50.0 * m.max(n) as f64 * e;
                assert!(
                    t <= f * slack && f <= k.sqrt() * t * slack,
                    "{ctx}: two {t}, fro {f}"
                );
                assert!(
                    t <= o.sqrt() * i.sqrt() * slack,
                    "{ctx}: two {t}, one {o}, inf {i}"
                );
                assert!(st.guards_intact(), "{ctx}: guard");
            }
        }
    }
}

#[test]
fn norms_f64() {
    all_cases::<f64>(1);
}

#[test]
fn norms_f32() {
    all_cases::<f32>(2);
}

#[test]
fn two_norm_is_the_largest_singular_value() {
    let mut rng = rng(3);
    for (m, n) in SHAPES {
        let k = m.min(n);
        let mut s: Vec<f64> = (0..k).map(|_| rng.gen_range(0.1..1.0)).collect();
        s.sort_by(|a, b| b.total_cmp(a));
        for scale in [1.0, 1e300, 1e-300] {
            let a = with_singular_values(&mut rng, m, n, &s) * scale;
            let want = s[0] * scale;
            let got = parla::norm(&a, NormKind::Two).unwrap();
            assert!(
                close(got, want, 50.0 * m.max(n) as f64 * f64::EPSILON),
                "{m}x{n} ×{scale:e}: {got} vs {want}"
            );
        }
        let a32 = cast::<f32>(&with_singular_values(&mut rng, m, n, &s));
        let got = parla::norm(&a32, NormKind::Two).unwrap() as f64;
        assert!(
            close(got, s[0], 50.0 * m.max(n) as f64 * f32::EPSILON as f64),
            "f32 {m}x{n}: {got} vs {}",
            s[0]
        );
    }
    // A single row: the Euclidean norm.
    let r = ndarray::array![[3.0, 0.0, -4.0]];
    assert!(close(
        parla::norm(&r, NormKind::Two).unwrap(),
        5.0,
        4.0 * f64::EPSILON
    ));
}

#[test]
fn no_overflow_or_underflow_in_the_frobenius_norm() {
    // Squares of these entries overflow or underflow; the norms do not.
    let h = 1e300;
    let got = parla::norm(&ndarray::array![[h, h], [h, h]], NormKind::Fro).unwrap();
    assert!(close(got, 2.0 * h, 2.0 * f64::EPSILON), "{got}");
    let t = 1e-300;
    let got = parla::norm(&ndarray::array![[t, 0.0], [0.0, t]], NormKind::Fro).unwrap();
    assert!(close(got, 2f64.sqrt() * t, 2.0 * f64::EPSILON), "{got}");
    let got = parla::norm(
        &ndarray::array![[1e30f32, 1e30], [1e30, 1e30]],
        NormKind::Fro,
    )
    .unwrap();
    assert!(close(got as f64, 2e30, 2.0 * f32::EPSILON as f64), "{got}");
    let got = parla::norm(&ndarray::array![[3e-30f32, 4e-30]], NormKind::Fro).unwrap();
    assert!(close(got as f64, 5e-30, 2.0 * f32::EPSILON as f64), "{got}");
    // Beyond the range of the type the result is +inf, not NaN.
    let m = f64::MAX;
    assert_eq!(
        parla::norm(&ndarray::array![[m, m]], NormKind::Fro).unwrap(),
        f64::INFINITY
    );
    assert_eq!(
        parla::norm(&ndarray::array![[m, m]], NormKind::Inf).unwrap(),
        f64::INFINITY
    );
    assert_eq!(
        parla::norm(&ndarray::array![[m], [m]], NormKind::One).unwrap(),
        f64::INFINITY
    );
}

#[test]
fn non_finite_entries() {
    for layout in LAYOUTS {
        let mut a = Array2::<f64>::ones((3, 4));
        a[[1, 2]] = f64::INFINITY;
        let st = Stored::new(&a, layout, 0.0);
        for kind in [NormKind::Fro, NormKind::One, NormKind::Inf] {
            assert_eq!(
                parla::norm(&st.view(), kind).unwrap(),
                f64::INFINITY,
                "{layout:?} {kind:?}"
            );
        }
        a[[0, 0]] = f64::NEG_INFINITY;
        a[[2, 3]] = f64::NAN;
        let st = Stored::new(&a, layout, 0.0);
        for kind in [NormKind::Fro, NormKind::One, NormKind::Inf] {
            assert!(
                parla::norm(&st.view(), kind).unwrap().is_nan(),
                "{layout:?} {kind:?}"
            );
        }
        // The 2-norm needs an SVD: NaN and Inf are rejected, naming the norm.
        assert_eq!(
            parla::norm(&st.view(), NormKind::Two),
            Err(Error::NonFinite {
                op: "norm",
                index: vec![0, 0],
                value: "-inf".into()
            })
        );
    }
    let a = ndarray::array![[1.0f32, f32::NAN]];
    assert!(parla::norm(&a, NormKind::One).unwrap().is_nan());
    assert!(parla::norm(&a, NormKind::Fro).unwrap().is_nan());
}

#[test]
fn empty_matrices_have_norm_zero() {
    for (m, n) in [(0, 0), (0, 3), (3, 0)] {
        let a = Array2::<f64>::zeros((m, n));
        for kind in [NormKind::Fro, NormKind::One, NormKind::Inf, NormKind::Two] {
            assert_eq!(parla::norm(&a, kind).unwrap(), 0.0, "{m}x{n} {kind:?}");
        }
        assert_eq!(parla::trace(&a).unwrap(), 0.0);
        assert_eq!(
            parla::norm(&Array2::<f32>::zeros((m, n)), NormKind::Two).unwrap(),
            0.0
        );
    }
}

#[test]
fn trace_sums_the_diagonal() {
    let mut rng = rng(4);
    for (m, n) in SHAPES {
        for scale in [1.0, 1e300] {
            let a = random(&mut rng, m, n) * scale;
            let d = a.diag().to_owned();
            let want = compensated_sum(d.iter().copied());
            let tol = 2.0 * d.len() as f64 * f64::EPSILON * d.iter().map(|x| x.abs()).sum::<f64>();
            for layout in LAYOUTS {
                let st = Stored::new(&a, layout, 0.0);
                let got = parla::trace(&st.view()).unwrap();
                assert!(
                    (got - want).abs() <= tol,
                    "{m}x{n} {layout:?}: {got} vs {want}"
                );
            }
            let a32 = cast::<f32>(&(a / scale));
            let d32: Array1<f64> = a32.diag().mapv(|x| x as f64);
            let want = compensated_sum(d32.iter().copied());
            let tol = 2.0
                * d32.len() as f64
                * f32::EPSILON as f64
                * d32.iter().map(|x| x.abs()).sum::<f64>();
            let got = parla::trace(&a32).unwrap() as f64;
            assert!((got - want).abs() <= tol, "f32 {m}x{n}: {got} vs {want}");
        }
    }
    assert!(parla::trace(&ndarray::array![[1.0, 9.0], [9.0, f64::NAN]])
        .unwrap()
        .is_nan());
}

#[test]
fn fro_one_inf_and_trace_run_on_every_engine() {
    let a = ndarray::array![[1.0, -2.0], [3.0, 4.0]];
    for engine in Engine::ALL {
        let e = Exec::new(engine, 1).unwrap();
        assert_eq!(e.norm(&a, NormKind::One).unwrap(), 6.0, "{engine}");
        assert_eq!(e.norm(&a, NormKind::Inf).unwrap(), 7.0, "{engine}");
        assert!(close(
            e.norm(&a, NormKind::Fro).unwrap(),
            30f64.sqrt(),
            2.0 * f64::EPSILON
        ));
        assert_eq!(e.trace(&a).unwrap(), 5.0, "{engine}");
    }
}

#[test]
fn two_norm_errors_name_the_norm() {
    let big = i32::MAX as usize + 1;
    let z = Array2::<f64>::zeros((1, 1));
    assert_eq!(
        parla::norm(&z.broadcast((big, big)).unwrap(), NormKind::Two),
        Err(Error::TooLarge {
            op: "norm",
            what: "rows",
            value: big,
            max: i32::MAX as usize
        })
    );
    let e = Exec::new(Engine::Rayon, 1).unwrap();
    assert_eq!(e.norm(&Array2::<f64>::eye(2), NormKind::Two), Ok(1.0));
    let mut a = Array2::<f64>::eye(2);
    a[[1, 0]] = f64::NAN;
    assert_eq!(
        e.norm(&a, NormKind::Two),
        Err(Error::NonFinite {
            op: "norm",
            index: vec![1, 0],
            value: "NaN".into()
        })
    );
}

#[test]
fn two_norm_errors() {
    // What is right today whatever the op name: the error kinds.
    let big = i32::MAX as usize + 1;
    let z = Array2::<f64>::zeros((1, 1));
    assert!(matches!(
        parla::norm(&z.broadcast((big, 3)).unwrap(), NormKind::Two),
        Err(Error::TooLarge { what: "rows", .. })
    ));
    for engine in [Engine::Rayon, Engine::RayonBlas] {
        let e = Exec::new(engine, 1).unwrap();
        let a = ndarray::array![[3.0f64, 0.0], [4.0, 0.0]];
        let got = e.norm(&a, NormKind::Two).unwrap();
        assert!((got - 5.0).abs() <= 8.0 * f64::EPSILON, "{engine:?}: {got}");
    }
}
