//! Complex kernels in plain Rust: level 1/2 for engine `rayon` (one chunk or row block per
//! call: `dot` (optionally conjugating `x`), `axpy`, `nrm2`, `gemv` (optionally conjugating
//! `A`)), and the base blocks of the complex factorizations in `factor/` on both rayon engines
//! (`trsm_left`: substitution, `getf2`: panel LU with partial pivoting, `potrf_lower`:
//! unblocked Hermitian Cholesky) and of engine `rayon` (`geqr2`: Householder panel QR).
//!
//! Written once over [`Cplx`] (`Complex<f32>`, `Complex<f64>`). Sums over contiguous inputs
//! keep [`LANES`] independent accumulators per part, combined pairwise in a fixed order, so a
//! given chunk always produces the same bits; the norm reads the interleaved parts as one real
//! vector and runs the real kernel (its overflow-safe second pass included).

use ndarray::{
    s, Array1, ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2, Axis, ShapeBuilder, Zip,
};
use num_complex::Complex;
use num_traits::{Float, One, Zero};

use crate::alloc::assign_2d;
use crate::kernels::level1;
use crate::kernels::simd1::{self, Fma};
use crate::real::{scaled_norm, Real};

/// A complex element of the kernels: `Complex<R>` for a real `R`.
///
/// # Safety
/// Implementors are laid out as `[re, im]` (`#[repr(C)]` of two `Re`), so a slice of `n`
/// values is a slice of `2n` reals.
pub unsafe trait Cplx:
    Copy
    + Send
    + Sync
    + PartialEq
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::Div<Output = Self>
    + 'static
{
    /// The type of the parts.
    type Re: Real;
    /// `(re, im)`.
    fn halves(self) -> (Self::Re, Self::Re);
    /// `re + i·im`.
    fn from_halves(re: Self::Re, im: Self::Re) -> Self;
}

// SAFETY: `num_complex::Complex` is `#[repr(C)] { re: T, im: T }`.
unsafe impl<R: Real> Cplx for Complex<R> {
    type Re = R;
    #[inline(always)]
    fn halves(self) -> (R, R) {
        (self.re, self.im)
    }
    #[inline(always)]
    fn from_halves(re: R, im: R) -> Self {
        Complex::new(re, im)
    }
}

/// Independent accumulators per part.
const LANES: usize = 8;

/// `Σ f(xᵢ) yᵢ` over equal-length slices, `f` the conjugation when `conj`.
fn block_dot<C: Cplx>(x: &[C], y: &[C], conj: bool) -> C {
    // re = Σ xr·yr ∓ xi·yi, im = Σ xr·yi ± xi·yr (lower sign: conjugated x).
    let mut acc = [[C::Re::zero(); LANES]; 4];
    let step = |l: usize, a: C, b: C, acc: &mut [[C::Re; LANES]; 4]| {
        let ((xr, xi), (yr, yi)) = (a.halves(), b.halves());
        acc[0][l] = acc[0][l] + xr * yr;
        acc[1][l] = acc[1][l] + xi * yi;
        acc[2][l] = acc[2][l] + xr * yi;
        acc[3][l] = acc[3][l] + xi * yr;
    };
    let nb = x.len() - x.len() % LANES;
    for (xc, yc) in x[..nb].chunks_exact(LANES).zip(y[..nb].chunks_exact(LANES)) {
        for l in 0..LANES {
            step(l, xc[l], yc[l], &mut acc);
        }
    }
    for (l, (&a, &b)) in x[nb..].iter().zip(&y[nb..]).enumerate() {
        step(l, a, b, &mut acc);
    }
    // Pairwise combination of the accumulators: log2(LANES) levels.
    let [rr, ii, ri, ir] = acc.map(|mut a| {
        let mut width = LANES;
        while width > 1 {
            width /= 2;
            for l in 0..width {
                a[l] = a[l] + a[l + width];
            }
        }
        a[0]
    });
    combine(rr, ii, ri, ir, conj)
}

/// The complex sum from the four real partial sums.
#[inline(always)]
fn combine<C: Cplx>(rr: C::Re, ii: C::Re, ri: C::Re, ir: C::Re, conj: bool) -> C {
    if conj {
        C::from_halves(rr + ii, ri - ir)
    } else {
        C::from_halves(rr - ii, ri + ir)
    }
}

