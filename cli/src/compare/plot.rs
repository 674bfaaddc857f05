//! SVG plots of a report (plotters, SVG backend; text is written as SVG `<text>` elements, so
//! no font is needed to make them and the viewer's font draws them).
//!
//! Per (operation, element type):
//! - `rate-<op>-<dtype>.svg`: GFLOP/s (GB/s for memory-bound operations) against `n`, one
//!   series per engine at 1 thread and at all cores, with the measured ceiling at those thread
//!   counts as dashed lines (`peak 1t`, `peak 2t`); when only one size was measured (`--quick`),
//!   a bar per engine × thread count instead (a single point per line says nothing);
//! - `speedup-<op>-<dtype>.svg`: speedup over 1 thread against threads at the largest size
//!   measured on more than one thread count, one series per engine, with the ideal line
//!   `min(threads, cores)` (dashed).
//!
//! Legends draw each line as it is drawn in the plot (dashed lines dashed). Cells that ran
//! while other processes kept cores busy (`~` in the table) are marked `~` in the plots too; a
//! speedup above the core count (impossible but for noise) is marked `noise?`.

use plotters::element::ComposedElement;
use plotters::prelude::*;

use super::grid::Dtype;
use super::load::BUSY_LIMIT;
use super::report::{peak_for, Report};
use super::run::CellResult;
use parla::Engine;
use parla::{Error, Result};

/// One rendered plot.
#[derive(Debug, Clone)]
pub struct Plot {
    /// File name (no directory).
    pub file: String,
    /// Title shown above it.
    pub title: String,
    /// The legend entries, in drawing order.
    pub series: Vec<String>,
    /// The SVG document.
    pub svg: String,
}

const SIZE: (u32, u32) = (760, 460);

/// One line of a plot: label, colour, points.
struct Series {
    label: String,
    color: RGBColor,
    /// Drawn with open triangles (1 thread) rather than filled circles.
    one_thread: bool,
    points: Vec<(f64, f64)>,
}

fn color(engine: Engine) -> RGBColor {
    match engine {
        Engine::Blas => RGBColor(31, 119, 180),
        Engine::RayonBlas => RGBColor(255, 127, 14),
        Engine::Rayon => RGBColor(44, 160, 44),
        Engine::Auto => RGBColor(148, 103, 189),
    }
}

const PEAK_GREY: RGBColor = RGBColor(90, 90, 90);

/// `c` halfway to white.
fn lighter(c: RGBColor) -> RGBColor {
    let mix = |v: u8| ((u16::from(v) + 255) / 2) as u8;
    RGBColor(mix(c.0), mix(c.1), mix(c.2))
}

/// Axis labels: whole numbers without a decimal point, small ones with up to 2 decimals.
fn tick(x: &f64) -> String {
    if x.abs() >= 10.0 || x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    }
}

/// A legend sample: two pieces of line in backend pixels.
type LegendLine<DB> =
    ComposedElement<(i32, i32), DB, PathElement<(i32, i32)>, PathElement<(i32, i32)>>;

/// A legend sample: a 20-pixel line at `p`, solid or dashed like the series it stands for
/// (two dashes with a gap; a solid one is the same two pieces touching).
fn legend_line<DB: DrawingBackend>(
    p: (i32, i32),
    style: ShapeStyle,
    dashed: bool,
) -> LegendLine<DB> {
    let ((a0, a1), (b0, b1)) = if dashed {
        ((0, 7), (12, 19))
    } else {
        ((0, 10), (10, 20))
    };
    EmptyElement::at(p)
        + PathElement::new(vec![(a0, 0), (a1, 0)], style)
        + PathElement::new(vec![(b0, 0), (b1, 0)], style)
}

/// Whether other processes kept more than [`BUSY_LIMIT`] cores busy while `c` ran.
fn busy(c: &CellResult) -> bool {
    c.others_busy.is_some_and(|b| b > BUSY_LIMIT)
}

/// The mark of a busy cell (as in the table) and its legend entry.
const BUSY_MARK: &str = "~";
const BUSY_LEGEND: &str = "~ other work on the machine";

/// Label of speedups above the core count.
const NOISE_MARK: &str = "noise?";

fn plot_error(file: &str, e: impl std::fmt::Display) -> Error {
    Error::Io {
        op: "compare",
        path: file.to_string(),
        message: format!("cannot draw the plot: {e}"),
    }
}

