//! `transpose` (owned, row-major `Aᵀ`) on every engine at 1, 2 and 3 threads, f32 and f64:
//! exact copies of `a.t()` for every layout (C, F, padded, strided, negative strides,
//! broadcast), sizes around the 32 × 32 tile and the per-thread band edges, empty shapes;
//! NaN, ±Inf and -0.0 moved bit for bit.

use crate::common;

use common::la::{Stored, LAYOUTS};
use ndarray::{Array1, Array2, ArrayView2, Axis};
use parla::{Engine, Exec, Scalar};

const ENGINES: [Engine; 3] = [Engine::Blas, Engine::RayonBlas, Engine::Rayon];
const THREADS: [usize; 3] = [1, 2, 3];

fn bits<T: Scalar>(a: &ArrayView2<T>) -> Vec<u64> {
    a.iter().map(|x| x.as_f64().to_bits()).collect()
}

fn check<T: Scalar>(e: &Exec, a: &ArrayView2<T>, what: &str) {
    let t = e.transpose(a).unwrap();
    assert!(t.is_standard_layout(), "{what}: not C order");
    assert_eq!(t.dim(), (a.ncols(), a.nrows()), "{what}: shape");
    assert_eq!(bits(&t.view()), bits(&a.t()), "{what}: values");
}

/// Tile edges (31..33, 63..65), shapes whose columns do not split evenly into tile-wide bands
/// for 2 or 3 threads, single rows and columns.
const SHAPES: [(usize, usize); 12] = [
    (1, 1),
    (1, 40),
    (40, 1),
    (31, 33),
    (32, 32),
    (33, 31),
    (63, 65),
    (65, 64),
    (7, 97),
    (97, 7),
    (100, 200),
    (129, 161),
];

fn layouts<T: Scalar>(seed: u64) {
    let mut rng = common::rng(seed);
    for &(m, n) in &SHAPES {
        let a = common::random(&mut rng, m, n).mapv(T::of);
        for layout in LAYOUTS {
            let st = Stored::new(&a, layout, T::of(-3.0));
            for engine in ENGINES {
                for threads in THREADS {
                    let e = Exec::new(engine, threads).unwrap();
                    check(
                        &e,
                        &st.view(),
                        &format!("{} {m}x{n} {layout:?} {engine} t={threads}", T::DTYPE),
                    );
                }
            }
            assert!(st.guards_intact());
        }
    }
}

#[test]
fn layouts_f64() {
    layouts::<f64>(1);
}

#[test]
fn layouts_f32() {
    layouts::<f32>(2);
}

#[test]
fn special_values_move_bit_for_bit() {
    let mut a = Array2::from_shape_fn((70, 45), |(i, j)| (i * 45 + j) as f64);
    a[[0, 0]] = f64::NAN;
    a[[3, 44]] = f64::INFINITY;
    a[[69, 0]] = f64::NEG_INFINITY;
    a[[10, 10]] = -0.0;
    a[[11, 11]] = 5e-324;
    for engine in ENGINES {
        for threads in THREADS {
            let e = Exec::new(engine, threads).unwrap();
            check(&e, &a.view(), &format!("special {engine} t={threads}"));
        }
    }
}

#[test]
fn broadcast_views() {
    let row = Array1::from_shape_fn(50, |j| j as f64);
    let col = Array1::from_shape_fn(35, |i| -(i as f64));
    let c = col.view().insert_axis(Axis(1));
    for view in [
        row.broadcast((35, 50)).unwrap(),
        c.broadcast((35, 50)).unwrap(),
    ] {
        for engine in ENGINES {
            for threads in THREADS {
                check(
                    &Exec::new(engine, threads).unwrap(),
                    &view,
                    &format!("broadcast {engine} {threads}"),
                );
            }
        }
    }
}

#[test]
fn empty_shapes() {
    for engine in ENGINES {
        let e = Exec::new(engine, 2).unwrap();
        for (m, n) in [(0, 0), (0, 3), (4, 0)] {
            let t = e.transpose(&Array2::<f32>::zeros((m, n))).unwrap();
            assert_eq!(t.dim(), (n, m));
        }
    }
}

#[test]
fn large_matrix_both_orders() {
    let mut rng = common::rng(3);
    let a = common::random(&mut rng, 517, 1031);
    let f = common::fortran(&a);
    for engine in ENGINES {
        for threads in THREADS {
            let e = Exec::new(engine, threads).unwrap();
            check(&e, &a.view(), &format!("C {engine} t={threads}"));
            check(&e, &f.view(), &format!("F {engine} t={threads}"));
        }
    }
}

#[test]
fn free_function_and_plan() {
    let a = Array2::from_shape_fn((3, 2), |(i, j)| (i * 2 + j) as f32);
    assert_eq!(parla::transpose(&a).unwrap(), a.t());
    for engine in ENGINES {
        let p = Exec::new(engine, 2)
            .unwrap()
            .plan(
                parla::Op::Transpose,
                parla::Dtype::F64,
                parla::Shape::Unknown,
            )
            .unwrap();
        assert_eq!((p.engine, p.threads), (engine, 2));
    }
}
