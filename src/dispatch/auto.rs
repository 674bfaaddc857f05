//! `auto`'s rules: which engine and how many threads, for an operation of a given size and
//! shape.
//!
//! With a tuning profile of this machine (`parla tune`, see [`crate::tuning::Profile`]) the
//! choice is the fastest measured (engine, threads) candidate within the call's budget.
//! Without one, the built-in rules below, chosen to be safe on any machine: OpenBLAS at the
//! budget, except GEMM on parla's kernels where they are wider than OpenBLAS's.
//!
//! Either way `auto` never runs more threads than the cores this process may use
//! ([`threads::usable_cores`]), whatever the budget says: an oversubscribed OpenBLAS is
//! catastrophic (see `threads`' documentation). A fixed engine with more threads than cores
//! is still run as asked.

use std::sync::OnceLock;

use crate::engine::Engine;
use crate::error::Result;
use crate::exec::value::Exec;
use crate::kernels::Isa;
use crate::op::{Dtype, Family, Op, Shape};
use crate::threads;
use crate::tune::{self, Profile, Source};

use super::route::implements;

/// Below this many flops (`2·m·n·k`) `auto`'s built-in rule runs GEMM on OpenBLAS with one
/// thread: at n = 16 OpenBLAS's small-matrix path beat parla's packed kernels, at n = 32 they
/// tied (`cargo run --release --example gemm_engines -- f64 1 16 32 64 128`).
pub const AUTO_GEMM_RAYON_MIN_FLOPS: f64 = 2.0 * 32.0 * 32.0 * 32.0;

/// Below this many flops `auto`'s built-in rule runs GEMM on one thread: waking a second
/// worker costs more than it saves on smaller products (`cargo run --release --example
/// gemm_engines -- f64 2 64 128 256`). The factorizations use the same threshold for the
/// GEMMs of their recursions.
pub const AUTO_GEMM_PARALLEL_MIN_FLOPS: f64 = crate::parallel::level3::GEMM_PARALLEL_MIN_FLOPS;

