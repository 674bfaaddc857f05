//! Method style: `use parla::prelude::*;` and call the operations on ndarray matrices —
//! `a.solve(&b)?`, `a.cholesky()?`, `a.matmul(&b)?`, `a.eigh()?`, `a.svd(SvdMode::Thin)?`,
//! `a.lu_factor()?` — as ndarray-linalg users write them.
//!
//! [`Linalg`] is implemented for every 2-D `ArrayBase` (owned arrays, views, `ArcArray`,
//! `CowArray`) of `f32`, `f64`, [`c32`] or [`c64`] (`transpose`: real only). Complex
//! matrices run where the free function does (the `blas` engine; complex `matmul` on every
//! engine). Each method is the free function of the same name
//! ([`parla::solve`](crate::solve), ...): it runs with the process defaults
//! ([`Exec::current`]); for a fixed engine or thread count call the [`Exec`] method instead.
//!
//! ```
//! use ndarray::array;
//! use parla::prelude::*;
//!
//! let a = array![[4.0f64, 2.0], [2.0, 5.0]];
//! let x = a.solve(&array![6.0, 7.0])?;
//! assert!((&x - &array![1.0, 1.0]).iter().all(|d| d.abs() < 1e-12));
//! assert_eq!(a.cholesky()?, array![[2.0, 0.0], [1.0, 2.0]]);
//! assert!((a.det()? - 16.0).abs() < 1e-12);
//! let s = a.view().svd(SvdMode::Thin)?.s;
//! assert!((s[0] * s[1] - 16.0).abs() < 1e-12);
//! # Ok::<(), parla::Error>(())
//! ```

use ndarray::{Array1, Array2, ArrayBase, Data, Ix2};

pub use crate::decomp::{Diag, NormKind, QrMode, SvdMode, Trans, Uplo};
pub use crate::engine::Engine;
pub use crate::error::{Error, Result};
pub use crate::exec::Exec;
pub use crate::ops::factored::{CholeskyFactor, LuFactor, QrFactor};
pub use crate::scalar::{c32, c64, Field, Scalar};

use crate::decomp::{Eig, Eigh, Lstsq, Lu, Qr, Svd};
use crate::ops::Rhs;
use crate::Complex;

mod sealed {
    pub trait Sealed {}
    impl<S: ndarray::Data> Sealed for ndarray::ArrayBase<S, ndarray::Ix2> {}
}

/// The linear-algebra operations as methods of a matrix (see the [module docs](self)). Sealed.
pub trait Linalg<T: Field>: sealed::Sealed {
    /// [`matmul`](crate::matmul): `self @ b`.
    ///
    /// # Errors
    /// As [`Exec::matmul`].
    fn matmul<S2: Data<Elem = T>>(&self, b: &ArrayBase<S2, Ix2>) -> Result<Array2<T>>;
    /// [`matvec`](crate::matvec): `self @ x`.
    ///
    /// # Errors
    /// As [`Exec::matvec`].
    fn matvec<S2: Data<Elem = T>>(&self, x: &ArrayBase<S2, ndarray::Ix1>) -> Result<Array1<T>>;
    /// [`solve`](crate::solve): `self⁻¹ b` (vector or matrix `b`).
    ///
    /// # Errors
    /// As [`Exec::solve`].
    fn solve<B: Rhs<T>>(&self, b: &B) -> Result<B::Out>;
    /// [`solve_triangular`](crate::solve_triangular).
    ///
    /// # Errors
    /// As [`Exec::solve_triangular`].
    fn solve_triangular<B: Rhs<T>>(
        &self,
        b: &B,
        uplo: Uplo,
        trans: Trans,
        diag: Diag,
    ) -> Result<B::Out>;
    /// [`lstsq`](crate::lstsq).
    ///
    /// # Errors
    /// As [`Exec::lstsq`].
    fn lstsq<B: Rhs<T>>(&self, b: &B, rcond: Option<T::Real>) -> Result<Lstsq<T::Real, B::Out>>;
    /// [`inv`](crate::inv).
    ///
    /// # Errors
    /// As [`Exec::inv`].
    fn inv(&self) -> Result<Array2<T>>;
    /// [`det`](crate::det).
    ///
    /// # Errors
    /// As [`Exec::det`].
    fn det(&self) -> Result<T>;
    /// [`slogdet`](crate::slogdet).
    ///
    /// # Errors
    /// As [`Exec::slogdet`].
    fn slogdet(&self) -> Result<(T, T::Real)>;
    /// [`lu`](crate::lu).
    ///
    /// # Errors
    /// As [`Exec::lu`].
    fn lu(&self) -> Result<Lu<T>>;
    /// [`cholesky`](crate::cholesky): the lower factor.
    ///
    /// # Errors
    /// As [`Exec::cholesky`].
    fn cholesky(&self) -> Result<Array2<T>>;
    /// [`qr`](crate::qr) in [`QrMode::Reduced`].
    ///
    /// # Errors
    /// As [`Exec::qr`].
    fn qr(&self) -> Result<Qr<T>>;
    /// [`qr`](crate::qr) in the given mode.
    ///
    /// # Errors
    /// As [`Exec::qr`].
    fn qr_mode(&self, mode: QrMode) -> Result<Qr<T>>;
    /// [`svd`](crate::svd).
    ///
    /// # Errors
    /// As [`Exec::svd`].
    fn svd(&self, mode: SvdMode) -> Result<Svd<T, T::Real>>;
    /// [`svdvals`](crate::svdvals).
    ///
    /// # Errors
    /// As [`Exec::svdvals`].
    fn svdvals(&self) -> Result<Array1<T::Real>>;
    /// [`eigh`](crate::eigh).
    ///
    /// # Errors
    /// As [`Exec::eigh`].
    fn eigh(&self) -> Result<Eigh<T, T::Real>>;
    /// [`eigvalsh`](crate::eigvalsh).
    ///
    /// # Errors
    /// As [`Exec::eigvalsh`].
    fn eigvalsh(&self) -> Result<Array1<T::Real>>;
    /// [`eig`](crate::eig).
    ///
    /// # Errors
    /// As [`Exec::eig`].
    fn eig(&self) -> Result<Eig<T::Real>>;
    /// [`eigvals`](crate::eigvals).
    ///
    /// # Errors
    /// As [`Exec::eigvals`].
    fn eigvals(&self) -> Result<Array1<Complex<T::Real>>>;
    /// [`pinv`](crate::pinv).
    ///
    /// # Errors
    /// As [`Exec::pinv`].
    fn pinv(&self, rtol: Option<T::Real>) -> Result<Array2<T>>;
    /// [`cond`](crate::cond).
    ///
    /// # Errors
    /// As [`Exec::cond`].
    fn cond(&self) -> Result<T::Real>;
    /// [`matrix_rank`](crate::matrix_rank).
    ///
    /// # Errors
    /// As [`Exec::matrix_rank`].
    fn matrix_rank(&self, tol: Option<T::Real>) -> Result<usize>;
    /// [`norm`](crate::norm).
    ///
    /// # Errors
    /// As [`Exec::norm`].
    fn norm(&self, kind: NormKind) -> Result<T::Real>;
    /// [`transpose`](crate::transpose): `selfᵀ` as a new C-order matrix.
    ///
    /// # Errors
    /// As [`Exec::transpose`].
    fn transpose(&self) -> Result<Array2<T>>
    where
        T: Scalar;
    /// [`lu_factor`](crate::lu_factor): factor once, solve many.
    ///
    /// # Errors
    /// As [`Exec::lu_factor`].
    fn lu_factor(&self) -> Result<LuFactor<T>>;
    /// [`cho_factor`](crate::cho_factor): factor once, solve many.
    ///
    /// # Errors
    /// As [`Exec::cho_factor`].
    fn cho_factor(&self) -> Result<CholeskyFactor<T>>;
    /// [`qr_factor`](crate::qr_factor): factor once, least-squares solves.
    ///
    /// # Errors
    /// As [`Exec::qr_factor`].
    fn qr_factor(&self) -> Result<QrFactor<T>>;
}

