//! Element-wise `map` and `zip_with` cut into one block per thread (both rayon engines run the
//! same code: the per-block kernel is the caller's closure, see `kernels::elementwise`).
//!
//! When the output and every input are contiguous in the same memory order, the flat memory
//! is cut into one slice per thread, so each thread streams its own contiguous part of every
//! array. Any other layout is split by ndarray's parallel `Zip` on the engine's pool. Element-
//! wise results do not depend on the split.

use ndarray::{ArrayView, ArrayViewMut, Dimension, Zip};
use rayon::prelude::*;

use crate::error::Result;
use crate::kernels::elementwise;
use crate::parallel::Team;

/// Elements per thread below which splitting does not pay (a few pages of f64: spawning work
/// on a pool costs microseconds, streaming 32 KiB costs about one).
pub(crate) const MIN_CHUNK: usize = 4096;

/// The memory of a view in memory order, if it is contiguous in the C or the F order of its
/// shape (the orders the output is created in).
fn flat<'a, T, D: Dimension>(a: &ArrayView<'a, T, D>, f_order: bool) -> Option<&'a [T]> {
    let same = if f_order {
        a.t().is_standard_layout()
    } else {
        a.is_standard_layout()
    };
    if same {
        a.clone().to_slice_memory_order()
    } else {
        None
    }
}

/// Chunk length so `n` elements make at most `threads` chunks of at least [`MIN_CHUNK`].
fn chunk(n: usize, threads: usize) -> usize {
    n.div_ceil(threads.max(1)).max(MIN_CHUNK)
}

/// `out[i] = f(a[i])`; `out` was created in C order, or F order when `f_order`.
pub(crate) fn map<T, U, D, F>(
    team: &Team,
    a: ArrayView<T, D>,
    mut out: ArrayViewMut<U, D>,
    f_order: bool,
    f: &F,
) -> Result<()>
where
    T: Copy + Send + Sync,
    U: Send,
    D: Dimension,
    F: Fn(T) -> U + Sync,
{
    let threads = team.threads();
    if threads <= 1 || a.len() <= MIN_CHUNK {
        elementwise::map(a, out, f);
        return Ok(());
    }
    let n = a.len();
    match (flat(&a, f_order), out.as_slice_memory_order_mut()) {
        (Some(xs), Some(os)) => team.install(|| {
            let c = chunk(n, threads);
            os.par_chunks_mut(c)
                .zip(xs.par_chunks(c))
                .for_each(|(o, x)| {
                    for (o, &x) in o.iter_mut().zip(x) {
                        *o = f(x);
                    }
                });
        }),
        _ => team.install(|| {
            Zip::from(out).and(a).par_for_each(|o, &x| *o = f(x));
        }),
    }
    Ok(())
}

/// `out[i] = f(a[i], b[i])`; `out` was created in C order, or F order when `f_order`.
pub(crate) fn zip_with<T, U, D, F>(
    team: &Team,
    a: ArrayView<T, D>,
    b: ArrayView<T, D>,
    mut out: ArrayViewMut<U, D>,
    f_order: bool,
    f: &F,
) -> Result<()>
where
    T: Copy + Send + Sync,
    U: Send,
    D: Dimension,
    F: Fn(T, T) -> U + Sync,
{
    let threads = team.threads();
    if threads <= 1 || a.len() <= MIN_CHUNK {
        elementwise::zip_with(a, b, out, f);
        return Ok(());
    }
    let n = a.len();
    match (
        flat(&a, f_order),
        flat(&b, f_order),
        out.as_slice_memory_order_mut(),
    ) {
        (Some(xs), Some(ys), Some(os)) => team.install(|| {
            let c = chunk(n, threads);
            os.par_chunks_mut(c)
                .zip(xs.par_chunks(c))
                .zip(ys.par_chunks(c))
                .for_each(|((o, x), y)| {
                    for ((o, &x), &y) in o.iter_mut().zip(x).zip(y) {
                        *o = f(x, y);
                    }
                });
        }),
        _ => team.install(|| {
            Zip::from(out)
                .and(a)
                .and(b)
                .par_for_each(|o, &x, &y| *o = f(x, y));
        }),
    }
    Ok(())
}
