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
//! Panels of at most `FactorBlocks::lu` columns go to the engine's panel LU (LAPACK `getrf2` at one
//! thread for `rayon-blas`, parla's kernel for `rayon`). The pivots, the zero-pivot report and
//! the overflow handling (exact power-of-two row equilibration, `LuPacked::row_exp`) are those
//! of the `blas` engine.
//!
//! With more than one worker and more than one step of columns, the outer level is a
//! right-looking loop in steps of `STEP_PANELS × FactorBlocks::lu` columns (the first one
//! narrower) with a look-ahead of one step (`look_ahead`): the next step's panel is updated
//! and factored (by the recursion above) while the rest of the matrix gets the current step's
//! update, so the panels — sequential at their core — overlap the big GEMMs. Row interchanges
//! are applied a column at a time (all of a step's swaps while the column is in cache), split
//! over blocks of columns; the `L` columns left of a step get its interchanges during that
//! step, beside the critical path. Orders up to two steps (256) run on the calling thread.

use ndarray::{s, Array2, ArrayView2, ArrayViewMut2, Axis, Zip};
use rayon::prelude::*;

use crate::alloc::{assign_2d, transposed_if_row_major, zeros_f};
use crate::decomp::{LuPacked, Trans};
use crate::error::{Error, Result};
use crate::factor::triangular::trsm;
use crate::factor::{factored, split};
use crate::kernels::cols4::prefetch;
use crate::parallel::level3::Level3;
use crate::parallel::{copy, transpose, Kernels};
use crate::real::{equilibration_exponents, times_pow2};
use crate::scalar::{ComplexScalar, Field, Scalar};

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
    let mut lu = copy_to_columns(op, l3, a)?;
    let mut swaps = vec![0; m.min(n)];
    let mut zero = lu_in_place(l3, op, &mut lu.view_mut(), &mut swaps)?;
    let mut row_exp = Vec::new();
    if equilibrate && !copy::all_finite(&l3.team, lu.view()) {
        row_exp = equilibration_exponents(&a);
        assign_2d(&mut lu.view_mut(), a.view());
        for (mut row, &e) in lu.rows_mut().into_iter().zip(&row_exp) {
            row.map_inplace(|x| *x = times_pow2(*x, e));
        }
        zero = lu_in_place(l3, op, &mut lu.view_mut(), &mut swaps)?;
    }
    Ok((LuPacked { lu, swaps, row_exp }, zero))
}

/// Columns per step of the look-ahead LU, as a multiple of the panel width
/// `FactorBlocks::lu`: 8 × 16 = 128 by default.
const STEP_PANELS: usize = 8;

/// Columns of the look-ahead LU's first panel, as a multiple of `FactorBlocks::lu`:
/// 2 × 16 = 32 by default. Nothing overlaps the first panel's factoring, so it is narrower
/// than a step; the first step's far update, thinner for it, still covers the factoring of
/// the next (full) panel. Measured with `side_by_side 2 --ops=lu,solve` (Zen 3 VM, 2 cores;
/// together with the whole team taking the last step's critical path): cores busy at
/// n = 512 1.50 → 1.67, at 1024 1.71–1.75 → 1.79–1.83, at 2048 1.75–1.82 → 1.78–1.89, times
/// within the noise or better (512: 4.8–5.3 → 4.3–5.0 ms).
const FIRST_PANELS: usize = 2;

/// Steps (of `STEP_PANELS × FactorBlocks::lu` columns) up to which the factorization runs on
/// the calling thread: 2, i.e. orders ≤ 256 by default. Measured with
/// `cargo run --release -p parla-peers --example side_by_side -- 1 2 -- 128 256` (Zen 5 VM,
/// 2 cores): at n = 256 two threads were slower than one (LU + solve 0.48 vs 0.45 ms).
const SERIAL_STEPS: usize = 2;

/// Entries (rows × swaps) below which row interchanges are applied on one thread.
const PARALLEL_SWAP_MIN: usize = 1 << 16;

/// LU of `a` in place: the look-ahead driver when more than one worker can help, else the
/// recursion alone.
fn lu_in_place<T: Field>(
    l3: &Level3,
    op: &'static str,
    a: &mut ArrayViewMut2<T>,
    swaps: &mut [usize],
) -> Result<Option<usize>> {
    let k = a.nrows().min(a.ncols());
    let step = STEP_PANELS * l3.blocks.lu.max(1);
    if a.nrows().max(a.ncols()) <= SERIAL_STEPS * step {
        recurse(&l3.serial(), op, a, swaps)
    } else if l3.team.threads() > 1 && k > step {
        l3.run(|| look_ahead(l3, op, a, swaps, step))
    } else {
        recurse(l3, op, a, swaps)
    }
}

