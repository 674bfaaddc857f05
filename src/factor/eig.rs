//! General (non-symmetric) eigendecomposition `A V = V Λ` on a rayon engine, with the
//! conventions of LAPACK's `geev` (the `blas` engine).
//!
//! ```text
//! scale A by a power of two into the safe range (only when it is outside it)
//! balance: permute to isolate eigenvalues, scale rows/columns by powers of two (gebal)
//! A = Q H Qᵀ               blocked Householder Hessenberg reduction: panels of HRD_NB columns
//!                          (gemv on the engine), trailing updates as GEMMs (gehrd/lahr2 scheme)
//! Z = Q                    reflectors accumulated as blocked compact-WY GEMMs
//! H = Z T Zᵀ               Francis double-shift QR (kernels::hessenberg_qr), Z updated
//! T X = X Λ                back-substitution per eigenvalue, in parallel (kernels::schur_vectors)
//! V = Z X                  one GEMM on the engine
//! undo the balancing, normalize each vector to norm 1 with its largest component real
//! ```
//! Values only: the QR iteration touches the active block only and no Z is formed.

use ndarray::{s, Array1, Array2, ArrayView2, ShapeBuilder};
use num_complex::Complex;

use crate::alloc::{assign_2d, zeros_f};
use crate::decomp::Eig;
use crate::error::{Error, Result};
use crate::factor::orthogonal::{apply_reflectors, pow2_factors, safe_scale_exponent};
use crate::factor::qr::apply;
use crate::kernels::hessenberg_qr::{
    apply_left, apply_right, hessenberg_qr, Deferred, Flush, LEFT_GROUP,
};
use crate::kernels::reflector::householder;
use crate::kernels::schur_vectors::{column_norms, complex_vector, real_vector, Bounds};
use crate::kernels::simd1::Fma;
use crate::parallel::level2::gemv;
use crate::parallel::level3::Level3;
use crate::parallel::Team;
use crate::scalar::Scalar;

/// Columns per panel of the Hessenberg reduction (LAPACK `gehrd` uses 32).
const HRD_NB: usize = 32;

/// Eigenvalues and, if `vectors`, right eigenvectors of a finite square matrix (`n ≥ 1`).
pub(crate) fn eig<T: Scalar>(
    op: &'static str,
    l3: &Level3,
    a: ArrayView2<T>,
    vectors: bool,
) -> Result<Eig<T>> {
    let n = a.nrows();
    let mut h = zeros_f::<T>(op, n, n)?;
    assign_2d(&mut h.view_mut(), a.view());
    let amax = h.iter().fold(T::zero(), |m, x| m.max(x.abs()));
    let k = safe_scale_exponent(amax);
    if k != 0 {
        let (f1, f2) = pow2_factors::<T>(k);
        h.map_inplace(|x| *x = *x * f1 * f2);
    }
    let bal = balance(&mut h);
    let mut tau = vec![T::zero(); n.saturating_sub(1)];
    hessenberg(op, l3, &mut h, &mut tau)?;
    let mut z = if vectors {
        let mut z = zeros_f::<T>(op, n, n)?;
        z.diag_mut().fill(T::one());
        if n > 1 {
            apply_reflectors(
                l3,
                op,
                h.slice(s![1.., ..n - 1]),
                &tau,
                &mut z.slice_mut(s![1.., ..]),
            )?;
        }
        Some(z)
    } else {
        None
    };
    let mut wr = vec![T::zero(); n];
    let mut wi = vec![T::zero(); n];
    {
        let hs = h.as_slice_memory_order_mut().expect("column-major");
        let mut zs = z
            .as_mut()
            .map(|z| z.as_slice_memory_order_mut().expect("column-major"));
        let mut flush = |hs: &mut [T], ops: &[Deferred<T>]| {
            apply_deferred(&l3.team, n, hs, zs.as_deref_mut(), ops);
        };
        let defer: Option<Flush<'_, T>> = if vectors { Some(&mut flush) } else { None };
        hessenberg_qr(n, hs, defer, &mut wr, &mut wi).map_err(|i| Error::NoConvergence {
            op,
            detail: format!("Hessenberg QR: eigenvalue {i} not found"),
        })?;
    }
    if k != 0 {
        let (f1, f2) = pow2_factors::<T>(-k);
        wr.iter_mut().for_each(|x| *x = *x * f1 * f2);
        wi.iter_mut().for_each(|x| *x = *x * f1 * f2);
    }
    let values: Array1<Complex<T>> = wr
        .iter()
        .zip(&wi)
        .map(|(&re, &im)| Complex::new(re, im))
        .collect();
    let vecs = match z {
        Some(z) => {
            let x = schur_vectors(op, &l3.team, &h, &wi)?;
            let mut v = zeros_f::<T>(op, n, n)?;
            l3.gemm(
                op,
                T::one(),
                z.view(),
                x.view(),
                T::zero(),
                &mut v.view_mut(),
            )?;
            bal.undo(&mut v);
            normalize(&v, &wi)
        }
        None => Array2::from_elem((n, 0), Complex::new(T::zero(), T::zero())),
    };
    Ok(Eig {
        values,
        vectors: vecs,
    })
}

