//! Triangular solve with many right-hand sides, recursive over the engine's GEMM.
//!
//! For lower `A = [A₁₁ 0; A₂₁ A₂₂]`: `X₁ = A₁₁⁻¹B₁`, then `B₂ ← B₂ − A₂₁X₁` (one GEMM), then
//! `X₂ = A₂₂⁻¹B₂`; upper runs the same steps bottom-up. Blocks of order ≤ `FactorBlocks::trsm` go to the
//! engine's small solve, which splits the right-hand sides across threads; on engine `rayon`
//! blocks of order ≤ [`PACKED_MAX`] (above that base) go to the packed micro-kernel solve.
//! Complex types run the same recursion: off-diagonal updates on the
//! engine's complex GEMM, diagonal blocks by complex substitution.

use ndarray::{s, Array2, ArrayView2, ArrayViewMut2, Axis};

use crate::alloc::zeros_f;
use crate::decomp::{Diag, Trans, Uplo};
use crate::error::{Error, Result};
use crate::factor::split;
use crate::kernels;
use crate::parallel::copy;
use crate::parallel::level3::Level3;
use crate::scalar::{ComplexScalar, Field, Scalar};

/// Orders up to which engine `rayon` solves in one packed micro-kernel solve
/// (`parallel::gemm::packed`) instead of recursing: larger ones are split so the
/// off-diagonal GEMMs get their KC-blocked loops.
const PACKED_MAX: usize = 256;

/// `B ← A⁻¹B` in place, `A: n × n` triangular (`lower` or upper; `unit` diagonal or not; any
/// strides), `B: n × r`. A zero diagonal divides by zero: callers check singularity first.
pub(crate) fn trsm<T: Field>(
    l3: &Level3,
    op: &'static str,
    lower: bool,
    unit: bool,
    a: ArrayView2<T>,
    b: &mut ArrayViewMut2<T>,
) -> Result<()> {
    let n = a.nrows();
    if n <= l3.blocks.trsm {
        return l3.trsm_base(op, lower, unit, a, b);
    }
    if l3.packed_for::<T>() && n <= PACKED_MAX {
        return if lower {
            l3.trsm_lower_packed(op, unit, a, b)
        } else {
            // Upper: the same solve with rows and columns taken in reverse order.
            l3.trsm_lower_packed(
                op,
                unit,
                a.slice(s![..;-1, ..;-1]),
                &mut b.slice_mut(s![..;-1, ..]),
            )
        };
    }
    let n1 = split(n);
    let (mut b1, mut b2) = b.view_mut().split_at(Axis(0), n1);
    let (a11, a22) = (a.slice(s![..n1, ..n1]), a.slice(s![n1.., n1..]));
    let minus = -T::one();
    if lower {
        trsm(l3, op, lower, unit, a11, &mut b1)?;
        l3.gemm(
            op,
            minus,
            a.slice(s![n1.., ..n1]),
            b1.view(),
            T::one(),
            &mut b2,
        )?;
        trsm(l3, op, lower, unit, a22, &mut b2)
    } else {
        trsm(l3, op, lower, unit, a22, &mut b2)?;
        l3.gemm(
            op,
            minus,
            a.slice(s![..n1, n1..]),
            b2.view(),
            T::one(),
            &mut b1,
        )?;
        trsm(l3, op, lower, unit, a11, &mut b1)
    }
}

/// `op(A) X = B` for square non-empty `A` and `B: n × r` (the public `solve_triangular` on a
/// rayon engine). [`Error::Singular`] with the first zero diagonal entry (non-unit diagonal).
pub(crate) fn solve_triangular<T: Scalar>(
    op: &'static str,
    l3: &Level3,
    a: ArrayView2<T>,
    b: ArrayView2<T>,
    uplo: Uplo,
    trans: Trans,
    diag: Diag,
) -> Result<Array2<T>> {
    let unit = diag == Diag::Unit;
    if !unit {
        if let Some(pivot) = a.diag().iter().position(|&d| d == T::zero()) {
            return Err(Error::Singular { op, pivot });
        }
    }
    // X starts as a copy of B in B's own memory order (one straight copy, split over the
    // team): the recursion and the packed solve take either layout, where a column-major
    // copy of a row-major B was an element-wise transposing walk (17 % of a 2-thread solve
    // with 1024 right-hand sides at n = 1024).
    let mut x = copy::copy_in_order(op, &l3.team, b)?;
    let (view, lower) = match trans {
        Trans::No => (a, uplo == Uplo::Lower),
        Trans::Yes | Trans::Conj => (a.t(), uplo == Uplo::Upper),
    };
    if !unit && crate::blas::has_subnormal_diagonal(&view) {
        // A subnormal diagonal entry: parts of the solution may overflow, where a GEMM update
        // of the blocked solve would turn 0·∞ into NaN (and OpenBLAS's base trsm multiplies by
        // the overflowing reciprocal). Such (rare) triangles are solved by plain substitution,
        // which divides and skips zero multipliers, as the `blas` engine does.
        kernels::triangular::trsm_left(lower, unit, view, &mut x.view_mut());
        return Ok(x);
    }
    trsm(l3, op, lower, unit, view, &mut x.view_mut())?;
    Ok(x)
}

/// The complex `op(A) X = B` for square non-empty `A` and `B: n × r` on a rayon engine: the
/// recursion [`trsm`] on `op(A)` (a conjugated copy for `Trans::Conj`, `n²` elements against
/// the solve's `n²r` flops). [`Error::Singular`] with the first zero diagonal entry (non-unit
/// diagonal), as the `blas` engine's `trtrs`.
pub(crate) fn solve_triangular_complex<C: ComplexScalar>(
    op: &'static str,
    l3: &Level3,
    a: ArrayView2<C>,
    b: ArrayView2<C>,
    uplo: Uplo,
    trans: Trans,
    diag: Diag,
) -> Result<Array2<C>> {
    let unit = diag == Diag::Unit;
    if !unit {
        if let Some(pivot) = a.diag().iter().position(|&d| d == C::zero()) {
            return Err(Error::Singular { op, pivot });
        }
    }
    let n = a.nrows();
    let mut x = copy::copy_in_order(op, &l3.team, b)?;
    let conj;
    let (view, lower) = match trans {
        Trans::No => (a, uplo == Uplo::Lower),
        Trans::Yes => (a.t(), uplo == Uplo::Upper),
        Trans::Conj => {
            let mut c = zeros_f(op, n, n)?;
            c.zip_mut_with(&a.t(), |d, s| *d = s.conj());
            conj = c;
            (conj.view(), uplo == Uplo::Upper)
        }
    };
    trsm(l3, op, lower, unit, view, &mut x.view_mut())?;
    Ok(x)
}
