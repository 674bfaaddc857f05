//! The O(n²) passes around a factorization, split over the team: the copy of its input into
//! the work array, the zeroed triangle of a Cholesky factor, the finite check of an LU.
//!
//! On one thread these passes left the other workers idle for a tenth of a 2-thread Cholesky
//! at n = 2048 (copy 6 ms, zeroing 1.5 ms of 57 ms, Zen 3 VM). Each is cut into bands along
//! the matrix's outer (slowest) axis, so every band is whole columns (column-major) or whole
//! rows, and is written by one worker: its pages are also first touched there, so a fresh
//! allocation's page faults are shared too. Below [`PARALLEL_MIN`] elements, or on one
//! thread, the serial pass runs as before.

use ndarray::{s, Array2, ArrayView2, ArrayViewMut2, Axis};
use rayon::prelude::*;

use crate::alloc::{self, Zeroable};
use crate::error::Result;
use crate::parallel::Team;
use crate::scalar::Field;

/// Elements from which a pass is split (2 MiB of `f64`): a band then moves at least 256 KiB
/// per worker, well above the cost of waking the team.
const PARALLEL_MIN: usize = 1 << 18;

/// Bands per worker: a few, so one slow worker does not hold the others up.
const BANDS_PER_THREAD: usize = 4;

fn splits(team: &Team, len: usize) -> bool {
    team.threads() > 1 && len >= PARALLEL_MIN
}

/// The outer axis of `v`: the one with the larger stride (columns of a column-major matrix).
fn outer_axis(strides: &[isize]) -> Axis {
    if strides[0].unsigned_abs() <= strides[1].unsigned_abs() {
        Axis(1)
    } else {
        Axis(0)
    }
}

/// Band width along an axis of length `len`: whole multiples of the copy's tile.
fn band(team: &Team, len: usize) -> usize {
    len.div_ceil(BANDS_PER_THREAD * team.threads())
        .next_multiple_of(alloc::TILE)
        .max(1)
}

/// `dst ← src` (same shape), [`alloc::assign_2d`] on bands of `dst`'s outer axis.
pub(crate) fn assign<T: Copy + Send + Sync + 'static>(
    team: &Team,
    dst: &mut ArrayViewMut2<T>,
    src: ArrayView2<T>,
) {
    if !splits(team, dst.len()) {
        alloc::assign_2d(dst, src);
        return;
    }
    let axis = outer_axis(dst.strides());
    let b = band(team, dst.len_of(axis));
    team.install(|| {
        dst.axis_chunks_iter_mut(axis, b)
            .into_par_iter()
            .zip(src.axis_chunks_iter(axis, b).into_par_iter())
            .for_each(|(mut d, s)| alloc::assign_2d(&mut d, s));
    });
}

/// [`alloc::copy_in_order`] with the copy split over the team: a contiguous `a` is copied in
/// chunks of its memory into storage that is not zero-filled first, any other into a fresh
/// zeroed matrix of the same order through [`assign`].
///
/// # Errors
/// As [`alloc::copy_in_order`].
pub(crate) fn copy_in_order<T: Zeroable + Send + Sync>(
    op: &'static str,
    team: &Team,
    a: ArrayView2<T>,
) -> Result<Array2<T>> {
    if !splits(team, a.len()) {
        return alloc::copy_in_order(op, a);
    }
    alloc::copy_in_order_with(
        op,
        a,
        |dst, src| {
            let chunk = src.len().div_ceil(BANDS_PER_THREAD * team.threads());
            team.install(|| {
                dst.par_chunks_mut(chunk)
                    .zip(src.par_chunks(chunk))
                    .for_each(|(d, s)| alloc::write_copy(d, s));
            });
        },
        |dst, src| assign(team, dst, src),
    )
}

