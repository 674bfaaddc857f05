//! Least squares on the `blas` engine: `gelsd` (SVD based, minimum norm).

use ndarray::{s, Array1, ArrayView2};

use crate::alloc::zeros_f;
use crate::blas::ffi::Ffi;
use crate::blas::layout::to_fortran;
use crate::blas::{buffer, with_workspace, IWork};
use crate::decomp::Lstsq;
use crate::error::{Error, Result};

/// Minimum-norm solution of `min ‖A X − B‖` for finite non-empty `A: m × n`, `B: m × nrhs`;
/// singular values below `rcond · σ_max` count as zero.
pub(crate) fn lstsq<T: Ffi>(
    op: &'static str,
    threads: usize,
    a: ArrayView2<T>,
    b: ArrayView2<T>,
    rcond: T,
) -> Result<Lstsq<T>> {
    let (m, n) = a.dim();
    let nrhs = b.ncols();
    let k = m.min(n);
    let ldb = m.max(n);
    let mut f = to_fortran(op, &a)?;
    let mut x = zeros_f::<T>(op, ldb, nrhs.max(1))?;
    crate::alloc::assign_2d(&mut x.slice_mut(s![..m, ..nrhs]), b.view());
    // LAPACK rejects nrhs = 0; solve for one zero column instead and return none.
    let nrhs_call = nrhs.max(1) as i32;
    let mut sv = buffer::<T>(op, k)?;
    let mut rank = 0i32;
    let info = with_workspace(
        op,
        "gelsd",
        threads,
        1,
        IWork::Queried(1),
        |work, lwork, iwork, _| {
            // SAFETY: `f` is m × n (ld m), `x` is ldb × max(nrhs, 1) (ld ldb), `sv` holds k, the
            // workspaces hold their queried sizes (or are 1-element query targets).
            unsafe {
                T::gelsd(
                    m as i32,
                    n as i32,
                    nrhs_call,
                    f.as_mut_ptr(),
                    m as i32,
                    x.as_mut_ptr(),
                    ldb as i32,
                    sv.as_mut_ptr(),
                    rcond,
                    &mut rank,
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
            detail: format!("gelsd: {info} off-diagonals did not converge"),
        });
    }
    let rank = rank.max(0) as usize;
    let residuals = if rank == n && m > n {
        (0..nrhs)
            .map(|j| {
                x.slice(s![n.., j])
                    .iter()
                    .fold(T::zero(), |acc, &r| acc + r * r)
            })
            .collect()
    } else {
        Array1::zeros(0)
    };
    let solution = x.slice(s![..n, ..nrhs]).to_owned();
    Ok(Lstsq {
        solution,
        residuals,
        rank,
        singular_values: Array1::from(sv),
    })
}
