//! Level-2 loops over four columns at once, for the memory-bound halves of the tridiagonal
//! and bidiagonal reductions: the shared vectors cross the memory hierarchy once per four
//! columns and the four dot products are independent chains.
//!
//! ```text
//! symv4:      sⱼ = Σᵣ colⱼ[r] x[r];   y[r] += Σⱼ αⱼ colⱼ[r]       (symmetric matrix × vector)
//! axpy_dot4:  colⱼ += αⱼ w;           sⱼ = Σᵣ colⱼ[r] v[r]         (rank-1 update, then a dot)
//! axpy4:      y[r] += Σⱼ αⱼ colⱼ[r]                                 (matrix × vector, by columns)
//! ```
//!
//! The two with dot products use explicit vector intrinsics (AVX-512F or AVX2 + FMA, f64 and
//! f32): LLVM vectorises their portable versions across the four columns instead of along the
//! rows, which ran slower than one column at a time. `axpy4` has no reduction and vectorises
//! well from plain Rust compiled for each instruction set.

use crate::op::Dtype;
use crate::real::Real;

use super::simd1::Fma;

/// Columns handled together by [`symv4`], [`axpy_dot4`] and [`axpy4`].
pub(crate) const COLS: usize = 4;

/// Hints the CPU to bring the cache line holding `x` into L1 (a no-op off x86-64). For the
/// heads of the next columns of a pass: each starts a new stream, which the hardware
/// prefetchers only pick up after a miss or two.
#[inline]
pub(crate) fn prefetch<T>(x: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: prefetching is a hint; it never faults and reads nothing observable.
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(
            (x as *const T).cast::<i8>(),
        );
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = x;
}

