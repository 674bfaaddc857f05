//! Timing several execution values of one call side by side ([`side_by_side`], [`phases`]):
//! after a warm-up ([`warm_up`]), samples are taken in rounds, one per candidate per round in an
//! order that changes every round ([`round_order`]), so that a shared machine's drift — ±30 %
//! over seconds on a VM — hits every candidate alike.
//! `parla compare` times the cells of a group side by side; `parla tune` its candidates.
//!
//! Calls shorter than [`MIN_SAMPLE_SECONDS`] are timed in batches (a sample is the mean of a
//! batch of back-to-back calls), so the clock's own cost and resolution stay below 1 % of a
//! sample.
//!
//! **OpenBLAS's spinning workers.** After a multi-threaded call, OpenBLAS's idle workers spin
//! for about 100 ms (DESIGN.md). Interleaved with them, a multi-threaded candidate of a rayon
//! engine would share a core with a spinner, which a program running one engine does not. So
//! the multi-threaded `blas` candidates run in a phase of their own, and a multi-threaded rayon
//! candidate waits for the spinners to stop ([`wait_for_spinners`]); one-thread candidates do
//! not wait (the spinner takes the other core).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use parla::{Engine, Error, Exec, Result};

use super::load::{stolen_since, stolen_ticks};

/// Shortest sample worth timing on its own (20 µs: `Instant::now` costs ~25 ns).
pub const MIN_SAMPLE_SECONDS: f64 = 20e-6;

/// How long and how often to time a cell.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    /// Warm-up: untimed calls until this many seconds have passed (at least one call, the
    /// checked one, always runs before).
    pub warmup_seconds: f64,
    /// Timed repeats continue until at least this many seconds of samples...
    pub min_seconds: f64,
    /// ...and at least this many samples.
    pub min_repeats: usize,
    /// Never more samples than this.
    pub max_repeats: usize,
}

impl Timing {
    /// The default preset: 0.1 s warm-up, at least 0.4 s and 7 samples per cell (the whole
    /// default grid takes about 8 minutes on 2 cores).
    pub const DEFAULT: Timing = Timing {
        warmup_seconds: 0.1,
        min_seconds: 0.4,
        min_repeats: 7,
        max_repeats: 100_000,
    };

    /// The `--quick` preset: 20 ms warm-up, at least 50 ms and 3 samples per cell.
    pub const QUICK: Timing = Timing {
        warmup_seconds: 0.02,
        min_seconds: 0.05,
        min_repeats: 3,
        max_repeats: 100_000,
    };
}

/// Warms `call` up (caches, pools, page faults, OpenBLAS's buffers): untimed calls until
/// `timing.warmup_seconds` have passed. Returns the seconds one call took, from the warm-up, or
/// `first_call` (a call already made, the checked one) when the warm-up made none.
///
/// # Errors
/// The first error `call` returns.
pub fn warm_up(
    timing: &Timing,
    first_call: f64,
    mut call: impl FnMut() -> Result<()>,
) -> Result<f64> {
    let start = Instant::now();
    let mut calls = 0usize;
    while start.elapsed().as_secs_f64() < timing.warmup_seconds {
        call()?;
        calls += 1;
    }
    Ok(if calls > 0 {
        start.elapsed().as_secs_f64() / calls as f64
    } else {
        first_call
    })
}

/// How long OpenBLAS's idle workers keep spinning after a multi-threaded call (DESIGN.md:
/// about 100 ms; 109 ms on the 2-core Zen 3 VM), with a margin: the wait where the workers'
/// state cannot be read ([`openblas_workers_running`]).
pub const OPENBLAS_SPIN: Duration = Duration::from_millis(120);

/// Longest wait for spinning workers. OpenBLAS spins for a count of time-stamp-counter ticks
/// (2²⁸ by default), so the time depends on the machine's counter frequency; the waits follow
/// the workers' state up to this bound.
pub const SPIN_LIMIT: Duration = Duration::from_secs(1);

/// How often a wait reads the workers' state.
const SPIN_POLL: Duration = Duration::from_millis(1);

