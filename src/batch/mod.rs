//! Batched linear algebra: `matmul`, `solve`, `cholesky` and `inv` over many independent
//! matrices at once (numpy's stacked `a @ b`, `linalg.solve`, `linalg.cholesky`, `linalg.inv`
//! on `(batch, m, n)` arrays).
//!
//! A batch is a 3-D array whose first axis runs over the items (`batch × m × n`, any layout or
//! strides, including broadcast views), or a slice / `Vec` / array of 2-D matrices (which may
//! differ in shape). A 3-D input gives an [`Array3`] (C order), a list gives a
//! `Vec<`[`Array2`]`>`: for [`matmul`] the result has the kind of `a`, for [`solve`] the kind of
//! `b`. As in numpy, a batch of length 1 is broadcast against the other operand.
//!
//! How the threads are spent is the [`Strategy`]: a loop of threaded OpenBLAS calls, rayon over
//! the batch with single-threaded OpenBLAS per item, or rayon over the batch with parla's own
//! kernels; [`Strategy::Auto`] picks by matrix size and batch length. For many small matrices
//! spreading the *items* over the cores is much faster than threading each call (OpenBLAS runs
//! small calls on one thread anyway): see `cargo run --release --example batch`.
//!
//! ```
//! use ndarray::{Array3, Axis};
//! use parla::batch::{self, Batch, Strategy};
//! use parla::Exec;
//!
//! // 100 systems A_i x_i = b_i with 8 × 8 matrices, stored as (batch, 8, 8) and (batch, 8, 1).
//! let a = Array3::from_shape_fn((100, 8, 8), |(i, r, c)| {
//!     if r == c { 10.0 + i as f64 } else { 1.0 / (1.0 + (r + c) as f64) }
//! });
//! let b = Array3::from_shape_fn((100, 8, 1), |(i, r, _)| (i + r) as f64);
//!
//! let x = batch::solve(&a, &b)?;                  // process defaults, strategy auto
//! let ax = batch::matmul(&a, &x)?;
//! assert!((ax - &b).iter().all(|r| r.abs() < 1e-12));
//!
//! // Fix threads and strategy; lists of matrices work too.
//! let two = Batch::new(Exec::blas(2)?, Strategy::RayonBlas);
//! let list: Vec<_> = a.axis_iter(Axis(0)).collect();
//! let inverses = two.inv(&list)?;
//! assert_eq!(inverses.len(), 100);
//!
//! // A failing item is named by its index.
//! let mut bad = a.clone();
//! bad.index_axis_mut(Axis(0), 42).fill(0.0);
//! match two.inv(&bad) {
//!     Err(parla::Error::Batch { index: 42, .. }) => {}
//!     other => panic!("{other:?}"),
//! }
//! # Ok::<(), parla::Error>(())
//! ```

use ndarray::{Array2, Array3, ArrayBase, ArrayView2, ArrayViewMut2, Axis, Data, Ix2, Ix3};

pub(crate) mod plan;
pub(crate) mod schedule;
mod strategy;

use crate::alloc::{elements, zeros_vec};
use crate::dispatch;
use crate::error::{Error, Result};
use crate::exec::Exec;
use crate::op::{Dtype, Op};
use crate::scalar::Scalar;
use crate::validate::{blas_dims, finite, finite_triangle};
use plan::BatchJob;

pub use crate::dispatch::{
    BATCH_FACTOR_SMALL_ORDER, BATCH_GEMM_SMALL_ORDER, BATCH_MIN_FLOPS, BATCH_MIN_ITEMS_PER_WORKER,
};
pub use plan::BatchPlan;
pub use strategy::{Strategy, UnknownStrategy};

/// A batch of matrices: a 3-D array (`batch × m × n`) or a list of 2-D matrices (slice, `Vec`
/// or array of any `ArrayBase<_, Ix2>`).
///
/// Implemented by parla for those types only; the methods are what the batched operations use.
pub trait Stack<T: Scalar> {
    /// The owned result of the same kind: [`Array3`] for a 3-D input, `Vec<Array2>` for a list.
    type Out;