/// Every plot of `report`, rate plots first.
///
/// # Errors
/// [`Error::Io`] if plotters fails to draw (it writes to memory, so only on a bug).
pub fn plots(report: &Report) -> Result<Vec<Plot>> {
    let mut keys: Vec<(String, Dtype)> = Vec::new();
    for c in report.cells.iter().filter(|c| c.is_ok()) {
        if !keys.iter().any(|(o, d)| *o == c.op && *d == c.dtype) {
            keys.push((c.op.clone(), c.dtype));
        }
    }
    let mut out = Vec::new();
    for (op, dtype) in &keys {
        let cells: Vec<&CellResult> = report
            .cells
            .iter()
            .filter(|c| c.is_ok() && &c.op == op && c.dtype == *dtype)
            .collect();
        out.push(rate_plot(report, op, *dtype, &cells)?);
    }
    for (op, dtype) in &keys {
        let cells: Vec<&CellResult> = report
            .cells
            .iter()
            .filter(|c| c.is_ok() && &c.op == op && c.dtype == *dtype)
            .collect();
        if let Some(p) = speedup_plot(report, op, *dtype, &cells)? {
            out.push(p);
        }
    }
    Ok(out)
}

fn engines_of(cells: &[&CellResult]) -> Vec<Engine> {
    let mut e: Vec<Engine> = Vec::new();
    for c in cells {
        if !e.contains(&c.engine) {
            e.push(c.engine);
        }
    }
    e
}

fn rate_plot(report: &Report, op: &str, dtype: Dtype, cells: &[&CellResult]) -> Result<Plot> {
    let one_size = cells
        .iter()
        .all(|c| cells.first().is_some_and(|f| f.size == c.size));
    if one_size {
        return rate_bars(report, op, dtype, cells);
    }
    let file = format!("rate-{op}-{dtype}.svg");
    let cores = report.config.usable_cores;
    let unit = cells
        .first()
        .map_or("GFLOP/s".to_string(), |c| c.unit.clone());
    let bound = cells.first().map(|c| c.bound);
    // Thread counts drawn: 1 and the largest count not above the cores (the full machine).
    let mut shown: Vec<usize> = Vec::new();
    for t in [1, cores] {
        let present = cells
            .iter()
            .filter(|c| c.threads <= t)
            .map(|c| c.threads)
            .max();
        if let Some(p) = present {
            if !shown.contains(&p) {
                shown.push(p);
            }
        }
    }
    let mut series: Vec<Series> = Vec::new();
    for engine in engines_of(cells) {
        for (k, &t) in shown.iter().enumerate() {
            let mut pts: Vec<(f64, f64)> = cells
                .iter()
                .filter(|c| c.engine == engine && c.threads == t)
                .filter_map(|c| Some((c.size as f64, c.rate?)))
                .collect();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            if !pts.is_empty() {
                series.push(Series {
                    label: format!("{engine} {t}t"),
                    color: color(engine),
                    one_thread: k == 0 && t == 1,
                    points: pts,
                });
            }
        }
    }
    let sizes: Vec<f64> = cells.iter().map(|c| c.size as f64).collect();
    let (xmin, xmax) = sizes
        .iter()
        .fold((f64::INFINITY, 0.0f64), |(a, b), &x| (a.min(x), b.max(x)));
    let (xmin, xmax) = if xmin.is_finite() {
        (xmin / 1.5, xmax * 1.5)
    } else {
        (1.0, 10.0)
    };
    let mut peaks: Vec<(String, f64)> = Vec::new();
    if let (Some(p), Some(bound)) = (report.peaks.as_ref(), bound) {
        for &t in &shown {
            if let Some(v) = peak_for(p, bound, dtype, t) {
                peaks.push((format!("peak {t}t"), v));
            }
        }
    }
    let ymax = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .chain(peaks.iter().map(|p| p.1))
        .fold(0.0f64, f64::max)
        .max(1e-9)
        * 1.15;
    let mut ticks: Vec<f64> = sizes.clone();
    ticks.sort_by(f64::total_cmp);
    ticks.dedup();
    let title = format!("{op} {dtype}: {unit} vs n");
    let mut svg = String::new();
    let mut labels = Vec::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(|e| plot_error(&file, e))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(&title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(64)
            // Ticks at the measured sizes (a log axis's own ticks crowd near each decade).
            .build_cartesian_2d(
                (xmin..xmax).log_scale().with_key_points(ticks.clone()),
                0.0..ymax,
            )
            .map_err(|e| plot_error(&file, e))?;
        chart
            .configure_mesh()
            .max_light_lines(2)
            .x_desc("n (log scale)")
            .y_desc(unit.as_str())
            .x_label_formatter(&tick)
            .y_label_formatter(&tick)
            .draw()
            .map_err(|e| plot_error(&file, e))?;
        for Series {
            label,
            color,
            one_thread,
            points: pts,
        } in &series
        {
            // All cores: solid line, filled circles. One thread: thin dashed line in a lighter
            // shade of the engine's colour, open triangles.
            let c = if *one_thread { lighter(*color) } else { *color };
            let drawn = if *one_thread {
                chart
                    .draw_series(DashedLineSeries::new(pts.clone(), 6, 3, c.stroke_width(2)))
                    .map_err(|e| plot_error(&file, e))?
            } else {
                chart
                    .draw_series(LineSeries::new(pts.clone(), c.stroke_width(2)))
                    .map_err(|e| plot_error(&file, e))?
            };
            let dashed = *one_thread;
            drawn
                .label(label.as_str())
                .legend(move |p| legend_line(p, c.stroke_width(2), dashed));
            if *one_thread {
                chart
                    .draw_series(
                        pts.iter()
                            .map(|&p| TriangleMarker::new(p, 5, c.stroke_width(1))),
                    )
                    .map_err(|e| plot_error(&file, e))?;
            } else {
                chart
                    .draw_series(pts.iter().map(|&p| Circle::new(p, 4, c.filled())))
                    .map_err(|e| plot_error(&file, e))?;
            }
            labels.push(label.clone());
        }
        for (k, (label, v)) in peaks.iter().enumerate() {
            // The 1-thread ceiling lighter than the all-cores one.
            let grey = if k == 0 && peaks.len() > 1 {
                lighter(PEAK_GREY)
            } else {
                PEAK_GREY
            };
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(xmin, *v), (xmax, *v)],
                    8,
                    5,
                    grey.stroke_width(1),
                ))
                .map_err(|e| plot_error(&file, e))?
                .label(label.as_str())
                .legend(move |p| legend_line(p, grey.stroke_width(1), true));
            labels.push(label.clone());
        }
        let marked: Vec<(f64, f64)> = cells
            .iter()
            .filter(|c| busy(c) && shown.contains(&c.threads))
            .filter_map(|c| Some((c.size as f64, c.rate?)))
            .collect();
        if !marked.is_empty() {
            draw_busy_marks(&mut chart, &marked, &file)?;
            labels.push(BUSY_LEGEND.to_string());
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .map_err(|e| plot_error(&file, e))?;
        root.present().map_err(|e| plot_error(&file, e))?;
    }
    Ok(Plot {
        file,
        title,
        series: labels,
        svg,
    })
}

