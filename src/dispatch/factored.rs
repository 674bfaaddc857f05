//! The dispatch entries of the factor objects (`LuFactor`, `CholeskyFactor`, `QrFactor`): the
//! factorization is routed once, like any call, and the resolved route is kept in a [`Bound`]
//! beside the factor, so every later solve runs on the engine and thread count that factored
//! it (one thread when the solve itself is made inside a rayon worker, as every nested call).

use ndarray::{Array2, ArrayView2, ArrayViewMut2};

use crate::blas;
use crate::blas::complex as zblas;
use crate::decomp::LuPacked;
use crate::decomp::Trans;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::exec::value::Exec;
use crate::factor;
use crate::factor::qr::BlockReflector;
use crate::factor::triangular::solves_serially;
use crate::op::{Op, Shape};
use crate::parallel::{level3::Level3, Kernels, Team};
use crate::scalar::{ComplexScalar, Field, Scalar};
use crate::threads;

use super::{route, Path};

/// A route resolved at factorization time and kept for the solves.
#[derive(Clone)]
pub(crate) enum Bound {
    /// OpenBLAS / LAPACK with this many threads.
    Blas {
        /// OpenBLAS threads.
        threads: usize,
    },
    /// A rayon engine's level-3 operations (team, kernels, recursion blocks).
    Rayon(Level3),
}

impl Bound {
    fn new<T: Field>(exec: &Exec, op: Op, shape: Shape) -> Result<Bound> {
        Ok(match route::<T>(exec, op, shape)? {
            Path::Blas { threads } => Bound::Blas { threads },
            Path::Rayon { team, kernels } => Bound::Rayon(Level3 {
                team,
                kernels,
                blocks: exec.factor_blocks(),
            }),
        })
    }

    /// The concrete engine.
    pub(crate) fn engine(&self) -> Engine {
        match self {
            Bound::Blas { .. } => Engine::Blas,
            Bound::Rayon(l3) => match l3.kernels {
                Kernels::OpenBlas => Engine::RayonBlas,
                Kernels::Native(_) => Engine::Rayon,
            },
        }
    }

    /// The threads a solve runs on.
    pub(crate) fn threads(&self) -> usize {
        match self {
            Bound::Blas { threads } => *threads,
            Bound::Rayon(l3) => l3.team.threads(),
        }
    }

    /// The route of a solve made now: the bound one, at one thread inside a rayon worker.
    fn here(&self) -> Bound {
        if !threads::in_rayon_worker() {
            return self.clone();
        }
        match self {
            Bound::Blas { .. } => Bound::Blas { threads: 1 },
            Bound::Rayon(l3) => Bound::Rayon(Level3 {
                team: Team::one(),
                ..l3.clone()
            }),
        }
    }

    /// Runs `on_rayon` inside the engine pool, or `on_blas` with the OpenBLAS threads.
    fn run<R: Send>(
        &self,
        on_rayon: impl FnOnce(&Level3) -> Result<R> + Send,
        on_blas: impl FnOnce(usize) -> Result<R>,
    ) -> Result<R> {
        match self.here() {
            Bound::Blas { threads } => on_blas(threads),
            Bound::Rayon(l3) => l3.run(|| on_rayon(&l3)),
        }
    }
}

/// The route of a factorization of an empty `m × n` matrix (nothing to compute; later solves
/// are empty too), refused where a real call would be.
pub(crate) fn bind<T: Field>(exec: &Exec, op: Op, m: usize, n: usize) -> Result<Bound> {
    Bound::new::<T>(exec, op, Shape::Matrix(m, n))
}

/// An LU factor kept for solves: the packed factor of `D·A` (see [`LuPacked`]), the first zero
/// pivot, and whether solves take the careful path (subnormal pivots).
#[derive(Clone)]
pub(crate) struct LuKept<T> {
    pub packed: LuPacked<T>,
    pub zero: Option<usize>,
    careful: bool,
}

impl<T> LuKept<T> {
    /// The factor of a `0 × 0` matrix.
    pub(crate) fn empty() -> Self {
        LuKept {
            packed: LuPacked {
                lu: Array2::from_shape_vec((0, 0), Vec::new()).expect("0 x 0"),
                swaps: Vec::new(),
                row_exp: Vec::new(),
            },
            zero: None,
            careful: false,
        }
    }
}

