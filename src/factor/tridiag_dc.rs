//! Eigenvalues and eigenvectors of a symmetric tridiagonal matrix by divide and conquer
//! (Cuppen's method with the deflation of Dongarra–Sorensen and the orthogonal eigenvectors of
//! Gu–Eisenstat; the algorithm behind LAPACK `stedc`).
//!
//! ```text
//! T = [T₁ 0; 0 T₂] + ρ v vᵀ           v = e_{k−1} ± e_k, ρ = |T[k, k−1]| (subtracted from d[k−1], d[k])
//! T₁ = Q₁ Λ₁ Q₁ᵀ, T₂ = Q₂ Λ₂ Q₂ᵀ        recursion (the halves in parallel); small blocks: implicit QL
//! T = Q (D + ρ z zᵀ) Qᵀ               Q = diag(Q₁, Q₂), D = diag(Λ₁, Λ₂), z = Qᵀ v
//! deflate: ρ|zᵢ| ≤ tol → (dᵢ, qᵢ) is an eigenpair; close dᵢ, dⱼ → a rotation zeroes zᵢ
//! the K others: roots λⱼ of 1 + ρ Σ zᵢ²/(dᵢ − λ) by a safeguarded rational iteration on
//!     λ − d_origin (origin: the nearer pole, so every difference dᵢ − λⱼ is known to high
//!     relative accuracy)
//! ẑᵢ² = Πⱼ(λⱼ − dᵢ) / (ρ Πⱼ≠ᵢ(dⱼ − dᵢ))   (Gu–Eisenstat: the z for which the λⱼ are exact)
//! uⱼ = (ẑᵢ / (dᵢ − λⱼ))ᵢ normalised;  eigenvectors Q[:, K] · U     one GEMM on the engine
//! ```

use ndarray::{s, Array2, ArrayView2, ArrayViewMut1, ArrayViewMut2, Axis, Zip};
use rayon::prelude::*;

use crate::alloc::{assign_2d, zeros_f};
use crate::error::Result;
use crate::kernels::tridiag_eig::tridiagonal_ql;
use crate::parallel::level3::Level3;
use crate::scalar::Scalar;

/// Order at or below which a block is solved by implicit QL directly (LAPACK's `SMLSIZ` is 25). Chosen, not yet tuned (`cargo run --release --example spectral_engines` is the benchmark to
/// tune it with).
pub(crate) const DC_BASE: usize = 32;

/// Order from which the two halves are solved in parallel (below it a fork costs more than
/// the work it shares). Chosen, not yet tuned (`cargo run --release --example spectral_engines` is the benchmark to
/// tune it with).
pub(crate) const DC_PARALLEL_MIN: usize = 128;

/// Steps allowed per root (rational or bisection; bisection alone needs about
/// `log₂(gap/τ) + 53` in f64).
const MAX_BISECTIONS: usize = 400;

/// The result of divide and conquer.
pub(crate) type DcResult<T> = std::result::Result<T, DcError>;

/// Why divide and conquer failed.
#[derive(Debug)]
pub(crate) enum DcError {
    /// The QL iteration of a base block did not converge.
    NoConvergence,
    /// Allocation or GEMM failure.
    Other(crate::error::Error),
}

impl From<crate::error::Error> for DcError {
    fn from(e: crate::error::Error) -> Self {
        DcError::Other(e)
    }
}

