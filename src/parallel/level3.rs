//! The level-3 building blocks the blocked factorizations (`factor/`) are written over, on a
//! rayon engine: GEMM (the engine's own parallel GEMM) and the small kernels at the bottom of
//! the recursions — triangular solves with their right-hand sides cut into one block per
//! thread, and the unblocked Cholesky of a diagonal block — each run by the engine's [`Kernels`]
//! (single-threaded OpenBLAS / LAPACK for `rayon-blas`, parla's for `rayon`).

use ndarray::{ArrayView2, ArrayViewMut2, Axis};
use rayon::prelude::*;

use crate::blas;
use crate::decomp::Trans;
use crate::error::Result;
use crate::kernels;
use crate::parallel::gemm::complex as complex_gemm;
use crate::parallel::gemm::{blas_panels, blis_loops, packed};
use crate::parallel::{Kernels, Team};
use crate::scalar::{typed, Field, Scalar};

/// Right-hand sides per block below which a triangular solve is not split across threads.
/// A block of 32 columns of a 64-row solve is ≈ 130 kflop, a few µs: less and the rayon
/// hand-off costs more than it saves.
pub(crate) const MIN_RHS_PER_THREAD: usize = 32;

/// GEMMs of fewer flops (`2·m·n·k`) run on one thread: at n = 128 two threads were slower than
/// one (0.048 vs 0.042 ms; waking a second worker costs ≈ 10 µs), at n = 256 faster (0.25 vs
/// 0.30 ms) (`cargo run --release --example gemm_engines -- f64 2 64 128 256`). `auto` uses
/// the same threshold for a single product.
pub(crate) const GEMM_PARALLEL_MIN_FLOPS: f64 = 2.0 * 192.0 * 192.0 * 192.0;

/// Multiply-adds below which a packed SYRK or trsm (`gemm::packed`) runs on one thread: 2·10⁶,
/// about 30 µs of one core. Lower than the GEMM threshold: the packed kernels pack once per call
/// and their tasks start without a second packing pass. Measured with the `chol_modes`
/// experiment (Zen 5 VM, 2 cores, loaded): 2·10⁶ vs 2·192³ — n = 1024 3.99 vs 4.14 ms, n = 2048
/// 53.6 vs 56.1 ms. `factor::gemmt_lower` uses it too on engine `rayon-blas` (its block columns
/// of one-thread GEMMs), not measured separately.
pub(crate) const PACKED_PARALLEL_MIN_FLOPS: f64 = 2.0e6;

/// A rayon engine's level-3 operations at a fixed thread count.
/// Where the recursions of `factor/` stop and the panel widths, in matrix orders / columns.
///
/// Any positive values are correct: tests force tiny ones so the recursive and blocked paths run
/// on small matrices; [`Exec::with_factor_blocks`](crate::Exec::with_factor_blocks) sets them
/// per call. The defaults were chosen with `cargo run --release --example factor_engines`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct FactorBlocks {
    /// Order at which the Cholesky recursion hands a diagonal block to the small kernel. 64:
    /// `rayon` Cholesky at n = 512 took 0.95–1.08 ms on one thread and 0.69–0.98 ms on two
    /// against 1.04–1.27 and 0.78–0.94 ms at 48 (Zen 5, `profile_one rayon cholesky <t> 512 300
    /// <cholesky>`, five alternating rounds; n = 1024 within noise), once the small kernel's
    /// column updates ran as whole vectors; `rayon-blas` on one thread 1.40–1.60 against
    /// 1.67–1.81 ms.
    pub cholesky: usize,
    /// Order at which Cholesky's rank-k update stops splitting its triangle.
    pub syrk: usize,
    /// Columns at which the LU recursion hands a panel to the panel kernel. 16: one-thread
    /// `rayon` LU at n = 512 took 1.96–2.11 ms against 2.08–2.41 ms at 32 (Zen 5, `profile_one
    /// rayon lu 1 512 200 <lu>`, six alternating rounds; 2 threads 1.79–1.98 against 1.89–2.08;
    /// n = 1024 and `rayon-blas` within noise): the unblocked panel kernel's rank-1 sweeps
    /// were a fifth of the time at 32 columns.
    pub lu: usize,
    /// Columns per Householder panel of the blocked QR.
    pub qr: usize,
    /// Order at which the triangular-solve recursion hands a block to the small kernel.
    pub trsm: usize,
}

