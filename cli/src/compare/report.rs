//! The report of a comparison: the cells with their derived numbers (rates, speedups,
//! efficiencies, fractions of the peak), the verdicts, and what the run was.

use serde::Serialize;

use super::grid::Dtype;
use super::load::BUSY_LIMIT;
use super::registry::Bound;
use super::run::{CellResult, Config};
use super::timing::Timing;
use crate::peak::Peaks;
use parla::info::MachineInfo;
use parla::Engine;

/// Version tag of the JSON document (bumped when a field changes meaning or disappears).
pub const SCHEMA: &str = "parla-compare/1";

/// One operation of the run, as reported.
#[derive(Debug, Clone, Serialize)]
pub struct OpEcho {
    /// Name.
    pub name: String,
    /// What is computed and what `n` is.
    pub summary: String,
    /// What limits it.
    pub bound: Bound,
    /// Rate unit.
    pub unit: String,
    /// Element types run.
    pub dtypes: Vec<Dtype>,
    /// Sizes run.
    pub sizes: Vec<usize>,
}

/// What was asked for.
#[derive(Debug, Clone, Serialize)]
pub struct ConfigEcho {
    /// The operations.
    pub ops: Vec<OpEcho>,
    /// The engines.
    pub engines: Vec<Engine>,
    /// The thread counts.
    pub threads: Vec<usize>,
    /// Usable cores of the machine (thread counts above are oversubscribed).
    pub usable_cores: usize,
    /// Input seed.
    pub seed: u64,
    /// `--quick` preset.
    pub quick: bool,
    /// Warm-up and repeat policy.
    pub timing: Timing,
}

/// The best configuration of one engine (or overall) for one size.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Pick {
    /// Engine.
    pub engine: Engine,
    /// Threads.
    pub threads: usize,
    /// Median seconds per call.
    pub median: f64,
    /// Rate in the operation's unit.
    pub rate: Option<f64>,
    /// Interquartile range relative to the median.
    pub relative_iqr: f64,
    /// Rate / the measured ceiling at this thread count.
    pub peak_fraction: Option<f64>,
}

/// Who won one (operation, element type, size).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// Operation.
    pub op: String,
    /// Element type.
    pub dtype: Dtype,
    /// Size.
    pub size: usize,
    /// The fastest measured cell.
    pub winner: Pick,
    /// The fastest cell of any other engine (`None` when only one engine ran).
    pub runner_up: Option<Pick>,
    /// The winner engine's fastest cell with another thread count.
    pub next_threads: Option<Pick>,
    /// `runner_up.median / winner.median` (≥ 1).
    pub margin: Option<f64>,
    /// The margin is smaller than the larger relative IQR of the two: a re-run may swap them.
    pub within_noise: bool,
    /// Engines that do not implement the operation.
    pub unsupported: Vec<Engine>,
    /// The fastest cell of each measured engine.
    pub best_per_engine: Vec<Pick>,
    /// How close `auto` came to the winner, when it was measured.
    pub auto: Option<AutoScore>,
}

/// `auto` at the usable cores against the fastest fixed (engine, threads) cell within the same
/// thread budget (`auto` never runs more threads than cores; an oversubscribed cell that wins
/// is in the oversubscription line, not a choice `auto` could make).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AutoScore {
    /// `best.median / auto.median`, the best fixed cell with at most `budget` threads: 1 = as
    /// fast as the best fixed choice, 0.9 = 10 % slower.
    pub of_best: f64,
    /// `fixed.median / auto.median` for the fixed cell that runs what `auto` ran (same engine
    /// and threads): how far two measurements of one plan differ in this run, the noise the
    /// `of_best` ratio cannot be read finer than. `None` when that cell was not measured.
    pub same_plan: Option<f64>,
    /// Seconds per call of `auto`.
    pub median: f64,
    /// Its spread (interquartile range over the median).
    pub relative_iqr: f64,
    /// The engine `auto` ran.
    pub engine: Engine,
    /// The threads it ran.
    pub threads: usize,
    /// The thread budget the cell gave it (the usable cores).
    pub budget: usize,
}

