//! Engine `blas`: safe wrappers over CBLAS and LAPACK (OpenBLAS), run with OpenBLAS's own threads.
//!
//! Functions here take validated input (shapes checked, non-empty where that matters, sizes
//! within `i32`) and a thread count. Each BLAS/LAPACK call passes through
//! [`threads::openblas`](crate::threads::openblas)'s gate, which sets OpenBLAS to that count.

pub mod ffi;
pub(crate) mod layout;

pub(crate) mod cholesky;
pub(crate) mod complex;
pub(crate) mod eig;
pub(crate) mod eigh;
pub(crate) mod level1;
pub(crate) mod level2;
pub(crate) mod level3;
pub(crate) mod lstsq;
pub(crate) mod lu;
pub(crate) mod qr;
pub(crate) mod reduce;
pub(crate) mod svd;
pub(crate) mod transpose;
pub(crate) mod triangular;

use crate::blas::ffi::Ffi;
use crate::error::{Error, Result};
use crate::op::Label;
use crate::real::Real;

/// Whether the diagonal of `a` holds a subnormal entry (non-zero, below the smallest normal
/// number). OpenBLAS's `trsm`, `trtrs`, `getrs` and `getri` multiply by the reciprocal of a
/// diagonal entry, which overflows for such an entry (in f64 below 2^-1024 ≈ 5.6e-309, in f32
/// below 2^-128): every path that hands a diagonal to one of them checks this first and then
/// divides instead (see DESIGN.md, "its trsm/getrs multiply by 1/diagonal").
pub(crate) fn has_subnormal_diagonal<T: Real>(a: &ndarray::ArrayView2<T>) -> bool {
    a.diag()
        .iter()
        .any(|&d| d != T::zero() && d.abs() < T::min_positive_value())
}

/// Turns a negative LAPACK `info` (illegal argument) into an error.
pub(crate) fn check_info(op: &'static str, routine: &'static str, info: i32) -> Result<()> {
    if info < 0 {
        Err(Error::Lapack {
            op,
            routine,
            arg: -info,
        })
    } else {
        Ok(())
    }
}

/// Size of a LAPACK workspace from the value a `lwork = -1` query returned.
///
/// The size comes back as a floating-point number of the routine's precision; in `f32` a size
/// above 2²⁴ is rounded to the nearest representable value, possibly *below* what the routine
/// then requires (`ssyevd` at n ≥ 2896 rejects its own answer). So the value is rounded up by
/// one unit in its last place, as LAPACK's `sroundup_lwork` does.
pub(crate) fn workspace_len<T: Ffi>(op: &'static str, queried: T, minimum: usize) -> Result<i32> {
    let q = queried.as_f64();
    let ulp = q * T::EPS.as_f64();
    let len = if q.is_finite() && q > 0.0 {
        (q + ulp).ceil() as usize
    } else {
        0
    };
    blas_int(op, "workspace", len.max(minimum).max(1))
}

/// The integer workspace a LAPACK routine takes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum IWork {
    /// None.
    None,
    /// A fixed number of entries (the routine has no `liwork` argument).
    Fixed(usize),
    /// Asked for by the workspace query, at least this many.
    Queried(usize),
}

/// Runs a LAPACK routine that takes workspaces: first as a workspace query (`lwork = -1`, and
/// `liwork = -1` for [`IWork::Queried`]), then with buffers of the sizes it asked for (at least
/// `min_work`). `call(work, lwork, iwork, liwork)` makes the call and returns `info`; the
/// returned `info` is that of the second call, already checked for illegal arguments.
pub(crate) fn with_workspace<T: Ffi>(
    op: &'static str,
    routine: &'static str,
    threads: usize,
    min_work: usize,
    iwork: IWork,
    mut call: impl FnMut(*mut T, i32, *mut i32, i32) -> i32,
) -> Result<i32> {
    let mut query = [T::zero()];
    let mut iquery = [0i32];
    let mut ibuf = match iwork {
        IWork::Fixed(len) => buffer::<i32>(op, len.max(1))?,
        IWork::None | IWork::Queried(_) => Vec::new(),
    };
    let info = crate::threads::openblas::with_threads_lapack(threads, || {
        let iptr = if ibuf.is_empty() {
            iquery.as_mut_ptr()
        } else {
            ibuf.as_mut_ptr()
        };
        call(query.as_mut_ptr(), -1, iptr, -1)
    });
    check_info(op, routine, info)?;
    let lwork = workspace_len(op, query[0], min_work)?;
    let mut work = buffer::<T>(op, lwork as usize)?;
    let liwork = match iwork {
        IWork::None => 0,
        IWork::Fixed(len) => blas_int(op, "workspace", len.max(1))?,
        IWork::Queried(min) => {
            let len = (iquery[0].max(0) as usize).max(min).max(1);
            ibuf = buffer::<i32>(op, len)?;
            blas_int(op, "workspace", len)?
        }
    };
    let info = crate::threads::openblas::with_threads_lapack(threads, || {
        let iptr = if ibuf.is_empty() {
            iquery.as_mut_ptr()
        } else {
            ibuf.as_mut_ptr()
        };
        call(work.as_mut_ptr(), lwork, iptr, liwork)
    });
    check_info(op, routine, info)?;
    Ok(info)
}

/// A zero-filled buffer of `len` elements, allocated without aborting on failure.
pub(crate) fn buffer<T: Copy + Default>(op: &'static str, len: usize) -> Result<Vec<T>> {
    let mut v = crate::alloc::with_capacity(op, len)?;
    v.resize(len, T::default());
    Ok(v)
}

/// Largest dimension, leading dimension or increment BLAS/LAPACK accept (32-bit `int`).
pub(crate) const BLAS_INT_MAX: usize = i32::MAX as usize;

/// Converts a size to the 32-bit integer BLAS/LAPACK take.
///
/// # Errors
/// [`Error::TooLarge`] when `value > i32::MAX`.
pub(crate) fn blas_int(op: impl Label, what: &'static str, value: usize) -> Result<i32> {
    let op = op.label();
    i32::try_from(value).map_err(|_| Error::TooLarge {
        op,
        what,
        value,
        max: BLAS_INT_MAX,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lapack_illegal_argument_becomes_a_typed_error() {
        assert_eq!(check_info("qr", "geqrf", 0), Ok(()));
        assert_eq!(
            check_info("qr", "geqrf", 3),
            Ok(()),
            "positive info is the caller's to interpret"
        );
        assert_eq!(
            check_info("qr", "geqrf", -4),
            Err(Error::Lapack {
                op: "qr",
                routine: "geqrf",
                arg: 4
            })
        );
    }

    #[test]
    fn workspace_sizes() {
        assert_eq!(workspace_len("svd", 10.2f64, 1), Ok(11));
        // ssyevd's minimum for n = 2897 is 16_802_601, which f32 rounds down to 16_802_600.
        let rounded = 16_802_601.0f32;
        assert_eq!(rounded as u64, 16_802_600);
        assert!(workspace_len("eigh", rounded, 1).unwrap() >= 16_802_601);
        assert_eq!(workspace_len("svd", 0.0f64, 7), Ok(7));
        assert_eq!(workspace_len("svd", f64::NAN, 0), Ok(1));
        assert!(matches!(
            workspace_len("svd", 3e9f64, 1),
            Err(Error::TooLarge {
                what: "workspace",
                ..
            })
        ));
    }
}
