//! Cholesky `A = L Lᵀ` (`L Lᴴ` for complex Hermitian `A`, the same code over `Field`),
//! recursive over the engine's GEMM and triangular solve.
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
//!
//! With more than one worker and order above `4 × FactorBlocks::cholesky`, the outer level is a
//! right-looking loop over block columns of that width with a look-ahead of one step
//! (`look_ahead`): the next block column is updated and factored while the trailing matrix gets
//! the current step's rank-k update. Orders up to two steps (384) run on the calling
//! thread.

use ndarray::{s, Array2, ArrayView2, ArrayViewMut2};

use crate::error::{Error, Result};
use crate::factor::triangular::trsm;
use crate::factor::{gemmt_lower, split};
use crate::parallel::copy;
use crate::parallel::level3::Level3;
use crate::scalar::Field;

/// The lower Cholesky factor of square non-empty finite `a` (its lower triangle is read).
/// [`Error::NotPositiveDefinite`] with the index of the first failing pivot.
pub(crate) fn cholesky<T: Field>(
    op: &'static str,
    l3: &Level3,
    a: ArrayView2<T>,
) -> Result<Array2<T>> {
    // The recursion works on any layout, so the copy keeps A's memory order (a straight copy,
    // not a transposition) and the factor comes back in that order.
    let mut w = copy::copy_in_order(op, &l3.team, a)?;
    factor_in_place(l3, op, &mut w.view_mut())?;
    copy::zero_strict_upper(&l3.team, &mut w.view_mut());
    Ok(w)
}

/// Columns per step of the look-ahead Cholesky, as a multiple of the diagonal-block order
/// `FactorBlocks::cholesky`: 3 × 64 = 192 by default (a 256-column step made the 2-thread
/// `rayon-blas` factorization at n = 1024 7.9–9.0 ms against 6.7–7.3 ms at 192; Zen 5).
const STEP_BLOCKS: usize = 3;

/// Steps up to which the factorization runs on the calling thread: 2, i.e. orders ≤ 384 by
/// default. Measured with `cargo run --release -p parla-peers --example side_by_side -- 1 2 --
/// 128 256 512` (Zen 5 VM, 2 cores): two threads were slower than one at n = 256 and 512
/// (0.37 vs 0.28 ms, 1.69 vs 1.49 ms).
const SERIAL_STEPS: usize = 2;

/// Orders up to which engine `rayon` factors on the calling thread: below it no SYRK or trsm
/// of the recursion reaches the packed kernels' parallel threshold.
const PACKED_SERIAL_MAX: usize = 128;

/// Cholesky of `w` in place. Engine `rayon`: the recursion, whose packed SYRK / trsm
/// (`factor::gemmt_lower`, `factor::triangular`) run on the whole team. Engine `rayon-blas`: the
/// look-ahead driver when more than one worker can help, else the recursion alone.
fn factor_in_place<T: Field>(
    l3: &Level3,
    op: &'static str,
    w: &mut ArrayViewMut2<T>,
) -> Result<()> {
    let step = STEP_BLOCKS * l3.blocks.cholesky.max(1);
    if l3.packed_for::<T>() {
        // Engine `rayon`: the recursion alone; its packed SYRK and trsm split themselves
        // across the team once they are large enough.
        return if l3.team.threads() > 1 && w.nrows() > PACKED_SERIAL_MAX {
            l3.run(|| factor(l3, op, w, 0))
        } else {
            factor(&l3.serial(), op, w, 0)
        };
    }
    let serial_max = SERIAL_STEPS * step;
    if w.nrows() <= serial_max {
        // Too small for a second worker to pay for its hand-offs.
        factor(&l3.serial(), op, w, 0)
    } else if l3.team.threads() > 1 {
        l3.run(|| look_ahead(l3, op, w, step))
    } else {
        factor(l3, op, w, 0)
    }
}

