//! One benchmark case per operation: seeded inputs, the timed call, and the accuracy check.
//!
//! # Accuracy
//! Every case reports a **backward-error ratio**: a measured error divided by the error bound a
//! backward-stable algorithm guarantees, so values around `1` or below are as accurate as the
//! operation can be and the same scale reads across operations, sizes and precisions
//! (`ε` is the machine epsilon of the element type, norms are Frobenius norms, all checks
//! are computed in `f64`):
//!
//! | case | ratio |
//! |---|---|
//! | `gemm` | `‖C − C₆₄‖ / (n ε ‖A‖ ‖B‖)` |
//! | `gemv` | `‖y − y₆₄‖ / (n ε ‖A‖ ‖x‖)` |
//! | `axpy` | `‖y − y₆₄‖ / (ε (‖α x‖ + ‖y₀‖))` |
//! | `cholesky` | `‖L Lᵀ − A‖ / (n ε ‖A‖)` |
//! | `solve` | `‖A x − b‖ / (n ε (‖A‖ ‖x‖ + ‖b‖))` (normwise backward error) |
//! | `qr` | `max(‖Q R − A‖ / (n ε ‖A‖), ‖Qᵀ Q − I‖ / (n ε))` |
//! | `eigh` | `max(‖A V − V Λ‖ / (n ε ‖A‖), ‖Vᵀ V − I‖ / (n ε))` |
//! | `svd` | `max(‖A − U Σ Vᵀ‖ / (n ε ‖A‖), ‖Uᵀ U − I‖ / (n ε), ‖V Vᵀ − I‖ / (n ε))` |
//! | `row_norms`, `col_norms` | `‖r − r₆₄‖ / (n ε ‖A‖)` |
//! | `batch_gemm` | the `gemm` ratio of the worst matrix of the batch (order 32) |
//! | `batch_solve` | the `solve` ratio of the worst system of the batch (order 32) |
//!
//! `C₆₄`, `y₆₄` are reference results computed once per case in `f64` by the `blas` engine
//! from the same inputs (for `f32` cases they are exact to the precision that matters; for
//! `f64` they are a second backward-stable result, so the ratio stays below about 2 for any
//! correct implementation). Independently of the ratio, the runner hashes each cell's output
//! and flags it **bit-identical** when it equals the output of the `blas` engine at 1 thread.

use ndarray::{s, Array, Array1, Array2, Array3, Axis, Dimension};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use parla::batch::{Batch, Strategy};
use parla::Result;
use parla::{Eigh, Exec, Qr, QrMode, Scalar, Svd, Trans};

/// The random generator every case draws its inputs from (seeded per cell group).
pub type CaseRng = ChaCha8Rng;

/// One operation on fixed inputs, ready to be timed on any engine.
pub trait Case {
    /// One call of the operation (the timed part). May change the case's output or, for
    /// in-place operations, its state ([`Case::reset`] restores it).
    ///
    /// # Errors
    /// Whatever the operation returns ([`Error::Unsupported`](parla::Error::Unsupported) on an
    /// engine without it, ...).
    fn run(&mut self, exec: &Exec) -> Result<()>;

    /// Restores the state before the first [`Case::run`] (for in-place operations).
    fn reset(&mut self) {}

    /// A hash of the bits of the last output (`0` before any run).
    fn output_hash(&self) -> u64;

    /// The backward-error ratio of the last output (see the module docs); `check` runs the
    /// reference products.
    ///
    /// # Errors
    /// When there is no output yet, or a check product fails.
    fn backward_error(&self, check: &Exec) -> Result<f64>;
}

/// `rows × cols` entries uniform in `[-1, 1)`.
pub fn random_matrix<T: Scalar>(rng: &mut CaseRng, rows: usize, cols: usize) -> Array2<T> {
    Array2::from_shape_simple_fn((rows, cols), || T::of(rng.gen_range(-1.0..1.0)))
}

/// `n` entries uniform in `[-1, 1)`.
pub fn random_vector<T: Scalar>(rng: &mut CaseRng, n: usize) -> Array1<T> {
    Array1::from_shape_simple_fn(n, || T::of(rng.gen_range(-1.0..1.0)))
}

