//! `parla compare`: how to spend the cores — OpenBLAS's threads (`blas`), rayon over blocks
//! with single-threaded OpenBLAS (`rayon-blas`), or rayon over parla's own kernels (`rayon`) —
//! measured on this machine, per operation, size and thread count, against what the machine
//! can do ([`peak`]).
//!
//! # Pipeline
//! 1. [`grid`]: operations × element types × sizes × engines × thread counts, parsed from the
//!    command line's words and checked (bad values are [`Error::InvalidArgument`] /
//!    [`Error::TooLarge`] before anything runs);
//! 2. [`registry`]: what each operation is (flop and byte counts, default sizes, its
//!    [`cases`] — seeded inputs, the timed call, the accuracy check);
//! 3. [`run`](mod@run): per group of cells sharing inputs, the reference (the `blas` engine at 1
//!    thread), then per cell: [`Exec::plan`](parla::Exec::plan) (an engine without the
//!    operation gives an `unsupported` cell, shown `n/a`), thread verification, one checked
//!    call, warm-up and timed repeats ([`timing`]);
//! 4. [`report`]: [`stats`] per cell, rates, speedup over the same engine at 1 thread,
//!    efficiency, fraction of the measured peak, verdicts; shown by [`table`] (with [`units`]),
//!    written by [`export`] (CSV, JSON), [`plot`] (SVG) and [`html`] (`report.html`).
//!
//! ```no_run
//! use parla_cli::compare::{self, grid::GridRequest, Request};
//!
//! let request = Request { grid: GridRequest { quick: true, ..Default::default() }, ..Default::default() };
//! let config = request.config(parla::threads::usable_cores(), 0)?;
//! let (peaks, source) = compare::peaks(true)?;
//! let report = compare::run(&config, peaks, source, &mut |_| {})?;
//! print!("{}", compare::table::render_table(&report));
//! # Ok::<(), parla::Error>(())
//! ```
//!
//! # JSON schema (`--json FILE`, `schema: "parla-compare/1"`)
//! The document is a [`Report`]:
//!
//! | field | meaning |
//! |---|---|
//! | `schema` | `"parla-compare/1"` |
//! | `parla_version`, `started_unix`, `wall_seconds` | the run |
//! | `busy_cores_before`, `busy_cores_during` | cores other processes kept busy just before the run and, on average, during it (`null` where unknown; see [`load`]); above 0.5 the table starts with a warning |
//! | `config` | `ops` (each `name`, `summary`, `bound` = `compute`\|`memory`, `unit`, `dtypes`, `sizes`), `engines`, `threads`, `usable_cores`, `seed`, `quick`, `timing` (`warmup_seconds`, `min_seconds`, `min_repeats`, `max_repeats`) |
//! | `machine` | exactly `parla info --json` |
//! | `peaks`, `peaks_source` | `parla peak --json`'s `peaks` (`machine`, `isa`, `ceilings[]` of `kernel`, `dtype`, `isa`, `threads`, `value`, `unit`); source `cache`, `measured` or `quick`; `null` when unavailable |
//! | `cells[]` | one per grid cell, in run order: see below |
//! | `verdicts[]` | per `op`, `dtype`, `size`: `winner`, `runner_up` (best other engine), `next_threads` (winner engine, other thread count) — each `{engine, threads, median, rate, relative_iqr}` —, `margin` = runner-up median / winner median, `within_noise`, `unsupported` engines, `best_per_engine[]` |
//! | `oversubscription[]` | per `op`, `dtype`, `engine` at the largest size: `slowdown` = median at cores+1 threads / median at `cores` |
//!
//! A cell: `op`, `dtype` (`float32`\|`float64`), `size`, `engine` (`blas`\|`rayon-blas`\|
//! `rayon`\|`auto`), `threads`, `oversubscribed`, `status` (`ok`\|`unsupported`\|`error`),
//! `message`, `bound`, `unit`, `flops` and `bytes` (nominal, per call), `time` (seconds per
//! call: `samples`, `median`, `min`, `max`, `q1`, `q3`), `batch` (calls per sample), `gflops`,
//! `gbs`, `rate` (in `unit`), `speedup`, `efficiency`, `peak` (in `unit`), `peak_fraction`,
//! `backward_error` (ratio, see [`cases`]), `bit_identical`, `verified` (`planned_engine`,
//! `planned_threads`, `openblas_threads`, `pool_threads`), `others_busy` (cores other
//! processes kept busy while the cell ran; above 0.5 the table marks the median with `~`),
//! `retaken` (samples taken again because the hypervisor took CPU time while they ran, see
//! [`timing::MAX_RETAKES`]). Numbers that do not apply are
//! `null`. The CSV (`--csv FILE`) has the same cell fields flattened, columns
//! [`export::CSV_COLUMNS`].

