//! Matrix norms and the trace.

use ndarray::{ArrayBase, ArrayView2, Data, Ix2};

use crate::decomp::NormKind;
use crate::error::Result;
use crate::exec::Exec;
use crate::real::scaled_norm;
use crate::scalar::{typed, ComplexScalar, Field, Scalar};
use num_traits::{Float, Zero};

impl Exec {
    /// A matrix norm (numpy's `linalg.norm` with `ord = 'fro' | 1 | inf | 2`). Zero for an
    /// empty matrix. [`NormKind::Fro`], [`NormKind::One`] and [`NormKind::Inf`] run in the
    /// calling thread on every engine (they are one pass over memory) and let NaN propagate;
    /// [`NormKind::Two`] is the largest singular value.
    ///
    /// Engines: all (`Two`: the engine's [`Exec::svdvals`]).
    ///
    /// # Errors
    /// For `Two`: [`Error::NonFinite`](crate::Error::NonFinite) and as [`Exec::svd`].
    ///
    /// ```
    /// use parla::NormKind;
    /// let a = ndarray::array![[1.0f64, -2.0], [3.0, 4.0]];
    /// let e = parla::Exec::blas(1)?;
    /// assert_eq!(e.norm(&a, NormKind::One)?, 6.0);
    /// assert_eq!(e.norm(&a, NormKind::Inf)?, 7.0);
    /// assert!((e.norm(&a, NormKind::Fro)? - 30f64.sqrt()).abs() < 1e-12);
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn norm<T: Field, S: Data<Elem = T>>(
        &self,
        a: &ArrayBase<S, Ix2>,
        kind: NormKind,
    ) -> Result<T::Real> {
        routed_norm(self, a.view(), kind)
    }

    fn norm_complex<C: ComplexScalar>(&self, a: ArrayView2<C>, kind: NormKind) -> Result<C::Real> {
        let zero = C::Real::zero();
        let abs_sum = |it: ndarray::ArrayView1<C>| it.iter().fold(zero, |s, &z| s + z.modulus());
        let max_of = |v: Vec<C::Real>| {
            v.into_iter()
                .fold(zero, |m, x| if x > m || x.is_nan() { x } else { m })
        };
        Ok(match kind {
            NormKind::Fro => scaled_norm(a.iter().flat_map(|z| [z.re(), z.im()])),
            NormKind::One => max_of(a.columns().into_iter().map(abs_sum).collect()),
            NormKind::Inf => max_of(a.rows().into_iter().map(abs_sum).collect()),
            NormKind::Two => {
                let s = self.svdvals(&a).map_err(|e| e.with_op("norm"))?;
                s.first().copied().unwrap_or(zero)
            }
        })
    }

    fn norm_real<T: Scalar, S: Data<Elem = T>>(
        &self,
        a: &ArrayBase<S, Ix2>,
        kind: NormKind,
    ) -> Result<T> {
        let abs_sum = |it: ndarray::ArrayView1<T>| it.iter().fold(T::zero(), |s, &x| s + x.abs());
        let max_of = |v: Vec<T>| {
            v.into_iter()
                .fold(T::zero(), |m, x| if x > m || x.is_nan() { x } else { m })
        };
        Ok(match kind {
            NormKind::Fro => scaled_norm(a.iter().copied()),
            NormKind::One => max_of(a.columns().into_iter().map(abs_sum).collect()),
            NormKind::Inf => max_of(a.rows().into_iter().map(abs_sum).collect()),
            NormKind::Two => {
                let s = self.svdvals(a).map_err(|e| e.with_op("norm"))?;
                s.first().copied().unwrap_or(T::zero())
            }
        })
    }

    /// Sum of the main diagonal, `Σ aᵢᵢ` (numpy's `trace`; non-square matrices allowed).
    /// Runs in the calling thread on every engine.
    ///
    /// # Errors
    /// None today; the `Result` keeps the signature uniform with the other operations.
    ///
    /// ```
    /// assert_eq!(parla::Exec::blas(1)?.trace(&ndarray::array![[1.0f64, 2.0, 3.0], [4.0, 5.0, 6.0]])?, 6.0);
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn trace<T: Scalar, S: Data<Elem = T>>(&self, a: &ArrayBase<S, Ix2>) -> Result<T> {
        Ok(a.diag().iter().fold(T::zero(), |s, &x| s + x))
    }
}

/// [`Exec::norm`] with the process defaults.
///
/// # Errors
/// As [`Exec::norm`], plus [`Error::InvalidEnv`](crate::Error::InvalidEnv).
///
/// ```
/// let n: f64 = parla::norm(&ndarray::array![[3.0f64, 0.0], [0.0, 4.0]], parla::NormKind::Two)?;
/// assert!((n - 4.0).abs() < 1e-12);
/// # Ok::<(), parla::Error>(())
/// ```
pub fn norm<T: Field, S: Data<Elem = T>>(a: &ArrayBase<S, Ix2>, kind: NormKind) -> Result<T::Real> {
    Exec::current()?.norm(a, kind)
}

/// [`Exec::trace`] with the process defaults.
///
/// # Errors
/// [`Error::InvalidEnv`](crate::Error::InvalidEnv) for a bad environment variable.
///
/// ```
/// assert_eq!(parla::trace(&ndarray::Array2::<f32>::eye(3))?, 3.0);
/// # Ok::<(), parla::Error>(())
/// ```
pub fn trace<T: Scalar, S: Data<Elem = T>>(a: &ArrayBase<S, Ix2>) -> Result<T> {
    Exec::current()?.trace(a)
}

typed! {
    fn routed_norm<'l, T>(exec: &'l Exec, a: ArrayView2<'l, T>, kind: NormKind) -> Result<T::Real> {
        real => exec.norm_real(&a, kind),
        complex => exec.norm_complex(a, kind),
    }
}
