//! Batched `matmul`, `solve`, `cholesky`, `inv` (`parla::batch`).
//!
//! Every item of every batch is checked against slow references in f64 (compensated sums) with
//! LAPACK-style ratios that scale with n·ε, and against the single-matrix API run item by
//! item; at 1, 2 and 3 threads, for every strategy (`rayon` must say `Unsupported` while the
//! `rayon` engine lacks the op, and agree once it has it), for 3-D arrays in C, F, permuted,
//! transposed, stepped, reversed and broadcast layouts, and for lists of matrices of mixed
//! shapes and layouts; f32 and f64. Errors name the failing item's index.

#![allow(clippy::needless_range_loop)] // items are indexed in several arrays at once

use crate::common;

use common::la::*;
use common::*;
use ndarray::{s, Array2, Array3, ArrayView2, Axis, ShapeBuilder};
use parla::batch::{self, Batch, Strategy};
use parla::{Engine, Error, Exec, Op, Scalar};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

const THRESH: f64 = 30.0;
const THREADS: [usize; 3] = [1, 2, 3];
const STRATEGIES: [Strategy; 4] = [
    Strategy::Auto,
    Strategy::Loop,
    Strategy::RayonBlas,
    Strategy::Rayon,
];

/// The runners of one thread count: every strategy under engine `auto`, plus strategy `auto`
/// under each explicit engine.
fn runners(threads: usize) -> Vec<Batch> {
    let mut v: Vec<Batch> = STRATEGIES
        .iter()
        .map(|&s| Exec::new(Engine::Auto, threads).unwrap().batch(s))
        .collect();
    for e in [Engine::Blas, Engine::RayonBlas, Engine::Rayon] {
        v.push(Exec::new(e, threads).unwrap().batch(Strategy::Auto));
    }
    v
}

/// Whether `runner` runs `op` items on the `rayon` engine, and that engine lacks `op`: then the
/// call must fail with `Unsupported` naming the batched op.
fn unsupported(runner: &Batch, op: Op) -> bool {
    let p = runner.plan(op, parla::Dtype::F64, 10, 10);
    match p {
        Ok(p) => {
            assert_ne!(p.strategy, Strategy::Auto, "plans are concrete");
            false
        }
        Err(Error::Unsupported { engine, .. }) => {
            assert_eq!(engine, Engine::Rayon, "only the rayon engine may lack {op}");
            true
        }
        Err(e) => panic!("plan({op}): {e}"),
    }
}

fn expect_unsupported<R: std::fmt::Debug>(r: parla::Result<R>, batch_op: &str) {
    match r {
        Err(Error::Unsupported {
            op,
            engine: Engine::Rayon,
        }) => assert_eq!(op, batch_op),
        other => panic!("{batch_op}: expected Unsupported on rayon, got {other:?}"),
    }
}

fn ctx(r: &Batch) -> String {
    format!(
        "{} / {} / {} threads",
        r.strategy(),
        r.exec().engine(),
        r.exec().threads()
    )
}

/// `|C − A B| ≤ 2 k ε |A| |B|` entrywise, against the compensated reference; and the same
/// bound against the single-matrix `matmul`.
fn check_product<T: Scalar>(a: &ArrayView2<T>, b: &ArrayView2<T>, c: &ArrayView2<T>, what: &str) {
    let (a, b, c) = (to64(a), to64(b), to64(c));
    assert_eq!(c.dim(), (a.nrows(), b.ncols()), "{what}: shape");
    let exact = ref_matmul(&a.view(), &b.view());
    let scale = abs_matmul(&a.view(), &b.view());
    let k = a.ncols().max(1) as f64;
    for ((i, j), &x) in c.indexed_iter() {
        let bound = 2.0 * k * eps::<T>() * scale[[i, j]] + f64::MIN_POSITIVE;
        assert!(
            (x - exact[[i, j]]).abs() <= bound,
            "{what}: C[{i},{j}] = {x}, exact {}, bound {bound:e}",
            exact[[i, j]]
        );
    }
}

/// `|C − C_single| ≤ 4 k ε |A| |B|` entrywise: two products each within the rounding bound.
fn check_product_vs<T: Scalar>(
    a: &ArrayView2<T>,
    b: &ArrayView2<T>,
    c: &ArrayView2<T>,
    single: &ArrayView2<T>,
    what: &str,
) {
    let (a, b) = (to64(a), to64(b));
    let scale = abs_matmul(&a.view(), &b.view());
    let k = a.ncols().max(1) as f64;
    for ((i, j), &x) in c.indexed_iter() {
        let (x, y) = (x.as_f64(), single[[i, j]].as_f64());
        let bound = 4.0 * k * eps::<T>() * scale[[i, j]] + f64::MIN_POSITIVE;
        assert!(
            (x - y).abs() <= bound,
            "{what}: C[{i},{j}] = {x}, single {y}"
        );
    }
}

