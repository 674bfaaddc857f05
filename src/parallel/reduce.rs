//! Sums and 2-norms of the rows of a matrix view, cut into one block per thread, a
//! single-threaded [`Kernels`] per block (OpenBLAS for `rayon-blas`, parla's for `rayon`).
//!
//! The split follows memory, so no thread walks a column through memory:
//!
//! - **along**: the reduced axis is the one with the smaller stride (row sums of a row-major
//!   matrix). Rows of `V` are cut into one block per thread; each block writes its own part of
//!   the output, no combine step.
//! - **down**: the kept axis has the smaller stride (column sums of a row-major matrix, seen as
//!   row sums of its transpose `V`). The *reduced* axis is cut into one block of contiguous
//!   matrix rows per thread; each block produces a partial result for every output, and the
//!   partials are combined sequentially in block order (sums added, norms combined with the
//!   largest factored out), so the same thread count gives bit-identical results run to run.

use ndarray::{Array1, ArrayView2, ArrayViewMut1, Axis, Zip};
use rayon::prelude::*;

use crate::blas::reduce::Reduction;
use crate::error::Result;
use crate::parallel::Kernels;
use crate::parallel::Team;
use crate::real::scaled_norm;
use crate::scalar::Scalar;

/// Stride magnitude as a memory distance; a broadcast axis (stride 0) never moves, so it is
/// treated as the farthest.
fn distance(stride: isize) -> usize {
    if stride == 0 {
        usize::MAX
    } else {
        stride.unsigned_abs()
    }
}

/// Whether the reduced axis (axis 1 of `v`) is the one to walk along in memory.
pub(crate) fn along<T>(v: &ArrayView2<T>) -> bool {
    distance(v.strides()[1]) <= distance(v.strides()[0])
}

/// `out[i] = reduce(v[i, :])` for a non-empty `p × q` view with `q ≥ 1`.
pub(crate) fn rows<T: Scalar>(
    op: &'static str,
    team: &Team,
    kernel: Kernels,
    red: Reduction,
    v: ArrayView2<T>,
    out: &mut ArrayViewMut1<T>,
) -> Result<()> {
    let threads = team.threads();
    let (p, q) = v.dim();
    if along(&v) {
        if threads <= 1 || p == 1 {
            return kernel.reduce_along(op, red, v, out);
        }
        let c = p.div_ceil(threads);
        return team.install(|| {
            out.axis_chunks_iter_mut(Axis(0), c)
                .into_par_iter()
                .zip(v.axis_chunks_iter(Axis(0), c).into_par_iter())
                .try_for_each(|(mut o, vb)| kernel.reduce_along(op, red, vb, &mut o))
        });
    }
    if threads <= 1 || q == 1 {
        return kernel.reduce_down(op, red, v, out);
    }
    let c = q.div_ceil(threads);
    let partials: Vec<Array1<T>> = team.install(|| {
        v.axis_chunks_iter(Axis(1), c)
            .into_par_iter()
            .map(|vb| {
                let mut part = Array1::zeros(p);
                kernel.reduce_down(op, red, vb, &mut part.view_mut())?;
                Ok(part)
            })
            .collect::<Result<_>>()
    })?;
    match red {
        Reduction::Sum => {
            out.assign(&partials[0]);
            for part in &partials[1..] {
                Zip::from(&mut *out).and(part).for_each(|o, &x| *o = *o + x);
            }
        }
        Reduction::Norm => {
            for (i, o) in out.iter_mut().enumerate() {
                *o = scaled_norm(partials.iter().map(|part| part[i]));
            }
        }
    }
    Ok(())
}
