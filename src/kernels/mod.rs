//! parla's own pure-Rust kernels (engine `rayon`): GEMM built the BLIS way — packing
//! ([`pack`]), register-blocked SIMD micro-kernels ([`micro`]) and the two innermost loops
//! around them ([`gemm`]). The outer three loops and the parallel split live in
//! `parallel::gemm::blis_loops`, the block scheduler.
//!
//! Kernels hold no global state: the instruction set and the block sizes arrive as values
//! ([`GemmKernel`]), chosen by the caller.

pub(crate) mod bidiag_svd;
pub(crate) mod cols4;
pub(crate) mod complex;
pub(crate) mod elementwise;
pub(crate) mod gemm;
pub(crate) mod hessenberg_qr;
pub(crate) mod level1;
pub(crate) mod level2;
pub(crate) mod lu;
pub(crate) mod micro;
pub(crate) mod pack;
pub(crate) mod qr;
pub(crate) mod reduce;
pub(crate) mod reflector;
pub(crate) mod schur_vectors;
pub(crate) mod simd1;
pub(crate) mod transpose;
pub(crate) mod triangular;
pub(crate) mod tridiag_eig;
pub(crate) mod trsm_tile;
pub(crate) mod trsv;

use std::fmt;

use micro::MicroKernelFn;
use ndarray::{ArrayViewMut2, Axis, Zip};

/// The instruction set of a micro-kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Isa {
    /// AVX-512F: 512-bit FMA, 32 vector registers.
    Avx512,
    /// AVX2 + FMA: 256-bit FMA, 16 vector registers.
    Avx2,
    /// Plain Rust, vectorised by the compiler for the target baseline; runs on any CPU.
    Portable,
}

impl Isa {
    /// The widest instruction set this CPU supports.
    pub fn detect() -> Isa {
        [Isa::Avx512, Isa::Avx2]
            .into_iter()
            .find(|isa| isa.available())
            .unwrap_or(Isa::Portable)
    }

    /// Whether this CPU can run the kernels of this instruction set.
    pub fn available(self) -> bool {
        match self {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => std::arch::is_x86_feature_detected!("avx512f"),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => {
                std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
            }
            #[cfg(not(target_arch = "x86_64"))]
            Isa::Avx512 | Isa::Avx2 => false,
            Isa::Portable => true,
        }
    }

    /// The name used in reports: `avx512`, `avx2`, `portable`.
    pub fn name(self) -> &'static str {
        match self {
            Isa::Avx512 => "avx512",
            Isa::Avx2 => "avx2",
            Isa::Portable => "portable",
        }
    }
}

impl fmt::Display for Isa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The cache block sizes of the GEMM loops (BLIS names; see `parallel::gemm::blis_loops` for the loops).
///
/// * `kc`: depth of one rank-`kc` update. The packed B~ micro-panel (`kc × NR`) should stay in
///   L1 while the micro-kernel streams A~ micro-panels past it.
/// * `mc`: rows of the packed A~ block (`mc × kc`), which should fit in L2 (half of it, leaving
///   room for the B~ panels and C).
/// * `nc`: columns of the packed B~ block (`kc × nc`), which should fit in the shared L3.
///
/// Any positive values are correct (tests force tiny ones so the blocked paths run on small
/// matrices); the defaults ([`Element::default_blocks`]) assume an L1d of at least 32 KiB and a
/// shared L3 of several MiB, and size the AVX2 blocks' `mc` by the per-core L2
/// (`Exec::with_gemm_blocks` overrides them; `cargo run --release --example gemm_blocks` sweeps
/// them on the machine at hand).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct GemmBlocks {
    /// Rows of A~ per block (loop 3, `ic`).
    pub mc: usize,
    /// Depth of each rank-k update (loop 4, `pc`).
    pub kc: usize,
    /// Columns of B~ per block (loop 5, `jc`).
    pub nc: usize,
}

/// Largest accepted block size: keeps the packed buffers (at most `mc·kc` and `kc·nc` elements)
/// far from allocation failure even for absurd requests.
pub const MAX_BLOCK: usize = 1 << 14;

/// A micro-kernel and its tile: what the macro-kernel needs to run (crate-internal: the module
/// is private).
#[derive(Clone, Copy)]
pub struct MicroKernel<T> {
    /// Rows of the register tile.
    pub(crate) mr: usize,
    /// Columns of the register tile.
    pub(crate) nr: usize,
    /// The kernel; callable only when `isa.available()`.
    pub(crate) run: MicroKernelFn<T>,
}

