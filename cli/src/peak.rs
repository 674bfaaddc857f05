//! The machine's ceilings: FMA throughput (f32 and f64, 1..cores threads) and memory bandwidth
//! (copy, triad, in-place update; 1..cores threads), measured once and cached per machine.
//!
//! The FMA kernels keep 12 independent vector accumulators in registers (enough to cover the
//! FMA latency × pipes of current x86 cores) and use the widest FMA the CPU has (AVX-512F, else
//! AVX2+FMA, else plain multiply-add). The bandwidth kernels stream arrays of
//! [`STREAM_BYTES`] each, far beyond the last-level cache, with each thread on its own
//! contiguous part.

use std::path::PathBuf;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use parla::threads;
use parla::{Error, Result};

/// Bytes in each array of the bandwidth kernels (64 MiB: twice a 32 MiB L3).
pub const STREAM_BYTES: usize = 64 << 20;

/// One measured ceiling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ceiling {
    /// `fma` or `copy`, `triad`, `update`.
    pub kernel: String,
    /// `float32`, `float64`.
    pub dtype: String,
    /// For `fma`: the instruction set of the kernel (`avx512f`, `avx2+fma`, `portable`);
    /// `-` for bandwidth kernels.
    pub isa: String,
    /// Threads used.
    pub threads: usize,
    /// GFLOP/s for `fma`, GB/s for the bandwidth kernels (best of the repeats).
    pub value: f64,
    /// `GFLOP/s` or `GB/s`.
    pub unit: String,
}

/// All ceilings of this machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Peaks {
    /// What the cache is keyed by: CPU model and core counts.
    pub machine: String,
    /// Which FMA kernel ran (`avx512f`, `avx2+fma`, `portable`).
    pub isa: String,
    /// The ceilings.
    pub ceilings: Vec<Ceiling>,
    /// Seconds since the Unix epoch when measured.
    pub measured_at: u64,
    /// Cores other processes kept busy while these were measured, when known. Peaks measured
    /// on a busy machine are too low, so they are never cached.
    #[serde(default)]
    pub others_busy: Option<f64>,
}

impl Peaks {
    /// Whether other processes kept more than
    /// [`BUSY_LIMIT`](crate::compare::load::BUSY_LIMIT) cores busy while these were measured
    /// (then they are too low, and not cached).
    pub fn busy(&self) -> bool {
        self.others_busy
            .is_some_and(|b| b > crate::compare::load::BUSY_LIMIT)
    }

    /// The best value of `kernel` / `dtype` at `threads` over the instruction sets, if measured.
    pub fn get(&self, kernel: &str, dtype: &str, threads: usize) -> Option<f64> {
        self.ceilings
            .iter()
            .filter(|c| c.kernel == kernel && c.dtype == dtype && c.threads == threads)
            .map(|c| c.value)
            .reduce(f64::max)
    }

    /// A text table.
    pub fn render(&self) -> String {
        let mut s = format!("machine: {}\nFMA kernel: {}\n\n", self.machine, self.isa);
        s.push_str("kernel   dtype     isa        threads        value\n");
        for c in &self.ceilings {
            s.push_str(&format!(
                "{:<8} {:<9} {:<10} {:>7} {:>10.1} {}\n",
                c.kernel, c.dtype, c.isa, c.threads, c.value, c.unit
            ));
        }
        s
    }
}

/// The cache key of this machine: CPU model, logical cores, usable cores.
pub fn machine_key() -> String {
    let info = parla::info::MachineInfo::collect();
    format!(
        "{} | {} logical | {} usable",
        info.cpu.model, info.cpu.logical_cores, info.cpu.usable_cores
    )
}

/// The cache file for this machine.
pub fn cache_path() -> PathBuf {
    let key = machine_key();
    let hash = xxhash_rust::xxh3::xxh3_64(key.as_bytes());
    threads::env::cache_dir().join(format!("peak-{hash:016x}.json"))
}