/// Right-looking Cholesky in steps of `step` columns with a look-ahead of one step:
///
/// ```text
/// block column 0 factored: L₁₁ = chol(A₁₁) (recursion), L₂₁ = A₂₁ L₁₁⁻ᵀ;
/// for each step j, with L_j = [L_next; L_far] its factored block column below the diagonal:
///   in parallel:  next ← next − L_next [L_next; L_far]ᵀ, then factor the next block column
///                 far  ← far − L_far L_farᵀ (lower triangle; most of the flops)
/// ```
/// The next block column's factoring, sequential at its core, overlaps the big rank-`step`
/// update of the rest; rayon's work stealing hands the update's tasks to whichever worker is
/// free. The first failing pivot is still reported first: block columns are factored in order.
fn look_ahead<T: Field>(
    l3: &Level3,
    op: &'static str,
    w: &mut ArrayViewMut2<T>,
    step: usize,
) -> Result<()> {
    let n = w.nrows();
    let first = step.min(n);
    {
        let (mut d, mut b) = w.multi_slice_mut((s![..first, ..first], s![first.., ..first]));
        block_column(l3, op, &mut d, &mut b, 0)?;
    }
    let mut j = 0;
    let mut jb = first;
    while j + jb < n {
        let r = j + jb;
        let nw = step.min(n - r);
        let (l, mut next_d, mut next_b, mut far) = w.multi_slice_mut((
            s![r.., j..r],
            s![r..r + nw, r..r + nw],
            s![r + nw.., r..r + nw],
            s![r + nw.., r + nw..],
        ));
        let l = l.view();
        let (ln, lf) = (l.slice(s![..nw, ..]), l.slice(s![nw.., ..]));
        let (next, rest) = rayon::join(
            || -> Result<()> {
                // The critical path runs on this worker alone: split into tasks, a worker
                // busy with the far update could steal one and hold the block column up.
                let one = l3.serial();
                gemmt_lower(&one, op, ln, ln, &mut next_d)?;
                if next_b.nrows() > 0 {
                    one.gemm_adjoint(op, -T::one(), lf, ln, T::one(), &mut next_b)?;
                }
                block_column(&one, op, &mut next_d, &mut next_b, r)
            },
            || {
                if far.nrows() > 0 {
                    gemmt_lower(l3, op, lf, lf, &mut far)
                } else {
                    Ok(())
                }
            },
        );
        next?;
        rest?;
        j = r;
        jb = nw;
    }
    Ok(())
}

/// Factors an updated block column: `L_d = chol(d)` (recursion; its first failing pivot is
/// reported at `offset +` its index), then `b ← b L_d⁻ᵀ`.
fn block_column<T: Field>(
    l3: &Level3,
    op: &'static str,
    d: &mut ArrayViewMut2<T>,
    b: &mut ArrayViewMut2<T>,
    offset: usize,
) -> Result<()> {
    factor(l3, op, d, offset)?;
    if b.nrows() == 0 {
        return Ok(());
    }
    // b L⁻ᴴ  ⇔  (L⁻¹ bᴴ)ᴴ.
    trsm_adjoint(l3, op, d.view(), b)
}

/// `b ← b L⁻ᴴ` (`b L⁻ᵀ` for real types) for lower-triangular `L`: `(L⁻¹ bᴴ)ᴴ`, the
/// conjugations (complex types only) done in place around a solve on `bᵀ`.
fn trsm_adjoint<T: Field>(
    l3: &Level3,
    op: &'static str,
    l: ArrayView2<T>,
    b: &mut ArrayViewMut2<T>,
) -> Result<()> {
    let conj = |b: &mut ArrayViewMut2<T>| {
        if T::IS_COMPLEX {
            b.map_inplace(|v| *v = v.conj());
        }
    };
    conj(b);
    trsm(l3, op, true, false, l, &mut b.view_mut().reversed_axes())?;
    conj(b);
    Ok(())
}

fn factor<T: Field>(
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
    // L₂₁ = A₂₁ L₁₁⁻ᴴ.
    trsm_adjoint(l3, op, w11.view(), &mut w21)?;
    gemmt_lower(l3, op, w21.view(), w21.view(), &mut w22)?;
    factor(l3, op, &mut w22, offset + n1)
}

/// The lower Cholesky factor of square non-empty finite `w`, computed in place in `w` (any
/// layout; its lower triangle is read), the strict upper triangle zeroed: the `_into` variant.
pub(crate) fn cholesky_in_place<T: Field>(
    op: &'static str,
    l3: &Level3,
    w: &mut ArrayViewMut2<T>,
) -> Result<()> {
    factor_in_place(l3, op, w)?;
    copy::zero_strict_upper(&l3.team, w);
    Ok(())
}