impl Default for FactorBlocks {
    fn default() -> Self {
        FactorBlocks {
            cholesky: 64,
            syrk: 96,
            lu: 16,
            qr: 64,
            trsm: 48,
        }
    }
}

impl FactorBlocks {
    /// The fields as `(name, value)` pairs, for validation and reports.
    pub(crate) fn fields(&self) -> [(&'static str, usize); 5] {
        [
            ("cholesky", self.cholesky),
            ("syrk", self.syrk),
            ("lu", self.lu),
            ("qr", self.qr),
            ("trsm", self.trsm),
        ]
    }
}

/// The level-3 operations of one rayon-engine call: its team of workers and what computes
/// each block. Built once by the dispatch layer from the call's route.
#[derive(Clone)]
pub(crate) struct Level3 {
    /// The workers (the engine pool, looked up once).
    pub team: Team,
    /// What computes each block.
    pub kernels: Kernels,
    /// Recursion bases and panel widths of `factor/`.
    pub blocks: FactorBlocks,
}

impl Level3 {
    /// Runs a whole factorization inside the team's pool, so each parallel step forks and
    /// joins among workers instead of waking the pool from outside.
    pub(crate) fn run<R: Send>(&self, f: impl FnOnce() -> Result<R> + Send) -> Result<R> {
        self.team.install_near_caller(f)
    }

    /// [`Level3::run`], unless `serial`: work that takes no parallel step (a solve with too
    /// few right-hand sides to split, see `factor::triangular::solves_serially`) runs on the
    /// calling thread, without waking the pool — a broadcast to every worker, which made a
    /// one-column `LuFactor::solve` of order 384 take 0.077 ms on two threads against 0.048
    /// on one (Zen 3).
    pub(crate) fn run_unless<R: Send>(
        &self,
        serial: bool,
        f: impl FnOnce() -> Result<R> + Send,
    ) -> Result<R> {
        if serial {
            f()
        } else {
            self.run(f)
        }
    }

    /// The `rayon` engine's operations (this CPU's kernels, default blocks) on a team of
    /// `threads` workers: for unit tests of `factor/`.
    #[cfg(test)]
    pub(crate) fn for_tests(threads: usize) -> Level3 {
        Level3 {
            team: Team::new(threads).expect("a test pool"),
            kernels: Kernels::Native(crate::parallel::Native {
                isa: crate::kernels::Isa::detect(),
                blocks: None,
            }),
            blocks: FactorBlocks::default(),
        }
    }

    /// The same operations on the calling thread alone: for problems too small for a second
    /// worker to pay for its hand-offs.
    pub(crate) fn serial(&self) -> Level3 {
        Level3 {
            team: Team::one(),
            ..self.clone()
        }
    }

    /// `C ← α A B + β C` on the engine's parallel GEMM (one thread for small products).
    pub(crate) fn gemm<T: Field>(
        &self,
        op: &'static str,
        alpha: T,
        a: ArrayView2<T>,
        b: ArrayView2<T>,
        beta: T,
        c: &mut ArrayViewMut2<T>,
    ) -> Result<()> {
        gemm_any(self, op, alpha, a, b, false, beta, c.view_mut())
    }

    /// `C ← α A Bᴴ + β C` (`A Bᵀ` for real types).
    pub(crate) fn gemm_adjoint<T: Field>(
        &self,
        op: &'static str,
        alpha: T,
        a: ArrayView2<T>,
        b: ArrayView2<T>,
        beta: T,
        c: &mut ArrayViewMut2<T>,
    ) -> Result<()> {
        gemm_any(
            self,
            op,
            alpha,
            a,
            b.reversed_axes(),
            true,
            beta,
            c.view_mut(),
        )
    }