/// An FMA kernel: its instruction set, the function (iterations → a value depending on all the
/// work), and the flops one iteration performs.
type FmaKernel = (&'static str, fn(u64) -> f64, f64);

macro_rules! fma_kernel {
    ($name:ident, $feat:literal, $t:ty, $vec:ty, $set1:ident, $fma:ident, $store:ident, $lanes:expr) => {
        /// Runs `iters` rounds of 12 independent vector FMAs; returns a value depending on all
        /// of them (so the work cannot be optimized away).
        ///
        /// # Safety
        /// The CPU must support the target feature.
        #[target_feature(enable = $feat)]
        unsafe fn $name(iters: u64) -> f64 {
            use std::arch::x86_64::*;
            // Constants through black_box and a start away from the fixed point (a = 1), so the
            // compiler cannot fold the loop away.
            let m: $vec = $set1(std::hint::black_box(0.999_999_9 as $t));
            let c: $vec = $set1(std::hint::black_box(1e-7 as $t));
            let mut acc: [$vec; 12] =
                std::array::from_fn(|i| $set1(std::hint::black_box(0.5 + i as $t * 0.01)));
            for _ in 0..iters {
                // Twelve independent chains: the loop is unrolled by the compiler over the array.
                for a in acc.iter_mut() {
                    *a = $fma(*a, m, c);
                }
            }
            let mut total = 0.0f64;
            let mut lanes = [0.0 as $t; $lanes];
            for a in acc {
                // SAFETY: `lanes` holds exactly one vector's worth of elements.
                unsafe { $store(lanes.as_mut_ptr(), a) };
                total += lanes.iter().map(|&x| x as f64).sum::<f64>();
            }
            total
        }
    };
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::FmaKernel;

    fma_kernel!(
        f64_avx512,
        "avx512f",
        f64,
        __m512d,
        _mm512_set1_pd,
        _mm512_fmadd_pd,
        _mm512_storeu_pd,
        8
    );
    fma_kernel!(
        f32_avx512,
        "avx512f",
        f32,
        __m512,
        _mm512_set1_ps,
        _mm512_fmadd_ps,
        _mm512_storeu_ps,
        16
    );
    fma_kernel!(
        f64_avx2,
        "avx2,fma",
        f64,
        __m256d,
        _mm256_set1_pd,
        _mm256_fmadd_pd,
        _mm256_storeu_pd,
        4
    );
    fma_kernel!(
        f32_avx2,
        "avx2,fma",
        f32,
        __m256,
        _mm256_set1_ps,
        _mm256_fmadd_ps,
        _mm256_storeu_ps,
        8
    );

    /// Every FMA kernel this CPU runs, widest first: (isa, kernel, flops per iteration).
    pub(super) fn available(f32: bool) -> Vec<FmaKernel> {
        let mut v: Vec<FmaKernel> = Vec::new();
        if std::arch::is_x86_feature_detected!("avx512f") {
            if f32 {
                // SAFETY: avx512f was detected at run time.
                v.push(("avx512f", |n| unsafe { f32_avx512(n) }, 12.0 * 16.0 * 2.0));
            } else {
                // SAFETY: as above.
                v.push(("avx512f", |n| unsafe { f64_avx512(n) }, 12.0 * 8.0 * 2.0));
            }
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            if f32 {
                // SAFETY: avx2 and fma were detected at run time.
                v.push(("avx2+fma", |n| unsafe { f32_avx2(n) }, 12.0 * 8.0 * 2.0));
            } else {
                // SAFETY: as above.
                v.push(("avx2+fma", |n| unsafe { f64_avx2(n) }, 12.0 * 4.0 * 2.0));
            }
        }
        v
    }
}

/// Plain multiply-add with 12 scalar chains (CPUs without a detected vector FMA).
fn portable(f32: bool) -> FmaKernel {
    fn run(iters: u64) -> f64 {
        let mut acc: [f64; 12] =
            std::array::from_fn(|i| std::hint::black_box(0.5 + i as f64 * 0.01));
        let (m, c) = (
            std::hint::black_box(0.999_999_9),
            std::hint::black_box(1e-7),
        );
        for _ in 0..iters {
            for a in acc.iter_mut() {
                *a = *a * m + c;
            }
        }
        acc.iter().sum()
    }
    let _ = f32;
    ("portable", run, 12.0 * 2.0)
}

/// Every FMA kernel this CPU runs, widest first, ending with the portable one.
fn kernels(f32: bool) -> Vec<FmaKernel> {
    #[cfg(target_arch = "x86_64")]
    let mut v = x86::available(f32);
    #[cfg(not(target_arch = "x86_64"))]
    let mut v = Vec::new();
    v.push(portable(f32));
    v
}

/// Runs `work(thread_index)` on `threads` threads released together by a barrier; returns the
/// wall time from the earliest start to the latest finish, as the threads themselves saw it
/// (the spawning thread may not get a core when every core runs a worker).
fn timed_on_threads(threads: usize, work: &(dyn Fn(usize) + Sync)) -> Duration {
    let barrier = Barrier::new(threads);
    let spans: Vec<(Instant, Instant)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|i| {
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    let start = Instant::now();
                    work(i);
                    (start, Instant::now())
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let first = spans.iter().map(|s| s.0).min();
    let last = spans.iter().map(|s| s.1).max();
    match (first, last) {
        (Some(a), Some(b)) => b.duration_since(a),
        _ => Duration::ZERO,
    }
}

/// FMA throughput in GFLOP/s of one kernel with `threads` threads, best of `repeats` runs of
/// about `seconds` each.
fn fma_rate(
    kernel: fn(u64) -> f64,
    flops_per_iter: f64,
    threads: usize,
    seconds: f64,
    repeats: usize,
) -> f64 {
    // Calibrate on one thread.
    let mut iters = 1u64 << 12;
    loop {
        let t = Instant::now();
        std::hint::black_box(kernel(std::hint::black_box(iters)));
        let dt = t.elapsed().as_secs_f64();
        if dt > seconds / 4.0 || iters > 1 << 40 {
            iters = ((iters as f64) * seconds / dt.max(1e-9)).max(1.0) as u64;
            break;
        }
        iters *= 4;
    }
    (0..repeats.max(1))
        .map(|_| {
            let dt = timed_on_threads(threads, &|_| {
                std::hint::black_box(kernel(std::hint::black_box(iters)));
            });
            threads as f64 * iters as f64 * flops_per_iter / dt.as_secs_f64() / 1e9
        })
        .fold(0.0, f64::max)
}

/// FMA throughput of the widest kernel this CPU runs: (isa, GFLOP/s).
pub fn fma_gflops(f32: bool, threads: usize, seconds: f64, repeats: usize) -> (String, f64) {
    let (isa, kernel, flops) = kernels(f32)[0];
    (
        isa.to_string(),
        fma_rate(kernel, flops, threads, seconds, repeats),
    )
}

/// Splits `0..len` into `parts` contiguous ranges.
fn ranges(len: usize, parts: usize) -> Vec<std::ops::Range<usize>> {
    (0..parts)
        .map(|i| (len * i / parts)..(len * (i + 1) / parts))
        .collect()
}

/// Raw pointer that may be shared by threads writing disjoint ranges.
#[derive(Clone, Copy)]
struct Shared(*mut f64);
// SAFETY: the threads that receive it write disjoint index ranges only (see `bandwidth`).
unsafe impl Send for Shared {}
// SAFETY: as above.
unsafe impl Sync for Shared {}

/// Memory bandwidth in GB/s of `kernel` (`copy`: b = a, 16 bytes/element; `triad`:
/// a = b + s·c, 24 bytes/element; `update`: a = s·a, 16 bytes/element) with `threads` threads
/// over arrays of `bytes` each, best of `repeats`.
///
/// # Errors
/// [`Error::InvalidArgument`] for an unknown kernel; [`Error::TooLarge`] when the arrays cannot
/// be allocated.
pub fn bandwidth_gbs(kernel: &str, threads: usize, bytes: usize, repeats: usize) -> Result<f64> {
    let n = (bytes / 8).max(1024);
    let alloc = |v: f64| -> Result<Vec<f64>> {
        let mut a = Vec::new();
        a.try_reserve_exact(n).map_err(|_| Error::TooLarge {
            op: "peak",
            what: "bytes",
            value: n.saturating_mul(8),
            max: isize::MAX as usize,
        })?;
        a.resize(n, v); // touch every page before timing
        Ok(a)
    };
    let (mut a, mut b, c) = (alloc(1.0)?, alloc(2.0)?, alloc(3.0)?);
    let per_element = match kernel {
        "copy" | "update" => 16.0,
        "triad" => 24.0,
        other => {
            return Err(Error::InvalidArgument {
                op: "peak",
                name: "kernel",
                reason: format!(
                    "unknown bandwidth kernel {other:?}; expected copy, triad or update"
                ),
            })
        }
    };
    let parts = ranges(n, threads);
    let (pa, pb) = (Shared(a.as_mut_ptr()), Shared(b.as_mut_ptr()));
    let pc = c.as_ptr() as usize;
    let mut best = 0.0f64;
    for _ in 0..repeats.max(1) {
        let dt = timed_on_threads(threads, &|i| {
            let r = parts[i].clone();
            let len = r.len();
            // SAFETY: each thread gets a distinct range `r` of arrays of length n, so the
            // mutable slices below never overlap between threads; the arrays outlive the scope.
            unsafe {
                let a = std::slice::from_raw_parts_mut({ pa }.0.add(r.start), len);
                let b = std::slice::from_raw_parts_mut({ pb }.0.add(r.start), len);
                let c = std::slice::from_raw_parts((pc as *const f64).add(r.start), len);
                match kernel {
                    "copy" => b.copy_from_slice(a),
                    "triad" => {
                        for ((x, &y), &z) in a.iter_mut().zip(b.iter()).zip(c) {
                            *x = y + 0.5 * z;
                        }
                    }
                    _ => {
                        for x in a.iter_mut() {
                            *x *= 0.999_999;
                        }
                    }
                }
            }
        });
        best = best.max(per_element * n as f64 / dt.as_secs_f64() / 1e9);
    }
    std::hint::black_box((&a, &b, &c));
    Ok(best)
}

/// How long and how often to measure.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Seconds per FMA run.
    pub fma_seconds: f64,
    /// Bytes per bandwidth array.
    pub stream_bytes: usize,
    /// Repeats of each measurement (the best is kept).
    pub repeats: usize,
}

impl Budget {
    /// Short runs (about a second on 2 cores, rougher numbers): `parla peak --quick`, and
    /// `parla compare --quick` when no peaks are cached.
    pub const QUICK: Budget = Budget {
        fma_seconds: 0.02,
        stream_bytes: 8 << 20,
        repeats: 2,
    };
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            fma_seconds: 0.2,
            stream_bytes: STREAM_BYTES,
            repeats: 5,
        }
    }
}

