//! Householder reduction of a symmetric matrix to tridiagonal form, `A = Q T Qᵀ`
//! (LAPACK `sytrd` / `latrd` / `sytd2`, lower triangle), blocked so that half the flops are
//! GEMMs on the engine.
//!
//! ```text
//! for each panel of NB columns at j₀ (while more than 2·NB columns remain):
//!     for each column c of the panel:
//!         A[c.., c] −= V Wᵀ + W Vᵀ (row c of the earlier panel columns)     (bring column c up to date)
//!         H_c = I − τ v vᵀ maps A[c+1.., c] onto β e₁                     (larfg conventions, v₀ = 1)
//!         w = τ (A₂₂ − V Wᵀ − W Vᵀ) v, A₂₂ as at the panel start           (symmetric matrix-vector product,
//!         w ← w − ½ τ (wᵀv) v                                               in blocks of columns, one per worker
//!                                                                            of a team kept for the panel)
//!     A_trailing −= V Wᵀ + W Vᵀ                 (rank-2·NB update, lower triangle: one GEMMT [V W][W V]ᵀ)
//! the last columns: unblocked (the same step with the rank-2 update applied at once)
//! Q = H₀ H₁ … H_{n−2}
//! ```
//! Only the lower triangle of the column-major work matrix is read (the GEMMT of engine
//! `rayon-blas` also writes parts of the upper one, which is scratch); the vectors `v` stay below the subdiagonal, QR-style, for
//! [`apply_reflectors`](super::orthogonal::apply_reflectors).

use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Mutex, RwLock};

use ndarray::{s, Array2, ArrayViewMut2, Axis};
use rayon::prelude::*;

use crate::alloc::zeros_f;
use crate::error::Result;
use crate::factor::gemmt_lower;
use crate::kernels::cols4::{prefetch, symv4, COLS};
use crate::kernels::reflector::householder;
use crate::kernels::simd1::{axpy, dot, dot_axpy, Fma};

use super::columns::{combine_columns_into, dots_by_column};
use crate::parallel::level3::Level3;
use crate::scalar::Scalar;

/// Panel width of the blocked reduction (the depth of the trailing GEMMs; QR's panel width). Chosen, not yet tuned (`cargo run --release --example spectral_engines` is the benchmark to
/// tune it with).
pub(crate) const TRD_NB: usize = 32;

/// Order of the trailing matrix from which its matrix-vector product is split over threads. Chosen, not yet tuned (`cargo run --release --example spectral_engines` is the benchmark to
/// tune it with).
const SYMV_PARALLEL_MIN: usize = 256;

/// Work of one entry of the panel's corrections (`Wᵀv`, `Vᵀv`, `V y`, `W x`: one multiply-add
/// per entry of the panel's columns) relative to one entry of the symmetric product (two
/// multiply-adds per entry read), in [`SymvTeam`]'s split: the product's first thread does the
/// corrections and takes that much less of the product. Chosen, not yet tuned.
const LEAD_WEIGHT: f64 = 1.0;

/// The tridiagonal matrix and the reflectors of a reduction.
pub(crate) struct Tridiagonal<T> {
    /// Diagonal, `n` entries.
    pub d: Vec<T>,
    /// Subdiagonal, `n − 1` entries.
    pub e: Vec<T>,
    /// The reflectors' scalars, `n − 1` entries (vectors in the work matrix).
    pub tau: Vec<T>,
}

