//! Eigenvalues of a symmetric tridiagonal matrix by the implicit QL algorithm with Wilkinson's
//! shift (the `tql2` / `steqr` family), and the plane rotations that accumulate its
//! eigenvectors.
//!
//! ```text
//! T = tridiag(e, d, e)       d: n diagonal entries, e: n − 1 off-diagonal ones (e[i] = T[i+1, i])
//! for l = 0, 1, …:            until e[l] is negligible (|e[l]| ≤ ε (|d[l]| + |d[l+1]|)):
//!     m = first index ≥ l with e[m] negligible (the unreduced block is l..=m)
//!     shift σ = eigenvalue of T[l..l+2, l..l+2] nearer d[l]
//!     one QL sweep on the block, from the bottom: rotations (m−1, m), …, (l, l+1)
//! ```
//! Each sweep reports its rotations to the caller, who applies them to the eigenvector matrix
//! (columns `i`, `i+1`); the kernel itself only touches `d` and `e` (O(n²) in all), so the
//! vectors can be updated in parallel blocks of rows by the caller. Every step is a ratio or a
//! `hypot`, so the algorithm is insensitive to the overall scale of `T`.

use crate::kernels::reflector::fast_hypot;
use crate::real::Real;

/// One plane rotation of columns `i` and `k` of a matrix `Z`: `zᵢ ← c zᵢ + s zₖ`,
/// `zₖ ← −s zᵢ + c zₖ`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rotation<T> {
    /// First column.
    pub i: usize,
    /// Second column.
    pub k: usize,
    /// Cosine.
    pub c: T,
    /// Sine.
    pub s: T,
}

/// Overwrites `d` with the eigenvalues (unordered) of the tridiagonal matrix with diagonal `d`
/// and off-diagonal `e` (`e.len() + 1 == d.len()`, or both empty). Each
/// sweep's rotations go to `rotate`, in the order they must be applied to the columns of the
/// eigenvector matrix. `Err(l)` when more than `max_sweeps` sweeps were needed in all (`l`:
/// the eigenvalue being worked on).
pub(crate) fn tridiagonal_ql<T: Real>(
    d: &mut [T],
    e: &[T],
    max_sweeps: usize,
    mut rotate: impl FnMut(&[Rotation<T>]),
) -> Result<(), usize> {
    let n = d.len();
    if n <= 1 {
        return Ok(());
    }
    debug_assert_eq!(e.len() + 1, n);
    // e[n − 1] = 0: a sentinel the sweeps may write.
    let mut e: Vec<T> = e
        .iter()
        .copied()
        .chain(std::iter::once(T::zero()))
        .collect();
    let (zero, one, two) = (T::zero(), T::one(), T::one() + T::one());
    let (eps, safmin) = (T::EPS, T::min_positive_value());
    let mut sweeps = 0;
    let mut rots: Vec<Rotation<T>> = Vec::with_capacity(n);
    for l in 0..n {
        loop {
            // The unreduced block l..=m: e[m] is the first negligible off-diagonal entry (or m is
            // the last index).
            let mut m = l;
            while m + 1 < n {
                let ae = e[m].abs();
                if ae <= eps * (d[m].abs() + d[m + 1].abs()) || ae <= safmin {
                    e[m] = zero;
                    break;
                }
                m += 1;
            }
            if m == l {
                break;
            }
            if sweeps >= max_sweeps {
                return Err(l);
            }
            sweeps += 1;
            // Wilkinson's shift from the leading 2 × 2 block, folded into the first rotation.
            let mut g = (d[l + 1] - d[l]) / (two * e[l]);
            let mut r = fast_hypot(g, one);
            g = d[m] - d[l] + e[l] / (g + r.copysign(g));
            let (mut s, mut c, mut p) = (one, one, zero);
            rots.clear();
            let mut deflated = false;
            for i in (l..m).rev() {
                let f = s * e[i];
                let b = c * e[i];
                r = fast_hypot(f, g);
                e[i + 1] = r;
                if r == zero {
                    // The bulge underflowed: T splits at i + 1; restart on the smaller block.
                    d[i + 1] = d[i + 1] - p;
                    e[m] = zero;
                    deflated = true;
                    break;
                }
                s = f / r;
                c = g / r;
                g = d[i + 1] - p;
                r = (d[i] - g) * s + two * c * b;
                p = s * r;
                d[i + 1] = g + p;
                g = c * r - b;
                // z_{i+1} ← s zᵢ + c z_{i+1},  zᵢ ← c zᵢ − s z_{i+1}.
                rots.push(Rotation {
                    i,
                    k: i + 1,
                    c,
                    s: -s,
                });
            }
            rotate(&rots);
            if deflated {
                continue;
            }
            d[l] = d[l] - p;
            e[l] = g;
            e[m] = zero;
        }
    }
    Ok(())
}

