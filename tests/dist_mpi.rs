//! MPI tests of `parla::dist` (feature `dist`; `scalapack` adds the ScaLAPACK checks).
//!
//! Run as `cargo test --release --features dist --test dist_mpi`: without an MPI launcher
//! around it, this binary is the *driver*: it launches itself under
//! `timeout 60 mpirun -n {1,2,4}` (oversubscribed, shared memory) and once with
//! `OMPI_MCA_btl=self,tcp` (TCP over loopback), and checks every job exits 0. Under `mpirun`
//! (`OMPI_COMM_WORLD_SIZE` set) it is a *worker*: every rank runs the checks below on every
//! grid shape its rank count allows and reports; rank 0 prints the summary.

use std::process::Command;
use std::time::Instant;

use ndarray::Array2;
use parla::dist::mpi::collective::SystemOperation;
use parla::dist::mpi::traits::*;
use parla::dist::{self, DistMatrix, DistScalar, Grid};
use parla::{Engine, Error, Exec};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

type Check = Result<(), String>;

fn main() {
    if std::env::var_os("OMPI_COMM_WORLD_SIZE").is_some() {
        worker();
    } else {
        driver();
    }
}

// ---------------------------------------------------------------------------------------
// Driver

fn driver() {
    let exe = std::env::current_exe().expect("test binary path");
    let runs: &[(usize, Option<&str>)] = &[(1, None), (2, None), (4, None), (2, Some("self,tcp"))];
    let (mut passed, mut failed) = (0, 0);
    for &(n, btl) in runs {
        let start = Instant::now();
        let mut cmd = Command::new("timeout");
        cmd.args(["-k", "5", "90", "mpirun", "-n", &n.to_string()])
            .arg(&exe)
            .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
            .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
            .env("OMPI_MCA_rmaps_base_oversubscribe", "1")
            .env("OMPI_MCA_mpi_yield_when_idle", "1")
            .env("OMPI_MCA_hwloc_base_binding_policy", "none")
            .env("OPENBLAS_NUM_THREADS", "1")
            .env("RAYON_NUM_THREADS", "1")
            .env_remove("PARLA_NUM_THREADS");
        if let Some(btl) = btl {
            cmd.env("OMPI_MCA_btl", btl);
        }
        let label = format!(
            "mpirun -n {n}{}",
            btl.map(|b| format!(" (btl {b})")).unwrap_or_default()
        );
        match cmd.output() {
            Ok(out) => {
                let stdout = String::from_utf8_lossy(&out.stdout);
                let stderr = String::from_utf8_lossy(&out.stderr);
                let ok = out.status.success() && stdout.contains("ALL RANKS OK");
                print!("{stdout}");
                if ok {
                    passed += 1;
                    println!(
                        "test {label} ... ok ({:.1} s)",
                        start.elapsed().as_secs_f64()
                    );
                } else {
                    failed += 1;
                    eprint!("{stderr}");
                    println!(
                        "test {label} ... FAILED (status {:?}, {:.1} s)",
                        out.status.code(),
                        start.elapsed().as_secs_f64()
                    );
                }
            }
            Err(e) => {
                failed += 1;
                println!("test {label} ... FAILED to start: {e}");
            }
        }
    }
    // A rank that dies while the others wait in a collective: MPI aborts the whole job (no
    // hang) and mpirun exits non-zero well before the timeout.
    let start = Instant::now();
    let out = Command::new("timeout")
        .args(["-k", "5", "60", "mpirun", "-n", "2"])
        .arg(&exe)
        .env("PARLA_DIST_TEST_DIE", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        .env("OMPI_MCA_rmaps_base_oversubscribe", "1")
        .env("OMPI_MCA_mpi_yield_when_idle", "1")
        .env("OMPI_MCA_hwloc_base_binding_policy", "none")
        .output();
    let secs = start.elapsed().as_secs_f64();
    match out.map(|o| o.status.code()) {
        // 124 / 137 from `timeout` would mean a hang.
        Ok(Some(code)) if code != 0 && code != 124 && code != 137 && secs < 30.0 => {
            passed += 1;
            println!("test a dying rank aborts the job ... ok (exit {code}, {secs:.1} s)");
        }
        other => {
            failed += 1;
            println!("test a dying rank aborts the job ... FAILED ({other:?}, {secs:.1} s)");
        }
    }
    println!("\n{passed} passed, {failed} failed");
    if failed > 0 {
        std::process::exit(1);
    }
}

// ---------------------------------------------------------------------------------------
// Worker

struct Ctx<'w> {
    world: &'w parla::dist::mpi::topology::SimpleCommunicator,
    rank: usize,
    passed: usize,
    failed: usize,
}

