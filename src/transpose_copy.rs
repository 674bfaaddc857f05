//! The transposing copy under [`crate::alloc::assign_2d`] (and so under `transpose`, the
//! column-major copies the LAPACK wrappers make, and the factorizations' layout changes):
//! `dst ← src` for a column-major `dst` (unit row stride) and a row-major `src` (unit column
//! stride).
//!
//! The matrix is walked in bands of [`BAND`] destination columns; inside a band, blocks of
//! [`BLOCK`] × `BLOCK` elements are read as `BLOCK` source rows and written as `BLOCK`
//! destination columns, each a whole 64-byte line for 8-byte elements. For `f64` / `c32` and
//! `f32` the block is transposed in vector registers (AVX-512 or AVX2 shuffles); other element
//! types, and CPUs without AVX2, gather it in a local array. Where `BLOCK` does not divide a
//! dimension of at least `BLOCK`, the last block ends at the edge and overlaps the one before
//! (writing the same values twice), so edges run the same kernel. Each source line is read whole and
//! each destination line written whole before the next, so lines that share a cache set
//! (power-of-two strides) do not evict each other half-used.
//!
//! Against OpenBLAS's `omatcopy` (0.3.21), on an AMD EPYC Zen 5 (family 26 model 2), f64, one
//! thread, `cargo run --release --example transpose_engines` (median ms, this copy / omatcopy):
//! n = 256 0.022 / 0.069, 500 0.070 / 0.109, 512 0.18 / 1.18, 1000 0.33–0.41 / 0.50–0.57,
//! 1024 1.0–1.3 / 4.5, 1500 1.7–1.8 / 2.2–2.4, 2048 5.9–8.3 / 21–23. The tiles of 32 × 32
//! this replaced (ndarray's `assign` per tile) took 0.67 ms at n = 1000 and 4.6 ms at 1500.

use std::any::TypeId;

use ndarray::{ArrayView2, ArrayViewMut2};

/// Destination columns per band. Narrow bands keep few destination lines per cache set where
/// the column stride is a multiple of 4 KiB: on the Zen 5 (48 KiB 12-way L1), one thread,
/// f64, bands of 8 / 16 / 32 / 128 columns took 0.13 / 0.18 / 0.38 / 0.44 ms at n = 512 and
/// 1.0 / 1.3 / 1.5 / 1.8 ms at n = 1024; at n = 1000 and 1500, 16 and 32 tied and 8 was
/// 10–25 % slower (same example, `XX`-switched throwaway build, noisy to ±20 %).
const BAND: usize = 16;

/// Edge of the register blocks.
const BLOCK: usize = 8;

/// How a `BLOCK × BLOCK` block is transposed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Blocks {
    /// 8-byte elements in AVX-512 registers.
    Avx512Bits64,
    /// 8-byte elements in AVX2 registers (four 4 × 4 blocks).
    Avx2Bits64,
    /// 4-byte elements in AVX2 registers.
    Avx2Bits32,
    /// Any element type, through a local array.
    Portable,
}

impl Blocks {
    /// The fastest way this CPU has for `T`: the vector paths only for the plain floating-point
    /// types (every bit of them is a value, so moving them as raw lanes is exact).
    pub(crate) fn for_type<T: 'static>() -> Blocks {
        let id = TypeId::of::<T>();
        let bits64 = id == TypeId::of::<f64>() || id == TypeId::of::<num_complex::Complex<f32>>();
        let bits32 = id == TypeId::of::<f32>();
        #[cfg(target_arch = "x86_64")]
        {
            if bits64 && std::arch::is_x86_feature_detected!("avx512f") {
                return Blocks::Avx512Bits64;
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                if bits64 {
                    return Blocks::Avx2Bits64;
                }
                if bits32 {
                    return Blocks::Avx2Bits32;
                }
            }
        }
        let _ = (bits64, bits32);
        Blocks::Portable
    }

    /// Whether this CPU can run `self`.
    #[cfg(test)]
    pub(crate) fn available(self) -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            match self {
                Blocks::Avx512Bits64 => std::arch::is_x86_feature_detected!("avx512f"),
                Blocks::Avx2Bits64 | Blocks::Avx2Bits32 => {
                    std::arch::is_x86_feature_detected!("avx2")
                }
                Blocks::Portable => true,
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            self == Blocks::Portable
        }
    }
}

