//! The operations `parla compare` knows: one [`OpSpec`] entry each in [`REGISTRY`].
//!
//! An entry says what the size `n` means, how much work a call does (flops and bytes, the
//! nominal counts of the textbook algorithm — the same count for every engine, so rates compare
//! like times), whether the operation is bound by arithmetic or by memory traffic (which
//! decides the ceiling it is held against), the default sizes, and how to build a
//! [`Case`] from a seeded generator. Adding an operation is adding one
//! entry (and, if its API is new, one case type in [`cases`]).

use serde::{Deserialize, Serialize};

use super::cases::{self, Case, CaseRng};
use super::grid::Dtype;
use parla::Result;
use parla::{Exec, Op, Shape};

/// What limits an operation's speed, and so which measured ceiling it is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bound {
    /// Arithmetic: rated in GFLOP/s against the FMA peak of its element type.
    Compute,
    /// Memory traffic: rated in GB/s against the best streaming bandwidth (copy, triad,
    /// update) of `parla peak`.
    Memory,
}

impl Bound {
    /// `GFLOP/s` or `GB/s`.
    pub fn unit(self) -> &'static str {
        match self {
            Bound::Compute => "GFLOP/s",
            Bound::Memory => "GB/s",
        }
    }
}

/// Builds the case of one (dtype, size) from a seeded generator; `check` is the execution
/// value for reference products.
pub type Setup = fn(Dtype, usize, &mut CaseRng, &Exec) -> Result<Box<dyn Case>>;

/// One operation of the comparison.
#[derive(Debug)]
pub struct OpSpec {
    /// Name on the command line and in every output (`gemm`, `solve`, ...).
    pub name: &'static str,
    /// The operation [`Exec::plan`] is asked about per cell (which engine and threads run it
    /// at that size; an engine without it gives an `n/a` cell).
    pub plan_op: Op,
    /// The operands of one call at size `n`, as [`Exec::plan`] takes them.
    pub plan_shape: fn(usize) -> Shape,
    /// What is computed, and what `n` is.
    pub summary: &'static str,
    /// What limits it.
    pub bound: Bound,
    /// Nominal floating-point operations of one call at size `n`.
    pub flops: fn(f64) -> f64,
    /// Nominal bytes moved by one call at size `n` with elements of `elem` bytes (each input
    /// read once, each output written once).
    pub bytes: fn(f64, f64) -> f64,
    /// Bytes the comparison holds at size `n` (inputs, outputs, the `f64` references and the
    /// check products): a size is refused when this exceeds the available memory.
    pub memory: fn(f64, f64) -> f64,
    /// Sizes of the default preset.
    pub default_sizes: &'static [usize],
    /// Sizes of `--quick`.
    pub quick_sizes: &'static [usize],
    /// Element types run when `--dtype` is not given.
    pub default_dtypes: &'static [Dtype],
    /// Builds the case.
    pub setup: Setup,
    /// For the batched operations (`n` is the batch length): the order of their matrices. The
    /// cell's plan is then the batch's ([`parla::batch::Batch::plan`]).
    pub batch_order: Option<usize>,
}

impl OpSpec {
    /// Flops or bytes of one call, whichever the operation is rated by.
    pub fn work(&self, n: usize, dtype: Dtype) -> f64 {
        match self.bound {
            Bound::Compute => (self.flops)(n as f64),
            Bound::Memory => (self.bytes)(n as f64, dtype.bytes() as f64),
        }
    }
}

/// Builds `$case::<f32>` or `$case::<f64>` from `$new` (an expression over the type).
macro_rules! by_dtype {
    ($dtype:expr, |$t:ident| $new:expr) => {
        match $dtype {
            Dtype::F32 => {
                type $t = f32;
                Ok(Box::new($new?) as Box<dyn Case>)
            }
            Dtype::F64 => {
                type $t = f64;
                Ok(Box::new($new?) as Box<dyn Case>)
            }
            other => Err(parla::Error::InvalidArgument {
                op: "compare",
                name: "dtype",
                reason: format!("{other} is not compared yet"),
            }),
        }
    };
}