fn check_solution<T: Scalar>(a: &ArrayView2<T>, x: &ArrayView2<T>, b: &ArrayView2<T>, what: &str) {
    assert_eq!(x.dim(), b.dim(), "{what}: shape");
    let (a, x, b) = (to64(a), to64(x), to64(b));
    let r = solve_ratio(&a.view(), &x.view(), &b.view(), eps::<T>());
    assert!(r < THRESH, "{what}: solve ratio {r}");
}

fn check_cholesky<T: Scalar>(a: &ArrayView2<T>, l: &ArrayView2<T>, what: &str) {
    let n = a.nrows();
    assert_eq!(l.dim(), (n, n), "{what}: shape");
    let (a, l) = (to64(a), to64(l));
    for i in 0..n {
        for j in i + 1..n {
            assert_eq!(l[[i, j]], 0.0, "{what}: L[{i},{j}] above the diagonal");
        }
    }
    let llt = ref_matmul(&l.view(), &l.t());
    let r = ratio(
        diff1(&llt.view(), &a.view()),
        n as f64 * norm1_nan(&a.view()) * eps::<T>(),
    );
    assert!(r < THRESH, "{what}: ‖LLᵀ − A‖₁/(n‖A‖₁ε) = {r}");
}

fn check_inverse<T: Scalar>(a: &ArrayView2<T>, x: &ArrayView2<T>, what: &str) {
    let n = a.nrows();
    assert_eq!(x.dim(), (n, n), "{what}: shape");
    let (a, x) = (to64(a), to64(x));
    let ax = ref_matmul(&a.view(), &x.view());
    let r = ratio(
        diff1(&ax.view(), &eye(n).view()),
        n as f64 * norm1_nan(&a.view()) * norm1_nan(&x.view()) * eps::<T>(),
    );
    assert!(r < THRESH, "{what}: ‖AX − I‖₁/(n‖A‖‖X‖ε) = {r}");
}

/// `x` equals the single-matrix result `y` within `c · n · ε · ‖y‖₁` (the items are well
/// conditioned, so any two backward-stable answers are that close).
fn close_to<T: Scalar>(x: &ArrayView2<T>, y: &ArrayView2<T>, c: f64, what: &str) {
    let (x, y) = (to64(x), to64(y));
    let n = y.nrows().max(y.ncols()).max(1) as f64;
    let d = diff1(&x.view(), &y.view());
    let bound = c * n * eps::<T>() * norm1_nan(&y.view()) + f64::MIN_POSITIVE;
    assert!(d <= bound, "{what}: ‖x − single‖₁ = {d:e} > {bound:e}");
}

/// A well-conditioned (diagonally dominant) random matrix.
fn dominant(rng: &mut ChaCha8Rng, n: usize) -> Array2<f64> {
    let mut a = random(rng, n, n);
    for i in 0..n {
        a[[i, i]] += n as f64 + 1.0;
    }
    a
}

fn stack(items: &[Array2<f64>]) -> Array3<f64> {
    let (m, n) = items[0].dim();
    let mut out = Array3::zeros((items.len(), m, n));
    for (mut o, a) in out.outer_iter_mut().zip(items) {
        o.assign(a);
    }
    out
}

/// The same batch stored in several 3-D layouts (each equal to `c` element for element).
fn layouts3<T: Scalar>(c: &Array3<T>) -> Vec<(&'static str, Array3<T>)> {
    let (b, m, n) = c.dim();
    let mut f = Array3::zeros((b, m, n).f());
    f.assign(c);
    // Items stored transposed: (b, n, m) in C order, viewed with the last two axes swapped.
    let mut t = Array3::zeros((b, n, m));
    t.assign(&c.view().permuted_axes([0, 2, 1]));
    // Batch axis innermost: (m, n, b) in C order, viewed as (b, m, n).
    let mut inner = Array3::zeros((m, n, b));
    inner.assign(&c.view().permuted_axes([1, 2, 0]));
    vec![
        ("C", c.clone()),
        ("F", f),
        ("items transposed", t),
        ("batch innermost", inner),
    ]
}

/// A view of layout `name` from [`layouts3`] equal to the original batch.
fn view3<'a, T: Scalar>(name: &str, s: &'a Array3<T>) -> ndarray::ArrayView3<'a, T> {
    match name {
        "items transposed" => s.view().permuted_axes([0, 2, 1]),
        "batch innermost" => s.view().permuted_axes([2, 0, 1]),
        _ => s.view(),
    }
}

