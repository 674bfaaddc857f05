//! `eigh`, `eigvalsh`, `svd`, `svdvals`, `lstsq`, `pinv`, `cond`, `matrix_rank` and `norm(…, 2)`
//! on the two rayon engines (`rayon-blas`, `rayon`) at 1, 2 and 3 threads, on the hard cases:
//! random, graded, clustered and repeated eigenvalues (identity plus rank one), Wilkinson and
//! glued Wilkinson matrices (tridiagonal as given and hidden by an orthogonal similarity),
//! near-overflow and near-underflow scaling, zero and rank-deficient matrices.
//!
//! Ratios as LAPACK's test suite: eigh ‖A − VΛVᵀ‖₁/(n‖A‖₁ε) and ‖VᵀV − I‖₁/(nε) < 60; SVD
//! ‖A − UΣVᵀ‖₁/(max(m,n)‖A‖₁ε), ‖UᵀU − I‖₁/(mε), ‖VᵀV − I‖₁/(nε) < 50, singular values
//! descending and non-negative. Eigenvalues and singular values agree with the `blas` engine
//! (LAPACK `syevd` / `gesdd`) within the perturbation bound: both are backward stable, so
//! |λᵢ − μᵢ| ≤ c·n·ε·‖A‖₂ (Weyl), the same for σᵢ. Sizes sit around the 32-column reflector
//! blocks of the back-transformations (31, 32, 33, 65, 97), so the blocked paths run.

use crate::common;

use common::la::*;
use common::*;
use ndarray::{Array1, Array2};
use parla::{Engine, Exec, NormKind};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

const EIGH_THRESH: f64 = 60.0;
const SVD_THRESH: f64 = 50.0;

fn engines() -> Vec<Exec> {
    let mut v = Vec::new();
    for engine in [Engine::RayonBlas, Engine::Rayon] {
        for t in [1, 2, 3] {
            v.push(Exec::new(engine, t).unwrap());
        }
    }
    v
}

/// The power of two nearest below the largest magnitude in `a` (1 for a zero matrix): ratios
/// are computed on copies divided by it, so products of entries near 1e±300 stay in range.
fn pow2_scale(a: &Array2<f64>) -> f64 {
    let m = a.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    if m == 0.0 || !m.is_finite() {
        1.0
    } else {
        // Two factors: 2^e alone leaves the range for subnormal m.
        let e = m.log2().floor() as i32;
        2f64.powi(e / 2) * 2f64.powi(e - e / 2)
    }
}

fn symmetrize(a: &mut Array2<f64>) {
    let n = a.nrows();
    for i in 0..n {
        for j in 0..i {
            a[[j, i]] = a[[i, j]];
        }
    }
}

/// Wilkinson's W⁺ of order `2m + 1`: diagonal |m − i|, off-diagonal 1 (pairs of eigenvalues
/// agreeing to many digits).
fn wilkinson(m: usize) -> Array2<f64> {
    let n = 2 * m + 1;
    let mut a = Array2::zeros((n, n));
    for i in 0..n {
        a[[i, i]] = (m as f64 - i as f64).abs();
        if i + 1 < n {
            a[[i + 1, i]] = 1.0;
            a[[i, i + 1]] = 1.0;
        }
    }
    a
}

/// `k` copies of W⁺₂₁ glued by off-diagonal entries `delta` (clusters of `k` eigenvalues).
fn glued_wilkinson(k: usize, delta: f64) -> Array2<f64> {
    let w = wilkinson(10);
    let b = w.nrows();
    let n = k * b;
    let mut a = Array2::zeros((n, n));
    for c in 0..k {
        a.slice_mut(ndarray::s![c * b..(c + 1) * b, c * b..(c + 1) * b])
            .assign(&w);
        if c + 1 < k {
            a[[(c + 1) * b, (c + 1) * b - 1]] = delta;
            a[[(c + 1) * b - 1, (c + 1) * b]] = delta;
        }
    }
    a
}

/// `Q A Qᵀ` for a random orthogonal `Q`, exactly symmetric.
fn hide(rng: &mut ChaCha8Rng, a: &Array2<f64>) -> Array2<f64> {
    let q = random_orthogonal(rng, a.nrows());
    let mut b = ref_matmul(&ref_matmul(&q.view(), &a.view()).view(), &q.t());
    symmetrize(&mut b);
    b
}

