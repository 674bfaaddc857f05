//! The real Schur form of an upper Hessenberg matrix by Francis's implicit double-shift QR
//! (the small-matrix algorithm of LAPACK's `lahqr`, written from its description):
//! `H = Z T Zᵀ` with `T` quasi-upper triangular, its 2 × 2 diagonal blocks in standard form
//! `[a b; c a]`, `b c < 0` (a complex pair `a ± i√(−bc)`).
//!
//! Deflation: a subdiagonal entry is set to zero when it is negligible next to its neighbours
//! (Ahues & Tisseur's criterion, as `lahqr`); exceptional shifts every 10th iteration without
//! deflation; a budget of `30·max(10, n)` iterations per deflation, else the index of the
//! eigenvalue not found is returned. Matrices are column-major slices with leading dimension
//! `n` (`Z` has `n` rows too).

use crate::kernels::reflector::householder;
use crate::real::Real;

/// Iterations without deflation before an exceptional shift (`lahqr`'s `KEXSH`).
const EXCEPTIONAL_EVERY: usize = 10;

/// Iterations allowed per deflated block, per row of the matrix (`lahqr`: 30).
const ITERATIONS_PER_ROW: usize = 30;

/// Transformations buffered before the rest of `H` and `Z` get them.
const DEFER_BATCH: usize = 8192;

/// Where a batch of deferred transformations goes: `(H, batch)`.
pub(crate) type Flush<'a, T> = &'a mut dyn FnMut(&mut [T], &[Deferred<T>]);

/// One similarity transformation the iteration applied to its active block only: the rest of
/// `H` (rows above the block, columns right of it) and `Z` receive it later, in batches, in
/// the order of the iteration (left and right multiplications commute, so only the order among
/// each kind matters, and the iteration never reads those entries).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Deferred<T> {
    /// First row/column it acts on.
    pub k: usize,
    pub kind: Kind<T>,
    /// `H[..rows_end, k..]` is multiplied from the right.
    pub rows_end: usize,
    /// `H[k.., cols_start..]` is multiplied from the left.
    pub cols_start: usize,
}

/// The transformation acting on rows/columns `k, k+1 (, k+2)`.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Kind<T> {
    /// `I − τ v vᵀ`, `v = (1, v2, v3)` (`nr` = 2 or 3; `t = τ v`).
    Reflector {
        nr: usize,
        v2: T,
        v3: T,
        t1: T,
        t2: T,
        t3: T,
    },
    /// `x ← cs x + sn y`, `y ← cs y − sn x` on the pair `k, k+1`.
    Rotation { cs: T, sn: T },
}

/// Applies `ops` from the right to the rows `r0..r0 + m.len()/ld`... of a block of rows of a
/// column-major matrix: `cols[c]` is column `c` restricted to the block (rows `r0..`), and each
/// transformation reaches rows below `rows_end` only when `bounded`.
pub(crate) fn apply_right<T: Real>(
    cols: &mut [&mut [T]],
    r0: usize,
    bounded: bool,
    ops: &[Deferred<T>],
) {
    let rows = cols.first().map_or(0, |c| c.len());
    for op in ops {
        let end = if bounded {
            op.rows_end.saturating_sub(r0).min(rows)
        } else {
            rows
        };
        if end == 0 {
            continue;
        }
        let k = op.k;
        match op.kind {
            Kind::Reflector {
                nr,
                v2,
                v3,
                t1,
                t2,
                t3,
            } => {
                let (a, rest) = cols[k..].split_first_mut().expect("k < n");
                let (b, rest) = rest.split_first_mut().expect("k + 1 < n");
                let (a, b) = (&mut a[..end], &mut b[..end]);
                if nr == 3 {
                    let c = &mut rest[0][..end];
                    for ((x, y), w) in a.iter_mut().zip(b.iter_mut()).zip(c.iter_mut()) {
                        let sum = *x + v2 * *y + v3 * *w;
                        *x = *x - sum * t1;
                        *y = *y - sum * t2;
                        *w = *w - sum * t3;
                    }
                } else {
                    for (x, y) in a.iter_mut().zip(b.iter_mut()) {
                        let sum = *x + v2 * *y;
                        *x = *x - sum * t1;
                        *y = *y - sum * t2;
                    }
                }
            }
            Kind::Rotation { cs, sn } => {
                let (a, rest) = cols[k..].split_first_mut().expect("k < n");
                for (x, y) in a[..end].iter_mut().zip(rest[0][..end].iter_mut()) {
                    let (p, q) = (*x, *y);
                    *x = cs * p + sn * q;
                    *y = cs * q - sn * p;
                }
            }
        }
    }
}