/// Zeroes the strict upper triangle of square `w`, along its contiguous direction.
pub(crate) fn zero_strict_upper<T: Field>(team: &Team, w: &mut ArrayViewMut2<T>) {
    let axis = outer_axis(w.strides());
    let n = w.len_of(axis);
    // Lane `k` of the outer axis: column `k` (its rows above `k`) or row `k` (its columns
    // right of `k`).
    let zero = |k0: usize, mut band: ArrayViewMut2<T>| {
        for (i, mut lane) in band.axis_iter_mut(axis).enumerate() {
            let k = k0 + i;
            if axis == Axis(1) {
                lane.slice_mut(s![..k]).fill(T::zero());
            } else {
                lane.slice_mut(s![k + 1..]).fill(T::zero());
            }
        }
    };
    if !splits(team, w.len()) {
        zero(0, w.view_mut());
        return;
    }
    let b = band(team, n);
    team.install(|| {
        w.axis_chunks_iter_mut(axis, b)
            .into_par_iter()
            .enumerate()
            .for_each(|(c, band)| zero(c * b, band));
    });
}

/// Whether every element of `v` is finite, the scan split over the team when `v` is one
/// contiguous block (else one serial pass).
pub(crate) fn all_finite<T: Field>(team: &Team, v: ArrayView2<T>) -> bool {
    match v.as_slice_memory_order() {
        Some(s) if splits(team, s.len()) => {
            let chunk = s.len().div_ceil(BANDS_PER_THREAD * team.threads());
            team.install(|| s.par_chunks(chunk).all(T::all_finite))
        }
        Some(s) => T::all_finite(s),
        None => v.iter().all(|x| x.is_finite_elem()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::ShapeBuilder;

    fn big(order: bool) -> Array2<f64> {
        // Over PARALLEL_MIN elements, and not a multiple of the band width.
        let (m, n) = (700, 401);
        let f = |(i, j): (usize, usize)| (i * 1000 + j) as f64;
        if order {
            Array2::from_shape_fn((m, n).f(), f)
        } else {
            Array2::from_shape_fn((m, n), f)
        }
    }

    #[test]
    fn copies_are_exact_in_every_layout_and_thread_count() {
        for threads in [1, 2, 3] {
            let team = Team::new(threads).unwrap();
            for fortran in [false, true] {
                let a = big(fortran);
                let views = [
                    a.view(),
                    a.t(),
                    a.slice(s![1..699, 3..400]),
                    a.slice(s![..;-1, ..]),
                ];
                for v in views {
                    let c = copy_in_order("test", &team, v).unwrap();
                    assert_eq!(c, v, "{threads} {fortran}");
                    let keeps = v.strides()[0] == 1 && v.nrows() > 1 && v.ncols() > 1;
                    assert_eq!(c.strides()[0] == 1, keeps, "{threads} {fortran}");
                    let mut d = Array2::zeros(v.raw_dim().f());
                    assign(&team, &mut d.view_mut(), v);
                    assert_eq!(d, v, "{threads} {fortran}");
                }
            }
        }
    }

    #[test]
    fn zeroes_exactly_the_strict_upper_triangle() {
        for threads in [1, 2, 3] {
            let team = Team::new(threads).unwrap();
            for fortran in [false, true] {
                let n = 600;
                let f = |(i, j): (usize, usize)| (i * n + j + 1) as f64;
                let mut w = if fortran {
                    Array2::from_shape_fn((n, n).f(), f)
                } else {
                    Array2::from_shape_fn((n, n), f)
                };
                zero_strict_upper(&team, &mut w.view_mut());
                for ((i, j), &x) in w.indexed_iter() {
                    let want = if j > i { 0.0 } else { f((i, j)) };
                    assert_eq!(x, want, "{threads} {fortran} ({i}, {j})");
                }
            }
        }
    }

    #[test]
    fn finds_one_non_finite_element_anywhere() {
        for threads in [1, 2] {
            let team = Team::new(threads).unwrap();
            let mut a = big(true);
            assert!(all_finite(&team, a.view()));
            for (i, j) in [(0, 0), (699, 400), (350, 200)] {
                let keep = a[[i, j]];
                a[[i, j]] = f64::NAN;
                assert!(!all_finite(&team, a.view()), "{threads} ({i}, {j})");
                a[[i, j]] = f64::INFINITY;
                assert!(!all_finite(&team, a.view()), "{threads} ({i}, {j})");
                a[[i, j]] = keep;
            }
            assert!(!all_finite(
                &team,
                a.slice(s![..;2, ..]).map(|_| f64::NAN).view()
            ));
        }
    }
}
