//! Cholesky factorization on the `blas` engine: `potrf`.

use ndarray::{Array2, ArrayView2};

use crate::blas::check_info;
use crate::blas::layout::to_fortran;
use crate::error::{Error, Result};
use crate::scalar::Scalar;
use crate::threads::openblas;

/// Lower factor `L` with `A = L Lᵀ`, reading only the lower triangle of square `A` (n ≥ 1).
pub(crate) fn cholesky<T: Scalar>(
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
