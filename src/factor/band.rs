//! Two-stage reduction of a symmetric matrix to tridiagonal form for eigenvalues only
//! (LAPACK `sytrd_sy2sb` + `sytrd_sb2st`, lower triangle): most flops become GEMMs instead of
//! the memory-bound matrix-vector products of the one-stage [`tridiag`](super::tridiag).
//!
//! ```text
//! stage 1, dense → band of half-bandwidth b (to_band):
//! for each block column j₀ = 0, b, 2b, … while the panel below the band has ≥ 2 rows:
//!     P = A[j₀+b.., j₀..j₀+b] = Q R               QR panel of the engine (factor::qr::panel),
//!                                                   compact WY: Q = I − V T Vᵀ
//!     A₂₂ = A[j₀+b.., j₀+b..] ← Qᵀ A₂₂ Q:          X = A₂₂ V T (symmetric product: GEMMs),
//!         W = X − ½ V (Tᵀ Vᵀ X)                     two small GEMMs,
//!         A₂₂ −= V Wᵀ + W Vᵀ                        one GEMMT [V W][W V]ᵀ (lower triangle)
//! stage 2, band → tridiagonal (band_to_tridiagonal), bulge chasing on a compact band:
//! for each sweep s = 0 … n−3:
//!     a reflector (length ≤ b) zeroes column s below its subdiagonal, applied on both sides
//!     to the diagonal block it touches and from the right to the block below it (the bulge);
//!     the next reflector zeroes the bulge's first column, and so on down the band
//!     (LAPACK `sb2st` kernels 1–3); the rest of each bulge is zeroed by the next sweep.
//! ```
//! Stage 2 costs about `6 n² b` flops on blocks of at most `2b × b` that stay in L1, on one
//! thread: sweep `s + 1` may start once sweep `s` is two blocks ahead, so the sweeps could be
//! pipelined over a team (as PLASMA and LAPACK's `sb2st` do with OpenMP tasks); not done. The
//! reflectors of stage 2 are discarded (values only): eigenvectors would need them kept and
//! applied, which is why `eigh` with vectors stays one-stage.

use ndarray::{s, Array2, ArrayView2, ArrayViewMut2};

use crate::alloc::{assign_2d, zeros_f, zeros_vec};
use crate::error::Result;
use crate::factor::qr::{apply, panel, BlockReflector};
use crate::factor::{gemmt_lower, split};
use crate::kernels::reflector::householder;
use crate::kernels::simd1::{axpy, dot, dot_axpy, Fma};
use crate::parallel::level3::Level3;
use crate::scalar::Scalar;

/// Half-bandwidth of stage 1 (the depth of its GEMMs and the length of stage 2's reflectors).
/// Stage 1 gets faster and stage 2 slower as `b` grows; timed per stage on engine `rayon`
/// (a throw-away timing harness, load ≈ 3 on 2 cores, s, stage 1 + stage 2): n = 2048, 1 thread,
/// b = 16 / 32 / 64: 0.81 + 0.17 / 0.73 + 0.21 / 0.58 + 0.33 (one-stage reduction 1.25–1.48);
/// 2 threads 1.42 + 0.12 / 0.94 + 0.25 / 0.70 + 0.38 (one-stage 1.19–1.62); n = 1024, 1 thread,
/// b = 32: 0.086 + 0.054 (one-stage 0.153). 32 is in the flat middle. Measured on AMD EPYC
/// Zen 3 family 25 model 1, 2 cores, OpenBLAS 0.3.21 Zen.
pub(crate) const BAND_B: usize = 32;

