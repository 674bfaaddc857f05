//! The complex operations (`c32`, `c64`): each resolves its route once, like the real ones in
//! `mod.rs`. `blas` runs all of them (cblas / LAPACK); the rayon engines run the GEMM family
//! (`parallel/gemm/complex.rs`: one real GEMM on the interleaved parts, the engine's kernels)
//! level 1/2 (the real split of `parallel/level1.rs`, `level2.rs` with complex blocks), and
//! `solve_triangular`, the LU family, `cholesky` and `qr` (the real blocked code of `factor/`,
//! generic over `Field`; the factor objects of `factored.rs` likewise), the axis sums and norms
//! (the engine's real reduction kernels on the real and imaginary parts), and refuse the rest
//! (the spectral family) with [`Error::Unsupported`] (decided by [`route::implements`]).

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2, Zip};
use num_traits::Float;

use crate::alloc;
use crate::blas;
use crate::blas::complex as zblas;
use crate::decomp::{Diag, Qr, QrMode, Trans, Uplo};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::exec::value::Exec;
use crate::factor;
use crate::kernels;
use crate::op::{Op, Shape};
use crate::parallel;
use crate::scalar::{ComplexScalar, Field};

use super::route::{self, plan, Path};
use super::Reduction;

/// The OpenBLAS threads of a complex call of `op` that only the `blas` engine runs.
///
/// # Errors
/// [`Error::Unsupported`] on the rayon engines; as [`plan`].
fn blas_threads<C: Field>(exec: &Exec, op: Op, shape: Shape) -> Result<usize> {
    let p = plan(exec, op, C::ELEMENT, shape)?;
    match p.engine {
        Engine::Blas | Engine::Auto => Ok(p.threads),
        engine => Err(Error::Unsupported {
            op: op.name(),
            engine,
        }),
    }
}

/// `C ← α op(A) op(B) + β C` (`k ≥ 1`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm<C: ComplexScalar>(
    exec: &Exec,
    op: Op,
    alpha: C,
    a: ArrayView2<C>,
    ta: Trans,
    b: ArrayView2<C>,
    tb: Trans,
    beta: C,
    c: &mut ArrayViewMut2<C>,
) -> Result<()> {
    let (m, n) = c.dim();
    let k = if ta == Trans::No {
        a.ncols()
    } else {
        a.nrows()
    };
    let name = op.name();
    match route::route::<C>(exec, op, Shape::Product { m, n, k })? {
        Path::Blas { threads } => zblas::gemm(name, threads, alpha, a, ta, b, tb, beta, c),
        Path::Rayon { team, kernels } => {
            // The real product is m × 2k times 2k × 2n: its dimensions must fit BLAS's ints too.
            crate::blas::blas_int(op, "2 × columns", 2 * n)?;
            crate::blas::blas_int(op, "2 × inner dimension", 2 * k)?;
            parallel::gemm::complex::on_engine(name, &team, kernels, alpha, a, ta, b, tb, beta, c)
        }
    }
}

/// `y ← α op(A) x + β y` for a non-empty `A`: on the rayon engines, row blocks of `op(A)`
/// (= blocks of `y`) split like the real `gemv`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemv<C: ComplexScalar>(
    exec: &Exec,
    op: Op,
    alpha: C,
    a: ArrayView2<C>,
    ta: Trans,
    x: ArrayView1<C>,
    beta: C,
    y: &mut ArrayViewMut1<C>,
) -> Result<()> {
    let name = op.name();
    match route::route::<C>(exec, op, Shape::Matrix(a.nrows(), a.ncols()))? {
        Path::Blas { threads } => zblas::gemv(name, threads, alpha, a, ta, x, beta, y),
        Path::Rayon { team, kernels } => {
            let oa = if ta == Trans::No {
                a
            } else {
                a.reversed_axes()
            };
            parallel::level2::gemv_rows(&team, oa, y, |ab, yb| {
                kernels.cgemv(name, alpha, ab, ta, x, beta, yb)
            })
        }
    }
}

/// `Σ xᵢ yᵢ`, or `Σ conj(xᵢ) yᵢ` with `conj_x` (numpy's `vdot`).
pub(crate) fn dot<C: ComplexScalar>(
    exec: &Exec,
    x: ArrayView1<C>,
    y: ArrayView1<C>,
    conj_x: bool,
) -> Result<C> {
    Ok(
        match route::route::<C>(exec, Op::Dot, Shape::Vector(x.len()))? {
            Path::Blas { threads } => zblas::dot(threads, x, y, conj_x),
            Path::Rayon { team, kernels } => {
                parallel::level1::dot_with(&team, x, y, |xc, yc| kernels.cdot(xc, yc, conj_x))
            }
        },
    )
}

