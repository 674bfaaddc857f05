//! The block scheduler: cuts an operation into blocks and runs them on a rayon pool sized by the
//! thread budget, each block computed by a single-threaded kernel.
//!
//! The split of an operation is the same on both rayon engines; only the kernel run per block
//! differs ([`Kernels`]): single-threaded OpenBLAS (`rayon-blas`) or parla's own (`rayon`).
//! GEMM is the exception: OpenBLAS packs internally, so `rayon-blas` hands it whole panels of C
//! ([`gemm::blas_panels`]), while the `rayon` engine runs the BLIS loops itself
//! ([`gemm::blis_loops`]).
//!
//! Batched operations ([`batch`]) are split one level up: the items of a batch are spread over
//! the pool, each computed whole by a single-threaded engine.

pub(crate) mod copy;
pub(crate) mod elementwise;
pub(crate) mod gemm;
pub(crate) mod level1;
pub(crate) mod level2;
pub(crate) mod level3;
pub(crate) mod reduce;
pub(crate) mod transpose;

use ndarray::{ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2};
use rayon::iter::{IndexedParallelIterator, IntoParallelIterator, ParallelIterator};

use crate::blas;
use crate::blas::reduce::Reduction;
use crate::decomp::Trans;
use crate::error::Result;
use crate::kernels::{self, Element, GemmBlocks, GemmKernel, Isa};
use crate::scalar::{ComplexScalar, Scalar};
use crate::threads::{self, EnginePool};

/// The single-threaded kernel each block runs.
/// What computes each block on a rayon engine, decided once by the dispatch layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kernels {
    /// Single-threaded OpenBLAS / LAPACK (`rayon-blas`).
    OpenBlas,
    /// parla's own kernels (`rayon`), with the GEMM micro-kernel settings of the call.
    Native(Native),
}

/// The GEMM settings of parla's kernels for one call: the instruction set and, when forced,
/// the MC/KC/NC blocks (else each element type's defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Native {
    /// The instruction set of the micro-kernels.
    pub isa: Isa,
    /// Forced block sizes, if any.
    pub blocks: Option<GemmBlocks>,
}

impl Native {
    /// The GEMM kernel (micro-kernel tile and blocks) for element type `T`.
    pub(crate) fn gemm_kernel<T: Element>(&self) -> GemmKernel {
        let uk = T::micro_kernel(self.isa);
        GemmKernel {
            isa: self.isa,
            mr: uk.mr,
            nr: uk.nr,
            blocks: self
                .blocks
                .unwrap_or_else(|| T::default_blocks(self.isa, crate::cpu::l2_per_cpu())),
        }
    }
}

/// The workers of one call: how many, and the engine pool they belong to (looked up once by
/// the dispatch layer; `None` for one thread, which runs on the calling thread).
#[derive(Clone)]
pub(crate) struct Team {
    threads: usize,
    pool: Option<threads::EnginePool>,
}

impl Team {
    /// The engine pool of `threads` workers (none for one thread).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) when the pool cannot start.
    pub(crate) fn new(threads: usize) -> Result<Team> {
        let threads = threads.max(1);
        let pool = if threads > 1 {
            Some(threads::engine_pool(threads)?)
        } else {
            None
        };
        Ok(Team { threads, pool })
    }

    /// The calling thread alone.
    pub(crate) fn one() -> Team {
        Team {
            threads: 1,
            pool: None,
        }
    }

    /// How many workers.
    pub(crate) fn threads(&self) -> usize {
        self.threads
    }

