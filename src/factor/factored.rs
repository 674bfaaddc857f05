//! Solves from a factorization kept by the caller (the factor objects of the public API:
//! `LuFactor`, `CholeskyFactor`, `QrFactor`), on a rayon engine's level-3 operations, for real
//! and complex types. Each solve is two triangular solves — `O(n²)` per right-hand side, by
//! `factor::triangular::solve_in_place` (one pass over the triangle for one real right-hand
//! side, the recursive `trsm` over the engine's GEMM for more) — plus, for QR, `Qᴴ B` as three GEMMs per block
//! reflector. A solve with a conjugated factor (`Aᴴ x = b` from LU, `Lᴴ` in Cholesky) runs the
//! transposed solve between two conjugations of `x` (`Aᴴ x = b ⇔ Aᵀ x̄ = b̄`): `O(nk)`, no copy
//! of the factor; real types skip them.

use ndarray::{s, Array2, ArrayView2, ArrayViewMut2};

use crate::alloc::{assign_2d, zeros_f};
use crate::decomp::{LuPacked, Trans};
use crate::error::{Error, Result};
use crate::factor::lu::interchange_rows;
use crate::factor::qr::{apply_qt, BlockReflector};
use crate::factor::triangular::solve_in_place as tri;
use crate::kernels;
use crate::parallel::level3::Level3;
use crate::real::times_pow2;
use crate::scalar::{typed, Field};

typed! {
    /// `B ← A⁻¹ B` by plain substitution (divisions, zero multipliers skipped) on the calling
    /// thread: the careful path of a factor with a subnormal diagonal.
    fn substitute<'l, T>(lower: bool, unit: bool, a: ArrayView2<'l, T>, x: ArrayViewMut2<'l, T>) -> () {
        real => kernels::triangular::trsm_left(lower, unit, a, &mut { x }),
        complex => kernels::complex::trsm_left(lower, unit, a, &mut { x }),
    }
}

/// `2^e v`, exactly (both parts of a complex `v`).
#[inline(always)]
fn times_pow2_field<T: Field>(v: T, e: i32) -> T {
    if T::IS_COMPLEX {
        T::from_parts(times_pow2(v.re(), e), times_pow2(v.im(), e))
    } else {
        T::from_parts(times_pow2(v.re(), e), v.im())
    }
}

/// `x ← x̄` (complex types; nothing for real ones).
fn conjugate<T: Field>(x: &mut ArrayViewMut2<T>) {
    if T::IS_COMPLEX {
        x.map_inplace(|v| *v = v.conj());
    }
}

/// Whether a factor has a subnormal diagonal entry (in modulus): its solves then run by plain
/// substitution (divisions, zero multipliers skipped), as in `factor::lu::solve`.
pub(crate) fn tiny_diagonal<T: Field>(f: ArrayView2<T>) -> bool {
    let tiny = <T::Real as num_traits::Float>::min_positive_value();
    f.diag()
        .iter()
        .any(|&d| d != T::zero() && d.modulus() < tiny)
}

/// Overwrites `x: n × k` with `op(A)⁻¹ x` (`op` = none, `ᵀ` or `ᴴ`) from the LU factor of a
/// square non-singular `A` (n ≥ 1); `tiny` is [`tiny_diagonal`] of the factor.
pub(crate) fn lu_solve<T: Field>(
    op: &'static str,
    l3: &Level3,
    lu: &LuPacked<T>,
    tiny: bool,
    x: &mut ArrayViewMut2<T>,
    trans: Trans,
) -> Result<()> {
    if x.is_empty() {
        return Ok(());
    }
    let scale = |x: &mut ArrayViewMut2<T>| {
        for (mut row, &e) in x.rows_mut().into_iter().zip(&lu.row_exp) {
            row.map_inplace(|v| *v = times_pow2_field(*v, e));
        }
    };
    let f = lu.lu.view();
    if trans != Trans::No {
        // Aᵀ = (D⁻¹ Pᵀ L U)ᵀ = Uᵀ Lᵀ P D⁻¹: solve with Uᵀ, then Lᵀ, undo P, then scale by D.
        // Aᴴ x = b is Aᵀ x̄ = b̄.
        let conj = trans == Trans::Conj;
        if conj {
            conjugate(x);
        }
        if tiny {
            substitute(true, false, f.t(), x.view_mut());
            substitute(false, true, f.t(), x.view_mut());
        } else {
            tri(l3, op, true, false, f.t(), x)?;
            tri(l3, op, false, true, f.t(), x)?;
        }
        interchange_rows(l3, x, &lu.swaps, 0, true);
        scale(x);
        if conj {
            conjugate(x);
        }
    } else {
        scale(x);
        interchange_rows(l3, x, &lu.swaps, 0, false);
        if tiny {
            substitute(true, true, f, x.view_mut());
            substitute(false, false, f, x.view_mut());
        } else {
            tri(l3, op, true, true, f, x)?;
            tri(l3, op, false, false, f, x)?;
        }
    }
    Ok(())
}

