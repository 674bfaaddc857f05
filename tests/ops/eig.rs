//! General (non-symmetric) eigendecomposition: `eig` and `eigvals`.
//!
//! Accuracy: ‖A V − V Λ‖₁/(n ‖A‖₁ ε) < 60 in complex arithmetic (f64, compensated sums);
//! eigenvectors have Euclidean norm 1 with the largest component real; complex eigenvalues
//! come in conjugate pairs (positive imaginary part first) with conjugate vectors. Matrices
//! built as `Q R Qᵀ` from 2×2 rotation blocks are normal, so their eigenvalues `r e^{±iθ}` are
//! recovered within 60 · n · ε · ‖A‖₂.

use crate::common;

use std::f64::consts::PI;

use common::la::*;
use common::*;
use ndarray::{Array1, Array2};
use parla::{Complex, Engine, Error, Exec, Scalar};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

const SIZES: [usize; 8] = [1, 2, 3, 7, 31, 64, 65, 100];
const THRESH: f64 = 60.0;

type C64 = Complex<f64>;

#[derive(Debug, Clone, Copy)]
enum Family {
    /// Uniform entries.
    Random,
    /// `Q R Qᵀ` with `R` block diagonal of scaled 2×2 rotations (and a 1×1 block when n is
    /// odd): normal, eigenvalues known.
    Rotations,
    /// Singular values geometric from 1 to √ε (non-normal).
    IllConditioned,
    /// Upper triangular: the eigenvalues are the diagonal.
    Triangular,
    /// Rotations times 1e300 (f64) or 1e30 (f32).
    Scaled,
}

const FAMILIES: [Family; 5] = [
    Family::Random,
    Family::Rotations,
    Family::IllConditioned,
    Family::Triangular,
    Family::Scaled,
];

/// `Q R Qᵀ` and its eigenvalues.
fn rotations(rng: &mut ChaCha8Rng, n: usize) -> (Array2<f64>, Vec<C64>) {
    let mut r = Array2::zeros((n, n));
    let mut want = Vec::new();
    let mut i = 0;
    while i + 1 < n {
        let rad = rng.gen_range(0.5..1.0);
        let th = rng.gen_range(0.2..PI - 0.2);
        let (c, s) = (rad * f64::cos(th), rad * f64::sin(th));
        r[[i, i]] = c;
        r[[i, i + 1]] = -s;
        r[[i + 1, i]] = s;
        r[[i + 1, i + 1]] = c;
        want.push(C64::new(c, s));
        want.push(C64::new(c, -s));
        i += 2;
    }
    if i < n {
        let x = rng.gen_range(-1.0..1.0);
        r[[i, i]] = x;
        want.push(C64::new(x, 0.0));
    }
    let q = random_orthogonal(rng, n);
    let a = ref_matmul(&ref_matmul(&q.view(), &r.view()).view(), &q.t());
    (a, want)
}

fn matrix<T: Scalar>(fam: Family, rng: &mut ChaCha8Rng, n: usize) -> (Array2<T>, Option<Vec<C64>>) {
    let scale = if eps::<T>() < 1e-10 { 1e300 } else { 1e30 };
    let (a, want) = match fam {
        Family::Random => (random(rng, n, n), None),
        Family::Rotations => {
            let (a, w) = rotations(rng, n);
            (a, Some(w))
        }
        Family::IllConditioned => (
            with_singular_values(rng, n, n, &geometric(n, eps::<T>().sqrt())),
            None,
        ),
        Family::Triangular => {
            let mut a = random(rng, n, n);
            for i in 0..n {
                for j in 0..i {
                    a[[i, j]] = 0.0;
                }
            }
            // Rounded to T before the eigenvalues are read off.
            let a = to64(&cast::<T>(&a).view());
            let w = (0..n).map(|i| C64::new(a[[i, i]], 0.0)).collect();
            (a, Some(w))
        }
        Family::Scaled => {
            let (a, w) = rotations(rng, n);
            (a * scale, Some(w.iter().map(|z| z * scale).collect()))
        }
    };
    (cast::<T>(&a), want)
}

