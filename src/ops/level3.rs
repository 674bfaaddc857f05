//! Level 3: `matmul` and `gemm`.

use ndarray::{Array2, ArrayBase, Data, DataMut, Ix2};

use crate::alloc::zeros_c;
use crate::decomp::Trans;
use crate::dispatch;
use crate::error::{Error, Result};
use crate::exec::Exec;
use crate::op::Op;
use crate::scalar::Field;
use crate::validate::blas_dims;

fn op_view<T, S: Data<Elem = T>>(a: &ArrayBase<S, Ix2>, t: Trans) -> ndarray::ArrayView2<'_, T> {
    match t {
        Trans::No => a.view(),
        Trans::Yes | Trans::Conj => a.t(),
    }
}

impl Exec {
    /// Matrix product `C = A B` of `A: m × k` and `B: k × n` (numpy's `a @ b`).
    ///
    /// Inputs may have any layout (C, Fortran, transposed, sliced); operands BLAS can read in
    /// place are not copied. The result is a new C-order array. Empty dimensions give the
    /// mathematically defined result (`k = 0` gives zeros).
    ///
    /// Engines: `blas`; `rayon-blas` (one panel of C per thread); `rayon` (parla's BLIS GEMM,
    /// AVX-512/AVX2 micro-kernels); `auto` picks by size ([`Exec::plan`]). Threads: up to
    /// [`Exec::threads`].
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if `A.ncols() != B.nrows()`; [`Error::TooLarge`] if a
    /// dimension exceeds `i32::MAX`; [`Error::Unsupported`] on engines without `matmul`.
    ///
    /// ```
    /// use ndarray::array;
    /// let a = array![[1.0f64, 2.0], [3.0, 4.0]];
    /// let c = parla::Exec::blas(1)?.matmul(&a, &a.t())?;
    /// assert_eq!(c, array![[5.0f64, 11.0], [11.0, 25.0]]);
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn matmul<T, SA, SB>(
        &self,
        a: &ArrayBase<SA, Ix2>,
        b: &ArrayBase<SB, Ix2>,
    ) -> Result<Array2<T>>
    where
        T: Field,
        SA: Data<Elem = T>,
        SB: Data<Elem = T>,
    {
        const OP: Op = Op::Matmul;
        let ((m, k), (k2, n)) = (a.dim(), b.dim());
        if k != k2 {
            return Err(Error::ShapeMismatch {
                op: OP.name(),
                left: vec![m, k],
                right: vec![k2, n],
            });
        }
        blas_dims(OP, &[("rows", m), ("columns", n), ("inner dimension", k)])?;
        let mut c = zeros_c(OP, m, n)?;
        if m == 0 || n == 0 || k == 0 {
            dispatch::check::<T>(self, OP)?;
            return Ok(c);
        }
        dispatch::typed::gemm(
            self,
            OP,
            T::one(),
            a.view(),
            Trans::No,
            b.view(),
            Trans::No,
            T::zero(),
            c.view_mut(),
        )?;
        Ok(c)
    }

