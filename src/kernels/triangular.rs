//! Small dense kernels for the diagonal blocks of the blocked factorizations (engine `rayon`):
//! triangular substitution with many right-hand sides and the unblocked Cholesky step.
//!
//! These run on blocks of a few dozen rows (`factor/` recurses down to them) but, for the
//! solve, with all the right-hand sides of the problem, so the inner loops are whole rows or
//! columns handed to `Zip` (unit stride when the layout allows, no bounds checks).

use ndarray::{ArrayView2, ArrayViewMut2, Axis, Zip};

use crate::real::Real;

/// Right-hand sides solved together in a contiguous buffer: 48 rows × 128 columns of f64 is
/// 48 KiB, about one L1.
const RHS_BLOCK: usize = 128;

/// `B ← A⁻¹ B` in place for triangular `A: n × n` (`lower`: its lower triangle, else its upper;
/// `unit`: ones on the diagonal) and `B: n × r`; any strides.
///
/// Column-major B is solved column by column; any other layout in row-major blocks of
/// [`RHS_BLOCK`] columns: either way the inner loops are contiguous, vectorised axpys. Zero
/// multipliers are skipped (no `0·∞` NaN when an entry has overflowed).
pub(crate) fn trsm_left<T: Real>(
    lower: bool,
    unit: bool,
    a: ArrayView2<T>,
    b: &mut ArrayViewMut2<T>,
) {
    if b.strides()[0] == 1 && b.nrows() > 1 {
        trsm_columns(lower, unit, a, b);
    } else {
        trsm_rows(lower, unit, a, b);
    }
}

/// Right-hand sides solved together by [`trsm_columns`]: one AVX-512 vector of f64.
const GROUP: usize = 8;

/// Pivots whose updates [`trsm_columns`] applies to a row in one pass (the row stays in
/// registers): 4 cuts the loads and stores of the right-hand sides by 4.
const PIVOTS: usize = 4;

/// Column-major B: [`GROUP`] right-hand sides at a time, copied into rows of `GROUP` lanes, so
/// each elimination step `Xᵢ ← Xᵢ − aᵢₚ·Xₚ` is one vector multiply-add on a group (padding
/// lanes hold zeros and stay zero); A's columns come from a column-major copy.
///
/// The crate's baseline is SSE2: on a CPU with AVX-512F (else AVX2) the same code runs compiled
/// for it, so a group is one (two) vector operations instead of four. No FMA contraction is
/// allowed either way, so the results are the same bits.
fn trsm_columns<T: Real>(lower: bool, unit: bool, a: ArrayView2<T>, b: &mut ArrayViewMut2<T>) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: this CPU has AVX-512F.
            return unsafe { trsm_columns_avx512(lower, unit, a, b) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: this CPU has AVX2.
            return unsafe { trsm_columns_avx2(lower, unit, a, b) };
        }
    }
    trsm_columns_body(lower, unit, a, b)
}

/// [`trsm_columns_body`] compiled for AVX-512F.
///
/// # Safety
/// The CPU must have AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn trsm_columns_avx512<T: Real>(
    lower: bool,
    unit: bool,
    a: ArrayView2<T>,
    b: &mut ArrayViewMut2<T>,
) {
    trsm_columns_body(lower, unit, a, b)
}

/// [`trsm_columns_body`] compiled for AVX2.
///
/// # Safety
/// The CPU must have AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn trsm_columns_avx2<T: Real>(
    lower: bool,
    unit: bool,
    a: ArrayView2<T>,
    b: &mut ArrayViewMut2<T>,
) {
    trsm_columns_body(lower, unit, a, b)
}

