//! `_into` variants: the same operations, written into an array the caller owns.
//!
//! Every function checks the output's shape ([`Error::ShapeMismatch`], expected shape left,
//! the output's right) and that it shares no memory with an input ([`Error::Aliasing`],
//! checked by address ranges of the contiguous lanes, so two column blocks of one C-order
//! matrix are disjoint — safe Rust cannot build an aliased pair, views made from raw
//! pointers can). The output may have any layout, including a strided sub-view of a
//! larger array: elements outside it are never touched. Inputs are never modified.
//!
//! Element types: [`matmul_into`], [`solve_into`], [`inv_into`], [`cholesky_into`],
//! [`lu_into`] and [`qr_into`] take any [`Field`] (`f32`, `f64`, [`c32`](crate::c32),
//! [`c64`](crate::c64)) on every engine where the allocating operation runs it (all three for
//! these), with the same checks (shape, aliasing, finiteness of both parts, 32-bit limits);
//! `cholesky_into` factors a Hermitian `A = L Lᴴ`. [`transpose_into`], [`map_into`],
//! [`zip_with_into`] and [`multiply_into`] are real only (`f32`, `f64`), as their
//! allocating operations are. The reductions take any [`Field`] on every engine: the sums
//! write `T`, the norms ([`row_norms_into`], [`col_norms_into`]) write `T::Real`.
//!
//! What still allocates (everything else writes straight into the output):
//!
//! | function | allocates (real) | allocates (complex) |
//! |---|---|---|
//! | [`matmul_into`] | nothing on `rayon` beyond its packing buffers; `blas` copies an output it cannot address (no unit stride) | `blas` (`zgemm`, row-major cblas): a copy of an output that is not C-order; rayon engines: one real GEMM on the interleaved parts, written in place into an output with unit stride along its rows or its columns (else a C-order temporary), plus its `2k × 2n` real right operand `B''` and a copy of an `A` without contiguous rows |
//! | [`transpose_into`] | nothing when the output's rows are contiguous (`blas`); a row-major temporary otherwise | — |
//! | [`map_into`], [`zip_with_into`], [`multiply_into`] | nothing (a temporary only for an output contiguous in a permuted axis order) | — |
//! | [`row_sums_into`], [`col_sums_into`], [`row_norms_into`], [`col_norms_into`] | nothing beyond the engine's per-block partials | the same (the real kernels write the parts of the output in place); norms of a matrix without contiguous rows: one real vector for the imaginary parts' norms |
//! | [`solve_into`] | the `n × n` LU factor of `A` and its pivots (A is kept); the solve runs in the output (a column-major output on `blas`, else a copy) | the same: `getrf` + `getrs` in the output on `blas` (a copy when it is not column-major), the LU factor and two triangular solves in the output, any layout, on the rayon engines |
//! | [`inv_into`] | the LU factor of `A`; `getri`'s workspace on `blas` | the same (`getri` in the output on `blas`, via a copy when it is not column-major) |
//! | [`cholesky_into`] | nothing on the rayon engines (factored in the output); on `blas`, a copy when the output is not column-major | the same (`potrf` on `blas`) |
//! | [`lu_into`] | the packed `m × n` factor, then scattered into `L`, `U`, `perm` | the same |
//! | [`qr_into`] | the factorization's own workspace and result, copied into `Q`, `R` | the same |

use ndarray::{
    ArrayBase, ArrayView2, ArrayViewMut1, ArrayViewMut2, Axis, Data, DataMut, Dimension, Ix1, Ix2,
};

use crate::decomp::Trans;
use crate::dispatch;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::exec::Exec;
use crate::op::{Op, Shape};
use crate::ops::lu::permutation;
use crate::ops::reduce::{norms_into, sums_into};
use crate::ops::Rhs;
use crate::scalar::{Field, Scalar};
use crate::validate::{blas_dims, disjoint, finite, finite_triangle, out_shape, square};

mod sealed {
    pub trait Sealed {}
    impl<S: ndarray::DataMut> Sealed for ndarray::ArrayBase<S, ndarray::Ix1> {}
    impl<S: ndarray::DataMut> Sealed for ndarray::ArrayBase<S, ndarray::Ix2> {}
}

