//! QR factorization on the `blas` engine: `geqrf` + `orgqr`.

use ndarray::{s, ArrayView2};

use crate::blas::layout::to_fortran;
use crate::blas::{buffer, with_workspace, IWork};
use crate::decomp::{Qr, QrMode};
use crate::error::Result;
use crate::scalar::Scalar;
use crate::validate::zeros_f;

/// `A = Q R` for `A: m × n` with `m, n ≥ 1`.
pub(crate) fn qr<T: Scalar>(
    op: &'static str,
    threads: usize,
    a: ArrayView2<T>,
    mode: QrMode,
) -> Result<Qr<T>> {
    let (m, n) = a.dim();
    let k = m.min(n);
    let mut f = to_fortran(op, &a)?;
    let mut tau = buffer::<T>(op, k)?;
    let lda = m as i32;
    with_workspace(op, "geqrf", threads, n, IWork::None, |work, lwork, _, _| {
        // SAFETY: `f` is m × n column-major (ld m), `tau` holds k, `work` holds `lwork` (or is
        // a 1-element query target).
        unsafe {
            T::geqrf(
                m as i32,
                n as i32,
                f.as_mut_ptr(),
                lda,
                tau.as_mut_ptr(),
                work,
                lwork,
            )
        }
    })?;

    let qcols = match mode {
        QrMode::Reduced => k,
        QrMode::Complete => m,
    };
    let mut r = zeros_f::<T>(op, qcols, n)?;
    for i in 0..qcols.min(k) {
        r.slice_mut(s![i, i..]).assign(&f.slice(s![i, i..]));
    }
    // Q is formed in place from the Householder vectors stored below R's diagonal.
    let mut q = zeros_f::<T>(op, m, qcols)?;
    let copy = n.min(qcols);
    q.slice_mut(s![.., ..copy]).assign(&f.slice(s![.., ..copy]));
    drop(f);
    with_workspace(
        op,
        "orgqr",
        threads,
        qcols,
        IWork::None,
        |work, lwork, _, _| {
            // SAFETY: `q` is m × qcols column-major (ld m) holding k reflectors; `tau` holds k;
            // `work` holds `lwork` (or is a 1-element query target).
            unsafe {
                T::orgqr(
                    m as i32,
                    qcols as i32,
                    k as i32,
                    q.as_mut_ptr(),
                    lda,
                    tau.as_ptr(),
                    work,
                    lwork,
                )
            }
        },
    )?;
    Ok(Qr { q, r })
}