/// Right-looking LU in steps of `step` columns with a look-ahead of one step:
///
/// ```text
/// panel 0 (FIRST_PANELS × FactorBlocks::lu columns) factored (recursion);
/// for each step j:  [ before | L panel j | next | far ]
///   in parallel:  next ← P_j next, U, Schur update; factor next (recursion)   (the critical path)
///                 far  ← P_j far,  U, Schur update                           (most of the flops)
///                 before ← P_j before                 (the L columns of the earlier panels)
/// finally, the L columns before the last panel get its interchanges
/// ```
/// The factoring of the next panel, sequential at its core, overlaps the big update of the
/// rest; rayon's work stealing hands the update's tasks to whichever worker is free. In the
/// last steps the far update is small and a worker would wait for the critical path; the
/// earlier panels' interchanges fill that wait (they were one pass at the end, 0.5–1 ms of an
/// LU of order 1024 at 2 threads on the Zen 5 VM; cores busy 1.72 → 1.75 there, time within
/// the noise). In the last step there is no far update, and the critical path gets the whole
/// team.
fn look_ahead<T: Field>(
    l3: &Level3,
    op: &'static str,
    a: &mut ArrayViewMut2<T>,
    swaps: &mut [usize],
    step: usize,
) -> Result<Option<usize>> {
    let (m, n) = a.dim();
    let k = m.min(n);
    let first = (FIRST_PANELS * l3.blocks.lu.max(1)).min(step).min(k);
    let mut zero = recurse(
        l3,
        op,
        &mut a.slice_mut(s![.., ..first]),
        &mut swaps[..first],
    )?;
    let mut j = 0;
    let mut jb = first;
    while j + jb < n {
        let rest = j + jb;
        let next_w = if rest < k { step.min(k - rest) } else { 0 };
        let (left, right) = a.view_mut().split_at(Axis(1), rest);
        let (mut before, panel) = left.split_at(Axis(1), j);
        let panel = panel.slice_move(s![j.., ..]);
        let panel = panel.view();
        let (done, todo) = swaps.split_at_mut(rest);
        let piv = &done[j..];
        let (mut next, mut far) = right.split_at(Axis(1), next_w);
        // The critical path runs on this worker alone while there is a far update: split
        // into tasks, a worker busy with the far update could steal one and hold the panel
        // up. In the last step there is none, and the whole team takes the path.
        let path = if far.ncols() == 0 {
            l3.clone()
        } else {
            l3.serial()
        };
        let (zn, (rf, ())) = rayon::join(
            || -> Result<Option<usize>> {
                if next_w == 0 {
                    return Ok(None);
                }
                update(&path, op, panel, piv, j, &mut next)?;
                recurse(
                    &path,
                    op,
                    &mut next.slice_mut(s![rest.., ..]),
                    &mut todo[..next_w],
                )
            },
            || {
                rayon::join(
                    || update(l3, op, panel, piv, j, &mut far),
                    // The L columns before this panel get its interchanges now, beside the
                    // critical path: a worker left idle by a small far update takes them.
                    || interchange_rows(l3, &mut before, piv, j, false),
                )
            },
        );
        rf?;
        let zn = zn?;
        for p in &mut todo[..next_w] {
            *p += rest;
        }
        zero = zero.or(zn.map(|z| z + rest));
        j = rest;
        jb = next_w;
        if jb == 0 {
            break;
        }
    }
    // The L columns before the last panel get its interchanges (those of every earlier panel
    // were applied during the step that updated with it).
    if jb > 0 && j > 0 {
        let end = (j + jb).min(k);
        interchange_rows(l3, &mut a.slice_mut(s![.., ..j]), &swaps[j..end], j, false);
    }
    Ok(zero)
}

/// One step's update of the columns `c` (all `m` rows) by the factored panel `panel`
/// (rows `j..` of the step's columns, `jb` wide) with its interchanges `piv` (absolute rows):
/// `c ← P c`, `U₁₂ = L₁₁⁻¹ c[j..j+jb]`, `c[j+jb..] ← c[j+jb..] − L₂₁ U₁₂`.
fn update<T: Field>(
    l3: &Level3,
    op: &'static str,
    panel: ArrayView2<T>,
    piv: &[usize],
    j: usize,
    c: &mut ArrayViewMut2<T>,
) -> Result<()> {
    if c.ncols() == 0 {
        return Ok(());
    }
    let jb = panel.ncols();
    interchange_rows(l3, c, piv, j, false);
    let (mut top, mut bottom) = c.slice_mut(s![j.., ..]).split_at(Axis(0), jb);
    trsm(l3, op, true, true, panel.slice(s![..jb, ..]), &mut top)?;
    if bottom.nrows() > 0 {
        l3.gemm(
            op,
            -T::one(),
            panel.slice(s![jb.., ..]),
            top.view(),
            T::one(),
            &mut bottom,
        )?;
    }
    Ok(())
}

