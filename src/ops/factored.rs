//! Factor once, solve many: [`LuFactor`], [`CholeskyFactor`], [`QrFactor`] (scipy's
//! `lu_factor`/`lu_solve`, `cho_factor`/`cho_solve`; a QR kept for least squares).
//!
//! # Cost model
//!
//! | call | flops | memory |
//! |---|---|---|
//! | [`lu_factor`] (`n × n`) | `2n³/3` | keeps one `n × n` factor + `n` pivots |
//! | [`LuFactor::solve`], [`LuFactor::solve_transpose`] (`k` right-hand sides) | `2n²k` | allocates the `n × k` result |
//! | [`LuFactor::det`], [`LuFactor::slogdet`] | `O(n)` | none |
//! | [`LuFactor::inv`] | `4n³/3` | allocates the result |
//! | [`cho_factor`] | `n³/3` | keeps `L` (`n × n`) |
//! | [`CholeskyFactor::solve`] | `2n²k` | allocates the result |
//! | [`CholeskyFactor::logdet`] | `O(n)` | none |
//! | [`qr_factor`] (`m × n`, `m ≥ n`) | `2mn² − 2n³/3` | keeps the `m × n` factor (+ block reflectors on the rayon engines) |
//! | [`QrFactor::solve_lstsq`] | `(4mn − n²)k` | allocates an `m × k` copy of `B` |
//!
//! So `r` solves against one matrix cost one factorization plus `r` cheap solves, where
//! [`solve`](crate::solve) would refactor `r` times (`r · 2n³/3`).
//!
//! # Engines
//!
//! A factor object remembers the route of its factorization (engine and threads, resolved
//! once, `auto` included): every solve runs there — `getrs` / `potrs` / `ormqr` + `trtrs`
//! on `blas` with its OpenBLAS threads; the triangular solves of `factor/` (recursive over
//! the engine's GEMM) on `rayon-blas` and `rayon`, in the engine's pool. A solve made inside
//! a rayon worker runs on one thread, as every nested call.
//!
//! # Complex matrices
//!
//! `c32` / `c64` factor on every engine, with [`LuFactor::solve_conj_transpose`] for
//! `Aᴴ x = b` (scipy's `trans=2`) and [`cho_factor`] of a Hermitian matrix, `A = L Lᴴ`.
//! On `blas`: [`lu_factor`] by `getrf` (solves `getrs`, `inv` by `getri`); [`cho_factor`] by
//! `potrf` (solves two `trtrs`; `inv` solves with the identity, `2n³`); [`qr_factor`] keeps
//! `Q` formed (`ungqr`, `m × min(m, n)`) and `R`: each least-squares solve is one `gemm`
//! (`Qᴴ B`) and one `trtrs`, `(8mn + 4n²)k` real flops. On `rayon-blas` / `rayon`: the same
//! code as for real input (`factor/`, generic over the element type: complex GEMM updates,
//! complex panels), `Q` kept as block reflectors; `Aᴴ x = b` and `Lᴴ x = y` are solved as the
//! transposed systems between two conjugations of `x` (`O(nk)`); [`CholeskyFactor::inv`] is
//! exactly Hermitian there.

use std::fmt;

use ndarray::{Array2, ArrayBase, ArrayView2, ArrayViewMut2, Data, Ix2};

use crate::alloc::zeros_f;
use crate::decomp::Trans;
use crate::dispatch::factored::{self, Bound, LuKept, QrKept};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::exec::Exec;
use crate::op::Op;
use crate::ops::complex::{det_of_diagonal, slogdet_of_diagonal};
use crate::ops::lu::{scaled_product, swap_sign};
use crate::ops::Rhs;
use crate::real::Real;
use crate::scalar::{typed, Field, Scalar};
use crate::validate::{
    blas_dims, diagonal_finite, finite, finite_lower_after, finite_triangle, square,
};