fn setup_gemm(d: Dtype, n: usize, rng: &mut CaseRng, check: &Exec) -> Result<Box<dyn Case>> {
    by_dtype!(d, |T| cases::Gemm::<T>::new(n, rng, check))
}

fn setup_gemv(d: Dtype, n: usize, rng: &mut CaseRng, check: &Exec) -> Result<Box<dyn Case>> {
    by_dtype!(d, |T| cases::Gemv::<T>::new(n, rng, check))
}

fn setup_axpy(d: Dtype, n: usize, rng: &mut CaseRng, _: &Exec) -> Result<Box<dyn Case>> {
    by_dtype!(d, |T| Result::Ok(cases::Axpy::<T>::new(n, rng)))
}

fn setup_row_norms(d: Dtype, n: usize, rng: &mut CaseRng, _: &Exec) -> Result<Box<dyn Case>> {
    by_dtype!(d, |T| Result::Ok(cases::Norms::<T>::new(n, true, rng)))
}

fn setup_col_norms(d: Dtype, n: usize, rng: &mut CaseRng, _: &Exec) -> Result<Box<dyn Case>> {
    by_dtype!(d, |T| Result::Ok(cases::Norms::<T>::new(n, false, rng)))
}

fn setup_batch_gemm(d: Dtype, n: usize, rng: &mut CaseRng, check: &Exec) -> Result<Box<dyn Case>> {
    by_dtype!(d, |T| cases::BatchGemm::<T>::new(n, rng, check))
}

fn setup_batch_solve(d: Dtype, n: usize, rng: &mut CaseRng, _: &Exec) -> Result<Box<dyn Case>> {
    by_dtype!(d, |T| Result::Ok(cases::BatchSolve::<T>::new(n, rng)))
}

/// Order of the matrices of the batched operations, as `f64` for the counts.
const K: f64 = cases::BATCH_ORDER as f64;

fn setup_cholesky(d: Dtype, n: usize, rng: &mut CaseRng, _: &Exec) -> Result<Box<dyn Case>> {
    by_dtype!(d, |T| Result::Ok(cases::Cholesky::<T>::new(n, rng)))
}

fn setup_solve(d: Dtype, n: usize, rng: &mut CaseRng, _: &Exec) -> Result<Box<dyn Case>> {
    by_dtype!(d, |T| Result::Ok(cases::Solve::<T>::new(n, rng)))
}

fn setup_qr(d: Dtype, n: usize, rng: &mut CaseRng, _: &Exec) -> Result<Box<dyn Case>> {
    by_dtype!(d, |T| Result::Ok(cases::QrCase::<T>::new(n, rng)))
}

fn setup_eigh(d: Dtype, n: usize, rng: &mut CaseRng, _: &Exec) -> Result<Box<dyn Case>> {
    by_dtype!(d, |T| Result::Ok(cases::EighCase::<T>::new(n, rng)))
}

fn setup_svd(d: Dtype, n: usize, rng: &mut CaseRng, _: &Exec) -> Result<Box<dyn Case>> {
    by_dtype!(d, |T| Result::Ok(cases::SvdCase::<T>::new(n, rng)))
}

const BOTH: &[Dtype] = &[Dtype::F64, Dtype::F32];
const F64: &[Dtype] = &[Dtype::F64];

