//! Symmetric eigendecomposition.

use ndarray::{Array1, ArrayBase, ArrayView2, Data, Ix2};

use crate::alloc::zeros_f;
use crate::decomp::Eigh;
use crate::dispatch;
use crate::error::Result;
use crate::exec::Exec;
use crate::op::Op;
use crate::scalar::{typed, ComplexScalar, Field, Scalar};
use crate::validate::{blas_dims, finite_triangle, square};

impl Exec {
    fn eigh_impl<T: Scalar, S: Data<Elem = T>>(
        &self,
        op: Op,
        a: &ArrayBase<S, Ix2>,
        vectors: bool,
    ) -> Result<Eigh<T>> {
        let n = square(op, a)?;
        blas_dims(op, &[("rows", n)])?;
        finite_triangle(op, a, true, true)?;
        if n == 0 {
            dispatch::check::<T>(self, op)?;
            return Ok(Eigh {
                values: Array1::zeros(0),
                vectors: zeros_f(op, 0, 0)?,
            });
        }
        dispatch::eigh(self, op, a.view(), vectors)
    }

    /// Eigenvalues (ascending) and orthonormal eigenvectors of a symmetric matrix, `A = V diag(w) Vᵀ`
    /// (numpy's `linalg.eigh`). Only the lower triangle of `A` is read.
    ///
    /// Engines: `blas` (`syevd`, divide and conquer — about 5× faster than the `syev` that
    /// ndarray-linalg's `eigh` calls); `rayon-blas` and `rayon` (parla's blocked Householder
    /// tridiagonal reduction with GEMM trailing updates, divide-and-conquer tridiagonal solver,
    /// back-transformation as GEMMs on the engine).
    ///
    /// # Errors
    /// [`Error::NotSquare`](crate::Error::NotSquare); [`Error::NonFinite`](crate::Error::NonFinite);
    /// [`Error::NoConvergence`](crate::Error::NoConvergence); [`Error::TooLarge`](crate::Error::TooLarge).
    ///
    /// ```
    /// let a = ndarray::array![[2.0f64, 1.0], [1.0, 2.0]];
    /// let e = parla::Exec::blas(1)?.eigh(&a)?;
    /// assert!((e.values[0] - 1.0).abs() < 1e-12 && (e.values[1] - 3.0).abs() < 1e-12);
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn eigh<T: Field, S: Data<Elem = T>>(
        &self,
        a: &ArrayBase<S, Ix2>,
    ) -> Result<Eigh<T, T::Real>> {
        routed_eigh(self, Op::Eigh, a.view(), true)
    }

    /// Eigenvalues only of a symmetric matrix, ascending (numpy's `linalg.eigvalsh`).
    ///
    /// Engines: `blas` (`syevd`, `jobz = 'N'`); `rayon-blas` and `rayon` (the reduction of
    /// [`Exec::eigh`], then implicit QL on the tridiagonal matrix).
    ///
    /// # Errors
    /// As [`Exec::eigh`].
    ///
    /// ```
    /// let w = parla::Exec::blas(1)?.eigvalsh(&ndarray::array![[0.0f64, 1.0], [1.0, 0.0]])?;
    /// assert!((w[0] + 1.0).abs() < 1e-12 && (w[1] - 1.0).abs() < 1e-12);
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn eigvalsh<T: Field, S: Data<Elem = T>>(
        &self,
        a: &ArrayBase<S, Ix2>,
    ) -> Result<Array1<T::Real>> {
        Ok(routed_eigh(self, Op::Eigvalsh, a.view(), false)?.values)
    }

    fn eigh_complex<C: ComplexScalar>(
        &self,
        op: Op,
        a: ArrayView2<C>,
        vectors: bool,
    ) -> Result<Eigh<C, C::Real>> {
        let n = square(op, &a)?;
        blas_dims(op, &[("rows", n)])?;
        finite_triangle(op, &a, true, true)?;
        if n == 0 {
            dispatch::check::<C>(self, op)?;
            return Ok(Eigh {
                values: Array1::zeros(0),
                vectors: zeros_f(op, 0, 0)?,
            });
        }
        let (values, v) = dispatch::complex::eigh(self, op, a, vectors)?;
        let vectors = if vectors { v } else { zeros_f(op, n, 0)? };
        Ok(Eigh { values, vectors })
    }
}

/// [`Exec::eigh`] with the process defaults.
///
/// # Errors
/// As [`Exec::eigh`], plus [`Error::InvalidEnv`](crate::Error::InvalidEnv).
///
/// ```
/// let e = parla::eigh(&ndarray::array![[5.0f64]])?;
/// assert_eq!(e.values, ndarray::array![5.0]);
/// # Ok::<(), parla::Error>(())
/// ```
pub fn eigh<T: Field, S: Data<Elem = T>>(a: &ArrayBase<S, Ix2>) -> Result<Eigh<T, T::Real>> {
    Exec::current()?.eigh(a)
}

/// [`Exec::eigvalsh`] with the process defaults.
///
/// # Errors
/// As [`Exec::eigvalsh`], plus [`Error::InvalidEnv`](crate::Error::InvalidEnv).
///
/// ```
/// assert_eq!(parla::eigvalsh(&ndarray::array![[2.0f64, 0.0], [0.0, 1.0]])?, ndarray::array![1.0, 2.0]);
/// # Ok::<(), parla::Error>(())
/// ```
pub fn eigvalsh<T: Field, S: Data<Elem = T>>(a: &ArrayBase<S, Ix2>) -> Result<Array1<T::Real>> {
    Exec::current()?.eigvalsh(a)
}

typed! {
    fn routed_eigh<'l, T>(exec: &'l Exec, op: Op, a: ArrayView2<'l, T>, vectors: bool) -> Result<Eigh<T, T::Real>> {
        real => exec.eigh_impl(op, &a, vectors),
        complex => exec.eigh_complex(op, a, vectors),
    }
}
