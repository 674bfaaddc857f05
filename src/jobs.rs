//! joblib-style parallel for loops: [`Parallel`] runs a function over many items on its own
//! pool of `n_jobs` threads and returns the results in input order.
//!
//! Python's `Parallel(n_jobs=4)(delayed(f)(x) for x in xs)` becomes
//! `Parallel::new(4)?.map(xs, f)`. There is no GIL and nothing is pickled: items move to the
//! workers and results move back. parla operations called inside a task run OpenBLAS with one
//! thread (they see they are on a rayon worker), so `n_jobs` tasks never multiply into
//! `n_jobs × cores` threads.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::threads;

/// How items are grouped into the units of work a thread takes at a time (joblib's
/// `batch_size`: `Auto` is `batch_size="auto"`, `Fixed(n)` is `batch_size=n`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Chunking {
    /// rayon's adaptive splitting: large groups while every thread is busy, single items at the
    /// end, so uneven tasks still balance.
    #[default]
    Auto,
    /// Chunks of exactly this many consecutive items (the last one may be shorter): item
    /// `i` belongs to chunk `i / n`, and a chunk runs on one thread, in order. Use it when each
    /// task is tiny, or when consecutive items share something worth keeping in cache.
    Fixed(usize),
}

/// A parallel for loop over items, with joblib's `n_jobs` meaning.
///
/// ```
/// use parla::Parallel;
/// let squares = Parallel::new(2)?.map(0..10u64, |x| x * x)?;
/// assert_eq!(squares, (0..10u64).map(|x| x * x).collect::<Vec<_>>());
/// # Ok::<(), parla::Error>(())
/// ```
#[derive(Debug)]
pub struct Parallel {
    n_jobs: usize,
    chunking: Chunking,
    pool: rayon::ThreadPool,
    /// The process that started the pool's workers: a child made by `fork` inherits the value
    /// but not the workers.
    owner: u32,
}

pub(crate) fn resolve_n_jobs(n_jobs: isize, cores: usize) -> Result<usize> {
    let bad = |reason: String| Error::InvalidArgument {
        op: "Parallel::new",
        name: "n_jobs",
        reason,
    };
    let n = match n_jobs {
        0 => {
            return Err(bad(
                "0 jobs cannot run anything; use a positive count, or -1 for all cores".into(),
            ))
        }
        n if n > 0 => n as usize,
        n => {
            let left = cores as isize + 1 + n;
            if left < 1 {
                return Err(bad(format!(
                    "{n_jobs} leaves no core of {cores}; the lowest allowed is -{cores}"
                )));
            }
            left as usize
        }
    };
    if n > threads::MAX_THREADS {
        return Err(bad(format!(
            "{n} exceeds the limit of {} threads",
            threads::MAX_THREADS
        )));
    }
    Ok(n)
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}

impl Parallel {
    /// Resolves joblib's `n_jobs` against `cores` usable cores: a positive value is taken as is,
    /// `-1` means all cores, `-2` all but one, and generally `-k` means `cores + 1 - k`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for `0`, for a negative value that leaves no core, and above
    /// [`threads::MAX_THREADS`].
    ///
    /// ```
    /// assert_eq!(parla::Parallel::resolve_n_jobs(-2, 8)?, 7);
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn resolve_n_jobs(n_jobs: isize, cores: usize) -> Result<usize> {
        resolve_n_jobs(n_jobs, cores)
    }

    /// A parallel loop with `n_jobs` workers (see [`Parallel::resolve_n_jobs`]; `-1` = all usable
    /// cores) on a pool of its own.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an invalid `n_jobs` or when the threads cannot start.
    ///
    /// ```
    /// assert_eq!(parla::Parallel::new(-1)?.n_jobs(), parla::threads::usable_cores());
    /// assert!(parla::Parallel::new(0).is_err());
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn new(n_jobs: isize) -> Result<Self> {
        let n = resolve_n_jobs(n_jobs, threads::usable_cores())?;
        Ok(Parallel {
            n_jobs: n,
            chunking: Chunking::Auto,
            pool: threads::pool("jobs", n)?,
            owner: std::process::id(),
        })
    }

    /// The same loop with another chunking policy.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for `Chunking::Fixed(0)`.
    pub fn chunking(mut self, chunking: Chunking) -> Result<Self> {
        if chunking == Chunking::Fixed(0) {
            return Err(Error::InvalidArgument {
                op: "Parallel::chunking",
                name: "chunk size",
                reason: "got 0; expected at least 1".into(),
            });
        }
        self.chunking = chunking;
        Ok(self)
    }

