//! Level 1: `dot`, `axpy`, `scal`, `nrm2`.

use ndarray::{ArrayBase, Data, DataMut, Ix1};

use crate::dispatch;
use crate::error::{Error, Result};
use crate::exec::Exec;
use crate::op::Op;
use crate::real::scaled_norm;
use crate::scalar::Field;
use crate::scalar::Scalar;
use crate::validate::blas_dims;
use num_traits::{Float, Zero};

fn same_len(op: &'static str, x: usize, y: usize) -> Result<()> {
    if x == y {
        Ok(())
    } else {
        Err(Error::ShapeMismatch {
            op,
            left: vec![x],
            right: vec![y],
        })
    }
}

impl Exec {
    /// Dot product `xᵀy = Σ xᵢ yᵢ` (numpy's `np.dot` on vectors). Zero for empty vectors.
    ///
    /// Engines: `blas`; `rayon-blas` / `rayon` (block scheduler, single-threaded OpenBLAS or parla's kernels per block).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] for different lengths; [`Error::TooLarge`] above `i32::MAX`.
    ///
    /// ```
    /// let x = ndarray::array![1.0, 2.0, 3.0];
    /// assert_eq!(parla::Exec::blas(1)?.dot(&x, &x)?, 14.0);
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn dot<T: Field, SX: Data<Elem = T>, SY: Data<Elem = T>>(
        &self,
        x: &ArrayBase<SX, Ix1>,
        y: &ArrayBase<SY, Ix1>,
    ) -> Result<T> {
        same_len("dot", x.len(), y.len())?;
        blas_dims("dot", &[("length", x.len())])?;
        if x.is_empty() {
            dispatch::check::<T>(self, Op::Dot)?;
            return Ok(T::zero());
        }
        dispatch::typed::dot(self, x.view(), y.view(), false)
    }

    /// Dot product with the first vector conjugated, `xᴴy = Σ conj(xᵢ) yᵢ` (numpy's `np.vdot`;
    /// BLAS `dotc`). The same as [`Exec::dot`] for real types. Zero for empty vectors.
    ///
    /// Engines: as [`Exec::dot`] (complex vectors too).
    ///
    /// # Errors
    /// As [`Exec::dot`].
    ///
    /// ```
    /// use parla::c64;
    /// let x = ndarray::array![c64::new(1.0, 2.0), c64::new(0.0, 1.0)];
    /// let blas = parla::Exec::blas(1)?;
    /// assert_eq!(blas.vdot(&x, &x)?, c64::new(6.0, 0.0)); // ‖x‖²
    /// assert_eq!(blas.dot(&x, &x)?, c64::new(-4.0, 4.0)); // Σ xᵢ², no conjugation
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn vdot<T: Field, SX: Data<Elem = T>, SY: Data<Elem = T>>(
        &self,
        x: &ArrayBase<SX, Ix1>,
        y: &ArrayBase<SY, Ix1>,
    ) -> Result<T> {
        same_len("vdot", x.len(), y.len())?;
        blas_dims("vdot", &[("length", x.len())])?;
        if x.is_empty() {
            dispatch::check::<T>(self, Op::Dot)?;
            return Ok(T::zero());
        }
        dispatch::typed::dot(self, x.view(), y.view(), true)
    }

    /// `y ← α x + y`, in place.
    ///
    /// Engines: `blas`; `rayon-blas` / `rayon` (block scheduler, single-threaded OpenBLAS or parla's kernels per block).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] for different lengths; [`Error::TooLarge`] above `i32::MAX`.
    ///
    /// ```
    /// let x = ndarray::array![1.0, 2.0];
    /// let mut y = ndarray::array![10.0, 20.0];
    /// parla::Exec::blas(1)?.axpy(2.0, &x, &mut y)?;
    /// assert_eq!(y, ndarray::array![12.0, 24.0]);
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn axpy<T: Field, SX: Data<Elem = T>, SY: DataMut<Elem = T>>(
        &self,
        alpha: T,
        x: &ArrayBase<SX, Ix1>,
        y: &mut ArrayBase<SY, Ix1>,
    ) -> Result<()> {
        same_len("axpy", x.len(), y.len())?;
        blas_dims("axpy", &[("length", x.len())])?;
        if x.is_empty() {
            return dispatch::check::<T>(self, Op::Axpy);
        }
        dispatch::typed::axpy(self, alpha, x.view(), y.view_mut())
    }

    /// `x ← α x`, in place. With `α = 0` the result is zero even where `x` held NaN or ±Inf
    /// (BLAS semantics).
    ///
    /// Engines: `blas`; `rayon-blas` / `rayon` (block scheduler, single-threaded OpenBLAS or parla's kernels per block).
    ///
    /// # Errors
    /// [`Error::TooLarge`] above `i32::MAX`.
    ///
    /// ```
    /// let mut x = ndarray::array![1.0, -2.0];
    /// parla::Exec::blas(1)?.scal(3.0, &mut x)?;
    /// assert_eq!(x, ndarray::array![3.0, -6.0]);
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn scal<T: Scalar, S: DataMut<Elem = T>>(
        &self,
        alpha: T,
        x: &mut ArrayBase<S, Ix1>,
    ) -> Result<()> {
        blas_dims("scal", &[("length", x.len())])?;
        dispatch::check::<T>(self, Op::Scal)?;
        if x.is_empty() {
            return Ok(());
        }
        if alpha == T::zero() {
            x.fill(T::zero());
            return Ok(());
        }
        dispatch::scal(self, alpha, &mut x.view_mut())
    }

