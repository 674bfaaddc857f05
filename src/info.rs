//! The machine report behind `parla info`: CPU, caches, memory, BLAS build and threads, and the
//! thread settings parla resolved from the environment.

use std::fmt::Write as _;

use serde::Serialize;

use crate::cpu::read;
pub use crate::cpu::{cpu_list_len, parse_size, Cache};
use crate::engine::Engine;
use crate::kernels::GemmKernel;
use crate::op::{Dtype, Op, Shape};
use crate::threads::{self, openblas::OpenBlasInfo, EnvStatus, Source};

/// The processor.
#[derive(Debug, Clone, Serialize)]
pub struct Cpu {
    /// Model name from `/proc/cpuinfo`, with its CPU family and model numbers when Linux gives
    /// them (`AMD EPYC (cpu family 25, model 1)`).
    pub model: String,
    /// Logical CPUs online.
    pub logical_cores: usize,
    /// Physical cores (distinct package/core pairs).
    pub physical_cores: usize,
    /// CPUs in this process's affinity mask.
    pub affinity_cores: usize,
    /// CPU quota of this process's cgroup, in CPUs, when one is set.
    pub cgroup_quota: Option<f64>,
    /// Cores this process may use (affinity and quota respected): the default thread budget.
    pub usable_cores: usize,
    /// SIMD extensions detected at run time.
    pub simd: Vec<String>,
    /// Caches seen by CPU 0.
    pub caches: Vec<Cache>,
}

/// Main memory.
#[derive(Debug, Clone, Serialize)]
pub struct Memory {
    /// `MemTotal` in bytes.
    pub total_bytes: u64,
    /// `MemAvailable` in bytes.
    pub available_bytes: u64,
}

/// The thread settings parla resolved for its default calls.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    /// The default engine, or the error that prevents resolving it.
    pub backend: Result<Engine, String>,
    /// The budget for the `blas` engine and where it came from, or the error.
    pub blas_threads: Result<(usize, Source), String>,
    /// The budget for the rayon engines and where it came from, or the error.
    pub rayon_threads: Result<(usize, Source), String>,
    /// Most OpenBLAS threads parla lets work at once (see `threads::openblas`).
    pub max_threads_inside_openblas: usize,
    /// The tuning profile `auto` uses (`parla tune`), in words, or the error.
    pub tuning_profile: Result<String, String>,
    /// Whether a pool of the usable cores has its workers pinned one per CPU, in words, or
    /// the `PARLA_PIN_THREADS` error.
    pub pool_pinning: Result<String, String>,
    /// What `auto` picks for a few representative calls with the default budgets.
    pub auto_picks: Vec<AutoPick>,
}

/// What `auto` runs for one representative call.
#[derive(Debug, Clone, Serialize)]
pub struct AutoPick {
    /// The call, e.g. `gemm f64 1024 x 1024 x 1024`.
    pub call: String,
    /// The engine chosen.
    pub engine: Engine,
    /// Its threads.
    pub threads: usize,
    /// The rule that decided.
    pub rule: String,
}

/// `auto`'s plan for representative calls, with the process's budgets.
fn auto_picks() -> Vec<AutoPick> {
    let Ok(exec) = crate::Exec::current().map(|e| e.with_engine(Engine::Auto)) else {
        return Vec::new();
    };
    let cases: [(&str, Op, Shape); 8] = [
        (
            "gemm 64^3",
            Op::Gemm,
            Shape::Product {
                m: 64,
                n: 64,
                k: 64,
            },
        ),
        (
            "gemm 1024^3",
            Op::Gemm,
            Shape::Product {
                m: 1024,
                n: 1024,
                k: 1024,
            },
        ),
        (
            "gemm 8192x64x64 (tall)",
            Op::Gemm,
            Shape::Product {
                m: 8192,
                n: 64,
                k: 64,
            },
        ),
        ("gemv 1024x1024", Op::Gemv, Shape::Matrix(1024, 1024)),
        ("cholesky 1024", Op::Cholesky, Shape::Square(1024)),
        (
            "solve 256, 1 rhs",
            Op::Solve,
            Shape::System {
                rows: 256,
                cols: 256,
                rhs: 1,
            },
        ),
        (
            "solve 2048, 1 rhs",
            Op::Solve,
            Shape::System {
                rows: 2048,
                cols: 2048,
                rhs: 1,
            },
        ),
        ("eigh 1024", Op::Eigh, Shape::Square(1024)),
    ];
    cases
        .into_iter()
        .filter_map(|(call, op, shape)| {
            let p = exec.plan(op, Dtype::F64, shape).ok()?;
            Some(AutoPick {
                call: format!("{call} f64"),
                engine: p.engine,
                threads: p.threads,
                rule: p.rule.to_string(),
            })
        })
        .collect()
}