/// Columns [`apply_left`] interleaves: consecutive transformations overlap in rows, so one
/// column is a chain of dependent updates; several columns at once overlap their latencies.
pub(crate) const LEFT_GROUP: usize = 8;

/// Applies `ops` from the left to the columns `c0, c0 + 1, …` of `H` held in `cols`
/// (column-major, leading dimension `ld`, at most [`LEFT_GROUP`] columns), each transformation
/// to the columns `≥ cols_start` only.
pub(crate) fn apply_left<T: Real>(cols: &mut [T], ld: usize, c0: usize, ops: &[Deferred<T>]) {
    let g = cols.len() / ld;
    if g == LEFT_GROUP {
        for op in ops {
            if op.cols_start <= c0 {
                apply_left_full(cols, ld, op);
                continue;
            }
            for (j, col) in cols.chunks_mut(ld).enumerate() {
                apply_left_one(col, c0 + j, std::slice::from_ref(op));
            }
        }
    } else {
        for (j, col) in cols.chunks_mut(ld).enumerate() {
            apply_left_one(col, c0 + j, ops);
        }
    }
}

/// One transformation on all [`LEFT_GROUP`] columns of `cols`.
#[inline(always)]
fn apply_left_full<T: Real>(cols: &mut [T], ld: usize, op: &Deferred<T>) {
    let k = op.k;
    match op.kind {
        Kind::Reflector {
            nr: 3,
            v2,
            v3,
            t1,
            t2,
            t3,
        } => {
            for j in 0..LEFT_GROUP {
                let x = &mut cols[j * ld + k..j * ld + k + 3];
                let sum = x[0] + v2 * x[1] + v3 * x[2];
                x[0] = x[0] - sum * t1;
                x[1] = x[1] - sum * t2;
                x[2] = x[2] - sum * t3;
            }
        }
        _ => {
            for j in 0..LEFT_GROUP {
                apply_left_one(
                    &mut cols[j * ld..(j + 1) * ld],
                    usize::MAX,
                    std::slice::from_ref(op),
                );
            }
        }
    }
}

/// `ops` from the left on one column `col` (index `c`), those with `cols_start ≤ c`.
fn apply_left_one<T: Real>(col: &mut [T], c: usize, ops: &[Deferred<T>]) {
    for op in ops {
        if op.cols_start > c {
            continue;
        }
        let k = op.k;
        match op.kind {
            Kind::Reflector {
                nr,
                v2,
                v3,
                t1,
                t2,
                t3,
            } => {
                if nr == 3 {
                    let x = &mut col[k..k + 3];
                    let sum = x[0] + v2 * x[1] + v3 * x[2];
                    x[0] = x[0] - sum * t1;
                    x[1] = x[1] - sum * t2;
                    x[2] = x[2] - sum * t3;
                } else {
                    let x = &mut col[k..k + 2];
                    let sum = x[0] + v2 * x[1];
                    x[0] = x[0] - sum * t1;
                    x[1] = x[1] - sum * t2;
                }
            }
            Kind::Rotation { cs, sn } => {
                let (p, q) = (col[k], col[k + 1]);
                col[k] = cs * p + sn * q;
                col[k + 1] = cs * q - sn * p;
            }
        }
    }
}

