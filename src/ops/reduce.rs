//! Sums and 2-norms along the rows or the columns of a matrix: `row_sums`, `col_sums`,
//! `row_norms`, `col_norms`.
//!
//! Real (`f32`, `f64`) or complex (`c32`, `c64`) on every engine: the sums return `T`, the
//! norms `T::Real` (`‖z‖₂ = sqrt(Σ |zⱼ|²)`). A complex matrix runs the engine's real kernels on
//! its real and imaginary parts (`dispatch/complex.rs`): sums part by part, norms on the
//! `m × 2n` real view when the rows are contiguous, else per part combined with `hypot`.

use ndarray::{Array1, ArrayBase, ArrayView2, ArrayViewMut1, Axis, Data, Ix2};

use crate::alloc::zeros_vec;
use crate::dispatch;
use crate::engine::Engine;
use crate::error::Result;
use crate::exec::Exec;
use crate::op::{Op, Shape};
use crate::scalar::Field;
use crate::validate::blas_dims;

/// One output per row (`rows`) or column of `a`, computed by `into` into a new vector.
fn reduce<T: Field, U: Field>(
    op: Op,
    a: ArrayView2<T>,
    rows: bool,
    into: impl FnOnce(ArrayView2<T>, ArrayViewMut1<U>) -> Result<()>,
) -> Result<Array1<U>> {
    let p = if rows { a.nrows() } else { a.ncols() };
    let mut out = Array1::from(zeros_vec::<U>(op, p)?);
    into(a, out.view_mut())?;
    Ok(out)
}

/// One output per row (`rows`: `v = a`; else `v = aᵀ`) into the caller's `out` (of the right length, any stride): validates, handles
/// the empty cases, turns negative strides around, then `run`s on a non-empty view with
/// non-negative strides (the output reversed with it).
pub(crate) fn reduce_into<T: Field, U: Field>(
    exec: &Exec,
    op: Op,
    a: ArrayView2<T>,
    rows: bool,
    mut out: ArrayViewMut1<U>,
    run: impl FnOnce(ArrayView2<T>, ArrayViewMut1<U>) -> Result<()>,
) -> Result<()> {
    let plan = dispatch::plan(exec, op, T::ELEMENT, Shape::Matrix(a.nrows(), a.ncols()))?;
    if plan.engine != Engine::Rayon {
        blas_dims(op, &[("rows", a.nrows()), ("columns", a.ncols())])?;
    }
    let mut v = if rows { a } else { a.reversed_axes() };
    let (p, q) = v.dim();
    debug_assert_eq!(out.len(), p);
    if p == 0 {
        return Ok(());
    }
    if q == 0 {
        out.fill(U::zero());
        return Ok(());
    }
    // Non-negative strides below this point: reversing the reduced axis only changes the order
    // of the sum; reversing the kept axis reverses the output, so the output view is reversed.
    if v.strides()[1] < 0 {
        v.invert_axis(Axis(1));
    }
    if v.strides()[0] < 0 {
        v.invert_axis(Axis(0));
        out.invert_axis(Axis(0));
    }
    run(v, out)
}

/// Sums (`T`) of the rows (`rows`) or columns of `a` into `out`.
pub(crate) fn sums_into<T: Field>(
    exec: &Exec,
    op: Op,
    a: ArrayView2<T>,
    rows: bool,
    out: ArrayViewMut1<T>,
) -> Result<()> {
    reduce_into(exec, op, a, rows, out, |v, o| {
        dispatch::typed::sum_rows(exec, op, v, o)
    })
}

/// 2-norms (`T::Real`) of the rows (`rows`) or columns of `a` into `out`.
pub(crate) fn norms_into<T: Field>(
    exec: &Exec,
    op: Op,
    a: ArrayView2<T>,
    rows: bool,
    out: ArrayViewMut1<T::Real>,
) -> Result<()> {
    reduce_into(exec, op, a, rows, out, |v, o| {
        dispatch::typed::norm_rows(exec, op, v, o)
    })
}

