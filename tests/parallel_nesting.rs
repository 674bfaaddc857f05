//! Nesting without oversubscription: while `Parallel` tasks call parla (which would use
//! OpenBLAS's own threads if it were not nested), the process never has more runnable threads
//! than cores + 1 (the +1 is the sampler itself). Its own test binary: it measures the process.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use ndarray::Array2;
use parla::{Engine, Exec, Parallel};

/// Names of this process's threads in state R (running or runnable), from
/// /proc/self/task/*/stat.
fn runnable_threads(skip_tid: i64) -> Vec<String> {
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    dir.filter_map(|e| {
        let e = e.ok()?;
        if e.file_name().to_str()?.parse::<i64>().ok()? == skip_tid {
            return None;
        }
        std::fs::read_to_string(e.path().join("stat")).ok()
    })
    .filter_map(|stat| {
        // The state follows the command name, which is in parentheses and may hold spaces.
        let (head, rest) = stat.rsplit_once(')')?;
        let name = head.split_once('(')?.1.to_string();
        (rest.split_whitespace().next() == Some("R")).then_some(name)
    })
    .collect()
}

/// The largest number of runnable threads seen while `work` runs (the sampler excluded).
/// `work` is repeated until the sampler has looked often enough (a short phase on a loaded
/// machine may otherwise end before the sampler runs).
fn worst_during(mut work: impl FnMut()) -> (usize, Vec<String>) {
    let done = AtomicBool::new(false);
    let worst = AtomicUsize::new(0);
    let worst_names = std::sync::Mutex::new(Vec::new());
    let samples = AtomicUsize::new(0);
    std::thread::scope(|s| {
        s.spawn(|| {
            // SAFETY: gettid has no preconditions.
            let me = unsafe { libc::gettid() } as i64;
            while !done.load(Ordering::Acquire) {
                let now = runnable_threads(me);
                if now.len() > worst.fetch_max(now.len(), Ordering::Relaxed) {
                    *worst_names.lock().unwrap() = now;
                }
                samples.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(std::time::Duration::from_micros(200));
            }
        });
        // Stops the sampler even when `work` panics (else the scope would wait for it forever).
        struct Stop<'a>(&'a AtomicBool);
        impl Drop for Stop<'_> {
            fn drop(&mut self) {
                self.0.store(true, Ordering::Release);
            }
        }
        let _stop = Stop(&done);
        work();
        while samples.load(Ordering::Relaxed) <= 10 {
            work();
        }
    });
    assert!(samples.into_inner() > 10, "the sampler must have run");
    (worst.into_inner(), worst_names.into_inner().unwrap())
}

/// One test (not several) because the samples measure the whole process: tests running side by
/// side would count each other's threads.
#[test]
fn nested_calls_do_not_oversubscribe() {
    let cores = parla::threads::usable_cores();
    let a = Array2::from_shape_fn((256, 256), |(i, j)| ((i * 7 + j * 3) % 11) as f64 - 5.0);
    let mut spd = a.dot(&a.t());
    spd.diag_mut().iter_mut().for_each(|d| *d += 256.0);
    // Warm OpenBLAS's own thread pool up first, so its threads exist and could run.
    Exec::blas(cores.max(2)).unwrap().matmul(&a, &a).unwrap();
    // After a multi-threaded call, OpenBLAS's idle workers busy-wait (sched_yield loop) before
    // they sleep: measured here, under 100 ms. During that window any parallel work competes
    // with them — a property of OpenBLAS, not of nesting. Let them settle so this test measures
    // what nesting adds.
    std::thread::sleep(std::time::Duration::from_millis(250));

    let p = Parallel::new(-1).unwrap();
    // Every task asks for all cores; nested, each must get one thread: OpenBLAS's for `blas`,
    // none of the engine pools for the rayon engines.
    let (worst, names) = worst_during(|| {
        for _ in 0..40 {
            let out = p
                .map(0..16, |_| {
                    Exec::blas(cores.max(2)).unwrap().matmul(&a, &a).unwrap()
                })
                .unwrap();
            assert_eq!(out.len(), 16);
        }
    });
    assert!(worst >= 1);
    assert!(
        worst <= cores + 1,
        "blas: {worst} runnable threads on {cores} cores: {names:?}"
    );

    // Idle rayon workers spin for a while before they sleep, like OpenBLAS's: let each phase's
    // pools settle before the next is measured, so a phase counts only its own threads.
    let settle = || std::thread::sleep(std::time::Duration::from_millis(250));
    for engine in [Engine::RayonBlas, Engine::Rayon] {
        settle();
        let (worst, names) = worst_during(|| {
            for _ in 0..10 {
                let out = p
                    .map(0..8, |_| {
                        let e = Exec::new(engine, cores.max(2)).unwrap();
                        e.matmul(&a, &a).unwrap();
                        e.cholesky(&spd).unwrap()
                    })
                    .unwrap();
                assert_eq!(out.len(), 8);
            }
        });
        assert!(
            worst <= cores + 1,
            "{engine} nested: {worst} runnable threads on {cores} cores: {names:?}"
        );
        // Not nested: the engine's own pool of `cores` workers, the caller blocked.
        settle();
        let (worst, names) = worst_during(|| {
            for _ in 0..10 {
                Exec::new(engine, cores).unwrap().matmul(&a, &a).unwrap();
            }
        });
        assert!(
            worst <= cores + 1,
            "{engine} on its pool: {worst} runnable threads on {cores} cores: {names:?}"
        );
    }

    // `auto` with a budget above the cores: never more threads than cores, whatever it picks
    // (explicit fixed engines may oversubscribe; auto may not).
    let auto = Exec::new(Engine::Auto, cores + 2).unwrap();
    let big = Array2::from_shape_fn((512, 512), |(i, j)| ((i * 5 + j * 3) % 13) as f64 - 6.0);
    let mut big_spd = big.dot(&big.t());
    big_spd.diag_mut().iter_mut().for_each(|d| *d += 512.0);
    let rhs = Array2::from_shape_fn((512, 4), |(i, j)| (i + j) as f64);
    for (op, shape) in [
        (parla::Op::Matmul, parla::Shape::Square(512)),
        (parla::Op::Cholesky, parla::Shape::Square(512)),
        (
            parla::Op::Solve,
            parla::Shape::System {
                rows: 512,
                cols: 512,
                rhs: 4,
            },
        ),
    ] {
        let plan = auto.plan(op, parla::Dtype::F64, shape).unwrap();
        assert!(
            plan.threads <= cores,
            "{op}: auto planned {} threads on {cores} cores",
            plan.threads
        );
    }
    // One operation per phase: right after a call on one engine, that engine's idle workers
    // (rayon's or OpenBLAS's) spin for a while before sleeping, so a call on the other engine
    // then shares the cores with them — a transient this test does not measure.
    let phases: [(&str, &dyn Fn()); 3] = [
        ("matmul", &|| drop(auto.matmul(&big, &big).unwrap())),
        ("cholesky", &|| drop(auto.cholesky(&big_spd).unwrap())),
        ("solve", &|| drop(auto.solve(&big_spd, &rhs).unwrap())),
    ];
    for (name, call) in phases {
        call();
        settle();
        let (worst, names) = worst_during(|| {
            for _ in 0..4 {
                call();
            }
        });
        assert!(
            worst <= cores + 1,
            "auto {name} with a budget of {}: {worst} runnable threads on {cores} cores: {names:?}",
            cores + 2
        );
    }
}
