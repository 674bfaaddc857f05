//! AVX-512F micro-kernels: f64 16×14 and f32 32×14.
//!
//! The tile of C is held in 28 zmm accumulators (two vectors of MR/2 rows × NR columns); each
//! step of k loads two vectors of the packed A micro-panel and broadcasts NR elements of the
//! packed B micro-panel, so one step is 28 independent FMAs: enough to cover two FMA pipes × 4
//! cycles of latency with room to spare, and 28 + 2 + 1 = 31 of the 32 vector registers.
//! (`cargo run --release --example gemm_blocks` compares tile shapes; on a full-width AVX-512
//! core 16×14, 24×8 and 32×6 ran at the same rate, and 16×14 has the fewest edge rows.)
//!
//! Edges: rows are masked (`_mm512_mask_storeu_*`), columns are simply not stored, so an edge tile
//! costs the same as a full one and nothing outside the m × n tile is read or written. When C's
//! rows are not contiguous (row stride ≠ 1) the tile goes through a small buffer instead.

use core::arch::x86_64::*;

/// Steps of k between the fetches of two columns of the C tile.
const FETCH_EVERY: usize = 8;

/// Asks for the first and last cache line of column `j` (`mr` elements from `c + j·cs_c`) of a
/// C tile to be brought into L1.
#[inline(always)]
fn fetch_column<T>(c: *mut T, j: usize, cs_c: isize, mr: usize) {
    let cp = c.wrapping_offset(j as isize * cs_c);
    // SAFETY: prefetching is a hint and never faults, whatever the address.
    unsafe {
        _mm_prefetch::<_MM_HINT_T0>(cp.cast::<i8>());
        _mm_prefetch::<_MM_HINT_T0>(cp.wrapping_add(mr - 1).cast::<i8>());
    }
}

