//! GEMM on the `rayon` engine: the five BLIS loops around parla's micro-kernels, with the
//! parallel loop on rayon.
//!
//! ```text
//! loop 5  jc: columns of C and B in blocks of NC        (sequential)
//!  loop 4  pc: the k dimension in blocks of KC           (sequential; β applies at pc = 0)
//!          pack B~ = B[pc.., jc..] (KC × NC)             (parallel over NR-column panels)
//!   loop 3  ic: rows of C and A in blocks of ≤ MC         ← THE parallel loop (rayon tasks)
//!           pack A~ = A[ic.., pc..] (MC × KC) into the worker's own buffer
//!    loop 2  jr: NR-column micro-panels of B~            (kernels::gemm::macro_kernel)
//!     loop 1  ir: MR-row micro-panels of A~ → micro-kernel on an MR × NR tile of C
//! ```
//!
//! Why loop 3: on CPUs whose cores each have a private L2 and share the L3, splitting `ic`
//! gives each worker its own A~ block in its own L2 while all workers read the one packed B~
//! from the shared L3, so nothing is packed twice and no worker writes where
//! another reads. The row blocks are sized so their number is a multiple of the thread count
//! (even load) and none exceeds MC. When C has fewer MR-row panels than threads (a short, wide
//! C), the column range is cut as well (loop 2 split into groups of NR-column panels).
//!
//! Each element of C is summed in the same order (KC blocks in sequence, k in order inside the
//! micro-kernel) whatever the thread count and whichever worker computes it, so results are
//! bit-identical run to run and across thread counts for a given micro-kernel and KC.
//!
//! A row-major C is computed as `Cᵀ = Bᵀ Aᵀ`, so the micro-kernel always stores columns of
//! contiguous rows; any other layout (general strides) still works through the kernel's
//! buffered store.

use std::cell::RefCell;

use ndarray::{s, ArrayView2, ArrayViewMut2, Axis};
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::kernels::gemm::macro_kernel;
use crate::kernels::pack::{pack_a, pack_b, AlignedBuf};
use crate::kernels::{Element, GemmKernel, MicroKernel};
use crate::parallel::Team;
use crate::scalar::Scalar;

thread_local! {
    /// Each worker's A~ buffer (loop 3), reused from call to call: at most `MC × KC` elements.
    static PACK_A: RefCell<AlignedBuf> = RefCell::new(AlignedBuf::default());
    /// The calling thread's B~ buffer (loop 4), reused so a large GEMM does not fault in fresh
    /// pages on every call: at most `KC × NC` elements.
    static PACK_B: RefCell<AlignedBuf> = RefCell::new(AlignedBuf::default());
}

/// Runs `f` with this thread's buffer in `key`, or a fresh one if it is already in use.
pub(crate) fn with_buffer<R>(
    key: &'static std::thread::LocalKey<RefCell<AlignedBuf>>,
    f: impl FnOnce(&mut AlignedBuf) -> R,
) -> R {
    key.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => f(&mut buf),
        Err(_) => f(&mut AlignedBuf::default()),
    })
}

/// [`pack_b`] of `bsrc` (`kc × nc`) into `out`, split over `threads` workers (of the current
/// rayon pool) in groups of whole NR-column panels when there is more than one.
pub(crate) fn pack_b_on<T: Copy + num_traits::Zero + Send + Sync + 'static>(
    threads: usize,
    nr: usize,
    bsrc: ArrayView2<T>,
    out: &mut [T],
) {
    let (kc, nc) = bsrc.dim();
    let panels = nc.div_ceil(nr);
    let out = &mut out[..panels * nr * kc];
    if threads <= 1 || panels <= 1 {
        pack_b(nr, bsrc, out);
        return;
    }
    let per = panels.div_ceil(threads);
    out.par_chunks_mut(per * nr * kc)
        .enumerate()
        .for_each(|(g, out)| {
            let j0 = g * per * nr;
            let j1 = (j0 + per * nr).min(nc);
            pack_b(nr, bsrc.slice(s![.., j0..j1]), out);
        });
}

pub(crate) fn out_of_memory(op: &'static str, elements: usize) -> Error {
    Error::InvalidArgument {
        op,
        name: "workspace",
        reason: format!("cannot allocate a packing buffer of {elements} elements"),
    }
}

/// How loop 3 (and, for short C, loop 2) is cut into tasks for an `m × n` block of C.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TaskGrid {
    /// Rows of C per task (a multiple of MR, except the last task's).
    pub rows: usize,
    /// Columns of C per task (a multiple of NR, except the last task's).
    pub cols: usize,
}

/// The task grid for an `m × n` block of C on `threads` workers (see the module docs).
pub(crate) fn task_grid(
    m: usize,
    n: usize,
    mr: usize,
    nr: usize,
    mc: usize,
    threads: usize,
) -> TaskGrid {
    let panels = m.div_ceil(mr).max(1);
    let threads = threads.max(1);
    let mut blocks = m.div_ceil(mc.max(1)).max(1);
    if threads > 1 {
        blocks = blocks.div_ceil(threads) * threads;
    }
    let blocks = blocks.min(panels);
    let rows = panels.div_ceil(blocks) * mr;
    let groups = if blocks >= threads {
        1
    } else {
        threads.div_ceil(blocks)
    };
    let col_panels = n.div_ceil(nr).max(1);
    let cols = col_panels.div_ceil(groups.min(col_panels)) * nr;
    TaskGrid { rows, cols }
}

