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

pub(crate) mod bidiag;
pub(crate) mod cholesky;
pub(crate) mod eigh;
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
/// Where the recursions of `factor/` stop and the panel widths, in matrix orders / columns.
///
/// Any positive values are correct: tests force tiny ones so the recursive and blocked paths run
/// on small matrices; [`Exec::with_factor_blocks`](crate::Exec::with_factor_blocks) sets them
/// per call. The defaults were chosen with `cargo run --release --example factor_engines`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct FactorBlocks {
    /// Order at which the Cholesky recursion hands a diagonal block to the small kernel.
    pub cholesky: usize,
    /// Order at which Cholesky's rank-k update stops splitting its triangle.
    pub syrk: usize,
    /// Columns at which the LU recursion hands a panel to the panel kernel.
    pub lu: usize,
    /// Columns per Householder panel of the blocked QR.
    pub qr: usize,
    /// Order at which the triangular-solve recursion hands a block to the small kernel.
    pub trsm: usize,
}

impl Default for FactorBlocks {
    fn default() -> Self {
        FactorBlocks {
            cholesky: 48,
            syrk: 96,
            lu: 32,
            qr: 32,
            trsm: 48,
        }
    }
}

impl FactorBlocks {
    /// The fields as `(name, value)` pairs, for validation and reports.
    pub(crate) fn fields(&self) -> [(&'static str, usize); 5] {
        [
            ("cholesky", self.cholesky),
            ("syrk", self.syrk),
            ("lu", self.lu),
            ("qr", self.qr),
            ("trsm", self.trsm),
        ]
    }
}

pub(crate) fn split(n: usize) -> usize {
    (n / 2).next_multiple_of(16).clamp(1, n - 1)
}
