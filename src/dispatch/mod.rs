//! THE one place that maps a call — (operation, element type, shape, [`Exec`]) — to the code
//! that runs it.
//!
//! The public API validates its input, then calls the function of the same name here. Each
//! function resolves its [`Path`] once ([`route`](route::route): engine, threads, the pool, the
//! block kernels) and hands it to the engine that owns it; nothing below looks the engine, the
//! thread count or the pool up again. `auto`'s rules live in [`auto`]; reports ask the same
//! resolver through [`Exec::plan`](crate::Exec::plan). Adding an engine means adding a variant
//! to [`Path`]: the compiler then points at every operation that must handle it.

pub(crate) mod auto;
pub(crate) mod complex;
pub(crate) mod factored;
pub(crate) mod route;
pub(crate) mod typed;

use ndarray::{
    Array2, ArrayView, ArrayView1, ArrayView2, ArrayViewMut, ArrayViewMut1, ArrayViewMut2,
    Dimension,
};

use crate::blas;
use crate::decomp::{Diag, Eig, Eigh, Lstsq, LuPacked, Qr, QrMode, Svd, Trans, Uplo};
use crate::error::Result;
use crate::exec::value::Exec;
use crate::factor;
use crate::op::{Op, Shape};
use crate::parallel::{self, level3::Level3, Kernels, Team};
use crate::scalar::{Field, Scalar};

pub(crate) use crate::blas::reduce::Reduction;
pub(crate) use crate::blas::svd::Vectors;
pub use auto::{
    auto_batch_choice, auto_choice, AUTO_AVX2_RAYON_MIN_ORDER, AUTO_BATCH_SOLVE_AS_WIDE_MAX_ORDER,
    AUTO_FACTOR_BLAS_PARALLEL_MIN_ORDER, AUTO_FACTOR_RAYON_MIN_ORDER, AUTO_GEMM_PARALLEL_MIN_FLOPS,
    AUTO_GEMM_RAYON_MIN_FLOPS, AUTO_INV_SMALL_MAX_ORDER, AUTO_LU_WIDE_MIN_ORDER,
    AUTO_NORMS_PARALLEL_MIN_BYTES, AUTO_QR_PARALLEL_MIN_ORDER, AUTO_QR_RAYON_MIN_ORDER,
    AUTO_SPECTRAL_RAYON_MIN_ORDER, AUTO_SPECTRAL_WIDE_MIN_ORDER, AUTO_TRANSPOSE_PARALLEL_MIN_BYTES,
    BATCH_FACTOR_SMALL_ORDER, BATCH_GEMM_SMALL_ORDER, BATCH_MIN_FLOPS, BATCH_MIN_ITEMS_PER_WORKER,
};
pub use route::Plan;
pub(crate) use route::{plan, route, Path};

/// Routes a factorization of `op` on `T` operands of `shape` and runs it on its path: inside
/// the engine pool over the engine's level-3 operations (`factor/`), or on LAPACK with the
/// path's OpenBLAS threads.
pub(crate) fn factor_path<T: Field, R: Send>(
    exec: &Exec,
    op: Op,
    shape: Shape,
    on_rayon: impl FnOnce(&Level3) -> Result<R> + Send,
    on_blas: impl FnOnce(usize) -> Result<R>,
) -> Result<R> {
    factor_path_serial_if::<T, R>(exec, op, shape, |_| false, on_rayon, on_blas)
}

/// [`factor_path`], with `on_rayon` run on the calling thread instead of inside the engine
/// pool when `serial` says the work takes no parallel step on these kernels
/// ([`Level3::run_unless`]).
pub(crate) fn factor_path_serial_if<T: Field, R: Send>(
    exec: &Exec,
    op: Op,
    shape: Shape,
    serial: impl FnOnce(&Kernels) -> bool,
    on_rayon: impl FnOnce(&Level3) -> Result<R> + Send,
    on_blas: impl FnOnce(usize) -> Result<R>,
) -> Result<R> {
    match route::<T>(exec, op, shape)? {
        Path::Blas { threads } => on_blas(threads),
        Path::Rayon { team, kernels } => {
            let l3 = Level3 {
                team,
                kernels,
                blocks: exec.factor_blocks(),
            };
            l3.run_unless(serial(&l3.kernels), || on_rayon(&l3))
        }
    }
}