/// Checks a right-hand side against a factor of `rows` rows and copies it into a new
/// column-major `rows × k` matrix (the solve overwrites it).
fn rhs_copy<T: Field, B: Rhs<T>>(op: Op, left: [usize; 2], b: &B) -> Result<Array2<T>> {
    let bm = b.as_matrix();
    if bm.nrows() != left[0] {
        return Err(Error::ShapeMismatch {
            op: op.name(),
            left: left.to_vec(),
            right: b.dims(),
        });
    }
    blas_dims(op, &[("right-hand sides", bm.ncols())])?;
    b.check_finite(op)?;
    let mut x = zeros_f(op, bm.nrows(), bm.ncols())?;
    crate::alloc::assign_2d(&mut x.view_mut(), bm.view());
    Ok(x)
}

/// `P A = L U` of a square matrix, kept for solves ([`lu_factor`]). See the [module
/// docs](self) for the cost model.
#[derive(Clone)]
pub struct LuFactor<T> {
    bound: Bound,
    kept: LuKept<T>,
    n: usize,
}

impl<T> fmt::Debug for LuFactor<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LuFactor")
            .field("n", &self.n)
            .field("engine", &self.bound.engine())
            .field("threads", &self.bound.threads())
            .finish_non_exhaustive()
    }
}

impl<T: Field> LuFactor<T> {
    /// The order `n` of the factored matrix.
    pub fn n(&self) -> usize {
        self.n
    }

    /// The engine that factored the matrix (and runs every solve).
    pub fn engine(&self) -> Engine {
        self.bound.engine()
    }

    /// The threads the solves run on (one inside a rayon worker).
    pub fn threads(&self) -> usize {
        self.bound.threads()
    }

    /// Whether the matrix is exactly singular (a zero pivot): solves and `inv` then return
    /// [`Error::Singular`], `det` is 0.
    pub fn is_singular(&self) -> bool {
        self.kept.zero.is_some()
    }

    fn solve_op<B: Rhs<T>>(&self, b: &B, trans: Trans) -> Result<B::Out> {
        const OP: Op = Op::LuSolve;
        let mut x = rhs_copy(OP, [self.n, self.n], b)?;
        if let Some(pivot) = self.kept.zero {
            return Err(Error::Singular {
                op: OP.name(),
                pivot,
            });
        }
        if self.n > 0 {
            lu_solve(&self.bound, &self.kept, x.view_mut(), trans)?;
        }
        Ok(B::from_matrix(x))
    }

    /// Solves `A x = b` (or `A X = B`, one system per column): `O(n²)` per right-hand side
    /// (`getrs` on `blas`, two triangular solves on the rayon engines). `b` may be a vector or
    /// a matrix; the solution has the same kind (as [`solve`](crate::solve)).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if `b` has not `n` rows; [`Error::NonFinite`];
    /// [`Error::Singular`] with the zero pivot; [`Error::TooLarge`].
    ///
    /// ```
    /// let f = parla::lu_factor(&ndarray::array![[2.0f64, 1.0], [1.0, 3.0]])?;
    /// let x = f.solve(&ndarray::array![3.0, 5.0])?;
    /// assert!((x[0] - 0.8).abs() < 1e-12 && (x[1] - 1.4).abs() < 1e-12);
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn solve<B: Rhs<T>>(&self, b: &B) -> Result<B::Out> {
        self.solve_op(b, Trans::No)
    }

    /// Solves `Aᵀ x = b` with the same factor (scipy's `lu_solve(..., trans=1)`).
    ///
    /// # Errors
    /// As [`LuFactor::solve`].
    ///
    /// ```
    /// let a = ndarray::array![[2.0f64, 1.0], [0.0, 3.0]];
    /// let x = parla::lu_factor(&a)?.solve_transpose(&ndarray::array![2.0, 4.0])?;
    /// assert!((a.t().dot(&x) - ndarray::array![2.0, 4.0]).iter().all(|r| r.abs() < 1e-12));
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn solve_transpose<B: Rhs<T>>(&self, b: &B) -> Result<B::Out> {
        self.solve_op(b, Trans::Yes)
    }

