//! The operations' tests in one binary (one link of OpenBLAS, one build): each module tests one
//! public operation (or family) against slow, obviously correct references on every engine.
//! Tests that change process-wide state (environment, thread settings, fork, runnable-thread
//! sampling, a counting global allocator) keep binaries of their own beside this directory.
//!
//! One module: `cargo test --release --test ops lu::` (a filter on the test path).

#[path = "../common/mod.rs"]
mod common;

mod batch;
mod cholesky;
mod complex;
mod complex_rayon;
mod eig;
mod eigh;
mod elementwise;
mod env_parse;
mod factor_blocks;
mod factored;
mod into;
mod level1;
mod lstsq;
mod lu;
mod memory;
mod norm;
mod parallel;
mod prelude;
mod proptest_errors;
mod qr;
mod reduce;
mod reduce_complex;
mod spectral_rayon;
mod subnormal_diagonal;
mod svd;
mod transpose;
mod triangular;
