//! `parla compare` without running BLAS in this process: grid expansion and option checks,
//! flop and byte counts against independently counted algorithms, statistics, unit
//! formatting, and the command line's exit status for bad options.
//!
//! The end-to-end run (BLAS calls, thread read-back) lives alone in `tests/compare_run.rs`:
//! it reads OpenBLAS's process-wide thread setting, which other tests' calls would change.

use std::process::Command;

use parla::{Engine, Error};
use parla_cli::compare::grid::{self, Dtype, GridRequest};
use parla_cli::compare::registry::{self, Bound};
use parla_cli::compare::stats::Summary;
use parla_cli::compare::{units, Request};

fn request(ops: &str, sizes: &[&str], engines: &str, threads: &str) -> GridRequest {
    GridRequest {
        ops: Some(grid::parse_ops(ops).unwrap()),
        dtypes: None,
        sizes: sizes
            .iter()
            .map(|s| grid::parse_sizes(s).unwrap())
            .collect(),
        engines: Some(grid::parse_engines(engines).unwrap()),
        threads: Some(grid::parse_threads(threads).unwrap()),
        quick: false,
    }
}

#[test]
fn grid_expands_to_every_combination_once_in_group_order() {
    let mut r = request("axpy,gemm", &["8,16"], "blas,rayon", "1-3");
    r.dtypes = Some(grid::parse_dtypes("f32,f64").unwrap());
    let sel = r.resolve(2, 0).unwrap();
    // Registry order (gemm before axpy), whatever the order given.
    let names: Vec<&str> = sel.ops.iter().map(|o| o.spec.name).collect();
    assert_eq!(names, ["gemm", "axpy"]);
    let cells = sel.cells();
    assert_eq!(cells.len(), 2 * 2 * 2 * 2 * 3);
    let mut seen = std::collections::HashSet::new();
    for c in &cells {
        assert!(seen.insert(*c), "{c:?} twice");
        assert!([8, 16].contains(&c.size));
        assert!([Engine::Blas, Engine::Rayon].contains(&c.engine));
        assert!((1..=3).contains(&c.threads));
    }
    // Cells sharing inputs are adjacent: the group key changes only 2·2·2 − 1 times.
    let changes = cells
        .windows(2)
        .filter(|w| (w[0].op, w[0].dtype, w[0].size) != (w[1].op, w[1].dtype, w[1].size))
        .count();
    assert_eq!(changes, 2 * 2 * 2 - 1);
    assert_eq!(sel.groups().len(), 8);
}

#[test]
fn defaults_come_from_the_registry_and_the_cores() {
    let sel = GridRequest::default().resolve(2, 0).unwrap();
    assert_eq!(sel.threads, [1, 2, 3]);
    assert_eq!(
        sel.engines,
        [Engine::Blas, Engine::RayonBlas, Engine::Rayon, Engine::Auto]
    );
    assert_eq!(sel.ops.len(), registry::REGISTRY.len());
    for o in &sel.ops {
        assert_eq!(o.sizes, o.spec.default_sizes);
        assert_eq!(o.dtypes, o.spec.default_dtypes);
    }
    let gemm = sel.ops.iter().find(|o| o.spec.name == "gemm").unwrap();
    assert!(gemm.dtypes.contains(&Dtype::F32) && gemm.dtypes.contains(&Dtype::F64));
    let quick = GridRequest {
        quick: true,
        ..Default::default()
    }
    .resolve(4, 0)
    .unwrap();
    assert_eq!(quick.threads, [1, 2, 3, 4, 5]);
    for o in &quick.ops {
        assert_eq!(o.sizes, o.spec.quick_sizes);
    }
}

