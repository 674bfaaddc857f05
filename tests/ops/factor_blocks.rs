//! Forced tiny recursion bases and panel widths (`Exec::with_factor_blocks`): the recursive and
//! blocked paths of `factor/` run on small matrices, on both rayon engines at 1–3 threads, and
//! must agree with slow references within n·ε bounds.

use crate::common;

use common::la::*;
use common::*;
use ndarray::Array2;
use parla::tuning::FactorBlocks;
use parla::{Diag, Engine, Error, Exec, QrMode, Trans, Uplo};

const TINY: FactorBlocks = FactorBlocks {
    cholesky: 2,
    syrk: 3,
    lu: 2,
    qr: 2,
    trsm: 2,
};

fn execs() -> Vec<Exec> {
    let mut v = Vec::new();
    for engine in [Engine::RayonBlas, Engine::Rayon] {
        for t in 1..=3 {
            v.push(
                Exec::new(engine, t)
                    .unwrap()
                    .with_factor_blocks(TINY)
                    .unwrap(),
            );
        }
    }
    v
}

const SIZES: [usize; 10] = [1, 2, 3, 4, 5, 7, 8, 13, 17, 33];

#[test]
fn tiny_blocks_are_validated_and_reported() {
    let exec = Exec::new(Engine::Rayon, 2).unwrap();
    assert_eq!(exec.factor_blocks(), FactorBlocks::default());
    assert_eq!(exec.with_factor_blocks(TINY).unwrap().factor_blocks(), TINY);
    for bad in [
        FactorBlocks { lu: 0, ..TINY },
        FactorBlocks { qr: 0, ..TINY },
        FactorBlocks {
            cholesky: usize::MAX,
            ..TINY
        },
    ] {
        assert!(matches!(
            exec.with_factor_blocks(bad),
            Err(Error::InvalidArgument {
                op: "Exec::with_factor_blocks",
                ..
            })
        ));
    }
}

#[test]
fn cholesky_lu_solve_with_tiny_blocks() {
    let mut rng = rng(71);
    for exec in execs() {
        for n in SIZES {
            let what = format!("{} t={} n={n}", exec.engine(), exec.threads());
            let eps = n as f64 * f64::EPSILON;
            // Cholesky: ‖L·Lᵀ − A‖ ≤ c·n·ε‖A‖.
            let a = spd(&mut rng, n);
            let l = exec.cholesky(&a).unwrap();
            let back = ref_matmul(&l.view(), &l.t());
            assert!(
                fro(&(&back - &a).view()) <= 50.0 * eps * fro(&a.view()),
                "{what}"
            );
            // LU: P·L·U = A.
            let g = random(&mut rng, n, n) + Array2::<f64>::eye(n) * 2.0;
            let f = exec.lu(&g).unwrap();
            let plu = ref_matmul(&ref_matmul(&f.p.view(), &f.l.view()).view(), &f.u.view());
            assert!(
                fro(&(&plu - &g).view()) <= 50.0 * eps * fro(&g.view()),
                "{what}"
            );
            // solve: small backward error.
            let b = random(&mut rng, n, 3);
            let x = exec.solve(&g, &b).unwrap();
            let r = ref_matmul(&g.view(), &x.view()) - &b;
            let scale = fro(&g.view()) * fro(&x.view()) + fro(&b.view());
            assert!(fro(&r.view()) <= 50.0 * eps * scale, "{what}");
        }
    }
}

#[test]
fn qr_and_triangular_with_tiny_blocks() {
    let mut rng = rng(72);
    for exec in execs() {
        for n in SIZES {
            let what = format!("{} t={} n={n}", exec.engine(), exec.threads());
            let eps = n as f64 * f64::EPSILON;
            let a = random(&mut rng, n + 3, n);
            let f = exec.qr(&a, QrMode::Reduced).unwrap();
            let back = ref_matmul(&f.q.view(), &f.r.view());
            assert!(
                fro(&(&back - &a).view()) <= 50.0 * eps * fro(&a.view()),
                "{what}"
            );
            assert!(orth_defect(&f.q.view()) <= 50.0 * eps, "{what}");
            // Triangular solves, lower and upper, transposed or not.
            let t = random(&mut rng, n, n) + Array2::<f64>::eye(n) * 4.0;
            let b = random(&mut rng, n, 5);
            for (uplo, tri) in [(Uplo::Lower, lower(&t)), (Uplo::Upper, upper(&t))] {
                for trans in [Trans::No, Trans::Yes] {
                    let x = exec
                        .solve_triangular(&t, &b, uplo, trans, Diag::NonUnit)
                        .unwrap();
                    let op = match trans {
                        Trans::No => tri.clone(),
                        Trans::Yes | Trans::Conj => tri.t().to_owned(),
                    };
                    let r = ref_matmul(&op.view(), &x.view()) - &b;
                    let scale = fro(&op.view()) * fro(&x.view()) + fro(&b.view());
                    assert!(
                        fro(&r.view()) <= 50.0 * eps * scale,
                        "{what} {uplo:?} {trans:?}"
                    );
                }
            }
        }
    }
}

fn lower(a: &Array2<f64>) -> Array2<f64> {
    Array2::from_shape_fn(a.dim(), |(i, j)| if j <= i { a[(i, j)] } else { 0.0 })
}

