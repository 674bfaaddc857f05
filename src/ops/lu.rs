//! LU with partial pivoting and what is built on it: `solve`, `lu`, `inv`, `det`, `slogdet`.

use ndarray::{s, Array2, ArrayBase, ArrayView2, Data, Ix2};

use crate::alloc::{transposed_if_row_major, zeros_f};
use crate::decomp::{unit_lower_cols, upper_rows, Lu, LuPacked};
use crate::dispatch;
use crate::error::{Error, Result};
use crate::exec::Exec;
use crate::op::Op;
use crate::ops::Rhs;
use crate::real::{frexp, ldexp};
use crate::scalar::{typed, Field, Scalar};
use crate::validate::{blas_dims, finite, square};

/// Row `i` of `L U` is row `perm[i]` of `A`, from LAPACK's sequence of interchanges.
pub(crate) fn permutation(m: usize, swaps: &[usize]) -> Vec<usize> {
    let mut perm: Vec<usize> = (0..m).collect();
    for (i, &p) in swaps.iter().enumerate() {
        perm.swap(i, p);
    }
    perm
}

/// `P`, `L` and `U` of `A = P L U` (scipy's `linalg.lu`) from the packed factor of an `m × n`
/// matrix and its interchanges. The packed factor's own buffer becomes the factor of its shape
/// (`L` when `m ≥ n`, `U` when `m < n`): one fresh array fewer to fault in and fill (with
/// `P`, the fresh pages were a fifth of an explicit LU of order 1024 on one thread).
pub(crate) fn explicit<T: Field>(op: Op, mut packed: Array2<T>, swaps: &[usize]) -> Result<Lu<T>> {
    let (m, n) = packed.dim();
    let k = m.min(n);
    let perm = permutation(m, swaps);
    let mut p = zeros_f::<T>(op, m, m)?;
    for (i, &r) in perm.iter().enumerate() {
        p[[r, i]] = T::one();
    }
    let (l, u) = if m >= n {
        let u = upper_rows(op.name(), packed.view(), k)?;
        for (j, mut col) in packed.columns_mut().into_iter().enumerate() {
            col.slice_mut(s![..j]).fill(T::zero());
            col[j] = T::one();
        }
        (packed, u)
    } else {
        let l = unit_lower_cols(op.name(), packed.view(), k)?;
        for (j, mut col) in packed.columns_mut().into_iter().enumerate() {
            col.slice_mut(s![(j + 1).min(m)..]).fill(T::zero());
        }
        (l, packed)
    };
    Ok(Lu { p, l, u, perm })
}

/// Sign of the permutation given as interchanges: `(-1)^(number of real swaps)`.
pub(crate) fn swap_sign(swaps: &[usize]) -> f64 {
    let odd = swaps.iter().enumerate().filter(|&(i, &p)| i != p).count() % 2 == 1;
    if odd {
        -1.0
    } else {
        1.0
    }
}

/// `Π dᵢ` without intermediate overflow or underflow: mantissas are multiplied, binary exponents
/// added, and the result scaled once at the end, so it overflows (to ±Inf) or underflows only
/// when the product itself does.
pub(crate) fn scaled_product(diag: impl Iterator<Item = f64>, extra_exp: i64) -> f64 {
    let (mut acc, mut exp) = (1.0f64, extra_exp);
    for d in diag {
        if d == 0.0 {
            return 0.0;
        }
        if !d.is_finite() {
            // Not reachable from `det` (its input is checked finite); keep IEEE behaviour.
            return ldexp(acc, exp) * d;
        }
        let (m, e) = frexp(d);
        let (a, ea) = frexp(acc * m);
        acc = a;
        exp += e + ea;
    }
    ldexp(acc, exp)
}

impl Exec {
    pub(crate) fn lu_packed<T: Scalar, S: Data<Elem = T>>(
        &self,
        op: Op,
        a: &ArrayBase<S, Ix2>,
        equilibrate: bool,
    ) -> Result<(LuPacked<T>, Option<usize>)> {
        dispatch::lu_factor(self, op, a.view(), equilibrate)
    }

