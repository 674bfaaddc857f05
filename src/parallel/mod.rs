//! The block scheduler: cuts an operation into blocks and runs them on a rayon pool sized by the
//! thread budget, each block computed by a single-threaded kernel.
//!
//! Today: GEMM on the `rayon-blas` engine ([`gemm`]). The pure-Rust kernels (`rayon` engine)
//! and the other operations come next (issue 3).

pub(crate) mod gemm;
