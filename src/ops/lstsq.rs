//! Linear least squares.

use ndarray::{s, Array1, Array2, ArrayBase, ArrayView2, Data, Ix2};

use crate::alloc::zeros_f;
use crate::decomp::{Lstsq, Trans};
use crate::dispatch;
use crate::error::{Error, Result};
use crate::exec::Exec;
use crate::op::Op;
use crate::ops::Rhs;
use crate::real::Real;
use crate::scalar::{typed, ComplexScalar, Field};
use crate::validate::{blas_dims, finite};
use num_traits::{Float, One, Zero};

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
    pub fn lstsq<T: Field, SA: Data<Elem = T>, B: Rhs<T>>(
        &self,
        a: &ArrayBase<SA, Ix2>,
        b: &B,
        rcond: Option<T::Real>,
    ) -> Result<Lstsq<T::Real, B::Out>> {
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
            None => T::Real::EPS * T::Real::of(m.max(n) as f64),
            Some(r) if r >= T::Real::zero() => r,
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
                    .map(|c| {
                        c.iter().fold(T::Real::zero(), |s, &x| {
                            s + x.re() * x.re() + x.im() * x.im()
                        })
                    })
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
        if rcond >= T::Real::one() {
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
        let rcond = if rcond == T::Real::zero() {
            T::Real::min_positive_value()
        } else {
            rcond
        };
        let r = routed_lstsq(self, a.view(), bm, rcond)?;
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
pub fn lstsq<T: Field, SA: Data<Elem = T>, B: Rhs<T>>(
    a: &ArrayBase<SA, Ix2>,
    b: &B,
    rcond: Option<T::Real>,
) -> Result<Lstsq<T::Real, B::Out>> {
    Exec::current()?.lstsq(a, b, rcond)
}

typed! {
    fn routed_lstsq<'l, T>(
        exec: &'l Exec,
        a: ArrayView2<'l, T>,
        b: ArrayView2<'l, T>,
        rcond: T::Real,
    ) -> Result<Lstsq<T::Real, Array2<T>>> {
        real => dispatch::lstsq(exec, a, b, rcond),
        complex => lstsq_complex(exec, a, b, rcond),
    }
}

/// The minimum-norm least-squares solution of a non-empty complex system from the thin SVD
/// `A = U diag(s) Vᴴ` (what LAPACK's `gelsd` computes): `X = V₁ diag(1/s₁) U₁ᴴ B` over the
/// singular values above `rcond · s₀`.
fn lstsq_complex<C: ComplexScalar>(
    exec: &Exec,
    a: ArrayView2<C>,
    b: ArrayView2<C>,
    rcond: C::Real,
) -> Result<Lstsq<C::Real, Array2<C>>> {
    const OP: Op = Op::Lstsq;
    let (m, n) = a.dim();
    let nrhs = b.ncols();
    let (u, sv, vt) = dispatch::complex::svd(exec, OP, a, true, false)?;
    let cutoff = rcond * sv[0];
    let rank = sv.iter().take_while(|&&x| x > cutoff).count();
    let mut x = zeros_f::<C>(OP, n, nrhs)?;
    if rank > 0 {
        let (one, zero) = (C::one(), C::zero());
        // Y = diag(1/s₁) U₁ᴴ B, then X = V₁ Y = (Vᴴ)₁ᴴ Y.
        let mut y = zeros_f::<C>(OP, rank, nrhs)?;
        let u1 = u.slice(s![.., ..rank]);
        dispatch::complex::gemm(
            exec,
            OP,
            one,
            u1,
            Trans::Conj,
            b,
            Trans::No,
            zero,
            &mut y.view_mut(),
        )?;
        for (mut row, &x) in y.rows_mut().into_iter().zip(sv.iter()) {
            let inv = C::from_parts(C::Real::one() / x, C::Real::zero());
            row.map_inplace(|z| *z = *z * inv);
        }
        let v1h = vt.slice(s![..rank, ..]);
        dispatch::complex::gemm(
            exec,
            OP,
            one,
            v1h,
            Trans::Conj,
            y.view(),
            Trans::No,
            zero,
            &mut x.view_mut(),
        )?;
    }
    let residuals = if rank == n && m > n {
        // ‖B − A X‖² per column.
        let mut r = b.to_owned();
        dispatch::complex::gemm(
            exec,
            OP,
            -C::one(),
            a,
            Trans::No,
            x.view(),
            Trans::No,
            C::one(),
            &mut r.view_mut(),
        )?;
        r.columns()
            .into_iter()
            .map(|c| {
                c.iter().fold(C::Real::zero(), |s, &z| {
                    s + z.re() * z.re() + z.im() * z.im()
                })
            })
            .collect()
    } else {
        Array1::zeros(0)
    };
    Ok(Lstsq {
        solution: x,
        residuals,
        rank,
        singular_values: sv,
    })
}