/// The output of [`solve_into`]: a vector (for a vector right-hand side) or a matrix.
pub trait RhsMut<T>: sealed::Sealed {
    /// The output as an `n × k` mutable matrix view.
    fn as_matrix_mut(&mut self) -> ArrayViewMut2<'_, T>;
    /// Its shape as the caller sees it.
    fn out_dims(&self) -> Vec<usize>;
}

impl<T, S: DataMut<Elem = T>> RhsMut<T> for ArrayBase<S, Ix1> {
    fn as_matrix_mut(&mut self) -> ArrayViewMut2<'_, T> {
        self.view_mut().insert_axis(Axis(1))
    }
    fn out_dims(&self) -> Vec<usize> {
        self.shape().to_vec()
    }
}

impl<T, S: DataMut<Elem = T>> RhsMut<T> for ArrayBase<S, Ix2> {
    fn as_matrix_mut(&mut self) -> ArrayViewMut2<'_, T> {
        self.view_mut()
    }
    fn out_dims(&self) -> Vec<usize> {
        self.shape().to_vec()
    }
}

/// How the element-wise engines may write `out`: `Some(f_order)` (C order, F order, or not
/// contiguous at all: written element by element in step with the inputs), or `None` for an
/// output contiguous in a permuted axis order (computed into a C-order temporary, then copied).
fn write_order<S: Data, D: Dimension>(out: &ArrayBase<S, D>) -> Option<bool> {
    if out.is_standard_layout() {
        Some(false)
    } else if out.t().is_standard_layout() {
        Some(true)
    } else if out.as_slice_memory_order().is_some() {
        None
    } else {
        Some(false)
    }
}

/// Checks `out` against the input `name` for shared memory.
fn no_alias<SO: Data, DO: Dimension, SI: Data, DI: Dimension>(
    op: Op,
    out: &ArrayBase<SO, DO>,
    name: &'static str,
    input: &ArrayBase<SI, DI>,
) -> Result<()> {
    disjoint(op, out, name, input)
}