/// `C ← α A B + β C` for `A: m × k`, `B: k × n`, `C: m × n` with `m, n, k ≥ 1` and `α ≠ 0`
/// (the public API answers the other cases), on `threads` rayon workers running `kernel`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm<T: Scalar>(
    op: &'static str,
    team: &Team,
    kernel: GemmKernel,
    alpha: T,
    a: ArrayView2<T>,
    b: ArrayView2<T>,
    beta: T,
    c: &mut ArrayViewMut2<T>,
) -> Result<()> {
    if !kernel.isa.available() {
        return Err(Error::InvalidArgument {
            op,
            name: "isa",
            reason: format!("this CPU cannot run the {} kernels", kernel.isa),
        });
    }
    let (rs, cs) = (c.strides()[0], c.strides()[1]);
    if rs != 1 && cs == 1 {
        // Row-major C: compute Cᵀ = Bᵀ Aᵀ, whose rows are contiguous.
        let mut ct = c.view_mut().reversed_axes();
        return run(op, team, kernel, alpha, b.t(), a.t(), beta, &mut ct);
    }
    run(op, team, kernel, alpha, a, b, beta, c)
}

#[allow(clippy::too_many_arguments)]
fn run<T: Scalar>(
    op: &'static str,
    team: &Team,
    kernel: GemmKernel,
    alpha: T,
    a: ArrayView2<T>,
    b: ArrayView2<T>,
    beta: T,
    c: &mut ArrayViewMut2<T>,
) -> Result<()> {
    let threads = team.threads();
    team.install(|| {
        with_buffer(&PACK_B, |bbuf| {
            loops(op, threads, kernel, alpha, a, b, beta, c, bbuf)
        })
    })
}

#[allow(clippy::too_many_arguments)]
fn loops<T: Scalar>(
    op: &'static str,
    threads: usize,
    kernel: GemmKernel,
    alpha: T,
    a: ArrayView2<T>,
    b: ArrayView2<T>,
    beta: T,
    c: &mut ArrayViewMut2<T>,
    bbuf: &mut AlignedBuf,
) -> Result<()> {
    let uk = T::micro_kernel(kernel.isa);
    let (mr, nr) = (uk.mr, uk.nr);
    let (mc, kc, nc) = (kernel.blocks.mc, kernel.blocks.kc, kernel.blocks.nc);
    let (m, n) = c.dim();
    let k = a.ncols();
    let parallel = threads > 1;

    // Loop 5 (jc): blocks of NC columns of B and C.
    for jc in (0..n).step_by(nc) {
        let ncur = nc.min(n - jc);
        let grid = task_grid(m, ncur, mr, nr, mc, threads);
        let mut cblk = c.slice_mut(s![.., jc..jc + ncur]);
        // Loop 4 (pc): rank-KC updates; β scales C once, on the first.
        for pc in (0..k).step_by(kc) {
            let kcur = kc.min(k - pc);
            let beta_pc = if pc == 0 { beta } else { T::one() };
            let panel_len = nr * kcur;
            let len = ncur.div_ceil(nr) * panel_len;
            let bpacked = bbuf.slice::<T>(len).ok_or_else(|| out_of_memory(op, len))?;
            let bsrc = b.slice(s![pc..pc + kcur, jc..jc + ncur]);
            pack_b_on(threads, nr, bsrc, bpacked);
            let bpacked: &[T] = bpacked;

            // Loop 3 (ic), cut into tasks (rows × column groups): the parallel loop.
            let mut tasks = Vec::new();
            for (ib, rows) in cblk.axis_chunks_iter_mut(Axis(0), grid.rows).enumerate() {
                for (jb, tile) in rows
                    .into_axis_chunks_iter_mut(Axis(1), grid.cols)
                    .enumerate()
                {
                    tasks.push((ib * grid.rows, jb * grid.cols, tile));
                }
            }
            let task = |(i0, j0, mut tile): (usize, usize, ArrayViewMut2<T>)| -> Result<()> {
                let asrc = a.slice(s![i0..i0 + tile.nrows(), pc..pc + kcur]);
                let bpart = &bpacked[(j0 / nr) * panel_len..];
                block::<T>(op, &uk, kcur, asrc, bpart, &mut tile, alpha, beta_pc)
            };
            if parallel {
                tasks.into_par_iter().try_for_each(task)?;
            } else {
                tasks.into_iter().try_for_each(task)?;
            }
        }
    }
    Ok(())
}

/// One task of loop 3: packs its A~ block into this worker's buffer and runs loops 2 and 1.
#[allow(clippy::too_many_arguments)]
fn block<T: Element>(
    op: &'static str,
    uk: &MicroKernel<T>,
    kc: usize,
    asrc: ArrayView2<T>,
    bpacked: &[T],
    tile: &mut ArrayViewMut2<T>,
    alpha: T,
    beta: T,
) -> Result<()> {
    with_buffer(&PACK_A, |abuf| {
        let len = asrc.nrows().div_ceil(uk.mr) * uk.mr * kc;
        let apacked = abuf.slice::<T>(len).ok_or_else(|| out_of_memory(op, len))?;
        pack_a(uk.mr, asrc, apacked);
        // SAFETY: the kernel's ISA was checked available in `gemm`; A~ and B~ were packed with
        // this kernel's MR / NR for this block's rows, columns and depth kc.
        unsafe { macro_kernel(uk, kc, apacked, bpacked, tile, alpha, beta) };
        Ok(())
    })
}
