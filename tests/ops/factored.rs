//! Factor once, solve many: `lu_factor` / `LuFactor`, `cho_factor` / `CholeskyFactor`,
//! `qr_factor` / `QrFactor`, on every engine, against the one-shot operations (`solve`, `det`,
//! `slogdet`, `inv`, `lstsq`) on the same engine and against backward-error ratios.

use crate::common;

use common::la::*;
use common::*;
use ndarray::{Array1, Array2};
use parla::{Engine, Error, Exec, Op};

const THRESH: f64 = 30.0;

/// `‖x − y‖₁ / ‖y‖₁`.
fn rel(x: &Array2<f64>, y: &Array2<f64>) -> f64 {
    ratio(diff1(&x.view(), &y.view()), norm1_nan(&y.view()))
}

/// Checks every LU factor operation against the one-shot operations of `exec`.
fn check_lu(exec: &Exec, ctx: &str) {
    let mut rng = rng(11);
    for n in [1, 2, 7, 33, 70, 130] {
        let a = random(&mut rng, n, n);
        let f = exec.lu_factor(&a).unwrap();
        assert_eq!(f.n(), n);
        assert_eq!(
            f.engine(),
            exec.plan(Op::LuFactor, parla::Dtype::F64, parla::Shape::Square(n))
                .unwrap()
                .engine,
            "{ctx}"
        );
        assert!(!f.is_singular());
        // Many solves from one factor, each against a fresh one-shot solve.
        for k in [1, 3, 40] {
            let b = random(&mut rng, n, k);
            let x = f.solve(&b).unwrap();
            let want = exec.solve(&a, &b).unwrap();
            let r = solve_ratio(&a.view(), &x.view(), &b.view(), f64::EPSILON);
            assert!(r < THRESH, "{ctx} n={n} k={k}: backward error ratio {r}");
            let cond = exec.cond(&a).unwrap();
            assert!(
                rel(&x, &want) < THRESH * n as f64 * f64::EPSILON * cond,
                "{ctx} n={n}: factor solve vs solve {}",
                rel(&x, &want)
            );
            // Aᵀ x = b from the same factor.
            let xt = f.solve_transpose(&b).unwrap();
            let at = a.t().to_owned();
            let r = solve_ratio(&at.view(), &xt.view(), &b.view(), f64::EPSILON);
            assert!(
                r < THRESH,
                "{ctx} n={n} k={k}: transposed backward error ratio {r}"
            );
            let want_t = exec.solve(&at, &b).unwrap();
            assert!(
                rel(&xt, &want_t) < THRESH * n as f64 * f64::EPSILON * cond,
                "{ctx} n={n}"
            );
        }
        // A vector right-hand side gives a vector.
        let b = random_vec(&mut rng, n);
        let x: Array1<f64> = f.solve(&b).unwrap();
        let want = exec.solve(&a, &b).unwrap();
        assert_eq!(x.len(), n);
        let d = (&x - &want).iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(
            d <= 1e-8 * want.iter().fold(1.0f64, |m, v| m.max(v.abs())),
            "{ctx} n={n}: {d}"
        );
        // det, slogdet, inv.
        let det = exec.det(&a).unwrap();
        assert!(
            (f.det() - det).abs() <= 1e-12 * det.abs(),
            "{ctx} n={n}: det {} vs {det}",
            f.det()
        );
        let (s1, l1) = f.slogdet();
        let (s2, l2) = exec.slogdet(&a).unwrap();
        assert_eq!(s1, s2, "{ctx} n={n}");
        assert!((l1 - l2).abs() <= 1e-12 * l2.abs().max(1.0), "{ctx} n={n}");
        let inv = f.inv().unwrap();
        let r = ref_matmul(&a.view(), &inv.view()) - eye(n);
        assert!(
            norm1_nan(&r.view()) < THRESH * n as f64 * f64::EPSILON * exec.cond(&a).unwrap(),
            "{ctx} n={n}: ‖A·inv − I‖₁ = {}",
            norm1_nan(&r.view())
        );
    }
}