fn matmul_cases<T: Scalar>(seed: u64) {
    let mut rng = rng(seed);
    let (len, m, k, n) = (37, 5, 17, 9);
    let a: Array3<T> = Array3::from_shape_fn((len, m, k), |_| T::of(rng.gen_range(-1.0..1.0)));
    let b: Array3<T> = Array3::from_shape_fn((len, k, n), |_| T::of(rng.gen_range(-1.0..1.0)));
    let single = Exec::blas(1).unwrap();
    let want: Vec<Array2<T>> = (0..len)
        .map(|i| {
            single
                .matmul(&a.index_axis(Axis(0), i), &b.index_axis(Axis(0), i))
                .unwrap()
        })
        .collect();
    let (la, lb) = (layouts3(&a), layouts3(&b));
    for t in THREADS {
        for r in runners(t) {
            let what = ctx(&r);
            if unsupported(&r, Op::Matmul) {
                expect_unsupported(r.matmul(&a, &b), "batch::matmul");
                continue;
            }
            for ((na, sa), (nb, sb)) in la.iter().zip(lb.iter().rev()) {
                let (va, vb) = (view3(na, sa), view3(nb, sb));
                let c = r.matmul(&va, &vb).unwrap();
                assert_eq!(c.dim(), (len, m, n));
                assert!(c.is_standard_layout(), "3-D results are C order");
                for i in 0..len {
                    let w = format!("{what}, {na} @ {nb}, item {i}");
                    let ci = c.index_axis(Axis(0), i);
                    let (ai, bi) = (va.index_axis(Axis(0), i), vb.index_axis(Axis(0), i));
                    check_product(&ai, &bi, &ci, &w);
                    check_product_vs(&ai, &bi, &ci, &want[i].view(), &w);
                }
            }
            // Stepped and reversed sub-views of the batch and of the items.
            let va = a.slice(s![..;3, ..;-1, ..]);
            let vb = b.slice(s![..;3, .., ..;-1]);
            let c = r.matmul(&va, &vb).unwrap();
            assert_eq!(c.dim(), (len.div_ceil(3), m, n));
            for i in 0..c.len_of(Axis(0)) {
                let w = format!("{what}, stepped item {i}");
                check_product(
                    &va.index_axis(Axis(0), i),
                    &vb.index_axis(Axis(0), i),
                    &c.index_axis(Axis(0), i),
                    &w,
                );
            }
            // Broadcast: one matrix against the batch (length 1, and a stride-0 view).
            let one = a.slice(s![4..5, .., ..]);
            let c = r.matmul(&one, &b).unwrap();
            let bc = one.broadcast((len, m, k)).unwrap();
            let c2 = r.matmul(&bc, &b).unwrap();
            assert_eq!(
                c, c2,
                "{what}: a length-1 batch broadcasts like a stride-0 view"
            );
            for i in 0..len {
                let w = format!("{what}, broadcast item {i}");
                check_product(
                    &one.index_axis(Axis(0), 0),
                    &b.index_axis(Axis(0), i),
                    &c.index_axis(Axis(0), i),
                    &w,
                );
            }
        }
    }
}

#[test]
fn matmul_3d_every_strategy_layout_and_thread_count() {
    matmul_cases::<f64>(1);
    matmul_cases::<f32>(2);
}

#[test]
fn matmul_of_lists_with_mixed_shapes_and_layouts() {
    let mut rng = rng(3);
    let dims = [
        (1, 1, 1),
        (3, 7, 2),
        (8, 8, 8),
        (5, 1, 6),
        (2, 9, 33),
        (16, 4, 1),
        (0, 3, 2),
        (4, 0, 5),
        (3, 2, 0),
    ];
    let mut a_st = Vec::new();
    let mut b_st = Vec::new();
    for (i, &(m, k, n)) in dims.iter().enumerate() {
        let layout = LAYOUTS[i % LAYOUTS.len()];
        a_st.push(Stored::new(&random(&mut rng, m, k), layout, f64::NAN));
        b_st.push(Stored::new(
            &random(&mut rng, k, n),
            LAYOUTS[(i + 2) % LAYOUTS.len()],
            f64::NAN,
        ));
    }
    let a: Vec<ArrayView2<f64>> = a_st.iter().map(|s| s.view()).collect();
    let b: Vec<ArrayView2<f64>> = b_st.iter().map(|s| s.view()).collect();
    for t in THREADS {
        for r in runners(t) {
            let what = ctx(&r);
            if unsupported(&r, Op::Matmul) {
                expect_unsupported(r.matmul(&a, &b), "batch::matmul");
                continue;
            }
            let c = r.matmul(&a, &b).unwrap();
            assert_eq!(c.len(), dims.len());
            for i in 0..dims.len() {
                check_product(&a[i], &b[i], &c[i].view(), &format!("{what}, item {i}"));
            }
            // A slice works like the Vec; owned matrices like views.
            assert_eq!(r.matmul(&a[..], &b[..]).unwrap(), c);
            let owned: Vec<Array2<f64>> = a.iter().map(|v| v.to_owned()).collect();
            assert_eq!(r.matmul(&owned, &b).unwrap(), c);
            assert!(a_st.iter().chain(&b_st).all(|s| s.guards_intact()));
        }
    }
}

