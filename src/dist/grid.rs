//! The process grid: `pr × pc` MPI ranks, row-major (rank `r` is process `(r / pc, r % pc)`,
//! BLACS's `"Row"` order), with a communicator per process row and per process column and
//! parla's own count of the bytes this rank sends.

use std::cell::Cell;
use std::mem::ManuallyDrop;
use std::rc::Rc;

use mpi::collective::SystemOperation;
use mpi::datatype::Equivalence;
use mpi::topology::{Color, Communicator, SimpleCommunicator};
use mpi::traits::*;

use super::layout::near_square;
use crate::error::{Error, Result};

/// A `pr × pc` grid of MPI processes that distributed matrices live on.
///
/// Built collectively (every rank of the communicator calls the constructor with the same
/// arguments). The grid owns a duplicate of the communicator, so parla's messages never mix
/// with the caller's. Cloning is cheap (the clone shares the communicators and counters).
/// MPI is called only from the thread that owns the grid (`Threading::Funneled`); the type is
/// neither `Send` nor `Sync`.
#[derive(Clone)]
pub struct Grid {
    pub(crate) inner: Rc<Inner>,
}

pub(crate) struct Inner {
    // `ManuallyDrop`: freed in `Drop` only while MPI is still running (a grid that outlives
    // the `Universe` must not call `MPI_Comm_free` after `MPI_Finalize`, which aborts).
    pub(crate) comm: ManuallyDrop<SimpleCommunicator>,
    /// The processes of this rank's process row (size `pc`; rank in it = `mycol`).
    pub(crate) row: ManuallyDrop<SimpleCommunicator>,
    /// The processes of this rank's process column (size `pr`; rank in it = `myrow`).
    pub(crate) col: ManuallyDrop<SimpleCommunicator>,
    pub(crate) pr: usize,
    pub(crate) pc: usize,
    pub(crate) myrow: usize,
    pub(crate) mycol: usize,
    bytes_sent: Cell<u64>,
    messages_sent: Cell<u64>,
    #[cfg(feature = "scalapack")]
    pub(crate) blacs: std::cell::OnceCell<super::scalapack::Blacs>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        #[cfg(feature = "scalapack")]
        if let Some(b) = self.blacs.take() {
            b.release();
        }
        if !mpi::environment::is_finalized() {
            // SAFETY: each field is dropped exactly once, here, and never used again.
            unsafe {
                ManuallyDrop::drop(&mut self.row);
                ManuallyDrop::drop(&mut self.col);
                ManuallyDrop::drop(&mut self.comm);
            }
        }
    }
}

impl std::fmt::Debug for Grid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Grid")
            .field("shape", &self.shape())
            .field("coords", &self.coords())
            .field("bytes_sent", &self.bytes_sent())
            .finish()
    }
}

impl Grid {
    /// The near-square grid over every rank of `comm`: `pr` is the largest divisor of the
    /// number of ranks `P` not above `√P`, `pc = P / pr` (4 → 2 × 2, 6 → 2 × 3, 8 → 2 × 4).
    ///
    /// A prime `P` gives a `1 × P` grid: correct, but SUMMA then broadcasts all of `A` to every
    /// rank (more traffic than a square grid); with 5 or 7 ranks, 4 or 6 usually run faster.
    ///
    /// # Errors
    /// As [`Grid::with_shape`].
    pub fn new<C: Communicator>(comm: &C) -> Result<Grid> {
        let (pr, pc) = near_square(comm.size() as usize);
        Grid::with_shape(comm, pr, pc)
    }

