//! The BLACS and ScaLAPACK symbols parla calls, declared by hand (Debian ships no header and no
//! Rust binding exists). Fortran routines take every argument by pointer; those with
//! `CHARACTER` arguments also take the hidden string lengths (gfortran: `size_t`, appended).
//! PBLAS (`p?gemm_`) is written in C and takes no hidden lengths. build.rs links the library
//! (`pkg-config scalapack-openmpi`) when feature `scalapack` is on.

use std::os::raw::{c_char, c_int};

use mpi::ffi::MPI_Comm;

extern "C" {
    pub fn Csys2blacs_handle(comm: MPI_Comm) -> c_int;
    pub fn Cfree_blacs_system_handle(handle: c_int);
    pub fn Cblacs_gridinit(ctxt: *mut c_int, order: *const c_char, nprow: c_int, npcol: c_int);
    pub fn Cblacs_gridinfo(
        ctxt: c_int,
        nprow: *mut c_int,
        npcol: *mut c_int,
        myrow: *mut c_int,
        mycol: *mut c_int,
    );
    pub fn Cblacs_gridexit(ctxt: c_int);
    pub fn descinit_(
        desc: *mut c_int,
        m: *const c_int,
        n: *const c_int,
        mb: *const c_int,
        nb: *const c_int,
        irsrc: *const c_int,
        icsrc: *const c_int,
        ctxt: *const c_int,
        lld: *const c_int,
        info: *mut c_int,
    );
}

/// Declares the `s` and `d` variants of one routine family with one signature.
macro_rules! both {
    ($( fn ($s:ident, $d:ident)($($arg:ident : $ty:ty),* $(,)?); )*) => {
        pub mod f32 {
            #[allow(unused_imports)]
            use std::os::raw::{c_char, c_int};
            type T = f32;
            extern "C" { $( pub fn $s($($arg: $ty),*); )* }
        }
        pub mod f64 {
            #[allow(unused_imports)]
            use std::os::raw::{c_char, c_int};
            type T = f64;
            extern "C" { $( pub fn $d($($arg: $ty),*); )* }
        }
    };
}

both! {
    fn (psgemm_, pdgemm_)(
        transa: *const c_char, transb: *const c_char,
        m: *const c_int, n: *const c_int, k: *const c_int,
        alpha: *const T, a: *const T, ia: *const c_int, ja: *const c_int, desca: *const c_int,
        b: *const T, ib: *const c_int, jb: *const c_int, descb: *const c_int,
        beta: *const T, c: *mut T, ic: *const c_int, jc: *const c_int, descc: *const c_int,
    );
    fn (psgesv_, pdgesv_)(
        n: *const c_int, nrhs: *const c_int,
        a: *mut T, ia: *const c_int, ja: *const c_int, desca: *const c_int, ipiv: *mut c_int,
        b: *mut T, ib: *const c_int, jb: *const c_int, descb: *const c_int, info: *mut c_int,
    );
    fn (pspotrf_, pdpotrf_)(
        uplo: *const c_char, n: *const c_int,
        a: *mut T, ia: *const c_int, ja: *const c_int, desca: *const c_int, info: *mut c_int,
        uplo_len: usize,
    );
    fn (psgeqrf_, pdgeqrf_)(
        m: *const c_int, n: *const c_int,
        a: *mut T, ia: *const c_int, ja: *const c_int, desca: *const c_int, tau: *mut T,
        work: *mut T, lwork: *const c_int, info: *mut c_int,
    );
    fn (psorgqr_, pdorgqr_)(
        m: *const c_int, n: *const c_int, k: *const c_int,
        a: *mut T, ia: *const c_int, ja: *const c_int, desca: *const c_int, tau: *const T,
        work: *mut T, lwork: *const c_int, info: *mut c_int,
    );
    fn (pssyevd_, pdsyevd_)(
        jobz: *const c_char, uplo: *const c_char, n: *const c_int,
        a: *mut T, ia: *const c_int, ja: *const c_int, desca: *const c_int, w: *mut T,
        z: *mut T, iz: *const c_int, jz: *const c_int, descz: *const c_int,
        work: *mut T, lwork: *const c_int, iwork: *mut c_int, liwork: *const c_int,
        info: *mut c_int, jobz_len: usize, uplo_len: usize,
    );
    fn (psgesvd_, pdgesvd_)(
        jobu: *const c_char, jobvt: *const c_char, m: *const c_int, n: *const c_int,
        a: *mut T, ia: *const c_int, ja: *const c_int, desca: *const c_int, s: *mut T,
        u: *mut T, iu: *const c_int, ju: *const c_int, descu: *const c_int,
        vt: *mut T, ivt: *const c_int, jvt: *const c_int, descvt: *const c_int,
        work: *mut T, lwork: *const c_int, info: *mut c_int, jobu_len: usize, jobvt_len: usize,
    );
    fn (psgels_, pdgels_)(
        trans: *const c_char, m: *const c_int, n: *const c_int, nrhs: *const c_int,
        a: *mut T, ia: *const c_int, ja: *const c_int, desca: *const c_int,
        b: *mut T, ib: *const c_int, jb: *const c_int, descb: *const c_int,
        work: *mut T, lwork: *const c_int, info: *mut c_int, trans_len: usize,
    );
}
