//! The complex operations of the `blas` engine (`c32`, `c64`): cblas with an explicit row-major
//! layout for the level 1–3 routines (operands in C order are read in place; others are copied
//! once), column-major LAPACK on a Fortran-order copy for the factorizations.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2, ShapeBuilder};

use crate::blas::ffi::{ComplexFfi, CBLAS_LAYOUT, CBLAS_TRANSPOSE};
use crate::blas::{buffer, check_info, workspace_len};
use crate::decomp::Trans;
use crate::error::{Error, Result};
use crate::threads::openblas;

const ROW: CBLAS_LAYOUT = CBLAS_LAYOUT::CblasRowMajor;

fn cblas_trans(t: Trans) -> CBLAS_TRANSPOSE {
    match t {
        Trans::No => CBLAS_TRANSPOSE::CblasNoTrans,
        Trans::Yes => CBLAS_TRANSPOSE::CblasTrans,
        Trans::Conj => CBLAS_TRANSPOSE::CblasConjTrans,
    }
}

/// `a` itself when it is column-major, else a column-major copy.
fn col_major<C: Clone>(a: &Array2<C>) -> ndarray::CowArray<'_, C, ndarray::Ix2> {
    if a.t().is_standard_layout() {
        a.view().into()
    } else {
        a.t()
            .as_standard_layout()
            .into_owned()
            .reversed_axes()
            .into()
    }
}

/// A `rows × cols` Fortran-order array of zeros with `a` in its top-left corner.
fn fortran_in<C: ComplexFfi>(
    op: &'static str,
    a: ArrayView2<C>,
    rows: usize,
    cols: usize,
) -> Result<Array2<C>> {
    let v = buffer::<C>(op, rows.saturating_mul(cols))?;
    let mut f = Array2::from_shape_vec((rows, cols).f(), v).expect("rows·cols elements");
    let (m, n) = a.dim();
    crate::alloc::assign_2d(&mut f.slice_mut(ndarray::s![..m, ..n]), a.view());
    Ok(f)
}

fn fortran<C: ComplexFfi>(op: &'static str, a: ArrayView2<C>) -> Result<Array2<C>> {
    let (m, n) = a.dim();
    fortran_in(op, a, m, n)
}

/// `C ← α op(A) op(B) + β C` (`k ≥ 1`; `op` = none, transpose or conjugate transpose).
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm<C: ComplexFfi>(
    op: &'static str,
    threads: usize,
    alpha: C,
    a: ArrayView2<C>,
    ta: Trans,
    b: ArrayView2<C>,
    tb: Trans,
    beta: C,
    c: &mut ArrayViewMut2<C>,
) -> Result<()> {
    let (m, n) = c.dim();
    let k = if ta == Trans::No {
        a.ncols()
    } else {
        a.nrows()
    };
    if !c.is_standard_layout() {
        let v = buffer::<C>(op, m * n)?;
        let mut tmp = Array2::from_shape_vec((m, n), v).expect("m·n elements");
        if beta != C::zero() {
            tmp.assign(c);
        }
        gemm(op, threads, alpha, a, ta, b, tb, beta, &mut tmp.view_mut())?;
        crate::alloc::assign_2d(c, tmp.view());
        return Ok(());
    }
    let (a, b) = (a.as_standard_layout(), b.as_standard_layout());
    let (lda, ldb) = (a.ncols().max(1) as i32, b.ncols().max(1) as i32);
    let cp = c.as_mut_ptr();
    // SAFETY: A, B, C are C-contiguous with the given leading dimensions; dimensions fit i32
    // (checked at the boundary); C is exclusively borrowed.
    openblas::with_threads(threads, || unsafe {
        C::gemm(
            ROW,
            cblas_trans(ta),
            cblas_trans(tb),
            m as i32,
            n as i32,
            k as i32,
            alpha,
            a.as_ptr(),
            lda,
            b.as_ptr(),
            ldb,
            beta,
            cp,
            n.max(1) as i32,
        )
    });
    Ok(())
}

