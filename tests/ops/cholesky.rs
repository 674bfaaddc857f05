//! Cholesky factorization `A = L Lᵀ`.
//!
//! Accuracy: LAPACK's `dpot01` ratio ‖L Lᵀ − A‖₁/(n ‖A‖₁ ε) < 30, computed in f64 with
//! compensated sums; structure: `L` lower with a positive diagonal and an exactly zero strict
//! upper triangle; only the lower triangle of `A` is read.

use crate::common;

use common::la::*;
use common::*;
use ndarray::Array2;
use parla::{Engine, Error, Exec, Scalar};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

const SIZES: [usize; 8] = [1, 2, 3, 7, 31, 64, 65, 100];
const THRESH: f64 = 30.0;

#[derive(Debug, Clone, Copy)]
enum Family {
    /// `B Bᵀ + n I`.
    Random,
    /// Eigenvalues geometric from 1 to √ε (cond ≈ 1/√ε of the element type).
    IllConditioned,
    /// `B Bᵀ + n I` times 1e300 (f64) or 1e30 (f32).
    Scaled,
}

const FAMILIES: [Family; 3] = [Family::Random, Family::IllConditioned, Family::Scaled];

fn spd_matrix<T: Scalar>(fam: Family, rng: &mut ChaCha8Rng, n: usize) -> Array2<T> {
    let a = match fam {
        Family::Random => spd(rng, n),
        Family::IllConditioned => symmetric_with_eigenvalues(rng, &geometric(n, eps::<T>().sqrt())),
        Family::Scaled => spd(rng, n) * if eps::<T>() < 1e-10 { 1e300 } else { 1e30 },
    };
    cast::<T>(&a)
}

/// Checks structure and residual of `L` for the (exactly symmetric) `a`.
fn check_factor<T: Scalar>(a: &Array2<T>, l: &Array2<T>, ctx: &str) {
    let n = a.nrows();
    assert_eq!(l.dim(), (n, n), "{ctx}: shape");
    let (a, l) = (to64(&a.view()), to64(&l.view()));
    for i in 0..n {
        assert!(l[[i, i]] > 0.0, "{ctx}: L[{i},{i}] = {}", l[[i, i]]);
        for j in i + 1..n {
            assert_eq!(l[[i, j]], 0.0, "{ctx}: L[{i},{j}] above the diagonal");
        }
    }
    let llt = ref_matmul(&l.view(), &l.t());
    let r = ratio(
        diff1(&llt.view(), &a.view()),
        n as f64 * norm1_nan(&a.view()) * eps::<T>(),
    );
    assert!(r < THRESH, "{ctx}: ‖LLᵀ − A‖₁/(n‖A‖₁ε) = {r}");
}

fn all_cases<T: Scalar>(seed: u64) {
    let mut rng = rng(seed);
    for fam in FAMILIES {
        for n in SIZES {
            let a = spd_matrix::<T>(fam, &mut rng, n);
            for layout in LAYOUTS {
                let ctx = format!("{} {fam:?} n={n} {layout:?}", std::any::type_name::<T>());
                let st = Stored::new(&a, layout, T::of(-9.0));
                let l = parla::cholesky(&st.view()).unwrap();
                check_factor(&a, &l, &ctx);
                assert!(st.guards_intact(), "{ctx}: guard");
            }
        }
    }
}

#[test]
fn cholesky_f64() {
    all_cases::<f64>(1);
}

#[test]
fn cholesky_f32() {
    all_cases::<f32>(2);
}