/// Reduces the symmetric matrix whose lower triangle is in the column-major (Fortran-order)
/// square `a`, in place, with panels of `nb` columns (`nb = 0`: unblocked).
pub(crate) fn tridiagonalize<T: Scalar>(
    op: &'static str,
    l3: &Level3,
    a: &mut Array2<T>,
    nb: usize,
) -> Result<Tridiagonal<T>> {
    let n = a.nrows();
    let fma = Fma::detect();
    let mut e = vec![T::zero(); n.saturating_sub(1)];
    let mut tau = vec![T::zero(); n.saturating_sub(1)];
    let mut j0 = 0;
    if nb > 0 {
        // [V W] and [W V], column-major: the trailing update is one GEMMT of depth 2·nb.
        let mut vw = zeros_f::<T>(op, n, 2 * nb)?;
        let mut wv = zeros_f::<T>(op, n, 2 * nb)?;
        while n - j0 > 2 * nb {
            vw.fill(T::zero());
            let (vp, wp) = vw.view_mut().split_at(Axis(1), nb);
            panel(l3, a, j0, nb, vp, wp, &mut e, &mut tau, fma);
            let r = j0 + nb;
            {
                // Column by column (ndarray's assign walked these column-major slices by rows).
                let src = vw.as_slice_memory_order().expect("contiguous");
                let dst = wv.as_slice_memory_order_mut().expect("contiguous");
                for t in 0..2 * nb {
                    let from = (t + nb) % (2 * nb);
                    dst[t * n + r..(t + 1) * n].copy_from_slice(&src[from * n + r..(from + 1) * n]);
                }
            }
            let mut c = a.slice_mut(s![r.., r..]);
            gemmt_lower(l3, op, vw.slice(s![r.., ..]), wv.slice(s![r.., ..]), &mut c)?;
            j0 = r;
        }
    }
    unblocked(l3, fma, a, j0, &mut e, &mut tau);
    let d = (0..n).map(|i| a[[i, i]]).collect();
    Ok(Tridiagonal { d, e, tau })
}

/// The column blocks `bounds[t]..bounds[t + 1]` of an order-`m` lower triangle that split its
/// area evenly over `threads` (column `c` holds `m − c` entries), counting `lead` more entries
/// of other work for the first block's thread.
fn symv_bounds(m: usize, threads: usize, lead: f64) -> Vec<usize> {
    let total = (m * (m + 1) / 2) as f64;
    let first = ((total + lead) / threads as f64 - lead).max(0.0);
    let mut bounds = vec![0];
    for t in 1..threads {
        let target = first + (total - first) * (t - 1) as f64 / (threads - 1) as f64;
        // Area of columns 0..c: c·m − c(c−1)/2 = target.
        let mf = m as f64 + 0.5;
        let c = (mf - (mf * mf - 2.0 * target).max(0.0).sqrt()) as usize;
        bounds.push(c.clamp(*bounds.last().unwrap_or(&0), m));
    }
    bounds.push(m);
    bounds
}

/// The columns `c0..c1` of `w ← A₂₂ v` (see [`symv_lower`]) added into `w`, which holds rows
/// `base..m` (`base ≤ c0`).
#[allow(clippy::too_many_arguments)]
fn symv_columns<T: Scalar>(
    fma: Fma,
    data: &[T],
    n: usize,
    off: usize,
    v: &[T],
    (c0, c1): (usize, usize),
    base: usize,
    w: &mut [T],
) {
    // Rows off.. of column off + c, indexed by local row.
    let col = |c: usize| &data[(off + c) * n + off..(off + c + 1) * n];
    let mut c = c0;
    // COLS columns per pass: their diagonal block entry by entry, then the rows
    // below it in one sweep.
    while c + COLS <= c1 {
        let r0 = c + COLS;
        let cols: [&[T]; COLS] = std::array::from_fn(|j| &col(c + j)[c..]);
        let alpha: [T; COLS] = std::array::from_fn(|j| v[c + j]);
        // The lower triangle of the diagonal block, as fixed-size arrays (unrolled, no
        // bounds checks; it was a quarter of the product's time at n = 512).
        let mut add = [T::zero(); COLS];
        for j in 0..COLS {
            add[j] = add[j] + cols[j][j] * alpha[j];
            for r in j + 1..COLS {
                add[j] = add[j] + cols[j][r] * alpha[r];
                add[r] = add[r] + cols[j][r] * alpha[j];
            }
        }
        // The next group's column heads (two lines each), fetched while this one runs.
        if r0 + COLS <= c1 {
            for j in 0..COLS {
                let head = &col(r0 + j)[r0..];
                prefetch(&head[0]);
                if let Some(x) = head.get(64 / size_of::<T>()) {
                    prefetch(x);
                }
            }
        }
        let below: [&[T]; COLS] = std::array::from_fn(|j| &cols[j][COLS..]);
        let s = symv4(fma, below, &v[r0..], alpha, &mut w[r0 - base..]);
        for j in 0..COLS {
            w[c + j - base] = w[c + j - base] + add[j] + s[j];
        }
        c = r0;
    }
    for c in c..c1 {
        let (diag, below) = col(c)[c..].split_first().expect("c < m");
        let s = dot_axpy(fma, below, &v[c + 1..], v[c], &mut w[c + 1 - base..]);
        w[c - base] = w[c - base] + *diag * v[c] + s;
    }
}

