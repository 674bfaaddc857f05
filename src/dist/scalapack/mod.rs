//! ScaLAPACK on distributed matrices (feature `scalapack`): Debian's `libscalapack-openmpi`
//! (2.2.1) on the same [`DistMatrix`] layout parla's SUMMA uses, no copy in between.
//!
//! The BLACS grid is created from the [`Grid`]'s own communicator (`Csys2blacs_handle` on the
//! rsmpi communicator, then `Cblacs_gridinit` in row-major order, so BLACS process `(r, c)` is
//! the grid's `(r, c)`), once per grid, on the first call.
//!
//! Every function is collective and follows [`dist`](super)'s rules: the ranks agree on the
//! shapes before the call (the same typed error everywhere otherwise), and ScaLAPACK's `info`
//! is combined over all ranks after it, so a singular or indefinite matrix is the same
//! [`Error::Singular`] / [`Error::NotPositiveDefinite`] on every rank. Dimensions and
//! workspaces beyond ScaLAPACK's 32-bit integers are rejected before the call
//! ([`Error::TooLarge`]); the constructors of [`DistMatrix`] already keep every dimension and
//! every local array within `i32::MAX`.
//!
//! Threads: ScaLAPACK calls the BLAS of the process (OpenBLAS through Debian's alternatives)
//! with however many threads `OPENBLAS_NUM_THREADS` gives it; run one rank per core with
//! `OPENBLAS_NUM_THREADS=1`, or fewer ranks with more threads each.

mod ffi;

use std::os::raw::c_int;

use mpi::raw::AsRaw;

use super::grid::Grid;
use super::layout::numroc;
use super::matrix::{DistMatrix, MAX_I32};
use super::DistScalar;
use crate::error::{Error, Result};

/// A BLACS context on a grid.
pub(crate) struct Blacs {
    ctxt: c_int,
    system: c_int,
}

impl Blacs {
    /// Frees the BLACS grid and system handle (only while MPI is running: `Cblacs_gridexit`
    /// frees an MPI communicator).
    pub(crate) fn release(self) {
        if !mpi::environment::is_finalized() {
            // SAFETY: the context and handle were created by `Cblacs_gridinit` /
            // `Csys2blacs_handle` for this grid and are released exactly once, here.
            unsafe {
                ffi::Cblacs_gridexit(self.ctxt);
                ffi::Cfree_blacs_system_handle(self.system);
            }
        }
    }
}

impl Grid {
    /// The BLACS context of this grid (created collectively on the first call).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] (on every rank) when BLACS places a process elsewhere than
    /// the grid does.
    pub fn blacs_context(&self) -> Result<i32> {
        if let Some(b) = self.inner.blacs.get() {
            return Ok(b.ctxt);
        }
        let (pr, pc) = self.shape();
        let comm = self.inner.comm.as_raw();
        // SAFETY: `comm` is a valid communicator owned by this grid for its whole life;
        // BLACS duplicates it into its system context table.
        let system = unsafe { ffi::Csys2blacs_handle(comm) };
        let mut ctxt = system;
        let (mut np, mut nq, mut r, mut c) = (0, 0, 0, 0);
        // SAFETY: every rank of the communicator calls this collectively with the same
        // `pr × pc = size`; the order string is NUL-terminated; `ctxt` is written once.
        unsafe {
            ffi::Cblacs_gridinit(&mut ctxt, c"Row".as_ptr(), pr as c_int, pc as c_int);
            ffi::Cblacs_gridinfo(ctxt, &mut np, &mut nq, &mut r, &mut c);
        }
        let placed = (np, nq, r, c)
            == (
                pr as c_int,
                pc as c_int,
                self.inner.myrow as c_int,
                self.inner.mycol as c_int,
            );
        let blacs = Blacs { ctxt, system };
        if self.any(!placed) {
            blacs.release();
            return Err(Error::InvalidArgument {
                op: "dist::Grid::blacs_context",
                name: "grid",
                reason: "BLACS placed the processes differently from the grid".into(),
            });
        }
        let ctxt = blacs.ctxt;
        // The cell was empty above and nothing in between could fill it.
        let _ = self.inner.blacs.set(blacs);
        Ok(ctxt)
    }
}

