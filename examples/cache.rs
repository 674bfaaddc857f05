//! The disk cache: a 1024² Cholesky computed once, then read back, timed side by side.
//!
//! Run: `cargo run --release --example cache`

use std::time::Instant;

use ndarray::Array2;
use parla::memory::Memory;
use parla::Error;

fn main() -> Result<(), Error> {
    let n = 1024;
    let a = Array2::from_shape_fn((n, n), |(i, j)| {
        ((i * 31 + j * 17) % 101) as f64 / 101.0 + if i == j { n as f64 } else { 0.0 }
    });
    let a = (&a + &a.t()) / 2.0;
    let dir = std::env::temp_dir().join("parla-example-cache");
    let mem = Memory::new(&dir)?;
    mem.clear()?;

    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let time = |f: &mut dyn FnMut() -> Result<(), Error>| -> Result<f64, Error> {
        let mut v = Vec::new();
        for _ in 0..9 {
            let t = Instant::now();
            f()?;
            v.push(t.elapsed().as_secs_f64());
        }
        Ok(median(v))
    };

    let compute = time(&mut || parla::cholesky(&a).map(drop))?;
    let t = Instant::now();
    mem.call("cholesky", "1")
        .arg(&a)
        .run(|| parla::cholesky(&a))?;
    let first = t.elapsed().as_secs_f64();
    let hit = time(&mut || {
        mem.call("cholesky", "1")
            .arg(&a)
            .run(|| parla::cholesky(&a))
            .map(drop)
    })?;
    let key_only = time(&mut || {
        std::hint::black_box(mem.call("cholesky", "1").arg(&a).key());
        Ok(())
    })?;
    let row = |label: &str, ms: f64, note: &str| {
        println!(
            "{label:<36} {ms:8.2} ms{}",
            if note.is_empty() {
                String::new()
            } else {
                format!("  {note}")
            }
        )
    };
    row(
        &format!("cholesky {n}x{n}, computed"),
        compute * 1e3,
        "(median of 9)",
    );
    row("first cached call (compute + write)", first * 1e3, "");
    row(
        "cache hit (hash + read + verify)",
        hit * 1e3,
        &format!("(median of 9; hashing the input: {:.2} ms)", key_only * 1e3),
    );
    println!("a hit is {:.1}x faster than recomputing", compute / hit);

    // Any result made of arrays and scalars: here a (sign, log|det|) pair.
    let (sign, logdet) = mem
        .call("slogdet", "1")
        .arg(&a)
        .run(|| parla::slogdet(&a))?;
    let again = mem
        .call("slogdet", "1")
        .arg(&a)
        .run(|| parla::slogdet(&a))?;
    assert_eq!((sign, logdet), again);
    println!("slogdet cached too: sign {sign}, log|det| {logdet:.6}");
    let s = mem.stats();
    println!(
        "cache: {} hits, {} misses, {} corrupt entries recomputed, {} write errors, {} bytes on disk",
        s.hits,
        s.misses,
        s.corrupt,
        s.write_errors,
        mem.size_bytes()?
    );
    mem.clear()?;
    let _ = std::fs::remove_dir(&dir);
    Ok(())
}
