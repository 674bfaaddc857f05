//! Sums and 2-norms along rows and columns (`row_sums`, `col_sums`, `row_norms`, `col_norms`)
//! on every engine at 1, 2 and 3 threads, f32 and f64, against compensated-sum references in
//! f64 with bounds that grow with n·ε; every layout (C, F, padded, strided, negative strides,
//! broadcast), sizes around the kernels' edges (lanes, row groups, column tiles, one block per
//! thread), empty shapes, overflow- and underflow-scale values, NaN/Inf propagation, and
//! bit-identical results run to run.

use crate::common;

use common::la::{Layout, Stored, LAYOUTS};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};
use parla::{Engine, Error, Exec, Scalar};

const ENGINES: [Engine; 3] = [Engine::Blas, Engine::RayonBlas, Engine::Rayon];
const THREADS: [usize; 3] = [1, 2, 3];

/// (rows, cols): lane edges (31..33), row-group edges (3..5, 7..9), column-tile edges
/// (4095..4097), single rows/columns, and shapes that do not split evenly over 2 or 3 threads.
const SHAPES: [(usize, usize); 16] = [
    (5, 4095),
    (3, 4097),
    (1, 1),
    (1, 7),
    (7, 1),
    (3, 31),
    (4, 32),
    (5, 33),
    (8, 65),
    (9, 3),
    (17, 1023),
    (6, 1024),
    (11, 1025),
    (33, 9),
    (100, 257),
    (257, 100),
];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    RowSums,
    ColSums,
    RowNorms,
    ColNorms,
}

const OPS: [Op; 4] = [Op::RowSums, Op::ColSums, Op::RowNorms, Op::ColNorms];

fn run<T: Scalar>(e: &Exec, op: Op, a: &ArrayView2<T>) -> Result<Array1<T>, Error> {
    match op {
        Op::RowSums => e.row_sums(a),
        Op::ColSums => e.col_sums(a),
        Op::RowNorms => e.row_norms(a),
        Op::ColNorms => e.col_norms(a),
    }
}

/// The lines an op reduces, in f64: rows for row ops, columns for column ops.
fn lines(op: Op, a: &Array2<f64>) -> Vec<Array1<f64>> {
    match op {
        Op::RowSums | Op::RowNorms => a.rows().into_iter().map(|r| r.to_owned()).collect(),
        Op::ColSums | Op::ColNorms => a.columns().into_iter().map(|c| c.to_owned()).collect(),
    }
}

/// Reference value and error bound of one line (in f64, scaled so 1e±300 are safe).
fn reference(op: Op, line: &ArrayView1<f64>, eps: f64) -> (f64, f64) {
    let n = line.len() as f64;
    match op {
        Op::RowSums | Op::ColSums => {
            let s = common::compensated_sum(line.iter().copied());
            let scale: f64 = line.iter().map(|x| x.abs()).sum();
            (s, 2.0 * n * eps * scale)
        }
        Op::RowNorms | Op::ColNorms => {
            let amax = line.iter().fold(0.0f64, |m, x| m.max(x.abs()));
            let r = if amax == 0.0 {
                0.0
            } else {
                amax * common::compensated_sum(line.iter().map(|x| (x / amax).powi(2))).sqrt()
            };
            (r, 2.0 * (n + 2.0) * eps * r)
        }
    }
}

fn check<T: Scalar>(op: Op, a: &Array2<f64>, got: &Array1<T>, what: &str) {
    let eps = T::EPS.as_f64();
    let ls = lines(op, a);
    assert_eq!(got.len(), ls.len(), "{what}: length");
    for (i, (l, g)) in ls.iter().zip(got).enumerate() {
        let (r, bound) = reference(op, &l.view(), eps);
        let g = g.as_f64();
        assert!(
            (g - r).abs() <= bound,
            "{what}: entry {i}: got {g:e}, want {r:e} (bound {bound:e})"
        );
    }
}

fn random_t<T: Scalar>(seed: u64, m: usize, n: usize) -> Array2<T> {
    let mut rng = common::rng(seed);
    common::random(&mut rng, m, n).mapv(T::of)
}

fn every_layout<T: Scalar>(seed: u64) {
    for (k, &(m, n)) in SHAPES.iter().enumerate() {
        let a = random_t::<T>(seed + k as u64, m, n);
        let a64 = a.mapv(T::as_f64);
        for layout in LAYOUTS {
            let st = Stored::new(&a, layout, T::of(-7.5));
            for engine in ENGINES {
                for threads in THREADS {
                    let e = Exec::new(engine, threads).unwrap();
                    for op in OPS {
                        let what = format!(
                            "{} {op:?} {m}x{n} {layout:?} {engine} t={threads}",
                            T::DTYPE
                        );
                        let got = run(&e, op, &st.view()).unwrap();
                        check(op, &a64, &got, &what);
                        let again = run(&e, op, &st.view()).unwrap();
                        let bits = |x: &Array1<T>| {
                            x.iter().map(|v| v.as_f64().to_bits()).collect::<Vec<_>>()
                        };
                        assert_eq!(
                            bits(&got),
                            bits(&again),
                            "{what}: not bit-identical run to run"
                        );
                    }
                    assert!(
                        st.guards_intact(),
                        "{layout:?}: storage outside the view changed"
                    );
                }
            }
        }
    }
}

