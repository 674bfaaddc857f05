//! Right eigenvectors of a real quasi-upper-triangular (Schur) matrix by back-substitution, as
//! LAPACK's `trevc` defines them: for the eigenvalue of the 1 × 1 block at `k`, `x` with
//! `x[k] = 1`, `x[k+1..] = 0` and `(T − λ I) x = 0`; for the standardized 2 × 2 block at
//! `k−1, k` (eigenvalue `λ = a + i ω`, `ω > 0`), the complex `x` with `x[k+1..] = 0`.
//!
//! Overflow: tiny pivots are replaced by `smin` (so a defective or repeated eigenvalue yields a
//! large but finite solution), and the whole vector is scaled down before a division or an
//! update could exceed `bignum` (`trevc`'s strategy). The result is scaled to largest
//! component 1 (in `|re| + |im|`). `T` is column-major with leading dimension `n`.

use crate::kernels::simd1::{axpy, Fma};
use crate::real::Real;

/// The constants of the back-substitution of an order-`n` matrix.
#[derive(Clone, Copy)]
pub(crate) struct Bounds<T> {
    /// Below this, a quantity is treated as zero-ish (`unfl · n / ulp`).
    smlnum: T,
    /// Above this, the vector is scaled down (`(1 − ulp) / smlnum`).
    bignum: T,
    ulp: T,
}

impl<T: Real> Bounds<T> {
    pub(crate) fn new(n: usize) -> Self {
        let ulp = T::EPS;
        let smlnum = T::min_positive_value() * (T::of(n.max(1) as f64) / ulp);
        Bounds {
            smlnum,
            bignum: (T::one() - ulp) / smlnum,
            ulp,
        }
    }
}

/// `Σ_{i<j} |T[i, j]|` for each column `j` (the growth bound of an update by column `j`).
pub(crate) fn column_norms<T: Real>(n: usize, t: &[T]) -> Vec<T> {
    (0..n)
        .map(|j| {
            t[j * n..j * n + j]
                .iter()
                .fold(T::zero(), |s, x| s + x.abs())
        })
        .collect()
}

#[derive(Clone, Copy, Debug)]
struct C<T> {
    re: T,
    im: T,
}

impl<T: Real> C<T> {
    fn new(re: T, im: T) -> Self {
        C { re, im }
    }
    fn abs1(self) -> T {
        self.re.abs() + self.im.abs()
    }
    fn sub(self, o: Self) -> Self {
        C::new(self.re - o.re, self.im - o.im)
    }
    fn mul(self, o: Self) -> Self {
        C::new(
            self.re * o.re - self.im * o.im,
            self.re * o.im + self.im * o.re,
        )
    }
    fn scale(self, s: T) -> Self {
        C::new(self.re * s, self.im * s)
    }
    /// Smith's division (no overflow of intermediate squares).
    fn div(self, d: Self) -> Self {
        if d.im == T::zero() {
            return C::new(self.re / d.re, self.im / d.re);
        }
        if d.re.abs() >= d.im.abs() {
            let r = d.im / d.re;
            let den = d.re + d.im * r;
            C::new((self.re + self.im * r) / den, (self.im - self.re * r) / den)
        } else {
            let r = d.re / d.im;
            let den = d.re * r + d.im;
            C::new((self.re * r + self.im) / den, (self.im * r - self.re) / den)
        }
    }
}