/// `a` in a column-major work array: a straight copy split over the team (into memory that is
/// not zero-filled first) when `a` is column-major too, else the engine's cache-blocked
/// transpose of `aᵀ` (walking a row-major `a` down its columns costs a cache miss per element),
/// split over the team.
fn copy_to_columns<T: Scalar>(
    op: &'static str,
    l3: &Level3,
    a: ArrayView2<T>,
) -> Result<Array2<T>> {
    let (m, n) = a.dim();
    if m > 1 && n > 1 && a.strides()[0] == 1 {
        // Kept column-major (`copy_in_order`'s rule for an array of more than one row and column).
        return copy::copy_in_order(op, &l3.team, a);
    }
    let mut lu = zeros_f(op, m, n)?;
    if m <= 1 || n <= 1 {
        assign_2d(&mut lu.view_mut(), a.view());
        return Ok(lu);
    }
    transpose::transpose(
        op,
        &l3.team,
        l3.kernels,
        a,
        &mut lu.view_mut().reversed_axes(),
    )?;
    Ok(lu)
}

fn recurse<T: Field>(
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
    if n <= l3.blocks.lu || k == 1 {
        return l3.getrf_base(op, a, swaps);
    }
    let n1 = split(k);
    let (mut left, mut right) = a.view_mut().split_at(Axis(1), n1);
    let z1 = recurse(l3, op, &mut left, &mut swaps[..n1])?;
    interchange_rows(l3, &mut right, &swaps[..n1], 0, false);
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
    interchange_rows(l3, &mut left, &swaps[n1..k], n1, false);
    Ok(z1.or(z2.map(|z| z + n1)))
}

/// Interchanges row `offset + i` with row `swaps[i]`, in order, or in reverse order (which
/// undoes it) with `reverse`; split over blocks of columns on the team when there is enough of
/// it, each block walked in memory order ([`apply_swaps`]).
pub(crate) fn interchange_rows<T: Field>(
    l3: &Level3,
    a: &mut ArrayViewMut2<T>,
    swaps: &[usize],
    offset: usize,
    reverse: bool,
) {
    let cols = a.ncols();
    let threads = l3.team.threads();
    if threads <= 1 || cols < 2 || cols * swaps.len() < PARALLEL_SWAP_MIN {
        apply_swaps(a, swaps, offset, reverse);
        return;
    }
    let width = cols.div_ceil(2 * threads).max(1);
    l3.team.install(|| {
        a.axis_chunks_iter_mut(Axis(1), width)
            .into_par_iter()
            .for_each(|mut blk| apply_swaps(&mut blk, swaps, offset, reverse));
    });
}

/// `f(offset + i, swaps[i])` for every `i`, in order or in reverse order.
#[inline(always)]
fn each_swap(swaps: &[usize], offset: usize, reverse: bool, mut f: impl FnMut(usize, usize)) {
    if reverse {
        swaps
            .iter()
            .enumerate()
            .rev()
            .for_each(|(i, &p)| f(i + offset, p));
    } else {
        swaps
            .iter()
            .enumerate()
            .for_each(|(i, &p)| f(i + offset, p));
    }
}

/// Interchanges row `offset + i` with row `swaps[i]`, in order (in reverse order with
/// `reverse`), walking memory in order: a column at a time (all its interchanges) when columns
/// are contiguous, else whole rows.
fn apply_swaps<T: Field>(a: &mut ArrayViewMut2<T>, swaps: &[usize], offset: usize, reverse: bool) {
    if swaps.is_empty() {
        return;
    }
    if a.strides()[0] == 1 && a.nrows() > 1 {
        let (m, n, cs) = (a.nrows(), a.ncols(), a.strides()[1]);
        let base = a.as_mut_ptr();
        // Elements per 64-byte cache line: one prefetch of the next column's rows i per line.
        let line = (64 / std::mem::size_of::<T>()).max(1);
        // SAFETY (both closures): column j < n of the exclusively borrowed view is m
        // contiguous elements from base + j·cs (unit row stride); distinct columns are
        // disjoint, and each column is borrowed mutably once.
        let column = |j: usize| unsafe { base.offset(j as isize * cs) };
        for j in 0..n {
            let c = unsafe { std::slice::from_raw_parts_mut(column(j), m) };
            if j + 1 < n {
                // The interchanges reach rows scattered over the column, a cache miss each
                // for the hardware prefetchers; bring the next column's rows in while this
                // one is swapped.
                let next = unsafe { std::slice::from_raw_parts(column(j + 1).cast_const(), m) };
                each_swap(swaps, offset, reverse, |i, p| {
                    prefetch(&next[p]);
                    if (i - offset).is_multiple_of(line) {
                        prefetch(&next[i]);
                    }
                    c.swap(i, p);
                });
            } else {
                each_swap(swaps, offset, reverse, |i, p| c.swap(i, p));
            }
        }
        return;
    }
    each_swap(swaps, offset, reverse, |i, p| {
        if p != i {
            let (mut ri, mut rp) = a.multi_slice_mut((s![i, ..], s![p, ..]));
            Zip::from(&mut ri).and(&mut rp).for_each(std::mem::swap);
        }
    });
}

