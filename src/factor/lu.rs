//! LU with partial pivoting `P A = L U`, recursive over columns, on the engine's GEMM and
//! triangular solve; and `solve` / `inv` from it.
//!
//! ```text
//! [A₁ | A₂]  (columns split in two)
//!   P₁ A₁ = [L₁₁; L₂₁] U₁₁           (recursion on the left half: the pivots are chosen here)
//!   A₂ ← P₁ A₂                       (apply the left half's row interchanges)
//!   U₁₂ = L₁₁⁻¹ A₂[top]              (unit-lower triangular solve)
//!   A₂[bottom] ← A₂[bottom] − L₂₁ U₁₂ (one GEMM: most of the flops)
//!   P₂ A₂[bottom] = L₂₂ U₂₂          (recursion on the right half)
//!   L₂₁ ← P₂ L₂₁                     (apply the right half's interchanges to the left)
//! ```
//! Panels of at most [`BASE`] columns go to the engine's panel LU (LAPACK `getrf2` at one
//! thread for `rayon-blas`, parla's kernel for `rayon`). The pivots, the zero-pivot report and
//! the overflow handling (exact power-of-two row equilibration, `LuPacked::row_exp`) are those
//! of the `blas` engine.

use ndarray::{s, Array2, ArrayView2, ArrayViewMut2, Axis};

use crate::alloc::zeros_f;
use crate::decomp::LuPacked;
use crate::error::{Error, Result};
use crate::factor::split;
use crate::factor::triangular::trsm;
use crate::kernels;
use crate::parallel::level3::Level3;
use crate::real::{equilibration_exponents, times_pow2};
use crate::scalar::Scalar;

/// Columns at which the recursion stops and the panel kernel factors the block.
pub(crate) const BASE: usize = 32;

/// Factors a non-empty `m × n` matrix (see [`LuPacked`]); the first zero pivot, if any, is
/// returned beside the factors. With `equilibrate`, a factorization that overflows from finite
/// input is redone on `D·A` with exact power-of-two row scaling recorded in `row_exp`.
pub(crate) fn factor<T: Scalar>(
    op: &'static str,
    l3: &Level3,
    a: ArrayView2<T>,
    equilibrate: bool,
) -> Result<(LuPacked<T>, Option<usize>)> {
    let (m, n) = a.dim();
    let mut lu = zeros_f(op, m, n)?;
    lu.assign(&a);
    let mut swaps = vec![0; m.min(n)];
    let mut zero = recurse(l3, op, &mut lu.view_mut(), &mut swaps)?;
    let mut row_exp = Vec::new();
    if equilibrate && lu.iter().any(|x| !x.is_finite()) {
        row_exp = equilibration_exponents(&a);
        lu.assign(&a);
        for (mut row, &e) in lu.rows_mut().into_iter().zip(&row_exp) {
            row.map_inplace(|x| *x = times_pow2(*x, e));
        }
        zero = recurse(l3, op, &mut lu.view_mut(), &mut swaps)?;
    }
    Ok((LuPacked { lu, swaps, row_exp }, zero))
}

fn recurse<T: Scalar>(
    l3: &Level3,
    op: &'static str,
    a: &mut ArrayViewMut2<T>,
    swaps: &mut [usize],
) -> Result<Option<usize>> {
    let (m, n) = a.dim();
    let k = m.min(n);
    if k == 0 {
        return Ok(None);
    }
    if n <= BASE || k == 1 {
        return l3.getrf_base(op, a, swaps);
    }
    let n1 = split(k);
    let (mut left, mut right) = a.view_mut().split_at(Axis(1), n1);
    let z1 = recurse(l3, op, &mut left, &mut swaps[..n1])?;
    apply_swaps(&mut right, &swaps[..n1], 0);
    {
        let (mut top, mut bottom) = right.view_mut().split_at(Axis(0), n1);
        trsm(l3, op, true, true, left.slice(s![..n1, ..]), &mut top)?;
        l3.gemm(
            op,
            -T::one(),
            left.slice(s![n1.., ..]),
            top.view(),
            T::one(),
            &mut bottom,
        )?;
    }
    let z2 = recurse(
        l3,
        op,
        &mut right.slice_mut(s![n1.., ..]),
        &mut swaps[n1..k],
    )?;
    for p in &mut swaps[n1..k] {
        *p += n1;
    }
    apply_swaps(&mut left, &swaps[n1..k], n1);
    Ok(z1.or(z2.map(|z| z + n1)))
}

/// Interchanges row `offset + i` with row `swaps[i]`, in order.
fn apply_swaps<T: Scalar>(a: &mut ArrayViewMut2<T>, swaps: &[usize], offset: usize) {
    for (i, &p) in swaps.iter().enumerate() {
        let i = i + offset;
        if p != i {
            for mut col in a.axis_iter_mut(Axis(1)) {
                col.swap(i, p);
            }
        }
    }
}

/// Solves `A X = B` for square non-singular `A` (n ≥ 1) and `B: n × r`.
pub(crate) fn solve<T: Scalar>(
    op: &'static str,
    l3: &Level3,
    a: ArrayView2<T>,
    b: ArrayView2<T>,
) -> Result<Array2<T>> {
    let (lu, zero) = factor(op, l3, a, true)?;
    if let Some(pivot) = zero {
        return Err(Error::Singular { op, pivot });
    }
    let (n, r) = b.dim();
    let mut x = zeros_f(op, n, r)?;
    x.assign(&b);
    if r == 0 {
        return Ok(x);
    }
    // (D·A) x = D·b has the same solution.
    for (mut row, &e) in x.rows_mut().into_iter().zip(&lu.row_exp) {
        row.map_inplace(|v| *v = times_pow2(*v, e));
    }
    apply_swaps(&mut x.view_mut(), &lu.swaps, 0);
    // A subnormal pivot: its reciprocal overflows (OpenBLAS's trsm multiplies by reciprocals)
    // and parts of the solution may overflow, where a GEMM update would turn 0·∞ into NaN. Such
    // (rare) factors are solved by plain substitution, which divides and skips zero
    // multipliers, as the `blas` engine does.
    let tiny = |d: &T| *d != T::zero() && d.abs() < T::min_positive_value();
    if lu.lu.diag().iter().any(tiny) {
        kernels::triangular::trsm_left(true, true, lu.lu.view(), &mut x.view_mut());
        kernels::triangular::trsm_left(false, false, lu.lu.view(), &mut x.view_mut());
        return Ok(x);
    }
    trsm(l3, op, true, true, lu.lu.view(), &mut x.view_mut())?;
    trsm(l3, op, false, false, lu.lu.view(), &mut x.view_mut())?;
    Ok(x)
}

/// `A⁻¹` for square non-singular `A` (n ≥ 1): [`solve`] with the identity.
pub(crate) fn inv<T: Scalar>(op: &'static str, l3: &Level3, a: ArrayView2<T>) -> Result<Array2<T>> {
    let n = a.nrows();
    let mut eye = zeros_f(op, n, n)?;
    eye.diag_mut().fill(T::one());
    solve(op, l3, a, eye.view())
}
