//! Sweeping for exits that no pidfd watches: orphans re-parented to ward,
//! and children whose pidfd could not be had. A sweep peeks with
//! `waitid(P_ALL, WNOWAIT)` and reaps what it finds by pid (see
//! `Shared::reap`).
//!
//! The kernel answers `waitid(P_ALL)` by walking the children of every
//! thread of the process, or only the caller's with `__WNOTHREAD`. Orphans
//! are re-parented to the process's first live thread, its main thread; so
//! a process whose forks happen on other threads sweeps on its main thread
//! with `__WNOTHREAD` ([`Sweeper`]) and walks only its orphans, however many
//! children it has. A process that cannot give its main thread to this (a
//! test binary) sweeps on a thread of its own, through every thread's
//! children ([`start`]).

use super::{Exit, Shared};
#[cfg(test)]
use std::io;
use std::sync::Arc;
#[cfg(test)]
use std::thread::{self, Thread};

/// The reaper's loop for the main thread (see [`super::Reaper::start_split`]):
/// it watches the leaders' pidfds and sweeps for orphans.
pub struct Sweeper {
    shared: Arc<Shared>,
    sink: Box<dyn FnMut(Exit) + Send>,
}

impl std::fmt::Debug for Sweeper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sweeper").finish_non_exhaustive()
    }
}

impl Sweeper {
    pub(super) fn new(shared: Arc<Shared>, sink: Box<dyn FnMut(Exit) + Send>) -> Sweeper {
        Sweeper { shared, sink }
    }

    /// Watches the leaders' pidfds and sweeps for orphans at each `SIGCHLD`
    /// (blocked in every thread, taken through a signalfd; signals that
    /// come together make one sweep, which takes every exit there is) until
    /// `done` says so after one. Call it on the main thread, which must fork
    /// nothing itself (what it forks is walked by every sweep) and own no
    /// descriptor (the thread's table becomes its own, see `watch`).
    pub fn run(self, done: impl Fn() -> bool) {
        let Sweeper { shared, mut sink } = self;
        super::watch::serve(&shared, &mut sink, |sink| {
            sweep(&shared, sink);
            done()
        });
    }
}

/// Reaps every exited child the main thread can see (every thread's while
/// some leader has no pidfd), without blocking.
fn sweep(shared: &Shared, sink: &mut dyn FnMut(Exit)) {
    let mut last = 0;
    loop {
        let every_thread = shared.unwatched_n.load(std::sync::atomic::Ordering::Acquire) > 0;
        let flags = if every_thread { 0 } else { libc::__WNOTHREAD };
        let Some(pid) = peek(libc::WNOHANG | flags) else { return };
        match shared.reap(pid, true) {
            Some(exit) => sink(exit),
            // Reaped by the watching loop meanwhile; the same one twice
            // would be a wait that cannot succeed: stop there.
            None if pid == last => return,
            None => {}
        }
        last = pid;
    }
}

/// Starts a thread that blocks in `waitid(P_ALL)` for every thread's
/// children and reaps each exit it sees (those of watched leaders too,
/// whichever thread comes first); it parks when there is no child at all,
/// until [`super::ReaperHandle::children_may_exist`] (a park token left by an
/// unpark that came first makes the wake-up race-free).
#[cfg(test)]
pub(super) fn start(shared: Arc<Shared>, mut sink: impl FnMut(Exit) + Send + 'static) -> io::Result<Thread> {
    let thread = thread::Builder::new().name("ward-sweeper".into()).spawn(move || {
        loop {
            match peek(0) {
                Some(pid) => {
                    if let Some(exit) = shared.reap(pid, true) {
                        sink(exit);
                    }
                }
                None => match io::Error::last_os_error().raw_os_error() {
                    Some(libc::EINTR) => {}
                    _ => thread::park(), // ECHILD: no child at all, for now
                },
            }
        }
    })?;
    Ok(thread.thread().clone())
}

/// The pid of a child that exited, left unreaped (`WNOWAIT`); `None` when
/// there is none (with `WNOHANG`) or on an error (`errno` says which).
fn peek(flags: libc::c_int) -> Option<i32> {
    // SAFETY: zeroed siginfo is a valid value of a plain C struct.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: `info` is valid and writable for the whole call.
    let rc = unsafe { libc::waitid(libc::P_ALL, 0, &mut info, libc::WEXITED | libc::WNOWAIT | flags) };
    // SAFETY: waitid filled `info` (si_pid stays 0 when nothing exited).
    let pid = unsafe { info.si_pid() };
    (rc == 0 && pid > 0).then_some(pid)
}
