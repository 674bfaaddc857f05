//! The block scheduler: cuts an operation into blocks and runs them on a rayon pool sized by the
//! thread budget, each block computed by a single-threaded kernel.
//!
//! The split of an operation is the same on both rayon engines; only the kernel run per block
//! differs ([`Kernels`]): single-threaded OpenBLAS (`rayon-blas`) or parla's own (`rayon`).
//! GEMM is the exception: OpenBLAS packs internally, so `rayon-blas` hands it whole panels of C
//! ([`gemm::blas_panels`]), while the `rayon` engine runs the BLIS loops itself
//! ([`gemm::blis_loops`]).
//!
//! Batched operations ([`batch`]) are split one level up: the items of a batch are spread over
//! the pool, each computed whole by a single-threaded engine.

pub(crate) mod copy;
pub(crate) mod elementwise;
pub(crate) mod gemm;
pub(crate) mod level1;
pub(crate) mod level2;
pub(crate) mod level3;
pub(crate) mod reduce;
pub(crate) mod transpose;

use ndarray::{ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2};

use crate::blas;
use crate::blas::reduce::Reduction;
use crate::decomp::Trans;
use crate::error::Result;
use crate::kernels::{self, Element, GemmBlocks, GemmKernel, Isa};
use crate::scalar::{ComplexScalar, Scalar};
use crate::threads;
use std::sync::Arc;

/// The single-threaded kernel each block runs.
/// What computes each block on a rayon engine, decided once by the dispatch layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kernels {
    /// Single-threaded OpenBLAS / LAPACK (`rayon-blas`).
    OpenBlas,
    /// parla's own kernels (`rayon`), with the GEMM micro-kernel settings of the call.
    Native(Native),
}

/// The GEMM settings of parla's kernels for one call: the instruction set and, when forced,
/// the MC/KC/NC blocks (else each element type's defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Native {
    /// The instruction set of the micro-kernels.
    pub isa: Isa,
    /// Forced block sizes, if any.
    pub blocks: Option<GemmBlocks>,
}

impl Native {
    /// The GEMM kernel (micro-kernel tile and blocks) for element type `T`.
    pub(crate) fn gemm_kernel<T: Element>(&self) -> GemmKernel {
        let uk = T::micro_kernel(self.isa);
        GemmKernel {
            isa: self.isa,
            mr: uk.mr,
            nr: uk.nr,
            blocks: self.blocks.unwrap_or_else(|| T::default_blocks(self.isa)),
        }
    }
}

/// The workers of one call: how many, and the engine pool they belong to (looked up once by
/// the dispatch layer; `None` for one thread, which runs on the calling thread).
#[derive(Clone)]
pub(crate) struct Team {
    threads: usize,
    pool: Option<Arc<rayon::ThreadPool>>,
}

impl Team {
    /// The engine pool of `threads` workers (none for one thread).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) when the pool cannot start.
    pub(crate) fn new(threads: usize) -> Result<Team> {
        let threads = threads.max(1);
        let pool = if threads > 1 {
            Some(threads::engine_pool(threads)?)
        } else {
            None
        };
        Ok(Team { threads, pool })
    }

    /// The calling thread alone.
    pub(crate) fn one() -> Team {
        Team {
            threads: 1,
            pool: None,
        }
    }

    /// How many workers.
    pub(crate) fn threads(&self) -> usize {
        self.threads
    }

    /// Runs `f` on the team's pool (inline when already on it, or for one thread).
    pub(crate) fn install<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        match &self.pool {
            Some(p) => p.install(f),
            None => f(),
        }
    }
}

/// The complex blocks (`c32`, `c64`): single-threaded OpenBLAS `zdotu`/`zdotc`, `zaxpy`,
/// `dznrm2`, `zgemv` for `rayon-blas`, `kernels/complex.rs` for `rayon`.
impl Kernels {
    /// `Σ xᵢ yᵢ`, or `Σ conj(xᵢ) yᵢ` with `conj`.
    pub(crate) fn cdot<C: ComplexScalar>(
        self,
        x: ArrayView1<C>,
        y: ArrayView1<C>,
        conj: bool,
    ) -> C {
        match self {
            Kernels::OpenBlas => blas::complex::dot(1, x, y, conj),
            Kernels::Native(_) => kernels::complex::dot(x, y, conj),
        }
    }

    pub(crate) fn caxpy<C: ComplexScalar>(
        self,
        op: &'static str,
        alpha: C,
        x: ArrayView1<C>,
        y: &mut ArrayViewMut1<C>,
    ) -> Result<()> {
        match self {
            Kernels::OpenBlas => blas::complex::axpy(op, 1, alpha, x, y),
            Kernels::Native(_) => {
                kernels::complex::axpy(alpha, x, y);
                Ok(())
            }
        }
    }

    pub(crate) fn cnrm2<C: ComplexScalar>(self, x: ArrayView1<C>) -> C::Real {
        match self {
            Kernels::OpenBlas => blas::complex::nrm2(1, x),
            Kernels::Native(_) => kernels::complex::nrm2(x),
        }
    }

