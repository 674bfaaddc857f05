//! Householder reduction of a symmetric matrix to tridiagonal form, `A = Q T Qᵀ`
//! (LAPACK `sytrd` / `latrd` / `sytd2`, lower triangle), blocked so that half the flops are
//! GEMMs on the engine.
//!
//! ```text
//! for each panel of NB columns at j₀ (while more than 2·NB columns remain):
//!     for each column c of the panel:
//!         A[c.., c] −= V Wᵀ + W Vᵀ (row c of the earlier panel columns)     (bring column c up to date)
//!         H_c = I − τ v vᵀ maps A[c+1.., c] onto β e₁                     (larfg conventions, v₀ = 1)
//!         w = τ (A₂₂ − V Wᵀ − W Vᵀ) v, A₂₂ as at the panel start           (symmetric matrix-vector product,
//!         w ← w − ½ τ (wᵀv) v                                               in parallel blocks of columns)
//!     A_trailing −= V Wᵀ + W Vᵀ                 (rank-2·NB update, lower triangle: one GEMMT [V W][W V]ᵀ)
//! the last columns: unblocked (the same step with the rank-2 update applied at once)
//! Q = H₀ H₁ … H_{n−2}
//! ```
//! Only the lower triangle of the column-major work matrix is read (the GEMMT of engine
//! `rayon-blas` also writes parts of the upper one, which is scratch); the vectors `v` stay below the subdiagonal, QR-style, for
//! [`apply_reflectors`](super::orthogonal::apply_reflectors).

use ndarray::{s, Array2, ArrayViewMut2, Axis};
use rayon::prelude::*;

use crate::alloc::zeros_f;
use crate::error::Result;
use crate::factor::gemmt_lower;
use crate::kernels::cols4::{prefetch, symv4, COLS};
use crate::kernels::reflector::householder;
use crate::kernels::simd1::{axpy, dot, dot_axpy, Fma};

use super::columns::{combine_columns_into, dots_by_column};
use crate::parallel::level3::Level3;
use crate::scalar::Scalar;

/// Panel width of the blocked reduction (the depth of the trailing GEMMs; QR's panel width). Chosen, not yet tuned (`cargo run --release --example spectral_engines` is the benchmark to
/// tune it with).
pub(crate) const TRD_NB: usize = 32;

/// Order of the trailing matrix from which its matrix-vector product is split over threads. Chosen, not yet tuned (`cargo run --release --example spectral_engines` is the benchmark to
/// tune it with).
const SYMV_PARALLEL_MIN: usize = 256;

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
/// square `a`, in place, with panels of `nb` columns (`nb = 0`: unblocked).
pub(crate) fn tridiagonalize<T: Scalar>(
    op: &'static str,
    l3: &Level3,
    a: &mut Array2<T>,
    nb: usize,
) -> Result<Tridiagonal<T>> {
    let n = a.nrows();
    let fma = Fma::detect();
    let mut e = vec![T::zero(); n.saturating_sub(1)];
    let mut tau = vec![T::zero(); n.saturating_sub(1)];
    let mut j0 = 0;
    if nb > 0 {
        // [V W] and [W V], column-major: the trailing update is one GEMMT of depth 2·nb.
        let mut vw = zeros_f::<T>(op, n, 2 * nb)?;
        let mut wv = zeros_f::<T>(op, n, 2 * nb)?;
        while n - j0 > 2 * nb {
            vw.fill(T::zero());
            let (vp, wp) = vw.view_mut().split_at(Axis(1), nb);
            panel(l3, a, j0, nb, vp, wp, &mut e, &mut tau, fma);
            let r = j0 + nb;
            {
                // Column by column (ndarray's assign walked these column-major slices by rows).
                let src = vw.as_slice_memory_order().expect("contiguous");
                let dst = wv.as_slice_memory_order_mut().expect("contiguous");
                for t in 0..2 * nb {
                    let from = (t + nb) % (2 * nb);
                    dst[t * n + r..(t + 1) * n].copy_from_slice(&src[from * n + r..(from + 1) * n]);
                }
            }
            let mut c = a.slice_mut(s![r.., r..]);
            gemmt_lower(l3, op, vw.slice(s![r.., ..]), wv.slice(s![r.., ..]), &mut c)?;
            j0 = r;
        }
    }
    unblocked(l3, fma, a, j0, &mut e, &mut tau);
    let d = (0..n).map(|i| a[[i, i]]).collect();
    Ok(Tridiagonal { d, e, tau })
}