    /// Solves `A x = b` (or `A X = B`, one system per column) for square `A` by LU with partial
    /// pivoting (numpy's `linalg.solve`). `b` may be a vector or a matrix; the solution has the
    /// same kind.
    ///
    /// Engines: `blas` (`getrf` + `getrs`); `rayon-blas` / `rayon` (`factor/`: recursive over the engine's GEMM, base blocks by single-threaded LAPACK or parla's kernels).
    ///
    /// # Errors
    /// [`Error::NotSquare`]; [`Error::ShapeMismatch`] if `b` has not `n` rows;
    /// [`Error::NonFinite`] for NaN/Inf in `A` or `b`; [`Error::Singular`] with the zero pivot;
    /// [`Error::TooLarge`].
    ///
    /// ```
    /// let a = ndarray::array![[2.0f64, 1.0], [1.0, 3.0]];
    /// let x = parla::Exec::blas(1)?.solve(&a, &ndarray::array![3.0, 5.0])?;
    /// assert!((x[0] - 0.8).abs() < 1e-12 && (x[1] - 1.4).abs() < 1e-12);
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn solve<T: Field, SA: Data<Elem = T>, B: Rhs<T>>(
        &self,
        a: &ArrayBase<SA, Ix2>,
        b: &B,
    ) -> Result<B::Out> {
        const OP: Op = Op::Solve;
        let n = square(OP, a)?;
        let bm = b.as_matrix();
        if bm.nrows() != n {
            return Err(Error::ShapeMismatch {
                op: OP.name(),
                left: a.shape().to_vec(),
                right: b.dims(),
            });
        }
        blas_dims(OP, &[("rows", n), ("right-hand sides", bm.ncols())])?;
        finite(OP, a)?;
        b.check_finite(OP)?;
        if n == 0 {
            dispatch::check::<T>(self, OP)?;
            return Ok(B::from_matrix(zeros_f(OP, 0, bm.ncols())?));
        }
        dispatch::typed::solve(self, a.view(), bm).map(B::from_matrix)
    }

    /// LU factorization with partial pivoting `A = P L U` of an `m × n` matrix (scipy's
    /// `linalg.lu`). A singular matrix is not an error: its `U` has a zero on the diagonal.
    ///
    /// Engines: `blas` (`getrf`); `rayon-blas` / `rayon` (`factor/`: recursive over the engine's GEMM, base blocks by single-threaded LAPACK or parla's kernels).
    ///
    /// # Errors
    /// [`Error::NonFinite`]; [`Error::TooLarge`].
    ///
    /// ```
    /// let a = ndarray::array![[1.0f64, 2.0], [3.0, 4.0]];
    /// let f = parla::Exec::blas(1)?.lu(&a)?;
    /// let back = f.p.dot(&f.l).dot(&f.u);
    /// assert!((back - &a).iter().all(|d| d.abs() < 1e-12));
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn lu<T: Field, S: Data<Elem = T>>(&self, a: &ArrayBase<S, Ix2>) -> Result<Lu<T>> {
        routed_lu(self, a.view())
    }

    fn lu_real<T: Scalar, S: Data<Elem = T>>(&self, a: &ArrayBase<S, Ix2>) -> Result<Lu<T>> {
        const OP: Op = Op::Lu;
        let (m, n) = a.dim();
        let k = m.min(n);
        blas_dims(OP, &[("rows", m), ("columns", n)])?;
        finite(OP, a)?;
        let (packed, swaps) = if k == 0 {
            dispatch::check::<T>(self, OP)?;
            (zeros_f(OP, m, n)?, Vec::new())
        } else {
            let (p, _) = self.lu_packed(OP, a, false)?;
            (p.lu, p.swaps)
        };
        explicit(OP, packed, &swaps)
    }

    /// Inverse `A⁻¹` of a square matrix (numpy's `linalg.inv`).
    ///
    /// Engines: `blas` (`getrf` + `getri`); `rayon-blas` / `rayon` (`factor/`: recursive over the engine's GEMM, base blocks by single-threaded LAPACK or parla's kernels).
    ///
    /// # Errors
    /// [`Error::NotSquare`]; [`Error::NonFinite`]; [`Error::Singular`]; [`Error::TooLarge`].
    ///
    /// ```
    /// let a = ndarray::array![[4.0f64, 7.0], [2.0, 6.0]];
    /// let ai = parla::Exec::blas(1)?.inv(&a)?;
    /// assert!((ai[[0, 0]] - 0.6).abs() < 1e-12);
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn inv<T: Field, S: Data<Elem = T>>(&self, a: &ArrayBase<S, Ix2>) -> Result<Array2<T>> {
        const OP: Op = Op::Inv;
        let n = square(OP, a)?;
        blas_dims(OP, &[("rows", n)])?;
        finite(OP, a)?;
        if n == 0 {
            dispatch::check::<T>(self, OP)?;
            return zeros_f(OP, 0, 0);
        }
        dispatch::typed::inv(self, a.view())
    }