#[test]
fn lu_factor_matches_repeated_solve_on_blas() {
    for t in [1, 2] {
        check_lu(&Exec::blas(t).unwrap(), &format!("blas {t}"));
    }
}

#[test]
fn lu_factor_matches_repeated_solve_on_rayon_engines() {
    on_rayon_engines(Op::LuFactor, |engine, t| {
        let exec = Exec::current().unwrap();
        check_lu(&exec, &format!("{engine} {t}"));
        // Small recursion blocks: the recursive factor and triangular solves, not only base blocks.
        let small = parla::tuning::FactorBlocks {
            cholesky: 4,
            syrk: 8,
            lu: 4,
            qr: 4,
            trsm: 4,
        };
        check_lu(
            &exec.with_factor_blocks(small).unwrap(),
            &format!("{engine} {t} small blocks"),
        );
    });
}

#[test]
fn the_factor_keeps_its_engine_and_threads() {
    let a = ndarray::array![[4.0f64, 1.0], [2.0, 3.0]];
    for engine in [Engine::Blas, Engine::RayonBlas, Engine::Rayon] {
        let exec = Exec::new(engine, 2).unwrap();
        let lu = exec.lu_factor(&a).unwrap();
        let ch = exec.cho_factor(&a).unwrap();
        let qr = exec.qr_factor(&a).unwrap();
        for (e, t) in [
            (lu.engine(), lu.threads()),
            (ch.engine(), ch.threads()),
            (qr.engine(), qr.threads()),
        ] {
            assert_eq!((e, t), (engine, 2));
        }
        // A solve made under another default still runs where the factor was made, and agrees.
        let x = parla::with_backend(Engine::Blas, || lu.solve(&ndarray::array![5.0, 5.0])).unwrap();
        assert!(
            (x - ndarray::array![1.0, 1.0])
                .iter()
                .all(|d| d.abs() < 1e-14),
            "{engine}"
        );
    }
    // `auto` is resolved at factorization time to a concrete engine.
    let f = Exec::new(Engine::Auto, 1).unwrap().lu_factor(&a).unwrap();
    assert_ne!(f.engine(), Engine::Auto);
}

#[test]
fn singular_factor_errors_at_solve_and_inv() {
    let a = ndarray::array![[1.0f64, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]];
    for engine in [Engine::Blas, Engine::RayonBlas, Engine::Rayon] {
        let f = Exec::new(engine, 1).unwrap().lu_factor(&a).unwrap();
        assert!(f.is_singular(), "{engine}");
        assert_eq!(f.det(), 0.0);
        assert_eq!(f.slogdet(), (0.0, f64::NEG_INFINITY));
        let b = Array1::<f64>::ones(3);
        assert!(
            matches!(f.solve(&b), Err(Error::Singular { op: "lu_solve", .. })),
            "{engine}"
        );
        assert!(matches!(
            f.solve_transpose(&b),
            Err(Error::Singular { op: "lu_solve", .. })
        ));
        assert!(
            matches!(f.inv(), Err(Error::Singular { op: "inv", .. })),
            "{engine}"
        );
    }
}