impl<T> DistMatrix<T> {
    /// The ScaLAPACK array descriptor of this matrix (`DTYPE = 1`, context, `M`, `N`,
    /// `MB = NB = nb`, `RSRC = CSRC = 0`, `LLD = max(1, mloc)`).
    ///
    /// # Errors
    /// As [`Grid::blacs_context`]; [`Error::InvalidArgument`] if `descinit` rejects it.
    pub fn descriptor(&self) -> Result<[i32; 9]> {
        let ctxt = self.grid.blacs_context()?;
        let (pr, _) = self.grid.shape();
        let lld = numroc(self.m, self.nb, self.grid.inner.myrow, pr).max(1) as c_int;
        let (m, n, nb, zero) = (self.m as c_int, self.n as c_int, self.nb as c_int, 0);
        let mut desc = [0 as c_int; 9];
        let mut info = 0;
        // SAFETY: every pointer is to a live local of the declared type; `desc` has the 9
        // entries `descinit` writes. (Dimensions fit `c_int`: checked by the constructors.)
        unsafe {
            ffi::descinit_(
                desc.as_mut_ptr(),
                &m,
                &n,
                &nb,
                &nb,
                &zero,
                &zero,
                &ctxt,
                &lld,
                &mut info,
            );
        }
        if info != 0 {
            return Err(Error::InvalidArgument {
                op: "dist::descriptor",
                name: "descriptor",
                reason: format!("descinit rejected argument {}", -info),
            });
        }
        Ok(desc)
    }
}

/// The ScaLAPACK routines of one element type (implemented for `f32` and `f64`).
#[doc(hidden)]
#[allow(clippy::too_many_arguments, clippy::missing_safety_doc)]
pub trait Routines: Sized {
    unsafe fn pgemm(
        m: c_int,
        n: c_int,
        k: c_int,
        alpha: Self,
        a: *const Self,
        desca: *const c_int,
        b: *const Self,
        descb: *const c_int,
        beta: Self,
        c: *mut Self,
        descc: *const c_int,
    );
    unsafe fn pgesv(
        n: c_int,
        nrhs: c_int,
        a: *mut Self,
        desca: *const c_int,
        ipiv: *mut c_int,
        b: *mut Self,
        descb: *const c_int,
    ) -> c_int;
    unsafe fn ppotrf(n: c_int, a: *mut Self, desca: *const c_int) -> c_int;
    unsafe fn pgeqrf(
        m: c_int,
        n: c_int,
        a: *mut Self,
        desca: *const c_int,
        tau: *mut Self,
        work: *mut Self,
        lwork: c_int,
    ) -> c_int;
    unsafe fn porgqr(
        m: c_int,
        n: c_int,
        k: c_int,
        a: *mut Self,
        desca: *const c_int,
        tau: *const Self,
        work: *mut Self,
        lwork: c_int,
    ) -> c_int;
    unsafe fn psyevd(
        n: c_int,
        a: *mut Self,
        desca: *const c_int,
        w: *mut Self,
        z: *mut Self,
        descz: *const c_int,
        work: *mut Self,
        lwork: c_int,
        iwork: *mut c_int,
        liwork: c_int,
    ) -> c_int;
    unsafe fn pgels(
        m: c_int,
        n: c_int,
        nrhs: c_int,
        a: *mut Self,
        desca: *const c_int,
        b: *mut Self,
        descb: *const c_int,
        work: *mut Self,
        lwork: c_int,
    ) -> c_int;
    unsafe fn pgesvd(
        m: c_int,
        n: c_int,
        a: *mut Self,
        desca: *const c_int,
        s: *mut Self,
        u: *mut Self,
        descu: *const c_int,
        vt: *mut Self,
        descvt: *const c_int,
        work: *mut Self,
        lwork: c_int,
    ) -> c_int;
}

