//! Element-wise kernels in plain Rust (engines `rayon` and `rayon-blas`, one block per call):
//! a user closure applied to every element of one or two blocks.
//!
//! OpenBLAS has no element-wise operation that takes a user function, so both rayon engines run
//! these (the per-block "kernel" is the caller's closure); ndarray's `Zip` walks the blocks in
//! memory order, as flat slices when they are contiguous.

use ndarray::{ArrayView, ArrayViewMut, Dimension, Zip};

/// `out[i] = f(a[i])` for blocks of equal shape.
pub(crate) fn map<T: Copy, U, D: Dimension>(
    a: ArrayView<T, D>,
    out: ArrayViewMut<U, D>,
    f: &(impl Fn(T) -> U + ?Sized),
) {
    Zip::from(out).and(a).for_each(|o, &x| *o = f(x));
}

/// `out[i] = f(a[i], b[i])` for blocks of equal shape.
pub(crate) fn zip_with<T: Copy, U, D: Dimension>(
    a: ArrayView<T, D>,
    b: ArrayView<T, D>,
    out: ArrayViewMut<U, D>,
    f: &(impl Fn(T, T) -> U + ?Sized),
) {
    Zip::from(out)
        .and(a)
        .and(b)
        .for_each(|o, &x, &y| *o = f(x, y));
}
