//! Singular value decomposition and what is built on it: `svd` (full and thin), `svdvals`,
//! `pinv`, `cond`, `matrix_rank`.
//!
//! Accuracy: LAPACK's `dbdt01`/`dort01` ratios ‖U Σ Vᵀ − A‖₁/(max(m,n) ‖A‖₁ ε) < 50 and
//! ‖UᵀU − I‖₁/(m ε), ‖VᵀV − I‖₁/(n ε) < 50; singular values of matrices built as `U diag(s) Vᵀ`
//! must match `s` within 50 · max(m,n) · ε · σ_max (Weyl's bound for a backward-stable SVD).

use crate::common;

use common::la::*;
use common::*;
use ndarray::{s, Array1, Array2};
use parla::{Engine, Error, Exec, Scalar, SvdMode};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

const THRESH: f64 = 50.0;

const SHAPES: [(usize, usize); 16] = [
    (1, 1),
    (2, 2),
    (3, 3),
    (7, 7),
    (31, 31),
    (64, 64),
    (65, 65),
    (100, 100),
    (7, 3),
    (65, 31),
    (100, 64),
    (3, 7),
    (31, 65),
    (64, 100),
    (1, 6),
    (6, 1),
];

#[derive(Debug, Clone, Copy)]
enum Family {
    /// Uniform entries; singular values not prescribed.
    Random,
    /// Prescribed singular values, uniform in [0.1, 1].
    Prescribed,
    /// Prescribed singular values, geometric from 1 to √ε.
    IllConditioned,
    /// Prescribed singular values in [0.1, 1], times 1e300 (f64) or 1e30 (f32).
    Scaled,
}

const FAMILIES: [Family; 4] = [
    Family::Random,
    Family::Prescribed,
    Family::IllConditioned,
    Family::Scaled,
];

fn big<T: Scalar>() -> f64 {
    if eps::<T>() < 1e-10 {
        1e300
    } else {
        1e30
    }
}

/// The matrix in `T` and, when prescribed, its singular values (descending, in f64).
fn matrix<T: Scalar>(
    fam: Family,
    rng: &mut ChaCha8Rng,
    m: usize,
    n: usize,
) -> (Array2<T>, Option<Vec<f64>>) {
    let k = m.min(n);
    let mut uniform = || {
        let mut s: Vec<f64> = (0..k).map(|_| rng.gen_range(0.1..1.0)).collect();
        s.sort_by(|a, b| b.total_cmp(a));
        s
    };
    let (a, s) = match fam {
        Family::Random => (random(rng, m, n), None),
        Family::Prescribed => {
            let s = uniform();
            (with_singular_values(rng, m, n, &s), Some(s))
        }
        Family::IllConditioned => {
            let s = geometric(k, eps::<T>().sqrt());
            (with_singular_values(rng, m, n, &s), Some(s))
        }
        Family::Scaled => {
            let s = uniform();
            let a = with_singular_values(rng, m, n, &s) * big::<T>();
            (a, Some(s.iter().map(|x| x * big::<T>()).collect()))
        }
    };
    (cast::<T>(&a), s)
}

fn check_values(s: &Array1<f64>, want: &Option<Vec<f64>>, mn: usize, e: f64, ctx: &str) {
    for w in s.windows(2) {
        assert!(w[0] >= w[1], "{ctx}: singular values not descending: {s}");
    }
    assert!(
        s.iter().all(|&x| x >= 0.0),
        "{ctx}: negative singular value"
    );
    if let Some(want) = want {
        let smax = want.first().copied().unwrap_or(0.0);
        for (i, (&got, &w)) in s.iter().zip(want).enumerate() {
            let r = ratio((got - w).abs(), mn as f64 * e * smax);
            assert!(
                r < THRESH,
                "{ctx}: σ{i} = {got}, prescribed {w} (ratio {r})"
            );
        }
    }
}