/// `y ← α op(A) x + β y` for a non-empty `A`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemv<C: ComplexFfi>(
    op: &'static str,
    threads: usize,
    alpha: C,
    a: ArrayView2<C>,
    ta: Trans,
    x: ArrayView1<C>,
    beta: C,
    y: &mut ArrayViewMut1<C>,
) -> Result<()> {
    if y.as_slice().is_none() {
        let mut tmp = Array1::from_vec(buffer::<C>(op, y.len())?);
        if beta != C::zero() {
            tmp.assign(y);
        }
        gemv(op, threads, alpha, a, ta, x, beta, &mut tmp.view_mut())?;
        y.assign(&tmp);
        return Ok(());
    }
    let (m, n) = a.dim();
    // Rows at unit stride (a row or column block of a C-order matrix) are read in place with
    // their row stride as the leading dimension; any other layout is copied once.
    let (rs, cs) = (a.strides()[0], a.strides()[1]);
    let lda = if m <= 1 { n.max(1) as isize } else { rs };
    let in_place = (cs == 1 || n <= 1) && lda >= n.max(1) as isize && lda <= i32::MAX as isize;
    let (a, lda) = if in_place {
        (ndarray::CowArray::from(a), lda as i32)
    } else {
        (a.as_standard_layout(), n.max(1) as i32)
    };
    let x = x.as_standard_layout();
    let yp = y.as_mut_ptr();
    // SAFETY: as gemm (A's rows `lda ≥ n` elements apart, each contiguous); x and y are
    // contiguous.
    openblas::with_threads(threads, || unsafe {
        C::gemv(
            ROW,
            cblas_trans(ta),
            m as i32,
            n as i32,
            alpha,
            a.as_ptr(),
            lda,
            x.as_ptr(),
            1,
            beta,
            yp,
            1,
        )
    });
    Ok(())
}

/// `Σ xᵢ yᵢ`, or `Σ conj(xᵢ) yᵢ` with `conj_x`.
pub(crate) fn dot<C: ComplexFfi>(
    threads: usize,
    x: ArrayView1<C>,
    y: ArrayView1<C>,
    conj_x: bool,
) -> C {
    let (x, y) = (x.as_standard_layout(), y.as_standard_layout());
    let n = x.len() as i32;
    // SAFETY: contiguous vectors of length n (checked equal and within i32 at the boundary).
    openblas::with_threads(threads, || unsafe {
        if conj_x {
            C::dotc(n, x.as_ptr(), 1, y.as_ptr(), 1)
        } else {
            C::dotu(n, x.as_ptr(), 1, y.as_ptr(), 1)
        }
    })
}

/// `y ← α x + y`.
pub(crate) fn axpy<C: ComplexFfi>(
    op: &'static str,
    threads: usize,
    alpha: C,
    x: ArrayView1<C>,
    y: &mut ArrayViewMut1<C>,
) -> Result<()> {
    if y.as_slice().is_none() {
        let mut tmp = Array1::from_vec(buffer::<C>(op, y.len())?);
        tmp.assign(y);
        axpy(op, threads, alpha, x, &mut tmp.view_mut())?;
        y.assign(&tmp);
        return Ok(());
    }
    let x = x.as_standard_layout();
    let n = x.len() as i32;
    let yp = y.as_mut_ptr();
    // SAFETY: contiguous vectors of length n; y exclusively borrowed.
    openblas::with_threads(threads, || unsafe {
        C::axpy(n, alpha, x.as_ptr(), 1, yp, 1)
    });
    Ok(())
}

/// `‖x‖₂` (scaled, no overflow).
pub(crate) fn nrm2<C: ComplexFfi>(threads: usize, x: ArrayView1<C>) -> C::Part {
    let x = x.as_standard_layout();
    // SAFETY: contiguous vector.
    openblas::with_threads(threads, || unsafe {
        C::nrm2(x.len() as i32, x.as_ptr(), 1)
    })
}