/// `(λ ascending, Q)` with `T = Q diag(λ) Qᵀ` for `T = tridiag(e, d, e)`.
pub(crate) fn tridiagonal_dc<T: Scalar>(
    op: &'static str,
    l3: &Level3,
    d: &[T],
    e: &[T],
) -> DcResult<(Vec<T>, Array2<T>)> {
    let n = d.len();
    if n <= DC_BASE {
        return base(op, d, e);
    }
    let k = n / 2;
    let rho_signed = e[k - 1];
    let rho = rho_signed.abs();
    let sign = if rho_signed < T::zero() {
        -T::one()
    } else {
        T::one()
    };
    let mut d1 = d[..k].to_vec();
    let mut d2 = d[k..].to_vec();
    d1[k - 1] = d1[k - 1] - rho;
    d2[0] = d2[0] - rho;
    let (e1, e2) = (&e[..k - 1], &e[k..]);
    let (r1, r2) = if n >= DC_PARALLEL_MIN && l3.team.threads() > 1 {
        rayon::join(
            || tridiagonal_dc(op, l3, &d1, e1),
            || tridiagonal_dc(op, l3, &d2, e2),
        )
    } else {
        (
            tridiagonal_dc(op, l3, &d1, e1),
            tridiagonal_dc(op, l3, &d2, e2),
        )
    };
    let ((l1, q1), (l2, q2)) = (r1?, r2?);
    // Q = diag(Q₁, Q₂), z = Qᵀ (e_{k−1} + sign e_k).
    let mut q = zeros_f::<T>(op, n, n)?;
    assign_2d(&mut q.slice_mut(s![..k, ..k]), q1.view());
    assign_2d(&mut q.slice_mut(s![k.., k..]), q2.view());
    let mut z: Vec<T> = q1.row(k - 1).to_vec();
    z.extend(q2.row(0).iter().map(|&x| sign * x));
    let mut dd = l1;
    dd.extend(l2);
    merge(op, l3, dd, z, rho, q, k)
}

/// Implicit QL with the rotations applied directly, then sorted ascending.
fn base<T: Scalar>(op: &'static str, d: &[T], e: &[T]) -> DcResult<(Vec<T>, Array2<T>)> {
    let n = d.len();
    let mut w = d.to_vec();
    let mut z = zeros_f::<T>(op, n, n)?;
    z.diag_mut().fill(T::one());
    tridiagonal_ql(&mut w, e, 30 * n.max(1), |rots| {
        for r in rots {
            let (mut x, mut y) = z.multi_slice_mut((s![.., r.i], s![.., r.k]));
            Zip::from(&mut x).and(&mut y).for_each(|a, b| {
                let (p, q) = (*a, *b);
                *a = r.c * p + r.s * q;
                *b = r.c * q - r.s * p;
            });
        }
    })
    .map_err(|_| DcError::NoConvergence)?;
    Ok(sorted(op, w, z.view_mut())?)
}

/// Values ascending with their columns.
fn sorted<T: Scalar>(
    op: &'static str,
    w: Vec<T>,
    z: ArrayViewMut2<T>,
) -> Result<(Vec<T>, Array2<T>)> {
    let n = w.len();
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by(|&a, &b| w[a].partial_cmp(&w[b]).unwrap_or(std::cmp::Ordering::Equal));
    let mut out = zeros_f::<T>(op, z.nrows(), n)?;
    for (j, &i) in idx.iter().enumerate() {
        out.column_mut(j).assign(&z.column(i));
    }
    Ok((idx.iter().map(|&i| w[i]).collect(), out))
}

/// Which rows of a column of `Q = diag(Q₁, Q₂)` may be non-zero.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Rows {
    /// The first `k` rows only (a column of `Q₁`).
    Top,
    /// All rows (a deflation rotation mixed a column of `Q₁` with one of `Q₂`).
    Dense,
    /// The last `n − k` rows only (a column of `Q₂`).
    Bottom,
}

/// The deflation sweep of a divide-and-conquer merge, over the poles in ascending `order`:
/// pole `j` is dropped when `negligible(z[j])`; of two neighbouring survivors `p < j` (in
/// `order`), with `r = hypot(z_p, z_j)`, `c = z_j / r`, `s = z_p / r`, `rotate(p, j, c, s)`
/// says whether the rotation that zeroes `z_p` deflates `p` (and then applies it to what the
/// caller holds: poles, vectors, row groups); `z` is rotated here. Every survivor is pushed
/// onto `kept`, in ascending order.
pub(crate) fn deflate<T: Scalar>(
    order: &[usize],
    z: &mut [T],
    kept: &mut Vec<usize>,
    negligible: impl Fn(T) -> bool,
    mut rotate: impl FnMut(usize, usize, T, T) -> bool,
) {
    let mut prev: Option<usize> = None;
    for &j in order {
        if negligible(z[j]) {
            continue;
        }
        if let Some(p) = prev {
            let r = z[p].hypot(z[j]);
            let (c, sn) = (z[j] / r, z[p] / r);
            if rotate(p, j, c, sn) {
                z[j] = r;
                z[p] = T::zero();
                prev = Some(j);
                continue;
            }
            kept.push(p);
        }
        prev = Some(j);
    }
    if let Some(p) = prev {
        kept.push(p);
    }
}