/// `Σ xᵢ yᵢ`, or `Σ conj(xᵢ) yᵢ` with `conj`, for vectors of equal length.
pub(crate) fn dot<C: Cplx>(x: ArrayView1<C>, y: ArrayView1<C>, conj: bool) -> C {
    match (x.as_slice(), y.as_slice()) {
        (Some(xs), Some(ys)) => block_dot(xs, ys, conj),
        _ => {
            let z = C::Re::zero();
            let (rr, ii, ri, ir) =
                x.iter()
                    .zip(y.iter())
                    .fold((z, z, z, z), |(rr, ii, ri, ir), (&a, &b)| {
                        let ((xr, xi), (yr, yi)) = (a.halves(), b.halves());
                        (rr + xr * yr, ii + xi * yi, ri + xr * yi, ir + xi * yr)
                    });
            combine(rr, ii, ri, ir, conj)
        }
    }
}

/// `y ← αx + y` for vectors of equal length.
pub(crate) fn axpy<C: Cplx>(alpha: C, x: ArrayView1<C>, y: &mut ArrayViewMut1<C>) {
    match (x.as_slice(), y.as_slice_mut()) {
        (Some(xs), Some(ys)) => ys
            .iter_mut()
            .zip(xs)
            .for_each(|(yi, &xi)| *yi = *yi + alpha * xi),
        _ => Zip::from(y)
            .and(&x)
            .for_each(|yi, &xi| *yi = *yi + alpha * xi),
    }
}

/// `‖x‖₂`: a contiguous `x` is the real vector of its `2n` parts, normed by the real kernel
/// (one pass, and a scaled second pass when the sum of squares over- or underflowed); a
/// strided `x` takes the same two passes over its parts.
pub(crate) fn nrm2<C: Cplx>(x: ArrayView1<C>) -> C::Re {
    if let Some(xs) = x.as_slice() {
        // SAFETY: `Cplx` values are two `Re` each (`[re, im]`), so `xs` is `2·len` reals,
        // borrowed for as long as `xs`.
        let parts =
            unsafe { std::slice::from_raw_parts(xs.as_ptr().cast::<C::Re>(), 2 * xs.len()) };
        return level1::nrm2(ArrayView1::from(parts));
    }
    let parts = || x.iter().flat_map(|z| <[C::Re; 2]>::from(z.halves()));
    let ss = parts().fold(C::Re::zero(), |s, v| s + v * v);
    let tiny = C::Re::min_positive_value() / C::Re::EPS;
    if ss.is_finite() && ss >= tiny {
        ss.sqrt()
    } else {
        scaled_norm(parts())
    }
}

/// `y ← α f(A) x + β y` for `A: m × n`, `f` the element-wise conjugation when `conj`; `β = 0`
/// overwrites `y` (NaN included).
///
/// Row-contiguous `A` (or any other layout but column-contiguous): one dot product per row.
/// Column-contiguous `A`: `y` accumulates `xⱼ·f(A[:, j])` column by column in a temporary, so
/// `A` is read with unit stride.
pub(crate) fn gemv<C: Cplx>(
    alpha: C,
    a: ArrayView2<C>,
    conj: bool,
    x: ArrayView1<C>,
    beta: C,
    y: &mut ArrayViewMut1<C>,
) {
    let (m, n) = a.dim();
    let zero = C::from_halves(C::Re::zero(), C::Re::zero());
    let ax: Array1<C> = if a.strides()[0] == 1 && a.strides()[1] != 1 && m > 1 && n > 1 {
        let mut acc = Array1::from_elem(m, zero);
        let s = if conj { -C::Re::one() } else { C::Re::one() };
        for (col, &xj) in a.axis_iter(Axis(1)).zip(x.iter()) {
            let (xr, xi) = xj.halves();
            // xⱼ·f(a) for each a of the column: (xr·ar − s·xi·ai) + i(xi·ar + s·xr·ai).
            Zip::from(&mut acc).and(&col).for_each(|yi, &aij| {
                let (ar, ai) = aij.halves();
                *yi = *yi + C::from_halves(xr * ar - s * xi * ai, xi * ar + s * xr * ai);
            });
        }
        acc
    } else {
        a.outer_iter().map(|row| dot(row, x, conj)).collect()
    };
    Zip::from(y).and(&ax).for_each(|yi, &v| {
        *yi = if beta == zero {
            alpha * v
        } else {
            alpha * v + beta * *yi
        }
    });
}

