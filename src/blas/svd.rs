//! Singular value decomposition on the `blas` engine: `gesdd` (divide and conquer).

use ndarray::{Array1, Array2, ArrayView2};

use crate::alloc::zeros_f;
use crate::blas::ffi::Ffi;
use crate::blas::layout::to_fortran;
use crate::blas::{buffer, with_workspace, IWork};
use crate::decomp::Svd;
use crate::error::{Error, Result};

/// Which singular vectors to compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Vectors {
    /// `U: m × m`, `Vᵀ: n × n`.
    Full,
    /// `U: m × k`, `Vᵀ: k × n`.
    Thin,
    /// Singular values only (`u` and `vt` come back empty).
    None,
}

/// SVD of a finite, non-empty `m × n` matrix.
pub(crate) fn svd<T: Ffi>(
    op: &'static str,
    threads: usize,
    a: ArrayView2<T>,
    vectors: Vectors,
) -> Result<Svd<T>> {
    let (m, n) = a.dim();
    let k = m.min(n);
    let mut f = to_fortran(op, &a)?;
    let (jobz, ucols, vtrows) = match vectors {
        Vectors::Full => (b'A', m, n),
        Vectors::Thin => (b'S', k, k),
        Vectors::None => (b'N', 0, 0),
    };
    let mut s = buffer::<T>(op, k)?;
    let mut u = zeros_f::<T>(op, if ucols == 0 { 0 } else { m }, ucols)?;
    let mut vt = zeros_f::<T>(op, vtrows, if vtrows == 0 { 0 } else { n })?;
    let ldu = m.max(1) as i32;
    let ldvt = vtrows.max(1) as i32;
    let info = with_workspace(
        op,
        "gesdd",
        threads,
        1,
        IWork::Fixed(8 * k),
        |work, lwork, iwork, _| {
            // SAFETY: all buffers have the sizes gesdd requires for `jobz` (a: m × n with ld m,
            // u: ldu × ucols, vt: ldvt × n, s: k, iwork: 8k, work: lwork or a 1-element query).
            unsafe {
                T::gesdd(
                    jobz,
                    m as i32,
                    n as i32,
                    f.as_mut_ptr(),
                    m as i32,
                    s.as_mut_ptr(),
                    u.as_mut_ptr(),
                    ldu,
                    vt.as_mut_ptr(),
                    ldvt,
                    work,
                    lwork,
                    iwork,
                )
            }
        },
    )?;
    if info > 0 {
        return Err(Error::NoConvergence {
            op,
            detail: format!("gesdd: {info} superdiagonals did not converge"),
        });
    }
    let (u, vt) = if vectors == Vectors::None {
        (Array2::zeros((m, 0)), Array2::zeros((0, n)))
    } else {
        (u, vt)
    };
    Ok(Svd {
        u,
        s: Array1::from(s),
        vt,
    })
}
