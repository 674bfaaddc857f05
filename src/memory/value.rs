//! What [`Memory`](super::Memory) can store: any result made of arrays and scalars.
//!
//! A value is written as a sequence of `.npy` parts, one per array (a scalar is a 0-d array),
//! concatenated in one file. A single array is therefore a plain `.npy` file (`np.load`
//! reads it); a composite result is read in Python with
//! `f = open(path, "rb"); parts = [np.load(f) for _ in range(k)]`.

use ndarray::{Array, Array0, Array1, ArrayBase, Data, Dimension, Ix1, Ix2};
use ndarray_npy::{ReadNpyExt, ReadableElement, WritableElement, WriteNpyExt};
use num_complex::Complex;

use crate::decomp::{Eig, Eigh, Lstsq, Lu, Qr, Svd};

/// Collects the `.npy` parts of a value being stored (see [`Cacheable::encode`]).
#[derive(Debug, Default)]
pub struct Encoder {
    parts: Vec<Vec<u8>>,
    failed: bool,
}

impl Encoder {
    /// Appends an array as the next part.
    pub fn array<A, S, D>(&mut self, a: &ArrayBase<S, D>)
    where
        A: WritableElement,
        S: Data<Elem = A>,
        D: Dimension,
    {
        let mut bytes = Vec::new();
        if a.write_npy(&mut bytes).is_err() {
            self.failed = true;
        }
        self.parts.push(bytes);
    }

    /// Appends a scalar as the next part (a 0-d array).
    pub fn scalar<A: WritableElement + Clone>(&mut self, x: A) {
        self.array(&Array0::from_elem((), x));
    }

    /// The parts, or `None` if one of them could not be encoded.
    pub(crate) fn finish(self) -> Option<Vec<Vec<u8>>> {
        (!self.failed).then_some(self.parts)
    }
}

/// Hands out the `.npy` parts of a stored value, in order (see [`Cacheable::decode`]).
#[derive(Debug)]
pub struct Decoder<'a> {
    parts: std::slice::Iter<'a, &'a [u8]>,
}

impl<'a> Decoder<'a> {
    pub(crate) fn new(parts: &'a [&'a [u8]]) -> Self {
        Decoder {
            parts: parts.iter(),
        }
    }

    /// The next part as an array of element type `A` and dimension `D`; `None` when there is
    /// no next part or it is not such an array.
    pub fn array<A: ReadableElement, D: Dimension>(&mut self) -> Option<Array<A, D>> {
        let bytes = self.parts.next()?;
        Array::<A, D>::read_npy(*bytes).ok()
    }

    /// The next part as a scalar (a 0-d array).
    pub fn scalar<A: ReadableElement + Clone>(&mut self) -> Option<A> {
        self.array::<A, ndarray::Ix0>().map(|a| a.into_scalar())
    }

    /// Whether every part was used.
    pub(crate) fn is_done(&mut self) -> bool {
        self.parts.next().is_none()
    }
}

