//! Cache-blocked out-of-place transpose in plain Rust (engine `rayon`, one band per call).
//!
//! The block is cut into [`TILE`](crate::alloc::TILE) × `TILE` tiles; each tile is read and
//! written while both its source rows and its destination rows are in L1, so neither side is
//! walked down a column through memory.

use ndarray::{ArrayView2, ArrayViewMut2};

/// `dst ← srcᵀ` for `src: r × c`, `dst: c × r` ([`crate::alloc::assign_2d`]'s tiles when the
/// layouts differ).
pub(crate) fn transpose<T: Copy + 'static>(src: ArrayView2<T>, mut dst: ArrayViewMut2<T>) {
    crate::alloc::assign_2d(&mut dst, src.t());
}