/// LU with partial pivoting of a non-empty `m × n` matrix: the packed factors (Fortran order),
/// the 0-based row interchanges, and the first zero pivot (LAPACK's `info > 0`), if any.
pub(crate) fn getrf<C: ComplexFfi>(
    op: &'static str,
    threads: usize,
    a: ArrayView2<C>,
) -> Result<(Array2<C>, Vec<usize>, Option<usize>)> {
    let (m, n) = a.dim();
    let mut f = fortran(op, a)?;
    let mut ipiv = buffer::<i32>(op, m.min(n))?;
    let (fp, ip) = (f.as_mut_ptr(), ipiv.as_mut_ptr());
    // SAFETY: f is m × n column-major with lda = m; ipiv holds min(m, n) entries.
    let info = openblas::with_threads_lapack(threads, || unsafe {
        C::getrf(m as i32, n as i32, fp, m.max(1) as i32, ip)
    });
    check_info(op, "getrf", info)?;
    let swaps = ipiv.iter().map(|&p| p as usize - 1).collect();
    let zero = (info > 0).then(|| info as usize - 1);
    Ok((f, swaps, zero))
}

fn pivots(swaps: &[usize]) -> Vec<i32> {
    swaps.iter().map(|&p| p as i32 + 1).collect()
}

/// `X = A⁻¹ B` for a non-empty square `A` by `getrf` + `getrs`.
pub(crate) fn solve<C: ComplexFfi>(
    op: &'static str,
    threads: usize,
    a: ArrayView2<C>,
    b: ArrayView2<C>,
) -> Result<Array2<C>> {
    let (lu, swaps, zero) = getrf(op, threads, a)?;
    if let Some(pivot) = zero {
        return Err(Error::Singular { op, pivot });
    }
    let mut x = fortran(op, b)?;
    getrs(op, threads, &lu, &swaps, &mut x.view_mut(), Trans::No)?;
    Ok(x)
}

/// Runs `f(pointer, leading dimension)` on `x` in column-major order: in place when `x` is
/// already Fortran-contiguous, else on a copy written back.
fn on_fortran<C: ComplexFfi>(
    op: &'static str,
    x: &mut ArrayViewMut2<C>,
    f: impl FnOnce(*mut C, i32) -> Result<()>,
) -> Result<()> {
    let ld = x.nrows().max(1) as i32;
    if x.t().is_standard_layout() {
        return f(x.as_mut_ptr(), ld);
    }
    let mut tmp = fortran(op, x.view())?;
    f(tmp.as_mut_ptr(), ld)?;
    crate::alloc::assign_2d(x, tmp.view());
    Ok(())
}

/// Overwrites `x` (`n × k`) with `op(A)⁻¹ x` from `getrf`'s packed factor of a non-singular
/// `A` (column-major) and its 0-based interchanges (`getrs`; `op` = none, `ᵀ` or `ᴴ`).
pub(crate) fn getrs<C: ComplexFfi>(
    op: &'static str,
    threads: usize,
    lu: &Array2<C>,
    swaps: &[usize],
    x: &mut ArrayViewMut2<C>,
    trans: Trans,
) -> Result<()> {
    let (n, nrhs) = x.dim();
    let ipiv = pivots(swaps);
    let t = lapack_trans(trans);
    let lu = col_major(lu);
    on_fortran(op, x, |xp, ld| {
        // SAFETY: lu is n × n column-major, x n × nrhs column-major, ipiv n entries.
        let info = openblas::with_threads_lapack(threads, || unsafe {
            C::getrs(
                t,
                n as i32,
                nrhs as i32,
                lu.as_ptr(),
                n.max(1) as i32,
                ipiv.as_ptr(),
                xp,
                ld,
            )
        });
        check_info(op, "getrs", info)
    })
}

fn lapack_trans(t: Trans) -> u8 {
    match t {
        Trans::No => b'N',
        Trans::Yes => b'T',
        Trans::Conj => b'C',
    }
}

