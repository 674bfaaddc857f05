//! Level 3 BLAS on the `blas` engine: `gemm`.

use ndarray::{Array2, ArrayView2, ArrayViewMut2};

use crate::alloc::zeros_f;
use crate::blas::ffi::Ffi;
use crate::blas::layout::{matrix_layout, readable_matrix, to_fortran};
use crate::error::Result;
use crate::threads::openblas;

/// `C ← α A B + β C` for non-empty `A: m × k`, `B: k × n`, `C: m × n` (`k ≥ 1`).
///
/// Transposes are expressed by passing transposed views; operands that BLAS can read in place
/// are not copied. With `β = 0`, `C` is overwritten: OpenBLAS then never reads it.
pub(crate) fn gemm<T: Ffi>(
    op: &'static str,
    threads: usize,
    alpha: T,
    a: ArrayView2<T>,
    b: ArrayView2<T>,
    beta: T,
    c: &mut ArrayViewMut2<T>,
) -> Result<()> {
    let (m, n) = c.dim();
    let k = a.ncols();
    let Some(lc) = matrix_layout(&c.view()) else {
        // C cannot be written in place (no unit stride): work on a column-major copy.
        let mut tmp: Array2<T> = if beta == T::zero() {
            zeros_f(op, m, n)?
        } else {
            to_fortran(op, &c.view())?
        };
        gemm(op, threads, alpha, a, b, beta, &mut tmp.view_mut())?;
        crate::alloc::assign_2d(c, tmp.view());
        return Ok(());
    };
    let a = readable_matrix(op, a)?;
    let b = readable_matrix(op, b)?;
    let (la, lb) = (a.layout(), b.layout());
    let cp = c.as_mut_ptr();
    // SAFETY: A, B and C are readable/writable in place with the given orders and leading
    // dimensions (checked by `strided`); dimensions fit i32 (checked at the boundary); C is
    // exclusively borrowed and cannot alias A or B.
    openblas::with_threads(threads, || unsafe {
        T::gemm(
            lc.order.cblas(),
            la.trans_for(lc.order),
            lb.trans_for(lc.order),
            m as i32,
            n as i32,
            k as i32,
            alpha,
            a.ptr(),
            la.ld,
            b.ptr(),
            lb.ld,
            beta,
            cp,
            lc.ld,
        )
    });
    Ok(())
}

/// `B ← op(A)⁻¹ B` in place for a non-empty triangular `n × n` view `A` (`lower`: the view's
/// lower triangle is used, else its upper) and `B: n × r`, with OpenBLAS `trsm` at `threads`.
/// `unit`: the diagonal is taken as ones. A zero diagonal divides by zero (IEEE); callers check
/// singularity first.
///
/// OpenBLAS's `trsm` multiplies by the reciprocal of each diagonal entry, which overflows for a
/// subnormal one: callers route such (rare) triangles elsewhere
/// ([`has_subnormal_diagonal`](crate::blas::has_subnormal_diagonal)).
pub(crate) fn trsm_left<T: Ffi>(
    op: &'static str,
    threads: usize,
    lower: bool,
    unit: bool,
    a: ArrayView2<T>,
    b: &mut ArrayViewMut2<T>,
) -> Result<()> {
    use crate::blas::ffi::{CBLAS_DIAG, CBLAS_SIDE, CBLAS_TRANSPOSE, CBLAS_UPLO};
    let (n, r) = b.dim();
    if n == 0 || r == 0 {
        // Nothing to solve (and no layout BLAS could be handed: the copy below would recurse).
        return Ok(());
    }
    let Some(lb) = matrix_layout(&b.view()) else {
        let mut tmp = to_fortran(op, &b.view())?;
        trsm_left(op, threads, lower, unit, a, &mut tmp.view_mut())?;
        crate::alloc::assign_2d(b, tmp.view());
        return Ok(());
    };
    let a = readable_matrix(op, a)?;
    let la = a.layout();
    let ta = la.trans_for(lb.order);
    // `uplo` names the triangle of A as stored in the call's order: transposing swaps it.
    let stored_lower = lower == matches!(ta, CBLAS_TRANSPOSE::CblasNoTrans);
    let uplo = if stored_lower {
        CBLAS_UPLO::CblasLower
    } else {
        CBLAS_UPLO::CblasUpper
    };
    let diag = if unit {
        CBLAS_DIAG::CblasUnit
    } else {
        CBLAS_DIAG::CblasNonUnit
    };
    let bp = b.as_mut_ptr();
    // SAFETY: A is readable in place with its order and leading dimension, B writable in place
    // (both checked by `strided`); dimensions fit i32 (checked at the boundary); B is exclusively
    // borrowed and cannot alias A.
    openblas::with_threads(threads, || unsafe {
        T::trsm(
            lb.order.cblas(),
            CBLAS_SIDE::CblasLeft,
            uplo,
            ta,
            diag,
            n as i32,
            r as i32,
            T::one(),
            a.ptr(),
            la.ld,
            bp,
            lb.ld,
        )
    });
    Ok(())
}