fn speedup_plot(
    report: &Report,
    op: &str,
    dtype: Dtype,
    cells: &[&CellResult],
) -> Result<Option<Plot>> {
    // The largest size with a speedup at two or more thread counts.
    let mut sizes: Vec<usize> = cells.iter().map(|c| c.size).collect();
    sizes.sort_unstable();
    sizes.dedup();
    let size = sizes.into_iter().rev().find(|&n| {
        engines_of(cells).iter().any(|&e| {
            cells
                .iter()
                .filter(|c| c.size == n && c.engine == e && c.speedup.is_some())
                .count()
                >= 2
        })
    });
    let Some(size) = size else { return Ok(None) };
    let file = format!("speedup-{op}-{dtype}.svg");
    let cores = report.config.usable_cores.max(1);
    let mut series: Vec<Series> = Vec::new();
    for engine in engines_of(cells) {
        let mut pts: Vec<(f64, f64)> = cells
            .iter()
            .filter(|c| c.size == size && c.engine == engine)
            .filter_map(|c| Some((c.threads as f64, c.speedup?)))
            .collect();
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        if pts.len() >= 2 {
            series.push(Series {
                label: engine.to_string(),
                color: color(engine),
                one_thread: false,
                points: pts,
            });
        }
    }
    let tmax = cells.iter().map(|c| c.threads).max().unwrap_or(1) as f64;
    let ideal: Vec<(f64, f64)> = (1..=tmax as usize)
        .map(|t| (t as f64, t.min(cores) as f64))
        .collect();
    let ymax = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .chain(ideal.iter().map(|p| p.1))
        .fold(1.0f64, f64::max)
        * 1.25;
    let title = format!("{op} {dtype}: speedup over 1 thread at n = {size}");
    let mut svg = String::new();
    let mut labels = Vec::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(|e| plot_error(&file, e))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(&title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(56)
            .build_cartesian_2d(0.5..tmax + 0.5, 0.0..ymax)
            .map_err(|e| plot_error(&file, e))?;
        chart
            .configure_mesh()
            .x_desc(format!(
                "threads ({cores} usable cores; beyond = oversubscribed)"
            ))
            .y_desc("speedup")
            .x_labels((tmax as usize).clamp(2, 12))
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&tick)
            .draw()
            .map_err(|e| plot_error(&file, e))?;
        chart
            .draw_series(DashedLineSeries::new(
                ideal,
                8,
                5,
                PEAK_GREY.stroke_width(1),
            ))
            .map_err(|e| plot_error(&file, e))?
            .label("ideal")
            .legend(|p| legend_line(p, PEAK_GREY.stroke_width(1), true));
        labels.push("ideal".to_string());
        for Series {
            label,
            color: c,
            points: pts,
            ..
        } in &series
        {
            let c = *c;
            chart
                .draw_series(LineSeries::new(pts.clone(), c.stroke_width(2)))
                .map_err(|e| plot_error(&file, e))?
                .label(label.as_str())
                .legend(move |p| legend_line(p, c.stroke_width(2), false));
            chart
                .draw_series(pts.iter().map(|&p| Circle::new(p, 4, c.filled())))
                .map_err(|e| plot_error(&file, e))?;
            labels.push(label.clone());
        }
        let at_size = || cells.iter().filter(|c| c.size == size);
        let marked: Vec<(f64, f64)> = at_size()
            .filter(|c| busy(c))
            .filter_map(|c| Some((c.threads as f64, c.speedup?)))
            .collect();
        if !marked.is_empty() {
            draw_busy_marks(&mut chart, &marked, &file)?;
            labels.push(BUSY_LEGEND.to_string());
        }
        // More than the cores can give: noise (or a slow 1-thread reference), not a result.
        let noisy: Vec<(f64, f64)> = at_size()
            .filter_map(|c| Some((c.threads as f64, c.speedup?)))
            .filter(|&(_, s)| s > cores as f64)
            .collect();
        if !noisy.is_empty() {
            let legend = format!("{NOISE_MARK} speedup above the {cores} cores");
            chart
                .draw_series(noisy.iter().map(|&(t, s)| {
                    EmptyElement::at((t, s))
                        + Text::new(
                            NOISE_MARK,
                            (6, -14),
                            ("sans-serif", 13).into_font().color(&RED),
                        )
                }))
                .map_err(|e| plot_error(&file, e))?
                .label(legend.as_str())
                .legend(|(x, y)| {
                    EmptyElement::at((x, y))
                        + Text::new("?", (4, -8), ("sans-serif", 14).into_font().color(&RED))
                });
            labels.push(legend);
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .map_err(|e| plot_error(&file, e))?;
        root.present().map_err(|e| plot_error(&file, e))?;
    }
    Ok(Some(Plot {
        file,
        title,
        series: labels,
        svg,
    }))
}