    /// Determinant of a square matrix from its LU factors (numpy's `linalg.det`): `1` for a
    /// `0 × 0` matrix, `0` for a singular one. The product of the pivots is formed with scaling,
    /// so it overflows (to ±Inf) or underflows only when the determinant itself does.
    ///
    /// Engines: `blas` (`getrf`); `rayon-blas` / `rayon` (`factor/`: recursive over the engine's GEMM, base blocks by single-threaded LAPACK or parla's kernels).
    ///
    /// # Errors
    /// [`Error::NotSquare`]; [`Error::NonFinite`]; [`Error::TooLarge`].
    ///
    /// ```
    /// let a = ndarray::array![[1.0f64, 2.0], [3.0, 4.0]];
    /// assert!((parla::Exec::blas(1)?.det(&a)? + 2.0).abs() < 1e-12);
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn det<T: Field, S: Data<Elem = T>>(&self, a: &ArrayBase<S, Ix2>) -> Result<T> {
        routed_det(self, a.view())
    }

    fn det_real<T: Scalar, S: Data<Elem = T>>(&self, a: &ArrayBase<S, Ix2>) -> Result<T> {
        const OP: Op = Op::Det;
        let n = square(OP, a)?;
        blas_dims(OP, &[("rows", n)])?;
        finite(OP, a)?;
        if n == 0 {
            dispatch::check::<T>(self, OP)?;
            return Ok(T::one());
        }
        // det Aᵀ = det A: a row-major A is factored as the column-major Aᵀ it is in memory.
        let (target, _) = transposed_if_row_major(a.view());
        let (lu, _) = self.lu_packed(OP, &target, true)?;
        // The factors may be of D·A (rows scaled by 2^row_exp, see LuPacked): undo D exactly.
        let unscale = -lu.row_exp.iter().map(|&e| i64::from(e)).sum::<i64>();
        let d = scaled_product(lu.lu.diag().iter().map(|v| v.as_f64()), unscale);
        Ok(T::of(swap_sign(&lu.swaps) * d))
    }

    /// Sign and natural log of `|det A|` (numpy's `linalg.slogdet`): `det A = sign · exp(logabsdet)`
    /// without overflow. A singular matrix gives `(0, -inf)`; a `0 × 0` matrix `(1, 0)`.
    ///
    /// Engines: `blas` (`getrf`); `rayon-blas` / `rayon` (`factor/`: recursive over the engine's GEMM, base blocks by single-threaded LAPACK or parla's kernels).
    ///
    /// # Errors
    /// [`Error::NotSquare`]; [`Error::NonFinite`]; [`Error::TooLarge`].
    ///
    /// ```
    /// let a = ndarray::Array2::<f64>::eye(3) * 1e200;
    /// let (sign, logdet) = parla::Exec::blas(1)?.slogdet(&a)?;
    /// assert_eq!(sign, 1.0);
    /// assert!((logdet - 600.0 * 10f64.ln()).abs() < 1e-9);
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn slogdet<T: Field, S: Data<Elem = T>>(
        &self,
        a: &ArrayBase<S, Ix2>,
    ) -> Result<(T, T::Real)> {
        routed_slogdet(self, a.view())
    }

    fn slogdet_real<T: Scalar, S: Data<Elem = T>>(&self, a: &ArrayBase<S, Ix2>) -> Result<(T, T)> {
        const OP: Op = Op::Slogdet;
        let n = square(OP, a)?;
        blas_dims(OP, &[("rows", n)])?;
        finite(OP, a)?;
        if n == 0 {
            dispatch::check::<T>(self, OP)?;
            return Ok((T::one(), T::zero()));
        }
        let (target, _) = transposed_if_row_major(a.view());
        let (lu, zero) = self.lu_packed(OP, &target, true)?;
        if zero.is_some() {
            return Ok((T::zero(), T::neg_infinity()));
        }
        let mut sign = swap_sign(&lu.swaps);
        let mut log =
            -lu.row_exp.iter().map(|&e| f64::from(e)).sum::<f64>() * std::f64::consts::LN_2;
        for &d in lu.lu.diag() {
            let d = d.as_f64();
            if d < 0.0 {
                sign = -sign;
            }
            log += d.abs().ln();
        }
        Ok((T::of(sign), T::of(log)))
    }
}

typed! {
    fn routed_lu<'l, T>(exec: &'l Exec, a: ArrayView2<'l, T>) -> Result<Lu<T>> {
        real => exec.lu_real(&a),
        complex => exec.lu_complex(a),
    }
}

typed! {
    fn routed_det<'l, T>(exec: &'l Exec, a: ArrayView2<'l, T>) -> Result<T> {
        real => exec.det_real(&a),
        complex => exec.det_complex(a),
    }
}

typed! {
    fn routed_slogdet<'l, T>(exec: &'l Exec, a: ArrayView2<'l, T>) -> Result<(T, T::Real)> {
        real => exec.slogdet_real(&a),
        complex => exec.slogdet_complex(a),
    }
}

