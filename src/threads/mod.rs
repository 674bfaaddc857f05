//! The thread budget: the only code in parla that reads environment variables or changes
//! OpenBLAS / rayon thread settings.
//!
//! # Precedence
//! For a call that uses the process defaults, the thread count is the first of:
//! 1. a scoped limit on the calling thread ([`with_num_threads`], [`ThreadLimit`]);
//! 2. the runtime budget set by [`set_num_threads`];
//! 3. `PARLA_NUM_THREADS`;
//! 4. `OPENBLAS_NUM_THREADS` for the `blas` engine, `RAYON_NUM_THREADS` for the rayon engines;
//! 5. the cores this process may use ([`usable_cores`]: CPU affinity and cgroup quota respected).
//!
//! The engine is likewise the first of [`with_backend`], [`set_backend`], `PARLA_BACKEND`, `auto`.
//!
//! Whatever the budget, a call made from inside a rayon worker thread (parla's or the user's)
//! runs OpenBLAS with one thread, so nested parallelism never multiplies threads.
//!
//! # Fork
//! A child made by `fork()` (Python's `multiprocessing`, a server's pre-fork workers) can call
//! parla on any engine and thread count: the engines' pools are rebuilt in the child (the
//! parent's workers are not copied by `fork`), and a `fork` waits until no parla call of
//! another thread is inside OpenBLAS. A [`Parallel`](crate::Parallel) made before the fork
//! returns an error in the child; make a new one there.

pub mod affinity;
pub mod env;
mod fork;
pub mod openblas;

use std::cell::Cell;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

use crate::engine::Engine;
use crate::error::{Error, Result};

pub use env::MAX_THREADS;

/// Runtime budget; 0 = not set.
static RUNTIME_THREADS: AtomicUsize = AtomicUsize::new(0);
/// Runtime engine; 0 = not set, else 1 + index in `Engine::ALL`.
static RUNTIME_ENGINE: AtomicU8 = AtomicU8::new(0);

thread_local! {
    static SCOPED_THREADS: Cell<Option<usize>> = const { Cell::new(None) };
    static SCOPED_ENGINE: Cell<Option<Engine>> = const { Cell::new(None) };
}

/// `n` if it is a valid thread count (1 to [`MAX_THREADS`]), else the error naming `op`.
pub(crate) fn check_count(op: &'static str, n: usize) -> Result<usize> {
    if (1..=MAX_THREADS).contains(&n) {
        Ok(n)
    } else {
        Err(Error::InvalidArgument {
            op,
            name: "threads",
            reason: format!("got {n}; expected 1 to {MAX_THREADS}"),
        })
    }
}

/// The number of CPUs this process may run on: the affinity mask and the cgroup CPU quota are
/// respected (through `std::thread::available_parallelism`). At least 1.
///
/// Measured once per process and cached: the standard library reads the cgroup files on every
/// query (about ten system calls), which would otherwise cost tens of microseconds per call
/// of every free function.
pub fn usable_cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// The CPU each worker of an engine pool of `n` threads is pinned to, or `None` when such a
/// pool is left to the OS ([`affinity::plan`] with `PARLA_PIN_THREADS`).
///
/// # Errors
/// [`Error::InvalidEnv`] for a bad `PARLA_PIN_THREADS`.
pub fn pinned_cpus(n: usize) -> Result<Option<Vec<usize>>> {
    Ok(affinity::plan(n, env::snapshot().pin_threads.clone()?))
}

/// A rayon pool of exactly `n` threads, named `parla-<purpose>-<i>`, separate from rayon's
/// global pool (which this never touches). When the pool covers the whole affinity mask, each
/// worker is pinned to one CPU of it ([`affinity`]; `PARLA_PIN_THREADS=off` disables that).
///
/// # Errors
/// [`Error::InvalidArgument`] unless `1 <= n <= MAX_THREADS`, or when the threads cannot be
/// started; [`Error::InvalidEnv`] for a bad `PARLA_PIN_THREADS`.
pub fn pool(purpose: &'static str, n: usize) -> Result<rayon::ThreadPool> {
    let n = check_count("pool", n)?;
    pool_pinned(purpose, n, pinned_cpus(n)?)
}

/// [`pool`] with worker `i` pinned to `pins[i]` (none pinned for `None`).
fn pool_pinned(
    purpose: &'static str,
    n: usize,
    pins: Option<Vec<usize>>,
) -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .thread_name(move |i| format!("parla-{purpose}-{i}"))
        .start_handler(move |i| {
            if let Some(cpu) = pins.as_ref().and_then(|c| c.get(i)) {
                affinity::pin_current(*cpu);
            }
        })
        .build()
        .map_err(|e| Error::InvalidArgument {
            op: "pool",
            name: "threads",
            reason: format!("cannot start {n} threads: {e}"),
        })
}