/// ‖X‖₁ of a complex matrix (NaN if an entry is NaN).
fn cnorm1(x: &Array2<C64>) -> f64 {
    let mut m = 0.0f64;
    for c in x.columns() {
        let s: f64 = c.iter().map(|z| z.norm()).sum();
        if s.is_nan() {
            return f64::NAN;
        }
        m = m.max(s);
    }
    m
}

/// Each expected value has a distinct computed value within `tol`.
fn match_values(got: &Array1<C64>, want: &[C64], tol: f64, ctx: &str) {
    assert_eq!(got.len(), want.len(), "{ctx}");
    let mut used = vec![false; got.len()];
    for w in want {
        let (best, d) = got
            .iter()
            .enumerate()
            .filter(|(i, _)| !used[*i])
            .map(|(i, z)| (i, (z - w).norm()))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap();
        assert!(
            d <= tol,
            "{ctx}: no eigenvalue near {w} (closest {}, {d})",
            got[best]
        );
        used[best] = true;
    }
}

fn check_eig<T: Scalar>(a: &Array2<T>, f: &parla::Eig<T>, ctx: &str) {
    let n = a.nrows();
    assert_eq!(f.values.len(), n, "{ctx}");
    assert_eq!(f.vectors.dim(), (n, n), "{ctx}");
    let e = eps::<T>();
    // A and Λ divided by the same power of two (exact) near ‖A‖: the ratio is unchanged, and
    // n‖A‖ε neither underflows (subnormal A) nor A V overflows.
    let a = to64(&a.view());
    let amax = a.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    let p = if amax > 0.0 && amax.is_finite() {
        let k = amax.log2().floor() as i32;
        2f64.powi(k / 2) * 2f64.powi(k - k / 2)
    } else {
        1.0
    };
    let a = a.mapv(|x| x / p);
    let w: Array1<C64> = f
        .values
        .mapv(|z| C64::new(z.re.as_f64() / p, z.im.as_f64() / p));
    let v: Array2<C64> = f.vectors.mapv(|z| C64::new(z.re.as_f64(), z.im.as_f64()));
    // Conjugate pairs, positive imaginary part first, with conjugate vectors.
    let mut j = 0;
    while j < n {
        if w[j].im == 0.0 {
            assert!(
                v.column(j).iter().all(|z| z.im == 0.0),
                "{ctx}: vector {j} of a real eigenvalue is not real"
            );
            j += 1;
        } else {
            assert!(j + 1 < n, "{ctx}: unpaired complex eigenvalue {}", w[j]);
            assert!(w[j].im > 0.0, "{ctx}: pair {j} starts with {}", w[j]);
            assert_eq!(w[j + 1], w[j].conj(), "{ctx}: pair {j} not conjugate");
            for i in 0..n {
                assert_eq!(
                    v[[i, j + 1]],
                    v[[i, j]].conj(),
                    "{ctx}: vectors {j}, {}",
                    j + 1
                );
            }
            j += 2;
        }
    }
    // Unit norm, largest component real.
    for (j, col) in v.columns().into_iter().enumerate() {
        let norm = col.iter().map(|z| z.norm_sqr()).sum::<f64>().sqrt();
        assert!(
            (norm - 1.0).abs() < THRESH * n as f64 * e,
            "{ctx}: ‖v{j}‖ = {norm}"
        );
        let big = col.iter().map(|z| z.norm()).fold(0.0, f64::max);
        assert!(
            col.iter()
                .any(|z| z.im == 0.0 && z.norm() >= big * (1.0 - THRESH * n as f64 * e)),
            "{ctx}: no real component of largest modulus in v{j}"
        );
    }
    // ‖A V − V Λ‖₁ / (n ‖A‖₁ ε).
    let vr = v.mapv(|z| z.re);
    let vi = v.mapv(|z| z.im);
    let (avr, avi) = (
        ref_matmul(&a.view(), &vr.view()),
        ref_matmul(&a.view(), &vi.view()),
    );
    let res = Array2::from_shape_fn((n, n), |(i, j)| {
        C64::new(avr[[i, j]], avi[[i, j]]) - v[[i, j]] * w[j]
    });
    let r = ratio(cnorm1(&res), n as f64 * norm1_nan(&a.view()) * e);
    assert!(r < THRESH, "{ctx}: ‖AV − VΛ‖₁/(n‖A‖₁ε) = {r}");
}