    /// General matrix multiply-add in place: `C ← α op(A) op(B) + β C`, with `op(X)` = `X` or
    /// `Xᵀ` as `ta`, `tb` say.
    ///
    /// BLAS semantics: with `β = 0`, `C` is overwritten and its old content (even NaN) is never
    /// read; with `α = 0` (or an empty inner dimension) `A` and `B` are not read. `C` may be any
    /// mutable view, including a strided sub-view of a larger array; elements outside it are not
    /// touched.
    ///
    /// Engines: as [`Exec::matmul`].
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if `op(A)`, `op(B)` and `C` do not fit; [`Error::TooLarge`] above
    /// `i32::MAX`; [`Error::Unsupported`] on engines without `gemm`.
    ///
    /// ```
    /// use ndarray::array;
    /// use parla::Trans;
    /// let a = array![[1.0f64, 2.0], [3.0, 4.0]];
    /// let mut c = array![[1.0f64, 1.0], [1.0, 1.0]];
    /// parla::blas_level::gemm(2.0, &a, Trans::Yes, &a, Trans::No, 1.0, &mut c)?;
    /// assert_eq!(c, array![[21.0f64, 29.0], [29.0, 41.0]]);
    /// # Ok::<(), parla::Error>(())
    /// ```
    #[allow(clippy::too_many_arguments)]
    pub fn gemm<T, SA, SB, SC>(
        &self,
        alpha: T,
        a: &ArrayBase<SA, Ix2>,
        ta: Trans,
        b: &ArrayBase<SB, Ix2>,
        tb: Trans,
        beta: T,
        c: &mut ArrayBase<SC, Ix2>,
    ) -> Result<()>
    where
        T: Field,
        SA: Data<Elem = T>,
        SB: Data<Elem = T>,
        SC: DataMut<Elem = T>,
    {
        const OP: Op = Op::Gemm;
        let (oa, ob) = (op_view(a, ta), op_view(b, tb));
        let ((m, k), (k2, n)) = (oa.dim(), ob.dim());
        if k != k2 {
            return Err(Error::ShapeMismatch {
                op: OP.name(),
                left: vec![m, k],
                right: vec![k2, n],
            });
        }
        if c.dim() != (m, n) {
            return Err(Error::ShapeMismatch {
                op: OP.name(),
                left: vec![m, n],
                right: c.shape().to_vec(),
            });
        }
        blas_dims(OP, &[("rows", m), ("columns", n), ("inner dimension", k)])?;
        dispatch::check::<T>(self, OP)?;
        if m == 0 || n == 0 {
            return Ok(());
        }
        if k == 0 || alpha == T::zero() {
            if beta == T::zero() {
                c.fill(T::zero());
            } else if beta != T::one() {
                c.map_inplace(|x| *x = *x * beta);
            }
            return Ok(());
        }
        dispatch::typed::gemm(
            self,
            OP,
            alpha,
            a.view(),
            ta,
            b.view(),
            tb,
            beta,
            c.view_mut(),
        )
    }
}

/// [`Exec::matmul`] with the process defaults.
///
/// # Errors
/// As [`Exec::matmul`], plus [`Error::InvalidEnv`] for a bad environment variable.
///
/// ```
/// let a = ndarray::array![[1.0f32, 2.0], [3.0, 4.0]];
/// assert_eq!(parla::matmul(&a, &a)?, ndarray::array![[7.0f32, 10.0], [15.0, 22.0]]);
/// # Ok::<(), parla::Error>(())
/// ```
pub fn matmul<T, SA, SB>(a: &ArrayBase<SA, Ix2>, b: &ArrayBase<SB, Ix2>) -> Result<Array2<T>>
where
    T: Field,
    SA: Data<Elem = T>,
    SB: Data<Elem = T>,
{
    Exec::current()?.matmul(a, b)
}

/// [`Exec::gemm`] with the process defaults.
///
/// # Errors
/// As [`Exec::gemm`], plus [`Error::InvalidEnv`].
///
/// ```
/// use parla::Trans;
/// let a = ndarray::array![[1.0f64, 2.0]];
/// let mut c = ndarray::Array2::from_elem((2, 2), f64::NAN);
/// parla::blas_level::gemm(1.0, &a, Trans::Yes, &a, Trans::No, 0.0, &mut c)?; // β = 0: NaN overwritten
/// assert_eq!(c, ndarray::array![[1.0f64, 2.0], [2.0, 4.0]]);
/// # Ok::<(), parla::Error>(())
/// ```
#[allow(clippy::too_many_arguments)]
pub fn gemm<T, SA, SB, SC>(
    alpha: T,
    a: &ArrayBase<SA, Ix2>,
    ta: Trans,
    b: &ArrayBase<SB, Ix2>,
    tb: Trans,
    beta: T,
    c: &mut ArrayBase<SC, Ix2>,
) -> Result<()>
where
    T: Field,
    SA: Data<Elem = T>,
    SB: Data<Elem = T>,
    SC: DataMut<Elem = T>,
{
    Exec::current()?.gemm(alpha, a, ta, b, tb, beta, c)
}
