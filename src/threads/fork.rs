//! Keeping parla usable in a child made by `fork()`.
//!
//! A forked child has one thread: the one that called `fork`. Everything else of the parent's
//! memory is copied, including state that describes threads the child does not have:
//! * the rayon pools of the engines ([`engine_pool`](super::engine_pool)): their workers are
//!   gone, so a job sent to them would wait forever;
//! * the OpenBLAS gate ([`openblas`](super::openblas)): calls that were inside OpenBLAS or
//!   queued at the gate in the parent would count as present forever;
//! * the locks guarding both, if another thread held one at the moment of the fork.
//!
//! numpy / OpenBLAS users and Python's `multiprocessing` fork after BLAS work all the time, so
//! parla registers `pthread_atfork` handlers (the first time a pool or the gate is used; before
//! that there is nothing to repair):
//! * *prepare* (in the parent, before the fork): closes the gate to new calls, waits until no
//!   parla call is inside OpenBLAS (so OpenBLAS is never copied in the middle of a call), then
//!   holds the gate's lock and the pools' lock across the fork;
//! * *parent* (after the fork): reopens the gate and releases both locks;
//! * *child*: forgets the inherited pools (leaked, not dropped: dropping would signal workers
//!   that do not exist) so the next call builds fresh ones, clears the gate of the parent's
//!   callers, and releases both locks.
//!
//! OpenBLAS has its own fork handler for its worker threads. A `Parallel` value (its own pool)
//! made before the fork must not be used in the child: make a new one there.

use std::sync::Once;

/// Registers the fork handlers once per process.
pub(crate) fn register() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: the three handlers are `extern "C"` functions without arguments that never
        // unwind (they only take locks and update counters; poisoned locks are taken over).
        // A failure to register (ENOMEM) leaves the previous behaviour: nothing to undo.
        unsafe {
            libc::pthread_atfork(Some(prepare), Some(parent), Some(child));
        }
    });
}

/// Before `fork`, in the parent: the gate first (waiting may need other threads to finish
/// their BLAS calls, which never need the pools' lock), then the pools.
unsafe extern "C" fn prepare() {
    super::openblas::fork_prepare();
    super::fork_prepare_pools();
}

/// After `fork`, in the parent: everything as it was.
unsafe extern "C" fn parent() {
    super::fork_parent_pools();
    super::openblas::fork_parent();
}

/// After `fork`, in the child: fresh pools on demand, a gate without the parent's callers.
unsafe extern "C" fn child() {
    super::fork_child_pools();
    super::openblas::fork_child();
}