impl<T: Field, S: Data<Elem = T>> Linalg<T> for ArrayBase<S, Ix2> {
    fn matmul<S2: Data<Elem = T>>(&self, b: &ArrayBase<S2, Ix2>) -> Result<Array2<T>> {
        crate::matmul(self, b)
    }
    fn matvec<S2: Data<Elem = T>>(&self, x: &ArrayBase<S2, ndarray::Ix1>) -> Result<Array1<T>> {
        crate::matvec(self, x)
    }
    fn solve<B: Rhs<T>>(&self, b: &B) -> Result<B::Out> {
        crate::solve(self, b)
    }
    fn solve_triangular<B: Rhs<T>>(
        &self,
        b: &B,
        uplo: Uplo,
        trans: Trans,
        diag: Diag,
    ) -> Result<B::Out> {
        crate::solve_triangular(self, b, uplo, trans, diag)
    }
    fn lstsq<B: Rhs<T>>(&self, b: &B, rcond: Option<T::Real>) -> Result<Lstsq<T::Real, B::Out>> {
        crate::lstsq(self, b, rcond)
    }
    fn inv(&self) -> Result<Array2<T>> {
        crate::inv(self)
    }
    fn det(&self) -> Result<T> {
        crate::det(self)
    }
    fn slogdet(&self) -> Result<(T, T::Real)> {
        crate::slogdet(self)
    }
    fn lu(&self) -> Result<Lu<T>> {
        crate::lu(self)
    }
    fn cholesky(&self) -> Result<Array2<T>> {
        crate::cholesky(self)
    }
    fn qr(&self) -> Result<Qr<T>> {
        crate::qr(self, QrMode::Reduced)
    }
    fn qr_mode(&self, mode: QrMode) -> Result<Qr<T>> {
        crate::qr(self, mode)
    }
    fn svd(&self, mode: SvdMode) -> Result<Svd<T, T::Real>> {
        crate::svd(self, mode)
    }
    fn svdvals(&self) -> Result<Array1<T::Real>> {
        crate::svdvals(self)
    }
    fn eigh(&self) -> Result<Eigh<T, T::Real>> {
        crate::eigh(self)
    }
    fn eigvalsh(&self) -> Result<Array1<T::Real>> {
        crate::eigvalsh(self)
    }
    fn eig(&self) -> Result<Eig<T::Real>> {
        crate::eig(self)
    }
    fn eigvals(&self) -> Result<Array1<Complex<T::Real>>> {
        crate::eigvals(self)
    }
    fn pinv(&self, rtol: Option<T::Real>) -> Result<Array2<T>> {
        crate::pinv(self, rtol)
    }
    fn cond(&self) -> Result<T::Real> {
        crate::cond(self)
    }
    fn matrix_rank(&self, tol: Option<T::Real>) -> Result<usize> {
        crate::matrix_rank(self, tol)
    }
    fn norm(&self, kind: NormKind) -> Result<T::Real> {
        crate::norm(self, kind)
    }
    fn transpose(&self) -> Result<Array2<T>>
    where
        T: Scalar,
    {
        crate::transpose(self)
    }
    fn lu_factor(&self) -> Result<LuFactor<T>> {
        crate::lu_factor(self)
    }
    fn cho_factor(&self) -> Result<CholeskyFactor<T>> {
        crate::cho_factor(self)
    }
    fn qr_factor(&self) -> Result<QrFactor<T>> {
        crate::qr_factor(self)
    }
}