/// `A⁻¹` for a non-empty square `A` by `getrf` + `getri`.
pub(crate) fn inv<C: ComplexFfi>(
    op: &'static str,
    threads: usize,
    a: ArrayView2<C>,
) -> Result<Array2<C>> {
    let (lu, swaps, zero) = getrf(op, threads, a)?;
    if let Some(pivot) = zero {
        return Err(Error::Singular { op, pivot });
    }
    getri(op, threads, lu, &swaps)
}

/// `A⁻¹` from `getrf`'s packed factor (column-major, overwritten) of a non-singular `A`.
pub(crate) fn getri<C: ComplexFfi>(
    op: &'static str,
    threads: usize,
    mut lu: Array2<C>,
    swaps: &[usize],
) -> Result<Array2<C>> {
    getri_in(op, threads, &mut lu.view_mut(), swaps)?;
    Ok(lu)
}

/// Overwrites `x` (`n × n`, any layout), which holds `getrf`'s packed factor of a non-singular
/// `A`, with `A⁻¹` (`getri`: in place when `x` is column-major, else on a copy written back).
pub(crate) fn getri_in<C: ComplexFfi>(
    op: &'static str,
    threads: usize,
    x: &mut ArrayViewMut2<C>,
    swaps: &[usize],
) -> Result<()> {
    let n = x.nrows() as i32;
    let ipiv = pivots(swaps);
    on_fortran(op, x, |lp, ld| {
        let mut q = C::zero();
        // SAFETY: workspace query (lwork = -1) writes one element.
        let info = unsafe { C::getri(n, lp, ld, ipiv.as_ptr(), &mut q, -1) };
        check_info(op, "getri", info)?;
        let lwork = workspace_len(op, q.split().0, n as usize)?;
        let mut work = buffer::<C>(op, lwork as usize)?;
        let wp = work.as_mut_ptr();
        // SAFETY: lp is n × n column-major with leading dimension ld ≥ n; work holds lwork
        // elements.
        let info = openblas::with_threads_lapack(threads, || unsafe {
            C::getri(n, lp, ld, ipiv.as_ptr(), wp, lwork)
        });
        check_info(op, "getri", info)
    })
}

/// Lower `L` with `A = L Lᴴ` for a non-empty Hermitian positive definite `A` (its lower
/// triangle is read; the imaginary parts of the diagonal are ignored, as LAPACK does).
pub(crate) fn cholesky<C: ComplexFfi>(
    op: &'static str,
    threads: usize,
    a: ArrayView2<C>,
) -> Result<Array2<C>> {
    let mut f = fortran(op, a)?;
    potrf_lower(op, threads, &mut f.view_mut())?;
    Ok(f)
}

/// Overwrites `x` (`n × n`, any layout; its lower triangle holds `A`'s) with the lower factor
/// `L` of `A = L Lᴴ`, zeros above (`potrf`: in place when `x` is column-major, else on a copy
/// written back). On [`Error::NotPositiveDefinite`] the content of `x` is unspecified.
pub(crate) fn potrf_lower<C: ComplexFfi>(
    op: &'static str,
    threads: usize,
    x: &mut ArrayViewMut2<C>,
) -> Result<()> {
    let n = x.nrows();
    let mut failed = 0;
    on_fortran(op, x, |fp, ld| {
        // SAFETY: fp is n × n column-major with leading dimension ld ≥ n.
        let info =
            openblas::with_threads_lapack(threads, || unsafe { C::potrf(b'L', n as i32, fp, ld) });
        check_info(op, "potrf", info)?;
        failed = info;
        Ok(())
    })?;
    if failed > 0 {
        return Err(Error::NotPositiveDefinite {
            op,
            index: failed as usize - 1,
        });
    }
    for j in 1..n {
        x.slice_mut(ndarray::s![..j, j]).fill(C::zero());
    }
    Ok(())
}