/// Columns `p`, `j` of `q` ← `(c q_p − s q_j, s q_p + c q_j)`, and both marked Dense in
/// `rows` when they came from different halves.
pub(crate) fn deflation_rotation<T: Scalar>(
    q: &mut Array2<T>,
    rows: &mut [Rows],
    p: usize,
    j: usize,
    c: T,
    sn: T,
) {
    let (mut qp, mut qj) = q.multi_slice_mut((s![.., p], s![.., j]));
    Zip::from(&mut qp).and(&mut qj).for_each(|a, b| {
        let (x, y) = (*a, *b);
        *a = c * x - sn * y;
        *b = sn * x + c * y;
    });
    if rows[p] != rows[j] {
        rows[p] = Rows::Dense;
        rows[j] = Rows::Dense;
    }
}

/// `(f(0), …, f(n − 1))`, over the current rayon pool when `par`.
pub(crate) fn map_indices<R: Send>(
    par: bool,
    n: usize,
    f: impl Fn(usize) -> R + Sync + Send,
) -> Vec<R> {
    if par {
        (0..n).into_par_iter().map(f).collect()
    } else {
        (0..n).map(f).collect()
    }
}

/// `first · Πⱼ≠ᵢ ratio(j)` over `j < n`, in four partial products (independent multiply
/// chains): the Löwner product of the Gu–Eisenstat ẑᵢ.
pub(crate) fn product_but<T: Scalar>(
    n: usize,
    i: usize,
    first: T,
    ratio: impl Fn(usize) -> T,
) -> T {
    let mut w = [first, T::one(), T::one(), T::one()];
    for j in (0..n).filter(|&j| j != i) {
        w[j % 4] = w[j % 4] * ratio(j);
    }
    (w[0] * w[1]) * (w[2] * w[3])
}

/// `Q[:, cols] · W` for `W` of order `cols.len()`, where column `cols[c]` of `Q` is zero
/// below row `split` (`groups[c]` Top), above it (Bottom), or neither (Dense): two GEMMs over
/// the non-zero blocks (LAPACK `laed3`'s grouping; half the flops of one product when few
/// columns are Dense). The result has `Q`'s rows and `W`'s columns.
pub(crate) fn grouped_product<T: Scalar>(
    op: &'static str,
    l3: &Level3,
    q: ArrayView2<T>,
    cols: &[usize],
    groups: &[Rows],
    split: usize,
    w: ArrayView2<T>,
) -> Result<Array2<T>> {
    let (n, kk) = (q.nrows(), cols.len());
    // The columns ordered Top, Dense, Bottom (stable within a group), W's rows with them.
    let mut perm: Vec<usize> = (0..kk).collect();
    perm.sort_by_key(|&c| groups[c]);
    let top = groups.iter().filter(|&&g| g == Rows::Top).count();
    let bottom = groups.iter().filter(|&&g| g == Rows::Bottom).count();
    let mut qk = zeros_f::<T>(op, n, kk)?;
    let mut wp = zeros_f::<T>(op, kk, kk)?;
    for (r, &c) in perm.iter().enumerate() {
        assign_2d(
            &mut qk.slice_mut(s![.., r..r + 1]),
            q.slice(s![.., cols[c]..cols[c] + 1]),
        );
    }
    // Row permutation of W, a gather within each column (W is column-major).
    for (mut to, from) in wp.columns_mut().into_iter().zip(w.columns()) {
        to.iter_mut().zip(&perm).for_each(|(x, &c)| *x = from[c]);
    }
    let mut prod = zeros_f::<T>(op, n, kk)?;
    let (upper, lower) = (kk - bottom, top);
    l3.gemm(
        op,
        T::one(),
        qk.slice(s![..split, ..upper]),
        wp.slice(s![..upper, ..]),
        T::zero(),
        &mut prod.slice_mut(s![..split, ..]),
    )?;
    l3.gemm(
        op,
        T::one(),
        qk.slice(s![split.., lower..]),
        wp.slice(s![lower.., ..]),
        T::zero(),
        &mut prod.slice_mut(s![split.., ..]),
    )?;
    Ok(prod)
}