impl Ctx<'_> {
    fn run(&mut self, name: &str, f: impl FnOnce() -> Check) {
        let t = Instant::now();
        let r = f();
        // A check passes only if it passed on every rank.
        let mut bad = 0u32;
        self.world
            .all_reduce_into(&u32::from(r.is_err()), &mut bad, SystemOperation::sum());
        if let Err(e) = &r {
            eprintln!("rank {}: {name}: {e}", self.rank);
        }
        if bad == 0 {
            self.passed += 1;
            if self.rank == 0 {
                println!("  ok   {name} ({:.0} ms)", t.elapsed().as_secs_f64() * 1e3);
            }
        } else {
            self.failed += 1;
            if self.rank == 0 {
                println!("  FAIL {name} (on {bad} ranks)");
            }
        }
    }
}

fn worker() {
    let universe = dist::initialize().expect("MPI initializes");
    let world = universe.world();
    if std::env::var_os("PARLA_DIST_TEST_DIE").is_some() {
        let grid = Grid::new(&world).expect("grid");
        if grid.rank() == 1 {
            // Dies without a word while rank 0 waits for it in a collective.
            std::process::abort();
        }
        let _ = DistMatrix::<f64>::zeros(&grid, 10, 10, 4);
        unreachable!("rank 0 cannot finish a collective without rank 1");
    }
    let size = world.size() as usize;
    let rank = world.rank() as usize;
    let mut ctx = Ctx {
        world: &world,
        rank,
        passed: 0,
        failed: 0,
    };
    if rank == 0 {
        println!(
            "{size} ranks, {}",
            dist::library_version().lines().next().unwrap_or("")
        );
    }
    let shapes: Vec<(usize, usize)> = (1..=size)
        .filter(|pr| size.is_multiple_of(*pr))
        .map(|pr| (pr, size / pr))
        .collect();
    let default = Grid::new(&world).expect("default grid");
    ctx.run("default grid is near-square", || {
        expect_eq(default.shape(), dist::near_square(size), "shape")
    });
    for &(pr, pc) in &shapes {
        let grid = Grid::with_shape(&world, pr, pc).expect("grid");
        let tag = format!("{pr}x{pc}");
        ctx.run(
            &format!("{tag} scatter/gather round trip bit-exact f64"),
            || round_trip::<f64>(&grid),
        );
        ctx.run(
            &format!("{tag} scatter/gather round trip bit-exact f32"),
            || round_trip::<f32>(&grid),
        );
        ctx.run(&format!("{tag} from_fn = scatter, local views"), || {
            from_fn_views(&grid)
        });
        for engine in Engine::ALL {
            ctx.run(
                &format!("{tag} SUMMA f64 on {engine} vs one process"),
                || summa_check::<f64>(&grid, engine, (300, 300, 300), 32),
            );
        }
        ctx.run(&format!("{tag} SUMMA f64 rectangular, nb 7"), || {
            summa_check::<f64>(&grid, Engine::Rayon, (301, 77, 250), 7)
        });
        ctx.run(&format!("{tag} SUMMA f32 on rayon-blas"), || {
            summa_check::<f32>(&grid, Engine::RayonBlas, (300, 300, 300), 32)
        });
        ctx.run(&format!("{tag} SUMMA alpha/beta, k = 0"), || {
            alpha_beta(&grid)
        });
        ctx.run(
            &format!("{tag} errors: same typed error on every rank"),
            || errors(&grid, &world),
        );
        #[cfg(feature = "scalapack")]
        scalapack_checks::all(&mut ctx, &grid, &tag);
    }
    ctx.run("grid shape that does not fit the ranks", || {
        let e = Grid::with_shape(&world, size + 1, 1).err();
        same_error(&world, &e)?;
        match e {
            Some(Error::InvalidArgument { name: "shape", .. }) => Ok(()),
            other => Err(format!("expected InvalidArgument(shape), got {other:?}")),
        }
    });
    ctx.run("ranks disagreeing on the grid shape", || {
        let e = Grid::with_shape(&world, if rank == 0 { 1 } else { size }, 1).err();
        same_error(&world, &e)?;
        if size == 1 {
            return Ok(());
        }
        match e {
            Some(Error::InvalidArgument { name: "pr", .. }) => Ok(()),
            other => Err(format!("expected InvalidArgument(pr), got {other:?}")),
        }
    });
    let (passed, failed) = (ctx.passed, ctx.failed);
    if rank == 0 {
        println!("{size} ranks: {passed} passed, {failed} failed");
        if failed == 0 {
            println!("ALL RANKS OK");
        }
    }
    let _ = ctx;
    drop(universe);
    if failed > 0 {
        std::process::exit(1);
    }
}

