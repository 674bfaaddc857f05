//! Fallible allocation of the arrays parla returns and works in: a size the machine cannot
//! hold is [`Error::TooLarge`], never an abort. Used by every layer.

use ndarray::{Array2, ShapeBuilder};

use crate::error::{Error, Result};
use crate::op::Label;

/// Element types whose all-zero bit pattern is the value zero: `f32`, `f64` and their complex
/// types (`#[repr(C)] { re, im }`).
///
/// # Safety
/// Only for types whose all-zero bytes are a valid zero value.
pub unsafe trait Zeroable: Copy + num_traits::Zero {}

// SAFETY: IEEE +0.0 is all zero bits; `Complex<R>` is two `R`s.
unsafe impl Zeroable for f32 {}
// SAFETY: as above.
unsafe impl Zeroable for f64 {}
// SAFETY: as above.
unsafe impl Zeroable for num_complex::Complex<f32> {}
// SAFETY: as above.
unsafe impl Zeroable for num_complex::Complex<f64> {}

/// A vector of `len` zeros, allocated without aborting the process when memory runs out.
///
/// Uses the allocator's zeroed allocation (`calloc`), so large buffers come as fresh zero pages
/// from the kernel instead of being written once by a memset.
///
/// # Errors
/// [`Error::TooLarge`] with `what = "bytes"` when the allocation is impossible or refused.
pub fn zeros_vec<T: Zeroable>(op: impl Label, len: usize) -> Result<Vec<T>> {
    let op = op.label();
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
    // SAFETY: `layout` has non-zero size (len > 0 and T is not zero-sized).
    let ptr = unsafe { std::alloc::alloc_zeroed(layout) } as *mut T;
    if ptr.is_null() {
        return Err(too_large());
    }
    // SAFETY: `ptr` was allocated by the global allocator with the layout of `[T; len]`, and the
    // all-zero bit pattern is zero for every `Zeroable` type, so all `len` elements are initialised.
    Ok(unsafe { Vec::from_raw_parts(ptr, len, len) })
}

/// A zero-filled matrix in Fortran (column-major) order, allocated fallibly.
///
/// # Errors
/// As [`zeros_vec`], plus [`Error::TooLarge`] when `m * n` overflows.
pub fn zeros_f<T: Zeroable>(op: impl Label, m: usize, n: usize) -> Result<Array2<T>> {
    let op = op.label();
    let v = zeros_vec(op, elements(op, m, n)?)?;
    Ok(Array2::from_shape_vec((m, n).f(), v).expect("length matches shape"))
}

/// A zero-filled matrix in C (row-major) order, allocated fallibly.
///
/// # Errors
/// As [`zeros_f`].
pub fn zeros_c<T: Zeroable>(op: impl Label, m: usize, n: usize) -> Result<Array2<T>> {
    let op = op.label();
    let v = zeros_vec(op, elements(op, m, n)?)?;
    Ok(Array2::from_shape_vec((m, n), v).expect("length matches shape"))
}

/// `m * n`, or [`Error::TooLarge`] when it overflows.
///
/// # Errors
/// [`Error::TooLarge`] with `what = "elements"`.
pub fn elements(op: impl Label, m: usize, n: usize) -> Result<usize> {
    let op = op.label();
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
pub fn copy_in_order<T: Zeroable + Clone>(
    op: impl Label,
    a: ndarray::ArrayView2<T>,
) -> Result<Array2<T>> {
    let op = op.label();
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
