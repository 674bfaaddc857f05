//! Table-driven validation of thread-count and backend values (pure functions, no global state).

use parla::threads::env::{parse_backend, parse_threads, Zero, MAX_THREADS, VAR_THREADS};
use parla::{Engine, Error};

#[test]
fn invalid_thread_counts_name_variable_value_and_what_is_allowed() {
    let cases = [
        "abc",
        "-3",
        "0",
        "",
        "1e9",
        " ",
        " 4",
        "4 ",
        "\t2",
        "+2",
        "2.0",
        "0x10",
        "99999999999999999999999",
        "1025",
    ];
    for raw in cases {
        match parse_threads(VAR_THREADS, raw, Zero::Invalid) {
            Err(Error::InvalidEnv { var, value, reason }) => {
                assert_eq!(var, "PARLA_NUM_THREADS", "{raw:?}");
                assert_eq!(value, raw);
                assert!(
                    reason.contains("1 to 1024"),
                    "reason for {raw:?} should say what is allowed: {reason}"
                );
                let msg = Error::InvalidEnv {
                    var,
                    value: value.clone(),
                    reason: reason.clone(),
                }
                .to_string();
                assert!(
                    msg.contains("PARLA_NUM_THREADS") && msg.contains(&format!("{raw:?}")),
                    "{msg}"
                );
            }
            other => panic!("{raw:?} should be rejected, got {other:?}"),
        }
    }
}

#[test]
fn valid_thread_counts() {
    for (raw, n) in [
        ("1", 1),
        ("2", 2),
        ("64", 64),
        ("1024", MAX_THREADS),
        ("007", 7),
    ] {
        assert_eq!(
            parse_threads(VAR_THREADS, raw, Zero::Invalid).unwrap(),
            Some(n),
            "{raw:?}"
        );
    }
}

#[test]
fn zero_means_default_only_where_the_owning_library_says_so() {
    assert_eq!(
        parse_threads("RAYON_NUM_THREADS", "0", Zero::MeansDefault).unwrap(),
        None
    );
    assert!(parse_threads("PARLA_NUM_THREADS", "0", Zero::Invalid).is_err());
    // Everything else stays an error for those variables too.
    for raw in ["abc", "-3", "", "1e9", " 2"] {
        assert!(
            parse_threads("OPENBLAS_NUM_THREADS", raw, Zero::MeansDefault).is_err(),
            "{raw:?}"
        );
    }
}

#[test]
fn backend_names() {
    for (raw, e) in [
        ("auto", Engine::Auto),
        ("blas", Engine::Blas),
        ("rayon-blas", Engine::RayonBlas),
        ("rayon", Engine::Rayon),
    ] {
        assert_eq!(parse_backend(raw).unwrap(), e);
        assert_eq!(e.to_string(), raw);
        // Any ASCII case parses to the same engine; messages keep the canonical spelling.
        let upper = raw.to_uppercase();
        assert_eq!(parse_backend(&upper).unwrap(), e, "{upper}");
        let title = format!("{}{}", raw[..1].to_uppercase(), &raw[1..]);
        assert_eq!(parse_backend(&title).unwrap(), e, "{title}");
        assert_eq!(title.parse::<Engine>().unwrap().to_string(), raw);
    }
    assert_eq!(parse_backend("Rayon-BLAS").unwrap(), Engine::RayonBlas);
    for raw in [
        "",
        "mkl",
        "rayon_blas",
        "RAYON_BLAS",
        " blas",
        "Blas ",
        "rayonblas",
    ] {
        match parse_backend(raw) {
            Err(Error::InvalidEnv {
                var: "PARLA_BACKEND",
                value,
                reason,
            }) => {
                assert_eq!(value, raw);
                assert!(reason.contains("auto, blas, rayon-blas, rayon"));
            }
            other => panic!("{raw:?}: {other:?}"),
        }
    }
}

#[test]
fn pin_values() {
    use parla::threads::env::parse_pin;
    for raw in ["on", "ON", "1", "true", "True"] {
        assert!(parse_pin(raw).unwrap(), "{raw}");
    }
    for raw in ["off", "Off", "0", "false"] {
        assert!(!parse_pin(raw).unwrap(), "{raw}");
    }
    for raw in ["", "yes", " on", "2", "cores"] {
        match parse_pin(raw) {
            Err(Error::InvalidEnv {
                var: "PARLA_PIN_THREADS",
                value,
                reason,
            }) => {
                assert_eq!(value, raw);
                assert!(reason.contains("on") && reason.contains("off"), "{reason}");
            }
            other => panic!("{raw:?}: expected InvalidEnv, got {other:?}"),
        }
    }
}