fn symmetric_cases(rng: &mut ChaCha8Rng) -> Vec<(String, Array2<f64>)> {
    let mut v: Vec<(String, Array2<f64>)> = Vec::new();
    for n in [1, 2, 3, 31, 32, 33, 65, 97] {
        let mut r = random(rng, n, n);
        symmetrize(&mut r);
        v.push((format!("random n={n}"), r.clone()));
        // Graded: D S D with D from 1 down to 1e-10.
        let d = geometric(n, 1e-10);
        let g = Array2::from_shape_fn((n, n), |(i, j)| d[i] * r[[i, j]] * d[j]);
        v.push((format!("graded n={n}"), g));
        let l: Vec<f64> = (0..n).map(|i| [-1.0, 0.5, 2.0][i % 3]).collect();
        v.push((
            format!("clustered n={n}"),
            symmetric_with_eigenvalues(rng, &l),
        ));
        // I + u uᵀ: eigenvalue 1 with multiplicity n − 1.
        let u = random_vec(rng, n);
        let mut a = Array2::from_shape_fn((n, n), |(i, j)| u[i] * u[j]);
        a.diag_mut().iter_mut().for_each(|x| *x += 1.0);
        v.push((format!("identity+rank1 n={n}"), a));
        v.push((format!("near-overflow n={n}"), &r * 1e300));
        v.push((format!("near-underflow n={n}"), &r * 1e-300));
        v.push((format!("tiny (subnormal) n={n}"), &r * 1e-310));
    }
    v.push(("zero n=5".into(), Array2::zeros((5, 5))));
    v.push(("identity n=40".into(), Array2::eye(40)));
    for m in [1, 10, 20] {
        let w = wilkinson(m);
        v.push((format!("wilkinson n={}", w.nrows()), w.clone()));
        v.push((format!("hidden wilkinson n={}", w.nrows()), hide(rng, &w)));
    }
    for (k, delta) in [(3, 1e-10), (4, 1e-14), (2, 1e-300)] {
        let g = glued_wilkinson(k, delta);
        v.push((format!("glued wilkinson {k}x21 δ={delta:e}"), g.clone()));
        v.push((
            format!("hidden glued wilkinson {k}x21 δ={delta:e}"),
            hide(rng, &g),
        ));
    }
    v
}

fn check_eigh(ctx: &str, a: &Array2<f64>, f: &parla::Eigh<f64>, blas: &Array1<f64>) -> [f64; 2] {
    let n = a.nrows();
    assert_eq!((f.values.len(), f.vectors.dim()), (n, (n, n)), "{ctx}");
    let e = f64::EPSILON;
    let sc = pow2_scale(a);
    let (a, w) = (a / sc, &f.values / sc);
    for p in w.windows(2) {
        assert!(p[0] <= p[1], "{ctx}: not ascending: {w}");
    }
    let v = &f.vectors;
    let mut vl = v.clone();
    for (j, &x) in w.iter().enumerate() {
        vl.column_mut(j).mapv_inplace(|y| y * x);
    }
    let rec = ref_matmul(&vl.view(), &v.t());
    let anorm = norm1_nan(&a.view());
    let r = ratio(diff1(&a.view(), &rec.view()), n as f64 * anorm * e);
    assert!(r < EIGH_THRESH, "{ctx}: ‖A − VΛVᵀ‖₁/(n‖A‖₁ε) = {r}");
    let o = orth_defect(&v.view()) / (n as f64 * e);
    assert!(o < EIGH_THRESH, "{ctx}: ‖VᵀV − I‖₁/(nε) = {o}");
    for (i, (&x, &y)) in w.iter().zip(blas.iter()).enumerate() {
        let r = ratio((x - y / sc).abs(), n as f64 * anorm * e);
        assert!(
            r < EIGH_THRESH,
            "{ctx}: λ{i} = {x} vs blas {} (ratio {r})",
            y / sc
        );
    }
    [r, o]
}

