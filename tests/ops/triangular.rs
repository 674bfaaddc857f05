//! Triangular solve `op(A) X = B` with `op(A) = A` or `Aᵀ`, lower or upper, unit or non-unit
//! diagonal; vector and matrix right-hand sides.
//!
//! Accuracy: the backward error ‖op(T) X − B‖₁ / ((‖T‖₁ ‖X‖₁ + ‖B‖₁) n ε) < 30 (LAPACK's
//! `dtrt02`), where `T` is the triangle that is read (ones on the diagonal for `Diag::Unit`).
//! Only that triangle may be read: anything in the other one (garbage, NaN) must not change
//! the result.

use crate::common;

use common::la::*;
use common::*;
use ndarray::{Array1, Array2, Axis, ShapeBuilder};
use parla::{Diag, Engine, Error, Exec, Scalar, Trans, Uplo};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

const SIZES: [usize; 8] = [1, 2, 3, 7, 31, 64, 65, 100];
const THRESH: f64 = 30.0;

const UPLOS: [Uplo; 2] = [Uplo::Lower, Uplo::Upper];
const TRANS: [Trans; 2] = [Trans::No, Trans::Yes];
const DIAGS: [Diag; 2] = [Diag::NonUnit, Diag::Unit];

#[derive(Debug, Clone, Copy)]
enum Family {
    /// Off-diagonal entries uniform / n, diagonal ±[1, 2]: well conditioned.
    Tame,
    /// Diagonal ±(geometric from 1 to √ε).
    IllConditioned,
    /// Uniform entries everywhere (condition grows exponentially with n): n ≤ 31 only.
    Random,
    /// Tame times 1e300 (f64) or 1e30 (f32), right-hand side too.
    Scaled,
}

const FAMILIES: [Family; 4] = [
    Family::Tame,
    Family::IllConditioned,
    Family::Random,
    Family::Scaled,
];

fn scale_of<T: Scalar>(fam: Family) -> f64 {
    match fam {
        Family::Scaled if eps::<T>() < 1e-10 => 1e300,
        Family::Scaled => 1e30,
        _ => 1.0,
    }
}

/// A full random matrix of the family; the solver reads one triangle of it.
fn triangular(fam: Family, rng: &mut ChaCha8Rng, n: usize, eps: f64) -> Array2<f64> {
    let mut a = random(rng, n, n);
    let d = geometric(n, eps.sqrt());
    for i in 0..n {
        let sign = if rng.gen_bool(0.5) { 1.0 } else { -1.0 };
        match fam {
            Family::Tame | Family::Scaled => {
                a.row_mut(i).mapv_inplace(|x| x / n as f64);
                a[[i, i]] = sign * rng.gen_range(1.0..2.0);
            }
            Family::IllConditioned => {
                a.row_mut(i).mapv_inplace(|x| x / n as f64);
                a[[i, i]] = sign * d[i];
            }
            Family::Random => {}
        }
    }
    a
}

/// The matrix the solver sees: the `uplo` triangle of `a`, ones on the diagonal for `Unit`.
fn effective(a: &Array2<f64>, uplo: Uplo, diag: Diag) -> Array2<f64> {
    let n = a.nrows();
    Array2::from_shape_fn((n, n), |(i, j)| {
        if i == j {
            match diag {
                Diag::Unit => 1.0,
                Diag::NonUnit => a[[i, j]],
            }
        } else if (i > j) == (uplo == Uplo::Lower) {
            a[[i, j]]
        } else {
            0.0
        }
    })
}

/// `a` with the triangle that is not read (and the diagonal for `Unit`) overwritten by `f`.
fn spoil<T: Scalar>(
    a: &Array2<T>,
    uplo: Uplo,
    diag: Diag,
    f: impl Fn(usize, usize) -> T,
) -> Array2<T> {
    let n = a.nrows();
    Array2::from_shape_fn((n, n), |(i, j)| {
        let unread = if i == j {
            diag == Diag::Unit
        } else {
            (i > j) != (uplo == Uplo::Lower)
        };
        if unread {
            f(i, j)
        } else {
            a[[i, j]]
        }
    })
}

fn all_cases<T: Scalar>(seed: u64) {
    all_cases_on::<T>(seed, &Exec::blas(1).unwrap(), true);
}