/// `w ← A₂₂ v` for the lower-stored symmetric `A₂₂` = rows/columns `off..n` of the column-major
/// `data` (leading dimension `n`): column `c` contributes its dot product to `w[c]` and its
/// below-diagonal part times `v[c]` to `w[c+1..]`. Cut into column blocks of equal area, one
/// partial `w` per thread, when large (one fork-join; the panels use a [`SymvTeam`]).
fn symv_lower<T: Scalar>(
    threads: usize,
    fma: Fma,
    data: &[T],
    n: usize,
    off: usize,
    v: &[T],
    w: &mut [T],
) {
    let m = n - off;
    w.fill(T::zero());
    if threads <= 1 || m < SYMV_PARALLEL_MIN {
        symv_columns(fma, data, n, off, v, (0, m), 0, w);
        return;
    }
    let bounds = symv_bounds(m, threads, 0.0);
    // The first block writes `w` itself (on this thread); every other one a partial vector,
    // which only has entries from its first column down.
    let partials: Vec<(usize, Vec<T>)> = rayon::join(
        || symv_columns(fma, data, n, off, v, (bounds[0], bounds[1]), 0, w),
        || {
            bounds[1..]
                .windows(2)
                .collect::<Vec<_>>()
                .into_par_iter()
                .map(|b| {
                    let mut p = vec![T::zero(); m - b[0]];
                    symv_columns(fma, data, n, off, v, (b[0], b[1]), b[0], &mut p);
                    (b[0], p)
                })
                .collect()
        },
    )
    .1;
    for (c0, p) in partials {
        w[c0..].iter_mut().zip(p).for_each(|(x, y)| *x = *x + y);
    }
}

/// What the panel's columns share with the helpers of a [`SymvTeam`]: the work matrix and
/// the current reflector `v` (entries `..n − off`). The panel writes them between products,
/// everyone reads them during one; the lock is never contended (the hand-offs order it).
struct Work<'a, T> {
    data: &'a mut [T],
    v: Vec<T>,
}

/// A helper's block of one product: its state, the product's offset and columns, its partial
/// sum.
struct Slot<T> {
    state: AtomicU32,
    off: AtomicUsize,
    cols: [AtomicUsize; 2],
    partial: Mutex<Vec<T>>,
}

/// [`Slot`] states: waiting for a product; one posted (the block's offset in `off`); taken by
/// whoever runs it; its partial sum ready; the panel finished.
const IDLE: u32 = 0;
const POSTED: u32 = 1;
const TAKEN: u32 = 2;
const DONE: u32 = 3;
const EXIT: u32 = 4;

