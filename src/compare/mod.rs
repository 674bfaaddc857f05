//! The measurement side of parla: what the machine can do ([`peak`]) — the yardstick that
//! `parla compare` reports every engine against.

pub mod peak;