/// Every family × size × uplo × diag × trans × layout on `one`; `vectors`: also the vector
/// right-hand side through the free function (process defaults).
fn all_cases_on<T: Scalar>(seed: u64, one: &Exec, vectors: bool) {
    let mut rng = rng(seed);
    let e = eps::<T>();
    for fam in FAMILIES {
        for n in SIZES {
            if matches!(fam, Family::Random) && n > 31 {
                continue;
            }
            let scale = scale_of::<T>(fam);
            let at = cast::<T>(&(triangular(fam, &mut rng, n, e) * scale));
            let bt = cast::<T>(&(random(&mut rng, n, 3) * scale));
            let b = to64(&bt.view());
            for uplo in UPLOS {
                for diag in DIAGS {
                    if matches!((fam, diag), (Family::Scaled, Diag::Unit)) {
                        // A unit diagonal under 1e300 off-diagonals: the exact solution
                        // overflows, the problem is not a scaled copy of a tame one.
                        continue;
                    }
                    let t = effective(&to64(&at.view()), uplo, diag);
                    // The other triangle (and a unit diagonal) hold garbage, then NaN.
                    let garbage = spoil(&at, uplo, diag, |i, j| T::of((i * 7 + j) as f64 - 3.5));
                    let nan = spoil(&at, uplo, diag, |_, _| T::nan());
                    for trans in TRANS {
                        let opt = match trans {
                            Trans::No => t.clone(),
                            Trans::Yes | Trans::Conj => t.t().to_owned(),
                        };
                        for (li, layout) in LAYOUTS.into_iter().enumerate() {
                            let ctx = format!(
                                "{} {fam:?} n={n} {uplo:?} {trans:?} {diag:?} {layout:?}",
                                std::any::type_name::<T>()
                            );
                            let sa = Stored::new(&garbage, layout, T::of(13.0));
                            // The right-hand side in another layout than A.
                            let sb = Stored::new(&bt, LAYOUTS[(li + 2) % 5], T::of(13.0));
                            let x = one
                                .solve_triangular(&sa.view(), &sb.view(), uplo, trans, diag)
                                .unwrap();
                            assert_eq!(x.dim(), (n, 3), "{ctx}");
                            let r = solve_ratio(&opt.view(), &to64(&x.view()).view(), &b.view(), e);
                            assert!(r < THRESH, "{ctx}: backward error ratio {r}");
                            // NaN where nothing is read: the same result, bit for bit.
                            let sn = Stored::new(&nan, layout, T::of(13.0));
                            let xn = one
                                .solve_triangular(&sn.view(), &sb.view(), uplo, trans, diag)
                                .unwrap();
                            assert_eq!(xn, x, "{ctx}: the unread triangle changed the result");
                            // A vector right-hand side (a strided column view), on `one`
                            // (engine `rayon` solves it in one pass over the triangle) and,
                            // with `vectors`, through the free function (process defaults).
                            let bv = b.column(2).to_owned().insert_axis(Axis(1));
                            let vsolve = |m: &Stored<T>| {
                                let col = sb.view();
                                one.solve_triangular(&m.view(), &col.column(2), uplo, trans, diag)
                                    .unwrap()
                            };
                            let xv = vsolve(&sa);
                            assert_eq!(xv.len(), n, "{ctx}");
                            let xv64 = to64(&xv.view().insert_axis(Axis(1)));
                            let r = solve_ratio(&opt.view(), &xv64.view(), &bv.view(), e);
                            assert!(r < THRESH, "{ctx}: vector backward error ratio {r}");
                            let xvn = vsolve(&sn);
                            assert_eq!(xvn, xv, "{ctx}: the unread triangle changed the vector");
                            if vectors {
                                let xf = parla::solve_triangular(
                                    &sa.view(),
                                    &sb.view().column(2),
                                    uplo,
                                    trans,
                                    diag,
                                )
                                .unwrap();
                                assert_eq!(xf.len(), n, "{ctx}");
                                let xf64 = to64(&xf.insert_axis(Axis(1)).view());
                                let r = solve_ratio(&opt.view(), &xf64.view(), &bv.view(), e);
                                assert!(
                                    r < THRESH,
                                    "{ctx}: free-function backward error ratio {r}"
                                );
                            }
                            assert!(sa.guards_intact() && sb.guards_intact(), "{ctx}: guard");
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn solve_triangular_f64() {
    all_cases::<f64>(1);
}

#[test]
fn solve_triangular_f32() {
    all_cases::<f32>(2);
}

#[test]
fn matches_forward_substitution_for_tame_matrices() {
    // Slow reference: forward substitution with compensated sums (cond ≤ ~4 here).
    let mut rng = rng(3);
    for n in [1, 2, 7, 64] {
        let a = triangular(Family::Tame, &mut rng, n, f64::EPSILON);
        let l = effective(&a, Uplo::Lower, Diag::NonUnit);
        let b = random_vec(&mut rng, n);
        let mut x = Array1::<f64>::zeros(n);
        for i in 0..n {
            let s = compensated_sum((0..i).map(|j| l[[i, j]] * x[j]));
            x[i] = (b[i] - s) / l[[i, i]];
        }
        let got = parla::solve_triangular(&a, &b, Uplo::Lower, Trans::No, Diag::NonUnit).unwrap();
        let err = (&got - &x).iter().map(|v| v.abs()).sum::<f64>()
            / x.iter().map(|v| v.abs()).sum::<f64>();
        assert!(err < 100.0 * n as f64 * f64::EPSILON, "n={n}: {err}");
    }
}

#[test]
fn zero_on_the_diagonal_is_singular_unless_unit() {
    let mut rng = rng(4);
    for n in [1, 2, 7, 31, 100] {
        for k in [0, n / 2, n - 1] {
            let mut a = triangular(Family::Tame, &mut rng, n, f64::EPSILON);
            a[[k, k]] = 0.0;
            let b = Array1::<f64>::ones(n);
            for layout in LAYOUTS {
                let st = Stored::new(&a, layout, 0.0);
                for uplo in UPLOS {
                    for trans in TRANS {
                        let ctx = format!("n={n} k={k} {uplo:?} {trans:?} {layout:?}");
                        assert_eq!(
                            parla::solve_triangular(&st.view(), &b, uplo, trans, Diag::NonUnit),
                            Err(Error::Singular {
                                op: "solve_triangular",
                                pivot: k
                            }),
                            "{ctx}"
                        );
                        // With a unit diagonal the zero is not read.
                        let x = parla::solve_triangular(&st.view(), &b, uplo, trans, Diag::Unit)
                            .unwrap();
                        assert!(x.iter().all(|v| v.is_finite()), "{ctx}");
                    }
                }
            }
        }
    }
    // f32, first of two zeros.
    let a = Array2::from_diag(&ndarray::array![1.0f32, 0.0, 2.0, 0.0]);
    assert_eq!(
        parla::solve_triangular(
            &a,
            &Array2::<f32>::ones((4, 2)),
            Uplo::Upper,
            Trans::No,
            Diag::NonUnit
        ),
        Err(Error::Singular {
            op: "solve_triangular",
            pivot: 1
        })
    );
}

#[test]
fn one_and_two_threads_agree() {
    let mut rng = rng(5);
    let n = 300;
    let a = triangular(Family::Tame, &mut rng, n, f64::EPSILON);
    let b = random(&mut rng, n, 40);
    for t in [1, 2] {
        for uplo in UPLOS {
            let x = Exec::blas(t)
                .unwrap()
                .solve_triangular(&a, &b, uplo, Trans::No, Diag::NonUnit)
                .unwrap();
            let r = solve_ratio(
                &effective(&a, uplo, Diag::NonUnit).view(),
                &x.view(),
                &b.view(),
                f64::EPSILON,
            );
            assert!(r < THRESH, "{t} threads {uplo:?}: {r}");
        }
    }
}

#[test]
fn empty_inputs() {
    let a = Array2::<f64>::zeros((0, 0));
    let x = parla::solve_triangular(
        &a,
        &Array1::<f64>::zeros(0),
        Uplo::Lower,
        Trans::No,
        Diag::NonUnit,
    )
    .unwrap();
    assert_eq!(x.len(), 0);
    let x = parla::solve_triangular(
        &a,
        &Array2::<f64>::zeros((0, 4)),
        Uplo::Upper,
        Trans::Yes,
        Diag::Unit,
    )
    .unwrap();
    assert_eq!(x.dim(), (0, 4));
    // No right-hand sides, on every engine: an empty solution, and a zero on the diagonal is
    // still singular (as LAPACK's `trtrs` checks it before looking at B).
    let l = Array2::<f64>::eye(3);
    let mut singular = l.clone();
    singular[[1, 1]] = 0.0;
    for engine in [Engine::Blas, Engine::RayonBlas, Engine::Rayon] {
        let exec = Exec::new(engine, 2).unwrap();
        for (uplo, trans) in [(Uplo::Lower, Trans::No), (Uplo::Upper, Trans::Yes)] {
            let b = Array2::<f64>::zeros((3, 0));
            let x = exec
                .solve_triangular(&l, &b, uplo, trans, Diag::NonUnit)
                .unwrap();
            assert_eq!(x.dim(), (3, 0), "{engine}");
            let e = exec.solve_triangular(&singular, &b, uplo, trans, Diag::NonUnit);
            assert!(
                matches!(e, Err(Error::Singular { pivot: 1, .. })),
                "{engine}: {e:?}"
            );
        }
    }
}

#[test]
fn errors() {
    let (lo, no, nu) = (Uplo::Lower, Trans::No, Diag::NonUnit);
    let r = Array2::<f64>::ones((3, 4));
    assert_eq!(
        parla::solve_triangular(&r, &Array1::<f64>::ones(3), lo, no, nu),
        Err(Error::NotSquare {
            op: "solve_triangular",
            rows: 3,
            cols: 4
        })
    );
    let a = Array2::<f64>::eye(3);
    assert_eq!(
        parla::solve_triangular(&a, &Array1::<f64>::ones(4), lo, no, nu),
        Err(Error::ShapeMismatch {
            op: "solve_triangular",
            left: vec![3, 3],
            right: vec![4]
        })
    );
    assert_eq!(
        parla::solve_triangular(&a, &Array2::<f64>::ones((2, 5)), lo, no, nu),
        Err(Error::ShapeMismatch {
            op: "solve_triangular",
            left: vec![3, 3],
            right: vec![2, 5]
        })
    );
    // Non-finite inside the triangle that is read: named with its index.
    for layout in LAYOUTS {
        let mut m = Array2::<f64>::eye(4);
        m[[3, 1]] = f64::NAN;
        m[[2, 0]] = f64::INFINITY;
        let st = Stored::new(&m, layout, 0.0);
        let b = Array1::<f64>::ones(4);
        assert_eq!(
            parla::solve_triangular(&st.view(), &b, lo, no, nu),
            Err(Error::NonFinite {
                op: "solve_triangular",
                index: vec![2, 0],
                value: "inf".into()
            }),
            "{layout:?}"
        );
        // The same values in the upper triangle are not read.
        assert!(parla::solve_triangular(&st.view(), &b, Uplo::Upper, Trans::Yes, nu).is_ok());
        // A NaN diagonal is not read for Unit.
        let mut d = Array2::<f64>::eye(4);
        d[[2, 2]] = f64::NAN;
        let sd = Stored::new(&d, layout, 0.0);
        assert!(parla::solve_triangular(&sd.view(), &b, lo, no, Diag::Unit).is_ok());
        assert_eq!(
            parla::solve_triangular(&sd.view(), &b, lo, no, nu),
            Err(Error::NonFinite {
                op: "solve_triangular",
                index: vec![2, 2],
                value: "NaN".into()
            })
        );
    }
    // Non-finite right-hand side: the index is in b's own shape.
    let mut bv = Array1::<f64>::ones(3);
    bv[1] = f64::NEG_INFINITY;
    assert_eq!(
        parla::solve_triangular(&a, &bv, lo, no, nu),
        Err(Error::NonFinite {
            op: "solve_triangular",
            index: vec![1],
            value: "-inf".into()
        })
    );
    let big = i32::MAX as usize + 1;
    let imax = i32::MAX as usize;
    let z = Array2::<f64>::zeros((1, 1));
    let z1 = Array1::<f64>::zeros(1);
    assert_eq!(
        parla::solve_triangular(
            &z.broadcast((big, big)).unwrap(),
            &z1.broadcast(big).unwrap(),
            lo,
            no,
            nu
        ),
        Err(Error::TooLarge {
            op: "solve_triangular",
            what: "rows",
            value: big,
            max: imax
        })
    );
    assert_eq!(
        parla::solve_triangular(
            &ndarray::array![[1.0]],
            &z.broadcast((1, big)).unwrap(),
            lo,
            no,
            nu
        ),
        Err(Error::TooLarge {
            op: "solve_triangular",
            what: "right-hand sides",
            value: big,
            max: imax
        })
    );
    for engine in [Engine::Rayon, Engine::RayonBlas] {
        let e = Exec::new(engine, 1).unwrap();
        assert_eq!(
            e.solve_triangular(
                &Array2::<f64>::zeros((0, 0)),
                &Array1::<f64>::ones(0),
                lo,
                no,
                nu
            )
            .unwrap()
            .len(),
            0
        );
    }
}

#[test]
fn rayon_engines_all_cases_at_1_2_3_threads() {
    for engine in [Engine::RayonBlas, Engine::Rayon] {
        for t in 1..=3 {
            let exec = Exec::new(engine, t).unwrap();
            all_cases_on::<f64>(40 + t as u64, &exec, false);
            all_cases_on::<f32>(50 + t as u64, &exec, false);
        }
    }
}

#[test]
fn rayon_engines_large_and_many_right_hand_sides() {
    // Orders past the recursion base and the parallel threshold, right-hand sides past the
    // per-thread split; every uplo × trans × diag; against the backward-error ratio.
    let mut rng = rng(60);
    let e = eps::<f64>();
    // (1030, 13): engine `rayon` gives each worker its own block of the columns (from order
    // 1024, at least 4 columns per worker).
    for (n, r) in [(49, 1), (200, 70), (401, 257), (1030, 13)] {
        let at = triangular(Family::Tame, &mut rng, n, e);
        let b_rows = random(&mut rng, n, r);
        // B in both memory orders: X starts as a copy of B in B's own order.
        let mut b_cols = Array2::zeros((n, r).f());
        b_cols.assign(&b_rows);
        for (engine, b) in [Engine::RayonBlas, Engine::Rayon]
            .into_iter()
            .flat_map(|e| [(e, &b_rows), (e, &b_cols)])
        {
            for t in [2, 3] {
                let exec = Exec::new(engine, t).unwrap();
                for uplo in UPLOS {
                    for diag in DIAGS {
                        let tt = effective(&at, uplo, diag);
                        for trans in TRANS {
                            let opt = match trans {
                                Trans::No => tt.clone(),
                                Trans::Yes | Trans::Conj => tt.t().to_owned(),
                            };
                            let x = exec.solve_triangular(&at, b, uplo, trans, diag).unwrap();
                            let r = solve_ratio(&opt.view(), &x.view(), &b.view(), e);
                            assert!(
                                r < THRESH,
                                "{engine} t={t} n={n} {uplo:?} {trans:?} {diag:?}: ratio {r}"
                            );
                            let again = exec.solve_triangular(&at, b, uplo, trans, diag).unwrap();
                            assert_eq!(again, x, "{engine} t={t}: not bit-identical run to run");
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn rayon_engines_zero_diagonal_is_singular() {
    let mut a = Array2::<f64>::eye(100);
    a[[70, 70]] = 0.0;
    a[[90, 90]] = 0.0;
    for engine in [Engine::RayonBlas, Engine::Rayon] {
        let e = Exec::new(engine, 2).unwrap();
        assert_eq!(
            e.solve_triangular(
                &a,
                &Array2::<f64>::ones((100, 5)),
                Uplo::Lower,
                Trans::No,
                Diag::NonUnit
            ),
            Err(Error::Singular {
                op: "solve_triangular",
                pivot: 70
            })
        );
        assert!(e
            .solve_triangular(
                &a,
                &Array2::<f64>::ones((100, 5)),
                Uplo::Lower,
                Trans::No,
                Diag::Unit
            )
            .is_ok());
    }
}

#[test]
fn subnormal_diagonal_is_divided_not_inverted() {
    // OpenBLAS's trsm multiplies by 1/diagonal, which is inf for a subnormal diagonal; the
    // exact answers here are derived by hand: x0 = 1e-310/1e-310 = 1, x1 = (3 - 1·1)/2 = 1.
    let l = ndarray::array![[1e-310, 0.0], [1.0, 2.0]];
    let b = ndarray::array![1e-310, 3.0];
    let x = parla::solve_triangular(&l, &b, Uplo::Lower, Trans::No, Diag::NonUnit).unwrap();
    assert_eq!(x, ndarray::array![1.0, 1.0]);
    // The same system through the transpose of the upper factor.
    let u = l.t().to_owned();
    let x = parla::solve_triangular(&u, &b, Uplo::Upper, Trans::Yes, Diag::NonUnit).unwrap();
    assert_eq!(x, ndarray::array![1.0, 1.0]);
    // Upper, back substitution: x1 = 1e-310/1e-310 = 1, x0 = (4 - 2·1)/2 = 1.
    let u = ndarray::array![[2.0, 2.0], [0.0, 1e-310]];
    let x = parla::solve_triangular(
        &u,
        &ndarray::array![4.0, 1e-310],
        Uplo::Upper,
        Trans::No,
        Diag::NonUnit,
    )
    .unwrap();
    assert_eq!(x, ndarray::array![1.0, 1.0]);
    // A zero diagonal beside a subnormal one is still reported as singular.
    let z = ndarray::array![[1e-310, 0.0], [1.0, 0.0]];
    assert!(matches!(
        parla::solve_triangular(&z, &b, Uplo::Lower, Trans::No, Diag::NonUnit),
        Err(parla::Error::Singular { pivot: 1, .. })
    ));
}
