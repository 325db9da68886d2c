//! Watching each leader's pidfd: a loop sleeps in `epoll_wait` on every one
//! and reaps each leader by its pid as soon as its pidfd is readable (the
//! process exited). An idle ward wakes it for nothing.
//!
//! The pidfds live in a descriptor table of the loop's thread alone
//! (`unshare(CLONE_FILES)`), not in the process's: a fork copies its
//! parent's table and an exec then closes every descriptor marked
//! close-on-exec one by one, so 10,000 pidfds there made each start walk
//! 10,000 descriptors twice. A fork's thread hands the new pid over through
//! a queue, and the loop opens the pidfd when it next wakes.
//!
//! In the keeper the loop runs on the main thread, woken by `SIGCHLD`
//! (a `signalfd`), which every exit sends anyway: the registration of new
//! children waits for the next wake-up, so a start wakes nothing (a child
//! that exited before its pid was queued is seen by the fork's thread, which
//! then raises `SIGCHLD` itself). Elsewhere (tests) it runs on a thread of
//! its own, woken by an eventfd at each new pid.

use super::{Exit, Shared};
use rustix::event::epoll;
use rustix::process::{Pid, PidfdFlags};
use std::collections::HashMap;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
#[cfg(test)]
use std::sync::Arc;
use std::sync::{Mutex, PoisonError};

/// How many events one wake-up takes at most (a storm takes several).
const BATCH: usize = 256;

/// The event data of the wake-up descriptor (pids are below 2^22).
const WAKE: u64 = u64::MAX;

/// The event data of the exec deadline's timer.
const DEADLINE: u64 = u64::MAX - 1;

/// How many new pids wait at most before the loop is woken to watch them.
const LAZY_BATCH: usize = 64;

/// The hand-over of new leaders to the watching loop.
#[derive(Debug)]
pub(super) struct Watch {
    epoll: OwnedFd,
    /// What wakes the loop: an eventfd, or a signalfd of `SIGCHLD` (`lazy`).
    wake: OwnedFd,
    queue: Mutex<Vec<u32>>,
    /// New pids wait for the loop's next wake-up (see the module doc).
    lazy: bool,
    /// The deadline on each fork's exec (none where no timer could be had).
    pub(super) deadline: Option<super::deadline::Deadline>,
}

impl Watch {
    /// With `lazy`, `SIGCHLD` must be blocked in every thread.
    pub(super) fn new(lazy: bool) -> io::Result<Watch> {
        let epoll = epoll::create(epoll::CreateFlags::CLOEXEC)?;
        let wake = if lazy {
            // SAFETY: sigemptyset/sigaddset fill a set owned here; signalfd
            // returns a new descriptor, owned from here on, or -1.
            unsafe {
                let mut set: libc::sigset_t = std::mem::zeroed();
                libc::sigemptyset(&mut set);
                libc::sigaddset(&mut set, libc::SIGCHLD);
                let fd = libc::signalfd(-1, &set, libc::SFD_CLOEXEC | libc::SFD_NONBLOCK);
                if fd < 0 {
                    return Err(io::Error::last_os_error());
                }
                OwnedFd::from_raw_fd(fd)
            }
        } else {
            let flags = rustix::event::EventfdFlags::CLOEXEC | rustix::event::EventfdFlags::NONBLOCK;
            rustix::event::eventfd(0, flags)?
        };
        epoll::add(&epoll, &wake, epoll::EventData::new_u64(WAKE), epoll::EventFlags::IN)?;
        let deadline = super::deadline::Deadline::new()
            .and_then(|d| {
                epoll::add(&epoll, d.fd(), epoll::EventData::new_u64(DEADLINE), epoll::EventFlags::IN)?;
                Ok(d)
            })
            .map_err(|e| tracing::warn!("reaper: no deadline on execs ({e})"))
            .ok();
        Ok(Watch { epoll, wake, queue: Mutex::default(), lazy, deadline })
    }

    /// Asks the loop to watch `pid` (a child just forked).
    pub(super) fn watch(&self, pid: u32) {
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        queue.push(pid);
        let queued = queue.len();
        drop(queue);
        if !self.lazy {
            if queued == 1 {
                let _ = rustix::io::write(&self.wake, &1u64.to_ne_bytes());
            }
        } else if queued % LAZY_BATCH == 0 || i32::try_from(pid).is_ok_and(super::exited) {
            // A start of thousands is registered as it goes, not all at the
            // first exit; and a child's SIGCHLD may have woken the loop
            // before it was queued.
            super::wake();
        }
    }

    /// Empties the wake-up descriptor.
    fn drain(&self) {
        let mut buf = [0u8; 128 * 8]; // room for 8 signalfd_siginfo
        while matches!(rustix::io::read(&self.wake, &mut buf), Ok(n) if n > 0) {}
    }
}

