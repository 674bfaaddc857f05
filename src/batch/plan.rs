//! Which strategy runs a batch, and how it maps onto engines: `auto`'s batch rules and the
//! resolution of a batched call into workers over the batch and an engine per item.

use crate::dispatch::{self, Plan};
use crate::engine::Engine;
use crate::error::Result;
use crate::exec::Exec;
use crate::op::{Dtype, Op, Shape};
use crate::parallel::Team;
use crate::threads;

use super::schedule;
use super::strategy::Strategy;

// `auto`'s thresholds were read off `cargo run --release --example batch -- --grid` on one 2-core
// machine (f64, 2 threads, speed of rayon-blas over loop; rows: order, columns: batch length;
// one run on a machine shared with other builds, so single cells are noisy by ±0.3):
//
// matmul  b2    b3    b4    b8    b32   b128  b512  b2048      solve  b2    b3    b4    b8    b32   b128  b512
//    4    0.05  0.06  0.06  0.09  0.20  0.45  0.48  0.52          4  0.08  0.17  0.10  0.26  0.40  0.54  0.79
//   16    0.18  0.17  0.09  0.14  0.36  0.55  0.76  0.66         16  0.31  0.25  0.34  0.59  0.60  0.86  0.96
//   32    0.32  0.32  0.26  0.44  0.81  0.78  0.94  1.58         32  0.46  0.53  0.54  0.62  0.87  1.72  1.33
//   64    0.51  0.79  0.64  0.61  1.42  1.78  1.80  1.89         64  1.07  0.96  1.38  0.81  1.69  1.49  1.76
//  128    0.86  0.66  0.98  0.57  0.57  1.13  1.31             128  1.68  1.45  1.91  1.96  1.97  2.00  2.06
//  256    1.01  0.53  1.04  1.04  1.07                         256  1.02  1.49  1.99  1.99  1.98
//  512    1.20  0.86  1.11  1.09                               512  1.95  1.46  2.02  1.95
//
// Small batches of small matrices lose: waking the pool's workers costs tens of µs, and
// concurrent OpenBLAS calls contend for its buffer allocator. Large GEMMs are threaded well by
// OpenBLAS itself, so rayon only helps when the batch divides evenly enough; OpenBLAS's threaded
// LU and Cholesky are poor up to n = 512, so rayon over the batch wins there from two items on.

/// Least total work (floating-point operations over the whole batch) for which `auto` spreads a
/// batch over rayon workers: below it a loop is faster (table above: e.g. 512 GEMMs of 16×16,
/// 4.2·10⁶ flops, ran at 0.76× the loop, 32 of 64×64, 1.7·10⁷ flops, at 1.42×; 128 solves of
/// 32×32, 3·10⁶ flops, at 1.72×, 32 of 32×32, 7.5·10⁵ flops, at 0.87×).
pub const BATCH_MIN_FLOPS: f64 = 4.0e6;

/// Largest GEMM order at which `auto` spreads any batch with enough work over rayon workers;
/// above it, only batches of at least [`BATCH_MIN_ITEMS_PER_WORKER`] items per worker (OpenBLAS
/// threads a large GEMM nearly perfectly, and an uneven last round of items loses: 3 GEMMs of
/// 256×256 ran at 0.53× the loop).
pub const BATCH_GEMM_SMALL_ORDER: usize = 128;

/// Largest order at which `auto` spreads any batch of factorizations (`solve`, `inv`,
/// `cholesky`) with enough work over rayon workers (OpenBLAS's threaded LU stays far from 2×
/// one thread up to here: 2 solves of 512×512 ran 1.95× faster on rayon-blas); above it, the
/// items-per-worker rule of GEMM applies (not measured beyond 512).
pub const BATCH_FACTOR_SMALL_ORDER: usize = 512;

/// Items per worker from which `auto` spreads a batch of large matrices over rayon workers.
pub const BATCH_MIN_ITEMS_PER_WORKER: usize = 4;

/// The work of one square item of order `n` of `op` (for [`Batch::plan`](crate::batch::Batch::plan),
/// which knows only the order; calls count the real shapes).
pub(crate) fn square_flops(op: Op, n: usize) -> f64 {
    op.flops(Shape::Square(n))
}

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
fn auto_strategy(op: Op, len: usize, order: usize, flops: f64, workers: usize) -> Strategy {
    if workers <= 1 || len < 2 || flops < BATCH_MIN_FLOPS {
        return Strategy::Loop;
    }
    let small = match op {
        Op::Solve | Op::Inv | Op::Cholesky => BATCH_FACTOR_SMALL_ORDER,
        _ => BATCH_GEMM_SMALL_ORDER,
    };
    if order <= small || len >= workers * BATCH_MIN_ITEMS_PER_WORKER {
        Strategy::RayonBlas
    } else {
        Strategy::Loop
    }
}