pub(crate) fn gemm<T: Scalar>(
    exec: &Exec,
    op: Op,
    alpha: T,
    a: ArrayView2<T>,
    b: ArrayView2<T>,
    beta: T,
    c: &mut ArrayViewMut2<T>,
) -> Result<()> {
    let (m, n) = c.dim();
    let shape = Shape::Product { m, n, k: a.ncols() };
    let name = op.name();
    match route::<T>(exec, op, shape)? {
        Path::Blas { threads } => blas::level3::gemm(name, threads, alpha, a, b, beta, c),
        Path::Rayon { team, kernels } => match kernels {
            Kernels::OpenBlas => {
                parallel::gemm::blas_panels::gemm(name, &team, alpha, a, b, beta, c)
            }
            Kernels::Native(native) => {
                let kernel = native.gemm_kernel::<T>();
                parallel::gemm::blis_loops::gemm(name, &team, kernel, alpha, a, b, beta, c)
            }
        },
    }
}

pub(crate) fn gemv<T: Scalar>(
    exec: &Exec,
    op: Op,
    alpha: T,
    a: ArrayView2<T>,
    x: ArrayView1<T>,
    beta: T,
    y: &mut ArrayViewMut1<T>,
) -> Result<()> {
    let name = op.name();
    match route::<T>(exec, op, Shape::Matrix(a.nrows(), a.ncols()))? {
        Path::Blas { threads } => blas::level2::gemv(name, threads, alpha, a, x, beta, y),
        Path::Rayon { team, kernels } => {
            parallel::level2::gemv(name, &team, kernels, alpha, a, x, beta, y)
        }
    }
}

pub(crate) fn dot<T: Scalar>(exec: &Exec, x: ArrayView1<T>, y: ArrayView1<T>) -> Result<T> {
    match route::<T>(exec, Op::Dot, Shape::Vector(x.len()))? {
        Path::Blas { threads } => Ok(blas::level1::dot(threads, x, y)),
        Path::Rayon { team, kernels } => parallel::level1::dot(&team, kernels, x, y),
    }
}

pub(crate) fn axpy<T: Scalar>(
    exec: &Exec,
    alpha: T,
    x: ArrayView1<T>,
    y: &mut ArrayViewMut1<T>,
) -> Result<()> {
    match route::<T>(exec, Op::Axpy, Shape::Vector(x.len()))? {
        Path::Blas { threads } => {
            blas::level1::axpy(threads, alpha, x, y);
            Ok(())
        }
        Path::Rayon { team, kernels } => parallel::level1::axpy(&team, kernels, alpha, x, y),
    }
}

pub(crate) fn scal<T: Scalar>(exec: &Exec, alpha: T, x: &mut ArrayViewMut1<T>) -> Result<()> {
    match route::<T>(exec, Op::Scal, Shape::Vector(x.len()))? {
        Path::Blas { threads } => {
            blas::level1::scal(threads, alpha, x);
            Ok(())
        }
        Path::Rayon { team, kernels } => parallel::level1::scal(&team, kernels, alpha, x),
    }
}

pub(crate) fn nrm2<T: Scalar>(exec: &Exec, x: ArrayView1<T>) -> Result<T> {
    match route::<T>(exec, Op::Nrm2, Shape::Vector(x.len()))? {
        Path::Blas { threads } => Ok(blas::level1::nrm2(threads, x)),
        Path::Rayon { team, kernels } => parallel::level1::nrm2(&team, kernels, x),
    }
}

/// `out[i] = reduce(v[i, :])` for a non-empty `p × q` view with `q ≥ 1` (the public API has
/// turned row/column operations into rows of `v` and made its strides non-negative).
pub(crate) fn reduce_rows<T: Scalar>(
    exec: &Exec,
    op: Op,
    red: Reduction,
    v: ArrayView2<T>,
    out: &mut ArrayViewMut1<T>,
) -> Result<()> {
    let name = op.name();
    match route::<T>(exec, op, Shape::Matrix(v.nrows(), v.ncols()))? {
        Path::Blas { threads } => blas::reduce::rows(name, threads, red, v, out),
        Path::Rayon { team, kernels } => parallel::reduce::rows(name, &team, kernels, red, v, out),
    }
}