/// Everything `parla info` reports.
#[derive(Debug, Clone, Serialize)]
pub struct MachineInfo {
    /// parla's version.
    pub parla_version: String,
    /// The processor.
    pub cpu: Cpu,
    /// Main memory.
    pub memory: Memory,
    /// OpenBLAS's build and thread settings.
    pub blas: OpenBlasInfo,
    /// Threads of rayon's global pool.
    pub rayon_global_threads: usize,
    /// The `rayon` engine's GEMM on this CPU, f64 then f32: micro-kernel instruction set,
    /// register tile and cache blocks (chosen from the detected instruction set and the L2
    /// per core).
    pub rayon_gemm: [GemmKernel; 2],
    /// What parla resolved.
    pub settings: Settings,
    /// Every parla-related environment variable.
    pub env: Vec<EnvStatus>,
}

fn cpu_model() -> String {
    let key = crate::tune::MachineKey::current();
    cpu_label(&key.cpu, key.family, key.model)
}

/// The CPU's model name followed by its family and model numbers when `/proc/cpuinfo` has them
/// (family 0 = absent): the name alone ("AMD EPYC") does not tell a Zen 3 (family 25 model 1)
/// from a Zen 4 (25, 17) or a Zen 5 (26), whose kernels and thresholds differ.
fn cpu_label(name: &str, family: u32, model: u32) -> String {
    if family == 0 {
        name.to_string()
    } else {
        format!("{name} (cpu family {family}, model {model})")
    }
}

fn logical_cores() -> usize {
    read("/sys/devices/system/cpu/online")
        .map(|s| cpu_list_len(&s))
        .filter(|&n| n > 0)
        .unwrap_or(1)
}

fn physical_cores() -> usize {
    let mut seen = std::collections::BTreeSet::new();
    for cpu in 0..logical_cores().max(1) * 4 {
        let base = format!("/sys/devices/system/cpu/cpu{cpu}/topology");
        let (Some(pkg), Some(core)) = (
            read(&format!("{base}/physical_package_id")),
            read(&format!("{base}/core_id")),
        ) else {
            continue;
        };
        seen.insert((pkg.trim().to_string(), core.trim().to_string()));
    }
    seen.len().max(1)
}

fn pool_pinning() -> crate::Result<String> {
    let cores = threads::usable_cores();
    Ok(match threads::pinned_cpus(cores)? {
        Some(cpus) => format!(
            "on: a pool of {cores} workers runs one worker per CPU {cpus:?} (PARLA_PIN_THREADS=off to disable)"
        ),
        None if !threads::env::snapshot().pin_threads.clone()? => {
            "off (PARLA_PIN_THREADS)".to_string()
        }
        None => format!(
            "none: pools are pinned only when they cover the affinity mask ({} CPUs) and have 2+ workers",
            threads::affinity::allowed_cpus().len()
        ),
    })
}

fn affinity_cores() -> usize {
    match threads::affinity::allowed_cpus().len() {
        0 => logical_cores(),
        n => n,
    }
}

fn cgroup_quota() -> Option<f64> {
    let text = read("/sys/fs/cgroup/cpu.max")?;
    let mut it = text.split_whitespace();
    let (quota, period) = (it.next()?, it.next()?);
    let (q, p) = (quota.parse::<f64>().ok()?, period.parse::<f64>().ok()?);
    (p > 0.0).then_some(q / p)
}

fn simd() -> Vec<String> {
    let mut v = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        macro_rules! probe {
            ($($f:tt),*) => { $( if std::arch::is_x86_feature_detected!($f) { v.push($f.to_string()); } )* };
        }
        probe!(
            "sse4.2",
            "avx",
            "avx2",
            "fma",
            "avx512f",
            "avx512dq",
            "avx512bw",
            "avx512vl",
            "avx512vnni",
            "avx512bf16"
        );
    }
    #[cfg(target_arch = "aarch64")]
    {
        if std::arch::is_aarch64_feature_detected!("neon") {
            v.push("neon".to_string());
        }
    }
    v
}