/// Rows per block when deferred transformations are applied from the right: a block of 64
/// rows of a 1024-column matrix is 512 KiB, so a batch runs on it while it stays in cache.
/// Chosen, not tuned.
const DEFER_ROWS: usize = 64;

/// Applies a batch of the QR iteration's deferred transformations to the rest of `H` (from the
/// right on the rows above each one's block, from the left on the columns right of it) and to
/// `Z` (from the right): rows in blocks of [`DEFER_ROWS`], columns one by one, shared among
/// the threads of the pool.
fn apply_deferred<T: Scalar>(
    team: &Team,
    n: usize,
    h: &mut [T],
    z: Option<&mut [T]>,
    ops: &[Deferred<T>],
) {
    let rows = ops.iter().map(|o| o.rows_end).max().unwrap_or(0);
    team.for_each_indexed(row_blocks(h, n, rows), |b, mut cols| {
        apply_right(&mut cols, b * DEFER_ROWS, true, ops)
    });
    let c0 = ops.iter().map(|o| o.cols_start).min().unwrap_or(n);
    let groups: Vec<&mut [T]> = h[c0 * n..].chunks_mut(LEFT_GROUP * n).collect();
    team.for_each_indexed(groups, |g, cols| {
        apply_left(cols, n, c0 + g * LEFT_GROUP, ops)
    });
    if let Some(z) = z {
        team.for_each_indexed(row_blocks(z, n, n), |b, mut cols| {
            apply_right(&mut cols, b * DEFER_ROWS, false, ops)
        });
    }
}

/// The first `rows` rows of the column-major `n`-column matrix `m` (leading dimension `n`) cut
/// into blocks of [`DEFER_ROWS`]: per block, its segment of every column.
fn row_blocks<T>(m: &mut [T], n: usize, rows: usize) -> Vec<Vec<&mut [T]>> {
    let blocks = rows.div_ceil(DEFER_ROWS);
    let mut out: Vec<Vec<&mut [T]>> = (0..blocks).map(|_| Vec::with_capacity(n)).collect();
    for col in m.chunks_mut(n) {
        let mut rest = &mut col[..rows];
        for blk in out.iter_mut() {
            let len = DEFER_ROWS.min(rest.len());
            let (head, tail) = std::mem::take(&mut rest).split_at_mut(len);
            blk.push(head);
            rest = tail;
        }
    }
    out
}

/// The balancing of `gebal` (job 'B'): the swaps applied (in order), and the row/column
/// scale factors (powers of two).
struct Balance<T> {
    swaps: Vec<(usize, usize)>,
    scale: Vec<T>,
}

impl<T: Scalar> Balance<T> {
    /// `V ← D V`, then the swaps undone (last first): the eigenvectors of the original matrix.
    fn undo(&self, v: &mut Array2<T>) {
        for (i, &s) in self.scale.iter().enumerate() {
            if s != T::one() {
                v.row_mut(i).map_inplace(|x| *x = *x * s);
            }
        }
        for &(i, j) in self.swaps.iter().rev() {
            swap_rows(v, i, j);
        }
    }
}

fn swap_rows<T: Scalar>(a: &mut Array2<T>, i: usize, j: usize) {
    if i != j {
        let (mut ri, mut rj) = a.multi_slice_mut((s![i, ..], s![j, ..]));
        ndarray::Zip::from(&mut ri)
            .and(&mut rj)
            .for_each(std::mem::swap);
    }
}

