//! `auto`'s rules: which engine and how many threads, for an operation of a given size and
//! shape.
//!
//! With a tuning profile of this machine (`parla tune`, see [`crate::tuning::Profile`]) the
//! choice is the fastest measured (engine, threads) candidate within the call's budget.
//! Without one, the built-in rules below, chosen to be safe on any machine: OpenBLAS at the
//! budget, except GEMM on parla's kernels where they are wider than OpenBLAS's, large real
//! factorizations on `rayon-blas` (OpenBLAS's kernels under parla's blocking) and axis norms
//! on `rayon`.
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
use crate::tune::{self, Pick, Profile, Source};

use super::route::implements;

/// Below this many flops (`2·m·n·k`) `auto`'s built-in rule runs GEMM on OpenBLAS with one
/// thread: at n = 16 OpenBLAS's small-matrix path beat parla's packed kernels, at n = 32 they
/// tied (`cargo run --release --example gemm_engines -- f64 1 16 32 64 128`).
pub const AUTO_GEMM_RAYON_MIN_FLOPS: f64 = 2.0 * 32.0 * 32.0 * 32.0;

/// Below this many flops `auto`'s built-in rule runs GEMM on parla's kernels (the `rayon`
/// engine) on one thread: waking a second worker costs more than it saves on smaller products.
/// Measured on an AMD EPYC Zen 3 (family 25 model 1, 2 cores), `parla compare --ops gemm
/// --sizes 64,80,96,128,160,192 --threads 1,2 --engines rayon --dtype f64,f32 --min-time 1`,
/// two runs, median µs at 1 / 2 threads: f64 n = 64: 15–18 / 21–23, n = 96: 44–53 / 39–44,
/// n = 128: 107–190 / 79–136, n = 160: 200–231 / 143–210; f32 n = 96: 24–25 / 28–29, n = 128:
/// 57–62 / 50–51. Two threads start to win between n = 96 and 128. (OpenBLAS needs no such
/// rule: it runs products of fewer than 2.6·10⁵ multiply-adds, n ≤ 64, on one thread whatever
/// its thread count, so `auto` hands it the budget.)
pub const AUTO_GEMM_PARALLEL_MIN_FLOPS: f64 = 2.0 * 128.0 * 128.0 * 128.0;

/// `auto`'s decision: engine, threads, and the rule's name.
pub(crate) type Choice = (Engine, usize, &'static str);

/// `auto`'s choice for `op` on `dtype` operands of `shape` within `exec`'s budgets.
///
/// # Errors
/// [`Error::InvalidEnv`](crate::Error::InvalidEnv) when `PARLA_TUNE_FILE` is invalid.
pub(crate) fn choose(exec: &Exec, op: Op, dtype: Dtype, shape: Shape) -> Result<Choice> {
    let profile = tune::active()?;
    let key = (*exec, op, dtype, shape);
    if let Some(hit) = RECENT.with(|r| r.borrow().find(&key)) {
        return Ok(hit);
    }
    let choice = choose_with(
        exec,
        op,
        dtype,
        shape,
        profile,
        threads::usable_cores(),
        openblas_bits(),
    );
    RECENT.with(|r| r.borrow_mut().insert(key, choice));
    Ok(choice)
}

/// What `auto`, with `profile` as its tuning profile and a budget of `cores` threads, takes for
/// one call of `op` on `dtype` operands of `shape`: engine, threads and the rule that decided
/// (as [`Exec::plan`] names it). `parla tune --show` prints it for each measured entry.
///
/// # Errors
/// [`Error::InvalidArgument`](crate::Error::InvalidArgument) when `cores` is 0.
pub fn auto_choice(
    profile: &Profile,
    op: Op,
    dtype: Dtype,
    shape: Shape,
    cores: usize,
) -> Result<(Engine, usize, &'static str)> {
    let exec = Exec::new(Engine::Auto, cores)?;
    Ok(choose_with(
        &exec,
        op,
        dtype,
        shape,
        Some(profile),
        cores,
        openblas_bits(),
    ))
}

/// [`auto_choice`] for a batch of `len` square items of order `order` (as
/// [`Entry::batch`](crate::tuning::Entry::batch) encodes a batch strategy).
///
/// # Errors
/// As [`auto_choice`].
pub fn auto_batch_choice(
    profile: &Profile,
    op: Op,
    dtype: Dtype,
    len: usize,
    order: usize,
    cores: usize,
) -> Result<(Engine, usize, &'static str)> {
    let exec = Exec::new(Engine::Auto, cores)?;
    let flops = len as f64 * op.flops(Shape::Square(order));
    Ok(choose_batch_with(
        &exec,
        (op, dtype, len, order, flops),
        Some(profile),
        cores,
        openblas_bits(),
    ))
}

/// What a choice depends on besides the per-process constants (profile, usable cores,
/// OpenBLAS's width).
type Key = (Exec, Op, Dtype, Shape);

/// Choices this thread made last. A profile lookup scans the entries: `auto` cost ≈ 260 ns
/// more than `blas` per `axpy` of 10 000 elements (a quarter of the call) on the 2-core Zen 5
/// VM, ≈ 15 ns with this (`cargo run --release --example overhead`). A program repeats the
/// same few calls, which this answers in a few comparisons.
struct Recent {
    slots: [Option<(Key, Choice)>; RECENT_SLOTS],
    next: usize,
}

const RECENT_SLOTS: usize = 8;

impl Recent {
    fn find(&self, key: &Key) -> Option<Choice> {
        self.slots
            .iter()
            .flatten()
            .find(|(k, _)| k == key)
            .map(|&(_, c)| c)
    }

    fn insert(&mut self, key: Key, choice: Choice) {
        self.slots[self.next] = Some((key, choice));
        self.next = (self.next + 1) % RECENT_SLOTS;
    }
}

thread_local! {
    static RECENT: std::cell::RefCell<Recent> = const {
        std::cell::RefCell::new(Recent { slots: [None; RECENT_SLOTS], next: 0 })
    };
}

/// Width in bits of OpenBLAS's GEMM kernels in this process (its core type is fixed at load).
fn openblas_bits() -> u32 {
    static BITS: OnceLock<u32> = OnceLock::new();
    *BITS.get_or_init(|| tune::openblas_vector_bits(&threads::openblas::info().corename))
}

/// The instruction set of parla's GEMM micro-kernels for `dtype`'s real type under `exec`.
fn parla_isa(exec: &Exec, dtype: Dtype) -> Isa {
    match dtype.real() {
        Dtype::F32 => exec.gemm_kernel::<f32>().isa,
        _ => exec.gemm_kernel::<f64>().isa,
    }
}

/// Whether parla's GEMM micro-kernels for `dtype`'s real type under `exec` are wider than the
/// kernels OpenBLAS picked for this CPU (`openblas_bits` wide): then the `rayon` engine runs
/// every blocked algorithm on faster GEMMs than either OpenBLAS engine.
fn parla_kernels_wider(exec: &Exec, dtype: Dtype, openblas_bits: u32) -> bool {
    isa_bits(parla_isa(exec, dtype)) > openblas_bits
}

/// Whether parla's GEMM micro-kernels for `dtype`'s real type under `exec` are at least as wide
/// as OpenBLAS's (and not the portable fallback). Small matrices are decided less by the
/// kernels' width than by the work around them, where parla's in-place small-matrix kernels
/// beat OpenBLAS's per-call path on the CPUs measured (see [`AUTO_INV_SMALL_MAX_ORDER`] and
/// [`AUTO_BATCH_SOLVE_AS_WIDE_MAX_ORDER`]).
fn parla_kernels_as_wide(exec: &Exec, dtype: Dtype, openblas_bits: u32) -> bool {
    let isa = parla_isa(exec, dtype);
    isa != Isa::Portable && isa_bits(isa) >= openblas_bits
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
    let rule = builtin(
        exec,
        op,
        dtype,
        shape,
        budget(Engine::Blas),
        budget(Engine::Rayon),
        openblas_bits,
    );
    if let Some(p) = profile {
        let allowed = |e: Engine, t: usize| implements(e, op, dtype) && t <= budget(e);
        if let Some(pick) = p.choose(op, dtype, shape, allowed, Some((rule.0, rule.1))) {
            return (pick.engine, pick.threads, profile_rule(pick, false));
        }
    }
    rule
}

/// The rule name of a choice from the profile.
fn profile_rule(pick: Pick, batch: bool) -> &'static str {
    if pick.prior_stood {
        return if batch {
            "auto: built-in batch rule (the tuning profile's fastest is within its noise of it)"
        } else {
            "auto: built-in rule (the tuning profile's fastest is within its noise of it)"
        };
    }
    match (pick.source, batch) {
        (Source::Measured, false) => "auto: tuning profile (measured by parla tune)",
        (Source::Nearby, false) => {
            "auto: tuning profile (a measured stand-in: same code, other dtype or shape)"
        }
        (Source::Measured, true) => "auto: tuning profile (batch measured by parla tune)",
        (Source::Nearby, true) => {
            "auto: tuning profile (a measured stand-in batch: same code, other dtype)"
        }
    }
}

/// From this many bytes of input `auto`'s built-in rule runs `row_norms` / `col_norms` on all
/// of the `rayon` budget; below, on one thread. These reductions always go to `rayon`: `blas`
/// has no axis-norm kernel (one `nrm2` call per row or column, strided for `col_norms` of a
/// C-order matrix), and `rayon` reads the matrix once in memory order. Measured on an AMD EPYC
/// Zen 3 (family 25 model 1, 2 cores), `parla compare --ops row_norms,col_norms --sizes
/// 256,512,1024,2048 --threads 1,2 --engines blas,rayon`, f64: rayon 1.3–3.4× faster than
/// blas on `row_norms` and 3.8–21× on `col_norms` at every size; two threads won from 1024²
/// (8 MiB) and tied or lost at 512² (2 MiB) and below.
pub const AUTO_NORMS_PARALLEL_MIN_BYTES: usize = 4 << 20;

/// From this many bytes of input `auto`'s built-in rule runs `transpose` on all of the `rayon`
/// budget; below, on one thread. `transpose` always goes to `rayon`: parla's transposing copy
/// moves register-transposed 8 × 8 blocks of whole cache lines, while OpenBLAS's `omatcopy`
/// (what `blas` calls) is an element loop that collapses at power-of-two strides, on any CPU.
/// Measured on an AMD EPYC Zen 5 (family 26 model 2, 2 cores, OpenBLAS 0.3.21), f64, `cargo run
/// --release --example transpose_engines` (one interleaved run each), time of `rayon` on one
/// thread / `blas`: 0.78–0.84 at n = 32–128, 0.67 at 192, 0.18 at 256, 0.69 at 384 and 640,
/// 0.12–0.15 at 512, 0.16 at 768, 0.72 at 896, 0.14 at 1024. Two threads lost to one up to
/// n = 384 (a wake-up of 20 µs at n ≤ 96), tied at 512–896 (2.0–6.4 MB) and won at 1000–1024
/// (0.59 against 0.80 ms).
pub const AUTO_TRANSPOSE_PARALLEL_MIN_BYTES: usize = 6 << 20;