    /// Number of matrices.
    fn len(&self) -> usize;

    /// Whether the batch holds no matrix.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Matrix `i` as a view (`i < len()`).
    fn matrix(&self, i: usize) -> ArrayView2<'_, T>;

    /// The shape every matrix has, for a 3-D input (`None` for a list).
    fn common_shape(&self) -> Option<(usize, usize)>;

    /// The shape as the caller sees it (`[batch, m, n]`, or `[len]` for a list), for errors.
    fn dims(&self) -> Vec<usize>;

    /// A zero result holding one `shapes[i]` matrix per item (`empty` is the matrix shape of
    /// an empty 3-D result).
    ///
    /// # Errors
    /// [`Error::TooLarge`] when the memory cannot be had; [`Error::Batch`] wrapping
    /// [`Error::ShapeMismatch`] when a 3-D result would need items of different shapes (a list
    /// of varying matrices combined with a 3-D input).
    fn zeros(
        op: &'static str,
        shapes: &[(usize, usize)],
        empty: (usize, usize),
    ) -> Result<Self::Out>;

    /// Mutable views of the matrices of a result, in order.
    fn views_mut(out: &mut Self::Out) -> Vec<ArrayViewMut2<'_, T>>;
}

impl<T: Scalar, S: Data<Elem = T>> Stack<T> for ArrayBase<S, Ix3> {
    type Out = Array3<T>;
    fn len(&self) -> usize {
        self.len_of(Axis(0))
    }
    fn matrix(&self, i: usize) -> ArrayView2<'_, T> {
        self.index_axis(Axis(0), i)
    }
    fn common_shape(&self) -> Option<(usize, usize)> {
        let (_, m, n) = self.dim();
        Some((m, n))
    }
    fn dims(&self) -> Vec<usize> {
        self.shape().to_vec()
    }
    fn zeros(
        op: &'static str,
        shapes: &[(usize, usize)],
        empty: (usize, usize),
    ) -> Result<Array3<T>> {
        let (m, n) = shapes.first().copied().unwrap_or(empty);
        if let Some(i) = shapes.iter().position(|&s| s != (m, n)) {
            return Err(Error::Batch {
                op,
                index: i,
                source: Box::new(Error::ShapeMismatch {
                    op,
                    left: vec![m, n],
                    right: vec![shapes[i].0, shapes[i].1],
                }),
            });
        }
        let len = elements(op, shapes.len(), elements(op, m, n)?)?;
        let v = zeros_vec(op, len)?;
        Ok(Array3::from_shape_vec((shapes.len(), m, n), v).expect("length matches shape"))
    }
    fn views_mut(out: &mut Array3<T>) -> Vec<ArrayViewMut2<'_, T>> {
        out.outer_iter_mut().collect()
    }
}

impl<T: Scalar, S: Data<Elem = T>> Stack<T> for [ArrayBase<S, Ix2>] {
    type Out = Vec<Array2<T>>;
    fn len(&self) -> usize {
        <[_]>::len(self)
    }
    fn matrix(&self, i: usize) -> ArrayView2<'_, T> {
        self[i].view()
    }
    fn common_shape(&self) -> Option<(usize, usize)> {
        None
    }
    fn dims(&self) -> Vec<usize> {
        vec![<[_]>::len(self)]
    }
    fn zeros(
        op: &'static str,
        shapes: &[(usize, usize)],
        _empty: (usize, usize),
    ) -> Result<Vec<Array2<T>>> {
        shapes
            .iter()
            .map(|&(m, n)| {
                let v = zeros_vec(op, elements(op, m, n)?)?;
                Ok(Array2::from_shape_vec((m, n), v).expect("length matches shape"))
            })
            .collect()
    }
    fn views_mut(out: &mut Vec<Array2<T>>) -> Vec<ArrayViewMut2<'_, T>> {
        out.iter_mut().map(|a| a.view_mut()).collect()
    }
}