fn check_svd<T: Scalar>(
    a: &Array2<T>,
    f: &parla::Svd<T>,
    full: bool,
    want: &Option<Vec<f64>>,
    ctx: &str,
) {
    let (m, n) = a.dim();
    let k = m.min(n);
    let (uc, vr) = if full { (m, n) } else { (k, k) };
    assert_eq!(f.u.dim(), (m, uc), "{ctx}: U shape");
    assert_eq!(f.vt.dim(), (vr, n), "{ctx}: Vᵀ shape");
    assert_eq!(f.s.len(), k, "{ctx}: s length");
    let e = eps::<T>();
    let (a, u, vt, s) = (
        to64(&a.view()),
        to64(&f.u.view()),
        to64(&f.vt.view()),
        vec64(&f.s.view()),
    );
    check_values(&s, want, m.max(n), e, ctx);
    let mut us = u.slice(s![.., ..k]).to_owned();
    for (j, &x) in s.iter().enumerate() {
        us.column_mut(j).mapv_inplace(|v| v * x);
    }
    let usv = ref_matmul(&us.view(), &vt.slice(s![..k, ..]));
    let r = ratio(
        diff1(&usv.view(), &a.view()),
        m.max(n) as f64 * norm1_nan(&a.view()) * e,
    );
    assert!(r < THRESH, "{ctx}: ‖UΣVᵀ − A‖₁/(max(m,n)‖A‖₁ε) = {r}");
    let ou = orth_defect(&u.view()) / (m as f64 * e);
    assert!(ou < THRESH, "{ctx}: ‖UᵀU − I‖₁/(mε) = {ou}");
    let ov = orth_defect(&vt.t()) / (n as f64 * e);
    assert!(ov < THRESH, "{ctx}: ‖VVᵀ − I‖₁/(nε) = {ov}");
}

fn all_cases<T: Scalar>(seed: u64) {
    let mut rng = rng(seed);
    for fam in FAMILIES {
        for (m, n) in SHAPES {
            let (a, want) = matrix::<T>(fam, &mut rng, m, n);
            for layout in LAYOUTS {
                let ctx = format!("{} {fam:?} {m}x{n} {layout:?}", std::any::type_name::<T>());
                let st = Stored::new(&a, layout, T::of(-4.0));
                for full in [false, true] {
                    let f = parla::svd(&st.view(), mode(full)).unwrap();
                    check_svd(&a, &f, full, &want, &format!("{ctx} full={full}"));
                }
                let s = vec64(&parla::svdvals(&st.view()).unwrap().view());
                assert_eq!(s.len(), m.min(n), "{ctx}");
                check_values(&s, &want, m.max(n), eps::<T>(), &format!("{ctx} svdvals"));
                // svdvals agrees with the values of svd (different LAPACK paths).
                let s2 = vec64(&parla::svd(&st.view(), SvdMode::Thin).unwrap().s.view());
                let smax = s2.first().copied().unwrap_or(0.0);
                for (x, y) in s.iter().zip(&s2) {
                    let r = ratio((x - y).abs(), m.max(n) as f64 * eps::<T>() * smax);
                    assert!(r < THRESH, "{ctx}: svdvals {x} vs svd {y}");
                }
                assert!(st.guards_intact(), "{ctx}: guard");
            }
        }
    }
}

#[test]
fn svd_f64() {
    all_cases::<f64>(1);
}

#[test]
fn svd_f32() {
    all_cases::<f32>(2);
}

#[test]
fn one_and_two_threads_agree() {
    let mut rng = rng(3);
    for (m, n) in [(200, 120), (120, 200)] {
        let s: Vec<f64> = geometric(m.min(n), 1e-3);
        let a = with_singular_values(&mut rng, m, n, &s);
        for t in [1, 2] {
            let f = Exec::blas(t).unwrap().svd(&a, SvdMode::Thin).unwrap();
            check_svd(
                &a,
                &f,
                false,
                &Some(s.clone()),
                &format!("{t} threads {m}x{n}"),
            );
        }
    }
}

/// `V diag(1/σᵢ for σᵢ > cut) Uᵀ` from the factors a matrix was built with.
fn ref_pinv(u: &Array2<f64>, s: &[f64], v: &Array2<f64>, cut: f64) -> Array2<f64> {
    let (m, n) = (u.nrows(), v.nrows());
    let mut sp = Array2::zeros((n, m));
    for (i, &x) in s.iter().enumerate() {
        if x > cut {
            sp[[i, i]] = 1.0 / x;
        }
    }
    ref_matmul(&ref_matmul(&v.view(), &sp.view()).view(), &u.t())
}

