//! Symmetric eigendecomposition: `eigh` (values and vectors) and `eigvalsh` (values only).
//!
//! Accuracy: LAPACK's `dsyt21`-style ratios ‖A V − V Λ‖₁/(n ‖A‖₁ ε) < 60 and
//! ‖VᵀV − I‖₁/(n ε) < 60; eigenvalues of matrices built as `Q diag(λ) Qᵀ` must match `λ` within
//! 60 · n · ε · max|λ| (Weyl's bound), ascending.

use crate::common;

use common::la::*;
use common::*;
use ndarray::{Array1, Array2};
use parla::{Engine, Error, Exec, Scalar};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

const SIZES: [usize; 8] = [1, 2, 3, 7, 31, 64, 65, 100];
const THRESH: f64 = 60.0;

#[derive(Debug, Clone, Copy)]
enum Family {
    /// Uniform symmetric entries; eigenvalues not prescribed.
    Random,
    /// Prescribed eigenvalues uniform in [-1, 1].
    Prescribed,
    /// Prescribed eigenvalues ±(geometric from 1 to √ε).
    IllConditioned,
    /// Prescribed eigenvalues from {-1, 0.5, 2} only: large multiplicities.
    Clustered,
    /// Prescribed eigenvalues in [-1, 1], times 1e300 (f64) or 1e30 (f32).
    Scaled,
}

const FAMILIES: [Family; 5] = [
    Family::Random,
    Family::Prescribed,
    Family::IllConditioned,
    Family::Clustered,
    Family::Scaled,
];

fn symmetric<T: Scalar>(
    fam: Family,
    rng: &mut ChaCha8Rng,
    n: usize,
) -> (Array2<T>, Option<Vec<f64>>) {
    let scale = if eps::<T>() < 1e-10 { 1e300 } else { 1e30 };
    let (a, lambda) = match fam {
        Family::Random => {
            let mut a = random(rng, n, n);
            for i in 0..n {
                for j in 0..i {
                    a[[j, i]] = a[[i, j]];
                }
            }
            (a, None)
        }
        Family::Prescribed | Family::Scaled => {
            let l: Vec<f64> = (0..n).map(|_| rng.gen_range(-1.0..1.0)).collect();
            (symmetric_with_eigenvalues(rng, &l), Some(l))
        }
        Family::IllConditioned => {
            let l: Vec<f64> = geometric(n, eps::<T>().sqrt())
                .into_iter()
                .enumerate()
                .map(|(i, x)| if i % 2 == 0 { x } else { -x })
                .collect();
            (symmetric_with_eigenvalues(rng, &l), Some(l))
        }
        Family::Clustered => {
            let l: Vec<f64> = (0..n).map(|i| [-1.0, 0.5, 2.0][i % 3]).collect();
            (symmetric_with_eigenvalues(rng, &l), Some(l))
        }
    };
    let (a, lambda) = match fam {
        Family::Scaled => (
            a * scale,
            lambda.map(|l| l.iter().map(|x| x * scale).collect()),
        ),
        _ => (a, lambda),
    };
    let mut lambda = lambda;
    if let Some(l) = lambda.as_mut() {
        l.sort_by(f64::total_cmp);
    }
    (cast::<T>(&a), lambda)
}

fn check_values(w: &Array1<f64>, want: &Option<Vec<f64>>, e: f64, ctx: &str) {
    for p in w.windows(2) {
        assert!(p[0] <= p[1], "{ctx}: eigenvalues not ascending: {w}");
    }
    if let Some(want) = want {
        let n = want.len();
        let lmax = want.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        for (i, (&got, &l)) in w.iter().zip(want).enumerate() {
            let r = ratio((got - l).abs(), n as f64 * e * lmax);
            assert!(
                r < THRESH,
                "{ctx}: λ{i} = {got}, prescribed {l} (ratio {r})"
            );
        }
    }
}

fn check_eigh<T: Scalar>(a: &Array2<T>, f: &parla::Eigh<T>, want: &Option<Vec<f64>>, ctx: &str) {
    let n = a.nrows();
    assert_eq!(f.values.len(), n, "{ctx}: values");
    assert_eq!(f.vectors.dim(), (n, n), "{ctx}: vectors");
    let e = eps::<T>();
    let (a, v, w) = (
        to64(&a.view()),
        to64(&f.vectors.view()),
        vec64(&f.values.view()),
    );
    check_values(&w, want, e, ctx);
    let av = ref_matmul(&a.view(), &v.view());
    let mut vl = v.clone();
    for (j, &x) in w.iter().enumerate() {
        vl.column_mut(j).mapv_inplace(|y| y * x);
    }
    let r = ratio(
        diff1(&av.view(), &vl.view()),
        n as f64 * norm1_nan(&a.view()) * e,
    );
    assert!(r < THRESH, "{ctx}: ‖AV − VΛ‖₁/(n‖A‖₁ε) = {r}");
    let o = orth_defect(&v.view()) / (n as f64 * e);
    assert!(o < THRESH, "{ctx}: ‖VᵀV − I‖₁/(nε) = {o}");
}

