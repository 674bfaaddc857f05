//! parla's engines side by side with their peers: faer (pure Rust, its own rayon parallelism)
//! and direct LAPACK / CBLAS calls on Debian's OpenBLAS (the library parla's `blas` engine
//! wraps). Shared by the `peers_gemm` / `peers_factor` benches and the `side_by_side` example.
//!
//! A separate, non-default workspace member: faer is a large build and stays out of parla's
//! own `cargo build` / `cargo test`.

use faer::{Mat, Par, Side};
use ndarray::{Array2, ShapeBuilder};

/// A deterministic, well-conditioned-enough `rows × cols` test matrix with entries in [-1, 1].
pub fn matrix(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
    Array2::from_shape_fn((rows, cols), |(i, j)| {
        let h = (i as u64 * 2654435761 + j as u64 * 40503 + seed * 97) % 1_000_003;
        h as f64 / 500_001.5 - 1.0
    })
}

/// A symmetric positive definite matrix: [`matrix`] symmetrized, plus `n` on the diagonal
/// (diagonally dominant). Built without a matrix product: ndarray's `dot` would start
/// matrixmultiply's threads, whose spinning steals a core from the runs timed after it.
pub fn spd(n: usize, seed: u64) -> Array2<f64> {
    let g = matrix(n, n, seed);
    let mut a = &g + &g.t();
    a.diag_mut().iter_mut().for_each(|d| *d += n as f64);
    a
}

/// The same values as a faer matrix.
pub fn to_faer(a: &Array2<f64>) -> Mat<f64> {
    Mat::from_fn(a.nrows(), a.ncols(), |i, j| a[[i, j]])
}

/// A rayon pool of `threads` workers for faer (faer splits its work with `rayon::join` on the
/// current pool; `Par::Seq` at one thread).
pub fn faer_pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("rayon pool")
}

/// faer's parallelism setting for `threads`.
pub fn faer_par(threads: usize) -> Par {
    if threads <= 1 {
        Par::Seq
    } else {
        Par::rayon(threads)
    }
}

/// faer `C ← A·B` (C preallocated), at `par`.
pub fn faer_gemm(c: &mut Mat<f64>, a: &Mat<f64>, b: &Mat<f64>, par: Par) {
    faer::linalg::matmul::matmul(c, faer::Accum::Replace, a, b, 1.0, par);
}

/// faer `C ← A·B` in `f32` (C preallocated), at `par`.
pub fn faer_sgemm(c: &mut Mat<f32>, a: &Mat<f32>, b: &Mat<f32>, par: Par) {
    faer::linalg::matmul::matmul(c, faer::Accum::Replace, a, b, 1.0, par);
}

/// faer LU with partial pivoting of `a` and one solve with `b` (what `parla::solve` does),
/// at the global parallelism (set with [`faer::set_global_parallelism`]).
pub fn faer_solve(a: &Mat<f64>, b: &Mat<f64>) -> Mat<f64> {
    use faer::linalg::solvers::Solve as _;
    a.partial_piv_lu().solve(b)
}

/// faer LU with partial pivoting of `a`, the packed factor only (what `parla::lu_factor`
/// computes), at the global parallelism.
pub fn faer_lu(a: &Mat<f64>) -> faer::linalg::solvers::PartialPivLu<f64> {
    a.partial_piv_lu()
}

/// faer Householder QR of `a`, the packed factor only (what `parla::qr_factor` computes), at
/// the global parallelism.
pub fn faer_qr(a: &Mat<f64>) -> faer::linalg::solvers::Qr<f64> {
    a.qr()
}

/// faer determinant of `a` (an LU with partial pivoting, the product of its diagonal), at the
/// global parallelism.
pub fn faer_det(a: &Mat<f64>) -> f64 {
    a.determinant()
}

/// faer inverse of `a` from its LU with partial pivoting, at the global parallelism.
pub fn faer_inv(a: &Mat<f64>) -> Mat<f64> {
    use faer::linalg::solvers::DenseSolveCore as _;
    a.partial_piv_lu().inverse()
}

/// faer Cholesky (lower) of `a`, at the global parallelism.
pub fn faer_cholesky(a: &Mat<f64>) -> Mat<f64> {
    a.llt(Side::Lower)
        .expect("positive definite")
        .L()
        .to_owned()
}

/// faer symmetric eigendecomposition of `a` (values and vectors, lower triangle read), at the
/// global parallelism.
pub fn faer_eigh(a: &Mat<f64>) -> Mat<f64> {
    a.self_adjoint_eigen(Side::Lower)
        .expect("eigh")
        .U()
        .to_owned()
}

/// faer thin SVD of `a` with vectors, at the global parallelism.
pub fn faer_svd(a: &Mat<f64>) -> Mat<f64> {
    a.thin_svd().expect("svd").U().to_owned()
}