// ---------------------------------------------------------------------------------------
// Checks

fn expect_eq<X: PartialEq + std::fmt::Debug>(got: X, want: X, what: &str) -> Check {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what}: got {got:?}, want {want:?}"))
    }
}

fn random<T: DistScalar>(m: usize, n: usize, seed: u64) -> Array2<T> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Array2::from_shape_fn((m, n), |_| T::of(rng.gen_range(-1.0..1.0)))
}

/// Every rank learns whether all ranks hold the same error (by its text).
fn same_error(world: &impl Communicator, e: &Option<Error>) -> Check {
    let text = format!("{e:?}");
    let h = xxhash_rust::xxh3::xxh3_64(text.as_bytes());
    let (mut lo, mut hi) = (0u64, 0u64);
    world.all_reduce_into(&h, &mut lo, SystemOperation::min());
    world.all_reduce_into(&h, &mut hi, SystemOperation::max());
    if lo == hi {
        Ok(())
    } else {
        Err(format!("ranks hold different errors; this rank: {text}"))
    }
}

fn round_trip<T: DistScalar>(grid: &Grid) -> Check {
    for &(m, n, nb) in &[
        (300, 300, 32),
        (301, 77, 7),
        (5, 3, 32),
        (0, 4, 2),
        (64, 64, 64),
    ] {
        for root in [0, grid.size() - 1] {
            let a = random::<T>(m, n, 7 + m as u64);
            let d = DistMatrix::scatter(grid, root, (grid.rank() == root).then_some(&a), nb)
                .map_err(|e| e.to_string())?;
            let back = d.gather(root).map_err(|e| e.to_string())?;
            match back {
                Some(b) if grid.rank() == root => {
                    let same = a.shape() == b.shape()
                        && a.iter().zip(&b).all(|(x, y)| {
                            x.to_f64().unwrap().to_bits() == y.to_f64().unwrap().to_bits()
                        });
                    if !same {
                        return Err(format!("{m}x{n} nb {nb} root {root}: round trip differs"));
                    }
                }
                None if grid.rank() != root => {}
                _ => return Err(format!("gather returned on the wrong rank (root {root})")),
            }
        }
    }
    Ok(())
}