/// The portable loop (any CPU; also the reference of the tests).
fn symv4_portable<T: Real>(
    cols: [&[T]; COLS],
    x: &[T],
    alpha: [T; COLS],
    y: &mut [T],
    len: usize,
) -> [T; COLS] {
    let mut s = [T::zero(); COLS];
    for r in 0..len {
        let mut t = y[r];
        for j in 0..COLS {
            s[j] = s[j] + cols[j][r] * x[r];
            t = t + alpha[j] * cols[j][r];
        }
        y[r] = t;
    }
    s
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use core::arch::x86_64::*;

    use super::COLS;

    /// Horizontal sum of a 256-bit f64 vector.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn hsum_pd256(v: __m256d) -> f64 {
        let mut a = [0.0f64; 4];
        // SAFETY: `a` holds four f64.
        unsafe { _mm256_storeu_pd(a.as_mut_ptr(), v) };
        (a[0] + a[1]) + (a[2] + a[3])
    }

    /// Horizontal sum of a 256-bit f32 vector.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn hsum_ps256(v: __m256) -> f32 {
        let mut a = [0.0f32; 8];
        // SAFETY: `a` holds eight f32.
        unsafe { _mm256_storeu_ps(a.as_mut_ptr(), v) };
        ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]))
    }

    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn hsum_pd512(v: __m512d) -> f64 {
        _mm512_reduce_add_pd(v)
    }

    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn hsum_ps512(v: __m512) -> f32 {
        _mm512_reduce_add_ps(v)
    }

    macro_rules! symv4_kernel {
        (
            $name:ident, $t:ty, $feature:literal, $lanes:expr, $v:ty,
            $setzero:ident, $loadu:ident, $storeu:ident, $set1:ident, $fmadd:ident, $add:ident,
            $hsum:ident
        ) => {
            /// [`super::symv4`] (`Y`) or [`super::dot4`] (not `Y`: `y` and `alpha` unused)
            /// for one element type and instruction set: two groups of `LANES` rows per step
            /// (eight independent dot-product chains), then a scalar tail.
            ///
            /// # Safety
            /// The CPU supports the target features; `cols[j]`, `x` and (`Y`) `y` hold at
            /// least `len` elements and `y` overlaps none of the others.
            #[target_feature(enable = $feature)]
            pub(super) unsafe fn $name<const Y: bool>(
                cols: [*const $t; COLS],
                x: *const $t,
                alpha: [$t; COLS],
                y: *mut $t,
                len: usize,
            ) -> [$t; COLS] {
                // SAFETY: as the function's contract.
                unsafe {
                    const LANES: usize = $lanes;
                    let [c0, c1, c2, c3] = cols;
                    let (a0, a1, a2, a3) = (
                        $set1(alpha[0]),
                        $set1(alpha[1]),
                        $set1(alpha[2]),
                        $set1(alpha[3]),
                    );
                    let (mut s0, mut s1, mut s2, mut s3): ($v, $v, $v, $v) =
                        ($setzero(), $setzero(), $setzero(), $setzero());
                    let (mut t0, mut t1, mut t2, mut t3): ($v, $v, $v, $v) =
                        ($setzero(), $setzero(), $setzero(), $setzero());
                    let mut i = 0;
                    while i + 2 * LANES <= len {
                        let j = i + LANES;
                        let (xa, xb) = ($loadu(x.add(i)), $loadu(x.add(j)));
                        let (p0, q0) = ($loadu(c0.add(i)), $loadu(c0.add(j)));
                        let (p1, q1) = ($loadu(c1.add(i)), $loadu(c1.add(j)));
                        let (p2, q2) = ($loadu(c2.add(i)), $loadu(c2.add(j)));
                        let (p3, q3) = ($loadu(c3.add(i)), $loadu(c3.add(j)));
                        s0 = $fmadd(p0, xa, s0);
                        s1 = $fmadd(p1, xa, s1);
                        s2 = $fmadd(p2, xa, s2);
                        s3 = $fmadd(p3, xa, s3);
                        t0 = $fmadd(q0, xb, t0);
                        t1 = $fmadd(q1, xb, t1);
                        t2 = $fmadd(q2, xb, t2);
                        t3 = $fmadd(q3, xb, t3);
                        if Y {
                            let ya = $fmadd(
                                p3,
                                a3,
                                $fmadd(p2, a2, $fmadd(p1, a1, $fmadd(p0, a0, $loadu(y.add(i))))),
                            );
                            let yb = $fmadd(
                                q3,
                                a3,
                                $fmadd(q2, a2, $fmadd(q1, a1, $fmadd(q0, a0, $loadu(y.add(j))))),
                            );
                            $storeu(y.add(i), ya);
                            $storeu(y.add(j), yb);
                        }
                        i += 2 * LANES;
                    }
                    let mut s = [
                        $hsum($add(s0, t0)),
                        $hsum($add(s1, t1)),
                        $hsum($add(s2, t2)),
                        $hsum($add(s3, t3)),
                    ];
                    while i < len {
                        let xv = *x.add(i);
                        let (e0, e1, e2, e3) = (*c0.add(i), *c1.add(i), *c2.add(i), *c3.add(i));
                        s[0] = e0.mul_add(xv, s[0]);
                        s[1] = e1.mul_add(xv, s[1]);
                        s[2] = e2.mul_add(xv, s[2]);
                        s[3] = e3.mul_add(xv, s[3]);
                        if Y {
                            let yv = e0.mul_add(alpha[0], *y.add(i));
                            let yv = e1.mul_add(alpha[1], yv);
                            let yv = e2.mul_add(alpha[2], yv);
                            *y.add(i) = e3.mul_add(alpha[3], yv);
                        }
                        i += 1;
                    }
                    s
                }
            }
        };
    }

    symv4_kernel!(
        f64_avx512,
        f64,
        "avx512f",
        8,
        __m512d,
        _mm512_setzero_pd,
        _mm512_loadu_pd,
        _mm512_storeu_pd,
        _mm512_set1_pd,
        _mm512_fmadd_pd,
        _mm512_add_pd,
        hsum_pd512
    );
    symv4_kernel!(
        f32_avx512,
        f32,
        "avx512f",
        16,
        __m512,
        _mm512_setzero_ps,
        _mm512_loadu_ps,
        _mm512_storeu_ps,
        _mm512_set1_ps,
        _mm512_fmadd_ps,
        _mm512_add_ps,
        hsum_ps512
    );
    symv4_kernel!(
        f64_avx2,
        f64,
        "avx2,fma",
        4,
        __m256d,
        _mm256_setzero_pd,
        _mm256_loadu_pd,
        _mm256_storeu_pd,
        _mm256_set1_pd,
        _mm256_fmadd_pd,
        _mm256_add_pd,
        hsum_pd256
    );
    symv4_kernel!(
        f32_avx2,
        f32,
        "avx2,fma",
        8,
        __m256,
        _mm256_setzero_ps,
        _mm256_loadu_ps,
        _mm256_storeu_ps,
        _mm256_set1_ps,
        _mm256_fmadd_ps,
        _mm256_add_ps,
        hsum_ps256
    );

    macro_rules! axpy_dot4_kernel {
        (
            $name:ident, $t:ty, $feature:literal, $lanes:expr, $v:ty,
            $setzero:ident, $loadu:ident, $storeu:ident, $set1:ident, $fmadd:ident, $add:ident,
            $hsum:ident
        ) => {
            /// [`super::axpy_dot4`] for one element type and instruction set.
            ///
            /// # Safety
            /// The CPU supports the target features; `cols[j]`, `w`, `v` hold at least `len`
            /// elements; the four columns are disjoint and overlap neither `w` nor `v`.
            #[target_feature(enable = $feature)]
            pub(super) unsafe fn $name(
                cols: [*mut $t; COLS],
                alpha: [$t; COLS],
                w: *const $t,
                v: *const $t,
                len: usize,
            ) -> [$t; COLS] {
                // SAFETY: as the function's contract.
                unsafe {
                    const LANES: usize = $lanes;
                    let [c0, c1, c2, c3] = cols;
                    let (a0, a1, a2, a3) = (
                        $set1(alpha[0]),
                        $set1(alpha[1]),
                        $set1(alpha[2]),
                        $set1(alpha[3]),
                    );
                    let (mut s0, mut s1, mut s2, mut s3): ($v, $v, $v, $v) =
                        ($setzero(), $setzero(), $setzero(), $setzero());
                    let (mut t0, mut t1, mut t2, mut t3): ($v, $v, $v, $v) =
                        ($setzero(), $setzero(), $setzero(), $setzero());
                    let mut i = 0;
                    while i + 2 * LANES <= len {
                        let j = i + LANES;
                        let (wa, wb) = ($loadu(w.add(i)), $loadu(w.add(j)));
                        let (va, vb) = ($loadu(v.add(i)), $loadu(v.add(j)));
                        let p0 = $fmadd(wa, a0, $loadu(c0.add(i)));
                        let p1 = $fmadd(wa, a1, $loadu(c1.add(i)));
                        let p2 = $fmadd(wa, a2, $loadu(c2.add(i)));
                        let p3 = $fmadd(wa, a3, $loadu(c3.add(i)));
                        let q0 = $fmadd(wb, a0, $loadu(c0.add(j)));
                        let q1 = $fmadd(wb, a1, $loadu(c1.add(j)));
                        let q2 = $fmadd(wb, a2, $loadu(c2.add(j)));
                        let q3 = $fmadd(wb, a3, $loadu(c3.add(j)));
                        $storeu(c0.add(i), p0);
                        $storeu(c1.add(i), p1);
                        $storeu(c2.add(i), p2);
                        $storeu(c3.add(i), p3);
                        $storeu(c0.add(j), q0);
                        $storeu(c1.add(j), q1);
                        $storeu(c2.add(j), q2);
                        $storeu(c3.add(j), q3);
                        s0 = $fmadd(p0, va, s0);
                        s1 = $fmadd(p1, va, s1);
                        s2 = $fmadd(p2, va, s2);
                        s3 = $fmadd(p3, va, s3);
                        t0 = $fmadd(q0, vb, t0);
                        t1 = $fmadd(q1, vb, t1);
                        t2 = $fmadd(q2, vb, t2);
                        t3 = $fmadd(q3, vb, t3);
                        i += 2 * LANES;
                    }
                    let mut s = [
                        $hsum($add(s0, t0)),
                        $hsum($add(s1, t1)),
                        $hsum($add(s2, t2)),
                        $hsum($add(s3, t3)),
                    ];
                    while i < len {
                        let (wi, vi) = (*w.add(i), *v.add(i));
                        for (c, (sc, ac)) in cols.iter().zip(s.iter_mut().zip(alpha)) {
                            let x = wi.mul_add(ac, *c.add(i));
                            *c.add(i) = x;
                            *sc = x.mul_add(vi, *sc);
                        }
                        i += 1;
                    }
                    s
                }
            }
        };
    }

    axpy_dot4_kernel!(
        axpy_dot_f64_avx512,
        f64,
        "avx512f",
        8,
        __m512d,
        _mm512_setzero_pd,
        _mm512_loadu_pd,
        _mm512_storeu_pd,
        _mm512_set1_pd,
        _mm512_fmadd_pd,
        _mm512_add_pd,
        hsum_pd512
    );
    axpy_dot4_kernel!(
        axpy_dot_f32_avx512,
        f32,
        "avx512f",
        16,
        __m512,
        _mm512_setzero_ps,
        _mm512_loadu_ps,
        _mm512_storeu_ps,
        _mm512_set1_ps,
        _mm512_fmadd_ps,
        _mm512_add_ps,
        hsum_ps512
    );
    axpy_dot4_kernel!(
        axpy_dot_f64_avx2,
        f64,
        "avx2,fma",
        4,
        __m256d,
        _mm256_setzero_pd,
        _mm256_loadu_pd,
        _mm256_storeu_pd,
        _mm256_set1_pd,
        _mm256_fmadd_pd,
        _mm256_add_pd,
        hsum_pd256
    );
    axpy_dot4_kernel!(
        axpy_dot_f32_avx2,
        f32,
        "avx2,fma",
        8,
        __m256,
        _mm256_setzero_ps,
        _mm256_loadu_ps,
        _mm256_storeu_ps,
        _mm256_set1_ps,
        _mm256_fmadd_ps,
        _mm256_add_ps,
        hsum_ps256
    );

    /// [`super::axpy4`]'s loop, compiled for AVX-512F.
    #[target_feature(enable = "avx512f,avx2,fma")]
    pub(super) unsafe fn axpy4_avx512<T: crate::real::Real>(
        cols: [&[T]; COLS],
        alpha: [T; COLS],
        y: &mut [T],
    ) {
        super::axpy4_body::<T, true>(cols, alpha, y)
    }

    /// [`super::axpy4`]'s loop, compiled for AVX2 + FMA.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn axpy4_avx2<T: crate::real::Real>(
        cols: [&[T]; COLS],
        alpha: [T; COLS],
        y: &mut [T],
    ) {
        super::axpy4_body::<T, true>(cols, alpha, y)
    }
}