#[test]
fn every_layout_f64() {
    every_layout::<f64>(100);
}

#[test]
fn every_layout_f32() {
    every_layout::<f32>(200);
}

/// A large enough matrix that every rayon block is long (several column tiles, many row
/// groups), in both storage orders.
#[test]
fn large_blocks_both_orders() {
    let a = random_t::<f64>(7, 403, 2100);
    let f = common::fortran(&a);
    for engine in ENGINES {
        for threads in THREADS {
            let e = Exec::new(engine, threads).unwrap();
            for op in OPS {
                for (name, m) in [("C", &a), ("F", &f)] {
                    let got = run(&e, op, &m.view()).unwrap();
                    check(
                        op,
                        &a,
                        &got,
                        &format!("{op:?} 403x2100 {name} {engine} t={threads}"),
                    );
                }
            }
        }
    }
}

#[test]
fn broadcast_views() {
    let row = Array1::from_shape_fn(37, |j| j as f64 - 18.0);
    let col = Array1::from_shape_fn(29, |i| (i as f64) * 0.25 - 3.0);
    let by_row = row.broadcast((29, 37)).unwrap(); // strides (0, 1)
    let by_col = col.view().insert_axis(Axis(1)); // 29 x 1
    let by_col = by_col.broadcast((29, 37)).unwrap(); // strides (1, 0)
    for view in [by_row, by_col] {
        let dense = view.to_owned();
        for engine in ENGINES {
            for threads in THREADS {
                let e = Exec::new(engine, threads).unwrap();
                for op in OPS {
                    let got = run(&e, op, &view).unwrap();
                    check(
                        op,
                        &dense,
                        &got,
                        &format!("{op:?} broadcast {engine} t={threads}"),
                    );
                }
            }
        }
    }
}

#[test]
fn empty_shapes() {
    for engine in ENGINES {
        let e = Exec::new(engine, 2).unwrap();
        for (m, n) in [(0, 0), (0, 5), (4, 0)] {
            let a = Array2::<f64>::zeros((m, n));
            assert_eq!(e.row_sums(&a).unwrap(), Array1::<f64>::zeros(m));
            assert_eq!(e.row_norms(&a).unwrap(), Array1::<f64>::zeros(m));
            assert_eq!(e.col_sums(&a).unwrap(), Array1::<f64>::zeros(n));
            assert_eq!(e.col_norms(&a).unwrap(), Array1::<f64>::zeros(n));
        }
    }
}

/// Values whose squares overflow (`big`) or underflow (`small`), in blocks big enough for
/// every split, plus a zero line: norms come out right to a few ulps.
fn extreme_scales<T: Scalar>(big: f64, small: f64) {
    let (m, n) = (37, 1030);
    for scale in [big, small] {
        let mut a = Array2::from_shape_fn((m, n), |(i, j)| {
            scale * (1.0 + ((i * 7 + j * 3) % 5) as f64)
        });
        a.row_mut(3).fill(0.0);
        a.column_mut(5).fill(0.0);
        let at = a.mapv(T::of);
        let a64 = at.mapv(T::as_f64);
        for layout in [Layout::C, Layout::F, Layout::Strided] {
            let st = Stored::new(&at, layout, T::zero());
            for engine in ENGINES {
                for threads in THREADS {
                    let e = Exec::new(engine, threads).unwrap();
                    for op in [Op::RowNorms, Op::ColNorms] {
                        let got = run(&e, op, &st.view()).unwrap();
                        let what = format!(
                            "{} {op:?} scale {scale:e} {layout:?} {engine} t={threads}",
                            T::DTYPE
                        );
                        assert!(got.iter().all(|x| x.is_finite()), "{what}: {got}");
                        check(op, &a64, &got, &what);
                        let zero_at = if op == Op::RowNorms { 3 } else { 5 };
                        assert_eq!(got[zero_at], T::zero(), "{what}: the zero line");
                    }
                }
            }
        }
    }
}

#[test]
fn extreme_scales_f64() {
    extreme_scales::<f64>(1e300, 1e-300);
}

#[test]
fn extreme_scales_f32() {
    extreme_scales::<f32>(1e30, 1e-30);
}

/// Mixed magnitudes in one line: a tiny value next to a huge one, and subnormals only.
#[test]
fn mixed_magnitudes() {
    let mut a = Array2::<f64>::zeros((6, 9));
    a[[0, 0]] = 1e300;
    a[[0, 1]] = 1e300;
    a[[1, 2]] = 3e-310; // subnormal
    a[[1, 3]] = 4e-310;
    for engine in ENGINES {
        for threads in THREADS {
            let e = Exec::new(engine, threads).unwrap();
            let r = e.row_norms(&a).unwrap();
            assert!(
                (r[0] / (2f64.sqrt() * 1e300) - 1.0).abs() < 1e-15,
                "{engine}: {}",
                r[0]
            );
            assert!((r[1] / 5e-310 - 1.0).abs() < 1e-5, "{engine}: {}", r[1]); // subnormal precision
            let c = e.col_norms(&a.t()).unwrap();
            assert_eq!(c[0], r[0], "{engine} t={threads}: column of the transpose");
            assert!((c[1] / 5e-310 - 1.0).abs() < 1e-5, "{engine}: {}", c[1]);
        }
    }
}

