//! Level 2: `gemv` (`Trans::No` / `Trans::Yes`) and `matvec`, against the reference-BLAS gauge
//!
//! |y − y_ref| ≤ 16·ε·(|α|·Σ_j |op(A)[i,j]||x[j]| + |β|·|y_in[i]|), elementwise,
//!
//! with `y_ref = α·op(A)·x + β·y_in` from naive loops with compensated sums (tests/common).
//! `A` in C order, Fortran order and as a strided sub-view (NaN around it, so a stray read
//! shows); `x` and `y` contiguous, strided (`s![..;3]`, guard cells between) and reversed.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use ndarray::{s, Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut1, Axis};
use parla::{Engine, Error, Exec, Scalar, Trans};
use rand_chacha::ChaCha8Rng;

// ---------------------------------------------------------------------------------------------
// An allocator that refuses (and counts) requests of 1 GiB or more, so the `TooLarge` tests can
// show that nothing huge is allocated before the size check.

const HUGE_BYTES: usize = 1 << 30;
static HUGE_REQUESTS: AtomicUsize = AtomicUsize::new(0);
/// Held by the tests that read `HUGE_REQUESTS`, so one cannot see the other's requests.
static HUGE_TESTS: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn lock_huge_tests() -> std::sync::MutexGuard<'static, ()> {
    HUGE_TESTS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

struct RefuseHuge;

fn refuse(size: usize) -> bool {
    let huge = size >= HUGE_BYTES;
    if huge {
        HUGE_REQUESTS.fetch_add(1, Ordering::SeqCst);
    }
    huge
}