fn from_fn_views(grid: &Grid) -> Check {
    let (m, n, nb) = (300, 170, 32);
    let f = |i: usize, j: usize| (i * 1000 + j) as f64;
    let d = DistMatrix::<f64>::from_fn(grid, m, n, nb, f).map_err(|e| e.to_string())?;
    let full = Array2::from_shape_fn((m, n), |(i, j)| f(i, j));
    let s = DistMatrix::scatter(grid, 0, Some(&full), nb).map_err(|e| e.to_string())?;
    expect_eq(d.local(), s.local(), "from_fn local blocks vs scatter")?;
    let mut seen = 0;
    for ((i0, j0), v) in d.local_blocks() {
        for ((bi, bj), &x) in v.indexed_iter() {
            expect_eq(x, f(i0 + bi, j0 + bj), "local block element")?;
            seen += 1;
        }
    }
    expect_eq(seen, d.local().len(), "elements in local blocks")?;
    for (li, lj) in [
        (0, 0),
        (
            d.local().nrows().saturating_sub(1),
            d.local().ncols().saturating_sub(1),
        ),
    ] {
        if li < d.local().nrows() && lj < d.local().ncols() {
            let (gi, gj) = (d.global_row(li), d.global_col(lj));
            expect_eq(
                d.owner(gi, gj),
                (grid.rank(), li, lj),
                "owner of a local element",
            )?;
        }
    }
    let total = grid.sum_over_ranks(d.local().len() as u64);
    expect_eq(total, (m * n) as u64, "elements over all ranks")
}

fn summa_check<T: DistScalar>(
    grid: &Grid,
    engine: Engine,
    (m, k, n): (usize, usize, usize),
    nb: usize,
) -> Check {
    let a = random::<T>(m, k, 11);
    let b = random::<T>(k, n, 12);
    let da = DistMatrix::from_fn(grid, m, k, nb, |i, j| a[[i, j]]).map_err(|e| e.to_string())?;
    let db = DistMatrix::from_fn(grid, k, n, nb, |i, j| b[[i, j]]).map_err(|e| e.to_string())?;
    let exec = Exec::new(engine, 1).map_err(|e| e.to_string())?;
    grid.reset_counters();
    let dc = dist::matmul(&exec, &da, &db).map_err(|e| e.to_string())?;
    let want_bytes = dist::summa_bytes(
        (m, k, n),
        nb,
        grid.shape(),
        grid.coords(),
        std::mem::size_of::<T>(),
    );
    expect_eq(
        grid.bytes_sent(),
        want_bytes,
        "bytes sent vs the SUMMA model",
    )?;
    // Against one process: |C - C_ref| <= 4 k eps (|A| |B|) elementwise.
    let one = Exec::blas(1).map_err(|e| e.to_string())?;
    let want = one.matmul(&a, &b).map_err(|e| e.to_string())?;
    let absab = one
        .matmul(&a.mapv(|x| x.abs()), &b.mapv(|x| x.abs()))
        .map_err(|e| e.to_string())?;
    let c = dc.local();
    for ((li, lj), &x) in c.indexed_iter() {
        let (i, j) = (dc.global_row(li), dc.global_col(lj));
        let bound = 4.0 * k as f64 * T::EPS.as_f64() * absab[[i, j]].as_f64() + f64::MIN_POSITIVE;
        let err = (x.as_f64() - want[[i, j]].as_f64()).abs();
        if err > bound || !err.is_finite() {
            return Err(format!(
                "C[{i},{j}] = {x} vs {}: error {err:e} > bound {bound:e}",
                want[[i, j]]
            ));
        }
    }
    Ok(())
}