/// `auto`'s decision: engine, threads, and the rule's name.
pub(crate) type Choice = (Engine, usize, &'static str);

/// `auto`'s choice for `op` on `dtype` operands of `shape` within `exec`'s budgets.
///
/// # Errors
/// [`Error::InvalidEnv`](crate::Error::InvalidEnv) when `PARLA_TUNE_FILE` is invalid.
pub(crate) fn choose(exec: &Exec, op: Op, dtype: Dtype, shape: Shape) -> Result<Choice> {
    let profile = tune::active()?;
    Ok(choose_with(
        exec,
        op,
        dtype,
        shape,
        profile,
        threads::usable_cores(),
        openblas_bits(),
    ))
}

/// Width in bits of OpenBLAS's GEMM kernels in this process (its core type is fixed at load).
fn openblas_bits() -> u32 {
    static BITS: OnceLock<u32> = OnceLock::new();
    *BITS.get_or_init(|| tune::openblas_vector_bits(&threads::openblas::info().corename))
}

fn isa_bits(isa: Isa) -> u32 {
    match isa {
        Isa::Avx512 => 512,
        Isa::Avx2 => 256,
        Isa::Portable => 0,
    }
}

/// [`choose`] with its inputs explicit: the profile, the usable cores, and the width of
/// OpenBLAS's kernels (so tests can inject them).
pub(crate) fn choose_with(
    exec: &Exec,
    op: Op,
    dtype: Dtype,
    shape: Shape,
    profile: Option<&Profile>,
    cores: usize,
    openblas_bits: u32,
) -> Choice {
    let cores = cores.max(1);
    let budget = |e: Engine| exec.threads_for(e).clamp(1, cores);
    if let Some(p) = profile {
        let allowed = |e: Engine, t: usize| implements(e, op, dtype) && t <= budget(e);
        if let Some((engine, threads, source)) = p.choose(op, dtype, shape, allowed) {
            let rule = match source {
                Source::Measured => "auto: tuning profile (measured by parla tune)",
                Source::Nearby => {
                    "auto: tuning profile (a measured stand-in: same code, other dtype or shape)"
                }
            };
            return (engine, threads, rule);
        }
    }
    builtin(
        exec,
        op,
        dtype,
        shape,
        budget(Engine::Blas),
        budget(Engine::Rayon),
        openblas_bits,
    )
}

/// The rules used without a profile.
///
/// GEMM runs on the `rayon` engine when parla's micro-kernels are wider than OpenBLAS's for
/// its core type (AVX-512 against OpenBLAS's AVX2 kernels, as where `OPENBLAS_CORETYPE` holds
/// it to `Haswell`), except below [`AUTO_GEMM_RAYON_MIN_FLOPS`]; it uses one thread below
/// [`AUTO_GEMM_PARALLEL_MIN_FLOPS`]. Where OpenBLAS's kernels are as wide (a Zen 4 with
/// OpenBLAS's `Cooperlake` kernels), OpenBLAS won GEMM by about 10 % at n = 1024, so GEMM stays
/// on `blas`. Every other operation runs on `blas` with the budget: the reference the
/// other engines are measured against, never the one that loses badly.
fn builtin(
    exec: &Exec,
    op: Op,
    dtype: Dtype,
    shape: Shape,
    blas_threads: usize,
    rayon_threads: usize,
    openblas_bits: u32,
) -> Choice {
    if op.family() != Family::Gemm {
        return (
            Engine::Blas,
            blas_threads,
            "auto: blas (built-in rule; `parla tune` measures the others)",
        );
    }
    let isa = match dtype.real() {
        Dtype::F32 => exec.gemm_kernel::<f32>().isa,
        _ => exec.gemm_kernel::<f64>().isa,
    };
    // A complex product is four real ones' worth of flops (the rayon engines run it as one
    // real GEMM of twice the size in two dimensions).
    let flops = op.flops(shape) * if dtype.is_complex() { 4.0 } else { 1.0 };
    let small = flops < AUTO_GEMM_PARALLEL_MIN_FLOPS;
    let one_if_small = |t: usize| if small { 1 } else { t };
    if isa_bits(isa) <= openblas_bits {
        (
            Engine::Blas,
            one_if_small(blas_threads),
            "auto: blas (OpenBLAS's kernels are as wide as parla's on this CPU)",
        )
    } else if flops < AUTO_GEMM_RAYON_MIN_FLOPS {
        (
            Engine::Blas,
            one_if_small(blas_threads),
            "auto: blas below AUTO_GEMM_RAYON_MIN_FLOPS",
        )
    } else if small {
        (
            Engine::Rayon,
            1,
            "auto: rayon on one thread below AUTO_GEMM_PARALLEL_MIN_FLOPS",
        )
    } else {
        (
            Engine::Rayon,
            rayon_threads,
            "auto: rayon (parla's kernels are wider than OpenBLAS's on this CPU)",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tune::{Candidate, Entry, ShapeClass};

    fn cand(engine: Engine, threads: usize, seconds: f64) -> Candidate {
        Candidate {
            engine,
            threads,
            seconds,
            spread: 0.01,
        }
    }

    fn entry(op: Op, dtype: Dtype, class: ShapeClass, size: f64, c: Vec<Candidate>) -> Entry {
        Entry {
            op,
            dtype,
            class,
            dims: [size as usize; 3],
            size,
            candidates: c,
        }
    }

    /// A synthetic profile: for square f64 GEMM, blas 2t wins at n = 64, rayon 1t at 256,
    /// rayon-blas 2t at 1024 (with rayon 3t faster still, beyond 2 cores); for solve, rayon
    /// 1t at n = 100.
    fn profile() -> Profile {
        let mut p = Profile::new("test");
        use Engine::*;
        p.entries = vec![
            entry(
                Op::Gemm,
                Dtype::F64,
                ShapeClass::Square,
                64.0,
                vec![cand(Blas, 1, 3.0), cand(Blas, 2, 1.0), cand(Rayon, 1, 2.0)],
            ),
            entry(
                Op::Gemm,
                Dtype::F64,
                ShapeClass::Square,
                256.0,
                vec![cand(Blas, 2, 3.0), cand(Rayon, 1, 1.0), cand(Rayon, 2, 2.0)],
            ),
            entry(
                Op::Gemm,
                Dtype::F64,
                ShapeClass::Square,
                1024.0,
                vec![
                    cand(Blas, 1, 4.0),
                    cand(Blas, 2, 3.0),
                    cand(RayonBlas, 1, 2.5),
                    cand(RayonBlas, 2, 1.0),
                    cand(Rayon, 3, 0.5),
                ],
            ),
            entry(
                Op::Solve,
                Dtype::F64,
                ShapeClass::Square,
                100.0,
                vec![cand(Blas, 2, 3.0), cand(Rayon, 1, 1.0)],
            ),
            entry(
                Op::Eig,
                Dtype::F64,
                ShapeClass::Square,
                100.0,
                vec![cand(Rayon, 1, 1.0), cand(Blas, 1, 2.0)],
            ),
        ];
        p
    }

    fn pick(exec: &Exec, op: Op, dtype: Dtype, shape: Shape) -> Choice {
        choose_with(exec, op, dtype, shape, Some(&profile()), 2, 256)
    }

    fn sq(n: usize) -> Shape {
        Shape::Product { m: n, n, k: n }
    }

    #[test]
    fn follows_the_nearest_measured_size_within_the_budget() {
        let auto2 = Exec::new(Engine::Auto, 2).unwrap();
        let c = pick(&auto2, Op::Matmul, Dtype::F64, sq(50));
        assert_eq!((c.0, c.1), (Engine::Blas, 2));
        assert!(c.2.contains("tuning profile"), "{}", c.2);
        assert_eq!(pick(&auto2, Op::Gemm, Dtype::F64, sq(300)).0, Engine::Rayon);
        assert_eq!(pick(&auto2, Op::Gemm, Dtype::F64, sq(300)).1, 1);
        // The 3-thread candidate is beyond the 2 usable cores: never chosen.
        let big = pick(&auto2, Op::Gemm, Dtype::F64, sq(5000));
        assert_eq!((big.0, big.1), (Engine::RayonBlas, 2));
        // A budget of one thread: the fastest one-thread candidate.
        let auto1 = Exec::new(Engine::Auto, 1).unwrap();
        let one = pick(&auto1, Op::Gemm, Dtype::F64, sq(1024));
        assert_eq!((one.0, one.1), (Engine::RayonBlas, 1));
        // A budget above the cores is capped at the cores.
        let auto8 = Exec::new(Engine::Auto, 8).unwrap();
        let capped = pick(&auto8, Op::Gemm, Dtype::F64, sq(1024));
        assert_eq!((capped.0, capped.1), (Engine::RayonBlas, 2));
    }

    #[test]
    fn complex_gemm_follows_the_real_rule_at_four_times_the_flops() {
        let auto2 = Exec::new(Engine::Auto, 2).unwrap();
        // The profile has no complex entries; OpenBLAS narrower than parla (bits 0).
        for n in [16, 100, 300, 1024] {
            let c = choose_with(&auto2, Op::Gemm, Dtype::C128, sq(n), Some(&profile()), 2, 0);
            let r = choose_with(
                &auto2,
                Op::Gemm,
                Dtype::F64,
                Shape::Product { m: n, n, k: 4 * n },
                None,
                2,
                0,
            );
            assert_eq!((c.0, c.1), (r.0, r.1), "n = {n}");
            assert!(!c.2.contains("profile"), "{}", c.2);
        }
        // OpenBLAS as wide as parla: zgemm.
        let c = choose_with(&auto2, Op::Gemm, Dtype::C128, sq(1024), None, 2, 4096);
        assert_eq!(c.0, Engine::Blas);
        // Every other complex operation: blas.
        let c = choose_with(
            &auto2,
            Op::Solve,
            Dtype::C64,
            Shape::Square(500),
            None,
            2,
            0,
        );
        assert_eq!(c.0, Engine::Blas);
    }

    #[test]
    fn stand_ins_other_dtypes_and_missing_entries() {
        let auto2 = Exec::new(Engine::Auto, 2).unwrap();
        // `inv` is answered by the `solve` entries, f32 by the f64 ones.
        let inv = pick(&auto2, Op::Inv, Dtype::F32, Shape::Square(90));
        assert_eq!((inv.0, inv.1), (Engine::Rayon, 1));
        assert!(inv.2.contains("stand-in"), "{}", inv.2);
        // A tall product has no entry: the built-in rule (OpenBLAS as wide as parla here).
        let tall = choose_with(
            &auto2,
            Op::Gemm,
            Dtype::F64,
            Shape::Product {
                m: 8192,
                n: 64,
                k: 64,
            },
            Some(&profile()),
            2,
            512,
        );
        assert_eq!(tall.0, Engine::Blas);
        assert!(
            tall.2.contains("OpenBLAS's kernels are as wide"),
            "{}",
            tall.2
        );
        // eig has no stand-in: built-in rule, even though an entry names it.
        assert_eq!(
            pick(&auto2, Op::Eig, Dtype::F64, Shape::Square(100)).0,
            Engine::Blas
        );
    }

    #[test]
    fn builtin_rules_prefer_parla_kernels_only_where_wider() {
        let auto2 = Exec::new(Engine::Auto, 2).unwrap();
        let isa = auto2.gemm_kernel::<f64>().isa;
        let wide = choose_with(&auto2, Op::Gemm, Dtype::F64, sq(1024), None, 2, 256);
        let same = choose_with(&auto2, Op::Gemm, Dtype::F64, sq(1024), None, 2, 512);
        assert_eq!(same.0, Engine::Blas);
        assert_eq!(same.1, 2);
        if isa == Isa::Avx512 {
            assert_eq!((wide.0, wide.1), (Engine::Rayon, 2));
        }
        // Small products: one thread whatever the engine.
        let small = choose_with(&auto2, Op::Gemm, Dtype::F64, sq(40), None, 2, 512);
        assert_eq!(small.1, 1);
        // Everything else: blas at the budget, capped at the cores.
        let auto5 = Exec::new(Engine::Auto, 5).unwrap();
        let solve = choose_with(
            &auto5,
            Op::Solve,
            Dtype::F64,
            Shape::Square(512),
            None,
            2,
            256,
        );
        assert_eq!((solve.0, solve.1), (Engine::Blas, 2));
    }
}
