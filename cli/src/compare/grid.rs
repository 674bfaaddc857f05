//! The grid of a comparison: operations × element types × sizes × engines × thread counts,
//! parsed from the command line's words, checked, and expanded into cells.
//!
//! Every parse and check error is [`Error::InvalidArgument`] (or [`Error::TooLarge`] for sizes
//! beyond the 32-bit BLAS limit) naming the option, so the CLI can report it and exit with
//! status 2 before anything runs.

use std::collections::BTreeMap;

use super::registry::{self, OpSpec};
use parla::threads::MAX_THREADS;
use parla::Engine;
use parla::{Error, Result};

/// An element type (the library's).
pub use parla::Dtype;

fn bad(name: &'static str, reason: String) -> Error {
    Error::InvalidArgument {
        op: "compare",
        name,
        reason,
    }
}

/// Comma-separated words, trimmed, empty ones rejected.
fn words<'a>(name: &'static str, text: &'a str) -> Result<Vec<&'a str>> {
    let w: Vec<&str> = text.split(',').map(str::trim).collect();
    if w.iter().any(|s| s.is_empty()) {
        return Err(bad(name, format!("empty item in {text:?}")));
    }
    Ok(w)
}

/// Parses `--ops`: comma-separated operation names, or `all`.
///
/// # Errors
/// [`Error::InvalidArgument`] naming the unknown operation and listing the known ones.
pub fn parse_ops(text: &str) -> Result<Vec<&'static OpSpec>> {
    let mut out: Vec<&'static OpSpec> = Vec::new();
    for w in words("ops", text)? {
        if w == "all" {
            out.extend(registry::REGISTRY.iter());
            continue;
        }
        let spec = registry::find(w).ok_or_else(|| {
            bad(
                "ops",
                format!(
                    "unknown operation {w:?}; expected one of {} (or all)",
                    registry::names().join(", ")
                ),
            )
        })?;
        out.push(spec);
    }
    // Registry order, each once.
    let mut ops: Vec<&'static OpSpec> = registry::REGISTRY
        .iter()
        .filter(|s| out.iter().any(|o| o.name == s.name))
        .collect();
    ops.dedup_by_key(|s| s.name);
    Ok(ops)
}

/// Parses `--dtype`: `f32`, `f64` (or `float32`, `float64`), comma-separated, or `both`.
///
/// # Errors
/// [`Error::InvalidArgument`] for anything else.
pub fn parse_dtypes(text: &str) -> Result<Vec<Dtype>> {
    let mut out = Vec::new();
    for w in words("dtype", text)? {
        match w {
            "f32" | "float32" => out.push(Dtype::F32),
            "f64" | "float64" => out.push(Dtype::F64),
            "both" | "all" => out.extend([Dtype::F64, Dtype::F32]),
            _ => {
                return Err(bad(
                    "dtype",
                    format!("unknown element type {w:?}; expected f32, f64 or both"),
                ))
            }
        }
    }
    dedup(&mut out);
    Ok(out)
}

/// Parses `--engines`: comma-separated `blas`, `rayon-blas`, `rayon`, `auto`, or `all` (the
/// four engines).
///
/// # Errors
/// [`Error::InvalidArgument`] for an unknown engine.
pub fn parse_engines(text: &str) -> Result<Vec<Engine>> {
    let mut out = Vec::new();
    for w in words("engines", text)? {
        if w == "all" {
            out.extend(DEFAULT_ENGINES);
            continue;
        }
        out.push(
            w.parse::<Engine>()
                .map_err(|e| bad("engines", e.to_string()))?,
        );
    }
    dedup(&mut out);
    Ok(out)
}

