//! `gemm` and `matmul` against the reference-BLAS gauge:
//!
//! |C − C_ref| ≤ 16·ε·(|α|·Σ_p |A[i,p]||B[p,j]| + |β|·|C_in[i,j]|), elementwise,
//!
//! with `C_ref = α·A·B + β·C_in` from naive loops with compensated sums (tests/common).
//! Operands come in C order, Fortran order, as a stored transpose (`Trans::Yes`), as strided
//! sub-views (NaN in the storage around them, so a stray read shows) and reversed; `C` also as
//! sub-views of a larger array whose other cells must keep their exact bits.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use ndarray::{s, Array2, ArrayView2, ArrayViewMut2, ShapeBuilder};
use parla::{Engine, Error, Exec, Scalar, Trans};
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

// ---------------------------------------------------------------------------------------------
// An allocator that refuses (and counts) huge requests, so the `TooLarge` tests can show that no
// allocation is attempted before the size check. Nothing else in this binary allocates 1 GiB.

const HUGE_BYTES: usize = 1 << 30;
static HUGE_REQUESTS: AtomicUsize = AtomicUsize::new(0);

struct RefuseHuge;

impl RefuseHuge {
    fn refuse(size: usize) -> bool {
        if size >= HUGE_BYTES {
            HUGE_REQUESTS.fetch_add(1, Ordering::SeqCst);
            true
        } else {
            false
        }
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments, or returns null (an
// allowed answer meaning "allocation failed").
unsafe impl GlobalAlloc for RefuseHuge {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if Self::refuse(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: forwarded contract of `GlobalAlloc::alloc`.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if Self::refuse(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: forwarded contract of `GlobalAlloc::alloc_zeroed`.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` with this layout (we never hand out anything else).
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if Self::refuse(new_size) {
            return std::ptr::null_mut();
        }
        // SAFETY: forwarded contract of `GlobalAlloc::realloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: RefuseHuge = RefuseHuge;

// ---------------------------------------------------------------------------------------------
// Element types

trait Elem: Scalar {
    fn random(rng: &mut ChaCha8Rng, m: usize, n: usize) -> Array2<Self>;
    fn embed(a: &Array2<Self>, guard: Self) -> Array2<Self>;
    fn sview(big: &Array2<Self>, m: usize, n: usize) -> ArrayView2<'_, Self>;
}

impl Elem for f64 {
    fn random(rng: &mut ChaCha8Rng, m: usize, n: usize) -> Array2<f64> {
        common::random(rng, m, n)
    }
    fn embed(a: &Array2<f64>, guard: f64) -> Array2<f64> {
        common::embed_strided(a, guard)
    }
    fn sview(big: &Array2<f64>, m: usize, n: usize) -> ArrayView2<'_, f64> {
        common::strided_view(big, m, n)
    }
}

impl Elem for f32 {
    fn random(rng: &mut ChaCha8Rng, m: usize, n: usize) -> Array2<f32> {
        common::random_f32(rng, m, n)
    }
    // Same geometry as `common::embed_strided` / `common::strided_view`.
    fn embed(a: &Array2<f32>, guard: f32) -> Array2<f32> {
        let (m, n) = a.dim();
        let mut big = Array2::from_elem((2 * m + 2, 3 * n + 3), guard);
        big.slice_mut(s![1..1 + 2 * m;2, 2..2 + 3 * n;3]).assign(a);
        big
    }
    fn sview(big: &Array2<f32>, m: usize, n: usize) -> ArrayView2<'_, f32> {
        big.slice(s![1..1 + 2 * m;2, 2..2 + 3 * n;3])
    }
}

fn to64<T: Scalar>(a: &Array2<T>) -> Array2<f64> {
    a.mapv(T::as_f64)
}

// ---------------------------------------------------------------------------------------------
// Operand layouts (A and B)

#[derive(Debug, Clone, Copy, PartialEq)]
enum OpLay {
    /// C order, `Trans::No`.
    C,
    /// Fortran order, `Trans::No`.
    F,
    /// The transpose stored in C order, passed with `Trans::Yes`.
    T,
    /// A strided sub-view (rows every 2nd, columns every 3rd) of a NaN-filled storage.
    S,
    /// Both axes reversed (negative strides).
    R,
}

const OPLAYS: [OpLay; 5] = [OpLay::C, OpLay::F, OpLay::T, OpLay::S, OpLay::R];

/// A logical `m × n` operand `op(X)` stored in layout `lay`.
struct Operand<T> {
    store: Array2<T>,
    lay: OpLay,
    m: usize,
    n: usize,
}

impl<T: Elem> Operand<T> {
    fn new(x: &Array2<T>, lay: OpLay) -> Self {
        let (m, n) = x.dim();
        let store = match lay {
            OpLay::C => x.as_standard_layout().into_owned(),
            OpLay::F => common::fortran(x),
            OpLay::T => x.t().as_standard_layout().into_owned(),
            OpLay::S => T::embed(x, T::nan()),
            OpLay::R => Array2::from_shape_fn((m, n), |(i, j)| x[[m - 1 - i, n - 1 - j]]),
        };
        let op = Operand { store, lay, m, n };
        let (v, t) = op.view();
        let logical = match t {
            Trans::No => v,
            Trans::Yes | Trans::Conj => v.reversed_axes(),
        };
        let same = logical.dim() == x.dim()
            && logical
                .iter()
                .zip(x)
                .all(|(p, q)| p.as_f64().to_bits() == q.as_f64().to_bits());
        assert!(same, "operand layout {lay:?} does not hold x");
        op
    }

    /// The view to pass and its transpose flag; `op(view)` is the logical operand.
    fn view(&self) -> (ArrayView2<'_, T>, Trans) {
        match self.lay {
            OpLay::C | OpLay::F => (self.store.view(), Trans::No),
            OpLay::T => (self.store.view(), Trans::Yes),
            OpLay::S => (T::sview(&self.store, self.m, self.n), Trans::No),
            OpLay::R => (self.store.slice(s![..;-1, ..;-1]), Trans::No),
        }
    }

    /// The logical operand as a view without a transpose flag (for `matmul`).
    fn plain(&self) -> ArrayView2<'_, T> {
        let (v, t) = self.view();
        match t {
            Trans::No => v,
            Trans::Yes | Trans::Conj => v.reversed_axes(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Output layouts (C)

#[derive(Debug, Clone, Copy, PartialEq)]
enum CLay {
    /// An owned C-order array.
    C,
    /// An owned Fortran-order array.
    F,
    /// The transpose of an owned `n × m` C-order array (a column-major view).
    T,
    /// `big.slice_mut(s![1..1+2*m;2, 2..2+3*n;3])`: no unit stride, guard cells all around.
    S,
    /// A block with unit column stride and a leading dimension larger than `n`.
    Block,
    /// A block of a Fortran-order array: unit row stride, leading dimension larger than `m`.
    BlockF,
    /// Reversed rows and every 2nd column reversed: negative strides.
    Neg,
}

const CLAYS: [CLay; 7] = [
    CLay::C,
    CLay::F,
    CLay::T,
    CLay::S,
    CLay::Block,
    CLay::BlockF,
    CLay::Neg,
];

fn c_storage<A: Clone>(lay: CLay, m: usize, n: usize, fill: A) -> Array2<A> {
    match lay {
        CLay::C => Array2::from_elem((m, n), fill),
        CLay::F => Array2::from_elem((m, n).f(), fill),
        CLay::T => Array2::from_elem((n, m), fill),
        CLay::S => Array2::from_elem((2 * m + 2, 3 * n + 3), fill),
        CLay::Block => Array2::from_elem((m + 3, n + 4), fill),
        CLay::BlockF => Array2::from_elem((m + 3, n + 4).f(), fill),
        CLay::Neg => Array2::from_elem((m + 2, 2 * n + 2), fill),
    }
}

fn c_view_mut<A>(lay: CLay, big: &mut Array2<A>, m: usize, n: usize) -> ArrayViewMut2<'_, A> {
    match lay {
        CLay::C | CLay::F => big.view_mut(),
        CLay::T => big.view_mut().reversed_axes(),
        CLay::S => big.slice_mut(s![1..1 + 2 * m;2, 2..2 + 3 * n;3]),
        CLay::Block | CLay::BlockF => big.slice_mut(s![1..1 + m, 2..2 + n]),
        CLay::Neg => big.slice_mut(s![1..1 + m;-1, 1..1 + 2 * n;-2]),
    }
}

/// Asserts every cell of `big` outside the `C` view keeps the bits it had in `before`.
fn assert_guards<T: Scalar>(
    lay: CLay,
    big: &Array2<T>,
    before: &Array2<T>,
    ctx: &dyn Fn() -> String,
) {
    let (m, n) = match lay {
        CLay::C | CLay::F | CLay::T => return, // no cells outside the view
        CLay::S => ((big.nrows() - 2) / 2, (big.ncols() - 3) / 3),
        CLay::Block | CLay::BlockF => (big.nrows() - 3, big.ncols() - 4),
        CLay::Neg => (big.nrows() - 2, (big.ncols() - 2) / 2),
    };
    let mut mask = c_storage(lay, m, n, false);
    assert_eq!(mask.dim(), big.dim());
    c_view_mut(lay, &mut mask, m, n).fill(true);
    for ((idx, &inside), (&now, &old)) in mask.indexed_iter().zip(big.iter().zip(before.iter())) {
        if !inside && now.as_f64().to_bits() != old.as_f64().to_bits() {
            panic!("{}: guard cell {idx:?} changed from {old} to {now}", ctx());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The gauge

/// `A·B` and `Σ|A||B|` of a case, in f64 from the exact f64 images of the inputs.
struct Reference {
    ab: Array2<f64>,
    abs: Array2<f64>,
}

impl Reference {
    fn new<T: Scalar>(a: &Array2<T>, b: &Array2<T>) -> Self {
        let (a, b) = (to64(a), to64(b));
        Reference {
            ab: common::ref_matmul(&a.view(), &b.view()),
            abs: common::abs_matmul(&a.view(), &b.view()),
        }
    }
}

/// Checks `got` against `α·A·B + β·C_in` (`c_in = None` when β = 0: its content is never used).
fn assert_gauge<T: Scalar>(
    got: &ArrayView2<T>,
    r: &Reference,
    alpha: T,
    beta: T,
    c_in: Option<&Array2<T>>,
    ctx: &dyn Fn() -> String,
) {
    assert_eq!(got.dim(), r.ab.dim(), "{}", ctx());
    let eps = T::EPS.as_f64();
    let (a64, b64) = (alpha.as_f64(), beta.as_f64());
    for ((i, j), &g) in got.indexed_iter() {
        let c = c_in.map_or(0.0, |c| c[[i, j]].as_f64());
        let want = a64 * r.ab[[i, j]] + b64 * c;
        let bound = 16.0 * eps * (a64.abs() * r.abs[[i, j]] + b64.abs() * c.abs());
        let err = (g.as_f64() - want).abs();
        // A NaN result makes `err` NaN.
        if err.is_nan() || err > bound {
            panic!(
                "{}: C[{i},{j}] = {:e}, want {want:e}, err {err:e} > gauge {bound:e}",
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

fn c_guard<T: Scalar>() -> T {
    T::of(-999.25)
}

/// One case: logical A (m×k), B (k×n), C_in (m×n) and the reference.
struct Case<T> {
    m: usize,
    n: usize,
    k: usize,
    a: Array2<T>,
    b: Array2<T>,
    c0: Array2<T>,
    r: Reference,
}

impl<T: Elem> Case<T> {
    fn new(rng: &mut ChaCha8Rng, m: usize, n: usize, k: usize) -> Self {
        let a = T::random(rng, m, k);
        let b = T::random(rng, k, n);
        let c0 = T::random(rng, m, n);
        let r = Reference::new(&a, &b);
        Case {
            m,
            n,
            k,
            a,
            b,
            c0,
            r,
        }
    }

    /// Runs `exec.gemm` (or `parla::blas_level::gemm` if `exec` is None) once and checks everything.
    #[allow(clippy::too_many_arguments)]
    fn check_gemm(
        &self,
        exec: Option<&Exec>,
        oa: &Operand<T>,
        ob: &Operand<T>,
        lc: CLay,
        alpha: T,
        beta: T,
    ) {
        let (m, n, k) = (self.m, self.n, self.k);
        let ctx = || {
            format!(
                "gemm {} m={m} n={n} k={k} A:{:?} B:{:?} C:{lc:?} α={alpha} β={beta} exec={exec:?}",
                T::DTYPE,
                oa.lay,
                ob.lay
            )
        };
        let mut big = c_storage(lc, m, n, c_guard::<T>());
        {
            let mut c = c_view_mut(lc, &mut big, m, n);
            if beta == T::zero() {
                c.fill(T::nan());
            } else {
                c.assign(&self.c0);
            }
        }
        let before = big.clone();
        let (av, ta) = oa.view();
        let (bv, tb) = ob.view();
        let mut c = c_view_mut(lc, &mut big, m, n);
        match exec {
            None => parla::blas_level::gemm(alpha, &av, ta, &bv, tb, beta, &mut c),
            Some(e) => e.gemm(alpha, &av, ta, &bv, tb, beta, &mut c),
        }
        .unwrap_or_else(|e| panic!("{}: {e}", ctx()));
        let c_in = (beta != T::zero()).then_some(&self.c0);
        assert_gauge(&c.view(), &self.r, alpha, beta, c_in, &ctx);
        assert_guards(lc, &big, &before, &ctx);
    }

    fn check_matmul(&self, exec: Option<&Exec>, oa: &Operand<T>, ob: &Operand<T>) {
        let (m, n, k) = (self.m, self.n, self.k);
        let ctx = || {
            format!(
                "matmul {} m={m} n={n} k={k} A:{:?} B:{:?} exec={exec:?}",
                T::DTYPE,
                oa.lay,
                ob.lay
            )
        };
        let (a, b) = (oa.plain(), ob.plain());
        let c = match exec {
            None => parla::matmul(&a, &b),
            Some(e) => e.matmul(&a, &b),
        }
        .unwrap_or_else(|e| panic!("{}: {e}", ctx()));
        assert!(c.is_standard_layout(), "{}: result is not C order", ctx());
        assert_gauge(&c.view(), &self.r, T::one(), T::zero(), None, &ctx);
    }

    fn operands(&self) -> (Vec<Operand<T>>, Vec<Operand<T>>) {
        (
            OPLAYS.iter().map(|&l| Operand::new(&self.a, l)).collect(),
            OPLAYS.iter().map(|&l| Operand::new(&self.b, l)).collect(),
        )
    }

    /// Every A layout × B layout × C layout × α × β.
    ///
    /// `matmul` goes through the free function; `gemm` through `Exec::current()` resolved once
    /// (what the free function does on every call): resolving it costs about a dozen system
    /// calls per call (`available_parallelism` re-reads the cgroup files), which would dominate
    /// the ~200 000 tiny products here. `run_covering` exercises the free `gemm`.
    fn run_full(&self) {
        let current = Exec::current().unwrap();
        let (oas, obs) = self.operands();
        for oa in &oas {
            for ob in &obs {
                self.check_matmul(None, oa, ob);
                for lc in CLAYS {
                    for alpha in alphas::<T>() {
                        for beta in betas::<T>() {
                            self.check_gemm(Some(&current), oa, ob, lc, alpha, beta);
                        }
                    }
                }
            }
        }
    }

    /// Every (A layout, B layout) pair once, the C layouts in rotation, all α × β.
    fn run_covering(&self) {
        let (oas, obs) = self.operands();
        for (i, oa) in oas.iter().enumerate() {
            for (j, ob) in obs.iter().enumerate() {
                self.check_matmul(None, oa, ob);
                let lc = CLAYS[(i * OPLAYS.len() + j) % CLAYS.len()];
                for alpha in alphas::<T>() {
                    for beta in betas::<T>() {
                        self.check_gemm(None, oa, ob, lc, alpha, beta);
                    }
                }
            }
        }
    }
}

const SIZES: [usize; 9] = [0, 1, 2, 3, 7, 31, 64, 65, 257];
const SMALL: [usize; 5] = [0, 1, 2, 3, 7];

/// Triples with 257 in each position (and the three all at once).
const WITH_257: [(usize, usize, usize); 13] = [
    (257, 1, 1),
    (1, 257, 1),
    (1, 1, 257),
    (257, 7, 31),
    (3, 257, 65),
    (64, 2, 257),
    (257, 257, 3),
    (0, 257, 257),
    (257, 0, 64),
    (65, 31, 0),
    (257, 64, 257),
    (31, 257, 257),
    (257, 257, 257),
];

/// `count` triples of SIZES, each with at least one entry in {31, 64, 65} and none 257.
fn sampled_medium(rng: &mut ChaCha8Rng, count: usize) -> Vec<(usize, usize, usize)> {
    let pool: Vec<usize> = SIZES.iter().copied().filter(|&s| s != 257).collect();
    let mut all = Vec::new();
    for &m in &pool {
        for &n in &pool {
            for &k in &pool {
                if m.max(n).max(k) >= 31 {
                    all.push((m, n, k));
                }
            }
        }
    }
    let mut picked: Vec<_> = all.choose_multiple(rng, count).copied().collect();
    for t in [
        (64, 64, 64),
        (65, 65, 65),
        (31, 64, 65),
        (65, 1, 64),
        (7, 65, 31),
    ] {
        if !picked.contains(&t) {
            picked.push(t);
        }
    }
    picked
}

#[test]
fn gemm_f64_small_full_cross_product() {
    let mut rng = common::rng(1);
    for m in SMALL {
        for n in SMALL {
            for k in SMALL {
                Case::<f64>::new(&mut rng, m, n, k).run_full();
            }
        }
    }
}

#[test]
fn gemm_f64_medium_sampled() {
    let mut rng = common::rng(2);
    for (m, n, k) in sampled_medium(&mut rng, 30) {
        Case::<f64>::new(&mut rng, m, n, k).run_covering();
    }
}

#[test]
fn gemm_f64_257_in_each_position() {
    let mut rng = common::rng(3);
    for (m, n, k) in WITH_257 {
        Case::<f64>::new(&mut rng, m, n, k).run_covering();
    }
}

#[test]
fn gemm_f32_small_full_cross_product() {
    let mut rng = common::rng(4);
    for m in [0, 1, 3, 7] {
        for n in [0, 1, 3, 7] {
            for k in [0, 2, 7] {
                Case::<f32>::new(&mut rng, m, n, k).run_full();
            }
        }
    }
}

#[test]
fn gemm_f32_sampled() {
    let mut rng = common::rng(5);
    let mut triples = sampled_medium(&mut rng, 8);
    triples.extend([(257, 3, 31), (2, 257, 65), (65, 31, 257), (257, 257, 257)]);
    for (m, n, k) in triples {
        Case::<f32>::new(&mut rng, m, n, k).run_covering();
    }
}

// ---------------------------------------------------------------------------------------------
// α = 0: A and B are not read

fn check_alpha_zero_ignores_nan<T: Elem>(seed: u64) {
    let mut rng = common::rng(seed);
    for (m, n, k) in [
        (1, 1, 1),
        (3, 4, 5),
        (7, 1, 2),
        (65, 31, 64),
        (257, 3, 257),
        (4, 5, 0),
    ] {
        let mut case = Case::<T>::new(&mut rng, m, n, k);
        case.a.fill(T::nan());
        case.b.fill(T::nan());
        // The reference of α = 0 is β·C_in: A·B and Σ|A||B| enter multiplied by zero.
        case.r = Reference {
            ab: Array2::zeros((m, n)),
            abs: Array2::zeros((m, n)),
        };
        let (oas, obs) = case.operands();
        for (oa, ob) in oas.iter().zip(&obs) {
            for lc in CLAYS {
                for beta in betas::<T>() {
                    case.check_gemm(None, oa, ob, lc, T::zero(), beta);
                }
            }
        }
    }
}

#[test]
fn alpha_zero_does_not_read_a_or_b() {
    check_alpha_zero_ignores_nan::<f64>(10);
    check_alpha_zero_ignores_nan::<f32>(11);
}

/// With β = 0 and NaN in C, only NaN in A or B may produce NaN: a NaN-free product of
/// NaN-filled C must be NaN-free (the gauge checks this too; this spells it out).
#[test]
fn beta_zero_overwrites_nan_in_c() {
    let mut rng = common::rng(12);
    for (m, n, k) in [(1, 1, 1), (2, 3, 1), (31, 64, 65), (257, 7, 3)] {
        let case = Case::<f64>::new(&mut rng, m, n, k);
        let (oas, obs) = case.operands();
        for lc in CLAYS {
            let mut big = c_storage(lc, m, n, c_guard::<f64>());
            c_view_mut(lc, &mut big, m, n).fill(f64::NAN);
            let (av, ta) = oas[0].view();
            let (bv, tb) = obs[3].view();
            let mut c = c_view_mut(lc, &mut big, m, n);
            parla::blas_level::gemm(0.7, &av, ta, &bv, tb, 0.0, &mut c).unwrap();
            assert!(
                c.iter().all(|x| !x.is_nan()),
                "NaN left in C ({lc:?}, {m}x{n}x{k})"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Engines

#[test]
fn blas_engine_any_thread_count_matches_reference() {
    for engine in [Engine::Blas, Engine::RayonBlas] {
        engine_any_thread_count_matches_reference(engine);
    }
}

/// `engine` at 1, 2 and 3 threads (3 > the dev machine's cores) against the reference, over
/// shapes that split along rows (m ≥ n) and along columns (m < n), with panels of uneven size.
fn engine_any_thread_count_matches_reference(engine: Engine) {
    let mut rng = common::rng(20);
    for (m, n, k) in [
        (257, 257, 257),
        (257, 65, 31),
        (64, 257, 7),
        (3, 7, 257),
        (65, 64, 1),
    ] {
        let case = Case::<f64>::new(&mut rng, m, n, k);
        let (oas, obs) = case.operands();
        for t in 1..=3 {
            let exec = Exec::new(engine, t).unwrap();
            for (i, oa) in oas.iter().enumerate() {
                let ob = &obs[(i + t) % obs.len()];
                case.check_matmul(Some(&exec), oa, ob);
                let lc = CLAYS[(i + 2 * t) % CLAYS.len()];
                for beta in betas::<f64>() {
                    case.check_gemm(Some(&exec), oa, ob, lc, 0.7, beta);
                }
            }
        }
        let case32 = Case::<f32>::new(&mut rng, m, n, k);
        let (oas, obs) = case32.operands();
        for t in 1..=3 {
            let exec = Exec::new(engine, t).unwrap();
            case32.check_matmul(Some(&exec), &oas[t], &obs[t + 1]);
            case32.check_gemm(Some(&exec), &oas[t + 1], &obs[t], CLAYS[t], 0.7, 1.3);
        }
    }
}

#[test]
fn auto_picks_engine_and_threads_by_size() {
    let auto = Exec::new(Engine::Auto, 2).unwrap();
    if matches!(
        parla::tuning::profile_status(),
        Ok(parla::tuning::ProfileStatus::InUse { .. })
    ) {
        // This machine's tuning profile decides (tests/tune_profile.rs covers that); the
        // built-in rules below are what runs without one. Whatever it picks stays in budget.
        for n in [16, 64, 1024] {
            let p = auto
                .plan(
                    parla::Op::Matmul,
                    parla::Dtype::F64,
                    parla::Shape::Product { m: n, n, k: n },
                )
                .unwrap();
            assert!(p.threads <= 2 && p.engine != Engine::Auto, "{p:?}");
        }
        return;
    }
    // Parla's kernels only where they are wider than OpenBLAS's (the rule says which).
    let simd = auto.gemm_kernel::<f64>().isa != parla::tuning::Isa::Portable;
    let p = auto
        .plan(
            parla::Op::Matmul,
            parla::Dtype::F64,
            parla::Shape::Product {
                m: 16,
                n: 16,
                k: 16,
            },
        )
        .unwrap();
    // OpenBLAS gets the budget at every size: it keeps small products on one thread itself.
    let budget = 2.min(parla::threads::usable_cores());
    assert_eq!(
        (p.engine, p.threads),
        (Engine::Blas, budget),
        "tiny: OpenBLAS with the budget"
    );
    let p = auto
        .plan(
            parla::Op::Matmul,
            parla::Dtype::F64,
            parla::Shape::Product {
                m: 64,
                n: 64,
                k: 64,
            },
        )
        .unwrap();
    // Small: parla's kernels (where wider) on one thread, OpenBLAS with the budget.
    let small = if p.engine == Engine::Rayon { 1 } else { budget };
    assert_eq!(p.threads, small, "small: {p:?}");
    let p = auto
        .plan(
            parla::Op::Matmul,
            parla::Dtype::F64,
            parla::Shape::Product {
                m: 1024,
                n: 1024,
                k: 1024,
            },
        )
        .unwrap();
    assert_eq!(p.threads, 2, "large: the whole budget");
    if simd && p.rule.contains("wider") {
        assert_eq!(
            auto.plan(
                parla::Op::Matmul,
                parla::Dtype::F64,
                parla::Shape::Product {
                    m: 64,
                    n: 64,
                    k: 64
                }
            )
            .unwrap()
            .engine,
            Engine::Rayon
        );
        assert_eq!(p.engine, Engine::Rayon);
    }
    // A fixed engine is never overridden, whatever the size.
    let fixed = Exec::new(Engine::RayonBlas, 2)
        .unwrap()
        .plan(
            parla::Op::Matmul,
            parla::Dtype::F64,
            parla::Shape::Product { m: 4, n: 4, k: 4 },
        )
        .unwrap();
    assert_eq!((fixed.engine, fixed.threads), (Engine::RayonBlas, 2));
    // Inside a rayon worker: one thread.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let inner = pool.install(|| {
        auto.plan(
            parla::Op::Matmul,
            parla::Dtype::F64,
            parla::Shape::Product {
                m: 1024,
                n: 1024,
                k: 1024,
            },
        )
        .unwrap()
    });
    assert_eq!(inner.threads, 1);
    // The products themselves, at each size class, against the reference.
    let mut rng = common::rng(23);
    for n in [5, 40, 200] {
        let case = Case::<f64>::new(&mut rng, n, n + 3, n + 1);
        let (oas, obs) = case.operands();
        case.check_matmul(Some(&auto), &oas[0], &obs[1]);
        case.check_gemm(Some(&auto), &oas[2], &obs[3], CLay::C, 0.7, 1.3);
    }
}

#[test]
fn auto_engine_matches_reference() {
    let mut rng = common::rng(21);
    let case = Case::<f64>::new(&mut rng, 65, 31, 64);
    let (oas, obs) = case.operands();
    let exec = Exec::new(Engine::Auto, 2).unwrap();
    case.check_matmul(Some(&exec), &oas[1], &obs[2]);
    case.check_gemm(Some(&exec), &oas[3], &obs[4], CLay::S, 0.7, 1.3);
}

#[test]
fn rayon_engine_any_thread_count_matches_reference() {
    engine_any_thread_count_matches_reference(Engine::Rayon);
}

#[test]
fn rayon_engine_small_full_cross_product_at_2_threads() {
    // The whole layout × α × β sweep of the small sizes, through the free functions with the
    // rayon engine as the scoped default.
    parla::with_backend(Engine::Rayon, || {
        parla::with_num_threads(2, || {
            let mut rng = common::rng(30);
            for m in SMALL {
                for n in [0, 1, 3, 7] {
                    for k in [0, 1, 7] {
                        Case::<f64>::new(&mut rng, m, n, k).run_full();
                    }
                }
            }
            for (m, n, k) in [(31, 64, 65), (65, 7, 31), (3, 65, 64)] {
                Case::<f64>::new(&mut rng, m, n, k).run_covering();
                Case::<f32>::new(&mut rng, m, n, k).run_covering();
            }
        })
        .unwrap()
    });
}

/// Every instruction set this CPU runs, with cache blocks forced tiny (MC = MR + 3, KC = 7,
/// NC = 2·NR + 1) so every loop runs several times, on sizes at each block edge (MR ± 1,
/// MC ± 1, 2·MC + 1, NR ± 1, NC ± 1, KC ± 1, 2·KC + 1), at 1, 2 and 3 threads.
fn forced_tiny_blocks<T: Elem>(seed: u64) {
    let mut rng = common::rng(seed);
    let isas = [
        parla::tuning::Isa::Avx512,
        parla::tuning::Isa::Avx2,
        parla::tuning::Isa::Portable,
    ];
    for isa in isas.into_iter().filter(|i| i.available()) {
        let base = Exec::new(Engine::Rayon, 1).unwrap().with_isa(isa).unwrap();
        let kernel = base.gemm_kernel::<T>();
        let (mr, nr) = (kernel.mr, kernel.nr);
        let blocks = parla::tuning::GemmBlocks {
            mc: mr + 3,
            kc: 7,
            nc: 2 * nr + 1,
        };
        let (mc, kc, nc) = (blocks.mc, blocks.kc, blocks.nc);
        let ms = [1, mr - 1, mr, mr + 1, mc - 1, mc + 1, 2 * mc + 1];
        let ns = [1, nr - 1, nr + 1, nc - 1, nc, nc + 1];
        let ks = [1, kc - 1, kc + 1, 2 * kc + 1];
        let mut count = 0usize;
        for &m in &ms {
            for &n in &ns {
                for &k in &ks {
                    let case = Case::<T>::new(&mut rng, m, n, k);
                    let (oas, obs) = case.operands();
                    let t = 1 + count % 3;
                    let exec = base
                        .with_threads(t)
                        .unwrap()
                        .with_gemm_blocks(blocks)
                        .unwrap();
                    assert_eq!(exec.gemm_kernel::<T>().blocks, blocks);
                    let oa = &oas[count % oas.len()];
                    let ob = &obs[(count / oas.len()) % obs.len()];
                    let lc = CLAYS[count % CLAYS.len()];
                    let beta = betas::<T>()[count % 3];
                    case.check_gemm(Some(&exec), oa, ob, lc, T::of(0.7), beta);
                    if count.is_multiple_of(4) {
                        case.check_matmul(Some(&exec), oa, ob);
                    }
                    count += 1;
                }
            }
        }
    }
}

#[test]
fn rayon_forced_tiny_blocks_f64_every_isa() {
    forced_tiny_blocks::<f64>(31);
}

#[test]
fn rayon_forced_tiny_blocks_f32_every_isa() {
    forced_tiny_blocks::<f32>(32);
}

fn default_blocks_edges<T: Elem>(seed: u64) {
    // Sizes just around the default MC and KC (one extra row block, one extra rank-KC update).
    let mut rng = common::rng(seed);
    for isa in [
        parla::tuning::Isa::Avx512,
        parla::tuning::Isa::Avx2,
        parla::tuning::Isa::Portable,
    ] {
        if !isa.available() {
            continue;
        }
        let exec = Exec::new(Engine::Rayon, 2).unwrap().with_isa(isa).unwrap();
        let kernel = exec.gemm_kernel::<T>();
        let (mc, kc) = (kernel.blocks.mc, kernel.blocks.kc);
        for (m, n, k) in [
            (mc + 1, 31, kc + 1),
            (mc - 1, 65, kc - 1),
            (2 * mc + 3, 17, kc),
        ] {
            let case = Case::<T>::new(&mut rng, m, n, k);
            let (oas, obs) = case.operands();
            case.check_matmul(Some(&exec), &oas[0], &obs[1]);
            case.check_gemm(
                Some(&exec),
                &oas[2],
                &obs[0],
                CLay::C,
                T::of(0.7),
                T::of(1.3),
            );
        }
    }
}

#[test]
fn rayon_default_blocks_edges_every_isa() {
    default_blocks_edges::<f64>(33);
}

#[test]
fn rayon_default_blocks_edges_every_isa_f32() {
    default_blocks_edges::<f32>(36);
}

#[test]
fn rayon_is_bit_identical_run_to_run_and_across_threads() {
    // Each element of C is summed in one fixed order whatever the thread count.
    let mut rng = common::rng(34);
    let a = common::random(&mut rng, 300, 270);
    let b = common::random(&mut rng, 270, 290);
    let first = Exec::new(Engine::Rayon, 1).unwrap().matmul(&a, &b).unwrap();
    for t in 1..=3 {
        let exec = Exec::new(Engine::Rayon, t).unwrap();
        for _ in 0..3 {
            let c = exec.matmul(&a, &b).unwrap();
            assert!(
                c.iter()
                    .zip(&first)
                    .all(|(x, y)| x.to_bits() == y.to_bits()),
                "{t} threads differ from 1 thread"
            );
        }
    }
}

#[test]
fn three_engines_agree_within_the_bound() {
    let mut rng = common::rng(35);
    let case = Case::<f64>::new(&mut rng, 129, 97, 203);
    let (oas, obs) = case.operands();
    let results: Vec<Array2<f64>> = [Engine::Blas, Engine::RayonBlas, Engine::Rayon]
        .into_iter()
        .map(|e| {
            Exec::new(e, 2)
                .unwrap()
                .matmul(&oas[0].plain(), &obs[0].plain())
                .unwrap()
        })
        .collect();
    // Two results each within 16·ε·|A||B| of the exact product differ by at most twice that.
    let abs = common::abs_matmul(&case.a.view(), &case.b.view());
    for r in &results[1..] {
        for ((x, y), s) in r.iter().zip(&results[0]).zip(&abs) {
            assert!((x - y).abs() <= 32.0 * f64::EPSILON * s, "{x} vs {y}");
        }
    }
}

#[test]
fn rayon_block_settings_are_validated() {
    let base = Exec::new(Engine::Rayon, 1).unwrap();
    for (mc, kc, nc) in [
        (0, 8, 8),
        (8, 0, 8),
        (8, 8, 0),
        (parla::tuning::MAX_BLOCK + 1, 8, 8),
    ] {
        let err = base
            .with_gemm_blocks(parla::tuning::GemmBlocks { mc, kc, nc })
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidArgument {
                    op: "Exec::with_gemm_blocks",
                    ..
                }
            ),
            "{err:?}"
        );
    }
    assert!(base.with_isa(parla::tuning::Isa::Portable).is_ok());
}

#[test]
fn rayon_plan_reports_kernel_and_split() {
    let exec = Exec::new(Engine::Rayon, 2).unwrap();
    let plan = exec
        .plan(parla::Op::Matmul, parla::Dtype::F64, parla::Shape::Unknown)
        .unwrap();
    assert_eq!((plan.engine, plan.threads), (Engine::Rayon, 2));
    let k = plan.kernel.expect("the rayon engine reports its kernel");
    assert_eq!(k, exec.gemm_kernel::<f64>());
    assert!(k.isa.available());
    assert!(plan.split.contains("MC"), "{}", plan.split);
    assert!(Exec::blas(2)
        .unwrap()
        .plan(parla::Op::Matmul, parla::Dtype::F64, parla::Shape::Unknown)
        .unwrap()
        .kernel
        .is_none());
}

#[test]
fn rayon_engines_implement_every_operation() {
    for engine in [Engine::Rayon, Engine::RayonBlas] {
        let exec = Exec::new(engine, 1).unwrap();
        for op in parla::Op::ALL {
            let p = exec.plan(op, parla::Dtype::F64, parla::Shape::Unknown);
            assert!(p.is_ok(), "{engine:?} {op}: {p:?}");
        }
        // The general eigenproblem, the last one added: computed, not refused.
        let a = ndarray::array![[2.0f64, 1.0], [1.0, 3.0]];
        let w = exec.eigvals(&a).unwrap();
        let s = 5f64.sqrt();
        let mut re: Vec<f64> = w.iter().map(|z| z.re).collect();
        re.sort_by(f64::total_cmp);
        assert!((re[0] - (5.0 - s) / 2.0).abs() < 1e-14 && (re[1] - (5.0 + s) / 2.0).abs() < 1e-14);
        assert!(w.iter().all(|z| z.im == 0.0));
    }
}

// ---------------------------------------------------------------------------------------------
// Shape errors

#[test]
fn matmul_inner_dimension_mismatch() {
    let a = Array2::<f64>::zeros((2, 3));
    let b = Array2::<f64>::zeros((4, 5));
    assert_eq!(
        parla::matmul(&a, &b).unwrap_err(),
        Error::ShapeMismatch {
            op: "matmul",
            left: vec![2, 3],
            right: vec![4, 5]
        }
    );
    // Shapes as the caller sees them, also for transposed and empty views.
    assert_eq!(
        parla::matmul(&a.t(), &Array2::<f64>::zeros((0, 7))).unwrap_err(),
        Error::ShapeMismatch {
            op: "matmul",
            left: vec![3, 2],
            right: vec![0, 7]
        }
    );
    assert_eq!(
        parla::matmul(&Array2::<f32>::zeros((4, 0)), &Array2::<f32>::zeros((1, 0))).unwrap_err(),
        Error::ShapeMismatch {
            op: "matmul",
            left: vec![4, 0],
            right: vec![1, 0]
        }
    );
}

#[test]
fn gemm_shape_mismatch_names_op_shapes() {
    let a = Array2::<f64>::ones((2, 3));
    let b = Array2::<f64>::ones((3, 4));
    let c0 = Array2::<f64>::from_elem((2, 4), 5.0);

    // op(A) = Aᵀ is 3×2, op(B) = B is 3×4: inner dimensions 2 ≠ 3.
    let mut c = c0.clone();
    assert_eq!(
        parla::blas_level::gemm(1.0, &a, Trans::Yes, &b, Trans::No, 0.0, &mut c).unwrap_err(),
        Error::ShapeMismatch {
            op: "gemm",
            left: vec![3, 2],
            right: vec![3, 4]
        }
    );
    // op(B) = Bᵀ is 4×3: inner 3 ≠ 4.
    assert_eq!(
        parla::blas_level::gemm(1.0, &a, Trans::No, &b, Trans::Yes, 0.0, &mut c).unwrap_err(),
        Error::ShapeMismatch {
            op: "gemm",
            left: vec![2, 3],
            right: vec![4, 3]
        }
    );
    // A·B is 2×4 but C is 4×2.
    let mut ct = Array2::<f64>::zeros((4, 2));
    assert_eq!(
        parla::blas_level::gemm(1.0, &a, Trans::No, &b, Trans::No, 0.0, &mut ct).unwrap_err(),
        Error::ShapeMismatch {
            op: "gemm",
            left: vec![2, 4],
            right: vec![4, 2]
        }
    );
    // C as a strided sub-view of the wrong shape.
    let mut big = Array2::<f64>::zeros((10, 20));
    let mut cv = big.slice_mut(s![1..7;2, 2..11;3]);
    assert_eq!(cv.dim(), (3, 3));
    assert_eq!(
        parla::blas_level::gemm(1.0, &a, Trans::No, &b, Trans::No, 1.0, &mut cv).unwrap_err(),
        Error::ShapeMismatch {
            op: "gemm",
            left: vec![2, 4],
            right: vec![3, 3]
        }
    );
    assert!(big.iter().all(|&x| x == 0.0));
    assert_eq!(c, c0, "a failed gemm must not write C");
}

// ---------------------------------------------------------------------------------------------
// Dimensions above i32::MAX: zero-stride broadcast views, so nothing large exists.

const BIG: usize = i32::MAX as usize + 1;

fn too_large(err: &Error, op: &str, what: &str) -> bool {
    matches!(err, Error::TooLarge { op: o, what: w, value, max }
        if *o == op && *w == what && *value == BIG && *max == i32::MAX as usize)
}

#[test]
fn dimension_above_i32_max_is_too_large_without_allocating() {
    let one = Array2::<f64>::ones((1, 1));
    let row = one.broadcast((1, BIG)).unwrap(); // 1 × 2³¹
    let col = one.broadcast((BIG, 1)).unwrap(); // 2³¹ × 1
    let before = HUGE_REQUESTS.load(Ordering::SeqCst);

    // Inner dimension: (1 × 2³¹)·(2³¹ × 1).
    let err = parla::matmul(&row, &col).unwrap_err();
    assert!(too_large(&err, "matmul", "inner dimension"), "{err:?}");
    // Rows: (2³¹ × 1)·(1 × 1) would be a 16 GiB result.
    let err = parla::matmul(&col, &one).unwrap_err();
    assert!(too_large(&err, "matmul", "rows"), "{err:?}");
    // Columns: (1 × 1)·(1 × 2³¹).
    let err = parla::matmul(&one, &row).unwrap_err();
    assert!(too_large(&err, "matmul", "columns"), "{err:?}");
    // Both: a 2³¹ × 2³¹ result.
    let err = parla::matmul(&col, &row).unwrap_err();
    assert!(
        matches!(err, Error::TooLarge { op: "matmul", .. }),
        "{err:?}"
    );

    // gemm: inner dimension 2³¹ into a 1 × 1 C, plain and through transposes.
    let mut c = Array2::from_elem((1, 1), 3.0);
    let err =
        parla::blas_level::gemm(1.0, &row, Trans::No, &col, Trans::No, 1.0, &mut c).unwrap_err();
    assert!(too_large(&err, "gemm", "inner dimension"), "{err:?}");
    let err =
        parla::blas_level::gemm(1.0, &col, Trans::Yes, &row, Trans::Yes, 0.0, &mut c).unwrap_err();
    assert!(too_large(&err, "gemm", "inner dimension"), "{err:?}");
    // Even α = 0 (which reads neither A nor B) must reject what BLAS could not express.
    let err =
        parla::blas_level::gemm(0.0, &row, Trans::No, &col, Trans::No, 0.0, &mut c).unwrap_err();
    assert!(too_large(&err, "gemm", "inner dimension"), "{err:?}");
    assert_eq!(c[[0, 0]], 3.0, "a failed gemm must not write C");

    // f32 too, on a blas Exec with several threads.
    let one32 = Array2::<f32>::ones((1, 1));
    let exec = Exec::new(Engine::Blas, 2).unwrap();
    let err = exec
        .matmul(
            &one32.broadcast((1, BIG)).unwrap(),
            &one32.broadcast((BIG, 1)).unwrap(),
        )
        .unwrap_err();
    assert!(too_large(&err, "matmul", "inner dimension"), "{err:?}");

    assert_eq!(
        HUGE_REQUESTS.load(Ordering::SeqCst),
        before,
        "an allocation of ≥ 1 GiB was attempted"
    );
}

// ---------------------------------------------------------------------------------------------
// Empty products

#[test]
fn empty_products_are_zeros() {
    let mut rng = common::rng(30);
    for (m, k, n) in [
        (0, 5, 0),
        (0, 0, 0),
        (4, 0, 6),
        (0, 3, 2),
        (3, 2, 0),
        (1, 0, 1),
        (257, 0, 3),
    ] {
        let a = common::random(&mut rng, m, k);
        let b = common::random(&mut rng, k, n);
        for la in OPLAYS {
            for lb in OPLAYS {
                let (oa, ob) = (Operand::new(&a, la), Operand::new(&b, lb));
                let c = parla::matmul(&oa.plain(), &ob.plain()).unwrap();
                assert_eq!(c.dim(), (m, n), "{m}x{k}·{k}x{n} {la:?} {lb:?}");
                assert!(c.iter().all(|&x| x == 0.0), "{m}x{k}·{k}x{n}: {c}");
            }
        }
        let c32 = parla::matmul(&a.mapv(|x| x as f32), &b.mapv(|x| x as f32)).unwrap();
        assert_eq!(c32, Array2::<f32>::zeros((m, n)));
        // gemm with k = 0 and β = 0 turns a NaN C into zeros.
        let mut c = Array2::from_elem((m, n), f64::NAN);
        parla::blas_level::gemm(0.7, &a, Trans::No, &b, Trans::No, 0.0, &mut c).unwrap();
        assert!(c.iter().all(|&x| x == 0.0));
    }
}

// ---------------------------------------------------------------------------------------------
// The harness itself: the gauge and the guard check do fail when they should.

#[test]
#[should_panic(expected = "gauge")]
fn harness_gauge_rejects_a_wrong_entry() {
    let mut rng = common::rng(40);
    let case = Case::<f64>::new(&mut rng, 4, 5, 6);
    let mut c = common::ref_matmul(&case.a.view(), &case.b.view());
    c[[2, 3]] += 1e-9;
    assert_gauge(&c.view(), &case.r, 1.0, 0.0, None, &|| "self-test".into());
}

#[test]
#[should_panic(expected = "guard cell")]
fn harness_guard_check_sees_a_changed_cell() {
    for lay in [CLay::S, CLay::Block, CLay::BlockF, CLay::Neg] {
        let (m, n) = (3, 4);
        let mut big = c_storage(lay, m, n, 1.0f64);
        c_view_mut(lay, &mut big, m, n).fill(2.0);
        let before = big.clone();
        c_view_mut(lay, &mut big, m, n).fill(3.0);
        assert_guards(lay, &big, &before, &|| format!("{lay:?}"));
        // Every layout's guards are intact so far; now break one right next to the view.
        if lay == CLay::Neg {
            big[[0, 1]] = 1.5;
            assert_guards(lay, &big, &before, &|| format!("{lay:?}"));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Zero strides: broadcast operands (BLAS cannot read them in place).

#[test]
fn broadcast_operands() {
    let mut rng = common::rng(50);
    for (m, n, k) in [(1, 1, 1), (3, 2, 1), (2, 3, 4), (65, 31, 7), (7, 64, 257)] {
        let row = common::random(&mut rng, 1, k); // A = every row equal to `row`
        let col = common::random(&mut rng, k, 1); // B = every column equal to `col`
        let a = row.broadcast((m, k)).unwrap();
        let b = col.broadcast((k, n)).unwrap();
        let case = Case {
            m,
            n,
            k,
            a: a.to_owned(),
            b: b.to_owned(),
            c0: common::random(&mut rng, m, n),
            r: Reference::new(&a.to_owned(), &b.to_owned()),
        };
        let ctx = || format!("broadcast {m}x{n}x{k}");
        let c = parla::matmul(&a, &b).unwrap();
        assert_gauge(&c.view(), &case.r, 1.0, 0.0, None, &ctx);
        for (ta, at) in [(Trans::No, a.view()), (Trans::Yes, a.reversed_axes())] {
            let mut c = case.c0.clone();
            parla::blas_level::gemm(0.7, &at, ta, &b, Trans::No, 1.3, &mut c).unwrap();
            assert_gauge(&c.view(), &case.r, 0.7, 1.3, Some(&case.c0), &ctx);
        }
    }
}

#[test]
fn rayon_blas_is_deterministic_run_to_run() {
    // The same engine with the same threads is bit-identical run to run.
    let mut rng = common::rng(23);
    let a = common::random(&mut rng, 300, 200);
    let b = common::random(&mut rng, 200, 250);
    let exec = Exec::new(Engine::RayonBlas, 2).unwrap();
    let first = exec.matmul(&a, &b).unwrap();
    for _ in 0..5 {
        let again = exec.matmul(&a, &b).unwrap();
        assert!(first
            .iter()
            .zip(again.iter())
            .all(|(x, y)| x.to_bits() == y.to_bits()));
    }
    let p = exec
        .plan(parla::Op::Matmul, parla::Dtype::F64, parla::Shape::Unknown)
        .unwrap();
    assert_eq!((p.engine, p.threads), (Engine::RayonBlas, 2));
}