/// Overwrites `d` with the eigenvalues (unordered) of the tridiagonal matrix with diagonal `d`
/// and off-diagonal `e`, without vectors: the square-root-free QL iteration of Pal, Walker and
/// Kahan (LAPACK `sterf`), which works on the squares `e[i]²` and needs one division per
/// step where [`tridiagonal_ql`] needs a square root and two. The matrix is first scaled by a
/// power of two (exact) so its largest entry is about 1: the squares then neither overflow
/// nor lose more than `ε‖T‖` to underflow. Same deflation test, shift and sweep limit as
/// [`tridiagonal_ql`]; unreduced 2 × 2 blocks are solved directly.
pub(crate) fn tridiagonal_ql_values<T: Real>(
    d: &mut [T],
    e: &[T],
    max_sweeps: usize,
) -> Result<(), usize> {
    let n = d.len();
    if n <= 1 {
        return Ok(());
    }
    debug_assert_eq!(e.len() + 1, n);
    let amax = d.iter().chain(e).fold(T::zero(), |m, x| m.max(x.abs()));
    if amax == T::zero() || !amax.is_finite() {
        return Ok(());
    }
    // amax · 2^k ≈ 1, applied as two exact factors (2^k alone may be out of range).
    let k = -(amax.as_f64().log2().round() as i32);
    let (h, r) = (k / 2, k - k / 2);
    let (f1, f2) = (T::of(2f64.powi(h)), T::of(2f64.powi(r)));
    d.iter_mut().for_each(|x| *x = *x * f1 * f2);
    // e2[n − 1] = 0: a sentinel.
    let mut e2: Vec<T> = e
        .iter()
        .map(|&x| {
            let y = x * f1 * f2;
            y * y
        })
        .chain(std::iter::once(T::zero()))
        .collect();
    let (zero, one, two) = (T::zero(), T::one(), T::one() + T::one());
    let (eps2, safmin) = (T::EPS * T::EPS, T::min_positive_value());
    let mut sweeps = 0;
    let mut l = 0;
    while l < n {
        // The unreduced block l..=m: e2[m] is the first negligible entry (or m = n − 1).
        let mut m = l;
        while m + 1 < n {
            let bound = d[m].abs() + d[m + 1].abs();
            if e2[m] <= eps2 * bound * bound || e2[m] <= safmin {
                e2[m] = zero;
                break;
            }
            m += 1;
        }
        if m == l {
            l += 1;
            continue;
        }
        if m == l + 1 {
            let (r1, r2) = eig_2x2(d[l], e2[l].sqrt(), d[l + 1]);
            d[l] = r1;
            d[l + 1] = r2;
            e2[l] = zero;
            l += 2;
            continue;
        }
        if sweeps >= max_sweeps {
            return Err(l);
        }
        sweeps += 1;
        // Wilkinson's shift from the leading 2 × 2 block.
        let p = d[l];
        let rte = e2[l].sqrt();
        let mut sigma = (d[l + 1] - p) / (two * rte);
        let r = fast_hypot(sigma, one);
        sigma = p - rte / (sigma + r.copysign(sigma));
        let (mut c, mut s) = (one, zero);
        let mut gamma = d[m] - sigma;
        let mut p = gamma * gamma;
        for i in (l..m).rev() {
            let bb = e2[i];
            let r = p + bb;
            if i + 1 != m {
                e2[i + 1] = s * r;
            }
            let oldc = c;
            // The step's latency chain runs p → r → c → γ → p. sterf divides twice on it
            // (c = p/r, p = γ²/c); here one reciprocal is on the chain and 1/p is formed beside
            // it (γ²/c = γ²·r/p), which shortened the loop by about a division's latency.
            let rinv = one / r;
            c = p * rinv;
            s = bb * rinv;
            let oldgam = gamma;
            let alpha = d[i];
            gamma = c * (alpha - sigma) - s * oldgam;
            d[i + 1] = oldgam + (alpha - gamma);
            p = if c != zero {
                gamma * gamma * (r / p)
            } else {
                oldc * bb
            };
        }
        e2[l] = s * p;
        d[l] = sigma + gamma;
    }
    let (g1, g2) = (T::one() / f1, T::one() / f2);
    d.iter_mut().for_each(|x| *x = *x * g1 * g2);
    Ok(())
}