    /// The `pr × pc` grid over the ranks of `comm` (which must have exactly `pr · pc` ranks).
    ///
    /// Collective: every rank checks that all ranks asked for the same shape before anything
    /// else is created, so a disagreement is an error on every rank, not a hang.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] (the same on every rank) when `pr` or `pc` is 0, when
    /// `pr · pc` is not the number of ranks, or when the ranks disagree on the shape.
    pub fn with_shape<C: Communicator>(comm: &C, pr: usize, pc: usize) -> Result<Grid> {
        const OP: &str = "dist::Grid";
        let comm = comm.duplicate();
        agree_on(&comm, OP, &[("pr", pr as u64), ("pc", pc as u64)])?;
        let size = comm.size() as usize;
        if pr == 0 || pc == 0 || pr.checked_mul(pc) != Some(size) {
            return Err(Error::InvalidArgument {
                op: OP,
                name: "shape",
                reason: format!(
                    "a {pr} x {pc} grid needs {} ranks, the communicator has {size}",
                    pr.saturating_mul(pc)
                ),
            });
        }
        let rank = comm.rank() as usize;
        let (myrow, mycol) = (rank / pc, rank % pc);
        let row = split(&comm, myrow, mycol)?;
        let col = split(&comm, mycol, myrow)?;
        Ok(Grid {
            inner: Rc::new(Inner {
                comm: ManuallyDrop::new(comm),
                row: ManuallyDrop::new(row),
                col: ManuallyDrop::new(col),
                pr,
                pc,
                myrow,
                mycol,
                bytes_sent: Cell::new(0),
                messages_sent: Cell::new(0),
                #[cfg(feature = "scalapack")]
                blacs: std::cell::OnceCell::new(),
            }),
        })
    }

    /// `(pr, pc)`: process rows and columns.
    pub fn shape(&self) -> (usize, usize) {
        (self.inner.pr, self.inner.pc)
    }

    /// `(myrow, mycol)`: this rank's position in the grid.
    pub fn coords(&self) -> (usize, usize) {
        (self.inner.myrow, self.inner.mycol)
    }

    /// This rank's number in the grid's communicator (`myrow · pc + mycol`).
    pub fn rank(&self) -> usize {
        self.inner.myrow * self.inner.pc + self.inner.mycol
    }

    /// Number of ranks (`pr · pc`).
    pub fn size(&self) -> usize {
        self.inner.pr * self.inner.pc
    }

    /// The grid's communicator (a duplicate of the one it was built from).
    pub fn comm(&self) -> &SimpleCommunicator {
        &self.inner.comm
    }

    /// Bytes this rank has sent through parla's distributed operations since the grid was
    /// built (or [`Grid::reset_counters`]).
    ///
    /// Counted by parla, not by MPI: a point-to-point message counts its payload; a broadcast
    /// counts `payload × (group size − 1)` on its root — the volume a flat broadcast sends, and
    /// exactly the total that any broadcast tree moves (every other member receives the payload
    /// once), attributed to the rank that owns the data. Small validation messages (a few
    /// integers per call) are not counted.
    pub fn bytes_sent(&self) -> u64 {
        self.inner.bytes_sent.get()
    }

    /// Messages this rank has sent (a broadcast counts `group size − 1`), counted like
    /// [`Grid::bytes_sent`].
    pub fn messages_sent(&self) -> u64 {
        self.inner.messages_sent.get()
    }

    /// Sets [`Grid::bytes_sent`] and [`Grid::messages_sent`] back to 0 (on this rank).
    pub fn reset_counters(&self) {
        self.inner.bytes_sent.set(0);
        self.inner.messages_sent.set(0);
    }

    /// Sum of `bytes` over all ranks (collective).
    pub fn sum_over_ranks(&self, bytes: u64) -> u64 {
        let mut out = 0u64;
        self.inner
            .comm
            .all_reduce_into(&bytes, &mut out, SystemOperation::sum());
        out
    }

    /// Maximum of `x` over all ranks (collective).
    pub fn max_over_ranks(&self, x: f64) -> f64 {
        let mut out = 0f64;
        self.inner
            .comm
            .all_reduce_into(&x, &mut out, SystemOperation::max());
        out
    }

    pub(crate) fn count(&self, bytes: usize, messages: usize) {
        let i = &self.inner;
        i.bytes_sent.set(i.bytes_sent.get() + bytes as u64);
        i.messages_sent.set(i.messages_sent.get() + messages as u64);
    }