/// `A = Q R` of a non-empty `m × n` matrix: `Q` with `q_cols` orthonormal columns (`min(m, n)`
/// or `m`), `R` with `q_cols` rows.
pub(crate) fn qr<C: ComplexFfi>(
    op: &'static str,
    threads: usize,
    a: ArrayView2<C>,
    q_cols: usize,
) -> Result<(Array2<C>, Array2<C>)> {
    let (m, n) = a.dim();
    let k = m.min(n);
    let cols = n.max(q_cols);
    let mut f = fortran_in(op, a, m, cols)?;
    let mut tau = buffer::<C>(op, k)?;
    let (fp, tp) = (f.as_mut_ptr(), tau.as_mut_ptr());
    let ld = m.max(1) as i32;
    let mut q = C::zero();
    // SAFETY: workspace query.
    let info = unsafe { C::geqrf(m as i32, n as i32, fp, ld, tp, &mut q, -1) };
    check_info(op, "geqrf", info)?;
    let lwork = workspace_len(op, q.split().0, n)?;
    let mut work = buffer::<C>(op, lwork as usize)?;
    let wp = work.as_mut_ptr();
    // SAFETY: f is m × cols column-major (the first n columns factored), tau k entries.
    let info = openblas::with_threads_lapack(threads, || unsafe {
        C::geqrf(m as i32, n as i32, fp, ld, tp, wp, lwork)
    });
    check_info(op, "geqrf", info)?;
    let mut r = Array2::from_shape_vec((q_cols, n), buffer::<C>(op, q_cols * n)?)
        .expect("q_cols·n elements");
    for i in 0..q_cols.min(k) {
        r.slice_mut(ndarray::s![i, i..])
            .assign(&f.slice(ndarray::s![i, i..n]));
    }
    // SAFETY: workspace query.
    let info = unsafe { C::ungqr(m as i32, q_cols as i32, k as i32, fp, ld, tp, &mut q, -1) };
    check_info(op, "ungqr", info)?;
    let lwork = workspace_len(op, q.split().0, q_cols)?;
    let mut work = buffer::<C>(op, lwork as usize)?;
    let wp = work.as_mut_ptr();
    // SAFETY: f holds m × q_cols (q_cols ≤ cols) with the reflectors in its first k columns.
    let info = openblas::with_threads_lapack(threads, || unsafe {
        C::ungqr(m as i32, q_cols as i32, k as i32, fp, ld, tp, wp, lwork)
    });
    check_info(op, "ungqr", info)?;
    let qm = f.slice(ndarray::s![.., ..q_cols]).to_owned();
    Ok((qm, r))
}

/// LAPACK `geqrf` at `threads` on the `m × nb` panel `a`, in place (on a column-major copy
/// when `a` is not Fortran-contiguous): R on and above the diagonal, the Householder vectors
/// below it, their scalars in `tau` (`min(m, nb)` entries). The panel kernel of the blocked
/// complex QR on `rayon-blas`.
pub(crate) fn geqrf_panel<C: ComplexFfi>(
    op: &'static str,
    threads: usize,
    a: &mut ArrayViewMut2<C>,
    tau: &mut [C],
) -> Result<()> {
    let (m, nb) = a.dim();
    on_fortran(op, a, |p, ld| {
        let tp = tau.as_mut_ptr();
        let mut q = C::zero();
        // SAFETY: workspace query.
        let info = unsafe { C::geqrf(m as i32, nb as i32, p, ld, tp, &mut q, -1) };
        check_info(op, "geqrf", info)?;
        let lwork = workspace_len(op, q.split().0, nb)?;
        let mut work = buffer::<C>(op, lwork as usize)?;
        let wp = work.as_mut_ptr();
        // SAFETY: `p` addresses an m × nb column-major matrix with leading dimension ld ≥ m,
        // exclusively ours for the call; `tau` holds min(m, nb) entries, `work` `lwork`.
        let info = openblas::with_threads_lapack(threads, || unsafe {
            C::geqrf(m as i32, nb as i32, p, ld, tp, wp, lwork)
        });
        check_info(op, "geqrf", info)
    })
}

