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
use crate::parallel::level3::{Level3, MIN_RHS_PER_THREAD};
use crate::parallel::Kernels;
use crate::scalar::{typed, ComplexScalar, Field, Scalar};

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

/// Right-hand sides up to which [`solve_in_place`] solves on engine `rayon` one column at a
/// time, each in one pass over the triangle (parla's `trsv`; complex: substitution), instead of
/// the recursion [`trsm`]: only one. Every further column is another pass over the triangle,
/// where the recursion's GEMMs read it once for all of them. Zen 3, n = 1024, medians of 9–21:
/// f64, row-major lower triangle (1 and 2 threads), one column 0.38–0.46 ms against 0.62–0.64
/// by the recursion, 4 columns 0.90–0.97 against 0.66–0.68, 16 columns 3.2 against 0.91–0.96;
/// `LuFactor<f64>::solve` (2 threads) with 4 columns 1.22 → 0.89 ms, 16 columns 4.9–5.7 →
/// 1.5–1.6 ms when this limit went from 31 to 1. Complex (c64, 2 threads): the column-major
/// factor of `LuFactor::solve`, one column 1.1 ms against 4.4, 4 columns 4.4 against 5.9, 16
/// columns 17.5 against 9.5; a row-major triangle (`solve_triangular`, whose substitution walks
/// strided columns), one column 2.9 against 3.0, 4 columns 11 against 2.0–2.6.
const ONE_PASS_MAX_RHS: usize = 1;

/// Order from which [`solve_in_place`] on engine `rayon` gives each worker its own block of
/// the right-hand sides (at least [`SPLIT_RHS_MIN_PER_THREAD`] columns each, fewer than
/// [`MIN_RHS_PER_THREAD`] in all), each solved by the one-thread recursion, instead of one
/// recursion whose GEMMs split the rows of a few-column update between the workers.
/// `LuFactor<f64>::solve` on two threads (Zen 3, medians of 21, three alternations): n = 1024
/// with 8 columns 1.18–1.28 → 0.93–0.98 ms, with 24 columns 1.81–1.97 → 1.28–1.61 ms; but
/// with 4 columns, and at n = 384 or 512, one way or the other by run; `solve_triangular` of
/// order 1024 (row-major A and B, 16 columns) 0.94–1.08 → 0.80–1.08 ms, inside the noise.
const SPLIT_RHS_MIN_ORDER: usize = 1024;

/// Columns per worker from which [`solve_in_place`] splits the right-hand sides (see
/// [`SPLIT_RHS_MIN_ORDER`]).
const SPLIT_RHS_MIN_PER_THREAD: usize = 4;

/// Whether [`solve_in_place`] with `r` right-hand sides runs on the calling thread alone on
/// an engine with these kernels (one pass over the triangle on `rayon`, one OpenBLAS `trsm`
/// call on `rayon-blas`).
pub(crate) fn solves_serially(kernels: &Kernels, r: usize) -> bool {
    match kernels {
        Kernels::Native(_) => r <= ONE_PASS_MAX_RHS,
        Kernels::OpenBlas => r < MIN_RHS_PER_THREAD,
    }
}

/// `B ← A⁻¹B` for triangular `A`, in place, for the solves of the factor objects and
/// `solve_triangular` (callers check singularity and subnormal diagonals): on engine `rayon`,
/// one pass over the triangle for a single right-hand side ([`ONE_PASS_MAX_RHS`]); on
/// `rayon-blas`, single-threaded OpenBLAS `trsm` for fewer than [`MIN_RHS_PER_THREAD`]
/// columns, as `getrs` does; otherwise the recursion [`trsm`] over the engine's GEMM, on
/// `rayon` from [`SPLIT_RHS_MIN_ORDER`] one recursion per worker on its own columns.
pub(crate) fn solve_in_place<T: Field>(
    l3: &Level3,
    op: &'static str,
    lower: bool,
    unit: bool,
    a: ArrayView2<T>,
    x: &mut ArrayViewMut2<T>,
) -> Result<()> {
    if !solves_serially(&l3.kernels, x.ncols()) {
        let threads = l3.team.threads();
        if matches!(l3.kernels, Kernels::Native(_))
            && threads > 1
            && a.nrows() >= SPLIT_RHS_MIN_ORDER
            && x.ncols() >= SPLIT_RHS_MIN_PER_THREAD * threads
            && x.ncols() < MIN_RHS_PER_THREAD
        {
            // Each worker runs the whole recursion on its own block of columns.
            let serial = l3.serial();
            return l3.split_columns(SPLIT_RHS_MIN_PER_THREAD, x, |mut blk| {
                trsm(&serial, op, lower, unit, a, &mut blk)
            });
        }
        return trsm(l3, op, lower, unit, a, x);
    }
    match l3.kernels {
        Kernels::Native(_) => {
            one_pass(lower, unit, a, x.view_mut());
            Ok(())
        }
        Kernels::OpenBlas => l3.trsm_base(op, lower, unit, a, x),
    }
}

typed! {
    /// `B ← A⁻¹ B` on the calling thread, one column at a time in one pass over the triangle
    /// each: parla's `trsv` (real) or substitution (complex).
    fn one_pass<'l, T>(lower: bool, unit: bool, a: ArrayView2<'l, T>, x: ArrayViewMut2<'l, T>) -> () {
        real => kernels::trsv::trsv_columns(lower, unit, a, &mut { x }),
        complex => kernels::complex::trsm_left(lower, unit, a, &mut { x }),
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
    solve_in_place(l3, op, lower, unit, view, &mut x.view_mut())?;
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
    solve_in_place(l3, op, lower, unit, view, &mut x.view_mut())?;
    Ok(x)
}