/// Calls the x86 kernel for `T`'s element type (`f64` or `f32`, named `E` in the arguments)
/// and the widest instruction set `fma` allows, converting the four results back to `T`;
/// `None` for another type. Unsafe to expand: `T::KIND` names T's type exactly (the sealed
/// `Real` impls), so the argument casts are identities, and `fma`'s flags come from
/// `Fma::detect` on this CPU; the caller guarantees the kernels' pointer contracts.
#[cfg(target_arch = "x86_64")]
macro_rules! on_x86 {
    ($fma:expr, $t:ty, $k64_512:path, $k64_2:path, $k32_512:path, $k32_2:path,
     |$e:ident| ($($arg:expr),* $(,)?)) => {
        match <$t as Real>::KIND {
            Dtype::F64 => {
                type $e = f64;
                let s = if $fma.avx512() { $k64_512($($arg),*) } else { $k64_2($($arg),*) };
                Some(s.map(<$t as Real>::of))
            }
            Dtype::F32 => {
                type $e = f32;
                let s = if $fma.avx512() { $k32_512($($arg),*) } else { $k32_2($($arg),*) };
                Some(s.map(|v| <$t as Real>::of(f64::from(v))))
            }
            _ => None,
        }
    };
}

/// Four columns of a symmetric matrix-vector product at once, below their diagonal block:
/// returns `Σᵣ colsⱼ[r] x[r]` for each column `j`, and adds `Σⱼ αⱼ colsⱼ[r]` to `y[r]`, over
/// the common length of all six slices.
pub(crate) fn symv4<T: Real>(
    fma: Fma,
    cols: [&[T]; COLS],
    x: &[T],
    alpha: [T; COLS],
    y: &mut [T],
) -> [T; COLS] {
    let len = cols
        .iter()
        .fold(x.len().min(y.len()), |l, c| l.min(c.len()));
    symv4_or_dot4::<T, true>(fma, cols, x, alpha, y, len)
}

