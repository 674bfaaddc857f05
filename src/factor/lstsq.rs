//! Minimum-norm least squares `min ‖A X − B‖₂` by SVD on a rayon engine (the semantics of
//! LAPACK `gelsd`, which the `blas` engine calls).
//!
//! ```text
//! A = U Σ Vᵀ (thin, factor::svd);  r = #{σᵢ > rcond · σ₁}
//! X = V₁ Σ₁⁻¹ U₁ᵀ B               over the r kept triplets (two GEMMs)
//! residuals ‖B − A X‖² per column when r = n < m (as numpy), else none
//! ```

use ndarray::{s, Array1, ArrayView2};

use crate::alloc::{assign_2d, zeros_f};
use crate::blas::svd::Vectors;
use crate::decomp::Lstsq;
use crate::error::Result;
use crate::factor::svd::svd;
use crate::parallel::level3::Level3;
use crate::real::scaled_norm;
use crate::scalar::Scalar;

/// Minimum-norm solution for finite non-empty `A: m × n`, `B: m × nrhs`; singular values
/// `≤ rcond · σ_max` count as zero.
pub(crate) fn lstsq<T: Scalar>(
    op: &'static str,
    l3: &Level3,
    a: ArrayView2<T>,
    b: ArrayView2<T>,
    rcond: T,
) -> Result<Lstsq<T>> {
    let (m, n) = a.dim();
    let nrhs = b.ncols();
    let f = svd(op, l3, a, Vectors::Thin)?;
    let cutoff = rcond * f.s[0];
    let rank = f.s.iter().take_while(|&&x| x > cutoff).count();
    let mut x = zeros_f::<T>(op, n, nrhs)?;
    if rank > 0 && nrhs > 0 {
        let mut c = zeros_f::<T>(op, rank, nrhs)?;
        l3.gemm(
            op,
            T::one(),
            f.u.slice(s![.., ..rank]).t(),
            b,
            T::zero(),
            &mut c.view_mut(),
        )?;
        for (mut row, &sv) in c.rows_mut().into_iter().zip(f.s.iter()) {
            row.map_inplace(|v| *v = *v / sv);
        }
        l3.gemm(
            op,
            T::one(),
            f.vt.slice(s![..rank, ..]).t(),
            c.view(),
            T::zero(),
            &mut x.view_mut(),
        )?;
    }
    let residuals = if rank == n && m > n {
        let mut r = zeros_f::<T>(op, m, nrhs)?;
        assign_2d(&mut r.view_mut(), b);
        l3.gemm(op, -T::one(), a, x.view(), T::one(), &mut r.view_mut())?;
        r.columns()
            .into_iter()
            .map(|c| {
                let nrm = scaled_norm(c.iter().copied());
                nrm * nrm
            })
            .collect()
    } else {
        Array1::zeros(0)
    };
    Ok(Lstsq {
        solution: x,
        residuals,
        rank,
        singular_values: f.s,
    })
}
