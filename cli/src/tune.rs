//! `parla tune`: measures which (engine, threads) is fastest on this machine for each
//! operation family, shape class and size, and writes the tuning profile `auto` reads
//! ([`parla::tuning::Profile`]).
//!
//! Every candidate of an item — each engine at each thread count from 1 to the usable cores —
//! is timed in the same rounds, one after the other in an order that changes from round to round, so the machine's
//! noise (another process, a frequency change) hits all of them alike. The multi-threaded
//! `blas` candidates run in a phase of their own, apart from the others: OpenBLAS's idle
//! workers spin for about 100 ms after each threaded call and would steal a core from the
//! multi-threaded candidate after them (which waits for them; one-thread candidates go first
//! and use that time). The warm-up calls are the first round for candidates whose one call
//! fills a sample (it is not timed twice). After the first round, a candidate more than twice
//! as slow as one with no more threads is sampled once more, and dropped if its faster sample
//! is still that slow ([`survivors`]: no thread budget can make `auto` choose it; it keeps its
//! two samples). The others get the rest of the rounds, and those within 10 % of the fastest
//! are then measured again among themselves. Where the item's choice would overturn `auto`'s
//! built-in rule at some thread budget, the candidates that disagree get the rounds once more.
//! A candidate's time is the median of its samples. A sample during which the hypervisor took
//! CPU time is taken again ([`timing::MAX_RETAKES`]).
//!
//! The items whose choice leaves cores idle are measured a second time after all the others,
//! and each candidate keeps the faster of its two medians ([`doubtful`], [`merged`]): on a
//! VM a core can deliver next to nothing for a second at a time.

use std::time::{Duration, Instant};

use ndarray::{Array2, Array3};
use parla::batch::Strategy;
use parla::tuning::{
    auto_batch_choice, auto_choice, characteristic_size, measured_shape, Candidate, Entry, Profile,
    ShapeClass,
};
use parla::{Diag, Dtype as PDtype, Engine, Error, Exec, Op, Result, Scalar, Shape, Trans, Uplo};
use rand::SeedableRng;

use crate::compare::cases::{random_matrix, CaseRng};
use crate::compare::grid::Dtype;
use crate::compare::load::{stolen_since, stolen_ticks, CpuSample};
use crate::compare::registry;
use crate::compare::stats::Summary;
use crate::compare::timing::{self, phases, Contender};

/// How thoroughly to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// A few sizes per family, three rounds (≤ 20 s on 2 cores: 13 s on a 2-core AMD EPYC
    /// Zen 3 VM while other processes kept one core busy; 15 s on it quiet with the
    /// confirmation rounds).
    Quick,
    /// Every family at the sizes of `parla compare`'s default grid and around them (≤ 90 s
    /// on 2 cores: 88 s on a quiet 2-core AMD EPYC Zen 3 VM, 79 s there before the
    /// confirmation rounds of disputed items were added, and 89 s then while other processes
    /// kept one core busy; 149 s before the largest sizes were cut, the warm-ups reused and the
    /// first-round elimination added. `parla tune --verbose` prints each item's time).
    Default,
}

impl Preset {
    /// `quick` or `default`.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Quick => "quick",
            Preset::Default => "default",
        }
    }

    fn rounds(self) -> usize {
        match self {
            Preset::Quick => 3,
            Preset::Default => 5,
        }
    }

    /// Shortest sample: calls shorter than this are timed in batches.
    fn sample_seconds(self) -> f64 {
        match self {
            Preset::Quick => 1e-3,
            Preset::Default => 2e-3,
        }
    }
}

/// A warm-up call longer than this also serves to size the batches (no second call).
const LONG_CALL_SECONDS: f64 = 0.05;
/// A round of all candidates longer than this: the item gets [`MIN_ROUNDS`] rounds.
const LONG_ROUND_SECONDS: f64 = 0.5;
/// Fewest rounds of any item.
const MIN_ROUNDS: usize = 3;
/// Candidates whose median is within this factor of the fastest are measured again among
/// themselves (unless a round is long).
const CLOSE: f64 = 1.10;

/// One timed call of an item on an execution value.
type Call = Box<dyn FnMut(&Exec) -> Result<()>>;

/// What one item measures.
#[derive(Debug, Clone, Copy)]
pub struct Item {
    /// The operation (a [`parla::tuning::proxy`] of itself).
    pub op: Op,
    /// Element type.
    pub dtype: Dtype,
    /// Operand dimensions: GEMM `[m, n, k]`; square ops `[n, n, 0]`; vectors `[n, 0, 0]`.
    pub dims: [usize; 3],
    /// Items of a batched call (`parla::batch` of square matrices of order `dims[0]`), 0 for a
    /// single call.
    pub batch: usize,
}

impl Item {
    fn shape(&self) -> Shape {
        measured_shape(self.op, self.dims)
    }

    /// `gemm f64 512x512x512`; a batched item: `batch solve f64 64 of 32x32`.
    pub fn label(&self) -> String {
        let batch = if self.batch > 0 { "batch " } else { "" };
        let dims = dims_label(self.dims, self.batch);
        format!("{batch}{} {} {dims}", self.op, self.dtype)
    }
}

/// Operand dimensions without the unused zeros, `512x512x512`; for a batch of `batch > 0`
/// items, `64 of 32x32`.
fn dims_label(dims: [usize; 3], batch: usize) -> String {
    let d: Vec<String> = dims
        .iter()
        .filter(|&&x| x > 0)
        .map(usize::to_string)
        .collect();
    if batch > 0 {
        format!("{batch} of {}", d.join("x"))
    } else {
        d.join("x")
    }
}

fn item(op: Op, dtype: Dtype, dims: [usize; 3]) -> Item {
    Item {
        op,
        dtype,
        dims,
        batch: 0,
    }
}

/// Most work in one batched call the presets measure (flops): larger batches take as long as
/// the largest single items (1024 solves or Cholesky factorizations of order 128, 0.7–1.4
/// GFlop, took 4 s each on Zen 3), and their choice follows from the nearest smaller ones
/// (the same there).
const BATCH_MAX_FLOPS: f64 = 6e8;

