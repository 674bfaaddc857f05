//! Memory-bound operations on the three engines, timed *interleaved* (blas, rayon-blas, rayon,
//! blas, …) so noise from a shared machine hits all alike, in GB/s of array traffic, next to
//! the machine's measured in-place ("update") bandwidth: `parla peak`'s cached value and a
//! fresh measurement taken right after each operation's runs, plus a plain read-only stream
//! (std threads, no parla code) as the ceiling of the read-only reductions.
//!
//! - `row_sums`, `col_sums`, `row_norms`, `col_norms` of an 8192 × 4096 f64 row-major matrix
//!   (256 MiB read once: bytes = 8·m·n);
//! - `gemv` with the 4096 × 4096 matrix (bytes = 8·n², the matrix read once);
//! - `axpy` with vectors of 4096² elements (bytes = 3·8·n: x read, y read and written);
//! - `transpose` of the 8192 × 4096 matrix (bytes = 2·8·m·n) and `multiply` of two
//!   4096 × 4096 matrices (bytes = 3·8·n², the result freshly allocated) for reference.
//!
//! Run: `cargo run --release --example reduce -- [threads] [repeats]` (default: 2 threads, 15
//! repeats; about 40 s on 2 cores). Prints the median of the repeats.

use std::time::Instant;

use ndarray::{Array1, Array2};
use parla::{Engine, Error, Exec, Trans};

/// A plain read-only stream for comparison (no parla code): `threads` scoped threads each sum
/// their contiguous part of a 512 MiB buffer with 32 accumulators; best of `repeats`, GB/s.
fn read_bandwidth(buf: &[f64], threads: usize, repeats: usize) -> f64 {
    let mut best = 0.0f64;
    for _ in 0..repeats {
        let start = Instant::now();
        let total: f64 = std::thread::scope(|s| {
            let parts: Vec<_> = buf
                .chunks(buf.len().div_ceil(threads))
                .map(|c| {
                    s.spawn(move || {
                        let mut acc = [0.0f64; 32];
                        for ch in c.chunks_exact(32) {
                            for i in 0..32 {
                                acc[i] += ch[i];
                            }
                        }
                        acc.iter().sum::<f64>()
                    })
                })
                .collect();
            parts.into_iter().map(|h| h.join().unwrap_or(0.0)).sum()
        });
        std::hint::black_box(total);
        best = best.max(8.0 * buf.len() as f64 / start.elapsed().as_secs_f64() / 1e9);
    }
    best
}

/// One timed operation: its name, the bytes it moves, and a closure running it on an engine.
type Op<'a> = (
    &'static str,
    f64,
    Box<dyn Fn(&Exec) -> Result<(), Error> + 'a>,
);

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let threads: usize = args.first().and_then(|s| s.parse().ok()).unwrap_or(2);
    let repeats: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(15);
    let (m, n) = (8192usize, 4096usize);
    let a = Array2::from_shape_fn((m, n), |(i, j)| {
        (((i * 31 + j * 17) % 97) as f64 - 48.0) / 48.0
    });
    let sq = Array2::from_shape_fn((n, n), |(i, j)| {
        (((i * 13 + j * 7) % 89) as f64 - 44.0) / 44.0
    });
    let x = Array1::from_shape_fn(n, |i| (i % 7) as f64 - 3.0);
    let big = n * n;
    let vx = Array1::from_shape_fn(big, |i| (i % 11) as f64 * 0.1);
    let vy = std::cell::RefCell::new(Array1::from_shape_fn(big, |i| (i % 5) as f64));
    let gy = std::cell::RefCell::new(Array1::<f64>::zeros(n));
    let mn = (8 * m * n) as f64;
    let stream: Vec<f64> = (0..64usize << 20).map(|i| (i % 3) as f64).collect();
    let ops: Vec<Op> = vec![
        (
            "row_sums 8192x4096",
            mn,
            Box::new(|e| e.row_sums(&a).map(drop)),
        ),
        (
            "col_sums 8192x4096",
            mn,
            Box::new(|e| e.col_sums(&a).map(drop)),
        ),
        (
            "row_norms 8192x4096",
            mn,
            Box::new(|e| e.row_norms(&a).map(drop)),
        ),
        (
            "col_norms 8192x4096",
            mn,
            Box::new(|e| e.col_norms(&a).map(drop)),
        ),
        (
            "gemv n=4096",
            (8 * n * n) as f64,
            Box::new(|e| e.gemv(1.0, &sq, Trans::No, &x, 0.0, &mut *gy.borrow_mut())),
        ),
        (
            "axpy n=4096^2",
            (24 * big) as f64,
            Box::new(|e| e.axpy(1e-9, &vx, &mut *vy.borrow_mut())),
        ),
        (
            "transpose 8192x4096",
            2.0 * mn,
            Box::new(|e| e.transpose(&a).map(drop)),
        ),
        (
            "multiply 4096x4096",
            (24 * n * n) as f64,
            Box::new(|e| e.multiply(&sq, &sq).map(drop)),
        ),
    ];
    let engines = [Engine::Blas, Engine::RayonBlas, Engine::Rayon]
        .map(|e| Exec::new(e, threads))
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
    let (peaks, _) = parla_cli::peak::cached_or_measure(false, Default::default())?;
    let update = peaks.get("update", "float64", threads).unwrap_or(f64::NAN);
    println!("in-place (update) bandwidth, {threads} threads: {update:.1} GB/s (parla peak cache)");
    for (name, bytes, run) in &ops {
        for e in &engines {
            run(e)?; // warm-up (first touch, pools)
        }
        let mut times = vec![Vec::new(); engines.len()];
        for _ in 0..repeats {
            for (e, t) in engines.iter().zip(times.iter_mut()) {
                let start = Instant::now();
                run(e)?;
                t.push(start.elapsed().as_secs_f64());
            }
        }
        // The same in-place kernel as `parla peak`, measured now: on a shared machine the
        // ratio to it is the fair one.
        let now = parla_cli::peak::bandwidth_gbs("update", threads, 64 << 20, 3)?;
        let read = read_bandwidth(&stream, threads, 3);
        println!("{name:22} now: in-place {now:.1} GB/s, plain read stream {read:.1} GB/s");
        for (e, t) in engines.iter().zip(times.iter_mut()) {
            t.sort_by(f64::total_cmp);
            let med = t[t.len() / 2];
            let gbs = bytes / med / 1e9;
            println!(
                "{name:22} {:>10} threads={threads}: {:8.3} ms {:6.1} GB/s  {:5.1} % of cached in-place, {:5.1} % of in-place now, {:5.1} % of read now",
                e.engine().to_string(),
                med * 1e3,
                gbs,
                100.0 * gbs / update,
                100.0 * gbs / now,
                100.0 * gbs / read
            );
        }
    }
    Ok(())
}
