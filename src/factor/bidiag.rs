//! Householder reduction of a tall matrix to upper bidiagonal form, `A = Q B Pᵀ`
//! (LAPACK `gebd2`, `m ≥ n`).
//!
//! ```text
//! for j = 0 .. n−1:
//!     Hⱼ (from the left) maps A[j.., j] onto d[j] e₁;   A[j.., j+1..] ← Hⱼ A[j.., j+1..]
//!     Gⱼ (from the right) maps A[j, j+1..] onto e[j] e₁; A[j+1.., j+1..] ← A[j+1.., j+1..] Gⱼ
//! Q = H₀ H₁ … H_{n−1},  P = G₀ G₁ … G_{n−2}
//! ```
//! The left vectors stay in the work matrix below the diagonal (QR-style); the right vectors
//! go to a separate column-major matrix, vector `j` in column `j` from row `j + 1`, so both
//! products are applied by [`apply_reflectors`](super::orthogonal::apply_reflectors). Every inner
//! loop runs down a contiguous column.

use ndarray::Array2;
use rayon::prelude::*;

use crate::alloc::zeros_f;
use crate::error::Result;
use crate::kernels::cols4::{axpy4, axpy_dot4, COLS};
use crate::kernels::reflector::householder;
use crate::kernels::simd1::{axpy, dot, Fma};
use crate::scalar::Scalar;

/// The bidiagonal matrix and the reflectors of a reduction.
pub(crate) struct Bidiagonal<T> {
    /// Diagonal, `n` entries.
    pub d: Vec<T>,
    /// Superdiagonal, `n − 1` entries.
    pub e: Vec<T>,
    /// Scalars of the left reflectors (`n`; vectors below the diagonal of the work matrix).
    pub tauq: Vec<T>,
    /// Scalars of the right reflectors (`n − 1`; vectors in [`Bidiagonal::p`]).
    pub taup: Vec<T>,
    /// `n × n` column-major: right vector `j` has its implicit 1 at row `j + 1` of column `j`
    /// and its essential part below.
    pub p: Array2<T>,
}

/// Columns per rayon task in the column-parallel passes.
const COLS_PER_TASK: usize = 16;

/// Trailing columns × rows from which a pass is split over threads. Chosen, not yet tuned (`cargo run --release --example spectral_engines` is the benchmark to
/// tune it with).
const PARALLEL_MIN_WORK: usize = 1 << 15;

/// `H = I − τ v vᵀ` applied to `col` (`v₀ = 1`, `v[1..] = x`).
#[inline]
fn reflect<T: Scalar>(fma: Fma, tau: T, v: &[T], col: &mut [T]) {
    let f = tau * dot(fma, v, col);
    axpy(fma, -f, v, col);
}