/// The eigenvector of the 1 × 1 block at `k`, in `x[..=k]` (real eigenvalue `T[k, k]`).
pub(crate) fn real_vector<T: Real>(
    n: usize,
    t: &[T],
    cnorm: &[T],
    b: Bounds<T>,
    fma: Fma,
    k: usize,
    x: &mut [T],
) {
    let ix = |i: usize, j: usize| i + j * n;
    let wr = t[ix(k, k)];
    let smin = (b.ulp * wr.abs()).max(b.smlnum);
    x[k] = T::one();
    for r in 0..k {
        x[r] = -t[ix(r, k)];
    }
    let x = &mut x[..=k];
    let mut j = k;
    while j > 0 {
        let j1 = j - 1;
        if j1 > 0 && t[ix(j1, j1 - 1)] != T::zero() {
            // 2 × 2 block at j1−1, j1 with a real shift.
            let j0 = j1 - 1;
            let m = [
                [
                    C::new(t[ix(j0, j0)] - wr, T::zero()),
                    C::new(t[ix(j0, j1)], T::zero()),
                ],
                [
                    C::new(t[ix(j1, j0)], T::zero()),
                    C::new(t[ix(j1, j1)] - wr, T::zero()),
                ],
            ];
            let rhs = [C::new(x[j0], T::zero()), C::new(x[j1], T::zero())];
            let (sol, s) = solve2(m, rhs, smin, b.bignum);
            if s != T::one() {
                x.iter_mut().for_each(|v| *v = *v * s);
            }
            x[j0] = sol[0].re;
            x[j1] = sol[1].re;
            let big = x[j0].abs().max(x[j1].abs());
            if big > T::one() {
                let grow = cnorm[j0].max(cnorm[j1]);
                if grow > b.bignum / big {
                    let s = T::one() / big;
                    x.iter_mut().for_each(|v| *v = *v * s);
                }
            }
            let (a0, a1) = (x[j0], x[j1]);
            let (head, _) = x.split_at_mut(j0);
            axpy(fma, -a0, &t[ix(0, j0)..ix(0, j0) + j0], head);
            axpy(fma, -a1, &t[ix(0, j1)..ix(0, j1) + j0], head);
            j = j0;
        } else {
            let mut d = t[ix(j1, j1)] - wr;
            if d.abs() < smin {
                d = smin;
            }
            let r = x[j1].abs();
            if d.abs() < T::one() && r > T::one() && r > b.bignum * d.abs() {
                let s = T::one() / r;
                x.iter_mut().for_each(|v| *v = *v * s);
            }
            x[j1] = x[j1] / d;
            let xj = x[j1].abs();
            if xj > T::one() && cnorm[j1] > b.bignum / xj {
                let s = T::one() / xj;
                x.iter_mut().for_each(|v| *v = *v * s);
            }
            let a = x[j1];
            let (head, _) = x.split_at_mut(j1);
            axpy(fma, -a, &t[ix(0, j1)..ix(0, j1) + j1], head);
            j = j1;
        }
    }
    let emax = x.iter().fold(T::zero(), |m, v| m.max(v.abs()));
    if emax > T::zero() {
        let s = T::one() / emax;
        x.iter_mut().for_each(|v| *v = *v * s);
    }
}