/// Smallest order from which `eigvalsh` on a rayon engine reduces in two stages; below it the
/// one-stage reduction stays. Measured with `cargo run --release --example spectral_engines --
/// <threads> 512 1024 2048 --only=eigvalsh` (time / `blas`, rayon-blas / rayon), the one-stage
/// build (main) and a build with two stages at every order run alternately, twice each, under a
/// load of 3.1–3.9 on the 2 cores (the numbers are noisy): 2 threads, one-stage against
/// two-stage: n = 512 0.91/0.81, 0.79/0.73 against 1.27/1.45, 1.27/1.25; n = 1024 0.69/0.69,
/// 1.29/1.44 against 0.93/0.93, 1.40/1.18; n = 2048 0.98/1.08, 1.13/1.16 against 0.91/1.17,
/// 0.79/0.86. 1 thread: n = 512 1.04/1.01, 1.12/1.03 against 1.42/1.48, 1.36/1.39; n = 1024
/// 0.97/0.92, 1.10/1.03 against 1.10/1.18, 1.11/1.33; n = 2048 1.01/0.74, 1.01/1.07 against
/// 0.80/0.90, 0.92/0.78. Two stages lose at 512 and 1024 and win at 2048 on one thread; orders
/// between were not measured. See [`BAND_MAX_THREADS`] for two threads. Measured on AMD EPYC
/// Zen 3 family 25 model 1, 2 cores, OpenBLAS 0.3.21 Zen.
pub(crate) const BAND_MIN_ORDER: usize = 2048;

/// Most threads on which `eigvalsh` reduces in two stages (from [`BAND_MIN_ORDER`]). Same
/// command at n = 2048 with less load (1.3–1.8), one-stage build against this one, run
/// alternately: 2 threads 1.11/1.02, 1.09/1.08, 1.00/0.97 against 1.19/1.27, 1.15/1.24,
/// 1.06/1.03 (two stages slower: stage 2 runs on one thread and stage 1's thin GEMMs gain
/// little from the second); 1 thread 1.09/0.99, 0.91/0.89, 0.97/0.91 against 0.74/0.85,
/// 0.75/0.77, 0.82/0.88. Pipelining stage 2's sweeps over the team is what would move this.
/// Measured on AMD EPYC Zen 3 family 25 model 1, 2 cores, OpenBLAS 0.3.21 Zen.
pub(crate) const BAND_MAX_THREADS: usize = 1;

/// Order up to which [`symm_lower`] mirrors a diagonal block into a full square and multiplies
/// it with one GEMM. Chosen, not tuned.
const SYMM_BASE: usize = 128;

