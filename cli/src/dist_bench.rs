//! `parla dist-bench`: processes × threads, side by side (feature `dist`).
//!
//! Run plainly, it is a *launcher*: for each `RANKSxTHREADS` combination it starts
//! `timeout … mpirun -n RANKS parla dist-bench --worker …` with `THREADS` threads per rank,
//! collects rank 0's result line and prints one table — time, GFLOP/s, bytes sent per rank
//! (counted by parla), peak resident memory per rank (max) and over all ranks (sum). Run under
//! `mpirun` yourself (with `--worker`), it measures that one job. `--model` adds a ping-pong
//! between two ranks and the communication-volume model of [`parla::dist::model`] fitted to
//! the measured single-node rate, with predictions for 4–64 nodes on 10 GbE and 100 Gb/s.

use std::process::Command;
use std::str::FromStr;

use parla::dist::model::{self, Link, ModelOp};
use parla::dist::mpi::traits::*;
use parla::dist::{self, DistMatrix, Grid};
use parla::{Engine, Error, Exec};
use serde::{Deserialize, Serialize};

/// The operations `dist-bench` times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    /// parla's SUMMA (`dist::matmul`) with the chosen engine per rank.
    Gemm,
    /// ScaLAPACK's `pdgemm` (feature `scalapack`).
    Pdgemm,
    /// ScaLAPACK's `pdgesv`, 8 right-hand sides (feature `scalapack`).
    Solve,
    /// ScaLAPACK's `pdpotrf` (feature `scalapack`).
    Cholesky,
}

impl Op {
    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Op::Gemm => "gemm",
            Op::Pdgemm => "pdgemm",
            Op::Solve => "solve",
            Op::Cholesky => "cholesky",
        }
    }

    fn model(self) -> ModelOp {
        match self {
            Op::Gemm | Op::Pdgemm => ModelOp::Gemm,
            Op::Solve => ModelOp::Solve,
            Op::Cholesky => ModelOp::Cholesky,
        }
    }
}

impl FromStr for Op {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "gemm" => Ok(Op::Gemm),
            "pdgemm" => Ok(Op::Pdgemm),
            "solve" => Ok(Op::Solve),
            "cholesky" => Ok(Op::Cholesky),
            _ => Err(format!(
                "unknown op {s:?}; expected gemm, pdgemm, solve or cholesky"
            )),
        }
    }
}

/// One ranks × threads combination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Combo {
    /// MPI ranks.
    pub ranks: usize,
    /// Threads per rank.
    pub threads: usize,
}

/// Parses `1x2,2x1,4x1`.
///
/// # Errors
/// A message naming the bad entry.
pub fn parse_combos(s: &str) -> Result<Vec<Combo>, String> {
    s.split(',')
        .map(|c| {
            let (r, t) = c
                .trim()
                .split_once('x')
                .ok_or_else(|| format!("{c:?} is not RANKSxTHREADS (e.g. 2x1)"))?;
            let parse = |v: &str| {
                v.parse::<usize>()
                    .ok()
                    .filter(|&n| (1..=1024).contains(&n))
                    .ok_or_else(|| format!("{c:?}: {v:?} is not a count in 1..=1024"))
            };
            Ok(Combo {
                ranks: parse(r)?,
                threads: parse(t)?,
            })
        })
        .collect()
}

/// What one job measured (rank 0's view of all ranks).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobResult {
    /// The operation.
    pub op: Op,
    /// Order of the matrices.
    pub n: usize,
    /// Block size.
    pub nb: usize,
    /// Ranks.
    pub ranks: usize,
    /// Grid shape.
    pub grid: (usize, usize),
    /// Threads per rank.
    pub threads: usize,
    /// The engine of the local products (SUMMA only).
    pub engine: String,
    /// Best time over the repetitions, max over ranks, seconds.
    pub seconds: f64,
    /// Floating-point operations of one call.
    pub flops: f64,
    /// Bytes sent per rank in one call (max over ranks; `None`: not counted by parla).
    pub bytes_sent_max: Option<u64>,
    /// Bytes sent by all ranks in one call.
    pub bytes_sent_total: Option<u64>,
    /// Peak resident memory, max over ranks, bytes.
    pub rss_max: u64,
    /// Peak resident memory summed over ranks, bytes.
    pub rss_total: u64,
    /// Ping-pong latency (s) and bandwidth (B/s) between ranks 0 and 1, with `--model`.
    pub pingpong: Option<(f64, f64)>,
}

