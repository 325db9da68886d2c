//! The reaper: the one place in ward that waits for children.
//!
//! A dedicated thread loops on a blocking `waitpid(-1, 0)`. Every child of the
//! process, and (once [`become_subreaper`] was called) every orphan
//! re-parented to it, is reaped there and handed once, as an [`Exit`], to the
//! sink given at start (the keeper's unbounded input channel: sending never
//! blocks and no exit is lost). There is no
//! polling: when there are no children at all (`ECHILD`) the thread parks
//! until [`ReaperHandle::children_may_exist`] unparks it. A park token left by an
//! unpark that came before the park makes the wake-up race-free.
//!
//! Consequence: nothing else in ward may wait for a child, and
//! `std::process::Command` must not spawn supervised children (it waits
//! internally when exec fails). The process runtime forks on its own.

use std::collections::HashSet;
use std::io;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, Thread};

use ward_core::ExitStatus;

use super::{Exit, Rusage};

/// Makes this process the child subreaper of its descendants: orphans are
/// re-parented to it (and so reaped by the [`Reaper`]) instead of to init.
pub fn become_subreaper() -> io::Result<()> {
    // SAFETY: PR_SET_CHILD_SUBREAPER takes one integer argument; the unused
    // arguments are passed as 0 as the man page asks.
    let rc = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1 as libc::c_ulong, 0, 0, 0) };
    if rc == 0 { Ok(()) } else { Err(io::Error::last_os_error()) }
}

/// The reaper thread, started by [`Reaper::start_with`]; it runs for the life of
/// the process.
#[derive(Debug)]
pub struct Reaper {
    handle: ReaperHandle,
}

/// What a runtime keeps to wake the reaper after a fork, and to signal the
/// process groups of its children. Cheap to clone.
#[derive(Clone, Debug)]
pub struct ReaperHandle {
    thread: Thread,
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
/// and the reaper, finding a child it does not know while a fork is under
/// way, waits for that fork to record its child before reaping it.
#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct State {
    leaders: HashSet<u32>,
    /// Leaders whose group is not killed when they are reaped (see [`Forking::forked_sparing_group`]).
    spared: HashSet<u32>,
    forking: usize,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A fork under way (see [`ReaperHandle::forking`]); record its child with
/// [`Forking::forked`]. Dropped without a child, it just ends.
pub struct Forking<'a> {
    shared: &'a Shared,
}

impl Forking<'_> {
    /// Records `pid`, just forked, as the leader of a group of ours.
    pub fn forked(self, pid: u32) {
        self.shared.lock().leaders.insert(pid);
        // `drop` ends the fork and wakes the reaper.
    }

    /// Records `pid` as [`Forking::forked`] does, but its group is not
    /// killed when it is reaped: its main process may hand over to another
    /// of the group (sd_notify `MAINPID=`), and what is left is killed with
    /// its cgroup once the brain has decided (`Cleanup`). Only for instances
    /// in a cgroup.
    pub fn forked_sparing_group(self, pid: u32) {
        let mut state = self.shared.lock();
        state.leaders.insert(pid);
        state.spared.insert(pid);
    }
}

impl Drop for Forking<'_> {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.forking -= 1;
        drop(state);
        self.shared.changed.notify_all();
    }
}

impl Reaper {
    /// Starts the reaper thread, which hands each exit it reaps to `sink`
    /// (pids the sink does not know are orphans, for it to ignore). The sink
    /// runs on the reaper thread: it must not block for long, since nothing
    /// is reaped meanwhile.
    pub fn start_with(sink: impl FnMut(Exit) + Send + 'static) -> io::Result<Reaper> {
        let shared = Arc::new(Shared::default());
        let theirs = shared.clone();
        let thread =
            thread::Builder::new().name("ward-reaper".into()).spawn(move || reap_forever(&theirs, sink))?;
        Ok(Reaper { handle: ReaperHandle { thread: thread.thread().clone(), shared } })
    }

    /// A handle for the runtimes that fork children.
    pub fn handle(&self) -> ReaperHandle {
        self.handle.clone()
    }
}

