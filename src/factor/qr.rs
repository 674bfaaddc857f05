//! QR by blocked Householder reflections in compact WY form, on the engine's GEMM; real and
//! complex (`ᴴ` below is the transpose for real types).
//!
//! ```text
//! for each panel of nb = `FactorBlocks::qr` columns at (j, j) (wide, so that the update GEMMs
//! have depth nb and the trailing matrix is swept and packed n/nb times only):
//!     factor the panel recursively (`panel`): halves down to QR_BASE columns, which the
//!         engine's unblocked kernel factors; each left half's block reflector is applied to
//!         its right half with GEMMs, and the halves' T factors join with two small GEMMs
//!         → H₁…H_b = I − V T Vᴴ, V unit lower trapezoidal, T upper triangular (b × b)
//!     trailing A₂ ← (I − V Tᴴ Vᴴ) A₂:  W = Vᴴ A₂;  W ← Tᴴ W;  A₂ ← A₂ − V W   (three GEMMs)
//! Q = H₁…H_k · I  accumulated backwards, one block reflector at a time (same three GEMMs)
//! ```
//! Reflectors follow LAPACK (`larfg` / `zlarfg`): `H = I − τ v vᴴ` with a real `β` on R's
//! diagonal and, for complex types, a complex `τ` (so `Hᴴ`, applied to reach R, has scalar
//! `conj(τ)`). The unblocked kernel is LAPACK `geqrf` (`zgeqrf` / `cgeqrf`) at one thread for
//! `rayon-blas` and parla's `geqr2` (`kernels/qr.rs`, complex: `kernels/complex.rs`) for
//! `rayon`; the GEMMs carry almost all the flops and run in parallel. Complex types copy `Vᴴ`
//! and `Tᴴ` (conjugated, `b × m` and `b × b`) per block application; real types read
//! transposed views.
//!
//! Panel width, measured with `cargo run --release -p parla-peers --example profile_one --
//! <engine> qr 1 <n> 3 <nb>` (Zen 3, min of 5 alternating rounds, ms): n = 1024, 1 thread:
//! rayon 88.5 / 79.1 / 66.3 / 74.6 at nb = 32 / 64 / 128 / 256, rayon-blas 82.3 / 63.8 / 64.5
//! / 72.4; 2 threads: rayon 50.8 / 46.9 / 56.1 / 55.8, rayon-blas 48.6 / 51.4 / 46.9 / 51.6;
//! n = 512, 1 thread: rayon 14.1 / 14.3 / 15.2 / 19.2. The default is 64.
//!
//! On two or more workers and from `min(m, n)` = [`LOOK_AHEAD_MIN_ORDER`] the loop looks one
//! panel ahead ([`blocked`]): one worker updates and factors the next panel while the team
//! updates the rest (the first panel, which nothing overlaps, is a quarter panel). A/B on the
//! Zen 3 (2 threads, `profile_one <engine> qr 2 <n> 3`, 6 alternating runs each, min / median
//! ms, with / without): rayon n = 1024 47.4 / 52.3 against 54.4 / 58.1, n = 512 10.1 / 10.2
//! against 10.7 / 13.2; rayon-blas n = 1024 51.6 / 63.4 against 60.9 / 65.5.

use std::cell::RefCell;

use ndarray::{s, Array2, ArrayView2, ArrayViewMut2, CowArray, Ix2, ShapeBuilder};

use crate::alloc::{assign_2d, elements, zeros_f};
use crate::decomp::{upper_rows, Qr, QrMode};
use crate::error::Result;
use crate::kernels::pack::AlignedBuf;
use crate::parallel::copy;
use crate::parallel::gemm::blis_loops::{out_of_memory, with_buffer};
use crate::parallel::level3::Level3;
use crate::scalar::Field;

/// One block reflector of a blocked QR: its first column `j`, `V` and `T` with
/// `H_j…H_{j+b−1} = I − V T Vᴴ`.
pub(crate) type BlockReflector<T> = (usize, Array2<T>, Array2<T>);

/// The blocked Householder factorization of `A: m × n` (`m, n ≥ 1`): R on and above the
/// diagonal of the returned matrix, and the block reflectors whose product is `Q`.
pub(crate) fn packed<T: Field>(
    op: &'static str,
    l3: &Level3,
    a: ArrayView2<T>,
) -> Result<(Array2<T>, Vec<BlockReflector<T>>)> {
    let (m, n) = a.dim();
    let k = m.min(n);
    let mut f = zeros_f(op, m, n)?;
    copy::assign(&l3.team, &mut f.view_mut(), a);
    let mut tau = vec![T::zero(); k];
    let nb = l3.blocks.qr.max(1);
    let blocks = if l3.team.threads() > 1 && k >= LOOK_AHEAD_MIN_ORDER && k > nb {
        l3.run(|| blocked(op, l3, &mut f, &mut tau, nb, true))?
    } else {
        blocked(op, l3, &mut f, &mut tau, nb, false)?
    };
    Ok((f, blocks))
}