/// Factors square non-empty `a` (with equilibration, as `solve` and `det`).
pub(crate) fn lu_factor<T: Scalar>(exec: &Exec, a: ArrayView2<T>) -> Result<(Bound, LuKept<T>)> {
    const OP: Op = Op::LuFactor;
    let bound = Bound::new::<T>(exec, OP, Shape::Square(a.nrows()))?;
    let name = OP.name();
    let (packed, zero, careful) = bound.run(
        |l3| {
            let (packed, zero) = factor::lu::factor(name, l3, a, true)?;
            let tiny = factor::factored::tiny_diagonal(packed.lu.view());
            Ok((packed, zero, tiny))
        },
        |threads| blas::lu::factor(name, threads, a, true),
    )?;
    Ok((
        bound,
        LuKept {
            packed,
            zero,
            careful,
        },
    ))
}

/// Overwrites `x: n × k` with `A⁻¹ x` (`trans` not `No`: `A⁻ᵀ x`) for a non-singular factor.
pub(crate) fn lu_solve<T: Scalar>(
    bound: &Bound,
    lu: &LuKept<T>,
    x: &mut ArrayViewMut2<T>,
    trans: Trans,
) -> Result<()> {
    let name = Op::LuSolve.name();
    let (p, careful) = (&lu.packed, lu.careful);
    match bound.here() {
        Bound::Blas { threads } => {
            blas::lu::solve_factored(name, threads, p, careful, x, trans != Trans::No)
        }
        Bound::Rayon(l3) => l3.run_unless(solves_serially(&l3.kernels, x.ncols()), || {
            factor::factored::lu_solve(name, &l3, p, careful, x, trans)
        }),
    }
}

/// `A⁻¹` from a non-singular factor.
pub(crate) fn lu_inv<T: Scalar>(bound: &Bound, lu: &LuKept<T>) -> Result<Array2<T>> {
    let name = Op::Inv.name();
    let (p, careful) = (&lu.packed, lu.careful);
    bound.run(
        |l3| factor::factored::lu_inv(name, l3, p, careful),
        |threads| blas::lu::inv_factored(name, threads, p, careful),
    )
}

/// The lower Cholesky factor of square non-empty `a`.
pub(crate) fn cho_factor<T: Scalar>(exec: &Exec, a: ArrayView2<T>) -> Result<(Bound, Array2<T>)> {
    const OP: Op = Op::ChoFactor;
    let bound = Bound::new::<T>(exec, OP, Shape::Square(a.nrows()))?;
    let name = OP.name();
    let l = bound.run(
        |l3| factor::cholesky::cholesky(name, l3, a),
        |threads| blas::cholesky::cholesky(name, threads, a),
    )?;
    Ok((bound, l))
}

/// Overwrites `x: n × k` with `A⁻¹ x` from the lower Cholesky factor `l` of `A`.
pub(crate) fn cho_solve<T: Scalar>(
    bound: &Bound,
    l: &Array2<T>,
    x: &mut ArrayViewMut2<T>,
) -> Result<()> {
    let name = Op::ChoSolve.name();
    match bound.here() {
        Bound::Blas { threads } => blas::cholesky::solve_factored(name, threads, l, x),
        Bound::Rayon(l3) => l3.run_unless(solves_serially(&l3.kernels, x.ncols()), || {
            factor::factored::cho_solve(name, &l3, l.view(), x)
        }),
    }
}

/// `A⁻¹` from the lower Cholesky factor `l` of `A`.
pub(crate) fn cho_inv<T: Scalar>(bound: &Bound, l: &Array2<T>) -> Result<Array2<T>> {
    let name = Op::Inv.name();
    bound.run(
        |l3| factor::factored::cho_inv(name, l3, l.view()),
        |threads| blas::cholesky::inv_factored(name, threads, l),
    )
}