/// `X = op(A)⁻¹ B` for a non-empty triangular `A` (`trtrs`).
pub(crate) fn solve_triangular<C: ComplexFfi>(
    op: &'static str,
    threads: usize,
    a: ArrayView2<C>,
    b: ArrayView2<C>,
    lower: bool,
    trans: Trans,
    unit: bool,
) -> Result<Array2<C>> {
    let f = fortran(op, a)?;
    let mut x = fortran(op, b)?;
    trtrs(op, threads, &f, &mut x.view_mut(), lower, trans, unit)?;
    Ok(x)
}

/// Overwrites `x` (`n × k`) with `op(A)⁻¹ x` for a triangular `A` (`trtrs`; a column-major
/// `A` is read in place).
pub(crate) fn trtrs<C: ComplexFfi>(
    op: &'static str,
    threads: usize,
    a: &Array2<C>,
    x: &mut ArrayViewMut2<C>,
    lower: bool,
    trans: Trans,
    unit: bool,
) -> Result<()> {
    let (n, nrhs) = x.dim();
    let f = col_major(a);
    let t = lapack_trans(trans);
    on_fortran(op, x, |xp, ld| {
        // SAFETY: f n × n, x n × nrhs, both column-major.
        let info = openblas::with_threads_lapack(threads, || unsafe {
            C::trtrs(
                if lower { b'L' } else { b'U' },
                t,
                if unit { b'U' } else { b'N' },
                n as i32,
                nrhs as i32,
                f.as_ptr(),
                n.max(1) as i32,
                xp,
                ld,
            )
        });
        check_info(op, "trtrs", info)?;
        if info > 0 {
            return Err(Error::Singular {
                op,
                pivot: info as usize - 1,
            });
        }
        Ok(())
    })
}

/// Eigenvalues (ascending, real) and, with `vectors`, unitary eigenvectors of a non-empty
/// Hermitian `A` from its lower triangle (`heevd`).
pub(crate) fn eigh<C: ComplexFfi>(
    op: &'static str,
    threads: usize,
    a: ArrayView2<C>,
    vectors: bool,
) -> Result<(Array1<C::Part>, Array2<C>)> {
    let n = a.nrows();
    let mut f = fortran(op, a)?;
    let mut w = buffer::<C::Part>(op, n)?;
    let jobz = if vectors { b'V' } else { b'N' };
    let (fp, wp) = (f.as_mut_ptr(), w.as_mut_ptr());
    let ni = n as i32;
    let (mut q, mut rq, mut iq) = (C::zero(), <C::Part as num_traits::Zero>::zero(), 0i32);
    // SAFETY: workspace query.
    let info = unsafe {
        C::heevd(
            jobz, b'L', ni, fp, ni, wp, &mut q, -1, &mut rq, -1, &mut iq, -1,
        )
    };
    check_info(op, "heevd", info)?;
    let lwork = workspace_len(op, q.split().0, 2 * n + n * n)?;
    let lrwork = workspace_len(op, rq, 1 + 5 * n + 2 * n * n)?;
    let liwork = (iq as usize).max(3 + 5 * n);
    let mut work = buffer::<C>(op, lwork as usize)?;
    let mut rwork = buffer::<C::Part>(op, lrwork as usize)?;
    let mut iwork = buffer::<i32>(op, liwork)?;
    let (wk, rw, iw) = (work.as_mut_ptr(), rwork.as_mut_ptr(), iwork.as_mut_ptr());
    // SAFETY: f n × n column-major; every workspace at least the queried size.
    let info = openblas::with_threads_lapack(threads, || unsafe {
        C::heevd(
            jobz,
            b'L',
            ni,
            fp,
            ni,
            wp,
            wk,
            lwork,
            rw,
            lrwork,
            iw,
            liwork as i32,
        )
    });
    check_info(op, "heevd", info)?;
    if info > 0 {
        return Err(Error::NoConvergence {
            op,
            detail: format!("heevd: {info} off-diagonal elements did not converge"),
        });
    }
    Ok((Array1::from_vec(w), f))
}

