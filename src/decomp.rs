//! Option and result types shared by the operations and the engines.

use ndarray::{Array1, Array2};
use num_complex::Complex;

/// Whether an operand is used as is or transposed: `op(A) = A` or `Aᵀ`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Trans {
    /// `op(A) = A`.
    #[default]
    No,
    /// `op(A) = Aᵀ`.
    Yes,
    /// `op(A) = Aᴴ`, the conjugate transpose (BLAS `'C'`); the same as [`Trans::Yes`] for real
    /// types.
    Conj,
}

/// Which triangle of a matrix holds the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Uplo {
    /// The lower triangle (and the diagonal).
    #[default]
    Lower,
    /// The upper triangle (and the diagonal).
    Upper,
}

/// Whether a triangular matrix has an implicit unit diagonal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Diag {
    /// The diagonal is read from the matrix.
    #[default]
    NonUnit,
    /// The diagonal is taken to be all ones and not read.
    Unit,
}

/// Shape of the factors returned by [`qr`](crate::qr).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum QrMode {
    /// `Q` is `m × k`, `R` is `k × n`, with `k = min(m, n)` (numpy's `"reduced"`).
    #[default]
    Reduced,
    /// `Q` is `m × m`, `R` is `m × n` (numpy's `"complete"`).
    Complete,
}

/// Shape of the singular vectors returned by [`svd`](crate::svd) (numpy's `full_matrices`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SvdMode {
    /// `U` is `m × k`, `Vᵀ` is `k × n`, `k = min(m, n)` (numpy's `full_matrices=False`).
    #[default]
    Thin,
    /// `U` is `m × m`, `Vᵀ` is `n × n` (numpy's `full_matrices=True`).
    Full,
}

/// Matrix norms accepted by [`norm`](crate::norm).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum NormKind {
    /// Frobenius norm `sqrt(Σ a_ij²)`, computed with scaling so it neither overflows nor
    /// underflows.
    #[default]
    Fro,
    /// Largest column sum of absolute values.
    One,
    /// Largest row sum of absolute values.
    Inf,
    /// Largest singular value (spectral norm).
    Two,
}

/// `A = P L U`: the LU factorization with partial pivoting of an `m × n` matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Lu<T> {
    /// `m × m` permutation matrix.
    pub p: Array2<T>,
    /// `m × k` unit lower-trapezoidal factor, `k = min(m, n)`.
    pub l: Array2<T>,
    /// `k × n` upper-trapezoidal factor.
    pub u: Array2<T>,
    /// The permutation as indices: row `i` of `L U` is row `perm[i]` of `A`
    /// (so `P[perm[i], i] = 1`).
    pub perm: Vec<usize>,
}

/// `A = Q R`.
#[derive(Debug, Clone, PartialEq)]
pub struct Qr<T> {
    /// Orthonormal columns.
    pub q: Array2<T>,
    /// Upper trapezoidal.
    pub r: Array2<T>,
}

impl QrMode {
    /// Columns of Q (= rows of R) for an `m × n` matrix: `min(m, n)` reduced, `m` complete.
    pub(crate) fn q_cols(self, m: usize, n: usize) -> usize {
        match self {
            QrMode::Reduced => m.min(n),
            QrMode::Complete => m,
        }
    }
}

/// R of a QR factorization: the first `rows` rows of the upper trapezoid of `f` (a packed
/// Householder factor: R on and above the diagonal), zeros elsewhere. Copied a column at a
/// time into a column-major `R`: both walks are in memory order when `f` is column-major (as
/// every packed factor is), where a row at a time strides by a column per element.
pub(crate) fn upper_rows<T: crate::alloc::Zeroable>(
    op: &'static str,
    f: ndarray::ArrayView2<T>,
    rows: usize,
) -> crate::error::Result<Array2<T>> {
    let (m, n) = f.dim();
    let mut r = crate::alloc::zeros_f::<T>(op, rows, n)?;
    let top = rows.min(m);
    for j in 0..n {
        let h = top.min(j + 1);
        r.slice_mut(ndarray::s![..h, j])
            .assign(&f.slice(ndarray::s![..h, j]));
    }
    Ok(r)
}

