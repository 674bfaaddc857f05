//! Cholesky `A = L Lᵀ`, recursive over the engine's GEMM and triangular solve.
//!
//! ```text
//! [A₁₁  . ]   L₁₁ = chol(A₁₁)                       (recursion)
//! [A₂₁ A₂₂]   L₂₁ = A₂₁ L₁₁⁻ᵀ                        (triangular solve, many right-hand sides)
//!             A₂₂ ← A₂₂ − L₂₁ L₂₁ᵀ                   (symmetric rank-k update: GEMMs)
//!             L₂₂ = chol(A₂₂)                        (recursion)
//! ```
//! Only the lower triangle is read or kept; blocks of order ≤ `FactorBlocks::cholesky` go to the engine's small
//! Cholesky (LAPACK `potrf` at one thread for `rayon-blas`, parla's unblocked kernel for
//! `rayon`).

use ndarray::{s, Array2, ArrayView2, ArrayViewMut2};

use crate::alloc::copy_in_order;
use crate::error::{Error, Result};
use crate::factor::split;
use crate::factor::triangular::trsm;
use crate::parallel::level3::Level3;
use crate::scalar::Scalar;

/// The lower Cholesky factor of square non-empty finite `a` (its lower triangle is read).
/// [`Error::NotPositiveDefinite`] with the index of the first failing pivot.
pub(crate) fn cholesky<T: Scalar>(
    op: &'static str,
    l3: &Level3,
    a: ArrayView2<T>,
) -> Result<Array2<T>> {
    // The recursion works on any layout, so the copy keeps A's memory order (a straight copy,
    // not a transposition) and the factor comes back in that order.
    let mut w = copy_in_order(op, a)?;
    factor(l3, op, &mut w.view_mut(), 0)?;
    // Zero the strict upper triangle along the contiguous direction.
    if w.strides()[0] == 1 {
        for (j, mut col) in w.columns_mut().into_iter().enumerate() {
            col.slice_mut(s![..j]).fill(T::zero());
        }
    } else {
        for (i, mut row) in w.rows_mut().into_iter().enumerate() {
            row.slice_mut(s![i + 1..]).fill(T::zero());
        }
    }
    Ok(w)
}

fn factor<T: Scalar>(
    l3: &Level3,
    op: &'static str,
    w: &mut ArrayViewMut2<T>,
    offset: usize,
) -> Result<()> {
    let n = w.nrows();
    if n <= l3.blocks.cholesky {
        return match l3.potrf_base(op, w)? {
            Some(j) => Err(Error::NotPositiveDefinite {
                op,
                index: offset + j,
            }),
            None => Ok(()),
        };
    }
    let n1 = split(n);
    let (mut w11, mut w21, mut w22) =
        w.multi_slice_mut((s![..n1, ..n1], s![n1.., ..n1], s![n1.., n1..]));
    factor(l3, op, &mut w11, offset)?;
    // L₂₁ = A₂₁ L₁₁⁻ᵀ  ⇔  L₂₁ᵀ = L₁₁⁻¹ A₂₁ᵀ.
    trsm(
        l3,
        op,
        true,
        false,
        w11.view(),
        &mut w21.view_mut().reversed_axes(),
    )?;
    syrk_lower(l3, op, w21.view(), &mut w22)?;
    factor(l3, op, &mut w22, offset + n1)
}

/// Lower triangle of `C ← C − A Aᵀ` for `A: n × k`, `C: n × n`.
fn syrk_lower<T: Scalar>(
    l3: &Level3,
    op: &'static str,
    a: ArrayView2<T>,
    c: &mut ArrayViewMut2<T>,
) -> Result<()> {
    let n = c.nrows();
    let minus = -T::one();
    if n <= l3.blocks.syrk {
        return l3.gemm(op, minus, a, a.t(), T::one(), c);
    }
    let n1 = split(n);
    let (mut c11, mut c21, mut c22) =
        c.multi_slice_mut((s![..n1, ..n1], s![n1.., ..n1], s![n1.., n1..]));
    let (a1, a2) = (a.slice(s![..n1, ..]), a.slice(s![n1.., ..]));
    syrk_lower(l3, op, a1, &mut c11)?;
    l3.gemm(op, minus, a2, a1.t(), T::one(), &mut c21)?;
    syrk_lower(l3, op, a2, &mut c22)
}

/// The lower Cholesky factor of square non-empty finite `w`, computed in place in `w` (any
/// layout; its lower triangle is read), the strict upper triangle zeroed: the `_into` variant.
pub(crate) fn cholesky_in_place<T: Scalar>(
    op: &'static str,
    l3: &Level3,
    w: &mut ArrayViewMut2<T>,
) -> Result<()> {
    factor(l3, op, w, 0)?;
    for (j, mut col) in w.columns_mut().into_iter().enumerate() {
        col.slice_mut(s![..j]).fill(T::zero());
    }
    Ok(())
}