#[test]
fn per_operation_sizes_override_global_ones() {
    let r = request("gemm,axpy", &["100", "axpy:1e6,2e6"], "blas", "1");
    let sel = r.resolve(2, 0).unwrap();
    let sizes = sel.sizes_by_op();
    assert_eq!(sizes["gemm"], [100]);
    assert_eq!(sizes["axpy"], [1_000_000, 2_000_000]);
    // Sizes for an operation that is not selected are a mistake worth reporting.
    let r = request("gemm", &["axpy:10"], "blas", "1");
    assert!(matches!(
        r.resolve(2, 0),
        Err(Error::InvalidArgument { name: "sizes", .. })
    ));
}

#[test]
fn bad_words_are_invalid_arguments_naming_the_option() {
    let name = |r: parla::Result<_>| match r {
        Err(Error::InvalidArgument { name, .. }) => name,
        other => panic!("{:?}", other.map(|_: ()| ())),
    };
    assert_eq!(name(grid::parse_threads("0").map(drop)), "threads");
    assert_eq!(name(grid::parse_threads("1,0").map(drop)), "threads");
    assert_eq!(name(grid::parse_threads("3-1").map(drop)), "threads");
    assert_eq!(name(grid::parse_threads("2000").map(drop)), "threads");
    assert_eq!(name(grid::parse_threads("two").map(drop)), "threads");
    assert_eq!(name(grid::parse_ops("gemm,nope").map(drop)), "ops");
    assert_eq!(name(grid::parse_ops("gemm,").map(drop)), "ops");
    assert_eq!(name(grid::parse_engines("gpu").map(drop)), "engines");
    assert_eq!(name(grid::parse_dtypes("f16").map(drop)), "dtype");
    assert_eq!(name(grid::parse_sizes("0").map(drop)), "sizes");
    assert_eq!(name(grid::parse_sizes("nope:5").map(drop)), "sizes");
    assert_eq!(name(grid::parse_sizes("1.5").map(drop)), "sizes");
    assert_eq!(
        grid::parse_threads("1-3,2,5").unwrap(),
        vec![1, 2, 3, 5],
        "ranges and lists merge, sorted and unique"
    );
    assert_eq!(
        grid::parse_engines("all").unwrap(),
        [Engine::Blas, Engine::RayonBlas, Engine::Rayon, Engine::Auto]
    );
}

#[test]
fn sizes_beyond_blas_or_memory_are_refused() {
    let r = request("axpy", &["3000000000"], "blas", "1");
    assert!(matches!(
        r.resolve(2, 0),
        Err(Error::TooLarge { what: "size", .. })
    ));
    // gemm at n = 100 000 holds tens of GiB; with 1 GiB available it is refused.
    let r = request("gemm", &["100000"], "blas", "1");
    assert!(matches!(
        r.resolve(2, 1 << 30),
        Err(Error::InvalidArgument { name: "sizes", .. })
    ));
    // ...but a small one fits.
    let r = request("gemm", &["100"], "blas", "1");
    assert!(r.resolve(2, 1 << 30).is_ok());
}

#[test]
fn timing_options_are_checked() {
    let base = || Request {
        grid: request("gemm", &["8"], "blas", "1"),
        ..Default::default()
    };
    let r = Request {
        repeat: Some(0),
        ..base()
    };
    assert!(matches!(
        r.config(2, 0),
        Err(Error::InvalidArgument { name: "repeat", .. })
    ));
    for t in [-1.0, f64::NAN, f64::INFINITY] {
        let r = Request {
            min_time: Some(t),
            ..base()
        };
        assert!(r.config(2, 0).is_err(), "{t}");
    }
    let c = Request {
        repeat: Some(9),
        min_time: Some(0.5),
        seed: Some(7),
        ..base()
    }
    .config(2, 0)
    .unwrap();
    assert_eq!(
        (c.timing.min_repeats, c.timing.min_seconds, c.seed),
        (9, 0.5, 7)
    );
}

/// Flops of a naive right-looking Cholesky (`L` column by column), counted.
fn cholesky_flops(n: usize) -> f64 {
    let mut f = 0.0;
    for j in 0..n {
        f += 2.0 * j as f64 + 1.0; // a_jj − Σ l_jk², sqrt
        for _i in j + 1..n {
            f += 2.0 * j as f64 + 1.0; // a_ij − Σ l_ik l_jk, divide
        }
    }
    f
}

