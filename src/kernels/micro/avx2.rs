//! AVX2 + FMA micro-kernels: f64 8×6 and f32 16×6.
//!
//! Twelve ymm accumulators (two vectors of MR/2 rows × 6 columns), two A vectors and two
//! broadcasts: all 16 vector registers; 12 independent FMAs per step of k cover two FMA
//! pipes × 4–5 cycles of latency. The k loop is assembly (`avx2_kloop!`): compiled from
//! intrinsics, LLVM kept one accumulator in the broadcast register and moved it in and out on
//! every iteration, and the A~ prefetch covered half the lines; in L1/L2 the f32 kernel ran at
//! 85–95 GFLOP/s of a 102 GFLOP/s peak on a Zen 3, the assembly loop at 98–100. Full tiles of
//! a column-contiguous C are updated with vector loads and stores; edge tiles and other
//! layouts go through a small buffer.

use core::arch::x86_64::*;

/// One step of k of the 2·L × 6 register tile, as assembly text: two vectors of the A~
/// micro-panel (64 bytes, one cache line) into ymm12–13, the six B~ elements of the step
/// broadcast two at a time into ymm14–15, twelve FMAs into the accumulators ymm0–11
/// (column j: ymm(2j) rows 0..L, ymm(2j+1) rows L..2L). `$s` is the step's index inside
/// the unrolled iteration, `$e` the element size in bytes.
#[rustfmt::skip]
macro_rules! avx2_step {
    ($s:literal, $e:literal, $bcast:literal, $fma:literal) => {
        concat!(
            "prefetcht0 [{a} + {ahead} + 64*", $s, "]\n",
            "vmovups ymm12, [{a} + 64*", $s, "]\n",
            "vmovups ymm13, [{a} + 64*", $s, " + 32]\n",
            avx2_two_columns!($s, $e, $bcast, $fma, 0, "0", "1", "2", "3"),
            avx2_two_columns!($s, $e, $bcast, $fma, 2, "4", "5", "6", "7"),
            avx2_two_columns!($s, $e, $bcast, $fma, 4, "8", "9", "10", "11"),
        )
    };
}

/// Columns `$j` and `$j + 1` of one step: their B~ elements broadcast into ymm14–15, four
/// FMAs with the A~ vectors in ymm12–13 into the accumulators `ymm$c0`…`ymm$c3`.
#[rustfmt::skip]
macro_rules! avx2_two_columns {
    ($s:literal, $e:literal, $bcast:literal, $fma:literal, $j:literal,
     $c0:literal, $c1:literal, $c2:literal, $c3:literal) => {
        concat!(
            $bcast, " ymm14, [{b} + 6*", $e, "*", $s, " + ", $j, "*", $e, "]\n",
            $bcast, " ymm15, [{b} + 6*", $e, "*", $s, " + ", $j, "*", $e, " + ", $e, "]\n",
            $fma, " ymm", $c0, ", ymm12, ymm14\n",
            $fma, " ymm", $c1, ", ymm13, ymm14\n",
            $fma, " ymm", $c2, ", ymm12, ymm15\n",
            $fma, " ymm", $c3, ", ymm13, ymm15\n",
        )
    };
}