/// NaN and ±Inf propagate like numpy: NaN in a line makes its sum and norm NaN; +Inf makes the
/// norm inf and the sum inf; +Inf and -Inf together make the sum NaN and the norm inf.
fn propagation<T: Scalar>() {
    let (m, n) = (13, 1100);
    let base = random_t::<T>(5, m, n);
    let mut a = base.clone();
    a[[2, 700]] = T::nan();
    a[[5, 3]] = T::infinity();
    a[[9, 40]] = T::infinity();
    a[[9, 41]] = T::neg_infinity();
    for layout in [Layout::C, Layout::F, Layout::Reversed] {
        let st = Stored::new(&a, layout, T::zero());
        for engine in ENGINES {
            for threads in THREADS {
                let e = Exec::new(engine, threads).unwrap();
                let what = format!("{} {layout:?} {engine} t={threads}", T::DTYPE);
                let rs = e.row_sums(&st.view()).unwrap();
                let rn = e.row_norms(&st.view()).unwrap();
                assert!(rs[2].is_nan() && rn[2].is_nan(), "{what}: NaN row");
                assert!(
                    rs[5] == T::infinity() && rn[5] == T::infinity(),
                    "{what}: inf row"
                );
                assert!(
                    rs[9].is_nan() && rn[9] == T::infinity(),
                    "{what}: inf - inf row"
                );
                for i in [0, 1, 3, 12] {
                    assert!(rs[i].is_finite() && rn[i].is_finite(), "{what}: row {i}");
                }
                let cs = e.col_sums(&st.view()).unwrap();
                let cn = e.col_norms(&st.view()).unwrap();
                assert!(cs[700].is_nan() && cn[700].is_nan(), "{what}: NaN column");
                assert!(
                    cs[3] == T::infinity() && cn[3] == T::infinity(),
                    "{what}: inf column"
                );
                assert!(
                    cs[41] == T::neg_infinity() && cn[41] == T::infinity(),
                    "{what}: -inf column"
                );
                for j in [0, 1, 699, 701, 1099] {
                    assert!(cs[j].is_finite() && cn[j].is_finite(), "{what}: column {j}");
                }
            }
        }
    }
}

#[test]
fn propagation_f64() {
    propagation::<f64>();
}

#[test]
fn propagation_f32() {
    propagation::<f32>();
}

#[test]
fn engines_agree_within_bound() {
    let a = random_t::<f64>(11, 300, 700);
    for op in OPS {
        let results: Vec<Array1<f64>> = ENGINES
            .iter()
            .map(|&e| run(&Exec::new(e, 2).unwrap(), op, &a.view()).unwrap())
            .collect();
        for r in &results[1..] {
            let d = (r - &results[0]).iter().fold(0.0f64, |m, x| m.max(x.abs()));
            assert!(d < 1e-11, "{op:?}: engines differ by {d:e}");
        }
    }
}

#[test]
fn plans_name_the_split() {
    use parla::Op;
    for op in [Op::RowSums, Op::ColSums, Op::RowNorms, Op::ColNorms] {
        for engine in ENGINES {
            let p = Exec::new(engine, 2)
                .unwrap()
                .plan(op, parla::Dtype::F64, parla::Shape::Matrix(64, 64))
                .unwrap();
            assert_eq!((p.engine, p.threads), (engine, 2));
            assert!(!p.split.contains("BLIS"), "{op} on {engine}: {}", p.split);
        }
    }
}

#[test]
fn too_large_for_blas_is_typed() {
    // A broadcast view: 1 x 3e9 elements without the memory.
    let one = Array1::from_elem(1, 1.0f64);
    let wide = one.broadcast((1, 3_000_000_000)).unwrap();
    for engine in [Engine::Blas, Engine::RayonBlas] {
        let err = Exec::new(engine, 1).unwrap().row_sums(&wide).unwrap_err();
        assert!(
            matches!(
                err,
                Error::TooLarge {
                    op: "row_sums",
                    what: "columns",
                    ..
                }
            ),
            "{engine}: {err:?}"
        );
    }
}

#[test]
fn free_functions_match_exec() {
    let a = random_t::<f64>(3, 20, 30);
    let e = Exec::current().unwrap();
    assert_eq!(parla::row_sums(&a).unwrap(), e.row_sums(&a).unwrap());
    assert_eq!(parla::col_sums(&a).unwrap(), e.col_sums(&a).unwrap());
    assert_eq!(parla::row_norms(&a).unwrap(), e.row_norms(&a).unwrap());
    assert_eq!(parla::col_norms(&a).unwrap(), e.col_norms(&a).unwrap());
}
