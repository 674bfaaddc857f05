//! The execution value itself: an engine, thread budgets and kernel settings, passed down to
//! every layer below the public API (DESIGN.md rule 2). A leaf: it imports no layer above it.

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::kernels::{Element, GemmBlocks, GemmKernel, Isa, MAX_BLOCK};
use crate::parallel::level3::FactorBlocks;
use crate::parallel::Native;
use crate::threads;

/// How one call runs: which engine, and how many threads it may use.
///
/// Every operation of parla is a method of `Exec` and a free function of the same name; the free
/// function is `Exec::current()?.op(...)`. Build an `Exec` to fix the engine and thread count of a
/// call without touching the process defaults:
///
/// ```
/// use ndarray::array;
/// use parla::{Engine, Exec};
///
/// let a = array![[1.0f64, 2.0], [3.0, 4.0]];
/// let one_thread = Exec::new(Engine::Blas, 1)?;
/// let c = one_thread.matmul(&a, &a)?;
/// assert_eq!(c, array![[7.0f64, 10.0], [15.0, 22.0]]);
/// # Ok::<(), parla::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Exec {
    engine: Engine,
    /// Budget when the call runs on the `blas` engine.
    blas_threads: usize,
    /// Budget when the call runs on a rayon engine.
    rayon_threads: usize,
    /// Micro-kernel instruction set of the `rayon` engine (`None`: the widest available).
    isa: Option<Isa>,
    /// Cache blocks of the `rayon` engine's GEMM (`None`: the tuned defaults).
    gemm_blocks: Option<GemmBlocks>,
    factor_blocks: Option<FactorBlocks>,
}

impl Exec {
    /// An execution value with a fixed engine and thread count.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) unless `1 <= threads <=` [`threads::MAX_THREADS`].
    pub fn new(engine: Engine, threads: usize) -> Result<Self> {
        let threads = threads::check_count("Exec::new", threads)?;
        Ok(Exec {
            engine,
            blas_threads: threads,
            rayon_threads: threads,
            isa: None,
            gemm_blocks: None,
            factor_blocks: None,
        })
    }

    /// The `blas` engine (OpenBLAS's own threads) with `threads` threads.
    ///
    /// # Errors
    /// As [`Exec::new`].
    pub fn blas(threads: usize) -> Result<Self> {
        Exec::new(Engine::Blas, threads)
    }

    /// The process defaults: engine and thread budget resolved from scoped limits, runtime
    /// settings and the environment (see [`crate::threads`] for the precedence).
    ///
    /// # Errors
    /// [`Error::InvalidEnv`](crate::Error::InvalidEnv) when an environment variable that decides the answer is invalid.
    pub fn current() -> Result<Self> {
        let engine = threads::backend()?;
        // Only the budgets this engine can use are resolved, so a bad variable of the other
        // side (say `RAYON_NUM_THREADS` for a `blas` call) does not fail the call.
        let (blas_threads, rayon_threads) = match engine {
            Engine::Blas => {
                let n = threads::budget_for(Engine::Blas)?.0;
                (n, n)
            }
            Engine::RayonBlas | Engine::Rayon => {
                let n = threads::budget_for(Engine::Rayon)?.0;
                (n, n)
            }
            Engine::Auto => (
                threads::budget_for(Engine::Blas)?.0,
                threads::budget_for(Engine::Rayon)?.0,
            ),
        };
        Ok(Exec {
            engine,
            blas_threads,
            rayon_threads,
            isa: None,
            gemm_blocks: None,
            factor_blocks: None,
        })
    }

    /// The engine asked for (possibly [`Engine::Auto`]).
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// The thread budget for the engine asked for (for `auto`, the `blas` budget).
    pub fn threads(&self) -> usize {
        self.threads_for(self.engine)
    }

    /// The thread budget if the call runs on `engine`.
    pub fn threads_for(&self, engine: Engine) -> usize {
        match engine {
            Engine::Auto | Engine::Blas => self.blas_threads,
            Engine::RayonBlas | Engine::Rayon => self.rayon_threads,
        }
    }

    /// The same value with another engine.
    pub fn with_engine(mut self, engine: Engine) -> Self {
        self.engine = engine;
        self
    }

    /// The same value with another thread count (for every engine).
    ///
    /// # Errors
    /// As [`Exec::new`].
    pub fn with_threads(self, threads: usize) -> Result<Self> {
        let fresh = Exec::new(self.engine, threads)?;
        Ok(Exec {
            blas_threads: fresh.blas_threads,
            rayon_threads: fresh.rayon_threads,
            ..self
        })
    }

