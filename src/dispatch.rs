//! THE one place that maps (operation, engine, threads) to a concrete code path.
//!
//! The public API validates its input, then calls the function of the same name here; each
//! function asks [`route`] for the path and calls the engine that owns it. Adding an engine means
//! adding a variant to [`Path`]: the compiler then points at every operation that must handle it.

use ndarray::{Array2, ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2};

use crate::blas;
use crate::decomp::{Diag, Eig, Eigh, Lstsq, LuPacked, Qr, QrMode, Svd, Trans, Uplo};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::exec::Exec;
use crate::parallel;
use crate::scalar::Scalar;
use crate::strategy::Strategy;
use crate::threads;

pub(crate) use crate::blas::svd::Vectors;

/// The concrete path of one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Path {
    /// OpenBLAS / LAPACK with this many OpenBLAS threads.
    Blas { threads: usize },
    /// parla's block scheduler on a rayon pool of this many threads, single-threaded OpenBLAS
    /// per block.
    RayonBlas { threads: usize },
}

/// Whether `engine` implements `op` (the rayon engines are being built op by op).
fn implements(engine: Engine, op: &str) -> bool {
    match engine {
        Engine::Blas | Engine::Auto => true,
        Engine::RayonBlas => matches!(
            op,
            "gemm" | "matmul" | "gemv" | "matvec" | "dot" | "axpy" | "scal" | "nrm2"
        ),
        Engine::Rayon => false,
    }
}

/// What a call will do, for reports (`parla compare`, `parla info`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Plan {
    /// The operation.
    pub op: &'static str,
    /// The concrete engine (never `auto`).
    pub engine: Engine,
    /// The threads it will use.
    pub threads: usize,
}

/// Resolves `auto` and nesting for `op`.
///
/// `auto` resolves to `blas`: until the rayon engines cover the operations and their thresholds
/// are benchmarked (issue 3), there is nothing to choose by. A call made from inside a rayon
/// worker gets one thread, whatever the budget, so nested parallel code never multiplies
/// threads.
///
/// # Errors
/// [`Error::Unsupported`] when the engine does not implement `op` yet.
pub(crate) fn plan(exec: &Exec, op: &'static str) -> Result<Plan> {
    let engine = match exec.engine() {
        Engine::Auto => Engine::Blas,
        e => e,
    };
    let threads = if threads::in_rayon_worker() {
        1
    } else {
        exec.threads_for(engine)
    };
    if implements(engine, op) {
        Ok(Plan {
            op,
            engine,
            threads,
        })
    } else {
        Err(Error::Unsupported { op, engine })
    }
}

fn route(exec: &Exec, op: &'static str) -> Result<Path> {
    let p = plan(exec, op)?;
    Ok(match p.engine {
        Engine::RayonBlas => Path::RayonBlas { threads: p.threads },
        _ => Path::Blas { threads: p.threads },
    })
}

/// The OpenBLAS thread count for an operation only the `blas` engine implements (`plan` has
/// already refused the other engines).
fn route_blas(exec: &Exec, op: &'static str) -> Result<usize> {
    Ok(plan(exec, op)?.threads)
}

pub(crate) fn gemm<T: Scalar>(
    exec: &Exec,
    op: &'static str,
    alpha: T,
    a: ArrayView2<T>,
    b: ArrayView2<T>,
    beta: T,
    c: &mut ArrayViewMut2<T>,
) -> Result<()> {
    match route(exec, op)? {
        Path::Blas { threads } => blas::level3::gemm(op, threads, alpha, a, b, beta, c),
        Path::RayonBlas { threads } => parallel::gemm::gemm(op, threads, alpha, a, b, beta, c),
    }
}

pub(crate) fn gemv<T: Scalar>(
    exec: &Exec,
    op: &'static str,
    alpha: T,
    a: ArrayView2<T>,
    x: ArrayView1<T>,
    beta: T,
    y: &mut ArrayViewMut1<T>,
) -> Result<()> {
    match route(exec, op)? {
        Path::Blas { threads } => blas::level2::gemv(op, threads, alpha, a, x, beta, y),
        Path::RayonBlas { threads } => parallel::level2::gemv(op, threads, alpha, a, x, beta, y),
    }
}

pub(crate) fn dot<T: Scalar>(exec: &Exec, x: ArrayView1<T>, y: ArrayView1<T>) -> Result<T> {
    match route(exec, "dot")? {
        Path::Blas { threads } => Ok(blas::level1::dot(threads, x, y)),
        Path::RayonBlas { threads } => parallel::level1::dot(threads, x, y),
    }
}

pub(crate) fn axpy<T: Scalar>(
    exec: &Exec,
    alpha: T,
    x: ArrayView1<T>,
    y: &mut ArrayViewMut1<T>,
) -> Result<()> {
    match route(exec, "axpy")? {
        Path::Blas { threads } => {
            blas::level1::axpy(threads, alpha, x, y);
            Ok(())
        }
        Path::RayonBlas { threads } => parallel::level1::axpy(threads, alpha, x, y),
    }
}