pub(crate) fn axpy<C: ComplexScalar>(
    exec: &Exec,
    alpha: C,
    x: ArrayView1<C>,
    y: &mut ArrayViewMut1<C>,
) -> Result<()> {
    const OP: Op = Op::Axpy;
    match route::route::<C>(exec, OP, Shape::Vector(x.len()))? {
        Path::Blas { threads } => zblas::axpy(OP.name(), threads, alpha, x, y),
        Path::Rayon { team, kernels } => parallel::level1::axpy_with(&team, x, y, |xc, yc| {
            kernels.caxpy(OP.name(), alpha, xc, yc)
        }),
    }
}

pub(crate) fn nrm2<C: ComplexScalar>(exec: &Exec, x: ArrayView1<C>) -> Result<C::Real> {
    Ok(
        match route::route::<C>(exec, Op::Nrm2, Shape::Vector(x.len()))? {
            Path::Blas { threads } => zblas::nrm2(threads, x),
            Path::Rayon { team, kernels } => {
                parallel::level1::nrm2_with(&team, x, |xc| kernels.cnrm2(xc))
            }
        },
    )
}

/// Packed LU of a non-empty matrix: factors, 0-based interchanges, first zero pivot.
pub(crate) fn lu_factor<C: ComplexScalar>(
    exec: &Exec,
    op: Op,
    a: ArrayView2<C>,
) -> Result<(Array2<C>, Vec<usize>, Option<usize>)> {
    let name = op.name();
    super::factor_path::<C, _>(
        exec,
        op,
        Shape::Square(a.nrows().max(a.ncols())),
        |l3| factor::lu::factor_complex(name, l3, a),
        |threads| zblas::getrf(name, threads, a),
    )
}

pub(crate) fn solve<C: ComplexScalar>(
    exec: &Exec,
    a: ArrayView2<C>,
    b: ArrayView2<C>,
) -> Result<Array2<C>> {
    const OP: Op = Op::Solve;
    let shape = Shape::System {
        rows: a.nrows(),
        cols: a.ncols(),
        rhs: b.ncols(),
    };
    super::factor_path::<C, _>(
        exec,
        OP,
        shape,
        |l3| factor::lu::solve_complex(OP.name(), l3, a, b),
        |threads| zblas::solve(OP.name(), threads, a, b),
    )
}

pub(crate) fn inv<C: ComplexScalar>(exec: &Exec, a: ArrayView2<C>) -> Result<Array2<C>> {
    const OP: Op = Op::Inv;
    super::factor_path::<C, _>(
        exec,
        OP,
        Shape::Square(a.nrows()),
        |l3| factor::lu::inv_complex(OP.name(), l3, a),
        |threads| zblas::inv(OP.name(), threads, a),
    )
}

/// The lower factor `L` of Hermitian positive definite `A = L Lᴴ` (its lower triangle read).
pub(crate) fn cholesky<C: ComplexScalar>(exec: &Exec, a: ArrayView2<C>) -> Result<Array2<C>> {
    const OP: Op = Op::Cholesky;
    super::factor_path::<C, _>(
        exec,
        OP,
        Shape::Square(a.nrows()),
        |l3| factor::cholesky::cholesky(OP.name(), l3, a),
        |threads| zblas::cholesky(OP.name(), threads, a),
    )
}

/// `A = Q R` of a non-empty matrix (`mode`: `Q` with `min(m, n)` or `m` columns).
pub(crate) fn qr<C: ComplexScalar>(exec: &Exec, a: ArrayView2<C>, mode: QrMode) -> Result<Qr<C>> {
    const OP: Op = Op::Qr;
    let q_cols = mode.q_cols(a.nrows(), a.ncols());
    super::factor_path::<C, _>(
        exec,
        OP,
        Shape::Matrix(a.nrows(), a.ncols()),
        |l3| factor::qr::qr(OP.name(), l3, a, mode),
        |threads| zblas::qr(OP.name(), threads, a, q_cols).map(|(q, r)| Qr { q, r }),
    )
}

pub(crate) fn solve_triangular<C: ComplexScalar>(
    exec: &Exec,
    a: ArrayView2<C>,
    b: ArrayView2<C>,
    uplo: Uplo,
    trans: Trans,
    diag: Diag,
) -> Result<Array2<C>> {
    const OP: Op = Op::SolveTriangular;
    let shape = Shape::System {
        rows: a.nrows(),
        cols: a.ncols(),
        rhs: b.ncols(),
    };
    let (lower, unit) = (uplo == Uplo::Lower, diag == Diag::Unit);
    super::factor_path_serial_if::<C, _>(
        exec,
        OP,
        shape,
        |kernels| factor::triangular::solves_serially(kernels, b.ncols()),
        |l3| factor::triangular::solve_triangular_complex(OP.name(), l3, a, b, uplo, trans, diag),
        |threads| zblas::solve_triangular(OP.name(), threads, a, b, lower, trans, unit),
    )
}

