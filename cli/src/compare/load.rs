//! Other work on the machine: how many cores *other* processes keep busy, from Linux's
//! `/proc/stat` (all CPUs) minus `/proc/self/stat` (this process, all its threads — OpenBLAS
//! threads still spinning after a call included). Elsewhere every answer is `None`.
//!
//! A comparison samples it just before the run (over 0.2 s), over the whole run, and over each
//! cell, so a table can say which numbers were taken while something else shared the cores —
//! the load average cannot: it lags by a minute.

use std::time::Duration;

/// Cores of other work above which a cell or a run is flagged (half a core: a build, a test
/// binary, a busy browser tab).
pub const BUSY_LIMIT: f64 = 0.5;

/// CPU time counters at one moment, in the kernel's clock ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuSample {
    /// Busy ticks of all CPUs (everything but idle and iowait).
    busy: u64,
    /// All ticks of all CPUs.
    total: u64,
    /// Ticks of this process (user + system, all threads).
    own: u64,
    /// CPUs counted.
    cpus: usize,
}

impl CpuSample {
    /// The counters now; `None` where `/proc` cannot be read.
    pub fn now() -> Option<CpuSample> {
        let text = std::fs::read_to_string("/proc/stat").ok()?;
        let cpus = text
            .lines()
            .filter(|l| l.starts_with("cpu") && !l.starts_with("cpu "))
            .count();
        let v = all_cpus(&text)?;
        // user nice system idle iowait irq softirq steal (guest time is inside user).
        let total: u64 = v.iter().take(8).sum();
        let idle = v.get(3)? + v.get(4).unwrap_or(&0);
        Some(CpuSample {
            busy: total.saturating_sub(idle),
            total,
            own: own_ticks()?,
            cpus: cpus.max(1),
        })
    }

    /// Cores other processes kept busy on average since `self` was taken (`None` if no tick
    /// has passed or `/proc` cannot be read).
    pub fn others_busy_since_then(&self) -> Option<f64> {
        let later = CpuSample::now()?;
        others_busy(
            later.busy.saturating_sub(self.busy),
            later.total.saturating_sub(self.total),
            later.own.saturating_sub(self.own),
            later.cpus,
        )
    }
}

/// The counters of the `cpu ` line (all CPUs) of `/proc/stat`'s text, in its order.
fn all_cpus(text: &str) -> Option<Vec<u64>> {
    let line = text.lines().find(|l| l.starts_with("cpu "))?;
    Some(
        line.split_whitespace()
            .skip(1)
            .filter_map(|x| x.parse().ok())
            .collect(),
    )
}

/// Ticks of CPU time the hypervisor has taken from this (virtual) machine's CPUs since boot,
/// all CPUs together (`steal` in `/proc/stat`; 0 on bare metal), or `None` where it cannot be
/// read. The kernel counts it in nanoseconds and prints whole ticks (10 ms), so a difference
/// of two readings shows any steal of 10 ms or more between them, and shorter ones in part.
///
/// On the 2-core Zen 5 VM the hypervisor takes a vCPU away for some tens of milliseconds
/// every few seconds; a 2-thread sample taken then runs at one thread's speed (`parla tune`'s
/// GEMM at n = 512 measured `rayon-blas` at 2 threads at 5.2 ms with a spread of 0 % in a
/// round where 40 ms were stolen, against 2.7–2.9 ms in the rounds without).
pub fn stolen_ticks() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/stat").ok()?;
    all_cpus(&text)?.get(7).copied()
}

/// Whether the hypervisor has taken CPU time since `before` (a reading of [`stolen_ticks`]);
/// `false` where steal cannot be read.
pub fn stolen_since(before: Option<u64>) -> bool {
    matches!((before, stolen_ticks()), (Some(a), Some(b)) if b > a)
}

/// CPU time of this process (all threads: user + system) in the ticks of `/proc/stat`.
fn own_ticks() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) start at `state`; utime and
    // stime are the 14th and 15th fields of the line, the 12th and 13th after it.
    let rest = &text[text.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

/// Cores busy with other work from tick deltas: all CPUs' busy ticks minus this process's,
/// as a fraction of all CPUs' ticks, times the CPUs.
fn others_busy(busy: u64, total: u64, own: u64, cpus: usize) -> Option<f64> {
    (total > 0).then(|| busy.saturating_sub(own) as f64 / total as f64 * cpus as f64)
}

/// Cores other processes keep busy now: sampled over 0.2 s while the calling thread sleeps.
pub fn busy_cores() -> Option<f64> {
    let start = CpuSample::now()?;
    std::thread::sleep(Duration::from_millis(200));
    start.others_busy_since_then()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_work_excludes_this_process() {
        // 2 CPUs over 100 ticks each: 200 ticks in all.
        assert_eq!(others_busy(100, 200, 0, 2), Some(1.0));
        assert_eq!(others_busy(100, 200, 100, 2), Some(0.0));
        assert_eq!(others_busy(150, 200, 50, 2), Some(1.0));
        assert_eq!(others_busy(10, 200, 50, 2), Some(0.0));
        assert_eq!(others_busy(0, 0, 0, 2), None);
    }

    #[test]
    fn steal_is_the_eighth_counter_of_all_cpus() {
        let text = "cpu  10 0 20 300 4 0 5 17 0 0\ncpu0 5 0 10 150 2 0 2 9 0 0\n";
        assert_eq!(all_cpus(text).and_then(|v| v.get(7).copied()), Some(17));
        assert_eq!(all_cpus("cpu0 1 2 3\n"), None);
        // Readable here (Linux): never decreasing.
        if let (Some(a), Some(b)) = (stolen_ticks(), stolen_ticks()) {
            assert!(b >= a);
        }
    }
}
