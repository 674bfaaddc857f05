//! Matrices whose diagonals are subnormal: OpenBLAS's trsm / getrs / getri multiply by the
//! reciprocal of a diagonal entry, which overflows to inf for a subnormal one. Every engine at
//! 1 and 2 threads, every path that hands a diagonal to such a kernel (triangular solve, LU
//! solve, inverse, and the batched solve / inverse on every strategy) must give the O(1)
//! answer of a well-conditioned system scaled into the subnormal range.
//!
//! The scale is a power of two, so the unscaled data (used by the f64 reference) is exactly the
//! data the engines see.

use crate::common;

use common::la::*;
use common::*;
use ndarray::{Array2, ArrayView2};
use parla::batch::Strategy;
use parla::{Diag, Engine, Exec, Scalar, Trans, Uplo};
use rand::Rng;

const SIZES: [usize; 9] = [1, 2, 3, 7, 31, 64, 65, 100, 130];
const ENGINES: [Engine; 4] = [Engine::Blas, Engine::RayonBlas, Engine::Rayon, Engine::Auto];

/// `2^e` in f64, exact for -1074 ≤ e ≤ 1023 (`powi` may compute `1 / 2^-e`, which is 0 once
/// `2^-e` overflows).
fn pow2(e: i32) -> f64 {
    2f64.powi(e / 2) * 2f64.powi(e - e / 2)
}

/// `v · 2^e` in two exact steps (2^e itself may overflow while the product does not).
fn times_pow2(v: f64, e: i32) -> f64 {
    v * pow2(e / 2) * pow2(e - e / 2)
}

/// The exponent of the subnormal scale of `T`: 2^-1030 ≈ 8.7e-311 for f64 (the issue's
/// 1e-310), 2^-132 ≈ 1.8e-40 for f32 (the 2e-40).
fn subnormal_exp<T: Scalar>() -> i32 {
    if eps::<T>() < 1e-10 {
        -1030
    } else {
        -132
    }
}

/// The exponent of the scale for inverses: the diagonal becomes subnormal but its
/// reciprocal stays finite (below 2^-1024 in f64, 2^-128 in f32, the true inverse itself
/// overflows), 2^-1023 for f64 and 2^-127 for f32.
fn inv_exp<T: Scalar>() -> i32 {
    if eps::<T>() < 1e-10 {
        -1023
    } else {
        -127
    }
}

/// Relative error allowed: the scaled data keep only about 44 (f64) / 17 (f32) bits, and every
/// product formed during the solve is itself subnormal.
fn tol<T: Scalar>() -> f64 {
    if eps::<T>() < 1e-10 {
        1e-8
    } else {
        2e-2
    }
}

/// A well-conditioned triangular-friendly matrix: off-diagonal entries uniform / n, diagonal
/// ±[1, 2] (the solver reads one triangle).
fn tame(rng: &mut rand_chacha::ChaCha8Rng, n: usize) -> Array2<f64> {
    let mut a = random(rng, n, n).mapv(|x| x / n as f64);
    for i in 0..n {
        let sign = if rng.gen_bool(0.5) { 1.0 } else { -1.0 };
        a[[i, i]] = sign * rng.gen_range(1.0..2.0);
    }
    a
}

/// `op(A) X = B` by substitution in f64, reading the `uplo` triangle (non-unit diagonal).
fn ref_triangular(
    a: &ArrayView2<f64>,
    b: &ArrayView2<f64>,
    uplo: Uplo,
    trans: Trans,
) -> Array2<f64> {
    let n = a.nrows();
    let at = |i: usize, j: usize| {
        if trans == Trans::Yes {
            a[[j, i]]
        } else {
            a[[i, j]]
        }
    };
    let lower = (uplo == Uplo::Lower) != (trans == Trans::Yes);
    let mut x = b.to_owned();
    for c in 0..x.ncols() {
        let order: Vec<usize> = if lower {
            (0..n).collect()
        } else {
            (0..n).rev().collect()
        };
        for &i in &order {
            let others = if lower { 0..i } else { i + 1..n };
            let s = compensated_sum(others.map(|j| at(i, j) * x[[j, c]]));
            x[[i, c]] = (x[[i, c]] - s) / at(i, i);
        }
    }
    x
}