/// Resolves a strategy for a batch of `len` items of the single-matrix operation `op` whose
/// largest dimension is `order` and whose total work is `flops`.
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
    op: Op,
    dtype: Dtype,
    len: usize,
    order: usize,
    flops: f64,
) -> Result<BatchPlan> {
    batch_route(exec, strategy, op, dtype, len, order, flops).map(|(p, _)| p)
}

/// [`batch_plan`] and the execution value each item runs with (`exec` with the item's engine
/// and threads, keeping its other settings: instruction set, GEMM blocks).
fn batch_route(
    exec: &Exec,
    strategy: Strategy,
    op: Op,
    dtype: Dtype,
    len: usize,
    order: usize,
    flops: f64,
) -> Result<(BatchPlan, Exec)> {
    // Under `auto` nothing runs more threads than usable cores (as for single calls); a fixed
    // engine runs its budget as asked.
    let cap = if exec.engine() == Engine::Auto {
        threads::usable_cores()
    } else {
        usize::MAX
    };
    let workers = if threads::in_rayon_worker() {
        1
    } else {
        exec.threads_for(Engine::RayonBlas).min(cap)
    };
    let strategy = match (strategy, exec.engine()) {
        (Strategy::Auto, Engine::Blas) => Strategy::Loop,
        (Strategy::Auto, Engine::RayonBlas) => Strategy::RayonBlas,
        (Strategy::Auto, Engine::Rayon) => Strategy::Rayon,
        (Strategy::Auto, Engine::Auto) => auto_strategy(op, len, order, flops, workers),
        (s, _) => s,
    };
    let (workers, item) = match strategy {
        Strategy::Loop | Strategy::Auto if cap < usize::MAX => {
            let t = exec.threads_for(Engine::Blas).min(cap);
            (1, exec.with_engine(Engine::Blas).with_threads(t)?)
        }
        Strategy::Loop | Strategy::Auto => (1, exec.with_engine(Engine::Blas)),
        Strategy::RayonBlas => (workers, exec.with_engine(Engine::Blas).with_threads(1)?),
        Strategy::Rayon => (workers, exec.with_engine(Engine::Rayon).with_threads(1)?),
    };
    let p = BatchPlan {
        strategy,
        workers,
        item: dispatch::plan(&item, op, dtype, Shape::Square(order))?,
    };
    Ok((p, item))
}

/// One batched call, as the public API describes it to [`batch`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct BatchJob {
    /// The batched operation, for errors (`"batch::solve"`).
    pub batch_op: &'static str,
    /// The single-matrix operation each item runs.
    pub op: Op,
    /// The element type.
    pub dtype: Dtype,
    /// Items in the batch.
    pub len: usize,
    /// Largest dimension of an item (for `auto`).
    pub order: usize,
    /// Floating-point operations of one item (for the chunk size).
    pub item_flops: f64,
}

impl BatchJob {
    /// A batch of `len` items of `op` whose largest dimension is `order` and whose total work
    /// is `flops` (the per-item average is what the chunking uses).
    pub(crate) fn new(
        batch_op: &'static str,
        op: Op,
        dtype: Dtype,
        len: usize,
        order: usize,
        flops: f64,
    ) -> Self {
        BatchJob {
            batch_op,
            op,
            dtype,
            len,
            order,
            item_flops: flops / len.max(1) as f64,
        }
    }
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
    let flops = job.item_flops * job.len as f64;
    let (p, item) = batch_route(exec, strategy, job.op, job.dtype, job.len, job.order, flops)
        .map_err(|e| e.with_op(job.batch_op))?;
    // Single-threaded OpenBLAS items: each chunk enters OpenBLAS's gate once, not per item.
    let hold = p.item.engine == Engine::Blas && p.item.threads == 1;
    let init = || hold.then(threads::openblas::hold_single);
    let team = Team::new(p.workers)?;
    let run = || {
        schedule::for_each(job.batch_op, &team, job.item_flops, outs, init, |i, o| {
            f(&item, i, o)
        })
    };
    // A loop of multi-threaded LAPACK calls moves to a large stack once, not once per call.
    let lapack = matches!(job.op, Op::Solve | Op::Inv | Op::Cholesky);
    if p.workers == 1 && p.item.threads > 1 && lapack {
        threads::openblas::with_lapack_stack(p.item.threads, run)
    } else {
        run()
    }
}