/// A QR factor kept for least-squares solves: R on and above the diagonal of `f`, and `Q`
/// as LAPACK's reflectors (`blas`) or the blocked reflectors of `factor/qr.rs`.
#[derive(Clone)]
pub(crate) enum QrKept<T> {
    /// `geqrf`'s packed factor and scalars.
    Lapack { f: Array2<T>, tau: Vec<T> },
    /// The blocked factor of a rayon engine.
    Blocked {
        f: Array2<T>,
        blocks: Vec<BlockReflector<T>>,
    },
    /// Complex (`blas`): `Q` formed (`m × min(m, n)`, row-major) and `R` (column-major).
    Explicit { q: Array2<T>, r: Array2<T> },
}

impl<T> QrKept<T> {
    /// The packed factor: R on and above the diagonal.
    pub(crate) fn f(&self) -> &Array2<T> {
        match self {
            QrKept::Lapack { f, .. } | QrKept::Blocked { f, .. } => f,
            QrKept::Explicit { r, .. } => r,
        }
    }
}

/// Factors non-empty `a: m × n`.
pub(crate) fn qr_factor<T: Scalar>(exec: &Exec, a: ArrayView2<T>) -> Result<(Bound, QrKept<T>)> {
    const OP: Op = Op::QrFactor;
    let bound = Bound::new::<T>(exec, OP, Shape::Matrix(a.nrows(), a.ncols()))?;
    let name = OP.name();
    let kept = bound.run(
        |l3| factor::qr::packed(name, l3, a).map(|(f, blocks)| QrKept::Blocked { f, blocks }),
        |threads| blas::qr::packed(name, threads, a).map(|(f, tau)| QrKept::Lapack { f, tau }),
    )?;
    Ok((bound, kept))
}

/// The least-squares solution `R⁻¹ (Qᵀ B)[..n]` (`m ≥ n`, `R` non-singular).
pub(crate) fn qr_lstsq<T: Scalar>(
    bound: &Bound,
    kept: &QrKept<T>,
    b: ArrayView2<T>,
) -> Result<Array2<T>> {
    let name = Op::QrLstsq.name();
    match (bound.here(), kept) {
        (Bound::Blas { threads }, QrKept::Lapack { f, tau }) => {
            blas::qr::lstsq_factored(name, threads, f, tau, b)
        }
        (Bound::Rayon(l3), QrKept::Blocked { f, blocks }) => {
            l3.run(|| factor::factored::qr_lstsq(name, &l3, f, blocks, b))
        }
        // A factor is only ever kept with the route that computed it (and complex ones take
        // `qr_lstsq_complex`).
        (bound, _) => Err(Error::Unsupported {
            op: name,
            engine: bound.engine(),
        }),
    }
}

/// `x ← A⁻¹ x` for square non-empty `a` and `x: n × k` (the caller's buffer, holding `B`):
/// `solve_into`. The factor is a workspace of this call.
pub(crate) fn solve_into<T: Scalar>(
    exec: &Exec,
    a: ArrayView2<T>,
    x: &mut ArrayViewMut2<T>,
) -> Result<()> {
    solve_or_inv_into(
        exec,
        a,
        x,
        false,
        |name, l3| factor::lu::factor(name, l3, a, true),
        |name, threads, x| {
            let (lu, careful) = getrf_nonsingular(name, threads, a)?;
            blas::lu::solve_factored(name, threads, &lu, careful, x, false)
        },
    )
}

/// `out ← A⁻¹` for square non-empty `a`: `inv_into`.
pub(crate) fn inv_into<T: Scalar>(
    exec: &Exec,
    a: ArrayView2<T>,
    out: &mut ArrayViewMut2<T>,
) -> Result<()> {
    solve_or_inv_into(
        exec,
        a,
        out,
        true,
        |name, l3| factor::lu::factor(name, l3, a, true),
        |name, threads, out| {
            let (lu, careful) = getrf_nonsingular(name, threads, a)?;
            blas::lu::inv_into(name, threads, &lu, careful, out)
        },
    )
}

