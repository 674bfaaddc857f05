//! Singular value decomposition `A = U diag(σ) Vᵀ` on a rayon engine.
//!
//! ```text
//! m < n: the SVD of Aᵀ, factors swapped
//! scale A by a power of two into the safe range (only when it is outside it)
//! m ≥ 11n/6 (n ≥ 16): A = Q_A R first, the SVD of R below, U = Q_A diag(U_R, I)
//! A = Q B Pᵀ                  Householder bidiagonalization (factor::bidiag)
//! B = U_B Σ V_Bᵀ               divide and conquer (factor::bidiag_dc; order ≤ DC_BASE:
//!                             implicit-shift bidiagonal QR (kernels::bidiag_svd), its
//!                             rotations applied in parallel blocks of rows)
//! signs made positive, σ sorted descending (columns of U_B, V_B with them)
//! U = Q [U_B; 0] (thin) or Q diag(U_B, I) (full),  V = P V_B    blocked reflectors: GEMMs
//! ```
//! Values only: the bidiagonal QR without rotations, O(n²) after the reduction.

use ndarray::{s, Array1, Array2, ArrayView2, ArrayViewMut2, Zip};

use crate::alloc::{assign_2d, zeros_f};
use crate::blas::svd::Vectors;
use crate::decomp::Svd;
use crate::error::{Error, Result};
use crate::factor::bidiag::bidiagonalize;
use crate::factor::bidiag_dc::bidiagonal_dc;
use crate::factor::orthogonal::{
    apply_reflectors, pow2_factors, safe_scale_exponent, RotationBuffer,
};
use crate::factor::qr::{apply_q, packed};
use crate::factor::tridiag_dc::{DcError, DC_BASE};
use crate::kernels::bidiag_svd::bidiagonal_qr;
use crate::parallel::level3::Level3;
use crate::scalar::Scalar;

/// Narrowest tall matrix (`m ≥ 11n/6`, LAPACK `gesdd`'s crossover) reduced by QR first.
const QR_FIRST_MIN: usize = 16;

/// `A = Q R` first, then the SVD of the square `R = U_R Σ Vᵀ`: `U = Q [U_R 0; 0 I]`. For
/// `m ≥ 11n/6` the QR (`2mn²` flops) plus the reduction of `R` (`8n³/3`) cost less than
/// bidiagonalizing `A` (`4mn² − 4n³/3`), and applying `Q` costs no more than applying the
/// left reflectors of the reduction. `w`: `A` already scaled by `2^k`.
fn svd_after_qr<T: Scalar>(
    op: &'static str,
    l3: &Level3,
    w: Array2<T>,
    k: i32,
    vectors: Vectors,
) -> Result<Svd<T>> {
    let (m, n) = w.dim();
    let (f, blocks) = packed(op, l3, w.view())?;
    drop(w);
    let mut r = zeros_f::<T>(op, n, n)?;
    for j in 0..n {
        r.slice_mut(s![..=j, j]).assign(&f.slice(s![..=j, j]));
    }
    drop(f);
    let inner = if vectors == Vectors::None {
        Vectors::None
    } else {
        Vectors::Thin
    };
    let mut fr = svd_tall(op, l3, r.view(), inner)?;
    if k != 0 {
        let (f1, f2) = pow2_factors::<T>(-k);
        fr.s.iter_mut().for_each(|x| *x = *x * f1 * f2);
    }
    if vectors == Vectors::None {
        return Ok(Svd {
            u: Array2::zeros((m, 0)),
            s: fr.s,
            vt: fr.vt,
        });
    }
    let ucols = if vectors == Vectors::Full { m } else { n };
    let mut u = zeros_f::<T>(op, m, ucols)?;
    assign_2d(&mut u.slice_mut(s![..n, ..n]), fr.u.view());
    for i in n..ucols {
        u[[i, i]] = T::one();
    }
    apply_q(l3, op, &blocks, &mut u.view_mut(), false)?;
    Ok(Svd {
        u,
        s: fr.s,
        vt: fr.vt,
    })
}

/// Sweeps (and zero chases) allowed per singular value on average.
const SWEEPS_PER_VALUE: usize = 30;

/// SVD of a finite, non-empty `m × n` matrix, singular values descending.
pub(crate) fn svd<T: Scalar>(
    op: &'static str,
    l3: &Level3,
    a: ArrayView2<T>,
    vectors: Vectors,
) -> Result<Svd<T>> {
    let (m, n) = a.dim();
    if m >= n {
        return svd_tall(op, l3, a, vectors);
    }
    // Aᵀ = U' Σ V'ᵀ  ⇒  A = V' Σ U'ᵀ.
    let f = svd_tall(op, l3, a.t(), vectors)?;
    Ok(Svd {
        u: f.vt.t().to_owned(),
        s: f.s,
        vt: f.u.t().to_owned(),
    })
}