/// `w ← A₂₂ v` for the lower-stored symmetric `A₂₂` = rows/columns `off..n` of the column-major
/// `data` (leading dimension `n`): column `c` contributes its dot product to `w[c]` and its
/// below-diagonal part times `v[c]` to `w[c+1..]`. Cut into column blocks of equal area, one
/// partial `w` per thread, when large.
fn symv_lower<T: Scalar>(
    threads: usize,
    fma: Fma,
    data: &[T],
    n: usize,
    off: usize,
    v: &[T],
    w: &mut [T],
) {
    let m = n - off;
    // Rows off.. of column off + c, indexed by local row.
    let col = |c: usize| &data[(off + c) * n + off..(off + c + 1) * n];
    // Columns c0..c1 into `w`, which holds rows `base..m` (base ≤ c0).
    let cols_at = |c0: usize, c1: usize, base: usize, w: &mut [T]| {
        let mut c = c0;
        // COLS columns per pass: their diagonal block entry by entry, then the rows
        // below it in one sweep.
        while c + COLS <= c1 {
            let r0 = c + COLS;
            let cols: [&[T]; COLS] = std::array::from_fn(|j| &col(c + j)[c..]);
            let alpha: [T; COLS] = std::array::from_fn(|j| v[c + j]);
            // The lower triangle of the diagonal block, as fixed-size arrays (unrolled, no
            // bounds checks; it was a quarter of the product's time at n = 512).
            let mut add = [T::zero(); COLS];
            for j in 0..COLS {
                add[j] = add[j] + cols[j][j] * alpha[j];
                for r in j + 1..COLS {
                    add[j] = add[j] + cols[j][r] * alpha[r];
                    add[r] = add[r] + cols[j][r] * alpha[j];
                }
            }
            // The next group's column heads (two lines each), fetched while this one runs.
            if r0 + COLS <= c1 {
                for j in 0..COLS {
                    let head = &col(r0 + j)[r0..];
                    prefetch(&head[0]);
                    if let Some(x) = head.get(64 / size_of::<T>()) {
                        prefetch(x);
                    }
                }
            }
            let below: [&[T]; COLS] = std::array::from_fn(|j| &cols[j][COLS..]);
            let s = symv4(fma, below, &v[r0..], alpha, &mut w[r0 - base..]);
            for j in 0..COLS {
                w[c + j - base] = w[c + j - base] + add[j] + s[j];
            }
            c = r0;
        }
        for c in c..c1 {
            let (diag, below) = col(c)[c..].split_first().expect("c < m");
            let s = dot_axpy(fma, below, &v[c + 1..], v[c], &mut w[c + 1 - base..]);
            w[c - base] = w[c - base] + *diag * v[c] + s;
        }
    };
    let cols = |c0: usize, c1: usize, w: &mut [T]| cols_at(c0, c1, 0, w);
    let cols_into = |c0: usize, c1: usize, w: &mut [T]| cols_at(c0, c1, c0, w);
    w.fill(T::zero());
    if threads <= 1 || m < SYMV_PARALLEL_MIN {
        cols(0, m, w);
        return;
    }
    // Column c holds m − c entries: split the triangle's area evenly.
    let total = (m * (m + 1) / 2) as f64;
    let mut bounds = vec![0];
    for t in 1..threads {
        let target = total * t as f64 / threads as f64;
        // Area of columns 0..c: c·m − c(c−1)/2 = target.
        let mf = m as f64 + 0.5;
        let c = (mf - (mf * mf - 2.0 * target).max(0.0).sqrt()) as usize;
        bounds.push(c.clamp(*bounds.last().unwrap_or(&0), m));
    }
    bounds.push(m);
    // The first block writes `w` itself (on this thread); every other one a partial vector,
    // which only has entries from its first column down.
    let partials: Vec<(usize, Vec<T>)> = rayon::join(
        || cols(bounds[0], bounds[1], w),
        || {
            bounds[1..]
                .windows(2)
                .collect::<Vec<_>>()
                .into_par_iter()
                .map(|b| {
                    let mut p = vec![T::zero(); m - b[0]];
                    cols_into(b[0], b[1], &mut p);
                    (b[0], p)
                })
                .collect()
        },
    )
    .1;
    for (c0, p) in partials {
        w[c0..].iter_mut().zip(p).for_each(|(x, y)| *x = *x + y);
    }
}

