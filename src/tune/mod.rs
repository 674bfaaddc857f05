//! Tuning profiles: what `parla tune` measured on this machine, and the lookup `auto` makes in
//! it (like FFTW's wisdom).
//!
//! A profile lists, for each measured operation, element type, shape class and size, the time
//! of every (engine, threads) candidate. `auto` reads the profile once per process (no
//! measurement on a user's call) and, for a call, takes the entries of its operation (or the
//! operation measured in its place, [`proxy`]), dtype and [shape class](ShapeClass), the entry
//! nearest in size (on a log scale), and the fastest candidate the call's thread budget allows.
//!
//! The profile is keyed by the machine ([`MachineKey`]: CPU, usable cores, OpenBLAS core type
//! and build, parla version). A profile of another machine or version, or one that does not
//! parse, is ignored with a note ([`profile_status`], shown by `parla info`), never used.
//!
//! Where it lives: `PARLA_TUNE_FILE` when set, else `tune-<machine digest>.json` in parla's
//! cache directory ([`crate::threads::env::cache_dir`]).

mod machine;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::op::{Dtype, Family, Op, Shape};
use crate::threads;

pub(crate) use machine::openblas_vector_bits;
pub use machine::MachineKey;

/// Version of the profile's file format; a file of another version is ignored.
pub const PROFILE_FORMAT: u32 = 1;

/// The shape of an operation's operands, as far as the choice of engine and threads goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShapeClass {
    /// A vector.
    Vector,
    /// Every dimension within a factor 4 of the others.
    Square,
    /// Many more rows than columns (GEMM: `m` dominates, or `n` is the smallest).
    Tall,
    /// Many more columns than rows (GEMM: `n` dominates, or `m` is the smallest).
    Wide,
    /// GEMM whose inner dimension `k` dominates (`Aᵀ·A` of a tall matrix).
    Deep,
    /// GEMM whose inner dimension `k` is the smallest (a rank-k update).
    Outer,
}

impl ShapeClass {
    /// The class of `shape`, `None` when the shape is unknown.
    pub fn of(shape: Shape) -> Option<ShapeClass> {
        let two = |r: usize, c: usize| {
            if r >= 4 * c.max(1) {
                ShapeClass::Tall
            } else if c >= 4 * r.max(1) {
                ShapeClass::Wide
            } else {
                ShapeClass::Square
            }
        };
        Some(match shape {
            Shape::Unknown => return None,
            Shape::Vector(_) => ShapeClass::Vector,
            Shape::Square(_) => ShapeClass::Square,
            Shape::Matrix(r, c) => two(r, c),
            Shape::System { rows, cols, .. } => two(rows, cols),
            Shape::Product { m, n, k } => {
                let (m1, n1, k1) = (m.max(1), n.max(1), k.max(1));
                let lo = m1.min(n1).min(k1);
                let hi = m1.max(n1).max(k1);
                if hi < 4 * lo {
                    ShapeClass::Square
                } else if m1 >= 4 * n1.max(k1) {
                    ShapeClass::Tall
                } else if n1 >= 4 * m1.max(k1) {
                    ShapeClass::Wide
                } else if k1 >= 4 * m1.max(n1) {
                    ShapeClass::Deep
                } else if lo == k1 {
                    ShapeClass::Outer
                } else if lo == n1 {
                    ShapeClass::Tall
                } else {
                    ShapeClass::Wide
                }
            }
        })
    }

    /// The name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            ShapeClass::Vector => "vector",
            ShapeClass::Square => "square",
            ShapeClass::Tall => "tall",
            ShapeClass::Wide => "wide",
            ShapeClass::Deep => "deep",
            ShapeClass::Outer => "outer",
        }
    }
}

/// The size a profile entry is matched by: the geometric mean of the operand dimensions
/// (`n` for `n × n` operands, `(m·n·k)^⅓` for a product). `None` for an unknown shape.
pub fn characteristic_size(shape: Shape) -> Option<f64> {
    let s = match shape {
        Shape::Unknown => return None,
        Shape::Vector(n) | Shape::Square(n) => n as f64,
        Shape::Matrix(r, c)
        | Shape::System {
            rows: r, cols: c, ..
        } => ((r * c) as f64).sqrt(),
        Shape::Product { m, n, k } => ((m as f64) * (n as f64) * (k as f64)).cbrt(),
    };
    Some(s.max(1.0))
}

