//! `parla`: the command-line front end. Thin: parses arguments, calls the library, prints.
//!
//! Output goes through [`out`]: when the reader of stdout goes away (`parla peak | head -1`)
//! the program ends quietly with status 0, as Unix tools do, instead of panicking.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Dense linear algebra on ndarray: OpenBLAS threads vs hand-chunked rayon work.
#[derive(Parser, Debug)]
#[command(name = "parla", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Describe this machine: CPU, cores, SIMD, caches, memory, BLAS, threads, environment.
    Info {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Measure the machine's ceilings: FMA throughput (f32, f64) and memory bandwidth (copy,
    /// triad, in-place update) for 1..cores threads. Cached per machine; --fresh re-measures.
    Peak {
        /// Measure again even if this machine's peaks are cached.
        #[arg(long)]
        fresh: bool,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Short runs (rougher numbers, about a second); not written to the cache.
        #[arg(long)]
        quick: bool,
    },
    /// The main job: time every operation on every engine (blas, rayon-blas, rayon) at several
    /// sizes and thread counts, against the machine's peaks, and say which wins where.
    ///
    /// Prints a table on stdout (a progress bar on stderr). Engines that do not implement an
    /// operation show as n/a. Bad options exit with status 2.
    Compare(Box<CompareArgs>),
    /// Measure which engine and thread count is fastest here for each operation family, shape
    /// and size, and write the tuning profile `auto` reads (`parla info` shows where). Every
    /// candidate is timed in the same interleaved rounds. Under 90 s on 2 cores; --quick under
    /// 20 s (--verbose prints where the time goes).
    Tune {
        /// Fewer sizes and rounds (under 20 s on 2 cores).
        #[arg(long)]
        quick: bool,
        /// Print the profile in use as a table of crossovers; measure nothing.
        #[arg(long)]
        show: bool,
        /// Write here instead of PARLA_TUNE_FILE or the cache directory.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Write the profile even when other processes kept cores busy while it was measured
        /// (by default it is then not written: its choices would be wrong on a quiet machine).
        #[arg(long)]
        force: bool,
        /// After each item, print to stderr how it was measured: its label, the candidates
        /// timed, the rounds, how many close candidates were measured again, and its wall
        /// seconds (where a run's time goes).
        #[arg(long, short)]
        verbose: bool,
    },
    /// Distributed (MPI): ranks × threads per rank for one operation and size, side by side —
    /// time, GFLOP/s, bytes sent per rank, peak memory per rank and in total; `--model`
    /// predicts 4–64 nodes. Launches `mpirun` itself (or run it under mpirun with --worker).
    #[cfg(feature = "dist")]
    DistBench(Box<DistBenchArgs>),
}

/// Options of `parla dist-bench`.
#[cfg(feature = "dist")]
#[derive(clap::Args, Debug)]
struct DistBenchArgs {
    /// gemm (parla's SUMMA), pdgemm, solve (pdgesv, 8 right-hand sides) or cholesky (pdpotrf);
    /// the last three need feature `scalapack`.
    #[arg(long, default_value = "gemm")]
    op: String,
    /// Order of the matrices.
    #[arg(long, default_value_t = 2048)]
    n: usize,
    /// Block size of the 2-D block-cyclic layout.
    #[arg(long, default_value_t = 64)]
    nb: usize,
    /// Engine of SUMMA's local products: auto, blas, rayon-blas, rayon.
    #[arg(long, default_value = "rayon")]
    engine: String,
    /// RANKSxTHREADS combinations, comma-separated.
    #[arg(long, default_value = "1x2,2x1,4x1")]
    combos: String,
    /// Timed repetitions per combination (the best counts).
    #[arg(long, default_value_t = 3)]
    repeat: usize,
    /// Seconds before a job is killed.
    #[arg(long, default_value_t = 300)]
    timeout: u64,
    /// Also measure a ping-pong and print the communication-volume model for 4-64 nodes.
    #[arg(long)]
    model: bool,
    /// Measure this job only (run under mpirun): prints rank 0's result line.
    #[arg(long)]
    worker: bool,
    /// Threads per rank (with --worker).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Measure a ping-pong between ranks 0 and 1 (with --worker).
    #[arg(long)]
    pingpong: bool,
}

