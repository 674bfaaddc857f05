//! General eigendecomposition.

use ndarray::{Array1, Array2, ArrayBase, ArrayView2, Data, Ix2};
use num_complex::Complex;

use crate::decomp::Eig;
use crate::dispatch;
use crate::error::Result;
use crate::exec::Exec;
use crate::op::Op;
use crate::scalar::{typed, ComplexScalar, Field, Scalar};
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

    fn eig_complex<C: ComplexScalar>(
        &self,
        op: Op,
        a: ArrayView2<C>,
        vectors: bool,
    ) -> Result<Eig<C::Real>> {
        let n = square(op, &a)?;
        blas_dims(op, &[("rows", n)])?;
        finite(op, &a)?;
        let as_complex = |z: &C| Complex::new(z.re(), z.im());
        if n == 0 {
            dispatch::check::<C>(self, op)?;
            return Ok(Eig {
                values: Array1::from(Vec::new()),
                vectors: Array2::from_shape_vec((0, 0), vec![]).expect("empty"),
            });
        }
        let (w, v) = dispatch::complex::eig(self, op, a, vectors)?;
        Ok(Eig {
            values: w.iter().map(as_complex).collect(),
            vectors: v.map(as_complex),
        })
    }

    /// Eigenvalues and right eigenvectors of a general square matrix, `A V = V diag(w)`
    /// (numpy's `linalg.eig`), as complex numbers (`Eig<f64>` for both `f64` and `c64` input).
    ///
    /// Engines: real input: `blas` (`geev`); `rayon-blas` and `rayon` (balancing, blocked
    /// Hessenberg reduction on the engine's GEMMs, Francis double-shift QR, back-substitution;
    /// `geev`'s normalization and pairing). Complex input (`c32`, `c64`): `blas` only
    /// (`zgeev`/`cgeev`: each vector of norm 1 with its largest component real).
    ///
    /// # Errors
    /// [`Error::NotSquare`](crate::Error::NotSquare); [`Error::NonFinite`](crate::Error::NonFinite);
    /// [`Error::NoConvergence`](crate::Error::NoConvergence); [`Error::TooLarge`](crate::Error::TooLarge);
    /// [`Error::Unsupported`](crate::Error::Unsupported) for complex input on the rayon engines.
    ///
    /// ```
    /// // A rotation by 90°: eigenvalues ±i.
    /// let a = ndarray::array![[0.0f64, -1.0], [1.0, 0.0]];
    /// let e = parla::Exec::blas(1)?.eig(&a)?;
    /// assert!((e.values[0].im.abs() - 1.0).abs() < 1e-12 && e.values[0].re.abs() < 1e-12);
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn eig<T: Field, S: Data<Elem = T>>(&self, a: &ArrayBase<S, Ix2>) -> Result<Eig<T::Real>> {
        routed_eig(self, Op::Eig, a.view(), true)
    }

    /// Eigenvalues only of a general square matrix (numpy's `linalg.eigvals`).
    ///
    /// Engines: `blas` (`geev`, no vectors); `rayon-blas` and `rayon` (as [`Exec::eig`],
    /// without the Schur vectors; real input only).
    ///
    /// # Errors
    /// As [`Exec::eig`].
    ///
    /// ```
    /// let w = parla::Exec::blas(1)?.eigvals(&ndarray::array![[2.0f64, 1.0], [0.0, 3.0]])?;
    /// assert_eq!(w.len(), 2);
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn eigvals<T: Field, S: Data<Elem = T>>(
        &self,
        a: &ArrayBase<S, Ix2>,
    ) -> Result<Array1<Complex<T::Real>>> {
        Ok(routed_eig(self, Op::Eigvals, a.view(), false)?.values)
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
pub fn eig<T: Field, S: Data<Elem = T>>(a: &ArrayBase<S, Ix2>) -> Result<Eig<T::Real>> {
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
pub fn eigvals<T: Field, S: Data<Elem = T>>(
    a: &ArrayBase<S, Ix2>,
) -> Result<Array1<Complex<T::Real>>> {
    Exec::current()?.eigvals(a)
}

typed! {
    fn routed_eig<'l, T>(exec: &'l Exec, op: Op, a: ArrayView2<'l, T>, vectors: bool) -> Result<Eig<T::Real>> {
        real => exec.eig_impl(op, &a, vectors),
        complex => exec.eig_complex(op, a, vectors),
    }
}