/// Eigen-decomposition of `Q (D + ρ z zᵀ) Qᵀ` (`ρ ≥ 0`, `D` in two ascending runs, `Q =
/// diag(Q₁, Q₂)` with `Q₁` of order `k`). The eigenvector product `Q[:, kept] U` is two GEMMs
/// (LAPACK `laed3`'s grouping): the kept columns ordered Top, Dense, Bottom, rows `..k` take
/// the Top and Dense ones, rows `k..` the Dense and Bottom ones, so the zero blocks of `Q` are
/// skipped (half the flops when few columns are mixed).
fn merge<T: Scalar>(
    op: &'static str,
    l3: &Level3,
    d: Vec<T>,
    z: Vec<T>,
    rho: T,
    mut q: Array2<T>,
    k: usize,
) -> DcResult<(Vec<T>, Array2<T>)> {
    let n = d.len();
    let eps = T::EPS;
    // ‖z‖ = 1 (each half of z is a row of an orthogonal matrix: ‖z‖² = 2 up to rounding).
    let znorm = z.iter().fold(T::zero(), |s, &x| s + x * x).sqrt();
    let (z, rho) = if znorm > T::zero() {
        (
            z.iter().map(|&x| x / znorm).collect::<Vec<T>>(),
            rho * znorm * znorm,
        )
    } else {
        (z, T::zero())
    };
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| d[a].partial_cmp(&d[b]).unwrap_or(std::cmp::Ordering::Equal));
    let dmax = d.iter().fold(T::zero(), |m, x| m.max(x.abs()));
    let tol = T::of(8.0) * eps * dmax.max(rho);
    let mut d = d;
    let mut z = z;
    let mut rows: Vec<Rows> = (0..n)
        .map(|i| if i < k { Rows::Top } else { Rows::Bottom })
        .collect();
    // Deflation, over the values in ascending order: `kept` are the survivors.
    let mut kept: Vec<usize> = Vec::with_capacity(n);
    deflate(
        &order,
        &mut z,
        &mut kept,
        |zj| rho * zj.abs() <= tol,
        |p, j, c, sn| {
            let close = ((d[j] - d[p]) * c * sn).abs() <= tol;
            if close {
                // Rotate columns p, j of Q so z_p = 0: p becomes an eigenpair.
                let (dp, dj) = (d[p], d[j]);
                d[p] = dp * c * c + dj * sn * sn;
                d[j] = dp * sn * sn + dj * c * c;
                deflation_rotation(&mut q, &mut rows, p, j, c, sn);
            }
            close
        },
    );
    let kk = kept.len();
    let mut lambda = d.clone();
    if kk > 0 {
        let ds: Vec<T> = kept.iter().map(|&i| d[i]).collect();
        let zs: Vec<T> = kept.iter().map(|&i| z[i]).collect();
        let zz: T = zs.iter().fold(T::zero(), |s, &x| s + x * x);
        // Roots: (origin index, τ) with λⱼ = d[origin] + τ.
        let poles = Plain(&ds);
        // O(K²) divisions each for the roots, ẑ and U: split over the team.
        let par = kk >= 64 && l3.team.threads() > 1;
        let roots: Vec<(usize, T)> =
            map_indices(par, kk, |j| secular_root(&poles, &zs, rho, zz, j));
        // Δ[i, j] = λⱼ − dᵢ, accurately: (d_origin(j) − dᵢ) + τⱼ.
        let delta = |i: usize, j: usize| (ds[roots[j].0] - ds[i]) + roots[j].1;
        // Gu–Eisenstat ẑ.
        let zhat: Vec<T> = map_indices(par, kk, |i| {
            let w = product_but(kk, i, delta(i, i), |j| delta(i, j) / (ds[j] - ds[i]));
            let mag = (w.abs() / rho).sqrt();
            mag.copysign(zs[i])
        });
        // U[i, j] = ẑᵢ / (dᵢ − λⱼ), columns normalised.
        let mut u = zeros_f::<T>(op, kk, kk)?;
        let u_col = |(j, mut col): (usize, ArrayViewMut1<T>)| {
            for (i, x) in col.iter_mut().enumerate() {
                *x = -zhat[i] / delta(i, j);
            }
            let nrm = col.iter().fold(T::zero(), |s, &x| s + x * x).sqrt();
            col.map_inplace(|x| *x = *x / nrm);
        };
        if par {
            u.axis_iter_mut(Axis(1))
                .into_par_iter()
                .enumerate()
                .for_each(u_col);
        } else {
            u.axis_iter_mut(Axis(1)).enumerate().for_each(u_col);
        }
        let groups: Vec<Rows> = kept.iter().map(|&i| rows[i]).collect();
        let prod = grouped_product(op, l3, q.view(), &kept, &groups, k, u.view())?;
        for (c, &i) in kept.iter().enumerate() {
            q.column_mut(i).assign(&prod.column(c));
            lambda[i] = ds[roots[c].0] + roots[c].1;
        }
    }
    Ok(sorted(op, lambda, q.view_mut())?)
}