/// Parses one count (`4096`, `1e6`, `16_000_000`): a positive integer.
fn count(name: &'static str, w: &str) -> Result<usize> {
    let clean: String = w.chars().filter(|&c| c != '_').collect();
    let parsed = clean.parse::<usize>().ok().or_else(|| {
        // Scientific notation, only when it names an exact integer (1e6, 2.5e3).
        let (m, e) = clean.split_once(['e', 'E'])?;
        let (m, e) = (m.parse::<f64>().ok()?, e.parse::<i32>().ok()?);
        let v = m * 10f64.powi(e);
        (v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v <= u64::MAX as f64)
            .then_some(v as usize)
    });
    match parsed {
        Some(0) => Err(bad(name, format!("{w:?}: must be at least 1"))),
        Some(n) => Ok(n),
        None => Err(bad(
            name,
            format!("{w:?} is not a positive integer (examples: 512, 1e6)"),
        )),
    }
}

/// Parses `--threads`: comma-separated counts and ranges (`1,2,4`, `1-4`).
///
/// # Errors
/// [`Error::InvalidArgument`] for `0`, counts above [`MAX_THREADS`], or malformed items.
pub fn parse_threads(text: &str) -> Result<Vec<usize>> {
    let mut out = Vec::new();
    for w in words("threads", text)? {
        let (lo, hi) = match w.split_once('-') {
            Some((a, b)) => (count("threads", a.trim())?, count("threads", b.trim())?),
            None => {
                let n = count("threads", w)?;
                (n, n)
            }
        };
        if hi > MAX_THREADS {
            return Err(bad(
                "threads",
                format!("{hi} threads: at most {MAX_THREADS}"),
            ));
        }
        if lo > hi {
            return Err(bad("threads", format!("empty range {w:?}")));
        }
        out.extend(lo..=hi);
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// One `--sizes` value: sizes for every selected operation (`512,1024`) or for one
/// (`gemm:512,1024`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SizeSpec {
    /// The operation it applies to; `None` for all.
    pub op: Option<&'static str>,
    /// The sizes.
    pub sizes: Vec<usize>,
}

/// Parses one `--sizes` value.
///
/// # Errors
/// [`Error::InvalidArgument`] for an unknown operation prefix, a zero or malformed size.
pub fn parse_sizes(text: &str) -> Result<SizeSpec> {
    let (op, list) = match text.split_once(':') {
        Some((op, list)) => {
            let spec = registry::find(op.trim()).ok_or_else(|| {
                bad(
                    "sizes",
                    format!(
                        "unknown operation {:?} in {text:?}; expected one of {}",
                        op.trim(),
                        registry::names().join(", ")
                    ),
                )
            })?;
            (Some(spec.name), list)
        }
        None => (None, text),
    };
    let mut sizes = words("sizes", list)?
        .into_iter()
        .map(|w| count("sizes", w))
        .collect::<Result<Vec<_>>>()?;
    sizes.sort_unstable();
    sizes.dedup();
    Ok(SizeSpec { op, sizes })
}

fn dedup<T: PartialEq + Copy>(v: &mut Vec<T>) {
    let mut seen = Vec::new();
    v.retain(|x| {
        let new = !seen.contains(x);
        seen.push(*x);
        new
    });
}

/// The engines compared by default: the three concrete ones, and `auto` (scored against the
/// fastest of them in the verdict).
pub const DEFAULT_ENGINES: [Engine; 4] =
    [Engine::Blas, Engine::RayonBlas, Engine::Rayon, Engine::Auto];

/// Default thread counts on a machine with `cores` usable cores: every count from 1 to
/// `cores` (powers of two and `cores` itself beyond 8 cores, to keep the grid small), plus
/// one oversubscribed count, `cores + 1`.
pub fn default_threads(cores: usize) -> Vec<usize> {
    let cores = cores.clamp(1, MAX_THREADS - 1);
    let mut t: Vec<usize> = if cores <= 8 {
        (1..=cores).collect()
    } else {
        let mut p: Vec<usize> = std::iter::successors(Some(1usize), |x| Some(x * 2))
            .take_while(|&x| x < cores)
            .collect();
        p.push(cores);
        p
    };
    t.push(cores + 1);
    t
}

/// The sizes and element types of one operation in a comparison.
#[derive(Debug, Clone)]
pub struct OpSelection {
    /// The operation.
    pub spec: &'static OpSpec,
    /// Its element types.
    pub dtypes: Vec<Dtype>,
    /// Its sizes, ascending.
    pub sizes: Vec<usize>,
}

/// Everything a comparison runs: the operations (each with its types and sizes), the engines
/// and the thread counts.
#[derive(Debug, Clone)]
pub struct Selection {
    /// The operations, in registry order.
    pub ops: Vec<OpSelection>,
    /// The engines, in the order given.
    pub engines: Vec<Engine>,
    /// The thread counts, ascending.
    pub threads: Vec<usize>,
}

/// One cell of the grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cell {
    /// The operation.
    pub op: &'static str,
    /// Its element type.
    pub dtype: Dtype,
    /// Its size (see the operation's summary for what `n` is).
    pub size: usize,
    /// The engine.
    pub engine: Engine,
    /// The thread count.
    pub threads: usize,
}