/// Every operation, in the order they are run and reported.
pub static REGISTRY: &[OpSpec] = &[
    OpSpec {
        name: "gemm",
        plan_op: Op::Gemm,
        plan_shape: |n| Shape::Product { m: n, n, k: n },
        summary: "C ← A·B, all n × n",
        bound: Bound::Compute,
        flops: |n| 2.0 * n * n * n,
        bytes: |n, s| 3.0 * n * n * s,
        memory: |n, s| n * n * (3.0 * s + 32.0),
        default_sizes: &[128, 512, 1024, 2048],
        quick_sizes: &[128, 512],
        default_dtypes: BOTH,
        setup: setup_gemm,
        batch_order: None,
    },
    OpSpec {
        name: "gemv",
        plan_op: Op::Gemv,
        plan_shape: |n| Shape::Matrix(n, n),
        summary: "y ← A·x, A n × n",
        bound: Bound::Memory,
        flops: |n| 2.0 * n * n,
        bytes: |n, s| (n * n + 2.0 * n) * s,
        memory: |n, s| n * n * (s + 8.0) + 8.0 * n * (s + 8.0),
        default_sizes: &[256, 1024, 4096],
        quick_sizes: &[1024],
        default_dtypes: F64,
        setup: setup_gemv,
        batch_order: None,
    },
    OpSpec {
        name: "axpy",
        plan_op: Op::Axpy,
        plan_shape: Shape::Vector,
        summary: "y ← α·x + y, vectors of length n",
        bound: Bound::Memory,
        flops: |n| 2.0 * n,
        bytes: |n, s| 3.0 * n * s,
        memory: |n, s| n * (3.0 * s + 24.0),
        default_sizes: &[10_000, 1_000_000, 16_000_000],
        quick_sizes: &[1_000_000],
        default_dtypes: F64,
        setup: setup_axpy,
        batch_order: None,
    },
    OpSpec {
        name: "row_norms",
        plan_op: Op::RowNorms,
        plan_shape: |n| Shape::Matrix(n, n),
        summary: "‖row i‖₂ of A, A n × n (numpy: norm(a, axis=1))",
        bound: Bound::Memory,
        flops: |n| 2.0 * n * n,
        bytes: |n, s| (n * n + n) * s,
        memory: |n, s| n * n * (s + 8.0) + 8.0 * n * (s + 8.0),
        default_sizes: &[1024, 4096],
        quick_sizes: &[1024],
        default_dtypes: F64,
        setup: setup_row_norms,
        batch_order: None,
    },
    OpSpec {
        name: "col_norms",
        plan_op: Op::ColNorms,
        plan_shape: |n| Shape::Matrix(n, n),
        summary: "‖column j‖₂ of A, A n × n (numpy: norm(a, axis=0))",
        bound: Bound::Memory,
        flops: |n| 2.0 * n * n,
        bytes: |n, s| (n * n + n) * s,
        memory: |n, s| n * n * (s + 8.0) + 8.0 * n * (s + 8.0),
        default_sizes: &[1024, 4096],
        quick_sizes: &[1024],
        default_dtypes: F64,
        setup: setup_col_norms,
        batch_order: None,
    },
    OpSpec {
        name: "cholesky",
        plan_op: Op::Cholesky,
        plan_shape: Shape::Square,
        summary: "A = L·Lᵀ, A n × n symmetric positive definite",
        bound: Bound::Compute,
        flops: |n| n * n * n / 3.0,
        bytes: |n, s| 2.0 * n * n * s,
        memory: |n, s| n * n * (3.0 * s + 32.0),
        default_sizes: &[256, 1024, 2048],
        quick_sizes: &[256],
        default_dtypes: F64,
        setup: setup_cholesky,
        batch_order: None,
    },
    OpSpec {
        name: "solve",
        plan_op: Op::Solve,
        plan_shape: |n| Shape::System {
            rows: n,
            cols: n,
            rhs: 1,
        },
        summary: "x = A⁻¹·b by LU with partial pivoting, A n × n, one right-hand side",
        bound: Bound::Compute,
        flops: |n| 2.0 * n * n * n / 3.0 + 2.0 * n * n,
        bytes: |n, s| (n * n + 2.0 * n) * s,
        memory: |n, s| n * n * (2.0 * s + 16.0),
        default_sizes: &[256, 1024, 2048],
        quick_sizes: &[256],
        default_dtypes: F64,
        setup: setup_solve,
        batch_order: None,
    },
    OpSpec {
        name: "qr",
        plan_op: Op::Qr,
        plan_shape: Shape::Square,
        summary: "A = Q·R (Householder, Q formed: geqrf 4n³/3 + orgqr 4n³/3), A n × n",
        bound: Bound::Compute,
        flops: |n| 8.0 * n * n * n / 3.0,
        bytes: |n, s| 3.0 * n * n * s,
        memory: |n, s| n * n * (4.0 * s + 32.0),
        default_sizes: &[256, 1024],
        quick_sizes: &[256],
        default_dtypes: F64,
        setup: setup_qr,
        batch_order: None,
    },
    OpSpec {
        name: "eigh",
        plan_op: Op::Eigh,
        plan_shape: Shape::Square,
        summary: "A = V·Λ·Vᵀ, A n × n symmetric (nominal 14n³/3: tridiagonal reduction 4n³/3, \
                  divide and conquer ≤ 4n³/3, back-transformation 2n³)",
        bound: Bound::Compute,
        flops: |n| 14.0 * n * n * n / 3.0,
        bytes: |n, s| 2.0 * n * n * s,
        memory: |n, s| n * n * (5.0 * s + 32.0),
        default_sizes: &[256, 1024],
        quick_sizes: &[256],
        default_dtypes: F64,
        setup: setup_eigh,
        batch_order: None,
    },
    OpSpec {
        name: "svd",
        plan_op: Op::Svd,
        plan_shape: Shape::Square,
        summary: "A = U·Σ·Vᵀ thin, A n × n (nominal 12n³: the library's count for Op::Svd, \
                  4mn² + 8n³)",
        bound: Bound::Compute,
        flops: |n| 12.0 * n * n * n,
        bytes: |n, s| 3.0 * n * n * s,
        memory: |n, s| n * n * (6.0 * s + 32.0),
        default_sizes: &[256, 1024],
        quick_sizes: &[256],
        default_dtypes: F64,
        setup: setup_svd,
        batch_order: None,
    },
    // The batched operations: `n` is the batch length, the matrices are 32 × 32; the plan op
    // is the per-matrix operation (an engine runs the batch iff it runs the item).
    OpSpec {
        name: "batch_gemm",
        plan_op: Op::Matmul,
        plan_shape: |_| Shape::Product {
            m: K as usize,
            n: K as usize,
            k: K as usize,
        },
        summary: "C[i] = A[i]·B[i] for n pairs of 32 × 32 matrices (parla::batch::matmul)",
        bound: Bound::Compute,
        flops: |n| 2.0 * K * K * K * n,
        bytes: |n, s| 3.0 * K * K * n * s,
        memory: |n, s| K * K * n * (3.0 * s + 40.0),
        default_sizes: &[10_000],
        quick_sizes: &[10_000],
        default_dtypes: F64,
        setup: setup_batch_gemm,
        batch_order: Some(K as usize),
    },
    OpSpec {
        name: "batch_solve",
        plan_op: Op::Solve,
        plan_shape: |_| Shape::Square(K as usize),
        summary: "x[i] = A[i]⁻¹·b[i] for n systems of order 32 (parla::batch::solve)",
        bound: Bound::Compute,
        flops: |n| (2.0 * K * K * K / 3.0 + 2.0 * K * K) * n,
        bytes: |n, s| (K * K + 2.0 * K) * n * s,
        memory: |n, s| K * K * n * (2.0 * s + 16.0),
        default_sizes: &[10_000],
        quick_sizes: &[10_000],
        default_dtypes: F64,
        setup: setup_batch_solve,
        batch_order: Some(K as usize),
    },
];

/// The entry named `name`.
pub fn find(name: &str) -> Option<&'static OpSpec> {
    REGISTRY.iter().find(|s| s.name == name)
}

/// Every operation name, in registry order.
pub fn names() -> Vec<&'static str> {
    REGISTRY.iter().map(|s| s.name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_findable() {
        let names = names();
        for (i, n) in names.iter().enumerate() {
            assert!(!names[..i].contains(n), "{n} twice");
            assert_eq!(find(n).map(|s| s.name), Some(*n));
        }
        assert!(find("nope").is_none());
    }

    #[test]
    fn every_entry_has_sizes_dtypes_and_positive_work() {
        for s in REGISTRY {
            assert!(
                !s.default_sizes.is_empty() && !s.quick_sizes.is_empty(),
                "{}",
                s.name
            );
            assert!(!s.default_dtypes.is_empty());
            for &n in s.default_sizes.iter().chain(s.quick_sizes) {
                for d in [Dtype::F32, Dtype::F64] {
                    assert!(s.work(n, d) > 0.0);
                    assert!((s.memory)(n as f64, d.bytes() as f64) > 0.0);
                }
            }
        }
    }
}
