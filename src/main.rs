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
    }
}
