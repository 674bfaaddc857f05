//! The operations parla dispatches, as a type: what [`Exec::plan`](crate::Exec::plan) is asked
//! about and what the dispatch layer routes. A misspelt operation does not compile.

use std::fmt;
use std::str::FromStr;

/// One single-matrix operation of the public API (numpy's / scipy's name, or the BLAS name for
/// the BLAS-level entry points of [`blas_level`](crate::blas_level)).
///
/// ```
/// use parla::Op;
/// assert_eq!(Op::Matmul.name(), "matmul");
/// assert_eq!("solve_triangular".parse::<Op>()?, Op::SolveTriangular);
/// assert!("matmull".parse::<Op>().is_err());
/// # Ok::<(), parla::UnknownOp>(())
/// ```
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Op {
    /// `a @ b` ([`matmul`](crate::matmul)).
    Matmul,
    /// `C ← α·op(A)·op(B) + β·C` ([`blas_level::gemm`](crate::blas_level::gemm)).
    Gemm,
    /// `y ← α·op(A)·x + β·y` ([`blas_level::gemv`](crate::blas_level::gemv)).
    Gemv,
    /// `A @ x` for a vector `x` ([`matvec`](crate::matvec)).
    Matvec,
    /// `xᵀy` ([`dot`](crate::dot)).
    Dot,
    /// `y ← α·x + y` ([`blas_level::axpy`](crate::blas_level::axpy)).
    Axpy,
    /// `x ← α·x` ([`blas_level::scal`](crate::blas_level::scal)).
    Scal,
    /// `‖x‖₂` ([`blas_level::nrm2`](crate::blas_level::nrm2)).
    Nrm2,
    /// `a.sum(axis=1)` ([`row_sums`](crate::row_sums)).
    RowSums,
    /// `a.sum(axis=0)` ([`col_sums`](crate::col_sums)).
    ColSums,
    /// `norm(a, axis=1)` ([`row_norms`](crate::row_norms)).
    RowNorms,
    /// `norm(a, axis=0)` ([`col_norms`](crate::col_norms)).
    ColNorms,
    /// `f(a)` element-wise ([`map`](crate::map)).
    Map,
    /// `f(a, b)` element-wise ([`zip_with`](crate::zip_with)).
    ZipWith,
    /// `a * b` element-wise ([`multiply`](crate::multiply)).
    Multiply,
    /// `aᵀ` as a new C-order array ([`transpose`](crate::transpose)).
    Transpose,
    /// `A = L·Lᵀ` ([`cholesky`](crate::cholesky)).
    Cholesky,
    /// `P·A = L·U` ([`lu`](crate::lu)).
    Lu,
    /// `A·X = B` ([`solve`](crate::solve)).
    Solve,
    /// `A⁻¹` ([`inv`](crate::inv)).
    Inv,
    /// `det(A)` ([`det`](crate::det)).
    Det,
    /// `(sign, log|det A|)` ([`slogdet`](crate::slogdet)).
    Slogdet,
    /// `A = Q·R` ([`qr`](crate::qr)).
    Qr,
    /// `op(A)·X = B` for triangular `A` ([`solve_triangular`](crate::solve_triangular)).
    SolveTriangular,
    /// `A = U·Σ·Vᵀ` ([`svd`](crate::svd)).
    Svd,
    /// `σ(A)` ([`svdvals`](crate::svdvals)).
    Svdvals,
    /// Moore–Penrose pseudo-inverse ([`pinv`](crate::pinv)).
    Pinv,
    /// 2-norm condition number ([`cond`](crate::cond)).
    Cond,
    /// Numerical rank ([`matrix_rank`](crate::matrix_rank)).
    MatrixRank,
    /// Matrix norms ([`norm`](crate::norm); the 2-norm needs singular values).
    Norm,
    /// `A = V·Λ·Vᵀ` for symmetric `A` ([`eigh`](crate::eigh)).
    Eigh,
    /// `λ(A)` for symmetric `A` ([`eigvalsh`](crate::eigvalsh)).
    Eigvalsh,
    /// General eigen-decomposition ([`eig`](crate::eig)).
    Eig,
    /// General eigenvalues ([`eigvals`](crate::eigvals)).
    Eigvals,
    /// `min ‖A·X − B‖` ([`lstsq`](crate::lstsq)).
    Lstsq,
    /// `P·A = L·U` kept for solves ([`lu_factor`](crate::lu_factor)).
    LuFactor,
    /// `A·X = B` or `Aᵀ·X = B` from a kept LU factor ([`LuFactor::solve`](crate::LuFactor::solve)).
    LuSolve,
    /// `A = L·Lᵀ` kept for solves ([`cho_factor`](crate::cho_factor)).
    ChoFactor,
    /// `A·X = B` from a kept Cholesky factor
    /// ([`CholeskyFactor::solve`](crate::CholeskyFactor::solve)).
    ChoSolve,
    /// `A = Q·R` kept for least-squares solves ([`qr_factor`](crate::qr_factor)).
    QrFactor,
    /// `min ‖A·X − B‖` from a kept QR factor
    /// ([`QrFactor::solve_lstsq`](crate::QrFactor::solve_lstsq)).
    QrLstsq,
}

