//! Householder reduction of a tall matrix to upper bidiagonal form, `A = Q B Pᵀ`
//! (LAPACK `gebd2`, `m ≥ n`).
//!
//! ```text
//! for j = 0 .. n−1:
//!     Hⱼ (from the left) maps A[j.., j] onto d[j] e₁;   A[j.., j+1..] ← Hⱼ A[j.., j+1..]
//!     Gⱼ (from the right) maps A[j, j+1..] onto e[j] e₁; A[j+1.., j+1..] ← A[j+1.., j+1..] Gⱼ
//! Q = H₀ H₁ … H_{n−1},  P = G₀ G₁ … G_{n−2}
//! ```
//! Blocked (LAPACK `gebrd`/`labrd`) while more than [`NX`] columns remain: a panel of [`NB`]
//! steps reads the trailing matrix only (two matrix-vector passes per step, `Aᵀv` and `A u`,
//! against the untouched matrix plus corrections from the panel's reflectors), keeping
//!
//! ```text
//! A_current = A − V Yᵀ − X Uᵀ        V, U: the panel's left/right vectors, Y = τ A_currentᵀ v, X = τ A_current u
//! ```
//!
//! and the trailing matrix is then updated by one GEMM of depth `2·NB` on the engine,
//! `A ← A − [V X] [Y U]ᵀ`. The unblocked code below (three passes over the trailing matrix per
//! step, two of them writes) reduces the rest.
//!
//! The left vectors stay in the work matrix below the diagonal (QR-style); the right vectors
//! go to a separate column-major matrix, vector `j` in column `j` from row `j + 1`, so both
//! products are applied by [`apply_reflectors`](super::orthogonal::apply_reflectors). Every inner
//! loop runs down a contiguous column.

use ndarray::{s, Array2};
use rayon::prelude::*;

use super::columns::{combine_columns, dots_by_column, COLS_PER_TASK, PARALLEL_MIN_WORK};
use crate::alloc::{assign_2d, zeros_f};
use crate::error::Result;
use crate::kernels::cols4::{axpy_dot4, COLS};
use crate::kernels::reflector::householder;
use crate::kernels::simd1::{axpy, dot, Fma};
use crate::parallel::level3::Level3;
use crate::scalar::Scalar;

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

/// `H = I − τ v vᵀ` applied to `col` (`v₀ = 1`, `v[1..] = x`).
#[inline]
fn reflect<T: Scalar>(fma: Fma, tau: T, v: &[T], col: &mut [T]) {
    let f = tau * dot(fma, v, col);
    axpy(fma, -f, v, col);
}

/// Panel width of the blocked reduction.
const NB: usize = 32;

/// Columns left at which the blocked reduction hands over to the unblocked one (LAPACK's
/// crossover for `gebrd` is 128). Chosen, not yet tuned.
const NX: usize = 128;

/// Reduces the column-major (Fortran-order) `m × n` matrix `a` (`m ≥ n ≥ 1`) in place.
pub(crate) fn bidiagonalize<T: Scalar>(
    op: &'static str,
    l3: &Level3,
    a: &mut Array2<T>,
) -> Result<Bidiagonal<T>> {
    let (m, n) = a.dim();
    debug_assert!(m >= n);
    let mut out = Bidiagonal {
        d: Vec::with_capacity(n),
        e: Vec::with_capacity(n),
        tauq: Vec::with_capacity(n),
        taup: Vec::with_capacity(n),
        p: zeros_f::<T>(op, n, n)?,
    };
    let mut start = 0;
    if n > NX {
        let mut panel = Panel {
            x: zeros_f::<T>(op, m, NB)?,
            y: zeros_f::<T>(op, n, NB)?,
            u: zeros_f::<T>(op, n, NB)?,
        };
        while n - start > NX {
            labrd(op, l3, a, start, &mut panel, &mut out)?;
            start += NB;
        }
    }
    gebd2(l3.team.threads(), a, start, &mut out);
    Ok(out)
}

