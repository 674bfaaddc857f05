//! The numeric base of parla's element types (`f32`, `f64`): the arithmetic, constants and
//! scaling helpers every layer may use. It imports nothing from the engines: `blas::ffi::Ffi`
//! and `kernels::Element` build on it, and [`Scalar`](crate::Scalar) joins them.

use std::fmt::{Debug, Display};

use ndarray::{LinalgScalar, ScalarOperand};

use crate::op::Dtype;
use num_traits::{Float, FromPrimitive, ToPrimitive};

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// The arithmetic of a real floating-point element type (`f32` or `f64`): what every layer
/// of parla computes with. Sealed.
pub trait Real:
    Float
    + FromPrimitive
    + ToPrimitive
    + LinalgScalar
    + ScalarOperand
    + Default
    + Debug
    + Display
    + Send
    + Sync
    + 'static
    + crate::alloc::Zeroable
    + sealed::Sealed
{
    /// Name of the type as numpy spells it (`"float32"`, `"float64"`).
    const DTYPE: &'static str;
    /// The element type as a value ([`Dtype`]).
    const KIND: Dtype;
    /// Machine epsilon (distance from 1 to the next larger number).
    const EPS: Self;

    /// Converts from `f64` (rounding for `f32`).
    fn of(x: f64) -> Self;
    /// Converts to `f64` (exact).
    fn as_f64(self) -> f64;
}

impl Real for f64 {
    const DTYPE: &'static str = "float64";
    const KIND: Dtype = Dtype::F64;
    const EPS: Self = f64::EPSILON;
    fn of(x: f64) -> Self {
        x
    }
    fn as_f64(self) -> f64 {
        self
    }
}

impl Real for f32 {
    const DTYPE: &'static str = "float32";
    const KIND: Dtype = Dtype::F32;
    const EPS: Self = f32::EPSILON;
    fn of(x: f64) -> Self {
        x as f32
    }
    fn as_f64(self) -> f64 {
        self as f64
    }
}

/// Splits a finite non-zero `x` into `m · 2^e` with `0.5 ≤ |m| < 1` (C's `frexp`).
pub(crate) fn frexp(x: f64) -> (f64, i64) {
    // Scale subnormals into the normal range first so the exponent field is meaningful.
    let (x, bias) = if x.abs() < f64::MIN_POSITIVE {
        (x * 2f64.powi(64), -64)
    } else {
        (x, 0)
    };
    let bits = x.to_bits();
    let e = ((bits >> 52) & 0x7ff) as i64 - 1022;
    let m = f64::from_bits((bits & !(0x7ff << 52)) | (1022 << 52));
    (m, e + bias)
}

/// `m · 2^e`, saturating to ±Inf or ±0 like the exact result would round.
pub(crate) fn ldexp(m: f64, e: i64) -> f64 {
    let mut x = m;
    let mut e = e;
    while e > 0 && x.is_finite() {
        let step = e.min(1000);
        x *= 2f64.powi(step as i32);
        e -= step;
    }
    while e < 0 && x != 0.0 {
        let step = (-e).min(1000);
        x /= 2f64.powi(step as i32);
        e += step;
    }
    x
}

/// `sqrt(Σ xᵢ²)` without overflow or harmful underflow: the largest magnitude is factored out
/// (LAPACK's `lassq` idea) and the rest summed in `f64`. NaN if any value is NaN; `inf` if any
/// is infinite; `0` for no values.
pub(crate) fn scaled_norm<T: Real>(values: impl Iterator<Item = T> + Clone) -> T {
    let mut amax = 0.0f64;
    for v in values.clone() {
        let a = v.as_f64().abs();
        if a.is_nan() {
            return T::nan();
        }
        amax = amax.max(a);
    }
    if amax == 0.0 || amax.is_infinite() {
        return T::of(amax);
    }
    let sum: f64 = values.map(|v| (v.as_f64() / amax).powi(2)).sum();
    T::of(amax * sum.sqrt())
}

/// `x · 2^e`, exact unless the result leaves the normal range.
pub(crate) fn times_pow2<T: Real>(x: T, e: i32) -> T {
    T::of(ldexp(x.as_f64(), i64::from(e)))
}

/// For each row of `a`, the power of two `e` that brings its largest magnitude into [0.5, 1)
/// (0 for a zero row): the exact row scaling LU uses when factoring `A` itself overflows.
pub(crate) fn equilibration_exponents<T: Real>(a: &ndarray::ArrayView2<T>) -> Vec<i32> {
    a.rows()
        .into_iter()
        .map(|r| {
            let amax = r.iter().fold(0.0f64, |mx, v| mx.max(v.as_f64().abs()));
            if amax == 0.0 {
                0
            } else {
                -frexp(amax).1 as i32
            }
        })
        .collect()
}

/// Whether every element of `xs` is finite (no NaN, no ±Inf), in one streaming pass.
///
/// `x·0` is `0` for finite `x` and NaN otherwise, so a sum of them is NaN exactly when some
/// element is not finite (it cannot overflow). Sixteen independent partial sums let the
/// compiler vectorise the pass; there is no early exit, so the cost does not depend on the data.
pub(crate) fn all_finite<T: Real>(xs: &[T]) -> bool {
    const LANES: usize = 16;
    let mut acc = [T::zero(); LANES];
    let mut chunks = xs.chunks_exact(LANES);
    for c in &mut chunks {
        for (a, &x) in acc.iter_mut().zip(c) {
            *a = *a + x * T::zero();
        }
    }
    let tail = chunks
        .remainder()
        .iter()
        .fold(T::zero(), |s, &x| s + x * T::zero());
    acc.iter().fold(tail, |s, &a| s + a).is_finite()
}