impl<T: Scalar, S: Data<Elem = T>> Stack<T> for Vec<ArrayBase<S, Ix2>> {
    type Out = Vec<Array2<T>>;
    fn len(&self) -> usize {
        self.as_slice().len()
    }
    fn matrix(&self, i: usize) -> ArrayView2<'_, T> {
        self[i].view()
    }
    fn common_shape(&self) -> Option<(usize, usize)> {
        None
    }
    fn dims(&self) -> Vec<usize> {
        vec![self.as_slice().len()]
    }
    fn zeros(
        op: &'static str,
        shapes: &[(usize, usize)],
        empty: (usize, usize),
    ) -> Result<Vec<Array2<T>>> {
        <[ArrayBase<S, Ix2>] as Stack<T>>::zeros(op, shapes, empty)
    }
    fn views_mut(out: &mut Vec<Array2<T>>) -> Vec<ArrayViewMut2<'_, T>> {
        <[ArrayBase<S, Ix2>] as Stack<T>>::views_mut(out)
    }
}

impl<T: Scalar, S: Data<Elem = T>, const N: usize> Stack<T> for [ArrayBase<S, Ix2>; N] {
    type Out = Vec<Array2<T>>;
    fn len(&self) -> usize {
        N
    }
    fn matrix(&self, i: usize) -> ArrayView2<'_, T> {
        self[i].view()
    }
    fn common_shape(&self) -> Option<(usize, usize)> {
        None
    }
    fn dims(&self) -> Vec<usize> {
        vec![N]
    }
    fn zeros(
        op: &'static str,
        shapes: &[(usize, usize)],
        empty: (usize, usize),
    ) -> Result<Vec<Array2<T>>> {
        <[ArrayBase<S, Ix2>] as Stack<T>>::zeros(op, shapes, empty)
    }
    fn views_mut(out: &mut Vec<Array2<T>>) -> Vec<ArrayViewMut2<'_, T>> {
        <[ArrayBase<S, Ix2>] as Stack<T>>::views_mut(out)
    }
}

/// The items of a batch as views.
fn views<T: Scalar, A: Stack<T> + ?Sized>(a: &A) -> Vec<ArrayView2<'_, T>> {
    (0..a.len()).map(|i| a.matrix(i)).collect()
}

/// Item `i` of a batch that may be broadcast (length 1).
fn pick<'a, T>(v: &'a [ArrayView2<'a, T>], i: usize) -> &'a ArrayView2<'a, T> {
    if v.len() == 1 {
        &v[0]
    } else {
        &v[i]
    }
}

/// The length of the result of two batches: equal lengths, or one of them 1 (broadcast).
fn broadcast_len<T: Scalar, A: Stack<T> + ?Sized, B: Stack<T> + ?Sized>(
    op: &'static str,
    a: &A,
    b: &B,
) -> Result<usize> {
    match (a.len(), b.len()) {
        (x, y) if x == y => Ok(x),
        (1, y) => Ok(y),
        (x, 1) => Ok(x),
        _ => Err(Error::ShapeMismatch {
            op,
            left: a.dims(),
            right: b.dims(),
        }),
    }
}

/// `e` as the error of item `index` of the batched operation `op`.
fn at(op: &'static str, index: usize, e: Error) -> Error {
    Error::Batch {
        op,
        index,
        source: Box::new(e),
    }
}

