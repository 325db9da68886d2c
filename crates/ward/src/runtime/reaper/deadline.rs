//! A deadline on each exec. Until a vfork-like child has exec'd, the thread
//! that forked it waits (see `runtime::clone3`), and in the keeper that
//! thread is the keeper's loop: a child whose exec never ends (born into a
//! frozen cgroup, its program or working folder on a file system that does
//! not answer) would hold every other restart, spawn and stop behind it.
//!
//! So each fork arms a timer (a `timerfd` in the reaper's epoll: no wake-up
//! unless it expires) and disarms it once the fork returned (two system
//! calls per fork). When it expires, the reaper's loop kills the child still
//! starting: the one named when it was armed, else the newest child of the
//! forking thread (read from `/proc/self/task/TID/children` only then, and
//! only while that thread sleeps in the kernel, blocked in the fork: its
//! newest child is the one). The fork then returns, and says the exec timed
//! out. Armed and disarmed under one lock: a child is never killed after its
//! fork was said to have returned.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use rustix::time::{Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags, Timespec};

/// How long a child may take from its fork to its exec, unless
/// `WARD_EXEC_DEADLINE_MS` says otherwise.
const DEFAULT: Duration = Duration::from_secs(10);

/// How long a child may take from its fork to its exec here.
pub fn after() -> Duration {
    static AFTER: std::sync::OnceLock<Duration> = std::sync::OnceLock::new();
    *AFTER.get_or_init(|| {
        std::env::var("WARD_EXEC_DEADLINE_MS")
            .ok()
            .and_then(|ms| ms.parse::<u64>().ok())
            .filter(|&ms| ms > 0)
            .map_or(DEFAULT, Duration::from_millis)
    })
}

/// The timer, and the forks it is armed for.
#[derive(Debug)]
pub(super) struct Deadline {
    timer: OwnedFd,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Counts the arms: which one is which.
    arms: u64,
    /// Forks under way (one in the keeper, which forks on one thread).
    armed: Vec<Armed>,
    /// Arms whose child was killed, until their fork is told.
    killed: Vec<u64>,
}

#[derive(Debug, Clone, Copy)]
struct Armed {
    arm: u64,
    due: Instant,
    after: Duration,
    /// The forking thread.
    tid: i32,
    /// The child, when known before its exec (a real fork's).
    pid: Option<u32>,
}

impl Deadline {
    /// A disarmed timer.
    pub(super) fn new() -> io::Result<Deadline> {
        let flags = TimerfdFlags::CLOEXEC | TimerfdFlags::NONBLOCK;
        let timer = rustix::time::timerfd_create(TimerfdClockId::Monotonic, flags)?;
        Ok(Deadline { timer, state: Mutex::default() })
    }

    /// The descriptor that becomes readable when a deadline passed.
    pub(super) fn fd(&self) -> BorrowedFd<'_> {
        self.timer.as_fd()
    }

    /// Arms a deadline `after` from now for a fork by the calling thread of
    /// `pid` (or, when `None`, of the child it is forking); returns the arm,
    /// for [`Deadline::disarm`].
    pub(super) fn arm(&self, pid: Option<u32>, after: Duration) -> u64 {
        let now = now();
        let mut state = self.lock();
        state.arms += 1;
        let arm = state.arms;
        let due = now + after;
        let earliest = state.armed.iter().map(|a| a.due).min();
        let tid = rustix::thread::gettid().as_raw_nonzero().get();
        state.armed.push(Armed { arm, due, after, tid, pid });
        if earliest.is_none_or(|e| due < e) {
            self.set(after);
        }
        arm
    }

    /// Disarms `arm`; true when its child was killed for having taken too long.
    pub(super) fn disarm(&self, arm: u64) -> bool {
        let mut state = self.lock();
        if let Some(i) = state.armed.iter().position(|a| a.arm == arm) {
            state.armed.swap_remove(i);
            if state.armed.is_empty() {
                self.set(Duration::ZERO);
            }
        }
        match state.killed.iter().position(|&k| k == arm) {
            Some(i) => {
                state.killed.swap_remove(i);
                true
            }
            None => false,
        }
    }

    /// The timer expired: kills each child whose exec is overdue (none when
    /// its fork was disarmed just as the timer expired), and sets the timer
    /// for the next deadline.
    pub(super) fn expired(&self) {
        let mut buf = [0u8; 8];
        let _ = rustix::io::read(&self.timer, &mut buf);
        let now = now();
        let mut state = self.lock();
        let (overdue, armed): (Vec<Armed>, Vec<Armed>) = state.armed.iter().partition(|a| a.due <= now);
        state.armed = armed;
        for a in overdue {
            let pid = match a.pid {
                Some(pid) => Some(pid),
                // Only while the forking thread waits in the fork (asleep in
                // the kernel) is its newest child the one starting; else (a
                // thread held up before its fork) look again later.
                None if in_fork(a.tid) => newest_child(a.tid),
                None => {
                    state.armed.push(Armed { due: now + a.after, ..a });
                    continue;
                }
            };
            let Some(pid) = pid else { continue };
            let Ok(raw) = i32::try_from(pid) else { continue };
            // SAFETY: kill takes plain integers; `pid` is a child of ours that
            // is not reaped (its fork has not returned), so the number is its.
            unsafe { libc::kill(raw, libc::SIGKILL) };
            state.killed.push(a.arm);
            tracing::warn!(
                "keeper: process {pid} had not started its program long after its fork; killed (a frozen \
                 cgroup, or its program or working folder on a file system that does not answer?)"
            );
        }
        if let Some(next) = state.armed.iter().map(|a| a.due).min() {
            self.set(next.saturating_duration_since(now).max(Duration::from_millis(1)));
        }
    }

    fn set(&self, after: Duration) {
        let value = Timespec { tv_sec: after.as_secs() as i64, tv_nsec: i64::from(after.subsec_nanos()) };
        let spec = Itimerspec { it_interval: Timespec { tv_sec: 0, tv_nsec: 0 }, it_value: value };
        if let Err(e) = rustix::time::timerfd_settime(&self.timer, TimerfdTimerFlags::empty(), &spec) {
            tracing::warn!("reaper: cannot set the exec deadline: {e}");
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Whether thread `tid` of this process sleeps in the kernel, uninterruptibly
/// (state `D`), as a thread waiting for its vfork child does.
fn in_fork(tid: i32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")) else { return false };
    stat.rfind(')').and_then(|i| stat[i + 1..].split_whitespace().next()) == Some("D")
}

/// The newest child of thread `tid` of this process.
fn newest_child(tid: i32) -> Option<u32> {
    let list = std::fs::read_to_string(format!("/proc/self/task/{tid}/children")).ok()?;
    // Newest last: a new child goes to the end of its parent's list.
    list.split_whitespace().filter_map(|p| p.parse().ok()).next_back()
}

/// The deadlines' one clock read: when a fork is due, for the timer in the
/// kernel (no decision of ward's is taken on it).
#[allow(clippy::disallowed_methods)]
fn now() -> Instant {
    Instant::now()
}

impl super::ReaperHandle {
    /// Waits for `wait` (the exec of child `pid`, forked earlier, told on a
    /// pipe) under an exec deadline of `after`; with whether the child was
    /// killed for being late.
    pub fn within_deadline<T>(&self, pid: u32, after: Duration, wait: impl FnOnce() -> T) -> (T, bool) {
        let Some(deadline) = &self.shared.watch.deadline else { return (wait(), false) };
        let arm = deadline.arm(Some(pid), after);
        let out = wait();
        (out, deadline.disarm(arm))
    }
}
