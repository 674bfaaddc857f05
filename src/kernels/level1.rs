//! Level 1 kernels in plain Rust (engine `rayon`, one chunk per call): `dot`, `axpy`, `scal`,
//! `nrm2`.
//!
//! Contiguous inputs run over fixed-width blocks with independent accumulators, which the
//! compiler turns into SIMD with several chains in flight (enough to stream from memory);
//! strided inputs take a plain element loop. Sums are accumulated blockwise in a fixed order, so
//! a given chunk always produces the same bits.

use ndarray::{ArrayView1, ArrayViewMut1, Zip};

use crate::real::{scaled_norm, Real};

/// Independent accumulators per dot product: 4 AVX-512 vectors of f64 (2 of f32) in flight.
const LANES: usize = 32;

/// Sum of `f(xᵢ, yᵢ)` over equal-length slices with [`LANES`] accumulators.
#[inline(always)]
fn block_sum<T: Real>(x: &[T], y: &[T], f: impl Fn(T, T) -> T) -> T {
    let mut acc = [T::zero(); LANES];
    let (xb, xr) = x.split_at(x.len() - x.len() % LANES);
    let (yb, yr) = y.split_at(xb.len());
    for (xc, yc) in xb.chunks_exact(LANES).zip(yb.chunks_exact(LANES)) {
        for i in 0..LANES {
            acc[i] = acc[i] + f(xc[i], yc[i]);
        }
    }
    for (i, (&a, &b)) in xr.iter().zip(yr).enumerate() {
        acc[i] = acc[i] + f(a, b);
    }
    // Pairwise combination of the accumulators: log2(LANES) levels.
    let mut width = LANES;
    while width > 1 {
        width /= 2;
        for i in 0..width {
            acc[i] = acc[i] + acc[i + width];
        }
    }
    acc[0]
}

/// `xᵀy` for vectors of equal length.
pub(crate) fn dot<T: Real>(x: ArrayView1<T>, y: ArrayView1<T>) -> T {
    match (x.as_slice(), y.as_slice()) {
        (Some(xs), Some(ys)) => block_sum(xs, ys, |a, b| a * b),
        _ => x
            .iter()
            .zip(y.iter())
            .fold(T::zero(), |s, (&a, &b)| s + a * b),
    }
}

/// `y ← αx + y` for vectors of equal length.
pub(crate) fn axpy<T: Real>(alpha: T, x: ArrayView1<T>, y: &mut ArrayViewMut1<T>) {
    match (x.as_slice(), y.as_slice_mut()) {
        (Some(xs), Some(ys)) => {
            for (yi, &xi) in ys.iter_mut().zip(xs) {
                *yi = *yi + alpha * xi;
            }
        }
        _ => Zip::from(y)
            .and(&x)
            .for_each(|yi, &xi| *yi = *yi + alpha * xi),
    }
}

/// `x ← αx`; `α = 0` writes zeros (as BLAS `scal` does, even over NaN).
pub(crate) fn scal<T: Real>(alpha: T, x: &mut ArrayViewMut1<T>) {
    if alpha == T::zero() {
        x.fill(T::zero());
    } else if let Some(xs) = x.as_slice_mut() {
        xs.iter_mut().for_each(|v| *v = *v * alpha);
    } else {
        x.map_inplace(|v| *v = *v * alpha);
    }
}

/// `‖x‖₂`: one pass summing squares; if that sum overflowed or may have lost accuracy to
/// underflow, a second, scaled pass ([`scaled_norm`]). NaN if any element is NaN, `inf` if any
/// is infinite.
pub(crate) fn nrm2<T: Real>(x: ArrayView1<T>) -> T {
    let ss = match x.as_slice() {
        Some(xs) => block_sum(xs, xs, |a, b| a * b),
        None => x.iter().fold(T::zero(), |s, &a| s + a * a),
    };
    // Below this, squares of the smallest elements may have been flushed to zero or lost bits.
    let tiny = T::min_positive_value() / T::EPS;
    if ss.is_finite() && ss >= tiny {
        ss.sqrt()
    } else {
        scaled_norm(x.iter().copied())
    }
}