/// What one oversubscribed thread costs (or gains): `cores + 1` threads against `cores`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Oversubscription {
    /// Operation.
    pub op: String,
    /// Element type.
    pub dtype: Dtype,
    /// Size (the largest measured).
    pub size: usize,
    /// Engine.
    pub engine: Engine,
    /// Usable cores.
    pub cores: usize,
    /// `median(cores + 1 threads) / median(cores threads)`: above 1 is a slowdown.
    pub slowdown: f64,
}

/// Everything one comparison produced; the JSON output is this value.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// [`SCHEMA`].
    pub schema: String,
    /// parla's version.
    pub parla_version: String,
    /// Seconds since the Unix epoch at the start.
    pub started_unix: u64,
    /// Wall time of the whole run, in seconds.
    pub wall_seconds: f64,
    /// Cores other processes kept busy just before the run (sampled over 0.2 s while parla
    /// was idle; see [`load`](super::load)), if known.
    pub busy_cores_before: Option<f64>,
    /// Cores other processes kept busy on average during the run, if known.
    pub busy_cores_during: Option<f64>,
    /// What was asked for.
    pub config: ConfigEcho,
    /// `parla info --json` of the machine.
    pub machine: MachineInfo,
    /// The ceilings used for the fractions of peak.
    pub peaks: Option<Peaks>,
    /// Where they came from: `cache`, `measured` or `quick` (a short measurement, not cached).
    pub peaks_source: String,
    /// Every cell, in grid order.
    pub cells: Vec<CellResult>,
    /// The winner of each (operation, element type, size).
    pub verdicts: Vec<Verdict>,
    /// The cost of one thread more than the cores, per engine, at the largest size.
    pub oversubscription: Vec<Oversubscription>,
}

/// The ceiling for `bound` / `dtype` at `threads` (capped at the largest measured count).
pub fn peak_for(peaks: &Peaks, bound: Bound, dtype: Dtype, threads: usize) -> Option<f64> {
    let measured = peaks.ceilings.iter().map(|c| c.threads).max()?;
    let t = threads.min(measured).max(1);
    match bound {
        Bound::Compute => peaks.get("fma", dtype.name(), t),
        Bound::Memory => ["copy", "triad", "update"]
            .iter()
            .filter_map(|k| peaks.get(k, "float64", t))
            .reduce(f64::max),
    }
}

fn same_group(a: &CellResult, b: &CellResult) -> bool {
    a.op == b.op && a.dtype == b.dtype && a.size == b.size
}

/// Fills the derived numbers of measured cells: rates, speedup over the same engine at one
/// thread, efficiency `speedup / min(threads, cores)`, ceiling and fraction of it.
pub fn derive(cells: &mut [CellResult], peaks: Option<&Peaks>, cores: usize) {
    let bases: Vec<Option<f64>> = cells
        .iter()
        .map(|c| {
            cells
                .iter()
                .find(|b| same_group(b, c) && b.engine == c.engine && b.threads == 1)
                .and_then(CellResult::median)
        })
        .collect();
    for (c, base) in cells.iter_mut().zip(bases) {
        let Some(median) = c.median().filter(|&m| m > 0.0) else {
            continue;
        };
        c.gflops = Some(c.flops / median / 1e9);
        c.gbs = Some(c.bytes / median / 1e9);
        c.rate = match c.bound {
            Bound::Compute => c.gflops,
            Bound::Memory => c.gbs,
        };
        c.speedup = base.map(|b| b / median);
        c.efficiency = c.speedup.map(|s| s / c.threads.min(cores.max(1)) as f64);
        c.peak = peaks.and_then(|p| peak_for(p, c.bound, c.dtype, c.threads));
        c.peak_fraction = match (c.rate, c.peak) {
            (Some(r), Some(p)) if p > 0.0 => Some(r / p),
            _ => None,
        };
    }
}

fn pick(c: &CellResult) -> Option<Pick> {
    let t = c.time?;
    Some(Pick {
        engine: c.engine,
        threads: c.threads,
        median: t.median,
        rate: c.rate,
        relative_iqr: t.relative_iqr(),
        peak_fraction: c.peak_fraction,
    })
}

