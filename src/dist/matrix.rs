//! `DistMatrix<T>`: a matrix in ScaLAPACK's 2-D block-cyclic layout over a [`Grid`].

use ndarray::{Array2, ArrayBase, ArrayView2, ArrayViewMut2, Data, Ix2, ShapeBuilder};

use super::grid::Grid;
use super::layout::{global_to_local, local_to_global, numroc};
use super::DistScalar;
use crate::error::{Error, Result};

/// The largest dimension and local element count: ScaLAPACK's and MPI's counts are 32-bit.
pub(crate) const MAX_I32: usize = i32::MAX as usize;

/// A real `m × n` matrix distributed over a [`Grid`] in 2-D block-cyclic layout.
///
/// The matrix is cut into `nb × nb` blocks (the last block row and column may be smaller);
/// block `(I, J)` lives on process `(I mod pr, J mod pc)`, and each rank keeps its blocks in
/// one column-major local array of `mloc × nloc` elements (leading dimension `max(1, mloc)`),
/// exactly ScaLAPACK's layout with `MB = NB = nb` and source process `(0, 0)`. No rank ever
/// holds the whole matrix unless [`DistMatrix::gather`] asks for it.
///
/// ```no_run
/// use parla::dist::{self, DistMatrix, Grid};
/// let universe = dist::initialize()?;
/// let grid = Grid::new(&universe.world())?;
/// // Every rank fills its own blocks: no single-node copy of the matrix exists.
/// let a = DistMatrix::<f64>::from_fn(&grid, 1000, 1000, 64, |i, j| (i + 2 * j) as f64)?;
/// if let Some(full) = a.gather(0)? {
///     assert_eq!(full[[3, 4]], 11.0); // only rank 0 gets the array
/// }
/// # Ok::<(), parla::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct DistMatrix<T> {
    pub(crate) grid: Grid,
    pub(crate) m: usize,
    pub(crate) n: usize,
    pub(crate) nb: usize,
    /// This rank's blocks, column-major (`(mloc, nloc)` in Fortran order).
    pub(crate) local: Array2<T>,
}

/// Collective checks shared by every constructor: the ranks agree on `(m, n, nb)` and the
/// values fit ScaLAPACK's and MPI's 32-bit counts.
fn check_dims(grid: &Grid, op: &'static str, m: usize, n: usize, nb: usize) -> Result<()> {
    grid.agree(
        op,
        &[("rows", m as u64), ("columns", n as u64), ("nb", nb as u64)],
    )?;
    if nb == 0 {
        return Err(Error::InvalidArgument {
            op,
            name: "nb",
            reason: "the block size must be at least 1".into(),
        });
    }
    for (what, value) in [("rows", m), ("columns", n), ("block size", nb)] {
        if value > MAX_I32 {
            return Err(Error::TooLarge {
                op,
                what,
                value,
                max: MAX_I32,
            });
        }
    }
    // Process (0, 0) holds the most elements; every rank computes the same answer.
    let (pr, pc) = grid.shape();
    let biggest = numroc(m, nb, 0, pr) as u128 * numroc(n, nb, 0, pc) as u128;
    if biggest > MAX_I32 as u128 {
        return Err(Error::TooLarge {
            op,
            what: "local elements per rank",
            value: usize::try_from(biggest).unwrap_or(usize::MAX),
            max: MAX_I32,
        });
    }
    Ok(())
}

fn check_root(grid: &Grid, op: &'static str, root: usize) -> Result<()> {
    grid.agree(op, &[("root", root as u64)])?;
    if root >= grid.size() {
        return Err(Error::InvalidArgument {
            op,
            name: "root",
            reason: format!("rank {root} is not in a grid of {} ranks", grid.size()),
        });
    }
    Ok(())
}

impl<T: DistScalar> DistMatrix<T> {
    /// An `m × n` matrix of zeros in blocks of `nb` (collective).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] (on every rank) when the ranks pass different `m`, `n` or
    /// `nb`, or `nb = 0`; [`Error::TooLarge`] when a dimension or one rank's element count
    /// exceeds `i32::MAX` (ScaLAPACK's and MPI's integers).
    pub fn zeros(grid: &Grid, m: usize, n: usize, nb: usize) -> Result<Self> {
        check_dims(grid, "dist::zeros", m, n, nb)?;
        Ok(Self::zeros_unchecked(grid, m, n, nb))
    }

