//! The block scheduler: cuts an operation into blocks and runs them on a rayon pool sized by the
//! thread budget, each block computed by a single-threaded kernel.
//!
//! The split of an operation is the same on both rayon engines; only the kernel run per block
//! differs ([`Kernel`]): single-threaded OpenBLAS (`rayon-blas`) or parla's own (`rayon`).
//! GEMM is the exception: OpenBLAS packs internally, so `rayon-blas` hands it whole panels of C
//! ([`gemm`]), while the `rayon` engine runs the BLIS loops itself ([`blis`]).
//!
//! Batched operations ([`batch`]) are split one level up: the items of a batch are spread over
//! the pool, each computed whole by a single-threaded engine.

pub(crate) mod batch;
pub(crate) mod blis;
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
use crate::error::Result;
use crate::kernels;
use crate::scalar::Scalar;

/// The single-threaded kernel each block runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kernel {
    /// OpenBLAS at one thread (engine `rayon-blas`).
    Blas,
    /// parla's pure-Rust kernels (engine `rayon`).
    Rust,
}

impl Kernel {
    pub(crate) fn dot<T: Scalar>(self, x: ArrayView1<T>, y: ArrayView1<T>) -> T {
        match self {
            Kernel::Blas => blas::level1::dot(1, x, y),
            Kernel::Rust => kernels::level1::dot(x, y),
        }
    }

    pub(crate) fn axpy<T: Scalar>(self, alpha: T, x: ArrayView1<T>, y: &mut ArrayViewMut1<T>) {
        match self {
            Kernel::Blas => blas::level1::axpy(1, alpha, x, y),
            Kernel::Rust => kernels::level1::axpy(alpha, x, y),
        }
    }

    pub(crate) fn scal<T: Scalar>(self, alpha: T, x: &mut ArrayViewMut1<T>) {
        match self {
            Kernel::Blas => blas::level1::scal(1, alpha, x),
            Kernel::Rust => kernels::level1::scal(alpha, x),
        }
    }

    pub(crate) fn nrm2<T: Scalar>(self, x: ArrayView1<T>) -> T {
        match self {
            Kernel::Blas => blas::level1::nrm2(1, x),
            Kernel::Rust => kernels::level1::nrm2(x),
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
            Kernel::Blas => blas::level2::gemv(op, 1, alpha, a, x, beta, y),
            Kernel::Rust => {
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
            (Kernel::Blas, _) => blas::reduce::rows(op, 1, red, v, out),
            (Kernel::Rust, Reduction::Sum) => {
                kernels::reduce::line_sums(v, out);
                Ok(())
            }
            (Kernel::Rust, Reduction::Norm) => {
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
            (Kernel::Blas, _) => blas::reduce::rows(op, 1, red, v, out),
            (Kernel::Rust, Reduction::Sum) => {
                kernels::reduce::sums_down(v.t(), out);
                Ok(())
            }
            (Kernel::Rust, Reduction::Norm) => {
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
            Kernel::Blas => blas::transpose::transpose(op, 1, src, dst),
            Kernel::Rust => {
                kernels::transpose::transpose(src, dst.view_mut());
                Ok(())
            }
        }
    }
}