/// The operation whose measurements stand for `op`: itself when `parla tune` measures it,
/// else one that runs the same code on each engine (`inv`, `det`, `lu`, `lu_factor` → `solve`;
/// the solves of kept factors → `solve_triangular`; `eigvalsh`
/// → `eigh`; `eigvals` → `eig`; the SVD family → `svd`; level 1 → `axpy`; `map`, `zip_with` →
/// `multiply`). `None` for operations no measured one stands for.
pub fn proxy(op: Op) -> Option<Op> {
    Some(match op {
        Op::Matmul | Op::Gemm => Op::Gemm,
        Op::Gemv | Op::Matvec => Op::Gemv,
        Op::Dot | Op::Axpy | Op::Scal | Op::Nrm2 => Op::Axpy,
        Op::RowSums | Op::RowNorms => Op::RowNorms,
        Op::ColSums | Op::ColNorms => Op::ColNorms,
        Op::Map | Op::ZipWith | Op::Multiply => Op::Multiply,
        Op::Transpose => Op::Transpose,
        Op::Cholesky | Op::ChoFactor => Op::Cholesky,
        Op::Lu | Op::Solve | Op::Inv | Op::Det | Op::Slogdet | Op::LuFactor => Op::Solve,
        Op::Qr | Op::QrFactor => Op::Qr,
        // Solves from a kept factor are triangular solves (and a Qᵀ application).
        Op::SolveTriangular | Op::LuSolve | Op::ChoSolve | Op::QrLstsq => Op::SolveTriangular,
        Op::Eigh | Op::Eigvalsh => Op::Eigh,
        Op::Svd | Op::Svdvals | Op::Pinv | Op::Cond | Op::MatrixRank | Op::Norm | Op::Lstsq => {
            Op::Svd
        }
        Op::Eig | Op::Eigvals => Op::Eig,
    })
}

/// One measured (engine, threads) choice.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// The engine (never `auto`).
    pub engine: Engine,
    /// Its threads.
    pub threads: usize,
    /// Median seconds per call.
    pub seconds: f64,
    /// Spread of the samples: interquartile range over the median.
    pub spread: f64,
}

/// The candidates measured for one operation, dtype and shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// The operation measured.
    pub op: Op,
    /// Its element type.
    pub dtype: Dtype,
    /// Its shape class.
    pub class: ShapeClass,
    /// The operand dimensions measured (rows, columns, inner or right-hand sides; 0 = none).
    pub dims: [usize; 3],
    /// Its [`characteristic_size`].
    pub size: f64,
    /// Items of a batched call (`parla::batch`), 0 for a single call. A batch's candidates
    /// name how it runs: `blas` with `t` threads is a loop over the items on OpenBLAS with
    /// `t` threads; `rayon-blas` or `rayon` with `t` threads is `t` rayon workers over the
    /// batch, each item on one thread of that engine.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub batch: usize,
    /// Every candidate measured, in measuring order.
    pub candidates: Vec<Candidate>,
}

fn is_zero(x: &usize) -> bool {
    *x == 0
}

/// Least relative margin within which two candidates count as equally fast ([`Entry::best`];
/// a noisier pair ties within its spread, up to [`NOISE_CAP`]). Repeated `parla tune` runs on
/// the 2-core Zen 5 VM moved a candidate's median by 1–3 %.
pub const TIE: f64 = 0.03;

/// The call shape an entry's `dims` stand for (see [`Entry::dims`]): GEMM `[m, n, k]`; a
/// vector `[n, 0, 0]`; level 2, reductions and element-wise `[rows, cols, 0]`; solves `[rows,
/// cols, rhs]` (0 right-hand sides: one); every other operation a square `[n, n, 0]`.
pub fn measured_shape(op: Op, dims: [usize; 3]) -> Shape {
    let [a, b, c] = dims;
    match op {
        Op::Gemm => Shape::Product { m: a, n: b, k: c },
        Op::Axpy => Shape::Vector(a),
        Op::Gemv | Op::RowNorms | Op::ColNorms | Op::Multiply | Op::Transpose => {
            Shape::Matrix(a, b)
        }
        Op::Solve | Op::SolveTriangular => Shape::System {
            rows: a,
            cols: b,
            rhs: c.max(1),
        },
        _ => Shape::Square(a),
    }
}

