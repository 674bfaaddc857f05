//! Linear least squares `min ‖A X − B‖₂` (minimum-norm solution, by SVD).
//!
//! References, all in f64: the normal equations `AᵀA x = Aᵀb` (slow Gaussian elimination) for
//! well-conditioned full-rank tall `A`; `x = Aᵀ (A Aᵀ)⁻¹ b` for full-row-rank wide `A`; and
//! `V Σ⁺ Uᵀ b` from the factors a rank-deficient `A` was built from. Optimality is checked
//! with the scale-invariant ratio ‖Aᵀ(A x − b)‖₁ / (‖Aᵀ‖₁ (‖A‖₁ ‖x‖₁ + ‖b‖₁) max(m,n) ε) < 30.

use crate::common;

use common::la::*;
use common::*;
use ndarray::{Array1, Array2};
use parla::{Engine, Error, Exec, Scalar};
use rand_chacha::ChaCha8Rng;

const THRESH: f64 = 30.0;

const TALL: [(usize, usize); 9] = [
    (1, 1),
    (2, 1),
    (3, 2),
    (7, 3),
    (31, 7),
    (64, 31),
    (65, 64),
    (100, 65),
    (100, 100),
];

/// The power of two nearest below the largest magnitude in `a` (1 for a zero matrix).
fn pow2_scale(a: &Array2<f64>) -> f64 {
    let m = a.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    if m == 0.0 || !m.is_finite() {
        1.0
    } else {
        2f64.powi(m.log2().floor() as i32)
    }
}

/// ‖Aᵀ(A X − B)‖₁ / (‖Aᵀ‖₁ (‖A‖₁ ‖X‖₁ + ‖B‖₁) max(m,n) ε). The ratio does not change when
/// `A` and `B` are scaled, so it is computed on copies scaled exactly by powers of two (the
/// products of entries near 1e300 would overflow).
fn optimality(a: &Array2<f64>, x: &Array2<f64>, b: &Array2<f64>, e: f64) -> f64 {
    let (sa, sb) = (pow2_scale(a), pow2_scale(b));
    let (a, b, x) = (a / sa, b / sb, x * (sa / sb));
    let r = ref_matmul(&a.view(), &x.view()) - &b;
    let atr = ref_matmul(&a.t(), &r.view());
    let (m, n) = a.dim();
    ratio(
        norm1_nan(&atr.view()),
        norm1_nan(&a.t())
            * (norm1_nan(&a.view()) * norm1_nan(&x.view()) + norm1_nan(&b.view()))
            * m.max(n) as f64
            * e,
    )
}

fn normal_equations(a: &Array2<f64>, b: &Array2<f64>) -> Array2<f64> {
    let ata = ref_matmul(&a.t(), &a.view());
    let atb = ref_matmul(&a.t(), &b.view());
    ref_solve_det(&ata.view(), &atb.view()).0.unwrap()
}

/// Squared residual norm per column (scaled, so it overflows only when the result does).
fn residuals(a: &Array2<f64>, x: &Array2<f64>, b: &Array2<f64>) -> Vec<f64> {
    let r = ref_matmul(&a.view(), &x.view()) - b;
    r.columns()
        .into_iter()
        .map(|c| fro_safe(&c.insert_axis(ndarray::Axis(1))).powi(2))
        .collect()
}

#[derive(Debug, Clone, Copy)]
enum Family {
    /// Singular values in [1, 2].
    WellConditioned,
    /// Singular values geometric from 1 to √ε: only optimality and rank are checked.
    IllConditioned,
    /// Well-conditioned, `A` and `B` times 1e300 (f64) or 1e30 (f32).
    Scaled,
}

fn problem<T: Scalar>(
    fam: Family,
    rng: &mut ChaCha8Rng,
    m: usize,
    n: usize,
    k: usize,
) -> (Array2<T>, Array2<T>, f64) {
    let scale = match fam {
        Family::Scaled => {
            if eps::<T>() < 1e-10 {
                1e300
            } else {
                1e30
            }
        }
        _ => 1.0,
    };
    let s = match fam {
        Family::IllConditioned => geometric(m.min(n), eps::<T>().sqrt()),
        _ => geometric(m.min(n), 0.5).iter().map(|x| 2.0 * x).collect(),
    };
    let a = with_singular_values(rng, m, n, &s) * scale;
    let b = random(rng, m, k) * scale;
    (cast::<T>(&a), cast::<T>(&b), scale)
}