fn alpha_beta(grid: &Grid) -> Check {
    let (m, k, n, nb) = (70, 45, 33, 8);
    let (a, b, c0) = (
        random::<f64>(m, k, 1),
        random::<f64>(k, n, 2),
        random::<f64>(m, n, 3),
    );
    let d = |x: &Array2<f64>| DistMatrix::from_fn(grid, x.nrows(), x.ncols(), nb, |i, j| x[[i, j]]);
    let (da, db) = (
        d(&a).map_err(|e| e.to_string())?,
        d(&b).map_err(|e| e.to_string())?,
    );
    let mut dc = d(&c0).map_err(|e| e.to_string())?;
    let exec = Exec::new(Engine::Auto, 1).map_err(|e| e.to_string())?;
    dist::gemm(&exec, 0.5, &da, &db, 2.0, &mut dc).map_err(|e| e.to_string())?;
    let want = a.dot(&b) * 0.5 + &c0 * 2.0;
    let got = dc.gather(0).map_err(|e| e.to_string())?;
    if let Some(got) = got {
        let err = (&got - &want).iter().fold(0.0f64, |mx, x| mx.max(x.abs()));
        if err > 8.0 * k as f64 * f64::EPSILON * 4.0 {
            return Err(format!("alpha/beta: max error {err:e}"));
        }
    }
    // k = 0: C = beta C, and beta = 0 overwrites NaN.
    let ea = DistMatrix::<f64>::zeros(grid, m, 0, nb).map_err(|e| e.to_string())?;
    let eb = DistMatrix::<f64>::zeros(grid, 0, n, nb).map_err(|e| e.to_string())?;
    let mut nan =
        DistMatrix::from_fn(grid, m, n, nb, |_, _| f64::NAN).map_err(|e| e.to_string())?;
    grid.reset_counters();
    dist::gemm(&exec, 1.0, &ea, &eb, 0.0, &mut nan).map_err(|e| e.to_string())?;
    expect_eq(grid.bytes_sent(), 0, "bytes sent for k = 0")?;
    if nan.local().iter().any(|x| *x != 0.0) {
        return Err("k = 0, beta = 0 did not give zeros".into());
    }
    Ok(())
}

fn errors(grid: &Grid, world: &impl Communicator) -> Check {
    let exec = Exec::new(Engine::Rayon, 1).map_err(|e| e.to_string())?;
    let a = DistMatrix::<f64>::zeros(grid, 30, 20, 8).map_err(|e| e.to_string())?;
    let b = DistMatrix::<f64>::zeros(grid, 30, 30, 8).map_err(|e| e.to_string())?;
    // Shape mismatch: the same typed error everywhere, no transfer.
    grid.reset_counters();
    let e = dist::matmul(&exec, &a, &b).err();
    same_error(world, &e)?;
    expect_eq(grid.bytes_sent(), 0, "bytes sent before a shape error")?;
    match &e {
        Some(Error::ShapeMismatch {
            op: "dist::matmul",
            left,
            right,
        }) if left == &[30, 20] && right == &[30, 30] => {}
        other => return Err(format!("expected ShapeMismatch, got {other:?}")),
    }
    // Ranks that disagree on a shape: InvalidArgument on every rank, not a hang.
    let m = if grid.rank() == 0 { 10 } else { 11 };
    let e = DistMatrix::<f64>::zeros(grid, m, 5, 4).err();
    same_error(world, &e)?;
    if grid.size() > 1 {
        match &e {
            Some(Error::InvalidArgument {
                op: "dist::zeros",
                name: "rows",
                ..
            }) => {}
            other => return Err(format!("expected InvalidArgument(rows), got {other:?}")),
        }
    }
    // A root rank that passes no matrix.
    let e = DistMatrix::<f64>::scatter::<ndarray::OwnedRepr<f64>>(grid, 0, None, 4).err();
    same_error(world, &e)?;
    match &e {
        Some(Error::InvalidArgument {
            op: "dist::scatter",
            name: "a",
            ..
        }) => {}
        other => return Err(format!("expected InvalidArgument(a), got {other:?}")),
    }
    // A root outside the grid, nb = 0, different block sizes.
    let e = a.gather(grid.size()).err();
    same_error(world, &e)?;
    if !matches!(e, Some(Error::InvalidArgument { name: "root", .. })) {
        return Err(format!("expected InvalidArgument(root), got {e:?}"));
    }
    let e = DistMatrix::<f64>::zeros(grid, 3, 3, 0).err();
    same_error(world, &e)?;
    if !matches!(e, Some(Error::InvalidArgument { name: "nb", .. })) {
        return Err(format!("expected InvalidArgument(nb), got {e:?}"));
    }
    let c = DistMatrix::<f64>::zeros(grid, 20, 30, 4).map_err(|e| e.to_string())?;
    let e = dist::matmul(&exec, &a, &c).err();
    same_error(world, &e)?;
    if !matches!(e, Some(Error::InvalidArgument { name: "nb", .. })) {
        return Err(format!("expected InvalidArgument(nb), got {e:?}"));
    }
    // Past ScaLAPACK's / MPI's 32-bit integers: rejected before anything is allocated.
    let e = DistMatrix::<f64>::zeros(grid, 3_000_000_000, 1, 64).err();
    same_error(world, &e)?;
    if !matches!(e, Some(Error::TooLarge { what: "rows", .. })) {
        return Err(format!("expected TooLarge(rows), got {e:?}"));
    }
    let big = 50_000 * grid.shape().0.max(grid.shape().1);
    let e = DistMatrix::<f64>::zeros(grid, big, big, 64).err();
    same_error(world, &e)?;
    if !matches!(
        e,
        Some(Error::TooLarge {
            what: "local elements per rank",
            ..
        })
    ) {
        return Err(format!("expected TooLarge(local elements), got {e:?}"));
    }
    // After all that, a valid call still works.
    let ok = DistMatrix::<f64>::from_fn(grid, 20, 20, 8, |i, j| (i == j) as u8 as f64)
        .map_err(|e| e.to_string())?;
    let p = dist::matmul(&exec, &ok, &ok).map_err(|e| e.to_string())?;
    expect_eq(p.local(), ok.local(), "identity squared")
}