/// Solves `A X = B` for square non-singular `A` (n ≥ 1) and `B: n × r`. A row-major `A` is
/// factored as the column-major `Aᵀ` it is in memory (a straight copy, no transposition; as the
/// `blas` engine does) and solved with the transposed factor; a singular `Aᵀ` is factored
/// again as `A` for `A`'s own first zero pivot. Few right-hand sides are solved in one pass
/// over each triangle ([`factored::lu_solve`]).
pub(crate) fn solve<T: Scalar>(
    op: &'static str,
    l3: &Level3,
    a: ArrayView2<T>,
    b: ArrayView2<T>,
) -> Result<Array2<T>> {
    let (target, transposed) = transposed_if_row_major(a);
    let (lu, transposed) = match factor(op, l3, target, true)? {
        (lu, None) => (lu, transposed),
        (_, Some(pivot)) if !transposed => return Err(Error::Singular { op, pivot }),
        // The two factors round differently: A's own verdict and pivot.
        (_, Some(_)) => match factor(op, l3, a, true)? {
            (lu, None) => (lu, false),
            (_, Some(pivot)) => return Err(Error::Singular { op, pivot }),
        },
    };
    let (n, r) = b.dim();
    let mut x = zeros_f(op, n, r)?;
    assign_2d(&mut x.view_mut(), b.view());
    let tiny = factored::tiny_diagonal(lu.lu.view());
    let trans = if transposed { Trans::Yes } else { Trans::No };
    factored::lu_solve(op, l3, &lu, tiny, &mut x.view_mut(), trans)?;
    Ok(x)
}

/// `x ← U⁻¹ L⁻¹ x` for the packed factors `lu` (the interchanges applied to `x` already).
fn substitute<T: Field>(
    l3: &Level3,
    op: &'static str,
    lu: ArrayView2<T>,
    x: &mut ArrayViewMut2<T>,
) -> Result<()> {
    trsm(l3, op, true, true, lu, x)?;
    trsm(l3, op, false, false, lu, x)
}

/// The `n × n` identity, column-major: the right-hand side of `inv`.
fn identity<T: Field>(op: &'static str, n: usize) -> Result<Array2<T>> {
    let mut eye = zeros_f(op, n, n)?;
    eye.diag_mut().fill(T::one());
    Ok(eye)
}

/// Columns per block of `L⁻¹` in [`inv`]: each block is one triangular solve with this many
/// right-hand sides on the trailing triangle. Wider blocks make fewer, wider solves but redo the
/// zero upper part of their diagonal block (about `1.5 · INV_BLOCK / n` more work).
const INV_BLOCK: usize = 128;

/// `A⁻¹` for square non-singular `A` (n ≥ 1), from the factor of `A` (of `Aᵀ` when `A` is
/// row-major, see below), `P (D A) = L U` (`D` the equilibration's row scaling, else `I`), as
/// LAPACK's `getri` counts its work: `A⁻¹ = U⁻¹ L⁻¹ P D`.
/// - `L⁻¹` by block columns, each a triangular solve on the trailing triangle only, since the
///   inverse is lower triangular (`n³/3` multiply-adds), the block columns spread over the team;
/// - `U⁻¹ L⁻¹`: one triangular solve with `n` right-hand sides, `n³`;
/// - `P D`: the interchanges as column swaps in reverse order, then column `j` times `D[j]`.
///
/// Solving `A X = I` instead (`L` then `U` against the identity) took `2 n³`. A factor with a
/// subnormal pivot takes that path still, by plain substitution (see [`solve`]). (Solving
/// `A X = I` with the transposed factor of a row-major `A`, as [`solve`] does for its right-hand
/// sides, made the triangular solves 1.1–1.3× slower: side by side, n = 1024 / 2048, Zen 3.)
///
/// A row-major `A` is inverted as the column-major `Aᵀ` it is in memory, `A⁻¹ = ((Aᵀ)⁻¹)ᵀ`
/// returned row-major (as the `blas` engine does): a straight copy into the work array instead
/// of a transposing one, which was 3 % of a one-thread inverse of order 1024 (`perf`, Zen 3).
/// A singular `Aᵀ` is inverted again as `A`, for `A`'s own verdict and first zero pivot.
pub(crate) fn inv<T: Scalar>(op: &'static str, l3: &Level3, a: ArrayView2<T>) -> Result<Array2<T>> {
    let (target, transposed) = transposed_if_row_major(a);
    match inv_of(op, l3, target) {
        Ok(x) if transposed => Ok(x.reversed_axes()),
        Err(Error::Singular { .. }) if transposed => inv_of(op, l3, a),
        r => r,
    }
}

