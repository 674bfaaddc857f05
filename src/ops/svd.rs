//! Singular value decomposition and what is built on it: `svd`, `svdvals`, `pinv`, `cond`,
//! `matrix_rank`.

use ndarray::{s, Array1, Array2, ArrayBase, ArrayView2, Data, Ix2};

use crate::alloc::{zeros_c, zeros_f};
use crate::decomp::{Svd, SvdMode, Trans};
use crate::dispatch::{self, Vectors};
use crate::error::{Error, Result};
use crate::exec::Exec;
use crate::op::Op;
use crate::ops::eye;
use crate::real::Real;
use crate::scalar::{typed, ComplexScalar, Field, Scalar};
use crate::validate::{blas_dims, finite};
use num_traits::{Float, One, Zero};

impl Exec {
    fn singular_values<T: Scalar, S: Data<Elem = T>>(
        &self,
        op: Op,
        a: &ArrayBase<S, Ix2>,
    ) -> Result<Array1<T>> {
        let (m, n) = a.dim();
        blas_dims(op, &[("rows", m), ("columns", n)])?;
        finite(op, a)?;
        if m == 0 || n == 0 {
            dispatch::check::<T>(self, op)?;
            return Ok(Array1::zeros(0));
        }
        Ok(dispatch::svd(self, op, a.view(), Vectors::None)?.s)
    }

    /// Singular value decomposition `A = U diag(s) Vᵀ` (numpy's `linalg.svd`), singular values
    /// descending. [`SvdMode::Full`]: `U` is `m × m` and `Vᵀ` is `n × n`; [`SvdMode::Thin`]:
    /// `U` is `m × k`, `Vᵀ` is `k × n`, `k = min(m, n)`.
    ///
    /// Engines: `blas` (`gesdd`, divide and conquer); `rayon-blas` and `rayon` (parla's
    /// blocked Householder bidiagonalization, bidiagonal divide and conquer — implicit-shift
    /// bidiagonal QR for blocks of order ≤ 32 — and the back-transformation, as GEMMs on the
    /// engine).
    ///
    /// # Errors
    /// [`Error::NonFinite`] (LAPACK may loop on NaN); [`Error::NoConvergence`];
    /// [`Error::TooLarge`].
    ///
    /// ```
    /// let a = ndarray::array![[3.0f64, 0.0], [0.0, -4.0]];
    /// let f = parla::Exec::blas(1)?.svd(&a, parla::SvdMode::Thin)?;
    /// assert!((f.s[0] - 4.0).abs() < 1e-12 && (f.s[1] - 3.0).abs() < 1e-12);
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn svd<T: Field, S: Data<Elem = T>>(
        &self,
        a: &ArrayBase<S, Ix2>,
        mode: SvdMode,
    ) -> Result<Svd<T, T::Real>> {
        routed_svd(self, a.view(), mode)
    }

    fn svd_complex<C: ComplexScalar>(
        &self,
        a: ArrayView2<C>,
        mode: SvdMode,
    ) -> Result<Svd<C, C::Real>> {
        let full = mode == SvdMode::Full;
        const OP: Op = Op::Svd;
        let (m, n) = a.dim();
        blas_dims(OP, &[("rows", m), ("columns", n)])?;
        finite(OP, &a)?;
        if m == 0 || n == 0 {
            dispatch::check::<C>(self, OP)?;
            let (ur, vc) = if full { (m, n) } else { (0, 0) };
            return Ok(Svd {
                u: if full { eye(m) } else { zeros_f(OP, m, ur)? },
                s: Array1::zeros(0),
                vt: if full { eye(n) } else { zeros_f(OP, vc, n)? },
            });
        }
        let (u, s, vt) = dispatch::complex::svd(self, OP, a, true, full)?;
        Ok(Svd { u, s, vt })
    }

    fn svdvals_complex<C: ComplexScalar>(
        &self,
        op: Op,
        a: ArrayView2<C>,
    ) -> Result<Array1<C::Real>> {
        let (m, n) = a.dim();
        blas_dims(op, &[("rows", m), ("columns", n)])?;
        finite(op, &a)?;
        if m == 0 || n == 0 {
            dispatch::check::<C>(self, op)?;
            return Ok(Array1::zeros(0));
        }
        Ok(dispatch::complex::svd(self, op, a, false, false)?.1)
    }