/// The eigenvector `xr + i xi` (in `..=k`) of the eigenvalue `a + i ω` (`ω > 0`) of the
/// standardized 2 × 2 block at `k−1, k`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn complex_vector<T: Real>(
    n: usize,
    t: &[T],
    cnorm: &[T],
    b: Bounds<T>,
    fma: Fma,
    k: usize,
    xr: &mut [T],
    xi: &mut [T],
) {
    let ix = |i: usize, j: usize| i + j * n;
    let (k0, k1) = (k - 1, k);
    let wr = t[ix(k1, k1)];
    let (tb, tc) = (t[ix(k0, k1)], t[ix(k1, k0)]);
    let wi = tb.abs().sqrt() * tc.abs().sqrt();
    let lambda = C::new(wr, wi);
    let smin = (b.ulp * (wr.abs() + wi)).max(b.smlnum);
    // The block [a b; c a]: (a − λ) x₀ + b x₁ = 0 and c x₀ + (a − λ) x₁ = 0.
    let (x0, x1) = if tb.abs() >= tc.abs() {
        // x₀ = 1, x₁ = iω / b.
        (C::new(T::one(), T::zero()), C::new(T::zero(), wi / tb))
    } else {
        // x₁ = 1, x₀ = iω / c.
        (C::new(T::zero(), wi / tc), C::new(T::one(), T::zero()))
    };
    xr[k0] = x0.re;
    xi[k0] = x0.im;
    xr[k1] = x1.re;
    xi[k1] = x1.im;
    for r in 0..k0 {
        let (p, q) = (t[ix(r, k0)], t[ix(r, k1)]);
        xr[r] = -(p * x0.re + q * x1.re);
        xi[r] = -(p * x0.im + q * x1.im);
    }
    let xr = &mut xr[..=k];
    let xi = &mut xi[..=k];
    let scale_all = |xr: &mut [T], xi: &mut [T], s: T| {
        xr.iter_mut().for_each(|v| *v = *v * s);
        xi.iter_mut().for_each(|v| *v = *v * s);
    };
    let mut j = k0;
    while j > 0 {
        let j1 = j - 1;
        if j1 > 0 && t[ix(j1, j1 - 1)] != T::zero() {
            let j0 = j1 - 1;
            let m = [
                [
                    C::new(t[ix(j0, j0)], T::zero()).sub(lambda),
                    C::new(t[ix(j0, j1)], T::zero()),
                ],
                [
                    C::new(t[ix(j1, j0)], T::zero()),
                    C::new(t[ix(j1, j1)], T::zero()).sub(lambda),
                ],
            ];
            let rhs = [C::new(xr[j0], xi[j0]), C::new(xr[j1], xi[j1])];
            let (sol, s) = solve2(m, rhs, smin, b.bignum);
            if s != T::one() {
                scale_all(xr, xi, s);
            }
            (xr[j0], xi[j0], xr[j1], xi[j1]) = (sol[0].re, sol[0].im, sol[1].re, sol[1].im);
            let big = sol[0].abs1().max(sol[1].abs1());
            if big > T::one() {
                let grow = cnorm[j0].max(cnorm[j1]);
                if grow > b.bignum / big {
                    scale_all(xr, xi, T::one() / big);
                }
            }
            let (r0, i0, r1, i1) = (xr[j0], xi[j0], xr[j1], xi[j1]);
            let c0 = &t[ix(0, j0)..ix(0, j0) + j0];
            let c1 = &t[ix(0, j1)..ix(0, j1) + j0];
            axpy(fma, -r0, c0, &mut xr[..j0]);
            axpy(fma, -r1, c1, &mut xr[..j0]);
            axpy(fma, -i0, c0, &mut xi[..j0]);
            axpy(fma, -i1, c1, &mut xi[..j0]);
            j = j0;
        } else {
            let mut d = C::new(t[ix(j1, j1)], T::zero()).sub(lambda);
            if d.abs1() < smin {
                d = C::new(smin, T::zero());
            }
            let r = C::new(xr[j1], xi[j1]).abs1();
            let da = d.abs1();
            if da < T::one() && r > T::one() && r > b.bignum * da {
                scale_all(xr, xi, T::one() / r);
            }
            let q = C::new(xr[j1], xi[j1]).div(d);
            xr[j1] = q.re;
            xi[j1] = q.im;
            let xj = q.abs1();
            if xj > T::one() && cnorm[j1] > b.bignum / xj {
                scale_all(xr, xi, T::one() / xj);
            }
            let (r1, i1) = (xr[j1], xi[j1]);
            let c = &t[ix(0, j1)..ix(0, j1) + j1];
            axpy(fma, -r1, c, &mut xr[..j1]);
            axpy(fma, -i1, c, &mut xi[..j1]);
            j = j1;
        }
    }
    let emax = xr
        .iter()
        .zip(xi.iter())
        .fold(T::zero(), |m, (a, b)| m.max(a.abs() + b.abs()));
    if emax > T::zero() {
        scale_all(xr, xi, T::one() / emax);
    }
}

/// Solves the 2 × 2 complex system `m x = s·rhs` by Gaussian elimination with complete
/// pivoting, a pivot below `smin` replaced by `smin`; returns `x` and the scale `s ≤ 1` chosen
/// so that `x` stays below `bignum`.
fn solve2<T: Real>(m: [[C<T>; 2]; 2], rhs: [C<T>; 2], smin: T, bignum: T) -> ([C<T>; 2], T) {
    let one = T::one();
    let mut best = (0, 0);
    let mut cmax = T::zero();
    for (p, row) in m.iter().enumerate() {
        for (q, v) in row.iter().enumerate() {
            if v.abs1() > cmax {
                cmax = v.abs1();
                best = (p, q);
            }
        }
    }
    if cmax < smin {
        // Treat as smin · I.
        let bn = rhs[0].abs1().max(rhs[1].abs1());
        let s = if smin < one && bn > one && bn > bignum * smin {
            one / bn
        } else {
            one
        };
        return ([rhs[0].scale(s / smin), rhs[1].scale(s / smin)], s);
    }
    let (p, q) = best;
    let (r, c) = (1 - p, 1 - q);
    let u11 = m[p][q];
    let l21 = m[r][q].div(u11);
    let u12 = m[p][c];
    let mut u22 = m[r][c].sub(l21.mul(u12));
    if u22.abs1() < smin {
        u22 = C::new(smin, T::zero());
    }
    let y1 = rhs[p];
    let y2 = rhs[r].sub(l21.mul(y1));
    let ua = u22.abs1();
    let bn = y2.abs1().max(y1.abs1());
    let s = if ua < one && bn > one && bn > bignum * ua {
        one / bn
    } else {
        one
    };
    let (y1, y2) = (y1.scale(s), y2.scale(s));
    let xc = y2.div(u22);
    let xq = y1.sub(u12.mul(xc)).div(u11);
    let mut x = [xq, xq];
    x[q] = xq;
    x[c] = xc;
    (x, s)
}
