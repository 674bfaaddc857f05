//! Out-of-place transpose cut into one band of result rows per thread (= a band of source
//! columns), a single-threaded [`Kernels`] per band: OpenBLAS's `omatcopy` for `rayon-blas`,
//! parla's tiled copy for `rayon`. Bands are whole tiles wide, and each band writes a contiguous
//! part of the result.

use ndarray::{ArrayView2, ArrayViewMut2, Axis};
use rayon::prelude::*;

use crate::alloc::TILE;
use crate::error::Result;
use crate::parallel::Kernels;
use crate::parallel::Team;
use crate::scalar::Scalar;

/// Result rows per band: `c` rows in `threads` bands, rounded up to whole tiles.
pub(crate) fn band(c: usize, threads: usize) -> usize {
    c.div_ceil(threads.max(1)).div_ceil(TILE).max(1) * TILE
}

/// `dst ← srcᵀ` for a non-empty `src: r × c`, `dst: c × r`.
pub(crate) fn transpose<T: Scalar>(
    op: &'static str,
    team: &Team,
    kernel: Kernels,
    src: ArrayView2<T>,
    dst: &mut ArrayViewMut2<T>,
) -> Result<()> {
    let threads = team.threads();
    let b = band(src.ncols(), threads);
    if threads <= 1 || b >= src.ncols() {
        return kernel.transpose(op, src, dst);
    }
    team.install(|| {
        dst.axis_chunks_iter_mut(Axis(0), b)
            .into_par_iter()
            .zip(src.axis_chunks_iter(Axis(1), b).into_par_iter())
            .try_for_each(|(mut d, s)| kernel.transpose(op, s, &mut d))
    })
}