#[inline(always)]
fn trsm_columns_body<T: Real>(lower: bool, unit: bool, a: ArrayView2<T>, b: &mut ArrayViewMut2<T>) {
    let n = a.nrows();
    let ac: Vec<T> = a.t().iter().copied().collect();
    let mut rows = vec![[T::zero(); GROUP]; n];
    for mut blk in b.axis_chunks_iter_mut(Axis(1), GROUP) {
        let w = blk.ncols();
        if w < GROUP {
            rows.iter_mut().for_each(|r| *r = [T::zero(); GROUP]);
        }
        // Column by column: each column of B is contiguous (`strides()[0] == 1`).
        for (k, col) in blk.columns().into_iter().enumerate() {
            for (r, &v) in rows.iter_mut().zip(col) {
                r[k] = v;
            }
        }
        // Pivots in blocks of PIVOTS: inside a block one at a time, then every row below
        // (above, for upper) gets the block's updates while it sits in registers. Each row
        // still receives the same operations in the same order as pivot-by-pivot
        // elimination, so the results are bit-identical to it.
        for q0 in (0..n).step_by(PIVOTS) {
            let q1 = (q0 + PIVOTS).min(n);
            let pivot = |q: usize| if lower { q } else { n - 1 - q };
            for q in q0..q1 {
                let p = pivot(q);
                let ap = &ac[p * n..(p + 1) * n];
                if !unit {
                    let d = ap[p];
                    rows[p].iter_mut().for_each(|v| *v = *v / d);
                }
                let xp = rows[p];
                for i in (q + 1..q1).map(pivot) {
                    let f = ap[i];
                    if f != T::zero() {
                        let r = &mut rows[i];
                        for k in 0..GROUP {
                            r[k] = r[k] - f * xp[k];
                        }
                    }
                }
            }
            let mut block = [(0, [T::zero(); GROUP]); PIVOTS];
            for (c, q) in block.iter_mut().zip(q0..q1) {
                let p = pivot(q);
                *c = (p, rows[p]);
            }
            let cols = &block[..q1 - q0];
            let rest = if lower { q1..n } else { 0..n - q1 };
            for i in rest {
                let mut r = rows[i];
                for &(p, xp) in cols {
                    let f = ac[p * n + i];
                    if f != T::zero() {
                        for k in 0..GROUP {
                            r[k] = r[k] - f * xp[k];
                        }
                    }
                }
                rows[i] = r;
            }
        }
        for (k, col) in blk.columns_mut().into_iter().enumerate() {
            for (d, r) in col.into_iter().zip(&rows) {
                *d = r[k];
            }
        }
    }
}

/// Any other B: [`RHS_BLOCK`] columns at a time in a row-major buffer, so each elimination step
/// `Xᵢ ← Xᵢ − aᵢₚ·Xₚ` is a contiguous axpy over the block's columns.
fn trsm_rows<T: Real>(lower: bool, unit: bool, a: ArrayView2<T>, b: &mut ArrayViewMut2<T>) {
    let n = a.nrows();
    let mut buf = Vec::with_capacity(n * RHS_BLOCK.min(b.ncols()));
    let mut xp = Vec::with_capacity(RHS_BLOCK);
    for mut blk in b.axis_chunks_iter_mut(Axis(1), RHS_BLOCK) {
        let w = blk.ncols();
        buf.clear();
        for row in blk.rows() {
            buf.extend(row.iter().copied());
        }
        for q in 0..n {
            let p = if lower { q } else { n - 1 - q };
            let row_p = &mut buf[p * w..(p + 1) * w];
            if !unit {
                let d = a[[p, p]];
                row_p.iter_mut().for_each(|v| *v = *v / d);
            }
            xp.clear();
            xp.extend_from_slice(row_p);
            let rows = if lower { p + 1..n } else { 0..p };
            for i in rows {
                let f = a[[i, p]];
                if f != T::zero() {
                    buf[i * w..(i + 1) * w]
                        .iter_mut()
                        .zip(&xp)
                        .for_each(|(v, &x)| *v = *v - f * x);
                }
            }
        }
        for (row, src) in blk.rows_mut().into_iter().zip(buf.chunks_exact(w)) {
            Zip::from(row).and(src).for_each(|d, &s| *d = s);
        }
    }
}

/// Unblocked lower Cholesky in place on `a: n × n` (reads and writes the lower triangle only),
/// right-looking on a column-major copy of that triangle: scale column `j` below the diagonal,
/// then subtract its outer product from the trailing lower triangle column by column
/// (contiguous axpys). `Err(j)` when the leading minor of order `j + 1` is not positive (or NaN
/// appears).
pub(crate) fn potrf_lower<T: Real>(a: &mut ArrayViewMut2<T>) -> Result<(), usize> {
    let n = a.nrows();
    if n == 0 {
        return Ok(());
    }
    // Column j of the copy is w[j·n .. (j+1)·n]; above the diagonal it is scratch (see
    // `potrf_columns`), starting at zero and never written back.
    let mut w = vec![T::zero(); n * n];
    let by_rows = a.strides()[1] == 1;
    if by_rows {
        // Row-major: along a's rows (its contiguous axis), scattering into the small copy.
        for (i, row) in a.rows().into_iter().enumerate() {
            for (j, &v) in row.iter().take(i + 1).enumerate() {
                w[j * n + i] = v;
            }
        }
    } else {
        for (j, col) in a.columns().into_iter().enumerate() {
            for (i, &v) in col.iter().enumerate().skip(j) {
                w[j * n + i] = v;
            }
        }
    }
    let r = {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                // SAFETY: this CPU has AVX-512F.
                unsafe { potrf_columns_avx512(&mut w, n) }
            } else if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: this CPU has AVX2.
                unsafe { potrf_columns_avx2(&mut w, n) }
            } else {
                potrf_columns(&mut w, n)
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            potrf_columns(&mut w, n)
        }
    };
    if by_rows {
        for (i, mut row) in a.rows_mut().into_iter().enumerate() {
            for (j, v) in row.iter_mut().take(i + 1).enumerate() {
                *v = w[j * n + i];
            }
        }
    } else {
        for (j, mut col) in a.columns_mut().into_iter().enumerate() {
            for (i, v) in col.iter_mut().enumerate().skip(j) {
                *v = w[j * n + i];
            }
        }
    }
    r
}

