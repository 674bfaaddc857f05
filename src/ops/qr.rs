//! QR factorization.

use ndarray::{ArrayBase, Data, Ix2};

use crate::alloc::zeros_f;
use crate::decomp::{Qr, QrMode};
use crate::dispatch;
use crate::error::Result;
use crate::exec::Exec;
use crate::op::Op;
use crate::ops::eye;
use crate::scalar::Field;
use crate::validate::{blas_dims, finite};

impl Exec {
    /// `A = Q R` with orthonormal `Q` and upper-trapezoidal `R` (numpy's `linalg.qr`), by
    /// Householder reflections. [`QrMode::Reduced`]: `Q` is `m × k`, `R` is `k × n`
    /// (`k = min(m, n)`); [`QrMode::Complete`]: `Q` is `m × m`, `R` is `m × n`.
    ///
    /// Engines: `blas` (`geqrf` + `orgqr`; complex `geqrf` + `ungqr`); `rayon-blas` / `rayon`
    /// (`factor/`: blocked Householder, compact WY updates by the engine's GEMM; complex input
    /// with LAPACK's complex reflectors, so `R` has a real diagonal as on `blas`).
    ///
    /// # Errors
    /// [`Error::NonFinite`](crate::Error::NonFinite); [`Error::TooLarge`](crate::Error::TooLarge).
    ///
    /// ```
    /// use parla::QrMode;
    /// let a = ndarray::array![[3.0f64, 1.0], [4.0, 2.0], [0.0, 5.0]];
    /// let f = parla::Exec::blas(1)?.qr(&a, QrMode::Reduced)?;
    /// assert_eq!(f.q.dim(), (3, 2));
    /// assert!((f.q.dot(&f.r) - &a).iter().all(|d| d.abs() < 1e-12));
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn qr<T: Field, S: Data<Elem = T>>(
        &self,
        a: &ArrayBase<S, Ix2>,
        mode: QrMode,
    ) -> Result<Qr<T>> {
        const OP: Op = Op::Qr;
        let (m, n) = a.dim();
        blas_dims(OP, &[("rows", m), ("columns", n)])?;
        finite(OP, a)?;
        if m == 0 || n == 0 {
            dispatch::check::<T>(self, OP)?;
            let k = m.min(n);
            return Ok(match mode {
                QrMode::Reduced => Qr {
                    q: zeros_f(OP, m, k)?,
                    r: zeros_f(OP, k, n)?,
                },
                QrMode::Complete => Qr {
                    q: eye(m),
                    r: zeros_f(OP, m, n)?,
                },
            });
        }
        dispatch::typed::qr(self, a.view(), mode)
    }
}

/// [`Exec::qr`] with the process defaults.
///
/// # Errors
/// As [`Exec::qr`], plus [`Error::InvalidEnv`](crate::Error::InvalidEnv).
///
/// ```
/// let f = parla::qr(&ndarray::array![[1.0f64, 2.0], [3.0, 4.0]], parla::QrMode::Complete)?;
/// assert_eq!(f.r[[1, 0]], 0.0);
/// # Ok::<(), parla::Error>(())
/// ```
pub fn qr<T: Field, S: Data<Elem = T>>(a: &ArrayBase<S, Ix2>, mode: QrMode) -> Result<Qr<T>> {
    Exec::current()?.qr(a, mode)
}