/// What the user asked for; `None` fields take the preset's defaults.
#[derive(Debug, Clone, Default)]
pub struct GridRequest {
    /// `--ops`.
    pub ops: Option<Vec<&'static OpSpec>>,
    /// `--dtype`: overrides every operation's default types.
    pub dtypes: Option<Vec<Dtype>>,
    /// `--sizes` (repeatable; per-operation values win over global ones).
    pub sizes: Vec<SizeSpec>,
    /// `--engines`.
    pub engines: Option<Vec<Engine>>,
    /// `--threads`.
    pub threads: Option<Vec<usize>>,
    /// `--quick`: the quick preset's sizes.
    pub quick: bool,
}

impl GridRequest {
    /// The selection this request means on a machine with `cores` usable cores and
    /// `available_memory` bytes free (`0` = unknown, not checked).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an empty list, a size whose working set exceeds the
    /// available memory, or a per-operation size for an operation not selected;
    /// [`Error::TooLarge`] for a size beyond the 32-bit BLAS limit.
    pub fn resolve(&self, cores: usize, available_memory: u64) -> Result<Selection> {
        let specs: Vec<&'static OpSpec> = match &self.ops {
            Some(o) => o.clone(),
            None => registry::REGISTRY.iter().collect(),
        };
        if specs.is_empty() {
            return Err(bad("ops", "no operation selected".into()));
        }
        for s in &self.sizes {
            if let Some(op) = s.op {
                if !specs.iter().any(|x| x.name == op) {
                    return Err(bad(
                        "sizes",
                        format!("sizes given for {op}, which is not among the selected operations"),
                    ));
                }
            }
        }
        let global: Option<Vec<usize>> = self
            .sizes
            .iter()
            .filter(|s| s.op.is_none())
            .map(|s| s.sizes.clone())
            .reduce(|mut a, b| {
                a.extend(b);
                a
            });
        let mut ops = Vec::new();
        for spec in specs {
            let specific: Option<Vec<usize>> = self
                .sizes
                .iter()
                .filter(|s| s.op == Some(spec.name))
                .map(|s| s.sizes.clone())
                .reduce(|mut a, b| {
                    a.extend(b);
                    a
                });
            let mut sizes = specific.or_else(|| global.clone()).unwrap_or_else(|| {
                if self.quick {
                    spec.quick_sizes.to_vec()
                } else {
                    spec.default_sizes.to_vec()
                }
            });
            sizes.sort_unstable();
            sizes.dedup();
            let dtypes = self
                .dtypes
                .clone()
                .unwrap_or_else(|| spec.default_dtypes.to_vec());
            if dtypes.is_empty() {
                return Err(bad("dtype", "no element type selected".into()));
            }
            for &n in &sizes {
                check_size(spec, n, &dtypes, available_memory)?;
            }
            ops.push(OpSelection {
                spec,
                dtypes,
                sizes,
            });
        }
        let engines = self
            .engines
            .clone()
            .unwrap_or_else(|| DEFAULT_ENGINES.to_vec());
        if engines.is_empty() {
            return Err(bad("engines", "no engine selected".into()));
        }
        let threads = self
            .threads
            .clone()
            .unwrap_or_else(|| default_threads(cores));
        if threads.is_empty() {
            return Err(bad("threads", "no thread count selected".into()));
        }
        if let Some(&t) = threads.iter().find(|&&t| t == 0 || t > MAX_THREADS) {
            return Err(bad(
                "threads",
                format!("{t} threads: expected 1 to {MAX_THREADS}"),
            ));
        }
        Ok(Selection {
            ops,
            engines,
            threads,
        })
    }
}

