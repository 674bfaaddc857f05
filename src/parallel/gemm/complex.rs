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

use crate::alloc::zeros_c;
use crate::blas::ffi::ComplexFfi;
use crate::decomp::Trans;
use crate::error::Result;
use crate::kernels::complex::{
    interleaved_row_stride, interleaved_rows, interleaved_rows_mut, Cplx,
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
/// `Cᵀ` has contiguous rows, so it too is written in place.
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
    if interleaved_row_stride(c.dim(), c.strides()).is_none() && c.strides()[0] == 1 {
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
            let (x, y) = z.split();
            let (x, y) = (alpha * C::join(x, sb * y)).split();
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

/// The factor of the imaginary part: `−1` for a conjugated operand.
fn sign<R: Scalar>(conj: bool) -> R {
    if conj {
        -R::one()
    } else {
        R::one()
    }
}