/// Four dot products with one vector: `Σᵣ colsⱼ[r] x[r]` for each column `j`, over the common
/// length of the five slices (`x` read once for the four; the matrix-vector product `Aᵀ x`
/// four columns at a time).
pub(crate) fn dot4<T: Real>(fma: Fma, cols: [&[T]; COLS], x: &[T]) -> [T; COLS] {
    let len = cols.iter().fold(x.len(), |l, c| l.min(c.len()));
    symv4_or_dot4::<T, false>(fma, cols, x, [T::zero(); COLS], &mut [], len)
}

/// The one driver of [`symv4`] (`Y`) and [`dot4`] (not `Y`: `alpha` and `y` unused): the
/// widest x86 kernel `fma` allows, else the portable loop, over the first `len` elements.
/// `len` is at most the length of `x` and of each column, and (`Y`) of `y`.
#[inline(always)]
fn symv4_or_dot4<T: Real, const Y: bool>(
    fma: Fma,
    cols: [&[T]; COLS],
    x: &[T],
    alpha: [T; COLS],
    y: &mut [T],
    len: usize,
) -> [T; COLS] {
    debug_assert!(len <= x.len() && cols.iter().all(|c| len <= c.len()));
    debug_assert!(!Y || len <= y.len());
    #[cfg(target_arch = "x86_64")]
    if fma.avx2() {
        let ptrs = cols.map(|c| c.as_ptr());
        // SAFETY: every slice holds at least `len` elements and `y` is an exclusive borrow;
        // without `Y` the kernels touch neither `y` nor `alpha` (see `on_x86` for the casts and
        // features).
        let s = unsafe {
            on_x86!(
                fma,
                T,
                x86::f64_avx512::<Y>,
                x86::f64_avx2::<Y>,
                x86::f32_avx512::<Y>,
                x86::f32_avx2::<Y>,
                |E| (
                    ptrs.map(|p| p.cast::<E>()),
                    x.as_ptr().cast::<E>(),
                    alpha.map(|v| v.as_f64() as E),
                    y.as_mut_ptr().cast::<E>(),
                    len
                )
            )
        };
        if let Some(s) = s {
            return s;
        }
    }
    let _ = fma;
    if Y {
        symv4_portable(cols, x, alpha, y, len)
    } else {
        std::array::from_fn(|j| (0..len).fold(T::zero(), |acc, r| acc + cols[j][r] * x[r]))
    }
}

