//! The diagonal-block solve of the packed triangular solve (`parallel::gemm::packed`) for the
//! AVX2 micro-kernels' full tiles (f32 16 × 6, f64 8 × 6), held in registers as six columns
//! of two vectors.
//!
//! The packed solve keeps its right-hand sides as a B~ micro-panel (row `i` at `x[6·i..]`, the
//! layout the micro-kernel reads). Substituting along those rows of six elements (for f32 a
//! 4-lane and a 2-lane operation per row update, 120 updates per tile) went through memory
//! between updates: it was 14 % of a one-thread f32 Cholesky at n = 1024 on engine `rayon`
//! (Zen 3) against 5 % for OpenBLAS's `strsm` kernel, and 8 % of the f64 one. Here the tile is
//! gathered into columns, each pivot is one lane broadcast, a multiplication and two FMAs per
//! column, and the tile is written back once. The same operations run in the same order as
//! the row-wise substitution, so results are bitwise equal.

#[cfg(target_arch = "x86_64")]
use core::arch::x86_64::*;

/// Columns of the tiles (the AVX2 micro-kernels' NR).
pub(crate) const COLS: usize = 6;
/// Rows of the f32 tile (the f32 AVX2 micro-kernel's MR).
pub(crate) const ROWS_F32: usize = 16;
/// Rows of the f64 tile (the f64 AVX2 micro-kernel's MR).
pub(crate) const ROWS_F64: usize = 8;

/// f32 lanes: lane `l` of `v` in every lane.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
fn lane_ps(v: __m256, l: usize) -> __m256 {
    _mm256_permutevar8x32_ps(v, _mm256_set1_epi32(l as i32))
}

/// f32 lanes: all ones in the lanes after `l`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
fn after_ps(l: usize) -> __m256 {
    let lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    _mm256_castsi256_ps(_mm256_cmpgt_epi32(lanes, _mm256_set1_epi32(l as i32)))
}

/// f32: eight rows of the column at `x` in row-major storage with rows of [`COLS`] elements.
///
/// # Safety
/// `x` addresses 8 rows of [`COLS`] readable elements; AVX2 + FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn column_ps(x: *const f32) -> __m256 {
    let rows = _mm256_setr_epi32(0, 6, 12, 18, 24, 30, 36, 42);
    // SAFETY: the eight offsets address the caller's eight rows.
    unsafe { _mm256_i32gather_ps::<4>(x, rows) }
}

/// f64 lanes: lane `l` of `v` in every lane (moved as two 32-bit halves).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
fn lane_pd(v: __m256d, l: usize) -> __m256d {
    let pair = (2 * l as i64) | ((2 * l as i64 + 1) << 32);
    let halves = _mm256_permutevar8x32_ps(_mm256_castpd_ps(v), _mm256_set1_epi64x(pair));
    _mm256_castps_pd(halves)
}

/// f64 lanes: all ones in the lanes after `l`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
fn after_pd(l: usize) -> __m256d {
    let lanes = _mm256_setr_epi64x(0, 1, 2, 3);
    _mm256_castsi256_pd(_mm256_cmpgt_epi64(lanes, _mm256_set1_epi64x(l as i64)))
}

/// f64: four rows of the column at `x` in row-major storage with rows of [`COLS`] elements.
///
/// # Safety
/// `x` addresses 4 rows of [`COLS`] readable elements; AVX2 + FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn column_pd(x: *const f64) -> __m256d {
    let rows = _mm_setr_epi32(0, 6, 12, 18);
    // SAFETY: the four offsets address the caller's four rows.
    unsafe { _mm256_i32gather_pd::<8>(x, rows) }
}