fn swap_columns<T: Scalar>(z: &mut ArrayViewMut2<T>, i: usize, j: usize) {
    let (mut ci, mut cj) = z.multi_slice_mut((s![.., i], s![.., j]));
    Zip::from(&mut ci).and(&mut cj).for_each(std::mem::swap);
}

fn svd_tall<T: Scalar>(
    op: &'static str,
    l3: &Level3,
    a: ArrayView2<T>,
    vectors: Vectors,
) -> Result<Svd<T>> {
    let (m, n) = a.dim();
    let mut w = zeros_f::<T>(op, m, n)?;
    assign_2d(&mut w.view_mut(), a);
    let amax = w.iter().fold(T::zero(), |mx, x| mx.max(x.abs()));
    let k = safe_scale_exponent(amax);
    if k != 0 {
        let (f1, f2) = pow2_factors::<T>(k);
        w.map_inplace(|x| *x = *x * f1 * f2);
    }
    if m * 6 >= n * 11 && n >= QR_FIRST_MIN {
        return svd_after_qr(op, l3, w, k, vectors);
    }
    let bd = bidiagonalize(op, l3, &mut w)?;
    let mut d = bd.d;
    let max_sweeps = SWEEPS_PER_VALUE * n;
    let no_conv = |i: usize| Error::NoConvergence {
        op,
        detail: format!("bidiagonal QR: block ending at {i} not reduced in {max_sweeps} sweeps"),
    };
    let ucols = match vectors {
        Vectors::Full => m,
        Vectors::Thin => n,
        Vectors::None => 0,
    };
    let mut factors = if vectors == Vectors::None {
        bidiagonal_qr(&mut d, &bd.e, max_sweeps, |_| {}, |_| {}).map_err(no_conv)?;
        None
    } else if n > DC_BASE {
        let f = bidiagonal_dc(op, l3, &d, &bd.e).map_err(|e| match e {
            DcError::NoConvergence => no_conv(n - 1),
            DcError::Other(e) => e,
        })?;
        d = f.s;
        let mut u = zeros_f::<T>(op, m, ucols)?;
        u.diag_mut().fill(T::one());
        assign_2d(&mut u.slice_mut(s![..n, ..n]), f.u.view());
        Some((u, f.v))
    } else {
        let mut u = zeros_f::<T>(op, m, ucols)?;
        u.diag_mut().fill(T::one());
        let mut v = zeros_f::<T>(op, n, n)?;
        v.diag_mut().fill(T::one());
        let threads = l3.team.threads();
        let (mut bu, mut bv) = (RotationBuffer::new(n), RotationBuffer::new(n));
        {
            let mut uv = u.slice_mut(s![..n, ..n]);
            let mut vv = v.view_mut();
            bidiagonal_qr(
                &mut d,
                &bd.e,
                max_sweeps,
                |r| bu.push(threads, &mut uv, r),
                |r| bv.push(threads, &mut vv, r),
            )
            .map_err(no_conv)?;
            bu.flush(threads, &mut uv);
            bv.flush(threads, &mut vv);
        }
        Some((u, v))
    };
    // Non-negative: σ = |d|, the sign moves into V.
    for (i, x) in d.iter_mut().enumerate() {
        if *x < T::zero() {
            *x = -*x;
            if let Some((_, v)) = factors.as_mut() {
                v.column_mut(i).map_inplace(|y| *y = -*y);
            }
        }
    }
    // Descending, by selection.
    for i in 0..n {
        let mut best = i;
        for j in i + 1..n {
            if d[j] > d[best] {
                best = j;
            }
        }
        if best != i {
            d.swap(i, best);
            if let Some((u, v)) = factors.as_mut() {
                swap_columns(&mut u.view_mut(), i, best);
                swap_columns(&mut v.view_mut(), i, best);
            }
        }
    }
    if k != 0 {
        let (f1, f2) = pow2_factors::<T>(-k);
        d.iter_mut().for_each(|x| *x = *x * f1 * f2);
    }
    let s = Array1::from(d);
    match factors {
        None => Ok(Svd {
            u: Array2::zeros((m, 0)),
            s,
            vt: Array2::zeros((0, n)),
        }),
        Some((mut u, mut v)) => {
            apply_reflectors(l3, op, w.view(), &bd.tauq, &mut u.view_mut())?;
            if n > 1 {
                apply_reflectors(
                    l3,
                    op,
                    bd.p.slice(s![1.., ..n - 1]),
                    &bd.taup,
                    &mut v.slice_mut(s![1.., ..]),
                )?;
            }
            Ok(Svd {
                u,
                s,
                vt: v.t().to_owned(),
            })
        }
    }
}