#[test]
fn eigh_hard_cases_on_rayon_engines() {
    let mut rng = rng(101);
    let blas = Exec::blas(1).unwrap();
    let cases = symmetric_cases(&mut rng);
    let mut worst = [0.0f64; 2];
    for exec in engines() {
        for (name, a) in &cases {
            let ctx = format!("{:?} {} threads {name}", exec.engine(), exec.threads());
            let want = blas.eigvalsh(a).unwrap();
            let f = exec.eigh(a).unwrap();
            let got = check_eigh(&ctx, a, &f, &want);
            worst = [worst[0].max(got[0]), worst[1].max(got[1])];
            let w = exec.eigvalsh(a).unwrap();
            let n = a.nrows();
            let anorm = norm1_nan(&(a / pow2_scale(a)).view());
            for (i, (&x, &y)) in w.iter().zip(want.iter()).enumerate() {
                let sc = pow2_scale(a);
                let r = ratio((x / sc - y / sc).abs(), n as f64 * anorm * f64::EPSILON);
                assert!(r < EIGH_THRESH, "{ctx}: eigvalsh λ{i} = {x} vs blas {y}");
            }
        }
    }
    eprintln!(
        "eigh worst ratios: reconstruction {:.2}, orthogonality {:.2}",
        worst[0], worst[1]
    );
}

#[test]
fn eigh_f32_and_layouts_on_rayon_engines() {
    let mut rng = rng(102);
    for exec in engines() {
        for n in [1, 7, 33, 65] {
            let l: Vec<f64> = (0..n).map(|_| rng.gen_range(-1.0..1.0)).collect();
            let a = symmetric_with_eigenvalues(&mut rng, &l);
            let mut want = l.clone();
            want.sort_by(f64::total_cmp);
            let a32 = cast::<f32>(&a);
            for layout in LAYOUTS {
                let ctx = format!("{:?} {} n={n} {layout:?}", exec.engine(), exec.threads());
                let st = Stored::new(&a32, layout, 7.0f32);
                let f = exec.eigh(&st.view()).unwrap();
                let (a64, v) = (to64(&a32.view()), to64(&f.vectors.view()));
                let w = vec64(&f.values.view());
                let e = f32::EPSILON as f64;
                let mut vl = v.clone();
                for (j, &x) in w.iter().enumerate() {
                    vl.column_mut(j).mapv_inplace(|y| y * x);
                }
                let rec = ref_matmul(&vl.view(), &v.t());
                let r = ratio(
                    diff1(&a64.view(), &rec.view()),
                    n as f64 * norm1_nan(&a64.view()) * e,
                );
                assert!(r < EIGH_THRESH, "{ctx}: reconstruction {r}");
                let o = orth_defect(&v.view()) / (n as f64 * e);
                assert!(o < EIGH_THRESH, "{ctx}: orthogonality {o}");
                for (&x, &y) in w.iter().zip(&want) {
                    assert!(
                        (x - y).abs() < EIGH_THRESH * n as f64 * e,
                        "{ctx}: {x} vs {y}"
                    );
                }
                assert!(st.guards_intact(), "{ctx}: guard");
            }
        }
    }
}

fn general_cases(rng: &mut ChaCha8Rng) -> Vec<(String, Array2<f64>)> {
    let mut v: Vec<(String, Array2<f64>)> = Vec::new();
    for (m, n) in [
        (1, 1),
        (1, 4),
        (4, 1),
        (5, 3),
        (3, 5),
        (32, 32),
        (33, 33),
        (65, 31),
        (31, 65),
        (97, 64),
    ] {
        let r = random(rng, m, n);
        v.push((format!("random {m}x{n}"), r.clone()));
        let k = m.min(n);
        let d = geometric(n, 1e-12);
        v.push((
            format!("graded columns {m}x{n}"),
            Array2::from_shape_fn((m, n), |(i, j)| r[[i, j]] * d[j]),
        ));
        // Rank k/2 (exactly zero singular values in the factors).
        let s: Vec<f64> = (0..k)
            .map(|i| if i < k / 2 { 1.0 / (1 + i) as f64 } else { 0.0 })
            .collect();
        v.push((
            format!("rank-deficient {m}x{n}"),
            with_singular_values(rng, m, n, &s),
        ));
        v.push((
            format!("clustered {m}x{n}"),
            with_singular_values(rng, m, n, &vec![1.0; k]),
        ));
        v.push((format!("near-overflow {m}x{n}"), &r * 1e300));
        v.push((format!("near-underflow {m}x{n}"), &r * 1e-300));
        v.push((format!("tiny (subnormal) {m}x{n}"), &r * 1e-310));
    }
    v.push(("zero 6x4".into(), Array2::zeros((6, 4))));
    v.push(("wilkinson 41".into(), wilkinson(20)));
    v.push(("glued wilkinson 63".into(), glued_wilkinson(3, 1e-12)));
    v
}

