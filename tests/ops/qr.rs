//! QR factorization `A = Q R`, reduced and complete, for tall, wide and square matrices.
//!
//! Accuracy: LAPACK's `dqrt01` ratios ‖Q R − A‖₁/(max(m,n) ‖A‖₁ ε) < 30 and
//! ‖QᵀQ − I‖₁/(m ε) < 30, in f64 with compensated sums.

use crate::common;

use common::la::*;
use common::*;
use ndarray::{s, Array2};
use parla::{Engine, Error, Exec, QrMode, Scalar};
use rand_chacha::ChaCha8Rng;

const THRESH: f64 = 30.0;

const SHAPES: [(usize, usize); 20] = [
    (1, 1),
    (2, 2),
    (3, 3),
    (7, 7),
    (31, 31),
    (64, 64),
    (65, 65),
    (100, 100),
    (7, 3),
    (64, 31),
    (65, 64),
    (100, 7),
    (3, 7),
    (31, 64),
    (64, 65),
    (7, 100),
    (1, 5),
    (5, 1),
    (2, 1),
    (1, 2),
];

#[derive(Debug, Clone, Copy)]
enum Family {
    Random,
    /// Singular values geometric from 1 to √ε.
    IllConditioned,
    /// Random times 1e300 (f64) or 1e30 (f32).
    Scaled,
}

const FAMILIES: [Family; 3] = [Family::Random, Family::IllConditioned, Family::Scaled];

fn matrix<T: Scalar>(fam: Family, rng: &mut ChaCha8Rng, m: usize, n: usize) -> Array2<T> {
    let a = match fam {
        Family::Random => random(rng, m, n),
        Family::IllConditioned => {
            with_singular_values(rng, m, n, &geometric(m.min(n), eps::<T>().sqrt()))
        }
        Family::Scaled => random(rng, m, n) * if eps::<T>() < 1e-10 { 1e300 } else { 1e30 },
    };
    cast::<T>(&a)
}

fn check_qr<T: Scalar>(a: &Array2<T>, f: &parla::Qr<T>, mode: QrMode, ctx: &str) {
    let (m, n) = a.dim();
    let k = m.min(n);
    let qc = match mode {
        QrMode::Reduced => k,
        QrMode::Complete => m,
    };
    assert_eq!(f.q.dim(), (m, qc), "{ctx}: Q shape");
    assert_eq!(f.r.dim(), (qc, n), "{ctx}: R shape");
    let (a, q, r) = (to64(&a.view()), to64(&f.q.view()), to64(&f.r.view()));
    for i in 0..qc {
        for j in 0..i.min(n) {
            assert_eq!(r[[i, j]], 0.0, "{ctx}: R[{i},{j}] below the diagonal");
        }
    }
    let qr = ref_matmul(&q.view(), &r.view());
    let res = ratio(
        diff1(&qr.view(), &a.view()),
        m.max(n) as f64 * norm1_nan(&a.view()) * eps::<T>(),
    );
    assert!(res < THRESH, "{ctx}: ‖QR − A‖₁/(max(m,n)‖A‖₁ε) = {res}");
    let orth = orth_defect(&q.view()) / (m as f64 * eps::<T>());
    assert!(orth < THRESH, "{ctx}: ‖QᵀQ − I‖₁/(mε) = {orth}");
}

fn all_cases<T: Scalar>(seed: u64) {
    let mut rng = rng(seed);
    for fam in FAMILIES {
        for (m, n) in SHAPES {
            let a = matrix::<T>(fam, &mut rng, m, n);
            for layout in LAYOUTS {
                for mode in [QrMode::Reduced, QrMode::Complete] {
                    let ctx = format!(
                        "{} {fam:?} {m}x{n} {layout:?} {mode:?}",
                        std::any::type_name::<T>()
                    );
                    let st = Stored::new(&a, layout, T::of(11.0));
                    let f = parla::qr(&st.view(), mode).unwrap();
                    check_qr(&a, &f, mode, &ctx);
                    assert!(st.guards_intact(), "{ctx}: guard");
                }
            }
        }
    }
}

#[test]
fn qr_f64() {
    all_cases::<f64>(1);
}

#[test]
fn qr_f32() {
    all_cases::<f32>(2);
}

#[test]
fn reduced_is_the_leading_part_of_complete() {
    // Both come from the same geqrf: R agrees exactly, Q to rounding.
    let mut rng = rng(3);
    let one = Exec::blas(1).unwrap();
    for (m, n) in SHAPES {
        let a = random(&mut rng, m, n);
        let k = m.min(n);
        let red = one.qr(&a, QrMode::Reduced).unwrap();
        let com = one.qr(&a, QrMode::Complete).unwrap();
        assert_eq!(
            com.r.slice(s![..k, ..]),
            red.r,
            "{m}x{n}: R of the two modes"
        );
        assert!(
            com.r.slice(s![k.., ..]).iter().all(|&x| x == 0.0),
            "{m}x{n}: rows of complete R below k"
        );
        let d = diff1(&com.q.slice(s![.., ..k]), &red.q.view());
        assert!(
            d / (m as f64 * f64::EPSILON) < THRESH,
            "{m}x{n}: Q differs by {d}"
        );
    }
}

