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
/// with "too many memory regions" or segfaults (a property of that build, see DESIGN.md).
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
    /// Calls waiting for any reason (a release wakes them only if there are some: waking a
    /// condition variable costs a system call even when nobody waits).
    waiting: usize,
    /// A `fork` is being prepared: no new call enters until it is done (see `threads::fork`).
    forking: bool,
}

static GATE: Mutex<Gate> = Mutex::new(Gate {
    mode: 0,
    callers: 0,
    inside: 0,
    waiting_other: 0,
    waiting: 0,
    forking: false,
});
static GATE_FREED: Condvar = Condvar::new();

fn lock() -> MutexGuard<'static, Gate> {
    // The gate's state stays consistent even if a holder panicked (it only does arithmetic),
    // so a poisoned lock is taken over rather than propagated.
    GATE.lock().unwrap_or_else(PoisonError::into_inner)
}

thread_local! {
    /// Thread count of the pass this thread holds (0: none). While a thread holds a pass, its
    /// BLAS calls run inside it without touching the gate (see [`hold`]).
    static HELD: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Permission to be inside OpenBLAS with a fixed thread count; released on drop.
#[derive(Debug)]
pub(crate) struct Pass {
    threads: usize,
    /// Taken while this thread already held a pass: dropping it releases nothing.
    nested: bool,
}

impl Drop for Pass {
    fn drop(&mut self) {
        if self.nested {
            return;
        }
        HELD.with(|h| h.set(0));
        let mut g = lock();
        g.callers -= 1;
        g.inside -= self.threads;
        let wake = g.waiting > 0;
        drop(g);
        if wake {
            GATE_FREED.notify_all();
        }
    }
}

/// Waits until a call with `threads` OpenBLAS threads may run, sets OpenBLAS to that count if
/// needed, and returns the pass that keeps it so until dropped.
///
/// On a thread that already holds a pass the call runs inside that pass, with its thread
/// count: waiting for another count would wait for this very thread.
pub(crate) fn enter(threads: usize) -> Pass {
    let threads = threads.clamp(1, MAX_THREADS_INSIDE);
    let held = HELD.with(std::cell::Cell::get);
    if held != 0 {
        return Pass {
            threads: held,
            nested: true,
        };
    }
    super::fork::register();
    let mut g = lock();
    loop {
        if g.forking {
            // Wait below until the fork is done.
        } else if g.callers == 0 {
            if g.mode != threads {
                // SAFETY: plain setter of OpenBLAS; no call of parla is inside OpenBLAS now
                // (callers == 0 under the lock), so no running call sees the change.
                unsafe { openblas_set_num_threads(threads as c_int) };
                g.mode = threads;
            }
            break;
        }
        let joinable = !g.forking
            && g.mode == threads
            && g.waiting_other == 0
            && g.inside + threads <= MAX_THREADS_INSIDE;
        if joinable {
            break;
        }
        let other = g.mode != threads;
        if other {
            g.waiting_other += 1;
        }
        g.waiting += 1;
        g = GATE_FREED.wait(g).unwrap_or_else(PoisonError::into_inner);
        g.waiting -= 1;
        if other {
            g.waiting_other -= 1;
        }
    }
    g.callers += 1;
    g.inside += threads;
    drop(g);
    HELD.with(|h| h.set(threads));
    Pass {
        threads,
        nested: false,
    }
}

thread_local! {
    /// The gate's lock, held by the forking thread from the fork's *prepare* handler until the
    /// *parent* / *child* handler (see `threads::fork`).
    static HELD_FOR_FORK: std::cell::RefCell<Option<MutexGuard<'static, Gate>>> =
        const { std::cell::RefCell::new(None) };
}

/// Fork *prepare*: closes the gate to new calls, waits until no call is inside OpenBLAS (but
/// the forking thread's own, if it holds a pass), and holds the gate's lock across the fork.
/// The child then never inherits OpenBLAS in the middle of a call, nor the lock taken.
pub(super) fn fork_prepare() {
    let own = usize::from(HELD.with(std::cell::Cell::get) != 0);
    let mut g = lock();
    g.forking = true;
    while g.callers > own {
        g.waiting += 1;
        g = GATE_FREED.wait(g).unwrap_or_else(PoisonError::into_inner);
        g.waiting -= 1;
    }
    HELD_FOR_FORK.with(|h| *h.borrow_mut() = Some(g));
}

/// Fork *parent*: reopens the gate.
pub(super) fn fork_parent() {
    let g = HELD_FOR_FORK.with(|h| h.borrow_mut().take());
    let mut g = g.unwrap_or_else(lock);
    g.forking = false;
    let wake = g.waiting > 0;
    drop(g);
    if wake {
        GATE_FREED.notify_all();
    }
}

/// Fork *child*: the only thread left is the forking one; nobody else is inside OpenBLAS or
/// waiting at the gate.
pub(super) fn fork_child() {
    let g = HELD_FOR_FORK.with(|h| h.borrow_mut().take());
    let mut g = g.unwrap_or_else(lock);
    let held = HELD.with(std::cell::Cell::get);
    g.forking = false;
    g.waiting = 0;
    g.waiting_other = 0;
    g.callers = usize::from(held != 0);
    g.inside = held;
}

/// Enters the gate once for all the single-threaded BLAS calls this thread makes until the pass
/// is dropped. A batch worker holds one over a chunk of items instead of taking the gate's lock
/// twice per item: with tiny matrices, two workers otherwise spend more time contending for
/// that lock than computing. Calls made meanwhile run with one thread whatever they ask for, so
/// hold a pass only around calls that ask for one.
pub(crate) fn hold_single() -> Pass {
    enter(1)
}

/// Stack a multi-threaded OpenBLAS/LAPACK call needs on the thread that makes it.
///
/// Debian's OpenBLAS 0.3.21 (built for up to 64 threads) puts ~530 KiB frames on the caller's
/// stack in its threaded LU (`getrf_parallel`, reached by `solve`, `inv`, `det`, `lu`) and nests
/// them: with that build a 2-thread `inv` needs up to 4 MiB of stack (n = 150 to
/// 4000), so it segfaults on a thread with Rust's default 2 MiB stack (every `#[test]`, every
/// `std::thread::spawn`). 6 MiB leaves a margin; the main thread (8 MiB) qualifies.
pub const STACK_NEEDED: usize = 6 << 20;

/// Stack of the helper thread a multi-threaded call moves to when its caller's stack is smaller
/// than [`STACK_NEEDED`]. Only the pages it touches are ever committed.
const STACK_FOR_HOP: usize = 32 << 20;

thread_local! {
    /// Lowest address of the calling thread's stack, measured once per thread.
    static STACK_LOW: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
}

fn stack_low() -> Option<usize> {
    if let Some(low) = STACK_LOW.with(std::cell::Cell::get) {
        return Some(low);
    }
    // SAFETY: `attr` is initialised by pthread_getattr_np before it is read and destroyed
    // after; `addr` and `size` are plain out-parameters.
    let low = unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) != 0 {
            return None;
        }
        let mut addr: *mut libc::c_void = std::ptr::null_mut();
        let mut size: libc::size_t = 0;
        let rc = libc::pthread_attr_getstack(&attr, &mut addr, &mut size);
        libc::pthread_attr_destroy(&mut attr);
        if rc != 0 {
            return None;
        }
        addr as usize
    };
    STACK_LOW.with(|c| c.set(Some(low)));
    Some(low)
}