fn tall_cases<T: Scalar>(seed: u64) {
    let mut rng = rng(seed);
    let e = eps::<T>();
    for fam in [
        Family::WellConditioned,
        Family::IllConditioned,
        Family::Scaled,
    ] {
        for (m, n) in TALL {
            let (at, bt, scale) = problem::<T>(fam, &mut rng, m, n, 3);
            let cond = match fam {
                Family::IllConditioned => 1.0 / eps::<T>().sqrt(),
                _ => 2.0,
            };
            let (a, b) = (to64(&at.view()), to64(&bt.view()));
            for layout in LAYOUTS {
                let ctx = format!("{} {fam:?} {m}x{n} {layout:?}", std::any::type_name::<T>());
                let sa = Stored::new(&at, layout, T::of(8.0));
                let sb = Stored::new(&bt, layout, T::of(8.0));
                let r = parla::lstsq(&sa.view(), &sb.view(), None).unwrap();
                assert_eq!(r.solution.dim(), (n, 3), "{ctx}");
                assert_eq!(r.rank, n, "{ctx}: rank");
                assert_eq!(r.singular_values.len(), n, "{ctx}");
                let x = to64(&r.solution.view());
                let opt = optimality(&a, &x, &b, e);
                assert!(opt < THRESH, "{ctx}: optimality ratio {opt}");
                // Residuals: only for m > n (and full rank), as numpy.
                if m > n {
                    assert_eq!(r.residuals.len(), 3, "{ctx}: residuals");
                    let want = residuals(&a, &x, &b);
                    // The field is the residual of the exact solution of the rounded problem;
                    // ‖A x̂ − b‖² differs from it by about ε · cond(A) · ‖b‖².
                    let bb = norm1_nan(&b.view()).powi(2) * cond;
                    for (got, w) in r.residuals.iter().zip(&want) {
                        let got = got.as_f64();
                        if *w > T::max_value().as_f64() {
                            // Squared residuals beyond the range of T overflow.
                            assert_eq!(got, f64::INFINITY, "{ctx}: residual {w} in T");
                            continue;
                        }
                        let d = (got - w).abs();
                        assert!(
                            ratio(d, bb * m as f64 * e) < THRESH,
                            "{ctx}: residual {got} vs {w}"
                        );
                    }
                } else {
                    assert_eq!(r.residuals.len(), 0, "{ctx}: residuals for m = n");
                }
                if !matches!(fam, Family::IllConditioned) {
                    // cond(A) ≤ 2: the solution itself is accurate.
                    let (au, bu) = (&a / scale, &b / scale);
                    let want = normal_equations(&au, &bu);
                    let err = ratio(diff1(&x.view(), &want.view()), norm1_nan(&want.view()));
                    assert!(err < THRESH * m as f64 * e, "{ctx}: forward error {err}");
                }
                // A vector right-hand side.
                let col = sb.view().column(1).to_owned();
                let rv = parla::lstsq(&sa.view(), &col, None).unwrap();
                // numpy: a 1-D right-hand side gives a 1-D solution, equal to the column of
                // the 2-D solve.
                assert_eq!(rv.solution.dim(), n, "{ctx}");
                assert_eq!(rv.residuals.len(), usize::from(m > n), "{ctx}");
                let x2 = parla::lstsq(&sa.view(), &col.view().insert_axis(ndarray::Axis(1)), None)
                    .unwrap()
                    .solution;
                assert_eq!(x2.column(0), rv.solution, "{ctx}: 1-D vs 2-D solution");
                let bv = vec64(&col.view()).insert_axis(ndarray::Axis(1));
                let xv = rv.solution.view().insert_axis(ndarray::Axis(1));
                let opt = optimality(&a, &to64(&xv), &bv, e);
                assert!(opt < THRESH, "{ctx}: vector rhs optimality {opt}");
                assert!(sa.guards_intact() && sb.guards_intact(), "{ctx}: guard");
            }
        }
    }
}

#[test]
fn tall_and_square_f64() {
    tall_cases::<f64>(1);
}

#[test]
fn tall_and_square_f32() {
    tall_cases::<f32>(2);
}

