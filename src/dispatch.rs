//! THE one place that maps (operation, engine, threads) to a concrete code path.
//!
//! The public API validates its input, then calls the function of the same name here; each
//! function asks [`route`] for the path and calls the engine that owns it. Adding an engine means
//! adding a variant to [`Path`]: the compiler then points at every operation that must handle it.

use ndarray::{
    Array2, ArrayView, ArrayView1, ArrayView2, ArrayViewMut, ArrayViewMut1, ArrayViewMut2,
    Dimension,
};

use crate::blas;
use crate::decomp::{Diag, Eig, Eigh, Lstsq, LuPacked, Qr, QrMode, Svd, Trans, Uplo};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::exec::Exec;
use crate::factor;
use crate::kernels::{GemmKernel, Isa};
use crate::parallel::level3::Level3;
use crate::parallel::{self, Kernel};
use crate::scalar::Scalar;
use crate::strategy::Strategy;
use crate::threads;

pub(crate) use crate::blas::reduce::Reduction;
pub(crate) use crate::blas::svd::Vectors;

/// The concrete path of one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Path {
    /// OpenBLAS / LAPACK with this many OpenBLAS threads.
    Blas { threads: usize },
    /// parla's block scheduler on a rayon pool of this many threads, single-threaded OpenBLAS
    /// per block.
    RayonBlas { threads: usize },
    /// parla's block scheduler on a rayon pool of this many threads, parla's own kernels per
    /// block.
    Rayon { threads: usize },
}

/// The factorizations `factor/` implements over both rayon engines.
const FACTOR_OPS: [&str; 16] = [
    "cholesky",
    "qr",
    "solve_triangular",
    "lu",
    "det",
    "slogdet",
    "solve",
    "inv",
    "eigh",
    "eigvalsh",
    "svd",
    "svdvals",
    "pinv",
    "cond",
    "matrix_rank",
    "lstsq",
];

/// The level-3 operations of a rayon path, for `factor/`.
fn level3<T: Scalar>(exec: &Exec, path: Path) -> Option<Level3> {
    let (threads, kernel) = match path {
        Path::Blas { .. } => return None,
        Path::RayonBlas { threads } => (threads, Kernel::Blas),
        Path::Rayon { threads } => (threads, Kernel::Rust),
    };
    Some(Level3 {
        threads,
        kernel,
        gemm: exec.gemm_kernel::<T>(),
    })
}

/// Whether `engine` implements `op` (the rayon engines are being built op by op).
fn implements(engine: Engine, op: &str) -> bool {
    match engine {
        Engine::Blas | Engine::Auto => true,
        Engine::RayonBlas => {
            matches!(
                op,
                "gemm" | "matmul" | "gemv" | "matvec" | "dot" | "axpy" | "scal" | "nrm2"
            ) || FACTOR_OPS.contains(&op)
                || is_reduction(op)
                || is_elementwise(op)
                || op == "transpose"
        }
        Engine::Rayon => {
            matches!(
                op,
                "gemm" | "matmul" | "gemv" | "matvec" | "dot" | "axpy" | "scal" | "nrm2"
            ) || FACTOR_OPS.contains(&op)
                || is_reduction(op)
                || is_elementwise(op)
                || op == "transpose"
        }
    }
}

/// Sums and norms along an axis.
fn is_reduction(op: &str) -> bool {
    matches!(op, "row_sums" | "col_sums" | "row_norms" | "col_norms")
}

/// Element-wise operations with a user closure. OpenBLAS has none, so on the `blas` engine
/// they run single-threaded in the calling thread (see [`plan`]).
fn is_elementwise(op: &str) -> bool {
    matches!(op, "map" | "zip_with" | "multiply")
}