fn solve_cases<T: Scalar>(seed: u64) {
    let mut rng = rng(seed);
    let (len, n, k) = (23, 12, 3);
    let a = stack(&(0..len).map(|_| dominant(&mut rng, n)).collect::<Vec<_>>()).mapv(T::of);
    let b: Array3<T> = Array3::from_shape_fn((len, n, k), |_| T::of(rng.gen_range(-1.0..1.0)));
    let single = Exec::blas(1).unwrap();
    let want: Vec<Array2<T>> = (0..len)
        .map(|i| {
            single
                .solve(&a.index_axis(Axis(0), i), &b.index_axis(Axis(0), i))
                .unwrap()
        })
        .collect();
    let (la, lb) = (layouts3(&a), layouts3(&b));
    for t in THREADS {
        for r in runners(t) {
            let what = ctx(&r);
            if unsupported(&r, Op::Solve) {
                expect_unsupported(r.solve(&a, &b), "batch::solve");
                continue;
            }
            for ((na, sa), (nb, sb)) in la.iter().zip(lb.iter().rev()) {
                let (va, vb) = (view3(na, sa), view3(nb, sb));
                let x = r.solve(&va, &vb).unwrap();
                assert_eq!(x.dim(), (len, n, k));
                for i in 0..len {
                    let w = format!("{what}, {na} \\ {nb}, item {i}");
                    let xi = x.index_axis(Axis(0), i);
                    check_solution(
                        &va.index_axis(Axis(0), i),
                        &xi,
                        &vb.index_axis(Axis(0), i),
                        &w,
                    );
                    close_to(&xi, &want[i].view(), 8.0, &w);
                }
            }
            // One right-hand side per system, numpy's b[..., None]; and one matrix for all.
            let b1 = b.slice(s![.., .., 0]).insert_axis(Axis(2));
            let x = r.solve(&a, &b1).unwrap();
            assert_eq!(x.dim(), (len, n, 1));
            let a0 = a.slice(s![..1, .., ..]);
            let x0 = r.solve(&a0, &b).unwrap();
            for i in 0..len {
                check_solution(
                    &a.index_axis(Axis(0), i),
                    &x.index_axis(Axis(0), i),
                    &b1.index_axis(Axis(0), i),
                    &what,
                );
                check_solution(
                    &a0.index_axis(Axis(0), 0),
                    &x0.index_axis(Axis(0), i),
                    &b.index_axis(Axis(0), i),
                    &what,
                );
            }
        }
    }
}

#[test]
fn solve_every_strategy_layout_and_thread_count() {
    solve_cases::<f64>(4);
    solve_cases::<f32>(5);
}

