//! Cholesky factorization.

use ndarray::{Array2, ArrayBase, Data, Ix2};

use crate::alloc::zeros_f;
use crate::dispatch;
use crate::error::Result;
use crate::exec::Exec;
use crate::op::Op;
use crate::scalar::Field;
use crate::validate::{blas_dims, diagonal_finite, finite_lower_after, finite_triangle, square};

impl Exec {
    /// Lower-triangular `L` with `A = L Lᵀ` for symmetric positive definite `A` (numpy's
    /// `linalg.cholesky`). Only the lower triangle of `A` is read; the strict upper triangle of
    /// `L` is zero.
    ///
    /// Engines: `blas` (`potrf`); `rayon-blas` / `rayon` (`factor/`: recursive over the engine's GEMM, base blocks by single-threaded LAPACK or parla's kernels).
    ///
    /// # Errors
    /// [`Error::NotSquare`](crate::Error::NotSquare); [`Error::NonFinite`](crate::Error::NonFinite);
    /// [`Error::NotPositiveDefinite`](crate::Error::NotPositiveDefinite) with the index of the
    /// failing pivot; [`Error::TooLarge`](crate::Error::TooLarge).
    ///
    /// ```
    /// let a = ndarray::array![[4.0f64, 2.0], [2.0, 5.0]];
    /// let l = parla::Exec::blas(1)?.cholesky(&a)?;
    /// assert_eq!(l, ndarray::array![[2.0f64, 0.0], [1.0, 2.0]]);
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn cholesky<T: Field, S: Data<Elem = T>>(
        &self,
        a: &ArrayBase<S, Ix2>,
    ) -> Result<Array2<T>> {
        const OP: Op = Op::Cholesky;
        let n = square(OP, a)?;
        blas_dims(OP, &[("rows", n)])?;
        if T::IS_COMPLEX {
            finite_triangle(OP, a, true, true)?;
        }
        if n == 0 {
            dispatch::check::<T>(self, OP)?;
            return zeros_f(OP, 0, 0);
        }
        // Real input: the finite check runs after the factorization, and only when it failed
        // or left a non-finite diagonal (a NaN or ±Inf in the triangle always does): one pass
        // over A saved, 5 % of a one-thread n = 512 factorization.
        let l = dispatch::typed::cholesky(self, a.view());
        if T::IS_COMPLEX {
            return l;
        }
        finite_lower_after(OP, a, l, diagonal_finite)
    }
}

/// [`Exec::cholesky`] with the process defaults.
///
/// # Errors
/// As [`Exec::cholesky`], plus [`Error::InvalidEnv`](crate::Error::InvalidEnv).
///
/// ```
/// let err = parla::cholesky(&ndarray::array![[1.0f64, 2.0], [2.0, 1.0]]).unwrap_err();
/// assert!(matches!(err, parla::Error::NotPositiveDefinite { index: 1, .. }));
/// ```
pub fn cholesky<T: Field, S: Data<Elem = T>>(a: &ArrayBase<S, Ix2>) -> Result<Array2<T>> {
    Exec::current()?.cholesky(a)
}