/// Options of `parla compare` (lists are comma-separated).
#[derive(clap::Args, Debug)]
struct CompareArgs {
    /// Operations: gemm, gemv, axpy, row_norms, col_norms, cholesky, solve, qr, eigh, svd,
    /// batch_gemm, batch_solve, or all [default: all].
    #[arg(long, value_name = "LIST")]
    ops: Option<String>,
    /// Sizes n for every selected operation (`512,1024`, `1e6`), or `OP:LIST` for one
    /// operation; repeatable [default: per operation, see README].
    #[arg(long, value_name = "[OP:]LIST")]
    sizes: Vec<String>,
    /// Thread counts: `1,2,4` or `1-4` [default: 1 to the usable cores, plus cores+1].
    #[arg(long, value_name = "LIST")]
    threads: Option<String>,
    /// Engines: blas, rayon-blas, rayon, auto, or all (the four) [default: all].
    /// `auto` is scored against the fastest fixed engine in the verdict.
    #[arg(long, value_name = "LIST")]
    engines: Option<String>,
    /// Element types: f32, f64 or both [default: both for gemm, f64 for the others].
    #[arg(long, value_name = "LIST")]
    dtype: Option<String>,
    /// Minimum timed samples per cell [default: 7; 3 with --quick].
    #[arg(long, value_name = "N")]
    repeat: Option<usize>,
    /// Minimum seconds of timed samples per cell [default: 0.4; 0.05 with --quick].
    #[arg(long, value_name = "SECONDS")]
    min_time: Option<f64>,
    /// Seed of the random inputs [default: 42].
    #[arg(long)]
    seed: Option<u64>,
    /// Small sizes and short timing: a first look in under a minute.
    #[arg(long)]
    quick: bool,
    /// Write every cell as CSV to FILE; `-` writes it to stdout (the table then goes to
    /// stderr). FILE's directory must exist.
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
    /// Write the whole report (machine, peaks, cells, verdicts) as JSON to FILE; `-` writes it
    /// to stdout (the table then goes to stderr). FILE's directory must exist.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write SVG plots, report.html, results.csv and results.json into DIR (created if
    /// missing; its parent must exist).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

/// Writes `text` to stdout. A closed pipe ends the program quietly with status 0 (the reader
/// has all it wanted); any other write error ends it with status 1 and a message.
fn out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        let _ = writeln!(std::io::stderr(), "parla: cannot write to stdout: {e}");
        std::process::exit(1);
    }
}

/// Writes `text` to stderr; errors there (nobody to tell) are ignored.
fn err(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// `println!` through [`out`].
macro_rules! outln {
    ($($arg:tt)*) => { out(&format!("{}\n", format_args!($($arg)*))) };
}

/// `eprintln!` through [`err`].
macro_rules! errln {
    ($($arg:tt)*) => { err(&format!("{}\n", format_args!($($arg)*))) };
}

/// An error of `parla <command>` without the operation name the library puts first when it
/// is the command's own (`compare: invalid argument …` → `invalid argument …`).
fn message(command: &str, e: &dyn std::fmt::Display) -> String {
    let text = e.to_string();
    match text
        .strip_prefix(command)
        .and_then(|t| t.strip_prefix(": "))
    {
        Some(rest) => rest.to_string(),
        None => text,
    }
}

/// `n` and the noun, plural unless `n` is 1: `1 cell`, `3 cells`.
fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Info { json } => {
            let info = parla::info::MachineInfo::collect();
            if json {
                match serde_json::to_string_pretty(&info) {
                    Ok(s) => outln!("{s}"),
                    Err(e) => {
                        errln!("parla info: cannot encode the report as JSON: {e}");
                        return ExitCode::FAILURE;
                    }
                }
            } else {
                out(&info.render());
            }
            ExitCode::SUCCESS
        }
        Command::Peak { fresh, json, quick } => peak(fresh, json, quick),
        Command::Compare(args) => compare(*args),
        Command::Tune {
            quick,
            show,
            out,
            force,
            verbose,
        } => tune(quick, show, out, force, verbose),
        #[cfg(feature = "dist")]
        Command::DistBench(args) => dist_bench(*args),
    }
}

