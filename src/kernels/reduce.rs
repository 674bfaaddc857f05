//! Sums and 2-norms along one axis of a matrix in plain Rust (engine `rayon`, one block per
//! call).
//!
//! Two shapes of work, named by how the reduced axis lies in memory:
//!
//! - **along** ([`line_sums`], [`line_norms`]): every output reduces one *line* (a row of the
//!   block) whose elements are adjacent in memory: one lane-parallel sum per line.
//! - **down** ([`sums_down`], [`norms_down`]): every output is a *column* of the block, whose
//!   elements are a row apart. The block is never walked down a column: its rows are read one
//!   after another, contiguously, and added into a row of accumulators, [`ROW_GROUP`] rows per
//!   pass over a [`COL_TILE`]-wide tile of accumulators that stays in L2, placed so that its
//!   stores never 4K-alias the rows' loads (see `placed`).
//!
//! Every sum is accumulated in a fixed order, so a given block always produces the same bits.

use ndarray::{ArrayView1, ArrayView2, ArrayViewMut1, Zip};

use crate::kernels::level1;
use crate::real::Real;

/// Independent accumulators of a contiguous line sum: 4 AVX-512 vectors of f64 (2 of f32) in
/// flight, enough to stream from memory.
const LANES: usize = 32;

/// Accumulators of a "down" reduction kept hot at once: 4096 elements (32 KiB of f64 sums plus
/// 32 KiB of running maxima for norms), which fit a per-core L2 of 512 KiB or more, so each row
/// of the block is read from memory exactly once. Chosen with `cargo run --release -p parla-cli
/// --example reduce` (8192 × 4096 f64, one thread): 1024 (accumulators in L1, but 8 KiB runs per
/// row) was markedly slower than whole 32 KiB rows, because every short run restarts the
/// hardware prefetcher.
pub(crate) const COL_TILE: usize = 4096;

/// Rows added into the accumulators per pass over a tile: four input streams per accumulator
/// load/store, so the accumulator traffic is a quarter of the input traffic.
pub(crate) const ROW_GROUP: usize = 4;

/// `Σ f(xᵢ)` over a slice with [`LANES`] accumulators combined pairwise.
#[inline(always)]
fn lane_sum<T: Real>(x: &[T], f: impl Fn(T) -> T) -> T {
    let mut acc = [T::zero(); LANES];
    let body = x.len() - x.len() % LANES;
    for c in x[..body].chunks_exact(LANES) {
        for i in 0..LANES {
            acc[i] = acc[i] + f(c[i]);
        }
    }
    for (i, &v) in x[body..].iter().enumerate() {
        acc[i] = acc[i] + f(v);
    }
    let mut width = LANES;
    while width > 1 {
        width /= 2;
        for i in 0..width {
            acc[i] = acc[i] + acc[i + width];
        }
    }
    acc[0]
}

/// `Σ xᵢ` of a vector (lane-parallel when contiguous).
pub(crate) fn sum<T: Real>(x: ArrayView1<T>) -> T {
    match x.to_slice() {
        Some(xs) => lane_sum(xs, |v| v),
        None => x.iter().fold(T::zero(), |s, &v| s + v),
    }
}

/// `out[i] = Σⱼ v[i, j]`: one sum per row of `v` (rows should be contiguous for speed).
pub(crate) fn line_sums<T: Real>(v: ArrayView2<T>, out: &mut ArrayViewMut1<T>) {
    Zip::from(out)
        .and(v.rows())
        .for_each(|o, row| *o = sum(row));
}

/// `out[i] = ‖v[i, :]‖₂`: one scaled norm per row of `v` (see `level1::nrm2`).
pub(crate) fn line_norms<T: Real>(v: ArrayView2<T>, out: &mut ArrayViewMut1<T>) {
    Zip::from(out)
        .and(v.rows())
        .for_each(|o, row| *o = level1::nrm2(row));
}

/// Bytes in the address window that store-to-load forwarding compares: a store and a later load
/// whose addresses agree in their low 12 bits look dependent ("4K aliasing").
const ALIAS_WINDOW: usize = 4096;

/// A zeroed buffer of `len` elements placed so that its start lies `offset` bytes (mod
/// [`ALIAS_WINDOW`]) after `anchor`.
///
/// The accumulators of a "down" reduction are stored while rows of the matrix are loaded at the
/// same column index. A matrix whose rows are a multiple of 4 KiB apart (8192 × 4096 f64, say)
/// and an accumulator row allocated at the same page offset (large allocations all are) make
/// every accumulator store alias the next row's loads, which halves the speed. Shifting the
/// accumulators by half a window removes it.
fn placed<T: Real>(len: usize, anchor: *const T, offset: usize) -> (Vec<T>, usize) {
    let size = std::mem::size_of::<T>();
    let buf = vec![T::zero(); len + ALIAS_WINDOW / size];
    let want = (anchor as usize).wrapping_add(offset) % ALIAS_WINDOW;
    let have = buf.as_ptr() as usize % ALIAS_WINDOW;
    let shift = (want + ALIAS_WINDOW - have) % ALIAS_WINDOW / size;
    (buf, shift)
}

/// The rows of `rows` as slices, if every row is contiguous.
fn row_slices<'b, T>(rows: &'b ArrayView2<'_, T>) -> Option<Vec<&'b [T]>> {
    let slices: Vec<&'b [T]> = rows.outer_iter().filter_map(|r| r.to_slice()).collect();
    (slices.len() == rows.nrows()).then_some(slices)
}