pub(crate) fn scal<T: Scalar>(exec: &Exec, alpha: T, x: &mut ArrayViewMut1<T>) -> Result<()> {
    match route(exec, "scal")? {
        Path::Blas { threads } => {
            blas::level1::scal(threads, alpha, x);
            Ok(())
        }
        Path::RayonBlas { threads } => parallel::level1::scal(threads, alpha, x),
    }
}

pub(crate) fn nrm2<T: Scalar>(exec: &Exec, x: ArrayView1<T>) -> Result<T> {
    match route(exec, "nrm2")? {
        Path::Blas { threads } => Ok(blas::level1::nrm2(threads, x)),
        Path::RayonBlas { threads } => parallel::level1::nrm2(threads, x),
    }
}

pub(crate) fn lu_factor<T: Scalar>(
    exec: &Exec,
    op: &'static str,
    a: ArrayView2<T>,
    equilibrate: bool,
) -> Result<(LuPacked<T>, Option<usize>)> {
    let threads = route_blas(exec, op)?;
    blas::lu::factor(op, threads, a, equilibrate)
}

pub(crate) fn solve<T: Scalar>(
    exec: &Exec,
    a: ArrayView2<T>,
    b: ArrayView2<T>,
) -> Result<Array2<T>> {
    let threads = route_blas(exec, "solve")?;
    blas::lu::solve("solve", threads, a, b)
}

pub(crate) fn inv<T: Scalar>(exec: &Exec, a: ArrayView2<T>) -> Result<Array2<T>> {
    let threads = route_blas(exec, "inv")?;
    blas::lu::inv("inv", threads, a)
}

pub(crate) fn cholesky<T: Scalar>(exec: &Exec, a: ArrayView2<T>) -> Result<Array2<T>> {
    let threads = route_blas(exec, "cholesky")?;
    blas::cholesky::cholesky("cholesky", threads, a)
}

pub(crate) fn qr<T: Scalar>(exec: &Exec, a: ArrayView2<T>, mode: QrMode) -> Result<Qr<T>> {
    let threads = route_blas(exec, "qr")?;
    blas::qr::qr("qr", threads, a, mode)
}

pub(crate) fn svd<T: Scalar>(
    exec: &Exec,
    op: &'static str,
    a: ArrayView2<T>,
    vectors: Vectors,
) -> Result<Svd<T>> {
    let threads = route_blas(exec, op)?;
    blas::svd::svd(op, threads, a, vectors)
}

pub(crate) fn eigh<T: Scalar>(
    exec: &Exec,
    op: &'static str,
    a: ArrayView2<T>,
    vectors: bool,
) -> Result<Eigh<T>> {
    let threads = route_blas(exec, op)?;
    blas::eigh::eigh(op, threads, a, vectors)
}

pub(crate) fn eig<T: Scalar>(
    exec: &Exec,
    op: &'static str,
    a: ArrayView2<T>,
    vectors: bool,
) -> Result<Eig<T>> {
    let threads = route_blas(exec, op)?;
    blas::eig::eig(op, threads, a, vectors)
}

pub(crate) fn lstsq<T: Scalar>(
    exec: &Exec,
    a: ArrayView2<T>,
    b: ArrayView2<T>,
    rcond: T,
) -> Result<Lstsq<T>> {
    let threads = route_blas(exec, "lstsq")?;
    blas::lstsq::lstsq("lstsq", threads, a, b, rcond)
}

pub(crate) fn solve_triangular<T: Scalar>(
    exec: &Exec,
    a: ArrayView2<T>,
    b: ArrayView2<T>,
    uplo: Uplo,
    trans: Trans,
    diag: Diag,
) -> Result<Array2<T>> {
    let threads = route_blas(exec, "solve_triangular")?;
    blas::triangular::solve_triangular("solve_triangular", threads, a, b, uplo, trans, diag)
}

// ---------------------------------------------------------------------------------------------
// Batched operations: which strategy runs a batch, and how it maps onto engines.
// ---------------------------------------------------------------------------------------------

/// Largest matrix order (the largest dimension of an item) at which `auto` always spreads a
/// batch over rayon workers (strategy `rayon-blas`) when it has at least two items and two
/// threads.
///
/// OpenBLAS does not thread small calls at all (a GEMM below m·n·k = 2¹⁸, an LU below 10⁴
/// elements run on one thread whatever it is set to), so a loop of "threaded" calls runs on
/// one core while rayon-blas keeps every core busy. Measured with `cargo run --release
/// --example batch -- --grid` on the 2-core dev machine, rayon-blas over loop at 2 threads:
/// see [`BATCH_MIN_ITEMS_PER_WORKER`] for the table.
pub const BATCH_SMALL_ORDER: usize = 128;