/// [`inv`] of `a` as it is (its own factor).
fn inv_of<T: Scalar>(op: &'static str, l3: &Level3, a: ArrayView2<T>) -> Result<Array2<T>> {
    let n = a.nrows();
    let (lu, zero) = factor(op, l3, a, true)?;
    if let Some(pivot) = zero {
        return Err(Error::Singular { op, pivot });
    }
    let tiny = factored::tiny_diagonal(lu.lu.view());
    if !tiny && n <= INV_UNBLOCKED_MAX && matches!(l3.kernels, Kernels::Native(_)) {
        return Ok(inv_unblocked(lu));
    }
    let mut x = identity(op, n)?;
    if tiny {
        factored::lu_solve(op, l3, &lu, true, &mut x.view_mut(), Trans::No)?;
        return Ok(x);
    }
    let f = lu.lu.view();
    // The block columns of L⁻¹ are independent: one task each, on one worker each, largest
    // (leftmost) first. (A one-thread team runs them in turn on the calling thread: a parallel
    // iterator there would run on whatever pool the caller is in.)
    let one = l3.serial();
    let block = |(b, mut xb): (usize, ArrayViewMut2<T>)| {
        let j0 = b * INV_BLOCK;
        trsm(
            &one,
            op,
            true,
            true,
            f.slice(s![j0.., j0..]),
            &mut xb.slice_mut(s![j0.., ..]),
        )
    };
    let blocks = x.axis_chunks_iter_mut(Axis(1), INV_BLOCK).enumerate();
    if l3.team.threads() > 1 {
        let blocks: Vec<_> = blocks.collect();
        l3.run(|| blocks.into_par_iter().with_max_len(1).try_for_each(block))?;
    } else {
        for b in blocks {
            block(b)?;
        }
    }
    trsm(l3, op, false, false, f, &mut x.view_mut())?;
    for (i, &p) in lu.swaps.iter().enumerate().rev() {
        if p != i {
            let (mut ci, mut cp) = x.multi_slice_mut((s![.., i], s![.., p]));
            Zip::from(&mut ci).and(&mut cp).for_each(std::mem::swap);
        }
    }
    for (mut col, &e) in x.columns_mut().into_iter().zip(&lu.row_exp) {
        col.map_inplace(|v| *v = times_pow2(*v, e));
    }
    Ok(x)
}

/// Largest order whose inverse the `rayon` engine computes in place from the factor, column by
/// column ([`inv_unblocked`]), instead of by the blocked triangular solves against the
/// identity: at these orders those solves' fixed costs (the identity, copies of the triangle
/// and of groups of right-hand sides) outweigh the arithmetic. One call, one thread, Zen 5 VM
/// (`cargo run --release --example` of a loop of `Exec::inv`, two alternating runs, µs per
/// call, blocked → unblocked): n = 8 1.3–1.4 → 0.8–0.9, 16 2.8–4.1 → 2.1–2.2, 32 13.5–19.4
/// → 8.7–9.3, 48 43–53 → 22–23, 64 43–46 → 30, 96 118–131 → 94–109; at 128 the unblocked
/// form was slower (205–235 against 168–224).
pub(crate) const INV_UNBLOCKED_MAX: usize = 96;

/// `A⁻¹` in place in the factor `P (D A) = L U` of a small square `A` with no zero or subnormal
/// pivot, as LAPACK's unblocked `getri` does it: `U⁻¹` column by column (each column the
/// product of the inverted leading triangle and the column, scaled by the negated inverse
/// pivot), then for each column `j` from the last, `X[:, j] ← X[:, j] − X[:, j+1..] L[j+1.., j]`
/// (which solves `X L = U⁻¹`), then the interchanges as column swaps in reverse order and
/// column `j` times `D[j]`. Every inner loop runs down a contiguous column.
fn inv_unblocked<T: Scalar>(lu: LuPacked<T>) -> Array2<T> {
    let LuPacked {
        lu: mut w,
        swaps,
        row_exp,
    } = lu;
    let n = w.nrows();
    debug_assert!(n <= 1 || w.strides()[0] == 1, "the factor is column-major");
    let x = w
        .as_slice_memory_order_mut()
        .expect("the factor is a whole column-major array");
    inverse_in_place(x, n);
    for (i, &p) in swaps.iter().enumerate().rev() {
        if p != i {
            let (mut ci, mut cp) = w.multi_slice_mut((s![.., i], s![.., p]));
            Zip::from(&mut ci).and(&mut cp).for_each(std::mem::swap);
        }
    }
    for (mut col, &e) in w.columns_mut().into_iter().zip(&row_exp) {
        col.map_inplace(|v| *v = times_pow2(*v, e));
    }
    w
}

