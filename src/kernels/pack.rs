//! Packing: copies a block of A or B into the order the micro-kernel reads it, in a buffer
//! aligned to a cache line.
//!
//! * A~ (an `mc × kc` block of A) becomes `⌈mc/MR⌉` micro-panels; panel `q` holds, for each
//!   `p < kc`, the MR elements `A[q·MR .. q·MR+MR, p]` contiguously (rows past `mc` are zero).
//! * B~ (a `kc × nc` block of B) becomes `⌈nc/NR⌉` micro-panels; panel `q` holds, for each
//!   `p < kc`, the NR elements `B[p, q·NR .. q·NR+NR]` contiguously (columns past `nc` are zero).
//!
//! The micro-kernel then walks both panels with unit stride whatever the layout of A and B
//! (row-major, column-major, transposed, negative or arbitrary strides).

use ndarray::ArrayView2;
use num_traits::Zero;

use crate::transpose_copy::Blocks;

/// A growable buffer of `T` whose start is aligned to 64 bytes (one cache line, one zmm).
#[derive(Default)]
pub(crate) struct AlignedBuf {
    lines: Vec<Line>,
}

#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Line([u8; 64]);

impl AlignedBuf {
    /// A zero-initialised slice of `len` elements, reusing the allocation when it is large
    /// enough. `None` when the memory cannot be allocated.
    pub(crate) fn slice<T: Copy + Zero>(&mut self, len: usize) -> Option<&mut [T]> {
        let bytes = len.checked_mul(size_of::<T>())?;
        let lines = bytes.div_ceil(64);
        if self.lines.len() < lines {
            self.lines.clear();
            self.lines.try_reserve_exact(lines).ok()?;
            self.lines.resize(lines, Line([0; 64]));
        }
        debug_assert!(align_of::<T>() <= 64);
        // SAFETY: the buffer holds at least `len · size_of::<T>()` initialised bytes, aligned to
        // 64 ≥ align_of::<T>(); T is f32, f64 or a complex number of them, for which every bit
        // pattern is a valid value;
        // the returned borrow is tied to `&mut self`, so nothing else aliases it.
        Some(unsafe { std::slice::from_raw_parts_mut(self.lines.as_mut_ptr().cast::<T>(), len) })
    }
}

/// Packs `a` (`mc × kc`) into `out` as `⌈mc/mr⌉` micro-panels of `mr` rows (see the module
/// docs). `out` must hold at least `⌈mc/mr⌉ · mr · kc` elements.
pub(crate) fn pack_a<T: Copy + Zero + 'static>(mr: usize, a: ArrayView2<T>, out: &mut [T]) {
    let (mc, kc) = a.dim();
    let blocks = crate::transpose_copy::Blocks::for_type::<T>();
    let (rs, cs) = (a.strides()[0], a.strides()[1]);
    let base = a.as_ptr();
    let mut first = 0;
    if rs == 1 && !(cs == 1 && kc > 1) {
        // Columns of A contiguous (a transposed row-major operand): walk each column once,
        // copying its runs of MR rows into the full panels as fixed-size blocks (one `memmove`
        // call per run cost as much as the copy; panel by panel, each column a page apart,
        // missed the TLB). The edge panel is left to the general loop below.
        first = mc / mr;
        let out = &mut out[..first * mr * kc];
        // SAFETY (all three): rows 0 .. first·mr ≤ mc of columns 0 .. kc lie inside `a`.
        match mr {
            8 => unsafe { copy_runs::<T, 8>(base, cs, kc, out) },
            16 => unsafe { copy_runs::<T, 16>(base, cs, kc, out) },
            32 => unsafe { copy_runs::<T, 32>(base, cs, kc, out) },
            _ => first = 0,
        }
    }
    for (q, panel) in out
        .chunks_exact_mut(mr * kc)
        .take(mc.div_ceil(mr))
        .enumerate()
        .skip(first)
    {
        let i0 = q * mr;
        let rows = mr.min(mc - i0);
        if cs == 1 && kc > 1 && rows == mr && mr >= 8 && kc >= 8 {
            // Rows of A contiguous (a transposed column-major operand, as Vᵀ in QR's `Vᵀ C`):
            // the panel is the transpose of the MR × kc block, in 8 × 8 register blocks. The
            // scattering loop below took about 1.4 ns an element there (3.7 % of a one-thread
            // QR at n = 1024 on the Zen 5 VM).
            // SAFETY: rows i0 .. i0 + mr of `a` hold kc elements each at unit stride; element
            // (i, p) of the panel is at p·mr + i < mr·kc; `out` does not overlap `a`.
            unsafe {
                crate::transpose_copy::transpose_raw(
                    blocks,
                    mr,
                    kc,
                    base.offset(i0 as isize * rs),
                    rs,
                    panel.as_mut_ptr(),
                    mr as isize,
                )
            };
            continue;
        }
        if cs == 1 && kc > 1 {
            // Rows of A contiguous: read each along its row, scattering into the panel
            // (which sits in L1) rather than gathering MR strided streams.
            if rows < mr {
                panel.fill(T::zero());
            }
            for i in 0..rows {
                // SAFETY: i0 + i < mc, so row i0 + i of `a` holds kc elements at unit stride.
                let row =
                    unsafe { std::slice::from_raw_parts(base.offset((i0 + i) as isize * rs), kc) };
                for (d, &v) in panel[i..].iter_mut().step_by(mr).zip(row) {
                    *d = v;
                }
            }
            continue;
        }
        for (p, dst) in panel.chunks_exact_mut(mr).enumerate() {
            for (i, d) in dst.iter_mut().enumerate().take(rows) {
                // SAFETY: i0 + i < mc and p < kc, so the element lies inside the view `a`.
                *d = unsafe { *base.offset((i0 + i) as isize * rs + p as isize * cs) };
            }
            dst[rows..].fill(T::zero());
        }
    }
}

