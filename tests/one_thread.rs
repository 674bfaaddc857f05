//! A one-thread `rayon` / `rayon-blas` exec runs on the calling thread alone: no operation may
//! hand work to rayon's global pool (a parallel iterator, `join` or `scope` outside an engine
//! pool lands there, with every core of the machine). The global pool's workers are built here
//! with their CPU clocks recorded, and each operation must leave those clocks where they were.
//! Its own test binary (one test): the global pool is the process's.

use std::sync::Mutex;

use ndarray::{Array1, Array2};
use num_complex::Complex64 as C64;
use parla::{Engine, Exec, Field, NormKind, QrMode, SvdMode};

/// The CPU-time clocks of the global pool's workers.
static CLOCKS: Mutex<Vec<libc::clockid_t>> = Mutex::new(Vec::new());

/// CPU time the global pool's workers have used so far, in nanoseconds.
fn global_pool_cpu_ns() -> u128 {
    CLOCKS
        .lock()
        .unwrap()
        .iter()
        .map(|&id| {
            let mut ts = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            // SAFETY: `id` is the CPU clock of a live thread (the global workers never exit)
            // and `ts` is a valid out-pointer.
            assert_eq!(unsafe { libc::clock_gettime(id, &mut ts) }, 0);
            ts.tv_sec as u128 * 1_000_000_000 + ts.tv_nsec as u128
        })
        .sum()
}

/// Waits until the global workers have gone to sleep (their clocks stop moving).
fn settle() -> u128 {
    let mut last = global_pool_cpu_ns();
    loop {
        std::thread::sleep(std::time::Duration::from_millis(30));
        let now = global_pool_cpu_ns();
        if now == last {
            return now;
        }
        last = now;
    }
}

fn matrix<T: Field>(rows: usize, cols: usize, seed: usize, mk: fn(f64, f64) -> T) -> Array2<T> {
    Array2::from_shape_fn((rows, cols), |(i, j)| {
        let v = ((i * 7 + j * 3 + seed * 5) % 13) as f64 / 13.0 - 0.5;
        let d = if i == j { rows as f64 } else { 0.0 };
        mk(v + d, 0.3 * v)
    })
}

/// Hermitian positive definite: a diagonally dominant matrix with `a[j][i] = conj(a[i][j])`.
fn hpd<T: Field>(n: usize, mk: fn(f64, f64) -> T) -> Array2<T> {
    Array2::from_shape_fn((n, n), |(i, j)| {
        let v = ((i.min(j) * 7 + i.max(j) * 3) % 13) as f64 / 13.0 - 0.5;
        let im = if i < j { 0.3 * v } else { -0.3 * v };
        if i == j {
            mk(n as f64, 0.0)
        } else {
            mk(v, im)
        }
    })
}

/// Runs `op` and records it in `leaks` when the global pool's workers used CPU time meanwhile.
fn watch<R>(what: String, leaks: &mut Vec<String>, op: impl FnOnce() -> R) {
    let before = settle();
    drop(op());
    let after = settle();
    if after != before {
        leaks.push(format!(
            "{what}: {} µs on the global pool",
            (after - before) / 1000
        ));
    }
}

/// Every operation family once, on sizes past the engines' parallel thresholds (complex
/// spectral operations return `Unsupported` on the rayon engines: nothing to watch there, but
/// the call must not leak either).
fn check<T: Field>(engine: Engine, mk: fn(f64, f64) -> T, leaks: &mut Vec<String>) {
    let e = Exec::new(engine, 1).unwrap();
    let n = 300;
    let a = matrix(n, n, 2, mk);
    let tall = matrix(2 * n, n / 2, 3, mk);
    let s = hpd(n, mk);
    let b = matrix(n, 16, 4, mk);
    let big = matrix(1500, 1500, 5, mk);
    let v: Array1<T> = Array1::from_shape_fn(1 << 20, |i| mk((i % 97) as f64, 1.0));
    let t = std::any::type_name::<T>();
    let mut w = |name: &str, op: &dyn Fn()| watch(format!("{engine} {t} {name}"), leaks, op);
    w("matmul", &|| drop(e.matmul(&a, &a)));
    w("matmul 1500", &|| drop(e.matmul(&big, &big)));
    w("matvec", &|| drop(e.matvec(&big, &big.column(0))));
    w("dot", &|| drop(e.dot(&v, &v)));
    w("nrm2", &|| drop(e.nrm2(&v)));
    w("norm", &|| drop(e.norm(&big, NormKind::Fro)));
    w("row_sums", &|| drop(e.row_sums(&big)));
    w("col_norms", &|| drop(e.col_norms(&big)));
    w("lu_factor", &|| drop(e.lu_factor(&a)));
    w("solve", &|| drop(e.solve(&a, &b)));
    w("inv", &|| drop(e.inv(&a)));
    w("det", &|| drop(e.det(&a)));
    w("cholesky", &|| drop(e.cholesky(&s)));
    w("cho_factor + solve", &|| {
        drop(e.cho_factor(&s).map(|f| f.solve(&b)))
    });
    w("lu_factor + solve", &|| {
        drop(e.lu_factor(&a).map(|f| f.solve(&b)))
    });
    w("qr", &|| drop(e.qr(&tall, QrMode::Reduced)));
    w("qr_factor", &|| drop(e.qr_factor(&tall)));
    w("lstsq", &|| {
        drop(e.lstsq(&tall, &tall.column(0).to_owned(), None))
    });
    w("eigh", &|| drop(e.eigh(&s)));
    w("eig", &|| drop(e.eig(&a)));
    w("svd", &|| drop(e.svd(&tall, SvdMode::Thin)));
    w("pinv", &|| drop(e.pinv(&tall, None)));
}

/// The element-wise operations (real only).
fn check_elementwise(engine: Engine, leaks: &mut Vec<String>) {
    let e = Exec::new(engine, 1).unwrap();
    let big = matrix(1500, 1500, 5, |re, _| re);
    let mut w = |name: &str, op: &dyn Fn()| watch(format!("{engine} f64 {name}"), leaks, op);
    w("map", &|| drop(e.map(&big, |z: f64| z * z)));
    w("multiply", &|| drop(e.multiply(&big, &big)));
    w("transpose", &|| drop(e.transpose(&big)));
}

#[test]
fn one_thread_execs_stay_on_the_calling_thread() {
    rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .start_handler(|_| {
            let mut id: libc::clockid_t = 0;
            // SAFETY: pthread_self is this live thread; `id` is a valid out-pointer.
            assert_eq!(
                unsafe { libc::pthread_getcpuclockid(libc::pthread_self(), &mut id) },
                0
            );
            CLOCKS.lock().unwrap().push(id);
        })
        .build_global()
        .unwrap();
    // The workers start and record their clocks.
    rayon::join(|| {}, || {});
    while CLOCKS.lock().unwrap().len() < 2 {
        std::thread::yield_now();
    }
    let mut leaks = Vec::new();
    for engine in [Engine::Rayon, Engine::RayonBlas] {
        check::<f64>(engine, |re, _| re, &mut leaks);
        check::<C64>(engine, C64::new, &mut leaks);
        check_elementwise(engine, &mut leaks);
    }
    assert!(leaks.is_empty(), "{}", leaks.join("\n"));
}
