//! Resolving a call once: (operation, dtype, shape, [`Exec`]) → a [`Plan`] for reports and a
//! [`Path`] that carries everything the engine needs (threads, the pool, the GEMM kernel).

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::exec::value::Exec;
use crate::kernels::GemmKernel;
use crate::op::{Dtype, Family, Op, Shape};
use crate::parallel::{Kernels, Team};
use crate::scalar::Field;
use crate::threads;

use super::auto;

/// Whether `engine` implements `op` on `dtype` operands.
///
/// Real types: every engine implements every operation (the spectral family included, written
/// over the rayon engines' level-3 operations in `factor/`). Complex types: `blas` runs every
/// complex operation parla has; the rayon engines run the GEMM family (one real GEMM on the
/// interleaved parts, `parallel/gemm/complex.rs`) and level 1/2 (`gemv`, `matvec`, `dot`,
/// `vdot`, `axpy`, `nrm2`: the real split with complex blocks), `solve_triangular` (the real
/// recursion of `factor/triangular.rs` over the complex GEMM), the LU family (`solve`, `lu`,
/// `inv`, `det`, `slogdet`), `cholesky`, `qr` and the factor objects (`lu_factor`,
/// `cho_factor`, `qr_factor` and their solves: the real blocked code of `factor/` over
/// `Field`) and refuse the rest (the spectral family) with [`Error::Unsupported`] — never a
/// silent call to another engine.
pub(crate) fn implements(engine: Engine, op: Op, dtype: Dtype) -> bool {
    match engine {
        Engine::Blas | Engine::Auto => true,
        Engine::Rayon | Engine::RayonBlas => {
            !dtype.is_complex()
                || matches!(op.family(), Family::Gemm | Family::Level12)
                || matches!(
                    op,
                    Op::SolveTriangular
                        | Op::Solve
                        | Op::Lu
                        | Op::Inv
                        | Op::Det
                        | Op::Slogdet
                        | Op::Cholesky
                        | Op::Qr
                        | Op::LuFactor
                        | Op::LuSolve
                        | Op::ChoFactor
                        | Op::ChoSolve
                        | Op::QrFactor
                        | Op::QrLstsq
                        | Op::RowSums
                        | Op::ColSums
                        | Op::RowNorms
                        | Op::ColNorms
                )
        }
    }
}

/// How the work of `op` is cut on `engine` with `threads` threads (for reports).
fn split(op: Op, engine: Engine, threads: usize) -> &'static str {
    let blas = matches!(engine, Engine::Blas | Engine::Auto);
    match (op.family(), op, blas, threads) {
        (Family::Elementwise, Op::Transpose, true, t) if t > 1 => {
            "OpenBLAS's own threads (omatcopy)"
        }
        (Family::Elementwise, Op::Transpose, false, t) if t > 1 => {
            "one band of result rows per thread, whole 32x32 tiles (source column bands)"
        }
        (Family::Elementwise, Op::Transpose, _, _) => "none: one thread",
        (Family::Elementwise, _, true, _) => {
            "none: the calling thread (OpenBLAS has no element-wise operations)"
        }
        (Family::Elementwise, _, false, 1) => "none: one thread",
        (Family::Elementwise, _, false, _) => {
            "one contiguous chunk per thread (same memory order), else ndarray's parallel Zip"
        }
        (_, _, _, 1) => "none: one thread",
        (Family::Reduction, _, true, _) => {
            "OpenBLAS's own threads (sums: one gemv with a ones vector; norms: one nrm2 per output)"
        }
        (Family::Reduction, _, false, _) => {
            "one block per thread: output rows when the reduced axis is contiguous, else matrix \
             rows with per-block partials combined in block order"
        }
        (_, _, true, _) => "OpenBLAS's own threads",
        (Family::Level12, _, false, _) => "one chunk of the vector / rows per thread",
        (Family::Factor, _, false, _) => {
            "recursive blocks: the engine's parallel GEMM for the updates, right-hand sides \
             split across threads in the triangular solves"
        }
        (_, _, false, _) if engine == Engine::RayonBlas => {
            "C cut into one panel per thread along its contiguous side"
        }
        (_, _, false, _) => {
            "BLIS loop 3 (ic): rows of C in blocks of <= MC, a multiple of the threads; \
             column groups too when C has fewer MR-row panels than threads"
        }
    }
}

