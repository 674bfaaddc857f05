//! The executor of batched operations: the items of a batch spread over a rayon pool, each
//! computed by a single-threaded kernel (strategies `rayon-blas` and `rayon`), or run one after
//! another on the calling thread (strategy `loop`, and any batch given one worker).
//!
//! The items are independent and each writes only its own output, so the parallel loop is over
//! items and nothing is shared for writing. Consecutive items are grouped into chunks of at
//! least [`TASK_FLOPS`] of work so that a batch of tiny matrices does not pay rayon's per-task
//! cost item by item.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::parallel::Team;

/// Least work (floating-point operations) a rayon task is given: items are grouped until a
/// chunk holds this much, so per-task costs (a steal, a join: ~1 µs) stay a few per cent of
/// the work.
///
/// 2·10⁶ flops is ≈ 40 µs of one core at the measured 50 GFLOP/s of single-threaded DGEMM
/// (DESIGN.md): 31 GEMMs of 32×32, or 12 LU solves of 64×64.
pub(crate) const TASK_FLOPS: f64 = 2.0e6;

/// Chunks each worker should get at least, so an uneven finish (other processes, uneven
/// items) can still be balanced by stealing.
const CHUNKS_PER_WORKER: usize = 4;

/// The least number of consecutive items one rayon task takes (rayon's `with_min_len`): enough
/// for [`TASK_FLOPS`], but no more than leaves [`CHUNKS_PER_WORKER`] chunks per worker.
pub(crate) fn min_len(len: usize, workers: usize, item_flops: f64) -> usize {
    let for_work = if item_flops > 0.0 {
        (TASK_FLOPS / item_flops).ceil().min(len as f64) as usize
    } else {
        len
    };
    let for_balance = len.div_ceil(workers.max(1) * CHUNKS_PER_WORKER);
    for_work.min(for_balance).max(1)
}

/// Runs `f(i, outs[i])` for every item `i`: on the calling thread, in order, when `workers` is
/// 1, else on the engine pool of `workers` threads. `item_flops` (the work of one item) sizes
/// the chunks; `init()` is called once per chunk, on the thread that runs it, and its value
/// kept until the chunk is done (a guard shared by the chunk's items).
///
/// The error of the lowest failing item is returned as [`Error::Batch`] naming `op` and the
/// index; once an item fails, items after it are skipped (items before it still run, so the
/// index reported does not depend on the scheduling).
pub(crate) fn for_each<O, G, I, F>(
    op: &'static str,
    team: &Team,
    item_flops: f64,
    outs: Vec<O>,
    init: I,
    f: F,
) -> Result<()>
where
    O: Send,
    I: Fn() -> G + Sync,
    F: Fn(usize, O) -> Result<()> + Sync,
{
    let wrap = |index: usize, e: Error| Error::Batch {
        op,
        index,
        source: Box::new(e),
    };
    let workers = team.threads();
    let len = outs.len();
    let chunk = min_len(len, workers, item_flops);
    if workers <= 1 || len <= 1 {
        let mut guard = None;
        for (i, out) in outs.into_iter().enumerate() {
            if i % chunk == 0 {
                drop(guard.take()); // the previous chunk's guard goes before the next is made
                guard = Some(init());
            }
            f(i, out).map_err(|e| wrap(i, e))?;
        }
        drop(guard);
        return Ok(());
    }
    let first_bad = AtomicUsize::new(usize::MAX);
    let failure: Mutex<Option<(usize, Error)>> = Mutex::new(None);
    let task = |(i, out): (usize, O)| {
        if i > first_bad.load(Ordering::Acquire) {
            return;
        }
        if let Err(e) = f(i, out) {
            first_bad.fetch_min(i, Ordering::AcqRel);
            let mut slot = failure.lock().unwrap_or_else(|p| p.into_inner());
            if slot.as_ref().is_none_or(|(j, _)| i < *j) {
                *slot = Some((i, e));
            }
        }
    };
    team.install(|| {
        outs.into_par_iter()
            .enumerate()
            .with_min_len(chunk)
            .for_each_init(&init, |_guard, item| task(item))
    });
    match failure.into_inner().unwrap_or_else(|p| p.into_inner()) {
        Some((i, e)) => Err(wrap(i, e)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_hold_enough_work_but_leave_chunks_to_steal() {
        // (len, workers, item flops) -> min_len
        let table = [
            ((10_000, 2, 65_536.0), 31),    // 32×32 GEMMs: TASK_FLOPS / 2·32³
            ((1_000, 2, 174_763.0), 12),    // 64×64 LU solves
            ((40, 2, 65_536.0), 5),         // balance wins: 40 / (2·4)
            ((10, 2, 1e9), 1),              // big items: one per task
            ((3, 8, 1.0), 1),               // fewer items than workers
            ((100, 1, 0.0), 25),            // zero-work items: only balance limits
            ((0, 2, 1.0), 1),               // empty batch
            ((1_000_000, 2, 2.0), 125_000), // tiny items, capped by balance
        ];
        for ((len, workers, flops), want) in table {
            assert_eq!(
                min_len(len, workers, flops),
                want,
                "{len} items of {flops} flops on {workers}"
            );
        }
    }

    #[test]
    fn lowest_failing_index_wins_whatever_the_schedule() {
        for workers in [1, 2, 3] {
            let outs: Vec<usize> = (0..500).collect();
            let r = for_each(
                "batch::test",
                &Team::new(workers).unwrap(),
                1.0,
                outs,
                || (),
                |i, _| {
                    if i % 97 == 96 {
                        Err(Error::Singular {
                            op: "test",
                            pivot: i,
                        })
                    } else {
                        Ok(())
                    }
                },
            );
            assert_eq!(
                r,
                Err(Error::Batch {
                    op: "batch::test",
                    index: 96,
                    source: Box::new(Error::Singular {
                        op: "test",
                        pivot: 96
                    })
                }),
                "{workers} workers"
            );
        }
    }

    #[test]
    fn every_item_runs_once_with_its_own_output() {
        for workers in [1, 2, 3] {
            let mut outs = vec![0usize; 1234];
            let views: Vec<&mut usize> = outs.iter_mut().collect();
            for_each(
                "batch::test",
                &Team::new(workers).unwrap(),
                10.0,
                views,
                || (),
                |i, o| {
                    *o += i + 1;
                    Ok(())
                },
            )
            .unwrap();
            assert!(outs.iter().enumerate().all(|(i, &o)| o == i + 1));
        }
    }
}
