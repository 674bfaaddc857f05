//! LU with partial pivoting on the `blas` engine: `getrf`, `getrs`, `getri`.

use ndarray::{Array2, ArrayView2};

use crate::blas::layout::to_fortran;
use crate::blas::{buffer, check_info, workspace_len};
use crate::decomp::LuPacked;
use crate::error::{Error, Result};
use crate::scalar::Scalar;
use crate::threads::openblas;

/// Factors a non-empty `m × n` matrix. A zero pivot is not an error here: the factors exist;
/// the index of the first zero pivot is returned beside them.
pub(crate) fn factor<T: Scalar>(
    op: &'static str,
    threads: usize,
    a: ArrayView2<T>,
) -> Result<(LuPacked<T>, Option<usize>)> {
    let (m, n) = a.dim();
    let mut lu = to_fortran(op, &a)?;
    let mut ipiv = buffer::<i32>(op, m.min(n))?;
    let lda = m.max(1) as i32;
    // SAFETY: `lu` is m × n column-major with lda = m; `ipiv` holds min(m, n) entries.
    let info = openblas::with_threads_lapack(threads, || unsafe {
        T::getrf(m as i32, n as i32, lu.as_mut_ptr(), lda, ipiv.as_mut_ptr())
    });
    check_info(op, "getrf", info)?;
    let zero = (info > 0).then(|| info as usize - 1);
    let swaps = ipiv.iter().map(|&p| p as usize - 1).collect();
    Ok((LuPacked { lu, swaps }, zero))
}

fn lapack_pivots(swaps: &[usize]) -> Vec<i32> {
    swaps.iter().map(|&p| p as i32 + 1).collect()
}

/// Solves `A X = B` for square non-singular `A` (`n × n`, n ≥ 1) and `B: n × k`.
pub(crate) fn solve<T: Scalar>(
    op: &'static str,
    threads: usize,
    a: ArrayView2<T>,
    b: ArrayView2<T>,
) -> Result<Array2<T>> {
    let (lu, zero) = factor(op, threads, a)?;
    if let Some(pivot) = zero {
        return Err(Error::Singular { op, pivot });
    }
    let n = lu.lu.nrows();
    let mut x = to_fortran(op, &b)?;
    let nrhs = x.ncols();
    if nrhs == 0 {
        return Ok(x);
    }
    let ipiv = lapack_pivots(&lu.swaps);
    // SAFETY: `lu.lu` is the n × n getrf factor (ld n), `ipiv` its n pivots, `x` is n × nrhs
    // column-major with ld n.
    let info = openblas::with_threads_lapack(threads, || unsafe {
        T::getrs(
            b'N',
            n as i32,
            nrhs as i32,
            lu.lu.as_ptr(),
            n as i32,
            ipiv.as_ptr(),
            x.as_mut_ptr(),
            n as i32,
        )
    });
    check_info(op, "getrs", info)?;
    Ok(x)
}

/// `A⁻¹` for square non-singular `A` (n ≥ 1).
pub(crate) fn inv<T: Scalar>(
    op: &'static str,
    threads: usize,
    a: ArrayView2<T>,
) -> Result<Array2<T>> {
    let (mut lu, zero) = factor(op, threads, a)?;
    if let Some(pivot) = zero {
        return Err(Error::Singular { op, pivot });
    }
    let n = lu.lu.nrows() as i32;
    let ipiv = lapack_pivots(&lu.swaps);
    let mut query = [T::zero()];
    // SAFETY: workspace query (lwork = -1) writes only `query[0]`.
    let info = openblas::with_threads_lapack(threads, || unsafe {
        T::getri(
            n,
            lu.lu.as_mut_ptr(),
            n,
            ipiv.as_ptr(),
            query.as_mut_ptr(),
            -1,
        )
    });
    check_info(op, "getri", info)?;
    let lwork = workspace_len(op, query[0], n as usize)?;
    let mut work = buffer::<T>(op, lwork as usize)?;
    // SAFETY: `lu.lu` is the n × n factor with its pivots; `work` holds `lwork` elements.
    let info = openblas::with_threads_lapack(threads, || unsafe {
        T::getri(
            n,
            lu.lu.as_mut_ptr(),
            n,
            ipiv.as_ptr(),
            work.as_mut_ptr(),
            lwork,
        )
    });
    check_info(op, "getri", info)?;
    if info > 0 {
        return Err(Error::Singular {
            op,
            pivot: info as usize - 1,
        });
    }
    Ok(lu.lu)
}