/// Packs the full panels `out` (`out.len() / (R·kc)` of them, R rows each) from the columns
/// `src + p·stride` (`p < kc`), column by column.
///
/// # Safety
/// For every `p < kc`, the `out.len() / kc` elements from `src + p·stride` lie in one readable
/// allocation.
unsafe fn copy_runs<T: Copy, const R: usize>(
    src: *const T,
    stride: isize,
    kc: usize,
    out: &mut [T],
) {
    let panel = R * kc;
    let panels = out.len() / panel;
    for p in 0..kc {
        // SAFETY: the caller's contract.
        let col = unsafe { src.offset(p as isize * stride) };
        for q in 0..panels {
            // SAFETY: rows q·R .. (q+1)·R of column p (caller's contract); `[T; R]` has T's
            // alignment.
            let run = unsafe { col.add(q * R).cast::<[T; R]>().read() };
            out[q * panel + p * R..q * panel + (p + 1) * R].copy_from_slice(&run);
        }
    }
}

/// Packs `b` (`kc × nc`) into `out` as `⌈nc/nr⌉` micro-panels of `nr` columns (see the module
/// docs). `out` must hold at least `⌈nc/nr⌉ · nr · kc` elements.
///
/// Always row by row of the panel (`nr` reads from `nr` columns, `nr` contiguous writes), also
/// for a column-major `b`: reading each column along its length and scattering into the panel
/// with stride `nr` ran 1.5× slower at leading dimension 1024 and 6× slower at 2048 (`kc` 256,
/// `nr` 14, f64, Zen 5), and was a fifth of `eigh`'s time at n = 2048 (its back-transformation
/// multiplies by column-major blocks).
pub(crate) fn pack_b<T: Copy + Zero + 'static>(nr: usize, b: ArrayView2<T>, out: &mut [T]) {
    let (kc, nc) = b.dim();
    let (rs, cs) = (b.strides()[0], b.strides()[1]);
    let base = b.as_ptr();
    // Full panels with the kernels' NR known at compile time: fixed offsets and one NR-element
    // store per row (the general loop below spent most of its time on index arithmetic and a
    // zero-length fill per row: a sixth of a rayon QR's time at n = 512). The edge panel is
    // left to the general loop.
    let mut first = nc / nr;
    let blocks = Blocks::for_type::<T>();
    {
        let out = &mut out[..first * nr * kc];
        // SAFETY (both): columns 0 .. first·nr ≤ nc of rows 0 .. kc lie inside `b`.
        match nr {
            6 => unsafe { full_panels_b::<T, 6>(blocks, base, rs, cs, kc, out) },
            14 => unsafe { full_panels_b::<T, 14>(blocks, base, rs, cs, kc, out) },
            _ => first = 0,
        }
    }
    for (q, panel) in out
        .chunks_exact_mut(nr * kc)
        .take(nc.div_ceil(nr))
        .enumerate()
        .skip(first)
    {
        let j0 = q * nr;
        let cols = nr.min(nc - j0);
        for (p, dst) in panel.chunks_exact_mut(nr).enumerate() {
            for (j, d) in dst.iter_mut().enumerate().take(cols) {
                // SAFETY: p < kc and j0 + j < nc, so the element lies inside the view `b`.
                *d = unsafe { *base.offset(p as isize * rs + (j0 + j) as isize * cs) };
            }
            dst[cols..].fill(T::zero());
        }
    }
}