fn check_svd(
    ctx: &str,
    a: &Array2<f64>,
    f: &parla::Svd<f64>,
    full: bool,
    blas: &Array1<f64>,
) -> [f64; 3] {
    let (m, n) = a.dim();
    let k = m.min(n);
    let (uc, vr) = if full { (m, n) } else { (k, k) };
    assert_eq!(
        (f.u.dim(), f.s.len(), f.vt.dim()),
        ((m, uc), k, (vr, n)),
        "{ctx}"
    );
    let e = f64::EPSILON;
    let sc = pow2_scale(a);
    let (a, s) = (a / sc, &f.s / sc);
    for p in s.windows(2) {
        assert!(p[0] >= p[1], "{ctx}: not descending: {s}");
    }
    assert!(
        s.iter().all(|&x| x >= 0.0),
        "{ctx}: negative singular value: {s}"
    );
    let mut us = f.u.slice(ndarray::s![.., ..k]).to_owned();
    for (j, &x) in s.iter().enumerate() {
        us.column_mut(j).mapv_inplace(|y| y * x);
    }
    let rec = ref_matmul(&us.view(), &f.vt.slice(ndarray::s![..k, ..]));
    let anorm = norm1_nan(&a.view());
    let r = ratio(diff1(&a.view(), &rec.view()), m.max(n) as f64 * anorm * e);
    assert!(r < SVD_THRESH, "{ctx}: ‖A − UΣVᵀ‖₁/(max(m,n)‖A‖₁ε) = {r}");
    let ou = orth_defect(&f.u.view()) / (m as f64 * e);
    assert!(ou < SVD_THRESH, "{ctx}: ‖UᵀU − I‖₁/(mε) = {ou}");
    let ov = orth_defect(&f.vt.t()) / (n as f64 * e);
    assert!(ov < SVD_THRESH, "{ctx}: ‖VᵀV − I‖₁/(nε) = {ov}");
    for (i, (&x, &y)) in s.iter().zip(blas.iter()).enumerate() {
        let r = ratio((x - y / sc).abs(), m.max(n) as f64 * anorm * e);
        assert!(
            r < SVD_THRESH,
            "{ctx}: σ{i} = {x} vs blas {} (ratio {r})",
            y / sc
        );
    }
    [r, ou, ov]
}

#[test]
fn svd_hard_cases_on_rayon_engines() {
    let mut rng = rng(103);
    let blas = Exec::blas(1).unwrap();
    let cases = general_cases(&mut rng);
    let mut worst = [0.0f64; 3];
    for exec in engines() {
        for (name, a) in &cases {
            let ctx = format!("{:?} {} threads {name}", exec.engine(), exec.threads());
            let want = blas.svdvals(a).unwrap();
            for full in [false, true] {
                let f = exec.svd(a, mode(full)).unwrap();
                let got = check_svd(&format!("{ctx} full={full}"), a, &f, full, &want);
                for (w, g) in worst.iter_mut().zip(got) {
                    *w = w.max(g);
                }
            }
            let s = exec.svdvals(a).unwrap();
            let sc = pow2_scale(a);
            let anorm = norm1_nan(&(a / sc).view());
            let (m, n) = a.dim();
            for (i, (&x, &y)) in s.iter().zip(want.iter()).enumerate() {
                let r = ratio(
                    (x / sc - y / sc).abs(),
                    m.max(n) as f64 * anorm * f64::EPSILON,
                );
                assert!(r < SVD_THRESH, "{ctx}: svdvals σ{i} = {x} vs blas {y}");
            }
            // The 2-norm and the condition number follow from the same values.
            let two = exec.norm(a, NormKind::Two).unwrap();
            assert_eq!(two, s[0], "{ctx}: norm 2");
            if a.iter().any(|&x| x != 0.0) && s[s.len() - 1] > 0.0 {
                let c = exec.cond(a).unwrap();
                assert_eq!(c, s[0] / s[s.len() - 1], "{ctx}: cond");
            }
        }
    }
    eprintln!(
        "svd worst ratios: reconstruction {:.2}, U {:.2}, V {:.2}",
        worst[0], worst[1], worst[2]
    );
}