/// A random symmetric `n × n` matrix; `shift` is added to the diagonal (a shift of `n` makes
/// it strictly diagonally dominant, hence positive definite).
pub fn random_symmetric<T: Scalar>(rng: &mut CaseRng, n: usize, shift: f64) -> Array2<T> {
    let mut a = random_matrix::<T>(rng, n, n);
    for i in 0..n {
        for j in 0..i {
            a[[j, i]] = a[[i, j]];
        }
        a[[i, i]] = a[[i, i]] + T::of(shift);
    }
    a
}

fn to64<T: Scalar, D: Dimension>(a: &Array<T, D>) -> Array<f64, D> {
    a.mapv(|x| x.as_f64())
}

/// Frobenius norm of `f64` values (the inputs here are far from overflow).
fn fro<'a>(values: impl Iterator<Item = &'a f64>) -> f64 {
    values.map(|v| v * v).sum::<f64>().sqrt()
}

fn fro_t<T: Scalar, D: Dimension>(a: &Array<T, D>) -> f64 {
    a.iter().map(|v| v.as_f64().powi(2)).sum::<f64>().sqrt()
}

/// Frobenius norm of `a − b`.
fn fro_diff<D: Dimension>(a: &Array<f64, D>, b: &Array<f64, D>) -> f64 {
    a.iter()
        .zip(b.iter())
        .map(|(x, y)| (x - y).powi(2))
        .sum::<f64>()
        .sqrt()
}

/// `‖Mᵀ M − I‖` for the columns of `m`.
fn orthogonality(check: &Exec, m: &Array2<f64>) -> Result<f64> {
    let mut g = check.matmul(&m.t(), m)?;
    for i in 0..g.nrows().min(g.ncols()) {
        g[[i, i]] -= 1.0;
    }
    Ok(fro(g.iter()))
}

/// `err / bound`, exactly 0 for no error (even with a zero bound).
fn ratio(err: f64, bound: f64) -> f64 {
    if err == 0.0 {
        0.0
    } else {
        err / bound
    }
}

/// xxh3 of the bits of `values` in logical order (layout-independent).
pub fn hash_values<'a, T: Scalar>(values: impl Iterator<Item = &'a T>) -> u64 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    for v in values {
        h.update(&v.as_f64().to_bits().to_le_bytes());
    }
    h.digest()
}

fn eps<T: Scalar>() -> f64 {
    T::EPS.as_f64()
}

fn no_output(op: &'static str) -> parla::Error {
    parla::Error::InvalidArgument {
        op,
        name: "output",
        reason: "no output to check: the case has not run".to_string(),
    }
}

/// `C ← A B` (`β = 0`) with square `n × n` operands.
pub struct Gemm<T> {
    a: Array2<T>,
    b: Array2<T>,
    c: Array2<T>,
    reference: Array2<f64>,
    norms: f64,
    ran: bool,
}

impl<T: Scalar> Gemm<T> {
    /// Seeded `n × n` operands and their `f64` product.
    ///
    /// # Errors
    /// When the reference product fails.
    pub fn new(n: usize, rng: &mut CaseRng, check: &Exec) -> Result<Self> {
        let a = random_matrix::<T>(rng, n, n);
        let b = random_matrix::<T>(rng, n, n);
        let reference = check.matmul(&to64(&a), &to64(&b))?;
        let norms = fro_t(&a) * fro_t(&b);
        Ok(Gemm {
            a,
            b,
            c: Array2::zeros((n, n)),
            reference,
            norms,
            ran: false,
        })
    }
}

impl<T: Scalar> Case for Gemm<T> {
    fn run(&mut self, exec: &Exec) -> Result<()> {
        self.ran = true;
        exec.gemm(
            T::one(),
            &self.a,
            Trans::No,
            &self.b,
            Trans::No,
            T::zero(),
            &mut self.c,
        )
    }
    fn output_hash(&self) -> u64 {
        if self.ran {
            hash_values(self.c.iter())
        } else {
            0
        }
    }
    fn backward_error(&self, _check: &Exec) -> Result<f64> {
        if !self.ran {
            return Err(no_output("gemm"));
        }
        let n = self.a.ncols() as f64;
        Ok(ratio(
            fro_diff(&to64(&self.c), &self.reference),
            n * eps::<T>() * self.norms,
        ))
    }
}

