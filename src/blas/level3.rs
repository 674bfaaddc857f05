//! Level 3 BLAS on the `blas` engine: `gemm`.

use ndarray::{Array2, ArrayView2, ArrayViewMut2};

use crate::blas::layout::{matrix_layout, readable_matrix, to_fortran};
use crate::error::Result;
use crate::scalar::Scalar;
use crate::threads::openblas;
use crate::validate::zeros_f;

/// `C ← α A B + β C` for non-empty `A: m × k`, `B: k × n`, `C: m × n` (`k ≥ 1`).
///
/// Transposes are expressed by passing transposed views; operands that BLAS can read in place
/// are not copied. With `β = 0`, `C` is overwritten: OpenBLAS then never reads it.
pub(crate) fn gemm<T: Scalar>(
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
        c.assign(&tmp);
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
