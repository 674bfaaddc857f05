//! The CPU's caches as Linux describes them under `/sys/devices/system/cpu/cpu0/cache`, read
//! once per process: what `parla info` reports and what the GEMM's cache blocks are sized by
//! (`kernels::Element::default_blocks` takes the per-core L2 as a value).

use std::fs;

use serde::Serialize;

/// One CPU cache, as Linux describes it under `/sys/devices/system/cpu/cpu0/cache`.
#[derive(Debug, Clone, Serialize)]
pub struct Cache {
    /// 1, 2, 3…
    pub level: u32,
    /// `Data`, `Instruction` or `Unified`.
    pub kind: String,
    /// Size in bytes.
    pub size_bytes: u64,
    /// Logical CPUs sharing this cache.
    pub shared_by: usize,
}

/// The caches seen by CPU 0 (empty when sysfs does not describe them), read once.
pub(crate) fn caches() -> &'static [Cache] {
    static CACHES: std::sync::OnceLock<Vec<Cache>> = std::sync::OnceLock::new();
    CACHES.get_or_init(read_caches)
}

/// The level-2 data (or unified) cache one logical CPU has to itself, in bytes: its size over
/// the logical CPUs sharing it (two hyperthreads of a core each get half). `None` when sysfs
/// does not say.
pub(crate) fn l2_per_cpu() -> Option<u64> {
    caches()
        .iter()
        .find(|c| c.level == 2 && c.kind != "Instruction" && c.size_bytes > 0)
        .map(|c| c.size_bytes / c.shared_by.max(1) as u64)
}

/// The text of a (sysfs or procfs) file, `None` when unreadable.
pub(crate) fn read(path: &str) -> Option<String> {
    fs::read_to_string(path).ok()
}

/// Parses a Linux CPU list such as `0-3,8,10-11` into a count.
pub fn cpu_list_len(list: &str) -> usize {
    list.trim()
        .split(',')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('-') {
            Some((a, b)) => match (a.parse::<usize>(), b.parse::<usize>()) {
                (Ok(a), Ok(b)) if b >= a => b - a + 1,
                _ => 0,
            },
            None => usize::from(p.parse::<usize>().is_ok()),
        })
        .sum()
}

/// Parses a cache size such as `32K`, `1024K`, `32M` into bytes.
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, mult) = match s.chars().last()? {
        'K' | 'k' => (&s[..s.len() - 1], 1024),
        'M' | 'm' => (&s[..s.len() - 1], 1024 * 1024),
        'G' | 'g' => (&s[..s.len() - 1], 1024 * 1024 * 1024),
        _ => (s, 1),
    };
    num.parse::<u64>().ok().map(|n| n * mult)
}

fn read_caches() -> Vec<Cache> {
    let mut out = Vec::new();
    for i in 0..8 {
        let base = format!("/sys/devices/system/cpu/cpu0/cache/index{i}");
        let Some(level) = read(&format!("{base}/level")).and_then(|s| s.trim().parse().ok()) else {
            break;
        };
        out.push(Cache {
            level,
            kind: read(&format!("{base}/type"))
                .unwrap_or_default()
                .trim()
                .to_string(),
            size_bytes: read(&format!("{base}/size"))
                .and_then(|s| parse_size(&s))
                .unwrap_or(0),
            shared_by: read(&format!("{base}/shared_cpu_list"))
                .map(|s| cpu_list_len(&s))
                .unwrap_or(1),
        });
    }
    out
}
