//! Out-of-place transpose on the `blas` engine (also the per-band kernel of `rayon-blas`, at
//! one thread): OpenBLAS's `cblas_?omatcopy` extension.

use ndarray::{ArrayView2, ArrayViewMut2};

use crate::alloc::zeros_c;
use crate::blas::ffi::Ffi;
use crate::blas::ffi::CBLAS_TRANSPOSE;
use crate::blas::layout::{readable_matrix, strided, Order};
use crate::error::Result;
use crate::threads::openblas;

/// `dst ← srcᵀ` for a non-empty `src: r × c` and `dst: c × r`.
///
/// `src` is read in place when BLAS can (else from a column-major copy); `dst` is written in
/// place when its rows are contiguous (else through a row-major temporary).
pub(crate) fn transpose<T: Ffi>(
    op: &'static str,
    threads: usize,
    src: ArrayView2<T>,
    dst: &mut ArrayViewMut2<T>,
) -> Result<()> {
    let (r, c) = src.dim();
    let out = strided(c, r, dst.strides()).filter(|s| s.order == Order::Row);
    let Some(out) = out else {
        let mut tmp = zeros_c::<T>(op, c, r)?;
        transpose(op, threads, src, &mut tmp.view_mut())?;
        dst.assign(&tmp);
        return Ok(());
    };
    let a = readable_matrix(op, src)?;
    let la = a.layout();
    // A row-major source is transposed; a column-major r × c source already has the memory
    // order of a row-major c × r result, so it is copied as is.
    let trans = match la.order {
        Order::Row => CBLAS_TRANSPOSE::CblasTrans,
        Order::Col => CBLAS_TRANSPOSE::CblasNoTrans,
    };
    let dp = dst.as_mut_ptr();
    // SAFETY: `a` is readable as an r × c matrix of order `la.order` with leading dimension
    // `la.ld`; `dst` is a c × r row-major block with leading dimension `out.ld >= r` (checked by
    // `strided`), exclusively borrowed and disjoint from `a`.
    openblas::with_threads(threads, || unsafe {
        T::omatcopy(
            la.order.cblas(),
            trans,
            r as i32,
            c as i32,
            T::one(),
            a.ptr(),
            la.ld,
            dp,
            out.ld,
        )
    });
    Ok(())
}
