//! How a batch maps onto engines: the strategy (`auto`'s choice comes from
//! `dispatch::auto::choose_batch`, measured or built-in) and the resolution of a batched call into workers over the batch and an engine per item.

use crate::dispatch::{self, auto, Plan};
use crate::engine::Engine;
use crate::error::Result;
use crate::exec::Exec;
use crate::op::{Dtype, Op, Shape};
use crate::parallel::Team;
use crate::threads;

use super::schedule;
use super::strategy::Strategy;

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
    /// The rule that chose the strategy and its threads (`auto`'s measured or built-in batch
    /// rule, or the engine or strategy asked for).
    pub rule: &'static str,
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
    let nested = threads::in_rayon_worker();
    let workers = if nested {
        1
    } else {
        exec.threads_for(Engine::RayonBlas).min(cap)
    };
    // `auto` under engine `auto` picks the strategy and its threads (`None`: the budget).
    let (strategy, threads, rule) = match (strategy, exec.engine()) {
        (Strategy::Auto, Engine::Blas) => (Strategy::Loop, None, "batch: engine blas (a loop)"),
        (Strategy::Auto, Engine::RayonBlas) => {
            (Strategy::RayonBlas, None, "batch: engine rayon-blas")
        }
        (Strategy::Auto, Engine::Rayon) => (Strategy::Rayon, None, "batch: engine rayon"),
        (Strategy::Auto, Engine::Auto) if nested => (
            Strategy::Loop,
            None,
            "auto: a loop inside a rayon worker (nested batch)",
        ),
        (Strategy::Auto, Engine::Auto) => {
            let (engine, t, rule) = auto::choose_batch(exec, op, dtype, len, order, flops)?;
            let s = match engine {
                Engine::RayonBlas => Strategy::RayonBlas,
                Engine::Rayon => Strategy::Rayon,
                _ => Strategy::Loop,
            };
            (s, Some(t), rule)
        }
        (s, _) => (s, None, "batch: the strategy asked for"),
    };
    let (workers, item) = match strategy {
        Strategy::Loop | Strategy::Auto if threads.is_some() || cap < usize::MAX => {
            let t = threads.unwrap_or_else(|| exec.threads_for(Engine::Blas).min(cap));
            (1, exec.with_engine(Engine::Blas).with_threads(t)?)
        }
        Strategy::Loop | Strategy::Auto => (1, exec.with_engine(Engine::Blas)),
        Strategy::RayonBlas => (
            threads.unwrap_or(workers),
            exec.with_engine(Engine::Blas).with_threads(1)?,
        ),
        Strategy::Rayon => (
            threads.unwrap_or(workers),
            exec.with_engine(Engine::Rayon).with_threads(1)?,
        ),
    };
    let p = BatchPlan {
        strategy,
        workers,
        item: dispatch::plan(&item, op, dtype, Shape::Square(order))?,
        rule,
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