fn factor_cases<T: Scalar>(seed: u64) {
    let mut rng = rng(seed);
    let orders = [1usize, 2, 7, 16, 33, 0, 5];
    let spds: Vec<Array2<T>> = orders
        .iter()
        .map(|&n| cast::<T>(&spd(&mut rng, n)))
        .collect();
    let gens: Vec<Array2<T>> = orders
        .iter()
        .map(|&n| cast::<T>(&dominant(&mut rng, n)))
        .collect();
    let stored: Vec<Stored<T>> = spds
        .iter()
        .enumerate()
        .map(|(i, a)| Stored::new(a, LAYOUTS[i % LAYOUTS.len()], T::of(-7.0)))
        .collect();
    let spd_views: Vec<ArrayView2<T>> = stored.iter().map(|s| s.view()).collect();
    let spd3 = stack(&(0..19).map(|_| spd(&mut rng, 10)).collect::<Vec<_>>()).mapv(T::of);
    let gen3 = stack(&(0..19).map(|_| dominant(&mut rng, 10)).collect::<Vec<_>>()).mapv(T::of);
    let single = Exec::blas(1).unwrap();
    for t in THREADS {
        for r in runners(t) {
            let what = ctx(&r);
            if unsupported(&r, Op::Cholesky) {
                expect_unsupported(r.cholesky(&spd_views), "batch::cholesky");
            } else {
                let l = r.cholesky(&spd_views).unwrap();
                for (i, (a, li)) in spd_views.iter().zip(&l).enumerate() {
                    let w = format!("{what}, cholesky item {i}");
                    check_cholesky(a, &li.view(), &w);
                    close_to(&li.view(), &single.cholesky(a).unwrap().view(), 4.0, &w);
                }
                for (name, s3) in layouts3(&spd3) {
                    let v = view3(name, &s3);
                    let l = r.cholesky(&v).unwrap();
                    for i in 0..v.len_of(Axis(0)) {
                        check_cholesky(
                            &v.index_axis(Axis(0), i),
                            &l.index_axis(Axis(0), i),
                            &format!("{what}, {name} {i}"),
                        );
                    }
                }
            }
            if unsupported(&r, Op::Inv) {
                expect_unsupported(r.inv(&gens), "batch::inv");
            } else {
                let x = r.inv(&gens).unwrap();
                for (i, (a, xi)) in gens.iter().zip(&x).enumerate() {
                    let w = format!("{what}, inv item {i}");
                    check_inverse(&a.view(), &xi.view(), &w);
                    close_to(&xi.view(), &single.inv(a).unwrap().view(), 8.0, &w);
                }
                for (name, s3) in layouts3(&gen3) {
                    let v = view3(name, &s3);
                    let x = r.inv(&v).unwrap();
                    for i in 0..v.len_of(Axis(0)) {
                        check_inverse(
                            &v.index_axis(Axis(0), i),
                            &x.index_axis(Axis(0), i),
                            &format!("{what}, {name} {i}"),
                        );
                    }
                }
            }
        }
    }
    assert!(stored.iter().all(|s| s.guards_intact()));
}

#[test]
fn cholesky_and_inv_every_strategy_layout_and_thread_count() {
    factor_cases::<f64>(6);
    factor_cases::<f32>(7);
}

#[test]
fn empty_batches_give_empty_results() {
    for t in THREADS {
        for r in runners(t) {
            let a = Array3::<f64>::zeros((0, 3, 4));
            let b = Array3::<f64>::zeros((0, 4, 5));
            let none: Vec<Array2<f64>> = Vec::new();
            if unsupported(&r, Op::Matmul) {
                expect_unsupported(r.matmul(&a, &b), "batch::matmul");
            } else {
                assert_eq!(r.matmul(&a, &b).unwrap().dim(), (0, 3, 5));
                assert!(r.matmul(&none, &none).unwrap().is_empty());
                // Empty matrices: products over an empty inner dimension are zeros.
                let c = r
                    .matmul(
                        &Array3::<f64>::zeros((4, 3, 0)),
                        &Array3::<f64>::zeros((4, 0, 2)),
                    )
                    .unwrap();
                assert_eq!(c, Array3::<f64>::zeros((4, 3, 2)));
            }
            if !unsupported(&r, Op::Solve) {
                let x = r.solve(&Array3::<f64>::zeros((0, 4, 4)), &b).unwrap();
                assert_eq!(x.dim(), (0, 4, 5));
            }
            if !unsupported(&r, Op::Inv) {
                assert_eq!(
                    r.inv(&Array3::<f32>::zeros((0, 6, 6))).unwrap().dim(),
                    (0, 6, 6)
                );
                assert!(r.inv(&none).unwrap().is_empty());
                assert_eq!(
                    r.inv(&Array3::<f64>::zeros((3, 0, 0))).unwrap().dim(),
                    (3, 0, 0)
                );
            }
            if !unsupported(&r, Op::Cholesky) {
                let l = r.cholesky(&Array3::<f32>::zeros((0, 2, 2))).unwrap();
                assert_eq!(l.dim(), (0, 2, 2));
            }
        }
    }
}