fn swap_cols<T: Scalar>(a: &mut Array2<T>, i: usize, j: usize) {
    if i != j {
        let (mut ci, mut cj) = a.multi_slice_mut((s![.., i], s![.., j]));
        ndarray::Zip::from(&mut ci)
            .and(&mut cj)
            .for_each(std::mem::swap);
    }
}

/// Balances `a` in place (`D⁻¹ Pᵀ A P D`, similar to `A`): rows and columns that isolate an
/// eigenvalue are permuted to the bottom / top, then the rows and columns of the rest are scaled
/// by powers of two until their norms are within a factor ~2 of each other (`gebal`).
fn balance<T: Scalar>(a: &mut Array2<T>) -> Balance<T> {
    let n = a.nrows();
    let mut swaps = Vec::new();
    let zero = T::zero();
    // Rows with all off-diagonal entries in columns lo..=hi zero go to the bottom.
    let (mut lo, mut hi) = (0usize, n - 1);
    while hi > 0 {
        let isolated = (0..=hi)
            .rev()
            .find(|&j| (0..=hi).all(|c| c == j || a[[j, c]] == zero));
        let Some(j) = isolated else { break };
        swaps.push((j, hi));
        swap_rows(a, j, hi);
        swap_cols(a, j, hi);
        hi -= 1;
    }
    // Columns with all off-diagonal entries in rows lo..=hi zero go to the top.
    while lo <= hi {
        let isolated = (lo..=hi).find(|&j| (lo..=hi).all(|r| r == j || a[[r, j]] == zero));
        let Some(j) = isolated else { break };
        swaps.push((j, lo));
        swap_rows(a, j, lo);
        swap_cols(a, j, lo);
        lo += 1;
    }
    let mut scale = vec![T::one(); n];
    if lo < hi {
        let two = T::of(2.0);
        let sfmin1 = T::min_positive_value() / (T::EPS * two);
        let sfmax1 = T::one() / sfmin1;
        let sfmin2 = sfmin1 * two;
        let sfmax2 = T::one() / sfmin2;
        let norm2 = |it: &mut dyn Iterator<Item = T>| {
            crate::real::scaled_norm(it.collect::<Vec<T>>().into_iter())
        };
        let mut changed = true;
        while changed {
            changed = false;
            for i in lo..=hi {
                let mut c = norm2(&mut (lo..=hi).map(|r| a[[r, i]]));
                let mut r = norm2(&mut (lo..=hi).map(|cc| a[[i, cc]]));
                let mut ca = (0..=hi).fold(zero, |m, rr| m.max(a[[rr, i]].abs()));
                let mut ra = (lo..n).fold(zero, |m, cc| m.max(a[[i, cc]].abs()));
                if c == zero || r == zero {
                    continue;
                }
                let mut g = r / two;
                let mut f = T::one();
                let s = c + r;
                while c < g && f.max(c).max(ca) < sfmax2 && r.min(g).min(ra) > sfmin2 {
                    f = f * two;
                    c = c * two;
                    ca = ca * two;
                    r = r / two;
                    g = g / two;
                    ra = ra / two;
                }
                g = c / two;
                while g >= r && r.max(ra) < sfmax2 && f.min(c).min(g).min(ca) > sfmin2 {
                    f = f / two;
                    c = c / two;
                    g = g / two;
                    ca = ca / two;
                    r = r * two;
                    ra = ra * two;
                }
                if c + r >= T::of(0.95) * s {
                    continue;
                }
                if f < T::one() && scale[i] < T::one() && f * scale[i] <= sfmin1 {
                    continue;
                }
                if f > T::one() && scale[i] > T::one() && scale[i] >= sfmax1 / f {
                    continue;
                }
                scale[i] = scale[i] * f;
                changed = true;
                let g = T::one() / f;
                for cc in lo..n {
                    a[[i, cc]] = a[[i, cc]] * g;
                }
                for rr in 0..=hi {
                    a[[rr, i]] = a[[rr, i]] * f;
                }
            }
        }
    }
    Balance { swaps, scale }
}