/// Smallest `min(m, n)` from which [`packed`] runs with a look-ahead on a team of two or more
/// workers. Chosen at four default panels; below, the trailing updates are too small to hide a
/// panel behind.
const LOOK_AHEAD_MIN_ORDER: usize = 256;

/// With a look-ahead, the first panel is this fraction of a panel (16 of the default 64
/// columns): nothing overlaps its factoring, and the first step's far update, thinner for it,
/// still covers the factoring of the next full panel. `side_by_side 2 --ops=qr` (Zen 3 VM, 2
/// cores, three alternating runs): cores busy at n = 512 1.63–1.65 → 1.77–1.80, time 6.5–7.2
/// → 5.1–5.7 ms; at 1024 1.78–1.80 → 1.84 (time within the noise, 28–30 ms); 2048 unchanged.
/// (Giving the whole team the last step's critical path, as the LU does, changed nothing here.)
const FIRST_PANEL_FRACTION: usize = 4;

/// A panel's compact WY form `(V, T)`: `H₁…H_b = I − V T Vᴴ`.
type Panel<T> = (Array2<T>, Array2<T>);

/// [`packed`]'s loop over panels of `nb` columns: factor the first panel (a quarter panel with
/// `look_ahead`), then per panel [`step`]: its block reflector applied to the columns right of
/// it, the next panel factored.
/// With `look_ahead`, that update is split: one worker applies the block reflector to the next
/// panel's columns and factors that panel (the critical path, on its own so that no task of it
/// waits behind the far update) while the team applies it to the far columns. Returns the block
/// reflectors in order.
fn blocked<T: Field>(
    op: &'static str,
    l3: &Level3,
    f: &mut Array2<T>,
    tau: &mut [T],
    nb: usize,
    look_ahead: bool,
) -> Result<Vec<BlockReflector<T>>> {
    let (m, n) = f.dim();
    let k = m.min(n);
    let mut blocks = Vec::new();
    // Nothing overlaps the first panel's factoring: with a look-ahead it is a quarter panel.
    let b0 = if look_ahead {
        (nb / FIRST_PANEL_FRACTION).max(1)
    } else {
        nb
    }
    .min(k);
    let mut current = panel(op, l3, f.slice_mut(s![.., ..b0]), &mut tau[..b0])?;
    let (mut j, mut b) = (0, b0);
    loop {
        let rest = j + b;
        if rest >= n {
            blocks.push((j, current.0, current.1));
            break;
        }
        let next_b = if rest < k { nb.min(k - rest) } else { 0 };
        let trailing = f.slice_mut(s![j.., rest..]);
        let next_tau = &mut tau[rest..rest + next_b];
        let next = if look_ahead {
            let (next, mut far) = trailing.split_at(ndarray::Axis(1), next_b);
            let (next, far_done) = rayon::join(
                || step(op, &l3.serial(), &current, next, b, next_tau),
                || apply_ht(l3, op, &current, &mut far),
            );
            far_done?;
            next?
        } else {
            step(op, l3, &current, trailing, b, next_tau)?
        };
        blocks.push((j, current.0, current.1));
        match next {
            Some(p) => current = p,
            None => break,
        }
        j = rest;
        b = next_b;
    }
    Ok(blocks)
}

/// One step of [`blocked`]: `c` (columns right of a panel of `b` columns, from the panel's first
/// row) updated by the panel's block reflector ([`apply_ht`]), then its first `tau.len()`
/// columns below row `b` factored as the next panel (`None` when `tau` is empty).
fn step<T: Field>(
    op: &'static str,
    l3: &Level3,
    current: &Panel<T>,
    mut c: ArrayViewMut2<T>,
    b: usize,
    tau: &mut [T],
) -> Result<Option<Panel<T>>> {
    apply_ht(l3, op, current, &mut c)?;
    if tau.is_empty() {
        return Ok(None);
    }
    let nb = tau.len();
    panel(op, l3, c.slice_mut(s![b.., ..nb]), tau).map(Some)
}

/// `C ← Hᴴ C = (I − V Tᴴ Vᴴ) C` for a panel's block reflector `H = I − V T Vᴴ` (the update
/// that reaches R); nothing when `C` has no columns.
fn apply_ht<T: Field>(
    l3: &Level3,
    op: &'static str,
    (v, t): &Panel<T>,
    c: &mut ArrayViewMut2<T>,
) -> Result<()> {
    if c.ncols() == 0 {
        return Ok(());
    }
    apply(l3, op, v.view(), t.view(), true, c)
}

