//! LU with partial pivoting on the `blas` engine: `getrf`, `getrs`, `getri`.
//!
//! OpenBLAS replaces LAPACK's `getrf`, `getrs` and `getri` with optimized versions that multiply
//! by the reciprocal of a pivot. For a subnormal pivot (|u| < 2.2e-308 in f64) the reciprocal
//! overflows and a finite, non-singular matrix comes back as inf/NaN. Reference LAPACK divides
//! in that case. So when a factor has a subnormal pivot, parla refactors with LAPACK's
//! recursive `getrf2` (reference code inside OpenBLAS, which divides) and solves by
//! substitution with divisions. Normal matrices never take this path.

use ndarray::{Array2, ArrayView2, ArrayViewMut2};

use crate::alloc::{transposed_if_row_major, zeros_f};
use crate::blas::ffi::Ffi;
use crate::blas::layout::{to_fortran, with_column_major};
use crate::blas::{buffer, check_info, with_workspace, IWork};
use crate::decomp::LuPacked;
use crate::error::{Error, Result};
use crate::real::{all_finite, equilibration_exponents, times_pow2};
use crate::threads::openblas;

/// Whether any entry of `a` is NaN or ±Inf, read in memory order (one streaming pass; a
/// column-major factor read in logical row order would stride across every column).
fn any_non_finite<T: Ffi>(a: &Array2<T>) -> bool {
    match a.as_slice_memory_order() {
        Some(xs) => !all_finite(xs),
        None => a.iter().any(|x| !x.is_finite()),
    }
}

/// Whether the factor has a subnormal pivot (reads the diagonal only).
fn tiny_pivot<T: Ffi>(lu: &Array2<T>) -> bool {
    let tiny = |d: T| d != T::zero() && d.abs() < T::min_positive_value();
    lu.diag().iter().any(|&d| tiny(d))
}

/// Whether the factor holds a subnormal pivot or a non-finite entry (from a finite input).
fn needs_careful_path<T: Ffi>(lu: &Array2<T>) -> bool {
    tiny_pivot(lu) || any_non_finite(lu)
}

/// What [`getrf_into`] learns of the final factor from the scan it makes anyway.
#[derive(Clone, Copy)]
struct Scan {
    /// The factor holds a NaN or ±Inf.
    non_finite: bool,
    /// Solves from it take the careful path: a subnormal pivot or a non-finite entry
    /// ([`needs_careful_path`] of the final factor).
    careful: bool,
}

/// Factors `lu` (a column-major copy of the matrix) in place: `getrf`, and `getrf2` when a
/// pivot is subnormal. Returns LAPACK's `info` and the [`Scan`] of the final factor (one
/// full scan on the common path, two when `getrf2` runs).
fn getrf_into<T: Ffi>(
    op: &'static str,
    threads: usize,
    a: &ArrayView2<T>,
    lu: &mut Array2<T>,
    ipiv: &mut [i32],
) -> Result<(i32, Scan)> {
    let (m, n) = lu.dim();
    let lda = m.max(1) as i32;
    // SAFETY: `lu` is m × n column-major with lda = m; `ipiv` holds min(m, n) entries.
    let mut info = openblas::with_threads_lapack(threads, || unsafe {
        T::getrf(m as i32, n as i32, lu.as_mut_ptr(), lda, ipiv.as_mut_ptr())
    });
    check_info(op, "getrf", info)?;
    if !needs_careful_path(lu) {
        let clean = Scan {
            non_finite: false,
            careful: false,
        };
        return Ok((info, clean));
    }
    crate::alloc::assign_2d(&mut lu.view_mut(), a.view());
    // SAFETY: as above; getrf2 has the same contract as getrf.
    info = openblas::with_threads_lapack(threads, || unsafe {
        T::getrf2(m as i32, n as i32, lu.as_mut_ptr(), lda, ipiv.as_mut_ptr())
    });
    check_info(op, "getrf2", info)?;
    // needs_careful_path(lu), its full scan made once.
    let non_finite = any_non_finite(lu);
    let careful = non_finite || tiny_pivot(lu);
    Ok((
        info,
        Scan {
            non_finite,
            careful,
        },
    ))
}