/// `y ← A x` (`β = 0`) with an `n × n` matrix.
pub struct Gemv<T> {
    a: Array2<T>,
    x: Array1<T>,
    y: Array1<T>,
    reference: Array1<f64>,
    norms: f64,
    ran: bool,
}

impl<T: Scalar> Gemv<T> {
    /// Seeded operands and their `f64` product.
    ///
    /// # Errors
    /// When the reference product fails.
    pub fn new(n: usize, rng: &mut CaseRng, check: &Exec) -> Result<Self> {
        let a = random_matrix::<T>(rng, n, n);
        let x = random_vector::<T>(rng, n);
        let reference = check.matvec(&to64(&a), &to64(&x))?;
        let norms = fro_t(&a) * fro_t(&x);
        Ok(Gemv {
            a,
            x,
            y: Array1::zeros(n),
            reference,
            norms,
            ran: false,
        })
    }
}

impl<T: Scalar> Case for Gemv<T> {
    fn run(&mut self, exec: &Exec) -> Result<()> {
        self.ran = true;
        exec.gemv(
            T::one(),
            &self.a,
            Trans::No,
            &self.x,
            T::zero(),
            &mut self.y,
        )
    }
    fn output_hash(&self) -> u64 {
        if self.ran {
            hash_values(self.y.iter())
        } else {
            0
        }
    }
    fn backward_error(&self, _check: &Exec) -> Result<f64> {
        if !self.ran {
            return Err(no_output("gemv"));
        }
        let n = self.a.ncols() as f64;
        Ok(ratio(
            fro_diff(&to64(&self.y), &self.reference),
            n * eps::<T>() * self.norms,
        ))
    }
}

/// `y ← α x + y` on vectors of length `n`, in place. Timed runs alternate `+α` and `−α`
/// so `y` stays bounded however many calls are made.
pub struct Axpy<T> {
    alpha: T,
    x: Array1<T>,
    y0: Array1<T>,
    y: Array1<T>,
    reference: Array1<f64>,
    bound: f64,
    plus: bool,
    ran: bool,
}

impl<T: Scalar> Axpy<T> {
    /// Seeded vectors; the reference `α x + y₀` in `f64`.
    pub fn new(n: usize, rng: &mut CaseRng) -> Self {
        let alpha = T::of(0.5);
        let x = random_vector::<T>(rng, n);
        let y0 = random_vector::<T>(rng, n);
        let reference = to64(&x) * alpha.as_f64() + to64(&y0);
        let bound = eps::<T>() * (alpha.as_f64().abs() * fro_t(&x) + fro_t(&y0));
        Axpy {
            alpha,
            y: y0.clone(),
            x,
            y0,
            reference,
            bound,
            plus: true,
            ran: false,
        }
    }
}

impl<T: Scalar> Case for Axpy<T> {
    fn run(&mut self, exec: &Exec) -> Result<()> {
        let alpha = if self.plus { self.alpha } else { -self.alpha };
        self.plus = !self.plus;
        self.ran = true;
        exec.axpy(alpha, &self.x, &mut self.y)
    }
    fn reset(&mut self) {
        self.y.assign(&self.y0);
        self.plus = true;
        self.ran = false;
    }
    fn output_hash(&self) -> u64 {
        if self.ran {
            hash_values(self.y.iter())
        } else {
            0
        }
    }
    fn backward_error(&self, _check: &Exec) -> Result<f64> {
        if !self.ran {
            return Err(no_output("axpy"));
        }
        Ok(ratio(fro_diff(&to64(&self.y), &self.reference), self.bound))
    }
}

/// `A = L Lᵀ` of a seeded symmetric positive definite `n × n` matrix.
pub struct Cholesky<T> {
    a: Array2<T>,
    l: Option<Array2<T>>,
}

