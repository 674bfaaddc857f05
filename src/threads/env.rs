//! Reading and validating the environment. The only place in parla that calls `std::env::var`.
//!
//! The variables are read once per process, on first use, and kept as parsed results: a bad
//! value stays an error (reported by every call that needs it and by `parla info`), it is never
//! replaced by a default.

use std::sync::OnceLock;

use crate::engine::Engine;
use crate::error::{Error, Result};

/// Largest thread count parla accepts from the environment or at run time.
///
/// Far above any machine this runs on; its purpose is to turn typos such as `40000` into an
/// error instead of a process that tries to start forty thousand threads.
pub const MAX_THREADS: usize = 1024;

/// `PARLA_NUM_THREADS`: the whole thread budget.
pub const VAR_THREADS: &str = "PARLA_NUM_THREADS";
/// `PARLA_BACKEND`: the default engine.
pub const VAR_BACKEND: &str = "PARLA_BACKEND";
/// `OPENBLAS_NUM_THREADS`: honoured for the `blas` engine when `PARLA_NUM_THREADS` is unset.
pub const VAR_OPENBLAS: &str = "OPENBLAS_NUM_THREADS";
/// `RAYON_NUM_THREADS`: honoured for the rayon engines when `PARLA_NUM_THREADS` is unset.
pub const VAR_RAYON: &str = "RAYON_NUM_THREADS";
/// `PARLA_CACHE_DIR`: where parla keeps machine measurements (`parla peak`, `parla tune`).
pub const VAR_CACHE_DIR: &str = "PARLA_CACHE_DIR";
/// `PARLA_TUNE_FILE`: the tuning profile `auto` reads (and `parla tune` writes) instead of the
/// one in the cache directory.
pub const VAR_TUNE_FILE: &str = "PARLA_TUNE_FILE";
/// `PARLA_PIN_THREADS`: `on` (the default) pins the workers of a pool that covers the whole
/// affinity mask one per CPU; `off` leaves placement to the OS.
pub const VAR_PIN_THREADS: &str = "PARLA_PIN_THREADS";

/// The directory for parla's per-machine cache: `PARLA_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/parla`, else `$HOME/.cache/parla`, else the system temporary directory.
pub fn cache_dir() -> std::path::PathBuf {
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(std::path::PathBuf::from)
    };
    var(VAR_CACHE_DIR)
        .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("parla")))
        .or_else(|| var("HOME").map(|d| d.join(".cache").join("parla")))
        .unwrap_or_else(|| std::env::temp_dir().join("parla"))
}

/// Variables parla does not read but reports, because they change how BLAS libraries behave.
pub const VARS_REPORTED: [&str; 3] = ["OMP_NUM_THREADS", "GOTO_NUM_THREADS", "OPENBLAS_CORETYPE"];

/// Whether `0` is a valid value for a thread-count variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zero {
    /// `0` is an error (`PARLA_NUM_THREADS`).
    Invalid,
    /// `0` means "the library's default", as OpenBLAS and rayon define it for their variables.
    MeansDefault,
}

/// Parses a thread count: decimal digits only (no sign, no spaces, no exponent), from 1 to
/// [`MAX_THREADS`]. Returns `Ok(None)` for `0` when `zero` is [`Zero::MeansDefault`].
///
/// # Errors
/// [`Error::InvalidEnv`] naming `var`, the raw value and what is allowed.
pub fn parse_threads(var: &'static str, raw: &str, zero: Zero) -> Result<Option<usize>> {
    let allowed = match zero {
        Zero::Invalid => format!("expected a whole number from 1 to {MAX_THREADS}"),
        Zero::MeansDefault => {
            format!("expected a whole number from 1 to {MAX_THREADS}, or 0 for the default")
        }
    };
    let bad = |why: &str| Error::InvalidEnv {
        var,
        value: raw.to_string(),
        reason: format!("{why}; {allowed}"),
    };
    if raw.is_empty() {
        return Err(bad("the value is empty"));
    }
    if raw.trim() != raw {
        return Err(bad("the value has leading or trailing white space"));
    }
    if !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("not a whole decimal number"));
    }
    let n: usize = match raw.parse() {
        Ok(n) => n,
        Err(_) => return Err(bad("the number is too large")),
    };
    match n {
        0 if zero == Zero::MeansDefault => Ok(None),
        0 => Err(bad("zero threads cannot run anything")),
        n if n > MAX_THREADS => Err(bad("the number is too large")),
        n => Ok(Some(n)),
    }
}