/// [`Exec::solve`] with the process defaults.
///
/// # Errors
/// As [`Exec::solve`], plus [`Error::InvalidEnv`].
///
/// ```
/// let x = parla::solve(&ndarray::array![[2.0f64, 0.0], [0.0, 4.0]], &ndarray::array![[2.0], [2.0]])?;
/// assert_eq!(x, ndarray::array![[1.0f64], [0.5]]);
/// # Ok::<(), parla::Error>(())
/// ```
pub fn solve<T: Field, SA: Data<Elem = T>, B: Rhs<T>>(
    a: &ArrayBase<SA, Ix2>,
    b: &B,
) -> Result<B::Out> {
    Exec::current()?.solve(a, b)
}

/// [`Exec::lu`] with the process defaults.
///
/// # Errors
/// As [`Exec::lu`], plus [`Error::InvalidEnv`].
///
/// ```
/// let f = parla::lu(&ndarray::array![[0.0f64, 1.0], [1.0, 0.0]])?;
/// assert_eq!(f.perm, vec![1, 0]);
/// # Ok::<(), parla::Error>(())
/// ```
pub fn lu<T: Field, S: Data<Elem = T>>(a: &ArrayBase<S, Ix2>) -> Result<Lu<T>> {
    Exec::current()?.lu(a)
}

/// [`Exec::inv`] with the process defaults.
///
/// # Errors
/// As [`Exec::inv`], plus [`Error::InvalidEnv`].
///
/// ```
/// assert_eq!(parla::inv(&ndarray::array![[2.0f64]])?, ndarray::array![[0.5]]);
/// # Ok::<(), parla::Error>(())
/// ```
pub fn inv<T: Field, S: Data<Elem = T>>(a: &ArrayBase<S, Ix2>) -> Result<Array2<T>> {
    Exec::current()?.inv(a)
}

/// [`Exec::det`] with the process defaults.
///
/// # Errors
/// As [`Exec::det`], plus [`Error::InvalidEnv`].
///
/// ```
/// assert_eq!(parla::det(&ndarray::Array2::<f64>::zeros((0, 0)))?, 1.0);
/// # Ok::<(), parla::Error>(())
/// ```
pub fn det<T: Field, S: Data<Elem = T>>(a: &ArrayBase<S, Ix2>) -> Result<T> {
    Exec::current()?.det(a)
}

/// [`Exec::slogdet`] with the process defaults.
///
/// # Errors
/// As [`Exec::slogdet`], plus [`Error::InvalidEnv`].
///
/// ```
/// let (s, l) = parla::slogdet(&ndarray::array![[0.0f64, 0.0], [0.0, 1.0]])?;
/// assert_eq!((s, l), (0.0, f64::NEG_INFINITY));
/// # Ok::<(), parla::Error>(())
/// ```
pub fn slogdet<T: Field, S: Data<Elem = T>>(a: &ArrayBase<S, Ix2>) -> Result<(T, T::Real)> {
    Exec::current()?.slogdet(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permutation_from_interchanges() {
        // Swap 0<->2, then 1<->2: [0,1,2] -> [2,1,0] -> [2,0,1].
        assert_eq!(permutation(3, &[2, 2]), vec![2, 0, 1]);
        assert_eq!(permutation(4, &[]), vec![0, 1, 2, 3]);
        assert_eq!(swap_sign(&[2, 2]), 1.0);
        assert_eq!(swap_sign(&[1, 1, 2]), -1.0);
    }

    #[test]
    fn scaled_product_avoids_spurious_overflow() {
        assert_eq!(
            scaled_product([1e200, 1e200, 1e-200, 1e-200].into_iter(), 0),
            1.0
        );
        assert_eq!(scaled_product([1e300, 1e300].into_iter(), 0), f64::INFINITY);
        assert_eq!(scaled_product([1e-300, 1e-300].into_iter(), 0), 0.0);
        assert_eq!(scaled_product([2.0, -3.0, 0.5].into_iter(), 0), -3.0);
        assert_eq!(scaled_product([1.0, 0.0, 1e300].into_iter(), 0), 0.0);
        let x = scaled_product([1e250, 1e250, 1e-250, 1e-240].into_iter(), 0);
        assert!((x / 1e10 - 1.0).abs() < 1e-14, "{x}");
        assert_eq!(scaled_product([5e-324, 2.0].into_iter(), 0), 1e-323);
        assert_eq!(scaled_product([-0.75, 3.0].into_iter(), 0), -2.25);
        for x in [1.0, -3.5, 1e-310, 7e300, f64::MAX, f64::MIN_POSITIVE] {
            let (m, e) = frexp(x);
            assert!((0.5..1.0).contains(&m.abs()), "{x}: {m}");
            assert_eq!(ldexp(m, e), x);
        }
    }
}