/// Panels at most this wide are factored by the engine's unblocked kernel (`geqr2`, or LAPACK
/// `geqrf` at one thread on `rayon-blas`); wider ones split in two (Elmroth–Gustavson). Chosen,
/// not tuned: level-2 work is about `QR_BASE · n²` flops of the `4/3 n³` total.
const QR_BASE: usize = 16;

/// Factors the panel `p: m × b` (`m ≥ b ≥ 1`) in place, recursively: the left half, its block
/// reflector applied to the right half (three GEMMs), the right half below the left's rows; the
/// two compact WY forms join as `T = [T₁, −T₁ V₁ᴴ V₂ T₂; 0, T₂]`. Every level above the base runs
/// on the engine's GEMM, so a wide panel costs little more than its trailing update. Returns V
/// (unit lower trapezoidal, `m × b`) and T (`b × b`, upper triangular) with
/// `H₁…H_b = I − V T Vᴴ`.
pub(crate) fn panel<T: Field>(
    op: &'static str,
    l3: &Level3,
    mut p: ArrayViewMut2<T>,
    tau: &mut [T],
) -> Result<Panel<T>> {
    let (m, b) = p.dim();
    if b <= QR_BASE {
        l3.geqrf_base(op, &mut p, tau)?;
        let v = unit_lower(op, p.view())?;
        let t = larft(l3, op, v.view(), tau)?;
        return Ok((v, t));
    }
    let b1 = b / 2;
    let (tau1, tau2) = tau.split_at_mut(b1);
    let first = panel(op, l3, p.slice_mut(s![.., ..b1]), tau1)?;
    apply_ht(l3, op, &first, &mut p.slice_mut(s![.., b1..]))?;
    let (v1, t1) = first;
    let (v2, t2) = panel(op, l3, p.slice_mut(s![b1.., b1..]), tau2)?;
    let b2 = b - b1;
    let mut v = zeros_f(op, m, b)?;
    assign_2d(&mut v.slice_mut(s![.., ..b1]), v1.view());
    assign_2d(&mut v.slice_mut(s![b1.., b1..]), v2.view());
    // V₁ᴴ V₂: V₂ is zero in the first b₁ rows.
    let mut x = zeros_f(op, b1, b2)?;
    l3.gemm(
        op,
        T::one(),
        adjoint(v1.slice(s![b1.., ..])).view(),
        v2.view(),
        T::zero(),
        &mut x.view_mut(),
    )?;
    let mut y = zeros_f(op, b1, b2)?;
    l3.gemm(
        op,
        T::one(),
        x.view(),
        t2.view(),
        T::zero(),
        &mut y.view_mut(),
    )?;
    let mut t = zeros_f(op, b, b)?;
    assign_2d(&mut t.slice_mut(s![..b1, ..b1]), t1.view());
    assign_2d(&mut t.slice_mut(s![b1.., b1..]), t2.view());
    l3.gemm(
        op,
        -T::one(),
        t1.view(),
        y.view(),
        T::zero(),
        &mut t.slice_mut(s![..b1, b1..]),
    )?;
    Ok((v, t))
}

/// `C ← Qᴴ C` for `C: m × k`, `Q` the product of `blocks` (from [`packed`]).
pub(crate) fn apply_qt<T: Field>(
    l3: &Level3,
    op: &'static str,
    blocks: &[BlockReflector<T>],
    c: &mut ArrayViewMut2<T>,
) -> Result<()> {
    for (j, v, t) in blocks {
        apply(
            l3,
            op,
            v.view(),
            t.view(),
            true,
            &mut c.slice_mut(s![*j.., ..]),
        )?;
    }
    Ok(())
}

/// `C ← Q C` for `C: m × k`, `Q` the product of `blocks` (from [`packed`]), applied last
/// block first. With `from_identity`, `C` holds the first `k` columns of the identity (as it
/// does when `Q` is formed): block `j` then leaves the columns before `j` as they are, so they
/// are skipped, and so are the blocks from column `k` on.
pub(crate) fn apply_q<T: Field>(
    l3: &Level3,
    op: &'static str,
    blocks: &[BlockReflector<T>],
    c: &mut ArrayViewMut2<T>,
    from_identity: bool,
) -> Result<()> {
    let k = c.ncols();
    for (j, v, t) in blocks.iter().rev() {
        let c0 = if from_identity { *j } else { 0 };
        if c0 < k {
            apply(
                l3,
                op,
                v.view(),
                t.view(),
                false,
                &mut c.slice_mut(s![*j.., c0..]),
            )?;
        }
    }
    Ok(())
}

