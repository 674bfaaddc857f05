//! Pinning the engine pools' workers, one per allowed CPU.
//!
//! Measured on the 2-core Zen 5 VMs (`examples/pool_pinning.rs`): after one core has been
//! idle or busy with another engine, Linux often wakes both workers of a 2-thread pool on the
//! same CPU and takes up to ~80 ms to migrate one, so a 2-thread GEMM at n = 512 runs at the
//! 1-thread time (2.65 ms instead of 1.37 ms) for that long. A program that alternates
//! engines, or calls parla between other work, pays it again and again. Pinned, the workers
//! start on their own CPUs at once.
//!
//! parla pins only a pool whose size equals the process's affinity mask (the pool covers every
//! CPU the process may use, so pinning changes where each worker runs, never which CPUs are
//! used), never a smaller pool (another process, e.g. a second MPI rank, may use the other
//! CPUs). `PARLA_PIN_THREADS=off` turns it off.

/// The CPUs in this process's affinity mask, in increasing order (empty if it cannot be read).
pub fn allowed_cpus() -> Vec<usize> {
    // SAFETY: `set` is a zero-initialised cpu_set_t of the size passed; sched_getaffinity
    // fills it; CPU_ISSET reads bits below CPU_SETSIZE only.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return Vec::new();
        }
        (0..libc::CPU_SETSIZE as usize)
            .filter(|&c| libc::CPU_ISSET(c, &set))
            .collect()
    }
}

/// Restricts the calling thread to `cpu`. Returns whether the kernel accepted it (a failure
/// leaves the thread unpinned, which is only slower).
pub fn pin_current(cpu: usize) -> bool {
    if cpu >= libc::CPU_SETSIZE as usize {
        return false;
    }
    // SAFETY: as above; `cpu` is below CPU_SETSIZE; pid 0 is the calling thread.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0
    }
}

/// The CPU the calling thread runs on now (`None` where it cannot be read: not Linux).
pub fn current_cpu() -> Option<usize> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: `sched_getcpu` takes no arguments and only reads the caller's CPU.
        let c = unsafe { libc::sched_getcpu() };
        usize::try_from(c).ok()
    }
    #[cfg(not(target_os = "linux"))]
    None
}

/// The CPU each worker of a pool of `n` threads is pinned to, or `None` when the pool is not
/// pinned (`pin` off, fewer than 2 workers, or a pool that does not cover the whole mask).
pub fn plan(n: usize, pin: bool) -> Option<Vec<usize>> {
    let cpus = allowed_cpus();
    (pin && n >= 2 && cpus.len() == n).then_some(cpus)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_pool_covering_the_mask_is_pinned() {
        let cpus = allowed_cpus();
        assert!(!cpus.is_empty());
        assert!(cpus.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(plan(cpus.len() + 1, true), None);
        assert_eq!(plan(1, true), None);
        assert_eq!(plan(cpus.len(), false), None);
        if cpus.len() >= 2 {
            assert_eq!(plan(cpus.len(), true), Some(cpus.clone()));
            assert_eq!(plan(cpus.len() - 1, true), None);
        }
    }

    #[test]
    fn a_pinned_thread_runs_on_its_cpu_only() {
        let cpus = allowed_cpus();
        let last = *cpus.last().unwrap();
        let seen = std::thread::spawn(move || {
            assert!(pin_current(last));
            allowed_cpus()
        })
        .join()
        .unwrap();
        assert_eq!(seen, vec![last]);
        // The spawning thread keeps its mask.
        assert_eq!(allowed_cpus(), cpus);
        assert!(!pin_current(libc::CPU_SETSIZE as usize));
    }
}