impl Entry {
    /// The candidate `auto` takes among those `allowed` accepts: the fastest, unless (for calls
    /// shorter than [`STEADY_CALL_SECONDS`]) one with fewer threads is within this entry's
    /// noise of it ([`Entry::best_against`]) — then the fastest of the fewest threads that are. A tie is noise, and the extra threads would only
    /// take cores from the rest of the program (and leave OpenBLAS's workers spinning).
    pub fn best(&self, allowed: impl Fn(Engine, usize) -> bool) -> Option<Candidate> {
        self.best_against(allowed, None).map(|(c, _)| c)
    }

    /// [`Entry::best`], where the candidate `prior` names (`auto`'s built-in choice) stands
    /// when it is among the candidates that tie with the fastest and uses no more threads than
    /// the fewest of them. Two candidates tie when the slower is within the noise of the pair:
    /// the larger relative spread (interquartile range / median) of the two, at least [`TIE`],
    /// at most [`NOISE_CAP`]. A measurement can be off by its spread, and the built-in rules
    /// were measured too; the profile overrules them where it shows a clear difference.
    ///
    /// Fewer threads win a tie before the prior does. On the 2-core Zen 3 VM, calls of a
    /// few hundred microseconds on two threads measured anywhere from 0.8× to 1.6× the time of
    /// one thread from run to run (Cholesky and solve at n = 256: profiles had `blas` 2 threads
    /// within 1–5 % of 1 thread, `parla compare` then measured 2 threads 1.1–1.5× slower),
    /// while one thread was steady: where the profile cannot tell them apart, the steady choice
    /// costs at most the noise and the other up to half again. (Where one thread wins a tie the
    /// profile's own measurement was doubled: `parla tune` measures an item again when its
    /// choice overturns the built-in one.) Calls of [`STEADY_CALL_SECONDS`] and longer have no
    /// such gamble: there the prior stands within the noise, else the fastest wins, whatever
    /// their threads. The flag says that `prior` stood against a faster candidate.
    pub(crate) fn best_against(
        &self,
        allowed: impl Fn(Engine, usize) -> bool,
        prior: Option<(Engine, usize)>,
    ) -> Option<(Candidate, bool)> {
        let ok = || {
            self.candidates
                .iter()
                .copied()
                .filter(|c| allowed(c.engine, c.threads))
        };
        let fastest = ok().min_by(|a, b| a.seconds.total_cmp(&b.seconds))?;
        let ties = |c: &Candidate| {
            let noise = c.spread.max(fastest.spread).clamp(TIE, NOISE_CAP);
            c.seconds <= fastest.seconds * (1.0 + noise)
        };
        let prior = prior.and_then(|(e, t)| ok().find(|c| c.engine == e && c.threads == t));
        if fastest.seconds >= STEADY_CALL_SECONDS {
            // A long call: no wake-up to make more threads a gamble; the prior stands within
            // the noise, else the fastest.
            return Some(match prior {
                Some(p)
                    if (p.engine, p.threads) != (fastest.engine, fastest.threads) && ties(&p) =>
                {
                    (p, true)
                }
                _ => (fastest, false),
            });
        }
        let fewest = ok().filter(ties).map(|c| c.threads).min()?;
        let best = ok()
            .filter(|c| ties(c) && c.threads == fewest)
            .min_by(|a, b| a.seconds.total_cmp(&b.seconds))?;
        if let Some(p) = prior {
            if (p.engine, p.threads) != (best.engine, best.threads)
                && p.threads == fewest
                && ties(&p)
            {
                return Some((p, true));
            }
        }
        Some((best, false))
    }
}

/// Calls at least this long (the entry's fastest candidate) have ties decided without regard
/// to thread counts ([`Entry::best_against`]): the built-in choice stands within the noise,
/// else the fastest wins. Fewer threads win the ties of shorter calls, where a second worker
/// must be woken and 2-thread samples are bimodal. On the 2-core Zen 5 VM, profiles called
/// `axpy` of 16 M elements (6–7 ms) and `svd` at n = 256 (7 ms) ties between 1 and 2 threads,
/// which then went to 1 thread, and `parla compare` measured 2 threads 1.16–1.20× faster.
pub const STEADY_CALL_SECONDS: f64 = 1e-3;

