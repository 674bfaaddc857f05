//! Level 1 BLAS cut into one contiguous chunk per thread, a single-threaded [`Kernels`] per
//! chunk (OpenBLAS for `rayon-blas`, parla's for `rayon`).
//!
//! Reductions (`dot`, `nrm2`) collect one partial result per chunk *in chunk order* and combine
//! them sequentially, so the same thread count gives bit-identical results run to run.

use ndarray::{ArrayView1, ArrayViewMut1, Axis};
use rayon::prelude::*;

use crate::error::Result;
use crate::parallel::Kernels;
use crate::parallel::Team;
use crate::real::scaled_norm;
use crate::scalar::{Field, Scalar};

/// Elements per chunk so that `n` elements make `threads` chunks.
fn chunk(n: usize, threads: usize) -> usize {
    n.div_ceil(threads.max(1)).max(1)
}

/// `xᵀy` for non-empty vectors of equal length.
pub(crate) fn dot<T: Scalar>(
    team: &Team,
    kernel: Kernels,
    x: ArrayView1<T>,
    y: ArrayView1<T>,
) -> Result<T> {
    Ok(dot_with(team, x, y, |x, y| kernel.dot(x, y)))
}

/// The split of [`dot`] for any element type: `block(xc, yc)` per chunk, partial results
/// summed in chunk order.
pub(crate) fn dot_with<T: Field>(
    team: &Team,
    x: ArrayView1<T>,
    y: ArrayView1<T>,
    block: impl Fn(ArrayView1<T>, ArrayView1<T>) -> T + Sync,
) -> T {
    let threads = team.threads();
    if threads <= 1 {
        return block(x, y);
    }
    let c = chunk(x.len(), threads);
    let partials: Vec<T> = team.install(|| {
        x.axis_chunks_iter(Axis(0), c)
            .into_par_iter()
            .zip(y.axis_chunks_iter(Axis(0), c).into_par_iter())
            .map(|(xc, yc)| block(xc, yc))
            .collect()
    });
    partials.into_iter().fold(T::zero(), |s, p| s + p)
}

/// `y ← αx + y`.
pub(crate) fn axpy<T: Scalar>(
    team: &Team,
    kernel: Kernels,
    alpha: T,
    x: ArrayView1<T>,
    y: &mut ArrayViewMut1<T>,
) -> Result<()> {
    axpy_with(team, x, y, |xc, yc| {
        kernel.axpy(alpha, xc, yc);
        Ok(())
    })
}

/// The split of [`axpy`] for any element type: `block(xc, yc)` updates each chunk of `y`.
pub(crate) fn axpy_with<T: Field>(
    team: &Team,
    x: ArrayView1<T>,
    y: &mut ArrayViewMut1<T>,
    block: impl Fn(ArrayView1<T>, &mut ArrayViewMut1<T>) -> Result<()> + Sync,
) -> Result<()> {
    let threads = team.threads();
    if threads <= 1 {
        return block(x, y);
    }
    let c = chunk(x.len(), threads);
    team.install(|| {
        y.axis_chunks_iter_mut(Axis(0), c)
            .into_par_iter()
            .zip(x.axis_chunks_iter(Axis(0), c).into_par_iter())
            .try_for_each(|(mut yc, xc)| block(xc, &mut yc))
    })
}

/// `x ← αx`.
pub(crate) fn scal<T: Scalar>(
    team: &Team,
    kernel: Kernels,
    alpha: T,
    x: &mut ArrayViewMut1<T>,
) -> Result<()> {
    let threads = team.threads();
    if threads <= 1 {
        kernel.scal(alpha, x);
        return Ok(());
    }
    let c = chunk(x.len(), threads);
    team.install(|| {
        x.axis_chunks_iter_mut(Axis(0), c)
            .into_par_iter()
            .for_each(|mut xc| kernel.scal(alpha, &mut xc));
    });
    Ok(())
}

/// `‖x‖₂` from per-chunk norms, combined with the largest factored out (no overflow); NaN if
/// any chunk's norm is NaN.
pub(crate) fn nrm2<T: Scalar>(team: &Team, kernel: Kernels, x: ArrayView1<T>) -> Result<T> {
    Ok(nrm2_with(team, x, |xc| kernel.nrm2(xc)))
}

/// The split of [`nrm2`] for any element type: `block(xc)` is the norm of a chunk.
pub(crate) fn nrm2_with<T: Field>(
    team: &Team,
    x: ArrayView1<T>,
    block: impl Fn(ArrayView1<T>) -> T::Real + Sync,
) -> T::Real {
    let threads = team.threads();
    if threads <= 1 {
        return block(x);
    }
    let c = chunk(x.len(), threads);
    let partials: Vec<T::Real> = team.install(|| {
        x.axis_chunks_iter(Axis(0), c)
            .into_par_iter()
            .map(&block)
            .collect()
    });
    scaled_norm(partials.into_iter())
}