/// Batches of `len` square matrices of each order in `orders` for `op` (`gemm`, `solve` or
/// `cholesky`), up to [`BATCH_MAX_FLOPS`].
fn batches(v: &mut Vec<Item>, op: Op, orders: &[usize], lens: &[usize]) {
    for &n in orders {
        for &len in lens {
            let dims = match op {
                Op::Gemm => [n, n, n],
                Op::Solve => [n, n, 1],
                _ => [n, n, 0],
            };
            let it = Item {
                op,
                dtype: Dtype::F64,
                dims,
                batch: len,
            };
            if op.flops(it.shape()) * len as f64 <= BATCH_MAX_FLOPS {
                v.push(it);
            }
        }
    }
}

/// The items of a preset, cheapest first within each family.
pub fn items(preset: Preset) -> Vec<Item> {
    use Dtype::{F32, F64};
    let mut v = Vec::new();
    let square = |v: &mut Vec<Item>, d: Dtype, sizes: &[usize]| {
        for &n in sizes {
            v.push(item(Op::Gemm, d, [n, n, n]));
        }
    };
    match preset {
        Preset::Quick => {
            square(&mut v, F64, &[32, 128, 512, 1024]);
            square(&mut v, F32, &[128, 512]);
            for dims in [
                [8192, 64, 64],
                [64, 8192, 64],
                [64, 64, 8192],
                [1024, 1024, 32],
            ] {
                v.push(item(Op::Gemm, F64, dims));
            }
            v.push(item(Op::Gemv, F64, [1024, 1024, 0]));
            v.push(item(Op::Axpy, F64, [1_000_000, 0, 0]));
            v.push(item(Op::RowNorms, F64, [1024, 1024, 0]));
            v.push(item(Op::ColNorms, F64, [1024, 1024, 0]));
            v.push(item(Op::Multiply, F64, [1024, 1024, 0]));
            v.push(item(Op::Transpose, F64, [1024, 1024, 0]));
            for n in [256, 1024] {
                v.push(item(Op::Cholesky, F64, [n, n, 0]));
                v.push(item(Op::Solve, F64, [n, n, 1]));
            }
            v.push(item(Op::SolveTriangular, F64, [512, 512, 512]));
            v.push(item(Op::Qr, F64, [256, 256, 0]));
            v.push(item(Op::Eigh, F64, [256, 256, 0]));
            v.push(item(Op::Svd, F64, [256, 256, 0]));
            batches(&mut v, Op::Gemm, &[32], &[16, 1024]);
            batches(&mut v, Op::Solve, &[32, 256], &[16, 1024]);
        }
        Preset::Default => {
            square(&mut v, F64, &[16, 32, 64, 128, 256, 512, 1024, 2048]);
            // f32 stops at 1024: its choice there stands for larger f32 products (the profile
            // takes the nearest size), and 2048 took 4.5 s of the run for the same answer
            // (OpenBLAS at all cores on Zen 3).
            square(&mut v, F32, &[32, 128, 512, 1024]);
            for dims in [
                [4096, 64, 64],
                [16384, 256, 256],
                [64, 4096, 64],
                [256, 16384, 256],
                [64, 64, 4096],
                [256, 256, 16384],
                [1024, 1024, 32],
                [2048, 2048, 128],
            ] {
                v.push(item(Op::Gemm, F64, dims));
            }
            for n in [256, 1024, 4096] {
                v.push(item(Op::Gemv, F64, [n, n, 0]));
            }
            for n in [10_000, 1_000_000, 16_000_000] {
                v.push(item(Op::Axpy, F64, [n, 0, 0]));
            }
            for n in [256, 1024, 4096] {
                v.push(item(Op::RowNorms, F64, [n, n, 0]));
                v.push(item(Op::ColNorms, F64, [n, n, 0]));
                v.push(item(Op::Multiply, F64, [n, n, 0]));
                v.push(item(Op::Transpose, F64, [n, n, 0]));
            }
            // The factorizations stop at 1024 (the nearest size answers beyond): at 2048 a
            // round of the six candidates takes 1–2.5 s, and on Zen 3 the choice at 2048 was
            // the one at 1024 (or a tie within 1 %).
            for n in [64, 256, 1024] {
                v.push(item(Op::Cholesky, F64, [n, n, 0]));
                v.push(item(Op::Solve, F64, [n, n, 1]));
            }
            for n in [128, 512, 1024] {
                v.push(item(Op::SolveTriangular, F64, [n, n, n]));
            }
            for n in [64, 256, 1024] {
                v.push(item(Op::Qr, F64, [n, n, 0]));
            }
            // eigh and svd at 1024 took 6 and 11 s (a round over 1 s): 512 is the largest.
            for n in [64, 256, 512] {
                v.push(item(Op::Eigh, F64, [n, n, 0]));
                v.push(item(Op::Svd, F64, [n, n, 0]));
            }
            for n in [64, 256] {
                v.push(item(Op::Eig, F64, [n, n, 0]));
            }
            // 8192 small matrices outgrow the caches: the loop becomes memory-bound and
            // splitting it over the cores wins, which 1024 (cache-resident) does not show.
            let lens = [4, 64, 1024, 8192];
            batches(&mut v, Op::Gemm, &[8, 32, 128], &lens);
            batches(&mut v, Op::Solve, &[8, 32, 128, 512], &lens);
            batches(&mut v, Op::Cholesky, &[8, 32, 128, 512], &lens);
        }
    }
    v
}

/// The candidates on a machine with `cores` usable cores: every engine at every thread count
/// from 1 to `cores` (powers of two and `cores` beyond 8). Never more threads than cores:
/// `auto` never runs more.
pub fn candidates(cores: usize) -> Vec<(Engine, usize)> {
    let threads: Vec<usize> = if cores <= 8 {
        (1..=cores.max(1)).collect()
    } else {
        let mut p: Vec<usize> = std::iter::successors(Some(1usize), |x| Some(x * 2))
            .take_while(|&x| x < cores)
            .collect();
        p.push(cores);
        p
    };
    [Engine::Blas, Engine::RayonBlas, Engine::Rayon]
        .into_iter()
        .flat_map(|e| threads.iter().map(move |&t| (e, t)))
        .collect()
}