/// The strict upper triangle is never read: garbage (finite or not) there gives bit for bit
/// the same factor, in every layout.
fn upper_triangle_ignored<T: Scalar>(seed: u64) {
    let mut rng = rng(seed);
    let one = Exec::blas(1).unwrap();
    for n in [2, 3, 7, 31, 64, 65] {
        let a = spd_matrix::<T>(Family::Random, &mut rng, n);
        let mut garbage = a.clone();
        let mut nan = a.clone();
        for i in 0..n {
            for j in i + 1..n {
                garbage[[i, j]] = T::of(rng.gen_range(-1e3..1e3));
                nan[[i, j]] = if (i + j) % 2 == 0 {
                    T::nan()
                } else {
                    T::infinity()
                };
            }
        }
        for layout in LAYOUTS {
            let ctx = format!("{} n={n} {layout:?}", std::any::type_name::<T>());
            let clean = one
                .cholesky(&Stored::new(&a, layout, T::zero()).view())
                .unwrap();
            let g = one
                .cholesky(&Stored::new(&garbage, layout, T::zero()).view())
                .unwrap();
            assert_eq!(g, clean, "{ctx}: garbage above the diagonal changed L");
            let g = one
                .cholesky(&Stored::new(&nan, layout, T::zero()).view())
                .unwrap();
            assert_eq!(g, clean, "{ctx}: NaN/Inf above the diagonal changed L");
            check_factor(&a, &clean, &ctx);
        }
    }
}

#[test]
fn only_the_lower_triangle_is_read_f64() {
    upper_triangle_ignored::<f64>(3);
}

#[test]
fn only_the_lower_triangle_is_read_f32() {
    upper_triangle_ignored::<f32>(4);
}

#[test]
fn one_and_two_threads_agree() {
    let mut rng = rng(5);
    for n in [64, 100, 200] {
        let a = spd(&mut rng, n);
        let l1 = Exec::blas(1).unwrap().cholesky(&a).unwrap();
        let l2 = Exec::blas(2).unwrap().cholesky(&a).unwrap();
        check_factor(&a, &l1, &format!("1 thread n={n}"));
        check_factor(&a, &l2, &format!("2 threads n={n}"));
    }
}

/// `L D Lᵀ` with unit lower `L` and `D = diag(±1)`: the leading minor of order j + 1 is
/// `Π_{i ≤ j} D[i]`, so the first one that is not positive has order `k + 1` where `D[k] = −1`.
fn indefinite(rng: &mut ChaCha8Rng, n: usize, k: usize) -> Array2<f64> {
    let mut l = random(rng, n, n) / n as f64;
    for i in 0..n {
        l[[i, i]] = 1.0;
        for j in i + 1..n {
            l[[i, j]] = 0.0;
        }
    }
    let mut ld = l.clone();
    ld.column_mut(k).mapv_inplace(|x| -x);
    let mut a = ref_matmul(&ld.view(), &l.t());
    for i in 0..n {
        for j in 0..i {
            a[[j, i]] = a[[i, j]];
        }
    }
    a
}

fn not_positive_definite<T: Scalar>(seed: u64) {
    let mut rng = rng(seed);
    for n in [1, 2, 3, 7, 31, 64, 65, 100] {
        for k in [0, n / 2, n - 1] {
            let a = cast::<T>(&indefinite(&mut rng, n, k));
            for layout in LAYOUTS {
                let st = Stored::new(&a, layout, T::zero());
                assert_eq!(
                    parla::cholesky(&st.view()),
                    Err(Error::NotPositiveDefinite {
                        op: "cholesky",
                        index: k
                    }),
                    "{} n={n} k={k} {layout:?}",
                    std::any::type_name::<T>()
                );
            }
        }
    }
}

#[test]
fn not_positive_definite_names_the_failing_minor_f64() {
    not_positive_definite::<f64>(6);
}

#[test]
fn not_positive_definite_names_the_failing_minor_f32() {
    not_positive_definite::<f32>(7);
}