/// [`potrf_columns`] compiled for AVX-512F (the crate's baseline is SSE2; no FMA contraction,
/// so the same bits).
///
/// # Safety
/// The CPU must have AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn potrf_columns_avx512<T: Real>(w: &mut [T], n: usize) -> Result<(), usize> {
    potrf_columns(w, n)
}

/// [`potrf_columns`] compiled for AVX2.
///
/// # Safety
/// The CPU must have AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn potrf_columns_avx2<T: Real>(w: &mut [T], n: usize) -> Result<(), usize> {
    potrf_columns(w, n)
}

/// Elements per step of [`potrf_columns`]'s padded column updates: one AVX-512 vector of f64.
const LANES: usize = 8;

/// Where an update of rows `from..n` of a column starts when padded: `n` minus the length
/// rounded up to whole [`LANES`], so the loop has no scalar tail; `from` itself when that
/// would fall before row 0.
#[inline(always)]
fn padded_start(n: usize, from: usize) -> usize {
    n.checked_sub((n - from).next_multiple_of(LANES))
        .unwrap_or(from)
}

/// `t ← t − f·c` element by element (no fused multiply-add: the same bits as the unpadded
/// loop), in whole [`LANES`]-element blocks and then any tail.
#[inline(always)]
fn axpy_minus<T: Real>(t: &mut [T], c: &[T], f: T) {
    let (tb, tt) = t.as_chunks_mut::<LANES>();
    let (cb, ct) = c.as_chunks::<LANES>();
    for (x, y) in tb.iter_mut().zip(cb) {
        // By value, as whole blocks: one vector operation each (indexed in place, the loop
        // vectoriser took the blocks eight at a time and left short columns scalar).
        let (mut v, c) = (*x, *y);
        for l in 0..LANES {
            v[l] = v[l] - f * c[l];
        }
        *x = v;
    }
    for (x, &y) in tt.iter_mut().zip(ct) {
        *x = *x - f * y;
    }
}

