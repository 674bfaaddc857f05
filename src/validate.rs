//! Checks made once at the public boundary (DESIGN.md rule 3), and fallible allocation.
//!
//! Everything below the public API may assume what these functions establish.

use ndarray::{Array2, ArrayBase, Data, Dimension, Ix2, ShapeBuilder};

use crate::error::{Error, Result};
use crate::scalar::Scalar;

/// Largest dimension, leading dimension or increment BLAS/LAPACK accept (32-bit `int`).
pub const BLAS_INT_MAX: usize = i32::MAX as usize;

/// Converts a size to the 32-bit integer BLAS/LAPACK take.
///
/// # Errors
/// [`Error::TooLarge`] when `value > i32::MAX`.
pub fn blas_int(op: &'static str, what: &'static str, value: usize) -> Result<i32> {
    i32::try_from(value).map_err(|_| Error::TooLarge {
        op,
        what,
        value,
        max: BLAS_INT_MAX,
    })
}

/// Checks every `(name, value)` against the BLAS integer limit.
///
/// # Errors
/// [`Error::TooLarge`] for the first value above `i32::MAX`.
pub fn blas_dims(op: &'static str, dims: &[(&'static str, usize)]) -> Result<()> {
    dims.iter()
        .try_for_each(|&(what, v)| blas_int(op, what, v).map(drop))
}

/// Requires a square matrix.
///
/// # Errors
/// [`Error::NotSquare`].
pub fn square<S: Data>(op: &'static str, a: &ArrayBase<S, Ix2>) -> Result<usize> {
    let (m, n) = a.dim();
    if m == n {
        Ok(n)
    } else {
        Err(Error::NotSquare {
            op,
            rows: m,
            cols: n,
        })
    }
}

/// Requires every element to be finite.
///
/// # Errors
/// [`Error::NonFinite`] naming the first NaN or ±Inf (in logical row-major order).
pub fn finite<T: Scalar, S: Data<Elem = T>, D: Dimension>(
    op: &'static str,
    a: &ArrayBase<S, D>,
) -> Result<()> {
    // Fast path: a sum over the memory order is non-finite iff some element is (or the sum
    // overflowed, which the slow path then sorts out).
    let quick = match a.as_slice_memory_order() {
        Some(s) => s.iter().fold(T::zero(), |acc, &x| acc + x * T::zero()),
        None => a.iter().fold(T::zero(), |acc, &x| acc + x * T::zero()),
    };
    if quick.is_finite() {
        return Ok(());
    }
    match a.indexed_iter().find(|(_, x)| !x.is_finite()) {
        Some((idx, x)) => Err(Error::NonFinite {
            op,
            index: ndarray::IntoDimension::into_dimension(idx).slice().to_vec(),
            value: format!("{x}"),
        }),
        None => Ok(()),
    }
}

/// Requires every element of one triangle of a square matrix to be finite (the part an
/// operation reads). `with_diagonal = false` skips the diagonal (unit-triangular solves).
///
/// # Errors
/// [`Error::NonFinite`] naming the first NaN or ±Inf inside the triangle.
pub fn finite_triangle<T: Scalar, S: Data<Elem = T>>(
    op: &'static str,
    a: &ArrayBase<S, Ix2>,
    lower: bool,
    with_diagonal: bool,
) -> Result<()> {
    let n = a.nrows();
    for i in 0..n {
        let cols = match (lower, with_diagonal) {
            (true, true) => 0..i + 1,
            (true, false) => 0..i,
            (false, true) => i..n,
            (false, false) => i + 1..n,
        };
        for j in cols {
            let x = a[[i, j]];
            if !x.is_finite() {
                return Err(Error::NonFinite {
                    op,
                    index: vec![i, j],
                    value: format!("{x}"),
                });
            }
        }
    }
    Ok(())
}

/// A vector of `len` zeros, allocated without aborting the process when memory runs out.
///
/// Uses the allocator's zeroed allocation (`calloc`), so large buffers come as fresh zero pages
/// from the kernel instead of being written once by a memset.
///
/// # Errors
/// [`Error::TooLarge`] with `what = "bytes"` when the allocation is impossible or refused.
pub fn zeros_vec<T: Scalar>(op: &'static str, len: usize) -> Result<Vec<T>> {
    let too_large = || Error::TooLarge {
        op,
        what: "bytes",
        value: len.saturating_mul(std::mem::size_of::<T>()),
        max: isize::MAX as usize,
    };
    if len == 0 {
        return Ok(Vec::new());
    }
    let layout = std::alloc::Layout::array::<T>(len).map_err(|_| too_large())?;
    // SAFETY: `layout` has non-zero size (len > 0 and T is f32 or f64).
    let ptr = unsafe { std::alloc::alloc_zeroed(layout) } as *mut T;
    if ptr.is_null() {
        return Err(too_large());
    }
    // SAFETY: `ptr` was allocated by the global allocator with the layout of `[T; len]`, and the
    // all-zero bit pattern is `0.0` for f32 and f64, so all `len` elements are initialised.
    Ok(unsafe { Vec::from_raw_parts(ptr, len, len) })
}

/// A zero-filled matrix in Fortran (column-major) order, allocated fallibly.
///
/// # Errors
/// As [`zeros_vec`], plus [`Error::TooLarge`] when `m * n` overflows.
pub fn zeros_f<T: Scalar>(op: &'static str, m: usize, n: usize) -> Result<Array2<T>> {
    let v = zeros_vec(op, elements(op, m, n)?)?;
    Ok(Array2::from_shape_vec((m, n).f(), v).expect("length matches shape"))
}

/// A zero-filled matrix in C (row-major) order, allocated fallibly.
///
/// # Errors
/// As [`zeros_f`].
pub fn zeros_c<T: Scalar>(op: &'static str, m: usize, n: usize) -> Result<Array2<T>> {
    let v = zeros_vec(op, elements(op, m, n)?)?;
    Ok(Array2::from_shape_vec((m, n), v).expect("length matches shape"))
}

/// `m * n`, or [`Error::TooLarge`] when it overflows.
///
/// # Errors
/// [`Error::TooLarge`] with `what = "elements"`.
pub fn elements(op: &'static str, m: usize, n: usize) -> Result<usize> {
    m.checked_mul(n)
        .filter(|&l| l <= isize::MAX as usize / 16)
        .ok_or(Error::TooLarge {
            op,
            what: "elements",
            value: usize::MAX,
            max: isize::MAX as usize / 16,
        })
}

/// A copy of `a` in its own memory order when that is column-major (Fortran), else in C order:
/// a straight copy for both contiguous layouts (no transposition), allocated fallibly.
///
/// # Errors
/// As [`zeros_f`].
pub fn copy_in_order<T: Scalar>(op: &'static str, a: ndarray::ArrayView2<T>) -> Result<Array2<T>> {
    let (m, n) = a.dim();
    let fortran = m > 1 && n > 1 && a.strides()[0] == 1;
    let mut out = if fortran {
        zeros_f(op, m, n)?
    } else {
        zeros_c(op, m, n)?
    };
    out.assign(&a);
    Ok(out)
}