#[test]
fn svd_f32_on_rayon_engines() {
    let mut rng = rng(104);
    let blas = Exec::blas(1).unwrap();
    for exec in engines() {
        for (m, n) in [(7, 5), (33, 40), (65, 33)] {
            let a32 = random_f32(&mut rng, m, n);
            let a = to64(&a32.view());
            let ctx = format!("{:?} {} {m}x{n} f32", exec.engine(), exec.threads());
            let f = exec.svd(&a32, parla::SvdMode::Thin).unwrap();
            let want = blas.svdvals(&a32).unwrap();
            let e = f32::EPSILON as f64;
            let (u, s, vt) = (to64(&f.u.view()), vec64(&f.s.view()), to64(&f.vt.view()));
            let mut us = u.clone();
            for (j, &x) in s.iter().enumerate() {
                us.column_mut(j).mapv_inplace(|y| y * x);
            }
            let rec = ref_matmul(&us.view(), &vt.view());
            let anorm = norm1_nan(&a.view());
            let r = ratio(diff1(&a.view(), &rec.view()), m.max(n) as f64 * anorm * e);
            assert!(r < SVD_THRESH, "{ctx}: reconstruction {r}");
            assert!(
                orth_defect(&u.view()) / (m as f64 * e) < SVD_THRESH,
                "{ctx}: U"
            );
            assert!(
                orth_defect(&vt.t()) / (n as f64 * e) < SVD_THRESH,
                "{ctx}: V"
            );
            for (&x, &y) in s.iter().zip(want.iter()) {
                let r = (x - y as f64).abs() / (m.max(n) as f64 * anorm * e);
                assert!(r < SVD_THRESH, "{ctx}: {x} vs {y}");
            }
        }
    }
}

#[test]
fn lstsq_pinv_rank_on_rayon_engines_match_blas() {
    let mut rng = rng(105);
    let blas = Exec::blas(1).unwrap();
    let e = f64::EPSILON;
    for exec in engines() {
        for (m, n, rank) in [
            (6, 4, 4),
            (40, 33, 33),
            (40, 33, 20),
            (33, 40, 20),
            (65, 65, 31),
        ] {
            let ctx = format!("{:?} {} {m}x{n} rank {rank}", exec.engine(), exec.threads());
            let s: Vec<f64> = (0..m.min(n))
                .map(|i| if i < rank { 1.0 + i as f64 / 8.0 } else { 0.0 })
                .collect();
            let a = with_singular_values(&mut rng, m, n, &s);
            let b = random(&mut rng, m, 3);
            let got = exec.lstsq(&a, &b, None).unwrap();
            let want = blas.lstsq(&a, &b, None).unwrap();
            assert_eq!(got.rank, rank, "{ctx}: rank");
            assert_eq!(got.rank, want.rank, "{ctx}: rank vs blas");
            // A gap from σ ≥ 1 to 0: the minimum-norm solution is well conditioned.
            let err = ratio(
                diff1(&got.solution.view(), &want.solution.view()),
                norm1_nan(&want.solution.view()) * m.max(n) as f64 * e,
            );
            assert!(err < 1e3, "{ctx}: solution vs blas {err}");
            assert_eq!(
                got.residuals.len(),
                want.residuals.len(),
                "{ctx}: residuals"
            );
            for (x, y) in got.residuals.iter().zip(want.residuals.iter()) {
                assert!(
                    (x - y).abs() <= 1e3 * e * (1.0 + y),
                    "{ctx}: residual {x} vs {y}"
                );
            }
            for (x, y) in got.singular_values.iter().zip(want.singular_values.iter()) {
                assert!((x - y).abs() <= SVD_THRESH * m.max(n) as f64 * e * s[0].max(1.0));
            }
            assert_eq!(
                exec.matrix_rank(&a, None).unwrap(),
                rank,
                "{ctx}: matrix_rank"
            );
            let p = exec.pinv(&a, None).unwrap();
            let pw = blas.pinv(&a, None).unwrap();
            let err = ratio(
                diff1(&p.view(), &pw.view()),
                norm1_nan(&pw.view()) * m.max(n) as f64 * e,
            );
            assert!(err < 1e3, "{ctx}: pinv vs blas {err}");
            // Penrose: A A⁺ A = A.
            let apa = ref_matmul(&ref_matmul(&a.view(), &p.view()).view(), &a.view());
            let r = ratio(
                diff1(&apa.view(), &a.view()),
                norm1_nan(&a.view()) * m.max(n) as f64 * e,
            );
            assert!(r < 1e3, "{ctx}: A A⁺ A − A {r}");
        }
        // numpy's rcond semantics: 0 keeps tiny values, ≥ 1 drops all.
        let a = ndarray::array![[1.0f64, 0.0], [0.0, 1e-20]];
        let b = ndarray::array![1.0, 1.0];
        let r = exec.lstsq(&a, &b, Some(0.0)).unwrap();
        assert_eq!(r.rank, 2);
        assert!((r.solution[1] - 1e20).abs() <= 1e20 * 1e-12);
        assert_eq!(exec.lstsq(&a, &b, None).unwrap().rank, 1);
        assert_eq!(exec.lstsq(&a, &b, Some(1.0)).unwrap().rank, 0);
    }
}