fn memory() -> Memory {
    let text = read("/proc/meminfo").unwrap_or_default();
    let field = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    };
    Memory {
        total_bytes: field("MemTotal:"),
        available_bytes: field("MemAvailable:"),
    }
}

impl MachineInfo {
    /// Gathers the report. Reading it never fails: what cannot be read is reported as unknown,
    /// and invalid environment variables appear as errors inside the report.
    pub fn collect() -> Self {
        let text = |e: crate::Error| e.to_string();
        MachineInfo {
            parla_version: env!("CARGO_PKG_VERSION").to_string(),
            cpu: Cpu {
                model: cpu_model(),
                logical_cores: logical_cores(),
                physical_cores: physical_cores(),
                affinity_cores: affinity_cores(),
                cgroup_quota: cgroup_quota(),
                usable_cores: threads::usable_cores(),
                simd: simd(),
                caches: crate::cpu::caches().to_vec(),
            },
            memory: memory(),
            blas: threads::openblas::info(),
            rayon_global_threads: rayon::current_num_threads(),
            rayon_gemm: {
                // The kernel choice of a default exec: nothing forced, this CPU's instruction set.
                let e = crate::Exec::new(Engine::Rayon, 1).expect("one thread is a valid count");
                [e.gemm_kernel::<f64>(), e.gemm_kernel::<f32>()]
            },
            settings: Settings {
                backend: threads::backend().map_err(text),
                blas_threads: threads::budget_for(Engine::Blas).map_err(text),
                rayon_threads: threads::budget_for(Engine::Rayon).map_err(text),
                max_threads_inside_openblas: threads::openblas::MAX_THREADS_INSIDE,
                tuning_profile: crate::tune::profile_status()
                    .map(|p| p.describe())
                    .map_err(text),
                pool_pinning: pool_pinning().map_err(text),
                auto_picks: auto_picks(),
            },
            env: threads::env_report(),
        }
    }