/// Whether one of OpenBLAS's workers is running (state `R` in `/proc/self/task/*/stat`), or
/// `None` where threads' states cannot be read (not Linux). OpenBLAS creates its workers
/// unnamed when the library loads, so they carry the process's (the main thread's) name; the
/// main thread, the calling thread and every thread with another name (parla's named pools,
/// a test harness's threads) are left out. A spinning worker yields in a loop and shows as
/// running; one that gave up spinning sleeps on a condition variable.
pub fn openblas_workers_running() -> Option<bool> {
    let pid = std::process::id().to_string();
    // "<pid>/task/<tid>": the calling thread.
    let me = std::fs::read_link("/proc/thread-self").ok()?;
    let me = me.file_name()?.to_owned();
    let name_state = |tid: &std::ffi::OsStr| -> Option<(String, char)> {
        let stat =
            std::fs::read_to_string(format!("/proc/self/task/{}/stat", tid.to_str()?)).ok()?;
        let (head, rest) = stat.rsplit_once(')')?;
        let name = head.split_once('(')?.1.to_string();
        Some((name, rest.trim_start().chars().next()?))
    };
    let (main_name, _) = name_state(std::ffi::OsStr::new(&pid))?;
    let mut running = false;
    for entry in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        let tid = entry.file_name();
        if tid == *pid.as_str() || tid == me {
            continue;
        }
        // A thread that ended between the listing and the read is not running.
        if let Some((name, state)) = name_state(&tid) {
            running |= name == main_name && state == 'R';
        }
    }
    Some(running)
}

/// Waits until OpenBLAS's workers, busy since the multi-threaded call that ended at `last`,
/// stop running (two readings [`SPIN_POLL`] apart), at most until [`SPIN_LIMIT`] after
/// `last`; [`OPENBLAS_SPIN`] after `last` where their state cannot be read. Returns how long
/// it waited.
fn wait_quiet(last: Instant) -> Duration {
    let start = Instant::now();
    let mut quiet = 0;
    while last.elapsed() < SPIN_LIMIT && quiet < 2 {
        match openblas_workers_running() {
            Some(true) => quiet = 0,
            Some(false) => quiet += 1,
            None => {
                std::thread::sleep(OPENBLAS_SPIN.saturating_sub(last.elapsed()));
                break;
            }
        }
        if quiet < 2 {
            std::thread::sleep(SPIN_POLL);
        }
    }
    start.elapsed()
}

/// About this long of untimed calls before each interleaved sample: right after another
/// candidate, a pool's idle CPU wakes slowly and the first calls of a short operation run at
/// one thread's speed (row_norms at n = 1024 on a 2-core Zen 3 VM, `parla tune`'s 2 ms samples:
/// rayon at 2 threads measured 217–584 µs with at most a quarter of a sample re-warmed, and
/// 172–221 µs with calls filling 0.3–1 ms, against 290–420 µs at 1 thread). See
/// [`Contender::rewarm_calls`].
pub const REWARM_SECONDS: f64 = 1e-3;

/// When the last multi-threaded `blas` call ended (its workers may still spin).
static LAST_THREADED_BLAS: Mutex<Option<Instant>> = Mutex::new(None);

/// A multi-threaded `blas` candidate: its workers spin after each call.
pub fn spins(engine: Engine, threads: usize) -> bool {
    engine == Engine::Blas && threads > 1
}

/// Records that a call of `engine` with `threads` just ended (OpenBLAS's workers spin from
/// now on if it was a multi-threaded `blas` call).
pub fn called(engine: Engine, threads: usize) {
    if spins(engine, threads) {
        *LAST_THREADED_BLAS.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
    }
}

/// Sorts candidates into warm-up order: one-thread ones first (the workers of whatever ran
/// before may still spin, and take the other core), multi-threaded `blas` ones last (their idle
/// workers spin after each call and would slow the others' warm-ups), by threads within each.
/// `of` gives a candidate's engine and threads.
pub fn warm_up_order<T>(v: &mut [T], of: impl Fn(&T) -> (Engine, usize)) {
    v.sort_by_key(|x| {
        let (engine, threads) = of(x);
        (spins(engine, threads), threads)
    });
}

