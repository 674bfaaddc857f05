//! The entries the public API calls for any element type ([`Field`]): each hands its call to
//! [`Field::route`], which runs the real entry of `mod.rs` for `f32`/`f64` (unchanged, chosen
//! at compile time) or the complex entry of `complex.rs` for `c32`/`c64`.

use ndarray::{Array2, ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2};

use crate::decomp::{Diag, Qr, QrMode, Trans, Uplo};
use crate::error::Result;
use crate::exec::value::Exec;
use crate::op::Op;
use crate::scalar::typed;

use super::complex;

fn op_view<T>(a: ArrayView2<T>, t: Trans) -> ArrayView2<T> {
    match t {
        Trans::No => a,
        Trans::Yes | Trans::Conj => a.reversed_axes(),
    }
}

typed! {
    /// `C ← α op(A) op(B) + β C` (`k ≥ 1`; `a`, `b` as stored, `op` by the flags).
    fn gemm<'l, T>(
        exec: &'l Exec,
        op: Op,
        alpha: T,
        a: ArrayView2<'l, T>,
        ta: Trans,
        b: ArrayView2<'l, T>,
        tb: Trans,
        beta: T,
        c: ArrayViewMut2<'l, T>,
    ) -> Result<()> {
        real => super::gemm(exec, op, alpha, op_view(a, ta), op_view(b, tb), beta, &mut { c }),
        complex => complex::gemm(exec, op, alpha, a, ta, b, tb, beta, &mut { c }),
    }
}

typed! {
    /// `y ← α op(A) x + β y` for a non-empty `A` (as stored).
    fn gemv<'l, T>(
        exec: &'l Exec,
        op: Op,
        alpha: T,
        a: ArrayView2<'l, T>,
        ta: Trans,
        x: ArrayView1<'l, T>,
        beta: T,
        y: ArrayViewMut1<'l, T>,
    ) -> Result<()> {
        real => super::gemv(exec, op, alpha, op_view(a, ta), x, beta, &mut { y }),
        complex => complex::gemv(exec, op, alpha, a, ta, x, beta, &mut { y }),
    }
}

typed! {
    /// `Σ xᵢ yᵢ`, or `Σ conj(xᵢ) yᵢ` with `conj_x` (the same for real types).
    fn dot<'l, T>(exec: &'l Exec, x: ArrayView1<'l, T>, y: ArrayView1<'l, T>, conj_x: bool) -> Result<T> {
        real => {
            let _ = conj_x;
            super::dot(exec, x, y)
        },
        complex => complex::dot(exec, x, y, conj_x),
    }
}

typed! {
    fn axpy<'l, T>(exec: &'l Exec, alpha: T, x: ArrayView1<'l, T>, y: ArrayViewMut1<'l, T>) -> Result<()> {
        real => super::axpy(exec, alpha, x, &mut { y }),
        complex => complex::axpy(exec, alpha, x, &mut { y }),
    }
}

typed! {
    fn nrm2<'l, T>(exec: &'l Exec, x: ArrayView1<'l, T>) -> Result<T::Real> {
        real => super::nrm2(exec, x),
        complex => complex::nrm2(exec, x),
    }
}

typed! {
    fn solve<'l, T>(exec: &'l Exec, a: ArrayView2<'l, T>, b: ArrayView2<'l, T>) -> Result<Array2<T>> {
        real => super::solve(exec, a, b),
        complex => complex::solve(exec, a, b),
    }
}

typed! {
    fn inv<'l, T>(exec: &'l Exec, a: ArrayView2<'l, T>) -> Result<Array2<T>> {
        real => super::inv(exec, a),
        complex => complex::inv(exec, a),
    }
}

typed! {
    fn cholesky<'l, T>(exec: &'l Exec, a: ArrayView2<'l, T>) -> Result<Array2<T>> {
        real => super::cholesky(exec, a),
        complex => complex::cholesky(exec, a),
    }
}

typed! {
    fn qr<'l, T>(exec: &'l Exec, a: ArrayView2<'l, T>, mode: QrMode) -> Result<Qr<T>> {
        real => super::qr(exec, a, mode),
        complex => complex::qr(exec, a, mode),
    }
}

typed! {
    fn solve_triangular<'l, T>(
        exec: &'l Exec,
        a: ArrayView2<'l, T>,
        b: ArrayView2<'l, T>,
        uplo: Uplo,
        trans: Trans,
        diag: Diag,
    ) -> Result<Array2<T>> {
        real => super::solve_triangular(exec, a, b, uplo, trans, diag),
        complex => complex::solve_triangular(exec, a, b, uplo, trans, diag),
    }
}

typed! {
    /// `x ← A⁻¹ x` for square non-empty `a` (`x` holds `b`): `solve_into`.
    fn solve_into<'l, T>(exec: &'l Exec, a: ArrayView2<'l, T>, x: ArrayViewMut2<'l, T>) -> Result<()> {
        real => super::factored::solve_into(exec, a, &mut { x }),
        complex => super::factored::solve_into_complex(exec, a, &mut { x }),
    }
}

typed! {
    /// `out ← A⁻¹` for square non-empty `a`: `inv_into`.
    fn inv_into<'l, T>(exec: &'l Exec, a: ArrayView2<'l, T>, out: ArrayViewMut2<'l, T>) -> Result<()> {
        real => super::factored::inv_into(exec, a, &mut { out }),
        complex => super::factored::inv_into_complex(exec, a, &mut { out }),
    }
}

typed! {
    /// `out ← L` in place (`out` holds a copy of `A`): `cholesky_into`.
    fn cholesky_in_place<'l, T>(exec: &'l Exec, out: ArrayViewMut2<'l, T>) -> Result<()> {
        real => super::factored::cholesky_in_place(exec, &mut { out }),
        complex => super::factored::cholesky_in_place_complex(exec, &mut { out }),
    }
}

typed! {
    /// The packed LU factor (unscaled: no equilibration) of non-empty `a` and its 0-based
    /// interchanges: `lu_into`.
    fn lu_packed<'l, T>(exec: &'l Exec, op: Op, a: ArrayView2<'l, T>) -> Result<(Array2<T>, Vec<usize>)> {
        real => super::lu_factor(exec, op, a, false).map(|(p, _)| (p.lu, p.swaps)),
        complex => complex::lu_factor(exec, op, a).map(|(lu, swaps, _)| (lu, swaps)),
    }
}

typed! {
    /// `out[i] = Σⱼ vᵢⱼ` for a non-empty view with non-negative strides: the axis sums.
    fn sum_rows<'l, T>(exec: &'l Exec, op: Op, v: ArrayView2<'l, T>, out: ArrayViewMut1<'l, T>) -> Result<()> {
        real => super::reduce_rows(exec, op, super::Reduction::Sum, v, &mut { out }),
        complex => complex::sum_rows(exec, op, v, &mut { out }),
    }
}

typed! {
    /// `out[i] = ‖vᵢ,:‖₂` for a non-empty view with non-negative strides: the axis norms.
    fn norm_rows<'l, T>(exec: &'l Exec, op: Op, v: ArrayView2<'l, T>, out: ArrayViewMut1<'l, T::Real>) -> Result<()> {
        real => super::reduce_rows(exec, op, super::Reduction::Norm, v, &mut { out }),
        complex => complex::norm_rows(exec, op, v, &mut { out }),
    }
}