/// Options of one worker job.
#[derive(Debug, Clone)]
pub struct WorkerArgs {
    /// The operation.
    pub op: Op,
    /// Order.
    pub n: usize,
    /// Block size.
    pub nb: usize,
    /// Engine of SUMMA's local products.
    pub engine: Engine,
    /// Threads per rank.
    pub threads: usize,
    /// Timed repetitions (the best counts).
    pub repeat: usize,
    /// Also measure a ping-pong.
    pub pingpong: bool,
}

/// Peak resident set of this process (VmHWM), bytes.
pub fn peak_rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .map(|kib| kib * 1024)
        .unwrap_or(0)
}

/// A reproducible value in [-1, 1) for element (i, j) (splitmix64 of the index).
fn noise(i: usize, j: usize, seed: u64) -> f64 {
    let mut z = (i as u64)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add((j as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9))
        .wrapping_add(seed);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 52) as f64 - 1.0
}

/// Runs one job on every rank of the world (call under `mpirun`); rank 0 gets `Some(result)`.
///
/// # Errors
/// A parla error from building the grid or running the operation (the same on every rank).
pub fn worker(args: &WorkerArgs) -> Result<Option<JobResult>, Error> {
    let universe = dist::initialize()?;
    let world = universe.world();
    let grid = Grid::new(&world)?;
    let (n, nb) = (args.n, args.nb);
    let exec = Exec::new(args.engine, args.threads)?;
    let sym = |i: usize, j: usize| noise(i.min(j), i.max(j), 3);
    let a = match args.op {
        Op::Solve => DistMatrix::<f64>::from_fn(&grid, n, n, nb, |i, j| {
            noise(i, j, 1) + if i == j { n as f64 } else { 0.0 }
        })?,
        Op::Cholesky => DistMatrix::<f64>::from_fn(&grid, n, n, nb, |i, j| {
            sym(i, j) + if i == j { n as f64 } else { 0.0 }
        })?,
        _ => DistMatrix::<f64>::from_fn(&grid, n, n, nb, |i, j| noise(i, j, 1))?,
    };
    let b_cols = if args.op == Op::Solve { 8 } else { n };
    let b = DistMatrix::<f64>::from_fn(&grid, n, b_cols, nb, |i, j| noise(i, j, 2))?;
    let mut best = f64::INFINITY;
    let mut bytes = None;
    for _ in 0..args.repeat.max(1) {
        grid.comm().barrier();
        grid.reset_counters();
        let t = std::time::Instant::now();
        run_once(args.op, &exec, &a, &b)?;
        let local = t.elapsed().as_secs_f64();
        let slowest = grid.max_over_ranks(local);
        best = best.min(slowest);
        if matches!(args.op, Op::Gemm) {
            bytes = Some(grid.bytes_sent());
        }
    }
    let pingpong = if args.pingpong && grid.size() >= 2 {
        Some(ping_pong(&world))
    } else {
        None
    };
    let rss = peak_rss();
    let rss_total = grid.sum_over_ranks(rss);
    let rss_max = grid.max_over_ranks(rss as f64) as u64;
    let (bytes_max, bytes_total) = match bytes {
        Some(b) => (
            Some(grid.max_over_ranks(b as f64) as u64),
            Some(grid.sum_over_ranks(b)),
        ),
        None => (None, None),
    };
    let flops = args.op.model().flops(n as f64)
        + if args.op == Op::Solve {
            2.0 * (n * n * 8) as f64
        } else {
            0.0
        };
    let result = (grid.rank() == 0).then(|| JobResult {
        op: args.op,
        n,
        nb,
        ranks: grid.size(),
        grid: grid.shape(),
        threads: args.threads,
        engine: if args.op == Op::Gemm {
            args.engine.name().to_string()
        } else {
            "scalapack".to_string()
        },
        seconds: best,
        flops,
        bytes_sent_max: bytes_max,
        bytes_sent_total: bytes_total,
        rss_max,
        rss_total,
        pingpong,
    });
    drop(grid);
    Ok(result)
}

fn run_once(op: Op, exec: &Exec, a: &DistMatrix<f64>, b: &DistMatrix<f64>) -> Result<(), Error> {
    match op {
        Op::Gemm => dist::matmul(exec, a, b).map(|_| ()),
        #[cfg(feature = "scalapack")]
        Op::Pdgemm => {
            let (m, n) = (a.shape().0, b.shape().1);
            let mut c = DistMatrix::zeros(a.grid(), m, n, a.nb())?;
            dist::scalapack::gemm(1.0, a, b, 0.0, &mut c)
        }
        #[cfg(feature = "scalapack")]
        Op::Solve => dist::scalapack::solve(a, b).map(|_| ()),
        #[cfg(feature = "scalapack")]
        Op::Cholesky => dist::scalapack::cholesky(a).map(|_| ()),
        #[cfg(not(feature = "scalapack"))]
        _ => Err(Error::InvalidArgument {
            op: "dist-bench",
            name: "op",
            reason: format!("{} needs parla built with feature `scalapack`", op.name()),
        }),
    }
}

