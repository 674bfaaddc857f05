//! Triangular solve on the `blas` engine: `trtrs`.

use ndarray::{Array2, ArrayView2};

use crate::blas::check_info;
use crate::blas::ffi::Ffi;
use crate::blas::layout::{readable_matrix, to_fortran, Order};
use crate::decomp::{Diag, Trans, Uplo};
use crate::error::{Error, Result};
use crate::threads::openblas;

/// Solves `op(A) X = B` with `A` triangular (`n × n`, n ≥ 1), reading only the `uplo` triangle.
pub(crate) fn solve_triangular<T: Ffi>(
    op: &'static str,
    threads: usize,
    a: ArrayView2<T>,
    b: ArrayView2<T>,
    uplo: Uplo,
    trans: Trans,
    diag: Diag,
) -> Result<Array2<T>> {
    let n = a.nrows();
    let mut x = to_fortran(op, &b)?;
    let nrhs = x.ncols();
    if diag == Diag::NonUnit && crate::blas::has_subnormal_diagonal(&a) {
        // OpenBLAS's trsm multiplies by 1/diagonal, which overflows for subnormal diagonals
        // (see blas/lu.rs): substitute with divisions instead.
        if let Some(pivot) = a.diag().iter().position(|&d| d == T::zero()) {
            return Err(Error::Singular { op, pivot });
        }
        substitute(&a, uplo, trans, &mut x);
        return Ok(x);
    }
    let a = readable_matrix(op, a)?;
    let la = a.layout();
    // A row-major matrix is the column-major storage of its transpose: flip triangle and
    // transposition instead of copying.
    let (uplo, trans) = match la.order {
        Order::Col => (uplo, trans),
        Order::Row => (
            if uplo == Uplo::Lower {
                Uplo::Upper
            } else {
                Uplo::Lower
            },
            if trans == Trans::No {
                Trans::Yes
            } else {
                Trans::No
            },
        ),
    };
    let u = if uplo == Uplo::Lower { b'L' } else { b'U' };
    let t = if trans == Trans::No { b'N' } else { b'T' };
    let d = if diag == Diag::Unit { b'U' } else { b'N' };
    // SAFETY: `a` is readable column-major (possibly as the transpose) with ld `la.ld`; `x` is
    // n × nrhs column-major with ld n.
    let info = openblas::with_threads_lapack(threads, || unsafe {
        T::trtrs(
            u,
            t,
            d,
            n as i32,
            nrhs as i32,
            a.ptr(),
            la.ld,
            x.as_mut_ptr(),
            n as i32,
        )
    });
    check_info(op, "trtrs", info)?;
    if info > 0 {
        return Err(Error::Singular {
            op,
            pivot: info as usize - 1,
        });
    }
    Ok(x)
}

/// Solves `op(A) X = B` in place by substitution with divisions (non-unit diagonal).
fn substitute<T: Ffi>(a: &ArrayView2<T>, uplo: Uplo, trans: Trans, x: &mut Array2<T>) {
    let n = a.nrows();
    // Entry (i, j) of op(A), and whether op(A) is lower triangular.
    let at = |i: usize, j: usize| {
        if trans != Trans::No {
            a[[j, i]]
        } else {
            a[[i, j]]
        }
    };
    let lower = (uplo == Uplo::Lower) != (trans != Trans::No);
    for mut col in x.columns_mut() {
        if lower {
            for i in 0..n {
                let s = (0..i)
                    .filter(|&j| at(i, j) != T::zero())
                    .fold(col[i], |s, j| s - at(i, j) * col[j]);
                col[i] = s / at(i, i);
            }
        } else {
            for i in (0..n).rev() {
                let s = (i + 1..n)
                    .filter(|&j| at(i, j) != T::zero())
                    .fold(col[i], |s, j| s - at(i, j) * col[j]);
                col[i] = s / at(i, i);
            }
        }
    }
}
