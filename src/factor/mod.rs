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
use crate::parallel::level3::Level3;
use crate::scalar::Field;

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
/// nor writes above the diagonal; otherwise recursively (`C₁₁`, then `C₂₁` as one GEMM, then
/// `C₂₂`) down to blocks of order `blocks.syrk` computed as full GEMMs — entries above the
/// diagonal within such a block are overwritten, so callers keep only scratch there.
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
    let minus = -T::one();
    if n <= l3.blocks.syrk {
        return l3.gemm_adjoint(op, minus, a, b, T::one(), c);
    }
    let n1 = split(n);
    let (mut c11, mut c21, mut c22) =
        c.multi_slice_mut((s![..n1, ..n1], s![n1.., ..n1], s![n1.., n1..]));
    let (a1, a2) = (a.slice(s![..n1, ..]), a.slice(s![n1.., ..]));
    let (b1, b2) = (b.slice(s![..n1, ..]), b.slice(s![n1.., ..]));
    gemmt_lower(l3, op, a1, b1, &mut c11)?;
    l3.gemm_adjoint(op, minus, a2, b1, T::one(), &mut c21)?;
    gemmt_lower(l3, op, a2, b2, &mut c22)
}