/// Orders where the reduction's matrix-vector product is split over threads (≥ 256), the
/// blocked reduction runs several panels, and divide and conquer recurses three levels deep.
#[test]
fn eigh_large_orders_on_rayon_engines() {
    let mut rng = rng(106);
    let blas = Exec::blas(2).unwrap();
    let mut cases: Vec<(String, Array2<f64>)> = Vec::new();
    let n = 300;
    let mut r = random(&mut rng, n, n);
    symmetrize(&mut r);
    cases.push(("random n=300".into(), r));
    let l: Vec<f64> = (0..n).map(|i| [-1.0, 0.5, 2.0][i % 3]).collect();
    cases.push((
        "clustered n=300".into(),
        symmetric_with_eigenvalues(&mut rng, &l),
    ));
    cases.push(("glued wilkinson 14x21".into(), glued_wilkinson(14, 1e-12)));
    let u = random_vec(&mut rng, 260);
    let mut a = Array2::from_shape_fn((260, 260), |(i, j)| u[i] * u[j]);
    a.diag_mut().iter_mut().for_each(|x| *x += 1.0);
    cases.push(("identity+rank1 n=260".into(), a));
    for engine in [Engine::RayonBlas, Engine::Rayon] {
        for t in [1, 2, 3] {
            let exec = Exec::new(engine, t).unwrap();
            for (name, a) in &cases {
                let ctx = format!("{engine:?} {t} threads {name}");
                let want = blas.eigvalsh(a).unwrap();
                let f = exec.eigh(a).unwrap();
                check_eigh(&ctx, a, &f, &want);
            }
        }
    }
}

#[test]
fn svd_large_orders_on_rayon_engines() {
    let mut rng = rng(107);
    let blas = Exec::blas(2).unwrap();
    // (600, 150), (150, 600): QR first, then the square R.
    for (m, n) in [(300, 270), (270, 300), (600, 150), (150, 600)] {
        let r = random(&mut rng, m, n);
        let k = m.min(n);
        // Blocked reduction (several panels) and divide and conquer (three levels), on
        // random, graded, rank-deficient and clustered matrices.
        let d = geometric(n, 1e-12);
        let half: Vec<f64> = (0..k)
            .map(|i| if i < k / 2 { 1.0 / (1 + i) as f64 } else { 0.0 })
            .collect();
        let cases = [
            ("random", r.clone()),
            (
                "graded columns",
                Array2::from_shape_fn((m, n), |(i, j)| r[[i, j]] * d[j]),
            ),
            (
                "rank-deficient",
                with_singular_values(&mut rng, m, n, &half),
            ),
            (
                "clustered",
                with_singular_values(&mut rng, m, n, &vec![1.0; k]),
            ),
        ];
        for (name, a) in &cases {
            let want = blas.svdvals(a).unwrap();
            for engine in [Engine::RayonBlas, Engine::Rayon] {
                for t in [1, 3] {
                    let exec = Exec::new(engine, t).unwrap();
                    let ctx = format!("{engine:?} {t} threads {name} {m}x{n}");
                    let full = m == 600 && t == 3;
                    let f = exec.svd(a, mode(full)).unwrap();
                    check_svd(&ctx, a, &f, full, &want);
                }
            }
        }
    }
}