/// The k loop of a 2·L × 6 AVX2 micro-kernel in assembly: all sixteen ymm registers named
/// (twelve accumulators, two A~ vectors, two broadcasts), four steps per iteration, and one
/// prefetch per step of the A~ cache line `AHEAD` bytes ahead. Returns the accumulators as
/// `(lo, hi)`: column j's rows 0..L and L..2L.
macro_rules! avx2_kloop {
    ($name:ident, $v:ty, $e:literal, $bcast:literal, $fma:literal) => {
        /// # Safety
        /// The CPU supports AVX2 and FMA; `a` holds `k · 2·L` readable elements and `b` holds
        /// `k · 6`.
        #[target_feature(enable = "avx2,fma")]
        unsafe fn $name(k: usize, a: *const u8, b: *const u8) -> ([$v; 6], [$v; 6]) {
            let z = unsafe { core::mem::zeroed::<$v>() };
            let (mut c0, mut c1, mut c2, mut c3, mut c4, mut c5) = (z, z, z, z, z, z);
            let (mut c6, mut c7, mut c8, mut c9, mut c10, mut c11) = (z, z, z, z, z, z);
            // SAFETY: the loop reads k steps of 64 bytes at a and 6·e bytes at b, inside the
            // panels (caller's contract); prefetches never fault; every register written is
            // declared.
            unsafe {
                core::arch::asm!(
                    "test {ku}, {ku}",
                    "jz 3f",
                    "2:",
                    avx2_step!(0, $e, $bcast, $fma),
                    avx2_step!(1, $e, $bcast, $fma),
                    avx2_step!(2, $e, $bcast, $fma),
                    avx2_step!(3, $e, $bcast, $fma),
                    "add {a}, 256",
                    concat!("add {b}, 24*", $e),
                    "dec {ku}",
                    "jnz 2b",
                    "3:",
                    "test {kr}, {kr}",
                    "jz 5f",
                    "4:",
                    avx2_step!(0, $e, $bcast, $fma),
                    "add {a}, 64",
                    concat!("add {b}, 6*", $e),
                    "dec {kr}",
                    "jnz 4b",
                    "5:",
                    a = inout(reg) a => _,
                    b = inout(reg) b => _,
                    ku = inout(reg) k / 4 => _,
                    kr = inout(reg) k % 4 => _,
                    ahead = const AHEAD,
                    inout("ymm0") c0,
                    inout("ymm1") c1,
                    inout("ymm2") c2,
                    inout("ymm3") c3,
                    inout("ymm4") c4,
                    inout("ymm5") c5,
                    inout("ymm6") c6,
                    inout("ymm7") c7,
                    inout("ymm8") c8,
                    inout("ymm9") c9,
                    inout("ymm10") c10,
                    inout("ymm11") c11,
                    out("ymm12") _,
                    out("ymm13") _,
                    out("ymm14") _,
                    out("ymm15") _,
                    options(nostack, readonly),
                );
            }
            ([c0, c2, c4, c6, c8, c10], [c1, c3, c5, c7, c9, c11])
        }
    };
}

/// How far ahead of the step being computed the A~ micro-panel is prefetched, in bytes: eight
/// steps of k (one 64-byte line per step).
const AHEAD: usize = 512;

avx2_kloop!(dgemm_8x6_loop, __m256d, 8, "vbroadcastsd", "vfmadd231pd");
avx2_kloop!(sgemm_16x6_loop, __m256, 4, "vbroadcastss", "vfmadd231ps");

macro_rules! avx2_kernel {
    (
        $(#[$doc:meta])*
        $name:ident, $kloop:ident, $t:ty, $lanes:expr, $nr:expr,
        $loadu:ident, $set1:ident, $fmadd:ident, $mul:ident, $storeu:ident
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
            // SAFETY: k steps of 2·L elements at a and NR at b lie inside the packed panels
            // (caller's contract); the CPU has AVX2 and FMA (this function's target features).
            let (lo, hi) = unsafe { $kloop(k, a.cast(), b.cast()) };
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
    dgemm_8x6, dgemm_8x6_loop, f64, 4, 6,
    _mm256_loadu_pd, _mm256_set1_pd, _mm256_fmadd_pd, _mm256_mul_pd,
    _mm256_storeu_pd
);

avx2_kernel!(
    /// f32 micro-kernel, MR = 16, NR = 6: `C ← α·(A~ B~) + β·C` on one tile.
    sgemm_16x6, sgemm_16x6_loop, f32, 8, 6,
    _mm256_loadu_ps, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_mul_ps,
    _mm256_storeu_ps
);