impl Exec {
    /// [`Exec::matmul`] into `out` (`m × n`, any layout): `out ← A B`, its old content never
    /// read. Real or complex (`T: Field`, every engine). Real: no allocation on the rayon
    /// engines beyond their packing buffers; complex: see the module's table.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] (inner dimensions, or `out` not `m × n`);
    /// [`Error::Aliasing`]; [`Error::TooLarge`]; [`Error::Unsupported`].
    ///
    /// ```
    /// let a = ndarray::array![[1.0f64, 2.0], [3.0, 4.0]];
    /// let mut c = ndarray::Array2::zeros((2, 2));
    /// parla::Exec::blas(1)?.matmul_into(&a, &a, &mut c)?;
    /// assert_eq!(c, ndarray::array![[7.0, 10.0], [15.0, 22.0]]);
    ///
    /// // Complex, on a rayon engine: i·i = −1.
    /// let i = ndarray::array![[parla::c64::new(0.0, 1.0)]];
    /// let mut z = ndarray::Array2::zeros((1, 1));
    /// parla::Exec::new(parla::Engine::Rayon, 2)?.matmul_into(&i, &i, &mut z)?;
    /// assert_eq!(z[[0, 0]], parla::c64::new(-1.0, 0.0));
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn matmul_into<T, SA, SB, SC>(
        &self,
        a: &ArrayBase<SA, Ix2>,
        b: &ArrayBase<SB, Ix2>,
        out: &mut ArrayBase<SC, Ix2>,
    ) -> Result<()>
    where
        T: Field,
        SA: Data<Elem = T>,
        SB: Data<Elem = T>,
        SC: DataMut<Elem = T>,
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
        out_shape(OP, &[m, n], out.shape())?;
        no_alias(OP, out, "a", a)?;
        no_alias(OP, out, "b", b)?;
        blas_dims(OP, &[("rows", m), ("columns", n), ("inner dimension", k)])?;
        if m == 0 || n == 0 || k == 0 {
            dispatch::check::<T>(self, OP)?;
            out.fill(T::zero());
            return Ok(());
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
            out.view_mut(),
        )
    }

    /// [`Exec::transpose`] into `out` (`c × r` for `a: r × c`, any layout).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`]; [`Error::Aliasing`]; [`Error::TooLarge`].
    ///
    /// ```
    /// let mut t = ndarray::Array2::zeros((2, 1));
    /// parla::transpose_into(&ndarray::array![[1.0f32, 2.0]], &mut t)?;
    /// assert_eq!(t, ndarray::array![[1.0f32], [2.0]]);
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn transpose_into<T, S, SO>(
        &self,
        a: &ArrayBase<S, Ix2>,
        out: &mut ArrayBase<SO, Ix2>,
    ) -> Result<()>
    where
        T: Scalar,
        S: Data<Elem = T>,
        SO: DataMut<Elem = T>,
    {
        const OP: Op = Op::Transpose;
        let (r, c) = a.dim();
        out_shape(OP, &[c, r], out.shape())?;
        no_alias(OP, out, "a", a)?;
        let plan = dispatch::plan(self, OP, T::KIND, Shape::Matrix(r, c))?;
        if plan.engine != Engine::Rayon {
            blas_dims(OP, &[("rows", r), ("columns", c)])?;
        }
        if r == 0 || c == 0 {
            return Ok(());
        }
        dispatch::transpose(self, a.view(), &mut out.view_mut())
    }

    /// [`Exec::map`] into `out` (`a`'s shape, any layout; element type `U`).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`]; [`Error::Aliasing`]; [`Error::TooLarge`] (permuted-order
    /// outputs only).
    ///
    /// ```
    /// let a = ndarray::array![1.0f64, 4.0, 9.0];
    /// let mut y = ndarray::Array1::zeros(3);
    /// parla::map_into(&a, &mut y, f64::sqrt)?;
    /// assert_eq!(y, ndarray::array![1.0, 2.0, 3.0]);
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn map_into<T, U, S, SO, D, F>(
        &self,
        a: &ArrayBase<S, D>,
        out: &mut ArrayBase<SO, D>,
        f: F,
    ) -> Result<()>
    where
        T: Scalar,
        U: Scalar,
        S: Data<Elem = T>,
        SO: DataMut<Elem = U>,
        D: Dimension,
        F: Fn(T) -> U + Sync + Send,
    {
        const OP: Op = Op::Map;
        out_shape(OP, a.shape(), out.shape())?;
        no_alias(OP, out, "a", a)?;
        dispatch::check::<T>(self, OP)?;
        if a.is_empty() {
            return Ok(());
        }
        match write_order(out) {
            Some(fo) => dispatch::map(self, OP, a.view(), out.view_mut(), fo, &f),
            None => {
                let tmp = self.map(a, f)?;
                out.assign(&tmp);
                Ok(())
            }
        }
    }

    /// [`Exec::zip_with`] into `out` (the inputs' shape, any layout).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] (inputs, or `out`); [`Error::Aliasing`]; [`Error::TooLarge`]
    /// (permuted-order outputs only).
    pub fn zip_with_into<T, U, SA, SB, SO, D, F>(
        &self,
        a: &ArrayBase<SA, D>,
        b: &ArrayBase<SB, D>,
        out: &mut ArrayBase<SO, D>,
        f: F,
    ) -> Result<()>
    where
        T: Scalar,
        U: Scalar,
        SA: Data<Elem = T>,
        SB: Data<Elem = T>,
        SO: DataMut<Elem = U>,
        D: Dimension,
        F: Fn(T, T) -> U + Sync + Send,
    {
        zip_into(self, Op::ZipWith, a, b, out, f)
    }

    /// [`Exec::multiply`] into `out`: `out[i] = a[i]·b[i]`.
    ///
    /// # Errors
    /// As [`Exec::zip_with_into`].
    ///
    /// ```
    /// let a = ndarray::array![2.0f64, 3.0];
    /// let mut p = ndarray::Array1::zeros(2);
    /// parla::multiply_into(&a, &a, &mut p)?;
    /// assert_eq!(p, ndarray::array![4.0, 9.0]);
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn multiply_into<T, SA, SB, SO, D>(
        &self,
        a: &ArrayBase<SA, D>,
        b: &ArrayBase<SB, D>,
        out: &mut ArrayBase<SO, D>,
    ) -> Result<()>
    where
        T: Scalar,
        SA: Data<Elem = T>,
        SB: Data<Elem = T>,
        SO: DataMut<Elem = T>,
        D: Dimension,
    {
        zip_into(self, Op::Multiply, a, b, out, |x: T, y: T| x * y)
    }

    /// [`Exec::row_sums`] into `out` (length `m`, any stride).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`]; [`Error::Aliasing`]; [`Error::TooLarge`].
    ///
    /// ```
    /// let mut s = ndarray::Array1::zeros(2);
    /// parla::row_sums_into(&ndarray::array![[1.0, 2.0], [3.0, 4.0]], &mut s)?;
    /// assert_eq!(s, ndarray::array![3.0, 7.0]);
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn row_sums_into<T: Field, S: Data<Elem = T>, SO: DataMut<Elem = T>>(
        &self,
        a: &ArrayBase<S, Ix2>,
        out: &mut ArrayBase<SO, Ix1>,
    ) -> Result<()> {
        reduce_out(self, Op::RowSums, a, true, out, sums_into)
    }

    /// [`Exec::col_sums`] into `out` (length `n`, any stride).
    ///
    /// # Errors
    /// As [`Exec::row_sums_into`].
    pub fn col_sums_into<T: Field, S: Data<Elem = T>, SO: DataMut<Elem = T>>(
        &self,
        a: &ArrayBase<S, Ix2>,
        out: &mut ArrayBase<SO, Ix1>,
    ) -> Result<()> {
        reduce_out(self, Op::ColSums, a, false, out, sums_into)
    }

    /// [`Exec::row_norms`] into `out` (length `m`, any stride).
    ///
    /// # Errors
    /// As [`Exec::row_sums_into`].
    pub fn row_norms_into<T: Field, S: Data<Elem = T>, SO: DataMut<Elem = T::Real>>(
        &self,
        a: &ArrayBase<S, Ix2>,
        out: &mut ArrayBase<SO, Ix1>,
    ) -> Result<()> {
        reduce_out(self, Op::RowNorms, a, true, out, norms_into)
    }

    /// [`Exec::col_norms`] into `out` (length `n`, any stride).
    ///
    /// # Errors
    /// As [`Exec::row_sums_into`].
    pub fn col_norms_into<T: Field, S: Data<Elem = T>, SO: DataMut<Elem = T::Real>>(
        &self,
        a: &ArrayBase<S, Ix2>,
        out: &mut ArrayBase<SO, Ix1>,
    ) -> Result<()> {
        reduce_out(self, Op::ColNorms, a, false, out, norms_into)
    }

    /// [`Exec::solve`] into `out` (the shape of `b`: a vector or an `n × k` matrix). `A` and
    /// `b` are kept; the LU factor of `A` is a workspace of the call; the solve runs in `out`
    /// (in place when `out` is column-major on `blas`, whatever its layout on the rayon
    /// engines). Real or complex (`T: Field`, every engine).
    ///
    /// # Errors
    /// As [`Exec::solve`]; [`Error::ShapeMismatch`] when `out` has not the shape of `b`;
    /// [`Error::Aliasing`].
    ///
    /// ```
    /// let a = ndarray::array![[2.0f64, 0.0], [0.0, 4.0]];
    /// let mut x = ndarray::Array1::zeros(2);
    /// parla::solve_into(&a, &ndarray::array![2.0, 2.0], &mut x)?;
    /// assert_eq!(x, ndarray::array![1.0, 0.5]);
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn solve_into<T, SA, B, O>(&self, a: &ArrayBase<SA, Ix2>, b: &B, out: &mut O) -> Result<()>
    where
        T: Field,
        SA: Data<Elem = T>,
        B: Rhs<T>,
        O: RhsMut<T>,
    {
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
        out_shape(OP, &b.dims(), &out.out_dims())?;
        let mut x = out.as_matrix_mut();
        no_alias(OP, &x, "a", a)?;
        no_alias(OP, &x, "b", &bm)?;
        blas_dims(OP, &[("rows", n), ("right-hand sides", bm.ncols())])?;
        finite(OP, a)?;
        b.check_finite(OP)?;
        if n == 0 {
            return dispatch::check::<T>(self, OP);
        }
        crate::alloc::assign_2d(&mut x, bm.view());
        dispatch::typed::solve_into(self, a.view(), x)
    }

    /// [`Exec::inv`] into `out` (`n × n`, any layout). `A` is kept; its LU factor is a
    /// workspace of the call (`getri` then runs in `out` on `blas`). Real or complex
    /// (`T: Field`, every engine).
    ///
    /// # Errors
    /// As [`Exec::inv`]; [`Error::ShapeMismatch`]; [`Error::Aliasing`].
    ///
    /// ```
    /// let mut ai = ndarray::Array2::zeros((1, 1));
    /// parla::inv_into(&ndarray::array![[2.0f64]], &mut ai)?;
    /// assert_eq!(ai, ndarray::array![[0.5]]);
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn inv_into<T, S, SO>(
        &self,
        a: &ArrayBase<S, Ix2>,
        out: &mut ArrayBase<SO, Ix2>,
    ) -> Result<()>
    where
        T: Field,
        S: Data<Elem = T>,
        SO: DataMut<Elem = T>,
    {
        const OP: Op = Op::Inv;
        let n = square_out(OP, a, out)?;
        finite(OP, a)?;
        if n == 0 {
            return dispatch::check::<T>(self, OP);
        }
        dispatch::typed::inv_into(self, a.view(), out.view_mut())
    }

    /// [`Exec::cholesky`] into `out` (`n × n`, any layout): `A` (its lower triangle) is copied
    /// into `out` and factored there; `A` is kept. On the rayon engines nothing else is
    /// allocated; on `blas` a non-column-major `out` goes through a column-major copy. Real or
    /// complex (`T: Field`, every engine): for complex `A` (Hermitian), `A = L Lᴴ`.
    ///
    /// # Errors
    /// As [`Exec::cholesky`]; [`Error::ShapeMismatch`]; [`Error::Aliasing`]. On
    /// [`Error::NotPositiveDefinite`] the content of `out` is unspecified.
    ///
    /// ```
    /// let a = ndarray::array![[4.0f64, 2.0], [2.0, 5.0]];
    /// let mut l = ndarray::Array2::zeros((2, 2));
    /// parla::cholesky_into(&a, &mut l)?;
    /// assert_eq!(l, ndarray::array![[2.0, 0.0], [1.0, 2.0]]);
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn cholesky_into<T, S, SO>(
        &self,
        a: &ArrayBase<S, Ix2>,
        out: &mut ArrayBase<SO, Ix2>,
    ) -> Result<()>
    where
        T: Field,
        S: Data<Elem = T>,
        SO: DataMut<Elem = T>,
    {
        const OP: Op = Op::Cholesky;
        let n = square_out(OP, a, out)?;
        finite_triangle(OP, a, true, true)?;
        if n == 0 {
            return dispatch::check::<T>(self, OP);
        }
        crate::alloc::assign_2d(&mut out.view_mut(), a.view());
        dispatch::typed::cholesky_in_place(self, out.view_mut())
    }

    /// [`Exec::lu`] into caller buffers: `l` (`m × k`, unit lower trapezoidal), `u` (`k × n`),
    /// `perm` (length `m`; row `i` of `L U` is row `perm[i]` of `A`), `k = min(m, n)`. The
    /// packed factor is a workspace of the call. Real or complex (`T: Field`, every engine).
    ///
    /// # Errors
    /// As [`Exec::lu`]; [`Error::ShapeMismatch`] for a wrong `l`, `u` or `perm`;
    /// [`Error::Aliasing`].
    ///
    /// ```
    /// let a = ndarray::array![[0.0f64, 1.0], [1.0, 0.0]];
    /// let (mut l, mut u, mut perm) = (ndarray::Array2::zeros((2, 2)), ndarray::Array2::zeros((2, 2)), [0; 2]);
    /// parla::lu_into(&a, &mut l, &mut u, &mut perm)?;
    /// assert_eq!(perm, [1, 0]);
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn lu_into<T, S, SL, SU>(
        &self,
        a: &ArrayBase<S, Ix2>,
        l: &mut ArrayBase<SL, Ix2>,
        u: &mut ArrayBase<SU, Ix2>,
        perm: &mut [usize],
    ) -> Result<()>
    where
        T: Field,
        S: Data<Elem = T>,
        SL: DataMut<Elem = T>,
        SU: DataMut<Elem = T>,
    {
        const OP: Op = Op::Lu;
        let (m, n) = a.dim();
        let k = m.min(n);
        out_shape(OP, &[m, k], l.shape())?;
        out_shape(OP, &[k, n], u.shape())?;
        out_shape(OP, &[m], &[perm.len()])?;
        two_outputs(OP, a, (l, u), "l and u (two outputs)")?;
        blas_dims(OP, &[("rows", m), ("columns", n)])?;
        finite(OP, a)?;
        let (packed, swaps) = if k == 0 {
            dispatch::check::<T>(self, OP)?;
            (None, Vec::new())
        } else {
            let (lu, swaps) = dispatch::typed::lu_packed(self, OP, a.view())?;
            (Some(lu), swaps)
        };
        perm.copy_from_slice(&permutation(m, &swaps));
        l.fill(T::zero());
        u.fill(T::zero());
        if let Some(f) = packed {
            for j in 0..k {
                l[[j, j]] = T::one();
                for i in j + 1..m {
                    l[[i, j]] = f[[i, j]];
                }
            }
            for i in 0..k {
                for j in i..n {
                    u[[i, j]] = f[[i, j]];
                }
            }
        }
        Ok(())
    }

    /// [`Exec::qr`] into caller buffers `q` and `r` (shapes as `mode` says). The
    /// factorization allocates its workspace and result, then copies them (see the module
    /// docs). Real or complex (`T: Field`, every engine; `Q` unitary for complex `A`).
    ///
    /// # Errors
    /// As [`Exec::qr`]; [`Error::ShapeMismatch`] for a wrong `q` or `r`; [`Error::Aliasing`].
    pub fn qr_into<T, S, SQ, SR>(
        &self,
        a: &ArrayBase<S, Ix2>,
        mode: crate::decomp::QrMode,
        q: &mut ArrayBase<SQ, Ix2>,
        r: &mut ArrayBase<SR, Ix2>,
    ) -> Result<()>
    where
        T: Field,
        S: Data<Elem = T>,
        SQ: DataMut<Elem = T>,
        SR: DataMut<Elem = T>,
    {
        const OP: Op = Op::Qr;
        let (m, n) = a.dim();
        let qc = mode.q_cols(m, n);
        out_shape(OP, &[m, qc], q.shape())?;
        out_shape(OP, &[qc, n], r.shape())?;
        two_outputs(OP, a, (q, r), "q and r (two outputs)")?;
        let f = self.qr(a, mode)?;
        crate::alloc::assign_2d(&mut q.view_mut(), f.q.view());
        crate::alloc::assign_2d(&mut r.view_mut(), f.r.view());
        Ok(())
    }
}