/// A shared engine pool and the CPU each of its workers is pinned to (worker `i` on
/// `pins[i]`; `None` when the pool is left to the OS), looked up once when the pool is built.
#[derive(Clone)]
pub(crate) struct EnginePool {
    pub(crate) pool: std::sync::Arc<rayon::ThreadPool>,
    pub(crate) pins: Option<std::sync::Arc<[usize]>>,
}

/// The shared engine pools, by thread count.
type Pools = std::collections::HashMap<usize, EnginePool>;

static POOLS: std::sync::Mutex<Option<Pools>> = std::sync::Mutex::new(None);

fn lock_pools() -> std::sync::MutexGuard<'static, Option<Pools>> {
    // The map stays consistent even if a holder panicked (insertions are single calls).
    POOLS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

thread_local! {
    /// The pools' lock, held by the forking thread from the fork's *prepare* handler until the
    /// *parent* / *child* handler (see [`fork`]).
    static POOLS_HELD_FOR_FORK: std::cell::RefCell<Option<std::sync::MutexGuard<'static, Option<Pools>>>> =
        const { std::cell::RefCell::new(None) };
}

/// Fork *prepare*: holds the pools' lock across the fork, so the child never inherits it taken
/// by a thread it does not have.
fn fork_prepare_pools() {
    let guard = lock_pools();
    POOLS_HELD_FOR_FORK.with(|h| *h.borrow_mut() = Some(guard));
}

/// Fork *parent*: releases the pools' lock.
fn fork_parent_pools() {
    drop(POOLS_HELD_FOR_FORK.with(|h| h.borrow_mut().take()));
}

/// Fork *child*: the inherited pools have no workers; forget them (leaked on purpose: dropping
/// one would signal workers that do not exist) so the next call builds new ones.
fn fork_child_pools() {
    let guard = POOLS_HELD_FOR_FORK.with(|h| h.borrow_mut().take());
    let mut guard = guard.unwrap_or_else(lock_pools);
    if let Some(old) = guard.take() {
        std::mem::forget(old);
    }
}

/// The rayon pool of an engine with `n` threads, built once per size and shared by every call
/// that asks for that size (so a 2-thread budget always means the same two workers). In a
/// child made by `fork`, the parent's pools are replaced by new ones (see [`fork`]).
///
/// # Errors
/// As [`pool`].
pub(crate) fn engine_pool(n: usize) -> Result<EnginePool> {
    fork::register();
    let mut pools = lock_pools();
    let pools = pools.get_or_insert_with(Pools::new);
    if let Some(p) = pools.get(&n) {
        return Ok(p.clone());
    }
    let n = check_count("pool", n)?;
    let pins = pinned_cpus(n)?;
    let p = EnginePool {
        pool: std::sync::Arc::new(pool_pinned("engine", n, pins.clone())?),
        pins: pins.map(Into::into),
    };
    pools.insert(n, p.clone());
    Ok(p)
}

/// Read-back for reports: the number of worker threads in the shared engine pool that a rayon
/// engine call with a budget of `n` threads runs on (built now if no call has used it yet).
/// `parla compare` checks it equals `n` before timing a cell.
///
/// # Errors
/// As [`pool`].
///
/// ```
/// assert_eq!(parla::threads::engine_pool_threads(3)?, 3);
/// # Ok::<(), parla::Error>(())
/// ```
pub fn engine_pool_threads(n: usize) -> Result<usize> {
    Ok(engine_pool(n)?.pool.current_num_threads())
}

/// Whether the calling thread is a worker of some rayon pool (parla's or the user's).
pub fn in_rayon_worker() -> bool {
    rayon::current_thread_index().is_some()
}

/// Where the thread count of the process defaults came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A scoped limit on the calling thread.
    Scoped,
    /// [`set_num_threads`].
    Runtime,
    /// `PARLA_NUM_THREADS`.
    ParlaEnv,
    /// `OPENBLAS_NUM_THREADS`.
    OpenBlasEnv,
    /// `RAYON_NUM_THREADS`.
    RayonEnv,
    /// The cores this process may use.
    Cores,
}