    /// Solves `Aᴴ x = b` (conjugate transpose) with the same factor (scipy's
    /// `lu_solve(..., trans=2)`); the same as [`LuFactor::solve_transpose`] for real `A`.
    ///
    /// # Errors
    /// As [`LuFactor::solve`].
    ///
    /// ```
    /// use parla::c64;
    /// let i = c64::new(0.0, 1.0);
    /// let a = ndarray::array![[c64::new(2.0, 0.0), i], [c64::new(0.0, 0.0), c64::new(3.0, 0.0)]];
    /// let b = ndarray::array![c64::new(2.0, 0.0), c64::new(4.0, 0.0)];
    /// let x = parla::lu_factor(&a)?.solve_conj_transpose(&b)?;
    /// let ah = a.t().mapv(|z| z.conj());
    /// assert!((ah.dot(&x) - &b).iter().all(|r| r.norm() < 1e-12));
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn solve_conj_transpose<B: Rhs<T>>(&self, b: &B) -> Result<B::Out> {
        self.solve_op(b, Trans::Conj)
    }

    /// `det A` from the factor: `O(n)`, scaled as [`det`](crate::det) (no spurious overflow).
    /// `1` for `n = 0`, `0` for a singular matrix.
    pub fn det(&self) -> T {
        lu_det(&self.kept)
    }

    /// `(sign, ln|det A|)` from the factor, as [`slogdet`](crate::slogdet): `(0, -inf)` for a
    /// singular matrix. For complex `A` the sign is a complex number of modulus one.
    pub fn slogdet(&self) -> (T, T::Real) {
        if self.kept.zero.is_some() {
            return (T::zero(), <T::Real as num_traits::Float>::neg_infinity());
        }
        lu_slogdet(&self.kept)
    }
}

fn real_det<T: Scalar>(kept: &LuKept<T>) -> T {
    let lu = &kept.packed;
    let unscale = -lu.row_exp.iter().map(|&e| i64::from(e)).sum::<i64>();
    let d = scaled_product(lu.lu.diag().iter().map(|v| v.as_f64()), unscale);
    T::of(swap_sign(&lu.swaps) * d)
}

fn real_slogdet<T: Scalar>(kept: &LuKept<T>) -> (T, T) {
    let lu = &kept.packed;
    let mut sign = swap_sign(&lu.swaps);
    let mut log = -lu.row_exp.iter().map(|&e| f64::from(e)).sum::<f64>() * std::f64::consts::LN_2;
    for &d in lu.lu.diag() {
        let d = d.as_f64();
        if d < 0.0 {
            sign = -sign;
        }
        log += d.abs().ln();
    }
    (T::of(sign), T::of(log))
}

typed! {
    fn lu_det<'l, T>(kept: &'l LuKept<T>) -> T {
        real => real_det(kept),
        complex => if kept.zero.is_some() {
            T::zero()
        } else {
            det_of_diagonal(&kept.packed.lu.diag().to_vec(), swap_sign(&kept.packed.swaps))
        },
    }
}

typed! {
    fn lu_slogdet<'l, T>(kept: &'l LuKept<T>) -> (T, T::Real) {
        real => real_slogdet(kept),
        complex => slogdet_of_diagonal(&kept.packed.lu.diag().to_vec(), swap_sign(&kept.packed.swaps)),
    }
}

typed! {
    fn lu_solve<'l, T>(bound: &'l Bound, kept: &'l LuKept<T>, x: ArrayViewMut2<'l, T>, trans: Trans) -> Result<()> {
        real => factored::lu_solve(bound, kept, &mut { x }, trans),
        complex => factored::lu_solve_complex(bound, kept, &mut { x }, trans),
    }
}

typed! {
    fn lu_inv<'l, T>(bound: &'l Bound, kept: &'l LuKept<T>) -> Result<Array2<T>> {
        real => factored::lu_inv(bound, kept),
        complex => factored::lu_inv_complex(bound, kept),
    }
}

typed! {
    fn cho_solve<'l, T>(bound: &'l Bound, l: &'l Array2<T>, x: ArrayViewMut2<'l, T>) -> Result<()> {
        real => factored::cho_solve(bound, l, &mut { x }),
        complex => factored::cho_solve_complex(bound, Op::ChoSolve, l, &mut { x }),
    }
}

typed! {
    fn cho_inv<'l, T>(bound: &'l Bound, l: &'l Array2<T>) -> Result<Array2<T>> {
        real => factored::cho_inv(bound, l),
        complex => factored::cho_inv_complex(bound, l),
    }
}

fn qr_r<T: Field>(kept: &QrKept<T>, k: usize) -> Result<Array2<T>> {
    crate::decomp::upper_rows(Op::QrFactor.name(), kept.f().view(), k)
}