/// Whether OpenBLAS's workers may still spin: a multi-threaded `blas` call ended less than
/// [`SPIN_LIMIT`] ago and a worker is running ([`openblas_workers_running`]; where that
/// cannot be read, less than [`OPENBLAS_SPIN`] ago).
pub fn spinning() -> bool {
    let last = *LAST_THREADED_BLAS.lock().unwrap_or_else(|e| e.into_inner());
    last.is_some_and(|t| {
        t.elapsed() < SPIN_LIMIT
            && openblas_workers_running().unwrap_or(t.elapsed() < OPENBLAS_SPIN)
    })
}

/// Before a candidate that needs the cores (a multi-threaded one of the rayon engines), waits
/// until OpenBLAS's workers stop spinning; returns how long it waited. One-thread candidates
/// need no wait (a spinner takes the other core), so when they run first they use the time.
pub fn wait_for_spinners(engine: Engine, threads: usize) -> Duration {
    if spins(engine, threads) || threads <= 1 {
        return Duration::ZERO;
    }
    let last = *LAST_THREADED_BLAS.lock().unwrap_or_else(|e| e.into_inner());
    last.map_or(Duration::ZERO, wait_quiet)
}

/// One candidate timed side by side with others: what runs (`engine` and `threads` as the
/// spinner rules see them: for `auto`, what its plan runs), calls per sample, the samples
/// (seconds per call) and the error that stopped it, if any.
pub struct Contender {
    /// The engine that runs.
    pub engine: Engine,
    /// Its threads.
    pub threads: usize,
    /// The execution value the call gets.
    pub exec: Exec,
    /// Calls per sample.
    pub batch: usize,
    /// Seconds per call, one entry per sample.
    pub samples: Vec<f64>,
    /// The first error a call returned; the candidate takes no more samples.
    pub error: Option<Error>,
    /// Samples taken again because the hypervisor took CPU time while they ran (see
    /// [`MAX_RETAKES`]).
    pub retaken: usize,
    /// Seconds one call took: the estimate it was created with, then its last sample.
    call_seconds: f64,
    /// More threads than usable cores.
    oversubscribed: bool,
    /// OpenBLAS's thread setting every sample must leave behind (checked after each sample,
    /// outside the clock; see [`Contender::checking_openblas`]).
    openblas: Option<usize>,
}

impl Contender {
    /// A candidate with no samples yet.
    /// `call_seconds` estimates one call (from a warm-up).
    pub fn new(
        engine: Engine,
        threads: usize,
        exec: Exec,
        batch: usize,
        call_seconds: f64,
    ) -> Self {
        Contender {
            engine,
            threads,
            exec,
            batch: batch.max(1),
            samples: Vec::new(),
            error: None,
            retaken: 0,
            call_seconds,
            oversubscribed: threads > parla::threads::usable_cores(),
            openblas: None,
        }
    }

    /// After each of its samples, OpenBLAS must be set to `want` threads (`None`: no check);
    /// otherwise the candidate stops with an error naming both counts. Between two samples
    /// the other candidates change the setting, so this is what proves that every sample ran
    /// with the threads asked for.
    pub fn checking_openblas(mut self, want: Option<usize>) -> Self {
        self.openblas = want;
        self
    }

    /// The error when OpenBLAS's setting is not the one asked for after a sample.
    fn check_openblas(&self) -> Result<()> {
        match self.openblas {
            Some(want) => {
                let got = parla::threads::openblas::current_threads();
                if got == want {
                    Ok(())
                } else {
                    Err(Error::InvalidArgument {
                        op: "compare",
                        name: "threads",
                        reason: format!(
                            "OpenBLAS is set to {got} threads after the call, the cell asks {want}"
                        ),
                    })
                }
            }
            None => Ok(()),
        }
    }

    /// Untimed calls before a sample: those filling [`REWARM_SECONDS`], at most a quarter of the
    /// sample for one thread; for several threads, all of them when a call is shorter than
    /// that (the pool's sleeping CPU must be awake before the clock starts), none otherwise.
    pub fn rewarm_calls(&self) -> usize {
        let fill = if self.call_seconds > 0.0 {
            (REWARM_SECONDS / self.call_seconds).ceil().min(1e6) as usize
        } else {
            1
        };
        if self.threads > 1 && self.call_seconds < REWARM_SECONDS {
            fill
        } else {
            fill.min(self.batch / 4)
        }
    }

    fn spins(&self) -> bool {
        spins(self.engine, self.threads)
    }
}

