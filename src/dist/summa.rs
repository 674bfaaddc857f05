//! `dist::gemm` / `dist::matmul`: SUMMA (van de Geijn & Watts, 1997) over rsmpi, with each
//! rank's local update run by a parla engine.
//!
//! For every block column `kb` of `A` (= block row `kb` of `B`): the process column that owns
//! it broadcasts its piece of `A` along each process row, the process row that owns block row
//! `kb` of `B` broadcasts its piece along each process column, and every rank adds the
//! product of the two panels to its blocks of `C`. Consecutive blocks are collected into a
//! panel of about [`PANEL`] columns before the local GEMM runs, so the engine sees products
//! with a useful inner dimension even for small `nb`; this changes neither the messages nor
//! their sizes.

use ndarray::{Array2, ArrayView2, ShapeBuilder};

use super::grid::Grid;
use super::layout::numroc;
use super::matrix::DistMatrix;
use super::DistScalar;
use crate::decomp::Trans;
use crate::error::{Error, Result};
use crate::exec::Exec;

/// Inner dimension the local GEMM is given at least (when `k` allows): panels of blocks are
/// collected up to this width before each local update.
pub const PANEL: usize = 256;

/// `C ← α A B + β C` on distributed matrices (SUMMA); each rank's local products run on
/// `exec` (any engine: `blas`, `rayon-blas`, `rayon`, `auto`, with its thread count per rank).
///
/// `A: m × k`, `B: k × n`, `C: m × n` must live on the same grid with the same block size.
/// BLAS semantics: with `β = 0` the old `C` is never read. Collective: every rank calls it
/// with matrices of the same shapes.
///
/// Communication: this rank sends `mloc(A)·kloc(A)·(pc − 1) + kloc(B)·nloc(B)·(pr − 1)`
/// elements (see [`summa_bytes`]), counted in [`Grid::bytes_sent`].
///
/// # Errors
/// The same error on every rank: [`Error::ShapeMismatch`] when the shapes do not fit;
/// [`Error::InvalidArgument`] when the matrices live on different grids, have different block
/// sizes, or the ranks pass different shapes; [`Error::Unsupported`] when `exec`'s engine
/// cannot run `gemm`.
pub fn gemm<T: DistScalar>(
    exec: &Exec,
    alpha: T,
    a: &DistMatrix<T>,
    b: &DistMatrix<T>,
    beta: T,
    c: &mut DistMatrix<T>,
) -> Result<()> {
    const OP: &str = "dist::gemm";
    let grid = a.grid.clone();
    let same = std::rc::Rc::ptr_eq(&grid.inner, &b.grid.inner)
        && std::rc::Rc::ptr_eq(&grid.inner, &c.grid.inner);
    if grid.any(!same) {
        return Err(Error::InvalidArgument {
            op: OP,
            name: "grid",
            reason: "A, B and C must live on the same grid".into(),
        });
    }
    grid.agree(
        OP,
        &[
            ("rows of A", a.m as u64),
            ("columns of A", a.n as u64),
            ("rows of B", b.m as u64),
            ("columns of B", b.n as u64),
            ("rows of C", c.m as u64),
            ("columns of C", c.n as u64),
        ],
    )?;
    if a.n != b.m {
        return Err(Error::ShapeMismatch {
            op: OP,
            left: vec![a.m, a.n],
            right: vec![b.m, b.n],
        });
    }
    if (c.m, c.n) != (a.m, b.n) {
        return Err(Error::ShapeMismatch {
            op: OP,
            left: vec![a.m, b.n],
            right: vec![c.m, c.n],
        });
    }
    if a.nb != b.nb || a.nb != c.nb {
        return Err(Error::InvalidArgument {
            op: OP,
            name: "nb",
            reason: format!(
                "A, B and C need one block size, got {}, {} and {}",
                a.nb, b.nb, c.nb
            ),
        });
    }
    // The engine check runs on every rank before any transfer.
    let plan = exec.plan(
        crate::Op::Gemm,
        T::KIND,
        crate::Shape::Product {
            m: c.m,
            n: c.n,
            k: a.n,
        },
    );
    if grid.any(plan.is_err()) {
        return Err(plan.err().unwrap_or(Error::InvalidArgument {
            op: OP,
            name: "exec",
            reason: "another rank cannot run gemm with this Exec".into(),
        }));
    }
    let result = summa(exec, alpha, a, b, beta, c, &grid);
    if grid.any(result.is_err()) {
        return Err(result.err().unwrap_or(Error::InvalidArgument {
            op: OP,
            name: "exec",
            reason: "the local product failed on another rank".into(),
        }));
    }
    Ok(())
}

/// `A B` as a new distributed matrix on the grid of `A` (SUMMA; see [`gemm`]).
///
/// # Errors
/// As [`gemm`].
///
/// ```no_run
/// use parla::dist::{self, DistMatrix, Grid};
/// use parla::{Engine, Exec};
/// let universe = dist::initialize()?;
/// let grid = Grid::new(&universe.world())?;
/// let a = DistMatrix::<f64>::from_fn(&grid, 500, 300, 64, |i, j| (i * j % 7) as f64)?;
/// let b = DistMatrix::<f64>::from_fn(&grid, 300, 200, 64, |i, j| (i + j) as f64)?;
/// let c = dist::matmul(&Exec::new(Engine::Rayon, 1)?, &a, &b)?;
/// assert_eq!(c.shape(), (500, 200));
/// # Ok::<(), parla::Error>(())
/// ```
pub fn matmul<T: DistScalar>(
    exec: &Exec,
    a: &DistMatrix<T>,
    b: &DistMatrix<T>,
) -> Result<DistMatrix<T>> {
    let mut c = DistMatrix::zeros_unchecked(&a.grid, a.m, b.n, a.nb);
    gemm(exec, T::one(), a, b, T::zero(), &mut c).map_err(|e| e.with_op("dist::matmul"))?;
    Ok(c)
}

