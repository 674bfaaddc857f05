//! The disk cache: hits and misses, what changes the key, layout independence, corrupted and
//! truncated entries, concurrent writers (threads and processes), LRU eviction, clear.

use std::fs;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use ndarray::{Array1, Array2, ShapeBuilder};
use parla::memory::Memory;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("parla-test-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    dir
}

fn matrix(seed: u64, n: usize) -> Array2<f64> {
    Array2::from_shape_fn((n, n), |(i, j)| {
        ((i as u64 * 31 + j as u64 * 17 + seed * 7) % 101) as f64 / 101.0
            + if i == j { n as f64 } else { 0.0 }
    })
}

#[test]
fn hit_after_miss_returns_the_same_bits_without_recomputing() {
    let dir = scratch("hit");
    let mem = Memory::new(&dir).unwrap();
    let a = matrix(1, 40);
    let calls = AtomicUsize::new(0);
    let run = || {
        mem.call("cholesky", "1").arg(&a).run(|| {
            calls.fetch_add(1, Ordering::SeqCst);
            parla::cholesky(&a)
        })
    };
    let first = run().unwrap();
    let second = run().unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(first, second);
    assert!(first
        .iter()
        .zip(second.iter())
        .all(|(x, y)| x.to_bits() == y.to_bits()));
    let s = mem.stats();
    assert_eq!((s.hits, s.misses, s.corrupt, s.write_errors), (1, 1, 0, 0));
    // The entry is a plain .npy file that a fresh reader (numpy, or ndarray-npy) can load.
    let path = mem.call("cholesky", "1").arg(&a).path();
    let back: Array2<f64> = ndarray_npy::read_npy(&path).unwrap();
    assert_eq!(back, first);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_key_changes_with_every_input_and_not_with_layout() {
    let dir = scratch("key");
    let mem = Memory::new(&dir).unwrap();
    let a = matrix(2, 6);
    let key = |name: &str, version: &str, a: &Array2<f64>| mem.call(name, version).arg(a).key();
    let base = key("f", "1", &a);
    assert_eq!(base, key("f", "1", &a.clone()), "same content, same key");
    // Layout independence: Fortran order and a transposed-twice view hash the same.
    let mut fortran = Array2::<f64>::zeros(a.dim().f());
    fortran.assign(&a);
    assert_eq!(base, mem.call("f", "1").arg(&fortran).key());
    assert_eq!(base, mem.call("f", "1").arg(&a.t().t()).key());
    // Every single value matters.
    for (i, j) in [(0, 0), (2, 3), (5, 5)] {
        let mut b = a.clone();
        b[[i, j]] = f64::from_bits(b[[i, j]].to_bits() ^ 1);
        assert_ne!(base, key("f", "1", &b), "one ulp at ({i},{j})");
    }
    assert_ne!(base, key("f", "2", &a), "version");
    assert_ne!(base, key("g", "1", &a), "name");
    let reshaped = a.clone().into_shape_with_order((3, 12)).unwrap();
    assert_ne!(base, mem.call("f", "1").arg(&reshaped).key(), "shape");
    assert_ne!(
        base,
        mem.call("f", "1").arg(&a.mapv(|x| x as f32)).key(),
        "dtype"
    );
    assert_ne!(
        base,
        mem.call("f", "1").arg(&a).arg_str("lower").key(),
        "extra argument"
    );
    let v = Array1::from(vec![1.0, 2.0]);
    assert_ne!(
        mem.call("f", "1").arg(&v).arg(&v).key(),
        mem.call("f", "1").arg(&v).key()
    );
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn truncated_or_corrupted_entries_are_recomputed_never_returned() {
    let dir = scratch("corrupt");
    let mem = Memory::new(&dir).unwrap();
    let a = matrix(3, 30);
    let truth = parla::cholesky(&a).unwrap();
    let calls = AtomicUsize::new(0);
    let run = || {
        mem.call("chol", "1").arg(&a).run(|| {
            calls.fetch_add(1, Ordering::SeqCst);
            parla::cholesky(&a)
        })
    };
    run().unwrap();
    let path = mem.call("chol", "1").arg(&a).path();
    let good = fs::read(&path).unwrap();

    // Truncated.
    fs::write(&path, &good[..good.len() / 2]).unwrap();
    assert_eq!(run().unwrap(), truth);
    // One flipped bit in the data (same length, still parses as .npy).
    let mut flipped = good.clone();
    let last = flipped.len() - 3;
    flipped[last] ^= 0x10;
    fs::write(&path, &flipped).unwrap();
    assert_eq!(run().unwrap(), truth);
    // Checksum file missing.
    fs::remove_file(path.with_extension("sum")).unwrap();
    assert_eq!(run().unwrap(), truth);
    // Garbage instead of the checksum.
    fs::write(path.with_extension("sum"), "not a checksum").unwrap();
    assert_eq!(run().unwrap(), truth);

    assert_eq!(
        calls.load(Ordering::SeqCst),
        5,
        "first miss + four recomputations"
    );
    assert_eq!(mem.stats().corrupt, 4);
    assert_eq!(run().unwrap(), truth, "repaired entry is a hit again");
    assert_eq!(calls.load(Ordering::SeqCst), 5);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn concurrent_writers_of_one_key_in_threads() {
    let dir = scratch("threads");
    let mem = Memory::new(&dir).unwrap();
    let a = matrix(4, 64);
    // The same engine as the cached computation: `parla::inv` runs whatever `auto` picks (a
    // tuning profile may pick another engine), and engines agree only within rounding.
    let truth = parla::Exec::blas(1).unwrap().inv(&a).unwrap();
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                for _ in 0..20 {
                    let r = mem
                        .call("inv", "1")
                        .arg(&a)
                        .run(|| parla::Exec::blas(1).unwrap().inv(&a))
                        .unwrap();
                    assert_eq!(r, truth);
                }
            });
        }
    });
    let s = mem.stats();
    assert_eq!(s.hits + s.misses, 160);
    assert_eq!(s.corrupt, 0, "a reader never sees a torn file");
    let leftovers: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("tmp-"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "temporary files are renamed or removed"
    );
    fs::remove_dir_all(&dir).unwrap();
}