#[test]
fn shape_errors_name_the_shapes_or_the_item() {
    let r = Exec::new(Engine::Auto, 2).unwrap().batch(Strategy::Auto);
    let a = Array3::<f64>::zeros((4, 3, 5));
    // 3-D: one shape for every item, so the error names the whole arrays.
    assert_eq!(
        r.matmul(&a, &Array3::<f64>::zeros((4, 4, 2))),
        Err(Error::ShapeMismatch {
            op: "batch::matmul",
            left: vec![4, 3, 5],
            right: vec![4, 4, 2]
        })
    );
    assert_eq!(
        r.matmul(&a, &Array3::<f64>::zeros((3, 5, 2))),
        Err(Error::ShapeMismatch {
            op: "batch::matmul",
            left: vec![4, 3, 5],
            right: vec![3, 5, 2]
        })
    );
    assert_eq!(
        r.inv(&a),
        Err(Error::NotSquare {
            op: "batch::inv",
            rows: 3,
            cols: 5
        })
    );
    assert_eq!(
        r.solve(
            &Array3::<f64>::zeros((4, 3, 3)),
            &Array3::<f64>::zeros((4, 2, 1))
        ),
        Err(Error::ShapeMismatch {
            op: "batch::solve",
            left: vec![4, 3, 3],
            right: vec![4, 2, 1]
        })
    );
    // Lists: the first bad item is named.
    let mut la: Vec<Array2<f64>> = (0..6).map(|_| Array2::eye(3)).collect();
    let lb: Vec<Array2<f64>> = (0..6).map(|_| Array2::zeros((3, 2))).collect();
    la[3] = Array2::zeros((3, 4));
    la[5] = Array2::zeros((2, 4));
    let e = r.matmul(&la, &lb).unwrap_err();
    assert_eq!(
        e,
        Error::Batch {
            op: "batch::matmul",
            index: 3,
            source: Box::new(Error::ShapeMismatch {
                op: "matmul",
                left: vec![3, 4],
                right: vec![3, 2]
            })
        }
    );
    assert!(e.to_string().contains("item 3"), "{e}");
    assert_eq!(
        r.inv(&la),
        Err(Error::Batch {
            op: "batch::inv",
            index: 3,
            source: Box::new(Error::NotSquare {
                op: "inv",
                rows: 3,
                cols: 4
            })
        })
    );
    assert!(matches!(
        r.solve(&la, &lb),
        Err(Error::Batch { index: 3, .. })
    ));
    assert!(matches!(
        r.cholesky(&la),
        Err(Error::Batch { index: 3, .. })
    ));
    assert_eq!(
        r.matmul(&la[..2], &lb[..3]),
        Err(Error::ShapeMismatch {
            op: "batch::matmul",
            left: vec![2],
            right: vec![3]
        })
    );
    // A 3-D result needs items of one shape: a 3-D `a` with a list `b` of varying widths.
    let a3 = Array3::<f64>::zeros((2, 2, 3));
    let bl = vec![Array2::<f64>::zeros((3, 1)), Array2::zeros((3, 4))];
    assert!(matches!(
        r.matmul(&a3, &bl),
        Err(Error::Batch { index: 1, .. })
    ));
}

/// A batch whose items `bad` are broken by `breaker`, the rest well conditioned.
fn with_bad_items(
    len: usize,
    n: usize,
    bad: &[usize],
    breaker: impl Fn(&mut Array2<f64>),
) -> Array3<f64> {
    let mut rng = rng(9);
    let mut items: Vec<Array2<f64>> = (0..len).map(|_| spd(&mut rng, n)).collect();
    for &i in bad {
        breaker(&mut items[i]);
    }
    stack(&items)
}

#[test]
fn failing_items_are_named_by_the_lowest_index() {
    // A zero column gives an exactly zero pivot, whatever the elimination order.
    let singular = with_bad_items(61, 6, &[44, 17, 50], |a| a.column_mut(4).fill(0.0));
    let not_spd = with_bad_items(61, 6, &[29, 58], |a| a[[3, 3]] = -50.0);
    let nan = with_bad_items(61, 6, &[12], |a| a[[5, 0]] = f64::NAN);
    let rhs = Array3::<f64>::ones((61, 6, 2));
    for t in THREADS {
        for r in runners(t) {
            let what = ctx(&r);
            for _ in 0..3 {
                if !unsupported(&r, Op::Cholesky) {
                    assert_eq!(
                        r.cholesky(&not_spd),
                        Err(Error::Batch {
                            op: "batch::cholesky",
                            index: 29,
                            source: Box::new(Error::NotPositiveDefinite {
                                op: "cholesky",
                                index: 3
                            })
                        }),
                        "{what}"
                    );
                    // NaN in the part cholesky does not read (upper triangle) is no error.
                    let mut upper_nan = not_spd.slice(s![..29, .., ..]).to_owned();
                    upper_nan[[3, 0, 5]] = f64::NAN;
                    assert!(r.cholesky(&upper_nan).is_ok(), "{what}");
                }
                if unsupported(&r, Op::Solve) || unsupported(&r, Op::Inv) {
                    continue;
                }
                match r.solve(&singular, &rhs) {
                    Err(Error::Batch {
                        op: "batch::solve",
                        index: 17,
                        source,
                    }) => {
                        assert!(
                            matches!(*source, Error::Singular { op: "solve", .. }),
                            "{what}: {source}"
                        )
                    }
                    other => panic!("{what}: {other:?}"),
                }
                match r.inv(&singular) {
                    Err(Error::Batch {
                        op: "batch::inv",
                        index: 17,
                        source,
                    }) => {
                        assert!(
                            matches!(*source, Error::Singular { op: "inv", .. }),
                            "{what}: {source}"
                        )
                    }
                    other => panic!("{what}: {other:?}"),
                }
                match r.inv(&nan) {
                    Err(Error::Batch {
                        index: 12, source, ..
                    }) => assert_eq!(
                        *source,
                        Error::NonFinite {
                            op: "inv",
                            index: vec![5, 0],
                            value: "NaN".into()
                        }
                    ),
                    other => panic!("{what}: {other:?}"),
                }
            }
        }
    }
}