fn all_cases<T: Scalar>(seed: u64) {
    let mut rng = rng(seed);
    for fam in FAMILIES {
        for n in SIZES {
            let (a, want) = matrix::<T>(fam, &mut rng, n);
            let a64 = to64(&a.view());
            for layout in LAYOUTS {
                let ctx = format!("{} {fam:?} n={n} {layout:?}", std::any::type_name::<T>());
                let st = Stored::new(&a, layout, T::of(-2.0));
                let f = parla::eig(&st.view()).unwrap();
                check_eig(&a, &f, &ctx);
                let w = f.values.mapv(|z| C64::new(z.re.as_f64(), z.im.as_f64()));
                if let Some(want) = &want {
                    // Normal (rotations) or triangular: well-conditioned eigenvalues.
                    let scale = match fam {
                        Family::Triangular => fro_safe(&a64.view()),
                        _ => want.iter().map(|z| z.norm()).fold(0.0, f64::max),
                    };
                    let tol = THRESH * n as f64 * eps::<T>() * scale;
                    match_values(&w, want, tol, &ctx);
                }
                // eigvals: the same values (to rounding; vectors not computed).
                let wv = parla::eigvals(&st.view())
                    .unwrap()
                    .mapv(|z| C64::new(z.re.as_f64(), z.im.as_f64()));
                let tol = match want {
                    Some(_) => THRESH * n as f64 * eps::<T>() * fro_safe(&a64.view()),
                    // Eigenvalues of non-normal matrices are less well conditioned.
                    None => eps::<T>().sqrt() * fro_safe(&a64.view()),
                };
                match_values(&wv, &w.to_vec(), tol, &format!("{ctx} eigvals"));
                assert!(st.guards_intact(), "{ctx}: guard");
            }
        }
    }
}

#[test]
fn eig_f64() {
    all_cases::<f64>(1);
}

#[test]
fn eig_f32() {
    all_cases::<f32>(2);
}

#[test]
fn rotation_gives_a_conjugate_pair() {
    // A rotation by θ scaled by r: eigenvalues r e^{±iθ}, vectors (1, ∓i)/√2 up to phase.
    for (r, th) in [(1.0, PI / 2.0), (2.0, PI / 3.0), (0.5, 2.5)] {
        let (c, s) = (r * f64::cos(th), r * f64::sin(th));
        let a = ndarray::array![[c, -s], [s, c]];
        let f = parla::eig(&a).unwrap();
        check_eig(&a, &f, &format!("rotation r={r} θ={th}"));
        let tol = 8.0 * f64::EPSILON * r;
        assert!(
            (f.values[0] - C64::new(c, s)).norm() < tol,
            "{}",
            f.values[0]
        );
        assert!(
            (f.values[1] - C64::new(c, -s)).norm() < tol,
            "{}",
            f.values[1]
        );
        // v = (1, -i)/√2 · phase, largest component real: one of the two has modulus 1/√2
        // and real, the other is ∓ i times it.
        let v0 = f.vectors.column(0);
        let h = std::f64::consts::FRAC_1_SQRT_2;
        assert!((v0[0].norm() - h).abs() < 4.0 * f64::EPSILON);
        assert!((v0[1].norm() - h).abs() < 4.0 * f64::EPSILON);
        assert!((v0[1] - v0[0] * C64::new(0.0, -1.0)).norm() < 8.0 * f64::EPSILON);
    }
}