macro_rules! routines {
    ($t:ty, $m:ident, $gemm:ident, $gesv:ident, $potrf:ident, $geqrf:ident, $orgqr:ident,
     $syevd:ident, $gels:ident, $gesvd:ident) => {
        impl Routines for $t {
            unsafe fn pgemm(
                m: c_int,
                n: c_int,
                k: c_int,
                alpha: Self,
                a: *const Self,
                desca: *const c_int,
                b: *const Self,
                descb: *const c_int,
                beta: Self,
                c: *mut Self,
                descc: *const c_int,
            ) {
                let (one, no) = (1 as c_int, c"N".as_ptr());
                // SAFETY: the caller passes arrays and descriptors that describe them.
                unsafe {
                    ffi::$m::$gemm(
                        no, no, &m, &n, &k, &alpha, a, &one, &one, desca, b, &one, &one, descb,
                        &beta, c, &one, &one, descc,
                    )
                }
            }
            unsafe fn pgesv(
                n: c_int,
                nrhs: c_int,
                a: *mut Self,
                desca: *const c_int,
                ipiv: *mut c_int,
                b: *mut Self,
                descb: *const c_int,
            ) -> c_int {
                let (one, mut info) = (1 as c_int, 0 as c_int);
                // SAFETY: the caller passes arrays and descriptors that describe them and
                // `ipiv` with `mloc(A) + nb` entries.
                unsafe {
                    ffi::$m::$gesv(
                        &n, &nrhs, a, &one, &one, desca, ipiv, b, &one, &one, descb, &mut info,
                    )
                };
                info
            }
            unsafe fn ppotrf(n: c_int, a: *mut Self, desca: *const c_int) -> c_int {
                let (one, mut info) = (1 as c_int, 0 as c_int);
                // SAFETY: the caller passes an array and its descriptor; "L" has length 1.
                unsafe { ffi::$m::$potrf(c"L".as_ptr(), &n, a, &one, &one, desca, &mut info, 1) };
                info
            }
            unsafe fn pgeqrf(
                m: c_int,
                n: c_int,
                a: *mut Self,
                desca: *const c_int,
                tau: *mut Self,
                work: *mut Self,
                lwork: c_int,
            ) -> c_int {
                let (one, mut info) = (1 as c_int, 0 as c_int);
                // SAFETY: the caller passes an array, its descriptor, `tau` of `nloc(A)`
                // entries and `work` of `lwork` entries (`lwork = -1`: a query, 1 entry).
                unsafe {
                    ffi::$m::$geqrf(&m, &n, a, &one, &one, desca, tau, work, &lwork, &mut info)
                };
                info
            }
            unsafe fn porgqr(
                m: c_int,
                n: c_int,
                k: c_int,
                a: *mut Self,
                desca: *const c_int,
                tau: *const Self,
                work: *mut Self,
                lwork: c_int,
            ) -> c_int {
                let (one, mut info) = (1 as c_int, 0 as c_int);
                // SAFETY: as `geqrf`.
                unsafe {
                    ffi::$m::$orgqr(
                        &m, &n, &k, a, &one, &one, desca, tau, work, &lwork, &mut info,
                    )
                };
                info
            }
            unsafe fn psyevd(
                n: c_int,
                a: *mut Self,
                desca: *const c_int,
                w: *mut Self,
                z: *mut Self,
                descz: *const c_int,
                work: *mut Self,
                lwork: c_int,
                iwork: *mut c_int,
                liwork: c_int,
            ) -> c_int {
                let (one, mut info) = (1 as c_int, 0 as c_int);
                // SAFETY: the caller passes arrays, descriptors, `w` of `n` entries and
                // workspaces of the given lengths; "V" and "L" have length 1.
                unsafe {
                    ffi::$m::$syevd(
                        c"V".as_ptr(),
                        c"L".as_ptr(),
                        &n,
                        a,
                        &one,
                        &one,
                        desca,
                        w,
                        z,
                        &one,
                        &one,
                        descz,
                        work,
                        &lwork,
                        iwork,
                        &liwork,
                        &mut info,
                        1,
                        1,
                    )
                };
                info
            }
            unsafe fn pgels(
                m: c_int,
                n: c_int,
                nrhs: c_int,
                a: *mut Self,
                desca: *const c_int,
                b: *mut Self,
                descb: *const c_int,
                work: *mut Self,
                lwork: c_int,
            ) -> c_int {
                let (one, mut info) = (1 as c_int, 0 as c_int);
                // SAFETY: the caller passes arrays, descriptors and `work` of `lwork`
                // entries; "N" has length 1.
                unsafe {
                    ffi::$m::$gels(
                        c"N".as_ptr(),
                        &m,
                        &n,
                        &nrhs,
                        a,
                        &one,
                        &one,
                        desca,
                        b,
                        &one,
                        &one,
                        descb,
                        work,
                        &lwork,
                        &mut info,
                        1,
                    )
                };
                info
            }
            unsafe fn pgesvd(
                m: c_int,
                n: c_int,
                a: *mut Self,
                desca: *const c_int,
                s: *mut Self,
                u: *mut Self,
                descu: *const c_int,
                vt: *mut Self,
                descvt: *const c_int,
                work: *mut Self,
                lwork: c_int,
            ) -> c_int {
                let (one, mut info) = (1 as c_int, 0 as c_int);
                // SAFETY: the caller passes arrays, descriptors, `s` of min(m, n) entries and
                // `work` of `lwork` entries; "V" has length 1.
                unsafe {
                    ffi::$m::$gesvd(
                        c"V".as_ptr(),
                        c"V".as_ptr(),
                        &m,
                        &n,
                        a,
                        &one,
                        &one,
                        desca,
                        s,
                        u,
                        &one,
                        &one,
                        descu,
                        vt,
                        &one,
                        &one,
                        descvt,
                        work,
                        &lwork,
                        &mut info,
                        1,
                        1,
                    )
                };
                info
            }
        }
    };
}

