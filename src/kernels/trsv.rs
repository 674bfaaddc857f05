//! One triangular solve with one right-hand side, `x ← A⁻¹ x`, in a single pass over the
//! triangle: the solves of the factor objects with few right-hand sides, where the blocked
//! `trsm` (GEMM updates, packed copies) costs more than the `n²/2` multiply-adds themselves.

use ndarray::{ArrayView2, ArrayViewMut1, ArrayViewMut2};

use crate::real::Real;

/// `Σ aᵢ bᵢ` with four partial sums (vectorises).
fn dot<T: Real>(a: &[T], b: &[T]) -> T {
    let mut acc = [T::zero(); 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..4 {
            acc[k] = acc[k] + x[k] * y[k];
        }
    }
    let mut s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for (&x, &y) in ra.iter().zip(rb) {
        s = s + x * y;
    }
    s
}

/// `x ← A⁻¹ x` for triangular `A: n × n` (`lower` or upper, `unit` diagonal or not, any
/// strides) and a contiguous `x`. Rows of `A` contiguous: dot-product form along them; else
/// column (axpy) form, skipping zero multipliers. Divides by the diagonal.
fn solve_slice<T: Real>(lower: bool, unit: bool, a: ArrayView2<T>, x: &mut [T]) {
    let n = a.nrows();
    let diag = |i: usize| if unit { T::one() } else { a[[i, i]] };
    if a.strides()[1] == 1 && n > 1 {
        for q in 0..n {
            let i = if lower { q } else { n - 1 - q };
            let row = a.row(i);
            let row = row.as_slice().expect("unit stride");
            let s = if lower {
                dot(&row[..i], &x[..i])
            } else {
                dot(&row[i + 1..], &x[i + 1..])
            };
            x[i] = (x[i] - s) / diag(i);
        }
        return;
    }
    for q in 0..n {
        let p = if lower { q } else { n - 1 - q };
        x[p] = x[p] / diag(p);
        let xp = x[p];
        if xp == T::zero() {
            continue;
        }
        let col = a.column(p);
        let (range, rows) = if lower {
            (p + 1..n, p + 1..n)
        } else {
            (0..p, 0..p)
        };
        match col.as_slice() {
            Some(c) => x[range]
                .iter_mut()
                .zip(&c[rows])
                .for_each(|(v, &f)| *v = *v - f * xp),
            None => {
                for i in range {
                    let f = col[i];
                    if f != T::zero() {
                        x[i] = x[i] - f * xp;
                    }
                }
            }
        }
    }
}

/// `B ← A⁻¹ B` one column at a time with [`solve_slice`] (a strided column goes through a
/// contiguous copy).
pub(crate) fn trsv_columns<T: Real>(
    lower: bool,
    unit: bool,
    a: ArrayView2<T>,
    b: &mut ArrayViewMut2<T>,
) {
    let mut tmp = Vec::new();
    for mut col in b.columns_mut() {
        with_slice(&mut col, &mut tmp, |x| solve_slice(lower, unit, a, x));
    }
}

fn with_slice<T: Real>(x: &mut ArrayViewMut1<T>, tmp: &mut Vec<T>, f: impl FnOnce(&mut [T])) {
    if let Some(s) = x.as_slice_mut() {
        return f(s);
    }
    tmp.clear();
    tmp.extend(x.iter().copied());
    f(tmp);
    x.iter_mut().zip(tmp.iter()).for_each(|(v, &t)| *v = t);
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array2, ShapeBuilder};

    #[test]
    fn both_forms_and_both_triangles_solve() {
        let l = array![[2.0f64, 0.0, 0.0], [1.0, 4.0, 0.0], [-1.0, 3.0, 5.0]];
        let x = array![[1.0], [-2.0], [0.5]];
        for lower in [true, false] {
            let a = if lower { l.clone() } else { l.t().to_owned() };
            for f_order in [false, true] {
                let mut m = Array2::zeros((3, 3).set_f(f_order));
                m.assign(&a);
                for unit in [false, true] {
                    let mut t = m.clone();
                    if unit {
                        t.diag_mut().fill(1.0);
                    }
                    let mut b = t.dot(&x);
                    trsv_columns(lower, unit, m.view(), &mut b.view_mut());
                    assert!(
                        (&b - &x).iter().all(|d| d.abs() < 1e-14),
                        "lower {lower} F {f_order} unit {unit}: {b}"
                    );
                }
            }
        }
    }
}