/// The thread budget for `engine` under the process defaults, with where it came from.
///
/// For [`Engine::Auto`] the `blas` rules apply to the blas side and the rayon rules to the rayon
/// side; use [`Engine::Blas`] or [`Engine::Rayon`] to ask for one of them.
///
/// # Errors
/// [`Error::InvalidEnv`] if a variable that decides the answer holds a bad value.
pub fn budget_for(engine: Engine) -> Result<(usize, Source)> {
    if let Some(n) = SCOPED_THREADS.with(Cell::get) {
        return Ok((n, Source::Scoped));
    }
    let rt = RUNTIME_THREADS.load(Ordering::Acquire);
    if rt != 0 {
        return Ok((rt, Source::Runtime));
    }
    let snap = env::snapshot();
    if let Some(n) = snap.threads.clone()? {
        return Ok((n, Source::ParlaEnv));
    }
    let specific = match engine {
        Engine::Blas | Engine::Auto => snap.openblas.clone()?.map(|n| (n, Source::OpenBlasEnv)),
        Engine::RayonBlas | Engine::Rayon => snap.rayon.clone()?.map(|n| (n, Source::RayonEnv)),
    };
    Ok(specific.unwrap_or((usable_cores(), Source::Cores)))
}

/// The thread budget for the default engine: see the module docs for the precedence.
///
/// # Errors
/// [`Error::InvalidEnv`] if a variable that decides the answer holds a bad value.
pub fn num_threads() -> Result<usize> {
    budget_for(backend()?).map(|(n, _)| n)
}

/// Sets the process-wide thread budget (overrides every environment variable).
///
/// # Errors
/// [`Error::InvalidArgument`] unless `1 <= n <= MAX_THREADS`.
pub fn set_num_threads(n: usize) -> Result<()> {
    RUNTIME_THREADS.store(check_count("set_num_threads", n)?, Ordering::Release);
    Ok(())
}

/// Forgets the budget set by [`set_num_threads`]; the environment decides again.
pub fn reset_num_threads() {
    RUNTIME_THREADS.store(0, Ordering::Release);
}

/// The default engine: scoped > [`set_backend`] > `PARLA_BACKEND` > `auto`.
///
/// # Errors
/// [`Error::InvalidEnv`] if `PARLA_BACKEND` decides the answer and holds a bad value.
pub fn backend() -> Result<Engine> {
    if let Some(e) = SCOPED_ENGINE.with(Cell::get) {
        return Ok(e);
    }
    match RUNTIME_ENGINE.load(Ordering::Acquire) {
        0 => Ok(env::snapshot().backend.clone()?.unwrap_or(Engine::Auto)),
        i => Ok(Engine::ALL[usize::from(i - 1)]),
    }
}

/// Sets the process-wide default engine (overrides `PARLA_BACKEND`).
pub fn set_backend(engine: Engine) {
    let i = Engine::ALL.iter().position(|e| *e == engine).unwrap_or(0);
    RUNTIME_ENGINE.store(i as u8 + 1, Ordering::Release);
}

/// Forgets the engine set by [`set_backend`].
pub fn reset_backend() {
    RUNTIME_ENGINE.store(0, Ordering::Release);
}

/// A scoped thread limit for parla calls made on the current thread; the previous limit comes
/// back when it is dropped.
///
/// The limit is per thread: scopes opened on different threads at the same time do not see
/// each other, so nothing needs restoring in the "right" order across threads. It is `!Send`,
/// so it is always dropped on the thread that made it. Calls made inside rayon workers started
/// from the scope get their budget from the [`Exec`](crate::Exec) value passed down to them.
#[derive(Debug)]
pub struct ThreadLimit {
    previous: Option<usize>,
    _not_send: PhantomData<*const ()>,
}

impl ThreadLimit {
    /// Limits parla calls on this thread to `n` threads until the value is dropped.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] unless `1 <= n <= MAX_THREADS`.
    pub fn new(n: usize) -> Result<Self> {
        let n = check_count("ThreadLimit::new", n)?;
        let previous = SCOPED_THREADS.with(|c| c.replace(Some(n)));
        Ok(ThreadLimit {
            previous,
            _not_send: PhantomData,
        })
    }
}

impl Drop for ThreadLimit {
    fn drop(&mut self) {
        SCOPED_THREADS.with(|c| c.set(self.previous));
    }
}

/// Runs `f` with parla calls on this thread limited to `n` threads, then restores the previous
/// limit (also when `f` panics).
///
/// # Errors
/// [`Error::InvalidArgument`] unless `1 <= n <= MAX_THREADS`; `f` is not run then.
pub fn with_num_threads<R>(n: usize, f: impl FnOnce() -> R) -> Result<R> {
    let _limit = ThreadLimit::new(n)?;
    Ok(f())
}

