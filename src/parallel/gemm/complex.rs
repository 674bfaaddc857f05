//! Complex GEMM on the rayon engines through the engine's real GEMM: one real product on the
//! interleaved parts (the "1M" arrangement of the 4M method), with no copy of `A` or `C`.
//!
//! A C-order complex `m × k` matrix *is* the real `m × 2k` matrix of its interleaved parts
//! `[re im re im …]` (`Complex<R>` is `#[repr(C)] { re, im }`). With `B''` the real `2k × 2n`
//! matrix whose rows `2p` and `2p + 1` are row `p` of `α op(B)` and of `i · α op(B)`, both
//! interleaved,
//!
//! ```text
//! (A as m × 2k) · B''  =  (α A op(B) as m × 2n)      row 2p   = [ br  bi  br  bi … ]
//!                                                   row 2p+1 = [−bi  br −bi  br … ]
//! ```
//!
//! so the real GEMM reads `A` in place and writes `C` in place (`C ← … + β C` directly when
//! `β` is real). It costs `8mnk` real flops, as a complex GEMM does, at the real kernel's
//! speed on the engine's pool; the only extra work is building `B''` (`4kn` reals, in parallel).
//! Conjugating `A` is folded into `B''` (row `2p + 1` negated); `op(A)` without unit column
//! stride (a transposed C-order `A`) is copied once. The 3M formulation (three real GEMMs,
//! `6mnk` flops) loses accuracy in the imaginary part when `|A||B|` ≫ `|A B|`; parla does not
//! use it.

use ndarray::{ArrayView2, ArrayViewMut2, Axis, Zip};

use crate::alloc::{zeros_c, zeros_f};
use crate::blas::ffi::ComplexFfi;
use crate::decomp::Trans;
use crate::error::Result;
use crate::kernels::complex::{
    interleaved_cols, interleaved_row_stride, interleaved_rows, interleaved_rows_mut, Cplx,
};
use crate::parallel::gemm::{blas_panels, blis_loops};
use crate::parallel::{copy, Kernels, Team};
use crate::scalar::{ComplexScalar, Scalar};

/// `C ← α op(A) op(B) + β C` for complex operands (`m, n, k ≥ 1`) on a rayon engine: the
/// real GEMM of `kernels` (`blas_panels` for `rayon-blas`, `blis_loops` for `rayon`) on `team`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn on_engine<C: ComplexScalar>(
    op: &'static str,
    team: &Team,
    kernels: Kernels,
    alpha: C,
    a: ArrayView2<C>,
    ta: Trans,
    b: ArrayView2<C>,
    tb: Trans,
    beta: C,
    c: &mut ArrayViewMut2<C>,
) -> Result<()> {
    gemm(op, team, alpha, a, ta, b, tb, beta, c, |a2, b2, beta, p| {
        let one = <C::Real as num_traits::One>::one();
        match kernels {
            Kernels::OpenBlas => blas_panels::gemm(op, team, one, a2, b2, beta, p),
            Kernels::Native(native) => {
                let kernel = native.gemm_kernel::<C::Real>();
                blis_loops::gemm(op, team, kernel, one, a2, b2, beta, p)
            }
        }
    })
}