/// [`inv_unblocked`]'s arithmetic on the column-major `n × n` factor `x`, compiled for the
/// widest vectors this CPU has (as `kernels::triangular` does).
fn inverse_in_place<T: Scalar>(x: &mut [T], n: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: this CPU has AVX-512F.
            return unsafe { inverse_in_place_avx512(x, n) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: this CPU has AVX2.
            return unsafe { inverse_in_place_avx2(x, n) };
        }
    }
    inverse_in_place_body(x, n)
}

/// [`inverse_in_place_body`] compiled for AVX-512F.
///
/// # Safety
/// The CPU must have AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn inverse_in_place_avx512<T: Scalar>(x: &mut [T], n: usize) {
    inverse_in_place_body(x, n)
}

/// [`inverse_in_place_body`] compiled for AVX2.
///
/// # Safety
/// The CPU must have AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn inverse_in_place_avx2<T: Scalar>(x: &mut [T], n: usize) {
    inverse_in_place_body(x, n)
}

/// `y[i] ← y[i] + Σ_q t[q]·a_q[i]` over `y`'s length, four columns per pass so `y` is read
/// and written once for four of them.
#[inline(always)]
fn axpy4<T: Scalar>(y: &mut [T], t: [T; 4], a: [&[T]; 4]) {
    let len = y.len();
    let (a0, a1, a2, a3) = (&a[0][..len], &a[1][..len], &a[2][..len], &a[3][..len]);
    for i in 0..len {
        y[i] = y[i] + t[0] * a0[i] + t[1] * a1[i] + t[2] * a2[i] + t[3] * a3[i];
    }
}

#[inline(always)]
fn inverse_in_place_body<T: Scalar>(x: &mut [T], n: usize) {
    let mut y = vec![T::zero(); n];
    // U⁻¹, column by column: column j above the diagonal is −U⁻¹[..j, ..j] U[..j, j] / U[j, j]
    // with U⁻¹[..j, ..j] already in place (an upper triangular product, four columns a pass).
    for j in 0..n {
        let d = T::one() / x[j * n + j];
        x[j * n + j] = d;
        let (left, right) = x.split_at_mut(j * n);
        let t = &right[..j];
        let y = &mut y[..j];
        y.fill(T::zero());
        let mut k = 0;
        while k + 4 <= j {
            let tk = [t[k], t[k + 1], t[k + 2], t[k + 3]];
            let col = |q: usize| &left[(k + q) * n..(k + q) * n + k];
            axpy4(&mut y[..k], tk, [col(0), col(1), col(2), col(3)]);
            // The 4 × 4 triangle of these columns.
            for q in 0..4 {
                for i in k..=k + q {
                    y[i] = y[i] + tk[q] * left[(k + q) * n + i];
                }
            }
            k += 4;
        }
        for k in k..j {
            let tk = t[k];
            for (yi, &a) in y[..=k].iter_mut().zip(&left[k * n..k * n + k + 1]) {
                *yi = *yi + tk * a;
            }
        }
        for (dst, &v) in right[..j].iter_mut().zip(y.iter()) {
            *dst = v * -d;
        }
    }
    // X L = U⁻¹, column by column from the last: the multipliers of column j (saved in `y`)
    // leave their places to the inverse, and X[:, j] −= X[:, j+1..] · l.
    for j in (0..n.saturating_sub(1)).rev() {
        for i in j + 1..n {
            y[i] = -x[j * n + i];
            x[j * n + i] = T::zero();
        }
        let (left, right) = x.split_at_mut((j + 1) * n);
        let col = &mut left[j * n..];
        let mut k = j + 1;
        let cols = |k: usize| &right[(k - j - 1) * n..(k - j) * n];
        while k + 4 <= n {
            let tk = [y[k], y[k + 1], y[k + 2], y[k + 3]];
            axpy4(col, tk, [cols(k), cols(k + 1), cols(k + 2), cols(k + 3)]);
            k += 4;
        }
        for (k, &tk) in y.iter().enumerate().skip(k) {
            for (ci, &a) in col.iter_mut().zip(cols(k)) {
                *ci = *ci + tk * a;
            }
        }
    }
}

