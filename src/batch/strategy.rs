//! How a batched operation spends its threads: over the batch, or inside each item.

use std::fmt;
use std::str::FromStr;

/// How a batch of independent matrix operations uses the thread budget.
///
/// The three concrete strategies mirror the three engines, one level up: instead of cutting one
/// matrix into blocks, they decide who runs the *items* of the batch.
///
/// | strategy | who splits the batch | who computes each item |
/// |---|---|---|
/// | [`Loop`](Strategy::Loop) | nobody: one item after another | OpenBLAS with the whole budget (engine `blas`) |
/// | [`RayonBlas`](Strategy::RayonBlas) | rayon, items on the budget's workers | single-threaded OpenBLAS (engine `blas`, 1 thread) |
/// | [`Rayon`](Strategy::Rayon) | rayon, items on the budget's workers | parla's kernels (engine `rayon`, 1 thread) |
/// | [`Auto`](Strategy::Auto) | follows the [`Exec`](crate::Exec)'s engine, or picks by size | |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// Follows the engine of the [`Exec`](crate::Exec) (`blas` → `Loop`, `rayon-blas` →
    /// `RayonBlas`, `rayon` → `Rayon`, never falling back to another); with engine `auto`,
    /// follows the tuning profile's measurement for the nearest batch, or without one picks
    /// `Loop` or `RayonBlas` (`Rayon` for `solve` and `inv` where parla's kernels are wider than
    /// OpenBLAS's on this CPU) from the total work, the matrix size, the batch length and
    /// the threads (thresholds: [`BATCH_MIN_FLOPS`](crate::batch::BATCH_MIN_FLOPS),
    /// [`BATCH_GEMM_SMALL_ORDER`](crate::batch::BATCH_GEMM_SMALL_ORDER),
    /// [`BATCH_FACTOR_SMALL_ORDER`](crate::batch::BATCH_FACTOR_SMALL_ORDER),
    /// [`BATCH_MIN_ITEMS_PER_WORKER`](crate::batch::BATCH_MIN_ITEMS_PER_WORKER)), and only among
    /// strategies whose item engine implements the operation.
    #[default]
    Auto,
    /// A loop over the batch on the calling thread; each item is one OpenBLAS call with the
    /// whole thread budget (OpenBLAS decides whether a small matrix is worth its threads).
    Loop,
    /// rayon over the batch on a pool of the budget's size; each item is one single-threaded
    /// OpenBLAS call.
    RayonBlas,
    /// rayon over the batch on a pool of the budget's size; each item runs on the `rayon`
    /// engine (parla's own kernels) with one thread. Returns
    /// [`Error::Unsupported`](crate::Error::Unsupported) for operations that engine does not
    /// implement yet.
    Rayon,
}

impl Strategy {
    /// Every strategy, in the order `auto, loop, rayon-blas, rayon`.
    pub const ALL: [Strategy; 4] = [
        Strategy::Auto,
        Strategy::Loop,
        Strategy::RayonBlas,
        Strategy::Rayon,
    ];

    /// The name used in reports and on the command line.
    ///
    /// ```
    /// assert_eq!(parla::batch::Strategy::RayonBlas.name(), "rayon-blas");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Auto => "auto",
            Strategy::Loop => "loop",
            Strategy::RayonBlas => "rayon-blas",
            Strategy::Rayon => "rayon",
        }
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

/// The error of [`Strategy::from_str`]: the text was not one of the four strategy names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownStrategy(pub String);

impl fmt::Display for UnknownStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown batch strategy {:?}; expected one of auto, loop, rayon-blas, rayon",
            self.0
        )
    }
}

impl std::error::Error for UnknownStrategy {}

impl FromStr for Strategy {
    type Err = UnknownStrategy;

    /// Parses `auto`, `loop`, `rayon-blas` or `rayon` (exactly, lower case).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Strategy::ALL
            .into_iter()
            .find(|e| e.name() == s)
            .ok_or_else(|| UnknownStrategy(s.to_string()))
    }
}
