//! The runner: for each group of cells sharing inputs, build the case, compute the reference,
//! then for each engine × thread count check what will run, run once and check the result and
//! warm up; then time all the cells of the group side by side ([`timing::side_by_side`]: one
//! sample of each per round), reading OpenBLAS's thread setting back after every sample.
//!
//! A cell never runs with the wrong threads: before the first call, [`Exec::plan`] must name
//! the cell's engine and thread count, and a rayon engine's pool must have exactly that many
//! workers ([`threads::engine_pool_threads`]); after the checked call and after each timed
//! sample, the `blas` engine must have left OpenBLAS at that count
//! ([`threads::openblas::current_threads`]). A mismatch turns the cell into an error, with the
//! numbers, instead of a measurement. An engine without the operation gives an `unsupported`
//! cell; any other failure gives an `error` cell. Neither stops the comparison.

use std::time::Instant;

use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use super::cases::{Case, CaseRng};
use super::grid::{Cell, Dtype, Selection};
use super::load::CpuSample;
use super::registry::{Bound, OpSpec};
use super::stats::Summary;
use super::timing::{self, Contender, Timing};
use parla::batch::{BatchPlan, Strategy};
use parla::{threads, Engine, Exec};
use parla::{Error, Result};

/// A resolved comparison: what to run and how to time it.
#[derive(Debug, Clone)]
pub struct Config {
    /// Operations, element types, sizes, engines, thread counts.
    pub selection: Selection,
    /// Warm-up and repeat policy.
    pub timing: Timing,
    /// Seed of the input generator (each group derives its own stream from it).
    pub seed: u64,
    /// Whether this is the `--quick` preset.
    pub quick: bool,
}

/// The outcome of a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Measured.
    Ok,
    /// The engine does not implement the operation (shown as `n/a`).
    Unsupported,
    /// Something failed; `message` says what.
    Error,
}

/// What the runner read back about the threads a cell used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verified {
    /// The engine [`Exec::plan`] resolved.
    pub planned_engine: Engine,
    /// The thread count [`Exec::plan`] reported.
    pub planned_threads: usize,
    /// OpenBLAS's thread setting after the cell's calls (`blas` engine only).
    pub openblas_threads: Option<usize>,
    /// Workers of the engine pool (rayon engines only).
    pub pool_threads: Option<usize>,
}

/// One measured (or skipped) cell, with every derived number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellResult {
    /// The operation.
    pub op: String,
    /// Element type.
    pub dtype: Dtype,
    /// Size `n`.
    pub size: usize,
    /// Engine asked for.
    pub engine: Engine,
    /// Threads asked for.
    pub threads: usize,
    /// `threads` exceeds the usable cores.
    pub oversubscribed: bool,
    /// Outcome.
    pub status: Status,
    /// Why it was skipped or failed.
    pub message: Option<String>,
    /// What limits the operation.
    pub bound: Bound,
    /// Unit of `rate` and `peak`: `GFLOP/s` or `GB/s`.
    pub unit: String,
    /// Nominal flops of one call.
    pub flops: f64,
    /// Nominal bytes of one call.
    pub bytes: f64,
    /// Seconds per call.
    pub time: Option<Summary>,
    /// Calls per timed sample.
    pub batch: Option<usize>,
    /// `flops / median / 1e9`.
    pub gflops: Option<f64>,
    /// `bytes / median / 1e9`.
    pub gbs: Option<f64>,
    /// `gflops` or `gbs`, whichever `bound` says.
    pub rate: Option<f64>,
    /// Median time of the same engine at 1 thread divided by this median.
    pub speedup: Option<f64>,
    /// `speedup / min(threads, usable cores)`.
    pub efficiency: Option<f64>,
    /// The ceiling at `min(threads, usable cores)` threads, in `unit`.
    pub peak: Option<f64>,
    /// `rate / peak`.
    pub peak_fraction: Option<f64>,
    /// Backward-error ratio (see [`cases`](super::cases)).
    pub backward_error: Option<f64>,
    /// Output bit-identical to the `blas` engine's at 1 thread.
    pub bit_identical: Option<bool>,
    /// Thread settings read back.
    pub verified: Option<Verified>,
    /// Cores other processes kept busy on average while the cell ran (see
    /// [`load`](super::load)); `None` where unknown or not measured.
    pub others_busy: Option<f64>,
    /// Samples taken again because the hypervisor took CPU time while they ran
    /// ([`timing::MAX_RETAKES`]); `None` where not measured.
    pub retaken: Option<usize>,
}