/// Largest |x - r| / max|r| (inf or NaN in `x` gives inf).
fn rel_err<T: Scalar>(x: &ArrayView2<T>, r: &ArrayView2<f64>) -> f64 {
    let scale = r
        .iter()
        .fold(0.0f64, |m, v| m.max(v.abs()))
        .max(f64::MIN_POSITIVE);
    x.iter().zip(r).fold(0.0f64, |m, (a, b)| {
        let d = (a.as_f64() - b).abs();
        if d.is_nan() {
            f64::INFINITY
        } else {
            m.max(d / scale)
        }
    })
}

/// The scaled pair `(A·2^e, B·2^e)` rounded to `T`, and the exact unscaled data in f64.
fn scaled<T: Scalar>(
    a: &Array2<f64>,
    b: &Array2<f64>,
    e: i32,
) -> (Array2<T>, Array2<T>, Array2<f64>, Array2<f64>) {
    let at: Array2<T> = cast(&a.mapv(|v| times_pow2(v, e)));
    let bt: Array2<T> = cast(&b.mapv(|v| times_pow2(v, e)));
    let a64 = to64(&at.view()).mapv(|v| times_pow2(v, -e));
    let b64 = to64(&bt.view()).mapv(|v| times_pow2(v, -e));
    (at, bt, a64, b64)
}

