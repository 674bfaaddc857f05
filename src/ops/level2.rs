//! Level 2: `gemv` and `matvec`.

use ndarray::{Array1, ArrayBase, Data, DataMut, Ix1, Ix2};

use crate::alloc::zeros_vec;
use crate::decomp::Trans;
use crate::dispatch;
use crate::error::{Error, Result};
use crate::exec::Exec;
use crate::op::Op;
use crate::scalar::Field;
use crate::validate::blas_dims;

impl Exec {
    /// Matrix-vector multiply-add in place: `y ← α op(A) x + β y`, `op(A)` = `A` or `Aᵀ`.
    ///
    /// With `β = 0`, `y` is overwritten (NaN in it does not propagate); with `α = 0`, `A` and
    /// `x` are not read.
    ///
    /// Engines: `blas`; `rayon-blas` / `rayon` (block scheduler, single-threaded OpenBLAS or parla's kernels per block).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if the lengths do not fit `op(A)`; [`Error::TooLarge`].
    ///
    /// ```
    /// use parla::Trans;
    /// let a = ndarray::array![[1.0f64, 2.0], [3.0, 4.0]];
    /// let mut y = ndarray::array![1.0, 1.0];
    /// parla::Exec::blas(1)?.gemv(1.0, &a, Trans::Yes, &ndarray::array![1.0, 1.0], 1.0, &mut y)?;
    /// assert_eq!(y, ndarray::array![5.0, 7.0]);
    /// # Ok::<(), parla::Error>(())
    /// ```
    #[allow(clippy::too_many_arguments)]
    pub fn gemv<T, SA, SX, SY>(
        &self,
        alpha: T,
        a: &ArrayBase<SA, Ix2>,
        ta: Trans,
        x: &ArrayBase<SX, Ix1>,
        beta: T,
        y: &mut ArrayBase<SY, Ix1>,
    ) -> Result<()>
    where
        T: Field,
        SA: Data<Elem = T>,
        SX: Data<Elem = T>,
        SY: DataMut<Elem = T>,
    {
        const OP: Op = Op::Gemv;
        let (m, n) = match ta {
            Trans::No => a.dim(),
            Trans::Yes | Trans::Conj => a.t().dim(),
        };
        if x.len() != n {
            return Err(Error::ShapeMismatch {
                op: OP.name(),
                left: vec![m, n],
                right: vec![x.len()],
            });
        }
        if y.len() != m {
            return Err(Error::ShapeMismatch {
                op: OP.name(),
                left: vec![m, n],
                right: vec![y.len()],
            });
        }
        blas_dims(OP, &[("rows", m), ("columns", n)])?;
        dispatch::check::<T>(self, OP)?;
        if m == 0 {
            return Ok(());
        }
        if n == 0 || alpha == T::zero() {
            if beta == T::zero() {
                y.fill(T::zero());
            } else {
                y.map_inplace(|v| *v = *v * beta);
            }
            return Ok(());
        }
        dispatch::typed::gemv(self, OP, alpha, a.view(), ta, x.view(), beta, y.view_mut())
    }

    /// Matrix-vector product `A x` as a new vector.
    ///
    /// Engines: `blas`; `rayon-blas` / `rayon` (block scheduler, single-threaded OpenBLAS or parla's kernels per block).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if `x.len() != A.ncols()`; [`Error::TooLarge`].
    ///
    /// ```
    /// let a = ndarray::array![[1.0f64, 2.0], [3.0, 4.0]];
    /// assert_eq!(parla::Exec::blas(1)?.matvec(&a, &ndarray::array![1.0, 1.0])?, ndarray::array![3.0, 7.0]);
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn matvec<T, SA, SX>(
        &self,
        a: &ArrayBase<SA, Ix2>,
        x: &ArrayBase<SX, Ix1>,
    ) -> Result<Array1<T>>
    where
        T: Field,
        SA: Data<Elem = T>,
        SX: Data<Elem = T>,
    {
        const OP: Op = Op::Matvec;
        let (m, n) = a.dim();
        if x.len() != n {
            return Err(Error::ShapeMismatch {
                op: OP.name(),
                left: vec![m, n],
                right: vec![x.len()],
            });
        }
        blas_dims(OP, &[("rows", m), ("columns", n)])?;
        let mut y = Array1::from(zeros_vec(OP, m)?);
        self.gemv(T::one(), a, Trans::No, x, T::zero(), &mut y)?;
        Ok(y)
    }
}

/// [`Exec::gemv`] with the process defaults.
///
/// # Errors
/// As [`Exec::gemv`], plus [`Error::InvalidEnv`].
///
/// ```
/// use parla::Trans;
/// let mut y = ndarray::array![f64::NAN];
/// parla::blas_level::gemv(1.0, &ndarray::array![[1.0f64, 2.0]], Trans::No, &ndarray::array![1.0, 1.0], 0.0, &mut y)?;
/// assert_eq!(y, ndarray::array![3.0]);
/// # Ok::<(), parla::Error>(())
/// ```
#[allow(clippy::too_many_arguments)]
pub fn gemv<T, SA, SX, SY>(
    alpha: T,
    a: &ArrayBase<SA, Ix2>,
    ta: Trans,
    x: &ArrayBase<SX, Ix1>,
    beta: T,
    y: &mut ArrayBase<SY, Ix1>,
) -> Result<()>
where
    T: Field,
    SA: Data<Elem = T>,
    SX: Data<Elem = T>,
    SY: DataMut<Elem = T>,
{
    Exec::current()?.gemv(alpha, a, ta, x, beta, y)
}

/// [`Exec::matvec`] with the process defaults.
///
/// # Errors
/// As [`Exec::matvec`], plus [`Error::InvalidEnv`].
///
/// ```
/// let y = parla::matvec(&ndarray::array![[2.0f64, 0.0], [0.0, 3.0]], &ndarray::array![1.0, 1.0])?;
/// assert_eq!(y, ndarray::array![2.0, 3.0]);
/// # Ok::<(), parla::Error>(())
/// ```
pub fn matvec<T, SA, SX>(a: &ArrayBase<SA, Ix2>, x: &ArrayBase<SX, Ix1>) -> Result<Array1<T>>
where
    T: Field,
    SA: Data<Elem = T>,
    SX: Data<Elem = T>,
{
    Exec::current()?.matvec(a, x)
}