/// Requires every item of `v` to be square and within the BLAS limits; returns the orders.
/// A 3-D input that is not square is reported once, not per item.
fn square_items<T: Scalar, A: Stack<T> + ?Sized>(
    op: &'static str,
    item_op: Op,
    a: &A,
    v: &[ArrayView2<'_, T>],
) -> Result<Vec<usize>> {
    if let Some((rows, cols)) = a.common_shape() {
        if rows != cols {
            return Err(Error::NotSquare { op, rows, cols });
        }
        blas_dims(op, &[("rows", rows)])?;
    }
    v.iter()
        .enumerate()
        .map(|(i, m)| {
            let (rows, cols) = m.dim();
            if rows != cols {
                return Err(at(
                    op,
                    i,
                    Error::NotSquare {
                        op: item_op.name(),
                        rows,
                        cols,
                    },
                ));
            }
            blas_dims(item_op, &[("rows", rows)]).map_err(|e| at(op, i, e))?;
            Ok(rows)
        })
        .collect()
}

/// How one batched call runs: a thread budget ([`Exec`]) and a [`Strategy`].
///
/// Every batched operation is a method here and a free function of the same name in
/// [`parla::batch`](crate::batch) that runs with [`Batch::current`].
///
/// ```
/// use parla::batch::{Batch, Strategy};
/// let a = ndarray::Array3::<f64>::from_shape_fn((4, 2, 2), |(i, r, c)| (i + r + 2 * c) as f64);
/// let c = Batch::new(parla::Exec::blas(2)?, Strategy::Loop).matmul(&a, &a)?;
/// assert_eq!(c.dim(), (4, 2, 2));
/// assert_eq!(c[[1, 0, 0]], 1.0 * 1.0 + 3.0 * 2.0);
/// # Ok::<(), parla::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Batch {
    exec: Exec,
    strategy: Strategy,
}

impl Exec {
    /// Batched operations with this thread budget and `strategy` (see [`Batch`]).
    ///
    /// ```
    /// use parla::batch::Strategy;
    /// let a = ndarray::Array3::<f64>::zeros((3, 4, 4));
    /// let c = parla::Exec::blas(1)?.batch(Strategy::RayonBlas).matmul(&a, &a)?;
    /// assert_eq!(c.dim(), (3, 4, 4));
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn batch(self, strategy: Strategy) -> Batch {
        Batch::new(self, strategy)
    }
}

impl Batch {
    /// Batched operations with the thread budget (and engine) of `exec` and `strategy`.
    ///
    /// `Loop` uses the `blas` budget of `exec` for each call; `RayonBlas` and `Rayon` use the
    /// rayon budget as the number of workers over the batch. [`Strategy::Auto`] follows an
    /// explicit engine of `exec` (`blas` → `Loop`, `rayon-blas` → `RayonBlas`, `rayon` →
    /// `Rayon`) and picks by size under engine `auto`.
    pub fn new(exec: Exec, strategy: Strategy) -> Self {
        Batch { exec, strategy }
    }

    /// The process defaults ([`Exec::current`]) with [`Strategy::Auto`].
    ///
    /// # Errors
    /// [`Error::InvalidEnv`] for a bad environment variable.
    pub fn current() -> Result<Self> {
        Ok(Batch::new(Exec::current()?, Strategy::Auto))
    }

    /// The same value with another strategy.
    pub fn with_strategy(self, strategy: Strategy) -> Self {
        Batch { strategy, ..self }
    }

    /// The thread budget and engine.
    pub fn exec(&self) -> Exec {
        self.exec
    }

    /// The strategy asked for (possibly [`Strategy::Auto`]).
    pub fn strategy(&self) -> Strategy {
        self.strategy
    }

    /// What a batch of `len` square items of order `order` of the single-matrix operation `op`
    /// ([`Op::Matmul`], [`Op::Solve`], [`Op::Cholesky`], [`Op::Inv`]) on `dtype` would run on: the concrete strategy, the
    /// workers over the batch, and each item's engine and threads.
    ///
    /// # Errors
    /// [`Error::Unsupported`] when the strategy's item engine does not implement `op`.
    ///
    /// ```
    /// use parla::batch::{Batch, Strategy};
    /// use parla::{Dtype, Engine, Exec, Op};
    /// let b = Batch::new(Exec::new(Engine::Auto, 2)?, Strategy::Auto);
    /// let p = b.plan(Op::Matmul, Dtype::F64, 10_000, 32)?;
    /// // `auto` picks from the tuning profile or its built-in rules (`p.rule` says which),
    /// // never more threads than the usable cores.
    /// assert!(p.workers * p.item.threads <= parla::threads::usable_cores());
    /// let p = b.exec().with_engine(Engine::RayonBlas).batch(Strategy::Auto);
    /// let p = p.plan(Op::Matmul, Dtype::F64, 10_000, 32)?;
    /// assert_eq!((p.strategy, p.workers, p.item.threads), (Strategy::RayonBlas, 2, 1));
    /// let p = b.with_strategy(Strategy::Loop).plan(Op::Matmul, Dtype::F64, 10_000, 32)?;
    /// assert_eq!((p.workers, p.item.engine, p.item.threads), (1, Engine::Blas, 2));
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn plan(&self, op: Op, dtype: Dtype, len: usize, order: usize) -> Result<BatchPlan> {
        let flops = plan::square_flops(op, order) * len as f64;
        plan::batch_plan(&self.exec, self.strategy, op, dtype, len, order, flops)
    }

