//! Blocked factorizations written once over a rayon engine's level-3 operations
//! ([`Level3`](crate::parallel::level3::Level3): its parallel GEMM plus small diagonal-block
//! kernels), so they run on both `rayon-blas` and `rayon`.
//!
//! The algorithms are recursive: split the matrix in two, factor/solve the first half, update
//! the second with one large GEMM, recurse. Most flops land in few, large, parallel GEMM calls
//! (no per-panel synchronisation), and the recursion bottoms out in small blocks handled by the
//! engine's kernels. A whole factorization runs inside the engine's pool
//! ([`Level3::run`](crate::parallel::level3::Level3::run)), so each parallel step forks and joins
//! among workers instead of waking the pool from outside; each GEMM decides its own threads by
//! its flops (below `GEMM_PARALLEL_MIN_FLOPS` it stays on one). Measured with
//! `--example factor_engines`: switching whole sub-problems below order 192 to one thread instead
//! was no faster (Cholesky n = 2048: 56 vs 51 ms).
//!
//! LU and Cholesky add one level above the recursion at two or more threads: a right-looking
//! loop over wide steps with a look-ahead of one step (the next panel is factored while the
//! rest is updated), since the recursion alone kept only ~1.2–1.4 cores busy at 2 threads.

use ndarray::{s, ArrayView2, ArrayViewMut2};

use crate::error::Result;
use crate::parallel::level3::{Level3, PACKED_PARALLEL_MIN_FLOPS};
use crate::scalar::Field;

pub(crate) mod band;
pub(crate) mod bidiag;
pub(crate) mod bidiag_dc;
pub(crate) mod cholesky;
pub(crate) mod columns;
pub(crate) mod eig;
pub(crate) mod eigh;
pub(crate) mod factored;
pub(crate) mod lstsq;
pub(crate) mod lu;
pub(crate) mod orthogonal;
pub(crate) mod qr;
pub(crate) mod svd;
pub(crate) mod triangular;
pub(crate) mod tridiag;
pub(crate) mod tridiag_dc;

/// Where to split an order-`n` problem: about half, rounded to a multiple of 16 (whole
/// micro-kernel tiles on both sides), always leaving both halves non-empty (`n ≥ 2`).
pub(crate) fn split(n: usize) -> usize {
    (n / 2).next_multiple_of(16).clamp(1, n - 1)
}

/// Lower triangle of `C ← C − A Bᴴ` for `A, B: n × k`, `C: n × n` (SYRK/HERK when `B = A`,
/// SYR2K as `[V W] [W V]ᵀ`): engine `rayon`'s packed GEMMT for real types, which neither reads
/// nor writes above the diagonal; otherwise, on two or more workers from
/// [`PACKED_PARALLEL_MIN_FLOPS`] multiply-adds, block columns of about equal work, each one
/// one-thread GEMM from its diagonal down, spread over the team ([`gemmt_columns`]); else
/// recursively (`C₁₁`, then `C₂₁` as one GEMM, then `C₂₂`) down to blocks of order
/// `blocks.syrk` computed as full GEMMs. Entries above the diagonal within a diagonal block
/// are overwritten, so callers keep only scratch there.
pub(crate) fn gemmt_lower<T: Field>(
    l3: &Level3,
    op: &'static str,
    a: ArrayView2<T>,
    b: ArrayView2<T>,
    c: &mut ArrayViewMut2<T>,
) -> Result<()> {
    let n = c.nrows();
    if l3.packed_for::<T>() {
        return l3.gemmt_lower_packed(op, a, b, c);
    }
    let madds = n as f64 * n as f64 * a.ncols() as f64 / 2.0;
    if l3.team.threads() > 1 && madds >= PACKED_PARALLEL_MIN_FLOPS {
        return gemmt_columns(l3, op, a, b, c);
    }
    gemmt_recursive(l3, op, a, b, c)
}

/// Block columns per worker in [`gemmt_columns`]: more balance the work (rayon hands the
/// next block to whichever worker is free), fewer recompute less of the upper triangle of
/// the diagonal blocks (with `p` blocks of equal width about `1/p` of the triangle's work).
const GEMMT_BLOCKS_PER_THREAD: usize = 4;