#[test]
fn auto_picks_by_size_batch_and_threads_and_follows_explicit_engines() {
    use parla::batch::{
        BATCH_FACTOR_SMALL_ORDER as FACTOR, BATCH_GEMM_SMALL_ORDER as GEMM, BATCH_MIN_FLOPS,
        BATCH_MIN_ITEMS_PER_WORKER as PER,
    };
    let auto = |t: usize| Exec::new(Engine::Auto, t).unwrap().batch(Strategy::Auto);
    let flops = |op: Op, n: usize| {
        let n = n as f64;
        match op {
            Op::Solve => 2.0 / 3.0 * n * n * n + 2.0 * n * n,
            Op::Cholesky => n * n * n / 3.0,
            _ => 2.0 * n * n * n,
        }
    };
    // With a tuning profile of this machine `auto` follows its measurements (unit-tested over
    // synthetic profiles in `dispatch::auto`); the built-in table below holds without one.
    let profiled = matches!(
        parla::tuning::profile_status(),
        Ok(parla::tuning::ProfileStatus::InUse { .. })
    );
    let cores = parla::threads::usable_cores();
    // Where parla's GEMM kernels are wider than OpenBLAS's, the built-in rules run large
    // GEMMs on `rayon` and the items of spread batches of solves and inverses on parla's
    // kernels too.
    let wider = Exec::new(Engine::Auto, 2)
        .unwrap()
        .plan(Op::Gemm, parla::Dtype::F64, parla::Shape::Square(1024))
        .unwrap()
        .rule
        .contains("wider");
    // Where they are at least as wide, small inverses run on `rayon` (the rule names
    // AUTO_INV_SMALL_MAX_ORDER), and so do the small items of spread batches of solves and
    // inverses.
    let as_wide = wider
        || Exec::new(Engine::Auto, 2)
            .unwrap()
            .plan(Op::Inv, parla::Dtype::F64, parla::Shape::Square(8))
            .unwrap()
            .rule
            .contains("AUTO_INV_SMALL_MAX_ORDER");
    // The strategy of a spread batch of `op` on items of order `n` under the built-in rules.
    let spread = |op: Op, n: usize| {
        let small = match op {
            Op::Solve => parla::tuning::AUTO_BATCH_SOLVE_AS_WIDE_MAX_ORDER,
            _ => parla::tuning::AUTO_INV_SMALL_MAX_ORDER,
        };
        if matches!(op, Op::Solve | Op::Inv) && (wider || (as_wide && n <= small)) {
            Strategy::Rayon
        } else {
            Strategy::RayonBlas
        }
    };
    if !profiled {
        // The cases.
        for (op, len, n) in [(Op::Matmul, 10_000, 32), (Op::Solve, 1_000, 64)] {
            let p = auto(2).plan(op, parla::Dtype::F64, len, n).unwrap();
            assert_eq!(
                (p.strategy, p.workers, p.item.threads),
                (spread(op, n), 2.min(cores), 1)
            );
        }
    }
    let w3 = 3.min(cores);
    for op in [Op::Matmul, Op::Solve, Op::Cholesky, Op::Inv] {
        let small = if op == Op::Matmul { GEMM } else { FACTOR };
        // The smallest batch of order-16 items with enough work, and one item less.
        let enough = (BATCH_MIN_FLOPS / flops(op, 16)).ceil() as usize;
        // (threads, len, order) -> strategy
        let table = [
            ((2, enough.max(2), 16), spread(op, 16)),
            ((2, enough - 1, 16), Strategy::Loop),
            ((2, 2, small), spread(op, small)),
            ((2, 2, small + 1), Strategy::Loop),
            ((2, 2 * PER - 1, small + 1), Strategy::Loop),
            ((2, 2 * PER, small + 1), spread(op, small + 1)),
            // A budget of 3: at most the usable cores work under auto.
            ((3, w3 * PER, 2048), spread(op, 2048)),
            ((3, w3 * PER - 1, 2048), Strategy::Loop),
            ((1, 10_000, 32), Strategy::Loop),
            ((2, 1, 1000), Strategy::Loop),
            ((2, 0, 32), Strategy::Loop),
        ];
        for ((t, len, order), want) in table {
            let p = auto(t).plan(op, parla::Dtype::F64, len, order).unwrap();
            let w = t.min(cores);
            assert!(
                p.workers * p.item.threads <= w,
                "{op}: {len} items of order {order} on {t}: {p:?}"
            );
            assert_eq!(p.item.op, op);
            if t == 1 || len <= 1 {
                // Nothing to spread, profile or not.
                assert_eq!((p.strategy, p.workers), (Strategy::Loop, 1), "{p:?}");
            }
            if profiled {
                continue;
            }
            assert_eq!(
                p.strategy, want,
                "{op}: {len} items of order {order} on {t}"
            );
            match p.strategy {
                Strategy::Loop => assert_eq!((p.workers, p.item.threads), (1, w)),
                _ => assert_eq!((p.workers, p.item.threads), (w, 1)),
            }
            let item = if p.strategy == Strategy::Rayon {
                Engine::Rayon
            } else {
                Engine::Blas
            };
            assert_eq!(p.item.engine, item);
        }
    }
    // An explicit engine decides, whatever the size; an explicit strategy beats the engine.
    let on = |e: Engine, s: Strategy| {
        Exec::new(e, 2)
            .unwrap()
            .batch(s)
            .plan(Op::Matmul, parla::Dtype::F64, 10_000, 32)
    };
    assert_eq!(
        on(Engine::Blas, Strategy::Auto).unwrap().strategy,
        Strategy::Loop
    );
    assert_eq!(
        on(Engine::RayonBlas, Strategy::Auto).unwrap().strategy,
        Strategy::RayonBlas
    );
    assert_eq!(
        on(Engine::Blas, Strategy::RayonBlas).unwrap().strategy,
        Strategy::RayonBlas
    );
    match on(Engine::Rayon, Strategy::Auto) {
        Ok(p) => assert_eq!(
            (p.strategy, p.item.engine),
            (Strategy::Rayon, Engine::Rayon)
        ),
        Err(e) => assert_eq!(
            e,
            Error::Unsupported {
                op: "matmul",
                engine: Engine::Rayon
            }
        ),
    }
    for s in Strategy::ALL {
        assert_eq!(s.name().parse::<Strategy>().unwrap(), s);
    }
    assert!("threads".parse::<Strategy>().is_err());
}