impl Exec {
    /// Sum of every row, `sᵢ = Σⱼ aᵢⱼ` (numpy: `a.sum(axis=1)`). An empty row sums to 0; NaN
    /// and ±Inf propagate as in numpy (`inf + (-inf)` is NaN).
    ///
    /// Engines: `blas` (one OpenBLAS `gemv` with a vector of ones), `rayon-blas` (blocks of rows
    /// or, for a column-major matrix, of columns, one single-threaded `gemv` each), `rayon`
    /// (parla's lane-parallel sums over contiguous rows; for a column-major matrix, columns are
    /// added into a row of partial sums, never walked with a stride).
    ///
    /// # Errors
    /// [`Error::TooLarge`](crate::Error::TooLarge) above `i32::MAX` rows or columns on the
    /// OpenBLAS engines; [`Error::Unsupported`](crate::Error::Unsupported) is never returned.
    ///
    /// ```
    /// use parla::{Engine, Exec};
    /// let a = ndarray::array![[1.0f64, 2.0, 3.0], [4.0, 5.0, 6.0]];
    /// for e in [Engine::Blas, Engine::RayonBlas, Engine::Rayon] {
    ///     assert_eq!(Exec::new(e, 2)?.row_sums(&a)?, ndarray::array![6.0, 15.0]);
    /// }
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn row_sums<T: Field, S: Data<Elem = T>>(
        &self,
        a: &ArrayBase<S, Ix2>,
    ) -> Result<Array1<T>> {
        reduce(Op::RowSums, a.view(), true, |a, o| {
            sums_into(self, Op::RowSums, a, true, o)
        })
    }

    /// Sum of every column, `sⱼ = Σᵢ aᵢⱼ` (numpy: `a.sum(axis=0)`). An empty column sums to 0;
    /// NaN and ±Inf propagate as in numpy.
    ///
    /// For a row-major matrix the rayon engines cut the *rows* into one block per thread; each
    /// block adds its rows, read contiguously, into partial column sums, and the partials are
    /// added in block order (bit-identical run to run for a given thread count).
    ///
    /// Engines: `blas` (one OpenBLAS `gemv` of `Aᵀ` with a vector of ones), `rayon-blas`,
    /// `rayon`.
    ///
    /// # Errors
    /// As [`Exec::row_sums`].
    ///
    /// ```
    /// let a = ndarray::array![[1.0f32, 2.0], [3.0, 4.0], [5.0, 6.0]];
    /// let e = parla::Exec::new(parla::Engine::Rayon, 2)?;
    /// assert_eq!(e.col_sums(&a)?, ndarray::array![9.0f32, 12.0]);
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn col_sums<T: Field, S: Data<Elem = T>>(
        &self,
        a: &ArrayBase<S, Ix2>,
    ) -> Result<Array1<T>> {
        reduce(Op::ColSums, a.view(), false, |a, o| {
            sums_into(self, Op::ColSums, a, false, o)
        })
    }

    /// Euclidean norm of every row, `‖aᵢ,:‖₂ = sqrt(Σⱼ aᵢⱼ²)` (numpy:
    /// `np.linalg.norm(a, axis=1)`), without overflow or harmful underflow: a row
    /// `[3e300, 4e300]` gives `5e300`, `[3e-300, 4e-300]` gives `5e-300`. NaN in a row gives
    /// NaN, else ±Inf gives `inf`; an empty row gives 0.
    ///
    /// Engines: `blas` (one OpenBLAS `nrm2` per row, recomputed with scaling when its result is
    /// not finite or underflowed), `rayon-blas` (the same per block of rows, one OpenBLAS
    /// thread), `rayon` (parla's one-pass sum of squares with a scaled second pass only when
    /// needed).
    ///
    /// # Errors
    /// As [`Exec::row_sums`].
    ///
    /// ```
    /// let a = ndarray::array![[3.0f64, 4.0], [3e300, 4e300]];
    /// let n = parla::Exec::new(parla::Engine::Rayon, 1)?.row_norms(&a)?;
    /// assert_eq!(n, ndarray::array![5.0, 5e300]);
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn row_norms<T: Field, S: Data<Elem = T>>(
        &self,
        a: &ArrayBase<S, Ix2>,
    ) -> Result<Array1<T::Real>> {
        reduce(Op::RowNorms, a.view(), true, |a, o| {
            norms_into(self, Op::RowNorms, a, true, o)
        })
    }

