//! Triangular solve.

use ndarray::{ArrayBase, Data, Ix2};

use crate::alloc::zeros_f;
use crate::decomp::{Diag, Trans, Uplo};
use crate::dispatch;
use crate::error::{Error, Result};
use crate::exec::Exec;
use crate::op::Op;
use crate::ops::Rhs;
use crate::scalar::Field;
use crate::validate::{blas_dims, finite_triangle, square};

impl Exec {
    /// Solves `op(A) X = B` for triangular `A` (scipy's `linalg.solve_triangular`), reading
    /// only the `uplo` triangle of `A` (and not its diagonal when `diag` is [`Diag::Unit`]).
    /// `b` may be a vector or a matrix.
    ///
    /// Engines: `blas` (`trtrs`); `rayon-blas` / `rayon` (`factor/`: recursive over the engine's GEMM, base blocks by single-threaded LAPACK or parla's kernels).
    ///
    /// # Errors
    /// [`Error::NotSquare`]; [`Error::ShapeMismatch`]; [`Error::NonFinite`];
    /// [`Error::Singular`] for a zero on the diagonal; [`Error::TooLarge`].
    ///
    /// ```
    /// use parla::{Diag, Trans, Uplo};
    /// let l = ndarray::array![[2.0f64, 0.0], [1.0, 1.0]];
    /// let x = parla::Exec::blas(1)?.solve_triangular(&l, &ndarray::array![2.0, 3.0], Uplo::Lower, Trans::No, Diag::NonUnit)?;
    /// assert_eq!(x, ndarray::array![1.0, 2.0]);
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn solve_triangular<T: Field, SA: Data<Elem = T>, B: Rhs<T>>(
        &self,
        a: &ArrayBase<SA, Ix2>,
        b: &B,
        uplo: Uplo,
        trans: Trans,
        diag: Diag,
    ) -> Result<B::Out> {
        const OP: Op = Op::SolveTriangular;
        let n = square(OP, a)?;
        let bm = b.as_matrix();
        if bm.nrows() != n {
            return Err(Error::ShapeMismatch {
                op: OP.name(),
                left: a.shape().to_vec(),
                right: b.dims(),
            });
        }
        blas_dims(OP, &[("rows", n), ("right-hand sides", bm.ncols())])?;
        finite_triangle(OP, a, uplo == Uplo::Lower, diag == Diag::NonUnit)?;
        b.check_finite(OP)?;
        if n == 0 {
            dispatch::check::<T>(self, OP)?;
            return Ok(B::from_matrix(zeros_f(OP, 0, bm.ncols())?));
        }
        dispatch::typed::solve_triangular(self, a.view(), bm, uplo, trans, diag).map(B::from_matrix)
    }
}

/// [`Exec::solve_triangular`] with the process defaults.
///
/// # Errors
/// As [`Exec::solve_triangular`], plus [`Error::InvalidEnv`].
///
/// ```
/// use parla::{Diag, Trans, Uplo};
/// let u = ndarray::array![[1.0f64, 1.0], [0.0, 2.0]];
/// let x = parla::solve_triangular(&u, &ndarray::array![3.0, 2.0], Uplo::Upper, Trans::No, Diag::NonUnit)?;
/// assert_eq!(x, ndarray::array![2.0, 1.0]);
/// # Ok::<(), parla::Error>(())
/// ```
pub fn solve_triangular<T: Field, SA: Data<Elem = T>, B: Rhs<T>>(
    a: &ArrayBase<SA, Ix2>,
    b: &B,
    uplo: Uplo,
    trans: Trans,
    diag: Diag,
) -> Result<B::Out> {
    Exec::current()?.solve_triangular(a, b, uplo, trans, diag)
}
