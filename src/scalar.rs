//! The element types parla computes with: the real `f32`, `f64` ([`Scalar`]) and the complex
//! `c32`, `c64` ([`ComplexScalar`]), joined by [`Field`], the bound of the public API.
//!
//! How one public function serves both kinds without touching the real code: every public
//! operation is bound on `T: Field` and hands a small value describing the call to
//! [`Field::route`]. The four sealed impls pick the branch at compile time: `f32`/`f64` call the
//! value's `real` method, where `T: Scalar` holds and the existing generic real code runs
//! unchanged (no copy, no run-time branch); `c32`/`c64` call its `complex` method. Engine
//! selection stays in `dispatch/` for both.

use std::fmt::{Debug, Display};

use ndarray::{LinalgScalar, ScalarOperand};
use num_complex::Complex;

use crate::blas::ffi::{ComplexFfi, Ffi};
use crate::kernels::complex::Cplx;
use crate::kernels::Element;
use crate::op::Dtype;
use crate::real::Real;

/// `Complex<f32>` (numpy's `complex64`).
#[allow(non_camel_case_types)]
pub type c32 = Complex<f32>;
/// `Complex<f64>` (numpy's `complex128`).
#[allow(non_camel_case_types)]
pub type c64 = Complex<f64>;

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
    impl Sealed for num_complex::Complex<f32> {}
    impl Sealed for num_complex::Complex<f64> {}
}

/// An element type of the public API: `f32`, `f64`, [`c32`] or [`c64`]. Sealed.
///
/// [`Field::Real`] is the type of moduli, norms, singular values and Hermitian eigenvalues
/// (`f64` for both `f64` and `c64`). Real types are also [`Scalar`] (with `Real = Self`), so
/// code generic over `T: Scalar` calls every parla function as before.
///
/// ```
/// use parla::{c64, Field};
/// fn residual<T: Field>(a: &ndarray::Array2<T>, b: &ndarray::Array1<T>) -> parla::Result<T::Real> {
///     let x = parla::solve(a, b)?;
///     parla::blas_level::nrm2(&(parla::matvec(a, &x)? - b))
/// }
/// let a = ndarray::array![[c64::new(2.0, 1.0), c64::new(1.0, 0.0)], [c64::new(0.0, 1.0), c64::new(3.0, 0.0)]];
/// let b = ndarray::array![c64::new(1.0, 0.0), c64::new(2.0, -1.0)];
/// assert!(residual(&a, &b)? < 1e-14);
/// assert!(residual(&a.mapv(|z| z.re), &b.mapv(|z| z.re))? < 1e-14);
/// # Ok::<(), parla::Error>(())
/// ```
pub trait Field:
    LinalgScalar
    + PartialEq
    + std::ops::Neg<Output = Self>
    + ScalarOperand
    + crate::alloc::Zeroable
    + Default
    + Debug
    + Display
    + Send
    + Sync
    + 'static
    + sealed::Sealed
{
    /// The real type of the parts, moduli and norms (`f32` or `f64`).
    type Real: Scalar;
    /// Whether the type is complex.
    const IS_COMPLEX: bool;
    /// The element type as a value ([`Dtype`]).
    const ELEMENT: Dtype;

    /// Complex conjugate (the identity for real types).
    fn conj(self) -> Self;
    /// Real part.
    fn re(self) -> Self::Real;
    /// Imaginary part (zero for real types).
    fn im(self) -> Self::Real;
    /// `re + i·im` (the imaginary part is dropped for real types).
    fn from_parts(re: Self::Real, im: Self::Real) -> Self;
    /// `|x|`, computed without intermediate overflow (`hypot` for complex types).
    fn modulus(self) -> Self::Real;
    /// Neither part is NaN or infinite.
    fn is_finite_elem(self) -> bool;
    /// Whether every element of `xs` is finite, in one streaming pass.
    #[doc(hidden)]
    fn all_finite(xs: &[Self]) -> bool;

    /// Runs the branch of `v` for this element type: `real` for `f32`/`f64`, `complex` for
    /// `c32`/`c64`. Decided at compile time.
    #[doc(hidden)]
    fn route<V: Route<Self>>(v: V) -> V::Out;
}

/// One operation called on `T` operands, split by element kind (see [`Field::route`]).
#[doc(hidden)]
pub trait Route<T: Field> {
    /// The result.
    type Out;
    /// The real branch: `T` is `f32` or `f64`.
    fn real(self) -> Self::Out
    where
        T: Scalar;
    /// The complex branch: `T` is `c32` or `c64`.
    fn complex(self) -> Self::Out
    where
        T: ComplexScalar;
}

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
pub trait Scalar: Field<Real = Self> + Real + Ffi + Element {}

impl<T: Field<Real = T> + Real + Ffi + Element> Scalar for T {}

/// A complex element type (`c32` or `c64`): the arithmetic of `Complex<Real>`, the complex
/// BLAS/LAPACK bindings of the `blas` engine and the complex kernels of the `rayon` engine.
/// Sealed.
pub trait ComplexScalar:
    Field + ComplexFfi<Part = <Self as Field>::Real> + Cplx<Re = <Self as Field>::Real>
{
}