#[test]
fn bad_input_is_a_typed_error() {
    let a = ndarray::array![[2.0f64, 1.0], [1.0, 3.0]];
    for engine in [Engine::Blas, Engine::Rayon] {
        let e = Exec::new(engine, 1).unwrap();
        assert!(matches!(
            e.lu_factor(&Array2::<f64>::zeros((2, 3))),
            Err(Error::NotSquare {
                op: "lu_factor",
                ..
            })
        ));
        assert!(matches!(
            e.cho_factor(&Array2::<f64>::zeros((3, 2))),
            Err(Error::NotSquare {
                op: "cho_factor",
                ..
            })
        ));
        let mut nan = a.clone();
        nan[[1, 0]] = f64::NAN;
        assert!(matches!(
            e.lu_factor(&nan),
            Err(Error::NonFinite {
                op: "lu_factor",
                ..
            })
        ));
        assert!(matches!(
            e.cho_factor(&nan),
            Err(Error::NonFinite {
                op: "cho_factor",
                ..
            })
        ));
        assert!(matches!(
            e.qr_factor(&nan),
            Err(Error::NonFinite {
                op: "qr_factor",
                ..
            })
        ));
        let indefinite = ndarray::array![[1.0f64, 2.0], [2.0, 1.0]];
        assert!(matches!(
            e.cho_factor(&indefinite),
            Err(Error::NotPositiveDefinite {
                op: "cho_factor",
                index: 1
            })
        ));
        let (lu, ch, qr) = (
            e.lu_factor(&a).unwrap(),
            e.cho_factor(&a).unwrap(),
            e.qr_factor(&a).unwrap(),
        );
        let b3 = Array1::<f64>::ones(3);
        assert!(matches!(
            lu.solve(&b3),
            Err(Error::ShapeMismatch { op: "lu_solve", .. })
        ));
        assert!(matches!(
            ch.solve(&b3),
            Err(Error::ShapeMismatch {
                op: "cho_solve",
                ..
            })
        ));
        assert!(matches!(
            qr.solve_lstsq(&b3),
            Err(Error::ShapeMismatch { op: "qr_lstsq", .. })
        ));
        let bnan = ndarray::array![1.0, f64::INFINITY];
        assert!(matches!(
            lu.solve(&bnan),
            Err(Error::NonFinite { op: "lu_solve", .. })
        ));
        assert!(matches!(
            ch.solve(&bnan),
            Err(Error::NonFinite {
                op: "cho_solve",
                ..
            })
        ));
        assert!(matches!(
            qr.solve_lstsq(&bnan),
            Err(Error::NonFinite { op: "qr_lstsq", .. })
        ));
        // Wide: QR least squares needs m >= n.
        let wide = e.qr_factor(&ndarray::array![[1.0f64, 2.0, 3.0]]).unwrap();
        assert!(matches!(
            wide.solve_lstsq(&ndarray::array![1.0]),
            Err(Error::InvalidArgument { op: "qr_lstsq", .. })
        ));
        // Rank-deficient: a zero column gives a zero diagonal entry of R.
        let deficient = ndarray::array![[1.0f64, 0.0], [1.0, 0.0], [0.0, 0.0]];
        let f = e.qr_factor(&deficient).unwrap();
        assert!(
            matches!(
                f.solve_lstsq(&ndarray::array![1.0, 1.0, 1.0]),
                Err(Error::Singular {
                    op: "qr_lstsq",
                    pivot: 1
                })
            ),
            "{engine}"
        );
    }
}

#[test]
fn empty_factors() {
    for engine in [Engine::Blas, Engine::Rayon] {
        let e = Exec::new(engine, 1).unwrap();
        let f = e.lu_factor(&Array2::<f64>::zeros((0, 0))).unwrap();
        assert_eq!(f.det(), 1.0);
        assert_eq!(
            f.solve(&Array2::<f64>::zeros((0, 2))).unwrap().dim(),
            (0, 2)
        );
        assert_eq!(f.inv().unwrap().dim(), (0, 0));
        let c = e.cho_factor(&Array2::<f64>::zeros((0, 0))).unwrap();
        assert_eq!(c.logdet(), 0.0);
        assert_eq!(c.solve(&Array1::<f64>::zeros(0)).unwrap().len(), 0);
        let q = e.qr_factor(&Array2::<f64>::zeros((3, 0))).unwrap();
        assert_eq!(q.solve_lstsq(&Array1::<f64>::ones(3)).unwrap().len(), 0);
    }
}