/// Lanes of the secular-function sums (independent accumulators, so the divisions vectorise).
const SEC_LANES: usize = 8;

/// `(Σ zᵢ²/δᵢ, Σ zᵢ²/δᵢ²)` with `δᵢ = offᵢ − τ` (`offᵢ`: pole `i` minus the origin), over
/// the given poles.
fn pole_sums<T: Scalar>(off: &[T], z: &[T], tau: T) -> (T, T) {
    let len = off.len().min(z.len());
    let (off, z) = (&off[..len], &z[..len]);
    let (mut f, mut df) = ([T::zero(); SEC_LANES], [T::zero(); SEC_LANES]);
    let split = len - len % SEC_LANES;
    for (oc, zc) in off[..split]
        .chunks_exact(SEC_LANES)
        .zip(z[..split].chunks_exact(SEC_LANES))
    {
        for k in 0..SEC_LANES {
            let t = zc[k] / (oc[k] - tau);
            f[k] = f[k] + zc[k] * t;
            df[k] = df[k] + t * t;
        }
    }
    for i in split..len {
        let t = z[i] / (off[i] - tau);
        f[i - split] = f[i - split] + z[i] * t;
        df[i - split] = df[i - split] + t * t;
    }
    let add = |a: [T; SEC_LANES]| a.iter().fold(T::zero(), |s, &x| s + x);
    (add(f), add(df))
}

/// The poles `p₀ < p₁ < …` of a secular equation as seen from one of them.
pub(crate) trait Poles<T>: Sync {
    /// How many poles.
    fn len(&self) -> usize;
    /// `out[i] = pᵢ − p_o` for every pole, to high relative accuracy.
    fn offsets(&self, o: usize, out: &mut [T]);
}

/// Poles given directly (`pᵢ = dᵢ`): the eigenvalue problem `D + ρ z zᵀ`.
pub(crate) struct Plain<'a, T>(pub &'a [T]);

impl<T: Scalar> Poles<T> for Plain<'_, T> {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn offsets(&self, o: usize, out: &mut [T]) {
        let d = self.0;
        out.iter_mut().zip(d).for_each(|(x, &di)| *x = di - d[o]);
    }
}