/// The most a candidate may be slower than the profile's fastest and still tie with it
/// ([`Entry::best_against`]), however noisy the entry: 10 %, the margin the `auto` target
/// allows where a cell's spread exceeds 5 %. On the 2-core Zen 3 VM, `parla tune` once had
/// `blas` 1 thread for f64 GEMM at n = 128 at 114 µs against 118 µs at 2 threads (spreads
/// 4–5 %) where `parla compare` then measured 2 threads 1.47× faster; repeated measurements of
/// that item chose one thread in 1 of 10 (f64) and 3 of 10 (f32) runs. Such a tie overturns
/// the built-in choice, so `parla tune` measures the candidates that disagree again, and the
/// medians of all their samples decide.
pub const NOISE_CAP: f64 = 0.10;

/// A tuning profile: what `parla tune` measured, for which machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// [`PROFILE_FORMAT`] of the writer.
    pub format: u32,
    /// The machine it was measured on.
    pub machine: MachineKey,
    /// When (seconds since the Unix epoch).
    pub created_unix: u64,
    /// The preset that measured it (`quick`, `default`).
    pub preset: String,
    /// Other processes' busy cores during the measurement, when known.
    pub busy_cores: Option<f64>,
    /// The measurements.
    pub entries: Vec<Entry>,
}

/// What the profile answers for a call: the engine and threads `auto` takes, which entry
/// answered, and whether the built-in choice stood against a faster candidate within the
/// entry's noise ([`Entry::best_against`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pick {
    pub engine: Engine,
    pub threads: usize,
    pub source: Source,
    pub prior_stood: bool,
}

impl Pick {
    fn of(c: Candidate, source: Source, prior_stood: bool) -> Pick {
        Pick {
            engine: c.engine,
            threads: c.threads,
            source,
            prior_stood,
        }
    }
}

/// Where `auto`'s choice came from, for [`Plan::rule`](crate::Plan).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// An entry of this operation and dtype.
    Measured,
    /// An entry of the operation measured in its place, or of the other dtype or the square
    /// class.
    Nearby,
}

impl Source {
    fn of(exact: bool) -> Source {
        if exact {
            Source::Measured
        } else {
            Source::Nearby
        }
    }
}

impl Profile {
    /// An empty profile for this machine.
    pub fn new(preset: &str) -> Self {
        Profile {
            format: PROFILE_FORMAT,
            machine: MachineKey::current(),
            created_unix: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            preset: preset.to_string(),
            busy_cores: None,
            entries: Vec::new(),
        }
    }

    /// Parses a profile and checks that every entry is usable (it does not check the machine:
    /// see [`Profile::check_machine`]).
    ///
    /// # Errors
    /// A sentence saying what is wrong: not JSON, another format version, an entry without
    /// candidates, a thread count or time out of range.
    pub fn from_json(text: &str) -> std::result::Result<Profile, String> {
        let p: Profile = serde_json::from_str(text).map_err(|e| {
            // The format version first, so an old file says so instead of "missing field".
            match serde_json::from_str::<serde_json::Value>(text)
                .ok()
                .and_then(|v| v.get("format").and_then(serde_json::Value::as_u64))
            {
                Some(f) if f != u64::from(PROFILE_FORMAT) => {
                    format!("format {f}, this parla reads format {PROFILE_FORMAT}")
                }
                _ => format!("not a tuning profile: {e}"),
            }
        })?;
        if p.format != PROFILE_FORMAT {
            return Err(format!(
                "format {}, this parla reads format {PROFILE_FORMAT}",
                p.format
            ));
        }
        for (i, e) in p.entries.iter().enumerate() {
            let bad = |why: String| Err(format!("entry {i} ({} {}): {why}", e.op, e.dtype));
            if !(e.size.is_finite() && e.size >= 1.0) {
                return bad(format!("size {} is not a size", e.size));
            }
            if e.candidates.is_empty() {
                return bad("no candidates".into());
            }
            for c in &e.candidates {
                if c.engine == Engine::Auto {
                    return bad("a candidate names auto, not an engine".into());
                }
                if c.threads == 0 || c.threads > threads::MAX_THREADS {
                    return bad(format!("{} threads", c.threads));
                }
                if !(c.seconds.is_finite() && c.seconds > 0.0) {
                    return bad(format!("time {} s", c.seconds));
                }
            }
        }
        Ok(p)
    }

    /// The profile as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Why this profile does not hold on this machine, or `None` when it does.
    pub fn check_machine(&self) -> Option<String> {
        self.machine.mismatch(&MachineKey::current())
    }