/// `A⁻¹` from the LU factor of a square non-singular `A` (n ≥ 1): [`lu_solve`] on the identity.
pub(crate) fn lu_inv<T: Field>(
    op: &'static str,
    l3: &Level3,
    lu: &LuPacked<T>,
    tiny: bool,
) -> Result<Array2<T>> {
    let n = lu.lu.nrows();
    let mut x = zeros_f(op, n, n)?;
    x.diag_mut().fill(T::one());
    lu_solve(op, l3, lu, tiny, &mut x.view_mut(), Trans::No)?;
    Ok(x)
}

/// Overwrites `x: n × k` with `A⁻¹ x` from the lower Cholesky factor `l` of `A` (n ≥ 1):
/// `L y = x`, then `Lᴴ x = y` (as `Lᵀ x̄ = ȳ`).
pub(crate) fn cho_solve<T: Field>(
    op: &'static str,
    l3: &Level3,
    l: ArrayView2<T>,
    x: &mut ArrayViewMut2<T>,
) -> Result<()> {
    if x.is_empty() {
        return Ok(());
    }
    tri(l3, op, true, false, l, x)?;
    conjugate(x);
    tri(l3, op, false, false, l.t(), x)?;
    conjugate(x);
    Ok(())
}

/// `A⁻¹` from the lower Cholesky factor `l` of `A` (n ≥ 1): [`cho_solve`] on the identity,
/// then made exactly symmetric / Hermitian (the lower triangle mirrored, conjugated; a
/// real diagonal).
pub(crate) fn cho_inv<T: Field>(
    op: &'static str,
    l3: &Level3,
    l: ArrayView2<T>,
) -> Result<Array2<T>> {
    let n = l.nrows();
    let mut x = zeros_f(op, n, n)?;
    x.diag_mut().fill(T::one());
    cho_solve(op, l3, l, &mut x.view_mut())?;
    for j in 1..n {
        for i in 0..j {
            x[[i, j]] = x[[j, i]].conj();
        }
    }
    if T::IS_COMPLEX {
        // The diagonal of a Hermitian matrix is real.
        x.diag_mut()
            .map_inplace(|d| *d = T::from_parts(d.re(), <T::Real as num_traits::Zero>::zero()));
    }
    Ok(x)
}

/// `R⁻¹ (Qᴴ B)[..n]` for the blocked QR (`f`, `blocks`) of `A: m × n` (`m ≥ n ≥ 1`) and
/// `B: m × k`: the least-squares solution when `R` is non-singular. [`Error::Singular`] for a
/// zero diagonal entry of `R`.
pub(crate) fn qr_lstsq<T: Field>(
    op: &'static str,
    l3: &Level3,
    f: &Array2<T>,
    blocks: &[BlockReflector<T>],
    b: ArrayView2<T>,
) -> Result<Array2<T>> {
    let (m, n) = f.dim();
    let r = f.slice(s![..n, ..n]);
    if let Some(pivot) = r.diag().iter().position(|&d| d == T::zero()) {
        return Err(Error::Singular { op, pivot });
    }
    let k = b.ncols();
    let mut c = zeros_f(op, m, k)?;
    assign_2d(&mut c.view_mut(), b);
    if k == 0 {
        return zeros_f(op, n, 0);
    }
    apply_qt(l3, op, blocks, &mut c.view_mut())?;
    let mut x = zeros_f(op, n, k)?;
    x.assign(&c.slice(s![..n, ..]));
    if tiny_diagonal(r) {
        substitute(false, false, r, x.view_mut());
    } else {
        tri(l3, op, false, false, r, &mut x.view_mut())?;
    }
    Ok(x)
}
