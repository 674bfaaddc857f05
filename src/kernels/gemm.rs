//! The two innermost GEMM loops around the micro-kernel (the "macro-kernel").
//!
//! Given a packed A~ block (`mc × kc`) and a packed B~ block (`kc × nc`), loop 2 (`jr`) walks
//! the NR-column micro-panels of B~ and, inside it, loop 1 (`ir`) walks the MR-row micro-panels
//! of A~, calling the micro-kernel once per `MR × NR` tile of C. With `jr` outside, one B~
//! micro-panel (`kc × NR`) stays in L1 while every A~ micro-panel streams past it from L2.

use ndarray::ArrayViewMut2;

use super::MicroKernel;

/// `C ← α·A~·B~ + β·C` for the `mc × nc` block `c`, where `a` holds ⌈mc/MR⌉ packed A~
/// micro-panels and `b` holds ⌈nc/NR⌉ packed B~ micro-panels, both of depth `kc`.
///
/// # Safety
/// `uk` must be runnable on this CPU (`isa.available()`); `a` and `b` must have been packed with
/// `uk.mr` / `uk.nr` for this block's `mc`, `nc` and `kc` (`kc ≥ 1`).
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn macro_kernel<T: Copy>(
    uk: &MicroKernel<T>,
    kc: usize,
    a: &[T],
    b: &[T],
    c: &mut ArrayViewMut2<T>,
    alpha: T,
    beta: T,
) {
    let (mc, nc) = c.dim();
    let (mr, nr) = (uk.mr, uk.nr);
    debug_assert!(a.len() >= mc.div_ceil(mr) * mr * kc);
    debug_assert!(b.len() >= nc.div_ceil(nr) * nr * kc);
    let (rs, cs) = (c.strides()[0], c.strides()[1]);
    let base = c.as_mut_ptr();
    // Loop 2 (jr): NR-column micro-panels of B~ and C.
    for (q, bp) in b.chunks_exact(nr * kc).take(nc.div_ceil(nr)).enumerate() {
        let j0 = q * nr;
        let n = nr.min(nc - j0);
        // Loop 1 (ir): MR-row micro-panels of A~ and C.
        for (r, ap) in a.chunks_exact(mr * kc).take(mc.div_ceil(mr)).enumerate() {
            let i0 = r * mr;
            let m = mr.min(mc - i0);
            // SAFETY: the tile (i0.., j0..) of size m × n lies inside the exclusively borrowed
            // block `c` (i0 + m ≤ mc, j0 + n ≤ nc); `ap` / `bp` are whole packed micro-panels of
            // depth kc; the kernel runs on this CPU (caller's contract); packed buffers never
            // alias C.
            unsafe {
                let cp = base.offset(i0 as isize * rs + j0 as isize * cs);
                (uk.run)(kc, ap.as_ptr(), bp.as_ptr(), cp, rs, cs, m, n, alpha, beta);
            }
        }
    }
}