/// A call of a registry case (`parla compare`'s inputs and code path).
fn registry_call(name: &str, dtype: Dtype, n: usize, rng: &mut CaseRng) -> Result<Call> {
    let spec = registry::find(name).ok_or_else(|| Error::InvalidArgument {
        op: "tune",
        name: "op",
        reason: format!("no compare case {name}"),
    })?;
    let check = Exec::blas(1)?;
    let mut case = (spec.setup)(dtype, n, rng, &check)?;
    Ok(Box::new(move |e: &Exec| case.run(e)))
}

fn typed_call<T: Scalar>(it: &Item, rng: &mut CaseRng) -> Result<Call> {
    let [a, b, c] = it.dims;
    Ok(match it.op {
        Op::Gemm => {
            let x: Array2<T> = random_matrix(rng, a, c);
            let y: Array2<T> = random_matrix(rng, c, b);
            Box::new(move |e: &Exec| e.matmul(&x, &y).map(drop))
        }
        Op::Multiply => {
            let x: Array2<T> = random_matrix(rng, a, b);
            let y: Array2<T> = random_matrix(rng, a, b);
            Box::new(move |e: &Exec| e.multiply(&x, &y).map(drop))
        }
        Op::Transpose => {
            let x: Array2<T> = random_matrix(rng, a, b);
            Box::new(move |e: &Exec| e.transpose(&x).map(drop))
        }
        Op::SolveTriangular => {
            let mut l: Array2<T> = random_matrix(rng, a, a);
            for i in 0..a {
                l[[i, i]] = T::of(a as f64);
            }
            let rhs: Array2<T> = random_matrix(rng, a, c.max(1));
            Box::new(move |e: &Exec| {
                e.solve_triangular(&l, &rhs, Uplo::Lower, Trans::No, Diag::NonUnit)
                    .map(drop)
            })
        }
        Op::Eig => {
            let m: Array2<T> = random_matrix(rng, a, a);
            Box::new(move |e: &Exec| e.eig(&m).map(drop))
        }
        Op::Solve if c > 1 => {
            let m: Array2<T> = random_matrix(rng, a, a);
            let rhs: Array2<T> = random_matrix(rng, a, c);
            Box::new(move |e: &Exec| e.solve(&m, &rhs).map(drop))
        }
        _ => {
            return Err(Error::InvalidArgument {
                op: "tune",
                name: "op",
                reason: format!("{} has no tuning case", it.op),
            });
        }
    })
}

/// A batched call through `parla::batch` with strategy `auto`, which follows the candidate's
/// engine: `blas` loops over the items with its threads, `rayon-blas` and `rayon` spread them
/// over their workers.
fn batch_call<T: Scalar>(it: &Item, rng: &mut CaseRng) -> Result<Call> {
    let (n, len) = (it.dims[0], it.batch);
    let mut a = Array3::<T>::zeros((len, n, n));
    for mut m in a.outer_iter_mut() {
        m.assign(&random_matrix::<T>(rng, n, n));
        if it.op != Op::Gemm {
            // Diagonally dominant (and symmetric for Cholesky): well conditioned, definite.
            if it.op == Op::Cholesky {
                let t = m.t().to_owned();
                m.zip_mut_with(&t, |x, &y| *x = *x + y);
            }
            for i in 0..n {
                m[[i, i]] = T::of(2.0 * n as f64 + 1.0);
            }
        }
    }
    Ok(match it.op {
        Op::Gemm => {
            let mut b = Array3::<T>::zeros((len, n, n));
            for mut m in b.outer_iter_mut() {
                m.assign(&random_matrix::<T>(rng, n, n));
            }
            Box::new(move |e: &Exec| e.batch(Strategy::Auto).matmul(&a, &b).map(drop))
        }
        Op::Solve => {
            let mut b = Array3::<T>::zeros((len, n, 1));
            for mut m in b.outer_iter_mut() {
                m.assign(&random_matrix::<T>(rng, n, 1));
            }
            Box::new(move |e: &Exec| e.batch(Strategy::Auto).solve(&a, &b).map(drop))
        }
        Op::Cholesky => Box::new(move |e: &Exec| e.batch(Strategy::Auto).cholesky(&a).map(drop)),
        _ => {
            return Err(Error::InvalidArgument {
                op: "tune",
                name: "op",
                reason: format!("{} has no batched tuning case", it.op),
            })
        }
    })
}

/// Builds the timed call of `it`.
///
/// # Errors
/// When the inputs cannot be built.
pub fn call(it: &Item, rng: &mut CaseRng) -> Result<Call> {
    let n = it.dims[0];
    if it.batch > 0 {
        return match it.dtype {
            Dtype::F32 => batch_call::<f32>(it, rng),
            _ => batch_call::<f64>(it, rng),
        };
    }
    let square_gemm = it.op == Op::Gemm && it.dims[1] == n && it.dims[2] == n;
    match it.op {
        Op::Gemm if square_gemm => registry_call("gemm", it.dtype, n, rng),
        Op::Gemv => registry_call("gemv", it.dtype, n, rng),
        Op::Axpy => registry_call("axpy", it.dtype, n, rng),
        Op::RowNorms => registry_call("row_norms", it.dtype, n, rng),
        Op::ColNorms => registry_call("col_norms", it.dtype, n, rng),
        Op::Cholesky => registry_call("cholesky", it.dtype, n, rng),
        Op::Solve if it.dims[2] <= 1 => registry_call("solve", it.dtype, n, rng),
        Op::Qr => registry_call("qr", it.dtype, n, rng),
        Op::Eigh => registry_call("eigh", it.dtype, n, rng),
        Op::Svd => registry_call("svd", it.dtype, n, rng),
        _ => match it.dtype {
            Dtype::F32 => typed_call::<f32>(it, rng),
            _ => typed_call::<f64>(it, rng),
        },
    }
}