/// Latency (half round trip of 8 bytes) and bandwidth (8 MiB each way) between ranks 0 and 1.
fn ping_pong(world: &impl Communicator) -> (f64, f64) {
    let rank = world.rank();
    let mut lat = f64::NAN;
    let mut bw = f64::NAN;
    for (len, reps) in [(1usize, 2000usize), (1 << 20, 20)] {
        let mut buf = vec![0f64; len];
        world.barrier();
        let t = std::time::Instant::now();
        for _ in 0..reps {
            if rank == 0 {
                world.process_at_rank(1).send(&buf[..]);
                world.process_at_rank(1).receive_into(&mut buf[..]);
            } else if rank == 1 {
                world.process_at_rank(0).receive_into(&mut buf[..]);
                world.process_at_rank(0).send(&buf[..]);
            }
        }
        let half = t.elapsed().as_secs_f64() / (2 * reps) as f64;
        if len == 1 {
            lat = half;
        } else {
            bw = (len * 8) as f64 / (half - lat).max(1e-9);
        }
    }
    let mut out = [lat, bw];
    world.process_at_rank(0).broadcast_into(&mut out[..]);
    (out[0], out[1])
}

/// The launcher's options.
#[derive(Debug, Clone)]
pub struct LaunchArgs {
    /// Worker options (threads is replaced per combination).
    pub worker: WorkerArgs,
    /// The combinations.
    pub combos: Vec<Combo>,
    /// Seconds before a job is killed.
    pub timeout: u64,
    /// Print the model after the table.
    pub model: bool,
}

/// Starts one `mpirun` job per combination and prints the table (and the model).
///
/// # Errors
/// A message when a job fails or prints no result.
pub fn launch(args: &LaunchArgs) -> Result<Vec<JobResult>, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let mut results: Vec<JobResult> = Vec::new();
    for c in &args.combos {
        let w = &args.worker;
        // The ping-pong runs once, in the first job with two ranks or more.
        let pingpong = args.model && c.ranks >= 2 && results.iter().all(|r| r.pingpong.is_none());
        let mut cmd = Command::new("timeout");
        cmd.args(["-k", "5", &args.timeout.to_string(), "mpirun", "-n"])
            .arg(c.ranks.to_string())
            .arg(&exe)
            .args(["dist-bench", "--worker", "--op", w.op.name()])
            .args(["--n", &w.n.to_string(), "--nb", &w.nb.to_string()])
            .args([
                "--engine",
                w.engine.name(),
                "--repeat",
                &w.repeat.to_string(),
            ])
            .args(["--threads", &c.threads.to_string()]);
        if pingpong {
            cmd.arg("--pingpong");
        }
        for (k, v) in [
            ("OMPI_ALLOW_RUN_AS_ROOT", "1"),
            ("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1"),
            ("OMPI_MCA_rmaps_base_oversubscribe", "1"),
            ("OMPI_MCA_mpi_yield_when_idle", "1"),
            ("OMPI_MCA_hwloc_base_binding_policy", "none"),
        ] {
            if std::env::var_os(k).is_none() {
                cmd.env(k, v);
            }
        }
        let t = c.threads.to_string();
        cmd.env("OPENBLAS_NUM_THREADS", &t)
            .env("RAYON_NUM_THREADS", &t)
            .env("PARLA_NUM_THREADS", &t);
        eprintln!(
            "parla dist-bench: {} ranks x {} threads: {} n={} ...",
            c.ranks,
            c.threads,
            w.op.name(),
            w.n
        );
        let out = cmd
            .output()
            .map_err(|e| format!("cannot start timeout/mpirun: {e}"))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let line = stdout
            .lines()
            .find_map(|l| l.strip_prefix(RESULT_PREFIX))
            .ok_or_else(|| {
                format!(
                    "{}x{}: the job printed no result (status {:?}):\n{}{}",
                    c.ranks,
                    c.threads,
                    out.status.code(),
                    stdout,
                    String::from_utf8_lossy(&out.stderr)
                )
            })?;
        let r: JobResult =
            serde_json::from_str(line).map_err(|e| format!("bad result line: {e}"))?;
        results.push(r);
    }
    Ok(results)
}

/// The prefix of rank 0's machine-readable result line.
pub const RESULT_PREFIX: &str = "PARLA_DIST_RESULT ";

