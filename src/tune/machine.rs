//! What identifies a machine for a tuning profile: the CPU, the cores this process may use,
//! the OpenBLAS build and kernel family, and parla's version with the revision of its measured
//! speeds ([`KERNELS_REVISION`]). A profile measured under another key is never used.

use serde::{Deserialize, Serialize};

use crate::kernels::Isa;
use crate::threads;

/// The identity a tuning profile is measured for. Two processes with equal keys run the same
/// kernels on the same cores, so one's measurements hold for the other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MachineKey {
    /// CPU vendor (`/proc/cpuinfo` `vendor_id`), `unknown` when unreadable.
    pub vendor: String,
    /// CPU model name.
    pub cpu: String,
    /// CPU family number (AMD Zen 4: 25, Zen 5: 26).
    pub family: u32,
    /// CPU model number.
    pub model: u32,
    /// The widest instruction set of parla's micro-kernels on this CPU.
    pub isa: Isa,
    /// Cores this process may use (affinity and cgroup quota respected).
    pub cores: usize,
    /// OpenBLAS's kernel family (`openblas_get_corename`): changes with `OPENBLAS_CORETYPE`.
    pub openblas_core: String,
    /// OpenBLAS's build string (`openblas_get_config`): version and build options.
    pub openblas_config: String,
    /// parla's version and the speed revision `KERNELS_REVISION` (`0.1.0+k10`).
    pub parla: String,
}

/// Revision of parla's measured speeds, part of the profile key: bump it with every change
/// that moves an engine's speed enough to change `auto`'s choices, so profiles measured
/// before are ignored (with a note in `parla info`) instead of silently steering `auto` by
/// stale numbers. Revision 2: the rayon spectral decompositions became 1.2–1.6× faster
/// (session 7), and a profile from before sent `eigh` to `blas`. Revision 3: rayon `svd`
/// (divide and conquer). Revision 4: the AVX2 GEMM kernels (k unrolled, prefetching; Zen 3
/// one-thread dgemm 0.83× → about 1.0× OpenBLAS). Revision 5: QR's recursive panels under
/// 64-column blocks (rayon engines' QR 0.80–0.88× LAPACK's time on a Zen 3). Revision 6: QR's
/// look-ahead on two or more workers; `blas` solve / inv / det without the transposing copy.
/// Revision 7: the tridiagonal reduction's symmetric products on helpers kept for a panel, and
/// `rayon-blas`'s rank-2k update in parallel block columns (eigh / eigvalsh on the rayon
/// engines at 2 threads, n = 512, time / `blas` on a Zen 3: `rayon-blas` 0.99–1.25 → 0.98–1.05,
/// `rayon` 0.95–1.12 → 0.92–0.99). Revision 8: transposing copies with power-of-two strides
/// through 8 × 8 blocks (`rayon`'s `transpose` 2–3.5× faster at n = 512–1024; the rayon
/// engines' LU of a row-major matrix 7–11 % faster at n = 512/1024 on a Zen 3). Revision 9:
/// the transposing copy in vector registers at every stride (`rayon`'s `transpose` 1.2–3× faster
/// again; `blas`'s column-major copies with it), after sessions 17–19 made the rayon Cholesky,
/// LU and QR 10–40 % faster on the Zen 5 without a bump. Revision 10: `pack_a` of a row-major
/// A through the same copy (the rayon QR at one thread 2–25 % faster at n = 512–1024 on the
/// Zen 5), and whole factorizations started on the caller's CPU (the rayon LU at n = 2048 and
/// 2 threads steadily at its best, 61–72 ms instead of 63–99 ms, on the Zen 5 VM). Revision 11:
/// the AVX2 micro-kernels' k loop in assembly and the AVX2 `mc` sized by the L2, f32 `kc` 512
/// (sgemm of order 2048 at one thread on a Zen 3: 86–88 → 92–94 GFLOP/s).
pub const KERNELS_REVISION: u32 = 11;

fn cpuinfo_field(text: &str, name: &str) -> Option<String> {
    text.lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim() == name)
        .map(|(_, v)| v.trim().to_string())
}

impl MachineKey {
    /// The key of the machine this process runs on (read once per process).
    pub fn current() -> Self {
        static KEY: std::sync::OnceLock<MachineKey> = std::sync::OnceLock::new();
        KEY.get_or_init(MachineKey::read).clone()
    }

