//! The crash-loop window: the times of recent crashes, and whether they trip the gate.
//!
//! A crash at time `t` is inside the window at `now` while `now - t < window`:
//! the window is the half-open interval `(now - window, now]`. The gate trips
//! when the crash just recorded is the `threshold`-th inside it (reached, not
//! exceeded).

use super::config::CrashLoopConfig;
use crate::time::MonoTime;
use std::collections::VecDeque;

/// The crashes of one instance that still fall inside the rolling window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrashWindow {
    spec: CrashLoopConfig,
    crashes: VecDeque<MonoTime>,
}

impl CrashWindow {
    /// An empty window.
    pub fn new(config: CrashLoopConfig) -> Self {
        CrashWindow { spec: config, crashes: VecDeque::new() }
    }

    /// Records a crash at `now`; true when it trips the gate.
    pub fn record(&mut self, now: MonoTime) -> bool {
        self.expire(now);
        self.crashes.push_back(now);
        let threshold = self.spec.threshold.max(1) as usize;
        // Never keep more than the threshold: older crashes cannot matter.
        while self.crashes.len() > threshold {
            self.crashes.pop_front();
        }
        self.crashes.len() >= threshold
    }

    /// Crashes inside the window at `now`.
    pub fn count(&self, now: MonoTime) -> u32 {
        self.crashes.iter().filter(|t| self.inside(**t, now)).count() as u32
    }

    /// The recorded crash times, oldest first (possibly some already outside the window).
    pub fn times(&self) -> impl Iterator<Item = MonoTime> + '_ {
        self.crashes.iter().copied()
    }

    /// Restores crash times (e.g. from the store), oldest first.
    pub fn restore(&mut self, times: impl IntoIterator<Item = MonoTime>) {
        self.crashes = times.into_iter().collect();
    }

    /// Forgets every crash.
    pub fn clear(&mut self) {
        self.crashes.clear();
    }

    /// The settings of this window.
    pub fn config(&self) -> &CrashLoopConfig {
        &self.spec
    }

    fn inside(&self, t: MonoTime, now: MonoTime) -> bool {
        now.saturating_since(t) < self.spec.window
    }

    fn expire(&mut self, now: MonoTime) {
        while let Some(&t) = self.crashes.front() {
            if self.inside(t, now) {
                break;
            }
            self.crashes.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn w(threshold: u32, window_ms: u64) -> CrashWindow {
        CrashWindow::new(CrashLoopConfig {
            threshold,
            window: Duration::from_millis(window_ms),
            cooldown: Duration::from_secs(1),
        })
    }

    fn t(ms: u64) -> MonoTime {
        MonoTime::from_millis(ms)
    }

    #[test]
    fn trips_at_threshold_not_before() {
        let mut w = w(3, 1000);
        assert!(!w.record(t(0)));
        assert!(!w.record(t(100)), "N-1 crashes do not trip");
        assert!(w.record(t(200)), "the Nth crash trips");
    }

    #[test]
    fn threshold_one_trips_on_first_crash() {
        assert!(w(1, 1000).record(t(5)));
    }

    #[test]
    fn window_boundary_is_half_open() {
        let mut w1 = w(2, 1000);
        w1.record(t(0));
        assert!(w1.record(t(999)), "999ms apart is inside a 1s window");
        let mut w2 = w(2, 1000);
        w2.record(t(0));
        assert!(!w2.record(t(1000)), "exactly one window apart is outside");
    }

    #[test]
    fn window_slides() {
        let mut w = w(3, 1000);
        w.record(t(0));
        w.record(t(600));
        assert!(!w.record(t(1100)), "the crash at 0 slid out");
        assert_eq!(w.count(t(1100)), 2);
        assert!(w.record(t(1500)), "600, 1100, 1500 are inside one window");
        assert_eq!(w.count(t(1599)), 3);
        assert_eq!(w.count(t(1600)), 2);
    }

    #[test]
    fn clear_forgets() {
        let mut w = w(2, 1000);
        w.record(t(0));
        w.clear();
        assert!(!w.record(t(10)));
    }
}