/// The split of the operations of `parallel::{reduce, elementwise, transpose}`, where it
/// differs from GEMM's.
fn split_of_op(op: &str, engine: Engine, threads: usize) -> Option<&'static str> {
    let blas = matches!(engine, Engine::Blas | Engine::Auto);
    if is_elementwise(op) {
        return Some(match (blas, threads) {
            (true, _) => "none: the calling thread (OpenBLAS has no element-wise operations)",
            (false, 1) => "none: one thread",
            (false, _) => {
                "one contiguous chunk per thread (same memory order), else ndarray's parallel Zip"
            }
        });
    }
    if threads == 1 {
        return None;
    }
    match (op, blas) {
        (_, true) if is_reduction(op) => Some(
            "OpenBLAS's own threads (sums: one gemv with a ones vector; norms: one nrm2 per output)",
        ),
        ("transpose", true) => Some("OpenBLAS's own threads (omatcopy)"),
        (_, false) if is_reduction(op) => Some(
            "one block per thread: output rows when the reduced axis is contiguous, else matrix \
             rows with per-block partials combined in block order",
        ),
        ("transpose", false) => {
            Some("one band of result rows per thread, whole 32x32 tiles (source column bands)")
        }
        _ => None,
    }
}

/// What a call will do, for reports (`parla compare`, `parla info`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Plan {
    /// The operation.
    pub op: &'static str,
    /// The concrete engine (never `auto`).
    pub engine: Engine,
    /// The threads it will use.
    pub threads: usize,
    /// How the work is cut: the parallel loop and the size of its blocks.
    pub split: &'static str,
    /// For the `rayon` engine: the f64 GEMM kernel (instruction set, MR × NR tile, MC/KC/NC
    /// blocks); see [`Exec::gemm_kernel`] for other element types.
    pub kernel: Option<GemmKernel>,
}

/// The split description of each engine (for reports).
fn split_of(engine: Engine, threads: usize) -> &'static str {
    match (engine, threads) {
        (_, 1) => "none: one thread",
        (Engine::Blas, _) | (Engine::Auto, _) => "OpenBLAS's own threads",
        (Engine::RayonBlas, _) => {
            "C cut into one panel per thread along its contiguous side (level 1/2: one chunk per thread)"
        }
        (Engine::Rayon, _) => {
            "BLIS loop 3 (ic): rows of C in blocks of <= MC, a multiple of the threads; \
             column groups too when C has fewer MR-row panels than threads"
        }
    }
}

/// Below this many flops (`2·m·n·k`) `auto` runs GEMM on OpenBLAS with one thread: at
/// n = 16, OpenBLAS's small-matrix path ran 1.34× faster than parla's packed kernels, at
/// n = 32 they tied (`cargo run --release --example gemm_engines -- f64 1 16 32 64 128`).
pub const AUTO_GEMM_RAYON_MIN_FLOPS: f64 = 2.0 * 32.0 * 32.0 * 32.0;

/// Below this many flops `auto` runs GEMM on one thread: at n = 128 two threads were slower
/// than one (0.048 vs 0.042 ms; waking a second worker costs ≈ 10 µs), at n = 256 faster
/// (0.25 vs 0.30 ms) (`cargo run --release --example gemm_engines -- f64 2 64 128 256`). The
/// factorizations use the same threshold for the GEMMs of their recursions.
pub const AUTO_GEMM_PARALLEL_MIN_FLOPS: f64 = crate::parallel::level3::GEMM_PARALLEL_MIN_FLOPS;

/// How much work a call does, when the caller knows it: lets `auto` choose by size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Work {
    /// Unknown: `auto` assumes a large problem.
    Unknown,
    /// A GEMM of this many flops (`2·m·n·k`).
    GemmFlops(f64),
}

/// `auto`'s choice for `op` with `work`: engine and whether to cap the threads at one.
fn choose_auto(exec: &Exec, op: &str, work: Work) -> (Engine, bool) {
    match (op, work) {
        ("gemm" | "matmul", Work::GemmFlops(f)) => {
            let simd = exec.gemm_kernel::<f64>().isa != Isa::Portable;
            if f < AUTO_GEMM_RAYON_MIN_FLOPS || !simd {
                (Engine::Blas, f < AUTO_GEMM_PARALLEL_MIN_FLOPS)
            } else {
                (Engine::Rayon, f < AUTO_GEMM_PARALLEL_MIN_FLOPS)
            }
        }
        ("gemm" | "matmul", Work::Unknown) if exec.gemm_kernel::<f64>().isa != Isa::Portable => {
            (Engine::Rayon, false)
        }
        _ => (Engine::Blas, false),
    }
}