/// What the `rayon` engine's GEMM runs: instruction set, register tile and cache blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct GemmKernel {
    /// The micro-kernel's instruction set.
    pub isa: Isa,
    /// Rows of the register tile (MR).
    pub mr: usize,
    /// Columns of the register tile (NR).
    pub nr: usize,
    /// Cache blocks.
    pub blocks: GemmBlocks,
}

/// An element type the pure-Rust kernels compute with (`f32`, `f64`).
pub trait Element: crate::real::Real {
    /// The micro-kernel for `isa`. The caller checks `isa.available()` before running it.
    #[doc(hidden)]
    fn micro_kernel(isa: Isa) -> MicroKernel<Self>;

    /// The tuned cache blocks for `isa` on this type (see [`GemmBlocks`]), for a CPU whose
    /// cores each have `l2_bytes` of level-2 cache (`None`: unknown, taken as 512 KiB).
    fn default_blocks(isa: Isa, l2_bytes: Option<u64>) -> GemmBlocks;
}

impl Element for f64 {
    fn micro_kernel(isa: Isa) -> MicroKernel<f64> {
        match isa {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => MicroKernel {
                mr: 16,
                nr: 14,
                run: micro::avx512::dgemm_16x14,
            },
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => MicroKernel {
                mr: 8,
                nr: 6,
                run: micro::avx2::dgemm_8x6,
            },
            _ => MicroKernel {
                mr: micro::portable::MR,
                nr: micro::portable::NR,
                run: micro::portable::gemm_8x4::<f64>,
            },
        }
    }

    fn default_blocks(isa: Isa, l2_bytes: Option<u64>) -> GemmBlocks {
        match isa {
            // A~ 192×256×8 B = 384 KiB (L2 / 2.7 on the Zen 4/5 it was tuned on); B~ micro-panel
            // 256×14×8 B = 28 KiB (L1 · 0.6); B~ block 256×4096×8 B = 8 MiB (L3 / 4).
            Isa::Avx512 => GemmBlocks {
                mc: 192,
                kc: 256,
                nc: 4096,
            },
            // B~ micro-panel 256×6×8 B = 12 KiB; A~ at most half the L2 (128 rows on a 512 KiB
            // Zen 3 L2, no measurable change from 192 there), at most 192 rows.
            Isa::Avx2 => GemmBlocks {
                mc: avx2_mc(192, 256, 8, 8, l2_bytes),
                kc: 256,
                nc: 4096,
            },
            Isa::Portable => GemmBlocks {
                mc: 128,
                kc: 256,
                nc: 2048,
            },
        }
    }
}

impl Element for f32 {
    fn micro_kernel(isa: Isa) -> MicroKernel<f32> {
        match isa {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => MicroKernel {
                mr: 32,
                nr: 14,
                run: micro::avx512::sgemm_32x14,
            },
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => MicroKernel {
                mr: 16,
                nr: 6,
                run: micro::avx2::sgemm_16x6,
            },
            _ => MicroKernel {
                mr: micro::portable::MR,
                nr: micro::portable::NR,
                run: micro::portable::gemm_8x4::<f32>,
            },
        }
    }

    fn default_blocks(isa: Isa, l2_bytes: Option<u64>) -> GemmBlocks {
        match isa {
            // A~ 256×384×4 B = 384 KiB; B~ micro-panel 384×14×4 B = 21 KiB; B~ block 6 MiB.
            Isa::Avx512 => GemmBlocks {
                mc: 256,
                kc: 384,
                nc: 4096,
            },
            // A deep kc (B~ micro-panel 512×6×4 B = 12 KiB) halves the passes over C against
            // kc = 256: on a Zen 3 (512 KiB L2) mc = 128, kc = 512 ran sgemm of order 2048 at
            // 94 GFLOP/s against 90 for mc = 256, kc = 384 (A~ 384 KiB, three quarters of
            // that L2). A~ at most half the L2, at most 256 rows.
            Isa::Avx2 => GemmBlocks {
                mc: avx2_mc(256, 512, 4, 16, l2_bytes),
                kc: 512,
                nc: 4096,
            },
            Isa::Portable => GemmBlocks {
                mc: 128,
                kc: 256,
                nc: 2048,
            },
        }
    }
}