/// Complex LU of a non-empty `m × n` matrix on a rayon engine: the recursion (and look-ahead
/// driver) above, over the complex GEMM and panel LU. No equilibration, as the `blas` engine's
/// `getrf`. Returns the column-major packed factors, the interchanges, the first zero pivot.
pub(crate) fn factor_complex<C: ComplexScalar>(
    op: &'static str,
    l3: &Level3,
    a: ArrayView2<C>,
) -> Result<(Array2<C>, Vec<usize>, Option<usize>)> {
    let (m, n) = a.dim();
    let mut lu = zeros_f(op, m, n)?;
    copy::assign(&l3.team, &mut lu.view_mut(), a);
    let mut swaps = vec![0; m.min(n)];
    let zero = lu_in_place(l3, op, &mut lu.view_mut(), &mut swaps)?;
    Ok((lu, swaps, zero))
}

/// Complex `A X = B` for square `A` (n ≥ 1) and `B: n × r`: [`Error::Singular`] at the first
/// zero pivot, as the `blas` engine's `gesv`.
pub(crate) fn solve_complex<C: ComplexScalar>(
    op: &'static str,
    l3: &Level3,
    a: ArrayView2<C>,
    b: ArrayView2<C>,
) -> Result<Array2<C>> {
    let (lu, swaps, zero) = factor_complex(op, l3, a)?;
    if let Some(pivot) = zero {
        return Err(Error::Singular { op, pivot });
    }
    let (n, r) = b.dim();
    let mut x = zeros_f(op, n, r)?;
    assign_2d(&mut x.view_mut(), b);
    apply_swaps(&mut x.view_mut(), &swaps, 0, false);
    substitute(l3, op, lu.view(), &mut x.view_mut())?;
    Ok(x)
}

