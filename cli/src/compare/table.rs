//! The terminal view of a report: one row per measured cell, one row per engine that lacks the
//! operation, then the verdicts.

use std::fmt::Write as _;

use super::load::BUSY_LIMIT;
use super::report::{Pick, Report, Verdict};
use super::run::{CellResult, Status};
use super::units;

/// Backward-error ratios above this are flagged `!` in the table: a backward-stable result
/// stays below a few units, so 100 means something is off, not unlucky rounding.
pub const ACCURACY_FLAG: f64 = 100.0;

/// Column headers of the table.
pub const HEADERS: [&str; 12] = [
    "op", "dtype", "n", "engine", "threads", "median", "±IQR", "rate", "speedup", "eff", "%peak",
    "accuracy",
];

/// The accuracy column: the backward-error ratio, `=ref` when bit-identical to the `blas`
/// engine at 1 thread, `!` above [`ACCURACY_FLAG`].
pub fn accuracy_text(c: &CellResult) -> String {
    let mut s = c.backward_error.map_or_else(
        || "-".to_string(),
        |e| {
            if e != 0.0 && e.abs() < 1e-3 {
                format!("{e:.1e}")
            } else {
                units::number(e)
            }
        },
    );
    if c.backward_error.is_some_and(|e| e > ACCURACY_FLAG) {
        s.push_str(" !");
    }
    if c.bit_identical == Some(true) {
        s.push_str(" =ref");
    }
    s
}

fn threads_text(c: &CellResult) -> String {
    if c.oversubscribed {
        format!("{}*", c.threads)
    } else {
        c.threads.to_string()
    }
}

fn ranges(mut t: Vec<usize>) -> String {
    t.sort_unstable();
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < t.len() {
        let mut j = i;
        while j + 1 < t.len() && t[j + 1] == t[j] + 1 {
            j += 1;
        }
        parts.push(if j > i {
            format!("{}-{}", t[i], t[j])
        } else {
            t[i].to_string()
        });
        i = j + 1;
    }
    parts.join(",")
}

/// The table rows (without the header): measured and failed cells one per row; the
/// unsupported cells of one engine and size collapsed into one `n/a` row.
pub fn rows(report: &Report) -> Vec<[String; 12]> {
    let cells = &report.cells;
    let cores = report.config.usable_cores.max(1) as f64;
    let mut out = Vec::new();
    let mut done_na: Vec<(String, String, usize, String)> = Vec::new();
    for c in cells {
        let key = (
            c.op.clone(),
            c.dtype.to_string(),
            c.size,
            c.engine.to_string(),
        );
        let head = |threads: String| -> [String; 5] {
            [
                c.op.clone(),
                c.dtype.to_string(),
                c.size.to_string(),
                c.engine.to_string(),
                threads,
            ]
        };
        let row: Option<[String; 12]> = match c.status {
            Status::Unsupported => {
                if done_na.contains(&key) {
                    None
                } else {
                    let threads: Vec<usize> = cells
                        .iter()
                        .filter(|o| {
                            o.status == Status::Unsupported
                                && o.op == c.op
                                && o.dtype == c.dtype
                                && o.size == c.size
                                && o.engine == c.engine
                        })
                        .map(|o| o.threads)
                        .collect();
                    done_na.push(key);
                    let [a, b, n, e, t] = head(ranges(threads));
                    Some([
                        a,
                        b,
                        n,
                        e,
                        t,
                        "n/a".into(),
                        String::new(),
                        "not implemented".into(),
                        String::new(),
                        String::new(),
                        String::new(),
                        String::new(),
                    ])
                }
            }
            Status::Error => {
                let [a, b, n, e, t] = head(threads_text(c));
                let msg = c.message.clone().unwrap_or_default();
                Some([
                    a,
                    b,
                    n,
                    e,
                    t,
                    "error".into(),
                    String::new(),
                    msg,
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                ])
            }
            Status::Ok => {
                let [a, b, n, e, t] = head(threads_text(c));
                let time = c.time;
                Some([
                    a,
                    b,
                    n,
                    e,
                    t,
                    time.map_or("-".into(), |s| {
                        let busy = c.others_busy.is_some_and(|b| b > BUSY_LIMIT);
                        format!("{}{}", if busy { "~" } else { "" }, units::time(s.median))
                    }),
                    time.map_or("-".into(), |s| units::percent(s.relative_iqr())),
                    c.rate.map_or("-".into(), |r| units::rate(r, &c.unit)),
                    c.speedup.map_or("-".into(), |x| {
                        // More than the cores can give: noise, not a result.
                        let noise = if x > cores { " ?" } else { "" };
                        format!("{}{noise}", units::factor(x))
                    }),
                    c.efficiency.map_or("-".into(), units::percent),
                    c.peak_fraction.map_or("-".into(), units::percent),
                    accuracy_text(c),
                ])
            }
        };
        out.extend(row);
    }
    out
}

/// Which columns are right-aligned (numbers).
const RIGHT: [bool; 12] = [
    false, false, true, false, true, true, true, true, true, true, true, false,
];