    /// Writes the profile to `path` (through a temporary file renamed into place, so a reader
    /// never sees half a file), creating the directory.
    ///
    /// # Errors
    /// [`Error::Io`] naming the path.
    pub fn save(&self, path: &Path) -> Result<()> {
        let io = |e: std::io::Error| Error::Io {
            op: "tune",
            path: path.display().to_string(),
            message: e.to_string(),
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, self.to_json()).map_err(io)?;
        std::fs::rename(&tmp, path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            io(e)
        })
    }

    /// The fastest (engine, threads) for `op` on `dtype` operands of `shape` among the
    /// candidates `allowed` accepts, with where it came from. `None` when no entry answers.
    pub(crate) fn choose(
        &self,
        op: Op,
        dtype: Dtype,
        shape: Shape,
        allowed: impl Fn(Engine, usize) -> bool + Copy,
        prior: Option<(Engine, usize)>,
    ) -> Option<Pick> {
        if dtype.is_complex() {
            // No complex measurements: the real ones do not stand for complex code.
            return None;
        }
        let measured = proxy(op)?;
        let class = ShapeClass::of(shape)?;
        let size = characteristic_size(shape)?;
        let other = match dtype {
            Dtype::F32 => Dtype::F64,
            _ => Dtype::F32,
        };
        // The GEMM classes behave differently enough that a square entry does not stand for a
        // tall product; the other families fall back to their square entries.
        let classes: &[ShapeClass] =
            if measured.family() == Family::Gemm || class == ShapeClass::Square {
                &[class][..]
            } else {
                &[class, ShapeClass::Square][..]
            };
        let exact = measured == op;
        for (i, (d, c)) in [dtype, other]
            .into_iter()
            .flat_map(|d| classes.iter().map(move |&c| (d, c)))
            .enumerate()
        {
            let best = self.nearest(
                |e| e.batch == 0 && e.op == measured && e.dtype == d && e.class == c,
                |e| (e.size.ln() - size.ln()).abs(),
                allowed,
                prior,
            );
            if let Some((best, stood)) = best {
                return Some(Pick::of(best, Source::of(exact && i == 0), stood));
            }
        }
        None
    }
}

impl Profile {
    /// How to run a batch of `len` square items of order `order` of `op` on `dtype` (a
    /// candidate as [`Entry::batch`] describes it) among the candidates `allowed` accepts: the
    /// fastest of the measured batch nearest in order and length (on log scales, an order
    /// counting as much as a length), of the same operation (or its [`proxy`]) and dtype, else
    /// the other dtype. `None` when no batch of the operation was measured.
    pub(crate) fn choose_batch(
        &self,
        op: Op,
        dtype: Dtype,
        len: usize,
        order: usize,
        allowed: impl Fn(Engine, usize) -> bool + Copy,
        prior: Option<(Engine, usize)>,
    ) -> Option<Pick> {
        let measured = proxy(op)?;
        let (len, order) = ((len.max(1) as f64).ln(), (order.max(1) as f64).ln());
        let other = match dtype {
            Dtype::F32 => Dtype::F64,
            _ => Dtype::F32,
        };
        for (i, d) in [dtype, other].into_iter().enumerate() {
            let distance =
                |e: &Entry| ((e.batch as f64).ln() - len).abs() + (e.size.ln() - order).abs();
            let best = self.nearest(
                |e| e.batch > 0 && e.op == measured && e.dtype == d,
                distance,
                allowed,
                prior,
            );
            if let Some((best, stood)) = best {
                // `matmul` is `gemm` (the batch calls are named `matmul`).
                let same = measured == op || op == Op::Matmul;
                return Some(Pick::of(best, Source::of(same && i == 0), stood));
            }
        }
        None
    }

    /// The allowed candidate `auto` takes ([`Entry::best_against`] `prior`) of the entry
    /// `keep` accepts that is nearest by `distance` among those with an allowed candidate.
    fn nearest(
        &self,
        keep: impl Fn(&Entry) -> bool,
        distance: impl Fn(&Entry) -> f64,
        allowed: impl Fn(Engine, usize) -> bool + Copy,
        prior: Option<(Engine, usize)>,
    ) -> Option<(Candidate, bool)> {
        self.entries
            .iter()
            .filter(|e| keep(e) && e.best(allowed).is_some())
            .min_by(|a, b| distance(a).total_cmp(&distance(b)))
            .and_then(|e| e.best_against(allowed, prior))
    }
}

