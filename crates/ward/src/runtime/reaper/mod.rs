//! The reaper: the one place in ward that waits for children.
//!
//! Every child a runtime forks is recorded with [`ReaperHandle::forking`]
//! and watched through a pidfd: a loop (`watch`; in the keeper, on its main
//! thread) sleeps in `epoll_wait` on them and reaps each child the moment its
//! pidfd says it exited, by its pid. What was not forked that way (an orphan re-parented
//! to ward once [`become_subreaper`] was called, a child whose pidfd could
//! not be opened) is found by a sweep of `waitid(P_ALL)` (`sweep`). Each exit
//! is handed once, as an [`Exit`], to the sink given at start (the keeper's
//! unbounded input channel: sending never blocks and no exit is lost).
//!
//! Why not one `waitid(P_ALL)` for everything: the kernel answers it by
//! walking the list of every child until it finds one that exited, so with
//! 10,000 instances each exit cost a walk past thousands of live ones (about
//! 300 µs at 10,000 here). A pid's own wait is one lookup. The keeper forks
//! on a thread of its own and sweeps on the main thread, to which the kernel
//! re-parents orphans, with `__WNOTHREAD`: the sweep then walks only the
//! orphans (see [`Sweeper`]).
//!
//! Consequence: nothing else in ward may wait for a child, and
//! `std::process::Command` must not spawn supervised children (it waits
//! internally when exec fails). The process runtime forks on its own.

mod deadline;
mod sweep;
mod watch;

pub use deadline::after as exec_deadline;

pub use sweep::Sweeper;

use std::collections::HashSet;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::Thread;
use std::time::Duration;

use ward_core::ExitStatus;

use super::{Exit, Rusage};

/// Descriptors kept free for everything but pidfds.
const RESERVED: usize = 64;

/// Makes this process the child subreaper of its descendants: orphans are
/// re-parented to it (and so reaped by the [`Reaper`]) instead of to init.
pub fn become_subreaper() -> io::Result<()> {
    // SAFETY: PR_SET_CHILD_SUBREAPER takes one integer argument; the unused
    // arguments are passed as 0 as the man page asks.
    let rc = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1 as libc::c_ulong, 0, 0, 0) };
    if rc == 0 { Ok(()) } else { Err(io::Error::last_os_error()) }
}

/// The reaper, started by [`Reaper::start_with`] (threads of its own) or
/// [`Reaper::start_split`] (on the caller's main thread); it runs for the
/// life of the process.
#[derive(Debug)]
pub struct Reaper {
    handle: ReaperHandle,
}

/// What a runtime keeps to wake the reaper after a fork, and to signal the
/// process groups of its children. Cheap to clone.
#[derive(Clone, Debug)]
pub struct ReaperHandle {
    /// The sweeping thread that parks for lack of children ([`Reaper::start_with`]).
    sweeper: Option<Thread>,
    shared: Arc<Shared>,
}

/// The group leaders a runtime forked that the reaper has not reaped yet,
/// and how many forks are under way.
///
/// A pid cannot be reused while its process is unreaped (a zombie holds it),
/// and neither can a process group id while its leader is. So a group is
/// signalled only while its leader is in this set, under the lock the reaper
/// takes to remove the leader and reap it: a signal never reaches a stranger
/// that reused the number. A fork does not hold the lock while the child
/// starts (a `posix_spawn` waits for the exec): it counts itself under way,
/// and a sweep, finding a child it does not know while a fork is under way,
/// waits for that fork to record its child before reaping it.
#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    changed: Condvar,
    /// The hand-over of new leaders to the watching thread.
    watch: watch::Watch,
    /// How many leaders have no pidfd (`State::unwatched`): read by a sweep
    /// without the lock, which it must not wait for while a reap holds it.
    unwatched_n: AtomicUsize,
    /// How many leaders may be watched at once: the pidfds must fit under
    /// the descriptor limit; beyond it, leaders are swept for.
    budget: usize,
}

#[derive(Debug, Default)]
struct State {
    /// Group leaders of ours not reaped yet, by pid.
    leaders: HashSet<u32>,
    /// Leaders without a pidfd: while there are any, a sweep walks every
    /// thread's children.
    unwatched: HashSet<u32>,
    /// Leaders whose group is not killed when they are reaped (see [`Forking::forked_sparing_group`]).
    spared: HashSet<u32>,
    forking: usize,
    /// Leaders watched or to be watched (forks under way included).
    watched: usize,
}

