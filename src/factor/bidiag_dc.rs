//! Singular values and vectors of an upper bidiagonal matrix by divide and conquer
//! (Jessup–Sorensen's splitting with the deflation and orthogonal singular vectors of
//! Gu–Eisenstat: the algorithm behind LAPACK `bdsdc`).
//!
//! ```text
//! B: n × (n + sqre) upper bidiagonal, sqre ∈ {0, 1} (the whole matrix is square: sqre = 0)
//! split at row k:  B = [B₁ 0; α e_kᵀ β e_{k+1}ᵀ; 0 B₂]     B₁: k × (k+1), B₂: (n−k−1) × (n−k−1+sqre)
//! B₁ = U₁ [Σ₁ 0] V₁ᵀ, B₂ = U₂ [Σ₂ 0] V₂ᵀ                   recursion (the halves in parallel);
//!                                                         small blocks: bidiagonal QR
//! B = Ũ [M 0] Ṽᵀ,  M = e₀ zᵀ + diag(0, Σ₁, Σ₂)            z = (r₀, α·last row of V₁, β·first row
//!     of V₂); the null vectors of B₁ and B₂ rotated into one column (z₀ = r₀) and B's null vector
//! deflate: |zᵢ| ≤ tol → (dᵢ, ũᵢ, ṽᵢ) is a singular triplet; |dᵢ − dⱼ| ≤ tol → a rotation zeroes zᵢ
//! the K others: σⱼ² are the roots of 1 + Σ zᵢ²/(dᵢ² − σ²), the secular equation of
//!     factor::tridiag_dc on the poles dᵢ², each dᵢ² − σⱼ² formed as (dᵢ − d_o)(dᵢ + d_o) − τⱼ
//! ẑ (Gu–Eisenstat: the z for which the σⱼ are exact)
//! vⱼ ∝ (ẑᵢ/(dᵢ² − σⱼ²))ᵢ,  uⱼ ∝ (−1, (dᵢ ẑᵢ/(dᵢ² − σⱼ²))ᵢ≥₁)
//! U = Ũ[:, K]·(uⱼ), V = Ṽ[:, K]·(vⱼ)                         grouped GEMMs on the engine
//! ```

use ndarray::{s, Array2, ArrayViewMut1, ArrayViewMut2, Axis, Zip};
use rayon::prelude::*;

use crate::alloc::{assign_2d, zeros_f};
use crate::factor::tridiag_dc::{
    deflate, deflation_rotation, grouped_product, map_indices, product_but, secular_root, DcError,
    DcResult, Poles, Rows, DC_BASE, DC_PARALLEL_MIN,
};
use crate::kernels::bidiag_svd::{bidiagonal_qr, rot};
use crate::kernels::tridiag_eig::Rotation;
use crate::parallel::level3::Level3;
use crate::scalar::Scalar;

/// The SVD of a bidiagonal block: `B = U [diag(s) 0] Vᵀ`, `s ≥ 0` unordered; `V` has one
/// column more than `U` (the null vector of `B`, last) when `B` has one column more than rows.
pub(crate) struct BidiagSvd<T> {
    /// The singular values.
    pub s: Vec<T>,
    /// Left singular vectors, `n × n`.
    pub u: Array2<T>,
    /// Right singular vectors, `(n + sqre) × (n + sqre)`.
    pub v: Array2<T>,
}

/// The SVD of the `n × n` upper bidiagonal `bidiag(d, e)` (`e.len() + 1 == d.len() ≥ 1`).
pub(crate) fn bidiagonal_dc<T: Scalar>(
    op: &'static str,
    l3: &Level3,
    d: &[T],
    e: &[T],
) -> DcResult<BidiagSvd<T>> {
    solve(op, l3, d, e, 0)
}

/// The SVD of the `n × (n + sqre)` upper bidiagonal with diagonal `d` and superdiagonal `e`
/// (`e.len() == n − 1 + sqre`).
fn solve<T: Scalar>(
    op: &'static str,
    l3: &Level3,
    d: &[T],
    e: &[T],
    sqre: usize,
) -> DcResult<BidiagSvd<T>> {
    let n = d.len();
    debug_assert_eq!(e.len() + 1, n + sqre);
    if n <= DC_BASE {
        return base(op, d, e, sqre);
    }
    let k = n / 2;
    let (alpha, beta) = (d[k], e[k]);
    let (d1, e1) = (&d[..k], &e[..k]);
    let (d2, e2) = (&d[k + 1..], &e[k + 1..]);
    let (r1, r2) = if n >= DC_PARALLEL_MIN && l3.team.threads() > 1 {
        rayon::join(|| solve(op, l3, d1, e1, 1), || solve(op, l3, d2, e2, sqre))
    } else {
        (solve(op, l3, d1, e1, 1), solve(op, l3, d2, e2, sqre))
    };
    merge(op, l3, r1?, r2?, alpha, beta, sqre)
}

