//! `gemv` cut into row blocks of `op(A)` (= blocks of `y`), a single-threaded [`Kernels`] per
//! block (OpenBLAS for `rayon-blas`, parla's for `rayon`).
//!
//! Each block computes `y_b ← α op(A)_b x + β y_b` for its own rows of `op(A)`, so blocks write
//! disjoint parts of `y` and need no reduction, for either transpose: a row block of `Aᵀ` is a
//! column block of `A`, which BLAS reads in place.

use ndarray::{ArrayView1, ArrayView2, ArrayViewMut1, Axis};
use rayon::prelude::*;

use crate::error::Result;
use crate::parallel::Kernels;
use crate::parallel::Team;
use crate::scalar::{Field, Scalar};

/// `y ← α A x + β y` for a non-empty `m × n` view `A` (the logical `op(A)`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemv<T: Scalar>(
    op: &'static str,
    team: &Team,
    kernel: Kernels,
    alpha: T,
    a: ArrayView2<T>,
    x: ArrayView1<T>,
    beta: T,
    y: &mut ArrayViewMut1<T>,
) -> Result<()> {
    // parla's kernel reads `x` as a slice: copy a strided `x` once here (fallibly: a huge
    // broadcast `x` is `TooLarge`, not an abort), not once per block. OpenBLAS takes strides.
    let copy;
    let x = if matches!(kernel, Kernels::Native(_)) && x.as_slice().is_none() {
        let mut v = crate::alloc::zeros_vec(op, x.len())?;
        v.iter_mut().zip(x.iter()).for_each(|(d, s)| *d = *s);
        copy = v;
        ArrayView1::from(&copy[..])
    } else {
        x
    };
    gemv_rows(team, a, y, |ab, yb| kernel.gemv(op, alpha, ab, x, beta, yb))
}

/// The split of [`gemv`] for any element type: `block(a_b, y_b)` computes the block of `y`
/// of a row block of the logical `A`.
pub(crate) fn gemv_rows<T: Field>(
    team: &Team,
    a: ArrayView2<T>,
    y: &mut ArrayViewMut1<T>,
    block: impl Fn(ArrayView2<T>, &mut ArrayViewMut1<T>) -> Result<()> + Sync,
) -> Result<()> {
    let threads = team.threads();
    if threads <= 1 {
        return block(a, y);
    }
    let rows = a.nrows().div_ceil(threads).max(1);
    team.install(|| {
        y.axis_chunks_iter_mut(Axis(0), rows)
            .into_par_iter()
            .zip(a.axis_chunks_iter(Axis(0), rows).into_par_iter())
            .try_for_each(|(mut yb, ab)| block(ab, &mut yb))
    })
}