    /// Euclidean norm `‖x‖₂ = sqrt(Σ xᵢ²)`, without overflow for huge entries or underflow for
    /// tiny ones: `[1e300, 1e300]` gives `1.414e300`. NaN if `x` holds NaN, `inf` if it holds
    /// ±Inf; zero for an empty vector.
    ///
    /// Engines: `blas` (OpenBLAS's `nrm2`; when its result is not finite or underflows to zero
    /// for a non-zero input, parla recomputes it with scaling).
    ///
    /// # Errors
    /// [`Error::TooLarge`] above `i32::MAX`.
    ///
    /// ```
    /// let x = ndarray::array![3.0e300f64, 4.0e300];
    /// assert_eq!(parla::Exec::blas(1)?.nrm2(&x)?, 5.0e300);
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn nrm2<T: Field, S: Data<Elem = T>>(&self, x: &ArrayBase<S, Ix1>) -> Result<T::Real> {
        blas_dims("nrm2", &[("length", x.len())])?;
        if x.is_empty() {
            dispatch::check::<T>(self, Op::Nrm2)?;
            return Ok(T::Real::zero());
        }
        let r = dispatch::typed::nrm2(self, x.view())?;
        let suspicious =
            !r.is_finite() || (r == T::Real::zero() || r < T::Real::min_positive_value());
        if suspicious {
            // Both parts of every element (the imaginary parts of a real vector are zeros,
            // which do not change the result).
            return Ok(scaled_norm(x.iter().flat_map(|z| [z.re(), z.im()])));
        }
        Ok(r)
    }
}

/// [`Exec::vdot`] with the process defaults.
///
/// # Errors
/// As [`Exec::vdot`], plus [`Error::InvalidEnv`].
pub fn vdot<T: Field, SX: Data<Elem = T>, SY: Data<Elem = T>>(
    x: &ArrayBase<SX, Ix1>,
    y: &ArrayBase<SY, Ix1>,
) -> Result<T> {
    Exec::current()?.vdot(x, y)
}

/// [`Exec::dot`] with the process defaults.
///
/// # Errors
/// As [`Exec::dot`], plus [`Error::InvalidEnv`].
///
/// ```
/// assert_eq!(parla::dot(&ndarray::array![1.0, 2.0], &ndarray::array![3.0, 4.0])?, 11.0);
/// # Ok::<(), parla::Error>(())
/// ```
pub fn dot<T: Field, SX: Data<Elem = T>, SY: Data<Elem = T>>(
    x: &ArrayBase<SX, Ix1>,
    y: &ArrayBase<SY, Ix1>,
) -> Result<T> {
    Exec::current()?.dot(x, y)
}

/// [`Exec::axpy`] with the process defaults.
///
/// # Errors
/// As [`Exec::axpy`], plus [`Error::InvalidEnv`].
///
/// ```
/// let mut y = ndarray::array![1.0, 1.0];
/// parla::blas_level::axpy(-1.0, &ndarray::array![1.0, 2.0], &mut y)?;
/// assert_eq!(y, ndarray::array![0.0, -1.0]);
/// # Ok::<(), parla::Error>(())
/// ```
pub fn axpy<T: Field, SX: Data<Elem = T>, SY: DataMut<Elem = T>>(
    alpha: T,
    x: &ArrayBase<SX, Ix1>,
    y: &mut ArrayBase<SY, Ix1>,
) -> Result<()> {
    Exec::current()?.axpy(alpha, x, y)
}

/// [`Exec::scal`] with the process defaults.
///
/// # Errors
/// As [`Exec::scal`], plus [`Error::InvalidEnv`].
///
/// ```
/// let mut x = ndarray::array![1.0, 2.0];
/// parla::blas_level::scal(0.5, &mut x)?;
/// assert_eq!(x, ndarray::array![0.5, 1.0]);
/// # Ok::<(), parla::Error>(())
/// ```
pub fn scal<T: Scalar, S: DataMut<Elem = T>>(alpha: T, x: &mut ArrayBase<S, Ix1>) -> Result<()> {
    Exec::current()?.scal(alpha, x)
}

/// [`Exec::nrm2`] with the process defaults.
///
/// # Errors
/// As [`Exec::nrm2`], plus [`Error::InvalidEnv`].
///
/// ```
/// assert_eq!(parla::blas_level::nrm2(&ndarray::array![3.0f32, 4.0])?, 5.0);
/// # Ok::<(), parla::Error>(())
/// ```
pub fn nrm2<T: Field, S: Data<Elem = T>>(x: &ArrayBase<S, Ix1>) -> Result<T::Real> {
    Exec::current()?.nrm2(x)
}