fn wide_cases<T: Scalar>(seed: u64) {
    let mut rng = rng(seed);
    let e = eps::<T>();
    for (n, m) in TALL.iter().copied().filter(|(a, b)| a != b) {
        let (at, bt, _) = problem::<T>(Family::WellConditioned, &mut rng, m, n, 2);
        let (a, b) = (to64(&at.view()), to64(&bt.view()));
        // Minimum norm: x = Aᵀ (A Aᵀ)⁻¹ b.
        let aat = ref_matmul(&a.view(), &a.t());
        let y = ref_solve_det(&aat.view(), &b.view()).0.unwrap();
        let want = ref_matmul(&a.t(), &y.view());
        for layout in LAYOUTS {
            let ctx = format!("{} wide {m}x{n} {layout:?}", std::any::type_name::<T>());
            let sa = Stored::new(&at, layout, T::zero());
            let r = parla::lstsq(&sa.view(), &bt, None).unwrap();
            assert_eq!(r.rank, m, "{ctx}");
            assert_eq!(r.residuals.len(), 0, "{ctx}");
            let x = to64(&r.solution.view());
            assert_eq!(x.dim(), (n, 2), "{ctx}");
            let back = solve_ratio(&a.view(), &x.view(), &b.view(), e);
            assert!(back < THRESH, "{ctx}: backward error {back}");
            let err = ratio(diff1(&x.view(), &want.view()), norm1_nan(&want.view()));
            assert!(
                err < THRESH * n as f64 * e,
                "{ctx}: not the minimum-norm solution: {err}"
            );
        }
    }
}

#[test]
fn wide_gives_the_minimum_norm_solution_f64() {
    wide_cases::<f64>(3);
}

#[test]
fn wide_gives_the_minimum_norm_solution_f32() {
    wide_cases::<f32>(4);
}

#[test]
fn rank_deficient() {
    let mut rng = rng(5);
    for (m, n) in [(7, 7), (31, 7), (7, 31), (64, 65), (100, 64)] {
        let k = m.min(n);
        for rank in [0, 1, k / 2, k - 1] {
            let s: Vec<f64> = (0..k)
                .map(|i| {
                    if i < rank {
                        2.0 - i as f64 / k as f64
                    } else {
                        0.0
                    }
                })
                .collect();
            let (a, u, v) = svd_parts(&mut rng, m, n, &s);
            let b = random(&mut rng, m, 2);
            // Minimum-norm solution V Σ⁺ Uᵀ b.
            let utb = ref_matmul(&u.t(), &b.view());
            let mut z = Array2::<f64>::zeros((n, 2));
            for i in 0..rank {
                for j in 0..2 {
                    z[[i, j]] = utb[[i, j]] / s[i];
                }
            }
            let want = ref_matmul(&v.view(), &z.view());
            let ctx = format!("{m}x{n} rank {rank}");
            let r = parla::lstsq(&a, &b, Some(1e-10)).unwrap();
            assert_eq!(r.rank, rank, "{ctx}");
            assert_eq!(r.residuals.len(), 0, "{ctx}: no residuals below full rank");
            let sv = &r.singular_values;
            assert_eq!(sv.len(), k, "{ctx}");
            for (i, (&x, &w)) in sv.iter().zip(&s).enumerate() {
                assert!(
                    (x - w).abs() < THRESH * m.max(n) as f64 * f64::EPSILON * 2.0,
                    "{ctx}: σ{i}"
                );
            }
            let scale = norm1_nan(&want.view()).max(norm1_nan(&b.view()) / 2.0);
            let err = diff1(&r.solution.view(), &want.view()) / scale;
            assert!(
                err < THRESH * m.max(n) as f64 * f64::EPSILON,
                "{ctx}: {err}"
            );
            // rcond above a kept singular value drops it too.
            if rank >= 2 {
                let r2 = parla::lstsq(&a, &b, Some(s[rank - 1] / s[0] * 1.0001)).unwrap();
                assert_eq!(r2.rank, rank - 1, "{ctx}: rcond just above σ_r/σ_1");
            }
        }
    }
}