/// `B ← A⁻¹ B` in place for triangular `A: n × n` (`lower`: its lower triangle, else its upper;
/// `unit`: ones on the diagonal) and `B: n × r`, any strides. Divides by the diagonal.
///
/// Several right-hand sides contiguous along each row of `B` (a row-major `B`, or the
/// transpose of a column-major block), or at least [`ROWS_MIN_RHS`] of them in any layout
/// (through a row-major copy): row-oriented substitution by [`solve_rows`], each step one
/// FMA pass along contiguous rows. Otherwise one right-hand side at a time (a strided one
/// through a contiguous copy) by [`solve_column`], on plain slices. A c64 Cholesky of order
/// 384 on one thread (Zen 3), whose panel solves come here with hundreds of column-major
/// right-hand sides: 11 ms with ndarray slicing at every step, 5.4 ms one column at a time on
/// slices, 4.0–4.3 ms through rows (OpenBLAS's `zpotrf` 2.4).
pub(crate) fn trsm_left<C: Cplx>(
    lower: bool,
    unit: bool,
    a: ArrayView2<C>,
    b: &mut ArrayViewMut2<C>,
) {
    if b.ncols() > 1 && b.strides()[1] == 1 {
        solve_rows(lower, unit, a, b);
        return;
    }
    if b.ncols() >= ROWS_MIN_RHS {
        // Several strided right-hand sides: through a row-major copy, so each step is one
        // pass along long contiguous rows instead of a short pass per column.
        let zero = C::from_halves(C::Re::zero(), C::Re::zero());
        let mut t = ndarray::Array2::from_elem(b.dim(), zero);
        assign_2d(&mut t.view_mut(), b.view());
        solve_rows(lower, unit, a, &mut t.view_mut());
        assign_2d(b, t.view());
        return;
    }
    let mut tmp = Vec::new();
    for mut x in b.axis_iter_mut(Axis(1)) {
        match x.as_slice_mut() {
            Some(x) => solve_column(lower, unit, a, x),
            None => {
                tmp.clear();
                tmp.extend(x.iter().copied());
                solve_column(lower, unit, a, &mut tmp);
                x.iter_mut().zip(&tmp).for_each(|(v, &t)| *v = t);
            }
        }
    }
}

/// Right-hand sides from which the strided path of [`trsm_left`] copies them into rows (the
/// copy moves `2nr` elements against `n²r/2` multiply-adds). Chosen, not tuned.
const ROWS_MIN_RHS: usize = 4;

/// [`trsm_left`] for right-hand sides contiguous along each row of `b`: row-oriented
/// substitution, zero entries of `A` skipped. Each update `rowᵢ −= aᵢₚ rowₚ` runs on the
/// interleaved parts as `rowᵢ += (−Re aᵢₚ)·rowₚ + (−Im aᵢₚ)·(i·rowₚ)` with `i·rowₚ` formed once
/// per step: two FMAs per real and no shuffles ([`simd1::axpy2`]; the complex product written
/// directly compiled to a permute per two FMAs and ran no faster than the scalar loop).
fn solve_rows<C: Cplx>(lower: bool, unit: bool, a: ArrayView2<C>, b: &mut ArrayViewMut2<C>) {
    let n = a.nrows();
    let fma = Fma::detect();
    let zero = C::from_halves(C::Re::zero(), C::Re::zero());
    let mut xp = Vec::with_capacity(b.ncols());
    let mut ix = Vec::with_capacity(2 * b.ncols());
    for step in 0..n {
        let p = if lower { step } else { n - 1 - step };
        {
            let mut row = b.row_mut(p);
            let row = row.as_slice_mut().expect("unit stride");
            if !unit {
                let d = a[[p, p]];
                row.iter_mut().for_each(|v| *v = *v / d);
            }
            xp.clear();
            xp.extend_from_slice(row);
        }
        let rest = if lower { p + 1..n } else { 0..p };
        let x = reals(&xp);
        // i·x: (re, im) → (−im, re).
        ix.clear();
        ix.extend(x.chunks_exact(2).flat_map(|c| [-c[1], c[0]]));
        for i in rest {
            let aip = a[[i, p]];
            if aip == zero {
                continue;
            }
            let (ar, ai) = aip.halves();
            let mut row = b.row_mut(i);
            let row = reals_mut(row.as_slice_mut().expect("unit stride"));
            simd1::axpy2(fma, -ar, x, -ai, &ix, row);
        }
    }
}

/// The interleaved parts `[re, im, re, im, …]` of a complex slice.
fn reals<C: Cplx>(x: &[C]) -> &[C::Re] {
    // SAFETY: `Cplx` elements are laid out as `[re, im]` (the trait's contract), so `x` is
    // `2·len` initialised reals, borrowed for the same lifetime.
    unsafe { std::slice::from_raw_parts(x.as_ptr().cast::<C::Re>(), 2 * x.len()) }
}

/// [`reals`] of a mutable slice.
fn reals_mut<C: Cplx>(x: &mut [C]) -> &mut [C::Re] {
    // SAFETY: as `reals`; the exclusive borrow of `x` moves to the result.
    unsafe { std::slice::from_raw_parts_mut(x.as_mut_ptr().cast::<C::Re>(), 2 * x.len()) }
}

