//! `report.html`: one self-contained page (no scripts, no network; every plot inlined as SVG,
//! each also linked to its file next to the page).

use std::fmt::Write as _;

use super::plot::Plot;
use super::report::Report;
use super::table;

/// Escapes text for HTML.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The SVG element of a plot without any XML prolog (so it can sit inside HTML).
fn inline_svg(svg: &str) -> &str {
    svg.find("<svg").map_or(svg, |i| &svg[i..])
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;\
padding:0 1em;color:#222}table{border-collapse:collapse;font-size:13px}\
td,th{padding:2px 8px;border-bottom:1px solid #ddd;white-space:nowrap}\
th{background:#f3f3f3;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}\
tr.na td{color:#999}tr.err td{color:#b00}pre{background:#f7f7f7;padding:1em;overflow-x:auto}\
figure{margin:1.5em 0}figcaption{font-size:13px;color:#555}svg{max-width:100%;height:auto}";

/// The page.
pub fn render(report: &Report, plots: &[Plot]) -> String {
    let m = &report.machine;
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>parla compare — {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(&m.cpu.model)
    );
    let _ = writeln!(s, "<h1>parla compare</h1>");
    let _ = writeln!(
        s,
        "<p>{} — {} usable cores ({} logical), OpenBLAS {} ({}, {}). parla {}; run took {:.0} s; \
         seed {}{}.</p>",
        escape(&m.cpu.model),
        m.cpu.usable_cores,
        m.cpu.logical_cores,
        escape(&m.blas.version),
        escape(&m.blas.corename),
        escape(&m.blas.threading),
        escape(&report.parla_version),
        report.wall_seconds,
        report.config.seed,
        if report.config.quick {
            "; --quick preset"
        } else {
            ""
        }
    );
    let peaks = match &report.peaks {
        Some(p) => format!(
            "Ceilings from <code>parla peak</code> ({}; FMA kernel {}).",
            escape(&report.peaks_source),
            escape(&p.isa)
        ),
        None => "No ceilings were available: the %peak column is empty.".to_string(),
    };
    let _ = writeln!(s, "<p>{peaks}</p>");
    if let Some(w) = report.busy_warning() {
        let _ = writeln!(s, "<p><b>{}</b></p>", escape(&w));
    }
    let _ = writeln!(s, "<h2>Operations</h2>\n<ul>");
    for o in &report.config.ops {
        let _ = writeln!(
            s,
            "<li><b>{}</b>: {} — rated in {}</li>",
            escape(&o.name),
            escape(&o.summary),
            escape(&o.unit)
        );
    }
    let _ = writeln!(s, "</ul>");

    let _ = writeln!(
        s,
        "<h2>Verdict</h2>\n<pre>{}</pre>",
        escape(&table::render_verdicts(report))
    );

    let _ = writeln!(s, "<h2>Plots</h2>");
    for p in plots {
        let _ = writeln!(
            s,
            "<figure id=\"{id}\">\n{svg}\n<figcaption>{title} — <a href=\"{file}\">{file}</a>\
             </figcaption>\n</figure>",
            id = escape(p.file.trim_end_matches(".svg")),
            svg = inline_svg(&p.svg),
            title = escape(&p.title),
            file = escape(&p.file),
        );
    }

    let _ = writeln!(s, "<h2>All cells</h2>\n<table>\n<tr>");
    for h in table::HEADERS {
        let _ = write!(s, "<th>{}</th>", escape(h));
    }
    let _ = writeln!(s, "</tr>");
    for r in table::rows(report) {
        let class = match r[5].as_str() {
            "n/a" => " class=\"na\"",
            "error" => " class=\"err\"",
            _ => "",
        };
        let _ = write!(s, "<tr{class}>");
        for (i, cell) in r.iter().enumerate() {
            let num = if (5..=10).contains(&i) || i == 2 || i == 4 {
                " class=\"num\""
            } else {
                ""
            };
            let _ = write!(s, "<td{num}>{}</td>", escape(cell));
        }
        let _ = writeln!(s, "</tr>");
    }
    let _ = writeln!(s, "</table>");
    let _ = writeln!(
        s,
        "<p><small>{}</small></p>",
        escape(&table::legend(report))
    );
    let _ = writeln!(s, "</body>\n</html>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_and_prolog_stripping() {
        assert_eq!(escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
        assert_eq!(
            inline_svg("<?xml version=\"1.0\"?>\n<svg x=\"1\"/>"),
            "<svg x=\"1\"/>"
        );
        assert_eq!(inline_svg("<svg/>"), "<svg/>");
    }
}