    /// Runs `f` on the team's pool (inline when already on it, or for one thread).
    pub(crate) fn install<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        match &self.pool {
            Some(p) => p.pool.install(f),
            None => f(),
        }
    }

    /// `f(i, item)` for every item of `items`: spread over the team's pool, or in order on the
    /// calling thread for one thread. (A parallel iterator run by a one-thread team would go to
    /// rayon's global pool — every core of the machine — or to whatever pool the caller is a
    /// worker of: the team's size would not hold.)
    pub(crate) fn for_each_indexed<I, F>(&self, items: I, f: F)
    where
        I: IntoParallelIterator + IntoIterator<Item = <I as IntoParallelIterator>::Item> + Send,
        <I as IntoParallelIterator>::Iter: IndexedParallelIterator,
        F: Fn(usize, <I as IntoParallelIterator>::Item) + Sync + Send,
    {
        if self.pool.is_none() {
            items.into_iter().enumerate().for_each(|(i, x)| f(i, x));
        } else {
            self.install(|| items.into_par_iter().enumerate().for_each(|(i, x)| f(i, x)));
        }
    }

    /// `(f(item) for item in items)`, in order: as [`Team::for_each_indexed`].
    pub(crate) fn map_collect<I, R, F>(&self, items: I, f: F) -> Vec<R>
    where
        I: IntoParallelIterator + IntoIterator<Item = <I as IntoParallelIterator>::Item> + Send,
        <I as IntoParallelIterator>::Iter: IndexedParallelIterator,
        R: Send,
        F: Fn(<I as IntoParallelIterator>::Item) -> R + Sync + Send,
    {
        if self.pool.is_none() {
            items.into_iter().map(f).collect()
        } else {
            self.install(|| items.into_par_iter().map(f).collect())
        }
    }

    /// [`Team::install`], starting `f` on the worker pinned to the CPU the caller runs on (the
    /// other workers join in as `f` forks work), when the pool is pinned and the caller runs on
    /// one of its CPUs; else as `install`.
    ///
    /// The arrays a whole factorization allocates are first written there, and the caller
    /// frees the ones it gets back there too. Linux hands out freed pages from per-CPU lists:
    /// pages freed on one CPU and first touched on another come from the general free lists,
    /// which on a VM with free page reporting (Firecracker, the 2-core Zen 5 VM) the host no
    /// longer backs. There, the 32 MiB work array of an LU of order 2048 took 40–60 ms to
    /// copy the input into when the worker's CPU differed from the caller's, against 3–5 ms
    /// when it was populated on the caller's CPU, a third of the whole 2-thread factorization.
    pub(crate) fn install_near_caller<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        let Some(EnginePool { pool, pins }) = &self.pool else {
            return f();
        };
        if rayon::current_thread_index().is_some() {
            return pool.install(f);
        }
        let worker = pins.as_deref().and_then(|cpus| {
            let here = threads::affinity::current_cpu()?;
            cpus.iter().position(|&c| c == here)
        });
        let Some(worker) = worker else {
            return pool.install(f);
        };
        // The broadcast runs this on every worker, `worker` among them, so the job runs once,
        // there; the others return at once and steal the work it forks.
        let job = std::sync::Mutex::new(Some(f));
        let out = pool.broadcast(|ctx| {
            if ctx.index() != worker {
                return None;
            }
            let f = job.lock().unwrap_or_else(|e| e.into_inner()).take();
            f.map(|f| f())
        });
        let mut results = out.into_iter().flatten();
        match results.next() {
            Some(r) => r,
            // `broadcast` runs on every worker and returns once all have, so this is only
            // reached if rayon broke that promise; then the job is still here.
            None => {
                let f = job.into_inner().unwrap_or_else(|e| e.into_inner());
                pool.install(|| f.map(|f| f()).expect("the job is run exactly once"))
            }
        }
    }
}

/// The complex blocks (`c32`, `c64`): single-threaded OpenBLAS `zdotu`/`zdotc`, `zaxpy`,
/// `dznrm2`, `zgemv` for `rayon-blas`, `kernels/complex.rs` for `rayon`.
impl Kernels {
    /// `Σ xᵢ yᵢ`, or `Σ conj(xᵢ) yᵢ` with `conj`.
    pub(crate) fn cdot<C: ComplexScalar>(
        self,
        x: ArrayView1<C>,
        y: ArrayView1<C>,
        conj: bool,
    ) -> C {
        match self {
            Kernels::OpenBlas => blas::complex::dot(1, x, y, conj),
            Kernels::Native(_) => kernels::complex::dot(x, y, conj),
        }
    }

    pub(crate) fn caxpy<C: ComplexScalar>(
        self,
        op: &'static str,
        alpha: C,
        x: ArrayView1<C>,
        y: &mut ArrayViewMut1<C>,
    ) -> Result<()> {
        match self {
            Kernels::OpenBlas => blas::complex::axpy(op, 1, alpha, x, y),
            Kernels::Native(_) => {
                kernels::complex::axpy(alpha, x, y);
                Ok(())
            }
        }
    }

    pub(crate) fn cnrm2<C: ComplexScalar>(self, x: ArrayView1<C>) -> C::Real {
        match self {
            Kernels::OpenBlas => blas::complex::nrm2(1, x),
            Kernels::Native(_) => kernels::complex::nrm2(x),
        }
    }

    /// `y ← α op(A)_b x + β y` for a row block `ab` of the logical `op(A)` (`A` transposed
    /// already for `Trans::Yes`/`Conj`; `Conj` also conjugates its elements).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn cgemv<C: ComplexScalar>(
        self,
        op: &'static str,
        alpha: C,
        ab: ArrayView2<C>,
        trans: Trans,
        x: ArrayView1<C>,
        beta: C,
        y: &mut ArrayViewMut1<C>,
    ) -> Result<()> {
        match self {
            Kernels::OpenBlas => {
                let stored = if trans == Trans::No {
                    ab
                } else {
                    ab.reversed_axes()
                };
                blas::complex::gemv(op, 1, alpha, stored, trans, x, beta, y)
            }
            Kernels::Native(_) => {
                kernels::complex::gemv(alpha, ab, trans == Trans::Conj, x, beta, y);
                Ok(())
            }
        }
    }
}

impl Kernels {
    pub(crate) fn dot<T: Scalar>(self, x: ArrayView1<T>, y: ArrayView1<T>) -> T {
        match self {
            Kernels::OpenBlas => blas::level1::dot(1, x, y),
            Kernels::Native(_) => kernels::level1::dot(x, y),
        }
    }

