//! Sums and 2-norms of the rows of a matrix view on the `blas` engine (also the per-block
//! kernel of `rayon-blas`, at one thread).
//!
//! What OpenBLAS offers, used honestly:
//! - sums: one `gemv` with a vector of ones, `out = V · 1` (OpenBLAS picks its own kernel for
//!   the layout: `gemv_n` streams columns, `gemv_t` streams rows);
//! - norms: one `nrm2` per row of `V`. OpenBLAS has no kernel that accumulates squares of
//!   whole rows into per-column sums, so when the rows of `V` are columns of a row-major
//!   matrix, `nrm2` walks them with a stride (that is what this engine measures). A result
//!   that is not finite or underflowed is recomputed with scaling, as [`crate::Exec::nrm2`]
//!   does.

use ndarray::{Array1, ArrayView2, ArrayViewMut1, Zip};

use crate::blas::ffi::Ffi;
use crate::blas::level1;
use crate::blas::level2;
use crate::error::Result;
use crate::real::scaled_norm;

/// What a reduction computes per row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reduction {
    /// `Σⱼ vᵢⱼ`.
    Sum,
    /// `sqrt(Σⱼ vᵢⱼ²)`, scaled.
    Norm,
}

/// `out[i] = reduce(v[i, :])` for a non-empty `p × q` view with `q ≥ 1`, with `threads`
/// OpenBLAS threads.
pub(crate) fn rows<T: Ffi>(
    op: &'static str,
    threads: usize,
    red: Reduction,
    v: ArrayView2<T>,
    out: &mut ArrayViewMut1<T>,
) -> Result<()> {
    match red {
        Reduction::Sum => {
            let ones = Array1::from_elem(v.ncols(), T::one());
            level2::gemv(op, threads, T::one(), v, ones.view(), T::zero(), out)
        }
        Reduction::Norm => {
            Zip::from(out).and(v.rows()).for_each(|o, row| {
                let r = level1::nrm2(threads, row);
                let suspicious = !r.is_finite() || r < T::min_positive_value();
                *o = if suspicious {
                    scaled_norm(row.iter().copied())
                } else {
                    r
                };
            });
            Ok(())
        }
    }
}