/// What kind of work an operation is: how `auto` and the reports treat it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Family {
    /// Matrix–matrix products (flop-bound, `2·m·n·k`).
    Gemm,
    /// Vector and matrix–vector operations (memory-bound).
    Level12,
    /// Sums and norms along an axis (memory-bound).
    Reduction,
    /// Element-wise maps and the transpose (memory-bound, no BLAS kernel for closures).
    Elementwise,
    /// Factorizations written over the engine's GEMM (`factor/`): Cholesky, LU family, QR,
    /// triangular solves.
    Factor,
    /// SVD- and eigenvalue-based operations.
    Spectral,
}

impl Op {
    /// Every operation, in declaration order.
    pub const ALL: [Op; 41] = [
        Op::Matmul,
        Op::Gemm,
        Op::Gemv,
        Op::Matvec,
        Op::Dot,
        Op::Axpy,
        Op::Scal,
        Op::Nrm2,
        Op::RowSums,
        Op::ColSums,
        Op::RowNorms,
        Op::ColNorms,
        Op::Map,
        Op::ZipWith,
        Op::Multiply,
        Op::Transpose,
        Op::Cholesky,
        Op::Lu,
        Op::Solve,
        Op::Inv,
        Op::Det,
        Op::Slogdet,
        Op::Qr,
        Op::SolveTriangular,
        Op::Svd,
        Op::Svdvals,
        Op::Pinv,
        Op::Cond,
        Op::MatrixRank,
        Op::Norm,
        Op::Eigh,
        Op::Eigvalsh,
        Op::Eig,
        Op::Eigvals,
        Op::Lstsq,
        Op::LuFactor,
        Op::LuSolve,
        Op::ChoFactor,
        Op::ChoSolve,
        Op::QrFactor,
        Op::QrLstsq,
    ];