fn upper(a: &Array2<f64>) -> Array2<f64> {
    Array2::from_shape_fn(a.dim(), |(i, j)| if j >= i { a[(i, j)] } else { 0.0 })
}

/// Look-ahead steps are `4 × lu` columns for LU and `4 × cholesky` for Cholesky (8 with
/// [`TINY`], 12 with `lu = cholesky = 3`): orders just below, at and past step boundaries,
/// tall and wide shapes.
const STEP_SHAPES: [(usize, usize); 12] = [
    (8, 8),
    (9, 9),
    (12, 12),
    (13, 13),
    (16, 16),
    (17, 17),
    (24, 24),
    (25, 25),
    (41, 41),
    (40, 17),
    (17, 40),
    (26, 9),
];

/// [`execs`] with `lu = cholesky = 3` as well as [`TINY`].
fn step_execs() -> Vec<Exec> {
    let mut v = execs();
    for engine in [Engine::RayonBlas, Engine::Rayon] {
        for t in 1..=3 {
            let b = FactorBlocks {
                lu: 3,
                cholesky: 3,
                ..TINY
            };
            v.push(Exec::new(engine, t).unwrap().with_factor_blocks(b).unwrap());
        }
    }
    v
}

#[test]
fn look_ahead_lu_matches_lapack_pivots_across_steps() {
    // Rows scaled by (1 + i)²: each column's largest entry sits low, so most interchanges
    // bring a row up across several steps; the L of every earlier step must get them too.
    let mut rng = rng(73);
    let blas = Exec::blas(1).unwrap();
    for exec in step_execs() {
        for (m, n) in STEP_SHAPES {
            let what = format!(
                "{} t={} {:?} {m}x{n}",
                exec.engine(),
                exec.threads(),
                exec.factor_blocks()
            );
            let mut a = random(&mut rng, m, n);
            for (i, mut row) in a.rows_mut().into_iter().enumerate() {
                row *= ((1 + i) * (1 + i)) as f64;
            }
            let f = exec.lu(&a).unwrap();
            let plu = ref_matmul(&ref_matmul(&f.p.view(), &f.l.view()).view(), &f.u.view());
            let eps = m.max(n) as f64 * f64::EPSILON;
            assert!(
                fro(&(&plu - &a).view()) <= 50.0 * eps * fro(&a.view()),
                "{what}"
            );
            assert!(f.l.iter().all(|v| v.abs() <= 1.0), "{what}: |L| > 1");
            assert_eq!(
                f.p,
                blas.lu(&a).unwrap().p,
                "{what}: pivots differ from LAPACK"
            );
        }
    }
}

#[test]
fn look_ahead_lu_reports_the_first_zero_pivot() {
    // Zero columns: the elimination leaves them zero, so pivot z is exactly zero (LAPACK's
    // info = z + 1), before, at and after step boundaries; with two, the first is reported.
    let mut rng = rng(74);
    let n = 30;
    for exec in step_execs() {
        for zeros in [
            vec![0],
            vec![7],
            vec![8],
            vec![9],
            vec![11, 12],
            vec![16, 3],
            vec![24, 25],
            vec![29],
        ] {
            let mut a = random(&mut rng, n, n);
            for &z in &zeros {
                a.column_mut(z).fill(0.0);
            }
            let first = *zeros.iter().min().unwrap();
            let what = format!(
                "{} t={} {:?} zero columns {zeros:?}",
                exec.engine(),
                exec.threads(),
                exec.factor_blocks()
            );
            assert_eq!(
                exec.solve(&a, &Array2::<f64>::ones((n, 2))),
                Err(Error::Singular {
                    op: "solve",
                    pivot: first
                }),
                "{what}"
            );
        }
    }
}

#[test]
fn look_ahead_cholesky_across_steps_and_layouts() {
    let mut rng = rng(75);
    for exec in step_execs() {
        for (n, _) in STEP_SHAPES.into_iter().filter(|(m, n)| m == n) {
            let what = format!(
                "{} t={} {:?} n={n}",
                exec.engine(),
                exec.threads(),
                exec.factor_blocks()
            );
            let a = spd(&mut rng, n);
            let eps = n as f64 * f64::EPSILON;
            // Row-major and column-major input (the factor keeps the input's layout).
            for (layout, l) in [
                ("c", exec.cholesky(&a).unwrap()),
                ("f", exec.cholesky(&fortran(&a)).unwrap()),
            ] {
                let back = ref_matmul(&l.view(), &l.t());
                assert!(
                    fro(&(&back - &a).view()) <= 50.0 * eps * fro(&a.view()),
                    "{what} {layout}"
                );
                assert!(
                    l.indexed_iter().all(|((i, j), &v)| j <= i || v == 0.0),
                    "{what} {layout}: upper triangle not zero"
                );
            }
            // A negative diagonal entry at z: the leading minors up to order z are positive,
            // the one of order z + 1 is not, so the failing pivot is exactly z.
            for z in [0, 7, 8, 9, 12, 16, n - 1].into_iter().filter(|&z| z < n) {
                let mut b = a.clone();
                b[(z, z)] = -1.0;
                assert_eq!(
                    exec.cholesky(&b),
                    Err(Error::NotPositiveDefinite {
                        op: "cholesky",
                        index: z
                    }),
                    "{what} z={z}"
                );
            }
        }
    }
}
