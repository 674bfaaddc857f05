//! Shared helpers for the integration tests: seeded random matrices, layout variants, and slow,
//! obviously correct references with compensated sums.
#![allow(dead_code)]

use ndarray::{s, Array1, Array2, ArrayView2, ShapeBuilder};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A deterministic RNG for a test, so every failure reproduces.
pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// Uniform entries in [-1, 1), C order.
pub fn random(rng: &mut ChaCha8Rng, m: usize, n: usize) -> Array2<f64> {
    Array2::from_shape_fn((m, n), |_| rng.gen_range(-1.0..1.0))
}

/// Uniform entries in [-1, 1), f32.
pub fn random_f32(rng: &mut ChaCha8Rng, m: usize, n: usize) -> Array2<f32> {
    Array2::from_shape_fn((m, n), |_| rng.gen_range(-1.0f32..1.0))
}

/// Uniform vector in [-1, 1).
pub fn random_vec(rng: &mut ChaCha8Rng, n: usize) -> Array1<f64> {
    Array1::from_shape_fn(n, |_| rng.gen_range(-1.0..1.0))
}

/// The same matrix in Fortran order.
pub fn fortran<T: Clone>(a: &Array2<T>) -> Array2<T> {
    let mut f = Array2::from_shape_vec(a.dim().f(), a.t().iter().cloned().collect()).unwrap();
    f.assign(a);
    f
}

/// A storage in which `a` sits as a strided sub-view: rows every 2nd row, columns every 3rd,
/// offset by (1, 2). Returns the big array; view it with [`strided_view`].
pub fn embed_strided(a: &Array2<f64>, guard: f64) -> Array2<f64> {
    let (m, n) = a.dim();
    let mut big = Array2::from_elem((2 * m + 2, 3 * n + 3), guard);
    big.slice_mut(s![1..1 + 2 * m;2, 2..2 + 3 * n;3]).assign(a);
    big
}

/// The view of `big` produced by [`embed_strided`].
pub fn strided_view(big: &Array2<f64>, m: usize, n: usize) -> ArrayView2<'_, f64> {
    big.slice(s![1..1 + 2 * m;2, 2..2 + 3 * n;3])
}

/// Neumaier-compensated sum: exact enough to serve as the reference for one inner product.
pub fn compensated_sum(xs: impl Iterator<Item = f64>) -> f64 {
    let (mut sum, mut c) = (0.0f64, 0.0f64);
    for x in xs {
        let t = sum + x;
        if sum.abs() >= x.abs() {
            c += (sum - t) + x;
        } else {
            c += (x - t) + sum;
        }
        sum = t;
    }
    sum + c
}

/// Reference product `A B` by naive loops with compensated sums (in f64).
pub fn ref_matmul(a: &ArrayView2<f64>, b: &ArrayView2<f64>) -> Array2<f64> {
    let (m, k) = a.dim();
    let n = b.ncols();
    Array2::from_shape_fn((m, n), |(i, j)| {
        compensated_sum((0..k).map(|p| a[[i, p]] * b[[p, j]]))
    })
}

/// `Σ_p |A[i,p]| |B[p,j]|`: the scale of the rounding error of entry (i, j) of `A B`.
pub fn abs_matmul(a: &ArrayView2<f64>, b: &ArrayView2<f64>) -> Array2<f64> {
    let (m, k) = a.dim();
    let n = b.ncols();
    Array2::from_shape_fn((m, n), |(i, j)| {
        (0..k).map(|p| (a[[i, p]] * b[[p, j]]).abs()).sum()
    })
}