/// Spins on `state` until `ready` holds for it (then yields the CPU between checks, for
/// oversubscribed pools), returning the state seen.
fn wait_for(state: &AtomicU32, ready: impl Fn(u32) -> bool) -> u32 {
    let mut spins = 0u32;
    loop {
        let s = state.load(Ordering::Acquire);
        if ready(s) {
            return s;
        }
        if spins < 1 << 14 {
            spins += 1;
            std::hint::spin_loop();
        } else {
            std::thread::yield_now();
        }
    }
}

/// The symmetric products of one panel on workers kept for the whole panel: helper `t` runs
/// column block `t` of every product ([`symv_bounds`]), handed over by an atomic flag, instead
/// of one rayon fork-join per column; the panel's thread runs block 0, made smaller by the
/// panel's corrections it runs beside it. Measured with `--example spectral_engines -- 2 512
/// 1024 --only=eigh,eigvalsh` (time / `blas`, two runs each): eigvalsh n = 512 from 0.95–1.12
/// to 0.93–0.99, n = 1024 from 1.00–1.04 to 0.97. A block whose helper has not started yet (no
/// free worker took its job) is run by the panel's thread itself, so nothing waits on a job
/// that may never start.
struct SymvTeam<'s, 'a, T> {
    work: &'s RwLock<Work<'a, T>>,
    slots: &'s [Slot<T>],
    fma: Fma,
    n: usize,
}

impl<T: Scalar> SymvTeam<'_, '_, T> {
    /// The block posted in `slot` into its partial sum.
    fn run_block(&self, slot: &Slot<T>) {
        let off = slot.off.load(Ordering::Acquire);
        let [c0, c1] = slot.cols.each_ref().map(|c| c.load(Ordering::Acquire));
        let m = self.n - off;
        let work = self.work.read().unwrap_or_else(|e| e.into_inner());
        let mut p = slot.partial.lock().unwrap_or_else(|e| e.into_inner());
        p.clear();
        p.resize(m - c0, T::zero());
        symv_columns(
            self.fma,
            work.data,
            self.n,
            off,
            &work.v[..m],
            (c0, c1),
            c0,
            &mut p,
        );
    }

    /// The loop of the helper of `slot`: run each posted block until the panel ends.
    fn helper(&self, slot: &Slot<T>) {
        loop {
            if wait_for(&slot.state, |s| s == POSTED || s == EXIT) == EXIT {
                return;
            }
            if slot
                .state
                .compare_exchange(POSTED, TAKEN, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                // DONE even if the block panics: the panel's thread must not wait forever
                // (the scope rethrows the panic).
                struct Done<'x>(&'x AtomicU32);
                impl Drop for Done<'_> {
                    fn drop(&mut self) {
                        self.0.store(DONE, Ordering::Release);
                    }
                }
                let _done = Done(&slot.state);
                self.run_block(slot);
            }
        }
    }

    /// `w ← A₂₂ v + own(v)` at `off` (`v` in the shared work, `w`: `n − off` entries; `own`
    /// adds its share to `w`, about `lead` entries' work): block 0 and `own` on this thread,
    /// the other blocks on the helpers (or here, for a helper not started).
    fn symv(&self, off: usize, lead: f64, w: &mut [T], own: &mut dyn FnMut(&[T], &mut [T])) {
        let m = self.n - off;
        let b = symv_bounds(m, self.slots.len() + 1, lead);
        for (t, slot) in (1..).zip(self.slots) {
            slot.off.store(off, Ordering::Release);
            slot.cols[0].store(b[t], Ordering::Release);
            slot.cols[1].store(b[t + 1], Ordering::Release);
            slot.state.store(POSTED, Ordering::Release);
        }
        w.fill(T::zero());
        {
            let work = self.work.read().unwrap_or_else(|e| e.into_inner());
            symv_columns(
                self.fma,
                work.data,
                self.n,
                off,
                &work.v[..m],
                (0, b[1]),
                0,
                w,
            );
            own(&work.v[..m], w);
        }
        for (t, slot) in (1..).zip(self.slots) {
            let taken = slot
                .state
                .compare_exchange(POSTED, TAKEN, Ordering::AcqRel, Ordering::Acquire)
                .is_ok();
            if taken {
                self.run_block(slot);
            } else {
                wait_for(&slot.state, |s| s == DONE);
            }
            let p = slot.partial.lock().unwrap_or_else(|e| e.into_inner());
            w[b[t]..]
                .iter_mut()
                .zip(p.iter())
                .for_each(|(x, &y)| *x = *x + y);
            drop(p);
            slot.state.store(IDLE, Ordering::Release);
        }
    }
}

