//! Shared helpers for the integration tests: seeded random matrices, layout variants, and slow,
//! obviously correct references with compensated sums.
#![allow(dead_code)]

use ndarray::{s, Array1, Array2, ArrayView2, ShapeBuilder};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A deterministic RNG for a test, so every failure reproduces.
pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// Uniform entries in [-1, 1), C order.
pub fn random(rng: &mut ChaCha8Rng, m: usize, n: usize) -> Array2<f64> {
    Array2::from_shape_fn((m, n), |_| rng.gen_range(-1.0..1.0))
}

/// Uniform entries in [-1, 1), f32.
pub fn random_f32(rng: &mut ChaCha8Rng, m: usize, n: usize) -> Array2<f32> {
    Array2::from_shape_fn((m, n), |_| rng.gen_range(-1.0f32..1.0))
}

/// Uniform vector in [-1, 1).
pub fn random_vec(rng: &mut ChaCha8Rng, n: usize) -> Array1<f64> {
    Array1::from_shape_fn(n, |_| rng.gen_range(-1.0..1.0))
}

/// The same matrix in Fortran order.
pub fn fortran<T: Clone>(a: &Array2<T>) -> Array2<T> {
    let mut f = Array2::from_shape_vec(a.dim().f(), a.t().iter().cloned().collect()).unwrap();
    f.assign(a);
    f
}

/// A storage in which `a` sits as a strided sub-view: rows every 2nd row, columns every 3rd,
/// offset by (1, 2). Returns the big array; view it with [`strided_view`].
pub fn embed_strided(a: &Array2<f64>, guard: f64) -> Array2<f64> {
    let (m, n) = a.dim();
    let mut big = Array2::from_elem((2 * m + 2, 3 * n + 3), guard);
    big.slice_mut(s![1..1 + 2 * m;2, 2..2 + 3 * n;3]).assign(a);
    big
}

/// The view of `big` produced by [`embed_strided`].
pub fn strided_view(big: &Array2<f64>, m: usize, n: usize) -> ArrayView2<'_, f64> {
    big.slice(s![1..1 + 2 * m;2, 2..2 + 3 * n;3])
}

/// Neumaier-compensated sum: exact enough to serve as the reference for one inner product.
pub fn compensated_sum(xs: impl Iterator<Item = f64>) -> f64 {
    let (mut sum, mut c) = (0.0f64, 0.0f64);
    for x in xs {
        let t = sum + x;
        if sum.abs() >= x.abs() {
            c += (sum - t) + x;
        } else {
            c += (x - t) + sum;
        }
        sum = t;
    }
    sum + c
}

/// Reference product `A B` by naive loops with compensated sums (in f64).
pub fn ref_matmul(a: &ArrayView2<f64>, b: &ArrayView2<f64>) -> Array2<f64> {
    let (m, k) = a.dim();
    let n = b.ncols();
    Array2::from_shape_fn((m, n), |(i, j)| compensated_sum((0..k).map(|p| a[[i, p]] * b[[p, j]])))
}

/// `Σ_p |A[i,p]| |B[p,j]|`: the scale of the rounding error of entry (i, j) of `A B`.
pub fn abs_matmul(a: &ArrayView2<f64>, b: &ArrayView2<f64>) -> Array2<f64> {
    let (m, k) = a.dim();
    let n = b.ncols();
    Array2::from_shape_fn((m, n), |(i, j)| (0..k).map(|p| (a[[i, p]] * b[[p, j]]).abs()).sum())
}

/// Frobenius norm in f64.
pub fn fro(a: &ArrayView2<f64>) -> f64 {
    a.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// ‖A‖₁ (largest column sum), used by the LAPACK test ratios.
pub fn norm1(a: &ArrayView2<f64>) -> f64 {
    a.columns().into_iter().map(|c| c.iter().map(|x| x.abs()).sum::<f64>()).fold(0.0, f64::max)
}

/// A random matrix with prescribed singular values: `U diag(s) Vᵀ` with random orthogonal
/// `U`, `V` (from Householder QR of Gaussian-like matrices, built by hand here).
pub fn with_singular_values(rng: &mut ChaCha8Rng, m: usize, n: usize, s: &[f64]) -> Array2<f64> {
    let u = random_orthogonal(rng, m);
    let v = random_orthogonal(rng, n);
    let mut d = Array2::zeros((m, n));
    for (i, &x) in s.iter().enumerate().take(m.min(n)) {
        d[[i, i]] = x;
    }
    ref_matmul(&ref_matmul(&u.view(), &d.view()).view(), &v.t())
}

/// A random orthogonal `n × n` matrix: Gram–Schmidt (twice) on random columns.
pub fn random_orthogonal(rng: &mut ChaCha8Rng, n: usize) -> Array2<f64> {
    let mut q = random(rng, n, n);
    for _ in 0..2 {
        for j in 0..n {
            for i in 0..j {
                let d: f64 = (0..n).map(|r| q[[r, i]] * q[[r, j]]).sum();
                for r in 0..n {
                    q[[r, j]] -= d * q[[r, i]];
                }
            }
            let nrm: f64 = (0..n).map(|r| q[[r, j]] * q[[r, j]]).sum::<f64>().sqrt();
            for r in 0..n {
                q[[r, j]] /= nrm;
            }
        }
    }
    q
}

/// A symmetric positive definite matrix `B Bᵀ + n I`.
pub fn spd(rng: &mut ChaCha8Rng, n: usize) -> Array2<f64> {
    let b = random(rng, n, n);
    let mut a = ref_matmul(&b.view(), &b.t());
    for i in 0..n {
        a[[i, i]] += n as f64;
    }
    // Exactly symmetric.
    for i in 0..n {
        for j in 0..i {
            a[[j, i]] = a[[i, j]];
        }
    }
    a
}