pub mod cases;
pub mod export;
pub mod grid;
pub mod html;
pub mod load;

pub mod plot;
pub mod registry;
pub mod report;
pub mod run;
pub mod stats;
pub mod table;
pub mod timing;
pub mod units;

use std::path::{Path, PathBuf};
use std::time::Instant;

pub use report::Report;
pub use run::{CellResult, Config, Progress, Status};

use crate::peak;
use parla::{Error, Result};

/// A comparison as asked for on the command line; `None` fields take the preset's values.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// Operations, types, sizes, engines, threads, `--quick`.
    pub grid: grid::GridRequest,
    /// `--repeat`: minimum timed samples per cell.
    pub repeat: Option<usize>,
    /// `--min-time`: minimum seconds of timed samples per cell.
    pub min_time: Option<f64>,
    /// `--seed`: the input generator's seed (`None`: [`DEFAULT_SEED`]).
    pub seed: Option<u64>,
}

/// The default input seed.
pub const DEFAULT_SEED: u64 = 42;

impl Request {
    /// The resolved comparison on a machine with `cores` usable cores and `available_memory`
    /// bytes free (`0`: not checked).
    ///
    /// # Errors
    /// As [`grid::GridRequest::resolve`]; [`Error::InvalidArgument`] for `--repeat 0` or a
    /// negative or non-finite `--min-time`.
    pub fn config(&self, cores: usize, available_memory: u64) -> Result<Config> {
        let selection = self.grid.resolve(cores, available_memory)?;
        let mut timing = if self.grid.quick {
            timing::Timing::QUICK
        } else {
            timing::Timing::DEFAULT
        };
        if let Some(r) = self.repeat {
            if r == 0 {
                return Err(Error::InvalidArgument {
                    op: "compare",
                    name: "repeat",
                    reason: "must be at least 1".into(),
                });
            }
            timing.min_repeats = r;
        }
        if let Some(t) = self.min_time {
            if !(t.is_finite() && (0.0..=3600.0).contains(&t)) {
                return Err(Error::InvalidArgument {
                    op: "compare",
                    name: "min-time",
                    reason: format!("{t}: expected seconds between 0 and 3600"),
                });
            }
            timing.min_seconds = t;
        }
        Ok(Config {
            selection,
            timing,
            seed: self.seed.unwrap_or(DEFAULT_SEED),
            quick: self.grid.quick,
        })
    }
}

/// The ceilings for the `%peak` column, and where they came from: the cache (`"cache"`), or
/// a full measurement stored in the cache (`"measured"`, ~10 s); with `quick` and no cache, a
/// short measurement that is not stored (`"quick"`).
///
/// # Errors
/// As [`peak::measure`].
pub fn peaks(quick: bool) -> Result<(Option<peak::Peaks>, &'static str)> {
    if let Some(p) = peak::cached() {
        return Ok((Some(p), "cache"));
    }
    if quick {
        let p = peak::measure(parla::threads::usable_cores(), peak::Budget::QUICK)?;
        return Ok((Some(p), "quick"));
    }
    let (p, _) = peak::cached_or_measure(false, peak::Budget::default())?;
    let source = if p.busy() {
        "measured on a busy machine (too low, not cached)"
    } else {
        "measured"
    };
    Ok((Some(p), source))
}

/// Runs the comparison and assembles its report. `progress` is called before each cell.
///
/// # Errors
/// As [`run::run_cells`]; problems of single cells are recorded in the report instead.
pub fn run(
    config: &Config,
    peaks: Option<peak::Peaks>,
    peaks_source: &str,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Report> {
    let cores = parla::threads::usable_cores();
    let started_unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let before = load::busy_cores();
    let start = load::CpuSample::now();
    let t0 = Instant::now();
    let machine = parla::info::MachineInfo::collect();
    let cells = run::run_cells(config, cores, progress)?;
    let mut report = Report::new(
        config,
        cells,
        peaks,
        peaks_source,
        machine,
        cores,
        started_unix,
        t0.elapsed().as_secs_f64(),
    );
    report.busy_cores_before = before;
    report.busy_cores_during = start.and_then(|s| s.others_busy_since_then());
    Ok(report)
}

/// Where to write a report. A `csv` or `json` path of `-` means stdout (see
/// [`stdout_document`]); [`write_outputs`] writes the files.
#[derive(Debug, Clone, Default)]
pub struct Outputs {
    /// `--csv FILE`.
    pub csv: Option<PathBuf>,
    /// `--json FILE`.
    pub json: Option<PathBuf>,
    /// `--out DIR`: the SVG plots, `report.html`, `results.csv` and `results.json`.
    pub dir: Option<PathBuf>,
}

/// Whether `path` is `-`, which means stdout.
pub fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
}

