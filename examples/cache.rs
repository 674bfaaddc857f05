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
    println!(
        "cholesky {n}x{n} computed:        {:7.2} ms (median of 9)",
        compute * 1e3
    );
    println!("first cached call (compute+write): {:7.2} ms", first * 1e3);
    println!("cache hit (hash+read+verify):      {:7.2} ms (median of 9), of which hashing the input {:.2} ms", hit * 1e3, key_only * 1e3);
    println!(
        "hit is {:.1}x faster than recomputing; stats {:?}",
        compute / hit,
        mem.stats()
    );
    mem.clear()?;
    let _ = std::fs::remove_dir(&dir);
    Ok(())
}