/// Eigenvalues of `H` (order `n`, column-major, entries below the subdiagonal zero) into
/// `wr`/`wi`: a complex pair is stored at `j, j+1` with `wi[j] > 0`, `wi[j+1] = −wi[j]`.
/// Each transformation is applied at once to the active block only. With `defer`, the Schur
/// form is wanted: the transformations are also handed, in batches, to `defer(h, batch)`, which
/// must apply them to the rest of `H` ([`apply_right`] on the rows above `rows_end`,
/// [`apply_left`] on the columns from `cols_start`) and to `Z` (from the right, all rows);
/// at return `H` is then `T`. Without it, `H` is left in an unspecified state.
///
/// # Errors
/// The index of an eigenvalue the iteration did not find within its budget.
pub(crate) fn hessenberg_qr<T: Real>(
    n: usize,
    h: &mut [T],
    mut defer: Option<Flush<'_, T>>,
    wr: &mut [T],
    wi: &mut [T],
) -> Result<(), usize> {
    let mut buf: Vec<Deferred<T>> = Vec::new();
    let result = iterate(n, h, defer.is_some(), &mut buf, &mut defer, wr, wi);
    if let Some(f) = defer.as_mut() {
        if !buf.is_empty() {
            f(h, &buf);
        }
    }
    result
}