/// One call of candidate `j` (its index in the slice) on its execution value.
pub type Call<'a> = dyn FnMut(usize, &Exec) -> Result<()> + 'a;

/// Mean seconds per call of `batch` back-to-back calls.
fn sample(call: &mut Call, j: usize, exec: &Exec, batch: usize) -> Result<f64> {
    let t = Instant::now();
    for _ in 0..batch {
        call(j, exec)?;
    }
    Ok(t.elapsed().as_secs_f64() / batch as f64)
}

/// Most times one sample is taken again because the hypervisor took CPU time while it ran
/// ([`stolen_ticks`]); the last one is kept whatever happened (on a host that steals all the
/// time, every sample would otherwise be retaken).
pub const MAX_RETAKES: usize = 3;

/// `rounds` rounds over the candidates `idx` from round `first`, in an order that changes every
/// round ([`round_order`]), one sample each per round ([`wait_for_spinners`] before each, and a
/// few untimed calls, see [`REWARM_SECONDS`]); returns how long it waited. A sample during
/// which the hypervisor took CPU time from the machine (steal, [`stolen_ticks`]) is taken
/// again, up to [`MAX_RETAKES`] times: a sample of several threads that lost a vCPU for tens
/// of milliseconds measures one thread's speed, and an item's choice would follow it. A
/// candidate whose call fails keeps the error and is skipped from then on.
fn rotate(
    runs: &mut [Contender],
    call: &mut Call,
    idx: &[usize],
    first: usize,
    rounds: usize,
) -> Duration {
    let mut waited = Duration::ZERO;
    for round in first..first + rounds {
        for k in round_order(idx.len(), round) {
            let j = idx[k];
            let r = &mut runs[j];
            if r.error.is_some() {
                continue;
            }
            let rewarm = r.rewarm_calls();
            let mut tries = 0;
            let got = loop {
                waited += wait_for_spinners(r.engine, r.threads);
                let before = stolen_ticks();
                let got = (0..rewarm)
                    .try_for_each(|_| call(j, &r.exec))
                    .and_then(|()| sample(call, j, &r.exec, r.batch));
                called(r.engine, r.threads);
                let stolen = stolen_since(before);
                if got.is_err() || !stolen || tries == MAX_RETAKES {
                    break got;
                }
                tries += 1;
                r.retaken += 1;
            };
            let got = got.and_then(|s| r.check_openblas().map(|()| s));
            match got {
                Ok(s) => {
                    r.samples.push(s);
                    r.call_seconds = s;
                }
                Err(e) => r.error = Some(e),
            }
        }
    }
    waited
}