#[test]
fn not_positive_definite_small_cases() {
    let npd = |index| {
        Err::<Array2<f64>, _>(Error::NotPositiveDefinite {
            op: "cholesky",
            index,
        })
    };
    let d = Array2::from_diag(&ndarray::array![1.0, 1.0, -1.0, 1.0]);
    assert_eq!(parla::cholesky(&d), npd(2));
    // A zero pivot is not positive either.
    let d = Array2::from_diag(&ndarray::array![2.0, 3.0, 1.0, 0.0, 5.0]);
    assert_eq!(parla::cholesky(&d), npd(3));
    assert_eq!(parla::cholesky(&ndarray::array![[-1.0]]), npd(0));
    assert_eq!(parla::cholesky(&ndarray::array![[0.0]]), npd(0));
    // det of the leading 2×2 minor is 1 − 4 < 0.
    assert_eq!(
        parla::cholesky(&ndarray::array![[1.0, 2.0], [2.0, 1.0]]),
        npd(1)
    );
    // The upper triangle is not read: this "matrix" is diag(1, 1) as far as potrf sees.
    assert_eq!(
        parla::cholesky(&ndarray::array![[1.0, 5.0], [0.0, 1.0]]).unwrap(),
        Array2::<f64>::eye(2)
    );
    // f32.
    let d = Array2::from_diag(&ndarray::array![1.0f32, -1.0]);
    assert!(matches!(
        parla::cholesky(&d),
        Err(Error::NotPositiveDefinite { index: 1, .. })
    ));
}

#[test]
fn empty_and_trivial() {
    assert_eq!(
        parla::cholesky(&Array2::<f64>::zeros((0, 0)))
            .unwrap()
            .dim(),
        (0, 0)
    );
    assert_eq!(
        parla::cholesky(&Array2::<f32>::zeros((0, 0)))
            .unwrap()
            .dim(),
        (0, 0)
    );
    assert_eq!(
        parla::cholesky(&ndarray::array![[4.0]]).unwrap(),
        ndarray::array![[2.0]]
    );
}

#[test]
fn errors() {
    // Not square.
    assert_eq!(
        parla::cholesky(&Array2::<f64>::eye(3).slice(ndarray::s![.., ..2])),
        Err(Error::NotSquare {
            op: "cholesky",
            rows: 3,
            cols: 2
        })
    );
    // Non-finite in the lower triangle (including the diagonal): the first one in row-major
    // order of that triangle is named.
    for layout in LAYOUTS {
        let mut a = Array2::<f64>::eye(4);
        a[[3, 0]] = f64::NAN;
        a[[2, 2]] = f64::INFINITY;
        a[[0, 3]] = f64::NAN; // upper: not read
        let st = Stored::new(&a, layout, 0.0);
        assert_eq!(
            parla::cholesky(&st.view()),
            Err(Error::NonFinite {
                op: "cholesky",
                index: vec![2, 2],
                value: "inf".into()
            }),
            "{layout:?}"
        );
    }
    // Too large: a zero-stride view, rejected before any allocation.
    let n = i32::MAX as usize + 1;
    let z = Array2::<f64>::zeros((1, 1));
    assert_eq!(
        parla::cholesky(&z.broadcast((n, n)).unwrap()),
        Err(Error::TooLarge {
            op: "cholesky",
            what: "rows",
            value: n,
            max: i32::MAX as usize
        })
    );
    for engine in [Engine::Rayon, Engine::RayonBlas] {
        let e = Exec::new(engine, 1).unwrap();
        assert_eq!(
            e.cholesky(&Array2::<f64>::zeros((0, 0))).unwrap().dim(),
            (0, 0)
        );
    }
}

/// The first NaN / ±Inf of the lower triangle (row-major order), found by a plain loop.
fn first_non_finite<T: Scalar>(a: &Array2<T>) -> Option<(Vec<usize>, String)> {
    let a64 = to64(&a.view());
    (0..a.nrows())
        .flat_map(|i| (0..=i).map(move |j| (i, j)))
        .find(|&(i, j)| !a64[[i, j]].is_finite())
        .map(|(i, j)| (vec![i, j], format!("{}", a[[i, j]])))
}