/// Factors a non-empty `m × n` matrix. A zero pivot is not an error here: the factors exist;
/// the index of the first zero pivot is returned beside them, and whether solves from them take
/// the careful path (a subnormal pivot or a non-finite entry; see the module docs), learnt from
/// the factorization's own scan so that no caller scans the factor again.
///
/// With `equilibrate`, a factorization that overflows (element growth from a finite input
/// near the top of the range) is redone on `D·A`, each row scaled by a power of two so that its
/// largest entry lies in [0.5, 1); the scaling is exact and recorded in `row_exp` for the
/// caller to undo. (`lu()` passes `false`: its factors must be those of `A`.)
pub(crate) fn factor<T: Ffi>(
    op: &'static str,
    threads: usize,
    a: ArrayView2<T>,
    equilibrate: bool,
) -> Result<(LuPacked<T>, Option<usize>, bool)> {
    let (m, n) = a.dim();
    let mut lu = to_fortran(op, &a)?;
    let mut ipiv = buffer::<i32>(op, m.min(n))?;
    let (mut info, mut scan) = getrf_into(op, threads, &a, &mut lu, &mut ipiv)?;
    let mut row_exp = Vec::new();
    if equilibrate && scan.non_finite {
        row_exp = equilibration_exponents(&a);
        let mut scaled = to_fortran(op, &a)?;
        for (mut row, &e) in scaled.rows_mut().into_iter().zip(&row_exp) {
            row.map_inplace(|x| *x = times_pow2(*x, e));
        }
        lu.assign(&scaled);
        (info, scan) = getrf_into(op, threads, &scaled.view(), &mut lu, &mut ipiv)?;
    }
    let zero = (info > 0).then(|| info as usize - 1);
    let swaps = ipiv.iter().map(|&p| p as usize - 1).collect();
    Ok((LuPacked { lu, swaps, row_exp }, zero, scan.careful))
}

fn lapack_pivots(swaps: &[usize]) -> Vec<i32> {
    swaps.iter().map(|&p| p as i32 + 1).collect()
}

/// Overwrites `b` (n × k, any layout) with `A⁻¹ b` (`trans`: `A⁻ᵀ b`) from a square
/// non-singular LU factor, by row interchanges and forward/back substitution with divisions
/// (see the module docs).
fn substitute<T: Ffi>(lu: &LuPacked<T>, b: &mut ArrayViewMut2<T>, trans: bool) {
    let n = lu.lu.nrows();
    let f = &lu.lu;
    for mut x in b.columns_mut() {
        if trans {
            // Aᵀ = Uᵀ Lᵀ P: forward with Uᵀ, back with Lᵀ (unit), then the interchanges in
            // reverse order.
            for j in 0..n {
                x[j] = x[j] / f[[j, j]];
                let xj = x[j];
                for i in j + 1..n {
                    // A zero multiplier leaves x[i] alone (no 0·inf = NaN).
                    if f[[j, i]] != T::zero() {
                        x[i] = x[i] - f[[j, i]] * xj;
                    }
                }
            }
            for j in (0..n).rev() {
                let xj = x[j];
                for i in 0..j {
                    if f[[j, i]] != T::zero() {
                        x[i] = x[i] - f[[j, i]] * xj;
                    }
                }
            }
            for (i, &p) in lu.swaps.iter().enumerate().rev() {
                x.swap(i, p);
            }
            continue;
        }
        for (i, &p) in lu.swaps.iter().enumerate() {
            x.swap(i, p);
        }
        for j in 0..n {
            let xj = x[j];
            for i in j + 1..n {
                // A zero multiplier leaves x[i] alone (no 0·inf = NaN when x[j] overflowed).
                if f[[i, j]] != T::zero() {
                    x[i] = x[i] - f[[i, j]] * xj;
                }
            }
        }
        for j in (0..n).rev() {
            x[j] = x[j] / f[[j, j]];
            let xj = x[j];
            for i in 0..j {
                // A zero multiplier leaves x[i] alone (no 0·inf = NaN when x[j] overflowed).
                if f[[i, j]] != T::zero() {
                    x[i] = x[i] - f[[i, j]] * xj;
                }
            }
        }
    }
}

