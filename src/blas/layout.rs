//! Mapping ndarray views to what BLAS and LAPACK can read in place, and copying when they can't.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut1};

use super::BLAS_INT_MAX;
use crate::alloc::zeros_f;
use crate::blas::ffi::Ffi;
use crate::blas::ffi::{CBLAS_LAYOUT, CBLAS_TRANSPOSE};
use crate::error::Result;

/// Storage order of a matrix view that BLAS can read in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Order {
    /// Rows are contiguous (unit stride along columns).
    Row,
    /// Columns are contiguous (unit stride along rows).
    Col,
}

impl Order {
    pub(crate) fn cblas(self) -> CBLAS_LAYOUT {
        match self {
            Order::Row => CBLAS_LAYOUT::CblasRowMajor,
            Order::Col => CBLAS_LAYOUT::CblasColMajor,
        }
    }
}

/// A matrix view in a BLAS-readable layout: its order and leading dimension.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Strided {
    pub order: Order,
    pub ld: i32,
}

impl Strided {
    /// The transpose flag that makes this operand read as itself in a call of order `call`.
    pub(crate) fn trans_for(self, call: Order) -> CBLAS_TRANSPOSE {
        if self.order == call {
            CBLAS_TRANSPOSE::CblasNoTrans
        } else {
            CBLAS_TRANSPOSE::CblasTrans
        }
    }
}

/// The BLAS layout of a non-empty `m × n` view, or `None` if BLAS cannot read it in place
/// (no unit stride, negative or zero strides, or a leading dimension above `i32::MAX`).
pub(crate) fn strided(m: usize, n: usize, strides: &[isize]) -> Option<Strided> {
    let (s0, s1) = (strides[0], strides[1]);
    let fits = |ld: isize| ld > 0 && (ld as usize) <= BLAS_INT_MAX;
    // Row-major: unit stride along a row (or a single column), rows `s0` apart (or a single row).
    let row_ok = (s1 == 1 || n == 1) && (m == 1 || s0 >= n.max(1) as isize);
    if row_ok {
        let ld = if m == 1 { n.max(1) as isize } else { s0 };
        if fits(ld) {
            return Some(Strided {
                order: Order::Row,
                ld: ld as i32,
            });
        }
    }
    let col_ok = (s0 == 1 || m == 1) && (n == 1 || s1 >= m.max(1) as isize);
    if col_ok {
        let ld = if n == 1 { m.max(1) as isize } else { s1 };
        if fits(ld) {
            return Some(Strided {
                order: Order::Col,
                ld: ld as i32,
            });
        }
    }
    None
}

/// Layout of a matrix view, see [`strided`].
pub(crate) fn matrix_layout<T>(a: &ArrayView2<T>) -> Option<Strided> {
    let (m, n) = a.dim();
    strided(m, n, a.strides())
}

/// A copy of `a` in Fortran (column-major) order, the layout LAPACK works in.
pub(crate) fn to_fortran<T: Ffi>(op: &'static str, a: &ArrayView2<T>) -> Result<Array2<T>> {
    let (m, n) = a.dim();
    let mut out = zeros_f(op, m, n)?;
    // Not OpenBLAS's `omatcopy`: a transposing 512 × 512 f64 copy took 1.6–2.3 ms with it
    // against 0.17–0.20 ms with `assign_2d`'s register-blocked transpose (Zen 5,
    // `OPENBLAS_CORETYPE=Haswell`; inside a one-thread `blas` Cholesky, whose `potrf` itself
    // took 1.0–1.1 ms).
    crate::alloc::assign_2d(&mut out.view_mut(), a.view());
    Ok(out)
}

/// Either a borrowed BLAS-readable view or an owned Fortran-order copy.
pub(crate) enum Readable<'a, T> {
    Borrowed(ArrayView2<'a, T>, Strided),
    Owned(Array2<T>, Strided),
}