/// Real input is checked for NaN / ±Inf after the factorization, only when it fails or leaves a
/// non-finite diagonal (the check is deferred). Every engine and path must still report the
/// first non-finite entry of the lower triangle: off the diagonal (the factorization fails at
/// that row's pivot), a lone `+∞` on the diagonal (the factorization succeeds with `lⱼⱼ = ∞`),
/// `−∞` or NaN there, next to an earlier genuinely failing pivot, and orders that reach the
/// recursive, packed and look-ahead paths.
fn non_finite_found_after_the_factorization<T: Scalar>() {
    let mut rng = rng(41);
    let values = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY];
    for n in [1, 2, 5, 40, 130, 400] {
        let base = spd(&mut rng, n);
        let mut cases: Vec<Array2<f64>> = Vec::new();
        for (k, &v) in values.iter().enumerate() {
            for (i, j) in [
                (0, 0),
                (n - 1, n - 1),
                (n - 1, 0),
                (n / 2, n / 3),
                (n / 3, n / 3),
            ] {
                let mut a = base.clone();
                if n > 1 {
                    // The upper triangle is never read, and never reported.
                    a[[0, n - 1]] = f64::NAN;
                }
                if k == 0 && n > 2 {
                    // An earlier pivot that fails anyway: the non-finite entry still wins.
                    a[[1, 1]] = -1.0;
                }
                a[[i, j]] = v;
                cases.push(a);
            }
        }
        for a in &cases {
            let a = cast::<T>(a);
            let (index, value) = first_non_finite(&a).expect("a case holds a NaN or ±Inf");
            for engine in [Engine::Blas, Engine::RayonBlas, Engine::Rayon] {
                for threads in [1, 2] {
                    let e = Exec::new(engine, threads).unwrap();
                    let ctx = format!(
                        "{} n={n} {engine:?} {threads}t at {index:?} = {value}",
                        std::any::type_name::<T>()
                    );
                    let want = Error::NonFinite {
                        op: "cholesky",
                        index: index.clone(),
                        value: value.clone(),
                    };
                    assert_eq!(e.cholesky(&a).map(drop), Err(want), "{ctx}");
                    let err = e.cho_factor(&a).map(drop).unwrap_err();
                    assert!(
                        matches!(&err, Error::NonFinite { index: i, .. } if *i == index),
                        "{ctx}: cho_factor {err:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn non_finite_found_after_the_factorization_f64() {
    non_finite_found_after_the_factorization::<f64>();
}

#[test]
fn non_finite_found_after_the_factorization_f32() {
    non_finite_found_after_the_factorization::<f32>();
}

#[test]
fn rayon_engines_all_cases_at_1_2_3_threads() {
    // Every family × size × layout and the not-positive-definite cases through the free
    // function, with each rayon engine as the scoped default.
    on_rayon_engines(parla::Op::Cholesky, |_engine, t| {
        all_cases::<f64>(20 + t as u64);
        all_cases::<f32>(30 + t as u64);
        not_positive_definite::<f64>(40 + t as u64);
        not_positive_definite_small_cases();
    });
}

#[test]
fn rayon_engines_large_orders() {
    // Past the recursion base (48) and the parallel threshold (192): several recursion levels,
    // each family, a failing minor deep inside, bit-identical run to run.
    let mut rng = rng(70);
    for n in [97, 250, 401] {
        for fam in FAMILIES {
            let a = spd_matrix::<f64>(fam, &mut rng, n);
            for engine in [Engine::RayonBlas, Engine::Rayon] {
                for t in [1, 2, 3] {
                    let exec = Exec::new(engine, t).unwrap();
                    let ctx = format!("{engine} t={t} n={n} {fam:?}");
                    let l = exec.cholesky(&a).unwrap();
                    check_factor(&a, &l, &ctx);
                    assert_eq!(exec.cholesky(&a).unwrap(), l, "{ctx}: not bit-identical");
                    let lf = exec.cholesky(&common::fortran(&a)).unwrap();
                    check_factor(&a, &lf, &ctx);
                }
            }
        }
        let k = n * 3 / 4;
        let bad = indefinite(&mut rng, n, k);
        for engine in [Engine::RayonBlas, Engine::Rayon] {
            assert_eq!(
                Exec::new(engine, 2).unwrap().cholesky(&bad),
                Err(Error::NotPositiveDefinite {
                    op: "cholesky",
                    index: k
                }),
                "{engine} n={n}"
            );
        }
    }
}