/// Reduces `a` (column-major) to upper Hessenberg form `Qᵀ A Q` in place; reflector `j`
/// (`τ = tau[j]`) is stored below the subdiagonal of column `j` (implicit 1 at row `j + 1`).
///
/// Per panel of `b` columns starting at column `i` (reflectors act on rows `i+1..`):
/// `Y = A V T` is accumulated column by column alongside the reflectors, each panel column is
/// first brought up to date (`A ← A − Y Vᵀ` then `(I − V Tᵀ Vᵀ)` from the left), and after the
/// panel the rest of the matrix gets `A ← A − Y Vᵀ` (one GEMM) and `(I − V Tᵀ Vᵀ) A` (three).
fn hessenberg<T: Scalar>(
    op: &'static str,
    l3: &Level3,
    a: &mut Array2<T>,
    tau: &mut [T],
) -> Result<()> {
    let n = a.nrows();
    let mut i = 0;
    while i + 2 < n {
        let b = HRD_NB.min(n - 2 - i);
        let k = i + 1;
        let rows = n - k;
        let mut v = zeros_f::<T>(op, rows, b)?;
        let mut t = zeros_f::<T>(op, b, b)?;
        let mut y = zeros_f::<T>(op, n, b)?;
        for j in 0..b {
            let col = i + j;
            if j > 0 {
                // Right: A[:, col] −= Y[:, ..j] · V[j−1, ..j]ᵀ.
                for m in 0..j {
                    let f = v[[j - 1, m]];
                    if f != T::zero() {
                        let (ym, mut ac) = (y.column(m), a.column_mut(col));
                        ndarray::Zip::from(&mut ac)
                            .and(&ym)
                            .for_each(|x, &w| *x = *x - f * w);
                    }
                }
                // Left: A[k.., col] ← (I − V Tᵀ Vᵀ) A[k.., col].
                let vj = v.slice(s![.., ..j]);
                let mut w: Vec<T> = (0..j)
                    .map(|m| vj.column(m).dot(&a.slice(s![k.., col])))
                    .collect();
                // w ← Tᵀ w (T upper triangular): from the bottom up.
                for r in (0..j).rev() {
                    let mut sum = T::zero();
                    for q in 0..=r {
                        sum = sum + t[[q, r]] * w[q];
                    }
                    w[r] = sum;
                }
                let mut ac = a.slice_mut(s![k.., col]);
                for (m, &f) in w.iter().enumerate() {
                    ndarray::Zip::from(&mut ac)
                        .and(&vj.column(m))
                        .for_each(|x, &vv| *x = *x - f * vv);
                }
            }
            // The reflector of A[k+j.., col].
            let (beta, tj) = {
                let mut colv = a.slice_mut(s![k + j.., col]);
                let cs = colv.as_slice_mut().expect("column-major");
                let (alpha, x) = cs.split_first_mut().expect("non-empty");
                let r = householder(*alpha, x);
                *alpha = T::one();
                r
            };
            tau[col] = tj;
            v.slice_mut(s![j.., j]).assign(&a.slice(s![k + j.., col]));
            a[[k + j, col]] = beta;
            // Y[:, j] = τ (A[:, k+j..] v − Y[:, ..j] (V[:, ..j]ᵀ v)); T[..j, j] = −τ T (Vᵀ v).
            let vcol = v.slice(s![j.., j]).to_owned();
            let sv: Vec<T> = (0..j).map(|m| v.slice(s![j.., m]).dot(&vcol)).collect();
            {
                let mut yj = y.column_mut(j);
                gemv(
                    op,
                    &l3.team,
                    l3.kernels,
                    tj,
                    a.slice(s![.., k + j..]),
                    vcol.view(),
                    T::zero(),
                    &mut yj,
                )?;
            }
            for (m, &svm) in sv.iter().enumerate() {
                let f = tj * svm;
                if f != T::zero() {
                    let (ym, mut yj) = y.multi_slice_mut((s![.., m], s![.., j]));
                    ndarray::Zip::from(&mut yj)
                        .and(&ym)
                        .for_each(|x, &w| *x = *x - f * w);
                }
            }
            for r in 0..j {
                let mut sum = T::zero();
                for q in r..j {
                    sum = sum + t[[r, q]] * sv[q];
                }
                t[[r, j]] = -tj * sum;
            }
            t[[j, j]] = tj;
        }
        let c0 = i + b;
        if c0 < n {
            // A[:, c0..] −= Y · V[c0−k.., :]ᵀ, then the left block reflector on rows k...
            let vt = v.slice(s![c0 - k.., ..]);
            l3.gemm(
                op,
                -T::one(),
                y.view(),
                vt.t(),
                T::one(),
                &mut a.slice_mut(s![.., c0..]),
            )?;
            apply(
                l3,
                op,
                v.view(),
                t.view(),
                true,
                &mut a.slice_mut(s![k.., c0..]),
            )?;
        }
        i += b;
    }
    Ok(())
}

