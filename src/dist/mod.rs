//! Distributed matrices on MPI (feature `dist`): the same engines, now across processes.
//!
//! A [`Grid`] arranges the MPI ranks as `pr × pc` processes; a [`DistMatrix`] lives on it in
//! ScaLAPACK's 2-D block-cyclic layout. [`gemm`] / [`matmul`] run parla's own SUMMA over
//! rsmpi, each rank's local products on the parla engine of the [`Exec`](crate::Exec) passed
//! in (`blas`, `rayon-blas`, `rayon`, `auto`, each with its threads per rank). With feature
//! `scalapack`, the factorizations and solvers call Debian's ScaLAPACK on the same matrices
//! (see [`scalapack`](self::scalapack) when that feature is on).
//!
//! Processes vs threads: ranks share nothing, so every rank pays its own fixed memory
//! (≈ 15 MiB here) and the blocks it receives; threads share one copy. Pick
//! `ranks × threads per rank ≤ cores` (see the README's "Distributed" section).
//!
//! ## Rules every function follows
//! - **Collective**: every rank of the grid calls the same function with the same shapes; all
//!   ranks first agree on shapes, roots and block sizes (one small allreduce), so a bad call
//!   returns the *same* typed [`Error`](crate::Error) on every rank instead of deadlocking.
//! - **One thread talks to MPI** ([`initialize`] asks for `Threading::Funneled`): local work may
//!   use many threads, MPI calls come from the thread that owns the grid (its types are neither
//!   `Send` nor `Sync`).
//! - **When a rank dies** (killed, out of memory, a panic), MPI aborts the whole job: the other
//!   ranks are killed by `mpirun` (MPI has no fault tolerance). parla writes no files, so
//!   nothing is left half-written; results exist only in the ranks' memory.
//!
//! ```no_run
//! use parla::dist::{self, DistMatrix, Grid};
//! use parla::{Engine, Exec};
//!
//! let universe = dist::initialize()?;
//! let grid = Grid::new(&universe.world())?; // 4 ranks → 2 × 2
//! let a = DistMatrix::<f64>::from_fn(&grid, 2000, 2000, 64, |i, j| 1.0 / (1 + i + j) as f64)?;
//! let c = dist::matmul(&Exec::new(Engine::Rayon, 1)?, &a, &a)?;
//! println!("rank {} sent {} bytes", grid.rank(), grid.bytes_sent());
//! let full = c.gather(0)?; // Some(array) on rank 0 only
//! # Ok::<(), parla::Error>(())
//! ```

mod grid;
mod layout;
mod matrix;
pub mod model;
mod summa;

#[cfg(feature = "scalapack")]
pub mod scalapack;

pub use grid::Grid;
pub use layout::{near_square, numroc};
pub use matrix::DistMatrix;
/// The rsmpi crate parla is built with, so callers need no `mpi` dependency of their own.
pub use mpi;
pub use mpi::environment::Universe;
pub use summa::{gemm, matmul, summa_bytes, PANEL};

use crate::error::{Error, Result};
use crate::scalar::Scalar;

/// The element types of distributed matrices: `f32` and `f64` (sealed).
#[cfg(not(feature = "scalapack"))]
pub trait DistScalar: Scalar + mpi::datatype::Equivalence + sealed::Sealed {}

/// The element types of distributed matrices: `f32` and `f64` (sealed).
#[cfg(feature = "scalapack")]
pub trait DistScalar:
    Scalar + mpi::datatype::Equivalence + sealed::Sealed + scalapack::Routines
{
}

impl DistScalar for f32 {}
impl DistScalar for f64 {}

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// Initializes MPI with `Threading::Funneled` (threads allowed, MPI called from this thread
/// only) and returns the [`Universe`]; MPI is finalized when it is dropped.
///
/// # Errors
/// [`Error::InvalidArgument`] when MPI was already initialized in this process, or the MPI
/// library cannot provide `Funneled`.
pub fn initialize() -> Result<Universe> {
    use mpi::Threading;
    let (universe, provided) =
        mpi::initialize_with_threading(Threading::Funneled).ok_or(Error::InvalidArgument {
            op: "dist::initialize",
            name: "MPI",
            reason: "MPI is already initialized in this process".into(),
        })?;
    if matches!(provided, Threading::Single) {
        return Err(Error::InvalidArgument {
            op: "dist::initialize",
            name: "threading",
            reason: "the MPI library provides only Threading::Single; parla needs Funneled".into(),
        });
    }
    Ok(universe)
}

/// The MPI library's version string (NUL bytes removed).
pub fn library_version() -> String {
    mpi::environment::library_version()
        .unwrap_or_default()
        .replace('\0', "")
        .trim()
        .to_string()
}