pub(crate) fn eigh<C: ComplexScalar>(
    exec: &Exec,
    op: Op,
    a: ArrayView2<C>,
    vectors: bool,
) -> Result<(Array1<C::Real>, Array2<C>)> {
    let threads = blas_threads::<C>(exec, op, Shape::Square(a.nrows()))?;
    zblas::eigh(op.name(), threads, a, vectors)
}

pub(crate) fn svd<C: ComplexScalar>(
    exec: &Exec,
    op: Op,
    a: ArrayView2<C>,
    vectors: bool,
    full: bool,
) -> Result<zblas::SvdParts<C>> {
    let threads = blas_threads::<C>(exec, op, Shape::Matrix(a.nrows(), a.ncols()))?;
    zblas::svd(op.name(), threads, a, vectors, full)
}

/// Eigenvalues and (with `vectors`) right eigenvectors of a non-empty general matrix; `blas`
/// only.
pub(crate) fn eig<C: ComplexScalar>(
    exec: &Exec,
    op: Op,
    a: ArrayView2<C>,
    vectors: bool,
) -> Result<(Array1<C>, Array2<C>)> {
    let threads = blas_threads::<C>(exec, op, Shape::Square(a.nrows()))?;
    zblas::eig(op.name(), threads, a, vectors)
}

/// `out[i] = Σⱼ vᵢⱼ` for a non-empty `p × q` view with non-negative strides: the engine's real
/// sum kernel on the real parts into the real parts of `out`, then on the imaginary parts
/// (a complex `gemv` with a vector of ones would turn `inf` into `inf + NaN·i`: `inf · 1` in
/// complex arithmetic; numpy's sum does not).
pub(crate) fn sum_rows<C: ComplexScalar>(
    exec: &Exec,
    op: Op,
    v: ArrayView2<C>,
    out: &mut ArrayViewMut1<C>,
) -> Result<()> {
    let name = op.name();
    let path = route::route::<C>(exec, op, Shape::Matrix(v.nrows(), v.ncols()))?;
    let [vre, vim] = kernels::complex::parts(v);
    let [mut ore, mut oim] = kernels::complex::parts_mut(out.view_mut());
    for (w, o) in [(vre, &mut ore), (vim, &mut oim)] {
        match &path {
            Path::Blas { threads } => blas::reduce::rows(name, *threads, Reduction::Sum, w, o)?,
            Path::Rayon { team, kernels } => {
                parallel::reduce::rows(name, team, *kernels, Reduction::Sum, w, o)?
            }
        }
    }
    Ok(())
}

/// `out[i] = ‖vᵢ,:‖₂ = sqrt(Σⱼ |vᵢⱼ|²)` for a non-empty `p × q` view with non-negative strides,
/// by the engine's real norm kernel: on the `p × 2q` real view of the interleaved parts when
/// the rows are contiguous, else on the real and the imaginary parts separately, combined as
/// `hypot(‖re‖, ‖im‖)` (NaN if either is NaN, as the real kernel's rule).
pub(crate) fn norm_rows<C: ComplexScalar>(
    exec: &Exec,
    op: Op,
    v: ArrayView2<C>,
    out: &mut ArrayViewMut1<C::Real>,
) -> Result<()> {
    let name = op.name();
    let path = route::route::<C>(exec, op, Shape::Matrix(v.nrows(), v.ncols()))?;
    let run = |w: ArrayView2<C::Real>, o: &mut ArrayViewMut1<C::Real>| match &path {
        Path::Blas { threads } => blas::reduce::rows(name, *threads, Reduction::Norm, w, o),
        Path::Rayon { team, kernels } => {
            parallel::reduce::rows(name, team, *kernels, Reduction::Norm, w, o)
        }
    };
    if let Some(w) = kernels::complex::interleaved_rows(v) {
        return run(w, out);
    }
    let [re, im] = kernels::complex::parts(v);
    run(re, out)?;
    let mut tmp = Array1::from(alloc::zeros_vec::<C::Real>(op, out.len())?);
    run(im, &mut tmp.view_mut())?;
    Zip::from(out).and(&tmp).for_each(|o, &t| {
        *o = if o.is_nan() || t.is_nan() {
            C::Real::nan()
        } else {
            o.hypot(t)
        }
    });
    Ok(())
}