/// Overwrites `x` (`n × k`, any layout; in place when column-major) with `A⁻¹ x` (`trans`:
/// `A⁻ᵀ x`) from the factor `lu` of a square non-singular `A` (n ≥ 1); `careful` is the
/// verdict [`factor`] returned with it. `getrs`, or substitution with divisions on the careful
/// path.
pub(crate) fn solve_factored<T: Ffi>(
    op: &'static str,
    threads: usize,
    lu: &LuPacked<T>,
    careful: bool,
    x: &mut ArrayViewMut2<T>,
    trans: bool,
) -> Result<()> {
    let (n, nrhs) = x.dim();
    if nrhs == 0 || n == 0 {
        return Ok(());
    }
    let scale = |x: &mut ArrayViewMut2<T>| {
        for (mut row, &e) in x.rows_mut().into_iter().zip(&lu.row_exp) {
            row.map_inplace(|v| *v = times_pow2(*v, e));
        }
    };
    // The factor is of D·A: (D·A) x = D·b, and Aᵀ x = b ⇔ (D·A)ᵀ (D⁻¹x) = b.
    if !trans {
        scale(x);
    }
    if careful {
        substitute(lu, x, trans);
    } else {
        let ipiv = lapack_pivots(&lu.swaps);
        let t = if trans { b'T' } else { b'N' };
        with_column_major(op, x, |p, ld| {
            // SAFETY: `lu.lu` is the n × n getrf factor (ld n), `ipiv` its n pivots, `p` an
            // n × nrhs column-major matrix with leading dimension ld ≥ n, ours for the call.
            let info = openblas::with_threads_lapack(threads, || unsafe {
                T::getrs(
                    t,
                    n as i32,
                    nrhs as i32,
                    lu.lu.as_ptr(),
                    n as i32,
                    ipiv.as_ptr(),
                    p,
                    ld,
                )
            });
            check_info(op, "getrs", info)
        })?;
    }
    if trans {
        scale(x);
    }
    Ok(())
}

/// `A⁻¹` from the factor `lu` of a square non-singular `A` (n ≥ 1), keeping `lu` (`getri` on
/// a copy); `careful` as in [`solve_factored`].
pub(crate) fn inv_factored<T: Ffi>(
    op: &'static str,
    threads: usize,
    lu: &LuPacked<T>,
    careful: bool,
) -> Result<Array2<T>> {
    let copy = to_fortran(op, &lu.lu.view())?;
    let owned = LuPacked {
        lu: copy,
        swaps: lu.swaps.clone(),
        row_exp: lu.row_exp.clone(),
    };
    let mut x = inv_from(op, threads, owned, careful)?;
    for (mut col, &e) in x.columns_mut().into_iter().zip(&lu.row_exp) {
        col.map_inplace(|v| *v = times_pow2(*v, e));
    }
    Ok(x)
}

/// The factor of [`transposed_if_row_major`]`(a)` for a solve or an inverse, and whether it is
/// `aᵀ`'s (then `A x = b` is `getrs` with `'T'` and `A⁻¹` the transpose of `(Aᵀ)⁻¹`), and
/// [`factor`]'s careful-path verdict.
///
/// # Errors
/// [`Error::Singular`] with the first zero pivot of `A`'s own factor, as `getrf` of `A` reports
/// it: when `Aᵀ`'s factor has a zero pivot, `A` is factored again (singular input only; the
/// two factors' first zero pivots differ, e.g. a zero column `j` of `A` is a zero row of `Aᵀ`).
fn factor_for_solve<T: Ffi>(
    op: &'static str,
    threads: usize,
    a: ArrayView2<T>,
) -> Result<(LuPacked<T>, bool, bool)> {
    let (target, transposed) = transposed_if_row_major(a);
    let (lu, zero, careful) = factor(op, threads, target, true)?;
    match (zero, transposed) {
        (None, _) => Ok((lu, transposed, careful)),
        (Some(pivot), false) => Err(Error::Singular { op, pivot }),
        // Factor A itself for its own first zero pivot (and its own verdict: the two factors
        // round differently).
        (Some(_), true) => match factor(op, threads, a, true)? {
            (lu, None, careful) => Ok((lu, false, careful)),
            (_, Some(pivot), _) => Err(Error::Singular { op, pivot }),
        },
    }
}

/// Solves `A X = B` for square non-singular `A` (`n × n`, n ≥ 1) and `B: n × k`.
pub(crate) fn solve<T: Ffi>(
    op: &'static str,
    threads: usize,
    a: ArrayView2<T>,
    b: ArrayView2<T>,
) -> Result<Array2<T>> {
    let (lu, transposed, careful) = factor_for_solve(op, threads, a)?;
    let mut x = to_fortran(op, &b)?;
    solve_factored(op, threads, &lu, careful, &mut x.view_mut(), transposed)?;
    Ok(x)
}

/// `A⁻¹` for square non-singular `A` (n ≥ 1).
pub(crate) fn inv<T: Ffi>(op: &'static str, threads: usize, a: ArrayView2<T>) -> Result<Array2<T>> {
    let (lu, transposed, careful) = factor_for_solve(op, threads, a)?;
    let row_exp = lu.row_exp.clone();
    let mut x = inv_from(op, threads, lu, careful)?;
    // inv(A) = inv(D·A)·D: column j times 2^row_exp[j].
    for (mut col, &e) in x.columns_mut().into_iter().zip(&row_exp) {
        col.map_inplace(|v| *v = times_pow2(*v, e));
    }
    // The inverse of Aᵀ, column-major, is A⁻¹ in row-major order: no copy.
    Ok(if transposed { x.reversed_axes() } else { x })
}

