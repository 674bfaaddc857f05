//! Unblocked LU with partial pivoting of a narrow panel (engine `rayon`): the base case of the
//! recursive LU in `factor::lu`.

use ndarray::{ArrayViewMut2, Axis};

use super::on_columns;

use crate::real::Real;

/// Factors the `m × nb` panel `a` in place as `P·a = L·U` (L unit lower, stored below the
/// diagonal; U on and above it), column by column on a column-major copy: pick the entry of
/// largest magnitude in the column (the first one on ties), swap its row up, divide the column
/// below by the pivot, and update the columns to the right. `swaps[j]` receives the row (panel
/// numbering) swapped with row `j`. Returns the first column whose pivot is exactly zero; like
/// LAPACK's `getf2`, the factorization carries on past it.
pub(crate) fn getf2<T: Real>(a: &mut ArrayViewMut2<T>, swaps: &mut [usize]) -> Option<usize> {
    let nb = a.ncols();
    if a.nrows() > 1 && a.strides()[0] == 1 {
        // Contiguous columns (the recursive LU's own column-major panels): in place.
        return getf2_in_place(a, swaps);
    }
    on_columns(a, |w, m| getf2_columns(w, m, nb, swaps))
}

/// [`getf2`] on a panel whose columns are contiguous (any column stride), in place: the same
/// steps and the same arithmetic as [`getf2_columns`], without the copy in and out.
///
/// Compiled for AVX-512F (else AVX2) when the CPU has it (the crate's baseline is SSE2); no FMA
/// contraction either way, so the results are the same bits.
fn getf2_in_place<T: Real>(a: &mut ArrayViewMut2<T>, swaps: &mut [usize]) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: this CPU has AVX-512F.
            return unsafe { getf2_in_place_avx512(a, swaps) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: this CPU has AVX2.
            return unsafe { getf2_in_place_avx2(a, swaps) };
        }
    }
    getf2_in_place_body(a, swaps)
}

/// # Safety
/// The CPU must have AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn getf2_in_place_avx512<T: Real>(
    a: &mut ArrayViewMut2<T>,
    swaps: &mut [usize],
) -> Option<usize> {
    getf2_in_place_body(a, swaps)
}

/// # Safety
/// The CPU must have AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn getf2_in_place_avx2<T: Real>(
    a: &mut ArrayViewMut2<T>,
    swaps: &mut [usize],
) -> Option<usize> {
    getf2_in_place_body(a, swaps)
}

#[inline(always)]
fn getf2_in_place_body<T: Real>(a: &mut ArrayViewMut2<T>, swaps: &mut [usize]) -> Option<usize> {
    let (m, nb) = a.dim();
    let k = m.min(nb);
    let mut zero = None;
    for j in 0..k {
        let (mut left, mut right) = a.view_mut().split_at(Axis(1), j + 1);
        let mut col = left.column_mut(j);
        let col = col.as_slice_mut().expect("contiguous column");
        let mut p = j;
        let mut best = col[j].abs();
        for (i, v) in col.iter().enumerate().skip(j + 1) {
            if v.abs() > best {
                best = v.abs();
                p = i;
            }
        }
        swaps[j] = p;
        if p != j {
            for mut c in left.columns_mut() {
                c.swap(j, p);
            }
            for mut c in right.columns_mut() {
                c.swap(j, p);
            }
        }
        let mut col = left.column_mut(j);
        let col = col.as_slice_mut().expect("contiguous column");
        let pivot = col[j];
        if pivot == T::zero() {
            zero.get_or_insert(j);
            continue;
        }
        col[j + 1..].iter_mut().for_each(|v| *v = *v / pivot);
        let col = &col[j + 1..];
        for mut tc in right.columns_mut() {
            let tc = tc.as_slice_mut().expect("contiguous column");
            let f = tc[j];
            if f != T::zero() {
                tc[j + 1..]
                    .iter_mut()
                    .zip(col)
                    .for_each(|(t, &l)| *t = *t - f * l);
            }
        }
    }
    zero
}

/// [`getf2`] on the column-major `m × nb` panel `w`.
fn getf2_columns<T: Real>(w: &mut [T], m: usize, nb: usize, swaps: &mut [usize]) -> Option<usize> {
    let k = m.min(nb);
    let mut zero = None;
    for j in 0..k {
        let col = &w[j * m..(j + 1) * m];
        let mut p = j;
        let mut best = col[j].abs();
        for (i, v) in col.iter().enumerate().skip(j + 1) {
            if v.abs() > best {
                best = v.abs();
                p = i;
            }
        }
        swaps[j] = p;
        if p != j {
            for c in 0..nb {
                w.swap(c * m + j, c * m + p);
            }
        }
        let (head, tail) = w.split_at_mut((j + 1) * m);
        let col = &mut head[j * m..];
        let pivot = col[j];
        if pivot == T::zero() {
            zero.get_or_insert(j);
            continue;
        }
        col[j + 1..].iter_mut().for_each(|v| *v = *v / pivot);
        let col = &col[j + 1..];
        for tc in tail.chunks_exact_mut(m) {
            let f = tc[j];
            if f != T::zero() {
                tc[j + 1..]
                    .iter_mut()
                    .zip(col)
                    .for_each(|(t, &l)| *t = *t - f * l);
            }
        }
    }
    zero
}
