//! One process with an invalid `PARLA_NUM_THREADS`: every call that depends on it fails with a
//! typed error; explicit `Exec` values do not depend on it and keep working. An invalid
//! `PARLA_PIN_THREADS` fails every call that starts a rayon pool.
//! (Its own test binary: the environment is read once per process.)

use ndarray::array;
use parla::{Engine, Error, Exec};

#[test]
fn invalid_budget_is_an_error_for_default_calls_only() {
    std::env::set_var("PARLA_NUM_THREADS", "abc");
    std::env::set_var("PARLA_PIN_THREADS", "sideways");
    let a = array![[1.0, 2.0], [3.0, 4.0]];
    match parla::matmul(&a, &a) {
        Err(Error::InvalidEnv {
            var: "PARLA_NUM_THREADS",
            value,
            ..
        }) => assert_eq!(value, "abc"),
        other => panic!("expected InvalidEnv, got {other:?}"),
    }
    assert!(matches!(
        parla::num_threads(),
        Err(Error::InvalidEnv { .. })
    ));
    assert!(matches!(Exec::current(), Err(Error::InvalidEnv { .. })));
    // A fixed execution value does not read the environment.
    assert_eq!(
        Exec::new(Engine::Blas, 1).unwrap().matmul(&a, &a).unwrap(),
        array![[7.0, 10.0], [15.0, 22.0]]
    );
    // A bad `PARLA_PIN_THREADS` stops every call that would start a rayon pool, explicit or not.
    match Exec::new(Engine::Rayon, 2).and_then(|e| e.matmul(&a, &a)) {
        Err(Error::InvalidEnv {
            var: "PARLA_PIN_THREADS",
            value,
            ..
        }) => assert_eq!(value, "sideways"),
        other => panic!("expected InvalidEnv for PARLA_PIN_THREADS, got {other:?}"),
    }
    // The runtime budget overrides the bad variable.
    parla::set_num_threads(2).unwrap();
    assert_eq!(parla::num_threads().unwrap(), 2);
    assert!(parla::matmul(&a, &a).is_ok());
}