fn fastest<'a>(it: impl Iterator<Item = &'a CellResult>) -> Option<Pick> {
    it.filter_map(pick)
        .min_by(|a, b| a.median.total_cmp(&b.median))
}

/// The winner of every (operation, element type, size) with at least one measured cell, in
/// grid order.
pub fn verdicts(cells: &[CellResult]) -> Vec<Verdict> {
    let mut out: Vec<Verdict> = Vec::new();
    for first in cells {
        if out
            .iter()
            .any(|v| v.op == first.op && v.dtype == first.dtype && v.size == first.size)
        {
            continue;
        }
        let all: Vec<&CellResult> = cells.iter().filter(|c| same_group(c, first)).collect();
        // `auto` is scored against the fixed choices, not one of them.
        let group: Vec<&CellResult> = all
            .iter()
            .copied()
            .filter(|c| c.engine != Engine::Auto)
            .collect();
        let Some(winner) = fastest(group.iter().copied().filter(|c| c.is_ok())) else {
            continue;
        };
        let mut engines: Vec<Engine> = Vec::new();
        for c in &group {
            if !engines.contains(&c.engine) {
                engines.push(c.engine);
            }
        }
        let best_per_engine: Vec<Pick> = engines
            .iter()
            .filter_map(|&e| fastest(group.iter().copied().filter(|c| c.engine == e)))
            .collect();
        let unsupported = engines
            .iter()
            .copied()
            .filter(|&e| {
                group
                    .iter()
                    .filter(|c| c.engine == e)
                    .all(|c| c.status == super::run::Status::Unsupported)
            })
            .collect();
        let runner_up = best_per_engine
            .iter()
            .copied()
            .filter(|p| p.engine != winner.engine)
            .min_by(|a, b| a.median.total_cmp(&b.median));
        let next_threads = fastest(
            group
                .iter()
                .copied()
                .filter(|c| c.engine == winner.engine && c.threads != winner.threads),
        );
        let margin = runner_up.map(|r| r.median / winner.median);
        let within_noise = match (margin, runner_up) {
            (Some(m), Some(r)) => m - 1.0 < winner.relative_iqr.max(r.relative_iqr),
            _ => false,
        };
        let auto = all
            .iter()
            .filter(|c| c.engine == Engine::Auto && c.is_ok() && !c.oversubscribed)
            .max_by_key(|c| c.threads)
            .and_then(|c| {
                let t = c.time?;
                let v = c.verified.as_ref()?;
                let best = fastest(
                    group
                        .iter()
                        .copied()
                        .filter(|f| f.is_ok() && f.threads <= c.threads),
                )?;
                let same_plan = group
                    .iter()
                    .find(|f| f.engine == v.planned_engine && f.threads == v.planned_threads)
                    .and_then(|f| f.time)
                    .map(|f| f.median / t.median);
                Some(AutoScore {
                    of_best: best.median / t.median,
                    same_plan,
                    median: t.median,
                    relative_iqr: t.relative_iqr(),
                    engine: v.planned_engine,
                    threads: v.planned_threads,
                    budget: c.threads,
                })
            });
        out.push(Verdict {
            auto,
            op: first.op.clone(),
            dtype: first.dtype,
            size: first.size,
            winner,
            runner_up,
            next_threads,
            margin,
            within_noise,
            unsupported,
            best_per_engine,
        });
    }
    out
}

/// The slowdown of `cores + 1` threads against `cores`, per engine, at each (operation,
/// element type)'s largest size where both were measured.
pub fn oversubscription(cells: &[CellResult], cores: usize) -> Vec<Oversubscription> {
    let mut out: Vec<Oversubscription> = Vec::new();
    for over in cells.iter().filter(|c| c.is_ok() && c.threads == cores + 1) {
        let Some(at_cores) = cells
            .iter()
            .find(|c| same_group(c, over) && c.engine == over.engine && c.threads == cores)
            .and_then(CellResult::median)
        else {
            continue;
        };
        let Some(m) = over.median() else { continue };
        let entry = Oversubscription {
            op: over.op.clone(),
            dtype: over.dtype,
            size: over.size,
            engine: over.engine,
            cores,
            slowdown: m / at_cores,
        };
        match out
            .iter_mut()
            .find(|o| o.op == over.op && o.dtype == over.dtype && o.engine == over.engine)
        {
            Some(o) if o.size < over.size => *o = entry,
            Some(_) => {}
            None => out.push(entry),
        }
    }
    out
}