#[allow(clippy::too_many_arguments)]
fn iterate<T: Real>(
    n: usize,
    h: &mut [T],
    schur: bool,
    buf: &mut Vec<Deferred<T>>,
    defer: &mut Option<Flush<'_, T>>,
    wr: &mut [T],
    wi: &mut [T],
) -> Result<(), usize> {
    let mut push = |h: &mut [T], d: Deferred<T>| {
        buf.push(d);
        if buf.len() >= DEFER_BATCH {
            if let Some(f) = defer.as_mut() {
                f(h, buf);
            }
            buf.clear();
        }
    };
    if n == 0 {
        return Ok(());
    }
    let ix = |i: usize, j: usize| i + j * n;
    let safmin = T::min_positive_value();
    let ulp = T::EPS;
    let smlnum = safmin * (T::of(n as f64) / ulp);
    let itmax = ITERATIONS_PER_ROW * n.max(10);
    let half = T::of(0.5);
    let (dat1, dat2) = (T::of(0.75), T::of(-0.4375));
    // Clear below the subdiagonal (the caller's reflectors may still be there).
    for j in 0..n {
        for i in j + 2..n {
            h[ix(i, j)] = T::zero();
        }
    }
    let mut kdefl = 0usize;
    // The active block is rows/columns l..=i; i counts down as eigenvalues deflate.
    let mut i = n - 1;
    loop {
        let mut l = 0usize;
        let mut converged = false;
        for _its in 0..=itmax {
            // A single negligible subdiagonal entry.
            let mut k = i;
            while k > l {
                let sub = h[ix(k, k - 1)].abs();
                if sub <= smlnum {
                    break;
                }
                let mut tst = h[ix(k - 1, k - 1)].abs() + h[ix(k, k)].abs();
                if tst == T::zero() {
                    if k >= l + 2 {
                        tst = tst + h[ix(k - 1, k - 2)].abs();
                    }
                    if k < n - 1 {
                        tst = tst + h[ix(k + 1, k)].abs();
                    }
                }
                if sub <= ulp * tst {
                    let up = h[ix(k - 1, k)].abs();
                    let (ab, ba) = (sub.max(up), sub.min(up));
                    let dd = (h[ix(k - 1, k - 1)] - h[ix(k, k)]).abs();
                    let hk = h[ix(k, k)].abs();
                    let (aa, bb) = (hk.max(dd), hk.min(dd));
                    let s = aa + ab;
                    if ba * (ab / s) <= smlnum.max(ulp * (bb * (aa / s))) {
                        break;
                    }
                }
                k -= 1;
            }
            l = k;
            if l > 0 {
                h[ix(l, l - 1)] = T::zero();
            }
            if l + 1 >= i {
                converged = true;
                break;
            }
            kdefl += 1;
            // The active block; the rest is deferred.
            let (i1, i2) = (l, i);
            // Shifts: the eigenvalues of the trailing 2 × 2 block, or exceptional ones.
            let (mut h11, mut h12, mut h21, mut h22);
            if kdefl.is_multiple_of(2 * EXCEPTIONAL_EVERY) {
                let s = h[ix(i, i - 1)].abs() + h[ix(i - 1, i - 2)].abs();
                h11 = dat1 * s + h[ix(i, i)];
                h12 = dat2 * s;
                h21 = s;
                h22 = h11;
            } else if kdefl.is_multiple_of(EXCEPTIONAL_EVERY) {
                let s = h[ix(l + 1, l)].abs() + h[ix(l + 2, l + 1)].abs();
                h11 = dat1 * s + h[ix(l, l)];
                h12 = dat2 * s;
                h21 = s;
                h22 = h11;
            } else {
                h11 = h[ix(i - 1, i - 1)];
                h21 = h[ix(i, i - 1)];
                h12 = h[ix(i - 1, i)];
                h22 = h[ix(i, i)];
            }
            let s = h11.abs() + h12.abs() + h21.abs() + h22.abs();
            let (rt1r, rt1i, rt2r, rt2i);
            if s == T::zero() {
                (rt1r, rt1i, rt2r, rt2i) = (T::zero(), T::zero(), T::zero(), T::zero());
            } else {
                h11 = h11 / s;
                h21 = h21 / s;
                h12 = h12 / s;
                h22 = h22 / s;
                let tr = (h11 + h22) * half;
                let det = (h11 - tr) * (h22 - tr) - h12 * h21;
                let rtdisc = det.abs().sqrt();
                if det >= T::zero() {
                    rt1r = tr * s;
                    rt2r = rt1r;
                    rt1i = rtdisc * s;
                    rt2i = -rt1i;
                } else {
                    // Two real shifts: use the one closer to h22 twice.
                    let (a, b) = (tr + rtdisc, tr - rtdisc);
                    let r = if (a - h22).abs() <= (b - h22).abs() {
                        a
                    } else {
                        b
                    };
                    rt1r = r * s;
                    rt2r = rt1r;
                    rt1i = T::zero();
                    rt2i = T::zero();
                }
            }
            // Two consecutive small subdiagonal entries: start the bulge at m.
            let mut v = [T::zero(); 3];
            let mut m = i - 2;
            loop {
                let mut h21s = h[ix(m + 1, m)];
                let s = (h[ix(m, m)] - rt2r).abs() + rt2i.abs() + h21s.abs();
                h21s = h[ix(m + 1, m)] / s;
                v[0] = h21s * h[ix(m, m + 1)] + (h[ix(m, m)] - rt1r) * ((h[ix(m, m)] - rt2r) / s)
                    - rt1i * (rt2i / s);
                v[1] = h21s * (h[ix(m, m)] + h[ix(m + 1, m + 1)] - rt1r - rt2r);
                v[2] = h21s * h[ix(m + 2, m + 1)];
                let s = v[0].abs() + v[1].abs() + v[2].abs();
                v.iter_mut().for_each(|x| *x = *x / s);
                if m == l {
                    break;
                }
                let h00 = h[ix(m, m - 1)].abs() * (v[1].abs() + v[2].abs());
                let h01 = v[0].abs()
                    * (h[ix(m - 1, m - 1)].abs() + h[ix(m, m)].abs() + h[ix(m + 1, m + 1)].abs());
                if h00 <= ulp * h01 {
                    break;
                }
                m -= 1;
            }
            // The double-shift QR sweep: chase the bulge from m to the bottom of the block.
            for k in m..i {
                let nr = 3.min(i - k + 1);
                if k > m {
                    for r in 0..nr {
                        v[r] = h[ix(k + r, k - 1)];
                    }
                }
                let (beta, t1) = householder(v[0], &mut v[1..nr]);
                if k > m {
                    h[ix(k, k - 1)] = beta;
                    h[ix(k + 1, k - 1)] = T::zero();
                    if k + 2 < i + 1 {
                        h[ix(k + 2, k - 1)] = T::zero();
                    }
                } else if m > l {
                    // Not −H(k, k−1): stays right when v₁, v₂ underflow.
                    h[ix(k, k - 1)] = h[ix(k, k - 1)] * (T::one() - t1);
                }
                let v2 = v[1];
                let t2 = t1 * v2;
                if nr == 3 {
                    let v3 = v[2];
                    let t3 = t1 * v3;
                    for j in k..=i2 {
                        let c = &mut h[ix(k, j)..ix(k, j) + 3];
                        let sum = c[0] + v2 * c[1] + v3 * c[2];
                        c[0] = c[0] - sum * t1;
                        c[1] = c[1] - sum * t2;
                        c[2] = c[2] - sum * t3;
                    }
                    let top = (k + 3).min(i);
                    reflect3_columns(h, n, i1, top + 1, k, v2, v3, t1, t2, t3);
                    if schur {
                        let kind = Kind::Reflector {
                            nr,
                            v2,
                            v3,
                            t1,
                            t2,
                            t3,
                        };
                        push(
                            h,
                            Deferred {
                                k,
                                kind,
                                rows_end: l,
                                cols_start: i + 1,
                            },
                        );
                    }
                } else {
                    for j in k..=i2 {
                        let c = &mut h[ix(k, j)..ix(k, j) + 2];
                        let sum = c[0] + v2 * c[1];
                        c[0] = c[0] - sum * t1;
                        c[1] = c[1] - sum * t2;
                    }
                    reflect2_columns(h, n, i1, i + 1, k, v2, t1, t2);
                    if schur {
                        let kind = Kind::Reflector {
                            nr,
                            v2,
                            v3: T::zero(),
                            t1,
                            t2,
                            t3: T::zero(),
                        };
                        push(
                            h,
                            Deferred {
                                k,
                                kind,
                                rows_end: l,
                                cols_start: i + 1,
                            },
                        );
                    }
                }
            }
        }
        if !converged {
            return Err(i);
        }
        if l == i {
            wr[i] = h[ix(i, i)];
            wi[i] = T::zero();
        } else {
            // l == i − 1: a 2 × 2 block, standardized.
            let (a, b, c, d) = (
                h[ix(i - 1, i - 1)],
                h[ix(i - 1, i)],
                h[ix(i, i - 1)],
                h[ix(i, i)],
            );
            let s = standardize(a, b, c, d);
            h[ix(i - 1, i - 1)] = s.a;
            h[ix(i - 1, i)] = s.b;
            h[ix(i, i - 1)] = s.c;
            h[ix(i, i)] = s.d;
            wr[i - 1] = s.rt1r;
            wi[i - 1] = s.rt1i;
            wr[i] = s.rt2r;
            wi[i] = s.rt2i;
            if schur {
                // Rows i−1, i right of the block, columns i−1, i above it, and Z: deferred.
                let kind = Kind::Rotation { cs: s.cs, sn: s.sn };
                push(
                    h,
                    Deferred {
                        k: i - 1,
                        kind,
                        rows_end: i - 1,
                        cols_start: i + 1,
                    },
                );
            }
        }
        kdefl = 0;
        if l == 0 {
            return Ok(());
        }
        i = l - 1;
    }
}

