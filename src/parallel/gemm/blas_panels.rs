//! GEMM cut into blocks of C, each computed by single-threaded OpenBLAS on a rayon worker
//! (engine `rayon-blas`).
//!
//! Split: C is cut into `threads` panels along one side (see [`split`] for which); panel `i`
//! needs the matching panel of A (row split) or of B (column split) and all
//! of the other operand. Panels are independent — each writes its own part of C — so the
//! parallel loop is over panels and nothing is shared for writing. One panel per thread matched
//! OpenBLAS's own threading at n ≥ 1024 where measured (`parla compare --ops gemm`); finer
//! splits (and the BLIS loop structure) belong to the pure-Rust `rayon` engine
//! ([`blis_loops`](super::blis_loops)).

use ndarray::{ArrayView2, ArrayViewMut2, Axis};
use rayon::prelude::*;

use crate::blas;
use crate::error::Result;
use crate::parallel::Team;
use crate::scalar::Scalar;

/// Which side of C is cut, and into how many panels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Split {
    /// `Axis(0)`: rows of C (and of A); `Axis(1)`: columns of C (and of B).
    pub axis: Axis,
    /// Rows or columns per panel (the last may be shorter).
    pub panel: usize,
}

/// The split of an `m × n` C over `threads` workers: along C's contiguous side (columns of a
/// row-major C, rows of a column-major one), unless that side is less than half the other.
///
/// Why the contiguous side: to BLAS it is the `M` dimension of a column-major call, the one
/// OpenBLAS's own threads divide. Measured side by side (`cargo bench --bench gemm --
/// dgemm_engines`, 2 threads, row-major C): splitting columns ran at 1.015× / 0.990× OpenBLAS's
/// threading at n = 1024 / 2048, splitting rows at 0.991× / 0.974×.
pub(crate) fn split(m: usize, n: usize, threads: usize, row_major: bool) -> Split {
    let (contiguous, other) = if row_major {
        ((Axis(1), n), (Axis(0), m))
    } else {
        ((Axis(0), m), (Axis(1), n))
    };
    let (axis, len) = if 2 * contiguous.1 >= other.1 {
        contiguous
    } else {
        other
    };
    Split {
        axis,
        panel: len.div_ceil(threads.max(1)).max(1),
    }
}

/// `C ← α A B + β C` for non-empty `A: m × k`, `B: k × n`, `C: m × n` (`k ≥ 1`), on `threads`
/// rayon workers each calling single-threaded OpenBLAS on its panel.
pub(crate) fn gemm<T: Scalar>(
    op: &'static str,
    team: &Team,
    alpha: T,
    a: ArrayView2<T>,
    b: ArrayView2<T>,
    beta: T,
    c: &mut ArrayViewMut2<T>,
) -> Result<()> {
    let threads = team.threads();
    let (m, n) = c.dim();
    if threads <= 1 {
        return blas::level3::gemm(op, 1, alpha, a, b, beta, c);
    }
    let row_major = c.strides()[1] == 1 || n == 1;
    let sp = split(m, n, threads, row_major);
    team.install(|| {
        if sp.axis == Axis(0) {
            c.axis_chunks_iter_mut(Axis(0), sp.panel)
                .into_par_iter()
                .zip(a.axis_chunks_iter(Axis(0), sp.panel).into_par_iter())
                .try_for_each(|(mut cp, ap)| blas::level3::gemm(op, 1, alpha, ap, b, beta, &mut cp))
        } else {
            c.axis_chunks_iter_mut(Axis(1), sp.panel)
                .into_par_iter()
                .zip(b.axis_chunks_iter(Axis(1), sp.panel).into_par_iter())
                .try_for_each(|(mut cp, bp)| blas::level3::gemm(op, 1, alpha, a, bp, beta, &mut cp))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_follow_the_contiguous_side_unless_it_is_short() {
        // (m, n, threads, row-major C) -> (axis, panel)
        let table = [
            ((1024, 1024, 2, true), (1, 512)),
            ((1024, 1024, 2, false), (0, 512)),
            ((7, 1000, 3, true), (1, 334)),
            ((7, 1000, 3, false), (1, 334)),
            ((1000, 7, 2, true), (0, 500)),
            ((5, 3, 8, false), (0, 1)),
            ((1, 1, 1, true), (1, 1)),
        ];
        for ((m, n, t, row_major), (axis, panel)) in table {
            assert_eq!(
                split(m, n, t, row_major),
                Split {
                    axis: Axis(axis),
                    panel
                },
                "{m}x{n} on {t}"
            );
        }
    }
}