/// Runs `f` with `engine` as the default engine of parla calls on this thread.
pub fn with_backend<R>(engine: Engine, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Engine>);
    impl Drop for Restore {
        fn drop(&mut self) {
            SCOPED_ENGINE.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(SCOPED_ENGINE.with(|c| c.replace(Some(engine))));
    f()
}

/// The status of one environment variable, for `parla info`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EnvStatus {
    /// The variable.
    pub name: &'static str,
    /// Its raw value, `None` when unset.
    pub value: Option<String>,
    /// Whether it decides something now.
    pub in_effect: bool,
    /// In words: what it does, or why not.
    pub note: String,
}

/// What each parla-related environment variable holds and whether it took effect.
pub fn env_report() -> Vec<EnvStatus> {
    let snap = env::snapshot();
    let runtime = RUNTIME_THREADS.load(Ordering::Acquire) != 0;
    let runtime_engine = RUNTIME_ENGINE.load(Ordering::Acquire) != 0;
    let parla_set = matches!(snap.threads, Ok(Some(_)));
    snap.raw
        .iter()
        .map(|(name, value)| {
            let (in_effect, note) = status_of(
                name,
                value.is_some(),
                snap,
                runtime,
                runtime_engine,
                parla_set,
            );
            EnvStatus {
                name,
                value: value.clone(),
                in_effect,
                note,
            }
        })
        .collect()
}

fn status_of(
    name: &str,
    set: bool,
    snap: &env::EnvSnapshot,
    runtime: bool,
    runtime_engine: bool,
    parla_set: bool,
) -> (bool, String) {
    if !set {
        return (false, "unset".to_string());
    }
    let parsed = |r: &Result<Option<usize>>, what: &str| -> (bool, String) {
        match r {
            Err(e) => (false, format!("INVALID: {e}")),
            Ok(None) => (
                false,
                "0 = the library default; parla uses its own default".to_string(),
            ),
            Ok(Some(n)) => (true, format!("{what} = {n}")),
        }
    };
    match name {
        env::VAR_THREADS => {
            let (ok, text) = parsed(&snap.threads, "thread budget");
            if ok && runtime {
                (false, format!("{text}, overridden by set_num_threads"))
            } else {
                (ok, text)
            }
        }
        env::VAR_BACKEND => match &snap.backend {
            Err(e) => (false, format!("INVALID: {e}")),
            Ok(Some(e)) if runtime_engine => (false, format!("engine {e}, overridden by set_backend")),
            Ok(Some(e)) => (true, format!("default engine = {e}")),
            Ok(None) => (false, "unset".to_string()),
        },
        env::VAR_OPENBLAS | env::VAR_RAYON => {
            let (r, what) = if name == env::VAR_OPENBLAS {
                (&snap.openblas, "threads for the blas engine")
            } else {
                (&snap.rayon, "threads for the rayon engines")
            };
            let (ok, text) = parsed(r, what);
            if ok && (parla_set || runtime) {
                (false, format!("{text}, overridden by PARLA_NUM_THREADS or set_num_threads"))
            } else {
                (ok, text)
            }
        }
        env::VAR_CACHE_DIR => (
            true,
            "directory of parla's per-machine cache (parla peak, parla tune)".to_string(),
        ),
        env::VAR_TUNE_FILE => match &snap.tune_file {
            Err(e) => (false, format!("INVALID: {e}")),
            Ok(_) => (
                true,
                "the tuning profile auto reads and parla tune writes (see `auto`)".to_string(),
            ),
        },
        "OPENBLAS_CORETYPE" => (
            true,
            "read by OpenBLAS when it loads: forces its kernel family (see `core type`)".to_string(),
        ),
        _ => (
            false,
            "not read by parla; OpenBLAS reads it at load only when OPENBLAS_NUM_THREADS is unset, \
             and parla sets OpenBLAS's threads per call anyway"
                .to_string(),
        ),
    }
}

#[cfg(test)]
mod pin_tests {
    #[test]
    fn a_pool_covering_the_mask_has_one_worker_per_cpu() {
        let cpus = super::affinity::allowed_cpus();
        let pool = super::pool("pin-test", cpus.len()).unwrap();
        let mut seen = pool.broadcast(|_| super::affinity::allowed_cpus());
        if cpus.len() < 2 {
            assert!(seen.iter().all(|s| *s == cpus));
            return;
        }
        // Each worker runs on exactly one CPU, all different, together the whole mask.
        assert!(seen.iter().all(|s| s.len() == 1));
        seen.sort();
        assert_eq!(seen.concat(), cpus);
        // A smaller pool is left to the OS.
        let small = super::pool("pin-test", cpus.len() - 1).unwrap();
        assert!(small
            .broadcast(|_| super::affinity::allowed_cpus())
            .iter()
            .all(|s| *s == cpus));
    }
}
