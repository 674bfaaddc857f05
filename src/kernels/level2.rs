//! `gemv` in plain Rust (engine `rayon`, one block of rows per call).
//!
//! Row-contiguous A: each `yᵢ` is a dot product of row `i` with `x`, four rows at a time so
//! every load of `x` feeds four rows. Column-contiguous A: `y` accumulates `xⱼ·A[:, j]` column
//! by column in a temporary, so A is still read with unit stride. Any other layout: per-row dot
//! products over strided views.

use ndarray::{Array1, ArrayView1, ArrayView2, ArrayViewMut1, Axis, Zip};

use crate::kernels::level1;
use crate::real::Real;

/// Rows processed together in the row-contiguous case.
const ROWS: usize = 4;

/// `y ← α A x + β y` for `A: m × n`, `x: n`, `y: m`; `β = 0` overwrites `y` (NaN included).
pub(crate) fn gemv<T: Real>(
    alpha: T,
    a: ArrayView2<T>,
    x: ArrayView1<T>,
    beta: T,
    y: &mut ArrayViewMut1<T>,
) {
    let ax = product(a, x);
    Zip::from(y).and(&ax).for_each(|yi, &v| {
        *yi = if beta == T::zero() {
            alpha * v
        } else {
            alpha * v + beta * *yi
        }
    });
}

/// `A x`.
fn product<T: Real>(a: ArrayView2<T>, x: ArrayView1<T>) -> Array1<T> {
    let (m, n) = a.dim();
    let xs = x
        .as_slice()
        .map(std::borrow::Cow::Borrowed)
        .unwrap_or_else(|| std::borrow::Cow::Owned(x.to_vec()));
    let xs: &[T] = &xs;
    if a.strides()[1] == 1 || n == 1 {
        let mut out = Array1::zeros(m);
        let rows: Vec<&[T]> = a.outer_iter().filter_map(|r| r.to_slice()).collect();
        if rows.len() == m {
            for (o, group) in out
                .as_slice_mut()
                .unwrap_or(&mut [])
                .chunks_mut(ROWS)
                .zip(rows.chunks(ROWS))
            {
                dots(group, xs, o);
            }
            return out;
        }
    }
    if a.strides()[0] == 1 && m > 1 {
        let mut acc = vec![T::zero(); m];
        for (j, col) in a.axis_iter(Axis(1)).enumerate() {
            let xj = xs[j];
            match col.to_slice() {
                Some(cs) => acc
                    .iter_mut()
                    .zip(cs)
                    .for_each(|(yi, &aij)| *yi = *yi + xj * aij),
                None => acc
                    .iter_mut()
                    .zip(col)
                    .for_each(|(yi, &aij)| *yi = *yi + xj * aij),
            }
        }
        return Array1::from(acc);
    }
    a.outer_iter()
        .map(|row| level1::dot(row, x))
        .collect::<Vec<_>>()
        .into()
}

/// `out[r] = rows[r] · x` for up to [`ROWS`] rows, sharing each load of `x`.
fn dots<T: Real>(rows: &[&[T]], x: &[T], out: &mut [T]) {
    const W: usize = 8;
    let n = x.len();
    let nb = n - n % W;
    let mut acc = [[T::zero(); W]; ROWS];
    for c in (0..nb).step_by(W) {
        let xc = &x[c..c + W];
        for (r, row) in rows.iter().enumerate() {
            let rc = &row[c..c + W];
            for i in 0..W {
                acc[r][i] = acc[r][i] + rc[i] * xc[i];
            }
        }
    }
    for (r, row) in rows.iter().enumerate() {
        let mut s = acc[r].iter().fold(T::zero(), |s, &v| s + v);
        for c in nb..n {
            s = s + row[c] * x[c];
        }
        out[r] = s;
    }
}
