//! Percentiles and the formatting of figures.

use std::time::Duration;

/// p50, p90, p99 and max of a sample of latencies.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    /// Median.
    pub p50: Duration,
    /// 90th percentile.
    pub p90: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// Largest.
    pub max: Duration,
    /// How many samples.
    pub n: usize,
}

/// The summary of `samples` (nearest-rank percentiles); `None` when empty.
pub fn summarize(samples: &[Duration]) -> Option<Summary> {
    if samples.is_empty() {
        return None;
    }
    let mut s = samples.to_vec();
    s.sort_unstable();
    let rank = |p: f64| s[((p * s.len() as f64).ceil() as usize).clamp(1, s.len()) - 1];
    Some(Summary { p50: rank(0.50), p90: rank(0.90), p99: rank(0.99), max: s[s.len() - 1], n: s.len() })
}

/// A duration in the unit that suits it.
pub fn fmt_dur(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1000.0 {
        format!("{us:.0} µs")
    } else if us < 1e6 {
        format!("{:.2} ms", us / 1000.0)
    } else {
        format!("{:.2} s", us / 1e6)
    }
}

/// `ward / baseline` as `1.23×`, or `n/a`.
pub fn ratio(ward: f64, base: f64) -> String {
    if base > 0.0 { format!("{:.2}×", ward / base) } else { "n/a".into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        let s = summarize(&v).unwrap();
        assert_eq!((s.p50, s.p90, s.p99, s.max), (v[49], v[89], v[98], v[99]));
        let one = summarize(&[Duration::from_millis(7)]).unwrap();
        assert_eq!(one.p99, Duration::from_millis(7));
        assert!(summarize(&[]).is_none());
    }

    #[test]
    fn formats() {
        assert_eq!(fmt_dur(Duration::from_micros(420)), "420 µs");
        assert_eq!(fmt_dur(Duration::from_micros(1500)), "1.50 ms");
        assert_eq!(ratio(2.0, 1.0), "2.00×");
        assert_eq!(ratio(2.0, 0.0), "n/a");
    }
}
