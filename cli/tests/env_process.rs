//! The environment as a user sets it: each case runs the `parla` binary in a child process with
//! its own environment (variables are read once per process, so they cannot be changed here).

use std::process::Command;

use serde_json::Value;

const VARS: [&str; 4] = [
    "PARLA_NUM_THREADS",
    "PARLA_BACKEND",
    "OPENBLAS_NUM_THREADS",
    "RAYON_NUM_THREADS",
];

fn info(env: &[(&str, &str)]) -> Value {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_parla"));
    cmd.args(["info", "--json"]);
    for v in VARS {
        cmd.env_remove(v);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run parla");
    assert!(
        out.status.success(),
        "parla info failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("valid JSON")
}

fn budget(v: &Value, which: &str) -> Result<(u64, String), String> {
    let b = &v["settings"][which];
    if let Some(ok) = b.get("Ok") {
        Ok((ok[0].as_u64().unwrap(), ok[1].as_str().unwrap().to_string()))
    } else {
        Err(b["Err"].as_str().unwrap().to_string())
    }
}

fn usable() -> u64 {
    std::thread::available_parallelism().unwrap().get() as u64
}

#[test]
fn precedence_of_thread_variables() {
    let v = info(&[]);
    assert_eq!(
        budget(&v, "blas_threads").unwrap(),
        (usable(), "cores".to_string())
    );

    let v = info(&[("OPENBLAS_NUM_THREADS", "3"), ("RAYON_NUM_THREADS", "5")]);
    assert_eq!(
        budget(&v, "blas_threads").unwrap(),
        (3, "open_blas_env".to_string())
    );
    assert_eq!(
        budget(&v, "rayon_threads").unwrap(),
        (5, "rayon_env".to_string())
    );

    let v = info(&[
        ("PARLA_NUM_THREADS", "7"),
        ("OPENBLAS_NUM_THREADS", "3"),
        ("RAYON_NUM_THREADS", "5"),
    ]);
    assert_eq!(
        budget(&v, "blas_threads").unwrap(),
        (7, "parla_env".to_string())
    );
    assert_eq!(
        budget(&v, "rayon_threads").unwrap(),
        (7, "parla_env".to_string())
    );
    let env = v["env"].as_array().unwrap();
    let status = |name: &str| env.iter().find(|e| e["name"] == name).unwrap().clone();
    assert_eq!(status("PARLA_NUM_THREADS")["in_effect"], true);
    assert_eq!(status("OPENBLAS_NUM_THREADS")["in_effect"], false);
    assert!(status("OPENBLAS_NUM_THREADS")["note"]
        .as_str()
        .unwrap()
        .contains("overridden"));

    let v = info(&[("OPENBLAS_NUM_THREADS", "0")]);
    assert_eq!(
        budget(&v, "blas_threads").unwrap(),
        (usable(), "cores".to_string())
    );
}

#[test]
fn invalid_values_are_reported_not_replaced() {
    for raw in ["abc", "-3", "0", "", "1e9", " 2 "] {
        let v = info(&[("PARLA_NUM_THREADS", raw)]);
        let err = budget(&v, "blas_threads").unwrap_err();
        assert!(
            err.contains("PARLA_NUM_THREADS") && err.contains(&format!("{raw:?}")),
            "{raw:?}: {err}"
        );
        let env = v["env"].as_array().unwrap();
        let e = env
            .iter()
            .find(|e| e["name"] == "PARLA_NUM_THREADS")
            .unwrap();
        assert_eq!(e["in_effect"], false);
        assert!(e["note"].as_str().unwrap().starts_with("INVALID"));
    }
    let v = info(&[("PARLA_BACKEND", "mkl")]);
    assert!(v["settings"]["backend"]["Err"]
        .as_str()
        .unwrap()
        .contains("PARLA_BACKEND"));
    let v = info(&[("PARLA_BACKEND", "rayon")]);
    assert_eq!(v["settings"]["backend"]["Ok"], "rayon");
}

#[test]
fn text_report_names_blas_and_cores() {
    let out = Command::new(env!("CARGO_BIN_EXE_parla"))
        .arg("info")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "OpenBLAS",
        "logical",
        "physical",
        "usable",
        "SIMD",
        "precedence",
        "PARLA_NUM_THREADS",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
}