/// Frobenius norm in f64.
pub fn fro(a: &ArrayView2<f64>) -> f64 {
    a.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// ‖A‖₁ (largest column sum), used by the LAPACK test ratios.
pub fn norm1(a: &ArrayView2<f64>) -> f64 {
    a.columns()
        .into_iter()
        .map(|c| c.iter().map(|x| x.abs()).sum::<f64>())
        .fold(0.0, f64::max)
}

/// A random matrix with prescribed singular values: `U diag(s) Vᵀ` with random orthogonal
/// `U`, `V` (from Householder QR of Gaussian-like matrices, built by hand here).
pub fn with_singular_values(rng: &mut ChaCha8Rng, m: usize, n: usize, s: &[f64]) -> Array2<f64> {
    let u = random_orthogonal(rng, m);
    let v = random_orthogonal(rng, n);
    let mut d = Array2::zeros((m, n));
    for (i, &x) in s.iter().enumerate().take(m.min(n)) {
        d[[i, i]] = x;
    }
    ref_matmul(&ref_matmul(&u.view(), &d.view()).view(), &v.t())
}

/// A random orthogonal `n × n` matrix: Gram–Schmidt (twice) on random columns.
pub fn random_orthogonal(rng: &mut ChaCha8Rng, n: usize) -> Array2<f64> {
    let mut q = random(rng, n, n);
    for _ in 0..2 {
        for j in 0..n {
            for i in 0..j {
                let d: f64 = (0..n).map(|r| q[[r, i]] * q[[r, j]]).sum();
                for r in 0..n {
                    q[[r, j]] -= d * q[[r, i]];
                }
            }
            let nrm: f64 = (0..n).map(|r| q[[r, j]] * q[[r, j]]).sum::<f64>().sqrt();
            for r in 0..n {
                q[[r, j]] /= nrm;
            }
        }
    }
    q
}

/// A symmetric positive definite matrix `B Bᵀ + n I`.
pub fn spd(rng: &mut ChaCha8Rng, n: usize) -> Array2<f64> {
    let b = random(rng, n, n);
    let mut a = ref_matmul(&b.view(), &b.t());
    for i in 0..n {
        a[[i, i]] += n as f64;
    }
    // Exactly symmetric.
    for i in 0..n {
        for j in 0..i {
            a[[j, i]] = a[[i, j]];
        }
    }
    a
}

/// Generic (f32/f64) helpers for the factorization tests: layouts with guard values, test
/// ratios, and slow reference solvers in f64.
/// Runs `f(engine, threads)` with each rayon engine at 1, 2 and 3 threads as the scoped default
/// of this thread (`with_backend` + `with_num_threads`), after checking that `Exec::current()`
/// plans `op` on that engine: the engine × threads matrix of the rayon tests, written once.
pub fn on_rayon_engines(op: parla::Op, f: impl Fn(parla::Engine, usize)) {
    for engine in [parla::Engine::RayonBlas, parla::Engine::Rayon] {
        for t in 1..=3 {
            parla::with_backend(engine, || {
                parla::with_num_threads(t, || {
                    let plan = parla::Exec::current()
                        .unwrap()
                        .plan(op, parla::Dtype::F64, parla::Shape::Unknown)
                        .unwrap();
                    assert_eq!((plan.engine, plan.threads), (engine, t), "{op}");
                    f(engine, t)
                })
                .unwrap()
            });
        }
    }
}

pub mod la {
    use ndarray::{s, Array1, Array2, ArrayView1, ArrayView2, ShapeBuilder};
    use parla::Scalar;
    use rand_chacha::ChaCha8Rng;

    /// Machine epsilon of `T`, in f64.
    pub fn eps<T: Scalar>() -> f64 {
        T::EPS.as_f64()
    }

    /// The matrix in f64 (exact for f32 and f64).
    pub fn to64<T: Scalar>(a: &ArrayView2<T>) -> Array2<f64> {
        a.mapv(|x| x.as_f64())
    }

    /// The vector in f64.
    pub fn vec64<T: Scalar>(a: &ArrayView1<T>) -> Array1<f64> {
        a.mapv(|x| x.as_f64())
    }

    /// The f64 matrix rounded to `T`.
    pub fn cast<T: Scalar>(a: &Array2<f64>) -> Array2<T> {
        a.mapv(T::of)
    }

    /// `n × n` identity in f64.
    pub fn eye(n: usize) -> Array2<f64> {
        Array2::eye(n)
    }

    /// How a test matrix is stored.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Layout {
        /// Row-major, contiguous.
        C,
        /// Column-major, contiguous.
        F,
        /// `.t()` of the transpose stored row-major with 3 padding columns (column-major view
        /// with leading dimension `m + 3`).
        Transposed,
        /// Every 2nd row and 3rd column of a guard-filled array (no unit stride).
        Strided,
        /// Negative strides on both axes.
        Reversed,
    }

    /// Every layout.
    pub const LAYOUTS: [Layout; 5] = [
        Layout::C,
        Layout::F,
        Layout::Transposed,
        Layout::Strided,
        Layout::Reversed,
    ];

    /// A matrix held in a chosen layout inside a larger storage filled with guard values.
    pub struct Stored<T> {
        big: Array2<T>,
        layout: Layout,
        m: usize,
        n: usize,
        guard: T,
    }

    impl<T: Scalar> Stored<T> {
        /// Stores `a` in `layout`; the unused storage holds `guard`.
        pub fn new(a: &Array2<T>, layout: Layout, guard: T) -> Self {
            let (m, n) = a.dim();
            let big = match layout {
                Layout::C => a.as_standard_layout().to_owned(),
                Layout::F => {
                    let mut f = Array2::from_elem((m, n).f(), guard);
                    f.assign(a);
                    f
                }
                Layout::Transposed => {
                    let mut t = Array2::from_elem((n, m + 3), guard);
                    t.slice_mut(s![.., ..m]).assign(&a.t());
                    t
                }
                Layout::Strided => {
                    let mut big = Array2::from_elem((2 * m + 2, 3 * n + 3), guard);
                    big.slice_mut(s![1..1 + 2 * m;2, 2..2 + 3 * n;3]).assign(a);
                    big
                }
                Layout::Reversed => {
                    let mut r = Array2::from_elem((m, n), guard);
                    r.slice_mut(s![..;-1, ..;-1]).assign(a);
                    r
                }
            };
            Stored {
                big,
                layout,
                m,
                n,
                guard,
            }
        }

        /// The view equal to the stored matrix.
        pub fn view(&self) -> ArrayView2<'_, T> {
            let (m, n) = (self.m, self.n);
            match self.layout {
                Layout::C | Layout::F => self.big.view(),
                Layout::Transposed => self.big.slice(s![.., ..m]).reversed_axes(),
                Layout::Strided => self.big.slice(s![1..1 + 2 * m;2, 2..2 + 3 * n;3]),
                Layout::Reversed => self.big.slice(s![..;-1, ..;-1]),
            }
        }

        /// Whether every storage element outside the view still holds the guard value.
        pub fn guards_intact(&self) -> bool {
            let (m, n) = (self.m, self.n);
            let g = self.guard;
            let same = |x: &T| x.as_f64().to_bits() == g.as_f64().to_bits();
            match self.layout {
                Layout::C | Layout::F | Layout::Reversed => true,
                Layout::Transposed => self.big.slice(s![.., m..]).iter().all(same),
                Layout::Strided => self.big.indexed_iter().all(|((i, j), x)| {
                    let inside = i >= 1
                        && i < 1 + 2 * m
                        && (i - 1) % 2 == 0
                        && j >= 2
                        && j < 2 + 3 * n
                        && (j - 2) % 3 == 0;
                    inside || same(x)
                }),
            }
        }
    }

    /// ‖A‖₁ that propagates NaN (`norm1` lets `f64::max` drop it), so a NaN in an output can
    /// never make a ratio pass.
    pub fn norm1_nan(a: &ArrayView2<f64>) -> f64 {
        let mut m = 0.0f64;
        for c in a.columns() {
            let s: f64 = c.iter().map(|x| x.abs()).sum();
            if s.is_nan() {
                return f64::NAN;
            }
            m = m.max(s);
        }
        m
    }

    /// ‖X − Y‖₁ in f64 (NaN if any entry is NaN).
    pub fn diff1(x: &ArrayView2<f64>, y: &ArrayView2<f64>) -> f64 {
        norm1_nan(&(x - y).view())
    }

    /// ‖QᵀQ − I‖₁ for the columns of `q`.
    pub fn orth_defect(q: &ArrayView2<f64>) -> f64 {
        let qtq = super::ref_matmul(&q.t(), q);
        diff1(&qtq.view(), &eye(q.ncols()).view())
    }

    /// `x / y`, with `0 / 0 = 0` (for ratios of empty or zero matrices); NaN if either is NaN
    /// or both are infinite.
    pub fn ratio(x: f64, y: f64) -> f64 {
        if x == 0.0 && !y.is_nan() {
            0.0
        } else {
            x / y
        }
    }

    /// Frobenius norm with scaling, safe for entries near the overflow threshold.
    pub fn fro_safe(a: &ArrayView2<f64>) -> f64 {
        let amax = a.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        if amax == 0.0 || !amax.is_finite() {
            return amax;
        }
        amax * a.iter().map(|x| (x / amax).powi(2)).sum::<f64>().sqrt()
    }

    /// `n` values from 1 down to `lo`, geometrically spaced (1 when n = 1).
    pub fn geometric(n: usize, lo: f64) -> Vec<f64> {
        (0..n)
            .map(|i| {
                if n == 1 {
                    1.0
                } else {
                    lo.powf(i as f64 / (n - 1) as f64)
                }
            })
            .collect()
    }

    /// `(A, U, V)` with `A = U diag(s) Vᵀ`, built exactly as
    /// [`with_singular_values`](super::with_singular_values) builds `A`.
    pub fn svd_parts(
        rng: &mut ChaCha8Rng,
        m: usize,
        n: usize,
        s: &[f64],
    ) -> (Array2<f64>, Array2<f64>, Array2<f64>) {
        let u = super::random_orthogonal(rng, m);
        let v = super::random_orthogonal(rng, n);
        let mut d = Array2::zeros((m, n));
        for (i, &x) in s.iter().enumerate().take(m.min(n)) {
            d[[i, i]] = x;
        }
        let a = super::ref_matmul(&super::ref_matmul(&u.view(), &d.view()).view(), &v.t());
        (a, u, v)
    }

    /// Exactly symmetric `Q diag(λ) Qᵀ` with random orthogonal `Q`.
    pub fn symmetric_with_eigenvalues(rng: &mut ChaCha8Rng, lambda: &[f64]) -> Array2<f64> {
        let n = lambda.len();
        let q = super::random_orthogonal(rng, n);
        let mut qd = q.clone();
        for (j, &l) in lambda.iter().enumerate() {
            qd.column_mut(j).mapv_inplace(|x| x * l);
        }
        let mut a = super::ref_matmul(&qd.view(), &q.t());
        for i in 0..n {
            for j in 0..i {
                a[[j, i]] = a[[i, j]];
            }
        }
        a
    }

    /// Gaussian elimination with partial pivoting in f64 on a copy: `(solution, det)`.
    /// Slow and obvious; the reference for small dense systems. The solution is `None` when a
    /// pivot is exactly zero.
    pub fn ref_solve_det(a: &ArrayView2<f64>, b: &ArrayView2<f64>) -> (Option<Array2<f64>>, f64) {
        let n = a.nrows();
        let mut a = a.to_owned();
        let mut x = b.to_owned();
        let mut det = 1.0f64;
        for k in 0..n {
            let p = (k..n)
                .max_by(|&i, &j| a[[i, k]].abs().total_cmp(&a[[j, k]].abs()))
                .unwrap();
            if a[[p, k]] == 0.0 {
                return (None, 0.0);
            }
            if p != k {
                for j in 0..n {
                    a.swap([k, j], [p, j]);
                }
                for j in 0..x.ncols() {
                    x.swap([k, j], [p, j]);
                }
                det = -det;
            }
            det *= a[[k, k]];
            for i in k + 1..n {
                let l = a[[i, k]] / a[[k, k]];
                for j in k..n {
                    a[[i, j]] -= l * a[[k, j]];
                }
                for j in 0..x.ncols() {
                    x[[i, j]] -= l * x[[k, j]];
                }
            }
        }
        for j in 0..x.ncols() {
            for i in (0..n).rev() {
                let s = super::compensated_sum((i + 1..n).map(|p| a[[i, p]] * x[[p, j]]));
                x[[i, j]] = (x[[i, j]] - s) / a[[i, i]];
            }
        }
        (Some(x), det)
    }

    /// Backward error of a linear solve, `‖A X − B‖₁ / ((‖A‖₁ ‖X‖₁ + ‖B‖₁) · n · ε)`.
    pub fn solve_ratio(
        a: &ArrayView2<f64>,
        x: &ArrayView2<f64>,
        b: &ArrayView2<f64>,
        eps: f64,
    ) -> f64 {
        let n = a.ncols().max(1) as f64;
        let r = super::ref_matmul(a, x) - b;
        ratio(
            norm1_nan(&r.view()),
            (norm1_nan(a) * norm1_nan(x) + norm1_nan(b)) * n * eps,
        )
    }
}

