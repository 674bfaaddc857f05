//! Singular values of an upper bidiagonal matrix by implicit-shift QR (Golub–Kahan, with the
//! zero-diagonal chases of Golub & Van Loan, *Matrix Computations*, §8.6), and the plane
//! rotations that accumulate the singular vectors.
//!
//! ```text
//! B = bidiag(d, e)          d: n diagonal entries, e: n − 1 superdiagonal ones (e[i] = B[i, i+1])
//! repeat:
//!     e[i] ← 0 where |e[i]| ≤ ε (|d[i]| + |d[i+1]|)
//!     lo..=hi = the lowest unreduced block; none left: done
//!     some |d[i]| ≤ ε‖B_block‖ in it: d[i] ← 0 and chase row i (or column hi) to zero by rotations
//!     else one Golub–Kahan sweep with the Wilkinson shift of the trailing 2 × 2 of BᵀB
//! ```
//! Rotations from the left go to `rotate_u` (they act on columns of U), rotations from the right
//! to `rotate_v` (columns of V), so that `B₀ = U B Vᵀ` holds throughout. The shift is computed
//! on the block divided by its largest entry, so squares neither overflow nor underflow.

use super::tridiag_eig::Rotation;
use crate::kernels::reflector::fast_hypot;
use crate::real::Real;

/// `(c, s, r)` with `c f + s g = r`, `−s f + c g = 0`, `r = ‖(f, g)‖` (identity for `f = g = 0`).
pub(crate) fn rot<T: Real>(f: T, g: T) -> (T, T, T) {
    let r = fast_hypot(f, g);
    if r == T::zero() {
        (T::one(), T::zero(), T::zero())
    } else {
        (f / r, g / r, r)
    }
}

