//! Element-wise `map`, `zip_with` and `multiply` on every engine at 1, 2 and 3 threads, f32 and
//! f64: results equal ndarray's own element-wise evaluation bit for bit (the closure is the
//! same, only the split differs), for 1-D, 2-D and 3-D arrays in C, F, strided, reversed and
//! broadcast layouts, sizes around the per-thread chunk edges; the result's memory order;
//! empty inputs (closure never called); typed shape errors naming both shapes.

use crate::common;

use common::la::{Layout, Stored, LAYOUTS};
use ndarray::{s, Array, Array1, Array2, Array3, ArrayView2, Axis, Dimension, ShapeBuilder};
use parla::{Engine, Error, Exec, Scalar};

const ENGINES: [Engine; 3] = [Engine::Blas, Engine::RayonBlas, Engine::Rayon];
const THREADS: [usize; 3] = [1, 2, 3];

fn bits<T: Scalar, D: Dimension>(a: &Array<T, D>) -> Vec<u64> {
    a.iter().map(|x| x.as_f64().to_bits()).collect()
}

/// A closure whose result depends on every bit of its input (no accidental matches).
fn f1<T: Scalar>(x: T) -> T {
    x * x * T::of(0.75) - x.sin()
}

fn f2<T: Scalar>(x: T, y: T) -> T {
    x.mul_add(T::of(3.0), -y) / (T::one() + y.abs())
}

fn random_t<T: Scalar>(seed: u64, m: usize, n: usize) -> Array2<T> {
    let mut rng = common::rng(seed);
    common::random(&mut rng, m, n).mapv(T::of)
}

/// Element counts around the chunk edges: MIN_CHUNK = 4096 elements, one chunk per thread.
const SHAPES: [(usize, usize); 7] = [
    (1, 1),
    (3, 5),
    (64, 64),
    (64, 65),
    (128, 64),
    (97, 127),
    (3, 4097),
];

fn layouts_2d<T: Scalar>(seed: u64) {
    for (k, &(m, n)) in SHAPES.iter().enumerate() {
        let a = random_t::<T>(seed + k as u64, m, n);
        let b = random_t::<T>(seed + 50 + k as u64, m, n);
        let want_map = a.mapv(f1);
        let want_zip = Array2::from_shape_fn((m, n), |ij| f2(a[ij], b[ij]));
        let want_mul = &a * &b;
        for la in LAYOUTS {
            let sa = Stored::new(&a, la, T::of(9.0));
            for lb in [Layout::C, la] {
                let sb = Stored::new(&b, lb, T::of(9.0));
                for engine in ENGINES {
                    for threads in THREADS {
                        let e = Exec::new(engine, threads).unwrap();
                        let what =
                            format!("{} {m}x{n} {la:?}/{lb:?} {engine} t={threads}", T::DTYPE);
                        let got = e.map(&sa.view(), f1).unwrap();
                        assert_eq!(bits(&got), bits(&want_map), "{what}: map");
                        let got = e.zip_with(&sa.view(), &sb.view(), f2).unwrap();
                        assert_eq!(bits(&got), bits(&want_zip), "{what}: zip_with");
                        let got = e.multiply(&sa.view(), &sb.view()).unwrap();
                        assert_eq!(bits(&got), bits(&want_mul), "{what}: multiply");
                    }
                }
                assert!(sa.guards_intact() && sb.guards_intact());
            }
        }
    }
}

#[test]
fn layouts_2d_f64() {
    layouts_2d::<f64>(1);
}

#[test]
fn layouts_2d_f32() {
    layouts_2d::<f32>(2);
}

#[test]
fn one_and_three_dimensions() {
    let mut rng = common::rng(9);
    for len in [1, 4095, 4096, 4097, 8191, 8192, 8193, 12_289, 100_000] {
        let x = common::random_vec(&mut rng, len);
        let y = common::random_vec(&mut rng, len);
        let want = Array1::from_shape_fn(len, |i| f2(x[i], y[i]));
        for engine in ENGINES {
            for threads in THREADS {
                let e = Exec::new(engine, threads).unwrap();
                assert_eq!(
                    bits(&e.map(&x, f1).unwrap()),
                    bits(&x.mapv(f1)),
                    "{len} {engine} {threads}"
                );
                assert_eq!(bits(&e.zip_with(&x, &y, f2).unwrap()), bits(&want));
                let rev = x.slice(s![..;-1]);
                assert_eq!(bits(&e.map(&rev, f1).unwrap()), bits(&rev.mapv(f1)));
                let every3 = x.slice(s![..;3]);
                assert_eq!(bits(&e.map(&every3, f1).unwrap()), bits(&every3.mapv(f1)));
            }
        }
    }
    let a = Array3::from_shape_fn((7, 33, 41), |(i, j, k)| {
        (i * 1000 + j * 37 + k) as f64 * 0.01
    });
    let b = a.mapv(|v| v.cos());
    let permuted = a.view().permuted_axes([2, 0, 1]);
    let bp = b.view().permuted_axes([2, 0, 1]);
    for engine in ENGINES {
        for threads in THREADS {
            let e = Exec::new(engine, threads).unwrap();
            assert_eq!(bits(&e.map(&a, f1).unwrap()), bits(&a.mapv(f1)));
            assert_eq!(
                bits(&e.map(&permuted, f1).unwrap()),
                bits(&permuted.mapv(f1))
            );
            assert_eq!(
                bits(&e.multiply(&permuted, &bp).unwrap()),
                bits(&(&permuted * &bp))
            );
        }
    }
}

