//! SVG plots of a report (plotters, SVG backend; text is written as SVG `<text>` elements, so
//! no font is needed to make them and the viewer's font draws them).
//!
//! Per (operation, element type):
//! - `rate-<op>-<dtype>.svg`: GFLOP/s (GB/s for memory-bound operations) against `n`, one
//!   series per engine at 1 thread and at all cores, with the measured ceiling at those thread
//!   counts as dashed lines (`peak 1t`, `peak 2t`);
//! - `speedup-<op>-<dtype>.svg`: speedup over 1 thread against threads at the largest size
//!   measured on more than one thread count, one series per engine, with the ideal line
//!   `min(threads, cores)` (dashed).

use plotters::prelude::*;

use super::grid::Dtype;
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
            drawn.label(label.as_str()).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2))
            });
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
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], grey));
            labels.push(label.clone());
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
        * 1.15;
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
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], PEAK_GREY));
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
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c));
            chart
                .draw_series(pts.iter().map(|&p| Circle::new(p, 4, c.filled())))
                .map_err(|e| plot_error(&file, e))?;
            labels.push(label.clone());
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