/// From this order (the smaller dimension of the matrix) `auto`'s built-in rule runs the
/// factorizations — Cholesky, the LU family (`lu`, `lu_factor`, `solve`, `inv`, `det`,
/// `slogdet`), QR (`qr`, `qr_factor`) — of real matrices on `rayon-blas` with its budget; below,
/// on `blas`. `rayon-blas` multiplies with OpenBLAS's own one-thread kernels, so it is as wide as
/// `blas` on any CPU; it wins by its recursive blocking (LAPACK's panels are level-2 code)
/// and by keeping both cores on the trailing updates. Measured on an AMD EPYC Zen 3 (family 25
/// model 1, 2 cores, OpenBLAS 0.3.21 `Zen`), time of `rayon-blas` / `blas` at the same thread
/// count, `parla compare --ops cholesky,solve,qr --threads 1,2 --engines blas,rayon-blas` and
/// `cargo run --release -p parla-peers --example side_by_side` (one interleaved run each):
/// f64 n = 512: Cholesky 0.81 / 0.96 (1 / 2 threads), solve 0.97 / 0.78, LU 0.92 / 0.73, QR
/// 0.82 / 0.88; n = 1024: Cholesky 0.89 / 0.82, solve 0.95 / 0.83, LU 0.87 / 0.78, QR 0.80 /
/// 0.82; f32 n = 512 and 1024: 0.53–0.88 at 2 threads, 0.65–0.93 at 1. At n = 64–256 neither
/// engine won consistently (and `rayon-blas` lost solve at n = 64 by 1.2–1.7×), so smaller
/// problems stay on `blas`. Complex types stay on `blas` (not measured).
///
/// Where parla's micro-kernels are wider than OpenBLAS's for this CPU (AVX-512 against the AVX2
/// `Haswell` kernels `OPENBLAS_CORETYPE=Haswell` holds OpenBLAS to), the same thresholds send
/// these factorizations to `rayon` instead: every blocked step then runs on GEMMs about 1.6×
/// faster than OpenBLAS's. Measured on an AMD EPYC Zen 5 (family 26 model 2, 2 cores, OpenBLAS
/// 0.3.21 `Haswell`), time of `rayon` / `blas` at 1 / 2 threads, one run of the default
/// `parla compare` grid without a profile: Cholesky 0.38 / 0.50 (n = 256), 0.39 / 0.33 (1024),
/// 0.48 / 0.42 (2048); solve 0.92 / 1.11, 0.74 / 0.90, 0.70 / 0.86; QR 0.54 / 0.48 (256),
/// 0.61 / 0.60 (1024); `rayon` was also 0.75–0.90× the time of `rayon-blas` at 2 threads.
/// Those `blas` times still carried a transposing copy through OpenBLAS's `omatcopy` (2 ms at
/// n = 512), since replaced by a tiled transpose; now `rayon` / `blas` for Cholesky at n = 1024 is
/// 0.73 / 0.72 (1 / 2 threads; `side_by_side 1 2 --ops=cholesky`, same machine), still below 1.
///
/// Where parla's kernels and OpenBLAS's are both AVX2 (a Zen 3 with OpenBLAS's `Zen` kernels),
/// `f64` Cholesky from this order runs on `rayon` when the budget has two threads or more: its
/// look-ahead keeps both cores on the same-width kernels better than `rayon-blas` does. Zen 3
/// (family 25 model 1, OpenBLAS 0.3.21 `Zen`), `side_by_side 1 2 --ops=cholesky -- 384 512
/// 1024 2048`, three runs, time of `rayon` / `rayon-blas` at 2 threads: 0.80 / 0.80 / 0.80 at
/// n = 512, 0.82 / 0.81 / 1.01 at 1024, 0.92 / 0.94 / 1.18 at 2048 (`parla compare`: 0.84 and
/// 0.67 / 0.78 / 0.83 at 512 / 1024 / 2048 in another run); `profile_one <engine> cholesky 2 n`,
/// three alternating runs: 0.95–0.98 at 1536, about 0.96 at 3072, 0.83–1.06 at 4096. At one
/// thread 0.96–1.11, so one thread stays on `rayon-blas`; `f32` too: `parla compare --dtype
/// f32` had 1.30 / 1.32 / 1.23 at 512 / 1024 / 2048 while the packed trsm solved its 16-row
/// diagonal tiles row by row (11.5 % of the one-thread `rayon` factorization in `perf`, against
/// 5.2 % in OpenBLAS's `strsm` kernel), and 0.94 / 1.05 / 1.06 once they were solved in
/// registers (`kernels::trsm_tile`): a tie, nothing to gain by switching. The LU family and QR
/// follow from [`AUTO_AVX2_RAYON_MIN_ORDER`].
/// Where both are AVX-512 (a Zen 4 with `Cooperlake`) nothing was measured and nothing changes.
pub const AUTO_FACTOR_RAYON_MIN_ORDER: usize = 512;

/// From this order `auto`'s built-in rule runs `f64` `solve`, `lu`, `lu_factor`, `det`,
/// `slogdet`, `qr` and `qr_factor` on `rayon` instead of `rayon-blas` where parla's kernels and
/// OpenBLAS's are both AVX2 and the budget has two threads or more (as `f64` Cholesky from
/// [`AUTO_FACTOR_RAYON_MIN_ORDER`]). Measured on an AMD EPYC Zen 3 (family 25 model 1, 2
/// cores, OpenBLAS 0.3.21 `Zen`), time of `rayon` / `rayon-blas` at 2 threads, four interleaved
/// runs (`side_by_side 2 --ops=solve,lu,det,inv,qr` in two sessions, `profile_one` alternating,
/// `parla compare --ops solve,qr --threads 2 --engines rayon,rayon-blas`):
/// - n = 1024: solve 0.89–0.95, lu 0.91–0.98, det 0.93–0.96, QR 0.90–0.97, inv 0.90–0.97;
/// - n = 2048: solve 0.80–1.00, lu 0.80–1.03, det 0.84–0.99, QR 0.87–1.04 (geometric means
///   0.91–0.94), but inv 0.96–1.23 — so `inv` stays on `rayon-blas` at every order;
/// - n = 512: solve 0.88–1.01, lu 0.99–1.02, det 1.01–1.03, QR 0.94–1.06: about even, so the
///   rule starts at 1024.
///
/// One thread stays on `rayon-blas` (0.95–1.07 at 512–2048), and `f32` too (`parla compare
/// --dtype f32`: solve 1.23 / 1.07 / 1.05 at 512 / 1024 / 2048 with the row-by-row trsm tiles,
/// 1.09 / 1.00 / 0.95 with `kernels::trsm_tile`; QR 0.97–1.05).
pub const AUTO_AVX2_RAYON_MIN_ORDER: usize = 1024;

/// From this order `auto`'s built-in rule runs QR (`qr`, `qr_factor`) of real matrices on
/// `rayon-blas` with its budget, below [`AUTO_FACTOR_RAYON_MIN_ORDER`]: LAPACK's `geqrf` factors
/// its 32-column panels with level-2 code and OpenBLAS's threads did not help it at these sizes,
/// while parla's recursive panels are GEMMs. Measured on an AMD EPYC Zen 3 (family 25 model 1,
/// 2 cores, OpenBLAS 0.3.21 `Zen`), `parla compare --ops qr --sizes 128,256,384 --threads 1,2
/// --engines blas,rayon-blas,rayon --dtype f64`, two runs, ms, `blas` 2 threads against
/// `rayon-blas` 2 threads: n = 128 1.47 / 1.03 against 0.69 / 0.78; n = 256 7.11 / 6.72 against
/// 4.24 / 4.26; n = 384 16.1 / 11.1 against 9.85 / 9.67 (one thread of `rayon-blas` was faster
/// still at 128 and 256: 0.52–0.72 and 3.63–3.64). Below 128 QR stays on `blas`.
pub const AUTO_QR_RAYON_MIN_ORDER: usize = 128;

/// From this order the QR that `auto`'s built-in rule sends to the rayon engines (from
/// [`AUTO_QR_RAYON_MIN_ORDER`]) gets the whole budget; below it, one thread: the recursive
/// panels are too narrow for a second worker to pay for waking and joining it. On both
/// machines measured one thread was faster up to n = 256 and two from 288–384:
/// - AMD EPYC Zen 5 (family 26 model 2, 2 cores, OpenBLAS 0.3.21 `Haswell`), `rayon`, time at
///   2 threads / 1 thread: `qr_factor` (`profile_one rayon qr <t> <n>`, three alternating runs)
///   1.37–1.49 at n = 128, 1.10–1.26 at 256, 0.85–0.91 at 288, 0.86–0.94 at 320, 0.78–0.80 at
///   384; `qr` with Q (`parla compare --ops qr --sizes 192,256,320,384 --threads 1,2 --engines
///   rayon,rayon-blas`) 1.08 / 0.96 / 0.88 / 0.73 at n = 192 / 256 / 320 / 384 (`rayon-blas`
///   1.11 / 0.96 / 0.83 / 0.73);
/// - AMD EPYC Zen 3 (family 25 model 1, OpenBLAS `Zen`), `rayon-blas`, `qr`: 1.08–1.50 at
///   n = 128, 1.17 at 256 (see [`AUTO_QR_RAYON_MIN_ORDER`]).
pub const AUTO_QR_PARALLEL_MIN_ORDER: usize = 288;