    fn pinv_complex<C: ComplexScalar>(
        &self,
        a: ArrayView2<C>,
        rtol: Option<C::Real>,
    ) -> Result<Array2<C>> {
        const OP: Op = Op::Pinv;
        let (m, n) = a.dim();
        let default = C::Real::of(m.max(n) as f64) * C::Real::EPS;
        let rtol = tolerance(OP, "rtol", rtol, default)?;
        blas_dims(OP, &[("rows", m), ("columns", n)])?;
        finite(OP, &a)?;
        if m == 0 || n == 0 {
            dispatch::check::<C>(self, OP)?;
            return zeros_c(OP, n, m);
        }
        let (u, sv, vt) = dispatch::complex::svd(self, OP, a, true, false)?;
        let cutoff = rtol * sv[0];
        let r = sv.iter().take_while(|&&x| x > cutoff).count();
        let mut out = zeros_c(OP, n, m)?;
        if r == 0 {
            return Ok(out);
        }
        // A⁺ = (diag(1/σ) Vᴴ)ᴴ Uᴴ over the r kept singular triplets.
        let mut w = vt.slice(s![..r, ..]).to_owned();
        for (mut row, &x) in w.rows_mut().into_iter().zip(sv.iter()) {
            let inv = C::from_parts(C::Real::one() / x, C::Real::zero());
            row.map_inplace(|z| *z = *z * inv);
        }
        let u = u.slice(s![.., ..r]);
        dispatch::complex::gemm(
            self,
            OP,
            C::one(),
            w.view(),
            Trans::Conj,
            u,
            Trans::Conj,
            C::zero(),
            &mut out.view_mut(),
        )?;
        Ok(out)
    }

    fn svd_real<T: Scalar, S: Data<Elem = T>>(
        &self,
        a: &ArrayBase<S, Ix2>,
        mode: SvdMode,
    ) -> Result<Svd<T>> {
        let full = mode == SvdMode::Full;
        const OP: Op = Op::Svd;
        let (m, n) = a.dim();
        blas_dims(OP, &[("rows", m), ("columns", n)])?;
        finite(OP, a)?;
        if m == 0 || n == 0 {
            dispatch::check::<T>(self, OP)?;
            return Ok(if full {
                Svd {
                    u: eye(m),
                    s: Array1::zeros(0),
                    vt: eye(n),
                }
            } else {
                Svd {
                    u: zeros_f(OP, m, 0)?,
                    s: Array1::zeros(0),
                    vt: zeros_f(OP, 0, n)?,
                }
            });
        }
        dispatch::svd(
            self,
            OP,
            a.view(),
            if full { Vectors::Full } else { Vectors::Thin },
        )
    }

    /// Singular values only, descending (numpy's `linalg.svd(a, compute_uv=False)`).
    ///
    /// Engines: `blas` (`gesdd` with `jobz = 'N'`); `rayon-blas` and `rayon` (the blocked
    /// bidiagonalization of [`Exec::svd`], then implicit-shift bidiagonal QR without vectors).
    ///
    /// # Errors
    /// As [`Exec::svd`].
    ///
    /// ```
    /// let s = parla::Exec::blas(1)?.svdvals(&ndarray::array![[0.0f64, 2.0], [1.0, 0.0]])?;
    /// assert_eq!(s, ndarray::array![2.0, 1.0]);
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn svdvals<T: Field, S: Data<Elem = T>>(
        &self,
        a: &ArrayBase<S, Ix2>,
    ) -> Result<Array1<T::Real>> {
        routed_singular_values(self, Op::Svdvals, a.view())
    }

    /// Moore–Penrose pseudo-inverse `A⁺ = V diag(1/σᵢ) Uᵀ`, keeping the singular values
    /// `σᵢ > rtol · σ_max` (numpy's `linalg.pinv`). `rtol` defaults to `max(m, n) · ε`.
    ///
    /// Engines: all (the engine's [`Exec::svd`] + `gemm`).
    ///
    /// # Errors
    /// As [`Exec::svd`]; [`Error::InvalidArgument`] for a negative or NaN `rtol`.
    ///
    /// ```
    /// let a = ndarray::array![[1.0f64, 0.0], [0.0, 0.0]];
    /// assert_eq!(parla::Exec::blas(1)?.pinv(&a, None)?, a);
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn pinv<T: Field, S: Data<Elem = T>>(
        &self,
        a: &ArrayBase<S, Ix2>,
        rtol: Option<T::Real>,
    ) -> Result<Array2<T>> {
        routed_pinv(self, a.view(), rtol)
    }