/// The tuning profile's state in this process.
#[derive(Debug, Clone, PartialEq)]
pub enum ProfileStatus {
    /// Read and in use by `auto`.
    InUse {
        /// Where it was read.
        path: PathBuf,
        /// Entries it holds.
        entries: usize,
        /// When it was measured (seconds since the Unix epoch).
        created_unix: u64,
        /// The preset that measured it.
        preset: String,
    },
    /// No file there: `auto` uses its built-in rules.
    Missing {
        /// Where it was looked for.
        path: PathBuf,
    },
    /// A file is there but is not used: another machine or version, or not a valid profile.
    /// `auto` uses its built-in rules.
    Ignored {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

impl ProfileStatus {
    /// One line for reports.
    pub fn describe(&self) -> String {
        match self {
            ProfileStatus::InUse {
                path,
                entries,
                preset,
                ..
            } => format!(
                "in use: {} ({entries} entries, {preset} preset)",
                path.display()
            ),
            ProfileStatus::Missing { path } => format!(
                "none (looked for {}; run `parla tune`): auto uses its built-in rules",
                path.display()
            ),
            ProfileStatus::Ignored { path, reason } => format!(
                "IGNORED {}: {reason}; auto uses its built-in rules (run `parla tune`)",
                path.display()
            ),
        }
    }
}

/// Where this machine's profile is read and written: `PARLA_TUNE_FILE`, else
/// `tune-<machine digest>.json` in the cache directory.
///
/// # Errors
/// [`Error::InvalidEnv`] when `PARLA_TUNE_FILE` is set to an invalid value.
pub fn profile_path() -> Result<PathBuf> {
    match threads::env::snapshot().tune_file.clone()? {
        Some(p) => Ok(p),
        None => {
            Ok(threads::env::cache_dir()
                .join(format!("tune-{}.json", MachineKey::current().digest())))
        }
    }
}

/// Reads the profile at `path` and says whether it can be used here.
pub fn load(path: &Path) -> (ProfileStatus, Option<Profile>) {
    let ignored = |reason: String| {
        (
            ProfileStatus::Ignored {
                path: path.to_path_buf(),
                reason,
            },
            None,
        )
    };
    let text = match std::fs::read(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return (
                ProfileStatus::Missing {
                    path: path.to_path_buf(),
                },
                None,
            )
        }
        Err(e) => return ignored(format!("cannot be read: {e}")),
    };
    let Ok(text) = String::from_utf8(text) else {
        return ignored("not a tuning profile: not UTF-8 text".into());
    };
    let profile = match Profile::from_json(&text) {
        Ok(p) => p,
        Err(why) => return ignored(why),
    };
    if let Some(why) = profile.check_machine() {
        return ignored(format!("measured on another machine or version: {why}"));
    }
    (
        ProfileStatus::InUse {
            path: path.to_path_buf(),
            entries: profile.entries.len(),
            created_unix: profile.created_unix,
            preset: profile.preset.clone(),
        },
        Some(profile),
    )
}

type Loaded = Result<(ProfileStatus, Option<Profile>)>;

fn loaded() -> &'static Loaded {
    static LOADED: OnceLock<Loaded> = OnceLock::new();
    LOADED.get_or_init(|| profile_path().map(|p| load(&p)))
}

/// The profile `auto` uses in this process, read on first use.
///
/// # Errors
/// [`Error::InvalidEnv`] when `PARLA_TUNE_FILE` is invalid.
pub(crate) fn active() -> Result<Option<&'static Profile>> {
    match loaded() {
        Ok((_, p)) => Ok(p.as_ref()),
        Err(e) => Err(e.clone()),
    }
}

