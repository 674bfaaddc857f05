//! The element types parla computes with: `f32` and `f64`.

use crate::blas::ffi::Ffi;
use crate::kernels::Element;
use crate::real::Real;

/// A real floating-point element type that every engine supports (`f32` or `f64`): the
/// arithmetic (its sealed base trait: `EPS`, `DTYPE`, conversions), the BLAS/LAPACK
/// bindings of the `blas` engine and the micro-kernels of the `rayon` engine.
///
/// Implemented for exactly the types all three have; the bindings behind it exist only for
/// `f32` and `f64`.
///
/// ```
/// fn residual<T: parla::Scalar>(a: &ndarray::Array2<T>, b: &ndarray::Array1<T>) -> parla::Result<T> {
///     let x = parla::solve(a, b)?;
///     parla::blas_level::nrm2(&(parla::matvec(a, &x)? - b))
/// }
/// let a = ndarray::array![[2.0f64, 1.0], [1.0, 3.0]];
/// assert!(residual(&a, &ndarray::array![1.0, 2.0])? < 1e-14);
/// # Ok::<(), parla::Error>(())
/// ```
pub trait Scalar: Real + Ffi + Element {}

impl<T: Real + Ffi + Element> Scalar for T {}