#[test]
fn broadcast_operand() {
    let a = random_t::<f64>(4, 70, 90);
    let row = Array1::from_shape_fn(90, |j| j as f64 * 0.5);
    let b = row.broadcast((70, 90)).unwrap();
    let want = &a * &b;
    for engine in ENGINES {
        for threads in THREADS {
            let e = Exec::new(engine, threads).unwrap();
            assert_eq!(
                bits(&e.multiply(&a, &b).unwrap()),
                bits(&want),
                "{engine} {threads}"
            );
            let col = Array1::from_shape_fn(70, |i| i as f64);
            let c = col.view().insert_axis(Axis(1));
            let cb = c.broadcast((70, 90)).unwrap();
            assert_eq!(bits(&e.map(&cb, f1).unwrap()), bits(&cb.mapv(f1)));
        }
    }
}

#[test]
fn result_memory_order_follows_the_input() {
    let c = random_t::<f64>(5, 64, 80);
    let f = common::fortran(&c);
    for engine in ENGINES {
        let e = Exec::new(engine, 2).unwrap();
        assert!(e.map(&c, f1).unwrap().is_standard_layout());
        let fm = e.map(&f, f1).unwrap();
        assert!(fm.t().is_standard_layout(), "{engine}: F in, F out");
        assert_eq!(fm, c.mapv(f1));
        assert!(e.multiply(&f, &f).unwrap().t().is_standard_layout());
        assert!(
            e.multiply(&f, &c).unwrap().is_standard_layout(),
            "mixed orders give C"
        );
        let strided: ArrayView2<f64> = c.slice(s![..;2, ..]);
        assert!(e.map(&strided, f1).unwrap().is_standard_layout());
    }
}

#[test]
fn output_type_may_differ() {
    let a = random_t::<f64>(6, 50, 100);
    for engine in ENGINES {
        let e = Exec::new(engine, 2).unwrap();
        let single: Array2<f32> = e.map(&a, |x| x as f32).unwrap();
        assert_eq!(single, a.mapv(|x| x as f32));
        let widened: Array2<f64> = e.zip_with(&single, &single, |x, y| (x * y) as f64).unwrap();
        assert_eq!(widened, single.mapv(|x| (x * x) as f64));
    }
}

#[test]
fn empty_inputs_never_call_the_closure() {
    for engine in ENGINES {
        let e = Exec::new(engine, 3).unwrap();
        for shape in [(0, 0), (0, 4), (5, 0)] {
            let a = Array2::<f64>::zeros(shape.f());
            let out = e
                .map(&a, |_| -> f64 {
                    unreachable!("closure called on an empty input")
                })
                .unwrap();
            assert_eq!(out.dim(), shape);
            let z = e
                .zip_with(&a, &a, |_, _| -> f64 { unreachable!() })
                .unwrap();
            assert_eq!(z.dim(), shape);
        }
    }
}

#[test]
fn shape_mismatch_names_both_shapes() {
    let a = Array2::<f64>::zeros((3, 4));
    let b = Array2::<f64>::zeros((4, 3));
    for engine in ENGINES {
        let e = Exec::new(engine, 2).unwrap();
        assert_eq!(
            e.zip_with(&a, &b, |x, y| x + y).unwrap_err(),
            Error::ShapeMismatch {
                op: "zip_with",
                left: vec![3, 4],
                right: vec![4, 3]
            }
        );
        assert_eq!(
            e.multiply(&a, &b).unwrap_err(),
            Error::ShapeMismatch {
                op: "multiply",
                left: vec![3, 4],
                right: vec![4, 3]
            }
        );
    }
    let err = parla::multiply(&a.t(), &a).unwrap_err();
    assert!(
        err.to_string().contains("[4, 3]") && err.to_string().contains("[3, 4]"),
        "{err}"
    );
}

#[test]
fn the_blas_engine_runs_in_the_calling_thread() {
    let p = Exec::new(Engine::Blas, 2)
        .unwrap()
        .plan(parla::Op::Map, parla::Dtype::F64, parla::Shape::Unknown)
        .unwrap();
    assert_eq!(p.threads, 1);
    assert!(p.split.contains("calling thread"), "{}", p.split);
    let a = random_t::<f64>(8, 200, 200);
    let caller = std::thread::current().id();
    let seen = std::sync::Mutex::new(std::collections::HashSet::new());
    Exec::new(Engine::Blas, 2)
        .unwrap()
        .map(&a, |x| {
            seen.lock().unwrap().insert(std::thread::current().id());
            x
        })
        .unwrap();
    assert_eq!(seen.into_inner().unwrap(), [caller].into_iter().collect());
    for engine in [Engine::RayonBlas, Engine::Rayon] {
        let p = Exec::new(engine, 2)
            .unwrap()
            .plan(parla::Op::ZipWith, parla::Dtype::F64, parla::Shape::Unknown)
            .unwrap();
        assert_eq!((p.engine, p.threads), (engine, 2));
    }
}

#[test]
fn rayon_engines_use_their_threads() {
    let a = random_t::<f64>(10, 512, 512);
    let seen = std::sync::Mutex::new(std::collections::HashSet::new());
    Exec::new(Engine::Rayon, 2)
        .unwrap()
        .map(&a, |x| {
            seen.lock().unwrap().insert(std::thread::current().id());
            x
        })
        .unwrap();
    let n = seen.into_inner().unwrap().len();
    assert!((1..=2).contains(&n), "{n} threads ran the closure");
    let _ = Stored::new(&a, Layout::C, 0.0); // keep the shared helper in use
}