/// A result [`Memory`](super::Memory) can cache: it turns into `.npy` parts and back.
///
/// Implemented for arrays of any `.npy` element type and dimension, scalars (`f32`, `f64`,
/// integers, `bool`, `usize` stored as `u64`), complex numbers, tuples of up to four cacheable
/// values (`(sign, logdet)` from [`slogdet`](crate::slogdet)), and parla's decompositions
/// ([`Lu`], [`Qr`], [`Svd`], [`Eigh`], [`Eig`], [`Lstsq`]). Implement it for a type of your
/// own by encoding its fields in a fixed order and decoding them in the same order.
///
/// ```
/// use parla::memory::{Cacheable, Decoder, Encoder};
/// struct Fit { coef: ndarray::Array1<f64>, rank: usize }
/// impl Cacheable for Fit {
///     fn encode(&self, e: &mut Encoder) {
///         self.coef.encode(e);
///         self.rank.encode(e);
///     }
///     fn decode(d: &mut Decoder<'_>) -> Option<Self> {
///         Some(Fit { coef: Cacheable::decode(d)?, rank: Cacheable::decode(d)? })
///     }
/// }
/// ```
pub trait Cacheable: Sized {
    /// Appends the value's parts, always the same number in the same order.
    fn encode(&self, e: &mut Encoder);
    /// Reads the value back from parts written by [`encode`](Cacheable::encode); `None` if
    /// they do not match (the entry is then recomputed).
    fn decode(d: &mut Decoder<'_>) -> Option<Self>;
}

impl<A, D> Cacheable for Array<A, D>
where
    A: WritableElement + ReadableElement,
    D: Dimension,
{
    fn encode(&self, e: &mut Encoder) {
        e.array(self);
    }
    fn decode(d: &mut Decoder<'_>) -> Option<Self> {
        d.array()
    }
}

macro_rules! scalar_cacheable {
    ($($t:ty),*) => {$(
        impl Cacheable for $t {
            fn encode(&self, e: &mut Encoder) {
                e.scalar(*self);
            }
            fn decode(d: &mut Decoder<'_>) -> Option<Self> {
                d.scalar()
            }
        }
    )*};
}

scalar_cacheable!(f32, f64, i8, i16, i32, i64, u8, u16, u32, u64, bool);

impl Cacheable for usize {
    fn encode(&self, e: &mut Encoder) {
        e.scalar(*self as u64);
    }
    fn decode(d: &mut Decoder<'_>) -> Option<Self> {
        usize::try_from(d.scalar::<u64>()?).ok()
    }
}

impl<T> Cacheable for Complex<T>
where
    Complex<T>: WritableElement + ReadableElement + Clone,
{
    fn encode(&self, e: &mut Encoder) {
        e.scalar(self.clone());
    }
    fn decode(d: &mut Decoder<'_>) -> Option<Self> {
        d.scalar()
    }
}

macro_rules! tuple_cacheable {
    ($($name:ident),+) => {
        impl<$($name: Cacheable),+> Cacheable for ($($name,)+) {
            #[allow(non_snake_case)]
            fn encode(&self, e: &mut Encoder) {
                let ($($name,)+) = self;
                $($name.encode(e);)+
            }
            fn decode(d: &mut Decoder<'_>) -> Option<Self> {
                Some(($($name::decode(d)?,)+))
            }
        }
    };
}

tuple_cacheable!(A, B);
tuple_cacheable!(A, B, C);
tuple_cacheable!(A, B, C, D);

/// A list of indices as a `u64` array.
fn encode_indices(v: &[usize], e: &mut Encoder) {
    e.array(&Array1::from_iter(v.iter().map(|&i| i as u64)));
}

fn decode_indices(d: &mut Decoder<'_>) -> Option<Vec<usize>> {
    d.array::<u64, Ix1>()?
        .iter()
        .map(|&i| usize::try_from(i).ok())
        .collect()
}

impl<T> Cacheable for Lu<T>
where
    T: WritableElement + ReadableElement,
{
    fn encode(&self, e: &mut Encoder) {
        e.array(&self.p);
        e.array(&self.l);
        e.array(&self.u);
        encode_indices(&self.perm, e);
    }
    fn decode(d: &mut Decoder<'_>) -> Option<Self> {
        Some(Lu {
            p: d.array::<T, Ix2>()?,
            l: d.array::<T, Ix2>()?,
            u: d.array::<T, Ix2>()?,
            perm: decode_indices(d)?,
        })
    }
}

impl<T> Cacheable for Qr<T>
where
    T: WritableElement + ReadableElement,
{
    fn encode(&self, e: &mut Encoder) {
        e.array(&self.q);
        e.array(&self.r);
    }
    fn decode(d: &mut Decoder<'_>) -> Option<Self> {
        Some(Qr {
            q: d.array::<T, Ix2>()?,
            r: d.array::<T, Ix2>()?,
        })
    }
}

impl<T> Cacheable for Svd<T>
where
    T: WritableElement + ReadableElement,
{
    fn encode(&self, e: &mut Encoder) {
        e.array(&self.u);
        e.array(&self.s);
        e.array(&self.vt);
    }
    fn decode(d: &mut Decoder<'_>) -> Option<Self> {
        Some(Svd {
            u: d.array::<T, Ix2>()?,
            s: d.array::<T, Ix1>()?,
            vt: d.array::<T, Ix2>()?,
        })
    }
}

impl<T> Cacheable for Eigh<T>
where
    T: WritableElement + ReadableElement,
{
    fn encode(&self, e: &mut Encoder) {
        e.array(&self.values);
        e.array(&self.vectors);
    }
    fn decode(d: &mut Decoder<'_>) -> Option<Self> {
        Some(Eigh {
            values: d.array::<T, Ix1>()?,
            vectors: d.array::<T, Ix2>()?,
        })
    }
}

impl<T> Cacheable for Eig<T>
where
    Complex<T>: WritableElement + ReadableElement,
{
    fn encode(&self, e: &mut Encoder) {
        e.array(&self.values);
        e.array(&self.vectors);
    }
    fn decode(d: &mut Decoder<'_>) -> Option<Self> {
        Some(Eig {
            values: d.array::<Complex<T>, Ix1>()?,
            vectors: d.array::<Complex<T>, Ix2>()?,
        })
    }
}

impl<T, D> Cacheable for Lstsq<T, Array<T, D>>
where
    T: WritableElement + ReadableElement,
    D: Dimension,
{
    fn encode(&self, e: &mut Encoder) {
        e.array(&self.solution);
        e.array(&self.residuals);
        self.rank.encode(e);
        e.array(&self.singular_values);
    }
    fn decode(d: &mut Decoder<'_>) -> Option<Self> {
        Some(Lstsq {
            solution: d.array::<T, D>()?,
            residuals: d.array::<T, Ix1>()?,
            rank: usize::decode(d)?,
            singular_values: d.array::<T, Ix1>()?,
        })
    }
}
