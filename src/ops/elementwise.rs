//! Element-wise operations with a user closure: `map`, `zip_with`, and `multiply` (the
//! Hadamard product).

use ndarray::{Array, ArrayBase, Data, Dimension, ShapeBuilder};

use crate::alloc::zeros_vec;
use crate::dispatch;
use crate::error::{Error, Result};
use crate::exec::Exec;
use crate::op::Op;
use crate::scalar::Scalar;

/// Whether `a` is stored column-major (contiguous in F order and not also in C order): the
/// result is then created column-major too, so both are streamed in memory order (numpy's
/// `order='K'` for the common layouts).
fn f_order<S: Data, D: Dimension>(a: &ArrayBase<S, D>) -> bool {
    !a.is_standard_layout() && a.t().is_standard_layout()
}

/// A zero array of `dim`, C order or F order.
fn output<U: Scalar, D: Dimension>(op: Op, dim: D, f: bool) -> Result<Array<U, D>> {
    let v = zeros_vec::<U>(op, dim.size())?;
    Ok(Array::from_shape_vec(dim.set_f(f), v).expect("length matches shape"))
}

impl Exec {
    /// `f` applied to every element: `out[i] = f(a[i])`, in a new array of `a`'s shape (numpy:
    /// `np.vectorize(f)(a)`, or a ufunc). Any dimension and layout; the result is column-major
    /// when `a` is, else row-major. An empty `a` gives an empty result (`f` is not called).
    ///
    /// Engines: `rayon-blas` and `rayon` (identical: one contiguous chunk per thread; OpenBLAS
    /// has no element-wise kernel), `blas` (the calling thread, one pass — OpenBLAS has no
    /// element-wise operations, so this engine does not split the work).
    ///
    /// # Errors
    /// [`Error::TooLarge`] when the result cannot be allocated.
    ///
    /// ```
    /// use parla::{Engine, Exec};
    /// let a = ndarray::array![[1.0f64, -2.0], [3.0, -4.0]];
    /// let e = Exec::new(Engine::Rayon, 2)?;
    /// assert_eq!(e.map(&a, f64::abs)?, ndarray::array![[1.0, 2.0], [3.0, 4.0]]);
    /// let single: ndarray::Array2<f32> = e.map(&a, |x| x as f32 * 0.5)?;
    /// assert_eq!(single[[1, 1]], -2.0f32);
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn map<T, U, S, D, F>(&self, a: &ArrayBase<S, D>, f: F) -> Result<Array<U, D>>
    where
        T: Scalar,
        U: Scalar,
        S: Data<Elem = T>,
        D: Dimension,
        F: Fn(T) -> U + Sync + Send,
    {
        const OP: Op = Op::Map;
        dispatch::check::<T>(self, OP)?;
        let fo = f_order(a);
        let mut out = output::<U, D>(OP, a.raw_dim(), fo)?;
        if a.is_empty() {
            return Ok(out);
        }
        dispatch::map(self, OP, a.view(), out.view_mut(), fo, &f)?;
        Ok(out)
    }

    /// `f` applied to every pair of elements: `out[i] = f(a[i], b[i])` (numpy: a binary
    /// ufunc). `a` and `b` must have the same shape: to broadcast, pass
    /// `b.broadcast(a.raw_dim())`. The result is column-major when both inputs are, else
    /// row-major.
    ///
    /// Engines: as [`Exec::map`].
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] naming both shapes; [`Error::TooLarge`] when the result cannot
    /// be allocated.
    ///
    /// ```
    /// let a = ndarray::array![1.0f64, 2.0, 3.0];
    /// let b = ndarray::array![4.0f64, 5.0, 6.0];
    /// let e = parla::Exec::new(parla::Engine::RayonBlas, 2)?;
    /// assert_eq!(e.zip_with(&a, &b, f64::max)?, b);
    /// assert!(matches!(
    ///     e.zip_with(&a, &ndarray::array![1.0f64], |x, y| x + y),
    ///     Err(parla::Error::ShapeMismatch { op: "zip_with", .. })
    /// ));
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn zip_with<T, U, SA, SB, D, F>(
        &self,
        a: &ArrayBase<SA, D>,
        b: &ArrayBase<SB, D>,
        f: F,
    ) -> Result<Array<U, D>>
    where
        T: Scalar,
        U: Scalar,
        SA: Data<Elem = T>,
        SB: Data<Elem = T>,
        D: Dimension,
        F: Fn(T, T) -> U + Sync + Send,
    {
        zip_named(self, Op::ZipWith, a, b, f)
    }

    /// The element-wise (Hadamard) product `a ∘ b`, `out[i] = a[i]·b[i]` (numpy:
    /// `np.multiply(a, b)` or `a * b` without broadcasting).
    ///
    /// Engines: as [`Exec::map`].
    ///
    /// # Errors
    /// As [`Exec::zip_with`] (with `op = "multiply"`).
    ///
    /// ```
    /// let a = ndarray::array![[1.0f32, 2.0], [3.0, 4.0]];
    /// let e = parla::Exec::new(parla::Engine::Rayon, 2)?;
    /// assert_eq!(e.multiply(&a, &a)?, ndarray::array![[1.0f32, 4.0], [9.0, 16.0]]);
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn multiply<T, SA, SB, D>(
        &self,
        a: &ArrayBase<SA, D>,
        b: &ArrayBase<SB, D>,
    ) -> Result<Array<T, D>>
    where
        T: Scalar,
        SA: Data<Elem = T>,
        SB: Data<Elem = T>,
        D: Dimension,
    {
        zip_named(self, Op::Multiply, a, b, |x: T, y: T| x * y)
    }
}