/// `(U, s, Vᴴ)`.
pub(crate) type SvdParts<C> = (Array2<C>, Array1<<C as ComplexFfi>::Part>, Array2<C>);

/// Singular values (descending) and, with `vectors`, `U`, `Vᴴ` (`full`: square) of a
/// non-empty `A` (`gesdd`).
pub(crate) fn svd<C: ComplexFfi>(
    op: &'static str,
    threads: usize,
    a: ArrayView2<C>,
    vectors: bool,
    full: bool,
) -> Result<SvdParts<C>> {
    let (m, n) = a.dim();
    let k = m.min(n);
    let mut f = fortran(op, a)?;
    let (jobz, ucols, vrows) = match (vectors, full) {
        (false, _) => (b'N', 0, 0),
        (true, false) => (b'S', k, k),
        (true, true) => (b'A', m, n),
    };
    let mut s = buffer::<C::Part>(op, k)?;
    let mut u = fortran_in(
        op,
        ArrayView2::from_shape((0, 0), &[]).expect("empty"),
        m,
        ucols,
    )?;
    let mut vt = fortran_in(
        op,
        ArrayView2::from_shape((0, 0), &[]).expect("empty"),
        vrows,
        n,
    )?;
    let (mi, ni) = (m as i32, n as i32);
    let (ldu, ldvt) = (m.max(1) as i32, vrows.max(1) as i32);
    let mx = m.max(n);
    let lrwork = if vectors {
        k * (5 * k + 7).max(2 * mx + 2 * k + 1)
    } else {
        7 * k
    }
    .max(1);
    let mut rwork = buffer::<C::Part>(op, lrwork)?;
    let mut iwork = buffer::<i32>(op, 8 * k)?;
    let (fp, sp, up, vp) = (
        f.as_mut_ptr(),
        s.as_mut_ptr(),
        u.as_mut_ptr(),
        vt.as_mut_ptr(),
    );
    let (rw, iw) = (rwork.as_mut_ptr(), iwork.as_mut_ptr());
    let mut q = C::zero();
    // SAFETY: workspace query.
    let info = unsafe {
        C::gesdd(
            jobz, mi, ni, fp, mi, sp, up, ldu, vp, ldvt, &mut q, -1, rw, iw,
        )
    };
    check_info(op, "gesdd", info)?;
    let lwork = workspace_len(op, q.split().0, 2 * k + mx)?;
    let mut work = buffer::<C>(op, lwork as usize)?;
    let wk = work.as_mut_ptr();
    // SAFETY: f m × n, u m × ucols, vt vrows × n, all column-major; workspaces as queried.
    let info = openblas::with_threads_lapack(threads, || unsafe {
        C::gesdd(
            jobz, mi, ni, fp, mi, sp, up, ldu, vp, ldvt, wk, lwork, rw, iw,
        )
    });
    check_info(op, "gesdd", info)?;
    if info > 0 {
        return Err(Error::NoConvergence {
            op,
            detail: "gesdd: the bidiagonal SVD did not converge".to_string(),
        });
    }
    Ok((u, Array1::from_vec(s), vt))
}