/// Flops of LU without pivoting (`getrf`) and the two triangular solves, counted.
fn lu_solve_flops(n: usize) -> f64 {
    let mut f = 0.0;
    for k in 0..n {
        let rest = (n - k - 1) as f64;
        f += rest; // multipliers
        f += 2.0 * rest * rest; // rank-1 update
    }
    f + 2.0 * (n * n) as f64 // forward and back substitution
}

/// Flops of a Householder QR (`geqrf`) of an `n × n` matrix, counted; forming `Q` (`orgqr`)
/// applies the same reflectors in reverse, the same count.
fn householder_flops(n: usize) -> f64 {
    let mut f = 0.0;
    for k in 0..n {
        let len = (n - k) as f64;
        f += 2.0 * len; // the reflector's norm
        f += 4.0 * len * (n - k - 1) as f64; // applied to the remaining columns: w = vᵀA, A −= v wᵀ
    }
    2.0 * f
}

#[test]
fn flop_counts_match_counted_algorithms() {
    let spec = |n| registry::find(n).unwrap();
    let close = |a: f64, b: f64, tol: f64| (a - b).abs() <= tol * b.abs();
    // Exact for the loop-defined operations.
    for n in [1usize, 7, 64] {
        let nf = n as f64;
        let mut gemm_count = 0.0;
        let mut gemv_count = 0.0;
        for _i in 0..n {
            for _j in 0..n {
                gemv_count += 2.0;
                for _k in 0..n {
                    gemm_count += 2.0;
                }
            }
        }
        assert_eq!((spec("gemm").flops)(nf), gemm_count);
        assert_eq!((spec("gemv").flops)(nf), gemv_count);
        assert_eq!((spec("axpy").flops)(nf), 2.0 * nf);
        // Norms: a multiply and an add per element.
        assert_eq!((spec("row_norms").flops)(nf), gemv_count);
        assert_eq!((spec("col_norms").flops)(nf), gemv_count);
    }
    // Batches of n order-32 items: n times the item's count.
    let k = parla_cli::compare::cases::BATCH_ORDER;
    for n in [1usize, 10_000] {
        let nf = n as f64;
        assert_eq!(
            (spec("batch_gemm").flops)(nf),
            nf * (spec("gemm").flops)(k as f64)
        );
        assert!(close(
            (spec("batch_solve").flops)(nf),
            nf * (spec("solve").flops)(k as f64),
            1e-12
        ));
    }
    // Leading terms for the factorizations: within 1 % at n = 600.
    let n = 600;
    let nf = n as f64;
    assert!(close((spec("cholesky").flops)(nf), cholesky_flops(n), 0.01));
    assert!(close((spec("solve").flops)(nf), lu_solve_flops(n), 0.01));
    assert!(close((spec("qr").flops)(nf), householder_flops(n), 0.01));
    // eigh: sytrd 4n³/3 + stedc (no deflation) 4n³/3 + ormtr 2n³ (apply n reflectors of
    // average length n/2 to n columns: 4·(n/2)·n·n).
    let eigh = 4.0 * nf.powi(3) / 3.0 + 4.0 * nf.powi(3) / 3.0 + 4.0 * (nf / 2.0) * nf * nf;
    assert!(close((spec("eigh").flops)(nf), eigh, 1e-12));
}

