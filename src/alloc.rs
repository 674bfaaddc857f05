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
pub unsafe trait Zeroable: Copy + num_traits::Zero + 'static {}

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
    advise_huge_pages(ptr as *mut u8, layout.size());
    // SAFETY: `ptr` was allocated by the global allocator with the layout of `[T; len]`, and the
    // all-zero bit pattern is zero for every `Zeroable` type, so all `len` elements are initialised.
    Ok(unsafe { Vec::from_raw_parts(ptr, len, len) })
}

/// Asks the kernel for transparent huge pages (2 MiB) over the aligned interior of a fresh
/// allocation of at least [`HUGE_PAGE_MIN_BYTES`], as numpy does for its large arrays. Large
/// arrays are mapped fresh by the allocator on every call (glibc maps ≥ 32 MiB on its own), and
/// each 4 KiB page then faults on first touch: copying a 2048 × 2048 `f64` input into a new
/// work array took 21 ms with 4 KiB pages and 6 ms with huge pages (Zen 3 VM, where
/// transparent huge pages are `madvise`-only), a fifth of a 2-thread Cholesky. Advice only:
/// where the kernel has no huge pages to give, or none enabled, nothing changes.
fn advise_huge_pages(ptr: *mut u8, bytes: usize) {
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
        if bytes < HUGE_PAGE_MIN_BYTES {
            return;
        }
        let start = (ptr as usize).next_multiple_of(HUGE);
        let end = (ptr as usize).saturating_add(bytes) / HUGE * HUGE;
        if end > start {
            // SAFETY: `start..end` lies inside the allocation at `ptr` of `bytes` bytes, which
            // the caller owns; `madvise` with MADV_HUGEPAGE changes no contents and no
            // permissions, and its failure (no THP support) leaves the pages as they were.
            unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE) };
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (ptr, bytes);
}

/// Allocations from which [`advise_huge_pages`] asks for huge pages: 4 MiB, numpy's threshold.
const HUGE_PAGE_MIN_BYTES: usize = 4 << 20;

/// An empty vector with room for `len` elements, reserved without aborting the process when
/// memory runs out.
///
/// # Errors
/// [`Error::TooLarge`] with `what = "bytes"` when the reservation is impossible or refused.
pub(crate) fn with_capacity<T>(op: &'static str, len: usize) -> Result<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| Error::TooLarge {
        op,
        what: "bytes",
        value: len.saturating_mul(std::mem::size_of::<T>()),
        max: isize::MAX as usize,
    })?;
    advise_huge_pages(v.as_mut_ptr() as *mut u8, len * std::mem::size_of::<T>());
    Ok(v)
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
/// a straight copy for both contiguous layouts (no transposition), allocated fallibly. A
/// contiguous `a` is copied as one block into memory that is not zero-filled first (the fill
/// cost as much as the copy: 5 % of a one-thread Cholesky at n = 512).
///
/// # Errors
/// As [`zeros_f`].
pub fn copy_in_order<T: Zeroable>(op: impl Label, a: ndarray::ArrayView2<T>) -> Result<Array2<T>> {
    copy_in_order_with(op, a, write_copy, |d, s| assign_2d(d, s))
}

/// [`copy_in_order`] with its two copies supplied: `fill` writes a contiguous `a`'s memory
/// (the source slice) into the reserved, uninitialised storage of the same length (it must
/// write every element), `assign` copies any other `a` into the zeroed matrix of the chosen
/// order. `parallel::copy` splits both over a team.
///
/// # Errors
/// As [`zeros_f`].
pub(crate) fn copy_in_order_with<T: Zeroable>(
    op: impl Label,
    a: ndarray::ArrayView2<T>,
    fill: impl FnOnce(&mut [std::mem::MaybeUninit<T>], &[T]),
    assign: impl FnOnce(&mut ndarray::ArrayViewMut2<T>, ndarray::ArrayView2<T>),
) -> Result<Array2<T>> {
    let op = op.label();
    let (m, n) = a.dim();
    let fortran = m > 1 && n > 1 && a.strides()[0] == 1;
    let contiguous = if fortran {
        a.t().is_standard_layout()
    } else {
        a.is_standard_layout()
    };
    if let (true, Some(src)) = (contiguous, a.to_slice_memory_order()) {
        let len = elements(op, m, n)?;
        let mut v = with_capacity(op, len)?;
        fill(&mut v.spare_capacity_mut()[..len], src);
        // SAFETY: `fill` wrote all `len` reserved elements (its contract).
        unsafe { v.set_len(len) };
        let shape = (m, n).set_f(fortran);
        return Ok(Array2::from_shape_vec(shape, v).expect("length matches shape"));
    }
    let mut out = if fortran {
        zeros_f(op, m, n)?
    } else {
        zeros_c(op, m, n)?
    };
    assign(&mut out.view_mut(), a);
    Ok(out)
}