/// Reduces the symmetric matrix whose lower triangle is in the column-major square `a` to a
/// band of half-bandwidth `b ≥ 1` in place (the band is `a`'s entries `(i, j)` with
/// `0 ≤ i − j ≤ b`; the other entries of the lower triangle are left as scratch), by
/// `A ← Qᵀ A Q` with `Q = Q₀ Q₁ …` and `Qₖ = I − V T Vᵀ` acting on rows `jₖ..` (`jₖ = (k+1)·b`).
/// With `keep`, returns the block reflectors `(jₖ, V, T)` (the tests form `Q` from them).
pub(crate) fn to_band<T: Scalar>(
    op: &'static str,
    l3: &Level3,
    a: &mut Array2<T>,
    b: usize,
    keep: bool,
) -> Result<Vec<BlockReflector<T>>> {
    let n = a.nrows();
    let b = b.max(1);
    let mut kept = Vec::new();
    let half = T::of(0.5);
    // The diagonal blocks' mirrored squares of `symm_lower`, allocated once.
    let mut square = zeros_f::<T>(op, n.min(SYMM_BASE), n.min(SYMM_BASE))?;
    let mut j0 = 0;
    while j0 + b + 2 <= n {
        let r = j0 + b;
        let m = n - r;
        let k = m.min(b);
        // The panel below the band: Q R with R on and above its diagonal (in the band).
        let (v, t) = {
            let mut p = a.slice_mut(s![r.., j0..j0 + b]);
            let mut tau = vec![T::zero(); k];
            let (v, t) = panel(op, l3, p.slice_mut(s![.., ..k]), &mut tau)?;
            if k < b {
                apply(
                    l3,
                    op,
                    v.view(),
                    t.view(),
                    true,
                    &mut p.slice_mut(s![.., k..]),
                )?;
            }
            (v, t)
        };
        // X = A₂₂ V T, W = X − ½ V (Tᵀ Vᵀ X), as [V W] and [W V] for one GEMMT.
        let mut vw = zeros_f::<T>(op, m, 2 * k)?;
        let mut wv = zeros_f::<T>(op, m, 2 * k)?;
        let mut av = zeros_f::<T>(op, m, k)?;
        symm_lower(
            l3,
            op,
            a.slice(s![r.., r..]),
            v.view(),
            &mut av.view_mut(),
            &mut square,
        )?;
        {
            let (mut vpart, mut wpart) = vw.multi_slice_mut((s![.., ..k], s![.., k..]));
            assign_2d(&mut vpart, v.view());
            l3.gemm(op, T::one(), av.view(), t.view(), T::zero(), &mut wpart)?;
            let mut z = zeros_f::<T>(op, k, k)?;
            l3.gemm(
                op,
                T::one(),
                v.t(),
                wpart.view(),
                T::zero(),
                &mut z.view_mut(),
            )?;
            let mut u = zeros_f::<T>(op, k, k)?;
            l3.gemm(op, T::one(), t.t(), z.view(), T::zero(), &mut u.view_mut())?;
            l3.gemm(op, -half, v.view(), u.view(), T::one(), &mut wpart)?;
        }
        {
            let (vpart, wpart) = vw.view().split_at(ndarray::Axis(1), k);
            let (mut wdst, mut vdst) = wv.multi_slice_mut((s![.., ..k], s![.., k..]));
            assign_2d(&mut wdst, wpart);
            assign_2d(&mut vdst, vpart);
        }
        gemmt_lower(l3, op, vw.view(), wv.view(), &mut a.slice_mut(s![r.., r..]))?;
        if keep {
            kept.push((r, v, t));
        }
        j0 = r;
    }
    Ok(kept)
}

/// `Y ← A X` for the symmetric `A` (`m × m`) whose lower triangle is in `a` (the rest is not
/// read): recursively `Y₁ = A₁₁ X₁ + A₂₁ᵀ X₂`, `Y₂ = A₂₁ X₁ + A₂₂ X₂`, the off-diagonal blocks
/// as GEMMs on the engine, diagonal blocks of order ≤ [`SYMM_BASE`] mirrored into the
/// leading block of `square` (at least that order; every entry of the block is written).
fn symm_lower<T: Scalar>(
    l3: &Level3,
    op: &'static str,
    a: ArrayView2<T>,
    x: ArrayView2<T>,
    y: &mut ArrayViewMut2<T>,
    square: &mut Array2<T>,
) -> Result<()> {
    let m = a.nrows();
    if m <= SYMM_BASE {
        let mut full = square.slice_mut(s![..m, ..m]);
        for j in 0..m {
            for i in j..m {
                full[[i, j]] = a[[i, j]];
                full[[j, i]] = a[[i, j]];
            }
        }
        return l3.gemm(op, T::one(), full.view(), x, T::zero(), y);
    }
    let m1 = split(m);
    let a21 = a.slice(s![m1.., ..m1]);
    let (x1, x2) = (x.slice(s![..m1, ..]), x.slice(s![m1.., ..]));
    let (mut y1, mut y2) = y.multi_slice_mut((s![..m1, ..], s![m1.., ..]));
    symm_lower(l3, op, a.slice(s![..m1, ..m1]), x1, &mut y1, square)?;
    l3.gemm(op, T::one(), a21.t(), x2, T::one(), &mut y1)?;
    symm_lower(l3, op, a.slice(s![m1.., m1..]), x2, &mut y2, square)?;
    l3.gemm(op, T::one(), a21, x1, T::one(), &mut y2)
}

