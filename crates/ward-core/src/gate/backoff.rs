//! The backoff curve: `initial × factor^n`, capped at `max`, then times a jitter factor.

use super::config::BackoffConfig;
use std::time::Duration;

/// The current position on a service's backoff curve.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Backoff {
    spec: BackoffConfig,
    /// The delay (before jitter) the next crash will wait.
    next: Duration,
}

impl Backoff {
    /// A fresh curve: the next delay is `initial`.
    pub fn new(config: BackoffConfig) -> Self {
        Backoff { spec: config, next: config.initial }
    }

    /// The delay before jitter that the next crash will wait.
    pub fn next_delay(&self) -> Duration {
        self.next
    }

    /// The delay that would follow the next one.
    pub fn delay_after_next(&self) -> Duration {
        grow(self.next, self.spec)
    }

    /// Takes the next delay, multiplied by `jitter` (clamped to `[1-j, 1+j]`),
    /// and advances the curve by one step (×factor, capped at max).
    pub fn take(&mut self, jitter: f64) -> Duration {
        let delay = apply_jitter(self.next, jitter, self.spec.jitter);
        self.next = grow(self.next, self.spec);
        delay
    }

    /// Back to the start of the curve.
    pub fn reset(&mut self) {
        self.next = self.spec.initial;
    }

    /// The settings this curve follows.
    pub fn config(&self) -> &BackoffConfig {
        &self.spec
    }
}

fn grow(d: Duration, spec: BackoffConfig) -> Duration {
    let grown = d.as_secs_f64() * spec.factor.max(1.0);
    if !grown.is_finite() || grown >= spec.max.as_secs_f64() {
        spec.max.max(d.min(spec.max))
    } else {
        Duration::from_secs_f64(grown)
    }
}

/// `delay × jitter`, the factor clamped to `[1 - j, 1 + j]` so a caller's
/// bad draw can never break the bounds; rounded to whole milliseconds.
fn apply_jitter(delay: Duration, jitter: f64, j: f64) -> Duration {
    let f = if jitter.is_finite() { jitter.clamp(1.0 - j, 1.0 + j) } else { 1.0 };
    let ms = (delay.as_secs_f64() * 1000.0 * f).round();
    Duration::from_millis(ms.max(0.0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> BackoffConfig {
        BackoffConfig {
            initial: Duration::from_millis(500),
            factor: 2.0,
            max: Duration::from_secs(4),
            jitter: 0.1,
        }
    }

    #[test]
    fn first_delay_is_initial_then_doubles_up_to_cap() {
        let mut b = Backoff::new(spec());
        let got: Vec<u64> = (0..6).map(|_| b.take(1.0).as_millis() as u64).collect();
        assert_eq!(got, vec![500, 1000, 2000, 4000, 4000, 4000]);
    }

    #[test]
    fn cap_is_hit_exactly_even_when_factor_overshoots() {
        let mut s = spec();
        s.max = Duration::from_millis(1500);
        let mut b = Backoff::new(s);
        let got: Vec<u64> = (0..4).map(|_| b.take(1.0).as_millis() as u64).collect();
        assert_eq!(got, vec![500, 1000, 1500, 1500]);
    }

    #[test]
    fn jitter_bounds_are_inclusive_and_clamped() {
        let mut b = Backoff::new(spec());
        assert_eq!(b.take(0.9), Duration::from_millis(450));
        b.reset();
        assert_eq!(b.take(1.1), Duration::from_millis(550));
        b.reset();
        assert_eq!(b.take(5.0), Duration::from_millis(550), "clamped to 1+j");
        b.reset();
        assert_eq!(b.take(0.0), Duration::from_millis(450), "clamped to 1-j");
        b.reset();
        assert_eq!(b.take(f64::NAN), Duration::from_millis(500));
    }

    #[test]
    fn factor_one_is_flat_and_reset_restarts_the_curve() {
        let mut s = spec();
        s.factor = 1.0;
        let mut b = Backoff::new(s);
        assert_eq!(b.take(1.0), b.take(1.0));
        let mut b = Backoff::new(spec());
        b.take(1.0);
        b.take(1.0);
        assert_eq!(b.next_delay(), Duration::from_secs(2));
        assert_eq!(b.delay_after_next(), Duration::from_secs(4));
        b.reset();
        assert_eq!(b.next_delay(), Duration::from_millis(500));
    }

    #[test]
    fn zero_initial_stays_zero() {
        let mut s = spec();
        s.initial = Duration::ZERO;
        let mut b = Backoff::new(s);
        assert_eq!(b.take(1.1), Duration::ZERO);
        assert_eq!(b.take(1.1), Duration::ZERO);
    }
}
