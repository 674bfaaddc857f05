//! The level-1 loops of the spectral reductions and sweeps (plane rotation, dot product,
//! axpy, fused dot + axpy), compiled twice: for the baseline target and with AVX2 + FMA, chosen
//! by an [`Fma`] value the caller detects once. The crate's baseline is SSE2, where these loops
//! — the memory- and latency-bound half of `eigh` and `svd` — ran at half the speed.

use crate::kernels::Isa;
use crate::real::Real;

/// Which compiled versions may run: `avx2` (AVX2 + FMA) and `avx512` (AVX-512F as well) are
/// only set by [`Fma::detect`] on a CPU that has them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fma {
    avx2: bool,
    avx512: bool,
}

impl Fma {
    /// The baseline versions only (any CPU).
    #[cfg(test)]
    pub(crate) const BASELINE: Fma = Fma {
        avx2: false,
        avx512: false,
    };

    /// Whether the AVX2 + FMA versions may run.
    pub(crate) fn avx2(self) -> bool {
        self.avx2
    }

    /// Whether the AVX-512F versions may run.
    pub(crate) fn avx512(self) -> bool {
        self.avx512
    }

    /// Checks the CPU (std's cached feature detection).
    pub(crate) fn detect() -> Fma {
        let avx2 = Isa::Avx2.available();
        Fma {
            avx2,
            avx512: avx2 && Isa::Avx512.available(),
        }
    }
}

/// Independent accumulators of a dot product.
const L: usize = 8;

