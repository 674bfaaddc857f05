//! The portable micro-kernel (any CPU): MR = 8, NR = 4 in plain Rust.
//!
//! The accumulators are a fixed-size array the compiler keeps in registers and vectorises with
//! whatever the target baseline offers (SSE2 on x86-64, NEON on aarch64). Multiplies and adds
//! are separate (no `mul_add`): without a hardware FMA, `mul_add` is a slow library call.

use num_traits::Float;

/// Rows of the portable tile.
pub(crate) const MR: usize = 8;
/// Columns of the portable tile.
pub(crate) const NR: usize = 4;

/// `C ← α·(A~ B~) + β·C` on one tile of at most `MR × NR`.
///
/// # Safety
/// `a` holds `k · MR` packed elements and `b` holds `k · NR` (see `kernels::pack`); `c` with
/// strides `rs_c`, `cs_c` addresses a writable `m × n` tile (`1 ≤ m ≤ MR`, `1 ≤ n ≤ NR`) that
/// overlaps neither `a` nor `b`.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn gemm_8x4<T: Float>(
    k: usize,
    a: *const T,
    b: *const T,
    c: *mut T,
    rs_c: isize,
    cs_c: isize,
    m: usize,
    n: usize,
    alpha: T,
    beta: T,
) {
    // SAFETY: the caller guarantees k·MR and k·NR readable elements.
    let (a, b) = unsafe {
        (
            std::slice::from_raw_parts(a, k * MR),
            std::slice::from_raw_parts(b, k * NR),
        )
    };
    let mut acc = [[T::zero(); MR]; NR];
    for (ap, bp) in a.chunks_exact(MR).zip(b.chunks_exact(NR)) {
        for j in 0..NR {
            for i in 0..MR {
                acc[j][i] = acc[j][i] + ap[i] * bp[j];
            }
        }
    }
    for (j, col) in acc.iter().enumerate().take(n.min(NR)) {
        for (i, &v) in col.iter().enumerate().take(m.min(MR)) {
            // SAFETY: (i, j) is inside the m × n tile.
            unsafe {
                let cp = c.offset(i as isize * rs_c + j as isize * cs_c);
                *cp = if beta != T::zero() {
                    alpha * v + beta * *cp
                } else {
                    alpha * v
                };
            }
        }
    }
}
