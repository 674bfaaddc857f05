//! The 2-D block-cyclic layout of ScaLAPACK, as pure index arithmetic (no MPI).
//!
//! A global `m × n` matrix is cut into `nb × nb` blocks; block `(I, J)` lives on process
//! `(I mod pr, J mod pc)` of a `pr × pc` grid, and each process stores its blocks column-major,
//! packed in global order. The first block row and column live on process row and column 0
//! (ScaLAPACK's `RSRC = CSRC = 0`).

/// How many of `n` global rows (or columns) cut into blocks of `nb` land on process `p` of
/// `procs` (ScaLAPACK's `NUMROC` with source process 0).
pub fn numroc(n: usize, nb: usize, p: usize, procs: usize) -> usize {
    let nblocks = n / nb;
    let mut count = (nblocks / procs) * nb;
    let extra = nblocks % procs;
    if p < extra {
        count += nb;
    } else if p == extra {
        count += n % nb;
    }
    count
}

/// The process coordinate and local index of global index `g` (blocks of `nb` over `procs`).
pub fn global_to_local(g: usize, nb: usize, procs: usize) -> (usize, usize) {
    let block = g / nb;
    (block % procs, (block / procs) * nb + g % nb)
}

/// The global index of local index `l` on process coordinate `p` (blocks of `nb` over `procs`).
pub fn local_to_global(l: usize, nb: usize, p: usize, procs: usize) -> usize {
    let lblock = l / nb;
    (lblock * procs + p) * nb + l % nb
}

/// A near-square factorization `pr × pc = p` with `pr ≤ pc` as close as possible (`pr` is the
/// largest divisor of `p` not above `√p`). A prime `p` gives `1 × p`.
pub fn near_square(p: usize) -> (usize, usize) {
    let mut pr = (p as f64).sqrt() as usize;
    while pr > 1 && (pr * pr > p || !p.is_multiple_of(pr)) {
        pr -= 1;
    }
    let pr = pr.max(1);
    (pr, p / pr)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The obvious reference: walk every global index and count where it lands.
    fn numroc_slow(n: usize, nb: usize, p: usize, procs: usize) -> usize {
        (0..n).filter(|g| (g / nb) % procs == p).count()
    }

    #[test]
    fn numroc_matches_counting() {
        for n in [0, 1, 31, 32, 33, 300, 301] {
            for nb in [1, 3, 32, 64, 400] {
                for procs in 1..6 {
                    let total: usize = (0..procs).map(|p| numroc(n, nb, p, procs)).sum();
                    assert_eq!(total, n);
                    for p in 0..procs {
                        assert_eq!(numroc(n, nb, p, procs), numroc_slow(n, nb, p, procs));
                    }
                }
            }
        }
    }

    #[test]
    fn index_maps_are_inverse() {
        for nb in [1, 5, 32] {
            for procs in 1..5 {
                let mut next_local = vec![0usize; procs];
                for g in 0..200 {
                    let (p, l) = global_to_local(g, nb, procs);
                    // Local indices are handed out in global order on each process.
                    assert_eq!(l, next_local[p]);
                    next_local[p] += 1;
                    assert_eq!(local_to_global(l, nb, p, procs), g);
                }
            }
        }
    }

    #[test]
    fn near_square_shapes() {
        assert_eq!(near_square(1), (1, 1));
        assert_eq!(near_square(2), (1, 2));
        assert_eq!(near_square(4), (2, 2));
        assert_eq!(near_square(6), (2, 3));
        assert_eq!(near_square(7), (1, 7));
        assert_eq!(near_square(12), (3, 4));
        assert_eq!(near_square(16), (4, 4));
        assert_eq!(near_square(64), (8, 8));
    }
}