    pub(crate) fn axpy<T: Scalar>(self, alpha: T, x: ArrayView1<T>, y: &mut ArrayViewMut1<T>) {
        match self {
            Kernels::OpenBlas => blas::level1::axpy(1, alpha, x, y),
            Kernels::Native(_) => kernels::level1::axpy(alpha, x, y),
        }
    }

    pub(crate) fn scal<T: Scalar>(self, alpha: T, x: &mut ArrayViewMut1<T>) {
        match self {
            Kernels::OpenBlas => blas::level1::scal(1, alpha, x),
            Kernels::Native(_) => kernels::level1::scal(alpha, x),
        }
    }

    pub(crate) fn nrm2<T: Scalar>(self, x: ArrayView1<T>) -> T {
        match self {
            Kernels::OpenBlas => blas::level1::nrm2(1, x),
            Kernels::Native(_) => kernels::level1::nrm2(x),
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn gemv<T: Scalar>(
        self,
        op: &'static str,
        alpha: T,
        a: ArrayView2<T>,
        x: ArrayView1<T>,
        beta: T,
        y: &mut ArrayViewMut1<T>,
    ) -> Result<()> {
        match self {
            Kernels::OpenBlas => blas::level2::gemv(op, 1, alpha, a, x, beta, y),
            Kernels::Native(_) => {
                kernels::level2::gemv(alpha, a, x, beta, y);
                Ok(())
            }
        }
    }

    /// `out[i] = reduce(v[i, :])` where the rows of `v` are the memory-adjacent direction.
    pub(crate) fn reduce_along<T: Scalar>(
        self,
        op: &'static str,
        red: Reduction,
        v: ArrayView2<T>,
        out: &mut ArrayViewMut1<T>,
    ) -> Result<()> {
        match (self, red) {
            (Kernels::OpenBlas, _) => blas::reduce::rows(op, 1, red, v, out),
            (Kernels::Native(_), Reduction::Sum) => {
                kernels::reduce::line_sums(v, out);
                Ok(())
            }
            (Kernels::Native(_), Reduction::Norm) => {
                kernels::reduce::line_norms(v, out);
                Ok(())
            }
        }
    }

    /// `out[i] = reduce(v[i, :])` where the *columns* of `v` are the memory-adjacent direction:
    /// parla's kernel reads `vᵀ` row after row; OpenBLAS gets `v` as it is (`gemv` picks its
    /// kernel by layout; `nrm2` walks each row of `v` with its stride).
    pub(crate) fn reduce_down<T: Scalar>(
        self,
        op: &'static str,
        red: Reduction,
        v: ArrayView2<T>,
        out: &mut ArrayViewMut1<T>,
    ) -> Result<()> {
        match (self, red) {
            (Kernels::OpenBlas, _) => blas::reduce::rows(op, 1, red, v, out),
            (Kernels::Native(_), Reduction::Sum) => {
                kernels::reduce::sums_down(v.t(), out);
                Ok(())
            }
            (Kernels::Native(_), Reduction::Norm) => {
                kernels::reduce::norms_down(v.t(), out);
                Ok(())
            }
        }
    }

    /// `dst ← srcᵀ`.
    pub(crate) fn transpose<T: Scalar>(
        self,
        op: &'static str,
        src: ArrayView2<T>,
        dst: &mut ArrayViewMut2<T>,
    ) -> Result<()> {
        match self {
            Kernels::OpenBlas => blas::transpose::transpose(op, 1, src, dst),
            Kernels::Native(_) => {
                kernels::transpose::transpose(src, dst.view_mut());
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_started_near_the_caller_runs_once_on_the_pool_and_forks_there() {
        let cores = crate::threads::usable_cores();
        for threads in [1, 2, cores.max(2), cores + 1] {
            let team = Team::new(threads).unwrap();
            let runs = std::sync::atomic::AtomicUsize::new(0);
            let (sum, on_pool, here) = team.install_near_caller(|| {
                runs.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                // Work forked from the job runs on the team: every item is summed once.
                let sum: u64 = (1..=10_000u64).into_par_iter().sum();
                (
                    sum,
                    rayon::current_thread_index().is_some(),
                    crate::threads::affinity::current_cpu(),
                )
            });
            assert_eq!(
                runs.load(std::sync::atomic::Ordering::SeqCst),
                1,
                "{threads}"
            );
            assert_eq!(sum, 10_000 * 10_001 / 2);
            // One thread runs on the caller; a pool runs it on one of its workers.
            assert_eq!(on_pool, threads > 1, "{threads}");
            if let (Some(cpus), Some(cpu)) = (crate::threads::pinned_cpus(threads).unwrap(), here) {
                assert!(cpus.contains(&cpu));
            }
            // From inside the pool it runs inline, as `install` does.
            let nested = team.install(|| {
                let me = rayon::current_thread_index();
                team.install_near_caller(|| rayon::current_thread_index() == me)
            });
            assert!(nested);
        }
    }
}
