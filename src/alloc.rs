//! Fallible allocation of the arrays parla returns and works in: a size the machine cannot
//! hold is [`Error::TooLarge`], never an abort; and the layout helpers every layer shares
//! ([`copy_in_order`], [`assign_2d`], [`transposed_if_row_major`]). Used by every layer.

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
    assign_2d(&mut out.view_mut(), a);
    Ok(out)
}

/// `a` as the column-major matrix it is in memory, and whether that is `aᵀ`: a row-major `a`
/// (more than one row) is in memory the column-major `aᵀ`, which an LU copies to its
/// column-major work array without transposing (a transposing copy of a large matrix cost as
/// much as a tenth of the factorization at n = 1024); any other `a` is itself. So a row-major
/// `A` is factored as `Aᵀ`: `det Aᵀ = det A` (real det and slogdet, every engine), `A x = b` is
/// `(Aᵀ)ᵀ x = b` (`getrs` with `trans = 'T'`) and `A⁻¹ = ((Aᵀ)⁻¹)ᵀ` (solve and inv on `blas`).
pub(crate) fn transposed_if_row_major<T>(
    a: ndarray::ArrayView2<'_, T>,
) -> (ndarray::ArrayView2<'_, T>, bool) {
    if a.nrows() > 1 && a.is_standard_layout() {
        (a.reversed_axes(), true)
    } else {
        (a, false)
    }
}

/// Tile edge of [`assign_2d`]'s layout-changing copies: 32 × 32 f64 is 8 KiB read plus 8 KiB
/// written, inside a 32 KiB L1 data cache with room for the prefetcher's next lines.
pub(crate) const TILE: usize = 32;

/// `dst ← src` (same shape) in an order that suits both memory layouts:
/// - both column-major (unit row stride): column by column. ndarray's `assign` walks a
///   column-major view that is not one contiguous block (a slice of a larger matrix) row by
///   row: 25–35× slower for a 1000 × 1000 block of a 1024 × 1024 matrix (ndarray 0.16/0.17);
/// - one column-major, the other row-major (a transposing copy): [`TILE`] × [`TILE`] tiles, each
///   read and written while both sides are in L1, so neither is walked down a column through
///   memory;
/// - otherwise ndarray's `assign` (row-major on both sides is its fast case).
pub(crate) fn assign_2d<T: Copy>(dst: &mut ndarray::ArrayViewMut2<T>, src: ndarray::ArrayView2<T>) {
    use ndarray::s;
    debug_assert_eq!(dst.dim(), src.dim());
    let (m, n) = dst.dim();
    if m <= 1 || n <= 1 {
        dst.assign(&src);
        return;
    }
    let (dst_cols, dst_rows) = (dst.strides()[0] == 1, dst.strides()[1] == 1);
    let (src_cols, src_rows) = (src.strides()[0] == 1, src.strides()[1] == 1);
    if dst_cols && src_cols {
        for (mut d, s) in dst.columns_mut().into_iter().zip(src.columns()) {
            d.assign(&s);
        }
    } else if (dst_cols && src_rows) || (dst_rows && src_cols) {
        for j0 in (0..n).step_by(TILE) {
            let j1 = (j0 + TILE).min(n);
            for i0 in (0..m).step_by(TILE) {
                let i1 = (i0 + TILE).min(m);
                dst.slice_mut(s![i0..i1, j0..j1])
                    .assign(&src.slice(s![i0..i1, j0..j1]));
            }
        }
    } else {
        dst.assign(&src);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::s;

    /// Every pairing of row-major and column-major layouts, whole or sliced, sizes around the
    /// tile edge: the copy equals the source element by element.
    #[test]
    fn assign_2d_copies_every_layout_pair() {
        for (m, n) in [(1, 5), (5, 1), (3, 4), (31, 33), (70, 45)] {
            let src_full =
                Array2::from_shape_fn((m + 3, n + 2), |(i, j)| (i * 1000 + j) as f64 + 0.5);
            let src_f = {
                let mut f = Array2::zeros((m + 3, n + 2).f());
                f.assign(&src_full);
                f
            };
            let sources = [
                src_full.slice(s![1..m + 1, 2..n + 2]).to_owned(),
                src_f.slice(s![1..m + 1, 2..n + 2]).to_owned(),
            ];
            let views = [
                src_full.slice(s![1..m + 1, 2..n + 2]),
                src_f.slice(s![1..m + 1, 2..n + 2]),
                sources[0].view(),
                sources[1].view(),
            ];
            let want = src_full.slice(s![1..m + 1, 2..n + 2]).to_owned();
            for src in views {
                for dst_kind in 0..4 {
                    let mut c = Array2::<f64>::zeros((m + 2, n + 4));
                    let mut f = Array2::<f64>::zeros((m + 2, n + 4).f());
                    let mut cc = Array2::<f64>::zeros((m, n));
                    let mut ff = Array2::<f64>::zeros((m, n).f());
                    let mut dst = match dst_kind {
                        0 => c.slice_mut(s![2.., 1..n + 1]),
                        1 => f.slice_mut(s![2.., 1..n + 1]),
                        2 => cc.view_mut(),
                        _ => ff.view_mut(),
                    };
                    assign_2d(&mut dst, src);
                    assert_eq!(dst, want, "{m}×{n} kind {dst_kind}");
                }
            }
        }
    }
}