macro_rules! tile_solve {
    (
        $(#[$doc:meta])*
        $name:ident, $t:ty, $rows:expr, $lanes:expr,
        $zero:ident, $loadu:ident, $storeu:ident, $set1:ident, $add:ident, $mul:ident,
        $fnmadd:ident, $blendv:ident, $lane:ident, $after:ident, $column:ident
    ) => {
        $(#[$doc])*
        ///
        /// Forward substitution on the full `MR × 6` tile `x` (row-major, row stride 6) against
        /// the `MR × MR` lower block `d` (column-major, leading dimension MR; entries above the
        /// diagonal are read but never used, the diagonal only through `recip` unless `unit`),
        /// after adding the column-major `MR × 6` update `upd` (leading dimension MR) when
        /// given: `X ← D⁻¹ (X + U)`. Row `c` is scaled by `recip[c]` (the caller checked that
        /// every entry is non-zero, i.e. that no row needs a division) before it is subtracted
        /// from the rows below. With `cols = (p, cs)` the tile is read from, and its solution
        /// also written to, the column-major storage at `p` (column j's MR contiguous rows at
        /// `p + j·cs`) instead of `x`, which then only receives the solution.
        ///
        /// # Safety
        /// The CPU has AVX2 and FMA; `x` addresses MR · 6 writable elements, `d` MR · MR and
        /// `recip` MR readable ones, `upd` (if given) MR · 6 readable ones, `cols` (if given)
        /// six columns of MR writable elements; none of them overlap.
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2,fma")]
        pub(crate) unsafe fn $name(
            unit: bool,
            d: *const $t,
            recip: *const $t,
            upd: Option<*const $t>,
            x: *mut $t,
            cols: Option<(*mut $t, isize)>,
        ) {
            const MR: usize = $rows;
            const L: usize = $lanes;
            let mut lo = [$zero(); COLS];
            let mut hi = [$zero(); COLS];
            for j in 0..COLS {
                // SAFETY: rows 0..MR of column j lie inside the MR · 6 elements of `x`, or are
                // the MR contiguous elements at `p + j·cs`; `upd` holds column j's MR rows at
                // MR · j (caller's contract).
                unsafe {
                    if let Some((p, cs)) = cols {
                        let pj = p.offset(j as isize * cs);
                        lo[j] = $loadu(pj);
                        hi[j] = $loadu(pj.add(L));
                    } else {
                        lo[j] = $column(x.add(j));
                        hi[j] = $column(x.add(L * COLS + j));
                    }
                    if let Some(u) = upd {
                        lo[j] = $add(lo[j], $loadu(u.add(MR * j)));
                        hi[j] = $add(hi[j], $loadu(u.add(MR * j + L)));
                    }
                }
            }
            // One pivot `l` of the half `v`: evaluates to row l, scaled, broadcast; updates the
            // rows below it with the column `dv` of D and leaves the rows above it (finished)
            // untouched even where row l is infinite. Row l itself keeps its unscaled value
            // until the end, off the chain of dependent operations from one pivot to the next.
            macro_rules! pivot {
                ($v:expr, $l:expr, $below:expr, $r:expr, $dv:expr) => {{
                    let mut b = $lane($v, $l);
                    if let Some(r) = $r {
                        b = $mul(b, r);
                    }
                    $v = $blendv($v, $fnmadd($dv, b, $v), $below);
                    b
                }};
            }
            for half in 0..2 {
                for l in 0..L {
                    let c = half * L + l;
                    let below = $after(l);
                    // SAFETY: column c of D holds MR elements at MR · c; recip holds MR.
                    let (d0, d1, r) = unsafe {
                        (
                            $loadu(d.add(MR * c)),
                            $loadu(d.add(MR * c + L)),
                            (!unit).then(|| $set1(*recip.add(c))),
                        )
                    };
                    for j in 0..COLS {
                        if half == 0 {
                            let b = pivot!(lo[j], l, below, r, d0);
                            hi[j] = $fnmadd(d1, b, hi[j]);
                        } else {
                            pivot!(hi[j], l, below, r, d1);
                        }
                    }
                }
            }
            if !unit {
                // Each row scaled once by its reciprocal, as the pivots used it.
                // SAFETY: recip holds MR elements (contract).
                let (r0, r1) = unsafe { ($loadu(recip), $loadu(recip.add(L))) };
                for j in 0..COLS {
                    lo[j] = $mul(lo[j], r0);
                    hi[j] = $mul(hi[j], r1);
                }
            }
            let mut buf = [0.0 as $t; MR * COLS];
            for j in 0..COLS {
                // SAFETY: column j occupies buf[MR · j..MR · (j + 1)], and the MR contiguous
                // elements at `p + j·cs` (caller's contract).
                unsafe {
                    $storeu(buf.as_mut_ptr().add(MR * j), lo[j]);
                    $storeu(buf.as_mut_ptr().add(MR * j + L), hi[j]);
                    if let Some((p, cs)) = cols {
                        let pj = p.offset(j as isize * cs);
                        $storeu(pj, lo[j]);
                        $storeu(pj.add(L), hi[j]);
                    }
                }
            }
            for i in 0..MR {
                for j in 0..COLS {
                    // SAFETY: element (i, j) of the tile is x[6·i + j], inside its MR · 6.
                    unsafe { *x.add(COLS * i + j) = buf[MR * j + i] };
                }
            }
        }
    };
}

tile_solve!(
    /// f32, MR = 16 (the `sgemm_16x6` tile).
    solve_f32_16x6, f32, ROWS_F32, 8,
    _mm256_setzero_ps, _mm256_loadu_ps, _mm256_storeu_ps, _mm256_set1_ps, _mm256_add_ps,
    _mm256_mul_ps, _mm256_fnmadd_ps, _mm256_blendv_ps, lane_ps, after_ps, column_ps
);

tile_solve!(
    /// f64, MR = 8 (the `dgemm_8x6` tile).
    solve_f64_8x6, f64, ROWS_F64, 4,
    _mm256_setzero_pd, _mm256_loadu_pd, _mm256_storeu_pd, _mm256_set1_pd, _mm256_add_pd,
    _mm256_mul_pd, _mm256_fnmadd_pd, _mm256_blendv_pd, lane_pd, after_pd, column_pd
);