/// `colⱼ += αⱼ w` for four columns, then returns `Σᵣ colⱼ[r] v[r]` of the updated columns,
/// over the common length of all six slices.
pub(crate) fn axpy_dot4<T: Real>(
    fma: Fma,
    mut cols: [&mut [T]; COLS],
    alpha: [T; COLS],
    w: &[T],
    v: &[T],
) -> [T; COLS] {
    let len = cols
        .iter()
        .fold(w.len().min(v.len()), |l, c| l.min(c.len()));
    #[cfg(target_arch = "x86_64")]
    if fma.avx2() {
        let ptrs: [*mut T; COLS] = std::array::from_fn(|j| cols[j].as_mut_ptr());
        // SAFETY: every slice holds at least `len` elements; the four columns are distinct
        // exclusive borrows (see `on_x86` for the casts and features).
        let s = unsafe {
            on_x86!(
                fma,
                T,
                x86::axpy_dot_f64_avx512,
                x86::axpy_dot_f64_avx2,
                x86::axpy_dot_f32_avx512,
                x86::axpy_dot_f32_avx2,
                |E| (
                    ptrs.map(|p| p.cast::<E>()),
                    alpha.map(|x| x.as_f64() as E),
                    w.as_ptr().cast::<E>(),
                    v.as_ptr().cast::<E>(),
                    len
                )
            )
        };
        if let Some(s) = s {
            return s;
        }
    }
    let _ = fma;
    let mut s = [T::zero(); COLS];
    for (c, (sc, a)) in cols.iter_mut().zip(s.iter_mut().zip(alpha)) {
        for r in 0..len {
            c[r] = c[r] + a * w[r];
            *sc = *sc + c[r] * v[r];
        }
    }
    s
}