impl CellResult {
    pub(super) fn new(cell: &Cell, spec: &OpSpec, cores: usize) -> Self {
        CellResult {
            op: cell.op.to_string(),
            dtype: cell.dtype,
            size: cell.size,
            engine: cell.engine,
            threads: cell.threads,
            oversubscribed: cell.threads > cores,
            status: Status::Error,
            message: None,
            bound: spec.bound,
            unit: spec.bound.unit().to_string(),
            flops: (spec.flops)(cell.size as f64),
            bytes: (spec.bytes)(cell.size as f64, cell.dtype.bytes() as f64),
            time: None,
            batch: None,
            gflops: None,
            gbs: None,
            rate: None,
            speedup: None,
            efficiency: None,
            peak: None,
            peak_fraction: None,
            backward_error: None,
            bit_identical: None,
            verified: None,
            others_busy: None,
            retaken: None,
        }
    }

    fn failed(mut self, e: &Error) -> Self {
        self.status = match e {
            Error::Unsupported { .. } => Status::Unsupported,
            _ => Status::Error,
        };
        self.message = Some(e.to_string());
        self
    }

    /// Whether this cell was measured.
    pub fn is_ok(&self) -> bool {
        self.status == Status::Ok
    }

    /// The median seconds per call of a measured cell.
    pub fn median(&self) -> Option<f64> {
        self.time.map(|t| t.median)
    }
}

/// Where the runner is, for a progress bar.
#[derive(Debug, Clone)]
pub struct Progress {
    /// Cells finished.
    pub done: usize,
    /// Cells in the grid.
    pub total: usize,
    /// What runs now (`gemm float64 n=1024 blas 2t`).
    pub label: String,
}

/// The seed of one group's generator: the user's seed mixed with the group's identity, so a
/// group gets the same inputs whatever else is selected.
pub fn group_seed(seed: u64, op: &str, dtype: Dtype, n: usize) -> u64 {
    seed ^ xxhash_rust::xxh3::xxh3_64(format!("{op}/{dtype}/{n}").as_bytes())
}

fn mismatch(what: String) -> Error {
    Error::InvalidArgument {
        op: "compare",
        name: "threads",
        reason: what,
    }
}

