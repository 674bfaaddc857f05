//! Nesting safety: many threads call parla at once (OS threads and rayon workers). OpenBLAS must
//! not crash (Debian's build aborts with "too many memory regions" near 176 concurrent callers)
//! and every result must equal the serial one within the error bound.

mod common;

use ndarray::Array2;
use parla::{Engine, Exec};

struct Case {
    a: Array2<f64>,
    spd: Array2<f64>,
    b: Array2<f64>,
}

struct Results {
    product: Array2<f64>,
    solution: Array2<f64>,
    chol: Array2<f64>,
    eig: ndarray::Array1<f64>,
}

fn run(exec: &Exec, c: &Case) -> Results {
    Results {
        product: exec.matmul(&c.a, &c.a).unwrap(),
        solution: exec.solve(&c.spd, &c.b).unwrap(),
        chol: exec.cholesky(&c.spd).unwrap(),
        eig: exec.eigvalsh(&c.spd).unwrap(),
    }
}

fn close(x: &Array2<f64>, y: &Array2<f64>, scale: f64) {
    let n = x.nrows() as f64;
    let err = (x - y).iter().fold(0.0f64, |m, d| m.max(d.abs()));
    assert!(err <= 64.0 * n * f64::EPSILON * scale, "err {err:e}");
}

fn check(r: &Results, serial: &Results) {
    close(
        &r.product,
        &serial.product,
        common::fro(&serial.product.view()),
    );
    close(
        &r.solution,
        &serial.solution,
        1e3 * common::fro(&serial.solution.view()),
    );
    close(&r.chol, &serial.chol, common::fro(&serial.chol.view()));
    let de = (&r.eig - &serial.eig)
        .iter()
        .fold(0.0f64, |m, d| m.max(d.abs()));
    assert!(de <= 64.0 * 48.0 * f64::EPSILON * serial.eig[serial.eig.len() - 1].abs());
}

fn case() -> Case {
    let mut rng = common::rng(7);
    Case {
        a: common::random(&mut rng, 96, 96),
        spd: common::spd(&mut rng, 48),
        b: common::random(&mut rng, 48, 3),
    }
}

#[test]
fn five_hundred_twelve_os_threads_with_mixed_budgets() {
    let c = case();
    let serial = run(&Exec::new(Engine::Blas, 1).unwrap(), &c);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..512)
            .map(|i| {
                let c = &c;
                std::thread::Builder::new()
                    .stack_size(256 * 1024)
                    .spawn_scoped(s, move || {
                        let exec = Exec::new(Engine::Blas, 1 + i % 3).unwrap();
                        run(&exec, c)
                    })
                    .unwrap()
            })
            .collect();
        for h in handles {
            check(&h.join().unwrap(), &serial);
        }
    });
}

#[test]
fn rayon_workers_calling_parla() {
    use rayon::prelude::*;
    let c = case();
    let serial = run(&Exec::new(Engine::Blas, 1).unwrap(), &c);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(200)
        .build()
        .unwrap();
    let results: Vec<Results> = pool.install(|| {
        (0..400)
            .into_par_iter()
            .map(|_| run(&Exec::blas(2).unwrap(), &c))
            .collect()
    });
    for r in &results {
        check(r, &serial);
    }
}