/// Complex `A⁻¹`: [`solve_complex`] with the identity.
pub(crate) fn inv_complex<C: ComplexScalar>(
    op: &'static str,
    l3: &Level3,
    a: ArrayView2<C>,
) -> Result<Array2<C>> {
    solve_complex(op, l3, a, identity(op, a.nrows())?.view())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parallel::level3::FactorBlocks;
    use crate::parallel::{Kernels, Team};
    use ndarray::ShapeBuilder;

    /// Entry `(i, j)` of an `n`-column test matrix: hashed values in [−0.5, 0.5) with no
    /// structure, not diagonally dominant, so partial pivoting interchanges rows on nearly
    /// every step.
    fn hashed(n: usize, seed: u64) -> impl Fn((usize, usize)) -> f64 + Copy {
        move |(i, j)| {
            let mut h = ((i * n + j) as u64 + seed).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            h ^= h >> 31;
            h = h.wrapping_mul(0xBF58_476D_1CE4_E5B9);
            h ^= h >> 29;
            (h >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        }
    }

    /// `inv` through the block-column `L⁻¹` (several blocks, a last narrow one, pivoting on every
    /// step) in both input layouts at 1 and 2 threads, on both kernels: `‖A X − I‖` within a
    /// multiple of `n ε ‖A‖ ‖X‖` (max norms), against a plain triple loop.
    #[test]
    fn inverse_by_block_columns_is_an_inverse() {
        let n = 2 * INV_BLOCK + 37;
        let f = hashed(n, 1);
        for threads in [1, 2] {
            let openblas = Level3 {
                team: Team::new(threads).unwrap(),
                kernels: Kernels::OpenBlas,
                blocks: FactorBlocks::default(),
            };
            for l3 in [Level3::for_tests(threads), openblas] {
                for fortran in [false, true] {
                    let a = if fortran {
                        Array2::from_shape_fn((n, n).f(), f)
                    } else {
                        Array2::from_shape_fn((n, n), f)
                    };
                    let x = inv("test", &l3, a.view()).unwrap();
                    let norm = |m: &Array2<f64>| m.iter().fold(0.0f64, |s, v| s.max(v.abs()));
                    let mut worst = 0.0f64;
                    for i in 0..n {
                        for j in 0..n {
                            let mut s = 0.0;
                            for k in 0..n {
                                s += a[[i, k]] * x[[k, j]];
                            }
                            let want = if i == j { 1.0 } else { 0.0 };
                            worst = worst.max((s - want).abs());
                        }
                    }
                    let bound = 10.0 * n as f64 * f64::EPSILON * norm(&a) * norm(&x) * n as f64;
                    assert!(worst <= bound, "{threads} {fortran}: {worst} > {bound}");
                    assert!(worst < 1e-6, "{threads} {fortran}: {worst}");
                }
            }
        }
    }

    /// The unblocked inverse of small orders ([`inv_unblocked`]: the `rayon` kernels up to
    /// [`INV_UNBLOCKED_MAX`]), at orders around its four-column passes, in both layouts and
    /// both element types: `‖A X − I‖` within a multiple of `n ε ‖A‖ ‖X‖` (max norms) against
    /// a plain triple loop; and on a factor that overflowed and was redone with row scaling.
    #[test]
    fn small_inverse_in_place_is_an_inverse() {
        fn check<T: Scalar>(l3: &Level3, a: &Array2<T>, ctx: &str) {
            let n = a.nrows();
            let x = inv("test", l3, a.view()).unwrap();
            let (a, x) = (a.mapv(|v| v.as_f64()), x.mapv(|v| v.as_f64()));
            let norm = |m: &Array2<f64>| m.iter().fold(0.0f64, |s, v| s.max(v.abs()));
            let mut worst = 0.0f64;
            for i in 0..n {
                for j in 0..n {
                    let s: f64 = (0..n).map(|k| a[[i, k]] * x[[k, j]]).sum();
                    worst = worst.max((s - if i == j { 1.0 } else { 0.0 }).abs());
                }
            }
            let eps = T::epsilon().as_f64();
            let bound = 10.0 * (n * n) as f64 * eps * norm(&a) * norm(&x);
            assert!(worst <= bound, "{ctx}: {worst} > {bound}");
        }
        let l3 = Level3::for_tests(1);
        for n in [
            1,
            2,
            3,
            4,
            5,
            8,
            9,
            16,
            17,
            31,
            32,
            33,
            63,
            64,
            95,
            INV_UNBLOCKED_MAX,
        ] {
            assert!(n <= INV_UNBLOCKED_MAX);
            let f = hashed(n, 7);
            for fortran in [false, true] {
                let a = if fortran {
                    Array2::from_shape_fn((n, n).f(), f)
                } else {
                    Array2::from_shape_fn((n, n), f)
                };
                check(&l3, &a, &format!("f64 n={n} fortran={fortran}"));
                check(
                    &l3,
                    &a.mapv(|v| v as f32),
                    &format!("f32 n={n} fortran={fortran}"),
                );
            }
        }
        // W grows to 4 during elimination, so 1e308·W overflows inside the factorization and is
        // factored again with exact row scaling (`row_exp`), which the inverse undoes.
        let w = ndarray::array![[1.0f64, 0.0, 1.0], [-1.0, 1.0, 1.0], [-1.0, -1.0, 1.0]];
        let a = &w * 1e308;
        let (lu, _) = factor("test", &l3, a.view(), true).unwrap();
        assert!(
            !lu.row_exp.is_empty(),
            "the factorization should have been scaled"
        );
        check(&l3, &a, "1e308·W");
    }

    /// Row interchanges in order and in reverse order against one swap at a time on a copy, in
    /// both layouts, on one thread and split over a team (`cols · swaps` above the split's
    /// threshold); the reverse order undoes the forward one.
    #[test]
    fn interchanges_match_one_swap_at_a_time_and_reverse_undoes_them() {
        let (n, cols) = (300, 250);
        assert!(cols * (n - 10) >= PARALLEL_SWAP_MIN);
        // Pivot-like: swaps[i] ≥ offset + i, some equal.
        let offset = 10;
        let swaps: Vec<usize> = (0..n - offset)
            .map(|i| (offset + i + (i * 37) % (n - offset - i)).min(n - 1))
            .collect();
        let f = |(i, j): (usize, usize)| (i * 1000 + j) as f64;
        for threads in [1, 2] {
            let l3 = Level3::for_tests(threads);
            for fortran in [true, false] {
                let a = if fortran {
                    Array2::from_shape_fn((n, cols).f(), f)
                } else {
                    Array2::from_shape_fn((n, cols), f)
                };
                for reverse in [false, true] {
                    let mut want = a.clone();
                    let mut order: Vec<(usize, usize)> = swaps
                        .iter()
                        .enumerate()
                        .map(|(i, &p)| (i + offset, p))
                        .collect();
                    if reverse {
                        order.reverse();
                    }
                    for (i, p) in order {
                        for j in 0..cols {
                            want.swap([i, j], [p, j]);
                        }
                    }
                    let mut got = a.clone();
                    interchange_rows(&l3, &mut got.view_mut(), &swaps, offset, reverse);
                    assert_eq!(got, want, "{threads} {fortran} {reverse}");
                    interchange_rows(&l3, &mut got.view_mut(), &swaps, offset, !reverse);
                    assert_eq!(got, a, "{threads} {fortran} {reverse} undone");
                }
            }
        }
    }
}
