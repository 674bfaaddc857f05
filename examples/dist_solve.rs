//! Solve a distributed linear system with ScaLAPACK and check it with parla's SUMMA.
//!
//! ```text
//! cargo build --release --features scalapack --example dist_solve
//! OPENBLAS_NUM_THREADS=1 RAYON_NUM_THREADS=1 \
//!     mpirun -n 2 target/release/examples/dist_solve 2000
//! ```
//! Every rank builds its own blocks of `A` (diagonally dominant) and `B` from a formula — no
//! rank ever holds the whole matrix — then `A X = B` is solved by `pdgesv`, and the residual
//! `‖A X − B‖` is computed with `dist::matmul` (SUMMA, `rayon` engine per rank).

use parla::dist::{self, scalapack, DistMatrix, Grid};
use parla::{Engine, Exec};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(1000);
    let (nrhs, nb) = (4, 64);
    let universe = dist::initialize()?;
    let grid = Grid::new(&universe.world())?;
    let entry = |i: usize, j: usize| ((i * 7 + j * 13) % 17) as f64 / 17.0 - 0.5;
    let a = DistMatrix::<f64>::from_fn(&grid, n, n, nb, |i, j| {
        entry(i, j) + if i == j { n as f64 } else { 0.0 }
    })?;
    let b = DistMatrix::<f64>::from_fn(&grid, n, nrhs, nb, |i, j| (i + j) as f64)?;

    let t = std::time::Instant::now();
    let x = scalapack::solve(&a, &b)?;
    let solve_s = grid.max_over_ranks(t.elapsed().as_secs_f64());

    // Residual with parla's SUMMA: R = A X - B.
    let exec = Exec::new(Engine::Rayon, 1)?;
    let mut r = b.clone();
    dist::gemm(&exec, 1.0, &a, &x, -1.0, &mut r)?;
    let local_max = r.local().iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let resid = grid.max_over_ranks(local_max);

    if grid.rank() == 0 {
        let (pr, pc) = grid.shape();
        println!("n = {n}, {nrhs} right-hand sides, nb = {nb}, grid {pr} x {pc}");
        println!("pdgesv: {solve_s:.4} s (slowest rank)");
        println!("max |A X - B| = {resid:.3e}");
    }
    // Every rank: the same error would have come back on every rank (say, a singular A).
    let singular = DistMatrix::<f64>::zeros(&grid, n, n, nb)?;
    match scalapack::solve(&singular, &b) {
        Err(parla::Error::Singular { pivot, .. }) if grid.rank() == 0 => {
            println!("a zero matrix: Singular at pivot {pivot}, on every rank")
        }
        Err(_) => {}
        Ok(_) => return Err("a zero matrix was solved".into()),
    }
    Ok(())
}