/// One panel of [`TRD_NB`]-style blocked reduction: columns `j0..j0+nb` reduced, their vectors
/// in `vp` (explicit unit and zeros above) and `wp`, the trailing matrix not yet updated.
#[allow(clippy::too_many_arguments)]
fn panel<T: Scalar>(
    l3: &Level3,
    a: &mut Array2<T>,
    j0: usize,
    nb: usize,
    mut vp: ArrayViewMut2<T>,
    mut wp: ArrayViewMut2<T>,
    e: &mut [T],
    tau: &mut [T],
    fma: Fma,
) {
    let n = a.nrows();
    let half = T::of(0.5);
    let data = a
        .as_slice_memory_order_mut()
        .expect("the work matrix is contiguous");
    let vdat = vp.as_slice_memory_order_mut().expect("contiguous");
    let wdat = wp.as_slice_memory_order_mut().expect("contiguous");
    let mut v = vec![T::zero(); n];
    let mut w = vec![T::zero(); n];
    let mut y = vec![T::zero(); nb];
    let mut x = vec![T::zero(); nb];
    // −W[c, ..i] and −V[c, ..i] of the column being brought up to date.
    let mut wc = vec![T::zero(); nb];
    let mut vc = vec![T::zero(); nb];
    let threads = l3.team.threads();
    for i in 0..nb {
        let c = j0 + i;
        // Bring column c (rows c..n) up to date with the panel's earlier columns:
        // A[c.., c] −= V[c.., ..i] W[c, ..i]ᵀ + W[c.., ..i] V[c, ..i]ᵀ, four columns per pass.
        if i > 0 {
            let col = &mut data[c * n + c..(c + 1) * n];
            let (wc, vc) = (&mut wc[..i], &mut vc[..i]);
            for (t, (w, v)) in wc.iter_mut().zip(vc.iter_mut()).enumerate() {
                *w = -wdat[t * n + c];
                *v = -vdat[t * n + c];
            }
            combine_columns_into(fma, threads, vdat, n, c, 0, wc, col);
            combine_columns_into(fma, threads, wdat, n, c, 0, vc, col);
        }
        let col = &mut data[c * n + c + 1..(c + 1) * n];
        let (alpha, xs) = col.split_first_mut().expect("c + 1 < n");
        let (beta, t) = householder(*alpha, xs);
        *alpha = beta;
        e[c] = beta;
        tau[c] = t;
        let m = n - c - 1;
        let v = &mut v[..m];
        v[0] = T::one();
        v[1..].copy_from_slice(xs);
        vdat[i * n + c + 1..(i + 1) * n].copy_from_slice(v);
        if t == T::zero() {
            continue;
        }
        let w = &mut w[..m];
        symv_lower(threads, fma, data, n, c + 1, v, w);
        // w −= V (Wᵀ v) + W (Vᵀ v) over the panel's earlier columns, rows c+1..n.
        if i > 0 {
            let (y, x) = (&mut y[..i], &mut x[..i]);
            dots_by_column(fma, threads, wdat, n, c + 1, 0, v, y);
            dots_by_column(fma, threads, vdat, n, c + 1, 0, v, x);
            y.iter_mut().chain(x.iter_mut()).for_each(|z| *z = -*z);
            combine_columns_into(fma, threads, vdat, n, c + 1, 0, y, w);
            combine_columns_into(fma, threads, wdat, n, c + 1, 0, x, w);
        }
        w.iter_mut().for_each(|z| *z = *z * t);
        let alpha2 = -half * t * dot(fma, w, v);
        axpy(fma, alpha2, v, w);
        wdat[i * n + c + 1..(i + 1) * n].copy_from_slice(w);
    }
}