/// Adds `f` of every row in `rows` into `acc` (all of `acc`'s length), tile by tile and
/// [`ROW_GROUP`] rows at a time. `track` also keeps `max |x|` per column in `amax`.
#[inline(always)]
fn add_rows<T: Real>(
    rows: &[&[T]],
    acc: &mut [T],
    amax: &mut [T],
    f: impl Fn(T) -> T + Copy,
    track: bool,
) {
    let q = acc.len();
    // `max(m, |x|)`, ignoring NaN (a NaN column is NaN through its sum anyway).
    let big = |m: T, x: T| {
        let a = x.abs();
        if a > m {
            a
        } else {
            m
        }
    };
    for c0 in (0..q).step_by(COL_TILE) {
        let c1 = (c0 + COL_TILE).min(q);
        let acc = &mut acc[c0..c1];
        let amax: &mut [T] = if track { &mut amax[c0..c1] } else { &mut [] };
        let mut groups = rows.chunks_exact(ROW_GROUP);
        for g in &mut groups {
            let (r0, r1, r2, r3) = (&g[0][c0..c1], &g[1][c0..c1], &g[2][c0..c1], &g[3][c0..c1]);
            if track {
                // One pass: sums and maxima together, each row element loaded once.
                for (((((a, m), &x0), &x1), &x2), &x3) in acc
                    .iter_mut()
                    .zip(amax.iter_mut())
                    .zip(r0)
                    .zip(r1)
                    .zip(r2)
                    .zip(r3)
                {
                    *a = *a + ((f(x0) + f(x1)) + (f(x2) + f(x3)));
                    *m = big(big(big(big(*m, x0), x1), x2), x3);
                }
            } else {
                for ((((a, &x0), &x1), &x2), &x3) in acc.iter_mut().zip(r0).zip(r1).zip(r2).zip(r3)
                {
                    *a = *a + ((f(x0) + f(x1)) + (f(x2) + f(x3)));
                }
            }
        }
        for r in groups.remainder() {
            let r = &r[c0..c1];
            for (a, &x) in acc.iter_mut().zip(r) {
                *a = *a + f(x);
            }
            if track {
                for (m, &x) in amax.iter_mut().zip(r) {
                    *m = big(*m, x);
                }
            }
        }
    }
}

/// `out[j] = Σᵢ rows[i, j]`, reading `rows` row after row (never down a column).
pub(crate) fn sums_down<T: Real>(rows: ArrayView2<T>, out: &mut ArrayViewMut1<T>) {
    let q = rows.ncols();
    let (mut buf, at) = placed(q, rows.as_ptr(), ALIAS_WINDOW / 2);
    let acc = &mut buf[at..at + q];
    match row_slices(&rows) {
        Some(slices) => add_rows(&slices, acc, &mut [], |x| x, false),
        None => {
            for row in rows.rows() {
                Zip::from(&mut *acc).and(&row).for_each(|a, &x| *a = *a + x);
            }
        }
    }
    Zip::from(out).and(&*acc).for_each(|o, &a| *o = a);
}

/// `out[j] = ‖rows[:, j]‖₂`, reading `rows` row after row (never down a column), without
/// harmful overflow or underflow.
///
/// One pass sums the squares and keeps `max |x|` per column. A column whose sum of squares
/// overflowed, or fell below `min_positive / ε` (where squares of its small entries may have
/// underflowed), while its largest entry is finite and non-zero, is recomputed by a second
/// pass, again row after row, that sums `(x / max|x|)²` — exact scaling, so the result is
/// accurate from the smallest subnormal to the largest finite value. NaN anywhere in a column
/// gives NaN, else ±Inf gives `inf`.
pub(crate) fn norms_down<T: Real>(rows: ArrayView2<T>, out: &mut ArrayViewMut1<T>) {
    let q = rows.ncols();
    let (mut ssq_buf, s_at) = placed(q, rows.as_ptr(), ALIAS_WINDOW / 4);
    let (mut max_buf, m_at) = placed(q, rows.as_ptr(), 3 * ALIAS_WINDOW / 4);
    let ssq = &mut ssq_buf[s_at..s_at + q];
    let amax = &mut max_buf[m_at..m_at + q];
    let slices = row_slices(&rows);
    match &slices {
        Some(s) => add_rows(s, ssq, amax, |x| x * x, true),
        None => {
            for row in rows.rows() {
                Zip::from(&mut *ssq)
                    .and(&mut *amax)
                    .and(&row)
                    .for_each(|s, m, &x| {
                        *s = *s + x * x;
                        if x.abs() > *m {
                            *m = x.abs();
                        }
                    });
            }
        }
    }
    let tiny = T::min_positive_value() / T::EPS;
    let needs_scaling =
        |s: T, m: T| !s.is_nan() && m.is_finite() && m > T::zero() && !(s.is_finite() && s >= tiny);
    let rescale = ssq
        .iter()
        .zip(amax.iter())
        .any(|(&s, &m)| needs_scaling(s, m));
    // Sum of (x / max|x|)² per column, row after row; only the flagged columns use it.
    let mut scaled = Vec::new();
    if rescale {
        scaled = vec![T::zero(); q];
        for row in rows.rows() {
            Zip::from(&mut scaled[..])
                .and(&*amax)
                .and(&row)
                .for_each(|s, &m, &x| {
                    if m > T::zero() && m.is_finite() {
                        let r = x / m;
                        *s = *s + r * r;
                    }
                });
        }
    }
    for (j, o) in out.iter_mut().enumerate() {
        let (s, m) = (ssq[j], amax[j]);
        *o = if s.is_nan() {
            T::nan()
        } else if m.is_infinite() {
            T::infinity()
        } else if needs_scaling(s, m) {
            m * scaled[j].sqrt()
        } else {
            s.sqrt()
        };
    }
}