/// Child side of the two-process test: runs only when the parent sets the directory.
#[test]
#[ignore = "helper for concurrent_writers_of_one_key_in_two_processes"]
fn child_writer() {
    let Ok(dir) = std::env::var("PARLA_TEST_CACHE_DIR") else {
        return;
    };
    let mem = Memory::new(dir).unwrap();
    let a = matrix(5, 64);
    let truth = parla::Exec::blas(1).unwrap().inv(&a).unwrap();
    for _ in 0..100 {
        let r = mem
            .call("inv2", "1")
            .arg(&a)
            .run(|| parla::Exec::blas(1).unwrap().inv(&a))
            .unwrap();
        assert_eq!(r, truth);
        // Force rewrites: remove the entry now and then so both processes keep writing.
        let _ = fs::remove_file(mem.call("inv2", "1").arg(&a).path());
    }
    assert_eq!(mem.stats().corrupt, 0);
}

#[test]
fn concurrent_writers_of_one_key_in_two_processes() {
    let dir = scratch("procs");
    fs::create_dir_all(&dir).unwrap();
    let child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "memory::child_writer",
            "--ignored",
            "--test-threads",
            "1",
        ])
        .env("PARLA_TEST_CACHE_DIR", &dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mem = Memory::new(&dir).unwrap();
    let a = matrix(5, 64);
    let truth = parla::Exec::blas(1).unwrap().inv(&a).unwrap();
    for _ in 0..100 {
        let r = mem
            .call("inv2", "1")
            .arg(&a)
            .run(|| parla::Exec::blas(1).unwrap().inv(&a))
            .unwrap();
        assert_eq!(r, truth);
        let _ = fs::remove_file(mem.call("inv2", "1").arg(&a).path());
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "child failed: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("1 passed"),
        "the child ran its test"
    );
    assert_eq!(mem.stats().corrupt, 0);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn least_recently_used_entries_are_evicted_first() {
    let dir = scratch("lru");
    let a = matrix(6, 32);
    let b = matrix(7, 32);
    let c = matrix(8, 32);
    // Measure one entry's size, then allow two.
    let probe = Memory::new(&dir).unwrap();
    probe.call("x", "1").arg(&a).run(|| Ok(a.clone())).unwrap();
    let one = probe.size_bytes().unwrap();
    probe.clear().unwrap();
    assert_eq!(probe.size_bytes().unwrap(), 0);

    let mem = Memory::new(&dir)
        .unwrap()
        .with_size_limit(2 * one + one / 2);
    let pause = || std::thread::sleep(std::time::Duration::from_millis(20));
    mem.call("x", "1").arg(&a).run(|| Ok(a.clone())).unwrap();
    pause();
    mem.call("x", "1").arg(&b).run(|| Ok(b.clone())).unwrap();
    pause();
    // Touch A: now B is the least recently used.
    mem.call("x", "1").arg(&a).run(|| Ok(a.clone())).unwrap();
    assert_eq!(mem.stats().hits, 1);
    pause();
    mem.call("x", "1").arg(&c).run(|| Ok(c.clone())).unwrap();
    let exists = |m: &Array2<f64>| mem.call("x", "1").arg(m).path().exists();
    assert!(
        exists(&a) && exists(&c) && !exists(&b),
        "B (least recently used) must go"
    );
    assert!(mem.size_bytes().unwrap() <= 2 * one + one / 2);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn errors_of_the_function_are_returned_and_nothing_is_stored() {
    let dir = scratch("err");
    let mem = Memory::new(&dir).unwrap();
    let bad = ndarray::array![[1.0, 2.0], [2.0, 1.0]];
    let r = mem
        .call("chol", "1")
        .arg(&bad)
        .run(|| parla::cholesky(&bad));
    assert!(matches!(
        r,
        Err(parla::Error::NotPositiveDefinite { index: 1, .. })
    ));
    assert!(!mem.call("chol", "1").arg(&bad).path().exists());
    // clear() leaves files that are not parla's alone.
    fs::write(dir.join("notes.txt"), "mine").unwrap();
    mem.clear().unwrap();
    assert!(dir.join("notes.txt").exists());
    fs::remove_dir_all(&dir).unwrap();
}

/// Writes a temporary file as a writer would leave it, modified `age_secs` ago.
fn fake_temp(dir: &std::path::Path, pid: u32, n: u32, bytes: usize, age_secs: u64) -> PathBuf {
    let path = dir.join(format!(
        "parla-x-0123456789abcdef0123456789abcdef.tmp-{pid}-ThreadId1-{n}"
    ));
    fs::write(&path, vec![7u8; bytes]).unwrap();
    let when = std::time::SystemTime::now() - std::time::Duration::from_secs(age_secs);
    fs::File::options()
        .append(true)
        .open(&path)
        .unwrap()
        .set_modified(when)
        .unwrap();
    path
}

/// A process id that no process has: above Linux's largest `pid_max` (2^22).
const DEAD_PID: u32 = 999_999_999;

#[test]
fn temporary_files_of_dead_writers_are_counted_and_removed() {
    let dir = scratch("stale");
    let mem = Memory::new(&dir).unwrap();
    let a = matrix(9, 16);
    mem.call("x", "1").arg(&a).run(|| Ok(a.clone())).unwrap();
    let entry = mem.size_bytes().unwrap();
    assert!(entry > 0);

    // A writer killed mid-write long ago; one killed just now (its process id may belong to
    // a writer on another machine sharing the directory); a live writer (this process).
    let dead_old = fake_temp(&dir, DEAD_PID, 1, 1000, 2 * parla::memory::STALE_TEMP_SECS);
    let dead_new = fake_temp(&dir, DEAD_PID, 2, 1000, 0);
    let alive = fake_temp(
        &dir,
        std::process::id(),
        3,
        1000,
        2 * parla::memory::STALE_TEMP_SECS,
    );
    assert_eq!(
        mem.size_bytes().unwrap(),
        entry + 3000,
        "temporary files take disk space and are counted"
    );

    // Opening the cache removes the stale one only.
    let reopened = Memory::new(&dir).unwrap();
    assert!(!dead_old.exists(), "stale temporary file removed on open");
    assert!(dead_new.exists() && alive.exists());
    assert_eq!(reopened.stats().stale_temps_removed, 1);
    assert_eq!(reopened.size_bytes().unwrap(), entry + 2000);

    // A temporary file abandoned for longer than the bound goes whoever wrote it.
    let abandoned = fake_temp(
        &dir,
        std::process::id(),
        4,
        1000,
        parla::memory::ABANDONED_TEMP_SECS + 5,
    );
    // Eviction (after a write under a size limit) removes stale files too, and counts the
    // live ones against the limit.
    let dead_old2 = fake_temp(&dir, DEAD_PID, 5, 1000, 2 * parla::memory::STALE_TEMP_SECS);
    let limited = Memory::new(&dir).unwrap().with_size_limit(u64::MAX);
    assert!(!abandoned.exists() && !dead_old2.exists());
    let dead_old3 = fake_temp(&dir, DEAD_PID, 6, 1000, 2 * parla::memory::STALE_TEMP_SECS);
    let b = matrix(10, 16);
    limited
        .call("x", "1")
        .arg(&b)
        .run(|| Ok(b.clone()))
        .unwrap();
    assert!(!dead_old3.exists(), "stale temporary file removed on evict");
    assert_eq!(limited.stats().stale_temps_removed, 3);
    assert!(
        dead_new.exists() && alive.exists(),
        "live writes are left alone"
    );

    // With a limit of one entry, the live temporary files count: older entries go.
    let tight = Memory::new(&dir).unwrap().with_size_limit(entry + 2000);
    let c = matrix(11, 16);
    tight.call("x", "1").arg(&c).run(|| Ok(c.clone())).unwrap();
    assert!(tight.size_bytes().unwrap() <= entry + 2000);
    assert!(tight.call("x", "1").arg(&c).path().exists());
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_entry_copied_onto_another_keys_name_is_not_served() {
    let dir = scratch("rekey");
    let mem = Memory::new(&dir).unwrap();
    let a = matrix(12, 8);
    let b = matrix(13, 8);
    let ia = mem.call("inv", "1").arg(&a).run(|| parla::inv(&a)).unwrap();
    let ib = mem.call("inv", "1").arg(&b).run(|| parla::inv(&b)).unwrap();
    assert_ne!(ia, ib);
    let pa = mem.call("inv", "1").arg(&a).path();
    let pb = mem.call("inv", "1").arg(&b).path();
    // B's entry replaced by a copy of A's (data and checksum, both intact).
    fs::copy(&pa, &pb).unwrap();
    fs::copy(pa.with_extension("sum"), pb.with_extension("sum")).unwrap();
    let calls = AtomicUsize::new(0);
    let got = mem
        .call("inv", "1")
        .arg(&b)
        .run(|| {
            calls.fetch_add(1, Ordering::SeqCst);
            parla::inv(&b)
        })
        .unwrap();
    assert_eq!(got, ib, "B's result, not A's");
    assert_eq!(calls.load(Ordering::SeqCst), 1, "recomputed");
    assert_eq!(mem.stats().corrupt, 1);
    // Renamed instead of copied: the same.
    fs::rename(&pa, &pb).unwrap();
    fs::rename(pa.with_extension("sum"), pb.with_extension("sum")).unwrap();
    let got = mem.call("inv", "1").arg(&b).run(|| parla::inv(&b)).unwrap();
    assert_eq!(got, ib);
    assert_eq!(mem.stats().corrupt, 2);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn results_made_of_arrays_and_scalars_are_cached_with_the_same_guarantees() {
    let dir = scratch("composite");
    let mem = Memory::new(&dir).unwrap();
    let a = matrix(14, 12);
    let sym = &a + &a.t();
    let tall = Array2::from_shape_fn((15, 4), |(i, j)| ((i * 7 + j * 3) % 11) as f64 - 5.0);
    let rhs = Array2::from_shape_fn((15, 2), |(i, j)| (i + j) as f64);

    // Each kind twice: the second call must be a hit with the same bits.
    fn twice<R: parla::memory::Cacheable + PartialEq + std::fmt::Debug>(
        mem: &Memory,
        name: &str,
        a: &Array2<f64>,
        f: impl Fn() -> parla::Result<R>,
    ) -> R {
        let hits = mem.stats().hits;
        let first = mem.call(name, "1").arg(a).run(&f).unwrap();
        let second = mem
            .call(name, "1")
            .arg(a)
            .run(|| -> parla::Result<R> { panic!("{name}: must be read back, not recomputed") })
            .unwrap();
        assert_eq!(first, second, "{name}");
        assert_eq!(first, f().unwrap(), "{name}: the computed value");
        assert_eq!(mem.stats().hits, hits + 1, "{name}");
        first
    }
    let (sign, logdet) = twice(&mem, "slogdet", &a, || parla::slogdet(&a));
    assert_eq!(sign, 1.0);
    assert!(logdet.is_finite());
    twice(&mem, "det", &a, || parla::det(&a));
    twice(&mem, "rank", &a, || Ok(a.nrows()));
    twice(&mem, "eigh", &sym, || parla::eigh(&sym));
    twice(&mem, "svd", &a, || parla::svd(&a, parla::SvdMode::Full));
    twice(&mem, "lu", &a, || parla::lu(&a));
    twice(&mem, "qr", &tall, || {
        parla::qr(&tall, parla::QrMode::Reduced)
    });
    twice(&mem, "eig", &a, || parla::eig(&a));
    twice(&mem, "lstsq", &tall, || parla::lstsq(&tall, &rhs, None));
    twice(&mem, "pair", &a, || Ok((parla::inv(&a)?, 3usize, true)));

    // A composite entry is the arrays' .npy files one after another (numpy reads them in turn).
    let path = mem.call("svd", "1").arg(&a).path();
    let bytes = fs::read(&path).unwrap();
    let magics = bytes.windows(6).filter(|w| w == b"\x93NUMPY").count();
    assert_eq!(magics, 3, "u, s, vt");
    assert!(bytes.starts_with(b"\x93NUMPY"));

    // A flipped bit in the middle array, a truncation, another key's file: never returned.
    let truth = parla::svd(&a, parla::SvdMode::Full).unwrap();
    let run = || {
        mem.call("svd", "1")
            .arg(&a)
            .run(|| parla::svd(&a, parla::SvdMode::Full))
            .unwrap()
    };
    let corrupt = mem.stats().corrupt;
    let mut flipped = bytes.clone();
    flipped[bytes.len() / 2] ^= 0x04;
    fs::write(&path, &flipped).unwrap();
    assert_eq!(run(), truth);
    fs::write(&path, &bytes[..bytes.len() - 8]).unwrap();
    assert_eq!(run(), truth);
    let other = mem.call("eigh", "1").arg(&sym).path();
    fs::copy(&other, &path).unwrap();
    fs::copy(other.with_extension("sum"), path.with_extension("sum")).unwrap();
    assert_eq!(run(), truth);
    assert_eq!(mem.stats().corrupt, corrupt + 3);
    assert_eq!(run(), truth, "repaired: a hit again");
    assert_eq!(mem.stats().corrupt, corrupt + 3);

    // The same key asked for as another type: not served, recomputed.
    let as_eigh = mem
        .call("svd", "1")
        .arg(&a)
        .run(|| parla::eigh(&sym))
        .unwrap();
    assert_eq!(as_eigh, parla::eigh(&sym).unwrap());
    assert_eq!(mem.stats().corrupt, corrupt + 4);

    // A plain array is still a plain .npy file.
    let l = mem
        .call("chol", "1")
        .arg(&sym)
        .run(|| Ok(sym.clone()))
        .unwrap();
    let back: Array2<f64> = ndarray_npy::read_npy(mem.call("chol", "1").arg(&sym).path()).unwrap();
    assert_eq!(back, l);
    fs::remove_dir_all(&dir).unwrap();
}