impl<T: Scalar> Cholesky<T> {
    /// A seeded, diagonally dominant symmetric matrix.
    pub fn new(n: usize, rng: &mut CaseRng) -> Self {
        Cholesky {
            a: random_symmetric(rng, n, n as f64),
            l: None,
        }
    }
}

impl<T: Scalar> Case for Cholesky<T> {
    fn run(&mut self, exec: &Exec) -> Result<()> {
        self.l = Some(exec.cholesky(&self.a)?);
        Ok(())
    }
    fn output_hash(&self) -> u64 {
        self.l.as_ref().map_or(0, |l| hash_values(l.iter()))
    }
    fn backward_error(&self, check: &Exec) -> Result<f64> {
        let l = to64(self.l.as_ref().ok_or_else(|| no_output("cholesky"))?);
        let a = to64(&self.a);
        let n = a.nrows() as f64;
        let llt = check.matmul(&l, &l.t())?;
        Ok(ratio(fro_diff(&llt, &a), n * eps::<T>() * fro(a.iter())))
    }
}

/// `x = A⁻¹ b` by LU with partial pivoting, one right-hand side.
pub struct Solve<T> {
    a: Array2<T>,
    b: Array1<T>,
    x: Option<Array1<T>>,
}

impl<T: Scalar> Solve<T> {
    /// A seeded general matrix and right-hand side.
    pub fn new(n: usize, rng: &mut CaseRng) -> Self {
        Solve {
            a: random_matrix(rng, n, n),
            b: random_vector(rng, n),
            x: None,
        }
    }
}

impl<T: Scalar> Case for Solve<T> {
    fn run(&mut self, exec: &Exec) -> Result<()> {
        self.x = Some(exec.solve(&self.a, &self.b)?);
        Ok(())
    }
    fn output_hash(&self) -> u64 {
        self.x.as_ref().map_or(0, |x| hash_values(x.iter()))
    }
    fn backward_error(&self, check: &Exec) -> Result<f64> {
        let x = to64(self.x.as_ref().ok_or_else(|| no_output("solve"))?);
        let (a, b) = (to64(&self.a), to64(&self.b));
        let n = a.nrows() as f64;
        let r = check.matvec(&a, &x)? - &b;
        let scale = fro(a.iter()) * fro(x.iter()) + fro(b.iter());
        Ok(ratio(fro(r.iter()), n * eps::<T>() * scale))
    }
}

/// Reduced QR of a seeded `n × n` matrix (`Q` formed explicitly).
pub struct QrCase<T> {
    a: Array2<T>,
    out: Option<Qr<T>>,
}

impl<T: Scalar> QrCase<T> {
    /// A seeded general matrix.
    pub fn new(n: usize, rng: &mut CaseRng) -> Self {
        QrCase {
            a: random_matrix(rng, n, n),
            out: None,
        }
    }
}

impl<T: Scalar> Case for QrCase<T> {
    fn run(&mut self, exec: &Exec) -> Result<()> {
        self.out = Some(exec.qr(&self.a, QrMode::Reduced)?);
        Ok(())
    }
    fn output_hash(&self) -> u64 {
        self.out.as_ref().map_or(0, |f| {
            hash_values(f.q.iter()) ^ hash_values(f.r.iter()).rotate_left(1)
        })
    }
    fn backward_error(&self, check: &Exec) -> Result<f64> {
        let f = self.out.as_ref().ok_or_else(|| no_output("qr"))?;
        let (q, r, a) = (to64(&f.q), to64(&f.r), to64(&self.a));
        let n = a.nrows() as f64;
        let e = eps::<T>();
        let residual = fro_diff(&check.matmul(&q, &r)?, &a) / (n * e * fro(a.iter()));
        let orth = orthogonality(check, &q)? / (n * e);
        Ok(residual.max(orth))
    }
}

/// Eigenvalues and eigenvectors of a seeded symmetric `n × n` matrix.
pub struct EighCase<T> {
    a: Array2<T>,
    out: Option<Eigh<T>>,
}

impl<T: Scalar> EighCase<T> {
    /// A seeded symmetric matrix.
    pub fn new(n: usize, rng: &mut CaseRng) -> Self {
        EighCase {
            a: random_symmetric(rng, n, 0.0),
            out: None,
        }
    }
}