/// From this order the LU family (`solve`, `lu`, `lu_factor`, `det`, `slogdet`, `inv`) of real
/// matrices runs on `rayon` under `auto`'s built-in rule where parla's kernels are wider than
/// OpenBLAS's, below [`AUTO_FACTOR_RAYON_MIN_ORDER`] too: on one thread below
/// [`AUTO_FACTOR_BLAS_PARALLEL_MIN_ORDER`], with the budget from it. On an AMD EPYC Zen 5
/// (family 26 model 2, 2 cores, OpenBLAS 0.3.21 `Haswell`), `side_by_side 1 2
/// --ops=solve,lu,det,inv -- 64 128 256 384`, time of `rayon` / `blas`:
/// - 1 thread, n = 128 / 256 / 384: solve 0.87 / 0.90 / 1.01, lu 1.11 / 1.01 / 0.93, det
///   1.04 / 1.04 / 0.98, inv 0.93 / 0.75 / 0.80 (README's main job had solve 256 at 0.81–0.85
///   on `blas` against `rayon` in three runs);
/// - 2 threads, n = 384: solve 0.66, lu 0.70, det 0.72, inv 0.76.
///
/// Cholesky stays on `blas` below [`AUTO_FACTOR_RAYON_MIN_ORDER`] (`rayon` 1.08× its time at
/// n = 256, one thread, same machine).
pub const AUTO_LU_WIDE_MIN_ORDER: usize = 256;

/// Up to this order `inv` of a real matrix runs on `rayon`, one thread, under `auto`'s built-in
/// rule where parla's kernels are wider than OpenBLAS's: there `rayon` inverts in place from the
/// factor, column by column, without the blocked solves against the identity — this is the
/// largest order it does so (96). On an AMD EPYC Zen 5 (family 26 model 2, OpenBLAS 0.3.21
/// `Haswell`), one call, one thread, time of `rayon` / `blas` (a loop of `Exec::inv`, two
/// alternating runs): 0.59–0.63 at n = 4 and 8, 0.48–0.57 at 16, 0.63–0.72 at 32, 0.76–0.86
/// at 64, 0.66–0.75 at 96; 0.73–0.84 at 128 and 1.2 at 192 (the blocked path).
///
/// The rule also holds where parla's kernels are only as wide as OpenBLAS's: at these orders
/// the work around the kernels decides. On an AMD EPYC Zen 3 (family 25 model 1, AVX2 only,
/// OpenBLAS 0.3.21 `Zen`), the same loop, 9 interleaved rounds: 0.51 at n = 4, 0.59 at 8, 0.69
/// at 16, 0.73 at 32, 0.91–0.92 at 48 and 64, 0.98 at 96; 1.24 at 128 (the blocked path).
pub const AUTO_INV_SMALL_MAX_ORDER: usize = crate::factor::lu::INV_UNBLOCKED_MAX;

/// Up to this order the items of a spread batch of `solve`s run on parla's kernels (`rayon`)
/// under `auto`'s built-in batch rule where parla's kernels are as wide as OpenBLAS's (where
/// they are wider, at every order; see `builtin_batch`). On an AMD EPYC Zen 3 (family 25 model
/// 1, AVX2 only, OpenBLAS 0.3.21 `Zen`), 2 workers, 15 interleaved rounds, median, batches of
/// 4·10⁷/n³ items (at most 20 000), time on `rayon` / on `rayon-blas`: 0.52 at order 8, 0.56 at
/// 16, 0.78 at 24, 0.70–0.71 at 32; 1.06 at 48, 1.03–1.04 at 64, 1.35 at 96, 1.15 at 128.
/// Batched `inv` follows [`AUTO_INV_SMALL_MAX_ORDER`] (same timing: 0.56 / 0.61 / 0.73 / 0.83–0.89
/// / 0.89–0.95 at 8 / 16 / 32 / 64 / 96, 1.22–1.27 at 112 and 128), batched `cholesky` stays on
/// `rayon-blas` (0.80 at 8, 0.93 at 16, 1.04–1.41 from 32).
pub const AUTO_BATCH_SOLVE_AS_WIDE_MAX_ORDER: usize = 32;

/// From this order (the smaller dimension) `auto`'s built-in rule runs the spectral
/// decompositions with vectors — `eigh` and `svd` — of `f64` matrices on `rayon-blas` when its
/// budget has two threads or more; `svdvals` from twice this order. `rayon-blas` runs the
/// blocked reductions (`factor::tridiag`, `factor::bidiag`), divide and conquer and the
/// back-transformation as GEMMs on OpenBLAS's one-thread kernels (as wide as `blas`'s on any
/// CPU) and keeps both cores busier than LAPACK's `dsyevd` / `dgesdd` on OpenBLAS's threads.
/// Measured on an AMD EPYC Zen 3 (family 25 model 1, 2 cores, OpenBLAS 0.3.21 `Zen`), time of
/// `rayon-blas` / `blas`, `cargo run --release -p parla-peers --example side_by_side -- 1 2
/// --ops=eigh,svd` and `cargo run --release --example spectral_engines` (one interleaved run
/// each): at 2 threads, eigh 0.84 / 0.83 / 0.82 at n = 512 / 1024 / 2048, thin SVD 0.81 / 0.82
/// / 0.88, svdvals 0.84–1.06 / 0.72–0.91 / 0.79; at 1 thread, eigh 0.96–1.10, so one thread
/// stays on `blas`. `eigvalsh` stayed at 0.98–1.04 at 2 threads (the reduction is
/// memory-bound matrix-vector work on both engines) and stays on `blas`; `f32`, `pinv` and
/// `lstsq` were not measured and stay on `blas` too.
///
/// Where parla's micro-kernels are wider than OpenBLAS's for this CPU, `eigh`, `svd` and
/// `svdvals` of real matrices (`f32` too) run on `rayon` from the same orders, at any budget:
/// on an AMD EPYC Zen 5 (family 26 model 2, 2 cores, OpenBLAS 0.3.21 `Haswell`, one run of the
/// default `parla compare` grid without a profile) `rayon` / `blas` took 0.78 / 0.66 (1 / 2
/// threads) for eigh and 0.73 / 0.72 for svd at n = 1024, and 0.90 / 0.83 and 0.98 / 0.77 at
/// n = 256 (below the threshold, where the margin is small).
pub const AUTO_SPECTRAL_RAYON_MIN_ORDER: usize = 512;

/// From this order `auto`'s built-in rule runs `eigh` and `svd` of real matrices on `rayon`
/// where parla's micro-kernels are wider than OpenBLAS's (below
/// [`AUTO_SPECTRAL_RAYON_MIN_ORDER`], which stays the threshold of `rayon-blas` and of
/// `svdvals`). Measured on an AMD EPYC Zen 5 (family 26 model 2, 2 cores, OpenBLAS 0.3.21
/// `Haswell`), `cargo run --release --example spectral_engines -- <t> 192 256 384` (one
/// interleaved run per thread count), time of `rayon` / `blas` at 1 / 2 threads: eigh 0.96 / 0.72
/// at n = 256, 0.95 / 0.89 at 384, 1.09 / 0.71 at 192; thin SVD 0.91 / 1.01 at 256, 0.92 / 0.95 at
/// 384. Two no-profile runs of the default `parla compare` grid (sessions 17 and 19) gave
/// 0.79–0.90 for eigh and 0.77–0.98 for svd at n = 256 (same machine).
pub const AUTO_SPECTRAL_WIDE_MIN_ORDER: usize = 256;

/// Below this order (the smaller dimension) `auto`'s built-in rule runs the factorizations of
/// real matrices that stay on `blas` (see [`AUTO_FACTOR_RAYON_MIN_ORDER`]) on one OpenBLAS
/// thread instead of the whole budget: LAPACK's small factorizations lose more to waking and
/// joining OpenBLAS's threads than the second thread gives. Measured on an AMD EPYC Zen 5
/// (family 26 model 2, 2 cores, OpenBLAS 0.3.21 `Haswell`), `parla compare --ops cholesky,solve,qr
/// --sizes 64,128,256,384 --threads 1,2 --engines blas,rayon --dtype f64`, `blas` time at 2
/// threads / 1 thread: Cholesky 1.30 / 1.25 / 1.46 / 0.83 at n = 64 / 128 / 256 / 384, solve 1.00
/// / 1.28 / 1.03 / 0.92, QR 1.09 at n = 64 (QR from 128 goes to the rayon engines). Session-8
/// notes on the Zen 3 found OpenBLAS's threaded LU and Cholesky poor up to n = 512 as well (the
/// batch rules above). The thread count grows with the size instead of jumping: one thread
/// below this order, the budget from it.
pub const AUTO_FACTOR_BLAS_PARALLEL_MIN_ORDER: usize = 384;

/// Whether `op` is a factorization [`AUTO_FACTOR_RAYON_MIN_ORDER`] applies to (the solves with
/// an existing factor and triangular solves are `O(n²)` per right-hand side and stay on `blas`).
fn factorizes(op: Op) -> bool {
    matches!(
        op,
        Op::Cholesky
            | Op::ChoFactor
            | Op::Lu
            | Op::LuFactor
            | Op::Solve
            | Op::Inv
            | Op::Det
            | Op::Slogdet
            | Op::Qr
            | Op::QrFactor
    )
}

