//! `Parallel`: joblib's n_jobs semantics, order, errors, panics, chunking, its own pool, and
//! parla calls nested inside tasks.

use std::sync::atomic::{AtomicUsize, Ordering};

use ndarray::Array2;
use parla::{Chunking, Error, Exec, Parallel};

#[test]
fn n_jobs_table() {
    // (n_jobs, usable cores, expected)
    let ok = [
        (1, 2, 1),
        (2, 2, 2),
        (5, 2, 5),
        (-1, 2, 2),
        (-2, 2, 1),
        (-1, 8, 8),
        (-2, 8, 7),
        (-8, 8, 1),
        (1024, 2, 1024),
    ];
    for (n, cores, want) in ok {
        assert_eq!(
            Parallel::resolve_n_jobs(n, cores).unwrap(),
            want,
            "n_jobs {n} on {cores} cores"
        );
    }
    for (n, cores) in [(0, 2), (-3, 2), (-9, 8), (1025, 2), (isize::MIN, 2)] {
        assert!(
            matches!(
                Parallel::resolve_n_jobs(n, cores),
                Err(Error::InvalidArgument { name: "n_jobs", .. })
            ),
            "n_jobs {n} on {cores} cores must be rejected"
        );
    }
    assert_eq!(
        Parallel::new(-1).unwrap().n_jobs(),
        parla::threads::usable_cores()
    );
    assert!(Parallel::new(0).is_err());
}

#[test]
fn results_come_back_in_input_order() {
    for n_jobs in [1, 2, 3, 8] {
        for chunking in [
            Chunking::Auto,
            Chunking::Fixed(1),
            Chunking::Fixed(7),
            Chunking::Fixed(10_000),
        ] {
            let p = Parallel::new(n_jobs).unwrap().chunking(chunking).unwrap();
            let out = p.map(0..5000u64, |x| x * 3 + 1).unwrap();
            assert_eq!(
                out,
                (0..5000u64).map(|x| x * 3 + 1).collect::<Vec<_>>(),
                "{n_jobs} {chunking:?}"
            );
        }
    }
    assert!(Parallel::new(2)
        .unwrap()
        .map(Vec::<u8>::new(), |x| x)
        .unwrap()
        .is_empty());
    assert!(Parallel::new(2)
        .unwrap()
        .chunking(Chunking::Fixed(0))
        .is_err());
}

#[test]
fn fixed_chunks_are_exact_and_run_in_order_on_one_thread() {
    // Each item spins ~20 µs so idle workers steal, and rayon's halving splits (at 350, 175,
    // ...) fall inside chunks: with mere `with_min_len(7)` chunks straddle threads.
    for (n_jobs, size, items) in [(2, 7, 700usize), (3, 64, 1000), (2, 1, 50), (4, 100, 99)] {
        let p = Parallel::new(n_jobs).unwrap().batch_size(size).unwrap();
        assert_eq!(p.chunking_policy(), Chunking::Fixed(size));
        let clock = AtomicUsize::new(0);
        let seen = p
            .map(0..items, |i| {
                let start = std::time::Instant::now();
                while start.elapsed() < std::time::Duration::from_micros(20) {
                    std::hint::spin_loop();
                }
                let name = std::thread::current().name().unwrap_or("").to_string();
                (i, name, clock.fetch_add(1, Ordering::SeqCst))
            })
            .unwrap();
        for chunk in seen.chunks(size) {
            let first = &chunk[0];
            assert_eq!(first.0 % size, 0, "a chunk starts at a multiple of {size}");
            for (k, (i, name, tick)) in chunk.iter().enumerate().skip(1) {
                assert_eq!(
                    name, &first.1,
                    "item {i} ran on another thread than its chunk"
                );
                assert!(*tick > chunk[k - 1].2, "items of a chunk run in order");
            }
        }
    }
    assert!(Parallel::new(2).unwrap().batch_size(0).is_err());
}