/// Parses a file path for `PARLA_TUNE_FILE`: any non-empty path without leading or trailing
/// white space (a typo such as `"profile.json "` would otherwise point at another file).
///
/// # Errors
/// [`Error::InvalidEnv`] naming `var` and the raw value.
pub fn parse_path(var: &'static str, raw: &str) -> Result<std::path::PathBuf> {
    let bad = |why: &str| Error::InvalidEnv {
        var,
        value: raw.to_string(),
        reason: format!("{why}; expected the path of a file"),
    };
    if raw.is_empty() {
        return Err(bad("the value is empty"));
    }
    if raw.trim() != raw {
        return Err(bad("the value has leading or trailing white space"));
    }
    if raw.ends_with('/') {
        return Err(bad("the value names a directory"));
    }
    Ok(std::path::PathBuf::from(raw))
}

/// Parses `PARLA_PIN_THREADS`: `on`/`1`/`true` or `off`/`0`/`false`, ignoring ASCII case.
///
/// # Errors
/// [`Error::InvalidEnv`] for anything else.
pub fn parse_pin(raw: &str) -> Result<bool> {
    match raw.to_ascii_lowercase().as_str() {
        "on" | "1" | "true" => Ok(true),
        "off" | "0" | "false" => Ok(false),
        _ => Err(Error::InvalidEnv {
            var: VAR_PIN_THREADS,
            value: raw.to_string(),
            reason: "expected `on` or `off`".to_string(),
        }),
    }
}

/// Parses an engine name for `PARLA_BACKEND`, ignoring ASCII case (`Rayon` is `rayon`).
///
/// # Errors
/// [`Error::InvalidEnv`] listing the four allowed names.
pub fn parse_backend(raw: &str) -> Result<Engine> {
    raw.parse().map_err(|_| Error::InvalidEnv {
        var: VAR_BACKEND,
        value: raw.to_string(),
        reason: "expected one of auto, blas, rayon-blas, rayon (any case)".to_string(),
    })
}

/// The environment as read once at first use.
#[derive(Debug, Clone)]
pub struct EnvSnapshot {
    /// Raw values of every variable parla reads or reports, `None` when unset.
    pub raw: Vec<(&'static str, Option<String>)>,
    /// Parsed `PARLA_NUM_THREADS`.
    pub threads: Result<Option<usize>>,
    /// Parsed `PARLA_BACKEND`.
    pub backend: Result<Option<Engine>>,
    /// Parsed `OPENBLAS_NUM_THREADS`.
    pub openblas: Result<Option<usize>>,
    /// Parsed `RAYON_NUM_THREADS`.
    pub rayon: Result<Option<usize>>,
    /// Parsed `PARLA_TUNE_FILE`.
    pub tune_file: Result<Option<std::path::PathBuf>>,
    /// Parsed `PARLA_PIN_THREADS` (`true` when unset).
    pub pin_threads: Result<bool>,
}

fn read(var: &'static str) -> Result<Option<String>> {
    match std::env::var(var) {
        Ok(v) => Ok(Some(v)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(v)) => Err(Error::InvalidEnv {
            var,
            value: v.to_string_lossy().into_owned(),
            reason: "the value is not valid UTF-8".to_string(),
        }),
    }
}

fn threads_var(var: &'static str, zero: Zero) -> Result<Option<usize>> {
    match read(var)? {
        None => Ok(None),
        Some(raw) => parse_threads(var, &raw, zero),
    }
}

impl EnvSnapshot {
    fn capture() -> Self {
        let names = [
            VAR_THREADS,
            VAR_BACKEND,
            VAR_OPENBLAS,
            VAR_RAYON,
            VAR_CACHE_DIR,
            VAR_TUNE_FILE,
            VAR_PIN_THREADS,
        ]
        .into_iter()
        .chain(VARS_REPORTED);
        let raw = names
            .map(|n| {
                let v = std::env::var_os(n).map(|v| v.to_string_lossy().into_owned());
                (n, v)
            })
            .collect();
        let backend = match read(VAR_BACKEND) {
            Ok(None) => Ok(None),
            Ok(Some(raw)) => parse_backend(&raw).map(Some),
            Err(e) => Err(e),
        };
        let tune_file = match read(VAR_TUNE_FILE) {
            Ok(None) => Ok(None),
            Ok(Some(raw)) => parse_path(VAR_TUNE_FILE, &raw).map(Some),
            Err(e) => Err(e),
        };
        let pin_threads = match read(VAR_PIN_THREADS) {
            Ok(None) => Ok(true),
            Ok(Some(raw)) => parse_pin(&raw),
            Err(e) => Err(e),
        };
        EnvSnapshot {
            raw,
            pin_threads,
            tune_file,
            threads: threads_var(VAR_THREADS, Zero::Invalid),
            backend,
            openblas: threads_var(VAR_OPENBLAS, Zero::MeansDefault),
            rayon: threads_var(VAR_RAYON, Zero::MeansDefault),
        }
    }
}

/// The process environment, read on first call and cached for the life of the process.
pub fn snapshot() -> &'static EnvSnapshot {
    static ENV: OnceLock<EnvSnapshot> = OnceLock::new();
    ENV.get_or_init(EnvSnapshot::capture)
}