// SAFETY: every method forwards to `System` with the caller's arguments, or returns null (an
// allowed answer meaning "allocation failed").
unsafe impl GlobalAlloc for RefuseHuge {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if refuse(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: forwarded contract of `GlobalAlloc::alloc`.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if refuse(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: forwarded contract of `GlobalAlloc::alloc_zeroed`.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if refuse(new_size) {
            return std::ptr::null_mut();
        }
        // SAFETY: forwarded contract of `GlobalAlloc::realloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: RefuseHuge = RefuseHuge;

// ---------------------------------------------------------------------------------------------
// Layouts

const SIZES: [usize; 6] = [0, 1, 3, 31, 65, 257];

fn same_bits<T: Scalar>(a: impl IntoIterator<Item = T>, b: impl IntoIterator<Item = T>) -> bool {
    let (a, b): (Vec<T>, Vec<T>) = (a.into_iter().collect(), b.into_iter().collect());
    a.len() == b.len()
        && a.iter()
            .zip(&b)
            .all(|(p, q)| p.as_f64().to_bits() == q.as_f64().to_bits())
}

/// Storage of the matrix passed as `A`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum MLay {
    C,
    F,
    /// Rows every 2nd, columns every 3rd of a NaN-filled storage (as `common::embed_strided`).
    S,
}

const MLAYS: [MLay; 3] = [MLay::C, MLay::F, MLay::S];

fn embed_strided<T: Scalar>(a: &Array2<T>, guard: T) -> Array2<T> {
    let (m, n) = a.dim();
    let mut big = Array2::from_elem((2 * m + 2, 3 * n + 3), guard);
    big.slice_mut(s![1..1 + 2 * m;2, 2..2 + 3 * n;3]).assign(a);
    big
}

/// The matrix `stored` (what is passed as `A`) in layout `lay`.
struct Matrix<T> {
    store: Array2<T>,
    lay: MLay,
    dim: (usize, usize),
}

impl<T: Scalar> Matrix<T> {
    fn new(stored: ArrayView2<T>, lay: MLay) -> Self {
        let stored = stored.to_owned();
        let store = match lay {
            MLay::C => stored.as_standard_layout().into_owned(),
            MLay::F => common::fortran(&stored),
            MLay::S => embed_strided(&stored, T::nan()),
        };
        let m = Matrix {
            store,
            lay,
            dim: stored.dim(),
        };
        assert!(
            same_bits(m.view().iter().copied(), stored.iter().copied()),
            "{lay:?}"
        );
        m
    }
    fn view(&self) -> ArrayView2<'_, T> {
        let (m, n) = self.dim;
        match self.lay {
            MLay::C | MLay::F => self.store.view(),
            MLay::S => self.store.slice(s![1..1 + 2 * m;2, 2..2 + 3 * n;3]),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum VLay {
    Contig,
    /// `s![..;3]` of a storage of length 3n; the other cells are guards.
    Strided,
    /// `s![..;-1]`: negative stride.
    Reversed,
}

const VLAYS: [VLay; 3] = [VLay::Contig, VLay::Strided, VLay::Reversed];

fn vview<A>(lay: VLay, big: &Array1<A>) -> ArrayView1<'_, A> {
    match lay {
        VLay::Contig => big.view(),
        VLay::Strided => big.slice(s![..;3]),
        VLay::Reversed => big.slice(s![..;-1]),
    }
}

fn vview_mut<A>(lay: VLay, big: &mut Array1<A>) -> ArrayViewMut1<'_, A> {
    match lay {
        VLay::Contig => big.view_mut(),
        VLay::Strided => big.slice_mut(s![..;3]),
        VLay::Reversed => big.slice_mut(s![..;-1]),
    }
}

/// A vector stored in layout `lay`; cells outside the view hold `guard`.
fn vstore<T: Scalar>(x: &Array1<T>, lay: VLay, guard: T) -> Array1<T> {
    let len = if lay == VLay::Strided {
        3 * x.len()
    } else {
        x.len()
    };
    let mut big = Array1::from_elem(len, guard);
    vview_mut(lay, &mut big).assign(x);
    assert!(same_bits(
        vview(lay, &big).iter().copied(),
        x.iter().copied()
    ));
    big
}

fn assert_vguards<T: Scalar>(
    lay: VLay,
    big: &Array1<T>,
    before: &Array1<T>,
    ctx: &dyn Fn() -> String,
) {
    let mut mask = Array1::from_elem(big.len(), false);
    vview_mut(lay, &mut mask).fill(true);
    for (i, ((&now, &old), &inside)) in big.iter().zip(before).zip(&mask).enumerate() {
        if !inside && now.as_f64().to_bits() != old.as_f64().to_bits() {
            panic!("{}: guard cell {i} of y changed from {old} to {now}", ctx());
        }
    }
}

fn y_guard<T: Scalar>() -> T {
    T::of(-999.25)
}

// ---------------------------------------------------------------------------------------------
// The gauge

struct Reference {
    ax: Array1<f64>,
    abs: Array1<f64>,
}

impl Reference {
    /// `op(A)·x` and `Σ|op(A)||x|` for the logical `m × n` matrix `a`.
    fn new<T: Scalar>(a: &Array2<T>, x: &Array1<T>) -> Self {
        let a = a.mapv(T::as_f64);
        let x = x.mapv(T::as_f64).insert_axis(Axis(1));
        Reference {
            ax: common::ref_matmul(&a.view(), &x.view()).remove_axis(Axis(1)),
            abs: common::abs_matmul(&a.view(), &x.view()).remove_axis(Axis(1)),
        }
    }
}

fn assert_gauge<T: Scalar>(
    got: &ArrayView1<T>,
    r: &Reference,
    alpha: T,
    beta: T,
    y_in: Option<&Array1<T>>,
    ctx: &dyn Fn() -> String,
) {
    assert_eq!(got.len(), r.ax.len(), "{}", ctx());
    let eps = T::EPS.as_f64();
    let (a64, b64) = (alpha.as_f64(), beta.as_f64());
    for (i, &g) in got.iter().enumerate() {
        let y = y_in.map_or(0.0, |y| y[i].as_f64());
        let want = a64 * r.ax[i] + b64 * y;
        let bound = 16.0 * eps * (a64.abs() * r.abs[i] + b64.abs() * y.abs());
        let err = (g.as_f64() - want).abs();
        if err.is_nan() || err > bound {
            panic!(
                "{}: y[{i}] = {:e}, want {want:e}, err {err:e} > gauge {bound:e}",
                ctx(),
                g.as_f64()
            );
        }
    }
}

fn alphas<T: Scalar>() -> [T; 3] {
    [0.0, 1.0, 0.7].map(T::of)
}

fn betas<T: Scalar>() -> [T; 3] {
    [0.0, 1.0, 1.3].map(T::of)
}

fn random<T: Scalar>(rng: &mut ChaCha8Rng, m: usize, n: usize) -> Array2<T> {
    common::random(rng, m, n).mapv(T::of)
}

fn random_vec<T: Scalar>(rng: &mut ChaCha8Rng, n: usize) -> Array1<T> {
    common::random_vec(rng, n).mapv(T::of)
}

/// One case: the logical `op(A)` (m×n), `x` (n), `y_in` (m), and the reference.
struct Case<T> {
    a: Array2<T>,
    x: Array1<T>,
    y0: Array1<T>,
    r: Reference,
}

impl<T: Scalar> Case<T> {
    fn new(rng: &mut ChaCha8Rng, m: usize, n: usize) -> Self {
        let a = random::<T>(rng, m, n);
        let x = random_vec::<T>(rng, n);
        let y0 = random_vec::<T>(rng, m);
        let r = Reference::new(&a, &x);
        Case { a, x, y0, r }
    }

    /// What to pass as `A` for `ta` so that `op(A)` is the logical matrix.
    fn stored(&self, ta: Trans) -> ArrayView2<'_, T> {
        match ta {
            Trans::No => self.a.view(),
            Trans::Yes | Trans::Conj => self.a.t(),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn check_gemv(
        &self,
        exec: Option<&Exec>,
        a: &Matrix<T>,
        ta: Trans,
        lx: VLay,
        ly: VLay,
        alpha: T,
        beta: T,
    ) {
        let (m, n) = self.a.dim();
        let ctx = || {
            format!(
                "gemv {} m={m} n={n} {ta:?} A:{:?} x:{lx:?} y:{ly:?} α={alpha} β={beta} exec={exec:?}",
                T::DTYPE,
                a.lay
            )
        };
        let xs = vstore(&self.x, lx, T::nan());
        let y_init = if beta == T::zero() {
            Array1::from_elem(m, T::nan())
        } else {
            self.y0.clone()
        };
        let mut ys = vstore(&y_init, ly, y_guard());
        let before = ys.clone();
        let x = vview(lx, &xs);
        let mut y = vview_mut(ly, &mut ys);
        match exec {
            None => parla::blas_level::gemv(alpha, &a.view(), ta, &x, beta, &mut y),
            Some(e) => e.gemv(alpha, &a.view(), ta, &x, beta, &mut y),
        }
        .unwrap_or_else(|e| panic!("{}: {e}", ctx()));
        let y_in = (beta != T::zero()).then_some(&self.y0);
        assert_gauge(&y.view(), &self.r, alpha, beta, y_in, &ctx);
        assert_vguards(ly, &ys, &before, &ctx);
    }

    fn run_all(&self) {
        for ta in [Trans::No, Trans::Yes] {
            for lay in MLAYS {
                let a = Matrix::new(self.stored(ta), lay);
                for lx in VLAYS {
                    for ly in VLAYS {
                        for alpha in alphas::<T>() {
                            for beta in betas::<T>() {
                                self.check_gemv(None, &a, ta, lx, ly, alpha, beta);
                            }
                        }
                    }
                }
            }
        }
    }

    fn check_matvec(&self, exec: Option<&Exec>, lay: MLay, lx: VLay) {
        let (m, n) = self.a.dim();
        let ctx = || format!("matvec {} m={m} n={n} A:{lay:?} x:{lx:?}", T::DTYPE);
        let a = Matrix::new(self.a.view(), lay);
        let xs = vstore(&self.x, lx, T::nan());
        let x = vview(lx, &xs);
        let y = match exec {
            None => parla::matvec(&a.view(), &x),
            Some(e) => e.matvec(&a.view(), &x),
        }
        .unwrap_or_else(|e| panic!("{}: {e}", ctx()));
        assert_gauge(&y.view(), &self.r, T::one(), T::zero(), None, &ctx);
    }
}

// ---------------------------------------------------------------------------------------------
// gemv and matvec against the reference

fn check_all_sizes<T: Scalar>(seed: u64) {
    let mut rng = common::rng(seed);
    for m in SIZES {
        for n in SIZES {
            let case = Case::<T>::new(&mut rng, m, n);
            case.run_all();
            for lay in MLAYS {
                for lx in VLAYS {
                    case.check_matvec(None, lay, lx);
                }
            }
        }
    }
}

#[test]
fn gemv_and_matvec_f64() {
    check_all_sizes::<f64>(1);
}

#[test]
fn gemv_and_matvec_f32() {
    check_all_sizes::<f32>(2);
}

#[test]
fn every_engine_any_thread_count_matches_reference() {
    for engine in [Engine::Blas, Engine::RayonBlas, Engine::Rayon] {
        engine_any_thread_count_matches_reference(engine);
    }
}

/// `engine` at 1, 2, 3 threads (3 > the dev machine's cores), both transposes, all layouts.
fn engine_any_thread_count_matches_reference(engine: Engine) {
    let mut rng = common::rng(3);
    for (m, n) in [(257, 257), (257, 3), (1, 257), (65, 31)] {
        let case = Case::<f64>::new(&mut rng, m, n);
        for t in 1..=3 {
            let exec = Exec::new(engine, t).unwrap();
            for (i, ta) in [Trans::No, Trans::Yes].into_iter().enumerate() {
                let a = Matrix::new(case.stored(ta), MLAYS[(i + t) % 3]);
                case.check_gemv(
                    Some(&exec),
                    &a,
                    ta,
                    VLAYS[t % 3],
                    VLAYS[(t + i) % 3],
                    0.7,
                    1.3,
                );
                case.check_gemv(Some(&exec), &a, ta, VLAYS[(t + 1) % 3], VLAYS[i], 1.0, 0.0);
            }
            case.check_matvec(Some(&exec), MLAYS[t % 3], VLAYS[(t + 2) % 3]);
        }
    }
}

/// With α = 0, `A` and `x` are not read: NaN in them must not reach `y`.
#[test]
fn alpha_zero_does_not_read_a_or_x() {
    let mut rng = common::rng(4);
    for (m, n) in [(1, 1), (3, 7), (65, 31), (257, 0)] {
        let mut case = Case::<f64>::new(&mut rng, m, n);
        case.a.fill(f64::NAN);
        case.x.fill(f64::NAN);
        case.r = Reference {
            ax: Array1::zeros(m),
            abs: Array1::zeros(m),
        };
        for ta in [Trans::No, Trans::Yes] {
            for lay in MLAYS {
                let a = Matrix::new(case.stored(ta), lay);
                for ly in VLAYS {
                    for beta in betas::<f64>() {
                        case.check_gemv(None, &a, ta, VLay::Strided, ly, 0.0, beta);
                    }
                }
            }
        }
    }
}

/// β = 0 with NaN in `y`: the NaN is overwritten, for every y layout (spelled out; the gauge
/// checks it too).
#[test]
fn beta_zero_overwrites_nan_in_y() {
    let mut rng = common::rng(5);
    for (m, n) in [(1, 1), (31, 65), (257, 1), (3, 0)] {
        let a = common::random(&mut rng, m, n);
        let x = common::random_vec(&mut rng, n);
        for ly in VLAYS {
            for ta in [Trans::No, Trans::Yes] {
                let stored = match ta {
                    Trans::No => a.clone(),
                    Trans::Yes | Trans::Conj => a.t().to_owned(),
                };
                let mut ys = vstore(&Array1::from_elem(m, f64::NAN), ly, 0.0);
                let mut y = vview_mut(ly, &mut ys);
                parla::blas_level::gemv(0.7, &stored, ta, &x, 0.0, &mut y).unwrap();
                assert!(
                    y.iter().all(|v| !v.is_nan()),
                    "{m}x{n} {ta:?} y:{ly:?}: {y}"
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Errors

#[test]
fn gemv_shape_mismatch() {
    let a = Array2::<f64>::ones((2, 3));
    let y0 = Array1::from_elem(2, 5.0);

    // x does not fit op(A) = A (2×3).
    let mut y = y0.clone();
    let err =
        parla::blas_level::gemv(1.0, &a, Trans::No, &Array1::zeros(2), 0.0, &mut y).unwrap_err();
    assert_eq!(
        err,
        Error::ShapeMismatch {
            op: "gemv",
            left: vec![2, 3],
            right: vec![2]
        }
    );
    // y does not fit.
    let mut y3 = Array1::from_elem(3, 5.0);
    let err =
        parla::blas_level::gemv(1.0, &a, Trans::No, &Array1::zeros(3), 0.0, &mut y3).unwrap_err();
    assert_eq!(
        err,
        Error::ShapeMismatch {
            op: "gemv",
            left: vec![2, 3],
            right: vec![3]
        }
    );
    assert_eq!(
        y3,
        Array1::from_elem(3, 5.0),
        "a failed gemv must not write y"
    );
    // With Trans::Yes the shapes are those of op(A) = Aᵀ (3×2): a 3-vector x does not fit.
    let err =
        parla::blas_level::gemv(1.0, &a, Trans::Yes, &Array1::zeros(3), 0.0, &mut y3).unwrap_err();
    assert_eq!(
        err,
        Error::ShapeMismatch {
            op: "gemv",
            left: vec![3, 2],
            right: vec![3]
        }
    );
    // ... and a 2-vector y does not either.
    let err =
        parla::blas_level::gemv(1.0, &a, Trans::Yes, &Array1::zeros(2), 0.0, &mut y).unwrap_err();
    assert_eq!(
        err,
        Error::ShapeMismatch {
            op: "gemv",
            left: vec![3, 2],
            right: vec![2]
        }
    );
    assert_eq!(y, y0, "a failed gemv must not write y");
    // Strided views report their logical lengths.
    let big = Array1::<f64>::zeros(9);
    let err = parla::blas_level::gemv(1.0, &a, Trans::No, &big.slice(s![..;3]), 0.0, &mut y3)
        .unwrap_err();
    assert_eq!(
        err,
        Error::ShapeMismatch {
            op: "gemv",
            left: vec![2, 3],
            right: vec![3]
        }
    );
}

#[test]
fn matvec_shape_mismatch() {
    let a = Array2::<f32>::ones((4, 3));
    assert_eq!(
        parla::matvec(&a, &Array1::zeros(4)).unwrap_err(),
        Error::ShapeMismatch {
            op: "matvec",
            left: vec![4, 3],
            right: vec![4]
        }
    );
    assert_eq!(
        parla::matvec(&a.t(), &Array1::zeros(3)).unwrap_err(),
        Error::ShapeMismatch {
            op: "matvec",
            left: vec![3, 4],
            right: vec![3]
        }
    );
    assert_eq!(
        parla::matvec(&Array2::<f64>::zeros((0, 2)), &Array1::zeros(0)).unwrap_err(),
        Error::ShapeMismatch {
            op: "matvec",
            left: vec![0, 2],
            right: vec![0]
        }
    );
}

#[test]
fn empty_matvec() {
    // n = 0: A·x is a vector of zeros; m = 0: an empty vector.
    let y = parla::matvec(&Array2::<f64>::zeros((5, 0)), &Array1::zeros(0)).unwrap();
    assert_eq!(y, Array1::<f64>::zeros(5));
    let y = parla::matvec(&Array2::<f64>::zeros((0, 5)), &Array1::ones(5)).unwrap();
    assert_eq!(y.len(), 0);
}

const BIG: usize = i32::MAX as usize + 1;

#[test]
fn gemv_dimension_above_i32_max_is_too_large() {
    let one = Array2::<f64>::ones((1, 1));
    let wide = one.broadcast((1, BIG)).unwrap();
    let _serial = lock_huge_tests();
    let before = HUGE_REQUESTS.load(Ordering::SeqCst);
    let x1 = Array1::<f64>::ones(1);
    let xb = x1.broadcast(BIG).unwrap();
    let mut y = Array1::from_elem(1, 3.0);
    let err = parla::blas_level::gemv(1.0, &wide, Trans::No, &xb, 1.0, &mut y).unwrap_err();
    assert!(
        matches!(err, Error::TooLarge { op: "gemv", what: "columns", value, .. } if value == BIG),
        "{err:?}"
    );
    let err = parla::blas_level::gemv(1.0, &wide.t(), Trans::Yes, &xb, 1.0, &mut y).unwrap_err();
    assert!(matches!(err, Error::TooLarge { op: "gemv", .. }), "{err:?}");
    assert_eq!(y[0], 3.0);
    assert_eq!(
        HUGE_REQUESTS.load(Ordering::SeqCst),
        before,
        "a ≥ 1 GiB allocation was attempted"
    );
}

/// `matvec` allocates its `m`-vector result before any check: for `m = 2³¹` it asks for 16 GiB
/// (refused here, so it reports `TooLarge { op: "matvec", what: "bytes" }`; on a machine that
/// overcommits the allocation succeeds and the error then comes from gemv as
/// `TooLarge { op: "gemv", what: "rows" }`, naming the wrong op).
#[test]

fn matvec_rows_above_i32_max_is_too_large_without_allocating() {
    let one = Array2::<f64>::ones((1, 1));
    let tall = one.broadcast((BIG, 1)).unwrap();
    let x = Array1::<f64>::ones(1);
    let _serial = lock_huge_tests();
    let before = HUGE_REQUESTS.load(Ordering::SeqCst);
    let err = parla::matvec(&tall, &x).unwrap_err();
    let attempts = HUGE_REQUESTS.load(Ordering::SeqCst) - before;
    assert!(
        attempts == 0
            && matches!(err, Error::TooLarge { op: "matvec", what: "rows", value, .. } if value == BIG),
        "err {err:?}, {attempts} allocation(s) of ≥ 1 GiB attempted"
    );
}

/// Zero strides: a broadcast `x` and a broadcast `A` (BLAS cannot walk them in place).
#[test]
fn broadcast_operands() {
    let mut rng = common::rng(6);
    for (m, n) in [(1, 1), (3, 2), (65, 31), (7, 257)] {
        let row = common::random(&mut rng, 1, n);
        let a = row.broadcast((m, n)).unwrap();
        let x1 = common::random_vec(&mut rng, 1);
        let x = x1.broadcast(n).unwrap();
        let r = Reference::new(&a.to_owned(), &x.to_owned());
        let y0 = common::random_vec(&mut rng, m);
        let ctx = || format!("broadcast {m}x{n}");
        let y = parla::matvec(&a, &x).unwrap();
        assert_gauge(&y.view(), &r, 1.0, 0.0, None, &ctx);
        let mut y = y0.clone();
        parla::blas_level::gemv(0.7, &a.t(), Trans::Yes, &x, 1.3, &mut y).unwrap();
        assert_gauge(&y.view(), &r, 0.7, 1.3, Some(&y0), &ctx);
    }
}

#[test]
fn gemv_leaves_y_untouched_when_it_fails() {
    // A 4 × (2³¹−1) zero-stride view needs a 64 GiB copy, which is refused: the error must come
    // before y (β = 0) is cleared.
    let n = i32::MAX as usize;
    let a_store = Array2::<f64>::zeros((1, 1));
    let a = a_store.broadcast((4, n)).unwrap();
    let x_store = Array1::<f64>::zeros(1);
    let x = x_store.broadcast(n).unwrap();
    let mut y = Array1::from_elem(4, f64::NAN);
    let r = parla::blas_level::gemv(1.0, &a, Trans::No, &x, 0.0, &mut y);
    assert!(matches!(r, Err(Error::TooLarge { .. })), "{r:?}");
    assert!(y.iter().all(|v| v.is_nan()), "y was modified: {y}");
    // Every engine, whatever `auto` would pick: a typed error, never an abort on the copy.
    for engine in [Engine::Blas, Engine::RayonBlas, Engine::Rayon] {
        for t in [1, 2] {
            let r = Exec::new(engine, t)
                .unwrap()
                .gemv(1.0, &a, Trans::No, &x, 0.0, &mut y);
            assert!(
                matches!(r, Err(Error::TooLarge { .. })),
                "{engine} {t}t: {r:?}"
            );
            assert!(
                y.iter().all(|v| v.is_nan()),
                "{engine} {t}t: y was modified: {y}"
            );
        }
    }
}

#[test]
fn rayon_engines_all_sizes_through_the_free_functions() {
    // The full size × layout × α × β sweep on the rayon engines with 1, 2 and 3 threads
    // (scoped defaults).
    for (engine, t) in [Engine::RayonBlas, Engine::Rayon]
        .into_iter()
        .flat_map(|e| [1, 2, 3].map(move |t| (e, t)))
    {
        parla::with_backend(engine, || {
            parla::with_num_threads(t, || {
                check_all_sizes::<f64>(11);
                check_all_sizes::<f32>(12);
            })
            .unwrap()
        });
    }
}