/// The checks of an `n × n` output computed from square `a` (`inv_into`, `cholesky_into`):
/// `a` square, `out` of its shape and sharing no memory with it, `n` within the 32-bit
/// limits. Returns `n`.
fn square_out<S: Data, SO: Data>(
    op: Op,
    a: &ArrayBase<S, Ix2>,
    out: &ArrayBase<SO, Ix2>,
) -> Result<usize> {
    let n = square(op, a)?;
    out_shape(op, &[n, n], out.shape())?;
    no_alias(op, out, "a", a)?;
    blas_dims(op, &[("rows", n)])?;
    Ok(n)
}

/// The aliasing checks of two outputs `(x, y)` computed from `a` (`lu_into`, `qr_into`):
/// neither shares memory with `a`, nor with the other (reported as `both`).
fn two_outputs<S: Data, SX: Data, SY: Data>(
    op: Op,
    a: &ArrayBase<S, Ix2>,
    (x, y): (&ArrayBase<SX, Ix2>, &ArrayBase<SY, Ix2>),
    both: &'static str,
) -> Result<()> {
    no_alias(op, x, "a", a)?;
    no_alias(op, y, "a", a)?;
    if crate::validate::overlaps(x, y) {
        return Err(Error::Aliasing {
            op: op.name(),
            input: both,
        });
    }
    Ok(())
}

