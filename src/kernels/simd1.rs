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

/// Rotations in one [`rot_chain`].
pub(crate) const CHAIN: usize = 4;

#[inline(always)]
fn rot_chain_body<T: Real, const F: bool>(
    cols: [&mut [T]; CHAIN + 1],
    c: [T; CHAIN],
    s: [T; CHAIN],
) {
    let len = cols.iter().fold(usize::MAX, |l, x| l.min(x.len()));
    let [x0, x1, x2, x3, x4] = cols;
    let (x0, x1, x2, x3, x4) = (
        &mut x0[..len],
        &mut x1[..len],
        &mut x2[..len],
        &mut x3[..len],
        &mut x4[..len],
    );
    let rot = |c: T, s: T, p: T, q: T| (madd::<T, F>(c, p, s * q), madd::<T, F>(c, q, -(s * p)));
    for ((((a, b), d), e), g) in x0
        .iter_mut()
        .zip(x1.iter_mut())
        .zip(x2.iter_mut())
        .zip(x3.iter_mut())
        .zip(x4.iter_mut())
    {
        let (p, carry) = rot(c[0], s[0], *a, *b);
        *a = p;
        let (p, carry) = rot(c[1], s[1], carry, *d);
        *b = p;
        let (p, carry) = rot(c[2], s[2], carry, *e);
        *d = p;
        let (p, carry) = rot(c[3], s[3], carry, *g);
        *e = p;
        *g = carry;
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

#[inline(always)]
fn axpy2_body<T: Real, const F: bool>(a0: T, x0: &[T], a1: T, x1: &[T], y: &mut [T]) {
    for ((yi, &p), &q) in y.iter_mut().zip(x0).zip(x1) {
        *yi = madd::<T, F>(a1, q, madd::<T, F>(a0, p, *yi));
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::*;

    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn axpy2<T: Real>(a0: T, x0: &[T], a1: T, x1: &[T], y: &mut [T]) {
        axpy2_body::<T, true>(a0, x0, a1, x1, y)
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn rot<T: Real>(x: &mut [T], y: &mut [T], c: T, s: T) {
        rot_body::<T, true>(x, y, c, s)
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn rot_chain<T: Real>(
        cols: [&mut [T]; CHAIN + 1],
        c: [T; CHAIN],
        s: [T; CHAIN],
    ) {
        rot_chain_body::<T, true>(cols, c, s)
    }

    #[target_feature(enable = "avx512f,avx2,fma")]
    pub(super) unsafe fn rot_chain_512<T: Real>(
        cols: [&mut [T]; CHAIN + 1],
        c: [T; CHAIN],
        s: [T; CHAIN],
    ) {
        rot_chain_body::<T, true>(cols, c, s)
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

/// [`CHAIN`] rotations of consecutive column pairs, `(x₀, x₁)`, `(x₁, x₂)`, …, in that
/// order, each as [`rot`] (`c[t]`, `s[t]`), in one pass: each element is loaded and stored once
/// instead of twice per rotation it takes part in (a QR sweep's rotations form such chains).
#[inline]
pub(crate) fn rot_chain<T: Real>(
    fma: Fma,
    cols: [&mut [T]; CHAIN + 1],
    c: [T; CHAIN],
    s: [T; CHAIN],
) {
    #[cfg(target_arch = "x86_64")]
    if fma.avx2 {
        // SAFETY: `avx2`/`avx512` are only set by `Fma::detect` on a CPU with those features.
        unsafe {
            if fma.avx512 {
                avx2::rot_chain_512(cols, c, s);
            } else {
                avx2::rot_chain(cols, c, s);
            }
        }
        return;
    }
    let _ = fma;
    rot_chain_body::<T, false>(cols, c, s)
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

/// `yᵢ += α₀ x₀ᵢ + α₁ x₁ᵢ` over the common length (a complex `y += α x` on interleaved parts,
/// with `x₁ = i·x` interleaved: no shuffles in the loop).
#[inline]
pub(crate) fn axpy2<T: Real>(fma: Fma, a0: T, x0: &[T], a1: T, x1: &[T], y: &mut [T]) {
    #[cfg(target_arch = "x86_64")]
    if fma.avx2 {
        // SAFETY: `avx2` is only set by `Fma::detect` on a CPU with AVX2 and FMA.
        return unsafe { avx2::axpy2(a0, x0, a1, x1, y) };
    }
    let _ = fma;
    axpy2_body::<T, false>(a0, x0, a1, x1, y)
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
            let mut y = x.clone();
            axpy2(fma, 0.5, &a, -2.0, &x, &mut y);
            for ((yi, xi), ai) in y.iter().zip(&x).zip(&a) {
                assert!((yi - (0.5 * ai - xi)).abs() < 1e-15);
            }
            let (mut p, mut q) = (a.clone(), x.clone());
            rot(fma, &mut p, &mut q, 0.6, 0.8);
            for i in 0..37 {
                assert!((p[i] - (0.6 * a[i] + 0.8 * x[i])).abs() < 1e-15);
                assert!((q[i] - (0.6 * x[i] - 0.8 * a[i])).abs() < 1e-15);
            }
        }
    }

    /// A chain equals its rotations one by one.
    #[test]
    fn rot_chain_equals_single_rotations() {
        for len in [0usize, 1, 5, 8, 17, 64] {
            let base: Vec<Vec<f64>> = (0..CHAIN + 1)
                .map(|j| {
                    (0..len)
                        .map(|i| ((i * 3 + j * 7) as f64 * 0.29).sin())
                        .collect()
                })
                .collect();
            let cs: Vec<(f64, f64)> = (0..CHAIN)
                .map(|t| {
                    let a = 0.3 + t as f64;
                    (a.cos(), a.sin())
                })
                .collect();
            for fma in [Fma::BASELINE, Fma::detect()] {
                let mut want = base.clone();
                for (t, &(c, s)) in cs.iter().enumerate() {
                    let (lo, hi) = want.split_at_mut(t + 1);
                    rot(fma, &mut lo[t], &mut hi[0], c, s);
                }
                let mut got = base.clone();
                let [a, b, d, e, g] = &mut got[..] else {
                    unreachable!()
                };
                rot_chain(
                    fma,
                    [&mut a[..], &mut b[..], &mut d[..], &mut e[..], &mut g[..]],
                    std::array::from_fn(|t| cs[t].0),
                    std::array::from_fn(|t| cs[t].1),
                );
                for j in 0..=CHAIN {
                    for i in 0..len {
                        assert!((got[j][i] - want[j][i]).abs() < 1e-15, "len {len} col {j}");
                    }
                }
            }
        }
    }
}