    /// The trivial cases of `C ← α A B + β C` with `k` inner columns (an empty `C`, `k = 0`
    /// or `α = 0`: done here, `None`), else whether the product runs on the calling thread
    /// alone: the recursions issue many GEMMs too small to split profitably (the threshold
    /// `auto` uses for a single product; a complex product counts four real ones).
    fn gemm_split<T: Field>(
        &self,
        alpha: T,
        k: usize,
        beta: T,
        c: &mut ArrayViewMut2<T>,
    ) -> Option<bool> {
        let (m, n) = c.dim();
        if m == 0 || n == 0 {
            return None;
        }
        if k == 0 || alpha == T::zero() {
            if beta == T::zero() {
                c.fill(T::zero());
            } else if beta != T::one() {
                c.map_inplace(|v| *v = *v * beta);
            }
            return None;
        }
        let per_madd = if T::IS_COMPLEX { 8.0 } else { 2.0 };
        Some(per_madd * m as f64 * n as f64 * (k as f64) < GEMM_PARALLEL_MIN_FLOPS)
    }

    /// Whether the packed micro-kernel SYRK / trsm run for `T` on this engine.
    pub(crate) fn packed_for<T: Field>(&self) -> bool {
        !T::IS_COMPLEX && self.has_packed()
    }

    #[allow(clippy::too_many_arguments)]
    fn real_gemm<T: Scalar>(
        &self,
        op: &'static str,
        alpha: T,
        a: ArrayView2<T>,
        b: ArrayView2<T>,
        beta: T,
        c: &mut ArrayViewMut2<T>,
    ) -> Result<()> {
        let Some(serial) = self.gemm_split(alpha, a.ncols(), beta, c) else {
            return Ok(());
        };
        let one = Team::one();
        let team = if serial { &one } else { &self.team };
        match self.kernels {
            Kernels::OpenBlas => blas_panels::gemm(op, team, alpha, a, b, beta, c),
            Kernels::Native(native) => {
                blis_loops::gemm(op, team, native.gemm_kernel::<T>(), alpha, a, b, beta, c)
            }
        }
    }

    /// The team for a packed SYRK / trsm of `flops` multiply-adds: the calling thread alone
    /// below [`PACKED_PARALLEL_MIN_FLOPS`].
    fn team_for(&self, flops: f64) -> Team {
        if flops < PACKED_PARALLEL_MIN_FLOPS {
            Team::one()
        } else {
            self.team.clone()
        }
    }

    /// Whether [`Level3::gemmt_lower_packed`] and [`Level3::trsm_lower_packed`] run (engine
    /// `rayon`).
    pub(crate) fn has_packed(&self) -> bool {
        matches!(self.kernels, Kernels::Native(_))
    }

    /// Lower triangle of `C ← C − A Bᵀ` (`A, B: n × k`, `C: n × n`) on the packed micro-kernel
    /// GEMMT; strictly-upper entries of C are neither read nor written. Engine `rayon` only
    /// ([`Level3::has_packed`]).
    fn real_gemmt_lower_packed<T: Scalar>(
        &self,
        op: &'static str,
        a: ArrayView2<T>,
        b: ArrayView2<T>,
        c: &mut ArrayViewMut2<T>,
    ) -> Result<()> {
        let (n, k) = a.dim();
        let team = self.team_for(n as f64 * n as f64 * k as f64);
        match self.kernels {
            Kernels::Native(native) => packed::gemmt(op, &team, native.gemm_kernel::<T>(), a, b, c),
            Kernels::OpenBlas => unreachable_packed(op),
        }
    }

    /// `B ← L⁻¹ B` for lower-triangular `L` on the packed micro-kernel solve. Engine `rayon`
    /// only ([`Level3::has_packed`]).
    fn real_trsm_lower_packed<T: Scalar>(
        &self,
        op: &'static str,
        unit: bool,
        l: ArrayView2<T>,
        b: &mut ArrayViewMut2<T>,
    ) -> Result<()> {
        let (n, r) = b.dim();
        let team = self.team_for(n as f64 * n as f64 * r as f64);
        match self.kernels {
            Kernels::Native(native) => {
                packed::trsm_lower(op, &team, native.gemm_kernel::<T>(), unit, l, b)
            }
            Kernels::OpenBlas => unreachable_packed(op),
        }
    }