/// [`potrf_lower`] on the column-major `n × n` copy `w` of the lower triangle.
///
/// The updates of column `k` from column `j` cover rows `k..n`, padded upwards to whole
/// [`LANES`] (`padded_start`): the extra rows lie above column `k`'s diagonal, in the scratch
/// part of the copy, and read column `j` in the same rows. Scratch is only ever computed from
/// rows above the diagonal of the column written, so every entry on and below the diagonal
/// receives exactly the unpadded operations in the same order (same bits); scratch is never
/// read into them and never written back. Scaling column `j` pads the same way and then
/// restores its diagonal.
#[inline(always)]
fn potrf_columns<T: Real>(w: &mut [T], n: usize) -> Result<(), usize> {
    for j in 0..n {
        let d = w[j * n + j];
        // `!(d > 0)` also catches NaN.
        if d.partial_cmp(&T::zero()) != Some(std::cmp::Ordering::Greater) {
            return Err(j);
        }
        let l = d.sqrt();
        let (head, tail) = w.split_at_mut((j + 1) * n);
        let col = &mut head[j * n..];
        col[padded_start(n, j + 1)..]
            .iter_mut()
            .for_each(|v| *v = *v / l);
        col[j] = l;
        let col = &*col;
        for (k, tk) in tail.chunks_exact_mut(n).enumerate() {
            let kk = j + 1 + k;
            let f = col[kk];
            if f != T::zero() {
                let s = padded_start(n, kk);
                axpy_minus(&mut tk[s..], &col[s..], f);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, ShapeBuilder};

    /// Pivot-by-pivot substitution on each column of `b` (the order of operations
    /// [`trsm_columns`] promises to keep), skipping zero multipliers.
    fn reference(lower: bool, unit: bool, a: &Array2<f64>, b: &mut Array2<f64>) {
        let n = a.nrows();
        for mut col in b.columns_mut() {
            for q in 0..n {
                let p = if lower { q } else { n - 1 - q };
                if !unit {
                    col[p] /= a[(p, p)];
                }
                let xp = col[p];
                let rows = if lower { p + 1..n } else { 0..p };
                for i in rows {
                    let f = a[(i, p)];
                    if f != 0.0 {
                        col[i] -= f * xp;
                    }
                }
            }
        }
    }

    #[test]
    fn blocked_pivots_are_bit_identical_to_pivot_by_pivot() {
        // Orders around multiples of PIVOTS, right-hand sides around multiples of GROUP, zero
        // multipliers and an infinite right-hand side (0·∞ must not appear).
        for n in [1, 2, 3, 4, 5, 7, 8, 9, 13] {
            for r in [1, 7, 8, 9, 17] {
                for (lower, unit) in [(true, true), (true, false), (false, true), (false, false)] {
                    let a = Array2::from_shape_fn((n, n), |(i, j)| {
                        if (i + 2 * j) % 5 == 0 && i != j {
                            0.0
                        } else {
                            ((i * 7 + j * 3) % 11) as f64 / 7.0 - 0.6
                                + if i == j { 2.0 } else { 0.0 }
                        }
                    });
                    let mut b = Array2::from_shape_fn((n, r).f(), |(i, j)| {
                        ((i * 5 + j * 13) % 17) as f64 / 3.0 - 2.5
                    });
                    if n > 2 && r > 1 {
                        b[(n / 2, 1)] = f64::INFINITY;
                    }
                    let mut want = b.clone();
                    reference(lower, unit, &a, &mut want);
                    trsm_columns(lower, unit, a.view(), &mut b.view_mut());
                    for (x, y) in b.iter().zip(&want) {
                        assert!(
                            x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()),
                            "n={n} r={r} lower={lower} unit={unit}: {x} vs {y}"
                        );
                    }
                }
            }
        }
    }

    /// Right-looking unblocked Cholesky on the lower triangle, every update exactly over rows
    /// `k..n`, the order of operations [`potrf_columns`] promises to keep.
    fn potrf_reference(a: &mut Array2<f64>) -> Result<(), usize> {
        let n = a.nrows();
        for j in 0..n {
            let d = a[(j, j)];
            if d.is_nan() || d <= 0.0 {
                return Err(j);
            }
            let l = d.sqrt();
            a[(j, j)] = l;
            for i in j + 1..n {
                a[(i, j)] /= l;
            }
            for k in j + 1..n {
                let f = a[(k, j)];
                if f != 0.0 {
                    for i in k..n {
                        a[(i, k)] -= f * a[(i, j)];
                    }
                }
            }
        }
        Ok(())
    }

    #[test]
    fn padded_potrf_is_bit_identical_and_writes_the_lower_triangle_only() {
        // Orders around multiples of LANES; NaN above the diagonal must neither be read into
        // the factor nor be overwritten; an indefinite case fails at the same pivot.
        for n in [1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 48, 64, 65] {
            for indefinite in [false, true] {
                let mut a = Array2::from_shape_fn((n, n), |(i, j)| {
                    if j > i {
                        f64::NAN
                    } else if i == j {
                        n as f64 + 1.0
                    } else {
                        ((i * 7 + j * 3) % 11) as f64 / 11.0 - 0.5
                    }
                });
                if indefinite && n > 2 {
                    a[(n / 2, n / 2)] = -1.0;
                }
                let mut want = a.clone();
                let want_r = potrf_reference(&mut want);
                for layout in [false, true] {
                    let mut got = if layout {
                        let mut f = Array2::zeros((n, n).f());
                        f.assign(&a);
                        f
                    } else {
                        a.clone()
                    };
                    let r = potrf_lower(&mut got.view_mut());
                    assert_eq!(r, want_r, "n={n} layout={layout}");
                    if r.is_err() {
                        continue;
                    }
                    for i in 0..n {
                        for j in 0..n {
                            let (x, y) = (got[(i, j)], want[(i, j)]);
                            if j > i {
                                assert!(x.is_nan(), "n={n} ({i},{j}) overwritten: {x}");
                            } else {
                                assert_eq!(x.to_bits(), y.to_bits(), "n={n} ({i},{j}): {x} vs {y}");
                            }
                        }
                    }
                }
            }
        }
    }
}