/// Eigenvalues and, with `vectors`, right eigenvectors (columns of norm 1, largest component
/// real) of a non-empty general `A` (`geev`); without `vectors` the second array is `n × 0`.
pub(crate) fn eig<C: ComplexFfi>(
    op: &'static str,
    threads: usize,
    a: ArrayView2<C>,
    vectors: bool,
) -> Result<(Array1<C>, Array2<C>)> {
    let n = a.nrows();
    let mut f = fortran(op, a)?;
    let mut w = buffer::<C>(op, n)?;
    let jobvr = if vectors { b'V' } else { b'N' };
    let vcols = if vectors { n } else { 0 };
    let mut vr = fortran_in(
        op,
        ArrayView2::from_shape((0, 0), &[]).expect("empty"),
        n,
        vcols,
    )?;
    let mut vl = [C::zero()];
    let mut rwork = buffer::<C::Part>(op, 2 * n)?;
    let ni = n as i32;
    let ldvr = if vectors { ni } else { 1 };
    let (fp, wp, vp, rw) = (
        f.as_mut_ptr(),
        w.as_mut_ptr(),
        vr.as_mut_ptr(),
        rwork.as_mut_ptr(),
    );
    let lp = vl.as_mut_ptr();
    let mut q = C::zero();
    // SAFETY: workspace query.
    let info = unsafe { C::geev(b'N', jobvr, ni, fp, ni, wp, lp, 1, vp, ldvr, &mut q, -1, rw) };
    check_info(op, "geev", info)?;
    let lwork = workspace_len(op, q.split().0, 2 * n)?;
    let mut work = buffer::<C>(op, lwork as usize)?;
    let wk = work.as_mut_ptr();
    // SAFETY: f n × n column-major, w n entries, vr n × n column-major (unused and 1 × 0
    // without vectors), rwork 2n entries, work as queried.
    let info = openblas::with_threads_lapack(threads, || unsafe {
        C::geev(b'N', jobvr, ni, fp, ni, wp, lp, 1, vp, ldvr, wk, lwork, rw)
    });
    check_info(op, "geev", info)?;
    if info > 0 {
        return Err(Error::NoConvergence {
            op,
            detail: format!("geev: QR algorithm failed at eigenvalue {info}"),
        });
    }
    Ok((Array1::from_vec(w), vr))
}

/// Overwrites `x` (`n × k`) with `A⁻¹ x` from the lower Cholesky factor `L` of `A = L Lᴴ`:
/// `L y = x`, then `Lᴴ x = y` (two `trtrs`).
pub(crate) fn cho_solve<C: ComplexFfi>(
    op: &'static str,
    threads: usize,
    l: &Array2<C>,
    x: &mut ArrayViewMut2<C>,
) -> Result<()> {
    trtrs(op, threads, l, x, true, Trans::No, false)?;
    trtrs(op, threads, l, x, true, Trans::Conj, false)
}

/// The explicit factors of `A = Q R` (`m × n`, non-empty) kept for least squares: `Q`
/// (`m × min(m, n)`, row-major, for `Qᴴ B` as one `gemm`) and `R` (`min(m, n) × n`,
/// column-major, for `trtrs`).
pub(crate) fn qr_explicit<C: ComplexFfi>(
    op: &'static str,
    threads: usize,
    a: ArrayView2<C>,
) -> Result<(Array2<C>, Array2<C>)> {
    let k = a.nrows().min(a.ncols());
    let (q, r) = qr(op, threads, a, k)?;
    let q = q.as_standard_layout().into_owned();
    let r = fortran(op, r.view())?;
    Ok((q, r))
}

/// `R⁻¹ (Qᴴ B)` from [`qr_explicit`]'s factors (`m ≥ n`); [`Error::Singular`] when `R` has
/// a zero diagonal entry.
pub(crate) fn qr_lstsq<C: ComplexFfi>(
    op: &'static str,
    threads: usize,
    q: &Array2<C>,
    r: &Array2<C>,
    b: ArrayView2<C>,
) -> Result<Array2<C>> {
    let (n, k) = (q.ncols(), b.ncols());
    let mut x = fortran_in(
        op,
        ArrayView2::from_shape((0, 0), &[]).expect("empty"),
        n,
        k,
    )?;
    gemm(
        op,
        threads,
        C::one(),
        q.view(),
        Trans::Conj,
        b,
        Trans::No,
        C::zero(),
        &mut x.view_mut(),
    )?;
    trtrs(op, threads, r, &mut x.view_mut(), false, Trans::No, false)?;
    Ok(x)
}