/// The unblocked reduction of columns `j0..n−1` (LAPACK `sytd2`).
fn unblocked<T: Scalar>(
    l3: &Level3,
    fma: Fma,
    a: &mut Array2<T>,
    j0: usize,
    e: &mut [T],
    tau: &mut [T],
) {
    let n = a.nrows();
    let data = a
        .as_slice_memory_order_mut()
        .expect("the work matrix is contiguous");
    let half = T::of(0.5);
    let mut v = vec![T::zero(); n];
    let mut w = vec![T::zero(); n];
    for j in j0..n.saturating_sub(1) {
        let m = n - j - 1;
        let col = &mut data[j * n + j + 1..(j + 1) * n];
        let (alpha, x) = col.split_first_mut().expect("m ≥ 1");
        let (beta, t) = householder(*alpha, x);
        *alpha = beta;
        e[j] = beta;
        tau[j] = t;
        if t == T::zero() {
            continue;
        }
        let (v, w) = (&mut v[..m], &mut w[..m]);
        v[0] = T::one();
        v[1..].copy_from_slice(x);
        symv_lower(l3.team.threads(), fma, data, n, j + 1, v, w);
        w.iter_mut().for_each(|x| *x = *x * t);
        let alpha2 = -half * t * dot(fma, w, v);
        axpy(fma, alpha2, v, w);
        for c in 0..m {
            let base = (j + 1 + c) * n + j + 1;
            let colc = &mut data[base + c..base + m];
            let (vc, wc) = (v[c], w[c]);
            axpy(fma, -wc, &v[c..], colc);
            axpy(fma, -vc, &w[c..], colc);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::factor::orthogonal::apply_reflectors;
    use crate::kernels::Isa;
    use crate::parallel::{Kernels, Native, Team};
    use ndarray::ShapeBuilder;

    /// `Q T Qᵀ = A` with forced tiny panels (several blocked panels at n = 40) and with
    /// the unblocked path, on one and two threads.
    #[test]
    fn q_t_qt_reconstructs_a() {
        let n = 40;
        let a = Array2::from_shape_fn((n, n), |(i, j)| {
            let (i, j) = (i.max(j), i.min(j));
            ((i * 7 + j * 13) % 17) as f64 / 8.0 - 1.0
        });
        for (nb, threads) in [(0, 1), (3, 1), (5, 2), (8, 2)] {
            let l3 = Level3 {
                team: Team::new(threads).unwrap(),
                kernels: Kernels::Native(Native {
                    isa: Isa::Portable,
                    blocks: None,
                }),
                blocks: crate::parallel::level3::FactorBlocks::default(),
            };
            let mut w = Array2::zeros((n, n).f());
            w.assign(&a);
            let tri = tridiagonalize("test", &l3, &mut w, nb).unwrap();
            let mut t = Array2::<f64>::zeros((n, n).f());
            for i in 0..n {
                t[[i, i]] = tri.d[i];
                if i + 1 < n {
                    t[[i + 1, i]] = tri.e[i];
                    t[[i, i + 1]] = tri.e[i];
                }
            }
            // Q T Qᵀ = Q (Q Tᵀ)ᵀ: apply Q to the columns, transpose, apply again.
            let store = w.slice(s![1.., ..n - 1]);
            apply_reflectors(&l3, "test", store, &tri.tau, &mut t.slice_mut(s![1.., ..])).unwrap();
            let mut tt = Array2::zeros((n, n).f());
            tt.assign(&t.t());
            apply_reflectors(&l3, "test", store, &tri.tau, &mut tt.slice_mut(s![1.., ..])).unwrap();
            let err = (&tt - &a).iter().fold(0.0f64, |m, x| m.max(x.abs()));
            assert!(err < 1e-13, "nb {nb} threads {threads}: {err}");
        }
    }
}