/// A subnormal pivot: OpenBLAS's `getrs` and `trsm` multiply by its (overflowing) reciprocal;
/// the factor's solves must divide, as `solve` does.
#[test]
fn subnormal_pivot_solves_exactly() {
    let a = ndarray::array![[1e-310f64, 1.0], [0.0, 2.0]];
    for engine in [Engine::Blas, Engine::RayonBlas, Engine::Rayon] {
        let f = Exec::new(engine, 1).unwrap().lu_factor(&a).unwrap();
        let x = f.solve(&ndarray::array![1e-310, 0.0]).unwrap();
        assert_eq!(x, ndarray::array![1.0, 0.0], "{engine}");
        let xt = f.solve_transpose(&ndarray::array![1e-310, 1.0]).unwrap();
        assert_eq!(xt, ndarray::array![1.0, 0.0], "{engine}: transposed");
    }
}

/// Rows scaled near the top of the range: the factor is of `D·A` (exact power-of-two row
/// equilibration); solves, transposed solves, `det` and `inv` undo `D`.
#[test]
fn equilibrated_factor_undoes_the_scaling() {
    let mut rng = rng(12);
    let n = 40;
    let base = random(&mut rng, n, n);
    let a = &base * 1e300;
    let b = random(&mut rng, n, 2);
    for engine in [Engine::Blas, Engine::RayonBlas, Engine::Rayon] {
        let e = Exec::new(engine, 2).unwrap();
        let f = e.lu_factor(&a).unwrap();
        let x = f.solve(&b).unwrap();
        assert!(x.iter().all(|v| v.is_finite()), "{engine}");
        let want = e.solve(&a, &b).unwrap();
        assert!(rel(&x, &want) < 1e-8, "{engine}: {}", rel(&x, &want));
        let xt = f.solve_transpose(&b).unwrap();
        let want_t = e.solve(&a.t(), &b).unwrap();
        assert!(
            rel(&xt, &want_t) < 1e-8,
            "{engine}: transposed {}",
            rel(&xt, &want_t)
        );
        // `slogdet` of a row-major matrix factors Aᵀ (same determinant, other rounding): the
        // same sign, and log|det| within a few n·ε of it (an undone D would be off by
        // hundreds).
        let ((s1, l1), (s2, l2)) = (f.slogdet(), e.slogdet(&a).unwrap());
        assert_eq!(s1, s2, "{engine}");
        assert!(
            (l1 - l2).abs() <= 4.0 * n as f64 * f64::EPSILON * l2.abs(),
            "{engine}: {l1} {l2}"
        );
        let inv = f.inv().unwrap();
        assert!(rel(&inv, &e.inv(&a).unwrap()) < 1e-8, "{engine}");
    }
}

fn check_cholesky(exec: &Exec, ctx: &str) {
    let mut rng = rng(13);
    for n in [1, 5, 33, 100] {
        let a = spd(&mut rng, n);
        let f = exec.cho_factor(&a).unwrap();
        assert_eq!(f.l(), exec.cholesky(&a).unwrap(), "{ctx} n={n}");
        for k in [1, 4] {
            let b = random(&mut rng, n, k);
            let x = f.solve(&b).unwrap();
            let r = solve_ratio(&a.view(), &x.view(), &b.view(), f64::EPSILON);
            assert!(r < THRESH, "{ctx} n={n}: backward error ratio {r}");
            let want = exec.solve(&a, &b).unwrap();
            assert!(
                rel(&x, &want) < 1e3 * n as f64 * f64::EPSILON,
                "{ctx} n={n}"
            );
        }
        let inv = f.inv().unwrap();
        assert_eq!(inv, inv.t(), "{ctx}: inverse exactly symmetric");
        assert!(
            rel(&inv, &exec.inv(&a).unwrap()) < 1e3 * n as f64 * f64::EPSILON,
            "{ctx} n={n}"
        );
        let (sign, logdet) = exec.slogdet(&a).unwrap();
        assert_eq!(sign, 1.0);
        assert!(
            (f.logdet() - logdet).abs() <= 1e-12 * logdet.abs().max(1.0),
            "{ctx} n={n}"
        );
    }
}

