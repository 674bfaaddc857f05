//! Symmetric eigendecomposition on the `blas` engine: `syevd` (divide and conquer).
//!
//! `syevd` rather than `syev`: divide and conquer is several times faster at large n (the
//! `eigh` group of `cargo bench --bench factor` shows both), and ndarray-linalg's `eigh` calls
//! `syev`.

use ndarray::{Array1, Array2, ArrayView2};

use crate::blas::ffi::Ffi;
use crate::blas::layout::to_fortran;
use crate::blas::{buffer, with_workspace, IWork};
use crate::decomp::Eigh;
use crate::error::{Error, Result};

/// Eigenvalues (ascending) and, if `vectors`, eigenvectors of the symmetric matrix whose lower
/// triangle is given (square, finite, n ≥ 1).
pub(crate) fn eigh<T: Ffi>(
    op: &'static str,
    threads: usize,
    a: ArrayView2<T>,
    vectors: bool,
) -> Result<Eigh<T>> {
    let n = a.nrows();
    let mut f = to_fortran(op, &a)?;
    let mut w = buffer::<T>(op, n)?;
    let jobz = if vectors { b'V' } else { b'N' };
    // LAPACK's documented minimums, in case the query's answer is rounded (see workspace_len).
    let (min_work, min_iwork) = if vectors {
        (1 + 6 * n + 2 * n * n, 3 + 5 * n)
    } else {
        (2 * n + 1, 1)
    };
    let info = with_workspace(
        op,
        "syevd",
        threads,
        min_work,
        IWork::Queried(min_iwork),
        |work, lwork, iwork, liwork| {
            // SAFETY: `f` is n × n column-major (ld n), `w` holds n, the workspaces hold `lwork` and
            // `liwork` elements (or are 1-element query targets).
            unsafe {
                T::syevd(
                    jobz,
                    b'L',
                    n as i32,
                    f.as_mut_ptr(),
                    n as i32,
                    w.as_mut_ptr(),
                    work,
                    lwork,
                    iwork,
                    liwork,
                )
            }
        },
    )?;
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
