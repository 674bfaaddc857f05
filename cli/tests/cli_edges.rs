//! The command line as a new user meets it: pipes closed early, `-` for stdout, bad output
//! paths caught before anything runs (and nothing created), error messages without doubled
//! prefixes, words that agree with their numbers. Every case runs the built binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use parla::Engine;
use parla_cli::compare::grid::Dtype;
use parla_cli::compare::report::{Pick, Verdict};
use parla_cli::compare::table::verdict_line;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("parla-cli-edges-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `parla args` in `cwd` with its own cache directory; kills it after `deadline`.
fn run_in(cwd: &Path, args: &[&str], deadline: Duration) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_parla"))
        .args(args)
        .current_dir(cwd)
        .env("PARLA_CACHE_DIR", cwd.join(".cache"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > deadline {
            child.kill().unwrap();
            let out = child.wait_with_output().unwrap();
            panic!(
                "parla {args:?} still running after {deadline:?} (it should have stopped before \
                 running anything); stderr: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// A comparison that finishes in a second or two.
const TINY: [&str; 13] = [
    "compare",
    "--quick",
    "--ops",
    "axpy",
    "--sizes",
    "1000",
    "--threads",
    "1",
    "--engines",
    "blas",
    "--repeat",
    "1",
    "--min-time=0",
];

fn tiny(extra: &[&str]) -> Vec<String> {
    TINY.iter().chain(extra).map(|s| s.to_string()).collect()
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// `parla peak | head -1`: the reader goes away before the writer writes.
#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    let dir = scratch("pipe");
    for args in [
        &["info"][..],
        &["peak", "--quick"][..],
        &["info", "--json"][..],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_parla"))
            .args(args)
            .env("PARLA_CACHE_DIR", dir.join(".cache"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Close the read end at once: every write of the child hits a broken pipe.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn dash_means_stdout_for_json_and_csv() {
    let dir = scratch("dash");
    let out = run_in(
        &dir,
        &strs(&tiny(&["--json", "-"])),
        Duration::from_secs(300),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("stdout is exactly the JSON report");
    assert_eq!(doc["schema"], "parla-compare/1");
    assert!(!dir.join("-").exists(), "no file named -");
    // The table still reaches the user, on stderr.
    assert!(String::from_utf8_lossy(&out.stderr).contains("Verdict"));

    let out = run_in(
        &dir,
        &strs(&tiny(&["--csv", "-"])),
        Duration::from_secs(300),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = String::from_utf8(out.stdout).unwrap();
    let mut lines = csv.lines();
    assert!(lines
        .next()
        .unwrap()
        .starts_with("op,dtype,size,engine,threads"));
    assert_eq!(lines.filter(|l| l.starts_with("axpy,")).count(), 1, "{csv}");
    assert!(!dir.join("-").exists(), "no file named -");

    // Both on stdout cannot be told apart: refused before running.
    let out = run_in(
        &dir,
        &strs(&tiny(&["--csv", "-", "--json", "-"])),
        Duration::from_secs(30),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_output_paths_are_refused_before_anything_runs_and_nothing_is_created() {
    let dir = scratch("paths");
    let file = dir.join("a-file");
    std::fs::write(&file, "x").unwrap();
    let missing = dir.join("missing");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["--json".into(), "/nonexistent/x.json".into()],
            "/nonexistent",
        ),
        (
            vec![
                "--json".into(),
                missing.join("x.json").display().to_string(),
            ],
            "missing",
        ),
        (
            vec!["--csv".into(), missing.join("x.csv").display().to_string()],
            "missing",
        ),
        (vec!["--csv".into(), dir.display().to_string()], "directory"),
        (
            vec!["--json".into(), file.join("x.json").display().to_string()],
            "a-file",
        ),
        (
            vec!["--out".into(), missing.join("sub").display().to_string()],
            "missing",
        ),
        (vec!["--out".into(), file.display().to_string()], "a-file"),
        (vec!["--out".into(), "-".into()], "out"),
    ];
    for (extra, needle) in cases {
        // The full default grid: minutes of work if the paths were checked only at the end.
        let mut args = vec!["compare".to_string()];
        args.extend(extra.iter().cloned());
        let out = run_in(&dir, &strs(&args), Duration::from_secs(60));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {stderr}");
        assert!(stderr.contains(needle), "{extra:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{extra:?}");
        assert!(!missing.exists(), "{extra:?} created {}", missing.display());
        assert!(!Path::new("/nonexistent").exists());
    }
    // A good directory for --out is created (the user asked for it) — one level only.
    let out = run_in(
        &dir,
        &strs(&tiny(&["--out", &dir.join("report").display().to_string()])),
        Duration::from_secs(300),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.join("report/report.html").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn messages_name_the_command_once_and_count_in_words_that_agree() {
    let dir = scratch("words");
    let out = run_in(
        &dir,
        &["compare", "--threads", "0"],
        Duration::from_secs(30),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.starts_with("parla compare: "), "{stderr}");
    assert!(
        !stderr.contains("compare: compare"),
        "doubled prefix: {stderr}"
    );

    let out = run_in(&dir, &strs(&tiny(&[])), Duration::from_secs(300));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("1 cell (1 operation,"), "{stderr}");
    assert!(
        !stderr.contains("1 operations") && !stderr.contains("1 cells"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn pick(engine: Engine, threads: usize, median: f64) -> Pick {
    Pick {
        engine,
        threads,
        median,
        rate: None,
        relative_iqr: 0.05,
        peak_fraction: None,
    }
}

#[test]
fn a_margin_within_noise_is_a_tie() {
    let mut v = Verdict {
        op: "gemm".into(),
        dtype: Dtype::F64,
        size: 64,
        winner: pick(Engine::Rayon, 2, 1.0e-3),
        runner_up: Some(pick(Engine::Blas, 2, 1.004e-3)),
        next_threads: None,
        margin: Some(1.004),
        within_noise: true,
        unsupported: vec![],
        best_per_engine: vec![],
        auto: None,
    };
    let line = verdict_line(&v);
    assert!(line.contains("tie with blas 2t"), "{line}");
    assert!(!line.contains("auto:"), "{line}");
    assert!(!line.contains("faster"), "{line}");
    v.within_noise = false;
    v.margin = Some(1.5);
    v.runner_up = Some(pick(Engine::Blas, 2, 1.5e-3));
    let line = verdict_line(&v);
    assert!(line.contains("1.50× faster than blas 2t"), "{line}");
    v.auto = Some(parla_cli::compare::report::AutoScore {
        of_best: 0.98,
        same_plan: Some(0.97),
        median: 1.02e-3,
        relative_iqr: 0.01,
        engine: Engine::Rayon,
        threads: 2,
        budget: 2,
    });
    let line = verdict_line(&v);
    assert!(
        line.contains("auto: 0.98x of the best (rayon 2t; 0.97x its fixed cell)"),
        "{line}"
    );
}