typed! {
    fn qr_lstsq<'l, T>(bound: &'l Bound, kept: &'l QrKept<T>, b: ArrayView2<'l, T>) -> Result<Array2<T>> {
        real => factored::qr_lstsq(bound, kept, b),
        complex => factored::qr_lstsq_complex(bound, kept, b),
    }
}

typed! {
    fn lu_factor_routed<'l, T>(exec: &'l Exec, a: ArrayView2<'l, T>) -> Result<(Bound, LuKept<T>)> {
        real => factored::lu_factor(exec, a),
        complex => factored::lu_factor_complex(exec, a),
    }
}

typed! {
    fn cho_factor_routed<'l, T>(exec: &'l Exec, a: ArrayView2<'l, T>) -> Result<(Bound, Array2<T>)> {
        real => factored::cho_factor(exec, a),
        complex => factored::cho_factor_complex(exec, a),
    }
}

typed! {
    fn qr_factor_routed<'l, T>(exec: &'l Exec, a: ArrayView2<'l, T>) -> Result<(Bound, QrKept<T>)> {
        real => factored::qr_factor(exec, a),
        complex => factored::qr_factor_complex(exec, a),
    }
}

impl<T: Field> LuFactor<T> {
    /// `A⁻¹` from the factor (`getri` on a copy on `blas`; solves with the identity on the
    /// rayon engines): `4n³/3` flops instead of `2n³`.
    ///
    /// # Errors
    /// [`Error::Singular`]; [`Error::TooLarge`].
    pub fn inv(&self) -> Result<Array2<T>> {
        if let Some(pivot) = self.kept.zero {
            return Err(Error::Singular {
                op: Op::Inv.name(),
                pivot,
            });
        }
        if self.n == 0 {
            return zeros_f(Op::Inv, 0, 0);
        }
        lu_inv(&self.bound, &self.kept)
    }
}

/// `A = L Lᵀ` of a symmetric positive definite matrix, kept for solves ([`cho_factor`]).
/// See the [module docs](self) for the cost model.
#[derive(Clone)]
pub struct CholeskyFactor<T> {
    bound: Bound,
    l: Array2<T>,
}

impl<T> fmt::Debug for CholeskyFactor<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CholeskyFactor")
            .field("n", &self.l.nrows())
            .field("engine", &self.bound.engine())
            .field("threads", &self.bound.threads())
            .finish_non_exhaustive()
    }
}

impl<T: Field> CholeskyFactor<T> {
    /// The order `n` of the factored matrix.
    pub fn n(&self) -> usize {
        self.l.nrows()
    }

    /// The engine that factored the matrix (and runs every solve).
    pub fn engine(&self) -> Engine {
        self.bound.engine()
    }

    /// The threads the solves run on (one inside a rayon worker).
    pub fn threads(&self) -> usize {
        self.bound.threads()
    }

    /// The lower factor `L` (zeros above the diagonal), as [`cholesky`](crate::cholesky)
    /// returns it.
    pub fn l(&self) -> ArrayView2<'_, T> {
        self.l.view()
    }

    /// Solves `A x = b` (or `A X = B`): `O(n²)` per right-hand side (`potrs` on `blas`, two
    /// triangular solves on the rayon engines). The solution has the kind of `b`.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if `b` has not `n` rows; [`Error::NonFinite`];
    /// [`Error::TooLarge`].
    ///
    /// ```
    /// let f = parla::cho_factor(&ndarray::array![[4.0f64, 2.0], [2.0, 5.0]])?;
    /// let x = f.solve(&ndarray::array![6.0, 7.0])?;
    /// assert!((x[0] - 1.0).abs() < 1e-12 && (x[1] - 1.0).abs() < 1e-12);
    /// assert!((f.logdet() - 16f64.ln()).abs() < 1e-12);
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn solve<B: Rhs<T>>(&self, b: &B) -> Result<B::Out> {
        const OP: Op = Op::ChoSolve;
        let n = self.n();
        let mut x = rhs_copy(OP, [n, n], b)?;
        if n > 0 {
            cho_solve(&self.bound, &self.l, x.view_mut())?;
        }
        Ok(B::from_matrix(x))
    }

    /// `A⁻¹` (exactly symmetric) from the factor: `potri` on `blas`, solves with the identity
    /// on the rayon engines.
    ///
    /// # Errors
    /// [`Error::TooLarge`].
    pub fn inv(&self) -> Result<Array2<T>> {
        if self.n() == 0 {
            return zeros_f(Op::Inv, 0, 0);
        }
        cho_inv(&self.bound, &self.l)
    }

    /// `ln det A = 2 Σ ln Lᵢᵢ`: `O(n)`, never overflows. `0` for `n = 0`. Real for complex
    /// (Hermitian) `A` too: `L`'s diagonal is real and positive.
    pub fn logdet(&self) -> T::Real {
        let s: f64 = self.l.diag().iter().map(|d| d.re().as_f64().ln()).sum();
        T::Real::of(2.0 * s)
    }
}