#[test]
fn pinv_matches_the_factors_it_was_built_from() {
    let mut rng = rng(4);
    for (m, n) in SHAPES {
        let k = m.min(n);
        for rank in [k, k / 2] {
            // `rank` singular values in [0.5, 1], the rest exactly zero.
            let s: Vec<f64> = (0..k)
                .map(|i| {
                    if i < rank {
                        1.0 - 0.5 * i as f64 / k as f64
                    } else {
                        0.0
                    }
                })
                .collect();
            let (a, u, v) = svd_parts(&mut rng, m, n, &s);
            let want = ref_pinv(&u, &s, &v, 0.0);
            for layout in [LAYOUTS[0], LAYOUTS[2], LAYOUTS[3]] {
                let st = Stored::new(&a, layout, 1.5);
                // Rank-deficient: an explicit rtol far above the rounding noise of the zeros
                // (the default max(m,n)·ε is below it for the smallest shapes).
                let rtol = if rank < k { Some(1e-8) } else { None };
                let x = parla::pinv(&st.view(), rtol).unwrap();
                assert_eq!(x.dim(), (n, m));
                let err = ratio(diff1(&x.view(), &want.view()), norm1_nan(&want.view()));
                assert!(
                    err < 100.0 * m.max(n) as f64 * f64::EPSILON,
                    "{m}x{n} rank {rank} {layout:?}: relative error {err}"
                );
            }
            // f32: the same matrix rounded.
            let rtol = if rank < k { Some(1e-4) } else { None };
            let x = parla::pinv(&cast::<f32>(&a), rtol).unwrap();
            let err = ratio(
                diff1(&to64(&x.view()).view(), &want.view()),
                norm1_nan(&want.view()),
            );
            assert!(
                err < 100.0 * m.max(n) as f64 * f32::EPSILON as f64,
                "f32 {m}x{n} rank {rank}: relative error {err}"
            );
        }
    }
}

#[test]
fn pinv_satisfies_the_penrose_conditions() {
    let mut rng = rng(5);
    for (m, n) in [(7, 7), (31, 20), (20, 31), (64, 65)] {
        let a = random(&mut rng, m, n);
        let x = parla::pinv(&a, None).unwrap();
        let (na, nx) = (norm1_nan(&a.view()), norm1_nan(&x.view()));
        let e = m.max(n) as f64 * f64::EPSILON;
        let ax = ref_matmul(&a.view(), &x.view());
        let xa = ref_matmul(&x.view(), &a.view());
        let axa = ref_matmul(&ax.view(), &a.view());
        let xax = ref_matmul(&xa.view(), &x.view());
        let r1 = diff1(&axa.view(), &a.view()) / (na * na * nx * e);
        let r2 = diff1(&xax.view(), &x.view()) / (nx * nx * na * e);
        let r3 = diff1(&ax.view(), &ax.t()) / (na * nx * e);
        let r4 = diff1(&xa.view(), &xa.t()) / (na * nx * e);
        for (i, r) in [r1, r2, r3, r4].into_iter().enumerate() {
            assert!(r < THRESH, "{m}x{n}: Penrose condition {} ratio {r}", i + 1);
        }
    }
}

#[test]
fn pinv_rtol_drops_small_singular_values() {
    let mut rng = rng(6);
    let s = [1.0, 0.5, 1e-3, 1e-6];
    let (a, u, v) = svd_parts(&mut rng, 6, 4, &s);
    for (rtol, cut) in [(1e-2, 1e-2), (1e-4, 1e-4), (0.6, 0.6), (2.0, 2.0)] {
        let want = ref_pinv(&u, &s, &v, cut);
        let x = parla::pinv(&a, Some(rtol)).unwrap();
        let scale = norm1_nan(&want.view()).max(1.0);
        let err = diff1(&x.view(), &want.view()) / scale;
        // The error of the kept part grows with 1/σ_min(kept)².
        let kept_min = s.iter().copied().filter(|&x| x > cut).fold(1.0, f64::min);
        assert!(
            err < 1e3 * f64::EPSILON / (kept_min * kept_min),
            "rtol {rtol}: error {err}"
        );
    }
    // Zero matrix and empty shapes.
    assert_eq!(
        parla::pinv(&Array2::<f64>::zeros((3, 2)), None).unwrap(),
        Array2::<f64>::zeros((2, 3))
    );
    for (m, n) in [(0, 0), (3, 0), (0, 3)] {
        let x = parla::pinv(&Array2::<f64>::zeros((m, n)), None).unwrap();
        assert_eq!(x.dim(), (n, m));
    }
}