impl Report {
    /// A warning when other processes kept more than [`BUSY_LIMIT`] cores busy just before or
    /// during the run, or while some cell ran: they shared the cores with it, so those times,
    /// speedups and verdicts are pessimistic and noisy.
    pub fn busy_warning(&self) -> Option<String> {
        let busy = self
            .busy_cores_before
            .into_iter()
            .chain(self.busy_cores_during)
            .fold(0.0f64, f64::max);
        let marked = self
            .cells
            .iter()
            .filter(|c| c.others_busy.is_some_and(|b| b > BUSY_LIMIT))
            .count();
        if busy <= BUSY_LIMIT && marked == 0 {
            return None;
        }
        let measured = self.cells.iter().filter(|c| c.is_ok()).count();
        let avg = self.busy_cores_during.map_or(String::new(), |d| {
            format!(" ({d:.1} cores on average over the run)")
        });
        let cells = if measured == 1 { "cell" } else { "cells" };
        Some(format!(
            "warning: other processes kept more than {BUSY_LIMIT} of the {} cores busy while {marked} \
             of {measured} {cells} ran (medians marked ~){avg}{}: those times and speedups are pessimistic and \
             noisy; re-run on a quiet machine",
            self.config.usable_cores,
            if self.busy_cores_before.is_some_and(|b| b > BUSY_LIMIT) {
                ", and just before it started"
            } else {
                ""
            }
        ))
    }

