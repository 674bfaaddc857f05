//! The diagonal-block solve of the packed triangular solve (`parallel::gemm::packed`) for the
//! AVX2 f32 micro-kernel's full 16 × 6 tiles, held in registers as six columns of two vectors.
//!
//! The packed solve keeps its right-hand sides as a B~ micro-panel (row `i` at `x[6·i..]`, the
//! layout the micro-kernel reads). Substituting along those rows of six floats used a 4-lane
//! and a 2-lane operation per row update (120 of them per tile) and went through memory between
//! updates: it was 14 % of a one-thread f32 Cholesky at n = 1024 on engine `rayon` (Zen 3),
//! against 5 % for OpenBLAS's `strsm` kernel. Here the tile is gathered into columns, each
//! pivot is one lane broadcast and two FMAs per column, and the tile is written back once.
//! The same operations run in the same order as the row-wise substitution, so results are
//! bitwise equal.

#[cfg(target_arch = "x86_64")]
use core::arch::x86_64::*;

/// Rows of the tile (the f32 AVX2 micro-kernel's MR).
pub(crate) const ROWS: usize = 16;
/// Columns of the tile (its NR).
pub(crate) const COLS: usize = 6;

/// Forward substitution on the full `16 × 6` tile `x` (row-major, row stride 6) against the
/// `16 × 16` lower block `d` (column-major, leading dimension 16; entries above the diagonal
/// are read but never used, the diagonal only through `recip` unless `unit`), after adding the
/// column-major `16 × 6` update `upd` (leading dimension 16) when given: `X ← D⁻¹ (X + U)`.
/// Row `c` is scaled by `recip[c]` (the caller checked that every entry is non-zero, i.e. that
/// no row needs a division) before it is subtracted from the rows below.
///
/// # Safety
/// The CPU has AVX2 and FMA; `x` addresses 96 writable elements, `d` 256 and `recip` 16
/// readable ones, `upd` (if given) 96 readable ones not overlapping `x`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn solve_f32_16x6(
    unit: bool,
    d: *const f32,
    recip: *const f32,
    upd: Option<*const f32>,
    x: *mut f32,
) {
    const L: usize = 8;
    // Element offsets of one column's eight rows in the row-major tile.
    let rows = _mm256_setr_epi32(0, 6, 12, 18, 24, 30, 36, 42);
    let mut lo = [_mm256_setzero_ps(); COLS];
    let mut hi = [_mm256_setzero_ps(); COLS];
    for j in 0..COLS {
        // SAFETY: rows 0..16 of column j lie inside the 96 elements of `x`; `upd` holds
        // column j's 16 rows at 16·j (caller's contract).
        unsafe {
            lo[j] = _mm256_i32gather_ps::<4>(x.add(j), rows);
            hi[j] = _mm256_i32gather_ps::<4>(x.add(L * COLS + j), rows);
            if let Some(u) = upd {
                lo[j] = _mm256_add_ps(lo[j], _mm256_loadu_ps(u.add(ROWS * j)));
                hi[j] = _mm256_add_ps(hi[j], _mm256_loadu_ps(u.add(ROWS * j + L)));
            }
        }
    }
    let lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    // One pivot `l` of the half `v`: evaluates to row l, scaled, broadcast; updates the rows
    // below it with the column `dv` of D and leaves the rows above it (finished) untouched
    // even where row l is infinite. Row l itself keeps its unscaled value until the end, off
    // the chain of dependent operations from one pivot to the next.
    macro_rules! pivot {
        ($v:expr, $l:expr, $below:expr, $r:expr, $dv:expr) => {{
            let mut b = _mm256_permutevar8x32_ps($v, $l);
            if let Some(r) = $r {
                b = _mm256_mul_ps(b, r);
            }
            $v = _mm256_blendv_ps($v, _mm256_fnmadd_ps($dv, b, $v), $below);
            b
        }};
    }
    for half in 0..2 {
        for l in 0..L {
            let c = half * L + l;
            let sel = _mm256_set1_epi32(l as i32);
            let below = _mm256_castsi256_ps(_mm256_cmpgt_epi32(lanes, sel));
            // SAFETY: column c of D holds 16 elements at 16·c; recip holds 16 (contract).
            let (d0, d1, r) = unsafe {
                (
                    _mm256_loadu_ps(d.add(ROWS * c)),
                    _mm256_loadu_ps(d.add(ROWS * c + L)),
                    (!unit).then(|| _mm256_set1_ps(*recip.add(c))),
                )
            };
            for j in 0..COLS {
                if half == 0 {
                    let b = pivot!(lo[j], sel, below, r, d0);
                    hi[j] = _mm256_fnmadd_ps(d1, b, hi[j]);
                } else {
                    pivot!(hi[j], sel, below, r, d1);
                }
            }
        }
    }
    if !unit {
        // Each row scaled once by its reciprocal, as the pivots used it.
        // SAFETY: recip holds 16 elements (contract).
        let (r0, r1) = unsafe { (_mm256_loadu_ps(recip), _mm256_loadu_ps(recip.add(L))) };
        for j in 0..COLS {
            lo[j] = _mm256_mul_ps(lo[j], r0);
            hi[j] = _mm256_mul_ps(hi[j], r1);
        }
    }
    let mut cols = [0f32; ROWS * COLS];
    for j in 0..COLS {
        // SAFETY: column j occupies cols[16·j..16·(j + 1)].
        unsafe {
            _mm256_storeu_ps(cols.as_mut_ptr().add(ROWS * j), lo[j]);
            _mm256_storeu_ps(cols.as_mut_ptr().add(ROWS * j + L), hi[j]);
        }
    }
    for i in 0..ROWS {
        for j in 0..COLS {
            // SAFETY: element (i, j) of the tile is x[6·i + j], inside its 96 elements.
            unsafe { *x.add(COLS * i + j) = cols[ROWS * j + i] };
        }
    }
}