    /// joblib's `batch_size=n`: the same loop with [`Chunking::Fixed`]`(n)`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for `0`.
    ///
    /// ```
    /// let p = parla::Parallel::new(2)?.batch_size(64)?;
    /// assert_eq!(p.map(0..1000, |x| x + 1)?.len(), 1000);
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn batch_size(self, n: usize) -> Result<Self> {
        self.chunking(Chunking::Fixed(n))
    }

    /// The chunking policy in use.
    pub fn chunking_policy(&self) -> Chunking {
        self.chunking
    }

    /// The number of worker threads.
    pub fn n_jobs(&self) -> usize {
        self.n_jobs
    }

    /// Runs `f` on every item and returns the results in input order. A panicking task
    /// becomes [`Error::TaskPanicked`] (the other tasks are cancelled), never an abort.
    ///
    /// # Errors
    /// [`Error::TaskPanicked`]; [`Error::InvalidArgument`] in a forked child (see
    /// [`try_map`](Parallel::try_map)).
    pub fn map<I, T, R, F>(&self, items: I, f: F) -> Result<Vec<R>>
    where
        I: IntoIterator<Item = T>,
        T: Send,
        R: Send,
        F: Fn(T) -> R + Sync,
    {
        self.try_map(items, |x| Ok::<R, Error>(f(x)))
    }

    /// Runs the fallible `f` on every item and returns the results in input order, or the
    /// first error a task returned (first in time): tasks not started yet are skipped and the
    /// results of finished ones dropped. A panic becomes [`Error::TaskPanicked`] converted into
    /// `E`.
    ///
    /// # Errors
    /// The first task error, or a caught panic; [`Error::InvalidArgument`] (nothing runs) in a
    /// child made by `fork` from the process that made this value: its workers do not exist
    /// there (make a new `Parallel` in the child).
    ///
    /// ```
    /// use parla::{Error, Parallel};
    /// let r = Parallel::new(2)?.try_map(vec![4.0, -1.0, 9.0], |x: f64| {
    ///     if x < 0.0 { Err(Error::InvalidArgument { op: "sqrt", name: "x", reason: "negative".into() }) } else { Ok(x.sqrt()) }
    /// });
    /// assert!(matches!(r, Err(Error::InvalidArgument { op: "sqrt", .. })));
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn try_map<I, T, R, E, F>(&self, items: I, f: F) -> std::result::Result<Vec<R>, E>
    where
        I: IntoIterator<Item = T>,
        T: Send,
        R: Send,
        E: From<Error> + Send,
        F: Fn(T) -> std::result::Result<R, E> + Sync,
    {
        if std::process::id() != self.owner {
            return Err(E::from(Error::InvalidArgument {
                op: "Parallel::map",
                name: "self",
                reason: "made before fork() in the parent process, whose workers this child \
                         does not have; make a new Parallel in the child"
                    .into(),
            }));
        }
        let items: Vec<T> = items.into_iter().collect();
        let cancelled = AtomicBool::new(false);
        let first_error: Mutex<Option<E>> = Mutex::new(None);
        let run = |(index, item): (usize, T)| -> Option<R> {
            if cancelled.load(Ordering::Acquire) {
                return None;
            }
            let outcome = match catch_unwind(AssertUnwindSafe(|| f(item))) {
                Ok(r) => r,
                Err(payload) => Err(E::from(Error::TaskPanicked {
                    index,
                    message: panic_message(&*payload),
                })),
            };
            match outcome {
                Ok(r) => Some(r),
                Err(e) => {
                    cancelled.store(true, Ordering::Release);
                    let mut slot = first_error.lock().unwrap_or_else(|p| p.into_inner());
                    if slot.is_none() {
                        *slot = Some(e);
                    }
                    None
                }
            }
        };
        let results: Vec<Option<R>> = match self.chunking {
            Chunking::Auto => self
                .pool
                .install(|| items.into_par_iter().enumerate().map(run).collect()),
            Chunking::Fixed(n) => {
                // Each chunk is one job (`with_max_len(1)` lets rayon split down to single
                // chunks, never inside one), its items run in order on one thread.
                let chunks: Vec<Vec<Option<R>>> = self.pool.install(|| {
                    items
                        .into_par_iter()
                        .enumerate()
                        .chunks(n)
                        .with_max_len(1)
                        .map(|chunk| chunk.into_iter().map(run).collect())
                        .collect()
                });
                chunks.into_iter().flatten().collect()
            }
        };
        if let Some(e) = first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
            return Err(e);
        }
        Ok(results
            .into_iter()
            .map(|r| r.expect("no task failed, so every task produced a result"))
            .collect())
    }
}
