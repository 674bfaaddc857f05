//! Cache-blocked out-of-place transpose in plain Rust (engine `rayon`, one band per call).
//!
//! The block is cut into [`TILE`] × [`TILE`] tiles; each tile is read and written while both
//! its source rows and its destination rows are in L1, so neither side is walked down a column
//! through memory.

use ndarray::{s, ArrayView2, ArrayViewMut2};

/// Tile edge: 32 × 32 f64 is 8 KiB read plus 8 KiB written, inside a 32 KiB L1 data cache
/// with room for the hardware prefetcher's next lines.
pub(crate) const TILE: usize = 32;

/// `dst ← srcᵀ` for `src: r × c`, `dst: c × r`.
pub(crate) fn transpose<T: Copy>(src: ArrayView2<T>, mut dst: ArrayViewMut2<T>) {
    let (r, c) = src.dim();
    for j0 in (0..c).step_by(TILE) {
        let j1 = (j0 + TILE).min(c);
        for i0 in (0..r).step_by(TILE) {
            let i1 = (i0 + TILE).min(r);
            dst.slice_mut(s![j0..j1, i0..i1])
                .assign(&src.slice(s![i0..i1, j0..j1]).t());
        }
    }
}
