//! `row_sums`, `col_sums`, `row_norms`, `col_norms` (and their `_into` variants) on complex
//! `c64` and `c32` matrices, on every engine at 1 and 2 threads, against slow double loops over
//! `num_complex` values with bounds that grow with n·ε: C- and F-order, strided, transposed and
//! reversed views, a row and a column of huge values (overflow-safe norms), guard cells around
//! an `_into` output, and the typed errors of the real versions.

use ndarray::{s, Array1, Array2, ArrayView2, ShapeBuilder};
use parla::{c32, c64, Engine, Error, Exec, Field};

use crate::common::rng;
use crate::complex::{as64, crandom, to32};

fn execs() -> Vec<Exec> {
    let mut v = Vec::new();
    for engine in [Engine::Blas, Engine::RayonBlas, Engine::Rayon] {
        for t in [1, 2] {
            v.push(Exec::new(engine, t).unwrap());
        }
    }
    v
}

#[derive(Debug, Clone, Copy)]
enum Op {
    RowSums,
    ColSums,
    RowNorms,
    ColNorms,
}

const OPS: [Op; 4] = [Op::RowSums, Op::ColSums, Op::RowNorms, Op::ColNorms];

/// The lines an op reduces, as `c64` values.
fn lines<T: Field>(op: Op, a: &ArrayView2<T>) -> Vec<Vec<c64>> {
    let (m, n) = a.dim();
    let z = |i: usize, j: usize| c64::new(as64(a[[i, j]].re()), as64(a[[i, j]].im()));
    match op {
        Op::RowSums | Op::RowNorms => (0..m).map(|i| (0..n).map(|j| z(i, j)).collect()).collect(),
        Op::ColSums | Op::ColNorms => (0..n).map(|j| (0..m).map(|i| z(i, j)).collect()).collect(),
    }
}

/// The reference sum and its bound `2 q ε Σ|zⱼ|`.
fn ref_sum(line: &[c64], eps: f64) -> (c64, f64) {
    let mut s = c64::new(0.0, 0.0);
    for z in line {
        s += z;
    }
    let scale: f64 = line.iter().map(|z| z.re.abs() + z.im.abs()).sum();
    (s, 2.0 * (line.len() as f64 + 1.0) * eps * scale)
}

/// The reference 2-norm (the largest part factored out, so 1e300 is safe) and its bound.
fn ref_norm(line: &[c64], eps: f64) -> (f64, f64) {
    let amax = line
        .iter()
        .fold(0.0f64, |m, z| m.max(z.re.abs()).max(z.im.abs()));
    if amax == 0.0 {
        return (0.0, 0.0);
    }
    let mut ss = 0.0;
    for z in line {
        ss += (z.re / amax).powi(2) + (z.im / amax).powi(2);
    }
    let r = amax * ss.sqrt();
    (r, 4.0 * (line.len() as f64 + 1.0) * eps * r)
}

/// Runs `op` on `a` (allocating and `_into` with guard cells) and checks both.
fn check<T: Field>(e: &Exec, op: Op, a: &ArrayView2<T>, what: &str) {
    let eps = if std::mem::size_of::<T::Real>() == 4 {
        f32::EPSILON as f64
    } else {
        f64::EPSILON
    };
    let want = lines(op, a);
    let len = want.len();
    match op {
        Op::RowSums | Op::ColSums => {
            let got = match op {
                Op::RowSums => e.row_sums(a),
                _ => e.col_sums(a),
            }
            .unwrap();
            let one = <T::Real as num_traits::One>::one();
            let guard = T::from_parts(-one, one + one);
            let mut buf = Array1::from_elem(3 * len + 1, guard);
            let mut out = buf.slice_mut(s![1..;3]);
            match op {
                Op::RowSums => e.row_sums_into(a, &mut out),
                _ => e.col_sums_into(a, &mut out),
            }
            .unwrap();
            for (i, line) in want.iter().enumerate() {
                let (r, bound) = ref_sum(line, eps);
                for (v, how) in [(got[i], "alloc"), (buf[1 + 3 * i], "into")] {
                    let d = c64::new(as64(v.re()), as64(v.im())) - r;
                    assert!(
                        d.re.abs() <= bound && d.im.abs() <= bound,
                        "{e:?} {op:?} {what} {how} line {i}: {v} vs {r} (bound {bound})"
                    );
                }
            }
            for (k, &g) in buf.iter().enumerate() {
                if k % 3 != 1 {
                    assert_eq!(g, guard, "{e:?} {op:?} {what}: guard cell {k} touched");
                }
            }
        }
        Op::RowNorms | Op::ColNorms => {
            let got = match op {
                Op::RowNorms => e.row_norms(a),
                _ => e.col_norms(a),
            }
            .unwrap();
            let guard = -<T::Real as num_traits::One>::one();
            let mut buf = Array1::from_elem(3 * len + 1, guard);
            let mut out = buf.slice_mut(s![1..;3]);
            match op {
                Op::RowNorms => e.row_norms_into(a, &mut out),
                _ => e.col_norms_into(a, &mut out),
            }
            .unwrap();
            for (i, line) in want.iter().enumerate() {
                let (r, bound) = ref_norm(line, eps);
                for (v, how) in [(got[i], "alloc"), (buf[1 + 3 * i], "into")] {
                    let v = as64(v);
                    assert!(
                        v.is_finite() && (v - r).abs() <= bound,
                        "{e:?} {op:?} {what} {how} line {i}: {v} vs {r} (bound {bound})"
                    );
                }
            }
            for (k, &g) in buf.iter().enumerate() {
                if k % 3 != 1 {
                    assert_eq!(g, guard, "{e:?} {op:?} {what}: guard cell {k} touched");
                }
            }
        }
    }
}