/// What a call will do: the concrete engine and threads, how the work is cut, the kernel, and
/// which rule decided. [`Exec::plan`] reports it; the dispatch layer runs exactly this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Plan {
    /// The operation.
    pub op: Op,
    /// The element type asked about.
    pub dtype: Dtype,
    /// The concrete engine (never `auto`).
    pub engine: Engine,
    /// The threads it will use.
    pub threads: usize,
    /// How the work is cut: the parallel loop and the size of its blocks.
    pub split: &'static str,
    /// For the `rayon` engine: the GEMM kernel of this dtype (instruction set, MR × NR tile,
    /// MC/KC/NC blocks) that its GEMMs run.
    pub kernel: Option<GemmKernel>,
    /// Which rule chose engine and threads (`"fixed engine"`, `"nested: one thread inside a
    /// rayon worker"`, or the `auto` rule).
    pub rule: &'static str,
}

/// The resolved route of one call: decided once, carried down to the engine.
#[derive(Clone)]
pub(crate) enum Path {
    /// OpenBLAS / LAPACK with this many OpenBLAS threads.
    Blas {
        /// OpenBLAS threads.
        threads: usize,
    },
    /// parla's block scheduler on `team`, each block computed by `kernels`
    /// (single-threaded OpenBLAS for `rayon-blas`, parla's own for `rayon`).
    Rayon {
        /// The workers.
        team: Team,
        /// What computes each block.
        kernels: Kernels,
    },
}

/// Resolves `auto` and nesting for `op` on `dtype` operands of `shape`.
///
/// `auto` picks engine and threads (never more threads than usable cores; see `auto.rs`).
/// A call made from inside a rayon worker gets one thread, whatever the budget, so nested
/// parallel code never multiplies threads. Element-wise closures run in the calling thread on
/// `blas` (OpenBLAS has no such kernel).
///
/// # Errors
/// [`Error::Unsupported`] when the engine does not implement `op`; [`Error::InvalidEnv`] when
/// `auto` decides and `PARLA_TUNE_FILE` is invalid.
pub(crate) fn plan(exec: &Exec, op: Op, dtype: Dtype, shape: Shape) -> Result<Plan> {
    let (engine, threads, rule) = match exec.engine() {
        Engine::Auto => auto::choose(exec, op, dtype, shape)?,
        e => (e, exec.threads_for(e), "fixed engine"),
    };
    let closure_on_blas =
        engine == Engine::Blas && op.family() == Family::Elementwise && op != Op::Transpose;
    let (threads, rule) = if threads::in_rayon_worker() {
        (1, "nested: one thread inside a rayon worker")
    } else if closure_on_blas {
        (1, rule)
    } else {
        (threads, rule)
    };
    if !implements(engine, op, dtype) {
        return Err(Error::Unsupported {
            op: op.name(),
            engine,
        });
    }
    // Complex GEMM on `rayon` runs the real kernel of the same precision.
    let kernel = (engine == Engine::Rayon).then(|| match dtype.real() {
        Dtype::F32 => exec.gemm_kernel::<f32>(),
        _ => exec.gemm_kernel::<f64>(),
    });
    Ok(Plan {
        op,
        dtype,
        engine,
        threads,
        split: split(op, engine, threads),
        kernel,
        rule,
    })
}

/// The path of a call of `op` on `T` operands of `shape`: [`plan`], then the pool and the
/// block kernels looked up once.
///
/// # Errors
/// As [`plan`]; [`Error::InvalidArgument`] when the pool's threads cannot be started.
pub(crate) fn route<T: Field>(exec: &Exec, op: Op, shape: Shape) -> Result<Path> {
    let p = plan(exec, op, T::ELEMENT, shape)?;
    Ok(match p.engine {
        Engine::RayonBlas => Path::Rayon {
            team: Team::new(p.threads)?,
            kernels: Kernels::OpenBlas,
        },
        Engine::Rayon => Path::Rayon {
            team: Team::new(p.threads)?,
            kernels: Kernels::Native(exec.native()),
        },
        Engine::Blas | Engine::Auto => Path::Blas { threads: p.threads },
    })
}