/// `x ← A⁻¹ x` for one contiguous right-hand side ([`trsm_left`]): along the rows of `A` when
/// they are contiguous (dot form), else down its columns (axpy form, zero multipliers
/// skipped), on plain slices.
fn solve_column<C: Cplx>(lower: bool, unit: bool, a: ArrayView2<C>, x: &mut [C]) {
    let n = a.nrows();
    let zero = C::from_halves(C::Re::zero(), C::Re::zero());
    let diag = |i: usize| a[[i, i]];
    if n > 1 && a.strides()[1] == 1 {
        for step in 0..n {
            let i = if lower { step } else { n - 1 - step };
            let row = a.row(i).to_slice().expect("unit stride");
            let done = if lower { 0..i } else { i + 1..n };
            let t = x[i] - block_dot(&row[done.clone()], &x[done], false);
            x[i] = if unit { t } else { t / diag(i) };
        }
        return;
    }
    for step in 0..n {
        let p = if lower { step } else { n - 1 - step };
        if !unit {
            x[p] = x[p] / diag(p);
        }
        let xp = x[p];
        if xp == zero {
            continue;
        }
        let rest = if lower { p + 1..n } else { 0..p };
        let col = a.column(p);
        match col.to_slice() {
            Some(c) => x[rest.clone()]
                .iter_mut()
                .zip(&c[rest])
                .for_each(|(xi, &aip)| *xi = *xi - aip * xp),
            None => {
                for i in rest {
                    x[i] = x[i] - col[i] * xp;
                }
            }
        }
    }
}

/// `|re| + |im|`: LAPACK's `cabs1`, the pivot measure of `izamax`.
fn cabs1<C: Cplx>(z: C) -> C::Re {
    let (re, im) = z.halves();
    re.abs() + im.abs()
}

/// Factors the `m × nb` panel `a` in place as `P·a = L·U` (L unit lower below the diagonal, U
/// on and above it), column by column: the pivot is the first entry of largest `|re| + |im|`
/// in the column (LAPACK's choice), its row swapped up, the column below divided by it, the
/// columns to the right updated. `swaps[j]` receives the row swapped with row `j`. Returns the
/// first column whose pivot is exactly zero; the factorization carries on past it.
pub(crate) fn getf2<C: Cplx>(a: &mut ArrayViewMut2<C>, swaps: &mut [usize]) -> Option<usize> {
    let (m, nb) = a.dim();
    let zero = C::from_halves(C::Re::zero(), C::Re::zero());
    let mut first_zero = None;
    for j in 0..m.min(nb) {
        let mut p = j;
        let mut best = cabs1(a[[j, j]]);
        for i in j + 1..m {
            let v = cabs1(a[[i, j]]);
            // NaN never wins, like the real kernel's `>`.
            if v > best {
                best = v;
                p = i;
            }
        }
        swaps[j] = p;
        if p != j {
            for c in 0..nb {
                a.swap([j, c], [p, c]);
            }
        }
        let piv = a[[j, j]];
        if piv == zero {
            first_zero.get_or_insert(j);
            continue;
        }
        a.slice_mut(s![j + 1.., j]).map_inplace(|v| *v = *v / piv);
        let (left, mut right) = a.view_mut().split_at(Axis(1), j + 1);
        let l = left.slice(s![j + 1.., j]);
        for mut col in right.axis_iter_mut(Axis(1)) {
            let u = col[j];
            if u == zero {
                continue;
            }
            Zip::from(col.slice_mut(s![j + 1..]))
                .and(l)
                .for_each(|v, &lij| *v = *v - lij * u);
        }
    }
    first_zero
}

/// Lower Cholesky `A = L Lᴴ` of a small Hermitian block in place (its lower triangle read and
/// overwritten; the upper left alone): `Err(j)` when the leading minor of order `j + 1` is not
/// positive (a diagonal that is not `> 0`, NaN included).
pub(crate) fn potrf_lower<C: Cplx>(a: &mut ArrayViewMut2<C>) -> Result<(), usize> {
    let n = a.nrows();
    let zero = C::Re::zero();
    for j in 0..n {
        // d = a_jj − Σ_p |l_jp|² (the diagonal of a Hermitian matrix is real).
        let mut d = a[[j, j]].halves().0;
        for p in 0..j {
            let (re, im) = a[[j, p]].halves();
            d = d - (re * re + im * im);
        }
        if d <= zero || d.is_nan() {
            return Err(j);
        }
        let d = d.sqrt();
        a[[j, j]] = C::from_halves(d, zero);
        for i in j + 1..n {
            // l_ij = (a_ij − Σ_p l_ip conj(l_jp)) / l_jj.
            let mut s = a[[i, j]];
            for p in 0..j {
                let (re, im) = a[[j, p]].halves();
                s = s - a[[i, p]] * C::from_halves(re, -im);
            }
            let (re, im) = s.halves();
            a[[i, j]] = C::from_halves(re / d, im / d);
        }
    }
    Ok(())
}