/// The inverse of the matrix factored in `lu` (non-singular); `careful` as in
/// [`solve_factored`].
fn inv_from<T: Ffi>(
    op: &'static str,
    threads: usize,
    mut lu: LuPacked<T>,
    careful: bool,
) -> Result<Array2<T>> {
    let n = lu.lu.nrows();
    if careful {
        let mut x = zeros_f(op, n, n)?;
        x.diag_mut().fill(T::one());
        substitute(&lu, &mut x.view_mut(), false);
        return Ok(x);
    }
    let n = n as i32;
    let ipiv = lapack_pivots(&lu.swaps);
    let info = with_workspace(
        op,
        "getri",
        threads,
        n as usize,
        IWork::None,
        |work, lwork, _, _| {
            // SAFETY: `lu.lu` is the n × n factor with its pivots; `work` holds `lwork` (or is a
            // 1-element query target).
            unsafe { T::getri(n, lu.lu.as_mut_ptr(), n, ipiv.as_ptr(), work, lwork) }
        },
    )?;
    if info > 0 {
        return Err(Error::Singular {
            op,
            pivot: info as usize - 1,
        });
    }
    Ok(lu.lu)
}

/// LAPACK's recursive `getrf2` at `threads` on the `m × nb` panel `a`, in place (on a
/// column-major copy when `a` is not column-major): `swaps[j]` receives the panel row swapped
/// with row `j`; returns the first zero pivot. `getrf2` divides by its pivots (no reciprocal),
/// so subnormal pivots stay exact.
pub(crate) fn getrf2_panel<T: Ffi>(
    op: &'static str,
    threads: usize,
    a: &mut ndarray::ArrayViewMut2<T>,
    swaps: &mut [usize],
) -> Result<Option<usize>> {
    let (m, nb) = a.dim();
    let mut ipiv = buffer::<i32>(op, m.min(nb))?;
    let info = with_column_major(op, a, |p, ld| {
        // SAFETY: `p` addresses an m × nb column-major matrix with leading dimension ld ≥ m,
        // exclusively ours for the call; `ipiv` holds min(m, nb) entries.
        let info = openblas::with_threads_lapack(threads, || unsafe {
            T::getrf2(m as i32, nb as i32, p, ld, ipiv.as_mut_ptr())
        });
        check_info(op, "getrf2", info).map(|()| info)
    })?;
    for (s, &q) in swaps.iter_mut().zip(&ipiv) {
        *s = q as usize - 1;
    }
    Ok((info > 0).then(|| info as usize - 1))
}

/// Writes `A⁻¹` into `out` (`n × n`, any layout; in place when column-major) from the factor
/// `lu` of a square non-singular `A` (n ≥ 1): the factor is copied into `out` and inverted
/// there by `getri` (substitution on the careful path); `lu` is kept.
pub(crate) fn inv_into<T: Ffi>(
    op: &'static str,
    threads: usize,
    lu: &LuPacked<T>,
    careful: bool,
    out: &mut ArrayViewMut2<T>,
) -> Result<()> {
    let n = lu.lu.nrows();
    if careful {
        out.fill(T::zero());
        out.diag_mut().fill(T::one());
        substitute(lu, out, false);
    } else {
        let ipiv = lapack_pivots(&lu.swaps);
        crate::alloc::assign_2d(out, lu.lu.view());
        let info = with_column_major(op, out, |p, ld| {
            with_workspace(op, "getri", threads, n, IWork::None, |work, lwork, _, _| {
                // SAFETY: `p` is the n × n factor (copied above) with leading dimension
                // ld ≥ n, ours for the call; `ipiv` its n pivots; `work` holds `lwork` (or
                // is a 1-element query target).
                unsafe { T::getri(n as i32, p, ld, ipiv.as_ptr(), work, lwork) }
            })
        })?;
        if info > 0 {
            return Err(Error::Singular {
                op,
                pivot: info as usize - 1,
            });
        }
    }
    // inv(A) = inv(D·A)·D: column j times 2^row_exp[j].
    for (mut col, &e) in out.columns_mut().into_iter().zip(&lu.row_exp) {
        col.map_inplace(|v| *v = times_pow2(*v, e));
    }
    Ok(())
}