    /// Collective: every rank passes the same named values or every rank gets the same
    /// [`Error::InvalidArgument`] naming the first field they disagree on.
    pub(crate) fn agree(&self, op: &'static str, fields: &[(&'static str, u64)]) -> Result<()> {
        agree_on(&self.inner.comm, op, fields)
    }

    /// Collective: whether any rank passes `true`.
    pub(crate) fn any(&self, flag: bool) -> bool {
        let mut out = 0u8;
        self.inner
            .comm
            .all_reduce_into(&u8::from(flag), &mut out, SystemOperation::max());
        out != 0
    }

    /// Collective: the smallest `x` over all ranks.
    #[cfg(feature = "scalapack")]
    pub(crate) fn min_over_ranks(&self, x: i64) -> i64 {
        let mut out = 0i64;
        self.inner
            .comm
            .all_reduce_into(&x, &mut out, SystemOperation::min());
        out
    }

    /// Broadcast of `buf` along this rank's process row from process column `root`.
    pub(crate) fn bcast_row<T: Equivalence>(&self, root: usize, buf: &mut [T]) {
        let i = &self.inner;
        if i.pc > 1 {
            if i.mycol == root {
                self.count(std::mem::size_of_val(buf) * (i.pc - 1), i.pc - 1);
            }
            i.row.process_at_rank(root as i32).broadcast_into(buf);
        }
    }

    /// Broadcast of `buf` along this rank's process column from process row `root`.
    pub(crate) fn bcast_col<T: Equivalence>(&self, root: usize, buf: &mut [T]) {
        let i = &self.inner;
        if i.pr > 1 {
            if i.myrow == root {
                self.count(std::mem::size_of_val(buf) * (i.pr - 1), i.pr - 1);
            }
            i.col.process_at_rank(root as i32).broadcast_into(buf);
        }
    }

    /// Broadcast of a small header (not counted in [`Grid::bytes_sent`]) from grid rank `root`.
    pub(crate) fn bcast_header(&self, root: usize, buf: &mut [u64]) {
        if self.size() > 1 {
            self.inner
                .comm
                .process_at_rank(root as i32)
                .broadcast_into(buf);
        }
    }

    /// Point-to-point send of `buf` to grid rank `to`.
    pub(crate) fn send<T: Equivalence>(&self, to: usize, buf: &[T]) {
        self.count(std::mem::size_of_val(buf), 1);
        self.inner.comm.process_at_rank(to as i32).send(buf);
    }

    /// Point-to-point receive into `buf` from grid rank `from`.
    pub(crate) fn recv<T: Equivalence>(&self, from: usize, buf: &mut [T]) {
        self.inner
            .comm
            .process_at_rank(from as i32)
            .receive_into(buf);
    }
}

fn split(comm: &SimpleCommunicator, color: usize, key: usize) -> Result<SimpleCommunicator> {
    comm.split_by_color_with_key(Color::with_value(color as i32), key as i32)
        .ok_or(Error::InvalidArgument {
            op: "dist::Grid",
            name: "communicator",
            reason: "MPI_Comm_split returned no communicator".into(),
        })
}

/// One allreduce (max of `v` and of `!v`, i.e. max and min) decides whether all ranks agree.
fn agree_on(
    comm: &SimpleCommunicator,
    op: &'static str,
    fields: &[(&'static str, u64)],
) -> Result<()> {
    let send: Vec<u64> = fields.iter().flat_map(|&(_, v)| [v, !v]).collect();
    let mut recv = vec![0u64; send.len()];
    comm.all_reduce_into(&send[..], &mut recv[..], SystemOperation::max());
    for (i, &(name, _)) in fields.iter().enumerate() {
        let (max, min) = (recv[2 * i], !recv[2 * i + 1]);
        if max != min {
            return Err(Error::InvalidArgument {
                op,
                name,
                reason: format!("the ranks disagree: values range from {min} to {max}"),
            });
        }
    }
    Ok(())
}
