//! GEMM on the rayon engines — the same product cut two ways:
//!
//! - [`blis_loops`]: engine `rayon`, the five BLIS loops around parla's micro-kernels
//!   (`kernels::gemm`, `kernels::micro`) with loop 3 parallel;
//! - [`blas_panels`]: engine `rayon-blas`, one panel of C per worker, each computed by
//!   single-threaded OpenBLAS (which runs its own loops inside).
//!
//! [`packed`] runs SYRK and the triangular solve of engine `rayon` on the same micro-kernels.

pub(crate) mod blas_panels;
pub(crate) mod blis_loops;
pub(crate) mod complex;
pub(crate) mod packed;
