//! Symmetric eigendecomposition `A = V diag(λ) Vᵀ` on a rayon engine.
//!
//! ```text
//! scale A by a power of two into the safe range (only when it is outside it)
//! A = Q T Qᵀ                     Householder tridiagonal reduction (factor::tridiag)
//! T = Z Λ Zᵀ                     divide and conquer (factor::tridiag_dc) above order DC_BASE,
//!                                else implicit QL with Wilkinson shifts (kernels::tridiag_eig)
//! sort λ ascending (columns of Z with them)
//! V = Q Z                        blocked compact-WY reflectors: GEMMs on the engine
//! ```
//! Values only: the QL iteration without rotations, O(n²) after the reduction; from order
//! [`BAND_MIN_ORDER`] on at most [`BAND_MAX_THREADS`] threads the reduction runs in two stages instead (`factor::band`: dense → band
//! of half-bandwidth [`BAND_B`] with GEMMs, band → tridiagonal by bulge chasing), which moves
//! the memory-bound matrix-vector half of the one-stage flops into GEMMs. With vectors the
//! reduction stays one-stage (the two-stage back-transformation would double its GEMMs).

use ndarray::{s, Array1, Array2, ArrayView2};

use crate::alloc::zeros_f;
use crate::decomp::Eigh;
use crate::error::{Error, Result};
use crate::factor::band::{tridiagonal_values, BAND_B, BAND_MAX_THREADS, BAND_MIN_ORDER};
use crate::factor::orthogonal::{
    apply_reflectors, pow2_factors, safe_scale_exponent, RotationBuffer,
};
use crate::factor::tridiag::{tridiagonalize, TRD_NB};
use crate::factor::tridiag_dc::{tridiagonal_dc, DcError, DC_BASE};
use crate::kernels::tridiag_eig::{tridiagonal_ql, tridiagonal_ql_values};
use crate::parallel::level3::Level3;
use crate::scalar::Scalar;

/// QL sweeps allowed per eigenvalue on average (LAPACK `steqr` allows 30).
const SWEEPS_PER_VALUE: usize = 30;

/// Eigenvalues (ascending) and, if `vectors`, orthonormal eigenvectors of the symmetric matrix
/// whose lower triangle is in `a` (square, finite, `n ≥ 1`).
pub(crate) fn eigh<T: Scalar>(
    op: &'static str,
    l3: &Level3,
    a: ArrayView2<T>,
    vectors: bool,
) -> Result<Eigh<T>> {
    let want = if vectors {
        Want::Vectors
    } else if a.nrows() >= BAND_MIN_ORDER && l3.team.threads() <= BAND_MAX_THREADS {
        Want::ValuesThroughBand(BAND_B)
    } else {
        Want::Values
    };
    eigh_with(op, l3, a, want)
}

/// What [`eigh_with`] computes, and through which reduction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Want {
    /// Values and vectors (one-stage reduction).
    Vectors,
    /// Values only, one-stage reduction.
    Values,
    /// Values only, two stages through a band of this half-bandwidth.
    ValuesThroughBand(usize),
}

/// [`eigh`] with the result and the reduction chosen by `want`.
pub(crate) fn eigh_with<T: Scalar>(
    op: &'static str,
    l3: &Level3,
    a: ArrayView2<T>,
    want: Want,
) -> Result<Eigh<T>> {
    let vectors = want == Want::Vectors;
    let n = a.nrows();
    let mut w = zeros_f::<T>(op, n, n)?;
    let mut amax = T::zero();
    // The lower triangle into the column-major `w`, in tiles so that a row-major `a` is not
    // read down its columns (a page per element at large n).
    const TILE: usize = 64;
    for jb in (0..n).step_by(TILE) {
        for ib in (jb..n).step_by(TILE) {
            for j in jb..(jb + TILE).min(n) {
                for i in ib.max(j)..(ib + TILE).min(n) {
                    let x = a[[i, j]];
                    w[[i, j]] = x;
                    amax = amax.max(x.abs());
                }
            }
        }
    }
    let k = safe_scale_exponent(amax);
    if k != 0 {
        let (f1, f2) = pow2_factors::<T>(k);
        w.map_inplace(|x| *x = *x * f1 * f2);
    }
    if let Want::ValuesThroughBand(b) = want {
        let (mut d, e) = tridiagonal_values(op, l3, &mut w, b)?;
        drop(w);
        let max_sweeps = SWEEPS_PER_VALUE * n;
        tridiagonal_ql_values(&mut d, &e, max_sweeps).map_err(|l| Error::NoConvergence {
            op,
            detail: format!("tridiagonal QL: eigenvalue {l} not found in {max_sweeps} sweeps"),
        })?;
        d.sort_by(|x, y| x.partial_cmp(y).unwrap_or(std::cmp::Ordering::Equal));
        if k != 0 {
            let (f1, f2) = pow2_factors::<T>(-k);
            d.iter_mut().for_each(|x| *x = *x * f1 * f2);
        }
        return Ok(Eigh {
            values: Array1::from(d),
            vectors: Array2::zeros((n, 0)),
        });
    }
    let tri = tridiagonalize(op, l3, &mut w, TRD_NB)?;
    let mut d = tri.d;
    let max_sweeps = SWEEPS_PER_VALUE * n;
    let no_conv = |l: usize| Error::NoConvergence {
        op,
        detail: format!("tridiagonal QL: eigenvalue {l} not found in {max_sweeps} sweeps"),
    };
    let mut z = if vectors && n > DC_BASE {
        let (w, q) = tridiagonal_dc(op, l3, &d, &tri.e).map_err(|e| match e {
            DcError::NoConvergence => no_conv(0),
            DcError::Other(e) => e,
        })?;
        d = w;
        Some(q)
    } else if vectors {
        let mut z = zeros_f::<T>(op, n, n)?;
        z.diag_mut().fill(T::one());
        let threads = l3.team.threads();
        let mut buf = RotationBuffer::new(n);
        let mut zv = z.view_mut();
        tridiagonal_ql(&mut d, &tri.e, max_sweeps, |rots| {
            buf.push(threads, &mut zv, rots)
        })
        .map_err(no_conv)?;
        buf.flush(threads, &mut zv);
        Some(z)
    } else {
        tridiagonal_ql_values(&mut d, &tri.e, max_sweeps).map_err(no_conv)?;
        None
    };
    // Ascending, by selection (n swaps of columns at most).
    for i in 0..n {
        let mut best = i;
        for j in i + 1..n {
            if d[j] < d[best] {
                best = j;
            }
        }
        if best != i {
            d.swap(i, best);
            if let Some(z) = z.as_mut() {
                let (mut ci, mut cb) = z.multi_slice_mut((s![.., i], s![.., best]));
                ndarray::Zip::from(&mut ci)
                    .and(&mut cb)
                    .for_each(std::mem::swap);
            }
        }
    }
    if k != 0 {
        let (f1, f2) = pow2_factors::<T>(-k);
        d.iter_mut().for_each(|x| *x = *x * f1 * f2);
    }
    let vectors = match z {
        Some(mut z) => {
            if n > 1 {
                apply_reflectors(
                    l3,
                    op,
                    w.slice(s![1.., ..n - 1]),
                    &tri.tau,
                    &mut z.slice_mut(s![1.., ..]),
                )?;
            }
            z
        }
        None => Array2::zeros((n, 0)),
    };
    Ok(Eigh {
        values: Array1::from(d),
        vectors,
    })
}