/// [`Exec::zip_with`] reported under the name `op`.
fn zip_named<T, U, SA, SB, D, F>(
    exec: &Exec,
    op: Op,
    a: &ArrayBase<SA, D>,
    b: &ArrayBase<SB, D>,
    f: F,
) -> Result<Array<U, D>>
where
    T: Scalar,
    U: Scalar,
    SA: Data<Elem = T>,
    SB: Data<Elem = T>,
    D: Dimension,
    F: Fn(T, T) -> U + Sync + Send,
{
    if a.shape() != b.shape() {
        return Err(Error::ShapeMismatch {
            op: op.name(),
            left: a.shape().to_vec(),
            right: b.shape().to_vec(),
        });
    }
    dispatch::check::<T>(exec, op)?;
    let fo = f_order(a) && f_order(b);
    let mut out = output::<U, D>(op, a.raw_dim(), fo)?;
    if a.is_empty() {
        return Ok(out);
    }
    dispatch::zip_with(exec, op, a.view(), b.view(), out.view_mut(), fo, &f)?;
    Ok(out)
}

/// [`Exec::map`] with the process defaults.
///
/// # Errors
/// As [`Exec::map`], plus [`Error::InvalidEnv`].
///
/// ```
/// let y = parla::map(&ndarray::array![1.0f64, 4.0, 9.0], f64::sqrt)?;
/// assert_eq!(y, ndarray::array![1.0, 2.0, 3.0]);
/// # Ok::<(), parla::Error>(())
/// ```
pub fn map<T, U, S, D, F>(a: &ArrayBase<S, D>, f: F) -> Result<Array<U, D>>
where
    T: Scalar,
    U: Scalar,
    S: Data<Elem = T>,
    D: Dimension,
    F: Fn(T) -> U + Sync + Send,
{
    Exec::current()?.map(a, f)
}

/// [`Exec::zip_with`] with the process defaults.
///
/// # Errors
/// As [`Exec::zip_with`], plus [`Error::InvalidEnv`].
///
/// ```
/// let d = parla::zip_with(&ndarray::array![5.0f64, 7.0], &ndarray::array![1.0, 2.0], |x, y| x - y)?;
/// assert_eq!(d, ndarray::array![4.0, 5.0]);
/// # Ok::<(), parla::Error>(())
/// ```
pub fn zip_with<T, U, SA, SB, D, F>(
    a: &ArrayBase<SA, D>,
    b: &ArrayBase<SB, D>,
    f: F,
) -> Result<Array<U, D>>
where
    T: Scalar,
    U: Scalar,
    SA: Data<Elem = T>,
    SB: Data<Elem = T>,
    D: Dimension,
    F: Fn(T, T) -> U + Sync + Send,
{
    Exec::current()?.zip_with(a, b, f)
}

/// [`Exec::multiply`] with the process defaults.
///
/// # Errors
/// As [`Exec::multiply`], plus [`Error::InvalidEnv`].
///
/// ```
/// let p = parla::multiply(&ndarray::array![2.0f64, 3.0], &ndarray::array![4.0, 5.0])?;
/// assert_eq!(p, ndarray::array![8.0, 15.0]);
/// # Ok::<(), parla::Error>(())
/// ```
pub fn multiply<T, SA, SB, D>(a: &ArrayBase<SA, D>, b: &ArrayBase<SB, D>) -> Result<Array<T, D>>
where
    T: Scalar,
    SA: Data<Elem = T>,
    SB: Data<Elem = T>,
    D: Dimension,
{
    Exec::current()?.multiply(a, b)
}
