//! Orthogonal transformations shared by the spectral factorizations (`eigh`, `svd`): applying
//! a sequence of Householder reflectors as blocked GEMMs, applying plane rotations to columns in
//! parallel blocks of rows, and exact power-of-two scaling into the safe range.

use ndarray::{s, ArrayView2, ArrayViewMut2, Axis, Zip};
use rayon::prelude::*;

use crate::error::Result;
use crate::factor::qr::{apply, larft, unit_lower, NB};
use crate::kernels::tridiag_eig::Rotation;
use crate::parallel::level3::Level3;
use crate::scalar::Scalar;

/// Rotations × rows below which a batch of rotations is applied on one thread (≈ 0.1 ms of
/// work: a rayon fork costs ≈ 10 µs).
const PARALLEL_MIN_WORK: usize = 1 << 16;

/// `Z ← H₀ H₁ … H_{k−1} Z` with `Hⱼ = I − τⱼ vⱼ vⱼᵀ`, `k = tau.len()`, reflector `j` stored the
/// way QR leaves it in column `j` of `store` (implicit 1 at row `j`, essential part below;
/// `store` and `z` have the same rows). Blocks of [`NB`] reflectors become `I − V T Vᵀ`
/// (compact WY), applied last block first with three GEMMs each.
pub(crate) fn apply_reflectors<T: Scalar>(
    l3: &Level3,
    op: &'static str,
    store: ArrayView2<T>,
    tau: &[T],
    z: &mut ArrayViewMut2<T>,
) -> Result<()> {
    let k = tau.len();
    let starts: Vec<usize> = (0..k).step_by(NB).collect();
    for &j0 in starts.iter().rev() {
        let b = NB.min(k - j0);
        let v = unit_lower(op, store.slice(s![j0.., j0..j0 + b]))?;
        let t = larft(op, v.view(), &tau[j0..j0 + b])?;
        apply(
            l3,
            op,
            v.view(),
            t.view(),
            false,
            &mut z.slice_mut(s![j0.., ..]),
        )?;
    }
    Ok(())
}

/// Applies `rots` in order to the columns of `z` (`zᵢ ← c zᵢ + s zₖ`, `zₖ ← −s zᵢ + c zₖ`).
/// Rows are independent, so the rows are cut into one block per thread and each block runs the
/// whole sequence (its two active columns stay in L1 from one rotation to the next).
pub(crate) fn rotate_columns<T: Scalar>(
    threads: usize,
    z: &mut ArrayViewMut2<T>,
    rots: &[Rotation<T>],
) {
    let rows = z.nrows();
    if rots.is_empty() || rows == 0 {
        return;
    }
    let run = |mut blk: ArrayViewMut2<T>| {
        for r in rots {
            let (mut x, mut y) = blk.multi_slice_mut((s![.., r.i], s![.., r.k]));
            let (c, sn) = (r.c, r.s);
            match (x.as_slice_mut(), y.as_slice_mut()) {
                (Some(xs), Some(ys)) => {
                    for (a, b) in xs.iter_mut().zip(ys.iter_mut()) {
                        let (p, q) = (*a, *b);
                        *a = c * p + sn * q;
                        *b = c * q - sn * p;
                    }
                }
                _ => Zip::from(&mut x).and(&mut y).for_each(|a, b| {
                    let (p, q) = (*a, *b);
                    *a = c * p + sn * q;
                    *b = c * q - sn * p;
                }),
            }
        }
    };
    if threads <= 1 || rows * rots.len() < PARALLEL_MIN_WORK || rows < 2 * 16 {
        run(z.view_mut());
        return;
    }
    let per = rows.div_ceil(threads).next_multiple_of(8);
    z.axis_chunks_iter_mut(Axis(0), per)
        .into_par_iter()
        .for_each(run);
}

/// A buffer of rotations flushed to `z` when it holds about `z.ncols()` of them (fewer,
/// larger parallel batches than one per sweep).
pub(crate) struct RotationBuffer<T> {
    rots: Vec<Rotation<T>>,
    limit: usize,
}

impl<T: Scalar> RotationBuffer<T> {
    /// An empty buffer for a matrix of `cols` columns.
    pub(crate) fn new(cols: usize) -> Self {
        RotationBuffer {
            rots: Vec::new(),
            limit: cols.max(64),
        }
    }

    /// Adds `rots`, flushing to `z` when full.
    pub(crate) fn push(&mut self, threads: usize, z: &mut ArrayViewMut2<T>, rots: &[Rotation<T>]) {
        self.rots.extend_from_slice(rots);
        if self.rots.len() >= self.limit {
            self.flush(threads, z);
        }
    }

    /// Applies every buffered rotation to `z`.
    pub(crate) fn flush(&mut self, threads: usize, z: &mut ArrayViewMut2<T>) {
        rotate_columns(threads, z, &self.rots);
        self.rots.clear();
    }
}

/// The power of two `2^k` to multiply a matrix whose largest magnitude is `amax` by, so that
/// it lies in `[2^-emax/2, 2^emax/2]`-ish safe range where squares and sums of `n` squares of
/// its entries neither overflow nor lose everything to underflow (LAPACK's `rmin`/`rmax` of
/// `syevd` and `gesdd`); `0` when it already does (no scaling, bit-identical arithmetic).
pub(crate) fn safe_scale_exponent<T: Scalar>(amax: T) -> i32 {
    if amax == T::zero() || !amax.is_finite() {
        return 0;
    }
    let smlnum = T::min_positive_value() / T::EPS;
    let (rmin, rmax) = (smlnum.sqrt(), (T::one() / smlnum).sqrt());
    if amax >= rmin && amax <= rmax {
        return 0;
    }
    // Bring amax to about 1.
    -(amax.as_f64().log2().round() as i32)
}

/// `x · 2^k` as two exact multiplications (`2^k` itself may be out of range).
pub(crate) fn pow2_factors<T: Scalar>(k: i32) -> (T, T) {
    let h = k / 2;
    (T::of(2f64.powi(h)), T::of(2f64.powi(k - h)))
}