impl<T: Scalar> Case for EighCase<T> {
    fn run(&mut self, exec: &Exec) -> Result<()> {
        self.out = Some(exec.eigh(&self.a)?);
        Ok(())
    }
    fn output_hash(&self) -> u64 {
        self.out.as_ref().map_or(0, |e| {
            hash_values(e.values.iter()) ^ hash_values(e.vectors.iter()).rotate_left(1)
        })
    }
    fn backward_error(&self, check: &Exec) -> Result<f64> {
        let e = self.out.as_ref().ok_or_else(|| no_output("eigh"))?;
        let (v, w, a) = (to64(&e.vectors), to64(&e.values), to64(&self.a));
        let n = a.nrows() as f64;
        let eps = eps::<T>();
        let av = check.matmul(&a, &v)?;
        let vl = &v * &w.view().insert_axis(ndarray::Axis(0));
        let residual = fro_diff(&av, &vl) / (n * eps * fro(a.iter()));
        let orth = orthogonality(check, &v)? / (n * eps);
        Ok(residual.max(orth))
    }
}

/// Thin SVD (singular values and vectors) of a seeded general `n × n` matrix.
pub struct SvdCase<T> {
    a: Array2<T>,
    out: Option<Svd<T>>,
}

impl<T: Scalar> SvdCase<T> {
    /// A seeded general matrix.
    pub fn new(n: usize, rng: &mut CaseRng) -> Self {
        SvdCase {
            a: random_matrix(rng, n, n),
            out: None,
        }
    }
}

impl<T: Scalar> Case for SvdCase<T> {
    fn run(&mut self, exec: &Exec) -> Result<()> {
        self.out = Some(exec.svd(&self.a, parla::SvdMode::Thin)?);
        Ok(())
    }
    fn output_hash(&self) -> u64 {
        self.out.as_ref().map_or(0, |f| {
            hash_values(f.u.iter())
                ^ hash_values(f.s.iter()).rotate_left(1)
                ^ hash_values(f.vt.iter()).rotate_left(2)
        })
    }
    fn backward_error(&self, check: &Exec) -> Result<f64> {
        let f = self.out.as_ref().ok_or_else(|| no_output("svd"))?;
        let (u, s, vt, a) = (to64(&f.u), to64(&f.s), to64(&f.vt), to64(&self.a));
        let n = a.nrows() as f64;
        let eps = eps::<T>();
        let us = &u * &s.view().insert_axis(ndarray::Axis(0));
        let residual = fro_diff(&check.matmul(&us, &vt)?, &a) / (n * eps * fro(a.iter()));
        let orth_u = orthogonality(check, &u)? / (n * eps);
        let orth_v = orthogonality(check, &vt.t().to_owned())? / (n * eps);
        Ok(residual.max(orth_u).max(orth_v))
    }
}

/// Euclidean norm of every row (`rows`) or column of a seeded `n × n` matrix.
pub struct Norms<T> {
    a: Array2<T>,
    rows: bool,
    out: Option<Array1<T>>,
    reference: Array1<f64>,
    norm: f64,
}

impl<T: Scalar> Norms<T> {
    /// A seeded matrix and its row or column norms in `f64`.
    pub fn new(n: usize, rows: bool, rng: &mut CaseRng) -> Self {
        let a = random_matrix::<T>(rng, n, n);
        let a64 = to64(&a);
        let axis = if rows { Axis(1) } else { Axis(0) };
        let reference = a64.map_axis(axis, |v| fro(v.iter()));
        Norms {
            norm: fro(a64.iter()),
            a,
            rows,
            out: None,
            reference,
        }
    }
}