#[test]
fn cond_matches_prescribed_singular_values() {
    let mut rng = rng(7);
    for (m, n) in SHAPES {
        let k = m.min(n);
        for lo in [0.1, f64::EPSILON.sqrt()] {
            let s = geometric(k, lo);
            let a = with_singular_values(&mut rng, m, n, &s);
            let want = s[0] / s[k - 1];
            let c = parla::cond(&a).unwrap();
            let tol = 100.0 * m.max(n) as f64 * f64::EPSILON * want;
            assert!(
                (c - want).abs() <= tol * want,
                "{m}x{n} lo={lo}: cond {c} vs {want}"
            );
            let c32 = parla::cond(&cast::<f32>(&a)).unwrap() as f64;
            let tol = 100.0 * m.max(n) as f64 * f32::EPSILON as f64 * want;
            if tol < 0.5 {
                assert!(
                    (c32 - want).abs() <= tol * want,
                    "f32 {m}x{n} lo={lo}: cond {c32} vs {want}"
                );
            }
        }
    }
    // Singular: infinity.
    let d = Array2::from_diag(&ndarray::array![3.0, 0.0, 1.0]);
    assert_eq!(parla::cond(&d).unwrap(), f64::INFINITY);
    assert_eq!(
        parla::cond(&Array2::<f32>::zeros((2, 3))).unwrap(),
        f32::INFINITY
    );
    // Empty: undefined.
    for (m, n) in [(0, 0), (0, 3), (3, 0)] {
        assert_eq!(
            parla::cond(&Array2::<f64>::zeros((m, n))),
            Err(Error::Empty {
                op: "cond",
                shape: vec![m, n]
            })
        );
    }
}

#[test]
fn matrix_rank_counts_prescribed_nonzero_singular_values() {
    let mut rng = rng(8);
    for (m, n) in SHAPES {
        let k = m.min(n);
        for rank in [0, 1, k / 2, k.saturating_sub(1), k] {
            let s: Vec<f64> = (0..k).map(|i| if i < rank { 1.0 } else { 0.0 }).collect();
            let a = with_singular_values(&mut rng, m, n, &s);
            // An explicit tolerance far from both the kept values and the rounding noise.
            assert_eq!(parla::matrix_rank(&a, Some(1e-8)).unwrap(), rank, "{m}x{n}");
            assert_eq!(
                parla::matrix_rank(&cast::<f32>(&a), Some(1e-3)).unwrap(),
                rank,
                "f32 {m}x{n}"
            );
            // The default σ_max · max(m, n) · ε is above the rounding noise (a few ε) once
            // max(m, n) ≥ 7.
            if m.max(n) >= 7 {
                assert_eq!(
                    parla::matrix_rank(&a, None).unwrap(),
                    rank,
                    "{m}x{n} default"
                );
            }
        }
    }
    let s = [1.0, 1e-3, 1e-6];
    let a = with_singular_values(&mut rng, 5, 3, &s);
    assert_eq!(parla::matrix_rank(&a, Some(1e-4)).unwrap(), 2);
    assert_eq!(parla::matrix_rank(&a, Some(1e-2)).unwrap(), 1);
    assert_eq!(parla::matrix_rank(&a, Some(2.0)).unwrap(), 0);
    assert_eq!(parla::matrix_rank(&a, None).unwrap(), 3);
    for (m, n) in [(0, 0), (0, 3), (3, 0)] {
        assert_eq!(
            parla::matrix_rank(&Array2::<f64>::zeros((m, n)), None).unwrap(),
            0
        );
    }
    assert_eq!(
        parla::matrix_rank(&Array2::<f64>::zeros((4, 4)), None).unwrap(),
        0
    );
}

#[test]
fn empty_inputs() {
    for (m, n) in [(0, 0), (4, 0), (0, 4)] {
        let a = Array2::<f64>::zeros((m, n));
        let f = parla::svd(&a, SvdMode::Full).unwrap();
        assert_eq!(f.u, Array2::<f64>::eye(m), "{m}x{n}: full U = I_m");
        assert_eq!(f.vt, Array2::<f64>::eye(n), "{m}x{n}: full Vᵀ = I_n");
        assert_eq!(f.s.len(), 0);
        let f = parla::svd(&a, SvdMode::Thin).unwrap();
        assert_eq!((f.u.dim(), f.vt.dim(), f.s.len()), ((m, 0), (0, n), 0));
        assert_eq!(parla::svdvals(&a).unwrap().len(), 0);
    }
    let f = parla::svd(&Array2::<f32>::zeros((3, 0)), SvdMode::Full).unwrap();
    assert_eq!(f.u, Array2::<f32>::eye(3));
}

#[test]
fn invalid_tolerances() {
    let a = Array2::<f64>::eye(3);
    for bad in [-1e-3, f64::NAN, f64::NEG_INFINITY] {
        assert!(
            matches!(
                parla::pinv(&a, Some(bad)),
                Err(Error::InvalidArgument {
                    op: "pinv",
                    name: "rtol",
                    ..
                })
            ),
            "rtol {bad}"
        );
        assert!(
            matches!(
                parla::matrix_rank(&a, Some(bad)),
                Err(Error::InvalidArgument {
                    op: "matrix_rank",
                    name: "tol",
                    ..
                })
            ),
            "tol {bad}"
        );
    }
    // Checked before the shape is looked at.
    assert!(matches!(
        parla::pinv(&Array2::<f32>::zeros((0, 2)), Some(-1.0)),
        Err(Error::InvalidArgument { .. })
    ));
    // Zero is a valid tolerance.
    assert_eq!(parla::pinv(&a, Some(0.0)).unwrap(), a);
    assert_eq!(parla::matrix_rank(&a, Some(0.0)).unwrap(), 3);
}

