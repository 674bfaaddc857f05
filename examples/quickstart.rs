//! A tour of parla's API: a few operations, and what bad input looks like.
//!
//! Run: `cargo run --release --example quickstart`

use ndarray::{array, Array2};
use parla::{Dtype, Engine, Error, Exec, NormKind, Op, QrMode, Shape};

fn main() -> Result<(), Error> {
    let a = array![[4.0f64, 2.0, 0.6], [2.0, 5.0, 1.0], [0.6, 1.0, 3.0]];
    let b = array![1.0, 2.0, 3.0];

    let x = parla::solve(&a, &b)?;
    println!("solve:      x = {x:.6}");
    println!(
        "residual:   {:.2e}",
        parla::blas_level::nrm2(&(parla::matvec(&a, &x)? - &b))?
    );

    let l = parla::cholesky(&a)?;
    println!("cholesky:   L =\n{l:.4}");

    let e = parla::eigh(&a)?;
    println!("eigh:       λ = {:.6}", e.values);

    let s = parla::svdvals(&a)?;
    println!("svdvals:    σ = {s:.6}, cond = {:.3}", parla::cond(&a)?);
    println!(
        "det = {:.6}, ‖A‖_F = {:.6}",
        parla::det(&a)?,
        parla::norm(&a, NormKind::Fro)?
    );

    // One call with a fixed engine and thread count.
    let exec = Exec::new(Engine::Blas, 2)?;
    let big = Array2::from_shape_fn((512, 512), |(i, j)| ((i * 7 + j * 3) % 11) as f64 - 5.0);
    let f = exec.qr(&big, QrMode::Reduced)?;
    let back = exec.matmul(&f.q, &f.r)?;
    let err = parla::norm(&(&back - &big), NormKind::Fro)? / parla::norm(&big, NormKind::Fro)?;
    let plan = exec.plan(Op::Qr, Dtype::F64, Shape::Square(512))?;
    println!(
        "qr 512x512:  ran on {} with {} thread(s) ({}); relative reconstruction error {err:.1e}",
        plan.engine, plan.threads, plan.split
    );

    // Errors are values, with the operation and the shapes in them.
    let errors = [
        parla::matmul(&a, &array![[1.0, 2.0]]).map(drop),
        parla::cholesky(&array![[1.0, 2.0], [2.0, 1.0]]).map(drop),
        parla::solve(&array![[1.0, 2.0], [2.0, 4.0]], &array![1.0, 1.0]).map(drop),
        parla::eigh(&array![[f64::NAN]]).map(drop),
        Exec::new(Engine::Rayon, 2)?.matmul(&a, &a).map(drop),
    ];
    println!("\nbad input is an error value that names the operation and the shapes:");
    for e in errors {
        if let Err(e) = e {
            println!("  {e}");
        }
    }
    Ok(())
}