/// Progress of a run: the item done and how many there are.
pub struct Progress<'a> {
    /// Items finished.
    pub done: usize,
    /// Items in all.
    pub total: usize,
    /// What runs now.
    pub label: &'a str,
    /// How the item that just finished was measured (`None` before the first).
    pub finished: Option<&'a ItemTime>,
}

/// How one item was measured and how long it took (`parla tune --verbose` prints it).
#[derive(Debug, Clone, PartialEq)]
pub struct ItemTime {
    /// The item's [`Item::label`].
    pub label: String,
    /// Candidates that ran (engines that implement the operation × thread counts).
    pub candidates: usize,
    /// Rounds of the candidates kept.
    pub rounds: usize,
    /// Candidates kept after the first round ([`survivors`]).
    pub kept: usize,
    /// Candidates measured again because they were within 10 % of the fastest (0: none).
    pub remeasured: usize,
    /// Candidates measured again because the entry's choice overturned the built-in rule's at
    /// some thread budget (0: none; see [`measure_timed`]).
    pub confirmed: usize,
    /// Seconds spent waiting for OpenBLAS's idle workers to stop spinning.
    pub waited: f64,
    /// Samples taken again because the hypervisor took CPU time while they ran.
    pub retaken: usize,
    /// Wall seconds of the whole item, inputs and warm-ups included.
    pub seconds: f64,
}

impl ItemTime {
    /// One line: `gemm f64 512x512x512: 6 candidates, 4 kept, 5 rounds, 2 re-measured, 0
    /// confirmed, 1 retaken, 0.12 s waiting, 1.23 s`.
    pub fn line(&self) -> String {
        format!(
            "{}: {} candidates, {} kept, {} rounds, {} re-measured, {} confirmed, {} retaken, {:.2} s waiting, {:.2} s",
            self.label,
            self.candidates,
            self.kept,
            self.rounds,
            self.remeasured,
            self.confirmed,
            self.retaken,
            self.waited,
            self.seconds
        )
    }
}

/// A candidate more than this many times slower after the first round than one with no more
/// threads is dropped from the item's later rounds.
pub const DROP: f64 = 2.0;

/// Successive elimination: which candidates, given as `(threads, seconds)` after the first
/// round, keep being measured (their indices, in order).
///
/// A candidate is dropped when it took more than [`DROP`] times as long as some candidate with
/// no more threads: under any thread budget that allows it (`auto` takes the fastest candidate
/// within the call's budget), that one is allowed too and is faster, so it cannot be chosen.
/// Hence the fastest candidate and the fastest at the fewest threads always stay, and never
/// fewer than two stay (the fastest dropped one is kept back if needed).
pub fn survivors(first: &[(usize, f64)]) -> Vec<usize> {
    let beaten = |j: usize| {
        let (t, s) = first[j];
        first.iter().any(|&(u, v)| u <= t && s > DROP * v)
    };
    let mut keep: Vec<usize> = (0..first.len()).filter(|&j| !beaten(j)).collect();
    while keep.len() < first.len().min(2) {
        let back = (0..first.len())
            .filter(|j| !keep.contains(j))
            .min_by(|&a, &b| first[a].1.total_cmp(&first[b].1));
        keep.extend(back);
        keep.sort_unstable();
    }
    keep
}

