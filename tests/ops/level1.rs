//! Level 1: `dot`, `axpy`, `scal`, `nrm2` on f64 and f32, against compensated-sum references,
//! on contiguous, strided (`s![..;3]`) and reversed (`s![..;-1]`) vectors, with guard values
//! between the strided elements and error bounds that grow with n·ε.

use crate::common;

use ndarray::{s, Array1, ArrayView1, ArrayViewMut1};
use parla::{Engine, Error, Exec, Scalar};

const LENGTHS: [usize; 9] = [0, 1, 2, 7, 31, 64, 65, 1000, 100_000];

/// How a vector is stored.
#[derive(Debug, Clone, Copy, PartialEq)]
enum VLay {
    /// An owned contiguous array.
    Contig,
    /// Every 3rd element of a storage of length 3n (`s![..;3]`); the others are guards.
    Strided,
    /// A contiguous storage read backwards (`s![..;-1]`).
    Reversed,
}

const VLAYS: [VLay; 3] = [VLay::Contig, VLay::Strided, VLay::Reversed];

fn storage_len(lay: VLay, n: usize) -> usize {
    match lay {
        VLay::Strided => 3 * n,
        _ => n,
    }
}

fn vview<A>(lay: VLay, big: &Array1<A>) -> ArrayView1<'_, A> {
    match lay {
        VLay::Contig => big.view(),
        VLay::Strided => big.slice(s![..;3]),
        VLay::Reversed => big.slice(s![..;-1]),
    }
}

fn vview_mut<A>(lay: VLay, big: &mut Array1<A>) -> ArrayViewMut1<'_, A> {
    match lay {
        VLay::Contig => big.view_mut(),
        VLay::Strided => big.slice_mut(s![..;3]),
        VLay::Reversed => big.slice_mut(s![..;-1]),
    }
}

/// A vector `x` stored in layout `lay`, other storage cells set to `guard`.
struct VStore<T> {
    big: Array1<T>,
    lay: VLay,
}

impl<T: Scalar> VStore<T> {
    fn new(x: &Array1<T>, lay: VLay, guard: T) -> Self {
        let mut big = Array1::from_elem(storage_len(lay, x.len()), guard);
        vview_mut(lay, &mut big).assign(x);
        let st = VStore { big, lay };
        let same_bits = st
            .view()
            .iter()
            .zip(x)
            .all(|(a, b)| a.as_f64().to_bits() == b.as_f64().to_bits());
        assert!(same_bits, "layout {lay:?} does not hold x");
        st
    }
    fn view(&self) -> ArrayView1<'_, T> {
        vview(self.lay, &self.big)
    }
    fn view_mut(&mut self) -> ArrayViewMut1<'_, T> {
        vview_mut(self.lay, &mut self.big)
    }
    /// Asserts every storage cell outside the view still holds exactly `before`'s bits.
    fn guards_unchanged(&self, before: &Array1<T>, what: &str) {
        let mut mask = Array1::<u8>::zeros(self.big.len());
        vview_mut(self.lay, &mut mask).fill(1);
        for (i, ((&now, &old), &inside)) in self.big.iter().zip(before).zip(&mask).enumerate() {
            if inside == 0 {
                assert!(
                    now.as_f64().to_bits() == old.as_f64().to_bits(),
                    "{what}: guard cell {i} changed from {old} to {now}"
                );
            }
        }
    }
}

fn random_t<T: Scalar>(rng: &mut rand_chacha::ChaCha8Rng, n: usize) -> Array1<T> {
    common::random_vec(rng, n).mapv(T::of)
}

fn to64<T: Scalar>(x: &ArrayView1<T>) -> Array1<f64> {
    x.mapv(T::as_f64)
}

fn guard<T: Scalar>() -> T {
    T::of(-12345.5)
}

// ---------------------------------------------------------------------------------------------
// dot

