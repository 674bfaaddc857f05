//! Orthogonal transformations shared by the spectral factorizations (`eigh`, `svd`): applying
//! a sequence of Householder reflectors as blocked GEMMs, applying plane rotations to columns in
//! parallel blocks of rows, and exact power-of-two scaling into the safe range.

use ndarray::{s, ArrayView2, ArrayViewMut2, Axis, Zip};
use rayon::prelude::*;

use crate::error::Result;
use crate::factor::qr::{apply, larft, unit_lower};
use crate::kernels::simd1::{rot, rot_chain, Fma, CHAIN};
use crate::kernels::tridiag_eig::Rotation;
use crate::parallel::level3::Level3;
use crate::scalar::Scalar;

/// Rotations × rows below which a batch of rotations is applied on one thread (≈ 0.1 ms of
/// work, against the ≈ 10 µs of a fork measured for `GEMM_PARALLEL_MIN_FLOPS`). Chosen, not yet tuned (`cargo run --release --example spectral_engines` is the benchmark to
/// tune it with).
const PARALLEL_MIN_WORK: usize = 1 << 16;

/// `Z ← H₀ H₁ … H_{k−1} Z` with `Hⱼ = I − τⱼ vⱼ vⱼᵀ`, `k = tau.len()`, reflector `j` stored the
/// way QR leaves it in column `j` of `store` (implicit 1 at row `j`, essential part below;
/// `store` and `z` have the same rows). Blocks of `FactorBlocks::qr` reflectors become
/// `I − V T Vᵀ` (compact WY), applied last block first with three GEMMs each. These
/// back-transformations (eigh, svd, eig) sweep a whole `n × n` matrix per block, so wide blocks
/// save sweeps and packing of `z`; measured with `spectral_one`, rayon eigh n = 2048, 1 thread
/// (load ~3): 64 wide 0.72–0.87 s, 32 wide 0.80–0.90 s, 128 wide no better than 64.
pub(crate) fn apply_reflectors<T: Scalar>(
    l3: &Level3,
    op: &'static str,
    store: ArrayView2<T>,
    tau: &[T],
    z: &mut ArrayViewMut2<T>,
) -> Result<()> {
    let k = tau.len();
    let nb = l3.blocks.qr;
    let starts: Vec<usize> = (0..k).step_by(nb).collect();
    for &j0 in starts.iter().rev() {
        let b = nb.min(k - j0);
        let v = unit_lower(op, store.slice(s![j0.., j0..j0 + b]))?;
        let t = larft(l3, op, v.view(), &tau[j0..j0 + b])?;
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

/// Rows per block of [`rotate_columns`]: a block of 64 rows of a 1024-column matrix is 512 KiB
/// (in L2), so a long batch of rotations streams the matrix through memory once, not once per
/// sweep. Chosen, not yet tuned (`cargo run --release --example spectral_engines` is the benchmark to
/// tune it with).
const ROT_ROWS: usize = 64;

/// Applies `rots` in order to the columns of `z` (`zᵢ ← c zᵢ + s zₖ`, `zₖ ← −s zᵢ + c zₖ`).
/// Rows are independent: the rows are cut into blocks of [`ROT_ROWS`], each block runs the whole
/// sequence (while it stays in cache), and the blocks are shared among the threads.
pub(crate) fn rotate_columns<T: Scalar>(
    threads: usize,
    fma: Fma,
    z: &mut ArrayViewMut2<T>,
    rots: &[Rotation<T>],
) {
    let rows = z.nrows();
    if rots.is_empty() || rows == 0 {
        return;
    }
    let run = |mut blk: ArrayViewMut2<T>| {
        let (rb, cols) = blk.dim();
        let strides = blk.strides();
        if strides[0] != 1 || rb == 0 {
            rotate_block_strided(&mut blk, rots);
            return;
        }
        let ld = strides[1];
        let base = blk.as_mut_ptr();
        // SAFETY (for `col`'s callers): `blk` is an exclusively borrowed view of `rb` rows with
        // unit row stride and column stride `ld`, so column `c < cols` occupies
        // `base + c·ld .. base + c·ld + rb`; distinct columns give disjoint slices, and nothing
        // else accesses the view while they live.
        let col =
            |c: usize| unsafe { std::slice::from_raw_parts_mut(base.offset(c as isize * ld), rb) };
        let mut t = 0;
        while t < rots.len() {
            // A chain (a, b), (b, c), … of distinct columns: one pass for all of it.
            if let Some(chain) = rots.get(t..t + CHAIN) {
                let mut idx = [chain[0].i; CHAIN + 1];
                let mut linked = true;
                for (q, r) in chain.iter().enumerate() {
                    linked &= r.i == idx[q] && r.k < cols && !idx[..=q].contains(&r.k);
                    idx[q + 1] = r.k;
                }
                if linked && idx[0] < cols {
                    rot_chain(
                        fma,
                        idx.map(col),
                        std::array::from_fn(|q| chain[q].c),
                        std::array::from_fn(|q| chain[q].s),
                    );
                    t += CHAIN;
                    continue;
                }
            }
            let r = &rots[t];
            debug_assert!(r.i != r.k && r.i < cols && r.k < cols);
            rot(fma, col(r.i), col(r.k), r.c, r.s);
            t += 1;
        }
    };
    let blocks = z.axis_chunks_iter_mut(Axis(0), ROT_ROWS);
    if threads <= 1 || rows * rots.len() < PARALLEL_MIN_WORK || rows < 2 * ROT_ROWS {
        blocks.into_iter().for_each(run);
    } else {
        blocks.into_par_iter().for_each(run);
    }
}

/// [`rotate_columns`] on a block whose columns are not contiguous.
fn rotate_block_strided<T: Scalar>(blk: &mut ArrayViewMut2<T>, rots: &[Rotation<T>]) {
    for r in rots {
        let (mut x, mut y) = blk.multi_slice_mut((s![.., r.i], s![.., r.k]));
        let (c, sn) = (r.c, r.s);
        Zip::from(&mut x).and(&mut y).for_each(|a, b| {
            let (p, q) = (*a, *b);
            *a = c * p + sn * q;
            *b = c * q - sn * p;
        });
    }
}

/// A buffer of rotations flushed to `z` when it holds about 32 sweeps' worth (`32 · z.ncols()`):
/// each flush streams `z` through the cache once.
pub(crate) struct RotationBuffer<T> {
    rots: Vec<Rotation<T>>,
    limit: usize,
    fma: Fma,
}

impl<T: Scalar> RotationBuffer<T> {
    /// An empty buffer for a matrix of `cols` columns.
    pub(crate) fn new(cols: usize) -> Self {
        RotationBuffer {
            rots: Vec::new(),
            limit: 32 * cols.max(64),
            fma: Fma::detect(),
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
        rotate_columns(threads, self.fma, z, &self.rots);
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
