//! The block scheduler: cuts an operation into blocks and runs them on a rayon pool sized by the
//! thread budget, each block computed by a single-threaded kernel.
//!
//! Today: GEMM ([`gemm`]), level 1 ([`level1`]) and `gemv` ([`level2`]) on the `rayon-blas`
//! engine, and the executor of batched operations ([`batch`]: items of a batch spread over the
//! pool). The pure-Rust kernels (`rayon` engine)
//! and the other operations come next (issue 3).

pub(crate) mod batch;
pub(crate) mod gemm;
pub(crate) mod level1;
pub(crate) mod level2;
