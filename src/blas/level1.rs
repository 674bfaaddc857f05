//! Level 1 BLAS on the `blas` engine: `dot`, `axpy`, `scal`, `nrm2`.

use ndarray::{ArrayView1, ArrayViewMut1};

use crate::blas::ffi::Ffi;
use crate::blas::layout::{with_writable_vector, VecRead};
use crate::threads::openblas;

/// `xᵀy` for non-empty vectors of equal length `n ≤ i32::MAX`.
pub(crate) fn dot<T: Ffi>(threads: usize, x: ArrayView1<T>, y: ArrayView1<T>) -> T {
    let n = x.len() as i32;
    let (x, y) = (VecRead::new(x), VecRead::new(y));
    // SAFETY: both buffers hold `n` elements at their increments (checked or copied).
    openblas::with_threads(threads, || unsafe {
        T::dot(n, x.ptr(), x.inc(), y.ptr(), y.inc())
    })
}

/// `y ← αx + y`.
pub(crate) fn axpy<T: Ffi>(threads: usize, alpha: T, x: ArrayView1<T>, y: &mut ArrayViewMut1<T>) {
    let n = x.len() as i32;
    let x = VecRead::new(x);
    with_writable_vector(y, |yp, incy| {
        // SAFETY: `x` and `y` hold `n` elements at their increments; `y` is exclusively borrowed.
        openblas::with_threads(threads, || unsafe {
            T::axpy(n, alpha, x.ptr(), x.inc(), yp, incy)
        })
    });
}

/// `x ← αx`.
pub(crate) fn scal<T: Ffi>(threads: usize, alpha: T, x: &mut ArrayViewMut1<T>) {
    let n = x.len() as i32;
    with_writable_vector(x, |xp, inc| {
        // SAFETY: `x` holds `n` elements at `inc` and is exclusively borrowed.
        openblas::with_threads(threads, || unsafe { T::scal(n, alpha, xp, inc) })
    });
}

/// `‖x‖₂` (OpenBLAS's kernel; the public API checks it against overflow, see `ops::level1`).
pub(crate) fn nrm2<T: Ffi>(threads: usize, x: ArrayView1<T>) -> T {
    let n = x.len() as i32;
    let x = VecRead::new(x);
    // SAFETY: `x` holds `n` elements at its increment.
    openblas::with_threads(threads, || unsafe { T::nrm2(n, x.ptr(), x.inc()) })
}