/// The table as text, a blank line between (operation, element type, size) groups.
pub fn render_table(report: &Report) -> String {
    let rows = rows(report);
    let mut width = HEADERS.map(|h| h.chars().count());
    for r in &rows {
        for (w, cell) in width.iter_mut().zip(r) {
            // Error messages do not widen the rate column for every row.
            *w = (*w).max(cell.chars().count().min(24));
        }
    }
    let line = |cells: &[String]| -> String {
        let mut s = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let pad = width[i].saturating_sub(cell.chars().count());
            if i > 0 {
                s.push_str("  ");
            }
            if RIGHT[i] {
                s.push_str(&" ".repeat(pad));
                s.push_str(cell);
            } else {
                s.push_str(cell);
                if i + 1 < cells.len() {
                    s.push_str(&" ".repeat(pad));
                }
            }
        }
        s.trim_end().to_string()
    };
    let mut s = line(&HEADERS.map(String::from));
    s.push('\n');
    let mut prev: Option<(String, String, String)> = None;
    for r in &rows {
        let key = (r[0].clone(), r[1].clone(), r[2].clone());
        if prev.as_ref().is_some_and(|p| *p != key) {
            s.push('\n');
        }
        prev = Some(key);
        s.push_str(&line(r));
        s.push('\n');
    }
    s
}

/// What the columns mean, printed under the table.
pub fn legend(report: &Report) -> String {
    let cores = report.config.usable_cores;
    format!(
        "median: time per call; ±IQR: interquartile range / median; rate: nominal flops (or bytes \
         for memory-bound ops) / median;\nspeedup: same engine at 1 thread / this; eff: speedup / \
         min(threads, {cores} cores); %peak: rate / the measured FMA peak (bandwidth for memory-bound \
         ops) at min(threads, {cores}) threads;\naccuracy: backward error / (n·ε) bound (≤ ~1 is \
         right; `!` above {ACCURACY_FLAG}), `=ref`: bit-identical to blas at 1 thread; `*`: more \
         threads than cores; `~`: other processes kept more than {BUSY_LIMIT} cores busy while the \
         cell ran; `?` after a speedup: above the {cores} cores, so noise (in the plots too).\n"
    )
}

fn pick_text(p: &Pick) -> String {
    format!("{} {}t", p.engine, p.threads)
}

/// One verdict line (without the operation name).
pub fn verdict_line(v: &Verdict) -> String {
    let peak = v
        .winner
        .peak_fraction
        .map_or(String::new(), |f| format!("{} of peak", units::percent(f)));
    let mut s = format!(
        "n={:<8} {:<15} {:>9} {:>14}",
        v.size,
        pick_text(&v.winner),
        units::time(v.winner.median),
        peak
    );
    match (v.runner_up, v.margin) {
        (Some(r), Some(_)) if v.within_noise => {
            // A margin smaller than the spread of the timings: a re-run may swap them.
            let _ = write!(s, "  tie with {} (within noise)", pick_text(&r));
        }
        (Some(r), Some(m)) => {
            let _ = write!(s, "  {} faster than {}", units::factor(m), pick_text(&r));
        }
        _ => {
            s.push_str("  only engine measured");
            if let Some(n) = v.next_threads {
                let _ = write!(
                    s,
                    "; {} faster than {}",
                    units::factor(n.median / v.winner.median),
                    pick_text(&n)
                );
            }
        }
    }
    if !v.unsupported.is_empty() {
        let names: Vec<String> = v.unsupported.iter().map(|e| e.to_string()).collect();
        let _ = write!(s, "  [n/a: {}]", names.join(", "));
    }
    if let Some(a) = v.auto {
        let _ = write!(
            s,
            "  auto: {:.2}x of the best ({} {}t",
            a.of_best, a.engine, a.threads
        );
        if let Some(p) = a.same_plan {
            let _ = write!(s, "; {p:.2}x its fixed cell");
        }
        s.push(')');
    }
    s
}

/// The verdicts per (operation, element type), with the oversubscription cost.
pub fn render_verdicts(report: &Report) -> String {
    let mut s = String::from(
        "Verdict: the fastest fixed engine/threads per size, its share of the machine's peak, by \
         how much it beats the best of the other engines, and how close `auto` (at the usable \
         cores) came: best time within that many threads / auto's time, 1.00x = as fast as the \
         best fixed choice (when auto's first samples were more than 5 % behind, both cells were \
         timed as long again, side by side, and the ratio reads all samples); `its fixed cell`: \
         the fixed cell that runs what auto ran / auto's time, the noise between two \
         measurements of one plan\n",
    );
    let mut prev: Option<(String, String)> = None;
    for v in &report.verdicts {
        let key = (v.op.clone(), v.dtype.to_string());
        if prev.as_ref() != Some(&key) {
            let _ = writeln!(s, "  {} {}", v.op, v.dtype);
            let over: Vec<String> = report
                .oversubscription
                .iter()
                .filter(|o| o.op == v.op && o.dtype == v.dtype)
                .map(|o| format!("{} {}", o.engine, units::factor(o.slowdown)))
                .collect();
            prev = Some(key);
            for line in report
                .verdicts
                .iter()
                .filter(|w| w.op == v.op && w.dtype == v.dtype)
                .map(verdict_line)
            {
                let _ = writeln!(s, "    {line}");
            }
            if !over.is_empty() {
                let cores = report.config.usable_cores;
                let size = report
                    .oversubscription
                    .iter()
                    .find(|o| o.op == v.op && o.dtype == v.dtype)
                    .map_or(0, |o| o.size);
                let _ = writeln!(
                    s,
                    "    oversubscribed: {} threads take {} the time of {cores} at n={size}",
                    cores + 1,
                    over.join(", ")
                );
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_ranges_collapse() {
        assert_eq!(ranges(vec![3, 1, 2]), "1-3");
        assert_eq!(ranges(vec![1, 2, 4, 8, 9]), "1-2,4,8-9");
        assert_eq!(ranges(vec![5]), "5");
    }
}
