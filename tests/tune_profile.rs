//! Tuning profiles end to end. The environment and the profile are read once per process, so
//! each case runs in a child process (this test binary again, running only [`child`]) with its
//! own `PARLA_TUNE_FILE`; the child asserts and the parent checks that it passed.

use std::path::{Path, PathBuf};
use std::process::Command;

use ndarray::array;
use parla::tuning::{Candidate, Entry, Profile, ProfileStatus, ShapeClass};
use parla::{Dtype, Engine, Error, Exec, Op, Shape};

const CASE: &str = "PARLA_TUNE_TEST_CASE";

/// A test's own scratch directory, removed when the test ends (pass or fail).
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Self {
        let d = std::env::temp_dir().join(format!("parla-tune-test-{}-{test}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        Scratch(d)
    }

    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A profile of this machine in which the fastest square f64 GEMM at n = 1024 is `rayon-blas`
/// on one thread, and the fastest batch of small GEMMs `rayon` on one worker: choices the
/// built-in rules never make, so seeing them proves the profile decided.
fn synthetic() -> Profile {
    let c = |engine, threads, seconds| Candidate {
        engine,
        threads,
        seconds,
        spread: 0.01,
    };
    Profile {
        entries: vec![
            Entry {
                op: Op::Gemm,
                dtype: Dtype::F64,
                class: ShapeClass::Square,
                dims: [1024, 1024, 1024],
                size: 1024.0,
                batch: 0,
                candidates: vec![
                    c(Engine::Blas, 1, 0.4),
                    c(Engine::Blas, 2, 0.2),
                    c(Engine::RayonBlas, 1, 0.1),
                    c(Engine::Rayon, 2, 0.15),
                ],
            },
            // Batches of 1000 products of 32 x 32: parla's kernels on one worker, a choice the
            // built-in batch rules never make.
            Entry {
                op: Op::Gemm,
                dtype: Dtype::F64,
                class: ShapeClass::Square,
                dims: [32, 32, 32],
                size: 32.0,
                batch: 1000,
                candidates: vec![
                    c(Engine::Blas, 2, 0.4),
                    c(Engine::RayonBlas, 2, 0.2),
                    c(Engine::Rayon, 1, 0.1),
                ],
            },
        ],
        ..Profile::new("test")
    }
}

fn run_child(case: &str, tune_file: Option<&str>) {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "child",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(CASE, case)
    .env_remove("PARLA_BACKEND")
    .env_remove("PARLA_NUM_THREADS");
    match tune_file {
        Some(f) => cmd.env("PARLA_TUNE_FILE", f),
        None => cmd.env_remove("PARLA_TUNE_FILE"),
    };
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && text.contains("1 passed"),
        "child {case} failed:\n{text}"
    );
}

fn write(path: &Path, text: &[u8]) -> String {
    std::fs::write(path, text).unwrap();
    path.display().to_string()
}

#[test]
fn round_trip_in_process() {
    let dir = Scratch::new("round_trip_in_process");
    let p = synthetic();
    let back = Profile::from_json(&p.to_json()).unwrap();
    assert_eq!(back, p);
    let path = dir.join("round.json");
    p.save(&path).unwrap();
    let (status, loaded) = parla::tuning::load(&path);
    assert!(
        matches!(status, ProfileStatus::InUse { entries: 2, .. }),
        "{status:?}"
    );
    assert_eq!(loaded.unwrap(), p);
}

#[test]
fn a_saved_profile_decides_auto() {
    let dir = Scratch::new("a_saved_profile_decides_auto");
    let path = dir.join("good.json");
    synthetic().save(&path).unwrap();
    run_child("uses_profile", Some(&path.display().to_string()));
}

#[test]
fn profiles_of_other_machines_or_versions_are_ignored() {
    let dir = Scratch::new("profiles_of_other_machines_or_versions_are_ignored");
    let mut other = synthetic();
    other.machine.cores += 1;
    let p = dir.join("other-cores.json");
    other.save(&p).unwrap();
    run_child("ignored:usable cores", Some(&p.display().to_string()));

    let mut old = synthetic();
    old.machine.parla = "0.0.1".into();
    let p = dir.join("old-parla.json");
    old.save(&p).unwrap();
    run_child("ignored:parla version", Some(&p.display().to_string()));

    let mut core = synthetic();
    core.machine.openblas_core = "SomeOtherCore".into();
    let p = dir.join("other-core.json");
    core.save(&p).unwrap();
    run_child("ignored:OpenBLAS core type", Some(&p.display().to_string()));

    let text = synthetic()
        .to_json()
        .replacen("\"format\": 1", "\"format\": 0", 1);
    let p = write(&dir.join("old-format.json"), text.as_bytes());
    run_child("ignored:format 0", Some(&p));
}

#[test]
fn corrupt_or_truncated_profiles_are_ignored_never_a_panic() {
    let dir = Scratch::new("corrupt_or_truncated_profiles_are_ignored_never_a_panic");
    let json = synthetic().to_json();
    let p = write(
        &dir.join("truncated.json"),
        &json.as_bytes()[..json.len() / 2],
    );
    run_child("ignored:not a tuning profile", Some(&p));
    let p = write(&dir.join("binary.json"), &[0xff, 0xfe, 0, 1, 2]);
    run_child("ignored:not UTF-8", Some(&p));
    let bad_time = json.replacen("\"seconds\": 0.1", "\"seconds\": -0.1", 1);
    let p = write(&dir.join("negative.json"), bad_time.as_bytes());
    run_child("ignored:time -0.1", Some(&p));
    let zero_threads = json.replacen("\"threads\": 1", "\"threads\": 0", 1);
    let p = write(&dir.join("zero.json"), zero_threads.as_bytes());
    run_child("ignored:0 threads", Some(&p));
    let d = dir.join("a-directory");
    std::fs::create_dir_all(&d).unwrap();
    run_child("ignored:cannot be read", Some(&d.display().to_string()));
}

#[test]
fn a_missing_profile_means_the_built_in_rules() {
    let dir = Scratch::new("a_missing_profile_means_the_built_in_rules");
    let p = dir.join("does-not-exist.json");
    run_child("missing", Some(&p.display().to_string()));
}

#[test]
fn bad_tune_file_values_are_invalid_env() {
    run_child("invalid_env", Some(""));
    run_child("invalid_env", Some(" /tmp/x.json"));
    run_child("invalid_env", Some("/tmp/dir/"));
}

fn sq(n: usize) -> Shape {
    Shape::Product { m: n, n, k: n }
}

/// The child: runs only when the parent set [`CASE`].
#[test]
#[ignore = "run by the other tests in a child process"]
fn child() {
    let Ok(case) = std::env::var(CASE) else {
        return;
    };
    let auto = Exec::new(Engine::Auto, 2).unwrap();
    let a = array![[1.0f64, 2.0], [3.0, 4.0]];
    let status = parla::tuning::profile_status();
    if case == "uses_profile" {
        assert!(
            matches!(status, Ok(ProfileStatus::InUse { entries: 2, .. })),
            "{status:?}"
        );
        // The batch entry decides batches (not single calls), and the result is right.
        let b = auto.batch(parla::batch::Strategy::Auto);
        let bp = b.plan(Op::Matmul, Dtype::F64, 2000, 24).unwrap();
        assert_eq!(
            (bp.strategy, bp.workers, bp.item.engine, bp.item.threads),
            (parla::batch::Strategy::Rayon, 1, Engine::Rayon, 1)
        );
        assert!(bp.rule.contains("tuning profile"), "{}", bp.rule);
        let stack = ndarray::Array3::from_shape_fn((3, 2, 2), |(i, j, k)| (i + 2 * j + k) as f64);
        let prod = b.matmul(&stack, &stack).unwrap();
        for i in 0..3 {
            let m = stack.index_axis(ndarray::Axis(0), i);
            assert_eq!(prod.index_axis(ndarray::Axis(0), i), m.dot(&m));
        }
        let plan = auto.plan(Op::Matmul, Dtype::F64, sq(1000)).unwrap();
        assert_eq!((plan.engine, plan.threads), (Engine::RayonBlas, 1));
        assert!(plan.rule.contains("tuning profile"), "{}", plan.rule);
        // f32 is answered by the f64 entry (a stand-in), the result is still right.
        let p32 = auto.plan(Op::Gemm, Dtype::F32, sq(1000)).unwrap();
        assert_eq!((p32.engine, p32.threads), (Engine::RayonBlas, 1));
        assert!(p32.rule.contains("stand-in"), "{}", p32.rule);
        assert_eq!(
            parla::matmul(&a, &a).unwrap(),
            array![[7.0, 10.0], [15.0, 22.0]]
        );
        // No entry for solve: the built-in rule.
        let s = auto
            .plan(Op::Solve, Dtype::F64, Shape::Square(100))
            .unwrap();
        assert_eq!(s.engine, Engine::Blas);
        assert!(!s.rule.contains("tuning profile"), "{}", s.rule);
    } else if let Some(why) = case.strip_prefix("ignored:") {
        match &status {
            Ok(ProfileStatus::Ignored { reason, .. }) => {
                assert!(reason.contains(why), "{reason:?} should mention {why:?}")
            }
            other => panic!("expected Ignored ({why}), got {other:?}"),
        }
        let info = parla::info::MachineInfo::collect().render();
        assert!(info.contains("IGNORED"), "{info}");
        let plan = auto.plan(Op::Matmul, Dtype::F64, sq(1000)).unwrap();
        assert!(!plan.rule.contains("tuning profile"), "{}", plan.rule);
        assert_eq!(
            parla::matmul(&a, &a).unwrap(),
            array![[7.0, 10.0], [15.0, 22.0]]
        );
    } else if case == "missing" {
        assert!(
            matches!(status, Ok(ProfileStatus::Missing { .. })),
            "{status:?}"
        );
        let plan = auto.plan(Op::Matmul, Dtype::F64, sq(1000)).unwrap();
        assert!(!plan.rule.contains("tuning profile"), "{}", plan.rule);
        assert!(parla::matmul(&a, &a).is_ok());
    } else if case == "invalid_env" {
        assert!(
            matches!(
                status,
                Err(Error::InvalidEnv {
                    var: "PARLA_TUNE_FILE",
                    ..
                })
            ),
            "{status:?}"
        );
        // Every call `auto` decides reports it; a fixed engine does not read the profile.
        assert!(matches!(
            parla::matmul(&a, &a),
            Err(Error::InvalidEnv {
                var: "PARLA_TUNE_FILE",
                ..
            })
        ));
        assert!(matches!(
            auto.plan(Op::Solve, Dtype::F64, Shape::Square(4)),
            Err(Error::InvalidEnv { .. })
        ));
        assert_eq!(
            Exec::new(Engine::Blas, 1).unwrap().matmul(&a, &a).unwrap(),
            array![[7.0, 10.0], [15.0, 22.0]]
        );
        let info = parla::info::MachineInfo::collect().render();
        assert!(info.contains("INVALID"), "{info}");
    } else {
        panic!("unknown case {case}");
    }
    println!("child {case}: ok");
}
