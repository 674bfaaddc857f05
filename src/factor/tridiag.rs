//! Householder reduction of a symmetric matrix to tridiagonal form, `A = Q T Qᵀ`
//! (LAPACK `sytd2`, lower triangle).
//!
//! ```text
//! for j = 0 .. n−2:
//!     Hⱼ = I − τ v vᵀ maps A[j+1.., j] onto β e₁          (larfg conventions, v₀ = 1)
//!     w = τ A₂₂ v;  w ← w − ½ τ (wᵀv) v                     (symmetric matrix-vector product)
//!     A₂₂ ← A₂₂ − v wᵀ − w vᵀ                               (symmetric rank-2 update, lower)
//! Q = H₀ H₁ … H_{n−2}
//! ```
//! Only the lower triangle of the column-major work matrix is read or written; the vectors `v`
//! stay below the subdiagonal, QR-style, for [`apply_reflectors`](super::orthogonal::apply_reflectors).
//! Every inner loop runs down a contiguous column (dot products with independent accumulators,
//! axpys).

use ndarray::{Array2, ArrayView1, ArrayViewMut1};

use crate::kernels::level1::{axpy, dot};
use crate::kernels::reflector::householder;
use crate::scalar::Scalar;

/// The tridiagonal matrix and the reflectors of a reduction.
pub(crate) struct Tridiagonal<T> {
    /// Diagonal, `n` entries.
    pub d: Vec<T>,
    /// Subdiagonal, `n − 1` entries.
    pub e: Vec<T>,
    /// The reflectors' scalars, `n − 1` entries (vectors in the work matrix).
    pub tau: Vec<T>,
}

/// Reduces the symmetric matrix whose lower triangle is in the column-major (Fortran-order)
/// square `a`, in place.
pub(crate) fn tridiagonalize<T: Scalar>(a: &mut Array2<T>) -> Tridiagonal<T> {
    let n = a.nrows();
    let data = a
        .as_slice_memory_order_mut()
        .expect("the work matrix is contiguous");
    let half = T::of(0.5);
    let mut e = Vec::with_capacity(n.saturating_sub(1));
    let mut taus = Vec::with_capacity(n.saturating_sub(1));
    let mut v = vec![T::zero(); n];
    let mut w = vec![T::zero(); n];
    for j in 0..n.saturating_sub(1) {
        let m = n - j - 1;
        let col = &mut data[j * n + j + 1..(j + 1) * n];
        let (alpha, x) = col.split_first_mut().expect("m ≥ 1");
        let (beta, tau) = householder(*alpha, x);
        *alpha = beta;
        e.push(beta);
        taus.push(tau);
        if tau == T::zero() {
            continue;
        }
        let (v, w) = (&mut v[..m], &mut w[..m]);
        v[0] = T::one();
        v[1..].copy_from_slice(x);
        w.fill(T::zero());
        // w = A₂₂ v, A₂₂ = data rows/cols j+1.., lower triangle: column c contributes its dot
        // product to w[c] and its below-diagonal part times v[c] to w[c+1..].
        for c in 0..m {
            let base = (j + 1 + c) * n + j + 1;
            let colc = &data[base + c..base + m];
            w[c] = w[c] + dot(ArrayView1::from(colc), ArrayView1::from(&v[c..]));
            axpy(
                v[c],
                ArrayView1::from(&colc[1..]),
                &mut ArrayViewMut1::from(&mut w[c + 1..]),
            );
        }
        w.iter_mut().for_each(|x| *x = *x * tau);
        let alpha2 = -half * tau * dot(ArrayView1::from(&*w), ArrayView1::from(&*v));
        axpy(
            alpha2,
            ArrayView1::from(&*v),
            &mut ArrayViewMut1::from(&mut *w),
        );
        for c in 0..m {
            let base = (j + 1 + c) * n + j + 1;
            let colc = &mut data[base + c..base + m];
            let (vc, wc) = (v[c], w[c]);
            for ((a, &vi), &wi) in colc.iter_mut().zip(&v[c..]).zip(&w[c..]) {
                *a = *a - vi * wc - wi * vc;
            }
        }
    }
    let d = (0..n).map(|i| data[i * n + i]).collect();
    Tridiagonal { d, e, tau: taus }
}