/// The order of `len` candidates in round `round`: a permutation that changes from round to
/// round (a fixed pseudo-random shuffle), so that no candidate always follows the same one and
/// inherits its after-effects (a rotation keeps every predecessor: in `parla compare` the cell
/// after an oversubscribed one measured 1.5× slower than the same plan elsewhere in the round).
pub fn round_order(len: usize, round: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    // SplitMix64 of the round number, one step per swap.
    let mut x = (round as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    for i in (1..len).rev() {
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        order.swap(i, (z % (i as u64 + 1)) as usize);
    }
    order
}

/// `rounds` rounds over the candidates `idx` in phases: the candidates that leave no spinning
/// threads behind, the multi-threaded `blas` ones (see the module docs), then those with more
/// threads than usable cores, after which the run waits for OpenBLAS's spinning workers (an
/// oversubscribed OpenBLAS leaves more spinners than cores, which slow every other candidate,
/// one-thread ones too). When the workers still spin from the last samples, the `blas` phase
/// goes first (it does not mind them), so the run waits for them once, not before each phase.
/// Returns how long it waited.
pub fn phases(
    runs: &mut [Contender],
    call: &mut Call,
    idx: &[usize],
    first: usize,
    rounds: usize,
) -> Duration {
    let (over, fits): (Vec<usize>, Vec<usize>) = idx.iter().partition(|&&j| runs[j].oversubscribed);
    let (b, a): (Vec<usize>, Vec<usize>) = fits.iter().partition(|&&j| runs[j].spins());
    let mut waited = Duration::ZERO;
    for round in first..first + rounds {
        let order = if spinning() { [&b, &a] } else { [&a, &b] };
        for phase in order {
            if !phase.is_empty() {
                waited += rotate(runs, call, phase, round, 1);
            }
        }
        if !over.is_empty() {
            waited += rotate(runs, call, &over, round, 1);
            if over.iter().any(|&j| runs[j].spins()) {
                waited += wait_quiet(Instant::now());
            }
        }
    }
    waited
}

/// Times `runs` side by side until each has at least `timing.min_repeats` samples and
/// `timing.min_seconds` of them (or `timing.max_repeats`), in rounds of [`phases`]; a candidate
/// leaves the rounds when it has enough. `runs` should already be warmed up and have batches
/// that make a sample about `timing.min_seconds / timing.min_repeats` long, so that every
/// candidate takes part in every round. `round` is called after each round with the number of
/// candidates that have enough. Returns how long it waited for spinners.
pub fn side_by_side(
    timing: &Timing,
    runs: &mut [Contender],
    call: &mut Call,
    round: &mut dyn FnMut(usize),
) -> Duration {
    let enough = |r: &Contender| {
        r.error.is_some()
            || r.samples.len() >= timing.max_repeats.max(1)
            || (r.samples.len() >= timing.min_repeats.max(1)
                && r.samples.iter().map(|&s| s * r.batch as f64).sum::<f64>() >= timing.min_seconds)
    };
    let mut waited = Duration::ZERO;
    for k in 0.. {
        let idx: Vec<usize> = (0..runs.len()).filter(|&j| !enough(&runs[j])).collect();
        round(runs.len() - idx.len());
        if idx.is_empty() {
            break;
        }
        waited += phases(runs, call, &idx, k, 1);
    }
    waited
}

/// Times `runs[i]` and `runs[j]` (`i != j`) side by side again, alone, until each has twice the
/// samples and seconds `timing` asks for (or twice its `max_repeats`): a second look at two
/// candidates whose first samples disagree by less than one machine hiccup can tell apart.
/// `call` gets the indices of `runs`. Returns how long it waited for spinners.
pub fn head_to_head(
    timing: &Timing,
    runs: &mut [Contender],
    (i, j): (usize, usize),
    call: &mut Call,
) -> Duration {
    assert!(i != j && i < runs.len() && j < runs.len());
    let more = Timing {
        min_seconds: 2.0 * timing.min_seconds,
        min_repeats: 2 * timing.min_repeats.max(1),
        max_repeats: 2 * timing.max_repeats.max(1),
        ..*timing
    };
    // The two to the front (undone below), so they form one slice: `lo` at 0, `hi` at 1
    // (hi > lo ≥ 0, so the second swap never moves position 0).
    let (lo, hi) = (i.min(j), i.max(j));
    runs.swap(0, lo);
    runs.swap(1, hi);
    let from = |k: usize| if k == 0 { lo } else { hi };
    let waited = side_by_side(
        &more,
        &mut runs[..2],
        &mut |k, e| call(from(k), e),
        &mut |_| {},
    );
    runs.swap(1, hi);
    runs.swap(0, lo);
    waited
}

/// Calls per sample for timing side by side: a sample of about `timing.min_seconds /
/// timing.min_repeats` (so the rounds give each candidate its minimum count and time together),
/// never shorter than [`MIN_SAMPLE_SECONDS`]; `call_seconds` estimates one call.
pub fn batch_for(timing: &Timing, call_seconds: f64) -> usize {
    let target = (timing.min_seconds / timing.min_repeats.max(1) as f64).max(MIN_SAMPLE_SECONDS);
    if call_seconds >= target {
        1
    } else if call_seconds > 0.0 {
        ((target / call_seconds).ceil()).min(1e6) as usize
    } else {
        1000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Timing = Timing {
        warmup_seconds: 0.0,
        min_seconds: 0.0,
        min_repeats: 7,
        max_repeats: 100,
    };

    fn contenders(k: usize) -> Vec<Contender> {
        (0..k)
            .map(|_| {
                Contender::new(
                    Engine::Rayon,
                    1,
                    Exec::new(Engine::Rayon, 1).unwrap(),
                    1,
                    1.0,
                )
            })
            .collect()
    }

    #[test]
    fn batches_make_samples_about_a_minimum_share_long() {
        // 0.4 s over 7 samples: 57 ms each.
        assert_eq!(batch_for(&Timing::DEFAULT, 1.0), 1);
        assert_eq!(batch_for(&Timing::DEFAULT, 0.4 / 7.0), 1);
        assert_eq!(batch_for(&Timing::DEFAULT, 0.4 / 7.0 / 4.0), 4);
        assert_eq!(batch_for(&Timing::DEFAULT, 0.0), 1000);
        // Never below MIN_SAMPLE_SECONDS, whatever the timing asks.
        let tiny = Timing {
            min_seconds: 0.0,
            ..Timing::QUICK
        };
        assert_eq!(batch_for(&tiny, MIN_SAMPLE_SECONDS / 4.0), 4);
    }

    #[test]
    fn side_by_side_gives_each_its_minimum_count_and_time() {
        let mut runs = contenders(3);
        runs[1].batch = 3;
        let mut calls = [0usize; 3];
        let mut call = |j: usize, _: &Exec| {
            calls[j] += 1;
            Ok(())
        };
        side_by_side(&T, &mut runs, &mut call, &mut |_| {});
        for (r, &c) in runs.iter().zip(&calls) {
            assert_eq!(r.samples.len(), 7);
            // No re-warming of calls shorter than a batch's quarter: exactly the samples' calls.
            assert_eq!(c, 7 * r.batch);
        }
        // The minimum time keeps the rounds going after the count is reached.
        let t = Timing {
            min_seconds: 0.02,
            min_repeats: 1,
            ..T
        };
        let mut runs = contenders(2);
        let mut call = |j: usize, _: &Exec| {
            if j == 0 {
                std::thread::sleep(Duration::from_millis(1));
            }
            Ok(())
        };
        side_by_side(&t, &mut runs, &mut call, &mut |_| {});
        assert!(runs[0].samples.len() >= 5 && runs[0].samples.iter().sum::<f64>() >= 0.02);
        // The cap wins over the minimum time.
        let t = Timing {
            min_seconds: 10.0,
            max_repeats: 3,
            ..T
        };
        let mut runs = contenders(2);
        side_by_side(&t, &mut runs, &mut |_, _| Ok(()), &mut |_| {});
        assert!(runs.iter().all(|r| r.samples.len() == 3));
    }

    #[test]
    fn head_to_head_doubles_two_candidates_samples_and_leaves_the_order() {
        for (i, j) in [(1, 3), (3, 1), (0, 2), (1, 0), (2, 3)] {
            let mut runs = contenders(4);
            for (k, r) in runs.iter_mut().enumerate() {
                r.batch = k + 1; // tells the candidates apart
            }
            side_by_side(&T, &mut runs, &mut |_, _| Ok(()), &mut |_| {});
            let mut calls = [0usize; 4];
            let mut call = |k: usize, _: &Exec| {
                calls[k] += 1;
                Ok(())
            };
            head_to_head(&T, &mut runs, (i, j), &mut call);
            for (k, r) in runs.iter().enumerate() {
                assert_eq!(r.batch, k + 1, "({i}, {j}): order restored");
                let (samples, more) = if k == i || k == j { (14, 7) } else { (7, 0) };
                assert_eq!(r.samples.len(), samples, "({i}, {j}): candidate {k}");
                // The calls went to the candidates' own indices (plus re-warming calls, at
                // most a quarter of a batch per sample, once a sample has shown calls short).
                let c = calls[k];
                let ok = c >= more * r.batch && c <= more * (r.batch + r.batch / 4);
                assert!(ok, "({i}, {j}): candidate {k}: {c} calls");
            }
        }
    }

    #[test]
    fn multi_threaded_short_calls_rewarm_a_whole_millisecond() {
        let c = |threads, batch, call| {
            let exec = Exec::new(Engine::Rayon, threads).unwrap();
            Contender::new(Engine::Rayon, threads, exec, batch, call).rewarm_calls()
        };
        // One thread: REWARM_SECONDS of calls, at most a quarter of the sample.
        assert_eq!(c(1, 100, 1e-4), 10);
        assert_eq!(c(1, 20, 1e-4), 5);
        assert_eq!(c(1, 1, 2e-3), 0);
        // Several: the whole REWARM_SECONDS when a call is shorter, nothing for longer calls.
        assert_eq!(c(2, 20, 1e-4), 10);
        assert_eq!(c(2, 4, 4e-4), 3);
        assert_eq!(c(2, 1, 2e-3), 0);
    }

    #[test]
    fn side_by_side_interleaves_with_changing_predecessors() {
        let mut runs = contenders(4);
        let mut order = Vec::new();
        let mut call = |j: usize, _: &Exec| {
            order.push(j);
            Ok(())
        };
        side_by_side(&T, &mut runs, &mut call, &mut |_| {});
        // Every round samples each candidate once.
        assert_eq!(order.len(), 28);
        for round in order.chunks(4) {
            let mut r = round.to_vec();
            r.sort_unstable();
            assert_eq!(r, [0, 1, 2, 3]);
        }
        // Candidate 0 does not always come after the same one (a plain rotation would).
        let before: std::collections::BTreeSet<usize> = order
            .windows(2)
            .filter(|w| w[1] == 0)
            .map(|w| w[0])
            .collect();
        assert!(before.len() >= 2, "{order:?}");
        for round in 0..50 {
            let mut o = round_order(5, round);
            o.sort_unstable();
            assert_eq!(o, [0, 1, 2, 3, 4]);
        }
        assert_ne!(round_order(5, 1), round_order(5, 2));
    }

    #[test]
    fn an_error_stops_one_candidate_only() {
        let err = Error::InvalidArgument {
            op: "t",
            name: "x",
            reason: "boom".into(),
        };
        let mut runs = contenders(2);
        let mut call = |j: usize, _: &Exec| if j == 1 { Err(err.clone()) } else { Ok(()) };
        let mut rounds = 0;
        side_by_side(&T, &mut runs, &mut call, &mut |_| rounds += 1);
        assert_eq!(runs[1].error, Some(err.clone()));
        assert!(runs[1].samples.is_empty());
        assert_eq!(runs[0].samples.len(), 7);
        assert_eq!(rounds, 8);
    }

    #[test]
    fn a_sample_leaving_openblas_at_other_threads_stops_its_candidate() {
        // No call here changes OpenBLAS's setting, and no real setting is 10⁴ threads.
        let mut runs = contenders(2);
        runs[1] = std::mem::replace(&mut runs[1], contenders(1).remove(0))
            .checking_openblas(Some(10_000));
        let mut calls = [0usize; 2];
        let mut call = |j: usize, _: &Exec| {
            calls[j] += 1;
            Ok(())
        };
        side_by_side(&T, &mut runs, &mut call, &mut |_| {});
        let e = runs[1]
            .error
            .as_ref()
            .expect("the check failed")
            .to_string();
        assert!(e.contains("10000"), "{e}");
        // It was checked after its first sample, and stopped there.
        assert!(runs[1].samples.is_empty());
        assert_eq!(calls[1], 1);
        assert_eq!(runs[0].samples.len(), 7);
        assert!(runs[0].error.is_none());
    }

    #[test]
    fn warm_up_order_puts_threaded_blas_last() {
        let mut v = vec![
            (Engine::Blas, 2),
            (Engine::Rayon, 2),
            (Engine::Blas, 1),
            (Engine::RayonBlas, 3),
            (Engine::Rayon, 1),
        ];
        warm_up_order(&mut v, |&c| c);
        assert_eq!(
            v,
            [
                (Engine::Blas, 1),
                (Engine::Rayon, 1),
                (Engine::Rayon, 2),
                (Engine::RayonBlas, 3),
                (Engine::Blas, 2),
            ]
        );
    }

    #[test]
    fn warm_up_estimates_one_call() {
        let t = Timing {
            warmup_seconds: 0.005,
            ..T
        };
        let mut n = 0;
        let e = warm_up(&t, 1.0, || {
            n += 1;
            std::thread::sleep(Duration::from_millis(1));
            Ok(())
        })
        .unwrap();
        assert!(n >= 2 && (1e-3..0.05).contains(&e), "{n} calls, {e} s");
        // No warm-up: the first call's time.
        assert_eq!(warm_up(&T, 0.25, || Ok(())).unwrap(), 0.25);
    }
}