/// `1 / (re + i·im)` by Smith's method (LAPACK's `zladiv`): no intermediate `re² + im²`, so
/// neither overflow nor underflow for any representable non-zero divisor.
fn recip<C: Cplx>(d: C) -> C {
    let (a, b) = d.halves();
    if a.abs() >= b.abs() {
        let r = b / a;
        let den = a + b * r;
        C::from_halves(C::Re::one() / den, -r / den)
    } else {
        let r = a / b;
        let den = b + a * r;
        C::from_halves(r / den, -C::Re::one() / den)
    }
}

/// Householder QR of the `m × nb` panel `a` in place (engine `rayon`; the complex base case of
/// the blocked QR in `factor::qr`), with LAPACK's conventions (`zgeqr2` / `zlarfg`): reflectors
/// `H = I − τ v vᴴ` with `v₀ = 1`, `β = −sign(Re α)·‖(α, x)‖` real, `τ = (β − α)/β` complex
/// (`τ = 0` only when `x = 0` and `α` is real), so R has a real diagonal; each `Hᴴ` (scalar
/// `conj(τ)`) is applied to the columns to the right. R on and above the diagonal, the
/// essential part of each `v` below it, the scalars in `tau` (`min(m, nb)` entries).
pub(crate) fn geqr2<C: Cplx>(a: &mut ArrayViewMut2<C>, tau: &mut [C]) {
    let nb = a.ncols();
    super::on_columns(a, |w, m| geqr2_columns(w, m, nb, tau));
}

/// [`geqr2`] on the column-major `m × nb` panel `w`.
fn geqr2_columns<C: Cplx>(w: &mut [C], m: usize, nb: usize, tau: &mut [C]) {
    let zero = C::from_halves(C::Re::zero(), C::Re::zero());
    let conj = |z: C| {
        let (re, im) = z.halves();
        C::from_halves(re, -im)
    };
    for j in 0..m.min(nb) {
        let (head, tail) = w.split_at_mut((j + 1) * m);
        let col = &mut head[j * m + j..];
        let (alpha0, x) = col
            .split_first_mut()
            .expect("j < m: the column is not empty");
        let t = larfg(alpha0, x);
        tau[j] = t;
        if t == zero {
            continue;
        }
        // Apply Hᴴ = I − conj(τ) v vᴴ (v = [1; x]) to the columns to the right.
        let (v, tc) = (&*x, conj(t));
        for c in tail.chunks_exact_mut(m) {
            let (cj, rest) = c[j..].split_first_mut().expect("j < m");
            let dot = rest
                .iter()
                .zip(v)
                .fold(*cj, |s, (&r, &vi)| s + conj(vi) * r);
            let f = tc * dot;
            if f != zero {
                *cj = *cj - f;
                rest.iter_mut().zip(v).for_each(|(r, &vi)| *r = *r - f * vi);
            }
        }
    }
}

/// LAPACK's `zlarfg` on `(α, x)`: overwrites `α` with `β` (real), `x` with the essential part
/// of `v`, and returns `τ`.
fn larfg<C: Cplx>(alpha0: &mut C, x: &mut [C]) -> C {
    let zero = C::Re::zero();
    let parts = |x: &[C]| scaled_norm(x.iter().flat_map(|z| <[C::Re; 2]>::from(z.halves())));
    let (mut ar, mut ai) = alpha0.halves();
    let mut xnorm = parts(x);
    if xnorm == zero && ai == zero {
        return C::from_halves(zero, zero);
    }
    let norm3 = |ar: C::Re, ai: C::Re, xn: C::Re| ar.hypot(ai).hypot(xn);
    let mut beta = -norm3(ar, ai, xnorm).copysign(ar);
    let safmin = C::Re::min_positive_value() / C::Re::EPS;
    // β so small that 1/(α − β) could overflow: rescale (as LAPACK's larfg does).
    let mut knt = 0;
    while beta.abs() < safmin && knt < 20 {
        knt += 1;
        let up = C::Re::one() / safmin;
        let s = C::from_halves(up, zero);
        x.iter_mut().for_each(|v| *v = *v * s);
        ar = ar * up;
        ai = ai * up;
        beta = beta * up;
    }
    if knt > 0 {
        xnorm = parts(x);
        beta = -norm3(ar, ai, xnorm).copysign(ar);
    }
    let tau = C::from_halves((beta - ar) / beta, -ai / beta);
    let scale = recip(C::from_halves(ar - beta, ai));
    x.iter_mut().for_each(|v| *v = *v * scale);
    for _ in 0..knt {
        beta = beta * safmin;
    }
    *alpha0 = C::from_halves(beta, zero);
    tau
}