/// Sets every slot to [`EXIT`] when the panel ends (or unwinds), releasing the helpers.
struct ExitOnDrop<'s, T>(&'s [Slot<T>]);

impl<T> Drop for ExitOnDrop<'_, T> {
    fn drop(&mut self) {
        for slot in self.0 {
            slot.state.store(EXIT, Ordering::Release);
        }
    }
}

/// One panel of [`TRD_NB`]-style blocked reduction: columns `j0..j0+nb` reduced, their vectors
/// in `vp` (explicit unit and zeros above) and `wp`, the trailing matrix not yet updated. On two
/// or more workers, from a trailing order of [`SYMV_PARALLEL_MIN`], the products run on a
/// [`SymvTeam`] kept for the panel.
#[allow(clippy::too_many_arguments)]
fn panel<T: Scalar>(
    l3: &Level3,
    a: &mut Array2<T>,
    j0: usize,
    nb: usize,
    vp: ArrayViewMut2<T>,
    wp: ArrayViewMut2<T>,
    e: &mut [T],
    tau: &mut [T],
    fma: Fma,
) {
    let n = a.nrows();
    let threads = l3.team.threads();
    let work = RwLock::new(Work {
        data: a
            .as_slice_memory_order_mut()
            .expect("the work matrix is contiguous"),
        v: vec![T::zero(); n],
    });
    if threads <= 1 || n - j0 - 1 < SYMV_PARALLEL_MIN {
        let product = |off: usize, _lead: f64, w: &mut [T], own: &mut dyn FnMut(&[T], &mut [T])| {
            let work = work.read().unwrap_or_else(|e| e.into_inner());
            let v = &work.v[..n - off];
            symv_lower(threads, fma, work.data, n, off, v, w);
            own(v, w);
        };
        panel_columns(&work, j0, nb, vp, wp, e, tau, fma, threads, product);
        return;
    }
    let slots: Vec<Slot<T>> = (1..threads)
        .map(|_| Slot {
            state: AtomicU32::new(IDLE),
            off: AtomicUsize::new(0),
            cols: [AtomicUsize::new(0), AtomicUsize::new(0)],
            partial: Mutex::new(Vec::new()),
        })
        .collect();
    let team = SymvTeam {
        work: &work,
        slots: &slots,
        fma,
        n,
    };
    l3.team.install(|| {
        rayon::scope(|s| {
            let team = &team;
            for slot in team.slots {
                s.spawn(move |_| team.helper(slot));
            }
            let _exit = ExitOnDrop(team.slots);
            // The helpers busy-wait on their workers: the panel's own passes stay on this one.
            let product = |off, lead, w: &mut [T], own: &mut dyn FnMut(&[T], &mut [T])| {
                team.symv(off, lead, w, own)
            };
            panel_columns(team.work, j0, nb, vp, wp, e, tau, fma, 1, product);
        });
    });
}