/// `dst ← src` (same shape, `dst` with unit row stride, `src` with unit column stride).
pub(crate) fn transpose_copy<T: Copy + 'static>(dst: &mut ArrayViewMut2<T>, src: ArrayView2<T>) {
    transpose_copy_with(Blocks::for_type::<T>(), dst, src);
}

/// [`transpose_copy`] with its block kernel chosen by the caller (tests run every one).
///
/// # Panics
/// When the shapes differ, `dst`'s row stride or `src`'s column stride is not 1 (for more than
/// one row / column), or `blocks` does not suit `T`.
pub(crate) fn transpose_copy_with<T: Copy + 'static>(
    blocks: Blocks,
    dst: &mut ArrayViewMut2<T>,
    src: ArrayView2<T>,
) {
    let (m, n) = dst.dim();
    assert_eq!((m, n), src.dim(), "transpose_copy: shapes differ");
    if m == 0 || n == 0 {
        return;
    }
    assert!(
        (m == 1 || dst.strides()[0] == 1) && (n == 1 || src.strides()[1] == 1),
        "transpose_copy: dst must have unit row stride and src unit column stride"
    );
    let size = std::mem::size_of::<T>();
    assert!(
        match blocks {
            Blocks::Avx512Bits64 | Blocks::Avx2Bits64 => size == 8,
            Blocks::Avx2Bits32 => size == 4,
            Blocks::Portable => true,
        },
        "transpose_copy: {blocks:?} cannot move {size}-byte elements"
    );
    let (dcs, srs) = (dst.strides()[1], src.strides()[0]);
    let (dp, sp) = (dst.as_mut_ptr(), src.as_ptr());
    // SAFETY: every (i, j) with i < m, j < n is an element of both views at these strides; a
    // mutable and a shared borrow cannot overlap; `blocks` suits T's size (asserted) and this
    // CPU (`for_type`, or a test that checked `available`).
    unsafe { transpose_raw(blocks, m, n, sp, srs, dp, dcs) }
}

/// The first row (or column) of each block along a dimension of `len ≥ BLOCK` elements
/// starting at `from` and ending at `to`: every `BLOCK`, and where `BLOCK` does not divide the
/// span, one more block ending at `to` that overlaps the one before (its overlap is written
/// twice, with the same values) or, for a span shorter than `BLOCK`, the part before `from`.
fn starts(from: usize, to: usize) -> impl Iterator<Item = usize> {
    let whole = (to - from) / BLOCK;
    let last = (!(to - from).is_multiple_of(BLOCK)).then(|| to - BLOCK);
    (0..whole).map(move |k| from + k * BLOCK).chain(last)
}

/// `dst ← src` for the `m × n` matrices with element `(i, j)` at `sp + i·srs + j` (source) and
/// `dp + i + j·dcs` (destination).
///
/// # Safety
/// Every such element of both lies in one allocation, the two do not overlap, and `blocks`
/// suits `T`'s size and this CPU.
pub(crate) unsafe fn transpose_raw<T: Copy>(
    blocks: Blocks,
    m: usize,
    n: usize,
    sp: *const T,
    srs: isize,
    dp: *mut T,
    dcs: isize,
) {
    if m < BLOCK || n < BLOCK {
        // SAFETY: the caller's contract.
        unsafe { scalar(sp, srs, dp, dcs, 0..m, 0..n) };
        return;
    }
    for j0 in (0..n).step_by(BAND) {
        let j1 = (j0 + BAND).min(n);
        for i0 in starts(0, m) {
            for j in starts(j0, j1) {
                // SAFETY: rows i0 .. i0 + BLOCK ≤ m and columns j .. j + BLOCK ≤ n (j1 ≥ BLOCK
                // as n ≥ BLOCK and BAND ≥ BLOCK) lie inside both (the caller's contract).
                unsafe {
                    block(
                        blocks,
                        sp.offset(i0 as isize * srs + j as isize),
                        srs,
                        dp.offset(i0 as isize + j as isize * dcs),
                        dcs,
                    );
                }
            }
        }
    }
}