#[test]
fn non_finite_inputs() {
    for layout in LAYOUTS {
        let mut a = Array2::<f64>::ones((4, 5));
        a[[3, 0]] = f64::NAN;
        a[[2, 4]] = f64::INFINITY;
        let st = Stored::new(&a, layout, 0.0);
        let v = st.view();
        let nf = |op| Error::NonFinite {
            op,
            index: vec![2, 4],
            value: "inf".into(),
        };
        assert_eq!(parla::svd(&v, SvdMode::Full), Err(nf("svd")), "{layout:?}");
        assert_eq!(parla::svd(&v, SvdMode::Thin), Err(nf("svd")), "{layout:?}");
        assert_eq!(parla::svdvals(&v), Err(nf("svdvals")), "{layout:?}");
        assert_eq!(parla::pinv(&v, None), Err(nf("pinv")), "{layout:?}");
        assert_eq!(parla::cond(&v), Err(nf("cond")), "{layout:?}");
        assert_eq!(
            parla::matrix_rank(&v, None),
            Err(nf("matrix_rank")),
            "{layout:?}"
        );
    }
    let a = ndarray::array![[1.0f32, f32::NAN]];
    assert_eq!(
        parla::svdvals(&a),
        Err(Error::NonFinite {
            op: "svdvals",
            index: vec![0, 1],
            value: "NaN".into()
        })
    );
}

#[test]
fn too_large_and_unsupported() {
    let big = i32::MAX as usize + 1;
    let z = Array2::<f64>::zeros((1, 1));
    let imax = i32::MAX as usize;
    for (shape, what) in [((big, big), "rows"), ((2, big), "columns")] {
        let a = z.broadcast(shape).unwrap();
        let tl = |op| Error::TooLarge {
            op,
            what,
            value: big,
            max: imax,
        };
        assert_eq!(parla::svd(&a, SvdMode::Full), Err(tl("svd")));
        assert_eq!(parla::svd(&a, SvdMode::Thin), Err(tl("svd")));
        assert_eq!(parla::svdvals(&a), Err(tl("svdvals")));
        assert_eq!(parla::pinv(&a, None), Err(tl("pinv")));
        assert_eq!(parla::cond(&a), Err(tl("cond")));
        assert_eq!(parla::matrix_rank(&a, None), Err(tl("matrix_rank")));
    }
    // The rayon engines implement all of them, with the same errors.
    let a = Array2::<f64>::eye(2);
    for engine in [Engine::Rayon, Engine::RayonBlas] {
        let e = Exec::new(engine, 1).unwrap();
        let f = e.svd(&a, SvdMode::Full).unwrap();
        assert_eq!(f.s, ndarray::array![1.0, 1.0], "{engine:?}");
        assert_eq!(e.svdvals(&a).unwrap(), ndarray::array![1.0, 1.0]);
        assert_eq!(e.pinv(&a, None).unwrap(), a);
        assert_eq!(e.cond(&a).unwrap(), 1.0);
        assert_eq!(e.matrix_rank(&a, None).unwrap(), 2);
        let f = e.svd(&Array2::<f64>::zeros((2, 0)), SvdMode::Full).unwrap();
        assert_eq!((f.u, f.s.len(), f.vt.dim()), (Array2::eye(2), 0, (0, 0)));
        let mut b = Array2::<f64>::ones((4, 5));
        b[[2, 4]] = f64::INFINITY;
        let nf = |op| Error::NonFinite {
            op,
            index: vec![2, 4],
            value: "inf".into(),
        };
        assert_eq!(e.svd(&b, SvdMode::Thin), Err(nf("svd")), "{engine:?}");
        assert_eq!(e.svdvals(&b), Err(nf("svdvals")), "{engine:?}");
        assert_eq!(e.pinv(&b, None), Err(nf("pinv")), "{engine:?}");
        assert_eq!(e.cond(&b), Err(nf("cond")), "{engine:?}");
        assert_eq!(
            e.matrix_rank(&b, None),
            Err(nf("matrix_rank")),
            "{engine:?}"
        );
    }
}

/// The [`SvdMode`](parla::SvdMode) of a `full` flag.
fn mode(full: bool) -> parla::SvdMode {
    if full {
        parla::SvdMode::Full
    } else {
        parla::SvdMode::Thin
    }
}
