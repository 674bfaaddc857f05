//! The raw BLAS/LAPACK entry points for `f32` and `f64`, behind one trait so the rest of the
//! `blas` engine is written once for both types.
//!
//! Declarations come from `cblas-sys` and `lapack-sys`; the library itself is Debian's OpenBLAS,
//! linked by `openblas-src` (feature `system`). Every function here is a thin `unsafe`
//! pass-through: callers in `crate::blas` have already checked shapes, leading dimensions and the
//! 32-bit limits, and they own every buffer they pass.

use std::os::raw::{c_char, c_int};

pub use cblas_sys::{CBLAS_DIAG, CBLAS_LAYOUT, CBLAS_SIDE, CBLAS_TRANSPOSE, CBLAS_UPLO};

/// BLAS and LAPACK for one real floating-point type. Sealed: implemented for `f32` and `f64`.
///
/// # Safety
/// Implementations must forward to the routine of the matching precision.
#[allow(clippy::too_many_arguments, clippy::missing_safety_doc, missing_docs)]
pub unsafe trait Ffi: crate::real::Real {
    unsafe fn gemm(
        layout: CBLAS_LAYOUT,
        ta: CBLAS_TRANSPOSE,
        tb: CBLAS_TRANSPOSE,
        m: c_int,
        n: c_int,
        k: c_int,
        alpha: Self,
        a: *const Self,
        lda: c_int,
        b: *const Self,
        ldb: c_int,
        beta: Self,
        c: *mut Self,
        ldc: c_int,
    );
    unsafe fn gemv(
        layout: CBLAS_LAYOUT,
        ta: CBLAS_TRANSPOSE,
        m: c_int,
        n: c_int,
        alpha: Self,
        a: *const Self,
        lda: c_int,
        x: *const Self,
        incx: c_int,
        beta: Self,
        y: *mut Self,
        incy: c_int,
    );
    unsafe fn trsm(
        layout: CBLAS_LAYOUT,
        side: CBLAS_SIDE,
        uplo: CBLAS_UPLO,
        ta: CBLAS_TRANSPOSE,
        diag: CBLAS_DIAG,
        m: c_int,
        n: c_int,
        alpha: Self,
        a: *const Self,
        lda: c_int,
        b: *mut Self,
        ldb: c_int,
    );
    unsafe fn dot(n: c_int, x: *const Self, incx: c_int, y: *const Self, incy: c_int) -> Self;
    unsafe fn axpy(n: c_int, alpha: Self, x: *const Self, incx: c_int, y: *mut Self, incy: c_int);
    unsafe fn scal(n: c_int, alpha: Self, x: *mut Self, incx: c_int);
    unsafe fn nrm2(n: c_int, x: *const Self, incx: c_int) -> Self;
    unsafe fn getrf(m: c_int, n: c_int, a: *mut Self, lda: c_int, ipiv: *mut c_int) -> c_int;
    unsafe fn getrf2(m: c_int, n: c_int, a: *mut Self, lda: c_int, ipiv: *mut c_int) -> c_int;
    unsafe fn getrs(
        trans: u8,
        n: c_int,
        nrhs: c_int,
        a: *const Self,
        lda: c_int,
        ipiv: *const c_int,
        b: *mut Self,
        ldb: c_int,
    ) -> c_int;
    unsafe fn getri(
        n: c_int,
        a: *mut Self,
        lda: c_int,
        ipiv: *const c_int,
        work: *mut Self,
        lwork: c_int,
    ) -> c_int;
    unsafe fn potrf(uplo: u8, n: c_int, a: *mut Self, lda: c_int) -> c_int;
    unsafe fn geqrf(
        m: c_int,
        n: c_int,
        a: *mut Self,
        lda: c_int,
        tau: *mut Self,
        work: *mut Self,
        lwork: c_int,
    ) -> c_int;
    unsafe fn orgqr(
        m: c_int,
        n: c_int,
        k: c_int,
        a: *mut Self,
        lda: c_int,
        tau: *const Self,
        work: *mut Self,
        lwork: c_int,
    ) -> c_int;
    unsafe fn gesdd(
        jobz: u8,
        m: c_int,
        n: c_int,
        a: *mut Self,
        lda: c_int,
        s: *mut Self,
        u: *mut Self,
        ldu: c_int,
        vt: *mut Self,
        ldvt: c_int,
        work: *mut Self,
        lwork: c_int,
        iwork: *mut c_int,
    ) -> c_int;
    unsafe fn syevd(
        jobz: u8,
        uplo: u8,
        n: c_int,
        a: *mut Self,
        lda: c_int,
        w: *mut Self,
        work: *mut Self,
        lwork: c_int,
        iwork: *mut c_int,
        liwork: c_int,
    ) -> c_int;
    unsafe fn geev(
        jobvl: u8,
        jobvr: u8,
        n: c_int,
        a: *mut Self,
        lda: c_int,
        wr: *mut Self,
        wi: *mut Self,
        vl: *mut Self,
        ldvl: c_int,
        vr: *mut Self,
        ldvr: c_int,
        work: *mut Self,
        lwork: c_int,
    ) -> c_int;
    unsafe fn gelsd(
        m: c_int,
        n: c_int,
        nrhs: c_int,
        a: *mut Self,
        lda: c_int,
        b: *mut Self,
        ldb: c_int,
        s: *mut Self,
        rcond: Self,
        rank: *mut c_int,
        work: *mut Self,
        lwork: c_int,
        iwork: *mut c_int,
    ) -> c_int;
    unsafe fn trtrs(
        uplo: u8,
        trans: u8,
        diag: u8,
        n: c_int,
        nrhs: c_int,
        a: *const Self,
        lda: c_int,
        b: *mut Self,
        ldb: c_int,
    ) -> c_int;
    unsafe fn potrs(
        uplo: u8,
        n: c_int,
        nrhs: c_int,
        a: *const Self,
        lda: c_int,
        b: *mut Self,
        ldb: c_int,
    ) -> c_int;
    unsafe fn potri(uplo: u8, n: c_int, a: *mut Self, lda: c_int) -> c_int;
    unsafe fn ormqr(
        side: u8,
        trans: u8,
        m: c_int,
        n: c_int,
        k: c_int,
        a: *const Self,
        lda: c_int,
        tau: *const Self,
        c: *mut Self,
        ldc: c_int,
        work: *mut Self,
        lwork: c_int,
    ) -> c_int;
    /// `B ← α op(A)` (OpenBLAS extension `cblas_?omatcopy`): `A` is `rows × cols` in `order`,
    /// `B` is `op(A)` in the same order.
    unsafe fn omatcopy(
        order: CBLAS_LAYOUT,
        trans: CBLAS_TRANSPOSE,
        rows: c_int,
        cols: c_int,
        alpha: Self,
        a: *const Self,
        lda: c_int,
        b: *mut Self,
        ldb: c_int,
    );
}

