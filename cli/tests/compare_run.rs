//! End to end: the library equivalent of `parla compare --quick` on tiny sizes, every output
//! written and read back; then the binary itself once.
//!
//! One test binary of its own: the runner reads back OpenBLAS's process-wide thread setting,
//! which BLAS calls of concurrently running tests would change.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use parla::{Engine, Exec};
use parla_cli::compare::export::CSV_COLUMNS;
use parla_cli::compare::grid::{self, GridRequest};
use parla_cli::compare::{self, Outputs, Request, Status};
use parla_cli::peak;

/// RFC 4180 CSV: quoted fields may hold commas, quotes (doubled) and newlines.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(
        !quoted && field.is_empty() && row.is_empty(),
        "CSV ends mid-row"
    );
    rows
}

/// Every text of an SVG document (legend entries, titles, tick labels).
fn svg_texts(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let doc = roxmltree::Document::parse(&text)
        .unwrap_or_else(|e| panic!("{} is not valid XML: {e}", path.display()));
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text())
        .map(|t| t.trim().to_string())
        .collect()
}

#[test]
fn quick_run_on_tiny_sizes_writes_consistent_outputs() {
    let cores = parla::threads::usable_cores();
    let threads = grid::default_threads(cores);
    let request = Request {
        grid: GridRequest {
            sizes: vec![grid::parse_sizes("24,40").unwrap()],
            quick: true,
            ..Default::default()
        },
        repeat: Some(2),
        min_time: Some(0.0),
        seed: Some(3),
    };
    let config = request.config(cores, 0).unwrap();
    assert_eq!(config.selection.threads, threads);
    // Tiny, uncached ceilings: this test must not depend on (or write) the machine's cache.
    let budget = peak::Budget {
        fma_seconds: 0.002,
        stream_bytes: 1 << 20,
        repeats: 1,
    };
    let peaks = peak::measure(cores, budget).unwrap();
    let mut calls = 0;
    let report = compare::run(&config, Some(peaks), "quick", &mut |p| {
        assert!(p.done <= p.total);
        calls += 1;
    })
    .unwrap();
    let cells = &report.cells;
    assert_eq!(cells.len(), config.selection.cells().len());
    assert!(calls > cells.len(), "progress reported per cell");

    for c in cells {
        // Unsupported exactly when the public API says the engine lacks the op.
        let spec = parla_cli::compare::registry::find(&c.op).unwrap();
        let plan = Exec::new(c.engine, c.threads).unwrap().plan(
            spec.plan_op,
            c.dtype,
            (spec.plan_shape)(c.size),
        );
        let unsupported = matches!(plan, Err(parla::Error::Unsupported { .. }));
        assert_eq!(c.status == Status::Unsupported, unsupported, "{c:?}");
        if unsupported {
            assert!(c.time.is_none() && c.rate.is_none());
            continue;
        }
        assert_eq!(c.status, Status::Ok, "{c:?}");
        assert_eq!(c.oversubscribed, c.threads > cores);
        let v = c.verified.unwrap();
        match c.engine {
            Engine::Blas => assert_eq!(v.openblas_threads, Some(c.threads)),
            Engine::RayonBlas | Engine::Rayon => assert_eq!(v.pool_threads, Some(c.threads)),
            Engine::Auto => {}
        }
        if c.engine == Engine::Auto {
            // auto picks within the budget and never beyond the cores.
            assert!(v.planned_threads <= c.threads.min(cores), "{c:?}");
            assert_ne!(v.planned_engine, Engine::Auto);
        } else {
            assert_eq!(v.planned_threads, c.threads);
        }
        let t = c.time.unwrap();
        assert!(t.samples >= 2 && t.min <= t.q1 && t.q1 <= t.median);
        assert!(t.median <= t.q3 && t.q3 <= t.max && t.min > 0.0);
        let rate = c.rate.unwrap();
        let expected = match c.bound {
            compare::registry::Bound::Compute => c.flops / t.median / 1e9,
            compare::registry::Bound::Memory => c.bytes / t.median / 1e9,
        };
        assert!((rate - expected).abs() <= 1e-12 * expected);
        let e = c.backward_error.unwrap();
        assert!(
            (0.0..10.0).contains(&e),
            "{} {} {}: ratio {e}",
            c.op,
            c.engine,
            c.threads
        );
        assert!(c.peak.unwrap() > 0.0);
        if c.threads == 1 {
            assert_eq!(c.speedup, Some(1.0));
        }
        if c.engine == Engine::Blas && c.threads == 1 {
            assert_eq!(
                c.bit_identical,
                Some(true),
                "the reference is deterministic"
            );
        }
    }
    // The rayon engine is being written: whatever it implements today is either measured or
    // n/a, never an error; the same holds for rayon-blas.
    assert!(cells.iter().all(|c| c.status != Status::Error));

    // Every group with a measured cell has a verdict, whose winner is its fastest fixed
    // (engine, threads) cell, and auto's score against it.
    for v in &report.verdicts {
        let group = || {
            cells
                .iter()
                .filter(|c| c.op == v.op && c.dtype == v.dtype && c.size == v.size)
        };
        let fastest = group()
            .filter(|c| c.engine != Engine::Auto)
            .filter_map(|c| c.time.map(|t| t.median))
            .fold(f64::INFINITY, f64::min);
        assert_eq!(v.winner.median, fastest);
        assert_ne!(v.winner.engine, Engine::Auto);
        let auto = group()
            .find(|c| c.engine == Engine::Auto && c.threads == cores)
            .and_then(|c| c.time.map(|t| t.median))
            .unwrap();
        // auto is scored within its thread budget (the usable cores), never against an
        // oversubscribed cell.
        let fastest_within = group()
            .filter(|c| c.engine != Engine::Auto && c.threads <= cores)
            .filter_map(|c| c.time.map(|t| t.median))
            .fold(f64::INFINITY, f64::min);
        let score = v.auto.unwrap();
        assert_eq!(score.of_best, fastest_within / auto);
        // Its same-plan ratio is the fixed cell that ran what auto ran.
        let fixed = group()
            .find(|c| c.engine == score.engine && c.threads == score.threads)
            .and_then(|c| c.time.map(|t| t.median));
        assert_eq!(score.same_plan, fixed.map(|f| f / auto));
        if let Some(m) = v.margin {
            assert!(m >= 1.0);
        }
    }
    assert_eq!(report.verdicts.len(), config.selection.groups().len());

    let dir = std::env::temp_dir().join(format!("parla-compare-e2e-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let outputs = Outputs {
        csv: Some(dir.join("cells.csv")),
        json: Some(dir.join("report.json")),
        dir: Some(dir.join("out")),
    };
    let written = compare::write_outputs(&report, &outputs).unwrap();
    assert!(written.iter().all(|p| p.exists()));

    // CSV: the documented header, one row per cell, numbers where numbers belong.
    let csv = parse_csv(&std::fs::read_to_string(dir.join("cells.csv")).unwrap());
    assert_eq!(csv[0], CSV_COLUMNS);
    assert_eq!(csv.len(), cells.len() + 1);
    let col: HashMap<&str, usize> = CSV_COLUMNS
        .iter()
        .enumerate()
        .map(|(i, c)| (*c, i))
        .collect();
    for (row, c) in csv[1..].iter().zip(cells) {
        assert_eq!(row.len(), CSV_COLUMNS.len());
        assert_eq!(row[col["op"]], c.op);
        assert_eq!(row[col["engine"]], c.engine.name());
        assert_eq!(row[col["threads"]].parse::<usize>().unwrap(), c.threads);
        let median = &row[col["median_s"]];
        match c.time {
            Some(t) => assert_eq!(median.parse::<f64>().unwrap(), t.median),
            None => assert!(median.is_empty()),
        }
        for name in ["flops", "bytes", "gflops", "speedup", "peak_fraction"] {
            let f = &row[col[name]];
            assert!(f.is_empty() || f.parse::<f64>().is_ok(), "{name}: {f}");
        }
        let status = &row[col["status"]];
        assert!(["ok", "unsupported", "error"].contains(&status.as_str()));
    }

    // JSON: the documented top-level fields, machine info, peaks, the cells.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(json["schema"], "parla-compare/1");
    for key in [
        "parla_version",
        "started_unix",
        "wall_seconds",
        "busy_cores_before",
        "busy_cores_during",
        "config",
        "machine",
        "peaks",
        "peaks_source",
        "cells",
        "verdicts",
        "oversubscription",
    ] {
        assert!(json.get(key).is_some(), "missing {key}");
    }
    assert_eq!(json["machine"]["cpu"]["usable_cores"], cores);
    assert!(json["machine"]["blas"]["config"].is_string());
    assert!(json["peaks"]["ceilings"]
        .as_array()
        .is_some_and(|c| !c.is_empty()));
    let jcells = json["cells"].as_array().unwrap();
    assert_eq!(jcells.len(), cells.len());
    for (j, c) in jcells.iter().zip(cells) {
        assert_eq!(j["op"], c.op.as_str());
        assert_eq!(j["engine"], c.engine.name());
        assert_eq!(j["dtype"], c.dtype.name());
        if let Some(t) = c.time {
            // serde_json parses without exact round-trip: equal to an ulp or two.
            let m = j["time"]["median"].as_f64().unwrap();
            assert!(
                (m - t.median).abs() <= 1e-14 * t.median,
                "{m} vs {}",
                t.median
            );
        } else {
            assert!(j["time"].is_null());
        }
    }

    // SVG plots: valid XML, with the expected series in the legend.
    let out = dir.join("out");
    let mut svgs: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|f| f.ends_with(".svg"))
        .collect();
    svgs.sort();
    let rate = svg_texts(&out.join("rate-gemm-float64.svg"));
    let full = threads
        .iter()
        .copied()
        .filter(|&t| t <= cores)
        .max()
        .unwrap();
    for series in [
        "blas 1t".to_string(),
        format!("blas {full}t"),
        "rayon-blas 1t".to_string(),
        format!("rayon-blas {full}t"),
        "peak 1t".to_string(),
    ] {
        assert!(rate.contains(&series), "rate plot lacks {series}: {rate:?}");
    }
    let speedup = svg_texts(&out.join("speedup-gemm-float64.svg"));
    for series in ["ideal", "blas", "rayon-blas"] {
        assert!(
            speedup.iter().any(|t| t == series),
            "speedup plot lacks {series}"
        );
    }
    // One rate plot per (op, dtype) with a measured cell.
    for o in &report.config.ops {
        for d in &o.dtypes {
            assert!(
                svgs.contains(&format!("rate-{}-{d}.svg", o.name)),
                "{svgs:?}"
            );
        }
    }
    for f in &svgs {
        svg_texts(&out.join(f));
    }

    // report.html: self-contained, references (and inlines) every plot.
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    for f in &svgs {
        assert!(
            html.contains(&format!("href=\"{f}\"")),
            "report.html lacks {f}"
        );
    }
    assert_eq!(html.matches("<svg").count(), svgs.len());
    assert!(!html.contains("<script"), "no scripts");
    assert!(!html.contains("src=\"http"), "no network resources");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_binary_runs_a_tiny_comparison() {
    let dir = std::env::temp_dir().join(format!("parla-compare-bin-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = Command::new(env!("CARGO_BIN_EXE_parla"))
        .args([
            "compare",
            "--quick",
            "--ops",
            "gemm,solve",
            "--sizes",
            "16",
            "--threads",
            "1,2",
            "--repeat",
            "1",
            "--min-time",
            "0",
            "--out",
        ])
        .arg(&dir)
        .env("PARLA_CACHE_DIR", dir.join("cache"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for needle in ["op", "median", "accuracy", "Verdict", "gemm", "solve"] {
        assert!(stdout.contains(needle), "stdout lacks {needle}:\n{stdout}");
    }
    for f in [
        "report.html",
        "results.csv",
        "results.json",
        "rate-gemm-float64.svg",
    ] {
        assert!(dir.join(f).exists(), "{f}");
    }
    // --quick never writes the peak cache.
    assert!(!dir.join("cache").exists());
    let _ = std::fs::remove_dir_all(&dir);
}