/// Packs the full panels `out` (`out.len() / (NR·kc)` of them) of B~ from `b` (element
/// `(p, j)` at `b + p·rs + j·cs`), row by row of each panel.
///
/// # Safety
/// Every element `(p, j)` with `p < kc`, `j < out.len() / kc` lies in one readable allocation.
unsafe fn full_panels_b<T: Copy, const NR: usize>(
    blocks: Blocks,
    b: *const T,
    rs: isize,
    cs: isize,
    kc: usize,
    out: &mut [T],
) {
    for (q, panel) in out.chunks_exact_mut(NR * kc).enumerate() {
        // SAFETY: the caller's contract covers columns q·NR .. (q+1)·NR.
        let col0 = unsafe { b.offset((q * NR) as isize * cs) };
        if cs == 1 {
            for (p, dst) in panel.chunks_exact_mut(NR).enumerate() {
                // SAFETY: row p holds these NR elements contiguously (caller's contract);
                // `[T; NR]` has T's alignment.
                let run = unsafe { col0.offset(p as isize * rs).cast::<[T; NR]>().read() };
                dst.copy_from_slice(&run);
            }
        } else if rs == 1 && NR >= 8 && kc >= 8 {
            // Columns of B contiguous (a transposed row-major operand): the panel is the
            // transpose of the NR × kc block whose rows are B's columns, in 8 × 8 register
            // blocks (narrower panels keep the loop below, unrolled for their NR).
            // SAFETY: element (j, p) of that block is b's (p, q·NR + j) (caller's contract);
            // element (j, p) of the panel is at p·NR + j < NR·kc; `out` does not overlap `b`.
            unsafe {
                crate::transpose_copy::transpose_raw(
                    blocks,
                    NR,
                    kc,
                    col0,
                    cs,
                    panel.as_mut_ptr(),
                    NR as isize,
                )
            };
        } else {
            // SAFETY: each column start lies inside `b` (caller's contract).
            let cols: [*const T; NR] =
                std::array::from_fn(|j| unsafe { col0.offset(j as isize * cs) });
            for (p, dst) in panel.chunks_exact_mut(NR).enumerate() {
                let off = p as isize * rs;
                for (d, c) in dst.iter_mut().zip(&cols) {
                    // SAFETY: element (p, j) of `b` (caller's contract).
                    *d = unsafe { *c.offset(off) };
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{s, Array2};

    use super::*;

    /// Every layout the GEMMs hand to the packers: C order, F order (a transposed operand),
    /// a strided sub-view and reversed rows, with edge panels (`mc`, `nc` not multiples).
    fn layouts(rows: usize, cols: usize) -> Vec<Array2<f64>> {
        let f = |(i, j): (usize, usize)| (i * 100 + j) as f64 + 0.5;
        vec![
            Array2::from_shape_fn((rows, cols), f),
            Array2::from_shape_fn((cols, rows), |(j, i)| f((i, j))).reversed_axes(),
            Array2::from_shape_fn((2 * rows, 3 * cols), |(i, j)| f((i / 2, j / 3)))
                .slice(s![..;2, ..;3])
                .to_owned(),
        ]
    }

    #[test]
    fn packed_panels_hold_the_block_in_kernel_order() {
        for (mr, m, k) in [
            (8, 8, 5),
            (8, 19, 7),
            (8, 3, 1),
            (8, 16, 33),
            (8, 24, 17),
            (16, 40, 9),
            (16, 48, 8),
            (32, 33, 4),
        ] {
            for a in layouts(m, k) {
                let views = [a.view(), a.slice(s![..;-1, ..])];
                for v in views {
                    let mut out = vec![f64::NAN; m.div_ceil(mr) * mr * k];
                    pack_a(mr, v, &mut out);
                    for (idx, &x) in out.iter().enumerate() {
                        let (q, rest) = (idx / (mr * k), idx % (mr * k));
                        let (p, i) = (rest / mr, q * mr + rest % mr);
                        let want = if i < m { v[(i, p)] } else { 0.0 };
                        assert_eq!(x, want, "A~ {m}×{k} strides {:?} at {idx}", v.strides());
                    }
                }
            }
        }
        // NR 6 and 14 take the fixed-width path for their full panels, 4 the general loop.
        for nr in [6, 14, 4] {
            for (k, n) in [(5, 6), (7, 19), (1, 3), (33, 16), (9, 30)] {
                for b in layouts(k, n) {
                    for v in [b.view(), b.slice(s![..;-1, ..])] {
                        let mut out = vec![f64::NAN; n.div_ceil(nr) * nr * k];
                        pack_b(nr, v, &mut out);
                        for (idx, &x) in out.iter().enumerate() {
                            let (q, rest) = (idx / (nr * k), idx % (nr * k));
                            let (p, j) = (rest / nr, q * nr + rest % nr);
                            let want = if j < n { v[(p, j)] } else { 0.0 };
                            assert_eq!(
                                x,
                                want,
                                "B~ {k}×{n} nr {nr} strides {:?} at {idx}",
                                v.strides()
                            );
                        }
                    }
                }
            }
        }
    }
}