    /// The public function's name (`"matmul"`, `"solve_triangular"`), as errors report it.
    pub const fn name(self) -> &'static str {
        match self {
            Op::Matmul => "matmul",
            Op::Gemm => "gemm",
            Op::Gemv => "gemv",
            Op::Matvec => "matvec",
            Op::Dot => "dot",
            Op::Axpy => "axpy",
            Op::Scal => "scal",
            Op::Nrm2 => "nrm2",
            Op::RowSums => "row_sums",
            Op::ColSums => "col_sums",
            Op::RowNorms => "row_norms",
            Op::ColNorms => "col_norms",
            Op::Map => "map",
            Op::ZipWith => "zip_with",
            Op::Multiply => "multiply",
            Op::Transpose => "transpose",
            Op::Cholesky => "cholesky",
            Op::Lu => "lu",
            Op::Solve => "solve",
            Op::Inv => "inv",
            Op::Det => "det",
            Op::Slogdet => "slogdet",
            Op::Qr => "qr",
            Op::SolveTriangular => "solve_triangular",
            Op::Svd => "svd",
            Op::Svdvals => "svdvals",
            Op::Pinv => "pinv",
            Op::Cond => "cond",
            Op::MatrixRank => "matrix_rank",
            Op::Norm => "norm",
            Op::Eigh => "eigh",
            Op::Eigvalsh => "eigvalsh",
            Op::Eig => "eig",
            Op::Eigvals => "eigvals",
            Op::Lstsq => "lstsq",
            Op::LuFactor => "lu_factor",
            Op::LuSolve => "lu_solve",
            Op::ChoFactor => "cho_factor",
            Op::ChoSolve => "cho_solve",
            Op::QrFactor => "qr_factor",
            Op::QrLstsq => "qr_lstsq",
        }
    }

    /// The operation's [`Family`].
    pub const fn family(self) -> Family {
        match self {
            Op::Matmul | Op::Gemm => Family::Gemm,
            Op::Gemv | Op::Matvec | Op::Dot | Op::Axpy | Op::Scal | Op::Nrm2 => Family::Level12,
            Op::RowSums | Op::ColSums | Op::RowNorms | Op::ColNorms => Family::Reduction,
            Op::Map | Op::ZipWith | Op::Multiply | Op::Transpose => Family::Elementwise,
            Op::Cholesky
            | Op::Lu
            | Op::Solve
            | Op::Inv
            | Op::Det
            | Op::Slogdet
            | Op::Qr
            | Op::SolveTriangular
            | Op::LuFactor
            | Op::LuSolve
            | Op::ChoFactor
            | Op::ChoSolve
            | Op::QrFactor
            | Op::QrLstsq => Family::Factor,
            Op::Svd
            | Op::Svdvals
            | Op::Pinv
            | Op::Cond
            | Op::MatrixRank
            | Op::Norm
            | Op::Eigh
            | Op::Eigvalsh
            | Op::Eig
            | Op::Eigvals
            | Op::Lstsq => Family::Spectral,
        }
    }

    /// Nominal floating-point operations of one call on operands of `shape` (the counts the
    /// reports divide by; LAPACK's leading terms).
    ///
    /// ```
    /// use parla::{Op, Shape};
    /// assert_eq!(Op::Matmul.flops(Shape::Product { m: 2, n: 3, k: 4 }), 48.0);
    /// assert_eq!(Op::Cholesky.flops(Shape::Square(3)), 9.0);
    /// assert_eq!(Op::Matmul.flops(Shape::Square(3)), 54.0);
    /// ```
    pub fn flops(self, shape: Shape) -> f64 {
        let (r, c, k) = match (self.family(), shape) {
            // A square product: n × n times n × n.
            (Family::Gemm, Shape::Square(n)) => (n, n, n),
            _ => shape.dims(),
        };
        let (r, c, k) = (r as f64, c as f64, k as f64);
        let n = r.max(c);
        match self {
            Op::Matmul | Op::Gemm => 2.0 * r * c * k,
            Op::Gemv | Op::Matvec => 2.0 * r * c,
            Op::Dot | Op::Axpy | Op::Nrm2 => 2.0 * r * c,
            Op::Scal | Op::RowSums | Op::ColSums | Op::Map | Op::ZipWith | Op::Multiply => r * c,
            Op::RowNorms | Op::ColNorms => 2.0 * r * c,
            Op::Transpose => 0.0,
            Op::Cholesky => n * n * n / 3.0,
            Op::Lu | Op::Det | Op::Slogdet => 2.0 * n * n * n / 3.0,
            Op::Solve => 2.0 * n * n * n / 3.0 + 2.0 * n * n * k.max(1.0),
            Op::Inv => 2.0 * n * n * n,
            Op::SolveTriangular => n * n * k.max(1.0),
            Op::Qr => {
                // geqrf plus forming the reduced Q: 4·p·q² − 4·q³/3 for p ≥ q.
                let (p, q) = (r.max(c), r.min(c));
                4.0 * p * q * q - 4.0 * q * q * q / 3.0
            }
            Op::Eigh => 14.0 * n * n * n / 3.0,
            Op::Eigvalsh => 4.0 * n * n * n / 3.0,
            Op::Svd | Op::Pinv => 4.0 * r * c * c + 8.0 * c * c * c,
            Op::Svdvals | Op::Cond | Op::MatrixRank | Op::Norm => 4.0 * r * c * c,
            Op::Eig => 25.0 * n * n * n,
            Op::Eigvals => 10.0 * n * n * n,
            Op::Lstsq => 2.0 * r * c * c + 2.0 * r * c * k.max(1.0),
            Op::LuFactor => 2.0 * n * n * n / 3.0,
            Op::ChoFactor => n * n * n / 3.0,
            // Two triangular solves per right-hand side.
            Op::LuSolve | Op::ChoSolve => 2.0 * n * n * k.max(1.0),
            Op::QrFactor => {
                // geqrf: 2·p·q² − 2·q³/3 for p ≥ q.
                let (p, q) = (r.max(c), r.min(c));
                2.0 * p * q * q - 2.0 * q * q * q / 3.0
            }
            // Qᵀ·B (4·m·n − 2·n² per column) and the triangular solve (n² per column).
            Op::QrLstsq => (4.0 * r * c - c * c) * k.max(1.0),
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not an operation (from `str::parse::<Op>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownOp(pub String);

impl fmt::Display for UnknownOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown operation {:?}", self.0)
    }
}

impl std::error::Error for UnknownOp {}

impl FromStr for Op {
    type Err = UnknownOp;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Op::ALL
            .into_iter()
            .find(|o| o.name() == s)
            .ok_or_else(|| UnknownOp(s.to_string()))
    }
}

/// The element type of a call.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[non_exhaustive]
pub enum Dtype {
    /// `f32` (numpy's `float32`).
    #[serde(rename = "float32")]
    F32,
    /// `f64` (numpy's `float64`).
    #[serde(rename = "float64")]
    F64,
    /// `Complex<f32>` (numpy's `complex64`).
    #[serde(rename = "complex64")]
    C64,
    /// `Complex<f64>` (numpy's `complex128`).
    #[serde(rename = "complex128")]
    C128,
}

impl Dtype {
    /// Every element type, in order.
    pub const ALL: [Dtype; 4] = [Dtype::F32, Dtype::F64, Dtype::C64, Dtype::C128];

    /// numpy's name: `"float32"`, `"float64"`, `"complex64"`, `"complex128"`.
    pub const fn name(self) -> &'static str {
        match self {
            Dtype::F32 => "float32",
            Dtype::F64 => "float64",
            Dtype::C64 => "complex64",
            Dtype::C128 => "complex128",
        }
    }

    /// Bytes per element.
    pub const fn bytes(self) -> usize {
        match self {
            Dtype::F32 => 4,
            Dtype::F64 | Dtype::C64 => 8,
            Dtype::C128 => 16,
        }
    }

    /// Whether the type is complex.
    pub const fn is_complex(self) -> bool {
        matches!(self, Dtype::C64 | Dtype::C128)
    }

    /// The real type of the same precision (`float32` for `complex64`).
    pub const fn real(self) -> Dtype {
        match self {
            Dtype::F32 | Dtype::C64 => Dtype::F32,
            Dtype::F64 | Dtype::C128 => Dtype::F64,
        }
    }
}

/// A dtype name [`Dtype::from_str`](std::str::FromStr) does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownDtype(pub String);

impl fmt::Display for UnknownDtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown dtype `{}` (expected float32, float64, complex64 or complex128)",
            self.0
        )
    }
}

impl std::error::Error for UnknownDtype {}

impl FromStr for Dtype {
    type Err = UnknownDtype;

    /// numpy's names (`"complex128"`), ASCII case ignored; also the Rust spellings `f32`,
    /// `f64`, `c32`, `c64` (`c64` is `Complex<f64>`, numpy's `complex128`).
    ///
    /// ```
    /// use parla::Dtype;
    /// assert_eq!("complex128".parse::<Dtype>()?, Dtype::C128);
    /// assert_eq!("c32".parse::<Dtype>()?, Dtype::C64);
    /// # Ok::<(), parla::UnknownDtype>(())
    /// ```
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let l = s.to_ascii_lowercase();
        Dtype::ALL
            .into_iter()
            .find(|d| d.name() == l)
            .or(match l.as_str() {
                "f32" => Some(Dtype::F32),
                "f64" => Some(Dtype::F64),
                "c32" => Some(Dtype::C64),
                "c64" => Some(Dtype::C128),
                _ => None,
            })
            .ok_or_else(|| UnknownDtype(s.to_string()))
    }
}

impl fmt::Display for Dtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The operand sizes a plan is asked for: enough for `auto` to choose by size and shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[non_exhaustive]
pub enum Shape {
    /// Not known: `auto` assumes a large problem.
    Unknown,
    /// A vector of this length (level 1).
    Vector(usize),
    /// A `rows × cols` matrix (level 2, reductions, element-wise, transpose).
    Matrix(usize, usize),
    /// An `n × n` matrix (factorizations, spectral operations; for a product, `n × n` times
    /// `n × n`).
    Square(usize),
    /// A square or rectangular system: `a` is `rows × cols`, `rhs` right-hand sides.
    System {
        /// Rows of the coefficient matrix.
        rows: usize,
        /// Columns of the coefficient matrix.
        cols: usize,
        /// Right-hand sides (columns of `B`).
        rhs: usize,
    },
    /// The product of an `m × k` and a `k × n` matrix.
    Product {
        /// Rows of the result.
        m: usize,
        /// Columns of the result.
        n: usize,
        /// The inner dimension.
        k: usize,
    },
}

impl Shape {
    /// `(rows, cols, third)`: the result/coefficient dimensions and `k` (inner dimension or
    /// right-hand sides; 0 where it does not apply). `Unknown` is a large square problem.
    pub(crate) fn dims(self) -> (usize, usize, usize) {
        match self {
            Shape::Unknown => (4096, 4096, 4096),
            Shape::Vector(n) => (n, 1, 0),
            Shape::Matrix(r, c) => (r, c, 0),
            Shape::Square(n) => (n, n, 0),
            Shape::System { rows, cols, rhs } => (rows, cols, rhs),
            Shape::Product { m, n, k } => (m, n, k),
        }
    }
}

/// What names a failing call in an error: an [`Op`] or a plain name (`"batch::solve"`,
/// `"Exec::new"`). Lets the boundary checks take either.
pub(crate) trait Label: Copy {
    /// The name errors report.
    fn label(self) -> &'static str;
}

impl Label for Op {
    fn label(self) -> &'static str {
        self.name()
    }
}

impl Label for &'static str {
    fn label(self) -> &'static str {
        self
    }
}