/// Resolves `auto` and nesting for `op` when the size is not known (see [`plan_for`]).
///
/// # Errors
/// [`Error::Unsupported`] when the engine does not implement `op`.
pub(crate) fn plan(exec: &Exec, op: &'static str) -> Result<Plan> {
    plan_for(exec, op, Work::Unknown)
}

/// Resolves `auto` and nesting for `op` doing `work`.
///
/// `auto` picks per call with named thresholds: GEMM goes to the `rayon` engine (its AVX-512 /
/// AVX2 kernels ran 1.4–1.9× OpenBLAS's on the dev machine from n = 64 up) except below
/// [`AUTO_GEMM_RAYON_MIN_FLOPS`], and uses one thread below [`AUTO_GEMM_PARALLEL_MIN_FLOPS`];
/// every other operation goes to `blas` until its rayon version has been measured faster. A
/// call made from inside a rayon worker gets one thread, whatever the budget, so nested
/// parallel code never multiplies threads.
///
/// # Errors
/// [`Error::Unsupported`] when the engine does not implement `op`.
pub(crate) fn plan_for(exec: &Exec, op: &'static str, work: Work) -> Result<Plan> {
    let (engine, small) = match exec.engine() {
        Engine::Auto => choose_auto(exec, op, work),
        e => (e, false),
    };
    let threads =
        if threads::in_rayon_worker() || small || (engine == Engine::Blas && is_elementwise(op)) {
            1
        } else {
            exec.threads_for(engine)
        };
    if implements(engine, op) {
        Ok(Plan {
            op,
            engine,
            threads,
            split: split_of_op(op, engine, threads).unwrap_or_else(|| split_of(engine, threads)),
            kernel: (engine == Engine::Rayon).then(|| exec.gemm_kernel::<f64>()),
        })
    } else {
        Err(Error::Unsupported { op, engine })
    }
}

fn threads_of(path: Path) -> usize {
    match path {
        Path::Blas { threads } | Path::RayonBlas { threads } | Path::Rayon { threads } => threads,
    }
}

fn route(exec: &Exec, op: &'static str) -> Result<Path> {
    route_for(exec, op, Work::Unknown)
}

fn route_for(exec: &Exec, op: &'static str, work: Work) -> Result<Path> {
    let p = plan_for(exec, op, work)?;
    Ok(match p.engine {
        Engine::RayonBlas => Path::RayonBlas { threads: p.threads },
        Engine::Rayon => Path::Rayon { threads: p.threads },
        _ => Path::Blas { threads: p.threads },
    })
}

/// The OpenBLAS thread count for an operation only the `blas` engine implements (`plan` has
/// already refused the other engines).
fn route_blas(exec: &Exec, op: &'static str) -> Result<usize> {
    Ok(plan(exec, op)?.threads)
}

pub(crate) fn gemm<T: Scalar>(
    exec: &Exec,
    op: &'static str,
    alpha: T,
    a: ArrayView2<T>,
    b: ArrayView2<T>,
    beta: T,
    c: &mut ArrayViewMut2<T>,
) -> Result<()> {
    let (m, n) = c.dim();
    let flops = 2.0 * m as f64 * n as f64 * a.ncols() as f64;
    match route_for(exec, op, Work::GemmFlops(flops))? {
        Path::Blas { threads } => blas::level3::gemm(op, threads, alpha, a, b, beta, c),
        Path::RayonBlas { threads } => parallel::gemm::gemm(op, threads, alpha, a, b, beta, c),
        Path::Rayon { threads } => {
            parallel::blis::gemm(op, threads, exec.gemm_kernel::<T>(), alpha, a, b, beta, c)
        }
    }
}