impl<T: Scalar> Case for Norms<T> {
    fn run(&mut self, exec: &Exec) -> Result<()> {
        self.out = Some(if self.rows {
            exec.row_norms(&self.a)?
        } else {
            exec.col_norms(&self.a)?
        });
        Ok(())
    }
    fn output_hash(&self) -> u64 {
        self.out.as_ref().map_or(0, |o| hash_values(o.iter()))
    }
    fn backward_error(&self, _check: &Exec) -> Result<f64> {
        let op = if self.rows { "row_norms" } else { "col_norms" };
        let out = to64(self.out.as_ref().ok_or_else(|| no_output(op))?);
        let n = self.a.ncols() as f64;
        Ok(ratio(
            fro_diff(&out, &self.reference),
            n * eps::<T>() * self.norm,
        ))
    }
}

/// Order of the matrices of the batched cases (the size `n` of a batched case is the batch
/// length).
pub const BATCH_ORDER: usize = 32;

/// `C[i] = A[i] B[i]` for `n` pairs of `32 × 32` matrices, through `parla::batch` with the
/// strategy the engine implies (`blas` → a loop of threaded calls, `rayon-blas` → rayon over
/// the matrices with 1-thread OpenBLAS, `rayon` → rayon over the matrices with parla's
/// kernels).
pub struct BatchGemm<T> {
    a: Array3<T>,
    b: Array3<T>,
    c: Option<Array3<T>>,
    reference: Array3<f64>,
}

fn random_stack<T: Scalar>(rng: &mut CaseRng, len: usize, rows: usize, cols: usize) -> Array3<T> {
    Array3::from_shape_simple_fn((len, rows, cols), || T::of(rng.gen_range(-1.0..1.0)))
}

impl<T: Scalar> BatchGemm<T> {
    /// Seeded stacks and their products in `f64`.
    ///
    /// # Errors
    /// When the reference products fail.
    pub fn new(n: usize, rng: &mut CaseRng, check: &Exec) -> Result<Self> {
        let k = BATCH_ORDER;
        let a = random_stack::<T>(rng, n, k, k);
        let b = random_stack::<T>(rng, n, k, k);
        let reference = Batch::new(*check, Strategy::Loop).matmul(&to64(&a), &to64(&b))?;
        Ok(BatchGemm {
            a,
            b,
            c: None,
            reference,
        })
    }
}

impl<T: Scalar> Case for BatchGemm<T> {
    fn run(&mut self, exec: &Exec) -> Result<()> {
        self.c = Some(exec.batch(Strategy::Auto).matmul(&self.a, &self.b)?);
        Ok(())
    }
    fn output_hash(&self) -> u64 {
        self.c.as_ref().map_or(0, |c| hash_values(c.iter()))
    }
    fn backward_error(&self, _check: &Exec) -> Result<f64> {
        let c = to64(self.c.as_ref().ok_or_else(|| no_output("batch_gemm"))?);
        let k = BATCH_ORDER as f64;
        let mut worst = 0.0f64;
        for i in 0..c.len_of(Axis(0)) {
            let norms = fro_t(&self.a.slice(s![i, .., ..]).to_owned())
                * fro_t(&self.b.slice(s![i, .., ..]).to_owned());
            let err = fro_diff(
                &c.slice(s![i, .., ..]).to_owned(),
                &self.reference.slice(s![i, .., ..]).to_owned(),
            );
            worst = worst.max(ratio(err, k * eps::<T>() * norms));
        }
        Ok(worst)
    }
}

/// `x[i] = A[i]⁻¹ b[i]` for `n` systems of order 32 with one right-hand side each, through
/// `parla::batch` (strategies as [`BatchGemm`]).
pub struct BatchSolve<T> {
    a: Array3<T>,
    b: Array3<T>,
    x: Option<Array3<T>>,
}

impl<T: Scalar> BatchSolve<T> {
    /// Seeded systems.
    pub fn new(n: usize, rng: &mut CaseRng) -> Self {
        BatchSolve {
            a: random_stack(rng, n, BATCH_ORDER, BATCH_ORDER),
            b: random_stack(rng, n, BATCH_ORDER, 1),
            x: None,
        }
    }
}