    /// Euclidean norm of every column, `‖a:,ⱼ‖₂` (numpy: `np.linalg.norm(a, axis=0)`), with
    /// the same scaling and NaN/Inf rules as [`Exec::row_norms`].
    ///
    /// On the `rayon` engine a column is never walked with a stride: for a row-major matrix
    /// the rows are read contiguously and their squares added into per-column sums (one block
    /// of rows per thread, partial norms combined in block order with the largest factored
    /// out). OpenBLAS has no such kernel: `blas` and `rayon-blas` call `nrm2` per column, which
    /// walks a row-major matrix with a stride.
    ///
    /// Engines: `blas`, `rayon-blas`, `rayon`.
    ///
    /// # Errors
    /// As [`Exec::row_sums`].
    ///
    /// ```
    /// let a = ndarray::array![[3.0f64, 1e-300], [4.0, 1e-300]];
    /// let n = parla::Exec::new(parla::Engine::Rayon, 2)?.col_norms(&a)?;
    /// assert_eq!(n[0], 5.0);
    /// assert!((n[1] - 2f64.sqrt() * 1e-300).abs() < 1e-315);
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn col_norms<T: Field, S: Data<Elem = T>>(
        &self,
        a: &ArrayBase<S, Ix2>,
    ) -> Result<Array1<T::Real>> {
        reduce(Op::ColNorms, a.view(), false, |a, o| {
            norms_into(self, Op::ColNorms, a, false, o)
        })
    }
}

/// [`Exec::row_sums`] with the process defaults (numpy: `a.sum(axis=1)`).
///
/// # Errors
/// As [`Exec::row_sums`], plus [`Error::InvalidEnv`](crate::Error::InvalidEnv).
///
/// ```
/// assert_eq!(parla::row_sums(&ndarray::array![[1.0, 2.0], [3.0, 4.0]])?, ndarray::array![3.0, 7.0]);
/// # Ok::<(), parla::Error>(())
/// ```
pub fn row_sums<T: Field, S: Data<Elem = T>>(a: &ArrayBase<S, Ix2>) -> Result<Array1<T>> {
    Exec::current()?.row_sums(a)
}

/// [`Exec::col_sums`] with the process defaults (numpy: `a.sum(axis=0)`).
///
/// # Errors
/// As [`Exec::col_sums`], plus [`Error::InvalidEnv`](crate::Error::InvalidEnv).
///
/// ```
/// assert_eq!(parla::col_sums(&ndarray::array![[1.0, 2.0], [3.0, 4.0]])?, ndarray::array![4.0, 6.0]);
/// # Ok::<(), parla::Error>(())
/// ```
pub fn col_sums<T: Field, S: Data<Elem = T>>(a: &ArrayBase<S, Ix2>) -> Result<Array1<T>> {
    Exec::current()?.col_sums(a)
}

/// [`Exec::row_norms`] with the process defaults (numpy: `np.linalg.norm(a, axis=1)`).
///
/// # Errors
/// As [`Exec::row_norms`], plus [`Error::InvalidEnv`](crate::Error::InvalidEnv).
///
/// ```
/// assert_eq!(parla::row_norms(&ndarray::array![[3.0, 4.0], [0.0, 0.0]])?, ndarray::array![5.0, 0.0]);
/// # Ok::<(), parla::Error>(())
/// ```
pub fn row_norms<T: Field, S: Data<Elem = T>>(a: &ArrayBase<S, Ix2>) -> Result<Array1<T::Real>> {
    Exec::current()?.row_norms(a)
}

/// [`Exec::col_norms`] with the process defaults (numpy: `np.linalg.norm(a, axis=0)`).
///
/// # Errors
/// As [`Exec::col_norms`], plus [`Error::InvalidEnv`](crate::Error::InvalidEnv).
///
/// ```
/// assert_eq!(parla::col_norms(&ndarray::array![[3.0f32, 0.0], [4.0, 0.0]])?, ndarray::array![5.0f32, 0.0]);
/// # Ok::<(), parla::Error>(())
/// ```
pub fn col_norms<T: Field, S: Data<Elem = T>>(a: &ArrayBase<S, Ix2>) -> Result<Array1<T::Real>> {
    Exec::current()?.col_norms(a)
}