    /// The same value with the `rayon` engine's micro-kernels fixed to one instruction set
    /// (say, to compare AVX2 with AVX-512 on one machine). Other engines ignore it.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when this CPU cannot run `isa`.
    ///
    /// ```
    /// use parla::tuning::Isa;
    /// use parla::{Engine, Exec};
    /// let portable = Exec::new(Engine::Rayon, 1)?.with_isa(Isa::Portable)?;
    /// let a = ndarray::array![[1.0f64, 2.0], [3.0, 4.0]];
    /// assert_eq!(portable.matmul(&a, &a)?, ndarray::array![[7.0f64, 10.0], [15.0, 22.0]]);
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn with_isa(mut self, isa: Isa) -> Result<Self> {
        if !isa.available() {
            return Err(Error::InvalidArgument {
                op: "Exec::with_isa",
                name: "isa",
                reason: format!("this CPU cannot run the {isa} kernels"),
            });
        }
        self.isa = Some(isa);
        Ok(self)
    }

    /// The same value with the `rayon` engine's GEMM cache blocks set (MC, KC, NC; see
    /// [`GemmBlocks`]). Any sizes compute the same result up to rounding; small ones make the
    /// blocked paths run on small matrices, large ones trade cache fit for fewer passes.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] unless every size is in `1..=`[`MAX_BLOCK`].
    pub fn with_gemm_blocks(mut self, blocks: GemmBlocks) -> Result<Self> {
        for (name, v) in [("mc", blocks.mc), ("kc", blocks.kc), ("nc", blocks.nc)] {
            if !(1..=MAX_BLOCK).contains(&v) {
                return Err(Error::InvalidArgument {
                    op: "Exec::with_gemm_blocks",
                    name,
                    reason: format!("{name} = {v} is outside 1..={MAX_BLOCK}"),
                });
            }
        }
        self.gemm_blocks = Some(blocks);
        Ok(self)
    }

    /// The same value with the recursion bases and panel widths of the blocked factorizations
    /// of the rayon engines set (Cholesky, LU, QR, triangular solves); any positive values are
    /// correct, small ones force the recursive paths on small matrices.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a zero field or one above [`MAX_BLOCK`].
    ///
    /// ```
    /// use parla::tuning::FactorBlocks;
    /// let tiny = FactorBlocks { cholesky: 2, syrk: 3, lu: 2, qr: 2, trsm: 2 };
    /// let exec = parla::Exec::new(parla::Engine::Rayon, 2)?.with_factor_blocks(tiny)?;
    /// let a = ndarray::Array2::from_shape_fn((9, 9), |(i, j)| if i == j { 9.0f64 } else { 1.0 });
    /// let l = exec.cholesky(&a)?;
    /// assert!((l.dot(&l.t()) - &a).iter().all(|d| d.abs() < 1e-12));
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn with_factor_blocks(mut self, blocks: FactorBlocks) -> Result<Self> {
        for (name, v) in blocks.fields() {
            if !(1..=MAX_BLOCK).contains(&v) {
                return Err(Error::InvalidArgument {
                    op: "Exec::with_factor_blocks",
                    name,
                    reason: format!("{name} = {v} is outside 1..={MAX_BLOCK}"),
                });
            }
        }
        self.factor_blocks = Some(blocks);
        Ok(self)
    }

    /// The recursion bases and panel widths the blocked factorizations run with.
    pub fn factor_blocks(&self) -> FactorBlocks {
        self.factor_blocks.unwrap_or_default()
    }

    /// The GEMM kernel the `rayon` engine runs for element type `T` with this value:
    /// instruction set, register tile (MR × NR) and cache blocks.
    ///
    /// ```
    /// let k = parla::Exec::new(parla::Engine::Rayon, 2)?.gemm_kernel::<f64>();
    /// assert!(k.mr >= 1 && k.nr >= 1 && k.blocks.kc >= 1);
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn gemm_kernel<T: Element>(&self) -> GemmKernel {
        self.native().gemm_kernel::<T>()
    }

    /// The settings of parla's own kernels for a call with this value.
    pub(crate) fn native(&self) -> Native {
        Native {
            isa: self.isa.unwrap_or_else(Isa::detect),
            blocks: self.gemm_blocks,
        }
    }
}