/// `rayon` with its budget for a matrix of `min_bytes` or more of `dtype` elements, else on one
/// thread; `rules` names the two (the operations parla's streaming kernels always win).
fn rayon_from_bytes(
    dtype: Dtype,
    shape: Shape,
    min_bytes: usize,
    rayon_threads: usize,
    [large, small]: [&'static str; 2],
) -> Choice {
    let (r, c, _) = shape.dims();
    let bytes = r.saturating_mul(c).saturating_mul(dtype.bytes());
    if bytes >= min_bytes {
        (Engine::Rayon, rayon_threads, large)
    } else {
        (Engine::Rayon, 1, small)
    }
}

/// The rules used without a profile.
///
/// `row_norms` and `col_norms` run on `rayon` (see [`AUTO_NORMS_PARALLEL_MIN_BYTES`]), as does
/// `transpose` (see [`AUTO_TRANSPOSE_PARALLEL_MIN_BYTES`]).
/// Factorizations of real matrices of order [`AUTO_FACTOR_RAYON_MIN_ORDER`] and more (QR:
/// [`AUTO_QR_RAYON_MIN_ORDER`]) run on `rayon-blas`, or on `rayon` where parla's kernels are
/// wider than OpenBLAS's (as do `eigh` and `svd` from [`AUTO_SPECTRAL_WIDE_MIN_ORDER`] and
/// `svdvals` from twice [`AUTO_SPECTRAL_RAYON_MIN_ORDER`]).
/// GEMM runs on the `rayon` engine when parla's micro-kernels are wider than OpenBLAS's for
/// its core type (AVX-512 against OpenBLAS's AVX2 kernels, as where `OPENBLAS_CORETYPE` holds
/// it to `Haswell`), except below [`AUTO_GEMM_RAYON_MIN_FLOPS`]; there it uses one thread below
/// [`AUTO_GEMM_PARALLEL_MIN_FLOPS`]. OpenBLAS gets the budget at every size (it keeps small
/// products on one thread itself; at n = 96–160 its second thread made GEMM 1.3–2.0× faster on
/// the Zen 3, where a one-thread rule had cost `auto` up to 0.57× of `blas`). Where OpenBLAS's kernels are as wide (a Zen 4 with
/// OpenBLAS's `Cooperlake` kernels), OpenBLAS won GEMM by about 10 % at n = 1024, so GEMM stays
/// on `blas`. Every other operation runs on `blas` with the budget — real factorizations below
/// [`AUTO_FACTOR_BLAS_PARALLEL_MIN_ORDER`] on one thread: the reference the other engines are
/// measured against, never the one that loses badly.
///
/// The factorization rule on `rayon-blas` is not a statement about parla's own kernels:
/// `rayon-blas` runs OpenBLAS's one-thread kernels, the ones `blas` runs, so the rule is
/// expected to carry to other CPUs; it was measured on the Zen 3. Where parla's kernels are
/// wider than OpenBLAS's, the factorizations and the spectral decompositions go to `rayon`
/// instead, from the same orders (measured on a Zen 5, see [`AUTO_FACTOR_RAYON_MIN_ORDER`]
/// and [`AUTO_SPECTRAL_RAYON_MIN_ORDER`]).
fn builtin(
    exec: &Exec,
    op: Op,
    dtype: Dtype,
    shape: Shape,
    blas_threads: usize,
    rayon_threads: usize,
    openblas_bits: u32,
) -> Choice {
    if matches!(op, Op::RowNorms | Op::ColNorms) && implements(Engine::Rayon, op, dtype) {
        return rayon_from_bytes(
            dtype,
            shape,
            AUTO_NORMS_PARALLEL_MIN_BYTES,
            rayon_threads,
            [
                "auto: rayon for axis norms (one streaming pass; OpenBLAS has one nrm2 per row or column)",
                "auto: rayon on one thread for axis norms below AUTO_NORMS_PARALLEL_MIN_BYTES",
            ],
        );
    }
    if op == Op::Transpose && implements(Engine::Rayon, op, dtype) {
        return rayon_from_bytes(
            dtype,
            shape,
            AUTO_TRANSPOSE_PARALLEL_MIN_BYTES,
            rayon_threads,
            [
                "auto: rayon for transpose (register-transposed blocks; OpenBLAS's omatcopy is an element loop)",
                "auto: rayon on one thread for transpose below AUTO_TRANSPOSE_PARALLEL_MIN_BYTES",
            ],
        );
    }
    let wider = parla_kernels_wider(exec, dtype, openblas_bits);
    if factorizes(op) && !dtype.is_complex() {
        let (r, c, _) = shape.dims();
        if op == Op::Inv
            && r.min(c) <= AUTO_INV_SMALL_MAX_ORDER
            && parla_kernels_as_wide(exec, dtype, openblas_bits)
            && implements(Engine::Rayon, op, dtype)
        {
            return (
                Engine::Rayon,
                1,
                "auto: rayon on one thread for inverses up to AUTO_INV_SMALL_MAX_ORDER (in place from the factor; parla's kernels are at least as wide as OpenBLAS's on this CPU)",
            );
        }
        let lu_family = matches!(
            op,
            Op::Solve | Op::Lu | Op::LuFactor | Op::Det | Op::Slogdet | Op::Inv
        );
        let from = match op {
            Op::Qr | Op::QrFactor => AUTO_QR_RAYON_MIN_ORDER,
            _ if lu_family && wider => AUTO_LU_WIDE_MIN_ORDER,
            _ => AUTO_FACTOR_RAYON_MIN_ORDER,
        };
        if r.min(c) >= from {
            let n = r.min(c);
            // Both AVX2 (a Zen 3), f64, two threads or more: Cholesky on parla's kernels from
            // AUTO_FACTOR_RAYON_MIN_ORDER, the LU family but `inv` and QR from
            // AUTO_AVX2_RAYON_MIN_ORDER.
            let avx2_f64 = dtype == Dtype::F64
                && rayon_threads >= 2
                && isa_bits(parla_isa(exec, dtype)) == 256
                && openblas_bits == 256;
            let rayon_rule = if wider {
                Some("auto: rayon for factorizations from AUTO_FACTOR_RAYON_MIN_ORDER (parla's kernels are wider than OpenBLAS's on this CPU)")
            } else if avx2_f64 && matches!(op, Op::Cholesky | Op::ChoFactor) {
                Some("auto: rayon for f64 Cholesky from AUTO_FACTOR_RAYON_MIN_ORDER on two threads or more (parla's kernels as wide as OpenBLAS's AVX2 kernels on this CPU)")
            } else if avx2_f64 && op != Op::Inv && n >= AUTO_AVX2_RAYON_MIN_ORDER {
                Some("auto: rayon for f64 LU (not inv) and QR from AUTO_AVX2_RAYON_MIN_ORDER on two threads or more (parla's kernels as wide as OpenBLAS's AVX2 kernels on this CPU)")
            } else {
                None
            };
            let (engine, rayon_rule) = match rayon_rule {
                Some(rule) if implements(Engine::Rayon, op, dtype) => (Engine::Rayon, rule),
                _ if implements(Engine::RayonBlas, op, dtype) => (Engine::RayonBlas, ""),
                _ => (Engine::Blas, ""),
            };
            let narrow_qr = matches!(op, Op::Qr | Op::QrFactor) && n < AUTO_QR_PARALLEL_MIN_ORDER;
            let narrow_lu =
                engine == Engine::Rayon && lu_family && n < AUTO_FACTOR_BLAS_PARALLEL_MIN_ORDER;
            let rule = match (engine, narrow_lu, narrow_qr) {
                (Engine::Blas, ..) => None,
                (Engine::Rayon, true, _) => Some("auto: rayon on one thread for the LU family from AUTO_LU_WIDE_MIN_ORDER (parla's kernels are wider than OpenBLAS's on this CPU)"),
                (Engine::Rayon, _, true) => Some("auto: rayon on one thread for QR below AUTO_QR_PARALLEL_MIN_ORDER (parla's kernels are wider than OpenBLAS's on this CPU)"),
                (Engine::Rayon, ..) => Some(rayon_rule),
                (_, _, true) => Some("auto: rayon-blas on one thread for QR below AUTO_QR_PARALLEL_MIN_ORDER (OpenBLAS's kernels, parla's recursive blocking)"),
                _ => Some("auto: rayon-blas for factorizations from AUTO_FACTOR_RAYON_MIN_ORDER (OpenBLAS's kernels, parla's recursive blocking)"),
            };
            if let Some(rule) = rule {
                let threads = if narrow_lu || narrow_qr {
                    1
                } else {
                    rayon_threads
                };
                return (engine, threads, rule);
            }
        }
    }
    if matches!(op, Op::Eigh | Op::Svd | Op::Svdvals) && !dtype.is_complex() {
        let (r, c, _) = shape.dims();
        let (from, wide_from) = match op {
            Op::Svdvals => (
                2 * AUTO_SPECTRAL_RAYON_MIN_ORDER,
                2 * AUTO_SPECTRAL_RAYON_MIN_ORDER,
            ),
            _ => (AUTO_SPECTRAL_RAYON_MIN_ORDER, AUTO_SPECTRAL_WIDE_MIN_ORDER),
        };
        if wider && r.min(c) >= wide_from && implements(Engine::Rayon, op, dtype) {
            return (
                Engine::Rayon,
                rayon_threads,
                "auto: rayon for spectral decompositions from AUTO_SPECTRAL_WIDE_MIN_ORDER (parla's kernels are wider than OpenBLAS's on this CPU)",
            );
        }
        if r.min(c) >= from
            && dtype == Dtype::F64
            && rayon_threads >= 2
            && implements(Engine::RayonBlas, op, dtype)
        {
            return (
                Engine::RayonBlas,
                rayon_threads,
                "auto: rayon-blas for spectral decompositions from AUTO_SPECTRAL_RAYON_MIN_ORDER on two threads or more",
            );
        }
    }
    if factorizes(op) && !dtype.is_complex() {
        let (r, c, _) = shape.dims();
        if r.min(c) < AUTO_FACTOR_BLAS_PARALLEL_MIN_ORDER {
            return (
                Engine::Blas,
                1,
                "auto: blas on one thread for factorizations below AUTO_FACTOR_BLAS_PARALLEL_MIN_ORDER",
            );
        }
    }
    if op.family() != Family::Gemm {
        return (
            Engine::Blas,
            blas_threads,
            "auto: blas (built-in rule; `parla tune` measures the others)",
        );
    }
    // A complex product is four real ones' worth of flops (the rayon engines run it as one
    // real GEMM of twice the size in two dimensions).
    let flops = op.flops(shape) * if dtype.is_complex() { 4.0 } else { 1.0 };
    if !wider {
        (
            Engine::Blas,
            blas_threads,
            "auto: blas (OpenBLAS's kernels are as wide as parla's on this CPU)",
        )
    } else if flops < AUTO_GEMM_RAYON_MIN_FLOPS {
        (
            Engine::Blas,
            blas_threads,
            "auto: blas below AUTO_GEMM_RAYON_MIN_FLOPS",
        )
    } else if flops < AUTO_GEMM_PARALLEL_MIN_FLOPS {
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

// `auto`'s built-in batch thresholds were read off `cargo run --release --example batch -- --grid` on one 2-core
// machine (f64, 2 threads, speed of rayon-blas over loop; rows: order, columns: batch length;
// one run on a machine shared with other builds, so single cells are noisy by ±0.3):
//
// matmul  b2    b3    b4    b8    b32   b128  b512  b2048      solve  b2    b3    b4    b8    b32   b128  b512
//    4    0.05  0.06  0.06  0.09  0.20  0.45  0.48  0.52          4  0.08  0.17  0.10  0.26  0.40  0.54  0.79
//   16    0.18  0.17  0.09  0.14  0.36  0.55  0.76  0.66         16  0.31  0.25  0.34  0.59  0.60  0.86  0.96
//   32    0.32  0.32  0.26  0.44  0.81  0.78  0.94  1.58         32  0.46  0.53  0.54  0.62  0.87  1.72  1.33
//   64    0.51  0.79  0.64  0.61  1.42  1.78  1.80  1.89         64  1.07  0.96  1.38  0.81  1.69  1.49  1.76
//  128    0.86  0.66  0.98  0.57  0.57  1.13  1.31             128  1.68  1.45  1.91  1.96  1.97  2.00  2.06
//  256    1.01  0.53  1.04  1.04  1.07                         256  1.02  1.49  1.99  1.99  1.98
//  512    1.20  0.86  1.11  1.09                               512  1.95  1.46  2.02  1.95
//
// Small batches of small matrices lose: waking the pool's workers costs tens of µs, and
// concurrent OpenBLAS calls contend for its buffer allocator. Large GEMMs are threaded well by
// OpenBLAS itself, so rayon only helps when the batch divides evenly enough; OpenBLAS's threaded
// LU and Cholesky are poor up to n = 512, so rayon over the batch wins there from two items on.

/// Least total work (floating-point operations over the whole batch) for which `auto` spreads a
/// batch over rayon workers: below it a loop is faster (table above: e.g. 512 GEMMs of 16×16,
/// 4.2·10⁶ flops, ran at 0.76× the loop, 32 of 64×64, 1.7·10⁷ flops, at 1.42×; 128 solves of
/// 32×32, 3·10⁶ flops, at 1.72×, 32 of 32×32, 7.5·10⁵ flops, at 0.87×).
pub const BATCH_MIN_FLOPS: f64 = 4.0e6;

/// Largest GEMM order at which `auto` spreads any batch with enough work over rayon workers;
/// above it, only batches of at least [`BATCH_MIN_ITEMS_PER_WORKER`] items per worker (OpenBLAS
/// threads a large GEMM nearly perfectly, and an uneven last round of items loses: 3 GEMMs of
/// 256×256 ran at 0.53× the loop).
pub const BATCH_GEMM_SMALL_ORDER: usize = 128;

/// Largest order at which `auto` spreads any batch of factorizations (`solve`, `inv`,
/// `cholesky`) with enough work over rayon workers (OpenBLAS's threaded LU stays far from 2×
/// one thread up to here: 2 solves of 512×512 ran 1.95× faster on rayon-blas); above it, the
/// items-per-worker rule of GEMM applies (not measured beyond 512).
pub const BATCH_FACTOR_SMALL_ORDER: usize = 512;

/// Items per worker from which `auto` spreads a batch of large matrices over rayon workers.
pub const BATCH_MIN_ITEMS_PER_WORKER: usize = 4;

/// `auto`'s choice for a batch of `len` square items of order `order` of `op` (total work
/// `flops`) within `exec`'s budgets, as an engine and threads: `Blas` with `t` threads is a
/// loop over the items on OpenBLAS with `t` threads; `RayonBlas` or `Rayon` with `t` threads is
/// `t` rayon workers over the batch, each item on one thread of that engine (the encoding of
/// [`Entry::batch`](crate::tuning::Entry::batch)).
///
/// # Errors
/// [`Error::InvalidEnv`](crate::Error::InvalidEnv) when `PARLA_TUNE_FILE` is invalid.
pub(crate) fn choose_batch(
    exec: &Exec,
    op: Op,
    dtype: Dtype,
    len: usize,
    order: usize,
    flops: f64,
) -> Result<Choice> {
    let profile = tune::active()?;
    Ok(choose_batch_with(
        exec,
        (op, dtype, len, order, flops),
        profile,
        threads::usable_cores(),
        openblas_bits(),
    ))
}

/// A batched call as `auto` sees it: operation, dtype, items, order, total flops.
pub(crate) type BatchCall = (Op, Dtype, usize, usize, f64);

/// [`choose_batch`] with the profile, the usable cores and the width of OpenBLAS's kernels
/// explicit (so tests can inject them). Inside a rayon worker the caller gives a budget of one.
pub(crate) fn choose_batch_with(
    exec: &Exec,
    (op, dtype, len, order, flops): BatchCall,
    profile: Option<&Profile>,
    cores: usize,
    openblas_bits: u32,
) -> Choice {
    let cores = cores.max(1);
    let budget = |e: Engine| exec.threads_for(e).clamp(1, cores);
    // Items of a batched `solve` or `inv` on parla's kernels where they are wider than
    // OpenBLAS's, or as wide and the items small (see `builtin_batch`).
    let small = match op {
        Op::Solve => AUTO_BATCH_SOLVE_AS_WIDE_MAX_ORDER,
        Op::Inv => AUTO_INV_SMALL_MAX_ORDER,
        _ => 0,
    };
    let native_items = matches!(op, Op::Solve | Op::Inv)
        && !dtype.is_complex()
        && implements(Engine::Rayon, op, dtype)
        && (parla_kernels_wider(exec, dtype, openblas_bits)
            || (order <= small && parla_kernels_as_wide(exec, dtype, openblas_bits)));
    // A batch of one item, or a budget of one thread, is a loop: nothing to spread.
    let rule = builtin_batch(
        op,
        len,
        order,
        flops,
        budget(Engine::RayonBlas),
        budget(Engine::Blas),
        native_items,
    );
    if len >= 2 && budget(Engine::RayonBlas) > 1 {
        if let Some(p) = profile {
            let allowed = |e: Engine, t: usize| implements(e, op, dtype) && t <= budget(e);
            let prior = Some((rule.0, rule.1));
            if let Some(pick) = p.choose_batch(op, dtype, len, order, allowed, prior) {
                return (pick.engine, pick.threads, profile_rule(pick, true));
            }
        }
    }
    rule
}

/// The batch rules used without a profile: rayon workers over the batch, each item on
/// single-threaded OpenBLAS (`rayon-blas`), when the batch has enough work and its items are
/// small or numerous enough to keep every worker busy; else a loop on OpenBLAS with the
/// budget.
///
/// With `native_items` (a batched `solve` or `inv` of real matrices where parla's
/// micro-kernels are wider than OpenBLAS's, the condition under which the single-call rules
/// send factorizations to `rayon`), the items run on parla's own kernels (`rayon`) instead. On
/// the 2-core Zen 5 VM (OpenBLAS held to `Haswell`), 2 workers, items of order 8 / 16 / 32 /
/// 64 / 128 / 256 took 0.31 / 0.58 / 0.71 / 0.99 / 0.98 / 0.86× the time on `rayon` that they
/// took on `rayon-blas` for `solve` (throwaway interleaved timing, 15 rounds; `parla
/// compare`'s `batch_solve`, 10 000 of order 32, 0.63×), and since `rayon`'s small inverses
/// are computed in place from the factor, items of order 8 / 16 / 32 / 48 / 64 / 96 / 128
/// 0.59 / 0.57 / 0.67 / 0.80 / 0.73 / 0.79 / 0.88× for `inv` (the same timing; 0.72× at 256
/// before that change, which did not touch order 256). Batched `cholesky` stays on
/// `rayon-blas`: `rayon` took 1.33× its time at order 64. Where OpenBLAS's kernels are as
/// wide (a Zen 3 with its AVX2 `Zen` kernels, a Zen 4 with its `Cooperlake` kernels), only
/// small items run on parla's kernels: `solve` up to [`AUTO_BATCH_SOLVE_AS_WIDE_MAX_ORDER`],
/// `inv` up to [`AUTO_INV_SMALL_MAX_ORDER`] (measured on the Zen 3; not on a Zen 4).
fn builtin_batch(
    op: Op,
    len: usize,
    order: usize,
    flops: f64,
    workers: usize,
    blas_threads: usize,
    native_items: bool,
) -> Choice {
    let looped = (
        Engine::Blas,
        blas_threads,
        "auto: a loop on blas (built-in batch rule)",
    );
    if workers <= 1 || len < 2 || flops < BATCH_MIN_FLOPS {
        return looped;
    }
    let small = match op {
        Op::Solve | Op::Inv | Op::Cholesky => BATCH_FACTOR_SMALL_ORDER,
        _ => BATCH_GEMM_SMALL_ORDER,
    };
    if !(order <= small || len >= workers * BATCH_MIN_ITEMS_PER_WORKER) {
        looped
    } else if native_items {
        (
            Engine::Rayon,
            workers,
            "auto: rayon workers over the batch, items on parla's kernels (built-in batch rule; they are wider than OpenBLAS's on this CPU, or as wide and the items small)",
        )
    } else {
        (
            Engine::RayonBlas,
            workers,
            "auto: rayon workers over the batch, items on blas (built-in batch rule)",
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
            batch: 0,
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
    fn the_built_in_rule_stands_where_the_profile_is_within_its_noise() {
        use Engine::*;
        let auto2 = Exec::new(Engine::Auto, 2).unwrap();
        // GEMM with OpenBLAS's kernels as wide as parla's: the built-in rule is blas with the
        // budget. The profile's rayon 2t is 3.5 % faster, inside the 4–5 % spreads.
        let with = |blas1: f64, blas2: f64, spread: f64| {
            let mut p = Profile::new("test");
            // Times in microseconds: GEMM at n = 128 is a short call (STEADY_CALL_SECONDS).
            let cand = |engine, threads, micros: f64| Candidate {
                engine,
                threads,
                seconds: micros * 1e-6,
                spread,
            };
            p.entries = vec![entry(
                Op::Gemm,
                Dtype::F64,
                ShapeClass::Square,
                128.0,
                vec![
                    cand(Blas, 1, blas1),
                    cand(Blas, 2, blas2),
                    cand(Rayon, 2, 114.0),
                ],
            )];
            // 512 bits: as wide as parla's widest kernels, whatever this CPU runs.
            choose_with(&auto2, Op::Gemm, Dtype::F64, sq(128), Some(&p), 2, 512)
        };
        let c = with(150.0, 118.0, 0.05);
        assert_eq!((c.0, c.1), (Blas, 2));
        assert!(c.2.contains("within its noise"), "{}", c.2);
        // 15 % slower is beyond any noise allowance: the profile rules.
        let c = with(150.0, 131.0, 0.05);
        assert_eq!((c.0, c.1), (Rayon, 2));
        assert!(c.2.contains("tuning profile (measured"), "{}", c.2);
        // One thread within the noise of the fastest wins the tie, before the built-in rule.
        let c = with(117.0, 118.0, 0.05);
        assert_eq!((c.0, c.1), (Blas, 1));
        assert!(c.2.contains("tuning profile (measured"), "{}", c.2);
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
        // eig is measured for itself; eigvals by eig.
        let eig = pick(&auto2, Op::Eig, Dtype::F64, Shape::Square(100));
        assert_eq!((eig.0, eig.1), (Engine::Rayon, 1));
        assert!(eig.2.contains("measured by parla tune"), "{}", eig.2);
        let vals = pick(&auto2, Op::Eigvals, Dtype::F64, Shape::Square(100));
        assert_eq!((vals.0, vals.1), (Engine::Rayon, 1));
        assert!(vals.2.contains("stand-in"), "{}", vals.2);
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
        // Small products: OpenBLAS gets the budget (it decides itself), parla's kernels run on
        // one thread below AUTO_GEMM_PARALLEL_MIN_FLOPS and on the budget from it.
        let small = choose_with(&auto2, Op::Gemm, Dtype::F64, sq(40), None, 2, 512);
        assert_eq!((small.0, small.1), (Engine::Blas, 2));
        if isa == Isa::Avx512 {
            let below = choose_with(&auto2, Op::Gemm, Dtype::F64, sq(100), None, 2, 256);
            assert_eq!((below.0, below.1), (Engine::Rayon, 1));
            let at = choose_with(&auto2, Op::Gemm, Dtype::F64, sq(128), None, 2, 256);
            assert_eq!((at.0, at.1), (Engine::Rayon, 2));
        }
        // Everything else (factorizations between the thresholds, spectral): blas at the
        // budget, capped at the cores.
        let auto5 = Exec::new(Engine::Auto, 5).unwrap();
        for (op, n) in [(Op::Cholesky, 400), (Op::Eigvalsh, 1024), (Op::Svd, 255)] {
            let c = choose_with(&auto5, op, Dtype::F64, Shape::Square(n), None, 2, 256);
            assert_eq!((c.0, c.1), (Engine::Blas, 2), "{op:?}");
        }
    }

    #[test]
    fn builtin_rules_send_f64_factorizations_to_rayon_where_both_kernels_are_avx2() {
        if !Isa::Avx2.available() {
            return;
        }
        let pick = |threads: usize, isa: Isa, op: Op, dtype: Dtype, n: usize, bits: u32| {
            let exec = Exec::new(Engine::Auto, threads)
                .unwrap()
                .with_isa(isa)
                .unwrap();
            let c = choose_with(&exec, op, dtype, Shape::Square(n), None, 2, bits);
            (c.0, c.1)
        };
        let from = AUTO_FACTOR_RAYON_MIN_ORDER;
        let lu_qr_from = AUTO_AVX2_RAYON_MIN_ORDER;
        let lu_qr = [
            Op::Solve,
            Op::Lu,
            Op::LuFactor,
            Op::Det,
            Op::Slogdet,
            Op::Qr,
            Op::QrFactor,
        ];
        for dtype in [Dtype::F32, Dtype::F64] {
            let rayon_if_f64 = if dtype == Dtype::F64 {
                Engine::Rayon
            } else {
                Engine::RayonBlas
            };
            // Both AVX2, f64: Cholesky on rayon from AUTO_FACTOR_RAYON_MIN_ORDER (blas below),
            // the LU family but inv and QR from AUTO_AVX2_RAYON_MIN_ORDER (rayon-blas below),
            // with two threads or more; one thread and f32 on rayon-blas.
            let cases = [
                (Op::Cholesky, from, Engine::Blas),
                (Op::ChoFactor, from, Engine::Blas),
            ]
            .into_iter()
            .chain(lu_qr.map(|op| (op, lu_qr_from, Engine::RayonBlas)));
            for (op, start, below) in cases {
                for n in [start, 2 * start] {
                    assert_eq!(
                        pick(2, Isa::Avx2, op, dtype, n, 256),
                        (rayon_if_f64, 2),
                        "{op:?} {dtype:?} {n}"
                    );
                    assert_eq!(
                        pick(1, Isa::Avx2, op, dtype, n, 256),
                        (Engine::RayonBlas, 1),
                        "{op:?} {n}"
                    );
                }
                assert_eq!(
                    pick(2, Isa::Avx2, op, dtype, start - 1, 256).0,
                    below,
                    "{op:?}"
                );
            }
            // inv stays on rayon-blas at every order from AUTO_FACTOR_RAYON_MIN_ORDER.
            for n in [from, lu_qr_from, 2 * lu_qr_from] {
                assert_eq!(
                    pick(2, Isa::Avx2, Op::Inv, dtype, n, 256),
                    (Engine::RayonBlas, 2),
                    "inv {n}"
                );
            }
            for op in lu_qr.into_iter().chain([Op::Cholesky, Op::ChoFactor]) {
                // OpenBLAS wider, or both AVX-512 (not measured): rayon-blas as before.
                assert_eq!(
                    pick(2, Isa::Avx2, op, dtype, lu_qr_from, 512),
                    (Engine::RayonBlas, 2)
                );
                if Isa::Avx512.available() {
                    assert_eq!(
                        pick(2, Isa::Avx512, op, dtype, lu_qr_from, 512),
                        (Engine::RayonBlas, 2)
                    );
                }
            }
        }
    }

    #[test]
    fn builtin_rules_send_large_real_factorizations_to_rayon_blas() {
        let auto2 = Exec::new(Engine::Auto, 2).unwrap();
        let pick = |op: Op, dtype: Dtype, shape: Shape, cores: usize| {
            let c = choose_with(&auto2, op, dtype, shape, None, cores, 512);
            (c.0, c.1)
        };
        let big = AUTO_FACTOR_RAYON_MIN_ORDER;
        for op in [
            Op::Cholesky,
            Op::ChoFactor,
            Op::Lu,
            Op::LuFactor,
            Op::Solve,
            Op::Inv,
            Op::Det,
            Op::Slogdet,
            Op::Qr,
            Op::QrFactor,
        ] {
            let big = match op {
                Op::Qr | Op::QrFactor => AUTO_QR_RAYON_MIN_ORDER,
                _ => big,
            };
            // QR on one thread below AUTO_QR_PARALLEL_MIN_ORDER, with the budget from it.
            let qr_threads = |n: usize| {
                if matches!(op, Op::Qr | Op::QrFactor) && n < AUTO_QR_PARALLEL_MIN_ORDER {
                    1
                } else {
                    2
                }
            };
            for dtype in [Dtype::F32, Dtype::F64] {
                assert_eq!(
                    pick(op, dtype, Shape::Square(big), 2),
                    (Engine::RayonBlas, qr_threads(big)),
                    "{op:?} {dtype:?}"
                );
                for n in [AUTO_QR_PARALLEL_MIN_ORDER - 1, AUTO_QR_PARALLEL_MIN_ORDER] {
                    if n >= big {
                        assert_eq!(
                            pick(op, dtype, Shape::Square(n), 2),
                            (Engine::RayonBlas, qr_threads(n)),
                            "{op:?} {dtype:?} {n}"
                        );
                    }
                }
                let below = if big - 1 < AUTO_FACTOR_BLAS_PARALLEL_MIN_ORDER {
                    1
                } else {
                    2
                };
                assert_eq!(
                    pick(op, dtype, Shape::Square(big - 1), 2),
                    (Engine::Blas, below),
                    "{op:?} {dtype:?}"
                );
                // Never more threads than cores.
                assert_eq!(
                    pick(op, dtype, Shape::Square(4 * big), 1),
                    (Engine::RayonBlas, 1),
                    "{op:?} {dtype:?}"
                );
            }
            // Complex types stay on blas.
            assert_eq!(
                pick(op, Dtype::C64, Shape::Square(2 * big), 2),
                (Engine::Blas, 2),
                "{op:?}"
            );
        }
        // A tall QR is as large as its smaller side.
        let qr = AUTO_QR_RAYON_MIN_ORDER;
        let tall = |cols| Shape::Matrix(8 * qr, cols);
        assert_eq!(pick(Op::Qr, Dtype::F64, tall(qr), 2).0, Engine::RayonBlas);
        assert_eq!(pick(Op::Qr, Dtype::F64, tall(qr / 2), 2).0, Engine::Blas);
        // The other factorizations between the two thresholds stay on blas.
        assert_eq!(
            pick(Op::Solve, Dtype::F64, Shape::Square(qr), 2).0,
            Engine::Blas
        );
        // On one OpenBLAS thread below AUTO_FACTOR_BLAS_PARALLEL_MIN_ORDER, with the budget
        // from it; complex types keep the budget.
        let small = AUTO_FACTOR_BLAS_PARALLEL_MIN_ORDER;
        for op in [Op::Cholesky, Op::Solve, Op::Det, Op::LuFactor] {
            for dtype in [Dtype::F32, Dtype::F64] {
                assert_eq!(
                    pick(op, dtype, Shape::Square(small - 1), 2),
                    (Engine::Blas, 1)
                );
                assert_eq!(pick(op, dtype, Shape::Square(1), 2), (Engine::Blas, 1));
                assert_eq!(pick(op, dtype, Shape::Square(small), 2), (Engine::Blas, 2));
            }
            assert_eq!(pick(op, Dtype::C64, Shape::Square(8), 2), (Engine::Blas, 2));
        }
        assert_eq!(pick(Op::Qr, Dtype::F64, tall(qr / 2), 2), (Engine::Blas, 1));
        // Not the solves with a factor.
        assert_eq!(
            pick(Op::LuSolve, Dtype::F64, Shape::Square(8), 2),
            (Engine::Blas, 2)
        );
        // Solves with an existing factor and triangular solves stay on blas.
        for op in [Op::LuSolve, Op::ChoSolve, Op::SolveTriangular, Op::QrLstsq] {
            assert_eq!(
                pick(op, Dtype::F64, Shape::Square(4 * big), 2),
                (Engine::Blas, 2),
                "{op:?}"
            );
        }
    }

    #[test]
    fn builtin_rules_send_large_f64_spectral_decompositions_to_rayon_blas() {
        let pick = |threads: usize, op: Op, dtype: Dtype, shape: Shape| {
            let exec = Exec::new(Engine::Auto, threads).unwrap();
            let c = choose_with(&exec, op, dtype, shape, None, 2, 512);
            (c.0, c.1)
        };
        let big = AUTO_SPECTRAL_RAYON_MIN_ORDER;
        for op in [Op::Eigh, Op::Svd] {
            assert_eq!(
                pick(2, op, Dtype::F64, Shape::Square(big)),
                (Engine::RayonBlas, 2),
                "{op:?}"
            );
            // Never more threads than cores.
            assert_eq!(
                pick(4, op, Dtype::F64, Shape::Square(2 * big)),
                (Engine::RayonBlas, 2),
                "{op:?}"
            );
            assert_eq!(
                pick(2, op, Dtype::F64, Shape::Square(big - 1)),
                (Engine::Blas, 2),
                "{op:?}"
            );
            // One thread, f32 and complex types stay on blas.
            assert_eq!(
                pick(1, op, Dtype::F64, Shape::Square(2 * big)),
                (Engine::Blas, 1),
                "{op:?}"
            );
            for dtype in [Dtype::F32, Dtype::C64] {
                assert_eq!(
                    pick(2, op, dtype, Shape::Square(2 * big)),
                    (Engine::Blas, 2),
                    "{op:?} {dtype:?}"
                );
            }
        }
        // A tall SVD is as large as its smaller side.
        assert_eq!(
            pick(2, Op::Svd, Dtype::F64, Shape::Matrix(8 * big, big)),
            (Engine::RayonBlas, 2)
        );
        assert_eq!(
            pick(2, Op::Svd, Dtype::F64, Shape::Matrix(8 * big, big / 2)),
            (Engine::Blas, 2)
        );
        // svdvals from twice the order; eigvalsh stays on blas.
        let vals = |n| pick(2, Op::Svdvals, Dtype::F64, Shape::Square(n));
        assert_eq!(vals(2 * big), (Engine::RayonBlas, 2));
        assert_eq!(vals(2 * big - 1), (Engine::Blas, 2));
        assert_eq!(
            pick(2, Op::Eigvalsh, Dtype::F64, Shape::Square(4 * big)),
            (Engine::Blas, 2)
        );
        let exec = Exec::new(Engine::Auto, 2).unwrap();
        let rule = choose_with(
            &exec,
            Op::Eigh,
            Dtype::F64,
            Shape::Square(big),
            None,
            2,
            512,
        )
        .2;
        assert!(rule.contains("AUTO_SPECTRAL_RAYON_MIN_ORDER"), "{rule}");
    }

    #[test]
    fn builtin_rules_send_factorizations_and_spectral_to_rayon_where_kernels_are_wider() {
        let auto2 = Exec::new(Engine::Auto, 2).unwrap();
        let isa = auto2.gemm_kernel::<f64>().isa;
        if isa == Isa::Portable {
            return; // parla's kernels are never wider than OpenBLAS's here
        }
        // OpenBLAS's kernels half as wide as parla's (as AVX2 `Haswell` kernels on an AVX-512 CPU).
        let narrower = isa_bits(isa) / 2;
        let pick = |threads: usize, op: Op, dtype: Dtype, n: usize, cores: usize| {
            let exec = Exec::new(Engine::Auto, threads).unwrap();
            let c = choose_with(&exec, op, dtype, Shape::Square(n), None, cores, narrower);
            assert!(
                c.0 != Engine::Rayon || c.2.contains("wider") || c.2.contains("as wide"),
                "{op:?}: {}",
                c.2
            );
            (c.0, c.1)
        };
        // Small inverses run on rayon, one thread, where parla's kernels are at least as wide
        // as OpenBLAS's; where OpenBLAS's are wider, on blas. Nothing else moves at equal width.
        for (bits, want) in [
            (isa_bits(isa), Engine::Rayon),
            (isa_bits(isa) + 1, Engine::Blas),
        ] {
            let exec = Exec::new(Engine::Auto, 2).unwrap();
            for dtype in [Dtype::F32, Dtype::F64] {
                for n in [1, 8, AUTO_INV_SMALL_MAX_ORDER] {
                    let c = choose_with(&exec, Op::Inv, dtype, Shape::Square(n), None, 2, bits);
                    assert_eq!((c.0, c.1), (want, 1), "inv {n} {bits}: {}", c.2);
                    let c = choose_with(&exec, Op::Solve, dtype, Shape::Square(n), None, 2, bits);
                    assert_eq!((c.0, c.1), (Engine::Blas, 1), "solve {n} {bits}");
                }
                let n = AUTO_INV_SMALL_MAX_ORDER + 1;
                let c = choose_with(&exec, Op::Inv, dtype, Shape::Square(n), None, 2, bits);
                assert_eq!((c.0, c.1), (Engine::Blas, 1), "inv {n} {bits}");
            }
        }
        for op in [
            Op::Cholesky,
            Op::LuFactor,
            Op::Solve,
            Op::Inv,
            Op::Det,
            Op::Qr,
        ] {
            let lu_family = matches!(op, Op::LuFactor | Op::Solve | Op::Inv | Op::Det);
            let from = match op {
                Op::Qr => AUTO_QR_RAYON_MIN_ORDER,
                _ if lu_family => AUTO_LU_WIDE_MIN_ORDER,
                _ => AUTO_FACTOR_RAYON_MIN_ORDER,
            };
            // QR on one thread below AUTO_QR_PARALLEL_MIN_ORDER, the LU family below
            // AUTO_FACTOR_BLAS_PARALLEL_MIN_ORDER; with the budget from there.
            let threads = |n: usize| {
                if (op == Op::Qr && n < AUTO_QR_PARALLEL_MIN_ORDER)
                    || (lu_family && n < AUTO_FACTOR_BLAS_PARALLEL_MIN_ORDER)
                {
                    1
                } else {
                    2
                }
            };
            for dtype in [Dtype::F32, Dtype::F64] {
                assert_eq!(
                    pick(2, op, dtype, from, 2),
                    (Engine::Rayon, threads(from)),
                    "{op:?}"
                );
                let edges = [
                    AUTO_QR_PARALLEL_MIN_ORDER,
                    AUTO_FACTOR_BLAS_PARALLEL_MIN_ORDER,
                ];
                let sides = edges.into_iter().flat_map(|e| [e - 1, e]);
                for n in sides.filter(|&n| n >= from) {
                    assert_eq!(
                        pick(2, op, dtype, n, 2),
                        (Engine::Rayon, threads(n)),
                        "{op:?} {n}"
                    );
                }
                assert_eq!(
                    pick(2, op, dtype, 4 * from, 1),
                    (Engine::Rayon, 1),
                    "{op:?}"
                );
                let below = if from - 1 < AUTO_FACTOR_BLAS_PARALLEL_MIN_ORDER {
                    1
                } else {
                    2
                };
                assert_eq!(
                    pick(2, op, dtype, from - 1, 2),
                    (Engine::Blas, below),
                    "{op:?}"
                );
                // Small inverses on rayon, one thread, up to AUTO_INV_SMALL_MAX_ORDER; the
                // other ops stay on blas there.
                for n in [1, 8, AUTO_INV_SMALL_MAX_ORDER, AUTO_INV_SMALL_MAX_ORDER + 1] {
                    let want = if op == Op::Inv && n <= AUTO_INV_SMALL_MAX_ORDER {
                        Engine::Rayon
                    } else {
                        Engine::Blas
                    };
                    assert_eq!(pick(2, op, dtype, n, 2), (want, 1), "{op:?} {n}");
                }
            }
            assert_eq!(
                pick(2, op, Dtype::C64, 2 * from, 2),
                (Engine::Blas, 2),
                "{op:?}"
            );
        }
        let big = AUTO_SPECTRAL_WIDE_MIN_ORDER;
        for op in [Op::Eigh, Op::Svd] {
            for dtype in [Dtype::F32, Dtype::F64] {
                assert_eq!(pick(2, op, dtype, big, 2), (Engine::Rayon, 2), "{op:?}");
                // One thread too: parla's wider kernels win there as well.
                assert_eq!(pick(1, op, dtype, big, 2), (Engine::Rayon, 1), "{op:?}");
                assert_eq!(pick(4, op, dtype, big, 2), (Engine::Rayon, 2), "{op:?}");
                assert_eq!(pick(2, op, dtype, big - 1, 2), (Engine::Blas, 2), "{op:?}");
            }
            assert_eq!(
                pick(2, op, Dtype::C64, 2 * big, 2),
                (Engine::Blas, 2),
                "{op:?}"
            );
        }
        let big = AUTO_SPECTRAL_RAYON_MIN_ORDER;
        assert_eq!(
            pick(2, Op::Svdvals, Dtype::F64, 2 * big, 2),
            (Engine::Rayon, 2)
        );
        assert_eq!(
            pick(2, Op::Svdvals, Dtype::F64, 2 * big - 1, 2),
            (Engine::Blas, 2)
        );
        assert_eq!(
            pick(2, Op::Eigvalsh, Dtype::F64, 4 * big, 2),
            (Engine::Blas, 2)
        );
        // Solves with an existing factor stay on blas.
        assert_eq!(pick(2, Op::LuSolve, Dtype::F64, 2048, 2), (Engine::Blas, 2));
    }

    #[test]
    fn builtin_rules_send_axis_norms_to_rayon() {
        let auto2 = Exec::new(Engine::Auto, 2).unwrap();
        for op in [Op::RowNorms, Op::ColNorms] {
            for bits in [256, 512] {
                let small = choose_with(
                    &auto2,
                    op,
                    Dtype::F64,
                    Shape::Matrix(512, 512),
                    None,
                    2,
                    bits,
                );
                assert_eq!((small.0, small.1), (Engine::Rayon, 1), "{op:?}");
                let large = choose_with(
                    &auto2,
                    op,
                    Dtype::F64,
                    Shape::Matrix(1024, 1024),
                    None,
                    2,
                    bits,
                );
                assert_eq!((large.0, large.1), (Engine::Rayon, 2), "{op:?}");
                let capped = choose_with(
                    &auto2,
                    op,
                    Dtype::F32,
                    Shape::Matrix(4096, 4096),
                    None,
                    1,
                    bits,
                );
                assert_eq!((capped.0, capped.1), (Engine::Rayon, 1), "{op:?}");
            }
        }
        // Sums keep the default rule (not measured against OpenBLAS's gemv).
        let sums = choose_with(
            &auto2,
            Op::RowSums,
            Dtype::F64,
            Shape::Matrix(1024, 1024),
            None,
            2,
            256,
        );
        assert_eq!(sums.0, Engine::Blas);
    }

    #[test]
    fn builtin_rules_send_transpose_to_rayon() {
        let auto2 = Exec::new(Engine::Auto, 2).unwrap();
        let pick = |dtype: Dtype, r: usize, c: usize, cores: usize, bits: u32| {
            let (e, t, _) = choose_with(
                &auto2,
                Op::Transpose,
                dtype,
                Shape::Matrix(r, c),
                None,
                cores,
                bits,
            );
            (e, t)
        };
        // On any CPU: OpenBLAS's width does not enter.
        for bits in [256, 512] {
            assert_eq!(pick(Dtype::F64, 16, 16, 2, bits), (Engine::Rayon, 1));
            assert_eq!(pick(Dtype::F64, 512, 512, 2, bits), (Engine::Rayon, 1));
            // One element below the threshold, and exactly at it (6 MiB of f64: 1024 × 768).
            assert_eq!(pick(Dtype::F64, 1024, 768, 2, bits), (Engine::Rayon, 2));
            assert_eq!(
                pick(Dtype::F64, 1, 1024 * 768 - 1, 2, bits),
                (Engine::Rayon, 1)
            );
            assert_eq!(pick(Dtype::F32, 1024, 1024, 2, bits), (Engine::Rayon, 1));
            assert_eq!(pick(Dtype::F32, 2048, 2048, 2, bits), (Engine::Rayon, 2));
            // Never more threads than cores.
            assert_eq!(pick(Dtype::F64, 4096, 4096, 1, bits), (Engine::Rayon, 1));
            // The rayon engines do not transpose complex matrices.
            assert_eq!(pick(Dtype::C64, 4096, 4096, 2, bits).0, Engine::Blas);
        }
    }

    fn batch_entry(op: Op, order: usize, len: usize, c: Vec<Candidate>) -> Entry {
        Entry {
            batch: len,
            ..entry(op, Dtype::F64, ShapeClass::Square, order as f64, c)
        }
    }

    #[test]
    fn batches_follow_the_nearest_measured_batch_within_the_budget() {
        use Engine::*;
        let mut p = profile();
        p.entries.extend([
            // Many small products: rayon workers on parla's kernels.
            batch_entry(
                Op::Gemm,
                32,
                1024,
                vec![
                    cand(Blas, 2, 3.0),
                    cand(RayonBlas, 2, 2.0),
                    cand(Rayon, 2, 1.0),
                ],
            ),
            // Few large ones: a loop on OpenBLAS with both threads.
            batch_entry(
                Op::Gemm,
                128,
                4,
                vec![cand(Blas, 1, 3.0), cand(Blas, 2, 1.0), cand(Rayon, 2, 2.0)],
            ),
            batch_entry(
                Op::Solve,
                32,
                64,
                vec![
                    cand(Blas, 1, 3.0),
                    cand(RayonBlas, 2, 2.0),
                    cand(Rayon, 3, 1.0),
                ],
            ),
        ]);
        let auto2 = Exec::new(Engine::Auto, 2).unwrap();
        let b = |op: Op, len: usize, order: usize, exec: &Exec| {
            let flops = op.flops(Shape::Square(order)) * len as f64;
            choose_batch_with(exec, (op, Dtype::F64, len, order, flops), Some(&p), 2, 512)
        };
        let many = b(Op::Matmul, 2000, 24, &auto2);
        assert_eq!((many.0, many.1), (Rayon, 2));
        assert!(many.2.contains("batch measured"), "{}", many.2);
        assert_eq!(b(Op::Matmul, 3, 200, &auto2).0, Blas);
        // Order and length count alike on log scales: 16 of 128 is nearer (128, 4) than (32, 1024).
        assert_eq!(b(Op::Gemm, 16, 128, &auto2).0, Blas);
        // rayon 3t is beyond the cores: the best within them; `inv` is measured as `solve`.
        let inv = b(Op::Inv, 64, 32, &auto2);
        assert_eq!((inv.0, inv.1), (RayonBlas, 2));
        assert!(inv.2.contains("stand-in"), "{}", inv.2);
        // A single-matrix entry never answers a batch: Cholesky has only built-in rules here.
        assert!(b(Op::Cholesky, 64, 32, &auto2).2.contains("built-in"));
        // One item, or one thread: a loop, whatever the profile says.
        let one = b(Op::Matmul, 1, 32, &auto2);
        assert_eq!(one.0, Blas);
        assert!(one.2.contains("built-in"), "{}", one.2);
        let auto1 = Exec::new(Engine::Auto, 1).unwrap();
        assert_eq!(b(Op::Matmul, 2000, 24, &auto1), (Blas, 1, one.2));
        // Batch entries never answer single calls (the single 32 x 32 product is built-in or
        // the 64 entry, never the batch's rayon 2t).
        let single = pick(&auto2, Op::Gemm, Dtype::F64, sq(32));
        assert_eq!((single.0, single.1), (Blas, 2));
    }

    #[test]
    fn remembered_choices_are_the_computed_ones() {
        // More distinct calls than slots, each repeated: every answer (remembered or not)
        // equals a fresh computation with the same inputs.
        let execs = [
            Exec::new(Engine::Auto, 1).unwrap(),
            Exec::new(Engine::Auto, 2).unwrap(),
        ];
        let profile = tune::active().unwrap();
        for round in 0..3 {
            for (i, n) in [8usize, 64, 100, 128, 256, 512, 1000, 2048, 4096, 9000]
                .into_iter()
                .enumerate()
            {
                for exec in &execs {
                    for (op, shape) in [
                        (Op::Gemm, Shape::Product { m: n, n, k: 2 * n }),
                        (Op::Axpy, Shape::Vector(n * 100)),
                        (Op::Cholesky, Shape::Square(n)),
                    ] {
                        let dtype = if (i + round) % 2 == 0 {
                            Dtype::F64
                        } else {
                            Dtype::F32
                        };
                        let fresh = choose_with(
                            exec,
                            op,
                            dtype,
                            shape,
                            profile,
                            threads::usable_cores(),
                            openblas_bits(),
                        );
                        assert_eq!(choose(exec, op, dtype, shape).unwrap(), fresh);
                        assert_eq!(choose(exec, op, dtype, shape).unwrap(), fresh);
                    }
                }
            }
        }
        // The ring keeps the last RECENT_SLOTS keys.
        let mut r = Recent {
            slots: [None; RECENT_SLOTS],
            next: 0,
        };
        let key = |n: usize| (execs[0], Op::Axpy, Dtype::F64, Shape::Vector(n));
        for n in 0..RECENT_SLOTS + 1 {
            r.insert(key(n), (Engine::Blas, n, "test"));
        }
        assert_eq!(r.find(&key(0)), None);
        for n in 1..=RECENT_SLOTS {
            assert_eq!(r.find(&key(n)), Some((Engine::Blas, n, "test")));
        }
    }

    #[test]
    fn builtin_batch_rules() {
        let flops = |op: Op, n: usize| op.flops(Shape::Square(n));
        let rule = |t: usize, op: Op, len: usize, order: usize| {
            let exec = Exec::new(Engine::Auto, t).unwrap();
            let f = flops(op, order) * len as f64;
            // OpenBLAS's kernels wider than parla's: items never on parla's kernels.
            let c = choose_batch_with(&exec, (op, Dtype::F64, len, order, f), None, 2, 1024);
            assert!(c.2.contains("built-in"), "{}", c.2);
            (c.0, c.1)
        };
        use Engine::{Blas, RayonBlas};
        let per = BATCH_MIN_ITEMS_PER_WORKER;
        for op in [Op::Matmul, Op::Solve, Op::Cholesky, Op::Inv] {
            let small = if op == Op::Matmul {
                BATCH_GEMM_SMALL_ORDER
            } else {
                BATCH_FACTOR_SMALL_ORDER
            };
            // The smallest batch of order-16 items with enough work, and one item less.
            let enough = (BATCH_MIN_FLOPS / flops(op, 16)).ceil() as usize;
            let table = [
                ((2, enough.max(2), 16), (RayonBlas, 2)),
                ((2, enough - 1, 16), (Blas, 2)),
                ((2, 2, small), (RayonBlas, 2)),
                ((2, 2, small + 1), (Blas, 2)),
                ((2, 2 * per - 1, small + 1), (Blas, 2)),
                ((2, 2 * per, small + 1), (RayonBlas, 2)),
                // A budget of 3 on 2 cores: capped at the cores.
                ((3, 2 * per, 2048), (RayonBlas, 2)),
                ((3, 2 * per - 1, 2048), (Blas, 2)),
                ((1, 10_000, 32), (Blas, 1)),
                ((2, 1, 1000), (Blas, 2)),
                ((2, 0, 32), (Blas, 2)),
            ];
            for ((t, len, order), want) in table {
                assert_eq!(
                    rule(t, op, len, order),
                    want,
                    "{op}: {len} items of order {order} on {t}"
                );
            }
        }
    }

    #[test]
    fn builtin_batch_solves_and_inverses_run_on_parla_kernels_where_wider_or_small() {
        let exec = Exec::new(Engine::Auto, 2).unwrap();
        let isa = exec.gemm_kernel::<f64>().isa;
        if isa == Isa::Portable {
            return; // parla's kernels are never wider than OpenBLAS's here
        }
        let narrower = isa_bits(isa) / 2;
        let rule = |op: Op, dtype: Dtype, len: usize, order: usize, bits: u32| {
            let f = op.flops(Shape::Square(order)) * len as f64;
            let c = choose_batch_with(&exec, (op, dtype, len, order, f), None, 2, bits);
            (c.0, c.1)
        };
        let big = BATCH_FACTOR_SMALL_ORDER + 1;
        let per = BATCH_MIN_ITEMS_PER_WORKER;
        let wider = isa_bits(isa) + 1;
        // Spread batches of solves and inverses: on parla's kernels where wider; where as
        // wide, for small items only (solve up to AUTO_BATCH_SOLVE_AS_WIDE_MAX_ORDER, inv up
        // to AUTO_INV_SMALL_MAX_ORDER); else on OpenBLAS's.
        for op in [Op::Solve, Op::Inv] {
            let small = if op == Op::Solve {
                AUTO_BATCH_SOLVE_AS_WIDE_MAX_ORDER
            } else {
                AUTO_INV_SMALL_MAX_ORDER
            };
            for (len, order) in [
                (10_000, 8),
                (10_000, small),
                (10_000, small + 1),
                (2, BATCH_FACTOR_SMALL_ORDER),
                (2 * per, big),
            ] {
                let spread = |bits| rule(op, Dtype::F64, len, order, bits);
                assert_eq!(
                    spread(narrower),
                    (Engine::Rayon, 2),
                    "{op} {len} of {order}"
                );
                let as_wide = if order <= small {
                    Engine::Rayon
                } else {
                    Engine::RayonBlas
                };
                assert_eq!(spread(isa_bits(isa)), (as_wide, 2), "{op} {len} of {order}");
                assert_eq!(
                    spread(wider),
                    (Engine::RayonBlas, 2),
                    "{op} {len} of {order}"
                );
            }
        }
        // What is not spread stays a loop; other batched ops and complex solves stay on
        // OpenBLAS's kernels.
        assert_eq!(
            rule(Op::Solve, Dtype::F64, 2 * per - 1, big, narrower),
            (Engine::Blas, 2)
        );
        assert_eq!(
            rule(Op::Solve, Dtype::F64, 2, 4, narrower),
            (Engine::Blas, 2)
        );
        for op in [Op::Cholesky, Op::Matmul] {
            assert_eq!(
                rule(op, Dtype::F64, 10_000, 32, narrower),
                (Engine::RayonBlas, 2)
            );
        }
        assert_eq!(
            rule(Op::Solve, Dtype::C64, 10_000, 32, narrower),
            (Engine::RayonBlas, 2)
        );
    }
}
