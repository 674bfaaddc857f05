//! One spectral operation on one engine, repeated (for profilers):
//! `cargo run --release --example spectral_one -- <eigh|eigvalsh|svd|svdvals|eig|eigvals> <engine> <threads> <n> [reps]`.

use ndarray::Array2;
use parla::{Engine, Error, Exec};

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let op = args.first().map(String::as_str).unwrap_or("eigh");
    let engine = match args.get(1).map(String::as_str) {
        Some("blas") => Engine::Blas,
        Some("rayon-blas") => Engine::RayonBlas,
        _ => Engine::Rayon,
    };
    let threads = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    let n = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1024);
    let reps = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(3);
    let g = Array2::from_shape_fn((n, n), |(i, j)| {
        (((i * 37 + j * 11) % 101) as f64 - 50.0) / 50.0 + ((i * j) % 7) as f64 / 13.0
    });
    let sym = &g + &g.t();
    let e = Exec::new(engine, threads)?;
    for _ in 0..reps {
        let t = std::time::Instant::now();
        match op {
            "eigvalsh" => drop(e.eigvalsh(&sym)?),
            "svd" => drop(e.svd(&g, parla::SvdMode::Thin)?),
            "svdvals" => drop(e.svdvals(&g)?),
            "eig" => drop(e.eig(&g)?),
            "eigvals" => drop(e.eigvals(&g)?),
            _ => drop(e.eigh(&sym)?),
        }
        println!(
            "{op} {engine:?} {threads} n={n}: {:.4} s",
            t.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
