//! AVX2 + FMA micro-kernels: f64 8×6 and f32 16×6.
//!
//! Twelve ymm accumulators (two vectors of MR/2 rows × 6 columns), two A vectors and one
//! broadcast: 15 of the 16 vector registers; 12 independent FMAs per step of k cover two FMA
//! pipes × 4–5 cycles of latency. Full tiles of a column-contiguous C are updated with vector
//! loads and stores; edge tiles and other layouts go through a small buffer.

use core::arch::x86_64::*;

macro_rules! avx2_kernel {
    (
        $(#[$doc:meta])*
        $name:ident, $t:ty, $lanes:expr, $nr:expr,
        $setzero:ident, $loadu:ident, $set1:ident, $fmadd:ident, $mul:ident, $storeu:ident
    ) => {
        $(#[$doc])*
        ///
        /// # Safety
        /// The CPU supports AVX2 and FMA; otherwise as the AVX-512 kernels: `a` holds `k · MR`
        /// packed elements, `b` holds `k · NR`, `c` addresses a writable `m × n` tile
        /// (`1 ≤ m ≤ MR`, `1 ≤ n ≤ NR`) overlapping neither.
        #[target_feature(enable = "avx2,fma")]
        #[allow(clippy::too_many_arguments)]
        pub(crate) unsafe fn $name(
            k: usize,
            a: *const $t,
            b: *const $t,
            c: *mut $t,
            rs_c: isize,
            cs_c: isize,
            m: usize,
            n: usize,
            alpha: $t,
            beta: $t,
        ) {
            const L: usize = $lanes;
            const NR: usize = $nr;
            /// Steps of k per unrolled iteration.
            const U: usize = 4;
            /// How far ahead (in steps of k) the A~ micro-panel is prefetched.
            const AHEAD: usize = 16;
            if rs_c == 1 && beta != 0.0 {
                // Start fetching the C tile now: after the k loop its columns are in L1 instead
                // of costing one miss each (a C column of a large matrix is a page away from the
                // next one).
                for j in 0..n.min(NR) {
                    // SAFETY: prefetching is a hint and never faults.
                    unsafe {
                        let cp = c.offset(j as isize * cs_c);
                        _mm_prefetch::<_MM_HINT_T0>(cp.cast::<i8>());
                        _mm_prefetch::<_MM_HINT_T0>(cp.add(2 * L - 1).cast::<i8>());
                    }
                }
            }
            let mut lo = [$setzero(); NR];
            let mut hi = [$setzero(); NR];
            let (mut pa, mut pb) = (a, b);
            let step = |pa: *const $t, pb: *const $t, lo: &mut [_; NR], hi: &mut [_; NR]| {
                // SAFETY: one step of k reads 2·L elements at pa and NR at pb, inside the
                // packed panels (caller's contract).
                unsafe {
                    let a0 = $loadu(pa);
                    let a1 = $loadu(pa.add(L));
                    for j in 0..NR {
                        let bj = $set1(*pb.add(j));
                        lo[j] = $fmadd(a0, bj, lo[j]);
                        hi[j] = $fmadd(a1, bj, hi[j]);
                    }
                }
            };
            for _ in 0..k / U {
                for u in 0..U {
                    // SAFETY: steps u < U of this iteration lie inside the panels.
                    unsafe { step(pa.add(u * 2 * L), pb.add(u * NR), &mut lo, &mut hi) };
                }
                // Prefetching is a hint and never faults, even past the panel's end.
                let ahead = pa.wrapping_add(AHEAD * 2 * L);
                _mm_prefetch::<_MM_HINT_T0>(ahead.cast::<i8>());
                _mm_prefetch::<_MM_HINT_T0>(ahead.wrapping_add(2 * L).cast::<i8>());
                pa = pa.wrapping_add(U * 2 * L);
                pb = pb.wrapping_add(U * NR);
            }
            for _ in 0..k % U {
                step(pa, pb, &mut lo, &mut hi);
                pa = pa.wrapping_add(2 * L);
                pb = pb.wrapping_add(NR);
            }
            let av = $set1(alpha);
            if rs_c == 1 && m == 2 * L {
                let bv = $set1(beta);
                for j in 0..n.min(NR) {
                    // SAFETY: the column j < n holds 2·L = m contiguous rows of the tile.
                    unsafe {
                        let cp = c.offset(j as isize * cs_c);
                        let mut r0 = $mul(lo[j], av);
                        let mut r1 = $mul(hi[j], av);
                        if beta != 0.0 {
                            r0 = $fmadd(bv, $loadu(cp), r0);
                            r1 = $fmadd(bv, $loadu(cp.add(L)), r1);
                        }
                        $storeu(cp, r0);
                        $storeu(cp.add(L), r1);
                    }
                }
            } else {
                let mut buf = [0.0 as $t; 2 * L * NR];
                for j in 0..NR {
                    // SAFETY: buf has 2·L·NR elements; column j occupies [2·L·j, 2·L·(j+1)).
                    unsafe {
                        $storeu(buf.as_mut_ptr().add(2 * L * j), $mul(lo[j], av));
                        $storeu(buf.as_mut_ptr().add(2 * L * j + L), $mul(hi[j], av));
                    }
                }
                for j in 0..n.min(NR) {
                    for i in 0..m.min(2 * L) {
                        // SAFETY: (i, j) is inside the m × n tile.
                        unsafe {
                            let cp = c.offset(i as isize * rs_c + j as isize * cs_c);
                            let v = buf[2 * L * j + i];
                            *cp = if beta != 0.0 { beta.mul_add(*cp, v) } else { v };
                        }
                    }
                }
            }
        }
    };
}

avx2_kernel!(
    /// f64 micro-kernel, MR = 8, NR = 6: `C ← α·(A~ B~) + β·C` on one tile.
    dgemm_8x6, f64, 4, 6,
    _mm256_setzero_pd, _mm256_loadu_pd, _mm256_set1_pd, _mm256_fmadd_pd, _mm256_mul_pd,
    _mm256_storeu_pd
);

avx2_kernel!(
    /// f32 micro-kernel, MR = 16, NR = 6: `C ← α·(A~ B~) + β·C` on one tile.
    sgemm_16x6, f32, 8, 6,
    _mm256_setzero_ps, _mm256_loadu_ps, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_mul_ps,
    _mm256_storeu_ps
);