    fn pinv_real<T: Scalar, S: Data<Elem = T>>(
        &self,
        a: &ArrayBase<S, Ix2>,
        rtol: Option<T>,
    ) -> Result<Array2<T>> {
        const OP: Op = Op::Pinv;
        let (m, n) = a.dim();
        let rtol = tolerance(OP, "rtol", rtol, T::of(m.max(n) as f64) * T::EPS)?;
        blas_dims(OP, &[("rows", m), ("columns", n)])?;
        finite(OP, a)?;
        if m == 0 || n == 0 {
            dispatch::check::<T>(self, OP)?;
            return zeros_c(OP, n, m);
        }
        let f = dispatch::svd(self, OP, a.view(), Vectors::Thin)?;
        let cutoff = rtol * f.s[0];
        let r = f.s.iter().take_while(|&&x| x > cutoff).count();
        let mut out = zeros_c(OP, n, m)?;
        if r == 0 {
            return Ok(out);
        }
        // A⁺ = (diag(1/σ) Vᵀ)ᵀ Uᵀ over the r kept singular triplets.
        let mut w = f.vt.slice(s![..r, ..]).to_owned();
        for (mut row, &sv) in w.rows_mut().into_iter().zip(f.s.iter()) {
            row.map_inplace(|x| *x = *x / sv);
        }
        let u = f.u.slice(s![.., ..r]);
        dispatch::gemm(
            self,
            OP,
            T::one(),
            w.t(),
            u.t(),
            T::zero(),
            &mut out.view_mut(),
        )?;
        Ok(out)
    }

    /// Condition number in the 2-norm, `σ_max / σ_min` (numpy's `linalg.cond`); `+inf` for a
    /// singular matrix.
    ///
    /// Engines: all (the engine's [`Exec::svdvals`]).
    ///
    /// # Errors
    /// [`Error::Empty`] for an empty matrix (undefined); otherwise as [`Exec::svd`].
    ///
    /// ```
    /// let c = parla::Exec::blas(1)?.cond(&ndarray::array![[2.0f64, 0.0], [0.0, 0.5]])?;
    /// assert!((c - 4.0).abs() < 1e-12);
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn cond<T: Field, S: Data<Elem = T>>(&self, a: &ArrayBase<S, Ix2>) -> Result<T::Real> {
        const OP: Op = Op::Cond;
        if a.is_empty() {
            return Err(Error::Empty {
                op: OP.name(),
                shape: a.shape().to_vec(),
            });
        }
        let s = routed_singular_values(self, OP, a.view())?;
        let (max, min) = (s[0], s[s.len() - 1]);
        Ok(if min == T::Real::zero() {
            T::Real::infinity()
        } else {
            max / min
        })
    }

    /// Numerical rank: the number of singular values above `tol` (numpy's
    /// `linalg.matrix_rank`). `tol` defaults to `σ_max · max(m, n) · ε`. Zero for an empty
    /// matrix.
    ///
    /// Engines: all (the engine's [`Exec::svdvals`]).
    ///
    /// # Errors
    /// As [`Exec::svd`]; [`Error::InvalidArgument`] for a negative or NaN `tol`.
    ///
    /// ```
    /// let a = ndarray::array![[1.0f64, 2.0], [2.0, 4.0]];
    /// assert_eq!(parla::Exec::blas(1)?.matrix_rank(&a, None)?, 1);
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn matrix_rank<T: Field, S: Data<Elem = T>>(
        &self,
        a: &ArrayBase<S, Ix2>,
        tol: Option<T::Real>,
    ) -> Result<usize> {
        const OP: Op = Op::MatrixRank;
        let tol = match tol {
            Some(t) => Some(tolerance(OP, "tol", Some(t), T::Real::zero())?),
            None => None,
        };
        let s = routed_singular_values(self, OP, a.view())?;
        if s.is_empty() {
            return Ok(0);
        }
        let (m, n) = a.dim();
        let tol = tol.unwrap_or_else(|| s[0] * T::Real::of(m.max(n) as f64) * T::Real::EPS);
        Ok(s.iter().filter(|&&x| x > tol).count())
    }
}