/// `M[rows, k..k+3] ← M[rows, k..k+3] (I − τ v vᵀ)`, `v = (1, v2, v3)`, `t = τ v`.
#[allow(clippy::too_many_arguments)]
#[inline]
fn reflect3_columns<T: Real>(
    m: &mut [T],
    ld: usize,
    r0: usize,
    r1: usize,
    k: usize,
    v2: T,
    v3: T,
    t1: T,
    t2: T,
    t3: T,
) {
    let (head, rest) = m.split_at_mut((k + 1) * ld);
    let (c1, rest) = rest.split_at_mut(ld);
    let c0 = &mut head[k * ld + r0..k * ld + r1];
    let c1 = &mut c1[r0..r1];
    let c2 = &mut rest[r0..r1];
    for ((x, y), w) in c0.iter_mut().zip(c1.iter_mut()).zip(c2.iter_mut()) {
        let sum = *x + v2 * *y + v3 * *w;
        *x = *x - sum * t1;
        *y = *y - sum * t2;
        *w = *w - sum * t3;
    }
}

/// `M[rows, k..k+2] ← M[rows, k..k+2] (I − τ v vᵀ)`, `v = (1, v2)`, `t = τ v`.
#[allow(clippy::too_many_arguments)]
#[inline]
fn reflect2_columns<T: Real>(
    m: &mut [T],
    ld: usize,
    r0: usize,
    r1: usize,
    k: usize,
    v2: T,
    t1: T,
    t2: T,
) {
    let (head, rest) = m.split_at_mut((k + 1) * ld);
    let c0 = &mut head[k * ld + r0..k * ld + r1];
    let c1 = &mut rest[r0..r1];
    for (x, y) in c0.iter_mut().zip(c1.iter_mut()) {
        let sum = *x + v2 * *y;
        *x = *x - sum * t1;
        *y = *y - sum * t2;
    }
}