/// Measures every ceiling for 1..=`max_threads` threads.
///
/// # Errors
/// [`Error::TooLarge`] when the bandwidth arrays cannot be allocated.
pub fn measure(max_threads: usize, budget: Budget) -> Result<Peaks> {
    let mut ceilings = Vec::new();
    let mut isa = String::new();
    for threads in 1..=max_threads.max(1) {
        for (f32, dtype) in [(false, "float64"), (true, "float32")] {
            // Every vector ISA (the widest is the peak; narrower ones show what kernels written
            // for them can reach); the portable loop only when there is no vector FMA.
            let ks = kernels(f32);
            let vector = ks.len() > 1;
            for (k_isa, kernel, flops) in ks.into_iter().filter(|k| !vector || k.0 != "portable") {
                if isa.is_empty() {
                    isa = k_isa.to_string();
                }
                let v = fma_rate(
                    kernel,
                    flops,
                    threads,
                    budget.fma_seconds,
                    budget.repeats.min(2),
                );
                ceilings.push(Ceiling {
                    kernel: "fma".into(),
                    dtype: dtype.into(),
                    isa: k_isa.into(),
                    threads,
                    value: v,
                    unit: "GFLOP/s".into(),
                });
            }
        }
        for kernel in ["copy", "triad", "update"] {
            let v = bandwidth_gbs(kernel, threads, budget.stream_bytes, budget.repeats)?;
            ceilings.push(Ceiling {
                kernel: kernel.into(),
                dtype: "float64".into(),
                isa: "-".into(),
                threads,
                value: v,
                unit: "GB/s".into(),
            });
        }
    }
    let measured_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Ok(Peaks {
        machine: machine_key(),
        isa,
        ceilings,
        measured_at,
        others_busy: None,
    })
}