/// The rayon engines (`rayon-blas`, `rayon`) at two threads with tiny recursion bases and
/// panels, so the blocked paths of the factorizations (off-diagonal GEMMs, several
/// panels) run on small matrices.
pub fn tiny_block_engines() -> Vec<parla::Exec> {
    let tiny = parla::tuning::FactorBlocks {
        cholesky: 3,
        syrk: 3,
        lu: 2,
        qr: 2,
        trsm: 3,
    };
    [parla::Engine::RayonBlas, parla::Engine::Rayon]
        .into_iter()
        .map(|engine| {
            parla::Exec::new(engine, 2)
                .unwrap()
                .with_factor_blocks(tiny)
                .unwrap()
        })
        .collect()
}

/// An output window inside a larger array full of a sentinel ("guard cells"), for the `_into`
/// tests: the operation writes into [`Guarded::window`], and every cell outside it must keep
/// the sentinel. Layouts: 0 = window of a C-order array, 1 = of an F-order array, 2 =
/// C-order window with its rows reversed (negative stride), 3 = a whole C-order array, 4 = a
/// whole F-order array (contiguous outputs, no guard cells: the engines' fast paths).
pub mod guard {
    use ndarray::{s, Array2, ArrayView2, ArrayViewMut2, Axis, ShapeBuilder};