/// The eigenvectors of the Schur form `t` (column-major) as the columns of `X`, `geev`'s
/// layout: a real eigenvalue's vector in its column, a complex pair's real part in the first
/// column and imaginary part in the second. Each vector (or pair) is computed independently,
/// shared among the threads of the pool.
fn schur_vectors<T: Scalar>(
    op: &'static str,
    team: &Team,
    t: &Array2<T>,
    wi: &[T],
) -> Result<Array2<T>> {
    let n = t.nrows();
    let ts = t.as_slice_memory_order().expect("column-major");
    let cnorm = column_norms(n, ts);
    let bounds = Bounds::new(n);
    let fma = Fma::detect();
    // (first column, size) of each diagonal block.
    let mut blocks = Vec::with_capacity(n);
    let mut j = 0;
    while j < n {
        if wi[j] != T::zero() && j + 1 < n {
            blocks.push((j, 2));
            j += 2;
        } else {
            blocks.push((j, 1));
            j += 1;
        }
    }
    let cols: Vec<(usize, usize, Vec<T>)> = team.map_collect(&blocks, |&(j, size)| {
        let k = j + size - 1;
        let mut buf = vec![T::zero(); size * (k + 1)];
        if size == 1 {
            real_vector(n, ts, &cnorm, bounds, fma, k, &mut buf);
        } else {
            let (xr, xi) = buf.split_at_mut(k + 1);
            complex_vector(n, ts, &cnorm, bounds, fma, k, xr, xi);
        }
        (j, size, buf)
    });
    let mut x = zeros_f::<T>(op, n, n)?;
    for (j, size, buf) in cols {
        let len = buf.len() / size;
        for c in 0..size {
            x.slice_mut(s![..len, j + c])
                .assign(&ndarray::ArrayView1::from(&buf[c * len..(c + 1) * len]));
        }
    }
    Ok(x)
}

/// `geev`'s normalization: each real vector scaled to Euclidean norm 1; each complex pair
/// `(re, im)` scaled to norm 1 and rotated so its component of largest modulus is real (the
/// imaginary part set to exactly 0 there); the second of a pair is the conjugate.
fn normalize<T: Scalar>(v: &Array2<T>, wi: &[T]) -> Array2<Complex<T>> {
    let n = v.nrows();
    let mut out = Array2::from_elem((n, n).f(), Complex::new(T::zero(), T::zero()));
    let nrm = |it: &mut dyn Iterator<Item = T>| {
        crate::real::scaled_norm(it.collect::<Vec<T>>().into_iter())
    };
    let mut j = 0;
    while j < n {
        if wi[j] == T::zero() || j + 1 == n {
            let s = nrm(&mut v.column(j).iter().copied());
            let s = if s > T::zero() {
                T::one() / s
            } else {
                T::one()
            };
            for i in 0..n {
                out[[i, j]] = Complex::new(v[[i, j]] * s, T::zero());
            }
            j += 1;
        } else {
            let nr = nrm(&mut v.column(j).iter().copied());
            let ni = nrm(&mut v.column(j + 1).iter().copied());
            let tot = nr.hypot(ni);
            let s = if tot > T::zero() {
                T::one() / tot
            } else {
                T::one()
            };
            let mut re: Vec<T> = v.column(j).iter().map(|&x| x * s).collect();
            let mut im: Vec<T> = v.column(j + 1).iter().map(|&x| x * s).collect();
            let mut kbig = 0;
            let mut big = T::zero();
            for i in 0..n {
                let m = re[i] * re[i] + im[i] * im[i];
                if m > big {
                    big = m;
                    kbig = i;
                }
            }
            // Multiply by conj(x_k)/|x_k|: (re + i im)(cs − i sn) with cs + i sn = x_k/|x_k|.
            let r = re[kbig].hypot(im[kbig]);
            if r > T::zero() {
                let (cs, sn) = (re[kbig] / r, im[kbig] / r);
                for i in 0..n {
                    let (a, b) = (re[i], im[i]);
                    re[i] = cs * a + sn * b;
                    im[i] = cs * b - sn * a;
                }
                im[kbig] = T::zero();
            }
            for i in 0..n {
                out[[i, j]] = Complex::new(re[i], im[i]);
                out[[i, j + 1]] = Complex::new(re[i], -im[i]);
            }
            j += 2;
        }
    }
    out
}