#[cfg(feature = "scalapack")]
mod scalapack_checks {
    use super::*;
    use parla::dist::scalapack as sl;
    use parla::QrMode;

    pub fn all(ctx: &mut Ctx, grid: &Grid, tag: &str) {
        let world = ctx.world;
        ctx.run(&format!("{tag} scalapack gemm vs one process"), || {
            pdgemm(grid)
        });
        ctx.run(
            &format!("{tag} scalapack solve f64 vs parla::solve"),
            || solve::<f64>(grid),
        );
        ctx.run(
            &format!("{tag} scalapack solve f32 vs parla::solve"),
            || solve::<f32>(grid),
        );
        ctx.run(
            &format!("{tag} scalapack singular: same error everywhere"),
            || singular(grid, world),
        );
        ctx.run(
            &format!("{tag} scalapack cholesky vs parla::cholesky"),
            || cholesky(grid, world),
        );
        ctx.run(&format!("{tag} scalapack qr vs parla::qr"), || qr(grid));
        ctx.run(&format!("{tag} scalapack eigh vs parla::eigh"), || {
            eigh(grid)
        });
        ctx.run(&format!("{tag} scalapack lstsq vs parla::lstsq"), || {
            lstsq(grid)
        });
        ctx.run(&format!("{tag} scalapack svd vs parla::svd"), || svd(grid));
    }

    const N: usize = 300;
    const NB: usize = 32;

    fn e(x: Error) -> String {
        x.to_string()
    }

    fn dist<T: DistScalar>(grid: &Grid, a: &Array2<T>) -> Result<DistMatrix<T>, String> {
        DistMatrix::from_fn(grid, a.nrows(), a.ncols(), NB, |i, j| a[[i, j]]).map_err(e)
    }

    /// max |x_dist - want| over this rank's elements, against `bound`.
    fn close<T: DistScalar>(what: &str, x: &DistMatrix<T>, want: &Array2<T>, bound: f64) -> Check {
        expect_eq(x.shape(), want.dim(), what)?;
        let mut worst = 0.0f64;
        for ((li, lj), &v) in x.local().indexed_iter() {
            let d = (v.as_f64() - want[[x.global_row(li), x.global_col(lj)]].as_f64()).abs();
            if !d.is_finite() {
                return Err(format!("{what}: non-finite element"));
            }
            worst = worst.max(d);
        }
        if worst > bound {
            return Err(format!("{what}: max error {worst:e} > bound {bound:e}"));
        }
        Ok(())
    }

    fn amax<T: DistScalar>(a: &Array2<T>) -> f64 {
        a.iter().fold(0.0, |m, x| m.max(x.as_f64().abs()))
    }

