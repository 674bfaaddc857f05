//! General (non-symmetric) eigendecomposition on the `blas` engine: `geev`.

use ndarray::{Array1, Array2, ArrayView2};
use num_complex::Complex;

use crate::alloc::zeros_f;
use crate::blas::ffi::Ffi;
use crate::blas::layout::to_fortran;
use crate::blas::{buffer, with_workspace, IWork};
use crate::decomp::Eig;
use crate::error::{Error, Result};

/// Eigenvalues and, if `vectors`, right eigenvectors of a finite square matrix (n ≥ 1).
pub(crate) fn eig<T: Ffi>(
    op: &'static str,
    threads: usize,
    a: ArrayView2<T>,
    vectors: bool,
) -> Result<Eig<T>> {
    let n = a.nrows();
    let mut f = to_fortran(op, &a)?;
    let mut wr = buffer::<T>(op, n)?;
    let mut wi = buffer::<T>(op, n)?;
    let jobvr = if vectors { b'V' } else { b'N' };
    let mut vr = zeros_f::<T>(op, if vectors { n } else { 1 }, if vectors { n } else { 1 })?;
    let ldvr = if vectors { n as i32 } else { 1 };
    let mut vl = [T::zero()];
    let info = with_workspace(
        op,
        "geev",
        threads,
        4 * n,
        IWork::None,
        |work, lwork, _, _| {
            // SAFETY: `f` is n × n column-major, `wr`/`wi` hold n, `vr` is ldvr × n (or 1 × 1 and
            // unused), `work` holds `lwork` (or is a 1-element query target).
            unsafe {
                T::geev(
                    b'N',
                    jobvr,
                    n as i32,
                    f.as_mut_ptr(),
                    n as i32,
                    wr.as_mut_ptr(),
                    wi.as_mut_ptr(),
                    vl.as_mut_ptr(),
                    1,
                    vr.as_mut_ptr(),
                    ldvr,
                    work,
                    lwork,
                )
            }
        },
    )?;
    if info > 0 {
        return Err(Error::NoConvergence {
            op,
            detail: format!("geev: QR algorithm failed at eigenvalue {info}"),
        });
    }
    let values: Array1<Complex<T>> = wr
        .iter()
        .zip(&wi)
        .map(|(&re, &im)| Complex::new(re, im))
        .collect();
    let mut vecs = Array2::from_elem(
        (n, if vectors { n } else { 0 }),
        Complex::new(T::zero(), T::zero()),
    );
    if vectors {
        // geev stores a complex pair (j, j+1) as real part in column j, imaginary in j + 1.
        let mut j = 0;
        while j < n {
            if wi[j] == T::zero() {
                for i in 0..n {
                    vecs[[i, j]] = Complex::new(vr[[i, j]], T::zero());
                }
                j += 1;
            } else {
                for i in 0..n {
                    let (re, im) = (vr[[i, j]], vr[[i, j + 1]]);
                    vecs[[i, j]] = Complex::new(re, im);
                    vecs[[i, j + 1]] = Complex::new(re, -im);
                }
                j += 2;
            }
        }
    }
    Ok(Eig {
        values,
        vectors: vecs,
    })
}