/// Above [`BATCH_SMALL_ORDER`], `auto` spreads the batch over rayon workers only when it has at
/// least this many items per worker; with fewer, one worker's last item can leave the others
/// idle, and a loop of threaded OpenBLAS calls (which split every item) wins.
///
/// Measured (`cargo run --release --example batch -- --grid`, 2 threads, speed of rayon-blas /
/// loop, f64):
///
/// | order | ops | batch 2 | batch 3 | batch 8 | batch 32 |
/// |---|---|---|---|---|---|
/// | see the note of issue 5 | | | | | |
pub const BATCH_MIN_ITEMS_PER_WORKER: usize = 4;

/// What a batched call will do, for reports and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct BatchPlan {
    /// The concrete strategy (never `auto`).
    pub strategy: Strategy,
    /// Threads working over the batch: 1 means the items run one after another on the calling
    /// thread.
    pub workers: usize,
    /// What each item runs on: the single-matrix operation, its engine and threads.
    pub item: Plan,
}

/// `auto`'s choice among the strategies whose item engine implements `op` (today `loop` and
/// `rayon-blas`, both on the `blas` engine, which implements everything; `rayon` is only run
/// when asked for, until its kernels are measured against single-threaded OpenBLAS).
fn auto_strategy(op: &str, len: usize, order: usize, workers: usize) -> Strategy {
    if workers <= 1 || len < 2 || !implements(Engine::Blas, op) {
        return Strategy::Loop;
    }
    if order <= BATCH_SMALL_ORDER || len >= workers * BATCH_MIN_ITEMS_PER_WORKER {
        Strategy::RayonBlas
    } else {
        Strategy::Loop
    }
}

/// Resolves a strategy for a batch of `len` items of the single-matrix operation `op` whose
/// largest dimension is `order`.
///
/// `auto` follows an explicit engine of `exec` (`blas` → loop, `rayon-blas` → rayon-blas,
/// `rayon` → rayon) and picks by size only under engine `auto`. Inside a rayon worker the batch
/// gets one worker and each item one thread, as every nested parla call does.
///
/// # Errors
/// [`Error::Unsupported`] when the item engine does not implement `op`.
pub(crate) fn batch_plan(
    exec: &Exec,
    strategy: Strategy,
    op: &'static str,
    len: usize,
    order: usize,
) -> Result<BatchPlan> {
    let workers = if threads::in_rayon_worker() {
        1
    } else {
        exec.threads_for(Engine::RayonBlas)
    };
    let strategy = match (strategy, exec.engine()) {
        (Strategy::Auto, Engine::Blas) => Strategy::Loop,
        (Strategy::Auto, Engine::RayonBlas) => Strategy::RayonBlas,
        (Strategy::Auto, Engine::Rayon) => Strategy::Rayon,
        (Strategy::Auto, Engine::Auto) => auto_strategy(op, len, order, workers),
        (s, _) => s,
    };
    let (workers, item) = match strategy {
        Strategy::Loop | Strategy::Auto => (1, exec.with_engine(Engine::Blas)),
        Strategy::RayonBlas => (workers, Exec::new(Engine::Blas, 1)?),
        Strategy::Rayon => (workers, Exec::new(Engine::Rayon, 1)?),
    };
    Ok(BatchPlan {
        strategy,
        workers,
        item: plan(&item, op)?,
    })
}

/// One batched call, as the public API describes it to [`batch`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct BatchJob {
    /// The batched operation, for errors (`"batch::solve"`).
    pub batch_op: &'static str,
    /// The single-matrix operation each item runs (`"solve"`).
    pub op: &'static str,
    /// Items in the batch.
    pub len: usize,
    /// Largest dimension of an item (for `auto`).
    pub order: usize,
    /// Floating-point operations of one item (for the chunk size).
    pub item_flops: f64,
}

/// Runs `f(item_exec, i, outs[i])` for every item of a validated batch with the strategy's
/// workers; `item_exec` is the engine and threads each item runs on.
///
/// # Errors
/// [`Error::Unsupported`] (named after the batched operation) before any item runs; the error
/// of the lowest failing item as [`Error::Batch`].
pub(crate) fn batch<O, F>(
    exec: &Exec,
    strategy: Strategy,
    job: BatchJob,
    outs: Vec<O>,
    f: F,
) -> Result<()>
where
    O: Send,
    F: Fn(&Exec, usize, O) -> Result<()> + Sync,
{
    let p = batch_plan(exec, strategy, job.op, job.len, job.order)
        .map_err(|e| e.with_op(job.batch_op))?;
    let item = Exec::new(p.item.engine, p.item.threads)?;
    parallel::batch::for_each(job.batch_op, p.workers, job.item_flops, outs, |i, o| {
        f(&item, i, o)
    })
}