    /// Matrix products `C[i] = A[i] B[i]` (numpy's `a @ b` on stacks). A batch of length 1 is
    /// broadcast against the other. The result has the kind of `a` (3-D array or list); its
    /// matrices are C-order.
    ///
    /// Strategies: all (`Rayon` runs parla's GEMM kernels on each item).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] for batch lengths that do not broadcast, or 3-D inputs whose
    /// matrices do not fit (shapes of the whole arrays); [`Error::Batch`] naming the first list
    /// item whose inner dimensions differ; [`Error::TooLarge`]; [`Error::Unsupported`].
    ///
    /// ```
    /// let a = ndarray::Array3::<f32>::from_elem((5, 2, 3), 1.0);
    /// let b = ndarray::Array3::<f32>::from_elem((1, 3, 4), 2.0); // broadcast
    /// let c = parla::batch::matmul(&a, &b)?;
    /// assert_eq!(c.dim(), (5, 2, 4));
    /// assert!(c.iter().all(|&x| x == 6.0));
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn matmul<T, A, B>(&self, a: &A, b: &B) -> Result<A::Out>
    where
        T: Scalar,
        A: Stack<T> + ?Sized,
        B: Stack<T> + ?Sized,
    {
        const OP: &str = "batch::matmul";
        const ITEM: Op = Op::Matmul;
        let len = broadcast_len(OP, a, b)?;
        if let (Some((m, k)), Some((k2, n))) = (a.common_shape(), b.common_shape()) {
            if k != k2 {
                return Err(Error::ShapeMismatch {
                    op: OP,
                    left: a.dims(),
                    right: b.dims(),
                });
            }
            blas_dims(OP, &[("rows", m), ("columns", n), ("inner dimension", k)])?;
        }
        let (av, bv) = (views(a), views(b));
        let mut shapes = Vec::with_capacity(len);
        let (mut order, mut flops) = (0usize, 0.0f64);
        for i in 0..len {
            let (ai, bi) = (pick(&av, i), pick(&bv, i));
            let ((m, k), (k2, n)) = (ai.dim(), bi.dim());
            if k != k2 {
                let e = Error::ShapeMismatch {
                    op: ITEM.name(),
                    left: vec![m, k],
                    right: vec![k2, n],
                };
                return Err(at(OP, i, e));
            }
            blas_dims(ITEM, &[("rows", m), ("columns", n), ("inner dimension", k)])
                .map_err(|e| at(OP, i, e))?;
            shapes.push((m, n));
            order = order.max(m).max(n).max(k);
            flops += 2.0 * (m * n) as f64 * k as f64;
        }
        let empty = (
            a.common_shape().map_or(0, |s| s.0),
            b.common_shape().map_or(0, |s| s.1),
        );
        let job = BatchJob::new(OP, ITEM, T::KIND, len, order, flops);
        self.fill::<T, A, _>(job, &shapes, empty, |ex, i, mut c| {
            let (ai, bi) = (pick(&av, i), pick(&bv, i));
            if c.is_empty() || ai.ncols() == 0 {
                return Ok(()); // zeros, as the single-matrix matmul gives
            }
            dispatch::gemm(ex, ITEM, T::one(), ai.view(), bi.view(), T::zero(), &mut c)
        })
    }