pub(crate) fn gemv<T: Scalar>(
    exec: &Exec,
    op: &'static str,
    alpha: T,
    a: ArrayView2<T>,
    x: ArrayView1<T>,
    beta: T,
    y: &mut ArrayViewMut1<T>,
) -> Result<()> {
    match route(exec, op)? {
        Path::Blas { threads } => blas::level2::gemv(op, threads, alpha, a, x, beta, y),
        Path::RayonBlas { threads } => {
            parallel::level2::gemv(op, threads, Kernel::Blas, alpha, a, x, beta, y)
        }
        Path::Rayon { threads } => {
            parallel::level2::gemv(op, threads, Kernel::Rust, alpha, a, x, beta, y)
        }
    }
}

pub(crate) fn dot<T: Scalar>(exec: &Exec, x: ArrayView1<T>, y: ArrayView1<T>) -> Result<T> {
    match route(exec, "dot")? {
        Path::Blas { threads } => Ok(blas::level1::dot(threads, x, y)),
        Path::RayonBlas { threads } => parallel::level1::dot(threads, Kernel::Blas, x, y),
        Path::Rayon { threads } => parallel::level1::dot(threads, Kernel::Rust, x, y),
    }
}

pub(crate) fn axpy<T: Scalar>(
    exec: &Exec,
    alpha: T,
    x: ArrayView1<T>,
    y: &mut ArrayViewMut1<T>,
) -> Result<()> {
    match route(exec, "axpy")? {
        Path::Blas { threads } => {
            blas::level1::axpy(threads, alpha, x, y);
            Ok(())
        }
        Path::RayonBlas { threads } => parallel::level1::axpy(threads, Kernel::Blas, alpha, x, y),
        Path::Rayon { threads } => parallel::level1::axpy(threads, Kernel::Rust, alpha, x, y),
    }
}

pub(crate) fn scal<T: Scalar>(exec: &Exec, alpha: T, x: &mut ArrayViewMut1<T>) -> Result<()> {
    match route(exec, "scal")? {
        Path::Blas { threads } => {
            blas::level1::scal(threads, alpha, x);
            Ok(())
        }
        Path::RayonBlas { threads } => parallel::level1::scal(threads, Kernel::Blas, alpha, x),
        Path::Rayon { threads } => parallel::level1::scal(threads, Kernel::Rust, alpha, x),
    }
}

pub(crate) fn nrm2<T: Scalar>(exec: &Exec, x: ArrayView1<T>) -> Result<T> {
    match route(exec, "nrm2")? {
        Path::Blas { threads } => Ok(blas::level1::nrm2(threads, x)),
        Path::RayonBlas { threads } => parallel::level1::nrm2(threads, Kernel::Blas, x),
        Path::Rayon { threads } => parallel::level1::nrm2(threads, Kernel::Rust, x),
    }
}

/// `out[i] = reduce(v[i, :])` for a non-empty `p × q` view with `q ≥ 1` (the public API has
/// turned row/column operations into rows of `v` and made its strides non-negative).
pub(crate) fn reduce_rows<T: Scalar>(
    exec: &Exec,
    op: &'static str,
    red: Reduction,
    v: ArrayView2<T>,
    out: &mut ArrayViewMut1<T>,
) -> Result<()> {
    match route(exec, op)? {
        Path::Blas { threads } => blas::reduce::rows(op, threads, red, v, out),
        Path::RayonBlas { threads } => {
            parallel::reduce::rows(op, threads, Kernel::Blas, red, v, out)
        }
        Path::Rayon { threads } => parallel::reduce::rows(op, threads, Kernel::Rust, red, v, out),
    }
}

/// `out[i] = f(a[i])` for a non-empty `a`; `out` is in C order, or F order when `f_order`.
pub(crate) fn map<T, U, D, F>(
    exec: &Exec,
    op: &'static str,
    a: ArrayView<T, D>,
    out: ArrayViewMut<U, D>,
    f_order: bool,
    f: &F,
) -> Result<()>
where
    T: Scalar,
    U: Send,
    D: Dimension,
    F: Fn(T) -> U + Sync,
{
    match route(exec, op)? {
        // One thread: the calling thread runs the closure over the whole array.
        Path::Blas { .. } => parallel::elementwise::map(1, a, out, f_order, f),
        Path::RayonBlas { threads } | Path::Rayon { threads } => {
            parallel::elementwise::map(threads, a, out, f_order, f)
        }
    }
}