/// The Schur factorization of a real 2 × 2 matrix `[a b; c d] = [cs −sn; sn cs] [a' b'; c' d'] [cs sn; −sn cs]`
/// in standard form: `c' = 0` (real eigenvalues `a'`, `d'`), or `a' = d'` and `b' c' < 0`
/// (eigenvalues `a' ± i√(−b'c')`), as LAPACK's `lanv2` defines it.
pub(crate) struct Standard<T> {
    pub a: T,
    pub b: T,
    pub c: T,
    pub d: T,
    pub rt1r: T,
    pub rt1i: T,
    pub rt2r: T,
    pub rt2i: T,
    pub cs: T,
    pub sn: T,
}

/// See [`Standard`].
pub(crate) fn standardize<T: Real>(a: T, b: T, c: T, d: T) -> Standard<T> {
    let (mut a, mut b, mut c, mut d) = (a, b, c, d);
    let zero = T::zero();
    let one = T::one();
    let half = T::of(0.5);
    let eps = T::EPS;
    let (mut cs, mut sn);
    let sign = |x: T, y: T| x.abs().copysign(y);
    if c == zero {
        cs = one;
        sn = zero;
    } else if b == zero {
        // Swap rows and columns.
        cs = zero;
        sn = one;
        std::mem::swap(&mut a, &mut d);
        b = -c;
        c = zero;
    } else if a - d == zero && b.signum() != c.signum() {
        cs = one;
        sn = zero;
    } else {
        let temp = a - d;
        let mut p = half * temp;
        let bcmax = b.abs().max(c.abs());
        let bcmis = b.abs().min(c.abs()) * b.signum() * c.signum();
        let scale = p.abs().max(bcmax);
        let mut z = (p / scale) * p + (bcmax / scale) * bcmis;
        if z >= T::of(4.0) * eps {
            // Real eigenvalues: the upper triangular form.
            z = p + sign(scale.sqrt() * z.sqrt(), p);
            a = d + z;
            d = d - (bcmax / z) * bcmis;
            let tau = c.hypot(z);
            cs = z / tau;
            sn = c / tau;
            b = b - c;
            c = zero;
        } else {
            // Complex or nearly equal real eigenvalues: make the diagonal equal.
            let safmin = T::min_positive_value();
            let base = T::of(2.0);
            let e = ((safmin / eps).log(base) / T::of(2.0))
                .to_i32()
                .unwrap_or(0);
            let safmn2 = base.powi(e);
            let safmx2 = one / safmn2;
            let mut sigma = b + c;
            let mut temp = temp;
            for _ in 0..=20 {
                let scale = temp.abs().max(sigma.abs());
                if scale >= safmx2 {
                    sigma = sigma * safmn2;
                    temp = temp * safmn2;
                } else if scale <= safmn2 {
                    sigma = sigma * safmx2;
                    temp = temp * safmx2;
                } else {
                    break;
                }
            }
            p = half * temp;
            let mut tau = sigma.hypot(temp);
            cs = (half * (one + sigma.abs() / tau)).sqrt();
            sn = -(p / (tau * cs)) * sign(one, sigma);
            // [aa bb; cc dd] = [a b; c d] [cs −sn; sn cs]
            let aa = a * cs + b * sn;
            let bb = -a * sn + b * cs;
            let cc = c * cs + d * sn;
            let dd = -c * sn + d * cs;
            // [a b; c d] = [cs sn; −sn cs] [aa bb; cc dd]
            a = aa * cs + cc * sn;
            b = bb * cs + dd * sn;
            c = -aa * sn + cc * cs;
            d = -bb * sn + dd * cs;
            let temp = half * (a + d);
            a = temp;
            d = temp;
            if c != zero {
                if b != zero {
                    if b.signum() == c.signum() {
                        // Real eigenvalues after all: reduce to upper triangular.
                        let sab = b.abs().sqrt();
                        let sac = c.abs().sqrt();
                        p = sign(sab * sac, c);
                        tau = one / (b + c).abs().sqrt();
                        a = temp + p;
                        d = temp - p;
                        b = b - c;
                        c = zero;
                        let cs1 = sab * tau;
                        let sn1 = sac * tau;
                        let t = cs * cs1 - sn * sn1;
                        sn = cs * sn1 + sn * cs1;
                        cs = t;
                    }
                } else {
                    b = -c;
                    c = zero;
                    let t = cs;
                    cs = -sn;
                    sn = t;
                }
            }
        }
    }
    let (rt1i, rt2i) = if c == zero {
        (zero, zero)
    } else {
        let w = b.abs().sqrt() * c.abs().sqrt();
        (w, -w)
    };
    Standard {
        a,
        b,
        c,
        d,
        rt1r: a,
        rt1i,
        rt2r: d,
        rt2i,
        cs,
        sn,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `‖[a b; c d] − R S Rᵀ‖` small and `S` in standard form, for assorted blocks.
    #[test]
    fn standard_form() {
        let cases = [
            (1.0, 2.0, 3.0, 4.0),
            (1.0, -2.0, 3.0, 1.0),
            (0.0, 1.0, -1.0, 0.0),
            (4.0, 0.0, 1.0, 2.0),
            (1.0, 1e-20, -1e-20, 1.0),
            (2.0, 3.0, -1e-3, 2.0 + 1e-9),
            (1.0, 5.0, 0.0, 3.0),
            (3.0, -7.0, 2.0, -1.0),
        ];
        for (a, b, c, d) in cases {
            let s = standardize::<f64>(a, b, c, d);
            assert!(
                s.c == 0.0 || (s.a == s.d && s.b * s.c < 0.0),
                "{a} {b} {c} {d}"
            );
            // R S Rᵀ with R = [cs −sn; sn cs].
            let r = [[s.cs, -s.sn], [s.sn, s.cs]];
            let m = [[s.a, s.b], [s.c, s.d]];
            let mut rs = [[0.0; 2]; 2];
            let mut back = [[0.0; 2]; 2];
            for i in 0..2 {
                for j in 0..2 {
                    rs[i][j] = r[i][0] * m[0][j] + r[i][1] * m[1][j];
                }
            }
            for i in 0..2 {
                for j in 0..2 {
                    back[i][j] = rs[i][0] * r[j][0] + rs[i][1] * r[j][1];
                }
            }
            let orig = [[a, b], [c, d]];
            let scale = a.abs() + b.abs() + c.abs() + d.abs();
            for i in 0..2 {
                for j in 0..2 {
                    assert!(
                        (back[i][j] - orig[i][j]).abs() <= 8.0 * f64::EPSILON * scale,
                        "{a} {b} {c} {d}: {back:?}"
                    );
                }
            }
        }
    }
}
