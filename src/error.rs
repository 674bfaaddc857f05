//! The one error type of the crate.
//!
//! Every fallible public function returns [`Result<T>`](crate::Result). Bad input is reported
//! here with typed fields, never by a panic.

use crate::engine::Engine;

/// Everything that can go wrong in parla.
///
/// Each variant names the operation (`op`) that failed, so a message read out of context still
/// says where it came from.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Two operands have shapes that do not fit together.
    #[error("{op}: shape mismatch between {left:?} and {right:?}")]
    ShapeMismatch {
        /// The operation.
        op: &'static str,
        /// Shape of the left operand.
        left: Vec<usize>,
        /// Shape of the right operand.
        right: Vec<usize>,
    },
    /// The operation needs a square matrix.
    #[error("{op}: expected a square matrix, got shape {rows}x{cols}")]
    NotSquare {
        /// The operation.
        op: &'static str,
        /// Rows of the matrix.
        rows: usize,
        /// Columns of the matrix.
        cols: usize,
    },
    /// The operation is undefined on an empty input.
    #[error("{op}: undefined for an empty input of shape {shape:?}")]
    Empty {
        /// The operation.
        op: &'static str,
        /// Shape of the empty input.
        shape: Vec<usize>,
    },
    /// The matrix is exactly singular: `U[pivot, pivot]` of its LU factorization is zero
    /// (or, for triangular solves, the diagonal entry `pivot` is zero).
    #[error("{op}: matrix is singular (zero pivot at index {pivot})")]
    Singular {
        /// The operation.
        op: &'static str,
        /// Zero-based index of the first zero pivot.
        pivot: usize,
    },
    /// The matrix is not (numerically) positive definite: the leading minor of order
    /// `index + 1` is not positive.
    #[error("{op}: matrix is not positive definite (leading minor of order {} fails)", index + 1)]
    NotPositiveDefinite {
        /// The operation.
        op: &'static str,
        /// Zero-based index of the failing diagonal entry.
        index: usize,
    },
    /// An iterative algorithm (SVD, eigenvalues) did not converge.
    #[error("{op}: the algorithm did not converge ({detail})")]
    NoConvergence {
        /// The operation.
        op: &'static str,
        /// What LAPACK reported.
        detail: String,
    },
    /// The input holds NaN or ±Inf where the operation cannot give a meaningful answer.
    #[error("{op}: input holds a non-finite value ({value}) at index {index:?}")]
    NonFinite {
        /// The operation.
        op: &'static str,
        /// Index of the first non-finite element.
        index: Vec<usize>,
        /// The value found there, as text (`NaN`, `inf`, `-inf`).
        value: String,
    },
    /// A dimension, leading dimension, stride or workspace size does not fit in the 32-bit
    /// integers that BLAS and LAPACK take.
    #[error("{op}: {what} = {value} exceeds the BLAS/LAPACK 32-bit limit {max}")]
    TooLarge {
        /// The operation.
        op: &'static str,
        /// Which quantity overflowed (e.g. `"rows"`, `"workspace"`).
        what: &'static str,
        /// Its value.
        value: usize,
        /// The largest allowed value.
        max: usize,
    },
    /// The engine does not (yet) implement this operation.
    #[error("{op}: not supported on engine `{engine}`")]
    Unsupported {
        /// The operation.
        op: &'static str,
        /// The engine that was asked.
        engine: Engine,
    },
    /// An environment variable holds a value parla cannot use.
    #[error("environment variable {var}={value:?} is invalid: {reason}")]
    InvalidEnv {
        /// The variable.
        var: &'static str,
        /// Its raw value.
        value: String,
        /// What is allowed.
        reason: String,
    },
    /// An argument other than an array shape is out of its domain (a thread count of 0, a
    /// negative tolerance, ...).
    #[error("{op}: invalid argument {name}: {reason}")]
    InvalidArgument {
        /// The operation.
        op: &'static str,
        /// The argument.
        name: &'static str,
        /// What is allowed.
        reason: String,
    },
    /// A file operation failed.
    #[error("{op}: {path}: {message}")]
    Io {
        /// The operation.
        op: &'static str,
        /// The file or directory.
        path: String,
        /// What the operating system said.
        message: String,
    },
    /// A task run by [`Parallel`](crate::Parallel) panicked; the panic was caught.
    #[error("task {index} panicked: {message}")]
    TaskPanicked {
        /// Position of the task's item in the input.
        index: usize,
        /// The panic payload, when it was a string.
        message: String,
    },
    /// One item of a batched operation ([`parla::batch`](crate::batch)) failed: `source` is that
    /// item's error (a shape mismatch, a singular or not positive definite matrix, a NaN ...),
    /// `index` its position in the batch. When several items fail, `index` is the lowest.
    #[error("{op}: item {index} of the batch: {source}")]
    Batch {
        /// The batched operation (`"batch::solve"`, ...).
        op: &'static str,
        /// Zero-based position of the failing item in the batch.
        index: usize,
        /// The item's error (its `op` is the single-matrix operation, e.g. `"solve"`).
        source: Box<Error>,
    },
    /// The output array of an `_into` operation shares memory with one of its inputs
    /// (possible only with views built from raw pointers: the borrow checker forbids it
    /// otherwise).
    #[error("{op}: the output overlaps input `{input}` in memory")]
    Aliasing {
        /// The operation.
        op: &'static str,
        /// The input it overlaps (`"a"`, `"b"`, ...).
        input: &'static str,
    },
    /// LAPACK rejected an argument (a bug in parla if it ever shows up).
    #[error("{op}: LAPACK routine {routine} rejected argument {arg}")]
    Lapack {
        /// The operation.
        op: &'static str,
        /// The LAPACK routine.
        routine: &'static str,
        /// One-based index of the illegal argument, as LAPACK reports it.
        arg: i32,
    },
}

impl Error {
    /// The same error attributed to `op` (for operations built on other public operations,
    /// so the caller sees the name it called).
    pub(crate) fn with_op(self, new: impl crate::op::Label) -> Self {
        use Error::*;
        let new = new.label();
        match self {
            ShapeMismatch { left, right, .. } => ShapeMismatch {
                op: new,
                left,
                right,
            },
            NotSquare { rows, cols, .. } => NotSquare {
                op: new,
                rows,
                cols,
            },
            Empty { shape, .. } => Empty { op: new, shape },
            Singular { pivot, .. } => Singular { op: new, pivot },
            NotPositiveDefinite { index, .. } => NotPositiveDefinite { op: new, index },
            NoConvergence { detail, .. } => NoConvergence { op: new, detail },
            NonFinite { index, value, .. } => NonFinite {
                op: new,
                index,
                value,
            },
            TooLarge {
                what, value, max, ..
            } => TooLarge {
                op: new,
                what,
                value,
                max,
            },
            Unsupported { engine, .. } => Unsupported { op: new, engine },
            InvalidArgument { name, reason, .. } => InvalidArgument {
                op: new,
                name,
                reason,
            },
            Aliasing { input, .. } => Aliasing { op: new, input },
            Lapack { routine, arg, .. } => Lapack {
                op: new,
                routine,
                arg,
            },
            Io { path, message, .. } => Io {
                op: new,
                path,
                message,
            },
            Batch { index, source, .. } => Batch {
                op: new,
                index,
                source,
            },
            e @ (InvalidEnv { .. } | TaskPanicked { .. }) => e,
        }
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