/// The work arrays of one panel: `X` (`m × NB`), `Y` and `U` (`n × NB`), rows indexed like
/// `A`'s rows (X) and columns (Y, U).
struct Panel<T> {
    x: Array2<T>,
    y: Array2<T>,
    u: Array2<T>,
}

/// One panel of the blocked reduction (LAPACK `labrd`, `m ≥ n`): steps `s..s + NB`, then the
/// trailing update `A[s+NB.., s+NB..] −= [V X] [Y U]ᵀ` as one GEMM.
fn labrd<T: Scalar>(
    op: &'static str,
    l3: &Level3,
    a: &mut Array2<T>,
    s: usize,
    panel: &mut Panel<T>,
    out: &mut Bidiagonal<T>,
) -> Result<()> {
    let (m, n) = a.dim();
    let threads = l3.team.threads();
    let fma = Fma::detect();
    let one = T::one();
    panel.x.fill(T::zero());
    panel.y.fill(T::zero());
    panel.u.fill(T::zero());
    let xd = panel.x.as_slice_memory_order_mut().expect("contiguous");
    let yd = panel.y.as_slice_memory_order_mut().expect("contiguous");
    let ud = panel.u.as_slice_memory_order_mut().expect("contiguous");
    let ad = a.as_slice_memory_order_mut().expect("contiguous");
    let mut v = vec![T::zero(); m];
    let mut row = vec![T::zero(); n];
    let mut t = [T::zero(); NB];
    let mut t2 = [T::zero(); NB];
    for i in 0..NB {
        let c = s + i;
        // Column c (rows c..) brought up to date: −V Y(c, ..i)ᵀ − X U(c, ..i)ᵀ.
        {
            let (before, rest) = ad.split_at_mut(c * m);
            let col = &mut rest[c..m];
            for k in 0..i {
                axpy(
                    fma,
                    -yd[k * n + c],
                    &before[(s + k) * m + c..(s + k + 1) * m],
                    col,
                );
                axpy(fma, -ud[k * n + c], &xd[k * m + c..(k + 1) * m], col);
            }
            let (alpha, x) = col.split_first_mut().expect("c < m");
            let (beta, tq) = householder(*alpha, x);
            *alpha = one;
            out.d.push(beta);
            out.tauq.push(tq);
        }
        let rows = m - c;
        v[..rows].copy_from_slice(&ad[c * m + c..(c + 1) * m]);
        let v = &v[..rows];
        let tq = out.tauq[c];
        // Y(c+1.., i) = τq (Aᵀ v − Y (Vᵀ v) − U (Xᵀ v)).
        {
            let (yprev, ycur) = yd.split_at_mut(i * n);
            let ycol = &mut ycur[c + 1..n];
            dots_by_column(fma, threads, ad, m, c, c + 1, v, ycol);
            for k in 0..i {
                t[k] = dot(fma, &ad[(s + k) * m + c..(s + k + 1) * m], v);
                t2[k] = dot(fma, &xd[k * m + c..(k + 1) * m], v);
            }
            for k in 0..i {
                axpy(fma, -t[k], &yprev[k * n + c + 1..(k + 1) * n], ycol);
                axpy(fma, -t2[k], &ud[k * n + c + 1..(k + 1) * n], ycol);
            }
            ycol.iter_mut().for_each(|y| *y = *y * tq);
        }
        // Row c (columns c+1..) up to date: −Y V(c, ..=i)ᵀ − U X(c, ..i)ᵀ.
        let row = &mut row[..n - c - 1];
        for (q, r) in row.iter_mut().enumerate() {
            *r = ad[(c + 1 + q) * m + c];
        }
        for k in 0..=i {
            let vk = if k == i { one } else { ad[(s + k) * m + c] };
            axpy(fma, -vk, &yd[k * n + c + 1..(k + 1) * n], row);
            if k < i {
                axpy(fma, -xd[k * m + c], &ud[k * n + c + 1..(k + 1) * n], row);
            }
        }
        let (alpha, x) = row.split_first_mut().expect("c + 1 < n");
        let (beta, tp) = householder(*alpha, x);
        *alpha = one;
        out.e.push(beta);
        out.taup.push(tp);
        ud[i * n + c + 1..(i + 1) * n].copy_from_slice(row);
        for (q, &xq) in row[1..].iter().enumerate() {
            out.p[[c + 2 + q, c]] = xq;
        }
        // X(c+1.., i) = τp (A u − V (Yᵀ u) − X (Uᵀ u)).
        let u = &*row;
        let mut xcol = combine_columns(fma, threads, ad, m, c + 1, c + 1, u);
        for k in 0..=i {
            t[k] = dot(fma, &yd[k * n + c + 1..(k + 1) * n], u);
            if k < i {
                t2[k] = dot(fma, &ud[k * n + c + 1..(k + 1) * n], u);
            }
        }
        for k in 0..=i {
            axpy(
                fma,
                -t[k],
                &ad[(s + k) * m + c + 1..(s + k + 1) * m],
                &mut xcol,
            );
            if k < i {
                axpy(fma, -t2[k], &xd[k * m + c + 1..(k + 1) * m], &mut xcol);
            }
        }
        xcol.iter_mut().for_each(|x| *x = *x * tp);
        xd[i * m + c + 1..(i + 1) * m].copy_from_slice(&xcol);
    }
    // A[e.., e..] −= [V X] [Y U]ᵀ over the rows and columns after the panel.
    let e0 = s + NB;
    let (mr, nr) = (m - e0, n - e0);
    let mut left = zeros_f::<T>(op, mr, 2 * NB)?;
    let mut right = zeros_f::<T>(op, nr, 2 * NB)?;
    assign_2d(&mut left.slice_mut(s![.., ..NB]), a.slice(s![e0.., s..e0]));
    assign_2d(
        &mut left.slice_mut(s![.., NB..]),
        panel.x.slice(s![e0.., ..]),
    );
    assign_2d(
        &mut right.slice_mut(s![.., ..NB]),
        panel.y.slice(s![e0.., ..]),
    );
    assign_2d(
        &mut right.slice_mut(s![.., NB..]),
        panel.u.slice(s![e0.., ..]),
    );
    l3.gemm(
        op,
        -one,
        left.view(),
        right.t(),
        one,
        &mut a.slice_mut(s![e0.., e0..]),
    )?;
    // The panel's rows and diagonal in their final form.
    for c in s..e0 {
        a[[c, c]] = out.d[c];
        a[[c, c + 1]] = out.e[c];
        for j in c + 2..n {
            a[[c, j]] = T::zero();
        }
    }
    Ok(())
}

