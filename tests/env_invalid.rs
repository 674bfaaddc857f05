//! One process with an invalid `PARLA_NUM_THREADS`: every call that depends on it fails with a
//! typed error; explicit `Exec` values do not depend on it and keep working.
//! (Its own test binary: the environment is read once per process.)

use ndarray::array;
use parla::{Engine, Error, Exec};

#[test]
fn invalid_budget_is_an_error_for_default_calls_only() {
    std::env::set_var("PARLA_NUM_THREADS", "abc");
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
    // The runtime budget overrides the bad variable.
    parla::set_num_threads(2).unwrap();
    assert_eq!(parla::num_threads().unwrap(), 2);
    assert!(parla::matmul(&a, &a).is_ok());
}