/// The table of results, one line per combination.
pub fn render(results: &[JobResult]) -> String {
    let mib = |b: u64| b as f64 / (1u64 << 20) as f64;
    let mut s = String::new();
    s.push_str(
        "ranks x thr  grid   engine       time (s)   GFLOP/s   sent/rank (MiB)  sent total (MiB)  RSS max (MiB)  RSS total (MiB)\n",
    );
    for r in results {
        let sent = |b: Option<u64>| b.map_or("-".to_string(), |b| format!("{:.1}", mib(b)));
        s.push_str(&format!(
            "{:>5} x {:<3}  {:<5}  {:<10}  {:>9.4}  {:>8.1}  {:>15}  {:>16}  {:>13.0}  {:>15.0}\n",
            r.ranks,
            r.threads,
            format!("{}x{}", r.grid.0, r.grid.1),
            r.engine,
            r.seconds,
            r.flops / r.seconds / 1e9,
            sent(r.bytes_sent_max),
            sent(r.bytes_sent_total),
            mib(r.rss_max),
            mib(r.rss_total),
        ));
    }
    s
}

/// The model, fitted to the results: the node rate `F` from the fastest single-rank job (or
/// the fastest job × ranks), the link from the ping-pong; predictions for 4–64 nodes.
pub fn render_model(results: &[JobResult]) -> String {
    let mut s = String::new();
    let Some(first) = results.first() else {
        return s;
    };
    let op = first.op.model();
    // One node's rate: the best single-rank job, else the best job's aggregate rate.
    let rate = results
        .iter()
        .filter(|r| r.ranks == 1)
        .map(|r| r.flops / r.seconds)
        .fold(0.0, f64::max);
    let rate = if rate > 0.0 {
        rate
    } else {
        results
            .iter()
            .map(|r| r.flops / r.seconds)
            .fold(0.0, f64::max)
    };
    s.push_str(&format!(
        "\nModel: T(P) = flops/(P·F) + words/rank·8/B + messages·α   ({}, n = {}, nb = {})\n",
        first.op.name(),
        first.n,
        first.nb
    ));
    s.push_str(&format!(
        "  F (one node, measured)  = {:.1} GFLOP/s\n",
        rate / 1e9
    ));
    let mut links: Vec<Link> = Vec::new();
    if let Some((lat, bw)) = results.iter().find_map(|r| r.pingpong) {
        s.push_str(&format!(
            "  ping-pong (this machine) = {:.2} µs latency, {:.2} GB/s\n",
            lat * 1e6,
            bw / 1e9
        ));
        links.push(Link {
            name: "measured",
            bandwidth: bw,
            latency: lat,
        });
        // How well the model with the measured link explains the measured multi-rank jobs.
        for r in results.iter().filter(|r| r.ranks > 1) {
            let p = model::predict(op, r.n, r.nb, 8, r.ranks, rate, &links[0], 1.0);
            s.push_str(&format!(
                "  check: {} ranks x {} threads measured {:.4} s, model with the measured link {:.4} s{}\n",
                r.ranks,
                r.threads,
                r.seconds,
                p.time,
                if r.ranks * r.threads > parla::threads::usable_cores() { " (oversubscribed)" } else { "" }
            ));
        }
    }
    links.push(model::ETHERNET_10G);
    links.push(model::FABRIC_100G);
    s.push_str("  nodes   link        predicted (s)  compute (s)  efficiency\n");
    for link in &links {
        for nodes in [4usize, 8, 16, 32, 64] {
            let p = model::predict(op, first.n, first.nb, 8, nodes, rate, link, 1.0);
            s.push_str(&format!(
                "  {:>5}   {:<10}  {:>13.4}  {:>11.4}  {:>9.0} %\n",
                nodes,
                link.name,
                p.time,
                p.compute,
                100.0 * p.efficiency
            ));
        }
    }
    s.push_str("  (one rank per node at the measured node rate; weak scaling keeps n²/P fixed, which this table does not)\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combos_parse() {
        assert_eq!(
            parse_combos("1x2, 2x1,4x1").unwrap(),
            vec![
                Combo {
                    ranks: 1,
                    threads: 2
                },
                Combo {
                    ranks: 2,
                    threads: 1
                },
                Combo {
                    ranks: 4,
                    threads: 1
                }
            ]
        );
        assert!(parse_combos("2").is_err());
        assert!(parse_combos("0x1").is_err());
        assert!(parse_combos("2xa").is_err());
    }

    #[test]
    fn noise_is_in_range_and_reproducible() {
        for i in 0..100 {
            let x = noise(i, 2 * i, 7);
            assert!((-1.0..1.0).contains(&x));
            assert_eq!(x, noise(i, 2 * i, 7));
        }
    }
}
