//! # parla — dense linear algebra on `ndarray`, three ways to spend your cores
//!
//! Every operation runs on one of three **engines**, so you can measure *how* to use the cores:
//!
//! | engine (`PARLA_BACKEND`) | who splits the work | who computes each piece |
//! |---|---|---|
//! | `blas` | OpenBLAS's own threads | OpenBLAS / LAPACK |
//! | `rayon-blas` | parla: rayon over hand-cut blocks | single-threaded OpenBLAS per block |
//! | `rayon` | parla: rayon over hand-cut blocks | parla's pure-Rust kernels |
//! | `auto` (default) | picks per call | |
//!
//! `blas` runs every operation. Both rayon engines run `matmul`, `gemm`, `gemv`, `matvec`,
//! `dot`, `axpy`, `scal`, `nrm2`, the axis reductions ([`row_sums`], [`col_sums`],
//! [`row_norms`], [`col_norms`]), the element-wise [`map`], [`zip_with`], [`multiply`],
//! [`transpose`], and the factorizations written over their GEMM: [`cholesky`], [`lu`],
//! [`solve`], [`inv`], [`det`], [`slogdet`], [`qr`], [`solve_triangular`], and the spectral
//! decompositions [`eigh`], [`eigvalsh`], [`svd`], [`svdvals`] with what is built on them
//! ([`lstsq`], [`pinv`], [`cond`], [`matrix_rank`], [`norm`]), and the general eigenproblem
//! ([`eig`], [`eigvals`]) — never a silent fallback to another engine. `auto` picks the engine
//! and thread count per call, from `parla tune`'s profile of this machine or from built-in
//! rules (see [`Exec::plan`] and the README).
//!
//! ```
//! use ndarray::array;
//! use parla::{Engine, Exec, QrMode};
//!
//! let a = array![[4.0f64, 2.0, 0.6], [2.0, 5.0, 1.0], [0.6, 1.0, 3.0]];
//! let b = array![1.0, 2.0, 3.0];
//!
//! // Free functions use the process defaults (environment, `set_num_threads`, scopes).
//! let x = parla::solve(&a, &b)?;
//! let l = parla::cholesky(&a)?;
//! let e = parla::eigh(&a)?;
//! assert!((parla::matvec(&a, &x)? - &b).iter().all(|r| r.abs() < 1e-12));
//! assert!((l.dot(&l.t()) - &a).iter().all(|r| r.abs() < 1e-12));
//! assert!(e.values[0] > 0.0);
//!
//! // An `Exec` value fixes engine and threads for one call.
//! let one = Exec::new(Engine::Blas, 1)?;
//! let f = one.qr(&a, QrMode::Reduced)?;
//! assert!((one.matmul(&f.q, &f.r)? - &a).iter().all(|r| r.abs() < 1e-12));
//!
//! // Bad input is a typed error, never a panic.
//! let err = parla::matmul(&a, &array![[1.0f64, 2.0]]).unwrap_err();
//! assert!(matches!(err, parla::Error::ShapeMismatch { op: "matmul", .. }));
//! # Ok::<(), parla::Error>(())
//! ```
//!
//! Complex matrices: the same functions take [`c32`] / [`c64`] (`Complex<f32>`, `Complex<f64>`;
//! numpy's `complex64`, `complex128`), bound on [`Field`]: [`matmul`], `gemm` (with
//! [`Trans::Conj`]), [`matvec`], `gemv`, [`dot`], [`vdot`], `axpy`, `nrm2`, [`solve`], [`lu`],
//! [`inv`], [`det`], [`slogdet`], [`cholesky`] (Hermitian), [`qr`], [`solve_triangular`],
//! [`eigh`], [`eigvalsh`], [`svd`], [`svdvals`], [`pinv`], [`norm`], [`cond`],
//! [`matrix_rank`], [`lstsq`] on `blas`; the rayon engines run complex `matmul`/`gemm` (one real GEMM on
//! the interleaved parts), level 1/2, [`solve_triangular`], the LU family, [`cholesky`], [`qr`]
//! and the factor objects, and return [`Error::Unsupported`] for the spectral family.
//! Norms, singular values and Hermitian eigenvalues are real ([`Field::Real`]).
//!
//! Factor once, solve many: [`lu_factor`], [`cho_factor`], [`qr_factor`] return objects whose
//! solves run on the engine that factored ([`LuFactor`], [`CholeskyFactor`], [`QrFactor`]).
//! `_into` variants ([`matmul_into`], [`solve_into`], [`cholesky_into`], …) write into the
//! caller's arrays. Method style: `use parla::prelude::*;` then `a.solve(&b)?`,
//! `a.cholesky()?`, `a.svd(SvdMode::Thin)?` ([`prelude::Linalg`]).
//!
//! Batched operations over stacks of matrices (3-D arrays or lists) live in [`batch`], with a
//! choice of how the threads are spent ([`batch::Strategy`]); joblib-style parallel loops in
//! [`Parallel`]; a disk cache of results in [`memory`].
//!
//! ## Environment
//!
//! | variable | meaning |
//! |---|---|
//! | `PARLA_NUM_THREADS` | the whole thread budget: OpenBLAS threads for `blas`, pool size for `rayon*` (1 to 1024) |
//! | `PARLA_BACKEND` | `auto` \| `blas` \| `rayon-blas` \| `rayon` (any ASCII case) |
//! | `OPENBLAS_NUM_THREADS` | threads of the `blas` engine when `PARLA_NUM_THREADS` is unset (`0` = default) |
//! | `RAYON_NUM_THREADS` | threads of the rayon engines when `PARLA_NUM_THREADS` is unset (`0` = default) |
//!
//! Precedence, highest first: a scoped limit ([`with_num_threads`], [`ThreadLimit`]),
//! [`set_num_threads`], `PARLA_NUM_THREADS`, the engine's own variable, the cores this process
//! may use. Variables are read once; a bad value (`abc`, `-3`, `0`, empty, `1e9`, spaces) makes
//! every call that depends on it return [`Error::InvalidEnv`] naming the variable, the value and
//! what is allowed. A call made inside a rayon worker runs OpenBLAS with one thread.

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