/// The columns of one [`panel`], with `product(off, w)`: `w ← A₂₂ v` for the reflector `v`
/// in `work` and the trailing matrix from `off`.
#[allow(clippy::too_many_arguments)]
fn panel_columns<T: Scalar>(
    work: &RwLock<Work<'_, T>>,
    j0: usize,
    nb: usize,
    mut vp: ArrayViewMut2<T>,
    mut wp: ArrayViewMut2<T>,
    e: &mut [T],
    tau: &mut [T],
    fma: Fma,
    threads: usize,
    product: impl Fn(usize, f64, &mut [T], &mut dyn FnMut(&[T], &mut [T])),
) {
    let half = T::of(0.5);
    let vdat = vp.as_slice_memory_order_mut().expect("contiguous");
    let wdat = wp.as_slice_memory_order_mut().expect("contiguous");
    let n = vdat.len() / nb;
    let mut w = vec![T::zero(); n];
    let mut y = vec![T::zero(); nb];
    let mut x = vec![T::zero(); nb];
    // −W[c, ..i] and −V[c, ..i] of the column being brought up to date.
    let mut wc = vec![T::zero(); nb];
    let mut vc = vec![T::zero(); nb];
    for i in 0..nb {
        let c = j0 + i;
        let m = n - c - 1;
        let t = {
            let mut guard = work.write().unwrap_or_else(|e| e.into_inner());
            let Work { data, v } = &mut *guard;
            // Bring column c (rows c..n) up to date with the panel's earlier columns:
            // A[c.., c] −= V[c.., ..i] W[c, ..i]ᵀ + W[c.., ..i] V[c, ..i]ᵀ, four columns per pass.
            if i > 0 {
                let col = &mut data[c * n + c..(c + 1) * n];
                let (wc, vc) = (&mut wc[..i], &mut vc[..i]);
                for (t, (w, v)) in wc.iter_mut().zip(vc.iter_mut()).enumerate() {
                    *w = -wdat[t * n + c];
                    *v = -vdat[t * n + c];
                }
                combine_columns_into(fma, threads, vdat, n, c, 0, wc, col);
                combine_columns_into(fma, threads, wdat, n, c, 0, vc, col);
            }
            let col = &mut data[c * n + c + 1..(c + 1) * n];
            let (alpha, xs) = col.split_first_mut().expect("c + 1 < n");
            let (beta, t) = householder(*alpha, xs);
            *alpha = beta;
            e[c] = beta;
            tau[c] = t;
            let v = &mut v[..m];
            v[0] = T::one();
            v[1..].copy_from_slice(xs);
            vdat[i * n + c + 1..(i + 1) * n].copy_from_slice(v);
            t
        };
        if t == T::zero() {
            continue;
        }
        let w = &mut w[..m];
        // w −= V (Wᵀ v) + W (Vᵀ v) over the panel's earlier columns, rows c+1..n: four
        // passes over i columns, on the product's first thread beside its share.
        let (vd, wd) = (&*vdat, &*wdat);
        let (y, x) = (&mut y[..i], &mut x[..i]);
        let mut own = |v: &[T], w: &mut [T]| {
            if i > 0 {
                dots_by_column(fma, threads, wd, n, c + 1, 0, v, y);
                dots_by_column(fma, threads, vd, n, c + 1, 0, v, x);
                y.iter_mut().chain(x.iter_mut()).for_each(|z| *z = -*z);
                combine_columns_into(fma, threads, vd, n, c + 1, 0, y, w);
                combine_columns_into(fma, threads, wd, n, c + 1, 0, x, w);
            }
        };
        product(c + 1, (4 * i * m) as f64 * LEAD_WEIGHT, w, &mut own);
        let guard = work.read().unwrap_or_else(|e| e.into_inner());
        let v = &guard.v[..m];
        w.iter_mut().for_each(|z| *z = *z * t);
        let alpha2 = -half * t * dot(fma, w, v);
        axpy(fma, alpha2, v, w);
        wdat[i * n + c + 1..(i + 1) * n].copy_from_slice(w);
    }
}