/// The `j`-th root of `f(μ) = 1 + ρ Σ zᵢ²/(pᵢ − μ)` (poles `p` strictly ascending, `ρ > 0`,
/// `zᵢ ≠ 0`, `zz = Σ zᵢ²`), as `(origin, τ)` with `μ = p[origin] + τ`: it lies in
/// `(pⱼ, pⱼ₊₁)`, or in `(p_K, p_K + ρ zz]` for the last one. Every difference `pᵢ − μ` is then
/// `offsets(origin)[i] − τ`, to high relative accuracy.
///
/// The origin is the nearer pole (decided by the sign of `f` at the middle of the interval).
/// Then a safeguarded rational iteration (the "fixed weight" scheme of LAPACK `laed4`): at the
/// current `τ`, the poles at or left of `pⱼ` (sum `ψ`) are modelled by one pole at `pⱼ` and
/// those right of it (`φ`) by one at `pⱼ₊₁`, each matching value and slope; the model's root
/// (a quadratic) is the next iterate, unless it leaves the bracket kept from the signs of `f`
/// (`f` increases between poles), where bisection is used instead. It stops when `|f|` is
/// below its rounding error, `ε (8(φ − ψ) + 2 + |τ| f')` — a few steps, where bisection took
/// about 60.
pub(crate) fn secular_root<T: Scalar, P: Poles<T>>(
    poles: &P,
    z: &[T],
    rho: T,
    zz: T,
    j: usize,
) -> (usize, T) {
    let kk = poles.len();
    let (half, one, two) = (T::of(0.5), T::one(), T::of(2.0));
    let eps = T::EPS;
    let mut off = vec![T::zero(); kk];
    poles.offsets(j, &mut off);
    // (ψ, ψ', φ, φ') relative to the origin of `off`.
    let parts = |off: &[T], tau: T| {
        let (ps, dps) = pole_sums(&off[..=j], &z[..=j], tau);
        let (ph, dph) = pole_sums(&off[j + 1..], &z[j + 1..], tau);
        (rho * ps, rho * dps, rho * ph, rho * dph)
    };
    let (o, mut lo, mut hi) = if j + 1 < kk {
        let gap = off[j + 1];
        let (psi, _, phi, _) = parts(&off, gap * half);
        if one + psi + phi >= T::zero() {
            (j, T::zero(), gap * half)
        } else {
            poles.offsets(j + 1, &mut off);
            (j + 1, -gap * half, T::zero())
        }
    } else {
        (j, T::zero(), rho * zz)
    };
    let mut tau = (lo + hi) * half;
    for _ in 0..MAX_BISECTIONS {
        let (psi, dpsi, phi, dphi) = parts(&off, tau);
        let f = one + psi + phi;
        let err = eps * (T::of(8.0) * (phi - psi) + two + tau.abs() * (dpsi + dphi));
        if f.abs() <= err {
            break;
        }
        if f > T::zero() {
            hi = tau;
        } else {
            lo = tau;
        }
        // The model's root η (as a step from τ) between the two modelled poles.
        let dl = off[j] - tau;
        let step = if j + 1 < kk {
            let dr = off[j + 1] - tau;
            let (b, c) = (dpsi * dl * dl, dphi * dr * dr);
            let a = one + (psi - dpsi * dl) + (phi - dphi * dr);
            // a η² − bq η + cq = 0.
            let bq = a * (dl + dr) + b + c;
            let cq = dl * dr * f;
            let disc = (bq * bq - T::of(4.0) * a * cq).max(T::zero()).sqrt();
            let (r1, r2) = if bq >= T::zero() {
                ((bq + disc) / (two * a), two * cq / (bq + disc))
            } else {
                ((bq - disc) / (two * a), two * cq / (bq - disc))
            };
            [r1, r2].into_iter().find(|&eta| eta > dl && eta < dr)
        } else {
            // The last root: no pole on the right (φ = 0).
            let b = dpsi * dl * dl;
            let a = one + (psi - dpsi * dl);
            (a > T::zero()).then(|| dl + b / a)
        };
        let next = step
            .map(|eta| tau + eta)
            .filter(|t| *t > lo && *t < hi)
            .unwrap_or((lo + hi) * half);
        if next == tau || next <= lo || next >= hi {
            break;
        }
        tau = next;
    }
    (o, tau)
}
