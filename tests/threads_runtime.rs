//! Runtime control of the thread budget: set/get, scoped limits across threads, OpenBLAS read
//! back, and nesting inside rayon workers. (Its own test binary: it changes global state, so its
//! tests run one after another under a lock.)

use std::sync::{Barrier, Mutex};

use ndarray::Array2;
use parla::threads::{self, openblas, Source};
use parla::{Engine, Error, Exec, ThreadLimit};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

#[test]
fn set_get_and_reset() {
    let _s = serial();
    parla::set_num_threads(3).unwrap();
    assert_eq!(parla::num_threads().unwrap(), 3);
    assert_eq!(
        threads::budget_for(Engine::Blas).unwrap(),
        (3, Source::Runtime)
    );
    assert_eq!(Exec::current().unwrap().threads(), 3);
    for bad in [0, threads::MAX_THREADS + 1] {
        assert!(matches!(
            parla::set_num_threads(bad),
            Err(Error::InvalidArgument {
                name: "threads",
                ..
            })
        ));
    }
    assert_eq!(
        parla::num_threads().unwrap(),
        3,
        "a rejected value changes nothing"
    );
    threads::reset_num_threads();
    assert_ne!(
        threads::budget_for(Engine::Blas).unwrap().1,
        Source::Runtime
    );
}

#[test]
fn scoped_limits_nest_and_restore_even_on_panic() {
    let _s = serial();
    threads::reset_num_threads();
    let outer = parla::num_threads().unwrap();
    {
        let _a = ThreadLimit::new(2).unwrap();
        assert_eq!(parla::num_threads().unwrap(), 2);
        {
            let _b = ThreadLimit::new(1).unwrap();
            assert_eq!(
                threads::budget_for(Engine::Blas).unwrap(),
                (1, Source::Scoped)
            );
        }
        assert_eq!(parla::num_threads().unwrap(), 2);
    }
    assert_eq!(parla::num_threads().unwrap(), outer);
    let r = std::panic::catch_unwind(|| {
        parla::with_num_threads(5, || panic!("inside the scope")).unwrap();
    });
    assert!(r.is_err());
    assert_eq!(
        parla::num_threads().unwrap(),
        outer,
        "restored after a panic"
    );
    assert!(parla::with_num_threads(0, || ()).is_err());
}

#[test]
fn scopes_on_different_threads_do_not_see_each_other() {
    let _s = serial();
    threads::reset_num_threads();
    let barrier = Barrier::new(4);
    std::thread::scope(|s| {
        for n in 1..=4usize {
            let barrier = &barrier;
            s.spawn(move || {
                parla::with_num_threads(n, || {
                    barrier.wait(); // every scope is open at the same time
                    for _ in 0..100 {
                        assert_eq!(parla::num_threads().unwrap(), n);
                        assert_eq!(Exec::current().unwrap().threads(), n);
                    }
                    barrier.wait();
                })
                .unwrap();
            });
        }
    });
}

#[test]
fn openblas_runs_with_the_requested_threads() {
    let _s = serial();
    let a = Array2::<f64>::ones((64, 64));
    for t in [1, 2, 3, 1] {
        let c = Exec::blas(t).unwrap().matmul(&a, &a).unwrap();
        assert!(c.iter().all(|&x| x == 64.0));
        assert_eq!(
            openblas::current_threads(),
            t,
            "OpenBLAS read back after a {t}-thread call"
        );
    }
    let info = openblas::info();
    assert!(info.config.contains("OpenBLAS"), "{}", info.config);
    assert_eq!(info.threading, "pthreads");
}

#[test]
fn calls_inside_rayon_workers_run_blas_single_threaded() {
    let _s = serial();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(3)
        .build()
        .unwrap();
    let plans: Vec<_> = pool.install(|| {
        use rayon::prelude::*;
        (0..8)
            .into_par_iter()
            .map(|_| {
                Exec::blas(4)
                    .unwrap()
                    .plan(parla::Op::Matmul, parla::Dtype::F64, parla::Shape::Unknown)
                    .unwrap()
            })
            .collect()
    });
    assert!(
        plans
            .iter()
            .all(|p| p.threads == 1 && p.engine == Engine::Blas),
        "{plans:?}"
    );
    assert_eq!(
        Exec::blas(4)
            .unwrap()
            .plan(parla::Op::Matmul, parla::Dtype::F64, parla::Shape::Unknown)
            .unwrap()
            .threads,
        4,
        "outside a worker"
    );
}

#[test]
fn backend_runtime_and_scope() {
    let _s = serial();
    parla::set_backend(Engine::Rayon);
    assert_eq!(parla::backend().unwrap(), Engine::Rayon);
    let a = Array2::<f64>::eye(2);
    let e = parla::eig(&a).unwrap();
    assert_eq!(
        e.values.mapv(|z| (z.re, z.im)).to_vec(),
        vec![(1.0, 0.0); 2]
    );
    assert_eq!(
        e.vectors.mapv(|z| (z.re, z.im)),
        Array2::eye(2).mapv(|x: f64| (x, 0.0))
    );
    assert_eq!(parla::eigh(&a).unwrap().values, ndarray::array![1.0, 1.0]);
    assert_eq!(
        Exec::current()
            .unwrap()
            .plan(parla::Op::Matmul, parla::Dtype::F64, parla::Shape::Unknown)
            .unwrap()
            .engine,
        Engine::Rayon
    );
    let ok = parla::with_backend(Engine::Blas, || parla::eigh(&a));
    assert_eq!(ok.unwrap().values, ndarray::array![1.0, 1.0]);
    threads::reset_backend();
    assert!(parla::eigh(&a).is_ok());
}