/// `out[i] = f(a[i], b[i])` for non-empty `a`, `b` of one shape; `out` as in [`map`].
#[allow(clippy::too_many_arguments)]
pub(crate) fn zip_with<T, U, D, F>(
    exec: &Exec,
    op: &'static str,
    a: ArrayView<T, D>,
    b: ArrayView<T, D>,
    out: ArrayViewMut<U, D>,
    f_order: bool,
    f: &F,
) -> Result<()>
where
    T: Scalar,
    U: Send,
    D: Dimension,
    F: Fn(T, T) -> U + Sync,
{
    match route(exec, op)? {
        Path::Blas { .. } => parallel::elementwise::zip_with(1, a, b, out, f_order, f),
        Path::RayonBlas { threads } | Path::Rayon { threads } => {
            parallel::elementwise::zip_with(threads, a, b, out, f_order, f)
        }
    }
}

/// `dst ← srcᵀ` for a non-empty `src: r × c` into a C-order `dst: c × r`.
pub(crate) fn transpose<T: Scalar>(
    exec: &Exec,
    src: ArrayView2<T>,
    dst: &mut ArrayViewMut2<T>,
) -> Result<()> {
    const OP: &str = "transpose";
    match route(exec, OP)? {
        Path::Blas { threads } => blas::transpose::transpose(OP, threads, src, dst),
        Path::RayonBlas { threads } => {
            parallel::transpose::transpose(OP, threads, Kernel::Blas, src, dst)
        }
        Path::Rayon { threads } => {
            parallel::transpose::transpose(OP, threads, Kernel::Rust, src, dst)
        }
    }
}

pub(crate) fn lu_factor<T: Scalar>(
    exec: &Exec,
    op: &'static str,
    a: ArrayView2<T>,
    equilibrate: bool,
) -> Result<(LuPacked<T>, Option<usize>)> {
    let path = route(exec, op)?;
    match level3::<T>(exec, path) {
        Some(l3) => l3.run(|| factor::lu::factor(op, &l3, a, equilibrate)),
        None => blas::lu::factor(op, threads_of(path), a, equilibrate),
    }
}

pub(crate) fn solve<T: Scalar>(
    exec: &Exec,
    a: ArrayView2<T>,
    b: ArrayView2<T>,
) -> Result<Array2<T>> {
    let path = route(exec, "solve")?;
    match level3::<T>(exec, path) {
        Some(l3) => l3.run(|| factor::lu::solve("solve", &l3, a, b)),
        None => blas::lu::solve("solve", threads_of(path), a, b),
    }
}

pub(crate) fn inv<T: Scalar>(exec: &Exec, a: ArrayView2<T>) -> Result<Array2<T>> {
    let path = route(exec, "inv")?;
    match level3::<T>(exec, path) {
        Some(l3) => l3.run(|| factor::lu::inv("inv", &l3, a)),
        None => blas::lu::inv("inv", threads_of(path), a),
    }
}

pub(crate) fn cholesky<T: Scalar>(exec: &Exec, a: ArrayView2<T>) -> Result<Array2<T>> {
    const OP: &str = "cholesky";
    let path = route(exec, OP)?;
    match level3::<T>(exec, path) {
        Some(l3) => l3.run(|| factor::cholesky::cholesky(OP, &l3, a)),
        None => blas::cholesky::cholesky(OP, threads_of(path), a),
    }
}

pub(crate) fn qr<T: Scalar>(exec: &Exec, a: ArrayView2<T>, mode: QrMode) -> Result<Qr<T>> {
    let path = route(exec, "qr")?;
    match level3::<T>(exec, path) {
        Some(l3) => l3.run(|| factor::qr::qr("qr", &l3, a, mode)),
        None => blas::qr::qr("qr", threads_of(path), a, mode),
    }
}

pub(crate) fn svd<T: Scalar>(
    exec: &Exec,
    op: &'static str,
    a: ArrayView2<T>,
    vectors: Vectors,
) -> Result<Svd<T>> {
    let path = route(exec, op)?;
    match level3::<T>(exec, path) {
        Some(l3) => l3.run(|| factor::svd::svd(op, &l3, a, vectors)),
        None => blas::svd::svd(op, threads_of(path), a, vectors),
    }
}

