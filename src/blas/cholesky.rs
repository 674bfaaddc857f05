//! Cholesky factorization on the `blas` engine: `potrf`.

use ndarray::{Array2, ArrayView2};

use crate::blas::check_info;
use crate::blas::ffi::Ffi;
use crate::blas::layout::{to_fortran, with_column_major};
use crate::error::{Error, Result};
use crate::threads::openblas;

/// Lower factor `L` with `A = L Lᵀ`, reading only the lower triangle of square `A` (n ≥ 1).
pub(crate) fn cholesky<T: Ffi>(
    op: &'static str,
    threads: usize,
    a: ArrayView2<T>,
) -> Result<Array2<T>> {
    let n = a.nrows();
    let mut l = to_fortran(op, &a)?;
    // SAFETY: `l` is n × n column-major with ld n.
    let info = openblas::with_threads_lapack(threads, || unsafe {
        T::potrf(b'L', n as i32, l.as_mut_ptr(), n as i32)
    });
    check_info(op, "potrf", info)?;
    if info > 0 {
        return Err(Error::NotPositiveDefinite {
            op,
            index: info as usize - 1,
        });
    }
    for j in 1..n {
        l.column_mut(j).slice_mut(ndarray::s![..j]).fill(T::zero());
    }
    Ok(l)
}

/// `potrf` in place on the lower triangle of a square view `a` (n ≥ 1): `Ok(None)` on success,
/// `Ok(Some(j))` when the leading minor of order `j + 1` is not positive. Works in place when
/// `a` is column-major with a unit row stride, else on a column-major copy written back.
pub(crate) fn potrf_lower<T: Ffi>(
    op: &'static str,
    threads: usize,
    a: &mut ndarray::ArrayViewMut2<T>,
) -> Result<Option<usize>> {
    let n = a.nrows();
    let info = with_column_major(op, a, |p, ld| {
        // SAFETY: `p` addresses an n × n column-major matrix with leading dimension ld ≥ n,
        // exclusively ours for the call.
        let info =
            openblas::with_threads_lapack(threads, || unsafe { T::potrf(b'L', n as i32, p, ld) });
        check_info(op, "potrf", info).map(|()| info)
    })?;
    Ok((info > 0).then(|| info as usize - 1))
}