/// `A = Q R` of an `m × n` matrix, kept for least-squares solves ([`qr_factor`]). See the
/// [module docs](self) for the cost model.
#[derive(Clone)]
pub struct QrFactor<T> {
    bound: Bound,
    kept: QrKept<T>,
    m: usize,
    n: usize,
}

impl<T> fmt::Debug for QrFactor<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QrFactor")
            .field("shape", &(self.m, self.n))
            .field("engine", &self.bound.engine())
            .field("threads", &self.bound.threads())
            .finish_non_exhaustive()
    }
}

impl<T: Field> QrFactor<T> {
    /// `(m, n)` of the factored matrix.
    pub fn dim(&self) -> (usize, usize) {
        (self.m, self.n)
    }

    /// The engine that factored the matrix (and runs every solve).
    pub fn engine(&self) -> Engine {
        self.bound.engine()
    }

    /// The threads the solves run on (one inside a rayon worker).
    pub fn threads(&self) -> usize {
        self.bound.threads()
    }

    /// `R` (`min(m, n) × n`, upper trapezoidal), as in [`qr`](crate::qr)'s reduced mode (up to
    /// the signs of its rows, which depend on the engine's Householder convention).
    ///
    /// # Errors
    /// [`Error::TooLarge`].
    pub fn r(&self) -> Result<Array2<T>> {
        qr_r(&self.kept, self.m.min(self.n))
    }

    /// The least-squares solution `x = R⁻¹ (Qᵀ b)[..n]` of `min ‖A x − b‖₂` for `m ≥ n` and
    /// `A` of full column rank: `O(mn)` per right-hand side. The solution has the kind of `b`
    /// (length `n`, or `n × k`). For rank-deficient or underdetermined systems use
    /// [`lstsq`](crate::lstsq) (SVD).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if `b` has not `m` rows; [`Error::InvalidArgument`] when
    /// `m < n`; [`Error::Singular`] when `R` has a zero diagonal entry (rank-deficient `A`);
    /// [`Error::NonFinite`]; [`Error::TooLarge`].
    ///
    /// ```
    /// // Fit y = c0 + c1 t through (0, 1), (1, 3), (2, 5).
    /// let a = ndarray::array![[1.0f64, 0.0], [1.0, 1.0], [1.0, 2.0]];
    /// let x = parla::qr_factor(&a)?.solve_lstsq(&ndarray::array![1.0, 3.0, 5.0])?;
    /// assert!((x[0] - 1.0).abs() < 1e-12 && (x[1] - 2.0).abs() < 1e-12);
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn solve_lstsq<B: Rhs<T>>(&self, b: &B) -> Result<B::Out> {
        const OP: Op = Op::QrLstsq;
        let (m, n) = (self.m, self.n);
        let bm = b.as_matrix();
        if bm.nrows() != m {
            return Err(Error::ShapeMismatch {
                op: OP.name(),
                left: vec![m, n],
                right: b.dims(),
            });
        }
        if m < n {
            return Err(Error::InvalidArgument {
                op: OP.name(),
                name: "a",
                reason: format!(
                    "QR least squares needs rows >= columns, got {m}x{n}; use lstsq for \
                     underdetermined systems"
                ),
            });
        }
        blas_dims(OP, &[("right-hand sides", bm.ncols())])?;
        b.check_finite(OP)?;
        if n == 0 {
            return Ok(B::from_matrix(zeros_f(OP, 0, bm.ncols())?));
        }
        qr_lstsq(&self.bound, &self.kept, bm).map(B::from_matrix)
    }
}

