//! `auto`'s rules: which engine, and whether to cap the threads at one, for an operation of a
//! given size. Every built-in threshold names the benchmark that chose it.

use crate::engine::Engine;
use crate::exec::value::Exec;
use crate::kernels::Isa;
use crate::op::{Dtype, Family, Op, Shape};

/// Below this many flops (`2·m·n·k`) `auto` runs GEMM on OpenBLAS with one thread: at n = 16
/// OpenBLAS's small-matrix path beat parla's packed kernels, at n = 32 they tied
/// (`cargo run --release --example gemm_engines -- f64 1 16 32 64 128`).
pub const AUTO_GEMM_RAYON_MIN_FLOPS: f64 = 2.0 * 32.0 * 32.0 * 32.0;

/// Below this many flops `auto` runs GEMM on one thread: waking a second worker costs more
/// than it saves on smaller products (`cargo run --release --example gemm_engines -- f64 2 64
/// 128 256`). The factorizations use the same threshold for the GEMMs of their recursions.
pub const AUTO_GEMM_PARALLEL_MIN_FLOPS: f64 = crate::parallel::level3::GEMM_PARALLEL_MIN_FLOPS;

/// `auto`'s choice for `op` on `dtype` operands of `shape`: the engine, whether to cap the
/// threads at one, and the rule's name.
///
/// GEMM goes to the `rayon` engine when the CPU has SIMD micro-kernels, except below
/// [`AUTO_GEMM_RAYON_MIN_FLOPS`], and uses one thread below [`AUTO_GEMM_PARALLEL_MIN_FLOPS`];
/// every other operation goes to `blas`.
pub(crate) fn choose(
    exec: &Exec,
    op: Op,
    dtype: Dtype,
    shape: Shape,
) -> (Engine, bool, &'static str) {
    if op.family() != Family::Gemm {
        return (
            Engine::Blas,
            false,
            "auto: blas (the built-in rule for this operation)",
        );
    }
    let simd = match dtype {
        Dtype::F32 => exec.gemm_kernel::<f32>().isa,
        Dtype::F64 => exec.gemm_kernel::<f64>().isa,
    } != Isa::Portable;
    let flops = op.flops(shape);
    let small = flops < AUTO_GEMM_PARALLEL_MIN_FLOPS;
    if !simd {
        (
            Engine::Blas,
            small,
            "auto: blas (no SIMD micro-kernel on this CPU)",
        )
    } else if flops < AUTO_GEMM_RAYON_MIN_FLOPS {
        (
            Engine::Blas,
            small,
            "auto: blas below AUTO_GEMM_RAYON_MIN_FLOPS",
        )
    } else if small {
        (
            Engine::Rayon,
            true,
            "auto: rayon on one thread below AUTO_GEMM_PARALLEL_MIN_FLOPS",
        )
    } else {
        (Engine::Rayon, false, "auto: rayon")
    }
}
