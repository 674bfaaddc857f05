//! The execution value: an engine and a thread count, passed down to every layer below the
//! public API (DESIGN.md rule 2).

use crate::engine::Engine;
use crate::error::Result;
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
        Exec::new(self.engine, threads)
    }
}
