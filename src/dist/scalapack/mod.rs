//! ScaLAPACK on distributed matrices (feature `scalapack`).

/// The BLACS grid of a [`Grid`](super::Grid).
pub(crate) struct Blacs;

impl Blacs {
    pub(crate) fn release(self) {}
}
