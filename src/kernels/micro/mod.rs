//! Register-blocked GEMM micro-kernels, one file per instruction set.
//!
//! Every micro-kernel has the same contract ([`MicroKernelFn`]): multiply a packed `MR × k`
//! micro-panel of A by a packed `k × NR` micro-panel of B and write `α·AB + β·C` into an `m × n`
//! tile of C (`m ≤ MR`, `n ≤ NR`) with arbitrary strides; `β = 0` overwrites C without reading it.

#[cfg(target_arch = "x86_64")]
pub(crate) mod avx2;
#[cfg(target_arch = "x86_64")]
pub(crate) mod avx512;
pub(crate) mod portable;

/// The micro-kernel signature: `(k, a~, b~, c, rs_c, cs_c, m, n, α, β)`.
pub(crate) type MicroKernelFn<T> =
    unsafe fn(usize, *const T, *const T, *mut T, isize, isize, usize, usize, T, T);
