//! Nesting without oversubscription: while `Parallel` tasks call parla (which would use
//! OpenBLAS's own threads if it were not nested), the process never has more runnable threads
//! than cores + 1 (the +1 is the sampler itself). Its own test binary: it measures the process.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use ndarray::Array2;
use parla::{Exec, Parallel};

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

#[test]
fn nested_blas_calls_do_not_oversubscribe() {
    let cores = parla::threads::usable_cores();
    let a = Array2::from_shape_fn((256, 256), |(i, j)| ((i * 7 + j * 3) % 11) as f64 - 5.0);
    // Warm OpenBLAS's own thread pool up first, so its threads exist and could run.
    Exec::blas(cores.max(2)).unwrap().matmul(&a, &a).unwrap();
    // After a multi-threaded call, OpenBLAS's idle workers busy-wait (sched_yield loop) before
    // they sleep: measured here, under 100 ms. During that window any parallel work competes
    // with them — a property of OpenBLAS, not of nesting. Let them settle so this test measures
    // what nesting adds.
    std::thread::sleep(std::time::Duration::from_millis(250));

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
        let p = Parallel::new(-1).unwrap();
        for _ in 0..40 {
            // Every task asks for all cores; nested, each must get one OpenBLAS thread.
            let out = p
                .map(0..16, |_| {
                    Exec::blas(cores.max(2)).unwrap().matmul(&a, &a).unwrap()
                })
                .unwrap();
            assert_eq!(out.len(), 16);
        }
        done.store(true, Ordering::Release);
    });
    let worst = worst.into_inner();
    assert!(samples.into_inner() > 10, "the sampler must have run");
    assert!(
        worst <= cores + 1,
        "{worst} runnable threads on {cores} cores: {:?}",
        worst_names.into_inner().unwrap()
    );
    assert!(worst >= 1);
}