macro_rules! avx512_kernel {
    (
        $(#[$doc:meta])*
        $name:ident, $t:ty, $lanes:expr, $nv:expr, $nr:expr, $mask:ty,
        $setzero:ident, $loadu:ident, $set1:ident, $fmadd:ident, $mul:ident,
        $maskz_loadu:ident, $mask_storeu:ident, $storeu:ident
    ) => {
        $(#[$doc])*
        ///
        /// # Safety
        /// The CPU supports AVX-512F; `a` holds `k · MR` packed elements and `b` holds
        /// `k · NR` (see `kernels::pack`); `c` with strides `rs_c`, `cs_c` addresses a writable
        /// `m × n` tile with `1 ≤ m ≤ MR`, `1 ≤ n ≤ NR` that overlaps neither `a` nor `b`.
        #[target_feature(enable = "avx512f")]
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
            const NV: usize = $nv;
            const MR: usize = L * NV;
            const NR: usize = $nr;
            // The C tile is fetched while the k loop runs: one column (two cache lines) every
            // FETCH_EVERY steps, so the fetches do not all wait for line-fill buffers at once
            // (measured on a Zen 5: 1–3 % faster than all 28 at the start, n = 1024 and 2048).
            // With too few steps for that, all columns are fetched at the start.
            let cols = if rs_c == 1 && beta != 0.0 { n.min(NR) } else { 0 };
            let spread = k >= FETCH_EVERY * cols;
            if !spread {
                for j in 0..cols {
                    fetch_column(c, j, cs_c, MR);
                }
            }
            let fetch = if spread { cols } else { 0 };
            let mut acc = [[$setzero(); NV]; NR];
            let (mut pa, mut pb) = (a, b);
            for kk in 0..k {
                if kk % FETCH_EVERY == 0 && kk / FETCH_EVERY < fetch {
                    fetch_column(c, kk / FETCH_EVERY, cs_c, MR);
                }
                // SAFETY: one step of k reads MR elements at pa and NR at pb, inside the packed
                // panels (caller's contract).
                unsafe {
                    let mut av = [$setzero(); NV];
                    for v in 0..NV {
                        av[v] = $loadu(pa.add(v * L));
                    }
                    for j in 0..NR {
                        let bj = $set1(*pb.add(j));
                        for v in 0..NV {
                            acc[j][v] = $fmadd(av[v], bj, acc[j][v]);
                        }
                    }
                    pa = pa.add(MR);
                    pb = pb.add(NR);
                }
            }
            let alpha_v = $set1(alpha);
            if rs_c == 1 && m == MR && n == NR {
                // A whole tile: constant loop bounds keep the accumulators in registers
                // (the masked loop below indexes them by the run-time n, which spills all 28 to
                // the stack); 2–7 % faster on a Zen 5 at n = 1024 and 2048.
                let beta_v = $set1(beta);
                for j in 0..NR {
                    // SAFETY: a full tile: column j < NR starts at c + j·cs_c, MR rows.
                    unsafe {
                        let cp = c.offset(j as isize * cs_c);
                        for v in 0..NV {
                            let mut r = $mul(acc[j][v], alpha_v);
                            if beta != 0.0 {
                                r = $fmadd(beta_v, $loadu(cp.add(v * L)), r);
                            }
                            $storeu(cp.add(v * L), r);
                        }
                    }
                }
            } else {
                // Edge or strided tiles: α·acc goes to memory once, with constant indices, and
                // the run-time bounds index that copy. Indexing `acc` itself by the run-time n
                // made the compiler keep it on the stack and zero it with a 1.8 KiB `memset` at
                // the start of every call, whole tiles included (4–5 % of a one-thread rayon QR
                // at n = 512 on a Zen 5, where many products are shallow).
                let mut tile = std::mem::MaybeUninit::<[$t; MR * NR]>::uninit();
                let tp = tile.as_mut_ptr().cast::<$t>();
                for j in 0..NR {
                    for v in 0..NV {
                        // SAFETY: this vector is elements [MR·j + L·v, +L) of the tile.
                        unsafe { $storeu(tp.add(MR * j + L * v), $mul(acc[j][v], alpha_v)) };
                    }
                }
                // SAFETY: the loops above wrote all MR·NR elements.
                let tile = unsafe { tile.assume_init() };
                if rs_c == 1 {
                    let mut masks = [0 as $mask; NV];
                    for (v, mk) in masks.iter_mut().enumerate() {
                        let rows = m.saturating_sub(v * L).min(L);
                        *mk = if rows == L { !0 } else { ((1u32 << rows) - 1) as $mask };
                    }
                    let beta_v = $set1(beta);
                    for j in 0..n.min(NR) {
                        // SAFETY: column j < n of the C tile starts at c + j·cs_c; the masks
                        // cover rows < m only, and masked-out lanes are neither read nor
                        // written; the copy holds MR·NR elements.
                        unsafe {
                            let cp = c.offset(j as isize * cs_c);
                            for v in 0..NV {
                                let mut r = $loadu(tile.as_ptr().add(MR * j + L * v));
                                if beta != 0.0 {
                                    r = $fmadd(beta_v, $maskz_loadu(masks[v], cp.add(v * L)), r);
                                }
                                $mask_storeu(cp.add(v * L), masks[v], r);
                            }
                        }
                    }
                } else {
                    for j in 0..n.min(NR) {
                        for i in 0..m.min(MR) {
                            // SAFETY: (i, j) is inside the m × n tile.
                            unsafe {
                                let cp = c.offset(i as isize * rs_c + j as isize * cs_c);
                                let v = tile[MR * j + i];
                                *cp = if beta != 0.0 { beta.mul_add(*cp, v) } else { v };
                            }
                        }
                    }
                }
            }
        }
    };
}

avx512_kernel!(
    /// f64 micro-kernel, MR = 16, NR = 14: `C ← α·(A~ B~) + β·C` on one tile.
    dgemm_16x14, f64, 8, 2, 14, __mmask8,
    _mm512_setzero_pd, _mm512_loadu_pd, _mm512_set1_pd, _mm512_fmadd_pd, _mm512_mul_pd,
    _mm512_maskz_loadu_pd, _mm512_mask_storeu_pd, _mm512_storeu_pd
);

avx512_kernel!(
    /// f32 micro-kernel, MR = 32, NR = 14: `C ← α·(A~ B~) + β·C` on one tile.
    sgemm_32x14, f32, 16, 2, 14, __mmask16,
    _mm512_setzero_ps, _mm512_loadu_ps, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_mul_ps,
    _mm512_maskz_loadu_ps, _mm512_mask_storeu_ps, _mm512_storeu_ps
);