impl Exec {
    /// Factors a square matrix once, `P A = L U` with partial pivoting, for many solves
    /// ([`LuFactor::solve`], [`LuFactor::solve_transpose`], [`LuFactor::det`],
    /// [`LuFactor::inv`]); scipy's `lu_factor`. A singular matrix is not an error here: its
    /// solves are. Cost: `2n³/3` once, then `2n²` per right-hand side (see [`LuFactor`]).
    ///
    /// Engines: `blas` (`getrf`; solves `getrs`); `rayon-blas` / `rayon` (`factor/`: recursive
    /// LU over the engine's GEMM; solves by its triangular solves), for real and complex
    /// input. The route is resolved here and kept: the solves run on the same engine and
    /// threads.
    ///
    /// # Errors
    /// [`Error::NotSquare`]; [`Error::NonFinite`]; [`Error::TooLarge`];
    /// [`Error::Unsupported`].
    ///
    /// ```
    /// let a = ndarray::array![[4.0f64, 3.0], [6.0, 3.0]];
    /// let f = parla::Exec::blas(1)?.lu_factor(&a)?;
    /// assert!((f.det() + 6.0).abs() < 1e-12);
    /// for b in [ndarray::array![1.0, 0.0], ndarray::array![0.0, 1.0]] {
    ///     let x = f.solve(&b)?;
    ///     assert!((a.dot(&x) - &b).iter().all(|r| r.abs() < 1e-12));
    /// }
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn lu_factor<T: Field, S: Data<Elem = T>>(
        &self,
        a: &ArrayBase<S, Ix2>,
    ) -> Result<LuFactor<T>> {
        const OP: Op = Op::LuFactor;
        let n = square(OP, a)?;
        blas_dims(OP, &[("rows", n)])?;
        finite(OP, a)?;
        let (bound, kept) = if n == 0 {
            (factored::bind::<T>(self, OP, n, n)?, LuKept::empty())
        } else {
            lu_factor_routed(self, a.view())?
        };
        Ok(LuFactor { bound, kept, n })
    }

    /// Factors a symmetric (complex: Hermitian) positive definite matrix once, `A = L Lᵀ`
    /// (`L Lᴴ`; only the lower triangle is read), for many solves ([`CholeskyFactor::solve`], [`CholeskyFactor::inv`],
    /// [`CholeskyFactor::logdet`]); scipy's `cho_factor`. Cost: `n³/3` once, then `2n²` per
    /// right-hand side.
    ///
    /// Engines: `blas` (`potrf`; solves `potrs`); `rayon-blas` / `rayon` (`factor/`; solves by
    /// the engine's triangular solves), kept for the solves.
    ///
    /// # Errors
    /// [`Error::NotSquare`]; [`Error::NonFinite`]; [`Error::NotPositiveDefinite`];
    /// [`Error::TooLarge`]; [`Error::Unsupported`].
    ///
    /// ```
    /// let a = ndarray::array![[4.0f64, 2.0], [2.0, 5.0]];
    /// let f = parla::Exec::blas(1)?.cho_factor(&a)?;
    /// assert_eq!(f.l(), ndarray::array![[2.0, 0.0], [1.0, 2.0]]);
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn cho_factor<T: Field, S: Data<Elem = T>>(
        &self,
        a: &ArrayBase<S, Ix2>,
    ) -> Result<CholeskyFactor<T>> {
        const OP: Op = Op::ChoFactor;
        let n = square(OP, a)?;
        blas_dims(OP, &[("rows", n)])?;
        if T::IS_COMPLEX {
            finite_triangle(OP, a, true, true)?;
        }
        let (bound, l) = if n == 0 {
            (factored::bind::<T>(self, OP, n, n)?, zeros_f(OP, 0, 0)?)
        } else if T::IS_COMPLEX {
            cho_factor_routed(self, a.view())?
        } else {
            // As `Exec::cholesky`: the finite check deferred to the rare failing case.
            let r = cho_factor_routed(self, a.view());
            finite_lower_after(OP, a, r, |(_, l)| diagonal_finite(l))?
        };
        Ok(CholeskyFactor { bound, l })
    }

