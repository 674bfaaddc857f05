//! The measurement harness behind the `parla` command line: `parla peak` (the machine's
//! ceilings), `parla compare` (every operation on every engine, side by side) and `parla tune`
//! (the measurements `auto` reads).
//!
//! This crate is not the library users depend on: that is `parla`. It uses `parla`'s public API
//! only, and owns the dependencies a report needs (clap, plotters, indicatif, serde_json, rand).

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

pub mod compare;
#[cfg(feature = "dist")]
pub mod dist_bench;
pub mod peak;
pub mod tune;