/// Bytes of stack left below the current frame, if the stack bounds are known.
fn stack_remaining() -> Option<usize> {
    let marker = 0u8;
    let here = std::hint::black_box(&marker) as *const u8 as usize;
    here.checked_sub(stack_low()?)
}

/// Moves a pointer to another thread. Sound here because the sending thread blocks until the
/// closure has finished (scoped thread), so everything it borrows or points to stays alive and
/// unused by the sender meanwhile, exactly as if it ran on the sending thread.
struct AssertSend<F>(F);
// SAFETY: see the type's documentation; the receiver is joined before the sender continues.
unsafe impl<F> Send for AssertSend<F> {}

/// Runs the BLAS call `f` inside OpenBLAS's gate with `threads` threads.
///
/// BLAS kernels keep small frames (a 2-thread GEMM runs on a 256 KiB stack), so they run on
/// the calling thread whatever its stack.
pub(crate) fn with_threads<R>(threads: usize, f: impl FnOnce() -> R) -> R {
    let _pass = enter(threads);
    f()
}

/// Runs the LAPACK call `f` inside OpenBLAS's gate with `threads` threads.
///
/// A multi-threaded call from a thread with less than [`STACK_NEEDED`] bytes of stack left runs
/// on a helper thread with a large stack while the caller waits (see [`STACK_NEEDED`] for why);
/// if no thread can be started, it runs here with one OpenBLAS thread instead.
pub(crate) fn with_threads_lapack<R: Send, F: FnOnce() -> R>(threads: usize, f: F) -> R {
    let held = HELD.with(std::cell::Cell::get);
    // Inside a held pass the call runs with the pass's count, on this thread (a helper thread
    // would queue at the gate behind this very thread); passes are only held for one thread.
    let threads = if held != 0 { held } else { threads };
    let small_stack = stack_remaining().is_none_or(|r| r < STACK_NEEDED);
    if threads > 1 && small_stack && held == 0 {
        let mut slot = Some(f);
        let job = AssertSend(&mut slot as *mut Option<F>);
        let hopped = std::thread::scope(|s| {
            std::thread::Builder::new()
                .name("parla-openblas".to_string())
                .stack_size(STACK_FOR_HOP)
                .spawn_scoped(s, move || {
                    let job = job;
                    // SAFETY: `slot` outlives this scoped thread and the caller does not touch
                    // it until the thread is joined (see `AssertSend`).
                    let f = unsafe { (*job.0).take() }.expect("the job is taken once");
                    let _pass = enter(threads);
                    f()
                })
                .ok()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
        });
        if let Some(r) = hopped {
            return r;
        }
        // No thread could be started: run here, single-threaded, which needs no large stack.
        let f = slot.take().expect("the job did not run");
        let _pass = enter(1);
        return f();
    }
    let _pass = enter(threads);
    f()
}

