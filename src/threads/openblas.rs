//! OpenBLAS's thread settings, driven through its C API, and the gate every BLAS/LAPACK call of
//! parla passes through.
//!
//! OpenBLAS keeps one process-wide thread count. parla calls arrive with their own count (from
//! an [`Exec`](crate::Exec) value), possibly from many threads at once, so the count cannot simply
//! be set before each call: a 2-thread call could change it under a 1-thread call running in a
//! rayon worker. The gate below runs calls in *phases*: all calls inside OpenBLAS at a given
//! moment want the same thread count, and the count is changed only when nobody is inside.
//! It also caps the number of OpenBLAS threads working at once (see [`MAX_THREADS_INSIDE`]).

use std::ffi::CStr;
use std::os::raw::{c_char, c_int};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

extern "C" {
    fn openblas_set_num_threads(num_threads: c_int);
    fn openblas_get_num_threads() -> c_int;
    fn openblas_get_num_procs() -> c_int;
    fn openblas_get_config() -> *const c_char;
    fn openblas_get_corename() -> *const c_char;
    fn openblas_get_parallel() -> c_int;
}

/// Most OpenBLAS threads (callers × threads per call) that may work inside OpenBLAS at once.
///
/// Debian's OpenBLAS 0.3.21 is built with `MAX_THREADS=64` and keeps a fixed table of memory
/// buffers (two per possible thread); when about 176 threads call it at the same time it aborts
/// with "too many memory regions" or segfaults (measured on the dev machine, see DESIGN.md).
/// 64 keeps every caller within the table with a wide margin, and far exceeds the cores of any
/// machine where more concurrency would help.
pub const MAX_THREADS_INSIDE: usize = 64;

#[derive(Debug)]
struct Gate {
    /// Thread count OpenBLAS is set to; 0 before parla first sets it.
    mode: usize,
    /// Calls currently inside OpenBLAS.
    callers: usize,
    /// OpenBLAS threads currently working (sum of the callers' counts).
    inside: usize,
    /// Calls waiting for a different thread count than `mode`.
    waiting_other: usize,
}

static GATE: Mutex<Gate> = Mutex::new(Gate {
    mode: 0,
    callers: 0,
    inside: 0,
    waiting_other: 0,
});
static GATE_FREED: Condvar = Condvar::new();

fn lock() -> MutexGuard<'static, Gate> {
    // The gate's state stays consistent even if a holder panicked (it only does arithmetic),
    // so a poisoned lock is taken over rather than propagated.
    GATE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Permission to be inside OpenBLAS with a fixed thread count; released on drop.
#[derive(Debug)]
pub(crate) struct Pass {
    threads: usize,
}

impl Drop for Pass {
    fn drop(&mut self) {
        let mut g = lock();
        g.callers -= 1;
        g.inside -= self.threads;
        drop(g);
        GATE_FREED.notify_all();
    }
}

/// Waits until a call with `threads` OpenBLAS threads may run, sets OpenBLAS to that count if
/// needed, and returns the pass that keeps it so until dropped.
pub(crate) fn enter(threads: usize) -> Pass {
    let threads = threads.clamp(1, MAX_THREADS_INSIDE);
    let mut g = lock();
    loop {
        if g.callers == 0 {
            if g.mode != threads {
                // SAFETY: plain setter of OpenBLAS; no call of parla is inside OpenBLAS now
                // (callers == 0 under the lock), so no running call sees the change.
                unsafe { openblas_set_num_threads(threads as c_int) };
                g.mode = threads;
            }
            break;
        }
        let joinable =
            g.mode == threads && g.waiting_other == 0 && g.inside + threads <= MAX_THREADS_INSIDE;
        if joinable {
            break;
        }
        let other = g.mode != threads;
        if other {
            g.waiting_other += 1;
        }
        g = GATE_FREED.wait(g).unwrap_or_else(PoisonError::into_inner);
        if other {
            g.waiting_other -= 1;
        }
    }
    g.callers += 1;
    g.inside += threads;
    Pass { threads }
}

/// Runs `f` inside OpenBLAS's gate with `threads` threads.
pub(crate) fn with_threads<R>(threads: usize, f: impl FnOnce() -> R) -> R {
    let _pass = enter(threads);
    f()
}

fn c_text(p: *const c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: OpenBLAS returns pointers to static NUL-terminated strings.
    unsafe { CStr::from_ptr(p) }
        .to_string_lossy()
        .trim()
        .to_string()
}

/// What OpenBLAS says about itself.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OpenBlasInfo {
    /// `openblas_get_config()`, e.g. `OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Cooperlake MAX_THREADS=64`.
    pub config: String,
    /// The version number parsed from the config string.
    pub version: String,
    /// `openblas_get_corename()`: the kernel family picked for this CPU.
    pub corename: String,
    /// `openblas_get_parallel()`: `sequential`, `pthreads` or `openmp`.
    pub threading: String,
    /// `openblas_get_num_threads()`: the thread count OpenBLAS is set to now.
    pub num_threads: usize,
    /// `openblas_get_num_procs()`: the processors OpenBLAS detected.
    pub num_procs: usize,
    /// `MAX_THREADS=` from the config string, when present.
    pub max_threads: Option<usize>,
}

/// Queries OpenBLAS's build and thread settings.
pub fn info() -> OpenBlasInfo {
    // SAFETY: read-only queries without arguments; they return static strings or integers.
    let (config, corename, parallel, threads, procs) = unsafe {
        (
            c_text(openblas_get_config()),
            c_text(openblas_get_corename()),
            openblas_get_parallel(),
            openblas_get_num_threads(),
            openblas_get_num_procs(),
        )
    };
    let version = config
        .split_whitespace()
        .nth(1)
        .filter(|v| v.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .unwrap_or("unknown")
        .to_string();
    let max_threads = config
        .split_whitespace()
        .find_map(|w| w.strip_prefix("MAX_THREADS="))
        .and_then(|v| v.parse().ok());
    let threading = match parallel {
        0 => "sequential",
        1 => "pthreads",
        2 => "openmp",
        _ => "unknown",
    }
    .to_string();
    OpenBlasInfo {
        config,
        version,
        corename,
        threading,
        num_threads: threads.max(0) as usize,
        num_procs: procs.max(0) as usize,
        max_threads,
    }
}

/// The thread count OpenBLAS is set to right now.
pub fn current_threads() -> usize {
    // SAFETY: read-only query.
    unsafe { openblas_get_num_threads() }.max(0) as usize
}