/// Eigenvalues of the symmetric 2 × 2 matrix `[[a, b], [b, c]]`, larger in absolute value
/// first (LAPACK `lae2`: the smaller one from the product of the two, not by cancellation).
fn eig_2x2<T: Real>(a: T, b: T, c: T) -> (T, T) {
    let half = T::of(0.5);
    let (sm, df) = (a + c, a - c);
    let (adf, ab) = (df.abs(), (b + b).abs());
    let (acmx, acmn) = if a.abs() > c.abs() { (a, c) } else { (c, a) };
    let rt = if adf > ab {
        adf * (T::one() + (ab / adf).powi(2)).sqrt()
    } else if adf < ab {
        ab * (T::one() + (adf / ab).powi(2)).sqrt()
    } else {
        ab * T::of(std::f64::consts::SQRT_2)
    };
    if sm < T::zero() {
        let rt1 = half * (sm - rt);
        (rt1, (acmx / rt1) * acmn - (b / rt1) * b)
    } else if sm > T::zero() {
        let rt1 = half * (sm + rt);
        (rt1, (acmx / rt1) * acmn - (b / rt1) * b)
    } else {
        (half * rt, -half * rt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ‖T Z − Z Λ‖ and ‖ZᵀZ − I‖ for the 1-2-1 matrix, whose eigenvalues are known.
    #[test]
    fn one_two_one() {
        let n = 40;
        let mut d = vec![2.0f64; n];
        let e = vec![-1.0f64; n - 1];
        let mut z = vec![0.0f64; n * n];
        for i in 0..n {
            z[i * n + i] = 1.0;
        }
        tridiagonal_ql(&mut d, &e, 30 * n, |rots| {
            for r in rots {
                for row in 0..n {
                    let (a, b) = (z[r.i * n + row], z[r.k * n + row]);
                    z[r.i * n + row] = r.c * a + r.s * b;
                    z[r.k * n + row] = -r.s * a + r.c * b;
                }
            }
        })
        .unwrap();
        let mut want: Vec<f64> = (1..=n)
            .map(|k| 2.0 - 2.0 * (k as f64 * std::f64::consts::PI / (n + 1) as f64).cos())
            .collect();
        want.sort_by(f64::total_cmp);
        let mut got = d.clone();
        got.sort_by(f64::total_cmp);
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() < 20.0 * f64::EPSILON, "{g} vs {w}");
        }
        // T zⱼ = dⱼ zⱼ.
        for j in 0..n {
            let col = &z[j * n..(j + 1) * n];
            for i in 0..n {
                let mut t = 2.0 * col[i];
                if i > 0 {
                    t -= col[i - 1];
                }
                if i + 1 < n {
                    t -= col[i + 1];
                }
                assert!((t - d[j] * col[i]).abs() < 50.0 * f64::EPSILON);
            }
        }
    }

    #[test]
    fn no_convergence_is_reported() {
        let mut d = vec![1.0f64, 2.0, 3.0];
        let e = vec![1.0f64, 1.0];
        assert_eq!(tridiagonal_ql(&mut d, &e, 0, |_| {}), Err(0));
    }

    /// The root-free version against the rotating one and against the 1-2-1 matrix's known
    /// eigenvalues, including scales near the ends of the range, a split matrix and 2 × 2 blocks.
    #[test]
    fn values_only_agrees() {
        let n = 57;
        let cases: Vec<(Vec<f64>, Vec<f64>)> = vec![
            (vec![2.0; n], vec![-1.0; n - 1]),
            (
                (0..n).map(|i| ((i * 7) % 11) as f64 - 5.0).collect(),
                (0..n - 1)
                    .map(|i| ((i * 3) % 5) as f64 * 0.5 + 0.1)
                    .collect(),
            ),
            // Splits into blocks, some of order 1 and 2.
            (
                (0..n).map(|i| (i % 4) as f64).collect(),
                (0..n - 1)
                    .map(|i| {
                        if i % 3 == 2 {
                            0.0
                        } else {
                            1.0 + i as f64 * 0.01
                        }
                    })
                    .collect(),
            ),
            (vec![0.0; n], vec![1.0; n - 1]),
        ];
        for (d0, e0) in cases {
            for scale in [1.0, 1e-300, 1e300, 2f64.powi(-1020)] {
                let d1: Vec<f64> = d0.iter().map(|x| x * scale).collect();
                let e1: Vec<f64> = e0.iter().map(|x| x * scale).collect();
                // The rotating version at scale 1, scaled (exact for powers of two; within a
                // few ulps otherwise).
                let mut want = d0.clone();
                tridiagonal_ql(&mut want, &e0, 30 * n, |_| {}).unwrap();
                want.iter_mut().for_each(|x| *x *= scale);
                let mut got = d1.clone();
                tridiagonal_ql_values(&mut got, &e1, 30 * n).unwrap();
                want.sort_by(f64::total_cmp);
                got.sort_by(f64::total_cmp);
                let norm = want.iter().fold(0.0f64, |m, x| m.max(x.abs()));
                for (g, w) in got.iter().zip(&want) {
                    assert!(
                        (g - w).abs() <= 4.0 * n as f64 * f64::EPSILON * norm,
                        "scale {scale:e}: {g:e} vs {w:e}"
                    );
                }
            }
        }
        let mut d = vec![1.0f64, 2.0, 3.0];
        assert_eq!(tridiagonal_ql_values(&mut d, &[1.0, 1.0], 0), Err(0));
    }
}
