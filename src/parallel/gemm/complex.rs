//! Complex GEMM on the rayon engines through the engine's real GEMM (the 4M formulation, fused
//! into one real product of twice the size).
//!
//! With `op(A) = Ar + i·Ai` (`m × k`) and `op(B) = Br + i·Bi` (`k × n`), the product
//! `P = op(A) op(B)` has `Pr = Ar Br − Ai Bi` and `Pi = Ar Bi + Ai Br`, which is one real GEMM:
//!
//! ```text
//! [Ar  Ai] · [ Br  Bi ]  =  [Pr  Pi]      (m × 2k) · (2k × 2n) = (m × 2n)
//!            [−Bi  Br ]
//! ```
//!
//! It costs `8mnk` real flops, as a complex GEMM does, and runs at the real GEMM's speed on
//! the engine's pool; splitting the operands (with the conjugation folded in) and forming
//! `C ← α P + β C` are `O(mk + kn + mn)`. The 3M formulation (three real GEMMs, `6mnk` flops)
//! saves a quarter of the flops but loses accuracy in `Pi` when `|A||B|` ≫ `|A B|`; parla does
//! not use it.

use ndarray::{ArrayView2, ArrayViewMut2, Zip};

use crate::alloc::zeros_c;
use crate::blas::ffi::ComplexFfi;
use crate::decomp::Trans;
use crate::error::Result;
use crate::scalar::Scalar;

/// `C ← α op(A) op(B) + β C` for complex operands (`k ≥ 1`), computed by `real_gemm`
/// (`C ← A B`, `β = 0`) on real operands: the engine's own GEMM.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm<C, R>(
    op: &'static str,
    alpha: C,
    a: ArrayView2<C>,
    ta: Trans,
    b: ArrayView2<C>,
    tb: Trans,
    beta: C,
    c: &mut ArrayViewMut2<C>,
    real_gemm: impl FnOnce(ArrayView2<R>, ArrayView2<R>, &mut ArrayViewMut2<R>) -> Result<()>,
) -> Result<()>
where
    C: ComplexFfi<Part = R>,
    R: Scalar,
{
    let (oa, ob) = (view_op(a, ta), view_op(b, tb));
    let (sa, sb) = (sign::<R>(ta), sign::<R>(tb));
    let (m, k) = oa.dim();
    let n = ob.ncols();
    let mut a2 = zeros_c::<R>(op, m, 2 * k)?;
    for (mut dst, src) in a2.rows_mut().into_iter().zip(oa.rows()) {
        let (re, im) = dst.view_mut().split_at(ndarray::Axis(0), k);
        Zip::from(re).and(im).and(src).for_each(|r, i, z| {
            let (x, y) = z.split();
            *r = x;
            *i = sa * y;
        });
    }
    let mut b2 = zeros_c::<R>(op, 2 * k, 2 * n)?;
    {
        let (mut top, mut bottom) = b2.view_mut().split_at(ndarray::Axis(0), k);
        for ((mut t, mut u), src) in top
            .rows_mut()
            .into_iter()
            .zip(bottom.rows_mut())
            .zip(ob.rows())
        {
            let (mut tr, mut ti) = t.view_mut().split_at(ndarray::Axis(0), n);
            let (mut ur, mut ui) = u.view_mut().split_at(ndarray::Axis(0), n);
            for j in 0..n {
                let (x, y) = src[j].split();
                let y = sb * y;
                tr[j] = x;
                ti[j] = y;
                ur[j] = -y;
                ui[j] = x;
            }
        }
    }
    let mut p = zeros_c::<R>(op, m, 2 * n)?;
    real_gemm(a2.view(), b2.view(), &mut p.view_mut())?;
    drop((a2, b2));
    let (pr, pi) = p.view().split_at(ndarray::Axis(1), n);
    let (one, zero) = (C::one(), C::zero());
    Zip::from(c).and(pr).and(pi).for_each(|c, &r, &i| {
        let prod = C::join(r, i);
        let scaled = if alpha == one { prod } else { alpha * prod };
        *c = if beta == zero {
            scaled
        } else {
            scaled + beta * *c
        };
    });
    Ok(())
}

fn view_op<C>(a: ArrayView2<C>, t: Trans) -> ArrayView2<C> {
    match t {
        Trans::No => a,
        Trans::Yes | Trans::Conj => a.reversed_axes(),
    }
}

/// The factor of the imaginary part: `−1` for the conjugate transpose.
fn sign<R: Scalar>(t: Trans) -> R {
    if t == Trans::Conj {
        -R::one()
    } else {
        R::one()
    }
}