#[cfg(feature = "dist")]
fn dist_bench(args: DistBenchArgs) -> ExitCode {
    use parla_cli::dist_bench as db;
    let bad = |e: String| {
        eprintln!("parla dist-bench: {e}");
        ExitCode::from(2)
    };
    let op = match args.op.parse::<db::Op>() {
        Ok(op) => op,
        Err(e) => return bad(e),
    };
    let engine = match args.engine.parse::<parla::Engine>() {
        Ok(e) => e,
        Err(e) => return bad(e.to_string()),
    };
    let worker = db::WorkerArgs {
        op,
        n: args.n,
        nb: args.nb,
        engine,
        threads: args.threads,
        repeat: args.repeat,
        pingpong: args.pingpong,
    };
    if args.worker {
        return match db::worker(&worker) {
            Ok(Some(r)) => match serde_json::to_string(&r) {
                Ok(line) => {
                    println!("{}{line}", db::RESULT_PREFIX);
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("parla dist-bench: {e}");
                    ExitCode::FAILURE
                }
            },
            Ok(None) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("parla dist-bench: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let combos = match db::parse_combos(&args.combos) {
        Ok(c) => c,
        Err(e) => return bad(e),
    };
    let launch = db::LaunchArgs {
        worker,
        combos,
        timeout: args.timeout,
        model: args.model,
    };
    let load = || {
        std::fs::read_to_string("/proc/loadavg")
            .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .unwrap_or_default()
    };
    let before = load();
    match db::launch(&launch) {
        Ok(results) => {
            println!(
                "load average (1/5/15 min) before: {before}, after: {}",
                load()
            );
            print!("{}", db::render(&results));
            if args.model {
                print!("{}", db::render_model(&results));
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("parla dist-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Bad options: the message and exit status 2 (as clap does for its own parse errors).
fn usage_error(e: impl std::fmt::Display) -> ExitCode {
    errln!("parla compare: {}", message("compare", &e));
    ExitCode::from(2)
}

fn compare_request(args: &CompareArgs) -> Result<parla_cli::compare::Request, parla::Error> {
    use parla_cli::compare::grid;
    Ok(parla_cli::compare::Request {
        grid: grid::GridRequest {
            ops: args.ops.as_deref().map(grid::parse_ops).transpose()?,
            dtypes: args.dtype.as_deref().map(grid::parse_dtypes).transpose()?,
            sizes: args
                .sizes
                .iter()
                .map(|s| grid::parse_sizes(s))
                .collect::<Result<_, _>>()?,
            engines: args
                .engines
                .as_deref()
                .map(grid::parse_engines)
                .transpose()?,
            threads: args
                .threads
                .as_deref()
                .map(grid::parse_threads)
                .transpose()?,
            quick: args.quick,
        },
        repeat: args.repeat,
        min_time: args.min_time,
        seed: args.seed,
    })
}

fn compare(args: CompareArgs) -> ExitCode {
    use parla_cli::compare;
    let request = match compare_request(&args) {
        Ok(r) => r,
        Err(e) => return usage_error(e),
    };
    let outputs = compare::Outputs {
        csv: args.csv,
        json: args.json,
        dir: args.out,
    };
    // Before anything runs: a bad path would otherwise be reported after the whole run.
    if let Err(e) = outputs.check() {
        return usage_error(e);
    }
    let cores = parla::threads::usable_cores();
    let available = parla::info::MachineInfo::collect().memory.available_bytes;
    let config = match request.config(cores, available) {
        Ok(c) => c,
        Err(e) => return usage_error(e),
    };
    let total = config.selection.cells().len();
    errln!(
        "parla compare: {} ({}, engines {}, threads {:?}){}",
        count(total, "cell"),
        count(config.selection.ops.len(), "operation"),
        config
            .selection
            .engines
            .iter()
            .map(|e| e.name())
            .collect::<Vec<_>>()
            .join(","),
        config.selection.threads,
        if config.quick { ", --quick" } else { "" }
    );
    let (peaks, source) = match compare::peaks(config.quick) {
        Ok(p) => p,
        Err(e) => {
            errln!(
                "parla compare: cannot measure the peaks ({}); %peak stays empty",
                message("compare", &e)
            );
            (None, "none")
        }
    };
    let bar = indicatif::ProgressBar::new(total as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{elapsed_precise} [{bar:25}] {pos}/{len} cells  {wide_msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let result = compare::run(&config, peaks, source, &mut |p| {
        bar.set_position(p.done as u64);
        bar.set_message(p.label.clone());
    });
    bar.finish_and_clear();
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            errln!("parla compare: {}", message("compare", &e));
            return ExitCode::FAILURE;
        }
    };
    // With `--csv -` or `--json -` stdout carries that document alone; the table goes to
    // stderr.
    let table_out: fn(&str) = if outputs.uses_stdout() { err } else { out };
    let m = &report.machine;
    let mut text = format!(
        "parla compare — {} ({} usable cores), OpenBLAS {} {}; peaks: {}\n\n",
        m.cpu.model, m.cpu.usable_cores, m.blas.version, m.blas.corename, report.peaks_source
    );
    if let Some(w) = report.busy_warning() {
        text.push_str(&format!("{w}\n\n"));
    }
    text.push_str(&compare::table::render_table(&report));
    text.push('\n');
    text.push_str(&compare::table::legend(&report));
    text.push('\n');
    text.push_str(&compare::table::render_verdicts(&report));
    text.push_str(&format!("\nfinished in {:.0} s\n", report.wall_seconds));
    table_out(&text);
    if let Some(w) = report.busy_warning() {
        errln!("parla compare: {w}");
    }
    let written = compare::stdout_document(&report, &outputs).and_then(|doc| {
        if let Some(doc) = doc {
            out(&doc);
        }
        compare::write_outputs(&report, &outputs)
    });
    match written {
        Ok(files) => {
            for f in files {
                errln!("wrote {}", f.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            errln!("parla compare: {}", message("compare", &e));
            ExitCode::FAILURE
        }
    }
}

fn tune(
    quick: bool,
    show: bool,
    out_file: Option<PathBuf>,
    force: bool,
    verbose: bool,
) -> ExitCode {
    use parla::tuning;
    use parla_cli::tune;
    let path = match out_file.map_or_else(tuning::profile_path, Ok) {
        Ok(p) => p,
        Err(e) => {
            errln!("parla tune: {}", message("tune", &e));
            return ExitCode::from(2);
        }
    };
    if show {
        return match tuning::load(&path) {
            (tuning::ProfileStatus::InUse { .. }, Some(p)) => {
                out(&tune::show(&p));
                outln!("\n(profile {})", path.display());
                ExitCode::SUCCESS
            }
            (status, _) => {
                errln!("parla tune: {}", status.describe());
                ExitCode::FAILURE
            }
        };
    }
    let preset = if quick {
        tune::Preset::Quick
    } else {
        tune::Preset::Default
    };
    let cores = parla::threads::usable_cores();
    let list = tune::items(preset);
    errln!(
        "parla tune: {} items x {} candidates ({} preset, {cores} usable cores)",
        list.len(),
        tune::candidates(cores).len(),
        preset.name()
    );
    let bar = indicatif::ProgressBar::new(list.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{elapsed_precise} [{bar:25}] {pos}/{len}  {wide_msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let start = std::time::Instant::now();
    let result = tune::run(preset, cores, &mut |p| {
        if let (true, Some(t)) = (verbose, p.finished) {
            bar.suspend(|| errln!("parla tune: {}", t.line()));
        }
        bar.set_length(p.total as u64);
        bar.set_position(p.done as u64);
        bar.set_message(p.label.to_string());
    });
    bar.finish_and_clear();
    let (profile, notes) = match result {
        Ok(r) => r,
        Err(e) => {
            errln!("parla tune: {}", message("tune", &e));
            return ExitCode::FAILURE;
        }
    };
    for n in &notes {
        errln!("parla tune: {n}");
    }
    out(&tune::show(&profile));
    outln!("\nmeasured in {:.0} s", start.elapsed().as_secs_f64());
    let busy = profile.busy_cores.unwrap_or(0.0);
    if busy > parla_cli::compare::load::BUSY_LIMIT && !force {
        errln!(
            "parla tune: other processes kept {busy:.2} cores busy while this ran: the choices \
             above are wrong for a quiet machine, so the profile was NOT written. Run again on a \
             quiet machine, or pass --force to write it anyway."
        );
        return ExitCode::FAILURE;
    }
    match profile.save(&path) {
        Ok(()) => {
            errln!(
                "wrote {} (auto reads it from the next process on; `parla tune --show` prints it)",
                path.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            errln!("parla tune: {}", message("tune", &e));
            ExitCode::FAILURE
        }
    }
}

fn peak(fresh: bool, json: bool, quick: bool) -> ExitCode {
    use parla_cli::peak;
    let result = if quick {
        peak::measure(parla::threads::usable_cores(), peak::Budget::QUICK).map(|p| (p, false))
    } else {
        peak::cached_or_measure(fresh, peak::Budget::default())
    };
    let (peaks, cached) = match result {
        Ok(r) => r,
        Err(e) => {
            errln!("parla peak: {}", message("peak", &e));
            return ExitCode::FAILURE;
        }
    };
    if json {
        let doc = serde_json::json!({ "cached": cached, "cache_file": peak::cache_path(), "peaks": peaks });
        match serde_json::to_string_pretty(&doc) {
            Ok(s) => outln!("{s}"),
            Err(e) => {
                errln!("parla peak: cannot encode JSON: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        out(&peaks.render());
        let origin = if cached {
            "from the cache"
        } else {
            "measured now"
        };
        outln!(
            "\n({origin}: {}; `parla peak --fresh` re-measures)",
            peak::cache_path().display()
        );
        if peaks.busy() {
            errln!(
                "parla peak: other processes kept {:.2} cores busy while this measured: these \
                 peaks are too low and were NOT cached; measure again on a quiet machine",
                peaks.others_busy.unwrap_or(0.0)
            );
        }
    }
    ExitCode::SUCCESS
}