/// L of an LU factorization: the first `cols` columns of the strictly lower trapezoid of `f`
/// (a packed LU factor: L's multipliers below the diagonal) with a unit diagonal, zeros above;
/// column-major, copied a column at a time like [`upper_rows`].
pub(crate) fn unit_lower_cols<T: crate::scalar::Field>(
    op: &'static str,
    f: ndarray::ArrayView2<T>,
    cols: usize,
) -> crate::error::Result<Array2<T>> {
    let m = f.nrows();
    let mut l = crate::alloc::zeros_f::<T>(op, m, cols)?;
    for j in 0..cols.min(m) {
        l[[j, j]] = T::one();
        l.slice_mut(ndarray::s![j + 1.., j])
            .assign(&f.slice(ndarray::s![j + 1.., j]));
    }
    Ok(l)
}

/// `A = U diag(s) Vᵀ` (`A = U diag(s) Vᴴ` for complex `A`), singular values in descending
/// order. `R` is the real type of the singular values (`T` itself for real `T`, `f64` for
/// `c64`).
#[derive(Debug, Clone, PartialEq)]
pub struct Svd<T, R = T> {
    /// Left singular vectors (`m × m` full, `m × k` thin).
    pub u: Array2<T>,
    /// Singular values, descending, length `k = min(m, n)`.
    pub s: Array1<R>,
    /// Right singular vectors, transposed (conjugate-transposed for complex `A`: numpy's `vh`;
    /// `n × n` full, `k × n` thin).
    pub vt: Array2<T>,
}

/// `A = V diag(w) Vᵀ` for symmetric `A` (`A = V diag(w) Vᴴ` for Hermitian complex `A`),
/// eigenvalues ascending. `R` is the real type of the eigenvalues (`T` itself for real `T`,
/// `f64` for `c64`).
#[derive(Debug, Clone, PartialEq)]
pub struct Eigh<T, R = T> {
    /// Eigenvalues in ascending order (real, also for Hermitian complex matrices).
    pub values: Array1<R>,
    /// Orthonormal eigenvectors as columns, in the order of `values`.
    pub vectors: Array2<T>,
}

/// `A V = V diag(w)` for a general `A` (real or complex), with complex results; `T` is the real
/// type of the parts (`Eig<f64>` for `f64` and `c64` input).
#[derive(Debug, Clone, PartialEq)]
pub struct Eig<T> {
    /// Eigenvalues; complex ones come in conjugate pairs, the one with positive imaginary part
    /// first.
    pub values: Array1<Complex<T>>,
    /// Right eigenvectors as columns, each of Euclidean norm 1 with largest component real.
    pub vectors: Array2<Complex<T>>,
}

/// The least-squares solution of `min ‖A X − B‖₂` (numpy's `lstsq`). `X` is the solution's
/// type: `Array2<T>` (`n × nrhs`) for a matrix right-hand side, `Array1<T>` (length `n`) for a
/// vector one, as numpy. `T` is the (real) type of the residuals and singular values: the
/// element type for real `A`; for complex `A` the real type of its parts (`Lstsq<f64,
/// Array2<c64>>`).
#[derive(Debug, Clone, PartialEq)]
pub struct Lstsq<T, X = Array2<T>> {
    /// The minimum-norm solution: `n × nrhs`, or length `n` for a vector right-hand side.
    pub solution: X,
    /// Squared residual norm per column when `A` has full column rank and `m > n`; empty
    /// otherwise (as numpy).
    pub residuals: Array1<T>,
    /// Effective rank of `A`.
    pub rank: usize,
    /// Singular values of `A`, descending.
    pub singular_values: Array1<T>,
}

/// LU factors packed as LAPACK leaves them: `L` strictly below the diagonal (unit diagonal
/// implied), `U` on and above it, and the row interchanges.
#[derive(Debug, Clone)]
pub(crate) struct LuPacked<T> {
    /// `m × n`, column-major.
    pub lu: Array2<T>,
    /// Row `i` was interchanged with row `swaps[i]` (zero-based), for `i` in `0..min(m, n)`.
    pub swaps: Vec<usize>,
    /// Empty, or the factors are of `D·A` with `D = diag(2^row_exp[i])`: rows scaled by powers
    /// of two (exactly) because factoring `A` itself overflowed.
    pub row_exp: Vec<i32>,
}
