//! CSV and JSON outputs of a report, and writing files.
//!
//! The CSV has one row per cell and the columns of [`CSV_COLUMNS`] (empty field = not
//! applicable); fields holding a comma, quote or newline are quoted RFC 4180 style. The JSON
//! document is the whole [`Report`] (schema in the [module docs](super)).

use std::path::Path;

use super::report::Report;
use super::run::CellResult;
use parla::{Error, Result};

/// The CSV header, in order.
pub const CSV_COLUMNS: [&str; 33] = [
    "op",
    "dtype",
    "size",
    "engine",
    "threads",
    "oversubscribed",
    "status",
    "bound",
    "unit",
    "flops",
    "bytes",
    "samples",
    "batch",
    "median_s",
    "min_s",
    "max_s",
    "q1_s",
    "q3_s",
    "gflops",
    "gbs",
    "rate",
    "speedup",
    "efficiency",
    "peak",
    "peak_fraction",
    "backward_error",
    "bit_identical",
    "planned_threads",
    "openblas_threads",
    "pool_threads",
    "others_busy",
    "retaken",
    "message",
];

/// Quotes a CSV field when it needs it.
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or(String::new(), |x| x.to_string())
}

fn csv_row(c: &CellResult) -> Vec<String> {
    let t = c.time;
    let v = c.verified;
    vec![
        c.op.clone(),
        c.dtype.to_string(),
        c.size.to_string(),
        c.engine.to_string(),
        c.threads.to_string(),
        c.oversubscribed.to_string(),
        serde_plain(&c.status),
        serde_plain(&c.bound),
        c.unit.clone(),
        c.flops.to_string(),
        c.bytes.to_string(),
        opt(t.map(|t| t.samples)),
        opt(c.batch),
        opt(t.map(|t| t.median)),
        opt(t.map(|t| t.min)),
        opt(t.map(|t| t.max)),
        opt(t.map(|t| t.q1)),
        opt(t.map(|t| t.q3)),
        opt(c.gflops),
        opt(c.gbs),
        opt(c.rate),
        opt(c.speedup),
        opt(c.efficiency),
        opt(c.peak),
        opt(c.peak_fraction),
        opt(c.backward_error),
        opt(c.bit_identical),
        opt(v.map(|v| v.planned_threads)),
        opt(v.and_then(|v| v.openblas_threads)),
        opt(v.and_then(|v| v.pool_threads)),
        opt(c.others_busy),
        opt(c.retaken),
        c.message.clone().unwrap_or_default(),
    ]
}

/// A unit enum's serde name (`ok`, `compute`, ...).
fn serde_plain<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// The report's cells as CSV text.
pub fn to_csv(report: &Report) -> String {
    let mut s = CSV_COLUMNS.join(",");
    s.push('\n');
    for c in &report.cells {
        let row: Vec<String> = csv_row(c).iter().map(|f| csv_field(f)).collect();
        s.push_str(&row.join(","));
        s.push('\n');
    }
    s
}

/// The report as pretty-printed JSON.
///
/// # Errors
/// [`Error::Io`] if serialization fails (it does not for finite numbers; non-finite ones
/// become `null`).
pub fn to_json(report: &Report) -> Result<String> {
    serde_json::to_string_pretty(report).map_err(|e| Error::Io {
        op: "compare",
        path: "<json>".into(),
        message: e.to_string(),
    })
}

/// Writes `text` to `path`, creating the parent directory.
///
/// # Errors
/// [`Error::Io`] naming the path.
pub fn write(path: &Path, text: &str) -> Result<()> {
    let io = |e: std::io::Error| Error::Io {
        op: "compare",
        path: path.display().to_string(),
        message: e.to_string(),
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    std::fs::write(path, text).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_only_when_needed() {
        assert_eq!(csv_field("gemm"), "gemm");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
    }
}