/// The unblocked reduction of columns `j0..n−1` (LAPACK `sytd2`).
fn unblocked<T: Scalar>(
    l3: &Level3,
    fma: Fma,
    a: &mut Array2<T>,
    j0: usize,
    e: &mut [T],
    tau: &mut [T],
) {
    let n = a.nrows();
    let data = a
        .as_slice_memory_order_mut()
        .expect("the work matrix is contiguous");
    let half = T::of(0.5);
    let mut v = vec![T::zero(); n];
    let mut w = vec![T::zero(); n];
    for j in j0..n.saturating_sub(1) {
        let m = n - j - 1;
        let col = &mut data[j * n + j + 1..(j + 1) * n];
        let (alpha, x) = col.split_first_mut().expect("m ≥ 1");
        let (beta, t) = householder(*alpha, x);
        *alpha = beta;
        e[j] = beta;
        tau[j] = t;
        if t == T::zero() {
            continue;
        }
        let (v, w) = (&mut v[..m], &mut w[..m]);
        v[0] = T::one();
        v[1..].copy_from_slice(x);
        symv_lower(l3.team.threads(), fma, data, n, j + 1, v, w);
        w.iter_mut().for_each(|x| *x = *x * t);
        let alpha2 = -half * t * dot(fma, w, v);
        axpy(fma, alpha2, v, w);
        for c in 0..m {
            let base = (j + 1 + c) * n + j + 1;
            let colc = &mut data[base + c..base + m];
            let (vc, wc) = (v[c], w[c]);
            axpy(fma, -wc, &v[c..], colc);
            axpy(fma, -vc, &w[c..], colc);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::factor::orthogonal::apply_reflectors;
    use crate::kernels::Isa;
    use crate::parallel::{Kernels, Native, Team};
    use ndarray::ShapeBuilder;

    /// `Q T Qᵀ = A` with forced tiny panels (several blocked panels at n = 40) and with
    /// the unblocked path, on one and two threads; at n = 300 the panels' products run on a
    /// `SymvTeam` (two and three workers; three on two cores: oversubscribed).
    #[test]
    fn q_t_qt_reconstructs_a() {
        for (n, nb, threads) in [
            (40, 0, 1),
            (40, 3, 1),
            (40, 5, 2),
            (40, 8, 2),
            (300, 8, 2),
            (300, 13, 3),
        ] {
            let a = Array2::from_shape_fn((n, n), |(i, j)| {
                let (i, j) = (i.max(j), i.min(j));
                ((i * 7 + j * 13) % 17) as f64 / 8.0 - 1.0
            });
            let l3 = Level3 {
                team: Team::new(threads).unwrap(),
                kernels: Kernels::Native(Native {
                    isa: Isa::Portable,
                    blocks: None,
                }),
                blocks: crate::parallel::level3::FactorBlocks::default(),
            };
            let mut w = Array2::zeros((n, n).f());
            w.assign(&a);
            let tri = tridiagonalize("test", &l3, &mut w, nb).unwrap();
            let mut t = Array2::<f64>::zeros((n, n).f());
            for i in 0..n {
                t[[i, i]] = tri.d[i];
                if i + 1 < n {
                    t[[i + 1, i]] = tri.e[i];
                    t[[i, i + 1]] = tri.e[i];
                }
            }
            // Q T Qᵀ = Q (Q Tᵀ)ᵀ: apply Q to the columns, transpose, apply again.
            let store = w.slice(s![1.., ..n - 1]);
            apply_reflectors(&l3, "test", store, &tri.tau, &mut t.slice_mut(s![1.., ..])).unwrap();
            let mut tt = Array2::zeros((n, n).f());
            tt.assign(&t.t());
            apply_reflectors(&l3, "test", store, &tri.tau, &mut tt.slice_mut(s![1.., ..])).unwrap();
            // Entries of A are at most 1: the error of a backward-stable reduction ≈ n·ε.
            let err = (&tt - &a).iter().fold(0.0f64, |m, x| m.max(x.abs()));
            assert!(
                err < 4.0 * n as f64 * f64::EPSILON,
                "n {n} nb {nb} threads {threads}: {err}"
            );
        }
    }
}