/// Column-major copy for LAPACK, by 32 × 32 tiles that stay in L1 on both sides (what a
/// careful caller of LAPACK does). ndarray's `assign` across layouts walks the destination
/// down its columns: 3 ms for a 512 × 512 matrix against about 0.2 ms tiled (Zen 5), which
/// had inflated every direct-LAPACK reference time.
fn fortran(a: &Array2<f64>) -> Array2<f64> {
    const TILE: usize = 32;
    let (m, n) = a.dim();
    let mut f = Array2::<f64>::zeros((m, n).f());
    let src = a.as_standard_layout();
    let src = src.as_slice().expect("standard layout");
    let dst = f.as_slice_memory_order_mut().expect("contiguous");
    for j0 in (0..n).step_by(TILE) {
        for i0 in (0..m).step_by(TILE) {
            for j in j0..(j0 + TILE).min(n) {
                for i in i0..(i0 + TILE).min(m) {
                    dst[i + j * m] = src[i * n + j];
                }
            }
        }
    }
    f
}

/// Direct LAPACK `dgesv` on a column-major copy of `a` and `b` (OpenBLAS's threads: set them
/// with a parla `blas` call first, or `OPENBLAS_NUM_THREADS`).
pub fn lapack_solve(a: &Array2<f64>, b: &Array2<f64>) -> Array2<f64> {
    let n = a.nrows() as i32;
    let nrhs = b.ncols() as i32;
    let mut f = fortran(a);
    let mut x = fortran(b);
    let mut ipiv = vec![0i32; a.nrows()];
    let mut info = 0;
    // SAFETY: `f` is n × n and `x` n × nrhs, both column-major with leading dimension n;
    // `ipiv` has n entries.
    unsafe {
        lapack_sys::dgesv_(
            &n,
            &nrhs,
            f.as_mut_ptr(),
            &n,
            ipiv.as_mut_ptr(),
            x.as_mut_ptr(),
            &n,
            &mut info,
        );
    }
    assert_eq!(info, 0, "dgesv");
    x
}

/// Direct LAPACK `dgetrf` on a column-major copy of `a`: the packed LU factor and pivots.
pub fn lapack_lu(a: &Array2<f64>) -> (Array2<f64>, Vec<i32>) {
    let (m, n) = (a.nrows() as i32, a.ncols() as i32);
    let mut f = fortran(a);
    let mut ipiv = vec![0i32; a.nrows().min(a.ncols())];
    let mut info = 0;
    // SAFETY: `f` is m × n column-major with leading dimension m; `ipiv` has min(m, n) entries.
    unsafe {
        lapack_sys::dgetrf_(&m, &n, f.as_mut_ptr(), &m, ipiv.as_mut_ptr(), &mut info);
    }
    assert_eq!(info, 0, "dgetrf");
    (f, ipiv)
}

/// Determinant from a direct LAPACK `dgetrf` on a column-major copy of `a`: the product of
/// U's diagonal, negated once per row interchange (what `numpy.linalg.det` computes).
pub fn lapack_det(a: &Array2<f64>) -> f64 {
    let (f, ipiv) = lapack_lu(a);
    let mut det = 1.0;
    for (i, &p) in ipiv.iter().enumerate() {
        det *= f[[i, i]];
        if p as usize != i + 1 {
            det = -det;
        }
    }
    det
}

/// Inverse by direct LAPACK `dgetrf` + `dgetri` on a column-major copy of `a` (workspace
/// sized by LAPACK's query).
pub fn lapack_inv(a: &Array2<f64>) -> Array2<f64> {
    let (mut f, ipiv) = lapack_lu(a);
    let n = a.nrows() as i32;
    let mut query = 0.0;
    let mut info = 0;
    // SAFETY: `f` is n × n column-major with leading dimension n holding dgetrf's factor,
    // `ipiv` its n pivots; the first call (lwork = -1) only writes the workspace size.
    unsafe {
        lapack_sys::dgetri_(
            &n,
            f.as_mut_ptr(),
            &n,
            ipiv.as_ptr(),
            &mut query,
            &-1,
            &mut info,
        );
    }
    let lwork = (query as i32).max(1);
    let mut work = vec![0.0; lwork as usize];
    // SAFETY: as above, with `work` of the `lwork` entries LAPACK asked for.
    unsafe {
        lapack_sys::dgetri_(
            &n,
            f.as_mut_ptr(),
            &n,
            ipiv.as_ptr(),
            work.as_mut_ptr(),
            &lwork,
            &mut info,
        );
    }
    assert_eq!(info, 0, "dgetri");
    f
}