    /// Solves `A[i] X[i] = B[i]` for every item by LU with partial pivoting (numpy's
    /// `linalg.solve` on stacks). `b` holds matrices `n × k`; for one right-hand side per
    /// system use `n × 1` (numpy's `b[..., None]`: `b.insert_axis(Axis(2))` on a `batch × n`
    /// array). A batch of length 1 is broadcast against the other. The result has the kind of
    /// `b`.
    ///
    /// Strategies: `Loop`, `RayonBlas` (`getrf` + `getrs` per item), `Rayon` (parla's recursive
    /// LU over its own GEMM).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] for batch lengths that do not broadcast or 3-D inputs that do
    /// not fit; [`Error::NotSquare`] for a 3-D `a` of non-square matrices; [`Error::Batch`]
    /// naming the lowest failing item, wrapping [`Error::NotSquare`] or
    /// [`Error::ShapeMismatch`] (lists), [`Error::NonFinite`] or [`Error::Singular`];
    /// [`Error::TooLarge`]; [`Error::Unsupported`].
    ///
    /// ```
    /// let a = [ndarray::array![[2.0f64, 0.0], [0.0, 4.0]], ndarray::array![[1.0, 1.0], [0.0, 1.0]]];
    /// let b = [ndarray::array![[2.0f64], [2.0]], ndarray::array![[3.0], [1.0]]];
    /// let x = parla::batch::solve(&a, &b)?;
    /// assert_eq!(x, vec![ndarray::array![[1.0f64], [0.5]], ndarray::array![[2.0], [1.0]]]);
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn solve<T, A, B>(&self, a: &A, b: &B) -> Result<B::Out>
    where
        T: Scalar,
        A: Stack<T> + ?Sized,
        B: Stack<T> + ?Sized,
    {
        const OP: &str = "batch::solve";
        const ITEM: Op = Op::Solve;
        let len = broadcast_len(OP, a, b)?;
        let (av, bv) = (views(a), views(b));
        let orders = square_items(OP, ITEM, a, &av)?;
        if let (Some((n, _)), Some((nb, k))) = (a.common_shape(), b.common_shape()) {
            if n != nb {
                return Err(Error::ShapeMismatch {
                    op: OP,
                    left: a.dims(),
                    right: b.dims(),
                });
            }
            blas_dims(OP, &[("right-hand sides", k)])?;
        }
        let mut shapes = Vec::with_capacity(len);
        let (mut order, mut flops) = (0usize, 0.0f64);
        for i in 0..len {
            let n = if orders.len() == 1 {
                orders[0]
            } else {
                orders[i]
            };
            let (nb, k) = pick(&bv, i).dim();
            if nb != n {
                let e = Error::ShapeMismatch {
                    op: ITEM.name(),
                    left: vec![n, n],
                    right: vec![nb, k],
                };
                return Err(at(OP, i, e));
            }
            blas_dims(ITEM, &[("right-hand sides", k)]).map_err(|e| at(OP, i, e))?;
            shapes.push((n, k));
            order = order.max(n);
            let nf = n as f64;
            flops += 2.0 / 3.0 * nf * nf * nf + 2.0 * nf * nf * k as f64;
        }
        let empty = (
            a.common_shape().map_or(0, |s| s.0),
            b.common_shape().map_or(0, |s| s.1),
        );
        let job = BatchJob::new(OP, ITEM, T::KIND, len, order, flops);
        self.fill::<T, B, _>(job, &shapes, empty, |ex, i, mut x| {
            let (ai, bi) = (pick(&av, i), pick(&bv, i));
            finite(ITEM, ai)?;
            finite(ITEM, bi)?;
            if ai.nrows() == 0 {
                return Ok(());
            }
            x.assign(&dispatch::solve(ex, ai.view(), bi.view())?);
            Ok(())
        })
    }

