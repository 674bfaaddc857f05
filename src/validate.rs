//! Checks made once at the public boundary (DESIGN.md rule 3).
//!
//! Everything below the public API may assume what these functions establish.

use ndarray::{ArrayBase, Data, Dimension, Ix2};

use crate::error::{Error, Result};
use crate::op::Label;
use crate::real::Real;

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
pub fn finite<T: Real, S: Data<Elem = T>, D: Dimension>(
    op: impl Label,
    a: &ArrayBase<S, D>,
) -> Result<()> {
    let op = op.label();
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
pub fn finite_triangle<T: Real, S: Data<Elem = T>>(
    op: impl Label,
    a: &ArrayBase<S, Ix2>,
    lower: bool,
    with_diagonal: bool,
) -> Result<()> {
    let op = op.label();
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
