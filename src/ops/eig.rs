//! General eigendecomposition.

use ndarray::{Array1, Array2, ArrayBase, Data, Ix2};
use num_complex::Complex;

use crate::decomp::Eig;
use crate::dispatch;
use crate::error::Result;
use crate::exec::Exec;
use crate::op::Op;
use crate::scalar::Scalar;
use crate::validate::{blas_dims, finite, square};

impl Exec {
    fn eig_impl<T: Scalar, S: Data<Elem = T>>(
        &self,
        op: Op,
        a: &ArrayBase<S, Ix2>,
        vectors: bool,
    ) -> Result<Eig<T>> {
        let n = square(op, a)?;
        blas_dims(op, &[("rows", n)])?;
        finite(op, a)?;
        if n == 0 {
            dispatch::check::<T>(self, op)?;
            return Ok(Eig {
                values: Array1::from(Vec::<Complex<T>>::new()),
                vectors: Array2::from_shape_vec((0, 0), vec![]).expect("empty"),
            });
        }
        dispatch::eig(self, op, a.view(), vectors)
    }

    /// Eigenvalues and right eigenvectors of a general real square matrix, `A V = V diag(w)`
    /// (numpy's `linalg.eig`), as complex numbers.
    ///
    /// Engines: `blas` (`geev`); `rayon-blas` and `rayon` (balancing, blocked Hessenberg
    /// reduction on the engine's GEMMs, Francis double-shift QR, back-substitution; `geev`'s
    /// normalization and pairing).
    ///
    /// # Errors
    /// [`Error::NotSquare`](crate::Error::NotSquare); [`Error::NonFinite`](crate::Error::NonFinite);
    /// [`Error::NoConvergence`](crate::Error::NoConvergence); [`Error::TooLarge`](crate::Error::TooLarge).
    ///
    /// ```
    /// // A rotation by 90°: eigenvalues ±i.
    /// let a = ndarray::array![[0.0f64, -1.0], [1.0, 0.0]];
    /// let e = parla::Exec::blas(1)?.eig(&a)?;
    /// assert!((e.values[0].im.abs() - 1.0).abs() < 1e-12 && e.values[0].re.abs() < 1e-12);
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn eig<T: Scalar, S: Data<Elem = T>>(&self, a: &ArrayBase<S, Ix2>) -> Result<Eig<T>> {
        self.eig_impl(Op::Eig, a, true)
    }

    /// Eigenvalues only of a general real square matrix (numpy's `linalg.eigvals`).
    ///
    /// Engines: `blas` (`geev`, no vectors); `rayon-blas` and `rayon` (as [`Exec::eig`],
    /// without the Schur vectors).
    ///
    /// # Errors
    /// As [`Exec::eig`].
    ///
    /// ```
    /// let w = parla::Exec::blas(1)?.eigvals(&ndarray::array![[2.0f64, 1.0], [0.0, 3.0]])?;
    /// assert_eq!(w.len(), 2);
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn eigvals<T: Scalar, S: Data<Elem = T>>(
        &self,
        a: &ArrayBase<S, Ix2>,
    ) -> Result<Array1<Complex<T>>> {
        Ok(self.eig_impl(Op::Eigvals, a, false)?.values)
    }
}

/// [`Exec::eig`] with the process defaults.
///
/// # Errors
/// As [`Exec::eig`], plus [`Error::InvalidEnv`](crate::Error::InvalidEnv).
///
/// ```
/// let e = parla::eig(&ndarray::array![[4.0f64]])?;
/// assert_eq!(e.values[0].re, 4.0);
/// # Ok::<(), parla::Error>(())
/// ```
pub fn eig<T: Scalar, S: Data<Elem = T>>(a: &ArrayBase<S, Ix2>) -> Result<Eig<T>> {
    Exec::current()?.eig(a)
}

/// [`Exec::eigvals`] with the process defaults.
///
/// # Errors
/// As [`Exec::eigvals`], plus [`Error::InvalidEnv`](crate::Error::InvalidEnv).
///
/// ```
/// assert_eq!(parla::eigvals(&ndarray::array![[1.0f32]])?[0].re, 1.0);
/// # Ok::<(), parla::Error>(())
/// ```
pub fn eigvals<T: Scalar, S: Data<Elem = T>>(a: &ArrayBase<S, Ix2>) -> Result<Array1<Complex<T>>> {
    Exec::current()?.eigvals(a)
}