/// A symmetric band matrix in compact lower storage with room for the bulges of stage 2:
/// entry `(i, j)`, `0 ≤ i − j < ld`, at `j·ld + i − j` (each column's entries contiguous).
pub(crate) struct Band<T> {
    n: usize,
    /// Half-bandwidth.
    b: usize,
    /// Entries per column: `2b` (a bulge reaches `2b − 1` below the diagonal).
    ld: usize,
    data: Vec<T>,
}

impl<T: Scalar> Band<T> {
    /// The band of half-bandwidth `b ≥ 1` of the lower triangle of `a` (square).
    ///
    /// # Errors
    /// [`Error::TooLarge`](crate::Error::TooLarge) when the storage cannot be allocated.
    pub(crate) fn from_lower(op: &'static str, a: ArrayView2<T>, b: usize) -> Result<Band<T>> {
        let n = a.nrows();
        let b = b.max(1);
        let ld = 2 * b;
        let mut data = zeros_vec::<T>(op, n.saturating_mul(ld))?;
        for j in 0..n {
            for d in 0..=b.min(n - 1 - j) {
                data[j * ld + d] = a[[j + d, j]];
            }
        }
        Ok(Band { n, b, ld, data })
    }

    /// Rows `r0..r1` of column `j` (`j ≤ r0`, `r1 − 1 − j < ld`), contiguous.
    fn col(&mut self, j: usize, r0: usize, r1: usize) -> &mut [T] {
        debug_assert!(j <= r0 && r1 <= self.n && r1 - j <= self.ld);
        let base = j * self.ld - j;
        &mut self.data[base + r0..base + r1]
    }
}

/// Reduces `band` to tridiagonal form by bulge chasing (orthogonal similarity, reflectors
/// discarded) and returns its diagonal (`n`) and subdiagonal (`n − 1`).
pub(crate) fn band_to_tridiagonal<T: Scalar>(mut band: Band<T>) -> (Vec<T>, Vec<T>) {
    let (n, b) = (band.n, band.b);
    let fma = Fma::detect();
    let mut v = vec![T::zero(); b];
    let mut w = vec![T::zero(); b];
    let mut y = vec![T::zero(); b];
    if b > 1 {
        for sweep in 0..n.saturating_sub(2) {
            // Column c is zeroed below row r; the reflector spans rows r..r+len.
            let (mut c, mut r) = (sweep, sweep + 1);
            while r + 1 < n {
                let len = b.min(n - r);
                let tau = {
                    let col = band.col(c, r, r + len);
                    let (head, rest) = col.split_first_mut().expect("len ≥ 2");
                    let (beta, tau) = householder(*head, rest);
                    *head = beta;
                    v[0] = T::one();
                    v[1..len].copy_from_slice(rest);
                    rest.fill(T::zero());
                    tau
                };
                if tau != T::zero() {
                    let v = &v[..len];
                    // From the left, the rest of the bulge: columns c+1..r, rows r..r+len.
                    for q in c + 1..r {
                        let x = band.col(q, r, r + len);
                        let s = tau * dot(fma, v, x);
                        axpy(fma, -s, v, x);
                    }
                    two_sided(&mut band, fma, r, len, tau, v, &mut w[..len]);
                    // From the right, the block below: rows r+len..r+len+b, columns r..r+len
                    // (E ← E − τ (E v) vᵀ).
                    let (e0, e1) = (r + len, (r + len + b).min(n));
                    if e0 < e1 {
                        let y = &mut y[..e1 - e0];
                        y.fill(T::zero());
                        for (q, &vq) in v.iter().enumerate() {
                            axpy(fma, vq, band.col(r + q, e0, e1), y);
                        }
                        for (q, &vq) in v.iter().enumerate() {
                            axpy(fma, -tau * vq, y, band.col(r + q, e0, e1));
                        }
                    }
                }
                c = r;
                r += len;
            }
        }
    }
    let d = (0..n).map(|j| band.data[j * band.ld]).collect();
    let e = (0..n.saturating_sub(1))
        .map(|j| band.data[j * band.ld + 1])
        .collect();
    (d, e)
}

