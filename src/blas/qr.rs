//! QR factorization on the `blas` engine: `geqrf` + `orgqr`.

use ndarray::{s, Array2, ArrayView2};

use crate::alloc::zeros_f;
use crate::blas::ffi::Ffi;
use crate::blas::layout::{to_fortran, with_column_major};
use crate::blas::{buffer, check_info, with_workspace, IWork};
use crate::decomp::{upper_rows, Qr, QrMode};
use crate::error::{Error, Result};
use crate::threads::openblas;

/// `geqrf` on a column-major copy of `A: m × n` (`m, n ≥ 1`): R on and above the diagonal,
/// the Householder vectors below it, and their `min(m, n)` scalars.
pub(crate) fn packed<T: Ffi>(
    op: &'static str,
    threads: usize,
    a: ArrayView2<T>,
) -> Result<(Array2<T>, Vec<T>)> {
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
    Ok((f, tau))
}

/// The least-squares solution `R⁻¹ (Qᵀ B)[..n]` of `min ‖A X − B‖` from [`packed`]'s factor of
/// `A: m × n` (`m ≥ n ≥ 1`, `R` non-singular), `B: m × k`: `ormqr` on a copy of `B`, then
/// `trtrs` on its top `n` rows. [`Error::Singular`] for a zero diagonal entry of `R`.
pub(crate) fn lstsq_factored<T: Ffi>(
    op: &'static str,
    threads: usize,
    f: &Array2<T>,
    tau: &[T],
    b: ArrayView2<T>,
) -> Result<Array2<T>> {
    let (m, n) = f.dim();
    let k = b.ncols();
    let mut c = to_fortran(op, &b)?;
    if k > 0 {
        with_workspace(op, "ormqr", threads, k, IWork::None, |work, lwork, _, _| {
            // SAFETY: `f` is the m × n geqrf factor (ld m) with n reflectors in `tau`; `c` is
            // m × k column-major (ld m); `work` holds `lwork` (or is a query target).
            unsafe {
                T::ormqr(
                    b'L',
                    b'T',
                    m as i32,
                    k as i32,
                    n as i32,
                    f.as_ptr(),
                    m as i32,
                    tau.as_ptr(),
                    c.as_mut_ptr(),
                    m as i32,
                    work,
                    lwork,
                )
            }
        })?;
        // SAFETY: the top n × n of `f` (ld m) is R; `c` is m × k column-major (ld m), its top
        // n rows are solved in place.
        let info = openblas::with_threads_lapack(threads, || unsafe {
            T::trtrs(
                b'U',
                b'N',
                b'N',
                n as i32,
                k as i32,
                f.as_ptr(),
                m as i32,
                c.as_mut_ptr(),
                m as i32,
            )
        });
        check_info(op, "trtrs", info)?;
        if info > 0 {
            return Err(Error::Singular {
                op,
                pivot: info as usize - 1,
            });
        }
    } else if let Some(pivot) = f.diag().iter().position(|&d| d == T::zero()) {
        return Err(Error::Singular { op, pivot });
    }
    let mut x = zeros_f(op, n, k)?;
    crate::alloc::assign_2d(&mut x.view_mut(), c.slice(s![..n, ..]));
    Ok(x)
}

/// `A = Q R` for `A: m × n` with `m, n ≥ 1`.
pub(crate) fn qr<T: Ffi>(
    op: &'static str,
    threads: usize,
    a: ArrayView2<T>,
    mode: QrMode,
) -> Result<Qr<T>> {
    let (m, n) = a.dim();
    let k = m.min(n);
    let (f, tau) = packed(op, threads, a)?;
    let lda = m as i32;

    let qcols = mode.q_cols(m, n);
    let r = upper_rows(op, f.view(), qcols)?;
    // Q is formed in place from the Householder vectors stored below R's diagonal.
    let mut q = zeros_f::<T>(op, m, qcols)?;
    let copy = n.min(qcols);
    crate::alloc::assign_2d(&mut q.slice_mut(s![.., ..copy]), f.slice(s![.., ..copy]));
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

/// LAPACK `geqrf` at `threads` on the `m × nb` panel `a`, in place (on a column-major copy when
/// `a` is not column-major): R on and above the diagonal, the Householder vectors below it,
/// their scalars in `tau` (`min(m, nb)` entries).
pub(crate) fn geqrf_panel<T: Ffi>(
    op: &'static str,
    threads: usize,
    a: &mut ndarray::ArrayViewMut2<T>,
    tau: &mut [T],
) -> Result<()> {
    let (m, nb) = a.dim();
    with_column_major(op, a, |p, lda| {
        with_workspace(
            op,
            "geqrf",
            threads,
            nb,
            IWork::None,
            |work, lwork, _, _| {
                // SAFETY: `p` addresses an m × nb column-major matrix with leading dimension
                // lda ≥ m, exclusively ours for the call; `tau` holds min(m, nb); `work` holds
                // `lwork` (or is a 1-element query target).
                unsafe { T::geqrf(m as i32, nb as i32, p, lda, tau.as_mut_ptr(), work, lwork) }
            },
        )
    })?;
    Ok(())
}