pub(crate) fn eigh<T: Scalar>(
    exec: &Exec,
    op: &'static str,
    a: ArrayView2<T>,
    vectors: bool,
) -> Result<Eigh<T>> {
    let path = route(exec, op)?;
    match level3::<T>(exec, path) {
        Some(l3) => l3.run(|| factor::eigh::eigh(op, &l3, a, vectors)),
        None => blas::eigh::eigh(op, threads_of(path), a, vectors),
    }
}

pub(crate) fn eig<T: Scalar>(
    exec: &Exec,
    op: &'static str,
    a: ArrayView2<T>,
    vectors: bool,
) -> Result<Eig<T>> {
    let threads = route_blas(exec, op)?;
    blas::eig::eig(op, threads, a, vectors)
}

pub(crate) fn lstsq<T: Scalar>(
    exec: &Exec,
    a: ArrayView2<T>,
    b: ArrayView2<T>,
    rcond: T,
) -> Result<Lstsq<T>> {
    let path = route(exec, "lstsq")?;
    match level3::<T>(exec, path) {
        Some(l3) => l3.run(|| factor::lstsq::lstsq("lstsq", &l3, a, b, rcond)),
        None => blas::lstsq::lstsq("lstsq", threads_of(path), a, b, rcond),
    }
}

pub(crate) fn solve_triangular<T: Scalar>(
    exec: &Exec,
    a: ArrayView2<T>,
    b: ArrayView2<T>,
    uplo: Uplo,
    trans: Trans,
    diag: Diag,
) -> Result<Array2<T>> {
    const OP: &str = "solve_triangular";
    let path = route(exec, OP)?;
    match level3::<T>(exec, path) {
        Some(l3) => {
            l3.run(|| factor::triangular::solve_triangular(OP, &l3, a, b, uplo, trans, diag))
        }
        None => blas::triangular::solve_triangular(OP, threads_of(path), a, b, uplo, trans, diag),
    }
}

// ---------------------------------------------------------------------------------------------
// Batched operations: which strategy runs a batch, and how it maps onto engines.
// ---------------------------------------------------------------------------------------------

// `auto`'s thresholds were read off `cargo run --release --example batch -- --grid` on the 2-core
// dev machine (f64, 2 threads, speed of rayon-blas over loop; rows: order, columns: batch length;
// one run on a machine shared with other builds, so single cells are noisy by ±0.3):
//
// matmul  b2    b3    b4    b8    b32   b128  b512  b2048      solve  b2    b3    b4    b8    b32   b128  b512
//    4    0.05  0.06  0.06  0.09  0.20  0.45  0.48  0.52          4  0.08  0.17  0.10  0.26  0.40  0.54  0.79
//   16    0.18  0.17  0.09  0.14  0.36  0.55  0.76  0.66         16  0.31  0.25  0.34  0.59  0.60  0.86  0.96
//   32    0.32  0.32  0.26  0.44  0.81  0.78  0.94  1.58         32  0.46  0.53  0.54  0.62  0.87  1.72  1.33
//   64    0.51  0.79  0.64  0.61  1.42  1.78  1.80  1.89         64  1.07  0.96  1.38  0.81  1.69  1.49  1.76
//  128    0.86  0.66  0.98  0.57  0.57  1.13  1.31             128  1.68  1.45  1.91  1.96  1.97  2.00  2.06
//  256    1.01  0.53  1.04  1.04  1.07                         256  1.02  1.49  1.99  1.99  1.98
//  512    1.20  0.86  1.11  1.09                               512  1.95  1.46  2.02  1.95
//
// Small batches of small matrices lose: waking the pool's workers costs tens of µs, and
// concurrent OpenBLAS calls contend for its buffer allocator. Large GEMMs are threaded well by
// OpenBLAS itself, so rayon only helps when the batch divides evenly enough; OpenBLAS's threaded
// LU and Cholesky are poor up to n = 512, so rayon over the batch wins there from two items on.