routines!(f32, f32, psgemm_, psgesv_, pspotrf_, psgeqrf_, psorgqr_, pssyevd_, psgels_, psgesvd_);
routines!(f64, f64, pdgemm_, pdgesv_, pdpotrf_, pdgeqrf_, pdorgqr_, pdsyevd_, pdgels_, pdgesvd_);

/// Combines ScaLAPACK's `info` over all ranks: an illegal argument anywhere wins (as
/// [`Error::Lapack`]), then the smallest positive `info` (as `positive(info)`).
fn settle(
    grid: &Grid,
    op: &'static str,
    routine: &'static str,
    info: c_int,
    positive: impl Fn(usize) -> Error,
) -> Result<()> {
    let neg = grid.min_over_ranks(i64::from(info.min(0)));
    if neg < 0 {
        return Err(Error::Lapack {
            op,
            routine,
            arg: (-neg) as i32,
        });
    }
    let pos = grid.min_over_ranks(if info > 0 { i64::from(info) } else { i64::MAX });
    if pos != i64::MAX {
        return Err(positive(pos as usize));
    }
    Ok(())
}

/// Converts a workspace size ScaLAPACK reported (as a float in `work[0]`) to a length,
/// agreeing on the largest over the ranks is not needed: each rank uses its own.
fn workspace<T: DistScalar>(op: &'static str, w: T) -> Result<usize> {
    let v = w.as_f64().max(1.0).ceil();
    if v > MAX_I32 as f64 {
        return Err(Error::TooLarge {
            op,
            what: "workspace",
            value: v as usize,
            max: MAX_I32,
        });
    }
    Ok(v as usize)
}

/// Runs a ScaLAPACK routine that takes a work array (and, with `iwork`, an integer one) the
/// way its documentation asks: a workspace query (`lwork = -1`, one element written to each
/// array), the arrays allocated at the sizes reported, then the call itself. `call` receives
/// `(work, lwork, iwork, liwork)` and returns `info`; both `info`s are settled over all ranks
/// (the query's positive ones never happen), the call's positive one as `positive(info)`.
fn with_work<T: DistScalar>(
    grid: &Grid,
    op: &'static str,
    routine: &'static str,
    iwork: bool,
    positive: impl Fn(usize) -> Error,
    mut call: impl FnMut(*mut T, c_int, *mut c_int, c_int) -> c_int,
) -> Result<()> {
    let mut query = [T::zero()];
    let mut iquery = [0 as c_int];
    let info = call(query.as_mut_ptr(), -1, iquery.as_mut_ptr(), -1);
    settle(grid, op, routine, info, |_| unreachable_info(op))?;
    let mut work = vec![T::zero(); workspace(op, query[0])?];
    let liwork = if iwork {
        workspace(op, T::of(f64::from(iquery[0])))?
    } else {
        1
    };
    let mut iw = vec![0 as c_int; liwork];
    let info = call(
        work.as_mut_ptr(),
        work.len() as c_int,
        iw.as_mut_ptr(),
        iw.len() as c_int,
    );
    settle(grid, op, routine, info, positive)
}