impl Shared {
    fn new(lazy: bool) -> io::Result<Shared> {
        let watch = watch::Watch::new(lazy)?;
        let budget = rustix::process::getrlimit(rustix::process::Resource::Nofile)
            .current
            .map_or(usize::MAX, |n| usize::try_from(n).unwrap_or(usize::MAX))
            .saturating_sub(RESERVED);
        let unwatched_n = AtomicUsize::new(0);
        Ok(Shared { state: Mutex::default(), changed: Condvar::new(), watch, unwatched_n, budget })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records leader `pid`, and has the watching loop watch it when
    /// `watched` (else sweeps look for its exit).
    fn record(&self, pid: u32, spared: bool, watched: bool) {
        let mut state = self.lock();
        state.leaders.insert(pid);
        if spared {
            state.spared.insert(pid);
        }
        if watched {
            drop(state);
            self.watch.watch(pid);
        } else {
            self.mark_unwatched(state, pid, false);
        }
    }

    /// Leader `pid` could not be watched after all (see [`Shared::mark_unwatched`]).
    fn unwatched(&self, pid: u32) {
        let state = self.lock();
        if state.leaders.contains(&pid) {
            self.mark_unwatched(state, pid, true);
        }
    }

    /// Marks leader `pid` as without a pidfd (`counted`: it had a place among
    /// the watched, given back now): sweeps now walk every thread's children,
    /// and one starts at once (its `SIGCHLD` may have come before).
    fn mark_unwatched(&self, mut state: MutexGuard<'_, State>, pid: u32, counted: bool) {
        if state.unwatched.insert(pid) {
            if counted {
                state.watched -= 1;
            }
            self.unwatched_n.store(state.unwatched.len(), Ordering::Release);
            drop(state);
            wake();
        }
    }

    /// Reaps `pid`, which exited (a sweep or its pidfd said so): kills what
    /// a leader of ours left in its group (the pgid is still reserved by the
    /// zombie, so this reaches only that group), then waits for it by pid,
    /// without blocking. A child it does not know, while a fork is under way
    /// (`wait_forks`), may be that fork's: it waits until the fork recorded
    /// its child or none is under way. `None` when it was not there to reap
    /// (the other reaping thread took it first).
    fn reap(&self, pid: i32, wait_forks: bool) -> Option<Exit> {
        let key = pid.unsigned_abs();
        let mut state = self.lock();
        // Every reap happens under the lock, so what is seen here holds
        // until the wait below: a stale event (reaped by the other thread,
        // the pid perhaps reused by a live child) touches nothing.
        loop {
            if !exited(pid) {
                return None;
            }
            if !wait_forks || state.forking == 0 || state.leaders.contains(&key) {
                break;
            }
            state = self.changed.wait(state).unwrap_or_else(PoisonError::into_inner);
        }
        let ours = state.leaders.remove(&key);
        if state.unwatched.remove(&key) {
            self.unwatched_n.store(state.unwatched.len(), Ordering::Release);
        } else if ours {
            state.watched -= 1;
        }
        let spared = state.spared.remove(&key);
        if ours && !spared {
            // SAFETY: kill takes plain integers; pid > 1 is a zombie child of ours.
            unsafe { libc::kill(-pid, libc::SIGKILL) };
        }
        let mut raw: libc::c_int = 0;
        // SAFETY: zeroed rusage is a valid value of a plain C struct.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `raw` and `usage` are valid and writable for the whole call.
        let got = unsafe { libc::wait4(pid, &mut raw, libc::WNOHANG | libc::__WALL, &mut usage) };
        drop(state);
        if got != pid {
            return None;
        }
        let cpu = |t: libc::timeval| t.tv_sec as u64 * 1000 + t.tv_usec as u64 / 1000;
        let rusage = Rusage {
            cpu_ms: cpu(usage.ru_utime) + cpu(usage.ru_stime),
            max_rss_kb: usage.ru_maxrss.max(0) as u64,
        };
        let exit = Exit {
            seq: 0,
            pid: key,
            status: decode(raw),
            rusage: Some(rusage),
            respawned: None,
            cgroup: None,
        };
        tracing::debug!(pid = exit.pid, status = ?exit.status, "reaped");
        Some(exit)
    }
}

/// A fork under way (see [`ReaperHandle::forking`]); record its child with
/// [`Forking::forked`]. Dropped without a child, it just ends.
pub struct Forking<'a> {
    shared: &'a Shared,
    /// Its child will be watched through a pidfd (there is room for one).
    watched: bool,
    /// The exec deadline armed for it, until [`Forking::overdue`].
    arm: Option<u64>,
}

impl Forking<'_> {
    /// Records `pid`, just forked, as the leader of a group of ours.
    pub fn forked(mut self, pid: u32) {
        self.shared.record(pid, false, self.watched);
        self.watched = false; // now the leader's
        // `drop` ends the fork and wakes a sweep waiting for it.
    }

    /// Records `pid` as [`Forking::forked`] does, but its group is not
    /// killed when it is reaped: its main process may hand over to another
    /// of the group (sd_notify `MAINPID=`), and what is left is killed with
    /// its cgroup once the brain has decided (`Cleanup`). Only for instances
    /// in a cgroup.
    pub fn forked_sparing_group(mut self, pid: u32) {
        self.shared.record(pid, true, self.watched);
        self.watched = false;
    }

    /// Call once the fork returned: ends its exec deadline; true when the
    /// child was killed for not having exec'd in time (see `deadline`).
    pub fn overdue(&mut self) -> bool {
        let deadline = self.shared.watch.deadline.as_ref();
        self.arm.take().zip(deadline).is_some_and(|(arm, d)| d.disarm(arm))
    }
}

