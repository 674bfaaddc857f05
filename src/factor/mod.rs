//! Blocked factorizations written once over a rayon engine's level-3 operations
//! ([`Level3`](crate::parallel::level3::Level3): its parallel GEMM plus small diagonal-block
//! kernels), so they run on both `rayon-blas` and `rayon`.
//!
//! The algorithms are recursive: split the matrix in two, factor/solve the first half, update
//! the second with one large GEMM, recurse. Most flops land in few, large, parallel GEMM calls
//! (no per-panel synchronisation), and the recursion bottoms out in small blocks handled by the
//! engine's kernels. Sub-problems below [`PARALLEL_MIN`] run on one thread: their GEMMs are too
//! small to split profitably.

pub(crate) mod cholesky;
pub(crate) mod lu;
pub(crate) mod qr;
pub(crate) mod triangular;

/// Order below which a recursive step runs on one thread: a 192×192×96 GEMM is ≈ 7 Mflop,
/// about 60 µs on one core, where a rayon fork/join costs a few µs and the split halves the
/// work per thread to a size where packing overheads dominate.
pub(crate) const PARALLEL_MIN: usize = 192;

/// Where to split an order-`n` problem: about half, rounded to a multiple of 16 (whole
/// micro-kernel tiles on both sides), always leaving both halves non-empty (`n ≥ 2`).
pub(crate) fn split(n: usize) -> usize {
    (n / 2).next_multiple_of(16).clamp(1, n - 1)
}