/// The state of the tuning profile in this process: read once, on first use.
///
/// # Errors
/// [`Error::InvalidEnv`] when `PARLA_TUNE_FILE` is invalid.
pub fn profile_status() -> Result<ProfileStatus> {
    loaded().clone().map(|(s, _)| s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_go_to_fewer_threads() {
        let c = |engine, threads, seconds| Candidate {
            engine,
            threads,
            seconds,
            spread: 0.01,
        };
        let entry = |cands: Vec<Candidate>| Entry {
            op: Op::Gemm,
            dtype: Dtype::F64,
            class: ShapeClass::Square,
            dims: [64, 64, 64],
            size: 64.0,
            batch: 0,
            candidates: cands,
        };
        // Calls of about 1 µs (short: see STEADY_CALL_SECONDS).
        let c = |engine, threads, seconds: f64| c(engine, threads, seconds * 1e-6);
        let pick = |e: &Entry| e.best(|_, _| true).map(|c| (c.engine, c.threads));
        // 1 thread within 2 % of the fastest (2 threads): the tie goes to 1 thread.
        let e = entry(vec![
            c(Engine::Blas, 2, 1.00),
            c(Engine::Rayon, 1, 1.02),
            c(Engine::Blas, 1, 1.025),
        ]);
        assert_eq!(pick(&e), Some((Engine::Rayon, 1)));
        // 5 % apart is not a tie.
        let e = entry(vec![c(Engine::Blas, 2, 1.00), c(Engine::Rayon, 1, 1.05)]);
        assert_eq!(pick(&e), Some((Engine::Blas, 2)));
        // `allowed` still rules: without 1 thread, the fastest 2-thread candidate.
        let e = entry(vec![
            c(Engine::Rayon, 2, 1.01),
            c(Engine::Blas, 2, 1.00),
            c(Engine::Rayon, 1, 1.0),
        ]);
        assert_eq!(
            e.best(|_, t| t == 2).map(|c| (c.engine, c.threads)),
            Some((Engine::Blas, 2))
        );
        assert_eq!(e.best(|_, _| false), None);
    }

    /// A candidate taking `seconds`.
    fn cand(engine: Engine, threads: usize, seconds: f64, spread: f64) -> Candidate {
        Candidate {
            engine,
            threads,
            seconds,
            spread,
        }
    }

    /// An f64 entry of `op` measured at `dims` (its own shape class and size).
    fn entry_at(op: Op, dims: [usize; 3], candidates: Vec<Candidate>) -> Entry {
        let shape = measured_shape(op, dims);
        Entry {
            op,
            dtype: Dtype::F64,
            class: ShapeClass::of(shape).unwrap(),
            dims,
            size: characteristic_size(shape).unwrap(),
            batch: 0,
            candidates,
        }
    }

    /// `auto`'s pick of `e` against `prior` with every candidate allowed, and whether the
    /// prior stood.
    fn pick_against(e: &Entry, prior: Option<(Engine, usize)>) -> Option<(Engine, usize, bool)> {
        e.best_against(|_, _| true, prior)
            .map(|(c, stood)| (c.engine, c.threads, stood))
    }

    #[test]
    fn the_built_in_choice_stands_within_the_noise_only() {
        // Times in microseconds (short calls: see STEADY_CALL_SECONDS).
        let c = |engine, threads, micros: f64, spread| cand(engine, threads, micros * 1e-6, spread);
        let entry = |cands: Vec<Candidate>| entry_at(Op::Gemm, [128, 128, 128], cands);
        let all = |_: Engine, _: usize| true;
        let pick = |e: &Entry, prior| pick_against(e, Some(prior));
        let blas2 = (Engine::Blas, 2);
        // Cholesky at n = 256 on the Zen 3: 1 thread 1 % slower than the built-in 2 threads,
        // spreads 3–9 %: a tie, and fewer threads win it over the prior (plain `best` too).
        let e = entry(vec![
            c(Engine::Blas, 2, 520.9, 0.03),
            c(Engine::Blas, 1, 526.0, 0.09),
        ]);
        assert_eq!(pick(&e, blas2), Some((Engine::Blas, 1, false)));
        assert_eq!(e.best(all).map(|c| c.threads), Some(1));
        // The prior stands against a faster candidate of as many threads within the noise.
        let e = entry(vec![
            c(Engine::Rayon, 1, 100.0, 0.05),
            c(Engine::Blas, 1, 104.0, 0.05),
            c(Engine::Blas, 2, 90.0, 0.05),
        ]);
        assert_eq!(e.best(all).map(|c| c.threads), Some(2));
        let e = entry(vec![
            c(Engine::Rayon, 1, 100.0, 0.05),
            c(Engine::Blas, 1, 104.0, 0.05),
        ]);
        assert_eq!(pick(&e, (Engine::Blas, 1)), Some((Engine::Blas, 1, true)));
        assert_eq!(e.best(all).map(|c| c.engine), Some(Engine::Rayon));
        // Quiet measurements (1 %): 4 % is a real difference (above TIE).
        let e = entry(vec![
            c(Engine::Blas, 1, 100.0, 0.01),
            c(Engine::Blas, 2, 104.0, 0.01),
        ]);
        assert_eq!(pick(&e, blas2), Some((Engine::Blas, 1, false)));
        // However noisy, the built-in choice never costs more than NOISE_CAP (10 %).
        let noisy = |slow: f64| {
            entry(vec![
                c(Engine::Rayon, 2, 100.0, 0.5),
                c(Engine::Blas, 2, slow, 0.5),
            ])
        };
        assert_eq!(pick(&noisy(109.0), blas2), Some((Engine::Blas, 2, true)));
        assert_eq!(pick(&noisy(111.0), blas2), Some((Engine::Rayon, 2, false)));
        // The prior agreeing with the pick, absent from the entry, or not allowed: the plain
        // choice, not flagged.
        assert_eq!(pick(&noisy(99.0), blas2), Some((Engine::Blas, 2, false)));
        assert_eq!(
            pick(&noisy(105.0), (Engine::RayonBlas, 2)),
            Some((Engine::Rayon, 2, false))
        );
        let e = noisy(105.0);
        assert_eq!(
            e.best_against(|engine, _| engine == Engine::Rayon, Some(blas2))
                .map(|(c, stood)| (c.engine, stood)),
            Some((Engine::Rayon, false))
        );
    }

    #[test]
    fn long_calls_tie_to_the_built_in_choice_then_the_fastest_not_the_fewest_threads() {
        let c = |engine, threads, millis: f64, spread| cand(engine, threads, millis * 1e-3, spread);
        let entry = |cands: Vec<Candidate>| entry_at(Op::Axpy, [16_000_000, 0, 0], cands);
        let pick = pick_against;
        // axpy of 16 M elements on the Zen 5 VM: 2 threads 3 % faster, spreads 7 %.
        let e = entry(vec![
            c(Engine::Blas, 1, 6.52, 0.05),
            c(Engine::RayonBlas, 2, 6.36, 0.07),
            c(Engine::Blas, 2, 6.40, 0.07),
        ]);
        // No prior: the fastest, not the 1-thread candidate within the noise.
        assert_eq!(pick(&e, None), Some((Engine::RayonBlas, 2, false)));
        // The built-in choice within the noise stands, whatever its threads.
        let blas1 = Some((Engine::Blas, 1));
        assert_eq!(pick(&e, blas1), Some((Engine::Blas, 1, true)));
        assert_eq!(
            pick(&e, Some((Engine::Blas, 2))),
            Some((Engine::Blas, 2, true))
        );
        // Outside the noise it does not.
        let e = entry(vec![
            c(Engine::Blas, 1, 7.30, 0.02),
            c(Engine::Blas, 2, 6.10, 0.02),
        ]);
        assert_eq!(pick(&e, blas1), Some((Engine::Blas, 2, false)));
        // Just under STEADY_CALL_SECONDS the fewest threads win the tie again.
        let e = entry(vec![
            c(Engine::Blas, 2, 0.99, 0.05),
            c(Engine::Blas, 1, 1.01, 0.05),
        ]);
        assert_eq!(pick(&e, None), Some((Engine::Blas, 1, false)));
    }

    #[test]
    fn shape_classes() {
        let p = |m, n, k| ShapeClass::of(Shape::Product { m, n, k }).unwrap();
        assert_eq!(p(512, 512, 512), ShapeClass::Square);
        assert_eq!(p(512, 300, 200), ShapeClass::Square);
        assert_eq!(p(8192, 64, 64), ShapeClass::Tall);
        assert_eq!(p(64, 8192, 64), ShapeClass::Wide);
        assert_eq!(p(64, 64, 8192), ShapeClass::Deep);
        assert_eq!(p(1024, 1024, 32), ShapeClass::Outer);
        assert_eq!(p(1024, 32, 1024), ShapeClass::Tall);
        assert_eq!(p(32, 1024, 1024), ShapeClass::Wide);
        assert_eq!(p(0, 0, 0), ShapeClass::Square);
        assert_eq!(
            ShapeClass::of(Shape::Matrix(4000, 100)),
            Some(ShapeClass::Tall)
        );
        assert_eq!(ShapeClass::of(Shape::Vector(7)), Some(ShapeClass::Vector));
        assert_eq!(ShapeClass::of(Shape::Unknown), None);
    }

    #[test]
    fn every_operation_has_a_measured_stand_in_of_its_family() {
        for op in Op::ALL {
            let p = proxy(op).unwrap_or_else(|| panic!("{op} has no stand-in"));
            assert_eq!(proxy(p), Some(p), "{op}: the stand-in stands for itself");
            assert_eq!(p.family(), op.family(), "{op} → {p}");
        }
    }
}