/// Overwrites `d` with the singular values, up to sign and unordered, of the upper bidiagonal
/// matrix `bidiag(d, e)` (`e.len() + 1 == d.len()`, or both empty). `Err(i)` when more than
/// `max_sweeps` sweeps and chases were needed (`i`: the bottom of the block being worked on).
pub(crate) fn bidiagonal_qr<T: Real>(
    d: &mut [T],
    e: &[T],
    max_sweeps: usize,
    mut rotate_u: impl FnMut(&[Rotation<T>]),
    mut rotate_v: impl FnMut(&[Rotation<T>]),
) -> Result<(), usize> {
    let n = d.len();
    if n <= 1 {
        return Ok(());
    }
    debug_assert_eq!(e.len() + 1, n);
    let mut e = e.to_vec();
    let (zero, eps, safmin) = (T::zero(), T::EPS, T::min_positive_value());
    let half = T::of(0.5);
    let (mut ru, mut rv) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let mut sweeps = 0;
    loop {
        for i in 0..n - 1 {
            let ae = e[i].abs();
            if ae <= eps * (d[i].abs() + d[i + 1].abs()) || ae <= safmin {
                e[i] = zero;
            }
        }
        let mut hi = n - 1;
        while hi > 0 && e[hi - 1] == zero {
            hi -= 1;
        }
        if hi == 0 {
            return Ok(());
        }
        let mut lo = hi - 1;
        while lo > 0 && e[lo - 1] != zero {
            lo -= 1;
        }
        if sweeps >= max_sweeps {
            return Err(hi);
        }
        sweeps += 1;
        let sc = d[lo..=hi]
            .iter()
            .chain(&e[lo..hi])
            .fold(zero, |m, x| m.max(x.abs()));
        ru.clear();
        rv.clear();
        if let Some(i) = (lo..=hi).find(|&i| d[i].abs() <= eps * sc) {
            d[i] = zero;
            if i < hi {
                // Row i holds only e[i]: rotate it into rows i+1..=hi (from the left).
                let mut f = e[i];
                e[i] = zero;
                for j in i + 1..=hi {
                    let (c, s, r) = rot(d[j], f);
                    d[j] = r;
                    ru.push(Rotation { i: j, k: i, c, s });
                    if j < hi {
                        f = -s * e[j];
                        e[j] = c * e[j];
                    }
                }
            } else {
                // Column hi holds only e[hi−1]: rotate it into columns hi−1..=lo (from the right).
                let mut f = e[hi - 1];
                e[hi - 1] = zero;
                for j in (lo..hi).rev() {
                    let (c, s, r) = rot(d[j], f);
                    d[j] = r;
                    rv.push(Rotation { i: j, k: hi, c, s });
                    if j > lo {
                        f = -s * e[j - 1];
                        e[j - 1] = c * e[j - 1];
                    }
                }
            }
        } else {
            // Wilkinson's shift: the eigenvalue of the trailing 2 × 2 of BᵀB nearer its last
            // entry, on the block scaled to largest entry 1.
            let dq1 = d[hi - 1] / sc;
            let dq = d[hi] / sc;
            let eq1 = e[hi - 1] / sc;
            let eq2 = if hi - 1 > lo { e[hi - 2] / sc } else { zero };
            let t11 = dq1 * dq1 + eq2 * eq2;
            let t12 = dq1 * eq1;
            let t22 = dq * dq + eq1 * eq1;
            let mu = if t12 == zero {
                t22
            } else {
                let delta = (t11 - t22) * half;
                t22 - t12 * t12 / (delta + delta.hypot(t12).copysign(delta))
            };
            let dp = d[lo] / sc;
            let mut y = dp * dp - mu;
            let mut z = dp * (e[lo] / sc);
            for k in lo..hi {
                // From the right, columns k, k+1: zero z against y.
                let (c, s, r) = rot(y, z);
                if k > lo {
                    e[k - 1] = r;
                }
                let (dk, ek, dk1) = (d[k], e[k], d[k + 1]);
                y = c * dk + s * ek;
                let ek_new = -s * dk + c * ek;
                z = s * dk1;
                let dk1_new = c * dk1;
                rv.push(Rotation {
                    i: k,
                    k: k + 1,
                    c,
                    s,
                });
                // From the left, rows k, k+1: zero the bulge below the diagonal.
                let (c, s, r) = rot(y, z);
                d[k] = r;
                e[k] = c * ek_new + s * dk1_new;
                d[k + 1] = -s * ek_new + c * dk1_new;
                ru.push(Rotation {
                    i: k,
                    k: k + 1,
                    c,
                    s,
                });
                if k + 1 < hi {
                    let ek1 = e[k + 1];
                    y = e[k];
                    z = s * ek1;
                    e[k + 1] = c * ek1;
                }
            }
        }
        if !ru.is_empty() {
            rotate_u(&ru);
        }
        if !rv.is_empty() {
            rotate_v(&rv);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(z: &mut [f64], n: usize, rots: &[Rotation<f64>]) {
        for r in rots {
            for row in 0..n {
                let (a, b) = (z[r.i * n + row], z[r.k * n + row]);
                z[r.i * n + row] = r.c * a + r.s * b;
                z[r.k * n + row] = -r.s * a + r.c * b;
            }
        }
    }

    /// `B₀ = U diag(σ) Vᵀ` entry by entry, including a zero on the diagonal.
    #[test]
    fn reconstructs_the_bidiagonal() {
        for zero_at in [None, Some(0), Some(3), Some(6)] {
            let n = 7;
            let mut d: Vec<f64> = (0..n).map(|i| 1.0 + 0.3 * i as f64).collect();
            let e: Vec<f64> = (0..n - 1).map(|i| 0.5 - 0.1 * i as f64).collect();
            if let Some(i) = zero_at {
                d[i] = 0.0;
            }
            let (d0, e0) = (d.clone(), e.clone());
            let eye = |n: usize| {
                let mut z = vec![0.0; n * n];
                (0..n).for_each(|i| z[i * n + i] = 1.0);
                z
            };
            let (mut u, mut v) = (eye(n), eye(n));
            let mut ur = Vec::new();
            let mut vr = Vec::new();
            bidiagonal_qr(
                &mut d,
                &e,
                30 * n,
                |r| ur.push(r.to_vec()),
                |r| vr.push(r.to_vec()),
            )
            .unwrap();
            ur.iter().for_each(|r| apply(&mut u, n, r));
            vr.iter().for_each(|r| apply(&mut v, n, r));
            for i in 0..n {
                for j in 0..n {
                    let b0 = if i == j {
                        d0[i]
                    } else if j == i + 1 {
                        e0[i]
                    } else {
                        0.0
                    };
                    let got: f64 = (0..n).map(|k| u[k * n + i] * d[k] * v[k * n + j]).sum();
                    assert!(
                        (got - b0).abs() < 1e-14,
                        "{zero_at:?} ({i},{j}): {got} vs {b0}"
                    );
                }
            }
            if zero_at.is_some() {
                assert!(d.iter().any(|x| x.abs() < 1e-15), "{d:?}");
            }
        }
    }

    #[test]
    fn no_convergence_is_reported() {
        let mut d = vec![1.0f64, 2.0, 3.0];
        let e = vec![1.0f64, 1.0];
        assert_eq!(bidiagonal_qr(&mut d, &e, 0, |_| {}, |_| {}), Err(2));
    }
}