/// Least total work (floating-point operations over the whole batch) for which `auto` spreads a
/// batch over rayon workers: below it a loop is faster (table above: e.g. 512 GEMMs of 16×16,
/// 4.2·10⁶ flops, ran at 0.76× the loop, 32 of 64×64, 1.7·10⁷ flops, at 1.42×; 128 solves of
/// 32×32, 3·10⁶ flops, at 1.72×, 32 of 32×32, 7.5·10⁵ flops, at 0.87×).
pub const BATCH_MIN_FLOPS: f64 = 4.0e6;

/// Largest GEMM order at which `auto` spreads any batch with enough work over rayon workers;
/// above it, only batches of at least [`BATCH_MIN_ITEMS_PER_WORKER`] items per worker (OpenBLAS
/// threads a large GEMM nearly perfectly, and an uneven last round of items loses: 3 GEMMs of
/// 256×256 ran at 0.53× the loop).
pub const BATCH_GEMM_SMALL_ORDER: usize = 128;

/// Largest order at which `auto` spreads any batch of factorizations (`solve`, `inv`,
/// `cholesky`) with enough work over rayon workers (OpenBLAS's threaded LU stays far from 2×
/// one thread up to here: 2 solves of 512×512 ran 1.95× faster on rayon-blas); above it, the
/// items-per-worker rule of GEMM applies (not measured beyond 512).
pub const BATCH_FACTOR_SMALL_ORDER: usize = 512;

/// Items per worker from which `auto` spreads a batch of large matrices over rayon workers.
pub const BATCH_MIN_ITEMS_PER_WORKER: usize = 4;

/// The work of one square item of order `n` of `op` (for [`Batch::plan`](crate::batch::Batch::plan),
/// which knows only the order; calls count the real shapes).
pub(crate) fn square_flops(op: &str, n: usize) -> f64 {
    let n = n as f64;
    match op {
        "matmul" | "gemm" | "inv" => 2.0 * n * n * n,
        "solve" => 2.0 / 3.0 * n * n * n + 2.0 * n * n,
        "cholesky" => n * n * n / 3.0,
        _ => 2.0 * n * n * n,
    }
}

/// What a batched call will do, for reports and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct BatchPlan {
    /// The concrete strategy (never `auto`).
    pub strategy: Strategy,
    /// Threads working over the batch: 1 means the items run one after another on the calling
    /// thread.
    pub workers: usize,
    /// What each item runs on: the single-matrix operation, its engine and threads.
    pub item: Plan,
}

/// `auto`'s choice among the strategies whose item engine implements `op` (today `loop` and
/// `rayon-blas`, both on the `blas` engine, which implements everything; `rayon` is only run
/// when asked for, until its kernels are measured against single-threaded OpenBLAS).
fn auto_strategy(op: &str, len: usize, order: usize, flops: f64, workers: usize) -> Strategy {
    if workers <= 1 || len < 2 || flops < BATCH_MIN_FLOPS || !implements(Engine::Blas, op) {
        return Strategy::Loop;
    }
    let small = match op {
        "solve" | "inv" | "cholesky" => BATCH_FACTOR_SMALL_ORDER,
        _ => BATCH_GEMM_SMALL_ORDER,
    };
    if order <= small || len >= workers * BATCH_MIN_ITEMS_PER_WORKER {
        Strategy::RayonBlas
    } else {
        Strategy::Loop
    }
}

/// Resolves a strategy for a batch of `len` items of the single-matrix operation `op` whose
/// largest dimension is `order` and whose total work is `flops`.
///
/// `auto` follows an explicit engine of `exec` (`blas` → loop, `rayon-blas` → rayon-blas,
/// `rayon` → rayon) and picks by size only under engine `auto`. Inside a rayon worker the batch
/// gets one worker and each item one thread, as every nested parla call does.
///
/// # Errors
/// [`Error::Unsupported`] when the item engine does not implement `op`.
pub(crate) fn batch_plan(
    exec: &Exec,
    strategy: Strategy,
    op: &'static str,
    len: usize,
    order: usize,
    flops: f64,
) -> Result<BatchPlan> {
    batch_route(exec, strategy, op, len, order, flops).map(|(p, _)| p)
}

