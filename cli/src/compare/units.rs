//! Numbers for people: times with their unit (s, ms, µs, ns), rates, ratios and percentages,
//! all to three significant digits.

/// `x` rounded to three significant digits (`0`, NaN and ±Inf unchanged).
pub fn sig3(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let digits = 2 - x.abs().log10().floor() as i32;
    // Scale by an exact power of ten on the side where it is an integer (10⁻³ is not exact).
    // Rounding can carry into a new digit (9.996 → 10.0): that value has three digits already.
    if digits >= 0 {
        let scale = 10f64.powi(digits);
        (x * scale).round() / scale
    } else {
        let scale = 10f64.powi(-digits);
        (x / scale).round() * scale
    }
}

/// `x` (already rounded) with as many decimals as three significant digits need:
/// `123`, `12.3`, `1.23`, `0.123`, `0.0123`.
fn digits3(x: f64) -> String {
    if x == 0.0 {
        return "0".to_string();
    }
    let decimals = (2 - x.abs().log10().floor() as i32).max(0) as usize;
    format!("{x:.decimals$}")
}

/// A number to three significant digits (`-` for NaN or ±Inf): `1234`, `98.2`, `0.0421`.
pub fn number(x: f64) -> String {
    if !x.is_finite() {
        return "-".to_string();
    }
    let r = sig3(x);
    if r.abs() >= 1000.0 {
        // Whole numbers from 1000 up: every digit shown, none invented.
        format!("{x:.0}")
    } else {
        digits3(r)
    }
}

/// A duration in seconds with the unit that keeps it between 1 and 1000 (`s` at most):
/// `1.23 s`, `45.6 ms`, `789 µs`, `12.0 ns`. `-` for negative, NaN or infinite input.
pub fn time(seconds: f64) -> String {
    if !seconds.is_finite() || seconds < 0.0 {
        return "-".to_string();
    }
    if seconds == 0.0 {
        return "0 s".to_string();
    }
    // Round first, so 0.9996 s shows as `1.00 s`, not `1000 ms`.
    let r = sig3(seconds);
    let (value, unit) = if r >= 1.0 {
        (r, "s")
    } else if r >= 1e-3 {
        (r * 1e3, "ms")
    } else if r >= 1e-6 {
        (r * 1e6, "µs")
    } else {
        (r * 1e9, "ns")
    };
    // Scaling by 1e3 can leave 1.2299999: round again before printing.
    let value = sig3(value);
    let text = if value >= 1000.0 {
        format!("{seconds:.0}")
    } else {
        // Keep trailing zeros: `1.00 s` says three digits are meaningful.
        let decimals = (2 - value.log10().floor() as i32).max(0) as usize;
        format!("{value:.decimals$}")
    };
    format!("{text} {unit}")
}

/// A rate with its unit: `98.2 GFLOP/s`, `31.4 GB/s`.
pub fn rate(value: f64, unit: &str) -> String {
    format!("{} {unit}", number(value))
}

/// A ratio as a factor: `1.93×`.
pub fn factor(x: f64) -> String {
    if !x.is_finite() {
        return "-".to_string();
    }
    format!("{}×", number(x))
}

/// A fraction as a percentage to three significant digits: `0.873` → `87.3%`, `1.2` → `120%`.
pub fn percent(fraction: f64) -> String {
    if !fraction.is_finite() {
        return "-".to_string();
    }
    format!("{}%", number(fraction * 100.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_pick_the_unit_and_three_digits() {
        assert_eq!(time(1.23456), "1.23 s");
        assert_eq!(time(12.0), "12.0 s");
        assert_eq!(time(1234.0), "1234 s");
        assert_eq!(time(0.0012345), "1.23 ms");
        assert_eq!(time(0.045_67), "45.7 ms");
        assert_eq!(time(0.000_789), "789 µs");
        assert_eq!(time(2.5e-7), "250 ns");
        assert_eq!(time(1.2e-8), "12.0 ns");
        // Rounding up crosses the unit boundary.
        assert_eq!(time(0.9996), "1.00 s");
        assert_eq!(time(0.000_999_7), "1.00 ms");
        assert_eq!(time(0.0), "0 s");
        assert_eq!(time(f64::NAN), "-");
        assert_eq!(time(-1.0), "-");
    }

    #[test]
    fn numbers_rates_factors_percentages() {
        assert_eq!(number(98.24), "98.2");
        assert_eq!(number(0.042_14), "0.0421");
        assert_eq!(number(1234.4), "1234");
        assert_eq!(number(9.996), "10.0");
        assert_eq!(number(0.0), "0");
        assert_eq!(number(-4.5678), "-4.57");
        assert_eq!(rate(98.24, "GFLOP/s"), "98.2 GFLOP/s");
        assert_eq!(rate(31.44, "GB/s"), "31.4 GB/s");
        assert_eq!(factor(1.934), "1.93×");
        assert_eq!(factor(f64::INFINITY), "-");
        assert_eq!(percent(0.8734), "87.3%");
        assert_eq!(percent(1.2), "120%");
        assert_eq!(percent(0.004_21), "0.421%");
        assert_eq!(percent(f64::NAN), "-");
    }

    #[test]
    fn sig3_rounds_to_three_significant_digits() {
        assert_eq!(sig3(123_456.0), 123_000.0);
        assert_eq!(sig3(0.000_123_456), 0.000_123);
        assert_eq!(sig3(-9.996), -10.0);
        assert!(sig3(f64::NAN).is_nan());
    }
}