    /// `B ← A⁻¹ B` for a small triangular `A` (`lower` / upper, `unit` diagonal or not), the
    /// columns of B cut into one block per thread.
    fn real_trsm_base<T: Scalar>(
        &self,
        op: &'static str,
        lower: bool,
        unit: bool,
        a: ArrayView2<T>,
        b: &mut ArrayViewMut2<T>,
    ) -> Result<()> {
        let r = b.ncols();
        if r == 0 || a.nrows() == 0 {
            return Ok(());
        }
        let kernel = self.kernels;
        let subnormal = !unit && blas::has_subnormal_diagonal(&a);
        let solve = move |mut blk: ArrayViewMut2<T>| -> Result<()> {
            match kernel {
                // OpenBLAS's trsm multiplies by 1/diagonal, which overflows for a subnormal
                // diagonal entry: parla's kernel divides instead.
                Kernels::OpenBlas if !subnormal => {
                    blas::level3::trsm_left(op, 1, lower, unit, a, &mut blk)
                }
                Kernels::OpenBlas => {
                    kernels::triangular::trsm_left(lower, unit, a, &mut blk);
                    Ok(())
                }
                Kernels::Native(_) => {
                    kernels::triangular::trsm_left(lower, unit, a, &mut blk);
                    Ok(())
                }
            }
        };
        self.split_rhs(b, solve)
    }

    /// Unblocked (or LAPACK) lower Cholesky of a small diagonal block, in place:
    /// `Ok(Some(j))` when the leading minor of order `j + 1` is not positive.
    fn real_potrf_base<T: Scalar>(
        &self,
        op: &'static str,
        a: &mut ArrayViewMut2<T>,
    ) -> Result<Option<usize>> {
        match self.kernels {
            Kernels::OpenBlas => blas::cholesky::potrf_lower(op, 1, a),
            Kernels::Native(_) => Ok(kernels::triangular::potrf_lower(a).err()),
        }
    }

    /// LU with partial pivoting of a narrow panel, in place (LAPACK `getrf2` at one thread for
    /// `rayon-blas`, parla's unblocked kernel for `rayon`): `swaps[j]` receives the panel row
    /// swapped with row `j`; returns the first zero pivot.
    fn real_getrf_base<T: Scalar>(
        &self,
        op: &'static str,
        a: &mut ArrayViewMut2<T>,
        swaps: &mut [usize],
    ) -> Result<Option<usize>> {
        match self.kernels {
            Kernels::OpenBlas => blas::lu::getrf2_panel(op, 1, a, swaps),
            Kernels::Native(_) => Ok(kernels::lu::getf2(a, swaps)),
        }
    }

    fn real_geqrf_base<T: Scalar>(
        &self,
        op: &'static str,
        a: &mut ArrayViewMut2<T>,
        tau: &mut [T],
    ) -> Result<()> {
        match self.kernels {
            Kernels::OpenBlas => blas::qr::geqrf_panel(op, 1, a, tau),
            Kernels::Native(_) => {
                kernels::qr::geqr2(a, tau);
                Ok(())
            }
        }
    }
}

impl Level3 {
    /// Lower triangle of `C ← C − A Bᵀ` (`A, B: n × k`, `C: n × n`) on the packed micro-kernel
    /// GEMMT; strictly-upper entries of C are neither read nor written. Engine `rayon`, real
    /// types only ([`Level3::packed_for`]).
    pub(crate) fn gemmt_lower_packed<T: Field>(
        &self,
        op: &'static str,
        a: ArrayView2<T>,
        b: ArrayView2<T>,
        c: &mut ArrayViewMut2<T>,
    ) -> Result<()> {
        gemmt_lower_packed_any(self, op, a, b, c.view_mut())
    }

    /// `B ← L⁻¹ B` for lower-triangular `L` on the packed micro-kernel solve. Engine `rayon`,
    /// real types only ([`Level3::packed_for`]).
    pub(crate) fn trsm_lower_packed<T: Field>(
        &self,
        op: &'static str,
        unit: bool,
        l: ArrayView2<T>,
        b: &mut ArrayViewMut2<T>,
    ) -> Result<()> {
        trsm_lower_packed_any(self, op, unit, l, b.view_mut())
    }

    /// `B ← A⁻¹ B` for a small triangular `A` (`lower` / upper, `unit` diagonal or not), the
    /// columns of B cut into one block per thread.
    pub(crate) fn trsm_base<T: Field>(
        &self,
        op: &'static str,
        lower: bool,
        unit: bool,
        a: ArrayView2<T>,
        b: &mut ArrayViewMut2<T>,
    ) -> Result<()> {
        trsm_base_any(self, op, lower, unit, a, b.view_mut())
    }

