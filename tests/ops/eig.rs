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
    let a = to64(&a.view());
    let w: Array1<C64> = f.values.mapv(|z| C64::new(z.re.as_f64(), z.im.as_f64()));
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
    for engine in [Engine::Rayon, Engine::RayonBlas] {
        let e = Exec::new(engine, 1).unwrap();
        let un = |op| Error::Unsupported { op, engine };
        assert_eq!(e.eig(&Array2::<f64>::eye(2)), Err(un("eig")));
        assert_eq!(e.eigvals(&Array2::<f64>::eye(2)), Err(un("eigvals")));
        assert_eq!(e.eig(&Array2::<f32>::zeros((0, 0))), Err(un("eig")));
    }
}