/// [`Exec::zip_with_into`] reported under the name `op`.
fn zip_into<T, U, SA, SB, SO, D, F>(
    exec: &Exec,
    op: Op,
    a: &ArrayBase<SA, D>,
    b: &ArrayBase<SB, D>,
    out: &mut ArrayBase<SO, D>,
    f: F,
) -> Result<()>
where
    T: Scalar,
    U: Scalar,
    SA: Data<Elem = T>,
    SB: Data<Elem = T>,
    SO: DataMut<Elem = U>,
    D: Dimension,
    F: Fn(T, T) -> U + Sync + Send,
{
    if a.shape() != b.shape() {
        return Err(Error::ShapeMismatch {
            op: op.name(),
            left: a.shape().to_vec(),
            right: b.shape().to_vec(),
        });
    }
    out_shape(op, a.shape(), out.shape())?;
    no_alias(op, out, "a", a)?;
    no_alias(op, out, "b", b)?;
    dispatch::check::<T>(exec, op)?;
    if a.is_empty() {
        return Ok(());
    }
    match write_order(out) {
        Some(fo) => dispatch::zip_with(exec, op, a.view(), b.view(), out.view_mut(), fo, &f),
        None => {
            let tmp = exec.zip_with(a, b, f)?;
            out.assign(&tmp);
            Ok(())
        }
    }
}

