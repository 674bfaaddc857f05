//! Passes over a run of columns of a column-major matrix, four columns at a time (the
//! `cols4` kernels), split over threads when the work is large: the matrix–vector products
//! `Xᵀv` and `X u` of the panel steps of the two-sided reductions (`bidiag`, `tridiag`).

use rayon::prelude::*;

use crate::kernels::cols4::{axpy4, dot4, COLS};
use crate::kernels::simd1::{axpy, dot, Fma};
use crate::scalar::Scalar;

/// Columns per rayon task in the column-parallel passes.
pub(crate) const COLS_PER_TASK: usize = 16;

/// Trailing columns × rows from which a pass is split over threads. Chosen, not yet tuned (`cargo run --release --example spectral_engines` is the benchmark to
/// tune it with).
pub(crate) const PARALLEL_MIN_WORK: usize = 1 << 15;

/// `out[t] = col(c₀ + t) · v` for the columns `c₀..` of the column-major `data` (leading
/// dimension `m`, rows `r0..`), split over the threads for large trailing matrices.
#[allow(clippy::too_many_arguments)]
pub(crate) fn dots_by_column<T: Scalar>(
    fma: Fma,
    threads: usize,
    data: &[T],
    m: usize,
    r0: usize,
    c0: usize,
    v: &[T],
    out: &mut [T],
) {
    let col = |c: usize| &data[c * m + r0..(c + 1) * m];
    // Four columns per step (v read once for four).
    let work = |(g, ys): (usize, &mut [T])| {
        let c = c0 + g * COLS;
        if ys.len() == COLS {
            ys.copy_from_slice(&dot4(fma, std::array::from_fn(|q| col(c + q)), v));
        } else {
            for (q, y) in ys.iter_mut().enumerate() {
                *y = dot(fma, col(c + q), v);
            }
        }
    };
    if threads > 1 && (m - r0) * out.len() >= PARALLEL_MIN_WORK {
        out.par_chunks_mut(COLS)
            .enumerate()
            .with_min_len(COLS_PER_TASK / COLS)
            .for_each(work);
    } else {
        out.chunks_mut(COLS).enumerate().for_each(work);
    }
}

/// `w += Σₜ u[t] col(c₀ + t)[r0..]` over the columns `c₀..c₀ + u.len()` of the column-major
/// `data` (leading dimension `m`); `w` holds `m − r0` entries. Four columns per pass over `w`
/// (`w` read and written once for four), per-task partial sums when split over the threads.
#[allow(clippy::too_many_arguments)]
pub(crate) fn combine_columns_into<T: Scalar>(
    fma: Fma,
    threads: usize,
    data: &[T],
    m: usize,
    r0: usize,
    c0: usize,
    u: &[T],
    w: &mut [T],
) {
    let rows = m - r0;
    debug_assert_eq!(w.len(), rows);
    let cols = &data[c0 * m..(c0 + u.len()) * m];
    let acc = |w: &mut [T], (g, block): (usize, &[T])| {
        let t0 = g * COLS;
        if block.len() == COLS * m {
            let c: [&[T]; COLS] = std::array::from_fn(|q| &block[q * m + r0..(q + 1) * m]);
            axpy4(fma, c, std::array::from_fn(|q| u[t0 + q]), w);
        } else {
            for (q, col) in block.chunks(m).enumerate() {
                axpy(fma, u[t0 + q], &col[r0..], w);
            }
        }
    };
    if threads > 1 && rows * u.len() >= PARALLEL_MIN_WORK {
        let sum = cols
            .par_chunks(COLS * m)
            .with_min_len(COLS_PER_TASK / COLS)
            .enumerate()
            .fold(
                || vec![T::zero(); rows],
                |mut p, item| {
                    acc(&mut p, item);
                    p
                },
            )
            .reduce(
                || vec![T::zero(); rows],
                |mut a, b| {
                    a.iter_mut().zip(b).for_each(|(x, y)| *x = *x + y);
                    a
                },
            );
        w.iter_mut().zip(sum).for_each(|(x, y)| *x = *x + y);
    } else {
        cols.chunks(COLS * m)
            .enumerate()
            .for_each(|item| acc(w, item));
    }
}

/// `Σₜ u[t] col(c₀ + t)[r0..]` (see [`combine_columns_into`]).
#[allow(clippy::too_many_arguments)]
pub(crate) fn combine_columns<T: Scalar>(
    fma: Fma,
    threads: usize,
    data: &[T],
    m: usize,
    r0: usize,
    c0: usize,
    u: &[T],
) -> Vec<T> {
    let mut w = vec![T::zero(); m - r0];
    combine_columns_into(fma, threads, data, m, r0, c0, u, &mut w);
    w
}