fn check_dot<T: Scalar>(seed: u64) {
    let mut rng = common::rng(seed);
    let eps = T::EPS.as_f64();
    for n in LENGTHS {
        let x = random_t::<T>(&mut rng, n);
        let y = random_t::<T>(&mut rng, n);
        let (x64, y64) = (to64(&x.view()), to64(&y.view()));
        let reference = common::compensated_sum(x64.iter().zip(&y64).map(|(a, b)| a * b));
        let scale: f64 = x64.iter().zip(&y64).map(|(a, b)| (a * b).abs()).sum();
        let bound = 2.0 * n as f64 * eps * scale;
        for lx in VLAYS {
            for ly in VLAYS {
                let sx = VStore::new(&x, lx, guard());
                let sy = VStore::new(&y, ly, guard());
                let got = parla::dot(&sx.view(), &sy.view()).unwrap();
                let err = (got.as_f64() - reference).abs();
                assert!(
                    err <= bound,
                    "dot {} n={n} x:{lx:?} y:{ly:?}: got {got}, ref {reference}, err {err:e} > {bound:e}",
                    T::DTYPE
                );
                if n == 0 {
                    assert_eq!(got, T::zero());
                }
            }
        }
    }
}

#[test]
fn dot_f64() {
    check_dot::<f64>(101);
}

#[test]
fn dot_f32() {
    check_dot::<f32>(102);
}

#[test]
fn dot_exec_threads_agree() {
    let mut rng = common::rng(103);
    let x = common::random_vec(&mut rng, 100_000);
    let y = common::random_vec(&mut rng, 100_000);
    let reference = common::compensated_sum(x.iter().zip(&y).map(|(a, b)| a * b));
    let scale: f64 = x.iter().zip(&y).map(|(a, b)| (a * b).abs()).sum();
    for t in 1..=3 {
        let got = Exec::new(Engine::Blas, t).unwrap().dot(&x, &y).unwrap();
        assert!((got - reference).abs() <= 2.0 * 1e5 * f64::EPSILON * scale);
    }
}

// ---------------------------------------------------------------------------------------------
// axpy

