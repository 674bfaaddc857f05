//! Householder reduction of a tall matrix to upper bidiagonal form, `A = Q B Pᵀ`
//! (LAPACK `gebd2`, `m ≥ n`).
//!
//! ```text
//! for j = 0 .. n−1:
//!     Hⱼ (from the left) maps A[j.., j] onto d[j] e₁;   A[j.., j+1..] ← Hⱼ A[j.., j+1..]
//!     Gⱼ (from the right) maps A[j, j+1..] onto e[j] e₁; A[j+1.., j+1..] ← A[j+1.., j+1..] Gⱼ
//! Q = H₀ H₁ … H_{n−1},  P = G₀ G₁ … G_{n−2}
//! ```
//! The left vectors stay in the work matrix below the diagonal (QR-style); the right vectors
//! go to a separate column-major matrix, vector `j` in column `j` from row `j + 1`, so both
//! products are applied by [`apply_reflectors`](super::orthogonal::apply_reflectors). Every inner
//! loop runs down a contiguous column.

use ndarray::{Array2, ArrayView1, ArrayViewMut1};

use crate::error::Result;
use crate::kernels::level1::{axpy, dot};
use crate::kernels::reflector::householder;
use crate::scalar::Scalar;
use crate::validate::zeros_f;

/// The bidiagonal matrix and the reflectors of a reduction.
pub(crate) struct Bidiagonal<T> {
    /// Diagonal, `n` entries.
    pub d: Vec<T>,
    /// Superdiagonal, `n − 1` entries.
    pub e: Vec<T>,
    /// Scalars of the left reflectors (`n`; vectors below the diagonal of the work matrix).
    pub tauq: Vec<T>,
    /// Scalars of the right reflectors (`n − 1`; vectors in [`Bidiagonal::p`]).
    pub taup: Vec<T>,
    /// `n × n` column-major: right vector `j` has its implicit 1 at row `j + 1` of column `j`
    /// and its essential part below.
    pub p: Array2<T>,
}

/// Reduces the column-major (Fortran-order) `m × n` matrix `a` (`m ≥ n ≥ 1`) in place.
pub(crate) fn bidiagonalize<T: Scalar>(
    op: &'static str,
    a: &mut Array2<T>,
) -> Result<Bidiagonal<T>> {
    let (m, n) = a.dim();
    debug_assert!(m >= n);
    let mut p = zeros_f::<T>(op, n, n)?;
    let data = a
        .as_slice_memory_order_mut()
        .expect("the work matrix is contiguous");
    let (mut d, mut e) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let (mut tauq, mut taup) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let mut v = vec![T::zero(); m];
    let mut w = vec![T::zero(); m];
    let mut row = vec![T::zero(); n];
    for j in 0..n {
        // From the left: column j, rows j..m.
        let col = &mut data[j * m + j..(j + 1) * m];
        let (alpha, x) = col.split_first_mut().expect("j < m");
        let (beta, tau) = householder(*alpha, x);
        *alpha = beta;
        d.push(beta);
        tauq.push(tau);
        if tau != T::zero() && j + 1 < n {
            let v = &mut v[..m - j];
            v[0] = T::one();
            v[1..].copy_from_slice(x);
            for c in j + 1..n {
                let colc = &mut data[c * m + j..(c + 1) * m];
                let f = tau * dot(ArrayView1::from(&*v), ArrayView1::from(&*colc));
                axpy(-f, ArrayView1::from(&*v), &mut ArrayViewMut1::from(colc));
            }
        }
        if j + 1 >= n {
            break;
        }
        // From the right: row j, columns j+1..n.
        let row = &mut row[..n - j - 1];
        for (t, r) in row.iter_mut().enumerate() {
            *r = data[(j + 1 + t) * m + j];
        }
        let (alpha, x) = row.split_first_mut().expect("j + 1 < n");
        let (beta, tau) = householder(*alpha, x);
        e.push(beta);
        taup.push(tau);
        data[(j + 1) * m + j] = beta;
        for (t, &xt) in x.iter().enumerate() {
            data[(j + 2 + t) * m + j] = T::zero();
            p[[j + 2 + t, j]] = xt;
        }
        if tau != T::zero() && j + 1 < m {
            // A₂ ← A₂ (I − τ u uᵀ), A₂ = rows j+1.., columns j+1..: w = A₂ u, A₂ −= τ w uᵀ.
            let rows = m - j - 1;
            let w = &mut w[..rows];
            w.fill(T::zero());
            let u = |t: usize| if t == 0 { T::one() } else { x[t - 1] };
            for t in 0..n - j - 1 {
                let c = j + 1 + t;
                let colc = &data[c * m + j + 1..(c + 1) * m];
                axpy(
                    u(t),
                    ArrayView1::from(colc),
                    &mut ArrayViewMut1::from(&mut *w),
                );
            }
            for t in 0..n - j - 1 {
                let c = j + 1 + t;
                let colc = &mut data[c * m + j + 1..(c + 1) * m];
                axpy(
                    -tau * u(t),
                    ArrayView1::from(&*w),
                    &mut ArrayViewMut1::from(colc),
                );
            }
        }
    }
    Ok(Bidiagonal {
        d,
        e,
        tauq,
        taup,
        p,
    })
}
