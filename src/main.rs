//! `parla`: the command-line front end. Thin: parses arguments, calls the library, prints.

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Info { json } => {
            let info = parla::info::MachineInfo::collect();
            if json {
                match serde_json::to_string_pretty(&info) {
                    Ok(s) => println!("{s}"),
                    Err(e) => {
                        eprintln!("parla: cannot encode the report as JSON: {e}");
                        return ExitCode::FAILURE;
                    }
                }
            } else {
                print!("{}", info.render());
            }
            ExitCode::SUCCESS
        }
        Command::Peak { fresh, json, quick } => peak(fresh, json, quick),
    }
}

fn peak(fresh: bool, json: bool, quick: bool) -> ExitCode {
    use parla::compare::peak;
    let result = if quick {
        let budget = peak::Budget {
            fma_seconds: 0.02,
            stream_bytes: 8 << 20,
            repeats: 2,
        };
        peak::measure(parla::threads::usable_cores(), budget).map(|p| (p, false))
    } else {
        peak::cached_or_measure(fresh, peak::Budget::default())
    };
    let (peaks, cached) = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("parla peak: {e}");
            return ExitCode::FAILURE;
        }
    };
    if json {
        let doc = serde_json::json!({ "cached": cached, "cache_file": peak::cache_path(), "peaks": peaks });
        match serde_json::to_string_pretty(&doc) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("parla peak: cannot encode JSON: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        print!("{}", peaks.render());
        let origin = if cached {
            "from the cache"
        } else {
            "measured now"
        };
        println!(
            "
({origin}: {}; `parla peak --fresh` re-measures)",
            peak::cache_path().display()
        );
    }
    ExitCode::SUCCESS
}