/// The unblocked reduction of columns `start..` (rows `start..`), the earlier ones done.
///
/// Two passes over the trailing matrix per step, each split over columns among the threads:
/// `w = A₂ u` for the right reflector, then for every column its right update, the next left
/// reflector's dot product and update while the column is in L1.
fn gebd2<T: Scalar>(threads: usize, a: &mut Array2<T>, start: usize, out: &mut Bidiagonal<T>) {
    let (m, n) = a.dim();
    let fma = Fma::detect();
    let Bidiagonal {
        d,
        e,
        tauq,
        taup,
        p,
    } = out;
    let data = a
        .as_slice_memory_order_mut()
        .expect("the work matrix is contiguous");
    let mut v = vec![T::zero(); m];
    let mut row = vec![T::zero(); n];
    // H from column `start`, applied to the columns after it.
    {
        let (first, rest) = data[start * m..].split_at_mut(m);
        let (alpha, x) = first[start..].split_first_mut().expect("start < m");
        let (beta, tau) = householder(*alpha, x);
        *alpha = beta;
        d.push(beta);
        tauq.push(tau);
        let rows = m - start;
        v[0] = T::one();
        v[1..rows].copy_from_slice(x);
        if tau != T::zero() {
            let v = &v[..rows];
            let work = |col: &mut [T]| reflect(fma, tau, v, &mut col[start..]);
            if threads > 1 && rows * (n - start - 1) >= PARALLEL_MIN_WORK {
                rest.par_chunks_mut(m)
                    .with_min_len(COLS_PER_TASK)
                    .for_each(work);
            } else {
                rest.chunks_mut(m).for_each(work);
            }
        }
    }
    for j in start..n - 1 {
        // Right reflector G_j from row j, columns j+1..n.
        let row = &mut row[..n - j - 1];
        for (t, r) in row.iter_mut().enumerate() {
            *r = data[(j + 1 + t) * m + j];
        }
        let (alpha, x) = row.split_first_mut().expect("j + 1 < n");
        let (beta, tp) = householder(*alpha, x);
        e.push(beta);
        taup.push(tp);
        data[(j + 1) * m + j] = beta;
        for (t, &xt) in x.iter().enumerate() {
            data[(j + 2 + t) * m + j] = T::zero();
            p[[j + 2 + t, j]] = xt;
        }
        let u = |t: usize| if t == 0 { T::one() } else { x[t - 1] };
        let rows = m - j - 1;
        let trailing = &mut data[(j + 1) * m..];
        let par = threads > 1 && rows * (n - j - 1) >= PARALLEL_MIN_WORK;
        // w = A₂ u over rows j+1.. (per-task partial sums when parallel).
        let w: Vec<T> = if tp == T::zero() {
            Vec::new()
        } else {
            let uv: Vec<T> = (0..n - j - 1).map(u).collect();
            combine_columns(fma, threads, trailing, m, j + 1, 0, &uv)
        };
        // Column j+1: right update, then the left reflector H_{j+1} from it.
        let (first, rest) = trailing.split_at_mut(m);
        if tp != T::zero() {
            axpy(fma, -tp, &w, &mut first[j + 1..]);
        }
        let (alpha, xs) = first[j + 1..].split_first_mut().expect("j + 1 < m");
        let (beta, tq) = householder(*alpha, xs);
        *alpha = beta;
        d.push(beta);
        tauq.push(tq);
        let v = &mut v[..rows];
        v[0] = T::one();
        v[1..].copy_from_slice(xs);
        let v = &*v;
        // Columns j+2..: right update and left reflector while the columns are in cache,
        // four at a time (the right update and the reflector's dot products in one pass).
        let one_col = |t: usize, col: &mut [T]| {
            let col = &mut col[j + 1..];
            if tp != T::zero() {
                axpy(fma, -tp * u(t + 1), &w, col);
            }
            if tq != T::zero() {
                reflect(fma, tq, v, col);
            }
        };
        let work = |(g, cols): (usize, &mut [T])| {
            let t0 = g * COLS;
            if cols.len() == COLS * m && tp != T::zero() && tq != T::zero() {
                let mut it = cols.chunks_mut(m).map(|c| &mut c[j + 1..]);
                let mut c: [&mut [T]; COLS] =
                    std::array::from_fn(|_| it.next().expect("four columns"));
                let alpha = std::array::from_fn(|q| -tp * u(t0 + q + 1));
                let [c0, c1, c2, c3] = &mut c;
                let s = axpy_dot4(
                    fma,
                    [&mut **c0, &mut **c1, &mut **c2, &mut **c3],
                    alpha,
                    &w,
                    v,
                );
                for (col, sq) in c.iter_mut().zip(s) {
                    axpy(fma, -tq * sq, v, col);
                }
            } else {
                for (q, col) in cols.chunks_mut(m).enumerate() {
                    one_col(t0 + q, col);
                }
            }
        };
        if par {
            rest.par_chunks_mut(COLS * m)
                .with_min_len(COLS_PER_TASK / COLS)
                .enumerate()
                .for_each(work);
        } else {
            rest.chunks_mut(COLS * m).enumerate().for_each(work);
        }
    }
}
