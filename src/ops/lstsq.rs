//! Linear least squares.

use ndarray::{Array1, ArrayBase, Data, Ix2};

use crate::alloc::zeros_f;
use crate::decomp::Lstsq;
use crate::dispatch;
use crate::error::{Error, Result};
use crate::exec::Exec;
use crate::op::Op;
use crate::ops::Rhs;
use crate::scalar::Scalar;
use crate::validate::{blas_dims, finite};

impl Exec {
    /// Minimum-norm least-squares solution of `min ‖A X − B‖₂` (numpy's `linalg.lstsq`), by
    /// SVD. A vector `b` gives a vector solution (length `n`), a matrix `b` an `n × nrhs` one, as
    /// numpy. Singular values `≤ rcond · σ_max` are treated as zero (`rcond = 0`: only exact
    /// zeros; `rcond ≥ 1`: all of them, giving rank 0); `rcond` defaults to `ε · max(m, n)`.
    ///
    /// Engines: `blas` (`gelsd`); `rayon-blas` and `rayon` (the engine's thin SVD, then two
    /// GEMMs; residuals as ‖B − A X‖² per column).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if `b` has not `m` rows; [`Error::NonFinite`];
    /// [`Error::NoConvergence`]; [`Error::InvalidArgument`] for a negative `rcond`;
    /// [`Error::TooLarge`].
    ///
    /// ```
    /// // Fit y = c0 + c1 t through (0, 1), (1, 3), (2, 5).
    /// let a = ndarray::array![[1.0f64, 0.0], [1.0, 1.0], [1.0, 2.0]];
    /// let r = parla::Exec::blas(1)?.lstsq(&a, &ndarray::array![1.0, 3.0, 5.0], None)?;
    /// assert!((r.solution[0] - 1.0).abs() < 1e-12 && (r.solution[1] - 2.0).abs() < 1e-12);
    /// assert_eq!(r.rank, 2);
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn lstsq<T: Scalar, SA: Data<Elem = T>, B: Rhs<T>>(
        &self,
        a: &ArrayBase<SA, Ix2>,
        b: &B,
        rcond: Option<T>,
    ) -> Result<Lstsq<T, B::Out>> {
        const OP: Op = Op::Lstsq;
        let (m, n) = a.dim();
        let bm = b.as_matrix();
        if bm.nrows() != m {
            return Err(Error::ShapeMismatch {
                op: OP.name(),
                left: a.shape().to_vec(),
                right: b.dims(),
            });
        }
        let rcond = match rcond {
            None => T::EPS * T::of(m.max(n) as f64),
            Some(r) if r >= T::zero() => r,
            Some(r) => {
                return Err(Error::InvalidArgument {
                    op: OP.name(),
                    name: "rcond",
                    reason: format!("got {r}; expected a number >= 0"),
                })
            }
        };
        blas_dims(
            OP,
            &[
                ("rows", m),
                ("columns", n),
                ("right-hand sides", bm.ncols()),
            ],
        )?;
        finite(OP, a)?;
        b.check_finite(OP)?;
        let nrhs = bm.ncols();
        if m == 0 || n == 0 {
            dispatch::check::<T>(self, OP)?;
            // Rank 0: the minimum-norm solution is zero and the residual is B itself.
            let residuals = if n == 0 && m > 0 {
                bm.columns()
                    .into_iter()
                    .map(|c| c.iter().fold(T::zero(), |s, &x| s + x * x))
                    .collect()
            } else {
                Array1::zeros(0)
            };
            return Ok(Lstsq {
                solution: B::from_matrix(zeros_f(OP, n, nrhs)?),
                residuals,
                rank: 0,
                singular_values: Array1::zeros(0),
            });
        }
        if rcond >= T::one() {
            // Every singular value is <= rcond * sigma_max: rank 0, the minimum-norm solution
            // is 0. (LAPACK would silently replace such an rcond by eps, so it is handled here.)
            let singular_values = self.svdvals(a).map_err(|e| e.with_op(OP))?;
            return Ok(Lstsq {
                solution: B::from_matrix(zeros_f(OP, n, nrhs)?),
                residuals: Array1::zeros(0),
                rank: 0,
                singular_values,
            });
        }
        // LAPACK also replaces rcond = 0 by eps; the smallest positive number keeps "only exact
        // zeros are dropped".
        let rcond = if rcond == T::zero() {
            T::min_positive_value()
        } else {
            rcond
        };
        let r = dispatch::lstsq(self, a.view(), bm, rcond)?;
        Ok(Lstsq {
            solution: B::from_matrix(r.solution),
            residuals: r.residuals,
            rank: r.rank,
            singular_values: r.singular_values,
        })
    }
}

/// [`Exec::lstsq`] with the process defaults.
///
/// # Errors
/// As [`Exec::lstsq`], plus [`Error::InvalidEnv`].
///
/// ```
/// let r = parla::lstsq(&ndarray::array![[1.0f64], [1.0]], &ndarray::array![1.0, 3.0], None)?;
/// assert!((r.solution[0] - 2.0).abs() < 1e-12);
/// assert!((r.residuals[0] - 2.0).abs() < 1e-12);
/// # Ok::<(), parla::Error>(())
/// ```
pub fn lstsq<T: Scalar, SA: Data<Elem = T>, B: Rhs<T>>(
    a: &ArrayBase<SA, Ix2>,
    b: &B,
    rcond: Option<T>,
) -> Result<Lstsq<T, B::Out>> {
    Exec::current()?.lstsq(a, b, rcond)
}
