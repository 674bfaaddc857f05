//! A forked child must be able to run parla calls, whatever the parent did before the fork
//! (numpy / Python multiprocessing users fork after BLAS work all the time).
//!
//! The rayon engines keep one pool per thread count; a forked child inherits the pools without
//! their worker threads, so without care a multi-threaded call in the child waits forever. The
//! OpenBLAS gate likewise must not carry over callers that only existed in the parent.
//!
//! Each child runs its calls and exits with 0 (right answers), 1 (a wrong answer or an
//! error) or 2 (a panic); the parent waits with a deadline and kills a child that hangs.
//! (Its own test binary: it forks the whole process, and the state under test is global.)

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ndarray::Array2;
use parla::{Engine, Exec, Parallel};

/// A joblib-style loop made (and used) by the parent before it forks.
static PARENT_PARALLEL: std::sync::OnceLock<Parallel> = std::sync::OnceLock::new();

/// Long enough for a loaded 2-core machine, short against "forever".
const DEADLINE: Duration = Duration::from_secs(60);

/// A deterministic n × n matrix with entries in [-1, 1].
fn matrix(n: usize, seed: u64) -> Array2<f64> {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    Array2::from_shape_simple_fn((n, n), || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    })
}

/// The product by three nested loops.
fn ref_matmul(a: &Array2<f64>, b: &Array2<f64>) -> Array2<f64> {
    let (m, k) = a.dim();
    let n = b.ncols();
    Array2::from_shape_fn((m, n), |(i, j)| (0..k).map(|p| a[[i, p]] * b[[p, j]]).sum())
}

/// Multi-threaded calls on every engine that checks its answers; `true` if all are right.
fn work_in_child() -> bool {
    // Big enough that the rayon engines split it over both threads.
    let n = 320;
    let a = matrix(n, 1);
    let b = matrix(n, 2);
    let want = ref_matmul(&a, &b);
    let close = |c: &Array2<f64>| {
        c.iter()
            .zip(&want)
            .all(|(x, y)| (x - y).abs() <= 1e-10 * (n as f64))
    };
    for engine in [Engine::Rayon, Engine::RayonBlas, Engine::Auto, Engine::Blas] {
        for threads in [2, 1, 3] {
            let Ok(ex) = Exec::new(engine, threads) else {
                return false;
            };
            match ex.matmul(&a, &b) {
                Ok(c) if close(&c) => {}
                _ => return false,
            }
        }
        // A factorization runs whole inside the engine pool; a solve checks itself.
        let spd = &a.t().dot(&a) + &(Array2::<f64>::eye(n) * n as f64);
        let Ok(ex) = Exec::new(engine, 2) else {
            return false;
        };
        let x = match ex.solve(&spd, &b) {
            Ok(x) => x,
            Err(_) => return false,
        };
        let r = ref_matmul(&spd, &x) - &b;
        if r.iter().any(|v| v.is_nan() || v.abs() >= 1e-8) {
            return false;
        }
        if ex.cholesky(&spd).is_err() {
            return false;
        }
    }
    // The parent's `Parallel` has no workers here: an error, not a hang; a new one works.
    if let Some(p) = PARENT_PARALLEL.get() {
        if p.map(0..4, |x| x).is_ok() {
            return false;
        }
    }
    match Parallel::new(2).and_then(|p| p.map(0..100u64, |x| x * x)) {
        Ok(v) if v == (0..100u64).map(|x| x * x).collect::<Vec<_>>() => {}
        _ => return false,
    }
    true
}

/// Forks; the child runs `work_in_child` and exits with its verdict; the parent waits at most
/// [`DEADLINE`] and returns the child's exit status (or `None` when it had to kill it).
fn fork_and_run() -> Option<i32> {
    // SAFETY: the child only runs parla calls (the code under test) and `_exit`s without
    // returning into the test harness; the parent only waits for it.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let ok = std::panic::catch_unwind(work_in_child);
        let code = match ok {
            Ok(true) => 0,
            Ok(false) => 1,
            Err(_) => 2,
        };
        // SAFETY: ends the child at once, without running the parent's atexit handlers.
        unsafe { libc::_exit(code) };
    }
    let start = Instant::now();
    loop {
        let mut status = 0;
        // SAFETY: `pid` is our child; `status` is a plain out-parameter.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == pid {
            return Some(if libc::WIFEXITED(status) {
                libc::WEXITSTATUS(status)
            } else {
                -1
            });
        }
        if start.elapsed() > DEADLINE {
            // SAFETY: kills and reaps our own child.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, &mut status, 0);
            }
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn forked_child_runs_multithreaded_calls_on_every_engine() {
    // Phase 1: the parent has built the 2-thread pools of both rayon engines and run OpenBLAS
    // with two threads.
    let a = matrix(320, 3);
    let par = PARENT_PARALLEL.get_or_init(|| Parallel::new(2).unwrap());
    assert_eq!(par.map(0..4u64, |x| x + 1).unwrap(), vec![1, 2, 3, 4]);
    for engine in [Engine::Rayon, Engine::RayonBlas, Engine::Blas, Engine::Auto] {
        let ex = Exec::new(engine, 2).unwrap();
        let c = ex.matmul(&a, &a).unwrap();
        assert!((&c - &ref_matmul(&a, &a)).iter().all(|d| d.abs() < 1e-9));
        ex.solve(&(&a + &(Array2::<f64>::eye(320) * 400.0)), &a)
            .unwrap();
    }
    match fork_and_run() {
        Some(0) => {}
        Some(code) => {
            panic!("child after fork: exit code {code} (1 = wrong answer or error, 2 = panic)")
        }
        None => panic!("child after fork hung: killed after {DEADLINE:?}"),
    }

    // Phase 2: fork while other threads of the parent are busy inside parla (inside OpenBLAS,
    // in the engine pools): the child must not inherit their places in the OpenBLAS gate.
    let stop = Arc::new(AtomicBool::new(false));
    let busy: Vec<_> = [Engine::Blas, Engine::RayonBlas, Engine::Rayon]
        .into_iter()
        .map(|engine| {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let ex = Exec::new(engine, 1).unwrap();
                let a = matrix(96, 4);
                while !stop.load(Ordering::Relaxed) {
                    ex.matmul(&a, &a).unwrap();
                    ex.solve(&(&a + &(Array2::<f64>::eye(96) * 100.0)), &a)
                        .unwrap();
                }
            })
        })
        .collect();
    let mut failures = Vec::new();
    for round in 0..4 {
        std::thread::sleep(Duration::from_millis(15));
        match fork_and_run() {
            Some(0) => {}
            other => failures.push((round, other)),
        }
    }
    stop.store(true, Ordering::Relaxed);
    for t in busy {
        t.join().unwrap();
    }
    assert!(
        failures.is_empty(),
        "children forked while the parent was busy failed (round, exit code; None = hung): {failures:?}"
    );
}
