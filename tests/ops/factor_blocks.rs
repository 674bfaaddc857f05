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
                        Trans::Yes => tri.t().to_owned(),
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
