//! Watching each leader's pidfd: a thread sleeps in `epoll_wait` on every
//! one and reaps each leader by its pid as soon as its pidfd is readable
//! (the process exited). An idle ward wakes it for nothing.
//!
//! The pidfds live in a descriptor table of the thread's own
//! (`unshare(CLONE_FILES)`), not in the process's: a fork copies its
//! parent's table and an exec then closes every descriptor marked
//! close-on-exec one by one, so 10,000 pidfds there made each start walk
//! 10,000 descriptors twice. A fork's thread hands the new pid over through
//! a queue and an eventfd (both made before the tables part), and this
//! thread opens the pidfd.

use super::{Exit, Shared};
use rustix::event::epoll;
use rustix::process::{Pid, PidfdFlags};
use std::collections::HashMap;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::{Arc, Mutex, PoisonError};

/// How many events one wake-up takes at most (a storm takes several).
const BATCH: usize = 256;

/// The event data of the eventfd (pids are below 2^22).
const WAKE: u64 = u64::MAX;

/// The hand-over of new leaders to the watching thread.
#[derive(Debug)]
pub(super) struct Watch {
    epoll: OwnedFd,
    wake: OwnedFd,
    queue: Mutex<Vec<u32>>,
}

impl Watch {
    pub(super) fn new() -> io::Result<Watch> {
        let epoll = epoll::create(epoll::CreateFlags::CLOEXEC)?;
        let flags = rustix::event::EventfdFlags::CLOEXEC | rustix::event::EventfdFlags::NONBLOCK;
        let wake = rustix::event::eventfd(0, flags)?;
        epoll::add(&epoll, &wake, epoll::EventData::new_u64(WAKE), epoll::EventFlags::IN)?;
        Ok(Watch { epoll, wake, queue: Mutex::default() })
    }

    /// Asks the thread to watch `pid` (a child just forked).
    pub(super) fn watch(&self, pid: u32) {
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        let first = queue.is_empty();
        queue.push(pid);
        drop(queue);
        if first {
            let _ = rustix::io::write(&self.wake, &1u64.to_ne_bytes());
        }
    }
}

/// Starts the watching thread, which hands each exit to `sink`.
pub(super) fn start(
    shared: Arc<Shared>,
    mut sink: impl FnMut(Exit) + Send + Clone + 'static,
) -> io::Result<()> {
    std::thread::Builder::new().name("ward-reaper".into()).spawn(move || {
        own_table(&shared.watch);
        let mut pidfds: HashMap<u32, OwnedFd> = HashMap::new();
        let mut events: Vec<epoll::Event> = Vec::with_capacity(BATCH);
        loop {
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
                    take_new(&shared, &mut pidfds);
                    continue;
                }
                let Ok(pid) = u32::try_from(data) else { continue };
                // A stale event (its leader reaped by a sweep meanwhile, the
                // pid perhaps reused) finds nothing to reap: `reap` neither
                // blocks nor touches a live process.
                let reaped = i32::try_from(pid).ok().and_then(|p| shared.reap(p, false));
                if reaped.is_some() || !shared.lock().leaders.contains(&pid) {
                    pidfds.remove(&pid); // closed: out of the epoll set
                }
                if let Some(exit) = reaped {
                    sink(exit);
                }
            }
        }
    })?;
    Ok(())
}

/// Gives this thread a descriptor table of its own holding only stdio (for
/// its log lines), the epoll and the eventfd. When the kernel refuses, the
/// pidfds go to the process's table (each start then costs more).
fn own_table(watch: &Watch) {
    // SAFETY: unshare(CLONE_FILES) copies this thread's table; no other
    // thread sees the change.
    if unsafe { libc::unshare(libc::CLONE_FILES) } != 0 {
        tracing::warn!("reaper: cannot unshare the descriptor table: {}", io::Error::last_os_error());
        return;
    }
    let mut keep = [watch.epoll.as_raw_fd(), watch.wake.as_raw_fd()];
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
    let mut buf = [0u8; 8];
    let _ = rustix::io::read(&shared.watch.wake, &mut buf);
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