#[test]
fn matches_pinv_times_b() {
    // Two independent paths (gelsd and gesdd + gemm) to the same minimum-norm solution.
    let mut rng = rng(6);
    for (m, n) in [(9, 4), (4, 9), (31, 31)] {
        let a = random(&mut rng, m, n);
        let b = random(&mut rng, m, 3);
        let x = parla::lstsq(&a, &b, None).unwrap().solution;
        let p = parla::pinv(&a, None).unwrap();
        let y = ref_matmul(&p.view(), &b.view());
        let c = parla::cond(&a).unwrap();
        let err = ratio(diff1(&x.view(), &y.view()), norm1_nan(&y.view()));
        assert!(
            err < THRESH * m.max(n) as f64 * f64::EPSILON * c,
            "{m}x{n}: {err}"
        );
    }
}

#[test]
fn one_and_two_threads_agree() {
    let mut rng = rng(7);
    let (a, b, _) = problem::<f64>(Family::WellConditioned, &mut rng, 300, 120, 2);
    let want = normal_equations(&a, &b);
    for t in [1, 2] {
        let x = Exec::blas(t).unwrap().lstsq(&a, &b, None).unwrap().solution;
        let err = diff1(&x.view(), &want.view()) / norm1_nan(&want.view());
        assert!(err < THRESH * 300.0 * f64::EPSILON, "{t} threads: {err}");
    }
}

#[test]
fn empty_inputs() {
    // n = 0: the solution is empty, the residual is all of b.
    let b = ndarray::array![[1.0, 2.0], [3.0, -1.0], [0.5, 0.0]];
    let r = parla::lstsq(&Array2::<f64>::zeros((3, 0)), &b, None).unwrap();
    assert_eq!(r.solution.dim(), (0, 2));
    assert_eq!(r.rank, 0);
    assert_eq!(r.singular_values.len(), 0);
    assert_eq!(r.residuals, ndarray::array![1.0 + 9.0 + 0.25, 4.0 + 1.0]);
    // m = 0: the minimum-norm solution is zero.
    let r = parla::lstsq(
        &Array2::<f64>::zeros((0, 4)),
        &Array2::<f64>::zeros((0, 2)),
        None,
    )
    .unwrap();
    assert_eq!(r.solution, Array2::<f64>::zeros((4, 2)));
    assert_eq!((r.rank, r.residuals.len()), (0, 0));
    // f32, vector.
    let r = parla::lstsq(
        &Array2::<f32>::zeros((2, 0)),
        &ndarray::array![3.0f32, 4.0],
        None,
    )
    .unwrap();
    assert_eq!(r.solution, ndarray::Array1::<f32>::zeros(0));
    assert_eq!(r.residuals, ndarray::array![25.0f32]);
}

#[test]
fn no_right_hand_sides() {
    let mut rng = rng(8);
    let a = random(&mut rng, 5, 3);
    let r = parla::lstsq(&a, &Array2::<f64>::zeros((5, 0)), None).unwrap();
    assert_eq!(r.solution.dim(), (3, 0));
    assert_eq!(r.rank, 3);
    assert_eq!(r.singular_values.len(), 3);
}