// Links Debian's OpenBLAS (feature `system`): nothing else references the crate.
extern crate openblas_src as _;

mod alloc;
pub mod batch;
mod blas;
mod cpu;
mod decomp;
mod dispatch;
#[cfg(feature = "dist")]
pub mod dist;
mod engine;
mod error;
mod exec;
mod factor;
pub mod info;
mod jobs;
mod kernels;
pub mod memory;
mod op;
mod ops;
mod parallel;
pub mod prelude;
mod real;
mod scalar;
pub mod threads;
mod transpose_copy;
mod tune;
mod validate;

pub use decomp::{Diag, Eig, Eigh, Lstsq, Lu, NormKind, Qr, QrMode, Svd, SvdMode, Trans, Uplo};
pub use dispatch::Plan;
pub use engine::{Engine, UnknownEngine};
pub use error::{Error, Result};
pub use exec::Exec;
pub use jobs::{Chunking, Parallel};
pub use num_complex::Complex;
pub use op::{Dtype, Op, Shape, UnknownDtype, UnknownOp};
pub use ops::cholesky::cholesky;
pub use ops::eig::{eig, eigvals};
pub use ops::eigh::{eigh, eigvalsh};
pub use ops::elementwise::{map, multiply, zip_with};
pub use ops::factored::{cho_factor, lu_factor, qr_factor, CholeskyFactor, LuFactor, QrFactor};
pub use ops::into::{
    cholesky_into, col_norms_into, col_sums_into, inv_into, lu_into, map_into, matmul_into,
    multiply_into, qr_into, row_norms_into, row_sums_into, solve_into, transpose_into,
    zip_with_into, RhsMut,
};
pub use ops::level1::{dot, vdot};
pub use ops::level2::matvec;
pub use ops::level3::matmul;
pub use ops::lstsq::lstsq;
pub use ops::lu::{det, inv, lu, slogdet, solve};
pub use ops::norm::{norm, trace};
pub use ops::qr::qr;
pub use ops::reduce::{col_norms, col_sums, row_norms, row_sums};
pub use ops::svd::{cond, matrix_rank, pinv, svd, svdvals};
pub use ops::transpose::transpose;
pub use ops::triangular::solve_triangular;
pub use ops::Rhs;
pub use scalar::{c32, c64, ComplexScalar, Field, Scalar};
/// BLAS-style entry points for callers who manage their own buffers: `C ← α·op(A)·op(B) + β·C`,
/// `y ← α·op(A)·x + β·y`, `y ← α·x + y`, `x ← α·x`, `‖x‖₂`. The same engines and dispatch as
/// the numpy-named operations at the crate root (which allocate their results).
pub mod blas_level {
    pub use crate::decomp::Trans;
    pub use crate::ops::level1::{axpy, nrm2, scal};
    pub use crate::ops::level2::gemv;
    pub use crate::ops::level3::gemm;
}

/// The knobs behind the engines and `auto`, for benchmarks and experiments: the GEMM kernel
/// settings of the `rayon` engine ([`Exec::with_isa`], [`Exec::with_gemm_blocks`]), `auto`'s
/// built-in thresholds, how operations are classified, and the tuning profile `parla tune`
/// writes and `auto` reads ([`Profile`], [`profile_status`]).
pub mod tuning {
    pub use crate::dispatch::{
        auto_batch_choice, auto_choice, AUTO_AVX2_RAYON_MIN_ORDER,
        AUTO_BATCH_SOLVE_AS_WIDE_MAX_ORDER, AUTO_FACTOR_BLAS_PARALLEL_MIN_ORDER,
        AUTO_FACTOR_RAYON_MIN_ORDER, AUTO_GEMM_PARALLEL_MIN_FLOPS, AUTO_GEMM_RAYON_MIN_FLOPS,
        AUTO_INV_SMALL_MAX_ORDER, AUTO_LU_WIDE_MIN_ORDER, AUTO_NORMS_PARALLEL_MIN_BYTES,
        AUTO_QR_PARALLEL_MIN_ORDER, AUTO_QR_RAYON_MIN_ORDER, AUTO_SPECTRAL_RAYON_MIN_ORDER,
        AUTO_SPECTRAL_WIDE_MIN_ORDER, AUTO_TRANSPOSE_PARALLEL_MIN_BYTES,
    };
    pub use crate::kernels::{Element, GemmBlocks, GemmKernel, Isa, MAX_BLOCK};
    pub use crate::op::Family;
    pub use crate::parallel::level3::FactorBlocks;
    pub use crate::tune::{
        characteristic_size, load, measured_shape, profile_path, profile_status, proxy, Candidate,
        Entry, MachineKey, Profile, ProfileStatus, ShapeClass, NOISE_CAP, PROFILE_FORMAT,
        STEADY_CALL_SECONDS, TIE,
    };
}

pub use threads::{
    backend, num_threads, set_backend, set_num_threads, with_backend, with_num_threads, ThreadLimit,
};

/// Every Rust block of README.md, compiled and run as a doc-test so the README cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