    /// Well conditioned: random entries in (-1, 1) plus n on the diagonal.
    fn dominant<T: DistScalar>(n: usize, seed: u64) -> Array2<T> {
        let mut a = random::<T>(n, n, seed);
        for i in 0..n {
            a[[i, i]] = a[[i, i]] + T::of(n as f64);
        }
        a
    }

    fn pdgemm(grid: &Grid) -> Check {
        let (a, b) = (random::<f64>(N, 170, 21), random::<f64>(170, N, 22));
        let (da, db) = (dist(grid, &a)?, dist(grid, &b)?);
        let mut dc = DistMatrix::zeros(grid, N, N, NB).map_err(e)?;
        sl::gemm(1.0, &da, &db, 0.0, &mut dc).map_err(e)?;
        let want = Exec::blas(1).map_err(e)?.matmul(&a, &b).map_err(e)?;
        close("p?gemm", &dc, &want, 4.0 * 170.0 * f64::EPSILON * 170.0)
    }

    fn solve<T: DistScalar>(grid: &Grid) -> Check {
        let a = dominant::<T>(N, 31);
        let b = random::<T>(N, 5, 32);
        let (da, db) = (dist(grid, &a)?, dist(grid, &b)?);
        let x = sl::solve(&da, &db).map_err(e)?;
        let want = Exec::blas(1).map_err(e)?.solve(&a, &b).map_err(e)?;
        // Row sums of the off-diagonal part are ~n/2 against a diagonal of n: κ∞(A) ≲ 3, so
        // both solutions are within a small multiple of n·ε·max|x| of the exact one.
        let bound = 30.0 * N as f64 * T::EPS.as_f64() * amax(&want);
        close("p?gesv", &x, &want, bound)?;
        // The inputs are untouched (ScaLAPACK worked on copies).
        expect_eq(da.local(), dist(grid, &a)?.local(), "A unchanged")?;
        expect_eq(db.local(), dist(grid, &b)?.local(), "B unchanged")
    }

    fn singular(grid: &Grid, world: &impl Communicator) -> Check {
        let mut a = dominant::<f64>(N, 41);
        a.column_mut(100).fill(0.0);
        let b = random::<f64>(N, 2, 42);
        let got = sl::solve(&dist(grid, &a)?, &dist(grid, &b)?).err();
        same_error(world, &got)?;
        let want = parla::solve(&a, &b).err();
        match (&got, &want) {
            (
                Some(Error::Singular {
                    op: "dist::scalapack::solve",
                    pivot,
                }),
                Some(Error::Singular { pivot: p1, .. }),
            ) if pivot == p1 && *pivot == 100 => {}
            _ => {
                return Err(format!(
                    "expected Singular at 100, got {got:?} (parla: {want:?})"
                ))
            }
        }
        // Shape mismatch: B with the wrong number of rows.
        let bad = random::<f64>(N + 1, 2, 43);
        let got = sl::solve(&dist(grid, &a)?, &dist(grid, &bad)?).err();
        same_error(world, &got)?;
        if !matches!(got, Some(Error::ShapeMismatch { .. })) {
            return Err(format!("expected ShapeMismatch, got {got:?}"));
        }
        Ok(())
    }

    fn cholesky(grid: &Grid, world: &impl Communicator) -> Check {
        let r = random::<f64>(N, N, 51);
        let mut a = r.t().dot(&r) / N as f64;
        for i in 0..N {
            a[[i, i]] += 1.0;
        }
        let l = sl::cholesky(&dist(grid, &a)?).map_err(e)?;
        let want = parla::cholesky(&a).map_err(e)?;
        close(
            "p?potrf",
            &l,
            &want,
            10.0 * N as f64 * f64::EPSILON * amax(&want),
        )?;
        // Not positive definite at index 7.
        let mut bad = Array2::<f64>::eye(N);
        bad[[7, 7]] = -1.0;
        let got = sl::cholesky(&dist(grid, &bad)?).err();
        same_error(world, &got)?;
        match got {
            Some(Error::NotPositiveDefinite { index: 7, .. }) => Ok(()),
            other => Err(format!("expected NotPositiveDefinite(7), got {other:?}")),
        }
    }

