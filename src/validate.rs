//! Checks made once at the public boundary (DESIGN.md rule 3).
//!
//! Everything below the public API may assume what these functions establish.

use ndarray::{ArrayBase, Data, Dimension, Ix2};

use crate::error::{Error, Result};
use crate::op::Label;
use crate::scalar::Field;

pub(crate) use crate::blas::blas_int;

/// Checks every `(name, value)` against the BLAS integer limit.
///
/// # Errors
/// [`Error::TooLarge`] for the first value above `i32::MAX`.
pub fn blas_dims(op: impl Label, dims: &[(&'static str, usize)]) -> Result<()> {
    let op = op.label();
    dims.iter()
        .try_for_each(|&(what, v)| blas_int(op, what, v).map(drop))
}

/// Requires a square matrix.
///
/// # Errors
/// [`Error::NotSquare`].
pub fn square<S: Data>(op: impl Label, a: &ArrayBase<S, Ix2>) -> Result<usize> {
    let op = op.label();
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
pub fn finite<T: Field, S: Data<Elem = T>, D: Dimension>(
    op: impl Label,
    a: &ArrayBase<S, D>,
) -> Result<()> {
    let op = op.label();
    // Fast path: one vectorised pass over the memory order; the slow path finds the index.
    let quick = match a.as_slice_memory_order() {
        Some(s) => T::all_finite(s),
        None => a.iter().all(|x| x.is_finite_elem()),
    };
    if quick {
        return Ok(());
    }
    match a.indexed_iter().find(|(_, x)| !x.is_finite_elem()) {
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
pub fn finite_triangle<T: Field, S: Data<Elem = T>>(
    op: impl Label,
    a: &ArrayBase<S, Ix2>,
    lower: bool,
    with_diagonal: bool,
) -> Result<()> {
    let op = op.label();
    let n = a.nrows();
    // Fast path: one vectorised pass along the contiguous axis (a row of the triangle, or a
    // column for column-major storage); the slow path below finds the first bad index.
    let by_columns = n > 1 && a.strides()[0] == 1;
    let quick = (0..n).all(|k| {
        // Row k's columns, or column k's rows (the transposed triangle's row).
        let range = match (lower != by_columns, with_diagonal) {
            (true, true) => 0..k + 1,
            (true, false) => 0..k,
            (false, true) => k..n,
            (false, false) => k + 1..n,
        };
        let lane = if by_columns {
            a.slice(ndarray::s![range, k])
        } else {
            a.slice(ndarray::s![k, range])
        };
        match lane.as_slice() {
            Some(s) => T::all_finite(s),
            None => lane.iter().all(|x| x.is_finite_elem()),
        }
    });
    if quick {
        return Ok(());
    }
    for i in 0..n {
        let cols = match (lower, with_diagonal) {
            (true, true) => 0..i + 1,
            (true, false) => 0..i,
            (false, true) => i..n,
            (false, false) => i + 1..n,
        };
        for j in cols {
            let x = a[[i, j]];
            if !x.is_finite_elem() {
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

/// [`finite_triangle`] (lower, with the diagonal) deferred to after a real Cholesky-type
/// factorization of `a`, whose `result` it receives; `diagonal_finite` tells whether the
/// factor's diagonal is finite. The O(n²) scan runs only when the factorization failed or that
/// diagonal is not finite, and a NaN or ±Inf it finds is reported instead of the result, so
/// the caller sees exactly what checking first would have given.
///
/// Why a successful factorization with a finite diagonal proves the triangle finite (real
/// types): each `lᵢⱼ` (`i ≥ j`) is computed from `aᵢⱼ` by subtractions, one division by a
/// positive pivot and, on the diagonal, a square root, all of which keep a NaN a NaN and an
/// infinity non-finite; and each `lᵢⱼ` below the diagonal is subtracted from the pivot of row
/// `i` as its square (`+∞` or NaN when it is not finite), so that pivot is `−∞` or NaN and fails
/// the positivity test (or an earlier pivot fails). A `+∞` on the diagonal itself gives
/// `lⱼⱼ = +∞`. Complex input is checked first instead: `potrf` ignores the imaginary part of the
/// diagonal.
///
/// # Errors
/// [`Error::NonFinite`] as [`finite_triangle`], else `result`'s error.
pub(crate) fn finite_lower_after<T: Field, S: Data<Elem = T>, R>(
    op: impl Label,
    a: &ArrayBase<S, Ix2>,
    result: Result<R>,
    diagonal_finite: impl FnOnce(&R) -> bool,
) -> Result<R> {
    debug_assert!(!T::IS_COMPLEX);
    let suspect = match &result {
        Ok(r) => !diagonal_finite(r),
        Err(_) => true,
    };
    if suspect {
        finite_triangle(op, a, true, true)?;
    }
    result
}

/// Whether every diagonal entry of `l` is finite.
pub(crate) fn diagonal_finite<T: Field>(l: &ndarray::Array2<T>) -> bool {
    l.diag().iter().all(|x| x.is_finite_elem())
}

/// The bytes `[start, end)` an array's elements span in memory (`None` when empty): from the
/// first to the last element along every axis, whatever the signs of the strides.
fn span<S: ndarray::RawData, D: Dimension>(a: &ArrayBase<S, D>) -> Option<(usize, usize)> {
    if a.is_empty() {
        return None;
    }
    let size = std::mem::size_of::<S::Elem>().max(1) as isize;
    let base = a.as_ptr() as isize;
    let (mut lo, mut hi) = (base, base);
    for (&d, &s) in a.shape().iter().zip(a.strides()) {
        let reach = (d as isize - 1) * s * size;
        if reach < 0 {
            lo += reach;
        } else {
            hi += reach;
        }
    }
    Some((lo as usize, hi as usize + size as usize))
}

/// The spans of an array's lanes along its axis of smallest stride (its rows, for a C-order
/// matrix), sorted: a finer picture of its memory than one [`span`].
fn lane_spans<S: Data, D: Dimension>(a: &ArrayBase<S, D>) -> Vec<(usize, usize)> {
    let inner = (0..a.ndim())
        .filter(|&i| a.shape()[i] > 1)
        .min_by_key(|&i| a.strides()[i].unsigned_abs())
        .unwrap_or(0);
    let mut v: Vec<(usize, usize)> = a
        .lanes(ndarray::Axis(inner))
        .into_iter()
        .filter_map(|lane| span(&lane))
        .collect();
    v.sort_unstable();
    v
}

/// Whether two arrays share memory. Exact for lanes with unit stride (two column blocks of one
/// C-order matrix are disjoint), conservative otherwise (the span of each lane counts).
pub fn overlaps<SA, DA, SB, DB>(a: &ArrayBase<SA, DA>, b: &ArrayBase<SB, DB>) -> bool
where
    SA: Data,
    DA: Dimension,
    SB: Data,
    DB: Dimension,
{
    match (span(a), span(b)) {
        (Some((a0, a1)), Some((b0, b1))) if a0 < b1 && b0 < a1 => {}
        _ => return false,
    }
    // The whole spans intersect: compare lane by lane (two sorted lists, one sweep).
    let (la, lb) = (lane_spans(a), lane_spans(b));
    let (mut i, mut j) = (0, 0);
    while i < la.len() && j < lb.len() {
        let ((a0, a1), (b0, b1)) = (la[i], lb[j]);
        if a0 < b1 && b0 < a1 {
            return true;
        }
        if a1 <= b1 {
            i += 1;
        } else {
            j += 1;
        }
    }
    false
}

/// Requires the output of an `_into` operation not to share memory with the input `name`.
/// Safe Rust cannot build such a pair (a `&mut` and a `&` to the same elements); views made
/// from raw pointers can.
///
/// # Errors
/// [`Error::Aliasing`].
pub fn disjoint<SO, DO, SI, DI>(
    op: impl Label,
    out: &ArrayBase<SO, DO>,
    name: &'static str,
    input: &ArrayBase<SI, DI>,
) -> Result<()>
where
    SO: Data,
    DO: Dimension,
    SI: Data,
    DI: Dimension,
{
    if overlaps(out, input) {
        return Err(Error::Aliasing {
            op: op.label(),
            input: name,
        });
    }
    Ok(())
}

/// Requires the output of an `_into` operation to have the shape `want`.
///
/// # Errors
/// [`Error::ShapeMismatch`] with the expected shape left and the output's right.
pub fn out_shape(op: impl Label, want: &[usize], got: &[usize]) -> Result<()> {
    if want != got {
        return Err(Error::ShapeMismatch {
            op: op.label(),
            left: want.to_vec(),
            right: got.to_vec(),
        });
    }
    Ok(())
}
