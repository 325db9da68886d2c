//! Monotonic time as the core sees it: milliseconds since an origin the shell picks.
//!
//! The core never reads a clock. The shell converts its own `Instant` into a
//! [`MonoTime`] in one place and passes it to every call that needs "now".

use std::fmt;
use std::ops::{Add, Sub};
use std::time::Duration;

/// A point on the shell's monotonic clock, in milliseconds since its origin.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MonoTime(u64);

impl MonoTime {
    /// The origin of the clock.
    pub const ZERO: MonoTime = MonoTime(0);

    /// A time `ms` milliseconds after the origin.
    pub const fn from_millis(ms: u64) -> Self {
        MonoTime(ms)
    }

    /// Milliseconds since the origin.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// The time elapsed from `earlier` to `self`, zero if `earlier` is later.
    pub fn saturating_since(self, earlier: MonoTime) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }
}

/// A [`Duration`] since the origin, as a time (whole milliseconds, saturating).
impl From<Duration> for MonoTime {
    fn from(since_origin: Duration) -> MonoTime {
        MonoTime::ZERO + since_origin
    }
}

impl Add<Duration> for MonoTime {
    type Output = MonoTime;
    fn add(self, d: Duration) -> MonoTime {
        let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        MonoTime(self.0.saturating_add(ms))
    }
}

impl Sub<Duration> for MonoTime {
    type Output = MonoTime;
    fn sub(self, d: Duration) -> MonoTime {
        let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        MonoTime(self.0.saturating_sub(ms))
    }
}

impl fmt::Display for MonoTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}ms", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates() {
        let t = MonoTime::from_millis(10);
        assert_eq!(t + Duration::from_millis(5), MonoTime::from_millis(15));
        assert_eq!(t - Duration::from_millis(50), MonoTime::ZERO);
        assert_eq!(t.saturating_since(MonoTime::from_millis(20)), Duration::ZERO);
        assert_eq!(MonoTime::from_millis(u64::MAX) + Duration::from_secs(1), MonoTime::from_millis(u64::MAX));
    }
}