impl<T: Scalar> Case for BatchSolve<T> {
    fn run(&mut self, exec: &Exec) -> Result<()> {
        self.x = Some(exec.batch(Strategy::Auto).solve(&self.a, &self.b)?);
        Ok(())
    }
    fn output_hash(&self) -> u64 {
        self.x.as_ref().map_or(0, |x| hash_values(x.iter()))
    }
    fn backward_error(&self, _check: &Exec) -> Result<f64> {
        let x = to64(self.x.as_ref().ok_or_else(|| no_output("batch_solve"))?);
        let (a, b) = (to64(&self.a), to64(&self.b));
        let n = BATCH_ORDER as f64;
        let mut worst = 0.0f64;
        for i in 0..a.len_of(Axis(0)) {
            let (ai, xi, bi) = (
                a.slice(s![i, .., ..]),
                x.slice(s![i, .., ..]),
                b.slice(s![i, .., ..]),
            );
            // Order-32 residuals in plain f64 loops (ndarray's own product).
            let r = ai.dot(&xi) - bi;
            let scale = fro(ai.iter()) * fro(xi.iter()) + fro(bi.iter());
            worst = worst.max(ratio(fro(r.iter()), n * eps::<T>() * scale));
        }
        Ok(worst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn check() -> Exec {
        Exec::blas(1).unwrap()
    }

    #[test]
    fn every_case_is_accurate_on_blas_and_reports_no_output_before_running() {
        let chk = check();
        let mut rng = CaseRng::seed_from_u64(7);
        let mut cases: Vec<Box<dyn Case>> = vec![
            Box::new(Gemm::<f64>::new(33, &mut rng, &chk).unwrap()),
            Box::new(Gemm::<f32>::new(33, &mut rng, &chk).unwrap()),
            Box::new(Gemv::<f64>::new(40, &mut rng, &chk).unwrap()),
            Box::new(Axpy::<f32>::new(100, &mut rng)),
            Box::new(Cholesky::<f64>::new(30, &mut rng)),
            Box::new(Solve::<f64>::new(30, &mut rng)),
            Box::new(QrCase::<f32>::new(30, &mut rng)),
            Box::new(EighCase::<f64>::new(30, &mut rng)),
            Box::new(Norms::<f64>::new(30, true, &mut rng)),
            Box::new(Norms::<f32>::new(30, false, &mut rng)),
            Box::new(BatchGemm::<f64>::new(5, &mut rng, &chk).unwrap()),
            Box::new(BatchSolve::<f32>::new(5, &mut rng)),
        ];
        for c in &mut cases {
            assert_eq!(c.output_hash(), 0);
            assert!(c.backward_error(&chk).is_err());
            c.run(&chk).unwrap();
            let r = c.backward_error(&chk).unwrap();
            assert!(r.is_finite() && r < 2.0, "ratio {r}");
            assert_ne!(c.output_hash(), 0);
        }
    }

    #[test]
    fn a_wrong_result_gives_a_large_ratio() {
        let chk = check();
        let mut rng = CaseRng::seed_from_u64(1);
        let mut g = Gemm::<f64>::new(16, &mut rng, &chk).unwrap();
        g.run(&chk).unwrap();
        g.c[[3, 4]] += 1e-6;
        assert!(g.backward_error(&chk).unwrap() > 1e3);
    }

    #[test]
    fn axpy_reset_restores_the_input_and_alternation_keeps_y_bounded() {
        let chk = check();
        let mut rng = CaseRng::seed_from_u64(2);
        let mut c = Axpy::<f64>::new(64, &mut rng);
        c.run(&chk).unwrap();
        let first = c.output_hash();
        c.run(&chk).unwrap();
        c.run(&chk).unwrap();
        assert!(c.y.iter().all(|v| v.abs() < 2.0));
        c.reset();
        assert_eq!(c.y, c.y0);
        c.run(&chk).unwrap();
        assert_eq!(c.output_hash(), first);
        assert_eq!(c.backward_error(&chk).unwrap(), 0.0);
    }

    #[test]
    fn hashes_follow_values_not_layout() {
        let a = ndarray::array![[1.0f64, 2.0], [3.0, 4.0]];
        let f = a.t().as_standard_layout().t().to_owned();
        assert_eq!(hash_values(a.iter()), hash_values(f.iter()));
        assert_ne!(hash_values(a.iter()), hash_values(a.t().iter()));
    }
}