#[test]
fn cho_factor_matches_solve_on_every_engine() {
    for t in [1, 2] {
        check_cholesky(&Exec::blas(t).unwrap(), &format!("blas {t}"));
    }
    on_rayon_engines(Op::ChoFactor, |engine, t| {
        check_cholesky(&Exec::current().unwrap(), &format!("{engine} {t}"));
    });
}

fn check_qr(exec: &Exec, ctx: &str) {
    let mut rng = rng(14);
    for (m, n) in [(1, 1), (5, 3), (40, 40), (120, 37), (200, 70)] {
        let a = random(&mut rng, m, n);
        let f = exec.qr_factor(&a).unwrap();
        assert_eq!(f.dim(), (m, n));
        // R agrees with qr's up to the signs of its rows.
        let r = f.r().unwrap();
        let want_r = exec.qr(&a, parla::QrMode::Reduced).unwrap().r;
        for i in 0..m.min(n) {
            let sgn = if r[[i, i]] * want_r[[i, i]] < 0.0 {
                -1.0
            } else {
                1.0
            };
            let d = (&r.row(i) * sgn - want_r.row(i))
                .iter()
                .fold(0.0f64, |x, v| x.max(v.abs()));
            assert!(d < 1e-10 * (m as f64), "{ctx} {m}x{n}: row {i} of R");
        }
        let b = random(&mut rng, m, 3);
        let x = f.solve_lstsq(&b).unwrap();
        let want = exec.lstsq(&a, &b, None).unwrap().solution;
        let cond = exec.cond(&a).unwrap();
        assert!(
            rel(&x, &want) < THRESH * m as f64 * f64::EPSILON * cond * cond,
            "{ctx} {m}x{n}: {}",
            rel(&x, &want)
        );
        let bv = b.column(0).to_owned();
        let xv = f.solve_lstsq(&bv).unwrap();
        assert_eq!(xv.len(), n);
        let d = (&xv - &x.column(0))
            .iter()
            .fold(0.0f64, |s, v| s.max(v.abs()));
        assert!(d < 1e-10, "{ctx} {m}x{n}: vector vs matrix rhs {d}");
    }
}

#[test]
fn qr_factor_matches_lstsq_on_every_engine() {
    for t in [1, 2] {
        check_qr(&Exec::blas(t).unwrap(), &format!("blas {t}"));
    }
    on_rayon_engines(Op::QrFactor, |engine, t| {
        let exec = Exec::current().unwrap();
        check_qr(&exec, &format!("{engine} {t}"));
        let small = parla::tuning::FactorBlocks {
            cholesky: 4,
            syrk: 8,
            lu: 4,
            qr: 4,
            trsm: 4,
        };
        check_qr(
            &exec.with_factor_blocks(small).unwrap(),
            &format!("{engine} {t} small"),
        );
    });
}

/// Solves from inside rayon workers (one thread each, as every nested call) agree with the
/// solves from outside.
#[test]
fn solves_from_parallel_workers() {
    let mut rng = rng(15);
    let a = random(&mut rng, 60, 60);
    for engine in [Engine::Blas, Engine::Rayon] {
        let f = Exec::new(engine, 2).unwrap().lu_factor(&a).unwrap();
        let bs: Vec<Array2<f64>> = (0..6).map(|_| random(&mut rng, 60, 2)).collect();
        let outside: Vec<_> = bs.iter().map(|b| f.solve(b).unwrap()).collect();
        let inside = parla::Parallel::new(2)
            .unwrap()
            .try_map(&bs, |b| f.solve(b))
            .unwrap();
        for (x, y) in outside.iter().zip(&inside) {
            assert!(rel(x, y) < 1e-12, "{engine}");
        }
    }
}