    /// Unblocked (or LAPACK) lower Cholesky (`L Lᴴ`) of a small diagonal block, in place:
    /// `Ok(Some(j))` when the leading minor of order `j + 1` is not positive.
    pub(crate) fn potrf_base<T: Field>(
        &self,
        op: &'static str,
        a: &mut ArrayViewMut2<T>,
    ) -> Result<Option<usize>> {
        potrf_base_any(self, op, a.view_mut())
    }

    /// LU with partial pivoting of a narrow panel, in place: `swaps[j]` receives the panel row
    /// swapped with row `j`; returns the first zero pivot.
    pub(crate) fn getrf_base<T: Field>(
        &self,
        op: &'static str,
        a: &mut ArrayViewMut2<T>,
        swaps: &mut [usize],
    ) -> Result<Option<usize>> {
        getrf_base_any(self, op, a.view_mut(), swaps)
    }

    /// Householder QR of a narrow panel, in place (LAPACK `geqrf` / `zgeqrf` at one thread for
    /// `rayon-blas`, parla's `geqr2` for `rayon`); the reflectors' scalars go to `tau`.
    pub(crate) fn geqrf_base<T: Field>(
        &self,
        op: &'static str,
        a: &mut ArrayViewMut2<T>,
        tau: &mut [T],
    ) -> Result<()> {
        geqrf_base_any(self, op, a.view_mut(), tau)
    }

    /// The columns of `b` cut into one block per thread (when there are enough of them), each
    /// solved by `solve`.
    fn split_rhs<T: Field>(
        &self,
        b: &mut ArrayViewMut2<T>,
        solve: impl Fn(ArrayViewMut2<T>) -> Result<()> + Sync + Send,
    ) -> Result<()> {
        self.split_columns(MIN_RHS_PER_THREAD, b, solve)
    }

    /// The columns of `b` cut into one block per thread, at least `min_per_thread` columns
    /// each (fewer: one block on the calling thread), each solved by `solve`.
    pub(crate) fn split_columns<T: Field>(
        &self,
        min_per_thread: usize,
        b: &mut ArrayViewMut2<T>,
        solve: impl Fn(ArrayViewMut2<T>) -> Result<()> + Sync + Send,
    ) -> Result<()> {
        let r = b.ncols();
        let parts = self.team.threads().min(r / min_per_thread.max(1)).max(1);
        if parts <= 1 {
            return solve(b.view_mut());
        }
        let width = r.div_ceil(parts);
        self.team.install(|| {
            b.axis_chunks_iter_mut(Axis(1), width)
                .into_par_iter()
                .try_for_each(solve)
        })
    }
}

// Each level-3 operation for any element type (see `Field::route`): real types run the
// `real_*` methods above (parla's packed kernels on `rayon`, 1-thread OpenBLAS / LAPACK on
// `rayon-blas`); complex types run the complex GEMM of `gemm/complex.rs` on the engine (one
// real GEMM on the interleaved parts) and the complex base blocks of `kernels/complex.rs` on
// both engines (no packed SYRK / trsm: `Level3::packed_for` is false), except the QR panel:
// LAPACK's `zgeqrf` / `cgeqrf` at one thread on `rayon-blas`, `kernels/complex.rs` `geqr2` on
// `rayon`.

typed! {
    /// `C ← α A g(B) + β C`, `g` the element-wise conjugation when `conj_b`.
    fn gemm_any<'l, T>(
        l3: &'l Level3,
        op: &'static str,
        alpha: T,
        a: ArrayView2<'l, T>,
        b: ArrayView2<'l, T>,
        conj_b: bool,
        beta: T,
        c: ArrayViewMut2<'l, T>,
    ) -> Result<()> {
        real => {
            let _ = conj_b;
            l3.real_gemm(op, alpha, a, b, beta, &mut { c })
        },
        complex => complex_ops::gemm(l3, op, alpha, a, b, conj_b, beta, &mut { c }),
    }
}

typed! {
    fn gemmt_lower_packed_any<'l, T>(l3: &'l Level3, op: &'static str, a: ArrayView2<'l, T>, b: ArrayView2<'l, T>, c: ArrayViewMut2<'l, T>) -> Result<()> {
        real => l3.real_gemmt_lower_packed(op, a, b, &mut { c }),
        complex => {
            let _ = (l3, a, b, c);
            unreachable_packed(op)
        },
    }
}