    fn qr(grid: &Grid) -> Check {
        let a = random::<f64>(N, 170, 61);
        let (q, r) = sl::qr(&dist(grid, &a)?).map_err(e)?;
        let want = parla::qr(&a, QrMode::Reduced).map_err(e)?;
        // Householder QR with the same conventions: the factors agree up to rounding.
        let bound = 20.0 * N as f64 * f64::EPSILON * amax(&a).max(1.0);
        close("p?geqrf R", &r, &want.r, bound)?;
        close("p?orgqr Q", &q, &want.q, bound)?;
        // Q R = A.
        let qr = dist::matmul(&Exec::new(Engine::Rayon, 1).map_err(e)?, &q, &r).map_err(e)?;
        close("Q R vs A", &qr, &a, bound)
    }

    fn eigh(grid: &Grid) -> Check {
        let r = random::<f64>(N, N, 71);
        let a = (&r + &r.t()) / 2.0;
        let (w, v) = sl::eigh(&dist(grid, &a)?).map_err(e)?;
        let want = parla::eigh(&a).map_err(e)?;
        let norm = a.iter().map(|x| x * x).sum::<f64>().sqrt();
        let bound = 10.0 * N as f64 * f64::EPSILON * norm;
        for (i, (x, y)) in w.iter().zip(want.values.iter()).enumerate() {
            if (x - y).abs() > bound {
                return Err(format!("eigenvalue {i}: {x} vs {y}"));
            }
        }
        // A V = V diag(w).
        let exec = Exec::new(Engine::Rayon, 1).map_err(e)?;
        let av = dist::matmul(&exec, &dist(grid, &a)?, &v).map_err(e)?;
        let mut vw = v.clone();
        for (lj, mut col) in vw.local_mut().columns_mut().into_iter().enumerate() {
            let wj = w[v.global_col(lj)];
            col.mapv_inplace(|x| x * wj);
        }
        let vw_full = vw.gather(0).map_err(e)?;
        let av_full = av.gather(0).map_err(e)?;
        if let (Some(x), Some(y)) = (av_full, vw_full) {
            let worst = (&x - &y).iter().fold(0.0f64, |m, d| m.max(d.abs()));
            if worst > bound {
                return Err(format!("‖AV − VΛ‖max = {worst:e} > {bound:e}"));
            }
        }
        Ok(())
    }

    fn svd(grid: &Grid) -> Check {
        let a = random::<f64>(N, 170, 91);
        let (u, s, vt) = sl::svd(&dist(grid, &a)?).map_err(e)?;
        let want = parla::svd(&a, parla::SvdMode::Thin).map_err(e)?;
        let bound = 10.0 * N as f64 * f64::EPSILON * want.s[0];
        expect_eq(s.len(), want.s.len(), "number of singular values")?;
        for (i, (x, y)) in s.iter().zip(want.s.iter()).enumerate() {
            if (x - y).abs() > bound {
                return Err(format!("singular value {i}: {x} vs {y}"));
            }
        }
        // U diag(s) Vᵀ = A.
        let mut us = u.clone();
        for (lj, mut col) in us.local_mut().columns_mut().into_iter().enumerate() {
            let sj = s[u.global_col(lj)];
            col.mapv_inplace(|x| x * sj);
        }
        let exec = Exec::new(Engine::Rayon, 1).map_err(e)?;
        let usv = dist::matmul(&exec, &us, &vt).map_err(e)?;
        close("U diag(s) Vt vs A", &usv, &a, bound)
    }

    fn lstsq(grid: &Grid) -> Check {
        let a = random::<f64>(N, 170, 81);
        let b = random::<f64>(N, 3, 82);
        let x = sl::lstsq(&dist(grid, &a)?, &dist(grid, &b)?).map_err(e)?;
        let want = parla::lstsq(&a, &b, None).map_err(e)?.solution;
        let bound = 100.0 * N as f64 * f64::EPSILON * amax(&want).max(1.0);
        close("p?gels", &x, &want, bound)
    }
}