fn check_axpy<T: Scalar>(seed: u64) {
    let mut rng = common::rng(seed);
    let eps = T::EPS.as_f64();
    for n in LENGTHS {
        let x = random_t::<T>(&mut rng, n);
        let y = random_t::<T>(&mut rng, n);
        for alpha in [0.0, 1.0, -0.7, 2.5].map(T::of) {
            let a64 = alpha.as_f64();
            let expect: Array1<f64> = x
                .iter()
                .zip(&y)
                .map(|(&xi, &yi)| a64 * xi.as_f64() + yi.as_f64())
                .collect();
            for lx in VLAYS {
                for ly in VLAYS {
                    let sx = VStore::new(&x, lx, guard());
                    let mut sy = VStore::new(&y, ly, guard());
                    let before = sy.big.clone();
                    parla::blas_level::axpy(alpha, &sx.view(), &mut sy.view_mut()).unwrap();
                    sy.guards_unchanged(&before, "axpy y");
                    for (i, ((&got, &e), (&xi, &yi))) in sy
                        .view()
                        .iter()
                        .zip(&expect)
                        .zip(x.iter().zip(&y))
                        .enumerate()
                    {
                        let bound = 2.0 * eps * ((a64 * xi.as_f64()).abs() + yi.as_f64().abs());
                        let err = (got.as_f64() - e).abs();
                        assert!(
                            err <= bound,
                            "axpy {} n={n} α={alpha} x:{lx:?} y:{ly:?} [{i}]: got {got}, want {e}",
                            T::DTYPE
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn axpy_f64() {
    check_axpy::<f64>(201);
}

#[test]
fn axpy_f32() {
    check_axpy::<f32>(202);
}

// ---------------------------------------------------------------------------------------------
// scal

fn check_scal<T: Scalar>(seed: u64) {
    let mut rng = common::rng(seed);
    let eps = T::EPS.as_f64();
    for n in LENGTHS {
        let x = random_t::<T>(&mut rng, n);
        for alpha in [0.0, 1.0, -0.7, 3.0].map(T::of) {
            let a64 = alpha.as_f64();
            for lx in VLAYS {
                let mut sx = VStore::new(&x, lx, guard());
                let before = sx.big.clone();
                parla::blas_level::scal(alpha, &mut sx.view_mut()).unwrap();
                sx.guards_unchanged(&before, "scal x");
                for (i, (&got, &xi)) in sx.view().iter().zip(&x).enumerate() {
                    let e = a64 * xi.as_f64();
                    assert!(
                        (got.as_f64() - e).abs() <= eps * e.abs(),
                        "scal {} n={n} α={alpha} x:{lx:?} [{i}]: got {got}, want {e}",
                        T::DTYPE
                    );
                }
            }
        }
    }
}

#[test]
fn scal_f64() {
    check_scal::<f64>(301);
}

#[test]
fn scal_f32() {
    check_scal::<f32>(302);
}

fn check_scal_zero_clears_non_finite<T: Scalar>() {
    for lx in VLAYS {
        for n in [1, 2, 7, 65] {
            let x = Array1::from_shape_fn(n, |i| match i % 3 {
                0 => T::nan(),
                1 => T::infinity(),
                _ => T::neg_infinity(),
            });
            let mut sx = VStore::new(&x, lx, guard());
            let before = sx.big.clone();
            parla::blas_level::scal(T::zero(), &mut sx.view_mut()).unwrap();
            sx.guards_unchanged(&before, "scal 0");
            assert!(
                sx.view().iter().all(|&v| v == T::zero()),
                "scal(0) {} {lx:?} n={n}: {:?}",
                T::DTYPE,
                sx.view()
            );
        }
    }
}

#[test]
fn scal_zero_on_nan_and_inf_gives_zero() {
    check_scal_zero_clears_non_finite::<f64>();
    check_scal_zero_clears_non_finite::<f32>();
}

// ---------------------------------------------------------------------------------------------
// nrm2

fn check_nrm2<T: Scalar>(seed: u64) {
    let mut rng = common::rng(seed);
    let eps = T::EPS.as_f64();
    for n in LENGTHS {
        let x = random_t::<T>(&mut rng, n);
        let reference = common::compensated_sum(x.iter().map(|v| v.as_f64() * v.as_f64())).sqrt();
        let bound = (2.0 * n as f64 + 2.0) * eps * reference;
        for lx in VLAYS {
            let sx = VStore::new(&x, lx, guard());
            let got = parla::blas_level::nrm2(&sx.view()).unwrap();
            let err = (got.as_f64() - reference).abs();
            assert!(
                err <= bound,
                "nrm2 {} n={n} {lx:?}: got {got}, ref {reference}, err {err:e} > {bound:e}",
                T::DTYPE
            );
            if n == 0 {
                assert_eq!(got, T::zero());
            }
        }
    }
}

#[test]
fn nrm2_f64() {
    check_nrm2::<f64>(401);
}

#[test]
fn nrm2_f32() {
    check_nrm2::<f32>(402);
}

fn rel_err(got: f64, want: f64) -> f64 {
    ((got - want) / want).abs()
}

#[test]
fn nrm2_does_not_overflow() {
    let sqrt2 = std::f64::consts::SQRT_2;
    for lx in VLAYS {
        let x = VStore::new(&Array1::from(vec![1e300, 1e300]), lx, 0.0);
        let got = parla::blas_level::nrm2(&x.view()).unwrap();
        assert!(
            rel_err(got, sqrt2 * 1e300) <= 4.0 * f64::EPSILON,
            "{lx:?}: {got:e}"
        );

        let x = VStore::new(&Array1::from(vec![3e300, -4e300]), lx, 0.0);
        let got = parla::blas_level::nrm2(&x.view()).unwrap();
        assert!(rel_err(got, 5e300) <= 4.0 * f64::EPSILON, "{lx:?}: {got:e}");

        // 1000 entries of 1e300: √1000 · 1e300.
        let x = VStore::new(&Array1::from_elem(1000, 1e300), lx, 0.0);
        let got = parla::blas_level::nrm2(&x.view()).unwrap();
        let want = 1000f64.sqrt() * 1e300;
        assert!(
            rel_err(got, want) <= 1000.0 * f64::EPSILON,
            "{lx:?}: {got:e}"
        );

        // f32: 1e30² overflows f32 but the norm √2 · 1e30 does not.
        let x = VStore::new(&Array1::from(vec![1e30f32, 1e30]), lx, 0.0);
        let got = parla::blas_level::nrm2(&x.view()).unwrap();
        let want = (sqrt2 * 1e30) as f32;
        assert!(got.is_finite(), "{lx:?}: {got:e}");
        assert!(
            rel_err(got as f64, want as f64) <= 4.0 * f32::EPSILON as f64,
            "{lx:?}: {got:e}"
        );
    }
}

#[test]
fn nrm2_does_not_underflow() {
    for lx in VLAYS {
        let x = VStore::new(&Array1::from_elem(4, 1e-300), lx, 0.0);
        let got = parla::blas_level::nrm2(&x.view()).unwrap();
        assert!(
            rel_err(got, 2e-300) <= 4.0 * f64::EPSILON,
            "{lx:?}: {got:e}"
        );

        // Squares underflow to zero even in 1000 copies: 1e-170² = 1e-340 < f64::MIN_POSITIVE.
        let x = VStore::new(&Array1::from_elem(1000, -1e-170), lx, 0.0);
        let got = parla::blas_level::nrm2(&x.view()).unwrap();
        let want = 1000f64.sqrt() * 1e-170;
        assert!(
            rel_err(got, want) <= 1000.0 * f64::EPSILON,
            "{lx:?}: {got:e}"
        );

        // A subnormal result: 2e-310 has an absolute resolution of one subnormal step.
        let x = VStore::new(&Array1::from_elem(4, 1e-310), lx, 0.0);
        let got: f64 = parla::blas_level::nrm2(&x.view()).unwrap();
        let step = f64::from_bits(1);
        assert!((got - 2e-310).abs() <= 4.0 * step, "{lx:?}: {got:e}");

        let x = VStore::new(&Array1::from_elem(4, 1e-30f32), lx, 0.0);
        let got = parla::blas_level::nrm2(&x.view()).unwrap();
        assert!(
            rel_err(got as f64, 2e-30) <= 4.0 * f32::EPSILON as f64,
            "{lx:?}: {got:e}"
        );
    }
}

fn nrm2_special<T: Scalar>(pattern: &[T]) -> T {
    parla::blas_level::nrm2(&Array1::from(pattern.to_vec())).unwrap()
}

#[test]
fn nrm2_inf_gives_inf() {
    let inf = f64::INFINITY;
    for x in [
        vec![inf],
        vec![-inf],
        vec![1.0, inf],
        vec![-inf, 2.0, 3.0],
        vec![0.0, 0.0, inf],
        vec![1e300, -inf, 1e300],
    ] {
        assert_eq!(nrm2_special(&x), inf, "{x:?}");
        let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        assert_eq!(nrm2_special(&x32), f32::INFINITY, "{x32:?}");
    }
    // An inf in a long vector, at several positions and strides.
    for pos in [0, 1, 63, 64, 999] {
        let mut x = Array1::from_elem(1000, 0.5);
        x[pos] = -inf;
        for lx in VLAYS {
            let s = VStore::new(&x, lx, 0.0);
            assert_eq!(
                parla::blas_level::nrm2(&s.view()).unwrap(),
                inf,
                "pos {pos} {lx:?}"
            );
        }
    }
}

#[test]
fn nrm2_nan_with_other_values_gives_nan() {
    let nan = f64::NAN;
    for x in [
        vec![1.0, nan],
        vec![nan, 1.0],
        vec![2.0, nan, 3.0],
        vec![1e30, nan, -1e30],
    ] {
        assert!(nrm2_special(&x).is_nan(), "{x:?}: {}", nrm2_special(&x));
        let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        assert!(nrm2_special(&x32).is_nan(), "{x32:?}");
    }
    for pos in [0, 1, 63, 64, 999] {
        let mut x = Array1::from_elem(1000, 0.5);
        x[pos] = nan;
        for lx in VLAYS {
            let s = VStore::new(&x, lx, 0.0);
            assert!(
                parla::blas_level::nrm2(&s.view()).unwrap().is_nan(),
                "pos {pos} {lx:?}"
            );
        }
    }
}

/// NaN alone (or with zeros) must also give NaN. `scaled_nrm2` in src/ops/level1.rs takes the
/// largest magnitude with `f64::max`, which skips NaN: for `[NaN]` it finds `amax = 0` and returns
/// 0 when OpenBLAS's (correct) NaN result sends it to the rescaling fallback.
#[test]

fn nrm2_nan_alone_gives_nan() {
    let nan = f64::NAN;
    let mut wrong = Vec::new();
    for x in [vec![nan], vec![0.0, nan], vec![nan, 0.0, 0.0]] {
        let got = nrm2_special(&x);
        if !got.is_nan() {
            wrong.push(format!("f64 {x:?} -> {got}"));
        }
        let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        let got = nrm2_special(&x32);
        if !got.is_nan() {
            wrong.push(format!("f32 {x32:?} -> {got}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

// ---------------------------------------------------------------------------------------------
// errors and engines

#[test]
fn different_lengths_are_shape_mismatch() {
    let x = Array1::<f64>::zeros(3);
    let y = Array1::<f64>::zeros(4);
    assert_eq!(
        parla::dot(&x, &y).unwrap_err(),
        Error::ShapeMismatch {
            op: "dot",
            left: vec![3],
            right: vec![4]
        }
    );
    let mut y4 = y.clone();
    assert_eq!(
        parla::blas_level::axpy(1.0, &x, &mut y4).unwrap_err(),
        Error::ShapeMismatch {
            op: "axpy",
            left: vec![3],
            right: vec![4]
        }
    );
    assert_eq!(y4, y, "axpy must not touch y on error");
    // Empty against non-empty, strided against contiguous.
    let big = Array1::<f32>::zeros(9);
    assert_eq!(
        parla::dot(&big.slice(s![..;3]), &Array1::<f32>::zeros(0)).unwrap_err(),
        Error::ShapeMismatch {
            op: "dot",
            left: vec![3],
            right: vec![0]
        }
    );
}

/// Zero strides: broadcast vectors (BLAS cannot walk them in place).
#[test]
fn broadcast_vectors() {
    let mut rng = common::rng(501);
    for n in [1, 2, 65, 1000] {
        let one = common::random_vec(&mut rng, 1);
        let x = one.broadcast(n).unwrap();
        let y = common::random_vec(&mut rng, n);
        let reference = common::compensated_sum(y.iter().map(|v| v * one[0]));
        let scale: f64 = y.iter().map(|v| (v * one[0]).abs()).sum();
        let got = parla::dot(&x, &y).unwrap();
        assert!(
            (got - reference).abs() <= 2.0 * n as f64 * f64::EPSILON * scale,
            "dot n={n}"
        );
        let nrm = parla::blas_level::nrm2(&x).unwrap();
        let want = (n as f64).sqrt() * one[0].abs();
        assert!(
            rel_err(nrm, want) <= (2.0 * n as f64 + 2.0) * f64::EPSILON,
            "nrm2 n={n}"
        );
        let mut y2 = y.clone();
        parla::blas_level::axpy(-0.7, &x, &mut y2).unwrap();
        for (i, (&got, &yi)) in y2.iter().zip(&y).enumerate() {
            let e = -0.7 * one[0] + yi;
            let bound = 2.0 * f64::EPSILON * ((0.7 * one[0]).abs() + yi.abs());
            assert!((got - e).abs() <= bound, "axpy n={n} [{i}]");
        }
    }
}

#[test]
fn rayon_engines_level1_match_reference_at_1_2_3_threads() {
    // Every check above, run through the free functions with each rayon engine and a thread
    // budget fixed by scopes on this thread (3 > the dev machine's cores).
    for (engine, t) in [Engine::RayonBlas, Engine::Rayon]
        .into_iter()
        .flat_map(|e| (1..=3).map(move |t| (e, t)))
    {
        parla::with_backend(engine, || {
            parla::with_num_threads(t, || {
                assert_eq!(
                    Exec::current()
                        .unwrap()
                        .plan(parla::Op::Dot, parla::Dtype::F64, parla::Shape::Unknown)
                        .unwrap()
                        .engine,
                    engine
                );
                check_dot::<f64>(201);
                check_dot::<f32>(202);
                check_axpy::<f64>(203);
                check_axpy::<f32>(204);
                check_scal::<f64>(205);
                check_nrm2::<f64>(206);
                check_nrm2::<f32>(207);
                nrm2_does_not_overflow();
                nrm2_does_not_underflow();
                nrm2_inf_gives_inf();
                nrm2_nan_with_other_values_gives_nan();
                nrm2_nan_alone_gives_nan();
            })
            .unwrap()
        });
    }
}

#[test]
fn rayon_engines_reductions_are_bit_identical_run_to_run() {
    let mut rng = common::rng(208);
    let x = common::random_vec(&mut rng, 200_001);
    let y = common::random_vec(&mut rng, 200_001);
    for engine in [Engine::RayonBlas, Engine::Rayon] {
        for t in 1..=3 {
            let ex = Exec::new(engine, t).unwrap();
            let (d, n) = (ex.dot(&x, &y).unwrap(), ex.nrm2(&x).unwrap());
            for _ in 0..5 {
                assert_eq!(
                    ex.dot(&x, &y).unwrap().to_bits(),
                    d.to_bits(),
                    "{engine} {t}"
                );
                assert_eq!(ex.nrm2(&x).unwrap().to_bits(), n.to_bits(), "{engine} {t}");
            }
        }
    }
}