impl Drop for Forking<'_> {
    fn drop(&mut self) {
        self.overdue();
        let mut state = self.shared.lock();
        state.forking -= 1;
        if self.watched {
            state.watched -= 1; // no child after all
        }
        drop(state);
        self.shared.changed.notify_all();
    }
}

impl Reaper {
    /// Starts the reaper, which hands each exit it reaps to `sink` (pids the
    /// sink does not know are orphans, for it to ignore): the watching
    /// thread, and a thread that sweeps every thread's children (blocking in
    /// `waitid`; for a process whose main thread is busy, such as a test
    /// binary). The sink runs on those threads: it must not block for long,
    /// since nothing is reaped meanwhile.
    #[cfg(test)]
    pub fn start_with(sink: impl FnMut(Exit) + Send + Clone + 'static) -> io::Result<Reaper> {
        let shared = Arc::new(Shared::new(false)?);
        watch::start(shared.clone(), sink.clone())?;
        let sweeper = sweep::start(shared.clone(), sink)?;
        Ok(Reaper { handle: ReaperHandle { sweeper: Some(sweeper), shared } })
    }

    /// Starts no thread: returns the [`Sweeper`], which watches the pidfds
    /// and sweeps for orphans, for the caller's main thread to run once it
    /// forks no more itself (the keeper: it forks on another thread). Every
    /// thread of the process must block `SIGCHLD`, which wakes it.
    pub fn start_split(sink: impl FnMut(Exit) + Send + 'static) -> io::Result<(Reaper, Sweeper)> {
        let shared = Arc::new(Shared::new(true)?);
        let sweeper = Sweeper::new(shared.clone(), Box::new(sink));
        Ok((Reaper { handle: ReaperHandle { sweeper: None, shared } }, sweeper))
    }

    /// A handle for the runtimes that fork children.
    pub fn handle(&self) -> ReaperHandle {
        self.handle.clone()
    }
}

impl ReaperHandle {
    /// Tells the reaper that a child may exist now. Call it after each fork;
    /// it wakes a sweeping thread that parked for lack of children.
    pub fn children_may_exist(&self) {
        if let Some(t) = &self.sweeper {
            t.unpark();
        }
    }

    /// Starts a fork: call it before forking, then [`Forking::forked`] the
    /// child, so the reaper cannot reap it unseen. A child that has not
    /// exec'd `exec_deadline` after is killed (see `deadline`).
    pub fn forking(&self, exec_deadline: Duration) -> Forking<'_> {
        let mut state = self.shared.lock();
        state.forking += 1;
        let watched = state.watched < self.shared.budget;
        if watched {
            state.watched += 1;
        }
        drop(state);
        let arm = self.shared.watch.deadline.as_ref().map(|d| d.arm(None, exec_deadline));
        Forking { shared: &self.shared, watched, arm }
    }

    /// Sends `signal` to the process group led by `pid` if that leader is a
    /// child of ours not yet reaped; returns false (nothing sent) otherwise.
    pub fn signal_group(&self, pid: u32, signal: i32) -> io::Result<bool> {
        let state = self.shared.lock();
        if !state.leaders.contains(&pid) {
            return Ok(false);
        }
        let pgid = libc::pid_t::try_from(pid).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        // SAFETY: kill takes plain integers; pgid > 1 since it is a child's pid.
        if unsafe { libc::kill(-pgid, signal) } == 0 {
            return Ok(true);
        }
        let err = io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::ESRCH) => Ok(true),
            _ => Err(err),
        }
    }
}

impl From<Reaper> for ReaperHandle {
    fn from(reaper: Reaper) -> Self {
        reaper.handle
    }
}

impl From<&Reaper> for ReaperHandle {
    fn from(reaper: &Reaper) -> Self {
        reaper.handle()
    }
}

/// Raises `SIGCHLD` in this process: wakes the keeper's reaper loop (see
/// [`Reaper::start_split`]) as a child's exit does.
pub fn wake() {
    // SAFETY: kill takes plain integers; it signals this process.
    unsafe { libc::kill(libc::getpid(), libc::SIGCHLD) };
}

/// Whether `pid` is a child of ours that exited and waits to be reaped.
fn exited(pid: i32) -> bool {
    let Ok(id) = libc::id_t::try_from(pid) else { return false };
    // SAFETY: zeroed siginfo is a valid value of a plain C struct.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    let flags = libc::WEXITED | libc::WNOHANG | libc::WNOWAIT | libc::__WALL;
    // SAFETY: `info` is valid and writable for the whole call.
    let rc = unsafe { libc::waitid(libc::P_PID, id, &mut info, flags) };
    // SAFETY: waitid filled `info` (si_pid stays 0 when nothing exited).
    rc == 0 && unsafe { info.si_pid() } == pid
}

/// Turns a wait status into ward's [`ExitStatus`].
fn decode(raw: libc::c_int) -> ExitStatus {
    if libc::WIFEXITED(raw) {
        ExitStatus::Code(libc::WEXITSTATUS(raw))
    } else if libc::WIFSIGNALED(raw) {
        ExitStatus::Signal(libc::WTERMSIG(raw))
    } else {
        ExitStatus::Unknown
    }
}

#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;
