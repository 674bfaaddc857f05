//! The communication-volume model of distributed dense linear algebra, for predictions
//! (`parla dist-bench --model`).
//!
//! ```text
//! T(P) = flops / (P · F)  +  c · words_per_rank · w / B  +  messages · α
//! ```
//! with `F` one node's rate (flop/s, measured), `B` the link bandwidth (bytes/s), `α` the
//! latency per message (s), `w` the element size. SUMMA on a `√P × √P` grid: `flops = 2n³`,
//! `words_per_rank = 2n²/√P`, `messages = 2(n/nb)·log2 √P` (a tree broadcast per block and
//! direction). ScaLAPACK LU / Cholesky (Users' Guide ch. 5) have the same `n²/√P` volume
//! (`flops = 2n³/3`, resp. `n³/3`), with a latency term `∝ (n/nb)·log2 P`.

/// A link between nodes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Link {
    /// Name for tables (`"10 GbE"`).
    pub name: &'static str,
    /// Bandwidth, bytes per second.
    pub bandwidth: f64,
    /// Latency per message, seconds.
    pub latency: f64,
}

/// 10 Gigabit Ethernet with TCP (1.25 GB/s, 25 µs per message).
pub const ETHERNET_10G: Link = Link {
    name: "10 GbE",
    bandwidth: 1.25e9,
    latency: 25e-6,
};

/// A 100 Gb/s RDMA fabric (InfiniBand EDR / RoCE: 12.5 GB/s, 2 µs per message).
pub const FABRIC_100G: Link = Link {
    name: "100 Gb/s",
    bandwidth: 12.5e9,
    latency: 2e-6,
};

/// The distributed operations the model knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelOp {
    /// `C = A B`, all `n × n` (SUMMA or `pdgemm`).
    Gemm,
    /// LU with partial pivoting and a solve (`pdgesv`).
    Solve,
    /// Cholesky (`pdpotrf`).
    Cholesky,
}

impl ModelOp {
    /// Floating-point operations at order `n`.
    pub fn flops(self, n: f64) -> f64 {
        match self {
            ModelOp::Gemm => 2.0 * n * n * n,
            ModelOp::Solve => 2.0 / 3.0 * n * n * n,
            ModelOp::Cholesky => n * n * n / 3.0,
        }
    }

    /// Words each rank sends on a `√P × √P` grid (leading term).
    pub fn words_per_rank(self, n: f64, p: f64) -> f64 {
        let coeff = match self {
            ModelOp::Gemm => 2.0,
            // Panel and row broadcasts of LU move ~ n²/√P each way; Cholesky half of it.
            ModelOp::Solve => 1.0,
            ModelOp::Cholesky => 0.5,
        };
        if p <= 1.0 {
            0.0
        } else {
            coeff * n * n / p.sqrt()
        }
    }

    /// Messages on the critical path.
    pub fn messages(self, n: f64, nb: f64, p: f64) -> f64 {
        if p <= 1.0 {
            return 0.0;
        }
        let steps = (n / nb).ceil();
        match self {
            ModelOp::Gemm => 2.0 * steps * p.sqrt().log2().max(1.0),
            // Pivot search and swaps per column, broadcasts per panel.
            ModelOp::Solve => steps * (nb + 2.0) * p.log2(),
            ModelOp::Cholesky => 2.0 * steps * p.log2(),
        }
    }
}

/// One predicted point of the model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prediction {
    /// Nodes (ranks, one per node).
    pub nodes: usize,
    /// Predicted seconds.
    pub time: f64,
    /// Compute seconds alone (`flops / (P·F)`).
    pub compute: f64,
    /// `compute / time`: parallel efficiency.
    pub efficiency: f64,
}

/// Predicted time of `op` at order `n`, block `nb`, on `nodes` nodes, each running at `rate`
/// flop/s, joined by `link`, with elements of `elem` bytes and broadcast factor `c` (1 for a
/// pipelined broadcast, `log2 √P` for a binary tree).
#[allow(clippy::too_many_arguments)]
pub fn predict(
    op: ModelOp,
    n: usize,
    nb: usize,
    elem: usize,
    nodes: usize,
    rate: f64,
    link: &Link,
    c: f64,
) -> Prediction {
    let (nf, p) = (n as f64, nodes as f64);
    let compute = op.flops(nf) / (p * rate);
    let comm = c * op.words_per_rank(nf, p) * elem as f64 / link.bandwidth
        + op.messages(nf, nb as f64, p) * link.latency;
    let time = compute + comm;
    Prediction {
        nodes,
        time,
        compute,
        efficiency: compute / time,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_node_is_pure_compute() {
        let p = predict(ModelOp::Gemm, 1000, 64, 8, 1, 1e10, &ETHERNET_10G, 1.0);
        assert!((p.time - 0.2).abs() < 1e-12);
        assert_eq!(p.efficiency, 1.0);
    }

    #[test]
    fn faster_links_are_never_slower() {
        for nodes in [4, 16, 64] {
            let slow = predict(ModelOp::Gemm, 8192, 64, 8, nodes, 5e10, &ETHERNET_10G, 1.0);
            let fast = predict(ModelOp::Gemm, 8192, 64, 8, nodes, 5e10, &FABRIC_100G, 1.0);
            assert!(fast.time < slow.time && fast.efficiency > slow.efficiency);
            assert!(slow.compute == fast.compute);
        }
    }
}