/// The cached peaks of this machine, if there are readable ones measured on it.
pub fn cached() -> Option<Peaks> {
    std::fs::read_to_string(cache_path())
        .ok()
        .and_then(|s| serde_json::from_str::<Peaks>(&s).ok())
        .filter(|p| p.machine == machine_key() && !p.busy())
}

/// The cached peaks of this machine, or a fresh measurement (stored in the cache) when there is
/// none, it belongs to another machine, it is unreadable, or `fresh` is set. Returns the peaks
/// and whether they came from the cache. Peaks measured while other processes kept cores busy
/// ([`Peaks::busy`]) are returned but not cached.
///
/// # Errors
/// As [`measure`]; a cache that cannot be written is not an error (the peaks are returned).
pub fn cached_or_measure(fresh: bool, budget: Budget) -> Result<(Peaks, bool)> {
    let path = cache_path();
    if !fresh {
        if let Some(p) = cached() {
            return Ok((p, true));
        }
    }
    let sample = crate::compare::load::CpuSample::now();
    let mut peaks = measure(threads::usable_cores(), budget)?;
    peaks.others_busy = sample.and_then(|s| s.others_busy_since_then());
    if peaks.busy() {
        // Every later %peak would be measured against these: do not keep them.
        return Ok((peaks, false));
    }
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    if let Ok(text) = serde_json::to_string_pretty(&peaks) {
        let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
        if std::fs::write(&tmp, text).is_ok() {
            let _ = std::fs::rename(&tmp, &path);
        }
    }
    Ok((peaks, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_cover_everything_once() {
        for (len, parts) in [(10, 3), (1024, 2), (7, 7), (5, 8)] {
            let r = ranges(len, parts);
            assert_eq!(r.len(), parts);
            assert_eq!(r.first().unwrap().start, 0);
            assert_eq!(r.last().unwrap().end, len);
            assert!(r.windows(2).all(|w| w[0].end == w[1].start));
        }
    }

    #[test]
    fn kernels_report_positive_finite_rates() {
        let (isa, g) = fma_gflops(false, 1, 0.01, 1);
        assert!(g.is_finite() && g > 0.0, "{isa}: {g}");
        for k in ["copy", "triad", "update"] {
            let b = bandwidth_gbs(k, 2, 1 << 20, 1).unwrap();
            assert!(b.is_finite() && b > 0.0, "{k}: {b}");
        }
        assert!(bandwidth_gbs("scale", 1, 1 << 20, 1).is_err());
    }
}
