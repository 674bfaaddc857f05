//! Method style (`parla::prelude::*`): every method gives exactly what the free function of the
//! same name gives, on owned arrays and on views, under each engine.

use crate::common;

use common::*;
use parla::prelude::*;

#[test]
fn methods_agree_with_free_functions() {
    let mut rng = rng(31);
    let a = random(&mut rng, 9, 9);
    let s = spd(&mut rng, 9);
    let b = random(&mut rng, 9, 2);
    let v = random_vec(&mut rng, 9);
    let tall = random(&mut rng, 12, 5);
    let bt = random(&mut rng, 12, 2);
    for engine in [Engine::Blas, Engine::RayonBlas, Engine::Rayon] {
        parla::with_backend(engine, || {
            let av = a.view();
            assert_eq!(a.matmul(&b)?, parla::matmul(&a, &b)?);
            assert_eq!(av.matvec(&v)?, parla::matvec(&a, &v)?);
            assert_eq!(a.solve(&b)?, parla::solve(&a, &b)?);
            assert_eq!(av.solve(&v)?, parla::solve(&a, &v)?);
            assert_eq!(
                s.solve_triangular(&b, Uplo::Lower, Trans::Yes, Diag::NonUnit)?,
                parla::solve_triangular(&s, &b, Uplo::Lower, Trans::Yes, Diag::NonUnit)?
            );
            assert_eq!(tall.lstsq(&bt, None)?, parla::lstsq(&tall, &bt, None)?);
            assert_eq!(a.inv()?, parla::inv(&a)?);
            assert_eq!(a.det()?, parla::det(&a)?);
            assert_eq!(av.slogdet()?, parla::slogdet(&a)?);
            assert_eq!(a.lu()?, parla::lu(&a)?);
            assert_eq!(s.cholesky()?, parla::cholesky(&s)?);
            assert_eq!(tall.qr()?, parla::qr(&tall, QrMode::Reduced)?);
            assert_eq!(
                tall.qr_mode(QrMode::Complete)?,
                parla::qr(&tall, QrMode::Complete)?
            );
            for mode in [SvdMode::Thin, SvdMode::Full] {
                assert_eq!(tall.svd(mode)?, parla::svd(&tall, mode)?);
            }
            assert_eq!(tall.svdvals()?, parla::svdvals(&tall)?);
            assert_eq!(s.eigh()?, parla::eigh(&s)?);
            assert_eq!(s.eigvalsh()?, parla::eigvalsh(&s)?);
            assert_eq!(a.eig()?, parla::eig(&a)?);
            assert_eq!(a.eigvals()?, parla::eigvals(&a)?);
            assert_eq!(tall.pinv(None)?, parla::pinv(&tall, None)?);
            assert_eq!(a.cond()?, parla::cond(&a)?);
            assert_eq!(a.matrix_rank(None)?, parla::matrix_rank(&a, None)?);
            assert_eq!(a.norm(NormKind::Two)?, parla::norm(&a, NormKind::Two)?);
            assert_eq!(tall.transpose()?, parla::transpose(&tall)?);
            assert_eq!(a.lu_factor()?.solve(&b)?, parla::lu_factor(&a)?.solve(&b)?);
            assert_eq!(s.cho_factor()?.logdet(), parla::cho_factor(&s)?.logdet());
            assert_eq!(
                tall.qr_factor()?.solve_lstsq(&bt)?,
                parla::qr_factor(&tall)?.solve_lstsq(&bt)?
            );
            // The factor object runs on the engine of the call.
            assert_eq!(a.lu_factor()?.engine(), engine);
            // Errors are the free functions' errors.
            assert!(matches!(
                tall.solve(&bt),
                Err(Error::NotSquare { op: "solve", .. })
            ));
            Ok::<(), Error>(())
        })
        .unwrap_or_else(|e| panic!("{engine}: {e}"));
    }
}

#[test]
fn methods_work_on_every_storage() {
    let a = ndarray::array![[2.0f32, 1.0], [1.0, 3.0]];
    let arc = a.to_shared();
    let cow = ndarray::CowArray::from(a.view());
    let want = parla::det(&a).unwrap();
    assert_eq!(arc.det().unwrap(), want);
    assert_eq!(cow.det().unwrap(), want);
    assert_eq!(a.t().det().unwrap(), want);
}

#[test]
fn complex_methods_agree_with_free_functions() {
    let mut rng = rng(32);
    let parts = |r: &mut _, m, n| {
        let (re, im) = (random(r, m, n), random(r, m, n));
        ndarray::Zip::from(&re)
            .and(&im)
            .map_collect(|&x, &y| c64::new(x, y))
    };
    let a = parts(&mut rng, 7, 7);
    let b = parts(&mut rng, 7, 2);
    let tall = parts(&mut rng, 10, 4);
    let bt = parts(&mut rng, 10, 2);
    // Hermitian positive definite: A Aᴴ + 7 I.
    let ah = a.t().mapv(|z| z.conj());
    let hpd = parla::matmul(&a, &ah).unwrap() + ndarray::Array2::<c64>::eye(7) * c64::new(7.0, 0.0);
    parla::with_backend(Engine::Blas, || {
        let av = a.view();
        assert_eq!(a.matmul(&b)?, parla::matmul(&a, &b)?);
        assert_eq!(av.matvec(&b.column(0))?, parla::matvec(&a, &b.column(0))?);
        assert_eq!(av.solve(&b)?, parla::solve(&a, &b)?);
        assert_eq!(a.inv()?, parla::inv(&a)?);
        assert_eq!(a.det()?, parla::det(&a)?);
        assert_eq!(a.slogdet()?, parla::slogdet(&a)?);
        assert_eq!(hpd.cholesky()?, parla::cholesky(&hpd)?);
        assert_eq!(hpd.eigh()?, parla::eigh(&hpd)?);
        assert_eq!(a.eig()?, parla::eig(&a)?);
        assert_eq!(a.eigvals()?, parla::eigvals(&a)?);
        assert_eq!(a.svd(SvdMode::Thin)?, parla::svd(&a, SvdMode::Thin)?);
        assert_eq!(a.qr()?, parla::qr(&a, QrMode::Reduced)?);
        assert_eq!(tall.lstsq(&bt, None)?, parla::lstsq(&tall, &bt, None)?);
        assert_eq!(a.norm(NormKind::Fro)?, parla::norm(&a, NormKind::Fro)?);
        assert_eq!(a.lu_factor()?.solve(&b)?, parla::lu_factor(&a)?.solve(&b)?);
        assert_eq!(
            hpd.cho_factor()?.solve(&b)?,
            parla::cho_factor(&hpd)?.solve(&b)?
        );
        assert_eq!(
            tall.qr_factor()?.solve_lstsq(&bt)?,
            parla::qr_factor(&tall)?.solve_lstsq(&bt)?
        );
        Ok::<(), Error>(())
    })
    .unwrap();
    // The rayon engines refuse a complex eigh by method as by function.
    let r = parla::with_backend(Engine::Rayon, || hpd.eigh());
    assert!(matches!(r, Err(Error::Unsupported { .. })), "{r:?}");
}