fn tolerance<T: Scalar>(op: Op, name: &'static str, given: Option<T>, default: T) -> Result<T> {
    match given {
        None => Ok(default),
        Some(t) if t >= T::zero() => Ok(t),
        Some(t) => Err(Error::InvalidArgument {
            op: op.name(),
            name,
            reason: format!("got {t}; expected a number >= 0"),
        }),
    }
}

/// [`Exec::svd`] with the process defaults.
///
/// # Errors
/// As [`Exec::svd`], plus [`Error::InvalidEnv`].
///
/// ```
/// let f = parla::svd(&ndarray::array![[1.0f64, 0.0, 0.0]], parla::SvdMode::Full)?;
/// assert_eq!((f.u.dim(), f.vt.dim()), ((1, 1), (3, 3)));
/// # Ok::<(), parla::Error>(())
/// ```
pub fn svd<T: Field, S: Data<Elem = T>>(
    a: &ArrayBase<S, Ix2>,
    mode: SvdMode,
) -> Result<Svd<T, T::Real>> {
    Exec::current()?.svd(a, mode)
}

/// [`Exec::svdvals`] with the process defaults.
///
/// # Errors
/// As [`Exec::svdvals`], plus [`Error::InvalidEnv`].
///
/// ```
/// assert_eq!(parla::svdvals(&ndarray::array![[-3.0f64]])?, ndarray::array![3.0]);
/// # Ok::<(), parla::Error>(())
/// ```
pub fn svdvals<T: Field, S: Data<Elem = T>>(a: &ArrayBase<S, Ix2>) -> Result<Array1<T::Real>> {
    Exec::current()?.svdvals(a)
}

/// [`Exec::pinv`] with the process defaults.
///
/// # Errors
/// As [`Exec::pinv`], plus [`Error::InvalidEnv`].
///
/// ```
/// assert_eq!(parla::pinv(&ndarray::array![[2.0f64]], None)?, ndarray::array![[0.5]]);
/// # Ok::<(), parla::Error>(())
/// ```
pub fn pinv<T: Field, S: Data<Elem = T>>(
    a: &ArrayBase<S, Ix2>,
    rtol: Option<T::Real>,
) -> Result<Array2<T>> {
    Exec::current()?.pinv(a, rtol)
}

/// [`Exec::cond`] with the process defaults.
///
/// # Errors
/// As [`Exec::cond`], plus [`Error::InvalidEnv`].
///
/// ```
/// assert_eq!(parla::cond(&ndarray::array![[1.0f64, 0.0], [0.0, 0.0]])?, f64::INFINITY);
/// # Ok::<(), parla::Error>(())
/// ```
pub fn cond<T: Field, S: Data<Elem = T>>(a: &ArrayBase<S, Ix2>) -> Result<T::Real> {
    Exec::current()?.cond(a)
}

/// [`Exec::matrix_rank`] with the process defaults.
///
/// # Errors
/// As [`Exec::matrix_rank`], plus [`Error::InvalidEnv`].
///
/// ```
/// assert_eq!(parla::matrix_rank(&ndarray::Array2::<f64>::eye(4), None)?, 4);
/// # Ok::<(), parla::Error>(())
/// ```
pub fn matrix_rank<T: Field, S: Data<Elem = T>>(
    a: &ArrayBase<S, Ix2>,
    tol: Option<T::Real>,
) -> Result<usize> {
    Exec::current()?.matrix_rank(a, tol)
}

typed! {
    fn routed_svd<'l, T>(exec: &'l Exec, a: ArrayView2<'l, T>, mode: SvdMode) -> Result<Svd<T, T::Real>> {
        real => exec.svd_real(&a, mode),
        complex => exec.svd_complex(a, mode),
    }
}

typed! {
    fn routed_singular_values<'l, T>(exec: &'l Exec, op: Op, a: ArrayView2<'l, T>) -> Result<Array1<T::Real>> {
        real => exec.singular_values(op, &a),
        complex => exec.svdvals_complex(op, a),
    }
}

typed! {
    fn routed_pinv<'l, T>(exec: &'l Exec, a: ArrayView2<'l, T>, rtol: Option<T::Real>) -> Result<Array2<T>> {
        real => exec.pinv_real(&a, rtol),
        complex => exec.pinv_complex(a, rtol),
    }
}