#[test]
fn errors() {
    let a = Array2::<f64>::ones((4, 3));
    assert_eq!(
        parla::lstsq(&a, &Array2::<f64>::ones((3, 2)), None),
        Err(Error::ShapeMismatch {
            op: "lstsq",
            left: vec![4, 3],
            right: vec![3, 2]
        })
    );
    assert_eq!(
        parla::lstsq(&a, &Array1::<f64>::ones(5), None),
        Err(Error::ShapeMismatch {
            op: "lstsq",
            left: vec![4, 3],
            right: vec![5]
        })
    );
    for bad in [-1e-12, f64::NAN] {
        assert!(
            matches!(
                parla::lstsq(&a, &Array1::<f64>::ones(4), Some(bad)),
                Err(Error::InvalidArgument {
                    op: "lstsq",
                    name: "rcond",
                    ..
                })
            ),
            "rcond {bad}"
        );
    }
    for layout in LAYOUTS {
        let mut m = Array2::<f64>::ones((4, 3));
        m[[3, 0]] = f64::NAN;
        m[[1, 2]] = f64::NEG_INFINITY;
        let st = Stored::new(&m, layout, 0.0);
        assert_eq!(
            parla::lstsq(&st.view(), &Array1::<f64>::ones(4), None),
            Err(Error::NonFinite {
                op: "lstsq",
                index: vec![1, 2],
                value: "-inf".into()
            }),
            "{layout:?}"
        );
    }
    let mut bv = Array1::<f64>::ones(4);
    bv[2] = f64::INFINITY;
    assert_eq!(
        parla::lstsq(&a, &bv, None),
        Err(Error::NonFinite {
            op: "lstsq",
            index: vec![2],
            value: "inf".into()
        })
    );
    let mut bm = Array2::<f64>::ones((4, 2));
    bm[[3, 1]] = f64::NAN;
    assert_eq!(
        parla::lstsq(&a, &bm, None),
        Err(Error::NonFinite {
            op: "lstsq",
            index: vec![3, 1],
            value: "NaN".into()
        })
    );
    let big = i32::MAX as usize + 1;
    let imax = i32::MAX as usize;
    let z = Array2::<f64>::zeros((1, 1));
    let z1 = Array1::<f64>::zeros(1);
    assert_eq!(
        parla::lstsq(
            &z.broadcast((big, 2)).unwrap(),
            &z1.broadcast(big).unwrap(),
            None
        ),
        Err(Error::TooLarge {
            op: "lstsq",
            what: "rows",
            value: big,
            max: imax
        })
    );
    assert_eq!(
        parla::lstsq(&z.broadcast((1, big)).unwrap(), &ndarray::array![1.0], None),
        Err(Error::TooLarge {
            op: "lstsq",
            what: "columns",
            value: big,
            max: imax
        })
    );
    assert_eq!(
        parla::lstsq(
            &ndarray::array![[1.0]],
            &z.broadcast((1, big)).unwrap(),
            None
        ),
        Err(Error::TooLarge {
            op: "lstsq",
            what: "right-hand sides",
            value: big,
            max: imax
        })
    );
    // The rayon engines implement lstsq, with the same errors.
    for engine in [Engine::Rayon, Engine::RayonBlas] {
        let e = Exec::new(engine, 1).unwrap();
        let r = e.lstsq(&a, &Array1::<f64>::ones(4), None).unwrap();
        let want = Exec::blas(1)
            .unwrap()
            .lstsq(&a, &Array1::<f64>::ones(4), None)
            .unwrap();
        assert_eq!((r.rank, r.solution.dim()), (want.rank, want.solution.dim()));
        for (x, y) in r.solution.iter().zip(&want.solution) {
            assert!(
                (x - y).abs() <= 1e-13 * (1.0 + y.abs()),
                "{engine:?}: {x} vs {y}"
            );
        }
        let r = e
            .lstsq(&Array2::<f64>::zeros((4, 0)), &Array1::<f64>::ones(4), None)
            .unwrap();
        assert_eq!(
            (r.rank, r.solution.dim(), r.residuals.to_vec()),
            (0, 0, vec![4.0])
        );
        let mut bad = a.clone();
        bad[[1, 1]] = f64::NAN;
        assert!(
            matches!(
                e.lstsq(&bad, &Array1::<f64>::ones(4), None),
                Err(Error::NonFinite { op: "lstsq", .. })
            ),
            "{engine:?}"
        );
    }
}

#[test]
fn rcond_zero_keeps_tiny_singular_values_and_rcond_one_drops_all() {
    // LAPACK's gelsd replaces rcond = 0 and rcond >= 1 by ε; parla keeps the documented meaning.
    let a = ndarray::array![[1.0f64, 0.0], [0.0, 1e-20]];
    let b = ndarray::array![1.0, 1.0];
    let r = parla::lstsq(&a, &b, Some(0.0)).unwrap();
    assert_eq!(r.rank, 2, "only exact zeros are dropped with rcond = 0");
    assert!((r.solution[1] - 1e20).abs() <= 1e20 * 1e-12);
    let r = parla::lstsq(&a, &b, None).unwrap();
    assert_eq!(r.rank, 1, "the default drops 1e-20 relative to 1");

    let a = ndarray::array![[1.0, 0.0], [0.0, 0.5]];
    let r = parla::lstsq(&a, &b, Some(0.6)).unwrap();
    assert_eq!((r.rank, r.solution.to_vec()), (1, vec![1.0, 0.0]));
    for rcond in [1.0, 2.0, f64::INFINITY] {
        let r = parla::lstsq(&a, &b, Some(rcond)).unwrap();
        assert_eq!(
            (r.rank, r.solution.to_vec()),
            (0, vec![0.0, 0.0]),
            "rcond {rcond}"
        );
        assert_eq!(r.singular_values.to_vec(), vec![1.0, 0.5]);
    }
}