    /// Lower Cholesky factors `L[i]` with `A[i] = L[i] L[i]ᵀ` (numpy's `linalg.cholesky` on
    /// stacks). Only the lower triangles are read; the strict upper triangles of the factors
    /// are zero.
    ///
    /// Strategies: `Loop`, `RayonBlas` (`potrf` per item), `Rayon` (parla's recursive Cholesky
    /// over its own GEMM).
    ///
    /// # Errors
    /// [`Error::NotSquare`] for a 3-D input; [`Error::Batch`] naming the lowest failing item,
    /// wrapping [`Error::NotSquare`] (lists), [`Error::NonFinite`] or
    /// [`Error::NotPositiveDefinite`]; [`Error::TooLarge`]; [`Error::Unsupported`].
    ///
    /// ```
    /// let a = ndarray::Array3::from_shape_fn((3, 2, 2), |(i, r, c)| if r == c { 4.0f64 * (i + 1) as f64 } else { 0.0 });
    /// let l = parla::batch::cholesky(&a)?;
    /// assert_eq!(l[[2, 1, 1]], 12f64.sqrt());
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn cholesky<T, A>(&self, a: &A) -> Result<A::Out>
    where
        T: Scalar,
        A: Stack<T> + ?Sized,
    {
        self.square_each(a, "batch::cholesky", Op::Cholesky, 1.0 / 3.0, |ex, ai| {
            finite_triangle("cholesky", ai, true, true)?;
            dispatch::cholesky(ex, ai.view())
        })
    }

    /// Inverses `A[i]⁻¹` (numpy's `linalg.inv` on stacks), by LU with partial pivoting.
    ///
    /// Strategies: `Loop`, `RayonBlas` (`getrf` + `getri` per item), `Rayon` (parla's recursive
    /// LU over its own GEMM).
    ///
    /// # Errors
    /// [`Error::NotSquare`] for a 3-D input; [`Error::Batch`] naming the lowest failing item,
    /// wrapping [`Error::NotSquare`] (lists), [`Error::NonFinite`] or [`Error::Singular`];
    /// [`Error::TooLarge`]; [`Error::Unsupported`].
    ///
    /// ```
    /// let a = vec![ndarray::array![[2.0f64]], ndarray::array![[4.0, 7.0], [2.0, 6.0]]];
    /// let ai = parla::batch::inv(&a)?;
    /// assert_eq!(ai[0], ndarray::array![[0.5]]);
    /// assert!((ai[1][[0, 0]] - 0.6).abs() < 1e-12);
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn inv<T, A>(&self, a: &A) -> Result<A::Out>
    where
        T: Scalar,
        A: Stack<T> + ?Sized,
    {
        self.square_each(a, "batch::inv", Op::Inv, 2.0, |ex, ai| {
            finite("inv", ai)?;
            dispatch::inv(ex, ai.view())
        })
    }

    /// The shared body of the one-operand batch operations on square items: checks the
    /// shapes, allocates the stack of results and runs `item` (about `flops_per_n3 · n³` flops
    /// on an `n × n` item) on each one through the batch dispatch; empty items stay empty.
    fn square_each<T, A, F>(
        &self,
        a: &A,
        batch_op: &'static str,
        item_op: Op,
        flops_per_n3: f64,
        item: F,
    ) -> Result<A::Out>
    where
        T: Scalar,
        A: Stack<T> + ?Sized,
        F: Fn(&Exec, &ArrayView2<T>) -> Result<Array2<T>> + Sync,
    {
        let av = views(a);
        let orders = square_items(batch_op, item_op, a, &av)?;
        let n0 = a.common_shape().map_or(0, |s| s.0);
        let out_shapes: Vec<(usize, usize)> = orders.iter().map(|&n| (n, n)).collect();
        let order = orders.iter().copied().max().unwrap_or(n0);
        let flops = orders
            .iter()
            .map(|&n| flops_per_n3 * (n as f64).powi(3))
            .sum::<f64>();
        let job = BatchJob::new(batch_op, item_op, T::KIND, av.len(), order, flops);
        self.fill::<T, A, _>(job, &out_shapes, (n0, n0), |ex, i, mut x| {
            let ai = &av[i];
            if ai.nrows() == 0 {
                // Checked for shape; an empty item has nothing to validate or compute.
                return Ok(());
            }
            x.assign(&item(ex, ai)?);
            Ok(())
        })
    }

