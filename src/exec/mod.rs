//! [`Exec`]: engine and threads as a value, and what a call with it will run ([`Exec::plan`]).
//!
//! The value and its constructors live in `value` (a leaf the dispatch layer reads); the
//! planning query lives here, above the dispatch layer it asks.

pub(crate) mod value;

pub use value::Exec;

use crate::dispatch::{self, Plan};
use crate::error::Result;
use crate::op::{Dtype, Op, Shape};

impl Exec {
    /// What a call of `op` on `dtype` operands of `shape` would run with this value: the
    /// concrete engine and threads, how the work is cut, the GEMM kernel of that dtype, and
    /// which rule decided. The dispatch layer resolves every call through the same function,
    /// so this is what really runs.
    ///
    /// # Errors
    /// [`Error::Unsupported`](crate::Error::Unsupported) when the engine does not implement `op`.
    ///
    /// ```
    /// use parla::{Dtype, Engine, Exec, Op, Shape};
    ///
    /// let auto = Exec::new(Engine::Auto, 2)?;
    /// // Without a tuning profile a tiny product goes to OpenBLAS (which keeps it on one
    /// // thread itself); with one, `auto` takes what `parla tune` measured, and the rule says so.
    /// let p = auto.plan(Op::Matmul, Dtype::F64, Shape::Product { m: 8, n: 8, k: 8 })?;
    /// assert!(p.engine == Engine::Blas || p.rule.contains("tuning profile"), "{p:?}");
    /// assert!(p.threads <= 2);
    /// // A fixed engine keeps its own; the kernel reported is the one of the dtype asked.
    /// let rayon = Exec::new(Engine::Rayon, 2)?;
    /// let p32 = rayon.plan(Op::Matmul, Dtype::F32, Shape::Square(1024))?;
    /// assert_eq!(p32.kernel, Some(rayon.gemm_kernel::<f32>()));
    /// # Ok::<(), parla::Error>(())
    /// ```
    pub fn plan(&self, op: Op, dtype: Dtype, shape: Shape) -> Result<Plan> {
        dispatch::plan(self, op, dtype, shape)
    }
}
