//! The start records of the service instances: a FIFO that every instance
//! writes one line to when it starts, read by one thread, and the latest
//! pid of each replica.

use std::ffi::CString;
use std::io::{BufRead, BufReader};
use std::os::fd::FromRawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

/// One instance's start, as it recorded it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Start {
    /// Its replica index.
    pub replica: usize,
    /// Its pid.
    pub pid: u32,
    /// When it started, CLOCK_MONOTONIC nanoseconds.
    pub ns: u64,
}

/// The FIFO, its reader thread, and what it has seen.
pub struct Feed {
    /// Path of the FIFO (given to instances as `BENCH_OUT`).
    pub path: PathBuf,
    rx: mpsc::Receiver<Start>,
    /// The latest pid of each replica, by index.
    pub pids: Vec<Option<u32>>,
}

impl Feed {
    /// Makes a FIFO at `path` and starts reading it.
    pub fn open(path: &Path) -> std::io::Result<Feed> {
        let c = CString::new(path.as_os_str().as_bytes())?;
        // SAFETY: `c` is a valid NUL-terminated path.
        if unsafe { libc::mkfifo(c.as_ptr(), 0o600) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        // Read-write, so the FIFO never sees EOF when writers come and go,
        // and opening it for writing never blocks.
        // SAFETY: `c` is a valid path; the flags are plain integers.
        let fd = unsafe { libc::open(c.as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // A large buffer so that 10,000 instances starting at once never block.
        // SAFETY: fcntl on our own fd; failure only leaves the default size.
        unsafe { libc::fcntl(fd, libc::F_SETPIPE_SZ, 1 << 20) };
        // SAFETY: `fd` was just opened and is owned by the File from here on.
        let file = unsafe { std::fs::File::from_raw_fd(fd) };
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new().name("feed".into()).spawn(move || {
            for line in BufReader::new(file).lines() {
                let Ok(line) = line else { return };
                if let Some(s) = parse(&line) {
                    if tx.send(s).is_err() {
                        return;
                    }
                }
            }
        })?;
        Ok(Feed { path: path.to_path_buf(), rx, pids: vec![] })
    }

    /// The next start, or `None` after `timeout`.
    pub fn next(&mut self, timeout: Duration) -> Option<Start> {
        let s = self.rx.recv_timeout(timeout).ok()?;
        if self.pids.len() <= s.replica {
            self.pids.resize(s.replica + 1, None);
        }
        self.pids[s.replica] = Some(s.pid);
        Some(s)
    }

    /// Waits for a start of `replica` by a pid other than `old`.
    pub fn next_of(&mut self, replica: usize, old: u32, timeout: Duration) -> Option<Start> {
        loop {
            let s = self.next(timeout)?;
            if s.replica == replica && s.pid != old {
                return Some(s);
            }
        }
    }

    /// Waits until every replica in `0..n` started (again, when `since` is
    /// given: after that time); returns the latest start time, or `None` on timeout.
    pub fn all_started(&mut self, n: usize, since: u64, timeout: Duration) -> Option<u64> {
        self.all_started_among(&(0..n).collect::<Vec<_>>(), since, timeout)
    }

    /// [`Feed::all_started`] for the replicas `among`.
    pub fn all_started_among(&mut self, among: &[usize], since: u64, timeout: Duration) -> Option<u64> {
        let mut waited: std::collections::HashSet<usize> = among.iter().copied().collect();
        let mut last = since;
        while !waited.is_empty() {
            let s = self.next(timeout)?;
            if s.ns >= since && waited.remove(&s.replica) {
                last = last.max(s.ns);
            }
        }
        Some(last)
    }

    /// Every instance pid seen last for each replica.
    pub fn live_pids(&self) -> impl Iterator<Item = u32> + '_ {
        self.pids.iter().flatten().copied()
    }
}

fn parse(line: &str) -> Option<Start> {
    let mut it = line.split_ascii_whitespace();
    let replica = it.next()?.parse().ok()?;
    let pid = it.next()?.parse().ok()?;
    let ns = it.next()?.parse().ok()?;
    Some(Start { replica, pid, ns })
}

/// Now on CLOCK_MONOTONIC, in nanoseconds (the clock the instances record).
pub fn mono_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_start_line() {
        assert_eq!(parse("3 1234 99"), Some(Start { replica: 3, pid: 1234, ns: 99 }));
        assert_eq!(parse("3 x 99"), None);
    }
}