    /// Every output layout of [`Guarded`].
    pub const WINDOW_LAYOUTS: [u8; 5] = [0, 1, 2, 3, 4];

    /// Rows and columns of guard cells before and around the window (none for the
    /// whole-array layouts): first row, first column, extra rows, extra columns.
    fn pad(layout: u8) -> (usize, usize, usize, usize) {
        if layout >= 3 {
            (0, 0, 0, 0)
        } else {
            (1, 2, 3, 4)
        }
    }

    /// A `rows × cols` window in one of the layouts, inside storage full of `sentinel`.
    pub struct Guarded<T> {
        big: Array2<T>,
        rows: usize,
        cols: usize,
        layout: u8,
        sentinel: T,
    }

    impl<T: Copy + PartialEq> Guarded<T> {
        /// The storage for a `rows × cols` window in `layout`, every cell `sentinel`.
        pub fn new(rows: usize, cols: usize, layout: u8, sentinel: T) -> Self {
            let (_, _, pr, pc) = pad(layout);
            let shape = (rows + pr, cols + pc);
            let big = if layout == 1 || layout == 4 {
                Array2::from_elem(shape.f(), sentinel)
            } else {
                Array2::from_elem(shape, sentinel)
            };
            Guarded {
                big,
                rows,
                cols,
                layout,
                sentinel,
            }
        }

        /// The window to write (in logical order).
        pub fn window(&mut self) -> ArrayViewMut2<'_, T> {
            let (r0, c0, _, _) = pad(self.layout);
            let mut w = self
                .big
                .slice_mut(s![r0..r0 + self.rows, c0..c0 + self.cols]);
            if self.layout == 2 {
                w.invert_axis(Axis(0));
            }
            w
        }

        /// The window as written (in logical order).
        pub fn read(&self) -> ArrayView2<'_, T> {
            let (r0, c0, _, _) = pad(self.layout);
            let mut w = self.big.slice(s![r0..r0 + self.rows, c0..c0 + self.cols]);
            if self.layout == 2 {
                w.invert_axis(Axis(0));
            }
            w
        }

        /// The first cell of the storage outside the window that no longer holds the
        /// sentinel, if any.
        pub fn written_outside(&self) -> Option<(usize, usize)> {
            let (r0, c0, _, _) = pad(self.layout);
            self.big.indexed_iter().find_map(|((i, j), &v)| {
                let inside = (r0..r0 + self.rows).contains(&i) && (c0..c0 + self.cols).contains(&j);
                (!inside && v != self.sentinel).then_some((i, j))
            })
        }
    }
}