#[test]
fn one_and_two_threads_agree() {
    let mut rng = rng(4);
    for (m, n) in [(200, 150), (150, 200), (256, 256)] {
        let a = random(&mut rng, m, n);
        for t in [1, 2] {
            let f = Exec::blas(t).unwrap().qr(&a, QrMode::Reduced).unwrap();
            check_qr(&a, &f, QrMode::Reduced, &format!("{t} threads {m}x{n}"));
        }
    }
}

#[test]
fn rank_deficient_input_still_factors() {
    // A zero column and a duplicated column: QR does not pivot and does not fail.
    let mut rng = rng(5);
    let mut a = random(&mut rng, 9, 5);
    a.column_mut(1).fill(0.0);
    let c = a.column(0).to_owned();
    a.column_mut(3).assign(&c);
    for mode in [QrMode::Reduced, QrMode::Complete] {
        let f = parla::qr(&a, mode).unwrap();
        check_qr(&a, &f, mode, &format!("rank deficient {mode:?}"));
    }
}

#[test]
fn empty_inputs() {
    for (m, n) in [(0, 0), (3, 0), (0, 3)] {
        let a = Array2::<f64>::zeros((m, n));
        let f = parla::qr(&a, QrMode::Complete).unwrap();
        assert_eq!(f.q, Array2::<f64>::eye(m), "{m}x{n}: complete Q = I_m");
        assert_eq!(f.r.dim(), (m, n), "{m}x{n}");
        let f = parla::qr(&a, QrMode::Reduced).unwrap();
        assert_eq!(f.q.dim(), (m, 0), "{m}x{n}");
        assert_eq!(f.r.dim(), (0, n), "{m}x{n}");
    }
    let f = parla::qr(&Array2::<f32>::zeros((4, 0)), QrMode::Complete).unwrap();
    assert_eq!(f.q, Array2::<f32>::eye(4));
}

#[test]
fn errors() {
    for layout in LAYOUTS {
        let mut a = Array2::<f64>::ones((4, 3));
        a[[3, 0]] = f64::NEG_INFINITY;
        a[[1, 2]] = f64::NAN;
        let st = Stored::new(&a, layout, 0.0);
        assert_eq!(
            parla::qr(&st.view(), QrMode::Reduced),
            Err(Error::NonFinite {
                op: "qr",
                index: vec![1, 2],
                value: "NaN".into()
            }),
            "{layout:?}"
        );
    }
    let big = i32::MAX as usize + 1;
    let z = Array2::<f64>::zeros((1, 1));
    assert_eq!(
        parla::qr(&z.broadcast((big, 2)).unwrap(), QrMode::Reduced),
        Err(Error::TooLarge {
            op: "qr",
            what: "rows",
            value: big,
            max: i32::MAX as usize
        })
    );
    assert_eq!(
        parla::qr(&z.broadcast((2, big)).unwrap(), QrMode::Complete),
        Err(Error::TooLarge {
            op: "qr",
            what: "columns",
            value: big,
            max: i32::MAX as usize
        })
    );
    for engine in [Engine::Rayon, Engine::RayonBlas] {
        let e = Exec::new(engine, 1).unwrap();
        let f = e
            .qr(&Array2::<f64>::zeros((3, 0)), QrMode::Complete)
            .unwrap();
        assert_eq!((f.q, f.r.dim()), (Array2::eye(3), (3, 0)));
    }
}

#[test]
fn rayon_engines_all_cases_at_1_2_3_threads() {
    // Every family × shape × layout × mode through the free functions, with each rayon engine
    // as the scoped default, plus rank deficiency and empty inputs.
    on_rayon_engines(parla::Op::Qr, |_engine, t| {
        all_cases::<f64>(40 + t as u64);
        all_cases::<f32>(50 + t as u64);
        rank_deficient_input_still_factors();
        empty_inputs();
    });
}

#[test]
fn rayon_engines_large_shapes() {
    // Several panels (NB = 64) and the parallel GEMMs; tall, wide, square; both modes;
    // bit-identical run to run. From min(m, n) = 256 on two or more threads the panels run
    // with a look-ahead: square, tall, and wide with columns past the last panel.
    let mut rng = rng(60);
    for (m, n) in [(300, 300), (400, 97), (97, 260), (600, 270), (270, 600)] {
        let a = matrix::<f64>(Family::Random, &mut rng, m, n);
        for engine in [Engine::RayonBlas, Engine::Rayon] {
            for t in [2, 3] {
                let e = Exec::new(engine, t).unwrap();
                for mode in [QrMode::Reduced, QrMode::Complete] {
                    let ctx = format!("{engine} t={t} {m}x{n} {mode:?}");
                    let f = e.qr(&a, mode).unwrap();
                    check_qr(&a, &f, mode, &ctx);
                    assert_eq!(e.qr(&a, mode).unwrap(), f, "{ctx}: not bit-identical");
                }
            }
        }
    }
}