#[inline(always)]
fn axpy4_body<T: Real, const F: bool>(cols: [&[T]; COLS], alpha: [T; COLS], y: &mut [T]) {
    let len = cols.iter().fold(y.len(), |l, c| l.min(c.len()));
    let [c0, c1, c2, c3] = cols.map(|c| &c[..len]);
    let [a0, a1, a2, a3] = alpha;
    let madd = |a: T, b: T, c: T| if F { a.mul_add(b, c) } else { a * b + c };
    for ((((yr, &p0), &p1), &p2), &p3) in y[..len].iter_mut().zip(c0).zip(c1).zip(c2).zip(c3) {
        *yr = madd(p3, a3, madd(p2, a2, madd(p1, a1, madd(p0, a0, *yr))));
    }
}

/// `y[r] += Σⱼ αⱼ colⱼ[r]` over the common length.
pub(crate) fn axpy4<T: Real>(fma: Fma, cols: [&[T]; COLS], alpha: [T; COLS], y: &mut [T]) {
    #[cfg(target_arch = "x86_64")]
    if fma.avx2() {
        // SAFETY: the feature flags come from `Fma::detect` on this CPU.
        unsafe {
            if fma.avx512() {
                x86::axpy4_avx512(cols, alpha, y);
            } else {
                x86::axpy4_avx2(cols, alpha, y);
            }
        }
        return;
    }
    let _ = fma;
    axpy4_body::<T, false>(cols, alpha, y)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check<T: Real>(tol: f64) {
        for len in [0usize, 1, 7, 8, 9, 16, 31, 32, 33, 77] {
            let cols: Vec<Vec<T>> = (0..COLS)
                .map(|j| {
                    (0..len)
                        .map(|i| T::of(((i * 5 + j * 3) as f64 * 0.37).sin()))
                        .collect()
                })
                .collect();
            let x: Vec<T> = (0..len).map(|i| T::of((i as f64 * 0.11).cos())).collect();
            let alpha = [0.5, -1.25, 2.0, 0.75].map(T::of);
            let y0: Vec<T> = (0..len).map(|i| T::of(i as f64 * 0.01)).collect();
            for fma in [Fma::BASELINE, Fma::detect()] {
                let mut y = y0.clone();
                let got = symv4(
                    fma,
                    std::array::from_fn(|j| &cols[j][..]),
                    &x,
                    alpha,
                    &mut y,
                );
                for j in 0..COLS {
                    let want: f64 = cols[j]
                        .iter()
                        .zip(&x)
                        .map(|(p, q)| p.as_f64() * q.as_f64())
                        .sum();
                    assert!(
                        (got[j].as_f64() - want).abs() < tol * (1 + len) as f64,
                        "len {len} col {j}"
                    );
                }
                for i in 0..len {
                    let want = y0[i].as_f64()
                        + (0..COLS)
                            .map(|j| alpha[j].as_f64() * cols[j][i].as_f64())
                            .sum::<f64>();
                    assert!(
                        (y[i].as_f64() - want).abs() < tol * 8.0,
                        "len {len} row {i}"
                    );
                }
                let dots = dot4(fma, std::array::from_fn(|j| &cols[j][..]), &x);
                for j in 0..COLS {
                    let want: f64 = cols[j]
                        .iter()
                        .zip(&x)
                        .map(|(p, q)| p.as_f64() * q.as_f64())
                        .sum();
                    assert!(
                        (dots[j].as_f64() - want).abs() < tol * (1 + len) as f64,
                        "dot4: len {len} col {j}"
                    );
                }
            }
        }
    }

    /// Every compiled version against plain f64 arithmetic, lengths around the vector widths
    /// (tails included).
    #[test]
    fn symv4_and_dot4_agree_with_plain_loops() {
        check::<f64>(1e-15);
        check::<f32>(1e-6);
    }

    fn check_others<T: Real>(tol: f64) {
        for len in [0usize, 1, 7, 8, 9, 16, 31, 32, 33, 77] {
            let cols: Vec<Vec<T>> = (0..COLS)
                .map(|j| {
                    (0..len)
                        .map(|i| T::of(((i * 5 + j * 3) as f64 * 0.37).sin()))
                        .collect()
                })
                .collect();
            let w: Vec<T> = (0..len).map(|i| T::of((i as f64 * 0.11).cos())).collect();
            let v: Vec<T> = (0..len).map(|i| T::of((i as f64 * 0.23).sin())).collect();
            let alpha = [0.5, -1.25, 2.0, 0.75].map(T::of);
            for fma in [Fma::BASELINE, Fma::detect()] {
                let mut c = cols.clone();
                let [c0, c1, c2, c3] = &mut c[..] else {
                    unreachable!()
                };
                let got = axpy_dot4(
                    fma,
                    [&mut c0[..], &mut c1[..], &mut c2[..], &mut c3[..]],
                    alpha,
                    &w,
                    &v,
                );
                for j in 0..COLS {
                    let upd: Vec<f64> = (0..len)
                        .map(|i| cols[j][i].as_f64() + alpha[j].as_f64() * w[i].as_f64())
                        .collect();
                    for i in 0..len {
                        assert!(
                            (c[j][i].as_f64() - upd[i]).abs() < tol * 4.0,
                            "len {len} col {j} row {i}"
                        );
                    }
                    let want: f64 = upd.iter().zip(&v).map(|(p, q)| p * q.as_f64()).sum();
                    assert!(
                        (got[j].as_f64() - want).abs() < tol * (4 + len) as f64,
                        "len {len} col {j}"
                    );
                }
                let mut y = w.clone();
                axpy4(fma, std::array::from_fn(|j| &cols[j][..]), alpha, &mut y);
                for i in 0..len {
                    let want = w[i].as_f64()
                        + (0..COLS)
                            .map(|j| alpha[j].as_f64() * cols[j][i].as_f64())
                            .sum::<f64>();
                    assert!(
                        (y[i].as_f64() - want).abs() < tol * 8.0,
                        "len {len} row {i}"
                    );
                }
            }
        }
    }

    /// `axpy_dot4` and `axpy4`, every compiled version, against plain f64 arithmetic.
    #[test]
    fn axpy_dot4_and_axpy4_agree_with_plain_loops() {
        check_others::<f64>(1e-15);
        check_others::<f32>(1e-6);
    }
}