/// Divide and conquer and the blocked reduction in f32 (orders 150 and 300, three levels).
#[test]
fn eigh_and_svd_f32_large_on_rayon_engines() {
    let mut rng = rng(108);
    let e = f32::EPSILON as f64;
    for n in [150, 300] {
        let l: Vec<f64> = (0..n)
            .map(|i| [-1.0, 0.5, 2.0, rng.gen_range(-1.0..1.0)][i % 4])
            .collect();
        let a32 = cast::<f32>(&symmetric_with_eigenvalues(&mut rng, &l));
        let a = to64(&a32.view());
        let g32 = random_f32(&mut rng, n, n - 10);
        let g = to64(&g32.view());
        for engine in [Engine::RayonBlas, Engine::Rayon] {
            let exec = Exec::new(engine, 2).unwrap();
            let ctx = format!("{engine:?} f32 n={n}");
            let f = exec.eigh(&a32).unwrap();
            let (v, w) = (to64(&f.vectors.view()), vec64(&f.values.view()));
            let mut vl = v.clone();
            for (j, &x) in w.iter().enumerate() {
                vl.column_mut(j).mapv_inplace(|y| y * x);
            }
            let rec = ref_matmul(&vl.view(), &v.t());
            let r = ratio(
                diff1(&a.view(), &rec.view()),
                n as f64 * norm1_nan(&a.view()) * e,
            );
            assert!(r < EIGH_THRESH, "{ctx}: eigh reconstruction {r}");
            let o = orth_defect(&v.view()) / (n as f64 * e);
            assert!(o < EIGH_THRESH, "{ctx}: eigh orthogonality {o}");
            let s = exec.svd(&g32, parla::SvdMode::Thin).unwrap();
            let (u, sv, vt) = (to64(&s.u.view()), vec64(&s.s.view()), to64(&s.vt.view()));
            let mut us = u.clone();
            for (j, &x) in sv.iter().enumerate() {
                us.column_mut(j).mapv_inplace(|y| y * x);
            }
            let rec = ref_matmul(&us.view(), &vt.view());
            let r = ratio(
                diff1(&g.view(), &rec.view()),
                n as f64 * norm1_nan(&g.view()) * e,
            );
            assert!(r < SVD_THRESH, "{ctx}: svd reconstruction {r}");
            assert!(
                orth_defect(&u.view()) / (n as f64 * e) < SVD_THRESH,
                "{ctx}: U"
            );
            assert!(
                orth_defect(&vt.t()) / (n as f64 * e) < SVD_THRESH,
                "{ctx}: V"
            );
        }
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

/// `eigvalsh` at order 2048, where the rayon engines reduce in two stages on one thread
/// (dense → band → tridiagonal, `factor/band.rs`) and in one on two: the values agree with
/// `blas` to `n ε ‖A‖₁`, on a random matrix and on identity plus rank one (n − 1 equal values).
#[test]
fn eigvalsh_two_stage_order_on_rayon_engines() {
    let mut rng = rng(113);
    let n = 2048;
    let blas = Exec::blas(2).unwrap();
    let mut r = random(&mut rng, n, n);
    symmetrize(&mut r);
    let u = random_vec(&mut rng, n);
    let mut p = Array2::from_shape_fn((n, n), |(i, j)| u[i] * u[j]);
    p.diag_mut().iter_mut().for_each(|x| *x += 1.0);
    for (name, a) in [("random", &r), ("identity+rank1", &p)] {
        let want = blas.eigvalsh(a).unwrap();
        let anorm = norm1_nan(&a.view());
        for engine in [Engine::RayonBlas, Engine::Rayon] {
            for t in [1, 2] {
                let w = Exec::new(engine, t).unwrap().eigvalsh(a).unwrap();
                for (i, (&x, &y)) in w.iter().zip(want.iter()).enumerate() {
                    let r = ratio((x - y).abs(), n as f64 * anorm * f64::EPSILON);
                    assert!(
                        r < EIGH_THRESH,
                        "{engine:?} {t} threads {name}: λ{i} = {x} vs blas {y} (ratio {r})"
                    );
                }
            }
        }
    }
}
