//! The public operations: each is a method of [`Exec`](crate::Exec) that validates its input at
//! the boundary and calls [`dispatch`](crate::dispatch), and a free function of the same name that
//! runs it with the process defaults ([`Exec::current`](crate::Exec::current)).

pub mod cholesky;
pub(crate) mod complex;
pub mod eig;
pub mod eigh;
pub mod elementwise;
pub mod factored;
pub mod into;
pub mod level1;
pub mod level2;
pub mod level3;
pub mod lstsq;
pub mod lu;
pub mod norm;
pub mod qr;
pub mod reduce;
pub mod svd;
pub mod transpose;
pub mod triangular;

use ndarray::{Array1, Array2, ArrayBase, ArrayView2, Axis, Data, Ix1, Ix2};

use crate::scalar::Field;

mod sealed {
    pub trait Sealed {}
    impl<S: ndarray::Data> Sealed for ndarray::ArrayBase<S, ndarray::Ix1> {}
    impl<S: ndarray::Data> Sealed for ndarray::ArrayBase<S, ndarray::Ix2> {}
}

/// A right-hand side: a vector (`Array1`, solved as one column) or a matrix (one system per
/// column). The solution has the same kind.
pub trait Rhs<T>: sealed::Sealed {
    /// The owned solution type (`Array1<T>` or `Array2<T>`).
    type Out;
    /// The right-hand side as an `n × k` matrix view.
    fn as_matrix(&self) -> ArrayView2<'_, T>;
    /// Converts an `n × k` solution back to the kind of the right-hand side.
    fn from_matrix(x: Array2<T>) -> Self::Out;
    /// The shape as the caller sees it (`[n]` or `[n, k]`), for error messages.
    fn dims(&self) -> Vec<usize>;
    /// Requires finite entries; an error names the index in the caller's shape.
    ///
    /// # Errors
    /// [`Error::NonFinite`](crate::Error::NonFinite).
    fn check_finite(&self, op: crate::Op) -> crate::Result<()>;
}

impl<T: Field, S: Data<Elem = T>> Rhs<T> for ArrayBase<S, Ix1> {
    type Out = Array1<T>;
    fn as_matrix(&self) -> ArrayView2<'_, T> {
        self.view().insert_axis(Axis(1))
    }
    fn from_matrix(x: Array2<T>) -> Array1<T> {
        x.column(0).to_owned()
    }
    fn dims(&self) -> Vec<usize> {
        self.shape().to_vec()
    }
    fn check_finite(&self, op: crate::Op) -> crate::Result<()> {
        crate::validate::finite(op, self)
    }
}

impl<T: Field, S: Data<Elem = T>> Rhs<T> for ArrayBase<S, Ix2> {
    type Out = Array2<T>;
    fn as_matrix(&self) -> ArrayView2<'_, T> {
        self.view()
    }
    fn from_matrix(x: Array2<T>) -> Array2<T> {
        x
    }
    fn dims(&self) -> Vec<usize> {
        self.shape().to_vec()
    }
    fn check_finite(&self, op: crate::Op) -> crate::Result<()> {
        crate::validate::finite(op, self)
    }
}

/// `n × n` identity, for results of empty inputs.
pub(crate) fn eye<T: Field>(n: usize) -> Array2<T> {
    Array2::eye(n)
}