#[test]
fn inside_a_parallel_task_a_batch_runs_on_one_thread() {
    let a = Array3::<f64>::from_shape_fn((8, 6, 6), |(b, i, j)| ((b + 2 * i + 3 * j) % 7) as f64);
    let serial = Exec::blas(1)
        .unwrap()
        .batch(Strategy::Loop)
        .matmul(&a, &a)
        .unwrap();
    let out = parla::Parallel::new(2)
        .unwrap()
        .map(0..4, |_| {
            let b = Exec::new(Engine::Auto, 4)
                .unwrap()
                .batch(Strategy::RayonBlas);
            let p = b.plan(Op::Matmul, parla::Dtype::F64, 8, 6).unwrap();
            ((p.workers, p.item.threads), b.matmul(&a, &a).unwrap())
        })
        .unwrap();
    for (plan, c) in out {
        assert_eq!(plan, (1, 1));
        // Small integers: every product is exact.
        assert_eq!(c, serial);
    }
}

#[test]
fn free_functions_use_the_process_defaults() {
    let a = Array3::<f64>::from_shape_fn(
        (5, 3, 3),
        |(b, i, j)| if i == j { 2.0 + b as f64 } else { 0.25 },
    );
    let c = batch::matmul(&a, &a).unwrap();
    let x = batch::solve(&a, &c).unwrap();
    for i in 0..5 {
        check_solution(
            &a.index_axis(Axis(0), i),
            &x.index_axis(Axis(0), i),
            &c.index_axis(Axis(0), i),
            "free solve",
        );
    }
    let ai = batch::inv(&a).unwrap();
    let l = batch::cholesky(&a).unwrap();
    for i in 0..5 {
        check_inverse(
            &a.index_axis(Axis(0), i),
            &ai.index_axis(Axis(0), i),
            "free inv",
        );
        check_cholesky(
            &a.index_axis(Axis(0), i),
            &l.index_axis(Axis(0), i),
            "free cholesky",
        );
    }
}