#[inline(always)]
fn madd<T: Real, const F: bool>(a: T, b: T, c: T) -> T {
    if F {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

#[inline(always)]
fn rot_body<T: Real, const F: bool>(x: &mut [T], y: &mut [T], c: T, s: T) {
    for (a, b) in x.iter_mut().zip(y.iter_mut()) {
        let (p, q) = (*a, *b);
        *a = madd::<T, F>(c, p, s * q);
        *b = madd::<T, F>(c, q, -(s * p));
    }
}

#[inline(always)]
fn dot_axpy_body<T: Real, const F: bool>(a: &[T], x: &[T], alpha: T, y: &mut [T]) -> T {
    let len = a.len().min(x.len()).min(y.len());
    let (a, x, y) = (&a[..len], &x[..len], &mut y[..len]);
    let mut acc = [T::zero(); L];
    let split = len - len % L;
    for ((ac, xc), yc) in a[..split]
        .chunks_exact(L)
        .zip(x[..split].chunks_exact(L))
        .zip(y[..split].chunks_exact_mut(L))
    {
        for k in 0..L {
            acc[k] = madd::<T, F>(ac[k], xc[k], acc[k]);
            yc[k] = madd::<T, F>(alpha, ac[k], yc[k]);
        }
    }
    for k in split..len {
        acc[k - split] = madd::<T, F>(a[k], x[k], acc[k - split]);
        y[k] = madd::<T, F>(alpha, a[k], y[k]);
    }
    let mut width = L;
    while width > 1 {
        width /= 2;
        for k in 0..width {
            acc[k] = acc[k] + acc[k + width];
        }
    }
    acc[0]
}

#[inline(always)]
fn dot_body<T: Real, const F: bool>(a: &[T], x: &[T]) -> T {
    let len = a.len().min(x.len());
    let (a, x) = (&a[..len], &x[..len]);
    let mut acc = [T::zero(); L];
    let split = len - len % L;
    for (ac, xc) in a[..split].chunks_exact(L).zip(x[..split].chunks_exact(L)) {
        for k in 0..L {
            acc[k] = madd::<T, F>(ac[k], xc[k], acc[k]);
        }
    }
    for k in split..len {
        acc[k - split] = madd::<T, F>(a[k], x[k], acc[k - split]);
    }
    let mut width = L;
    while width > 1 {
        width /= 2;
        for k in 0..width {
            acc[k] = acc[k] + acc[k + width];
        }
    }
    acc[0]
}

#[inline(always)]
fn axpy_body<T: Real, const F: bool>(alpha: T, x: &[T], y: &mut [T]) {
    for (yi, &xi) in y.iter_mut().zip(x) {
        *yi = madd::<T, F>(alpha, xi, *yi);
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::*;

    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn rot<T: Real>(x: &mut [T], y: &mut [T], c: T, s: T) {
        rot_body::<T, true>(x, y, c, s)
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn dot_axpy<T: Real>(a: &[T], x: &[T], alpha: T, y: &mut [T]) -> T {
        dot_axpy_body::<T, true>(a, x, alpha, y)
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn dot<T: Real>(a: &[T], x: &[T]) -> T {
        dot_body::<T, true>(a, x)
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn axpy<T: Real>(alpha: T, x: &[T], y: &mut [T]) {
        axpy_body::<T, true>(alpha, x, y)
    }
}

/// `xᵢ ← c xᵢ + s yᵢ`, `yᵢ ← c yᵢ − s xᵢ` over the common length.
#[inline]
pub(crate) fn rot<T: Real>(fma: Fma, x: &mut [T], y: &mut [T], c: T, s: T) {
    #[cfg(target_arch = "x86_64")]
    if fma.avx2 {
        // SAFETY: `avx2` is only set by `Fma::detect` on a CPU with AVX2 and FMA.
        return unsafe { avx2::rot(x, y, c, s) };
    }
    let _ = fma;
    rot_body::<T, false>(x, y, c, s)
}

/// `Σ aᵢ xᵢ`, and `yᵢ += α aᵢ` in the same pass over `a`.
#[inline]
pub(crate) fn dot_axpy<T: Real>(fma: Fma, a: &[T], x: &[T], alpha: T, y: &mut [T]) -> T {
    #[cfg(target_arch = "x86_64")]
    if fma.avx2 {
        // SAFETY: `avx2` is only set by `Fma::detect` on a CPU with AVX2 and FMA.
        return unsafe { avx2::dot_axpy(a, x, alpha, y) };
    }
    let _ = fma;
    dot_axpy_body::<T, false>(a, x, alpha, y)
}

/// `Σ aᵢ xᵢ` over the common length.
#[inline]
pub(crate) fn dot<T: Real>(fma: Fma, a: &[T], x: &[T]) -> T {
    #[cfg(target_arch = "x86_64")]
    if fma.avx2 {
        // SAFETY: `avx2` is only set by `Fma::detect` on a CPU with AVX2 and FMA.
        return unsafe { avx2::dot(a, x) };
    }
    let _ = fma;
    dot_body::<T, false>(a, x)
}

/// `yᵢ += α xᵢ` over the common length.
#[inline]
pub(crate) fn axpy<T: Real>(fma: Fma, alpha: T, x: &[T], y: &mut [T]) {
    #[cfg(target_arch = "x86_64")]
    if fma.avx2 {
        // SAFETY: `avx2` is only set by `Fma::detect` on a CPU with AVX2 and FMA.
        return unsafe { avx2::axpy(alpha, x, y) };
    }
    let _ = fma;
    axpy_body::<T, false>(alpha, x, y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_versions_agree_with_plain_loops() {
        let a: Vec<f64> = (0..37).map(|i| (i as f64 * 0.37).sin()).collect();
        let x: Vec<f64> = (0..37).map(|i| (i as f64 * 0.11).cos()).collect();
        let want: f64 = a.iter().zip(&x).map(|(p, q)| p * q).sum();
        for fma in [Fma::BASELINE, Fma::detect()] {
            assert!((dot(fma, &a, &x) - want).abs() < 1e-14);
            let mut y = x.clone();
            let got = dot_axpy(fma, &a, &x, 2.0, &mut y);
            assert!((got - want).abs() < 1e-14);
            for ((yi, xi), ai) in y.iter().zip(&x).zip(&a) {
                assert!((yi - (xi + 2.0 * ai)).abs() < 1e-15);
            }
            let mut y = x.clone();
            axpy(fma, -1.0, &x, &mut y);
            assert!(y.iter().all(|&v| v.abs() < 1e-15));
            let (mut p, mut q) = (a.clone(), x.clone());
            rot(fma, &mut p, &mut q, 0.6, 0.8);
            for i in 0..37 {
                assert!((p[i] - (0.6 * a[i] + 0.8 * x[i])).abs() < 1e-15);
                assert!((q[i] - (0.6 * x[i] - 0.8 * a[i])).abs() < 1e-15);
            }
        }
    }
}
