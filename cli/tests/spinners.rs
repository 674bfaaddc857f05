//! The side-by-side timing waits for OpenBLAS's spinning workers by reading their state, not
//! for a fixed time. One test in its own process: no other test's OpenBLAS calls wake the
//! workers while it reads them.

use std::time::Duration;

use ndarray::Array2;
use parla::{Engine, Exec};
use parla_cli::compare::timing::{called, openblas_workers_running, wait_for_spinners, SPIN_LIMIT};

#[test]
fn the_wait_follows_openblas_workers_until_they_sleep() {
    if parla::threads::usable_cores() < 2 || openblas_workers_running().is_none() {
        eprintln!("skipped: one core, or threads' states cannot be read");
        return;
    }
    let a = Array2::<f64>::from_shape_fn((512, 512), |(i, j)| ((i * 7 + j) % 5) as f64);
    Exec::new(Engine::Blas, 2).unwrap().matmul(&a, &a).unwrap();
    called(Engine::Blas, 2);
    // Right after a 2-thread call, OpenBLAS's second worker spins (yields in a loop: running).
    assert_eq!(openblas_workers_running(), Some(true));
    // A one-thread candidate does not wait; a multi-threaded rayon one waits until it sleeps.
    assert_eq!(wait_for_spinners(Engine::Rayon, 1), Duration::ZERO);
    let waited = wait_for_spinners(Engine::Rayon, 2);
    assert_eq!(openblas_workers_running(), Some(false), "waited {waited:?}");
    // It ended because the worker went to sleep (OpenBLAS spins about 0.1 s), not at the limit.
    assert!(
        waited > Duration::from_millis(5) && waited < SPIN_LIMIT / 2,
        "waited {waited:?}"
    );
}