fn all_cases<T: Scalar>(seed: u64) {
    let mut rng = rng(seed);
    for fam in FAMILIES {
        for n in SIZES {
            let (a, want) = symmetric::<T>(fam, &mut rng, n);
            for layout in LAYOUTS {
                let ctx = format!("{} {fam:?} n={n} {layout:?}", std::any::type_name::<T>());
                let st = Stored::new(&a, layout, T::of(6.0));
                let f = parla::eigh(&st.view()).unwrap();
                check_eigh(&a, &f, &want, &ctx);
                let w = vec64(&parla::eigvalsh(&st.view()).unwrap().view());
                assert_eq!(w.len(), n, "{ctx}");
                check_values(&w, &want, eps::<T>(), &format!("{ctx} eigvalsh"));
                // eigvalsh agrees with the values of eigh.
                let wv = vec64(&f.values.view());
                let scale = wv.iter().fold(0.0f64, |m, x| m.max(x.abs()));
                for (x, y) in w.iter().zip(&wv) {
                    let r = ratio((x - y).abs(), n as f64 * eps::<T>() * scale);
                    assert!(r < THRESH, "{ctx}: eigvalsh {x} vs eigh {y}");
                }
                assert!(st.guards_intact(), "{ctx}: guard");
            }
        }
    }
}

#[test]
fn eigh_f64() {
    all_cases::<f64>(1);
}

#[test]
fn eigh_f32() {
    all_cases::<f32>(2);
}