fn bad_path(name: &'static str, path: &Path, why: &str) -> Error {
    Error::InvalidArgument {
        op: "compare",
        name,
        reason: format!("{}: {why}", path.display()),
    }
}

/// A file the report will be written to must be creatable: its directory exists (nothing is
/// created for it) and is writable, and the path is not a directory.
fn check_file(name: &'static str, path: &Path) -> Result<()> {
    if path.is_dir() {
        return Err(bad_path(name, path, "is a directory; expected a file name"));
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    check_dir(name, path, parent)
}

/// `dir` (the directory `path` goes into) exists, is a directory and is not read-only.
fn check_dir(name: &'static str, path: &Path, dir: &Path) -> Result<()> {
    match std::fs::metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(bad_path(
            name,
            path,
            &format!("directory {} does not exist", dir.display()),
        )),
        Err(e) => Err(bad_path(name, path, &e.to_string())),
        Ok(m) if !m.is_dir() => Err(bad_path(
            name,
            path,
            &format!("{} is not a directory", dir.display()),
        )),
        Ok(m) if m.permissions().readonly() => Err(bad_path(
            name,
            path,
            &format!("directory {} is read-only", dir.display()),
        )),
        Ok(_) => Ok(()),
    }
}

impl Outputs {
    /// Checks the paths before anything runs (so a typo does not cost a whole run), creating
    /// nothing: `--csv` / `--json` go into an existing directory, or to stdout (`-`, at most
    /// one of them); `--out` is an existing directory or a new one in an existing directory.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming the option and the path.
    pub fn check(&self) -> Result<()> {
        if let Some(p) = &self.csv {
            if !is_stdout(p) {
                check_file("csv", p)?;
            }
        }
        if let Some(p) = &self.json {
            if !is_stdout(p) {
                check_file("json", p)?;
            }
        }
        if let (Some(c), Some(j)) = (&self.csv, &self.json) {
            if is_stdout(c) && is_stdout(j) {
                return Err(Error::InvalidArgument {
                    op: "compare",
                    name: "csv/json",
                    reason: "only one of --csv and --json can be - (stdout)".into(),
                });
            }
        }
        if let Some(d) = &self.dir {
            if is_stdout(d) {
                return Err(bad_path("out", d, "expected a directory (- is not one)"));
            }
            if d.exists() {
                if !d.is_dir() {
                    return Err(bad_path("out", d, "exists and is not a directory"));
                }
                check_dir("out", d, d)?;
            } else {
                let parent = match d.parent() {
                    Some(p) if !p.as_os_str().is_empty() => p,
                    _ => Path::new("."),
                };
                check_dir("out", d, parent)?;
            }
        }
        Ok(())
    }

    /// Whether the CSV or the JSON goes to stdout.
    pub fn uses_stdout(&self) -> bool {
        [&self.csv, &self.json]
            .into_iter()
            .flatten()
            .any(|p| is_stdout(p))
    }
}

/// The document that goes to stdout (`--csv -` or `--json -`), if any.
///
/// # Errors
/// As [`export::to_json`].
pub fn stdout_document(report: &Report, outputs: &Outputs) -> Result<Option<String>> {
    if outputs.csv.as_deref().is_some_and(is_stdout) {
        return Ok(Some(export::to_csv(report)));
    }
    if outputs.json.as_deref().is_some_and(is_stdout) {
        return Ok(Some(export::to_json(report)?));
    }
    Ok(None)
}

/// Writes the report's files (not the `-` ones: see [`stdout_document`]); returns their
/// paths.
///
/// # Errors
/// [`Error::Io`] naming the file that could not be written.
pub fn write_outputs(report: &Report, outputs: &Outputs) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    let mut put = |path: &Path, text: &str| -> Result<()> {
        export::write(path, text)?;
        written.push(path.to_path_buf());
        Ok(())
    };
    let csv = export::to_csv(report);
    let json = export::to_json(report)?;
    if let Some(p) = outputs.csv.as_deref().filter(|p| !is_stdout(p)) {
        put(p, &csv)?;
    }
    if let Some(p) = outputs.json.as_deref().filter(|p| !is_stdout(p)) {
        put(p, &json)?;
    }
    if let Some(dir) = &outputs.dir {
        let plots = plot::plots(report)?;
        for p in &plots {
            put(&dir.join(&p.file), &p.svg)?;
        }
        put(&dir.join("report.html"), &html::render(report, &plots))?;
        put(&dir.join("results.csv"), &csv)?;
        put(&dir.join("results.json"), &json)?;
    }
    Ok(written)
}