/// `D ← H D H` for the diagonal block `D` = rows/columns `r..r+len` of `band` and
/// `H = I − τ v vᵀ`: `w = τ D v`, `w −= ½ τ (wᵀv) v`, `D −= v wᵀ + w vᵀ` (lower triangle).
fn two_sided<T: Scalar>(
    band: &mut Band<T>,
    fma: Fma,
    r: usize,
    len: usize,
    tau: T,
    v: &[T],
    w: &mut [T],
) {
    w.fill(T::zero());
    for q in 0..len {
        let col = band.col(r + q, r + q, r + len);
        let (diag, below) = col.split_first().expect("q < len");
        let s = dot_axpy(fma, below, &v[q + 1..], v[q], &mut w[q + 1..]);
        w[q] = w[q] + *diag * v[q] + s;
    }
    w.iter_mut().for_each(|x| *x = *x * tau);
    let alpha = -T::of(0.5) * tau * dot(fma, w, v);
    axpy(fma, alpha, v, w);
    for q in 0..len {
        let col = band.col(r + q, r + q, r + len);
        axpy(fma, -w[q], &v[q..], col);
        axpy(fma, -v[q], &w[q..], col);
    }
}

/// The diagonal and subdiagonal of a tridiagonal matrix similar to the symmetric matrix whose
/// lower triangle is in the column-major square `a` (overwritten): [`to_band`] with
/// half-bandwidth `b`, then [`band_to_tridiagonal`].
pub(crate) fn tridiagonal_values<T: Scalar>(
    op: &'static str,
    l3: &Level3,
    a: &mut Array2<T>,
    b: usize,
) -> Result<(Vec<T>, Vec<T>)> {
    to_band(op, l3, a, b, false)?;
    let band = Band::from_lower(op, a.view(), b)?;
    Ok(band_to_tridiagonal(band))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::factor::qr::apply_q;
    use crate::kernels::tridiag_eig::tridiagonal_ql_values;
    use crate::parallel::{Kernels, Native, Team};
    use ndarray::ShapeBuilder;

    /// Both rayon engines' operations (forced tiny QR blocks so stage 1's panels recurse) on a
    /// team of `threads`.
    fn engines(threads: usize) -> [Level3; 2] {
        let blocks = crate::parallel::level3::FactorBlocks {
            qr: 4,
            syrk: 8,
            ..Default::default()
        };
        [
            Level3 {
                team: Team::new(threads).unwrap(),
                kernels: Kernels::OpenBlas,
                blocks,
            },
            Level3 {
                team: Team::new(threads).unwrap(),
                kernels: Kernels::Native(Native {
                    isa: crate::kernels::Isa::detect(),
                    blocks: None,
                }),
                blocks,
            },
        ]
    }

    /// A seeded symmetric test matrix (column-major, both triangles) of one of the kinds.
    fn matrix(kind: &str, n: usize, seed: u64) -> Array2<f64> {
        let mut state = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let mut rnd = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        };
        let mut a = Array2::<f64>::zeros((n, n).f());
        let u: Vec<f64> = (0..n).map(|_| rnd()).collect();
        for j in 0..n {
            for i in j..n {
                let x = match kind {
                    "random" => rnd(),
                    // Entries from 1 down to 1e-12 along the diagonal.
                    "graded" => rnd() * 10f64.powf(-12.0 * (i + j) as f64 / (2 * n) as f64),
                    // Eigenvalues 1 + O(1e-10): a tight cluster.
                    "clustered" => f64::from(i == j) + 1e-10 * rnd(),
                    "rank1" => f64::from(i == j) + u[i] * u[j],
                    // Wilkinson's W⁺: |n/2 − i| on the diagonal, ones beside it.
                    "wilkinson" => {
                        if i == j {
                            (n as f64 / 2.0 - i as f64).abs().floor()
                        } else {
                            f64::from(i == j + 1)
                        }
                    }
                    "zero" => 0.0,
                    _ => unreachable!("{kind}"),
                };
                a[[i, j]] = x;
                a[[j, i]] = x;
            }
        }
        a
    }

    /// Eigenvalues (ascending) of the symmetric `a` by cyclic Jacobi rotations: slow, simple,
    /// accurate to a few ε‖A‖.
    fn jacobi_values(a: &Array2<f64>) -> Vec<f64> {
        let n = a.nrows();
        let mut a = a.clone();
        for _ in 0..100 {
            let off: f64 = (0..n)
                .flat_map(|i| (0..n).map(move |j| (i, j)))
                .filter(|(i, j)| i != j)
                .map(|(i, j)| a[[i, j]] * a[[i, j]])
                .sum();
            let total: f64 = a.iter().map(|x| x * x).sum();
            if off <= 1e-34 * total || off == 0.0 {
                break;
            }
            for p in 0..n {
                for q in p + 1..n {
                    if a[[p, q]] == 0.0 {
                        continue;
                    }
                    let theta = (a[[q, q]] - a[[p, p]]) / (2.0 * a[[p, q]]);
                    let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                    let t = if theta == 0.0 { 1.0 } else { t };
                    let c = 1.0 / (t * t + 1.0).sqrt();
                    let s = t * c;
                    for k in 0..n {
                        let (x, y) = (a[[k, p]], a[[k, q]]);
                        a[[k, p]] = c * x - s * y;
                        a[[k, q]] = s * x + c * y;
                    }
                    for k in 0..n {
                        let (x, y) = (a[[p, k]], a[[q, k]]);
                        a[[p, k]] = c * x - s * y;
                        a[[q, k]] = s * x + c * y;
                    }
                }
            }
        }
        let mut w: Vec<f64> = (0..n).map(|i| a[[i, i]]).collect();
        w.sort_by(f64::total_cmp);
        w
    }

    fn norm(a: &Array2<f64>) -> f64 {
        a.iter().map(|x| x * x).sum::<f64>().sqrt()
    }

    /// Sizes around the band edges for half-bandwidth `b`: n = 1, 2, 3, n < 2b, n not a
    /// multiple of b, several block columns.
    fn sizes(b: usize) -> Vec<usize> {
        vec![
            1,
            2,
            3,
            b,
            b + 1,
            b + 2,
            2 * b - 1,
            2 * b + 1,
            5 * b + 3,
            70,
        ]
    }

    /// Stage 1: `Q B Qᵀ = A` with `B` the band alone (so the entries outside it were zeroed),
    /// `Q` formed slowly from the kept block reflectors; ‖A − Q B Qᵀ‖ / (n ‖A‖ ε) small.
    #[test]
    fn band_stage_reproduces_a() {
        for threads in [1, 2, 3] {
            for l3 in engines(threads) {
                for b in [1, 3, 8] {
                    // For b = 8 also an order whose trailing matrices exceed SYMM_BASE
                    // (`symm_lower` splits and reuses its square at several orders).
                    let big = if b == 8 {
                        Some(2 * SYMM_BASE + 21)
                    } else {
                        None
                    };
                    for n in sizes(b).into_iter().chain(big) {
                        let a = matrix("random", n, (n * 31 + b) as u64);
                        let mut w = a.clone();
                        let blocks = to_band("test", &l3, &mut w, b, true).unwrap();
                        let mut bm = Array2::<f64>::zeros((n, n).f());
                        for j in 0..n {
                            for i in j..(j + b + 1).min(n) {
                                bm[[i, j]] = w[[i, j]];
                                bm[[j, i]] = w[[i, j]];
                            }
                        }
                        apply_q(&l3, "test", &blocks, &mut bm.view_mut(), false).unwrap();
                        let mut qbq = Array2::<f64>::zeros((n, n).f());
                        qbq.assign(&bm.t());
                        apply_q(&l3, "test", &blocks, &mut qbq.view_mut(), false).unwrap();
                        let ratio = norm(&(&qbq - &a)) / (n as f64 * norm(&a) * f64::EPSILON);
                        let ctx = format!("{:?} {threads}t b {b} n {n}", l3.kernels);
                        assert!(ratio < 10.0, "{ctx}: ratio {ratio}");
                    }
                }
            }
        }
    }

    /// Both stages: the tridiagonal's eigenvalues (by the QL of `eigvalsh`) are those of the
    /// dense matrix (cyclic Jacobi) to `n ε ‖A‖`, for every kind of matrix.
    #[test]
    fn two_stage_keeps_the_eigenvalues() {
        let kinds = [
            "random",
            "graded",
            "clustered",
            "rank1",
            "wilkinson",
            "zero",
        ];
        for threads in [1, 2, 3] {
            for l3 in engines(threads) {
                for b in [2, 3, 8] {
                    for n in sizes(b) {
                        for kind in kinds {
                            let a = matrix(kind, n, (n * 7 + b) as u64);
                            let want = jacobi_values(&a);
                            let mut w = a.clone();
                            let (mut d, e) = tridiagonal_values("test", &l3, &mut w, b).unwrap();
                            tridiagonal_ql_values(&mut d, &e, 30 * n.max(1)).unwrap();
                            d.sort_by(f64::total_cmp);
                            let scale = n as f64 * norm(&a).max(f64::MIN_POSITIVE) * f64::EPSILON;
                            let ctx = format!("{:?} {threads}t b {b} n {n} {kind}", l3.kernels);
                            for (i, (x, y)) in d.iter().zip(&want).enumerate() {
                                let r = (x - y).abs() / scale;
                                assert!(r < 10.0, "{ctx}: λ{i} {x} vs {y}: ratio {r}");
                            }
                            if kind == "zero" {
                                assert!(d.iter().all(|&x| x == 0.0), "{ctx}: {d:?}");
                            }
                        }
                    }
                }
            }
        }
    }

    /// Through `eigh` (values only, two stages forced at small n): matrices near overflow and
    /// underflow are scaled into the safe range and back; against the one-stage path and the
    /// Jacobi values of the unscaled matrix, scaled exactly.
    #[test]
    fn eigvalsh_two_stage_scales_extremes() {
        use crate::factor::eigh::{eigh_with, Want};
        for threads in [1, 2, 3] {
            for l3 in engines(threads) {
                for n in [1, 2, 3, 13, 40] {
                    let a = matrix("random", n, n as u64);
                    let want = jacobi_values(&a);
                    for p in [0, 1000, -1000, 1020, -1010] {
                        let f = 2f64.powi(p / 2) * 2f64.powi(p - p / 2);
                        let scaled = a.mapv(|x| x * f);
                        let got = eigh_with("test", &l3, scaled.view(), Want::ValuesThroughBand(3))
                            .unwrap();
                        let one = eigh_with("test", &l3, scaled.view(), Want::Values).unwrap();
                        let bound = n as f64 * norm(&a) * f64::EPSILON;
                        let ctx = format!("{:?} {threads}t n {n} 2^{p}", l3.kernels);
                        for (i, &w) in want.iter().enumerate() {
                            // Back to the unscaled matrix, exactly (powers of two).
                            let x = got.values[i] * 2f64.powi(-p / 2) * 2f64.powi(-(p - p / 2));
                            let y = one.values[i] * 2f64.powi(-p / 2) * 2f64.powi(-(p - p / 2));
                            assert!(x.is_finite(), "{ctx}: λ{i} = {x} (f = {f})");
                            assert!((x - w).abs() < 10.0 * bound, "{ctx}: λ{i} {x} vs {w}");
                            assert!(
                                (x - y).abs() < 10.0 * bound,
                                "{ctx}: λ{i} {x} vs one-stage {y}"
                            );
                        }
                    }
                }
            }
        }
    }
}