    /// Allocates the stack of results (`shapes`, or `empty` for a 3-D output of no items) and
    /// runs `item` on each result through the batch dispatch.
    fn fill<T, S, F>(
        &self,
        job: BatchJob,
        shapes: &[(usize, usize)],
        empty: (usize, usize),
        item: F,
    ) -> Result<S::Out>
    where
        T: Scalar,
        S: Stack<T> + ?Sized,
        F: Fn(&Exec, usize, ArrayViewMut2<'_, T>) -> Result<()> + Sync,
    {
        let mut out = S::zeros(job.batch_op, shapes, empty)?;
        plan::batch(&self.exec, self.strategy, job, S::views_mut(&mut out), item)?;
        Ok(out)
    }
}

/// [`Batch::matmul`] with the process defaults and [`Strategy::Auto`].
///
/// # Errors
/// As [`Batch::matmul`], plus [`Error::InvalidEnv`].
///
/// ```
/// let a = vec![ndarray::array![[1.0f64, 2.0]], ndarray::array![[3.0f64]]];
/// let b = vec![ndarray::array![[1.0f64], [1.0]], ndarray::array![[2.0f64, 0.0]]];
/// let c = parla::batch::matmul(&a, &b)?;
/// assert_eq!(c, vec![ndarray::array![[3.0f64]], ndarray::array![[6.0f64, 0.0]]]);
/// # Ok::<(), parla::Error>(())
/// ```
pub fn matmul<T, A, B>(a: &A, b: &B) -> Result<A::Out>
where
    T: Scalar,
    A: Stack<T> + ?Sized,
    B: Stack<T> + ?Sized,
{
    Batch::current()?.matmul(a, b)
}

/// [`Batch::solve`] with the process defaults and [`Strategy::Auto`].
///
/// # Errors
/// As [`Batch::solve`], plus [`Error::InvalidEnv`].
///
/// ```
/// let a = ndarray::Array3::from_shape_fn((2, 2, 2), |(i, r, c)| if r == c { 1.0f64 + i as f64 } else { 0.0 });
/// let b = ndarray::Array3::from_elem((2, 2, 1), 2.0f64);
/// assert_eq!(parla::batch::solve(&a, &b)?.into_raw_vec_and_offset().0, vec![2.0, 2.0, 1.0, 1.0]);
/// # Ok::<(), parla::Error>(())
/// ```
pub fn solve<T, A, B>(a: &A, b: &B) -> Result<B::Out>
where
    T: Scalar,
    A: Stack<T> + ?Sized,
    B: Stack<T> + ?Sized,
{
    Batch::current()?.solve(a, b)
}

/// [`Batch::cholesky`] with the process defaults and [`Strategy::Auto`].
///
/// # Errors
/// As [`Batch::cholesky`], plus [`Error::InvalidEnv`].
///
/// ```
/// let a = [ndarray::array![[1.0f64, 2.0], [2.0, 1.0]]];
/// let err = parla::batch::cholesky(&a).unwrap_err();
/// assert!(matches!(err, parla::Error::Batch { index: 0, .. }));
/// ```
pub fn cholesky<T, A>(a: &A) -> Result<A::Out>
where
    T: Scalar,
    A: Stack<T> + ?Sized,
{
    Batch::current()?.cholesky(a)
}

/// [`Batch::inv`] with the process defaults and [`Strategy::Auto`].
///
/// # Errors
/// As [`Batch::inv`], plus [`Error::InvalidEnv`].
///
/// ```
/// let a = ndarray::Array3::<f64>::zeros((0, 5, 5));
/// assert_eq!(parla::batch::inv(&a)?.dim(), (0, 5, 5));
/// # Ok::<(), parla::Error>(())
/// ```
pub fn inv<T, A>(a: &A) -> Result<A::Out>
where
    T: Scalar,
    A: Stack<T> + ?Sized,
{
    Batch::current()?.inv(a)
}