fn same_grid<T>(op: &'static str, a: &DistMatrix<T>, others: &[&DistMatrix<T>]) -> Result<()> {
    let same = others
        .iter()
        .all(|o| std::rc::Rc::ptr_eq(&a.grid.inner, &o.grid.inner) && o.nb == a.nb);
    if a.grid.any(!same) {
        return Err(Error::InvalidArgument {
            op,
            name: "grid",
            reason: "the matrices must live on the same grid with the same block size".into(),
        });
    }
    Ok(())
}

fn agree_shapes<T>(op: &'static str, ms: &[&DistMatrix<T>]) -> Result<()> {
    const NAMES: [(&str, &str); 3] = [
        ("rows of A", "columns of A"),
        ("rows of B", "columns of B"),
        ("rows of C", "columns of C"),
    ];
    let fields: Vec<(&'static str, u64)> = ms
        .iter()
        .zip(NAMES)
        .flat_map(|(m, (r, c))| [(r, m.m as u64), (c, m.n as u64)])
        .collect();
    ms[0].grid.agree(op, &fields)
}

fn square<T>(op: &'static str, a: &DistMatrix<T>) -> Result<()> {
    if a.m != a.n {
        return Err(Error::NotSquare {
            op,
            rows: a.m,
            cols: a.n,
        });
    }
    Ok(())
}

fn ptr<T>(a: &DistMatrix<T>) -> *const T {
    a.local.as_ptr()
}

fn ptr_mut<T>(a: &mut DistMatrix<T>) -> *mut T {
    a.local.as_mut_ptr()
}

/// `C ← α A B + β C` by ScaLAPACK's `p?gemm` (the reference for parla's SUMMA,
/// [`dist::gemm`](super::gemm)); ScaLAPACK's BLAS threads come from `OPENBLAS_NUM_THREADS`.
///
/// # Errors
/// The same error on every rank: [`Error::ShapeMismatch`] when the shapes do not fit;
/// [`Error::InvalidArgument`] for different grids or block sizes or disagreeing ranks.
pub fn gemm<T: DistScalar>(
    alpha: T,
    a: &DistMatrix<T>,
    b: &DistMatrix<T>,
    beta: T,
    c: &mut DistMatrix<T>,
) -> Result<()> {
    const OP: &str = "dist::scalapack::gemm";
    same_grid(OP, a, &[b, &*c])?;
    agree_shapes(OP, &[a, b, &*c])?;
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
    let (da, db, dc) = (a.descriptor()?, b.descriptor()?, c.descriptor()?);
    if c.m == 0 || c.n == 0 {
        return Ok(());
    }
    // SAFETY: each pointer is the matrix's column-major local array, described by the
    // descriptor built for it on this grid; all ranks make the call together.
    unsafe {
        T::pgemm(
            a.m as c_int,
            b.n as c_int,
            a.n as c_int,
            alpha,
            ptr(a),
            da.as_ptr(),
            ptr(b),
            db.as_ptr(),
            beta,
            ptr_mut(c),
            dc.as_ptr(),
        )
    };
    Ok(())
}

/// Solves `A X = B` for square `A` by LU with partial pivoting (`p?gesv`); `A` and `B` are
/// not modified. Returns `X` (same shape and grid as `B`).
///
/// # Errors
/// The same error on every rank: [`Error::NotSquare`], [`Error::ShapeMismatch`] (rows of `B`
/// ≠ order of `A`), [`Error::InvalidArgument`] (grids, block sizes, disagreeing ranks),
/// [`Error::Singular`] with the first zero pivot (zero-based) of `U`.
pub fn solve<T: DistScalar>(a: &DistMatrix<T>, b: &DistMatrix<T>) -> Result<DistMatrix<T>> {
    const OP: &str = "dist::scalapack::solve";
    same_grid(OP, a, &[b])?;
    agree_shapes(OP, &[a, b])?;
    square(OP, a)?;
    if b.m != a.n {
        return Err(Error::ShapeMismatch {
            op: OP,
            left: vec![a.m, a.n],
            right: vec![b.m, b.n],
        });
    }
    let (mut lu, mut x) = (a.clone(), b.clone());
    let (da, db) = (lu.descriptor()?, x.descriptor()?);
    if a.n == 0 || b.n == 0 {
        return Ok(x);
    }
    let mut ipiv = vec![0 as c_int; lu.local.nrows() + a.nb];
    // SAFETY: local arrays with their descriptors; `ipiv` has `mloc(A) + nb` entries as
    // `p?gesv` requires; all ranks make the call together.
    let info = unsafe {
        T::pgesv(
            a.n as c_int,
            b.n as c_int,
            ptr_mut(&mut lu),
            da.as_ptr(),
            ipiv.as_mut_ptr(),
            ptr_mut(&mut x),
            db.as_ptr(),
        )
    };
    settle(&a.grid, OP, "p?gesv", info, |i| Error::Singular {
        op: OP,
        pivot: i - 1,
    })?;
    Ok(x)
}

/// Cholesky factor `L` (lower triangular, `A = L Lᵀ`) of a symmetric positive definite `A`
/// (`p?potrf`; only the lower triangle of `A` is read). The strictly upper part of the
/// result is zero.
///
/// # Errors
/// The same error on every rank: [`Error::NotSquare`]; [`Error::NotPositiveDefinite`] with
/// the zero-based index of the failing leading minor; [`Error::InvalidArgument`] for
/// disagreeing ranks.
pub fn cholesky<T: DistScalar>(a: &DistMatrix<T>) -> Result<DistMatrix<T>> {
    const OP: &str = "dist::scalapack::cholesky";
    agree_shapes(OP, &[a])?;
    square(OP, a)?;
    let mut l = a.clone();
    let da = l.descriptor()?;
    if a.n > 0 {
        // SAFETY: the local array with its descriptor; all ranks make the call together.
        let info = unsafe { T::ppotrf(a.n as c_int, ptr_mut(&mut l), da.as_ptr()) };
        settle(&a.grid, OP, "p?potrf", info, |i| {
            Error::NotPositiveDefinite {
                op: OP,
                index: i - 1,
            }
        })?;
    }
    zero_triangle(&mut l, |i, j| i < j);
    Ok(l)
}

/// Sets the elements with `drop(global i, global j)` to zero.
fn zero_triangle<T: DistScalar>(a: &mut DistMatrix<T>, drop: impl Fn(usize, usize) -> bool) {
    let rows: Vec<usize> = (0..a.local.nrows()).map(|li| a.global_row(li)).collect();
    let cols: Vec<usize> = (0..a.local.ncols()).map(|lj| a.global_col(lj)).collect();
    for ((li, lj), x) in a.local.indexed_iter_mut() {
        if drop(rows[li], cols[lj]) {
            *x = T::zero();
        }
    }
}

/// Reduced QR of an `m × n` matrix with `m ≥ n` (`p?geqrf` + `p?orgqr`): `A = Q R` with `Q`
/// `m × n` with orthonormal columns and `R` `n × n` upper triangular.
///
/// # Errors
/// The same error on every rank: [`Error::InvalidArgument`] when `m < n` or the ranks
/// disagree; [`Error::TooLarge`] for a workspace beyond `i32::MAX`.
pub fn qr<T: DistScalar>(a: &DistMatrix<T>) -> Result<(DistMatrix<T>, DistMatrix<T>)> {
    const OP: &str = "dist::scalapack::qr";
    agree_shapes(OP, &[a])?;
    if a.m < a.n {
        return Err(Error::InvalidArgument {
            op: OP,
            name: "a",
            reason: format!("reduced QR needs rows >= columns, got {}x{}", a.m, a.n),
        });
    }
    let (m, n) = (a.m as c_int, a.n as c_int);
    let mut q = a.clone();
    let dq = q.descriptor()?;
    let mut tau = vec![T::zero(); q.local.ncols().max(1)];
    // R: the first n rows of the factored A; global row i < n has the same local row in an
    // n × n matrix on this grid, so R's local array is a prefix of A's local rows.
    let mut r = DistMatrix::zeros_unchecked(&a.grid, a.n, a.n, a.nb);
    if a.n > 0 {
        let unreachable = |_| unreachable_info(OP);
        with_work(
            &a.grid,
            OP,
            "p?geqrf",
            false,
            unreachable,
            |work, lwork, _, _| {
                let (p, d, t) = (ptr_mut(&mut q), dq.as_ptr(), tau.as_mut_ptr());
                // SAFETY: local array, descriptor, `tau` of `nloc(A)` entries; `work` holds `lwork`
                // entries (one for the query).
                unsafe { T::pgeqrf(m, n, p, d, t, work, lwork) }
            },
        )?;
        let (rrows, rcols) = r.local.dim();
        r.local
            .assign(&q.local.slice(ndarray::s![..rrows, ..rcols]));
        zero_triangle(&mut r, |i, j| i > j);
        with_work(
            &a.grid,
            OP,
            "p?orgqr",
            false,
            unreachable,
            |work, lwork, _, _| {
                let (p, d, t) = (ptr_mut(&mut q), dq.as_ptr(), tau.as_ptr());
                // SAFETY: as for `p?geqrf`, with the reflectors it produced.
                unsafe { T::porgqr(m, n, n, p, d, t, work, lwork) }
            },
        )?;
    }
    Ok((q, r))
}

/// Symmetric eigendecomposition `A = V diag(w) Vᵀ` (`p?syevd`, divide and conquer; only the
/// lower triangle of `A` is read). Returns the eigenvalues in ascending order (the same on
/// every rank) and the eigenvectors as the columns of a distributed matrix.
///
/// # Errors
/// The same error on every rank: [`Error::NotSquare`]; [`Error::NoConvergence`];
/// [`Error::TooLarge`] for a workspace beyond `i32::MAX`.
pub fn eigh<T: DistScalar>(a: &DistMatrix<T>) -> Result<(Vec<T>, DistMatrix<T>)> {
    const OP: &str = "dist::scalapack::eigh";
    agree_shapes(OP, &[a])?;
    square(OP, a)?;
    let n = a.n as c_int;
    let mut work_a = a.clone();
    let mut z = DistMatrix::zeros_unchecked(&a.grid, a.n, a.n, a.nb);
    let (da, dz) = (work_a.descriptor()?, z.descriptor()?);
    let mut w = vec![T::zero(); a.n];
    if a.n > 0 {
        let no_convergence = |i| Error::NoConvergence {
            op: OP,
            detail: format!("p?syevd info = {i}"),
        };
        with_work(
            &a.grid,
            OP,
            "p?syevd",
            true,
            no_convergence,
            |wk, lw, iw, liw| {
                let (pa, pz) = (ptr_mut(&mut work_a), ptr_mut(&mut z));
                // SAFETY: arrays with their descriptors, `w` of n entries; `wk`/`iw` hold `lw`/`liw`
                // entries (one each for the query).
                unsafe {
                    T::psyevd(
                        n,
                        pa,
                        da.as_ptr(),
                        w.as_mut_ptr(),
                        pz,
                        dz.as_ptr(),
                        wk,
                        lw,
                        iw,
                        liw,
                    )
                }
            },
        )?;
    }
    Ok((w, z))
}

/// Thin singular value decomposition `A = U diag(s) Vᵀ` (`p?gesvd`): `U` is `m × k`, `Vᵀ`
/// `k × n` (both distributed), `s` the `k = min(m, n)` singular values in descending order
/// (the same on every rank).
///
/// # Errors
/// The same error on every rank: [`Error::NoConvergence`]; [`Error::InvalidArgument`] for
/// disagreeing ranks; [`Error::TooLarge`] for a workspace beyond `i32::MAX`.
#[allow(clippy::type_complexity)]
pub fn svd<T: DistScalar>(a: &DistMatrix<T>) -> Result<(DistMatrix<T>, Vec<T>, DistMatrix<T>)> {
    const OP: &str = "dist::scalapack::svd";
    agree_shapes(OP, &[a])?;
    let k = a.m.min(a.n);
    let mut work_a = a.clone();
    let mut u = DistMatrix::zeros_unchecked(&a.grid, a.m, k, a.nb);
    let mut vt = DistMatrix::zeros_unchecked(&a.grid, k, a.n, a.nb);
    let (da, du, dvt) = (work_a.descriptor()?, u.descriptor()?, vt.descriptor()?);
    let mut s = vec![T::zero(); k];
    if k > 0 {
        let (m, n) = (a.m as c_int, a.n as c_int);
        let no_convergence = |i| Error::NoConvergence {
            op: OP,
            detail: format!("p?gesvd info = {i}"),
        };
        with_work(
            &a.grid,
            OP,
            "p?gesvd",
            false,
            no_convergence,
            |work, lwork, _, _| {
                let (pa, pu, pv) = (ptr_mut(&mut work_a), ptr_mut(&mut u), ptr_mut(&mut vt));
                let (da, du, dv) = (da.as_ptr(), du.as_ptr(), dvt.as_ptr());
                // SAFETY: arrays with their descriptors, `s` of min(m, n) entries; `work` holds
                // `lwork` entries (one for the query).
                unsafe { T::pgesvd(m, n, pa, da, s.as_mut_ptr(), pu, du, pv, dv, work, lwork) }
            },
        )?;
    }
    Ok((u, s, vt))
}

/// Least squares `min ‖A X − B‖` for `A: m × n` of full rank with `m ≥ n` (`p?gels`, QR).
/// Returns `X` (`n × nrhs`).
///
/// # Errors
/// The same error on every rank: [`Error::ShapeMismatch`] (rows of `B` ≠ rows of `A`);
/// [`Error::InvalidArgument`] when `m < n` or the ranks disagree; [`Error::TooLarge`].
pub fn lstsq<T: DistScalar>(a: &DistMatrix<T>, b: &DistMatrix<T>) -> Result<DistMatrix<T>> {
    const OP: &str = "dist::scalapack::lstsq";
    same_grid(OP, a, &[b])?;
    agree_shapes(OP, &[a, b])?;
    if b.m != a.m {
        return Err(Error::ShapeMismatch {
            op: OP,
            left: vec![a.m, a.n],
            right: vec![b.m, b.n],
        });
    }
    if a.m < a.n {
        return Err(Error::InvalidArgument {
            op: OP,
            name: "a",
            reason: format!("needs rows >= columns, got {}x{}", a.m, a.n),
        });
    }
    let (mut qa, mut xb) = (a.clone(), b.clone());
    let (da, db) = (qa.descriptor()?, xb.descriptor()?);
    let (m, n, nrhs) = (a.m as c_int, a.n as c_int, b.n as c_int);
    if a.n > 0 && b.n > 0 {
        let unreachable = |_| unreachable_info(OP);
        with_work(
            &a.grid,
            OP,
            "p?gels",
            false,
            unreachable,
            |work, lwork, _, _| {
                let (pa, pb) = (ptr_mut(&mut qa), ptr_mut(&mut xb));
                // SAFETY: arrays with their descriptors; `work` holds `lwork` entries (one for the
                // query).
                unsafe { T::pgels(m, n, nrhs, pa, da.as_ptr(), pb, db.as_ptr(), work, lwork) }
            },
        )?;
    }
    // X is the first n rows of the overwritten B (same prefix argument as in `qr`).
    let mut x = DistMatrix::zeros_unchecked(&a.grid, a.n, b.n, a.nb);
    let rows = x.local.nrows();
    x.local.assign(&xb.local.slice(ndarray::s![..rows, ..]));
    Ok(x)
}

/// A positive `info` where the routine documents none: reported as a LAPACK error.
fn unreachable_info(op: &'static str) -> Error {
    Error::NoConvergence {
        op,
        detail: "ScaLAPACK returned an undocumented positive info".into(),
    }
}
