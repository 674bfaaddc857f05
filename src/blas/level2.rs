//! Level 2 BLAS on the `blas` engine: `gemv`.

use ndarray::{ArrayView1, ArrayView2, ArrayViewMut1};

use crate::blas::ffi::Ffi;
use crate::blas::ffi::CBLAS_TRANSPOSE;
use crate::blas::layout::{readable_matrix, with_writable_vector, VecRead};
use crate::error::Result;
use crate::threads::openblas;

/// `y ← α A x + β y` for a non-empty `m × n` view `A` (pass `Aᵀ` as a transposed view).
/// With `β = 0`, `y` is overwritten (NaN in `y` does not propagate).
pub(crate) fn gemv<T: Ffi>(
    op: &'static str,
    threads: usize,
    alpha: T,
    a: ArrayView2<T>,
    x: ArrayView1<T>,
    beta: T,
    y: &mut ArrayViewMut1<T>,
) -> Result<()> {
    let (m, n) = a.dim();
    let a = readable_matrix(op, a)?;
    if beta == T::zero() {
        y.fill(T::zero());
    }
    let la = a.layout();
    let x = VecRead::new(x);
    with_writable_vector(y, |yp, incy| {
        // SAFETY: `a` is readable with (order, ld); `x` has `n` and `y` has `m` elements at their
        // increments; `y` is exclusively borrowed and does not alias `a` or `x`.
        openblas::with_threads(threads, || unsafe {
            T::gemv(
                la.order.cblas(),
                CBLAS_TRANSPOSE::CblasNoTrans,
                m as i32,
                n as i32,
                alpha,
                a.ptr(),
                la.ld,
                x.ptr(),
                x.inc(),
                beta,
                yp,
                incy,
            )
        })
    });
    Ok(())
}