/// Element by element, destination column by column.
///
/// # Safety
/// Every `(i, j)` in the ranges is an element of both matrices.
unsafe fn scalar<T: Copy>(
    sp: *const T,
    srs: isize,
    dp: *mut T,
    dcs: isize,
    rows: std::ops::Range<usize>,
    cols: std::ops::Range<usize>,
) {
    for j in cols {
        for i in rows.clone() {
            // SAFETY: the caller's contract.
            unsafe {
                *dp.offset(i as isize + j as isize * dcs) =
                    *sp.offset(i as isize * srs + j as isize)
            };
        }
    }
}

/// One `BLOCK × BLOCK` block from `s` (rows `srs` apart) to `d` (columns `dcs` apart).
///
/// # Safety
/// The block lies inside both matrices; `blocks` suits `T`'s size and this CPU.
#[inline(always)]
unsafe fn block<T: Copy>(blocks: Blocks, s: *const T, srs: isize, d: *mut T, dcs: isize) {
    // SAFETY (all arms): the caller's contract.
    match blocks {
        #[cfg(target_arch = "x86_64")]
        Blocks::Avx512Bits64 => unsafe { x86::bits64_avx512(s.cast(), srs, d.cast(), dcs) },
        #[cfg(target_arch = "x86_64")]
        Blocks::Avx2Bits64 => unsafe { x86::bits64_avx2(s.cast(), srs, d.cast(), dcs) },
        #[cfg(target_arch = "x86_64")]
        Blocks::Avx2Bits32 => unsafe { x86::bits32_avx2(s.cast(), srs, d.cast(), dcs) },
        _ => {
            let mut t = [[std::mem::MaybeUninit::<T>::uninit(); BLOCK]; BLOCK];
            for (k, row) in t.iter_mut().enumerate() {
                for (l, x) in row.iter_mut().enumerate() {
                    // SAFETY: element (k, l) of the block.
                    x.write(unsafe { *s.offset(k as isize * srs + l as isize) });
                }
            }
            for l in 0..BLOCK {
                for (k, row) in t.iter().enumerate() {
                    // SAFETY: element (k, l) of the block; t[k][l] was written above.
                    unsafe { *d.offset(k as isize + l as isize * dcs) = row[l].assume_init() };
                }
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    /// An 8 × 8 block of 8-byte elements, as `f64` lanes (bit-exact moves only).
    ///
    /// # Safety
    /// AVX-512F is available; the block lies inside both matrices.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn bits64_avx512(s: *const f64, srs: isize, d: *mut f64, dcs: isize) {
        // SAFETY: the caller's contract: row k of the block is s + k·srs .. + 8.
        let r: [__m512d; 8] =
            std::array::from_fn(|k| unsafe { _mm512_loadu_pd(s.offset(k as isize * srs)) });
        // Pairs of rows interleaved: t[2p] holds (row 2p, row 2p+1) of the even columns
        // in its four 128-bit lanes, t[2p + 1] of the odd columns.
        let t: [__m512d; 8] = std::array::from_fn(|q| {
            let (a, b) = (r[q & !1], r[q | 1]);
            if q & 1 == 0 {
                _mm512_unpacklo_pd(a, b)
            } else {
                _mm512_unpackhi_pd(a, b)
            }
        });
        // Rows 0–3 (u) and 4–7 (v): lanes (0, 2) and (1, 3) of two pairs.
        let u = [
            _mm512_shuffle_f64x2::<0x88>(t[0], t[2]), // columns 0, 4
            _mm512_shuffle_f64x2::<0xDD>(t[0], t[2]), // columns 2, 6
            _mm512_shuffle_f64x2::<0x88>(t[1], t[3]), // columns 1, 5
            _mm512_shuffle_f64x2::<0xDD>(t[1], t[3]), // columns 3, 7
        ];
        let v = [
            _mm512_shuffle_f64x2::<0x88>(t[4], t[6]),
            _mm512_shuffle_f64x2::<0xDD>(t[4], t[6]),
            _mm512_shuffle_f64x2::<0x88>(t[5], t[7]),
            _mm512_shuffle_f64x2::<0xDD>(t[5], t[7]),
        ];
        // Column c comes from pair index COL[c] and its low (0x88) or high (0xDD) half.
        const COL: [(usize, bool); 8] = [
            (0, false),
            (2, false),
            (1, false),
            (3, false),
            (0, true),
            (2, true),
            (1, true),
            (3, true),
        ];
        for (c, &(p, high)) in COL.iter().enumerate() {
            let col = if high {
                _mm512_shuffle_f64x2::<0xDD>(u[p], v[p])
            } else {
                _mm512_shuffle_f64x2::<0x88>(u[p], v[p])
            };
            // SAFETY: column c of the block is d + c·dcs .. + 8.
            unsafe { _mm512_storeu_pd(d.offset(c as isize * dcs), col) };
        }
    }

    /// An 8 × 8 block of 8-byte elements as four 4 × 4 blocks of `f64` lanes.
    ///
    /// # Safety
    /// AVX2 is available; the block lies inside both matrices.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn bits64_avx2(s: *const f64, srs: isize, d: *mut f64, dcs: isize) {
        for bi in 0..2isize {
            for bj in 0..2isize {
                // SAFETY: inside the block (the caller's contract).
                let (s, d) = unsafe {
                    (
                        s.offset(4 * bi * srs + 4 * bj),
                        d.offset(4 * bi + 4 * bj * dcs),
                    )
                };
                // SAFETY: the caller's contract covers this 4 × 4 quarter.
                let r: [__m256d; 4] =
                    std::array::from_fn(|k| unsafe { _mm256_loadu_pd(s.offset(k as isize * srs)) });
                let t0 = _mm256_unpacklo_pd(r[0], r[1]);
                let t1 = _mm256_unpackhi_pd(r[0], r[1]);
                let t2 = _mm256_unpacklo_pd(r[2], r[3]);
                let t3 = _mm256_unpackhi_pd(r[2], r[3]);
                let c = [
                    _mm256_permute2f128_pd::<0x20>(t0, t2),
                    _mm256_permute2f128_pd::<0x20>(t1, t3),
                    _mm256_permute2f128_pd::<0x31>(t0, t2),
                    _mm256_permute2f128_pd::<0x31>(t1, t3),
                ];
                for (k, col) in c.into_iter().enumerate() {
                    // SAFETY: column k of the quarter.
                    unsafe { _mm256_storeu_pd(d.offset(k as isize * dcs), col) };
                }
            }
        }
    }

    /// An 8 × 8 block of 4-byte elements, as `f32` lanes.
    ///
    /// # Safety
    /// AVX2 is available; the block lies inside both matrices.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn bits32_avx2(s: *const f32, srs: isize, d: *mut f32, dcs: isize) {
        // SAFETY: the caller's contract: row k of the block is s + k·srs .. + 8.
        let r: [__m256; 8] =
            std::array::from_fn(|k| unsafe { _mm256_loadu_ps(s.offset(k as isize * srs)) });
        let t: [__m256; 8] = std::array::from_fn(|q| {
            let (a, b) = (r[q & !1], r[q | 1]);
            if q & 1 == 0 {
                _mm256_unpacklo_ps(a, b)
            } else {
                _mm256_unpackhi_ps(a, b)
            }
        });
        // q[c] holds rows 0–3 (q[c + 4]: rows 4–7) of columns c and c + 4.
        let q = [
            _mm256_shuffle_ps::<0x44>(t[0], t[2]),
            _mm256_shuffle_ps::<0xEE>(t[0], t[2]),
            _mm256_shuffle_ps::<0x44>(t[1], t[3]),
            _mm256_shuffle_ps::<0xEE>(t[1], t[3]),
            _mm256_shuffle_ps::<0x44>(t[4], t[6]),
            _mm256_shuffle_ps::<0xEE>(t[4], t[6]),
            _mm256_shuffle_ps::<0x44>(t[5], t[7]),
            _mm256_shuffle_ps::<0xEE>(t[5], t[7]),
        ];
        for c in 0..4 {
            let lo = _mm256_permute2f128_ps::<0x20>(q[c], q[c + 4]);
            let hi = _mm256_permute2f128_ps::<0x31>(q[c], q[c + 4]);
            // SAFETY: columns c and c + 4 of the block.
            unsafe {
                _mm256_storeu_ps(d.offset(c as isize * dcs), lo);
                _mm256_storeu_ps(d.offset((c + 4) as isize * dcs), hi);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{s, Array2, ShapeBuilder};
    use num_complex::Complex;

    use super::*;

    fn check<T: Copy + 'static + PartialEq + std::fmt::Debug>(
        blocks: Blocks,
        make: impl Fn(usize, usize) -> T,
        zero: T,
    ) {
        // Sizes around the block edge and the band, sub-views with padded strides.
        for (m, n) in [
            (1, 1),
            (1, 9),
            (9, 1),
            (7, 7),
            (8, 8),
            (9, 17),
            (16, 8),
            (33, 130),
            (130, 33),
            (64, 257),
            (14, 37),
            (23, 8),
            (8, 23),
            (15, 15),
        ] {
            let src_full = Array2::from_shape_fn((m + 2, n + 3), |(i, j)| make(i, j));
            let src = src_full.slice(s![1..m + 1, 2..n + 2]);
            let mut dst_full = Array2::from_elem((m + 5, n + 1).f(), zero);
            let mut dst = dst_full.slice_mut(s![3..m + 3, ..n]);
            transpose_copy_with(blocks, &mut dst, src);
            assert_eq!(dst, src, "{blocks:?} {m}×{n}");
            // Nothing outside the destination view was written.
            for ((i, j), x) in dst_full.indexed_iter() {
                if !(3..m + 3).contains(&i) || j >= n {
                    assert_eq!(*x, zero, "{blocks:?} {m}×{n} wrote outside at ({i}, {j})");
                }
            }
        }
    }

    #[test]
    fn every_block_kernel_copies_every_element_and_nothing_else() {
        let f64s = |i: usize, j: usize| (i * 1000 + j) as f64 + 0.25;
        let f32s = |i: usize, j: usize| (i * 1000 + j) as f32 + 0.5;
        let c32s = |i: usize, j: usize| Complex::new(i as f32 + 0.5, j as f32 - 0.25);
        let c64s = |i: usize, j: usize| Complex::new(i as f64 + 0.5, j as f64 - 0.25);
        for blocks in [Blocks::Avx512Bits64, Blocks::Avx2Bits64, Blocks::Portable] {
            if blocks.available() {
                check(blocks, f64s, 0.0);
                check(blocks, c32s, Complex::new(0.0, 0.0));
            }
        }
        for blocks in [Blocks::Avx2Bits32, Blocks::Portable] {
            if blocks.available() {
                check(blocks, f32s, 0.0);
            }
        }
        check(Blocks::Portable, c64s, Complex::new(0.0, 0.0));
        // NaN payloads and signed zeros move bit for bit on the vector paths.
        let bits = |i: usize, j: usize| f64::from_bits(0x7ff8_0000_0000_0001 + (i * 64 + j) as u64);
        let mut dst = Array2::<f64>::zeros((16, 16).f());
        let src = Array2::from_shape_fn((16, 16), |(i, j)| bits(i, j));
        transpose_copy(&mut dst.view_mut(), src.view());
        assert!(dst
            .iter()
            .zip(src.iter())
            .all(|(a, b)| a.to_bits() == b.to_bits()));
    }

    #[test]
    fn the_vector_paths_are_chosen_for_plain_floats_only() {
        assert_eq!(Blocks::for_type::<u64>(), Blocks::Portable);
        assert_eq!(Blocks::for_type::<Complex<f64>>(), Blocks::Portable);
        assert_eq!(Blocks::for_type::<(u32, u16)>(), Blocks::Portable);
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            assert_ne!(Blocks::for_type::<f64>(), Blocks::Portable);
            assert_eq!(Blocks::for_type::<f32>(), Blocks::Avx2Bits32);
        }
    }
}