/// [`batch_plan`] and the execution value each item runs with (`exec` with the item's engine
/// and threads, keeping its other settings: instruction set, GEMM blocks).
fn batch_route(
    exec: &Exec,
    strategy: Strategy,
    op: &'static str,
    len: usize,
    order: usize,
    flops: f64,
) -> Result<(BatchPlan, Exec)> {
    let workers = if threads::in_rayon_worker() {
        1
    } else {
        exec.threads_for(Engine::RayonBlas)
    };
    let strategy = match (strategy, exec.engine()) {
        (Strategy::Auto, Engine::Blas) => Strategy::Loop,
        (Strategy::Auto, Engine::RayonBlas) => Strategy::RayonBlas,
        (Strategy::Auto, Engine::Rayon) => Strategy::Rayon,
        (Strategy::Auto, Engine::Auto) => auto_strategy(op, len, order, flops, workers),
        (s, _) => s,
    };
    let (workers, item) = match strategy {
        Strategy::Loop | Strategy::Auto => (1, exec.with_engine(Engine::Blas)),
        Strategy::RayonBlas => (workers, exec.with_engine(Engine::Blas).with_threads(1)?),
        Strategy::Rayon => (workers, exec.with_engine(Engine::Rayon).with_threads(1)?),
    };
    let p = BatchPlan {
        strategy,
        workers,
        item: plan(&item, op)?,
    };
    Ok((p, item))
}

/// One batched call, as the public API describes it to [`batch`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct BatchJob {
    /// The batched operation, for errors (`"batch::solve"`).
    pub batch_op: &'static str,
    /// The single-matrix operation each item runs (`"solve"`).
    pub op: &'static str,
    /// Items in the batch.
    pub len: usize,
    /// Largest dimension of an item (for `auto`).
    pub order: usize,
    /// Floating-point operations of one item (for the chunk size).
    pub item_flops: f64,
}

impl BatchJob {
    /// A batch of `len` items of `op` whose largest dimension is `order` and whose total work
    /// is `flops` (the per-item average is what the chunking uses).
    pub(crate) fn new(
        batch_op: &'static str,
        op: &'static str,
        len: usize,
        order: usize,
        flops: f64,
    ) -> Self {
        BatchJob {
            batch_op,
            op,
            len,
            order,
            item_flops: flops / len.max(1) as f64,
        }
    }
}

/// Runs `f(item_exec, i, outs[i])` for every item of a validated batch with the strategy's
/// workers; `item_exec` is the engine and threads each item runs on.
///
/// # Errors
/// [`Error::Unsupported`] (named after the batched operation) before any item runs; the error
/// of the lowest failing item as [`Error::Batch`].
pub(crate) fn batch<O, F>(
    exec: &Exec,
    strategy: Strategy,
    job: BatchJob,
    outs: Vec<O>,
    f: F,
) -> Result<()>
where
    O: Send,
    F: Fn(&Exec, usize, O) -> Result<()> + Sync,
{
    let flops = job.item_flops * job.len as f64;
    let (p, item) = batch_route(exec, strategy, job.op, job.len, job.order, flops)
        .map_err(|e| e.with_op(job.batch_op))?;
    // Single-threaded OpenBLAS items: each chunk enters OpenBLAS's gate once, not per item.
    let hold = p.item.engine == Engine::Blas && p.item.threads == 1;
    let init = || hold.then(threads::openblas::hold_single);
    let run = || {
        parallel::batch::for_each(
            job.batch_op,
            p.workers,
            job.item_flops,
            outs,
            init,
            |i, o| f(&item, i, o),
        )
    };
    // A loop of multi-threaded LAPACK calls moves to a large stack once, not once per call.
    let lapack = matches!(job.op, "solve" | "inv" | "cholesky");
    if p.workers == 1 && p.item.threads > 1 && lapack {
        threads::openblas::with_lapack_stack(p.item.threads, run)
    } else {
        run()
    }
}