#[test]
fn one_and_two_threads_agree() {
    let mut rng = rng(3);
    for n in [100, 160] {
        let (a, want) = rotations(&mut rng, n);
        for t in [1, 2] {
            let f = Exec::blas(t).unwrap().eig(&a).unwrap();
            let ctx = format!("{t} threads n={n}");
            check_eig(&a, &f, &ctx);
            match_values(&f.values, &want, THRESH * n as f64 * f64::EPSILON, &ctx);
        }
    }
}

#[test]
fn empty_inputs() {
    let f = parla::eig(&Array2::<f64>::zeros((0, 0))).unwrap();
    assert_eq!((f.values.len(), f.vectors.dim()), (0, (0, 0)));
    assert_eq!(
        parla::eigvals(&Array2::<f32>::zeros((0, 0))).unwrap().len(),
        0
    );
}

#[test]
fn errors() {
    let r = Array2::<f64>::ones((3, 2));
    let ns = |op| Error::NotSquare {
        op,
        rows: 3,
        cols: 2,
    };
    assert_eq!(parla::eig(&r), Err(ns("eig")));
    assert_eq!(parla::eigvals(&r), Err(ns("eigvals")));
    for layout in LAYOUTS {
        let mut a = Array2::<f64>::eye(4);
        a[[3, 0]] = f64::NAN;
        a[[0, 3]] = f64::INFINITY;
        let st = Stored::new(&a, layout, 0.0);
        let nf = |op| Error::NonFinite {
            op,
            index: vec![0, 3],
            value: "inf".into(),
        };
        assert_eq!(parla::eig(&st.view()), Err(nf("eig")), "{layout:?}");
        assert_eq!(parla::eigvals(&st.view()), Err(nf("eigvals")), "{layout:?}");
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
    assert_eq!(parla::eig(&a), Err(tl("eig")));
    assert_eq!(parla::eigvals(&a), Err(tl("eigvals")));
    // The rayon engines: the same errors, and n = 0 answered as on `blas`.
    for engine in [Engine::Rayon, Engine::RayonBlas] {
        let e = Exec::new(engine, 2).unwrap();
        assert_eq!(e.eig(&r), Err(ns("eig")), "{engine:?}");
        assert_eq!(e.eigvals(&r), Err(ns("eigvals")), "{engine:?}");
        let mut a = Array2::<f64>::eye(4);
        a[[0, 3]] = f64::NEG_INFINITY;
        let nf = |op| Error::NonFinite {
            op,
            index: vec![0, 3],
            value: "-inf".into(),
        };
        assert_eq!(e.eig(&a), Err(nf("eig")), "{engine:?}");
        assert_eq!(e.eigvals(&a), Err(nf("eigvals")), "{engine:?}");
        assert_eq!(e.eig(&a.mapv(|x| x as f32)), Err(nf("eig")), "{engine:?}");
        let f = e.eig(&Array2::<f32>::zeros((0, 0))).unwrap();
        assert_eq!((f.values.len(), f.vectors.dim()), (0, (0, 0)));
        assert_eq!(e.eigvals(&Array2::<f64>::zeros((0, 0))).unwrap().len(), 0);
    }
}

/// The families above on both rayon engines at 1, 2 and 3 threads (the same checks: residual,
/// pairing, normalization, known eigenvalues, eigvals against eig).
#[test]
fn rayon_engines_f64() {
    on_rayon_engines(parla::Op::Eig, |_, _| all_cases::<f64>(11));
}

#[test]
fn rayon_engines_f32() {
    on_rayon_engines(parla::Op::Eig, |_, _| all_cases::<f32>(12));
}

/// Companion matrix of the monic polynomial with coefficients `c` (`xⁿ + c[n−1] xⁿ⁻¹ + … + c[0]`).
fn companion(c: &[f64]) -> Array2<f64> {
    let n = c.len();
    let mut a = Array2::zeros((n, n));
    for i in 1..n {
        a[[i, i - 1]] = 1.0;
    }
    for i in 0..n {
        a[[i, n - 1]] = -c[i];
    }
    a
}

/// The Jordan block `J_n(λ)` plus `δ` in the bottom-left corner: eigenvalues `λ + δ^{1/n} ω^k`
/// (`ω` the n-th roots of unity).
fn perturbed_jordan(n: usize, lambda: f64, delta: f64) -> (Array2<f64>, Vec<C64>) {
    let mut a = Array2::zeros((n, n));
    for i in 0..n {
        a[[i, i]] = lambda;
        if i + 1 < n {
            a[[i, i + 1]] = 1.0;
        }
    }
    a[[n - 1, 0]] = delta;
    let r = delta.powf(1.0 / n as f64);
    let want = (0..n)
        .map(|k| {
            let th = 2.0 * PI * k as f64 / n as f64;
            C64::new(lambda + r * th.cos(), r * th.sin())
        })
        .collect();
    (a, want)
}

/// `D A D⁻¹` with `D = diag(2^eᵢ)`, `eᵢ` spread over ±`spread` (an exact similarity): the
/// eigenvalues of `A`, but only balancing brings the error back to ε‖A‖.
fn graded(a: &Array2<f64>, spread: i32) -> Array2<f64> {
    let n = a.nrows();
    let e: Vec<i32> = (0..n)
        .map(|i| {
            if n == 1 {
                0
            } else {
                -spread + (2 * spread * i as i32) / (n as i32 - 1)
            }
        })
        .collect();
    Array2::from_shape_fn((n, n), |(i, j)| a[[i, j]] * 2f64.powi(e[i] - e[j]))
}

/// A named matrix, its known eigenvalues (if any) and their tolerance.
type Case = (String, Array2<f64>, Option<Vec<C64>>, f64);

/// The hard cases on both rayon engines at 1, 2 and 3 threads: residual and conventions
/// (`check_eig`), known eigenvalues within the perturbation bound of the case, and the `blas`
/// engine's eigenvalues (LAPACK `geev`) within the same bound.
#[test]
fn rayon_engines_hard_cases() {
    let mut rng = rng(21);
    let e = f64::EPSILON;
    // (name, matrix, known eigenvalues, tolerance of the eigenvalues).
    let mut cases: Vec<Case> = Vec::new();
    for n in [5, 16, 40] {
        // xⁿ − 1: a permutation matrix (normal), the n-th roots of unity.
        let mut c = vec![0.0; n];
        c[0] = -1.0;
        let want = (0..n)
            .map(|k| C64::from_polar(1.0, 2.0 * PI * k as f64 / n as f64))
            .collect();
        cases.push((
            format!("roots of unity n={n}"),
            companion(&c),
            Some(want),
            THRESH * n as f64 * e,
        ));
        // A random companion matrix (non-normal; values checked against blas loosely).
        let c: Vec<f64> = (0..n).map(|_| rng.gen_range(-1.0..1.0)).collect();
        cases.push((format!("companion n={n}"), companion(&c), None, 0.0));
    }
    // (x − 1)(x − 2)…(x − 6): a companion matrix with real, separated roots.
    let mut poly = vec![1.0];
    for r in 1..=6 {
        let mut next = vec![0.0; poly.len() + 1];
        for (i, &p) in poly.iter().enumerate() {
            next[i + 1] += p;
            next[i] -= r as f64 * p;
        }
        poly = next;
    }
    let want = (1..=6).map(|r| C64::new(r as f64, 0.0)).collect();
    cases.push(("roots 1..6".into(), companion(&poly[..6]), Some(want), 1e-8));
    for (n, delta) in [(4, 1e-8), (6, 1e-6), (9, 1e-3)] {
        let (a, want) = perturbed_jordan(n, 0.5, delta);
        // |dλ/dδ| = δ^{1/n − 1}/n: first-order sensitivity to an ε-sized perturbation.
        let tol = 1e3 * e * delta.powf(1.0 / n as f64 - 1.0);
        cases.push((format!("jordan n={n} δ={delta}"), a, Some(want), tol));
    }
    for n in [2, 7, 30] {
        // Exactly defective: one eigenvalue of multiplicity n, a single eigenvector.
        let (a, _) = perturbed_jordan(n, -2.0, 0.0);
        cases.push((format!("jordan n={n} exact"), a, None, 0.0));
    }
    for n in [1, 2, 3, 20, 70] {
        let mut h = random(&mut rng, n, n);
        for j in 0..n {
            for i in j + 2..n {
                h[[i, j]] = 0.0;
            }
        }
        cases.push((format!("hessenberg n={n}"), h, None, 0.0));
        let mut t = random(&mut rng, n, n);
        for j in 0..n {
            for i in j + 1..n {
                t[[i, j]] = 0.0;
            }
        }
        let want = (0..n).map(|i| C64::new(t[[i, i]], 0.0)).collect();
        let tol = THRESH * n as f64 * e * fro_safe(&t.view());
        cases.push((format!("triangular n={n}"), t.clone(), Some(want), tol));
        // Lower triangular: balancing's permutations make it triangular again.
        let lt = t.t().to_owned();
        let want = (0..n).map(|i| C64::new(t[[i, i]], 0.0)).collect();
        cases.push((format!("lower triangular n={n}"), lt, Some(want), tol));
        cases.push((
            format!("zero n={n}"),
            Array2::zeros((n, n)),
            Some(vec![C64::new(0.0, 0.0); n]),
            0.0,
        ));
    }
    for n in [2, 9, 33] {
        let (a, want) = rotations(&mut rng, n);
        let tol = THRESH * n as f64 * e;
        for (s, tag) in [(1e300, "near overflow"), (1e-300, "near underflow")] {
            let w: Vec<C64> = want.iter().map(|z| z * s).collect();
            cases.push((format!("{tag} n={n}"), &a * s, Some(w), tol * s));
        }
        // Graded by 2^±60: without balancing the error would be ε · 2^120.
        cases.push((
            format!("graded n={n}"),
            graded(&a, 60),
            Some(want.clone()),
            tol,
        ));
    }
    // 2 × 2 blocks: real pair, complex pair, defective, already standard.
    for (a, b, c, d) in [
        (1.0, 2.0, 3.0, 4.0),
        (1.0, -5.0, 2.0, 1.0),
        (3.0, 1.0, 0.0, 3.0),
        (0.0, 1.0, -1.0, 0.0),
    ] {
        cases.push((
            format!("2x2 {a} {b} {c} {d}"),
            ndarray::array![[a, b], [c, d]],
            None,
            0.0,
        ));
    }
    // Large enough for several Hessenberg panels and several batches of deferred updates.
    cases.push(("random n=200".into(), random(&mut rng, 200, 200), None, 0.0));
    cases.push((
        "1x1".into(),
        ndarray::array![[-3.5]],
        Some(vec![C64::new(-3.5, 0.0)]),
        0.0,
    ));
    let blas = Exec::blas(1).unwrap();
    for (name, a, want, tol) in &cases {
        let n = a.nrows();
        let reference = blas.eigvals(a).unwrap();
        let scale = fro_safe(&a.view());
        // Known values: their own bound; otherwise blas's values within a loose bound (the
        // eigenvalues of non-normal matrices can be ill-conditioned), tight for normal ones.
        let vs_blas = match want {
            Some(_) => 2.0 * tol + THRESH * n as f64 * e * scale,
            None if name.starts_with("jordan") => 1e-1 * scale.max(1.0),
            None => e.sqrt() * scale,
        };
        on_rayon_engines(parla::Op::Eig, |engine, t| {
            let ctx = format!("{engine:?} {t} threads: {name}");
            let f = parla::eig(a).unwrap();
            check_eig(a, &f, &ctx);
            if let Some(want) = want {
                match_values(&f.values, want, *tol, &ctx);
            }
            match_values(
                &f.values,
                &reference.to_vec(),
                vs_blas,
                &format!("{ctx} vs blas"),
            );
            let w = parla::eigvals(a).unwrap();
            match_values(&w, &f.values.to_vec(), vs_blas, &format!("{ctx} eigvals"));
        });
    }
}
