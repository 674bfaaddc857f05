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
pub(crate) mod gemm;
pub(crate) mod level1;
pub(crate) mod level2;
pub(crate) mod level3;

use ndarray::{ArrayView1, ArrayView2, ArrayViewMut1};

use crate::blas;
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
}