/// Columns `i`, `k` of `z` ← `(c zᵢ + s z_k, −s zᵢ + c z_k)`.
fn rotate<T: Scalar>(z: &mut ArrayViewMut2<T>, r: &Rotation<T>) {
    let (mut x, mut y) = z.multi_slice_mut((s![.., r.i], s![.., r.k]));
    Zip::from(&mut x).and(&mut y).for_each(|a, b| {
        let (p, q) = (*a, *b);
        *a = r.c * p + r.s * q;
        *b = r.c * q - r.s * p;
    });
}

fn identity<T: Scalar>(op: &'static str, n: usize) -> crate::error::Result<Array2<T>> {
    let mut z = zeros_f::<T>(op, n, n)?;
    z.diag_mut().fill(T::one());
    Ok(z)
}

/// A small block by bidiagonal QR. With `sqre = 1` the extra column is first rotated away from
/// the right (`B R = [B' 0]`, `B'` square upper bidiagonal): its entry chased up column `n`.
fn base<T: Scalar>(op: &'static str, d: &[T], e: &[T], sqre: usize) -> DcResult<BidiagSvd<T>> {
    let n = d.len();
    let mut dd = d.to_vec();
    let mut ee = e[..n - 1].to_vec();
    let mut u = identity::<T>(op, n)?;
    let mut v = identity::<T>(op, n + sqre)?;
    if sqre == 1 {
        let mut x = e[n - 1];
        for i in (0..n).rev() {
            let (c, s, r) = rot(dd[i], x);
            dd[i] = r;
            rotate(&mut v.view_mut(), &Rotation { i, k: n, c, s });
            if i > 0 {
                x = -s * ee[i - 1];
                ee[i - 1] = c * ee[i - 1];
            }
        }
    }
    {
        let (mut uv, mut vv) = (u.view_mut(), v.view_mut());
        bidiagonal_qr(
            &mut dd,
            &ee,
            30 * n,
            |rots| rots.iter().for_each(|r| rotate(&mut uv, r)),
            |rots| rots.iter().for_each(|r| rotate(&mut vv, r)),
        )
        .map_err(|_| DcError::NoConvergence)?;
    }
    for (i, x) in dd.iter_mut().enumerate() {
        if *x < T::zero() {
            *x = -*x;
            v.column_mut(i).map_inplace(|y| *y = -*y);
        }
    }
    Ok(BidiagSvd { s: dd, u, v })
}

/// The poles `dᵢ²`, their differences as `(dᵢ − d_o)(dᵢ + d_o)` (accurate to a few ulps,
/// where `dᵢ² − d_o²` would lose everything for close `dᵢ`, `d_o`).
struct Squares<'a, T>(&'a [T]);

impl<T: Scalar> Poles<T> for Squares<'_, T> {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn offsets(&self, o: usize, out: &mut [T]) {
        let d = self.0;
        let dof = d[o];
        out.iter_mut()
            .zip(d)
            .for_each(|(x, &di)| *x = (di - dof) * (di + dof));
    }
}

