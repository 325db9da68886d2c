//! What an instance uses, from its cgroup: CPU time (v2 `cpu.stat`, v1
//! `cpuacct.usage`), memory now and at its peak (v2 `memory.current` and
//! `memory.peak`, v1 `memory.usage_in_bytes` and `memory.max_usage_in_bytes`)
//! and the kernel's OOM kills in it (v2 `memory.events`, v1
//! `memory.oom_control`).

use super::Cgroups;
use super::create::Instance;
use super::detect::Controller;
use std::path::Path;

pub use ward_supervisor::ports::usage::CgroupStats as Stats;

impl Instance {
    /// Reads its stats.
    pub fn stats(&self) -> Stats {
        let mut s = Stats { oom_kills: self.oom_kills(), ..Stats::default() };
        if let Some(dir) = &self.v2 {
            s.cpu_usec = keyed(&dir.join("cpu.stat"), "usage_usec");
            if self.v2_memory {
                s.memory_bytes = number(&dir.join("memory.current"));
                s.memory_peak_bytes = number(&dir.join("memory.peak"));
            }
        }
        if let Some(dir) = self.v1_dir(Controller::Cpuacct) {
            s.cpu_usec = s.cpu_usec.or_else(|| number(&dir.join("cpuacct.usage")).map(|ns| ns / 1000));
        }
        if let Some(dir) = self.v1_dir(Controller::Memory) {
            s.memory_bytes = s.memory_bytes.or_else(|| number(&dir.join("memory.usage_in_bytes")));
            s.memory_peak_bytes =
                s.memory_peak_bytes.or_else(|| number(&dir.join("memory.max_usage_in_bytes")));
        }
        s
    }

    /// Whether its memory peak goes on from run to run: a v2 `memory.peak`
    /// is reset only for one open descriptor (Linux 6.12), so a reused
    /// folder's says the highest of every run since it was made. v1's is
    /// reset when the folder is reused ([`Instance::reset_peak`]).
    pub fn peak_carries(&self) -> bool {
        self.v2.is_some() && self.v2_memory
    }

    /// Starts the v1 memory peak of a reused folder afresh (a write to
    /// `memory.max_usage_in_bytes` sets it to what the empty folder holds),
    /// so that the next run's peak is its own.
    pub(super) fn reset_peak(&self) {
        if self.peak_carries() {
            return;
        }
        if let Some(dir) = self.v1_dir(Controller::Memory) {
            if let Err(e) = std::fs::write(dir.join("memory.max_usage_in_bytes"), "0") {
                tracing::debug!("cgroup: cannot reset the memory peak of {}: {e}", dir.display());
            }
        }
    }

    /// The OOM kills counted in its memory controller.
    pub fn oom_kills(&self) -> Option<u64> {
        let v2 = self
            .v2
            .as_ref()
            .filter(|_| self.v2_memory)
            .and_then(|d| keyed(&d.join("memory.events"), "oom_kill"));
        v2.or_else(|| {
            self.v1_dir(Controller::Memory).and_then(|d| keyed(&d.join("memory.oom_control"), "oom_kill"))
        })
    }
}

impl Cgroups {
    /// Brings every instance's v2 CPU counters up to date at once, so that
    /// reading one instance's `cpu.stat` afterwards is cheap.
    ///
    /// The kernel keeps per-CPU CPU times and folds them into a cgroup's
    /// `cpu.stat` when it is read ("rstat flush"). A cgroup with pending
    /// times sits in a per-CPU list of its parent's, singly linked, newest
    /// first; reading one child's file first unlinks it from that list,
    /// walking past every sibling updated after it. With thousands of
    /// instances that ran since the last read (all of them after `up`, every
    /// process that died in a storm), each read walked thousands: the reads
    /// of a storm cost its size squared. Reading the deployment's own
    /// `cpu.stat` folds the whole subtree in one pass and empties the lists.
    pub fn flush_counters(&self) {
        let fd = self.flusher.get_or_init(|| {
            use rustix::fs::{Mode, OFlags};
            let (base, _) = self.v2.as_ref()?;
            rustix::fs::open(base.join("cpu.stat"), OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty()).ok()
        });
        if let Some(fd) = fd {
            let mut buf = [0u8; 1024];
            let _ = rustix::io::pread(fd, &mut buf, 0);
        }
    }
}

/// A file holding one number.
fn number(path: &Path) -> Option<u64> {
    crate::kfile::read(path, |text| text.trim().parse().ok())
}

/// The value of `key` in a flat-keyed file (`key value` lines).
fn keyed(path: &Path, key: &str) -> Option<u64> {
    crate::kfile::read(path, |text| parse_keyed(text, key))
}

/// The value of `key` in `key value` lines (cgroup files, `/proc/vmstat`).
pub(crate) fn parse_keyed(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|l| l.strip_prefix(key)?.strip_prefix(' ')?.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    #[test]
    fn keyed_files() {
        let events = "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\noom_group_kill 0\n";
        assert_eq!(super::parse_keyed(events, "oom_kill"), Some(1));
        assert_eq!(super::parse_keyed(events, "oom"), Some(1));
        assert_eq!(super::parse_keyed("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n", "oom_kill"), Some(2));
        assert_eq!(super::parse_keyed("usage_usec 1234\nuser_usec 1000\n", "usage_usec"), Some(1234));
        assert_eq!(super::parse_keyed("", "x"), None);
    }
}