    pub(crate) fn zeros_unchecked(grid: &Grid, m: usize, n: usize, nb: usize) -> Self {
        let (pr, pc) = grid.shape();
        let (r, c) = grid.coords();
        let (mloc, nloc) = (numroc(m, nb, r, pr), numroc(n, nb, c, pc));
        DistMatrix {
            grid: grid.clone(),
            m,
            n,
            nb,
            local: Array2::zeros((mloc, nloc).f()),
        }
    }

    /// An `m × n` matrix whose element `(i, j)` (global indices) is `f(i, j)`; each rank calls
    /// `f` for its own elements only, so the whole matrix never exists on one node
    /// (collective).
    ///
    /// # Errors
    /// As [`DistMatrix::zeros`].
    pub fn from_fn(
        grid: &Grid,
        m: usize,
        n: usize,
        nb: usize,
        mut f: impl FnMut(usize, usize) -> T,
    ) -> Result<Self> {
        check_dims(grid, "dist::from_fn", m, n, nb)?;
        let mut d = Self::zeros_unchecked(grid, m, n, nb);
        let (pr, pc) = grid.shape();
        let (r, c) = grid.coords();
        for ((li, lj), x) in d.local.indexed_iter_mut() {
            *x = f(
                local_to_global(li, nb, r, pr),
                local_to_global(lj, nb, c, pc),
            );
        }
        Ok(d)
    }

    /// Distributes `a`, held by rank `root`, in blocks of `nb` (collective; other ranks pass
    /// `None`, and what they pass is ignored).
    ///
    /// The root sends each rank its blocks in one message ([`Grid::bytes_sent`] counts them);
    /// it never holds more than one rank's packed blocks besides `a`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] (on every rank) when the ranks disagree on `root` or `nb`,
    /// `root` is not a rank of the grid, or the root passed `None`; [`Error::TooLarge`] as
    /// [`DistMatrix::zeros`].
    pub fn scatter<S: Data<Elem = T>>(
        grid: &Grid,
        root: usize,
        a: Option<&ArrayBase<S, Ix2>>,
        nb: usize,
    ) -> Result<Self> {
        const OP: &str = "dist::scatter";
        grid.agree(OP, &[("nb", nb as u64)])?;
        check_root(grid, OP, root)?;
        let mut header = [0u64; 3];
        if grid.rank() == root {
            if let Some(a) = a {
                header = [1, a.nrows() as u64, a.ncols() as u64];
            }
        }
        grid.bcast_header(root, &mut header);
        if header[0] == 0 {
            return Err(Error::InvalidArgument {
                op: OP,
                name: "a",
                reason: format!("the root rank {root} passed no matrix"),
            });
        }
        let (m, n) = (header[1] as usize, header[2] as usize);
        check_dims(grid, OP, m, n, nb)?;
        let mut d = Self::zeros_unchecked(grid, m, n, nb);
        let (pr, pc) = grid.shape();
        match a {
            Some(a) if grid.rank() == root => {
                let mut buf = Vec::new();
                for rank in 0..grid.size() {
                    let (r, c) = (rank / pc, rank % pc);
                    if rank == root {
                        pack_into(a.view(), nb, (r, c), (pr, pc), &mut d.local.view_mut());
                    } else {
                        let (mloc, nloc) = (numroc(m, nb, r, pr), numroc(n, nb, c, pc));
                        buf.clear();
                        buf.resize(mloc * nloc, T::zero());
                        let mut v = ArrayViewMut2::from_shape((mloc, nloc).f(), &mut buf[..])
                            .expect("buffer sized from numroc");
                        pack_into(a.view(), nb, (r, c), (pr, pc), &mut v);
                        grid.send(rank, &buf[..]);
                    }
                }
            }
            _ => {
                let slice = d
                    .local
                    .as_slice_memory_order_mut()
                    .expect("local blocks are contiguous");
                grid.recv(root, slice);
            }
        }
        Ok(d)
    }

    /// Collects the whole matrix on rank `root` (collective): `Some(array)` there (standard
    /// C order), `None` on every other rank. Bit-exact: elements are copied, never computed.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] (on every rank) when the ranks disagree on `root` or it is
    /// not a rank of the grid.
    pub fn gather(&self, root: usize) -> Result<Option<Array2<T>>> {
        const OP: &str = "dist::gather";
        check_root(&self.grid, OP, root)?;
        let grid = &self.grid;
        if grid.rank() != root {
            let slice = self
                .local
                .as_slice_memory_order()
                .expect("local blocks are contiguous");
            grid.send(root, slice);
            return Ok(None);
        }
        let (pr, pc) = grid.shape();
        let mut out = Array2::zeros((self.m, self.n));
        let mut buf = Vec::new();
        for rank in 0..grid.size() {
            let (r, c) = (rank / pc, rank % pc);
            if rank == root {
                unpack_from(self.local.view(), self.nb, (r, c), (pr, pc), &mut out);
            } else {
                let (mloc, nloc) = (
                    numroc(self.m, self.nb, r, pr),
                    numroc(self.n, self.nb, c, pc),
                );
                buf.clear();
                buf.resize(mloc * nloc, T::zero());
                grid.recv(rank, &mut buf[..]);
                let v = ArrayView2::from_shape((mloc, nloc).f(), &buf[..])
                    .expect("buffer sized from numroc");
                unpack_from(v, self.nb, (r, c), (pr, pc), &mut out);
            }
        }
        Ok(Some(out))
    }
}