impl ReaperHandle {
    /// Tells the reaper that a child may exist now. Call it after each fork;
    /// it wakes the thread if it parked for lack of children.
    pub fn children_may_exist(&self) {
        self.thread.unpark();
    }

    /// Starts a fork: call it before forking, then [`Forking::forked`] the
    /// child, so the reaper cannot reap it unseen.
    pub fn forking(&self) -> Forking<'_> {
        self.shared.lock().forking += 1;
        Forking { shared: &self.shared }
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

/// The body of the reaper thread. Never returns.
///
/// It learns of an exit without reaping (`waitid(WNOWAIT)`), then, holding
/// the leaders' lock, kills what the leader left in its group (the pgid is
/// still reserved by the zombie, so this reaches only that group) and reaps.
/// A child it does not know, while a fork is under way, may be that fork's:
/// it waits until the fork recorded its child or none is under way.
fn reap_forever(shared: &Shared, mut sink: impl FnMut(Exit)) {
    loop {
        // SAFETY: zeroed siginfo is a valid value of a plain C struct.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: `info` is valid and writable for the whole call.
        let peeked = unsafe { libc::waitid(libc::P_ALL, 0, &mut info, libc::WEXITED | libc::WNOWAIT) };
        let mut pid = if peeked == 0 {
            // SAFETY: waitid filled `info` for a child that changed state.
            unsafe { info.si_pid() }
        } else {
            -1
        };
        let mut raw: libc::c_int = 0;
        // SAFETY: zeroed rusage is a valid value of a plain C struct.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        if pid > 0 {
            let mut state = shared.lock();
            let ours = loop {
                if state.leaders.remove(&pid.unsigned_abs()) {
                    break true;
                }
                if state.forking == 0 {
                    break false;
                }
                state = shared.changed.wait(state).unwrap_or_else(PoisonError::into_inner);
            };
            let spared = state.spared.remove(&pid.unsigned_abs());
            if ours && !spared {
                // SAFETY: kill takes plain integers; pid > 1 is a zombie child of ours.
                unsafe { libc::kill(-pid, libc::SIGKILL) };
            }
            // SAFETY: `raw` and `usage` are valid and writable for the whole call.
            pid = unsafe { libc::wait4(pid, &mut raw, 0, &mut usage) };
            drop(state);
        }
        if pid > 0 {
            let cpu = |t: libc::timeval| t.tv_sec as u64 * 1000 + t.tv_usec as u64 / 1000;
            let rusage = Rusage {
                cpu_ms: cpu(usage.ru_utime) + cpu(usage.ru_stime),
                max_rss_kb: usage.ru_maxrss.max(0) as u64,
            };
            let exit = Exit {
                seq: 0,
                pid: pid.unsigned_abs(),
                status: decode(raw),
                rusage: Some(rusage),
                respawned: None,
                cgroup: None,
            };
            tracing::debug!(pid = exit.pid, status = ?exit.status, "reaped");
            sink(exit);
            continue;
        }
        let err = io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EINTR) => {}
            Some(libc::ECHILD) => thread::park(),
            _ => {
                // waitpid(-1, _, 0) fails only with ECHILD/EINTR/EINVAL; EINVAL
                // cannot happen with these flags. Parking (not spinning) keeps
                // an impossible error from burning a CPU.
                tracing::error!(error = %err, "waitpid failed");
                debug_assert!(false, "waitpid failed: {err}");
                thread::park();
            }
        }
    }
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

/// One reaper shared by every test of this binary: it reaps every child of
/// the test process, so two reapers would steal each other's exits. A
/// dispatcher thread files each exit by pid until a test takes it.
#[cfg(test)]
pub(crate) mod testing {
    use std::collections::HashMap;
    use std::sync::{Condvar, Mutex, OnceLock};
    use std::time::Duration;

    use ward_core::ExitStatus;

    use super::{Reaper, ReaperHandle, become_subreaper};

