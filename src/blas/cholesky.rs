//! Cholesky factorization on the `blas` engine: `potrf`.
//!
//! A row-major matrix read column-major is its transpose: for a row-major `A`, whose upper
//! triangle holds `A`'s lower one; `potrf('U')` on it gives `U` with `Aᵀ = Uᵀ U`, and `U` read
//! row-major is `L = Uᵀ` (real types: `Aᵀ = A`). So a row-major view is factored in place with
//! `'U'`, no transposing copy (`cholesky_into`, the `rayon-blas` base blocks).
//!
//! A new factor is still made column-major with `'L'`: OpenBLAS 0.3.21's `'U'` took 1.38 ms at
//! n = 512 against 1.03–1.14 ms for `'L'`, more than the 0.17–0.20 ms transposing copy
//! (`to_fortran`; Zen 5, `OPENBLAS_CORETYPE=Haswell`, one thread, interleaved calls).

use ndarray::{Array2, ArrayView2};

use crate::blas::check_info;
use crate::blas::ffi::Ffi;
use crate::blas::layout::{to_fortran, with_column_major};
use crate::error::{Error, Result};
use crate::threads::openblas;

/// The triangle `potrf` factors for a lower triangle stored with strides `(rs, cs)`, and its
/// leading dimension: `'L'` column-major, `'U'` row-major (its transpose, column-major); `None`
/// for any other layout.
fn uplo(n: usize, rs: isize, cs: isize) -> Option<(u8, i32)> {
    let ld = |s: isize| (s >= n as isize && s <= i32::MAX as isize).then_some(s as i32);
    if n == 1 {
        Some((b'L', 1))
    } else if rs == 1 {
        ld(cs).map(|l| (b'L', l))
    } else if cs == 1 {
        ld(rs).map(|l| (b'U', l))
    } else {
        None
    }
}

/// Lower factor `L` with `A = L Lᵀ` (column-major), reading only the lower triangle of square
/// `A` (n ≥ 1).
pub(crate) fn cholesky<T: Ffi>(
    op: &'static str,
    threads: usize,
    a: ArrayView2<T>,
) -> Result<Array2<T>> {
    let mut l = to_fortran(op, &a)?;
    if let Some(index) = potrf_lower(op, threads, &mut l.view_mut())? {
        return Err(Error::NotPositiveDefinite { op, index });
    }
    for j in 1..l.ncols() {
        l.column_mut(j).slice_mut(ndarray::s![..j]).fill(T::zero());
    }
    Ok(l)
}

/// `potrf` in place on the lower triangle of a square view `a` (n ≥ 1): `Ok(None)` on success,
/// `Ok(Some(j))` when the leading minor of order `j + 1` is not positive. Works in place when
/// either axis of `a` is contiguous (see the module docs), else on a column-major copy written
/// back.
pub(crate) fn potrf_lower<T: Ffi>(
    op: &'static str,
    threads: usize,
    a: &mut ndarray::ArrayViewMut2<T>,
) -> Result<Option<usize>> {
    let n = a.nrows();
    let info = match uplo(n, a.strides()[0], a.strides()[1]) {
        Some((tri, ld)) => {
            let p = a.as_mut_ptr();
            // SAFETY: `p` addresses the n × n matrix `a` (or, for 'U', its transpose)
            // column-major with leading dimension ld ≥ n, exclusively ours for the call.
            let info = openblas::with_threads_lapack(threads, || unsafe {
                T::potrf(tri, n as i32, p, ld)
            });
            check_info(op, "potrf", info)?;
            info
        }
        None => with_column_major(op, a, |p, ld| {
            // SAFETY: `p` addresses an n × n column-major matrix with leading dimension
            // ld ≥ n, exclusively ours for the call.
            let info = openblas::with_threads_lapack(threads, || unsafe {
                T::potrf(b'L', n as i32, p, ld)
            });
            check_info(op, "potrf", info).map(|()| info)
        })?,
    };
    Ok((info > 0).then(|| info as usize - 1))
}

/// Overwrites `x` (`n × k`, any layout; in place when column-major) with `A⁻¹ x` from the
/// lower Cholesky factor `l` (`n × n`, column-major, as [`cholesky`] returns it): `potrs`.
pub(crate) fn solve_factored<T: Ffi>(
    op: &'static str,
    threads: usize,
    l: &Array2<T>,
    x: &mut ndarray::ArrayViewMut2<T>,
) -> Result<()> {
    let (n, nrhs) = x.dim();
    if n == 0 || nrhs == 0 {
        return Ok(());
    }
    let fortran;
    let f = if l.strides()[0] == 1 {
        l
    } else {
        fortran = to_fortran(op, &l.view())?;
        &fortran
    };
    with_column_major(op, x, |p, ld| {
        // SAFETY: `f` is the n × n column-major factor (ld n); `p` an n × nrhs column-major
        // matrix with leading dimension ld ≥ n, ours for the call.
        let info = openblas::with_threads_lapack(threads, || unsafe {
            T::potrs(b'L', n as i32, nrhs as i32, f.as_ptr(), n as i32, p, ld)
        });
        check_info(op, "potrs", info)
    })
}

/// `A⁻¹` (symmetric, both triangles) from the lower Cholesky factor `l` of `A` (n ≥ 1):
/// `potri` on a copy.
pub(crate) fn inv_factored<T: Ffi>(
    op: &'static str,
    threads: usize,
    l: &Array2<T>,
) -> Result<Array2<T>> {
    let n = l.nrows();
    let mut x = to_fortran(op, &l.view())?;
    // SAFETY: `x` is n × n column-major with ld n.
    let info = openblas::with_threads_lapack(threads, || unsafe {
        T::potri(b'L', n as i32, x.as_mut_ptr(), n as i32)
    });
    check_info(op, "potri", info)?;
    if info > 0 {
        return Err(Error::Singular {
            op,
            pivot: info as usize - 1,
        });
    }
    for j in 1..n {
        for i in 0..j {
            x[[i, j]] = x[[j, i]];
        }
    }
    Ok(x)
}
