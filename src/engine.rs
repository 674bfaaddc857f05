//! The engines an operation can run on.

use std::fmt;
use std::str::FromStr;

/// Who splits the work and who computes each piece (see the crate docs for the table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Engine {
    /// Picks one of the concrete engines (and the thread count) per call from the problem's
    /// size and shape, with named, benchmarked thresholds (see [`crate::Exec::plan`]).
    Auto,
    /// OpenBLAS (and its LAPACK) with OpenBLAS's own threads.
    Blas,
    /// parla cuts the work into blocks on a rayon pool; each block runs single-threaded OpenBLAS.
    RayonBlas,
    /// parla cuts the work into blocks on a rayon pool; each block runs parla's pure-Rust kernels.
    Rayon,
}

impl Engine {
    /// Every engine, in the order `auto, blas, rayon-blas, rayon`.
    pub const ALL: [Engine; 4] = [Engine::Auto, Engine::Blas, Engine::RayonBlas, Engine::Rayon];

    /// The name used by `PARLA_BACKEND` and the CLI.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Auto => "auto",
            Engine::Blas => "blas",
            Engine::RayonBlas => "rayon-blas",
            Engine::Rayon => "rayon",
        }
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

/// The error of [`Engine::from_str`]: the text was not one of the four engine names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownEngine(pub String);

impl fmt::Display for UnknownEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown engine {:?}; expected one of auto, blas, rayon-blas, rayon (any case)",
            self.0
        )
    }
}

impl std::error::Error for UnknownEngine {}

impl FromStr for Engine {
    type Err = UnknownEngine;

    /// Parses `auto`, `blas`, `rayon-blas` or `rayon`, ignoring ASCII case (`Rayon`,
    /// `BLAS`); no surrounding spaces, no `_` for `-`. [`Engine::name`] gives the canonical
    /// (lower-case) spelling back.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Engine::ALL
            .into_iter()
            .find(|e| e.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownEngine(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_honour_width_and_alignment_in_tables() {
        assert_eq!(format!("{:>12}|", Engine::Rayon), "       rayon|");
        assert_eq!(format!("{:<12}|", Engine::RayonBlas), "rayon-blas  |");
        assert_eq!(format!("{:^6}|", Engine::Blas), " blas |");
        assert_eq!(
            format!("{:>12}|", crate::batch::Strategy::Loop),
            "        loop|"
        );
    }
}