#[test]
fn byte_counts_read_inputs_once_and_write_outputs_once() {
    let spec = |n| registry::find(n).unwrap();
    let n = 100.0;
    for s in [4.0, 8.0] {
        // gemm: A, B read, C written.
        assert_eq!((spec("gemm").bytes)(n, s), (n * n + n * n + n * n) * s);
        // gemv: A and x read, y written.
        assert_eq!((spec("gemv").bytes)(n, s), (n * n + n + n) * s);
        // axpy: x and y read, y written.
        assert_eq!((spec("axpy").bytes)(n, s), 3.0 * n * s);
    }
    // The rated quantity follows the bound.
    for s in registry::REGISTRY {
        let work = s.work(100, Dtype::F32);
        match s.bound {
            Bound::Compute => assert_eq!(work, (s.flops)(100.0)),
            Bound::Memory => assert_eq!(work, (s.bytes)(100.0, 4.0)),
        }
    }
    assert_eq!(spec("gemv").bound, Bound::Memory);
    assert_eq!(spec("axpy").bound, Bound::Memory);
    assert_eq!(spec("gemm").bound, Bound::Compute);
}

#[test]
fn statistics_of_timing_samples() {
    // Sorted: 1 2 3 4 5 6 7 8 9 10 → median 5.5, q1 = 1 + 0.25·9 = 3.25, q3 = 7.75.
    let samples: Vec<f64> = (1..=10).rev().map(f64::from).collect();
    let s = Summary::of(&samples).unwrap();
    assert_eq!((s.min, s.max, s.median), (1.0, 10.0, 5.5));
    assert_eq!((s.q1, s.q3), (3.25, 7.75));
    assert_eq!(s.iqr(), 4.5);
    assert!((s.relative_iqr() - 4.5 / 5.5).abs() < 1e-15);
    // One outlier moves the mean, not the median.
    let s = Summary::of(&[1.0, 1.0, 1.0, 1.0, 1000.0]).unwrap();
    assert_eq!((s.median, s.iqr()), (1.0, 0.0));
}

#[test]
fn units_for_people() {
    assert_eq!(units::time(0.000_012_34), "12.3 µs");
    assert_eq!(units::time(0.5), "500 ms");
    assert_eq!(units::time(3.21), "3.21 s");
    assert_eq!(units::time(4e-9), "4.00 ns");
    assert_eq!(units::rate(101.26, "GFLOP/s"), "101 GFLOP/s");
    assert_eq!(units::rate(0.5, "GB/s"), "0.500 GB/s");
    assert_eq!(units::factor(0.9712), "0.971×");
    assert_eq!(units::percent(0.5), "50.0%");
}

fn parla(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_parla"))
        .args(args)
        .env(
            "PARLA_CACHE_DIR",
            std::env::temp_dir().join("parla-compare-test-cache"),
        )
        .output()
        .unwrap()
}

#[test]
fn bad_options_exit_with_status_2_and_say_why() {
    let cases: &[(&[&str], &str)] = &[
        (&["--threads", "0"], "threads"),
        (&["--threads", "abc"], "threads"),
        (&["--ops", "gemm,fft"], "fft"),
        (&["--engines", "gpu"], "gpu"),
        (&["--dtype", "f16"], "f16"),
        (&["--sizes", "0"], "sizes"),
        (&["--sizes", "3000000000"], "32-bit"),
        (&["--ops", "gemm", "--sizes", "gemm:1000000"], "GiB"),
        (&["--ops", "gemm", "--sizes", "axpy:10"], "axpy"),
        (&["--repeat", "0"], "repeat"),
        (&["--min-time=-1"], "min-time"),
        (&["--min-time", "nan"], "min-time"),
        (&["--no-such-option"], "no-such-option"),
    ];
    for (args, needle) in cases {
        let mut all = vec!["compare"];
        all.extend_from_slice(args);
        let out = parla(&all);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?} printed a table");
    }
}

#[test]
fn busy_cores_is_a_core_count() {
    if let Some(busy) = parla_cli::compare::load::busy_cores() {
        let cpus = std::fs::read_to_string("/proc/stat")
            .unwrap()
            .lines()
            .filter(|l| l.starts_with("cpu") && !l.starts_with("cpu "))
            .count() as f64;
        assert!((0.0..=cpus * 1.05).contains(&busy), "{busy} of {cpus}");
    }
}
