//! SYRK/GEMMT and triangular solve on the `rayon` engine's GEMM micro-kernels (the BLIS approach):
//! the operands are packed once per call and every flop outside the small diagonal blocks runs
//! in the micro-kernel.
//!
//! * [`gemmt`]: one triangle of `C ← C − A Bᵀ` (SYRK when `B = A`). A and B are packed once
//!   per KC-deep slice (A~ rows, B~ columns); only the MR × NR tiles of C that meet the
//!   triangle are computed, tiles crossing the diagonal through a scratch tile so nothing
//!   outside the triangle is read or written. Rows of C are cut into tasks for the team.
//! * [`trsm_lower`]: `B ← L⁻¹ B` for lower-triangular L. L's rows are packed once in MR-row
//!   micro-panels (panel q holds `L[q·MR.., ..q·MR]`); each NR-column slice of B is packed into
//!   a B~ micro-panel and solved top-down: rows `q·MR..` get `− L[q·MR.., ..q·MR] X[..q·MR]` (one
//!   micro-kernel call of depth q·MR), then the MR × MR diagonal block is solved by
//!   substitution (multiplying by the reciprocal of a diagonal entry when it is a normal
//!   number, else dividing). The NR-column slices are the parallel tasks.
//!
//! Sums run in a fixed order whatever the thread count, so results are bit-identical across
//! thread counts and runs.

use std::cell::RefCell;

use ndarray::{s, ArrayView2, ArrayViewMut2, Axis};
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::kernels::pack::{pack_a, AlignedBuf};
use crate::kernels::trsm_tile;
use crate::kernels::{Element, GemmKernel, Isa, MicroKernel};
use crate::parallel::Team;

use super::blis_loops::{out_of_memory, pack_b_on, with_buffer};

thread_local! {
    /// A worker's A~ block (GEMMT) or packed right-hand sides (trsm).
    static WORK: RefCell<AlignedBuf> = RefCell::new(AlignedBuf::default());
    /// The calling thread's shared packed operand: B~ (GEMMT) or the packed L (trsm).
    static SHARED: RefCell<AlignedBuf> = RefCell::new(AlignedBuf::default());
}

fn check_isa(op: &'static str, kernel: GemmKernel) -> Result<()> {
    if kernel.isa.available() {
        Ok(())
    } else {
        Err(Error::InvalidArgument {
            op,
            name: "isa",
            reason: format!("this CPU cannot run the {} kernels", kernel.isa),
        })
    }
}

/// The lower triangle (diagonal included) of `C ← C − A Bᵀ` for `A, B: n × k`, `C: n × n`
/// (any strides), on `team` (BLAS `gemmt`; `B = A` is SYRK, `[V W]`, `[W V]` is SYR2K). Entries
/// of C above the diagonal are neither read nor written.
pub(crate) fn gemmt<T: Element>(
    op: &'static str,
    team: &Team,
    kernel: GemmKernel,
    a: ArrayView2<T>,
    b: ArrayView2<T>,
    c: &mut ArrayViewMut2<T>,
) -> Result<()> {
    check_isa(op, kernel)?;
    let (n, k) = a.dim();
    if n == 0 || k == 0 {
        return Ok(());
    }
    debug_assert_eq!(c.dim(), (n, n));
    debug_assert_eq!(b.dim(), (n, k));
    // The micro-kernel stores fastest into columns of contiguous rows: a row-major C is updated
    // through Cᵀ (column-major), whose upper triangle holds C's lower one: Cᵀ −= B Aᵀ.
    let (mut c, lower, a, b) = if c.strides()[0] != 1 && c.strides()[1] == 1 {
        (c.view_mut().reversed_axes(), false, b, a)
    } else {
        (c.view_mut(), true, a, b)
    };
    let uk = T::micro_kernel(kernel.isa);
    let (mr, nr) = (uk.mr, uk.nr);
    let kc = kernel.blocks.kc.max(1);
    let threads = team.threads();
    // Row blocks: several per worker so work stealing evens out the triangle's uneven rows.
    let rows = if threads > 1 {
        n.div_ceil(4 * threads).next_multiple_of(mr).max(mr)
    } else {
        n.next_multiple_of(mr)
    };
    let rows = rows.min(kernel.blocks.mc.max(mr).next_multiple_of(mr));
    team.install(|| {
        with_buffer(&SHARED, |bbuf| {
            for pc in (0..k).step_by(kc) {
                let kcur = kc.min(k - pc);
                let slice = a.slice(s![.., pc..pc + kcur]);
                let len = n.div_ceil(nr) * nr * kcur;
                let bpacked = bbuf.slice::<T>(len).ok_or_else(|| out_of_memory(op, len))?;
                // Split over the team: packed by the calling thread alone, B~ left the other
                // workers idle (a 2-thread Cholesky kept 1.6 of 2 cores busy at n = 2048).
                pack_b_on(threads, nr, b.slice(s![.., pc..pc + kcur]).t(), bpacked);
                let bpacked: &[T] = bpacked;
                let task = |(ib, block): (usize, ArrayViewMut2<T>)| -> Result<()> {
                    let i0 = ib * rows;
                    let asrc = slice.slice(s![i0..i0 + block.nrows(), ..]);
                    gemmt_block(op, &uk, kcur, asrc, bpacked, block, i0, lower)
                };
                let blocks = c.axis_chunks_iter_mut(Axis(0), rows).enumerate();
                if threads > 1 {
                    blocks
                        .collect::<Vec<_>>()
                        .into_par_iter()
                        .try_for_each(task)?;
                } else {
                    blocks.into_iter().try_for_each(task)?;
                }
            }
            Ok(())
        })
    })
}