impl<T> DistMatrix<T> {
    /// `(m, n)`: the global shape.
    pub fn shape(&self) -> (usize, usize) {
        (self.m, self.n)
    }

    /// The block size `nb` (blocks are `nb × nb`).
    pub fn nb(&self) -> usize {
        self.nb
    }

    /// The grid the matrix lives on.
    pub fn grid(&self) -> &Grid {
        &self.grid
    }

    /// This rank's blocks as one column-major `mloc × nloc` view: local element `(li, lj)` is
    /// global element `(global_row(li), global_col(lj))`.
    pub fn local(&self) -> ArrayView2<'_, T> {
        self.local.view()
    }

    /// This rank's blocks, mutable (see [`DistMatrix::local`]).
    pub fn local_mut(&mut self) -> ArrayViewMut2<'_, T> {
        self.local.view_mut()
    }

    /// The global row of local row `li` on this rank.
    pub fn global_row(&self, li: usize) -> usize {
        local_to_global(li, self.nb, self.grid.inner.myrow, self.grid.inner.pr)
    }

    /// The global column of local column `lj` on this rank.
    pub fn global_col(&self, lj: usize) -> usize {
        local_to_global(lj, self.nb, self.grid.inner.mycol, self.grid.inner.pc)
    }

    /// Where global element `(i, j)` lives: `(grid rank, local row, local column)`.
    pub fn owner(&self, i: usize, j: usize) -> (usize, usize, usize) {
        let (r, li) = global_to_local(i, self.nb, self.grid.inner.pr);
        let (c, lj) = global_to_local(j, self.nb, self.grid.inner.pc);
        (r * self.grid.inner.pc + c, li, lj)
    }

    /// This rank's blocks one by one: `((first global row, first global column), view)`,
    /// column of blocks by column of blocks.
    pub fn local_blocks(&self) -> Vec<((usize, usize), ArrayView2<'_, T>)> {
        let (mloc, nloc) = self.local.dim();
        let mut out = Vec::new();
        for lj in (0..nloc).step_by(self.nb) {
            for li in (0..mloc).step_by(self.nb) {
                let v = self.local.slice(ndarray::s![
                    li..(li + self.nb).min(mloc),
                    lj..(lj + self.nb).min(nloc)
                ]);
                out.push(((self.global_row(li), self.global_col(lj)), v));
            }
        }
        out
    }
}

/// Copies the blocks of process `(r, c)` out of the global `a` into `dst` (its local array).
fn pack_into<T: Copy>(
    a: ArrayView2<T>,
    nb: usize,
    (r, c): (usize, usize),
    (pr, pc): (usize, usize),
    dst: &mut ArrayViewMut2<T>,
) {
    let (mloc, nloc) = dst.dim();
    let rows: Vec<usize> = (0..mloc).map(|li| local_to_global(li, nb, r, pr)).collect();
    for lj in 0..nloc {
        let gj = local_to_global(lj, nb, c, pc);
        let src = a.column(gj);
        let mut col = dst.column_mut(lj);
        for (li, &gi) in rows.iter().enumerate() {
            col[li] = src[gi];
        }
    }
}

/// Copies the local array `src` of process `(r, c)` into its places in the global `out`.
fn unpack_from<T: Copy>(
    src: ArrayView2<T>,
    nb: usize,
    (r, c): (usize, usize),
    (pr, pc): (usize, usize),
    out: &mut Array2<T>,
) {
    let (mloc, nloc) = src.dim();
    let rows: Vec<usize> = (0..mloc).map(|li| local_to_global(li, nb, r, pr)).collect();
    for lj in 0..nloc {
        let gj = local_to_global(lj, nb, c, pc);
        let col = src.column(lj);
        let mut dst = out.column_mut(gj);
        for (li, &gi) in rows.iter().enumerate() {
            dst[gi] = col[li];
        }
    }
}