// OpenBLAS's out-of-place matrix copy/transpose; not part of standard CBLAS, so not in
// `cblas-sys`. Debian's libopenblas exports both symbols.
extern "C" {
    fn cblas_domatcopy(
        order: CBLAS_LAYOUT,
        trans: CBLAS_TRANSPOSE,
        rows: c_int,
        cols: c_int,
        alpha: f64,
        a: *const f64,
        lda: c_int,
        b: *mut f64,
        ldb: c_int,
    );
    fn cblas_somatcopy(
        order: CBLAS_LAYOUT,
        trans: CBLAS_TRANSPOSE,
        rows: c_int,
        cols: c_int,
        alpha: f32,
        a: *const f32,
        lda: c_int,
        b: *mut f32,
        ldb: c_int,
    );
}

macro_rules! impl_ffi {
    ($t:ty, $gemm:ident, $gemv:ident, $trsm:ident, $dot:ident, $axpy:ident, $scal:ident,
     $nrm2:ident, $getrf:ident, $getrf2:ident, $getrs:ident, $getri:ident, $potrf:ident, $geqrf:ident,
     $orgqr:ident, $gesdd:ident, $syevd:ident, $geev:ident, $gelsd:ident, $trtrs:ident,
     $omatcopy:ident, $potrs:ident, $potri:ident, $ormqr:ident) => {
        // SAFETY: every method forwards to the routine of precision `$t`.
        unsafe impl Ffi for $t {
            unsafe fn gemm(
                layout: CBLAS_LAYOUT,
                ta: CBLAS_TRANSPOSE,
                tb: CBLAS_TRANSPOSE,
                m: c_int,
                n: c_int,
                k: c_int,
                alpha: $t,
                a: *const $t,
                lda: c_int,
                b: *const $t,
                ldb: c_int,
                beta: $t,
                c: *mut $t,
                ldc: c_int,
            ) {
                // SAFETY: the caller upholds the cblas contract (valid pointers and dimensions).
                unsafe {
                    cblas_sys::$gemm(layout, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
                }
            }
            unsafe fn gemv(
                layout: CBLAS_LAYOUT,
                ta: CBLAS_TRANSPOSE,
                m: c_int,
                n: c_int,
                alpha: $t,
                a: *const $t,
                lda: c_int,
                x: *const $t,
                incx: c_int,
                beta: $t,
                y: *mut $t,
                incy: c_int,
            ) {
                // SAFETY: as above.
                unsafe { cblas_sys::$gemv(layout, ta, m, n, alpha, a, lda, x, incx, beta, y, incy) }
            }
            unsafe fn trsm(
                layout: CBLAS_LAYOUT,
                side: CBLAS_SIDE,
                uplo: CBLAS_UPLO,
                ta: CBLAS_TRANSPOSE,
                diag: CBLAS_DIAG,
                m: c_int,
                n: c_int,
                alpha: $t,
                a: *const $t,
                lda: c_int,
                b: *mut $t,
                ldb: c_int,
            ) {
                // SAFETY: as above.
                unsafe {
                    cblas_sys::$trsm(layout, side, uplo, ta, diag, m, n, alpha, a, lda, b, ldb)
                }
            }
            unsafe fn dot(n: c_int, x: *const $t, incx: c_int, y: *const $t, incy: c_int) -> $t {
                // SAFETY: as above.
                unsafe { cblas_sys::$dot(n, x, incx, y, incy) }
            }
            unsafe fn axpy(
                n: c_int,
                alpha: $t,
                x: *const $t,
                incx: c_int,
                y: *mut $t,
                incy: c_int,
            ) {
                // SAFETY: as above.
                unsafe { cblas_sys::$axpy(n, alpha, x, incx, y, incy) }
            }
            unsafe fn scal(n: c_int, alpha: $t, x: *mut $t, incx: c_int) {
                // SAFETY: as above.
                unsafe { cblas_sys::$scal(n, alpha, x, incx) }
            }
            unsafe fn nrm2(n: c_int, x: *const $t, incx: c_int) -> $t {
                // SAFETY: as above.
                unsafe { cblas_sys::$nrm2(n, x, incx) }
            }
            unsafe fn omatcopy(
                order: CBLAS_LAYOUT,
                trans: CBLAS_TRANSPOSE,
                rows: c_int,
                cols: c_int,
                alpha: $t,
                a: *const $t,
                lda: c_int,
                b: *mut $t,
                ldb: c_int,
            ) {
                // SAFETY: as above.
                unsafe { $omatcopy(order, trans, rows, cols, alpha, a, lda, b, ldb) }
            }
            unsafe fn getrf(m: c_int, n: c_int, a: *mut $t, lda: c_int, ipiv: *mut c_int) -> c_int {
                let mut info = 0;
                // SAFETY: the caller upholds the LAPACK contract; scalars are passed by address.
                unsafe { lapack_sys::$getrf(&m, &n, a, &lda, ipiv, &mut info) };
                info
            }
            unsafe fn getrf2(
                m: c_int,
                n: c_int,
                a: *mut $t,
                lda: c_int,
                ipiv: *mut c_int,
            ) -> c_int {
                let mut info = 0;
                // SAFETY: as getrf.
                unsafe { lapack_sys::$getrf2(&m, &n, a, &lda, ipiv, &mut info) };
                info
            }
            unsafe fn getrs(
                trans: u8,
                n: c_int,
                nrhs: c_int,
                a: *const $t,
                lda: c_int,
                ipiv: *const c_int,
                b: *mut $t,
                ldb: c_int,
            ) -> c_int {
                let mut info = 0;
                let trans = trans as c_char;
                // SAFETY: as above.
                unsafe { lapack_sys::$getrs(&trans, &n, &nrhs, a, &lda, ipiv, b, &ldb, &mut info) };
                info
            }
            unsafe fn getri(
                n: c_int,
                a: *mut $t,
                lda: c_int,
                ipiv: *const c_int,
                work: *mut $t,
                lwork: c_int,
            ) -> c_int {
                let mut info = 0;
                // SAFETY: as above.
                unsafe { lapack_sys::$getri(&n, a, &lda, ipiv, work, &lwork, &mut info) };
                info
            }
            unsafe fn potrf(uplo: u8, n: c_int, a: *mut $t, lda: c_int) -> c_int {
                let mut info = 0;
                let uplo = uplo as c_char;
                // SAFETY: as above.
                unsafe { lapack_sys::$potrf(&uplo, &n, a, &lda, &mut info) };
                info
            }
            unsafe fn geqrf(
                m: c_int,
                n: c_int,
                a: *mut $t,
                lda: c_int,
                tau: *mut $t,
                work: *mut $t,
                lwork: c_int,
            ) -> c_int {
                let mut info = 0;
                // SAFETY: as above.
                unsafe { lapack_sys::$geqrf(&m, &n, a, &lda, tau, work, &lwork, &mut info) };
                info
            }
            unsafe fn orgqr(
                m: c_int,
                n: c_int,
                k: c_int,
                a: *mut $t,
                lda: c_int,
                tau: *const $t,
                work: *mut $t,
                lwork: c_int,
            ) -> c_int {
                let mut info = 0;
                // SAFETY: as above.
                unsafe { lapack_sys::$orgqr(&m, &n, &k, a, &lda, tau, work, &lwork, &mut info) };
                info
            }
            unsafe fn gesdd(
                jobz: u8,
                m: c_int,
                n: c_int,
                a: *mut $t,
                lda: c_int,
                s: *mut $t,
                u: *mut $t,
                ldu: c_int,
                vt: *mut $t,
                ldvt: c_int,
                work: *mut $t,
                lwork: c_int,
                iwork: *mut c_int,
            ) -> c_int {
                let mut info = 0;
                let jobz = jobz as c_char;
                // SAFETY: as above.
                unsafe {
                    lapack_sys::$gesdd(
                        &jobz, &m, &n, a, &lda, s, u, &ldu, vt, &ldvt, work, &lwork, iwork,
                        &mut info,
                    )
                };
                info
            }
            unsafe fn syevd(
                jobz: u8,
                uplo: u8,
                n: c_int,
                a: *mut $t,
                lda: c_int,
                w: *mut $t,
                work: *mut $t,
                lwork: c_int,
                iwork: *mut c_int,
                liwork: c_int,
            ) -> c_int {
                let mut info = 0;
                let (jobz, uplo) = (jobz as c_char, uplo as c_char);
                // SAFETY: as above.
                unsafe {
                    lapack_sys::$syevd(
                        &jobz, &uplo, &n, a, &lda, w, work, &lwork, iwork, &liwork, &mut info,
                    )
                };
                info
            }
            unsafe fn geev(
                jobvl: u8,
                jobvr: u8,
                n: c_int,
                a: *mut $t,
                lda: c_int,
                wr: *mut $t,
                wi: *mut $t,
                vl: *mut $t,
                ldvl: c_int,
                vr: *mut $t,
                ldvr: c_int,
                work: *mut $t,
                lwork: c_int,
            ) -> c_int {
                let mut info = 0;
                let (jobvl, jobvr) = (jobvl as c_char, jobvr as c_char);
                // SAFETY: as above.
                unsafe {
                    lapack_sys::$geev(
                        &jobvl, &jobvr, &n, a, &lda, wr, wi, vl, &ldvl, vr, &ldvr, work, &lwork,
                        &mut info,
                    )
                };
                info
            }
            unsafe fn gelsd(
                m: c_int,
                n: c_int,
                nrhs: c_int,
                a: *mut $t,
                lda: c_int,
                b: *mut $t,
                ldb: c_int,
                s: *mut $t,
                rcond: $t,
                rank: *mut c_int,
                work: *mut $t,
                lwork: c_int,
                iwork: *mut c_int,
            ) -> c_int {
                let mut info = 0;
                // SAFETY: as above.
                unsafe {
                    lapack_sys::$gelsd(
                        &m, &n, &nrhs, a, &lda, b, &ldb, s, &rcond, rank, work, &lwork, iwork,
                        &mut info,
                    )
                };
                info
            }
            unsafe fn potrs(
                uplo: u8,
                n: c_int,
                nrhs: c_int,
                a: *const $t,
                lda: c_int,
                b: *mut $t,
                ldb: c_int,
            ) -> c_int {
                let mut info = 0;
                let uplo = uplo as c_char;
                // SAFETY: as above.
                unsafe { lapack_sys::$potrs(&uplo, &n, &nrhs, a, &lda, b, &ldb, &mut info) };
                info
            }
            unsafe fn potri(uplo: u8, n: c_int, a: *mut $t, lda: c_int) -> c_int {
                let mut info = 0;
                let uplo = uplo as c_char;
                // SAFETY: as above.
                unsafe { lapack_sys::$potri(&uplo, &n, a, &lda, &mut info) };
                info
            }
            unsafe fn ormqr(
                side: u8,
                trans: u8,
                m: c_int,
                n: c_int,
                k: c_int,
                a: *const $t,
                lda: c_int,
                tau: *const $t,
                c: *mut $t,
                ldc: c_int,
                work: *mut $t,
                lwork: c_int,
            ) -> c_int {
                let mut info = 0;
                let (side, trans) = (side as c_char, trans as c_char);
                // SAFETY: as above.
                unsafe {
                    lapack_sys::$ormqr(
                        &side, &trans, &m, &n, &k, a, &lda, tau, c, &ldc, work, &lwork, &mut info,
                    )
                };
                info
            }
            unsafe fn trtrs(
                uplo: u8,
                trans: u8,
                diag: u8,
                n: c_int,
                nrhs: c_int,
                a: *const $t,
                lda: c_int,
                b: *mut $t,
                ldb: c_int,
            ) -> c_int {
                let mut info = 0;
                let (uplo, trans, diag) = (uplo as c_char, trans as c_char, diag as c_char);
                // SAFETY: as above.
                unsafe {
                    lapack_sys::$trtrs(&uplo, &trans, &diag, &n, &nrhs, a, &lda, b, &ldb, &mut info)
                };
                info
            }
        }
    };
}

impl_ffi!(
    f64,
    cblas_dgemm,
    cblas_dgemv,
    cblas_dtrsm,
    cblas_ddot,
    cblas_daxpy,
    cblas_dscal,
    cblas_dnrm2,
    dgetrf_,
    dgetrf2_,
    dgetrs_,
    dgetri_,
    dpotrf_,
    dgeqrf_,
    dorgqr_,
    dgesdd_,
    dsyevd_,
    dgeev_,
    dgelsd_,
    dtrtrs_,
    cblas_domatcopy,
    dpotrs_,
    dpotri_,
    dormqr_
);
impl_ffi!(
    f32,
    cblas_sgemm,
    cblas_sgemv,
    cblas_strsm,
    cblas_sdot,
    cblas_saxpy,
    cblas_sscal,
    cblas_snrm2,
    sgetrf_,
    sgetrf2_,
    sgetrs_,
    sgetri_,
    spotrf_,
    sgeqrf_,
    sorgqr_,
    sgesdd_,
    ssyevd_,
    sgeev_,
    sgelsd_,
    strtrs_,
    cblas_somatcopy,
    spotrs_,
    spotri_,
    sormqr_
);

/// BLAS and LAPACK for one complex type (`Complex<f32>`, `Complex<f64>`): the routines the
/// complex operations of the `blas` engine call. Column-major LAPACK; cblas with an explicit
/// layout. `Part` is the real type of the parts (norms, singular values, eigenvalues).
///
/// # Safety
/// Implementations must forward to the routine of the matching precision; `Complex<R>` is
/// `#[repr(C)]` `{ re, im }`, the layout of C's and Fortran's complex types.
#[allow(clippy::too_many_arguments, clippy::missing_safety_doc, missing_docs)]
pub unsafe trait ComplexFfi:
    ndarray::LinalgScalar
    + crate::alloc::Zeroable
    + PartialEq
    + Default
    + std::fmt::Debug
    + Send
    + Sync
    + 'static
{
    type Part: Ffi;
    /// `(re, im)`.
    fn split(self) -> (Self::Part, Self::Part);
    /// `re + i·im`.
    fn join(re: Self::Part, im: Self::Part) -> Self;
    unsafe fn gemm(
        layout: CBLAS_LAYOUT,
        ta: CBLAS_TRANSPOSE,
        tb: CBLAS_TRANSPOSE,
        m: c_int,
        n: c_int,
        k: c_int,
        alpha: Self,
        a: *const Self,
        lda: c_int,
        b: *const Self,
        ldb: c_int,
        beta: Self,
        c: *mut Self,
        ldc: c_int,
    );
    unsafe fn gemv(
        layout: CBLAS_LAYOUT,
        ta: CBLAS_TRANSPOSE,
        m: c_int,
        n: c_int,
        alpha: Self,
        a: *const Self,
        lda: c_int,
        x: *const Self,
        incx: c_int,
        beta: Self,
        y: *mut Self,
        incy: c_int,
    );
    /// `Σ xᵢ yᵢ` (no conjugation).
    unsafe fn dotu(n: c_int, x: *const Self, incx: c_int, y: *const Self, incy: c_int) -> Self;
    /// `Σ conj(xᵢ) yᵢ`.
    unsafe fn dotc(n: c_int, x: *const Self, incx: c_int, y: *const Self, incy: c_int) -> Self;
    unsafe fn axpy(n: c_int, alpha: Self, x: *const Self, incx: c_int, y: *mut Self, incy: c_int);
    unsafe fn nrm2(n: c_int, x: *const Self, incx: c_int) -> Self::Part;
    unsafe fn getrf(m: c_int, n: c_int, a: *mut Self, lda: c_int, ipiv: *mut c_int) -> c_int;
    unsafe fn getri(
        n: c_int,
        a: *mut Self,
        lda: c_int,
        ipiv: *const c_int,
        work: *mut Self,
        lwork: c_int,
    ) -> c_int;
    unsafe fn getrs(
        trans: u8,
        n: c_int,
        nrhs: c_int,
        a: *const Self,
        lda: c_int,
        ipiv: *const c_int,
        b: *mut Self,
        ldb: c_int,
    ) -> c_int;
    unsafe fn potrf(uplo: u8, n: c_int, a: *mut Self, lda: c_int) -> c_int;
    unsafe fn geqrf(
        m: c_int,
        n: c_int,
        a: *mut Self,
        lda: c_int,
        tau: *mut Self,
        work: *mut Self,
        lwork: c_int,
    ) -> c_int;
    unsafe fn ungqr(
        m: c_int,
        n: c_int,
        k: c_int,
        a: *mut Self,
        lda: c_int,
        tau: *const Self,
        work: *mut Self,
        lwork: c_int,
    ) -> c_int;
    unsafe fn trtrs(
        uplo: u8,
        trans: u8,
        diag: u8,
        n: c_int,
        nrhs: c_int,
        a: *const Self,
        lda: c_int,
        b: *mut Self,
        ldb: c_int,
    ) -> c_int;
    unsafe fn heevd(
        jobz: u8,
        uplo: u8,
        n: c_int,
        a: *mut Self,
        lda: c_int,
        w: *mut Self::Part,
        work: *mut Self,
        lwork: c_int,
        rwork: *mut Self::Part,
        lrwork: c_int,
        iwork: *mut c_int,
        liwork: c_int,
    ) -> c_int;
    unsafe fn gesdd(
        jobz: u8,
        m: c_int,
        n: c_int,
        a: *mut Self,
        lda: c_int,
        s: *mut Self::Part,
        u: *mut Self,
        ldu: c_int,
        vt: *mut Self,
        ldvt: c_int,
        work: *mut Self,
        lwork: c_int,
        rwork: *mut Self::Part,
        iwork: *mut c_int,
    ) -> c_int;
    /// Eigenvalues `w` and, with `jobvr = b'V'`, right eigenvectors of a general matrix.
    unsafe fn geev(
        jobvl: u8,
        jobvr: u8,
        n: c_int,
        a: *mut Self,
        lda: c_int,
        w: *mut Self,
        vl: *mut Self,
        ldvl: c_int,
        vr: *mut Self,
        ldvr: c_int,
        work: *mut Self,
        lwork: c_int,
        rwork: *mut Self::Part,
    ) -> c_int;
}

macro_rules! impl_complex_ffi {
    ($r:ty, $gemm:ident, $gemv:ident, $dotu:ident, $dotc:ident, $axpy:ident, $nrm2:ident,
     $getrf:ident, $getri:ident, $getrs:ident, $potrf:ident, $geqrf:ident, $ungqr:ident,
     $trtrs:ident, $heevd:ident, $gesdd:ident, $geev:ident) => {
        // SAFETY: every method forwards to the routine of precision `$r`; pointers are cast
        // between `Complex<$r>` and the bindings' complex types, which have the same layout.
        unsafe impl ComplexFfi for num_complex::Complex<$r> {
            type Part = $r;
            #[inline(always)]
            fn split(self) -> ($r, $r) {
                (self.re, self.im)
            }
            #[inline(always)]
            fn join(re: $r, im: $r) -> Self {
                Self::new(re, im)
            }
            unsafe fn gemm(
                layout: CBLAS_LAYOUT,
                ta: CBLAS_TRANSPOSE,
                tb: CBLAS_TRANSPOSE,
                m: c_int,
                n: c_int,
                k: c_int,
                alpha: Self,
                a: *const Self,
                lda: c_int,
                b: *const Self,
                ldb: c_int,
                beta: Self,
                c: *mut Self,
                ldc: c_int,
            ) {
                let (alpha, beta) = (&alpha as *const Self, &beta as *const Self);
                // SAFETY: the caller upholds the cblas contract (valid pointers and dimensions).
                unsafe {
                    cblas_sys::$gemm(
                        layout,
                        ta,
                        tb,
                        m,
                        n,
                        k,
                        alpha.cast(),
                        a.cast(),
                        lda,
                        b.cast(),
                        ldb,
                        beta.cast(),
                        c.cast(),
                        ldc,
                    )
                }
            }
            unsafe fn gemv(
                layout: CBLAS_LAYOUT,
                ta: CBLAS_TRANSPOSE,
                m: c_int,
                n: c_int,
                alpha: Self,
                a: *const Self,
                lda: c_int,
                x: *const Self,
                incx: c_int,
                beta: Self,
                y: *mut Self,
                incy: c_int,
            ) {
                let (alpha, beta) = (&alpha as *const Self, &beta as *const Self);
                // SAFETY: as above.
                unsafe {
                    cblas_sys::$gemv(
                        layout,
                        ta,
                        m,
                        n,
                        alpha.cast(),
                        a.cast(),
                        lda,
                        x.cast(),
                        incx,
                        beta.cast(),
                        y.cast(),
                        incy,
                    )
                }
            }
            unsafe fn dotu(
                n: c_int,
                x: *const Self,
                incx: c_int,
                y: *const Self,
                incy: c_int,
            ) -> Self {
                let mut out = Self::new(0.0, 0.0);
                let p = &mut out as *mut Self;
                // SAFETY: as above; `out` is written once.
                unsafe { cblas_sys::$dotu(n, x.cast(), incx, y.cast(), incy, p.cast()) };
                out
            }
            unsafe fn dotc(
                n: c_int,
                x: *const Self,
                incx: c_int,
                y: *const Self,
                incy: c_int,
            ) -> Self {
                let mut out = Self::new(0.0, 0.0);
                let p = &mut out as *mut Self;
                // SAFETY: as above.
                unsafe { cblas_sys::$dotc(n, x.cast(), incx, y.cast(), incy, p.cast()) };
                out
            }
            unsafe fn axpy(
                n: c_int,
                alpha: Self,
                x: *const Self,
                incx: c_int,
                y: *mut Self,
                incy: c_int,
            ) {
                let alpha = &alpha as *const Self;
                // SAFETY: as above.
                unsafe { cblas_sys::$axpy(n, alpha.cast(), x.cast(), incx, y.cast(), incy) }
            }
            unsafe fn nrm2(n: c_int, x: *const Self, incx: c_int) -> $r {
                // SAFETY: as above.
                unsafe { cblas_sys::$nrm2(n, x.cast(), incx) }
            }
            unsafe fn getrf(
                m: c_int,
                n: c_int,
                a: *mut Self,
                lda: c_int,
                ipiv: *mut c_int,
            ) -> c_int {
                let mut info = 0;
                // SAFETY: the caller upholds the LAPACK contract; scalars are passed by address.
                unsafe { lapack_sys::$getrf(&m, &n, a.cast(), &lda, ipiv, &mut info) };
                info
            }
            unsafe fn getri(
                n: c_int,
                a: *mut Self,
                lda: c_int,
                ipiv: *const c_int,
                work: *mut Self,
                lwork: c_int,
            ) -> c_int {
                let mut info = 0;
                // SAFETY: as above.
                unsafe {
                    lapack_sys::$getri(&n, a.cast(), &lda, ipiv, work.cast(), &lwork, &mut info)
                };
                info
            }
            unsafe fn getrs(
                trans: u8,
                n: c_int,
                nrhs: c_int,
                a: *const Self,
                lda: c_int,
                ipiv: *const c_int,
                b: *mut Self,
                ldb: c_int,
            ) -> c_int {
                let mut info = 0;
                let trans = trans as c_char;
                // SAFETY: as above.
                unsafe {
                    lapack_sys::$getrs(
                        &trans,
                        &n,
                        &nrhs,
                        a.cast(),
                        &lda,
                        ipiv,
                        b.cast(),
                        &ldb,
                        &mut info,
                    )
                };
                info
            }
            unsafe fn potrf(uplo: u8, n: c_int, a: *mut Self, lda: c_int) -> c_int {
                let mut info = 0;
                let uplo = uplo as c_char;
                // SAFETY: as above.
                unsafe { lapack_sys::$potrf(&uplo, &n, a.cast(), &lda, &mut info) };
                info
            }
            unsafe fn geqrf(
                m: c_int,
                n: c_int,
                a: *mut Self,
                lda: c_int,
                tau: *mut Self,
                work: *mut Self,
                lwork: c_int,
            ) -> c_int {
                let mut info = 0;
                // SAFETY: as above.
                unsafe {
                    lapack_sys::$geqrf(
                        &m,
                        &n,
                        a.cast(),
                        &lda,
                        tau.cast(),
                        work.cast(),
                        &lwork,
                        &mut info,
                    )
                };
                info
            }
            unsafe fn ungqr(
                m: c_int,
                n: c_int,
                k: c_int,
                a: *mut Self,
                lda: c_int,
                tau: *const Self,
                work: *mut Self,
                lwork: c_int,
            ) -> c_int {
                let mut info = 0;
                // SAFETY: as above.
                unsafe {
                    lapack_sys::$ungqr(
                        &m,
                        &n,
                        &k,
                        a.cast(),
                        &lda,
                        tau.cast(),
                        work.cast(),
                        &lwork,
                        &mut info,
                    )
                };
                info
            }
            unsafe fn trtrs(
                uplo: u8,
                trans: u8,
                diag: u8,
                n: c_int,
                nrhs: c_int,
                a: *const Self,
                lda: c_int,
                b: *mut Self,
                ldb: c_int,
            ) -> c_int {
                let mut info = 0;
                let (uplo, trans, diag) = (uplo as c_char, trans as c_char, diag as c_char);
                // SAFETY: as above.
                unsafe {
                    lapack_sys::$trtrs(
                        &uplo,
                        &trans,
                        &diag,
                        &n,
                        &nrhs,
                        a.cast(),
                        &lda,
                        b.cast(),
                        &ldb,
                        &mut info,
                    )
                };
                info
            }
            unsafe fn heevd(
                jobz: u8,
                uplo: u8,
                n: c_int,
                a: *mut Self,
                lda: c_int,
                w: *mut $r,
                work: *mut Self,
                lwork: c_int,
                rwork: *mut $r,
                lrwork: c_int,
                iwork: *mut c_int,
                liwork: c_int,
            ) -> c_int {
                let mut info = 0;
                let (jobz, uplo) = (jobz as c_char, uplo as c_char);
                // SAFETY: as above.
                unsafe {
                    lapack_sys::$heevd(
                        &jobz,
                        &uplo,
                        &n,
                        a.cast(),
                        &lda,
                        w,
                        work.cast(),
                        &lwork,
                        rwork,
                        &lrwork,
                        iwork,
                        &liwork,
                        &mut info,
                    )
                };
                info
            }
            unsafe fn gesdd(
                jobz: u8,
                m: c_int,
                n: c_int,
                a: *mut Self,
                lda: c_int,
                s: *mut $r,
                u: *mut Self,
                ldu: c_int,
                vt: *mut Self,
                ldvt: c_int,
                work: *mut Self,
                lwork: c_int,
                rwork: *mut $r,
                iwork: *mut c_int,
            ) -> c_int {
                let mut info = 0;
                let jobz = jobz as c_char;
                // SAFETY: as above.
                unsafe {
                    lapack_sys::$gesdd(
                        &jobz,
                        &m,
                        &n,
                        a.cast(),
                        &lda,
                        s,
                        u.cast(),
                        &ldu,
                        vt.cast(),
                        &ldvt,
                        work.cast(),
                        &lwork,
                        rwork,
                        iwork,
                        &mut info,
                    )
                };
                info
            }
            unsafe fn geev(
                jobvl: u8,
                jobvr: u8,
                n: c_int,
                a: *mut Self,
                lda: c_int,
                w: *mut Self,
                vl: *mut Self,
                ldvl: c_int,
                vr: *mut Self,
                ldvr: c_int,
                work: *mut Self,
                lwork: c_int,
                rwork: *mut $r,
            ) -> c_int {
                let mut info = 0;
                let (jobvl, jobvr) = (jobvl as c_char, jobvr as c_char);
                // SAFETY: as above.
                unsafe {
                    lapack_sys::$geev(
                        &jobvl,
                        &jobvr,
                        &n,
                        a.cast(),
                        &lda,
                        w.cast(),
                        vl.cast(),
                        &ldvl,
                        vr.cast(),
                        &ldvr,
                        work.cast(),
                        &lwork,
                        rwork,
                        &mut info,
                    )
                };
                info
            }
        }
    };
}

impl_complex_ffi!(
    f64,
    cblas_zgemm,
    cblas_zgemv,
    cblas_zdotu_sub,
    cblas_zdotc_sub,
    cblas_zaxpy,
    cblas_dznrm2,
    zgetrf_,
    zgetri_,
    zgetrs_,
    zpotrf_,
    zgeqrf_,
    zungqr_,
    ztrtrs_,
    zheevd_,
    zgesdd_,
    zgeev_
);
impl_complex_ffi!(
    f32,
    cblas_cgemm,
    cblas_cgemv,
    cblas_cdotu_sub,
    cblas_cdotc_sub,
    cblas_caxpy,
    cblas_scnrm2,
    cgetrf_,
    cgetri_,
    cgetrs_,
    cpotrf_,
    cgeqrf_,
    cungqr_,
    ctrtrs_,
    cheevd_,
    cgesdd_,
    cgeev_
);