fn triangular_case<T: Scalar>(seed: u64) {
    let mut rng = rng(seed);
    for &n in &SIZES {
        let a = tame(&mut rng, n);
        let b = random(&mut rng, n, 3);
        let (at, bt, a64, b64) = scaled::<T>(&a, &b, subnormal_exp::<T>());
        assert!(
            at.diag()
                .iter()
                .all(|d| d.as_f64() != 0.0 && d.as_f64().abs() < T::min_positive_value().as_f64()),
            "the test needs a subnormal diagonal"
        );
        for uplo in [Uplo::Lower, Uplo::Upper] {
            for trans in [Trans::No, Trans::Yes] {
                let r = ref_triangular(&a64.view(), &b64.view(), uplo, trans);
                for engine in ENGINES {
                    for threads in [1, 2] {
                        let ex = Exec::new(engine, threads).unwrap();
                        let x = ex
                            .solve_triangular(&at, &bt, uplo, trans, Diag::NonUnit)
                            .unwrap();
                        let err = rel_err(&x.view(), &r.view());
                        assert!(
                            err < tol::<T>(),
                            "solve_triangular {} n={n} {uplo:?} {trans:?} {engine} {threads} threads: \
                             relative error {err:e}",
                            std::any::type_name::<T>()
                        );
                        // A vector right-hand side takes the same paths.
                        let xv = ex
                            .solve_triangular(
                                &at,
                                &bt.column(0).to_owned(),
                                uplo,
                                trans,
                                Diag::NonUnit,
                            )
                            .unwrap();
                        let err = rel_err(
                            &xv.view().insert_axis(ndarray::Axis(1)),
                            &r.slice(ndarray::s![.., 0..1]),
                        );
                        assert!(
                            err < tol::<T>(),
                            "vector rhs n={n} {engine} {threads}: {err:e}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn solve_triangular_subnormal_diagonal_f64() {
    // The case of the issue, exactly.
    for engine in ENGINES {
        for threads in [1, 2] {
            let x = Exec::new(engine, threads)
                .unwrap()
                .solve_triangular(
                    &ndarray::array![[2e-310f64]],
                    &ndarray::array![2e-310],
                    Uplo::Lower,
                    Trans::No,
                    Diag::NonUnit,
                )
                .unwrap();
            assert_eq!(x, ndarray::array![1.0], "{engine} {threads}");
        }
    }
    triangular_case::<f64>(11);
}

#[test]
fn solve_triangular_subnormal_diagonal_f32() {
    for engine in ENGINES {
        for threads in [1, 2] {
            let x = Exec::new(engine, threads)
                .unwrap()
                .solve_triangular(
                    &ndarray::array![[2e-40f32]],
                    &ndarray::array![2e-40f32],
                    Uplo::Upper,
                    Trans::Yes,
                    Diag::NonUnit,
                )
                .unwrap();
            assert_eq!(x, ndarray::array![1.0f32], "{engine} {threads}");
        }
    }
    triangular_case::<f32>(12);
}

/// A diagonally dominant general matrix: LU with partial pivoting keeps its pivots on the
/// diagonal, all subnormal after scaling.
fn dominant(rng: &mut rand_chacha::ChaCha8Rng, n: usize) -> Array2<f64> {
    let mut a = random(rng, n, n).mapv(|x| x / n as f64);
    for i in 0..n {
        a[[i, i]] = if i % 2 == 0 { 2.0 } else { -1.5 };
    }
    a
}

fn lu_case<T: Scalar>(seed: u64) {
    let mut rng = rng(seed);
    for &n in &SIZES {
        let a = dominant(&mut rng, n);
        let b = random(&mut rng, n, 2);
        let (at, bt, a64, b64) = scaled::<T>(&a, &b, subnormal_exp::<T>());
        let r = ref_solve_det(&a64.view(), &b64.view()).0.unwrap();
        // inv(A·s) = inv(A) / s: compare the unscaled inverse.
        let (ai, _, ai64, _) = scaled::<T>(&a, &b, inv_exp::<T>());
        let rinv = ref_solve_det(&ai64.view(), &eye(n).view()).0.unwrap();
        let unscale = inv_exp::<T>();
        for engine in ENGINES {
            for threads in [1, 2] {
                let ex = Exec::new(engine, threads).unwrap();
                let x = ex
                    .solve(&at, &bt)
                    .unwrap_or_else(|e| panic!("solve n={n} {engine} {threads}: {e}"));
                let err = rel_err(&x.view(), &r.view());
                assert!(err < tol::<T>(), "solve n={n} {engine} {threads}: {err:e}");
                let inv = ex
                    .inv(&ai)
                    .unwrap_or_else(|e| panic!("inv n={n} {engine} {threads}: {e}"));
                let inv64 = to64(&inv.view()).mapv(|v| times_pow2(v, unscale));
                let err = rel_err(&inv64.view(), &rinv.view());
                assert!(err < tol::<T>(), "inv n={n} {engine} {threads}: {err:e}");
            }
        }
        for strategy in Strategy::ALL {
            for threads in [1, 2] {
                let batch = Exec::new(Engine::Auto, threads).unwrap().batch(strategy);
                let xs = batch
                    .solve(&vec![at.clone(), at.clone()], &vec![bt.clone(), bt.clone()])
                    .unwrap_or_else(|e| panic!("batch::solve n={n} {strategy:?} {threads}: {e}"));
                for x in &xs {
                    let err = rel_err(&x.view(), &r.view());
                    assert!(
                        err < tol::<T>(),
                        "batch::solve n={n} {strategy:?} {threads}: {err:e}"
                    );
                }
                let invs = batch
                    .inv(&vec![ai.clone()])
                    .unwrap_or_else(|e| panic!("batch::inv n={n} {strategy:?} {threads}: {e}"));
                let inv64 = to64(&invs[0].view()).mapv(|v| times_pow2(v, unscale));
                let err = rel_err(&inv64.view(), &rinv.view());
                assert!(
                    err < tol::<T>(),
                    "batch::inv n={n} {strategy:?} {threads}: {err:e}"
                );
            }
        }
    }
}

#[test]
fn solve_and_inv_subnormal_pivots_f64() {
    lu_case::<f64>(21);
}

#[test]
fn solve_and_inv_subnormal_pivots_f32() {
    lu_case::<f32>(22);
}