    /// Factors an `m × n` matrix once, `A = Q R` (Householder), for least-squares solves
    /// ([`QrFactor::solve_lstsq`], `m ≥ n`). Cost: `2mn² − 2n³/3` once, then `(4mn − n²)` per
    /// right-hand side. `Q` is kept as reflectors, never formed (complex input on `blas`
    /// keeps `Q` formed).
    ///
    /// Engines: `blas` (`geqrf`; solves `ormqr` + `trtrs`); `rayon-blas` / `rayon` (the
    /// blocked QR of `factor/`; solves apply its block reflectors as GEMMs and the engine's
    /// triangular solve), kept for the solves.
    ///
    /// # Errors
    /// [`Error::NonFinite`]; [`Error::TooLarge`]; [`Error::Unsupported`].
    ///
    /// ```
    /// let a = ndarray::array![[3.0f64, 0.0], [4.0, 5.0], [0.0, 0.0]];
    /// let f = parla::Exec::blas(1)?.qr_factor(&a)?;
    /// let r = f.r()?;
    /// assert!((r[[0, 0]].abs() - 5.0).abs() < 1e-12);
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn qr_factor<T: Field, S: Data<Elem = T>>(
        &self,
        a: &ArrayBase<S, Ix2>,
    ) -> Result<QrFactor<T>> {
        const OP: Op = Op::QrFactor;
        let (m, n) = a.dim();
        blas_dims(OP, &[("rows", m), ("columns", n)])?;
        finite(OP, a)?;
        let (bound, kept) = if m == 0 || n == 0 {
            let f = zeros_f(OP, m, n)?;
            let kept = QrKept::Lapack { f, tau: Vec::new() };
            (factored::bind::<T>(self, OP, m, n)?, kept)
        } else {
            qr_factor_routed(self, a.view())?
        };
        Ok(QrFactor { bound, kept, m, n })
    }
}

/// [`Exec::lu_factor`] with the process defaults.
///
/// # Errors
/// As [`Exec::lu_factor`], plus [`Error::InvalidEnv`].
///
/// ```
/// let f = parla::lu_factor(&ndarray::array![[0.0f64, 2.0], [1.0, 0.0]])?;
/// assert_eq!(f.solve(&ndarray::array![4.0, 1.0])?, ndarray::array![1.0, 2.0]);
/// assert_eq!(f.slogdet(), (-1.0, 2f64.ln()));
/// # Ok::<(), parla::Error>(())
/// ```
pub fn lu_factor<T: Field, S: Data<Elem = T>>(a: &ArrayBase<S, Ix2>) -> Result<LuFactor<T>> {
    Exec::current()?.lu_factor(a)
}

/// [`Exec::cho_factor`] with the process defaults.
///
/// # Errors
/// As [`Exec::cho_factor`], plus [`Error::InvalidEnv`].
///
/// ```
/// let err = parla::cho_factor(&ndarray::array![[1.0f64, 2.0], [2.0, 1.0]]).unwrap_err();
/// assert!(matches!(err, parla::Error::NotPositiveDefinite { op: "cho_factor", index: 1 }));
/// ```
pub fn cho_factor<T: Field, S: Data<Elem = T>>(a: &ArrayBase<S, Ix2>) -> Result<CholeskyFactor<T>> {
    Exec::current()?.cho_factor(a)
}

/// [`Exec::qr_factor`] with the process defaults.
///
/// # Errors
/// As [`Exec::qr_factor`], plus [`Error::InvalidEnv`].
///
/// ```
/// let f = parla::qr_factor(&ndarray::array![[1.0f64], [1.0]])?;
/// assert_eq!(f.dim(), (2, 1));
/// assert!((f.solve_lstsq(&ndarray::array![1.0, 3.0])?[0] - 2.0).abs() < 1e-12);
/// # Ok::<(), parla::Error>(())
/// ```
pub fn qr_factor<T: Field, S: Data<Elem = T>>(a: &ArrayBase<S, Ix2>) -> Result<QrFactor<T>> {
    Exec::current()?.qr_factor(a)
}