/// The team an element-wise operation runs on: the calling thread on `blas` (OpenBLAS has no
/// element-wise kernels), the engine's workers on the rayon engines.
fn elementwise_team<T: Scalar>(exec: &Exec, op: Op, len: usize) -> Result<Team> {
    Ok(match route::<T>(exec, op, Shape::Vector(len))? {
        Path::Blas { .. } => Team::one(),
        Path::Rayon { team, .. } => team,
    })
}

/// `out[i] = f(a[i])` for a non-empty `a`; `out` is in C order, or F order when `f_order`.
pub(crate) fn map<T, U, D, F>(
    exec: &Exec,
    op: Op,
    a: ArrayView<T, D>,
    out: ArrayViewMut<U, D>,
    f_order: bool,
    f: &F,
) -> Result<()>
where
    T: Scalar,
    U: Send,
    D: Dimension,
    F: Fn(T) -> U + Sync,
{
    let team = elementwise_team::<T>(exec, op, a.len())?;
    parallel::elementwise::map(&team, a, out, f_order, f)
}

/// `out[i] = f(a[i], b[i])` for non-empty `a`, `b` of one shape; `out` as in [`map`].
#[allow(clippy::too_many_arguments)]
pub(crate) fn zip_with<T, U, D, F>(
    exec: &Exec,
    op: Op,
    a: ArrayView<T, D>,
    b: ArrayView<T, D>,
    out: ArrayViewMut<U, D>,
    f_order: bool,
    f: &F,
) -> Result<()>
where
    T: Scalar,
    U: Send,
    D: Dimension,
    F: Fn(T, T) -> U + Sync,
{
    let team = elementwise_team::<T>(exec, op, a.len())?;
    parallel::elementwise::zip_with(&team, a, b, out, f_order, f)
}

/// `dst ← srcᵀ` for a non-empty `src: r × c` into a C-order `dst: c × r`.
pub(crate) fn transpose<T: Scalar>(
    exec: &Exec,
    src: ArrayView2<T>,
    dst: &mut ArrayViewMut2<T>,
) -> Result<()> {
    const OP: Op = Op::Transpose;
    match route::<T>(exec, OP, Shape::Matrix(src.nrows(), src.ncols()))? {
        Path::Blas { threads } => blas::transpose::transpose(OP.name(), threads, src, dst),
        Path::Rayon { team, kernels } => {
            parallel::transpose::transpose(OP.name(), &team, kernels, src, dst)
        }
    }
}

pub(crate) fn lu_factor<T: Scalar>(
    exec: &Exec,
    op: Op,
    a: ArrayView2<T>,
    equilibrate: bool,
) -> Result<(LuPacked<T>, Option<usize>)> {
    let name = op.name();
    factor_path::<T, _>(
        exec,
        op,
        Shape::Matrix(a.nrows(), a.ncols()),
        |l3| factor::lu::factor(name, l3, a, equilibrate),
        |threads| blas::lu::factor(name, threads, a, equilibrate).map(|(lu, zero, _)| (lu, zero)),
    )
}

pub(crate) fn solve<T: Scalar>(
    exec: &Exec,
    a: ArrayView2<T>,
    b: ArrayView2<T>,
) -> Result<Array2<T>> {
    const OP: Op = Op::Solve;
    let (n, rhs) = (a.nrows(), b.ncols());
    factor_path::<T, _>(
        exec,
        OP,
        Shape::System {
            rows: n,
            cols: n,
            rhs,
        },
        |l3| factor::lu::solve(OP.name(), l3, a, b),
        |threads| blas::lu::solve(OP.name(), threads, a, b),
    )
}

pub(crate) fn inv<T: Scalar>(exec: &Exec, a: ArrayView2<T>) -> Result<Array2<T>> {
    const OP: Op = Op::Inv;
    factor_path::<T, _>(
        exec,
        OP,
        Shape::Square(a.nrows()),
        |l3| factor::lu::inv(OP.name(), l3, a),
        |threads| blas::lu::inv(OP.name(), threads, a),
    )
}

