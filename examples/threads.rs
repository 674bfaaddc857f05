//! Thread control three ways — environment, runtime, scoped — and what took effect.
//!
//! Try: `PARLA_NUM_THREADS=1 cargo run --release --example threads`
//!      `OPENBLAS_NUM_THREADS=abc cargo run --release --example threads`

use std::time::Instant;

use ndarray::Array2;
use parla::threads::{self, openblas};
use parla::{Dtype, Engine, Error, Exec, Op, Shape};

/// Times `exec.matmul(a, a)` and prints where it ran: the engine and threads the call was
/// planned on (`auto` picks per call), and — when that engine is `blas` — the thread count
/// OpenBLAS reports right after the call.
fn time_matmul(label: &str, exec: &Exec, a: &Array2<f64>) -> Result<(), Error> {
    let n = a.nrows();
    let plan = exec.plan(Op::Matmul, Dtype::F64, Shape::Square(n))?;
    exec.matmul(a, a)?; // warm-up
    let t = Instant::now();
    let reps = 5;
    for _ in 0..reps {
        exec.matmul(a, a)?;
    }
    let secs = t.elapsed().as_secs_f64() / reps as f64;
    let openblas_threads = if plan.engine == Engine::Blas {
        openblas::current_threads().to_string()
    } else {
        "- (not used)".to_string()
    };
    println!(
        "  {label:<28} {:<10} {:>7} {:>9.2} ms {:>8.1} GFLOP/s  {openblas_threads:>12}",
        plan.engine.name(),
        plan.threads,
        secs * 1e3,
        2.0 * (n as f64).powi(3) / secs / 1e9,
    );
    Ok(())
}

fn header() {
    println!(
        "  {:<28} {:<10} {:>7} {:>12} {:>16}  {:>12}",
        "how the budget was set", "ran on", "threads", "time", "rate", "OpenBLAS"
    );
}

fn main() -> Result<(), Error> {
    println!("environment (read once):");
    for e in threads::env_report().iter().filter(|e| e.value.is_some()) {
        println!(
            "  {}={:?}: {}",
            e.name,
            e.value.as_deref().unwrap_or(""),
            e.note
        );
    }
    match Exec::current() {
        Ok(exec) => println!("process default: {} with {} thread(s)", exec.engine(), exec.threads()),
        Err(e) => println!("process default unusable: {e}\n  (explicit Exec values and set_num_threads still work)"),
    }
    println!("usable cores: {}", threads::usable_cores());

    let a = Array2::from_shape_fn((1024, 1024), |(i, j)| ((i + 2 * j) % 7) as f64);
    println!("\n1024x1024 matmul (OpenBLAS: its thread count read back after the call):");
    header();
    for t in 1..=threads::usable_cores().min(4) {
        time_matmul("explicit Exec::blas", &Exec::blas(t)?, &a)?;
    }

    parla::set_num_threads(1)?;
    time_matmul("after set_num_threads(1)", &Exec::current()?, &a)?;

    parla::with_num_threads(2, || {
        time_matmul("inside with_num_threads(2)", &Exec::current()?, &a)
    })??;
    println!(
        "  back outside the scope: {} thread(s)",
        parla::num_threads()?
    );

    threads::reset_num_threads();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .expect("rayon pool");
    let plan = pool.install(|| {
        Exec::new(Engine::Blas, 2).and_then(|e| e.plan(Op::Matmul, Dtype::F64, Shape::Square(1024)))
    })?;
    println!(
        "\ninside a rayon worker, a 2-thread blas call runs with {} OpenBLAS thread(s)",
        plan.threads
    );
    Ok(())
}