    /// Assembles the report of `cells` (raw measurements in grid order): derives their
    /// numbers and the verdicts.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        config: &Config,
        mut cells: Vec<CellResult>,
        peaks: Option<Peaks>,
        peaks_source: &str,
        machine: MachineInfo,
        cores: usize,
        started_unix: u64,
        wall_seconds: f64,
    ) -> Report {
        derive(&mut cells, peaks.as_ref(), cores);
        let verdicts = verdicts(&cells);
        let oversubscription = oversubscription(&cells, cores);
        let sel = &config.selection;
        Report {
            schema: SCHEMA.to_string(),
            parla_version: env!("CARGO_PKG_VERSION").to_string(),
            started_unix,
            wall_seconds,
            busy_cores_before: None,
            busy_cores_during: None,
            config: ConfigEcho {
                ops: sel
                    .ops
                    .iter()
                    .map(|o| OpEcho {
                        name: o.spec.name.to_string(),
                        summary: o.spec.summary.to_string(),
                        bound: o.spec.bound,
                        unit: o.spec.bound.unit().to_string(),
                        dtypes: o.dtypes.clone(),
                        sizes: o.sizes.clone(),
                    })
                    .collect(),
                engines: sel.engines.clone(),
                threads: sel.threads.clone(),
                usable_cores: cores,
                seed: config.seed,
                quick: config.quick,
                timing: config.timing,
            },
            machine,
            peaks,
            peaks_source: peaks_source.to_string(),
            cells,
            verdicts,
            oversubscription,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::compare::grid::Cell;
    use crate::compare::registry;
    use crate::compare::run::Status;
    use crate::compare::stats::Summary;
    use crate::peak::Ceiling;

    /// A measured (or, with `median = None`, unsupported) gemm cell at n = 100.
    fn cell(engine: Engine, threads: usize, median: Option<f64>) -> CellResult {
        let spec = registry::find("gemm").unwrap();
        let c = Cell {
            op: "gemm",
            dtype: Dtype::F64,
            size: 100,
            engine,
            threads,
        };
        let mut r = CellResult::new(&c, spec, 2);
        match median {
            Some(m) => {
                r.status = Status::Ok;
                r.time = Summary::of(&[m * 0.99, m, m * 1.01]);
            }
            None => r.status = Status::Unsupported,
        }
        r
    }

    fn peaks() -> Peaks {
        let fma = |threads, value| Ceiling {
            kernel: "fma".into(),
            dtype: "float64".into(),
            isa: "avx2+fma".into(),
            threads,
            value,
            unit: "GFLOP/s".into(),
        };
        Peaks {
            machine: "test".into(),
            isa: "avx2+fma".into(),
            ceilings: vec![fma(1, 10.0), fma(2, 20.0)],
            measured_at: 0,
            others_busy: None,
        }
    }

    fn cells() -> Vec<CellResult> {
        vec![
            cell(Engine::Blas, 1, Some(2e-3)),
            cell(Engine::Blas, 2, Some(1e-3)),
            cell(Engine::Blas, 3, Some(1.5e-3)),
            cell(Engine::Rayon, 1, Some(1.8e-3)),
            cell(Engine::Rayon, 2, Some(0.9e-3)),
            cell(Engine::Rayon, 3, Some(0.9e-3)),
            cell(Engine::RayonBlas, 1, None),
            cell(Engine::RayonBlas, 2, None),
            cell(Engine::RayonBlas, 3, None),
        ]
    }

    #[test]
    fn derived_numbers() {
        let mut cs = cells();
        derive(&mut cs, Some(&peaks()), 2);
        let get = |e, t| cs.iter().find(|c| c.engine == e && c.threads == t).unwrap();
        // 2·100³ flops in 2 ms: 1 GFLOP/s; the 1-thread ceiling is 10.
        let b1 = get(Engine::Blas, 1);
        assert!((b1.gflops.unwrap() - 1.0).abs() < 1e-12);
        assert_eq!(b1.rate, b1.gflops);
        assert!((b1.peak_fraction.unwrap() - 0.1).abs() < 1e-12);
        assert_eq!((b1.speedup, b1.efficiency), (Some(1.0), Some(1.0)));
        let b2 = get(Engine::Blas, 2);
        assert_eq!(
            (b2.speedup, b2.efficiency, b2.peak),
            (Some(2.0), Some(1.0), Some(20.0))
        );
        // Oversubscribed: efficiency per core used, ceiling of the 2 cores.
        let b3 = get(Engine::Blas, 3);
        let s3 = 2.0 / 1.5;
        assert!((b3.speedup.unwrap() - s3).abs() < 1e-12);
        assert!((b3.efficiency.unwrap() - s3 / 2.0).abs() < 1e-12);
        assert_eq!(b3.peak, Some(20.0));
        let na = get(Engine::RayonBlas, 2);
        assert!(na.rate.is_none() && na.speedup.is_none() && na.peak.is_none());
        // No peaks: no fractions, the rest is still derived.
        let mut cs = cells();
        derive(&mut cs, None, 2);
        assert!(cs[1].peak_fraction.is_none() && cs[1].speedup == Some(2.0));
    }

    #[test]
    fn verdict_and_oversubscription() {
        let mut cs = cells();
        derive(&mut cs, Some(&peaks()), 2);
        let v = verdicts(&cs);
        assert_eq!(v.len(), 1);
        let v = &v[0];
        assert_eq!((v.winner.engine, v.winner.threads), (Engine::Rayon, 2));
        let r = v.runner_up.unwrap();
        assert_eq!((r.engine, r.threads), (Engine::Blas, 2));
        assert!((v.margin.unwrap() - 1.0 / 0.9).abs() < 1e-12);
        // 11 % apart with 1 % spreads: not noise.
        assert!(!v.within_noise);
        assert_eq!(v.unsupported, [Engine::RayonBlas]);
        assert_eq!(v.next_threads.map(|p| p.threads), Some(3));
        let o = oversubscription(&cs, 2);
        let blas = o.iter().find(|o| o.engine == Engine::Blas).unwrap();
        assert!((blas.slowdown - 1.5).abs() < 1e-12);
        assert!(o.iter().all(|o| o.engine != Engine::RayonBlas));
        assert!(v.auto.is_none());
    }

    #[test]
    fn auto_is_scored_against_the_fixed_cells_not_one_of_them() {
        let mut cs = cells();
        let verified = |mut c: CellResult, t| {
            c.verified = Some(crate::compare::run::Verified {
                planned_engine: Engine::Rayon,
                planned_threads: t,
                openblas_threads: None,
                pool_threads: Some(t),
            });
            c
        };
        // auto faster than every fixed cell (noise) must not become the winner.
        cs.push(verified(cell(Engine::Auto, 1, Some(1.8e-3)), 1));
        cs.push(verified(cell(Engine::Auto, 2, Some(0.8e-3)), 2));
        // An oversubscribed fixed cell faster than all (a quirk or noise) wins the verdict but
        // is not what auto is scored against.
        cs[5].time = Some(Summary::of(&[0.5e-3]).unwrap());
        let mut over = verified(cell(Engine::Auto, 3, Some(0.1e-3)), 2);
        over.oversubscribed = true;
        cs.push(over);
        derive(&mut cs, None, 2);
        let v = &verdicts(&cs)[0];
        assert_eq!((v.winner.engine, v.winner.threads), (Engine::Rayon, 3));
        let a = v.auto.unwrap();
        // The usable-cores cell (2 threads), not the oversubscribed one.
        assert_eq!((a.budget, a.engine, a.threads), (2, Engine::Rayon, 2));
        // Against the best cell with at most 2 threads (rayon 2t, 0.9 ms), not the 3-thread one.
        assert!((a.of_best - 0.9 / 0.8).abs() < 1e-12);
        // Its plan is the fixed rayon 2t cell.
        assert!((a.same_plan.unwrap() - 0.9 / 0.8).abs() < 1e-12);
        assert!(v.best_per_engine.iter().all(|p| p.engine != Engine::Auto));
    }

    /// A report of `cells()` on a 2-core machine.
    pub(crate) fn sample_report() -> Report {
        use crate::compare::grid::{self, GridRequest};
        use crate::compare::timing::Timing;
        let selection = GridRequest {
            ops: Some(grid::parse_ops("gemm").unwrap()),
            sizes: vec![grid::parse_sizes("100").unwrap()],
            dtypes: Some(vec![Dtype::F64]),
            ..Default::default()
        }
        .resolve(2, 0)
        .unwrap();
        let config = Config {
            selection,
            timing: Timing::QUICK,
            seed: 1,
            quick: true,
        };
        let mut cs = cells();
        cs[4].backward_error = Some(0.25);
        cs[4].bit_identical = Some(true);
        cs[5].backward_error = Some(250.0);
        cs[1].others_busy = Some(1.0);
        cs[2].others_busy = Some(0.1);
        Report::new(
            &config,
            cs,
            Some(peaks()),
            "test",
            MachineInfo::collect(),
            2,
            0,
            1.0,
        )
    }

    #[test]
    fn table_rows_collapse_unsupported_cells_and_mark_oversubscription() {
        let r = sample_report();
        let rows = crate::compare::table::rows(&r);
        // 6 measured cells + one n/a row for rayon-blas.
        assert_eq!(rows.len(), 7);
        let na: Vec<_> = rows.iter().filter(|r| r[5] == "n/a").collect();
        assert_eq!(na.len(), 1);
        assert_eq!(
            (na[0][3].as_str(), na[0][4].as_str()),
            ("rayon-blas", "1-3")
        );
        let three: Vec<_> = rows.iter().filter(|r| r[4] == "3*").collect();
        assert_eq!(three.len(), 2);
        let rayon2 = rows
            .iter()
            .find(|r| r[3] == "rayon" && r[4] == "2")
            .unwrap();
        assert_eq!(rayon2[11], "0.250 =ref");
        assert_eq!(rayon2[8], "2.00×");
        let rayon3 = rows
            .iter()
            .find(|r| r[3] == "rayon" && r[4] == "3*")
            .unwrap();
        assert_eq!(rayon3[11], "250 !");
        let text = crate::compare::table::render_table(&r);
        assert_eq!(text.lines().count(), 1 + 7);
        let verdict = crate::compare::table::render_verdicts(&r);
        assert!(verdict.contains("rayon 2t") && verdict.contains("faster than blas 2t"));
        assert!(verdict.contains("[n/a: rayon-blas]"));
    }
}