/// Starts the loop on a thread of its own, woken by the eventfd.
#[cfg(test)]
pub(super) fn start(shared: Arc<Shared>, mut sink: impl FnMut(Exit) + Send + 'static) -> io::Result<()> {
    std::thread::Builder::new()
        .name("ward-reaper".into())
        .spawn(move || serve(&shared, &mut sink, |_| false))?;
    Ok(())
}

/// The loop, on the calling thread: after each wake-up it opens the pidfds of
/// new pids and calls `after` (which returns true to end the loop), then
/// reaps each leader whose pidfd is readable.
pub(super) fn serve(
    shared: &Shared,
    sink: &mut dyn FnMut(Exit),
    mut after: impl FnMut(&mut dyn FnMut(Exit)) -> bool,
) {
    own_table(&shared.watch);
    let mut pidfds: HashMap<u32, OwnedFd> = HashMap::new();
    let mut events: Vec<epoll::Event> = Vec::with_capacity(BATCH);
    loop {
        take_new(shared, &mut pidfds);
        if after(sink) {
            return;
        }
        events.clear();
        match epoll::wait(&shared.watch.epoll, rustix::buffer::spare_capacity(&mut events), None) {
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => {
                // Cannot happen with a valid epoll descriptor; parking
                // (not spinning) keeps it from burning a CPU.
                tracing::error!("reaper: epoll_wait failed: {e}");
                std::thread::park();
                continue;
            }
        }
        for event in &events {
            let data = event.data.u64();
            if data == WAKE {
                shared.watch.drain();
                continue;
            }
            if data == DEADLINE {
                if let Some(deadline) = &shared.watch.deadline {
                    deadline.expired();
                }
                continue;
            }
            let Ok(pid) = u32::try_from(data) else { continue };
            // A stale event (its leader reaped by a sweep meanwhile, the pid
            // perhaps reused) finds nothing to reap: `reap` neither blocks
            // nor touches a live process.
            let reaped = i32::try_from(pid).ok().and_then(|p| shared.reap(p, false));
            if reaped.is_some() || !shared.lock().leaders.contains(&pid) {
                pidfds.remove(&pid); // closed: out of the epoll set
            }
            if let Some(exit) = reaped {
                sink(exit);
            }
        }
    }
}

/// Gives this thread a descriptor table of its own holding only stdio (for
/// its log lines), the epoll and the wake-up descriptor: a copy of another
/// descriptor kept here would hold its file open after its owner closed it
/// (`up -d` waits for the end of a pipe). So the thread must own no other
/// descriptor when it calls this. When the kernel refuses, the pidfds go to
/// the process's table (each start then costs more).
fn own_table(watch: &Watch) {
    // SAFETY: unshare(CLONE_FILES) copies this thread's table; no other
    // thread sees the change.
    if unsafe { libc::unshare(libc::CLONE_FILES) } != 0 {
        tracing::warn!("reaper: cannot unshare the descriptor table: {}", io::Error::last_os_error());
        return;
    }
    // The deadline's timer stays in both tables: forks arm it from theirs.
    let timer = watch.deadline.as_ref().map(|d| d.fd().as_raw_fd());
    let mut keep: Vec<i32> =
        [watch.epoll.as_raw_fd(), watch.wake.as_raw_fd()].into_iter().chain(timer).collect();
    keep.sort_unstable();
    let mut from = 3;
    for fd in keep.into_iter().chain([-1]) {
        let to = if fd < 0 { u32::MAX } else { (fd as u32).saturating_sub(1) };
        if fd < 0 || fd > from {
            // SAFETY: closes descriptors of this thread's own table only,
            // none of which is used here.
            unsafe { libc::syscall(libc::SYS_close_range, from as u32, to, 0u32) };
        }
        from = fd + 1;
    }
}

/// Opens and watches the pidfd of every pid handed over; one that cannot
/// be had (no pidfd before Linux 5.3, no memory) is left to sweeps of
/// every thread's children.
fn take_new(shared: &Shared, pidfds: &mut HashMap<u32, OwnedFd>) {
    let new = std::mem::take(&mut *shared.watch.queue.lock().unwrap_or_else(PoisonError::into_inner));
    for pid in new {
        let opened = Pid::from_raw(pid as i32)
            .ok_or(rustix::io::Errno::SRCH)
            .and_then(|id| rustix::process::pidfd_open(id, PidfdFlags::empty()))
            .and_then(|fd| {
                epoll::add(
                    &shared.watch.epoll,
                    &fd,
                    epoll::EventData::new_u64(u64::from(pid)),
                    epoll::EventFlags::IN,
                )?;
                Ok(fd)
            });
        match opened {
            Ok(fd) => {
                pidfds.insert(pid, fd);
            }
            Err(e) => {
                tracing::warn!("reaper: no pidfd for {pid} ({e}); sweeps will look for its exit");
                shared.unwatched(pid);
            }
        }
    }
}
