//! A child's start time, read off the clock around its fork instead of from
//! `/proc/PID/stat` once it runs.
//!
//! The kernel stamps a new task with `CLOCK_BOOTTIME` while it forks it, and
//! `/proc/PID/stat` shows that stamp in clock ticks (field 22, `starttime`).
//! Reading the same clock just before and just after the fork brackets the
//! stamp: when both readings fall in the same tick, so does the stamp, and
//! the start time is known exactly without a path walk in `/proc` (whose
//! entry the kernel would also have to drop again when the child is reaped).
//! When they straddle a tick, it is not known here, and is read as before.

use std::sync::OnceLock;

/// The clock reading taken just before a fork.
#[derive(Clone, Copy, Debug)]
pub struct Birth {
    before: u64,
}

impl Birth {
    /// Reads the clock; fork next.
    pub fn begin() -> Birth {
        Birth { before: boottime_ns() }
    }

    /// After the fork: the child's start time in clock ticks after boot (as
    /// `/proc/PID/stat` shows it), when the fork fell within one tick.
    pub fn start_time(self) -> Option<u64> {
        let tick = ns_per_tick()?;
        let after = boottime_ns();
        (self.before / tick == after / tick).then_some(after / tick)
    }
}

/// `CLOCK_BOOTTIME` in ns, the clock the kernel stamps tasks with (shifted,
/// like `/proc`'s reading of it, by this process's time namespace).
fn boottime_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_BOOTTIME always exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut ts) };
    (ts.tv_sec as u64).saturating_mul(1_000_000_000).saturating_add(ts.tv_nsec as u64)
}

/// Nanoseconds per clock tick (`USER_HZ`, 100 on Linux); `None` when the
/// tick does not divide a second evenly (the kernel then converts otherwise).
fn ns_per_tick() -> Option<u64> {
    static TICK: OnceLock<Option<u64>> = OnceLock::new();
    *TICK.get_or_init(|| {
        // SAFETY: sysconf takes a plain integer.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        u64::try_from(hz).ok().filter(|&hz| hz > 0 && 1_000_000_000 % hz == 0).map(|hz| 1_000_000_000 / hz)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bracketed_start_time_is_the_one_proc_shows() {
        let mut known = 0;
        for _ in 0..200 {
            let birth = Birth::begin();
            let mut child = std::process::Command::new("sleep").arg("5").spawn().expect("sleep runs");
            let ours = birth.start_time();
            let procs = crate::runtime::process::process_start_time(child.id());
            let _ = child.kill();
            let _ = child.wait();
            if let Some(ours) = ours {
                assert_eq!(Some(ours), procs, "bracketed and read start times differ");
                known += 1;
            }
        }
        assert!(known > 150, "the fork fell within one tick only {known} times of 200");
    }
}