    /// `y ← α op(A)_b x + β y` for a row block `ab` of the logical `op(A)` (`A` transposed
    /// already for `Trans::Yes`/`Conj`; `Conj` also conjugates its elements).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn cgemv<C: ComplexScalar>(
        self,
        op: &'static str,
        alpha: C,
        ab: ArrayView2<C>,
        trans: Trans,
        x: ArrayView1<C>,
        beta: C,
        y: &mut ArrayViewMut1<C>,
    ) -> Result<()> {
        match self {
            Kernels::OpenBlas => {
                let stored = if trans == Trans::No {
                    ab
                } else {
                    ab.reversed_axes()
                };
                blas::complex::gemv(op, 1, alpha, stored, trans, x, beta, y)
            }
            Kernels::Native(_) => {
                kernels::complex::gemv(alpha, ab, trans == Trans::Conj, x, beta, y);
                Ok(())
            }
        }
    }
}

impl Kernels {
    pub(crate) fn dot<T: Scalar>(self, x: ArrayView1<T>, y: ArrayView1<T>) -> T {
        match self {
            Kernels::OpenBlas => blas::level1::dot(1, x, y),
            Kernels::Native(_) => kernels::level1::dot(x, y),
        }
    }

    pub(crate) fn axpy<T: Scalar>(self, alpha: T, x: ArrayView1<T>, y: &mut ArrayViewMut1<T>) {
        match self {
            Kernels::OpenBlas => blas::level1::axpy(1, alpha, x, y),
            Kernels::Native(_) => kernels::level1::axpy(alpha, x, y),
        }
    }

    pub(crate) fn scal<T: Scalar>(self, alpha: T, x: &mut ArrayViewMut1<T>) {
        match self {
            Kernels::OpenBlas => blas::level1::scal(1, alpha, x),
            Kernels::Native(_) => kernels::level1::scal(alpha, x),
        }
    }

    pub(crate) fn nrm2<T: Scalar>(self, x: ArrayView1<T>) -> T {
        match self {
            Kernels::OpenBlas => blas::level1::nrm2(1, x),
            Kernels::Native(_) => kernels::level1::nrm2(x),
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn gemv<T: Scalar>(
        self,
        op: &'static str,
        alpha: T,
        a: ArrayView2<T>,
        x: ArrayView1<T>,
        beta: T,
        y: &mut ArrayViewMut1<T>,
    ) -> Result<()> {
        match self {
            Kernels::OpenBlas => blas::level2::gemv(op, 1, alpha, a, x, beta, y),
            Kernels::Native(_) => {
                kernels::level2::gemv(alpha, a, x, beta, y);
                Ok(())
            }
        }
    }

    /// `out[i] = reduce(v[i, :])` where the rows of `v` are the memory-adjacent direction.
    pub(crate) fn reduce_along<T: Scalar>(
        self,
        op: &'static str,
        red: Reduction,
        v: ArrayView2<T>,
        out: &mut ArrayViewMut1<T>,
    ) -> Result<()> {
        match (self, red) {
            (Kernels::OpenBlas, _) => blas::reduce::rows(op, 1, red, v, out),
            (Kernels::Native(_), Reduction::Sum) => {
                kernels::reduce::line_sums(v, out);
                Ok(())
            }
            (Kernels::Native(_), Reduction::Norm) => {
                kernels::reduce::line_norms(v, out);
                Ok(())
            }
        }
    }

    /// `out[i] = reduce(v[i, :])` where the *columns* of `v` are the memory-adjacent direction:
    /// parla's kernel reads `vᵀ` row after row; OpenBLAS gets `v` as it is (`gemv` picks its
    /// kernel by layout; `nrm2` walks each row of `v` with its stride).
    pub(crate) fn reduce_down<T: Scalar>(
        self,
        op: &'static str,
        red: Reduction,
        v: ArrayView2<T>,
        out: &mut ArrayViewMut1<T>,
    ) -> Result<()> {
        match (self, red) {
            (Kernels::OpenBlas, _) => blas::reduce::rows(op, 1, red, v, out),
            (Kernels::Native(_), Reduction::Sum) => {
                kernels::reduce::sums_down(v.t(), out);
                Ok(())
            }
            (Kernels::Native(_), Reduction::Norm) => {
                kernels::reduce::norms_down(v.t(), out);
                Ok(())
            }
        }
    }

    /// `dst ← srcᵀ`.
    pub(crate) fn transpose<T: Scalar>(
        self,
        op: &'static str,
        src: ArrayView2<T>,
        dst: &mut ArrayViewMut2<T>,
    ) -> Result<()> {
        match self {
            Kernels::OpenBlas => blas::transpose::transpose(op, 1, src, dst),
            Kernels::Native(_) => {
                kernels::transpose::transpose(src, dst.view_mut());
                Ok(())
            }
        }
    }
}