/// Largest dimension BLAS and LAPACK take (their integers are 32-bit).
pub const BLAS_INT_MAX: usize = i32::MAX as usize;

/// Refuses sizes that BLAS cannot take (a dimension above `i32::MAX`) or this machine cannot
/// hold.
fn check_size(spec: &OpSpec, n: usize, dtypes: &[Dtype], available: u64) -> Result<()> {
    if n > BLAS_INT_MAX {
        return Err(Error::TooLarge {
            op: "compare",
            what: "size",
            value: n,
            max: BLAS_INT_MAX,
        });
    }
    if available == 0 {
        return Ok(());
    }
    for d in dtypes {
        let need = (spec.memory)(n as f64, d.bytes() as f64);
        if !need.is_finite() || need > available as f64 {
            return Err(bad(
                "sizes",
                format!(
                    "{} {d} at n = {n} needs about {:.1} GiB; {:.1} GiB are available",
                    spec.name,
                    need / (1u64 << 30) as f64,
                    available as f64 / (1u64 << 30) as f64
                ),
            ));
        }
    }
    Ok(())
}

impl Selection {
    /// Every cell, grouped so that the cells sharing inputs are adjacent: by operation, element
    /// type and size, then engine (in the given order), then thread count.
    pub fn cells(&self) -> Vec<Cell> {
        let mut out = Vec::new();
        for group in self.groups() {
            for &engine in &self.engines {
                for &threads in &self.threads {
                    out.push(Cell {
                        op: group.0.name,
                        dtype: group.1,
                        size: group.2,
                        engine,
                        threads,
                    });
                }
            }
        }
        out
    }

    /// The (operation, element type, size) groups in run order; the cells of a group share
    /// one set of inputs and one reference.
    pub fn groups(&self) -> Vec<(&'static OpSpec, Dtype, usize)> {
        let mut out = Vec::new();
        for o in &self.ops {
            for &d in &o.dtypes {
                for &n in &o.sizes {
                    out.push((o.spec, d, n));
                }
            }
        }
        out
    }

    /// Sizes per operation name, for reports.
    pub fn sizes_by_op(&self) -> BTreeMap<&'static str, Vec<usize>> {
        self.ops
            .iter()
            .map(|o| (o.spec.name, o.sizes.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_accept_integers_and_exact_scientific_notation() {
        assert_eq!(count("sizes", "512").unwrap(), 512);
        assert_eq!(count("sizes", "16_000_000").unwrap(), 16_000_000);
        assert_eq!(count("sizes", "1e6").unwrap(), 1_000_000);
        assert_eq!(count("sizes", "2.5e3").unwrap(), 2500);
        for bad in ["0", "-3", "1.5", "1e-3", "abc", "", "1e400"] {
            assert!(count("sizes", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn default_threads_cover_the_cores_plus_one() {
        assert_eq!(default_threads(1), vec![1, 2]);
        assert_eq!(default_threads(2), vec![1, 2, 3]);
        assert_eq!(default_threads(8), (1..=9).collect::<Vec<_>>());
        assert_eq!(default_threads(12), vec![1, 2, 4, 8, 12, 13]);
        assert_eq!(default_threads(16), vec![1, 2, 4, 8, 16, 17]);
    }
}