impl ComplexScalar for c32 {}
impl ComplexScalar for c64 {}

/// Declares `fn $name<'l, T: Field>(args) -> out` that routes to `real` or `complex` (both
/// written over the same argument names).
macro_rules! typed_fn {
    ($(#[$m:meta])* fn $name:ident<$lt:lifetime, $t:ident>($($arg:ident : $ty:ty),* $(,)?) -> $out:ty {
        real => $real:expr,
        complex => $cx:expr $(,)?
    }) => {
        $(#[$m])*
        #[allow(clippy::too_many_arguments)]
        pub(crate) fn $name<$lt, $t: $crate::scalar::Field>($($arg: $ty),*) -> $out {
            struct Call<$lt, $t: $crate::scalar::Field> {
                $($arg: $ty,)*
            }
            impl<$lt, $t: $crate::scalar::Field> $crate::scalar::Route<$t> for Call<$lt, $t> {
                type Out = $out;
                fn real(self) -> $out
                where
                    $t: $crate::scalar::Scalar,
                {
                    let Call { $($arg),* } = self;
                    $real
                }
                fn complex(self) -> $out
                where
                    $t: $crate::scalar::ComplexScalar,
                {
                    let Call { $($arg),* } = self;
                    $cx
                }
            }
            <$t as $crate::scalar::Field>::route(Call { $($arg),* })
        }
    };
}

pub(crate) use typed_fn as typed;

macro_rules! real_field {
    ($t:ty) => {
        impl Field for $t {
            type Real = $t;
            const IS_COMPLEX: bool = false;
            const ELEMENT: Dtype = <$t as Real>::KIND;
            #[inline(always)]
            fn conj(self) -> Self {
                self
            }
            #[inline(always)]
            fn re(self) -> Self {
                self
            }
            #[inline(always)]
            fn im(self) -> Self {
                0.0
            }
            #[inline(always)]
            fn from_parts(re: Self, _im: Self) -> Self {
                re
            }
            #[inline(always)]
            fn modulus(self) -> Self {
                self.abs()
            }
            #[inline(always)]
            fn is_finite_elem(self) -> bool {
                self.is_finite()
            }
            #[inline(always)]
            fn all_finite(xs: &[Self]) -> bool {
                crate::real::all_finite(xs)
            }
            #[inline(always)]
            fn route<V: Route<Self>>(v: V) -> V::Out {
                v.real()
            }
        }
    };
}

macro_rules! complex_field {
    ($r:ty, $dtype:expr) => {
        impl Field for Complex<$r> {
            type Real = $r;
            const IS_COMPLEX: bool = true;
            const ELEMENT: Dtype = $dtype;
            #[inline(always)]
            fn conj(self) -> Self {
                Complex::new(self.re, -self.im)
            }
            #[inline(always)]
            fn re(self) -> $r {
                self.re
            }
            #[inline(always)]
            fn im(self) -> $r {
                self.im
            }
            #[inline(always)]
            fn from_parts(re: $r, im: $r) -> Self {
                Complex::new(re, im)
            }
            #[inline(always)]
            fn modulus(self) -> $r {
                self.re.hypot(self.im)
            }
            #[inline(always)]
            fn is_finite_elem(self) -> bool {
                self.re.is_finite() && self.im.is_finite()
            }
            fn all_finite(xs: &[Self]) -> bool {
                // SAFETY: `Complex<R>` is `repr(C)` with fields `re`, `im` of type `R` and no
                // padding, so `xs` is `2·len` contiguous `R` values; the view borrows `xs`.
                let parts =
                    unsafe { std::slice::from_raw_parts(xs.as_ptr().cast::<$r>(), 2 * xs.len()) };
                crate::real::all_finite(parts)
            }
            #[inline(always)]
            fn route<V: Route<Self>>(v: V) -> V::Out {
                v.complex()
            }
        }
    };
}

real_field!(f32);
real_field!(f64);
complex_field!(f32, Dtype::C64);
complex_field!(f64, Dtype::C128);

#[cfg(test)]
mod tests {
    use super::*;

    /// The complex check reads both parts of every element, at every position of slices long
    /// and short enough to take the vector loop and its remainder.
    #[test]
    fn complex_all_finite_sees_every_part_of_every_element() {
        fn check<R: crate::real::Real>()
        where
            Complex<R>: Field,
        {
            for len in [1usize, 3, 8, 17, 64, 129] {
                let ok = vec![Complex::new(R::one(), -R::one()); len];
                assert!(<Complex<R> as Field>::all_finite(&ok), "len {len}");
                for i in 0..len {
                    for bad in [R::nan(), R::infinity(), R::neg_infinity()] {
                        for part in 0..2 {
                            let mut v = ok.clone();
                            if part == 0 {
                                v[i].re = bad;
                            } else {
                                v[i].im = bad;
                            }
                            assert!(
                                !<Complex<R> as Field>::all_finite(&v),
                                "len {len}, element {i}, part {part}"
                            );
                        }
                    }
                }
            }
            assert!(<Complex<R> as Field>::all_finite(&[]));
        }
        check::<f32>();
        check::<f64>();
    }
}