impl<T> Readable<'_, T> {
    pub(crate) fn ptr(&self) -> *const T {
        match self {
            Readable::Borrowed(v, _) => v.as_ptr(),
            Readable::Owned(a, _) => a.as_ptr(),
        }
    }
    pub(crate) fn layout(&self) -> Strided {
        match self {
            Readable::Borrowed(_, s) | Readable::Owned(_, s) => *s,
        }
    }
}

/// Wraps `a` so BLAS can read it: in place when possible, else from a column-major copy.
pub(crate) fn readable_matrix<'a, T: Ffi>(
    op: &'static str,
    a: ArrayView2<'a, T>,
) -> Result<Readable<'a, T>> {
    if let Some(s) = matrix_layout(&a) {
        return Ok(Readable::Borrowed(a, s));
    }
    let (m, n) = a.dim();
    let copy = to_fortran(op, &a)?;
    let s = strided(m, n, copy.strides()).expect("a fresh column-major array is readable");
    Ok(Readable::Owned(copy, s))
}

/// Increment of a vector view that BLAS can walk in place, or `None`.
pub(crate) fn increment<T>(x: &ArrayView1<T>) -> Option<i32> {
    if x.len() <= 1 {
        return Some(1);
    }
    let s = x.strides()[0];
    (s > 0 && s as usize <= BLAS_INT_MAX).then_some(s as i32)
}

/// A vector BLAS can read: the view itself, or a contiguous copy.
pub(crate) enum VecRead<'a, T> {
    Borrowed(ArrayView1<'a, T>, i32),
    Owned(Vec<T>),
}

impl<'a, T: Ffi> VecRead<'a, T> {
    pub(crate) fn new(x: ArrayView1<'a, T>) -> Self {
        match increment(&x) {
            Some(inc) => VecRead::Borrowed(x, inc),
            None => VecRead::Owned(x.iter().copied().collect()),
        }
    }
    pub(crate) fn ptr(&self) -> *const T {
        match self {
            VecRead::Borrowed(v, _) => v.as_ptr(),
            VecRead::Owned(v) => v.as_ptr(),
        }
    }
    pub(crate) fn inc(&self) -> i32 {
        match self {
            VecRead::Borrowed(_, inc) => *inc,
            VecRead::Owned(_) => 1,
        }
    }
}

/// Runs `f` on a version of `y` with a positive increment: `y` itself when possible, else a
/// contiguous copy written back afterwards.
pub(crate) fn with_writable_vector<T: Ffi, R>(
    y: &mut ArrayViewMut1<T>,
    f: impl FnOnce(*mut T, i32) -> R,
) -> R {
    if let Some(inc) = increment(&y.view()) {
        return f(y.as_mut_ptr(), inc);
    }
    let mut tmp: Array1<T> = y.iter().copied().collect();
    let r = f(tmp.as_mut_ptr(), 1);
    y.assign(&tmp);
    r
}

/// Runs `f(ptr, ld)` on `a` as a column-major matrix LAPACK can overwrite: in place when `a`
/// has unit row stride and a leading dimension in `m..=i32::MAX` (any, for a single column),
/// else on a column-major copy that is written back afterwards.
pub(crate) fn with_column_major<T: Ffi, R>(
    op: &'static str,
    a: &mut ndarray::ArrayViewMut2<T>,
    f: impl FnOnce(*mut T, i32) -> Result<R>,
) -> Result<R> {
    let (m, n) = a.dim();
    let (rs, cs) = (a.strides()[0], a.strides()[1]);
    let in_place = rs == 1 && (n == 1 || (cs >= m as isize && cs <= BLAS_INT_MAX as isize));
    if !in_place {
        let mut tmp = to_fortran(op, &a.view())?;
        let ld = m.max(1) as i32;
        let r = f(tmp.as_mut_ptr(), ld)?;
        crate::alloc::assign_2d(a, tmp.view());
        return Ok(r);
    }
    let ld = if n == 1 { m.max(1) as i32 } else { cs as i32 };
    f(a.as_mut_ptr(), ld)
}