/// `C ← α op(A) op(B) + β C` for complex operands (`m, n, k ≥ 1`), computed by `real_gemm`
/// (`C ← A B + β C` on real operands with a real `β`: the engine's own GEMM, on `team`).
///
/// A column-major `C` (the factorizations' layout) is computed as `Cᵀ = op(B)ᵀ op(A)ᵀ`, whose
/// `Cᵀ` has contiguous rows, so it too is written in place. When `op(A)` has contiguous
/// columns and `C` few columns (the updates of a triangular solve with a few right-hand sides),
/// [`product_cols`] reads `op(A)` in place instead of building `B''` from it: the arrangement
/// that writes fewer elements around the real GEMM is taken. c64 `LuFactor::solve` of 16
/// columns at n = 384 (Zen 3): 1.6–1.8 → 0.96–1.36 ms on one thread, 2.0 → 1.5 on two
/// (OpenBLAS `zgetrs` 0.45–0.7).
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm<C, R>(
    op: &'static str,
    team: &Team,
    alpha: C,
    a: ArrayView2<C>,
    ta: Trans,
    b: ArrayView2<C>,
    tb: Trans,
    beta: C,
    c: &mut ArrayViewMut2<C>,
    real_gemm: impl FnOnce(ArrayView2<R>, ArrayView2<R>, R, &mut ArrayViewMut2<R>) -> Result<()>,
) -> Result<()>
where
    C: ComplexFfi<Part = R> + Cplx<Re = R>,
    R: Scalar,
{
    let (oa, ob) = (view_op(a, ta), view_op(b, tb));
    let (ca, cb) = (ta == Trans::Conj, tb == Trans::Conj);
    let c_cols = interleaved_row_stride(c.dim(), c.strides()).is_none() && c.strides()[0] == 1;
    if let Some(a_cols) = interleaved_cols(oa) {
        // Elements written around the real GEMM: the rows arrangement builds B'' from op(A)ᵀ
        // for a column-major C (4mk), else from op(B) (4kn) after a copy of op(A) (2mk, its
        // rows are not contiguous); the columns one builds [Re B' | Im B'] (2kn) and the
        // 2m × 2n product it combines into C (4mn, then 2mn).
        let (m, k) = oa.dim();
        let n = ob.ncols();
        let rows_cost = if c_cols {
            4 * m * k
        } else {
            4 * k * n + if m > 1 { 2 * m * k } else { 0 }
        };
        if 2 * k * n + 6 * m * n < rows_cost {
            return product_cols(op, team, alpha, a_cols, ca, ob, cb, beta, c, real_gemm);
        }
    }
    if c_cols {
        let mut ct = c.view_mut().reversed_axes();
        return product(
            op,
            team,
            alpha,
            ob.reversed_axes(),
            cb,
            oa.reversed_axes(),
            ca,
            beta,
            &mut ct,
            real_gemm,
        );
    }
    product(op, team, alpha, oa, ca, ob, cb, beta, c, real_gemm)
}

/// `C ← α f(A) g(B) + β C` (as [`product`]) for an `A` whose columns are contiguous, read in
/// place as the real `2m × k` matrix of its parts by rows (`a_real`, [`interleaved_cols`]):
/// with `B' = α g(B)`, one real GEMM `R = a_real · [Re B' | Im B']` (`2m × 2n`, column-major),
/// whose column `j` holds `(Re A) b′ⱼ` and `(Im A) b′ⱼ` interleaved by rows and column `n + j`
/// the same for `Im b′ⱼ`; then `Re cᵢⱼ = R[2i, j] ∓ R[2i+1, n+j]`,
/// `Im cᵢⱼ = R[2i, n+j] ± R[2i+1, j]` (lower signs for `conj(A)`). `8mnk` real flops, as
/// [`product`]; what it builds is `O(kn + mn)`, so it serves a tall `A` with few columns of
/// `C` (the updates of a triangular solve with few right-hand sides), where `product` would
/// build `B''` from `A`.
#[allow(clippy::too_many_arguments)]
fn product_cols<C, R>(
    op: &'static str,
    team: &Team,
    alpha: C,
    a_real: ArrayView2<R>,
    conj_a: bool,
    ob: ArrayView2<C>,
    conj_b: bool,
    beta: C,
    c: &mut ArrayViewMut2<C>,
    real_gemm: impl FnOnce(ArrayView2<R>, ArrayView2<R>, R, &mut ArrayViewMut2<R>) -> Result<()>,
) -> Result<()>
where
    C: ComplexFfi<Part = R> + Cplx<Re = R>,
    R: Scalar,
{
    let (k, n) = ob.dim();
    let (sa, sb) = (sign::<R>(conj_a), sign::<R>(conj_b));
    let mut b2 = zeros_c::<R>(op, k, 2 * n)?;
    team.for_each_indexed(b2.axis_iter_mut(Axis(0)), |p, mut row| {
        for (j, &z) in ob.row(p).iter().enumerate() {
            let (x, y) = scaled(alpha, z, sb);
            row[j] = x;
            row[n + j] = y;
        }
    });
    let mut r = zeros_f::<R>(op, a_real.nrows(), 2 * n)?;
    real_gemm(a_real, b2.view(), R::zero(), &mut r.view_mut())?;
    let zero = C::zero();
    team.for_each_indexed(c.axis_iter_mut(Axis(1)), |j, mut col| {
        let (re, im) = (r.column(j), r.column(n + j));
        for (i, v) in col.iter_mut().enumerate() {
            let p = C::join(
                re[2 * i] - sa * im[2 * i + 1],
                im[2 * i] + sa * re[2 * i + 1],
            );
            *v = if beta == zero { p } else { p + beta * *v };
        }
    });
    Ok(())
}