#[test]
fn runs_on_its_own_pool_of_n_jobs_threads() {
    let global = rayon::current_num_threads();
    let sizes = Parallel::new(3)
        .unwrap()
        .map(0..64, |_| rayon::current_num_threads())
        .unwrap();
    assert!(sizes.iter().all(|&n| n == 3), "{sizes:?}");
    let names = Parallel::new(2)
        .unwrap()
        .map(0..16, |_| {
            std::thread::current().name().unwrap_or("").to_string()
        })
        .unwrap();
    assert!(
        names.iter().all(|n| n.starts_with("parla-jobs-")),
        "{names:?}"
    );
    assert_eq!(
        rayon::current_num_threads(),
        global,
        "the global pool is untouched"
    );
}

#[test]
fn first_error_is_returned_and_later_tasks_are_skipped() {
    // One worker runs items in order, so after item 3 fails nothing else may start.
    let started = AtomicUsize::new(0);
    let r = Parallel::new(1).unwrap().try_map(0..1000usize, |i| {
        started.fetch_add(1, Ordering::SeqCst);
        if i == 3 {
            Err(Error::InvalidArgument {
                op: "task",
                name: "i",
                reason: format!("{i}"),
            })
        } else {
            Ok(i)
        }
    });
    assert_eq!(
        r,
        Err(Error::InvalidArgument {
            op: "task",
            name: "i",
            reason: "3".into()
        })
    );
    assert_eq!(started.load(Ordering::SeqCst), 4);

    // With several workers the error still wins over the results.
    let r: Result<Vec<usize>, Wrapped> = Parallel::new(4).unwrap().try_map(0..10_000usize, |i| {
        if i % 1000 == 999 {
            Err(Wrapped(format!("bad {i}")))
        } else {
            Ok(i)
        }
    });
    let e = r.unwrap_err().0;
    assert!(e.starts_with("bad ") && e.ends_with("999"), "{e}");
}

impl From<Error> for Wrapped {
    fn from(e: Error) -> Self {
        Wrapped(e.to_string())
    }
}
#[derive(Debug)]
struct Wrapped(String);

#[test]
fn a_panicking_task_becomes_an_error() {
    let r = Parallel::new(2).unwrap().map(0..100, |i| {
        if i == 42 {
            panic!("task {i} fell over");
        }
        i
    });
    match r {
        Err(Error::TaskPanicked { index: 42, message }) => assert_eq!(message, "task 42 fell over"),
        other => panic!("expected TaskPanicked, got {other:?}"),
    }
    // try_map converts the panic into the caller's error type.
    let r: Result<Vec<i32>, Wrapped> = Parallel::new(2).unwrap().try_map(0..10, |i| {
        if i == 5 {
            panic!("{}", String::from("owned message"));
        }
        Ok(i)
    });
    assert!(r.unwrap_err().0.contains("task 5 panicked: owned message"));
}

#[test]
fn parla_calls_inside_tasks_run_single_threaded_and_agree_with_serial() {
    let a = Array2::from_shape_fn((64, 64), |(i, j)| ((i * 7 + j * 3) % 11) as f64 - 5.0);
    let serial = Exec::blas(1).unwrap().matmul(&a, &a).unwrap();
    let out = Parallel::new(4)
        .unwrap()
        .map(0..32, |_| {
            let plan = Exec::blas(4)
                .unwrap()
                .plan(parla::Op::Matmul, parla::Dtype::F64, parla::Shape::Unknown)
                .unwrap();
            (plan.threads, parla::matmul(&a, &a).unwrap())
        })
        .unwrap();
    for (threads, c) in out {
        assert_eq!(threads, 1, "nested parla calls get one OpenBLAS thread");
        let err = (&c - &serial).iter().fold(0.0f64, |m, d| m.max(d.abs()));
        assert!(err <= 64.0 * 64.0 * f64::EPSILON * 300.0, "{err}");
    }
}