/// Rows of an AVX2 A~ block of depth `kc` (elements of `size` bytes, register tiles of `mr`
/// rows): the most whole tiles whose packed block takes at most half of the per-core L2
/// (`None`: 512 KiB, the smallest L2 of the AVX2 CPUs parla was measured on), at most `cap`
/// rows and at least one tile. The rest of the L2 holds the B~ micro-panels streaming through
/// and the C tiles.
fn avx2_mc(cap: usize, kc: usize, size: usize, mr: usize, l2_bytes: Option<u64>) -> usize {
    let l2 = usize::try_from(l2_bytes.unwrap_or(512 << 10)).unwrap_or(usize::MAX);
    let tiles = l2 / 2 / (kc * size * mr);
    (tiles * mr).clamp(mr, cap)
}

/// Runs `f(w, m)` on a column-major copy `w` of the `m × n` block `a` (column `j` is
/// `w[j·m .. (j+1)·m]`, so the small factorization kernels work on contiguous columns whatever
/// `a`'s layout), then writes `w` back into `a`.
pub(crate) fn on_columns<T: Copy, R>(
    a: &mut ArrayViewMut2<T>,
    f: impl FnOnce(&mut [T], usize) -> R,
) -> R {
    let (m, n) = a.dim();
    if m == 0 || n == 0 {
        return f(&mut [], m);
    }
    if a.strides()[1] != 1 || n == 1 {
        // Columns copied whole where they are contiguous (a block of a column-major matrix, as
        // QR's panels: the element-wise copy was 2 % of a one-thread rayon QR at n = 512).
        let mut w = Vec::with_capacity(m * n);
        for col in a.axis_iter(Axis(1)) {
            match col.as_slice() {
                Some(c) => w.extend_from_slice(c),
                None => w.extend(col.iter().copied()),
            }
        }
        let r = f(&mut w, m);
        for (mut dst, src) in a.axis_iter_mut(Axis(1)).zip(w.chunks_exact(m)) {
            match dst.as_slice_mut() {
                Some(d) => d.copy_from_slice(src),
                None => Zip::from(dst).and(src).for_each(|d, &s| *d = s),
            }
        }
        return r;
    }
    // Row-major: read and write back along a's rows (its contiguous axis), scattering into
    // the small column-major copy instead of gathering from strided memory.
    let mut w = vec![a[[0, 0]]; m * n];
    for (i, row) in a.rows().into_iter().enumerate() {
        for (j, &v) in row.iter().enumerate() {
            w[j * m + i] = v;
        }
    }
    let r = f(&mut w, m);
    for (i, mut row) in a.rows_mut().into_iter().enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            *v = w[j * m + i];
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn avx2_blocks_fit_half_the_l2() {
        // Zen 3 (512 KiB): 128 rows for both types (f64 kc 256, f32 kc 512).
        let zen3 = Some(512 << 10);
        assert_eq!(f64::default_blocks(Isa::Avx2, zen3).mc, 128);
        assert_eq!(f32::default_blocks(Isa::Avx2, zen3).mc, 128);
        // Unknown L2: as 512 KiB.
        assert_eq!(f32::default_blocks(Isa::Avx2, None).mc, 128);
        // 1 MiB and more: the caps.
        assert_eq!(f64::default_blocks(Isa::Avx2, Some(1 << 20)).mc, 192);
        assert_eq!(f32::default_blocks(Isa::Avx2, Some(2 << 20)).mc, 256);
        // 256 KiB (Intel client cores): 64 rows, A~ 128 KiB.
        assert_eq!(f64::default_blocks(Isa::Avx2, Some(256 << 10)).mc, 64);
        assert_eq!(f32::default_blocks(Isa::Avx2, Some(256 << 10)).mc, 64);
        // Absurdly small: one register tile.
        assert_eq!(f64::default_blocks(Isa::Avx2, Some(1024)).mc, 8);
        assert_eq!(f32::default_blocks(Isa::Avx2, Some(0)).mc, 16);
        for l2 in [None, Some(0), Some(256 << 10), zen3, Some(1 << 20)] {
            for b in [
                f64::default_blocks(Isa::Avx2, l2),
                f32::default_blocks(Isa::Avx2, l2),
            ] {
                assert!(b.mc % 8 == 0 && b.mc >= 8 && b.mc <= 256, "{b:?}");
            }
        }
        // AVX-512 blocks do not depend on the L2.
        assert_eq!(
            f64::default_blocks(Isa::Avx512, Some(256 << 10)),
            f64::default_blocks(Isa::Avx512, Some(2 << 20))
        );
    }
}