    /// Human-readable report.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
        let _ = writeln!(s, "parla {}", self.parla_version);
        let _ = writeln!(s, "\nCPU");
        let c = &self.cpu;
        let _ = writeln!(s, "  model            {}", c.model);
        let _ = writeln!(
            s,
            "  cores            {} logical, {} physical",
            c.logical_cores, c.physical_cores
        );
        let quota = c
            .cgroup_quota
            .map_or("none".to_string(), |q| format!("{q:.2} CPUs"));
        let _ = writeln!(
            s,
            "  usable           {} (affinity {}, cgroup quota {})",
            c.usable_cores, c.affinity_cores, quota
        );
        let _ = writeln!(
            s,
            "  SIMD             {}",
            if c.simd.is_empty() {
                "none detected".to_string()
            } else {
                c.simd.join(" ")
            }
        );
        for cache in &c.caches {
            let _ = writeln!(
                s,
                "  L{} {:<12}  {} KiB, shared by {} CPU(s)",
                cache.level,
                cache.kind,
                cache.size_bytes / 1024,
                cache.shared_by
            );
        }
        let _ = writeln!(s, "\nMemory");
        let _ = writeln!(
            s,
            "  total            {:.1} GiB ({:.1} GiB available)",
            gib(self.memory.total_bytes),
            gib(self.memory.available_bytes)
        );
        let b = &self.blas;
        let _ = writeln!(s, "\nBLAS");
        let _ = writeln!(s, "  vendor           OpenBLAS {}", b.version);
        let _ = writeln!(s, "  config           {}", b.config);
        let _ = writeln!(s, "  core type        {}", b.corename);
        let _ = writeln!(s, "  threading        {}", b.threading);
        let _ = writeln!(
            s,
            "  threads now      {} (procs seen by OpenBLAS: {})",
            b.num_threads, b.num_procs
        );
        let _ = writeln!(s, "\nparla");
        let st = &self.settings;
        let show = |r: &Result<(usize, Source), String>| match r {
            Ok((n, src)) => format!("{n} (from {})", source_name(*src)),
            Err(e) => format!("ERROR: {e}"),
        };
        let _ = writeln!(
            s,
            "  default engine   {}",
            match &st.backend {
                Ok(e) => e.to_string(),
                Err(e) => format!("ERROR: {e}"),
            }
        );
        let _ = writeln!(s, "  blas threads     {}", show(&st.blas_threads));
        let _ = writeln!(s, "  rayon threads    {}", show(&st.rayon_threads));
        let _ = writeln!(
            s,
            "  rayon global pool {} threads",
            self.rayon_global_threads
        );
        for (t, k) in ["f64", "f32"].iter().zip(&self.rayon_gemm) {
            let b = k.blocks;
            let _ = writeln!(
                s,
                "  rayon gemm {t}   {} micro-kernel {}x{}, blocks mc {} kc {} nc {}",
                k.isa, k.mr, k.nr, b.mc, b.kc, b.nc
            );
        }
        let _ = writeln!(
            s,
            "  OpenBLAS cap     {} threads inside OpenBLAS at once",
            st.max_threads_inside_openblas
        );
        let _ = writeln!(s, "  precedence       scoped limit > set_num_threads > PARLA_NUM_THREADS > OPENBLAS_NUM_THREADS (blas) / RAYON_NUM_THREADS (rayon) > usable cores");
        let over = [&st.blas_threads, &st.rayon_threads]
            .into_iter()
            .filter_map(|r| r.as_ref().ok().map(|(n, _)| *n))
            .max()
            .filter(|&n| n > c.usable_cores);
        if let Some(n) = over {
            let _ = writeln!(
                s,
                "  oversubscribed   the budget ({n}) exceeds the {} usable cores: auto runs at most {}; \
                 a fixed engine runs {n} as asked (OpenBLAS then slows down many times: see \
                 `parla compare`'s oversubscription line)",
                c.usable_cores, c.usable_cores
            );
        }
        let _ = writeln!(
            s,
            "  tuning profile   {}",
            match &st.tuning_profile {
                Ok(t) => t.clone(),
                Err(e) => format!("ERROR: {e}"),
            }
        );
        let _ = writeln!(
            s,
            "  pool pinning     {}",
            match &st.pool_pinning {
                Ok(t) => t.clone(),
                Err(e) => format!("ERROR: {e}"),
            }
        );
        if !st.auto_picks.is_empty() {
            let _ = writeln!(s, "\nauto (default budgets)");
            for p in &st.auto_picks {
                let _ = writeln!(
                    s,
                    "  {:<28} {:<10} {}t  {}",
                    p.call, p.engine, p.threads, p.rule
                );
            }
        }
        let _ = writeln!(s, "\nEnvironment");
        for e in &self.env {
            let value = e
                .value
                .as_deref()
                .map_or("(unset)".to_string(), |v| format!("{v:?}"));
            let mark = if e.in_effect { "in effect" } else { "not used" };
            let _ = writeln!(s, "  {:<22} {:<10} {:<10} {}", e.name, value, mark, e.note);
        }
        s
    }
}

fn source_name(s: Source) -> &'static str {
    match s {
        Source::Scoped => "a scoped limit",
        Source::Runtime => "set_num_threads",
        Source::ParlaEnv => "PARLA_NUM_THREADS",
        Source::OpenBlasEnv => "OPENBLAS_NUM_THREADS",
        Source::RayonEnv => "RAYON_NUM_THREADS",
        Source::Cores => "usable cores",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists() {
        assert_eq!(cpu_list_len("0-3,8,10-11\n"), 7);
        assert_eq!(cpu_list_len("0"), 1);
        assert_eq!(cpu_list_len(""), 0);
        assert_eq!(cpu_list_len("3-1"), 0);
    }

    #[test]
    fn model_names_carry_family_and_model() {
        assert_eq!(
            cpu_label("AMD EPYC", 25, 1),
            "AMD EPYC (cpu family 25, model 1)"
        );
        assert_eq!(cpu_label("Some CPU", 0, 0), "Some CPU");
    }

    #[test]
    fn cache_sizes() {
        assert_eq!(parse_size("32K\n"), Some(32 * 1024));
        assert_eq!(parse_size("32M"), Some(32 << 20));
        assert_eq!(parse_size("512"), Some(512));
        assert_eq!(parse_size("x"), None);
        assert_eq!(parse_size(""), None);
    }

    #[test]
    fn report_mentions_every_section() {
        let text = MachineInfo::collect().render();
        for section in ["CPU", "Memory", "BLAS", "parla", "Environment"] {
            assert!(text.contains(section), "{section}");
        }
        // The rayon GEMM kernel this CPU runs (the best instruction set it has).
        let isa = crate::kernels::Isa::detect();
        for t in ["f64", "f32"] {
            assert!(
                text.contains(&format!("rayon gemm {t}   {isa} micro-kernel")),
                "{text}"
            );
        }
    }
}