/// Seconds per call of `batch` calls on `exec`.
/// The first error a candidate's call returned, if any.
fn failed(runs: &mut [Contender]) -> Result<()> {
    match runs.iter_mut().find_map(|r| r.error.take()) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Measures one item: every candidate, interleaved over the preset's rounds. Candidates whose
/// engine does not implement the operation are left out.
///
/// # Errors
/// When the inputs cannot be built or no candidate runs.
pub fn measure(it: &Item, preset: Preset, cores: usize, seed: u64) -> Result<Entry> {
    measure_timed(it, preset, cores, seed).map(|(e, _)| e)
}

/// [`measure`], with how the item was measured and how long it took.
///
/// # Errors
/// As [`measure`].
pub fn measure_timed(
    it: &Item,
    preset: Preset,
    cores: usize,
    seed: u64,
) -> Result<(Entry, ItemTime)> {
    let start = Instant::now();
    let mut rng = CaseRng::seed_from_u64(seed);
    let mut item_call = call(it, &mut rng)?;
    let mut runs: Vec<Contender> = Vec::new();
    // Seconds one round of every candidate takes.
    let mut estimate = 0.0;
    // Multi-threaded `blas` candidates are warmed up last: their idle workers spin after each
    // call and would slow the warm-ups of the others; one-thread candidates first, while the
    // workers of the item before may still spin.
    let mut order = candidates(cores);
    timing::warm_up_order(&mut order, |&c| c);
    let mut waited = Duration::ZERO;
    for (engine, threads) in order {
        let exec = Exec::new(engine, threads)?;
        waited += timing::wait_for_spinners(engine, threads);
        // Warm-up call (pools, buffers, page faults); unless it was long, one more timed call
        // sizes the batches.
        let before = stolen_ticks();
        let t = Instant::now();
        match item_call(&exec) {
            Ok(()) => {}
            Err(Error::Unsupported { .. }) => continue,
            Err(e) => return Err(e),
        }
        let mut one = t.elapsed().as_secs_f64();
        if one < LONG_CALL_SECONDS {
            let t = Instant::now();
            item_call(&exec)?;
            one = t.elapsed().as_secs_f64();
        }
        // A call during which the hypervisor took CPU time is no sample (the first round
        // takes one instead; see `timing::MAX_RETAKES`).
        let stolen = stolen_since(before);
        // The first rounds below must not start while these workers still spin.
        timing::called(engine, threads);
        let one = one.max(1e-9);
        let batch = ((preset.sample_seconds() / one).ceil() as usize).clamp(1, 100_000);
        estimate += one * batch as f64;
        // A call that fills a sample by itself was just timed as a sample is (after a warm-up
        // call, or as a long warm-up call: the pools and buffers are the earlier items'; its
        // inputs are touched): it is the candidate's first sample, not timed twice.
        let mut run = Contender::new(engine, threads, exec, batch, one);
        if batch == 1 && !stolen {
            run.samples.push(one);
        }
        runs.push(run);
    }
    if runs.is_empty() {
        return Err(Error::Unsupported {
            op: it.op.name(),
            engine: Engine::Auto,
        });
    }
    let k = runs.len();
    // Expensive items (a large SVD) get the minimum of three rounds, to keep the whole run
    // within its budget; the median of three still discards one disturbed round.
    let rounds = if estimate > LONG_ROUND_SECONDS {
        MIN_ROUNDS
    } else {
        preset.rounds()
    };
    // One round of every candidate (the warm-ups were that round for the candidates whose call
    // fills a sample), then the rest of the rounds on those that can still be chosen
    // (`survivors`): a candidate twice as slow as one with no more threads in two samples
    // keeps them.
    let mut call = |_: usize, exec: &Exec| item_call(exec);
    let unsampled: Vec<usize> = (0..k).filter(|&j| runs[j].samples.is_empty()).collect();
    waited += phases(&mut runs, &mut call, &unsampled, 0, 1);
    failed(&mut runs)?;
    // Each candidate's fastest sample so far (a disturbance only slows a sample down).
    let fastest = |runs: &[Contender]| -> Vec<(usize, f64)> {
        runs.iter()
            .map(|r| {
                let best = r.samples.iter().copied().fold(f64::INFINITY, f64::min);
                (r.threads, best)
            })
            .collect()
    };
    let mut kept = survivors(&fastest(&runs));
    // A candidate is dropped on two samples, not one: a sample of several threads taken while
    // a vCPU was away measured up to 13× its time (`rayon-blas` at 2 threads, GEMM 4096 × 64 ×
    // 64 on the 2-core Zen 5 VM), and the dropped candidate would never be sampled again.
    let doubted: Vec<usize> = (0..k).filter(|j| !kept.contains(j)).collect();
    if !doubted.is_empty() {
        waited += phases(&mut runs, &mut call, &doubted, 1, 1);
        failed(&mut runs)?;
        kept = survivors(&fastest(&runs));
    }
    waited += phases(&mut runs, &mut call, &kept, 1, rounds - 1);
    failed(&mut runs)?;
    // Candidates within CLOSE of the fastest median get as many rounds again among
    // themselves: a crossover between two of them is decided on twice the samples, and a
    // round disturbed by the machine weighs half as much.
    let median = |v: &[f64]| Summary::of(v).map_or(f64::INFINITY, |t| t.median);
    let best = runs
        .iter()
        .map(|r| median(&r.samples))
        .fold(f64::INFINITY, f64::min);
    let close: Vec<usize> = kept
        .iter()
        .copied()
        .filter(|&j| median(&runs[j].samples) <= best * CLOSE)
        .collect();
    let remeasured = if close.len() >= 2 && estimate <= LONG_ROUND_SECONDS {
        waited += phases(&mut runs, &mut call, &close, rounds, rounds);
        failed(&mut runs)?;
        close.len()
    } else {
        0
    };
    // An entry whose choice overturns the built-in one at some thread budget is measured
    // again on the candidates that disagree, MIN_ROUNDS more samples each (unless a round is
    // long: 3 rounds of a large item would cost seconds); the medians of all
    // their samples decide. A tie among noisy samples (the 2-thread calls of a few hundred
    // microseconds on a shared 2-core VM vary by half from run to run) then needs to hold
    // twice before it overrules a measured rule.
    let mut entry = entry_of(it, &runs);
    let disputed = disputed(&entry, cores)?;
    let pair: Vec<usize> = kept
        .iter()
        .copied()
        .filter(|&j| disputed.contains(&(runs[j].engine, runs[j].threads)))
        .collect();
    let confirmed = if pair.len() >= 2 && estimate <= LONG_ROUND_SECONDS {
        waited += phases(&mut runs, &mut call, &pair, 2 * rounds, MIN_ROUNDS);
        failed(&mut runs)?;
        entry = entry_of(it, &runs);
        pair.len()
    } else {
        0
    };
    let timing = ItemTime {
        label: it.label(),
        candidates: k,
        rounds,
        kept: kept.len(),
        remeasured,
        confirmed,
        retaken: runs.iter().map(|r| r.retaken).sum(),
        waited: waited.as_secs_f64(),
        seconds: start.elapsed().as_secs_f64(),
    };
    Ok((entry, timing))
}

/// The profile entry of `it` from its candidates' samples: each candidate's median and
/// relative interquartile range, the summary `compare` reports.
fn entry_of(it: &Item, runs: &[Contender]) -> Entry {
    let shape = it.shape();
    Entry {
        op: it.op,
        dtype: match it.dtype {
            Dtype::F32 => PDtype::F32,
            _ => PDtype::F64,
        },
        class: ShapeClass::of(shape).unwrap_or(ShapeClass::Square),
        dims: it.dims,
        size: characteristic_size(shape).unwrap_or(1.0),
        batch: it.batch,
        candidates: runs
            .iter()
            .filter_map(|r| {
                let t = Summary::of(&r.samples)?;
                Some(Candidate {
                    engine: r.engine,
                    threads: r.threads,
                    spread: t.relative_iqr(),
                    seconds: t.median,
                })
            })
            .collect(),
    }
}

/// The candidates of `entry` whose choice by `auto` disagrees with its built-in rule at some
/// thread budget from 1 to `cores`: for each such budget, `auto`'s pick from this entry alone
/// and the built-in choice. Empty when the entry confirms the built-in rule everywhere.
///
/// # Errors
/// When an execution value cannot be built.
fn disputed(entry: &Entry, cores: usize) -> Result<Vec<(Engine, usize)>> {
    let mut alone = Profile::new("confirm");
    alone.entries.push(entry.clone());
    let empty = Profile::new("confirm");
    let mut out = Vec::new();
    for budget in 1..=cores {
        let choice = |p: &Profile| -> Result<(Engine, usize)> {
            let (e, t, _) = if entry.batch > 0 {
                auto_batch_choice(p, entry.op, entry.dtype, entry.batch, entry.dims[0], budget)?
            } else {
                auto_choice(
                    p,
                    entry.op,
                    entry.dtype,
                    measured_shape(entry.op, entry.dims),
                    budget,
                )?
            };
            Ok((e, t))
        };
        let (pick, rule) = (choice(&alone)?, choice(&empty)?);
        if pick != rule {
            for c in [pick, rule] {
                if !out.contains(&c) {
                    out.push(c);
                }
            }
        }
    }
    Ok(out)
}

/// Whether an entry is measured a second time, at the end of the run ([`run`]): its choice
/// at all `cores` runs fewer threads than its widest candidate.
///
/// On the 2-core Zen 5 VM the second vCPU delivers next to nothing for a second or so at a
/// time, often without any steal time to show for it ([`stolen_ticks`] sees some of it):
/// `parla tune` then measured every 2-thread candidate of an item at its 1-thread time with a
/// spread of 1 % (f32 GEMM at n = 1024: `rayon` 10.0 ms at 2 threads and 10.1 ms at 1,
/// against 6.2 and 10.9 ms in the run before), and `auto` left a core idle there (up to
/// 1.8× slower). A disturbance can only slow a candidate down, and a choice of fewer threads
/// is what such a disturbance produces; the other way round (the fewest threads measured
/// slow) costs at most the gap between them, not a core.
pub fn doubtful(entry: &Entry, cores: usize) -> bool {
    let widest = entry
        .candidates
        .iter()
        .map(|c| c.threads)
        .filter(|&t| t <= cores)
        .max();
    match (entry.best(|_, t| t <= cores), widest) {
        (Some(pick), Some(widest)) => pick.threads < widest,
        _ => false,
    }
}

/// Two measurements `a` and `b` of one item, taken apart in time, as one entry: each candidate
/// at the faster of its two medians (with that measurement's spread). A disturbance of the
/// machine makes a candidate slower, never faster, so the faster median is the one less
/// disturbed. A candidate that only one of them has keeps that one.
pub fn merged(a: &Entry, b: &Entry) -> Entry {
    let mut out = a.clone();
    for c in &mut out.candidates {
        let other = b
            .candidates
            .iter()
            .find(|d| d.engine == c.engine && d.threads == c.threads);
        if let Some(d) = other {
            if d.seconds < c.seconds {
                *c = *d;
            }
        }
    }
    for d in &b.candidates {
        let known = out
            .candidates
            .iter()
            .any(|c| c.engine == d.engine && c.threads == d.threads);
        if !known {
            out.candidates.push(*d);
        }
    }
    out
}

/// Runs every item of `preset` and returns the profile (not yet saved) with the notes of
/// items that could not be measured. The items whose choice leaves cores idle are measured
/// again after all the others, and each candidate keeps the faster of its two medians
/// ([`doubtful`], [`merged`]).
///
/// # Errors
/// Only when an execution value cannot be built; per-item problems become notes.
pub fn run(
    preset: Preset,
    cores: usize,
    progress: &mut dyn FnMut(&Progress),
) -> Result<(Profile, Vec<String>)> {
    let mut profile = Profile::new(preset.name());
    let mut notes = Vec::new();
    let list = items(preset);
    let sample = CpuSample::now();
    let mut finished: Option<ItemTime> = None;
    // First pass: every item. `measured[i]`: the entry of `list[i]`'s index in the profile.
    let mut measured: Vec<(usize, usize)> = Vec::new();
    for (i, it) in list.iter().enumerate() {
        let label = it.label();
        progress(&Progress {
            done: i,
            total: list.len(),
            label: &label,
            finished: finished.as_ref(),
        });
        finished = None;
        match measure_timed(it, preset, cores, 0x7a11 + i as u64) {
            Ok((e, t)) => {
                measured.push((i, profile.entries.len()));
                profile.entries.push(e);
                finished = Some(t);
            }
            Err(e) => notes.push(format!("{label}: not measured: {e}")),
        }
    }
    // Second pass, apart in time: the items whose choice leaves cores idle ([`doubtful`]).
    let again: Vec<(usize, usize)> = measured
        .into_iter()
        .filter(|&(_, k)| doubtful(&profile.entries[k], cores))
        .collect();
    let total = list.len() + again.len();
    for (n, &(i, k)) in again.iter().enumerate() {
        let it = &list[i];
        let label = format!("{} (again)", it.label());
        progress(&Progress {
            done: list.len() + n,
            total,
            label: &label,
            finished: finished.as_ref(),
        });
        finished = None;
        // An error the first pass did not meet leaves the first measurement standing.
        if let Ok((e, mut t)) = measure_timed(it, preset, cores, 0x7a11 + i as u64) {
            profile.entries[k] = merged(&profile.entries[k], &e);
            t.label = label;
            finished = Some(t);
        }
    }
    progress(&Progress {
        done: total,
        total,
        label: "done",
        finished: finished.as_ref(),
    });
    profile.busy_cores = sample.and_then(|s| s.others_busy_since_then());
    Ok((profile, notes))
}

fn fmt_time(s: f64) -> String {
    if s < 1e-3 {
        format!("{:.1} µs", s * 1e6)
    } else if s < 1.0 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{s:.2} s")
    }
}