    fn read() -> Self {
        let text = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let field = |n: &str| cpuinfo_field(&text, n);
        let number = |n: &str| field(n).and_then(|v| v.parse().ok()).unwrap_or(0);
        let blas = threads::openblas::info();
        MachineKey {
            vendor: field("vendor_id").unwrap_or_else(|| "unknown".into()),
            cpu: field("model name").unwrap_or_else(|| "unknown".into()),
            family: number("cpu family"),
            model: number("model"),
            isa: Isa::detect(),
            cores: threads::usable_cores(),
            openblas_core: blas.corename,
            openblas_config: blas.config,
            parla: format!("{}+k{KERNELS_REVISION}", env!("CARGO_PKG_VERSION")),
        }
    }

    /// Why a profile measured under `self` does not hold for `other` (the first field that
    /// differs, in words), or `None` when the keys are equal.
    pub fn mismatch(&self, other: &MachineKey) -> Option<String> {
        let pairs: [(&str, String, String); 9] = [
            ("parla version", self.parla.clone(), other.parla.clone()),
            ("CPU vendor", self.vendor.clone(), other.vendor.clone()),
            ("CPU model", self.cpu.clone(), other.cpu.clone()),
            (
                "CPU family",
                self.family.to_string(),
                other.family.to_string(),
            ),
            (
                "CPU model number",
                self.model.to_string(),
                other.model.to_string(),
            ),
            (
                "micro-kernel instruction set",
                self.isa.name().to_string(),
                other.isa.name().to_string(),
            ),
            (
                "usable cores",
                self.cores.to_string(),
                other.cores.to_string(),
            ),
            (
                "OpenBLAS core type",
                self.openblas_core.clone(),
                other.openblas_core.clone(),
            ),
            (
                "OpenBLAS build",
                self.openblas_config.clone(),
                other.openblas_config.clone(),
            ),
        ];
        pairs
            .into_iter()
            .find(|(_, a, b)| a != b)
            .map(|(what, a, b)| format!("{what} is {b:?}, the profile was measured with {a:?}"))
    }

    /// A short stable name for this key (used in the default profile's file name, so machines
    /// sharing a home directory keep one profile each).
    pub fn digest(&self) -> String {
        let text = serde_json::to_string(self).unwrap_or_default();
        format!("{:016x}", xxhash_rust::xxh3::xxh3_64(text.as_bytes()))
    }

    /// The width in bits of OpenBLAS's GEMM kernels for its core type: 512 for its AVX-512
    /// families, 256 for its AVX2 + FMA families, 128 for anything older or unknown.
    pub fn openblas_vector_bits(&self) -> u32 {
        openblas_vector_bits(&self.openblas_core)
    }
}

/// See [`MachineKey::openblas_vector_bits`].
pub(crate) fn openblas_vector_bits(corename: &str) -> u32 {
    let core = corename.to_ascii_lowercase();
    const AVX512: [&str; 3] = ["skylakex", "cooperlake", "sapphirerapids"];
    const AVX2_FMA: [&str; 4] = ["haswell", "zen", "excavator", "skylake"];
    if AVX512.iter().any(|c| core.contains(c)) {
        512
    } else if AVX2_FMA.iter().any(|c| core.contains(c)) {
        256
    } else {
        128
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_widths_of_openblas_core_types() {
        assert_eq!(openblas_vector_bits("Cooperlake"), 512);
        assert_eq!(openblas_vector_bits("SkylakeX"), 512);
        assert_eq!(openblas_vector_bits("Haswell"), 256);
        assert_eq!(openblas_vector_bits("Zen"), 256);
        assert_eq!(openblas_vector_bits("Sandybridge"), 128);
        assert_eq!(openblas_vector_bits("Prescott"), 128);
    }

    #[test]
    fn mismatch_names_the_first_differing_field() {
        let a = MachineKey::current();
        assert_eq!(a.mismatch(&a), None);
        let mut b = a.clone();
        b.cores = a.cores + 1;
        assert!(a.mismatch(&b).unwrap().contains("usable cores"));
        let mut c = a.clone();
        c.openblas_core = "SomethingElse".into();
        assert!(a.mismatch(&c).unwrap().contains("OpenBLAS core type"));
        assert_ne!(a.digest(), b.digest());
    }

    #[test]
    fn cpuinfo_fields_are_found_by_exact_name() {
        let t = "model\t\t: 2\nmodel name\t: AMD EPYC\ncpu family\t: 26\n";
        assert_eq!(cpuinfo_field(t, "model").as_deref(), Some("2"));
        assert_eq!(cpuinfo_field(t, "model name").as_deref(), Some("AMD EPYC"));
        assert_eq!(cpuinfo_field(t, "cpu family").as_deref(), Some("26"));
        assert_eq!(cpuinfo_field(t, "stepping"), None);
    }
}