fn upper_triangle_ignored<T: Scalar>(seed: u64) {
    let mut rng = rng(seed);
    let one = Exec::blas(1).unwrap();
    for n in [2, 3, 7, 31, 65] {
        let (a, want) = symmetric::<T>(Family::Prescribed, &mut rng, n);
        let mut garbage = a.clone();
        let mut nan = a.clone();
        for i in 0..n {
            for j in i + 1..n {
                garbage[[i, j]] = T::of(rng.gen_range(-50.0..50.0));
                nan[[i, j]] = T::nan();
            }
        }
        for layout in LAYOUTS {
            let ctx = format!("{} n={n} {layout:?}", std::any::type_name::<T>());
            let clean = one
                .eigh(&Stored::new(&a, layout, T::zero()).view())
                .unwrap();
            check_eigh(&a, &clean, &want, &ctx);
            for (what, m) in [("garbage", &garbage), ("NaN", &nan)] {
                let st = Stored::new(m, layout, T::zero());
                assert_eq!(
                    one.eigh(&st.view()).unwrap(),
                    clean,
                    "{ctx}: {what} above the diagonal changed eigh"
                );
                assert_eq!(
                    one.eigvalsh(&st.view()).unwrap(),
                    one.eigvalsh(&Stored::new(&a, layout, T::zero()).view())
                        .unwrap(),
                    "{ctx}: {what} above the diagonal changed eigvalsh"
                );
            }
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
    for n in [100, 200] {
        let l: Vec<f64> = (0..n).map(|_| rng.gen_range(-1.0..1.0)).collect();
        let a = symmetric_with_eigenvalues(&mut rng, &l);
        let mut want = l.clone();
        want.sort_by(f64::total_cmp);
        for t in [1, 2] {
            let f = Exec::blas(t).unwrap().eigh(&a).unwrap();
            check_eigh(&a, &f, &Some(want.clone()), &format!("{t} threads n={n}"));
        }
    }
}

#[test]
fn diagonal_and_small_cases() {
    // A diagonal matrix: its diagonal, sorted, with unit vectors.
    let d: Array2<f64> = Array2::from_diag(&ndarray::array![3.0, -1.0, 2.0]);
    let f = parla::eigh(&d).unwrap();
    assert_eq!(f.values, ndarray::array![-1.0, 2.0, 3.0]);
    for (j, &i) in [1usize, 2, 0].iter().enumerate() {
        assert_eq!(f.vectors[[i, j]].abs(), 1.0);
    }
    // [[2, 1], [1, 2]]: eigenvalues 1 and 3, derived by hand.
    let w = parla::eigvalsh(&ndarray::array![[2.0f32, 1.0], [1.0, 2.0]]).unwrap();
    assert!((w[0] - 1.0).abs() < 4.0 * f32::EPSILON && (w[1] - 3.0).abs() < 8.0 * f32::EPSILON);
}

#[test]
fn empty_inputs() {
    let f = parla::eigh(&Array2::<f64>::zeros((0, 0))).unwrap();
    assert_eq!((f.values.len(), f.vectors.dim()), (0, (0, 0)));
    assert_eq!(
        parla::eigvalsh(&Array2::<f32>::zeros((0, 0)))
            .unwrap()
            .len(),
        0
    );
}

#[test]
fn errors() {
    let ns = |op| Error::NotSquare {
        op,
        rows: 2,
        cols: 3,
    };
    let r = Array2::<f64>::ones((2, 3));
    assert_eq!(parla::eigh(&r), Err(ns("eigh")));
    assert_eq!(parla::eigvalsh(&r), Err(ns("eigvalsh")));
    for layout in LAYOUTS {
        let mut a = Array2::<f64>::eye(4);
        a[[3, 1]] = f64::NEG_INFINITY;
        a[[2, 2]] = f64::NAN;
        a[[0, 1]] = f64::NAN; // upper triangle: not read
        let st = Stored::new(&a, layout, 0.0);
        let nf = |op| Error::NonFinite {
            op,
            index: vec![2, 2],
            value: "NaN".into(),
        };
        assert_eq!(parla::eigh(&st.view()), Err(nf("eigh")), "{layout:?}");
        assert_eq!(
            parla::eigvalsh(&st.view()),
            Err(nf("eigvalsh")),
            "{layout:?}"
        );
    }
    let big = i32::MAX as usize + 1;
    let z = Array2::<f64>::zeros((1, 1));
    let a = z.broadcast((big, big)).unwrap();
    let tl = |op| Error::TooLarge {
        op,
        what: "rows",
        value: big,
        max: i32::MAX as usize,
    };
    assert_eq!(parla::eigh(&a), Err(tl("eigh")));
    assert_eq!(parla::eigvalsh(&a), Err(tl("eigvalsh")));
    // The rayon engines implement both, with the same errors.
    for engine in [Engine::Rayon, Engine::RayonBlas] {
        let e = Exec::new(engine, 1).unwrap();
        let f = e.eigh(&Array2::<f64>::eye(2)).unwrap();
        assert_eq!(f.values, ndarray::array![1.0, 1.0], "{engine:?}");
        assert_eq!(f.vectors, Array2::<f64>::eye(2), "{engine:?}");
        assert_eq!(
            e.eigvalsh(&Array2::<f64>::eye(2)).unwrap(),
            ndarray::array![1.0, 1.0]
        );
        let f = e.eigh(&Array2::<f64>::zeros((0, 0))).unwrap();
        assert_eq!((f.values.len(), f.vectors.dim()), (0, (0, 0)));
        assert_eq!(e.eigh(&r), Err(ns("eigh")), "{engine:?}");
        let mut a = Array2::<f64>::eye(4);
        a[[2, 2]] = f64::NAN;
        let nf = |op| Error::NonFinite {
            op,
            index: vec![2, 2],
            value: "NaN".into(),
        };
        assert_eq!(e.eigh(&a), Err(nf("eigh")), "{engine:?}");
        assert_eq!(e.eigvalsh(&a), Err(nf("eigvalsh")), "{engine:?}");
        assert_eq!(
            Exec::new(engine, 2).unwrap().eigh(&a),
            Err(nf("eigh")),
            "{engine:?}"
        );
    }
}

#[test]
fn f32_eigh_beyond_the_f32_workspace_rounding_edge() {
    // ssyevd's workspace (1 + 6n + 2n² = 16_802_601 at n = 2897) is above 2²⁴, so its f32 query
    // answer rounds below the minimum it then requires. Eigenvalues of the tridiagonal
    // (2, -1) matrix are 2 - 2 cos(kπ/(n+1)), k = 1..n.
    let n = 2897;
    let mut a = Array2::<f32>::zeros((n, n));
    for i in 0..n {
        a[[i, i]] = 2.0;
        if i + 1 < n {
            a[[i + 1, i]] = -1.0;
            a[[i, i + 1]] = -1.0;
        }
    }
    let e = Exec::blas(2)
        .unwrap()
        .eigh(&a)
        .expect("f32 eigh at n = 2897");
    assert_eq!(e.vectors.dim(), (n, n));
    for (k, &w) in e.values.iter().enumerate() {
        let exact = 2.0 - 2.0 * ((k + 1) as f64 * std::f64::consts::PI / (n + 1) as f64).cos();
        assert!(
            (w as f64 - exact).abs() <= 4.0 * n as f64 * f32::EPSILON as f64 * 4.0,
            "λ{k}: {w} vs {exact}"
        );
    }
}