typed! {
    fn trsm_lower_packed_any<'l, T>(
        l3: &'l Level3,
        op: &'static str,
        unit: bool,
        l: ArrayView2<'l, T>,
        b: ArrayViewMut2<'l, T>,
    ) -> Result<()> {
        real => l3.real_trsm_lower_packed(op, unit, l, &mut { b }),
        complex => {
            let _ = (l3, unit, l, b);
            unreachable_packed(op)
        },
    }
}

typed! {
    fn trsm_base_any<'l, T>(
        l3: &'l Level3,
        op: &'static str,
        lower: bool,
        unit: bool,
        a: ArrayView2<'l, T>,
        b: ArrayViewMut2<'l, T>,
    ) -> Result<()> {
        real => l3.real_trsm_base(op, lower, unit, a, &mut { b }),
        complex => {
            let _ = op;
            complex_ops::trsm_base(l3, lower, unit, a, &mut { b })
        },
    }
}

typed! {
    fn potrf_base_any<'l, T>(l3: &'l Level3, op: &'static str, a: ArrayViewMut2<'l, T>) -> Result<Option<usize>> {
        real => l3.real_potrf_base(op, &mut { a }),
        complex => {
            let _ = (l3, op);
            Ok(kernels::complex::potrf_lower(&mut { a }).err())
        },
    }
}

typed! {
    fn getrf_base_any<'l, T>(
        l3: &'l Level3,
        op: &'static str,
        a: ArrayViewMut2<'l, T>,
        swaps: &'l mut [usize],
    ) -> Result<Option<usize>> {
        real => l3.real_getrf_base(op, &mut { a }, swaps),
        complex => {
            let _ = (l3, op);
            Ok(kernels::complex::getf2(&mut { a }, swaps))
        },
    }
}

typed! {
    fn geqrf_base_any<'l, T>(
        l3: &'l Level3,
        op: &'static str,
        a: ArrayViewMut2<'l, T>,
        tau: &'l mut [T],
    ) -> Result<()> {
        real => l3.real_geqrf_base(op, &mut { a }, tau),
        complex => match l3.kernels {
            Kernels::OpenBlas => blas::complex::geqrf_panel(op, 1, &mut { a }, tau),
            Kernels::Native(_) => {
                kernels::complex::geqr2(&mut { a }, tau);
                Ok(())
            }
        },
    }
}

/// The complex level-3 operations, written once over [`ComplexScalar`].
mod complex_ops {
    use super::*;
    use crate::scalar::ComplexScalar;

    #[allow(clippy::too_many_arguments)]
    pub(super) fn gemm<C: ComplexScalar>(
        l3: &Level3,
        op: &'static str,
        alpha: C,
        a: ArrayView2<C>,
        b: ArrayView2<C>,
        conj_b: bool,
        beta: C,
        c: &mut ArrayViewMut2<C>,
    ) -> Result<()> {
        let Some(serial) = l3.gemm_split(alpha, a.ncols(), beta, c) else {
            return Ok(());
        };
        let one = Team::one();
        let team = if serial { &one } else { &l3.team };
        // A conjugated B is the conjugate transpose of its transpose.
        let (b, tb) = if conj_b {
            (b.reversed_axes(), Trans::Conj)
        } else {
            (b, Trans::No)
        };
        complex_gemm::on_engine(op, team, l3.kernels, alpha, a, Trans::No, b, tb, beta, c)
    }

    /// Substitution on both engines (`kernels/complex.rs`), right-hand sides split over the
    /// team.
    pub(super) fn trsm_base<C: ComplexScalar>(
        l3: &Level3,
        lower: bool,
        unit: bool,
        a: ArrayView2<C>,
        b: &mut ArrayViewMut2<C>,
    ) -> Result<()> {
        if b.ncols() == 0 || a.nrows() == 0 {
            return Ok(());
        }
        l3.split_rhs(b, |mut blk| {
            kernels::complex::trsm_left(lower, unit, a, &mut blk);
            Ok(())
        })
    }
}

/// The packed SYRK / trsm asked of an engine without parla's micro-kernels: an internal error,
/// not a panic.
fn unreachable_packed(op: &'static str) -> Result<()> {
    Err(crate::error::Error::InvalidArgument {
        op,
        name: "engine",
        reason: "the packed level-3 kernels run on engine rayon only".into(),
    })
}