/// Marks busy cells with `~` above their points, and adds the legend entry.
fn draw_busy_marks<'a, DB: DrawingBackend + 'a, X, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    points: &[(f64, f64)],
    file: &str,
) -> Result<()>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    chart
        .draw_series(points.iter().map(|&p| {
            EmptyElement::at(p) + Text::new(BUSY_MARK, (-4, -22), ("sans-serif", 18).into_font())
        }))
        .map_err(|e| plot_error(file, e))?
        .label(BUSY_LEGEND)
        .legend(|(x, y)| {
            EmptyElement::at((x, y))
                + Text::new(BUSY_MARK, (4, -10), ("sans-serif", 18).into_font())
        });
    Ok(())
}

/// The rate plot of an operation measured at one size: one bar per engine × thread count
/// (threads beyond the cores marked `*`, busy cells `~`), labelled with its rate and, when
/// the ceiling is known, its share of it.
fn rate_bars(_report: &Report, op: &str, dtype: Dtype, cells: &[&CellResult]) -> Result<Plot> {
    let file = format!("rate-{op}-{dtype}.svg");
    let unit = cells
        .first()
        .map_or("GFLOP/s".to_string(), |c| c.unit.clone());
    let size = cells.first().map_or(0, |c| c.size);
    let mut bars: Vec<(String, RGBColor, f64, Option<f64>)> = Vec::new();
    let mut any_busy = false;
    for engine in engines_of(cells) {
        let mut mine: Vec<&&CellResult> = cells.iter().filter(|c| c.engine == engine).collect();
        mine.sort_by_key(|c| c.threads);
        for c in mine {
            let Some(rate) = c.rate else { continue };
            let mut label = format!("{engine} {}t", c.threads);
            if c.oversubscribed {
                label.push('*');
            }
            if busy(c) {
                label.push(' ');
                label.push_str(BUSY_MARK);
                any_busy = true;
            }
            bars.push((label, color(engine), rate, c.peak_fraction));
        }
    }
    let n = bars.len().max(1);
    let ymax = bars.iter().map(|b| b.2).fold(0.0f64, f64::max).max(1e-9) * 1.2;
    let title =
        format!("{op} {dtype}: {unit} at n = {size} (one size: a bar per engine and threads)");
    let mut svg = String::new();
    let mut labels = Vec::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(|e| plot_error(&file, e))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(&title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(64)
            .build_cartesian_2d((0..n).into_segmented(), 0.0..ymax)
            .map_err(|e| plot_error(&file, e))?;
        let names: Vec<String> = bars.iter().map(|b| b.0.clone()).collect();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .max_light_lines(2)
            .x_desc(if any_busy {
                "engine and threads (* more threads than cores; ~ other work on the machine)"
            } else {
                "engine and threads (* more threads than cores)"
            })
            .y_desc(unit.as_str())
            .x_labels(n)
            .x_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => names.get(*i).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .y_label_formatter(&tick)
            .draw()
            .map_err(|e| plot_error(&file, e))?;
        for (i, (label, c, rate, fraction)) in bars.iter().enumerate() {
            let mut bar = Rectangle::new(
                [
                    (SegmentValue::Exact(i), 0.0),
                    (SegmentValue::Exact(i + 1), *rate),
                ],
                c.filled(),
            );
            bar.set_margin(0, 0, 10, 10);
            chart
                .draw_series(std::iter::once(bar))
                .map_err(|e| plot_error(&file, e))?;
            let text = match fraction {
                Some(f) => format!("{} ({} of peak)", tick(rate), super::units::percent(*f)),
                None => tick(rate),
            };
            chart
                .draw_series(std::iter::once(
                    EmptyElement::at((SegmentValue::CenterOf(i), *rate))
                        + Text::new(text, (-30, -16), ("sans-serif", 12).into_font()),
                ))
                .map_err(|e| plot_error(&file, e))?;
            labels.push(label.clone());
        }
        root.present().map_err(|e| plot_error(&file, e))?;
    }
    Ok(Plot {
        file,
        title,
        series: labels,
        svg,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(stroke colour, x1, y1, x2, y2)` of every two-point polyline of an SVG document.
    fn segments(svg: &str) -> Vec<(String, f64, f64, f64, f64)> {
        let doc = roxmltree::Document::parse(svg).expect("valid SVG");
        doc.descendants()
            .filter(|n| n.has_tag_name("polyline"))
            .filter_map(|n| {
                let pts: Vec<f64> = n
                    .attribute("points")?
                    .split([' ', ','])
                    .filter(|t| !t.is_empty())
                    .map(|t| t.parse().unwrap())
                    .collect();
                (pts.len() == 4).then(|| {
                    (
                        n.attribute("stroke").unwrap_or("").to_string(),
                        pts[0],
                        pts[1],
                        pts[2],
                        pts[3],
                    )
                })
            })
            .collect()
    }

    fn texts(svg: &str) -> Vec<String> {
        let doc = roxmltree::Document::parse(svg).expect("valid SVG");
        doc.descendants()
            .filter(|n| n.has_tag_name("text"))
            .filter_map(|n| n.text().map(|t| t.trim().to_string()))
            .collect()
    }

    fn hex(c: RGBColor) -> String {
        format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
    }

    /// The sample report (gemm at n = 100, blas and rayon at 1 to 3 threads on 2 cores, the
    /// blas 2-thread cell run on a busy machine) measured at a second size too.
    fn two_sizes() -> Report {
        let mut r = crate::compare::report::tests::sample_report();
        let more: Vec<CellResult> = r
            .cells
            .iter()
            .map(|c| {
                let mut c = c.clone();
                c.size = 200;
                c.rate = c.rate.map(|x| x * 1.5);
                c.others_busy = None;
                c
            })
            .collect();
        r.cells.extend(more);
        r
    }

    #[test]
    fn a_single_size_is_drawn_as_bars_of_engines_and_threads() {
        let r = crate::compare::report::tests::sample_report();
        let plots = plots(&r).unwrap();
        let rate = plots
            .iter()
            .find(|p| p.file == "rate-gemm-float64.svg")
            .unwrap();
        // One bar per measured engine × threads (blas and rayon at 1 to 3 threads).
        assert_eq!(rate.series.len(), 6, "{:?}", rate.series);
        assert!(rate.title.contains("n = 100"));
        let doc = roxmltree::Document::parse(&rate.svg).unwrap();
        let bars = doc
            .descendants()
            .filter(|n| {
                n.has_tag_name("rect")
                    && [hex(color(Engine::Blas)), hex(color(Engine::Rayon))]
                        .iter()
                        .any(|c| n.attribute("fill") == Some(c.as_str()))
            })
            .count();
        assert_eq!(bars, 6);
        let t = texts(&rate.svg);
        assert!(t.iter().any(|x| x == "blas 2t ~"), "busy bar marked: {t:?}");
        assert!(t.iter().any(|x| x == "rayon 3t*"), "{t:?}");
        // The axis fits the bars, not the (far higher) ceiling: no peak line.
        assert!(!t.iter().any(|x| x.starts_with("peak")));
    }

    #[test]
    fn dashed_lines_are_dashed_in_the_legend_and_busy_cells_are_marked() {
        let r = two_sizes();
        let plots = plots(&r).unwrap();
        let rate = plots
            .iter()
            .find(|p| p.file == "rate-gemm-float64.svg")
            .unwrap();
        assert!(
            rate.series.iter().any(|s| s == "peak 2t"),
            "{:?}",
            rate.series
        );
        // Every dashed series (1-thread lines in a lighter shade, the ceilings in grey) has no
        // solid 20-pixel legend sample; the all-cores lines have theirs in two touching pieces.
        let dashed = [
            hex(lighter(color(Engine::Blas))),
            hex(lighter(color(Engine::Rayon))),
            hex(PEAK_GREY),
            hex(lighter(PEAK_GREY)),
        ];
        let segs = segments(&rate.svg);
        for (stroke, x1, y1, x2, y2) in &segs {
            if dashed.contains(stroke) && y1 == y2 {
                assert!(
                    (x2 - x1).abs() < 10.0,
                    "solid legend sample for {stroke}: {x1}..{x2}"
                );
            }
        }
        assert!(
            segs.iter()
                .any(|(s, x1, y1, x2, y2)| *s == hex(PEAK_GREY) && y1 == y2 && (x2 - x1) == 7.0),
            "the ceiling's legend sample is two 7-pixel dashes"
        );
        let t = texts(&rate.svg);
        assert!(t.iter().any(|x| x == BUSY_MARK), "busy cell marked: {t:?}");
        assert!(t.iter().any(|x| x == BUSY_LEGEND), "{t:?}");
        // Nothing busy at n = 200 alone: no mark.
        let mut quiet = two_sizes();
        quiet.cells.iter_mut().for_each(|c| c.others_busy = None);
        let rate = plots_of(&quiet, "rate-gemm-float64.svg");
        assert!(!texts(&rate).iter().any(|x| x == BUSY_MARK));
    }

    fn plots_of(r: &Report, file: &str) -> String {
        plots(r)
            .unwrap()
            .into_iter()
            .find(|p| p.file == file)
            .unwrap()
            .svg
    }

    #[test]
    fn speedups_above_the_cores_are_flagged_as_noise() {
        let mut r = two_sizes();
        let svg = plots_of(&r, "speedup-gemm-float64.svg");
        assert!(!texts(&svg).iter().any(|x| x == NOISE_MARK));
        // rayon at 3 threads on 2 cores: 2.6× is not possible but for noise.
        for c in r
            .cells
            .iter_mut()
            .filter(|c| c.size == 200 && c.engine == Engine::Rayon && c.threads == 3)
        {
            c.speedup = Some(2.6);
        }
        let svg = plots_of(&r, "speedup-gemm-float64.svg");
        let t = texts(&svg);
        assert!(t.iter().any(|x| x == NOISE_MARK), "{t:?}");
        let rows = crate::compare::table::rows(&r);
        let row = rows
            .iter()
            .find(|x| x[2] == "200" && x[3] == "rayon" && x[4] == "3*")
            .unwrap();
        assert_eq!(row[8], "2.60× ?");
        let ok = rows
            .iter()
            .find(|x| x[2] == "200" && x[3] == "rayon" && x[4] == "2")
            .unwrap();
        assert!(!ok[8].contains('?'));
    }
}