/// Merges the SVDs of `B₁` (`p1`, `k × (k+1)`) and `B₂` (`p2`) across the row `(α, β)`.
#[allow(clippy::too_many_arguments)]
fn merge<T: Scalar>(
    op: &'static str,
    l3: &Level3,
    p1: BidiagSvd<T>,
    p2: BidiagSvd<T>,
    alpha: T,
    beta: T,
    sqre: usize,
) -> DcResult<BidiagSvd<T>> {
    let (k, n2) = (p1.s.len(), p2.s.len());
    let n = k + 1 + n2;
    let m = n + sqre;
    let zero = T::zero();
    // Ũ: column 0 is e_k, then U₁ (rows ..k), then U₂ (rows k+1..).
    let mut ut = zeros_f::<T>(op, n, n)?;
    ut[[k, 0]] = T::one();
    assign_2d(&mut ut.slice_mut(s![..k, 1..=k]), p1.u.view());
    assign_2d(&mut ut.slice_mut(s![k + 1.., k + 1..]), p2.u.view());
    // Ṽ: column 0 the rotated null vectors, then V₁'s and V₂'s singular vectors, then (sqre)
    // the new null vector.
    let mut vt = zeros_f::<T>(op, m, m)?;
    assign_2d(&mut vt.slice_mut(s![..=k, 1..=k]), p1.v.slice(s![.., ..k]));
    assign_2d(
        &mut vt.slice_mut(s![k + 1.., k + 1..n]),
        p2.v.slice(s![.., ..n2]),
    );
    let lam = alpha * p1.v[[k, k]];
    let phi = if sqre == 1 {
        beta * p2.v[[0, n2]]
    } else {
        zero
    };
    let r0 = lam.hypot(phi);
    let (c0, s0) = if r0 > zero {
        (lam / r0, phi / r0)
    } else {
        (T::one(), zero)
    };
    let null1 = p1.v.column(k);
    Zip::from(vt.slice_mut(s![..=k, 0]))
        .and(&null1)
        .for_each(|x, &y| *x = c0 * y);
    if sqre == 1 {
        let null2 = p2.v.column(n2);
        Zip::from(vt.slice_mut(s![k + 1.., 0]))
            .and(&null2)
            .for_each(|x, &y| *x = s0 * y);
        Zip::from(vt.slice_mut(s![..=k, n]))
            .and(&null1)
            .for_each(|x, &y| *x = -s0 * y);
        Zip::from(vt.slice_mut(s![k + 1.., n]))
            .and(&null2)
            .for_each(|x, &y| *x = c0 * y);
    }
    let mut z = Vec::with_capacity(n);
    z.push(r0);
    z.extend((0..k).map(|i| alpha * p1.v[[k, i]]));
    z.extend((0..n2).map(|j| beta * p2.v[[0, j]]));
    let mut d = Vec::with_capacity(n);
    d.push(zero);
    d.extend_from_slice(&p1.s);
    d.extend_from_slice(&p2.s);
    let mut urows: Vec<Rows> = (0..n)
        .map(|i| if i <= k { Rows::Top } else { Rows::Bottom })
        .collect();
    let mut vrows = urows.clone();
    if s0 != zero {
        vrows[0] = Rows::Dense;
    }
    // Scale to largest entry 1 (the secular equation works on squares).
    let orgnrm = d
        .iter()
        .fold(alpha.abs().max(beta.abs()), |mx, x| mx.max(x.abs()));
    if orgnrm == zero {
        return Ok(BidiagSvd { s: d, u: ut, v: vt });
    }
    let ds_all: Vec<T> = d.iter().map(|&x| x / orgnrm).collect();
    let mut dsc = ds_all.clone();
    let mut zsc: Vec<T> = z.iter().map(|&x| x / orgnrm).collect();
    let tol = T::of(8.0) * T::EPS;
    if zsc[0].abs() <= tol {
        zsc[0] = tol;
    }
    let mut order: Vec<usize> = (1..n).collect();
    order.sort_by(|&a, &b| {
        dsc[a]
            .partial_cmp(&dsc[b])
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    // Deflation: `kept` are the survivors, index 0 (pole 0) always first.
    let mut kept: Vec<usize> = vec![0];
    deflate(
        &order,
        &mut zsc,
        &mut kept,
        |zj| zj.abs() <= tol,
        |p, j, c, sn| {
            let close = (dsc[j] - dsc[p]).abs() <= tol;
            if close {
                // Rotate columns p, j of Ũ and Ṽ so z_p = 0: (d_p, ũ_p, ṽ_p) is a triplet.
                deflation_rotation(&mut ut, &mut urows, p, j, c, sn);
                deflation_rotation(&mut vt, &mut vrows, p, j, c, sn);
            }
            close
        },
    );
    let kk = kept.len();
    // The smallest non-zero pole at least tol/2 from pole 0 (a perturbation within tol).
    let half_tol = tol * T::of(0.5);
    if kk > 1 && dsc[kept[1]] <= half_tol {
        dsc[kept[1]] = half_tol;
    }
    let mut s_out: Vec<T> = d.clone();
    let ds: Vec<T> = kept.iter().map(|&i| dsc[i]).collect();
    let zs: Vec<T> = kept.iter().map(|&i| zsc[i]).collect();
    if kk == 1 {
        // M restricted to the survivors is [z₀]: σ = z₀, vectors ũ₀, ṽ₀.
        s_out[0] = zs[0] * orgnrm;
        return Ok(BidiagSvd {
            s: s_out,
            u: ut,
            v: vt,
        });
    }
    let zz: T = zs.iter().fold(zero, |s, &x| s + x * x);
    let poles = Squares(&ds);
    let par = kk >= 64 && l3.team.threads() > 1;
    let roots: Vec<(usize, T)> =
        map_indices(par, kk, |j| secular_root(&poles, &zs, T::one(), zz, j));
    // D[i, j] = σⱼ² − dᵢ², accurately: τⱼ − (dᵢ − d_o)(dᵢ + d_o).
    let sq = |i: usize, o: usize| (ds[i] - ds[o]) * (ds[i] + ds[o]);
    let delta = |i: usize, j: usize| roots[j].1 - sq(i, roots[j].0);
    let zhat: Vec<T> = map_indices(par, kk, |i| {
        let w = product_but(kk, i, delta(i, i), |j| delta(i, j) / sq(j, i));
        w.abs().sqrt().copysign(zs[i])
    });
    // vⱼ = (ẑᵢ / (dᵢ² − σⱼ²))ᵢ and uⱼ = (−1, (dᵢ ẑᵢ / (dᵢ² − σⱼ²))ᵢ≥₁), normalised.
    let mut uw = zeros_f::<T>(op, kk, kk)?;
    let mut vw = zeros_f::<T>(op, kk, kk)?;
    let normalise = |col: &mut ArrayViewMut1<T>| {
        let nrm = col.iter().fold(zero, |s, &x| s + x * x).sqrt();
        col.map_inplace(|x| *x = *x / nrm);
    };
    let cols = |(j, (mut uc, mut vc)): (usize, (ArrayViewMut1<T>, ArrayViewMut1<T>))| {
        for i in 0..kk {
            let v = -zhat[i] / delta(i, j);
            vc[i] = v;
            uc[i] = ds[i] * v;
        }
        uc[0] = -T::one();
        normalise(&mut uc);
        normalise(&mut vc);
    };
    if par {
        uw.axis_iter_mut(Axis(1))
            .into_par_iter()
            .zip(vw.axis_iter_mut(Axis(1)))
            .enumerate()
            .for_each(cols);
    } else {
        uw.axis_iter_mut(Axis(1))
            .zip(vw.axis_iter_mut(Axis(1)))
            .enumerate()
            .for_each(cols);
    }
    let ug: Vec<Rows> = kept.iter().map(|&i| urows[i]).collect();
    let vg: Vec<Rows> = kept.iter().map(|&i| vrows[i]).collect();
    let uprod = grouped_product(op, l3, ut.view(), &kept, &ug, k + 1, uw.view())?;
    let vprod = grouped_product(op, l3, vt.view(), &kept, &vg, k + 1, vw.view())?;
    for (c, &i) in kept.iter().enumerate() {
        ut.column_mut(i).assign(&uprod.column(c));
        vt.column_mut(i).assign(&vprod.column(c));
        let (o, tau) = roots[c];
        s_out[i] = (ds[o] * ds[o] + tau).sqrt() * orgnrm;
    }
    Ok(BidiagSvd {
        s: s_out,
        u: ut,
        v: vt,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parallel::level3::Level3;

    /// Dense `n × (n + sqre)` bidiagonal.
    fn dense(d: &[f64], e: &[f64], sqre: usize) -> Array2<f64> {
        let n = d.len();
        let mut b = Array2::zeros((n, n + sqre));
        for i in 0..n {
            b[[i, i]] = d[i];
            if i + 1 < n + sqre {
                b[[i, i + 1]] = e[i];
            }
        }
        b
    }

    /// ‖B − U [Σ 0] Vᵀ‖ / (n ‖B‖ ε), ‖UᵀU − I‖ / (n ε), ‖VᵀV − I‖ / (n ε).
    fn ratios(d: &[f64], e: &[f64], sqre: usize, f: &BidiagSvd<f64>) -> (f64, f64, f64) {
        let n = d.len();
        let b = dense(d, e, sqre);
        let mut us = f.u.clone();
        for j in 0..n {
            us.column_mut(j).map_inplace(|x| *x *= f.s[j]);
        }
        let rec = us.dot(&f.v.slice(s![.., ..n]).t());
        let bn = b
            .iter()
            .fold(0.0f64, |m, x| m.max(x.abs()))
            .max(f64::MIN_POSITIVE);
        let err = (&b - &rec).iter().fold(0.0f64, |m, x| m.max(x.abs()));
        let orth = |q: &Array2<f64>| {
            let g = q.t().dot(q) - Array2::<f64>::eye(q.ncols());
            g.iter().fold(0.0f64, |m, x| m.max(x.abs()))
        };
        let eps = f64::EPSILON;
        let nn = n as f64;
        (
            err / (nn * bn * eps),
            orth(&f.u) / (nn * eps),
            orth(&f.v) / (nn * eps),
        )
    }

    fn check(d: &[f64], e: &[f64], sqre: usize, l3: &Level3) {
        let f = solve("svd", l3, d, e, sqre).unwrap_or_else(|_| panic!("no convergence"));
        let (r, ou, ov) = ratios(d, e, sqre, &f);
        assert!(
            r < 50.0 && ou < 50.0 && ov < 50.0,
            "n {} sqre {sqre}: residual {r}, orth U {ou}, V {ov}",
            d.len()
        );
        assert!(f.s.iter().all(|&x| x >= 0.0));
        if sqre == 1 {
            // The last column of V spans the null space.
            let b = dense(d, e, sqre);
            let bv = b.dot(&f.v.column(d.len()));
            let bn = b
                .iter()
                .fold(0.0f64, |m, x| m.max(x.abs()))
                .max(f64::MIN_POSITIVE);
            let nv = bv.iter().fold(0.0f64, |m, x| m.max(x.abs()));
            assert!(nv <= 50.0 * d.len() as f64 * bn * f64::EPSILON, "null {nv}");
        }
    }

    fn lcg(seed: &mut u64) -> f64 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((*seed >> 11) as f64 / (1u64 << 53) as f64) - 0.5
    }

    /// Two halves equal up to a relative 1e-12: the merge meets pairs of poles that close
    /// (far above the deflation tolerance) with large weights, where `dᵢ² − σⱼ²` formed from
    /// the squares loses all but three digits.
    #[test]
    fn nearly_equal_halves() {
        let l3 = Level3::for_tests(1);
        let mut seed = 11u64;
        for k in [40usize, 70] {
            let d1: Vec<f64> = (0..k).map(|_| lcg(&mut seed) + 1.0).collect();
            let e1: Vec<f64> = (0..k).map(|_| lcg(&mut seed)).collect();
            let f = 1.0 + 1e-12;
            let mut d = d1.clone();
            d.push(0.3);
            d.extend(d1.iter().map(|x| x * f));
            let mut e = e1.clone();
            e.push(0.4);
            e.extend(e1.iter().map(|x| x * f));
            check(&d, &e, 1, &l3);
            check(&d, &e[..2 * k], 0, &l3);
        }
    }

    #[test]
    fn random_graded_repeated_and_zero() {
        for threads in [1, 2] {
            let l3 = Level3::for_tests(threads);
            let mut seed = 7u64;
            for &n in &[33usize, 40, 65, 100, 150] {
                for sqre in [0usize, 1] {
                    let ne = n - 1 + sqre;
                    // Random.
                    let d: Vec<f64> = (0..n).map(|_| lcg(&mut seed)).collect();
                    let e: Vec<f64> = (0..ne).map(|_| lcg(&mut seed)).collect();
                    check(&d, &e, sqre, &l3);
                    // Graded over 30 orders of magnitude.
                    let g: Vec<f64> = (0..n)
                        .map(|i| 10f64.powf(-30.0 * i as f64 / n as f64))
                        .collect();
                    let eg: Vec<f64> = (0..ne).map(|i| g[i.min(n - 1)] * 0.7).collect();
                    check(&g, &eg, sqre, &l3);
                    // Repeated values, tiny couplings (heavy deflation).
                    let r: Vec<f64> = (0..n).map(|i| 1.0 + (i % 3) as f64).collect();
                    let er: Vec<f64> = (0..ne)
                        .map(|i| if i % 5 == 0 { 1e-18 } else { 0.0 })
                        .collect();
                    check(&r, &er, sqre, &l3);
                    // Zeros on the diagonal (rank deficient) and an all-zero matrix.
                    let mut dz = d.clone();
                    for i in (0..n).step_by(7) {
                        dz[i] = 0.0;
                    }
                    check(&dz, &e, sqre, &l3);
                    check(&vec![0.0; n], &vec![0.0; ne], sqre, &l3);
                    // Glued copies of one block: clusters of singular values split by
                    // about the glue (1e-13), far above the deflation tolerance.
                    let blk: Vec<f64> = (0..10).map(|_| lcg(&mut seed) + 1.0).collect();
                    let gd: Vec<f64> = (0..n).map(|i| blk[i % 10]).collect();
                    let ge: Vec<f64> = (0..ne)
                        .map(|i| {
                            if i % 10 == 9 {
                                1e-13
                            } else {
                                0.5 * blk[(i + 3) % 10]
                            }
                        })
                        .collect();
                    check(&gd, &ge, sqre, &l3);
                    // All ones (clustered singular values near 2).
                    check(&vec![1.0; n], &vec![1.0; ne], sqre, &l3);
                }
            }
        }
    }
}