/// The one body of [`solve_into`] (`inverse` false: `x ← A⁻¹ x`, op `solve`) and
/// [`inv_into`] (`inverse`: `x ← A⁻¹`, op `inv`) and their complex twins: routes the call
/// once; on a rayon engine factors `a` with `rayon_lu` (the packed factor and the first zero
/// pivot), refuses a zero pivot, sets `x` to the identity for an inverse and solves in `x`;
/// on `blas` hands `x` to `on_blas` (op name, OpenBLAS threads).
fn solve_or_inv_into<T: Field>(
    exec: &Exec,
    a: ArrayView2<T>,
    x: &mut ArrayViewMut2<T>,
    inverse: bool,
    rayon_lu: impl FnOnce(&'static str, &Level3) -> Result<(LuPacked<T>, Option<usize>)> + Send,
    on_blas: impl FnOnce(&'static str, usize, &mut ArrayViewMut2<T>) -> Result<()>,
) -> Result<()> {
    let (op, shape) = if inverse {
        (Op::Inv, Shape::Square(a.nrows()))
    } else {
        let (n, rhs) = x.dim();
        let shape = Shape::System {
            rows: n,
            cols: n,
            rhs,
        };
        (Op::Solve, shape)
    };
    let bound = Bound::new::<T>(exec, op, shape)?;
    let name = op.name();
    match bound.here() {
        Bound::Rayon(l3) => l3.run(|| {
            let (lu, zero) = rayon_lu(name, &l3)?;
            nonsingular(name, zero)?;
            let tiny = factor::factored::tiny_diagonal(lu.lu.view());
            if inverse {
                x.fill(T::zero());
                x.diag_mut().fill(T::one());
            }
            factor::factored::lu_solve(name, &l3, &lu, tiny, x, Trans::No)
        }),
        Bound::Blas { threads } => on_blas(name, threads, x),
    }
}

/// [`Error::Singular`] at the first zero pivot, if any.
fn nonsingular(name: &'static str, zero: Option<usize>) -> Result<()> {
    match zero {
        Some(pivot) => Err(Error::Singular { op: name, pivot }),
        None => Ok(()),
    }
}

/// The equilibrated LAPACK LU of square non-empty `a` and whether its solves take the careful
/// path, or [`Error::Singular`] with the first zero pivot.
fn getrf_nonsingular<T: Scalar>(
    name: &'static str,
    threads: usize,
    a: ArrayView2<T>,
) -> Result<(LuPacked<T>, bool)> {
    let (lu, zero, careful) = blas::lu::factor(name, threads, a, true)?;
    nonsingular(name, zero)?;
    Ok((lu, careful))
}

/// `out ← L` (lower Cholesky factor of square non-empty `a`, zeros above): `cholesky_into`.
/// `out` already holds a copy of `a`; it is factored in place.
pub(crate) fn cholesky_in_place<T: Scalar>(exec: &Exec, out: &mut ArrayViewMut2<T>) -> Result<()> {
    const OP: Op = Op::Cholesky;
    let n = out.nrows();
    let bound = Bound::new::<T>(exec, OP, Shape::Square(n))?;
    let name = OP.name();
    match bound.here() {
        Bound::Rayon(l3) => l3.run(|| factor::cholesky::cholesky_in_place(name, &l3, out)),
        Bound::Blas { threads } => {
            if let Some(index) = blas::cholesky::potrf_lower(name, threads, out)? {
                return Err(Error::NotPositiveDefinite { op: name, index });
            }
            for (j, mut col) in out.columns_mut().into_iter().enumerate() {
                col.slice_mut(ndarray::s![..j]).fill(T::zero());
            }
            Ok(())
        }
    }
}

/// The complex [`solve_into`]: `x` holds `b` and is overwritten with `A⁻¹ b` (`getrf` +
/// `getrs` on `blas`, in place when `x` is column-major; the recursive LU of `factor/lu.rs`
/// and two triangular solves in `x`, whatever its layout, on the rayon engines).
pub(crate) fn solve_into_complex<C: ComplexScalar>(
    exec: &Exec,
    a: ArrayView2<C>,
    x: &mut ArrayViewMut2<C>,
) -> Result<()> {
    solve_or_inv_into(
        exec,
        a,
        x,
        false,
        |name, l3| lu_packed_complex(name, l3, a),
        |name, threads, x| {
            let (lu, swaps, zero) = zblas::getrf(name, threads, a)?;
            nonsingular(name, zero)?;
            zblas::getrs(name, threads, &lu, &swaps, x, Trans::No)
        },
    )
}

/// The complex [`inv_into`]: `out ← A⁻¹` (`getri` in `out` on `blas`, on a copy when `out`
/// is not column-major; solves with the identity in `out` on the rayon engines).
pub(crate) fn inv_into_complex<C: ComplexScalar>(
    exec: &Exec,
    a: ArrayView2<C>,
    out: &mut ArrayViewMut2<C>,
) -> Result<()> {
    solve_or_inv_into(
        exec,
        a,
        out,
        true,
        |name, l3| lu_packed_complex(name, l3, a),
        |name, threads, out| {
            let (lu, swaps, zero) = zblas::getrf(name, threads, a)?;
            nonsingular(name, zero)?;
            crate::alloc::assign_2d(out, lu.view());
            zblas::getri_in(name, threads, out, &swaps)
        },
    )
}

/// The complex LU factor of square non-empty `a` on a rayon engine, packed, and its first
/// zero pivot.
fn lu_packed_complex<C: ComplexScalar>(
    name: &'static str,
    l3: &Level3,
    a: ArrayView2<C>,
) -> Result<(LuPacked<C>, Option<usize>)> {
    let (lu, swaps, zero) = factor::lu::factor_complex(name, l3, a)?;
    let packed = LuPacked {
        lu,
        swaps,
        row_exp: Vec::new(),
    };
    Ok((packed, zero))
}

/// The complex [`cholesky_in_place`]: `out` holds a copy of `A` and is overwritten with `L`
/// (`A = L Lᴴ`), zeros above (`potrf` on `blas`, on a copy when `out` is not column-major;
/// the recursion of `factor/cholesky.rs` in `out` on the rayon engines).
pub(crate) fn cholesky_in_place_complex<C: ComplexScalar>(
    exec: &Exec,
    out: &mut ArrayViewMut2<C>,
) -> Result<()> {
    const OP: Op = Op::Cholesky;
    let bound = Bound::new::<C>(exec, OP, Shape::Square(out.nrows()))?;
    let name = OP.name();
    match bound.here() {
        Bound::Rayon(l3) => l3.run(|| factor::cholesky::cholesky_in_place(name, &l3, out)),
        Bound::Blas { threads } => zblas::potrf_lower(name, threads, out),
    }
}

// The complex factor objects (`c32`, `c64`): LAPACK on `blas`, the generic code of
// `factor/` (over `Field`) on the rayon engines, bound like the real ones.

/// Complex LU of square non-empty `a` (no equilibration: `getrf` on `blas`, the recursive LU
/// of `factor/lu.rs` on the rayon engines).
pub(crate) fn lu_factor_complex<C: ComplexScalar>(
    exec: &Exec,
    a: ArrayView2<C>,
) -> Result<(Bound, LuKept<C>)> {
    const OP: Op = Op::LuFactor;
    let bound = Bound::new::<C>(exec, OP, Shape::Square(a.nrows()))?;
    let name = OP.name();
    let (lu, swaps, zero) = bound.run(
        |l3| factor::lu::factor_complex(name, l3, a),
        |threads| zblas::getrf(name, threads, a),
    )?;
    let careful = match bound {
        Bound::Blas { .. } => false,
        Bound::Rayon(_) => factor::factored::tiny_diagonal(lu.view()),
    };
    let packed = LuPacked {
        lu,
        swaps,
        row_exp: Vec::new(),
    };
    let kept = LuKept {
        packed,
        zero,
        careful,
    };
    Ok((bound, kept))
}

/// Overwrites `x: n × k` with `op(A)⁻¹ x` for a non-singular complex factor.
pub(crate) fn lu_solve_complex<C: ComplexScalar>(
    bound: &Bound,
    lu: &LuKept<C>,
    x: &mut ArrayViewMut2<C>,
    trans: Trans,
) -> Result<()> {
    let name = Op::LuSolve.name();
    let (p, careful) = (&lu.packed, lu.careful);
    match bound.here() {
        Bound::Blas { threads } => zblas::getrs(name, threads, &p.lu, &p.swaps, x, trans),
        Bound::Rayon(l3) => l3.run_unless(solves_serially(&l3.kernels, x.ncols()), || {
            factor::factored::lu_solve(name, &l3, p, careful, x, trans)
        }),
    }
}

/// `A⁻¹` from a non-singular complex factor (`getri` on a copy on `blas`; solves with the
/// identity on the rayon engines).
pub(crate) fn lu_inv_complex<C: ComplexScalar>(bound: &Bound, lu: &LuKept<C>) -> Result<Array2<C>> {
    let name = Op::Inv.name();
    let (p, careful) = (&lu.packed, lu.careful);
    bound.run(
        |l3| factor::factored::lu_inv(name, l3, p, careful),
        |threads| zblas::getri(name, threads, p.lu.clone(), &p.swaps),
    )
}

/// The lower factor `L` (`A = L Lᴴ`) of square non-empty Hermitian `a`.
pub(crate) fn cho_factor_complex<C: ComplexScalar>(
    exec: &Exec,
    a: ArrayView2<C>,
) -> Result<(Bound, Array2<C>)> {
    const OP: Op = Op::ChoFactor;
    let bound = Bound::new::<C>(exec, OP, Shape::Square(a.nrows()))?;
    let name = OP.name();
    let l = bound.run(
        |l3| factor::cholesky::cholesky(name, l3, a),
        |threads| zblas::cholesky(name, threads, a),
    )?;
    Ok((bound, l))
}

/// Overwrites `x: n × k` with `A⁻¹ x` from the complex lower factor `l`; `op` names errors.
pub(crate) fn cho_solve_complex<C: ComplexScalar>(
    bound: &Bound,
    op: Op,
    l: &Array2<C>,
    x: &mut ArrayViewMut2<C>,
) -> Result<()> {
    let name = op.name();
    match bound.here() {
        Bound::Blas { threads } => zblas::cho_solve(name, threads, l, x),
        Bound::Rayon(l3) => l3.run_unless(solves_serially(&l3.kernels, x.ncols()), || {
            factor::factored::cho_solve(name, &l3, l.view(), x)
        }),
    }
}

/// `A⁻¹` (Hermitian) from the complex lower factor `l`: solves with the identity (`2n³`
/// flops where `potri` takes `n³`); on the rayon engines the lower triangle is mirrored, so
/// the result is exactly Hermitian.
pub(crate) fn cho_inv_complex<C: ComplexScalar>(bound: &Bound, l: &Array2<C>) -> Result<Array2<C>> {
    let name = Op::Inv.name();
    bound.run(
        |l3| factor::factored::cho_inv(name, l3, l.view()),
        |threads| {
            let n = l.nrows();
            let mut x = crate::alloc::zeros_f::<C>(name, n, n)?;
            x.diag_mut().fill(C::one());
            zblas::cho_solve(name, threads, l, &mut x.view_mut())?;
            Ok(x)
        },
    )
}

/// Factors non-empty complex `a: m × n`: `Q` formed on `blas`, the block reflectors of
/// `factor/qr.rs` on the rayon engines.
pub(crate) fn qr_factor_complex<C: ComplexScalar>(
    exec: &Exec,
    a: ArrayView2<C>,
) -> Result<(Bound, QrKept<C>)> {
    const OP: Op = Op::QrFactor;
    let bound = Bound::new::<C>(exec, OP, Shape::Matrix(a.nrows(), a.ncols()))?;
    let name = OP.name();
    let kept = bound.run(
        |l3| factor::qr::packed(name, l3, a).map(|(f, blocks)| QrKept::Blocked { f, blocks }),
        |threads| zblas::qr_explicit(name, threads, a).map(|(q, r)| QrKept::Explicit { q, r }),
    )?;
    Ok((bound, kept))
}

/// `R⁻¹ (Qᴴ B)[..n]` of a complex factor (`m ≥ n`, `R` non-singular).
pub(crate) fn qr_lstsq_complex<C: ComplexScalar>(
    bound: &Bound,
    kept: &QrKept<C>,
    b: ArrayView2<C>,
) -> Result<Array2<C>> {
    let name = Op::QrLstsq.name();
    match (bound.here(), kept) {
        (Bound::Blas { threads }, QrKept::Explicit { q, r }) => {
            zblas::qr_lstsq(name, threads, q, r, b)
        }
        (Bound::Rayon(l3), QrKept::Blocked { f, blocks }) => {
            l3.run(|| factor::factored::qr_lstsq(name, &l3, f, blocks, b))
        }
        // A factor is only ever kept with the route that computed it.
        (bound, _) => Err(Error::Unsupported {
            op: name,
            engine: bound.engine(),
        }),
    }
}