/// `C ← α f(A) g(B) + β C` for the logical `A: m × k`, `B: k × n`, `f`, `g` the element-wise
/// conjugation when `conj_a`, `conj_b`.
#[allow(clippy::too_many_arguments)]
fn product<C, R>(
    op: &'static str,
    team: &Team,
    alpha: C,
    oa: ArrayView2<C>,
    conj_a: bool,
    ob: ArrayView2<C>,
    conj_b: bool,
    beta: C,
    c: &mut ArrayViewMut2<C>,
    real_gemm: impl FnOnce(ArrayView2<R>, ArrayView2<R>, R, &mut ArrayViewMut2<R>) -> Result<()>,
) -> Result<()>
where
    C: ComplexFfi<Part = R> + Cplx<Re = R>,
    R: Scalar,
{
    let (m, k) = oa.dim();
    let n = ob.ncols();
    let (sa, sb) = (sign::<R>(conj_a), sign::<R>(conj_b));

    // A as the real m × 2k matrix of its parts: in place when its rows are contiguous.
    let a_copy;
    let a_real = match interleaved_rows(oa) {
        Some(v) => v,
        None => {
            let mut t = zeros_c::<C>(op, m, k)?;
            copy::assign(team, &mut t.view_mut(), oa);
            a_copy = t;
            interleaved_rows(a_copy.view()).expect("a C-order copy has contiguous rows")
        }
    };

    // B'' (2k × 2n): rows 2p, 2p + 1 from row p of α op(B) (conjugations folded in).
    let mut b2 = zeros_c::<R>(op, 2 * k, 2 * n)?;
    team.for_each_indexed(b2.axis_chunks_iter_mut(Axis(0), 2), |p, mut pair| {
        for (j, &z) in ob.row(p).iter().enumerate() {
            let (x, y) = scaled(alpha, z, sb);
            pair[[0, 2 * j]] = x;
            pair[[0, 2 * j + 1]] = y;
            // i·(x + iy) = −y + ix; conj(A) takes its negative.
            pair[[1, 2 * j]] = -(sa * y);
            pair[[1, 2 * j + 1]] = sa * x;
        }
    });

    let (beta_re, beta_im) = beta.split();
    if beta_im == R::zero() {
        if let Some(mut c_real) = interleaved_rows_mut(c.view_mut()) {
            return real_gemm(a_real, b2.view(), beta_re, &mut c_real);
        }
    }
    // C cannot be viewed as real rows, or β is not real: the product into a fresh C-order
    // matrix, then C ← P + β C.
    let mut p = zeros_c::<C>(op, m, n)?;
    {
        let mut p_real =
            interleaved_rows_mut(p.view_mut()).expect("a C-order matrix has contiguous rows");
        real_gemm(a_real, b2.view(), R::zero(), &mut p_real)?;
    }
    let zero = C::zero();
    let combine = |c: &mut C, &p: &C| *c = if beta == zero { p } else { p + beta * *c };
    if team.threads() > 1 {
        team.install(|| Zip::from(c).and(&p).par_for_each(combine));
    } else {
        // Not `par_for_each`: outside the team's pool it would run on rayon's global pool.
        Zip::from(c).and(&p).for_each(combine);
    }
    Ok(())
}

fn view_op<C>(a: ArrayView2<C>, t: Trans) -> ArrayView2<C> {
    match t {
        Trans::No => a,
        Trans::Yes | Trans::Conj => a.reversed_axes(),
    }
}

/// The parts of `α z`, or of `α conj(z)` when `sign` is `−1`: an element of `B' = α g(B)`.
fn scaled<C: ComplexFfi<Part = R>, R: Scalar>(alpha: C, z: C, sign: R) -> (R, R) {
    let (x, y) = z.split();
    (alpha * C::join(x, sign * y)).split()
}

/// The factor of the imaginary part: `−1` for a conjugated operand.
fn sign<R: Scalar>(conj: bool) -> R {
    if conj {
        -R::one()
    } else {
        R::one()
    }
}
