//! Householder QR of a narrow panel (engine `rayon`): the base case of the blocked QR in
//! `factor::qr`, with LAPACK's conventions (`geqr2` / `larfg`): `H = I − τ v vᵀ`, `v₀ = 1`,
//! `β = −sign(α)·‖(α, x)‖`, and `τ = 0` (H = I) when the part below the diagonal is zero.

use ndarray::ArrayViewMut2;

use ndarray::ArrayView1;

use super::level1::nrm2;
use super::on_columns;
use super::simd1::{axpy, dot, Fma};

use crate::real::Real;

/// Factors the `m × nb` panel `a` in place: R on and above the diagonal, the essential part of
/// each Householder vector below it, the scalars in `tau` (`min(m, nb)` entries). Works on a
/// column-major copy so every inner loop is contiguous.
pub(crate) fn geqr2<T: Real>(a: &mut ArrayViewMut2<T>, tau: &mut [T]) {
    let nb = a.ncols();
    on_columns(a, |w, m| geqr2_columns(w, m, nb, tau));
}

/// [`geqr2`] on the column-major `m × nb` panel `w`.
fn geqr2_columns<T: Real>(w: &mut [T], m: usize, nb: usize, tau: &mut [T]) {
    let safmin = T::min_positive_value() / T::EPS;
    let fma = Fma::detect();
    for j in 0..m.min(nb) {
        let (head, tail) = w.split_at_mut((j + 1) * m);
        let col = &mut head[j * m + j..];
        let (alpha0, x) = col
            .split_first_mut()
            .expect("j < m: the column is not empty");
        let mut alpha = *alpha0;
        let mut xnorm = nrm2(ArrayView1::from(&*x));
        if xnorm == T::zero() {
            tau[j] = T::zero();
            continue;
        }
        let mut beta = -alpha.hypot(xnorm).copysign(alpha);
        // β so small that 1/(α − β) could overflow: rescale (as LAPACK's larfg does).
        let mut knt = 0;
        while beta.abs() < safmin && knt < 20 {
            knt += 1;
            let up = T::one() / safmin;
            x.iter_mut().for_each(|v| *v = *v * up);
            alpha = alpha * up;
            beta = beta * up;
        }
        if knt > 0 {
            xnorm = nrm2(ArrayView1::from(&*x));
            beta = -alpha.hypot(xnorm).copysign(alpha);
        }
        tau[j] = (beta - alpha) / beta;
        // One reciprocal, as LAPACK's larfg scales by 1/(α − β).
        let r = T::one() / (alpha - beta);
        x.iter_mut().for_each(|v| *v = *v * r);
        for _ in 0..knt {
            beta = beta * safmin;
        }
        *alpha0 = beta;
        // Apply H = I − τ v vᵀ (v = [1; x]) to the columns to the right.
        let (v, t) = (&*x, tau[j]);
        for c in tail.chunks_exact_mut(m) {
            let (cj, rest) = c[j..].split_first_mut().expect("j < m");
            let f = t * (*cj + dot(fma, rest, v));
            if f != T::zero() {
                *cj = *cj - f;
                axpy(fma, -f, v, rest);
            }
        }
    }
}
