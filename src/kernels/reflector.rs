//! One elementary Householder reflector with LAPACK's `larfg` conventions, for the
//! bidiagonal and tridiagonal reductions: `H = I − τ v vᵀ`, `v₀ = 1`, `H [α; x] = [β; 0]`,
//! `β = −sign(α)·‖(α, x)‖`, and `τ = 0` (H = I) when `x = 0`.

use crate::real::scaled_norm;
use crate::real::Real;

/// `√(a² + b²)` without the cost of libm's `hypot` when both squares are safely in range
/// (the common case), else `hypot` (no overflow, no harmful underflow).
#[inline]
pub(crate) fn fast_hypot<T: Real>(a: T, b: T) -> T {
    let m = a.abs().max(b.abs());
    // ε^±2 (f64: 5e-32 .. 2e31; f32: 1.4e-14 .. 7e13): the squares and their sum stay
    // normal and finite.
    let (lo, hi) = (T::EPS.powi(2), T::EPS.powi(-2));
    if m > lo && m < hi {
        (a * a + b * b).sqrt()
    } else {
        a.hypot(b)
    }
}

/// Overwrites `x` with the essential part of `v` (`v = [1; x]`) and returns `(β, τ)`.
///
/// `β` so small that `1/(α − β)` could overflow is handled by rescaling by `1/safmin` (at most
/// 20 times), as LAPACK does; the returned `β` is unscaled again.
pub(crate) fn householder<T: Real>(alpha: T, x: &mut [T]) -> (T, T) {
    let xnorm = scaled_norm(x.iter().copied());
    if xnorm == T::zero() {
        return (alpha, T::zero());
    }
    let safmin = T::min_positive_value() / T::EPS;
    let mut alpha = alpha;
    let mut beta = -alpha.hypot(xnorm).copysign(alpha);
    let mut knt = 0;
    while beta.abs() < safmin && knt < 20 {
        knt += 1;
        let up = T::one() / safmin;
        x.iter_mut().for_each(|v| *v = *v * up);
        alpha = alpha * up;
        beta = beta * up;
    }
    if knt > 0 {
        let xnorm = scaled_norm(x.iter().copied());
        beta = -alpha.hypot(xnorm).copysign(alpha);
    }
    let tau = (beta - alpha) / beta;
    let scale = T::one() / (alpha - beta);
    x.iter_mut().for_each(|v| *v = *v * scale);
    for _ in 0..knt {
        beta = beta * safmin;
    }
    (beta, tau)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reflects_onto_the_first_axis() {
        for (alpha, x) in [
            (3.0f64, vec![4.0]),
            (-1.0, vec![2.0, -2.0]),
            (0.0, vec![1e-300, 0.0]),
        ] {
            let full: Vec<f64> = std::iter::once(alpha).chain(x.iter().copied()).collect();
            let mut v = x.clone();
            let (beta, tau) = householder(alpha, &mut v);
            let v: Vec<f64> = std::iter::once(1.0).chain(v).collect();
            let dot: f64 = v.iter().zip(&full).map(|(a, b)| a * b).sum();
            let hx: Vec<f64> = full
                .iter()
                .zip(&v)
                .map(|(f, vi)| f - tau * dot * vi)
                .collect();
            let scale = full.iter().fold(0.0f64, |m, x| m.max(x.abs()));
            assert!(
                (hx[0] - beta).abs() <= 4.0 * f64::EPSILON * scale,
                "{hx:?} {beta}"
            );
            for h in &hx[1..] {
                assert!(h.abs() <= 4.0 * f64::EPSILON * scale, "{hx:?}");
            }
        }
        let mut z = [0.0f64; 3];
        assert_eq!(householder(2.0, &mut z), (2.0, 0.0));
    }
}