/// Every op on every engine on C-order, F-order, strided, transposed and reversed views.
fn layouts<T: Field>(cast: impl Fn(&Array2<c64>) -> Array2<T>) {
    let mut g = rng(15);
    for (m, n) in [(1, 1), (1, 9), (7, 1), (3, 5), (17, 33), (64, 9), (5, 1030)] {
        let c = cast(&crandom(&mut g, m, n));
        let f = {
            let mut f = Array2::from_elem((m, n).f(), T::zero());
            f.assign(&c);
            f
        };
        let big = cast(&crandom(&mut g, 2 * m + 1, 3 * n + 2));
        let strided = big.slice(s![1..;2, ..;3]);
        let tbig = cast(&crandom(&mut g, n, m));
        let views: [(&str, ArrayView2<T>); 5] = [
            ("C", c.view()),
            ("F", f.view()),
            ("strided", strided),
            ("transposed", tbig.t()),
            ("reversed", c.slice(s![..;-1, ..;-1])),
        ];
        for e in execs() {
            for op in OPS {
                for (what, v) in &views {
                    check(&e, op, v, &format!("{what} {m}x{n}"));
                }
            }
        }
    }
}

#[test]
fn layouts_c64() {
    layouts::<c64>(|a| a.clone());
}

#[test]
fn layouts_c32() {
    layouts::<c32>(to32);
}

/// A row and a column of huge values: the norms stay finite and accurate (the sums too).
fn huge<T: Field>(big: f64, cast: impl Fn(&Array2<c64>) -> Array2<T>) {
    let mut g = rng(16);
    let (m, n) = (9, 40);
    let mut a = crandom(&mut g, m, n);
    a.row_mut(2).fill(c64::new(big, -big));
    a.column_mut(5).fill(c64::new(-big, 0.5 * big));
    let a = cast(&a);
    let f = {
        let mut f = Array2::from_elem((m, n).f(), T::zero());
        f.assign(&a);
        f
    };
    for e in execs() {
        for op in OPS {
            check(&e, op, &a.view(), "huge C");
            check(&e, op, &f.view(), "huge F");
            check(&e, op, &a.t(), "huge transposed");
        }
    }
}

#[test]
fn huge_c64() {
    huge::<c64>(1e300, |a| a.clone());
}

#[test]
fn huge_c32() {
    huge::<c32>(1e36, to32);
}

#[test]
fn nan_and_inf() {
    let mut a = Array2::from_elem((3, 4), c64::new(1.0, 1.0));
    a[[0, 1]] = c64::new(f64::INFINITY, 0.0);
    a[[0, 2]] = c64::new(0.0, f64::NAN);
    a[[1, 3]] = c64::new(0.0, f64::NEG_INFINITY);
    let f = {
        let mut f = Array2::from_elem((3, 4).f(), c64::new(0.0, 0.0));
        f.assign(&a);
        f
    };
    for e in execs() {
        for v in [a.view(), f.view()] {
            let r = e.row_norms(&v).unwrap();
            assert!(r[0].is_nan(), "{e:?}: {r}");
            assert_eq!(r[1], f64::INFINITY, "{e:?}");
            assert!((r[2] - 2.0 * 2f64.sqrt()).abs() < 1e-15, "{e:?}: {r}");
            let s = e.row_sums(&v).unwrap();
            assert!(
                s[0].im.is_nan() && s[1].im == f64::NEG_INFINITY,
                "{e:?}: {s}"
            );
        }
    }
}

#[test]
fn empty_shapes() {
    for e in execs() {
        let a = Array2::<c64>::zeros((0, 3));
        assert_eq!(e.row_sums(&a).unwrap().len(), 0);
        assert_eq!(e.col_sums(&a).unwrap(), Array1::zeros(3));
        assert_eq!(e.col_norms(&a).unwrap(), Array1::<f64>::zeros(3));
        let b = Array2::<c32>::zeros((2, 0));
        assert_eq!(e.row_norms(&b).unwrap(), Array1::<f32>::zeros(2));
    }
}

#[test]
fn into_errors_are_typed() {
    let a = crandom(&mut rng(17), 4, 3);
    for e in execs() {
        let mut short = Array1::<f64>::zeros(3);
        assert!(matches!(
            e.row_norms_into(&a, &mut short),
            Err(Error::ShapeMismatch { .. })
        ));
        let mut long = Array1::<c64>::zeros(4);
        assert!(matches!(
            e.col_sums_into(&a, &mut long),
            Err(Error::ShapeMismatch { .. })
        ));
    }
}

#[test]
fn free_functions_match_exec() {
    let a = crandom(&mut rng(18), 6, 5);
    let e = Exec::blas(1).unwrap();
    let close = |x: &Array1<f64>, y: &Array1<f64>| {
        x.iter()
            .zip(y)
            .all(|(p, q)| (p - q).abs() <= 1e-13 * q.abs().max(1.0))
    };
    assert!(close(
        &parla::row_norms(&a).unwrap(),
        &e.row_norms(&a).unwrap()
    ));
    assert!(close(
        &parla::col_norms(&a).unwrap(),
        &e.col_norms(&a).unwrap()
    ));
    let d = &parla::row_sums(&a).unwrap() - &e.row_sums(&a).unwrap();
    assert!(d.iter().all(|z| z.norm() < 1e-13));
    let d = &parla::col_sums(&a).unwrap() - &e.col_sums(&a).unwrap();
    assert!(d.iter().all(|z| z.norm() < 1e-13));
}