/// Runs every cell of `config` on a machine with `cores` usable cores; `progress` is called
/// before each cell and once at the end. Cells come back in grid order with their raw
/// measurements (derived numbers are filled by [`derive`](super::report::derive)).
///
/// # Errors
/// Only when no execution value for the reference or checks can be built (a thread count
/// outside `1..=MAX_THREADS`); every per-cell problem is recorded in the cell.
pub fn run_cells(
    config: &Config,
    cores: usize,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Vec<CellResult>> {
    let check = Exec::blas(cores.max(1))?;
    let reference = Exec::blas(1)?;
    let sel = &config.selection;
    let total = sel.cells().len();
    let mut out = Vec::with_capacity(total);
    for (spec, dtype, n) in sel.groups() {
        let cells: Vec<Cell> = sel
            .engines
            .iter()
            .flat_map(|&engine| {
                sel.threads.iter().map(move |&threads| Cell {
                    op: spec.name,
                    dtype,
                    size: n,
                    engine,
                    threads,
                })
            })
            .collect();
        progress(&Progress {
            done: out.len(),
            total,
            label: format!("{} {dtype} n={n}: inputs and reference", spec.name),
        });
        let mut rng = CaseRng::seed_from_u64(group_seed(config.seed, spec.name, dtype, n));
        let mut case = match (spec.setup)(dtype, n, &mut rng, &check) {
            Ok(c) => c,
            Err(e) => {
                out.extend(
                    cells
                        .iter()
                        .map(|c| CellResult::new(c, spec, cores).failed(&e)),
                );
                continue;
            }
        };
        // The bit-identity reference: the blas engine at 1 thread.
        case.reset();
        let reference_hash = case.run(&reference).ok().map(|()| case.output_hash());
        let sample = CpuSample::now();
        let mut results: Vec<CellResult> = cells
            .iter()
            .map(|c| CellResult::new(c, spec, cores))
            .collect();
        // Checked call, checks and warm-up of each cell, in warm-up order.
        let mut order: Vec<usize> = (0..cells.len()).collect();
        timing::warm_up_order(&mut order, |&i| (cells[i].engine, cells[i].threads));
        let mut runs = Vec::new();
        let mut of_run = Vec::new();
        for i in order {
            let cell = &cells[i];
            progress(&Progress {
                done: out.len(),
                total,
                label: format!(
                    "{} {dtype} n={n} {} {}t: check and warm-up",
                    spec.name, cell.engine, cell.threads
                ),
            });
            let r = &mut results[i];
            match prepare_cell(
                case.as_mut(),
                spec,
                cell,
                &config.timing,
                &check,
                reference_hash,
                r,
            ) {
                Ok(run) => {
                    runs.push(run);
                    of_run.push(i);
                }
                Err(e) => *r = r.clone().failed(&e),
            }
        }
        // The timed samples: every cell in every round, side by side (OpenBLAS's setting is
        // checked after each sample of a `blas` cell, outside the clock).
        let mut call = |_: usize, exec: &Exec| case.run(exec);
        let label = format!("{} {dtype} n={n}: timing side by side", spec.name);
        let done = out.len();
        timing::side_by_side(&config.timing, &mut runs, &mut call, &mut |finished| {
            progress(&Progress {
                done: done + finished,
                total,
                label: label.clone(),
            })
        });
        if let Some(pair) = auto_behind_best(&runs, &of_run, &cells, cores) {
            progress(&Progress {
                done: out.len() + runs.len(),
                total,
                label: format!("{} {dtype} n={n}: auto and the best cell again", spec.name),
            });
            timing::head_to_head(&config.timing, &mut runs, pair, &mut call);
        }
        let others_busy = sample.and_then(|s| s.others_busy_since_then());
        for (run, i) in runs.into_iter().zip(of_run) {
            let r = &mut results[i];
            match run.error {
                Some(e) => *r = r.clone().failed(&e),
                None => {
                    r.status = Status::Ok;
                    r.time = Summary::of(&run.samples);
                    r.batch = Some(run.batch);
                    r.others_busy = others_busy;
                    r.retaken = Some(run.retaken);
                }
            }
        }
        out.extend(results);
    }
    progress(&Progress {
        done: out.len(),
        total,
        label: "done".into(),
    });
    Ok(out)
}

/// How far behind the fastest fixed cell `auto`'s first samples may put it before both are
/// timed again ([`auto_behind_best`]): the tolerance of issue 10's target.
pub const AUTO_RECHECK_ABOVE: f64 = 1.05;

/// The runs (indices into `runs`; `of_run[k]` is run `k`'s index in `cells`) of `auto` at the
/// most threads within `cores` and of the fastest fixed cell with at most as many threads, when
/// `auto`'s median is more than [`AUTO_RECHECK_ABOVE`] times that cell's: the pair the verdict
/// compares ("auto: 0.9x of the best"). On the 2-core Zen 5 VM two cells running one plan
/// differed by 6–12 % in one run of the default grid; both then get as many samples again,
/// side by side ([`timing::head_to_head`]), and the verdict reads all of them.
fn auto_behind_best(
    runs: &[Contender],
    of_run: &[usize],
    cells: &[Cell],
    cores: usize,
) -> Option<(usize, usize)> {
    let median = |k: usize| {
        let r = &runs[k];
        if r.error.is_some() {
            return None;
        }
        Summary::of(&r.samples).map(|s| s.median)
    };
    let cell = |k: usize| &cells[of_run[k]];
    let auto = (0..runs.len())
        .filter(|&k| cell(k).engine == Engine::Auto && cell(k).threads <= cores)
        .filter(|&k| median(k).is_some())
        .max_by_key(|&k| cell(k).threads)?;
    let best = (0..runs.len())
        .filter(|&k| cell(k).engine != Engine::Auto && cell(k).threads <= cell(auto).threads)
        .filter_map(|k| median(k).map(|m| (k, m)))
        .min_by(|a, b| a.1.total_cmp(&b.1))?;
    (median(auto)? > AUTO_RECHECK_ABOVE * best.1).then_some((auto, best.0))
}

/// OpenBLAS's thread setting, which must be `want` after a `blas` call.
fn openblas_readback(engine: Engine, want: usize) -> Result<Option<usize>> {
    if engine != Engine::Blas {
        return Ok(None);
    }
    let got = threads::openblas::current_threads();
    if got != want {
        return Err(mismatch(format!(
            "OpenBLAS is set to {got} threads after the call, the cell asks {want}"
        )));
    }
    Ok(Some(got))
}

/// What a cell runs on, as its engine and threads: for a batch, the strategy as the engine
/// whose cell runs it (`blas` with `t` threads: a loop of items on `t` OpenBLAS threads;
/// `rayon-blas`/`rayon` with `t` threads: `t` workers over the items).
struct Planned {
    engine: Engine,
    threads: usize,
}

impl Planned {
    fn of_batch(p: &BatchPlan) -> Planned {
        match p.strategy {
            Strategy::RayonBlas => Planned {
                engine: Engine::RayonBlas,
                threads: p.workers,
            },
            Strategy::Rayon => Planned {
                engine: Engine::Rayon,
                threads: p.workers,
            },
            Strategy::Loop | Strategy::Auto => Planned {
                engine: Engine::Blas,
                threads: p.item.threads,
            },
        }
    }
}

/// Everything a cell needs before its timed samples: what will run (checked against the cell),
/// the checked call (bit identity with the reference, backward error, OpenBLAS's setting after
/// it) and the warm-up. Fills `r`'s checks and returns the cell's [`Contender`], which checks
/// after each sample that OpenBLAS is still at the cell's count (`blas` runs only).
fn prepare_cell(
    case: &mut dyn Case,
    spec: &OpSpec,
    cell: &Cell,
    timing: &Timing,
    check: &Exec,
    reference_hash: Option<u64>,
    r: &mut CellResult,
) -> Result<Contender> {
    let exec = Exec::new(cell.engine, cell.threads)?;
    let plan = match spec.batch_order {
        None => {
            let p = exec.plan(spec.plan_op, cell.dtype, (spec.plan_shape)(cell.size))?;
            Planned {
                engine: p.engine,
                threads: p.threads,
            }
        }
        Some(order) => Planned::of_batch(&exec.batch(Strategy::Auto).plan(
            spec.plan_op,
            cell.dtype,
            cell.size,
            order,
        )?),
    };
    // A fixed engine runs with the cell's threads; `auto` picks engine and threads by size
    // within the cell's budget, and the cell records what it picked.
    let agrees = if cell.engine == Engine::Auto {
        plan.threads <= cell.threads
    } else {
        plan.threads == cell.threads && plan.engine == cell.engine
    };
    if !agrees {
        return Err(mismatch(format!(
            "plan says {} with {} threads, the cell asks {} with {}",
            plan.engine, plan.threads, cell.engine, cell.threads
        )));
    }
    let cap = threads::openblas::MAX_THREADS_INSIDE;
    if plan.engine == Engine::Blas && cell.threads > cap {
        return Err(mismatch(format!(
            "parla runs OpenBLAS with at most {cap} threads per call, the cell asks {}",
            cell.threads
        )));
    }
    let pool_threads = match plan.engine {
        Engine::RayonBlas | Engine::Rayon => {
            let got = threads::engine_pool_threads(plan.threads)?;
            if got != plan.threads {
                return Err(mismatch(format!(
                    "the engine pool has {got} workers, the plan says {}",
                    plan.threads
                )));
            }
            Some(got)
        }
        _ => None,
    };
    // The checked call.
    case.reset();
    let t0 = Instant::now();
    case.run(&exec)?;
    let first = t0.elapsed().as_secs_f64();
    openblas_readback(plan.engine, plan.threads)?;
    let bit_identical = reference_hash.map(|h| h == case.output_hash());
    // The check products run on `check` and change OpenBLAS's setting; the next call of the
    // cell sets it back (and is verified again after timing).
    let backward_error = case.backward_error(check).ok();
    // (The check's OpenBLAS workers may spin through part of the warm-up; the timed samples
    // wait for them.)
    timing::called(Engine::Blas, check.threads());
    let estimate = timing::warm_up(timing, first, || case.run(&exec))?;
    timing::called(plan.engine, plan.threads);
    let openblas_threads = openblas_readback(plan.engine, plan.threads)?;
    r.backward_error = backward_error;
    r.bit_identical = bit_identical;
    r.verified = Some(Verified {
        planned_engine: plan.engine,
        planned_threads: plan.threads,
        openblas_threads,
        pool_threads,
    });
    let batch = timing::batch_for(timing, estimate);
    Ok(
        Contender::new(plan.engine, plan.threads, exec, batch, estimate)
            .checking_openblas(openblas_threads),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs with the given medians (one sample each) for `cells`.
    fn runs(cells: &[Cell], medians: &[f64]) -> Vec<Contender> {
        cells
            .iter()
            .zip(medians)
            .map(|(c, &m)| {
                let mut r = Contender::new(c.engine, c.threads, Exec::blas(1).unwrap(), 1, m);
                r.samples.push(m);
                r
            })
            .collect()
    }

    #[test]
    fn auto_is_timed_again_only_when_behind_the_best_cell_it_could_have_chosen() {
        let cell = |engine, threads| Cell {
            op: "gemm",
            dtype: Dtype::F64,
            size: 512,
            engine,
            threads,
        };
        use Engine::{Auto, Blas, Rayon};
        let cells = [
            cell(Blas, 1),
            cell(Rayon, 2),
            cell(Rayon, 3), // oversubscribed on 2 cores: not a choice auto has
            cell(Auto, 1),
            cell(Auto, 2),
            cell(Auto, 3),
        ];
        let of_run: Vec<usize> = (0..cells.len()).collect();
        let pick = |m: &[f64]| auto_behind_best(&runs(&cells, m), &of_run, &cells, 2);
        // auto at 2 threads (the most within the cores) 10 % behind rayon 2t.
        assert_eq!(pick(&[2.0, 1.0, 0.5, 9.0, 1.1, 0.5]), Some((4, 1)));
        // Within AUTO_RECHECK_ABOVE: nothing to do.
        assert_eq!(pick(&[2.0, 1.0, 0.5, 9.0, 1.04, 0.5]), None);
        // On one core, auto at 1 thread against the best 1-thread cell.
        let one = auto_behind_best(
            &runs(&cells, &[2.0, 1.0, 0.5, 2.2, 1.0, 1.0]),
            &of_run,
            &cells,
            1,
        );
        assert_eq!(one, Some((3, 0)));
        // A failed auto cell or no fixed cell: nothing to compare.
        let mut r = runs(&cells, &[2.0, 1.0, 0.5, 9.0, 1.1, 0.5]);
        r[4].error = Some(Error::Unsupported {
            op: "gemm",
            engine: Auto,
        });
        assert_eq!(auto_behind_best(&r, &of_run, &cells, 2), Some((3, 0)));
        let only_auto = &cells[3..];
        let of: Vec<usize> = (0..3).collect();
        assert_eq!(
            auto_behind_best(&runs(only_auto, &[9.0, 1.1, 0.5]), &of, only_auto, 2),
            None
        );
    }
}