/// A reduction into the caller's vector.
fn reduce_out<T: Field, U: Field, S: Data<Elem = T>, SO: DataMut<Elem = U>>(
    exec: &Exec,
    op: Op,
    a: &ArrayBase<S, Ix2>,
    rows: bool,
    out: &mut ArrayBase<SO, Ix1>,
    into: impl FnOnce(&Exec, Op, ArrayView2<T>, bool, ArrayViewMut1<U>) -> Result<()>,
) -> Result<()> {
    let len = if rows { a.nrows() } else { a.ncols() };
    out_shape(op, &[len], out.shape())?;
    no_alias(op, out, "a", a)?;
    into(exec, op, a.view(), rows, out.view_mut())
}

macro_rules! free_fn {
    ($(#[$doc:meta])* $name:ident <$($g:ident),*> ($($arg:ident: $ty:ty),*) where $($bounds:tt)*) => {
        $(#[$doc])*
        ///
        /// # Errors
        /// As the [`Exec`] method of the same name, plus [`Error::InvalidEnv`].
        pub fn $name<$($g),*>($($arg: $ty),*) -> Result<()>
        where
            $($bounds)*
        {
            Exec::current()?.$name($($arg),*)
        }
    };
}

free_fn!(
    /// [`Exec::matmul_into`] with the process defaults.
    matmul_into<T, SA, SB, SC>(a: &ArrayBase<SA, Ix2>, b: &ArrayBase<SB, Ix2>, out: &mut ArrayBase<SC, Ix2>)
    where T: Field, SA: Data<Elem = T>, SB: Data<Elem = T>, SC: DataMut<Elem = T>
);
free_fn!(
    /// [`Exec::transpose_into`] with the process defaults.
    transpose_into<T, S, SO>(a: &ArrayBase<S, Ix2>, out: &mut ArrayBase<SO, Ix2>)
    where T: Scalar, S: Data<Elem = T>, SO: DataMut<Elem = T>
);
free_fn!(
    /// [`Exec::map_into`] with the process defaults.
    map_into<T, U, S, SO, D, F>(a: &ArrayBase<S, D>, out: &mut ArrayBase<SO, D>, f: F)
    where T: Scalar, U: Scalar, S: Data<Elem = T>, SO: DataMut<Elem = U>, D: Dimension,
        F: Fn(T) -> U + Sync + Send
);
free_fn!(
    /// [`Exec::zip_with_into`] with the process defaults.
    zip_with_into<T, U, SA, SB, SO, D, F>(a: &ArrayBase<SA, D>, b: &ArrayBase<SB, D>, out: &mut ArrayBase<SO, D>, f: F)
    where T: Scalar, U: Scalar, SA: Data<Elem = T>, SB: Data<Elem = T>, SO: DataMut<Elem = U>,
        D: Dimension, F: Fn(T, T) -> U + Sync + Send
);
free_fn!(
    /// [`Exec::multiply_into`] with the process defaults.
    multiply_into<T, SA, SB, SO, D>(a: &ArrayBase<SA, D>, b: &ArrayBase<SB, D>, out: &mut ArrayBase<SO, D>)
    where T: Scalar, SA: Data<Elem = T>, SB: Data<Elem = T>, SO: DataMut<Elem = T>, D: Dimension
);
free_fn!(
    /// [`Exec::row_sums_into`] with the process defaults.
    row_sums_into<T, S, SO>(a: &ArrayBase<S, Ix2>, out: &mut ArrayBase<SO, Ix1>)
    where T: Field, S: Data<Elem = T>, SO: DataMut<Elem = T>
);
free_fn!(
    /// [`Exec::col_sums_into`] with the process defaults.
    col_sums_into<T, S, SO>(a: &ArrayBase<S, Ix2>, out: &mut ArrayBase<SO, Ix1>)
    where T: Field, S: Data<Elem = T>, SO: DataMut<Elem = T>
);
free_fn!(
    /// [`Exec::row_norms_into`] with the process defaults.
    row_norms_into<T, S, SO>(a: &ArrayBase<S, Ix2>, out: &mut ArrayBase<SO, Ix1>)
    where T: Field, S: Data<Elem = T>, SO: DataMut<Elem = T::Real>
);
free_fn!(
    /// [`Exec::col_norms_into`] with the process defaults.
    col_norms_into<T, S, SO>(a: &ArrayBase<S, Ix2>, out: &mut ArrayBase<SO, Ix1>)
    where T: Field, S: Data<Elem = T>, SO: DataMut<Elem = T::Real>
);
free_fn!(
    /// [`Exec::solve_into`] with the process defaults.
    solve_into<T, SA, B, O>(a: &ArrayBase<SA, Ix2>, b: &B, out: &mut O)
    where T: Field, SA: Data<Elem = T>, B: Rhs<T>, O: RhsMut<T>
);
free_fn!(
    /// [`Exec::inv_into`] with the process defaults.
    inv_into<T, S, SO>(a: &ArrayBase<S, Ix2>, out: &mut ArrayBase<SO, Ix2>)
    where T: Field, S: Data<Elem = T>, SO: DataMut<Elem = T>
);
free_fn!(
    /// [`Exec::cholesky_into`] with the process defaults.
    cholesky_into<T, S, SO>(a: &ArrayBase<S, Ix2>, out: &mut ArrayBase<SO, Ix2>)
    where T: Field, S: Data<Elem = T>, SO: DataMut<Elem = T>
);
free_fn!(
    /// [`Exec::lu_into`] with the process defaults.
    lu_into<T, S, SL, SU>(a: &ArrayBase<S, Ix2>, l: &mut ArrayBase<SL, Ix2>, u: &mut ArrayBase<SU, Ix2>, perm: &mut [usize])
    where T: Field, S: Data<Elem = T>, SL: DataMut<Elem = T>, SU: DataMut<Elem = T>
);
free_fn!(
    /// [`Exec::qr_into`] with the process defaults.
    qr_into<T, S, SQ, SR>(a: &ArrayBase<S, Ix2>, mode: crate::decomp::QrMode, q: &mut ArrayBase<SQ, Ix2>, r: &mut ArrayBase<SR, Ix2>)
    where T: Field, S: Data<Elem = T>, SQ: DataMut<Elem = T>, SR: DataMut<Elem = T>
);