/// Bytes SUMMA makes grid process `(r, c)` send for `A: m × k` times `B: k × n` in blocks of
/// `nb` on a `pr × pc` grid, with elements of `elem` bytes: the exact count
/// [`Grid::bytes_sent`] grows by in [`gemm`].
///
/// Summed over the grid it is `(m·k·(pc − 1) + k·n·(pr − 1))·elem`; on a `√P × √P` grid
/// with square matrices that is `2n²(√P − 1)·elem`, i.e. `≈ 2n²/√P` words per rank.
pub fn summa_bytes(
    (m, k, n): (usize, usize, usize),
    nb: usize,
    (pr, pc): (usize, usize),
    (r, c): (usize, usize),
    elem: usize,
) -> u64 {
    let a = numroc(m, nb, r, pr) as u64 * numroc(k, nb, c, pc) as u64 * (pc as u64 - 1);
    let b = numroc(k, nb, r, pr) as u64 * numroc(n, nb, c, pc) as u64 * (pr as u64 - 1);
    (a + b) * elem as u64
}

fn summa<T: DistScalar>(
    exec: &Exec,
    alpha: T,
    a: &DistMatrix<T>,
    b: &DistMatrix<T>,
    beta: T,
    c: &mut DistMatrix<T>,
    grid: &Grid,
) -> Result<()> {
    let (pr, pc) = grid.shape();
    let (myrow, mycol) = grid.coords();
    let (k, nb) = (a.n, a.nb);
    let (mloc, nloc) = c.local.dim();
    let mut first = true;
    let mut result = Ok(());
    if k == 0 || alpha == T::zero() {
        scale(&mut c.local, beta);
        return Ok(());
    }
    let kblocks = k.div_ceil(nb);
    let per_panel = (PANEL / nb).max(1);
    let mut apanel: Vec<T> = Vec::new();
    let mut bpanel: Vec<T> = Vec::new();
    let mut kb0 = 0;
    while kb0 < kblocks {
        let kb1 = (kb0 + per_panel).min(kblocks);
        let width = (kb1 * nb).min(k) - kb0 * nb;
        apanel.clear();
        apanel.resize(mloc * width, T::zero());
        bpanel.clear();
        bpanel.resize(width * nloc, T::zero());
        let mut off = 0;
        for kb in kb0..kb1 {
            let w = ((kb + 1) * nb).min(k) - kb * nb;
            // A: block column kb lives on process column kb % pc, at local column (kb / pc)·nb.
            let aseg = &mut apanel[off * mloc..(off + w) * mloc];
            let owner = kb % pc;
            if mycol == owner {
                let lj = (kb / pc) * nb;
                let src = a.local.slice(ndarray::s![.., lj..lj + w]);
                let mut dst = ndarray::ArrayViewMut2::from_shape((mloc, w).f(), &mut aseg[..])
                    .expect("panel sized from the local shape");
                dst.assign(&src);
            }
            grid.bcast_row(owner, aseg);
            // B: block row kb lives on process row kb % pr, at local row (kb / pr)·nb; the
            // panel is row-major so each block row is one contiguous message.
            let bseg = &mut bpanel[off * nloc..(off + w) * nloc];
            let owner = kb % pr;
            if myrow == owner {
                let li = (kb / pr) * nb;
                let src = b.local.slice(ndarray::s![li..li + w, ..]);
                let mut dst = ndarray::ArrayViewMut2::from_shape((w, nloc), &mut bseg[..])
                    .expect("panel sized from the local shape");
                dst.assign(&src);
            }
            grid.bcast_col(owner, bseg);
            off += w;
        }
        if mloc > 0 && nloc > 0 && result.is_ok() {
            let av = ArrayView2::from_shape((mloc, width).f(), &apanel[..])
                .expect("panel sized from the local shape");
            let bv = ArrayView2::from_shape((width, nloc), &bpanel[..])
                .expect("panel sized from the local shape");
            let b_eff = if first { beta } else { T::one() };
            result = exec.gemm(alpha, &av, Trans::No, &bv, Trans::No, b_eff, &mut c.local);
        }
        first = false;
        kb0 = kb1;
    }
    result
}

fn scale<T: DistScalar>(c: &mut Array2<T>, beta: T) {
    if beta == T::zero() {
        c.fill(T::zero());
    } else if beta != T::one() {
        c.map_inplace(|x| *x = *x * beta);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_total_matches_the_closed_form() {
        for &(m, k, n, nb) in &[
            (300, 300, 300, 32),
            (100, 37, 250, 8),
            (2048, 2048, 2048, 64),
        ] {
            for &(pr, pc) in &[(1, 1), (1, 2), (2, 1), (2, 2), (2, 3), (3, 1)] {
                let total: u64 = (0..pr)
                    .flat_map(|r| (0..pc).map(move |c| (r, c)))
                    .map(|rc| summa_bytes((m, k, n), nb, (pr, pc), rc, 8))
                    .sum();
                let closed = ((m * k * (pc - 1) + k * n * (pr - 1)) * 8) as u64;
                assert_eq!(total, closed);
            }
        }
        // The measured facts in mpi-notes.md: n = 2048 on 2 × 1 sends n² doubles, on 2 × 2 2n².
        let total = |pr, pc| -> u64 {
            (0..pr * pc)
                .map(|r| summa_bytes((2048, 2048, 2048), 64, (pr, pc), (r / pc, r % pc), 8))
                .sum()
        };
        assert_eq!(total(2, 1), 32 << 20);
        assert_eq!(total(2, 2), 64 << 20);
    }
}