/// Reduces the column-major (Fortran-order) `m × n` matrix `a` (`m ≥ n ≥ 1`) in place.
///
/// Two passes over the trailing matrix per step, each split over columns among the threads:
/// `w = A₂ u` for the right reflector, then for every column its right update, the next left
/// reflector's dot product and update while the column is in L1.
pub(crate) fn bidiagonalize<T: Scalar>(
    op: &'static str,
    threads: usize,
    a: &mut Array2<T>,
) -> Result<Bidiagonal<T>> {
    let (m, n) = a.dim();
    debug_assert!(m >= n);
    let fma = Fma::detect();
    let mut p = zeros_f::<T>(op, n, n)?;
    let data = a
        .as_slice_memory_order_mut()
        .expect("the work matrix is contiguous");
    let (mut d, mut e) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let (mut tauq, mut taup) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let mut v = vec![T::zero(); m];
    let mut row = vec![T::zero(); n];
    // H₀ from column 0, applied to columns 1..n.
    {
        let (first, rest) = data.split_at_mut(m);
        let (alpha, x) = first.split_first_mut().expect("m ≥ 1");
        let (beta, tau) = householder(*alpha, x);
        *alpha = beta;
        d.push(beta);
        tauq.push(tau);
        v[0] = T::one();
        v[1..].copy_from_slice(x);
        if tau != T::zero() {
            let v = &v[..];
            let work = |col: &mut [T]| reflect(fma, tau, v, col);
            if threads > 1 && m * (n - 1) >= PARALLEL_MIN_WORK {
                rest.par_chunks_mut(m)
                    .with_min_len(COLS_PER_TASK)
                    .for_each(work);
            } else {
                rest.chunks_mut(m).for_each(work);
            }
        }
    }
    for j in 0..n - 1 {
        // Right reflector G_j from row j, columns j+1..n.
        let row = &mut row[..n - j - 1];
        for (t, r) in row.iter_mut().enumerate() {
            *r = data[(j + 1 + t) * m + j];
        }
        let (alpha, x) = row.split_first_mut().expect("j + 1 < n");
        let (beta, tp) = householder(*alpha, x);
        e.push(beta);
        taup.push(tp);
        data[(j + 1) * m + j] = beta;
        for (t, &xt) in x.iter().enumerate() {
            data[(j + 2 + t) * m + j] = T::zero();
            p[[j + 2 + t, j]] = xt;
        }
        let u = |t: usize| if t == 0 { T::one() } else { x[t - 1] };
        let rows = m - j - 1;
        let trailing = &mut data[(j + 1) * m..];
        let par = threads > 1 && rows * (n - j - 1) >= PARALLEL_MIN_WORK;
        // w = A₂ u over rows j+1.. (per-task partial sums when parallel).
        let w: Vec<T> = if tp == T::zero() {
            Vec::new()
        } else {
            // Four columns per step (w is read and written once for four).
            let acc = |mut w: Vec<T>, (g, cols): (usize, &[T])| {
                let t0 = g * COLS;
                if cols.len() == COLS * m {
                    let c: [&[T]; COLS] =
                        std::array::from_fn(|q| &cols[q * m + j + 1..(q + 1) * m]);
                    axpy4(fma, c, std::array::from_fn(|q| u(t0 + q)), &mut w);
                } else {
                    for (q, col) in cols.chunks(m).enumerate() {
                        axpy(fma, u(t0 + q), &col[j + 1..], &mut w);
                    }
                }
                w
            };
            if par {
                trailing
                    .par_chunks(COLS * m)
                    .with_min_len(COLS_PER_TASK / COLS)
                    .enumerate()
                    .fold(|| vec![T::zero(); rows], acc)
                    .reduce(
                        || vec![T::zero(); rows],
                        |mut a, b| {
                            a.iter_mut().zip(b).for_each(|(x, y)| *x = *x + y);
                            a
                        },
                    )
            } else {
                trailing
                    .chunks(COLS * m)
                    .enumerate()
                    .fold(vec![T::zero(); rows], acc)
            }
        };
        // Column j+1: right update, then the left reflector H_{j+1} from it.
        let (first, rest) = trailing.split_at_mut(m);
        if tp != T::zero() {
            axpy(fma, -tp, &w, &mut first[j + 1..]);
        }
        let (alpha, xs) = first[j + 1..].split_first_mut().expect("j + 1 < m");
        let (beta, tq) = householder(*alpha, xs);
        *alpha = beta;
        d.push(beta);
        tauq.push(tq);
        let v = &mut v[..rows];
        v[0] = T::one();
        v[1..].copy_from_slice(xs);
        let v = &*v;
        // Columns j+2..: right update and left reflector while the columns are in cache,
        // four at a time (the right update and the reflector's dot products in one pass).
        let one_col = |t: usize, col: &mut [T]| {
            let col = &mut col[j + 1..];
            if tp != T::zero() {
                axpy(fma, -tp * u(t + 1), &w, col);
            }
            if tq != T::zero() {
                reflect(fma, tq, v, col);
            }
        };
        let work = |(g, cols): (usize, &mut [T])| {
            let t0 = g * COLS;
            if cols.len() == COLS * m && tp != T::zero() && tq != T::zero() {
                let mut it = cols.chunks_mut(m).map(|c| &mut c[j + 1..]);
                let mut c: [&mut [T]; COLS] =
                    std::array::from_fn(|_| it.next().expect("four columns"));
                let alpha = std::array::from_fn(|q| -tp * u(t0 + q + 1));
                let [c0, c1, c2, c3] = &mut c;
                let s = axpy_dot4(
                    fma,
                    [&mut **c0, &mut **c1, &mut **c2, &mut **c3],
                    alpha,
                    &w,
                    v,
                );
                for (col, sq) in c.iter_mut().zip(s) {
                    axpy(fma, -tq * sq, v, col);
                }
            } else {
                for (q, col) in cols.chunks_mut(m).enumerate() {
                    one_col(t0 + q, col);
                }
            }
        };
        if par {
            rest.par_chunks_mut(COLS * m)
                .with_min_len(COLS_PER_TASK / COLS)
                .enumerate()
                .for_each(work);
        } else {
            rest.chunks_mut(COLS * m).enumerate().for_each(work);
        }
    }
    Ok(Bidiagonal {
        d,
        e,
        tauq,
        taup,
        p,
    })
}
