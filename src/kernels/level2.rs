//! `gemv` in plain Rust (engine `rayon`, one block of rows per call).
//!
//! Row-contiguous A: each `yᵢ` is a dot product of row `i` with `x`, four rows at a time so
//! every load of `x` feeds four rows (`cols4::dot4`, FMA vector code for this CPU: the generic
//! loop, compiled for baseline x86-64, ran half as fast as OpenBLAS's `dgemv` at n = 384 on a
//! Zen 3). Column-contiguous A: `y` accumulates `xⱼ·A[:, j]` four columns at a time
//! (`cols4::axpy4`) in a temporary, so A is still read with unit stride. Any other layout: per-row dot
//! products over strided views.

use ndarray::{Array1, ArrayView1, ArrayView2, ArrayViewMut1, Axis, Zip};

use crate::kernels::cols4::{axpy4, dot4, COLS};
use crate::kernels::level1;
use crate::kernels::simd1::Fma;
use crate::real::Real;

/// Rows processed together in the row-contiguous case (by `cols4::dot4`, the tail by
/// [`dots`]).
const ROWS: usize = COLS;

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
            let fma = Fma::detect();
            for (o, group) in out
                .as_slice_mut()
                .unwrap_or(&mut [])
                .chunks_mut(ROWS)
                .zip(rows.chunks(ROWS))
            {
                match <[&[T]; COLS]>::try_from(group) {
                    Ok(four) => o.copy_from_slice(&dot4(fma, four, xs)),
                    Err(_) => dots(group, xs, o),
                }
            }
            return out;
        }
    }
    if a.strides()[0] == 1 && m > 1 {
        let mut acc = vec![T::zero(); m];
        let fma = Fma::detect();
        let cols: Vec<&[T]> = a.axis_iter(Axis(1)).filter_map(|c| c.to_slice()).collect();
        let quads = if cols.len() == n { n / COLS } else { 0 };
        for q in 0..quads {
            let four: [&[T]; COLS] = std::array::from_fn(|k| cols[q * COLS + k]);
            axpy4(
                fma,
                four,
                std::array::from_fn(|k| xs[q * COLS + k]),
                &mut acc,
            );
        }
        for (j, col) in a.axis_iter(Axis(1)).enumerate().skip(quads * COLS) {
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