/// `A = Q R` for `A: m × n` with `m, n ≥ 1` (the public `qr` on a rayon engine).
pub(crate) fn qr<T: Field>(
    op: &'static str,
    l3: &Level3,
    a: ArrayView2<T>,
    mode: QrMode,
) -> Result<Qr<T>> {
    let (m, n) = a.dim();
    let (f, blocks) = packed(op, l3, a)?;
    let qcols = mode.q_cols(m, n);
    let r = upper_rows(op, f.view(), qcols)?;
    drop(f);
    let mut q = zeros_f::<T>(op, m, qcols)?;
    q.diag_mut().fill(T::one());
    apply_q(l3, op, &blocks, &mut q.view_mut(), true)?;
    Ok(Qr { q, r })
}

/// V: the panel's Householder vectors with their implicit unit diagonal and zeros above.
pub(crate) fn unit_lower<T: Field>(op: &'static str, panel: ArrayView2<T>) -> Result<Array2<T>> {
    let (rows, b) = panel.dim();
    let mut v = zeros_f(op, rows, b)?;
    for c in 0..b.min(rows) {
        v[[c, c]] = T::one();
        v.slice_mut(s![c + 1.., c])
            .assign(&panel.slice(s![c + 1.., c]));
    }
    Ok(v)
}

/// The upper triangular T with `H₁…H_b = I − V T Vᴴ` (LAPACK's `larft`, forward, columnwise):
/// `T[i,i] = τᵢ`, `T[..i, i] = −τᵢ · T[..i, ..i] · (V[:, ..i]ᴴ vᵢ)`. The inner products
/// `V[:, ..i]ᴴ vᵢ` of all columns come from one GEMM `G = Vᴴ V` on the engine (its strict upper
/// triangle is read) instead of `b(b−1)/2` separate dots down the columns, which had been 3 %
/// of a one-thread rayon QR at n = 512 (Zen 5).
pub(crate) fn larft<T: Field>(
    l3: &Level3,
    op: &'static str,
    v: ArrayView2<T>,
    tau: &[T],
) -> Result<Array2<T>> {
    let b = tau.len();
    let mut g = zeros_f(op, b, b)?;
    l3.gemm(
        op,
        T::one(),
        adjoint(v).view(),
        v,
        T::zero(),
        &mut g.view_mut(),
    )?;
    let mut t = zeros_f(op, b, b)?;
    for i in 0..b {
        t[[i, i]] = tau[i];
        if i == 0 || tau[i] == T::zero() {
            continue;
        }
        for r in 0..i {
            let s = (r..i).fold(T::zero(), |s, c| s + t[[r, c]] * g[[c, i]]);
            t[[r, i]] = -tau[i] * s;
        }
    }
    Ok(t)
}

thread_local! {
    /// [`apply`]'s `W` and `T W` (`b × cols` each), kept per thread across calls: fresh zeroed
    /// ones for every panel's update cost 5–8 % of a one-thread rayon QR at n = 512 (Zen 5:
    /// `memset`, allocation and page faults).
    static APPLY_WORK: RefCell<AlignedBuf> = RefCell::new(AlignedBuf::default());
}

/// `C ← (I − V T Vᴴ) C` (`transposed`: `(I − V Tᴴ Vᴴ) C`) with three GEMMs.
pub(crate) fn apply<T: Field>(
    l3: &Level3,
    op: &'static str,
    v: ArrayView2<T>,
    t: ArrayView2<T>,
    transposed: bool,
    c: &mut ArrayViewMut2<T>,
) -> Result<()> {
    let (b, cols) = (v.ncols(), c.ncols());
    let len = elements(op, b, cols)?;
    let total = elements(op, 2, len)?;
    with_buffer(&APPLY_WORK, |buf| {
        let work = buf
            .slice::<T>(total)
            .ok_or_else(|| out_of_memory(op, total))?;
        let (w, tw) = work.split_at_mut(len);
        // The reused storage holds whatever the last call left: both GEMMs run with β = 0,
        // which writes their output without reading it.
        let mut w = ArrayViewMut2::from_shape((b, cols).f(), w).expect("length matches shape");
        let mut tw = ArrayViewMut2::from_shape((b, cols).f(), tw).expect("length matches shape");
        l3.gemm(op, T::one(), adjoint(v).view(), c.view(), T::zero(), &mut w)?;
        let top = if transposed { adjoint(t) } else { t.into() };
        l3.gemm(op, T::one(), top.view(), w.view(), T::zero(), &mut tw)?;
        l3.gemm(op, -T::one(), v, tw.view(), T::one(), c)
    })
}

/// `Aᴴ`: the transposed view for real types, a conjugated copy for complex ones.
fn adjoint<T: Field>(a: ArrayView2<'_, T>) -> CowArray<'_, T, Ix2> {
    if T::IS_COMPLEX {
        a.t().mapv(T::conj).into()
    } else {
        a.reversed_axes().into()
    }
}
