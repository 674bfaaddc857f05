//! Level 1 BLAS cut into one contiguous chunk per thread, single-threaded OpenBLAS per chunk
//! (engine `rayon-blas`).
//!
//! Reductions (`dot`, `nrm2`) collect one partial result per chunk *in chunk order* and combine
//! them sequentially, so the same thread count gives bit-identical results run to run.

use ndarray::{ArrayView1, ArrayViewMut1, Axis};
use rayon::prelude::*;

use crate::blas;
use crate::error::Result;
use crate::scalar::{scaled_norm, Scalar};
use crate::threads;

/// Elements per chunk so that `n` elements make `threads` chunks.
fn chunk(n: usize, threads: usize) -> usize {
    n.div_ceil(threads.max(1)).max(1)
}

/// `xᵀy` for non-empty vectors of equal length.
pub(crate) fn dot<T: Scalar>(threads: usize, x: ArrayView1<T>, y: ArrayView1<T>) -> Result<T> {
    if threads <= 1 {
        return Ok(blas::level1::dot(1, x, y));
    }
    let c = chunk(x.len(), threads);
    let partials: Vec<T> = threads::engine_pool(threads)?.install(|| {
        x.axis_chunks_iter(Axis(0), c)
            .into_par_iter()
            .zip(y.axis_chunks_iter(Axis(0), c).into_par_iter())
            .map(|(xc, yc)| blas::level1::dot(1, xc, yc))
            .collect()
    });
    Ok(partials.into_iter().fold(T::zero(), |s, p| s + p))
}

/// `y ← αx + y`.
pub(crate) fn axpy<T: Scalar>(
    threads: usize,
    alpha: T,
    x: ArrayView1<T>,
    y: &mut ArrayViewMut1<T>,
) -> Result<()> {
    if threads <= 1 {
        blas::level1::axpy(1, alpha, x, y);
        return Ok(());
    }
    let c = chunk(x.len(), threads);
    threads::engine_pool(threads)?.install(|| {
        y.axis_chunks_iter_mut(Axis(0), c)
            .into_par_iter()
            .zip(x.axis_chunks_iter(Axis(0), c).into_par_iter())
            .for_each(|(mut yc, xc)| blas::level1::axpy(1, alpha, xc, &mut yc));
    });
    Ok(())
}

/// `x ← αx`.
pub(crate) fn scal<T: Scalar>(threads: usize, alpha: T, x: &mut ArrayViewMut1<T>) -> Result<()> {
    if threads <= 1 {
        blas::level1::scal(1, alpha, x);
        return Ok(());
    }
    let c = chunk(x.len(), threads);
    threads::engine_pool(threads)?.install(|| {
        x.axis_chunks_iter_mut(Axis(0), c)
            .into_par_iter()
            .for_each(|mut xc| blas::level1::scal(1, alpha, &mut xc));
    });
    Ok(())
}

/// `‖x‖₂` from per-chunk norms, combined with the largest factored out (no overflow); NaN if
/// any chunk's norm is NaN.
pub(crate) fn nrm2<T: Scalar>(threads: usize, x: ArrayView1<T>) -> Result<T> {
    if threads <= 1 {
        return Ok(blas::level1::nrm2(1, x));
    }
    let c = chunk(x.len(), threads);
    let partials: Vec<T> = threads::engine_pool(threads)?.install(|| {
        x.axis_chunks_iter(Axis(0), c)
            .into_par_iter()
            .map(|xc| blas::level1::nrm2(1, xc))
            .collect()
    });
    Ok(scaled_norm(partials.into_iter()))
}