/// Runs `f`, which makes many LAPACK calls with `threads` threads, on a thread with a stack of
/// at least [`STACK_NEEDED`]: here when this thread has it (or `threads` is 1), else on one
/// helper thread with a large stack while the caller waits. A loop of multi-threaded LAPACK
/// calls made from a small stack (any spawned thread, every `#[test]`) would otherwise start a
/// helper thread per call: measured, 1000 solves of 64×64 at 2 threads took 241 ms instead of
/// 47 ms from a 2 MiB thread. If no thread can be started, `f` runs here (each call then moves
/// or drops to one thread by itself, see [`with_threads_lapack`]).
pub(crate) fn with_lapack_stack<R: Send, F: FnOnce() -> R + Send>(threads: usize, f: F) -> R {
    let small_stack = stack_remaining().is_none_or(|r| r < STACK_NEEDED);
    if threads <= 1 || !small_stack {
        return f();
    }
    let mut slot = Some(f);
    let hopped = std::thread::scope(|s| {
        let slot = &mut slot;
        std::thread::Builder::new()
            .name("parla-openblas".to_string())
            .stack_size(STACK_FOR_HOP)
            .spawn_scoped(s, move || slot.take().map(|f| f()))
            .ok()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
    });
    match (hopped.flatten(), slot.take()) {
        (Some(r), _) => r,
        (None, Some(f)) => f(),
        (None, None) => unreachable!("the helper took the job and returned its result"),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_pass_covers_the_threads_calls_and_lets_single_threaded_callers_in() {
        let held = hold_single();
        assert_eq!(HELD.with(std::cell::Cell::get), 1);
        // A call asking for 2 threads on the holding thread runs inside the pass (waiting for
        // the gate would wait for this very thread).
        let inner = enter(2);
        assert!(inner.nested && inner.threads == 1);
        drop(inner);
        assert_eq!(
            HELD.with(std::cell::Cell::get),
            1,
            "a nested pass releases nothing"
        );
        // Another thread's single-threaded call joins while the pass is held.
        std::thread::scope(|s| {
            s.spawn(|| {
                let p = enter(1);
                assert!(!p.nested);
                assert_eq!(current_threads(), 1);
            });
        });
        drop(held);
        assert_eq!(HELD.with(std::cell::Cell::get), 0);
        let p = with_threads(2, || HELD.with(std::cell::Cell::get));
        assert_eq!(p, 2, "after the pass, calls take the gate again");
    }
}
