//! The transpose as a new row-major matrix: `transpose`.

use ndarray::{Array2, ArrayBase, Data, Ix2};

use crate::alloc::zeros_c;
use crate::dispatch;
use crate::engine::Engine;
use crate::error::Result;
use crate::exec::Exec;
use crate::op::{Op, Shape};
use crate::scalar::Scalar;
use crate::validate::blas_dims;

impl Exec {
    /// `Aᵀ` as a new, owned, row-major (C order) matrix (numpy:
    /// `np.ascontiguousarray(a.T)`). ndarray's `a.t()` is a free view; this *moves the data*,
    /// so the result's rows are `a`'s columns, contiguous — what a kernel that wants to stream
    /// columns needs. Any input layout (row- or column-major, strided, negative strides).
    ///
    /// Engines: `blas` (OpenBLAS's `omatcopy` extension), `rayon-blas` (one band of result rows
    /// per thread, single-threaded `omatcopy` each), `rayon` (the same bands, parla's 32 × 32
    /// cache-blocked tiles).
    ///
    /// # Errors
    /// [`Error::TooLarge`](crate::Error::TooLarge) above `i32::MAX` rows or columns on the
    /// OpenBLAS engines, or when the result cannot be allocated.
    ///
    /// ```
    /// use parla::{Engine, Exec};
    /// let a = ndarray::array![[1.0f64, 2.0, 3.0], [4.0, 5.0, 6.0]];
    /// for e in [Engine::Blas, Engine::RayonBlas, Engine::Rayon] {
    ///     let t = Exec::new(e, 2)?.transpose(&a)?;
    ///     assert_eq!(t, ndarray::array![[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]]);
    ///     assert!(t.is_standard_layout());
    /// }
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn transpose<T: Scalar, S: Data<Elem = T>>(
        &self,
        a: &ArrayBase<S, Ix2>,
    ) -> Result<Array2<T>> {
        const OP: Op = Op::Transpose;
        let (r, c) = a.dim();
        let plan = dispatch::plan(self, OP, T::KIND, Shape::Matrix(r, c))?;
        if plan.engine != Engine::Rayon {
            blas_dims(OP, &[("rows", r), ("columns", c)])?;
        }
        let mut out = zeros_c::<T>(OP, c, r)?;
        if r == 0 || c == 0 {
            return Ok(out);
        }
        dispatch::transpose(self, a.view(), &mut out.view_mut())?;
        Ok(out)
    }
}

/// [`Exec::transpose`] with the process defaults.
///
/// # Errors
/// As [`Exec::transpose`], plus [`Error::InvalidEnv`](crate::Error::InvalidEnv).
///
/// ```
/// let t = parla::transpose(&ndarray::array![[1.0f32, 2.0]])?;
/// assert_eq!(t, ndarray::array![[1.0f32], [2.0]]);
/// # Ok::<(), parla::Error>(())
/// ```
pub fn transpose<T: Scalar, S: Data<Elem = T>>(a: &ArrayBase<S, Ix2>) -> Result<Array2<T>> {
    Exec::current()?.transpose(a)
}