/// [`gemmt_lower`] as block columns `c₀..c₁` of about equal work, each `C[c₀.., c₀..c₁] −=
/// A[c₀.., ..] B[c₀..c₁, ..]ᴴ` on one thread (engine `rayon-blas`: one-thread OpenBLAS), in
/// parallel over the team. The recursion ran most of the trailing update of the tridiagonal
/// reduction on one thread (its GEMMs fall below the parallel threshold at n = 512).
fn gemmt_columns<T: Field>(
    l3: &Level3,
    op: &'static str,
    a: ArrayView2<T>,
    b: ArrayView2<T>,
    c: &mut ArrayViewMut2<T>,
) -> Result<()> {
    use rayon::prelude::*;
    let n = c.nrows();
    let blocks = GEMMT_BLOCKS_PER_THREAD * l3.team.threads();
    // The block from c₀ of width w computes (n − c₀)·w entries: widths that make these equal.
    let target = (n * (n + 1) / 2).div_ceil(blocks);
    let mut cuts = vec![0];
    let mut c0 = 0;
    while c0 < n {
        let w = target.div_ceil(n - c0).next_multiple_of(8).min(n - c0);
        c0 += w;
        cuts.push(c0);
    }
    let mut pieces = Vec::with_capacity(cuts.len() - 1);
    let mut rest = c.view_mut();
    for win in cuts.windows(2) {
        let (piece, tail) = rest.split_at(ndarray::Axis(1), win[1] - win[0]);
        pieces.push((win[0], win[1], piece.slice_move(s![win[0].., ..])));
        rest = tail;
    }
    let one = l3.serial();
    l3.run(|| {
        pieces.into_par_iter().try_for_each(|(c0, c1, mut piece)| {
            one.gemm_adjoint(
                op,
                -T::one(),
                a.slice(s![c0.., ..]),
                b.slice(s![c0..c1, ..]),
                T::one(),
                &mut piece,
            )
        })
    })
}

/// [`gemmt_lower`] by recursion: `C₁₁`, then `C₂₁` as one GEMM, then `C₂₂`.
fn gemmt_recursive<T: Field>(
    l3: &Level3,
    op: &'static str,
    a: ArrayView2<T>,
    b: ArrayView2<T>,
    c: &mut ArrayViewMut2<T>,
) -> Result<()> {
    let n = c.nrows();
    let minus = -T::one();
    if n <= l3.blocks.syrk {
        return l3.gemm_adjoint(op, minus, a, b, T::one(), c);
    }
    let n1 = split(n);
    let (mut c11, mut c21, mut c22) =
        c.multi_slice_mut((s![..n1, ..n1], s![n1.., ..n1], s![n1.., n1..]));
    let (a1, a2) = (a.slice(s![..n1, ..]), a.slice(s![n1.., ..]));
    let (b1, b2) = (b.slice(s![..n1, ..]), b.slice(s![n1.., ..]));
    gemmt_recursive(l3, op, a1, b1, &mut c11)?;
    l3.gemm_adjoint(op, minus, a2, b1, T::one(), &mut c21)?;
    gemmt_recursive(l3, op, a2, b2, &mut c22)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parallel::{Kernels, Team};
    use ndarray::{Array2, ShapeBuilder};

    /// The block-column GEMMT of engine `rayon-blas` (forced, below its size threshold) and
    /// the recursion against the plain product, with the upper triangle untouched where no
    /// diagonal block covers it.
    #[test]
    fn gemmt_lower_matches_the_product() {
        let (n, k) = (70, 9);
        let a = Array2::from_shape_fn((n, k).f(), |(i, j)| ((i * 5 + j * 3) % 11) as f64 - 5.0);
        let b = Array2::from_shape_fn((n, k).f(), |(i, j)| ((i * 7 + j) % 13) as f64 / 4.0);
        let c0 = Array2::from_shape_fn((n, n).f(), |(i, j)| (i as f64 - j as f64) / 8.0);
        let want = &c0 - &a.dot(&b.t());
        for threads in [1, 2, 3] {
            let l3 = Level3 {
                team: Team::new(threads).unwrap(),
                kernels: Kernels::OpenBlas,
                blocks: crate::parallel::level3::FactorBlocks {
                    syrk: 16,
                    ..Default::default()
                },
            };
            for columns in [true, false] {
                let mut c = c0.clone();
                let (av, bv, mut cv) = (a.view(), b.view(), c.view_mut());
                if columns {
                    gemmt_columns(&l3, "test", av, bv, &mut cv).unwrap();
                } else {
                    gemmt_lower(&l3, "test", av, bv, &mut cv).unwrap();
                }
                for j in 0..n {
                    for i in j..n {
                        let err = (c[[i, j]] - want[[i, j]]).abs();
                        assert!(err < 1e-12, "{threads} {columns} ({i}, {j}): {err}");
                    }
                }
                // Far above the diagonal (outside any diagonal block of ≤ 70 − 8 columns): untouched.
                assert_eq!(c[[0, n - 1]], c0[[0, n - 1]], "{threads} {columns}");
            }
        }
    }
}
