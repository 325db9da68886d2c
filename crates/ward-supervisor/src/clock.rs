//! The one place in ward that reads clocks, and the source of jitter.
//!
//! Monotonic time is handed to ward-core as [`MonoTime`] (milliseconds since
//! this clock's origin); wall-clock time is only for display and the store.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::Instant;
use ward_core::MonoTime;

/// Where this clock's [`MonoTime`]s start: far enough from zero that times of
/// an earlier run of ward (restored from the store) are still representable.
const EPOCH_MS: u64 = 1 << 40;

/// Reads the monotonic and wall clocks, or, under simulation, a clock that
/// moves only when told ([`Clock::manual`]).
#[derive(Clone, Debug)]
pub struct Clock {
    origin: Instant,
    manual: Option<Arc<ManualTime>>,
}

/// The time of a manual clock: monotonic and wall milliseconds, set by its owner.
#[derive(Debug, Default)]
pub struct ManualTime {
    /// Monotonic milliseconds since the clock's origin.
    pub mono_ms: AtomicU64,
    /// Unix milliseconds.
    pub wall_ms: AtomicU64,
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock {
    /// A clock whose origin is now.
    pub fn new() -> Self {
        Clock { origin: Instant::now(), manual: None }
    }

    /// A clock that reads `time` (for a simulation: time is an input).
    pub fn manual(time: Arc<ManualTime>) -> Self {
        Clock { origin: Instant::now(), manual: Some(time) }
    }

    /// Now, on the monotonic clock.
    pub fn now(&self) -> MonoTime {
        let elapsed = match &self.manual {
            Some(m) => m.mono_ms.load(Ordering::Relaxed),
            None => self.origin.elapsed().as_millis() as u64,
        };
        MonoTime::from_millis(EPOCH_MS + elapsed)
    }

    /// The tokio instant of a monotonic time, for timers.
    pub fn instant(&self, t: MonoTime) -> Instant {
        self.origin + Duration::from_millis(t.as_millis().saturating_sub(EPOCH_MS))
    }

    /// Now, as Unix time in milliseconds.
    #[allow(clippy::disallowed_methods)] // the one wall-clock read
    pub fn wall_ms(&self) -> u64 {
        if let Some(m) = &self.manual {
            return m.wall_ms.load(Ordering::Relaxed);
        }
        SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
    }

    /// The Unix time in milliseconds of a monotonic time, seen from now.
    pub fn wall_of(&self, t: MonoTime) -> u64 {
        self.walls().of(t)
    }

    /// Both clocks read once, to turn many monotonic times into Unix times
    /// (an instance's row: its crash times, a hundred in a crash loop).
    pub fn walls(&self) -> Walls {
        Walls { now: self.now().as_millis() as i128, wall: self.wall_ms() as i128 }
    }
}

/// Both clocks at one moment (see [`Clock::walls`]).
#[derive(Clone, Copy, Debug)]
pub struct Walls {
    now: i128,
    wall: i128,
}

impl Walls {
    /// The Unix time in milliseconds of monotonic time `t`, seen from that moment.
    pub fn of(&self, t: MonoTime) -> u64 {
        (self.wall + (t.as_millis() as i128 - self.now)).max(0) as u64
    }
}

/// Measures how long something took (metrics only; never a decision).
#[derive(Clone, Copy, Debug)]
pub struct Stopwatch(std::time::Instant);

impl Stopwatch {
    /// Starts measuring.
    #[allow(clippy::disallowed_methods)] // a measurement, never fed to ward-core
    pub fn start() -> Self {
        Stopwatch(std::time::Instant::now())
    }

    /// The time since [`Stopwatch::start`].
    pub fn elapsed(&self) -> Duration {
        self.0.elapsed()
    }
}

/// Draws jitter factors: a small xorshift generator seeded from the clock and pid.
/// Jitter only spreads restarts apart; it needs no cryptographic quality.
#[derive(Clone, Debug)]
pub struct Jitter {
    state: u64,
}

impl Jitter {
    /// A generator with a given seed (a simulation's).
    pub fn with_seed(seed: u64) -> Self {
        Jitter { state: seed.max(1) }
    }

    /// A generator seeded from the wall clock and the pid.
    pub fn seeded(clock: &Clock) -> Self {
        let seed = clock.wall_ms() ^ (u64::from(std::process::id()) << 32) ^ 0x9E37_79B9_7F4A_7C15;
        Jitter { state: seed.max(1) }
    }

    /// A factor drawn uniformly in `[1 - j, 1 + j]`.
    pub fn factor(&mut self, j: f64) -> f64 {
        let mut x = self.state;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.state = x;
        let unit = (x >> 11) as f64 / (1u64 << 53) as f64; // [0, 1)
        1.0 - j + 2.0 * j * unit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_in_bounds() {
        let mut j = Jitter { state: 42 };
        for _ in 0..10_000 {
            let f = j.factor(0.25);
            assert!((0.75..=1.25).contains(&f), "{f}");
        }
        assert_eq!(j.factor(0.0), 1.0);
    }

    #[test]
    fn monotonic_times_map_to_wall_times_seen_from_one_moment() {
        let time = Arc::new(ManualTime::default());
        time.mono_ms.store(5_000, Ordering::Relaxed);
        time.wall_ms.store(1_700_000_000_000, Ordering::Relaxed);
        let clock = Clock::manual(time.clone());
        let now = clock.now();
        let walls = clock.walls();
        assert_eq!(walls.of(now), 1_700_000_000_000);
        assert_eq!(walls.of(now + Duration::from_millis(1500)), 1_700_000_001_500);
        assert_eq!(walls.of(MonoTime::from_millis(now.as_millis() - 2_000)), 1_699_999_998_000);
        // A time from before the Unix epoch is 0.
        let early = Clock::manual(Arc::new(ManualTime::default()));
        assert_eq!(early.walls().of(MonoTime::from_millis(1)), 0);
        // The clocks move on; `walls` keeps the moment it read, `wall_of` reads them anew.
        time.mono_ms.store(9_000, Ordering::Relaxed);
        time.wall_ms.store(1_700_000_004_000, Ordering::Relaxed);
        assert_eq!(walls.of(now), 1_700_000_000_000);
        assert_eq!(clock.wall_of(now), 1_700_000_000_000);
    }
}