/// One row block of [`gemmt`]: rows `i0..` of C (`block`, all n columns), `asrc` the same rows
/// of A's KC slice, `bpacked` all of B's KC slice as B~. `lower`: update entries with
/// column ≤ row, else column ≥ row.
#[allow(clippy::too_many_arguments)]
fn gemmt_block<T: Element>(
    op: &'static str,
    uk: &MicroKernel<T>,
    kc: usize,
    asrc: ArrayView2<T>,
    bpacked: &[T],
    mut block: ArrayViewMut2<T>,
    i0: usize,
    lower: bool,
) -> Result<()> {
    let (mr, nr) = (uk.mr, uk.nr);
    let (mb, n) = block.dim();
    let (rs, cs) = (block.strides()[0], block.strides()[1]);
    let base = block.as_mut_ptr();
    let minus = -T::one();
    with_buffer(&WORK, |abuf| {
        let len = mb.div_ceil(mr) * mr * kc;
        let apacked = abuf.slice::<T>(len).ok_or_else(|| out_of_memory(op, len))?;
        pack_a(mr, asrc, apacked);
        let mut tmp = vec![T::zero(); mr * nr];
        // Columns this block touches: lower ..i0 + mb, upper i0...
        let (q0, q1) = if lower {
            (0, (i0 + mb).div_ceil(nr))
        } else {
            (i0 / nr, n.div_ceil(nr))
        };
        for q in q0..q1 {
            let j0 = q * nr;
            let w = nr.min(n - j0);
            let bp = &bpacked[q * nr * kc..(q + 1) * nr * kc];
            for (r, ap) in apacked.chunks_exact(mr * kc).enumerate() {
                let r0 = r * mr;
                let h = mr.min(mb - r0);
                let (gi0, gi1) = (i0 + r0, i0 + r0 + h - 1); // first, last global row
                let (inside, outside) = if lower {
                    (j0 + w - 1 <= gi0, j0 > gi1)
                } else {
                    (j0 >= gi1, j0 + w - 1 < gi0)
                };
                if outside {
                    continue;
                }
                // SAFETY: the tile (r0.., j0..) of size h × w lies inside the exclusively
                // borrowed `block`; `ap`, `bp` are whole packed micro-panels of depth kc; the
                // kernel's ISA was checked; `tmp` holds mr × nr elements.
                unsafe {
                    let cp = base.offset(r0 as isize * rs + j0 as isize * cs);
                    if inside {
                        (uk.run)(
                            kc,
                            ap.as_ptr(),
                            bp.as_ptr(),
                            cp,
                            rs,
                            cs,
                            h,
                            w,
                            minus,
                            T::one(),
                        );
                    } else {
                        let t = tmp.as_mut_ptr();
                        (uk.run)(
                            kc,
                            ap.as_ptr(),
                            bp.as_ptr(),
                            t,
                            1,
                            mr as isize,
                            h,
                            w,
                            T::one(),
                            T::zero(),
                        );
                        for jj in 0..w {
                            for ii in 0..h {
                                let (gi, gj) = (gi0 + ii, j0 + jj);
                                if (lower && gj <= gi) || (!lower && gj >= gi) {
                                    let p = cp.offset(ii as isize * rs + jj as isize * cs);
                                    *p = *p - tmp[ii + jj * mr];
                                }
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    })
}

/// `B ← L⁻¹ B` for lower-triangular `L: n × n` (its lower triangle is read; `unit`: ones on
/// the diagonal, not read) and `B: n × r`, any strides, on `team`.
pub(crate) fn trsm_lower<T: Element>(
    op: &'static str,
    team: &Team,
    kernel: GemmKernel,
    unit: bool,
    l: ArrayView2<T>,
    b: &mut ArrayViewMut2<T>,
) -> Result<()> {
    check_isa(op, kernel)?;
    let (n, r) = b.dim();
    if n == 0 || r == 0 {
        return Ok(());
    }
    debug_assert_eq!(l.dim(), (n, n));
    let uk = T::micro_kernel(kernel.isa);
    let (mr, nr) = (uk.mr, uk.nr);
    let tiles = avx2_tiles::<T>(kernel.isa);
    let panels = n.div_ceil(mr);
    // Panel q: L[q·mr.., ..q·mr] as one A~ micro-panel of depth q·mr, then its mr × mr
    // diagonal block, column-major.
    let offsets: Vec<usize> = (0..=panels)
        .scan(0, |off, q| {
            let here = *off;
            *off += mr * mr * (q + 1) + mr;
            Some(here)
        })
        .collect();
    let threads = team.threads();
    team.install(|| {
        with_buffer(&SHARED, |lbuf| {
            let len = offsets[panels];
            let lp = lbuf.slice::<T>(len).ok_or_else(|| out_of_memory(op, len))?;
            // Panels cut apart by their offsets, packed in parallel on a team (packed by the
            // calling thread alone, L left the other workers idle before the solve).
            let mut parts = Vec::with_capacity(panels);
            let mut rest = &mut lp[..];
            for q in 0..panels {
                let (panel, tail) = rest.split_at_mut(offsets[q + 1] - offsets[q]);
                parts.push((q, panel));
                rest = tail;
            }
            let pack_panel = |(q, panel): (usize, &mut [T])| {
                let i0 = q * mr;
                let h = mr.min(n - i0);
                let (off, diag) = panel.split_at_mut(mr * i0);
                if i0 > 0 {
                    pack_a(mr, l.slice(s![i0..i0 + h, ..i0]), off);
                }
                let (diag, recip) = diag.split_at_mut(mr * mr);
                for c in 0..h {
                    for a in c..h {
                        diag[a + c * mr] = l[[i0 + a, i0 + c]];
                    }
                    // Multiplying by 1/d replaces the division when 1/d is a normal number;
                    // zero marks a diagonal entry (subnormal, huge) that is divided by.
                    let r = T::one() / diag[c + c * mr];
                    recip[c] = if r.is_normal() { r } else { T::zero() };
                }
            };
            if threads > 1 {
                parts.into_par_iter().for_each(pack_panel);
            } else {
                parts.into_iter().for_each(pack_panel);
            }
            let lp: &[T] = lp;
            let task = |mut cols: ArrayViewMut2<T>| -> Result<()> {
                with_buffer(&WORK, |xbuf| {
                    let len = n * nr;
                    let x = xbuf.slice::<T>(len).ok_or_else(|| out_of_memory(op, len))?;
                    solve_panel(&uk, tiles, unit, n, lp, &offsets, x, &mut cols);
                    Ok(())
                })
            };
            let chunks = b.axis_chunks_iter_mut(Axis(1), nr);
            if threads > 1 {
                chunks.into_par_iter().try_for_each(task)
            } else {
                chunks.into_iter().try_for_each(task)
            }
        })
    })
}

/// Copies the `n × w` slice `cols` (`w ≤ nr`) into the B~ micro-panel `x` (row i at
/// `x[i·nr..]`, padding columns zero) when `pack`, else `x` back into `cols`; walking `cols`
/// along its contiguous axis.
fn copy_panel<T: Element>(cols: &mut ArrayViewMut2<T>, x: &mut [T], nr: usize, pack: bool) {
    let (n, w) = cols.dim();
    if pack && w < nr {
        x[..n * nr].fill(T::zero());
    }
    let (rs, cs) = (cols.strides()[0], cols.strides()[1]);
    let base = cols.as_mut_ptr();
    // SAFETY: i < n, j < w index elements of the exclusively borrowed view `cols`; `x` holds
    // n·nr elements and j < w ≤ nr.
    let at = |i: usize, j: usize| unsafe { base.offset(i as isize * rs + j as isize * cs) };
    if rs == 1 && w > 1 {
        for j in 0..w {
            for i in 0..n {
                // SAFETY: see `at`.
                unsafe {
                    if pack {
                        x[i * nr + j] = *at(i, j);
                    } else {
                        *at(i, j) = x[i * nr + j];
                    }
                }
            }
        }
    } else {
        for i in 0..n {
            for j in 0..w {
                // SAFETY: see `at`.
                unsafe {
                    if pack {
                        x[i * nr + j] = *at(i, j);
                    } else {
                        *at(i, j) = x[i * nr + j];
                    }
                }
            }
        }
    }
}

/// Solves the `n × w` slice `cols` (`w ≤ nr`) against the packed L, through the B~
/// micro-panel `x` (row i at `x[i·nr..]`, n · nr elements).
///
/// Where `trsm_tile` solves full tiles (`tiles`, from [`avx2_tiles`]) and `cols` is a full slice of contiguous columns, those
/// tiles are read from and written to `cols` directly (x receives each solved tile for the
/// micro-kernel's later reads); only the other tiles' rows are copied through x. Else the
/// whole slice is copied into x, solved there and copied back.
#[allow(clippy::too_many_arguments)]
fn solve_panel<T: Element>(
    uk: &MicroKernel<T>,
    tiles: bool,
    unit: bool,
    n: usize,
    lp: &[T],
    offsets: &[usize],
    x: &mut [T],
    cols: &mut ArrayViewMut2<T>,
) {
    let (mr, nr) = (uk.mr, uk.nr);
    debug_assert!(!tiles || nr == trsm_tile::COLS);
    let direct = tiles && cols.ncols() == nr && cols.strides()[0] == 1;
    if !direct {
        copy_panel(cols, x, nr, true);
    }
    let cs = cols.strides()[1];
    // The micro-kernel's update of a full tile, column-major, for `trsm_tile`.
    let mut upd = [T::zero(); trsm_tile::ROWS_F32 * trsm_tile::COLS];
    for q in 0..n.div_ceil(mr) {
        let i0 = q * mr;
        let h = mr.min(n - i0);
        let panel = &lp[offsets[q]..offsets[q + 1]];
        let (diag, recip) = panel[mr * i0..].split_at(mr * mr);
        if tiles && h == mr && (unit || recip[..h].iter().all(|r| *r != T::zero())) {
            let xp = x.as_mut_ptr();
            let up = upd.as_mut_ptr();
            // SAFETY (offset): row i0 < n of the slice.
            let at = direct.then(|| (unsafe { cols.as_mut_ptr().add(i0) }, cs));
            // SAFETY: `avx2_tiles` checked that T is f32 or f64 and the kernel AVX2's (16 × 6
            // or 8 × 6), whose instruction set (AVX2 + FMA) the caller checked; the kernel reads rows ..i0 of x (B~ of
            // depth i0) and writes the mr × 6 column-major `upd` (96 elements hold it);
            // `trsm_tile` gets the full tile at rows i0..i0 + mr (mr · 6 elements of x; with
            // `direct`, mr contiguous rows of each of the slice's six columns, not overlapping
            // x or upd), the mr × mr block and mr non-zero reciprocals (checked).
            unsafe {
                if i0 > 0 {
                    (uk.run)(
                        i0,
                        panel.as_ptr(),
                        xp,
                        up,
                        1,
                        mr as isize,
                        h,
                        nr,
                        -T::one(),
                        T::zero(),
                    );
                }
                let upd = (i0 > 0).then_some(up.cast_const());
                let tile = xp.add(i0 * nr);
                // The same call on the f32 or the f64 tile (T's AVX2 kernel has that mr).
                macro_rules! solve_tile {
                    ($solve:path) => {
                        $solve(
                            unit,
                            diag.as_ptr().cast(),
                            recip.as_ptr().cast(),
                            upd.map(<*const T>::cast),
                            tile.cast(),
                            at.map(|(p, cs)| (p.cast(), cs)),
                        )
                    };
                }
                #[cfg(target_arch = "x86_64")]
                if mr == trsm_tile::ROWS_F32 {
                    solve_tile!(trsm_tile::solve_f32_16x6);
                } else {
                    solve_tile!(trsm_tile::solve_f64_8x6);
                }
            }
            continue;
        }
        // With `direct`, this tile's rows go through x (into it with `pack`, else back).
        let mut through_x = |x: &mut [T], pack: bool| {
            if direct {
                let mut rows = cols.slice_mut(s![i0..i0 + h, ..]);
                copy_panel(&mut rows, &mut x[i0 * nr..], nr, pack);
            }
        };
        through_x(x, true);
        if i0 > 0 {
            let xp = x.as_mut_ptr();
            // SAFETY: the kernel reads rows ..i0 of x (a B~ micro-panel of depth i0: row p is
            // x[p·nr..(p+1)·nr]) and writes the h × nr tile at rows i0.., which do not overlap;
            // the panel holds an A~ micro-panel of depth i0; the ISA was checked by the caller.
            unsafe {
                (uk.run)(
                    i0,
                    panel.as_ptr(),
                    xp,
                    xp.add(i0 * nr),
                    nr as isize,
                    1,
                    h,
                    nr,
                    -T::one(),
                    T::one(),
                );
            }
        }
        let tile = &mut x[i0 * nr..(i0 + h) * nr];
        diag_solve(unit, h, mr, nr, diag, recip, tile);
        through_x(x, false);
    }
    if !direct {
        copy_panel(cols, x, nr, false);
    }
}

/// Whether the full tiles of a solve on `T` with the micro-kernel of `isa` go to
/// `trsm_tile`'s register-resident solves: f32 and f64 on the AVX2 kernels (16 × 6, 8 × 6).
fn avx2_tiles<T: Element>(isa: Isa) -> bool {
    use std::any::TypeId;
    let t = TypeId::of::<T>();
    cfg!(target_arch = "x86_64")
        && isa == Isa::Avx2
        && (t == TypeId::of::<f32>() || t == TypeId::of::<f64>())
}

/// Forward substitution on one `h × nr` row-major tile against the `h × h` lower block `d`
/// (column-major, leading dimension `ld`); `recip[c]` is `1/d[c][c]`, or zero where that is
/// not a normal number and the row is divided instead.
#[inline]
fn diag_solve<T: Element>(
    unit: bool,
    h: usize,
    ld: usize,
    nr: usize,
    d: &[T],
    recip: &[T],
    tile: &mut [T],
) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: this CPU has AVX-512F.
            return unsafe { diag_solve_avx512(unit, h, ld, nr, d, recip, tile) };
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: this CPU has AVX2 and FMA.
            return unsafe { diag_solve_avx2(unit, h, ld, nr, d, recip, tile) };
        }
    }
    diag_solve_nr(unit, h, ld, nr, d, recip, tile)
}

/// [`diag_solve_nr`] compiled for AVX-512F (which implies FMA).
///
/// # Safety
/// The CPU must have AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
unsafe fn diag_solve_avx512<T: Element>(
    unit: bool,
    h: usize,
    ld: usize,
    nr: usize,
    d: &[T],
    recip: &[T],
    tile: &mut [T],
) {
    diag_solve_nr(unit, h, ld, nr, d, recip, tile)
}

/// [`diag_solve_nr`] compiled for AVX2 and FMA.
///
/// # Safety
/// The CPU must have AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn diag_solve_avx2<T: Element>(
    unit: bool,
    h: usize,
    ld: usize,
    nr: usize,
    d: &[T],
    recip: &[T],
    tile: &mut [T],
) {
    diag_solve_nr(unit, h, ld, nr, d, recip, tile)
}

/// The micro-kernels' NR as a compile-time row length, so each row update is a few whole
/// vector operations.
#[inline(always)]
fn diag_solve_nr<T: Element>(
    unit: bool,
    h: usize,
    ld: usize,
    nr: usize,
    d: &[T],
    recip: &[T],
    tile: &mut [T],
) {
    match nr {
        14 => diag_solve_body::<T, 14>(unit, h, ld, d, recip, tile),
        6 => diag_solve_body::<T, 6>(unit, h, ld, d, recip, tile),
        4 => diag_solve_body::<T, 4>(unit, h, ld, d, recip, tile),
        _ => diag_solve_any(unit, h, ld, nr, d, recip, tile),
    }
}

/// Pivots applied to each row below them in one pass: the row stays in registers for four
/// updates instead of being loaded and stored per pivot.
const PIVOTS: usize = 4;

#[inline(always)]
fn diag_solve_body<T: Element, const NR: usize>(
    unit: bool,
    h: usize,
    ld: usize,
    d: &[T],
    recip: &[T],
    tile: &mut [T],
) {
    let (rows, _) = tile.as_chunks_mut::<NR>();
    let rows = &mut rows[..h];
    for c0 in (0..h).step_by(PIVOTS) {
        let c1 = (c0 + PIVOTS).min(h);
        // The pivot rows c0..c1 among themselves.
        for c in c0..c1 {
            if !unit {
                let (p, r) = (d[c + c * ld], recip[c]);
                if r != T::zero() {
                    rows[c].iter_mut().for_each(|v| *v = *v * r);
                } else {
                    rows[c].iter_mut().for_each(|v| *v = *v / p);
                }
            }
            let xc = rows[c];
            for a in c + 1..c1 {
                let f = d[a + c * ld];
                let row = &mut rows[a];
                for k in 0..NR {
                    row[k] = (-f).mul_add(xc[k], row[k]);
                }
            }
        }
        if c1 < h {
            // A whole block of PIVOTS rows (only the last block can be shorter, and no row
            // lies below it): a constant-size copy that stays in registers. A run-time-length
            // copy had become a `memcpy` whose stores the vector loads below could not forward
            // from, a fifth of this function's time.
            let xs: [[T; NR]; PIVOTS] = std::array::from_fn(|i| rows[c0 + i]);
            for (a, row) in rows.iter_mut().enumerate().skip(c1) {
                let mut r = *row;
                for (i, xc) in xs.iter().enumerate() {
                    let f = d[a + (c0 + i) * ld];
                    for k in 0..NR {
                        r[k] = (-f).mul_add(xc[k], r[k]);
                    }
                }
                *row = r;
            }
        }
    }
}

#[inline(always)]
fn diag_solve_any<T: Element>(
    unit: bool,
    h: usize,
    ld: usize,
    nr: usize,
    d: &[T],
    recip: &[T],
    tile: &mut [T],
) {
    for c in 0..h {
        let (done, rest) = tile.split_at_mut((c + 1) * nr);
        let xc = &mut done[c * nr..];
        if !unit {
            let (p, r) = (d[c + c * ld], recip[c]);
            if r != T::zero() {
                xc.iter_mut().for_each(|v| *v = *v * r);
            } else {
                xc.iter_mut().for_each(|v| *v = *v / p);
            }
        }
        for (a, row) in rest.chunks_exact_mut(nr).enumerate().take(h - c - 1) {
            let f = d[c + 1 + a + c * ld];
            for (v, &xv) in row.iter_mut().zip(xc.iter()) {
                *v = *v - f * xv;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! Packed GEMMT (SYRK) and trsm against slow triple-loop references, on every instruction set this
    //! CPU runs, at edge sizes around MR / NR / KC, for several layouts and 1–3 workers.

    use ndarray::{s, Array2, ShapeBuilder};

    use super::*;
    use crate::kernels::{GemmBlocks, Isa};
    use crate::parallel::Native;

    fn kernels<T: Element>() -> Vec<GemmKernel> {
        let mut v = Vec::new();
        for isa in [Isa::Avx512, Isa::Avx2, Isa::Portable] {
            if !isa.available() {
                continue;
            }
            let default = Native { isa, blocks: None }.gemm_kernel::<T>();
            // Small MC / KC so the row blocks and the KC loop run several times.
            let small = GemmBlocks {
                mc: default.mr,
                kc: 5,
                nc: 64,
            };
            v.push(default);
            v.push(
                Native {
                    isa,
                    blocks: Some(small),
                }
                .gemm_kernel::<T>(),
            );
        }
        v
    }

    /// Deterministic values in [-1, 1).
    fn fill(seed: u64, m: usize, n: usize) -> Array2<f64> {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        Array2::from_shape_fn((m, n), |_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 11) as f64 / (1u64 << 52) as f64 - 1.0
        })
    }

    /// Copies `a` into storage of the given layout: 0 row-major, 1 column-major, 2 a strided
    /// window of a larger row-major array with both axes reversed (negative strides).
    fn stored(a: &Array2<f64>, layout: usize) -> Array2<f64> {
        let (m, n) = a.dim();
        match layout {
            0 => a.clone(),
            1 => {
                let mut f = Array2::zeros((m, n).f());
                f.assign(a);
                f
            }
            _ => {
                let mut big = Array2::from_elem((2 * m + 1, 2 * n + 3), f64::NAN);
                big.slice_mut(s![1..2 * m + 1;2, 2..2 * n + 2;2])
                    .slice_mut(s![..;-1, ..;-1])
                    .assign(a);
                big
            }
        }
    }

    /// The view of `stored(a, layout)` that holds `a`.
    fn window(st: &mut Array2<f64>, layout: usize) -> ArrayViewMut2<'_, f64> {
        let (m, n) = st.dim();
        if layout < 2 {
            st.view_mut()
        } else {
            st.slice_mut(s![1..m;2, 2..n - 1;2])
                .slice_move(s![..;-1, ..;-1])
        }
    }

    const SIZES: [usize; 12] = [1, 2, 5, 6, 7, 13, 14, 15, 16, 17, 33, 47];

    #[test]
    fn gemmt_matches_the_reference_and_leaves_the_upper_triangle() {
        let teams = [Team::one(), Team::new(2).unwrap(), Team::new(3).unwrap()];
        for kernel in kernels::<f64>() {
            for &n in &SIZES {
                for k in [1, 4, 11] {
                    let a = fill(n as u64 * 31 + k as u64, n, k);
                    let b = fill(n as u64 * 17 + k as u64 + 3, n, k);
                    let c0 = fill(n as u64 + 7, n, n);
                    let mut want = c0.clone();
                    for i in 0..n {
                        for j in 0..=i {
                            let dot: f64 = (0..k).map(|p| a[[i, p]] * b[[j, p]]).sum();
                            want[[i, j]] -= dot;
                        }
                    }
                    for layout in 0..3 {
                        for team in &teams {
                            let mut st = stored(&c0, layout);
                            let astored = stored(&a, 2 - layout);
                            let mut aw = astored.clone();
                            let av = window(&mut aw, 2 - layout);
                            let mut bw = stored(&b, 2 - layout);
                            let bv = window(&mut bw, 2 - layout);
                            let mut c = window(&mut st, layout);
                            gemmt("test", team, kernel, av.view(), bv.view(), &mut c).unwrap();
                            let ctx = format!("{kernel:?} n={n} k={k} layout={layout}");
                            for i in 0..n {
                                for j in 0..n {
                                    let (got, w) = (c[[i, j]], want[[i, j]]);
                                    if j > i {
                                        assert_eq!(got.to_bits(), w.to_bits(), "{ctx}: ({i},{j})");
                                    } else {
                                        let tol = 4.0 * k as f64 * f64::EPSILON;
                                        assert!(
                                            (got - w).abs() <= tol,
                                            "{ctx}: ({i},{j}) {got} {w}"
                                        );
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn trsm_matches_substitution() {
        let teams = [Team::one(), Team::new(2).unwrap(), Team::new(3).unwrap()];
        for kernel in kernels::<f64>() {
            for &n in &SIZES {
                for r in [1, 13, 14, 15, 40] {
                    // Well-conditioned lower L (diagonal 2..3); NaN above the diagonal must not
                    // be read.
                    let mut l = fill(n as u64 * 3 + 1, n, n) * 0.5;
                    for i in 0..n {
                        l[[i, i]] = 2.0 + l[[i, i]].abs();
                        for j in i + 1..n {
                            l[[i, j]] = f64::NAN;
                        }
                    }
                    let b = fill(r as u64 + 5, n, r);
                    for unit in [false, true] {
                        let mut want = b.clone();
                        for j in 0..r {
                            for i in 0..n {
                                let mut v = want[[i, j]];
                                for p in 0..i {
                                    v -= l[[i, p]] * want[[p, j]];
                                }
                                want[[i, j]] = if unit { v } else { v / l[[i, i]] };
                            }
                        }
                        for layout in 0..3 {
                            for team in &teams {
                                let mut lst = stored(&l, layout);
                                let lv = window(&mut lst, layout);
                                let mut st = stored(&b, 2 - layout);
                                let mut x = window(&mut st, 2 - layout);
                                trsm_lower("test", team, kernel, unit, lv.view(), &mut x).unwrap();
                                let ctx =
                                    format!("{kernel:?} n={n} r={r} unit={unit} layout={layout}");
                                for i in 0..n {
                                    for j in 0..r {
                                        let (got, w) = (x[[i, j]], want[[i, j]]);
                                        let tol = 16.0 * n as f64 * f64::EPSILON * (1.0 + w.abs());
                                        assert!(
                                            (got - w).abs() <= tol,
                                            "{ctx}: ({i},{j}) {got} {w}"
                                        );
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn trsm_divides_by_a_subnormal_diagonal_entry() {
        // 1/d overflows for d = 2⁻¹⁰³⁰: multiplying by it would give ∞ where b/d = 2⁻¹⁰.
        let d = 2f64.powi(-1030);
        for kernel in kernels::<f64>() {
            // Three row-major columns, and six column-major ones (a full slice: the AVX2
            // kernels' tiles read in place, the tile with the tiny pivot copied through).
            for (n, r, f) in [(1, 3, false), (17, 3, false), (40, 3, false), (40, 6, true)] {
                let mut l = Array2::<f64>::eye(n);
                let k = n / 2;
                l[[k, k]] = d;
                let mut b = Array2::<f64>::zeros((n, r).set_f(f));
                b.row_mut(k).fill(2f64.powi(-1040));
                // A last row that the tiny pivot does not touch (L is the identity there).
                let last = n - 1 != k;
                if last {
                    b[[n - 1, 0]] = 1.0;
                }
                trsm_lower(
                    "test",
                    &Team::one(),
                    kernel,
                    false,
                    l.view(),
                    &mut b.view_mut(),
                )
                .unwrap();
                for j in 0..r {
                    assert_eq!(b[[k, j]], 2f64.powi(-10), "{kernel:?} n={n}");
                }
                if last {
                    assert_eq!(b[[n - 1, 0]], 1.0, "{kernel:?} n={n}");
                }
            }
        }
    }

    #[test]
    fn trsm_and_gemmt_f32_agree_with_f64() {
        let team = Team::new(2).unwrap();
        for kernel in kernels::<f32>() {
            let n = 37;
            let mut l = fill(9, n, n) * 0.5;
            for i in 0..n {
                l[[i, i]] = 2.0 + l[[i, i]].abs();
                l.slice_mut(s![i, i + 1..]).fill(0.0);
            }
            let b = fill(10, n, 29);
            let l32 = l.mapv(|v| v as f32);
            let mut x = b.mapv(|v| v as f32);
            trsm_lower("test", &team, kernel, false, l32.view(), &mut x.view_mut()).unwrap();
            let back = l.mapv(|v| v as f32 as f64).dot(&x.mapv(|v| v as f64));
            for (g, w) in back.iter().zip(b.mapv(|v| v as f32 as f64).iter()) {
                assert!(
                    (g - w).abs() <= 64.0 * n as f64 * f32::EPSILON as f64,
                    "{kernel:?}"
                );
            }
            let a = fill(11, n, 9).mapv(|v| v as f32);
            let mut c = Array2::<f32>::zeros((n, n));
            gemmt("test", &team, kernel, a.view(), a.view(), &mut c.view_mut()).unwrap();
            let want = a.dot(&a.t());
            for i in 0..n {
                for j in 0..n {
                    if j > i {
                        assert_eq!(c[[i, j]], 0.0);
                    } else {
                        assert!((c[[i, j]] + want[[i, j]]).abs() <= 1e-5, "{kernel:?}");
                    }
                }
            }
        }
    }

    /// `trsm_tile`'s register-resident solves of full f32 and f64 tiles are the row-wise
    /// substitution, bit for bit (same operations in the same order), with and without the
    /// micro-kernel's update and a unit diagonal, and leave the rows above an infinite one
    /// untouched.
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn avx2_tile_solves_are_the_row_wise_substitution() {
        if !Isa::Avx2.available() {
            return;
        }
        check_tile::<f32>(trsm_tile::ROWS_F32, trsm_tile::solve_f32_16x6);
        check_tile::<f64>(trsm_tile::ROWS_F64, trsm_tile::solve_f64_8x6);
    }

    type TileSolve<T> =
        unsafe fn(bool, *const T, *const T, Option<*const T>, *mut T, Option<(*mut T, isize)>);

    #[cfg(target_arch = "x86_64")]
    fn check_tile<T: Element>(m: usize, solve: TileSolve<T>) {
        let w = trsm_tile::COLS;
        let t = |v: f64| T::from_f64(v).unwrap();
        for seed in 0..4u64 {
            let mut d = fill(seed + 40, m, m).mapv(t);
            for c in 0..m {
                d[[c, c]] = t(1.5) + d[[c, c]].abs();
                for a in 0..c {
                    // Above the diagonal: read by the vector loads, never used.
                    d[[a, c]] = T::nan();
                }
            }
            let dcol: Vec<T> = d.t().iter().copied().collect();
            let recip: Vec<T> = (0..m).map(|c| T::one() / d[[c, c]]).collect();
            let x0: Vec<T> = fill(seed + 50, m, w).iter().map(|&v| t(v)).collect();
            let upd: Vec<T> = fill(seed + 60, w, m).iter().map(|&v| t(v)).collect();
            let ctx = |unit, with_upd| format!("{} seed={seed} unit={unit} upd={with_upd}", m);
            for unit in [false, true] {
                for with_upd in [false, true] {
                    // Row-major reference input: x + upd (upd column-major).
                    let mut want = x0.clone();
                    if with_upd {
                        for i in 0..m {
                            for j in 0..w {
                                want[i * w + j] = want[i * w + j] + upd[j * m + i];
                            }
                        }
                    }
                    diag_solve(unit, m, m, w, &dcol, &recip, &mut want);
                    // SAFETY: the caller checked AVX2 + FMA; the buffers have the sizes the
                    // solve reads and writes (`cols`: six columns of m rows), the reciprocals
                    // are non-zero.
                    let run = |x: *mut T, cols: Option<(*mut T, isize)>| unsafe {
                        let u = with_upd.then_some(upd.as_ptr());
                        solve(unit, dcol.as_ptr(), recip.as_ptr(), u, x, cols);
                    };
                    let mut got = x0.clone();
                    run(got.as_mut_ptr(), None);
                    for (k, (g, e)) in got.iter().zip(&want).enumerate() {
                        assert!(
                            g == e,
                            "{}: ({}, {}) {g} {e}",
                            ctx(unit, with_upd),
                            k / w,
                            k % w
                        );
                    }
                    // Read from and written to column-major storage (leading dimension
                    // m + 3), x only receiving the solution.
                    let ld = m + 3;
                    let mut colbuf = vec![T::nan(); ld * w];
                    for i in 0..m {
                        for j in 0..w {
                            colbuf[j * ld + i] = x0[i * w + j];
                        }
                    }
                    let mut xs = vec![T::nan(); m * w];
                    run(xs.as_mut_ptr(), Some((colbuf.as_mut_ptr(), ld as isize)));
                    for i in 0..m {
                        for j in 0..w {
                            let e = want[i * w + j];
                            let ctx = ctx(unit, with_upd);
                            assert!(colbuf[j * ld + i] == e, "{ctx} columns: ({i}, {j})");
                            assert!(xs[i * w + j] == e, "{ctx} x: ({i}, {j})");
                        }
                        for j in 0..w - 1 {
                            assert!(colbuf[j * ld + m + 1].is_nan(), "past the column's rows");
                        }
                    }
                }
            }
            // An infinite right-hand side in row 5: rows 0..5 do not depend on it.
            let mut x = x0.clone();
            x[5 * w + 2] = T::infinity();
            let mut want = x.clone();
            diag_solve(false, m, m, w, &dcol, &recip, &mut want);
            // SAFETY: as above.
            unsafe {
                solve(
                    false,
                    dcol.as_ptr(),
                    recip.as_ptr(),
                    None,
                    x.as_mut_ptr(),
                    None,
                )
            };
            for k in 0..5 * w {
                assert!(
                    x[k].is_finite(),
                    "{}: row {} {}",
                    ctx(false, false),
                    k / w,
                    x[k]
                );
                assert!(x[k] == want[k]);
            }
            assert!(x[5 * w + 2] == T::infinity());
        }
    }
}