    /// The shared test reaper.
    pub(crate) struct TestReaper {
        /// The handle to pass to runtimes.
        pub(crate) reaper: ReaperHandle,
        exits: Mutex<HashMap<u32, ExitStatus>>,
        arrived: Condvar,
    }

    /// How long a test waits for an exit before failing.
    pub(crate) const DEADLINE: Duration = Duration::from_secs(10);

    /// The shared reaper, started (as subreaper) on first use.
    pub(crate) fn shared() -> &'static TestReaper {
        static SHARED: OnceLock<TestReaper> = OnceLock::new();
        SHARED.get_or_init(|| {
            become_subreaper().expect("become subreaper");
            let reaper = Reaper::start_with(|exit| {
                let me = shared();
                me.exits.lock().expect("lock").insert(exit.pid, exit.status);
                me.arrived.notify_all();
            })
            .expect("start reaper");
            TestReaper { reaper: reaper.handle(), exits: Mutex::new(HashMap::new()), arrived: Condvar::new() }
        })
    }

    impl TestReaper {
        /// Waits (up to [`DEADLINE`]) for the exit of `pid` and takes it.
        pub(crate) fn wait_for(&self, pid: u32) -> Option<ExitStatus> {
            let exits = self.exits.lock().expect("lock");
            let (mut exits, _) =
                self.arrived.wait_timeout_while(exits, DEADLINE, |e| !e.contains_key(&pid)).expect("lock");
            exits.remove(&pid)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_wait_statuses() {
        // Linux encodings: exit code in bits 8..16, signal in the low 7 bits.
        assert_eq!(decode(3 << 8), ExitStatus::Code(3));
        assert_eq!(decode(0), ExitStatus::Code(0));
        assert_eq!(decode(9), ExitStatus::Signal(9));
        assert_eq!(decode(0x137f), ExitStatus::Unknown); // stopped by SIGSTOP
    }

    #[test]
    fn a_spared_group_outlives_its_leader() {
        let shared = testing::shared();
        let (read, write) = rustix::pipe::pipe().unwrap();
        let forking = shared.reaper.forking();
        // SAFETY: the child makes only async-signal-safe calls, then _exits.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // SAFETY: as above; the grandchild stays in the child's group and waits.
            unsafe {
                libc::setpgid(0, 0);
                let gc = libc::fork();
                if gc == 0 {
                    libc::pause();
                    libc::_exit(0);
                }
                let bytes = gc.to_ne_bytes();
                libc::write(rustix::fd::AsRawFd::as_raw_fd(&write), bytes.as_ptr().cast(), bytes.len());
                libc::_exit(0);
            }
        }
        assert!(pid > 0);
        let pid = pid.unsigned_abs();
        // SAFETY: setpgid takes plain integers; the child may have done it already.
        unsafe { libc::setpgid(pid as i32, pid as i32) };
        forking.forked_sparing_group(pid);
        shared.reaper.children_may_exist();
        let mut buf = [0u8; 4];
        assert_eq!(rustix::io::read(&read, &mut buf).unwrap(), 4);
        let grandchild = i32::from_ne_bytes(buf);
        assert_eq!(shared.wait_for(pid), Some(ExitStatus::Code(0)));
        // SAFETY: kill takes plain integers; the grandchild is ours to end.
        unsafe { libc::kill(grandchild, libc::SIGTERM) };
        // Ended by this SIGTERM, not by a SIGKILL to its group at its leader's reap.
        let status = shared.wait_for(grandchild.unsigned_abs());
        assert_eq!(status, Some(ExitStatus::Signal(libc::SIGTERM)), "its group was not killed");
    }

    #[test]
    fn reaps_a_direct_child_forked_after_a_park() {
        let shared = testing::shared();
        // SAFETY: the child only calls _exit, which is async-signal-safe.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // SAFETY: ends the child at once, without running any Rust code.
            unsafe { libc::_exit(7) };
        }
        assert!(pid > 0, "fork: {}", io::Error::last_os_error());
        shared.reaper.children_may_exist();
        let pid = pid.unsigned_abs();
        assert_eq!(shared.wait_for(pid), Some(ExitStatus::Code(7)));
    }
}