/// The row stride, in reals, of the interleaved parts of a complex `p × q` matrix with these
/// `strides` (in complex values), when its strides are non-negative and its rows contiguous
/// (or one column wide); else `None`.
pub(crate) fn interleaved_row_stride(dim: (usize, usize), strides: &[isize]) -> Option<usize> {
    let (p, q) = dim;
    let (rs, cs) = (strides[0], strides[1]);
    if rs < 0 || (cs != 1 && q > 1) {
        return None;
    }
    Some(if p <= 1 { 2 * q } else { 2 * rs as usize })
}

/// A complex `p × q` view with non-negative strides whose rows are contiguous (or one column
/// wide), as the real `p × 2q` view of its interleaved parts: a row's 2-norm is the real row's.
pub(crate) fn interleaved_rows<C: Cplx>(a: ArrayView2<'_, C>) -> Option<ArrayView2<'_, C::Re>> {
    let (p, q) = a.dim();
    let rs = interleaved_row_stride((p, q), a.strides())?;
    // SAFETY: `C` is `[re, im]` (the contract of `Cplx`), so a row of `q` values at unit stride
    // is `2q` reals at unit stride and rows `rs / 2` values apart are `rs` reals apart; every
    // element of the new view is a part of an element of `a`, borrowed for the same lifetime.
    Some(unsafe { ArrayView2::from_shape_ptr((p, 2 * q).strides((rs, 1)), a.as_ptr().cast()) })
}

/// A complex `p × q` view with unit row stride and non-negative column stride (a column-major
/// block, or one row tall), as the real `2p × q` view whose rows `2i` and `2i + 1` are the
/// real and the imaginary parts of row `i`: column-major with leading dimension twice the
/// complex one. `None` for other layouts (and for overlapping columns).
pub(crate) fn interleaved_cols<C: Cplx>(a: ArrayView2<'_, C>) -> Option<ArrayView2<'_, C::Re>> {
    let (p, q) = a.dim();
    let (rs, cs) = (a.strides()[0], a.strides()[1]);
    if (rs != 1 && p > 1) || (q > 1 && (cs < 0 || (cs as usize) < p)) {
        return None;
    }
    let ld = if q > 1 { 2 * cs as usize } else { 2 * p };
    // SAFETY: `C` is `[re, im]` (the contract of `Cplx`): element (i, j) of `a` is the two reals
    // at offsets 2(i + j·cs) and 2(i + j·cs) + 1 from its base, which are elements (2i, j) and
    // (2i + 1, j) of the new view (row stride 1, column stride 2·cs); every element of the new
    // view is a part of an element of `a`, borrowed for the same lifetime.
    Some(unsafe { ArrayView2::from_shape_ptr((2 * p, q).strides((1, ld)), a.as_ptr().cast()) })
}

/// [`interleaved_rows`] for a mutable view.
pub(crate) fn interleaved_rows_mut<C: Cplx>(
    mut a: ArrayViewMut2<'_, C>,
) -> Option<ArrayViewMut2<'_, C::Re>> {
    let (p, q) = a.dim();
    let rs = interleaved_row_stride((p, q), a.strides())?;
    // SAFETY: as `interleaved_rows`; the new view takes over `a`'s exclusive borrow, and
    // distinct indices of it map to distinct parts of distinct elements of `a`.
    Some(unsafe {
        ArrayViewMut2::from_shape_ptr((p, 2 * q).strides((rs, 1)), a.as_mut_ptr().cast())
    })
}

/// The real and the imaginary parts of a non-empty complex view (any strides), as two real
/// views of its shape (strides doubled, the second one real further on).
pub(crate) fn parts<C: Cplx>(mut a: ArrayView2<'_, C>) -> [ArrayView2<'_, C::Re>; 2] {
    let (p, q) = a.dim();
    assert!(p > 0 && q > 0, "parts of an empty view");
    let neg = [0, 1].map(|i| a.strides()[i] < 0);
    for (i, &n) in neg.iter().enumerate() {
        if n {
            a.invert_axis(Axis(i));
        }
    }
    let st = |i: usize| 2 * a.strides()[i].unsigned_abs();
    let shape = (p, q).strides((st(0), st(1)));
    let base: *const C::Re = a.as_ptr().cast();
    // SAFETY: as `interleaved_rows` (strides made non-negative above): element `(i, j)` of `a`
    // starts `2 (i s₀ + j s₁)` reals after `base`, its real part there and its imaginary part
    // one real later (the second view starts at `base + 1`, inside `a`'s first element, which
    // exists: `a` is not empty); both views only read parts of elements of `a`, borrowed for
    // the same lifetime.
    let mut v = unsafe {
        [
            ArrayView2::from_shape_ptr(shape, base),
            ArrayView2::from_shape_ptr(shape, base.add(1)),
        ]
    };
    for w in &mut v {
        for (i, &n) in neg.iter().enumerate() {
            if n {
                w.invert_axis(Axis(i));
            }
        }
    }
    v
}

/// The real and the imaginary parts of a non-empty complex vector view (any stride), as two
/// real mutable views (stride doubled, the second one real further on).
pub(crate) fn parts_mut<C: Cplx>(mut x: ArrayViewMut1<'_, C>) -> [ArrayViewMut1<'_, C::Re>; 2] {
    let n = x.len();
    assert!(n > 0, "parts of an empty view");
    let neg = x.strides()[0] < 0;
    if neg {
        x.invert_axis(Axis(0));
    }
    let st = 2 * x.strides()[0].unsigned_abs();
    let base: *mut C::Re = x.as_mut_ptr().cast();
    // SAFETY: as `parts`; the two views take over `x`'s exclusive borrow, and they are
    // disjoint: the first one holds only real parts, the second only imaginary parts, and
    // distinct indices of either map to distinct elements of `x` (a mutable view's elements
    // are distinct).
    let mut v = unsafe {
        [
            ArrayViewMut1::from_shape_ptr(n.strides(st), base),
            ArrayViewMut1::from_shape_ptr(n.strides(st), base.add(1)),
        ]
    };
    if neg {
        for w in &mut v {
            w.invert_axis(Axis(0));
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, s};

    fn c(re: f64, im: f64) -> Complex<f64> {
        Complex::new(re, im)
    }

    #[test]
    fn interleaved_cols_are_the_parts_by_rows() {
        use ndarray::{Array2, ShapeBuilder};
        let z = Array2::from_shape_fn((3, 4).f(), |(i, j)| c(i as f64, 10.0 * j as f64 + 1.0));
        // A column-major block and a column-major sub-block (leading dimension 3, not 2).
        for v in [z.view(), z.slice(s![1.., 1..3])] {
            let r = interleaved_cols(v).expect("contiguous columns");
            assert_eq!(r.dim(), (2 * v.nrows(), v.ncols()));
            for ((i, j), w) in v.indexed_iter() {
                assert_eq!((r[[2 * i, j]], r[[2 * i + 1, j]]), (w.re, w.im));
            }
        }
        // One column: any column stride.
        let col = z.slice(s![.., 2..3]);
        assert_eq!(interleaved_cols(col).unwrap()[[5, 0]], 21.0);
        // Rows contiguous, a reversed axis, or overlapping columns: none.
        let rm = Array2::from_shape_fn((3, 4), |(i, j)| c(i as f64, j as f64));
        assert!(interleaved_cols(rm.view()).is_none());
        assert!(interleaved_cols(z.slice(s![.., ..;-1])).is_none());
        // SAFETY: a read-only view of 3 + 1 elements of `z`'s first column (columns one element
        // apart, so they overlap), inside its buffer.
        let overlap = unsafe { ArrayView2::from_shape_ptr((3, 2).strides((1, 1)), z.as_ptr()) };
        assert!(interleaved_cols(overlap).is_none());
    }

    #[test]
    fn dot_conjugates_x_only_when_asked() {
        let x: Array1<_> = (0..19).map(|i| c(i as f64, 1.0 - i as f64)).collect();
        let y: Array1<_> = (0..19).map(|i| c(2.0 - i as f64, 0.5 * i as f64)).collect();
        let plain = x.iter().zip(&y).fold(c(0.0, 0.0), |s, (a, b)| s + a * b);
        let conj = x
            .iter()
            .zip(&y)
            .fold(c(0.0, 0.0), |s, (a, b)| s + a.conj() * b);
        assert_eq!(dot(x.view(), y.view(), false), plain);
        assert_eq!(dot(x.view(), y.view(), true), conj);
        // Strided views take the element loop.
        let (xs, ys) = (x.slice(s![..;2]), y.slice(s![..;2]));
        let want = xs
            .iter()
            .zip(&ys)
            .fold(c(0.0, 0.0), |s, (a, b)| s + a.conj() * b);
        assert_eq!(dot(xs, ys, true), want);
    }

    #[test]
    fn nrm2_neither_overflows_nor_underflows() {
        assert_eq!(nrm2(array![c(3e300, 4e300)].view()), 5e300);
        let x = array![c(3e-300, 0.0), c(0.0, 0.0), c(0.0, 4e-300)];
        assert_eq!(nrm2(x.view()), 5e-300);
        assert_eq!(nrm2(x.slice(s![..;2])), 5e-300);
        assert!(nrm2(array![c(f64::NAN, 0.0)].view()).is_nan());
    }

    #[test]
    fn gemv_conjugates_a_in_both_layouts() {
        let a = array![
            [c(1.0, 2.0), c(0.0, -1.0)],
            [c(3.0, 0.5), c(-2.0, 1.0)],
            [c(0.0, 0.0), c(1.0, 1.0)]
        ];
        let x = array![c(1.0, -1.0), c(2.0, 3.0)];
        let want: Array1<_> = a
            .outer_iter()
            .map(|r| {
                r.iter()
                    .zip(&x)
                    .fold(c(0.0, 0.0), |s, (a, b)| s + a.conj() * b)
            })
            .collect();
        let af = a.t().as_standard_layout().into_owned().reversed_axes();
        for av in [a.view(), af.view()] {
            let mut y = Array1::from_elem(3, c(f64::NAN, 0.0));
            gemv(
                c(1.0, 0.0),
                av,
                true,
                x.view(),
                c(0.0, 0.0),
                &mut y.view_mut(),
            );
            assert_eq!(y, want);
        }
    }

    /// Every path of `trsm_left`: right-hand sides along contiguous rows of B (row form),
    /// contiguous columns, or neither (copied), against A row-major (dot form), column-major
    /// (axpy form) or strided; both triangles, unit or not; the residual `|A X − B|` within
    /// `8 n ε (|A| |X| + |B|)` per entry.
    #[test]
    fn trsm_left_solves_every_layout() {
        use ndarray::{Array2, ShapeBuilder};
        let n = 11;
        for lower in [true, false] {
            for unit in [false, true] {
                let full = Array2::from_shape_fn((n, n), |(i, j)| {
                    let inside = if lower { j <= i } else { j >= i };
                    if i == j {
                        if unit {
                            c(1.0, 0.0)
                        } else {
                            c(2.0 + (i % 3) as f64, 0.5)
                        }
                    } else if inside {
                        c(
                            ((i * 7 + j * 3) % 11) as f64 / 11.0 - 0.5,
                            0.25 - (j % 2) as f64 * 0.5,
                        )
                    } else {
                        c(f64::NAN, f64::NAN) // never read
                    }
                });
                let mut cols = Array2::zeros((n, n).f());
                cols.assign(&full);
                let wide = Array2::from_shape_fn((n, 2 * n), |(i, j)| full[[i, j / 2]]);
                // 3 columns: one at a time when strided; 5: through a row-major copy.
                for r in [3, 5] {
                    let b = Array2::from_shape_fn((n, r), |(i, j)| {
                        c((i * 5 + j) as f64 % 7.0 - 3.0, j as f64)
                    });
                    for (an, a) in [
                        ("rows", full.view()),
                        ("cols", cols.view()),
                        ("strided", wide.slice(s![.., ..;2])),
                    ] {
                        let mut b_cols = Array2::zeros((n, r).f());
                        b_cols.assign(&b);
                        let mut b_wide = Array2::from_elem((n, 2 * r), c(f64::NAN, 0.0));
                        b_wide.slice_mut(s![.., ..;2]).assign(&b);
                        let mut x_rows = b.clone();
                        trsm_left(lower, unit, a, &mut x_rows.view_mut());
                        trsm_left(lower, unit, a, &mut b_cols.view_mut());
                        trsm_left(lower, unit, a, &mut b_wide.slice_mut(s![.., ..;2]));
                        for (bn, x) in [
                            ("rows", x_rows.view()),
                            ("cols", b_cols.view()),
                            ("strided", b_wide.slice(s![.., ..;2])),
                        ] {
                            for j in 0..r {
                                for i in 0..n {
                                    let (mut res, mut mag) = (-b[[i, j]], b[[i, j]].norm());
                                    for k in 0..n {
                                        if if lower { k <= i } else { k >= i } {
                                            let aik = if i == k && unit {
                                                c(1.0, 0.0)
                                            } else {
                                                full[[i, k]]
                                            };
                                            res += aik * x[[k, j]];
                                            mag += aik.norm() * x[[k, j]].norm();
                                        }
                                    }
                                    assert!(
                                        res.norm() <= 8.0 * n as f64 * f64::EPSILON * mag,
                                        "lower {lower} unit {unit} A {an} B {bn} ({r} columns): \
                                     ({i}, {j}) residual {res}"
                                    );
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