/// Direct LAPACK `dgeqrf` on a column-major copy of `a` (workspace sized by LAPACK's query):
/// the packed QR factor and the reflectors' scalars.
pub fn lapack_qr(a: &Array2<f64>) -> (Array2<f64>, Vec<f64>) {
    let (m, n) = (a.nrows() as i32, a.ncols() as i32);
    let mut f = fortran(a);
    let mut tau = vec![0.0; a.nrows().min(a.ncols())];
    let mut query = 0.0;
    let mut info = 0;
    // SAFETY: `f` is m × n column-major with leading dimension m, `tau` has min(m, n) entries;
    // the first call (lwork = -1) only writes the optimal workspace size into `query`.
    unsafe {
        lapack_sys::dgeqrf_(
            &m,
            &n,
            f.as_mut_ptr(),
            &m,
            tau.as_mut_ptr(),
            &mut query,
            &-1,
            &mut info,
        );
    }
    let lwork = (query as i32).max(1);
    let mut work = vec![0.0; lwork as usize];
    // SAFETY: as above, with `work` of the `lwork` entries LAPACK asked for.
    unsafe {
        lapack_sys::dgeqrf_(
            &m,
            &n,
            f.as_mut_ptr(),
            &m,
            tau.as_mut_ptr(),
            work.as_mut_ptr(),
            &lwork,
            &mut info,
        );
    }
    assert_eq!(info, 0, "dgeqrf");
    (f, tau)
}

/// Direct LAPACK `dpotrf` (lower) on a column-major copy of `a`.
pub fn lapack_cholesky(a: &Array2<f64>) -> Array2<f64> {
    let n = a.nrows() as i32;
    let mut f = fortran(a);
    let mut info = 0;
    // SAFETY: `f` is n × n column-major with leading dimension n.
    unsafe {
        lapack_sys::dpotrf_(
            &(b'L' as std::ffi::c_char),
            &n,
            f.as_mut_ptr(),
            &n,
            &mut info,
        );
    }
    assert_eq!(info, 0, "dpotrf");
    f
}

/// Element types with a direct CBLAS GEMM (`cblas_dgemm`, `cblas_sgemm`).
pub trait CblasGemm: Copy {
    /// `C ← A·B` on contiguous row-major operands.
    ///
    /// # Safety
    /// `a` holds `m × k`, `b` `k × n` and `c` `m × n` elements, row-major and contiguous.
    unsafe fn gemm(m: i32, n: i32, k: i32, a: *const Self, b: *const Self, c: *mut Self);
}

impl CblasGemm for f64 {
    unsafe fn gemm(m: i32, n: i32, k: i32, a: *const f64, b: *const f64, c: *mut f64) {
        use cblas_sys::{CBLAS_LAYOUT::CblasRowMajor, CBLAS_TRANSPOSE::CblasNoTrans};
        // SAFETY: the caller's contract; leading dimensions are the row lengths.
        unsafe {
            cblas_sys::cblas_dgemm(
                CblasRowMajor,
                CblasNoTrans,
                CblasNoTrans,
                m,
                n,
                k,
                1.0,
                a,
                k,
                b,
                n,
                0.0,
                c,
                n,
            )
        }
    }
}

impl CblasGemm for f32 {
    unsafe fn gemm(m: i32, n: i32, k: i32, a: *const f32, b: *const f32, c: *mut f32) {
        use cblas_sys::{CBLAS_LAYOUT::CblasRowMajor, CBLAS_TRANSPOSE::CblasNoTrans};
        // SAFETY: the caller's contract; leading dimensions are the row lengths.
        unsafe {
            cblas_sys::cblas_sgemm(
                CblasRowMajor,
                CblasNoTrans,
                CblasNoTrans,
                m,
                n,
                k,
                1.0,
                a,
                k,
                b,
                n,
                0.0,
                c,
                n,
            )
        }
    }
}

/// `C ← A·B` by a direct `cblas_dgemm` / `cblas_sgemm` call (row-major, contiguous).
pub fn cblas_gemm<T: CblasGemm>(a: &Array2<T>, b: &Array2<T>, c: &mut Array2<T>) {
    let (m, k) = a.dim();
    let n = b.ncols();
    assert!(a.is_standard_layout() && b.is_standard_layout() && c.is_standard_layout());
    assert_eq!((b.nrows(), c.dim()), (k, (m, n)));
    // SAFETY: all three are contiguous row-major of the shapes checked above.
    unsafe {
        T::gemm(
            m as i32,
            n as i32,
            k as i32,
            a.as_ptr(),
            b.as_ptr(),
            c.as_mut_ptr(),
        )
    }
}

/// Process CPU time (user + system) in seconds, to report how many cores a run kept busy
/// (OpenBLAS's and rayon's idle workers spin for a while, so it is an upper bound).
pub fn cpu_seconds() -> f64 {
    let mut u = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `u` is a valid, writable rusage; getrusage fills it.
    let u = unsafe {
        libc::getrusage(libc::RUSAGE_SELF, u.as_mut_ptr());
        u.assume_init()
    };
    let t = |v: libc::timeval| v.tv_sec as f64 + v.tv_usec as f64 * 1e-6;
    t(u.ru_utime) + t(u.ru_stime)
}
