//! Symmetric eigendecomposition on the `blas` engine: `syevd` (divide and conquer).
//!
//! `syevd` rather than `syev`: on the dev machine at n = 1024 it takes 0.13 s against 0.68 s
//! (DESIGN.md), and ndarray-linalg's `eigh` calls `syev`.

use ndarray::{Array1, Array2, ArrayView2};

use crate::blas::layout::to_fortran;
use crate::blas::{buffer, check_info, workspace_len};
use crate::decomp::Eigh;
use crate::error::{Error, Result};
use crate::scalar::Scalar;
use crate::threads::openblas;
use crate::validate::blas_int;

/// Eigenvalues (ascending) and, if `vectors`, eigenvectors of the symmetric matrix whose lower
/// triangle is given (square, finite, n ≥ 1).
pub(crate) fn eigh<T: Scalar>(
    op: &'static str,
    threads: usize,
    a: ArrayView2<T>,
    vectors: bool,
) -> Result<Eigh<T>> {
    let n = a.nrows();
    let mut f = to_fortran(op, &a)?;
    let mut w = buffer::<T>(op, n)?;
    let jobz = if vectors { b'V' } else { b'N' };
    let mut query = [T::zero()];
    let mut iquery = [0i32];
    // SAFETY: workspace query writes only `query[0]` and `iquery[0]`.
    let info = openblas::with_threads_lapack(threads, || unsafe {
        T::syevd(
            jobz,
            b'L',
            n as i32,
            f.as_mut_ptr(),
            n as i32,
            w.as_mut_ptr(),
            query.as_mut_ptr(),
            -1,
            iquery.as_mut_ptr(),
            -1,
        )
    });
    check_info(op, "syevd", info)?;
    let lwork = workspace_len(op, query[0], 1)?;
    let liwork = blas_int(op, "workspace", (iquery[0].max(1)) as usize)?;
    let mut work = buffer::<T>(op, lwork as usize)?;
    let mut iwork = buffer::<i32>(op, liwork as usize)?;
    // SAFETY: `f` is n × n column-major (ld n), `w` holds n, workspaces hold their queried sizes.
    let info = openblas::with_threads_lapack(threads, || unsafe {
        T::syevd(
            jobz,
            b'L',
            n as i32,
            f.as_mut_ptr(),
            n as i32,
            w.as_mut_ptr(),
            work.as_mut_ptr(),
            lwork,
            iwork.as_mut_ptr(),
            liwork,
        )
    });
    check_info(op, "syevd", info)?;
    if info > 0 {
        return Err(Error::NoConvergence {
            op,
            detail: format!("syevd: info = {info}"),
        });
    }
    let vectors = if vectors { f } else { Array2::zeros((n, 0)) };
    Ok(Eigh {
        values: Array1::from(w),
        vectors,
    })
}