/// The profile as text: per operation, dtype and shape class, the fastest candidate at each
/// measured size, how much faster than OpenBLAS at all cores, the runner-up, and where the
/// choice changes (the crossovers).
pub fn show(p: &Profile) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let m = &p.machine;
    let _ = writeln!(
        s,
        "tuning profile (format {}, {} preset, parla {})\nmachine: {} {} (family {}, model {}), {} usable cores, parla kernels {}, OpenBLAS {} ({})",
        p.format,
        p.preset,
        m.parla,
        m.vendor,
        m.cpu,
        m.family,
        m.model,
        m.cores,
        m.isa.name(),
        m.openblas_core,
        m.openblas_config
    );
    if let Some(b) = p.busy_cores {
        let _ = writeln!(
            s,
            "other processes kept {b:.2} cores busy while it was measured"
        );
    }
    let mut groups: Vec<(Op, PDtype, ShapeClass, bool)> = Vec::new();
    for e in &p.entries {
        let g = (e.op, e.dtype, e.class, e.batch > 0);
        if !groups.contains(&g) {
            groups.push(g);
        }
    }
    for (op, dtype, class, batched) in groups {
        let mut es: Vec<&Entry> = p
            .entries
            .iter()
            .filter(|e| (e.op, e.dtype, e.class, e.batch > 0) == (op, dtype, class, batched))
            .collect();
        es.sort_by(|a, b| a.size.total_cmp(&b.size).then(a.batch.cmp(&b.batch)));
        if batched {
            let _ = writeln!(
                s,
                "\nbatch {op} {dtype} (blas Nt: a loop on N OpenBLAS threads; rayon-blas/rayon Nt: N workers over the items)"
            );
        } else {
            let _ = writeln!(s, "\n{op} {dtype} {}", class.name());
        }
        let _ = writeln!(
            s,
            "  {:<18} {:<15} {:>10}  {:>12}  runner-up",
            "dims", "auto takes", "time", "vs blas@all"
        );
        let mut crossings = Vec::new();
        let mut last: Option<(Engine, usize)> = None;
        for e in &es {
            // What `auto` takes with this profile at the machine's cores: the entry's fastest,
            // or the built-in choice where that is within the entry's noise.
            let taken = if e.batch > 0 {
                auto_batch_choice(p, e.op, e.dtype, e.batch, e.size as usize, m.cores)
            } else {
                auto_choice(p, e.op, e.dtype, measured_shape(e.op, e.dims), m.cores)
            };
            let Some(best) = taken.ok().and_then(|(engine, threads, _)| {
                e.candidates
                    .iter()
                    .copied()
                    .find(|c| (c.engine, c.threads) == (engine, threads))
            }) else {
                continue;
            };
            let blas_all = e
                .candidates
                .iter()
                .filter(|c| c.engine == Engine::Blas)
                .max_by_key(|c| c.threads)
                .map(|c| c.seconds);
            let runner = e
                .candidates
                .iter()
                .filter(|c| (c.engine, c.threads) != (best.engine, best.threads))
                .min_by(|a, b| a.seconds.total_cmp(&b.seconds));
            let dims = dims_label(e.dims, e.batch);
            let _ = writeln!(
                s,
                "  {:<18} {:<15} {:>10}  {:>12}  {}",
                dims,
                format!("{} {}t", best.engine, best.threads),
                fmt_time(best.seconds),
                blas_all.map_or("-".into(), |b| format!("{:.2}x faster", b / best.seconds)),
                runner.map_or("-".into(), |r| format!(
                    "{} {}t ({:.2}x {})",
                    r.engine,
                    r.threads,
                    r.seconds / best.seconds,
                    if r.seconds < best.seconds {
                        "the time: within the noise, not taken"
                    } else {
                        "slower"
                    }
                )),
            );
            let pick = (best.engine, best.threads);
            if last.is_some_and(|l| l != pick) {
                crossings.push(if batched {
                    format!("{} {}t at {} of {:.0}", pick.0, pick.1, e.batch, e.size)
                } else {
                    format!("{} {}t from size {:.0}", pick.0, pick.1, e.size)
                });
            }
            last = Some(pick);
        }
        if !crossings.is_empty() {
            let _ = writeln!(s, "  crossovers: {}", crossings.join("; "));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_never_exceed_the_cores() {
        for cores in [1, 2, 3, 8, 12, 64] {
            let c = candidates(cores);
            assert!(c.iter().all(|&(_, t)| (1..=cores).contains(&t)));
            assert!(c.contains(&(Engine::Blas, cores)));
            assert!(c.contains(&(Engine::Rayon, 1)));
        }
        assert_eq!(candidates(2).len(), 6);
    }

    #[test]
    fn every_item_builds_and_stands_for_itself() {
        let mut rng = CaseRng::seed_from_u64(1);
        for preset in [Preset::Quick, Preset::Default] {
            for it in items(preset) {
                assert_eq!(parla::tuning::proxy(it.op), Some(it.op), "{}", it.label());
                if it.dims.iter().product::<usize>() <= 1 << 22 && it.dims[0] <= 1024 {
                    let small = Item {
                        dims: it.dims.map(|d| d.min(8)),
                        ..it
                    };
                    let mut c = call(&small, &mut rng).unwrap();
                    c(&Exec::blas(1).unwrap()).unwrap();
                }
            }
        }
    }

    fn gemm_entry(times: &[(Engine, usize, f64)]) -> Entry {
        Entry {
            op: Op::Gemm,
            dtype: PDtype::F64,
            class: ShapeClass::Square,
            dims: [512, 512, 512],
            size: 512.0,
            batch: 0,
            candidates: times
                .iter()
                .map(|&(engine, threads, seconds)| Candidate {
                    engine,
                    threads,
                    seconds,
                    spread: 0.01,
                })
                .collect(),
        }
    }

    #[test]
    fn a_choice_that_leaves_cores_idle_is_measured_again_and_the_faster_median_stands() {
        use Engine::{Blas, Rayon};
        // The second vCPU away during the first measurement: 2 threads at 1 thread's time.
        let first = gemm_entry(&[
            (Blas, 1, 5.0),
            (Rayon, 1, 2.5),
            (Rayon, 2, 2.5),
            (Blas, 2, 4.9),
        ]);
        assert!(doubtful(&first, 2));
        // At one usable core the choice cannot leave a core idle.
        assert!(!doubtful(&first, 1));
        let second = gemm_entry(&[
            (Blas, 1, 5.1),
            (Rayon, 1, 2.6),
            (Rayon, 2, 1.4),
            (Blas, 2, 2.6),
        ]);
        assert!(!doubtful(&second, 2));
        let m = merged(&first, &second);
        let secs: Vec<f64> = m.candidates.iter().map(|c| c.seconds).collect();
        assert_eq!(secs, [5.0, 2.5, 1.4, 2.6]);
        let pick = m.best(|_, t| t <= 2).unwrap();
        assert_eq!((pick.engine, pick.threads), (Rayon, 2));
        // Merging is symmetric in the medians kept, and keeps a candidate only one of them has.
        let m2 = merged(&second, &first);
        assert_eq!(
            m2.candidates.iter().map(|c| c.seconds).collect::<Vec<_>>(),
            secs
        );
        let short = gemm_entry(&[(Rayon, 2, 1.3)]);
        let m3 = merged(&short, &first);
        assert_eq!(m3.candidates.len(), 4);
        assert_eq!(m3.candidates[0].seconds, 1.3);
        // Fewer threads chosen because they are clearly faster are measured again all the same
        // (such items are short); a choice of the widest candidate is not.
        let tiny = gemm_entry(&[
            (Blas, 1, 1.0),
            (Rayon, 1, 1.1),
            (Rayon, 2, 3.0),
            (Blas, 2, 2.0),
        ]);
        assert!(doubtful(&tiny, 2));
        let wide = gemm_entry(&[(Blas, 1, 1.0), (Rayon, 2, 0.5)]);
        assert!(!doubtful(&wide, 2));
        assert!(!doubtful(&gemm_entry(&[]), 2));
    }

    #[test]
    fn labels_leave_out_unused_dims_and_name_batches() {
        assert_eq!(dims_label([512, 256, 128], 0), "512x256x128");
        assert_eq!(dims_label([1000, 0, 0], 0), "1000");
        assert_eq!(dims_label([32, 32, 0], 64), "64 of 32x32");
        let it = item(Op::Gemm, Dtype::F64, [512, 256, 128]);
        assert_eq!(it.label(), "gemm float64 512x256x128");
        let batched = Item {
            batch: 64,
            ..item(Op::Solve, Dtype::F32, [32, 32, 0])
        };
        assert_eq!(batched.label(), "batch solve float32 64 of 32x32");
    }

    #[test]
    fn only_a_choice_that_overturns_the_built_in_rule_is_disputed() {
        let cores = 2;
        let shape = Shape::Product {
            m: 128,
            n: 128,
            k: 128,
        };
        let empty = Profile::new("test");
        let rule = |budget| {
            let (e, t, _) = auto_choice(&empty, Op::Gemm, PDtype::F64, shape, budget).unwrap();
            (e, t)
        };
        let (b1, b2) = (rule(1), rule(2));
        let entry = |seconds: &dyn Fn((Engine, usize)) -> f64| Entry {
            op: Op::Gemm,
            dtype: PDtype::F64,
            class: ShapeClass::Square,
            dims: [128, 128, 128],
            size: 128.0,
            batch: 0,
            candidates: candidates(cores)
                .into_iter()
                .map(|c| Candidate {
                    engine: c.0,
                    threads: c.1,
                    seconds: seconds(c),
                    spread: 0.01,
                })
                .collect(),
        };
        // The measurements agree with the built-in choice at both budgets: nothing to confirm.
        let agrees = |c| {
            if c == b2 {
                1.0
            } else if c == b1 {
                2.0
            } else {
                3.0
            }
        };
        assert!(disputed(&entry(&agrees), cores).unwrap().is_empty());
        // Another one-thread candidate is fastest: it overturns the rule at both budgets, and
        // the rule's choices at both are measured again against it.
        let other = candidates(cores)
            .into_iter()
            .find(|&c| c.1 == 1 && c != b1 && c != b2)
            .unwrap();
        let overturns = |c| if c == other { 0.5 } else { agrees(c) };
        let d = disputed(&entry(&overturns), cores).unwrap();
        assert!(
            d.contains(&other) && d.contains(&b1) && d.contains(&b2),
            "{d:?}"
        );
        assert!(d.len() <= 3);
    }

    #[test]
    fn survivors_drop_only_what_no_budget_can_choose() {
        // Two cores: (threads, seconds) after the first round.
        let t = [(1, 1.0), (1, 3.0), (1, 1.9), (2, 0.6), (2, 1.3), (2, 0.62)];
        // 3x slower than a 1-thread candidate: dropped; 1.9x: kept. At 2 threads, 1.3 is
        // more than twice the fastest 2-thread one: dropped; a close one stays.
        assert_eq!(survivors(&t), vec![0, 2, 3, 5]);
        // The 1-thread candidates are compared among themselves only: twice as slow as the
        // 2-thread ones, they stay (a budget of one thread chooses among them).
        let t = [(1, 2.0), (1, 2.1), (2, 0.9)];
        assert_eq!(survivors(&t), vec![0, 1, 2]);
        // Never fewer than two: the fastest dropped one is kept back.
        let t = [(1, 1.0), (2, 5.0), (2, 9.0)];
        assert_eq!(survivors(&t), vec![0, 1]);
        assert_eq!(survivors(&[(1, 1.0)]), vec![0]);
        assert!(survivors(&[]).is_empty());
    }

    #[test]
    fn a_tiny_measurement_has_every_candidate_and_positive_times() {
        let it = item(Op::Gemm, Dtype::F64, [8, 8, 8]);
        let e = measure(&it, Preset::Quick, 2, 3).unwrap();
        assert_eq!(e.candidates.len(), 6);
        assert!(e.candidates.iter().all(|c| c.seconds > 0.0));
        assert_eq!(e.class, ShapeClass::Square);
        assert!((e.size - 8.0).abs() < 1e-9);
        let text = show(&Profile {
            entries: vec![e],
            ..Profile::new("quick")
        });
        assert!(text.contains("gemm float64 square"), "{text}");
    }
}