/// `dst ← src` for uninitialised `dst` of the same length (one `memcpy`); every element of
/// `dst` is written.
pub(crate) fn write_copy<T: Copy>(dst: &mut [std::mem::MaybeUninit<T>], src: &[T]) {
    assert_eq!(dst.len(), src.len(), "write_copy: lengths differ");
    // SAFETY: equal lengths; `MaybeUninit<T>` has the layout of `T`; `dst` is borrowed
    // exclusively, so the two regions do not overlap.
    unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), dst.as_mut_ptr().cast::<T>(), src.len()) }
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

/// Rows and columns of the bands the parallel transpose cuts (whole multiples of it).
pub(crate) const TILE: usize = 32;

/// `dst ← src` (same shape) in an order that suits both memory layouts:
/// - both column-major (unit row stride): column by column. ndarray's `assign` walks a
///   column-major view that is not one contiguous block (a slice of a larger matrix) row by
///   row: 25–35× slower for a 1000 × 1000 block of a 1024 × 1024 matrix (ndarray 0.16/0.17);
/// - one column-major, the other row-major (a transposing copy):
///   [`transpose_copy`](crate::transpose_copy::transpose_copy), register-transposed blocks that
///   read and write whole cache lines;
/// - otherwise ndarray's `assign` (row-major on both sides is its fast case).
pub(crate) fn assign_2d<T: Copy + 'static>(
    dst: &mut ndarray::ArrayViewMut2<T>,
    src: ndarray::ArrayView2<T>,
) {
    use crate::transpose_copy::transpose_copy;
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
    } else if dst_cols && src_rows {
        transpose_copy(dst, src);
    } else if dst_rows && src_cols {
        transpose_copy(&mut dst.view_mut().reversed_axes(), src.reversed_axes());
    } else {
        dst.assign(&src);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::s;

    /// The `VmFlags` line of the mapping in `/proc/self/smaps` that holds address `at`.
    #[cfg(target_os = "linux")]
    fn vm_flags(at: usize) -> String {
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        let mut inside = false;
        for line in smaps.lines() {
            let range = line
                .split_whitespace()
                .next()
                .and_then(|r| r.split_once('-'));
            if let Some((lo, hi)) = range {
                if let (Ok(lo), Ok(hi)) =
                    (usize::from_str_radix(lo, 16), usize::from_str_radix(hi, 16))
                {
                    inside = (lo..hi).contains(&at);
                    continue;
                }
            }
            if inside && line.starts_with("VmFlags:") {
                return line.to_string();
            }
        }
        panic!("no mapping holds {at:#x}");
    }

    /// Large allocations, zeroed or not, carry the huge-page advice (`hg` in the mapping's
    /// flags) over their aligned interior, where the kernel supports transparent huge pages.
    #[cfg(target_os = "linux")]
    #[test]
    fn large_allocations_ask_for_huge_pages() {
        if !std::path::Path::new("/sys/kernel/mm/transparent_hugepage/enabled").exists() {
            return;
        }
        let len = 3 * HUGE_PAGE_MIN_BYTES / 8;
        let zeros = zeros_vec::<f64>("test", len).unwrap();
        let reserved = with_capacity::<f64>("test", len).unwrap();
        for (what, ptr) in [
            ("zeros_vec", zeros.as_ptr() as usize),
            ("with_capacity", reserved.as_ptr() as usize),
        ] {
            let inside = ptr.next_multiple_of(2 << 20);
            let flags = vm_flags(inside);
            assert!(
                flags.split_whitespace().any(|f| f == "hg"),
                "{what}: {flags}"
            );
        }
    }

    /// Contiguous C and F inputs (one block copy), sliced, reversed and single-row/column ones:
    /// the copy equals the input and keeps a column-major input column-major.
    #[test]
    fn copy_in_order_copies_and_keeps_the_order() {
        let c = Array2::from_shape_fn((7, 5), |(i, j)| (i * 10 + j) as f64);
        let f = {
            let mut f = Array2::zeros((7, 5).f());
            f.assign(&c);
            f
        };
        let row = Array2::from_shape_fn((1, 6), |(_, j)| j as f64);
        let col = Array2::from_shape_fn((6, 1), |(i, _)| i as f64);
        let views = [
            (c.view(), false),
            (f.view(), true),
            (c.slice(s![1..6, 1..4]), false),
            (f.slice(s![1..6, 1..4]), true),
            (c.slice(s![..;-1, ..]), false),
            (f.slice(s![.., ..;-2]), true),
            (row.view(), false),
            (col.view(), false),
            (c.t(), true),
        ];
        for (k, (v, fortran)) in views.into_iter().enumerate() {
            let out = copy_in_order("test", v).unwrap();
            assert_eq!(out, v, "view {k}");
            assert_eq!(
                out.strides()[0] == 1 && out.ncols() > 1,
                fortran,
                "view {k}"
            );
        }
    }

    /// Every pairing of row-major and column-major layouts, whole or sliced, sizes around the
    /// tile edge: the copy equals the source element by element.
    #[test]
    fn assign_2d_copies_every_layout_pair() {
        // Whole blocks, edges and more than one band of the transposing copy.
        for (m, n) in [
            (1, 5),
            (5, 1),
            (3, 4),
            (31, 33),
            (70, 45),
            (64, 64),
            (67, 128),
            (128, 61),
            (72, 192),
            (192, 192),
        ] {
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
