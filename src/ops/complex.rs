//! The complex branches of the operations whose numpy semantics are computed in the public
//! layer (`lu`, `det`, `slogdet`, `eigh`, `svd`): the real branches stay in their own files,
//! unchanged; [`Field::route`](crate::Field) picks one at compile time.

use ndarray::ArrayView2;

use crate::alloc::zeros_f;
use crate::decomp::Lu;
use crate::dispatch;
use crate::error::Result;
use crate::exec::Exec;
use crate::op::Op;
use crate::ops::lu::{explicit, swap_sign};
use crate::real::{frexp, ldexp, Real};
use crate::scalar::ComplexScalar;
use crate::validate::{blas_dims, finite, square};

impl Exec {
    pub(crate) fn lu_complex<C: ComplexScalar>(&self, a: ArrayView2<C>) -> Result<Lu<C>> {
        const OP: Op = Op::Lu;
        let (m, n) = a.dim();
        let k = m.min(n);
        blas_dims(OP, &[("rows", m), ("columns", n)])?;
        finite(OP, &a)?;
        let (packed, swaps) = if k == 0 {
            dispatch::check::<C>(self, OP)?;
            (zeros_f(OP, m, n)?, Vec::new())
        } else {
            let (lu, swaps, _) = dispatch::complex::lu_factor(self, OP, a)?;
            (lu, swaps)
        };
        explicit(OP, packed, &swaps)
    }

    /// The LU diagonal and interchanges of a square `A`, or `None` when `A` is singular;
    /// `Some(empty)` for `0 × 0`.
    fn lu_diagonal<C: ComplexScalar>(
        &self,
        op: Op,
        a: ArrayView2<C>,
    ) -> Result<Option<(Vec<C>, f64)>> {
        let n = square(op, &a)?;
        blas_dims(op, &[("rows", n)])?;
        finite(op, &a)?;
        if n == 0 {
            dispatch::check::<C>(self, op)?;
            return Ok(Some((Vec::new(), 1.0)));
        }
        let (lu, swaps, zero) = dispatch::complex::lu_factor(self, op, a)?;
        if zero.is_some() {
            return Ok(None);
        }
        Ok(Some((lu.diag().to_vec(), swap_sign(&swaps))))
    }

    pub(crate) fn det_complex<C: ComplexScalar>(&self, a: ArrayView2<C>) -> Result<C> {
        Ok(match self.lu_diagonal(Op::Det, a)? {
            Some((diag, sign)) => det_of_diagonal(&diag, sign),
            None => C::zero(),
        })
    }

    pub(crate) fn slogdet_complex<C: ComplexScalar>(
        &self,
        a: ArrayView2<C>,
    ) -> Result<(C, C::Real)> {
        Ok(match self.lu_diagonal(Op::Slogdet, a)? {
            Some((diag, sign)) => slogdet_of_diagonal(&diag, sign),
            None => (C::zero(), C::Real::of(f64::NEG_INFINITY)),
        })
    }
}

/// `sign · Π dᵢ` for the diagonal of a complex LU factor, with the binary exponent kept apart
/// (exact power-of-two rescaling after every factor), so it overflows or underflows only when
/// the determinant does.
pub(crate) fn det_of_diagonal<C: ComplexScalar>(diag: &[C], sign: f64) -> C {
    let (mut re, mut im, mut exp) = (sign, 0.0f64, 0i64);
    for d in diag {
        let (dr, di) = (d.re().as_f64(), d.im().as_f64());
        let (r, i) = (re * dr - im * di, re * di + im * dr);
        let big = r.abs().max(i.abs());
        if big == 0.0 {
            return C::zero();
        }
        let (_, e) = frexp(big);
        re = ldexp(r, -e);
        im = ldexp(i, -e);
        exp += e;
    }
    C::from_parts(C::Real::of(ldexp(re, exp)), C::Real::of(ldexp(im, exp)))
}

/// `(phase, ln|det|)` for the diagonal of a non-singular complex LU factor.
pub(crate) fn slogdet_of_diagonal<C: ComplexScalar>(diag: &[C], sign: f64) -> (C, C::Real) {
    let (mut re, mut im, mut log) = (sign, 0.0f64, 0.0f64);
    for d in diag {
        let (dr, di) = (d.re().as_f64(), d.im().as_f64());
        let m = dr.hypot(di);
        log += m.ln();
        let (ur, ui) = (dr / m, di / m);
        (re, im) = (re * ur - im * ui, re * ui + im * ur);
    }
    // Renormalise the accumulated phase to modulus one.
    let m = re.hypot(im);
    (
        C::from_parts(C::Real::of(re / m), C::Real::of(im / m)),
        C::Real::of(log),
    )
}