pub(crate) fn cholesky<T: Scalar>(exec: &Exec, a: ArrayView2<T>) -> Result<Array2<T>> {
    const OP: Op = Op::Cholesky;
    factor_path::<T, _>(
        exec,
        OP,
        Shape::Square(a.nrows()),
        |l3| factor::cholesky::cholesky(OP.name(), l3, a),
        |threads| blas::cholesky::cholesky(OP.name(), threads, a),
    )
}

pub(crate) fn qr<T: Scalar>(exec: &Exec, a: ArrayView2<T>, mode: QrMode) -> Result<Qr<T>> {
    const OP: Op = Op::Qr;
    factor_path::<T, _>(
        exec,
        OP,
        Shape::Matrix(a.nrows(), a.ncols()),
        |l3| factor::qr::qr(OP.name(), l3, a, mode),
        |threads| blas::qr::qr(OP.name(), threads, a, mode),
    )
}

pub(crate) fn solve_triangular<T: Scalar>(
    exec: &Exec,
    a: ArrayView2<T>,
    b: ArrayView2<T>,
    uplo: Uplo,
    trans: Trans,
    diag: Diag,
) -> Result<Array2<T>> {
    const OP: Op = Op::SolveTriangular;
    let (n, rhs) = (a.nrows(), b.ncols());
    factor_path_serial_if::<T, _>(
        exec,
        OP,
        Shape::System {
            rows: n,
            cols: n,
            rhs,
        },
        |kernels| factor::triangular::solves_serially(kernels, rhs),
        |l3| factor::triangular::solve_triangular(OP.name(), l3, a, b, uplo, trans, diag),
        |threads| blas::triangular::solve_triangular(OP.name(), threads, a, b, uplo, trans, diag),
    )
}

pub(crate) fn svd<T: Scalar>(
    exec: &Exec,
    op: Op,
    a: ArrayView2<T>,
    vectors: Vectors,
) -> Result<Svd<T>> {
    factor_path::<T, _>(
        exec,
        op,
        Shape::Matrix(a.nrows(), a.ncols()),
        |l3| factor::svd::svd(op.name(), l3, a, vectors),
        |threads| blas::svd::svd(op.name(), threads, a, vectors),
    )
}

pub(crate) fn eigh<T: Scalar>(
    exec: &Exec,
    op: Op,
    a: ArrayView2<T>,
    vectors: bool,
) -> Result<Eigh<T>> {
    factor_path::<T, _>(
        exec,
        op,
        Shape::Square(a.nrows()),
        |l3| factor::eigh::eigh(op.name(), l3, a, vectors),
        |threads| blas::eigh::eigh(op.name(), threads, a, vectors),
    )
}

pub(crate) fn eig<T: Scalar>(
    exec: &Exec,
    op: Op,
    a: ArrayView2<T>,
    vectors: bool,
) -> Result<Eig<T>> {
    factor_path::<T, _>(
        exec,
        op,
        Shape::Square(a.nrows()),
        |l3| factor::eig::eig(op.name(), l3, a, vectors),
        |threads| blas::eig::eig(op.name(), threads, a, vectors),
    )
}

pub(crate) fn lstsq<T: Scalar>(
    exec: &Exec,
    a: ArrayView2<T>,
    b: ArrayView2<T>,
    rcond: T,
) -> Result<Lstsq<T>> {
    const OP: Op = Op::Lstsq;
    let shape = Shape::System {
        rows: a.nrows(),
        cols: a.ncols(),
        rhs: b.ncols(),
    };
    factor_path::<T, _>(
        exec,
        OP,
        shape,
        |l3| factor::lstsq::lstsq(OP.name(), l3, a, b, rcond),
        |threads| blas::lstsq::lstsq(OP.name(), threads, a, b, rcond),
    )
}

/// Refuses `op` on an engine that does not implement it, for calls the public API answers
/// without computing (empty inputs), so they fail exactly where a real call would.
///
/// # Errors
/// [`Error::Unsupported`](crate::Error::Unsupported).
pub(crate) fn check<T: crate::scalar::Field>(exec: &Exec, op: Op) -> Result<()> {
    plan(exec, op, T::ELEMENT, Shape::Unknown).map(drop)
}
